"""Where users run gitops-lint: pre-commit, GitLab CI, merge-request scoping, baselines."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT, write_tree
from tests.test_cli import GITREPO, run

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env={**os.environ, **GIT_ENV})
    assert out.returncode == 0, f"git {' '.join(args)} failed ({out.returncode}): {out.stderr}"  # say why
    return out.stdout.strip()


def make_repo(tmp_path: Path, files: dict[str, str]) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write_tree(repo, files)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    return repo


# --------------------------------------------------------------------------- pre-commit


def test_pre_commit_manifest_is_valid() -> None:
    pre_commit = pytest.importorskip("pre_commit")
    del pre_commit
    out = subprocess.run([sys.executable, "-m", "pre_commit", "validate-manifest", ".pre-commit-hooks.yaml"],
                         cwd=PROJECT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_pre_commit_try_repo_clean_and_broken(tmp_path: Path) -> None:
    pytest.importorskip("pre_commit")
    if not (PROJECT / ".git").exists():
        pytest.skip("try-repo needs this project as a git checkout")
    repo = make_repo(tmp_path, {"clusters/app.yaml": GITREPO})
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(tmp_path / "cache")}

    def try_repo(*files: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(PROJECT), "gitops-lint",
                               "--files", *files], cwd=repo, capture_output=True, text=True, env=env, timeout=900)

    clean = try_repo("clusters/app.yaml")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    (repo / "clusters/broken.yaml").write_text("a: 1\na: 2\n")
    git(repo, "add", "clusters/broken.yaml")
    broken = try_repo("clusters/broken.yaml")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "clusters/broken.yaml:2:1: error YAML002" in broken.stdout


# --------------------------------------------------------------------------- GitLab CI component


@pytest.mark.parametrize("template", ["gitops-lint.yml", "gitops-lint-compile.yml", "gitops-lint-diff.yml",
                                      "gitops-lint-oci.yml"])
def test_ci_component_validates_against_gitlab_ci_schema(tmp_path: Path, template: str) -> None:
    if shutil.which("check-jsonschema") is None and not _module("check_jsonschema"):
        pytest.skip("check-jsonschema is not installed")
    text = (PROJECT / "templates" / template).read_text()
    header, job = text.split("\n---\n")
    for name, part in (("header.yml", header), ("job.yml", job)):
        (tmp_path / name).write_text(part)
    out = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.gitlab-ci",
                          str(tmp_path / "header.yml"), str(tmp_path / "job.yml")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    # the validator is real: a job with a misspelled keyword fails
    (tmp_path / "bad.yml").write_text(job.replace("artifacts:", "artifactz:"))
    bad = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.gitlab-ci",
                          str(tmp_path / "bad.yml")], capture_output=True, text=True)
    assert bad.returncode == 1


def test_ci_component_reports_and_rules() -> None:
    import yaml

    header, job = yaml.safe_load_all((PROJECT / "templates/gitops-lint.yml").read_text())
    assert {"stage", "paths", "flux-version", "fail-on", "extra-args"} <= set(header["spec"]["inputs"])
    (definition,) = job.values()
    assert definition["artifacts"]["when"] == "always"
    assert definition["artifacts"]["reports"] == {"codequality": "gl-code-quality-report.json",
                                                  "junit": "gitops-lint-junit.xml"}
    conditions = [r.get("if", "") for r in definition["rules"]]
    assert "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" in conditions  # the widget compares with it
    script = " ".join(definition["script"])
    assert "--report gitlab=gl-code-quality-report.json" in script and "--report junit=gitops-lint-junit.xml" in script
    # the job keeps the cache between pipelines, keyed on the tool's pin, in the folder the tool is told
    assert definition["variables"]["GITOPS_LINT_CACHE_DIR"] == "$CI_PROJECT_DIR/.gitops-lint-cache"
    assert definition["cache"]["paths"] == [".gitops-lint-cache/"]
    assert "$[[ inputs.package ]]" in definition["cache"]["key"]


@pytest.mark.parametrize("template", ["gitops-lint.yml", "gitops-lint-compile.yml"])
def test_ci_components_force_no_flux_release_by_default(template: str) -> None:
    """Empty by default: the repository's own Flux version applies; `--flux-version` only when the input is set."""
    import yaml

    header, job = yaml.safe_load_all((PROJECT / "templates" / template).read_text())
    assert header["spec"]["inputs"]["flux-version"]["default"] == ""
    (definition,) = job.values()
    assert definition["variables"]["GITOPS_LINT_FLUX_VERSION"] == "$[[ inputs.flux-version ]]"
    (command,) = [line for line in definition["script"] if line.startswith("gitops-lint")]
    command = re.sub(r"\$\[\[ inputs\.[a-z-]+ \]\]", "x", command.split(" > ")[0])  # inputs filled in
    echo = "printf '<%s>' " + command.split(" ", 2)[2]  # the arguments after `gitops-lint check|compile`
    for value, expected in (("", ""), ("2.6", "<--flux-version><2.6>")):
        out = subprocess.run(["bash", "-c", echo], capture_output=True, text=True, check=True,
                             env={**os.environ, "GITOPS_LINT_FLUX_VERSION": value})
        assert ("<--flux-version>" in out.stdout) == bool(expected) and expected in out.stdout, out.stdout


