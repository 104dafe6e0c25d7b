"""Typed models of the Flux custom resources (field tables of Flux 2.9, plus removed fields).

Each kind's class lives in the module of its controller's API group (`source`, `kustomize`, `helm`,
`notification`, `image`); the package imports them only when asked (`from gitops_lint.model.flux import
HelmRelease`), so a run meeting no HelmRelease never builds its model.
"""

from __future__ import annotations

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


def __getattr__(name: str) -> Any:
    from gitops_lint.model import MODELLED_KINDS, model_class

    flux = {kind: group for group, kind in MODELLED_KINDS if group.endswith(".fluxcd.io")}
    if name == "FLUX_KINDS":  # every Flux model class, in the order of MODELLED_KINDS
        found: Any = tuple(model_class(group, kind) for kind, group in flux.items())
    elif name in flux:
        found = model_class(flux[name], name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = found  # asked once: later lookups find it without this function
    return found
