"""From loaded documents to typed objects.

Each YAML document becomes at most one typed object: a GitLab agent config
(by where the file sits), a Flux object, a kustomize `kustomization.yaml`, a
Secret or ConfigMap, or a generic Kubernetes object. Documents that are none of
these (Helm values, CI files, ...) are kept as `other_documents` so rules can
still look at them.
"""

from __future__ import annotations

import importlib
import re
import sys
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, TypeVar

from gitops_lint.model.base import Located, ModelProblem, build_lenient
from gitops_lint.yaml.loader import KUSTOMIZE_FILE_NAMES, Document, SourceFile

#: GitLab's own discovery rule (kas `ListAgentConfigFiles`).
AGENT_CONFIG_RE = re.compile(r"^\.gitlab/agents/([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)/config\.yaml$")
AGENT_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
AGENT_TOP_LEVEL_KEYS = frozenset(
    {"gitops", "observability", "ci_access", "container_scanning", "user_access", "remote_development", "flux",
     "starboard", "cilium"}
)
KUSTOMIZE_GROUP = "kustomize.config.k8s.io"
#: kustomize's own names, and the extensionless one discovery reads too.
KUSTOMIZATION_FILE_NAMES = frozenset({*KUSTOMIZE_FILE_NAMES, "kustomization"})


@dataclass(frozen=True, slots=True)
class AgentPath:
    """Where an agent config sits, and whether GitLab would read it from there."""

    #: The agent name GitLab would derive (the folder name), or the best guess.
    name: str
    #: Why GitLab ignores this file, or None when it reads it.
    ignored_because: str | None
    #: The folder holding `.gitlab/` ("" for the repository root).
    project_dir: str


def agent_path(rel: str) -> AgentPath | None:
    """Classify a file under a `.gitlab/agents/` folder; None for any other file."""
    marker = ".gitlab/agents/"
    index = rel.find(marker)
    if index < 0 or (index > 0 and rel[index - 1] != "/"):
        return None
    project_dir = rel[: max(index - 1, 0)]
    inner = rel[index + len(marker) :]
    parts = inner.split("/")
    if len(parts) == 1:
        stem = parts[0].rsplit(".", 1)[0]
        # `prod.yaml` names its agent; `config.yaml` names none, so the folder is the agent's registered name.
        folder = "<agent-name>" if stem == "config" or not AGENT_NAME_RE.match(stem) else stem
        return AgentPath(stem, f"GitLab reads `.gitlab/agents/<agent-name>/config.yaml`; a file directly in "
                               f"`.gitlab/agents/` is ignored (move it to `.gitlab/agents/{folder}/config.yaml`)",
                         project_dir)
    name, filename = parts[0], parts[-1]
    reasons = []
    if len(parts) > 2:
        reasons.append(f"it is nested {len(parts) - 2} folder(s) deeper than `.gitlab/agents/<agent-name>/`")
    if filename == "config.yml":
        reasons.append("the `.yml` extension is not recognised (only `config.yaml`)")
    elif filename != "config.yaml":
        reasons.append(f"only `config.yaml` is read in an agent folder, not `{filename}`")
    if not AGENT_NAME_RE.match(name) or len(name) > 63:
        reasons.append(f"agent name {name!r} is invalid (lowercase letters, digits and '-', not at either end, "
                       "at most 63 characters)")
    reason = None
    if reasons:
        reason = "GitLab never reads this agent config: " + "; ".join(reasons)
    return AgentPath(name, reason, project_dir)


ObjectT = TypeVar("ObjectT", bound=Located)


