"""A record (`yaml.record`) gives back the loaded file exactly: data, every position, problems, flags."""

from __future__ import annotations

import marshal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_lint.yaml import record
from gitops_lint.yaml.loader import load_text
from tests.test_loader import _paths, keys, trees


def assert_same_file(decoded, source) -> None:
    assert (decoded.text, decoded.size, decoded.skipped) == (source.text, source.size, source.skipped)
    assert [(p.code, p.message, p.span) for p in decoded.problems] == [(p.code, p.message, p.span) for p in source.problems]
    assert len(decoded.documents) == len(source.documents)
    for got, want in zip(decoded.documents, source.documents):
        assert (got.index, got.data, got.sops, got.file) == (want.index, want.data, want.sops, decoded)
        for path in _paths(want.data):
            assert got.locate(path) == want.locate(path)
            assert got.locate(path, key=True) == want.locate(path, key=True)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.dictionaries(keys, trees, min_size=1, max_size=5), min_size=1, max_size=3))
def test_a_record_gives_back_every_document_and_position(documents) -> None:
    import yaml

    text = yaml.safe_dump_all(documents, allow_unicode=True, sort_keys=False)
    source = load_text(text, "a.yaml")
    decoded = record.decode(record.encode(source), source.location, source.rel)
    assert_same_file(decoded, source)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_a_record_of_any_text_gives_back_its_problems(text: str) -> None:
    source = load_text(text, "any.yaml")
    assert_same_file(record.decode(record.encode(source), source.location, source.rel), source)


def test_aliases_merge_keys_and_sops_survive() -> None:
    text = ("base: &b {a: 1, b: [x, y]}\nuse:\n  <<: *b\n  c: *b\n"
            "---\nsops:\n  mac: x\ndata:\n  k: ENC[AES256_GCM,data:x]\n---\n")
    source = load_text(text, "s.yaml")
    decoded = record.decode(record.encode(source), source.location, source.rel)
    assert_same_file(decoded, source)
    assert not source.problems and decoded.documents[1].sops


@pytest.mark.parametrize("damaged", [
    b"", b"\x00", marshal.dumps((1, 2)), marshal.dumps("text"),
    marshal.dumps(("", 0, None, [(0, {}, False, [1, 1, 2, 1], None)], [])),  # a span that is no tuple
])
def test_bytes_that_are_no_record_raise_what_the_loader_catches(damaged: bytes) -> None:
    with pytest.raises((ValueError, EOFError, TypeError)):
        record.decode(damaged, load_text("").location, "x.yaml")


def test_equal_document_spans_are_held_once_across_files_and_records() -> None:
    # Documents repeat the same few spans (`Document.head`, `Document.top`): one tuple each, not one per document.
    from tests.test_loader import _parsed

    first, second = (_parsed(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {n}}}\n", False) for n in "ab")
    decoded = record.decode(record.encode(second), second.location, second.rel)
    a, b, c = first.documents[0], second.documents[0], decoded.documents[0]
    assert a.top is not None and a.top is b.top is c.top and a.head is b.head is c.head
