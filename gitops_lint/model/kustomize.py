"""kustomize's own `kustomization.yaml` (Kustomization v1beta1 and Component v1alpha1).

Types are lenient on purpose: kustomize accepts many shapes (a patch as a file
path or inline text, generators as files or inline objects), and judging them
is the rules' business. File lists are `list[str]`; the rest is kept as data.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from gitops_lint.model.base import Located, Model

API_GROUP = "kustomize.config.k8s.io"
KINDS = ("Kustomization", "Component")
#: File names kustomize looks for in a directory, in its order of preference.
FILE_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


class KustomizePatch(Model):
    """A `patches[]` entry: a patch file or inline patch, with an optional target."""

    path: str | None = None
    patch: str | None = None
    target: dict[str, Any] | None = None
    options: dict[str, Any] | None = None


class KustomizeFile(Located):
    """A kustomization file; `apiVersion` and `kind` may be missing, kustomize assumes them."""

    display_kind: ClassVar[str] = "kustomization.yaml"

    apiVersion: str | None = None
    kind: str | None = None
    metadata: dict[str, Any] | None = None
    resources: list[str] = Field(default_factory=list)
    components: list[str] = Field(default_factory=list)
    crds: list[str] = Field(default_factory=list)
    namespace: str | None = None
    namePrefix: str | None = None
    nameSuffix: str | None = None
    labels: list[dict[str, Any]] = Field(default_factory=list)
    commonLabels: dict[str, Any] = Field(default_factory=dict)
    commonAnnotations: dict[str, Any] = Field(default_factory=dict)
    images: list[dict[str, Any]] = Field(default_factory=list)
    replicas: list[dict[str, Any]] = Field(default_factory=list)
    patches: list[KustomizePatch] = Field(default_factory=list)
    replacements: list[dict[str, Any]] = Field(default_factory=list)
    configMapGenerator: list[dict[str, Any]] = Field(default_factory=list)
    secretGenerator: list[dict[str, Any]] = Field(default_factory=list)
    generatorOptions: dict[str, Any] | None = None
    generators: list[str] = Field(default_factory=list)
    transformers: list[str] = Field(default_factory=list)
    validators: list[str] = Field(default_factory=list)
    helmCharts: list[dict[str, Any]] = Field(default_factory=list)
    helmGlobals: dict[str, Any] | None = None
    openapi: dict[str, Any] | None = None
    configurations: list[str] = Field(default_factory=list)
    buildMetadata: list[str] = Field(default_factory=list)
    sortOptions: dict[str, Any] | None = None
    # Deprecated by kustomize (still accepted by it); kept so that rules can report them.
    bases: list[str] = Field(default_factory=list)
    patchesStrategicMerge: list[str] = Field(default_factory=list)
    patchesJson6902: list[dict[str, Any]] = Field(default_factory=list)
    vars: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def ref(self) -> str:
        return f"{self.display_kind}/{self.doc.file.rel}"
