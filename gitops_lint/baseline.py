"""Baselines: accept today's findings, report only new ones.

Entries are matched by fingerprint, which does not change when unrelated
lines move, so a baseline survives ordinary edits of the files around a finding.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gitops_lint.diagnostics import Diagnostic

FORMAT_VERSION = 1


class BaselineError(Exception):
    """The baseline file cannot be used (exit code 2)."""


@dataclass(slots=True)
class BaselineResult:
    """Findings a baseline does not cover, and its entries that matched none."""

    kept: list[Diagnostic]
    #: Entries that matched nothing: fixed findings, to drop with --write-baseline.
    stale: list[dict]


def render_baseline(diagnostics: list[Diagnostic]) -> str:
    import json  # here, as in read_baseline: most checks use no baseline, and every check imports this module

    entries = [
        {"fingerprint": d.fingerprint, "rule": d.rule, "path": d.path, "object": d.object, "message": d.message}
        for d in sorted(diagnostics, key=lambda d: (d.path, d.rule, d.fingerprint))
    ]
    return json.dumps({"version": FORMAT_VERSION, "tool": "gitops-lint", "findings": entries}, indent=2) + "\n"


def read_baseline(path: Path) -> list[dict]:
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"{path}: cannot read baseline: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION or not isinstance(data.get("findings"), list):
        raise BaselineError(f"{path}: not a gitops-lint baseline (version {FORMAT_VERSION}); write one with --write-baseline")
    entries = [e for e in data["findings"] if isinstance(e, dict) and isinstance(e.get("fingerprint"), str)]
    return entries


def apply_baseline(diagnostics: list[Diagnostic], entries: list[dict]) -> BaselineResult:
    known = {e["fingerprint"]: e for e in entries}
    seen: set[str] = set()
    kept = []
    for d in diagnostics:
        if d.fingerprint in known:
            seen.add(d.fingerprint)
        else:
            kept.append(d)
    stale = [e for fp, e in known.items() if fp not in seen]
    return BaselineResult(kept, stale)
