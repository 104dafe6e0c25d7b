"""Typed models of the Flux custom resources (field tables of Flux 2.9, plus removed fields)."""

from __future__ import annotations

from gitops_lint.model.flux.helm import HelmRelease
from gitops_lint.model.flux.image import ImagePolicy, ImageRepository, ImageUpdateAutomation
from gitops_lint.model.flux.kustomize import Kustomization
from gitops_lint.model.flux.notification import Alert, Provider, Receiver
from gitops_lint.model.flux.source import (
    Bucket,
    ExternalArtifact,
    GitRepository,
    HelmChart,
    HelmRepository,
    OCIRepository,
)
from gitops_lint.model.kubernetes import KubernetesObject

FLUX_KINDS: tuple[type[KubernetesObject], ...] = (
    GitRepository,
    OCIRepository,
    HelmRepository,
    HelmChart,
    Bucket,
    ExternalArtifact,
    Kustomization,
    HelmRelease,
    Receiver,
    Provider,
    Alert,
    ImageRepository,
    ImagePolicy,
    ImageUpdateAutomation,
)

__all__ = [
    "FLUX_KINDS",
    "Alert",
    "Bucket",
    "ExternalArtifact",
    "GitRepository",
    "HelmChart",
    "HelmRelease",
    "HelmRepository",
    "ImagePolicy",
    "ImageRepository",
    "ImageUpdateAutomation",
    "Kustomization",
    "OCIRepository",
    "Provider",
    "Receiver",
]
