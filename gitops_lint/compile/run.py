"""`gitops-lint compile` as one call: options in, an outcome out; the CLI only prints and writes.

The steps, in order: lint the repository with compile's own output left out (the output folder and
every earlier output, recognised by its marker); migrate legacy `gitops` sections when asked; refuse
on error-level findings unless forced (except the AGT003 findings the migration resolves, which are
what it exists to fix); compile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops_lint.config import Config
from gitops_lint.diagnostics import Diagnostic, Severity
from gitops_lint.engine import LintOptions, LintResult, lint


@dataclass(slots=True)
class CompileRequest:
    paths: list[str]
    config: Config
    #: The folder the paths are relative to (the repository root outside git).
    cwd: Path
    #: The output folder, resolved; None for a stream (`-o -`).
    out_dir: Path | None = None
    defaults: str = "omit"
    flux_version: str | None = None
    force: bool = False
    migrate: bool = False
    migrate_source: str = "git"
    substitute: bool = False
    with_agent_objects: bool = False


@dataclass(slots=True)
class CompileOutcome:
    lint: LintResult
    #: The legacy migration, when asked for (`compile.legacy.Migration`).
    migration: Any = None
    #: Error-level findings that refuse the compile (empty when forced or clean); nothing is compiled then.
    refused: list[Diagnostic] = field(default_factory=list)
    #: What was compiled (`compile.CompileResult`); None when refused.
    compiled: Any = None


def compile_project(request: CompileRequest) -> CompileOutcome:
    from gitops_lint.compile import compile_context
    from gitops_lint.compile.tree import compiled_folders

    config = request.config
    base = config.path.parent.resolve() if config.path is not None else request.cwd.resolve()
    # Never compile our own output: the output folder, and any earlier output (a folder with our marker)
    # below the folder compiled; one named to be compiled (or holding it) is compiled, as discovery does.
    here = request.cwd.resolve()
    skipped = [rel for rel in compiled_folders(base) if here != base / rel and base / rel not in here.parents]
    if request.out_dir is not None and base in request.out_dir.parents:
        skipped.append(request.out_dir.relative_to(base).as_posix())
    # gitignore-style patterns: a folder named `out[1]` must match itself, not `out1`.
    config.exclude = [*config.exclude, *("/" + re.sub(r"([\\*?\[\]!#])", r"\\\1", rel) + "/" for rel in skipped)]
    result = lint(LintOptions(paths=request.paths, config=config, cwd=request.cwd, flux_version=request.flux_version,
                              compiled_folders=tuple(base / rel for rel in skipped)))
    outcome = CompileOutcome(result)
    ctx = result.context
    if request.migrate:
        from gitops_lint.compile.legacy import migrate_agents

        outcome.migration = migrate_agents(ctx.files, ctx.model, gitlab_url=config.gitlab_url or "https://gitlab.com",
                                           source=request.migrate_source)
    resolved = outcome.migration.replaced if outcome.migration is not None else frozenset()
    outcome.refused = [] if request.force else [
        d for d in result.diagnostics if d.severity is Severity.ERROR and not (d.rule == "AGT003" and d.path in resolved)]
    if outcome.refused:
        return outcome
    generated = outcome.migration.documents if outcome.migration is not None else {}
    outcome.compiled = compile_context(ctx, defaults=request.defaults, substitute=request.substitute,
                                       with_agent_objects=request.with_agent_objects, generated=generated,
                                       root=result.root, without_gitops=resolved)
    return outcome
