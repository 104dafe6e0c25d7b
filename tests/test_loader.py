"""The loader: every YAML corner case loads, every broken file is one diagnostic at the right place."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_lint.diagnostics import Span
from gitops_lint.yaml import loader
from gitops_lint.yaml.loader import load_file, load_text


def only_problem(source):
    assert len(source.problems) == 1, source.problems
    return source.problems[0]


# --------------------------------------------------------------------------- what must load


def test_multi_document_with_positions() -> None:
    source = load_text("---\na: 1\n---\n# empty\n---\nb:\n  c: [1, 2]\n", "multi.yaml")
    assert [d.index for d in source.documents] == [0, 2]
    second = source.documents[1]
    assert second.data == {"b": {"c": [1, 2]}}
    assert second.locate(("b", "c", 1)) == Span(7, 10, 7, 11)
    assert second.locate(("b",), key=True) == Span(6, 1, 6, 2)
    assert not source.problems


def test_anchors_aliases_and_merge_keys() -> None:
    text = "base: &base\n  interval: 10m\n  prune: true\napp:\n  <<: *base\n  prune: false\n"
    doc = load_text(text).documents[0]
    assert doc.data["app"] == {"prune": False, "interval": "10m"}
    # a merged key points at where its value is written: inside the anchor
    assert doc.locate(("app", "interval")) == Span(2, 13, 2, 16)
    assert doc.locate(("app", "prune")) == Span(6, 10, 6, 15)


def test_merge_of_a_list_of_mappings_earlier_wins() -> None:
    text = "a: &a {x: 1}\nb: &b {x: 2, y: 2}\nc:\n  <<: [*a, *b]\n"
    assert load_text(text).documents[0].data["c"] == {"x": 1, "y": 2}


def test_reused_anchor_names_are_legal_yaml_12() -> None:
    source = load_text("a: &x 1\nb: *x\nc: &x 2\nd: *x\n")
    assert source.documents[0].data == {"a": 1, "b": 1, "c": 2, "d": 2}
    assert not source.problems


def test_yaml11_booleans_and_custom_tags() -> None:
    # GitLab (go-yaml v2, Psych) and kustomize reading its own files take YAML 1.1's boolean words.
    text = "a: on\nb: yes\nc: off\nsecret: !vault |\n  $ANSIBLE_VAULT;1.1\nenv: !env_var HOME\n"
    for rel in (".gitlab/agents/a/config.yaml", ".gitlab-ci.yml", "apps/kustomization.yaml", "base/Kustomization"):
        data = load_text(text, rel).documents[0].data
        assert data["a"] is True and data["b"] is True and data["c"] is False, rel
        assert data["secret"].startswith("$ANSIBLE_VAULT") and data["env"] == "HOME"
    # go-yaml v2 takes `y` and `n` too (the domain reference: `enabled: y` is accepted by GitLab's agent
    # server; kustomize refuses `commonAnnotations: {a: y}` as a boolean); Ruby's Psych, for CI files, not.
    for rel in (".gitlab/agents/a/config.yaml", "apps/kustomization.yaml"):
        assert load_text("a: y\nb: N\nc: 'y'\n", rel).documents[0].data == {"a": True, "b": False, "c": "y"}
    for rel in (".gitlab-ci.yml", ".gitlab/ci/deploy.yml"):
        source = load_text("variables:\n  Y: 1\n  N: 2\n  y: 3\n", rel)
        assert source.documents[0].data == {"variables": {"Y": 1, "N": 2, "y": 3}} and not source.problems


def test_manifests_read_boolean_words_as_kyaml_does() -> None:
    # Flux applies every manifest through kustomize's kyaml (go-yaml v3): `yes`, `on` are strings there
    # (`kubectl kustomize` prints `"on": "yes"`), while true/True/TRUE stay booleans.
    text = "on: yes\nb: Off\nc: NO\nd: true\ne: False\nf: TRUE\ng: y\nh: 'yes'\n"
    data = load_text(text, "apps/web/configmap.yaml").documents[0].data
    assert data == {"on": "yes", "b": "Off", "c": "NO", "d": True, "e": False, "f": True, "g": "y", "h": "yes"}


@pytest.mark.parametrize(
    "text",
    ["a: 1\r\nb:\r\n  c: 2\r\n", "\ufeffa: 1\nb:\n  c: 2\n", "a: 1\nb:\n  c: 2"],
    ids=["crlf", "bom", "no-final-newline"],
)
def test_line_endings_bom_and_missing_newline(text: str) -> None:
    doc = load_text(text).documents[0]
    assert doc.data == {"a": 1, "b": {"c": 2}}
    assert doc.locate(("b", "c")) == Span(3, 6, 3, 7)


def test_a_byte_order_mark_may_start_every_document() -> None:
    """Files saved with a BOM and concatenated: kustomize reads each document alone and builds both
    (checked with kubectl kustomize); a BOM elsewhere stays text."""
    source = load_text("\ufeffa: 1\n---\n\ufeffb: 2\n--- \r\n\ufeffc: [3]\n--- # next\n\ufeffd: 4\n")
    assert [d.data for d in source.documents] == [{"a": 1}, {"b": 2}, {"c": [3]}, {"d": 4}] and not source.problems
    assert load_text("a: x\ufeff\n").documents[0].data == {"a": "x\ufeff"}


def test_keys_python_holds_equal_are_no_duplicate_to_go() -> None:
    """`1:` and `true:` are two keys to go-yaml and JSON (Python's 1 == True): no duplicate-key problem."""
    assert not load_text("flags:\n  1: one\n  true: yes\n").problems


def test_sops_documents_are_recognised() -> None:
    text = "apiVersion: v1\nkind: Secret\ndata:\n  k: ENC[AES256_GCM,data:x]\nsops:\n  mac: ENC[x]\n  version: 3.8.1\n"
    assert load_text(text).documents[0].sops


def test_missing_field_points_at_its_parent_mapping() -> None:
    doc = load_text("spec:\n  url: x\n  ref:\n    branch: main\n").documents[0]
    assert doc.locate(("spec", "interval")) == Span(2, 3, 2, 4)
    assert not doc.has(("spec", "interval"))


# --------------------------------------------------------------------------- what must fail, once, at the right place


def test_duplicate_key_points_at_the_second_key() -> None:
    source = load_text("spec:\n  interval: 5m\n  interval: 10m\n")
    problem = only_problem(source)
    assert problem.code == loader.DUPLICATE_KEY and problem.span == Span(3, 3, 3, 11)
    assert "line 2" in problem.message
    assert source.documents[0].data == {"spec": {"interval": "10m"}}  # the later value wins, as in go-yaml v2


def test_syntax_error_position() -> None:
    problem = only_problem(load_text("a: 1\nb: [1, 2\nc: 3\n"))
    assert problem.code == loader.SYNTAX and problem.span == Span(3, 2, 3, 3)


def test_syntax_error_keeps_earlier_documents() -> None:
    source = load_text("a: 1\n---\nb: [\n")
    assert [d.data for d in source.documents] == [{"a": 1}]
    assert only_problem(source).code == loader.SYNTAX


def test_merge_conflict_marker() -> None:
    source = load_text("a: 1\n<<<<<<< HEAD\nb: 2\n=======\nb: 3\n>>>>>>> topic\n")
    problem = only_problem(source)
    assert problem.code == loader.CONFLICT_MARKER and problem.span == Span(2, 1, 2, 8)
    assert source.documents == []


def test_tab_indentation() -> None:
    problem = only_problem(load_text("a:\n  b: 1\n\tc: 2\n"))
    assert problem.code == loader.TAB_INDENT and problem.span == Span(3, 1, 3, 2)


def test_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"a: 1\nb: M\xfcnchen\n")
    problem = only_problem(load_file(path, "latin1.yaml"))
    assert problem.code == loader.ENCODING and problem.span == Span(2, 5, 2, 6)


