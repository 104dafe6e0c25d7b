"""`compile --with-agent-objects` and `compile --substitute`."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import yaml

from gitops_lint.model.gitlab import agent_object_name
from gitops_lint.compile import compile_context, write_tree
from gitops_lint.diagnostics import Severity
from gitops_lint.engine import LintOptions, lint
from tests.conftest import PROJECT
from tests.conftest import write_tree as write_files
from tests.test_compile import golden


def compiled(repo: Path, **options):
    result = lint(LintOptions(paths=["."], cwd=repo))
    assert not result.internal_errors
    return compile_context(result.context, **options)


def documents(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """examples/ as a repository of its own: its agent configs are at the root, so GitLab reads them."""
    return Path(shutil.copytree(PROJECT / "examples", tmp_path / "examples"))


# --------------------------------------------------------------------------- agent objects

AGENT = "flux:\n  webhook_receiver_url: http://webhook-receiver.flux-system.svc.cluster.local\n"


def git_repository(name: str, url: str, namespace: str | None = "flux-system") -> str:
    ns = f"\n  namespace: {namespace}" if namespace else ""
    return (f"apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: {name}{ns}\n"
            f"spec:\n  interval: 10m\n  url: {url}\n  ref:\n    branch: main\n")


def test_agent_objects_golden(examples: Path) -> None:
    result = compiled(examples, with_agent_objects=True)
    assert result.errors == []
    golden("examples-agent-objects.yaml", result.outputs[".gitlab/agents/production/agent-objects.yaml"])
    # The `.yml` config is one GitLab never reads: that agent creates nothing.
    assert ".gitlab/agents/Staging/agent-objects.yaml" not in result.outputs
    without = compiled(examples)
    assert set(result.outputs) - set(without.outputs) == {".gitlab/agents/production/agent-objects.yaml"}


def test_agent_objects_follow_the_agent(tmp_path: Path) -> None:
    long_name = "a" * 55 + "-bcdefgh"  # `gitlab-` + 63 characters: cut at 63 ends in `-`, so `-x`
    write_files(tmp_path, {
        ".gitlab/agents/prod/config.yaml": AGENT,
        "clusters/prod/sources.yaml": "---\n".join([
            git_repository("apps", "https://gitlab.com/acme/apps.git"),
            git_repository(long_name, "ssh://git@gitlab.com/acme/deep/group/repo"),
            git_repository("github", "https://github.com/acme/other.git"),
            git_repository("templated", "https://${HOST}/acme/x.git"),
        ]),
        "clusters/prod/kustomization.yaml": "resources:\n  - sources.yaml\n",
    })
    result = compiled(tmp_path, with_agent_objects=True)
    docs = documents(result.outputs[".gitlab/agents/prod/agent-objects.yaml"])
    assert [(d["kind"], d["metadata"]["name"]) for d in docs] == [
        ("Secret", "gitlab-receiver-apps"), ("Receiver", "gitlab-apps"),
        ("Secret", f"gitlab-receiver-{long_name}"), ("Receiver", agent_object_name(long_name, 63)),
    ]
    assert agent_object_name(long_name, 63) == "gitlab-" + long_name[:54] + "-x"
    secret, receiver = docs[0], docs[1]
    assert secret["data"] == {"token": ""} and secret["metadata"]["namespace"] == "flux-system"
    assert receiver["spec"] == {"interval": "5m0s", "type": "generic", "secretRef": {"name": "gitlab-receiver-apps"},
                                "resources": [{"kind": "GitRepository", "name": "apps", "namespace": "flux-system"}]}
    annotations = receiver["metadata"]["annotations"]
    assert annotations["agent.gitlab.com/project"] == "acme/apps"
    assert annotations["app.kubernetes.io/managed-by"] == "gitlab" and annotations["gitops-lint/generated"]
    assert documents(result.outputs[".gitlab/agents/prod/agent-objects.yaml"])[3]["metadata"]["annotations"][
        "agent.gitlab.com/project"] == "acme/deep/group/repo"
    text = result.outputs[".gitlab/agents/prod/agent-objects.yaml"]
    assert text.startswith("# Source: clusters/prod/sources.yaml:1 (generated: the GitLab agent `prod` creates this "
                           "for GitRepository flux-system/apps)\n")


def test_agent_objects_use_the_inherited_namespace(tmp_path: Path) -> None:
    write_files(tmp_path, {
        ".gitlab/agents/prod/config.yaml": AGENT,
        "clusters/prod/source.yaml": git_repository("apps", "https://gitlab.com/acme/apps.git", namespace=None),
        "clusters/prod/kustomization.yaml": "namespace: team-a\nresources:\n  - source.yaml\n",
    })
    docs = documents(compiled(tmp_path, with_agent_objects=True).outputs[".gitlab/agents/prod/agent-objects.yaml"])
    assert {d["metadata"]["namespace"] for d in docs} == {"team-a"}
    assert docs[1]["spec"]["resources"][0]["namespace"] == "team-a"


def test_no_agent_no_objects(tmp_path: Path) -> None:
    write_files(tmp_path, {"clusters/prod/source.yaml": git_repository("apps", "https://gitlab.com/acme/apps.git")})
    result = compiled(tmp_path, with_agent_objects=True)
    assert not [rel for rel in result.outputs if rel.endswith("agent-objects.yaml")]


def test_agent_objects_are_remade_not_compiled_again(examples: Path, tmp_path: Path) -> None:
    first = compiled(examples, with_agent_objects=True, substitute=True)
    out = tmp_path / "out"
    write_tree(first.outputs, out)
    again = compiled(out, with_agent_objects=True, substitute=True)
    assert again.outputs == first.outputs
    # Without the option the generated objects are dropped, so the rest is exactly a plain compile.
    write_tree(compiled(examples, with_agent_objects=True).outputs, tmp_path / "agents")
    assert compiled(tmp_path / "agents").outputs == compiled(examples).outputs
    # Our own check on the output: no error that the input does not have, and the objects raise nothing.
    before = {(d.rule, d.path) for d in lint(LintOptions(paths=["."], cwd=examples)).diagnostics
              if d.severity >= Severity.ERROR}
    findings = lint(LintOptions(paths=["."], cwd=out)).diagnostics
    assert {(d.rule, d.path) for d in findings if d.severity >= Severity.ERROR} <= before
    assert not [d for d in findings if d.path.endswith("agent-objects.yaml")]


# --------------------------------------------------------------------------- substitution


def kustomization(name: str, path: str, post_build: str = "") -> str:
    return (f"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n"
            f"  namespace: flux-system\nspec:\n  interval: 10m\n  path: {path}\n  prune: true\n"
            f"  sourceRef:\n    kind: GitRepository\n    name: flux-system\n{post_build}")


BOOTSTRAP = git_repository("flux-system", "https://github.com/acme/fleet.git")

APP = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  namespace: apps
  labels:
    env: ${ENV}
spec:
  replicas: ${REPLICAS}
  revisionHistoryLimit: "${REPLICAS}"
  template:
    spec:
      containers:
        - name: app
          image: "registry.example.com/app:${TAG:=latest}"
          args: ["--domain=${DOMAIN:-example.com}", "--literal=$${KEEP}", "--missing=${MISSING}"]
"""


