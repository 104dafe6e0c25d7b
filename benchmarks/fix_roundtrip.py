"""Why `--fix` edits text spans instead of re-emitting YAML: what a ruamel.yaml round trip changes.

For every YAML file under the folders given, load it with ruamel.yaml's round-trip loader (quotes kept)
and dump it back without changing anything, in the best of the usual styles for that file (sequences
indented or not, with or without a leading `---`: what a round-trip fixer would have to guess), then
count the files that do not come back byte for byte and the lines that differ. A fix built on the round trip would carry those changes into every file it
touches; span-exact edits change only the characters they repair (tests/test_fix.py checks that).

    python benchmarks/fix_roundtrip.py ../shared/corpus
"""

from __future__ import annotations

import difflib
import io
import sys
import time
from pathlib import Path


def main(folders: list[str]) -> None:
    import warnings

    from ruamel.yaml import YAML

    warnings.simplefilter("ignore")

    files = same = failed = 0
    lines_changed = 0
    started = time.perf_counter()
    for folder in folders:
        for path in sorted(Path(folder).rglob("*")):
            if path.suffix not in (".yaml", ".yml") or not path.is_file():
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if "{{" in text:
                continue  # a template, not YAML
            files += 1
            best = None
            for sequence, offset in ((2, 0), (4, 2)):
                for explicit_start in (False, True):
                    yaml = YAML(typ="rt")
                    yaml.preserve_quotes = True
                    yaml.width = 4096
                    yaml.indent(mapping=2, sequence=sequence, offset=offset)
                    yaml.explicit_start = explicit_start
                    try:
                        out = io.StringIO()
                        yaml.dump_all(list(yaml.load_all(text)), out)
                    except Exception:  # noqa: BLE001  (a file ruamel cannot round-trip counts as changed)
                        continue
                    changed = sum(1 for line in difflib.unified_diff(text.splitlines(), out.getvalue().splitlines(),
                                                                     lineterm="", n=0)
                                  if line[:1] in "+-" and not line.startswith(("+++", "---")))
                    best = changed if best is None else min(best, changed)
            if best is None:
                failed += 1
            elif best == 0:
                same += 1
            else:
                lines_changed += best
    took = time.perf_counter() - started
    print(f"{files} YAML files; round trip byte-identical: {same} ({100 * same / max(files, 1):.1f}%); "
          f"changed: {files - same - failed}, {lines_changed} diff lines; not loadable: {failed}; {took:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:] or ["."])
