"""A loaded file as compact bytes, and back: what the cache stores and what `--jobs` workers return.

A record holds what loading a file produced (its text, documents as plain data with their packed
position trees, its problems), in `marshal`'s format: built-in types only, so decoding creates
no object of ours but the few that wrap each file and document, at about a tenth of the cost of
parsing the YAML again. `marshal` is not safe against damaged input, so callers check a record's
checksum before decoding it (`cache.py` does), and never decode bytes from elsewhere.
"""

from __future__ import annotations

import marshal
from pathlib import Path

from gitops_lint.yaml.loader import Document, LoadProblem, SourceFile
from gitops_lint.yaml.positions import MapPos, SeqPos, Span

# A position tree is encoded as built-ins: a mapping as a 3-list, a list as a 2-list, a scalar's span
# as its 4-tuple (the loader's RawSpan), so the kind of each node is known from its shape alone.


def _encode_tree(tree):
    if isinstance(tree, MapPos):
        kids = tree._kids
        return [tree._spans, tree._keys, None if kids is None else tuple(None if k is None else _encode_tree(k) for k in kids)]
    if isinstance(tree, SeqPos):
        kids = tree._kids
        return [tree._spans, None if kids is None else tuple(None if k is None else _encode_tree(k) for k in kids)]
    return tree


def _decode_tree(tree):
    if type(tree) is not list:
        return tree
    if len(tree) == 3:
        kids = tree[2]
        return MapPos(tree[0], tree[1], None if kids is None else tuple(None if k is None else _decode_tree(k) for k in kids))
    kids = tree[1]
    return SeqPos(tree[0], None if kids is None else tuple(None if k is None else _decode_tree(k) for k in kids))


def encode(source: SourceFile) -> bytes:
    """`source` as it was loaded (before the model marks anything on it)."""
    return marshal.dumps((
        source.text,
        source.size,
        source.skipped,
        [(doc.index, doc.data, _encode_tree(doc.pos), doc.sops) for doc in source.documents],
        [(p.code, p.message, tuple(p.span)) for p in source.problems],
    ))


def decode(record: bytes | memoryview, path: Path, rel: str) -> SourceFile:
    """The file `encode` was given, at `path` / `rel` (a record does not name its file: equal contents
    anywhere share one record). Raises ValueError, EOFError or TypeError on bytes that are no record."""
    text, size, skipped, documents, problems = marshal.loads(record)
    source = SourceFile(path=path, rel=rel, text=text, size=size, skipped=skipped)
    source.documents = [Document(source, index, data, _decode_tree(pos), sops) for index, data, pos, sops in documents]
    source.problems = [LoadProblem(code, message, Span(*span)) for code, message, span in problems]
    return source
