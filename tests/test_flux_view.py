"""Flux's view of a repository: each pattern that made working repositories look broken, in miniature.

Every repository here reconciles in a real cluster; each test pins that
gitops-lint judges what Flux applies (and not the files as they lie), and that
the mistakes Flux does fail on are still found.
"""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from gitops_lint.diagnostics import Severity
from gitops_lint.engine import LintOptions, lint
from tests.conftest import write_tree

BOOTSTRAP = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m
  ref: {branch: main}
  url: https://github.com/example/fleet
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m
  path: ./clusters/prod
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
"""


def flux_ks(name: str, path: str, extra: str = "", source: str = "flux-system") -> str:
    return (f"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n"
            f"  namespace: flux-system\nspec:\n  interval: 10m\n  path: {path}\n  prune: true\n"
            f"  sourceRef:\n    kind: GitRepository\n    name: {source}\n{extra}")


def helm_release(name: str, repo: str, namespace_line: str = "", extra: str = "") -> str:
    return (f"apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: {name}\n"
            f"{namespace_line}spec:\n  interval: 10m\n  chart:\n    spec:\n      chart: {name}\n"
            f"      sourceRef:\n        kind: HelmRepository\n        name: {repo}\n{extra}")


def helm_repository(name: str, namespace_line: str = "") -> str:
    return (f"apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: {name}\n"
            f"{namespace_line}spec:\n  interval: 1h\n  url: https://charts.example.com\n")


def run(root: Path):
    result = lint(LintOptions(paths=["."], cwd=root))
    assert not result.internal_errors, result.internal_errors
    return result


def found(result, rule: str, severity: Severity | None = None) -> list:
    return [d for d in result.diagnostics if d.rule == rule and (severity is None or d.severity is severity)]


def errors(result) -> list:
    return [(d.rule, d.path, d.span.line) for d in result.diagnostics if d.severity is Severity.ERROR]


# --------------------------------------------------------------------------- 1. Flux Operator


def test_flux_instance_sync_objects_exist_for_references(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "clusters/prod/flux-instance.yaml": (
            "apiVersion: fluxcd.controlplane.io/v1\nkind: FluxInstance\nmetadata:\n  name: flux\n"
            "  namespace: flux-system\nspec:\n  distribution:\n    version: 2.x\n    registry: ghcr.io/fluxcd\n"
            "  sync:\n    kind: GitRepository\n    url: https://github.com/example/fleet\n    ref: refs/heads/main\n"
            "    path: clusters/prod\n    name: fleet\n"),
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps", source="fleet"),
        "apps/kustomization.yaml": "resources: [app.yaml]\n",
        "apps/app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: default\n",
    })
    result = run(tmp_path)
    assert not found(result, "REF001"), found(result, "REF001")  # GitRepository/flux-system/fleet is the operator's
    assert not found(result, "REF010")  # apps/ is applied through the operator's sync Kustomization


def test_flux_instance_chart_values_in_a_values_file(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "bootstrap/flux-instance/values.yaml": (
            "instance:\n  sync:\n    kind: GitRepository\n    url: https://github.com/example/fleet\n"
            "    ref: refs/heads/main\n    path: kubernetes/flux\n"),
        "bootstrap/flux-instance/helmrelease.yaml": helm_release("flux-instance", "controlplane",
                                                                 "  namespace: flux-system\n"),
        "bootstrap/flux-instance/repo.yaml": helm_repository("controlplane", "  namespace: flux-system\n"),
        "kubernetes/flux/apps.yaml": flux_ks("apps", "./kubernetes/apps"),
        "kubernetes/apps/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n",
    })
    result = run(tmp_path)
    assert not found(result, "REF001")
    assert [d.path for d in found(result, "REF010")] == ["bootstrap/flux-instance/helmrelease.yaml",
                                                         "bootstrap/flux-instance/repo.yaml"]


def test_a_second_source_for_the_same_repository_is_followed(tmp_path: Path) -> None:
    """A GitRepository of another name with the bootstrap source's URL reads this repository too."""
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/fleet.yaml": (
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: fleet-main\n"
            "  namespace: flux-system\nspec:\n  interval: 5m\n  ref: {branch: main}\n"
            "  url: ssh://git@github.com/example/fleet.git\n"),
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps", source="fleet-main"),
        "apps/release.yaml": helm_release("web", "nowhere", "  namespace: web\n"),
    })
    result = run(tmp_path)
    assert ("REF001", "apps/release.yaml", 13) in errors(result)  # judged: apps/ is applied
    assert not found(result, "REF010")


# --------------------------------------------------------------------------- 2. disabled apps


DISABLED_APPS = {
    "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
    "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
    # No kustomization.yaml in apps/: Flux generates one; the subfolder with its own is one resource.
    "apps/media/kustomization.yaml": "resources:\n  - ./jellyfin\n  # - ./plex (disabled)\n",
    "apps/media/jellyfin/kustomization.yaml": "resources: [release.yaml]\n",
    "apps/media/jellyfin/release.yaml": helm_release("jellyfin", "charts", "  namespace: media\n"),
    "apps/media/plex/kustomization.yaml": "resources: [release.yaml, ../jellyfin/release.yaml]\n",
    "apps/media/plex/release.yaml": helm_release("plex", "missing-repo", "  namespace: media\n"),
    "apps/repos.yaml": helm_repository("charts", "  namespace: media\n"),
}


def test_disabled_app_is_not_judged_and_named_once(tmp_path: Path) -> None:
    write_tree(tmp_path, DISABLED_APPS)
    result = run(tmp_path)
    # plex is commented out: its dangling chart source and the duplicate jellyfin it lists are no errors
    assert errors(result) == []
    assert [d.path for d in found(result, "REF010", Severity.INFO)] == [
        "apps/media/plex/kustomization.yaml", "apps/media/plex/release.yaml"]


def test_the_same_mistake_in_an_applied_app_is_still_an_error(tmp_path: Path) -> None:
    files = dict(DISABLED_APPS)
    files["apps/media/kustomization.yaml"] = "resources:\n  - ./jellyfin\n  - ./plex\n"
    write_tree(tmp_path, files)
    result = run(tmp_path)
    assert ("REF001", "apps/media/plex/release.yaml", 13) in errors(result)
    assert any(rule == "REF008" for rule, _, _ in errors(result))  # jellyfin twice in one build


def test_a_file_that_is_no_object_in_a_generated_kustomization_fails_flux(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
        "apps/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n",
        "apps/values.yaml": "replicaCount: 2\n",
    })
    result = run(tmp_path)
    (finding,) = found(result, "REF012")
    assert (finding.path, finding.span.line) == ("apps/values.yaml", 1)
    assert "Kustomization/flux-system/apps" in finding.message


# --------------------------------------------------------------------------- 3. overlay patches on Flux objects


def test_overlay_patch_on_spec_path_is_followed(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/kustomization.yaml": (
            "resources: [flux-system/gotk-sync.yaml, ../base]\n"
            "patches:\n  - target: {kind: Kustomization, name: apps}\n    patch: |\n"
            "      - op: replace\n        path: /spec/path\n        value: ./apps/prod\n"),
        "clusters/base/kustomization.yaml": "resources: [apps.yaml]\n",
        "clusters/base/apps.yaml": flux_ks("apps", "./apps/placeholder"),
        "apps/prod/kustomization.yaml": "resources: [release.yaml]\n",
        "apps/prod/release.yaml": helm_release("web", "nowhere", "  namespace: web\n"),
    })
    result = run(tmp_path)
    assert not found(result, "REF005")  # ./apps/placeholder is never used: the overlay replaces it
    # what the patched path applies is judged: its dangling chart source is found
    assert ("REF001", "apps/prod/release.yaml", 13) in errors(result)


# --------------------------------------------------------------------------- 4. targetNamespace


def test_target_namespace_places_every_object(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/web.yaml": flux_ks("web", "./apps/web", "  targetNamespace: web\n"),
        # written for namespace `default`; Flux applies both in `web`
        "apps/web/release.yaml": helm_release("web", "charts", "  namespace: default\n"),
        "apps/web/repo.yaml": helm_repository("charts", "  namespace: web\n"),
    })
    result = run(tmp_path)
    assert not found(result, "REF001"), [d.message for d in found(result, "REF001")]


def test_a_replacement_that_writes_target_namespace_places_every_object(tmp_path: Path) -> None:
    """The pattern of a shared replacement: each app folder's Namespace name becomes the targetNamespace of
    its Flux Kustomizations (`create: true`), and Flux applies their objects there."""
    from gitops_lint.engine import load_context

    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/kustomization.yaml": ("resources: [namespace.yaml, web.yaml]\n"
                                             "replacements:\n  - path: ../../components/ks.yaml\n"),
        "clusters/prod/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n",
        "clusters/prod/web.yaml": flux_ks("web", "./apps/web"),
        "components/ks.yaml": ("- source: {kind: Namespace, fieldPath: metadata.name}\n  targets:\n"
                               "    - select: {kind: Kustomization, group: kustomize.toolkit.fluxcd.io}\n"
                               "      fieldPaths: [spec.targetNamespace]\n      options: {create: true}\n"),
        "apps/web/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n",
    })
    ctx = load_context(LintOptions(paths=["."], cwd=tmp_path))
    web = next(a for a in ctx.view.applied if a.key == "Kustomization/flux-system/web")
    assert [r.identity for r in web.resources] == [("", "ConfigMap", "web", "settings")]
    assert web.complete


def test_flux_components_and_patches_are_applied_before_the_namespace(tmp_path: Path) -> None:
    from gitops_lint.engine import load_context

    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/web.yaml": flux_ks("web", "./apps/web", (
            "  targetNamespace: web\n  components: [../../components/monitoring]\n"
            "  patches:\n    - target: {kind: ConfigMap}\n      patch: |\n"
            "        - op: replace\n          path: /metadata/name\n          value: renamed\n")),
        "apps/web/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n",
        "components/monitoring/kustomization.yaml": ("apiVersion: kustomize.config.k8s.io/v1alpha1\n"
                                                     "kind: Component\nresources: [sa.yaml]\n"),
        "components/monitoring/sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: scraper\n",
    })
    ctx = load_context(LintOptions(paths=["."], cwd=tmp_path))
    web = next(a for a in ctx.view.applied if a.key == "Kustomization/flux-system/web")
    assert sorted(r.identity for r in web.resources) == [("", "ConfigMap", "web", "renamed"),
                                                         ("", "ServiceAccount", "web", "scraper")]
    assert "components/monitoring/sa.yaml" in web.files


# Flux writes its own fields into the kustomization of the path before kustomize builds it (fluxcd/pkg
# kustomize_generator.go): the cases below build that rewritten file with kubectl kustomize as the oracle.
_FLUX_MERGE_CASES = {
    "a component gets the file's namespace and labels": (
        "  components: [../../components/extra]\n",
        {"apps/web/kustomization.yaml": ("namespace: media\nlabels:\n  - pairs: {team: web}\n"
                                         "resources: [cm.yaml]\n"),
         "components/extra/kustomization.yaml": ("apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
                                                 "resources: [sa.yaml]\n"),
         "components/extra/sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: scraper\n"},
        "namespace: media\nlabels:\n  - pairs: {team: web}\nresources: [cm.yaml]\ncomponents: [../../components/extra]\n"),
    "a patch runs before the file's name prefix": (
        "  patches:\n    - target: {kind: ConfigMap, name: settings}\n      patch: |\n"
        "        - op: add\n          path: /data\n          value: {patched: 'yes'}\n",
        {"apps/web/kustomization.yaml": "namePrefix: web-\nresources: [cm.yaml]\n"},
        "namePrefix: web-\nresources: [cm.yaml]\npatches:\n  - target: {kind: ConfigMap, name: settings}\n"
        "    patch: |\n      - op: add\n        path: /data\n        value: {patched: 'yes'}\n"),
    "a patch runs before the file's labels": (
        "  patches:\n    - target: {labelSelector: team=web}\n      patch: |\n"
        "        - op: add\n          path: /data\n          value: {patched: 'yes'}\n",
        {"apps/web/kustomization.yaml": "commonLabels: {team: web}\nresources: [cm.yaml]\n"},
        "commonLabels: {team: web}\nresources: [cm.yaml]\npatches:\n  - target: {labelSelector: team=web}\n"
        "    patch: |\n      - op: add\n        path: /data\n        value: {patched: 'yes'}\n"),
    "spec.images merged into the file's images": (
        "  images:\n    - {name: nginx, newTag: '2'}\n    - {name: redis, newName: cache}\n",
        {"apps/web/kustomization.yaml": "images: [{name: nginx, newName: mirror/nginx, digest: 'sha256:1'}]\n"
                                        "resources: [cm.yaml, deploy.yaml]\n",
         "apps/web/deploy.yaml": ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: settings}\nspec:\n"
                                  "  template:\n    spec:\n      containers: [{name: a, image: nginx}, {name: b, image: redis}]\n")},
        "images: [{name: nginx, newName: mirror/nginx, newTag: '2'}, {name: redis, newName: cache}]\n"
        "resources: [cm.yaml, deploy.yaml]\n"),
    "targetNamespace and namePrefix in place of the file's": (
        "  targetNamespace: two\n  namePrefix: flux-\n",
        {"apps/web/kustomization.yaml": "namespace: one\nnamePrefix: file-\nnameSuffix: -s\nresources: [cm.yaml]\n"},
        "namespace: two\nnamePrefix: flux-\nnameSuffix: -s\nresources: [cm.yaml]\n"),
}


