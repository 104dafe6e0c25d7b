"""Where each node of a loaded document sits in its file.

The data of a document is plain Python (dict, list, str, int, ...), which is
what pydantic and jsonschema are fastest on. Beside it a position tree of the
same shape records spans, so any path into the data can be turned back into
the exact key or value it came from.
"""

from __future__ import annotations

from typing import Any, Iterable

from gitops_lint.diagnostics import Span

PathItem = str | int
DataPath = tuple[PathItem, ...]


#: A span as stored: a plain 4-tuple, several times cheaper to build than a `Span`
#: (the loader makes one per node); `span_of` turns it into a `Span`.
RawSpan = tuple[int, int, int, int]


class MapPos:
    """Positions of a mapping: its own span, and per key the key's span and the value's tree."""

    __slots__ = ("span", "entries")

    def __init__(self, span: RawSpan):
        self.span = span
        self.entries: dict[Any, tuple[RawSpan, "PosTree"]] = {}


class SeqPos:
    __slots__ = ("span", "items")

    def __init__(self, span: RawSpan):
        self.span = span
        self.items: list["PosTree"] = []


PosTree = MapPos | SeqPos | RawSpan


def span_of(tree: PosTree) -> Span:
    return Span(*tree) if isinstance(tree, tuple) else Span(*tree.span)


def walk(tree: PosTree, path: Iterable[PathItem]) -> tuple[PosTree, Span | None, bool]:
    """Follow `path` as far as it exists.

    Returns the deepest tree reached, the span of the last key passed (None at
    the root or after a list index), and whether the whole path was found.
    """
    key_span: RawSpan | None = None
    found = True
    for item in path:
        if isinstance(tree, MapPos) and item in tree.entries:
            key_span, tree = tree.entries[item]
        elif isinstance(tree, SeqPos) and isinstance(item, int) and -len(tree.items) <= item < len(tree.items):
            key_span, tree = None, tree.items[item]
        else:
            found = False
            break
    return tree, (Span(*key_span) if key_span is not None else None), found


def format_path(path: Iterable[PathItem]) -> str:
    """`("spec", "resources", 0, "name")` -> `spec.resources[0].name`."""
    out = ""
    for item in path:
        if isinstance(item, int):
            out += f"[{item}]"
        else:
            text = str(item)
            if text and all(c.isalnum() or c in "_-/" for c in text):
                out += ("." if out else "") + text
            else:
                out += f"[{text!r}]"
    return out