def substituted(tmp_path: Path, post_build: str, extra: dict[str, str] | None = None):
    write_files(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/apps.yaml": kustomization("apps", "./apps", post_build),
        "apps/app.yaml": APP,
        **(extra or {}),
    })
    return compiled(tmp_path, substitute=True)


def test_substitute_from_post_build(tmp_path: Path) -> None:
    result = substituted(tmp_path, "  postBuild:\n    substitute:\n      ENV: prod\n      REPLICAS: '3'\n"
                                   "      DOMAIN: ''\n")
    app = documents(result.outputs["apps/app.yaml"])[0]
    assert app["metadata"]["labels"] == {"env": "prod"}
    assert app["spec"]["replicas"] == 3  # Flux's text substitution makes it a number
    assert app["spec"]["revisionHistoryLimit"] == 3  # quoted or not (kustomize writes it plain; flux2#4154)
    container = app["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.example.com/app:latest"
    # `:-` treats an empty value as unset; `$$` escapes stay; an unknown variable stays, with a warning.
    assert container["args"] == ["--domain=example.com", "--literal=$${KEEP}", "--missing=${MISSING}"]
    assert [(rel, line) for rel, line, _ in result.warnings] == [("apps/app.yaml", 16)]
    assert "${MISSING} is not set by Kustomization/flux-system/apps" in result.warnings[0][2]
    assert not result.errors
    # Without --substitute everything stays as written.
    plain = documents(compiled(tmp_path).outputs["apps/app.yaml"])[0]
    assert plain["spec"]["replicas"] == "${REPLICAS}"


def test_substitute_from_unknown_sources_is_left_alone(tmp_path: Path) -> None:
    result = substituted(tmp_path, "  postBuild:\n    substitute:\n      ENV: prod\n    substituteFrom:\n"
                                   "      - kind: ConfigMap\n        name: cluster-vars\n")
    app = documents(result.outputs["apps/app.yaml"])[0]
    assert app["metadata"]["labels"] == {"env": "prod"}
    assert app["spec"]["replicas"] == "${REPLICAS}"
    assert app["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example.com/app:${TAG:=latest}"
    assert all("substituteFrom" in message for _, _, message in result.warnings)


def test_no_post_build_no_substitution(tmp_path: Path) -> None:
    result = substituted(tmp_path, "")
    assert documents(result.outputs["apps/app.yaml"])[0]["spec"]["replicas"] == "${REPLICAS}"
    assert result.warnings == []


def test_disabled_objects_are_left_alone(tmp_path: Path) -> None:
    app = APP.replace("  labels:\n", "  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\n  labels:\n")
    result = substituted(tmp_path, "  postBuild:\n    substitute:\n      ENV: prod\n", {"apps/app.yaml": app})
    assert documents(result.outputs["apps/app.yaml"])[0]["metadata"]["labels"] == {"env": "${ENV}"}


def test_one_file_two_clusters(tmp_path: Path) -> None:
    """A base applied by two Kustomizations: what they agree on is replaced, the rest stays."""
    result = substituted(tmp_path, "  postBuild:\n    substitute:\n      ENV: prod\n      REPLICAS: '3'\n", {
        "clusters/staging/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/staging/apps.yaml": kustomization("apps", "./apps", "  postBuild:\n    substitute:\n"
                                                    "      ENV: staging\n      REPLICAS: '3'\n"),
    })
    app = documents(result.outputs["apps/app.yaml"])[0]
    assert app["metadata"]["labels"] == {"env": "${ENV}"}
    assert app["spec"]["replicas"] == 3
    env = [m for rel, line, m in result.warnings if line == 7]
    assert env and "different values" in env[0]


STYLES = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: styles
  namespace: apps
data:
  plain: ${N}
  anchored: &n ${N}
  alias: *n
  tagged: !!str ${N}
  folded: >-
    ${N}
  literal: |
    ${N}
  quoted: &q "${N}"
"""


def test_substituted_values_read_as_flux_reads_them(tmp_path: Path) -> None:
    # Flux substitutes the text kustomize writes, where every one-line string that can be plain is plain,
    # and reads the result as YAML: quotes and tags in the source do not keep a string; blocks do.
    result = substituted(tmp_path, "  postBuild:\n    substitute:\n      N: '3'\n", {"apps/styles.yaml": STYLES})
    data = documents(result.outputs["apps/styles.yaml"])[0]["data"]
    assert data == {"plain": 3, "anchored": 3, "alias": 3, "tagged": 3, "folded": 3, "literal": "3\n",
                    "quoted": 3}


@pytest.mark.parametrize(("value", "expected"), [
    ("yes", True), ("y", True), ("0o17", 15), ("' padded '", "padded"), ("''", None), ("a #b", "a"),
    ('"a\\nb"', "ab"), ("word", "word"),
])
def test_substituted_values_reread(tmp_path: Path, value: str, expected: object) -> None:
    result = substituted(tmp_path, f"  postBuild:\n    substitute:\n      V: {value}\n",
                         {"apps/v.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: v, namespace: a}\n"
                                         "data:\n  v: \"${V}\"\n  w: \"x-${V}\"\n"})
    data = documents(result.outputs["apps/v.yaml"])[0]["data"]
    assert data["v"] == expected


def test_substituted_structure_stays_as_written(tmp_path: Path) -> None:
    result = substituted(tmp_path, "  postBuild:\n    substitute:\n      V: 'a: b'\n",
                         {"apps/v.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: v, namespace: a}\n"
                                         "data:\n  v: ${V}\n"})
    assert documents(result.outputs["apps/v.yaml"])[0]["data"]["v"] == "${V}"
    assert any("would not read back as one value" in message for _, _, message in result.warnings)


def test_values_with_dollars_stay_unresolved(tmp_path: Path) -> None:
    # Flux substitutes the built output again: `${OTHER}` or `$$` in a value would be read twice.
    post_build = ("  postBuild:\n    substitute:\n      ENV: ${OTHER}\n      REPLICAS: 'a$$b'\n"
                  "      OTHER: x\n      TAG: v1\n")
    result = substituted(tmp_path, post_build)
    app = documents(result.outputs["apps/app.yaml"])[0]
    assert app["metadata"]["labels"] == {"env": "${ENV}"} and app["spec"]["replicas"] == "${REPLICAS}"
    assert app["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example.com/app:v1"
    assert sum("which Flux would substitute again" in message for _, _, message in result.warnings) == 3
    # ... and so compiling the output again changes nothing.
    out = tmp_path / "out"
    write_tree(result.outputs, out)
    again = compiled(out, substitute=True)
    assert again.outputs["apps/app.yaml"] == result.outputs["apps/app.yaml"]


def test_substituted_durations_are_normalized(tmp_path: Path) -> None:
    child = kustomization("child", "./apps", "").replace("interval: 10m", "interval: ${INTERVAL}")
    write_files(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/infra.yaml": kustomization("infra", "./infra", "  postBuild:\n    substitute:\n"
                                                  "      INTERVAL: 90m\n"),
        "infra/child.yaml": child,
        "apps/app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: b\n",
    })
    result = compiled(tmp_path, substitute=True)
    assert documents(result.outputs["infra/child.yaml"])[0]["spec"]["interval"] == "1h30m0s"


def test_namespace_from_target_namespace(tmp_path: Path) -> None:
    """Objects without a namespace land in the applying Kustomizations' targetNamespace, when they agree."""
    config_map = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"
    write_files(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/apps.yaml": kustomization("apps", "./apps", "  targetNamespace: team-a\n"),
        "clusters/prod/shared.yaml": kustomization("shared", "./shared", "  targetNamespace: team-a\n"),
        # a second cluster (bootstrapped: Flux's view follows only what an entry point reaches) disagrees
        "clusters/staging/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/staging/shared.yaml": kustomization("shared", "./shared", "  targetNamespace: team-b\n"),
        "apps/kustomization.yaml": "namespace: ignored\nresources:\n  - cm.yaml\n  - named.yaml\n",
        "apps/cm.yaml": config_map.format(name="a"),
        "apps/named.yaml": config_map.format(name="b") + "  namespace: own\n",
        "shared/cm.yaml": config_map.format(name="c"),
    })
    result = compiled(tmp_path)
    assert documents(result.outputs["apps/cm.yaml"])[0]["metadata"]["namespace"] == "team-a"
    assert documents(result.outputs["apps/named.yaml"])[0]["metadata"]["namespace"] == "own"  # kept as written
    assert "namespace" not in documents(result.outputs["shared/cm.yaml"])[0]["metadata"]  # team-a or team-b


def test_an_object_a_patch_names_without_a_namespace_keeps_none(tmp_path: Path) -> None:
    """An overlay's strategic-merge patch that names the object without a namespace finds it only while the
    object has none (kustomize's "no matches for Id"): compile leaves that object's namespace to Flux."""
    write_files(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/apps.yaml": kustomization("apps", "./overlay", "  targetNamespace: team-a\n"),
        "overlay/kustomization.yaml": ("resources: [../base]\npatches:\n  - patch: |\n      apiVersion: v1\n"
                                       "      kind: ConfigMap\n      metadata: {name: a}\n      data: {k: v}\n"),
        "base/kustomization.yaml": "resources: [cm.yaml, other.yaml]\n",
        "base/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
        "base/other.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n",
    })
    result = compiled(tmp_path)
    assert "namespace" not in documents(result.outputs["base/cm.yaml"])[0]["metadata"]
    assert documents(result.outputs["base/other.yaml"])[0]["metadata"]["namespace"] == "team-a"


