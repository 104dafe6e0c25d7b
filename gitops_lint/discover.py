"""Which files to read: paths from the command line, git's view of the tree, .gitignore and excludes.

In a git work tree the files are the ones git tracks plus untracked ones that
are not ignored (what the user sees as "the repo"); elsewhere the tree is walked
honouring every `.gitignore` on the way. Symlinks are followed only while they
stay inside the root, and a directory is never entered twice.

Nothing is left out without a word: a folder that cannot be listed and a folder
holding `gitops-lint compile` output (it carries the compile marker file) are
recorded as `Discovery.problems`, which the engine reports; a path named on the
command line that cannot be checked (a FIFO, a device, a symlink out of the
root) is left out and recorded in `Discovery.refused`, a `DiscoveryError` for
the engine to raise (`Discovery.check_named`).

File names are the OS's bytes, decoded with `os.fsdecode` (undecodable bytes kept
as surrogate escapes) so every file can still be opened; `printable` makes the
one name every report prints from it.
"""

from __future__ import annotations

import errno
import functools
import os
import re
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

if TYPE_CHECKING:
    import pathspec  # imported where used: a lint without .gitignore files or excludes never needs it

VCS_DIRS = frozenset({".git", ".hg", ".svn", ".bzr", "_darcs", "CVS", ".jj", ".pijul"})
YAML_SUFFIXES = (".yaml", ".yml")
KUSTOMIZATION_NAMES = frozenset({"kustomization", "Kustomization"})
TEMPLATE_SUFFIXES = (".j2", ".jinja", ".jinja2", ".tpl", ".gotmpl", ".tmpl")
#: The file `gitops-lint compile` writes into every output folder (`compile.tree.MARKER`; discovery
#: sits below compile, so the name is repeated here and a test keeps the two equal).
COMPILE_MARKER = ".gitops-lint-compiled"
#: Problem codes of `DiscoveryProblem`: the rules that report them (YAML009, YAML010) select by code.
UNREADABLE = "unreadable-file"
COMPILED_OUTPUT = "compiled-output-skipped"


class DiscoveryError(Exception):
    """A path the user named does not exist or cannot be checked: a usage error (exit 2)."""


def printable(name: str) -> str:
    """`name` as every report prints it: the one escaping rule for file names.

    A byte that is not UTF-8 (kept by `os.fsdecode` as a surrogate escape) becomes `\\xNN`, and a
    character that is not printable (a newline, an escape sequence) its Python escape (`\\n`,
    `\\x1b`, `\\u200b`); every other character stays as it is. The result is valid UTF-8 with no
    control characters, so each report format (text, JSON, SARIF, GitLab, JUnit, GitHub) can carry it.
    """
    if name.isprintable():
        return name
    out = []
    for char in name:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif char.isprintable():
            out.append(char)
        else:
            out.append(char.encode("unicode_escape").decode("ascii"))
    return "".join(out)


@dataclass(slots=True)
class Candidate:
    """A file discovery found, before it is read."""

    root: Path
    #: Path relative to the root with `/` separators, as the file system spells it.
    name: str
    #: `name` as reports print it (`printable`).
    rel: str
    #: Why this file is a template rather than YAML (a Helm chart's templates/, a .j2 file), if it is.
    template: str | None = None
    #: Why it cannot be read, when discovery already knows (a symlink loop); the loader is not asked.
    unreadable: str | None = None
    #: (size, mtime_ns, ctime_ns, inode) of a regular file, when discovery stat'ed it already (`load.identify`).
    state: tuple[int, int, int, int] | None = None

    @property
    def path(self) -> Path:
        """Built when asked: a Path per file costs more than the walk that found it."""
        return self.root / self.name

    @property
    def location(self) -> str:
        """`path` as a string, without building the Path."""
        return f"{self.root}/{self.name}"


@dataclass(frozen=True, slots=True)
class DiscoveryProblem:
    """Something under the named paths that is not checked, and why: reported, never silent."""

    #: Where to report it, relative to the root (printable): the folder, or the marker file in it.
    rel: str
    #: UNREADABLE or COMPILED_OUTPUT.
    code: str
    message: str


