"""helm-controller's HelmRelease (`helm.toolkit.fluxcd.io`)."""

from __future__ import annotations

from typing import Any


from gitops_lint.model.base import Field, Model
from gitops_lint.model.flux.common import (
    ChartVerification,
    CrossNamespaceSourceReference,
    DependencyReference,
    IgnoreRule,
    Image,
    JSON6902Patch,
    KubeConfigReference,
    NamespacedObjectKindReference,
    Patch,
    ValuesReference,
)
from gitops_lint.model.kubernetes import KubernetesObject

GROUP = "helm.toolkit.fluxcd.io"

CHART_SOURCE_KINDS = ("HelmRepository", "GitRepository", "Bucket")
CHART_REF_KINDS = ("OCIRepository", "HelmChart", "ExternalArtifact")
CRDS_POLICIES = ("Skip", "Create", "CreateReplace")
ACTION_STRATEGIES = ("RemediateOnFailure", "RetryOnFailure")
REMEDIATION_STRATEGIES = ("rollback", "uninstall")
DELETION_PROPAGATIONS = ("background", "foreground", "orphan")
DRIFT_DETECTION_MODES = ("enabled", "warn", "disabled")
SERVER_SIDE_APPLY_MODES = ("enabled", "disabled", "auto")
POST_RENDER_STRATEGIES = ("nohooks", "combined", "separate")
WAIT_STRATEGIES = ("poller", "legacy")
CHART_NAME_CHANGE_STRATEGIES = ("InPlaceUpdate", "Reinstall")
VALUES_FROM_KINDS = ("Secret", "ConfigMap")


class HelmChartTemplateMetadata(Model):
    """Labels and annotations for the HelmChart the release generates."""

    labels: dict[str, str | None] = Field(default_factory=dict)
    annotations: dict[str, str | None] = Field(default_factory=dict)


class HelmChartTemplateSpec(Model):
    """The HelmChart the release generates: chart name, version and source."""

    chart: str | None = None
    version: str | None = None
    sourceRef: NamespacedObjectKindReference | None = None
    interval: str | None = None
    reconcileStrategy: str | None = None
    valuesFiles: list[str] = Field(default_factory=list)
    ignoreMissingValuesFiles: bool | None = None
    verify: ChartVerification | None = None
    # Removed in v2 (use `valuesFiles`); kept so that migration rules can point at it.
    valuesFile: str | None = None


class HelmChartTemplate(Model):
    """`spec.chart`: the template of the HelmChart object to create."""

    metadata: HelmChartTemplateMetadata | None = None
    spec: HelmChartTemplateSpec | None = None


class InstallRemediation(Model):
    """What to do when an install fails; a negative `retries` retries forever."""

    retries: int | None = None
    ignoreTestFailures: bool | None = None
    remediateLastFailure: bool | None = None


class UpgradeRemediation(Model):
    """What to do when an upgrade fails: roll back (default) or uninstall."""

    retries: int | None = None
    ignoreTestFailures: bool | None = None
    remediateLastFailure: bool | None = None
    strategy: str | None = None


class ActionStrategy(Model):
    """`install.strategy` / `upgrade.strategy`: remediate, or retry after an interval."""

    name: str | None = None
    retryInterval: str | None = None


class Install(Model):
    """Options of the Helm install action."""

    timeout: str | None = None
    remediation: InstallRemediation | None = None
    strategy: ActionStrategy | None = None
    disableWait: bool | None = None
    disableWaitForJobs: bool | None = None
    disableHooks: bool | None = None
    disableOpenAPIValidation: bool | None = None
    disableSchemaValidation: bool | None = None
    disableTakeOwnership: bool | None = None
    replace: bool | None = None
    serverSideApply: bool | None = None
    skipCRDs: bool | None = None
    crds: str | None = None
    createNamespace: bool | None = None


