"""Fields that move when a Flux object moves to its release's storage version, as text edits.

The API server stores every object of a Flux kind in the storage version, converting with the `None`
strategy: only `apiVersion` changes, and a field the storage version lacks is pruned. So a deprecated
version's field is already gone from the cluster. Moves come in two kinds:

* dropped: fields that did nothing in the served release (`validation`, `gitImplementation`,
  `accessFrom`). Deleting them changes nothing the cluster sees: safe.
* moved: fields that meant something (`patchesStrategicMerge`, `patchesJson6902`, `valuesFile`),
  rewritten as the storage version says it (`patches`, `valuesFiles`). The cluster starts applying
  what the author wrote and the API server has been dropping: unsafe (`--unsafe-fixes`).

Every fix is checked before it is offered: the edited file must parse to exactly the object the move
describes, and that object must be valid under the storage version's schema; otherwise there is no fix
and a person moves the fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from gitops_lint.yaml.positions import MapPos, SeqPos, Span, walk

KUSTOMIZE = "kustomize.toolkit.fluxcd.io"
HELM = "helm.toolkit.fluxcd.io"
SOURCE = "source.toolkit.fluxcd.io"

#: (group, kind) -> the mappings (paths, `*` for every list item) whose keys no longer exist, and what
#: becomes of them: "drop" (a no-op field), "patches" (old patch lists into `patches`), "valuesFiles".
_MOVES: dict[tuple[str, str], list[tuple[tuple, str, str]]] = {
    (KUSTOMIZE, "Kustomization"): [
        (("spec",), "validation", "drop"),
        (("spec",), "patchesStrategicMerge", "patches"),
        (("spec",), "patchesJson6902", "patches"),
    ],
    (HELM, "HelmRelease"): [
        (("spec", "chart", "spec"), "valuesFile", "valuesFiles"),
        (("spec", "postRenderers", "*", "kustomize"), "patchesStrategicMerge", "patches"),
        (("spec", "postRenderers", "*", "kustomize"), "patchesJson6902", "patches"),
    ],
    (SOURCE, "GitRepository"): [(("spec",), "gitImplementation", "drop"), (("spec",), "accessFrom", "drop")],
    (SOURCE, "Bucket"): [(("spec",), "accessFrom", "drop")],
    (SOURCE, "HelmChart"): [(("spec",), "accessFrom", "drop"), (("spec",), "valuesFile", "valuesFiles")],
}


@dataclass(slots=True)
class Moved:
    """The object as it reads after the moves, the text edits that write it, and whether all are safe."""

    data: Any
    edits: list[tuple[int, int, str]]
    safe: bool


def move_fields(doc, api_version: str) -> Moved | None:
    """The moves `doc` needs at `api_version` (its apiVersion included), or None when one cannot be
    written as an edit of its text (flow style, anchors, tabs, a key not alone on its line)."""
    data = doc.data
    group = str(data.get("apiVersion", "")).split("/")[0]
    text = doc.file.text
    starts = _line_starts(text)
    writer = _Writer(doc, text, starts)
    if "\t" in text or "\r" in text:
        return None  # indentation or line ends the edits below would have to mimic
    new = _copy(data)
    new["apiVersion"] = api_version
    version_span = doc.locate(("apiVersion",))
    if writer.offset(version_span) is None:
        return None
    start, end = writer.offset(version_span)
    old = text[start:end]
    quote = old[0] if old[:1] in ("'", '"') and old.endswith(old[0]) and len(old) > 1 else ""
    writer.edits.append((start, end, f"{quote}{api_version}{quote}"))
    safe = True
    for parent, key, action in _MOVES.get((group, str(data.get("kind"))), ()):
        for path in _expand(data, parent):
            mapping = _get(new, path)
            if not isinstance(mapping, dict) or key not in mapping:
                continue
            outcome = _ACTIONS[action](writer, new, path, key)
            if outcome is None:
                return None
            safe = safe and outcome
    return Moved(new, writer.edits, safe)


def verify(doc, moved: Moved) -> str | None:
    """The new file text when applying `moved` to it parses to `moved.data` (and its other documents
    stay as they were); None otherwise."""
    from gitops_lint.yaml.loader import load_text

    text = doc.file.text
    edits = sorted(moved.edits)
    if any(a[1] > b[0] for a, b in zip(edits, edits[1:])):
        return None  # two moves edit the same text
    for start, end, new in reversed(edits):
        text = text[:start] + new + text[end:]
    parsed = load_text(text, doc.file.rel)
    if parsed.problems or len(parsed.documents) != len(doc.file.documents):
        return None
    for index, (before, after) in enumerate(zip(doc.file.documents, parsed.documents)):
        if after.data != (moved.data if index == doc.index else before.data):
            return None
    return text


def as_fix(doc, moved: Moved):
    """One `Fix` covering every edit of `moved` (the text between them kept as it is), if it verifies."""
    from gitops_lint.diagnostics import Fix

    if verify(doc, moved) is None:
        return None
    text = doc.file.text
    edits = sorted(moved.edits)
    start, end = edits[0][0], max(e for _, e, _ in edits)
    region, at = [], start
    for a, b, new in edits:
        region += [text[at:a], new]
        at = b
    region.append(text[at:end])
    starts = _line_starts(text)
    return Fix(Span(*_position(starts, start), *_position(starts, end)), text[start:end], "".join(region),
               safe=moved.safe)


def _position(starts: list[int], offset: int) -> tuple[int, int]:
    import bisect

    line = min(bisect.bisect_right(starts, offset) - 1, max(len(starts) - 2, 0))  # the text's end: its last line
    return line + 1, offset - starts[line] + 1


# --- the moves ----------------------------------------------------------------------------------------


# Each move returns None when it cannot be written, else whether it is safe (the cluster sees no change).


def _drop(writer: "_Writer", new: dict, path: tuple, key: str) -> bool | None:
    mapping = _get(new, path)
    if len(mapping) < 2 or not writer.delete_entry(path, key):
        return None  # the last key: the mapping would be left empty (null), which means something else
    del mapping[key]
    return True


def _into_patches(writer: "_Writer", new: dict, path: tuple, key: str) -> bool | None:
    """`patchesStrategicMerge` items become `{patch: <the object as written>}`; `patchesJson6902` items keep
    their target and their operations become the `patch` text. They go after any `patches`, strategic
    merge patches first, in the order Flux's generator wrote them."""
    mapping = _get(new, path)
    if mapping[key] in ([], None):
        return _drop(writer, new, path, key)  # nothing to move
    old_items = mapping.pop(key)
    if not isinstance(old_items, list):
        return None
    items: list[tuple[list[str], str]] = []  # (leading comments, the item cut at its margin)
    for index, item in enumerate(old_items):
        where = path + (key, index)
        lead = writer.item_lead(path + (key,), index)
        if lead is None or not isinstance(item, dict):
            return None
        if key == "patchesStrategicMerge":
            literal = writer.literal(where)
            if literal is None or not _reads_as(literal[1], item):
                return None
            old_items[index] = {"patch": literal[1]}
            items.append((lead, "patch: " + literal[0]))
        else:
            if set(item) - {"target", "patch"} or not isinstance(item.get("patch"), list):
                return None
            literal = writer.literal(where + ("patch",))
            if literal is None or not _reads_as(literal[1], item["patch"]):
                return None
            body = writer.item_with(where, "patch", literal[0])
            if body is None:
                return None
            old_items[index] = {**item, "patch": literal[1]}
            items.append((lead, body))
    existing = mapping.get("patches")
    if existing is None:
        # The first old key becomes `patches` in place; a second one then appends to it.
        if not writer.rename_list(path, key, "patches", items):
            return None
        mapping["patches"] = old_items
        return False
    if not isinstance(existing, list) or not writer.append_items(path + ("patches",), items):
        return None
    if not writer.delete_entry(path, key):
        return None
    existing.extend(old_items)
    return False