@dataclass(slots=True)
class Discovery:
    """The files a run reads, from the repository root, and what it left out and why."""

    root: Path
    files: list[Candidate]
    in_git: bool
    #: Candidate files the configuration's `exclude` left out: not linted, but in the repository.
    excluded: list[str] = field(default_factory=list)
    #: Folders that could not be listed, and folders of compile output left out.
    problems: list[DiscoveryProblem] = field(default_factory=list)
    #: Folders (relative to the root) holding `gitops-lint compile` output, left out.
    compiled: list[str] = field(default_factory=list)
    #: Paths named on the command line that cannot be checked, each with why (see `check_named`).
    refused: list[str] = field(default_factory=list)
    #: Every `.sourceignore` file in the folders walked and above them (Flux leaves out of a source's
    #: artifact what they name); None when not looked for.
    ignore_files: list[str] | None = None
    #: Files that are symbolic links, or below a symlinked folder: source-controller leaves them out of
    #: every artifact (it archives regular files only).
    linked: list[str] = field(default_factory=list)

    def check_named(self) -> None:
        """DiscoveryError (exit 2) when a path the user named cannot be checked: never "All clear"."""
        if self.refused:
            raise DiscoveryError("cannot check " + "; ".join(self.refused))


def git_root(start: Path) -> Path | None:
    directory = start if start.is_dir() else start.parent
    if not _may_be_in_git(directory):
        return None  # git finds a work tree only through a .git above it: no need to start git to hear so
    import subprocess

    try:
        out = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", "--show-toplevel"],
            capture_output=True, text=True, timeout=20, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0 or not out.stdout.strip():
        return None
    return Path(out.stdout.strip()).resolve()


def _may_be_in_git(directory: Path) -> bool:
    """Whether git could see a work tree at `directory`: a `.git` (folder, or file of a worktree or
    submodule) in it or above it, or the environment naming a repository."""
    if "GIT_DIR" in os.environ or "GIT_WORK_TREE" in os.environ:
        return True
    here = os.path.abspath(directory)
    while True:
        if os.path.lexists(os.path.join(here, ".git")):
            return True
        parent = os.path.dirname(here)
        if parent == here:
            return False
        here = parent


def find_root(paths: list[Path], cwd: Path) -> tuple[Path, bool]:
    """The root that reported paths are relative to: the git work tree when all paths share one."""
    # Where the paths are, not where a symlink at their end points: a link out of the root
    # (or a broken one) must not move the root or leave git mode.
    located = [_located(p) for p in paths]
    # One `git rev-parse` per folder, not per file: pre-commit names hundreds of files.
    folders = {p if p.is_dir() else p.parent for p in located}
    roots = {git_root(folder) for folder in folders}
    if len(roots) == 1 and None not in roots:
        return roots.pop(), True  # type: ignore[return-value]
    cwd = cwd.resolve()
    if all(p == cwd or cwd in p.parents for p in located):
        return cwd, False
    common = Path(os.path.commonpath([str(p) for p in located]))
    # resolved: a lone symlinked folder named from elsewhere is the root, its target what is walked
    return (common if common.is_dir() else common.parent).resolve(), False


