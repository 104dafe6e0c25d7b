"""Where files sit and what every document must carry."""

from __future__ import annotations

import functools

import re
from typing import Callable, Iterator

from gitops_lint.checks import Context, at
from gitops_lint.diagnostics import Finding, Severity
from gitops_lint.model.kubernetes import DNS1123_LABEL, DNS1123_SUBDOMAIN, KubernetesObject
from gitops_lint.yaml.positions import format_path, value_at

#: API groups whose objects always need metadata.name (Flux's own).
FLUX_GROUP_SUFFIX = ".toolkit.fluxcd.io"
#: Files that carry `apiVersion` without being Kubernetes objects.
NOT_OBJECT_FILES = frozenset({"Chart.yaml", "Chart.yml"})


def agent_config_location(ctx: Context, nested_project: bool = False) -> Iterator[Finding]:
    """Agent configs GitLab never reads; `nested_project` selects the info-level case of a nested `.gitlab/`."""
    for agent in ctx.model.of_type("AgentConfig"):
        location = agent.location
        if location is None:
            continue
        if nested_project:
            if location.ignored_because is None and location.project_dir:
                yield at(agent, (), (
                    f"agent config under `{location.project_dir}/`: GitLab reads `.gitlab/agents/` only at the "
                    "root of a project, so this file is ignored unless that folder is a project of its own"))
        elif location.ignored_because is not None:
            yield at(agent, (), location.ignored_because)


def object_identity(ctx: Context) -> Iterator[Finding]:
    """Documents meant as Kubernetes objects that lack apiVersion, kind or metadata.name."""
    for doc in ctx.model.other_documents:
        data = doc.data
        if doc.file.rel.rsplit("/", 1)[-1] in NOT_OBJECT_FILES:
            continue
        has = {k for k in ("apiVersion", "kind", "metadata") if k in data}
        if "metadata" in has and not isinstance(data.get("metadata"), dict):
            continue
        if len(has) < 2:
            continue  # one of the three alone says nothing: a values file may well have `kind:`
        for key in ("apiVersion", "kind"):
            if key not in data:
                yield _finding(doc, (), f"document has no `{key}`: Kubernetes and Flux cannot apply it")
            elif not isinstance(data[key], str):
                yield _finding(doc, (key,), f"`{key}` must be a string")
    for obj in ctx.model.of_type(KubernetesObject):
        if obj.metadata.name or obj.metadata.generateName:
            continue
        if (obj.kind or "").endswith("List"):
            continue
        metadata = obj.doc.data.get("metadata")
        if isinstance(metadata, dict) and metadata.get("name") not in (None, ""):
            continue  # a name that is no text (`name: 2024`) is there: TYP001 says to quote it
        if isinstance(metadata, dict) or obj.group.endswith(FLUX_GROUP_SUFFIX):
            where = ("metadata",) if isinstance(metadata, dict) else ()
            yield at(obj, where, f"{obj.kind} has no `metadata.name`: the API server rejects it", key=True)


def _finding(doc, path, message) -> Finding:
    return Finding(message, doc.file.rel, doc.locate(path), anchor=format_path(path) or "document")


#: Kubernetes' validation.go patterns (domain reference, regex index).
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
#: Kinds whose names Kubernetes validates as DNS-1123 subdomains (Flux's own, and the objects Flux reads).
SUBDOMAIN_NAMED = frozenset({"Secret", "ConfigMap"})
LABEL_NAMED = frozenset({"Namespace"})


def object_names(ctx: Context) -> Iterator[Finding]:
    """metadata.name (and a namespace's name) in the form the API server accepts.

    A Namespace that a kustomize file with `namespace:` (or a Component) includes
    is renamed by kustomize's namespace transformer, so its written name
    (often a placeholder like `_`) is not what reaches the cluster.
    """
    renamed = _kustomize_renamed_namespaces(ctx)
    filled_in = _filled_in(ctx)
    for obj, written in _applied_objects(ctx):
        name = obj.metadata.name
        if obj.doc.sops or not isinstance(name, str) or filled_in(obj, written, name) or id(written) in renamed:
            continue
        if obj.kind in LABEL_NAMED or (obj.kind in SUBDOMAIN_NAMED and obj.group == "") or obj.group.endswith(
                FLUX_GROUP_SUFFIX):
            label = obj.kind in LABEL_NAMED
            pattern, limit = (DNS1123_LABEL, 63) if label else (DNS1123_SUBDOMAIN, 253)
            if len(name) > limit or not pattern.match(name):
                what = "DNS-1123 label" if label else "DNS-1123 subdomain"
                yield at(written, ("metadata", "name"), (
                    f"{obj.kind} name {name!r} is not a valid {what} (lowercase letters, digits, '-'"
                    + ("" if label else " and '.'")
                    + f", starting and ending with a letter or digit, at most {limit} "
                    f"characters): the API server rejects it{_literal_hint(ctx, obj, written, name)}"
                    + ctx.applied_note(obj, written, ("metadata", "name"))))
        namespace = obj.metadata.namespace
        if isinstance(namespace, str) and not filled_in(obj, written, namespace) and (
                len(namespace) > 63 or not DNS1123_LABEL.match(namespace)):
            yield at(written, ("metadata", "namespace"),
                     f"namespace {namespace!r} is not a valid DNS-1123 label{_literal_hint(ctx, obj, written, namespace)}"
                     + ctx.applied_note(obj, written, ("metadata", "namespace")))
    yield from _generated_names(ctx)


