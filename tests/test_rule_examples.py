"""Every example of every rule is a test: bad ones are reported at their lines, good ones are not.

What a bad example reports is also a snapshot, `tests/snapshots/rules/<RULE>.txt` (as ruff's tests do): the
rule's diagnostics of each bad example as the text format's first line shows them, so a changed column or
message shows as a diff in review. `GITOPS_LINT_UPDATE_GOLDEN=1` rewrites the snapshots; a missing one fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gitops_lint.catalogue import load_catalogue
from gitops_lint.config import Config
from gitops_lint.engine import LintOptions, lint
from gitops_lint.report import ReportInput, renderer
from tests.conftest import UPDATE_GOLDEN, assert_golden, write_tree

CATALOGUE = load_catalogue()
CASES = [
    pytest.param(rule, index, example, id=f"{rule.id}-{example.kind}-{index}")
    for rule in CATALOGUE.rules
    for index, example in enumerate(rule.examples)
]
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots" / "rules"


def run_example(tmp_path: Path, example, example_rule: str, config: Config | None = None) -> list:
    if CATALOGUE.get(example_rule) is not None and CATALOGUE.get(example_rule).scope == "change":
        return run_change_example(tmp_path, example, example_rule, config)
    write_tree(tmp_path, {example.path: example.content, **dict(example.files)})
    if target := example.options.get("symlink_to"):
        link = tmp_path / example.path
        link.unlink()
        os.symlink(target, link)
    config = config or Config(gitlab_version=example.options.get("gitlab_version"))
    result = lint(LintOptions(paths=["."], cwd=tmp_path, extend_select=[example_rule], config=config,
                              flux_version=example.options.get("flux_version")))
    assert not result.internal_errors, result.internal_errors
    return result.diagnostics


def run_change_example(root: Path, example, example_rule: str, config: Config | None = None) -> list:
    """A change rule's example as two commits: its `base` files, then the head (`path`, `files`; a base
    file the head lacks deleted); `gitops-lint diff` of the head against its parent."""
    import subprocess

    from gitops_lint.diff import danger_signals, review

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)

    write_tree(root, dict(example.base))
    git("init", "-q")
    git("add", "-A")
    git("-c", "user.email=t@x", "-c", "user.name=t", "commit", "-qm", "base")
    head = {example.path: example.content, **dict(example.files)}
    for rel in dict(example.base):
        if rel not in head:
            (root / rel).unlink()
    write_tree(root, head)
    git("add", "-A")
    git("-c", "user.email=t@x", "-c", "user.name=t", "commit", "-qm", "head", "--allow-empty")
    options = LintOptions(paths=["."], cwd=root, extend_select=[example_rule], config=config or Config())
    diagnostics, internal, _ = danger_signals(review(options, "HEAD~1"), options)
    assert not internal, internal
    return diagnostics


@pytest.mark.parametrize(("rule", "index", "example"), CASES)
def test_rule_example(tmp_path: Path, rule, index, example) -> None:
    diagnostics = run_example(tmp_path, example, rule.id)
    mine = [d for d in diagnostics if d.rule == rule.id and d.path == example.path]
    if example.kind == "bad":
        assert sorted({d.span.line for d in mine}) == sorted(example.lines), [
            (d.span, d.message) for d in diagnostics
        ]
        assert all(d.message and d.severity is rule.severity for d in mine)
        assert_spans(d for d in diagnostics if d.rule == rule.id)
    else:
        assert mine == [], [(d.span, d.message) for d in mine]


def test_every_rule_has_a_page_and_examples() -> None:
    assert CATALOGUE.rules
    for rule in CATALOGUE.rules:
        assert rule.summary and rule.rationale and rule.fix and rule.references, rule.id
        assert any(e.kind == "bad" for e in rule.examples) and any(e.kind == "good" for e in rule.examples)
        if not rule.check.startswith("builtin:"):
            assert callable(rule.load_check())


def assert_spans(diagnostics) -> None:
    """Each diagnostic starts at a column >= 1 and ends after it starts (end column exclusive: an end
    column greater than the column on a one-line span, a later line otherwise)."""
    for d in diagnostics:
        span = d.span
        assert span.line >= 1 and span.column >= 1, (d.path, span, d.message)
        assert (span.end_line, span.end_column) > (span.line, span.column), (d.path, span, d.message)
        assert span.end_line > span.line or span.end_column > span.column, (d.path, span, d.message)


def render_first_lines(diagnostics) -> list[str]:
    """The text format's first line of each diagnostic (no colour, no code frame), in a stable order."""
    ordered = sorted(diagnostics, key=lambda d: (d.path, tuple(d.span), d.message, d.object or ""))
    text = renderer("text")(ReportInput(diagnostics=ordered, summary={}, catalogue=CATALOGUE, quiet=True))
    return text.splitlines()


def rule_snapshot(tmp_path: Path, rule) -> str:
    sections = []
    for index, example in enumerate(rule.examples):
        if example.kind != "bad":
            continue
        root = tmp_path / f"{example.kind}-{index}"
        root.mkdir()
        diagnostics = [d for d in run_example(root, example, rule.id) if d.rule == rule.id]
        assert_spans(diagnostics)
        lines = [line.replace(str(root), "<root>") for line in render_first_lines(diagnostics)]
        sections.append("\n".join([f"# {rule.id}-{example.kind}-{index}: {example.path}", *lines]) + "\n")
    return "\n".join(sections)


@pytest.mark.parametrize("rule", CATALOGUE.rules, ids=lambda rule: rule.id)
def test_rule_snapshot(tmp_path: Path, rule) -> None:
    """The rule's diagnostics of its bad examples, `path:line:column: severity RULE message [object]`."""
    assert_golden(f"{rule.id}.txt", rule_snapshot(tmp_path, rule), folder=SNAPSHOTS)


def test_no_stale_snapshots() -> None:
    """A snapshot whose rule is gone (renamed, removed) fails rather than lingering; the update removes it."""
    known = {f"{rule.id}.txt" for rule in CATALOGUE.rules}
    stale = sorted(p for p in SNAPSHOTS.glob("*.txt") if p.name not in known) if SNAPSHOTS.is_dir() else []
    if UPDATE_GOLDEN:
        for path in stale:
            path.unlink()
        stale = []
    assert not stale, f"snapshots of no rule: {[p.name for p in stale]} (GITOPS_LINT_UPDATE_GOLDEN=1 removes them)"
