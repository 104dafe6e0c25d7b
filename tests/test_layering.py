"""The layers of DESIGN.md, enforced: every import of the package points down this list, never up.

Module-level and function-level imports count alike (a deferred import is still a
dependency). Modules of one layer may import each other; `compile` (and `diff`,
`fix` when they exist) never import `checks`: what they share with rules lives
in `model` or `view`.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "gitops_lint"

#: Top to bottom. A module is named by its first component below `gitops_lint`.
LAYERS: list[set[str]] = [
    {"__main__", "cli"},
    {"engine", "compile", "diff", "fix", "report", "config", "graph_render", "baseline", "html_page"},
    {"catalogue"},  # the rule catalogue: what engine, config and reports know of rules
    {"checks"},
    {"project"},  # the project every stage reads: files, model, settings, view, graph
    {"secrets"},  # masking and redaction, over loaded documents
    {"graph", "schema", "schema_index", "cel"},
    {"view"},
    {"model"},
    {"load"},  # discovered files -> loaded files, from the cache or worker processes
    {"diagnostics", "durations", "cron"},  # shared value types, Go duration and cron facts
    {"yaml"},
    {"discover"},
    {"data", "exits", "cache"},  # where the packaged data folders are; the exit codes; the on-disk cache
    {"__init__"},
]
NEVER = {("compile", "checks"), ("diff", "checks"), ("fix", "checks")}


def _layer_of(module: str) -> int:
    for index, layer in enumerate(LAYERS):
        if module in layer:
            return index
    raise AssertionError(f"gitops_lint.{module} is in no layer of tests/test_layering.py: give it one")


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, first component under gitops_lint) of every gitops_lint import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package_parts = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("gitops_lint."):
                    found.append((node.lineno, alias.name.split(".")[1]))
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                base = list(package_parts[: len(package_parts) - node.level + 1])
                name = ".".join([*base, *(node.module.split(".") if node.module else [])])
            else:
                name = node.module or ""
            if name == "gitops_lint":  # `from gitops_lint import x`: a submodule, or a name of __init__
                found.extend((node.lineno, alias.name if _is_module(alias.name) else "__init__")
                             for alias in node.names)
            elif name.startswith("gitops_lint."):
                found.append((node.lineno, name.split(".")[1]))
    return found


def _is_module(name: str) -> bool:
    return (PACKAGE / f"{name}.py").exists() or (PACKAGE / name).is_dir()


def _own_module(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    return rel.parts[0]


def test_imports_point_down_the_layers() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        own = _own_module(path)
        for line, target in _imports(path):
            if target == own:
                continue
            if (own, target) in NEVER:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {own} must never import {target}")
            elif _layer_of(target) < _layer_of(own):
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {own} imports {target}, a layer above it")
    assert not wrong, "\n".join(wrong)


def test_every_module_has_a_layer() -> None:
    for path in PACKAGE.rglob("*.py"):
        _layer_of(_own_module(path))