def _generated_names(ctx: Context) -> Iterator[Finding]:
    """The names of ConfigMaps and Secrets kustomize generates (what the API server gets, hash included),
    reported at the generator's `name`: no manifest holds them."""
    if not ctx.view.active:
        return
    seen: set[tuple] = set()
    for resource in ctx.view.resources():
        if resource.origin is not None or not resource.generator or resource.kind not in SUBDOMAIN_NAMED:
            continue
        name = resource.name
        if name is None or "${" in name or (id(resource.doc), resource.generator) in seen:
            continue
        seen.add((id(resource.doc), resource.generator))
        if len(name) > 253 or not DNS1123_SUBDOMAIN.match(name):
            yield _finding(resource.doc, (*resource.generator, "name"), (
                f"{resource.kind} name {name!r}, which this generator makes, is not a valid DNS-1123 subdomain "
                "(lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most "
                "253 characters): the API server rejects it"))


def _filled_in(ctx: Context) -> Callable[[KubernetesObject, KubernetesObject, str], bool]:
    """Whether a value of an object's copy holds a `${...}` that Flux fills in (or may: see
    `Project.literal_reason`); elsewhere Flux sends the text as it is, and the API server judges it so."""
    def filled_in(copy: KubernetesObject, written: KubernetesObject, value: str) -> bool:
        return "${" in value and ctx.literal_reason(written, copy) is None
    return filled_in


def _literal_hint(ctx: Context, copy: KubernetesObject, written: KubernetesObject, value: str) -> str:
    reason = ctx.literal_reason(written, copy) if "${" in value else None
    return f" ({reason})" if reason else ""


def _kustomize_renamed_namespaces(ctx: Context) -> set[int]:
    """Namespaces (as written) that kustomize's namespace transformer renames: included by a kustomize file
    with `namespace:` or in a Component's folder, or applied under another name in Flux's view."""
    from gitops_lint.model.kustomize import KustomizeFile

    component_dirs = {k.path.rpartition("/")[0] for k in ctx.model.of_type(KustomizeFile) if k.kind == "Component"}
    graph, written = ctx.graph, ctx.model.written
    renamed = {id(original) for copy in graph.objects if copy.kind == "Namespace"
               and (original := written(copy)).name != copy.name}
    renamed.update(id(obj) for obj in ctx.model.of_type(KubernetesObject) if obj.kind == "Namespace" and (
        id(obj) in graph.kustomize_namespaced or obj.path.rpartition("/")[0] in component_dirs))
    return renamed


def _applied_objects(ctx: Context) -> Iterator[tuple[KubernetesObject, KubernetesObject]]:
    """`Project.as_applied` for the objects `judged` keeps (namespace, name prefix, labels from kustomize or
    Flux), judged and reported where the object is written. Objects in patch files are none: kustomize
    merges them into others."""
    patches = ctx.model.patch_files
    for written in ctx.judged(KubernetesObject):
        if written.path not in patches:
            for obj in ctx.copies_of(written):
                yield obj, written


def labels_and_annotations(ctx: Context) -> Iterator[Finding]:
    """Label keys and values, annotation keys: Kubernetes' qualified-name rules."""
    filled_in = _filled_in(ctx)
    for obj, written in _applied_objects(ctx):
        if obj.doc.sops:
            continue
        for field_name, values in (("labels", obj.metadata.labels), ("annotations", obj.metadata.annotations)):
            for key, value in (values or {}).items():
                if filled_in(obj, written, key):
                    continue
                problem = _qualified_key_problem(key)
                if problem:
                    yield at(written, ("metadata", field_name, key),
                             f"{field_name[:-1]} key {key!r}: {problem}{_literal_hint(ctx, obj, written, key)}"
                             + ctx.applied_note(obj, written, ("metadata", field_name, key)), key=True)
                elif field_name == "labels" and isinstance(
                        raw := value_at(ctx.applied_data(obj), ("metadata", "labels", key)), (bool, int, float)):
                    # kustomize 5.5 quotes annotation values, not label values; Flux's apply then reads no labels
                    # (unstructured GetLabels drops a map holding a non-string) and sets only its own two
                    kind = type(raw).__name__.replace("bool", "boolean")
                    as_written = value_at(written.doc.data, ("metadata", "labels", key))
                    how = (f"post-build substitution makes it a YAML {kind}" if isinstance(as_written, str)
                           else f"it is a YAML {kind}, which kustomize writes unquoted")
                    finding = at(written, ("metadata", "labels", key), (
                        f"label value {value}: {how}, and Flux then applies this object without any of the labels "
                        f"written for it (its apply reads labels only when all are text); "
                        + ("keep the substituted value text" if isinstance(as_written, str) else "quote it")
                        + ctx.applied_note(obj, written, ("metadata", "labels", key))))
                    finding.severity = Severity.WARNING
                    yield finding
                elif field_name == "labels" and isinstance(value, str) and not filled_in(obj, written, value) and value and (
                        len(value) > 63 or not _QUALIFIED_NAME.match(value)):
                    yield at(written, ("metadata", "labels", key), (
                        f"label value {value!r} is invalid (at most 63 characters: letters, digits, '-', '_', "
                        f"'.', starting and ending with a letter or digit){_literal_hint(ctx, obj, written, value)}"
                        + ctx.applied_note(obj, written, ("metadata", "labels", key))))


@functools.lru_cache(maxsize=4096)  # a repository uses the same few label and annotation keys everywhere
def _qualified_key_problem(key: str) -> str | None:
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix)):
        return "the prefix before '/' must be a DNS-1123 subdomain (e.g. example.com)"
    if not name or len(name) > 63 or not _QUALIFIED_NAME.match(name):
        return ("the name must be 1-63 characters of letters, digits, '-', '_' and '.', starting and ending with "
                "a letter or digit")
    return None
