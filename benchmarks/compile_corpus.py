#!/usr/bin/env python3
"""`gitops-lint compile` over real repositories: the guarantees, repository by repository.

For each repository (by default each one in ../shared/corpus):

* compile twice (the second time in a child process with another PYTHONHASHSEED):
  byte-identical outputs;
* write the output, compile the output: the same bytes again (idempotent);
* `check` the input and the output: every error in the output is one the input
  has (same rule, file and object);
* with --kustomize, `kubectl kustomize` (with Flux's load restrictions) every folder
  of the output that holds a kustomization.yaml and whose input folder builds: the
  output folder builds too, to as many objects.

    python benchmarks/compile_corpus.py                    # every corpus repository, a Markdown table
    python benchmarks/compile_corpus.py --kustomize PATH   # given repositories, with kubectl kustomize

tests/test_compile_corpus.py runs the same examination and asserts on it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
CORPUS = PROJECT.parent / "shared" / "corpus"

#: The option sets examined: the default, and everything switched on.
VARIANTS: dict[str, dict] = {
    "default": {},
    "all options": {"defaults": "explicit", "substitute": True, "with_agent_objects": True},
}


@dataclass
class Examination:
    repo: str
    variant: str
    files: int = 0
    outputs: int = 0
    seconds: float = 0.0
    deterministic: bool = False
    idempotent: bool = False
    #: Errors the input has (rule, path, object).
    errors_in: set = field(default_factory=set)
    #: Errors of the output the input does not have.
    new_errors: list = field(default_factory=list)
    compile_errors: int = 0
    #: kustomization folders: (built in the input, built in the output too, same objects); None when not run.
    kustomize: tuple[int, int, int] | None = None
    kustomize_failures: list = field(default_factory=list)


_CHILD = """
import json, sys
from benchmarks.compile_corpus import compile_outputs
sys.stdout.write(json.dumps(compile_outputs(sys.argv[1], json.loads(sys.argv[2])), sort_keys=True))
"""


def _lint(repo: Path):
    from gitops_lint.engine import LintOptions, lint

    return lint(LintOptions(paths=["."], cwd=repo))


def compile_outputs(repo: str | Path, options: dict) -> dict[str, str]:
    from gitops_lint.compile import compile_context

    return compile_context(_lint(Path(repo)).context, **options).outputs


def _errors(result) -> set[tuple[str, str, str]]:
    from gitops_lint.diagnostics import Severity

    return {(d.rule, d.path, d.object or "") for d in result.diagnostics if d.severity >= Severity.ERROR}


def examine(repo: Path, variant: str, work: Path, *, kustomize: bool = False) -> Examination:
    import json

    from gitops_lint.compile import compile_context, write_tree

    options = VARIANTS[variant]
    report = Examination(repo.name, variant)
    linted = _lint(repo)
    report.files = len(linted.context.files)
    report.errors_in = _errors(linted)
    started = time.perf_counter()
    first = compile_context(linted.context, **options)
    report.seconds = time.perf_counter() - started
    report.outputs, report.compile_errors = len(first.outputs), len(first.errors)

    env = {**os.environ, "PYTHONHASHSEED": "4242", "PYTHONPATH": str(PROJECT)}
    child = subprocess.run([sys.executable, "-c", _CHILD, str(repo), json.dumps(options)], capture_output=True,
                           text=True, env=env, check=True, timeout=600)
    report.deterministic = json.loads(child.stdout) == first.outputs

    out = work / f"{repo.name}-{variant.replace(' ', '-')}"
    write_tree(first.outputs, out)
    relinted = _lint(out)
    report.idempotent = compile_context(relinted.context, **options).outputs == first.outputs
    report.new_errors = sorted(_errors(relinted) - report.errors_in)
    if kustomize:
        report.kustomize, report.kustomize_failures = _kustomize(repo, out, sorted(
            rel.rpartition("/")[0] for rel in first.outputs if rel.rpartition("/")[2] == "kustomization.yaml"))
    return report


#: As kustomize-controller builds (fluxcd/pkg/kustomize): files outside the kustomization's folder may be
#: loaded, which plain `kubectl kustomize` refuses (migrated kustomizations list files elsewhere in the repo).
KUSTOMIZE = ["kubectl", "kustomize", "--load-restrictor", "LoadRestrictionsNone"]


def _build(folder: Path) -> str | None:
    proc = subprocess.run([*KUSTOMIZE, str(folder)], capture_output=True, text=True, timeout=120)
    return proc.stdout if proc.returncode == 0 else None


def _kustomize(repo: Path, out: Path, folders: list[str]) -> tuple[tuple[int, int, int], list[str]]:
    from gitops_lint.compile.normalize import sorted_deep
    from gitops_lint.yaml.loader import load_text

    def objects(text: str) -> list:
        # Compare what kustomize built up to what compile normalizes: key order and canonical forms.
        docs = [d.data for d in load_text(text).documents if d.data is not None]
        return sorted((sorted_deep(d) for d in docs), key=repr)

    built_in = built_out = same = 0
    failures = []
    for folder in folders:
        before = _build(repo / folder)
        if before is None:
            continue  # the input does not build either (remote bases, missing files): nothing to compare
        built_in += 1
        after = _build(out / folder)
        if after is None:
            failures.append(f"{folder}: builds in the input, not in the output")
            continue
        built_out += 1
        if len(objects(before)) == len(objects(after)):
            same += 1
        else:
            failures.append(f"{folder}: {len(objects(before))} objects in the input, {len(objects(after))} out")
    return (built_in, built_out, same), failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repos", nargs="*", type=Path, help="repositories (default: each one in ../shared/corpus)")
    parser.add_argument("--kustomize", action="store_true", help="also build every kustomization with kubectl")
    args = parser.parse_args()
    repos = args.repos or sorted(p for p in CORPUS.iterdir() if p.is_dir() and not p.name.startswith("_"))
    if args.kustomize and shutil.which("kubectl") is None:
        raise SystemExit("kubectl not found (Debian: apt-get install kubernetes-client)")
    sys.path.insert(0, str(PROJECT))
    print("| repository | options | files | outputs | compile s | identical twice | idempotent | errors in "
          "| new errors out | kustomize builds (in / out / same count) |")
    print("|---|---|---:|---:|---:|---|---|---:|---:|---|")
    with tempfile.TemporaryDirectory() as work:
        for repo in repos:
            for variant in VARIANTS:
                r = examine(repo.resolve(), variant, Path(work), kustomize=args.kustomize and variant == "default")
                kz = "/".join(map(str, r.kustomize)) if r.kustomize else "-"
                print(f"| {r.repo} | {variant} | {r.files} | {r.outputs} | {r.seconds:.2f} | "
                      f"{'yes' if r.deterministic else 'NO'} | {'yes' if r.idempotent else 'NO'} | "
                      f"{len(r.errors_in)} | {len(r.new_errors)} | {kz} |", flush=True)
                for error in r.new_errors:
                    print(f"  new error: {error}", file=sys.stderr)
                for failure in r.kustomize_failures:
                    print(f"  kustomize: {failure}", file=sys.stderr)


if __name__ == "__main__":
    main()
