"""Which files to read: paths from the command line, git's view of the tree, .gitignore and excludes.

In a git work tree the files are the ones git tracks plus untracked ones that
are not ignored (what the user sees as "the repo"); elsewhere the tree is walked
honouring every `.gitignore` on the way. Symlinks are followed only while they
stay inside the root, and a directory is never entered twice.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

VCS_DIRS = frozenset({".git", ".hg", ".svn", ".bzr", "_darcs", "CVS", ".jj", ".pijul"})
YAML_SUFFIXES = (".yaml", ".yml")
KUSTOMIZATION_NAMES = frozenset({"kustomization", "Kustomization"})
TEMPLATE_SUFFIXES = (".j2", ".jinja", ".jinja2", ".tpl", ".gotmpl", ".tmpl")


class DiscoveryError(Exception):
    """A path the user named does not exist: a usage error (exit 2)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    path: Path
    #: Path relative to the root with `/` separators.
    rel: str
    #: Why this file is a template rather than YAML (a Helm chart's templates/, a .j2 file), if it is.
    template: str | None = None


@dataclass(slots=True)
class Discovery:
    root: Path
    files: list[Candidate]
    in_git: bool


def git_root(start: Path) -> Path | None:
    directory = start if start.is_dir() else start.parent
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


def find_root(paths: list[Path], cwd: Path) -> tuple[Path, bool]:
    """The root that reported paths are relative to: the git work tree when all paths share one."""
    resolved = [p.resolve() for p in paths]
    roots = {git_root(p) for p in resolved}
    if len(roots) == 1 and None not in roots:
        return roots.pop(), True  # type: ignore[return-value]
    cwd = cwd.resolve()
    if all(p == cwd or cwd in p.parents for p in resolved):
        return cwd, False
    common = Path(os.path.commonpath([str(p) for p in resolved]))
    return (common if common.is_dir() else common.parent), False


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
    cwd = Path.cwd() if cwd is None else cwd
    given = [Path(p) if Path(p).is_absolute() else cwd / p for p in (list(paths) or ["."])]
    for p in given:
        if not p.exists() and not p.is_symlink():
            raise DiscoveryError(f"path does not exist: {p}")
    root, in_git = find_root(given, cwd)
    exclude = _exclude_matcher(excludes)
    seen: set[str] = set()
    files: list[Candidate] = []
    chart_dirs = _ChartDirs(root)
    for p in given:
        resolved = p.resolve()
        if p.is_dir():
            listing = _git_files(root, resolved) if in_git else None
            rels = listing if listing is not None else _walk(root, resolved)
            explicit = False
        else:
            rels = [_rel(root, p.absolute())]
            explicit = True
        for rel in rels:
            if rel in seen or rel is None:
                continue
            if not explicit and not is_candidate(rel):
                continue
            if exclude is not None and exclude.match_file(relative_to_base(rel, root, exclude_base)):
                continue
            absolute = root / rel
            if not _inside(root, absolute):
                continue
            if not absolute.is_file() and not (absolute.is_symlink() and not absolute.exists()):
                continue  # folders, sockets, ...; a broken symlink stays, to be reported
            seen.add(rel)
            files.append(Candidate(absolute, rel, _template_reason(rel, chart_dirs)))
    files.sort(key=lambda c: c.rel)
    return Discovery(root=root, files=files, in_git=in_git)


def relative_to_base(rel: str, root: Path, base: Path | None) -> str:
    """`rel` (relative to the root) re-expressed relative to `base` when it lies under it."""
    if base is None:
        return rel
    prefix = _rel(root, base.resolve())
    if not prefix or prefix == ".":
        return rel
    return rel[len(prefix) + 1 :] if rel.startswith(prefix + "/") else rel


def _rel(root: Path, path: Path) -> str | None:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        try:
            return path.resolve().relative_to(root).as_posix()
        except ValueError:
            return None


def _inside(root: Path, path: Path) -> bool:
    """True when `path`, with every symlink resolved, stays under `root`."""
    try:
        path.resolve().relative_to(root)
        return True
    except (ValueError, OSError, RuntimeError):  # RuntimeError: symlink loop on old Pythons
        return False


def _exclude_matcher(patterns: Iterable[str]):
    patterns = [p for p in patterns if p]
    if not patterns:
        return None
    import pathspec

    return pathspec.PathSpec.from_lines("gitwildmatch", patterns)


def _git_files(root: Path, directory: Path) -> list[str] | None:
    """Tracked plus untracked-not-ignored files under `directory`, relative to the root."""
    rel_dir = _rel(root, directory)
    if rel_dir is None:
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard",
             "--deduplicate", "--", rel_dir or "."],
            capture_output=True, timeout=120, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    names = out.stdout.decode("utf-8", "surrogateescape").split("\0")
    return [n for n in names if n and not (set(n.split("/")) & VCS_DIRS)]


def _walk(root: Path, directory: Path) -> Iterator[str]:
    """Walk without git: honour .gitignore files, follow symlinks only inside the root, never loop."""
    import pathspec

    visited: set[str] = set()
    stack: list[tuple[Path, list[tuple[str, pathspec.PathSpec]]]] = [(directory, _inherited_ignores(root, directory))]
    while stack:
        current, ignores = stack.pop()
        real = os.path.realpath(current)
        if real in visited:
            continue
        visited.add(real)
        rel_dir = _rel(root, current) or ""
        ignore_file = current / ".gitignore"
        if ignore_file.is_file():
            try:
                lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
                ignores = ignores + [(rel_dir, pathspec.PathSpec.from_lines("gitwildmatch", lines))]
            except OSError:
                pass
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name in VCS_DIRS:
                continue
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                is_dir = entry.is_dir()  # follows symlinks
            except OSError:
                continue
            if _ignored(rel, is_dir, ignores):
                continue
            if is_dir:
                if entry.is_symlink() and not _inside(root, Path(entry.path)):
                    continue
                stack.append((Path(entry.path), ignores))
            else:
                yield rel


def _inherited_ignores(root: Path, directory: Path):
    """.gitignore files of the directories between the root and a sub-directory the user named."""
    import pathspec

    out = []
    current = root
    parts = Path(_rel(root, directory) or "").parts
    for part in ("",) + parts[:-1] if parts else ():
        current = current / part if part else current
        ignore_file = current / ".gitignore"
        if ignore_file.is_file():
            rel_dir = _rel(root, current) or ""
            lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
            out.append((rel_dir, pathspec.PathSpec.from_lines("gitwildmatch", lines)))
    return out


def _ignored(rel: str, is_dir: bool, ignores) -> bool:
    for base, spec in ignores:
        sub = rel[len(base) + 1 :] if base else rel
        if spec.match_file(sub + "/" if is_dir else sub):
            return True
    return False


class _ChartDirs:
    """Answers 'is this folder a Helm chart?' with one stat per folder."""

    def __init__(self, root: Path):
        self.root = root
        self.cache: dict[str, bool] = {}

    def is_chart(self, rel_dir: str) -> bool:
        if rel_dir not in self.cache:
            self.cache[rel_dir] = (self.root / rel_dir / "Chart.yaml").is_file()
        return self.cache[rel_dir]


def _template_reason(rel: str, charts: _ChartDirs) -> str | None:
    if rel.endswith(TEMPLATE_SUFFIXES):
        return "a template file (by its extension)"
    parts = rel.split("/")
    for i in range(len(parts) - 1):
        if parts[i] == "templates" and charts.is_chart("/".join(parts[:i])):
            return "a Helm chart template"
    return None
