"""A loaded file as compact bytes, and back: what the cache stores and what `--jobs` workers return.

A record holds what loading a file produced (its text, documents as plain data, its problems; not
the position trees, which are built again for the few files a finding points into), in `marshal`'s
format: built-in types only, so decoding creates no object of ours but the few that wrap each file
and document, at about a tenth of the cost of parsing the YAML again. `marshal` is not safe against
damaged input, so callers check a record's checksum before decoding it (`cache.py` does), and never
decode bytes from elsewhere.
"""

from __future__ import annotations

import marshal
import os

from gitops_lint.yaml.loader import Document, LoadProblem, SourceFile, shared
from gitops_lint.yaml.positions import Span


def encode(source: SourceFile) -> bytes:
    """`source` as it was loaded (before the model marks anything on it)."""
    return marshal.dumps((
        source.text,
        source.size,
        source.skipped,
        [(doc.index, doc.data, doc.sops, doc.head, doc.top) for doc in source.documents],
        [(p.code, p.message, tuple(p.span)) for p in source.problems],
    ))


def decode(record: bytes | memoryview, location: str | os.PathLike, rel: str) -> SourceFile:
    """The file `encode` was given, at `location` / `rel` (a record does not name its file: equal contents
    anywhere share one record). Raises ValueError, EOFError or TypeError on bytes that are no record."""
    text, size, skipped, documents, problems = marshal.loads(record)
    source = SourceFile(location=os.fspath(location), rel=rel, text=text, size=size, skipped=skipped)
    source.documents = [Document(source, index, data, None, sops, shared(head), shared(top))
                        for index, data, sops, head, top in documents]
    source.problems = [LoadProblem(code, message, Span(*span)) for code, message, span in problems]
    return source
