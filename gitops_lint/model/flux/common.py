"""Nested types that several Flux kinds share (fluxcd/pkg `apis/meta` and friends).

Every field is optional: the model records what was written, and the schema
rules decide what is required.
"""

from __future__ import annotations

from typing import Any


from gitops_lint.model.base import Field, Model

#: Kinds a Receiver resource or an Alert event source may name (notification-controller v1.9).
EVENT_SOURCE_KINDS = (
    "Bucket",
    "GitRepository",
    "Kustomization",
    "HelmRelease",
    "HelmChart",
    "HelmRepository",
    "ImageRepository",
    "ImagePolicy",
    "ImageUpdateAutomation",
    "OCIRepository",
    "ArtifactGenerator",
    "ExternalArtifact",
)
VALUES_REFERENCE_KINDS = ("Secret", "ConfigMap")
#: `verify.provider` of OCIRepository, HelmChart and HelmRelease `chart.spec`.
VERIFY_PROVIDERS = ("cosign", "notation")


class LocalObjectReference(Model):
    """A reference to an object in the same namespace."""

    name: str | None = None


class NamespacedObjectReference(Model):
    """A reference to an object, by default in the referrer's namespace."""

    name: str | None = None
    namespace: str | None = None


class NamespacedObjectKindReference(Model):
    """A reference to an object of a given kind, by default in the referrer's namespace."""

    apiVersion: str | None = None
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None


class CrossNamespaceSourceReference(Model):
    """`sourceRef` of a Kustomization, HelmChart template or ImageUpdateAutomation."""

    apiVersion: str | None = None
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None


class CrossNamespaceObjectReference(Model):
    """`chartRef` of a HelmRelease, Receiver `resources[]`, Alert `eventSources[]`."""

    apiVersion: str | None = None
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None
    matchLabels: dict[str, str | None] = Field(default_factory=dict)


class DependencyReference(Model):
    """One `dependsOn[]` entry of a Kustomization or HelmRelease."""

    name: str | None = None
    namespace: str | None = None
    readyExpr: str | None = None


class SecretKeyReference(Model):
    """A key of a Secret; the controller picks a default key when `key` is unset."""

    name: str | None = None
    key: str | None = None


class KubeConfigReference(Model):
    """`kubeConfig` of a Kustomization or HelmRelease: exactly one reference is meant to be set."""

    configMapRef: LocalObjectReference | None = None
    secretRef: SecretKeyReference | None = None


class ValuesReference(Model):
    """A HelmRelease `valuesFrom[]` entry: a ConfigMap or Secret key holding values."""

    kind: str | None = None
    name: str | None = None
    valuesKey: str | None = None
    targetPath: str | None = None
    optional: bool | None = None
    literal: bool | None = None


class NamespaceSelector(Model):
    """One selector of an `accessFrom` ACL."""

    matchLabels: dict[str, str | None] = Field(default_factory=dict)


class AccessFrom(Model):
    """Cross-namespace ACL; removed from most source kinds in v1 but still found in repos."""

    namespaceSelectors: list[NamespaceSelector] = Field(default_factory=list)


class Selector(Model):
    """Which objects a patch or drift-ignore rule applies to (kustomize's selector)."""

    group: str | None = None
    version: str | None = None
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None
    labelSelector: str | None = None
    annotationSelector: str | None = None


class Patch(Model):
    """An inline strategic-merge or JSON 6902 patch with an optional target."""

    patch: str | None = None
    target: Selector | None = None


class JSON6902Patch(Model):
    """`patchesJson6902[]` of the removed v1beta1/v1beta2 APIs (use `patches[]` instead)."""

    target: Selector | None = None
    patch: list[dict[str, Any]] = Field(default_factory=list)


class Image(Model):
    """An image override: a tag-less name and its new name, tag or digest."""

    name: str | None = None
    newName: str | None = None
    newTag: str | None = None
    digest: str | None = None


class IgnoreRule(Model):
    """JSON pointers to leave out of drift detection, for the objects `target` selects."""

    paths: list[str] = Field(default_factory=list)
    target: Selector | None = None


class OIDCIdentityMatch(Model):
    """Regexes the Fulcio certificate of a keyless Cosign signature must match."""

    issuer: str | None = None
    subject: str | None = None


class ChartVerification(Model):
    """HelmRelease `chart.spec.verify`: the signing technology and the trusted keys."""

    provider: str | None = None
    secretRef: LocalObjectReference | None = None


class HelmChartVerification(ChartVerification):
    """HelmChart `verify`: adds identity matching for keyless signatures."""

    matchOIDCIdentity: list[OIDCIdentityMatch] = Field(default_factory=list)


class OCIRepositoryVerification(HelmChartVerification):
    """OCIRepository `verify`: adds a custom Sigstore trusted root."""

    trustedRootSecretRef: LocalObjectReference | None = None


class LabelSelectorRequirement(Model):
    key: str | None = None
    operator: str | None = None
    values: list[str] = Field(default_factory=list)


class LabelSelector(Model):
    """A Kubernetes label selector (`matchLabels` and `matchExpressions`)."""

    matchLabels: dict[str, str | None] = Field(default_factory=dict)
    matchExpressions: list[LabelSelectorRequirement] = Field(default_factory=list)
