"""Edits of YAML text that keep everything around them: block style, comments, indentation.

Fixes change a file by replacing spans of its text, never by emitting YAML again, so every byte they
do not cover stays as it was. `TextEdits` finds the spans through a document's position tree and
writes edits in the file's own block style, or refuses; `region` folds a set of edits into one
replacement (span, old text, new text).
"""

from __future__ import annotations

import bisect
from typing import Any

from gitops_lint.yaml.positions import MapPos, SeqPos, Span, span_of, walk


def line_starts(text: str) -> list[int]:
    """Offset of each line's start, and the text's length last."""
    starts, at = [0], 0
    for line in text.splitlines(keepends=True):
        at += len(line)
        starts.append(at)
    return starts


def position(starts: list[int], offset: int) -> tuple[int, int]:
    """(line, column), 1-based, of `offset`; the text's end counts as the end of its last line."""
    line = min(bisect.bisect_right(starts, offset) - 1, max(len(starts) - 2, 0))
    return line + 1, offset - starts[line] + 1


def offset(starts: list[int], line: int, column: int) -> int | None:
    """The offset of (line, column), 1-based, in the text `starts` was made from; None outside its lines."""
    if not 1 <= line < len(starts):
        return None
    at = starts[line - 1] + column - 1
    return at if at <= starts[line] else None


def region(text: str, edits: list[tuple[int, int, str]]) -> tuple[Span, str, str]:
    """One replacement covering every edit (start, end, new text), the text between them kept."""
    edits = sorted(edits, key=lambda edit: edit[:2])  # stable: inserts at one offset keep their order
    start, end = edits[0][0], max(e for _, e, _ in edits)
    parts, at = [], start
    for a, b, new in edits:
        parts += [text[at:a], new]
        at = b
    parts.append(text[at:end])
    starts = line_starts(text)
    return Span(*position(starts, start), *position(starts, end)), text[start:end], "".join(parts)


class TextEdits:
    """Text edits on one document's file, located through its position tree. Each edit keeps block style
    as the file has it, or is refused (the method returns False, and the caller offers no fix).

    A block node's span, as the parser gives it, runs to the next token (past trailing comments and blank
    lines); `_content_end` finds where its text really ends."""

    def __init__(self, doc, text: str, starts: list[int]):
        self.doc, self.text, self.starts = doc, text, starts
        self.lines = text.splitlines(keepends=True)
        self.edits: list[tuple[int, int, str]] = []
        #: Lists this writer made by renaming a key: path -> (index of the edit, dash column, length of the
        #: key's line in the edit's text).
        self.renamed: dict[tuple, tuple[int, int]] = {}

    @classmethod
    def of(cls, doc) -> "TextEdits | None":
        """Edits for `doc`'s file; None for a file with tabs or carriage returns, whose indentation and
        line ends the edits would have to mimic."""
        text = doc.file.text
        if "\t" in text or "\r" in text:
            return None
        return cls(doc, text, line_starts(text))

    def offset(self, span: Span) -> tuple[int, int] | None:
        start, end = offset(self.starts, span.line, span.column), offset(self.starts, span.end_line, span.end_column)
        return None if start is None or end is None else (start, end)

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
        span = span_of(tree)
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
        value_line = span_of(entry[1]).line - tree.span[0]
        # Comment lines between the key and its value: kept, above the key (the value becomes one block).
        between = [line.strip() for line in lines[first + 1 : value_line] if line.strip().startswith("#")]
        comment = self.key_comment(path, key)
        # The key's own comment stays on its line: after the value's first line (`patch: |  # ...`).
        value = text.replace("\n", f"  {comment}\n", 1) if comment else text
        return "\n".join(lines[:first] + between + [f"{key}: {value}"] + lines[last + 1 :])

    def _dash_column(self, sequence: SeqPos, index: int) -> int | None:
        """The column of item `index`'s dash, when the item starts on its dash's line (`- key: ...`)."""
        line, column = span_of(sequence._item(index))[0:2]
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
        start = span_of(item).line
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
        rest = self._line(entry[0].line)[entry[0].end_column - 1 :]  # `:` and maybe a comment
        head = f"{new_key}{rest.rstrip()}" if rest.lstrip().startswith(":") and "#" in rest else f"{new_key}:"
        self.renamed[path + (new_key,)] = (len(self.edits), dash, len(head) + 1)
        self.edits.append((self._at(entry[0].line, entry[0].column), self._at(*end),
                           f"{head}\n" + "\n".join(_item(dash, *item) for item in items)))
        return True

    def key_comment(self, path: tuple, key: str) -> str | None:
        """The comment after `key:` on its line, if any (`patchesJson6902:  # ops` -> `# ops`)."""
        entry = self._entry(path, key)
        if entry is None:
            return None
        rest = self._line(entry[0].line)[entry[0].end_column - 1 :].lstrip(" :")
        return rest.rstrip() if rest.startswith("#") else None

    def add_items(self, path: tuple, items: list[tuple[list[str], str]], *, first: bool = False) -> bool:
        """`items` at the start (`first`) or the end of the block list at `path` (one this writer made
        by renaming too)."""
        texts = [_item(dash, *item) for item in items] if (dash := self._list_dash(path)) is not None else None
        if texts is None:
            return False
        if path in self.renamed:
            index, _, head = self.renamed[path]
            start, end, text = self.edits[index]
            text = text[:head] + "\n".join(texts) + "\n" + text[head:] if first else text + "".join(
                "\n" + t for t in texts)
            self.edits[index] = (start, end, text)
            return True
        tree, _, _ = walk(self.doc.pos, path)
        if first:
            item = tree._item(0)
            at = self.starts[span_of(item).line - 1]
            self.edits.append((at, at, "".join(t + "\n" for t in texts)))
            return True
        at = self._after_line(self._content_end(tree)[0])
        prefix = "" if self.text[:at].endswith("\n") else "\n"
        self.edits.append((at, at, prefix + "".join(t + "\n" for t in texts)))
        return True

    def _list_dash(self, path: tuple) -> int | None:
        """The dash column of the non-empty block list at `path`, or of the list this writer renamed there."""
        if path in self.renamed:
            return self.renamed[path][1]
        tree, _, found = walk(self.doc.pos, path)
        if not found or not isinstance(tree, SeqPos) or not len(tree):
            return None
        return self._dash_column(tree, 0)

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
        at = self.starts[span_of(tree._item(0)).line - 1]
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


