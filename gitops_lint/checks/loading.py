"""Problems found while reading and parsing files, and values the typed model could not take."""

from __future__ import annotations

from typing import Iterator

from gitops_lint.checks import Context
from gitops_lint.diagnostics import Finding, Severity
from gitops_lint.yaml.positions import format_path, value_at


def load_problems(ctx: Context, code: str) -> Iterator[Finding]:
    from gitops_lint.yaml.loader import DUPLICATE_KEY, GO_YAML_V2

    for source in ctx.judged_files():
        for problem in source.problems:
            if problem.code == code:
                finding = Finding(problem.message, source.rel, problem.span, anchor=code)
                if code == DUPLICATE_KEY and source.reader == GO_YAML_V2:
                    # kustomization files (kustomize and Flux) and agent configs (GitLab's kas) are read with
                    # go-yaml v2, which keeps the later value (kubectl kustomize builds it): a mistake, no failure
                    finding.message += " (read with go-yaml v2, which takes the later value: nothing fails)"
                    finding.severity = Severity.WARNING
                yield finding


def model_problems(ctx: Context) -> Iterator[Finding]:
    for problem in ctx.model.problems:
        doc = problem.doc
        # (without Flux's view, as when one folder is checked, nothing says Flux leaves it as text: `literal_reason`)
        if _holds_variable(doc.data, problem.path) and (
                (obj := ctx.model.object_of(doc)) is None or ctx.literal_reason(obj) is None):
            continue  # `${VAR:=false}` in a typed field: Flux substitutes it before the API server sees it
        if _replaced_on_the_way(ctx, doc, problem.path):
            continue
        span = doc.locate(problem.path)
        yield Finding(
            problem.message,
            doc.file.rel,
            span,
            object=problem.object,
            anchor=format_path(problem.path),
            fix=scalar_repair_fix(doc, span, value_at(doc.data, problem.path), problem.repair)
            if problem.repair is not None else None,
        )


def _replaced_on_the_way(ctx: Context, doc, path) -> bool:
    """Every copy Flux applies of the document's object holds another value at `path` (a cluster overlay's
    patch set it): the value as written never reaches the API server."""
    obj = ctx.model.object_of(doc)
    if obj is None or not ctx.view.active:
        return False
    return all(ctx.changed_on_the_way(copy, obj, path) for copy in ctx.copies_of(obj))


def scalar_repair_fix(doc, span, value, text: str):
    """A one-line scalar written as the field takes it: quotes taken off (`'true'` -> `true`), or a plain
    YAML 1.1 boolean word spelled as YAML 1.2 reads it (`yes` -> `true`); None for anything else."""
    from gitops_lint.diagnostics import Fix

    old = _span_text(doc, span)
    if old in (f'"{text}"', f"'{text}'") or (old == value and old != text):
        return Fix(span, old, text)
    return None


def scalar_fix(doc, span, text: str):
    """A one-line scalar replaced by `text`, in the same quotes as before (none, single or double)."""
    from gitops_lint.diagnostics import Fix

    old = _span_text(doc, span)
    if old is None or not old or "\n" in text:
        return None
    quote = old[0] if old[0] in "'\"" and old.endswith(old[0]) and len(old) > 1 else ""
    return Fix(span, old, f"{quote}{text}{quote}")


def _span_text(doc, span) -> str | None:
    if span.line != span.end_line or span.line > len(doc.file.lines):
        return None
    return doc.file.lines[span.line - 1][span.column - 1 : span.end_column - 1]


def _holds_variable(data, path) -> bool:
    for item in path:
        try:
            data = data[item]
        except (KeyError, IndexError, TypeError):
            return False
    return isinstance(data, str) and "${" in data