def test_nul_bytes_make_a_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "bin.yaml"
    path.write_bytes(b"a: 1\nb: \x00\x01\x02\n")
    source = load_file(path, "bin.yaml")
    problem = only_problem(source)
    assert problem.code == loader.BINARY and problem.span == Span(2, 4, 2, 5)
    assert source.skipped == loader.BINARY


def test_billion_laughs_is_cheap() -> None:
    levels = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        levels.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    started = time.perf_counter()
    source = load_text("\n".join(levels) + "\n")
    elapsed = time.perf_counter() - started
    problem = only_problem(source)
    assert problem.code == loader.ALIAS_LIMIT and problem.span.line >= 1
    assert source.documents == []
    assert elapsed < 30  # a safety net against a hang, not a timing assertion


def test_a_dry_file_reusing_a_mapping_hundreds_of_times_loads(tmp_path: Path) -> None:
    """250 uses of a 100-key mapping (25,000 nodes from a 3 kB file): kustomize builds it (kubectl kustomize,
    where installed), and so it loads; only an expansion far beyond it (a billion laughs) is refused."""
    import shutil
    import subprocess

    text = ("apiVersion: example.com/v1\nkind: Thing\nmetadata: {name: dry}\nspec:\n  base: &b\n"
            + "".join(f"    k{i}: v{i}\n" for i in range(100)) + "  list:\n" + "    - *b\n" * 250)
    source = load_text(text)
    assert not source.problems and len(source.documents[0].data["spec"]["list"]) == 250
    if shutil.which("kubectl"):
        (tmp_path / "thing.yaml").write_text(text)
        (tmp_path / "kustomization.yaml").write_text("resources: [thing.yaml]\n")
        assert subprocess.run(["kubectl", "kustomize", str(tmp_path)], capture_output=True).returncode == 0


