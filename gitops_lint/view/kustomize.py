"""kustomize build semantics over the typed model: which objects a folder builds to, with what identity.

This is what kustomize-controller runs for every Flux Kustomization, done on
the objects the model already holds (no file is read twice) and limited to what
rules judge: identities (group, kind, namespace, name), the fields patches and
transformers change, and where each object came from.

Order follows kustomize's `accumulateTarget`: resources (files, and folders
built recursively), then components (each one accumulates onto what is there
and transforms all of it), then the kustomization's own generators, then its
builtin transformers in kustomize's fixed order: strategic-merge patches,
`patches`, namespace, name prefix and suffix, labels, annotations, JSON 6902
patches. Names of generated ConfigMaps and Secrets get their content hash last,
over the final content, as kustomize does at the end of the top-level build.

Not modelled (the build is then marked incomplete where it matters): remote
resources, `helmCharts` (Flux never enables Helm in kustomize), plugin
`generators`/`transformers`, `images` and `replicas` (they never touch an
identity or a Flux field rules read). `replacements` are applied (they may write
Flux fields, e.g. a Namespace's name into every Kustomization's targetNamespace),
except forms of field path not modelled, which leave the build incomplete.
"""

from __future__ import annotations

import base64
import functools
import json
import posixpath
import re
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Iterator

from gitops_lint.model.base import Located
from gitops_lint.model.kubernetes import KubernetesObject, api_group
from gitops_lint.model.kustomize import FILE_NAMES, KustomizeFile, is_remote
from gitops_lint.yaml.loader import Document, SourceFile
from gitops_lint.yaml.positions import value_at
from gitops_lint.view.paths import archived, join_path  # noqa: F401 - also this module's public names