@pytest.mark.parametrize("case", sorted(_FLUX_MERGE_CASES))
def test_fluxs_fields_are_built_as_part_of_the_paths_kustomization(tmp_path: Path, case: str) -> None:
    import yaml

    from gitops_lint.engine import load_context

    spec, tree, merged = _FLUX_MERGE_CASES[case]
    write_tree(tmp_path / "repo", {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/web.yaml": flux_ks("web", "./apps/web", spec),
        "apps/web/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n",
        **tree,
    })
    ctx = load_context(LintOptions(paths=["."], cwd=tmp_path / "repo"))
    web = next(a for a in ctx.view.applied if a.key == "Kustomization/flux-system/web")
    assert web.complete and not web.problems
    got = sorted((r.data for r in web.resources), key=repr)
    # Flux's rewritten kustomization.yaml, as its generator writes it
    shutil.copytree(tmp_path / "repo", tmp_path / "flux")
    (tmp_path / "flux/apps/web/kustomization.yaml").write_text(merged)
    if shutil.which("kubectl"):
        out = subprocess.run(["kubectl", "kustomize", "--load-restrictor", "LoadRestrictionsNone",
                              str(tmp_path / "flux/apps/web")], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert got == sorted(yaml.safe_load_all(out.stdout), key=repr)
    expected = {  # what kubectl builds (kustomize 5.5), stated for machines without it
        "a component gets the file's namespace and labels": [
            ("ConfigMap", "media", "settings", {"team": "web"}, None),
            ("ServiceAccount", "media", "scraper", {"team": "web"}, None)],
        "a patch runs before the file's name prefix": [("ConfigMap", None, "web-settings", None, {"patched": "yes"})],
        "a patch runs before the file's labels": [("ConfigMap", None, "settings", {"team": "web"}, None)],
        "targetNamespace and namePrefix in place of the file's": [("ConfigMap", "two", "flux-settings-s", None, None)],
        "spec.images merged into the file's images": [("ConfigMap", None, "settings", None, None),
                                                       ("Deployment", None, "settings", None, None)],
    }[case]
    if case == "spec.images merged into the file's images":
        pod = next(d for d in got if d["kind"] == "Deployment")["spec"]["template"]["spec"]
        assert [c["image"] for c in pod["containers"]] == ["mirror/nginx:2", "cache"]
    assert sorted((d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"], d["metadata"].get("labels"),
                   d.get("data")) for d in got) == expected


def test_a_flux_patch_matches_the_name_before_the_paths_prefix(tmp_path: Path) -> None:
    """Flux's `spec.patches` run before the folder's namePrefix (kustomize's order, in the one kustomization
    Flux writes): the patch names the release as written and gives it the interval it lacks."""
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/repos.yaml": flux_ks("repos", "./repos"),
        "repos/repo.yaml": helm_repository("charts", "  namespace: flux-system\n"),
        "clusters/prod/web.yaml": flux_ks("web", "./apps/web", (
            "  patches:\n    - target: {kind: HelmRelease, name: web}\n      patch: |\n"
            "        - op: add\n          path: /spec/interval\n          value: 10m\n")),
        "apps/web/kustomization.yaml": "namePrefix: team-\nresources: [release.yaml]\n",
        "apps/web/release.yaml": helm_release("web", "charts", "  namespace: flux-system\n").replace(
            "  interval: 10m\n", "", 1),
    })
    assert errors(run(tmp_path)) == []


def test_a_patch_naming_no_object_of_the_build_fails_the_flux_kustomization(tmp_path: Path) -> None:
    """A strategic-merge patch without a target must name an object of the build (kustomize's "no matches for
    Id"); one a Flux component brings counts, as Flux merges the component in first."""
    patch = ("patches:\n  - patch: |\n      apiVersion: v1\n      kind: ConfigMap\n      metadata: {name: %s}\n"
             "      data: {b: '2'}\n")
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/web.yaml": flux_ks("web", "./apps/web", "  components: [../../components/extra]\n"),
        "apps/web/kustomization.yaml": "resources: [cm.yaml]\n" + patch % "extra",
        "apps/web/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n",
        "components/extra/kustomization.yaml": ("apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
                                                "resources: [cm.yaml]\n"),
        "components/extra/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n",
        "clusters/prod/api.yaml": flux_ks("api", "./apps/api"),
        "apps/api/kustomization.yaml": "resources: [cm.yaml]\n" + patch % "missing",
        "apps/api/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n",
    })
    failures = found(run(tmp_path), "REF012")
    assert [(d.path, d.span.line) for d in failures] == [("apps/api/kustomization.yaml", 3)], failures
    assert "no matches for Id" in failures[0].message and "Kustomization/flux-system/api" in failures[0].message


@pytest.mark.parametrize("content, expected", [
    ("resources: [cm.yaml\n", [("REF010", Severity.INFO), ("YAML001", Severity.ERROR)]),
    ("", [("REF010", Severity.INFO)]),
    (flux_ks("other", "./elsewhere"), [("REF010", Severity.INFO), ("REF012", Severity.ERROR)]),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", [("REF010", Severity.INFO), ("REF012", Severity.ERROR)]),
], ids=["does-not-parse", "empty", "a-flux-kustomization", "a-config-map"])
def test_a_kustomization_file_flux_finds_at_its_path_is_the_one_it_builds(tmp_path: Path, content: str,
                                                                          expected: list) -> None:
    """Flux generates a kustomization only where the path has no kustomization file: one that does not parse
    fails the build (its syntax error counts), an empty one lists nothing, and a Flux Kustomization saved as
    kustomization.yaml is read as kustomize's settings and refused for its apiVersion."""
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
        "apps/kustomization.yaml": content,
        "apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: default}\n",
    })
    result = run(tmp_path)
    assert sorted((d.rule, d.severity) for d in result.diagnostics if d.path.startswith("apps/")) == expected
    if shutil.which("kubectl") and content:
        flux_written = tmp_path / "flux"  # the file as Flux rewrites it: its own fields only
        flux_written.mkdir()
        (flux_written / "cm.yaml").write_text((tmp_path / "apps/cm.yaml").read_text())
        (flux_written / "kustomization.yaml").write_text(content.split("spec:")[0])
        assert subprocess.run(["kubectl", "kustomize", str(flux_written)], capture_output=True).returncode != 0


def test_a_variable_in_fluxs_own_fields_is_substituted_in_what_they_write(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/web.yaml": flux_ks("web", "./apps/web", (
            "  images: [{name: nginx, newTag: '${TAG}'}]\n  postBuild:\n    substitute: {TAG: '2.0'}\n")),
        "apps/web/deploy.yaml": ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default}\n"
                                 "spec:\n  template:\n    spec:\n      containers: [{name: a, image: nginx}]\n"),
    })
    web = next(a for a in run(tmp_path).context.view.applied if a.key == "Kustomization/flux-system/web")
    assert [r.data["spec"]["template"]["spec"]["containers"][0]["image"] for r in web.resources] == ["nginx:2.0"]


ODD_VALUES = {  # YAML allows any of these; the linter reports what it can and never crashes
    "apiVersion-list": {"apps/d.yaml": "apiVersion: [apps/v1]\nkind: Deployment\nmetadata: {name: web}\n",
                        "apps/kustomization.yaml": "namespace: x\nresources: [d.yaml]\n"},
    "kind-map": {"apps/d.yaml": "apiVersion: v1\nkind: {a: 1}\nmetadata: {name: web}\n",
                 "apps/kustomization.yaml": ("resources: [d.yaml]\npatches:\n  - target: {namespace: default}\n"
                                             "    patch: '[{\"op\": \"add\", \"path\": \"/x\", \"value\": 1}]'\n")},
    "container-name-list": {
        "apps/d.yaml": ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n"
                        "    spec:\n      containers: [{name: [a], image: x}]\n"),
        "apps/kustomization.yaml": ("resources: [d.yaml]\npatches:\n  - patch: |\n      apiVersion: apps/v1\n"
                                    "      kind: Deployment\n      metadata: {name: web}\n      spec:\n"
                                    "        template:\n          spec:\n            containers: [{name: {x: 1}}]\n")},
    "patch-name-list": {"apps/d.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n",
                        "apps/kustomization.yaml": ("resources: [d.yaml]\npatches:\n  - patch: |\n"
                                                    "      kind: Deployment\n      metadata: {name: [web]}\n")},
    "odd-images-and-replicas": {
        "apps/d.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: [1]\n",
        "apps/kustomization.yaml": ("resources: [d.yaml]\nimages: [{name: [x]}, 3, {name: 'a(', newTag: 1}]\n"
                                    "replicas: [{name: web}, {name: [web], count: x}]\n"
                                    "labels: [{pairs: {a: b}, fields: [{path: 3}, {path: 'spec/x[]/y', create: true}]}]\n")},
}


@pytest.mark.parametrize("case", sorted(ODD_VALUES))
def test_odd_values_in_what_flux_builds_crash_nothing(tmp_path: Path, case: str) -> None:
    from gitops_lint.compile import compile_context

    write_tree(tmp_path, {"clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
                          "clusters/prod/apps.yaml": flux_ks("apps", "./apps"), **ODD_VALUES[case]})
    result = run(tmp_path)  # asserts no internal error
    compile_context(result.context)


# --------------------------------------------------------------------------- 5. model objects and their applied copies
# Where Flux changes an object on the way (targetNamespace), the view holds a copy of it; rules that start
# from the object as written must still find what concerns its copies, and judge the object as written.


def test_a_receiver_wakes_an_object_flux_moves_to_another_namespace(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/web.yaml": flux_ks("web", "./apps/web", "  targetNamespace: web\n"),
        "apps/web/source.yaml": ("apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n"
                                 "  name: app\nspec:\n  interval: 48h\n  url: https://github.com/example/app\n"
                                 "  ref: {branch: main}\n"),
        "apps/web/receiver.yaml": ("apiVersion: notification.toolkit.fluxcd.io/v1\nkind: Receiver\nmetadata:\n"
                                   "  name: push\nspec:\n  type: github\n  secretRef: {name: webhook-token}\n"
                                   "  resources:\n    - kind: GitRepository\n      name: app\n"),
    })
    [finding] = found(run(tmp_path), "INT002")
    assert "a Receiver wakes it" in finding.message, finding.message


def test_a_provider_flux_moves_to_another_namespace_is_still_judged_by_its_secret(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/web.yaml": flux_ks("web", "./apps/web", "  targetNamespace: web\n"),
        "apps/web/provider.yaml": ("apiVersion: notification.toolkit.fluxcd.io/v1beta3\nkind: Provider\nmetadata:\n"
                                   "  name: gitlab\nspec:\n  type: gitlab\n  secretRef: {name: gitlab-token}\n"),
        "apps/web/secret.yaml": ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: gitlab-token\n"
                                 "type: Opaque\ndata:\n  token: ZXhhbXBsZQ==\n"),
    })
    messages = [d.message for d in found(run(tmp_path), "FLX004")]
    assert len(messages) == 1 and "has no address" in messages[0], messages


def test_a_namespace_flux_applies_as_written_is_judged_by_its_name(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/web.yaml": flux_ks("web", "./apps/web"),
        "apps/web/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: Web_App\n",
        # kustomize's namespace transformer renames this one: its written name never reaches the cluster
        "apps/web/renamed/kustomization.yaml": "namespace: shop\nresources: [namespace.yaml]\n",
        "apps/web/renamed/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: _\n",
        "apps/web/kustomization.yaml": "resources: [namespace.yaml, renamed]\n",
    })
    assert [(d.path, d.span.line) for d in found(run(tmp_path), "K8S002")] == [("apps/web/namespace.yaml", 4)]


# --------------------------------------------------------------------------- 6. post-build substitution


def test_substituted_variables_in_typed_fields_are_no_type_errors(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/web.yaml": flux_ks("web", "./apps/web",
                                          "  postBuild:\n    substitute:\n      HISTORY: '5'\n"),
        "apps/web/release.yaml": helm_release("web", "charts", "  namespace: web\n",
                                              "  suspend: ${SUSPEND:=false}\n  maxHistory: ${HISTORY}\n"),
        "apps/web/repo.yaml": helm_repository("charts", "  namespace: web\n"),
    })
    result = run(tmp_path)
    assert not found(result, "TYP001"), [d.message for d in found(result, "TYP001")]


def test_variables_without_post_build_are_still_type_errors(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/web.yaml": flux_ks("web", "./apps/web"),
        "apps/web/release.yaml": helm_release("web", "charts", "  namespace: web\n",
                                              "  suspend: ${SUSPEND:=false}\n"),
        "apps/web/repo.yaml": helm_repository("charts", "  namespace: web\n"),
    })
    result = run(tmp_path)
    assert [d.span.line for d in found(result, "TYP001")] == [14]  # nothing substitutes it: a string for a bool


def test_view_follows_substitute_from_a_committed_config_map(tmp_path: Path) -> None:
    from gitops_lint.engine import load_context

    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/vars.yaml": ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-vars\n"
                                    "  namespace: flux-system\ndata:\n  APP_PATH: ./apps/web\n"),
        "clusters/prod/apps.yaml": flux_ks("apps", "./clusters/apps", (
            "  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: cluster-vars\n")),
        # the parent's post-build variables fill in the child's path
        "clusters/apps/web.yaml": flux_ks("web", "${APP_PATH}", "  postBuild:\n    substitute:\n      NS: web\n"),
        "apps/web/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${NS}\n",
    })
    ctx = load_context(LintOptions(paths=["."], cwd=tmp_path))
    # `${APP_PATH}` is known once the ConfigMap the first round found is read (second round)
    web = next(a for a in ctx.view.applied if a.key == "Kustomization/flux-system/web")
    assert web.folder == "apps/web"
    assert [r.name for r in web.resources] == ["web"]
    assert web.resources[0].transforms == ("postBuild of Kustomization/flux-system/web",)


# --------------------------------------------------------------------------- no entry point


def test_without_an_entry_point_files_are_judged_one_by_one(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "manifests/release.yaml": helm_release("web", "nowhere", "  namespace: web\n"),
    })
    result = run(tmp_path)
    assert ("REF001", "manifests/release.yaml", 13) in errors(result)
    assert not found(result, "REF010")


