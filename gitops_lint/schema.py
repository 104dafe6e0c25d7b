"""JSON Schema validation mapped back to positions, in words a person understands.

jsonschema finds the violations; this module turns each into a `Violation`
with the exact path of the offending key or value and a plain message
("spec.interval: "10 m" is not a Flux duration (use e.g. "10m", "1h30m")"),
never a raw dump of a schema error. Unknown fields are found by our own walk,
because the Flux CRDs do not forbid them (the API server prunes them silently),
and CEL rules (`x-kubernetes-validations`) are evaluated the same way.

What cannot be judged before Flux's post-build step is left alone: strings
holding `${VAR}` substitutions, SOPS ciphertext (`ENC[...]`), and everything
under a node that preserves unknown fields (HelmRelease values).
"""

from __future__ import annotations

import difflib
import numbers
import re
import time
from dataclasses import dataclass
from typing import Any, Iterator

from gitops_lint.diagnostics import show_value
from gitops_lint.model.gitlab import gitlab_release
from gitops_lint.yaml.positions import DataPath, format_path

#: Kinds of violation, each reported by its own rule.
SCHEMA, UNKNOWN, MISSPELLED, CEL = "schema", "unknown-field", "misspelled-field", "cel"

_FLUX_DURATION = "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
_FLUX_DURATION_NO_HOURS = "^([0-9]+(\\.[0-9]+)?(ms|s|m))+$"
_PROTO_DURATION_HINT = "s$"
#: Validations of one schema, not settled by `plainly_valid`, after which it is compiled to code.
FAST_AFTER = 25
#: Seconds `plainly_valid` may spend on one schema before it is compiled: about what compiling a Flux
#: schema costs (11 ms for HelmRepository, 80 ms for HelmRelease).
PLAIN_BUDGET = 0.04
#: How close an unknown key must be to a real one to count as a misspelling.
MISSPELLING_CUTOFF = 0.8


@dataclass(frozen=True, slots=True)
class Violation:
    kind: str
    path: DataPath
    message: str
    #: Point at the key rather than the value (unknown fields).
    at_key: bool = False
    #: For a missing required field: its name (its parent mapping is `path`).
    missing: str | None = None
    #: The value that meets the schema, where exactly one does (`1h` -> `3600s`): what `--fix` writes.
    repair: str | None = None


def unjudgeable(value: Any, literal: bool = False) -> bool:
    """Values whose final form only Flux's post-build or SOPS decryption knows; with `literal` (Flux sends
    `${...}` as text, see `Project.literal_reason`) only ciphertext."""
    return isinstance(value, str) and (value.startswith("ENC[") or (not literal and "${" in value))