#: The types (apiVersion, kind) kustomize 5.5 knows to be cluster-scoped (kyaml's built-in schema): its
#: namespace transformer leaves them alone, and their ids have no namespace. Any other type gets one, the
#: same kind at another version (`rbac.authorization.k8s.io/v1alpha1` ClusterRole, `FlowSchema` v1) and
#: kinds it does not know (ValidatingAdmissionPolicy, MutatingAdmissionPolicy) included.
CLUSTER_SCOPED = frozenset((version, kind) for versions, kinds in (
    (("admissionregistration.k8s.io/v1", "admissionregistration.k8s.io/v1beta1"),
     ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")),
    (("apiextensions.k8s.io/v1", "apiextensions.k8s.io/v1beta1"), ("CustomResourceDefinition",)),
    (("apiregistration.k8s.io/v1", "apiregistration.k8s.io/v1beta1"), ("APIService",)),
    (("certificates.k8s.io/v1", "certificates.k8s.io/v1beta1"), ("CertificateSigningRequest",)),
    (("flowcontrol.apiserver.k8s.io/v1beta1",), ("FlowSchema", "PriorityLevelConfiguration")),
    (("networking.k8s.io/v1", "networking.k8s.io/v1beta1"), ("IngressClass",)),
    (("node.k8s.io/v1", "node.k8s.io/v1beta1"), ("RuntimeClass",)),
    (("policy/v1beta1",), ("PodSecurityPolicy",)),
    (("rbac.authorization.k8s.io/v1", "rbac.authorization.k8s.io/v1beta1"), ("ClusterRole", "ClusterRoleBinding")),
    (("scheduling.k8s.io/v1", "scheduling.k8s.io/v1beta1"), ("PriorityClass",)),
    (("storage.k8s.io/v1", "storage.k8s.io/v1beta1"), ("CSIDriver", "CSINode", "StorageClass", "VolumeAttachment")),
    (("v1",), ("ComponentStatus", "Namespace", "Node", "NodeProxyOptions", "PersistentVolume")),
) for version in versions for kind in kinds)


def cluster_scoped(api_version: Any, kind: Any) -> bool:
    """Whether kustomize knows objects of this type to be cluster-scoped (`IsCertainlyClusterScoped`)."""
    return isinstance(api_version, str) and isinstance(kind, str) and (api_version, kind) in CLUSTER_SCOPED


#: Kinds whose `spec.replicas` kustomize's `replicas:` sets (of any group).
_SCALED = frozenset({"Deployment", "ReplicaSet", "ReplicationController", "StatefulSet"})
#: Kinds whose names kustomize never prefixes or suffixes.
_NAME_FIXED = frozenset({"CustomResourceDefinition", "Namespace", "APIService"})
#: API groups whose list fields kustomize merges by key in strategic-merge patches (built-in types);
#: lists of custom resources are replaced whole, as JSON merge patches do.
_BUILTIN_GROUPS = frozenset({"", "admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io",
                             "apps", "autoscaling", "batch", "certificates.k8s.io", "coordination.k8s.io",
                             "discovery.k8s.io", "events.k8s.io", "flowcontrol.apiserver.k8s.io", "networking.k8s.io",
                             "node.k8s.io", "policy", "rbac.authorization.k8s.io", "scheduling.k8s.io",
                             "storage.k8s.io"})


@dataclass(frozen=True, slots=True, eq=False)
class Resource:
    """One object as a build produces it: its data after transforms, and where it came from."""

    data: dict
    #: The model object it came from; None for what a generator made.
    origin: KubernetesObject | None
    #: The document it came from (for a generated object: the kustomization's), for positions.
    doc: Document
    #: Data path of the generator entry in `doc` that made it (generated objects only).
    generator: tuple = ()
    #: What changed it on the way, in order: `<what> from <file>` for a kustomization's (or a Flux
    #: Kustomization's patches), `<what> of <Kustomization key>` for Flux's (scoped runs read these).
    transforms: tuple[str, ...] = ()
    #: A generated ConfigMap or Secret whose name gets kustomize's content hash.
    needs_hash: bool = False
    #: (name, namespace) it had before each change that renamed or moved it (a prefix, suffix or hash, a
    #: namespace, a patch), the one as written first: kustomize finds an object by any id it has had.
    former_ids: tuple[tuple[str | None, str | None], ...] = ()
    #: (prefix, suffix) the build's name transformers put around its name as written (no content hash).
    affixes: tuple[str, str] = ("", "")
    #: A strategic-merge patch merged a list of mappings into it: kustomize merges such lists of built-in kinds
    #: by each field's merge key (`containerPort`, `mountPath`), the view by `name`, so what those lists hold
    #: may differ from kustomize's (a replacement that misses a field there is not told).
    merged_lists: bool = False

    @property
    def kind(self) -> str:
        return str(self.data.get("kind") or "")

    @property
    def group(self) -> str:
        return api_group(self.data.get("apiVersion") if isinstance(self.data.get("apiVersion"), str) else None)

    @property
    def version(self) -> str:
        api_version = self.data.get("apiVersion")
        return api_version.rpartition("/")[2] if isinstance(api_version, str) else ""

    @property
    def metadata(self) -> dict:
        metadata = self.data.get("metadata")
        return metadata if isinstance(metadata, dict) else {}

    @property
    def name(self) -> str | None:
        name = self.metadata.get("name")
        return name if isinstance(name, str) else None

    @property
    def namespace(self) -> str | None:
        namespace = self.metadata.get("namespace")
        return namespace if isinstance(namespace, str) and namespace else None

    @property
    def path(self) -> str:
        return self.doc.file.rel

    @property
    def identity(self) -> tuple[str, str, str | None, str | None]:
        """(group, kind, namespace, name): what kustomize and the API server tell objects apart by."""
        return (self.group, self.kind, self.namespace, self.name)

    @property
    def written_name(self) -> str | None:
        """The name the repository gives it: its manifest's, or its generator entry's (before prefix,
        suffix and content hash), which is what references to it hold."""
        if self.origin is not None:
            return self.origin.name
        name = value_at(self.doc.data, (*self.generator, "name")) if self.generator else None
        return name if isinstance(name, str) else None

    def changed(self, data: dict, transform: str, *, keeps_id: bool = True) -> "Resource":
        """A copy holding `data`. What renamed or moved it (a prefix, a namespace, a patch, the content hash)
        leaves its former id behind, as kustomize's transformers do (`StorePreviousId`); a replacement
        (`keeps_id=False`) leaves none."""
        former_ids = self.former_ids
        before, after = self.data.get("metadata"), data.get("metadata")
        if keeps_id and after is not before:
            name, namespace = self.name or None, self.namespace
            if (_meta_text(after, "name"), _meta_text(after, "namespace")) != (name, namespace):
                former_ids = (*former_ids, (name, namespace))
        # The constructor, not dataclasses.replace: builds call this for nearly every object they emit.
        return Resource(data, self.origin, self.doc, self.generator, (*self.transforms, transform), self.needs_hash,
                        former_ids, self.affixes, self.merged_lists)

    def renamed(self, name: str, transform: str, prefix: str = "", suffix: str = "") -> "Resource":
        """A copy named `name`, remembering the name it had (kustomize's references find it by any of them)
        and the prefix and suffix that made it (of several candidates, the referrer's own are meant)."""
        made = self.changed(with_metadata(self.data, "name", name), transform)
        return Resource(made.data, made.origin, made.doc, made.generator, made.transforms, made.needs_hash,
                        made.former_ids, (prefix + self.affixes[0], self.affixes[1] + suffix), made.merged_lists)

    @property
    def names(self) -> set[str]:
        """Every name it has had: as written, on the way, now."""
        return {self.written_name or "", *(name or "" for name, _ in self.former_ids), self.name or ""} - {""}


@dataclass(frozen=True, slots=True)
class BuildProblem:
    """Something kustomize would refuse, or that the view could not follow: at a field of `owner`, or
    (with no owner) at a whole document."""

    owner: Located | None
    field: tuple
    message: str
    #: kustomize (or Flux) fails the build on it; otherwise the view only could not follow it.
    fatal: bool = True
    doc: Document | None = None
    #: Where at `field` a finding points: "key" (an unknown key), "value" (a value of the wrong type, where
    #: TYP001 points too), or "" (a mapping or list at its key, a scalar at itself).
    point: str = ""
    #: The path the source's artifact lacks, for a build that fails on it (scoped runs report it there).
    artifact: str | None = None


@dataclass(slots=True)
class Build:
    """What one folder builds to."""

    folder: str
    resources: list[Resource] = field(default_factory=list)
    #: Every repository file the build reads (kustomization files, manifests, patches), in order.
    files: list[str] = field(default_factory=list)
    problems: list[BuildProblem] = field(default_factory=list)
    #: Something was not followed (remote resources, plugins): the object set may be larger.
    complete: bool = True
    #: (replacement, what, owner, where) of the top kustomization, held back to run after Flux's own steps
    #: (`run_held`).
    held: list = field(default_factory=list)
    #: (nameReference entry, file) of every `configurations:` file read: kustomize merges them all and
    #: applies them once, last (`finish`).
    name_references: list = field(default_factory=list)
    #: What kustomize refuses in the folder's own kustomization file only when it reads the file as
    #: written: a folder included by another build. At a Flux Kustomization's own path Flux rewrites the
    #: file leniently first (`kustomization_file`), so these do not count there.
    strict_problems: list[BuildProblem] = field(default_factory=list)
    #: Values a replacement copied out of a Secret into other objects: no output may print them.
    secret_texts: set[str] = field(default_factory=set)

    def include(self, sub: "Build") -> None:
        """Take in what a folder listed as a resource builds to."""
        self.secret_texts.update(sub.secret_texts)
        self.files.extend(sub.files)
        self.resources.extend(sub.resources)
        self.problems.extend(sub.problems)
        self.problems.extend(sub.strict_problems)  # kustomize reads an included folder's file as written
        self.name_references.extend(sub.name_references)
        self.complete = self.complete and sub.complete


@dataclass(frozen=True, slots=True)
class FluxMerge:
    """What Flux writes into the kustomization of a Kustomization's path before kustomize builds it (fluxcd/pkg
    kustomize_generator.go): `spec.components` and `spec.patches` after the file's own, `targetNamespace`,
    `namePrefix` and `nameSuffix` in place of the file's. kustomize then runs them as the file's own, so a
    component's objects get the file's namespace and labels, and Flux's patches run before them."""

    #: The Flux Kustomization as written: its patches are reported there.
    owner: Located
    #: `of <Kustomization key>`: how transforms name what Flux's own steps did.
    of: str
    components: tuple = ()
    #: (index in spec.patches, entry) of each entry with a `patch`.
    patches: tuple[tuple[int, dict], ...] = ()
    namespace: str | None = None
    name_prefix: str | None = None
    name_suffix: str | None = None
    #: `spec.images`, merged into the file's `images` by name.
    images: tuple[dict, ...] = ()


# --------------------------------------------------------------------------- copy-on-write helpers


def with_metadata(data: dict, key: str, value: Any) -> dict:
    """`data` with `metadata[key] = value`, copying only the two mappings on the way."""
    metadata = data.get("metadata")
    metadata = dict(metadata) if isinstance(metadata, dict) else {}
    metadata[key] = value
    out = dict(data)
    out["metadata"] = metadata
    return out


def merged_map(data: dict, key: str, values: dict) -> dict:
    """`data` with `values` added to `metadata[key]` (labels, annotations)."""
    current = data.get("metadata", {}).get(key) if isinstance(data.get("metadata"), dict) else None
    merged = dict(current) if isinstance(current, dict) else {}
    # a list or mapping there makes kustomize refuse the file (REF012): it is no label, not even as text
    merged.update({str(k): _label_text(v) for k, v in values.items() if not isinstance(v, (dict, list))})
    return with_metadata(data, key, merged)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """Where a kustomize transformer writes, for the objects of a kind (`types.FieldSpec`): a path of keys
    (a list on the way: each of its elements; `key[]` says one is there), made where missing when `create`
    (never a list)."""

    path: tuple[str, ...]
    create: bool = False
    kind: str = ""
    group: str | None = None  # None: any group
    version: str = ""

    def selects(self, resource: Resource) -> bool:
        return (not self.kind or self.kind == resource.kind) and (self.group is None or self.group == resource.group) \
            and (not self.version or self.version == resource.version)


def _specs(*entries: tuple) -> tuple[FieldSpec, ...]:
    """Field specs from (path, create, kind, group, version), the path as kustomize writes it (`a/b[]/c`)."""
    return tuple(FieldSpec(tuple(path.split("/")), create, kind, group, version)
                 for path, create, kind, group, version in entries)


_POD_SELECTORS = tuple(
    (f"spec/template/spec/affinity/{affinity}/{term}/labelSelector/matchLabels", False, kind, "apps", "")
    for kind in ("Deployment", "StatefulSet") for affinity in ("podAffinity", "podAntiAffinity")
    for term in ("preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm",
                 "requiredDuringSchedulingIgnoredDuringExecution"))
#: kustomize 5.5's built-in field specs (api/internal/konfig/builtinpluginconsts): labels of objects and of
#: the pods (and claims) they template, then selectors, which only `commonLabels` and `includeSelectors` write.
TEMPLATE_LABELS = _specs(
    ("metadata/labels", True, "", None, ""),
    ("spec/template/metadata/labels", True, "ReplicationController", None, "v1"),
    *((("spec/template/metadata/labels", True, kind, None, "") for kind in ("Deployment", "ReplicaSet", "DaemonSet"))),
    ("spec/template/metadata/labels", True, "StatefulSet", "apps", ""),
    ("spec/volumeClaimTemplates[]/metadata/labels", True, "StatefulSet", "apps", ""),
    ("spec/template/metadata/labels", True, "Job", "batch", ""),
    ("spec/jobTemplate/metadata/labels", True, "CronJob", "batch", ""),
    ("spec/jobTemplate/spec/template/metadata/labels", True, "CronJob", "batch", ""))
COMMON_LABELS = _specs(
    ("spec/selector", True, "Service", None, "v1"),
    ("spec/selector", True, "ReplicationController", None, "v1"),
    ("spec/selector/matchLabels", True, "Deployment", None, ""),
    *_POD_SELECTORS[:4],
    ("spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels", False, "Deployment", "apps", ""),
    ("spec/selector/matchLabels", True, "ReplicaSet", None, ""),
    ("spec/selector/matchLabels", True, "DaemonSet", None, ""),
    ("spec/selector/matchLabels", True, "StatefulSet", "apps", ""),
    *_POD_SELECTORS[4:],
    ("spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels", False, "StatefulSet", "apps", ""),
    ("spec/selector/matchLabels", False, "Job", "batch", ""),
    ("spec/jobTemplate/spec/selector/matchLabels", False, "CronJob", "batch", ""),
    ("spec/selector/matchLabels", False, "PodDisruptionBudget", "policy", ""),
    ("spec/podSelector/matchLabels", False, "NetworkPolicy", "networking.k8s.io", ""),
    ("spec/ingress/from/podSelector/matchLabels", False, "NetworkPolicy", "networking.k8s.io", ""),
    ("spec/egress/to/podSelector/matchLabels", False, "NetworkPolicy", "networking.k8s.io", "")) + TEMPLATE_LABELS
COMMON_ANNOTATIONS = _specs(
    ("metadata/annotations", True, "", None, ""),
    ("spec/template/metadata/annotations", True, "ReplicationController", None, "v1"),
    *((("spec/template/metadata/annotations", True, kind, None, "")
       for kind in ("Deployment", "ReplicaSet", "DaemonSet", "StatefulSet"))),
    ("spec/template/metadata/annotations", True, "Job", "batch", ""),
    ("spec/jobTemplate/metadata/annotations", True, "CronJob", "batch", ""),
    ("spec/jobTemplate/spec/template/metadata/annotations", True, "CronJob", "batch", ""))
_METADATA_LABELS = TEMPLATE_LABELS[:1]


def _label_field_specs(entry: dict) -> tuple[FieldSpec, ...]:
    """Where a `labels` entry writes: its own `fields`, then selectors and templates (`includeSelectors`), or
    templates (`includeTemplates`), or metadata only."""
    own = _specs(*((f["path"], f.get("create") is True, str(f.get("kind") or ""),
                    f.get("group") if isinstance(f.get("group"), str) and f.get("group") else None,
                    str(f.get("version") or ""))
                   for f in _as_list(entry.get("fields")) if isinstance(f, dict) and isinstance(f.get("path"), str)))
    if entry.get("includeSelectors") is True:
        return own + COMMON_LABELS
    return own + (TEMPLATE_LABELS if entry.get("includeTemplates") is True else _METADATA_LABELS)


def _with_field_specs(resource: Resource, steps: list[tuple[dict, tuple[FieldSpec, ...]]]) -> dict:
    """The object's data with each step's pairs written at the step's field specs that select it."""
    data = resource.data
    for pairs, specs in steps:
        texts = {str(k): _label_text(v) for k, v in pairs.items() if not isinstance(v, (dict, list))}
        for spec in specs:
            if spec.selects(resource):
                data = _merged_at(data, spec.path, texts, spec.create)
    return data


def _merged_at(value: Any, path: tuple[str, ...], texts: dict, create: bool) -> Any:
    """`value` with `texts` merged into the mapping at `path`, copying only what is on the way."""
    if isinstance(value, list):  # a list on the way: each of its elements
        return [_merged_at(item, path, texts, create) if isinstance(item, dict) else item for item in value]
    if not isinstance(value, dict):
        return value
    key, rest = path[0], path[1:]
    if key.endswith("[]"):  # each element of a list there; kustomize makes no list
        key = key[:-2]
        if not isinstance(value.get(key), list) or not rest:
            return value
    current = value.get(key)
    if current is None and not create:
        return value
    if rest:
        new = _merged_at({} if current is None else current, rest, texts, create)
    else:
        # a mapping there (a list or text makes kustomize refuse the object, reported elsewhere)
        new = {**current, **texts} if isinstance(current, dict) else dict(texts) if current is None else current
    if new is current:
        return value
    return {**value, key: new}


def _label_text(value: Any) -> str:
    """kustomize writes label and annotation values as strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


# --------------------------------------------------------------------------- the builder


class Kustomizer:
    """Builds folders of one repository; results are memoized per folder (transforms never mutate them)."""

    def __init__(self, objects: Iterable[Located], files: Iterable[SourceFile],
                 read: Callable[[str], bytes | None] = lambda rel: None):
        self.by_file: dict[str, list[Located]] = {}
        self.kustomize_by_dir: dict[str, KustomizeFile] = {}
        for obj in objects:
            self.by_file.setdefault(obj.path, []).append(obj)
            if isinstance(obj, KustomizeFile) and obj.path.rpartition("/")[2] in FILE_NAMES:
                folder = obj.path.rpartition("/")[0]
                current = self.kustomize_by_dir.get(folder)
                # the first of kustomize's names (a folder holding two fails to build: `build`)
                if current is None or FILE_NAMES.index(obj.path.rpartition("/")[2]) < \
                        FILE_NAMES.index(current.path.rpartition("/")[2]):
                    self.kustomize_by_dir[folder] = obj
        self.sources: dict[str, SourceFile] = {f.rel: f for f in files}
        self.dirs: set[str] = {""}
        for rel in self.sources:
            folder = rel.rpartition("/")[0]
            while folder not in self.dirs:  # up to the first folder known already: its parents are too
                self.dirs.add(folder)
                folder = folder.rpartition("/")[0]
        self.read = read
        self._memo: dict[tuple[str, bool], Build] = {}
        self._decoded: dict[int, list] = {}  # id(kustomization file) -> `decode_problems`
        self._configs: dict[str, SourceFile] = {}  # `configurations:` files read again as kustomize reads them
        #: Sorted, so the files below a folder are one contiguous slice (found by bisection).
        self._sorted = sorted(self.sources)

    def below(self, folder: str) -> list[str]:
        """Every file under `folder`, sorted."""
        import bisect

        if not folder:
            return self._sorted
        prefix = folder + "/"
        start = bisect.bisect_left(self._sorted, prefix)
        return self._sorted[start:bisect.bisect_left(self._sorted, prefix[:-1] + "0")]  # "0" sorts after "/"

    # ------------------------------------------------------------------ entry points

    def build(self, folder: str, *, hold_replacements: bool = False, merge: "FluxMerge | None" = None) -> Build:
        """What `kustomize build folder` gives, before name hashes; an error when it has no kustomization.
        With `hold_replacements`, the folder's own replacements wait in `Build.held` (see `run_held`); with
        `merge`, its kustomization holds what Flux writes into it (built afresh: the steps are one
        Kustomization's)."""
        key = (folder, hold_replacements)
        if merge is None and key in self._memo:
            return self._memo[key]
        previous = self._memo.get(key)
        self._memo[key] = Build(folder, complete=False)  # a folder that includes itself: kustomize's cycle error
        kustomization = self.kustomize_by_dir.get(folder)
        build = Build(folder)
        if kustomization is None:
            build.complete = False
        else:
            build.files.append(kustomization.path)
            prefix = f"{folder}/" if folder else ""
            written = [name for name in FILE_NAMES if prefix + name in self.sources]
            if len(written) > 1:
                build.problems.append(BuildProblem(kustomization, (), (
                    f"this folder holds {' and '.join(written)}: kustomize fails the build (\"Found multiple "
                    "kustomization files\"); keep one")))
            for problem in self.decode_problems(kustomization):
                (build.strict_problems if problem.strict_only else build.problems).append(
                    BuildProblem(kustomization, problem.path, problem.message, point=problem.point))
            self._accumulate(kustomization, build, hold_replacements=hold_replacements, merge=merge)
        if merge is None:
            self._memo[key] = build
        elif previous is None:
            del self._memo[key]
        else:
            self._memo[key] = previous
        return build

    def build_generated(self, folder: str, build: Build, merge: "FluxMerge") -> None:
        """Flux's steps on `build`, the kustomization Flux generates where the path has none (its files as
        `resources`): only what `merge` holds is run, in kustomize's order."""
        self._merged_components(folder, build, merge)
        self._transform(None, folder, {}, build, hold_replacements=True, merge=merge)

    def objects_of_file(self, rel: str, build: Build | None = None) -> list[Resource]:
        """The objects of one manifest file, as kustomize reads a resource file (what it refuses goes to
        `build.problems`)."""
        out: list[Resource] = []
        source = self.sources.get(rel)
        by_doc = {id(o.doc): o for o in self.by_file.get(rel, ())}
        # kustomize's reader: documents that are null or empty (`{}`, `[]`) are dropped; a `<Kind>List` with
        # `items` is replaced by its items, queued after the file's other documents (null items: nothing).
        queue = deque((doc.data, doc, by_doc.get(id(doc))) for doc in (source.documents if source is not None else ()))
        while queue:
            data, doc, obj = queue.popleft()
            if data is None or data == {} or data == []:
                continue
            kind = data.get("kind") if isinstance(data, dict) else None
            if isinstance(kind, str) and kind.endswith("List") and "items" in data and (
                    isinstance(data["items"], list) or data["items"] is None):
                queue.extend((item, doc, None) for item in data["items"] or () if isinstance(item, dict))
                continue
            name = data.get("metadata", {}).get("name") if isinstance(data, dict) and \
                isinstance(data.get("metadata"), dict) else None
            if not isinstance(data, dict) or not data.get("kind") or not name:
                if build is not None and isinstance(kind, str) and kind.endswith("List") and "items" not in data:
                    build.problems.append(BuildProblem(None, (), (
                        f"this {kind} has no items: kustomize passes it on as it is, an object without a "
                        "metadata.name, which Flux cannot apply; give it items or remove it"), doc=doc))
                elif build is not None:
                    what = ("is not a mapping" if not isinstance(data, dict) else
                            "has no kind" if not data.get("kind") else "has no metadata.name")
                    build.problems.append(BuildProblem(None, (), f"this document {what}, so it is no Kubernetes "
                                                       "object: kustomize refuses to build what includes it",
                                                       doc=doc))
                continue
            if build is not None and not isinstance(name, str):
                build.complete = False  # kustomize reads `name: 2024` as text; the view matches names as written
            out.append(Resource(data, obj if isinstance(obj, KubernetesObject) else None, doc))
        return out

    # ------------------------------------------------------------------ one kustomization

    def _accumulate(self, kustomization: KustomizeFile, build: Build, *, hold_replacements: bool = False,
                    merge: "FluxMerge | None" = None) -> None:
        folder = kustomization.path.rpartition("/")[0]
        data = kustomization.doc.data if isinstance(kustomization.doc.data, dict) else {}
        start = len(build.resources)
        for key in ("resources", "bases"):
            for index, entry in enumerate(_as_list(data.get(key))):
                self._resource(kustomization, folder, (key, index), entry, build)
        generated_clashes(build, start)
        # kustomize's order (accumulateTarget): a component's generators and transformers see this
        # kustomization's own generated objects
        self._configurations(folder, data, build)
        self._generators(kustomization, folder, data, build)
        for index, entry in enumerate(_as_list(data.get("components"))):
            self.component(folder, entry, build, kustomization, ("components", index))
        if merge is not None:
            self._merged_components(folder, build, merge)
        for key in ("generators", "transformers", "openapi"):  # plugins; a schema's own merge keys
            if data.get(key):
                build.complete = False
        for key in ("helmCharts", "helmChartInflationGenerator"):
            if data.get(key):
                # kustomize inflates charts only with --enable-helm, which Flux never passes (fluxcd issue 548)
                build.problems.append(BuildProblem(kustomization, (key,), (
                    f"{key}: kustomize inflates Helm charts only when built with --enable-helm, which Flux never "
                    "passes: the build fails with 'must specify --enable-helm'; install the chart with a "
                    "HelmRelease instead (its postRenderers take the kustomize patches)")))
        self._transform(kustomization, folder, data, build, hold_replacements, merge)

    def _merged_components(self, folder: str, build: Build, merge: "FluxMerge") -> None:
        for entry in merge.components:  # after the file's own: Flux appends them
            self.component(folder, entry, build)

    def _resource(self, owner: KustomizeFile, folder: str, where: tuple, entry: Any, build: Build) -> None:
        if not isinstance(entry, str) or not entry.strip():
            return
        if is_remote(entry):
            build.complete = False
            return
        target = join_path(folder, entry)
        if target is None:
            build.problems.append(BuildProblem(owner, where, f"{entry!r} leaves the repository"))
            return
        if target in self.sources:
            build.files.append(target)
            build.resources.extend(self.objects_of_file(target, build))
        elif target in self.kustomize_by_dir:
            if _kind_of(self.kustomize_by_dir[target]) == "Component":
                build.problems.append(BuildProblem(owner, where, (
                    f"{entry!r} is a Component (kind: Component): kustomize takes one under components:, never "
                    "as a resource, and refuses the build (expected kind != 'Component')")))
                return
            build.include(self.build(target))
        elif target in self.dirs:
            written = next((self.sources[f"{target}/{name}"] for name in FILE_NAMES
                            if f"{target}/{name}" in self.sources), None)
            what = (f"folder {entry!r} has no kustomization.yaml" if written is None else
                    f"{written.rel} does not parse" if written.incomplete else
                    f"{written.rel} is empty" if not any(d.data is not None for d in written.documents) else
                    f"{written.rel} is no mapping of kustomize settings")
            build.problems.append(BuildProblem(owner, where, f"{what}: kustomize refuses the build"))
        else:
            build.complete = False  # missing: REF006 reports it

    def component(self, folder: str, entry: Any, build: Build, owner: Located | None = None,
                  where: tuple = ()) -> None:
        """Accumulate the component `entry` (relative to `folder`; listed at `where` of `owner`, when a
        kustomization lists it) onto `build`: its resources are added and its transformers run on
        everything there (also Flux's `spec.components`)."""
        if not isinstance(entry, str) or is_remote(entry):
            build.complete = False
            return
        target = join_path(folder, entry)
        component = self.kustomize_by_dir.get(target or "")
        if component is None:
            build.complete = False
            return
        build.files.append(component.path)
        if _kind_of(component) != "Component":
            at = (owner, where) if owner is not None else (component, ("kind",) if component.doc.has(("kind",)) else ())
            build.problems.append(BuildProblem(*at, (
                f"{entry!r} is listed as a component but {component.path} is a {_kind_of(component)}: kustomize "
                "refuses the build (expected kind 'Component'); give it `kind: Component` or list it under "
                "resources:")))
            return
        build.problems.extend(BuildProblem(component, problem.path, problem.message, point=problem.point)
                              for problem in self.decode_problems(component))  # read as written, always
        self._accumulate(component, build)

    def _transformer_config(self, source: SourceFile) -> SourceFile:
        """A `configurations:` file as kustomize reads it (go-yaml v2's scalars: `create: yes` is true)."""
        from gitops_lint.yaml.loader import GO_YAML_V2, load_text

        if source.reader == GO_YAML_V2:
            return source
        found = self._configs.get(source.rel)
        if found is None:
            found = self._configs[source.rel] = load_text(source.text, source.rel, reader=GO_YAML_V2)
        return found

    def _config_problems(self, document: Document) -> list:
        """What sigs.k8s.io/yaml's UnmarshalStrict refuses in a `configurations:` file: unknown keys, wrong
        types (a number in a string field becomes that string)."""
        from gitops_lint.view.kustomization_file import TRANSFORMER_CONFIG, decode

        return [p for p in decode(document.data, TRANSFORMER_CONFIG) if not p.coerced]

    def decode_problems(self, kustomization: KustomizeFile) -> list:
        """What kustomize's strict decoding refuses in a kustomization file (`kustomization_file.decode`), once
        per file."""
        from gitops_lint.view.kustomization_file import decode

        found = self._decoded.get(id(kustomization))
        if found is None:
            found = self._decoded[id(kustomization)] = decode(kustomization.doc.data)
        return found

    def _configurations(self, folder: str, data: dict, build: Build) -> None:
        """The `nameReference` entries of the kustomization's `configurations:` files (its other transformer
        settings, and kustomize's built-in list, concern no reference the rules follow), and what kustomize
        refuses in those files."""
        for entry in _as_list(data.get("configurations")):
            target = join_path(folder, entry.strip()) if isinstance(entry, str) else None
            if target is None:
                continue
            source = self.sources.get(target)
            if source is None:
                raw = self.read(target)
                if raw is None:
                    continue  # missing: REF006 reports it
                from gitops_lint.yaml.loader import GO_YAML_V2, load_text

                source = load_text(raw.decode("utf-8", "replace"), target, reader=GO_YAML_V2)
            build.files.append(target)
            source = self._transformer_config(source)
            # go-yaml reads the first document only: one after an empty first is not read at all
            document = source.documents[0] if source.documents and source.documents[0].index == 0 else None
            if document is not None:
                build.problems.extend(BuildProblem(None, problem.path, problem.message, doc=document, point=problem.point)
                                      for problem in self._config_problems(document))
            config = document.data if document is not None else None
            for reference in _as_list(config.get("nameReference") if isinstance(config, dict) else None):
                if isinstance(reference, dict) and isinstance(reference.get("kind"), str):
                    build.name_references.append((reference, target))
            if isinstance(config, dict) and any(value for key, value in config.items() if key != "nameReference"):
                build.complete = False  # field specs of its own (labels, namespace, ...) write where the view does not

    # ------------------------------------------------------------------ generators

    def _generators(self, owner: KustomizeFile, folder: str, data: dict, build: Build) -> None:
        options = data.get("generatorOptions") if isinstance(data.get("generatorOptions"), dict) else {}
        ids: dict[tuple, list[int]] | None = None  # indexed at the first generator: most folders have none
        for key, kind in (("configMapGenerator", "ConfigMap"), ("secretGenerator", "Secret")):
            for index, entry in enumerate(_as_list(data.get(key))):
                if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                    continue
                made = self._generate(owner, folder, kind, entry, options, (key, index), build)
                behavior = entry.get("behavior") or "create"
                if ids is None:
                    ids = {}
                    for position, resource in enumerate(build.resources):
                        _index_ids(ids, resource, position)
                self._absorb_generated(owner, made, behavior if behavior in ("merge", "replace") else "create",
                                       (key, index), build, ids)

    def _generate(self, owner: KustomizeFile, folder: str, kind: str, entry: dict, options: dict,
                  where: tuple, build: Build) -> Resource:
        values: dict[str, bytes] = {}
        for literal in _as_list(entry.get("literals")):
            if isinstance(literal, str) and "=" in literal:
                key, _, value = literal.partition("=")
                values[key.strip()] = _unquote(value).encode()
        for env in [*_as_list(entry.get("envs")), *_as_list(entry.get("env"))]:
            text = self._read(folder, env)
            if text is None:
                build.complete = False
                continue
            for line in text.decode("utf-8-sig", "replace").splitlines():  # kustomize drops a byte order mark
                line = line.strip()
                if line and not line.startswith("#") and "=" in line:
                    key, _, value = line.partition("=")
                    values[key.strip()] = value.encode()
        for item in _as_list(entry.get("files")):
            if not isinstance(item, str):
                continue
            key, _, path = item.partition("=") if "=" in item else (posixpath.basename(item), "", item)
            content = self._read(folder, path)
            if content is None:
                build.complete = False
                continue
            values[key] = content
        merged_options = {**options, **(entry.get("options") if isinstance(entry.get("options"), dict) else {})}
        metadata: dict[str, Any] = {"name": entry["name"]}
        # the entry's namespace only: the kustomization's `namespace:` comes later, with its transformers,
        # so what a merge matches is the object as generated (kustomize's first id of it)
        if isinstance(entry.get("namespace"), str) and entry["namespace"]:
            metadata["namespace"] = entry["namespace"]
        for key in ("labels", "annotations"):
            if isinstance(merged_options.get(key), dict):
                metadata[key] = {str(k): _label_text(v) for k, v in merged_options[key].items()}
        obj: dict[str, Any] = {"apiVersion": "v1", "kind": kind, "metadata": metadata}
        if kind == "Secret":
            obj["type"] = entry.get("type") if isinstance(entry.get("type"), str) else "Opaque"
            if values:
                obj["data"] = {k: _kyaml_base64(v) for k, v in values.items()}
        else:
            text, binary = {}, {}
            for key, value in values.items():
                try:
                    text[key] = value.decode("utf-8")
                except UnicodeDecodeError:
                    binary[key] = _kyaml_base64(value)
            if text:
                obj["data"] = text
            if binary:
                obj["binaryData"] = binary
        if merged_options.get("immutable") is True:
            obj["immutable"] = True
        needs_hash = merged_options.get("disableNameSuffixHash") is not True
        return Resource(obj, None, owner.doc, generator=where, transforms=(f"generated by {owner.path}",),
                        needs_hash=needs_hash)

    def _absorb_generated(self, owner: KustomizeFile, made: Resource, behavior: str, where: tuple,
                          build: Build, ids: dict[tuple, list[int]]) -> None:
        """Add a generated object to the build as kustomize does (`appendReplaceOrMerge`): `merge` and
        `replace` need exactly one object that ever had its id (`ids`: `_index_ids` of the build), `create`
        none; kustomize refuses the build otherwise, and the view keeps going with what was asked for."""
        matches = sorted(set(ids.get((made.kind, made.name, _effective(made.namespace)), ())))
        shown = f"{made.kind} {made.name!r}" + (f" in namespace {made.namespace}" if made.namespace else "")
        if behavior == "create":
            if matches:
                earlier = build.resources[matches[0]]
                build.problems.append(BuildProblem(owner, where, (
                    f"it generates {shown}, which the build already holds (from {earlier.path}): kustomize refuses "
                    "the build; set behavior: merge or replace to change that one, or give this one another name")))
            _index_ids(ids, made, len(build.resources))
            build.resources.append(made)
            return
        if len(matches) != 1:
            why = ("no object the kustomization includes ever had that name in that namespace (a merge matches "
                   "the name and namespace an object was written or generated with, or was given on the way; "
                   "no namespace is 'default')" if not matches else f"{len(matches)} objects the build holds could take it")
            build.problems.append(BuildProblem(owner, where, (
                f"behavior: {behavior} of {shown}: {why}; kustomize refuses the build")))
            if not matches:
                _index_ids(ids, made, len(build.resources))
                build.resources.append(made)
                return
        index = matches[0]
        existing = build.resources[index]
        data = dict(existing.data)
        for key in ("data", "binaryData"):
            if behavior == "replace":
                data.pop(key, None)
            if key in made.data:
                data[key] = {**(data.get(key) or {}), **made.data[key]} if behavior == "merge" else made.data[key]
        build.resources[index] = replace(existing.changed(data, f"{behavior} by {made.path}"),
                                         needs_hash=existing.needs_hash and made.needs_hash)

    def _read(self, folder: str, entry: Any) -> bytes | None:
        if not isinstance(entry, str):
            return None
        target = join_path(folder, entry.strip())
        if target is None:
            return None
        content = self.read(target)  # the bytes kustomize hashes, not the decoded text
        source = self.sources.get(target)
        if content is None and source is not None and source.text:
            return source.text.encode()
        return content

    # ------------------------------------------------------------------ transformers

    def _transform(self, owner: KustomizeFile | None, folder: str, data: dict, build: Build,
                   hold_replacements: bool = False, merge: "FluxMerge | None" = None) -> None:
        """The kustomization's transformers, in kustomize's order (`configureBuiltinTransformers`): patches,
        namespace, prefix, suffix, labels, annotations, JSON 6902 patches, then replacements. `data` is
        the file's, `merge` what Flux writes into it."""
        for index, entry in enumerate(_as_list(data.get("patchesStrategicMerge"))):
            for patch in self._patch_documents(folder, entry, build):
                if isinstance(patch, dict):
                    self.apply_patch(build, patch, None, owner, ("patchesStrategicMerge", index))
        # the file's `patches`, then Flux's `spec.patches` appended to them
        entries: list[tuple[list, dict | None, Any, tuple, dict]] = []
        for index, entry in enumerate(_as_list(data.get("patches"))):
            if not isinstance(entry, dict):
                continue
            content = entry.get("patch") if isinstance(entry.get("patch"), str) else None
            patches = self._patch_documents(folder, entry.get("path"), build) if content is None \
                else parse_patch(content)
            entries.append((patches, _dict_or_none(entry.get("target")), owner, ("patches", index),
                            entry.get("options") if isinstance(entry.get("options"), dict) else {}))
        if merge is not None:
            entries += [(parse_patch(entry["patch"]), _dict_or_none(entry.get("target")), merge.owner,
                         ("spec", "patches", index), {}) for index, entry in merge.patches]
        for patches, target, by, where, options in entries:
            if not self._patch_entry_refused(build, patches, target, by, where):
                for patch in patches:
                    self.apply_patch(build, patch, target, by, where, options)
        own = f"from {owner.path}" if owner is not None else ""
        namespace, what = data.get("namespace"), f"namespace {own}"
        if merge is not None and merge.namespace:  # in place of the file's
            namespace, what = merge.namespace, f"targetNamespace {merge.of}"
        if isinstance(namespace, str) and namespace:
            set_namespace(build, namespace, what)
        prefix = data.get("namePrefix") if isinstance(data.get("namePrefix"), str) else ""
        suffix = data.get("nameSuffix") if isinstance(data.get("nameSuffix"), str) else ""
        what = f"name prefix/suffix {own}"
        if merge is not None and (merge.name_prefix or merge.name_suffix):  # each in place of the file's
            prefix, suffix = merge.name_prefix or prefix, merge.name_suffix or suffix
            what = f"name prefix/suffix {merge.of}"
        if prefix or suffix:
            add_name_affixes(build, prefix, suffix, what)
        # kustomize's label transformers: one per `labels` entry, then `commonLabels` (selectors and templates
        # too); each writes its pairs at the field specs of its kind, and a later one wins a key
        label_steps = [(entry["pairs"], _label_field_specs(entry)) for entry in _as_list(data.get("labels"))
                       if isinstance(entry, dict) and isinstance(entry.get("pairs"), dict) and entry["pairs"]]
        if isinstance(data.get("commonLabels"), dict) and data["commonLabels"]:
            label_steps.append((data["commonLabels"], COMMON_LABELS))
        if label_steps:
            build.resources = [r.changed(_with_field_specs(r, label_steps), f"labels from {owner.path}")
                               for r in build.resources]
        if isinstance(data.get("commonAnnotations"), dict) and data["commonAnnotations"]:
            steps = [(data["commonAnnotations"], COMMON_ANNOTATIONS)]
            build.resources = [r.changed(_with_field_specs(r, steps), f"annotations from {owner.path}")
                               for r in build.resources]
        for index, entry in enumerate(_as_list(data.get("patchesJson6902"))):
            if not isinstance(entry, dict) or not isinstance(entry.get("target"), dict):
                continue
            content = entry.get("patch") if isinstance(entry.get("patch"), str) else None
            patches = self._patch_documents(folder, entry.get("path"), build) if content is None \
                else parse_patch(content)
            for patch in patches:
                self.apply_patch(build, patch, entry["target"], owner, ("patchesJson6902", index))
        for index, entry in enumerate(_as_list(data.get("replicas"))):
            self._set_replicas(build, entry, owner, ("replicas", index))
        images = [(image, f"images {own}") for image in _as_list(data.get("images")) if isinstance(image, dict)]
        if merge is not None and merge.images:
            images = _merged_images(images, merge.images, f"images {merge.of}")
        for image, what in images:
            build.resources = [_with_image(r, image, what) for r in build.resources]
        for index, entry in enumerate(_as_list(data.get("replacements"))):  # the last of kustomize's transformers
            if not isinstance(entry, dict):
                continue
            specs = [entry]
            if "path" in entry:  # a file of them: a list, or one
                documents = self._patch_documents(folder, entry["path"], build)
                specs = [spec for document in documents for spec in _as_list(document) or [document]]
            build.held.extend((spec, f"replacement from {owner.path}", owner, ("replacements", index))
                              for spec in specs)
        if not hold_replacements:
            run_held(build)

    @staticmethod
    def _patch_entry_refused(build: Build, patches: list, target: dict | None, owner: Located, where: tuple) -> bool:
        """What kustomize refuses in a `patches` entry before it patches anything: a JSON patch without a
        target, several strategic-merge documents with one."""
        if target is None and any(isinstance(patch, list) for patch in patches):
            message = "a JSON 6902 patch needs a target: kustomize fails the build (\"must specify a target for JSON patch\")"
        elif target is not None and sum(isinstance(patch, dict) for patch in patches) > 1:
            message = ("with a target, a patches entry holds one strategic-merge patch, not several: kustomize fails "
                       "the build (\"Multiple Strategic-Merge Patches in one `patches` entry is not allowed to set "
                       "`patches.target` field\"); give each its own entry")
        else:
            return False
        build.problems.append(BuildProblem(owner, where, message))
        return True

    @staticmethod
    def _set_replicas(build: Build, entry: Any, owner: KustomizeFile, where: tuple) -> None:
        """kustomize's replica count transformer: `spec.replicas` of each workload of the kind its field specs
        name that has had the entry's name; none fails the build."""
        count = entry.get("count", 0) if isinstance(entry, dict) else None  # none is 0, as kustomize reads it
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or \
                not isinstance(count, int) or isinstance(count, bool):
            return  # what kustomize's strict reading refuses is reported with the file
        name, matched, out = entry["name"], False, []
        for resource in build.resources:
            if resource.kind in _SCALED and name in resource.names:
                matched = True
                spec = resource.data.get("spec")
                if spec is None or isinstance(spec, dict):
                    resource = resource.changed({**resource.data, "spec": {**(spec or {}), "replicas": count}},
                                                f"replicas from {owner.path}")
                else:
                    build.complete = False  # kustomize fails on it its own way
            out.append(resource)
        build.resources = out
        if not matched:
            build.problems.append(BuildProblem(owner, where, (
                f"no {', '.join(sorted(_SCALED))} here has the name {name}: kustomize fails the build (\"resource with "
                f"name {name} does not match a config\")"), fatal=build.complete))

    def _patch_documents(self, folder: str, entry: Any, build: Build) -> list[Any]:
        if not isinstance(entry, str):
            return []
        if is_inline_patch(entry):
            return parse_patch(entry)
        target = join_path(folder, entry.strip())
        source = self.sources.get(target or "")
        if source is None:
            text = self.read(target) if target else None
            if text is None:
                build.complete = False
                return []
            return parse_patch(text.decode("utf-8", "replace"))
        build.files.append(source.rel)
        return _list_items_inlined(doc.data for doc in source.documents if doc.data is not None)

    def apply_patch(self, build: Build, patch: Any, target: dict | None, owner: KustomizeFile, where: tuple,
               options: dict | None = None) -> None:
        """One patch (strategic merge when a mapping, JSON 6902 when a list) on the objects it selects."""
        if isinstance(patch, dict) and target is None:
            meta = patch.get("metadata") if isinstance(patch.get("metadata"), dict) else {}
            if not (isinstance(patch.get("kind"), str) and isinstance(meta.get("name"), (str, int, float))
                    and not isinstance(meta.get("name"), bool)):  # `name: 2024` is text to kustomize
                build.problems.append(BuildProblem(owner, where, (
                    "a strategic-merge patch without a target names its object by kind and metadata.name, and this one "
                    "lacks one: kustomize fails the build (\"unable to parse SM or JSON patch\")")))
                return
            api_version = patch.get("apiVersion") if isinstance(patch.get("apiVersion"), str) else ""
            target = {"kind": patch["kind"], "name": str(meta["name"]), "namespace": meta.get("namespace"),
                      "apiVersion": api_version, "group": api_group(api_version) if api_version else "",
                      "version": api_version.rpartition("/")[2]}  # kustomize compares the whole id
            exact = True
        else:
            exact = False
        if target is None:
            return
        matched = 0
        out = []
        what = f"patch from {owner.path}"
        for resource in build.resources:
            if not (_selected_by_id(target, resource, whole_id=True) if exact else selects(target, resource)):
                out.append(resource)
                continue
            matched += 1
            if isinstance(patch, list):
                data = json6902(resource.data, patch)
                if data is None:
                    # Certain where the view holds the object as kustomize does at this point of the build.
                    certain = build.complete and not resource.merged_lists
                    build.problems.append(BuildProblem(owner, where, (
                        f"a JSON 6902 patch does not apply to {resource.kind}/{resource.name} (an operation's path, "
                        "or its parent, is not there, or an index is out of range): kustomize fails the build "
                        "(\"does not apply\")"), fatal=certain))
                    build.complete = build.complete and certain
                    out.append(resource)
                    continue
            elif isinstance(patch, dict):
                if patch.get("$patch") == "delete":
                    continue
                if patch.get("$patch") == "replace":
                    out.append(resource)  # at the top of a patch, kustomize 5.5 leaves the object as it is
                    continue
                allowed = options or {}
                data = strategic_merge(resource.data, patch if exact else _without_identity(
                    patch, name=allowed.get("allowNameChange") is True, kind=allowed.get("allowKindChange") is True),
                                       resource.group in _BUILTIN_GROUPS)
                if not allowed.get("allowNameChange") and isinstance(resource.data.get("metadata"), dict):
                    data = with_metadata(data, "name", resource.data["metadata"].get("name"))
                data = _with_namespace_of(resource, data)  # kustomize sets it back after the merge
            else:
                out.append(resource)
                continue
            changed = resource.changed(data, what)
            if isinstance(patch, dict) and resource.group in _BUILTIN_GROUPS and _holds_list_of_mappings(patch):
                changed = replace(changed, merged_lists=True)
            out.append(changed)
        build.resources = out
        if not matched and exact:
            # Certain only where the view holds everything the build accumulated so far.
            build.problems.append(BuildProblem(owner, where, _no_patch_target(target, build), fatal=build.complete))
        elif matched > 1 and exact:
            build.problems.append(BuildProblem(owner, where, (
                f"the patch names {target.get('kind')}/{target.get('name')}, an id {matched} objects of this build "
                "have had: kustomize fails the build (\"multiple matches for Id\"); give the patch the namespace of "
                "the one it means, or a target"), fatal=build.complete))


def _no_patch_target(target: dict, build: Build) -> str:
    """Why a strategic-merge patch without a target finds no object, the way kustomize compares ids: where an
    object of its type and name is there in another namespace (or none), it says so."""
    kind, name, namespace = target.get("kind"), target.get("name"), target.get("namespace")
    where = f" in namespace {namespace}" if isinstance(namespace, str) and namespace else ""
    same = [r for r in build.resources if (r.group, r.version, r.kind) == (target.get("group"), target.get("version"),
                                                                          kind) and name in r.names]
    hint = ""
    if same and all(r.namespace is None for r in same) and where:
        hint = "; the build holds it without a namespace, so the patch must name none (or default)"
    elif same:
        hint = (f"; the build holds it in namespace {', '.join(sorted({r.namespace or 'default' for r in same}))}, "
                "and the patch must name that namespace" + ("" if where else " (none means default)"))
    elif any(r.kind == kind and name in r.names for r in build.resources):
        hint = f"; the build holds it at another apiVersion than the patch's {target.get('apiVersion') or '(none)'}"
    return (f"the patch names {kind}/{name}{where}, which this build does not hold{hint}: kustomize fails the "
            "build (\"no matches for Id\")")


def _merged_images(images: list[tuple[dict, str]], flux: tuple[dict, ...], what: str) -> list[tuple[dict, str]]:
    """The file's `images` with Flux's `spec.images` written into them (kustomize_generator.go): an entry of
    the same name takes Flux's newName, and its newTag and digest together when Flux sets either."""
    out = list(images)
    for image in flux:
        at = next((i for i, (own, _) in enumerate(out) if own.get("name") == image.get("name")), None)
        if at is None:
            out.append(({k: image.get(k) for k in ("name", "newName", "newTag", "digest") if image.get(k)}, what))
            continue
        merged = dict(out[at][0])
        if image.get("newName"):
            merged["newName"] = image["newName"]
        if image.get("newTag") or image.get("digest"):
            merged["newTag"], merged["digest"] = image.get("newTag") or "", image.get("digest") or ""
        out[at] = (merged, what)
    return out


def _with_image(resource: Resource, image: dict, what: str) -> Resource:
    """kustomize's image transformer, one `images` entry: every `image` of a `containers` or `initContainers`
    list anywhere in the object (a CRD excepted) that names the image gets its new name, tag or digest."""
    name = image.get("name")
    if not isinstance(name, str) or not name or resource.kind == "CustomResourceDefinition":
        return resource
    try:
        pattern = re.compile(f"^{name}(:[a-zA-Z0-9_.{{}}-]*)?(@sha256:[a-zA-Z0-9_.{{}}-]*)?$")
    except re.error:
        return resource
    data = _with_images(resource.data, pattern, image)
    # then again at its field specs (pods and pod templates): what still names the image changes twice
    for path in (("spec",), ("spec", "template", "spec")):
        pod = _lookup(data, list(path))
        for key in ("containers", "initContainers"):
            containers = pod.get(key) if isinstance(pod, dict) else None
            if isinstance(containers, list):
                new = [_with_container_image(c, pattern, image) for c in containers]
                if any(a is not b for a, b in zip(new, containers)):
                    data = _set_at(data, (*path, key), new, False)
                    pod = _lookup(data, list(path))
    return resource if data is resource.data else resource.changed(data, what)


def _with_images(value: Any, pattern: re.Pattern, image: dict) -> Any:
    if isinstance(value, list):
        items = [_with_images(item, pattern, image) for item in value]
        return value if all(a is b for a, b in zip(items, value)) else items
    if not isinstance(value, dict):
        return value
    out = None
    for key, item in value.items():
        new = _with_images(item, pattern, image)
        if key in ("containers", "initContainers") and isinstance(new, list):
            new = [_with_container_image(c, pattern, image) for c in new]
            new = item if all(a is b for a, b in zip(new, item)) and len(new) == len(item) else new
        if new is not item:
            out = dict(value) if out is None else out
            out[key] = new
    return value if out is None else out


def _with_container_image(container: Any, pattern: re.Pattern, image: dict) -> Any:
    current = container.get("image") if isinstance(container, dict) else None
    if not isinstance(current, str) or not pattern.match(current):
        return container
    name, tag, digest = _split_image(current)
    text = lambda key: image.get(key) if isinstance(image.get(key), str) else ""  # noqa: E731
    name = text("newName") or name
    if text("newTag") or text("digest"):  # either replaces both
        tag, digest = text("newTag"), text("digest")
    elif text("tagSuffix"):
        tag, digest = tag + text("tagSuffix"), ""
    new = name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
    return container if new == current else {**container, "image": new}


def _split_image(text: str) -> tuple[str, str, str]:
    """An image reference as (name, tag, digest); a `:` in the registry's host (a port) is not a tag's."""
    slash = text.find("/")
    start = slash if slash > 0 else 0
    search = text[start:]
    at, colon = search.find("@"), search.find(":")
    if colon < 0 and at < 0:
        return text, "", ""
    if at >= 0 and (at < colon or colon < 0):
        return text[:start + at], "", text[start + at + 1:]
    if at >= 0:
        return text[:start + colon], text[start + colon + 1:start + at], text[start + at + 1:]
    return text[:start + colon], text[start + colon + 1:], ""


# --------------------------------------------------------------------------- transforms shared with Flux's steps


def generated_clashes(build: Build, start: int = 0) -> None:
    """An object that one of a kustomization's resources (`build.resources[start:]`, what it added) brings
    with the id of one the build holds, one of the two generated: kustomize refuses to add the second
    (`may not add resource with an already registered id`). Plain manifests that clash are REF008's;
    generated ones would escape it, as their content hashes differ by the time it looks."""
    added = build.resources[start:]
    if not any(r.needs_hash for r in added) and not any(r.needs_hash for r in build.resources[:start]):
        return
    seen: dict[tuple, Resource] = {}
    for position, resource in enumerate(build.resources):
        api = resource.data.get("apiVersion")
        key = (api if isinstance(api, str) else "", resource.kind, resource.name, _effective(resource.namespace))
        first = seen.setdefault(key, resource)
        if first is resource or position < start or not (first.needs_hash or resource.needs_hash):
            continue
        made = resource if resource.needs_hash else first
        other = first if made is resource else resource
        where = f" in namespace {made.namespace}" if made.namespace else ""
        build.problems.append(BuildProblem(None, made.generator, (
            f"it generates {made.kind} {made.name!r}{where}, which {other.path} also makes among what the same "
            "kustomization includes: kustomize refuses to add it twice (\"may not add resource with an already "
            "registered id\")"), doc=made.doc))


def _index_ids(ids: dict[tuple, list[int]], resource: Resource, position: int) -> None:
    """Note the v1 object (what generators make) at `position` under every id it has had, as kustomize
    matches a generator's merge (`GetMatchingResourcesByAnyId`): (kind, name, namespace), no namespace
    being `default`."""
    if resource.data.get("apiVersion") == "v1":
        for name, namespace in {*resource.former_ids, (resource.name, resource.namespace)}:
            ids.setdefault((resource.kind, name, _effective(namespace)), []).append(position)


def _meta_text(metadata: Any, key: str) -> str | None:
    """`metadata[key]` when it is a non-empty string (as `Resource.name` and `Resource.namespace` read it)."""
    value = metadata.get(key) if isinstance(metadata, dict) else None
    return value if isinstance(value, str) and value else None


def _effective(namespace: str | None) -> str:
    """A namespace as kustomize compares ids (`EffectiveNamespace`): none is `default`."""
    return namespace or "default"


def set_namespace(build: Build, namespace: str, what: str) -> None:
    """kustomize's namespace transformer: every namespaced object (kinds it does not know included) gets
    the namespace, and a Namespace object is renamed to it (kubectl kustomize shows both)."""
    out = []
    for r in build.resources:
        data = r.data
        if r.kind == "Namespace" and r.group == "":
            data = with_metadata(data, "name", namespace) if r.name != namespace else data
        elif not cluster_scoped(data.get("apiVersion"), r.kind) and r.namespace != namespace:
            data = with_metadata(data, "namespace", namespace)
        if r.kind in ("RoleBinding", "ClusterRoleBinding") and isinstance(data.get("subjects"), list):
            # subjects named `default` (kustomize's defaultOnly mode), whatever their kind
            subjects = [{**s, "namespace": namespace} if isinstance(s, dict) and s.get("name") == "default"
                        and s.get("namespace") != namespace else s for s in data["subjects"]]
            if any(a is not b for a, b in zip(subjects, data["subjects"])):
                data = {**data, "subjects": subjects}
        for spec in _NAMESPACE_FIELDS:
            if spec.selects(r):
                data = _set_at(data, spec.path, namespace, spec.create)
        out.append(r if data is r.data else r.changed(data, what))
    build.resources = out


#: Where kustomize's namespace transformer writes besides `metadata.namespace` (its built-in field specs).
_NAMESPACE_FIELDS = (FieldSpec(("spec", "service", "namespace"), True, "APIService", "apiregistration.k8s.io"),
                     FieldSpec(("spec", "conversion", "webhook", "clientConfig", "service", "namespace"), False,
                               "CustomResourceDefinition", "apiextensions.k8s.io"))


def _set_at(data: Any, path: tuple[str, ...], value: Any, create: bool) -> Any:
    """`data` with `value` at the path of keys (made on the way with `create`), copying only what changes."""
    if not isinstance(data, dict):
        return data
    key, rest = path[0], path[1:]
    current = data.get(key)
    if not rest:
        return data if current == value or (current is None and key not in data and not create) \
            else {**data, key: value}
    if current is None and not create:
        return data
    new = _set_at({} if current is None else current, rest, value, create)
    return data if new is current else {**data, key: new}


def add_name_affixes(build: Build, prefix: str, suffix: str, what: str) -> None:
    """kustomize's prefix transformer, then its suffix transformer: the name between is one more id kustomize
    finds the object by."""
    out = []
    for r in build.resources:
        if r.kind in _NAME_FIXED or r.name is None:
            out.append(r)
        elif prefix and suffix:
            between = r.renamed(f"{prefix}{r.name}", what, prefix)
            out.append(replace(between.renamed(f"{prefix}{r.name}{suffix}", what, "", suffix),
                               transforms=between.transforms))
        else:
            out.append(r.renamed(f"{prefix}{r.name}{suffix}", what, prefix, suffix))
    build.resources = out


def finish(build: Build) -> list[Resource]:
    """The objects of a top-level build: generated names get kustomize's content hash, then references
    the build's `configurations:` declare follow the new names."""
    return fix_back_references([hashed(r) if r.needs_hash else r for r in build.resources], build.name_references)


def fix_back_references(resources: list[Resource], name_references: list) -> list[Resource]:
    """kustomize's nameReference, for the entries of the `configurations:` a build read: a referrer's field
    at a declared path that holds the name an object was written with (in the referrer's namespace) gets
    the name the build gave it. kustomize looks at the name alone, not at a `kind:` beside it, and takes
    the entries in the order of their kinds (group, version, kind), not as written."""
    if not name_references:
        return resources  # nearly every build: no configurations
    renamed = [r for r in resources if r.written_name is not None and r.written_name != r.name]
    plans = []  # (field specs, renamed objects by (name as written, namespace), configuration file)
    for reference, config in sorted(name_references, key=lambda entry: _gvk_order(entry[0])):
        by_name: dict[tuple[str, str], list[Resource]] = {}
        for resource in renamed:
            if _selected(reference, resource):
                for name in resource.names - {resource.name}:
                    by_name.setdefault((name, _effective(resource.namespace)), []).append(resource)
        specs = [spec for spec in _as_list(reference.get("fieldSpecs"))
                 if isinstance(spec, dict) and isinstance(spec.get("path"), str)]
        if by_name and specs:
            plans.append((specs, by_name, config))
    if not plans:
        return resources
    out = []
    for referrer in resources:
        data, why = referrer.data, None
        for specs, by_name, config in plans:
            for spec in specs:
                if _selected(spec, referrer):
                    new = _renamed_at(data, spec["path"].strip("/").split("/"), by_name, referrer)
                    if new is not data:
                        data, why = new, why or config
        out.append(referrer if why is None else referrer.changed(data, f"name reference from {why}"))
    return out


def _gvk_order(selector: dict) -> tuple[int, str]:
    """kustomize's `Gvk.IsLessThan`, by which it orders nameReference entries: the kinds it applies first
    (Namespace ... ConfigMap, Secret ... PodDisruptionBudget) and last (the webhook configurations) by
    that order, every other kind between, and kinds of one rank by group, version and kind."""
    kind = selector.get("kind")
    rank = _KIND_RANK.get(kind, 0) if isinstance(kind, str) else 0
    return rank, "_".join(str(selector.get(key) or blank) for key, blank in
                          (("group", "~G"), ("version", "~V"), ("kind", "~K")))


#: kustomize's `orderFirst` (ranked below zero, in order) and `orderLast` (above) kinds (kyaml resid/gvk.go).
_ORDER_FIRST = ("Namespace", "ResourceQuota", "StorageClass", "CustomResourceDefinition", "ServiceAccount",
                "PodSecurityPolicy", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "ConfigMap", "Secret",
                "Endpoints", "Service", "LimitRange", "PriorityClass", "PersistentVolume", "PersistentVolumeClaim",
                "Deployment", "StatefulSet", "CronJob", "PodDisruptionBudget")
_KIND_RANK = {**{kind: index - len(_ORDER_FIRST) for index, kind in enumerate(_ORDER_FIRST)},
              "MutatingWebhookConfiguration": 1, "ValidatingWebhookConfiguration": 2}


def _selected(selector: dict, resource: Resource) -> bool:
    """kustomize's GVK selection: each of group, version and kind the selector names must match."""
    api = resource.data.get("apiVersion") if isinstance(resource.data.get("apiVersion"), str) else ""
    version = api.rpartition("/")[2]
    return all(selector.get(key) in (None, "", value)
               for key, value in (("group", resource.group), ("version", version), ("kind", resource.kind)))


def _renamed_at(value: Any, path: list[str], by_name: dict[tuple[str, str], list[Resource]],
                referrer: Resource) -> Any:
    """`value` with the name at `path` (lists are walked into) renamed to the object that had that name in
    the referrer's namespace; of several, the one the build gave the referrer's prefix and suffix."""
    if not path:
        match = by_name.get((value, _effective(referrer.namespace))) if isinstance(value, str) else None
        if match is not None and len(match) > 1:
            match = [m for m in match if m.affixes == referrer.affixes]
        return match[0].name if match is not None and len(match) == 1 else value
    if isinstance(value, list):
        items = [_renamed_at(item, path, by_name, referrer) for item in value]
        return items if any(a is not b for a, b in zip(items, value)) else value
    if isinstance(value, dict) and path[0] in value:
        inner = _renamed_at(value[path[0]], path[1:], by_name, referrer)
        if inner is not value[path[0]]:
            return {**value, path[0]: inner}
    return value


def hashed(resource: Resource) -> Resource:
    """kustomize's name hash: sha256 of the JSON of kind, type, data (name left out: kustomize's lookup
    of `metadata/name` finds nothing), first ten hex digits with 0, 1, 3, a, e replaced."""
    data = resource.data
    encoded: dict[str, Any] = {"kind": resource.kind, "name": "", "data": data.get("data") or ""}
    if resource.kind == "Secret":
        encoded["type"] = data.get("type") or ""
        if isinstance(data.get("stringData"), dict):
            encoded["stringData"] = data["stringData"]
    elif isinstance(data.get("binaryData"), dict):
        encoded["binaryData"] = data["binaryData"]
    text = json.dumps(encoded, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # Go's encoding/json escapes these three for HTML safety, and the hash sees its bytes
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    import hashlib  # here: most builds generate nothing, and OpenSSL's module is a cost of every start

    digest = hashlib.sha256(text.encode()).hexdigest()[:10].translate(_HASH_LETTERS)
    return replace(resource.renamed(f"{resource.name}-{digest}", "content hash"), needs_hash=False)


_HASH_LETTERS = str.maketrans("013ae", "ghkmt")


# --------------------------------------------------------------------------- replacements


def run_held(build: Build) -> None:
    """Run the replacements a build holds. Flux merges its own steps (components, patches, targetNamespace)
    into the kustomization of a Kustomization's path, and kustomize runs replacements after all of them."""
    held, build.held = build.held, []
    for spec, what, owner, at in held:
        complete = build.complete  # what kustomize refuses is told only where the view holds the whole build
        outcome = replace_fields(build, spec, what)
        if isinstance(outcome, str) and complete:
            build.problems.append(BuildProblem(owner, at, outcome))
        elif outcome is not True:
            build.complete = False


def replace_fields(build: Build, spec: Any, what: str) -> bool | str:
    """kustomize's `replacements` entry `spec` on the build: the value at the source's field path, copied
    into each selected target's field paths. False where the view cannot follow it as kustomize does (a
    field path form not modelled), and kustomize's error where it fails the build (no single source, a
    missing source or target field); either way the build is left as it was for this entry."""
    source = spec.get("source") if isinstance(spec, dict) else None
    targets = spec.get("targets") if isinstance(spec, dict) else None
    if not isinstance(source, dict) or not isinstance(targets, list):
        return False
    chosen = [r for r in build.resources if _replacement_selects(source, r)]
    path = _field_path(source.get("fieldPath") or "metadata.name")
    if path is None:
        return False
    if len(chosen) != 1:
        name = source.get("name")
        if not chosen and not any(name in r.names for r in build.resources if isinstance(name, str)):
            return ("the replacement's source selects nothing in what this builds, where kustomize needs exactly "
                    "one (\"nothing selected by\"), so the build fails")
        if len(chosen) > 1:  # by any id each has had, as kustomize's selectSourceNode looks
            return (f"the replacement's source selects {len(chosen)} objects in what this builds, where kustomize "
                    "needs exactly one (\"multiple matches for selector\"), so the build fails")
        return False  # named by a name the view saw on the way but cannot place: not told here
    value = _lookup(chosen[0].data, path)
    if value is None and not _holds_null(chosen[0].data, path) and not chosen[0].merged_lists:
        return (f"the replacement's source {chosen[0].kind}/{chosen[0].name} has no field "
                f"{source.get('fieldPath') or 'metadata.name'}: kustomize fails the build (\"fieldPath is missing "
                "for replacement source\")")
    if value is None or value == {} or value == []:
        return False
    options = source.get("options") if isinstance(source.get("options"), dict) else {}
    if options.get("delimiter"):
        parts = _scalar_text(value).split(str(options["delimiter"])) if _scalar_text(value) is not None else []
        index = options.get("index") or 0
        if not isinstance(index, int) or isinstance(index, bool) or not parts:
            return False
        if not 0 <= index < len(parts):
            # kustomize names the value; the message here does not (it may be a Secret's)
            return (f"the replacement's source options.index {index} is out of bounds: the value at "
                    f"{source.get('fieldPath')} has {len(parts)} part(s) split by {str(options['delimiter'])!r}, so "
                    "kustomize fails the build (\"options.index is out of bounds\")")
        value = parts[index]
    if chosen[0].kind == "Secret" and chosen[0].group == "":
        build.secret_texts.update(_texts_of(value))  # what is copied: a delimiter's part, where one is
    resources = list(build.resources)
    for target in targets:
        select = target.get("select") if isinstance(target, dict) else None
        if not isinstance(select, dict):
            return False
        rejects = [r for r in _as_list(target.get("reject")) if isinstance(r, dict)]
        paths = [_field_path(p) for p in target.get("fieldPaths") or ["metadata.name"]] \
            if isinstance(target.get("fieldPaths") or [], list) else [None]
        options = target.get("options") if isinstance(target.get("options"), dict) else {}
        if None in paths:
            return False
        for position, resource in enumerate(resources):
            if not _replacement_selects(select, resource) or any(_rejects(r, resource) for r in rejects):
                continue
            data = resource.data
            for steps, text in zip(paths, target.get("fieldPaths") or ["metadata.name"]):
                try:
                    data = _with_value(data, steps, value, options)
                except _UnableToFindField as missing:
                    if resource.merged_lists:
                        return False  # the view's list may not be kustomize's: not told
                    if str(missing):
                        return (f"{resource.kind}/{resource.name}, a target of the replacement, has no element at "
                                f"{text}: kustomize fails the build (\"{missing}\")")
                    return (f"{resource.kind}/{resource.name}, a target of the replacement, has no field {text} "
                            "and the target does not say `create: true`: kustomize fails the build (\"unable to "
                            "find field in replacement target\")")
                if data is None:
                    return False
            resources[position] = resource.changed(data, what, keeps_id=False)
    build.resources = resources
    return True


def _texts_of(value: Any) -> Iterator[str]:
    """Every scalar of `value` as text."""
    return (str(item).lower() if isinstance(item, bool) else str(item) for item in scalars(value))


def scalars(value: Any) -> Iterator[Any]:
    """Every scalar of `value` (not null), in document order."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
        elif item is not None:
            yield item


def _kind_of(kustomization: KustomizeFile) -> str:
    """A kustomization file's kind: `Kustomization` unless it says `Component` (kustomize's default)."""
    data = kustomization.doc.data
    kind = data.get("kind") if isinstance(data, dict) else None
    return kind if isinstance(kind, str) and kind else "Kustomization"


def _replacement_selects(selector: dict, resource: Resource) -> bool:
    """A replacement's `source` or `select`: exact group, version, kind, name, namespace, against any id the
    object has had or has now (kustomize keeps them all), and label and annotation selectors against now."""
    return _selected_by_id(selector, resource, whole_id=False) and _metadata_selected(selector, resource)


def _rejects(reject: dict, resource: Resource) -> bool:
    """A replacement target's `reject` entry: kustomize rejects by its label and annotation selectors, or by
    its id, each alone (`selectByAnnoAndLabel`, `containsRejectId`); an entry with neither rejects nothing."""
    by_metadata = any(isinstance(reject.get(k), str) and reject[k] for k in ("labelSelector", "annotationSelector"))
    by_id = any(reject.get(k) not in (None, "") for k in ("group", "version", "kind", "name", "namespace"))
    return (by_metadata and _metadata_selected(reject, resource)) or \
        (by_id and _selected_by_id(reject, resource, whole_id=False))


_STEP_RE = re.compile(r"\[([^=\[\]]+)=([^\[\]]*)\]")


def _field_path(text: Any) -> list[str | tuple[str, str]] | None:
    """A kustomize field path (`spec.containers.[name=app].image`) as keys and (key, value) list selectors;
    a number indexes a list (`_index`; kyaml takes it for an index on a mapping too and fails, which the view
    does not claim). None for forms not modelled (wildcards, negative indexes, escapes, deep paths)."""
    if not isinstance(text, str) or text.count(".") > 64:
        return None
    steps: list[str | tuple[str, str]] = []
    for part in re.split(r"\.(?![^\[]*\])", text):
        match = _STEP_RE.fullmatch(part)
        if match:
            steps.append((match.group(1), match.group(2)))
        elif not part or any(c in part for c in "[]*\\") or part == "-" or (part[0] == "-" and part[1:].isdigit()):
            return None
        else:
            steps.append(part)
    return steps


def _matches(item: Any, step: tuple[str, str]) -> bool:
    """Whether a list element is the one a `[key=value]` step names."""
    return isinstance(item, dict) and _scalar_text(item.get(step[0])) == step[1]


def _index(step: Any, data: Any) -> int | None:
    """The list index a step names: a number, where the value there is a list (kyaml reads `containers.1`
    so)."""
    return int(step) if isinstance(data, list) and isinstance(step, str) and step.isdigit() else None


def _lookup(data: Any, steps: list) -> Any:
    for step in steps:
        if isinstance(step, tuple):  # the first element that matches, as kyaml's lookup takes it
            data = next((item for item in data if _matches(item, step)), None) if isinstance(data, list) else None
        elif (index := _index(step, data)) is not None:
            data = data[index] if index < len(data) else None
        else:
            data = data.get(step) if isinstance(data, dict) else None
        if data is None:
            return None
    return data


class _UnableToFindField(Exception):
    """kustomize's "unable to find field ... in replacement target": a target lacks a field it may not create,
    or (the exception's text) a list lacks the element an index names."""


def _holds_null(data: Any, steps: list) -> bool:
    """Whether the field at `steps` is there, holding null (not missing)."""
    *parents, last = steps
    parent = _lookup(data, parents) if parents else data
    if (index := _index(last, parent)) is not None:
        return index < len(parent)
    return isinstance(last, str) and isinstance(parent, dict) and last in parent


def _with_value(data: Any, steps: list, value: Any, options: dict) -> Any:
    """`data` (None: missing) with `value` at `steps` as kustomize sets it, copying what is on the way; with
    `create`, missing mappings and list elements (`[name=app]` makes `{name: app}`) are made. None when the
    view cannot tell what it writes; `_UnableToFindField` where kustomize fails."""
    step, rest = steps[0], steps[1:]
    create = bool(options.get("create"))
    if isinstance(step, tuple):
        data = [] if data is None and create else data
        if not isinstance(data, list):
            return None
        matching = [i for i, item in enumerate(data) if _matches(item, step)]
        if not matching:
            if not create:
                raise _UnableToFindField
            matching, data = [len(data)], [*data, {step[0]: step[1]}]
        data = list(data)
        for index in matching:  # every element that matches, as kustomize's path matcher finds them
            new = _with_value(data[index], rest, value, options) if rest else _set_value(data[index], value, options)
            if new is None:
                return None
            data[index] = new
        return data
    if isinstance(step, str) and step.isdigit() and (isinstance(data, list) or (data is None and create)):
        # an index: with `create`, one past the end appends (a missing list is made); further is an error
        data = [] if data is None else data
        index = int(step)
        if index > len(data) or (index == len(data) and not create):
            raise _UnableToFindField(f"index {index} specified but only {len(data)} elements found")
        if index == len(data):
            new = _with_value(None, rest, value, options) if rest else value
        elif data[index] is None:
            return None  # an explicit null, as for a mapping's field below
        else:
            new = _with_value(data[index], rest, value, options) if rest else _set_value(data[index], value, options)
        return None if new is None else [*data[:index], new, *data[index + 1:]]
    data = {} if data is None and create else data
    if not isinstance(data, dict) or (step in data and data[step] is None):
        return None  # an explicit null: kyaml keeps its tag on the new text, which nothing here models
    if step not in data:
        if not create:
            raise _UnableToFindField
        # kustomize makes an empty scalar and sets the value into it (a delimiter splits that empty text)
        new = _with_value(None, rest, value, options) if rest else \
            _set_value("", value, options) if options.get("delimiter") else value
    else:
        new = _with_value(data[step], rest, value, options) if rest else _set_value(data[step], value, options)
    return None if new is None else {**data, step: new}


def _set_value(current: Any, value: Any, options: dict) -> Any:
    """kustomize's setFieldValue: a delimited part of a scalar, or the scalar's text with its type kept (an
    int field given "3" stays the int 3), or the value itself in place of a mapping or list."""
    if options.get("delimiter"):
        text, new = _scalar_text(current), _scalar_text(value)
        if not isinstance(current, str) or text is None or new is None:
            return None
        parts = text.split(str(options["delimiter"]))
        index = options.get("index") or 0
        if not isinstance(index, int):
            return None
        if index < 0:
            parts.insert(0, new)
        elif index >= len(parts):
            parts.append(new)
        else:
            parts[index] = new
        return str(options["delimiter"]).join(parts)
    if isinstance(current, (dict, list)):
        return value
    text = _scalar_text(value)
    if text is None:
        return None
    if isinstance(current, str):
        return text
    if isinstance(current, bool):
        return {"true": True, "false": False}.get(text)
    if isinstance(current, int):
        return int(text) if re.fullmatch(r"-?[0-9]+", text) else None
    return None  # a float or null field: its text after the change is not certain


def _scalar_text(value: Any) -> str | None:
    """A scalar as kyaml's node holds its text; None for what has no certain text (floats, containers)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int)):
        return str(value)
    return None


# --------------------------------------------------------------------------- selection and patches


def selects(target: dict, resource: Resource) -> bool:
    """kustomize's patch target (`ResMap.Select`): group, version, kind (anchored regexes) of the object now;
    name and namespace of the id it was read with or the one it has now (a base's patch target still names
    what an overlay prefixed or moved); label and annotation selectors of its metadata now."""
    if not (_pattern_matches(target.get("group"), resource.group) and _pattern_matches(target.get("version"), resource.version)
            and _pattern_matches(target.get("kind"), resource.kind)):
        return False
    ids = (resource.former_ids[0], (resource.name, resource.namespace)) if resource.former_ids \
        else ((resource.name, resource.namespace),)
    if not any(_pattern_matches(target.get("name"), name) for name, _ in ids):
        return False
    namespace = target.get("namespace")
    if namespace not in (None, "") and not any(_pattern_matches(namespace, _effective_of(resource.data, ns))
                                                for _, ns in ids):
        return False
    return _metadata_selected(target, resource)


def _pattern_matches(pattern: Any, value: str | None) -> bool:
    if pattern is None or pattern == "":
        return True
    if not isinstance(pattern, str):
        return False
    try:
        return re.fullmatch(pattern, value or "") is not None
    except re.error:
        return pattern == value


def _metadata_selected(selector: dict, resource: Resource) -> bool:
    metadata = resource.metadata
    for key, meta in (("labelSelector", "labels"), ("annotationSelector", "annotations")):
        if isinstance(selector.get(key), str) and not label_selector_matches(selector[key], metadata.get(meta)):
            return False
    return True


def _effective_of(type_of: dict, namespace: str | None) -> str:
    """kustomize's `EffectiveNamespace` of an id of the type `type_of` names (its `apiVersion` and `kind`, or a
    selector's `group`, `version`, `kind`): none is `default`, and a cluster-scoped type has none to match."""
    api_version = type_of.get("apiVersion")
    if api_version is None:
        group, version = type_of.get("group") or "", type_of.get("version") or ""
        api_version = f"{group}/{version}" if group else version
    return "_non_namespaceable_" if cluster_scoped(api_version, type_of.get("kind")) else _effective(namespace)


def _selected_by_id(selector: dict, resource: Resource, *, whole_id: bool) -> bool:
    """Whether an id the object has had, or has now, is the one `selector` names exactly (group, version, kind,
    name, namespace as kustomize compares them). A strategic-merge patch without a target names its object by
    its whole id (`GetById`: no namespace is `default`, no apiVersion no group and version, `whole_id`); a
    replacement's source, target or reject (`IsSelectedBy`) leaves out what it does not name."""
    for key, value in (("group", resource.group), ("version", resource.version), ("kind", resource.kind)):
        if (whole_id or selector.get(key) not in (None, "")) and (selector.get(key) or "") != value:
            return False
    name, namespace = selector.get("name"), selector.get("namespace")
    for had_name, had_namespace in (*resource.former_ids, (resource.name, resource.namespace)):
        if name not in (None, "") and name != had_name:
            continue
        if (namespace not in (None, "") or whole_id) and \
                _effective_of(selector, namespace if isinstance(namespace, str) else None) != \
                _effective_of(resource.data, had_namespace):
            continue
        return True
    return False


_SELECTOR_RE = re.compile(r"\s*(!?)([^\s=!,()]+)\s*(?:(==|=|!=)\s*([^\s,()]*)|\s+(in|notin)\s*\(([^)]*)\))?\s*")


def label_selector_matches(selector: str, labels: Any) -> bool:
    """Kubernetes' label selector text (`a=b,c!=d,e in (x,y),!f,g`) against a labels mapping."""
    labels = {str(k): _label_text(v) for k, v in labels.items()} if isinstance(labels, dict) else {}
    for term in _split_terms(selector):
        match = _SELECTOR_RE.fullmatch(term)
        if match is None:
            return False
        negate, key, op, value, set_op, values = match.groups()
        if op in ("=", "=="):
            ok = labels.get(key) == value
        elif op == "!=":
            ok = labels.get(key) != value
        elif set_op:
            members = {v.strip() for v in values.split(",")}
            ok = (labels.get(key) in members) if set_op == "in" else (labels.get(key) not in members)
        else:
            ok = key in labels
        if bool(negate) == ok:
            return False
    return True


def _split_terms(selector: str) -> Iterator[str]:
    depth, start = 0, 0
    for index, char in enumerate(selector):
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            yield selector[start:index]
            start = index + 1
    if selector[start:].strip():
        yield selector[start:]


def strategic_merge(base: Any, patch: Any, builtin: bool) -> Any:
    """A strategic-merge patch, as far as identities and Flux fields need it: mappings merge, `null`
    deletes, `$patch: replace|delete` are honoured; lists of named items merge by name in built-in
    types and are replaced in custom resources (JSON merge semantics)."""
    if not isinstance(patch, dict) or not isinstance(base, dict):
        return patch
    if patch.get("$patch") == "replace":
        return {k: v for k, v in patch.items() if k != "$patch"}
    out = dict(base)
    for key, value in patch.items():
        if isinstance(key, str) and key.startswith("$"):
            continue
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and value.get("$patch") == "delete":
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = strategic_merge(out[key], value, builtin)
        elif isinstance(value, list) and isinstance(out.get(key), list) and builtin and _named(value) \
                and _named(out[key]):
            out[key] = _merge_named(out[key], value, builtin)
        else:
            out[key] = value
    return out


def _named(items: list) -> bool:
    return all(isinstance(i, dict) and isinstance(i.get("name"), str) for i in items)


def _merge_named(base: list, patch: list, builtin: bool) -> list:
    """A list merged by name as kustomize merges it: the patch's items first, in its order (each merged into
    the base's item of its name), then the base's items the patch does not name."""
    by_name: dict[Any, dict] = {}
    for item in base:
        by_name.setdefault(item.get("name"), item)
    out, named = [], set()
    for item in patch:
        name = item.get("name")
        named.add(name)
        if item.get("$patch") == "delete":
            continue
        out.append(strategic_merge(by_name[name], item, builtin) if name in by_name else item)
    return out + [item for item in base if item.get("name") not in named]


def _with_namespace_of(resource: Resource, data: Any) -> Any:
    """`data` with the namespace `resource` has (none when it has none)."""
    metadata = data.get("metadata") if isinstance(data, dict) else None
    if not isinstance(metadata, dict):
        return data
    before = resource.metadata
    if "namespace" in before:
        return data if metadata.get("namespace") == before["namespace"] else with_metadata(data, "namespace",
                                                                                             before["namespace"])
    if "namespace" not in metadata:
        return data
    return {**data, "metadata": {k: v for k, v in metadata.items() if k != "namespace"}}


def _holds_list_of_mappings(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_holds_list_of_mappings(v) for v in value.values())
    return isinstance(value, list) and any(isinstance(item, dict) for item in value)


def _without_identity(patch: dict, *, name: bool = False, kind: bool = False) -> dict:
    """A patch applied through a target: its own kind and name do not rename the objects it selects, unless
    the entry allows it (`allowKindChange`, `allowNameChange`); its namespace never moves them."""
    out = {k: v for k, v in patch.items() if k != "apiVersion" and (kind or k != "kind")}
    if isinstance(out.get("metadata"), dict):
        out["metadata"] = {k: v for k, v in out["metadata"].items() if k != "namespace" and (name or k != "name")}
    return out


def json6902(data: Any, operations: list) -> Any | None:
    """JSON patch (RFC 6902) operations applied to a copy, as kustomize's JSON patch library applies them
    (evanphx/json-patch: negative indices count from the end, `copy` from a missing key copies null, `replace`
    of a missing key adds it); None when one does not apply, where kustomize fails the build."""
    import copy

    doc = copy.deepcopy(data)
    # kustomize holds its own annotations on every object while it builds: `/metadata/annotations/x` is there
    metadata = doc.get("metadata") if isinstance(doc, dict) else None
    annotations_added = isinstance(metadata, dict) and "annotations" not in metadata
    if annotations_added:
        metadata["annotations"] = {}
    for op in operations:
        if not isinstance(op, dict) or not isinstance(op.get("path"), str):
            return None
        kind, path = op.get("op"), op["path"]
        try:
            if kind == "add":
                doc = _pointer_add(doc, path, copy.deepcopy(op.get("value")))
            elif kind == "replace":
                doc = _pointer_replace(doc, path, copy.deepcopy(op.get("value")))
            elif kind == "remove":
                doc = _pointer_remove(doc, path)
            elif kind in ("move", "copy"):
                source = str(op.get("from"))
                value = _pointer_get(doc, source, missing_key_is_null=kind == "copy")
                if kind == "move":
                    doc = _pointer_remove(doc, source)
                doc = _pointer_add(doc, path, copy.deepcopy(value))
            elif kind == "test":  # a missing path tests as null; a test without a value always fails
                if "value" not in op or _pointer_get(doc, path, missing_key_is_null=True) != op["value"]:
                    return None
            else:
                return None
        except (KeyError, IndexError, TypeError, ValueError):
            return None
    metadata = doc.get("metadata") if isinstance(doc, dict) else None
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if annotations_added and annotations == {}:
        del metadata["annotations"]
    elif isinstance(annotations, dict) and any(str(o.get("path", "")).startswith("/metadata/annotations")
                                               for o in operations if isinstance(o, dict)):
        metadata["annotations"] = {k: _annotation_text(v) for k, v in annotations.items()}
    return doc


def _annotation_text(value: Any) -> str:
    """An annotation value as kustomize keeps it (a map of strings): a scalar's text, null's too; what is no
    scalar is empty."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, (int, float)) else ""


def _tokens(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(pointer)
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


_INDEX = re.compile(r"[+-]?[0-9]+")


def _list_index(token: str, length: int, *, adding: bool = False) -> int:
    """A list index as Go's strconv.Atoi reads it (`01` is 1); negative counts from the end."""
    if not _INDEX.fullmatch(token):
        raise ValueError(token)
    size = length + 1 if adding else length
    index = int(token)
    if index < 0:
        if index < -size:
            raise IndexError(token)
        index += size
    if index >= size:
        raise IndexError(token)
    return index


def _pointer_get(doc: Any, pointer: str, *, missing_key_is_null: bool = False) -> Any:
    tokens = _tokens(pointer)
    for position, token in enumerate(tokens):
        if isinstance(doc, list):
            doc = doc[_list_index(token, len(doc))]
        elif isinstance(doc, dict):
            if token not in doc and missing_key_is_null and position == len(tokens) - 1:
                return None
            doc = doc[token]
        else:
            raise TypeError(pointer)
    return doc


def _parent(doc: Any, tokens: list[str]) -> Any:
    return _pointer_get(doc, "/" + "/".join(t.replace("~", "~0").replace("/", "~1") for t in tokens[:-1])) \
        if len(tokens) > 1 else doc


def _pointer_add(doc: Any, pointer: str, value: Any) -> Any:
    tokens = _tokens(pointer)
    if not tokens:
        return value
    parent, last = _parent(doc, tokens), tokens[-1]
    if isinstance(parent, list):
        parent.insert(len(parent) if last == "-" else _list_index(last, len(parent), adding=True), value)
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        raise TypeError(pointer)
    return doc


def _pointer_replace(doc: Any, pointer: str, value: Any) -> Any:
    tokens = _tokens(pointer)
    if not tokens:
        return value
    parent, last = _parent(doc, tokens), tokens[-1]
    if isinstance(parent, list):
        parent[_list_index(last, len(parent))] = value
    elif isinstance(parent, dict):  # a missing key is added, as kustomize's JSON patch library does
        parent[last] = value
    else:
        raise TypeError(pointer)
    return doc


def _pointer_remove(doc: Any, pointer: str) -> Any:
    tokens = _tokens(pointer)
    parent, last = _parent(doc, tokens), tokens[-1]
    if isinstance(parent, list):
        parent.pop(_list_index(last, len(parent)))
    elif isinstance(parent, dict):
        del parent[last]
    else:
        raise TypeError(pointer)
    return doc


# --------------------------------------------------------------------------- small helpers


@functools.lru_cache(maxsize=4096)
def _parse_cached(text: str) -> tuple[Any, ...]:
    from gitops_lint.yaml.loader import load_text

    return tuple(doc.data for doc in load_text(text, "<patch>").documents if doc.data is not None)


def parse_patch(text: str) -> list[Any]:
    """The documents of an inline patch; the same text (a patch many Kustomizations share) is read once.
    Patches are never mutated: merges build new containers and JSON patches copy what they insert."""
    return _list_items_inlined(_parse_cached(text))


def _list_items_inlined(documents: Iterable[Any]) -> list[Any]:
    """Patch documents as kustomize reads them: a `List` (or `<Kind>List`) with `items` is its items."""
    out: list[Any] = []
    for document in documents:
        kind = document.get("kind") if isinstance(document, dict) else None
        if isinstance(kind, str) and kind.endswith("List") and isinstance(document.get("items"), list):
            out.extend(item for item in document["items"] if isinstance(item, dict))
        else:
            out.append(document)
    return out


def _dict_or_none(value: Any) -> dict | None:
    return value if isinstance(value, dict) else None


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _kyaml_base64(value: bytes) -> str:
    """base64 as kustomize's kyaml writes generated data: lines of 70 characters, each ending in a line
    break once there is more than one (the content hash sees these bytes)."""
    encoded = base64.b64encode(value).decode()
    if len(encoded) // 70 + 1 == 1:
        return encoded
    return "".join(encoded[i:i + 70] + "\n" for i in range(0, len(encoded), 70))


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def is_inline_patch(entry: str) -> bool:
    """Whether a patch entry that may be a path (`patchesStrategicMerge`, `path:`) holds the patch itself."""
    return "\n" in entry or entry.lstrip().startswith(("{", "["))