def test_recursive_alias() -> None:
    problem = only_problem(load_text("k: &a [*a]\n"))
    assert problem.code == loader.ALIAS_LIMIT and problem.span == Span(1, 4, 1, 11)


def test_absurd_nesting() -> None:
    problem = only_problem(load_text("[" * 2000 + "]" * 2000))
    assert problem.code == loader.ALIAS_LIMIT and problem.span.line == 1


def test_unparseable_template_is_skipped_as_info() -> None:
    source = load_text("metadata:\n  {% if x %}\n  name: a\n  {% endif %}\n")
    problem = only_problem(source)
    assert problem.code == loader.TEMPLATE and problem.span.line == 2
    assert source.skipped == loader.TEMPLATE


def test_unreadable_broken_symlink(tmp_path: Path) -> None:
    link = tmp_path / "gone.yaml"
    link.symlink_to(tmp_path / "deleted.yaml")
    problem = only_problem(load_file(link, "gone.yaml"))
    assert problem.code == loader.UNREADABLE and "broken symlink" in problem.message


def test_plain_scalars_read_as_kubernetes_reads_them() -> None:
    # YAML 1.1 reads `12:30` as the base-60 int 750; go-yaml (kubectl, kustomize) reads a string.
    # `1e3` is a string to YAML 1.1 and a float to go-yaml.
    data = load_text("a: 12:30\nb: 1:30.5\nc: 1e3\nd: -2E-2\ne: '1e3'\nf: 017\ng: 1.5\nh: 0o17\ni: 0X1F\n"
                     "j: 0B101\nk: 0x1f\n").documents[0].data
    assert data == {"a": "12:30", "b": "1:30.5", "c": 1000.0, "d": -0.02, "e": "1e3", "f": 15, "g": 1.5, "h": 15,
                    "i": 31, "j": 5, "k": 31}
    # go-yaml drops every `_` of a scalar that starts like a number (kustomize 5.5 builds these as numbers).
    data = load_text("a: 1_e3\nb: _1e3\nc: .5_0\nd: -1_0e1_0\ne: 1_0.5e3\nf: 1e3_\ng: 1_000\n").documents[0].data
    assert data == {"a": 1000.0, "b": "_1e3", "c": 0.5, "d": -1e11, "e": 10500.0, "f": 1000.0, "g": 1000}


# --------------------------------------------------------------------------- properties


