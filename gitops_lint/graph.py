"""The dependency graph: every reference between objects, resolved as Flux resolves it.

Nodes are the repository's objects (`Kind/namespace/name`), agent configs and
the kustomize files and folders Kustomization paths lead to. Edges are typed by
the field that makes them (`sourceRef`, `dependsOn`, `valuesFrom`, ...).

References are declared as data (`REFERENCES`): per kind, where a reference
sits, which kinds it may name, and how its namespace is found. One resolver
serves them all.

Namespaces: a reference without `namespace` means the referrer's namespace.
An object whose manifest has no `metadata.namespace` takes the `namespace:` of
the kustomize file that includes it when there is one; otherwise its namespace
is unknown (Flux's `targetNamespace` or the cluster default decides), and it
matches a reference from any namespace.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from gitops_lint.model import Model
from gitops_lint.model.base import Located
from gitops_lint.model.kubernetes import DNS1123_LABEL, KubernetesObject
from gitops_lint.model.kustomize import KustomizeFile, is_remote
from gitops_lint.view.paths import archived, join_path  # noqa: F401 - also graph's public names
from gitops_lint.yaml.loader import SourceFile
from gitops_lint.yaml.positions import DataPath, value_at

SOURCE = "source.toolkit.fluxcd.io"
SECRET_LIKE = ("Secret", "ConfigMap")
NOTIFIABLE = ("Bucket", "GitRepository", "Kustomization", "HelmRelease", "HelmChart", "HelmRepository",
              "ImageRepository", "ImagePolicy", "ImageUpdateAutomation", "OCIRepository", "ArtifactGenerator",
              "ExternalArtifact")


@dataclass(frozen=True, slots=True)
class RefSpec:
    """Where one kind of reference sits and what it may name."""

    #: Path into the object; "*" steps into every item of a list.
    path: tuple[str, ...]
    relation: str
    #: Kinds the field allows (the CRD's enum, or the only kind it can name).
    kinds: tuple[str, ...]
    #: The reference names its kind in this key (else the single allowed kind is meant).
    kind_key: str | None = None
    default_kind: str | None = None
    #: The reference has no namespace key: always the referrer's namespace.
    local: bool = False
    #: `name: '*'` and `matchLabels` select many objects (Receiver resources, Alert event sources).
    wildcard: bool = False


_SECRET = ("Secret",)
_LOCAL_SECRETS = tuple(
    RefSpec(("spec", *path, "secretRef"), f"{'.'.join(path) + '.' if path else ''}secretRef", _SECRET, local=True)
    for path in ((), ("verify",))
) + (
    RefSpec(("spec", "certSecretRef"), "certSecretRef", _SECRET, local=True),
    RefSpec(("spec", "proxySecretRef"), "proxySecretRef", _SECRET, local=True),
)

REFERENCES: dict[tuple[str, str], tuple[RefSpec, ...]] = {
    ("kustomize.toolkit.fluxcd.io", "Kustomization"): (
        RefSpec(("spec", "sourceRef"), "sourceRef", ("OCIRepository", "GitRepository", "Bucket", "ExternalArtifact"),
                kind_key="kind"),
        RefSpec(("spec", "dependsOn", "*"), "dependsOn", ("Kustomization",)),
        RefSpec(("spec", "postBuild", "substituteFrom", "*"), "substituteFrom", SECRET_LIKE, kind_key="kind",
                local=True),
        RefSpec(("spec", "decryption", "secretRef"), "decryption.secretRef", _SECRET, local=True),
        RefSpec(("spec", "kubeConfig", "secretRef"), "kubeConfig.secretRef", _SECRET, local=True),
        RefSpec(("spec", "kubeConfig", "configMapRef"), "kubeConfig.configMapRef", ("ConfigMap",), local=True),
    ),
    ("helm.toolkit.fluxcd.io", "HelmRelease"): (
        RefSpec(("spec", "chart", "spec", "sourceRef"), "chart.sourceRef",
                ("HelmRepository", "GitRepository", "Bucket"), kind_key="kind"),
        RefSpec(("spec", "chartRef"), "chartRef", ("OCIRepository", "HelmChart", "ExternalArtifact"), kind_key="kind"),
        RefSpec(("spec", "dependsOn", "*"), "dependsOn", ("HelmRelease",)),
        RefSpec(("spec", "valuesFrom", "*"), "valuesFrom", SECRET_LIKE, kind_key="kind", local=True),
        RefSpec(("spec", "kubeConfig", "secretRef"), "kubeConfig.secretRef", _SECRET, local=True),
    ),
    (SOURCE, "GitRepository"): _LOCAL_SECRETS + (
        RefSpec(("spec", "include", "*", "repository"), "include", ("GitRepository",), local=True),
    ),
    (SOURCE, "OCIRepository"): _LOCAL_SECRETS,
    (SOURCE, "HelmRepository"): _LOCAL_SECRETS,
    (SOURCE, "Bucket"): _LOCAL_SECRETS,
    (SOURCE, "HelmChart"): (
        RefSpec(("spec", "sourceRef"), "sourceRef", ("HelmRepository", "GitRepository", "Bucket"), kind_key="kind",
                local=True),
    ) + _LOCAL_SECRETS[1:2],
    ("notification.toolkit.fluxcd.io", "Receiver"): (
        RefSpec(("spec", "resources", "*"), "resources", NOTIFIABLE, kind_key="kind", wildcard=True),
        RefSpec(("spec", "secretRef"), "secretRef", _SECRET, local=True),
    ),
    ("notification.toolkit.fluxcd.io", "Alert"): (
        RefSpec(("spec", "providerRef"), "providerRef", ("Provider",), local=True),
        RefSpec(("spec", "eventSources", "*"), "eventSources", NOTIFIABLE, kind_key="kind", wildcard=True),
    ),
    ("notification.toolkit.fluxcd.io", "Provider"): (
        RefSpec(("spec", "secretRef"), "secretRef", _SECRET, local=True),
        RefSpec(("spec", "certSecretRef"), "certSecretRef", _SECRET, local=True),
        RefSpec(("spec", "proxySecretRef"), "proxySecretRef", _SECRET, local=True),
    ),
    ("image.toolkit.fluxcd.io", "ImageRepository"): (
        RefSpec(("spec", "secretRef"), "secretRef", _SECRET, local=True),
        RefSpec(("spec", "certSecretRef"), "certSecretRef", _SECRET, local=True),
    ),
    ("image.toolkit.fluxcd.io", "ImagePolicy"): (
        RefSpec(("spec", "imageRepositoryRef"), "imageRepositoryRef", ("ImageRepository",)),
    ),
    ("image.toolkit.fluxcd.io", "ImageUpdateAutomation"): (
        RefSpec(("spec", "sourceRef"), "sourceRef", ("GitRepository",), kind_key="kind", default_kind="GitRepository"),
    ),
}


@dataclass(slots=True)
class Reference:
    """One reference of one object, resolved (or not) against the repository."""

    source: KubernetesObject
    spec: RefSpec
    #: Path of the reference mapping (or name string) inside the source object.
    path: DataPath
    kind: str | None
    name: str | None
    namespace: str | None
    #: What it names, when the repository has it.
    targets: list[KubernetesObject] = field(default_factory=list)
    #: The name holds a `${VAR}` substitution, or the reference is a wildcard: not judged.
    unresolvable: bool = False
    #: Objects that something in the repository creates outside Git (a Secret by an ExternalSecret, ...).
    provided_by: str | None = None
    #: `optional: true` in the reference as Flux applies it (a parent's patch often adds it).
    optional: bool = False
    #: Clusters that apply the referrer but hold none of its targets (the targets are other clusters').
    missing_in: tuple[int, ...] = ()
    #: No target, but objects written with the name it holds, which kustomize renames on the way (a name
    #: prefix or suffix, a generated name's content hash) without rewriting this reference.
    renamed_to: list[KubernetesObject] = field(default_factory=list)


@dataclass(slots=True)
class Graph:
    """The repository's objects and references; `nx` is the networkx view, built on demand."""

    objects: list[KubernetesObject]
    references: list[Reference]
    #: (kind, name) -> objects, whatever their namespace.
    by_kind_name: dict[tuple[str, str], list[KubernetesObject]]
    #: Namespace of each object id(), from metadata or the kustomize file that includes it.
    namespaces: dict[int, str | None]
    #: (kind, namespace, name) of objects created outside Git by objects in the repository, and by what.
    provided: dict[tuple[str, str | None, str], str]
    #: Data of each object id() as Flux applies it (Flux's view); absent: the document's own data.
    datas: dict[int, Any] = field(default_factory=dict)
    #: Objects id() that a kustomize file with `namespace:` includes (from the files, before Flux's view).
    kustomize_namespaced: frozenset[int] = frozenset()
    #: Clusters (entry points of Flux's view) that apply each object id(); absent: not known, any cluster.
    clusters: dict[int, frozenset[int]] = field(default_factory=dict)
    #: Each cluster by the folder its entry point applies.
    cluster_names: dict[int, str] = field(default_factory=dict)
    #: (kind, a name it was written with or had on the way) -> objects Flux's view applies under another.
    renamed: dict[tuple[str, str], list[KubernetesObject]] = field(default_factory=dict)
    _nx: Any = None

    def namespace_of(self, obj: KubernetesObject) -> str | None:
        return self.namespaces.get(id(obj), obj.namespace)

    def data_of(self, obj: KubernetesObject) -> Any:
        return self.datas.get(id(obj), obj.doc.data)

    def key(self, obj: KubernetesObject) -> str:
        namespace = self.namespace_of(obj)
        return "/".join(p for p in (obj.kind or "?", namespace, obj.name or "?") if p)

    def find(self, kind: str, name: str, namespace: str | None) -> list[KubernetesObject]:
        found = []
        for obj in self.by_kind_name.get((kind, name), ()):
            own = self.namespace_of(obj)
            if namespace is None or own is None or own == namespace:
                found.append(obj)
        return found

    def shared_clusters(self, source: KubernetesObject, target: KubernetesObject) -> frozenset[int] | None:
        """The clusters that apply both objects (None: neither is placed in one, it holds anywhere). A
        reference resolves only inside one cluster: Flux looks it up in the cluster's API."""
        mine, theirs = self.clusters.get(id(source)), self.clusters.get(id(target))
        if mine is None or theirs is None:
            return theirs if mine is None else mine
        return mine & theirs

    def in_clusters(self, source: KubernetesObject, targets: list[KubernetesObject]) -> list[KubernetesObject]:
        """The targets that some cluster applying `source` also applies."""
        if not self.clusters:
            return targets
        return [t for t in targets if self.shared_clusters(source, t) != frozenset()]

    def names_of_kind(self, kind: str) -> list[str]:
        return sorted({name for (k, name) in self.by_kind_name if k == kind})

    @property
    def nx(self):
        """A networkx MultiDiGraph: node per object key, edge per resolved reference (attribute `relation`)."""
        if self._nx is None:
            import networkx

            graph = networkx.MultiDiGraph()
            for obj in self.objects:
                graph.add_node(self.key(obj), kind=obj.kind, path=obj.path)
            for ref in self.references:
                for target in ref.targets:
                    graph.add_edge(self.key(ref.source), self.key(target), relation=ref.spec.relation)
            self._nx = graph
        return self._nx


