"""`gitops-lint compile`: normalized output, migration, determinism, idempotence, the output folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gitops_lint.compile import MARKER, CompileError, check_tree, compile_repo, diff_tree, stream, write_tree
from gitops_lint.compile import repository_reader
from gitops_lint.compile import tree as tree_module
from gitops_lint.compile.emit import dump
from gitops_lint.discover import discover
from gitops_lint.engine import load_sources
from gitops_lint.model import build_model
from gitops_lint.yaml.loader import load_text
from tests.conftest import PROJECT, shared_path, write_tree as write_files, assert_golden

GOLDEN = Path(__file__).parent / "golden" / "compile"


def golden(name: str, actual: str) -> None:
    assert_golden("compile/" + name, actual)


def compile_dir(path: Path, **options):
    files = load_sources(discover(["."], cwd=path).files)
    return compile_repo(files, build_model(files), **options)


def compile_texts(texts: dict[str, str], **options):
    files = [load_text(text, rel) for rel, text in texts.items()]
    return compile_repo(files, build_model(files), **options)


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """A copy of examples/ outside any git work tree, so paths are relative to it wherever the tests run."""
    return Path(shutil.copytree(PROJECT / "examples", tmp_path / "examples"))


# --------------------------------------------------------------------------- golden


@pytest.mark.parametrize("defaults", ["omit", "explicit"])
def test_examples_golden(examples: Path, defaults: str) -> None:
    result = compile_dir(examples, defaults=defaults)
    assert result.errors == []
    # Same layout: one output per input file that holds objects, at the same relative path.
    assert "apps/podinfo/release.yaml" in result.outputs and ".gitops-lint.yaml" not in result.outputs
    golden(f"examples-{defaults}.yaml", stream(result.outputs))


def test_normalized_form() -> None:
    text = """\
# a comment that goes
spec:
  timeout: 90m        # no hours allowed here: 1h30m0s would be refused, so it stays
  interval: 10m
  ref: {branch: main}
  url: https://gitlab.com/acme/app.git
metadata:
  annotations: {b: "1", a: "2"}
  labels: {app: x}
  namespace: flux-system
  name: app
kind: GitRepository
apiVersion: source.toolkit.fluxcd.io/v1
"""
    out = compile_texts({"src.yaml": text}).outputs["src.yaml"]
    assert out == """\
# Source: src.yaml:2
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: app
  namespace: flux-system
  labels:
    app: x
  annotations:
    a: '2'
    b: '1'
spec:
  interval: 10m0s
  ref:
    branch: main
  timeout: 90m
  url: https://gitlab.com/acme/app.git
"""


def test_durations_canonical_except_substitutions() -> None:
    ks = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: a, namespace: flux-system}
spec:
  interval: ${INTERVAL}
  retryInterval: 90s
  timeout: 1.5h
  path: ./a
  prune: true
  sourceRef: {kind: GitRepository, name: repo}
"""
    data = load_text(compile_texts({"ks.yaml": ks}).outputs["ks.yaml"]).documents[0].data
    assert data["spec"]["interval"] == "${INTERVAL}"
    assert data["spec"]["retryInterval"] == "1m30s"
    assert data["spec"]["timeout"] == "1h30m0s"


def test_defaults_omit_and_explicit() -> None:
    text = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: app, namespace: flux-system}
spec:
  interval: 1m
  timeout: 60s
  url: https://gitlab.com/acme/app.git
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: app, namespace: flux-system}
spec:
  force: false
  interval: 1m
  path: ./
  prune: true
  sourceRef: {kind: GitRepository, name: app}
"""
    omit = [d.data for d in load_text(compile_texts({"a.yaml": text}).outputs["a.yaml"]).documents]
    assert "timeout" not in omit[0]["spec"] and "force" not in omit[1]["spec"]
    explicit_text = compile_texts({"a.yaml": text}, defaults="explicit").outputs["a.yaml"]
    explicit = [d.data for d in load_text(explicit_text).documents]
    assert explicit[0]["spec"]["timeout"] == "1m0s"  # the default, in canonical form
    assert explicit[1]["spec"]["force"] is False
    # Explicit, then omitted again: back to the omitted form.
    again = compile_texts({"a.yaml": compile_texts({"a.yaml": text}, defaults="explicit").outputs["a.yaml"]})
    assert again.outputs == compile_texts({"a.yaml": text}).outputs
    with pytest.raises(ValueError):
        compile_texts({"a.yaml": text}, defaults="sometimes")


def test_defaults_omit_keeps_fields_patches_need(tmp_path: Path) -> None:
    """Overlay patches and replacements that read a default field need it in the base."""
    repo = write_files(tmp_path / "repo", {
        "base/kustomization.yaml": "resources: [repo.yaml, ks.yaml, oci.yaml, release.yaml]\n",
        "base/repo.yaml": ("apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\n"
                           "metadata: {name: apps, namespace: flux-system}\n"
                           "spec: {interval: 5m, timeout: 60s, url: https://gitlab.com/a/b.git}\n"),
        "base/ks.yaml": ("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
                         "metadata: {name: apps, namespace: flux-system}\nspec:\n  interval: 10m\n  path: ./base\n"
                         "  prune: true\n  force: false\n  sourceRef: {kind: GitRepository, name: apps}\n"
                         "  postBuild: {substituteFrom: [{kind: ConfigMap, name: vars, optional: false}]}\n"),
        "base/oci.yaml": ("apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\n"
                          "metadata: {name: charts, namespace: flux-system}\n"
                          "spec: {interval: 5m, provider: generic, url: oci://ghcr.io/a/b}\n"),
        "base/release.yaml": ("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
                              "metadata: {name: app, namespace: flux-system}\nspec:\n  interval: 5m\n"
                              "  chart:\n    spec: {chart: app, reconcileStrategy: ChartVersion,"
                              " sourceRef: {kind: HelmRepository, name: charts}}\n"),
        "prod/kustomization.yaml": """\
resources: [../base, strategy.yaml]
patches:
  - target: {kind: GitRepository}
    patch: |
      - op: replace
        path: /spec/timeout
        value: 2m
  - path: force.yaml
    target: {kind: Kustomization}
  - path: provider.json
    target: {kind: OCIRepository}
replacements:
  - source: {kind: HelmRelease, fieldPath: spec.chart.spec.reconcileStrategy}
    targets: [{select: {kind: ConfigMap}, fieldPaths: [data.strategy]}]
