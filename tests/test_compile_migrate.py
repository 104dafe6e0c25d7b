"""`compile --migrate`: legacy agent GitOps (`gitops.manifest_projects`) -> Flux objects."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from gitops_lint.compile.legacy import brace_expand, glob_match, migrate_agents, render_report, report_json, select_files
from gitops_lint.diagnostics import Severity
from gitops_lint.engine import LintOptions, lint
from gitops_lint.model import build_model
from gitops_lint.yaml.loader import load_text
from tests.conftest import shared_path, assert_golden

GOLDEN = Path(__file__).parent / "golden" / "compile" / "migrate"


def _texts(result) -> dict[str, str]:
    """The migrated documents as `compile` writes them."""
    from gitops_lint.compile import compile_repo

    compiled = compile_repo([], build_model([]), generated=result.documents)
    assert not compiled.errors
    return compiled.outputs


def golden(name: str, actual: str) -> None:
    assert_golden("compile/migrate/" + name, actual)


# --------------------------------------------------------------------------- globs


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("**/*.yaml", "a.yaml", True),
        ("**/*.yaml", "a/b/c.yaml", True),
        ("**/*.yaml", "a/b/c.yml", False),
        ("/**/*.{yaml,yml,json}", "x/y.json", True),
        ("/manifests/**/*.{yaml,yml}", "manifests/a.yml", True),
        ("/manifests/**/*.{yaml,yml}", "manifests/prod/deep/a.yaml", True),
        ("/manifests/**/*.{yaml,yml}", "other/manifests/a.yaml", False),
        ("/manifests/**/*.{yaml,yml}", "manifests/a.json", False),
        ("manifests/*.yaml", "manifests/a.yaml", True),
        ("manifests/*.yaml", "manifests/sub/a.yaml", False),  # `*` does not cross `/`
        ("*.yaml", "sub/a.yaml", False),
        ("*", "a/b", False),
        ("a/?.yaml", "a/b.yaml", True),
        ("a/?.yaml", "a/bc.yaml", False),
        ("a/[bc].yaml", "a/c.yaml", True),
        ("a/[!bc].yaml", "a/c.yaml", False),
        ("a/[!bc].yaml", "a/d.yaml", True),
        ("a/**", "a/b/c", True),
        ("a/**/b/*.yaml", "a/b/x.yaml", True),
        ("a/**/b/*.yaml", "a/x/y/b/x.yaml", True),
        ("{a,b/c}/*.yaml", "b/c/x.yaml", True),
        ("x.{y{a,b}ml,json}", "x.ybml", True),
        ("**/*manifest.{yaml, yml, json}", "k/manifest.yml", False),  # the space is part of the alternative
        ("**/*manifest.{yaml, yml, json}", "k/manifest. yml", True),
        ("a/*.yaml", "a/.hidden.yaml", True),  # dot files are matched, only dot folders are skipped
    ],
)
def test_glob_match(pattern: str, path: str, expected: bool) -> None:
    assert glob_match(pattern, path) is expected


def test_dot_directories_are_skipped() -> None:
    assert not glob_match("**/*.yaml", ".gitlab/agents/a/config.yaml")
    assert not glob_match("**/*.yaml", "apps/.cache/x.yaml")
    assert not glob_match("/.gitlab/manifest/*.yaml", ".gitlab/manifest/x.yaml")  # kas never entered `.gitlab`
    assert glob_match("/.gitlab/manifest/*.yaml", ".gitlab/manifest/x.yaml", skip_dot_dirs=False)
    assert select_files(["**/*.yaml"], ["b.yaml", ".ci/x.yaml", "a/c.yaml", "a/c.txt"]) == ["a/c.yaml", "b.yaml"]


def test_brace_expand() -> None:
    assert brace_expand("a{b,c{d,e}}f") == ["abf", "acdf", "acef"]
    assert brace_expand("{x") == ["{x"]
    assert brace_expand("**/*.{yaml,yml,json}") == ["**/*.yaml", "**/*.yml", "**/*.json"]


# --------------------------------------------------------------------------- migration

CONFIG = """\
gitops:
  manifest_projects:
  - default_namespace: apps
    paths:
    - glob: /manifests/**/*.{yaml,yml}
    reconcile_timeout: 600s
    prune_timeout: 120s
    dry_run_strategy: server
    prune_propagation_policy: orphan
    inventory_policy: adopt_if_no_inventory
  - id: group/infra
    ref:
      tag: v1.2.0
    prune: false
