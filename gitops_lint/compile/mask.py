"""Secret values kept out of `compile --diff`, the way `kubectl diff` keeps them out.

A diff goes to terminals and CI logs. Every value under a Secret's `data` and
`stringData` is shown as `***` when it did not change, and as `*** (before)` /
`*** (after)` when it did, so a reviewer sees which keys changed and nothing
more. Both sides are compiled output (the folder holds our marker), so the
canonical layout is known: top-level keys at column 0, entries two spaces in,
block scalar lines deeper. SOPS Secrets pass through as written (`encrypted_regex`
may leave values in plain text, and sops indents as it likes): their entries are
those at the indentation of a section's first line, and are masked the same way.
A kustomization's `secretGenerator` literals (`KEY=value`) show their keys only.
"""

from __future__ import annotations

import re

_SECRET = re.compile(r"^kind: Secret$", re.M)
_ENTRY = re.compile(r"^(?P<indent> +)(?P<key>[^ #].*?):(?: (?P<value>.*))?$")
_SECTIONS = ("data:", "stringData:")
_GENERATOR = re.compile(r"^secretGenerator:", re.M)
_LITERAL = re.compile(r"^(?P<indent> +)- (?P<item>.*)$")


def mask_secrets(before: str, after: str) -> tuple[str, str]:
    """`before` and `after` with Secret values masked, marked `(before)`/`(after)` where they differ."""
    if not any(p.search(t) for p in (_SECRET, _GENERATOR) for t in (before, after)):
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
        if _GENERATOR.search(doc):
            _cut_literals(doc_lines, lines, values)
            continue
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
                key = (identity, section, entry.group("key"), f"{indent}{entry.group('key')}: ")
                values[key] = entry.group("value") or ""
                lines.append(key)
            elif key is not None:
                values[key] += line  # a block scalar's line (or a flow value's continuation)
            else:
                lines.append(line)
    return lines, values


def _cut_literals(doc_lines: list[str], lines: list, values: dict[tuple, str]) -> None:
    """A kustomization's lines, each `secretGenerator` literal's value replaced by its key (a tuple)."""
    generator = -1
    literals_at = None  # the column of the `literals:` key whose items follow
    for line in doc_lines:
        text = line.rstrip("\n")
        if not line.startswith(" "):
            generator = -1 if text == "secretGenerator:" else -2
            literals_at = None
            lines.append(line)
            continue
        stripped = text.lstrip()
        column = len(text) - len(stripped)
        if generator > -2 and stripped.startswith("- ") and column <= 2:
            generator += 1  # the next generator of the section
        if literals_at is not None and column <= literals_at:
            literals_at = None
        item = _LITERAL.match(text) if literals_at is not None else None
        if item is not None:
            name, equals, _ = item.group("item").partition("=")
            prefix = f"{item.group('indent')}- {name}{equals}" if equals and name[:1] not in "'\"" \
                else f"{item.group('indent')}- "
            key = ("secretGenerator", generator, name, prefix)
            values[key] = item.group("item")
            lines.append(key)
            continue
        if generator > -2 and stripped.removeprefix("- ").startswith("literals:"):
            literals_at = text.index("literals:")
        lines.append(line)


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
            out.append(f"{line[-1]}{mark}\n")
        else:
            out.append(line)
    return "".join(out)