""",
        "prod/force.yaml": "- op: test\n  path: /spec/force\n  value: false\n",
        # Not YAML by name: discovery never loads it, compile reads it.
        "prod/provider.json": '[{"op": "remove", "path": "/spec/provider"}]\n',
        "prod/strategy.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: strategy}\ndata: {strategy: none}\n",
    })
    result = compile_dir(repo, read=repository_reader(repo))
    spec = {rel: load_text(result.outputs[f"base/{rel}"]).documents[0].data["spec"]
            for rel in ("repo.yaml", "ks.yaml", "oci.yaml", "release.yaml")}
    assert spec["repo.yaml"]["timeout"] == "1m0s" and spec["ks.yaml"]["force"] is False
    assert spec["oci.yaml"]["provider"] == "generic"
    assert spec["release.yaml"]["chart"]["spec"]["reconcileStrategy"] == "ChartVersion"
    assert spec["ks.yaml"]["postBuild"]["substituteFrom"] == [{"kind": "ConfigMap", "name": "vars"}]  # no patch
    if shutil.which("kubectl"):
        out = tmp_path / "out"
        write_tree(result.outputs, out)
        built = subprocess.run(["kubectl", "kustomize", str(out / "prod")], capture_output=True, text=True)
        assert built.returncode == 0, built.stderr
        assert "timeout: 2m\n" in built.stdout and "strategy: ChartVersion\n" in built.stdout


def test_malformed_patches_are_no_crash() -> None:
    result = compile_texts({
        "kustomization.yaml": ("resources: [cm.yaml]\npatches:\n  - patch: |\n      - op: [remove]\n        path: /a\n"
                               "      - {op: {x: 1}, path: /b, from: 3}\n      - [nested]\n      - op: remove\n"
                               "  - patch: '{not yaml'\nreplacements:\n  - source: 5\n    targets: [7, {fieldPaths: x}]\n"),
        "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
    })
    assert set(result.outputs) == {"kustomization.yaml", "cm.yaml"}


def test_namespace_from_kustomize_file() -> None:
    result = compile_texts({
        "app/kustomization.yaml": "namespace: apps\nresources: [objects.yaml]\n",
        "app/objects.yaml": ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"
                             "apiVersion: v1\nkind: Namespace\nmetadata: {name: apps}\n---\n"
                             "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: other}\n"),
        "elsewhere.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
    })
    docs = [d.data for d in load_text(result.outputs["app/objects.yaml"]).documents]
    assert docs[0]["metadata"] == {"name": "a", "namespace": "apps"}
    assert docs[1]["metadata"] == {"name": "apps"}  # cluster-scoped: kustomize leaves it alone
    assert docs[2]["metadata"]["namespace"] == "other"
    assert "namespace" not in load_text(result.outputs["elsewhere.yaml"]).documents[0].data["metadata"]


def test_namespace_only_where_every_build_agrees(tmp_path: Path) -> None:
    base = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\n")
    rbac = ("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: runner}\n---\n"
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: rb}\n"
            "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\n"
            "subjects:\n  - {kind: ServiceAccount, name: runner, namespace: default}\n")
    texts = {
        "base/kustomization.yaml": "resources: [cm.yaml]\n",
        "base/cm.yaml": base,
        "overlays/dev/kustomization.yaml": "namespace: dev\nresources: [../../base]\n",
        "overlays/prod/kustomization.yaml": "namespace: prod\nresources: [../../base]\n",
        "mon/kustomization.yaml": "namespace: mon\nresources: [rbac.yaml]\n",
        "mon/rbac.yaml": rbac,
    }
    result = compile_texts(texts)
    # A base built to `dev`, `prod` and (alone) to no namespace keeps none.
    assert "namespace" not in load_text(result.outputs["base/cm.yaml"]).documents[0].data["metadata"]
    # The subject follows the ServiceAccount only while its namespace is the file's: it stays implicit.
    sa, rb = (d.data for d in load_text(result.outputs["mon/rbac.yaml"]).documents)
    assert sa["metadata"] == {"name": "runner"} and rb["metadata"] == {"name": "rb", "namespace": "mon"}
    if shutil.which("kubectl"):
        out = tmp_path / "out"
        write_tree(result.outputs, out)
        src = write_files(tmp_path / "src", texts)
        for folder in ("base", "overlays/dev", "mon"):
            built = [subprocess.run(["kubectl", "kustomize", str(root / folder)], capture_output=True, text=True,
                                    check=True).stdout for root in (src, out)]
            assert built[0] == built[1], folder


def test_yaml_11_lookalikes_stay_strings() -> None:
    text = ('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  a: "yes"\n  b: "on"\n  c: "1.0"\n'
            '  d: "~"\n  e: "2024-01-01"\n  f: "0x1F"\n  g: "line one\\nline two\\n"\n  h: "null"\n')
    out = compile_texts({"cm.yaml": text}).outputs["cm.yaml"]
    assert "a: 'yes'" in out and "g: |\n" in out
    assert load_text(out).documents[0].data == load_text(text).documents[0].data


def test_strings_a_go_decoder_would_retype_are_quoted() -> None:
    # `y`/`n` are booleans to go-yaml v2 (kubectl), `1e3` a float and `0o17` an int to go-yaml v3 (kustomize),
    # `12:30` an int to YAML 1.1: as strings they must stay strings to every reader.
    text = ('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  a: "y"\n  b: "N"\n  c: "1e3"\n'
            '  d: "0o17"\n  e: "12:30"\n  f: 12:30\n  g: yes-please\n  h: "0X1F"\n  i: "0B1_0"\n  j: "1_e3"\n')
    out = compile_texts({"cm.yaml": text}).outputs["cm.yaml"]
    for line in ("a: 'y'", "b: 'N'", "c: '1e3'", "d: '0o17'", "e: '12:30'", "f: '12:30'", "g: yes-please",
                 "h: '0X1F'", "i: '0B1_0'", "j: '1_e3'"):
        assert f"\n  {line}\n" in out, line
    assert load_text(out).documents[0].data == load_text(text).documents[0].data


def test_skipped_and_broken_files() -> None:
    result = compile_texts({
        "values.yaml": "replicaCount: 2\n",
        ".gitlab-ci.yml": "stages: [test]\n",
        "broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nkey: [unclosed\n",
    })
    # Only the broken file is written, as it is: a kustomization naming it still finds it.
    assert result.outputs == {"broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nkey: [unclosed\n"}
    assert [(rel, line) for rel, line, _ in result.errors] == [("broken.yaml", 6)]
    assert "not compiled, copied as it is" in result.errors[0][2]


def test_kustomize_inputs_copied_unchanged() -> None:
    patch = ("# a patch\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: x}\n"
             "spec: {interval: 10m}\n")
    values = "# values\nreplicaCount: 2\n"
    result = compile_texts({
        "app/kustomization.yaml": ("resources: [placeholder.yaml]\npatches:\n  - path: patch.yaml\n"
                                   "configMapGenerator:\n  - name: values\n    files: [values.yaml=values.yaml]\n"),
        "app/patch.yaml": patch,
        "app/values.yaml": values,
        "app/placeholder.yaml": "# written by flux bootstrap\n",
    })
    assert result.outputs["app/patch.yaml"] == patch
    assert result.outputs["app/values.yaml"] == values
    assert result.outputs["app/placeholder.yaml"] == "# written by flux bootstrap\n"
    assert stream(result.outputs).count("# Source: ") == 1  # only the kustomization: copies are no objects


def test_broken_files_without_objects_are_copied_and_reported(tmp_path: Path) -> None:
    # A syntax error, tab indentation, bytes that are no UTF-8, a merge conflict: what the file holds past the
    # problem is unknown, so it is copied as it is and reported, even when the readable part holds no object.
    repo = write_files(tmp_path / "repo", {
        "syntax.yaml": "# comment\nkey: [unclosed\n",
        "tabs.yaml": "a:\n\tb: 1\n",
        "conflict.yaml": "<<<<<<< HEAD\na: 1\n=======\na: 2\n>>>>>>> branch\n",
    })
    (repo / "latin1.yaml").write_bytes(b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: caf\xe9}\n")
    result = compile_dir(repo, read=repository_reader(repo))
    assert result.outputs["latin1.yaml"] == (repo / "latin1.yaml").read_bytes()
    for rel in ("syntax.yaml", "tabs.yaml", "conflict.yaml"):
        assert result.outputs[rel] in ((repo / rel).read_text(), (repo / rel).read_bytes())
    assert sorted(rel for rel, _, message in result.errors if "not compiled, copied as it is" in message) == [
        "conflict.yaml", "latin1.yaml", "syntax.yaml", "tabs.yaml"]


def test_non_yaml_kustomize_inputs_copied_from_disk(tmp_path: Path) -> None:
    repo = write_files(tmp_path / "repo", {
        "app/kustomization.yaml": ("resources: [cm.yaml, extra.json, ../outside-folder]\n"
                                   "configMapGenerator:\n  - name: env\n    envs: [app.env]\n"
                                   "    files: [conf=settings.properties]\n"
                                   "secretGenerator:\n  - name: tls\n    files: [cert.der]\n"),
        "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
        "app/extra.json": '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}}\n',
        "app/app.env": "A=1\n",
        "app/settings.properties": "\ufeffkey=value\n",
        "outside-folder/kustomization.yaml": "resources: []\n",
    })
    (repo / "app/cert.der").write_bytes(bytes(range(256)))
    result = compile_dir(repo, read=repository_reader(repo))
    for rel in ("app/extra.json", "app/app.env", "app/settings.properties", "app/cert.der"):
        assert result.outputs[rel] == (repo / rel).read_bytes(), rel  # byte order mark and binary included
    # Nothing outside the repository is ever copied in, through `..` or a symbolic link.
    (tmp_path / "escape.txt").write_text("not in the repository")
    (repo / "app/link.txt").symlink_to(tmp_path / "escape.txt")
    read = repository_reader(repo)
    assert read("app/link.txt") is None and read("../escape.txt") is None and read("app") is None
    out = tmp_path / "out"
    write_tree(result.outputs, out)
    assert (out / "app/cert.der").read_bytes() == bytes(range(256))
    assert check_tree(result.outputs, out) == []
    (out / "app/cert.der").write_bytes(b"\xff\xfe")
    assert "Binary files a/app/cert.der and b/app/cert.der differ\n" in diff_tree(result.outputs, out)
    if shutil.which("kubectl"):
        built = subprocess.run(["kubectl", "kustomize", str(out / "app")], capture_output=True, text=True)
        assert built.returncode == 0, built.stderr


def test_files_named_by_plugin_configs_are_copied(tmp_path: Path) -> None:
    """Builtin generator and transformer configs name files relative to the kustomization listing them."""
    repo = write_files(tmp_path / "repo", {
        "app/kustomization.yaml": ("resources: [deploy.yaml]\ntransformers: [json.yaml, smp.yaml]\n"
                                   "generators: [config/gen.yaml]\n"),
        "app/deploy.yaml": ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n"
                            "  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n"
                            "    spec: {containers: [{name: web, image: nginx}]}\n"),
        "app/json.yaml": ("apiVersion: builtin\nkind: PatchTransformer\nmetadata: {name: j}\npath: patches/op.yaml\n"
                          "target: {kind: Deployment}\n"),
        "app/patches/op.yaml": "- op: add\n  path: /metadata/labels\n  value: {team: a}\n",
        "app/smp.yaml": "apiVersion: builtin\nkind: PatchStrategicMergeTransformer\nmetadata: {name: s}\npaths: [replicas.yaml]\n",
        # A partial object: a patch, never reported or compiled as an object of its own.
        "app/replicas.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 3}\n",
        "app/config/gen.yaml": ("apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata: {name: settings}\n"
                                "files: [conf=app.properties]\nenvs: [extra.env]\n"),
        "app/app.properties": "a=b\n",
        "app/extra.env": "C=d\n",
    })
    files = load_sources(discover(["."], cwd=repo).files)
    assert build_model(files).patch_files == {"app/patches/op.yaml", "app/replicas.yaml"}
    result = compile_dir(repo, read=repository_reader(repo))
    for rel in ("app/patches/op.yaml", "app/replicas.yaml", "app/app.properties", "app/extra.env"):
        assert result.outputs[rel] == (repo / rel).read_bytes(), rel
    assert result.errors == []
    if shutil.which("kubectl"):
        out = tmp_path / "out"
        write_tree(result.outputs, out)
        built = [subprocess.run(["kubectl", "kustomize", str(folder / "app")], capture_output=True, text=True)
                 for folder in (repo, out)]
        assert built[0].returncode == 0 and "team: a" in built[0].stdout and "replicas: 3" in built[0].stdout
        assert built[1].returncode == 0, built[1].stderr
        assert built[1].stdout == built[0].stdout


def test_folded_scalars_with_indented_lines_are_kept_as_written(tmp_path: Path) -> None:
    # go-yaml reads `second\n\n  more` where libyaml (and the spec) read `second\n  more`: no rewrite is safe.
    text = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  x: >-\n    first\n    second\n"
            "      more indented\n    back\n  y: >\n    plain folding\n    is fine\n")
    result = compile_texts({"cm.yaml": text, "other.yaml": text.replace("      more indented\n", "")})
    assert result.outputs["cm.yaml"] == "# Source: cm.yaml:1\n" + text
    assert [(rel, line) for rel, line, _ in result.warnings] == [("cm.yaml", 6)]
    assert "'y': |\n    plain folding is fine\n" in result.outputs["other.yaml"]  # `y`: a boolean to go-yaml v2
    assert compile_texts({"cm.yaml": result.outputs["cm.yaml"]}).outputs["cm.yaml"] == result.outputs["cm.yaml"]


def test_existing_header_is_kept() -> None:
    text = "# Source: clusters/prod/apps.yaml:7\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
    out = compile_texts({"out/apps.yaml": text}).outputs["out/apps.yaml"]
    assert out.startswith("# Source: clusters/prod/apps.yaml:7\napiVersion: v1\n")


# --------------------------------------------------------------------------- migration


KUSTOMIZATION_V1BETA2 = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
"""