def is_candidate(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return name.endswith(YAML_SUFFIXES) or name in KUSTOMIZATION_NAMES


def discover(
    paths: Iterable[str | Path],
    *,
    cwd: Path | None = None,
    excludes: Iterable[str] = (),
    exclude_base: Path | None = None,
) -> Discovery:
    """Candidate files under `paths`; `excludes` are gitignore-style globs relative to `exclude_base`
    (the configuration file's folder; default: the root)."""
    cwd = (Path.cwd() if cwd is None else Path(cwd)).resolve()
    given = [Path(p) if Path(p).is_absolute() else cwd / p for p in (list(paths) or ["."])]
    for p in given:
        if not p.exists() and not p.is_symlink():
            raise DiscoveryError(f"path does not exist: {p}")
    root, in_git = find_root(given, cwd)
    excluded = exclude_matcher(excludes, root, exclude_base)
    seen: set[str] = set()
    files: list[Candidate] = []
    left_out: list[str] = []
    refused: list[str] = []
    chart_dirs = ChartDirs(root)
    folders = _Folders(root)
    unlisted: dict[str, str] = {}  # folder rel -> why it could not be listed
    untracked_unlisted: dict[str, str] = {}  # the same, for folders git lists the tracked files of
    compiled: set[str] = set()
    ignore_files: set[str] | None = None  # known once a folder is walked
    other_links: set[str] = set()
    for p in given:
        located = _located(p)
        if p.is_dir():
            if not _inside(root, located):
                refused.append(f"{printable(str(p))}: a symlink to a folder outside the root {printable(str(root))}"
                               ": not followed")
                continue
            directory = located.resolve()
            listing = _git_files(root, directory, untracked_unlisted, folders.prefetch, folders.git_links) \
                if in_git else None
            rels = listing if listing is not None else list(_walk(root, directory, unlisted, folders))
            ignore_files = {*(ignore_files or ()), *(rel for rel in _ignore_files(root, directory, rels)
                                                    if not folders._below_link(rel.rpartition("/")[0]))}
            rels = _without_compiled(rels, _rel(root, directory) or "", compiled, excluded)
            explicit = False
        else:
            rels = [_rel(root, located)]
            explicit = True
        for rel in rels:
            if explicit and rel is None:
                refused.append(f"{printable(str(p))}: outside the root {printable(str(root))}: not checked")
                continue
            if rel is None or rel in seen:
                continue
            if not explicit and not is_candidate(rel):
                if rel is not None and folders.is_link(rel):
                    other_links.add(rel)  # a generator input, a JSON patch: no artifact holds it either
                continue
            if excluded is not None and excluded(rel):
                left_out.append(printable(rel))
                continue
            if not folders.is_file_in_root(rel):
                if explicit:
                    refused.append(f"{printable(str(p))}: {_not_checked_because(root / rel, root)}")
                continue
            seen.add(rel)
            files.append(Candidate(root, rel, printable(rel), template_reason(root, rel, chart_dirs),
                                   folders.unreadable.get(rel), folders.states.pop(rel, None)))
    unlisted.update(folders.unlisted)
    problems = [DiscoveryProblem(printable(rel) or ".", UNREADABLE, f"cannot read folder: {reason}; "
                                 "nothing in it was checked") for rel, reason in sorted(unlisted.items())]
    problems += [DiscoveryProblem(printable(rel) or ".", UNREADABLE, f"cannot list folder: {reason}; the files "
                                  "in it that git tracks were checked, the others were not")
                 for rel, reason in sorted(untracked_unlisted.items()) if rel not in unlisted]
    problems.sort(key=lambda problem: problem.rel)
    problems += [DiscoveryProblem(printable(f"{rel}/{COMPILE_MARKER}"), COMPILED_OUTPUT,
                                  f"folder {printable(rel)}/ holds `gitops-lint compile` output (it has the "
                                  f"{COMPILE_MARKER} marker): not checked as source")
                 for rel in sorted(compiled)]
    files.sort(key=lambda c: c.rel)
    return Discovery(root=root, files=files, in_git=in_git, excluded=sorted(set(left_out)), problems=problems,
                     compiled=sorted(compiled), refused=refused,
                     linked=sorted((folders.linked & seen) | other_links),
                     ignore_files=None if ignore_files is None else sorted(ignore_files))


def _ignore_files(root: Path, directory: Path, rels: list) -> Iterator[str]:
    """The `.sourceignore` files among the files listed under `directory`, and those in the folders above
    it up to the root (a source's artifact holds the whole repository)."""
    yield from (rel for rel in rels if rel and is_ignore_file(rel))
    rel_dir = _rel(root, directory)
    while rel_dir:
        rel_dir = rel_dir.rpartition("/")[0]
        above = f"{rel_dir}/{IGNORE_FILE}" if rel_dir else IGNORE_FILE
        if os.path.isfile(os.path.join(root, above)):
            yield above


#: The file whose rules Flux's source-controller leaves out of a source's artifact (`view.sourceignore`).
IGNORE_FILE = ".sourceignore"


def is_ignore_file(rel: str) -> bool:
    """Whether a path is a `.sourceignore` file."""
    return rel.rpartition("/")[2] == IGNORE_FILE


def _without_compiled(rels: Iterable[str | None], named: str, compiled: set[str],
                      excluded: Callable[[str], bool] | None) -> list[str | None]:
    """`rels` without the files of folders below `named` that hold compile output (added to `compiled`).

    A folder named on the command line is checked even when it is compile output: that is asked for.
    A folder the configuration excludes is left out without a word (`compile` excludes its own output).
    """
    rels = list(rels)
    suffix = "/" + COMPILE_MARKER
    found = {rel[: -len(suffix)] for rel in rels if rel and rel.endswith(suffix)}
    found = {f for f in found if f != named and (not named or f.startswith(named + "/"))}
    if not found:
        return rels
    outermost = {f for f in found if not any(f.startswith(other + "/") for other in found)}

    def inside(rel: str) -> str | None:
        return next((f for f in outermost if rel.startswith(f + "/")), None)

    kept = [rel for rel in rels if rel is None or inside(rel) is None]
    compiled.update(f for f in outermost
                    if excluded is None or not (excluded(f + "/") or excluded(f + suffix)))
    return kept


def _not_checked_because(path: Path, root: Path) -> str:
    """Why a file named on the command line is not read: what it is instead of a regular file."""
    try:
        if path.is_symlink() and not _inside(root, path):
            return f"a symlink to {printable(os.readlink(path))}, outside the root {printable(str(root))}: not followed"
        mode = os.stat(path).st_mode
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    kinds = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))
    what = next((name for test, name in kinds if test(mode)), "not a regular file")
    return f"{what}, not a regular file: not read"


