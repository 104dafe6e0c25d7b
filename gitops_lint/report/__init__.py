"""Output formats. Each module renders diagnostics (and the rule catalogue for rule pages); none reads files."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from gitops_lint.catalogue import Catalogue
from gitops_lint.diagnostics import Diagnostic


@dataclass(slots=True)
class ReportInput:
    diagnostics: list[Diagnostic]
    #: The JSON contract's summary (files, documents, objects, errors, warnings, infos).
    summary: dict
    catalogue: Catalogue
    color: bool = False
    quiet: bool = False


FORMATS = ("text", "json")


def renderer(name: str) -> Callable[[ReportInput], str]:
    if name == "text":
        from gitops_lint.report.text import render
    elif name == "json":
        from gitops_lint.report.json import render
    else:
        raise ValueError(f"unknown format {name!r} (choose from {', '.join(FORMATS)})")
    return render
