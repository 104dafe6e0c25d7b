"""A declarative check: conditions on one field of chosen kinds, for rules written as data.

Users' own rules (`custom-rules:` in `.gitops-lint.yaml`) use it without
writing Python, in the same format as the built-in rules:

    check: gitops_lint.checks.fields:field
    params:
      kinds: [Kustomization]          # Kind, or group/Kind
      field: spec.targetNamespace     # dotted path; [n] for list items
      required: true                  # and/or: forbidden, pattern, enum, equals
      message: "every Kustomization names its targetNamespace"
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from gitops_lint.checks import Context, at
from gitops_lint.diagnostics import Finding, show_value
from gitops_lint.model.kubernetes import KubernetesObject

_PATH_ITEM = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse_field(text: str) -> tuple:
    return tuple(int(m.group(2)) if m.group(2) is not None else m.group(1) for m in _PATH_ITEM.finditer(text))


def _value(data: Any, path: tuple) -> tuple[bool, Any]:
    for item in path:
        if isinstance(item, int) and isinstance(data, list) and item < len(data):
            data = data[item]
        elif isinstance(data, dict) and item in data:
            data = data[item]
        else:
            return False, None
    return True, data


def field(ctx: Context, kinds: list | None = None, field: str = "", required: bool = False,
          forbidden: bool = False, pattern: str | None = None, enum: list | None = None, equals: Any = None,
          message: str = "") -> Iterator[Finding]:
    path = parse_field(field)
    if not path:
        raise ValueError("the `field` parameter names no field")
    wanted = {str(k) for k in kinds or ()}
    regex = re.compile(pattern) if pattern else None
    for obj in ctx.model.of_type(KubernetesObject):
        if wanted and obj.kind not in wanted and f"{obj.group}/{obj.kind}" not in wanted:
            continue
        present, value = _value(obj.doc.data, path)
        if isinstance(value, str) and "${" in value:
            continue
        problem = None
        if not present:
            problem = "is missing" if required else None
        elif forbidden:
            problem = "must not be set"
        elif regex is not None and not (isinstance(value, str) and regex.search(value)):
            problem = f"{show_value(value)} does not match {pattern}"
        elif enum is not None and value not in enum:
            problem = f"{show_value(value)} is not one of {', '.join(map(str, enum))}"
        elif equals is not None and value != equals:
            problem = f"{show_value(value)} must be {show_value(equals)}"
        if problem:
            text = f"{field} {problem}" + (f": {message}" if message else "")
            yield at(obj, path if present else path[:-1], text)
