"""What source-controller leaves out of a source's artifact, as Flux decides it.

Flux does not use git's ignore rules but its own port of go-git's (`fluxcd/pkg/sourceignore`), and the
two differ where it matters here: every pattern is tried against each file's whole path, last pattern
first, so `!dir/` re-includes the files below a folder an earlier rule left out (git does not); leading
spaces are kept; a malformed glob matches nothing instead of failing. The artifact is made by walking
the checkout (`fluxcd/pkg/artifact/storage.Archive`), judging each file alone:

* the rules are those of every `.sourceignore` file in the checkout (each scoped to its folder), then
  the GitRepository's `spec.ignore`;
* with no rule at all, Flux's defaults apply (images, archives, CI files, `.sops.yaml`, ...); with any
  rule, only the version-control ones (`.git/`, `.gitignore`, ...) are added to them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable

_VCS = ".git/,.gitignore,.gitmodules,.gitattributes"
_DEFAULTS = ("*.jpg,*.jpeg,*.gif,*.png,*.wmv,*.flv,*.tar.gz,*.zip,"
             ".github/,.circleci/,.travis.yml,.gitlab-ci.yml,appveyor.yml,.drone.yml,cloudbuild.yaml,"
             "codeship-services.yml,codeship-steps.yml,"
             "**/.goreleaser.yml,**/.sops.yaml,**/.flux.yaml")


@dataclass(frozen=True, slots=True)
class IgnorePattern:
    """One line of a `.sourceignore` (or of `spec.ignore`), scoped to the folder it was read in."""

    domain: tuple[str, ...]
    #: Each part between `/`: "**", "" (a leading or doubled `/`), a part with `**` among other text (matches
    #: nothing), or a compiled glob (None: malformed, matches nothing).
    parts: tuple["str | re.Pattern[str] | None", ...]
    inclusion: bool
    dir_only: bool
    is_glob: bool

    def match(self, path: list[str], is_dir: bool) -> int:
        """0: not this pattern's; 1: left out; 2: kept (a `!` pattern)."""
        domain = self.domain
        if len(path) <= len(domain) or any(path[i] != part for i, part in enumerate(domain)):
            return 0
        rest = path[len(domain):]
        if not (self._glob_match(rest, is_dir) if self.is_glob else self._name_match(rest, is_dir)):
            return 0
        return 2 if self.inclusion else 1

    def _name_match(self, path: list[str], is_dir: bool) -> bool:
        glob = self.parts[0]
        for index, name in enumerate(path):
            if not _glob_matches(glob, name):
                continue
            return not (self.dir_only and not is_dir and index == len(path) - 1)
        return False

    def _glob_match(self, path: list[str], is_dir: bool) -> bool:
        matched = can_traverse = False
        last = len(self.parts) - 1
        for index, part in enumerate(self.parts):
            if part == "":
                can_traverse = False
                continue
            if part == "**":
                if index == last:
                    break
                can_traverse = True
                continue
            if isinstance(part, str):  # a part holding `**` among other characters
                return False
            if not path:
                return False
            if can_traverse:
                can_traverse = False
                while path:
                    name, path = path[0], path[1:]
                    if _glob_matches(part, name):
                        matched = True
                        break
                    if not path:
                        matched = False
            else:
                if not _glob_matches(part, path[0]):
                    return False
                matched = True
                path = path[1:]
        return not (matched and self.dir_only and not is_dir and not path) and matched


def _glob_matches(glob, name: str) -> bool:
    return glob is not None and not isinstance(glob, str) and glob.fullmatch(name) is not None


def parse_pattern(text: str, domain: tuple[str, ...] = ()) -> IgnorePattern:
    """A pattern as `gitignore.ParsePattern` reads it."""
    inclusion = text.startswith("!")
    if inclusion:
        text = text[1:]
    if not text.endswith("\\ "):
        text = text.rstrip(" ")
    dir_only = text.endswith("/")
    if dir_only:
        text = text[:-1]
    is_glob = "/" in text
    if is_glob:  # `**` is special only in a pattern with a `/`; a part with `**` among other text never matches
        parts = tuple(part if part in ("", "**") or "**" in part else _compile_glob(part)
                      for part in text.split("/"))
    else:  # a name, matched with filepath.Match alone (where `**` is two `*`)
        parts = (_compile_glob(text),)
    return IgnorePattern(domain, parts, inclusion, dir_only, is_glob)


