"""Rules judge only what the engine keeps (`Project.judged`), and that changes no finding: a run scoped to
a change (`--changed-since`, `--repo-context`) reports exactly what a whole run reports on the changed
files and on the objects that refer into them, and rules of scope `applied` skipping the files Flux never
applies change nothing either."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from gitops_lint.catalogue import load_catalogue
from gitops_lint.config import Config
from gitops_lint.discover import discover
from gitops_lint.engine import LintOptions, Scope, active_rules, lint_files, load_sources, rule_params

from tests.conftest import PROJECT, shared_path, write_tree
from tests.test_flux_view import BOOTSTRAP, flux_ks


def _runner(root: Path):
    """lint_files on the repository at `root`, with and without a scope."""
    options = LintOptions(paths=[str(root)], config=Config(), cwd=root)
    discovery = discover([root], cwd=root)
    files = load_sources(discovery.files)
    catalogue = load_catalogue()
    rules = active_rules(catalogue, options)
    params = {rule.id: rule_params(rule, options.config) for rule in rules}

    def run(scope: Scope | None):
        return lint_files(files, discovery, catalogue, rules, params, options, scope)

    return files, run


def _scopes(files, whole, seed: int) -> list[Scope]:
    """Random changes: a few files, the files of objects others refer to (their referrers are reported
    too), an object deleted from every file, and nothing at all."""
    pick = random.Random(seed)
    rels = sorted(f.rel for f in files)
    graph = whole.context.graph
    targets = sorted({(t.kind, t.name) for ref in graph.references for t in ref.targets if t.kind and t.name})
    target_files = sorted({t.path for ref in graph.references for t in ref.targets})
    with_findings = sorted({d.path for d in whole.diagnostics})
    scopes = [Scope(set(), set())]
    for _ in range(3):
        chosen = set(pick.sample(rels, min(len(rels), pick.randint(1, 6))))
        chosen |= set(pick.sample(with_findings, min(len(with_findings), 2)))
        scopes.append(Scope(chosen, set()))
    if target_files:
        scopes.append(Scope(set(pick.sample(target_files, min(len(target_files), 3))), set()))
    if targets:
        scopes.append(Scope(set(pick.sample(rels, 1)), set(pick.sample(targets, min(len(targets), 3)))))
    return scopes


def _assert_scoped_runs_match(root: Path, seed: int = 0) -> None:
    files, run = _runner(root)
    whole = run(None)
    assert whole.diagnostics, f"{root}: a repository without findings tests nothing here"
    for scope in _scopes(files, whole, seed):
        expected = [d.to_json() for d in scope.select(whole)]
        scoped = run(scope)
        assert [d.to_json() for d in scope.select(scoped)] == expected, (root, scope)
        assert not scoped.internal_errors and not whole.internal_errors


def test_scoped_rules_report_what_a_whole_run_reports_on_the_bundled_example() -> None:
    _assert_scoped_runs_match(PROJECT / "examples")


def test_scoped_rules_keep_findings_on_referrers_in_unchanged_files(tmp_path: Path) -> None:
    """The referrer's file is unchanged, and its schema finding is still reported: it names the changed
    object."""
    write_tree(tmp_path, {
        "source.yaml": "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: fleet\n"
                       "  namespace: flux-system\nspec:\n  interval: 10m\n  url: https://gitlab.com/a/b.git\n",
        "apps.yaml": "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n"
                     "  namespace: flux-system\nspec:\n  interval: 10m\n  prune: maybe\n  sourceRef:\n"
                     "    kind: GitRepository\n    name: fleet\n",
        "other.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n",
    })
    files, run = _runner(tmp_path)
    whole = run(None)
    scope = Scope({"source.yaml"}, set())
    reported = scope.select(run(scope))
    assert [d.to_json() for d in reported] == [d.to_json() for d in scope.select(whole)]
    assert {d.path for d in reported} == {"apps.yaml"}  # other.yaml's finding is in neither


def test_a_referrer_flux_moves_to_another_namespace_is_reported_as_written_and_as_applied(tmp_path: Path) -> None:
    """The HelmRelease names the changed HelmRepository; Flux applies it in `web`, its file says `default`:
    a finding on the object as written (a label) and one on the copy Flux applies (a reference) both count."""
    from tests.test_flux_view import BOOTSTRAP, flux_ks, helm_release, helm_repository

    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/web.yaml": flux_ks("web", "./apps/web", "  targetNamespace: web\n"),
        "apps/web/release.yaml": helm_release("web", "charts", "  namespace: default\n  labels: {tier: -front}\n",
                                              "  valuesFrom:\n    - kind: ConfigMap\n      name: web-values\n"),
        "apps/web/repo.yaml": helm_repository("charts"),
    })
    files, run = _runner(tmp_path)
    whole = run(None)
    scope = Scope({"apps/web/repo.yaml"}, set())
    reported = scope.select(run(scope))
    assert [d.to_json() for d in reported] == [d.to_json() for d in scope.select(whole)]
    assert {(d.rule, d.object) for d in reported} == {("K8S003", "HelmRelease/default/web"),
                                                      ("REF002", "HelmRelease/web/web")}


@pytest.mark.parametrize("repo", ["fluxcd+flux2-kustomize-helm-example", "fluxcd+flux2-multi-tenancy",
                                  "tuxpeople+k8s-homelab", "aws-samples+eks-multi-cluster-gitops",
                                  "dimMaryanto93+gitlab-devops-automation"])
def test_scoped_rules_report_what_a_whole_run_reports_on_real_repositories(repo: str) -> None:
    _assert_scoped_runs_match(shared_path("corpus", repo), seed=len(repo))


def test_scoped_rules_report_what_a_whole_run_reports_with_planted_mistakes(tmp_path: Path) -> None:
    """The benchmark's repository with a mistake in every third application: findings of every family
    in many files, so the scoped rules skip most of them."""
    import subprocess
    import sys

    generator = shared_path("bench", "gen_repo.py")
    repo = tmp_path / "repo"
    subprocess.run([sys.executable, str(generator), str(repo), "--docs", "600", "--defects", "0.3", "--seed", "5"],
                   check=True, capture_output=True)
    (repo / "DEFECTS.tsv").unlink()
    _assert_scoped_runs_match(repo, seed=5)
    files, run = _runner(repo)
    whole = run(None)
    some = Scope({sorted(d.path for d in whole.diagnostics)[0]}, set())
    assert len(run(some).diagnostics) < len(whole.diagnostics)  # the rules did skip what the scope drops



@pytest.mark.parametrize("repo", ["sulibot+home-ops", "bjw-s+home-ops", "aws-samples+eks-multi-cluster-gitops",
                                  "xunholy+k8s-gitops"])
def test_rules_skipping_unapplied_files_change_no_finding(repo: str, monkeypatch) -> None:
    """Real repositories with many files no Kustomization applies: the same findings, whether the rules
    of scope `applied` judge those files (and the engine drops what they find) or skip them."""
    from gitops_lint.project import Project

    root = shared_path("corpus", repo)
    files, run = _runner(root)
    skipping = [d.to_json() for d in run(None).diagnostics]
    assert any(d["rule"] == "REF010" for d in skipping)  # there are unapplied files to skip
    monkeypatch.setattr(Project, "_unapplied_skipped", lambda self: frozenset())
    assert [d.to_json() for d in run(None).diagnostics] == skipping


def test_a_change_to_a_cluster_overlay_reports_what_it_breaks_in_the_base(tmp_path: Path) -> None:
    """The overlay's patch brings a bad interval: the finding is at the base, where the object is written,
    and a run scoped to the overlay's change reports it."""
    from tests.test_flux_view import _overlay

    write_tree(tmp_path, _overlay("      - op: replace\n        path: /spec/interval\n        value: 1 h\n"))
    files, run = _runner(tmp_path)
    whole = run(None)
    scope = Scope({"clusters/prod/kustomization.yaml"}, set())
    reported = scope.select(run(scope))
    assert [d.to_json() for d in reported] == [d.to_json() for d in scope.select(whole)]
    assert ("SCH001", "clusters/base/apps.yaml") in {(d.rule, d.path) for d in reported}
    untouched = Scope({"apps/cm.yaml"}, set())  # a manifest of the build: the base's findings are not its own
    assert "SCH001" not in {d.rule for d in untouched.select(run(untouched))}