class Upgrade(Model):
    """Options of the Helm upgrade action."""

    timeout: str | None = None
    remediation: UpgradeRemediation | None = None
    strategy: ActionStrategy | None = None
    chartNameChangeStrategy: str | None = None
    disableWait: bool | None = None
    disableWaitForJobs: bool | None = None
    disableHooks: bool | None = None
    disableOpenAPIValidation: bool | None = None
    disableSchemaValidation: bool | None = None
    disableTakeOwnership: bool | None = None
    force: bool | None = None
    serverSideApply: str | None = None
    preserveValues: bool | None = None
    cleanupOnFail: bool | None = None
    crds: str | None = None


class ReleaseTestFilter(Model):
    """A Helm test to run or to exclude."""

    name: str | None = None
    exclude: bool | None = None


class ReleaseTest(Model):
    """Options of the Helm test action."""

    enable: bool | None = None
    filters: list[ReleaseTestFilter] = Field(default_factory=list)
    ignoreFailures: bool | None = None
    timeout: str | None = None


class Rollback(Model):
    """Options of the Helm rollback action."""

    timeout: str | None = None
    disableWait: bool | None = None
    disableWaitForJobs: bool | None = None
    disableHooks: bool | None = None
    recreate: bool | None = None
    force: bool | None = None
    serverSideApply: str | None = None
    cleanupOnFail: bool | None = None


class Uninstall(Model):
    """Options of the Helm uninstall action."""

    timeout: str | None = None
    disableHooks: bool | None = None
    keepHistory: bool | None = None
    disableWait: bool | None = None
    deletionPropagation: str | None = None


class DriftDetection(Model):
    """Whether and how to correct cluster drift from the Helm manifest."""

    mode: str | None = None
    ignore: list[IgnoreRule] = Field(default_factory=list)


class KustomizePostRenderer(Model):
    """Kustomize patches and image overrides applied to the rendered chart."""

    patches: list[Patch] = Field(default_factory=list)
    images: list[Image] = Field(default_factory=list)
    # Removed in v2 (use `patches`); kept so that migration rules can point at them.
    patchesStrategicMerge: list[Any] = Field(default_factory=list)
    patchesJson6902: list[JSON6902Patch] = Field(default_factory=list)


class PostRenderer(Model):
    """One post-renderer; kustomize is the only kind there is."""

    kustomize: KustomizePostRenderer | None = None


class WaitStrategy(Model):
    """Helm's way of waiting for applied resources to become ready."""

    name: str | None = None


class HelmReleaseSpec(Model):
    """The chart to release, where, with which values, and how to act on failure."""

    chart: HelmChartTemplate | None = None
    chartRef: CrossNamespaceSourceReference | None = None
    interval: str | None = None
    kubeConfig: KubeConfigReference | None = None
    suspend: bool | None = None
    releaseName: str | None = None
    targetNamespace: str | None = None
    storageNamespace: str | None = None
    dependsOn: list[DependencyReference] = Field(default_factory=list)
    timeout: str | None = None
    maxHistory: int | None = None
    serviceAccountName: str | None = None
    persistentClient: bool | None = None
    driftDetection: DriftDetection | None = None
    install: Install | None = None
    upgrade: Upgrade | None = None
    test: ReleaseTest | None = None
    rollback: Rollback | None = None
    uninstall: Uninstall | None = None
    valuesFrom: list[ValuesReference] = Field(default_factory=list)
    values: dict[str, Any] | None = None
    postRenderers: list[PostRenderer] = Field(default_factory=list)
    postRenderStrategy: str | None = None
    waitStrategy: WaitStrategy | None = None
    # Free-form on purpose: their shape is the schema checks' business.
    commonMetadata: dict[str, Any] | None = None
    healthCheckExprs: list[dict[str, Any]] = Field(default_factory=list)


class HelmRelease(KubernetesObject):
    """A Helm release managed by helm-controller."""

    spec: HelmReleaseSpec = Field(default_factory=HelmReleaseSpec)