scalars = st.one_of(
    st.integers(-10**6, 10**6),
    st.booleans(),
    # Less what PyYAML writes plain but Kubernetes' decoders (and so our loader) read as a float (`0E0`).
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20).filter(
        lambda text: not (loader.GO_FLOAT.fullmatch(text) or loader.GO_PREFIXED_INT.fullmatch(text))),
)
# `kind` and `apiVersion` too: their top-level values are located from spans kept at load (`Document.top`).
keys = st.one_of(st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_", min_size=1, max_size=10),
                 st.sampled_from(["kind", "apiVersion"]))
trees = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)),
    max_leaves=25,
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, prefix + (i,))


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(keys, trees, min_size=1, max_size=5))
def test_round_trip_and_every_path_locates(data) -> None:
    """What PyYAML dumps, we load back equal, and every path has a span inside the text."""
    import yaml

    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    source = load_text(text)
    assert not source.problems
    doc = source.documents[0]
    assert doc.data == data
    line_count = len(text.splitlines())
    for path in _paths(data):
        span = doc.locate(path)
        assert 1 <= span.line <= span.end_line <= line_count + 1
        assert doc.has(path)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_raises(text: str) -> None:
    source = load_text(text)
    for problem in source.problems:
        assert problem.span.line >= 1 and problem.span.column >= 1


# --------------------------------------------------------------------------- positions built when asked


def _parsed(text: str, positions: bool):
    from gitops_lint.yaml.loader import SourceFile, parse_source

    source = SourceFile(location="x.yaml", rel="x.yaml", text=text)
    parse_source(source, positions=positions)
    return source


def _same_load(text: str) -> None:
    lazy, full = _parsed(text, False), _parsed(text, True)
    assert [(p.code, p.message, p.span) for p in lazy.problems] == [(p.code, p.message, p.span) for p in full.problems]
    assert [(d.index, d.data, d.sops, d.head) for d in lazy.documents] == \
        [(d.index, d.data, d.sops, d.head) for d in full.documents]
    # Checked for every document first: locating anything parses the whole file for positions.
    for got, want in zip(lazy.documents, full.documents):
        assert got.tree is None
        for key in ("apiVersion", "kind"):  # a kept span is the tree's, and kept only for a scalar value
            known = got.known_span((key,))
            assert known is None or (known == want.locate((key,)) and not isinstance(want.data[key], (dict, list)))
    for got, want in zip(lazy.documents, full.documents):
        for path in _paths(want.data):
            assert got.has(path) and got.locate(path) == want.locate(path)
            assert got.locate(path, key=True) == want.locate(path, key=True)
        assert not got.has(("no-such-key",)) and got.span == want.span


@pytest.mark.parametrize("text", [
    "a: 1\nb: 2\na: 3\n",  # a duplicate key: the problem points at both
    "base: &b {x: 1, y: [1, 2]}\nuse:\n  <<: *b\n  y: 3\n",  # merge keys: present keys win
    "m:\n  <<: [*nope]\n",  # a broken merge
    "? [a, b]\n: 1\n? [a, b]\n: 2\n",  # complex keys, duplicated
    "1: one\ntrue: yes\n1: again\n",  # non-string keys
    "a: &a [*a]\n",  # an alias into itself
    "---\n---\nk: v\n--- # c\n",  # empty documents keep their index
    "l: &l [x, x, x, x, x, x, x, x, x]\nm: &m [*l, *l, *l, *l, *l, *l, *l, *l, *l]\nn: [*m, *m, *m, *m, *m, *m, *m]\n",
    # top-level apiVersion and kind, located from the spans kept at load
    "apiVersion: v1\nkind: ConfigMap\n",
    "kind: A\nkind: B\n",  # a duplicate: the later one
    "kind: A\nkind:\n  x: 1\n",  # a later duplicate that is a mapping
    "base: &b {kind: X}\n<<: *b\napiVersion: v1\n",  # a merge key at the root
    "{apiVersion: v1, kind: 'Quoted'}\n",  # a flow mapping
    "kind: &k Secret\napiVersion: *k\n",  # an alias
    "kind: >\n  folded\n  text\napiVersion: |\n  literal\n",  # block scalars
    "kind: \"multi\n  line\"\napiVersion: 'v1' # comment\n",
    "---\nkind: A\n---\nkind: B\napiVersion: v1\n",
    "kind: é Ünicode 🙂\r\napiVersion: v1\r\n",
    "- kind: A\n",  # a list: nothing at the top level
    "? kind\n: A\n!!str apiVersion: v1\n",  # an explicit key, a tagged key
    "kind: !!str 123\napiVersion: 1.5\n",  # tagged and typed values
    "kind: A\n!t kind: B\n",  # a tagged duplicate key: the data reads it as `kind`, and it wins
    "kind: A\n!t kind: {x: 1}\n",
    "apiVersion: v1\n!!int apiVersion: v2\nkind: K\n",
    "&a kind: A\n*a : B\n",  # an alias as key
])
def test_data_without_positions_is_the_data_with_them(text: str) -> None:
    _same_load(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_data_without_positions_is_the_data_with_them_for_any_text(text: str) -> None:
    _same_load(text)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(keys, trees, min_size=1, max_size=5))