def relative_to_base(rel: str, root: Path, base: Path | None) -> str:
    """`rel` (relative to the root) re-expressed relative to `base` when it lies under it."""
    if base is None:
        return rel
    return _rebase(root, base)(rel)


@functools.lru_cache(maxsize=16)
def _rebase(root: Path, base: Path) -> Callable[[str], str]:
    """Turns root-relative paths into `base`-relative ones; paths outside `base` stay as they are."""
    root, base = root.resolve(), base.resolve()
    if base == root:
        return lambda rel: rel
    if base in root.parents:  # without git the configuration may sit above the root (the cwd)
        above = root.relative_to(base).as_posix() + "/"
        return lambda rel: above + rel
    prefix = _rel(root, base)
    if prefix is None:
        return lambda rel: rel
    prefix += "/"
    return lambda rel: rel[len(prefix) :] if rel.startswith(prefix) else rel


def _located(path: Path) -> Path:
    """`path` made canonical except for its last part: the file the user named, not a symlink's target."""
    if path.name in ("", ".", ".."):
        return path.resolve()
    return path.parent.resolve() / path.name


def _rel(root: Path, path: Path) -> str | None:
    """`path` relative to the root with `/` separators, "" for the root itself, None when outside."""
    try:
        rel = path.relative_to(root)
    except ValueError:
        try:
            rel = path.resolve().relative_to(root)
        except ValueError:
            return None
    return "" if rel == Path() else rel.as_posix()  # not ".": it prefixes other paths


def _inside(root: Path, path: Path) -> bool:
    """True when `path`, with every symlink resolved, stays under `root`."""
    # realpath, not Path.resolve: it neither raises on a symlink loop nor differs between Pythons.
    real = os.path.realpath(path)
    return real == str(root) or real.startswith(str(root).rstrip(os.sep) + os.sep)