def test_graph_json_draws_what_flux_applies(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from gitops_lint.cli import main

    write_tree(tmp_path, DISABLED_APPS)
    out = CliRunner().invoke(main, ["graph", str(tmp_path), "--format", "json"])
    assert out.exit_code == 0, out.output
    edges = [(e["source"], e["target"], e["relation"]) for e in json.loads(out.output)["links"]]
    assert ("Kustomization/flux-system/apps", "HelmRelease/media/jellyfin", "applies") in edges
    assert not [e for e in edges if e[1] == "HelmRelease/media/plex" and e[2] == "applies"]


def test_compile_follows_the_patched_path(tmp_path: Path) -> None:
    """compile takes namespaces from the Kustomizations the view follows: the overlay's patched path."""
    import yaml

    from gitops_lint.compile import compile_context

    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/kustomization.yaml": (
            "resources: [flux-system/gotk-sync.yaml, ../base]\n"
            "patches:\n  - target: {kind: Kustomization, name: apps}\n    patch: |\n"
            "      - op: replace\n        path: /spec/path\n        value: ./apps/prod\n"),
        "clusters/base/kustomization.yaml": "resources: [apps.yaml]\n",
        "clusters/base/apps.yaml": flux_ks("apps", "./apps/staging", "  targetNamespace: shop\n"),
        "apps/prod/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n",
        "apps/staging/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n",
    })
    result = lint(LintOptions(paths=["."], cwd=tmp_path))
    outputs = compile_context(result.context).outputs
    prod = [d for d in yaml.safe_load_all(outputs["apps/prod/cm.yaml"]) if d]
    staging = [d for d in yaml.safe_load_all(outputs["apps/staging/cm.yaml"]) if d]
    assert prod[0]["metadata"]["namespace"] == "shop"  # what the cluster applies, in targetNamespace
    assert "namespace" not in staging[0]["metadata"]  # the unpatched base path is applied by nothing


def test_a_broken_file_nothing_reads_is_a_warning(tmp_path: Path) -> None:
    """A file that is not YAML fails a reconcile only where Flux reads it (or GitLab: agent configs, CI)."""
    broken = "- op: add\n  path: /x\ntarget:\n  kind: Pool\n"  # a list, then a mapping: no YAML
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/broken.yaml": broken,
        "terraform/modules/pool-patch.yaml": broken,
        ".gitlab-ci.yml": "build:\n  script: [make]\n- oops\n",
    })
    found = {(d.path, d.rule): d.severity for d in run(tmp_path).diagnostics if d.rule == "YAML001"}
    assert found == {("clusters/prod/broken.yaml", "YAML001"): Severity.ERROR,  # Flux applies it: the build fails
                     ("terraform/modules/pool-patch.yaml", "YAML001"): Severity.WARNING,
                     (".gitlab-ci.yml", "YAML001"): Severity.ERROR}


# --------------------------------------------------------------------------- Flux objects a cluster overlay patches
# The base holds what every cluster shares; each cluster's kustomization patches its Flux objects. Rules judge
# the patched copy Flux applies and point at the base, where the object is written.


def _overlay(patch: str) -> dict:
    return {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/kustomization.yaml": (
            "resources: [flux-system/gotk-sync.yaml, ../base]\n"
            "patches:\n  - target: {kind: Kustomization, name: apps}\n    patch: |\n" + patch),
        "clusters/base/kustomization.yaml": "resources: [apps.yaml]\n",
        "clusters/base/apps.yaml": flux_ks("apps", "./apps", "  retryInterval: 1m\n").replace(
            "prune: true", "prune: false"),
        "apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n",
    }


def test_a_value_a_cluster_overlay_fixes_is_no_finding(tmp_path: Path) -> None:
    write_tree(tmp_path, _overlay("      - op: replace\n        path: /spec/prune\n        value: true\n"))
    assert not found(run(tmp_path), "FLX001")


def test_a_value_a_cluster_overlay_breaks_is_reported_where_the_object_is_written(tmp_path: Path) -> None:
    write_tree(tmp_path, _overlay("      - op: replace\n        path: /spec/interval\n        value: 48h\n"
                                  "      - op: replace\n        path: /spec/retryInterval\n        value: 72h\n"))
    result = run(tmp_path)
    assert [(d.path, d.span.line) for d in found(result, "INT002")] == [("clusters/base/apps.yaml", 7)]
    assert [(d.path, d.span.line) for d in found(result, "INT003")] == [("clusters/base/apps.yaml", 13)]
    assert [(d.path, d.span.line) for d in found(result, "FLX001")] == [("clusters/base/apps.yaml", 9)]
    assert "48h" in found(result, "INT002")[0].message
    assert "after patch from clusters/prod/kustomization.yaml" in found(result, "INT002")[0].message
    assert "after patch" not in found(result, "FLX001")[0].message  # prune: false is the file's own value


def test_a_secret_ref_a_cluster_overlay_adds_is_no_finding(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/kustomization.yaml": (
            "resources: [flux-system/gotk-sync.yaml, ../base]\n"
            "patches:\n  - target: {kind: Provider, name: gitlab}\n    patch: |\n"
            "      - op: add\n        path: /spec/secretRef\n        value: {name: gitlab-token}\n"),
        "clusters/base/kustomization.yaml": "resources: [provider.yaml]\n",
        "clusters/base/provider.yaml": ("apiVersion: notification.toolkit.fluxcd.io/v1beta3\nkind: Provider\n"
                                        "metadata:\n  name: gitlab\n  namespace: flux-system\nspec:\n  type: gitlab\n"
                                        "  address: https://gitlab.com/group/project\n"),
    })
    assert not found(run(tmp_path), "FLX004")


def test_a_provider_secret_a_generator_makes_is_judged_by_its_keys(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/kustomization.yaml": (
            "resources: [flux-system/gotk-sync.yaml, provider.yaml]\n"
            "secretGenerator:\n  - name: gitlab-token\n    namespace: flux-system\n"
            "    literals: [address=https://gitlab.com/group/project]\n    files: [token]\n"
            "generatorOptions: {disableNameSuffixHash: true}\n"),
        "clusters/prod/token": "glpat-not-a-real-token",
        "clusters/prod/provider.yaml": ("apiVersion: notification.toolkit.fluxcd.io/v1beta3\nkind: Provider\n"
                                        "metadata:\n  name: gitlab\n  namespace: flux-system\nspec:\n  type: gitlab\n"
                                        "  secretRef: {name: gitlab-token}\n"),
    })
    assert not found(run(tmp_path), "FLX004")


def test_a_git_secret_a_generator_makes_from_files_outside_the_repository_is_not_judged(tmp_path: Path) -> None:
    """`creds.env` is made in CI (or decrypted by SOPS): its keys are not known here."""
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/kustomization.yaml": (
            "resources: [flux-system/gotk-sync.yaml, repo.yaml]\n"
            "secretGenerator:\n  - name: git-auth\n    namespace: flux-system\n    envs: [creds.env]\n"
            "    literals: [username=git]\ngeneratorOptions: {disableNameSuffixHash: true}\n"),
        "clusters/prod/repo.yaml": ("apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n"
                                    "  name: app\n  namespace: flux-system\nspec:\n  interval: 10m\n"
                                    "  url: https://gitlab.com/a/b.git\n  ref: {branch: main}\n"
                                    "  secretRef: {name: git-auth}\n"),
    })
    assert not found(run(tmp_path), "TOK002")


def test_the_schema_judges_what_a_cluster_overlay_applies(tmp_path: Path) -> None:
    """A placeholder the overlay replaces is no finding; a bad value the overlay brings is one, at the base."""
    write_tree(tmp_path, _overlay("      - op: replace\n        path: /spec/interval\n        value: 10 minutes\n"
                                  "      - op: replace\n        path: /spec/timeout\n        value: 5m\n"))
    base = tmp_path / "clusters/base/apps.yaml"
    base.write_text(base.read_text().replace("  retryInterval: 1m\n", "  timeout: SET-PER-CLUSTER\n"))
    result = run(tmp_path)
    assert [(d.path, d.span.line) for d in found(result, "SCH001")] == [("clusters/base/apps.yaml", 7)], \
        [d.message for d in found(result, "SCH001")]
    assert not found(result, "SCH001")[0].fix  # the file holds 10m: nothing there to repair
    assert found(result, "SCH001")[0].message.endswith(
        "(as Flux applies it, after patch from clusters/prod/kustomization.yaml)")


def test_names_and_namespaces_are_judged_as_flux_applies_them(tmp_path: Path) -> None:
    """A placeholder namespace kustomize overrides is fine, and so is a patch's placeholder name; a name
    prefix that makes a bad name is not (it is reported at the object as written)."""
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/web.yaml": flux_ks("web", "./apps/web"),
        "apps/web/kustomization.yaml": ("namespace: web\nnamePrefix: Web_\nresources: [cm.yaml, sa.yaml]\n"
                                        "patches:\n  - path: patch.yaml\n    target: {kind: ServiceAccount}\n"),
        "apps/web/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: CHANGE_ME\n",
        "apps/web/sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: runner\n",
        "apps/web/patch.yaml": ("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: _\n"
                                "  labels: {tier: web}\n"),
    })
    result = run(tmp_path)
    assert sorted((d.path, d.span.line, d.message.split(" is ")[0]) for d in found(result, "K8S002")) == [
        ("apps/web/cm.yaml", 4, "ConfigMap name 'Web_settings'")]


def test_an_optional_reference_a_parent_patch_adds_is_no_missing_secret(tmp_path: Path) -> None:
    """The home-ops pattern: the parent Kustomization patches `substituteFrom` (optional) into every child."""
    parent = flux_ks("cluster-apps", "./kubernetes/apps", (
        "  patches:\n    - target: {group: kustomize.toolkit.fluxcd.io, kind: Kustomization}\n      patch: |\n"
        "        apiVersion: kustomize.toolkit.fluxcd.io/v1\n        kind: Kustomization\n"
        "        metadata: {name: _}\n        spec:\n          postBuild:\n            substituteFrom:\n"
        "              - {kind: Secret, name: cluster-secrets, optional: true}\n"))
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/apps.yaml": parent,
        "kubernetes/apps/web/ks.yaml": flux_ks("web", "./kubernetes/apps/web/app"),
        "kubernetes/apps/web/app/cm.yaml": ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n"
                                            "data:\n  domain: ${SECRET_DOMAIN:=example.com}\n"),
    })
    assert not found(run(tmp_path), "REF002")


def test_a_folders_replacements_run_after_fluxs_target_namespace(tmp_path: Path) -> None:
    """Flux writes targetNamespace into the folder's kustomization, and kustomize runs replacements last:
    the child Kustomization gets `media`, where its HelmRepository is."""
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps", "  targetNamespace: media\n"),
        "apps/kustomization.yaml": ("resources: [settings.yaml, repo.yaml, child.yaml]\nreplacements:\n"
                                    "  - source: {kind: ConfigMap, name: settings, fieldPath: metadata.namespace}\n"
                                    "    targets:\n      - select: {kind: Kustomization, name: child}\n"
                                    "        fieldPaths: [spec.targetNamespace]\n        options: {create: true}\n"),
        "apps/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\n",
        "apps/repo.yaml": helm_repository("charts"),
        "apps/child.yaml": flux_ks("child", "./child").replace("name: flux-system\n", "name: flux-system\n"
                                                                "    namespace: flux-system\n"),
        "child/release.yaml": helm_release("web", "charts"),
    })
    assert not found(run(tmp_path), "REF001")


def test_each_clusters_copy_is_judged_by_its_own_data(tmp_path: Path) -> None:
    """Two clusters patch the same base: a placeholder both replace is fine, a bad value one brings is not."""
    staging_sync = BOOTSTRAP.replace("./clusters/prod", "./clusters/staging")
    for bad, expected in (("30m", []), ("1 h", [("clusters/base/apps.yaml", 7)])):
        root = tmp_path / bad.replace(" ", "")
        files = _overlay("      - op: replace\n        path: /spec/interval\n        value: 10m\n")
        files["clusters/base/apps.yaml"] = files["clusters/base/apps.yaml"].replace("interval: 10m", "interval: SET")
        files["clusters/staging/flux-system/gotk-sync.yaml"] = staging_sync
        files["clusters/staging/kustomization.yaml"] = files["clusters/prod/kustomization.yaml"].replace(
            "value: 10m", f"value: {bad}")
        write_tree(root, files)
        assert [(d.path, d.span.line) for d in found(run(root), "SCH001")] == expected, bad


def test_agent_rules_judge_what_flux_applies(tmp_path: Path) -> None:
    """FLX002: a name prefix renames the GitRepository and the Receiver alike, so they no longer collide with
    what the agent creates. FLX005: the overlay adds notification-controller to the FluxInstance."""
    agent = "flux:\n  webhook_receiver_url: http://webhook-receiver.flux-system.svc.cluster.local\n"
    write_tree(tmp_path / "prefix", {
        ".gitlab/agents/prod/config.yaml": agent,
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/kustomization.yaml": "resources: [flux-system/gotk-sync.yaml, ../base]\n",
        "clusters/base/kustomization.yaml": "namePrefix: prod-\nresources: [apps.yaml]\n",
        "clusters/base/apps.yaml": (
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: app\n"
            "  namespace: flux-system\nspec:\n  interval: 5m\n  ref: {branch: main}\n"
            "  url: https://gitlab.com/acme/app.git\n---\napiVersion: notification.toolkit.fluxcd.io/v1\n"
            "kind: Receiver\nmetadata:\n  name: gitlab-app\n  namespace: flux-system\nspec:\n  type: gitlab\n"
            "  secretRef: {name: hook}\n  resources:\n    - kind: GitRepository\n      name: '*'\n"),
    })
    assert not found(run(tmp_path / "prefix"), "FLX002")
    write_tree(tmp_path / "operator", {
        ".gitlab/agents/prod/config.yaml": agent,
        "clusters/prod/kustomization.yaml": (
            "resources: [../base]\npatches:\n  - target: {kind: FluxInstance, name: flux}\n    patch: |\n"
            "      - op: add\n        path: /spec/components/-\n        value: notification-controller\n"),
        "clusters/base/kustomization.yaml": "resources: [flux-instance.yaml]\n",
        "clusters/base/flux-instance.yaml": (
            "apiVersion: fluxcd.controlplane.io/v1\nkind: FluxInstance\nmetadata:\n  name: flux\n"
            "  namespace: flux-system\nspec:\n  distribution: {version: 2.x, registry: ghcr.io/fluxcd}\n"
            "  components: [source-controller, kustomize-controller, helm-controller]\n"
            "  sync: {kind: GitRepository, url: https://gitlab.com/acme/fleet.git, ref: refs/heads/main,"
            " path: clusters/prod}\n"),
    })
    assert not found(run(tmp_path / "operator"), "FLX005")


def test_a_quoted_boolean_a_cluster_overlay_replaces_is_no_type_error(tmp_path: Path) -> None:
    files = _overlay("      - op: replace\n        path: /spec/prune\n        value: true\n")
    files["clusters/base/apps.yaml"] = files["clusters/base/apps.yaml"].replace("prune: false", 'prune: "true"')
    write_tree(tmp_path, files)
    assert not found(run(tmp_path), "TYP001")


