"""Typed models of the Flux custom resources (field tables of Flux 2.9, plus removed fields).

Each kind's class lives in the module of its controller's API group (`source`, `kustomize`, `helm`,
`notification`, `image`); the package imports them only when asked (`from gitops_lint.model.flux import
HelmRelease`), so a run meeting no HelmRelease never builds its model.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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


def _flux_kinds() -> dict[str, str]:
    from gitops_lint.model import MODELLED_KINDS

    return {kind: module for (group, kind), module in MODELLED_KINDS.items() if group.endswith(".fluxcd.io")}


def __getattr__(name: str) -> Any:
    if name == "FLUX_KINDS":  # every Flux model class, in the order of MODELLED_KINDS
        return tuple(getattr(importlib.import_module(module), kind) for kind, module in _flux_kinds().items())
    module = _flux_kinds().get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
