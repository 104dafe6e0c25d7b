"""Normalizing one object's data: key order, canonical durations, schema defaults.

Every function here returns new containers and never mutates its input (the
input is the loaded document's data, which the rest of the run shares, and the
schemas, which are cached).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from gitops_lint.view.kustomize import cluster_scoped  # kustomize's own list: one place for it
from gitops_lint.durations import (
    FLUX_DURATION_RE,
    FLUX_TIMEOUT_NO_HOURS_RE,
    GO_DURATION_RE,
    DurationError,
    format_go_duration,
    parse_go_duration,
)

DEFAULT_MODES = ("omit", "explicit")

#: Kubernetes' conventional order of an object's first keys and of its metadata's; the rest follow sorted.
TOP_KEYS = ("apiVersion", "kind", "metadata", "spec")
METADATA_KEYS = ("name", "namespace", "labels", "annotations")

#: The CRD patterns of Flux duration fields (with and without hours) -> the compiled pattern.
_DURATION_PATTERNS = {FLUX_DURATION_RE.pattern: FLUX_DURATION_RE,
                      FLUX_TIMEOUT_NO_HOURS_RE.pattern: FLUX_TIMEOUT_NO_HOURS_RE}

#: Duration fields of old Flux APIs (the v1beta1 kinds) whose CRDs give no pattern: they are
#: `metav1.Duration`, which Go's `time.ParseDuration` reads, so any Go duration is accepted.
_UNPATTERNED_DURATIONS = frozenset({"interval", "timeout", "retryInterval"})



# --------------------------------------------------------------------------- key order


def _key_rank(key: Any) -> tuple:
    """Sort keys as text; keys of other types (rare: `1:`, `true:`) after them, by type then text."""
    if isinstance(key, str):
        return (0, "", key)
    return (1, type(key).__name__, repr(key))


def sorted_deep(value: Any) -> Any:
    """`value` with every mapping's keys sorted, at every depth."""
    if isinstance(value, dict):
        return {k: sorted_deep(value[k]) for k in sorted(value, key=_key_rank)}
    if isinstance(value, list):
        return [sorted_deep(v) for v in value]
    return value


def _first_then_sorted(mapping: dict, first: tuple[str, ...]) -> list:
    head = [k for k in first if k in mapping]
    return head + sorted((k for k in mapping if k not in first), key=_key_rank)


def ordered_object(data: dict) -> dict:
    """A Kubernetes object's keys in conventional order (apiVersion, kind, metadata, spec, rest
    sorted; metadata: name, namespace, labels, annotations, rest sorted), everything deeper sorted."""
    out = {}
    for key in _first_then_sorted(data, TOP_KEYS):
        value = data[key]
        if key == "metadata" and isinstance(value, dict):
            out[key] = {k: sorted_deep(value[k]) for k in _first_then_sorted(value, METADATA_KEYS)}
        else:
            out[key] = sorted_deep(value)
    return out


# --------------------------------------------------------------------------- schema-driven


def canonical_duration(value: str, pattern: re.Pattern[str]) -> str:
    """Go's `Duration.String()` of a Flux duration, when the field's pattern accepts that form.

    `${VAR}` values, values the field does not accept, and canonical forms the field
    would refuse (`1h0m0s` where hours are not allowed, `100µs`) stay as written.
    """
    if "${" in value or not pattern.fullmatch(value):
        return value
    try:
        text = format_go_duration(parse_go_duration(value))
    except DurationError:
        return value
    return text if pattern.fullmatch(text) else value


