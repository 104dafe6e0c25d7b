"""`--format sarif`: SARIF 2.1.0 for GitHub code scanning and GitLab's SARIF ingestion.

One run; `tool.driver.rules` lists only the rules that have results, sorted
by id, so `ruleIndex` is stable for a given set of findings. Paths are
repository-relative URIs against `%SRCROOT%` (no absolute path ever leaves the
machine); columns are Unicode code points, end column exclusive, exactly as
our spans are. Optional members are left out rather than written empty
(strict consumers reject e.g. `"snippet": {}`).
"""

from __future__ import annotations

import json
from urllib.parse import quote

from gitops_lint import __version__
from gitops_lint.diagnostics import Diagnostic, Severity
from gitops_lint.report import HOME_URL, ReportInput, rule_url

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
FINGERPRINT_KEY = "gitopsLint/v1"


def render(report: ReportInput) -> str:
    diagnostics = sorted(report.diagnostics, key=Diagnostic.sort_key)
    rule_ids = sorted({d.rule for d in diagnostics})
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    first = {}
    for d in diagnostics:
        first.setdefault(d.rule, d)
    payload = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "gitops-lint",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": HOME_URL,
                "rules": [_descriptor(first[rule_id], report) for rule_id in rule_ids],
            }},
            "columnKind": "unicodeCodePoints",
            "results": [_result(d, index[d.rule]) for d in diagnostics],
        }],
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def _descriptor(d: Diagnostic, report: ReportInput) -> dict:
    rule = report.catalogue.get(d.rule)
    url = rule_url(d.rule)
    out: dict = {"id": d.rule, "name": rule.name if rule else d.name}
    if rule is not None:
        out["shortDescription"] = {"text": rule.summary}
        out["fullDescription"] = {"text": rule.rationale}
        out["help"] = {"text": f"{rule.fix}\n\n{url}", "markdown": f"{rule.fix}\n\n[{d.rule} {rule.name}]({url})"}
    out["helpUri"] = url
    out["defaultConfiguration"] = {"level": LEVELS[rule.severity if rule else d.severity]}
    return out


def _result(d: Diagnostic, rule_index: int) -> dict:
    line, column = max(d.span.line, 1), max(d.span.column, 1)
    end_line = max(d.span.end_line, line)
    end_column = max(d.span.end_column, 1)
    if end_line == line:
        end_column = max(end_column, column)  # never end before the start on one line
    location: dict = {"physicalLocation": {
        "artifactLocation": {"uri": _uri(d.path), "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": line, "startColumn": column, "endLine": end_line, "endColumn": end_column},
    }}
    if d.object:
        location["logicalLocations"] = [{"name": d.object, "kind": "resource"}]
    out: dict = {
        "ruleId": d.rule,
        "ruleIndex": rule_index,
        "level": LEVELS[d.severity],
        "message": {"text": d.message},
        "locations": [location],
    }
    if d.fingerprint:
        out["partialFingerprints"] = {FINGERPRINT_KEY: d.fingerprint}
    return out


def _uri(path: str) -> str:
    """A relative URI reference: percent-escapes for spaces and the like. Paths already use `/`; a
    backslash is part of a name (an escaped byte of a name that is not UTF-8: `\\xe9` -> `%5Cxe9`)."""
    return quote(path, safe="/-._~!$&'()*+,;=@")
