"""The output folder: written atomically, checked and diffed; and the `-o -` stream.

A folder we wrote holds a marker file, `.gitops-lint-compiled`. We replace a
folder only when it has the marker or is empty, so a mistyped `-o` can never
delete someone's work. The new tree is built in a temporary folder next to the
target and swapped in by rename, so an interrupted run leaves the old tree or
the new one, never a mix. A run killed outright (SIGKILL, power loss) can leave
that temporary folder behind (`.OUT.xxxxxxxx.tmp`, or `.OUT.xxxxxxxx.old` for
the old tree): it holds our marker, and the next run writing OUT removes it.
Runs writing into the same parent folder take turns (an exclusive `flock` on
that folder), so two compiles into one output never trip over each other.
"""

from __future__ import annotations

import ctypes
import difflib
import errno
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from gitops_lint.cache import umask
from gitops_lint.compile.mask import mask_secrets
from gitops_lint.secrets import redact

MARKER = ".gitops-lint-compiled"
_MARKER_TEXT = "Written by `gitops-lint compile`; the whole folder is replaced on the next run.\n"


class CompileError(Exception):
    """The output folder cannot be written as asked (exit code 2)."""


def compiled_folders(root: Path) -> list[str]:
    """Folders below `root` (not `root` itself) that hold our marker: earlier output, never compiled again."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in (".git", "node_modules"))
        if MARKER in files and Path(folder) != Path(root):
            found.append(Path(folder).relative_to(root).as_posix())
            dirs[:] = []
    return found


def safe_rel(rel: str) -> str:
    """`rel` when it names a file strictly inside the output folder; CompileError otherwise."""
    parts = rel.split("/")
    windows = os.name == "nt" and ("\\" in rel or (len(rel) > 1 and rel[1] == ":"))  # legal names elsewhere
    if (not rel or rel.startswith("/") or windows or "\0" in rel
            or any(p in ("", ".", "..") for p in parts) or rel == MARKER):
        raise CompileError(f"refusing to write {rel!r}: not a relative path inside the output folder")
    return rel


def _check_target(out_dir: Path, action: str = "replace", shown: str | None = None) -> bool:
    """Whether `out_dir` exists (and may be replaced); CompileError when it is not ours to `action`.
    Messages name `shown`, the folder as the user named it (`-o` may lead through a symbolic link)."""
    shown = shown or str(out_dir)
    try:
        if out_dir.is_symlink():
            raise CompileError(f"{shown} is a symbolic link: refusing to {action} it (name a real folder)")
        if not out_dir.exists():
            return False
        if not out_dir.is_dir():
            raise CompileError(f"{shown} exists and is not a folder: refusing to {action} it")
        if not (out_dir / MARKER).is_file() and any(out_dir.iterdir()):
            raise CompileError(f"{shown} is not empty and was not written by gitops-lint compile (no {MARKER} "
                               f"file in it): refusing to {action} it; name a new or empty folder")
    except OSError as exc:
        raise CompileError(f"cannot read {shown}: {_reason(exc)}") from exc
    return True


def _reason(exc: OSError) -> str:
    """What went wrong, without the path the OS names (a temporary one, or none at all)."""
    return exc.strerror or str(exc) or type(exc).__name__


def _bytes(output: str | bytes) -> bytes:
    return output if isinstance(output, bytes) else output.encode("utf-8", errors="surrogateescape")


def write_tree(outputs: dict[str, str | bytes], out_dir: Path, *, shown: str | None = None,
               waiting: Callable[[], None] | None = None) -> None:
    """Replace `out_dir` with exactly `outputs` (plus the marker), atomically.

    `shown` is the folder as the user named it, for messages (default: `out_dir`); `waiting`
    is called once when another run is writing into the same parent folder and this one waits
    for it. Any failure is a CompileError naming `shown`; the old tree is then left as it was.
    An interrupt (KeyboardInterrupt) leaves the old tree or the new one, and no temporary
    folder that it could still remove.
    """
    out_dir = Path(os.path.abspath(out_dir))
    shown = shown or str(out_dir)
    for rel in outputs:
        safe_rel(rel)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CompileError(f"cannot write {shown}: {_reason(exc)} (creating the folder it goes in)") from exc
    with _locked(out_dir.parent, waiting):
        _remove_stale(out_dir)
        _replace(outputs, out_dir, _check_target(out_dir, shown=shown), shown)


def _replace(outputs: dict[str, str | bytes], out_dir: Path, exists: bool, shown: str) -> None:
    step = "creating a temporary folder beside it"
    staging: Path | None = None
    swapped = False
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
        # mkdtemp makes it private (0700); the output is a folder like any other, so the umask decides.
        os.chmod(staging, 0o777 & ~umask())
        step = f"writing {MARKER}"
        (staging / MARKER).write_text(_MARKER_TEXT, encoding="utf-8")  # first: it marks the folder as ours
        made: set[Path] = {staging}
        for rel in sorted(outputs):
            step = f"writing {rel}"
            target = staging / rel
            if target.parent not in made:  # one mkdir per folder, not per file: a 10k-file tree is 4k folders
                target.parent.mkdir(parents=True, exist_ok=True)
                made.update(target.parents)
            target.write_bytes(_bytes(outputs[rel]))
        _test_stall("written")
        step = "moving the new tree into place"
        if not exists:
            try:
                os.rename(staging, out_dir)
                swapped, staging = True, None
            except OSError as exc:
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
                exists = _check_target(out_dir, shown=shown)  # someone made it meanwhile (a run of an old version)
        if not swapped:
            staging = _swap(staging, out_dir)
            swapped = True
    except OSError as exc:
        _remove(staging)
        kept = "its previous contents are unchanged" if exists else "nothing was written"
        raise CompileError(f"cannot write {shown}: {_reason(exc)} ({step}); {kept}") from exc
    except BaseException:  # an interrupt before the swap completed: the old tree stays
        _remove(staging)
        raise
    try:
        _test_stall("swapped")
        _remove(staging)  # after a swap, the old tree
    except BaseException:
        _remove(staging)  # interrupted while removing it: remove what is left, then stop as asked
        raise


def _swap(staging: Path, out_dir: Path) -> Path:
    """Put `staging` in the place of the existing `out_dir`; the old tree's new path (to remove)."""
    if _exchange(staging, out_dir):
        return staging
    # No atomic swap here: two renames, the old tree kept aside until the new one is in place.
    old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".old", dir=out_dir.parent))
    os.rmdir(old)
    os.rename(out_dir, old)
    try:
        os.rename(staging, out_dir)
    except BaseException:
        os.rename(old, out_dir)
        raise
    return old