def test_compile_component_fails_on_a_stale_output(tmp_path: Path) -> None:
    """The compile job's own script, run as GitLab would: up to date passes, stale fails with the diff."""
    import yaml

    header, job = yaml.safe_load_all((PROJECT / "templates/gitops-lint-compile.yml").read_text())
    (definition,) = job.values()
    assert "output" in header["spec"]["inputs"] and definition["artifacts"]["paths"] == ["gitops-lint-compile.diff"]
    inputs = {name: spec.get("default", "") for name, spec in header["spec"]["inputs"].items()}
    inputs.update({"output": "deploy", "extra-args": "--force"})  # the demo has deliberate errors
    script = [line for line in definition["script"] if "pip install" not in line]
    for name, value in inputs.items():
        script = [line.replace(f"$[[ inputs.{name} ]]", str(value)) for line in script]
    repo = Path(shutil.copytree(PROJECT / "examples", tmp_path / "repo"))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}

    def job_run() -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-ec", "\n".join(script)], cwd=repo, capture_output=True, text=True,
                              env=env, timeout=300)

    assert run(["compile", "--force", "-o", "deploy", "."], repo).returncode == 0
    fresh = job_run()
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    release = repo / "apps/podinfo/release.yaml"
    release.write_text(release.read_text().replace("replicaCount: 2", "replicaCount: 3"))
    stale = job_run()
    assert stale.returncode == 1
    assert "stale: apps/podinfo/release.yaml" in stale.stderr
    assert "-    replicaCount: 2\n+    replicaCount: 3" in stale.stdout  # the diff, printed by the job
    assert "+    replicaCount: 3" in (repo / "gitops-lint-compile.diff").read_text()


def _module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


# --------------------------------------------------------------------------- scoping and baselines


def test_changed_since_reports_only_changed_files(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"old.yaml": "a: 1\na: 2\n", "app.yaml": GITREPO})
    base = git(repo, "rev-parse", "HEAD")
    write_tree(repo, {"new.yaml": "b: 1\nb: 2\n"})
    out = run(["check", "--format", "json", "--changed-since", base, "."], repo)
    paths = [d["path"] for d in json.loads(out.stdout)["diagnostics"]]
    assert paths == ["new.yaml"] and out.returncode == 1
    full = run(["check", "--format", "json", "."], repo)
    assert sorted(d["path"] for d in json.loads(full.stdout)["diagnostics"]) == ["new.yaml", "old.yaml"]
    assert run(["check", "--changed-since", "no-such-rev", "."], repo).returncode == 2


def test_repo_context_reports_only_named_files(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"old.yaml": "a: 1\na: 2\n", "sub/new.yaml": "b: 1\nb: 2\n"})
    out = run(["check", "--format", "json", "--repo-context", "sub/new.yaml"], repo)
    payload = json.loads(out.stdout)
    assert [d["path"] for d in payload["diagnostics"]] == ["sub/new.yaml"]
    assert payload["summary"]["files"] == 2  # the whole repository was loaded