class SchemaValidator:
    """Validates instances against one schema; built once per schema and reused."""

    def __init__(self, schema: dict, *, closed: bool = False):
        self.schema = schema
        self._validator: Any = None
        #: Unknown keys are errors of the schema itself (the agent config), not the pruned-field warnings of CRDs.
        self.closed = closed
        self.uses = 0
        self.fast: Any = None
        #: Seconds `plainly_valid` has spent on this schema.
        self.plain_seconds = 0.0

    @property
    def validator(self) -> Any:
        """jsonschema's validator, built the first time an object needs explaining (an import of 50 ms)."""
        if self._validator is None:
            import jsonschema

            cls = jsonschema.validators.validator_for(self.schema, default=jsonschema.Draft202012Validator)
            self._validator = cls(self.schema)
        return self._validator

    def _valid_fast(self, instance: Any) -> bool:
        """True when `instance` is known valid without jsonschema (most objects are).

        `plainly_valid` answers first: it needs no import and no compiling, so a check of a few objects never
        loads jsonschema (50 ms). It is about four times slower per object than compiled code, so once it has
        spent what compiling a schema costs (ski rental: never more than twice the better choice), the
        schema is compiled."""
        if self.fast is None and self.plain_seconds < PLAIN_BUDGET:
            started = time.perf_counter()
            valid = plainly_valid(self.schema, instance)
            self.plain_seconds += time.perf_counter() - started
            if valid:
                return True
        return self._valid_compiled(instance)

    def _valid_compiled(self, instance: Any) -> bool:
        """True when a compiled validator says `instance` is valid (most objects are).

        jsonschema walks the schema interpreted, about ten times slower than
        fastjsonschema's generated code; compiling costs tens of milliseconds a
        schema, so only schemas that validate many objects are compiled. An
        invalid object still goes through jsonschema, which explains every error.
        """
        self.uses += 1
        if self.fast is None and (self.uses >= FAST_AFTER or self.plain_seconds >= PLAIN_BUDGET):
            import fastjsonschema

            # Same keywords in draft-07, which fastjsonschema implements; x-kubernetes-* are ignored.
            # use_default=False: by default its validators write schema defaults into the instance, which is
            # the loaded document every later rule and `compile` read.
            try:
                self.fast = fastjsonschema.compile({**self.schema, "$schema": "http://json-schema.org/draft-07/schema#"},
                                                   use_default=False)
            except fastjsonschema.JsonSchemaDefinitionException:
                self.fast = False
        if not self.fast:
            return False
        try:
            self.fast(instance)
            return True
        except Exception:  # noqa: BLE001 - JsonSchemaValueException, or anything the generated code trips on
            return False

    def violations(self, instance: Any, *, skip_types: frozenset[DataPath] = frozenset(),
                   gitlab_version: tuple[int, int] | None = None, literal: bool = False) -> list[Violation]:
        """Every violation of `instance`; `skip_types` are paths whose type the typed model already reported;
        `literal`: its `${...}` reach the API server as text (else they are left to Flux)."""
        out: list[Violation] = []
        if not self._valid_fast(instance):
            for error in self.validator.iter_errors(instance):
                out.extend(_explain(error, skip_types, literal))
        # The API server runs CEL rules only on objects that pass the schema (a rule reading a missing
        # required field would only fail for that reason), so do we.
        run_cel = not out and not skip_types
        if self.closed:
            out.extend(_lifecycle(self.schema, instance, (), gitlab_version))
        else:
            _unknown_fields(self.schema, instance, (), out)
        if run_cel:
            _cel(self.schema, instance, (), out)
        unique: dict[tuple, Violation] = {}
        for v in out:
            unique.setdefault((v.kind, v.path, v.message), v)
        return sorted(unique.values(), key=lambda v: (tuple(str(p) for p in v.path), v.message))


#: Keywords that assert nothing (formats are not asserted: jsonschema's validators are built without a
#: format checker; `$defs` only holds what a `$ref`, which defers, would name). Any keyword neither here nor in `plainly_valid` makes it defer to jsonschema.
_ANNOTATIONS = frozenset({"title", "description", "default", "deprecated", "examples", "format", "$id",
                          "$comment", "readOnly", "writeOnly", "$defs"})
_JSON_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool}


def plainly_valid(schema: Any, instance: Any) -> bool:
    """True only when `instance` is valid against `schema` as jsonschema (draft 2020-12) judges it.

    Exact for the keywords of Kubernetes structural schemas (type, properties, additionalProperties,
    required, items, enum, const, pattern, lengths, bounds) and propertyNames; False for an invalid instance and for
    any keyword it does not know: jsonschema, which explains, decides then."""
    if schema is True:
        return True
    if not isinstance(schema, dict):
        return False
    for keyword, expected in schema.items():
        if keyword in _ANNOTATIONS or keyword.startswith("x-"):
            continue
        check = _PLAIN_KEYWORDS.get(keyword)
        if check is None or not check(expected, instance, schema):
            return False
    return True


def _is_type(name: Any, instance: Any) -> bool:
    # A bool is an int in Python, but never an integer or a number in JSON Schema.
    if name in _JSON_TYPES:
        return isinstance(instance, _JSON_TYPES[name])
    if name == "integer":
        return not isinstance(instance, bool) and (
            isinstance(instance, int) or (isinstance(instance, float) and instance.is_integer()))
    if name == "number":
        return _is_number(instance)
    return name == "null" and instance is None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _other_number(value: Any) -> bool:
    """A number jsonschema compares that is no int or float (Decimal, Fraction): it decides those."""
    return isinstance(value, numbers.Number) and not isinstance(value, (int, float))


def _plain_type(expected: Any, instance: Any, _schema: dict) -> bool:
    return any(_is_type(name, instance) for name in (expected if isinstance(expected, list) else [expected]))


def _plain_properties(expected: Any, instance: Any, _schema: dict) -> bool:
    if not isinstance(instance, dict):
        return True
    return all(key not in instance or plainly_valid(sub, instance[key]) for key, sub in expected.items())


