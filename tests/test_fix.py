"""`check --fix`: repairs applied as exact text edits; every other byte of the file stays as it was."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_lint.catalogue import load_catalogue
from gitops_lint.cli import main
from gitops_lint.engine import LintOptions, lint
from gitops_lint.fix import plan
from tests.conftest import write_tree

KUSTOMIZATION = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps  # the apps
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps
  prune: {prune}
  wait: {wait}
  retryInterval: 1m
  sourceRef: {{kind: GitRepository, name: flux-system}}
"""
AGENT = """\
# the production agent
gitops:
  manifest_projects:
    - id: acme/app
      reconcile_timeout: 1h  # keep
      prune_timeout: "90m"
      default_namespace: 'apps'
"""


def run(root: Path, *args: str):
    return CliRunner().invoke(main, ["check", "--isolated", "--no-cache", *args, str(root)])


def findings(root: Path) -> list[tuple[str, str, int]]:
    report = json.loads(run(root, "--format", "json").stdout)
    return sorted((d["rule"], d["path"], d["line"]) for d in report["diagnostics"])


def test_fix_repairs_quoted_booleans_and_go_durations_and_keeps_every_other_byte(tmp_path: Path) -> None:
    write_tree(tmp_path, {"apps.yaml": KUSTOMIZATION.format(prune='"true"', wait="'false'"),
                          ".gitlab/agents/prod/config.yaml": AGENT})
    assert {f[0] for f in findings(tmp_path)} >= {"TYP001", "AGT009"}
    result = run(tmp_path, "--fix")
    assert "fixed 4 finding(s) in 2 file(s)" in result.stderr
    assert (tmp_path / "apps.yaml").read_text() == KUSTOMIZATION.format(prune="true", wait="false")
    assert (tmp_path / ".gitlab/agents/prod/config.yaml").read_text() == AGENT.replace(
        "reconcile_timeout: 1h", "reconcile_timeout: 3600s").replace('"90m"', '"5400s"')
    assert not [f for f in findings(tmp_path) if f[0] in ("TYP001", "AGT009")]
    again = run(tmp_path, "--fix")
    assert "fixed 0 finding(s)" in again.stderr


def test_diff_prints_the_fixes_and_writes_nothing(tmp_path: Path) -> None:
    write_tree(tmp_path, {"apps.yaml": KUSTOMIZATION.format(prune='"true"', wait="true")})
    before = (tmp_path / "apps.yaml").read_bytes()
    result = run(tmp_path, "--diff")
    assert result.exit_code == 1
    assert '-  prune: "true"\n+  prune: true\n' in result.stdout
    assert (tmp_path / "apps.yaml").read_bytes() == before
    write_tree(tmp_path, {"apps.yaml": KUSTOMIZATION.format(prune="true", wait="true")})
    clean = run(tmp_path, "--diff")
    assert clean.exit_code == 0 and clean.stdout == ""


def test_sops_files_and_symlinks_are_never_edited(tmp_path: Path) -> None:
    sops = KUSTOMIZATION.format(prune='"true"', wait="true") + "sops:\n  mac: ENC[AES256_GCM,data:x,type:str]\n"
    write_tree(tmp_path, {"sealed.yaml": sops, "real/apps.yaml": KUSTOMIZATION.format(prune='"true"', wait="true")})
    os.symlink("real/apps.yaml", tmp_path / "link.yaml")
    result = run(tmp_path, "--fix")
    assert (tmp_path / "sealed.yaml").read_text() == sops
    assert "sealed.yaml: SOPS-encrypted" in result.stderr
    assert (tmp_path / "link.yaml").is_symlink()


def test_a_file_mode_is_kept(tmp_path: Path) -> None:
    write_tree(tmp_path, {"apps.yaml": KUSTOMIZATION.format(prune='"true"', wait="true")})
    (tmp_path / "apps.yaml").chmod(0o640)
    run(tmp_path, "--fix")
    assert (tmp_path / "apps.yaml").stat().st_mode & 0o777 == 0o640
    assert "prune: true\n" in (tmp_path / "apps.yaml").read_text()


