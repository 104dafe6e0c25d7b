"""Kubernetes objects: the metadata every object shares, Secrets, ConfigMaps, and the generic rest."""

from __future__ import annotations

import re
from typing import Annotated, Any

from gitops_lint.model.base import Before, Field, Located, Model

#: Kubernetes' name formats (namespaces and most names are labels; Secrets, ConfigMaps and CRs subdomains).
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

#: Marks the objects `compile --with-agent-objects` writes: what the GitLab agent creates in the
#: cluster, shown for review; Flux does not apply them and compiling again drops and remakes them.
GENERATED_ANNOTATION = "gitops-lint/generated"
GENERATED_BY_AGENT = "gitlab-agent"


def kustomize_string(value: Any) -> Any:
    """A label or annotation value as kustomize writes it: YAML booleans and numbers become strings.

    Flux builds every Kustomization with kustomize, which emits the values of
    `metadata.annotations` as strings (kustomize PR 3469): `true` reaches the
    API server as "true" and `1` as "1". Label values kustomize 5.5 writes as
    they are, and Flux then applies the object without its labels: K8S003 says
    so; the model holds them as text, as selectors compare them. Null, mappings
    and lists are left as they are, for the type check to judge.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


#: A `metadata.labels`/`metadata.annotations` value: a string, or a scalar kustomize turns into one.
MetadataValue = Annotated[str | None, Before(kustomize_string)]


class ObjectMeta(Model):
    name: str | None = None
    generateName: str | None = None
    namespace: str | None = None
    labels: dict[str, MetadataValue] = Field(default_factory=dict)
    annotations: dict[str, MetadataValue] = Field(default_factory=dict)


class KubernetesObject(Located):
    """Any object with apiVersion and kind; the typed kinds below refine it."""

    apiVersion: str | None = None
    kind: str | None = None
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)

    @property
    def group(self) -> str:
        return api_group(self.apiVersion)

    @property
    def version(self) -> str:
        return (self.apiVersion or "").rpartition("/")[2]

    @property
    def name(self) -> str | None:
        return self.metadata.name

    @property
    def namespace(self) -> str | None:
        return self.metadata.namespace

    @property
    def ref(self) -> str:
        """`Kind/namespace/name`, the flux CLI's way of naming an object (`Kind/name` when cluster-scoped or unset)."""
        parts = [self.kind or "?"]
        if self.namespace:
            parts.append(self.namespace)
        parts.append(self.name or self.metadata.generateName or "?")
        return "/".join(parts)


def is_generated(data: object) -> bool:
    """Whether an object's data carries our `GENERATED_ANNOTATION` (works on plain loaded data)."""
    metadata = data.get("metadata") if isinstance(data, dict) else None
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    return isinstance(annotations, dict) and annotations.get(GENERATED_ANNOTATION) == GENERATED_BY_AGENT


def api_group(api_version: str | None) -> str:
    group = _GROUPS.get(api_version) if isinstance(api_version, str) else ""
    if group is None:
        # Rules ask for it of every object, again and again; a repository uses a few dozen apiVersions.
        group = _GROUPS[api_version] = api_version.split("/", 1)[0] if "/" in api_version else ""
    return group


_GROUPS: dict[str, str] = {}


class Secret(KubernetesObject):
    type: str | None = None
    data: dict[str, str | None] = Field(default_factory=dict)
    stringData: dict[str, str | None] = Field(default_factory=dict)
    immutable: bool | None = None


class ConfigMap(KubernetesObject):
    data: dict[str, str | None] = Field(default_factory=dict)
    binaryData: dict[str, str | None] = Field(default_factory=dict)
    immutable: bool | None = None
