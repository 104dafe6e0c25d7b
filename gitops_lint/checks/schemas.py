"""Validation against the Flux CRDs of the target release and against the GitLab agent config schema."""

from __future__ import annotations

import difflib
from typing import Iterator

from gitops_lint.checks import Context, at
from gitops_lint.diagnostics import Finding
from gitops_lint.model.agent import AgentConfig
from gitops_lint.model.kubernetes import KubernetesObject

DEFAULT_FLUX_RELEASE = "2.9"


def flux_release(ctx: Context) -> str:
    return str(ctx.settings.get("flux_version") or DEFAULT_FLUX_RELEASE)


def _release_key(release: str) -> tuple[int, ...]:
    return tuple(int(p) for p in release.split(".") if p.isdigit())


def _validator(ctx: Context, schema: dict, closed: bool = False):
    """One SchemaValidator per schema for the whole run (jsonschema compiles lazily and keeps it)."""
    from gitops_lint.schema import SchemaValidator

    cache = ctx.memo.setdefault("schema-validators", {})
    key = (id(schema), closed)
    if key not in cache:
        cache[key] = SchemaValidator(schema, closed=closed)
    return cache[key]


def _flux_objects(ctx: Context) -> Iterator[KubernetesObject]:
    from gitops_lint.schema_index import flux_kinds

    kinds = flux_kinds()
    patches = ctx.model.patch_files
    for obj in ctx.model.of_type(KubernetesObject):
        if (obj.group, obj.kind) in kinds and obj.path not in patches:
            yield obj


def _violations(ctx: Context):
    """(object, violation) for every served Flux object, computed once for the four schema rules."""
    memo = ctx.memo
    if "flux-violations" in memo:
        return memo["flux-violations"]
    from gitops_lint.schema_index import flux_schema

    release = flux_release(ctx)
    typed = {}
    for problem in ctx.model.problems:
        typed.setdefault(id(problem.doc), set()).add(problem.path)
    patched = patched_fields(ctx)
    out = []
    for obj in _flux_objects(ctx):
        schema = flux_schema(release, obj.group, obj.kind or "", obj.version)
        if schema is None:
            continue  # not served by this release: the api-version rules speak
        validator = _validator(ctx, schema)
        for violation in validator.violations(obj.doc.data, skip_types=frozenset(typed.get(id(obj.doc), ()))):
            if violation.missing and violation.path + (violation.missing,) in patched.get(obj.kind or "", ()):
                continue  # a patch in the repository sets it before the object reaches the API server
            out.append((obj, violation))
    memo["flux-violations"] = out
    return out


def patched_fields(ctx: Context) -> dict[str, set[tuple]]:
    """Fields that patches in the repository set on every object of a kind.

    Home-lab and fleet repositories often leave `interval` or `prune` out of
    each Kustomization and add them with one patch in a parent (a Flux
    Kustomization's `spec.patches`, or a kustomize `patches` entry). A field a
    patch sets is not missing.
    """
    import yaml

    from gitops_lint.graph import join_path
    from gitops_lint.model.flux.kustomize import Kustomization
    from gitops_lint.model.kustomize import KustomizeFile

    texts: list[tuple[str | None, str]] = []  # (target kind, patch text)
    for ks in ctx.model.of_type(Kustomization):
        for patch in ks.spec.patches:
            if isinstance(patch.patch, str):
                texts.append((patch.target.kind if patch.target else None, patch.patch))
    by_rel = {f.rel: f for f in ctx.files}
    for kustomize in ctx.model.of_type(KustomizeFile):
        folder = kustomize.path.rpartition("/")[0]
        for patch in kustomize.patches:
            target = patch.target.get("kind") if isinstance(patch.target, dict) else getattr(patch.target, "kind", None)
            if isinstance(patch.patch, str):
                texts.append((target, patch.patch))
            elif isinstance(patch.path, str) and (rel := join_path(folder, patch.path)) in by_rel:
                texts.append((target, by_rel[rel].text))
    patched: dict[str, set[tuple]] = {}
    for kind, text in texts:
        try:
            documents = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
        except yaml.YAMLError:
            continue
        for document in documents:
            own_kind = kind or (document.get("kind") if isinstance(document, dict) else None)
            if not own_kind:
                continue
            patched.setdefault(own_kind, set()).update(_leaf_paths(document))
    return patched