def test_a_stale_fix_is_skipped(tmp_path: Path) -> None:
    """The span no longer reads what the fix expects (the file moved on): nothing is written there."""
    write_tree(tmp_path, {"apps.yaml": KUSTOMIZATION.format(prune='"true"', wait="true")})
    result = lint(LintOptions(paths=["."], cwd=tmp_path, fixing=True))
    source = next(f for f in result.context.files if f.rel == "apps.yaml")
    source.text = source.text.replace('"true"', '"tru"')
    assert plan(result.diagnostics, result.context.files).texts == {}


CATALOGUE = load_catalogue()
FIXABLE = [pytest.param(rule, example, id=f"{rule.id}-{i}") for rule in CATALOGUE.rules if rule.autofix != "none"
           for i, example in enumerate(rule.examples) if example.kind == "bad"]


@pytest.mark.parametrize(("rule", "example"), FIXABLE)
def test_every_fix_of_a_rule_clears_its_bad_examples_where_it_applies(tmp_path: Path, rule, example) -> None:
    write_tree(tmp_path, {example.path: example.content, **dict(example.files)})
    options = LintOptions(paths=["."], cwd=tmp_path, extend_select=[rule.id], fixing=True)
    result = lint(options)
    mine = [d for d in result.diagnostics if d.rule == rule.id]
    fixable = [d for d in mine if d.fix is not None]
    planned = plan(result.diagnostics, result.context.files, unsafe=rule.autofix == "unsafe", root=tmp_path)
    for rel, text in planned.texts.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    after = [d for d in lint(options).diagnostics if d.rule == rule.id]
    assert len(after) == len(mine) - len({(d.path, d.span) for d in fixable if d in planned.fixed})


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(['"true"', "'true'", '"false"', "true", "false", "'false'"]), min_size=2, max_size=2),
       st.lists(st.sampled_from(["", "# a comment", "  # indented comment", "extra: 1  # trailing"]), max_size=3))
def test_fixes_change_only_their_spans_and_a_second_fix_changes_nothing(tmp_path_factory, values, comments) -> None:
    root = tmp_path_factory.mktemp("fix")
    text = KUSTOMIZATION.format(prune=values[0], wait=values[1]) + "".join(c + "\n" for c in comments if c)
    write_tree(root, {"apps.yaml": text})
    run(root, "--fix")
    expected = KUSTOMIZATION.format(prune=values[0].strip("'\""), wait=values[1].strip("'\"")) \
        + "".join(c + "\n" for c in comments if c)
    assert (root / "apps.yaml").read_text() == expected
    assert not [f for f in findings(root) if f[0] == "TYP001"]
    run(root, "--fix")
    assert (root / "apps.yaml").read_text() == expected


#: Lines of a Flux Kustomization, each either as written or with a defect `--fix` repairs: (good, bad).
FIXABLE_LINES = {
    "apiVersion": ("apiVersion: kustomize.toolkit.fluxcd.io/v1", "apiVersion: kustomize.toolkit.fluxcd.io/v1beta2"),
    "interval": ("  interval: '1h30m'", "  interval: '1h 30m'"),
    "prune": ("  prune: true", '  prune: "true"'),
    "wait": ("  wait: false", "  wait: 'false'"),
    "dependsOn": ("  dependsOn: []", "  dependOn: []"),
    "validation": ("", "  validation: client"),  # only with v1beta2, and goes with it
}


@settings(max_examples=40, deadline=None)
@given(st.sets(st.sampled_from(sorted(FIXABLE_LINES))),
       st.lists(st.sampled_from(["", "# a comment", "  # indented comment"]), min_size=8, max_size=8),
       st.sampled_from(["", "  # trailing"]))
