"""The on-disk cache gives exactly what a run without it gives, whatever changed in between, and never fails
a run: edited files, settings, tool builds, files read outside discovery, concurrent runs, damaged entries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from gitops_lint import cache as cache_module
from gitops_lint.cli import main
from tests.conftest import FLUX_SYNC, write_tree


APPS = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
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
  postBuild:
    substituteFrom:
      - kind: ConfigMap
        name: cluster-vars
"""

VARS = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: flux-system
resources:
  - flux-system
  - apps.yaml
configMapGenerator:
  - name: cluster-vars
    envs:
      - vars.env
generatorOptions:
  disableNameSuffixHash: true
"""

APP = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: podinfo
  namespace: flux-system
spec:
  interval: 5m
  url: https://github.com/stefanprodan/podinfo
  ref:
    tag: 6.5.0
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: podinfo
  namespace: flux-system
spec:
  interval: 10m
  path: ./kustomize
  prune: true
  sourceRef:
    kind: GitRepository
    name: ${SOURCE_NAME}
"""


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    write_tree(root, {
        "clusters/prod/flux-system/gotk-sync.yaml": FLUX_SYNC,
        "clusters/prod/flux-system/kustomization.yaml": "resources:\n  - gotk-sync.yaml\n",
        "clusters/prod/kustomization.yaml": VARS,
        "clusters/prod/apps.yaml": APPS,
        "clusters/prod/vars.env": "SOURCE_NAME=podinfo\n",
        # broken.yaml is applied (Flux fails on its duplicate key); unused.yaml is not (REF010)
        "apps/kustomization.yaml": "resources:\n  - podinfo.yaml\n  - broken.yaml\n",
        "apps/podinfo.yaml": APP,
        "apps/broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  name: y\n",
        "apps/unused.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: unused\n",
    })
    (root / ".git").mkdir()  # the root is this folder, as in a checkout
    return root


def check(root: Path, *args: str, cache_dir: Path | None = None) -> tuple[int, dict]:
    """`check --format json` in `root`, with the cache in `cache_dir` (None: no cache)."""
    flags = ["--cache-dir", str(cache_dir)] if cache_dir is not None else ["--no-cache"]
    result = CliRunner().invoke(main, ["check", "--isolated", "--format", "json", *flags, *args, "."],
                                catch_exceptions=False, env={"GITOPS_LINT_CACHE_DIR": None})
    return result.exit_code, json.loads(result.stdout)


@pytest.fixture(autouse=True)
def in_repo(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)


def assert_same_as_without_cache(root: Path, cache_dir: Path, *args: str) -> dict:
    code, cached = check(root, *args, cache_dir=cache_dir)
    expected_code, expected = check(root, *args)
    assert (code, cached) == (expected_code, expected)
    return cached


def findings(report: dict) -> list[tuple[str, str, int]]:
    return sorted((d["rule"], d["path"], d["line"]) for d in report["diagnostics"])


def age(root: Path, seconds: float = 10) -> None:
    """Date every file back, as files are between two commits: a file this fresh is hashed, not trusted."""
    then = time.time() - seconds
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, (then, then))


