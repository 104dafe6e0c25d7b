"""Agent configs as GitLab's own parser reads them (issue 14): what it reads as an agent config, empty ids,
keys removed inside the legacy `gitops` section, the `gitops` section by GitLab release, and where a
misplaced config should go."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_lint.config import Config
from gitops_lint.engine import LintOptions, lint
from gitops_lint.model import agent_path, build_model
from gitops_lint.model.agent import AgentConfig
from gitops_lint.model.kubernetes import KubernetesObject
from gitops_lint.yaml.loader import load_text
from tests.conftest import write_tree

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
  - name: prod
    cluster:
      server: https://10.0.0.1:6443
"""


def diagnostics(tmp_path: Path, files: dict[str, str], *, select: str = "AGT", gitlab: str | None = None,
                severity: dict[str, str] | None = None) -> list[tuple[str, str, int, int, str, str]]:
    write_tree(tmp_path, files)
    config = Config(gitlab_version=gitlab, severity=severity or {})
    result = lint(LintOptions(paths=["."], cwd=tmp_path, config=config, select=select.split(",")))
    assert not result.internal_errors
    return [(d.rule, d.path, d.span.line, d.span.column, d.severity.label, d.message) for d in result.diagnostics]


# --------------------------------------------------------------------------- 1. what is an agent config


def test_kubeconfig_at_the_agent_location_is_a_rejected_agent_config(tmp_path: Path) -> None:
    """GitLab reads `.gitlab/agents/<name>/config.yaml` whatever it holds: `apiVersion` is its first unknown
    field. Before, the document was taken for a Kubernetes object and nothing was reported."""
    found = diagnostics(tmp_path, {".gitlab/agents/prod/config.yaml": KUBECONFIG}, select="AGT009")
    assert found[0][:4] == ("AGT009", ".gitlab/agents/prod/config.yaml", 1, 1)
    assert found[0][4] == "error" and "unknown field 'apiVersion'" in found[0][5]
    assert [(line, column) for _, _, line, column, _, _ in found] == [(1, 1), (2, 1), (3, 1)]


def _model(files: dict[str, str], agent_configs=None):
    return build_model([load_text(text, rel) for rel, text in files.items()], agent_configs)


def test_only_the_first_document_at_the_agent_location_is_the_agent_config() -> None:
    text = KUBECONFIG + "---\n" + "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n"
    model = _model({".gitlab/agents/prod/config.yaml": text})
    agents = list(model.of_type(AgentConfig))
    assert len(agents) == 1 and agents[0].doc.index == 0 and agents[0].agent_name == "prod"
    assert [o.kind for o in model.of_type(KubernetesObject)] == ["ConfigMap"]


def test_kubernetes_objects_elsewhere_stay_kubernetes_objects() -> None:
    """Outside the real location (an ignored `config.yml`, a nested folder, an `agent-configs` copy) the old
    rule holds: a document with apiVersion and kind is a Kubernetes object."""
    files = {".gitlab/agents/prod/config.yml": KUBECONFIG, ".gitlab/agents/prod/extra/config.yaml": KUBECONFIG,
             "templates/agent.yaml": KUBECONFIG}
    model = _model(files, agent_configs=lambda rel: rel.startswith("templates/"))
    assert list(model.of_type(AgentConfig)) == []
    assert sorted(o.path for o in model.of_type(KubernetesObject)) == sorted(files)


# --------------------------------------------------------------------------- 2. empty ids and globs

EMPTY_IDS = """\
ci_access:
  projects:
    - id:
    - id: acme/app
  groups:
    - id: ~
user_access:
  access_as:
    agent: {}
  projects:
    - id: null
  groups:
    - id: ""
gitops:
  manifest_projects:
    - id:
      paths:
        - glob:
    - default_namespace:
"""


def test_null_or_empty_ids_and_globs_break_the_one_character_minimum(tmp_path: Path) -> None:
    """protojson reads null as unset and an unset string is "": GitLab's `min_bytes: 1` fails. Before, a null
    was taken for a missing optional value and only `id: ""` was reported."""
    found = diagnostics(tmp_path, {".gitlab/agents/prod/config.yaml": EMPTY_IDS}, select="AGT009")
    assert [(line, column, sev) for _, _, line, column, sev, _ in found] == [
        (3, 7, "error"), (6, 7, "error"), (11, 7, "error"), (13, 11, "error"), (16, 7, "error"), (18, 11, "error")]
    messages = [m for *_, m in found]
    assert messages[0].startswith("ci_access.projects[0].id: must not be empty (a key without a value")
    assert messages[3] == "user_access.groups[0].id: must not be empty"
    assert messages[5].startswith("gitops.manifest_projects[0].paths[0].glob: must not be empty")
    # An absent manifest project id (the config project, since 15.7) and a null optional value stay fine.
    assert not any("manifest_projects[1]" in m for m in messages)