def test_property_every_fix_together_changes_only_its_lines(tmp_path_factory, defects, comments, trailing) -> None:
    """Any mix of fixable defects, between any comments: `--fix` gives exactly the clean file (every other
    byte as it was), none of the fixed findings remain, and a second `--fix` changes nothing."""
    if "validation" in defects:
        defects = defects | {"apiVersion"}

    def kustomization(bad: set[str]) -> str:
        line = {k: FIXABLE_LINES[k][k in bad] for k in FIXABLE_LINES}
        body = [line["apiVersion"], "kind: Kustomization", "metadata:", "  name: apps", "  namespace: flux-system",
                "spec:", line["interval"], "  path: ./apps", line["prune"], line["wait"] + trailing,
                line["dependsOn"], line["validation"], "  sourceRef: {kind: GitRepository, name: flux-system}"]
        out = []
        for index, text in enumerate(body):
            if text:
                out.append(text)
            if index >= 5 and comments[index - 5]:  # comments only inside spec, so each is kept in place
                out.append(comments[index - 5])
        return "\n".join(out) + "\n"

    root = tmp_path_factory.mktemp("fix")
    write_tree(root, {"apps.yaml": kustomization(defects)})
    run(root, "--fix")
    expected = kustomization(set())
    assert (root / "apps.yaml").read_text() == expected
    assert not [f for f in findings(root) if f[0] in ("TYP001", "SCH001", "SCH003", "SCH005", "SCH006")]
    run(root, "--fix")
    assert (root / "apps.yaml").read_text() == expected


def test_misspelled_keys_and_spaced_durations(tmp_path: Path) -> None:
    """A key renamed only to the one field that close, and only when the mapping has no such key yet."""
    ks = ("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n"
          "  namespace: flux-system\nspec:\n  interval: '1h 30m'\n  path: ./apps\n  prune: true\n"
          "  sourceRefs: {kind: GitRepository, name: x}\n  sourceRef: {kind: GitRepository, name: flux-system}\n"
          "  dependOn: []  # waits for nothing\n")
    write_tree(tmp_path, {"ks.yaml": ks, ".gitlab/agents/prod/config.yaml": "ci_acess:\n  projects:\n    - id: acme/app\n"})
    run(tmp_path, "--fix")
    assert (tmp_path / "ks.yaml").read_text() == ks.replace("'1h 30m'", "'1h30m'").replace(
        "  dependOn: []", "  dependsOn: []")
    assert (tmp_path / ".gitlab/agents/prod/config.yaml").read_text().startswith("ci_access:\n")
    left = findings(tmp_path)
    assert [f[0] for f in left if f[0] == "SCH003"] == ["SCH003"]  # sourceRefs: its fix would clash with sourceRef


def test_a_removed_api_version_moves_to_the_served_one_with_the_fields_that_did_nothing(tmp_path: Path) -> None:
    """apiVersion alone when the object is valid there; a field the new version lacks and that did nothing
    (`validation`, an empty patch list) goes with it, safely; a field that meant something waits for
    --unsafe-fixes."""
    repo = ("apiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: GitRepository\nmetadata:\n  name: app\n"
            "  namespace: flux-system\nspec:\n  interval: 10m\n  gitImplementation: go-git  # the only one\n"
            "  url: https://gitlab.com/acme/app.git\n  ref:\n    branch: main\n")
    ks = ("apiVersion: kustomize.toolkit.fluxcd.io/v1beta2\nkind: Kustomization\nmetadata:\n  name: apps\n"
          "  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps\n  prune: true\n"
          "  patchesStrategicMerge: []\n  validation: client\n  sourceRef: {kind: GitRepository, name: app}\n")
    moving = ks.replace("name: apps", "name: web").replace("[]", "\n    - {kind: Deployment, metadata: {name: web}}")
    write_tree(tmp_path, {"repo.yaml": repo, "ks.yaml": ks, "web.yaml": moving})
    run(tmp_path, "--fix")
    assert (tmp_path / "repo.yaml").read_text() == repo.replace("/v1beta2", "/v1").replace(
        "  gitImplementation: go-git  # the only one\n", "")
    assert (tmp_path / "ks.yaml").read_text() == ks.replace("/v1beta2", "/v1").replace(
        "  patchesStrategicMerge: []\n  validation: client\n", "")
    assert (tmp_path / "web.yaml").read_text() == moving  # a patch moves only with --unsafe-fixes
    assert [f[:2] for f in findings(tmp_path) if f[0] == "SCH006"] == [("SCH006", "web.yaml")]


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
  sourceRef: {kind: GitRepository, name: flux-system}
  patchesStrategicMerge:
    # more replicas
    - apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 3  # busy

    - apiVersion: v1
      kind: ConfigMap
      metadata: {name: settings}
      data:
        mode: "fast"
  patchesJson6902:
  - target:
      kind: Deployment
      name: web
    patch:
    - op: add
      path: /metadata/labels/tier
      value: front
  # after the patches
  timeout: 2m
