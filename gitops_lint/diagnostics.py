"""The types every stage shares: source spans, findings and diagnostics.

A check yields `Finding`s (what and where); the engine turns each into a
`Diagnostic` by stamping the rule, the effective severity and a fingerprint.
Reports only ever see `Diagnostic`s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from gitops_lint.yaml.positions import Span  # where positions live; every stage names spans by it


def show_value(value: Any) -> str:
    """A value as messages quote it: strings in double quotes (cut at 60), containers by their kind."""
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        return f'"{text}"'
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    return str(value)


class Severity(IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> "Severity":
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (use error, warning or info)") from None


@dataclass(frozen=True, slots=True)
class Fix:
    """A repair: `text` in place of what `span` covers, which must still read `old` (else it is stale).
    `safe` fixes keep the meaning the author wrote; unsafe ones change it (`--unsafe-fixes`). `creates`
    holds new files, (path relative to the root, text), written with the edit or not at all."""

    span: Span
    old: str
    text: str
    safe: bool = True
    creates: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class Finding:
    """What a check reports: a message about one node of one file.

    `anchor` is a stable description of the node (e.g. the YAML path
    `spec.interval`); with the object it keeps the fingerprint stable when
    unrelated lines move.
    """

    message: str
    path: str
    span: Span
    object: str | None = None
    anchor: str = ""
    #: A rule whose check serves several rules (the loader's problems) names it here.
    rule: str | None = None
    #: This finding's severity when it differs from the rule's (e.g. by target GitLab release); a
    #: `severity` override in the user's configuration still wins.
    severity: Severity | None = None
    #: The loaded file the span is in, when it is not the run's file at `path` (a change rule's finding in
    #: the base revision): what the code frame quotes.
    source: Any = None
    #: How `check --fix` repairs it, when it can.
    fix: Fix | None = None


@dataclass(slots=True)
class Diagnostic:
    """A finding as reported: the rule, where, what, and the code frame, masked and fingerprinted."""

    rule: str
    name: str
    severity: Severity
    message: str
    path: str
    span: Span
    object: str | None = None
    fingerprint: str = ""
    #: The source lines the span covers (at most a few), for code frames.
    source: tuple[str, ...] = field(default_factory=tuple)
    #: How `check --fix` repairs it (not part of the JSON contract).
    fix: Fix | None = None
    #: `safe` or `unsafe` when it has a fix: what the text summary counts, kept by the cache with the rest.
    fixable: str | None = None

    def sort_key(self) -> tuple:
        return (self.path, self.span.line, self.span.column, self.rule, self.message)

    def to_json(self) -> dict:
        return {
            "rule": self.rule,
            "name": self.name,
            "severity": self.severity.label,
            "message": self.message,
            "path": self.path,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "object": self.object,
            "fingerprint": self.fingerprint,
        }
