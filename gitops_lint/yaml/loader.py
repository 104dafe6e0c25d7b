"""Load YAML files into documents that remember where every node came from.

The fast path is libyaml's composer (PyYAML `compose_all` with the C parser):
it gives every node with its start and end marks at 10+ MB/s. We build plain
Python data from those nodes ourselves, which is where YAML's awkward corners
are handled once and for all: merge keys, aliases (with an expansion budget),
duplicate keys, YAML 1.1 scalars and custom tags. Whatever goes wrong becomes a
`LoadProblem` with a position; nothing here raises on user input.
"""

from __future__ import annotations

import math
import os
import re
import sys
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml import composer as _composer
from yaml import nodes as _nodes
from yaml.resolver import Resolver

from gitops_lint.discover import read_bytes
from gitops_lint.yaml.positions import DataPath, MapPos, PosTree, SeqPos, Span, format_path, span_of, walk

# The loader problems each map to one rule of the catalogue (rules/YAML*.yaml).
SYNTAX = "syntax-error"
DUPLICATE_KEY = "duplicate-key"
CONFLICT_MARKER = "merge-conflict-marker"
TAB_INDENT = "tab-indentation"
ENCODING = "invalid-encoding"
BINARY = "binary-file"
ALIAS_LIMIT = "alias-expansion-limit"
TEMPLATE = "template-skipped"
UNREADABLE = "unreadable-file"
#: Problems after which a file's documents are not all there (or not there at all).
INCOMPLETE = frozenset({SYNTAX, TAB_INDENT, ALIAS_LIMIT, ENCODING, BINARY, CONFLICT_MARKER, UNREADABLE})

#: Nesting deeper than this is no configuration file; it would only exhaust the stack.
MAX_DEPTH = 400
#: Nodes one document may expand to through aliases, on top of 4 per character of the file.
ALIAS_BUDGET_BASE = 10_000

_CONFLICT_RE = re.compile(r"^(<{7}|={7}|>{7})(?: |$)", re.MULTILINE)
_TEMPLATE_RE = re.compile(r"\{\{-?\s|\{%-?\s|\{\{[.$\w]|\{#")
_TAB_INDENT_RE = re.compile(r"^ *\t", re.MULTILINE)

#: kustomize's own files, in its order of preference when a folder has more than one: it reads them with
#: sigs.k8s.io/yaml (go-yaml v2).
KUSTOMIZE_FILE_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
#: Whose reading of plain scalars a file gets (`yaml_reader`): kustomize's kyaml (go-yaml v3, YAML 1.2's
#: booleans), go-yaml v2 (YAML 1.1's, and `y`/`n`), Ruby's Psych (YAML 1.1's, as PyYAML reads them).
KYAML, GO_YAML_V2, PSYCH = "kyaml", "go-yaml-v2", "psych"
#: Booleans to YAML 1.1 (go-yaml v2, Psych), strings to YAML 1.2's core schema (go-yaml v3): each word's value.
YAML11_ONLY_BOOLS = {word: value for words, value in (("yes Yes YES on On ON", True), ("no No NO off Off OFF", False))
                     for word in words.split()}
#: Booleans to go-yaml v2 only: Psych and PyYAML leave them strings.
_GO_YAML_V2_BOOLS = frozenset({"y", "Y", "n", "N"})
_GITLAB_CI_NAMES = frozenset({".gitlab-ci.yml", ".gitlab-ci.yaml"})


def read_by_gitlab(rel: str) -> bool:
    """Agent configs (under `.gitlab/`) and CI files: GitLab reads those whatever Flux applies."""
    return rel[rel.rfind("/") + 1:] in _GITLAB_CI_NAMES or rel.startswith(".gitlab/") or "/.gitlab/" in rel


def yaml_reader(rel: str) -> str:
    """Whose reading of plain scalars the file gets. Every manifest Flux applies passes through kustomize's
    kyaml, where `yes`, `no`, `on` and `off` are strings (`prune: yes` reaches the API server as "yes",
    `on: yes` in a ConfigMap is data); GitLab's agent server (kas) and kustomize reading its own
    kustomization files use go-yaml v2; GitLab reads CI files (and the rest of `.gitlab/`) with Psych."""
    name = rel[rel.rfind("/") + 1:]
    if name in KUSTOMIZE_FILE_NAMES or rel.startswith(".gitlab/agents/") or "/.gitlab/agents/" in rel:
        return GO_YAML_V2
    if name in _GITLAB_CI_NAMES or rel.startswith(".gitlab/") or "/.gitlab/" in rel:
        return PSYCH
    return KYAML


_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"