"""

MANIFEST = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: app
data:
  a: b
"""


def _load(files: dict[str, str]):
    sources = [load_text(text, rel) for rel, text in files.items()]
    return sources, build_model(sources)


def _small_repo():
    return _load({
        ".gitlab/agents/prod/config.yaml": CONFIG,
        "manifests/app.yaml": MANIFEST,
        "manifests/sub/more.yml": MANIFEST.replace("name: app", "name: more"),
        "manifests/.hidden/skip.yaml": MANIFEST,
        "manifests/readme.txt": "x",
        # Matched by the glob, but no kustomize resource: a kustomization file, a values file.
        "manifests/kustomization.yaml": "resources: [app.yaml]\n",
        "manifests/values.yaml": "replicaCount: 2\n",
        "other/x.yaml": MANIFEST,
    })


def test_migrate_small_config_golden() -> None:
    sources, model = _small_repo()
    result = migrate_agents(sources, model, config_project="group/app")
    text = "".join(f"### {path}\n{body}" for path, body in _texts(result).items())
    golden("small.yaml", text)
    golden("small.report.txt", render_report(result))
    golden("small.report.json", report_json(result))
    fields = {(item["project"], item["field"].rsplit(".", 1)[-1]) for item in result.report}
    assert ("#0", "dry_run_strategy") in fields
    assert ("#0", "prune_propagation_policy") in fields
    assert ("#0", "inventory_policy") in fields
    assert ("#0", "prune_timeout") in fields
    kustomization = yaml.safe_load(_texts(result)["flux/migrated/prod/app/kustomization.yaml"])
    assert kustomization["resources"] == ["../../../../manifests/app.yaml", "../../../../manifests/sub/more.yml"]
    docs = list(yaml.safe_load_all(_texts(result)["flux/migrated/prod/infra.yaml"]))
    assert docs[0]["spec"]["ref"] == {"tag": "v1.2.0"}
    assert docs[1]["spec"]["prune"] is False
    assert "timeout" not in docs[1]["spec"]  # the agent default 1h is not written
    assert docs[1]["spec"]["path"] == "./"
    json.loads(report_json(result))


def test_migrate_is_deterministic_and_lints_clean(tmp_path: Path) -> None:
    sources, model = _small_repo()
    first = migrate_agents(sources, model, config_project="group/app")
    second = migrate_agents(list(reversed(sources)), model, config_project="group/app")
    assert _texts(first) == _texts(second) and first.report == second.report
    _assert_lints_clean(tmp_path, _texts(first), extra={"manifests/app.yaml": MANIFEST,
                                                        "manifests/sub/more.yml": MANIFEST})


def test_missing_id_without_config_project_is_reported() -> None:
    sources, model = _small_repo()
    result = migrate_agents(sources, model)
    messages = [item for item in result.report if item["field"].endswith(".id")]
    assert messages and "TODO-agent-config-project" in messages[0]["message"]
    defaults = [item for item in result.report if item["field"].endswith(".ref") and item["project"] == "#0"]
    assert defaults and "default branch" in defaults[0]["message"]