def _remove(folder: Path | None) -> None:
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


#: Tests only: `written` or `swapped` makes `write_tree` stop there (a line on stderr says so) until
#: signalled, so that a test can kill or interrupt a real run at a known point.
_STALL_VARIABLE = "GITOPS_LINT_TEST_STALL"


def _test_stall(stage: str) -> None:
    if os.environ.get(_STALL_VARIABLE) == stage:
        os.write(2, f"gitops-lint: test stall at {stage}\n".encode())
        time.sleep(120)


@contextmanager
def _locked(folder: Path, waiting: Callable[[], None] | None) -> Iterator[None]:
    """An exclusive lock on `folder` (the output's parent) while we write into it: a second compile
    into the same output waits for the first instead of failing halfway through the swap. Where
    there is no `flock` (Windows, some network file systems), runs are not serialized."""
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # a folder we may write but not read: no lock, as before
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting is not None:
                waiting()
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:  # a file system without locks
            pass
        yield
    finally:
        os.close(fd)  # releases the lock


def stale_folders(out_dir: Path) -> list[Path]:
    """Temporary folders an earlier run writing `out_dir` left beside it (killed before it could
    remove them): `.NAME.xxxxxxxx.tmp` (a new tree) or `.xxxxxxxx.old` (an old one), holding our
    marker, or empty (killed before the marker was written). Nothing else is ever ours."""
    pattern = re.compile(rf"\.{re.escape(out_dir.name)}\.[a-z0-9_]{{8}}\.(?:tmp|old)")
    found = []
    try:
        entries = sorted(os.scandir(out_dir.parent), key=lambda e: e.name)
    except OSError:
        return []
    for entry in entries:
        try:
            if not pattern.fullmatch(entry.name) or not entry.is_dir(follow_symlinks=False):
                continue
            path = Path(entry.path)
            if (path / MARKER).is_file() or not any(path.iterdir()):
                found.append(path)
        except OSError:
            continue
    return found


def _remove_stale(out_dir: Path) -> None:
    """Remove what `stale_folders` finds. A run killed between the two renames of a swap without
    `renameat2` left no `out_dir` and the old tree in `.old`: that is put back first."""
    for folder in stale_folders(out_dir):
        if folder.name.endswith(".old") and not os.path.lexists(out_dir) and (folder / MARKER).is_file():
            try:
                os.rename(folder, out_dir)
                continue
            except OSError:
                pass
        _remove(folder)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one step (Linux renameat2 RENAME_EXCHANGE); False where that is unavailable."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError, TypeError):  # no libc symbol (macOS) or no CDLL(None) (Windows)
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return result == 0