def build_graph(model: Model, files: list[SourceFile], view: Any = None) -> Graph:
    """The graph of what Flux applies (Flux's view, when the repository has an entry point), else of every
    object in the repository. Objects no Kustomization applies stay findable as targets, but their own
    references are not judged: nothing applies them."""
    patches = model.patch_files
    raw = [o for o in model.objects
           if isinstance(o, KubernetesObject) and o.kind and o.name and o.path not in patches]
    namespaces = inherited_namespaces(model, files)
    kustomize_namespaced = frozenset(namespaces)
    datas: dict[int, Any] = {}
    clusters: dict[int, frozenset[int]] = {}
    renamed: dict[tuple[str, str], list[KubernetesObject]] = {}
    sources = raw
    objects = raw
    if view is not None and view.active:
        applied: list[KubernetesObject] = []
        origins: set[int] = set()
        for resource, in_clusters in view.placed():
            obj = view.typed(resource)
            if obj is None or not obj.kind or not obj.name:
                continue
            applied.append(obj)
            clusters[id(obj)] = in_clusters
            for former in resource.names - {obj.name}:
                renamed.setdefault((obj.kind, former), []).append(obj)
            namespaces[id(obj)] = resource.namespace
            datas[id(obj)] = resource.data
            if resource.origin is not None:
                origins.add(id(resource.origin))
        applied_files = view.applied_files
        sources = applied
        objects = applied + [o for o in raw if id(o) not in origins and o.path not in applied_files]
    by_kind_name: dict[tuple[str, str], list[KubernetesObject]] = {}
    for obj in objects:
        by_kind_name.setdefault((obj.kind, obj.name), []).append(obj)  # type: ignore[arg-type]
    provided: dict[tuple[str, str | None, str], str] = {}
    names = view.cluster_names if view is not None and view.active else {}
    if len(names) < 2:
        clusters, names = {}, {}  # one cluster: every object meets every other
    graph = Graph(objects, [], by_kind_name, namespaces, provided, datas, kustomize_namespaced, clusters, names,
                  renamed)
    provided.update(_provided_outside_git(model, graph))
    if view is not None:
        provided.update(view.provided)
    for obj in sources:
        if archived(obj.path):
            continue
        for spec in REFERENCES.get((obj.group, obj.kind or ""), ()):
            for path, value in _walk(graph.data_of(obj), spec.path):
                ref = _reference(graph, obj, spec, path, value)
                if ref is not None:
                    graph.references.append(ref)
    return graph


