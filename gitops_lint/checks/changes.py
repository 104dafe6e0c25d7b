"""Danger signals of a change (the CHG rules): what a merge request does to the cluster that a reviewer
reading YAML diffs easily misses. They judge `view.changes.Review`, the comparison of Flux's view of
two revisions, and run in `gitops-lint diff` only (`check` has one revision)."""

from __future__ import annotations

import re
from typing import Iterator

from gitops_lint.diagnostics import Finding
from gitops_lint.view.changes import KustomizationChange, ObjectChange, Review
from gitops_lint.yaml.positions import DataPath, MapPos, SeqPos, format_path, walk, value_at

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
        if _kind(o.before) not in CASCADING and _kind(o.before) not in NOTIFICATION:  # CHG004, CHG008 say those
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


def path_or_namespace_changed(review: Review) -> Iterator[Finding]:
    """A Kustomization that applies another folder, or moves everything it applies to another namespace."""
    for o in _changed(review):
        if _kind(o.after) != FLUX_KUSTOMIZATION:
            continue
        before, after = _spec(o.before), _spec(o.after)
        name = _name(o.after)
        if ("spec", "path") in o.paths:
            yield _at(o.after, ("spec", "path"), (
                f"{name}: spec.path {before.get('path')!r} -> {after.get('path')!r}: it now applies another folder; "
                "what only the old one held is deleted if it prunes, left behind if not"))
        if ("spec", "targetNamespace") in o.paths:
            yield _at(o.after, ("spec", "targetNamespace") if "targetNamespace" in after else ("spec",), (
                f"{name}: targetNamespace {before.get('targetNamespace')!r} -> {after.get('targetNamespace')!r}: every "
                "namespaced object it applies moves: created anew in the new namespace, deleted from the old one "
                "if it prunes"))


_VERSION = re.compile(r"v?(\d+)(?:\.\d+){0,2}(?:[-+][0-9A-Za-z.-]+)?")


def chart_major_bump(review: Review) -> Iterator[Finding]:
    """A HelmRelease (or HelmChart) whose chart version moves to another major version."""
    for o in _changed(review):
        kind = _kind(o.after)
        if kind == ("helm.toolkit.fluxcd.io", "HelmRelease"):
            where: DataPath = ("spec", "chart", "spec", "version")
        elif kind == (SOURCE_GROUP, "HelmChart"):
            where = ("spec", "version")
        else:
            continue
        old, new = value_at(o.before.data, where), value_at(o.after.data, where)
        old_match = _VERSION.fullmatch(old) if isinstance(old, str) else None
        new_match = _VERSION.fullmatch(new) if isinstance(new, str) else None
        if old_match and new_match and int(new_match.group(1)) > int(old_match.group(1)):
            yield _at(o.after, where, (
                f"{_name(o.after)}: chart version {old} -> {new}, a new major version: its values and its upgrade "
                "may have changed incompatibly (read the chart's upgrade notes; Helm rolls back on failure only "
                "with remediation set)"))


def interval_raised(review: Review, max_interval: str = "24h") -> Iterator[Finding]:
    """A Flux object's interval raised past the ceiling INT002 holds: drift goes uncorrected longer."""
    from gitops_lint.checks.intervals import duration_option, interval_ns as ns

    ceiling = duration_option(max_interval, "max_interval")
    for o in _changed(review):
        if not o.after.group.endswith(".toolkit.fluxcd.io") or ("spec", "interval") not in o.paths:
            continue
        old, new = _spec(o.before).get("interval"), _spec(o.after).get("interval")
        old_ns, new_ns = ns(old), ns(new)
        if old_ns is not None and new_ns is not None and new_ns > old_ns and new_ns > ceiling:
            yield _at(o.after, ("spec", "interval"), (
                f"{_name(o.after)}: interval {old} -> {new}, past {max_interval}: drift and missed changes are "
                "corrected that much later"))


#: What stops when these leave the cluster.
NOTIFICATION = {("notification.toolkit.fluxcd.io", "Receiver"): "webhooks sent to it fail, and Flux no longer "
                "reconciles on push",
                ("notification.toolkit.fluxcd.io", "Provider"): "alerts sent through it stop"}


def notification_removed(review: Review) -> Iterator[Finding]:
    for change, o, why in _deleting(review):
        stops = NOTIFICATION.get(_kind(o.before))
        if stops:
            yield _at(o.before, (), f"Flux deletes {_name(o.before)}: {stops} ({why})")


def _agents(project) -> dict[str, object]:
    from gitops_lint.model.agent import AgentConfig

    return {agent.path: agent for agent in project.model.of_type(AgentConfig)}


def _ids(section: object, kind: str) -> dict[str, int]:
    """`id` -> position of each entry of `section[kind]` (projects or groups) of an agent config."""
    entries = section.get(kind) if isinstance(section, dict) else None
    out = {}
    for index, entry in enumerate(entries if isinstance(entries, list) else ()):
        if isinstance(entry, dict) and isinstance(entry.get("id"), (str, int)):
            out.setdefault(str(entry["id"]), index)
    return out


def _access_as(entry: object) -> str | None:
    access = entry.get("access_as") if isinstance(entry, dict) else None
    return next(iter(access), None) if isinstance(access, dict) and access else None


def agent_access_widened(review: Review) -> Iterator[Finding]:
    """An agent config that lets more projects or groups, or more than the agent's own identity, at the cluster."""
    from gitops_lint.checks import at

    before = _agents(review.base)
    for path, agent in _agents(review.head).items():
        old = before.get(path)
        if old is None:
            continue  # a new agent: nothing widened, everything new (the diff lists it)
        new_data, old_data = agent.doc.data, old.doc.data
        for section in ("ci_access", "user_access"):
            new_section, old_section = new_data.get(section), old_data.get(section)
            for kind in ("projects", "groups"):
                known = _ids(old_section, kind)
                for ident, index in _ids(new_section, kind).items():
                    if ident not in known:
                        yield at(agent, (section, kind, index, "id"), (
                            f"{section}: {kind[:-1]} {ident} is added: its CI jobs or users reach the cluster "
                            "through this agent"))
                    elif _access_as(new_section[kind][index]) != _access_as(old_section[kind][known[ident]]) \
                            and _access_as(new_section[kind][index]) in ("impersonate", "ci_user", "ci_job", "user"):
                        yield at(agent, (section, kind, index, "access_as"), (
                            f"{section}: {kind[:-1]} {ident} now acts as "
                            f"{_access_as(new_section[kind][index])!r}, not as before"))
            if isinstance(new_section, dict) and _access_as(new_section) != _access_as(old_section) \
                    and _access_as(new_section) in ("impersonate", "user"):
                yield at(agent, (section, "access_as"), (
                    f"{section}: access_as is now {_access_as(new_section)!r}: requests act as other identities"))


def agent_flux_removed(review: Review) -> Iterator[Finding]:
    """An agent config that drops its `flux:` section: the agent stops waking Flux on push."""
    from gitops_lint.checks import at

    before = _agents(review.base)
    for path, agent in _agents(review.head).items():
        old = before.get(path)
        if old is not None and isinstance(old.doc.data.get("flux"), dict) and "flux" not in agent.doc.data:
            yield at(agent, (), (
                "the `flux:` section is removed: the agent no longer notifies Flux of pushes; Flux waits for "
                "its interval"))