def _plain_additional(expected: Any, instance: Any, schema: dict) -> bool:
    if not isinstance(instance, dict):
        return True
    known = schema.get("properties") or {}
    return all(key in known or plainly_valid(expected, value) for key, value in instance.items())


def _plain_property_names(expected: Any, instance: Any, _schema: dict) -> bool:
    if not isinstance(instance, dict):
        return True
    # JSON has only string keys: a key of another type is jsonschema's to judge.
    return all(isinstance(key, str) and plainly_valid(expected, key) for key in instance)


def _plain_items(expected: Any, instance: Any, _schema: dict) -> bool:
    if not isinstance(instance, list):
        return True
    return isinstance(expected, (dict, bool)) and all(plainly_valid(expected, item) for item in instance)


def _scalar_in(values: Any, instance: Any) -> bool:
    """jsonschema's equality, for a scalar: a boolean equals only itself, never 1 or 0."""
    if not isinstance(values, list):
        return False
    if isinstance(instance, bool) or instance is None:
        return any(value is instance for value in values)
    if isinstance(instance, str):
        return any(isinstance(value, str) and value == instance for value in values)
    if _is_number(instance):
        return any(_is_number(value) and value == instance for value in values)
    return False  # a mapping or a list: jsonschema decides


def _plain_pattern(expected: Any, instance: Any, _schema: dict) -> bool:
    return not isinstance(instance, str) or _pattern(expected).search(instance) is not None


def _size(of: type, at_least: bool):
    """min/maxLength (strings) and min/maxItems (arrays): each ignores every other type."""
    def check(bound: Any, instance: Any, _schema: dict) -> bool:
        if not isinstance(instance, of):
            return True
        return _is_number(bound) and (len(instance) >= bound if at_least else len(instance) <= bound)
    return check


def _bound(at_least: bool):
    def check(bound: Any, instance: Any, _schema: dict) -> bool:
        if not _is_number(instance):
            return not _other_number(instance)
        return _is_number(bound) and (instance >= bound if at_least else instance <= bound)
    return check


_PATTERNS: dict[str, re.Pattern] = {}


def _pattern(text: str) -> re.Pattern:
    compiled = _PATTERNS.get(text)
    if compiled is None:
        compiled = _PATTERNS[text] = re.compile(text)
    return compiled


_PLAIN_KEYWORDS = {
    "type": _plain_type,
    "properties": _plain_properties,
    "additionalProperties": _plain_additional,
    "propertyNames": _plain_property_names,
    "required": lambda names, instance, _s: not isinstance(instance, dict) or all(n in instance for n in names),
    "items": _plain_items,
    "enum": lambda values, instance, _s: _scalar_in(values, instance),
    "const": lambda value, instance, _s: _scalar_in([value], instance),
    "pattern": _plain_pattern,
    "minLength": _size(str, True),
    "maxLength": _size(str, False),
    "minItems": _size(list, True),
    "maxItems": _size(list, False),
    "minimum": _bound(True),
    "maximum": _bound(False),
    # Another draft changes what the keywords mean (jsonschema follows a `$schema` at any depth).
    "$schema": lambda uri, _instance, _s: uri in _DRAFT_2020_12,
}
_DRAFT_2020_12 = frozenset({"https://json-schema.org/draft/2020-12/schema", "https://json-schema.org/draft/2020-12/schema#"})