def test_a_variable_no_post_build_fills_in_is_judged_as_the_text_flux_sends(tmp_path: Path) -> None:
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${APP}-settings\n  labels: {app: '${APP}'}\n"
    write_tree(tmp_path / "forgotten", {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/web.yaml": flux_ks("web", "./apps/web"),
        "apps/web/cm.yaml": cm,
    })
    result = run(tmp_path / "forgotten")
    assert [(d.rule, d.span.line) for d in result.diagnostics if d.rule in ("K8S002", "K8S003")] == [
        ("K8S002", 4), ("K8S003", 5)]
    assert all("add postBuild" in d.message for d in result.diagnostics if d.rule in ("K8S002", "K8S003"))
    write_tree(tmp_path / "substituted", {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/web.yaml": flux_ks("web", "./apps/web", "  postBuild:\n    substituteFrom:\n"
                                                               "      - {kind: ConfigMap, name: vars}\n"),
        "apps/web/cm.yaml": cm,
    })
    assert not [d for d in run(tmp_path / "substituted").diagnostics if d.rule in ("K8S002", "K8S003")]


# --------------------------------------------------------------------------- clusters


def _two_clusters(prod: dict[str, str], staging: dict[str, str], shared: dict[str, str] | None = None) -> dict:
    """Two clusters bootstrapped from one repository (`clusters/prod`, `clusters/staging`), each with the
    files given below its folder, and folders both apply (`shared`)."""
    files = dict(shared or {})
    for name, own in (("prod", prod), ("staging", staging)):
        files[f"clusters/{name}/flux-system/gotk-sync.yaml"] = BOOTSTRAP.replace("./clusters/prod", f"./clusters/{name}")
        files.update({f"clusters/{name}/{rel}": text for rel, text in own.items()})
    return files


def test_a_reference_resolves_only_in_the_clusters_own_objects(tmp_path: Path) -> None:
    # Both clusters apply the shared release; only staging defines its HelmRepository: prod's fails.
    write_tree(tmp_path, _two_clusters(
        prod={"apps.yaml": flux_ks("apps", "./apps")},
        staging={"apps.yaml": flux_ks("apps", "./apps"),
                 "sources.yaml": helm_repository("podinfo", "  namespace: flux-system\n")},
        shared={"apps/release.yaml": helm_release("podinfo", "podinfo", "  namespace: flux-system\n")}))
    result = run(tmp_path)
    [finding] = found(result, "REF001")
    assert (finding.path, finding.span.line, finding.severity) == ("apps/release.yaml", 13, Severity.ERROR)
    assert "only cluster clusters/staging applies, not cluster clusters/prod" in finding.message
    # Defined for both clusters: nothing to say.
    write_tree(tmp_path, {"clusters/prod/sources.yaml": helm_repository("podinfo", "  namespace: flux-system\n")})
    assert not found(run(tmp_path), "REF001")


def test_a_secret_only_another_cluster_applies_is_named_with_its_cluster(tmp_path: Path) -> None:
    secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: webhook\n  namespace: flux-system\n" \
             "stringData:\n  token: x\n"
    receiver = ("apiVersion: notification.toolkit.fluxcd.io/v1\nkind: Receiver\nmetadata:\n  name: hook\n"
                "  namespace: flux-system\nspec:\n  type: generic\n  secretRef:\n    name: webhook\n"
                "  resources:\n    - kind: GitRepository\n      name: flux-system\n")
    write_tree(tmp_path, _two_clusters(prod={"receiver.yaml": receiver},
                                       staging={"receiver.yaml": receiver, "secret.yaml": secret}))
    [finding] = found(run(tmp_path), "REF002")
    assert finding.path == "clusters/prod/receiver.yaml"
    assert "only cluster clusters/staging applies, not cluster clusters/prod" in finding.message


def test_dependencies_of_two_clusters_close_no_cycle_together(tmp_path: Path) -> None:
    # prod: apps waits for infra; staging: infra waits for apps. Each cluster alone has no cycle.
    write_tree(tmp_path, _two_clusters(
        prod={"infra.yaml": flux_ks("infra", "./infra"),
              "apps.yaml": flux_ks("apps", "./apps", "  dependsOn:\n    - name: infra\n")},
        staging={"infra.yaml": flux_ks("infra", "./infra", "  dependsOn:\n    - name: apps\n"),
                 "apps.yaml": flux_ks("apps", "./apps")},
        shared={"infra/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: infra\n",
                "apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: apps\n"}))
    assert not found(run(tmp_path), "REF004")
    # Within one cluster the same two dependencies are a cycle.
    write_tree(tmp_path, {"clusters/prod/infra.yaml": flux_ks("infra", "./infra", "  dependsOn:\n    - name: apps\n")})
    assert {d.path for d in found(run(tmp_path), "REF004")} == {"clusters/prod/infra.yaml", "clusters/prod/apps.yaml"}


def test_a_dependency_suspended_in_another_cluster_only_is_not_waited_for(tmp_path: Path) -> None:
    write_tree(tmp_path, _two_clusters(
        prod={"infra.yaml": flux_ks("infra", "./infra"),
              "apps.yaml": flux_ks("apps", "./apps", "  dependsOn:\n    - name: infra\n")},
        staging={"infra.yaml": flux_ks("infra", "./infra", "  suspend: true\n"),
                 "apps.yaml": flux_ks("apps", "./apps", "  dependsOn:\n    - name: infra\n")},
        shared={"infra/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: infra\n",
                "apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: apps\n"}))
    assert [d.path for d in found(run(tmp_path), "REF009")] == ["clusters/staging/apps.yaml"]


def test_substitute_from_reads_the_clusters_own_config_map(tmp_path: Path) -> None:
    from gitops_lint.engine import load_context

    def own(name: str) -> dict[str, str]:
        return {"vars.yaml": ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-vars\n"
                              f"  namespace: flux-system\ndata:\n  CLUSTER: {name}\n"),
                "apps.yaml": flux_ks("apps", "./apps", "  postBuild:\n    substituteFrom:\n"
                                                       "      - {kind: ConfigMap, name: cluster-vars}\n")}

    write_tree(tmp_path, _two_clusters(own("prod"), own("staging"), shared={
        "apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-${CLUSTER}\n"}))
    ctx = load_context(LintOptions(paths=["."], cwd=tmp_path))
    names = ctx.view.cluster_names
    built = sorted((names[a.cluster], [r.name for r in a.resources]) for a in ctx.view.applied
                   if a.key == "Kustomization/flux-system/apps")
    assert built == [("clusters/prod", ["web-prod"]), ("clusters/staging", ["web-staging"])]


# --------------------------------------------------------------------------- ${VAR} that Flux sends as text


def _interval_from_variable(apps_extra: str = "", web_metadata: str = "") -> dict[str, str]:
    web = flux_ks("web", "./web").replace("interval: 10m", "interval: ${WEB_INTERVAL}")
    return {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps", apps_extra),
        "apps/web.yaml": web.replace("  namespace: flux-system\n", "  namespace: flux-system\n" + web_metadata, 1),
        "web/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n",
    }


def test_a_variable_in_a_schema_field_that_nothing_substitutes_is_judged_as_text(tmp_path: Path) -> None:
    write_tree(tmp_path, _interval_from_variable())
    [finding] = found(run(tmp_path), "SCH001")
    assert (finding.path, finding.span.line) == ("apps/web.yaml", 7)
    assert '"${WEB_INTERVAL}" is not a Flux duration' in finding.message
    assert "add postBuild" in finding.message
    assert not finding.fixable  # the repair is the user's: a variable or a value


def test_a_variable_in_an_object_that_disables_substitution_is_judged_as_text(tmp_path: Path) -> None:
    write_tree(tmp_path, _interval_from_variable(
        apps_extra="  postBuild:\n    substitute:\n      WEB_INTERVAL: 5m\n",
        web_metadata="  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\n"))
    [finding] = found(run(tmp_path), "SCH001")
    assert "kustomize.toolkit.fluxcd.io/substitute: disabled keeps Flux from substituting it" in finding.message


def test_a_variable_that_post_build_fills_in_is_left_to_flux(tmp_path: Path) -> None:
    write_tree(tmp_path / "known", _interval_from_variable("  postBuild:\n    substitute:\n      WEB_INTERVAL: 5m\n"))
    write_tree(tmp_path / "unknown", _interval_from_variable(
        "  postBuild:\n    substituteFrom:\n      - {kind: ConfigMap, name: cluster-vars}\n"))
    assert not found(run(tmp_path / "known"), "SCH001")
    assert not found(run(tmp_path / "unknown"), "SCH001")


def test_a_yaml11_boolean_word_in_a_flux_object_is_the_string_kyaml_reads(tmp_path: Path) -> None:
    # kustomize-controller applies `prune: yes` as "yes" (kyaml, YAML 1.2): the API server refuses it.
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps").replace("prune: true", "prune: yes"),
        "apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: words\ndata:\n  on: yes\n",
    })
    result = run(tmp_path)
    [finding] = found(result, "TYP001")
    assert (finding.path, finding.span.line) == ("clusters/prod/apps.yaml", 9)
    assert "kustomize reads yes as a string, as YAML 1.2 does: write true" in finding.message
    assert finding.fixable  # `yes` -> `true`, what the author meant


def test_a_secret_an_external_secret_makes_where_flux_moves_it_is_provided(tmp_path: Path) -> None:
    # targetNamespace moves the ExternalSecret (written in `default`) to `web`, where the release reads it.
    external_secret = ("apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata:\n  name: web-values\n"
                       "  namespace: default\nspec:\n  target:\n    name: web-values\n")
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/web.yaml": flux_ks("web", "./apps/web", "  targetNamespace: web\n"),
        "apps/web/release.yaml": helm_release("web", "charts", "", "  valuesFrom:\n    - kind: Secret\n"
                                                                   "      name: web-values\n"),
        "apps/web/repo.yaml": helm_repository("charts"),
        "apps/web/external-secret.yaml": external_secret,
    })
    assert not found(run(tmp_path), "REF002")
    # Without the move the Secret is made in `default`, and the release in `web` does not find it.
    write_tree(tmp_path, {"clusters/prod/web.yaml": flux_ks("web", "./apps/web"),
                          "apps/web/release.yaml": helm_release("web", "charts", "  namespace: web\n", (
                              "  valuesFrom:\n    - kind: Secret\n      name: web-values\n"))})
    assert [d.path for d in found(run(tmp_path), "REF002")] == ["apps/web/release.yaml"]


def test_a_shared_base_under_clusters_is_no_cluster_of_its_own(tmp_path: Path) -> None:
    # Without flux-system files, each clusters/<name> holding Flux Kustomizations is an entry point by
    # convention; clusters/base is one too, but prod and staging apply it: it is theirs, so its dependsOn
    # resolves in each of them (and a cluster that lacks `infra` would still be told).
    write_tree(tmp_path, {
        "clusters/base/kustomization.yaml": "resources: [apps.yaml]\n",
        "clusters/base/apps.yaml": flux_ks("apps", "./apps", "  dependsOn:\n    - name: infra\n"),
        "clusters/prod/kustomization.yaml": "resources: [../base, infra.yaml]\n",
        "clusters/prod/infra.yaml": flux_ks("infra", "./infra"),
        "clusters/staging/kustomization.yaml": "resources: [../base, infra.yaml]\n",
        "clusters/staging/infra.yaml": flux_ks("infra", "./infra"),
        "apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n",
        "infra/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: infra\n",
    })
    result = run(tmp_path)
    assert not found(result, "REF001") and not found(result, "REF010")
    (tmp_path / "clusters/staging/infra.yaml").write_text(flux_ks("monitoring", "./infra"))
    [finding] = found(run(tmp_path), "REF001")
    assert "only cluster clusters/prod applies, not cluster clusters/staging" in finding.message


def test_a_reference_kustomize_leaves_behind_a_rename_is_reported(tmp_path: Path) -> None:
    # Flux's spec.namePrefix renames the release's HelmRepository; nothing rewrites the sourceRef.
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/web.yaml": flux_ks("web", "./apps", "  namePrefix: prod-\n"),
        "apps/web/kustomization.yaml": "resources: [release.yaml, repo.yaml]\n",
        "apps/web/release.yaml": helm_release("web", "charts", "  namespace: flux-system\n"),
        "apps/web/repo.yaml": helm_repository("charts", "  namespace: flux-system\n"),
    })
    result = run(tmp_path)
    [finding] = found(result, "REF013")
    assert (finding.path, finding.span.line) == ("apps/web/release.yaml", 13)
    assert "applies that object as HelmRepository/flux-system/prod-charts" in finding.message
    assert not found(result, "REF001")  # one finding, the one that says what happened
    # A nameReference configuration in the folder Flux builds through rewrites it, as kustomize does.
    write_tree(tmp_path, {
        "apps/web/kustomization.yaml": "resources: [release.yaml, repo.yaml]\nconfigurations: [names.yaml]\n",
        "apps/web/names.yaml": ("nameReference:\n  - kind: HelmRepository\n    fieldSpecs:\n"
                                "      - {path: spec/chart/spec/sourceRef/name, kind: HelmRelease}\n"),
    })
    result = run(tmp_path)
    assert not found(result, "REF013") and not found(result, "REF001")


def test_a_required_field_a_patch_sets_on_another_object_only_is_still_missing(tmp_path: Path) -> None:
    # The overlay's patch gives `apps` its interval; `infra`, of the same kind, still has none.
    no_interval = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {}\n" \
                  "  namespace: flux-system\nspec:\n  path: ./{}\n  prune: true\n  sourceRef:\n" \
                  "    kind: GitRepository\n    name: flux-system\n"
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/kustomization.yaml": (
            "resources: [flux-system/gotk-sync.yaml, apps.yaml, infra.yaml]\npatches:\n"
            "  - target: {kind: Kustomization, name: apps}\n    patch: |\n"
            "      - {op: add, path: /spec/interval, value: 10m}\n"),
        "clusters/prod/apps.yaml": no_interval.format("apps", "apps"),
        "clusters/prod/infra.yaml": no_interval.format("infra", "infra"),
        "apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: apps\n",
        "infra/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: infra\n",
    })
    assert [(d.path, "'interval'" in d.message) for d in found(run(tmp_path), "SCH001")] == [
        ("clusters/prod/infra.yaml", True)]