"""

KUSTOMIZATION_V1 = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
  patches:
    # more replicas
    - patch: |
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          replicas: 3  # busy

    - patch: |
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: settings}
        data:
          mode: "fast"
    - target:
        kind: Deployment
        name: web
      patch: |
        - op: add
          path: /metadata/labels/tier
          value: front
  # after the patches
  timeout: 2m
"""

APPS = {
    "apps/web.yaml": ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {app: web}\nspec:\n  replicas: 1\n"
                      "  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n"
                      "    spec: {containers: [{name: web, image: nginx}]}\n"),
    "apps/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: slow\n",
}


def test_patches_of_a_removed_kustomization_version_move_into_patches_with_unsafe_fixes(tmp_path: Path) -> None:
    """The patches the API server has been pruning come back as `patches`: comments, blank lines and the
    rest of the file kept. Unsafe: the cluster starts applying them."""
    write_tree(tmp_path, {"clusters/prod/apps.yaml": KUSTOMIZATION_V1BETA2})
    run(tmp_path, "--fix")
    assert (tmp_path / "clusters/prod/apps.yaml").read_text() == KUSTOMIZATION_V1BETA2
    result = run(tmp_path, "--fix", "--unsafe-fixes")
    assert result.exit_code in (0, 1), result.output
    assert (tmp_path / "clusters/prod/apps.yaml").read_text() == KUSTOMIZATION_V1
    assert not [f for f in findings(tmp_path) if f[0] in ("SCH005", "SCH006", "SCH003")]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (kustomize) is not installed")
