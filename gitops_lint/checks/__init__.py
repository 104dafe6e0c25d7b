"""Check implementations that `rules/` entries name.

A check is a generator `check(ctx, **params)` over the typed model that yields
`Finding`s. It never prints, exits or reads a file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from gitops_lint.diagnostics import Finding
from gitops_lint.model import Model
from gitops_lint.model.base import Located
from gitops_lint.yaml.loader import SourceFile
from gitops_lint.yaml.positions import DataPath, MapPos, SeqPos, format_path, walk

if TYPE_CHECKING:
    from gitops_lint.graph import FileIndex, Graph, PathResolution
    from gitops_lint.view.flux import FluxView


@dataclass
class Context:
    files: list[SourceFile]
    model: Model
    #: Run-wide settings (flux version, GitLab URL, ...), from config and CLI.
    settings: dict[str, Any] = field(default_factory=dict)
    #: Results several rules share (one validation pass for four schema rules), keyed by name.
    memo: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def view(self) -> "FluxView":
        """Flux's view: what each Flux Kustomization fed by this repository applies (inactive without an
        entry point, or when only part of the repository was read)."""
        from gitops_lint.view.flux import FluxView, build_view

        if not self.settings.get("whole_repo", True):
            return FluxView()
        return build_view(self.model, self.files, self.settings.get("root"), self.settings.get("source_root", ""),
                          self.settings.get("compiled_folders", ()))

    @cached_property
    def graph(self) -> "Graph":
        """The dependency graph, built the first time a rule asks for it."""
        from gitops_lint.graph import build_graph

        return build_graph(self.model, self.files, self.view)

    @cached_property
    def file_index(self) -> "FileIndex":
        """The repository's files and folders, as discovery found them."""
        from gitops_lint.graph import FileIndex

        return FileIndex([f.rel for f in self.files], self.model, self.settings.get("excluded_files", ()))

    @cached_property
    def paths(self) -> list["PathResolution"]:
        """Where each Flux Kustomization's spec.path leads in this repository."""
        from gitops_lint.graph import resolve_paths

        return resolve_paths(self.model, self.file_index, self.settings.get("source_root", ""),
                             self.settings.get("compiled_folders", ()), self.view)


def at(obj: Located, path: DataPath, message: str, *, key: bool = False) -> Finding:
    """A finding about the field at `path` of a model object.

    A finding about a whole mapping or list points at its key (`spec:`), the
    line a person reads as "this section", rather than at its first entry.
    """
    if not key and path:
        tree, key_span, found = walk(obj.doc.pos, path)
        key = found and key_span is not None and isinstance(tree, (MapPos, SeqPos))
    return Finding(
        message=message,
        path=obj.doc.file.rel,
        span=obj.locate(path, key=key),
        object=obj.ref,
        anchor=format_path(path),
    )