def test_a_generated_name_the_api_server_refuses_is_reported_at_the_generator(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/web.yaml": flux_ks("web", "./apps/web"),
        "apps/web/kustomization.yaml": ("resources: [cm.yaml]\nconfigMapGenerator:\n  - name: web_settings\n"
                                        "    literals: [a=b]\n  - name: web-ok\n    literals: [a=b]\n"),
        "apps/web/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n",
    })
    [finding] = found(run(tmp_path), "K8S002")
    assert (finding.path, finding.span.line, finding.span.column) == ("apps/web/kustomization.yaml", 3, 11)
    assert "'web_settings-" in finding.message and "which this generator makes" in finding.message


def test_a_self_applying_kustomization_inside_a_cluster_is_part_of_that_cluster(tmp_path: Path) -> None:
    # apps/podinfo/ks.yaml applies its own folder (an entry point by its shape), but prod's `apps`
    # applies it: its dependsOn and its release's source resolve in prod.
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
        "clusters/prod/infra.yaml": flux_ks("infra", "./infra"),
        "infra/repo.yaml": helm_repository("podinfo", "  namespace: flux-system\n"),
        "apps/podinfo/ks.yaml": flux_ks("podinfo", "./apps/podinfo", "  dependsOn:\n    - name: infra\n"),
        "apps/podinfo/release.yaml": helm_release("podinfo", "podinfo", "  namespace: flux-system\n"),
    })
    assert not found(run(tmp_path), "REF001")


def test_a_folder_every_cluster_applies_through_a_kustomization_is_no_cluster(tmp_path: Path) -> None:
    # The clusters/<name> convention finds clusters/common too; prod and staging apply it with a
    # Kustomization of their own, so it is theirs.
    write_tree(tmp_path, {
        "clusters/common/apps.yaml": flux_ks("apps", "./apps", "  dependsOn:\n    - name: infra\n"),
        "clusters/prod/common.yaml": flux_ks("common", "./clusters/common"),
        "clusters/prod/infra.yaml": flux_ks("infra", "./infra"),
        "clusters/staging/common.yaml": flux_ks("common", "./clusters/common"),
        "clusters/staging/infra.yaml": flux_ks("infra", "./infra"),
        "apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n",
        "infra/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: infra\n",
    })
    assert not found(run(tmp_path), "REF001")


def test_an_entry_point_reached_only_once_variables_are_known_is_part_of_that_cluster(tmp_path: Path) -> None:
    # tenants/team-a applies itself (an entry point by its shape); prod reaches it only through a path
    # its ConfigMap fills in, in the view's second round.
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/infra.yaml": flux_ks("infra", "./infra", (
            "  postBuild:\n    substituteFrom:\n      - {kind: ConfigMap, name: vars}\n")),
        "clusters/prod/vars.yaml": ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: vars\n"
                                    "  namespace: flux-system\ndata:\n  tenant_path: ./tenants/team-a\n"),
        "clusters/prod/repo.yaml": helm_repository("charts", "  namespace: flux-system\n"),
        "infra/tenant.yaml": flux_ks("tenant", "${tenant_path}"),
        "tenants/team-a/ks.yaml": flux_ks("team-a", "./tenants/team-a"),
        "tenants/team-a/release.yaml": helm_release("web", "charts", "  namespace: flux-system\n"),
    })
    assert not found(run(tmp_path), "REF001")


def test_each_cluster_keeps_its_own_variables_when_an_entry_point_is_dropped(tmp_path: Path) -> None:
    # a-tenants/team-a (an entry point by its shape, sorted first) is prod's, through prod's variables; the
    # view is followed again without it, and dev's variables stay dev's: prod never applies tenants-dev.
    files = {"infra/tenant.yaml": flux_ks("tenant", "${tenant_path}"),
             "a-tenants/team-a/ks.yaml": flux_ks("team-a", "./a-tenants/team-a"),
             "a-tenants/team-a/release.yaml": helm_release("web", "charts", "  namespace: flux-system\n"),
             "tenants-dev/release.yaml": helm_release("web", "dev-charts", "  namespace: flux-system\n")}
    for name, path, charts in (("prod", "./a-tenants/team-a", "charts"), ("dev", "./tenants-dev", "dev-charts")):
        files.update({
            f"clusters/{name}/flux-system/gotk-sync.yaml": BOOTSTRAP.replace("./clusters/prod", f"./clusters/{name}"),
            f"clusters/{name}/infra.yaml": flux_ks("infra", "./infra", (
                "  postBuild:\n    substituteFrom:\n      - {kind: ConfigMap, name: vars}\n")),
            f"clusters/{name}/vars.yaml": ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: vars\n"
                                           f"  namespace: flux-system\ndata:\n  tenant_path: {path}\n"),
            f"clusters/{name}/repo.yaml": helm_repository(charts, "  namespace: flux-system\n")})
    write_tree(tmp_path, files)
    result = run(tmp_path)
    assert not found(result, "REF001") and not found(result, "REF010")


def test_the_view_knows_which_values_no_output_may_show(tmp_path: Path) -> None:
    """`FluxView.secret_texts`: what Secrets hand to other objects, and Secret values changed on the way
    that no written Secret holds; a Secret's written values (masked where they stand) and a ConfigMap's are
    not among them."""
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps", "  postBuild:\n    substituteFrom:\n"
                                           "      - {kind: Secret, name: vars}\n      - {kind: ConfigMap, name: plain}\n"),
        "clusters/prod/vars.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: vars, namespace: flux-system}\n"
                                   "stringData: {FROM_VARS: substituted-secret}\n---\napiVersion: v1\nkind: ConfigMap\n"
                                   "metadata: {name: plain, namespace: flux-system}\ndata: {PLAIN: not-secret}\n",
        "apps/kustomization.yaml": "resources: [secret.yaml]\npatches:\n  - patch: |-\n      apiVersion: v1\n"
                                   "      kind: Secret\n      metadata: {name: db}\n      stringData: {pin: patched-pin}\n",
        "apps/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: default}\n"
                            "stringData: {pin: written-pin, user: written-user}\n",
    })
    result = run(tmp_path)
    texts = result.context.view.secret_texts
    assert {"substituted-secret", "patched-pin"} <= texts
    assert not texts & {"not-secret", "written-pin", "written-user"}, texts


def test_a_path_a_source_include_fills_is_not_judged(tmp_path: Path) -> None:
    """`spec.include` copies another repository into `toPath` (by default its name) of the artifact Flux
    builds: a path there is no folder of this repository, and no error."""
    bootstrap = BOOTSTRAP.replace("  url: https://github.com/example/fleet\n", (
        "  url: https://github.com/example/fleet\n  include:\n    - repository: {name: policies}\n"
        "      toPath: vendor/policies\n    - repository: {name: charts}\n"))
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": bootstrap,
        "clusters/prod/included.yaml": flux_ks("policies", "./vendor/policies/base") + "---\n"
                                       + flux_ks("charts", "./charts") + "---\n" + flux_ks("typo", "./vendr/policies"),
    })
    result = run(tmp_path)
    assert [d.message for d in found(result, "REF005")] == [
        "spec.path './vendr/policies' does not exist in this repository"]  # a typo beside them still is one


def test_sources_a_resource_set_makes_exist(tmp_path: Path) -> None:
    """A Flux Operator ResourceSet makes what its `resources` list, names its inputs fill in included."""
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/tenants.yaml": (
            "apiVersion: fluxcd.controlplane.io/v1\nkind: ResourceSet\nmetadata: {name: tenants, namespace: flux-system}\n"
            "spec:\n  inputs: [{tenant: team1}]\n  resources:\n    - apiVersion: source.toolkit.fluxcd.io/v1\n"
            "      kind: GitRepository\n      metadata: {name: << inputs.tenant >>, namespace: flux-system}\n"
            "      spec: {interval: 5m, url: https://gitlab.com/acme/x.git, ref: {branch: main}}\n"
            "    - apiVersion: source.toolkit.fluxcd.io/v1\n      kind: OCIRepository\n"
            "      metadata: {name: charts, namespace: flux-system}\n"
            "      spec: {interval: 5m, url: oci://registry.example.com/charts}\n---\n"
            + flux_ks("team1", "./deploy", source="team1") + "---\n"
            + flux_ks("charts", "./deploy", source="charts").replace("kind: GitRepository\n    name: charts",
                                                                     "kind: OCIRepository\n    name: charts")
            + "---\n" + flux_ks("missing", "./deploy").replace("kind: GitRepository\n    name: flux-system",
                                                               "kind: OCIRepository\n    name: missing")),
    })
    result = run(tmp_path)
    assert [d.message.split(",")[0] for d in found(result, "REF001")] == [
        "sourceRef names OCIRepository/flux-system/missing"], [d.message for d in found(result, "REF001")]


def test_the_same_repository_pinned_to_another_revision_is_not_judged_by_the_working_tree(tmp_path: Path) -> None:
    pinned = ("apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: {name: pinned, "
              "namespace: flux-system}\nspec:\n  interval: 1m\n  url: https://github.com/example/fleet\n"
              "  ref: {tag: v2.0.0}\n---\n")
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/pinned.yaml": pinned + flux_ks("release", "./releases/v2", source="pinned"),
        "clusters/prod/same.yaml": pinned.replace("pinned", "same").replace("{tag: v2.0.0}", "{branch: main}")
                                   + flux_ks("same", "./missing", source="same"),
    })
    result = run(tmp_path)
    # the tag's tree is not the working tree: nothing to say; the same branch is the working tree
    assert [d.message for d in found(result, "REF005")] == ["spec.path './missing' does not exist in this repository"]


def test_a_helm_charts_files_are_helms_to_apply(tmp_path: Path) -> None:
    """A chart kept in the repository (a folder with Chart.yaml) is installed by Helm through a HelmRelease:
    its `crds/` hold no file a Kustomization forgot (REF010); a stray manifest beside it still is one."""
    crd = ("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n"
           "  name: widgets.example.com\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n"
           "  scope: Namespaced\n  versions: []\n")
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/app.yaml": helm_release("app", "unused", "  namespace: flux-system\n").replace(
            "        kind: HelmRepository\n        name: unused",
            "        kind: GitRepository\n        name: flux-system").replace("chart: app", "chart: ./charts/app"),
        "charts/app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 1.0.0\n",
        "charts/app/crds/widget.yaml": crd,
        "stray/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stray}\n",
    })
    result = run(tmp_path)
    assert [d.path for d in found(result, "REF010")] == ["stray/cm.yaml"]


@pytest.mark.parametrize("ignore", [
    {".sourceignore": "# not for Flux\n/apps/web/values.yaml\n"},
    {"apps/web/.sourceignore": "values.yaml\n"},
    {"apps/.sourceignore": "web/values.yaml\n"},
    {"spec.ignore": "/apps/web/values.yaml\n"},
    {},
])
def test_what_the_source_leaves_out_of_its_artifact_is_not_built(tmp_path: Path, ignore: dict) -> None:
    """source-controller drops what `.sourceignore` files and `spec.ignore` name from the artifact: the
    kustomization Flux generates for a path does not list it (a values file there would fail the build)."""
    bootstrap, fails = BOOTSTRAP, not ignore
    if "spec.ignore" in ignore:
        bootstrap = bootstrap.replace("  url: https://github.com/example/fleet\n",
                                      "  url: https://github.com/example/fleet\n  ignore: |\n    "
                                      + ignore.pop("spec.ignore"))
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": bootstrap,
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps/web"),
        "apps/web/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n",
        "apps/web/values.yaml": "replicaCount: 2\n",
        **ignore,
    })
    result = run(tmp_path)
    assert bool(found(result, "REF012")) == fails, errors(result)


@pytest.mark.parametrize(("ignore", "entry"), [
    ({".sourceignore": "*.values.yaml\n"}, "web.values.yaml"),
    ({"apps/web/.sourceignore": "extra/\n"}, "extra"),
    ({"spec.ignore": "/apps/web/patch.yaml\n"}, "patch.yaml"),
    ({".sourceignore": "/apps/web/cm.yaml\n!/apps/web/cm.yaml\n"}, None),  # re-included: nothing left out
])
def test_a_file_a_kustomization_names_but_the_artifact_leaves_out_fails_the_build(
        tmp_path: Path, ignore: dict, entry: str | None) -> None:
    """kustomize-controller builds from the artifact: a file a kustomization lists that `.sourceignore` or
    `spec.ignore` drops is not there, and the build fails (checked with kubectl kustomize on that copy)."""
    bootstrap = BOOTSTRAP
    if "spec.ignore" in ignore:
        bootstrap = bootstrap.replace("  url: https://github.com/example/fleet\n",
                                      "  url: https://github.com/example/fleet\n  ignore: |\n    "
                                      + ignore.pop("spec.ignore"))
    app = {
        "apps/web/kustomization.yaml": ("resources:\n  - cm.yaml\n  - web.values.yaml\n  - extra\n"
                                        "patches:\n  - path: patch.yaml\n"),
        "apps/web/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n",
        "apps/web/web.values.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: values}\n",
        "apps/web/extra/kustomization.yaml": "resources: [cm.yaml]\n",
        "apps/web/extra/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n",
        "apps/web/patch.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {a: b}\n",
    }
    write_tree(tmp_path, {"clusters/prod/flux-system/gotk-sync.yaml": bootstrap,
                          "clusters/prod/apps.yaml": flux_ks("apps", "./apps/web"), **app, **ignore})
    result = run(tmp_path)
    problems = found(result, "REF012")
    if entry is None:
        assert not problems, errors(result)
        return
    (problem,) = problems
    assert problem.path == "apps/web/kustomization.yaml" and problem.severity == Severity.ERROR
    assert f"{entry!r} is not in the artifact" in problem.message
    line = next(i for i, text in enumerate(app["apps/web/kustomization.yaml"].splitlines(), 1) if entry in text)
    assert problem.span.line == line
    if shutil.which("kubectl"):
        artifact = tmp_path / "artifact"
        dropped = {"web.values.yaml": "web.values.yaml", "extra": "extra/kustomization.yaml",
                   "patch.yaml": "patch.yaml"}[entry]
        write_tree(artifact, {rel: text for rel, text in app.items() if rel != f"apps/web/{dropped}"})
        built = subprocess.run(["kubectl", "kustomize", str(artifact / "apps/web")], capture_output=True, text=True)
        assert built.returncode != 0, built.stdout
        whole = subprocess.run(["kubectl", "kustomize", str(tmp_path / "apps/web")], capture_output=True, text=True)
        assert whole.returncode == 0, whole.stderr


