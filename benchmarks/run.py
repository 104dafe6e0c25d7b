#!/usr/bin/env python3
"""Speed figures for `gitops-lint check` and `compile`: files/s, documents/s, MB/s, peak RSS, cold start.

Prints figures; asserts nothing (these machines are shared and noisy).

    python benchmarks/run.py                 # synthetic 1k and 10k documents, corpus, cold start
    python benchmarks/run.py --sizes 1000 10000 50000
    python benchmarks/run.py --corpus PATH   # any folder

The synthetic repositories come from ../shared/bench/gen_repo.py when present.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import compile_package  # noqa: E402

PROJECT = Path(__file__).resolve().parent.parent
SHARED = PROJECT.parent / "shared"
GENERATOR = SHARED / "bench" / "gen_repo.py"


def run_measured(argv: list[str], cwd: Path | None = None, phases: dict | None = None) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in MiB and stdout of one child process; `phases` gets its seconds per phase
    (discover, load, model, view, rules, ...) from GITOPS_LINT_TIMINGS when given."""
    started = time.perf_counter()
    env = {**os.environ, "GITOPS_LINT_TIMINGS": "1"} if phases is not None else None
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - started
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
        err.seek(0)
        for line in err.read().decode("utf-8", "replace").splitlines():
            if phases is not None and line.startswith("timings: "):
                for item in line[len("timings: "):].split(", "):
                    name, _, seconds = item.rpartition(" ")
                    phases[name] = float(seconds.rstrip("s"))
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}")
    return elapsed, usage.ru_maxrss // 1024, text


def tree_bytes(folder: Path) -> int:
    total = 0
    for directory, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            if name.endswith((".yaml", ".yml")) or name in ("kustomization", "Kustomization"):
                try:
                    total += (Path(directory) / name).stat().st_size
                except OSError:
                    pass
    return total


def lint_figures(label: str, folder: Path) -> None:
    # --no-cache: these are the figures of the work itself (benchmarks/compare.py measures the cache)
    argv = [sys.executable, "-m", "gitops_lint", "check", "--format", "json", "--exit-zero", "--isolated", "--no-cache",
            str(folder)]
    phases: dict[str, float] = {}
    elapsed, rss, out = run_measured(argv, cwd=folder, phases=phases)
    summary = json.loads(out)["summary"]
    megabytes = tree_bytes(folder) / 1e6
    # Flux's view (what each Kustomization applies) as a share of the whole check
    view = f"  view {phases['view']:.2f} s ({phases['view'] / elapsed:.0%})" if "view" in phases else ""
    print(
        f"{label:<28} {summary['files']:>7} files {summary['documents']:>7} docs {megabytes:7.1f} MB "
        f"{elapsed:7.2f} s  {summary['files'] / elapsed:8.0f} files/s {summary['documents'] / elapsed:8.0f} docs/s "
        f"{megabytes / elapsed:6.2f} MB/s  peak {rss:5d} MiB  "
        f"({summary['errors']} errors, {summary['warnings']} warnings, {summary['infos']} infos){view}"
    )


def compile_figures(label: str, folder: Path) -> None:
    """`compile --force -o -` (the whole repository, written to a stream): lint, normalize, emit."""
    argv = [sys.executable, "-m", "gitops_lint", "compile", "--force", "--isolated", "-o", "-", str(folder)]
    elapsed, rss, out = run_measured(argv, cwd=folder)
    megabytes = tree_bytes(folder) / 1e6
    documents = out.count("\n# Source: ") + out.startswith("# Source: ")
    print(f"{'compile ' + label:<28} {documents:>7} docs out {megabytes:7.1f} MB in {elapsed:7.2f} s  "
          f"{documents / elapsed:8.0f} docs/s {megabytes / elapsed:6.2f} MB/s  peak {rss:5d} MiB")


def cold_start(repeats: int = 7) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "app.yaml"
        one.write_text(
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: app\n"
            "  namespace: flux-system\nspec:\n  interval: 10m\n  url: https://gitlab.com/acme/app.git\n"
        )
        for label, argv in (
            ("cold --version", [sys.executable, "-m", "gitops_lint", "--version"]),
            ("cold check one file", [sys.executable, "-m", "gitops_lint", "check", "--isolated", "--no-cache", str(one)]),
        ):
            times = []
            rss = 0
            for _ in range(repeats):
                elapsed, rss, _ = run_measured(argv, cwd=Path(tmp))
                times.append(elapsed)
            times.sort()
            print(f"{label:<28} min {times[0] * 1000:6.0f} ms  median {times[len(times) // 2] * 1000:6.0f} ms  "
                  f"peak {rss} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--corpus", type=Path, action="append", default=None)
    parser.add_argument("--defects", type=float, default=0.0, help="share of apps with planted mistakes")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus")
    compile_package()
    cold_start()
    if GENERATOR.exists():
        for size in args.sizes:
            with tempfile.TemporaryDirectory() as tmp:
                repo = Path(tmp) / "repo"
                subprocess.run([sys.executable, str(GENERATOR), str(repo), "--docs", str(size),
                                "--defects", str(args.defects)], check=True, stdout=subprocess.DEVNULL)
                lint_figures(f"synthetic {size} docs", repo)
                compile_figures(f"synthetic {size} docs", repo)
    else:
        print(f"({GENERATOR} not found: synthetic repositories skipped)")
    corpora = args.corpus or [p for p in (SHARED / "corpus",) if p.exists()]
    for corpus in corpora:
        lint_figures(f"corpus {corpus.name}", corpus)
        big = corpus / "sulibot+home-ops"
        if big.is_dir():
            lint_figures("corpus sulibot+home-ops", big)
            compile_figures("sulibot+home-ops", big)
    if shutil.which("git") is None:
        print("(git not found: discovery walked the trees)")


if __name__ == "__main__":
    main()