@dataclass(slots=True)
class Model:
    """The typed objects of every loaded document, and the documents that are none."""

    objects: list[Located] = field(default_factory=list)
    #: Mappings that are no Kubernetes object or agent config (values files, CI files, ...).
    other_documents: list[Document] = field(default_factory=list)
    problems: list[ModelProblem] = field(default_factory=list)
    by_doc: dict[int, Located] = field(default_factory=dict)
    _references: list | None = None
    _of_type: dict[type, tuple[int, list]] = field(default_factory=dict)
    #: (len(objects) when made, each object class -> the indexes of its objects): `of_type` reads it.
    _by_class: tuple[int, dict[type, list[int]]] = (-1, {})

    def of_type(self, cls: type[ObjectT] | str) -> Iterator[ObjectT]:
        """The objects of a model class, given as the class or by name (`"HelmRelease"`: no import of its
        module when the repository has none)."""
        if isinstance(cls, str):
            found = loaded_class(cls)
            if found is None:
                return iter(())
            cls = found
        # Rules ask for the same few classes again and again: each class's objects are listed once (the
        # list is rebuilt if objects were added since).
        listed = self._of_type.get(cls)
        if listed is None or listed[0] != len(self.objects):
            listed = self._of_type[cls] = (len(self.objects), self._listed(cls))
        return iter(listed[1])

    def _listed(self, cls: type) -> list:
        """The objects of `cls` and its subclasses in their order, from one grouping of all objects by class
        (a scan of every object per class asked for was most of this method's time)."""
        objects = self.objects
        if self._by_class[0] != len(objects):
            groups: dict[type, list[int]] = {}
            for index, obj in enumerate(objects):
                groups.setdefault(type(obj), []).append(index)
            self._by_class = (len(objects), groups)
        matching = [indexes for kind, indexes in self._by_class[1].items() if issubclass(kind, cls)]
        indexes = matching[0] if len(matching) == 1 else sorted(i for group in matching for i in group)
        return [objects[i] for i in indexes]

    @property
    def file_references(self) -> list:
        """Every local file the kustomizations name, once (`kustomize.file_references`): the model,
        compile and the reference rules all read it."""
        if self._references is None:
            from gitops_lint.model.kustomize import file_references

            self._references = file_references(self.objects)
        return self._references

    @property
    def patch_files(self) -> set[str]:
        """Files that kustomize files use as patches: partial objects, not objects of their own."""
        from gitops_lint.model.kustomize import PATCH

        return {ref.target for ref in self.file_references if ref.role == PATCH and ref.target}

    @property
    def secret_files(self) -> set[str]:
        """Files a secretGenerator reads: every value in them is secret."""
        return {ref.target for ref in self.file_references if ref.secret and ref.target}

    def object_of(self, doc: Document) -> Located | None:
        return self.by_doc.get(id(doc))

    def written(self, obj: Located) -> Located:
        """The object as its file writes it, for itself or for a copy Flux applies of it: Flux's view holds
        copies where Flux changes an object (targetNamespace, patches), and a copy keeps the document."""
        return self.by_doc.get(id(obj.doc), obj)


_FLUX = "gitops_lint.model.flux."
#: The kinds that have a model class of their own: (API group, kind) -> the module whose class named after
#: the kind models it. A module is imported when a document of one of its kinds is met, so a check of a
#: GitRepository defines no HelmRelease or agent model.
MODELLED_KINDS: dict[tuple[str, str], str] = {
    **{("source.toolkit.fluxcd.io", kind): _FLUX + "source"
       for kind in ("GitRepository", "OCIRepository", "HelmRepository", "HelmChart", "Bucket", "ExternalArtifact")},
    ("kustomize.toolkit.fluxcd.io", "Kustomization"): _FLUX + "kustomize",
    ("helm.toolkit.fluxcd.io", "HelmRelease"): _FLUX + "helm",
    **{("notification.toolkit.fluxcd.io", kind): _FLUX + "notification" for kind in ("Receiver", "Provider", "Alert")},
    **{("image.toolkit.fluxcd.io", kind): _FLUX + "image"
       for kind in ("ImageRepository", "ImagePolicy", "ImageUpdateAutomation")},
    ("", "Secret"): "gitops_lint.model.kubernetes",
    ("", "ConfigMap"): "gitops_lint.model.kubernetes",
}
#: Class name -> its module, for asking by name (`Model.of_type`, `is_kind`). An agent config is modelled
#: by where its file sits, not by its kind.
_MODULE_OF: dict[str, str] = {kind: module for (_, kind), module in MODELLED_KINDS.items()} | {
    "AgentConfig": "gitops_lint.model.agent"}
_CLASSES: dict[tuple[str, str], type | None] = {}


def model_class(group: str, kind: str) -> type | None:
    """The class modelling objects of (group, kind), its module imported on first use; None for other kinds."""
    key = (group, kind)
    if key not in _CLASSES:
        module = MODELLED_KINDS.get(key)
        _CLASSES[key] = getattr(importlib.import_module(module), kind) if module else None
    return _CLASSES[key]


def loaded_class(name: str) -> type | None:
    """The model class called `name` if its module was imported, else None: then no object of it exists."""
    module = sys.modules.get(_MODULE_OF[name])  # KeyError: no model class has that name
    return getattr(module, name) if module is not None else None


def is_kind(obj: object, name: str) -> bool:
    """Whether `obj` is of the model class called `name` (`"GitRepository"`), without importing its module."""
    cls = loaded_class(name)
    return cls is not None and isinstance(obj, cls)


