"""source-controller kinds (`source.toolkit.fluxcd.io`): where artifacts come from."""

from __future__ import annotations


from gitops_lint.model.base import Field, Model
from gitops_lint.model.flux.common import (
    AccessFrom,
    HelmChartVerification,
    LocalObjectReference,
    NamespacedObjectKindReference,
    OCIRepositoryVerification,
)
from gitops_lint.model.kubernetes import KubernetesObject

GROUP = "source.toolkit.fluxcd.io"

GIT_PROVIDERS = ("generic", "aws", "azure", "github")
GIT_VERIFY_MODES = ("head", "HEAD", "Tag", "TagAndHEAD")
#: `gitImplementation` of the removed v1beta1/v1beta2 GitRepository.
GIT_IMPLEMENTATIONS = ("go-git", "libgit2")
OCI_PROVIDERS = ("generic", "aws", "azure", "gcp")
OCI_LAYER_OPERATIONS = ("extract", "copy")
HELM_REPOSITORY_TYPES = ("default", "oci")
HELM_REPOSITORY_PROVIDERS = ("generic", "aws", "azure", "gcp")
HELM_CHART_SOURCE_KINDS = ("HelmRepository", "GitRepository", "Bucket")
HELM_CHART_RECONCILE_STRATEGIES = ("ChartVersion", "Revision")
BUCKET_PROVIDERS = ("generic", "aws", "gcp", "azure")
BUCKET_STS_PROVIDERS = ("aws", "ldap")


# --------------------------------------------------------------------------- GitRepository


class GitRepositoryRef(Model):
    """The Git reference to check out: commit > name > semver > tag > branch."""

    branch: str | None = None
    tag: str | None = None
    semver: str | None = None
    name: str | None = None
    commit: str | None = None


class GitRepositoryInclude(Model):
    """Another GitRepository whose artifact is copied into this one."""

    repository: LocalObjectReference | None = None
    fromPath: str | None = None
    toPath: str | None = None


class GitRepositoryVerification(Model):
    """Which commits/tags must carry a trusted signature, and where the keys are."""

    mode: str | None = None
    secretRef: LocalObjectReference | None = None


class GitRepositorySpec(Model):
    """The Git repository to fetch and how."""

    url: str | None = None
    secretRef: LocalObjectReference | None = None
    provider: str | None = None
    serviceAccountName: str | None = None
    interval: str | None = None
    timeout: str | None = None
    ref: GitRepositoryRef | None = None
    verify: GitRepositoryVerification | None = None
    proxySecretRef: LocalObjectReference | None = None
    ignore: str | None = None
    suspend: bool | None = None
    recurseSubmodules: bool | None = None
    include: list[GitRepositoryInclude] = Field(default_factory=list)
    sparseCheckout: list[str] = Field(default_factory=list)
    # Removed in v1; kept so that migration rules can point at them.
    gitImplementation: str | None = None
    accessFrom: AccessFrom | None = None


class GitRepository(KubernetesObject):
    """A Git repository Flux fetches artifacts from."""

    spec: GitRepositorySpec = Field(default_factory=GitRepositorySpec)


# --------------------------------------------------------------------------- OCIRepository


class OCIRepositoryRef(Model):
    """The OCI artifact version: digest beats semver beats tag."""

    digest: str | None = None
    semver: str | None = None
    semverFilter: str | None = None
    tag: str | None = None


class OCILayerSelector(Model):
    """Which layer of the artifact to take, and whether to extract or copy it."""

    mediaType: str | None = None
    operation: str | None = None


class OCIRepositorySpec(Model):
    """The OCI artifact repository to pull and how."""

    url: str | None = None
    ref: OCIRepositoryRef | None = None
    layerSelector: OCILayerSelector | None = None
    provider: str | None = None
    secretRef: LocalObjectReference | None = None
    verify: OCIRepositoryVerification | None = None
    serviceAccountName: str | None = None
    certSecretRef: LocalObjectReference | None = None
    proxySecretRef: LocalObjectReference | None = None
    interval: str | None = None
    timeout: str | None = None
    ignore: str | None = None
    insecure: bool | None = None
    suspend: bool | None = None


class OCIRepository(KubernetesObject):
    """An OCI artifact repository Flux pulls artifacts from."""

    spec: OCIRepositorySpec = Field(default_factory=OCIRepositorySpec)


# --------------------------------------------------------------------------- HelmRepository


class HelmRepositorySpec(Model):
    """The Helm repository (index or OCI registry) and how to reach it."""

    url: str | None = None
    secretRef: LocalObjectReference | None = None
    certSecretRef: LocalObjectReference | None = None
    passCredentials: bool | None = None
    interval: str | None = None
    insecure: bool | None = None
    timeout: str | None = None
    suspend: bool | None = None
    accessFrom: AccessFrom | None = None
    type: str | None = None
    provider: str | None = None


class HelmRepository(KubernetesObject):
    """A Helm chart repository."""

    spec: HelmRepositorySpec = Field(default_factory=HelmRepositorySpec)


# --------------------------------------------------------------------------- HelmChart


class LocalHelmChartSourceReference(Model):
    """The source a HelmChart is built from; always in the chart's own namespace."""

    apiVersion: str | None = None
    kind: str | None = None
    name: str | None = None


class HelmChartSpec(Model):
    """The chart to build from a source, and which values files to merge."""

    chart: str | None = None
    version: str | None = None
    sourceRef: LocalHelmChartSourceReference | None = None
    interval: str | None = None
    reconcileStrategy: str | None = None
    valuesFiles: list[str] = Field(default_factory=list)
    ignoreMissingValuesFiles: bool | None = None
    suspend: bool | None = None
    verify: HelmChartVerification | None = None
    # Removed in v1 (use `valuesFiles`); kept so that migration rules can point at them.
    valuesFile: str | None = None
    accessFrom: AccessFrom | None = None


class HelmChart(KubernetesObject):
    """A Helm chart built from a HelmRepository, GitRepository or Bucket."""

    spec: HelmChartSpec = Field(default_factory=HelmChartSpec)


# --------------------------------------------------------------------------- Bucket


class BucketSTSSpec(Model):
    """A Security Token Service that hands out temporary bucket credentials."""

    provider: str | None = None
    endpoint: str | None = None
    secretRef: LocalObjectReference | None = None
    certSecretRef: LocalObjectReference | None = None


class BucketSpec(Model):
    """The object-storage bucket to fetch and how."""

    provider: str | None = None
    bucketName: str | None = None
    endpoint: str | None = None
    sts: BucketSTSSpec | None = None
    insecure: bool | None = None
    region: str | None = None
    prefix: str | None = None
    secretRef: LocalObjectReference | None = None
    serviceAccountName: str | None = None
    certSecretRef: LocalObjectReference | None = None
    proxySecretRef: LocalObjectReference | None = None
    interval: str | None = None
    timeout: str | None = None
    ignore: str | None = None
    suspend: bool | None = None
    # Removed in v1; kept so that migration rules can point at it.
    accessFrom: AccessFrom | None = None


class Bucket(KubernetesObject):
    """An object-storage bucket Flux fetches artifacts from."""

    spec: BucketSpec = Field(default_factory=BucketSpec)


# --------------------------------------------------------------------------- ExternalArtifact


class ExternalArtifactSpec(Model):
    """The object the externally produced artifact belongs to."""

    sourceRef: NamespacedObjectKindReference | None = None


class ExternalArtifact(KubernetesObject):
    """An artifact produced outside source-controller (Flux 2.7+)."""

    spec: ExternalArtifactSpec = Field(default_factory=ExternalArtifactSpec)
