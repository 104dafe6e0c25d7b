"""The mechanism every typed model shares.

Models describe shape and meaning; they never reject a user's file. Each model
is validated leniently: a field whose value has the wrong type is reported as a
`ModelProblem` (with the exact path, so a rule can point at it) and dropped,
and the rest of the object is still built and checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError

from gitops_lint.diagnostics import Span, show_value
from gitops_lint.yaml.loader import Document
from gitops_lint.yaml.positions import DataPath, format_path


#: Each distinct set of fields a file set, once: pydantic keeps a set per model instance (hundreds of bytes,
#: several per object, a tenth of a large run's memory) and they repeat endlessly.
_FIELDS_SETS: dict[frozenset, frozenset] = {}


class Model(BaseModel):
    """Base of every nested model: unknown keys are kept (schema checks judge them)."""

    # defer_build: a model's validator is built on first use, so a one-file check pays only for the kinds it sees.
    model_config = ConfigDict(extra="allow", frozen=False, strict=True, defer_build=True)

    def model_post_init(self, context: Any, /) -> None:
        fields = frozenset(self.__pydantic_fields_set__)
        object.__setattr__(self, "__pydantic_fields_set__", _FIELDS_SETS.setdefault(fields, fields))

    def _thaw(self) -> None:
        """A set of our own again before pydantic adds to it (assignment, `model_copy(update=...)`)."""
        if isinstance(self.__pydantic_fields_set__, frozenset):
            object.__setattr__(self, "__pydantic_fields_set__", set(self.__pydantic_fields_set__))

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_"):
            self._thaw()
        super().__setattr__(name, value)

    def model_copy(self, *, update: Any = None, deep: bool = False) -> Any:
        self._thaw()
        return super().model_copy(update=update, deep=deep)


class Located(Model):
    """A top-level object built from one YAML document, which it remembers."""

    #: Set once built; every rule points through it at the exact field.
    _doc: Document | None = PrivateAttr(default=None)

    #: What a report calls this object, e.g. `GitRepository/flux-system/app`.
    display_kind: ClassVar[str] = "Object"

    @property
    def doc(self) -> Document:
        # Straight from pydantic's private-attribute slot: `self._doc` goes through
        # BaseModel.__getattr__, which costs more than the rest of most rules.
        doc = self.__pydantic_private__["_doc"]
        assert doc is not None, "model object built without its document"
        return doc

    @property
    def path(self) -> str:
        return self.doc.file.rel

    def locate(self, path: DataPath, *, key: bool = False) -> Span:
        return self.doc.locate(path, key=key)

    @property
    def ref(self) -> str:
        return self.display_kind


@dataclass(slots=True)
class ModelProblem:
    """A value the model could not take: wrong type, or a value out of its domain."""

    doc: Document
    path: DataPath
    message: str
    object: str | None = None
    #: The scalar, as YAML text, that the field takes where the file has it quoted (`"true"` -> `true`).
    repair: str | None = None


M = TypeVar("M", bound=Located)

#: Retries of lenient validation: each round drops every field that failed.
_MAX_ROUNDS = 8


def build_lenient(cls: type[M], doc: Document, data: Any | None = None) -> tuple[M, list[ModelProblem]]:
    """Validate `data` (default: the document's data) as `cls`, dropping what does not fit.

    The data is never mutated: failing fields are removed from a copy of the
    containers along the failing path only.
    """
    data = doc.data if data is None else data
    problems: list[ModelProblem] = []
    # List items dropped so far, by the list's path in the document: later rounds see shifted indices,
    # and each problem must still name the item as it stands in the file.
    gone: dict[DataPath, list[int]] = {}
    for _ in range(_MAX_ROUNDS):
        try:
            obj = cls.model_validate(data)
            break
        except ValidationError as exc:
            failing: dict[DataPath, DataPath] = {}  # path in `data` -> path in the document
            for error in exc.errors(include_url=False):
                path = _data_path(error["loc"], data)
                if error["loc"] and error["loc"][-1] == "[key]":
                    error = {**error, "type": "invalid_key"}
                if not path or path in failing:
                    continue  # one problem per value, however many union members refused it
                failing[path] = _in_document(path, gone)
                # `null` means "not set" to Kubernetes and to protobuf JSON alike: no problem, just drop it.
                if error.get("input") is not None or error["type"] == "invalid_key":
                    problems.append(ModelProblem(doc, failing[path], _message(failing[path], error),
                                                 repair=_repair(error)))
            removed = False
            # Deepest and last first, so each removal leaves the paths still to remove where they were.
            for path in sorted(failing, key=_removal_order, reverse=True):
                data, did = _without(data, path)
                removed = removed or did
                if did and isinstance(path[-1], int):
                    original = failing[path]
                    gone.setdefault(original[:-1], []).append(original[-1])
            if not removed:
                obj = cls.model_construct()
                break
    else:  # pragma: no cover - needs more than _MAX_ROUNDS nested failures
        obj = cls.model_construct()
    obj._doc = doc
    return obj, problems


def _removal_order(path: DataPath) -> tuple:
    return tuple((0, step) if isinstance(step, int) else (1, str(step)) for step in path)


def _in_document(path: DataPath, gone: dict[DataPath, list[int]]) -> DataPath:
    """`path` in data that lost list items (`gone`: original indices per list) as a path in the document."""
    out: list[str | int] = []
    for step in path:
        if isinstance(step, int):
            index = step
            for dropped in sorted(gone.get(tuple(out), ())):
                if dropped <= index:
                    index += 1
            out.append(index)
        else:
            out.append(step)
    return tuple(out)


def _data_path(loc: tuple, data: Any) -> DataPath:
    """Map a pydantic error location onto a path into the data.

    pydantic adds tags for unions and function validators to `loc`; keep only
    the items that really step into the data.
    """
    path: list[str | int] = []
    node = data
    for item in loc:
        if isinstance(node, dict) and item in node:
            path.append(item)
            node = node[item]
        elif isinstance(node, list) and isinstance(item, int) and 0 <= item < len(node):
            path.append(item)
            node = node[item]
    return tuple(path)


def _message(path: DataPath, error: dict) -> str:
    if error["type"] == "invalid_key":
        return f"{format_path(path[:-1]) or 'mapping'}: key {show_value(path[-1])} must be a string (quote it)"
    value = error.get("input")
    shown = show_value(value)
    expected = _EXPECTED.get(error["type"], error["msg"].lower())
    hint = ""
    if error["type"].startswith("bool"):
        quoted = isinstance(value, str) and value.lower() in ("true", "false")
        hint = f" (write {value.lower()} without quotes)" if quoted else " (use true or false)"
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and error["type"] == "string_type":
        hint = f' (quote it: "{value}")'
    return f"{format_path(path)}: {shown} is not {expected}{hint}"


def _repair(error: dict) -> str | None:
    """A quoted boolean or integer where the field takes one: the same value without the quotes."""
    value = error.get("input")
    if not isinstance(value, str):
        return None
    if error["type"].startswith("bool") and value in ("true", "false"):
        return value
    if error["type"].startswith("int") and value.isascii() and value.isdigit() and (value == "0" or value[0] != "0"):
        return value
    return None


_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "bool_type": "a boolean",
    "bool_parsing": "a boolean",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "float_type": "a number",
    "float_parsing": "a number",
    "literal_error": "one of the allowed values",
}


def _without(data: Any, path: DataPath) -> tuple[Any, bool]:
    """A copy of `data` without the element at `path` (copying only the containers on the way)."""
    if not path:
        return data, False
    head, rest = path[0], path[1:]
    if isinstance(data, dict) and head in data:
        copy = dict(data)
        if rest:
            copy[head], did = _without(data[head], rest)
            return copy, did
        del copy[head]
        return copy, True
    if isinstance(data, list) and isinstance(head, int) and 0 <= head < len(data):
        copy = list(data)
        if rest:
            copy[head], did = _without(data[head], rest)
            return copy, did
        del copy[head]
        return copy, True
    return data, False