def test_moved_patches_build_what_the_old_fields_built(tmp_path: Path) -> None:
    """kustomize as the oracle: the old fields written into a kustomization.yaml as Flux's v1beta2
    generator wrote them (objects and operations as JSON strings) and the moved `patches` build the
    same objects."""
    import yaml

    def build(folder: Path, spec: dict) -> str:
        write_tree(folder, {k.removeprefix("apps/"): v for k, v in APPS.items()})
        generated = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                     "resources": ["web.yaml", "settings.yaml"]}
        if "patches" in spec:
            generated["patches"] = spec["patches"]
        if "patchesStrategicMerge" in spec:
            generated["patchesStrategicMerge"] = [json.dumps(p) for p in spec["patchesStrategicMerge"]]
        if "patchesJson6902" in spec:
            generated["patchesJson6902"] = [{"target": p["target"], "patch": json.dumps(p["patch"])}
                                            for p in spec["patchesJson6902"]]
        (folder / "kustomization.yaml").write_text(yaml.safe_dump(generated))
        done = subprocess.run(["kubectl", "kustomize", str(folder)], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    old = build(tmp_path / "old", yaml.safe_load(KUSTOMIZATION_V1BETA2)["spec"])
    new = build(tmp_path / "new", yaml.safe_load(KUSTOMIZATION_V1)["spec"])
    assert old == new
    assert "replicas: 3" in new and "tier: front" in new and "mode: fast" in new


HELMRELEASE_V2BETA1 = """\
apiVersion: helm.toolkit.fluxcd.io/v2beta1
kind: HelmRelease
metadata:
  name: web
  namespace: apps
spec:
  interval: 10m
  chart:
    spec:
      chart: web
      valuesFile: values-prod.yaml
      valuesFiles:
        - extra.yaml
      sourceRef: {kind: HelmRepository, name: charts}
  postRenderers:
    - kustomize:
        patchesStrategicMerge:
          - kind: Deployment
            apiVersion: apps/v1
            metadata: {name: web}
            spec: {replicas: 2}
"""


def test_helmrelease_v2beta1_fields_move_to_v2(tmp_path: Path) -> None:
    write_tree(tmp_path, {"web.yaml": HELMRELEASE_V2BETA1})
    run(tmp_path, "--fix", "--unsafe-fixes")
    assert (tmp_path / "web.yaml").read_text() == HELMRELEASE_V2BETA1.replace("/v2beta1", "/v2").replace(
        "      valuesFile: values-prod.yaml\n      valuesFiles:\n",
        "      valuesFiles:\n        - values-prod.yaml\n").replace(
        "        patchesStrategicMerge:\n          - kind: Deployment\n            apiVersion: apps/v1\n"
        "            metadata: {name: web}\n            spec: {replicas: 2}\n",
        "        patches:\n          - patch: |\n              kind: Deployment\n              apiVersion: apps/v1\n"
        "              metadata: {name: web}\n              spec: {replicas: 2}\n")
    assert not [f for f in findings(tmp_path) if f[0] in ("SCH005", "SCH006", "SCH003")]


@pytest.mark.parametrize("patches", [
    "  patchesStrategicMerge: [{kind: Deployment, metadata: {name: web}}]\n",  # flow style
    "  patchesStrategicMerge:\n    - &web {kind: Deployment, metadata: {name: web}}\n    - *web\n",  # an alias
    "  patchesJson6902:\n    - target: {kind: Deployment}\n      patch: []\n      extra: 1\n",  # not a patch
])
def test_moves_that_cannot_be_written_exactly_are_left_to_a_person(tmp_path: Path, patches: str) -> None:
    ks = ("apiVersion: kustomize.toolkit.fluxcd.io/v1beta2\nkind: Kustomization\nmetadata:\n  name: apps\n"
          "  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps\n  prune: true\n" + patches +
          "  sourceRef: {kind: GitRepository, name: flux-system}\n")
    write_tree(tmp_path, {"ks.yaml": ks})
    run(tmp_path, "--fix", "--unsafe-fixes")
    assert (tmp_path / "ks.yaml").read_text() == ks


LEGACY_AGENT = """\
# production
gitops:
  manifest_projects:
    - id: acme/platform/manifests
      default_namespace: apps
      reconcile_timeout: 30m
ci_access:  # who may deploy
  projects:
    - id: acme/app
"""


def test_the_legacy_gitops_section_moves_to_flux_files_with_unsafe_fixes(tmp_path: Path) -> None:
    """AGT003: the section goes (every other byte stays) and the Flux objects `compile --migrate` makes
    are written beside, headed by the decisions left to a person; never over an existing file."""
    import yaml

    write_tree(tmp_path, {".gitlab/agents/prod/config.yaml": LEGACY_AGENT})
    assert "AGT003" in {f[0] for f in findings(tmp_path)}
    preview = run(tmp_path, "--diff", "--unsafe-fixes")
    assert "--- /dev/null\n+++ b/flux/migrated/prod/manifests.yaml" in preview.stdout
    assert not (tmp_path / "flux").exists()
    run(tmp_path, "--fix")  # the safe fixes only: the protobuf duration
    assert (tmp_path / ".gitlab/agents/prod/config.yaml").read_text() == LEGACY_AGENT.replace("30m", "1800s")
    result = run(tmp_path, "--fix", "--unsafe-fixes")
    assert "wrote 1 new file(s): flux/migrated/prod/manifests.yaml" in result.stderr
    assert (tmp_path / ".gitlab/agents/prod/config.yaml").read_text() == (
        "# production\nci_access:  # who may deploy\n  projects:\n    - id: acme/app\n")
    written = (tmp_path / "flux/migrated/prod/manifests.yaml").read_text()
    assert "`branch: main` is a guess" in written and "targetNamespace: apps" in written
    docs = list(yaml.safe_load_all(written))
    assert [(d["kind"], d["metadata"]["name"]) for d in docs] == [("GitRepository", "prod-manifests"),
                                                                    ("Kustomization", "prod-manifests")]
    assert docs[1]["spec"]["timeout"] == "30m0s" and docs[0]["spec"]["url"].endswith("acme/platform/manifests.git")
    assert not [f for f in findings(tmp_path) if f[0] == "AGT003" or f[1].startswith("flux/") and f[0] != "REF010"]


def test_a_fix_never_writes_over_a_file_that_exists(tmp_path: Path) -> None:
    write_tree(tmp_path, {".gitlab/agents/prod/config.yaml": LEGACY_AGENT,
                          "flux/migrated/prod/manifests.yaml": "# mine\n"})
    result = run(tmp_path, "--fix", "--unsafe-fixes")
    assert "flux/migrated/prod/manifests.yaml, which the fix writes, exists" in result.stderr
    assert "gitops:" in (tmp_path / ".gitlab/agents/prod/config.yaml").read_text()
    assert (tmp_path / "flux/migrated/prod/manifests.yaml").read_text() == "# mine\n"


def test_diff_never_shows_a_secret_value(tmp_path: Path) -> None:
    """A fix in a file holding a Secret: the diff masks every value it shows, context lines too."""
    secret = ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: apps\nimmutable: 'true'\n"
              "stringData:\n  password: hunter2-very-secret\n")
    write_tree(tmp_path, {"secret.yaml": secret})
    result = run(tmp_path, "--diff")
    assert "+immutable: ****" in result.stdout and "hunter2" not in result.stdout + result.stderr
    assert (tmp_path / "secret.yaml").read_text() == secret
    run(tmp_path, "--fix")
    assert (tmp_path / "secret.yaml").read_text() == secret.replace("'true'", "true")


