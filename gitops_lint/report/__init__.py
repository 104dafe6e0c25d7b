"""Output formats. Each module renders diagnostics (and the rule catalogue for rule pages); none reads files.

File names are bytes, and a name that is not UTF-8 reaches us with surrogate escapes (`os.fsdecode`).
Discovery gives every file the name reports print (`discover.printable`: such a byte as `\\xNN`); the
renderers apply the same rule to whatever else might carry such a byte (a message quoting a symlink's
target), once, in `renderer()`: every format receives valid UTF-8 and escapes it as its syntax requires.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from gitops_lint.catalogue import Catalogue
from gitops_lint.diagnostics import Diagnostic, Span


@dataclass(slots=True)
class ReportInput:
    """What every report format renders: the findings, the summary and the rules."""

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


def utf8(text: str) -> str:
    """`text` with each byte that is not UTF-8 (a surrogate escape) written `\\xNN`: valid UTF-8."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte (from a `\\ud800` in YAML)
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _utf8_diagnostic(d: Diagnostic) -> Diagnostic:
    fields = {"message": utf8(d.message), "path": utf8(d.path), "object": utf8(d.object) if d.object else d.object,
              "source": tuple(utf8(line) for line in d.source)}
    changed = {key: value for key, value in fields.items() if value != getattr(d, key)}
    return replace(d, **changed) if changed else d


def _utf8_report(report: ReportInput) -> ReportInput:
    return replace(report, diagnostics=[_utf8_diagnostic(d) for d in report.diagnostics])


def renderer(name: str) -> Callable[[ReportInput], str]:
    render = _format(name)
    return lambda report: render(_utf8_report(report))


def _format(name: str) -> Callable[[ReportInput], str]:
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