def test_migration_to_storage_version() -> None:
    result = compile_texts({"ks.yaml": KUSTOMIZATION_V1BETA2})
    assert result.errors == []
    data = load_text(result.outputs["ks.yaml"]).documents[0].data
    assert data["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1"
    assert data["spec"]["interval"] == "10m0s"


def test_migration_blocked_by_removed_field() -> None:
    text = KUSTOMIZATION_V1BETA2 + "  validation: client\n"
    result = compile_texts({"ks.yaml": text})
    assert len(result.errors) == 1
    rel, line, message = result.errors[0]
    assert (rel, line) == ("ks.yaml", 13)
    assert "spec.validation" in message and "v1beta2" in message and "Kustomization/flux-system/apps" in message
    # The object keeps its version rather than silently losing the field.
    data = load_text(result.outputs["ks.yaml"]).documents[0].data
    assert data["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1beta2" and data["spec"]["validation"] == "client"


def test_durations_canonical_on_objects_kept_at_an_old_version() -> None:
    # v1beta1 CRDs give their durations no pattern (metav1.Duration): they are canonical all the same.
    text = ("apiVersion: kustomize.toolkit.fluxcd.io/v1beta1\nkind: Kustomization\nmetadata:\n  name: apps\n"
            "  namespace: flux-system\nspec:\n  interval: 10m\n  retryInterval: 90s\n  timeout: 1h\n"
            "  path: ./apps\n  prune: true\n  validation: client\n"
            "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n")
    result = compile_texts({"ks.yaml": text}, flux_version="2.3")
    assert result.errors and "cannot migrate" in result.errors[0][2]
    spec = load_text(result.outputs["ks.yaml"]).documents[0].data["spec"]
    assert (spec["interval"], spec["retryInterval"], spec["timeout"]) == ("10m0s", "1m30s", "1h0m0s")
    # Defaults of such fields too: written canonical (explicit), and recognised as defaults (omit).
    repo = ("apiVersion: source.toolkit.fluxcd.io/v1beta1\nkind: GitRepository\nmetadata:\n  name: a\n"
            "  namespace: flux-system\nspec:\n  gitImplementation: libgit2\n  interval: 1m\n  timeout: 1m\n"
            "  url: https://example.com/a.git\n")
    explicit = compile_texts({"r.yaml": repo}, flux_version="2.3", defaults="explicit").outputs["r.yaml"]
    assert "  timeout: 1m0s\n" in explicit
    assert compile_texts({"r.yaml": explicit}, flux_version="2.3", defaults="explicit").outputs["r.yaml"] == explicit
    assert "timeout" not in compile_texts({"r.yaml": repo}, flux_version="2.3").outputs["r.yaml"]


def test_migration_follows_target_release() -> None:
    hr = ("apiVersion: helm.toolkit.fluxcd.io/v2beta2\nkind: HelmRelease\nmetadata: {name: a, namespace: b}\n"
          "spec:\n  interval: 5m\n  chart:\n    spec: {chart: c, sourceRef: {kind: HelmRepository, name: r}}\n")
    for release, expected in (("2.3", "helm.toolkit.fluxcd.io/v2"), ("2.9", "helm.toolkit.fluxcd.io/v2")):
        data = load_text(compile_texts({"hr.yaml": hr}, flux_version=release).outputs["hr.yaml"]).documents[0].data
        assert data["apiVersion"] == expected
    # Never downgraded: OCIRepository v1 stays v1 for Flux 2.3, whose storage version is v1beta2.
    oci = ("apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata: {name: a, namespace: b}\n"
           "spec: {interval: 5m, url: 'oci://ghcr.io/a/b'}\n")
    out = compile_texts({"oci.yaml": oci}, flux_version="2.3")
    assert load_text(out.outputs["oci.yaml"]).documents[0].data["apiVersion"] == "source.toolkit.fluxcd.io/v1"
    with pytest.raises(ValueError):
        compile_texts({"oci.yaml": oci}, flux_version="1.0")


# --------------------------------------------------------------------------- SOPS


SOPS_DOC = """\
# sops-encrypted: keep every byte
apiVersion: v1
kind: Secret
metadata: {name: token,   namespace: flux-system}   # odd spacing on purpose
stringData:
    token: ENC[AES256_GCM,data:abc=,iv:def=,tag:ghi=,type:str]
sops:
    mac: ENC[AES256_GCM,data:xyz=,type:str]
    version: 3.8.1
"""


def test_sops_passes_through_byte_for_byte() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n" + SOPS_DOC
    out = compile_texts({"secrets.yaml": text}).outputs["secrets.yaml"]
    assert out.endswith("---\n# Source: secrets.yaml:6\n" + SOPS_DOC)
    assert compile_texts({"secrets.yaml": out}).outputs["secrets.yaml"] == out


# --------------------------------------------------------------------------- guarantees


_DETERMINISM_SCRIPT = """\
import sys
from pathlib import Path
from gitops_lint.discover import discover
from gitops_lint.engine import load_sources
from gitops_lint.model import build_model
from gitops_lint.compile import compile_repo, stream
files = load_sources(discover(["."], cwd=Path(sys.argv[1])).files)
for defaults in ("omit", "explicit"):
    result = compile_repo(files, build_model(files), defaults=defaults)
    sys.stdout.write(stream(result.outputs) + repr(sorted(result.outputs)) + repr(result.errors))
"""


def test_deterministic_across_hash_seeds(examples: Path) -> None:
    outs = []
    for seed in ("0", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", _DETERMINISM_SCRIPT, str(examples)], capture_output=True,
                             env=env, check=True, timeout=300)
        outs.append(out.stdout)
    assert outs[0] == outs[1] and outs[0]


def _assert_idempotent(repo: Path, out: Path) -> None:
    for defaults in ("omit", "explicit"):
        first = compile_dir(repo, defaults=defaults)
        write_tree(first.outputs, out)
        second = compile_dir(out, defaults=defaults)
        assert second.outputs == first.outputs and second.errors == first.errors


def test_idempotent_on_examples(examples: Path, tmp_path: Path) -> None:
    _assert_idempotent(examples, tmp_path / "out")


def test_idempotent_on_corpus_repo(tmp_path: Path) -> None:
    repo = shared_path("corpus", "fluxcd+flux2-kustomize-helm-example")
    _assert_idempotent(repo, tmp_path / "out")


_durations = st.builds(
    lambda parts: "".join(f"{n}{u}" for n, u in parts),
    st.lists(st.tuples(st.sampled_from(["0", "1", "5", "10", "90", "1.5", "2.25", "3600"]),
                       st.sampled_from(["ms", "s", "m", "h"])), min_size=1, max_size=3),
) | st.sampled_from(["${INTERVAL}", "10m0s", "1h0m0s", "0s", "not a duration"])
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5),
                     st.sampled_from(["yes", "on", "1.0", "a b", "x\ny"]), st.text(max_size=6))
