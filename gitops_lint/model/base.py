"""The mechanism every typed model shares.

Models describe shape and meaning; they never reject a user's file. Each model
is validated leniently: a field whose value has the wrong type is reported as a
`ModelProblem` (with the exact path, so a rule can point at it) and dropped,
and the rest of the object is still built and checked.

A model is a class with annotated fields, as with pydantic, checked strictly
(a string is no number, `"true"` no boolean). The checking is ours: the model
takes only a few type forms (scalars, `X | None`, lists, string-keyed mappings,
nested models, `Any`), and for those a per-class function built on first use
does in one pass what pydantic did in up to eight (validate, drop what failed,
retry), without pydantic's import (70 ms of every start) or its per-class
schema build. Unknown keys are kept (`model_extra`): schema checks judge them.
"""

from __future__ import annotations

import sys
import typing
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, TypeVar

from gitops_lint.diagnostics import Span, show_value
from gitops_lint.yaml.loader import YAML11_ONLY_BOOLS, Document
from gitops_lint.yaml.positions import DataPath, format_path

#: What a failed check returns: the value is dropped (the field left unset, the item or entry left out).
_DROP = object()
_UNSET = object()

#: (path, error type, the refused value, pydantic-style message) of each value a check refused.
Refusal = tuple[DataPath, str, Any, str]
Check = Callable[[Any, DataPath, Any, list], Any]


class FieldInfo:
    """A declared field: its default (or default factory), the key it is read from, its type."""

    __slots__ = ("name", "alias", "default", "default_factory", "_annotation", "_module", "_locals")

    def __init__(self, default: Any = _UNSET, *, default_factory: Callable[[], Any] | None = None,
                 alias: str | None = None) -> None:
        self.name = ""
        self.alias = alias
        self.default = default
        self.default_factory = default_factory
        self._annotation: Any = None
        self._module = ""
        self._locals: dict[str, Any] | None = None

    @property
    def annotation(self) -> Any:
        """The field's type, its annotation evaluated in its module (forward references resolved)."""
        if isinstance(self._annotation, str):
            self._annotation = eval(self._annotation, vars(sys.modules[self._module]), self._locals)  # noqa: S307
        return self._annotation

    def is_required(self) -> bool:
        return self.default is _UNSET and self.default_factory is None


def Field(default: Any = _UNSET, *, default_factory: Callable[[], Any] | None = None,  # noqa: N802 - as pydantic
          alias: str | None = None) -> Any:
    """A field's default, default factory or key (`alias`), where a plain default will not do."""
    return FieldInfo(default, default_factory=default_factory, alias=alias)


class Before:
    """`Annotated[T, Before(f)]`: `f` turns the value before it is checked as `T`."""

    __slots__ = ("func",)

    def __init__(self, func: Callable[[Any], Any]) -> None:
        self.func = func


class Plain:
    """`Annotated[T, Plain(f)]`: `f` alone checks the value; it raises `Refused` for a wrong one."""

    __slots__ = ("func",)

    def __init__(self, func: Callable[[Any], Any]) -> None:
        self.func = func