class _Folders:
    """What each file is: from the walk's listing of its folder, or from one lstat of a file git listed (a
    listing of each folder costs twice as much, and the lstat also serves as the file's stat in `identify`)."""

    def __init__(self, root: Path):
        self.root = root
        self._root = str(root)  # joined with os.path: a Path per folder was a third of listing 20k folders
        self.entries: dict[str, dict[str, os.DirEntry]] = {}
        #: Folders that could not be listed (rel -> reason): their files were not checked.
        self.unlisted: dict[str, str] = {}
        #: Files discovery already knows cannot be read (rel -> reason): symlink loops.
        self.unreadable: dict[str, str] = {}
        #: Regular files git listed, with the state their lstat gave (see `Candidate.state`).
        self.states: dict[str, tuple[int, int, int, int]] = {}
        self._lstat: dict[str, os.stat_result | OSError] = {}  # `prefetch`
        #: Files that are symlinks, or below a symlinked folder: no source's artifact holds them.
        self.linked: set[str] = set()
        self._folder_linked: dict[str, bool] = {"": False}
        #: Tracked files git records as symlinks (`git ls-files --stage`).
        self.git_links: set[str] = set()

    def prefetch(self, rels: list[str]) -> None:
        """lstat the candidates among `rels` now (while git walks the work tree), for `is_file_in_root`."""
        lstat, root, found = os.lstat, self._root + "/", self._lstat
        for rel in rels:
            if is_candidate(rel):
                try:
                    found[rel] = lstat(root + rel)
                except OSError as exc:
                    found[rel] = exc

    def is_file_in_root(self, rel: str) -> bool:
        """A file, or a symlink that stays inside the root to a file or to nothing (the loader reports it)."""
        folder, _, name = rel.rpartition("/")
        entries = self.entries.get(folder)
        if entries is None:  # git listed it: its folder was not walked
            try:
                st = self._lstat.pop(rel, None) or os.lstat(self._root + "/" + rel)
                if isinstance(st, OSError):
                    raise st
            except OSError as exc:
                if not isinstance(exc, (FileNotFoundError, NotADirectoryError)):  # not a tracked but deleted file
                    self.unlisted.setdefault(folder, exc.strerror or str(exc))
                return False
            if stat.S_ISREG(st.st_mode):
                self.states[rel] = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
                return True
            if not stat.S_ISLNK(st.st_mode):
                return False  # not folders (gitlinks), sockets, ...
        else:
            entry = entries.get(name)
            if entry is None:
                return False
            if not entry.is_symlink():
                if self._below_link(folder):
                    self.linked.add(rel)
                return entry.is_file(follow_symlinks=False)  # not folders, sockets, ...
        path = self.root / rel
        if not _inside(self.root, path):
            return False
        self.linked.add(rel)
        try:
            return stat.S_ISREG(os.stat(path).st_mode)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                self.unreadable[rel] = (f"cannot read file: symlink loop (it links to {printable(os.readlink(path))}"
                                        ", which leads back to it)")
            return True  # broken or looping: kept, to be reported as unreadable

    def is_link(self, rel: str) -> bool:
        """Whether a file listed (not a candidate) is a symlink, or below a symlinked folder."""
        folder, _, name = rel.rpartition("/")
        entries = self.entries.get(folder)
        if entries is None:
            return rel in self.git_links
        entry = entries.get(name)
        return (entry is not None and entry.is_symlink()) or self._below_link(folder)

    def _below_link(self, folder: str) -> bool:
        """Whether the walk reached `folder` through a symlinked folder."""
        found = self._folder_linked.get(folder)
        if found is None:
            parent, _, name = folder.rpartition("/")
            entry = self.entries.get(parent, {}).get(name)
            found = self._folder_linked[folder] = (entry is not None and entry.is_symlink()) or self._below_link(parent)
        return found


def exclude_matcher(patterns: Iterable[str], root: Path, base: Path | None) -> Callable[[str], bool] | None:
    patterns = [p for p in patterns if p]
    if not patterns:
        return None
    import pathspec

    spec = pathspec.GitIgnoreSpec.from_lines(patterns)
    rebase = _rebase(root, base) if base is not None else (lambda rel: rel)
    return lambda rel: spec.match_file(rebase(rel))


