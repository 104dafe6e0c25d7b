"""Flux's view of the repository: what each Flux Kustomization fed by this repository really applies.

Entry points are where a cluster starts reading the repository:

* a Flux Kustomization whose `spec.path` applies its own file (what `flux bootstrap`
  commits as `gotk-sync.yaml`), wherever it lives;
* a `FluxInstance`'s `spec.sync`, and the values of a HelmRelease of the
  `flux-instance` chart (`values.instance.sync`): the Flux Operator creates the
  source and the Kustomization (named `sync.name`, by default `flux-system`, in
  the instance's namespace);
* when neither is committed, the folders `flux bootstrap --path` points at by
  convention (`clusters/<name>`), as the sync Kustomization would read them.

From there, every Flux Kustomization an applied folder holds is followed when
its source is one of the entry points' sources (this repository), transitively.
Each is computed as kustomize-controller does: `kustomize build` of its path (a
folder without a kustomization file gets the one Flux generates), then Flux's
own steps: `spec.components`, `spec.patches`, `namePrefix`/`nameSuffix`,
`targetNamespace`, `commonMetadata`, generated names' hashes, and post-build
substitution. A repository with no entry point has no view: rules then judge it
file by file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from gitops_lint.discover import IGNORE_FILE, repository_reader
from gitops_lint.model import Model
from gitops_lint.model.base import Located
from gitops_lint.model.kubernetes import KubernetesObject
from gitops_lint.model.kustomize import FILE_NAMES
from gitops_lint.view.sourceignore import IgnorePattern, artifact_filter, read_patterns
from gitops_lint.view.kustomize import (Build, BuildProblem, FluxMerge, Kustomizer, Resource, archived, finish,
                                        generated_clashes, join_path, merged_map, run_held)
from gitops_lint.view.state import FluxView
from gitops_lint.view.substitute import Variables, substitute, substitutes_always
from gitops_lint.yaml.loader import SourceFile
from gitops_lint.yaml.positions import value_at

KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
SOURCE_GROUP = "source.toolkit.fluxcd.io"
OPERATOR_GROUP = "fluxcd.controlplane.io"
SOURCE_KINDS = ("GitRepository", "OCIRepository", "Bucket", "ExternalArtifact")
#: What source-controller leaves out of every Git artifact (its default ignore list), as far as manifests go.


@dataclass(slots=True, eq=False)
class Applied:
    """One Flux Kustomization as kustomize-controller runs it."""

    #: The Kustomization as the cluster gets it (overlay patches, targetNamespace and substitution applied).
    kustomization: Resource
    #: The sync objects' creator (`FluxInstance/flux-system/flux`), for a Kustomization the Flux Operator makes.
    made_by: str | None = None
    #: Folder `spec.path` leads to, relative to the repository root; None when not judged.
    folder: str | None = None
    #: Why the path is not followed (another source, a `${VAR}` with no known value, ...).
    skipped: str | None = None
    #: The path climbs above the source root, which Flux clamps.
    escapes: bool = False
    resources: list[Resource] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    problems: list[BuildProblem] = field(default_factory=list)
    complete: bool = True
    #: The post-build variables Flux substitutes in what it applies.
    variables: Variables = field(default_factory=Variables)
    #: Values its build's replacements copied out of Secrets (`Build.secret_texts`).
    secret_texts: set[str] = field(default_factory=set)
    #: The object that makes a Kustomization the repository does not hold (a FluxInstance), for findings.
    holder: Located | None = None
    #: The folder of this repository that its source's artifact holds (its paths start there).
    root: str = ""
    #: Which entry point (cluster) it was reached from.
    cluster: int = 0
    #: Reached through a Kustomization with a `kubeConfig`: it lives in another cluster than `cluster`.
    remote: bool = False

    @property
    def builds_remote(self) -> bool:
        """It applies what it builds to another cluster (`spec.kubeConfig`)."""
        spec = self.kustomization.data.get("spec")
        return isinstance(spec, dict) and bool(spec.get("kubeConfig"))

    @property
    def key(self) -> str:
        r = self.kustomization
        return "/".join(p for p in ("Kustomization", r.namespace, r.name) if p)

    @property
    def source(self) -> tuple[str, str | None, str | None]:
        """(kind, namespace, name) of its sourceRef."""
        spec = self.kustomization.data.get("spec")
        ref = spec.get("sourceRef") if isinstance(spec, dict) else None
        ref = ref if isinstance(ref, dict) else {}
        kind = ref.get("kind") if isinstance(ref.get("kind"), str) else "GitRepository"
        namespace = ref.get("namespace") if isinstance(ref.get("namespace"), str) else self.kustomization.namespace
        return kind, namespace, ref.get("name") if isinstance(ref.get("name"), str) else None


def build_view(model: Model, files: list[SourceFile], root: Path | None = None, source_root: str = "",
               compiled_folders: Iterable[str] = (), read=None, ignore_files: Iterable[str] | None = None,
               linked_files: Iterable[str] = ()) -> FluxView:
    """Flux's view of the repository (an inactive view when it has no entry point). `read` gives the
    bytes of files discovery did not load (default: `repository_reader(root)`); `ignore_files` are the
    repository's `.sourceignore` files, when discovery knows them."""
    if read is None:
        read = repository_reader(root) if root is not None else (lambda rel: None)
    kustomizer = Kustomizer(model.objects, files, read)
    patch_files = model.patch_files
    view = FluxView(model=model, ignore_files=None if ignore_files is None else list(ignore_files),
                    linked_files=frozenset(linked_files))
    entries = _entry_points(model, kustomizer, source_root, patch_files, view)
    if not entries:
        return view
    compiled = tuple(compiled_folders)
    view.artifacts = _artifacts(model, view)
    while True:
        _follow_in_rounds(view, entries, kustomizer, source_root, compiled)
        # An entry point another cluster applies (perhaps through a path only its variables fill in) is
        # that cluster's: follow again without it, from the start, as clusters are numbered by entry.
        clusters = _clusters(entries, view.applied)
        if len(clusters) == len(entries):
            return view
        entries = clusters


