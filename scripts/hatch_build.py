"""Wheel build step: the built-in rule catalogue parsed once, at build time (`catalogue.INDEX_NAME`).

A check without a cache would otherwise parse every rule's YAML at start (a sixth of a one-file check).
The index is stamped with the rule files it was built from; a copy that no longer matches them is ignored.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CatalogueIndexHook(BuildHookInterface):
    PLUGIN_NAME = "catalogue-index"

    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel":
            return
        sys.path.insert(0, self.root)
        try:
            from gitops_lint.catalogue import INDEX_NAME, build_index
        finally:
            sys.path.remove(self.root)
        rules = Path(self.root, "rules")
        index = Path(tempfile.mkdtemp(prefix="gitops-lint-build-"), INDEX_NAME)
        index.write_bytes(build_index(sorted(p for p in rules.iterdir() if p.name.endswith(".yaml"))))
        build_data["force_include"][str(index)] = f"gitops_lint/rules/{INDEX_NAME}"