def _git_files(root: Path, directory: Path, untracked_unlisted: dict[str, str],
               prefetch: Callable[[list[str]], None] = lambda names: None,
               links: set[str] | None = None) -> list[str] | None:
    """Tracked plus untracked-not-ignored files under `directory`, relative to the root.

    Two git commands: the tracked files come from the index at once, while finding the untracked ones
    walks the work tree; `prefetch` gets the tracked files meanwhile (the caller lstats them)."""
    rel_dir = _rel(root, directory)
    if rel_dir is None:
        return None
    import subprocess

    # literal: a folder named `[ab]` or `*` is that folder, not a glob; no --deduplicate
    # (git >= 2.31): the caller drops the repeated names of unmerged files anyway.
    command = ["git", "--literal-pathspecs", "-C", str(root), "ls-files", "-z"]
    env = {**os.environ, "LC_ALL": "C"}
    try:
        untracked = subprocess.Popen([*command, "--others", "--exclude-standard", "--", rel_dir or "."],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    except OSError:
        return None
    deadline = time.monotonic() + _GIT_TIMEOUT
    with untracked:  # waits for it on the way out: killed first wherever it is not done
        try:
            tracked = subprocess.run([*command, "--cached", "--stage", "--", rel_dir or "."],
                                     capture_output=True, timeout=_GIT_TIMEOUT, check=False, env=env)
            names = _git_names(tracked.stdout, links) if tracked.returncode == 0 else None
            if names is None:
                untracked.kill()
                return None
            prefetch(names)
            out, err = untracked.communicate(timeout=max(deadline - time.monotonic(), 0.01))
        except (OSError, subprocess.SubprocessError):
            untracked.kill()
            return None
        except BaseException:
            untracked.kill()
            raise
    if untracked.returncode != 0:
        return None
    # git skips a folder it cannot open with a warning, and lists nothing of its untracked files (what it
    # tracks there is listed, and looked at one by one).
    for match in _GIT_UNOPENED_RE.finditer(err.decode("utf-8", "surrogateescape")):
        untracked_unlisted[match.group(1).rstrip("/")] = match.group(2).strip()
    return names + _git_names(out)


#: Seconds git may take to list the work tree before discovery walks it instead.
_GIT_TIMEOUT = 120


def _git_names(listing: bytes, links: set[str] | None = None) -> list[str]:
    """The paths of `git ls-files -z` output (with `--stage`, the tracked symlinks go to `links`), without
    any inside a version-control folder."""
    names = listing.decode("utf-8", "surrogateescape").split("\0")
    if links is not None:  # `<mode> <object> <stage>\t<path>`
        staged = [name.partition("\t") for name in names if name]
        links.update(path for info, _, path in staged if info.startswith("120000 "))
        names = [path for _, _, path in staged]
    return [n for n in names if n and not (set(n.split("/")) & VCS_DIRS)]


_GIT_UNOPENED_RE = re.compile(r"could not open directory '(.+)': (.+)")


def _walk(root: Path, directory: Path, unlisted: dict[str, str], folders: "_Folders | None" = None) -> Iterator[str]:
    """Walk without git: honour .gitignore files, follow symlinks only inside the root, never loop.

    Works on strings (pathlib costs more than the walk itself at 50k files) and hands each folder's
    listing to `folders`, so nothing is listed twice."""
    inherited = _inherited_ignores(root, directory)
    if inherited is None:
        return  # the folder itself is ignored, as `git ls-files --others --exclude-standard` sees it
    visited: set[str] = set()
    root_rel = _rel(root, directory) or ""
    # (path, rel, real path, ignores): a folder reached without a symlink has its real path by joining names.
    stack: list[tuple[str, str, str, list]] = [(str(directory), root_rel, os.path.realpath(directory), inherited)]
    # Symlinked folders wait until the real ones are done, so a file reached both ways keeps its real path.
    linked: list[tuple[str, str, str, list]] = []
    while stack or linked:
        current, rel_dir, real, ignores = (stack or linked).pop()
        if real in visited:
            continue
        visited.add(real)
        try:
            with os.scandir(current) as listing:
                entries = list(listing)
        except OSError as exc:
            unlisted[rel_dir] = exc.strerror or str(exc)
            continue
        if folders is not None:
            folders.entries[rel_dir] = {entry.name: entry for entry in entries}
        if any(entry.name == ".gitignore" for entry in entries):
            spec = _read_gitignore(Path(current))
            if spec is not None:
                ignores = ignores + [(rel_dir, spec)]
        for entry in entries:
            name = entry.name
            if name in VCS_DIRS:
                continue
            rel = f"{rel_dir}/{name}" if rel_dir else name
            try:
                is_dir = entry.is_dir()  # follows symlinks
            except OSError:
                is_dir = False  # a symlink loop: a broken file, reported later
            if ignores and _ignored(rel, is_dir, ignores):
                continue
            if not is_dir:
                yield rel
            elif not entry.is_symlink():
                stack.append((entry.path, rel, f"{real}/{name}", ignores))
            elif _inside(root, Path(entry.path)):
                linked.append((entry.path, rel, os.path.realpath(entry.path), ignores))


def _inherited_ignores(root: Path, directory: Path) -> list[tuple[str, pathspec.PathSpec]] | None:
    """.gitignore files of the directories between the root and a sub-directory the user named.

    Those are the root's and every folder's above `directory` (the walk reads `directory`'s own);
    None when `directory` or a folder on the way is ignored: git never looks inside those.
    """
    rel_dir = _rel(root, directory)
    if not rel_dir:
        return []
    out: list[tuple[str, pathspec.PathSpec]] = []
    current, current_rel = root, ""
    for part in rel_dir.split("/"):
        spec = _read_gitignore(current)
        if spec is not None:
            out.append((current_rel, spec))
        current = current / part
        current_rel = f"{current_rel}/{part}" if current_rel else part
        if _ignored(current_rel, True, out):
            return None
    return out


def _read_gitignore(directory: Path) -> pathspec.PathSpec | None:
    import pathspec

    ignore_file = directory / ".gitignore"
    try:
        if not ignore_file.is_file():
            return None
        lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines)


