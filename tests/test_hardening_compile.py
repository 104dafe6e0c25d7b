"""Issue 19, the compile and graph side: nothing left behind, no traceback, messages naming what the user named.

Signals are sent to real `python -m gitops_lint compile` runs. To hit a known point, the writer stops where
`GITOPS_LINT_TEST_STALL` says (`written`: the new tree complete in its temporary folder; `swapped`: the new
tree in place, the old one not yet removed) and says so on stderr. Unwritable folders and full disks are
simulated by monkeypatching (CI runs as root, where chmod stops nothing).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from gitops_lint.cli import main
from gitops_lint.compile import MARKER, CompileError, write_tree
from tests.conftest import PROJECT, write_tree as write_files
from tests.test_cli import run

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{n}\n  namespace: apps\ndata:\n  key: value-{n}\n"
AGENT = "gitops:\n  manifest_projects:\n    - id: acme/manifests\n      paths:\n        - glob: '/prod/**/*.yaml'\n"


def big_repo(root: Path, count: int = 400, version: str = "a") -> Path:
    """A repository of `count` files (one ConfigMap each), in folders of 20."""
    return write_files(root, {f"apps/f{n // 20}/cm{n}.yaml": CONFIGMAP.format(n=f"{n}{version}")
                              for n in range(count)})


def leftovers(folder: Path) -> list[str]:
    """Temporary folders of ours beside an output folder `out`."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".out."))


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "GITOPS_LINT_CONFIG")}
    return {**base, **extra}


