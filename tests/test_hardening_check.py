"""Issue 19, `check` side: nothing skipped in silence, file names as the OS's bytes, messages that name the
right thing, compile output left out. Each test failed before its fix.

Runs that need a folder nobody may read make `os.scandir` refuse it in-process (monkeypatch), because
`chmod 000` stops nobody when the tests run as root, as CI does.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner

from gitops_lint.cli import main
from gitops_lint.discover import COMPILE_MARKER, discover, printable
from tests.conftest import write_tree

NS = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n"
DUPLICATE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  name: b\n"
LATIN1_NAME = os.fsdecode(b"caf\xe9.yaml")  # a file name that is not UTF-8: "caf\udce9.yaml"
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
needs_bytes_names = pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="file names must be UTF-16/UTF-8")


def cli(args: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch):
    """The real CLI, in-process (so a monkeypatched os.scandir applies)."""
    monkeypatch.chdir(cwd)
    monkeypatch.delenv("GITOPS_LINT_CONFIG", raising=False)
    return CliRunner().invoke(main, ["check", *args], catch_exceptions=False)


def lock(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """`folder` cannot be listed, nor anything in it looked up, as after `chmod 000` for a user who is not
    root (discovery lists walked folders, and lstats what git listed)."""
    real_scandir, real_lstat = os.scandir, os.lstat
    locked = os.path.realpath(folder)

    def scandir(path="."):
        if os.path.realpath(os.fspath(path)) == locked:
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_scandir(path)

    def lstat(path, *args, **kwargs):
        if os.path.realpath(os.path.dirname(os.fspath(path))) == locked:
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_lstat(path, *args, **kwargs)

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "lstat", lstat)


def git_init(path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(path)], check=True)


# --------------------------------------------------------------------------- fault 1: findings hidden


@pytest.mark.parametrize("in_git", [False, True], ids=["walk", "git"])
def test_an_unreadable_folder_is_reported_not_skipped(tmp_path, monkeypatch, in_git) -> None:
    write_tree(tmp_path, {"ok.yaml": NS, "locked/bad.yaml": DUPLICATE})
    if in_git:
        git_init(tmp_path)
    lock(monkeypatch, tmp_path / "locked")
    result = cli(["--format", "json", "."], tmp_path, monkeypatch)
    assert result.exit_code == 1, result.output
    (finding,) = json.loads(result.stdout)["diagnostics"]
    assert (finding["rule"], finding["path"], finding["line"], finding["column"]) == ("YAML009", "locked", 1, 1)
    assert "cannot read folder" in finding["message"] and "Permission denied" in finding["message"]


def test_a_named_folder_that_cannot_be_read_is_exit_2_with_its_finding(tmp_path, monkeypatch) -> None:
    write_tree(tmp_path, {"locked/bad.yaml": DUPLICATE})
    lock(monkeypatch, tmp_path / "locked")
    result = cli(["-q", "locked"], tmp_path, monkeypatch)
    assert result.exit_code == 2 and "YAML009" in result.stdout and "locked" in result.stderr, result.output


@needs_fifo
def test_a_named_fifo_is_exit_2_naming_it(tmp_path, monkeypatch) -> None:
    write_tree(tmp_path, {"ok.yaml": NS})
    os.mkfifo(tmp_path / "pipe.yaml")
    for args in (["pipe.yaml"], ["ok.yaml", "pipe.yaml"]):
        result = cli(args, tmp_path, monkeypatch)
        assert result.exit_code == 2 and result.stdout == "", result.output
        assert "pipe.yaml" in result.stderr and "FIFO" in result.stderr


def test_a_named_symlink_out_of_the_root_is_exit_2(tmp_path, monkeypatch) -> None:
    write_tree(tmp_path, {"outside/secret.yaml": NS, "root/ok.yaml": NS})
    os.symlink(tmp_path / "outside" / "secret.yaml", tmp_path / "root" / "link.yaml")
    result = cli(["link.yaml"], tmp_path / "root", monkeypatch)
    assert result.exit_code == 2 and result.stdout == ""
    assert "link.yaml" in result.stderr and "outside the root" in result.stderr
    # inside a named folder the same link is left out as before: only named paths must be checkable
    assert cli(["."], tmp_path / "root", monkeypatch).exit_code == 0


def test_dev_null_named_is_exit_2(tmp_path, monkeypatch) -> None:
    if not stat.S_ISCHR(os.stat(os.devnull).st_mode):
        pytest.skip(f"{os.devnull} is no device here")
    result = cli([os.devnull], tmp_path, monkeypatch)
    assert result.exit_code == 2 and result.stdout == "" and os.devnull in result.stderr
    assert "character device" in result.stderr


AGENT = ".gitlab/agents/prod/config.yaml"


@pytest.mark.parametrize(("files", "path", "line", "words"), [
    ({AGENT: "- flux\n- ci_access\n"}, AGENT, 1, "the agent config is a list"),
    ({AGENT: "just text\n"}, AGENT, 1, "the agent config is a scalar (a string)"),
    ({"apps/all.yaml": NS + "---\n- a\n- b\n"}, "apps/all.yaml", 6, "other documents are Kubernetes objects"),
    ({"apps/kustomization.yaml": "resources: [list.yaml]\n", "apps/list.yaml": "- a\n- b\n"},
     "apps/list.yaml", 1, "a kustomization builds this file as a resource"),
    ({"apps/kustomization.yaml": "- resources\n"}, "apps/kustomization.yaml", 1, "reads this file as a Kustomization"),
], ids=["agent-list", "agent-scalar", "beside-objects", "kustomize-resource", "kustomization-file"])
def test_a_list_or_scalar_where_an_object_belongs_is_reported(tmp_path, monkeypatch, files, path, line, words):
    write_tree(tmp_path, files)
    result = cli(["--format", "json", "."], tmp_path, monkeypatch)
    found = [d for d in json.loads(result.stdout)["diagnostics"] if d["rule"] == "TYP001"]
    assert [(d["path"], d["line"], d["column"]) for d in found] == [(path, line, 1)], result.stdout
    assert words in found[0]["message"] and result.exit_code == 1


def test_lists_in_ordinary_yaml_files_are_not_reported(tmp_path, monkeypatch) -> None:
    write_tree(tmp_path, {
        "ansible/site.yml": "- hosts: all\n  roles: [base]\n",
        "charts/app/values.yaml": "- a\n",
        "Taskfile.yaml": "- just a list\n",
        ".github/labels.yaml": "- name: bug\n",
        "talos/patch.yaml": "- op: add\n  path: /x\n  value: 1\n",
        "apps/kustomization.yaml": "resources: [ns.yaml]\npatches:\n  - path: patch.yaml\n",
        "apps/ns.yaml": NS,
        "apps/patch.yaml": "- op: add\n  path: /metadata/labels/x\n  value: y\n",
        "docs/empty.yaml": "---\n---\n",
    })
    result = cli(["--format", "json", "."], tmp_path, monkeypatch)
    assert [d for d in json.loads(result.stdout)["diagnostics"] if d["rule"] == "TYP001"] == []


# --------------------------------------------------------------------------- fault 2: file names are bytes


def test_printable_is_the_one_rule_for_file_names() -> None:
    assert printable("apps/ü x.yaml") == "apps/ü x.yaml"
    assert printable(LATIN1_NAME) == "caf\\xe9.yaml"
    assert printable("a\nb\x1b[31m.yaml") == "a\\nb\\x1b[31m.yaml"
    assert printable("zero\u200bwidth.yaml") == "zero\\u200bwidth.yaml"


@needs_bytes_names
@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "gitlab", "junit", "github"])
def test_a_file_name_that_is_not_utf8_in_every_format(tmp_path, fmt) -> None:
    write_tree(tmp_path, {"ok.yaml": NS})
    (tmp_path / os.fsencode(LATIN1_NAME).decode("latin-1").encode("latin-1").decode("utf-8", "surrogateescape")
     ).write_text(DUPLICATE, encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "gitops_lint", "check", "--format", fmt, "."], cwd=tmp_path,
                         capture_output=True, check=False, env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert out.returncode == 1, out.stderr
    stdout = out.stdout.decode("utf-8")  # strict: every format is valid UTF-8
    assert "Traceback" not in out.stderr.decode("utf-8", "replace") and b"internal error" not in out.stderr
    if fmt == "json":
        assert json.loads(stdout)["diagnostics"][0]["path"] == "caf\\xe9.yaml"
    elif fmt == "sarif":
        result = json.loads(stdout)["runs"][0]["results"][0]
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "caf%5Cxe9.yaml"
    elif fmt == "gitlab":
        assert json.loads(stdout)[0]["location"]["path"] == "caf\\xe9.yaml"
    else:
        assert "caf\\xe9.yaml" in stdout


def test_reports_escape_any_other_byte_that_is_not_utf8() -> None:
    """A message may quote an OS string (a symlink's target): the renderers make it valid UTF-8 too."""
    from gitops_lint.catalogue import load_catalogue
    from gitops_lint.diagnostics import Diagnostic, Severity, Span
    from gitops_lint.report import FORMATS, ReportInput, renderer

    d = Diagnostic("YAML009", "unreadable-file", Severity.ERROR, f"broken symlink to {LATIN1_NAME}",
                   LATIN1_NAME, Span.point(1), fingerprint="f")
    summary = {"files": 1, "documents": 0, "objects": 0, "errors": 1, "warnings": 0, "infos": 0}
    for fmt in FORMATS:
        text = renderer(fmt)(ReportInput([d], summary, load_catalogue()))
        text.encode("utf-8")  # no surrogate left
        assert "caf\\xe9.yaml" in text or "caf\\\\xe9.yaml" in text or "caf%5Cxe9.yaml" in text, fmt


# --------------------------------------------------------------------------- fault 4: the right name


@pytest.mark.parametrize("setting", ["select: [NOPE1]", "ignore: [NOPE1]", "severity: {NOPE1: info}",
                                     "per-path-ignores: {'a/*': [NOPE1]}"])
def test_an_unknown_rule_selector_in_the_config_names_the_config_file(tmp_path, monkeypatch, setting) -> None:
    write_tree(tmp_path, {"ok.yaml": NS, ".gitops-lint.yaml": setting + "\n"})
    result = cli(["ok.yaml"], tmp_path, monkeypatch)
    assert result.exit_code == 2 and result.stdout == ""
    config = tmp_path / ".gitops-lint.yaml"
    assert f"config {config}: unknown rule selector 'NOPE1'" in result.stderr, result.stderr
    # on the command line it is the option's error, not the config's
    assert "config " not in cli(["--isolated", "--select", "NOPE2", "ok.yaml"], tmp_path, monkeypatch).stderr


@pytest.mark.parametrize("named", [["."], ["a.yaml"]], ids=["in-folder", "named"])
def test_a_symlink_loop_is_called_a_loop(tmp_path, monkeypatch, named) -> None:
    write_tree(tmp_path, {"ok.yaml": NS})
    os.symlink("b.yaml", tmp_path / "a.yaml")
    os.symlink("a.yaml", tmp_path / "b.yaml")
    result = cli(["-q", *named], tmp_path, monkeypatch)
    assert result.exit_code == 1, result.output
    assert "a.yaml:1:1: error YAML009 cannot read file: symlink loop" in result.stdout
    assert "broken" not in result.stdout


def test_an_empty_folder_is_exit_2_and_only_the_error(tmp_path, monkeypatch) -> None:
    (tmp_path / "empty").mkdir()
    result = cli(["empty"], tmp_path, monkeypatch)
    assert result.exit_code == 2 and result.stdout == ""
    assert "no YAML files found to check in empty" in result.stderr


# --------------------------------------------------------------------------- fault 6: compile output


def test_the_compile_marker_is_the_one_compile_writes() -> None:
    from gitops_lint.compile.tree import MARKER

    assert COMPILE_MARKER == MARKER


@pytest.mark.parametrize("in_git", [False, True], ids=["walk", "git"])
def test_compile_output_in_the_tree_is_left_out_and_named_once(tmp_path, monkeypatch, in_git) -> None:
    write_tree(tmp_path, {
        "apps/bad.yaml": DUPLICATE,
        f"out/{COMPILE_MARKER}": "Written by `gitops-lint compile`\n",
        "out/apps/bad.yaml": DUPLICATE,
        f"out/nested/{COMPILE_MARKER}": "",
        "out/nested/x.yaml": DUPLICATE,
    })
    if in_git:
        git_init(tmp_path)
    result = cli(["--format", "json", "."], tmp_path, monkeypatch)
    found = [(d["rule"], d["path"], d["severity"]) for d in json.loads(result.stdout)["diagnostics"]]
    assert found == [("YAML002", "apps/bad.yaml", "error"), ("YAML010", f"out/{COMPILE_MARKER}", "info")]
    assert json.loads(result.stdout)["summary"]["files"] == 1
    # named on its own, the output folder is checked: that is what was asked
    named = cli(["--format", "json", "out"], tmp_path, monkeypatch)
    assert {d["path"] for d in json.loads(named.stdout)["diagnostics"]} >= {"out/apps/bad.yaml"}


def test_compile_output_excluded_by_the_config_is_left_out_silently(tmp_path) -> None:
    write_tree(tmp_path, {"ok.yaml": NS, f"out/{COMPILE_MARKER}": "", "out/x.yaml": NS})
    found = discover(["."], cwd=tmp_path, excludes=["/out/"])
    assert [c.rel for c in found.files] == ["ok.yaml"] and found.problems == [] and found.compiled == []


# --------------------------------------------------------------------------- the bad-input set


def _fifo(root: Path, monkeypatch) -> list[str]:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    os.mkfifo(root / "pipe.yaml")
    return ["pipe.yaml"]


def _dev_null(root: Path, monkeypatch) -> list[str]:
    if not stat.S_ISCHR(os.stat(os.devnull).st_mode):
        pytest.skip(f"{os.devnull} is no device here")
    return [os.devnull]


def _unreadable(root: Path, monkeypatch) -> list[str]:
    write_tree(root, {"ok.yaml": NS, "locked/a.yaml": DUPLICATE})
    lock(monkeypatch, root / "locked")
    return ["."]


def _link_out(root: Path, monkeypatch) -> list[str]:
    outside = root.parent / f"{root.name}-outside.yaml"
    outside.write_text(NS, encoding="utf-8")
    os.symlink(outside, root / "link.yaml")
    return ["link.yaml"]


def _loop(root: Path, monkeypatch) -> list[str]:
    os.symlink("loop.yaml", root / "loop.yaml")
    return ["loop.yaml"]


def _latin1(root: Path, monkeypatch) -> list[str]:
    if sys.platform in ("win32", "darwin"):
        pytest.skip("file names must be UTF-16/UTF-8 here")
    (root / LATIN1_NAME).write_text(DUPLICATE, encoding="utf-8")
    return ["."]


def _empty(root: Path, monkeypatch) -> list[str]:
    (root / "empty").mkdir()
    return ["empty"]


def _files(files: dict[str, str | bytes], args: list[str]) -> Callable:
    def make(root: Path, monkeypatch) -> list[str]:
        write_tree(root, files)
        return args
    return make


#: (id, setup returning the CLI paths, exit code, what the output must name)
BAD_INPUTS = [
    ("unreadable-folder", _unreadable, 1, ["locked", "YAML009"]),
    ("fifo-named", _fifo, 2, ["pipe.yaml", "FIFO"]),
    ("dev-null-named", _dev_null, 2, [os.devnull]),
    ("symlink-out-of-root-named", _link_out, 2, ["link.yaml", "outside the root"]),
    ("symlink-loop", _loop, 1, ["loop.yaml", "symlink loop"]),
    ("non-utf8-file-name", _latin1, 1, ["caf\\xe9.yaml", "YAML002"]),
    ("empty-folder", _empty, 2, ["empty"]),
    ("list-document", _files({"a.yaml": NS + "---\n- a\n"}, ["a.yaml"]), 1, ["a.yaml", "TYP001"]),
    ("scalar-document", _files({AGENT: "42\n"}, ["."]), 1, [AGENT, "TYP001"]),
    ("binary-file", _files({"img.yaml": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xd8"}, ["img.yaml"]), 1,
     ["img.yaml", "YAML006"]),
    ("nul-bytes", _files({"nul.yaml": b"apiVersion: v1\nkind: Con\x00figMap\n"}, ["."]), 1, ["nul.yaml", "YAML006"]),
]


@pytest.mark.parametrize(("setup", "code", "named"), [pytest.param(*row[1:], id=row[0]) for row in BAD_INPUTS])
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_the_bad_input_set(tmp_path, monkeypatch, setup, code, named, fmt) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    args = setup(root, monkeypatch)
    result = cli(["--format", fmt, *args], root, monkeypatch)
    everything = result.stdout + result.stderr
    assert "Traceback" not in everything and "internal error" not in everything
    assert result.exit_code == code, everything
    if code == 2:
        assert "All clear" not in result.stdout and result.stderr.startswith("gitops-lint: error: ")
    else:
        assert "All clear" not in result.stdout
    if fmt == "json" and code == 2 and result.stdout:
        json.loads(result.stdout)
    for word in named:
        assert word in (everything if fmt == "text" else everything.replace("\\\\", "\\")), (word, everything)


def test_a_list_document_flux_builds_is_reported_once(tmp_path, monkeypatch) -> None:
    """REF012 (which names the failing Flux Kustomization) and TYP001 judge the same document: one finding."""
    write_tree(tmp_path, {
        "clusters/prod/apps.yaml": ("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n"
                                    "  name: apps\n  namespace: flux-system\nspec:\n  interval: 10m\n  prune: true\n"
                                    "  path: ./apps\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"),
        "apps/kustomization.yaml": "resources: [list.yaml, mixed.yaml]\n",
        "apps/list.yaml": "- a\n",
        "apps/mixed.yaml": NS + "---\n- x\n",
    })
    result = cli(["--format", "json", "."], tmp_path, monkeypatch)
    found = [(d["rule"], d["path"], d["line"]) for d in json.loads(result.stdout)["diagnostics"] if d["severity"] == "error"]
    assert found == [("REF012", "apps/list.yaml", 1), ("REF012", "apps/mixed.yaml", 6)]