LOCKDOWN = ("resources: [gotk-sync.yaml]\npatches:\n  - patch: |\n      - op: add\n"
            "        path: /spec/template/spec/containers/0/args/-\n        value: --no-cross-namespace-refs={value}\n"
            "    target:\n      kind: Deployment\n"
            "      name: \"(kustomize-controller|helm-controller|notification-controller)\"\n")
TENANT = ("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: tenant\n"
          "  namespace: apps\nspec:\n  interval: 10m\n  path: ./tenant\n  prune: true\n"
          "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n    namespace: flux-system\n")


@pytest.mark.parametrize(("value", "refused"), [("true", True), ("false", False)])
def test_a_clusters_lockdown_patch_refuses_cross_namespace_references(tmp_path: Path, value, refused) -> None:
    """`flux bootstrap`'s multi-tenancy lockdown patches --no-cross-namespace-refs=true into the controllers:
    in that cluster a Kustomization may not use a source of another namespace (REF011), without a rule option."""
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/flux-system/kustomization.yaml": LOCKDOWN.format(value=value),
        "clusters/prod/tenant.yaml": TENANT,
        "tenant/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: t, namespace: apps}\n",
    })
    result = run(tmp_path)
    problems = found(result, "REF011")
    assert [(d.path, d.span.line) for d in problems] == ([("clusters/prod/tenant.yaml", 13)] if refused else [])
    if refused:
        assert "kustomize-controller runs with --no-cross-namespace-refs=true (patched in " \
               "clusters/prod/flux-system/kustomization.yaml)" in problems[0].message


def test_a_lockdown_counts_in_its_own_cluster_only(tmp_path: Path) -> None:
    """Two clusters share the tenant; only staging runs locked down: the finding names staging's patch. A
    Kustomization only the open cluster applies is not judged."""
    staging = BOOTSTRAP.replace("clusters/prod", "clusters/staging")
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/tenant.yaml": TENANT,
        "clusters/prod/only.yaml": TENANT.replace("name: tenant", "name: only"),
        "clusters/staging/flux-system/gotk-sync.yaml": staging,
        "clusters/staging/flux-system/kustomization.yaml": LOCKDOWN.format(value="true"),
        "clusters/staging/tenant.yaml": TENANT,
        "tenant/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: t, namespace: apps}\n",
    })
    problems = found(run(tmp_path), "REF011")
    assert [d.path for d in problems] == ["clusters/staging/tenant.yaml"], [d.message for d in problems]
    assert "clusters/staging/flux-system/kustomization.yaml" in problems[0].message


def test_a_multitenant_flux_instance_refuses_cross_namespace_references(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "clusters/prod/flux-instance.yaml": (
            "apiVersion: fluxcd.controlplane.io/v1\nkind: FluxInstance\nmetadata:\n  name: flux\n"
            "  namespace: flux-system\nspec:\n  distribution:\n    version: 2.x\n    registry: ghcr.io/fluxcd\n"
            "  cluster:\n    multitenant: true\n"
            "  sync:\n    kind: GitRepository\n    url: https://github.com/example/fleet\n    ref: refs/heads/main\n"
            "    path: clusters/prod\n    name: flux-system\n"),
        "clusters/prod/tenant.yaml": TENANT,
        "tenant/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: t, namespace: apps}\n",
    })
    problems = found(run(tmp_path), "REF011")
    assert [d.path for d in problems] == ["clusters/prod/tenant.yaml"], [d.message for d in problems]
    assert "cluster.multitenant in clusters/prod/flux-instance.yaml" in problems[0].message


CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s}\n"


@pytest.mark.parametrize(("files", "path", "expected"), [
    # Flux's default exclusions (`**/.sops.yaml`, `*.png`, ...) hold only while no rule exists anywhere
    ({"clusters/prod/.sops.yaml": "creation_rules: []\n"}, "./clusters/prod", []),
    ({"clusters/prod/.sops.yaml": "creation_rules: []\n", "docs/.sourceignore": "*.drawio\n"}, "./clusters/prod",
     [("clusters/prod/.sops.yaml", 1)]),
    ({"apps/app/kustomization.yaml": "configMapGenerator:\n  - name: logo\n    files: [logo.png]\n",
      "apps/app/logo.png": "PNG"}, "./apps/app", [("apps/app/kustomization.yaml", 3)]),
    ({"apps/app/kustomization.yaml": "configMapGenerator:\n  - name: logo\n    files: [logo.png]\n",
      "apps/app/logo.png": "PNG", ".sourceignore": "/docs/\n"}, "./apps/app", []),
    # every .sourceignore counts, scoped to its folder: off the path too, and below it
    ({"apps/prod/kustomization.yaml": "resources: [../base]\n",
      "apps/base/kustomization.yaml": "resources: [cm.yaml, extra.yaml]\n", "apps/base/cm.yaml": CM % "a",
      "apps/base/extra.yaml": CM % "b", "apps/base/.sourceignore": "extra.yaml\n"},
     "./apps/prod", [("apps/base/kustomization.yaml", 1)]),
    ({"apps/podinfo/cm.yaml": CM % "a", "apps/podinfo/values.yaml": "replicaCount: 2\n",
      "apps/podinfo/.sourceignore": "values.yaml\n"}, "./apps", []),
    # a kustomization file the artifact lacks: Flux generates one (listing what is there)
    ({"apps/podinfo/kustomization.yaml": "resources: [cm.yaml]\nhelmCharts: [{name: x}]\n",
      "apps/podinfo/cm.yaml": CM % "a", "apps/podinfo/.sourceignore": "kustomization.yaml\n"}, "./apps/podinfo", []),
    ({"apps/podinfo/kustomization.yaml": "resources: [cm.yaml]\n", "apps/podinfo/cm.yaml": CM % "a",
      "apps/podinfo/values.yaml": "replicaCount: 2\n", ".sourceignore": "apps/podinfo/kustomization.yaml\n"},
     "./apps/podinfo", [("apps/podinfo/values.yaml", 1)]),
    # go-git's matching, not git's: a `!folder/` re-includes the files below it
    ({"apps/podinfo/kustomization.yaml": "resources: [cm.yaml, cm-dev.yaml]\n", "apps/podinfo/cm.yaml": CM % "a",
      "apps/podinfo/cm-dev.yaml": CM % "b", ".sourceignore": "*-dev.yaml\n!apps/podinfo/\n"}, "./apps/podinfo", []),
    # lines Flux reads as patterns that match nothing; leading spaces are part of a pattern
    ({"apps/podinfo/kustomization.yaml": "resources: [cm.yaml, extra.yaml]\n", "apps/podinfo/cm.yaml": CM % "a",
      "apps/podinfo/extra.yaml": CM % "b", ".sourceignore": "!\n\\\\\na\\\\\n[z-a]\n[]a]\n  extra.yaml\n"},
     "./apps/podinfo", []),
], ids=["defaults", "defaults-dropped", "default-png", "png-kept", "off-the-path", "below-the-path",
        "ignored-kustomization", "generated-instead", "negated-folder", "odd-lines"])
def test_the_artifact_is_what_fluxs_sourceignore_leaves(tmp_path: Path, files: dict, path: str, expected: list) -> None:
    """source-controller's artifact, as `fluxcd/pkg/sourceignore` and `storage.SourceIgnoreFilter` make it:
    the REF012 errors of each case are those kubectl kustomize gives on a copy of that artifact."""
    write_tree(tmp_path, {"clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
                          "clusters/prod/apps.yaml": flux_ks("apps", path) if path != "./clusters/prod" else "",
                          **files})
    result = run(tmp_path)
    assert [(d.path, d.span.line) for d in found(result, "REF012")] == expected, \
        [d.message for d in found(result, "REF012")]


@pytest.mark.parametrize(("files", "path", "expected"), [
    # an allowlist that forgot the folder a path leads to (the folder is not in the artifact at all)
    ({"bundles/app/kustomization.yaml": "resources: [cm.yaml]\n", "bundles/app/cm.yaml": CM % "a",
      ".sourceignore": "/*\n!/clusters/\n"}, "./bundles/app", [("clusters/prod/apps.yaml", 8)]),
    ({"bundles/app/kustomization.yaml": "resources: [cm.yaml]\n", "bundles/app/cm.yaml": CM % "a",
      ".sourceignore": "/*\n!/clusters/\n!/bundles/\n"}, "./bundles/app", []),
    # a component of the Flux Kustomization that the artifact lacks
    ({"apps/app/kustomization.yaml": "resources: [cm.yaml]\n", "apps/app/cm.yaml": CM % "a",
      "apps/components/ha/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n",
      ".sourceignore": "/apps/components/\n"}, "./apps/app", [("clusters/prod/apps.yaml", 14)]),
], ids=["allowlist-forgot-the-path", "allowlist", "component"])
def test_a_path_or_component_the_artifact_lacks_fails_the_kustomization(tmp_path: Path, files, path, expected):
    extra = "  components:\n    - ../components/ha\n" if "apps/components/ha/kustomization.yaml" in files else ""
    write_tree(tmp_path, {"clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
                          "clusters/prod/apps.yaml": flux_ks("apps", path, extra), **files})
    result = run(tmp_path)
    assert [(d.path, d.span.line) for d in found(result, "REF012")] == expected, \
        [d.message for d in found(result, "REF012")]


@pytest.mark.parametrize(("files", "expected"), [
    ({"apps/list.yaml": "apiVersion: v1\nkind: List\nitems:\n  - " + (CM % "a").replace("\n", "\n    ").rstrip()
      + "\n  - " + (CM % "a").replace("\n", "\n    ").rstrip() + "\n"}, [("apps/list.yaml", 9)]),
    ({"apps/cm.yaml": CM % "a",
      "apps/list.yaml": "apiVersion: v1\nkind: ConfigMapList\nitems:\n  - " + (CM % "a").replace("\n", "\n    ").rstrip()
      + "\n"}, [("apps/list.yaml", 6)]),
    ({"apps/list.yaml": "apiVersion: v1\nkind: List\nitems:\n  - " + (CM % "a").replace("\n", "\n    ").rstrip()
      + "\n  - " + (CM % "b").replace("\n", "\n    ").rstrip() + "\n"}, []),
], ids=["twice-in-a-list", "a-list-item-and-a-file", "distinct"])
def test_a_list_item_that_repeats_an_object_fails_the_build(tmp_path: Path, files: dict, expected: list) -> None:
    """kustomize reads a `<Kind>List`'s items as resources: one that repeats another's id fails the build
    (checked with kubectl kustomize)."""
    write_tree(tmp_path, {"clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
                          "clusters/prod/apps.yaml": flux_ks("apps", "./apps"), **files})
    result = run(tmp_path)
    assert [(d.path, d.span.line) for d in found(result, "REF008")] == expected, \
        [d.message for d in found(result, "REF008")]
    if shutil.which("kubectl"):
        write_tree(tmp_path, {"apps/kustomization.yaml": "resources: [%s]\n" % ", ".join(
            sorted(rel.rpartition("/")[2] for rel in files))})
        built = subprocess.run(["kubectl", "kustomize", str(tmp_path / "apps")], capture_output=True, text=True)
        assert (built.returncode != 0) == bool(expected), built.stderr


TWO_CMS = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {a: x}\n---\n" \
          "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {c: y}\n"


def test_a_replacement_into_a_list_a_strategic_merge_patch_merged_is_not_judged(tmp_path: Path) -> None:
    """kustomize merges volumeMounts by mountPath (the view by name): the mount at /data is still there for
    kustomize, so the replacement finds its field; the view does not claim the build fails."""
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
        "apps/kustomization.yaml": (
            "resources: [deploy.yaml, cm.yaml]\npatches:\n  - patch: |\n      apiVersion: apps/v1\n"
            "      kind: Deployment\n      metadata: {name: web}\n      spec:\n        template:\n          spec:\n"
            "            containers:\n              - name: app\n                volumeMounts:\n"
            "                  - {name: data, mountPath: /other}\n"
            "replacements:\n  - source: {kind: ConfigMap, name: paths, fieldPath: data.sub}\n    targets:\n"
            "      - select: {kind: Deployment, name: web}\n        fieldPaths:\n"
            "          - spec.template.spec.containers.[name=app].volumeMounts.[mountPath=/data].subPath\n"),
        "apps/deploy.yaml": ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n"
                             "    spec:\n      containers:\n        - name: app\n          image: web\n"
                             "          volumeMounts:\n            - {name: data, mountPath: /data, subPath: old}\n"),
        "apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: paths}\ndata: {sub: new}\n",
    })
    assert not found(run(tmp_path), "REF012")
    if shutil.which("kubectl"):
        built = subprocess.run(["kubectl", "kustomize", str(tmp_path / "apps")], capture_output=True, text=True)
        assert built.returncode == 0 and "subPath: new" in built.stdout, built.stderr


@pytest.mark.parametrize(("replacement", "fails"), [
    ("source: {kind: ConfigMap, name: a, fieldPath: data.a}\n    targets:\n"
     "      - select: {kind: ConfigMap, name: b}\n        fieldPaths: [data.c]\n", False),
    ("source: {kind: ConfigMap, name: a, fieldPath: data.a}\n    targets:\n"
     "      - select: {kind: ConfigMap, name: b}\n        fieldPaths: [data.b]\n", True),  # no such field
    ("source: {kind: ConfigMap, name: a, fieldPath: data.a}\n    targets:\n"
     "      - select: {kind: ConfigMap, name: b}\n        fieldPaths: [data.b]\n        options: {create: true}\n",
     False),
    ("source: {kind: ConfigMap, name: zz, fieldPath: data.a}\n    targets:\n"
     "      - select: {kind: ConfigMap, name: b}\n        fieldPaths: [data.c]\n", True),  # nothing selected
    ("source: {kind: ConfigMap, fieldPath: data.a}\n    targets:\n"
     "      - select: {kind: ConfigMap, name: b}\n        fieldPaths: [data.c]\n", True),  # two sources
    ("source: {kind: ConfigMap, name: a, fieldPath: data.zz}\n    targets:\n"
     "      - select: {kind: ConfigMap, name: b}\n        fieldPaths: [data.c]\n", True),  # no source field
    ("source: {kind: ConfigMap, name: vals, fieldPath: data.host}\n    targets:\n"
     "      - select: {kind: ConfigMap, name: b}\n        fieldPaths: [data.c]\n"
     "namePrefix: p-\nconfigMapGenerator: [{name: vals, literals: [host=example.com]}]\n", False),
], ids=["fine", "missing-target-field", "created", "no-source", "two-sources", "missing-source-field",
        "generated-and-prefixed-source"])