def read_patterns(text: str | bytes, domain: tuple[str, ...] = ()) -> list[IgnorePattern]:
    """The patterns of a `.sourceignore` text: every line but comments and blank ones (`ReadPatterns`)."""
    return [parse_pattern(line, domain) for line in _lines(text)
            if not line.startswith("#") and line.strip(_GO_SPACE)]


#: What Go's strings.TrimSpace trims (Python's str.strip also trims \x1c to \x1f).
_GO_SPACE = ("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
             "\u2028\u2029\u202f\u205f\u3000")
#: bufio.Scanner's longest line: at a longer one it stops, and ReadPatterns keeps what came before.
_MAX_LINE = 64 * 1024


def _lines(text: str | bytes) -> list[str]:
    """Lines as Go's bufio.Scanner gives them: split at `\\n`, a `\\r` before it dropped, and none from the
    first line of 64 KiB or more on."""
    raw = text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out = []
    for line in lines:
        if len(line) >= _MAX_LINE:
            break
        out.append((line[:-1] if line.endswith(b"\r") else line).decode("utf-8", "replace"))
    return out


def artifact_filter(patterns: Iterable[IgnorePattern]) -> Callable[[str, bool], bool]:
    """Whether a path (relative to the source's root, `/`-separated) is left out of the artifact:
    `storage.SourceIgnoreFilter` over the patterns of the source's `.sourceignore` files and `spec.ignore`.

    A pattern only judges paths below its folder, so patterns are grouped by folder and a path meets only
    the groups of the folders above it (a `.sourceignore` in every folder costs no more than one)."""
    patterns = list(patterns)
    patterns = [*_builtin(_VCS), *(patterns or _builtin(_DEFAULTS))]
    memo: dict[tuple[str, bool], bool] = {}
    if any(p.inclusion for p in patterns):
        by_domain: dict[tuple[str, ...], list[tuple[int, IgnorePattern]]] = {}
        for order, pattern in enumerate(patterns):
            by_domain.setdefault(pattern.domain, []).append((order, pattern))

        def decide(path: list[str], is_dir: bool) -> bool:
            met = [entry for depth in range(len(path)) for entry in by_domain.get(tuple(path[:depth]), ())]
            met.sort(key=lambda entry: entry[0], reverse=True)  # the last pattern that matches decides
            for _, pattern in met:
                result = pattern.match(path, is_dir)
                if result:
                    return result == 1
            return False
    else:
        # No `!` pattern: left out when any pattern matches. A folder's name patterns (the defaults, most
        # rules; `**/name` is one too) are joined into one search of the path below it per kind.
        groups: dict[tuple[str, ...], list[IgnorePattern]] = {}
        for pattern in patterns:
            groups.setdefault(pattern.domain, []).append(pattern)
        by_domain_fast = {domain: _Group(group) for domain, group in groups.items()}

        def decide(path: list[str], is_dir: bool) -> bool:
            for depth in range(len(path)):
                group = by_domain_fast.get(tuple(path[:depth]))
                if group is not None and group.matches(path, depth, is_dir):
                    return True
            return False

    def left_out(rel: str, is_dir: bool = False) -> bool:
        key = (rel, is_dir)
        found = memo.get(key)
        if found is None:
            found = memo[key] = decide(rel.split("/"), is_dir)
        return found

    return left_out


class _Group:
    """The exclude patterns of one folder, name patterns joined into searches."""

    def __init__(self, patterns: list[IgnorePattern]):
        names = [p.parts[-1] for p in patterns if _any_depth_name(p) and not p.dir_only]
        folders = [p.parts[-1] for p in patterns if _any_depth_name(p) and p.dir_only]
        # A path pattern without `**` matches the paths that start with its parts: one anchored search.
        fixed = [p for p in patterns if not _any_depth_name(p) and all(not isinstance(q, str) or q == "" for q in p.parts)]
        self.others = [p for p in patterns if not _any_depth_name(p) and p not in fixed]
        self.any_name = _search(names, r"(?=/|\Z)")
        self.any_folder, self.any_folder_or_last = _search(folders, "/"), _search(folders, r"(?=/|\Z)")
        self.fixed = _anchored([p for p in fixed if not p.dir_only], r"(?=/|\Z)")
        self.fixed_folder = _anchored([p for p in fixed if p.dir_only], "/")
        self.fixed_folder_or_last = _anchored([p for p in fixed if p.dir_only], r"(?=/|\Z)")

    def matches(self, path: list[str], depth: int, is_dir: bool) -> bool:
        rel = "/".join(path[depth:])
        for search in (self.any_name, self.any_folder_or_last if is_dir else self.any_folder, self.fixed,
                       self.fixed_folder_or_last if is_dir else self.fixed_folder):
            if search is not None and search.search(rel):
                return True
        return any(p.match(path, is_dir) for p in self.others)