def test_the_text_summary_counts_the_fixes_cache_or_not(tmp_path: Path) -> None:
    """As ruff does: how many findings `--fix` repairs, and how many more `--unsafe-fixes` would; a run
    served from the cache says the same."""
    write_tree(tmp_path, {"apps.yaml": KUSTOMIZATION.format(prune='"true"', wait="'false'"),
                          ".gitlab/agents/prod/config.yaml": LEGACY_AGENT})
    cache = ["--cache-dir", str(tmp_path / ".cache")]
    cold = CliRunner().invoke(main, ["check", "--isolated", *cache, str(tmp_path)])
    warm = CliRunner().invoke(main, ["check", "--isolated", *cache, str(tmp_path)])
    assert "[*] 3 fixable with `gitops-lint check --fix` (1 more with `--fix --unsafe-fixes`)." in cold.stdout
    assert "(all from the cache)" in warm.stdout
    assert warm.stdout.replace(" (all from the cache)", "") == cold.stdout


# --- what an adversarial review found (each was a real bug) -----------------------------------------------


@pytest.mark.parametrize("blocker", ["file", "dangling-link"])
def test_the_section_stays_when_the_file_its_fix_writes_cannot_be(tmp_path: Path, blocker: str) -> None:
    """A file where a folder of the new file's path must be, or a dangling link at its path: the new file
    cannot be written, so the section it replaces is not deleted either."""
    write_tree(tmp_path, {".gitlab/agents/prod/config.yaml": LEGACY_AGENT})
    if blocker == "file":
        (tmp_path / "flux").write_text("x\n")
    else:
        (tmp_path / "flux/migrated/prod").mkdir(parents=True)
        (tmp_path / "flux/migrated/prod/manifests.yaml").symlink_to(tmp_path / "nowhere")
    result = run(tmp_path, "--fix", "--unsafe-fixes")
    assert "which the fix writes, exists" in result.stderr
    assert "gitops:" in (tmp_path / ".gitlab/agents/prod/config.yaml").read_text()


def test_a_project_id_cannot_write_yaml_into_the_new_file_and_its_decisions_head_it(tmp_path: Path) -> None:
    agent = ('gitops:\n  manifest_projects:\n  - id: "acme/app.git\\ndata: injected"\n    default_namespace: apps\n'
             '    dry_run_strategy: server\n')
    write_tree(tmp_path, {".gitlab/agents/prod/config.yaml": agent})
    run(tmp_path, "--fix", "--unsafe-fixes")
    written = next((tmp_path / "flux/migrated/prod").glob("*.yaml")).read_text()
    assert "\ndata: injected" not in written
    assert "dry_run_strategy" in written and "targetNamespace: apps" in written  # the decisions, in its header
    assert [d["kind"] for d in __import__("yaml").safe_load_all(written)] == ["GitRepository", "Kustomization"]


