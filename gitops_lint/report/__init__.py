"""Output formats. Each module renders diagnostics (and the rule catalogue for rule pages); none reads files."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from gitops_lint.catalogue import Catalogue
from gitops_lint.diagnostics import Diagnostic, Span


@dataclass(slots=True)
class ReportInput:
    diagnostics: list[Diagnostic]
    #: The JSON contract's summary (files, documents, objects, errors, warnings, infos), and
    #: `flux_version` ({release, declared, source[, clusters]}) when the run knows it.
    summary: dict
    catalogue: Catalogue
    color: bool = False
    quiet: bool = False


FORMATS = ("text", "json", "gitlab", "sarif", "junit", "github")

#: The project's home page (SARIF `informationUri`).
HOME_URL = "https://gitops-lint.dev/"
#: Where each rule's page is published; `rule_url()` fills in the id.
RULE_URL = "https://gitops-lint.dev/rules/{id}/"


def rule_url(rule_id: str) -> str:
    return RULE_URL.format(id=rule_id)


def last_line(span: Span) -> int:
    """The last line a span touches: an exclusive end at column 1 of the next line ends on the line before."""
    if span.end_line > span.line and span.end_column <= 1:
        return span.end_line - 1
    return max(span.end_line, span.line)


def renderer(name: str) -> Callable[[ReportInput], str]:
    if name == "text":
        from gitops_lint.report.text import render
    elif name == "json":
        from gitops_lint.report.json import render
    elif name == "gitlab":
        from gitops_lint.report.gitlab import render
    elif name == "sarif":
        from gitops_lint.report.sarif import render
    elif name == "junit":
        from gitops_lint.report.junit import render
    elif name == "github":
        from gitops_lint.report.github import render
    else:
        raise ValueError(f"unknown format {name!r} (choose from {', '.join(FORMATS)})")
    return render