def _follow_in_rounds(view: FluxView, entries: list[Applied], kustomizer: Kustomizer, source_root: str,
                      compiled: tuple[str, ...]) -> None:
    # Two rounds: the first finds the ConfigMaps and Secrets that `substituteFrom` reads; the second
    # substitutes with them, which may reveal paths the first could not follow.
    values: dict[tuple[int, str, str | None, str], dict[str, str]] = {}
    for first in (True, False):
        view.applied = _follow(entries, kustomizer, view, source_root, compiled, values)
        view._files = view._placed = None
        if not first:
            return
        values = variable_sources(view)
        if all(_variables(applied, values) == applied.variables for applied in view.applied):
            return  # no Kustomization reads what the first round found: the second would repeat it exactly


def _typed(resource: Resource) -> KubernetesObject | None:
    from gitops_lint.model import model_class
    from gitops_lint.model.base import build_lenient

    origin = resource.origin
    data = resource.data
    if origin is not None:
        if data is origin.doc.data:
            return origin
        raw = origin.doc.data
        if isinstance(raw, dict) and all(data.get(k) is v for k, v in raw.items() if k != "metadata") \
                and len(data) == len(raw):
            metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
            update = {k: metadata.get(k) for k in ("name", "namespace")}
            for key in ("labels", "annotations"):
                if isinstance(metadata.get(key), dict):
                    update[key] = {str(k): v if v is None else str(v) for k, v in metadata[key].items()}
            return origin.model_copy(update={"metadata": origin.metadata.model_copy(update=update)})
        return build_lenient(type(origin), origin.doc, data=data)[0]
    if not isinstance(data.get("kind"), str):
        return None
    cls = model_class(resource.group, resource.kind) or KubernetesObject
    return build_lenient(cls, resource.doc, data=data)[0]


# --------------------------------------------------------------------------- entry points


def _entry_points(model: Model, kustomizer: Kustomizer, source_root: str, patch_files: set[str],
                  view: FluxView) -> list[Applied]:
    entries: list[Applied] = []
    for obj in model.objects:
        if not isinstance(obj, KubernetesObject) or obj.path in patch_files or archived(obj.path):
            continue
        data = obj.doc.data
        if obj.group == OPERATOR_GROUP and obj.kind == "FluxInstance":
            sync = value_at(data, ("spec", "sync"))
            made_by = f"FluxInstance {obj.ref}"
            namespace = obj.namespace or "flux-system"
        elif obj.group.startswith("helm.toolkit.fluxcd.io") and obj.kind == "HelmRelease" and _instance_chart(data):
            sync = value_at(data, ("spec", "values", "instance", "sync")) or _values_file_sync(model, obj)
            made_by = f"HelmRelease {obj.ref} (flux-instance chart)"
            namespace = str(value_at(data, ("spec", "targetNamespace")) or obj.namespace or "flux-system")
        else:
            continue
        entry = _operator_sync(obj, sync, namespace, made_by, view)
        if entry is not None:
            entry.root = _root_holding(kustomizer, entry, source_root)
            entries.append(entry)
    if not entries:
        # flux-instance chart values kept in a values file (read through `valuesFrom`, or a ResourceSet
        # that wraps the HelmRelease): the shape `instance.sync.{kind,url,path}` is the chart's own.
        for doc in model.other_documents:
            sync = value_at(doc.data, ("instance", "sync"))
            if isinstance(sync, dict) and isinstance(sync.get("path"), str) and ("url" in sync or "kind" in sync):
                made_by = f"flux-instance chart values in {doc.file.rel}"
                holder = _first_object_below(model, doc.file.rel.rpartition("/")[0], any_kind=True)
                entry = _operator_sync(holder, sync, "flux-system", made_by, view) if holder is not None else None
                if entry is not None:
                    entry.root = _root_holding(kustomizer, entry, source_root)
                    entries.append(entry)
    if entries:
        view.entry_kind = "Flux Operator sync"
    for obj in model.objects:
        if not (isinstance(obj, KubernetesObject) and obj.group == KUSTOMIZE_GROUP and obj.kind == "Kustomization"):
            continue
        if obj.path in patch_files or archived(obj.path):
            continue
        for root in _candidate_roots(obj, source_root):
            applied = Applied(Resource(obj.doc.data, obj, obj.doc), root=root)
            if applied.source[0] == "ExternalArtifact":
                break  # assembled by an ArtifactGenerator: never the repository as it is
            if root != source_root and obj.path.rpartition("/")[0].rpartition("/")[2] != "flux-system":
                continue  # a repository kept in a sub-folder is recognised by its bootstrap layout only
            _resolve_path(applied)
            # The path must hold the Kustomization's own file; the repository root (`./`) only when a
            # kustomization file there lists it: a `./` path usually reads another source's artifact.
            if applied.folder is None or not (obj.path.startswith(applied.folder + "/")
                                              or (not applied.folder and "" in kustomizer.kustomize_by_dir)):
                continue
            build = _flux_build(kustomizer, applied.folder, _artifact_left_out(view, kustomizer, root, None))
            if any(r.doc is obj.doc for r in build.resources):
                entries.append(applied)
                view.entry_kind = view.entry_kind or "self-applying Kustomization"
                break
    if not entries:
        # `flux bootstrap --path=X` commits X/flux-system/gotk-*.yaml; without them, `clusters/<name>` by convention
        folders = sorted({rel.rpartition("/")[0].rpartition("/")[0] for rel in kustomizer.sources
                          if rel.rpartition("/")[0].rpartition("/")[2] == "flux-system"
                          and rel.rpartition("/")[2] in ("gotk-sync.yaml", "gotk-components.yaml")})
        kind = "flux-system/gotk-*.yaml of flux bootstrap"
        if not folders:
            folders = [d for d in sorted(kustomizer.dirs) if len(d.split("/")) >= 2
                       and d.split("/")[-2] in ("clusters", "cluster") and not archived(d + "/x")
                       and _first_object_below(model, d) is not None]
            kind = "the convention clusters/<name>"
        for folder in folders:
            holder = _first_object_below(model, folder)
            if holder is None or archived(folder + "/x"):
                continue
            data = {"apiVersion": f"{KUSTOMIZE_GROUP}/v1", "kind": "Kustomization",
                    "metadata": {"name": "flux-system", "namespace": "flux-system"},
                    "spec": {"path": "./" + folder, "sourceRef": {"kind": "GitRepository", "name": "flux-system"}}}
            entries.append(Applied(Resource(data, None, holder.doc), made_by=f"{kind} (bootstrap path ./{folder})",
                                   holder=holder, root=""))
        if entries:
            view.entry_kind = kind
    for entry in entries:
        kind, namespace, name = entry.source
        view.local_sources.setdefault((kind, name), entry.root)
        if entry.kustomization.origin is None and entry.holder is not None and not entry.made_by.startswith(
                ("FluxInstance", "HelmRelease", "flux-instance")):
            # bootstrap by convention: the cluster's own source is `flux-system`, Git or OCI
            view.local_sources.setdefault(("OCIRepository", name), entry.root)
        if entry.made_by and name:
            view.provided.setdefault((kind, namespace, name), entry.made_by)
            view.provided.setdefault(("Kustomization", entry.kustomization.namespace, entry.kustomization.name or ""),
                                     entry.made_by)
    _same_url_sources(model, view, entries)
    _local_git_settings(model, view)
    return entries


