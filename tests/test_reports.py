"""The CI report formats: GitLab Code Quality, SARIF, JUnit and GitHub workflow commands."""

from __future__ import annotations

import json
import random
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gitops_lint import __version__
from gitops_lint.catalogue import load_catalogue
from gitops_lint.diagnostics import Diagnostic, Severity, Span
from gitops_lint.report import FORMATS, RULE_URL, ReportInput, renderer, rule_url
from gitops_lint.report.github import escape_data, escape_property
from tests.conftest import PROJECT, shared_path, write_tree
from tests.test_cli import GITREPO, golden, run

GOLDEN_NAMES = {
    "gitlab": "examples.gitlab.json",
    "sarif": "examples.sarif.json",
    "junit": "examples.junit.xml",
    "github": "examples.github.txt",
}
CODEQUALITY_SEVERITIES = {"info", "minor", "major", "critical", "blocker"}
SUMMARY = {"files": 3, "documents": 3, "objects": 3, "errors": 2, "warnings": 1, "infos": 2}


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


@pytest.fixture(scope="module")
def examples() -> dict[str, str]:
    """Each format's output for the examples/ repo, by the real command line."""
    out = {}
    for fmt in GOLDEN_NAMES:
        result = run(["check", "--format", fmt, "examples/"], PROJECT)
        assert result.returncode == 1, (fmt, result.stderr)
        assert "Traceback" not in result.stderr
        out[fmt] = result.stdout
    return out


def _diagnostics() -> list[Diagnostic]:
    """Hand-made findings covering what the examples don't: multi-line spans, clashes, hostile text."""
    return [
        Diagnostic("YAML002", "duplicate-key", Severity.ERROR, "duplicate key a (first defined at line 1)",
                   "apps/a.yaml", Span(2, 1, 2, 2), None, "f1"),
        Diagnostic("YAML002", "duplicate-key", Severity.ERROR, "duplicate key b (first defined at line 3)",
                   "apps/a.yaml", Span(4, 1, 4, 2), None, "f2"),
        Diagnostic("TYP001", "wrong-value-type", Severity.ERROR, "100% wrong, really: \"x\"\nsecond line\r\x00<&>",
                   "apps/b,c:d.yaml", Span(3, 5, 6, 1), "Kustomization/flux-system/apps", "f3"),
        Diagnostic("TYP001", "wrong-value-type", Severity.ERROR, "same object name in another file",
                   "apps/e.yaml", Span(7, 3, 7, 9), "Kustomization/flux-system/apps", "f4"),
        Diagnostic("SUP001", "unused-suppression", Severity.WARNING, "unused suppression", "apps/e.yaml",
                   Span(1, 1, 1, 30), None, "f5"),
        Diagnostic("REF002", "secret-not-in-repository", Severity.INFO, "secret missing", "clusters/ü x.yaml",
                   Span(9, 11, 9, 22), "GitRepository/flux-system/flux-system", "f6"),
        Diagnostic("REF002", "secret-not-in-repository", Severity.INFO, "another secret missing", "clusters/ü x.yaml",
                   Span(12, 11, 12, 22), "GitRepository/flux-system/flux-system", "f7"),
    ]


def _render(fmt: str, catalogue, diagnostics: list[Diagnostic] | None = None) -> str:
    diagnostics = _diagnostics() if diagnostics is None else diagnostics
    return renderer(fmt)(ReportInput(diagnostics, SUMMARY, catalogue))


# -- registration -------------------------------------------------------------------------------------------

def test_formats_are_registered() -> None:
    for fmt in GOLDEN_NAMES:
        assert fmt in FORMATS and callable(renderer(fmt))
    assert rule_url("YAML002") == "https://gitops-lint.dev/rules/YAML002/" == RULE_URL.format(id="YAML002")


# -- golden files through the real CLI ----------------------------------------------------------------------

@pytest.mark.parametrize("fmt", sorted(GOLDEN_NAMES))
def test_examples_golden(fmt: str, examples: dict[str, str]) -> None:
    golden(GOLDEN_NAMES[fmt], examples[fmt])


@pytest.mark.parametrize("fmt", sorted(GOLDEN_NAMES))
def test_every_format_is_deterministic_and_order_independent(fmt: str, catalogue) -> None:
    diagnostics = _diagnostics()
    first = _render(fmt, catalogue, diagnostics)
    shuffled = diagnostics[:]
    random.Random(7).shuffle(shuffled)
    assert _render(fmt, catalogue, shuffled) == first
    assert _render(fmt, catalogue, diagnostics) == first
    assert first.endswith("\n") and not first.startswith("\ufeff")


# -- schemas ------------------------------------------------------------------------------------------------