def _reference(graph: Graph, obj: KubernetesObject, spec: RefSpec, path: DataPath, value: Any) -> Reference | None:
    if isinstance(value, str):  # GitRepository include[].repository is a mapping with `name`; others are mappings
        value = {"name": value}
    if not isinstance(value, dict):
        return None
    name = value.get("name")
    kind = value.get(spec.kind_key) if spec.kind_key else None
    kind = kind if isinstance(kind, str) else (spec.default_kind or (spec.kinds[0] if len(spec.kinds) == 1 else None))
    own_namespace = graph.namespace_of(obj)
    namespace = own_namespace if spec.local else (value.get("namespace") or own_namespace)
    ref = Reference(obj, spec, path, kind, name if isinstance(name, str) else None,
                    namespace if isinstance(namespace, str) else None, optional=value.get("optional") is True)
    text = f"{kind}{name}{namespace}"
    if spec.wildcard and isinstance(kind, str) and "${" not in text and (name == "*" or "matchLabels" in value):
        # Receiver/Alert selectors, resolved as notification-controller does: every object of the kind in the
        # namespace, narrowed by matchLabels. Drawn in the graph; never "dangling" (no match is no error).
        labels = value.get("matchLabels") if isinstance(value.get("matchLabels"), dict) else {}
        ref.targets = graph.in_clusters(obj, [
            o for (k, _), objects in graph.by_kind_name.items() if k == kind for o in objects
            if graph.namespace_of(o) in (ref.namespace, None)
            and all((o.metadata.labels or {}).get(lk) == lv for lk, lv in labels.items())])
        ref.unresolvable = True
        return ref
    if ref.name is None or kind is None or "${" in text:
        ref.unresolvable = True
        return ref
    everywhere = graph.find(kind, ref.name, ref.namespace)
    ref.targets = graph.in_clusters(obj, everywhere)
    if graph.clusters and everywhere:
        mine = graph.clusters.get(id(obj), frozenset())
        for target in ref.targets:
            theirs = graph.clusters.get(id(target))
            mine = frozenset() if theirs is None else mine - theirs
        ref.missing_in = tuple(sorted(mine))
    if not ref.targets and graph.renamed:
        ref.renamed_to = graph.in_clusters(obj, [o for o in graph.renamed.get((kind, ref.name), ())
                                                 if ref.namespace is None or graph.namespace_of(o) in (ref.namespace, None)])
        if ref.renamed_to:
            return ref  # what provides the name as written (its generator) makes it under the new one
    if not ref.targets or ref.missing_in:
        ref.provided_by = next((by for (k, ns, n), by in graph.provided.items() if k == kind
                                and _named_by(n, ref.name) and (ns is None or ref.namespace in (None, ns))), None)
    return ref