def _leaf_paths(document) -> set[tuple]:
    """Paths a strategic-merge patch (a mapping) or a JSON6902 patch (a list of ops) sets."""
    out: set[tuple] = set()
    if isinstance(document, list):
        for op in document:
            if isinstance(op, dict) and op.get("op") in ("add", "replace") and isinstance(op.get("path"), str):
                parts = tuple(p for p in op["path"].split("/") if p)
                out.update(parts[:i] for i in range(1, len(parts) + 1))
    elif isinstance(document, dict):
        stack = [((), document)]
        while stack:
            prefix, node = stack.pop()
            for key, value in node.items():
                out.add(prefix + (key,))
                if isinstance(value, dict):
                    stack.append((prefix + (key,), value))
    return out


def flux_schema_violations(ctx: Context, kind: str) -> Iterator[Finding]:
    """Violations of one kind (`schema`, `unknown-field`, `misspelled-field`, `cel`): one rule each."""
    for obj, violation in _violations(ctx):
        if violation.kind == kind:
            yield at(obj, violation.path, violation.message, key=violation.at_key)


def api_version_deprecated(ctx: Context) -> Iterator[Finding]:
    from gitops_lint.schema_index import flux_index, flux_versions, lifecycle

    release = flux_release(ctx)
    for obj in _flux_objects(ctx):
        info = flux_versions(release, obj.group, obj.kind or "").get(obj.version)
        if not info or not info.get("served") or not info.get("deprecated"):
            continue
        storage = (flux_index(release).get(f"{obj.group}/{obj.kind}") or {}).get("storage_version")
        removed = lifecycle(obj.group, obj.kind or "", obj.version).get("removed_in")
        when = f", and Flux {removed} no longer serves it" if removed else ""
        yield at(obj, ("apiVersion",), (
            f"{obj.apiVersion} is deprecated in Flux {release}{when}: use {obj.group}/{storage}"))


def api_version_not_served(ctx: Context) -> Iterator[Finding]:
    from gitops_lint.schema_index import flux_index, flux_schema, flux_versions, lifecycle

    release = flux_release(ctx)
    for obj in _flux_objects(ctx):
        kind = obj.kind or ""
        versions = flux_versions(release, obj.group, kind)
        info = versions.get(obj.version)
        if info and info.get("served"):
            continue
        storage = (flux_index(release).get(f"{obj.group}/{kind}") or {}).get("storage_version")
        history = lifecycle(obj.group, kind, obj.version)
        if history.get("first_served") and _release_key(history["first_served"]) > _release_key(release):
            yield at(obj, ("apiVersion",), (
                f"{obj.apiVersion} {kind} arrives only in Flux {history['first_served']}; the target is Flux "
                f"{release} (--flux-version)"))
            continue
        if not history:
            known = sorted(versions)
            close = difflib.get_close_matches(obj.version, known, n=1)
            hint = f" (did you mean {obj.group}/{close[0]}?)" if close else ""
            yield at(obj, ("apiVersion",), (
                f"{obj.apiVersion} is no version of {kind}; Flux {release} serves "
                f"{', '.join(f'{obj.group}/{v}' for v in known if versions[v].get('served'))}{hint}"))
            continue
        removed = history.get("removed_in") or (info or {}).get("removed_in")
        message = (f"{obj.apiVersion} {kind} is not served by Flux {release}"
                   f"{f' (removed in {removed})' if removed else ''}: the API server refuses it; "
                   f"use {obj.group}/{storage}")
        target = flux_schema(release, obj.group, kind, storage) if storage else None
        if target is not None:
            from gitops_lint.schema import MISSPELLED, UNKNOWN

            gone = [v for v in _validator(ctx, target).violations(obj.doc.data) if v.kind in (UNKNOWN, MISSPELLED)]
            if gone:
                fields = ", ".join(sorted({".".join(str(p) for p in v.path) for v in gone}))
                message += f", and change what {storage} no longer has: {fields}"
        yield at(obj, ("apiVersion",), message)


def agent_config_schema(ctx: Context) -> Iterator[Finding]:
    """The agent config as GitLab's server parses it: unknown or removed keys, types, enums, durations, oneofs."""
    from gitops_lint.checks.agent import gitlab_version
    from gitops_lint.schema_index import agent_config_schema as load_schema

    schema = load_schema()
    if not schema:
        return
    validator = _validator(ctx, schema, closed=True)
    version = gitlab_version(ctx)
    typed = {}
    for problem in ctx.model.problems:
        typed.setdefault(id(problem.doc), set()).add(problem.path)
    for agent in ctx.model.of_type(AgentConfig):
        skip = frozenset(typed.get(id(agent.doc), ()))
        for violation in validator.violations(agent.doc.data, skip_types=skip, gitlab_version=version):
            yield at(agent, violation.path, violation.message, key=violation.at_key)