def test_oci_source() -> None:
    sources, model = _small_repo()
    result = migrate_agents(sources, model, source="oci", gitlab_url="https://gitlab.example.com/",
                            config_project="group/app")
    docs = list(yaml.safe_load_all(_texts(result)["flux/migrated/prod/infra.yaml"]))
    assert docs[0]["kind"] == "OCIRepository"
    assert docs[0]["spec"]["url"] == "oci://registry.gitlab.example.com/group/infra"
    assert docs[1]["spec"]["sourceRef"] == {"kind": "OCIRepository", "name": docs[0]["metadata"]["name"]}
    assert any("flux push artifact" in item["message"] for item in result.report)
    with pytest.raises(ValueError):
        migrate_agents(sources, model, source="helm")


@pytest.mark.parametrize("gitops", [
    "gitops:\n  manifest_projects:\n    id: a/b\n    paths:\n    - glob: '*.yaml'\n",
    "gitops:\n  manifest_projects: 3\n",
    "gitops:\n  manifest_projects:\n  - 3\n  - id: [x]\n    ref: main\n    paths: 7\n    reconcile_timeout: 1h\n",
    "gitops: [1]\n",
    "gitops:\n  mainfest_projects: []\n",
    "gitops:\n",
])
def test_malformed_sections_are_reported_not_raised(gitops: str) -> None:
    sources, model = _load({".gitlab/agents/a/config.yaml": gitops})
    result = migrate_agents(sources, model)
    if gitops.strip() != "gitops:":
        assert result.report


# --------------------------------------------------------------------------- the corpus


def _assert_lints_clean(root: Path, outputs: dict[str, str], extra: dict[str, str] | None = None) -> None:
    for rel, text in {**(extra or {}), **outputs}.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    result = lint(LintOptions(paths=["."], cwd=root))
    errors = [d for d in result.diagnostics if d.severity >= Severity.ERROR]
    assert not errors, "\n".join(f"{d.rule} {d.path}:{d.span.line} {d.message}" for d in errors)
    assert not result.internal_errors


def _corpus_configs() -> list[Path]:
    folder = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "_agent_configs"
    if not folder.is_dir():
        return []
    top_level = re.compile(r"^gitops\s*:", re.MULTILINE)
    return sorted(p for p in folder.iterdir()
                  if p.suffix in (".yaml", ".yml") and top_level.search(p.read_text(errors="replace")))


@pytest.mark.parametrize("config", _corpus_configs(), ids=lambda p: p.name)
def test_migrate_real_agent_configs(config: Path, tmp_path: Path) -> None:
    shared_path("corpus", "_agent_configs")
    source = load_text(config.read_text(encoding="utf-8"), config.name)
    model = build_model([source], agent_configs=lambda rel: True)
    result = migrate_agents([source], model)
    assert result.documents or result.report
    render_report(result)
    json.loads(report_json(result))
    _assert_lints_clean(tmp_path, _texts(result))


def test_corpus_is_present_or_skipped() -> None:
    shared_path("corpus", "_agent_configs")
    assert _corpus_configs()


def test_compile_migrate_command(tmp_path) -> None:
    from tests.conftest import write_tree
    from tests.test_cli import run

    write_tree(tmp_path, {".gitlab/agents/prod/config.yaml": (
        "gitops:\n  manifest_projects:\n    - id: acme/manifests\n      paths:\n        - glob: '/prod/**/*.yaml'\n")})
    out = run(["compile", "--force", "--migrate", "--migration-report", "report.json", "-o", "out", "."], tmp_path)
    assert out.returncode == 0, out.stderr
    assert "agent prod, project acme/manifests" in out.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["outputs"] == ["flux/migrated/prod/manifests.yaml"]
    assert {item["field"] for item in report["report"]} >= {"gitops.manifest_projects[0].inventory_policy"}
    assert run(["compile", "--migration-report", "r.json", "-o", "-", "."], tmp_path).returncode == 2
    text = (tmp_path / "out/flux/migrated/prod/manifests.yaml").read_text()
    assert "kind: GitRepository" in text and "url: https://gitlab.com/acme/manifests.git" in text
    # `-o -`: the migrated objects are in the stream, with the header naming the agent config line.
    streamed = run(["compile", "--force", "--migrate", "-o", "-", "."], tmp_path)
    assert streamed.returncode == 0, streamed.stderr
    assert ("# Source: .gitlab/agents/prod/config.yaml:1 (migrated from gitops.manifest_projects[0] of the GitLab "
            "agent `prod`, project acme/manifests; review the migration report)\n") in streamed.stdout
    assert streamed.stdout.count("kind: Kustomization") == 1
    # Compiling the output again, with or without --migrate, changes nothing (and from the repository root,
    # the earlier output `out/` is not read again: it holds our marker).
    again = run(["compile", "--force", "--migrate", "-o", "-", "."], tmp_path / "out")
    assert again.returncode == 0, again.stderr
    assert again.stdout == streamed.stdout
    kept = run(["compile", "--force", "-o", "-", "."], tmp_path / "out")
    assert kept.stdout.count("# Source: .gitlab/agents/prod/config.yaml:1 (migrated") == 2