_values = st.recursive(_scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
                       max_leaves=8)
#: What may stand unescaped in a YAML file (the generated input is JSON written as it is).
_yaml_text = st.text(st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="\ufeff\x85\u2028\u2029")
                     | st.just("\n"), max_size=6)
_input_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(["yes", "on", "1.0", "x\ny"]), _yaml_text),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(_yaml_text, c, max_size=3), max_leaves=8)


def _shuffled(draw, mapping: dict) -> dict:
    keys = draw(st.permutations(list(mapping)))
    return {k: mapping[k] for k in keys}


@st.composite
def flux_objects(draw) -> dict:
    kind = draw(st.sampled_from(["Kustomization", "GitRepository", "HelmRelease"]))
    spec: dict = {"interval": draw(_durations)}
    if kind == "Kustomization":
        api = draw(st.sampled_from(["kustomize.toolkit.fluxcd.io/v1", "kustomize.toolkit.fluxcd.io/v1beta2"]))
        spec |= {"path": "./apps", "prune": draw(st.booleans()), "sourceRef": {"kind": "GitRepository", "name": "r"}}
        if draw(st.booleans()):
            spec["retryInterval"] = draw(_durations)
        if draw(st.booleans()):
            spec["force"] = draw(st.booleans())
        if draw(st.booleans()):
            spec["postBuild"] = {"substitute": draw(st.dictionaries(st.text("abc_", min_size=1, max_size=4),
                                                                    _yaml_text, max_size=3))}
    elif kind == "GitRepository":
        api = "source.toolkit.fluxcd.io/v1"
        spec |= {"url": "https://gitlab.com/a/b.git", "ref": _shuffled(draw, {"branch": "main", "tag": "v1"})}
        if draw(st.booleans()):
            spec["timeout"] = draw(_durations)
    else:
        api = draw(st.sampled_from(["helm.toolkit.fluxcd.io/v2", "helm.toolkit.fluxcd.io/v2beta2"]))
        chart = {"chart": "c", "version": draw(st.sampled_from(["*", "1.x", "6.0.0"])),
                 "sourceRef": {"kind": "HelmRepository", "name": "r"}}
        spec |= {"chart": {"spec": _shuffled(draw, chart)}, "values": draw(_input_values)}
        if draw(st.booleans()):
            spec["install"] = {"timeout": draw(_durations), "remediation": {"retries": draw(st.integers(-1, 3))}}
    metadata = {"name": "x", "labels": draw(st.dictionaries(st.text("ab", min_size=1, max_size=3),
                                                           _yaml_text, max_size=2))}
    if draw(st.booleans()):
        metadata["namespace"] = "flux-system"
    obj = {"apiVersion": api, "kind": kind, "metadata": _shuffled(draw, metadata), "spec": _shuffled(draw, spec)}
    return _shuffled(draw, obj)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(flux_objects(), min_size=1, max_size=3), st.sampled_from(["omit", "explicit"]))
