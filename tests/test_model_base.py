"""The typed model's own checking (`gitops_lint.model.base`): strict like Kubernetes, lenient to the file.

Lenient building reports each refused value at its path in the document and builds the rest; the
property tests pin that this is the same as building strictly from the data with those values taken out.
"""

from __future__ import annotations

import copy
from typing import Annotated, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_lint.model.base import Before, Field, Located, Model, ModelError, Plain, Refused, build_lenient
from gitops_lint.yaml.loader import load_text


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def _small(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10:
        return value
    raise Refused("small_type", "A number from 0 to 9")


class Leaf(Model):
    name: str | None = None
    count: int | None = None
    on: bool | None = None


class Branch(Model):
    leaf: Leaf | None = None
    leaves: list[Leaf] = Field(default_factory=list)
    tags: dict[str, str | None] = Field(default_factory=dict)
    loud: dict[str, Annotated[str | None, Before(_upper)]] = Field(default_factory=dict)
    digit: Annotated[int, Plain(_small)] | None = None
    anything: Any = None
    words: list[str] | None = None
    keyword: str | None = Field(default=None, alias="class")


class Root(Located):
    branch: Branch = Field(default_factory=Branch)
    branches: list[Branch] = Field(default_factory=list)
    ratio: float | None = None


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 12), st.text(max_size=3), st.floats(0, 2))
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.one_of(st.text(max_size=3), st.integers(0, 3)), inner, max_size=3)),
    max_leaves=6,
)
_LEAF = st.fixed_dictionaries({}, optional={"name": _VALUES, "count": _VALUES, "on": _VALUES, "other": _VALUES})
_BRANCH = st.fixed_dictionaries({}, optional={
    "leaf": st.one_of(_LEAF, _VALUES), "leaves": st.one_of(st.lists(st.one_of(_LEAF, _VALUES), max_size=3), _VALUES),
    "tags": st.one_of(st.dictionaries(st.one_of(st.text(max_size=2), st.integers(0, 2)), _VALUES, max_size=3),
                      _VALUES),
    "loud": st.dictionaries(st.text(max_size=2), _VALUES, max_size=2), "digit": _VALUES, "anything": _VALUES,
    "words": _VALUES, "class": _VALUES, "keyword": _VALUES,
})
_ROOT = st.fixed_dictionaries({}, optional={"branch": st.one_of(_BRANCH, _VALUES),
                                            "branches": st.lists(st.one_of(_BRANCH, _VALUES), max_size=3),
                                            "ratio": _VALUES, 7: _VALUES})


def _doc():
    return load_text("a: 1\n", "root.yaml").documents[0]


def _without(data: Any, paths: list[tuple]) -> Any:
    """`data` without the values at `paths` (deepest and last first, so earlier paths stay valid)."""
    data = copy.deepcopy(data)
    for path in sorted(paths, key=lambda p: (len(p), [(isinstance(s, int), str(s)) for s in p]), reverse=True):
        node = data
        for step in path[:-1]:
            node = node[step]
        del node[path[-1]]
    return data


def _at(data: Any, path: tuple) -> Any:
    for step in path:
        data = data[step]
    return data


@settings(max_examples=400, deadline=None)
@given(_ROOT)
def test_lenient_is_strict_on_the_data_without_what_it_refused(data: dict) -> None:
    before = copy.deepcopy(data)
    doc = _doc()
    obj, problems = build_lenient(Root, doc, data)
    assert data == before, "the data is never changed"
    paths = [p.path for p in problems]
    assert len(paths) == len(set(paths)), "one problem per refused value"
    for problem in problems:
        _at(data, problem.path)  # each problem names a value that is there
        assert " is not " in problem.message or " must be a string " in problem.message
    # Building again from what is left refuses nothing new, and gives the same object.
    again, more = build_lenient(Root, doc, _without(data, paths))
    assert [p.path for p in more] == [], more
    assert again == obj


@settings(max_examples=200, deadline=None)
@given(_ROOT)
def test_fields_hold_only_their_types(data: dict) -> None:
    obj, _ = build_lenient(Root, _doc(), data)
    branches = [obj.branch, *obj.branches]
    assert obj.ratio is None or type(obj.ratio) is float
    for branch in branches:
        assert isinstance(branch, Branch)
        leaves = [branch.leaf] if branch.leaf is not None else []
        for leaf in [*leaves, *branch.leaves]:
            assert isinstance(leaf, Leaf)
            assert leaf.name is None or isinstance(leaf.name, str)
            assert leaf.count is None or (isinstance(leaf.count, int) and not isinstance(leaf.count, bool))
            assert leaf.on is None or isinstance(leaf.on, bool)
        assert all(isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in branch.tags.items())
        assert all(v is None or v == v.upper() for v in branch.loud.values())
        assert branch.digit is None or 0 <= branch.digit < 10
        assert branch.words is None or all(isinstance(w, str) for w in branch.words)


