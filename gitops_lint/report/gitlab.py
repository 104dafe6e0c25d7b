"""`--format gitlab`: a GitLab Code Quality report (`artifacts:reports:codequality`).

The artifact is one JSON array (`[]` when clean: an empty file is not an
array), without a byte-order mark. GitLab validates every element against its
`codeclimate.json` schema and silently drops the ones that fail: `description`,
`fingerprint`, `severity` and `location` are required and line numbers must be
integers.

The location uses `lines` (`begin`/`end`), not `positions`: GitLab reads
`location.lines.begin` first (falling back to `positions.begin.line`) and shows
only a line, never a column, in the MR widget and the diff gutter; the Code
Climate spec makes `lines` and `positions` alternatives, so only one is written.
Columns are in the SARIF and JSON outputs.

The Code Climate fields GitLab ignores (`type`, `categories`, `engine_name`,
`content.body`) are still written: the schema allows extra properties and
other Code Climate consumers show them.
"""

from __future__ import annotations

import hashlib
import json

from gitops_lint.diagnostics import Diagnostic, Severity
from gitops_lint.report import ReportInput, last_line, rule_url

#: Lint findings never reach `blocker` or `critical`: GitLab sorts those above
#: everything else and keeps them for findings that are outages or security holes
#: in running code. An error here is a manifest Flux or the agent will reject or
#: misapply (`major`), a warning is a likely mistake (`minor`), an info is advice
#: (`info`), which keeps GitLab's ordering in step with our own severities.
SEVERITIES = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}

#: Code Climate categories (Bug Risk, Clarity, Compatibility, Complexity,
#: Duplication, Performance, Security, Style). Most rules catch configuration
#: that breaks or misbehaves at reconcile time: Bug Risk.
_CATEGORY_BY_RULE = {"SCH005": "Compatibility", "SCH006": "Compatibility", "SUP001": "Clarity"}
_CATEGORY_BY_FAMILY = {"TOK": "Security"}


def render(report: ReportInput) -> str:
    issues = [_issue(d, report) for d in sorted(report.diagnostics, key=Diagnostic.sort_key)]
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"


def _issue(d: Diagnostic, report: ReportInput) -> dict:
    rule = report.catalogue.get(d.rule)
    body = [rule.fix] if rule and rule.fix else []
    body.append(f"Rule {d.rule} ({d.name}): {rule_url(d.rule)}")
    return {
        "type": "issue",
        "check_name": f"gitops-lint/{d.rule}",
        "description": f"{d.message} [{d.object}]" if d.object else d.message,
        "content": {"body": "\n\n".join(body)},
        "categories": [category(d.rule)],
        "severity": SEVERITIES[d.severity],
        "fingerprint": d.fingerprint or _fallback_fingerprint(d),
        "location": {"path": d.path, "lines": {"begin": d.span.line, "end": last_line(d.span)}},
        "engine_name": "gitops-lint",
    }


def category(rule_id: str) -> str:
    return _CATEGORY_BY_RULE.get(rule_id) or _CATEGORY_BY_FAMILY.get(rule_id.rstrip("0123456789"), "Bug Risk")


def _fallback_fingerprint(d: Diagnostic) -> str:
    """The engine always stamps a fingerprint; this keeps a hand-built diagnostic from being dropped by GitLab."""
    key = "\0".join((d.rule, d.path, d.object or "", str(d.span.line), d.message))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
