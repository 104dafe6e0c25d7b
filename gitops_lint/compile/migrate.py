"""apiVersion migration of Flux objects to a release's storage version.

An object moves to the storage version of the target Flux release when it is
older (by Kubernetes' version priority) and its fields say the same thing
there: checked by validating it against both schemas and looking for what only
the new one objects to (a field the new version removed, a value it no longer
accepts). Problems the object already had under its own version are no
blockers; the linter reports those.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from gitops_lint.schema import MISSPELLED, UNKNOWN, SchemaValidator, Violation
from gitops_lint.schema_index import flux_index, flux_releases, flux_schema
from gitops_lint.yaml.positions import DataPath, format_path

_VERSION_RE = re.compile(r"^v([0-9]+)(?:(alpha|beta)([0-9]+))?$")


def version_priority(version: str) -> tuple[int, int, int] | None:
    """Kubernetes' version priority as a sortable key (v1 > v1beta2 > v1beta1 > v1alpha1); None if not a version."""
    match = _VERSION_RE.match(version)
    if match is None:
        return None
    stage = {"alpha": 0, "beta": 1, None: 2}[match.group(2)]
    return (stage, int(match.group(1)), int(match.group(3) or 0))


@dataclass(slots=True)
class Migration:
    """What to do with one Flux object."""

    #: The apiVersion to write (the object's own when it cannot or need not move).
    api_version: str
    #: The schema the written object follows (for durations and defaults); None when unknown.
    schema: dict | None
    #: Why the object could not move: (path of the field, reason).
    blockers: list[tuple[DataPath, str]] = field(default_factory=list)
    #: The version it should have moved to, when blocked.
    target: str | None = None


@lru_cache(maxsize=None)
def _validator(release: str, group: str, kind: str, version: str) -> SchemaValidator | None:
    schema = flux_schema(release, group, kind, version)
    return SchemaValidator(schema) if schema is not None else None


@lru_cache(maxsize=None)
def _newest_release_serving(group: str, kind: str, version: str) -> str | None:
    for release in reversed(flux_releases()):
        if flux_schema(release, group, kind, version) is not None:
            return release
    return None


def plan(data: dict, group: str, kind: str, version: str, release: str) -> Migration:
    """The apiVersion and schema for a Flux object of `group/version` `kind` under Flux `release`."""
    own = f"{group}/{version}"
    entry = flux_index(release).get(f"{group}/{kind}") or {}
    storage = entry.get("storage_version")
    served_here = flux_schema(release, group, kind, version) is not None
    source_release = release if served_here else _newest_release_serving(group, kind, version)
    source = _validator(source_release, group, kind, version) if source_release else None
    source_schema = source.schema if source else None
    ours, theirs = version_priority(version), version_priority(storage) if storage else None
    if not storage or version == storage or ours is None or theirs is None or ours >= theirs:
        return Migration(own, source_schema)
    target = _validator(release, group, kind, storage)
    if target is None:
        return Migration(own, source_schema)
    if source is None:
        reason = f"apiVersion {own} is not a version any supported Flux release served"
        return Migration(own, None, [(("apiVersion",), reason)], storage)
    moved = {**data, "apiVersion": f"{group}/{storage}"}
    before = {_key(v) for v in source.violations(data)}
    blockers = [(v.path, _reason(v, storage)) for v in target.violations(moved) if _key(v) not in before]
    if blockers:
        return Migration(own, source_schema, blockers, storage)
    return Migration(f"{group}/{storage}", target.schema)


def _key(violation: Violation) -> tuple:
    return (violation.kind, violation.path, violation.message)


def _reason(violation: Violation, storage: str) -> str:
    if violation.kind in (UNKNOWN, MISSPELLED):
        return f"{format_path(violation.path)} does not exist in {storage}"
    return violation.message
