"""Secret values kept out of `compile --diff`, the way `kubectl diff` keeps them out.

A diff goes to terminals and CI logs. Every value under a Secret's `data` and
`stringData` is shown as `***` when it did not change, and as `*** (before)` /
`*** (after)` when it did, so a reviewer sees which keys changed and nothing
more. Both sides are compiled output (the folder holds our marker), so the
canonical layout is known: top-level keys at column 0, entries two spaces in,
block scalar lines deeper. SOPS Secrets pass through as written (`encrypted_regex`
may leave values in plain text, and sops indents as it likes): their entries are
those at the indentation of a section's first line, and are masked the same way.
"""

from __future__ import annotations

import re

_SECRET = re.compile(r"^kind: Secret$", re.M)
_ENTRY = re.compile(r"^(?P<indent> +)(?P<key>[^ #].*?):(?: (?P<value>.*))?$")
_SECTIONS = ("data:", "stringData:")


def mask_secrets(before: str, after: str) -> tuple[str, str]:
    """`before` and `after` with Secret values masked, marked `(before)`/`(after)` where they differ."""
    if not (_SECRET.search(before) or _SECRET.search(after)):
        return before, after
    before_lines, before_values = _cut(before)
    after_lines, after_values = _cut(after)
    return (_fill(before_lines, before_values, after_values, "before"),
            _fill(after_lines, after_values, before_values, "after"))


def _cut(text: str) -> tuple[list, dict]:
    """Lines, with each Secret value replaced by its key (a tuple); and the values by key."""
    lines: list = []
    values: dict[tuple, str] = {}
    for doc in re.split(r"(?m)^(?=---\n)", text):
        doc_lines = doc.splitlines(keepends=True)
        if not _SECRET.search(doc):
            lines += doc_lines
            continue
        identity = _identity(doc_lines)
        section = None
        key = None
        indent = None  # of the section's entries: its first line's
        for line in doc_lines:
            if not line.startswith(" "):
                section = line.rstrip("\n") if line.rstrip("\n") in _SECTIONS else None
                key = indent = None
                lines.append(line)
                continue
            if section is None:
                lines.append(line)
                continue
            entry = _ENTRY.match(line.rstrip("\n"))
            if entry is not None and indent is None:
                indent = entry.group("indent")
            if entry is not None and entry.group("indent") == indent:
                key = (identity, section, entry.group("key"), indent)
                values[key] = entry.group("value") or ""
                lines.append(key)
            elif key is not None:
                values[key] += line  # a block scalar's line (or a flow value's continuation)
            else:
                lines.append(line)
    return lines, values


def _identity(doc_lines: list[str]) -> tuple[str, ...]:
    """The `name:` and `namespace:` lines of a document's `metadata:` section."""
    out, inside = [], False
    for line in doc_lines:
        if not line.startswith(" "):
            inside = line.rstrip("\n") == "metadata:"
        elif inside and line.lstrip().startswith(("name: ", "namespace: ")):
            out.append(line.strip())
    return tuple(out)


def _fill(lines: list, values: dict, other: dict, side: str) -> str:
    out = []
    for line in lines:
        if isinstance(line, tuple):
            mark = "***" if other.get(line) == values[line] else f"*** ({side})"
            out.append(f"{line[3]}{line[2]}: {mark}\n")
        else:
            out.append(line)
    return "".join(out)
