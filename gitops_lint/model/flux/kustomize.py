"""kustomize-controller's Kustomization (`kustomize.toolkit.fluxcd.io`)."""

from __future__ import annotations

from typing import Any


from gitops_lint.model.base import Field, Model
from gitops_lint.model.flux.common import (
    CrossNamespaceSourceReference,
    DependencyReference,
    IgnoreRule,
    Image,
    JSON6902Patch,
    KubeConfigReference,
    LocalObjectReference,
    NamespacedObjectKindReference,
    Patch,
)
from gitops_lint.model.kubernetes import KubernetesObject

GROUP = "kustomize.toolkit.fluxcd.io"

KUSTOMIZATION_SOURCE_KINDS = ("OCIRepository", "GitRepository", "Bucket", "ExternalArtifact")
BUILD_METADATA = ("originAnnotations", "transformerAnnotations")
DELETION_POLICIES = ("MirrorPrune", "Delete", "WaitForTermination", "Orphan")
DECRYPTION_PROVIDERS = ("sops",)
SUBSTITUTE_FROM_KINDS = ("Secret", "ConfigMap")
SUBSTITUTE_STRATEGIES = ("WithVariables", "Always")
#: `validation` of the removed v1beta1/v1beta2 Kustomization.
VALIDATION_MODES = ("none", "client", "server")


class Decryption(Model):
    """How to decrypt SOPS-encrypted Secrets before applying them."""

    provider: str | None = None
    secretRef: LocalObjectReference | None = None
    serviceAccountName: str | None = None


class SubstituteReference(Model):
    """A ConfigMap or Secret whose data feeds `postBuild` variable substitution."""

    kind: str | None = None
    name: str | None = None
    optional: bool | None = None


class PostBuild(Model):
    """Variable substitution applied to the built manifests."""

    substitute: dict[str, str | None] = Field(default_factory=dict)
    substituteFrom: list[SubstituteReference] = Field(default_factory=list)
    substituteStrategy: str | None = None


class KustomizationSpec(Model):
    """What to build from which source, and how to apply it."""

    sourceRef: CrossNamespaceSourceReference | None = None
    path: str | None = None
    interval: str | None = None
    retryInterval: str | None = None
    timeout: str | None = None
    prune: bool | None = None
    deletionPolicy: str | None = None
    wait: bool | None = None
    force: bool | None = None
    suspend: bool | None = None
    targetNamespace: str | None = None
    namePrefix: str | None = None
    nameSuffix: str | None = None
    serviceAccountName: str | None = None
    kubeConfig: KubeConfigReference | None = None
    dependsOn: list[DependencyReference] = Field(default_factory=list)
    decryption: Decryption | None = None
    postBuild: PostBuild | None = None
    patches: list[Patch] = Field(default_factory=list)
    images: list[Image] = Field(default_factory=list)
    components: list[str] = Field(default_factory=list)
    ignoreMissingComponents: bool | None = None
    # Free-form on purpose: its shape is the schema checks' business.
    commonMetadata: dict[str, Any] | None = None
    buildMetadata: list[str] = Field(default_factory=list)
    healthChecks: list[NamespacedObjectKindReference] = Field(default_factory=list)
    healthCheckExprs: list[dict[str, Any]] = Field(default_factory=list)
    ignore: list[IgnoreRule] = Field(default_factory=list)
    # Removed in v1 (use `patches`); kept so that migration rules can point at them.
    patchesStrategicMerge: list[Any] = Field(default_factory=list)
    patchesJson6902: list[JSON6902Patch] = Field(default_factory=list)
    validation: str | None = None


class Kustomization(KubernetesObject):
    """A Flux Kustomization: a kustomize build of a source path, applied and garbage-collected."""

    spec: KustomizationSpec = Field(default_factory=KustomizationSpec)