def _anchored(patterns: list[IgnorePattern], end: str) -> "re.Pattern[str] | None":
    """One search for paths that start with the parts of any of `patterns` (path patterns without `**`; one
    with a malformed part matches nothing), followed by `end`."""
    made = ["/".join(q.pattern for q in p.parts if q != "") for p in patterns
            if all(q is not None for q in p.parts) and any(q != "" for q in p.parts)]
    return re.compile(f"^(?:{'|'.join(f'(?:{m})' for m in made)}){end}", re.DOTALL) if made else None


def _any_depth_name(pattern: IgnorePattern) -> bool:
    """A pattern that matches a name at any depth below its folder: `name`, or `**/name` (the same to
    go-git's matcher where it is no folder pattern)."""
    return not pattern.is_glob or (
        len(pattern.parts) == 2 and pattern.parts[0] == "**" and not pattern.dir_only
        and not isinstance(pattern.parts[1], str))


def _search(globs: list, end: str) -> "re.Pattern[str] | None":
    """One search for a path part any of `globs` matches whole, followed by `end` (malformed: nothing)."""
    made = [g.pattern for g in globs if g is not None]
    return re.compile(f"(?:^|/)(?:{'|'.join(f'(?:{g})' for g in made)}){end}", re.DOTALL) if made else None


def _builtin(patterns: str) -> list[IgnorePattern]:
    return [parse_pattern(p) for p in patterns.split(",")]


def _compile_glob(glob: str) -> "re.Pattern[str] | None":
    """Go's `filepath.Match` pattern as a regular expression; None for a malformed one, which matches
    nothing (Go reports ErrBadPattern and the pattern is skipped)."""
    out, index, size = [], 0, len(glob)
    while index < size:
        char = glob[index]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "\\":
            index += 1
            if index == size:
                return None
            out.append(re.escape(glob[index]))
        elif char == "[":
            index, made = _character_class(glob, index + 1)
            if made is None:
                return None
            out.append(made)
            continue
        else:
            out.append(re.escape(char))
        index += 1
    return re.compile("".join(out), re.DOTALL)


def _character_class(glob: str, index: int) -> tuple[int, str | None]:
    """A `[...]` of Go's `filepath.Match` from just after the `[`: (index after the `]`, regex or None)."""
    negated = index < len(glob) and glob[index] == "^"
    index += negated
    ranges: list[str] = []
    count = 0
    while True:
        if index < len(glob) and glob[index] == "]" and count > 0:
            index += 1
            break
        low, index = _class_char(glob, index)
        if low is None:
            return index, None
        high = low
        if glob[index] == "-":
            high, index = _class_char(glob, index + 1)
            if high is None:
                return index, None
        if low <= high:  # a reversed range is no error to Go: it holds nothing
            ranges.append(f"{re.escape(low)}-{re.escape(high)}")
        count += 1
    if not ranges:
        return index, "[^/]" if negated else "(?!)"
    # never `/`: the fast path searches whole paths, where a class must not join two names
    return index, f"(?!/)[{'^' if negated else ''}{''.join(ranges)}]"


def _class_char(glob: str, index: int) -> tuple[str | None, int]:
    """Go's `getEsc`: one character of a class, escaped or not; None where Go finds the pattern malformed
    (an unescaped `-` or `]`, or the pattern ending)."""
    if index >= len(glob) or glob[index] in "-]":
        return None, index
    if glob[index] == "\\":
        index += 1
        if index >= len(glob):
            return None, index
    char = glob[index]
    index += 1
    if index >= len(glob):
        return None, index
    return char, index