@dataclass(slots=True)
class LoadProblem:
    """What kept part of a file from loading (a syntax error, a duplicate key, ...)."""

    code: str
    message: str
    span: Span


@dataclass(slots=True, eq=False)
class Document:
    """One YAML document of a file: plain data, and the position tree beside it when asked for.

    Loading builds the data alone (positions cost as much again, in time and memory, and most
    documents are never pointed into); the first `pos` of a file's document parses that file again
    for the positions of all its documents (`SourceFile.load_positions`)."""

    file: "SourceFile"
    index: int
    data: Any
    #: The position tree, once built (None until a finding or a rule needs a position in this file).
    tree: PosTree | None = None
    #: A top-level `sops:` block: values are ciphertext, only structure can be checked.
    sops: bool = False
    #: The document's own span, known without the tree.
    head: tuple[int, int, int, int] | None = None
    #: ((key, span), ...) of the scalar values of `TOP_KEYS` in the root mapping, known without the tree.
    top: tuple | None = None

    @property
    def pos(self) -> PosTree:
        if self.tree is None:
            self.file.load_positions()
        return self.tree if self.tree is not None else (self.head or (1, 1, 1, 2))

    @property
    def span(self) -> Span:
        return Span(*self.head) if self.head is not None else span_of(self.pos)

    def known_span(self, path: DataPath) -> Span | None:
        """The span of the scalar value at `path` where it is known without the position tree (a top-level
        `apiVersion` or `kind`, kept from the parse); None otherwise."""
        if self.tree is None and self.top is not None and len(path) == 1:
            for name, span in self.top:
                if name == path[0]:
                    return Span(*span)
        return None

    def locate(self, path: DataPath, *, key: bool = False) -> Span:
        """Span of the value at `path` (or of its key), else of the nearest existing parent.

        For a missing field this points at the mapping that should hold it,
        which is where a person would add it.
        """
        known = None if key else self.known_span(path)
        if known is not None:
            return known
        tree, key_span, found = walk(self.pos, path)
        if found and key and key_span is not None:
            return key_span
        if not found:
            if key_span is not None and not isinstance(tree, (MapPos, SeqPos)):
                return key_span
            return _head(span_of(tree))
        return span_of(tree)

    def has(self, path: DataPath) -> bool:
        """Whether `path` leads to a value (answered from the data: no position tree is built for it)."""
        value = self.data
        for item in path:
            if isinstance(value, dict) and item in value:
                value = value[item]
            elif isinstance(value, list) and isinstance(item, int) and -len(value) <= item < len(value):
                value = value[item]
            else:
                return False
        return True


def _head(span: Span) -> Span:
    """The first line of a block span: enough to point at, without underlining a whole mapping."""
    if span.end_line == span.line:
        return span
    return Span(span.line, span.column, span.line, span.column + 1)


@dataclass(slots=True, eq=False)
class SourceFile:
    """One file as loaded: its text, its documents and what went wrong reading them."""

    #: Where the file is read from, as a string (a `Path` per file cost a tenth of a second at 50k files).
    location: str
    #: Relative to the root, with `/` separators: what every report prints.
    rel: str
    text: str = ""
    size: int = 0
    documents: list[Document] = field(default_factory=list)
    problems: list[LoadProblem] = field(default_factory=list)
    #: Why the file was not read as YAML at all (binary, template, ...), if it was not.
    skipped: str | None = None
    #: Every value in it is secret: a secretGenerator reads it (set once the model knows).
    all_secret: bool = False
    #: Whose reading of plain scalars it was parsed with (`yaml_reader`); None: its path's.
    reader: str | None = None
    _lines: list[str] | None = None
    #: (span, value) of each value this file keeps secret, once `secrets.file_secret_values` asked.
    _secret_values: list | None = None

    @property
    def path(self) -> Path:
        return Path(self.location)

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = self.text.splitlines()
        return self._lines

    @property
    def incomplete(self) -> bool:
        """A problem stopped the parse: its documents are not all there."""
        return any(p.code in INCOMPLETE for p in self.problems)

    def load_positions(self) -> None:
        """Give each document its position tree, parsing the text again (once per file, and only for
        files something points into). The parse is the same, so its documents are the same."""
        scratch = SourceFile(location=self.location, rel=self.rel, text=self.text)
        parse_source(scratch, positions=True, reader=self.reader)
        trees = {doc.index: doc.tree for doc in scratch.documents}
        scratch.documents.clear()  # a file and its documents refer to each other: let the scratch copy go now
        for doc in self.documents:
            doc.tree = trees.get(doc.index) or doc.head or (1, 1, 1, 2)

    def source_lines(self, span: Span, limit: int = 3) -> tuple[str, ...]:
        lines = self.lines
        first = max(span.line, 1)
        last = min(max(span.end_line, first), first + limit - 1, len(lines))
        return tuple(lines[first - 1 : last])