class Refused(ValueError):
    """Raised by a `Plain` check: `kind` names the error (`int_or_string_type`), `message` says it."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class ModelError(ValueError):
    """`model_validate` or a constructor was given a value the model refuses."""

    def __init__(self, cls: type, refusals: list[Refusal]) -> None:
        self.refusals = refusals
        shown = "; ".join(f"{format_path(path) or '(top)'}: {message}" for path, _, _, message in refusals)
        super().__init__(f"{cls.__name__}: {shown}")


#: Each distinct set of fields a file set, once: they repeat endlessly (a tenth of a large run's memory
#: when every object kept its own).
_FIELDS_SETS: dict[frozenset, frozenset] = {}


class Model:
    """Base of every nested model: annotated fields, checked leniently; unknown keys kept in `model_extra`."""

    #: Declared fields, by attribute name, in declaration order (bases first).
    model_fields: ClassVar[dict[str, FieldInfo]] = {}
    #: Field by the key that sets it (its alias, else its name), and its check: built on first use.
    _checks: ClassVar[dict[str, tuple[str, Check]] | None] = None
    _factories: ClassVar[dict[str, Callable[[], Any]]] = {}
    _required: ClassVar[bool] = False

    _extra: dict[str, Any] | None = None
    _set: frozenset = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields = {name: info for name, info in cls.model_fields.items()}
        factories = dict(cls._factories)
        # A class defined in a function may name its neighbours there: keep that namespace for its annotations.
        scope = dict(sys._getframe(1).f_locals) if "<locals>" in cls.__qualname__ else None
        for name, annotation in cls.__dict__.get("__annotations__", {}).items():
            if name.startswith("_") or (isinstance(annotation, str) and annotation.startswith("ClassVar")):
                continue
            value = cls.__dict__.get(name, _UNSET)
            info = value if isinstance(value, FieldInfo) else FieldInfo(value)
            info.name, info._annotation, info._module, info._locals = name, annotation, cls.__module__, scope
            if isinstance(info.default, (list, dict, set)):  # a mutable default: each object its own copy
                info.default, info.default_factory = _UNSET, _copier(info.default)
            factories.pop(name, None)
            if info.default_factory is not None:
                factories[name] = info.default_factory
                if name in cls.__dict__:
                    delattr(cls, name)  # read through __getattr__, which makes the object its own value
            elif info.default is not _UNSET:
                setattr(cls, name, info.default)  # the class answers for an unset field: nothing stored
            fields[name] = info
        cls.model_fields = fields
        cls._factories = factories
        cls._checks = None
        cls._required = any(info.is_required() for info in fields.values())

    @classmethod
    def _keys(cls) -> dict[str, tuple[str, Check]]:
        checks = cls.__dict__.get("_checks")
        if checks is None:
            checks = {info.alias or name: (name, _check_for(info.annotation)) for name, info in cls.model_fields.items()}
            cls._checks = checks
        return checks

    @classmethod
    def _build(cls, data: dict, path: DataPath, refusals: list[Refusal]) -> Any:
        """An object of `cls` from `data`, each refused value recorded in `refusals` and left out."""
        obj = object.__new__(cls)
        values = obj.__dict__
        keys = cls.__dict__.get("_checks") or cls._keys()
        extra = None
        for key, value in data.items():
            entry = keys.get(key)
            if entry is not None:
                checked = entry[1](value, path, key, refusals)
                if checked is not _DROP:
                    values[entry[0]] = checked
            elif isinstance(key, str):
                if extra is None:
                    extra = {}
                extra[key] = value
            else:
                refusals.append(((*path, key), "invalid_key", key, "Keys should be strings"))
        if cls.__dict__.get("_required"):
            cls._check_required(values, data, path, refusals)
        fields = frozenset(values)
        values["_set"] = _FIELDS_SETS.setdefault(fields, fields)
        if extra is not None:
            values["_extra"] = extra
        return obj

    @classmethod
    def _check_required(cls, values: dict, data: dict, path: DataPath, refusals: list[Refusal]) -> None:
        for name, info in cls.model_fields.items():
            if info.is_required() and name not in values:
                refusals.append(((*path, info.alias or name), "missing", data, "Field required"))

    def __getattr__(self, name: str) -> Any:
        # Only for what the object does not hold: a defaulted field made on first read, or an unknown key.
        factory = type(self)._factories.get(name)
        if factory is not None:
            value = factory()
            self.__dict__[name] = value
            return value
        extra = self._extra
        if extra is not None and name in extra:
            return extra[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in type(self).model_fields and name not in self._set:
            fields = self._set | {name}
            self.__dict__["_set"] = _FIELDS_SETS.setdefault(fields, fields)
        object.__setattr__(self, name, value)

    def __init__(self, **data: Any) -> None:
        refusals: list[Refusal] = []
        built = type(self)._build(data, (), refusals)
        if refusals:
            raise ModelError(type(self), refusals)
        self.__dict__.update(built.__dict__)

    @classmethod
    def model_validate(cls, data: Any) -> Any:
        """An object of `cls` from `data`; `ModelError` if any value is refused."""
        refusals: list[Refusal] = []
        if isinstance(data, cls):
            return data
        obj = _check_for(cls)(data, (), _UNSET, refusals)
        if refusals or obj is _DROP:
            raise ModelError(cls, refusals)
        return obj

    @classmethod
    def model_construct(cls, **values: Any) -> Any:
        """An object of `cls` holding `values` as given, unchecked."""
        obj = object.__new__(cls)
        for name, value in values.items():
            setattr(obj, name, value)
        return obj

    @property
    def model_extra(self) -> dict[str, Any]:
        """The keys the model does not declare, with their values as the file has them."""
        if self._extra is None:
            self.__dict__["_extra"] = {}
        return self._extra

    @property
    def model_fields_set(self) -> frozenset:
        """The fields the data set (a field whose value was refused is not set) and its unknown keys."""
        return self._set | self._extra.keys() if self._extra else self._set

    def model_dump(self, *, exclude_unset: bool = False) -> dict[str, Any]:
        """Fields (those set, with `exclude_unset`) and unknown keys as plain data, nested models too."""
        names = [n for n in type(self).model_fields if n in self._set] if exclude_unset else type(self).model_fields
        out = {name: _dumped(getattr(self, name), exclude_unset) for name in names}
        out.update((key, _dumped(value, exclude_unset)) for key, value in (self._extra or {}).items())
        return out

    def model_copy(self, *, update: dict[str, Any] | None = None) -> Any:
        """A shallow copy; `update`'s fields set on it (the values as given, unchecked)."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        if self._extra is not None:
            new.__dict__["_extra"] = dict(self._extra)
        for name, value in (update or {}).items():
            if name in type(self).model_fields:
                setattr(new, name, value)
            else:
                new.model_extra[name] = value
        return new

    def _values(self) -> tuple:
        return tuple(getattr(self, name) for name in type(self).model_fields), self._extra or {}

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment] - equal by value and mutable, as pydantic's models

    def __repr__(self) -> str:
        shown = [f"{name}={getattr(self, name)!r}" for name in type(self).model_fields if name in self._set]
        shown += [f"{key}={value!r}" for key, value in (self._extra or {}).items()]
        return f"{type(self).__name__}({', '.join(shown)})"