def start_stalled(args: list[str], cwd: Path, stage: str) -> subprocess.Popen:
    """A compile that stops at `stage` of writing; returns once it is there (stderr says so)."""
    # SIGINT back to its default: a shell's background job (`pytest &`) starts with it ignored, and Python
    # keeps an ignored SIGINT ignored, so Ctrl-C would never reach the run under test.
    proc = subprocess.Popen([sys.executable, "-m", "gitops_lint", *args], cwd=cwd, env=env(GITOPS_LINT_TEST_STALL=stage),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen = []
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if f"test stall at {stage}" in line:
            return proc
    proc.kill()
    raise AssertionError(f"the run never reached {stage}: {''.join(seen)}")


def finish(proc: subprocess.Popen) -> tuple[int, str]:
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


def tree_files(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): p.read_text() for p in sorted(out.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------- fault 3: left behind


def test_sigkill_leaves_a_temporary_folder_that_the_next_run_removes(tmp_path: Path) -> None:
    repo = big_repo(tmp_path / "repo")
    assert run(["compile", "-o", "../out", "."], repo).returncode == 0
    old = tree_files(tmp_path / "out")
    big_repo(repo, version="b")
    proc = start_stalled(["compile", "-o", "../out", "."], repo, "written")
    proc.send_signal(signal.SIGKILL)
    assert finish(proc)[0] == -signal.SIGKILL
    stale = leftovers(tmp_path)
    assert len(stale) == 1 and stale[0].endswith(".tmp")  # what a killed run leaves: its whole new tree
    assert len(list((tmp_path / stale[0]).rglob("*.yaml"))) == 400 and (tmp_path / stale[0] / MARKER).is_file()
    assert tree_files(tmp_path / "out") == old  # the old output is intact
    # A --check or --diff writes nothing, so it leaves it; the next write removes it.
    again = run(["compile", "-o", "../out", "."], repo)
    assert again.returncode == 0, again.stderr
    assert leftovers(tmp_path) == []
    assert "value-0b" in (tmp_path / "out/apps/f0/cm0.yaml").read_text()


def test_sigint_during_the_cleanup_after_the_swap_exits_130_and_cleans_up(tmp_path: Path) -> None:
    repo = big_repo(tmp_path / "repo")
    assert run(["compile", "-o", "../out", "."], repo).returncode == 0
    big_repo(repo, version="b")
    proc = start_stalled(["compile", "-o", "../out", "."], repo, "swapped")
    proc.send_signal(signal.SIGINT)
    code, err = finish(proc)
    assert code == 130, err  # not 1 ("Aborted!"), which means findings
    assert "Aborted!" not in err and "interrupted" in err and "Traceback" not in err
    assert "value-0b" in (tmp_path / "out/apps/f0/cm0.yaml").read_text()  # the new tree is in place
    assert leftovers(tmp_path) == []  # and the old one, set aside by the swap, is gone


def test_sigint_before_the_swap_keeps_the_old_tree_and_exits_130(tmp_path: Path) -> None:
    repo = big_repo(tmp_path / "repo", count=60)
    assert run(["compile", "-o", "../out", "."], repo).returncode == 0
    old = tree_files(tmp_path / "out")
    big_repo(repo, count=60, version="b")
    proc = start_stalled(["compile", "-o", "../out", "."], repo, "written")
    proc.send_signal(signal.SIGINT)
    code, err = finish(proc)
    assert code == 130 and "Aborted!" not in err, err
    assert tree_files(tmp_path / "out") == old and leftovers(tmp_path) == []


def test_interrupt_in_the_cleanup_after_the_swap_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    write_tree({"a.yaml": "old\n"}, out)
    real = shutil.rmtree
    calls = []

    def interrupted_once(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 1:
            raise KeyboardInterrupt
        return real(path, *args, **kwargs)

    monkeypatch.setattr(shutil, "rmtree", interrupted_once)
    with pytest.raises(KeyboardInterrupt):
        write_tree({"a.yaml": "new\n"}, out)
    monkeypatch.undo()
    assert (out / "a.yaml").read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_only_our_own_stale_folders_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    ours = write_files(tmp_path / ".out.abcd1234.tmp", {MARKER: "x", "a.yaml": "a\n"})
    empty = tmp_path / ".out.abcd_678.tmp"
    empty.mkdir()  # killed before the marker was written
    foreign = write_files(tmp_path / ".out.zzzz9999.tmp", {"notes.txt": "precious"})  # no marker: not ours
    other = write_files(tmp_path / ".out.x.abcd1234.tmp", {MARKER: "x"})  # the output `out.x`'s, not `out`'s
    write_tree({"b.yaml": "b\n"}, out)
    assert not ours.exists() and not empty.exists()
    assert (foreign / "notes.txt").read_text() == "precious" and (other / MARKER).exists()


def test_an_old_tree_set_aside_by_a_killed_swap_is_put_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Killed between the two renames of a swap without renameat2: no `out`, the old tree in `.out.*.old`.
    aside = write_files(tmp_path / ".out.abcdefgh.old", {MARKER: "x", "a.yaml": "old\n"})
    real = Path.write_bytes

    def full(self: Path, data: bytes) -> int:
        if self.name == "b.yaml":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(CompileError):
        write_tree({"a.yaml": "new\n", "b.yaml": "new\n"}, tmp_path / "out")
    assert not aside.exists() and (tmp_path / "out/a.yaml").read_text() == "old\n"
    assert leftovers(tmp_path) == []


# --------------------------------------------------------------------------- fault 4: the right name


def test_concurrent_compiles_into_one_folder_take_turns(tmp_path: Path) -> None:
    repo = big_repo(tmp_path / "repo", count=60)
    first = start_stalled(["compile", "-o", "../out", "."], repo, "written")  # holds the lock
    second = subprocess.Popen([sys.executable, "-m", "gitops_lint", "compile", "-o", "../out", "."], cwd=repo,
                              env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = second.stderr.readline()
    assert "another run is writing beside ../out; waiting" in line, line
    first.send_signal(signal.SIGKILL)
    finish(first)
    code, err = finish(second)
    assert code == 0, err
    assert "Directory not empty" not in err
    assert len(list((tmp_path / "out").rglob("*.yaml"))) == 60 and leftovers(tmp_path) == []


def test_concurrent_compiles_without_hooks(tmp_path: Path) -> None:
    repo = big_repo(tmp_path / "repo", count=40)
    procs = [subprocess.Popen([sys.executable, "-m", "gitops_lint", "compile", "-o", "../out", "."], cwd=repo,
                              env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    results = [finish(p) for p in procs]
    assert all(code == 0 for code, _ in results), results
    assert len(list((tmp_path / "out").rglob("*.yaml"))) == 40 and leftovers(tmp_path) == []


def _compile_in_process(repo: Path, monkeypatch: pytest.MonkeyPatch, *args: str):
    monkeypatch.chdir(repo)
    return CliRunner().invoke(main, ["compile", *args, "."])


def test_unwritable_output_folder_names_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = big_repo(tmp_path / "repo", count=3)
    real = tempfile.mkdtemp

    def denied(*args, **kwargs):
        if str(kwargs.get("prefix", "")).startswith(".out."):
            folder = Path(kwargs["dir"]) / f"{kwargs['prefix']}abcdefgh{kwargs.get('suffix', '')}"
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(folder))
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkdtemp", denied)
    result = _compile_in_process(repo, monkeypatch, "-o", "../out")
    assert result.exit_code == 2, result.output
    assert "cannot write ../out: Permission denied" in result.output
    assert ".tmp" not in result.output and ".out." not in result.output


def test_full_disk_names_the_folder_and_keeps_the_old_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = big_repo(tmp_path / "repo", count=3)
    assert _compile_in_process(repo, monkeypatch, "-o", "../out").exit_code == 0
    old = tree_files(tmp_path / "out")
    big_repo(repo, count=3, version="b")
    real = Path.write_bytes

    def full(self: Path, data: bytes) -> int:
        if self.name == "cm1.yaml":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    result = _compile_in_process(repo, monkeypatch, "-o", "../out")
    assert result.exit_code == 2, result.output
    assert ("cannot write ../out: No space left on device (writing apps/f0/cm1.yaml); its previous contents "
            "are unchanged") in result.output
    monkeypatch.undo()
    assert tree_files(tmp_path / "out") == old and leftovers(tmp_path) == []


def test_output_through_a_symlink_is_named_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = big_repo(tmp_path / "repo", count=3)
    write_files(tmp_path / "real/out", {"notes.txt": "precious"})
    (tmp_path / "link").symlink_to(tmp_path / "real")
    result = _compile_in_process(repo, monkeypatch, "-o", "../link/out")
    assert result.exit_code == 2
    assert "../link/out is not empty and was not written by gitops-lint compile" in result.output
    assert "real" not in result.output
    checked = _compile_in_process(repo, monkeypatch, "-o", "../link/out", "--check")
    assert checked.exit_code == 2 and "../link/out is not empty" in checked.output


# --------------------------------------------------------------------------- fault 2: no traceback


def test_compile_with_file_names_that_are_not_utf8(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    name = os.fsdecode(b"caf\xe9")
    # An agent named by a folder whose name is no UTF-8 (AGT001: GitLab never reads it, hence --force):
    # it appears in the migration report.
    write_files(repo, {f".gitlab/agents/{name}/config.yaml": AGENT, f"{name}.yaml": CONFIGMAP.format(n=1)})
    out = run(["compile", "--force", "--migrate", "--migration-report", "report.json", "-o", "out", "."], repo)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    assert os.path.isfile(os.path.join(os.fsencode(repo / "out"), b"caf\xe9.yaml"))  # the name's own bytes
    report = json.loads((repo / "report.json").read_bytes().decode("utf-8"))  # valid UTF-8 JSON
    assert len({item["agent"] for item in report["report"]}) == 1


def test_migration_report_json_keeps_names_that_are_not_utf8() -> None:
    from gitops_lint.compile.legacy import MigrationResult, report_json

    name = os.fsdecode(b"caf\xe9")
    result = MigrationResult(report=[{"agent": name, "project": "", "field": "gitops", "value": None,
                                      "message": "x…"}])
    text = report_json(result)
    text.encode("utf-8")  # no lone surrogate left: before, writing it raised UnicodeEncodeError
    assert json.loads(text)["report"][0]["agent"] == name and "x…" in text


def test_compile_of_a_finding_in_a_file_whose_name_is_not_utf8_is_no_traceback(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    write_files(repo, {os.fsdecode(b"bad\xe9.yaml"): "a: 1\na: 2\n"})  # an error-level finding (a duplicate key)
    refused = run(["compile", "-o", "out", "."], repo)
    assert refused.returncode in (1, 2) and "Traceback" not in refused.stderr, refused.stderr
    assert "bad" in refused.stderr and "error" in refused.stderr
    for args in (["--force", "-o", "out"], ["--force", "-o", "-"]):
        out = run(["compile", *args, "."], repo)
        assert out.returncode in (0, 1, 2) and "Traceback" not in out.stderr, out.stderr


def _graph_in_process(monkeypatch: pytest.MonkeyPatch, output: Path):
    monkeypatch.chdir(PROJECT)
    return CliRunner().invoke(main, ["graph", "--output", str(output), "examples/"])


def test_graph_output_into_an_unwritable_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = tempfile.mkstemp

    def denied(*args, **kwargs):
        if kwargs.get("dir") == tmp_path:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(tmp_path / ".graph.txt.x1y2"))
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    result = _graph_in_process(monkeypatch, tmp_path / "graph.txt")
    assert result.exit_code == 2, result.output
    assert f"cannot write {tmp_path / 'graph.txt'}: Permission denied" in result.output
    assert "x1y2" not in result.output


def test_graph_output_on_a_full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "graph.txt").write_text("old\n")
    real = os.fdopen

    class Full:
        def __init__(self, handle) -> None:
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            self.handle.close()

        def write(self, text: str) -> int:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def fdopen(fd, *args, **kwargs):
        handle = real(fd, *args, **kwargs)
        return Full(handle) if "w" in (args[0] if args else kwargs.get("mode", "r")) else handle

    monkeypatch.setattr(os, "fdopen", fdopen)
    result = _graph_in_process(monkeypatch, tmp_path / "graph.txt")
    monkeypatch.undo()
    assert result.exit_code == 2, result.output
    assert f"cannot write {tmp_path / 'graph.txt'}: No space left on device" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.txt"]  # no temporary file left
    assert (tmp_path / "graph.txt").read_text() == "old\n"


# --------------------------------------------------------------------------- fault 7: --migrate


#: A GitLab that no longer runs the `gitops` section: there AGT003 is an error, which refuses a compile.
GITLAB_17 = 'gitlab-version: "17.8"\n'


def test_migrate_runs_without_force_and_drops_the_section_it_replaced(tmp_path: Path) -> None:
    write_files(tmp_path, {".gitlab/agents/prod/config.yaml": "observability:\n  logging:\n    level: debug\n" + AGENT,
                           ".gitops-lint.yaml": GITLAB_17})
    refused = run(["compile", "-o", "out", "."], tmp_path)
    assert refused.returncode == 1 and "AGT003" in refused.stderr  # without --migrate, still an error
    out = run(["compile", "--migrate", "--migration-report", "report.json", "-o", "out", "."], tmp_path)
    assert out.returncode == 0, out.stderr
    config = (tmp_path / "out/.gitlab/agents/prod/config.yaml").read_text()
    assert "gitops" not in config and "level: debug" in config
    assert (tmp_path / "out/flux/migrated/prod/manifests.yaml").is_file()
    report = json.loads((tmp_path / "report.json").read_text())
    assert any(item["field"] == "gitops" and "leaves the section out" in item["message"] for item in report["report"])
    assert "compiled agent config leaves the section out" in out.stderr
    # The output, compiled again with --migrate, is itself: nothing left to migrate, no error. (The output
    # folder holds our marker, and the configuration in the folder above must not make it skip itself.)
    again = run(["compile", "--migrate", "-o", "-", "."], tmp_path / "out")
    assert again.returncode == 0, again.stderr
    assert "\ngitops:" not in again.stdout and "level: debug" in again.stdout


def test_migrate_is_still_refused_by_other_errors(tmp_path: Path) -> None:
    write_files(tmp_path, {".gitlab/agents/prod/config.yaml": AGENT,
                           "bad.yaml": "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\n"
                                       "metadata: {name: a, namespace: b}\nspec: {interval: 5m, bogus: 1}\n"})
    refused = run(["compile", "--migrate", "-o", "out", "."], tmp_path)
    assert refused.returncode == 1 and "bad.yaml" in refused.stderr
    assert "AGT003" not in refused.stderr  # what the migration resolves is not listed against it
    assert not (tmp_path / "out").exists()


def test_migrate_keeps_a_section_it_does_not_fully_replace(tmp_path: Path) -> None:
    write_files(tmp_path, {".gitlab/agents/prod/config.yaml": AGENT + "  charts:\n    - release_name: x\n",
                           ".gitops-lint.yaml": GITLAB_17})
    refused = run(["compile", "--migrate", "-o", "out", "."], tmp_path)
    assert refused.returncode == 1 and "AGT003" in refused.stderr


# --------------------------------------------------------------------------- fault 8: graph --focus


def test_focus_keeps_the_kustomizations_applying_what_it_shows() -> None:
    full = run(["graph", "examples/"], PROJECT)
    assert "not applied by any Kustomization" not in full.stdout
    focused = run(["graph", "--focus", "HelmRelease/podinfo/podinfo", "examples/"], PROJECT)
    assert focused.returncode == 0, focused.stderr
    assert "not applied by any Kustomization" not in focused.stdout
    assert "Kustomization/flux-system/infrastructure\n└── HelmRepository/flux-system/podinfo\n" in focused.stdout
    assert "Receiver" not in focused.stdout and "Namespace/podinfo" not in focused.stdout  # still a focus
    as_json = json.loads(run(["graph", "--format", "json", "--focus", "HelmRelease/podinfo/podinfo", "examples/"],
                             PROJECT).stdout)
    assert {"source": "Kustomization/flux-system/infrastructure", "target": "HelmRepository/flux-system/podinfo",
            "relation": "applies"} in as_json["links"]