# --------------------------------------------------------------------------- reading


def read_source(path: str | os.PathLike, rel: str, raw: bytes | None = None) -> SourceFile:
    """Read and decode one file (`raw`: its bytes, when already read); problems of bytes and encoding end here."""
    source = SourceFile(location=os.fspath(path), rel=rel)
    try:
        if raw is None:
            raw = read_bytes(path)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        try:  # a folder that may be listed but not entered refuses even the lstat: the first reason stands
            if os.path.islink(path) and not os.path.exists(path):
                reason = f"broken symlink to {os.readlink(path)}"
        except OSError:
            pass
        source.problems.append(LoadProblem(UNREADABLE, f"cannot read file: {reason}", Span.point(1)))
        source.skipped = UNREADABLE
        return source
    source.size = len(raw)
    text = _decode(raw, source)
    if text is None:
        return source
    source.text = text
    return source


def _decode(raw: bytes, source: SourceFile) -> str | None:
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if raw.startswith(bom):
            raw_body, encoding = raw[len(bom) :], codec
            break
    else:
        raw_body, encoding = raw, "utf-8"
    if encoding == "utf-8":
        nul = raw_body.find(b"\x00")
        if nul >= 0:
            line, col = _byte_position(raw_body, nul)
            source.problems.append(
                LoadProblem(BINARY, "binary content (NUL byte): not a YAML file, skipped", Span.point(line, col))
            )
            source.skipped = BINARY
            return None
    try:
        return raw_body.decode(encoding)
    except UnicodeDecodeError as exc:
        line, col = _byte_position(raw_body, exc.start)
        bad = raw_body[exc.start : exc.start + 1].hex()
        source.problems.append(
            LoadProblem(
                ENCODING,
                f"invalid {encoding.upper()} (byte 0x{bad}): YAML files must be UTF-8; file skipped",
                Span.point(line, col),
            )
        )
        source.skipped = ENCODING
        return None


def _byte_position(raw: bytes, offset: int) -> tuple[int, int]:
    line_start = raw.rfind(b"\n", 0, offset) + 1
    prefix = raw[line_start:offset].decode("utf-8", "replace")
    return raw.count(b"\n", 0, offset) + 1, len(prefix) + 1


# --------------------------------------------------------------------------- parsing


def parse_source(source: SourceFile, *, template_hint: bool = False, positions: bool = False,
                 reader: str | None = None) -> None:
    """Parse `source.text` into documents, recording problems on the file.

    `template_hint` says the file's location marks it as a template (a Helm
    chart's `templates/`), so a parse failure there is expected. `positions` builds
    each document's position tree now (else `Document.pos` builds them when asked).
    `reader`: whose reading of plain scalars to follow (default: the file's, `yaml_reader`).
    """
    if source.skipped:
        return
    text = source.text
    if ("<<<<<<<" in text or ">>>>>>>" in text) and (match := _CONFLICT_RE.search(text)):
        line = text.count("\n", 0, match.start()) + 1
        source.problems.append(
            LoadProblem(
                CONFLICT_MARKER,
                f"unresolved merge-conflict marker {match.group(1)[:1] * 7!r}: resolve the conflict; file skipped",
                Span(line, 1, line, 8),
            )
        )
        source.skipped = CONFLICT_MARKER
        return
    source.reader = reader = reader or yaml_reader(source.rel)
    error = _compose_and_build(source, positions, reader)
    if isinstance(error, yaml.reader.ReaderError):
        # A character YAML forbids (control characters): a problem of the text, not the syntax.
        offset = max(min(error.position, len(text)), 0)
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        source.problems.append(
            LoadProblem(ENCODING, f"character {error.character!r} is not allowed in YAML: file skipped",
                        Span.point(line, column))
        )
    elif isinstance(error, yaml.MarkedYAMLError):
        _record_parse_error(source, error, template_hint)
    elif isinstance(error, RecursionError):
        source.problems.append(
            LoadProblem(ALIAS_LIMIT, f"nesting deeper than {MAX_DEPTH} levels: file skipped", Span.point(1))
        )


