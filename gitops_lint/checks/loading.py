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
    for problem in ctx.model.problems:
        doc = problem.doc
        yield Finding(
            problem.message,
            doc.file.rel,
            doc.locate(problem.path),
            object=problem.object,
            anchor=format_path(problem.path),
        )