def test_problems_name_the_value_and_what_the_field_takes() -> None:
    data = {"branch": {"leaf": {"count": "3", "on": "true"}, "leaves": [{"name": 5}, "x", {"name": "ok"}],
                       "tags": {1: "a", "b": None, "c": ["d"]}, "digit": 12, "words": None},
            "ratio": True, "extra": 1}
    obj, problems = build_lenient(Root, _doc(), data)
    by_path = {p.path: (p.message, p.repair) for p in problems}
    tags_c = by_path.pop(("branch", "tags", "c"))
    assert tags_c[0].startswith("branch.tags.c: ") and tags_c[0].endswith(" is not a string")
    assert by_path == {
        ("branch", "leaf", "count"): ('branch.leaf.count: "3" is not an integer', "3"),
        ("branch", "leaf", "on"): ('branch.leaf.on: "true" is not a boolean (write true without quotes)', "true"),
        ("branch", "leaves", 0, "name"): ('branch.leaves[0].name: 5 is not a string (quote it: "5")', None),
        ("branch", "leaves", 1): ('branch.leaves[1]: "x" is not a mapping', None),
        ("branch", "tags", 1): ("branch.tags: key 1 must be a string (quote it)", None),
        ("branch", "digit"): ("branch.digit: 12 is not a number from 0 to 9", None),
        ("ratio",): ("ratio: true is not a number", None),
    }
    assert [leaf.name for leaf in obj.branch.leaves] == [None, "ok"]  # the bad item is out, the good one kept
    assert obj.branch.tags == {"b": None}
    assert obj.branch.words is None and "words" in obj.branch.model_fields_set  # null: set, and no problem
    assert obj.model_extra == {"extra": 1} and obj.extra == 1
    assert obj.doc is not None and obj.branch.leaf.model_fields_set == frozenset()


def test_defaults_are_each_objects_own() -> None:
    first, second = Root.model_construct(), Root.model_construct()
    first.branch.leaves.append(Leaf(name="a"))
    assert second.branch.leaves == [] and "branch" not in second.model_fields_set
    assert Branch().tags is not Branch().tags


def test_an_alias_is_the_only_key_that_fills_its_field() -> None:
    branch = Branch.model_validate({"class": "x", "keyword": "y"})
    assert branch.keyword == "x" and branch.model_extra == {"keyword": "y"}
    assert Branch.model_fields["keyword"].alias == "class"


def test_copy_dump_equality_and_repr() -> None:
    branch = Branch.model_validate({"leaf": {"name": "a"}, "tags": {"k": "v"}, "zz": 1})
    assert branch.model_dump(exclude_unset=True) == {"leaf": {"name": "a"}, "tags": {"k": "v"}, "zz": 1}
    assert branch.model_dump()["leaves"] == [] and branch.model_dump()["leaf"] == {"name": "a", "count": None,
                                                                                    "on": None}
    copied = branch.model_copy(update={"digit": 3})
    assert copied.digit == 3 and branch.digit is None and "digit" in copied.model_fields_set
    assert copied != branch and copied.model_copy(update={"digit": None}).digit is None
    assert Branch.model_validate({"leaf": {"name": "a"}}) == Branch(leaf=Leaf(name="a"))
    assert repr(Leaf(name="a")) == "Leaf(name='a')"
    with pytest.raises(TypeError):
        hash(Leaf())


def test_strict_construction_refuses() -> None:
    with pytest.raises(ModelError, match="leaf.count"):
        Branch(leaf={"count": "1"})
    with pytest.raises(ModelError):
        Leaf.model_validate(["not", "a", "mapping"])
    with pytest.raises(ModelError, match="leaves"):  # a null is no list: only lenient building lets it pass as unset
        Branch.model_validate({"leaves": None})
    obj, problems = build_lenient(Root, _doc(), {"branch": {"leaves": None, "tags": {None: "x"}}})
    assert obj.branch.leaves == [] and [p.path for p in problems] == [("branch", "tags", None)]


def test_a_type_the_model_does_not_take_is_named() -> None:
    class Odd(Model):
        both: int | str | None = None

    with pytest.raises(TypeError, match="does not take the type"):
        Odd.model_validate({"both": 1})


def test_a_class_in_a_function_may_name_its_neighbours() -> None:
    class Inner(Model):
        value: int | None = None

    class Outer(Model):
        inner: Inner | None = None

    assert Outer.model_validate({"inner": {"value": 1}}).inner.value == 1
    assert Outer.model_fields["inner"].annotation == Inner | None