def _named_by(provided: str, name: str) -> bool:
    """Whether what is provided under `provided` may be `name`: the name itself, any name (`*`), or a name
    with post-build variables in it (`infra-${CLUSTER}` may be `infra-prod`)."""
    if provided in (name, ANY_NAME):
        return True
    return "${" in provided and _names_of_shape(provided).fullmatch(name) is not None


@functools.lru_cache(maxsize=1024)
def _names_of_shape(provided: str) -> re.Pattern[str]:
    """The names a name with `${...}` in it may be (each expression any text but none)."""
    return re.compile(".+".join(re.escape(part) for part in re.split(r"\$\{[^}]*\}", provided)))


def _walk(data: Any, path: tuple[str, ...]) -> list[tuple[DataPath, Any]]:
    """(data path, value) of every value at `path` in `data`, in document order; `*` is each list item.

    Level by level, not recursively: most objects lack the path's first key, and are done at once."""
    found: list[tuple[DataPath, Any]] = [((), data)]
    for head in path:
        deeper: list[tuple[DataPath, Any]] = []
        for prefix, value in found:
            if head == "*":
                if isinstance(value, list):
                    deeper.extend(((*prefix, index), item) for index, item in enumerate(value))
            elif isinstance(value, dict) and head in value:
                deeper.append(((*prefix, head), value[head]))
        if not deeper:
            return deeper
        found = deeper
    return found