def test_codequality_validates_against_gitlab_schema(examples: dict[str, str], catalogue) -> None:
    import jsonschema

    schema = json.loads(shared_path("schemas-external", "gitlab-codequality.schema.json").read_text())
    validator = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)(schema)
    for text in (examples["gitlab"], _render("gitlab", catalogue)):
        issues = json.loads(text)
        assert issues
        for issue in issues:
            errors = [e.message for e in validator.iter_errors(issue)]
            assert not errors, (issue, errors)


def test_sarif_validates_against_the_oasis_schema(examples: dict[str, str], catalogue) -> None:
    import jsonschema

    schema = json.loads(shared_path("schemas-external", "sarif-schema-2.1.0.json").read_text())
    validator = jsonschema.Draft4Validator(schema)
    for text in (examples["sarif"], _render("sarif", catalogue), _render("sarif", catalogue, [])):
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(json.loads(text))]
        assert not errors, errors


# -- essential fields, checked by hand (never skipped) -----------------------------------------------------

def _check_codequality(text: str) -> list[dict]:
    assert not text.startswith("\ufeff") and text.endswith("\n")
    issues = json.loads(text)
    assert isinstance(issues, list)
    for issue in issues:
        for key in ("description", "check_name", "fingerprint", "severity", "location"):
            assert isinstance(issue[key], (str, dict)) and issue[key], (key, issue)
        assert issue["check_name"].startswith("gitops-lint/")
        assert issue["severity"] in CODEQUALITY_SEVERITIES - {"critical", "blocker"}
        location = issue["location"]
        assert isinstance(location["path"], str) and not location["path"].startswith("/")
        lines = location["lines"]
        assert type(lines["begin"]) is int and type(lines["end"]) is int and 1 <= lines["begin"] <= lines["end"]
        assert "positions" not in location
        assert issue["type"] == "issue" and issue["engine_name"] == "gitops-lint"
        assert issue["content"]["body"].rstrip().endswith(rule_url(issue["check_name"].split("/")[1]))
    fingerprints = [i["fingerprint"] for i in issues]
    assert len(set(fingerprints)) == len(fingerprints)
    return issues