def test_migrate_with_agent_objects_is_idempotent(tmp_path) -> None:
    # The GitRepositories the migration makes are watched by the agent like any other: the first run writes
    # their Receiver and Secret, as compiling that output again does.
    from tests.conftest import write_tree
    from tests.test_cli import run

    write_tree(tmp_path, {".gitlab/agents/prod/config.yaml": (
        "gitops:\n  manifest_projects:\n    - id: acme/manifests\n      paths:\n        - glob: '/prod/**/*.yaml'\n")})
    args = ["compile", "--force", "--migrate", "--with-agent-objects", "-o", "-", "."]
    first = run(args, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "name: gitlab-prod-manifests\n" in first.stdout and "name: gitlab-receiver-prod-manifests\n" in first.stdout
    assert run(["compile", "--force", "--migrate", "--with-agent-objects", "-o", "out", "."], tmp_path).returncode == 0
    again = run(args, tmp_path / "out")
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout


def test_entries_keep_their_index_next_to_malformed_ones() -> None:
    # Entries are read through the typed ManifestProjectCF one by one: a malformed neighbour (not a mapping,
    # values of the wrong type) neither shifts the index the report gives nor takes the others down.
    sources, model = _load({".gitlab/agents/a/config.yaml": (
        "gitops:\n  manifest_projects:\n  - 3\n  - id: g/one\n    prune: 'yes'\n    ref: {branch: 5, tag: v1}\n"
        "    paths: [3, {glob: 5}, {glob: '/m/*.yaml'}]\n  - null\n  - id: g/two\n    prune: false\n")})
    result = migrate_agents(sources, model)
    assert sorted(result.documents) == ["flux/migrated/a/one.yaml", "flux/migrated/a/two.yaml"]
    by_field = {(item["project"], item["field"]): item for item in result.report}
    assert by_field[("#0", "gitops.manifest_projects[0]")]["value"] == 3
    assert by_field[("#2", "gitops.manifest_projects[2]")]["message"] == "entry is not a mapping; skipped"
    assert by_field[("g/one", "gitops.manifest_projects[1].prune")]["value"] == "yes"
    assert [item["value"] for item in result.report if item["field"] == "gitops.manifest_projects[1].paths"][:3] == [
        3, {"glob": 5}, ["/m/*.yaml"]]
    one = result.documents["flux/migrated/a/one.yaml"]
    assert one[0].data["spec"]["ref"] == {"tag": "v1"} and one[1].data["spec"]["prune"] is True
    assert result.documents["flux/migrated/a/two.yaml"][1].data["spec"]["prune"] is False


def test_numeric_id_labels_every_item_of_its_project() -> None:
    # Fixed: the items reported before the numeric `id` was read went under `#0`, the rest under the ID.
    sources, model = _load({".gitlab/agents/a/config.yaml": (
        "gitops:\n  manifest_projects:\n  - id: 123\n    extra: 1\n    resource_inclusions: []\n")})
    result = migrate_agents(sources, model)
    assert {item["project"] for item in result.report if item["field"] != "gitops"} == {"123"}