def inherited_namespaces(model: Model, files: list[SourceFile]) -> dict[int, str | None]:
    """Objects without metadata.namespace take the `namespace:` of the kustomize file that includes them."""
    by_file: dict[str, list[Located]] = {}
    for obj in model.objects:
        by_file.setdefault(obj.path, []).append(obj)
    kustomize_by_dir = {k.path.rpartition("/")[0]: k for k in model.objects if isinstance(k, KustomizeFile)}
    namespaces: dict[int, str | None] = {}
    for directory, kustomize in sorted(kustomize_by_dir.items()):
        namespace = kustomize.namespace
        # Only a real namespace name: `${NS}` is Flux's to fill in, `$NS` a CI job's (envsubst before apply).
        if not (isinstance(namespace, str) and len(namespace) <= 63 and DNS1123_LABEL.match(namespace)):
            continue
        # Depth first through what the kustomize file includes, each folder once. (A loop, not a recursive
        # closure: that would be a reference cycle, kept to the end of a run with the collector off.)
        seen: set[str] = set()
        stack = [directory]
        while stack:
            folder = stack.pop()
            if folder in seen or folder not in kustomize_by_dir:
                continue
            seen.add(folder)
            for target in reversed(list(included_paths(kustomize_by_dir[folder], folder))):
                stack.append(target)
                for obj in by_file.get(target, ()):
                    if isinstance(obj, KubernetesObject) and not obj.namespace:
                        namespaces.setdefault(id(obj), namespace)
    return namespaces


