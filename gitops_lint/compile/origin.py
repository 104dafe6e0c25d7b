"""The `# Source: <path>:<line> (<note>)` header of compiled documents, and where a document comes from.

Compiled output names the input line of each document. Compiling that output
again keeps the header as it is, and objects made from a document (migrated
ones, the agent's) name the document's first origin, so output compiled again
is the same bytes.
"""

from __future__ import annotations

import re

from gitops_lint.yaml.loader import Document

HEADER_RE = re.compile(r"^# Source: (?P<path>\S.*?):(?P<line>[0-9]+)(?: \((?P<note>[^\r\n]*)\))?$")
_MARKER_LINE_RE = re.compile(r"^(---|\.\.\.)(\s|$)")
#: Line breaks as YAML (and so the loader's line numbers) count them.
LINE_RE = re.compile(r"[^\r\n\x85\u2028\u2029]*(?:\r\n|[\r\n\x85\u2028\u2029]|$)")


def header(path: str, line: int, note: str | None = None) -> str:
    """The header line (no line break) for a document from `path`:`line`; characters that cannot stand in
    a one-line comment (line breaks, controls, bytes of a file name that are not UTF-8) are escaped."""
    shown = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in path)
    return f"# Source: {shown}:{line}" + (f" ({note})" if note else "")


def header_of(lead: list[str]) -> tuple[str | None, list[str]]:
    """Our header when the lines before a document start with one, and the comment lines after it."""
    for index in range(len(lead) - 1, -1, -1):
        if _MARKER_LINE_RE.match(lead[index]):
            lead = lead[index + 1 :]
            break
    rest = list(lead)
    while rest and not rest[0].strip():
        rest.pop(0)
    if rest and (match := HEADER_RE.match(rest[0].rstrip("\r\n\x85\u2028\u2029"))):
        return match.group(0), rest[1:]
    return None, rest


def document_origin(doc: Document) -> tuple[str, int]:
    """(path, line) where `doc` first came from: its header's when it has one, else its own."""
    lead = LINE_RE.findall(doc.file.text)[: doc.span.line - 1]
    header, _ = header_of(lead)
    if header is not None:
        match = HEADER_RE.match(header)
        return match.group("path"), int(match.group("line"))
    return doc.file.rel, doc.span.line