def _compose_and_build(source: SourceFile, positions: bool, reader: str) -> Exception | None:
    """Compose the documents one at a time, building each into data and positions
    before the next is composed, up to the first error, which is returned.

    One document's nodes are alive at a time: composing them all first (as
    `yaml.compose_all` into a list would) keeps every node of a large file,
    with two marks each, at once, several times the memory of what is built.
    """
    documents, problems = len(source.documents), len(source.problems)
    text = _without_document_boms(source.text)
    loader = _FastLoader(text, reader)
    try:
        _build_each(source, loader, positions)
        return None
    except _composer.ComposerError as exc:
        if "duplicate anchor" not in str(exc):
            return exc
    except (yaml.YAMLError, RecursionError) as exc:
        return exc
    finally:
        loader.dispose()
    # Re-used anchor names are legal YAML 1.2 (the later one wins) but
    # libyaml's composer refuses them: compose this file again in Python,
    # still on libyaml's events, and build its documents afresh.
    del source.documents[documents:], source.problems[problems:]
    loader = _AnchorReuseLoader(text, reader)
    try:
        _build_each(source, loader, positions)
    except (yaml.YAMLError, RecursionError) as exc:
        return exc
    finally:
        loader.dispose()
    return None


def _same_type_key(data: dict, key: Any) -> bool:
    """Whether the key of `data` equal to `key` is of its type: `1:` and `true:` are one key to Python
    (1 == True), two to go-yaml and JSON, so no duplicate."""
    return type(next(k for k in data if k == key)) is type(key)


#: A byte order mark at the start of a later document: files saved with one, concatenated.
_DOCUMENT_BOM = re.compile("(\n---(?:[ \t][^\n]*)?\r?\n)\ufeff")


def _without_document_boms(text: str) -> str:
    """`text` without the byte order marks that start its later documents: kustomize splits a stream at its
    `---` lines and reads each document alone, where a leading mark is allowed; libyaml refuses one after
    the first document. (Columns on such a line count one less than the file's.)"""
    return _DOCUMENT_BOM.sub("\\1", text) if "\ufeff" in text else text


def _build_each(source: SourceFile, loader: Any, positions: bool) -> None:
    index = 0
    while loader.check_node():
        node = loader.get_node()
        if node is not None:
            _add_document(source, index, node, positions)
        node = None  # the nodes go before the next document is composed
        index += 1


#: A float to the Go YAML decoders Kubernetes uses (go-yaml v2 and v3) that YAML 1.1 reads as a string:
#: an exponent without a point (`1e3`).
GO_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")


#: Ints to Go's `strconv.ParseInt(s, 0, 64)` (go-yaml v2) that YAML 1.1 reads as strings: `0o17`, `0X1F`, `0B1`.
GO_PREFIXED_INT = re.compile(r"[-+]?0(?:[xX][0-9a-fA-F_]+|[oO][0-7_]+|[bB][01_]+)")


def kubernetes_tag(value: str, yaml11_tag: str, reader: str) -> str:
    """The tag of a plain scalar as Kubernetes' decoders see it, from YAML 1.1's: base 60 (`12:30`,
    an int to YAML 1.1) is a string to go-yaml, `1e3` and `1_e3` are floats, `0o17` and `0X1F` are ints; `y` and `n`
    are booleans to go-yaml v2, and to kyaml (go-yaml v3) `yes`, `no`, `on` and `off` are strings."""
    if reader == KYAML and yaml11_tag == _BOOL and value in YAML11_ONLY_BOOLS:
        return _STR
    if reader == GO_YAML_V2 and yaml11_tag == _STR and value in _GO_YAML_V2_BOOLS:
        return _BOOL
    if yaml11_tag in (_INT, _FLOAT) and ":" in value:
        return _STR
    # go-yaml drops every `_` of a scalar that starts like a number before it tries one (`1_e3` is 1000.0).
    plain = value.replace("_", "") if reader != PSYCH and value[:1] in _NUMBER_START else value
    if yaml11_tag == _STR and GO_FLOAT.fullmatch(plain) and any(c.isdigit() for c in plain):
        yaml11_tag = _FLOAT
    if yaml11_tag == _STR and GO_PREFIXED_INT.fullmatch(plain):
        return _INT
    if yaml11_tag == _FLOAT and reader != PSYCH and not _FLOAT_WORDS.fullmatch(value) and _overflows(value):
        return _STR  # Go's ParseFloat refuses what overflows (`1e400`): go-yaml keeps it as text
    return yaml11_tag


#: The first characters after which go-yaml (v2 and v3) drops underscores to read a number: a digit or a
#: sign (`.5_e3`, read by its `.` branch as written, stays text).
_NUMBER_START = frozenset("0123456789+-")


def _overflows(value: str) -> bool:
    try:
        return math.isinf(float(value.replace("_", "")))
    except ValueError:
        return False


#: YAML's infinities and not-a-number: floats whatever their size.
_FLOAT_WORDS = re.compile(r"[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)")