def test_baseline_hides_known_findings_and_reports_stale_ones(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.yaml": "a: 1\na: 2\n", "b.yaml": "b: 1\nb: 2\n"})
    written = run(["check", "--write-baseline", "baseline.json", "."], tmp_path)
    assert written.returncode == 0
    assert len(json.loads((tmp_path / "baseline.json").read_text())["findings"]) == 2
    # lines move above a known finding: still known; a new finding is reported
    write_tree(tmp_path, {"a.yaml": "# moved\n# down\na: 1\na: 2\n", "c.yaml": "c: 1\nc: 2\n"})
    out = run(["check", "--format", "json", "--baseline", "baseline.json", "."], tmp_path)
    assert [d["path"] for d in json.loads(out.stdout)["diagnostics"]] == ["c.yaml"]
    # a fixed finding makes its entry stale
    write_tree(tmp_path, {"b.yaml": "b: 1\n"})
    out = run(["check", "--baseline", "baseline.json", "."], tmp_path)
    assert "1 baseline entry matched no finding" in out.stderr and "b.yaml" in out.stderr
    assert run(["check", "--baseline", "missing.json", "."], tmp_path).returncode == 2


def test_statistics(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.yaml": "a: 1\na: 2\n", "b.yaml": "b: 1\nb: 2\n"})
    out = run(["check", "-q", "--statistics", "."], tmp_path)
    assert out.stdout.splitlines()[-1].split() == ["2", "YAML002", "duplicate-key"]


def test_two_identical_findings_in_one_file_get_different_fingerprints(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.yaml": "x:\n  a: 1\n  a: 2\ny:\n  a: 1\n  a: 2\n"})
    fingerprints = [d["fingerprint"] for d in json.loads(run(["check", "--format", "json", "."], tmp_path).stdout)
                    ["diagnostics"]]
    assert len(fingerprints) == 2 and len(set(fingerprints)) == 2


def _source_and_referrer(tmp_path: Path) -> tuple[Path, str, str]:
    """A repository (its path, the GitRepository's YAML, the commit) where apps.yaml's Kustomization
    names the GitRepository of sources.yaml."""
    source = GITREPO.replace("name: app", "name: fleet")
    ks = ("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n"
          "  namespace: flux-system\nspec:\n  interval: 10m\n  prune: true\n  sourceRef:\n"
          "    kind: GitRepository\n    name: fleet\n")
    repo = make_repo(tmp_path, {"sources.yaml": source, "apps.yaml": ks})
    base = git(repo, "rev-parse", "HEAD")
    return repo, source, base


def test_changed_only_mode_reports_referrers_of_deleted_objects(tmp_path: Path) -> None:
    repo, _, base = _source_and_referrer(tmp_path)
    git(repo, "rm", "-q", "sources.yaml")
    # the Kustomization's file is unchanged, but the GitRepository it names was deleted
    out = run(["check", "--format", "json", "--changed-since", base, "."], repo)
    found = [(d["rule"], d["path"]) for d in json.loads(out.stdout)["diagnostics"]]
    assert ("REF001", "apps.yaml") in found
    # the same through the pre-commit path: the deletion is staged, nothing else is named
    write_tree(repo, {"other.yaml": "a: 1\n"})
    git(repo, "add", "other.yaml")
    out = run(["check", "--format", "json", "--repo-context", "other.yaml"], repo)
    found = [(d["rule"], d["path"]) for d in json.loads(out.stdout)["diagnostics"]]
    assert ("REF001", "apps.yaml") in found


def test_changed_only_mode_reports_referrers_of_objects_renamed_away(tmp_path: Path) -> None:
    """A file moved and edited (git sees a rename): the objects of its old path count as changed."""
    repo, source, base = _source_and_referrer(tmp_path)
    git(repo, "mv", "sources.yaml", "moved.yaml")
    write_tree(repo, {"moved.yaml": source.replace("name: fleet", "name: fleet-2")})
    git(repo, "add", "moved.yaml")
    assert git(repo, "diff", "--name-status", "--cached", base).startswith("R")
    out = run(["check", "--format", "json", "--changed-since", base, "."], repo)
    found = [(d["rule"], d["path"]) for d in json.loads(out.stdout)["diagnostics"]]
    assert ("REF001", "apps.yaml") in found
    # the same through the pre-commit path: the rename is staged, the moved file is named
    out = run(["check", "--format", "json", "--repo-context", "moved.yaml"], repo)
    found = [(d["rule"], d["path"]) for d in json.loads(out.stdout)["diagnostics"]]
    assert ("REF001", "apps.yaml") in found


def test_changed_since_takes_what_git_diff_takes(tmp_path: Path) -> None:
    """A commit, a range (its old side is the base), a commit found by its message; an option or an
    unknown name is a usage error, said before the check."""
    repo = make_repo(tmp_path, {"old.yaml": "a: 1\n"})
    write_tree(repo, {"new.yaml": "b: 1\nb: 2\n"})
    git(repo, "add", "new.yaml")
    git(repo, "commit", "-qm", "second")
    for revision in ("HEAD~1", "HEAD~1..HEAD", "HEAD~1...HEAD", ":/init"):
        out = run(["check", "--format", "json", "--changed-since", revision, "."], repo)
        assert [d["path"] for d in json.loads(out.stdout)["diagnostics"]] == ["new.yaml"], revision
    for revision, said in (("-x", "not a revision"), ("no-such-rev", "git rev-parse failed")):
        out = run(["check", "--changed-since", revision, "."], repo)
        assert out.returncode == 2 and f"--changed-since {revision}: {said}" in out.stderr, out.stderr


def test_files_at_a_revision_are_read_in_one_batch(tmp_path: Path) -> None:
    from gitops_lint.engine import _files_at

    repo = make_repo(tmp_path, {"a.yaml": "kind: A\n", "b c.yaml": "", "sub/x.yaml": "x: 1\n", "n\nl.yaml": "k: N\n"})
    asked = ["sub", "a.yaml", "missing.yaml", "b c.yaml", "sub/x.yaml", "n\nl.yaml"]
    assert _files_at(repo, "HEAD", asked) == [("a.yaml", b"kind: A\n"), ("b c.yaml", b""),
                                              ("sub/x.yaml", b"x: 1\n"), ("n\nl.yaml", b"k: N\n")]
    assert _files_at(repo, "no-such-rev", ["a.yaml"]) == []



def test_changed_since_matches_file_names_as_reports_print_them(tmp_path: Path) -> None:
    """A changed file whose name holds a newline is reported under its escaped name, as every report
    prints it: git's name must be escaped alike, or the change would find nothing to report on."""
    repo = make_repo(tmp_path, {"old.yaml": "a: 1\n"})
    base = git(repo, "rev-parse", "HEAD")
    write_tree(repo, {"odd\nname.yaml": "b: 1\nb: 2\n", "edited.yaml": "c: 1\nc: 2\n"})
    out = run(["check", "--format", "json", "--changed-since", base, "."], repo)
    assert sorted(d["path"] for d in json.loads(out.stdout)["diagnostics"]) == ["edited.yaml", "odd\\nname.yaml"]


def test_changed_since_without_git_is_a_usage_error(tmp_path: Path, monkeypatch) -> None:
    from gitops_lint.engine import LintOptions, UsageError, lint

    repo = make_repo(tmp_path, {"app.yaml": GITREPO})
    monkeypatch.setenv("PATH", str(tmp_path / "no-such-bin"))  # git cannot be started at all
    with pytest.raises(UsageError, match="--changed-since HEAD: cannot run git"):
        lint(LintOptions(paths=["."], cwd=repo, changed_since="HEAD"))

def test_changed_files_reads_every_status_of_git_diff() -> None:
    from gitops_lint.engine import _changed_files

    fields = ["A", "added.yaml", "M", "edited.yaml", "D", "gone.yaml", "R087", "old.yaml", "new.yaml",
              "C100", "original.yaml", "copy.yaml", "T", "typed.yaml"]
    now, before = _changed_files(fields)
    # a type change (a file made a symlink) is a change of both sides: the artifact no longer holds it
    assert now == {"added.yaml", "edited.yaml", "new.yaml", "copy.yaml", "typed.yaml"}
    assert before == ["edited.yaml", "gone.yaml", "old.yaml", "typed.yaml"]

def test_diff_component_writes_the_note_and_the_code_quality_report(tmp_path: Path) -> None:
    """The diff job's own script, run as GitLab would in a merge request pipeline over two commits."""
    import yaml

    header, job = yaml.safe_load_all((PROJECT / "templates/gitops-lint-diff.yml").read_text())
    (definition,) = job.values()
    assert definition["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    assert definition["variables"]["GIT_DEPTH"] == "0"
    assert definition["artifacts"]["reports"] == {"codequality": "gl-code-quality-diff.json"}
    inputs = {name: spec.get("default", "") for name, spec in header["spec"]["inputs"].items()}
    script = [line for line in definition["script"] if "pip install" not in line]
    for name, value in inputs.items():
        script = [line.replace(f"$[[ inputs.{name} ]]", str(value)) for line in script]
    repo = Path(shutil.copytree(PROJECT / "examples", tmp_path / "repo"))
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.email=t@x", "-c", "user.name=t", "commit", "-qm", "base"]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    base = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, check=True, capture_output=True, text=True).stdout
    kustomization = next(repo.glob("clusters/*/kustomization.yaml"), None)
    removed = sorted(p for p in repo.glob("clusters/*/*.yaml") if p.name != "kustomization.yaml")[:1]
    assert removed or kustomization
    for path in removed:
        path.unlink()  # a Kustomization's file gone: what it applied is gone too
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "CI_MERGE_REQUEST_DIFF_BASE_SHA": base.strip()}
    run = subprocess.run(["bash", "-ec", "\n".join(script)], cwd=repo, capture_output=True, text=True, env=env,
                         timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    note = (repo / "gitops-lint-diff.md").read_text()
    assert note.startswith("### gitops-lint: what this change does to the cluster") and "| Cluster |" in note
    assert isinstance(json.loads((repo / "gl-code-quality-diff.json").read_text()), list)