def test_a_change_in_one_cluster_reports_no_referrer_of_another_clusters_namesake(tmp_path: Path) -> None:
    """Both clusters have a HelmRepository `charts` and a release naming it: a change to staging's reports
    staging's release (it resolves there), not production's, which names production's own `charts`."""
    from tests.test_flux_view import _two_clusters, flux_ks, helm_release, helm_repository

    def cluster() -> dict[str, str]:
        return {"apps.yaml": flux_ks("apps", "./apps"), "charts.yaml": helm_repository("charts", "  namespace: apps\n"),
                "release.yaml": helm_release("web", "charts", "  namespace: apps\n  labels: {tier: -front}\n")}

    write_tree(tmp_path, _two_clusters(cluster(), cluster(), shared={
        "apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n"}))
    files, run = _runner(tmp_path)
    whole = run(None)
    assert {d.path for d in whole.diagnostics if d.rule == "K8S003"} == {
        "clusters/prod/release.yaml", "clusters/staging/release.yaml"}
    scope = Scope({"clusters/staging/charts.yaml"}, set())
    reported = scope.select(run(scope))
    assert [d.to_json() for d in reported] == [d.to_json() for d in scope.select(whole)]
    assert {(d.rule, d.path) for d in reported} == {("K8S003", "clusters/staging/release.yaml")}