def included_paths(kustomize: KustomizeFile, directory: str) -> Iterator[str]:
    """The files and folders a kustomize file in `directory` includes (`resources`, `bases`), local ones only."""
    for entry in [*kustomize.resources, *(getattr(kustomize, "bases", None) or [])]:
        if isinstance(entry, str) and not is_remote(entry):
            target = join_path(directory, entry)
            if target is not None:
                yield target


def _provided_outside_git(model: Model, graph: Graph) -> dict[tuple[str, str | None, str], str]:
    """Secrets, ConfigMaps and sync objects that objects of the graph (as Flux applies them, where its view
    knows: moved by targetNamespace, patched) create in the cluster."""
    provided: dict[tuple[str, str | None, str], str] = {}
    for kustomize in model.of_type(KustomizeFile):
        namespace = kustomize.namespace if isinstance(kustomize.namespace, str) else None
        for kind, generators in (("ConfigMap", kustomize.configMapGenerator), ("Secret", kustomize.secretGenerator)):
            for generator in generators or ():
                if isinstance(generator, dict) and isinstance(generator.get("name"), str):
                    provided[(kind, namespace, generator["name"])] = f"a {kind.lower()}Generator in {kustomize.path}"
    for obj in graph.objects:
        if not obj.name:
            continue
        namespace = graph.namespace_of(obj)
        if "${" in obj.name:
            # a name a post-build variable fills in from outside the repository (`infra-${CLUSTER}`): it may be
            # any name of that shape (`_named_by`), in any namespace where the namespace is one too
            where = None if namespace is None or "${" in namespace else namespace
            provided.setdefault((obj.kind or "", where, obj.name), f"{obj.kind} {obj.ref}, whose name a post-build "
                                                                   "variable fills in")
            continue
        data = graph.data_of(obj)
        if obj.group == "external-secrets.io" and obj.kind in ("ExternalSecret", "PushSecret"):
            target = value_at(data, ("spec", "target", "name")) or obj.name
            provided[("Secret", namespace, str(target))] = f"ExternalSecret {obj.ref}"
        elif obj.group == "bitnami.com" and obj.kind == "SealedSecret":
            provided[("Secret", namespace, obj.name)] = f"SealedSecret {obj.ref}"
        elif obj.group.startswith("fluxcd.controlplane.io") and obj.kind == "FluxInstance":
            for kind in ("GitRepository", "OCIRepository", "Bucket", "Kustomization"):
                provided[(kind, namespace, obj.name)] = f"FluxInstance {obj.ref}"
        elif obj.group.startswith("fluxcd.controlplane.io") and obj.kind == "ResourceSet":
            provided.update(_resource_set_objects(data, namespace, f"ResourceSet {obj.ref}"))
        elif obj.group == "helm.toolkit.fluxcd.io" and obj.kind == "HelmRelease" and namespace \
                and isinstance(value_at(data, ("spec", "chart", "spec")), dict):
            # helm-controller makes a HelmChart of the chart template: `<namespace>-<name>`, in the source's
            # namespace (HelmRelease.GetHelmChartName, HelmChartTemplate.GetNamespace)
            chart_namespace = value_at(data, ("spec", "chart", "spec", "sourceRef", "namespace")) or namespace
            provided[("HelmChart", str(chart_namespace), f"{namespace}-{obj.name}")] = f"HelmRelease {obj.ref}"
        elif obj.group == "source.extensions.fluxcd.io" and obj.kind == "ArtifactGenerator":
            for artifact in value_at(data, ("spec", "artifacts")) or ():
                if isinstance(artifact, dict) and isinstance(artifact.get("name"), str):
                    provided[("ExternalArtifact", namespace, artifact["name"])] = f"ArtifactGenerator {obj.ref}"
    # `flux bootstrap` and the Flux Operator create the cluster's own source and Kustomization, and
    # repositories rarely commit them: the `flux-system` pair in `flux-system` counts as present.
    for kind in ("GitRepository", "OCIRepository", "Bucket", "Kustomization"):
        provided.setdefault((kind, "flux-system", "flux-system"), "flux bootstrap (the cluster's own sync objects)")
    return provided


