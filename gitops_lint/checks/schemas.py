"""Validation against the Flux CRDs of the target release and against the GitLab agent config schema."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Iterator

from gitops_lint.checks import Context, at
from gitops_lint.checks.loading import scalar_fix
from gitops_lint.diagnostics import Finding, Severity
from gitops_lint.schema_index import newest_flux_release
from gitops_lint.view.version import release_key
from gitops_lint.model.kubernetes import KubernetesObject
from gitops_lint.yaml.positions import value_at

if TYPE_CHECKING:
    from gitops_lint.view.version import FluxVersion

def flux_version(ctx: Context, path: str | None = None) -> "FluxVersion":
    """The Flux version that judges the file `path` (the repository-wide one without a path).

    `ctx.settings.flux_versions` (see `view.version`) knows each cluster's declared version;
    a context built without it falls back to `settings.flux_version`, else the newest release.
    """
    from gitops_lint.view.version import CLI, DEFAULT, FluxVersion

    versions = ctx.settings.flux_versions
    if versions is not None:
        if path is None:
            return versions.repository
        version = versions.for_path(path)
        if version is versions.repository and versions.clusters and ctx.view.active:
            # In no cluster's folder (`apps/old/`): the release of the clusters that apply it, where they agree.
            return _by_applying_clusters(ctx, versions).get(path, version)
        return version
    given = ctx.settings.flux_version
    return FluxVersion(str(given), str(given), CLI) if given else FluxVersion(
        newest_flux_release(), newest_flux_release(), DEFAULT)


def _by_applying_clusters(ctx: Context, versions: Any) -> dict[str, Any]:
    """File -> the Flux version of the clusters whose Kustomizations apply it, for files all of whose
    clusters run one release (a file two releases apply is judged by the repository's). Computed once."""
    if ctx.file_flux_versions is None:
        of_cluster = {cluster: versions.for_path(f"{folder}/") for cluster, folder in ctx.view.cluster_names.items()}
        found: dict[str, set] = {}
        for applied in ctx.view.applied:
            version = of_cluster.get(applied.cluster)
            for rel in applied.files:
                found.setdefault(rel, set()).add(version)
        ctx.file_flux_versions = {rel: next(iter(v)) for rel, v in found.items()
                                  if None not in v and len({x.release for x in v}) == 1}
    return ctx.file_flux_versions


def flux_release(ctx: Context, path: str | None = None) -> str:
    """The release (e.g. "2.6") whose schemas judge the file `path` (the repository-wide one without a path)."""
    return flux_version(ctx, path).release


def _validator(ctx: Context, schema: dict, closed: bool = False):
    """One SchemaValidator per schema for the whole run (jsonschema compiles lazily and keeps it)."""
    from gitops_lint.schema import SchemaValidator

    cache = ctx.schema_validators
    key = (id(schema), closed)
    if key not in cache:
        cache[key] = SchemaValidator(schema, closed=closed)
    return cache[key]


def _flux_objects(ctx: Context) -> Iterator[KubernetesObject]:
    from gitops_lint.schema_index import flux_kinds

    kinds = flux_kinds()
    patches = ctx.model.patch_files
    for obj in ctx.judged(KubernetesObject):
        if (obj.group, obj.kind) in kinds and obj.path not in patches:
            yield obj


def _violations(ctx: Context):
    """(object, violation) for every served Flux object, computed once for the four schema rules."""
    judging = ctx.judging_applied  # what `_flux_objects` judges depends on it: so does what is kept
    if ctx.flux_violations is not None and ctx.flux_violations[0] == judging:
        return ctx.flux_violations[1]
    from gitops_lint.schema_index import flux_schema
    from gitops_lint.view.version import uses_flux_operator

    typed = {}
    for problem in ctx.model.problems:
        typed.setdefault(id(problem.doc), set()).add(problem.path)
    patched = None  # read only when a required field is missing: most runs never need it
    operator = uses_flux_operator(ctx.model)
    out = []
    for obj in _flux_objects(ctx):
        schema = flux_schema(flux_release(ctx, obj.path), obj.group, obj.kind or "", obj.version)
        if schema is None:
            continue  # not served by this release: the api-version rules speak
        if operator and (obj.group, obj.kind) in _OPERATOR_KIND_FIELDS:
            schema = _with_operator_kinds(ctx, schema, obj.kind or "")
        validator = _validator(ctx, schema)
        skip_types = frozenset(typed.get(id(obj.doc), ()))  # the typed model reported these (TYP001)
        # What the API server gets: each copy Flux applies (a cluster overlay's patch, a parent's
        # spec.patches, post-build values), reported where the object is written.
        for applied in ctx.copies_of(obj):
            data = ctx.applied_data(applied)
            # a copy as written holds a `${...}` only where its file does
            literal = ctx.literal_reason(obj, applied) if applied is not obj or "${" in obj.doc.file.text else None
            for violation in validator.violations(data, skip_types=skip_types, literal=literal is not None):
                if literal is not None and "${" in str(value_at(data, violation.path)):
                    violation = replace(violation, message=f"{violation.message} ({literal})", repair=None)
                if violation.missing and not (ctx.view.active and obj.path in ctx.view.applied_files):
                    patched = patched_fields(ctx) if patched is None else patched
                    if violation.path + (violation.missing,) in patched.get(obj.kind or "", ()):
                        continue  # a patch in the repository sets it before the object reaches the API server
                if ctx.changed_on_the_way(applied, obj, violation.path):
                    # the value is the copy's: say what brought it, and repair nothing in this file
                    violation = replace(violation, message=violation.message + ctx.applied_note(applied, obj, violation.path),
                                        repair=None)
                out.append((obj, _explain_operator_kind(obj, violation)))
    ctx.flux_violations = (judging, out)
    return out


#: Where Alerts and Receivers name the kinds of other objects: the Flux Operator adds its own kinds there.
_OPERATOR_KIND_FIELDS = {
    ("notification.toolkit.fluxcd.io", "Alert"): "eventSources",
    ("notification.toolkit.fluxcd.io", "Receiver"): "resources",
}


def _with_operator_kinds(ctx: Context, schema: dict, kind: str) -> dict:
    """A copy of an Alert or Receiver schema whose `kind` enum (eventSources, resources) also lists the
    Flux Operator's kinds (FluxInstance, ResourceSet, ...): the CRDs the operator installs accept them."""
    import copy

    from gitops_lint.view.version import OPERATOR_KINDS

    cache = ctx.operator_schemas
    if id(schema) not in cache:
        patched = copy.deepcopy(schema)
        field = _OPERATOR_KIND_FIELDS[("notification.toolkit.fluxcd.io", kind)]
        node = patched
        for key in ("properties", "spec", "properties", field, "items", "properties", "kind"):
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(node.get("enum"), list):
            node["enum"] = [*node["enum"], *(k for k in OPERATOR_KINDS if k not in node["enum"])]
        cache[id(schema)] = (schema, patched)  # the original is kept alive: its id stays unique
    return cache[id(schema)][1]


def _explain_operator_kind(obj: KubernetesObject, violation):
    """An operator kind refused where no Flux Operator is installed: say why it is valid elsewhere."""
    from gitops_lint.view.version import OPERATOR_KINDS

    field = _OPERATOR_KIND_FIELDS.get((obj.group, obj.kind))
    path = violation.path
    if (field and len(path) == 4 and path[:2] == ("spec", field) and isinstance(path[2], int)
            and path[3] == "kind" and isinstance(obj.doc.data, dict)):
        items = (obj.doc.data.get("spec") or {}).get(field)
        value = items[path[2]].get("kind") if isinstance(items, list) and len(items) > path[2] and isinstance(
            items[path[2]], dict) else None
        if value in OPERATOR_KINDS:
            return replace(violation, message=(
                f"{violation.message} ({value} is a Flux Operator kind: the Flux Operator's CRDs accept it, "
                "and this repository installs no Flux Operator)"))
    return violation


def patched_fields(ctx: Context) -> dict[str, set[tuple]]:
    """Fields that patches in the repository set on every object of a kind.

    Home-lab and fleet repositories often leave `interval` or `prune` out of
    each Kustomization and add them with one patch in a parent (a Flux
    Kustomization's `spec.patches`, or a kustomize `patches` entry). Where
    Flux's view applies the object, its copy holds what the patches set; for
    objects it does not apply, a field some patch sets on the kind is given
    the benefit of the doubt.
    """
    from gitops_lint.model.kustomize import repository_patches

    patched: dict[str, set[tuple]] = {}
    for kind, document in repository_patches(ctx.model, ctx.files, ctx.read if ctx.settings.root else None):
        own_kind = kind or (document.get("kind") if isinstance(document, dict) else None)
        if own_kind:
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
            yield _with_repair(obj, violation)


def _with_repair(obj, violation) -> Finding:
    """The violation as a finding on `obj`, fixed by its repair (the value it meant) when it has one."""
    finding = at(obj, violation.path, violation.message, key=violation.at_key)
    if violation.repair is not None:
        finding.fix = scalar_fix(obj.doc, finding.span, violation.repair)
    return finding


def _source_note(version: "FluxVersion") -> str:
    """` (Flux 2.6: v2.6.0 in clusters/staging/flux-system/gotk-components.yaml:3 (# Flux Version header))`."""
    return f" (Flux {version.release}: {version.describe})"


def _gone_fields(ctx: Context, obj: KubernetesObject, release: str, target: str | None) -> str:
    """`, and change what v1 no longer has: spec.validation` when `target` lacks fields the object sets."""
    from gitops_lint.schema import MISSPELLED, UNKNOWN
    from gitops_lint.schema_index import flux_schema

    schema = flux_schema(release, obj.group, obj.kind or "", target) if target else None
    if schema is None:
        return ""
    gone = [v for v in _validator(ctx, schema).violations(obj.doc.data) if v.kind in (UNKNOWN, MISSPELLED)]
    if not gone:
        return ""
    fields = ", ".join(sorted({".".join(str(p) for p in v.path) for v in gone}))
    return f", and change what {target} no longer has: {fields}"


def api_version_deprecated(ctx: Context) -> Iterator[Finding]:
    """Served by the repository's own Flux release, but deprecated there or removed by a later release.

    The storage version of that release is left alone even when a later release removes it: there
    is nothing to move to before upgrading (the upgrade itself is judged when the version changes).
    """
    from gitops_lint.schema_index import flux_index, flux_versions, lifecycle

    for obj in _flux_objects(ctx):
        version = flux_version(ctx, obj.path)
        release, kind = version.release, obj.kind or ""
        info = flux_versions(release, obj.group, kind).get(obj.version)
        if not info or not info.get("served"):
            continue
        storage = (flux_index(release).get(f"{obj.group}/{kind}") or {}).get("storage_version")
        removed = lifecycle(obj.group, kind, obj.version).get("removed_in")
        if not info.get("deprecated") and not (removed and storage and obj.version != storage):
            continue
        state = "is deprecated in" if info.get("deprecated") else "is served by"
        when = f", and Flux {removed} no longer serves it" if removed else ""
        advice = f"use {obj.group}/{storage}" if storage else "move to a newer version"
        if storage and version.predates_release:
            advice += f" (after upgrading from Flux {version.declared}, which may not serve it yet)"
        yield at(obj, ("apiVersion",), (
            f"{obj.apiVersion} {kind} {state} Flux {release}{when}: {advice}"
            f"{_gone_fields(ctx, obj, release, storage)}{_source_note(version)}"))


def api_version_not_served(ctx: Context) -> Iterator[Finding]:
    """Not served by the repository's own Flux release: removed before it, newer than it, or no version at all."""
    from gitops_lint.schema_index import flux_index, flux_versions, lifecycle
    from gitops_lint.view.version import DEFAULT

    for obj in _flux_objects(ctx):
        version = flux_version(ctx, obj.path)
        release, kind = version.release, obj.kind or ""
        versions = flux_versions(release, obj.group, kind)
        info = versions.get(obj.version)
        if info and info.get("served"):
            continue
        note = _source_note(version)
        storage = (flux_index(release).get(f"{obj.group}/{kind}") or {}).get("storage_version")
        history = lifecycle(obj.group, kind, obj.version)
        if history.get("first_served") and release_key(history["first_served"]) > release_key(release):
            yield at(obj, ("apiVersion",), (
                f"{obj.apiVersion} {kind} arrives only in Flux {history['first_served']}; the target is Flux "
                f"{release}{note}"))
            continue
        if not history:
            known = sorted(versions)
            import difflib  # only for a version no release knows

            close = difflib.get_close_matches(obj.version, known, n=1)
            hint = f" (did you mean {obj.group}/{close[0]}?)" if close else ""
            yield at(obj, ("apiVersion",), (
                f"{obj.apiVersion} is no version of {kind}; Flux {release} serves "
                f"{', '.join(f'{obj.group}/{v}' for v in known if versions[v].get('served'))}{hint}{note}"))
            continue
        removed = history.get("removed_in") or (info or {}).get("removed_in")
        guessed = version.source == DEFAULT
        refuses = (f"a cluster on Flux {removed or release} or later refuses it" if guessed
                   else "the API server refuses it")
        finding = at(obj, ("apiVersion",), (
            f"{obj.apiVersion} {kind} is not served by Flux {release}"
            f"{f' (removed in {removed})' if removed else ''}: {refuses}; "
            f"use {obj.group}/{storage}{_gone_fields(ctx, obj, release, storage)}{note}"))
        if guessed:
            # No Flux version is declared: the cluster may run an older Flux that serves it (the repository
            # may reconcile fine), so this is a warning until a version is declared.
            finding.severity = Severity.WARNING
        yield finding


def fix_deprecated_version(ctx: Context, findings: list[Finding]) -> None:
    """The fixer of SCH005: the move to the storage version, unless the repository declares an older Flux
    than it is judged by (the move may not be served there yet)."""
    _fix_migrations(ctx, findings, skip_older_declared=True)


def fix_unserved_version(ctx: Context, findings: list[Finding]) -> None:
    """The fixer of SCH006: the move to the storage version of the release the object is judged by."""
    _fix_migrations(ctx, findings, skip_older_declared=False)


def _fix_migrations(ctx: Context, findings: list[Finding], skip_older_declared: bool) -> None:
    from gitops_lint.schema_index import flux_index

    # Only the objects of files with a finding are located: locating parses a file again for its positions.
    paths = {finding.path for finding in findings}
    at_api_version = {(obj.path, obj.locate(("apiVersion",))): obj for obj in _flux_objects(ctx) if obj.path in paths}
    for finding in findings:
        obj = at_api_version.get((finding.path, finding.span))
        if obj is None:
            continue
        version = flux_version(ctx, obj.path)
        if skip_older_declared and version.predates_release:
            continue
        storage = (flux_index(version.release).get(f"{obj.group}/{obj.kind or ''}") or {}).get("storage_version")
        finding.fix = _migration_fix(ctx, obj, version.release, storage)


def _migration_fix(ctx: Context, obj, release: str, storage: str | None):
    """The object moved to the release's storage version. When it says the same there as written, only
    the apiVersion changes; otherwise the fields the storage version renamed or dropped move too
    (`checks.migrations`). Either way the moved object may have no problem its own version did not
    have (those stay for their own rules to report, and fix, in the next pass)."""
    from gitops_lint.checks.migrations import as_fix, move_fields
    from gitops_lint.schema_index import flux_schema

    if not storage or storage == obj.version or not isinstance(obj.doc.data, dict):
        return None
    schema = flux_schema(release, obj.group, obj.kind or "", storage)
    target = f"{obj.group}/{storage}"
    if schema is None:
        return None
    validator = _validator(ctx, schema)
    before = _own_problems(ctx, obj)
    if not _new_problems(validator.violations({**obj.doc.data, "apiVersion": target}), before):
        return scalar_fix(obj.doc, obj.locate(("apiVersion",)), target)
    spec = obj.doc.data.get("spec")
    json6902 = isinstance(spec, dict) and bool(spec.get("patchesJson6902"))  # the build is looked at only then
    moved = move_fields(obj.doc, target,
                        json6902_in_place=not json6902 or _no_transformers_before_json6902(ctx, obj))
    if moved is None or _new_problems(validator.violations(moved.data), before):
        return None
    return as_fix(obj.doc, moved)


#: kustomize transformers that run after `patches` and before JSON 6902 patches, and the kustomization keys
#: (Flux's spec or the path's kustomization file) that set them up.
_BETWEEN_PATCHES = ("targetNamespace", "namespace", "namePrefix", "nameSuffix", "commonMetadata", "commonLabels",
                    "labels", "commonAnnotations", "components", "transformers")


def _no_transformers_before_json6902(ctx: Context, obj) -> bool:
    """Whether a Flux Kustomization's JSON 6902 patches would do the same as `patches`: none of the
    transformers between the two runs in its build (a HelmRelease's post-renderer has none of them)."""
    from gitops_lint.model.kustomize import KustomizeFile

    if obj.kind != "Kustomization":
        return True
    spec = obj.doc.data.get("spec")
    if not isinstance(spec, dict) or any(spec.get(key) for key in _BETWEEN_PATCHES):
        return False
    view = ctx.view
    if view.active:
        folders = {a.folder for a in view.applied if a.kustomization.origin is obj}
    else:  # no entry point: the path read in this repository, where it exists here
        from gitops_lint.view.kustomize import join_path

        folder = join_path(ctx.settings.source_root, str(spec.get("path") or "./").strip(), clamp=True,
                           floor=ctx.settings.source_root) or ""
        here = any(f.rel.startswith(folder + "/") for f in ctx.files) if folder else bool(ctx.files)
        folders = {folder} if here else set()
    if not folders or None in folders:
        return False  # where the path leads is not known: no telling what its kustomization does
    for kustomize in ctx.model.of_type(KustomizeFile):
        if kustomize.path.rpartition("/")[0] in folders and isinstance(kustomize.doc.data, dict) and any(
                kustomize.doc.data.get(key) for key in _BETWEEN_PATCHES):
            return False
    return True


def _own_problems(ctx: Context, obj) -> set[tuple]:
    """(kind, path) of what the object's own schema objects to, under the newest release serving it."""
    from gitops_lint.schema_index import flux_releases, flux_schema

    for release in reversed(flux_releases()):
        schema = flux_schema(release, obj.group, obj.kind or "", obj.version)
        if schema is not None:
            return {(v.kind, v.path) for v in _validator(ctx, schema).violations(obj.doc.data)}
    return set()


def _new_problems(violations, before: set[tuple]) -> list:
    return [v for v in violations if (v.kind, v.path) not in before]


def agent_config_schema(ctx: Context) -> Iterator[Finding]:
    """The agent config as GitLab's server parses it: unknown or removed keys, types, enums, durations, oneofs."""
    from gitops_lint.checks.agent import gitlab_version
    from gitops_lint.schema_index import agent_config_schema as load_schema

    agents = list(ctx.model.of_type("AgentConfig"))
    if not agents:
        return  # nothing to validate: no schema read, no validator built
    schema = load_schema()
    if not schema:
        return
    validator = _validator(ctx, schema, closed=True)
    version = gitlab_version(ctx)
    typed = {}
    for problem in ctx.model.problems:
        typed.setdefault(id(problem.doc), set()).add(problem.path)
    for agent in agents:
        skip = frozenset(typed.get(id(agent.doc), ()))
        data, emptied = _as_gitlab_reads(schema, agent.doc.data, ())
        violations = validator.violations(data, skip_types=skip, gitlab_version=version)
        for violation in violations:
            if violation.path in emptied:  # point at the key: there may be no value to underline
                yield at(agent, violation.path, violation.message + " (a key without a value, or null, is empty "
                         "for GitLab)", key=True)
            else:
                yield _with_repair(agent, violation)
        yield from _agent_config_limits(agent)


#: kas's default `agent.configuration.max_configuration_file_size` (domain reference §A.1).
MAX_AGENT_CONFIG_BYTES = 131_072


def _agent_config_limits(agent) -> Iterator[Finding]:
    """What kas refuses beyond the schema: a file over its size limit, a container scanning cadence that is no
    standard cron spec ("cadence is invalid")."""
    from gitops_lint.cron import cron_problem

    size = len(agent.doc.file.text.encode("utf-8"))
    if size > MAX_AGENT_CONFIG_BYTES:
        yield at(agent, (), (f"the agent config is {size:,} bytes: GitLab's agent server refuses a configuration "
                             f"file over {MAX_AGENT_CONFIG_BYTES:,} bytes (128 KiB, its default limit)"))
    scanning = agent.container_scanning
    cadence = scanning.cadence if scanning is not None else None
    if isinstance(cadence, str) and cadence and (problem := cron_problem(cadence)):
        yield at(agent, ("container_scanning", "cadence"), (
            f"cadence {cadence!r} is no cron spec the agent reads ({problem}): it reports \"cadence is invalid\" "
            "and scans nothing"))


#: What an unset proto3 field without presence reads as, by its schema type.
_ZERO_VALUES = {"string": "", "array": []}


def _as_gitlab_reads(schema, instance, path: tuple):
    """`instance` with each null member the schema types without `null` replaced by its empty value.

    protojson treats null as unset, and an unset proto3 string or list is empty: `id:` (null) is the
    id "" and fails GitLab's 1-character minimum just as `id: ""` does. The schema marks those fields by
    leaving `null` out of their type (optional members allow it). Returns the instance (a copy where
    something changed) and the paths replaced.
    """
    emptied: set[tuple] = set()
    if not isinstance(schema, dict):
        return instance, emptied
    if isinstance(instance, dict):
        properties = schema.get("properties") or {}
        out = None
        for key, value in instance.items():
            sub = properties.get(key)
            if not isinstance(sub, dict):
                continue
            if value is None and isinstance(sub.get("type"), str) and sub["type"] in _ZERO_VALUES:
                new = type(_ZERO_VALUES[sub["type"]])()
                emptied.add(path + (key,))
            else:
                new, below = _as_gitlab_reads(sub, value, path + (key,))
                emptied |= below
            if new is not value:
                out = out if out is not None else dict(instance)
                out[key] = new
        return (instance if out is None else out), emptied
    if isinstance(instance, list) and isinstance(schema.get("items"), dict):
        items = []
        for index, item in enumerate(instance):
            new, below = _as_gitlab_reads(schema["items"], item, path + (index,))
            items.append(new)
            emptied |= below
        return (items if emptied else instance), emptied
    return instance, emptied