def _ignored(rel: str, is_dir: bool, ignores: list[tuple[str, pathspec.PathSpec]]) -> bool:
    """Git's precedence: the deepest .gitignore with a matching pattern decides (its last match wins),
    so a nested `!pattern` re-includes what a parent ignored."""
    for base, spec in reversed(ignores):
        sub = rel[len(base) + 1 :] if base else rel
        verdict = spec.check_file(sub + "/" if is_dir else sub).include
        if verdict is not None:
            return verdict
    return False


class ChartDirs:
    """Answers 'is this folder a Helm chart?' (it holds a Chart.yaml) once per folder: by a stat, or by
    `has_chart` (a git tree's listing, for a revision that is not checked out)."""

    def __init__(self, root: Path, has_chart: Callable[[Path], bool] | None = None):
        #: The root itself lies in a folder named templates (a chart's, maybe).
        self.root_in_templates = "templates" in root.parts
        self.cache: dict[Path, bool] = {}
        self.has_chart = has_chart or (lambda folder: (folder / "Chart.yaml").is_file())

    def is_chart(self, folder: Path) -> bool:
        if folder not in self.cache:
            self.cache[folder] = self.has_chart(folder)
        return self.cache[folder]


def template_reason(root: Path, rel: str, charts: ChartDirs) -> str | None:
    """Why the file at `rel` is a template to be read but not parsed as YAML (a Helm chart's template, a
    `.j2` file), or None."""
    if rel.endswith(TEMPLATE_SUFFIXES):
        return "a template file (by its extension)"
    if "templates/" not in rel and not charts.root_in_templates:
        return None  # the common case, decided without splitting the path
    # The whole path, not just the part under the root: the root may be the chart's templates/ itself.
    parts = (root / rel).parts
    for i in range(1, len(parts) - 1):
        if parts[i] == "templates" and charts.is_chart(Path(*parts[:i])):
            return "a Helm chart template"
    return None


def read_bytes(path: str | os.PathLike) -> bytes:
    """A file's bytes, as `Path.read_bytes` reads them (the same OSErrors) in under half its time: no
    buffered file object per file, a cost that counts at tens of thousands of small manifests."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks)  # one chunk is returned as it is, not copied


def repository_reader(root: Path, log: dict[str, bytes | None] | None = None):
    """The bytes of a regular file inside `root`, by relative path; None for folders, missing files and
    anything a symbolic link leads outside `root` to. For what discovery does not load (generator inputs,
    `.json` patches): the view, the schema rules and compile all read through it. `log` gets each path
    read with the digest of what was found (None: nothing), for the cache."""
    real_root = Path(os.path.realpath(root))
    prefix = str(real_root) + "/"

    def read_file(rel: str) -> bytes | None:
        # One stat first: many reads ask for a file that is not there (a `.sourceignore` looked for in each
        # folder, the cache checking what a run found missing), and realpath costs a call per part of the path.
        try:
            if not stat.S_ISREG(os.stat(prefix + rel).st_mode):
                return None
        except (OSError, ValueError):
            return None
        path = Path(os.path.realpath(real_root / rel))
        if real_root not in path.parents or not path.is_file():
            return None
        try:
            return read_bytes(path)
        except OSError:
            return None

    if log is None:
        return read_file

    def read_logged(rel: str) -> bytes | None:
        from gitops_lint.cache import digest

        data = read_file(rel)
        log[rel] = None if data is None else digest(data)
        return data

    return read_logged