def test_compile_command_options(examples: Path) -> None:
    from tests.test_cli import run

    out = run(["compile", "--force", "--substitute", "--with-agent-objects", "-o", "out", "."], examples)
    assert out.returncode == 0, out.stderr
    assert (examples / "out/.gitlab/agents/production/agent-objects.yaml").is_file()
    assert "host: podinfo.production.example.com" in (examples / "out/apps/podinfo/release.yaml").read_text()
    # The same options find the output up to date; without them, it is stale.
    same = run(["compile", "--force", "--substitute", "--with-agent-objects", "-o", "out", "--check", "."], examples)
    assert same.returncode == 0, same.stderr
    plain = run(["compile", "--force", "-o", "out", "--check", "."], examples)
    assert plain.returncode == 1
    assert "extra: .gitlab/agents/production/agent-objects.yaml" in plain.stderr
    assert "stale: apps/podinfo/release.yaml" in plain.stderr


def test_compile_command_warns_about_unresolved_variables(tmp_path: Path) -> None:
    from tests.test_cli import run

    write_files(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/apps.yaml": kustomization("apps", "./apps", "  postBuild:\n    substitute:\n      ENV: a\n"),
        "apps/app.yaml": APP,
    })
    out = run(["compile", "--force", "--substitute", "-o", "-", "."], tmp_path)
    assert out.returncode == 0, out.stderr
    assert "apps/app.yaml:9: warning left as written: ${REPLICAS} is not set by Kustomization/flux-system/apps" \
        in out.stderr
    assert "env: a" in out.stdout


