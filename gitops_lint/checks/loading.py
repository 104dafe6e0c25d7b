"""Problems found while reading and parsing files, and values the typed model could not take."""

from __future__ import annotations

from typing import Iterator

from gitops_lint.checks import Context
from gitops_lint.diagnostics import Finding
from gitops_lint.yaml.positions import format_path


def load_problems(ctx: Context, code: str) -> Iterator[Finding]:
    for source in ctx.files:
        for problem in source.problems:
            if problem.code == code:
                yield Finding(problem.message, source.rel, problem.span, anchor=code)


def model_problems(ctx: Context) -> Iterator[Finding]:
    substituted = ctx.view.substituted_files if ctx.view.active else set()
    for problem in ctx.model.problems:
        doc = problem.doc
        if doc.file.rel in substituted and _holds_variable(doc.data, problem.path):
            continue  # `${VAR:=false}` in a typed field: Flux substitutes it before the API server sees it
        yield Finding(
            problem.message,
            doc.file.rel,
            doc.locate(problem.path),
            object=problem.object,
            anchor=format_path(problem.path),
        )


def _holds_variable(data, path) -> bool:
    for item in path:
        try:
            data = data[item]
        except (KeyError, IndexError, TypeError):
            return False
    return isinstance(data, str) and "${" in data
