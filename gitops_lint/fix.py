"""`check --fix`: the repairs findings carry, applied as exact text edits.

Only the characters a fix covers change: comments, key order, quoting and indentation elsewhere are the
file's own, byte for byte (no YAML is re-emitted). A fix whose span no longer reads what it expects is
stale and skipped; of fixes that overlap, the first wins and the rest wait for the next pass. A file
holding a SOPS-encrypted document is never touched: its MAC covers the values.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops_lint.yaml.edits import line_starts, offset


@dataclass(slots=True)
class FixPlan:
    #: rel -> the file's new text.
    texts: dict[str, str] = field(default_factory=dict)
    #: The diagnostics whose fixes are in `texts`.
    fixed: list[Any] = field(default_factory=list)
    #: (rel, why) of files with fixes that were left alone.
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: rel -> the created files its edits go with: if one cannot be written, the edits are not made.
    needs: dict[str, set[str]] = field(default_factory=dict)

    @property
    def created(self) -> set[str]:
        """Files in `texts` that fixes create."""
        return set().union(*self.needs.values())

    def diff(self, files: list[Any]) -> str:
        """A unified diff of every change, as `git diff` would show it. In a file holding secret values
        (a Secret, a secretGenerator's input) every value on a shown line is masked, context lines too:
        a diff must not print what a code frame would not."""
        from gitops_lint.secrets import file_secret_values, mask_values, redact

        by_rel = {f.rel: f for f in files}
        out = []
        for rel in sorted(self.texts):
            source = by_rel.get(rel)
            before = "/dev/null" if rel in self.created else f"a/{rel}"
            secret = source is not None and bool(source.all_secret or file_secret_values(source))
            for line in difflib.unified_diff(source.text.splitlines(keepends=True) if source is not None else [],
                                             self.texts[rel].splitlines(keepends=True), before, f"b/{rel}"):
                if secret and line[:1] in " +-" and not line.startswith(("+++ ", "--- ")):
                    line = line[0] + mask_values(line[1:].rstrip("\n")) + ("\n" if line.endswith("\n") else "")
                out.append(redact(line))
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in out)


def plan(diagnostics: list[Any], files: list[Any], unsafe: bool = False, root: Path | None = None) -> FixPlan:
    """What applying the fixes of `diagnostics` (safe ones, and unsafe ones when asked) makes of `files`.
    A fix that creates a file is left when the file exists (under `root`) or another fix creates it."""
    by_rel = {f.rel: f for f in files}
    wanted: dict[str, list[Any]] = {}
    for d in diagnostics:
        if d.fix is not None and (d.fix.safe or unsafe):
            wanted.setdefault(d.path, []).append(d)
    result = FixPlan()
    for rel, found in sorted(wanted.items()):
        source = by_rel.get(rel)
        if source is None or not source.text:
            continue
        if any(doc.sops for doc in source.documents):
            result.skipped.append((rel, "SOPS-encrypted: its MAC covers the values, so it is not edited"))
            continue
        text = source.text
        starts = line_starts(text)
        edits = []
        for d in sorted(found, key=lambda d: (d.fix.span.line, d.fix.span.column)):
            start, end = offset(starts, d.fix.span.line, d.fix.span.column), offset(starts, d.fix.span.end_line,
                                                                                    d.fix.span.end_column)
            if start is None or end is None or text[start:end] != d.fix.old:
                continue  # stale: the file moved on since the finding
            if edits and start < edits[-1][1]:
                continue  # overlaps the previous fix: the next pass sees it afresh
            taken = [new for new, _ in d.fix.creates if new in by_rel or new in result.created or _taken(root, new)]
            if taken:
                result.skipped.append((rel, f"{d.rule}: not fixed: {taken[0]}, which the fix writes, exists"))
                continue
            result.texts.update(d.fix.creates)
            result.needs.setdefault(rel, set()).update(new for new, _ in d.fix.creates)
            edits.append((start, end, d))
        if not edits:
            continue
        for start, end, d in reversed(edits):
            text = text[:start] + d.fix.text + text[end:]
        result.texts[rel] = text
        result.fixed.extend(d for _, _, d in edits)
    return result


def _taken(root: Path | None, rel: str) -> bool:
    """Something is at `rel` under `root` (a dangling symbolic link too), or a folder on the way is a file."""
    import os

    if root is None:
        return False
    path = root / rel
    return os.path.lexists(path) or any(os.path.lexists(p) and not p.is_dir() for p in path.parents
                                        if root in p.parents)


def write(fixes: FixPlan, files: list[Any], root: Path | None = None) -> list[tuple[str, str]]:
    """Write each fixed file in place (a temporary file renamed over it, its mode kept) and each created
    one under `root`; the (rel, why) of files left alone: a symbolic link, a file changed since it was
    read, one that is not plain UTF-8, or a file to create that exists by now."""
    import codecs
    import os
    import stat

    from gitops_lint.cache import write_atomically

    by_rel = {f.rel: f for f in files}
    left = []
    # New files first: an edit that goes with one (AGT003 deletes the section the new file replaces) is
    # made only once its file is written.
    for rel in sorted(fixes.created):
        left.extend(_create(root, rel, fixes.texts[rel]))
    failed = {rel for rel, _ in left}
    for rel, text in sorted(fixes.texts.items()):
        if rel in fixes.created:
            continue
        missing = sorted(fixes.needs.get(rel, set()) & failed)
        if missing:
            left.append((rel, f"not edited: {missing[0]}, which goes with its fix, could not be written"))
            continue
        source = by_rel[rel]
        path = source.path
        try:
            if os.path.islink(path):
                left.append((rel, "a symbolic link: not edited"))
                continue
            raw = path.read_bytes()
            bom = codecs.BOM_UTF8 if raw.startswith(codecs.BOM_UTF8) else b""  # kept, as editors keep it
            if raw[len(bom):] != source.text.encode("utf-8"):
                left.append((rel, "changed since it was read, or not plain UTF-8: not edited"))
                continue
            write_atomically(path, [bom, text.encode("utf-8")], stat.S_IMODE(os.stat(path).st_mode))
        except OSError as exc:
            left.append((rel, f"cannot write: {exc.strerror or exc}"))
    return left


def _create(root: Path | None, rel: str, text: str) -> list[tuple[str, str]]:
    """A new file, with the mode the umask gives new files; never over an existing one."""
    from gitops_lint.cache import write_atomically

    if root is None:
        return [(rel, "no repository root to create it in")]
    path = root / rel
    try:
        if path.exists() or path.is_symlink():
            return [(rel, "exists: not overwritten")]
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, [text.encode("utf-8")])
    except OSError as exc:
        return [(rel, f"cannot write: {exc.strerror or exc}")]
    return []