_PIECES = ["a", " ", "${A}", "${B:=d}", "${C:-x}", "${D-y}", "$$", "$$${A}", "$", "{", "}", "${", "${A", "x}", "${A^}"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=8).map("".join),
       st.dictionaries(st.sampled_from("ABC"), st.text(st.characters(exclude_characters="${}"), max_size=4)))
def test_substitution_properties(text: str, values: dict) -> None:
    from gitops_lint.compile.substitute import Unknown, Variables, substitute_text

    variables = [Variables("Kustomization/ns/k", values, False)]
    try:
        once = substitute_text(text, variables)
    except Unknown:
        return  # left as written by the caller
    assert substitute_text(once, variables) == once  # idempotent
    escapes = [t for t in re.findall(r"\$\$|\$\{[^{}]*\}", text) if t == "$$"]
    assert once.count("$$") >= len(escapes)  # `$$` escapes stay (values hold no `$`)
    if "${" not in text:
        assert once == text
    # Under a Kustomization without variables, nothing changes.
    assert substitute_text(text, [Variables("k", {}, False, literal=True)]) == text


def test_agent_objects_without_a_flux_section(tmp_path: Path) -> None:
    """The agent's Flux module runs whether or not its config has a `flux:` section."""
    write_files(tmp_path, {
        ".gitlab/agents/prod/config.yaml": "ci_access:\n  projects:\n    - id: acme/apps\n",
        "clusters/prod/source.yaml": git_repository("apps", "https://gitlab.com/acme/apps.git"),
    })
    docs = documents(compiled(tmp_path, with_agent_objects=True).outputs[".gitlab/agents/prod/agent-objects.yaml"])
    assert [d["kind"] for d in docs] == ["Secret", "Receiver"]


def test_every_default_form_takes_the_default_for_an_empty_value() -> None:
    """fluxcd/pkg envsubst gives `=`, `:-` and `:=` alike the default when the value is empty (toDefault),
    unlike a shell, where `${VAR=x}` keeps an empty VAR; its parser refuses `${VAR-x}` ("missing closing
    brace"), which is not evaluated."""
    import pytest

    from gitops_lint.view.substitute import Unknown, Variables, evaluate

    empty = Variables(values={"VAR": ""}, literal=False)
    assert [evaluate(f"VAR{op}x", empty) for op in ("=", ":-", ":=")] == ["x"] * 3
    assert evaluate("VAR=x", Variables(values={"VAR": "set"}, literal=False)) == "set"
    with pytest.raises(Unknown):
        evaluate("VAR-x", empty)