def test_a_warm_run_reports_what_a_cold_run_reports_and_reads_nothing_again(repo: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    age(repo)
    cold = assert_same_as_without_cache(repo, cache_dir)
    assert findings(cold), "the fixture has findings to keep"
    warm = assert_same_as_without_cache(repo, cache_dir)
    assert warm == cold
    text = CliRunner().invoke(main, ["check", "--isolated", "--cache-dir", str(cache_dir), "."])
    assert "(all from the cache)" in text.stdout
    assert (cache_dir / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (cache_dir / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")


def test_after_an_edit_only_the_edited_file_is_read_again(repo: Path, tmp_path: Path) -> None:
    # Every reader's records are kept: kustomization files (read as go-yaml v2 reads them) and agent
    # configs too, not only manifests.
    (repo / ".gitlab/agents/prod").mkdir(parents=True)
    (repo / ".gitlab/agents/prod/config.yaml").write_text("flux:\n  resource_path: /flux\n")
    cache_dir = tmp_path / "cache"
    age(repo)
    assert_same_as_without_cache(repo, cache_dir)
    (repo / "apps/podinfo.yaml").write_text(APP.replace("tag: 6.5.0", "tag: 6.5.1"))
    text = CliRunner().invoke(main, ["check", "--isolated", "--cache-dir", str(cache_dir), "."])
    assert "(1 read, " in text.stdout, text.stdout


def test_the_default_cache_sits_at_the_root_and_git_ignores_it(repo: Path) -> None:
    result = CliRunner().invoke(main, ["check", "--isolated", "."], env={"GITOPS_LINT_CACHE_DIR": None})
    assert result.exit_code == 1
    assert (repo / ".gitops-lint-cache" / ".gitignore").is_file()
    again = CliRunner().invoke(main, ["check", "--isolated", "."], env={"GITOPS_LINT_CACHE_DIR": None})
    assert "(all from the cache)" in again.stdout
    assert "gitops-lint-cache" not in again.stdout  # the cache is no file of the repository


def test_no_cache_writes_nothing_and_the_environment_names_the_folder(repo: Path, tmp_path: Path) -> None:
    before = sorted(p.relative_to(repo) for p in repo.rglob("*"))
    check(repo)
    assert sorted(p.relative_to(repo) for p in repo.rglob("*")) == before
    elsewhere = tmp_path / "from-env"
    CliRunner().invoke(main, ["check", "--isolated", "."], env={"GITOPS_LINT_CACHE_DIR": str(elsewhere)})
    assert list(elsewhere.glob("files-*.pack")) and not (repo / ".gitops-lint-cache").exists()


def test_editing_a_file_changes_the_result_as_a_run_without_cache_would(repo: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    age(repo)
    before = assert_same_as_without_cache(repo, cache_dir)
    # Same size, same second: only the content (and the fresh time stamp) tells the change.
    broken = repo / "apps/broken.yaml"
    broken.write_text(broken.read_text().replace("name: y", "name: z"))
    (repo / "apps/podinfo.yaml").write_text(APP.replace("tag: 6.5.0", "tag: [6]"))
    after = assert_same_as_without_cache(repo, cache_dir)
    assert findings(after) != findings(before)
    # An edit the cache saw, undone: the old record serves again, still exactly right.
    (repo / "apps/podinfo.yaml").write_text(APP)
    assert findings(assert_same_as_without_cache(repo, cache_dir)) == findings(before)


def test_a_file_added_or_deleted_changes_the_result(repo: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    assert_same_as_without_cache(repo, cache_dir)
    (repo / "apps/broken.yaml").unlink()
    assert not any(f[0] == "YAML002" for f in findings(assert_same_as_without_cache(repo, cache_dir)))
    write_tree(repo, {"apps/new.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n"})
    assert ("YAML002", "apps/new.yaml", 5) in findings(assert_same_as_without_cache(repo, cache_dir))


def test_a_setting_changes_the_result(repo: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    everything = assert_same_as_without_cache(repo, cache_dir)
    only_yaml = assert_same_as_without_cache(repo, cache_dir, "--select", "YAML")
    assert only_yaml != everything and all(f[0].startswith("YAML") for f in findings(only_yaml))
    older = assert_same_as_without_cache(repo, cache_dir, "--flux-version", "2.3")
    assert older["summary"]["flux_version"]["release"] == "2.3"
    write_tree(repo, {".gitops-lint.yaml": "ignore: [YAML002]\n"})
    code, configured = check_with_config(repo, cache_dir)
    assert not any(f[0] == "YAML002" for f in findings(configured))


def check_with_config(root: Path, cache_dir: Path) -> tuple[int, dict]:
    args = ["check", "--format", "json", "."]
    cached = CliRunner().invoke(main, [*args, "--cache-dir", str(cache_dir)])
    plain = CliRunner().invoke(main, [*args, "--no-cache"])
    assert (cached.exit_code, cached.stdout) == (plain.exit_code, plain.stdout)
    return cached.exit_code, json.loads(cached.stdout)


def test_another_build_of_the_tool_starts_afresh(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache_dir = tmp_path / "cache"
    first = assert_same_as_without_cache(repo, cache_dir)
    pack = next(cache_dir.glob("files-*.pack")).read_bytes()
    monkeypatch.setattr(cache_module.gitops_lint, "__version__", "99.0.0")
    assert assert_same_as_without_cache(repo, cache_dir) == first
    assert next(cache_dir.glob("files-*.pack")).read_bytes() != pack  # rewritten for the new build


def test_a_file_read_outside_discovery_is_part_of_the_key(repo: Path, tmp_path: Path) -> None:
    """`vars.env` is no YAML file: only the view reads it (configMapGenerator -> substituteFrom)."""
    cache_dir = tmp_path / "cache"
    good = assert_same_as_without_cache(repo, cache_dir)
    (repo / "clusters/prod/vars.env").write_text("SOURCE_NAME=elsewhere\n")
    bad = assert_same_as_without_cache(repo, cache_dir)
    assert ("REF001", "apps/podinfo.yaml", 23) in set(findings(bad)) - set(findings(good)), findings(bad)
    (repo / "clusters/prod/vars.env").unlink()
    assert_same_as_without_cache(repo, cache_dir)


def test_a_sourceignore_added_anywhere_changes_the_result(repo: Path, tmp_path: Path) -> None:
    """Any `.sourceignore` in the repository changes Flux's artifact (it drops the default exclusions too),
    even in a folder no Kustomization builds and that holds no YAML: adding, editing, removing one is seen."""
    cache_dir = tmp_path / "cache"
    write_tree(repo, {"apps/kustomization.yaml": "resources:\n  - podinfo.yaml\n  - broken.yaml\n"
                                                 "configMapGenerator:\n  - name: logo\n    files: [logo.png]\n",
                      "apps/logo.png": "PNG", "docs/readme.md": "docs\n"})
    png_left_out = ("REF012", "apps/kustomization.yaml", 6)
    assert png_left_out in findings(assert_same_as_without_cache(repo, cache_dir))  # Flux's default: no *.png
    write_tree(repo, {"docs/.sourceignore": "*.drawio\n"})  # a rule: the defaults go, the .png is kept
    assert png_left_out not in findings(assert_same_as_without_cache(repo, cache_dir))
    write_tree(repo, {"docs/.sourceignore": "*.drawio\n/apps/logo.png\n"})  # docs/apps/logo.png: not ours
    assert png_left_out not in findings(assert_same_as_without_cache(repo, cache_dir))
    write_tree(repo, {".sourceignore": "/apps/logo.png\n"})
    assert png_left_out in findings(assert_same_as_without_cache(repo, cache_dir))
    (repo / ".sourceignore").unlink()
    (repo / "docs/.sourceignore").unlink()
    assert png_left_out in findings(assert_same_as_without_cache(repo, cache_dir))


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "flip", "middle"])
def test_a_damaged_cache_is_rebuilt_never_fatal(repo: Path, tmp_path: Path, damage: str) -> None:
    cache_dir = tmp_path / "cache"
    expected = assert_same_as_without_cache(repo, cache_dir)
    for entry in [*cache_dir.glob("files-*.pack"), *cache_dir.glob("result-*.bin")]:
        data = entry.read_bytes()
        if damage == "truncate":
            entry.write_bytes(data[: len(data) * 2 // 3])
        elif damage == "garbage":
            entry.write_bytes(os.urandom(len(data)))
        elif damage == "empty":
            entry.write_bytes(b"")
        elif damage == "middle":  # inside the records of a pack: its header still vouches for them
            at = len(data) // 4
            entry.write_bytes(data[:at] + bytes(b ^ 0xFF for b in data[at : at + 16]) + data[at + 16 :])
        else:
            entry.write_bytes(data[:-40] + bytes(b ^ 0xFF for b in data[-40:]))
    assert assert_same_as_without_cache(repo, cache_dir) == expected
    (repo / "apps/podinfo.yaml").write_text(APP + "\n")  # the pack is used for records again: still whole
    assert_same_as_without_cache(repo, cache_dir)
    assert_same_as_without_cache(repo, cache_dir)


def test_foreign_files_in_the_cache_folder_are_ignored(repo: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    expected = assert_same_as_without_cache(repo, cache_dir)
    for entry in [*cache_dir.glob("files-*.pack"), *cache_dir.glob("result-*.bin")]:
        entry.unlink()
        entry.mkdir()  # a folder where a file should be
    assert assert_same_as_without_cache(repo, cache_dir) == expected


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_cache_that_cannot_be_written_is_a_warning(repo: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "locked"
    cache_dir.mkdir()
    cache_dir.chmod(0o500)
    try:
        result = CliRunner().invoke(main, ["check", "--isolated", "--cache-dir", str(cache_dir), "."])
    finally:
        cache_dir.chmod(0o700)
    assert result.exit_code == 1
    assert "warning: cannot write the cache" in result.stderr


def test_a_cache_path_that_is_a_file_is_a_warning(repo: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    result = CliRunner().invoke(main, ["check", "--isolated", "--cache-dir", str(blocker / "cache"), "."])
    assert result.exit_code == 1, result.output
    assert "warning: cannot write the cache" in result.stderr
    assert "Traceback" not in result.output


def test_concurrent_runs_leave_a_valid_cache(repo: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    command = [sys.executable, "-m", "gitops_lint", "check", "--isolated", "--format", "json",
               "--cache-dir", str(cache_dir), "."]
    env = {k: v for k, v in os.environ.items() if k != "GITOPS_LINT_CACHE_DIR"}
    for round_ in range(3):
        (repo / "apps/podinfo.yaml").write_text(APP + "\n" * round_)  # each round has something to write
        runs = [subprocess.Popen(command, cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
                for _ in range(4)]
        outputs = [run.communicate(timeout=120) for run in runs]
        assert {run.returncode for run in runs} == {1}
        assert len({out for out, _ in outputs}) == 1
        assert not any(err.strip() for _, err in outputs), outputs[0][1]
        assert not list(cache_dir.glob(".*.tmp"))  # no temporary file left behind
        assert_same_as_without_cache(repo, cache_dir)


def test_jobs_do_not_change_the_output(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gitops_lint import load

    write_tree(repo, {f"apps/many/cm-{i:03}.yaml": (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n" + ("  name: twice\n" if i % 7 == 0 else ""))
        for i in range(60)})
    monkeypatch.setattr(load, "PARALLEL_MIN_FILES", 1)
    outputs = set()
    for jobs in ("1", "2", "3"):
        result = CliRunner().invoke(main, ["check", "--isolated", "--no-cache", "--format", "json", "-j", jobs, "."])
        outputs.add(result.stdout)
    # with the cache: a first run hashes files in the workers, a second takes every record from the pack
    for _ in range(2):
        result = CliRunner().invoke(main, ["check", "--isolated", "--cache-dir", str(repo.parent / "cache"),
                                           "--format", "json", "-j", "2", "."])
        outputs.add(result.stdout)
    text = CliRunner().invoke(main, ["check", "--isolated", "--cache-dir", str(repo.parent / "cache"), "-j", "2", "."])
    assert "(all from the cache)" in text.stdout
    assert len(outputs) == 1
    assert sum(1 for d in json.loads(outputs.pop())["diagnostics"] if d["rule"] == "YAML002") >= 9


def test_clean_removes_the_cache_and_nothing_else(repo: Path, tmp_path: Path) -> None:
    CliRunner().invoke(main, ["check", "--isolated", "."], env={"GITOPS_LINT_CACHE_DIR": None})
    assert (repo / ".gitops-lint-cache").is_dir()
    result = CliRunner().invoke(main, ["clean"], env={"GITOPS_LINT_CACHE_DIR": None})
    assert result.exit_code == 0 and "removed" in result.output and not (repo / ".gitops-lint-cache").exists()
    assert (repo / "apps/podinfo.yaml").is_file()
    again = CliRunner().invoke(main, ["clean"], env={"GITOPS_LINT_CACHE_DIR": None})
    assert again.exit_code == 0 and "no cache at" in again.output
    # a folder that is no cache of ours is refused, whatever --cache-dir says
    elsewhere = tmp_path / "precious"
    elsewhere.mkdir()
    (elsewhere / "data.txt").write_text("keep me")
    refused = CliRunner().invoke(main, ["clean", "--cache-dir", str(elsewhere)])
    assert refused.exit_code == 2 and "not a gitops-lint cache folder" in refused.output
    assert (elsewhere / "data.txt").read_text() == "keep me"


def test_the_cache_stays_bounded(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache_dir = tmp_path / "cache"
    monkeypatch.setattr(cache_module, "_KEEP_RESULTS", 3)
    for rule in ("YAML", "REF", "SCH", "AGT", "FLX"):  # a result per set of options
        check(repo, "--select", rule, cache_dir=cache_dir)
    assert len(list(cache_dir.glob("result-*.bin"))) == 3
    leftover = cache_dir / ".files-x.pack.abc.tmp"  # what a killed run leaves
    leftover.write_bytes(b"partial")
    os.utime(leftover, (time.time() - 7200, time.time() - 7200))
    check(repo, "--select", "TOK", cache_dir=cache_dir)
    assert not leftover.exists()


def test_clean_of_a_path_that_does_not_exist_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["clean", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "path does not exist" in result.output


def test_files_written_atomically_get_the_mode_of_a_new_file(tmp_path: Path) -> None:
    """Reports, OCI layouts, created fix files: the umask's mode, not mkstemp's private 0600."""
    import os
    import stat

    from gitops_lint.cache import write_atomically

    previous = os.umask(0o027)
    try:
        write_atomically(tmp_path / "a", [b"x"])
        write_atomically(tmp_path / "b", [b"y"], 0o600)
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "b").stat().st_mode) == 0o600
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left


@pytest.mark.parametrize("count", [1, 47, 48, 49, 500])
def test_parallel_loading_gives_each_file_once_and_leaves_no_spool(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    """Workers hand their records over in files (not through the pool's pipe): each file is loaded once,
    in discovery order, and the spool folder is gone afterwards, whatever the split."""
    import tempfile

    from gitops_lint import load
    from gitops_lint.discover import discover

    root = tmp_path / "many"
    write_tree(root, {f"cm-{i:04}.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n"
                      for i in range(count)})
    spool_parent = tmp_path / "tmp"
    spool_parent.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool_parent))
    monkeypatch.setattr(load, "PARALLEL_MIN_FILES", 1)
    identities = load.identify(discover([root]).files, None)
    loaded = load.load(identities, None, jobs=3)
    assert loaded.parsed == count
    assert [f.rel for f in loaded.files] == [i.candidate.rel for i in identities]
    assert [f.documents[0].data["metadata"]["name"] for f in loaded.files] == [
        f"cm-{i}" for i in range(count)]
    assert list(spool_parent.iterdir()) == []


def test_parallel_loading_of_files_of_every_size_keeps_discovery_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers take the largest files first (their sizes known to the cache), this process the smallest:
    each file is still loaded once, into its own place in discovery order, and recorded in the cache."""
    from gitops_lint import load
    from gitops_lint.discover import discover

    root = tmp_path / "sizes"
    padding = "# " + "x" * 200 + "\n"
    write_tree(root, {f"cm-{i:03}.yaml": padding * ((i * 37) % 101) + f"apiVersion: v1\nkind: ConfigMap\n"
                      f"metadata:\n  name: cm-{i}\n" for i in range(300)})
    monkeypatch.setattr(load, "PARALLEL_MIN_FILES", 1)
    cache = cache_module.Cache(tmp_path / "cache", root)
    identities = load.identify(discover([root]).files, cache)
    assert len({i.state[0] for i in identities}) > 50  # sizes the order of work follows
    loaded = load.load(identities, cache, jobs=3)
    assert loaded.parsed == 300
    assert [f.documents[0].data["metadata"]["name"] for f in loaded.files] == [f"cm-{i}" for i in range(300)]
    assert all(cache.files[i.candidate.name][1] == cache_module.digest((root / i.candidate.rel).read_bytes())
               for i in identities)


def test_parallel_loading_without_a_temporary_folder_parses_here(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers hand records over in a temporary folder; where none can be made, this process parses
    every file itself, with the same result."""
    import tempfile

    from gitops_lint import load
    from gitops_lint.discover import discover

    root = tmp_path / "many"
    write_tree(root, {f"cm-{i:03}.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n"
                      for i in range(60)})

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "/tmp")

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    monkeypatch.setattr(load, "PARALLEL_MIN_FILES", 1)
    loaded = load.load(load.identify(discover([root]).files, None), None, jobs=2)
    assert [f.documents[0].data["metadata"]["name"] for f in loaded.files] == [f"cm-{i}" for i in range(60)]


def _pack_with(cache_dir: Path, root: Path, records: dict[str, bytes]) -> "cache_module.Cache":
    """A run over files named by `records` (each its own content): their records added where missing, saved."""
    cache = cache_module.Cache(cache_dir, root)
    for name, record in records.items():
        content = cache_module.digest(name.encode())
        cache.files[name] = ((0, 0, 0, 0), content)
        if cache.record(content, "yaml") is None:
            cache.add_record(content, "yaml", record)
    cache.save()
    return cache


@pytest.mark.parametrize("still_used", [9, 2])
def test_a_new_pack_keeps_exactly_the_records_still_used(tmp_path: Path, still_used: int) -> None:
    """A few changed files copy the old pack whole (one write); a repository mostly gone copies record by
    record. Either way every record still used reads back as written, and the pack stays bounded."""
    cache_dir, root = tmp_path / "cache", tmp_path / "repo"
    old = {f"f{i}.yaml": bytes([i]) * 4096 for i in range(10)}
    _pack_with(cache_dir, root, old)
    new = {**dict(list(old.items())[:still_used]), "new.yaml": b"n" * 4096}
    _pack_with(cache_dir, root, new)
    reread = cache_module.Cache(cache_dir, root)
    for name, record in new.items():
        assert bytes(reread.record(cache_module.digest(name.encode()), "yaml")) == record, name
    for name in set(old) - set(new):
        assert reread.record(cache_module.digest(name.encode()), "yaml") is None
    reread.close()
    size = next(cache_dir.glob("files-*.pack")).stat().st_size
    assert size < 2 * 4096 * len(new) + 4096
    if still_used < 5:
        assert size < 4096 * (len(new) + 1)  # compacted: nothing of the files gone
    else:
        assert size > 4096 * len(old)  # copied whole: the one record gone is still in it