def _clusters(entries: list[Applied], applied: list[Applied]) -> list[Applied]:
    """The entry points that are clusters of their own: one whose file another cluster applies (a shared
    base kept in `clusters/base`, a self-applying Kustomization in a folder another cluster's Kustomization
    applies) is followed as part of that cluster, not as one whose references must resolve among its own
    objects. `applied` is what following every entry point (each its own cluster) gave."""
    if len(entries) < 2:
        return entries
    files: dict[int, set[str]] = {}
    for kustomization in applied:
        files.setdefault(kustomization.cluster, set()).update(kustomization.files)
    defined = [entry.kustomization.origin or entry.holder for entry in entries]

    def inside(i: int, j: int) -> bool:
        return defined[i] is not None and defined[i].path in files.get(j, ())

    return [entry for i, entry in enumerate(entries)
            if not any(j != i and inside(i, j) and not inside(j, i) for j in range(len(entries)))]


def _same_url_sources(model: Model, view: FluxView, entries: list[Applied]) -> None:
    """Sources of another name that read the same repository as an entry point's (same URL, and the same
    `ref` where both say one) are local too: their Kustomizations are followed rather than left unjudged.
    One pinned elsewhere (a tag, another branch) reads another revision, which is not the working tree."""
    urls: dict[str, str] = {}
    refs: dict[str, Any] = {}
    sources = [o for o in model.objects if isinstance(o, KubernetesObject) and o.group == SOURCE_GROUP
               and o.kind in ("GitRepository", "OCIRepository") and o.name]
    for obj in sources:
        url = _normal_url(value_at(obj.doc.data, ("spec", "url")))
        if url and (obj.kind, obj.name) in view.local_sources:
            urls.setdefault(url, view.local_sources[(obj.kind, obj.name)])
            refs.setdefault(url, value_at(obj.doc.data, ("spec", "ref")))
    for entry in entries:  # the operator's sync names its URL
        url = _normal_url(value_at(entry.holder.doc.data, ("spec", "sync", "url"))) if entry.holder is not None else None
        if url:
            urls.setdefault(url, entry.root)
    for obj in sources:
        url = _normal_url(value_at(obj.doc.data, ("spec", "url")))
        ref = value_at(obj.doc.data, ("spec", "ref"))
        if url in urls and (refs.get(url) is None or ref is None or ref == refs[url]):
            view.local_sources.setdefault((obj.kind, obj.name), urls[url])