def test_data_without_positions_is_the_data_with_them_for_any_mapping(data) -> None:
    import yaml

    _same_load(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


def test_numbers_with_underscores_as_kustomize_builds_them(tmp_path: Path) -> None:
    """The oracle: what `kubectl kustomize` (kyaml, go-yaml v3) makes of each scalar, where it is installed."""
    import shutil
    import subprocess

    import yaml

    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed")
    values = ["1_e3", "_1e3", ".5_0", "-1_0e1_0", "1_0.5e3", "1e3_", "1_000", "1__0", "0x_1F", "12:30", "1e400",
              ".5_e3", "0_x1F", "0_o17", "0_b101", "-0_x1F"]
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n" + "".join(
        f"  k{i}: {value}\n" for i, value in enumerate(values))
    (tmp_path / "cm.yaml").write_text(text)
    (tmp_path / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    built = subprocess.run(["kubectl", "kustomize", str(tmp_path)], capture_output=True, text=True, check=True)
    expected = yaml.safe_load(built.stdout)["data"]
    assert load_text(text).documents[0].data["data"] == expected


def test_a_file_in_a_folder_that_may_be_listed_but_not_entered_is_reported(tmp_path, monkeypatch) -> None:
    """Folder mode r-- (for a user who is not root): the file is listed, but opening it and even its lstat
    are refused. That is a finding on the file, never an error of the whole run."""
    import errno
    import os

    from gitops_lint.yaml import loader

    target = tmp_path / "noexec" / "a.yaml"

    def refused(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))

    real_lstat, real_stat = os.lstat, os.stat
    monkeypatch.setattr(loader, "read_bytes", refused)
    monkeypatch.setattr(os, "lstat", lambda p, *a, **k: refused(p) if os.fspath(p) == str(target) else real_lstat(p))
    monkeypatch.setattr(os, "stat", lambda p, *a, **k: refused(p) if os.fspath(p) == str(target)
                        else real_stat(p, *a, **k))
    source = loader.read_source(target, "noexec/a.yaml")
    assert source.skipped == loader.UNREADABLE
    assert [p.message for p in source.problems] == ["cannot read file: Permission denied"]


def test_numbers_beyond_64_bits_read_as_go_yaml_reads_them() -> None:
    """go-yaml tries a 64-bit int, then a float: a decimal beyond it is a float, a prefixed one (`0x...`)
    stays text (kubectl kustomize keeps `data: {k: 0xFFFFFFFFFFFFFFFFFF}` as a string)."""
    data = load_text("a: 0xFFFFFFFFFFFFFFFFFF\nb: 99999999999999999999\nc: 0xFF\nd: 18446744073709551615\n"
                     "e: -9223372036854775808\n").documents[0].data
    assert data == {"a": "0xFFFFFFFFFFFFFFFFFF", "b": 1e20, "c": 255, "d": 2 ** 64 - 1, "e": -(2 ** 63)}
