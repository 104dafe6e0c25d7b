"""`--format github`: GitHub Actions workflow commands, one annotation per finding.

`::error file=PATH,line=L,col=C,endLine=EL,endColumn=EC,title=RULE name::message`
(`::warning` for warnings, `::notice` for infos). GitHub only accepts columns
when the annotation stays on one line, so `col`/`endColumn` are left out for
multi-line spans. The end column is exclusive, as in SARIF (ruff writes the
same). Escaping follows the Actions toolkit: `%`, CR and LF in the message;
additionally `:` and `,` in property values.
"""

from __future__ import annotations

from gitops_lint.diagnostics import Diagnostic, Severity
from gitops_lint.report import ReportInput, last_line

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def render(report: ReportInput) -> str:
    lines = [_line(d, report) for d in sorted(report.diagnostics, key=Diagnostic.sort_key)]
    return "".join(line + "\n" for line in lines)


def _line(d: Diagnostic, report: ReportInput) -> str:
    rule = report.catalogue.get(d.rule)
    end_line = last_line(d.span)
    props = [("file", d.path), ("line", str(d.span.line))]
    if d.span.end_line == d.span.line:
        props += [("col", str(d.span.column)), ("endLine", str(end_line)),
                  ("endColumn", str(max(d.span.end_column, d.span.column)))]
    else:
        props.append(("endLine", str(end_line)))
    props.append(("title", f"{d.rule} {rule.name if rule else d.name}"))
    message = f"{d.message} [{d.object}]" if d.object else d.message
    rendered = ",".join(f"{key}={escape_property(value)}" for key, value in props)
    return f"::{COMMANDS[d.severity]} {rendered}::{escape_data(message)}"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