def _into_values_files(writer: "_Writer", new: dict, path: tuple, key: str) -> bool | None:
    """`valuesFile: x` is merged before the `valuesFiles` items: it becomes their first."""
    mapping = _get(new, path)
    value = mapping.pop(key)
    if not isinstance(value, str):
        return None
    existing = mapping.get("valuesFiles")
    old = writer.value_text(path + (key,))
    if old is None or (old[:1] not in ("'", '"') and any(c in old for c in ",[]{}#")):
        return None
    if existing is None:
        if not writer.rename_and_replace_scalar(path, key, "valuesFiles", f"[{old}]"):
            return None
        mapping["valuesFiles"] = [value]
        return False
    if not isinstance(existing, list) or not writer.prepend_item(path + ("valuesFiles",), old):
        return None
    if not writer.delete_entry(path, key):
        return None
    existing.insert(0, value)
    return False


_ACTIONS: dict[str, Callable[["_Writer", dict, tuple, str], bool | None]] = {
    "drop": _drop, "patches": _into_patches, "valuesFiles": _into_values_files}


# --- text ---------------------------------------------------------------------------------------------


class _Writer:
    """Text edits on one document's file, located through its position tree. Each edit keeps block style
    as the file has it, or is refused (then there is no fix).

    A block node's span, as the parser gives it, runs to the next token (past trailing comments and blank
    lines); `_content_end` finds where its text really ends."""

    def __init__(self, doc, text: str, starts: list[int]):
        self.doc, self.text, self.starts = doc, text, starts
        self.lines = text.splitlines(keepends=True)
        self.edits: list[tuple[int, int, str]] = []
        #: Lists this writer made by renaming a key: path -> (index of the edit, dash column).
        self.renamed: dict[tuple, tuple[int, int]] = {}

    def offset(self, span: Span) -> tuple[int, int] | None:
        if not (1 <= span.line < len(self.starts) and 1 <= span.end_line < len(self.starts)):
            return None
        return self.starts[span.line - 1] + span.column - 1, self.starts[span.end_line - 1] + span.end_column - 1

    def _at(self, line: int, column: int) -> int:
        return self.starts[line - 1] + column - 1

    def _line(self, number: int) -> str:
        return self.lines[number - 1].rstrip("\n") if 1 <= number <= len(self.lines) else ""

    def _after_line(self, number: int) -> int:
        """Offset of the start of the line after `number` (the end of the text after the last line)."""
        return self.starts[number] if number < len(self.starts) else len(self.text)

    def _entry(self, path: tuple, key: str) -> tuple[Span, Any] | None:
        tree, _, found = walk(self.doc.pos, path)
        if not found or not isinstance(tree, MapPos):
            return None
        entry = tree.get(key)
        return None if entry is None else (Span(*entry[0]), entry[1])

    def _content_end(self, tree: Any) -> tuple[int, int]:
        """(line, column) just after the last character of the node's own text."""
        while isinstance(tree, (MapPos, SeqPos)):
            span = Span(*tree.span)
            if self._line(span.line)[span.column - 1 : span.column] in ("{", "["):
                return span.end_line, span.end_column  # a flow collection ends at its bracket
            if isinstance(tree, MapPos):
                entries = list(tree.entries.values())
                if not entries:
                    return span.end_line, span.end_column
                tree = entries[-1][1]
            else:
                if not len(tree):
                    return span.end_line, span.end_column
                tree = tree.items[-1]
        line, column = tree[2], tree[3]
        while line > tree[0] and not self._line(line)[: column - 1].strip():
            line -= 1  # a block scalar ends on the line after its text
            column = len(self._line(line)) + 1
        return line, column

    def _entry_end(self, key_span: Span, value: Any) -> tuple[int, int] | None:
        """Where the entry's text ends; the rest of that line must be blank or a comment."""
        line, column = self._content_end(value)
        if (line, column) < (key_span.end_line, key_span.end_column):
            line, column = key_span.end_line, key_span.end_column + 1  # `key:` with nothing after it
        rest = self._line(line)[column - 1 :].strip()
        return (line, column) if not rest or rest.startswith("#") else None

    def _alone(self, span: Span) -> bool:
        """The key begins its line, as in a block mapping."""
        return not self._line(span.line)[: span.column - 1].strip()

    def delete_entry(self, path: tuple, key: str) -> bool:
        """The whole entry goes, with its lines (a comment at the end of its last line too)."""
        entry = self._entry(path, key)
        if entry is None or not self._alone(entry[0]):
            return False
        end = self._entry_end(*entry)
        if end is None:
            return False
        self.edits.append((self.starts[entry[0].line - 1], self._after_line(end[0]), ""))
        return True

    def value_text(self, path: tuple) -> str | None:
        """The text of a one-line scalar."""
        tree, _, found = walk(self.doc.pos, path)
        if not found or not isinstance(tree, tuple) or tree[0] != tree[2]:
            return None
        return self.text[self._at(tree[0], tree[1]) : self._at(tree[2], tree[3])]

    def rename_and_replace_scalar(self, path: tuple, key: str, new_key: str, value: str) -> bool:
        entry = self._entry(path, key)
        if entry is None or not isinstance(entry[1], tuple) or entry[0].line != entry[1][2]:
            return False
        self.edits.append((self._at(entry[0].line, entry[0].column), self._at(entry[1][2], entry[1][3]),
                           f"{new_key}: {value}"))
        return True

    def _block_lines(self, tree: Any) -> list[str] | None:
        """The node's lines, cut at the column its first line starts in; None when text sits left of it."""
        span = Span(*tree) if isinstance(tree, tuple) else Span(*tree.span)
        end_line, _ = self._content_end(tree)
        column = span.column
        out = [self._line(span.line)[column - 1 :]]
        for number in range(span.line + 1, end_line + 1):
            line = self._line(number)
            if not line.strip():
                out.append("")
            elif not line[: column - 1].strip():
                out.append(line[column - 1 :])
            elif line.lstrip().startswith("#"):
                out.append(line.lstrip())  # a comment left of the block: kept at its margin
            else:
                return None  # a multi-line scalar or flow node reaching left of the block
        return out

    def literal(self, path: tuple) -> tuple[str, str] | None:
        """The node at `path` as a `|` block scalar: (the text after its key, where `\\0` marks the start of
        each content line for `_item` to indent; the string it reads as)."""
        tree, _, found = walk(self.doc.pos, path)
        body = self._block_lines(tree) if found else None
        if not body or body[0].startswith(("#", " ")):
            return None
        return "|\n" + "\n".join(f"\0{line}" if line else "" for line in body), "\n".join(body) + "\n"

    def item_with(self, path: tuple, key: str, text: str) -> str | None:
        """A list item's block mapping cut at its margin, with `key`'s value (at the margin) replaced by `text`."""
        tree, _, found = walk(self.doc.pos, path)
        entry = self._entry(path, key)
        lines = self._block_lines(tree) if found and isinstance(tree, MapPos) else None
        if lines is None or entry is None or entry[0].column != tree.span[1]:
            return None
        end = self._entry_end(*entry)
        if end is None or self._line(end[0])[end[1] - 1 :].strip():
            return None
        first = entry[0].line - tree.span[0]
        last = end[0] - tree.span[0]
        return "\n".join(lines[:first] + [f"{key}: {text}"] + lines[last + 1 :])

    def _dash_column(self, sequence: SeqPos, index: int) -> int | None:
        """The column of item `index`'s dash, when the item starts on its dash's line (`- key: ...`)."""
        line, column = sequence._item(index)[0:2] if isinstance(sequence._item(index), tuple) else \
            sequence._item(index).span[0:2]
        before = self._line(line)[: column - 1]
        stripped = before.rstrip()
        if not stripped.endswith("-") or stripped[:-1].strip():
            return None
        return len(stripped)

    def item_lead(self, path: tuple, index: int) -> list[str] | None:
        """Comment lines between item `index` and what comes before it in the list (or its key)."""
        tree, key_span, found = walk(self.doc.pos, path)
        if not found or not isinstance(tree, SeqPos) or self._dash_column(tree, index) is None:
            return None
        item = tree._item(index)
        start = item[0] if isinstance(item, tuple) else item.span[0]
        if index:
            previous = self._content_end(tree._item(index - 1))[0]
        elif key_span is not None:
            previous = key_span.line
        else:
            return None
        lead = [self._line(n).strip() for n in range(previous + 1, start)]
        if lead and not all(line.startswith("#") or not line for line in lead):
            return None
        return lead

    def rename_list(self, path: tuple, key: str, new_key: str, items: list[tuple[list[str], str]]) -> bool:
        """`key: <block list>` becomes `new_key:` with `items`, at the old list's dash column."""
        entry = self._entry(path, key)
        if entry is None or not self._alone(entry[0]) or not isinstance(entry[1], SeqPos) or not len(entry[1]):
            return False
        dash = self._dash_column(entry[1], 0)
        end = self._entry_end(*entry)
        if dash is None or end is None:
            return False
        self.renamed[path + (new_key,)] = (len(self.edits), dash)
        self.edits.append((self._at(entry[0].line, entry[0].column), self._at(*end),
                           f"{new_key}:\n" + "\n".join(_item(dash, *item) for item in items)))
        return True

    def append_items(self, path: tuple, items: list[tuple[list[str], str]]) -> bool:
        if path in self.renamed:
            index, dash = self.renamed[path]
            start, end, text = self.edits[index]
            self.edits[index] = (start, end, text + "".join("\n" + _item(dash, *item) for item in items))
            return True
        tree, _, found = walk(self.doc.pos, path)
        if not found or not isinstance(tree, SeqPos) or not len(tree):
            return False
        dash = self._dash_column(tree, 0)
        if dash is None:
            return False
        at = self._after_line(self._content_end(tree)[0])
        prefix = "" if self.text[:at].endswith("\n") else "\n"
        self.edits.append((at, at, prefix + "".join(_item(dash, *item) + "\n" for item in items)))
        return True

    def prepend_item(self, path: tuple, text: str) -> bool:
        tree, _, found = walk(self.doc.pos, path)
        if not found or not isinstance(tree, SeqPos):
            return False
        line, column = tree.span[0:2]
        if self._line(line)[column - 1 : column] == "[":  # flow: `[a, b]`
            at = self._at(line, column) + 1
            self.edits.append((at, at, f"{text}, " if len(tree) else text))
            return True
        dash = self._dash_column(tree, 0) if len(tree) else None
        if dash is None:
            return False
        at = self.starts[(tree._item(0)[0] if isinstance(tree._item(0), tuple) else tree._item(0).span[0]) - 1]
        self.edits.append((at, at, " " * (dash - 1) + f"- {text}\n"))
        return True