def _local_git_settings(model: Model, view: FluxView) -> None:
    """What local GitRepositories change in their artifact: `spec.include` copies another repository into
    each entry's `toPath` (by default the included repository's name); `spec.ignore` leaves files out."""
    for obj in model.objects:
        if not (isinstance(obj, KubernetesObject) and obj.group == SOURCE_GROUP and obj.kind == "GitRepository"
                and (obj.kind, obj.name) in view.local_sources):
            continue
        ignore = value_at(obj.doc.data, ("spec", "ignore"))
        if isinstance(ignore, str):
            view.ignore_rules.setdefault((obj.kind, obj.name), read_patterns(ignore))
        entries = value_at(obj.doc.data, ("spec", "include"))
        for entry in entries if isinstance(entries, list) else ():
            repository = entry.get("repository") if isinstance(entry, dict) else None
            name = repository.get("name") if isinstance(repository, dict) else None
            to_path = entry.get("toPath") if isinstance(entry, dict) else None
            to_path = to_path if isinstance(to_path, str) and to_path.strip() else name
            if isinstance(to_path, str) and isinstance(name, str):
                folder = _clamp_to("", to_path.strip())
                view.included.setdefault((obj.kind, obj.name), []).append((folder, name))


def _normal_url(url: Any) -> str | None:
    """A repository URL without scheme, user, `.git` and trailing `/`: `ssh://git@host/a/b.git` and
    `https://host/a/b` name one repository."""
    if not isinstance(url, str) or "${" in url or "://" not in url:
        return None
    rest = url.split("://", 1)[1].split("@", 1)[-1].rstrip("/")
    rest = rest[:-4] if rest.endswith(".git") else rest
    host, _, path = rest.partition("/")
    return f"{host.split(':')[0].lower()}/{path}"


def _candidate_roots(obj: KubernetesObject, source_root: str) -> list[str]:
    """Folders that may be the root of the source a Kustomization reads (nearest first): those from which
    its `spec.path` leads to a folder holding its own file (a repository kept inside another: `repos/x/`)."""
    spec = obj.doc.data.get("spec") if isinstance(obj.doc.data, dict) else None
    raw = spec.get("path") if isinstance(spec, dict) else None
    if not isinstance(raw, str) or "${" in raw:
        return []
    path = _clamp_to("", raw.strip())
    folder = obj.path.rpartition("/")[0]
    roots = []
    ancestors = [folder] + [folder.rsplit("/", i)[0] for i in range(1, folder.count("/") + 1)] + [""]
    for ancestor in dict.fromkeys(ancestors):
        if not path:
            continue
        if ancestor == path:
            roots.append("")
        elif ancestor.endswith("/" + path):
            roots.append(ancestor[: -len(path) - 1])
    if not path:
        roots.append(source_root)
    if source_root in roots:
        roots.remove(source_root)
        roots.insert(0, source_root)
    return roots


def _root_holding(kustomizer: Kustomizer, entry: Applied, source_root: str) -> str:
    """The folder a sync's `path` is relative to: the source root when the path is there, else the one
    folder that holds it (an artifact built from a sub-folder, `oci://.../manifests` of `kubernetes/`)."""
    spec = entry.kustomization.data.get("spec", {})
    path = _clamp_to("", str(spec.get("path") or "./").strip())
    if not path or _clamp_to(source_root, path) in kustomizer.dirs:
        return source_root
    candidates = sorted((d[: -len(path) - 1] for d in kustomizer.dirs if d.endswith("/" + path)), key=len)
    return candidates[0] if candidates else source_root


def _values_file_sync(model: Model, release: KubernetesObject) -> Any:
    """`instance.sync` from a values file beside a flux-instance HelmRelease (read through `valuesFrom`
    of a generated ConfigMap, as the operator's own examples do)."""
    folder = release.path.rpartition("/")[0]
    prefix = folder + "/" if folder else ""
    for doc in model.other_documents:
        if doc.file.rel.startswith(prefix):
            sync = value_at(doc.data, ("instance", "sync"))
            if isinstance(sync, dict):
                return sync
    return None


def _operator_sync(obj: KubernetesObject, sync: Any, namespace: str, made_by: str, view: FluxView) -> Applied | None:
    if not isinstance(sync, dict):
        return None
    kind = sync.get("kind") if isinstance(sync.get("kind"), str) else "GitRepository"
    name = sync.get("name") if isinstance(sync.get("name"), str) else "flux-system"
    path = sync.get("path") if isinstance(sync.get("path"), str) else "./"
    data = {"apiVersion": f"{KUSTOMIZE_GROUP}/v1", "kind": "Kustomization",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"path": path, "prune": True, "sourceRef": {"kind": kind, "name": name}}}
    view.provided[(kind, namespace, name)] = made_by
    view.provided[("Kustomization", namespace, name)] = made_by
    return Applied(Resource(data, None, obj.doc, transforms=(f"made by {made_by}",)), made_by=made_by, holder=obj)


def _instance_chart(data: Any) -> bool:
    chart = value_at(data, ("spec", "chart", "spec", "chart"))
    if isinstance(chart, str) and chart.rstrip("/").rpartition("/")[2] == "flux-instance":
        return True
    ref = value_at(data, ("spec", "chartRef", "name"))
    return isinstance(ref, str) and "flux-instance" in ref


def _first_object_below(model: Model, folder: str, any_kind: bool = False) -> KubernetesObject | None:
    prefix = folder + "/" if folder else ""
    return next((o for o in model.objects if isinstance(o, KubernetesObject) and o.path.startswith(prefix)
                 and (any_kind or o.group == KUSTOMIZE_GROUP)), None)


# --------------------------------------------------------------------------- following Kustomizations


