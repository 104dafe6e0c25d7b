"""Check implementations that `rules/` entries name.

A check is a generator `check(ctx, **params)` over the typed model that yields
`Finding`s. It never prints, exits or reads a file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitops_lint.diagnostics import Finding
from gitops_lint.model import Model
from gitops_lint.model.base import Located
from gitops_lint.yaml.loader import SourceFile
from gitops_lint.yaml.positions import DataPath, format_path


@dataclass(slots=True)
class Context:
    files: list[SourceFile]
    model: Model
    #: Run-wide settings (flux version, GitLab URL, ...), from config and CLI.
    settings: dict[str, Any] = field(default_factory=dict)


def at(obj: Located, path: DataPath, message: str, *, key: bool = False) -> Finding:
    """A finding about the field at `path` of a model object."""
    return Finding(
        message=message,
        path=obj.doc.file.rel,
        span=obj.locate(path, key=key),
        object=obj.ref,
        anchor=format_path(path),
    )
