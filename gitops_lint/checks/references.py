"""References between objects, and the paths Kustomizations and kustomize files name."""

from __future__ import annotations

import difflib
from typing import Iterator

from gitops_lint.checks import Context, at
from gitops_lint.diagnostics import Finding
from gitops_lint.graph import Reference, archived

SECRET_LIKE = frozenset({"Secret", "ConfigMap"})


def _judged(ctx: Context) -> Iterator[Reference]:
    for ref in ctx.graph.references:
        if not ref.unresolvable and ref.kind in ref.spec.kinds:
            yield ref


def _where(ref: Reference) -> str:
    return f"{ref.kind}/{ref.namespace + '/' if ref.namespace else ''}{ref.name}"


def dangling_reference(ctx: Context) -> Iterator[Finding]:
    """A reference to a Flux object that exists nowhere in the repository."""
    for ref in _judged(ctx):
        if ref.targets or ref.provided_by or ref.kind in SECRET_LIKE:
            continue
        candidates = ctx.graph.names_of_kind(ref.kind or "")
        close = difflib.get_close_matches(ref.name or "", candidates, n=1, cutoff=0.75)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        yield at(ref.source, ref.path + (("name",) if ref.source.doc.has(ref.path + ("name",)) else ()), (
            f"{ref.spec.relation} names {_where(ref)}, which is defined nowhere in this repository{hint}"))


def missing_secret(ctx: Context) -> Iterator[Finding]:
    """A Secret or ConfigMap that is not in the repository: often created outside Git, so only information."""
    for ref in _judged(ctx):
        if ref.targets or ref.provided_by or ref.kind not in SECRET_LIKE or ref.optional:
            continue
        path = ref.path + (("name",) if ref.source.doc.has(ref.path + ("name",)) else ())
        yield at(ref.source, path, (
            f"{ref.spec.relation} names {_where(ref)}, which is not in this repository: make sure it is created "
            "in the cluster (SOPS-encrypted in Git, an ExternalSecret, `flux create secret`)"))


def depends_on_cycle(ctx: Context) -> Iterator[Finding]:
    """Each dependsOn cycle once, reported at every member's dependsOn entry that closes it."""
    import networkx

    graph = ctx.graph
    dependency = networkx.DiGraph()
    entries: dict[tuple[str, str], Reference] = {}
    for ref in graph.references:
        if ref.spec.relation != "dependsOn":
            continue
        for target in ref.targets:
            source_key, target_key = graph.key(ref.source), graph.key(target)
            dependency.add_edge(source_key, target_key)
            entries[(source_key, target_key)] = ref
    for cycle in sorted(sorted(c) if len(c) == 1 else _rotate(c) for c in networkx.simple_cycles(dependency)):
        text = " -> ".join([*cycle, cycle[0]])
        for index, member in enumerate(cycle):
            ref = entries[(member, cycle[(index + 1) % len(cycle)])]
            yield at(ref.source, ref.path + ("name",), (
                f"dependsOn cycle: {text}; none of them ever becomes ready"))


def _rotate(cycle: list[str]) -> list[str]:
    """A cycle starting at its smallest member, so each cycle has one spelling."""
    start = cycle.index(min(cycle))
    return cycle[start:] + cycle[:start]


def kustomization_path(ctx: Context) -> Iterator[Finding]:
    """spec.path of a Flux Kustomization that escapes the repository, does not exist, or holds no manifests."""
    if not ctx.settings.get("whole_repo"):
        return
    for resolution in ctx.paths:
        ks = resolution.kustomization
        where = ("spec", "path") if ks.doc.has(("spec", "path")) else ("spec",)
        if resolution.folder is None or resolution.files:
            continue
        what = "holds no manifests" if ctx.file_index.exists(resolution.folder) else "does not exist"
        if resolution.escapes:
            yield at(ks, where, (f"spec.path {ks.spec.path!r} climbs above the source's root, which Flux clamps "
                                 f"to ./{resolution.folder}; that folder {what} in this repository"))
        else:
            yield at(ks, where, f"spec.path {ks.spec.path!r} {what} in this repository")


def kustomize_missing_entry(ctx: Context) -> Iterator[Finding]:
    """kustomization.yaml entries (resources, components) that name no file or folder in the repository."""
    if not ctx.settings.get("whole_repo"):
        return
    from gitops_lint.graph import join_path
    from gitops_lint.model.kustomize import KustomizeFile

    index = ctx.file_index
    for kustomize in ctx.model.of_type(KustomizeFile):
        if archived(kustomize.path):
            continue
        folder = kustomize.path.rsplit("/", 1)[0] if "/" in kustomize.path else ""
        for key in ("resources", "components"):
            for position, entry in enumerate(getattr(kustomize, key) or ()):
                if not isinstance(entry, str) or "://" in entry or "${" in entry:
                    continue
                target = join_path(folder, entry)
                if target is None:
                    yield at(kustomize, (key, position), f"{key} entry {entry!r} leaves the repository")
                elif not index.exists(target) and (entry.endswith((".yaml", ".yml"))
                                                   or "." not in entry.rsplit("/", 1)[-1]):
                    yield at(kustomize, (key, position), f"{key} entry {entry!r} names no file or folder")


def remote_resource(ctx: Context) -> Iterator[Finding]:
    from gitops_lint.model.kustomize import KustomizeFile

    for kustomize in ctx.model.of_type(KustomizeFile):
        for position, entry in enumerate(kustomize.resources or ()):
            if isinstance(entry, str) and ("://" in entry or entry.startswith(("github.com/", "git@"))):
                yield at(kustomize, ("resources", position), (
                    f"remote resource {entry!r}: fetched at build time, so not checked here and not pinned unless "
                    "it names a tag or commit"))
