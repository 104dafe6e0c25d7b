#!/usr/bin/env python3
"""Which YAML loader for the check path: MB/s of each candidate on a folder of YAML files.

Prints figures, asserts nothing. Candidates: PyYAML's libyaml composer (nodes
with marks; what gitops-lint uses, measured with and without our data and
position building), PyYAML's libyaml event parser, ruamel.yaml's safe and
round-trip loaders, and rapidyaml (parse only, and parse plus a Python walk of
its tree, which is what positions would cost), each when installed.

    python benchmarks/loaders.py ../shared/corpus/sulibot+home-ops
"""

from __future__ import annotations

import gc
import os
import sys
import time
from pathlib import Path


def read_all(root: Path) -> list[bytes]:
    out = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            path = Path(directory) / name
            if name.endswith((".yaml", ".yml")) and not path.is_symlink():
                out.append(path.read_bytes())
    return out


def measure(label: str, fn, texts: list, total: int) -> None:
    gc.collect()
    gc.disable()
    started = time.perf_counter()
    for text in texts:
        try:
            fn(text)
        except Exception:  # noqa: BLE001 - a file a loader refuses still cost its time
            pass
    elapsed = time.perf_counter() - started
    gc.enable()
    print(f"{label:<44} {elapsed:7.2f} s  {total / elapsed / 1e6:7.2f} MB/s")


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    raw = read_all(root)
    texts = [b.decode("utf-8", "replace") for b in raw]
    total = sum(len(b) for b in raw)
    print(f"{len(raw)} files, {total / 1e6:.1f} MB from {root}")

    import yaml

    measure("PyYAML libyaml compose_all (nodes + marks)", lambda t: list(yaml.compose_all(t, Loader=yaml.CSafeLoader)),
            texts, total)
    measure("PyYAML libyaml parse (events only)", lambda t: list(yaml.parse(t, Loader=yaml.CSafeLoader)), texts, total)

    from gitops_lint.yaml.loader import load_text

    measure("gitops-lint loader (data + positions)", load_text, texts, total)
    try:
        from ruamel.yaml import YAML

        safe, round_trip = YAML(typ="safe", pure=False), YAML(typ="rt")
        measure("ruamel.yaml safe load_all (C)", lambda t: list(safe.load_all(t)), texts, total)
        measure("ruamel.yaml round-trip load_all", lambda t: list(round_trip.load_all(t)), texts[: len(texts) // 4],
                total // 4)
    except ImportError:
        print("ruamel.yaml not installed")
    try:
        import ryml

        measure("rapidyaml parse_in_arena (tree only)", lambda b: ryml.parse_in_arena(b), raw, total)

        def walk(b: bytes) -> None:
            tree = ryml.parse_in_arena(b)
            # (positions would need a parser with locations enabled: the walk alone is the floor)
            stack = [tree.root_id()]
            while stack:
                node = stack.pop()
                if tree.has_key(node):
                    bytes(tree.key(node))
                if tree.has_val(node):
                    bytes(tree.val(node))
                child = tree.first_child(node)
                while child != ryml.NONE:
                    stack.append(child)
                    child = tree.next_sibling(child)

        measure("rapidyaml parse + Python walk of the tree", walk, raw, total)
    except ImportError:
        print("rapidyaml not installed (pip install rapidyaml)")


if __name__ == "__main__":
    main()
