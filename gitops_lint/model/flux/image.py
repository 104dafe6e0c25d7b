"""Image automation kinds (`image.toolkit.fluxcd.io`): scan tags, pick one, commit it."""

from __future__ import annotations


from gitops_lint.model.base import Field, Model
from gitops_lint.model.flux.common import (
    AccessFrom,
    CrossNamespaceSourceReference,
    LabelSelector,
    LocalObjectReference,
    NamespacedObjectReference,
)
from gitops_lint.model.flux.source import GitRepositoryRef
from gitops_lint.model.kubernetes import KubernetesObject

GROUP = "image.toolkit.fluxcd.io"

IMAGE_REPOSITORY_PROVIDERS = ("generic", "aws", "azure", "gcp")
POLICY_ORDERS = ("asc", "desc")
DIGEST_REFLECTION_POLICIES = ("Always", "IfNotPresent", "Never")
UPDATE_STRATEGIES = ("Setters",)
SIGNING_KEY_TYPES = ("gpg", "ssh")
AUTOMATION_SOURCE_KINDS = ("GitRepository",)


# --------------------------------------------------------------------------- ImageRepository


class ImageRepositorySpec(Model):
    """The image repository to scan and how."""

    image: str | None = None
    interval: str | None = None
    timeout: str | None = None
    secretRef: LocalObjectReference | None = None
    proxySecretRef: LocalObjectReference | None = None
    serviceAccountName: str | None = None
    certSecretRef: LocalObjectReference | None = None
    accessFrom: AccessFrom | None = None
    exclusionList: list[str] = Field(default_factory=list)
    provider: str | None = None
    insecure: bool | None = None
    suspend: bool | None = None


class ImageRepository(KubernetesObject):
    """A container image repository whose tags Flux scans."""

    spec: ImageRepositorySpec = Field(default_factory=ImageRepositorySpec)


# --------------------------------------------------------------------------- ImagePolicy


class SemVerPolicy(Model):
    """Pick the highest tag within a semver range."""

    range: str | None = None


class OrderPolicy(Model):
    """Pick the first tag in numerical or alphabetical order."""

    order: str | None = None


class ImagePolicyChoice(Model):
    """How to choose the latest tag: exactly one of the three is meant to be set."""

    semver: SemVerPolicy | None = None
    alphabetical: OrderPolicy | None = None
    numerical: OrderPolicy | None = None


class TagFilter(Model):
    """A regex tags must match, and the capture to compare them by."""

    pattern: str | None = None
    extract: str | None = None


class ImagePolicySpec(Model):
    """Which ImageRepository to read and which of its tags counts as latest."""

    imageRepositoryRef: NamespacedObjectReference | None = None
    policy: ImagePolicyChoice | None = None
    filterTags: TagFilter | None = None
    digestReflectionPolicy: str | None = None
    interval: str | None = None
    suspend: bool | None = None


class ImagePolicy(KubernetesObject):
    """A rule selecting the latest image tag of an ImageRepository."""

    spec: ImagePolicySpec = Field(default_factory=ImagePolicySpec)


# --------------------------------------------------------------------------- ImageUpdateAutomation


class GitCheckout(Model):
    """The ref to clone before updating files."""

    ref: GitRepositoryRef | None = None


class CommitUser(Model):
    """The commit author."""

    name: str | None = None
    email: str | None = None


class SigningKey(Model):
    """The key commits are signed with, and its format."""

    secretRef: LocalObjectReference | None = None
    type: str | None = None


class CommitSpec(Model):
    """Author, signature and message of the commits the automation makes."""

    author: CommitUser | None = None
    signingKey: SigningKey | None = None
    messageTemplate: str | None = None
    messageTemplateValues: dict[str, str | None] = Field(default_factory=dict)


class PushSpec(Model):
    """Where the automation pushes its commits."""

    branch: str | None = None
    refspec: str | None = None
    options: dict[str, str | None] = Field(default_factory=dict)


class GitSpec(Model):
    """Git checkout, commit and push settings."""

    checkout: GitCheckout | None = None
    commit: CommitSpec | None = None
    push: PushSpec | None = None


class UpdateStrategy(Model):
    """Which files to update and how (only the `Setters` strategy exists)."""

    path: str | None = None
    strategy: str | None = None


class ImageUpdateAutomationSpec(Model):
    """The repository to update, with which policies, and how to commit."""

    sourceRef: CrossNamespaceSourceReference | None = None
    git: GitSpec | None = None
    interval: str | None = None
    policySelector: LabelSelector | None = None
    update: UpdateStrategy | None = None
    suspend: bool | None = None


class ImageUpdateAutomation(KubernetesObject):
    """Commits the latest image tags chosen by ImagePolicies back to Git."""

    spec: ImageUpdateAutomationSpec = Field(default_factory=ImageUpdateAutomationSpec)