class _CachingResolver(Resolver):
    """PyYAML's YAML 1.1 resolver, memoised: keys and values repeat endlessly in manifests.

    libyaml's composer calls back into Python to resolve every plain scalar; with
    no path resolvers in use, a plain scalar's tag depends on its text alone.
    """

    #: Per reader (`yaml_reader`), process-wide.
    _tags_by_reader: dict[str, dict[str, str]] = {KYAML: {}, GO_YAML_V2: {}, PSYCH: {}}
    _MAX_CACHED = 200_000

    def __init__(self, reader: str) -> None:
        Resolver.__init__(self)
        self._reader = reader
        self._plain_tags = self._tags_by_reader[reader]

    def resolve(self, kind, value, implicit):  # noqa: ANN001 - PyYAML's signature
        if kind is _nodes.ScalarNode:
            if not implicit[0]:
                return _STR
            tag = self._plain_tags.get(value)
            if tag is None:
                tag = kubernetes_tag(value, Resolver.resolve(self, kind, value, implicit), self._reader)
                if len(self._plain_tags) < self._MAX_CACHED:
                    self._plain_tags[value] = tag
            return tag
        return Resolver.resolve(self, kind, value, implicit)

    def descend_resolver(self, current_node, current_index):  # noqa: ANN001 - no path resolvers
        pass

    def ascend_resolver(self):
        pass


class _FastLoader(yaml.cyaml.CParser, _CachingResolver):  # type: ignore[misc]
    """libyaml parser and composer, our resolver, no constructor: we build the data ourselves."""

    def __init__(self, text: str, reader: str):
        yaml.cyaml.CParser.__init__(self, text)
        _CachingResolver.__init__(self, reader)


class _AnchorReuseLoader(_composer.Composer, yaml.cyaml.CParser, _CachingResolver):  # type: ignore[misc]
    def __init__(self, text: str, reader: str):
        yaml.cyaml.CParser.__init__(self, text)
        _composer.Composer.__init__(self)
        _CachingResolver.__init__(self, reader)

    def compose_node(self, parent, index):  # noqa: ANN001 - PyYAML's signature
        event = self.peek_event()
        if not isinstance(event, yaml.AliasEvent) and event.anchor is not None:
            self.anchors.pop(event.anchor, None)
        return super().compose_node(parent, index)


def _record_parse_error(source: SourceFile, exc: yaml.MarkedYAMLError, template_hint: bool) -> None:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    text = source.text
    if template_hint or _TEMPLATE_RE.search(text):
        source.problems.append(
            LoadProblem(TEMPLATE, "template syntax ({{ }} or {% %}), not plain YAML: file skipped", Span.point(line, col))
        )
        source.skipped = TEMPLATE
        source.documents.clear()
        return
    lines = source.lines
    bad_line = lines[line - 1] if 0 < line <= len(lines) else ""
    tab_match = _TAB_INDENT_RE.search(text)
    if tab_match and ("\t" in bad_line[: max(col, 1)] or "'\\t'" in str(exc.problem)):
        tab_line = text.count("\n", 0, tab_match.start()) + 1
        tab_col = tab_match.end() - tab_match.start()
        source.problems.append(
            LoadProblem(TAB_INDENT, "tab character used for indentation: YAML allows only spaces", Span.point(tab_line, tab_col))
        )
        return
    problem = (exc.problem or "invalid YAML").replace("\n", " ")
    if "nesting depth" in problem:  # libyaml's own limit, reached before ours
        source.problems.append(LoadProblem(ALIAS_LIMIT, f"{problem}: file skipped", Span.point(line, col)))
        return
    context = ""
    if exc.context and exc.context != problem:
        context = f" ({exc.context}"
        if exc.context_mark and exc.context_mark.line + 1 != line:
            context += f" that starts at line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1}"
        context += ")"
    source.problems.append(LoadProblem(SYNTAX, f"YAML syntax error: {problem}{context}", Span.point(line, col)))


# --------------------------------------------------------------------------- building data


