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


class MapPos:
    """Positions of a mapping: its own span, and per key the key's span and the value's tree."""

    __slots__ = ("span", "entries")

    def __init__(self, span: Span):
        self.span = span
        self.entries: dict[Any, tuple[Span, "PosTree"]] = {}


class SeqPos:
    __slots__ = ("span", "items")

    def __init__(self, span: Span):
        self.span = span
        self.items: list["PosTree"] = []


PosTree = MapPos | SeqPos | Span


def span_of(tree: PosTree) -> Span:
    return tree if isinstance(tree, Span) else tree.span


def walk(tree: PosTree, path: Iterable[PathItem]) -> tuple[PosTree, Span | None, bool]:
    """Follow `path` as far as it exists.

    Returns the deepest tree reached, the span of the last key passed (None at
    the root or after a list index), and whether the whole path was found.
    """
    key_span: Span | None = None
    for item in path:
        if isinstance(tree, MapPos) and item in tree.entries:
            key_span, tree = tree.entries[item]
        elif isinstance(tree, SeqPos) and isinstance(item, int) and -len(tree.items) <= item < len(tree.items):
            key_span, tree = None, tree.items[item]
        else:
            return tree, key_span, False
    return tree, key_span, True


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