#: The name of what a template makes (`<< inputs.tenant >>`): any name of its kind may be one of them.
ANY_NAME = "*"
_TEMPLATE_KIND = r"(?m)^\s*(?:-\s+)?kind:\s*[\"']?([A-Za-z][A-Za-z0-9]*)"  # compiled when a template is read


def _resource_set_objects(data: Any, namespace: str | None, by: str) -> dict[tuple[str, str | None, str], str]:
    """What a Flux Operator ResourceSet makes from its `resources` (a name or namespace its inputs fill
    in is any) and its `resourcesTemplate` text (only the kinds can be told: any name of those)."""
    made: dict[tuple[str, str | None, str], str] = {}
    resources = value_at(data, ("spec", "resources"))
    for resource in resources if isinstance(resources, list) else ():
        kind, name = value_at(resource, ("kind",)), value_at(resource, ("metadata", "name"))
        where = value_at(resource, ("metadata", "namespace"))
        if not isinstance(kind, str) or not isinstance(name, str):
            continue
        where = None if isinstance(where, str) and "<<" in where else where if isinstance(where, str) else namespace
        made[(kind, where, ANY_NAME if "<<" in name else name)] = by
    template = value_at(data, ("spec", "resourcesTemplate"))
    for kind in re.findall(_TEMPLATE_KIND, template) if isinstance(template, str) else ():
        made.setdefault((kind, None, ANY_NAME), by)
    return made


# --------------------------------------------------------------------------- paths: what a Kustomization applies


@dataclass(slots=True)
class PathResolution:
    """Where a Flux Kustomization's `spec.path` leads inside this repository."""

    kustomization: KubernetesObject
    #: Normalised folder relative to the root ("" for the root), or None when it cannot be judged.
    folder: str | None
    #: Why the path is not judged (`${VAR}`, a source that is not this repository, ...).
    skipped: str | None = None
    #: The path climbs above the source root (Flux clamps it to the root: `folder` is the clamped path).
    escapes: bool = False
    #: Files the Kustomization applies (kustomization.yaml resources, or every manifest below the folder).
    files: list[str] = field(default_factory=list)
    #: The Kustomization's data as the cluster gets it (Flux's view: patched, substituted); None: as written.
    data: Any = None


#: Sources whose artifact is this repository: the bootstrap GitRepository. Paths into any other source
#: (another Git repository, an OCI artifact built from a sub-folder, a Bucket) are not checked.
LOCAL_SOURCES = frozenset({("GitRepository", "flux-system")})


def resolve_paths(model: Model, index: "FileIndex", source_root: str = "",
                  compiled_folders: Iterable[str] = (), view: Any = None) -> list[PathResolution]:
    if view is not None and view.active:
        return _view_paths(view)
    out = []
    patches = model.patch_files
    for ks in model.of_type("Kustomization"):
        if archived(ks.path) or ks.path in patches:
            continue
        raw = ks.spec.path if isinstance(ks.spec.path, str) else "./"
        source = ks.spec.sourceRef
        source_key = ((source.kind if source else None) or "GitRepository", source.name if source else None)
        result = PathResolution(ks, None)
        if "${" in raw:
            raw = _substitute(raw, ks)
        if raw is None:
            result.skipped = "the path holds a ${VAR} substitution with no known value"
        elif source_key not in LOCAL_SOURCES:
            result.skipped = f"the path is inside {source_key[0]}/{source_key[1]}, not (known to be) this repository"
        else:
            folder = join_path(source_root, raw.strip(), clamp=True, floor=source_root)
            compiled = next((c for c in compiled_folders if folder == c or folder.startswith(c + "/")), None)
            if compiled is not None:
                result.skipped = f"the path is inside {compiled}/, compile's own output, which compile does not read"
                out.append(result)
                continue
            result.escapes = join_path(source_root, raw.strip(), floor=source_root) is None
            result.folder = folder
            result.files = index.applied_files(folder)
        out.append(result)
    return out