def test_a_kustomization_that_renames_an_object_reports_its_referrers(tmp_path: Path) -> None:
    """The change only adds `namePrefix` to sources/kustomization.yaml: the release in another folder now
    names a HelmRepository kustomize renamed, and that finding is the change's."""
    from tests.test_flux_view import BOOTSTRAP, flux_ks, helm_release, helm_repository

    write_tree(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/prod/sources.yaml": flux_ks("sources", "./sources"),
        "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
        "sources/kustomization.yaml": "namePrefix: x-\nresources: [repo.yaml]\n",
        "sources/repo.yaml": helm_repository("podinfo", "  namespace: flux-system\n"),
        "apps/release.yaml": helm_release("podinfo", "podinfo", "  namespace: flux-system\n"),
    })
    files, run = _runner(tmp_path)
    whole = run(None)
    scope = Scope({"sources/kustomization.yaml"}, set())
    reported = scope.select(run(scope))
    assert [d.to_json() for d in reported] == [d.to_json() for d in scope.select(whole)]
    assert [(d.rule, d.path) for d in reported] == [("REF013", "apps/release.yaml")]


@pytest.mark.parametrize("change", ["generator", "overlay-patch"])
def test_a_change_that_reaches_a_referrer_through_what_kustomize_makes_is_reported(tmp_path: Path, change: str) -> None:
    """Only a kustomization file changes: a generator loses disableNameSuffixHash (the release's valuesFrom
    now names nothing: REF013), or an overlay suspends the Kustomization another depends on (REF009)."""
    from tests.test_flux_view import BOOTSTRAP, flux_ks, helm_release, helm_repository

    files = {"clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
             "clusters/prod/infra.yaml": flux_ks("infra", "./infra"),
             "clusters/prod/apps.yaml": flux_ks("apps", "./apps", "  dependsOn:\n    - name: infra\n"),
             "infra/kustomization.yaml": "configMapGenerator:\n  - name: vals\n    namespace: flux-system\n"
                                         "    literals: [a=1]\n",
             "apps/repo.yaml": helm_repository("charts", "  namespace: flux-system\n"),
             "apps/release.yaml": helm_release("web", "charts", "  namespace: flux-system\n",
                                               "  valuesFrom:\n    - {kind: ConfigMap, name: vals}\n")}
    if change == "overlay-patch":
        files["infra/kustomization.yaml"] += "generatorOptions: {disableNameSuffixHash: true}\n"
        files["clusters/prod/kustomization.yaml"] = (
            "resources: [flux-system/gotk-sync.yaml, infra.yaml, apps.yaml]\npatches:\n"
            "  - target: {kind: Kustomization, name: infra}\n    patch: |\n"
            "      - {op: add, path: /spec/suspend, value: true}\n")
    write_tree(tmp_path, files)
    changed = "infra/kustomization.yaml" if change == "generator" else "clusters/prod/kustomization.yaml"
    expected = ("REF013", "apps/release.yaml") if change == "generator" else ("REF009", "clusters/prod/apps.yaml")
    files, run = _runner(tmp_path)
    whole = run(None)
    scope = Scope({changed}, set())
    reported = scope.select(run(scope))
    assert [d.to_json() for d in reported] == [d.to_json() for d in scope.select(whole)]
    assert expected in {(d.rule, d.path) for d in reported}


