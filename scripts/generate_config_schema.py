#!/usr/bin/env python3
"""Generate schemas/config.schema.json, the JSON Schema of `.gitops-lint.yaml`, from the `Config` model.

    python scripts/generate_config_schema.py [--out schemas/config.schema.json] [--check]

`gitops_lint.config.Config` (pydantic) is the single source of the configuration:
it validates the file on every run, and this script writes the schema editors use
(keys in kebab-case, titles, descriptions and examples from the model). Output is
deterministic (model order, `indent=2`, trailing newline); the test suite
compares the committed file with it byte for byte.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def render() -> str:
    sys.path.insert(0, str(PROJECT))
    try:
        from gitops_lint.config import config_schema
    finally:
        sys.path.remove(str(PROJECT))
    return json.dumps(config_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=PROJECT / "schemas" / "config.schema.json",
                        help="the schema file to write (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the file is out of date")
    args = parser.parse_args(argv)
    text = render()
    current = args.out.read_text(encoding="utf-8") if args.out.is_file() else None
    if args.check:
        if current != text:
            print(f"{args.out} is out of date: run scripts/generate_config_schema.py", file=sys.stderr)
            return 1
        return 0
    if current != text:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
