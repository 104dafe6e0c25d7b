"""The rule catalogue's build-time index (`catalogue.INDEX_NAME`): used only while it matches the rule files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gitops_lint import catalogue
from gitops_lint.catalogue import INDEX_NAME, _read_rule, build_index, builtin_rules_dir, load_catalogue, read_index


@pytest.fixture
def rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the built-in rules with its index, standing in for the installed package's."""
    folder = Path(shutil.copytree(builtin_rules_dir(), tmp_path / "rules", ignore=shutil.ignore_patterns(INDEX_NAME)))
    paths = sorted(p for p in folder.iterdir() if p.name.endswith(".yaml"))
    (folder / INDEX_NAME).write_bytes(build_index(paths))
    monkeypatch.setattr(catalogue, "builtin_rules_dir", lambda: folder)
    return folder


def test_the_index_holds_what_parsing_the_rules_gives(rules: Path) -> None:
    paths = sorted(p for p in rules.iterdir() if p.name.endswith(".yaml"))
    assert read_index(paths) == [_read_rule(p) for p in paths]


def test_a_run_takes_the_rules_from_the_index(rules: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = [(r.id, r.name, r.severity, r.check) for r in load_catalogue().rules]

    def refuse(path: Path):
        raise AssertionError(f"parsed {path.name}, which the index holds")

    monkeypatch.setattr(catalogue, "_read_rule", refuse)
    assert [(r.id, r.name, r.severity, r.check) for r in load_catalogue().rules] == expected


@pytest.mark.parametrize("change", ["edit", "add", "remove", "damage"])
def test_an_index_that_no_longer_matches_is_ignored(rules: Path, change: str) -> None:
    first = sorted(rules.glob("*.yaml"))[0]
    if change == "edit":
        text = first.read_text()
        severity = _read_rule(first)["severity"]
        other = "info" if severity != "info" else "warning"
        first.write_text(text.replace(f"severity: {severity}", f"severity: {other}", 1))
        assert _read_rule(first)["severity"] == other
    elif change == "add":
        shutil.copy(first, rules / "ZZZ999.yaml")
    elif change == "remove":
        first.unlink()
    else:
        (rules / INDEX_NAME).write_bytes((rules / INDEX_NAME).read_bytes()[:100])
    paths = sorted(p for p in rules.iterdir() if p.name.endswith(".yaml"))
    assert read_index(paths) is None
    if change != "add":  # the added copy repeats an id: the catalogue refuses it, which is not this test's point
        by_id = {r.id: r for r in load_catalogue().rules}
        assert all(by_id[_read_rule(p)["id"]].severity.label == _read_rule(p)["severity"] for p in paths)
