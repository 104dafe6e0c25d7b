"""Human output: `path:line:col: severity RULE message`, a code frame under each finding, a summary."""

from __future__ import annotations

from gitops_lint.diagnostics import Diagnostic, Severity
from gitops_lint.report import ReportInput

_COLORS = {Severity.ERROR: "\x1b[1;31m", Severity.WARNING: "\x1b[1;33m", Severity.INFO: "\x1b[1;36m"}
_BOLD, _DIM, _RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"
_FRAME_WIDTH = 160


def render(report: ReportInput) -> str:
    paint = _painter(report.color)
    out: list[str] = []
    for d in report.diagnostics:
        head = (
            f"{paint(_BOLD, d.path)}:{d.span.line}:{d.span.column}: "
            f"{paint(_COLORS[d.severity], d.severity.label)} {paint(_BOLD, d.rule)} {d.message}"
        )
        if d.object:
            head += f" {paint(_DIM, f'[{d.object}]')}"
        out.append(head)
        if not report.quiet and d.source:
            out.extend(_frame(d, paint))
    if not report.quiet:
        out.append(_summary_line(report.summary))
        if fixes := _fixable_line(report.diagnostics):
            out.append(fixes)
        if flux := report.summary.get("flux_version"):
            out.append(_flux_line(flux))
    return "\n".join(out) + "\n" if out else ""


def _frame(d: Diagnostic, paint) -> list[str]:
    number = str(d.span.line)
    gutter = " " * len(number)
    text = d.source[0].expandtabs(1)
    if len(text) > _FRAME_WIDTH:
        text = text[:_FRAME_WIDTH] + "…"
    start = max(d.span.column - 1, 0)
    if d.span.end_line == d.span.line:
        width = max(d.span.end_column - d.span.column, 1)
    else:
        width = max(len(text.rstrip()) - start, 1)
    width = max(min(width, len(text) - start), 1)
    marker = " " * min(start, len(text)) + "^" * width
    return [
        f" {paint(_DIM, number)} {paint(_DIM, '|')} {text}",
        f" {gutter} {paint(_DIM, '|')} {paint(_COLORS[d.severity], marker)}",
    ]


def _summary_line(summary: dict) -> str:
    counts = [(summary["errors"], "error"), (summary["warnings"], "warning"), (summary["infos"], "info")]
    found = ", ".join(f"{n} {word}{'s' if n != 1 and word != 'info' else ''}" for n, word in counts if n)
    scope = (
        f"{summary['files']} file{'s' if summary['files'] != 1 else ''}, "
        f"{summary['documents']} document{'s' if summary['documents'] != 1 else ''}, "
        f"{summary['objects']} object{'s' if summary['objects'] != 1 else ''}"
    )
    cached = summary.get("from_cache")
    if cached:  # what this run did not have to read again: only the files that changed were parsed
        scope += f" ({summary['files'] - cached} read, {cached} from the cache)" if cached < summary["files"] \
            else " (all from the cache)"
    return f"Found {found} in {scope}." if found else f"All clear: {scope} checked."


def _fixable_line(diagnostics: list[Diagnostic]) -> str | None:
    """`3 fixable with `gitops-lint check --fix` (1 more with `--fix --unsafe-fixes`).`, as ruff says it."""
    safe = sum(1 for d in diagnostics if d.fixable == "safe")
    unsafe = sum(1 for d in diagnostics if d.fixable == "unsafe")
    if safe:
        more = f" ({unsafe} more with `--fix --unsafe-fixes`)" if unsafe else ""
        return f"[*] {safe} fixable with `gitops-lint check --fix`{more}."
    if unsafe:
        return f"[*] {unsafe} fixable with `gitops-lint check --fix --unsafe-fixes` (the fix changes what the cluster gets)."
    return None


def _flux_line(flux: dict) -> str:
    """`Checked against Flux 2.4 (v2.4.0 from clusters/prod/flux-system/gotk-components.yaml:3 ...).`"""
    declared, release, source = flux.get("declared"), flux.get("release"), flux.get("source")
    line = f"Checked against Flux {release} ({f'{declared} from ' if declared and declared != release else ''}{source})"
    for cluster in flux.get("clusters") or ():
        line += f"; Flux {cluster.get('release')} under {cluster.get('folder') or '.'}/"
    return line + "."


def _painter(color: bool):
    if not color:
        return lambda _code, text: text
    return lambda code, text: f"{code}{text}{_RESET}"