def _copier(default: Any) -> Callable[[], Any]:
    import copy

    return lambda: copy.deepcopy(default)


def _dumped(value: Any, exclude_unset: bool) -> Any:
    if isinstance(value, Model):
        return value.model_dump(exclude_unset=exclude_unset)
    if isinstance(value, list):
        return [_dumped(item, exclude_unset) for item in value]
    if isinstance(value, dict):
        return {key: _dumped(item, exclude_unset) for key, item in value.items()}
    return value


# --------------------------------------------------------------------------- checks, one per type form
#
# A check takes (value, path of its container, its key there, refusals) and returns the value to keep, or
# _DROP after recording why. A null refused is recorded too (strict construction refuses it); lenient
# building drops it without a word (`build_lenient`).


def _refuse(value: Any, path: DataPath, key: Any, refusals: list[Refusal], kind: str, message: str) -> Any:
    refusals.append(((*path, key) if key is not _UNSET else path, kind, value, message))
    return _DROP


def _any(value: Any, path: DataPath, key: Any, refusals: list[Refusal]) -> Any:
    return value


def _str(value: Any, path: DataPath, key: Any, refusals: list[Refusal]) -> Any:
    if isinstance(value, str):
        return value
    return _refuse(value, path, key, refusals, "string_type", "Input should be a valid string")


def _bool(value: Any, path: DataPath, key: Any, refusals: list[Refusal]) -> Any:
    if isinstance(value, bool):
        return value
    return _refuse(value, path, key, refusals, "bool_type", "Input should be a valid boolean")


def _int(value: Any, path: DataPath, key: Any, refusals: list[Refusal]) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return _refuse(value, path, key, refusals, "int_type", "Input should be a valid integer")


def _float(value: Any, path: DataPath, key: Any, refusals: list[Refusal]) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return _refuse(value, path, key, refusals, "float_type", "Input should be a valid number")


_SCALARS: dict[Any, Check] = {Any: _any, object: _any, str: _str, bool: _bool, int: _int, float: _float}
_CHECKS: dict[Any, Check] = {}


def _check_for(annotation: Any) -> Check:
    """The check of one type form (built once per form, shared by every field of that type)."""
    try:
        return _CHECKS[annotation]
    except KeyError:
        pass
    except TypeError:  # an unhashable annotation (Annotated with unhashable metadata): build it each time
        return _build_check(annotation)
    check = _CHECKS[annotation] = _build_check(annotation)
    return check


