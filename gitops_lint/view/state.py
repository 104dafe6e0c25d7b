"""Flux's view of a repository as rules read it: what each Flux Kustomization applies (`view.flux` computes it).

Kept apart from the code that computes it, so that a run that builds no view (one file checked, part of a
repository) has its empty view without loading kustomize's model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from gitops_lint.model.kubernetes import KubernetesObject

if TYPE_CHECKING:
    from gitops_lint.model import Model
    from gitops_lint.view.flux import Applied
    from gitops_lint.view.kustomize import Resource
    from gitops_lint.view.sourceignore import IgnorePattern


@dataclass(slots=True)
class FluxView:
    """Every Flux Kustomization this repository feeds, and what each applies."""

    applied: list[Applied] = field(default_factory=list)
    #: Sources (kind, name) whose artifact is (a folder of) this repository -> that folder.
    local_sources: dict[tuple[str, str | None], str] = field(default_factory=dict)
    #: Local sources' `spec.include` targets: (kind, name) -> [(folder the include fills, relative to the
    #: source's root, the GitRepository it copies from)]. Paths there are another repository's files.
    included: dict[tuple[str, str | None], list[tuple[str, str]]] = field(default_factory=dict)
    #: Local GitRepositories' `spec.ignore` rules: (kind, name) -> its patterns.
    ignore_rules: dict[tuple[str, str | None], list[IgnorePattern]] = field(default_factory=dict)
    #: Every `.sourceignore` file of the repository (relative to its root), when discovery knows them; None:
    #: look for one in each folder that holds files.
    ignore_files: list[str] | None = None
    #: Files that are symbolic links (or below a symlinked folder): source-controller archives regular files
    #: only, so no artifact holds them.
    linked_files: frozenset[str] = frozenset()
    #: ExternalArtifacts assembled from this repository: name -> (folder in the artifact, repository folder).
    artifacts: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    #: Objects the Flux Operator creates (kind, namespace, name) -> by whom.
    provided: dict[tuple[str, str | None, str], str] = field(default_factory=dict)
    #: How the entry points were found (`self-applying Kustomization`, `FluxInstance`, `clusters/<name>`).
    entry_kind: str | None = None
    _typed: dict[int, KubernetesObject | None] = field(default_factory=dict)
    _files: set[str] | None = None
    _unapplied: set[str] | None = None
    _placed: list | None = None
    _secret_texts: set[str] | None = None
    _artifact_filters: dict[tuple, Callable[[str], bool]] = field(default_factory=dict)  # `_artifact_left_out`
    _ignore_files_below: dict[str, list[IgnorePattern]] = field(default_factory=dict)  # `_ignore_file_patterns`
    _references_of: dict[str, list] | None = None  # `_left_out_of_artifact`
    #: The model the view was computed from.
    model: Model | None = None

    @property
    def active(self) -> bool:
        """The repository has an entry point: rules judge what Flux applies, not files."""
        return bool(self.applied)

    @property
    def applied_files(self) -> set[str]:
        if self._files is None:
            self._files = {rel for applied in self.applied for rel in applied.files}
        return self._files

    @property
    def unapplied_files(self) -> set[str]:
        """Files holding Kubernetes objects or kustomization files that no followed Kustomization reads
        (patch files and agent configs are neither); computed once."""
        if self._unapplied is None:
            from gitops_lint.model.kustomize import KustomizeFile

            model = self.model
            applied = self.applied_files
            patches = model.patch_files if model is not None else set()
            self._unapplied = {o.path for o in (model.objects if model is not None else ())
                               if isinstance(o, (KubernetesObject, KustomizeFile))
                               and o.path not in applied and o.path not in patches}
        return self._unapplied

    @property
    def substituted_files(self) -> set[str]:
        """Files some Kustomization applies with post-build variables: `${...}` there is filled in."""
        return {f for a in self.applied if not a.variables.literal for f in a.files}

    @property
    def secret_texts(self) -> set[str]:
        """Values no output may show that no written Secret holds where a finding points: what Secrets hand
        to other objects on the way (post-build substitution, kustomize replacements), and the values of
        Secrets changed on the way (a patch, a replacement, a substitution into one)."""
        if self._secret_texts is None:
            texts = {value for applied in self.applied for value in (*applied.variables.secret, *applied.secret_texts)}
            for applied in self.applied:
                for resource in applied.resources:
                    # A Secret's copy a patch changed: what it holds that its written self does not (the
                    # written values are masked where they stand; a generated one's where its generator is).
                    origin = resource.origin
                    if resource.kind == "Secret" and resource.group == "" and origin is not None \
                            and resource.data is not origin.doc.data:
                        from gitops_lint.view.flux import _secret_data_texts

                        written = set(_secret_data_texts(origin.doc.data))
                        texts.update(t for t in _secret_data_texts(resource.data) if t not in written)
            self._secret_texts = texts
        return self._secret_texts

    def typed(self, resource: Resource) -> KubernetesObject | None:
        """The typed object rules read for an effective object: its model object when Flux applies it as
        written, a copy with the metadata Flux gives it, or one built from the effective data. It keeps
        the origin's document, so findings point at the line a user edits."""
        key = id(resource)
        if key not in self._typed:
            from gitops_lint.view.flux import _typed

            self._typed[key] = _typed(resource)
        return self._typed[key]

    def resources(self) -> list[Resource]:
        """Every effective object once (one object applied twice the same way is one)."""
        return [resource for resource, _ in self.placed()]

    def placed(self) -> list[tuple[Resource, frozenset[int]]]:
        """Every effective object once, with the clusters (entry points) that apply it. One object applied
        alike by several Kustomizations or clusters is one; a copy a cluster changes otherwise (an
        overlay's patch, its own post-build values) is one more, judged in that cluster. Computed once."""
        if self._placed is not None:
            return self._placed
        first: dict[tuple, list] = {}  # key -> [resource, clusters, the key's other copies alike or not]
        out: list[list] = []
        for applied in self.applied:
            cluster = applied.cluster
            for resource in applied.resources:
                key = (id(resource.doc), resource.generator, resource.identity)
                seen = first.get(key)
                if seen is None:
                    first[key] = entry = [resource, {cluster}, None]
                    out.append(entry)
                    continue
                # The same object applied again (rare): alike, or a copy of its own.
                same = next((e for e in [seen, *(seen[2] or ())]
                             if e[0].data is resource.data or e[0].data == resource.data), None)
                if same is not None:
                    same[1].add(cluster)
                    continue
                entry = [resource, {cluster}, None]
                seen[2] = [*(seen[2] or ()), entry]
                out.append(entry)
        alone: dict[int, frozenset[int]] = {}
        self._placed = [(resource, alone.setdefault(next(iter(clusters)), frozenset(clusters))
                         if len(clusters) == 1 else frozenset(clusters)) for resource, clusters, _ in out]
        return self._placed

    @property
    def cluster_names(self) -> dict[int, str]:
        """Each cluster by the folder its entry point applies (`clusters/prod`)."""
        names: dict[int, str] = {}
        for applied in self.applied:
            names.setdefault(applied.cluster,
                             applied.folder or applied.kustomization.path.rpartition("/")[0] or ".")
        return names
