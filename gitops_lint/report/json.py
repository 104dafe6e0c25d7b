"""`--format json`: the versioned envelope of DESIGN.md."""

from __future__ import annotations

import json

from gitops_lint import __version__
from gitops_lint.report import ReportInput


def render(report: ReportInput) -> str:
    payload = {
        "tool": {"name": "gitops-lint", "version": __version__},
        "diagnostics": [d.to_json() for d in report.diagnostics],
        "summary": report.summary,
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