@pytest.mark.parametrize("change", ["overlay-prefix", "configurations-dropped"])
def test_a_change_to_what_renames_reports_the_references_it_leaves_behind(tmp_path: Path, change: str) -> None:
    """An overlay's namePrefix renames a generated ConfigMap another folder's release reads; or the
    configurations file that rewrote a release's sourceRef goes: the REF013 is the change's."""
    from tests.test_flux_view import BOOTSTRAP, flux_ks, helm_release, helm_repository

    files = {"clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
             "clusters/prod/config.yaml": flux_ks("config", "./config/overlay"),
             "clusters/prod/apps.yaml": flux_ks("apps", "./apps"),
             "config/base/kustomization.yaml": ("configMapGenerator:\n  - name: vals\n    namespace: flux-system\n"
                                                "    literals: [a=1]\n    options: {disableNameSuffixHash: true}\n"),
             "config/overlay/kustomization.yaml": "resources: [../base]\n",
             "apps/kustomization.yaml": "namePrefix: x-\nresources: [repo.yaml, release.yaml]\nconfigurations: [nr.yaml]\n",
             "apps/nr.yaml": "nameReference:\n  - kind: HelmRepository\n    fieldSpecs:\n"
                             "      - {path: spec/chart/spec/sourceRef/name, kind: HelmRelease}\n",
             "apps/repo.yaml": helm_repository("charts", "  namespace: flux-system\n"),
             "apps/release.yaml": helm_release("web", "charts", "  namespace: flux-system\n",
                                               "  valuesFrom:\n    - {kind: ConfigMap, name: x-vals}\n")}
    if change == "overlay-prefix":
        files["apps/release.yaml"] = files["apps/release.yaml"].replace("name: x-vals", "name: vals")
        files["apps/kustomization.yaml"] = "resources: [repo.yaml, release.yaml]\n"
        files["config/overlay/kustomization.yaml"] = "namePrefix: p-\nresources: [../base]\n"
        changed, expected = "config/overlay/kustomization.yaml", "valuesFrom"
    else:
        files["apps/release.yaml"] = files["apps/release.yaml"].replace("  valuesFrom:\n    - {kind: ConfigMap, name: x-vals}\n", "")
        files["apps/kustomization.yaml"] = "namePrefix: x-\nresources: [repo.yaml, release.yaml]\n"
        changed, expected = "apps/kustomization.yaml", "chart.sourceRef"
    write_tree(tmp_path, files)
    files, run = _runner(tmp_path)
    whole = run(None)
    scope = Scope({changed}, set())
    reported = scope.select(run(scope))
    assert [d.to_json() for d in reported] == [d.to_json() for d in scope.select(whole)]
    assert [(d.rule, d.message.split(" names")[0]) for d in reported if d.rule == "REF013"] == [("REF013", expected)]


FLUX_SYNC = BOOTSTRAP + "---\n" + flux_ks("apps", "./apps")


