"""Where each node of a loaded document sits in its file.

The data of a document is plain Python (dict, list, str, int, ...), which is
what the typed model and jsonschema are fastest on. Beside it a position tree of the
same shape records spans, so any path into the data can be turned back into
the exact key or value it came from.
"""

from __future__ import annotations

from array import array
from typing import Any, Iterable, NamedTuple


class Span(NamedTuple):
    """1-based line and column; the end column is exclusive (as in SARIF and LSP)."""

    line: int
    column: int
    end_line: int
    end_column: int

    @classmethod
    def point(cls, line: int, column: int = 1) -> "Span":
        return cls(line, column, line, column + 1)

PathItem = str | int
DataPath = tuple[PathItem, ...]


#: A span as stored: a plain 4-tuple, several times cheaper to build than a `Span`
#: (the loader makes one per node); `span_of` turns it into a `Span`.
RawSpan = tuple[int, int, int, int]

# A position tree is kept for every node of every document a run loads, so it is
# stored compactly: a mapping or a list keeps its spans as unsigned ints in one
# `array` (its own span, then per entry the key's span and the value's span, or
# per item the item's span), its keys in a tuple and its nested trees (None
# where the value is a scalar) in another. That is about 40 bytes per entry
# where a dict of tuples of tuples of ints took 300. `entries`, `items` and
# `span` build the familiar dict, list and tuples when asked (rarely: for a
# finding's location, or a Secret's values).

#: Bytes of one packed span: four native unsigned ints, as `array("I")` and `memoryview.cast("I")` store them.
_SPAN_BYTES = 4 * array("I").itemsize


class _Packed:
    """What mappings and lists share: spans packed as unsigned ints, own span first."""

    __slots__ = ("_spans", "_kids")

    @property
    def span(self) -> RawSpan:
        return tuple(self.spans()[0:4])  # type: ignore[return-value]

    def spans(self) -> memoryview:
        """The packed spans as ints: own span, then per entry key span and value span (a mapping) or each
        item's span (a list)."""
        return memoryview(self._spans).cast("I")


class MapPos(_Packed):
    """Positions of a mapping: its own span, and per key the key's span and the value's tree."""

    __slots__ = ("_keys",)

    def __init__(self, spans: bytes, keys: tuple, kids: tuple | None):
        self._spans, self._keys, self._kids = spans, keys, kids

    @property
    def entries(self) -> dict[Any, tuple[RawSpan, "PosTree"]]:
        """Per key, in the order of the file: (the key's span, the value's tree). A new dict at each call."""
        return {key: self._entry(i) for i, key in enumerate(self._keys)}

    def get(self, key: Any) -> tuple[RawSpan, "PosTree"] | None:
        """`entries.get(key)` without building `entries`."""
        try:
            i = self._keys.index(key)
        except ValueError:
            return None
        return self._entry(i)

    def __contains__(self, key: Any) -> bool:
        return key in self._keys

    def _entry(self, i: int) -> tuple[RawSpan, "PosTree"]:
        spans, at = self.spans(), 4 + 8 * i
        kid = self._kids[i] if self._kids is not None else None
        return tuple(spans[at : at + 4]), (kid if kid is not None else tuple(spans[at + 4 : at + 8]))  # type: ignore[return-value]


class SeqPos(_Packed):
    """Positions of a list: its own span, and each item's tree."""

    __slots__ = ()

    def __init__(self, spans: bytes, kids: tuple | None):
        self._spans, self._kids = spans, kids

    @property
    def items(self) -> list["PosTree"]:
        """Each item's tree, in order. A new list at each call."""
        return [self._item(i) for i in range(len(self))]

    def __len__(self) -> int:
        return len(self._spans) // _SPAN_BYTES - 1

    def _item(self, i: int) -> "PosTree":
        kid = self._kids[i] if self._kids is not None else None
        if kid is not None:
            return kid
        at = 4 + 4 * i
        return tuple(self.spans()[at : at + 4])  # type: ignore[return-value]


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
        entry = tree.get(item) if isinstance(tree, MapPos) else None
        if entry is not None:
            key_span, tree = entry
        elif isinstance(tree, SeqPos) and isinstance(item, int) and -len(tree) <= item < len(tree):
            key_span, tree = None, tree._item(item % len(tree))
        else:
            found = False
            break
    return tree, (Span(*key_span) if key_span is not None else None), found


def value_at(data: Any, path: Iterable[PathItem]) -> Any:
    """The value at `path` in plain data (keys of mappings, indexes of lists); None where it leads nowhere."""
    for item in path:
        if isinstance(data, dict):
            data = data.get(item)
        elif isinstance(data, list) and isinstance(item, int) and -len(data) <= item < len(data):
            data = data[item]
        else:
            return None
    return data


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