def _check_sarif(text: str) -> dict:
    doc = json.loads(text)
    assert doc["version"] == "2.1.0" and doc["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert len(doc["runs"]) == 1
    run_ = doc["runs"][0]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "gitops-lint" and driver["version"] == __version__
    assert driver["informationUri"].startswith("https://")
    rule_ids = [r["id"] for r in driver["rules"]]
    assert rule_ids == sorted(set(rule_ids))
    assert set(rule_ids) == {r["ruleId"] for r in run_["results"]}
    for rule in driver["rules"]:
        assert rule["helpUri"] == rule_url(rule["id"])
        assert rule["defaultConfiguration"]["level"] in {"error", "warning", "note"}
    for result in run_["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in {"error", "warning", "note"} and result["message"]["text"]
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert not physical["artifactLocation"]["uri"].startswith(("/", "file:"))
        region = physical["region"]
        assert set(region) == {"startLine", "startColumn", "endLine", "endColumn"}
        assert all(type(v) is int and v >= 1 for v in region.values())
        assert (region["endLine"], region["endColumn"]) >= (region["startLine"], region["startColumn"])
        assert result["partialFingerprints"]["gitopsLint/v1"]
    _assert_no_empty_objects(doc)
    return doc


def _assert_no_empty_objects(value, where: str = "$") -> None:
    if isinstance(value, dict):
        assert value or where.endswith("properties"), f"empty object at {where}"
        for key, item in value.items():
            _assert_no_empty_objects(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _assert_no_empty_objects(item, f"{where}[{i}]")


def test_codequality_essentials(examples: dict[str, str], catalogue) -> None:
    issues = _check_codequality(examples["gitlab"])
    by_rule = {i["check_name"]: i for i in issues}
    assert by_rule["gitops-lint/YAML002"]["severity"] == "major"
    assert by_rule["gitops-lint/REF002"]["severity"] == "info"
    assert by_rule["gitops-lint/YAML002"]["location"] == {
        "path": "examples/apps/podinfo/release.yaml", "lines": {"begin": 8, "end": 8}}
    assert by_rule["gitops-lint/TYP001"]["description"].endswith(" [Kustomization/flux-system/apps]")
    hand = _check_codequality(_render("gitlab", catalogue))
    assert {i["severity"] for i in hand} == {"major", "minor", "info"}
    multi = next(i for i in hand if i["fingerprint"] == "f3")
    assert multi["location"]["lines"] == {"begin": 3, "end": 5}  # an end at column 1 ends on the line before


def test_codequality_fingerprint_fallback(catalogue) -> None:
    d = _diagnostics()[0]
    d.fingerprint = ""
    issue = json.loads(_render("gitlab", catalogue, [d]))[0]
    assert len(issue["fingerprint"]) == 32


def test_sarif_essentials(examples: dict[str, str], catalogue) -> None:
    doc = _check_sarif(examples["sarif"])
    results = doc["runs"][0]["results"]
    dup = next(r for r in results if r["ruleId"] == "YAML002")
    assert dup["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 8, "startColumn": 3, "endLine": 8, "endColumn": 11}
    typ = next(r for r in results if r["ruleId"] == "TYP001")
    assert typ["locations"][0]["logicalLocations"] == [{"name": "Kustomization/flux-system/apps", "kind": "resource"}]
    assert "logicalLocations" not in dup["locations"][0]
    assert {r["level"] for r in results} == {"error", "note"}
    rule = next(r for r in doc["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "YAML002")
    yaml002 = catalogue.get("YAML002")
    assert rule["name"] == "duplicate-key" and rule["shortDescription"]["text"] == yaml002.summary
    assert rule["fullDescription"]["text"] == yaml002.rationale and rule["help"]["text"].startswith(yaml002.fix)

    hand = _check_sarif(_render("sarif", catalogue))
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in hand["runs"][0]["results"]}
    assert "clusters/%C3%BC%20x.yaml" in uris and "apps/b,c%3Ad.yaml" in uris
    assert {r["level"] for r in hand["runs"][0]["results"]} == {"error", "warning", "note"}


# -- several reports in one run, and a clean repository -----------------------------------------------------

def test_several_reports_in_one_run(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.yaml": "a: 1\na: 2\n"})
    out = run(["check", "--report", "gitlab=out/a.json", "--report", "sarif=out/b.sarif",
               "--report", "junit=out/c.xml", "--report", "github=out/d.txt", "."], tmp_path)
    assert out.returncode == 1, out.stderr
    assert out.stdout.startswith("a.yaml:2:1: error YAML002 duplicate key a") and "Found 1 error" in out.stdout
    issues = _check_codequality((tmp_path / "out/a.json").read_text(encoding="utf-8"))
    assert [(i["check_name"], i["location"]["path"]) for i in issues] == [("gitops-lint/YAML002", "a.yaml")]
    doc = _check_sarif((tmp_path / "out/b.sarif").read_text(encoding="utf-8"))
    assert [r["ruleId"] for r in doc["runs"][0]["results"]] == ["YAML002"]
    suite = _check_junit((tmp_path / "out/c.xml").read_bytes())
    assert suite.get("failures") == "1"
    assert (tmp_path / "out/d.txt").read_text().startswith("::error file=a.yaml,line=2,col=1,")


def test_clean_repository(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app.yaml": GITREPO})
    out = run(["check", "--format", "gitlab", "--report", "sarif=b.sarif", "--report", "junit=c.xml",
               "--report", "github=d.txt", "."], tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "[]\n"
    doc = _check_sarif((tmp_path / "b.sarif").read_text(encoding="utf-8"))
    assert doc["runs"][0]["results"] == [] and doc["runs"][0]["tool"]["driver"]["rules"] == []
    suite = _check_junit((tmp_path / "c.xml").read_bytes())
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [("gitops-lint", "no findings")]
    assert list(cases[0]) == [] and suite.get("tests") == "1" and suite.get("failures") == "0"
    assert (tmp_path / "d.txt").read_text() == ""


# -- the Flux version in the summaries ----------------------------------------------------------------------

def test_text_and_json_summaries_carry_the_flux_version(catalogue) -> None:
    flux = {"release": "2.8", "declared": "v2.8.1", "source": "clusters/a/flux-system/gotk-components.yaml:3 "
            "(# Flux Version header)", "clusters": [{"folder": "clusters/b", "release": "2.4", "declared": "v2.4.0",
                                                   "source": "clusters/b/flux-system/gotk-components.yaml:3"}]}
    summary = {**SUMMARY, "flux_version": flux}
    text = renderer("text")(ReportInput(_diagnostics(), summary, catalogue)).splitlines()
    assert text[-1] == ("Checked against Flux 2.8 (v2.8.1 from clusters/a/flux-system/gotk-components.yaml:3 "
                        "(# Flux Version header)); Flux 2.4 under clusters/b/.")
    assert text[-2].startswith("Found 2 errors")
    assert json.loads(renderer("json")(ReportInput([], summary, catalogue)))["summary"]["flux_version"] == flux
    default = {**SUMMARY, "flux_version": {"release": "2.9", "declared": "2.9", "source": "default: newest supported"}}
    assert renderer("text")(ReportInput([], default, catalogue)).splitlines()[-1] == (
        "Checked against Flux 2.9 (default: newest supported).")
    # without one (an older caller), nothing is added; quiet output has no summary at all
    assert renderer("text")(ReportInput([], SUMMARY, catalogue)).splitlines()[-1].startswith("Found 2 errors")
    assert "Checked against" not in renderer("text")(ReportInput(_diagnostics(), summary, catalogue, quiet=True))


# -- JUnit --------------------------------------------------------------------------------------------------

def _check_junit(data: bytes) -> ET.Element:
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(data)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1 and suites[0].get("name") == "gitops-lint"
    suite = suites[0]
    cases = suite.findall("testcase")
    names = [c.get("name") for c in cases]
    assert len(names) == len(set(names)), names
    failures = sum(1 for c in cases if c.find("failure") is not None)
    skipped = sum(1 for c in cases if c.find("skipped") is not None)
    for element in (root, suite):
        assert element.get("tests") == str(len(cases))
        assert element.get("failures") == str(failures)
        assert element.get("skipped") == str(skipped)
        assert element.get("errors") == "0"
    for case in cases:
        if case.get("name") != "no findings":
            assert case.get("file") == case.get("classname")
    return suite


def test_junit_examples(examples: dict[str, str]) -> None:
    suite = _check_junit(examples["junit"].encode("utf-8"))
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    dup = cases["YAML002 duplicate-key: examples/apps/podinfo/release.yaml"]
    assert dup.get("classname") == "examples/apps/podinfo/release.yaml"
    failure = dup.find("failure")
    assert failure.get("type") == "YAML002"
    assert "examples/apps/podinfo/release.yaml:8:3: error: duplicate key interval" in failure.text
    assert rule_url("YAML002") in failure.text and "How to fix: Keep one of the two keys" in failure.text
    info = cases["REF002 secret-not-in-repository: Receiver/flux-system/gitlab-fleet"]
    assert info.find("skipped") is not None and info.find("failure") is None


def test_junit_groups_and_unique_names(catalogue) -> None:
    suite = _check_junit(_render("junit", catalogue).encode("utf-8"))
    cases = suite.findall("testcase")
    by_name = {c.get("name"): c for c in cases}
    # two duplicate keys in one file without an object: one test case listing both
    dup = by_name["YAML002 duplicate-key: apps/a.yaml"]
    assert dup.find("failure").text.count("apps/a.yaml:") == 2
    assert dup.find("failure").get("message").endswith("(and 1 more)")
    # the same object name in two files: the path keeps the names apart
    assert "TYP001 wrong-value-type: Kustomization/flux-system/apps (apps/b,c:d.yaml)" in by_name
    assert "TYP001 wrong-value-type: Kustomization/flux-system/apps (apps/e.yaml)" in by_name
    # control characters XML cannot carry are replaced, the rest survives escaping
    hostile = by_name["TYP001 wrong-value-type: Kustomization/flux-system/apps (apps/b,c:d.yaml)"].find("failure")
    assert '100% wrong, really: "x"\nsecond line' in hostile.text and "\ufffd<&>" in hostile.text
    # infos are skipped, warnings fail
    assert by_name["REF002 secret-not-in-repository: GitRepository/flux-system/flux-system"].find("skipped") is not None
    assert by_name["SUP001 unused-suppression: apps/e.yaml"].find("failure").get("type") == "SUP001"
    assert len(cases) == 5


# -- GitHub -------------------------------------------------------------------------------------------------

def test_github_escaping() -> None:
    assert escape_data("100% done\r\nnext: a, b") == "100%25 done%0D%0Anext: a, b"
    assert escape_property("a,b:c%\n") == "a%2Cb%3Ac%25%0A"


def test_github_lines(examples: dict[str, str], catalogue) -> None:
    lines = examples["github"].splitlines()
    assert len(lines) == len(json.loads(examples["gitlab"]))
    assert ("::error file=examples/apps/podinfo/release.yaml,line=8,col=3,endLine=8,endColumn=11,"
            "title=YAML002 duplicate-key::duplicate key interval") in examples["github"]
    assert sum(line.startswith("::notice ") for line in lines) == 2
    hand = _render("github", catalogue).splitlines()
    assert len(hand) == len(_diagnostics())
    multi = next(line for line in hand if "b%2Cc%3Ad.yaml" in line)
    # a multi-line span gives no columns; `:` in the message stays, `%` and newlines are escaped
    assert multi == ("::error file=apps/b%2Cc%3Ad.yaml,line=3,endLine=5,title=TYP001 wrong-value-type::"
                     "100%25 wrong, really: \"x\"%0Asecond line%0D\x00<&> [Kustomization/flux-system/apps]")
    assert any(line.startswith("::warning file=apps/e.yaml,line=1,col=1,endLine=1,endColumn=30,") for line in hand)