def _build_check(annotation: Any) -> Check:
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, Model):
        return _model_check(annotation)
    if origin is typing.Annotated:
        inner, marks = args[0], args[1:]
        for mark in marks:
            if isinstance(mark, Plain):
                return _plain_check(mark.func)
            if isinstance(mark, Before):
                return _before_check(mark.func, _check_for(inner))
        return _check_for(inner)
    if origin in (typing.Union, _UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return _nullable_check(_check_for(rest[0]))
    if origin is list and args:
        return _list_check(_check_for(args[0]))
    if origin is dict and args and args[0] is str:
        return _dict_check(_check_for(args[1]))
    if annotation is list:
        return _list_check(_any)
    if annotation is dict:
        return _dict_check(_any)
    raise TypeError(f"the typed model does not take the type {annotation!r}")


_UnionType = type(int | None)


def _nullable_check(inner: Check) -> Check:
    def check(value: Any, path: DataPath, key: Any, refusals: list[Refusal]) -> Any:
        return None if value is None else inner(value, path, key, refusals)
    return check


def _model_check(cls: type[Model]) -> Check:
    message = f"Input should be a valid dictionary or instance of {cls.__name__}"

    def check(value: Any, path: DataPath, key: Any, refusals: list[Refusal]) -> Any:
        if isinstance(value, dict):
            return cls._build(value, (*path, key) if key is not _UNSET else path, refusals)
        if isinstance(value, cls):
            return value
        return _refuse(value, path, key, refusals, "model_type", message)
    return check


def _list_check(item: Check) -> Check:
    def check(value: Any, path: DataPath, key: Any, refusals: list[Refusal]) -> Any:
        if not isinstance(value, list):
            return _refuse(value, path, key, refusals, "list_type", "Input should be a valid list")
        if item is _any:
            return list(value)
        here = (*path, key)
        out = []
        for index, element in enumerate(value):
            checked = item(element, here, index, refusals)
            if checked is not _DROP:
                out.append(checked)
        return out
    return check


def _dict_check(item: Check) -> Check:
    def check(value: Any, path: DataPath, key: Any, refusals: list[Refusal]) -> Any:
        if not isinstance(value, dict):
            return _refuse(value, path, key, refusals, "dict_type", "Input should be a valid dictionary")
        here = (*path, key)
        out = {}
        for name, element in value.items():
            if not isinstance(name, str):
                refusals.append(((*here, name), "invalid_key", name, "Keys should be strings"))
                continue
            checked = item(element, here, name, refusals)
            if checked is not _DROP:
                out[name] = checked
        return out
    return check


def _plain_check(func: Callable[[Any], Any]) -> Check:
    def check(value: Any, path: DataPath, key: Any, refusals: list[Refusal]) -> Any:
        try:
            return func(value)
        except Refused as refused:
            return _refuse(value, path, key, refusals, refused.kind, refused.message)
    return check


def _before_check(func: Callable[[Any], Any], inner: Check) -> Check:
    def check(value: Any, path: DataPath, key: Any, refusals: list[Refusal]) -> Any:
        return inner(func(value), path, key, refusals)
    return check


class Located(Model):
    """A top-level object built from one YAML document, which it remembers."""

    #: The document it was built from, and that file's path relative to the root: set when it is built
    #: (`build_lenient`). Plain attributes, not properties through the document and its file: rules ask
    #: every object for them many times over, and at 50k documents those hops were the run's costliest
    #: lines (half a second, in cache misses). An object built otherwise has neither.
    doc: ClassVar[Document]
    path: ClassVar[str]

    #: What a report calls this object, e.g. `GitRepository/flux-system/app`.
    display_kind: ClassVar[str] = "Object"

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


def build_lenient(cls: type[M], doc: Document, data: Any | None = None) -> tuple[M, list[ModelProblem]]:
    """`data` (default: the document's data) as `cls`, each value it refuses reported and left out.

    The data is never mutated, and every problem's path is the refused value's path in the document.
    """
    data = doc.data if data is None else data
    refusals: list[Refusal] = []
    obj = cls._build(data, (), refusals) if isinstance(data, dict) else cls.model_construct()
    # `null` means "not set" to Kubernetes and to protobuf JSON alike: a null where a value is expected is
    # left out without a problem (a null key is still a key that is no string).
    problems = [ModelProblem(doc, path, _message(path, kind, value, message), repair=_repair(kind, value))
                for path, kind, value, message in refusals if value is not None or kind == "invalid_key"]
    values = obj.__dict__  # not through `__setattr__`: neither is a field of the model
    values["doc"], values["path"] = doc, doc.file.rel
    return obj, problems


def _message(path: DataPath, kind: str, value: Any, message: str) -> str:
    if kind == "invalid_key":
        return f"{format_path(path[:-1]) or 'mapping'}: key {show_value(path[-1])} must be a string (quote it)"
    shown = show_value(value)
    expected = _EXPECTED.get(kind, message.lower())
    hint = ""
    if kind.startswith("bool"):
        quoted = isinstance(value, str) and value.lower() in ("true", "false")
        word = _YAML11_BOOLEANS.get(value) if isinstance(value, str) else None
        hint = (f" (write {value.lower()} without quotes)" if quoted
                else f" (kustomize reads {value} as a string, as YAML 1.2 does: write {word})" if word
                else " (use true or false)")
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and kind == "string_type":
        hint = f' (quote it: "{value}")'
    return f"{format_path(path)}: {shown} is not {expected}{hint}"


#: YAML 1.1's boolean words (their YAML 1.2 spelling), strings to kustomize's kyaml: see `loader.yaml_reader`.
_YAML11_BOOLEANS = {word: "true" if value else "false" for word, value in YAML11_ONLY_BOOLS.items()}


def _repair(kind: str, value: Any) -> str | None:
    """The scalar a boolean or integer field takes for a string value: a quoted `true` or `5` without its
    quotes, or YAML 1.1's `yes` spelled `true`."""
    if not isinstance(value, str):
        return None
    if kind.startswith("bool") and (value in ("true", "false") or value in _YAML11_BOOLEANS):
        return _YAML11_BOOLEANS.get(value, value)
    if kind.startswith("int") and value.isascii() and value.isdigit() and (value == "0" or value[0] != "0"):
        return value
    return None


_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "bool_type": "a boolean",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "list_type": "a list",
    "float_type": "a number",
}