def _follow(entries: list[Applied], kustomizer: Kustomizer, view: FluxView, source_root: str,
            compiled: tuple[str, ...], values: dict) -> list[Applied]:
    out: list[Applied] = []
    seen: set[tuple] = set()
    queue = [Applied(e.kustomization, e.made_by, holder=e.holder, root=e.root, cluster=index)
             for index, e in enumerate(entries)]
    while queue:
        applied = queue.pop(0)
        # Each entry point is a cluster of its own: a base Kustomization two clusters share (patched
        # differently by each overlay) is followed once per cluster.
        key = (applied.cluster, applied.key, id(applied.kustomization.doc))
        if key in seen:
            continue
        seen.add(key)
        out.append(applied)
        applied.variables = _variables(applied, values)
        _resolve_path(applied)
        if applied.folder is None:
            continue
        if applied.source[0] == "ExternalArtifact" and applied.source[2] in view.artifacts:
            _artifact_path(applied, view.artifacts[applied.source[2]])
            if applied.folder is None:
                continue
        elif applied.source[0::2] not in view.local_sources:
            applied.skipped = (f"the path is inside {applied.source[0]}/{applied.source[2]}, not (known to be) "
                               "this repository")
            applied.folder = None
            continue
        inside = next((c for c in compiled if applied.folder == c or applied.folder.startswith(c + "/")), None)
        if inside is not None:
            applied.skipped = f"the path is inside {inside}/, compile's own output, which compile does not read"
            applied.folder = None
            continue
        included = _included_at(view, applied)
        if included is not None:
            applied.skipped = included
            applied.folder = None
            continue
        ignored = _artifact_left_out(view, kustomizer, applied.root, applied.source[0::2])
        build = _flux_build(kustomizer, applied.folder, ignored, _flux_merge(applied))
        applied.resources = _flux_steps(applied, build, _settings_hold_expressions(kustomizer, applied, build))
        applied.files = list(dict.fromkeys(build.files))
        applied.secret_texts = build.secret_texts
        applied.problems = list(build.problems)
        applied.problems += _left_out_of_artifact(view, kustomizer, applied, ignored)
        applied.complete = build.complete
        for resource in applied.resources:
            if resource.group == KUSTOMIZE_GROUP and resource.kind == "Kustomization" and resource.name:
                child = Applied(resource, cluster=applied.cluster, remote=applied.remote or applied.builds_remote)
                source = child.source[0::2]
                child.root = applied.root if source == applied.source[0::2] else view.local_sources.get(source, "")
                queue.append(child)
    return out


def _artifacts(model: Model, view: FluxView) -> dict[str, list[tuple[str, str]]]:
    """ExternalArtifacts that an ArtifactGenerator assembles from this repository's sources: artifact name ->
    (folder inside the artifact, folder of the repository copied there), from each `copy` entry."""
    out: dict[str, list[tuple[str, str]]] = {}
    for obj in model.objects:
        if not (isinstance(obj, KubernetesObject) and obj.kind == "ArtifactGenerator"
                and obj.group == "source.extensions.fluxcd.io") or archived(obj.path):
            continue
        roots = {}
        for source in value_at(obj.doc.data, ("spec", "sources")) or ():
            if isinstance(source, dict) and (source.get("kind"), source.get("name")) in view.local_sources:
                roots[str(source.get("alias"))] = view.local_sources[(source.get("kind"), source.get("name"))]
        for artifact in value_at(obj.doc.data, ("spec", "artifacts")) or ():
            if not isinstance(artifact, dict) or not isinstance(artifact.get("name"), str):
                continue
            for copy in artifact.get("copy") or ():
                if not isinstance(copy, dict) or not isinstance(copy.get("from"), str):
                    continue
                alias, _, inner = copy["from"].lstrip("@").partition("/")
                target = str(copy.get("to") or "@artifact/").lstrip("@").partition("/")[2]
                if alias in roots:
                    out.setdefault(artifact["name"], []).append(
                        (_glob_free(target), _clamp_to(roots[alias], _glob_free(inner))))
    return out


def _glob_free(path: str) -> str:
    """The folder part of a copy pattern, before any glob (`apps/**` -> `apps`)."""
    parts = []
    for part in path.split("/"):
        if any(c in part for c in "*?[{"):
            break
        parts.append(part)
    return _clamp_to("", "/".join(parts))


def _artifact_path(applied: Applied, copies: list[tuple[str, str]]) -> None:
    spec = applied.kustomization.data.get("spec", {})
    path = _clamp_to("", str(spec.get("path") or "./").strip())
    best = None
    for inside, folder in copies:
        if not inside or path == inside or path.startswith(inside + "/"):
            if best is None or len(inside) > len(best[0]):
                best = (inside, folder)
    if best is None:
        applied.folder = None
        applied.skipped = f"the path {path!r} is in no folder the ArtifactGenerator copies from this repository"
        return
    rest = path[len(best[0]):].lstrip("/")
    applied.folder = _clamp_to(best[1], rest)


def _artifact_left_out(view: FluxView, kustomizer: Kustomizer, root: str,
                       source: tuple[str, str | None] | None) -> Callable[[str], bool]:
    """What source-controller leaves out of the artifact of a source whose artifact holds `root` ((kind,
    name); None: one without `spec.ignore`), as a predicate on paths from the repository root
    (`sourceignore.artifact_filter`): the rules of every `.sourceignore` in the source, then the
    GitRepository's `spec.ignore`, Flux's defaults where there are none; and every symbolic link."""
    key = (root, source)
    found = view._artifact_filters.get(key)
    if found is None:
        left_out = artifact_filter([*_ignore_file_patterns(view, kustomizer, root),
                                    *(view.ignore_rules.get(source, ()) if source is not None else ())])
        prefix = root + "/" if root else ""
        linked = view.linked_files

        def found(rel: str, is_dir: bool = False) -> bool:
            return rel in linked or left_out(rel[len(prefix):] if prefix and rel.startswith(prefix) else rel, is_dir)

        view._artifact_filters[key] = found
    return found