# --------------------------------------------------------------------------- 3. keys removed inside `gitops`

INCLUSIONS = """\
gitops:
  manifest_projects:
    - id: acme/manifests
      resource_inclusions:
        - api_groups: ["*"]
          kinds: ["*"]
      resource_exclusions:
        - api_groups: [""]
          kinds: [Secret]
"""


def test_keys_removed_before_the_gitops_section_are_still_rejected_inside_it(tmp_path: Path) -> None:
    """`gitops` is removed but still parsed (AGT003 speaks), which stopped the check for removed keys
    below it: `resource_inclusions` (removed in 14.0) was accepted."""
    rel = ".gitlab/agents/prod/config.yaml"
    found = diagnostics(tmp_path, {rel: INCLUSIONS}, select="AGT009")
    assert [(line, column, sev) for _, _, line, column, sev, _ in found] == [(4, 7, "error"), (7, 7, "error")]
    assert found[0][5].startswith("gitops.manifest_projects[0].resource_inclusions was removed in GitLab 14.0")
    assert diagnostics(tmp_path, {rel: INCLUSIONS}, select="AGT009", gitlab="16.5") == found
    assert diagnostics(tmp_path, {rel: INCLUSIONS}, select="AGT009", gitlab="13.12") == []


# --------------------------------------------------------------------------- 4. AGT003 by release

LEGACY = "gitops:\n  manifest_projects:\n    - id: acme/manifests\n"


@pytest.mark.parametrize(("gitlab", "expected"), [
    ("16.1", []),
    ("16.2", ["warning"]),
    ("16.11", ["warning"]),
    ("17.0", ["error"]),
    ("18.3", ["error"]),
    (None, ["warning"]),  # no target release: a self-managed GitLab before 17.0 may still apply it
])
def test_legacy_gitops_is_a_warning_while_it_still_works(tmp_path: Path, gitlab, expected) -> None:
    found = diagnostics(tmp_path, {".gitlab/agents/prod/config.yaml": LEGACY}, select="AGT003", gitlab=gitlab)
    assert [sev for *_, sev, _ in found] == expected


def test_configured_severity_beats_the_release_severity(tmp_path: Path) -> None:
    files = {".gitlab/agents/prod/config.yaml": LEGACY}
    for gitlab in ("16.5", "17.0"):
        found = diagnostics(tmp_path, files, select="AGT003", gitlab=gitlab, severity={"AGT003": "info"})
        assert [sev for *_, sev, _ in found] == ["info"]


@pytest.mark.parametrize(("section", "says"), [
    ("  manifest_projects:\n    id: acme/manifests\n", "(`manifest_projects` is a mapping, not a list)"),
    ("  manifest_projects: acme/manifests\n", '(`manifest_projects` is the string "acme/manifests", not a list)'),
    ("  mainfest_projects:\n    - id: acme/manifests\n", "(no `manifest_projects`, only `mainfest_projects`)"),
    ("  manifest_projects: []\n", "(no manifest projects)"),
    ("  manifest_projects:\n    - id: a\n    - id: b\n", "(2 manifest projects)"),
])
def test_legacy_gitops_message_says_what_the_section_holds(tmp_path: Path, section: str, says: str) -> None:
    found = diagnostics(tmp_path, {".gitlab/agents/prod/config.yaml": "gitops:\n" + section}, select="AGT003")
    assert len(found) == 1 and says in found[0][5] and "0 manifest projects" not in found[0][5]


# --------------------------------------------------------------------------- 5. AGT001 suggestion


def test_config_directly_in_agents_folder_is_not_given_an_agent_named_config(tmp_path: Path) -> None:
    found = diagnostics(tmp_path, {".gitlab/agents/config.yaml": "flux: {}\n"}, select="AGT001")
    assert len(found) == 1
    assert "move it to `.gitlab/agents/<agent-name>/config.yaml`" in found[0][5]
    assert ".gitlab/agents/config/" not in found[0][5]


@pytest.mark.parametrize(("rel", "folder"), [
    (".gitlab/agents/config.yaml", "<agent-name>"),
    (".gitlab/agents/config.yml", "<agent-name>"),
    (".gitlab/agents/Prod_Agent.yaml", "<agent-name>"),
    (".gitlab/agents/prod.yaml", "prod"),
])
def test_agent_path_suggestion_for_a_file_directly_in_agents(rel: str, folder: str) -> None:
    location = agent_path(rel)
    assert location is not None and location.ignored_because is not None
    assert f"move it to `.gitlab/agents/{folder}/config.yaml`" in location.ignored_because