def test_a_replacement_kustomize_cannot_carry_out_fails_the_build(tmp_path: Path, replacement: str, fails: bool):
    """kustomize fails a build whose replacement selects no single source, or reads or writes a field that
    is not there (without `create`): checked with kubectl kustomize."""
    kustomization = f"resources: [cm.yaml]\nreplacements:\n  - {replacement}"
    write_tree(tmp_path, {"clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
                          "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
                          "apps/kustomization.yaml": kustomization, "apps/cm.yaml": TWO_CMS})
    problems = found(run(tmp_path), "REF012")
    assert [(d.path, d.span.line) for d in problems] == ([("apps/kustomization.yaml", 3)] if fails else []), \
        [d.message for d in problems]
    if shutil.which("kubectl"):
        built = subprocess.run(["kubectl", "kustomize", str(tmp_path / "apps")], capture_output=True, text=True)
        assert (built.returncode != 0) == fails, built.stderr


_IMAGE_AND_APP = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {a: repo-tag}\n---\n"
                  "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec:\n  template:\n    spec:\n"
                  "      containers: [{name: app, image: nginx}, {name: side, image: busybox}]\n")


@pytest.mark.parametrize(("replacement", "fails", "written"), [
    ("source: {kind: ConfigMap, name: a, fieldPath: data.a}\n    targets:\n      - select: {kind: Deployment}\n"
     "        fieldPaths: [spec.template.spec.containers.1.image]\n", False, ["nginx", "repo-tag"]),
    ("source: {kind: ConfigMap, name: a, fieldPath: data.a}\n    targets:\n      - select: {kind: Deployment}\n"
     "        fieldPaths: [spec.template.spec.containers.2.image]\n", True, None),  # only 2 elements
    ("source: {kind: ConfigMap, name: a, fieldPath: data.a}\n    targets:\n      - select: {kind: Deployment}\n"
     "        fieldPaths: [spec.template.spec.containers.2.image]\n        options: {create: true}\n",
     False, ["nginx", "busybox", "repo-tag"]),  # one past the end: appended
    ("source: {kind: ConfigMap, name: a, fieldPath: data.a}\n    targets:\n      - select: {kind: Deployment}\n"
     "        fieldPaths: [spec.template.spec.containers.3.image]\n        options: {create: true}\n", True, None),
    ("source: {kind: Deployment, name: app, fieldPath: spec.template.spec.containers.1.image}\n    targets:\n"
     "      - select: {kind: Deployment}\n        fieldPaths: [spec.template.spec.containers.0.image]\n",
     False, ["busybox", "busybox"]),
    ("source: {kind: Deployment, name: app, fieldPath: spec.template.spec.containers.4.image}\n    targets:\n"
     "      - select: {kind: Deployment}\n        fieldPaths: [spec.template.spec.containers.0.image]\n", True, None),
    ("source: {kind: ConfigMap, name: a, fieldPath: data.a, options: {delimiter: '-', index: 1}}\n    targets:\n"
     "      - select: {kind: Deployment}\n        fieldPaths: [spec.template.spec.containers.0.image]\n",
     False, ["tag", "busybox"]),
    ("source: {kind: ConfigMap, name: a, fieldPath: data.a, options: {delimiter: '-', index: 2}}\n    targets:\n"
     "      - select: {kind: Deployment}\n        fieldPaths: [spec.template.spec.containers.0.image]\n", True, None),
    ("source: {kind: ConfigMap, name: a, fieldPath: data.a, options: {delimiter: '-', index: -1}}\n    targets:\n"
     "      - select: {kind: Deployment}\n        fieldPaths: [spec.template.spec.containers.0.image]\n", True, None),
], ids=["index", "index-past-the-end", "index-appended", "index-beyond-append", "source-index",
        "source-index-missing", "source-part", "source-part-out-of-bounds", "source-part-negative"])
def test_replacement_indexes_and_source_parts_as_kustomize_reads_them(tmp_path: Path, replacement: str, fails: bool,
                                                                       written: list | None) -> None:
    """A number in a field path indexes a list (`containers.1`); with `create`, one past the end appends and
    further fails. A source's `options.index` out of its delimited parts fails. Checked with kubectl kustomize."""
    write_tree(tmp_path, {"clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
                          "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
                          "apps/kustomization.yaml": f"resources: [r.yaml]\nreplacements:\n  - {replacement}",
                          "apps/r.yaml": _IMAGE_AND_APP})
    result = run(tmp_path)
    problems = found(result, "REF012")
    assert [(d.path, d.span.line) for d in problems] == ([("apps/kustomization.yaml", 3)] if fails else []), \
        [d.message for d in problems]
    if written is not None:
        deployment = next(a for a in result.context.view.applied for r in a.resources if r.kind == "Deployment")
        data = next(r.data for r in deployment.resources if r.kind == "Deployment")
        assert [c.get("image") for c in data["spec"]["template"]["spec"]["containers"]] == written
    if shutil.which("kubectl"):
        built = subprocess.run(["kubectl", "kustomize", str(tmp_path / "apps")], capture_output=True, text=True)
        assert (built.returncode != 0) == fails, built.stderr
        if written is not None:
            deployment = next(d for d in yaml.safe_load_all(built.stdout) if d["kind"] == "Deployment")
            assert [c.get("image") for c in deployment["spec"]["template"]["spec"]["containers"]] == written


TENANT_HR = ("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\n"
             "  namespace: apps\nspec:\n  interval: 10m\n  chart:\n    spec:\n      chart: podinfo\n"
             "      sourceRef:\n        kind: HelmRepository\n        name: podinfo\n        namespace: flux-system\n")
ALL_FIVE = "(kustomize-controller|helm-controller|notification-controller|image-reflector-controller|image-automation-controller)"


def lockdown_patch(value: str = "true", name: str = ALL_FIVE, comment: bool = False) -> str:
    op = f"      - op: add\n        path: /spec/template/spec/containers/0/args/-\n        value: --no-cross-namespace-refs={value}\n"
    if comment:
        op = "      - op: add\n        path: /spec/template/spec/containers/0/args/-\n        value: --concurrent=20\n" \
             + "".join(f"      # {line[6:]}\n" for line in op.splitlines())
    return f"  - patch: |\n{op}    target:\n      kind: Deployment\n      name: \"{name}\"\n"


@pytest.mark.parametrize(("files", "refused"), [
    # the bootstrap lockdown: both the Kustomization's and the HelmRelease's source are refused
    ({"clusters/prod/flux-system/kustomization.yaml": "resources: [gotk-sync.yaml]\npatches:\n" + lockdown_patch()},
     ["sourceRef", "chart.sourceRef"]),
    # dependsOn is never checked against the lockdown
    ({"clusters/prod/flux-system/kustomization.yaml": "resources: [gotk-sync.yaml]\npatches:\n" + lockdown_patch(),
      "clusters/prod/tenant.yaml": TENANT.replace("    namespace: flux-system\n", "") + "  dependsOn:\n"
      "    - {name: apps, namespace: flux-system}\n"}, ["chart.sourceRef"]),
    # a flag in a comment is no flag
    ({"clusters/prod/flux-system/kustomization.yaml": "resources: [gotk-sync.yaml]\npatches:\n"
      + lockdown_patch(comment=True)}, []),
    # a target by labels: which Deployments it reaches is not in the repository
    ({"clusters/prod/flux-system/kustomization.yaml": "resources: [gotk-sync.yaml]\npatches:\n"
      + lockdown_patch().replace('      name: "' + ALL_FIVE + '"\n', "      labelSelector: app=flux\n")}, []),
    # the overlay's patch runs after its base's: the last value wins, per controller
    ({"clusters/prod/flux-system/kustomization.yaml": "resources: [../../../infra/flux]\npatches:\n"
      + lockdown_patch("false", "helm-controller"),
      "infra/flux/kustomization.yaml": "resources: [../../clusters/prod/flux-system/gotk-sync.yaml]\npatches:\n"
      + lockdown_patch()}, ["sourceRef"]),
    # a Flux Kustomization's own spec.patches, which kustomize-controller applies to its build
    ({"clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP + "  patches:\n" + textwrap.indent(lockdown_patch(), "  ")},
     ["sourceRef", "chart.sourceRef"]),
    # a Kustomization with a kubeConfig builds another cluster's configuration
    ({"clusters/prod/spoke.yaml": flux_ks("spoke", "./spokes/flux", "  kubeConfig:\n    secretRef:\n"
                                          "      name: spoke-kubeconfig\n"),
      "spokes/flux/kustomization.yaml": "resources: [cm.yaml]\npatches:\n" + lockdown_patch(),
      "spokes/flux/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: spoke, namespace: default}\n"}, []),
    # a wildcard is refused like a name (notification-controller checks the namespace first)
    ({"clusters/prod/flux-system/kustomization.yaml": "resources: [gotk-sync.yaml]\npatches:\n" + lockdown_patch(),
      "clusters/prod/tenant.yaml": "apiVersion: notification.toolkit.fluxcd.io/v1beta3\nkind: Alert\nmetadata:\n"
      "  name: all\n  namespace: apps\nspec:\n  providerRef: {name: slack}\n  eventSources:\n"
      "    - {kind: HelmRelease, name: '*', namespace: flux-system}\n"}, ["chart.sourceRef", "eventSources"]),
    # a namespace post-build substitution fills in: not told
    ({"clusters/prod/flux-system/kustomization.yaml": "resources: [gotk-sync.yaml]\npatches:\n" + lockdown_patch(),
      "clusters/prod/release.yaml": TENANT_HR.replace("        namespace: flux-system", "        namespace: ${SRC_NS}")},
     ["sourceRef"]),
    # objects a kubeConfig Kustomization applies live in the other cluster: this one's lockdown does not hold
    ({"clusters/prod/flux-system/kustomization.yaml": "resources: [gotk-sync.yaml]\npatches:\n" + lockdown_patch(),
      "clusters/prod/release.yaml": flux_ks("remote", "./remote", "  kubeConfig:\n    secretRef:\n"
                                            "      name: remote-kubeconfig\n"), "remote/hr.yaml": TENANT_HR},
     ["sourceRef"]),
], ids=["lockdown", "depends-on", "commented", "label-target", "overlay-order", "spec-patches", "spoke", "wildcard",
        "substituted-namespace", "remote-cluster"])
def test_which_references_a_lockdown_refuses(tmp_path: Path, files: dict, refused: list) -> None:
    write_tree(tmp_path, {"clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP, "clusters/prod/tenant.yaml": TENANT,
                          "clusters/prod/release.yaml": TENANT_HR, **files})
    problems = found(run(tmp_path), "REF011")
    assert sorted(d.message.split(" ")[0] for d in problems) == sorted(refused), [d.message for d in problems]


def test_an_empty_list_document_is_dropped_and_a_list_without_items_is_said_so(tmp_path: Path) -> None:
    """kustomize drops a `[]` document as it drops `{}` (no TYP001 beside objects), and passes a `List`
    without items on as it is (checked with kubectl kustomize): said as that, not as a missing name."""
    write_tree(tmp_path, {"clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
                          "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
                          "apps/cm.yaml": (CM % "a") + "---\n[]\n---\n{}\n", "apps/list.yaml": "apiVersion: v1\nkind: List\n"})
    result = run(tmp_path)
    assert not found(result, "TYP001")
    (problem,) = found(result, "REF012")
    assert problem.path == "apps/list.yaml" and problem.message.startswith("this List has no items")


def test_a_symbolic_link_is_in_no_artifact(tmp_path: Path) -> None:
    """source-controller archives regular files only (fluxcd/flux2#3619): a symlinked manifest a
    kustomization lists is missing in Flux's build, and one in a generated folder is not applied."""
    write_tree(tmp_path, {"clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
                          "clusters/prod/apps.yaml": flux_ks("apps", "./apps") + "---\n" + flux_ks("more", "./more"),
                          "common/cm.yaml": CM % "common", "apps/kustomization.yaml": "resources: [cm.yaml]\n",
                          "more/own.yaml": CM % "own"})
    (tmp_path / "apps/cm.yaml").symlink_to("../common/cm.yaml")
    (tmp_path / "more/linked.yaml").symlink_to("../common/cm.yaml")
    result = run(tmp_path)
    (problem,) = found(result, "REF012")
    assert (problem.path, problem.span.line) == ("apps/kustomization.yaml", 1)
    assert "apps/cm.yaml is a symbolic link" in problem.message
    assert not [d for d in result.diagnostics if d.path == "more/linked.yaml" and d.severity is Severity.ERROR]
    assert "more/linked.yaml" not in {f for applied in result.context.view.applied for f in applied.files}


@pytest.mark.parametrize("in_git", [False, True], ids=["walk", "git"])
def test_a_symlinked_generator_input_is_in_no_artifact(tmp_path: Path, in_git: bool) -> None:
    write_tree(tmp_path, {"clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
                          "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
                          "apps/kustomization.yaml": "configMapGenerator:\n  - name: app\n    files: [app.properties]\n",
                          "apps/real/app.properties": "a=b\n"})
    (tmp_path / "apps/app.properties").symlink_to("real/app.properties")
    if in_git:
        subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
        subprocess.run(["git", "-C", str(tmp_path), "add", "-A"], check=True)
    (problem,) = found(run(tmp_path), "REF012")
    assert (problem.path, problem.span.line) == ("apps/kustomization.yaml", 3)
    assert "apps/app.properties is a symbolic link" in problem.message


@pytest.mark.parametrize(("strategy", "judged"), [("Always", False), ("", True)])
def test_substitute_strategy_always_substitutes_without_any_variable(tmp_path: Path, strategy: str,
                                                                     judged: bool) -> None:
    """Flux 2.9's `postBuild.substituteStrategy: Always` substitutes even with no variable, so defaults
    apply (fluxcd/pkg kustomize_varsub.go); without it, `${...}` reaches the API server as text."""
    post_build = f"  postBuild:\n    substituteStrategy: {strategy}\n" if strategy else ""
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps", post_build),
        "apps/child.yaml": flux_ks("child", "./other", "").replace("interval: 10m", "interval: ${INT:=10m}")
        .replace("prune: true", "prune: ${PRUNE:=true}"),
        "other/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
    })
    result = run(tmp_path)
    bad = [d.rule for d in result.diagnostics if d.path == "apps/child.yaml" and d.severity is Severity.ERROR]
    assert bool(bad) == judged, bad