def _ignore_file_patterns(view: FluxView, kustomizer: Kustomizer, root: str) -> list[IgnorePattern]:
    """The patterns of the `.sourceignore` files below `root`, each scoped to its folder, in the order
    Flux reads them (a folder's own file, then its subfolders' by name, depth first)."""
    found = view._ignore_files_below.get(root)
    if found is not None:
        return found
    if view.ignore_files is not None:
        candidates = view.ignore_files
    else:  # not known: one may sit in any folder that holds files
        candidates = [f"{folder}/{IGNORE_FILE}" if folder else IGNORE_FILE for folder in kustomizer.dirs]
    prefix = root + "/" if root else ""
    by_folder = []  # (the file's folder as parts below `root`, the file): sorted, Flux's walk order
    for rel in candidates:
        folder = rel.rpartition("/")[0]
        if rel.startswith(prefix):
            by_folder.append((tuple(folder[len(prefix):].split("/")) if folder != root else (), rel))
    found = view._ignore_files_below[root] = []
    for folder, rel in sorted(by_folder):
        text = kustomizer.read(rel)
        if text is not None:
            found += read_patterns(text, folder)
    return found


def _left_out_of_artifact(view: FluxView, kustomizer: Kustomizer, applied: Applied,
                          left_out: Callable[[str], bool]) -> list[BuildProblem]:
    """Files and folders the kustomizations of the build name that the source leaves out of its artifact
    (`_artifact_left_out`): kustomize-controller builds from the artifact, where they are not, so the build
    fails. An entry of a kustomization that is itself left out is not judged (the first one on the way is)."""
    if view._references_of is None:
        view._references_of = {}
        for ref in view.model.file_references if view.model is not None else ():
            view._references_of.setdefault(ref.owner.path, []).append(ref)
    problems = []
    written = applied.kustomization.origin  # the Flux Kustomization as written (None: an operator makes it)
    folder = applied.folder or ""
    below = kustomizer.below(folder)
    if written is not None and below and all(left_out(rel) for rel in below):
        why = ("they are symbolic links (or below one), and source-controller archives regular files only; "
               "commit the files themselves, or point spec.path at the folder the link leads to"
               if all(rel in view.linked_files for rel in below) else
               f"the source's ignore rules (a .sourceignore file or the {applied.source[0]}'s spec.ignore) leave "
               "them all out; narrow the rules (an allowlist needs a `!` line for this folder)")
        problems.append(BuildProblem(written, ("spec", "path"), (
            f"the artifact Flux builds {applied.key} from holds none of the files below {folder or './'}, so "
            f"Flux fails it (\"kustomization path not found\"), or applies nothing where other files keep the "
            f"folder: {why}"), artifact=folder))
        return problems
    spec = applied.kustomization.data.get("spec")
    components = spec.get("components") if isinstance(spec, dict) else None
    for index, entry in enumerate(components if isinstance(components, list) and written is not None else ()):
        if not isinstance(entry, str):
            continue
        component = kustomizer.kustomize_by_dir.get(join_path(folder, entry) or "")
        if component is not None and left_out(component.path):
            problems.append(BuildProblem(written, ("spec", "components", index), (
                f"{entry!r} is not in the artifact Flux builds {applied.key} from: the source's ignore rules "
                f"leave {component.path} out, so the component cannot be found and the build fails; narrow "
                "the rule or drop the entry"), artifact=component.path))
    for rel in dict.fromkeys(applied.files):
        for ref in view._references_of.get(rel, ()):
            target = ref.target
            if target is None or left_out(ref.owner.path):
                continue
            kustomization = kustomizer.kustomize_by_dir.get(target)
            missing = kustomization.path if kustomization is not None else target
            is_dir = kustomization is None and target in kustomizer.dirs
            if not left_out(missing, is_dir):
                continue
            if not (is_dir or missing in kustomizer.sources or kustomizer.read(missing) is not None):
                continue  # not in the working tree either (REF006's): what Flux would do cannot be told
            why = (f"{missing} is a symbolic link (or below one), and source-controller archives regular files "
                   "only, so kustomize cannot find it and the build fails; commit the file itself"
                   if missing in view.linked_files else
                   f"the source's ignore rules (a .sourceignore file or the {applied.source[0]}'s spec.ignore, else "
                   f"Flux's default exclusions) leave {missing} out, so kustomize cannot find it and the build "
                   "fails; narrow the rule or drop the entry")
            problems.append(BuildProblem(ref.owner, ref.field,
                                         f"{ref.entry!r} is not in the artifact Flux builds {applied.key} from: {why}",
                                         artifact=missing))
    return problems