def _existing(out_dir: Path) -> dict[str, bytes]:
    """Files under `out_dir` (relative path -> bytes), without the marker; symlinks are not followed."""
    found: dict[str, bytes] = {}
    if not out_dir.is_dir():
        return found
    for folder, dirs, files in os.walk(out_dir):
        dirs.sort()
        for name in files:
            path = Path(folder, name)
            rel = path.relative_to(out_dir).as_posix()
            if rel != MARKER:
                found[rel] = b"" if path.is_symlink() else path.read_bytes()
    return found


def _read_existing(out_dir: Path, shown: str | None) -> dict[str, bytes]:
    try:
        return _existing(out_dir)
    except OSError as exc:
        raise CompileError(f"cannot read {shown or out_dir}: {_reason(exc)}") from exc


def check_tree(outputs: dict[str, str | bytes], out_dir: Path, *, shown: str | None = None) -> list[str]:
    """`stale: path`, `missing: path`, `extra: path` lines, sorted by path; empty when up to date.

    Like writing, it reads only a folder we wrote (or an empty or missing one): comparing with
    someone else's folder would print their files (CompileError).
    """
    _check_target(Path(out_dir), "compare with", shown)
    existing = _read_existing(Path(out_dir), shown)
    lines = []
    for rel in sorted(set(outputs) | set(existing)):
        if rel not in existing:
            lines.append(f"missing: {safe_rel(rel)}")
        elif rel not in outputs:
            lines.append(f"extra: {rel}")
        elif existing[rel] != _bytes(outputs[rel]):
            lines.append(f"stale: {rel}")
    return lines


def diff_tree(outputs: dict[str, str | bytes], out_dir: Path, secret_files: frozenset[str] = frozenset(), *,
              shown: str | None = None) -> str:
    """A unified diff (`a/` the folder as it is, `b/` as it would be written), files sorted by path;
    CompileError for a folder we did not write, as for `check_tree`. Secret values are masked
    (`mask.py`), GitLab tokens redacted and `secret_files` (secretGenerator inputs) only named:
    a diff ends up in CI logs."""
    _check_target(Path(out_dir), "compare with", shown)
    existing = _read_existing(Path(out_dir), shown)
    chunks = []
    for rel in sorted(set(outputs) | set(existing)):
        new = _bytes(outputs[safe_rel(rel)]) if rel in outputs else None
        old = existing.get(rel)
        if old == new:
            continue
        before, after = _text(old), _text(new)
        fromfile = f"a/{rel}" if old is not None else "/dev/null"
        tofile = f"b/{rel}" if new is not None else "/dev/null"
        if before is None or after is None:
            chunks.append(f"Binary files {fromfile} and {tofile} differ\n")  # as git diff says it
            continue
        if rel in secret_files or not (_maskable(rel, before) and _maskable(rel, after)):
            chunks.append(f"Files {fromfile} and {tofile} differ (not shown: it may hold secret values)\n")
            continue
        before, after = mask_secrets(before, after)
        diff = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                    fromfile=fromfile, tofile=tofile)
        for line in diff:
            chunks.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return redact("".join(chunks))


#: A Secret nested in another document (a `List`'s items): not in the layout `mask_secrets` reads.
_NESTED_SECRET = re.compile(r"^[ -]+kind: Secret\s*$", re.M)


def _maskable(rel: str, text: str) -> bool:
    """Whether a diff of this file can be shown with its Secret values masked: compiled documents whose
    Secrets are top-level, and copied YAML with no Secret. Copied `.env`, `.properties` and other
    generator inputs (secretGenerator reads them), and copied Secrets or patches of them, cannot."""
    if not text:
        return True
    if not text.startswith("# Source: "):
        return rel.endswith((".yaml", ".yml", ".json")) and "Secret" not in text
    return not _NESTED_SECRET.search(text)


def _text(data: bytes | None) -> str | None:
    """The text of a file's bytes ("" for no file); None when they are no UTF-8 text (printed as binary)."""
    if data is None:
        return ""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def stream(outputs: dict[str, str | bytes]) -> str:
    """All compiled documents as one YAML stream (`-o -`), files in path order.

    Files copied unchanged for kustomize (patches, generator inputs) are no objects
    and are left out; compiled files are recognised by their leading header.
    """
    texts = [text for _, text in sorted(outputs.items()) if isinstance(text, str) and text.startswith("# Source: ")]
    return "---\n".join(texts)