KUSTOMIZE_PATCH_ORDER = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
  patches:
    - patch: |
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec: {replicas: 3}
  patchesStrategicMerge:  # two replicas
    - apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web}
      spec: {replicas: 2}
"""


def test_strategic_merge_patches_go_before_the_patches_they_ran_before(tmp_path: Path) -> None:
    """kustomize ran strategic-merge patches before `patches`: moved, they come first, and the build is
    the same (three replicas, not two); the comment of the key that goes stays with its items."""
    import yaml

    write_tree(tmp_path, {"apps.yaml": KUSTOMIZE_PATCH_ORDER, **APPS})
    run(tmp_path, "--fix", "--unsafe-fixes")
    fixed = (tmp_path / "apps.yaml").read_text()
    assert "patchesStrategicMerge" not in fixed and "  # two replicas\n    - patch: |\n        apiVersion" in fixed
    patches = yaml.safe_load(fixed)["spec"]["patches"]
    assert [yaml.safe_load(p["patch"])["spec"]["replicas"] for p in patches] == [2, 3]
    if shutil.which("kubectl"):
        (tmp_path / "apps/kustomization.yaml").write_text(yaml.safe_dump({
            "resources": ["web.yaml", "settings.yaml"], "patches": patches}))
        built = subprocess.run(["kubectl", "kustomize", str(tmp_path / "apps")], capture_output=True, text=True,
                               timeout=60)
        assert "replicas: 3" in built.stdout, built.stderr


@pytest.mark.parametrize(("spec", "moved"), [
    ("  patchesStrategicMerge:\n    - {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {hostNetwork: yes}}\n",
     True),  # `yes`: a string to kyaml both in the applied object and in patch text, so moving keeps it one
    ("  targetNamespace: apps\n  patchesJson6902:\n    - target: {kind: Deployment, name: web, namespace: apps}\n"
     "      patch:\n        - {op: add, path: /metadata/labels/x, value: y}\n", False),  # ran after the namespace
    ("  patchesJson6902:\n    - target: {kind: Deployment, name: web}\n"
     "      patch:\n        - {op: add, path: /metadata/labels/x, value: y}\n", True),
])
def test_patches_move_only_where_they_keep_their_meaning(tmp_path: Path, spec: str, moved: bool) -> None:
    ks = ("apiVersion: kustomize.toolkit.fluxcd.io/v1beta2\nkind: Kustomization\nmetadata:\n  name: apps\n"
          "  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps\n  prune: true\n"
          "  sourceRef: {kind: GitRepository, name: flux-system}\n" + spec)
    write_tree(tmp_path, {"ks.yaml": ks, **APPS})
    run(tmp_path, "--fix", "--unsafe-fixes")
    assert ((tmp_path / "ks.yaml").read_text() != ks) is moved


def test_an_empty_values_file_is_dropped_safely_and_a_bom_is_kept(tmp_path: Path) -> None:
    hr = ("apiVersion: helm.toolkit.fluxcd.io/v2beta2\nkind: HelmRelease\nmetadata:\n  name: web\n  namespace: apps\n"
          "spec:\n  interval: 10m\n  chart:\n    spec:\n      chart: web\n      valuesFile: \"\"\n"
          "      sourceRef: {kind: HelmRepository, name: charts}\n")
    write_tree(tmp_path, {"hr.yaml": b"\xef\xbb\xbf" + hr.encode()})
    run(tmp_path, "--fix")  # safe: an empty valuesFile was ignored
    assert (tmp_path / "hr.yaml").read_bytes() == b"\xef\xbb\xbf" + hr.replace("/v2beta2", "/v2").replace(
        '      valuesFile: ""\n', "").encode()


def test_a_key_that_is_no_string_is_reported_not_a_crash(tmp_path: Path) -> None:
    write_tree(tmp_path, {".gitlab/agents/prod/config.yaml": "gitops:\n  manifest_projects:\n  - id: acme/x\n  2: 3\n"})
    result = run(tmp_path, "--format", "json")
    assert "internal error" not in result.output
    assert "unknown field '2' in gitops" in result.stdout