def _flux_build(kustomizer: Kustomizer, folder: str, left_out: Callable[[str], bool] = lambda rel: False,
                merge: FluxMerge | None = None) -> Build:
    """`kustomize build` of a Kustomization's path in the source's artifact, which lacks what `left_out`
    says: with the kustomization Flux generates where none is (or where the artifact lacks it), holding
    what Flux writes into it (`merge`)."""
    if _kustomization_in_artifact(kustomizer, folder, left_out):
        build = kustomizer.build(folder, hold_replacements=True, merge=merge)  # replacements: `_flux_steps`
        return Build(folder, list(build.resources), list(build.files), list(build.problems), build.complete,
                     list(build.held), list(build.name_references), secret_texts=set(build.secret_texts))
    build = Build(folder)
    if folder not in kustomizer.dirs:
        return build
    written = _unread_kustomization(kustomizer, folder, left_out)
    if written is not None:
        # Flux reads the file it finds and generates none: one that does not parse fails the build (YAML001 says
        # where), an empty one lists nothing, and nothing of the folder is applied
        build.files.append(written)
        build.complete = not kustomizer.sources[written].incomplete
        held = next((o for o in kustomizer.by_file.get(written, ()) if isinstance(o, KubernetesObject)), None)
        if held is not None:
            refusal = ("apiVersion for Kustomization should be kustomize.config.k8s.io/v1beta1"
                       if held.kind == "Kustomization" else "kind should be Kustomization or Component")
            build.problems.append(BuildProblem(held, ("apiVersion",) if held.kind == "Kustomization" else ("kind",), (
                f"{written.rpartition('/')[2]} is the name kustomize reads its own settings from, but this one holds "
                f"a {held.kind} of {held.doc.data.get('apiVersion')}: Flux builds the folder with it as its "
                f"kustomization and kustomize refuses it (\"{refusal}\"); give the file another name (ks.yaml)")))
        return build
    skip_below: list[str] = []
    prefix = folder + "/" if folder else ""
    for rel in kustomizer.below(folder):
        if skip_below and rel.startswith(skip_below[-1]):
            continue  # sorted: the files below a skipped subfolder come together
        inner = rel[len(prefix):].split("/")
        if left_out(rel):
            continue
        # A subfolder holding a kustomization file is one resource, built by kustomize, not walked into.
        sub = next(("/".join(inner[:i]) for i in range(1, len(inner))
                    if _kustomization_in_artifact(kustomizer, f"{prefix}{'/'.join(inner[:i])}", left_out)), None)
        if sub is not None:
            target = prefix + sub
            skip_below.append(target + "/")
            build.include(kustomizer.build(target))
            continue
        if not rel.endswith((".yaml", ".yml")) or inner[-1] in FILE_NAMES:
            continue
        source = kustomizer.sources[rel]
        if source.skipped:
            build.complete = False
            continue
        build.files.append(rel)
        build.resources.extend(kustomizer.objects_of_file(rel, build=build))
    generated_clashes(build)
    if merge is not None:
        kustomizer.build_generated(folder, build, merge)
    return build


def _flux_merge(applied: Applied) -> FluxMerge | None:
    """What Flux writes into the kustomization of `applied`'s path (see `FluxMerge`); None when nothing."""
    spec = applied.kustomization.data.get("spec")
    spec = spec if isinstance(spec, dict) else {}
    components = spec.get("components")
    patches = spec.get("patches")
    images = spec.get("images")
    text = {key: value for key in ("targetNamespace", "namePrefix", "nameSuffix")
            if isinstance(value := spec.get(key), str) and value}
    if "${" in text.get("targetNamespace", ""):
        del text["targetNamespace"]  # a substitution with no known value: where Flux puts the objects is unknown
    merge = FluxMerge(
        _owner(applied), f"of {applied.key}",
        components=tuple(components) if isinstance(components, list) else (),
        patches=tuple((index, entry) for index, entry in enumerate(patches) if isinstance(entry, dict)
                      and isinstance(entry.get("patch"), str)) if isinstance(patches, list) else (),
        namespace=text.get("targetNamespace"), name_prefix=text.get("namePrefix"), name_suffix=text.get("nameSuffix"),
        images=tuple(i for i in images if isinstance(i, dict)) if isinstance(images, list) else ())
    return merge if merge.components or merge.patches or merge.images or text else None


def _unread_kustomization(kustomizer: Kustomizer, folder: str, left_out: Callable[[str], bool]) -> str | None:
    """A kustomization file of the folder, in the artifact, that holds no kustomization the model could read (it
    does not parse, or is empty)."""
    prefix = folder + "/" if folder else ""
    return next((rel for name in FILE_NAMES if (rel := prefix + name) in kustomizer.sources and not left_out(rel)),
                None)


def _kustomization_in_artifact(kustomizer: Kustomizer, folder: str, left_out: Callable[[str], bool]) -> bool:
    kustomization = kustomizer.kustomize_by_dir.get(folder)
    return kustomization is not None and not left_out(kustomization.path)


def _settings_hold_expressions(kustomizer: Kustomizer, applied: Applied, build: Build) -> bool:
    """Whether a `${VAR}` may reach an object through the build's settings rather than its own file: in the Flux
    Kustomization's spec (images, patches, prefixes) or in a kustomization file the build read (labels)."""
    if "${" in repr(applied.kustomization.data.get("spec")):
        return True
    return any("${" in source.text for rel in build.files if rel.rpartition("/")[2] in FILE_NAMES
               and (source := kustomizer.sources.get(rel)) is not None)


