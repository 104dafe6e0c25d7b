"""Every example of every rule is a test: bad ones are reported at their lines, good ones are not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gitops_lint.catalogue import load_catalogue
from gitops_lint.config import Config
from gitops_lint.engine import LintOptions, lint
from tests.conftest import write_tree

CATALOGUE = load_catalogue()
CASES = [
    pytest.param(rule, index, example, id=f"{rule.id}-{example.kind}-{index}")
    for rule in CATALOGUE.rules
    for index, example in enumerate(rule.examples)
]


def run_example(tmp_path: Path, example, example_rule: str, config: Config | None = None) -> list:
    write_tree(tmp_path, {example.path: example.content, **dict(example.files)})
    if target := example.options.get("symlink_to"):
        link = tmp_path / example.path
        link.unlink()
        os.symlink(target, link)
    result = lint(LintOptions(paths=["."], cwd=tmp_path, extend_select=[example_rule], config=config or Config(),
                              flux_version=example.options.get("flux_version")))
    assert not result.internal_errors, result.internal_errors
    return result.diagnostics


@pytest.mark.parametrize(("rule", "index", "example"), CASES)
def test_rule_example(tmp_path: Path, rule, index, example) -> None:
    diagnostics = run_example(tmp_path, example, rule.id)
    mine = [d for d in diagnostics if d.rule == rule.id and d.path == example.path]
    if example.kind == "bad":
        assert sorted({d.span.line for d in mine}) == sorted(example.lines), [
            (d.span, d.message) for d in diagnostics
        ]
        assert all(d.message and d.severity is rule.severity for d in mine)
    else:
        assert mine == [], [(d.span, d.message) for d in mine]


def test_every_rule_has_a_page_and_examples() -> None:
    assert CATALOGUE.rules
    for rule in CATALOGUE.rules:
        assert rule.summary and rule.rationale and rule.fix and rule.references, rule.id
        assert any(e.kind == "bad" for e in rule.examples) and any(e.kind == "good" for e in rule.examples)
        if not rule.check.startswith("builtin:"):
            assert callable(rule.load_check())