def test_normalization_is_idempotent(objects: list[dict], defaults: str) -> None:
    # JSON is YAML: the input's key order is exactly the generated one, whatever our emitter does.
    text = "---\n".join(json.dumps(obj, ensure_ascii=False) + "\n" for obj in objects)
    first = compile_texts({"objects.yaml": text}, defaults=defaults)
    out = first.outputs["objects.yaml"]
    second = compile_texts({"objects.yaml": out}, defaults=defaults)
    assert second.outputs["objects.yaml"] == out
    assert second.errors == first.errors
    assert len(load_text(out).documents) == len(objects)


@settings(max_examples=300, deadline=None)
@given(_values)
@example({"\t\n": None})  # a block scalar starting with a tab: libyaml refuses it, so it is double quoted
@example({"a": "\tindented\nwith a tab\n"})
def test_emitted_yaml_round_trips(value) -> None:
    loaded = load_text(dump({"value": value}))
    assert not loaded.problems and loaded.documents[0].data == {"value": value}


_TRICKY = ["a\nb", "a\n", "a\n\n", "\n", " a\nb", "a \nb\n", "it's", 'say "x"', "it's \\ 'x'", "- x", "#x",
           "a: b", "a #b", "?", "-", "'", "yes", "~", "null", "1.0", "0o17", "0x1F", "2024-01-01", "é", "tab\tx",
           "\x00", "a\r\nb", "\u2028", "---", "...", "--- x\ny", "x\n---\ny", "\ufeff", "", " ", "a ", "<<", "=",
           "*a", "&a", "!a", "%a", "@a", "`a", "|", ">", "[a]", "{a}", "a,b", "a\tb\nc", "\\", "日本語", "🙂"]
