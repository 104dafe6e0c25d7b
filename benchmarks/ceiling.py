#!/usr/bin/env python3
"""How much faster N processes parse than one on this machine, with nothing shared between them.

    python benchmarks/ceiling.py DIR [--jobs 2] [--repeats 3]

The YAML files under DIR are read into memory, then parsed the way `check` loads them
(`yaml.loader.load_file`): once by one process, then split into N equal shares by bytes, each share
parsed by its own forked process, all started together (no results sent back, no pipe, no GIL of a
parent in between). The ratio of the two is the most `--jobs N` could gain on the load phase here;
on shared or virtual machines it is often well under N. A pure-arithmetic loop is measured the same
way, to tell a machine that does not scale from a workload that does not. Prints figures, asserts
nothing.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def yaml_texts(root: Path) -> list[tuple[str, bytes]]:
    out = []
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = [d for d in subdirs if d != ".git"]
        for name in names:
            path = os.path.join(directory, name)
            if name.endswith((".yaml", ".yml")) and os.path.isfile(path):
                with open(path, "rb") as handle:
                    out.append((path, handle.read()))
    return out


def parse_all(texts: list[tuple[str, bytes]]) -> None:
    from gitops_lint.yaml.loader import load_file

    for path, raw in texts:
        load_file(Path(path), path, raw=raw)


def arithmetic(share: list[int]) -> None:
    total = 0
    for n in share:
        for i in range(n):
            total += i * i % 7


def shares(items: list, weights: list[int], n: int) -> list[list]:
    """`items` split into `n` lists of nearly equal weight (largest first, each to the lightest list)."""
    out: list[list] = [[] for _ in range(n)]
    load = [0] * n
    for item, weight in sorted(zip(items, weights), key=lambda pair: -pair[1]):
        lightest = load.index(min(load))
        out[lightest].append(item)
        load[lightest] += weight
    return out


def timed_alone(work, data) -> float:
    gc.collect()
    started = time.perf_counter()
    work(data)
    return time.perf_counter() - started


def timed_together(work, parts: list) -> float:
    """Wall time of `len(parts)` forked processes, each doing `work` on its part, started together."""
    gc.collect()
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    pids = []
    for part in parts:
        pid = os.fork()
        if pid == 0:  # the child: wait for the start signal, work, leave without cleanup
            os.close(ready_r)
            os.close(go_w)
            os.write(ready_w, b"r")
            os.read(go_r, 1)
            work(part)
            os._exit(0)
        pids.append(pid)
    os.close(ready_w)
    os.close(go_r)
    for _ in parts:
        os.read(ready_r, 1)
    started = time.perf_counter()
    os.write(go_w, b"g" * len(parts))
    for pid in pids:
        os.waitpid(pid, 0)
    elapsed = time.perf_counter() - started
    os.close(ready_r)
    os.close(go_w)
    return elapsed


def measure(label: str, work, data, parts: list, repeats: int) -> dict:
    alone = statistics.median(timed_alone(work, data) for _ in range(repeats))
    together = statistics.median(timed_together(work, parts) for _ in range(repeats))
    print(f"  {label:28}{alone:9.3f} s{together:9.3f} s{alone / together:9.2f}x")
    return {"alone": alone, "together": together, "speedup": alone / together}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not hasattr(os, "fork"):
        sys.exit("ceiling.py needs os.fork (Linux, macOS)")
    texts = yaml_texts(args.root)
    size = sum(len(raw) for _, raw in texts)
    print(f"{len(texts)} YAML files, {size / 1e6:.1f} MB; {os.cpu_count()} cpus, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; {args.jobs} processes, median of {args.repeats}")
    print(f"  {'':28}{'one':>11}{f'{args.jobs} at once':>11}{'speedup':>10}")
    parse_all(texts[:50])  # imports and first-use costs out of the timing
    # Each file weighs its bytes plus about a kilobyte's worth for opening and setting it up.
    measure("parse (load_file)", parse_all, texts,
            shares(texts, [len(raw) + 1024 for _, raw in texts], args.jobs), args.repeats)
    spins = [2_000_000] * (4 * args.jobs)
    measure("arithmetic loop", arithmetic, spins, shares(spins, spins, args.jobs), args.repeats)


if __name__ == "__main__":
    main()