def _explain(error, skip_types: set[DataPath], literal: bool = False) -> Iterator[Violation]:
    """One jsonschema error -> violations with positions and plain words (or nothing, when not judgeable)."""
    path: DataPath = tuple(error.absolute_path)
    where = format_path(path) or "(top level)"
    validator, instance, expected = error.validator, error.instance, error.validator_value
    if validator in ("oneOf", "anyOf") and error.context:
        if all(e.validator in ("required", "not", "maxProperties") for e in error.context):
            yield from _one_of(error, path, where)  # "exactly one of these fields"
        else:
            # The branch that got furthest says more than "is not valid under any of the given schemas".
            yield from _explain(max(error.context, key=lambda e: len(e.absolute_path)), skip_types, literal)
        return
    if validator == "oneOf":  # valid under several branches: several members of a oneof group are set
        yield from _one_of(error, path, where)
        return
    if unjudgeable(instance, literal):
        return
    if validator == "required":
        missing = [name for name in expected if isinstance(instance, dict) and name not in instance]
        for name in missing:
            yield Violation(SCHEMA, path, f"{where}: required field {name!r} is missing", missing=name)
    elif validator == "additionalProperties" and expected is False and isinstance(instance, dict):
        known = list((error.schema.get("properties") or {}).keys())
        for key in instance:
            if key not in known and not _matches_pattern_properties(error.schema, key):
                yield _unknown(path, key, known, closed=True, siblings=instance)
    elif validator == "type":
        if path in skip_types or instance is None:
            return  # the typed model reported it already; null means "unset" to Kubernetes
        yield Violation(SCHEMA, path, f"{where}: {show_value(instance)} is {_type_name(instance)}, expected "
                                      f"{_expected_type(expected)}")
    elif validator == "enum":
        close = difflib.get_close_matches(str(instance), [str(e) for e in expected], n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        allowed = ", ".join(str(e) for e in expected if e not in ("", None)) or "(none)"
        yield Violation(SCHEMA, path, f"{where}: {show_value(instance)} is not one of {allowed}{hint}")
    elif validator == "pattern":
        yield Violation(SCHEMA, path, _pattern_message(where, instance, expected), repair=_pattern_repair(instance, expected))
    elif validator in ("minLength", "maxLength"):
        word = "at least" if validator == "minLength" else "at most"
        if validator == "minLength" and expected == 1:
            yield Violation(SCHEMA, path, f"{where}: must not be empty")
        else:
            yield Violation(SCHEMA, path, f"{where}: {show_value(instance)} must have {word} {expected} characters")
    elif validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        word = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "more than",
                "exclusiveMaximum": "less than"}[validator]
        yield Violation(SCHEMA, path, f"{where}: {instance} must be {word} {expected}")
    elif validator in ("minItems", "maxItems"):
        word = "at least" if validator == "minItems" else "at most"
        yield Violation(SCHEMA, path, f"{where}: needs {word} {expected} item{'s' if expected != 1 else ''}, "
                                      f"has {len(instance) if isinstance(instance, list) else 0}")
    elif validator in ("minProperties", "maxProperties"):
        count = len(instance) if isinstance(instance, dict) else 0
        if validator == "maxProperties" and expected == 1:
            yield Violation(SCHEMA, path, f"{where}: set only one of {', '.join(sorted(instance))}")
        else:
            word = "at least" if validator == "minProperties" else "at most"
            yield Violation(SCHEMA, path, f"{where}: needs {word} {expected} field(s), has {count}")
    elif validator == "const":
        yield Violation(SCHEMA, path, f"{where}: must be {expected!r}, not {show_value(instance)}")
    elif validator == "not":
        yield Violation(SCHEMA, path, f"{where}: this combination of fields is not allowed")
    elif validator == "uniqueItems":
        yield Violation(SCHEMA, path, f"{where}: items must be unique")
    elif validator == "format":
        yield Violation(SCHEMA, path, f"{where}: {show_value(instance)} is not a valid {expected}")
    else:
        yield Violation(SCHEMA, path, f"{where}: {error.message}")


def _one_of(error, path: DataPath, where: str) -> Iterator[Violation]:
    """`oneOf`/`anyOf` whose branches each require a different field: say which fields are meant."""
    branches = error.validator_value if isinstance(error.validator_value, list) else []
    names = sorted({n for b in branches if isinstance(b, dict) for n in b.get("required", ())})
    instance = error.instance if isinstance(error.instance, dict) else {}
    present = [n for n in names if instance.get(n) is not None]
    quantity = "exactly one" if error.validator == "oneOf" else "at least one"
    if len(present) > 1 and error.validator == "oneOf":
        yield Violation(SCHEMA, path, f"{where}: set exactly one of {', '.join(names)}, not {', '.join(present)}")
    else:
        yield Violation(SCHEMA, path, f"{where}: set {quantity} of {', '.join(names)}")


def _matches_pattern_properties(schema: dict, key: str) -> bool:
    return any(re.search(p, key) for p in (schema.get("patternProperties") or {}))


