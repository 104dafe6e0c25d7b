"""The benchmark generator plants mistakes and says where: every one is found at its line."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

from gitops_lint.engine import LintOptions, lint
from tests.conftest import shared_path


def test_every_planted_defect_is_found_at_its_line(tmp_path: Path) -> None:
    generator = shared_path("bench", "gen_repo.py")
    repo = tmp_path / "repo"
    subprocess.run([sys.executable, str(generator), str(repo), "--docs", "600", "--defects", "0.3", "--seed", "11"],
                   check=True, capture_output=True)
    with (repo / "DEFECTS.tsv").open() as handle:
        planted = [(row["path"], int(row["line"]), row["kind"]) for row in csv.DictReader(handle, delimiter="\t")]
    assert planted
    result = lint(LintOptions(paths=["."], cwd=repo))
    found = {(d.path, d.span.line) for d in result.diagnostics}
    missed = [p for p in planted if (p[0], p[1]) not in found]
    assert missed == []