_emit_text = st.text(max_size=10) | st.sampled_from(_TRICKY)
_emit_keys = st.text(max_size=8) | st.sampled_from(_TRICKY) | st.integers(-3, 300) | st.booleans()
_emit_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                          st.floats(allow_nan=True, allow_infinity=True), _emit_text)
_emit_values = st.recursive(_emit_scalars, lambda c: st.lists(c, max_size=3)
                            | st.dictionaries(_emit_keys, c, max_size=3), max_leaves=12)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(_emit_keys, _emit_values, min_size=1, max_size=4) | st.lists(_emit_values, min_size=1,
                                                                                     max_size=3))
def test_fast_writer_matches_ruamel(data) -> None:
    """The direct writer is byte for byte ruamel's output, or it hands the document to ruamel."""
    from gitops_lint.compile.emit import dump_with_ruamel

    assert dump(data) == dump_with_ruamel(data)


@pytest.mark.parametrize("name", ["bjw-s+home-ops", "onedr0p+home-ops", "dimMaryanto93+gitlab-devops-automation"])
def test_fast_writer_matches_ruamel_on_corpus(name: str) -> None:
    from gitops_lint.compile.emit import dump_with_ruamel
    from gitops_lint.compile.normalize import sorted_deep

    repo = shared_path("corpus", name)
    checked = 0
    for path in sorted(repo.rglob("*.y*ml")):
        for doc in load_text(path.read_text(encoding="utf-8", errors="replace"), str(path)).documents:
            data = sorted_deep(doc.data)
            assert dump(data) == dump_with_ruamel(data), f"{path}:{doc.span.line}"
            checked += 1
    assert checked > 100


# --------------------------------------------------------------------------- the output folder


