"""Danger signals of a change (the CHG rules): what a merge request does to the cluster that a reviewer
reading YAML diffs easily misses. They judge `view.changes.Review`, the comparison of Flux's view of
two revisions, and run in `gitops-lint diff` only (`check` has one revision)."""

from __future__ import annotations

from typing import Iterator

from gitops_lint.diagnostics import Finding
from gitops_lint.view.changes import KustomizationChange, ObjectChange, Review
from gitops_lint.yaml.positions import DataPath, MapPos, SeqPos, format_path, walk

FLUX_KUSTOMIZATION = ("kustomize.toolkit.fluxcd.io", "Kustomization")
#: Kinds whose removal takes more than themselves: what lives in them, or every object of that kind.
CASCADING = {("", "Namespace"): "everything in that namespace goes with it",
             ("apiextensions.k8s.io", "CustomResourceDefinition"): "every object of that kind in the cluster goes with it"}
SOURCE_GROUP = "source.toolkit.fluxcd.io"


def _at(resource, path: DataPath, message: str) -> Finding:
    """A finding at a field of an effective object, in the file a person edits (the generator entry
    for what a generator made), of the revision the object belongs to."""
    doc = resource.doc
    if resource.generator:
        path = resource.generator
    key = False
    if path:
        tree, key_span, found = walk(doc.pos, path)
        key = found and key_span is not None and isinstance(tree, (MapPos, SeqPos))
    return Finding(message=message, path=resource.path, span=doc.locate(path, key=key), object=_name(resource),
                   anchor=format_path(path), source=doc.file)


def _kind(resource) -> tuple[str, str]:
    return (resource.group, resource.kind)


def _name(resource) -> str:
    """`Kind/namespace/name`, as findings name objects."""
    return "/".join(p for p in (resource.kind, resource.namespace, resource.name) if p)


def _deleting(review: Review) -> Iterator[tuple[KustomizationChange, ObjectChange, str]]:
    """Objects Flux deletes: removed from a Kustomization that prunes, or applied by a pruning Kustomization
    that a pruning parent removes (its inventory is garbage-collected). With why, in words."""
    removed_by_pruning = {o.object for k in review.diff.kustomizations if k.prune
                          for o in k.objects if o.state == "removed" and _kind(o.before) == FLUX_KUSTOMIZATION}
    for change in review.diff.kustomizations:
        if not change.prune:
            continue
        name = change.kustomization.split("/", 1)[1]
        if change.state == "removed":
            if f"kustomize.toolkit.fluxcd.io/Kustomization {name}" not in removed_by_pruning:
                continue  # left in the cluster (its parent does not prune), or not known to be deleted
            why = f"{change.kustomization}, which applies it and prunes, is deleted with the change"
        else:
            why = f"{change.kustomization} no longer applies it and prunes"
        for o in change.objects:
            if o.state == "removed":
                yield change, o, why


def pruned_objects(review: Review) -> Iterator[Finding]:
    for change, o, why in _deleting(review):
        if _kind(o.before) not in CASCADING:  # CHG004 says those, louder
            yield _at(o.before, (), f"Flux deletes {_name(o.before)} from the cluster: {why}")


def namespace_or_crd_removed(review: Review) -> Iterator[Finding]:
    for change, o, why in _deleting(review):
        cascade = CASCADING.get(_kind(o.before))
        if cascade:
            yield _at(o.before, (), f"Flux deletes {_name(o.before)}, and {cascade}: {why}")


def _changed(review: Review) -> Iterator[ObjectChange]:
    """Each changed object once (a Kustomization is listed under itself and under its parent)."""
    seen = set()
    for change in review.diff.kustomizations:
        for o in change.objects:
            if o.state == "changed" and (o.after.path, o.object) not in seen:
                seen.add((o.after.path, o.object))
                yield o


def _spec(resource) -> dict:
    spec = resource.data.get("spec")
    return spec if isinstance(spec, dict) else {}


def prune_or_suspend_changed(review: Review) -> Iterator[Finding]:
    for o in _changed(review):
        if not o.after.group.endswith(".toolkit.fluxcd.io"):
            continue
        before, after = _spec(o.before), _spec(o.after)
        name = _name(o.after)
        if before.get("prune") is True and after.get("prune") is not True and _kind(o.after) == FLUX_KUSTOMIZATION:
            yield _at(o.after, ("spec", "prune"), (
                f"{name}: prune turned off: what it stops applying from now on stays in the cluster"))
        elif before.get("prune") is not True and after.get("prune") is True and _kind(o.after) == FLUX_KUSTOMIZATION:
            yield _at(o.after, ("spec", "prune"), (
                f"{name}: prune turned on: objects it applied before and no longer applies are deleted"))
        if before.get("suspend") is not True and after.get("suspend") is True:
            yield _at(o.after, ("spec", "suspend"), f"{name} is suspended: Flux stops reconciling it")
        elif before.get("suspend") is True and after.get("suspend") is not True:
            yield _at(o.after, ("spec", "suspend"), (
                f"{name} is resumed: Flux applies at once everything that changed while it was suspended"))


#: Where each kind says what it deploys from: a switch there deploys something else entirely.
_SOURCE_FIELDS = {
    FLUX_KUSTOMIZATION: [("spec", "sourceRef")],
    ("helm.toolkit.fluxcd.io", "HelmRelease"): [("spec", "chart", "spec", "sourceRef"), ("spec", "chartRef")],
}
_SOURCE_KIND_FIELDS = [("spec", "url"), ("spec", "ref"), ("spec", "bucketName"), ("spec", "endpoint")]


def source_switched(review: Review) -> Iterator[Finding]:
    for o in _changed(review):
        kind = _kind(o.after)
        fields = _SOURCE_KIND_FIELDS if kind[0] == SOURCE_GROUP else _SOURCE_FIELDS.get(kind, [])
        for wanted in fields:
            if any(p[: len(wanted)] == wanted for p in o.paths):
                what = "another repository, revision or bucket" if kind[0] == SOURCE_GROUP else "another source"
                yield _at(o.after, wanted, (
                    f"{_name(o.after)}: {format_path(wanted)} changed: what it deploys now comes from {what}, "
                    "whose content this diff does not show"))
                break