def _view_paths(view: Any) -> list[PathResolution]:
    """Paths as Flux's view followed them: each Kustomization as the cluster gets it (overlay patches,
    substitution), and the files its build reads. Kustomizations the Flux Operator makes have no
    object in the repository to point at, and are left out."""
    out = []
    seen: set[int] = set()
    for applied in view.applied:
        resource = applied.kustomization
        if resource.origin is None:
            continue
        obj = view.typed(resource)
        if obj is None or id(obj) in seen:
            continue
        seen.add(id(obj))
        out.append(PathResolution(obj, applied.folder, applied.skipped, applied.escapes, list(applied.files),
                                  resource.data))
    return out


def _substitute(text: str, ks: Any) -> str | None:
    """`${VAR}` / `${VAR:=default}` from the Kustomization's own postBuild.substitute, or None."""
    from gitops_lint.view.substitute import Unknown, Variables, substitute_text

    post_build = ks.doc.data.get("spec", {}).get("postBuild") if isinstance(ks.doc.data.get("spec"), dict) else None
    inline = post_build.get("substitute") if isinstance(post_build, dict) else None
    values = {str(k): str(v) for k, v in inline.items()} if isinstance(inline, dict) else {}
    try:
        result = substitute_text(text, Variables(values, literal=False))
    except Unknown:
        return None
    return None if "${" in result else result


class FileIndex:
    """Answers questions about the repository's folders from the list of files discovery found."""

    def __init__(self, rels: list[str], model: Model, excluded: Iterable[str] = ()):
        self.files = set(rels)
        #: Files (and their folders) the configuration's `exclude` keeps out of the lint: they exist all the same.
        self.excluded = set(excluded)
        self.excluded |= {rel.rsplit("/", i)[0] for rel in self.excluded for i in range(1, rel.count("/") + 1)}
        #: Sorted, so the files below a folder are one contiguous slice (found by bisection).
        self.sorted_files = sorted(self.files)
        self.dirs: set[str] = {""}
        for rel in rels:
            folder = rel.rpartition("/")[0]
            while folder not in self.dirs:  # up to the first folder known already: its parents are too
                self.dirs.add(folder)
                folder = folder.rpartition("/")[0]
        self.kustomize = {}
        for obj in model.objects:
            if isinstance(obj, KustomizeFile):
                self.kustomize[obj.path.rpartition("/")[0]] = obj

    def below(self, folder: str) -> list[str]:
        """Every file under `folder`, sorted."""
        import bisect

        if not folder:
            return list(self.sorted_files)
        prefix = folder + "/"
        start = bisect.bisect_left(self.sorted_files, prefix)
        end = bisect.bisect_left(self.sorted_files, prefix[:-1] + "0")  # "0" sorts right after "/"
        return self.sorted_files[start:end]

    def exists(self, rel: str) -> bool:
        return rel in self.files or rel in self.dirs or rel in self.excluded

    def applied_files(self, folder: str) -> list[str]:
        seen: set[str] = set()
        out: list[str] = []
        self._collect(folder, out, seen)
        return out

    def _collect(self, folder: str, out: list[str], seen: set[str]) -> None:
        if folder in seen:
            return
        seen.add(folder)
        kustomize = self.kustomize.get(folder)
        if kustomize is None:
            # kustomize-controller generates a kustomization of every manifest below the folder
            out.extend(self.below(folder))
            return
        out.append(kustomize.path)
        for key in ("resources", "components", "bases"):
            entries = getattr(kustomize, key, None) or []
            for entry in entries:
                if not isinstance(entry, str) or is_remote(entry):
                    continue
                target = join_path(folder, entry)
                if target is None:
                    continue
                if target in self.files:
                    out.append(target)
                elif target in self.dirs:
                    self._collect(target, out, seen)


__all__ = ["FileIndex", "Graph", "PathResolution", "REFERENCES", "Reference", "RefSpec", "build_graph", "join_path",
           "resolve_paths"]