def test_write_tree_marks_and_replaces(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree({"a/one.yaml": "one\n", "two.yaml": "two\n"}, out)
    assert (out / MARKER).is_file() and (out / "a/one.yaml").read_text() == "one\n"
    write_tree({"three.yaml": "three\n"}, out)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [MARKER, "three.yaml"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging or backup folder left behind


def test_write_tree_without_atomic_exchange(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tree_module, "_exchange", lambda a, b: False)
    out = tmp_path / "out"
    write_tree({"one.yaml": "one\n"}, out)
    write_tree({"two.yaml": "two\n"}, out)
    assert not (out / "one.yaml").exists() and (out / "two.yaml").read_text() == "two\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_write_tree_refuses_foreign_folders(tmp_path: Path) -> None:
    mine = write_files(tmp_path / "mine", {"notes.txt": "precious"})
    with pytest.raises(CompileError, match="not written by gitops-lint"):
        write_tree({"a.yaml": "a\n"}, mine)
    assert (mine / "notes.txt").read_text() == "precious"
    (tmp_path / "file").write_text("x")
    with pytest.raises(CompileError, match="not a folder"):
        write_tree({"a.yaml": "a\n"}, tmp_path / "file")
    empty = tmp_path / "empty"
    empty.mkdir()
    write_tree({"a.yaml": "a\n"}, empty)  # an empty folder is fine
    assert (empty / "a.yaml").exists()


@pytest.mark.parametrize("rel", ["../escape.yaml", "/etc/passwd", "a/../../b.yaml", "a//b.yaml", "./a.yaml", MARKER,
                                 *(("C:/x.yaml", "a\\..\\b.yaml") if os.name == "nt" else ())])
def test_write_tree_never_writes_outside(tmp_path: Path, rel: str) -> None:
    out = tmp_path / "sub" / "out"
    with pytest.raises(CompileError, match="refusing to write"):
        write_tree({"ok.yaml": "ok\n", rel: "bad\n"}, out)
    assert not (tmp_path / "sub").exists() and not (tmp_path / "escape.yaml").exists()


def test_interrupted_write_keeps_old_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    write_tree({"a.yaml": "old a\n", "b.yaml": "old b\n"}, out)
    real = Path.write_bytes
    calls = []

    def failing(self: Path, data: bytes) -> int:
        calls.append(self)
        if len(calls) == 2:
            raise KeyboardInterrupt  # killed halfway through the new tree
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", failing)
    with pytest.raises(KeyboardInterrupt):
        write_tree({"a.yaml": "new a\n", "b.yaml": "new b\n", "c.yaml": "new c\n"}, out)
    monkeypatch.undo()
    assert (out / "a.yaml").read_text() == "old a\n" and (out / "b.yaml").read_text() == "old b\n"
    assert not (out / "c.yaml").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_check_and_diff_tree(tmp_path: Path) -> None:
    out = tmp_path / "out"
    outputs = {"a.yaml": "a: 1\n", "d/b.yaml": "b: 1\n", "c.yaml": "c: 1\n"}
    assert check_tree(outputs, out) == ["missing: a.yaml", "missing: c.yaml", "missing: d/b.yaml"]
    write_tree(outputs, out)
    assert check_tree(outputs, out) == [] and diff_tree(outputs, out) == ""
    (out / "a.yaml").write_text("a: 2\n")
    (out / "c.yaml").unlink()
    (out / "extra.yaml").write_text("x: 1\n")
    assert check_tree(outputs, out) == ["stale: a.yaml", "missing: c.yaml", "extra: extra.yaml"]
    diff = diff_tree(outputs, out)
    assert diff.index("--- a/a.yaml\n+++ b/a.yaml\n") < diff.index("+++ b/c.yaml") < diff.index("--- a/extra.yaml")
    assert "-a: 2\n+a: 1\n" in diff and "--- /dev/null\n+++ b/c.yaml\n" in diff
    assert "--- a/extra.yaml\n+++ /dev/null\n" in diff
    assert check_tree(outputs, out) == ["stale: a.yaml", "missing: c.yaml", "extra: extra.yaml"]  # diff wrote nothing


def test_odd_file_names(tmp_path: Path) -> None:
    # Legal names on Linux: a backslash, a drive-like `c:`, a line break, bytes that are not UTF-8.
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: b}\n"
    repo = write_files(tmp_path / "repo", {"a\\b.yaml": cm, "c:d.yaml": cm, "line\nbreak.yaml": cm})
    (repo / os.fsdecode(b"caf\xe9.yaml")).write_text(cm)
    result = compile_dir(repo)
    assert not result.errors and len(result.outputs) == 4
    for text in result.outputs.values():
        assert text.startswith("# Source: ") and not load_text(text).problems  # the header stays one line
    assert result.outputs["line\nbreak.yaml"].startswith("# Source: line\\nbreak.yaml:1\n")
    out = tmp_path / "out"
    write_tree(result.outputs, out)
    assert check_tree(result.outputs, out) == []
    assert (out / os.fsdecode(b"caf\xe9.yaml")).is_file()


def test_check_and_diff_read_only_our_folders(tmp_path: Path) -> None:
    # `-o ~/.ssh --diff` must not print someone's private key.
    foreign = write_files(tmp_path / "foreign", {"id_rsa": "-----BEGIN PRIVATE KEY-----\n"})
    for compare in (check_tree, diff_tree):
        with pytest.raises(CompileError, match="refusing to compare with it"):
            compare({"a.yaml": "a: 1\n"}, foreign)
    (tmp_path / "file").write_text("x")
    with pytest.raises(CompileError, match="not a folder"):
        diff_tree({"a.yaml": "a: 1\n"}, tmp_path / "file")
    assert check_tree({"a.yaml": "a: 1\n"}, tmp_path / "new") == ["missing: a.yaml"]


SECRET = """\
# Source: s.yaml:1
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: apps
stringData:
  password: {password}
  user: admin
  cert: |
    -----BEGIN CERTIFICATE-----
    {cert}
type: Opaque
---
# Source: s.yaml:12
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  token: glpat-{token}
"""


def test_diff_masks_secret_values(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree({"s.yaml": SECRET.format(password="hunter2", cert="AAAA", token="a" * 20)}, out)
    diff = diff_tree({"s.yaml": SECRET.format(password="correct-horse", cert="AAAA", token="b" * 20)}, out)
    for secret in ("hunter2", "correct-horse", "AAAA", "a" * 20, "b" * 20):
        assert secret not in diff
    # Which keys changed stays visible, as in `kubectl diff`.
    assert "-  password: *** (before)\n+  password: *** (after)\n" in diff
    assert "   user: ***\n" in diff and "   cert: ***\n" in diff
    assert "glpat-[redacted, 26 characters]" in diff


def test_diff_does_not_show_copied_secrets(tmp_path: Path) -> None:
    out = tmp_path / "out"
    old = {"app/db.env": "DB_PASSWORD=hunter2\n", "app/patch.yaml": "kind: Secret\nstringData: {a: hunter2}\n",
           "app/cm-patch.yaml": "kind: ConfigMap\ndata: {a: one}\n",
           "list.yaml": "# Source: list.yaml:1\nkind: List\nitems:\n  - kind: Secret\n    stringData: {a: hunter2}\n"}
    write_tree(old, out)
    new = {rel: text.replace("hunter2", "swordfish").replace("one", "two") for rel, text in old.items()}
    diff = diff_tree(new, out)
    assert "hunter2" not in diff and "swordfish" not in diff
    for rel in ("app/db.env", "app/patch.yaml", "list.yaml"):
        assert f"Files a/{rel} and b/{rel} differ (not shown" in diff
    assert "-data: {a: one}\n+data: {a: two}\n" in diff  # copied YAML without a Secret is shown


def test_diff_does_not_show_what_a_secret_generator_reads(tmp_path: Path) -> None:
    repo = write_files(tmp_path / "repo", {
        "app/kustomization.yaml": "secretGenerator:\n  - name: db\n    files: [db.yaml]\n",
        "app/db.yaml": "password: hunter-old\n",
    })
    first = compile_dir(repo)
    assert first.secret_files == {"app/db.yaml"}
    write_tree(first.outputs, tmp_path / "out")
    (repo / "app/db.yaml").write_text("password: hunter-new\n")
    second = compile_dir(repo)
    diff = diff_tree(second.outputs, tmp_path / "out", second.secret_files)
    assert "hunter" not in diff
    assert "Files a/app/db.yaml and b/app/db.yaml differ (not shown" in diff


def test_output_folder_follows_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_tree({"a/b.yaml": "b\n"}, tmp_path / "out")
    finally:
        os.umask(old)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755


def test_stream_is_one_yaml_stream(examples: Path) -> None:
    result = compile_dir(examples)
    text = stream(result.outputs)
    loaded = load_text(text)
    assert not loaded.problems
    assert len(loaded.documents) == sum(len(load_text(t).documents) for t in result.outputs.values())
    assert text.count("# Source: ") == len(loaded.documents)


def test_compile_command_end_to_end(tmp_path: Path) -> None:
    import shutil

    from tests.test_cli import run

    repo = tmp_path / "repo"
    shutil.copytree(PROJECT / "examples", repo)
    refused = run(["compile", "-o", "out", "."], repo)
    assert refused.returncode == 1 and "error-level finding" in refused.stderr  # the demo has deliberate errors
    assert not (repo / "out").exists()
    assert run(["compile", "--force", "-o", "out", "."], repo).returncode == 0
    assert (repo / "out" / "clusters/production/apps.yaml").is_file()
    again = run(["compile", "--force", "-o", "out", "--check", "."], repo)  # its own output is not an input
    assert again.returncode == 0, again.stderr
    (repo / "clusters/production/infrastructure.yaml").write_text(
        (repo / "clusters/production/infrastructure.yaml").read_text().replace("interval: 1h", "interval: 2h"))
    stale = run(["compile", "--force", "-o", "out", "--check", "."], repo)
    assert stale.returncode == 1 and "stale: clusters/production/infrastructure.yaml" in stale.stderr
    diff = run(["compile", "--force", "-o", "out", "--diff", "."], repo)
    assert diff.returncode == 1 and "+  interval: 2h0m0s" in diff.stdout
    streamed = run(["compile", "--force", "-o", "-", "."], repo)
    assert streamed.returncode == 0 and "# Source: clusters/production/infrastructure.yaml:1" in streamed.stdout
    # Named from its parent outside git, the folder is the root: the layout is the repository's, not `repo/...`.
    assert run(["compile", "--force", "-o", "parent-out", "repo"], tmp_path).returncode == 0
    assert (tmp_path / "parent-out/clusters/production/apps.yaml").is_file()
    assert not (tmp_path / "parent-out/repo").exists()
    # Usage errors: a stream has nothing to compare with; a file, or someone else's folder, is no output folder.
    assert run(["compile", "--force", "-o", "-", "--check", "."], repo).returncode == 2
    (repo / "notes.txt").write_text("mine")
    for args in (["-o", "notes.txt", "--check"], ["-o", "clusters", "--diff"]):
        refused = run(["compile", "--force", *args, "."], repo)
        assert refused.returncode == 2 and "refusing to compare with it" in refused.stderr, refused.stderr
        assert "kind:" not in refused.stdout


def test_flux_paths_into_the_committed_output_are_not_judged(tmp_path: Path) -> None:
    """A repository may commit its compiled output and point Flux at it: compile does not read that
    folder, so the path is not held against the repository (no REF005 refusal)."""
    from tests.test_cli import run

    repo = write_files(tmp_path / "repo", {
        "apps/kustomization.yaml": "resources: [cm.yaml]\n",
        "apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: apps}\n",
        "clusters/prod/sync.yaml": (
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
            "metadata: {name: apps, namespace: flux-system}\nspec:\n  interval: 10m\n  path: ./compiled/apps\n"
            "  prune: true\n  sourceRef: {kind: GitRepository, name: flux-system}\n"),
    })
    first = run(["compile", "-o", "compiled", "."], repo)
    assert first.returncode == 0, first.stderr
    assert (repo / "compiled/apps/cm.yaml").is_file()
    assert run(["compile", "-o", "compiled", "--check", "."], repo).returncode == 0
    # `check` reads the whole repository, output included: the path exists now.
    assert run(["check", "--select", "REF005", "."], repo).returncode == 0
    # A path into a folder that is no compile output is still judged.
    (repo / "clusters/prod/sync.yaml").write_text(
        (repo / "clusters/prod/sync.yaml").read_text().replace("./compiled/apps", "./missing/apps"))
    refused = run(["compile", "-o", "compiled", "."], repo)
    assert refused.returncode == 1 and "REF005" in refused.stderr


OLD_VERSIONS = {
    "ks.yaml": KUSTOMIZATION_V1BETA2,
    "sources.yaml": """\
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: GitRepository
metadata:
  name: app
  namespace: flux-system
spec:
  interval: 1m
  url: https://gitlab.com/acme/app.git
  ref:
    branch: main
---
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: GitRepository
metadata:
  name: legacy
  namespace: flux-system
spec:
  interval: 1m
  url: https://gitlab.com/acme/legacy.git
  gitImplementation: libgit2
---
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: HelmRepository
metadata:
  name: charts
  namespace: flux-system
spec:
  interval: 60m
  url: https://charts.example.com
""",
    "release.yaml": """\
apiVersion: helm.toolkit.fluxcd.io/v2beta1
kind: HelmRelease
metadata:
  name: app
  namespace: apps
spec:
  interval: 30m
  chart:
    spec:
      chart: app
      version: 1.x
      sourceRef:
        kind: HelmRepository
        name: charts
        namespace: flux-system
  values:
    replicas: 2
""",
    "alerts.yaml": """\
apiVersion: notification.toolkit.fluxcd.io/v1beta2
kind: Provider
metadata:
  name: slack
  namespace: flux-system
spec:
  type: slack
  channel: ops
  secretRef:
    name: slack-url
---
apiVersion: notification.toolkit.fluxcd.io/v1beta2
kind: Alert
metadata:
  name: ops
  namespace: flux-system
spec:
  providerRef:
    name: slack
  eventSeverity: error
  eventSources:
    - kind: Kustomization
      name: '*'
""",
}


@pytest.mark.parametrize("release", ["2.3", "2.9"])
def test_version_migration_golden(release: str) -> None:
    """v1beta2 (and v2beta1) objects moved to each release's storage version; what cannot move is said."""
    result = compile_texts(OLD_VERSIONS, flux_version=release)
    errors = "".join(f"# error {rel}:{line}: {message}\n" for rel, line, message in result.errors)
    golden(f"migrate-versions-{release}.yaml", errors + stream(result.outputs))
    assert [(rel, line) for rel, line, _ in result.errors] == [("sources.yaml", 20)]  # gitImplementation


SOPS_SECRET = """\
# Source: s.yaml:1
apiVersion: v1
kind: Secret
metadata:
    name: db
    namespace: apps
stringData:
    user: {user}
    password: ENC[AES256_GCM,data:{cipher},type:str]
sops:
    encrypted_regex: ^password$
    version: 3.9.0
"""


def test_diff_masks_a_sops_secret_whatever_its_indentation(tmp_path: Path) -> None:
    """sops writes 4-space YAML, and `encrypted_regex` leaves `user` in plain text: masked all the same."""
    out = tmp_path / "out"
    write_tree({"s.yaml": SOPS_SECRET.format(user="plain-old-user", cipher="q8Z1mLk=")}, out)
    diff = diff_tree({"s.yaml": SOPS_SECRET.format(user="plain-new-user", cipher="x9Y2nMj=")}, out)
    for secret in ("plain-old-user", "plain-new-user", "q8Z1mLk=", "x9Y2nMj="):
        assert secret not in diff
    for line in ("-    user: *** (before)\n", "+    user: *** (after)\n", "-    password: *** (before)\n",
                 "+    password: *** (after)\n", "     namespace: apps\n"):
        assert line in diff, diff


GENERATOR = """\
# Source: app/kustomization.yaml:1
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
secretGenerator:
  - literals:
      - PASSWORD={password}
      - USER=admin-literal
      - "QUOTED={password}"
    name: s
  - name: t
    literals:
      - TOKEN={password}
configMapGenerator:
  - literals:
      - COLOR=blue
    name: c
"""


def test_diff_shows_the_keys_of_secret_generator_literals_only(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree({"app/kustomization.yaml": GENERATOR.format(password="CanaryLitOld1")}, out)
    diff = diff_tree({"app/kustomization.yaml": GENERATOR.format(password="CanaryLitNew2")}, out)
    assert "Canary" not in diff and "admin-literal" not in diff, diff
    for line in ("-      - PASSWORD=*** (before)\n", "+      - PASSWORD=*** (after)\n", "       - USER=***\n",
                 "+      - *** (after)\n", "+      - TOKEN=*** (after)\n", "       - COLOR=blue\n"):
        assert line in diff, diff