def _flux_steps(applied: Applied, build: Build, settings_hold_expressions: bool = False) -> list[Resource]:
    """What kustomize-controller does with the build of the path (the kustomization with Flux's own fields in
    it, `_flux_merge`): commonMetadata, the file's replacements (the last of kustomize's transformers, held
    back until Flux's fields ran), content hashes, then post-build substitution."""
    spec = applied.kustomization.data.get("spec")
    spec = spec if isinstance(spec, dict) else {}
    owner = applied.key
    common = spec.get("commonMetadata") if isinstance(spec.get("commonMetadata"), dict) else {}
    for key in ("labels", "annotations"):
        if isinstance(common.get(key), dict) and common[key]:
            build.resources = [r.changed(merged_map(r.data, key, common[key]), f"commonMetadata of {owner}")
                               for r in build.resources]
    run_held(build)  # the folder's replacements, last of the transformers of the kustomization Flux merges into
    resources = finish(build)
    if applied.variables.literal:
        return resources
    out = []
    for resource in resources:
        if not settings_hold_expressions and "${" not in resource.doc.file.text and \
                not any(t.startswith("patch") for t in resource.transforms):
            out.append(resource)  # nothing to substitute: neither its file nor a patch holds an expression
            continue
        data, _ = substitute(resource.data, applied.variables)
        out.append(resource if data is resource.data else resource.changed(data, f"postBuild of {owner}"))
    return out


def _owner(applied: Applied) -> Located:
    resource = applied.kustomization
    owner = resource.origin if resource.origin is not None else applied.holder
    assert owner is not None, "every Applied has an origin or a holder"
    return owner


def _included_at(view: FluxView, applied: Applied) -> str | None:
    """Why a path is not judged when it leads into what the source's `spec.include` fills; else None."""
    kind, _, name = applied.source
    for folder, repository in view.included.get((kind, name), ()):
        inside = join_path(applied.root, folder) if folder else applied.root
        if inside is not None and (applied.folder == inside or applied.folder.startswith(inside + "/")
                                   or not inside):
            return (f"the path is inside {inside or '.'}/, which {kind}/{name} includes from GitRepository "
                    f"{repository}: another repository's files")
    return None


def _resolve_path(applied: Applied) -> None:
    spec = applied.kustomization.data.get("spec")
    raw = spec.get("path") if isinstance(spec, dict) else None
    raw = raw if isinstance(raw, str) else "./"
    if "${" in raw:
        applied.skipped = "the path holds a ${VAR} substitution with no known value"
        applied.folder = None
        return
    clamped = _clamp_to(applied.root, raw.strip())
    applied.escapes = join_path(applied.root, raw.strip()) is None
    applied.folder = clamped
    applied.skipped = None


# --------------------------------------------------------------------------- post-build variables


def _variables(applied: Applied, values: dict) -> Variables:
    """The post-build variables of a Kustomization: `substituteFrom` reads its own cluster's objects."""
    kustomization = applied.kustomization
    spec = kustomization.data.get("spec")
    post_build = spec.get("postBuild") if isinstance(spec, dict) else None
    if not isinstance(post_build, dict):
        return Variables()
    inline = post_build.get("substitute")
    variables = Variables(literal=False)
    for ref in post_build.get("substituteFrom") or ():
        if not isinstance(ref, dict):
            variables.open_ended = True
            continue
        found = values.get((applied.cluster, str(ref.get("kind")), kustomization.namespace, str(ref.get("name"))))
        if found is None:
            if not ref.get("optional"):
                variables.open_ended = True
            continue
        variables.values.update(found)
        if ref.get("kind") == "Secret":
            variables.secret.update(value for value in found.values() if value.strip())
    if isinstance(inline, dict):
        variables.values.update({str(k): _text(v).replace("\n", "") for k, v in inline.items()})
    if not variables.values and not variables.open_ended and not substitutes_always(post_build):
        return Variables()
    return variables


def variable_sources(view: FluxView) -> dict[tuple[int, str, str | None, str], dict[str, str]]:
    """ConfigMaps and Secrets the view applies, per cluster: what `substituteFrom` can read (those whose
    values are unknown, SOPS-encrypted, left out)."""
    out: dict[tuple[int, str, str | None, str], dict[str, str] | None] = {}
    for resource, clusters in view.placed():
        if resource.group != "" or resource.kind not in ("ConfigMap", "Secret") or not resource.name:
            continue
        values = _object_values(resource)
        for cluster in clusters:
            out[(cluster, resource.kind, resource.namespace, resource.name)] = values
    return {k: v for k, v in out.items() if v is not None}


def _secret_data_texts(data: dict) -> Iterator[str]:
    """The values of a Secret's `data` (as written and decoded) and `stringData`, as text."""
    import base64

    for section in ("data", "stringData"):
        values = data.get(section)
        for value in values.values() if isinstance(values, dict) else ():
            if isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value).strip():
                yield str(value)
                if section == "data" and isinstance(value, str):
                    try:
                        yield base64.b64decode(value, validate=True).decode("utf-8")
                    except (ValueError, UnicodeDecodeError):
                        pass


def _object_values(resource: Resource) -> dict[str, str] | None:
    """The keys and text values of a ConfigMap or Secret (None: SOPS-encrypted)."""
    import base64

    data = resource.data
    if "sops" in data:
        return None
    values: dict[str, str] = {}
    raw = data.get("data") if isinstance(data.get("data"), dict) else {}
    for key, value in raw.items():
        if resource.kind == "Secret":
            try:
                values[str(key)] = base64.b64decode(str(value), validate=True).decode()
            except (ValueError, UnicodeDecodeError):
                continue
        else:
            values[str(key)] = _text(value)
    if isinstance(data.get("stringData"), dict):
        values.update({str(k): _text(v) for k, v in data["stringData"].items()})
    if any("${" in v for v in values.values()):
        values = {k: v for k, v in values.items() if "${" not in v}
    return values


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


# --------------------------------------------------------------------------- small helpers


def _clamp_to(root: str, entry: str) -> str:
    """Flux's secure join: a path climbing above the source root stops there."""
    return join_path(root, entry, clamp=True, floor=root) or ""