def _span(node: _nodes.Node) -> Span:
    start, end = node.start_mark, node.end_mark
    return Span(start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def _raw_span(node: _nodes.Node) -> tuple[int, int, int, int]:
    start, end = node.start_mark, node.end_mark
    return (start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def _add_document(source: SourceFile, index: int, node: _nodes.Node, positions: bool) -> None:
    # Ours, not kustomize's (kyaml expands aliases without a limit, and a billion laughs hangs it): room for
    # DRY files that reuse a mapping hundreds of times, none for an expansion that would take our memory.
    budget = ALIAS_BUDGET_BASE * 25 + 4 * len(source.text)
    try:
        if positions:
            data, tree = _Builder(source, budget).build(node, 0)
        else:
            data, tree = _DataBuilder(source, budget).build(node, 0), None
    except _BudgetExceeded as exc:
        source.problems.append(LoadProblem(ALIAS_LIMIT, exc.message, exc.span))
        return
    if data is None:
        return  # an empty document (`---` and nothing else) is no object
    sops = isinstance(data, dict) and isinstance(data.get("sops"), dict)
    source.documents.append(Document(file=source, index=index, data=data, tree=tree, sops=sops,
                                     head=shared(_raw_span(node)), top=None if positions else _top_spans(node)))


#: Top-level keys whose values findings point at most (REF010 at `kind`, the apiVersion rules at
#: `apiVersion`): their spans are kept from the parse, so those findings need no second parse of the file.
TOP_KEYS = ("apiVersion", "kind")

#: Each distinct `Document.head` and `Document.top` once: documents repeat the same few (a one-document
#: file's span, `apiVersion: v1` on line 1), and tuples of their own per document were 25 MB of a
#: 50k-document check.
_SHARED: dict[tuple, tuple] = {}
#: Past this many distinct values new ones are not held: the table serves a run, and must not grow
#: without bound in a process that loads text after text.
_SHARED_MAX = 100_000


def shared(value: tuple | None) -> tuple | None:
    """`value`, as the one equal tuple already held, if any."""
    if value is None:
        return None
    held = _SHARED.get(value)
    if held is None:
        if len(_SHARED) >= _SHARED_MAX:
            return value
        held = _SHARED[value] = value
    return held


def _top_spans(node: _nodes.Node) -> tuple | None:
    """((key, span), ...) of the scalar values of `TOP_KEYS` in a root mapping, as the position tree has
    them (a later duplicate wins); None where a merge key (`<<`) or a tagged key (`!t kind`, which the
    data reads as `kind` too) could change them."""
    if node.__class__ is not _MappingNode:
        return None
    found: dict[str, tuple[int, int, int, int]] = {}
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE:
            return None
        if key_node.__class__ is _ScalarNode and key_node.value in TOP_KEYS:
            if key_node.tag != _STR:
                return None
            if value_node.__class__ is _ScalarNode:
                found[key_node.value] = _raw_span(value_node)
            else:
                found.pop(key_node.value, None)  # the value is a mapping or a list: the tree answers
    return shared(tuple(found.items())) if found else None


class _BudgetExceeded(Exception):
    def __init__(self, message: str, span: Span):
        self.message, self.span = message, span


_BOOL_VALUES = {"yes": True, "true": True, "on": True, "y": True, "no": False, "false": False, "off": False, "n": False}
_safe_constructor = yaml.SafeLoader("")


def _scalar(node: _nodes.ScalarNode) -> Any:
    tag, value = node.tag, node.value
    if tag == _STR:
        return value
    if tag == _BOOL:
        return _BOOL_VALUES.get(value.lower(), value)
    if tag == _NULL:
        return None
    if tag == _INT and GO_PREFIXED_INT.fullmatch(value.replace("_", "")):
        try:
            number = int(value.replace("_", ""), 0)
        except ValueError:
            return value
        return number if _GO_INT_MIN <= number <= _GO_UINT_MAX else value  # go-yaml: no int, no float: text
    if tag in (_INT, _FLOAT):
        try:
            number = _safe_constructor.construct_object(node, deep=True)
        except (ValueError, yaml.YAMLError):
            return value
        if isinstance(number, int) and not _GO_INT_MIN <= number <= _GO_UINT_MAX:
            # beyond int64 and uint64, go-yaml reads a decimal as a float and a prefixed number as text
            return float(number) if value.lstrip("+-").isdigit() else value
        return number
    # Custom tags (`!vault`, `!env_var`), timestamps and binary stay text: we
    # never evaluate them, and Kubernetes would see text too.
    return value


#: The ints go-yaml decodes (strconv.ParseInt, then ParseUint, 64 bits).
_GO_INT_MIN, _GO_UINT_MAX = -(2 ** 63), 2 ** 64 - 1

_ScalarNode, _SequenceNode, _MappingNode = _nodes.ScalarNode, _nodes.SequenceNode, _nodes.MappingNode
#: Keys and short values (names, kinds, images) repeat across every file: one object each, process-wide.
#: Interned strings go when nothing holds them, and `marshal` keeps them interned through a record.
_intern = sys.intern


class _Builder:
    """Turns one composed document into plain data and its position tree.

    This is the hot loop of the check path (one call per node), so scalars,
    the common case, are handled inline without a call of their own.
    """

    def __init__(self, source: SourceFile, budget: int):
        self.source = source
        self.budget = budget
        self.active: set[int] = set()

    def build(self, node: _nodes.Node, depth: int) -> tuple[Any, PosTree]:
        self.budget -= 1
        if self.budget < 0:
            raise _BudgetExceeded("aliases expand to too many nodes (a 'billion laughs' document?): document skipped", _span(node))
        if node.__class__ is _ScalarNode:
            start, end = node.start_mark, node.end_mark
            if node.tag == _STR:
                value = node.value
                if len(value) < 64:  # names, kinds, images: repeated across documents
                    value = _intern(value)
            else:
                value = _scalar(node)
            return value, (start.line + 1, start.column + 1, end.line + 1, end.column + 1)
        if depth > MAX_DEPTH:
            raise _BudgetExceeded(f"nesting deeper than {MAX_DEPTH} levels: document skipped", _span(node))
        key = id(node)
        if key in self.active:
            raise _BudgetExceeded("recursive alias (a node that contains itself): document skipped", _span(node))
        self.active.add(key)
        try:
            if node.__class__ is _SequenceNode:
                spans = list(_raw_span(node))
                items = []
                kids: list[PosTree | None] = []
                nested = False
                build = self.build
                for child in node.value:
                    value, child_pos = build(child, depth + 1)
                    items.append(value)
                    if child_pos.__class__ is tuple:
                        spans += child_pos
                        kids.append(None)
                    else:
                        spans += child_pos.span
                        kids.append(child_pos)
                        nested = True
                return items, SeqPos(array("I", spans).tobytes(), tuple(kids) if nested else None)
            return self._mapping(node, depth)
        finally:
            self.active.discard(key)

    def _mapping(self, node: _nodes.MappingNode, depth: int) -> tuple[dict, MapPos]:
        # Built as flat lists (see positions.py), packed into a MapPos at the end.
        spans = list(_raw_span(node))
        keys: list[Any] = []
        kids: list[PosTree | None] = []
        data: dict[Any, Any] = {}
        merges: list[_nodes.Node] = []
        build = self.build
        for key_node, value_node in node.value:
            tag = key_node.tag
            if tag == _STR and key_node.__class__ is _ScalarNode:
                key = _intern(key_node.value)
            elif tag == _MERGE:
                merges.append(value_node)
                continue
            else:
                key = self._key(key_node, depth)
            start, end = key_node.start_mark, key_node.end_mark
            key_span = (start.line + 1, start.column + 1, end.line + 1, end.column + 1)
            value, value_pos = build(value_node, depth + 1)
            kid = None if value_pos.__class__ is tuple else value_pos
            if key in data:
                at = keys.index(key)
                if type(keys[at]) is type(key):  # `1:` and `true:` are one key to Python, two to Go and JSON
                    self._duplicate(key, tuple(spans[4 + 8 * at : 8 + 8 * at]), key_span)
                spans[4 + 8 * at : 12 + 8 * at] = (*key_span, *(value_pos if kid is None else kid.span))
                kids[at] = kid
            else:
                keys.append(key)
                spans += key_span
                spans += value_pos if kid is None else kid.span
                kids.append(kid)
            data[key] = value
        for merge in merges:
            self._merge(merge, data, spans, keys, kids, depth)
        has_kids = any(kid is not None for kid in kids)
        return data, MapPos(array("I", spans).tobytes(), tuple(keys), tuple(kids) if has_kids else None)

    def _duplicate(self, key: Any, first: tuple, second: tuple) -> None:
        self.source.problems.append(
            LoadProblem(
                DUPLICATE_KEY,
                f"duplicate key {format_path([key]) or repr(key)} (first defined at line {first[0]}): "
                "the later value silently replaces the earlier one",
                Span(*second),
            )
        )

    def _merge(self, value_node: _nodes.Node, data: dict, spans: list, keys: list, kids: list, depth: int) -> None:
        """`<<: *a` or `<<: [*a, *b]`: keys already present win, earlier sources beat later ones."""
        sources = value_node.value if isinstance(value_node, _nodes.SequenceNode) else [value_node]
        for source_node in sources:
            if not isinstance(source_node, _nodes.MappingNode):
                self.source.problems.append(
                    LoadProblem(SYNTAX, "merge key '<<' needs a mapping or a list of mappings", _span(source_node))
                )
                continue
            merged, merged_pos = self.build(source_node, depth + 1)
            for i, (key, value) in enumerate(merged.items()):
                if key not in data:
                    data[key] = value
                    keys.append(key)
                    at = 4 + 8 * i
                    spans += merged_pos.spans()[at : at + 8]
                    kids.append(merged_pos._kids[i] if merged_pos._kids is not None else None)

    def _key(self, node: _nodes.Node, depth: int) -> Any:
        if isinstance(node, _nodes.ScalarNode):
            value = _scalar(node)
            return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)
        # A complex key (a mapping or list as key) is legal YAML but never
        # meaningful in Kubernetes; keep it as text so the document still loads.
        value, _ = self.build(node, depth + 1)
        return repr(value)


class _DataBuilder(_Builder):
    """`_Builder`'s data without the positions: the same values, problems and limits, at about half the
    cost. What a run keeps of most documents (`Document.pos` builds the positions when asked)."""

    def build(self, node: _nodes.Node, depth: int) -> Any:  # type: ignore[override]
        self.budget -= 1
        if self.budget < 0:
            raise _BudgetExceeded("aliases expand to too many nodes (a 'billion laughs' document?): document skipped", _span(node))
        if node.__class__ is _ScalarNode:
            if node.tag == _STR:
                value = node.value
                return _intern(value) if len(value) < 64 else value
            return _scalar(node)
        if depth > MAX_DEPTH:
            raise _BudgetExceeded(f"nesting deeper than {MAX_DEPTH} levels: document skipped", _span(node))
        key = id(node)
        if key in self.active:
            raise _BudgetExceeded("recursive alias (a node that contains itself): document skipped", _span(node))
        self.active.add(key)
        try:
            if node.__class__ is _SequenceNode:
                build = self.build
                return [build(child, depth + 1) for child in node.value]
            return self._data_mapping(node, depth)
        finally:
            self.active.discard(key)

    def _data_mapping(self, node: _nodes.MappingNode, depth: int) -> dict:
        data: dict[Any, Any] = {}
        merges: list[_nodes.Node] = []
        build = self.build
        for key_node, value_node in node.value:
            tag = key_node.tag
            if tag == _STR and key_node.__class__ is _ScalarNode:
                key = _intern(key_node.value)
            elif tag == _MERGE:
                merges.append(value_node)
                continue
            else:
                key = self._key(key_node, depth)
            value = build(value_node, depth + 1)
            if key in data and _same_type_key(data, key):
                self._duplicate(key, self._earlier_key_span(node, key, key_node), _raw_span(key_node))
            data[key] = value
        for merge in merges:
            self._merge_data(merge, data, depth)
        return data

    def _earlier_key_span(self, node: _nodes.MappingNode, key: Any, current: _nodes.Node) -> tuple[int, int, int, int]:
        """Where `key` last occurred in `node` before `current`, as `_Builder` reports a duplicate (one was
        found: rare, so searched for, not kept)."""
        earlier = _raw_span(node)
        for key_node, _ in node.value:
            if key_node is current:
                break
            if key_node.tag == _MERGE:
                continue
            if isinstance(key_node, _nodes.ScalarNode):
                found = key_node.value if key_node.tag == _STR else self._key(key_node, 0)
            else:  # built apart, so this search spends none of the document's budget
                try:
                    found = _DataBuilder(self.source, ALIAS_BUDGET_BASE)._key(key_node, 0)
                except _BudgetExceeded:
                    continue
            if found == key:
                earlier = _raw_span(key_node)
        return earlier

    def _key(self, node: _nodes.Node, depth: int) -> Any:
        if isinstance(node, _nodes.ScalarNode):
            return super()._key(node, depth)
        return repr(self.build(node, depth + 1))  # a complex key, as text (see `_Builder._key`)

    def _merge_data(self, value_node: _nodes.Node, data: dict, depth: int) -> None:
        """`_Builder._merge` on data alone: keys already present win, earlier sources beat later ones."""
        sources = value_node.value if isinstance(value_node, _nodes.SequenceNode) else [value_node]
        for source_node in sources:
            if not isinstance(source_node, _nodes.MappingNode):
                self.source.problems.append(
                    LoadProblem(SYNTAX, "merge key '<<' needs a mapping or a list of mappings", _span(source_node))
                )
                continue
            for key, value in self.build(source_node, depth + 1).items():
                if key not in data:
                    data[key] = value


def load_file(path: str | os.PathLike, rel: str, *, template_hint: bool = False, raw: bytes | None = None,
              reader: str | None = None) -> SourceFile:
    source = read_source(path, rel, raw)
    parse_source(source, template_hint=template_hint, reader=reader)
    return source


def load_text(text: str, rel: str = "<text>", *, reader: str | None = None) -> SourceFile:
    """Parse text given in memory (patches, substituted values, tests); `reader` as `parse_source`."""
    source = SourceFile(location=rel, rel=rel, text=text, size=len(text.encode()))
    parse_source(source, reader=reader)
    return source


__all__ = [
    "Document",
    "LoadProblem",
    "SourceFile",
    "format_path",
    "load_file",
    "load_text",
    "parse_source",
    "read_source",
]