def test_a_variable_in_a_typed_field_is_left_to_flux_when_one_folder_is_checked(tmp_path: Path) -> None:
    """Checked alone, a folder has no Flux view to say whether a Kustomization substitutes it: `${...}`
    in a boolean field is left to Flux, as it is in the whole repository's check."""
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps", "  postBuild:\n    substitute: {PRUNE: 'true'}\n"),
        "apps/child.yaml": flux_ks("child", "./other", "").replace("prune: true", "prune: ${PRUNE:=true}"),
        "other/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
    })
    for paths in (["."], ["apps"], ["apps/child.yaml"]):
        result = lint(LintOptions(paths=paths, cwd=tmp_path))
        assert not found(result, "TYP001"), (paths, [d.message for d in result.diagnostics])


def test_a_path_to_a_folder_without_manifests_is_a_warning_not_a_missing_folder(tmp_path: Path) -> None:
    """Flux builds a folder with no YAML (a .gitkeep, a README) as an empty kustomization and is Ready
    (fluxcd/pkg kustomize_generator.go: the `_placeholder` namespace); only a folder that is not there fails."""
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps") + "---\n" + flux_ks("gone", "./gone"),
        "apps/.gitkeep": "", "apps/README.md": "later\n",
    })
    result = run(tmp_path)
    assert [(d.severity, d.message) for d in found(result, "REF005")] == [
        (Severity.WARNING, "spec.path './apps' holds no manifests: Flux applies nothing, and prune deletes what it "
                           "applied before"),
        (Severity.ERROR, "spec.path './gone' does not exist in this repository")]


def test_a_file_a_generator_reads_is_data_and_its_yaml_problems_fail_no_build(tmp_path: Path) -> None:
    """kustomize hashes a configMapGenerator's `files` as bytes and never parses them (kubectl kustomize
    builds each of these): their YAML problems are warnings; the same problem in a manifest stays an error."""
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
        "apps/kustomization.yaml": ("resources: [cm.yaml]\nconfigMapGenerator:\n"
                                    "  - {name: vals, namespace: default, files: [values.yaml, conf=tabbed.yaml]}\n"
                                    "secretGenerator:\n  - {name: creds, namespace: default, files: [creds.yaml]}\n"),
        "apps/values.yaml": "a: 1\na: 2\n",
        "apps/tabbed.yaml": "x: [unclosed\n",
        "apps/creds.yaml": "password: x\npassword: y\n",
        "apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\ndata: {k: v, k: w}\n",
    })
    result = run(tmp_path)
    assert sorted((d.path, d.rule, d.severity) for d in result.diagnostics if d.rule.startswith("YAML")) == [
        ("apps/cm.yaml", "YAML002", Severity.ERROR), ("apps/creds.yaml", "YAML002", Severity.WARNING),
        ("apps/tabbed.yaml", "YAML001", Severity.WARNING), ("apps/values.yaml", "YAML002", Severity.WARNING)]
    if shutil.which("kubectl"):
        (tmp_path / "apps/cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
        built = subprocess.run(["kubectl", "kustomize", str(tmp_path / "apps")], capture_output=True, text=True)
        assert built.returncode == 0, built.stderr


def test_a_resource_file_without_an_extension_is_there(tmp_path: Path) -> None:
    """kustomize reads `resources: [cm]` when `cm` is a file (kubectl kustomize builds it); only a name that
    is neither a file nor a folder is missing."""
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
        "apps/kustomization.yaml": "resources: [cm, gone]\n",
        "apps/cm": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\n",
    })
    assert [d.message for d in found(run(tmp_path), "REF006")] == ["resources[1] entry 'gone' names no file or folder"]
    if shutil.which("kubectl"):
        (tmp_path / "apps/kustomization.yaml").write_text("resources: [cm]\n")
        built = subprocess.run(["kubectl", "kustomize", str(tmp_path / "apps")], capture_output=True, text=True)
        assert built.returncode == 0 and "name: a" in built.stdout, built.stderr


def test_a_name_a_variable_from_outside_the_repository_fills_in_may_be_the_name_referenced(tmp_path: Path) -> None:
    """`infra-${CLUSTER_NAME}` with CLUSTER_NAME in a ConfigMap of the cluster may be `infra-prod`: Flux
    substitutes the whole object, its name too (fluxcd/pkg kustomize_varsub.go); no error for a dependsOn on
    it. A name of another shape is still missing."""
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps", (
            "  postBuild:\n    substituteFrom: [{kind: ConfigMap, name: cluster-vars}]\n")),
        "apps/infra.yaml": flux_ks("infra-${CLUSTER_NAME}", "./infra"),
        "apps/late.yaml": flux_ks("late", "./infra", "  dependsOn: [{name: infra-prod}, {name: apps-prod}]\n"),
        "infra/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\n",
    })
    assert [d.message.split(",")[0] for d in found(run(tmp_path), "REF001", Severity.ERROR)] == [
        "dependsOn names Kustomization/flux-system/apps-prod"]


def test_a_duplicate_key_in_a_kustomization_file_is_a_warning(tmp_path: Path) -> None:
    """kustomize and Flux read kustomization files with sigs.k8s.io/yaml, which keeps the later value (kubectl
    kustomize names the object y-a): a warning there; a manifest's duplicate key fails the build (an error)."""
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
        "apps/kustomization.yaml": "resources: [base, cm.yaml]\n",
        "apps/base/kustomization.yaml": "resources: [cm.yaml]\nnamePrefix: x-\nnamePrefix: y-\n",
        "apps/base/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\n",
        "apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: default}\ndata: {k: v, k: w}\n",
    })
    assert [(d.path, d.severity) for d in found(run(tmp_path), "YAML002")] == [
        ("apps/base/kustomization.yaml", Severity.WARNING), ("apps/cm.yaml", Severity.ERROR)]
    if shutil.which("kubectl"):
        built = subprocess.run(["kubectl", "kustomize", str(tmp_path / "apps/base")], capture_output=True, text=True)
        assert built.returncode == 0 and "name: y-a" in built.stdout, built.stderr


@pytest.mark.parametrize(("gotk_version", "severity"), [("v2.9.0", Severity.ERROR), ("v2.8.1", None),
                                                        (None, Severity.WARNING)])
def test_a_variable_no_post_build_variable_sets_fails_strict_substitution(tmp_path: Path, gotk_version: str | None,
                                                                        severity: Severity | None) -> None:
    """Flux 2.9's kustomize-controller substitutes strictly by default: a bare `${DS_PROMETHEUS}` (a Grafana
    dashboard's) that the Kustomization's variables do not set fails it; defaults, escapes, disabled objects
    and an open-ended substituteFrom do not. A repository that does not say its release gets a warning."""
    gotk = {"clusters/prod/flux-system/gotk-components.yaml": f"# Flux Version: {gotk_version}\n"
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: flux-system}\n"} if gotk_version else {}
    dashboard = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dash, namespace: default}\ndata:\n"
                 "  dash.json: '{\"datasource\": \"${DS_PROMETHEUS}\", \"env\": \"${ENV}\", \"x\": \"${X:=1}\", "
                 "\"y\": \"$${Y}\"}'\n")
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP, **gotk,
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps", "  postBuild:\n    substitute: {ENV: prod}\n")
        + "---\n" + flux_ks("open", "./other", "  postBuild:\n    substituteFrom: [{kind: ConfigMap, name: vars}]\n"),
        "apps/dash.yaml": dashboard,
        "apps/off.yaml": dashboard.replace("name: dash,", "name: off, annotations: "
                                           "{kustomize.toolkit.fluxcd.io/substitute: disabled},"),
        "other/dash.yaml": dashboard,
    })
    strict = [d for d in found(run(tmp_path), "REF012") if "strict" in d.message]
    assert [(d.path, d.severity, d.message.split(" is set")[0]) for d in strict] == (
        [("apps/dash.yaml", severity, "${DS_PROMETHEUS}")] if severity else []), [d.message for d in strict]


def test_a_post_build_variable_name_that_is_no_shell_name_fails_the_kustomization(tmp_path: Path) -> None:
    """kustomize-controller refuses variable names outside `^[_[:alpha:]][_[:alpha:][:digit:]]*$`, inline or
    keys of what substituteFrom reads (fluxcd/pkg kustomize_varsub.go): "var name is invalid"."""
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/vars.yaml": ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: vars, namespace: flux-system}\n"
                                    "data: {cluster-domain: example.com, CLUSTER: prod}\n"),
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps", (
            "  postBuild:\n    substitute: {CLUSTER-NAME: dev, _ok1: x}\n"
            "    substituteFrom: [{kind: ConfigMap, name: vars}]\n")),
        "apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\n",
    })
    messages = [(d.path, d.span.line, d.message.split(" must")[0]) for d in found(run(tmp_path), "REF012")]
    assert messages == [
        ("clusters/prod/apps.yaml", 14, "post-build variable name 'CLUSTER-NAME'"),
        ("clusters/prod/apps.yaml", 15, "post-build variable name 'cluster-domain' (keys of ConfigMap/vars)")]


@pytest.mark.parametrize(("checked", "renamed"), [("app", True), ("dev-app", False), ("other", False)])
def test_a_health_check_by_the_name_a_prefix_changes_never_passes(tmp_path: Path, checked: str, renamed: bool) -> None:
    """kustomize-controller waits for healthChecks by the names as written (inventory.ReferenceToObjMetadataSet):
    with `namePrefix: dev-` the Deployment is dev-app, and a check of `app` times out. A name nothing applies
    (perhaps made by a HelmRelease) is not judged."""
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps", (
            "  namePrefix: dev-\n  healthChecks:\n"
            f"    - {{apiVersion: apps/v1, kind: Deployment, name: {checked}, namespace: default}}\n")),
        "apps/app.yaml": ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app, namespace: default}\n"
                          "spec:\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: a}}\n"
                          "    spec:\n      containers: [{name: a, image: nginx}]\n"),
    })
    assert [(d.path, d.span.line) for d in found(run(tmp_path), "REF013")] == (
        [("clusters/prod/apps.yaml", 15)] if renamed else [])


@pytest.mark.parametrize("case", ["optional-source-outside", "source-key-filled-by-parent", "patched-away"])
def test_strict_substitution_claims_nothing_it_cannot_see(tmp_path: Path, case: str) -> None:
    """An optional substituteFrom object outside the repository may be in the cluster; a key whose value
    holds `${...}` is set all the same; an expression a patch replaces never reaches the substitution: none
    of them fails Flux 2.9's strict substitution."""
    gotk = ("# Flux Version: v2.9.0\napiVersion: v1\nkind: Namespace\nmetadata: {name: flux-system}\n")
    dashboard = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dash, namespace: default}\n"
                 "data: {domain: '${DOMAIN}'}\n")
    post_build = {
        "optional-source-outside": "  postBuild:\n    substitute: {A: a}\n"
                                   "    substituteFrom: [{kind: Secret, name: extra, optional: true}]\n",
        "source-key-filled-by-parent": "  postBuild:\n    substituteFrom: [{kind: ConfigMap, name: vars}]\n",
        "patched-away": "  postBuild:\n    substitute: {A: a}\n  patches:\n    - target: {kind: ConfigMap, name: dash}\n"
                        "      patch: |\n        - {op: replace, path: /data/domain, value: example.com}\n",
    }[case]
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP, "clusters/prod/flux-system/gotk-components.yaml": gotk,
        "clusters/prod/vars.yaml": ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: vars, namespace: flux-system}\n"
                                    "data: {DOMAIN: '${BASE_DOMAIN}'}\n"),
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps", post_build),
        "apps/dash.yaml": dashboard,
    })
    assert not [d.message for d in found(run(tmp_path), "REF012") if "strict" in d.message]


@pytest.mark.parametrize("extra", ["  wait: true\n", "", "kind-list"])
def test_a_health_check_is_judged_only_where_flux_reads_it(tmp_path: Path, extra: str) -> None:
    """`wait: true` makes Flux ignore healthChecks; a check in another namespace names another object; a kind
    that is no text is no crash."""
    check = ("    - {apiVersion: apps/v1, kind: [Deployment], name: app, namespace: default}\n" if extra == "kind-list"
             else "    - {apiVersion: apps/v1, kind: Deployment, name: app, namespace: other}\n" if not extra
             else "    - {apiVersion: apps/v1, kind: Deployment, name: app, namespace: default}\n")
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps", "  namePrefix: dev-\n"
                                           + ("  wait: true\n" if extra.strip() == "wait: true" else "")
                                           + "  healthChecks:\n" + check),
        "apps/app.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app, namespace: default}\n",
    })
    assert not found(run(tmp_path), "REF013")


def test_a_path_to_an_untracked_folder_does_not_exist_for_flux(tmp_path: Path) -> None:
    """In a git work tree, a folder git does not track (empty, or ignored) is in no artifact: Flux fails with
    "path not found", an error; one holding a tracked .gitkeep is there (a warning that it applies nothing)."""
    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps") + "---\n" + flux_ks("empty", "./empty"),
        "apps/.gitkeep": "", ".gitignore": "empty/\n", "empty/notes.txt": "x\n",
    })
    subprocess.run(["git", "-C", str(tmp_path), "init", "-q"], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "-A"], check=True)
    assert [(d.severity, d.message.split(" holds")[0].split(" does")[0]) for d in found(run(tmp_path), "REF005")] == [
        (Severity.WARNING, "spec.path './apps'"), (Severity.ERROR, "spec.path './empty'")]