def _lifecycle(schema: Any, instance: Any, path: DataPath, version: tuple[int, int] | None) -> Iterator[Violation]:
    """Keys GitLab removed (`x-gitlab-removed`) or added after the target release (`x-gitlab-since`)."""
    if not isinstance(schema, dict):
        return
    if isinstance(instance, dict):
        properties = schema.get("properties") or {}
        for key, value in instance.items():
            sub = properties.get(key)
            if not isinstance(sub, dict):
                continue
            removed, since = gitlab_release(sub.get("x-gitlab-removed")), gitlab_release(sub.get("x-gitlab-since"))
            where = format_path(path + (key,))
            if removed and sub.get("x-gitlab-removed-effect", "rejected") != "rejected":
                # still parsed, just without effect: a rule of its own says so (legacy `gitops`); a key removed
                # long before it (`resource_inclusions`, 14.0) is still rejected inside it
                yield from _lifecycle(sub, value, path + (key,), version)
                continue
            if removed and (version is None or version >= removed):
                hint = f"; {sub['x-gitlab-replacement']}" if sub.get("x-gitlab-replacement") else ""
                yield Violation(SCHEMA, path + (key,), f"{where} was removed in GitLab {sub['x-gitlab-removed']}: "
                                                       f"GitLab rejects the whole file{hint}", at_key=True)
            elif since and version is not None and version < since:
                yield Violation(SCHEMA, path + (key,), f"{where} exists only since GitLab {sub['x-gitlab-since']}: "
                                                       f"GitLab {version[0]}.{version[1]} rejects the whole file",
                                at_key=True)
            else:
                yield from _lifecycle(sub, value, path + (key,), version)
    elif isinstance(instance, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(instance):
            yield from _lifecycle(schema["items"], item, path + (index,), version)


def _unknown(path: DataPath, key: Any, known: list[str], *, closed: bool, siblings: Any = ()) -> Violation:
    """An unknown key: as named in the message and matched against the known ones, the key as text (`2:` is
    a key too); in the path, the key as loaded, so the finding points at it."""
    where = format_path(path) or "the top level"
    # as the YAML-to-JSON step names a key that is no string (`on:` is `true` to GitLab)
    name = ("true" if key else "false") if isinstance(key, bool) else "null" if key is None else str(key)
    close = difflib.get_close_matches(name, known, n=2, cutoff=MISSPELLING_CUTOFF)
    if close:
        # A fix renames the key only when one field is that close and the mapping has no such key yet.
        repair = close[0] if len(close) == 1 and close[0] not in siblings else None
        return Violation(MISSPELLED, path + (key,), f"unknown field {name!r} in {where} (did you mean {close[0]!r}?)",
                         at_key=True, repair=repair)
    consequence = "GitLab rejects the whole file" if closed else "the API server drops it silently"
    return Violation(UNKNOWN, path + (key,), f"unknown field {name!r} in {where}: {consequence}", at_key=True)


def _unknown_fields(schema: Any, instance: Any, path: DataPath, out: list[Violation]) -> list[Violation]:
    """Keys the schema does not know, where it does not preserve unknown fields (what Kubernetes prunes),
    appended to `out`. (Appended, not yielded: a generator per nested value was most of the rule's time.)"""
    if not isinstance(schema, dict) or schema.get("x-kubernetes-preserve-unknown-fields"):
        return out
    if isinstance(instance, dict):
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, value in instance.items():
            if properties is not None and key in properties:
                if isinstance(value, (dict, list)):
                    _unknown_fields(properties[key], value, path + (key,), out)
            elif isinstance(extra, dict):
                if isinstance(value, (dict, list)):
                    _unknown_fields(extra, value, path + (key,), out)
            elif properties is not None and not (not path and key in _TOP_LEVEL):
                out.append(_unknown(path, key, list(properties), closed=False, siblings=instance))
    elif isinstance(instance, list) and isinstance(schema.get("items"), dict):
        items = schema["items"]
        for index, item in enumerate(instance):
            if isinstance(item, (dict, list)):
                _unknown_fields(items, item, path + (index,), out)
    return out


#: Top-level keys that CRD schemas may leave out: the object's own, and SOPS's metadata block.
_TOP_LEVEL = frozenset({"apiVersion", "kind", "metadata", "status", "sops"})


#: id(schema) -> (schema, whether it or a schema below it has CEL rules); the schema is kept so its id stays its own.
_CEL_BELOW: dict[int, tuple[Any, bool]] = {}


def _has_cel(schema: dict) -> bool:
    """Whether `_cel` can find a rule at or below `schema`: most of an object's fields have none, and
    walking them for nothing was most of the schema rule's time."""
    entry = _CEL_BELOW.get(id(schema))
    if entry is None:
        _CEL_BELOW[id(schema)] = (schema, False)  # a schema that contains itself finds no more below
        extra, items = schema.get("additionalProperties"), schema.get("items")
        below = [*(schema.get("properties") or {}).values(), *(s for s in (extra, items) if isinstance(s, dict))]
        found = bool(schema.get("x-kubernetes-validations")) or any(isinstance(s, dict) and _has_cel(s) for s in below)
        _CEL_BELOW[id(schema)] = entry = (schema, found)
    return entry[1]


def _cel(schema: Any, instance: Any, path: DataPath, out: list[Violation]) -> list[Violation]:
    """Evaluate `x-kubernetes-validations` wherever the instance has a value, as the API server does on
    create; violations are appended to `out`."""
    if not isinstance(schema, dict) or instance is None or not _has_cel(schema):
        return out
    rules = schema.get("x-kubernetes-validations")
    if rules:
        from gitops_lint import cel

        for entry in rules:
            rule = cel.compile_rule(entry)
            if rule.is_transition:
                continue
            result = cel.evaluate(rule, instance, schema=schema)  # defaults matter (Bucket provider: generic)
            if result.failed:
                where = format_path(path) or "(top level)"
                out.append(Violation(CEL, path, f"{where}: {result.message}"))
    if isinstance(instance, dict):
        properties = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for key, value in instance.items():
            sub = properties.get(key, extra if isinstance(extra, dict) else None)
            if sub is not None and value is not None:
                _cel(sub, value, path + (key,), out)
    elif isinstance(instance, list) and isinstance(schema.get("items"), dict):
        items = schema["items"]
        for index, item in enumerate(instance):
            _cel(items, item, path + (index,), out)
    return out


def _pattern_repair(instance: Any, pattern: str) -> str | None:
    """The value a pattern wants, where the one meant is plain: a protobuf duration written as a Go
    duration (`1h` -> `3600s`), a Flux duration with spaces in it (`1 h` -> `1h`)."""
    if not isinstance(instance, str):
        return None
    if _is_proto_duration(pattern):
        from gitops_lint.durations import suggest_proto_duration

        return suggest_proto_duration(instance)
    if pattern == _FLUX_DURATION:
        from gitops_lint.durations import FLUX_DURATION_RE

        squeezed = "".join(instance.split())
        return squeezed if squeezed != instance and FLUX_DURATION_RE.match(squeezed) else None
    return None


def _is_proto_duration(pattern: str) -> bool:
    """The pattern of a protobuf duration in the agent config schema (seconds, up to nine decimals)."""
    return pattern.endswith(_PROTO_DURATION_HINT) and "[0-9]{0,9}" in pattern


def _pattern_message(where: str, instance: Any, pattern: str) -> str:
    if pattern == _FLUX_DURATION:
        return f'{where}: {show_value(instance)} is not a Flux duration (use e.g. "10m", "1h30m")'
    if pattern == _FLUX_DURATION_NO_HOURS:
        return f'{where}: {show_value(instance)} is not a Flux timeout (minutes, seconds or ms, e.g. "60s", "5m"; no hours)'
    if _is_proto_duration(pattern):
        from gitops_lint.durations import suggest_proto_duration

        suggestion = suggest_proto_duration(str(instance))
        fix = f' (write "{suggestion}")' if suggestion else ' (seconds with an "s", e.g. "3600s")'
        return f"{where}: {show_value(instance)} is not a protobuf duration: GitLab rejects it{fix}"
    if pattern.startswith("^(http|https|ssh)://") or pattern.startswith("^oci://") or "https?" in pattern:
        return f"{where}: {show_value(instance)} is not an accepted URL (must match {pattern})"
    return f"{where}: {show_value(instance)} does not match {pattern}"


def _type_name(value: Any) -> str:
    """The JSON type of a value, in the words `_expected_type` uses."""
    if isinstance(value, bool):
        kind = "boolean"
    elif isinstance(value, int):
        kind = "integer"
    else:
        kind = {float: "number", str: "string", list: "array", dict: "object"}.get(type(value), "null")
    return _expected_type(kind)


def _expected_type(expected: Any) -> str:
    names = {"string": "a string", "integer": "an integer", "number": "a number", "boolean": "a boolean",
             "object": "a mapping", "array": "a list", "null": "null"}
    if isinstance(expected, list):
        return " or ".join(names.get(e, e) for e in expected)
    return names.get(expected, str(expected))
