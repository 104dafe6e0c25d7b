"""The typed Flux models cannot drift from the generated CRD schemas.

Every field a typed model declares, at any depth, must exist in the schema
of that kind in some release and version that `schemas/` ships (the models keep
removed fields on purpose, so the union over releases is the reference), and a
scalar type the model insists on (bool, int, str) must be what the schema says.
"""

from __future__ import annotations

import types
import typing

import pytest

from gitops_lint.model.base import Model as BaseModel
from gitops_lint.model.flux import FLUX_KINDS
from gitops_lint.schema_index import flux_releases, flux_schema, flux_versions

_SCALARS = {bool: "boolean", int: "integer", str: "string"}


def _schemas(group: str, kind: str) -> list[dict]:
    found = []
    for release in flux_releases():
        for version in flux_versions(release, group, kind):
            schema = flux_schema(release, group, kind, version)
            if schema:
                found.append(schema)
    return found


def _members(annotation) -> list:
    """The types inside Optional/Union/list/dict annotations, with how each nests ("", "items", "values")."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _members(arg)]
    if origin is list:
        return [("items", arg) for arg in typing.get_args(annotation)[:1]]
    if origin is dict:
        return [("values", arg) for arg in typing.get_args(annotation)[1:2]]
    return [("", annotation)]


def _step(schemas: list[dict], how: str) -> list[dict]:
    out = []
    for schema in schemas:
        if how == "items" and isinstance(schema.get("items"), dict):
            out.append(schema["items"])
        elif how == "values" and isinstance(schema.get("additionalProperties"), dict):
            out.append(schema["additionalProperties"])
        elif how == "":
            out.append(schema)
    return out


def _drift(model: type[BaseModel], schemas: list[dict], where: str) -> list[str]:
    problems = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        subs = [s["properties"][key] for s in schemas if key in (s.get("properties") or {})]
        if not subs:
            problems.append(f"{where}.{key}: in no schema of any release")
            continue
        for how, member in _members(info.annotation):
            nested = _step(subs, how)
            if isinstance(member, type) and issubclass(member, BaseModel):
                if nested and any("properties" in s for s in nested):
                    problems += _drift(member, [s for s in nested if "properties" in s], f"{where}.{key}")
            elif member in _SCALARS and nested and how == "":
                types_seen = {s.get("type") for s in nested if s.get("type")}
                if types_seen and _SCALARS[member] not in types_seen and not (member is int and "number" in types_seen):
                    problems.append(f"{where}.{key}: the model says {member.__name__}, the schemas {sorted(types_seen)}")
    return problems


@pytest.mark.parametrize("model", FLUX_KINDS, ids=lambda m: m.__name__)
def test_flux_model_matches_its_schemas(model) -> None:
    spec = model.model_fields.get("spec")
    assert spec is not None
    from gitops_lint.model import MODELLED_KINDS

    problems = []
    for group, kind in [key for key, module in MODELLED_KINDS.items() if (module, key[1]) == (model.__module__,
                                                                                              model.__name__)]:
        schemas = [s["properties"]["spec"] for s in _schemas(group, kind) if "spec" in (s.get("properties") or {})]
        assert schemas, f"no schema for {group}/{kind}"
        for how, member in _members(spec.annotation):
            if isinstance(member, type) and issubclass(member, BaseModel):
                problems += _drift(member, schemas, f"{kind}.spec")
    assert not problems, "\n".join(problems)


def test_the_drift_check_finds_invented_fields_and_wrong_types() -> None:
    class Nested(BaseModel):
        branch: int | None = None

    class Spec(BaseModel):
        interval: str | None = None
        invented: str | None = None
        ref: Nested | None = None

    schemas = [s["properties"]["spec"] for s in _schemas("source.toolkit.fluxcd.io", "GitRepository")]
    problems = _drift(Spec, schemas, "GitRepository.spec")
    assert "GitRepository.spec.invented: in no schema of any release" in problems
    assert any(p.startswith("GitRepository.spec.ref.branch: the model says int") for p in problems)
    assert not any(".interval" in p for p in problems)