def _item(dash: int, lead: list[str], text: str) -> str:
    """`text` (cut at its margin; `\\0` starts a literal's line) as a list item with its dash in column
    `dash`, after its leading comments. A literal's lines go two columns deeper than the item's keys."""
    margin = " " * (dash - 1)
    out = [f"{margin}{comment}" if comment else "" for comment in lead]
    lines = text.split("\n")
    out.append(f"{margin}- {lines[0]}")
    for line in lines[1:]:
        if not line:
            out.append("")
        elif line.startswith("\0"):
            out.append(f"{margin}    {line[1:]}")
        else:
            out.append(f"{margin}  {line}")
    return "\n".join(out)


def _reads_as(text: str, value: Any) -> bool:
    """Whether a patch's text, parsed on its own as Flux parses it, is the value it was in the file (an
    alias to an anchor elsewhere, say, is not)."""
    from gitops_lint.yaml.loader import load_text

    parsed = load_text(text)
    return not parsed.problems and len(parsed.documents) == 1 and parsed.documents[0].data == value


def _line_starts(text: str) -> list[int]:
    starts, at = [0], 0
    for line in text.splitlines(keepends=True):
        at += len(line)
        starts.append(at)
    return starts


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _get(data: Any, path: tuple) -> Any:
    for item in path:
        try:
            data = data[item]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _expand(data: Any, pattern: tuple) -> list[tuple]:
    """Concrete paths matching `pattern` (`*` for each index of a list)."""
    paths: list[tuple] = [()]
    for part in pattern:
        found = []
        for path in paths:
            value = _get(data, path)
            if part == "*" and isinstance(value, list):
                found.extend(path + (i,) for i in range(len(value)))
            elif isinstance(value, dict) and part in value:
                found.append(path + (part,))
        paths = found
    return paths
