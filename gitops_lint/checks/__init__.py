"""Check implementations that `rules/` entries name.

A check is a generator `check(ctx, **params)` over the typed model that yields
`Finding`s. It never prints, exits or reads a file.
"""

from __future__ import annotations

from gitops_lint.diagnostics import Finding
from gitops_lint.model.base import Located
from gitops_lint.project import Project
from gitops_lint.yaml.positions import DataPath, MapPos, SeqPos, format_path, walk

#: What every check receives: the project (`project.Project`), typed.
Context = Project


def at(obj: Located, path: DataPath, message: str, *, key: bool = False, value: bool = False) -> Finding:
    """A finding about the field at `path` of a model object.

    A finding about a whole mapping or list points at its key (`spec:`), the
    line a person reads as "this section", rather than at its first entry;
    `value` points at the value all the same (where a type finding of the same
    value points: TYP001's).
    """
    # A span kept from the parse is a scalar's: no tree to walk (building it parses the file again).
    if not key and not value and path and obj.doc.known_span(path) is None:
        tree, key_span, found = walk(obj.doc.pos, path)
        key = found and key_span is not None and isinstance(tree, (MapPos, SeqPos))
    return Finding(
        message=message,
        path=obj.doc.file.rel,
        span=obj.locate(path, key=key),
        object=obj.ref,
        anchor=format_path(path),
    )