def build_model(files: Iterable[SourceFile], agent_configs: Callable[[str], bool] | None = None) -> Model:
    """Typed objects of every document; `agent_configs` marks more files as agent configs (the
    `agent-configs` setting: copies kept outside `.gitlab/agents/`, e.g. templates)."""
    from gitops_lint.model.kubernetes import KubernetesObject, api_group
    from gitops_lint.model.kustomize import KustomizeFile

    model = Model()

    def add(obj: Located, problems: list[ModelProblem]) -> None:
        model.objects.append(obj)
        model.by_doc[id(obj.doc)] = obj
        for problem in problems:
            problem.object = obj.ref
        model.problems.extend(problems)

    files = list(files)
    agent_files: set[str] = set()
    for source in files:
        location = agent_path(source.rel)
        # At `.gitlab/agents/<name>/config.yaml` GitLab reads the first document as the agent's config,
        # whatever it holds: a kubeconfig committed there is rejected for its `apiVersion` key.
        gitlab_reads = location is not None and location.ignored_because is None
        if location is None and agent_configs is not None and agent_configs(source.rel):
            stem = source.rel.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            location = AgentPath(stem, None, "")
        filename = source.rel.rsplit("/", 1)[-1]
        if location is not None:
            agent_files.add(source.rel)
        for doc in source.documents:
            data = doc.data
            if not isinstance(data, dict):
                if location is not None and doc.index == 0 and data is not None:
                    # GitLab reads the first document as the agent's config, and only a mapping will do.
                    model.problems.append(ModelProblem(doc, (), f"the agent config is {_shape(data)}: GitLab "
                                                       "expects a mapping of settings (flux:, ci_access:, ...)"))
                continue
            is_k8s = isinstance(data.get("apiVersion"), str) and isinstance(data.get("kind"), str)
            if location is not None and doc.index == 0 and (gitlab_reads or not is_k8s and (
                filename.startswith("config.") or AGENT_TOP_LEVEL_KEYS & data.keys() or not data
            )):
                from gitops_lint.model.agent import AgentConfig

                agent, problems = build_lenient(AgentConfig, doc)
                agent.agent_name = location.name
                agent.location = location
                add(agent, problems)
                continue
            group = api_group(data.get("apiVersion")) if is_k8s else ""
            kind = data.get("kind") if is_k8s else None
            if (is_k8s and group == KUSTOMIZE_GROUP) or (not is_k8s and filename in KUSTOMIZATION_FILE_NAMES):
                add(*build_lenient(KustomizeFile, doc))
            elif is_k8s:
                add(*build_lenient(model_class(group, kind) or KubernetesObject, doc))
            else:
                model.other_documents.append(doc)
    model.problems.extend(_misshapen_documents((f for f in files if f.rel not in agent_files), model))
    return model


def _shape(data: object) -> str:
    """What a document that is no mapping is, in a user's words."""
    if isinstance(data, list):
        return "a list"
    kind = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}.get(type(data), "a value")
    return f"a scalar ({kind})"


def _misshapen_documents(files: Iterable[SourceFile], model: Model) -> Iterator[ModelProblem]:
    """A document that is a list or a scalar where a Kubernetes object is expected: in a file whose other
    documents are Kubernetes objects, a kustomization file, or a file a kustomization builds as a resource
    (kustomize refuses each of them). Other YAML files (CI files, Helm values, Ansible) may be lists;
    agent configs (only their first document counts) are judged where they are built."""
    from gitops_lint.model.kustomize import PLUGIN, RESOURCE

    misshapen = [(source, shaped) for source in files
                 if (shaped := [doc for doc in source.documents if doc.data is not None and not isinstance(doc.data, dict)])]
    if not misshapen:
        return  # the common case: nothing below needs building
    built = {ref.target for ref in model.file_references if ref.role in (RESOURCE, PLUGIN) and ref.target}
    with_objects = {obj.path for obj in model.objects}
    for source, shaped in misshapen:
        filename = source.rel.rsplit("/", 1)[-1]
        if source.rel in built:
            why = "a kustomization builds this file as a resource"
        elif filename in KUSTOMIZATION_FILE_NAMES:
            why = "kustomize reads this file as a Kustomization"
        elif source.rel in with_objects:
            why = "the file's other documents are Kubernetes objects"
        else:
            continue
        for doc in shaped:
            if doc.data == [] and filename not in KUSTOMIZATION_FILE_NAMES:
                continue  # kustomize's reader drops an empty document, `[]` as `{}`
            yield ModelProblem(doc, (), f"the document is {_shape(doc.data)}, where a Kubernetes object (a "
                                        f"mapping with apiVersion and kind) is expected: {why}")
