"""`--format junit`: JUnit XML for GitLab's unit test report (`artifacts:reports:junit`).

One `<testsuite name="gitops-lint">`; one `<testcase>` per rule and object
(or per rule and file when a finding has no object), with the file as
`classname` (GitLab's "Suite" column) and `file`. GitLab keeps only the first
of several test cases with the same name, so every name is made unique.

Errors and warnings are `<failure type="RULE">`: they are what a reviewer must
act on, and GitLab lists failures first in the MR test summary. Infos are
`<skipped>`: they do not fail the job by default (`--fail-on error`), so
showing them as failures would paint the MR test panel red for a pipeline
that passed; as skipped tests they still appear, with their text, in the
pipeline's Tests tab. A group is skipped only when all its findings are infos.

A clean run writes one passing test case so GitLab shows a green report
rather than none.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict

from gitops_lint.diagnostics import Diagnostic, Severity
from gitops_lint.report import ReportInput, rule_url

SUITE = "gitops-lint"
#: Characters XML 1.0 cannot carry at all, even escaped; ElementTree would write them raw.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render(report: ReportInput) -> str:
    groups: dict[tuple[str, str, str], list[Diagnostic]] = defaultdict(list)
    for d in sorted(report.diagnostics, key=Diagnostic.sort_key):
        groups[(d.path, d.rule, d.object or "")].append(d)

    root = ET.Element("testsuites")
    suite = ET.SubElement(root, "testsuite", name=SUITE)
    failures = skipped = 0
    if not groups:
        ET.SubElement(suite, "testcase", name="no findings", classname=SUITE)
    names = _unique_names(groups, report)
    for key in sorted(groups):
        path, rule_id, obj = key
        found = groups[key]
        case = ET.SubElement(suite, "testcase", name=_xml(names[key]), classname=_xml(path), file=_xml(path))
        text = _details(found, report)
        if max(d.severity for d in found) == Severity.INFO:
            skipped += 1
            ET.SubElement(case, "skipped", message=_summary(found)).text = text
        else:
            failures += 1
            ET.SubElement(case, "failure", message=_summary(found), type=_xml(rule_id)).text = text
    counts = {"tests": str(max(len(groups), 1)), "failures": str(failures), "errors": "0", "skipped": str(skipped)}
    for element in (root, suite):
        for attr, value in counts.items():
            element.set(attr, value)
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _unique_names(groups: dict, report: ReportInput) -> dict[tuple[str, str, str], str]:
    """`RULE name: object` (or `: path`); the path is added when an object's name recurs in several files."""
    base: dict[tuple[str, str, str], str] = {}
    for key, found in groups.items():
        path, rule_id, obj = key
        base[key] = f"{rule_id} {_rule_name(found[0], report)}: {obj or path}"
    taken: dict[str, int] = defaultdict(int)
    for name in base.values():
        taken[name] += 1
    out = {}
    for key in sorted(base):
        path, _, obj = key
        out[key] = f"{base[key]} ({path})" if taken[base[key]] > 1 and obj else base[key]
    return out


def _rule_name(d: Diagnostic, report: ReportInput) -> str:
    rule = report.catalogue.get(d.rule)
    return rule.name if rule else d.name


def _summary(found: list[Diagnostic]) -> str:
    first = found[0].message
    return _xml(first if len(found) == 1 else f"{first} (and {len(found) - 1} more)")


def _details(found: list[Diagnostic], report: ReportInput) -> str:
    lines = [f"{d.path}:{d.span.line}:{d.span.column}: {d.severity.label}: {d.message}" for d in found]
    rule = report.catalogue.get(found[0].rule)
    if rule is not None and rule.fix:
        lines += ["", f"How to fix: {rule.fix}"]
    lines += ["", f"{found[0].rule} {_rule_name(found[0], report)}: {rule_url(found[0].rule)}"]
    return _xml("\n".join(lines) + "\n")


def _xml(text: str) -> str:
    """Replace what XML 1.0 forbids (control characters, lone surrogates) with U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)
