"""A kustomization file as kustomize decodes it: what it refuses before it builds anything.

kustomize (5.5: `sigs.k8s.io/kustomize/api/types` v0.18) turns the file into JSON and decodes that into
its Go `Kustomization` struct with unknown fields disallowed (`Kustomization.Unmarshal`): a key it does
not know anywhere in the file, a number where a string belongs, a list where a mapping belongs, each
fails the build, and Flux with it. Go's decoder matches field names without regard to case, and JSON's
null fits any field.

Flux reads the kustomization file at a Kustomization's own `spec.path` first, leniently
(`sigs.k8s.io/yaml.Unmarshal`, fluxcd/pkg/kustomize's generator), and writes it back before kustomize
reads it: there unknown keys are dropped and numbers and booleans become the strings their fields
want. So `decode` tells apart what fails in any kustomization file from what fails only in one
kustomize reads as written (a base, an overlay's resource, a component).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from gitops_lint.yaml.positions import DataPath, format_path

STRING, INTEGER, BOOLEAN, ANY = "string", "integer", "boolean", "any"


@dataclass(frozen=True)
class ListOf:
    item: Any


@dataclass(frozen=True)
class MapOf:
    value: Any


@dataclass(frozen=True)
class Struct:
    #: The Go type's name, as kustomize's errors say it.
    name: str
    fields: dict[str, Any]
    #: Fields promoted from an embedded struct (`GeneratorArgs` in `ConfigMapArgs`, `ResId` in `Selector`):
    #: Flux's lenient reading turns no number below one of them into a string (see `_walk`).
    embedded: frozenset[str] = frozenset()

    def field(self, key: str) -> str | None:
        """The field a key decodes into: its own name, else one equal to it but for case (Go's rule)."""
        if key in self.fields:
            return key
        folded = key.casefold()
        return next((name for name in self.fields if name.casefold() == folded), None)


_GVK = {"group": STRING, "version": STRING, "kind": STRING}
_RES_ID = {**_GVK, "name": STRING, "namespace": STRING}
_SELECTOR = Struct("Selector", {**_RES_ID, "annotationSelector": STRING, "labelSelector": STRING}, frozenset(_RES_ID))
_GENERATOR_OPTIONS = Struct("GeneratorOptions", {
    "labels": MapOf(STRING), "annotations": MapOf(STRING), "disableNameSuffixHash": BOOLEAN, "immutable": BOOLEAN})
_GENERATOR_ARGS = {
    "namespace": STRING, "name": STRING, "behavior": STRING,
    "literals": ListOf(STRING), "files": ListOf(STRING), "envs": ListOf(STRING), "env": STRING,
    "options": _GENERATOR_OPTIONS,
}
_FIELD_SPEC = Struct("FieldSpec", {**_GVK, "path": STRING, "create": BOOLEAN}, frozenset(_GVK))
_FIELD_OPTIONS = Struct("FieldOptions", {"delimiter": STRING, "index": INTEGER, "encoding": STRING, "create": BOOLEAN})
_TARGET = Struct("Target", {"apiVersion": STRING, **_GVK, "name": STRING, "namespace": STRING}, frozenset(_GVK))
_HELM_CHART = Struct("HelmChart", {
    "name": STRING, "version": STRING, "repo": STRING, "releaseName": STRING, "namespace": STRING,
    "additionalValuesFiles": ListOf(STRING), "valuesFile": STRING, "valuesInline": MapOf(ANY), "valuesMerge": STRING,
    "includeCRDs": BOOLEAN, "skipHooks": BOOLEAN, "apiVersions": ListOf(STRING), "kubeVersion": STRING,
    "nameTemplate": STRING, "skipTests": BOOLEAN, "debug": BOOLEAN,
})
_HELM_CHART_ARGS = Struct("HelmChartArgs", {
    "chartName": STRING, "chartVersion": STRING, "chartRepoUrl": STRING, "chartHome": STRING,
    "chartRepoName": STRING, "helmBin": STRING, "helmHome": STRING, "values": STRING, "valuesLocal": MapOf(ANY),
    "valuesMerge": STRING, "releaseName": STRING, "releaseNamespace": STRING, "extraArgs": ListOf(STRING),
})
_PATCH = Struct("Patch", {"path": STRING, "patch": STRING, "target": _SELECTOR, "options": MapOf(BOOLEAN)})
_IMAGE = Struct("Image", {"name": STRING, "newName": STRING, "tagSuffix": STRING, "newTag": STRING, "digest": STRING})

#: `Kustomization` and every type below it, field by field (json names).
KUSTOMIZATION = Struct("Kustomization", embedded=frozenset({"kind", "apiVersion"}), fields={
    "kind": STRING,
    "apiVersion": STRING,
    "metadata": Struct("ObjectMeta", {
        "name": STRING, "namespace": STRING, "labels": MapOf(STRING), "annotations": MapOf(STRING)}),
    "openapi": MapOf(STRING),
    "namePrefix": STRING,
    "nameSuffix": STRING,
    "namespace": STRING,
    "commonLabels": MapOf(STRING),
    "labels": ListOf(Struct("Label", {
        "pairs": MapOf(STRING), "includeSelectors": BOOLEAN, "includeTemplates": BOOLEAN,
        "fields": ListOf(_FIELD_SPEC)})),
    "commonAnnotations": MapOf(STRING),
    "patchesStrategicMerge": ListOf(STRING),
    "patchesJson6902": ListOf(_PATCH),
    "patches": ListOf(_PATCH),
    "images": ListOf(_IMAGE),
    "imageTags": ListOf(_IMAGE),
    "replacements": ListOf(Struct("ReplacementField", {
        "source": Struct("SourceSelector", {**_RES_ID, "fieldPath": STRING, "options": _FIELD_OPTIONS},
                         frozenset(_RES_ID)),
        "targets": ListOf(Struct("TargetSelector", {
            "select": _SELECTOR, "reject": ListOf(_SELECTOR), "fieldPaths": ListOf(STRING),
            "options": _FIELD_OPTIONS})),
        "path": STRING}, frozenset({"source", "targets"}))),
    "replicas": ListOf(Struct("Replica", {"name": STRING, "count": INTEGER})),
    "vars": ListOf(Struct("Var", {
        "name": STRING, "objref": _TARGET, "fieldref": Struct("FieldSelector", {"fieldPath": STRING})})),
    "sortOptions": Struct("SortOptions", {
        "order": STRING,
        "legacySortOptions": Struct("LegacySortOptions", {"orderFirst": ListOf(STRING), "orderLast": ListOf(STRING)}),
    }),
    "resources": ListOf(STRING),
    "components": ListOf(STRING),
    "crds": ListOf(STRING),
    "bases": ListOf(STRING),
    "configMapGenerator": ListOf(Struct("ConfigMapArgs", _GENERATOR_ARGS, frozenset(_GENERATOR_ARGS))),
    "secretGenerator": ListOf(Struct("SecretArgs", {**_GENERATOR_ARGS, "type": STRING}, frozenset(_GENERATOR_ARGS))),
    "helmGlobals": Struct("HelmGlobals", {"chartHome": STRING, "configHome": STRING}),
    "helmCharts": ListOf(_HELM_CHART),
    "helmChartInflationGenerator": ListOf(_HELM_CHART_ARGS),
    "generatorOptions": _GENERATOR_OPTIONS,
    "configurations": ListOf(STRING),
    "generators": ListOf(STRING),
    "transformers": ListOf(STRING),
    "validators": ListOf(STRING),
    "buildMetadata": ListOf(STRING),
})

_FIELD_SPECS = ListOf(_FIELD_SPEC)
#: A `configurations:` file (kustomize's `builtinconfig.TransformerConfig`), read with
#: `sigs.k8s.io/yaml.UnmarshalStrict`: unknown keys fail, numbers in string fields become strings.
TRANSFORMER_CONFIG = Struct("TransformerConfig", {
    "namePrefix": _FIELD_SPECS, "nameSuffix": _FIELD_SPECS, "namespace": _FIELD_SPECS, "commonLabels": _FIELD_SPECS,
    "labels": _FIELD_SPECS, "templateLabels": _FIELD_SPECS, "commonAnnotations": _FIELD_SPECS,
    "nameReference": ListOf(Struct("NameBackReferences", {**_GVK, "fieldSpecs": _FIELD_SPECS}, frozenset(_GVK))),
    "varReference": _FIELD_SPECS, "images": _FIELD_SPECS, "replicas": _FIELD_SPECS,
})


@dataclass(frozen=True, slots=True)
class DecodeProblem:
    #: Where, in the file's data (a key's own path for an unknown key).
    path: DataPath
    message: str
    #: Only kustomize's strict reading refuses it: Flux's lenient rewrite of the file at a Kustomization's
    #: own path drops the unknown key, or turns the scalar into a string.
    strict_only: bool
    #: Where a finding points (`BuildProblem.point`): "key" for an unknown key, "value" for a wrong type.
    point: str = "value"
    #: A number or boolean where a string belongs, which a reading that knows the field's type
    #: (sigs.k8s.io/yaml's Unmarshal and UnmarshalStrict) turns into that string.
    coerced: bool = False


def decode(data: Any, root: Struct = KUSTOMIZATION) -> list[DecodeProblem]:
    """What kustomize refuses in a kustomization file's data (read as go-yaml v2 reads it), in file order;
    `root`: TRANSFORMER_CONFIG for a `configurations:` file."""
    out: list[DecodeProblem] = []
    if not isinstance(data, dict):
        if data is not None:
            out.append(DecodeProblem((), f"kustomize expects a mapping ({root.name}), not {_shape(data)}: it "
                                         "refuses all of this file", False, point=""))
        return out
    _walk(data, root, (), out)
    for field in () if root is not KUSTOMIZATION else ("configMapGenerator", "secretGenerator"):
        key, entries = _item(data, field, null_sets=True)
        for index, entry in enumerate(entries if isinstance(entries, list) else ()):
            if entry is None or isinstance(entry, dict) and _item(entry, "name")[1] in (None, ""):
                out.append(DecodeProblem(
                    (key, index), f"{key}[{index}] has no name: kustomize refuses to generate it "
                    "(\"a configmap must have a name\")", False, point=""))
    return out


def _item(mapping: dict, field: str, *, null_sets: bool = False) -> tuple[Any, Any]:
    """(key, value) a Go field ends with from a mapping; (field, None) where no key matches it.

    The mapping reaches Go's decoder as JSON with its keys sorted, so of the keys that match the field
    (case aside) the last in that order wins; a null changes nothing, but for a list or map (`null_sets`)."""
    folded = field.casefold()
    matching = [key for key in mapping if isinstance(key, str) and key.casefold() == folded]
    if len(matching) < 2:  # nearly always: the one key, or none
        return (matching[0], mapping[matching[0]]) if matching else (field, None)
    found: tuple[Any, Any] = (field, None)
    for key in sorted(matching):  # all strings: JSON's order of keys is theirs
        if mapping[key] is not None or null_sets:
            found = (key, mapping[key])
    return found


def _null_keys(value: Any, path: DataPath, out: list[DecodeProblem]) -> None:
    """A null key anywhere fails sigs.k8s.io/yaml's conversion to JSON, strict or lenient, before any
    field is looked at (`_walk` looks for them where it goes; this, below what it does not go into)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key is None:
                out.append(_null_key(path))
            else:
                _null_keys(item, (*path, key), out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _null_keys(item, (*path, index), out)


_SHAPES = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list", dict: "a mapping"}


def _shape(value: Any) -> str:
    return _SHAPES.get(type(value), "a value")


def _null_key(path: DataPath) -> DecodeProblem:
    return DecodeProblem((*path, None), f"{format_path(path) or 'the file'}: a null key (`~:` or an empty `? `): "
                         "kustomize cannot turn it into JSON and refuses all of this file",
                         False)  # at its value, where TYP001 reports the key too


def _walk(value: Any, kind: Any, path: DataPath, out: list[DecodeProblem], coercible: bool = True) -> None:
    """`coercible`: where Flux rewrites the file, sigs.k8s.io/yaml turns a number or boolean here into the
    string its field wants. It follows the fields Go's decoder would fill, but takes an embedded struct's
    field for the struct itself (`t.Field(f.index[0])`): below one, nothing is turned."""
    if value is None:
        return  # JSON's null leaves any Go field at its zero value
    if kind == ANY:
        _null_keys(value, path, out)
        return
    if isinstance(kind, Struct):
        if not isinstance(value, dict):
            out.append(_wrong(path, value, f"a mapping ({kind.name})", False))
            return
        for key, item in value.items():
            if key is None:
                out.append(_null_key(path))
                continue
            name = kind.field(_json_key(key))
            if name is None:
                _null_keys(item, (*path, key), out)
                where = f"{format_path(path)}: " if path else ""
                out.append(DecodeProblem((*path, key), f"{where}unknown field {_json_key(key)!r}: kustomize decodes "
                                         f"this file strictly and refuses all of it{_hint(key, kind)}",
                                         True, point="key"))
            else:
                _walk(item, kind.fields[name], (*path, key), out, coercible and name not in kind.embedded)
    elif isinstance(kind, ListOf):
        if not isinstance(value, list):
            out.append(_wrong(path, value, "a list", False))
            return
        for index, item in enumerate(value):
            _walk(item, kind.item, (*path, index), out, coercible)
    elif isinstance(kind, MapOf):
        if not isinstance(value, dict):
            out.append(_wrong(path, value, "a mapping", False))
            return
        for key, item in value.items():
            if key is None:
                out.append(_null_key(path))
            else:
                _walk(item, kind.value, (*path, key), out, coercible)
    elif kind == STRING:
        if isinstance(value, (bool, int, float)):
            problem = _wrong(path, value, "a string", coercible, quote=True)
            out.append(replace(problem, coerced=coercible) if coercible else problem)
        elif not isinstance(value, str):
            out.append(_wrong(path, value, "a string", False))
    elif kind == INTEGER:
        if isinstance(value, bool) or not (isinstance(value, int) or isinstance(value, float) and value.is_integer()):
            out.append(_wrong(path, value, "an integer", False))
        elif not -(2**63) <= value < 2**63:
            out.append(DecodeProblem(path, f"{format_path(path)}: {value!r} does not fit kustomize's 64-bit integer: "
                                           "it refuses all of this file", False))
    elif kind == BOOLEAN and not isinstance(value, bool):
        out.append(_wrong(path, value, "a boolean (true or false)", False))


def _wrong(path: DataPath, value: Any, wanted: str, strict_only: bool, quote: bool = False) -> DecodeProblem:
    hint = " (quote it)" if quote else ""
    where = format_path(path) or "the file"
    return DecodeProblem(path, f"{where}: kustomize expects {wanted}, not {_shape(value)}{hint}: it refuses all "
                               "of this file", strict_only)


def _json_key(key: Any) -> str:
    """A mapping key as sigs.k8s.io/yaml writes it into JSON (`true`, `5`)."""
    if isinstance(key, bool):
        return "true" if key else "false"
    return key if isinstance(key, str) else str(key)


def _hint(key: Any, kind: Struct) -> str:
    import difflib

    close = difflib.get_close_matches(_json_key(key), list(kind.fields), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""