def same(a: Any, b: Any) -> bool:
    """Equality that minds types: `1`, `1.0` and `true` are different YAML values."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def apply_schema(value: Any, schema: Any, defaults: str, path: tuple[str, ...] = (),
                 kept: frozenset[tuple[str, ...]] = frozenset()) -> Any:
    """`value` with canonical durations and defaults made explicit or omitted, per `schema`.

    explicit: every property with a schema `default` is filled in where its parent
    mapping exists (and, as the API server does, inside the defaults it fills in).
    omit: every property equal to its default is dropped (compared before and after
    its own children are normalized, so the result is stable when compiled again),
    unless the schema requires it or a patch needs it there: `kept` holds the paths
    (from the object's root, as strings) that JSON6902 patches remove, replace or test.
    """
    if not isinstance(schema, dict):
        return value
    if isinstance(value, dict):
        properties = schema.get("properties")
        if properties is None and not isinstance(schema.get("additionalProperties"), dict):
            return value  # free-form (HelmRelease values, x-kubernetes-preserve-unknown-fields)
        properties = properties or {}
        required = schema.get("required") or ()
        extra = schema.get("additionalProperties")
        out = {}
        for key, item in value.items():
            sub = properties.get(key, extra if isinstance(extra, dict) else None)
            here = (*path, str(key))
            out[key] = _field(key, item, sub, defaults, here, kept) if sub is not None else item
            if (defaults == "omit" and isinstance(sub, dict) and "default" in sub and key in properties
                    and key not in required  # a required field stays, default or not (OCIRepository verify.provider)
                    and not _needed(here, kept)):
                default = _field(key, copy.deepcopy(sub["default"]), sub, defaults, here)
                if same(item, sub["default"]) or same(out[key], default):
                    del out[key]
        if defaults == "explicit":
            for key, sub in properties.items():
                if key not in out and isinstance(sub, dict) and "default" in sub:
                    out[key] = _field(key, copy.deepcopy(sub["default"]), sub, defaults, (*path, str(key)))
        return out
    if isinstance(value, list):
        items = schema.get("items")
        if not isinstance(items, dict):
            return value
        return [apply_schema(v, items, defaults, (*path, str(i)), kept) for i, v in enumerate(value)]
    if isinstance(value, str):
        pattern = _DURATION_PATTERNS.get(schema.get("pattern"))
        if pattern is not None:
            return canonical_duration(value, pattern)
    return value


def _needed(path: tuple[str, ...], kept: frozenset[tuple[str, ...]]) -> bool:
    """A patch needs the field at `path`: it names it, or something below it."""
    return bool(kept) and any(k[: len(path)] == path for k in kept)


def _field(key: Any, value: Any, schema: Any, defaults: str, path: tuple[str, ...],
           kept: frozenset[tuple[str, ...]] = frozenset()) -> Any:
    """`apply_schema` on the value of property `key`; an old API's unpatterned duration by its name."""
    if (isinstance(value, str) and key in _UNPATTERNED_DURATIONS and isinstance(schema, dict)
            and schema.get("type") == "string" and "pattern" not in schema):
        return canonical_duration(value, GO_DURATION_RE)
    return apply_schema(value, schema, defaults, path, kept)


def apply_object_schema(data: dict, schema: dict, defaults: str,
                        kept: frozenset[tuple[str, ...]] = frozenset()) -> dict:
    """`apply_schema` on an object's own fields: metadata is Kubernetes', and status is not ours to write."""
    properties = schema.get("properties") or {}
    out = {}
    for key, value in data.items():
        sub = properties.get(key)
        if key in ("apiVersion", "kind", "metadata", "status") or not isinstance(sub, dict):
            out[key] = value
        else:
            out[key] = apply_schema(value, sub, defaults, (str(key),), kept)
    return out


def with_namespace(data: dict, namespace: str | None) -> dict:
    """`metadata.namespace` made explicit where kustomize sets it (absent, and the kind is namespaced)."""
    metadata = data.get("metadata")
    if (namespace is None or not isinstance(metadata, dict) or metadata.get("namespace") is not None
            or cluster_scoped(data.get("apiVersion"), data.get("kind"))):
        return data
    return {**data, "metadata": {**metadata, "namespace": namespace}}
