#!/usr/bin/env python3
"""`check --fix` over real repositories: findings per rule before and after, and what changed on disk.

Each repository of ../shared/corpus (and the agent configs of `_agent_configs`, laid out as
`.gitlab/agents/<n>/config.yaml` of one repository) is copied to a temporary folder; `check` runs,
then `check --fix` (with `--unsafe` also `--unsafe-fixes`), then `check` again. The table gives the
findings per rule before and after; the diff summary counts the files changed and created and the
lines that differ (difflib), so every change can be traced to a fix.

    python benchmarks/fix_corpus.py [--unsafe] [CORPUS]
"""

from __future__ import annotations

import argparse
import collections
import difflib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TOOL = [sys.executable, "-m", "gitops_lint"]


def counts(root: Path) -> collections.Counter:
    done = subprocess.run([*TOOL, "check", "--no-cache", "--format", "json", str(root)], capture_output=True,
                          text=True)
    report = json.loads(done.stdout)
    return collections.Counter(d["rule"] for d in report["diagnostics"])


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
            if p.is_file() and ".gitops-lint-cache" not in p.parts}


def examine(name: str, root: Path, unsafe: bool) -> tuple[collections.Counter, collections.Counter, dict]:
    before = counts(root)
    files = snapshot(root)
    subprocess.run([*TOOL, "check", "--no-cache", "--fix", *(["--unsafe-fixes"] if unsafe else []), str(root)],
                   capture_output=True, text=True)
    after_files = snapshot(root)
    after = counts(root)
    changed = [rel for rel in files if after_files.get(rel) != files[rel]]
    created = sorted(set(after_files) - set(files))
    lines = 0
    for rel in changed:
        old = files[rel].decode("utf-8", "replace").splitlines()
        new = after_files.get(rel, b"").decode("utf-8", "replace").splitlines()
        lines += sum(1 for line in difflib.unified_diff(old, new, lineterm="", n=0)
                     if line[:1] in "+-" and not line.startswith(("+++", "---")))
    return before, after, {"repo": name, "changed": len(changed), "created": len(created), "diff_lines": lines}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default=str(Path(__file__).resolve().parents[1].parent / "shared/corpus"))
    parser.add_argument("--unsafe", action="store_true", help="also apply unsafe fixes")
    args = parser.parse_args()
    corpus = Path(args.corpus)
    total_before, total_after, rows = collections.Counter(), collections.Counter(), []
    with tempfile.TemporaryDirectory() as scratch:
        for repo in sorted(p for p in corpus.iterdir() if p.is_dir()):
            target = Path(scratch) / repo.name
            if repo.name == "_agent_configs":
                for i, config in enumerate(sorted(repo.glob("*.yaml"))):
                    dest = target / ".gitlab/agents" / f"a{i:02d}" / "config.yaml"
                    dest.parent.mkdir(parents=True)
                    shutil.copyfile(config, dest)
            else:
                shutil.copytree(repo, target, symlinks=True)
            before, after, row = examine(repo.name, target, args.unsafe)
            total_before += before
            total_after += after
            if row["changed"] or row["created"]:
                rows.append(row)
    print("| rule | before | after |\n|---|---|---|")
    for rule in sorted(set(total_before) | set(total_after)):
        if total_before[rule] != total_after[rule]:
            print(f"| {rule} | {total_before[rule]} | {total_after[rule]} |")
    print(f"| all | {sum(total_before.values())} | {sum(total_after.values())} |\n")
    print("| repository | files changed | files created | diff lines |\n|---|---|---|---|")
    for row in rows:
        print(f"| {row['repo']} | {row['changed']} | {row['created']} | {row['diff_lines']} |")


if __name__ == "__main__":
    main()