@pytest.mark.parametrize("change", ["sourceignore-added", "sourceignore-removed", "made-a-symlink"])
def test_a_change_that_takes_a_file_out_of_the_artifact_is_reported_where_the_build_fails(
        tmp_path: Path, monkeypatch, change: str) -> None:
    """The build fails at the kustomization entry naming the file the artifact lost, in a file the change
    did not touch: --changed-since reports it all the same."""
    import json
    import os
    import subprocess

    from click.testing import CliRunner

    from gitops_lint.cli import main

    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s}\n"
    files = {"clusters/prod/flux-system/gotk-sync.yaml": FLUX_SYNC, "apps/cm.yaml": cm % "a",
             "apps/kustomization.yaml": "resources: [cm.yaml, extra.yaml]\nconfigMapGenerator:\n"
                                        "  - {name: logo, files: [logo.png]}\n",
             "apps/extra.yaml": cm % "b", "apps/logo.png": "PNG", "docs/.sourceignore": "*.drawio\n"}
    write_tree(tmp_path, files)
    git = ["git", "-C", str(tmp_path), "-c", "user.email=t@x", "-c", "user.name=t", "-c", "commit.gpgsign=false"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run([*git, *args], check=True, capture_output=True)
    if change == "sourceignore-added":
        write_tree(tmp_path, {"apps/.sourceignore": "extra.yaml\n"})
        expected = ("apps/kustomization.yaml", 1)
    elif change == "sourceignore-removed":  # Flux's defaults come back: *.png is left out
        os.remove(tmp_path / "docs/.sourceignore")
        expected = ("apps/kustomization.yaml", 3)
    else:
        os.remove(tmp_path / "apps/extra.yaml")
        os.symlink("cm.yaml", tmp_path / "apps/extra.yaml")
        expected = ("apps/kustomization.yaml", 1)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "--isolated", "--no-cache", "--format", "json", "--changed-since",
                                       "HEAD", "."], catch_exceptions=False)
    found = [(d["path"], d["line"]) for d in json.loads(result.stdout)["diagnostics"] if d["rule"] == "REF012"]
    assert found == [expected], result.stdout


@pytest.mark.parametrize("change", ["file-deleted", "folder-kustomization-deleted", "path-folder-moved",
                                    "patch-moved"])
def test_a_change_that_deletes_or_moves_what_others_name_is_reported_where_they_name_it(
        tmp_path: Path, monkeypatch, change: str) -> None:
    """Deleting or moving a file or folder breaks the entries that name it, in files the change did not touch
    (a kustomization's resources or patches, a Flux Kustomization's spec.path): --changed-since reports them,
    as the full check does."""
    import json
    import os
    import shutil
    import subprocess

    from click.testing import CliRunner

    from gitops_lint.cli import main

    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: default}\n"
    files = {"clusters/prod/flux-system/gotk-sync.yaml": BOOTSTRAP,
             "clusters/prod/apps.yaml": flux_ks("apps", "./apps/prod"),
             "apps/prod/kustomization.yaml": "resources: [../base]\npatches: [{path: patch.yaml}]\n",
             "apps/prod/patch.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\n"
                                     "data: {k: v}\n",
             "apps/base/kustomization.yaml": "resources: [a.yaml, b.yaml]\n",
             "apps/base/a.yaml": cm % "a", "apps/base/b.yaml": cm % "b"}
    write_tree(tmp_path, files)
    git = ["git", "-C", str(tmp_path), "-c", "user.email=t@x", "-c", "user.name=t", "-c", "commit.gpgsign=false"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run([*git, *args], check=True, capture_output=True)
    if change == "file-deleted":
        os.remove(tmp_path / "apps/base/b.yaml")
    elif change == "folder-kustomization-deleted":
        os.remove(tmp_path / "apps/base/kustomization.yaml")
    elif change == "path-folder-moved":
        shutil.move(tmp_path / "apps/prod", tmp_path / "apps/production")
    else:
        os.rename(tmp_path / "apps/prod/patch.yaml", tmp_path / "apps/prod/patch-cm.yaml")
    subprocess.run([*git, "add", "-A"], check=True, capture_output=True)
    monkeypatch.chdir(tmp_path)

    def errors(*extra: str) -> set:
        result = CliRunner().invoke(main, ["check", "--isolated", "--no-cache", "--format", "json", *extra, "."],
                                    catch_exceptions=False)
        return {(d["rule"], d["path"], d["line"]) for d in json.loads(result.stdout)["diagnostics"]
                if d["severity"] == "error"}

    full = errors()
    assert full, "the change breaks something"
    assert errors("--changed-since", "HEAD") == full
