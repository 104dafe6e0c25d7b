"""The rule catalogue: one YAML file per rule in `rules/`, plus the user's own folders.

A rule is data: its id and name, severity, the page a person reads (summary,
rationale, fix, references), the check that implements it with its
parameters, and bad/good examples that the test suite runs.
"""

from __future__ import annotations

import importlib
import marshal
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from gitops_lint.diagnostics import Severity

ID_RE = re.compile(r"^[A-Z][A-Z0-9]{0,4}[A-Z][0-9]{3}$")
NAME_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
REQUIRED_KEYS = ("id", "name", "severity", "summary", "rationale", "fix", "check", "examples")
ALLOWED_KEYS = frozenset(REQUIRED_KEYS) | {"references", "params", "options", "enabled_by_default", "scope", "autofix",
                                              "fixer"}
#: What `check --fix` does for a rule: `safe` (meaning kept: applied by --fix), `unsafe` (with --unsafe-fixes)
#: or `none`.
AUTOFIX = ("safe", "unsafe", "none")
#: What a rule judges. `applied`: objects as Flux applies them, so a file no Flux Kustomization applies
#: gets none of its findings (where the repository has a Flux entry point). `file`: files as Git and
#: GitLab see them, applied or not (syntax, agent configs, committed tokens, suppressions). `change`:
#: what a change does to the cluster, between two revisions (`gitops-lint diff`; `check` never runs them).
SCOPES = ("applied", "file", "change")
#: Families whose rules judge files, or changes, unless they say otherwise.
_FILE_FAMILIES = frozenset({"YAML", "AGT", "TOK", "SUP"})
_CHANGE_FAMILIES = frozenset({"CHG"})


class CatalogueError(Exception):
    """A rule file is malformed (ours: a bug; a user's: a configuration error)."""


@dataclass(frozen=True, slots=True)
class Example:
    """A bad or good example of a rule's page, which the tests run."""

    kind: str  # "bad" or "good"
    path: str
    content: str | bytes
    #: For bad examples: the lines that must be reported.
    lines: tuple[int, ...] = ()
    #: Extra files the example needs beside the one under test (path -> content).
    files: tuple[tuple[str, str], ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    #: For change rules: the files of the base revision (path -> content); `path`, `content` and `files`
    #: are the head's, and a file of the base the head lacks was deleted.
    base: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of `rules/`: what it says, how severe, and the check that finds it."""

    id: str
    name: str
    severity: Severity
    summary: str
    rationale: str
    fix: str
    check: str
    params: dict[str, Any]
    #: User-tunable options and their defaults (`rule-options` in the config overrides them).
    options: dict[str, Any]
    references: tuple[str, ...]
    examples: tuple[Example, ...]
    source: str
    #: Opt-in rules (advice not every team wants) run only when selected by id, name or ALL.
    enabled_by_default: bool = True
    #: `applied` or `file` (see SCOPES).
    scope: str = "applied"
    #: `safe`, `unsafe` or `none` (see AUTOFIX).
    autofix: str = "none"
    #: `module:function` that gives the rule's findings their fixes, when the fix needs a layer above the
    #: checks (the legacy migration writes compiled Flux files); run after the check, on its findings.
    fixer: str | None = None

    @property
    def family(self) -> str:
        return self.id.rstrip("0123456789")

    def load_check(self) -> Callable[..., Iterable]:
        return self._load("check", self.check)

    def load_fixer(self) -> Callable[..., None]:
        return self._load("fixer", self.fixer or "")

    def _load(self, what: str, spec: str) -> Callable:
        module_name, _, attr = spec.partition(":")
        try:
            return getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise CatalogueError(f"{self.source}: {what} {spec!r} cannot be loaded: {exc}") from None


def builtin_rules_dir() -> Path:
    from gitops_lint.data import DataFolderMissing, rules_dir

    try:
        return rules_dir()
    except DataFolderMissing as exc:
        raise CatalogueError(str(exc)) from None


#: The built-in rules, parsed when the wheel is built (`scripts/hatch_build.py`), beside them: parsing
#: their YAML is a sixth of a one-file check without a cache.
INDEX_NAME = ".index.marshal"


def _stamp(paths: list[Path]) -> list[tuple[str, int, int]]:
    """What the index was built from: each rule file's name, size and CRC of its bytes."""
    out = []
    for path in paths:
        data = path.read_bytes()
        out.append((path.name, len(data), zlib.crc32(data)))
    return out


def build_index(paths: list[Path]) -> bytes:
    """The index of the rule files `paths`: their parsed YAML, stamped with what it was parsed from."""
    return marshal.dumps((_stamp(paths), [_read_rule(path) for path in paths]))


def read_index(paths: list[Path]) -> list | None:
    """The parsed rule files `paths` from the index beside them, if it was built from exactly these files."""
    if not paths:
        return None
    try:
        stamp, parsed = marshal.loads((paths[0].parent / INDEX_NAME).read_bytes())
        return parsed if stamp == _stamp(paths) and len(parsed) == len(paths) else None
    except (OSError, ValueError, EOFError, TypeError):
        return None


def _read_rule(path: Path) -> Any:
    import yaml

    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"{path}: cannot read rule: {exc}") from None


def _parse_rule(path: Path, data: Any) -> Rule:
    if not isinstance(data, dict):
        raise CatalogueError(f"{path}: a rule file must be a mapping")
    missing = [k for k in REQUIRED_KEYS if k not in data]
    unknown = sorted(set(data) - ALLOWED_KEYS)
    if missing or unknown:
        raise CatalogueError(f"{path}: missing keys {missing}, unknown keys {unknown}")
    rule_id, name = str(data["id"]), str(data["name"])
    if not ID_RE.match(rule_id) or not NAME_RE.match(name):
        raise CatalogueError(f"{path}: id {rule_id!r} or name {name!r} is malformed (e.g. YAML001, syntax-error)")
    try:
        severity = Severity.parse(str(data["severity"]))
    except ValueError as exc:
        raise CatalogueError(f"{path}: {exc}") from None
    examples = tuple(_parse_examples(path, data["examples"]))
    family = rule_id.rstrip("0123456789")
    default_scope = "file" if family in _FILE_FAMILIES else "change" if family in _CHANGE_FAMILIES else "applied"
    scope = str(data.get("scope") or default_scope)
    if scope not in SCOPES:
        raise CatalogueError(f"{path}: scope {scope!r} is not one of {', '.join(SCOPES)}")
    autofix = str(data.get("autofix") or "none")
    if autofix not in AUTOFIX:
        raise CatalogueError(f"{path}: autofix {autofix!r} is not one of {', '.join(AUTOFIX)}")
    return Rule(
        id=rule_id,
        name=name,
        severity=severity,
        summary=str(data["summary"]).strip(),
        rationale=str(data["rationale"]).strip(),
        fix=str(data["fix"]).strip(),
        check=str(data["check"]),
        params=dict(data.get("params") or {}),
        options=dict(data.get("options") or {}),
        references=tuple(str(r) for r in data.get("references") or ()),
        examples=examples,
        source=str(path),
        enabled_by_default=bool(data.get("enabled_by_default", True)),
        scope=scope,
        autofix=autofix,
        fixer=str(data["fixer"]) if data.get("fixer") else None,
    )


def _parse_examples(path: Path, data: Any) -> Iterable[Example]:
    import base64

    if not isinstance(data, dict) or not data.get("bad") or not data.get("good"):
        raise CatalogueError(f"{path}: examples need at least one `bad` and one `good` entry")
    for kind in ("bad", "good"):
        for entry in data[kind]:
            if "content_base64" in entry:
                content: str | bytes = base64.b64decode(entry["content_base64"])
            else:
                content = str(entry.get("content", ""))
            lines = tuple(int(x) for x in entry.get("lines", ()))
            if kind == "bad" and not lines:
                raise CatalogueError(f"{path}: every bad example names the `lines` that must be reported")
            yield Example(
                kind=kind,
                path=str(entry.get("path", "example.yaml")),
                content=content,
                lines=lines,
                files=tuple((str(k), str(v)) for k, v in (entry.get("files") or {}).items()),
                base=tuple((str(k), str(v)) for k, v in (entry.get("base") or {}).items()),
                options=dict(entry.get("options") or {}),
            )


@dataclass(slots=True)
class Catalogue:
    """Every rule, found by id or by name."""

    rules: list[Rule]
    by_key: dict[str, Rule] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for rule in self.rules:
            for key in (rule.id, rule.name):
                if key in self.by_key and self.by_key[key] is not rule:
                    raise CatalogueError(f"{rule.source}: {key!r} is already defined by {self.by_key[key].source}")
                self.by_key[key] = rule

    def get(self, key: str) -> Rule | None:
        return self.by_key.get(key) or self.by_key.get(key.upper())

    def select(self, keys: Iterable[str]) -> set[str]:
        """Rule ids matching ids, names, family prefixes (`YAML`) or `ALL`; unknown keys raise."""
        out: set[str] = set()
        for key in keys:
            key = key.strip()
            if not key:
                continue
            if key.upper() == "ALL":
                out.update(r.id for r in self.rules)
            elif rule := self.get(key):
                out.add(rule.id)
            elif matched := [r.id for r in self.rules if r.id.startswith(key.upper())]:
                out.update(matched)
            else:
                raise CatalogueError(f"unknown rule selector {key!r}")
        return out


def load_catalogue(extra_dirs: Iterable[Path] = (), memo: Any = None) -> Catalogue:
    """The built-in rules and those of `extra_dirs`. `memo` (the cache, when in use) keeps the rule files as
    read, under their paths, sizes and times: parsing the YAML of every rule is most of a warm run's start.
    Without it, the built-in rules come from the index an installed package has (`INDEX_NAME`) when it
    matches the rule files."""
    folders = [builtin_rules_dir(), *extra_dirs]
    by_folder: list[list[Path]] = []
    for directory in folders:
        try:
            by_folder.append([directory / name for name in sorted(os.listdir(directory)) if name.endswith(".yaml")])
        except (NotADirectoryError, FileNotFoundError):
            raise CatalogueError(f"rule folder not found: {directory}") from None
        except OSError as exc:
            raise CatalogueError(f"rule folder {directory}: {exc.strerror or exc}") from None
    paths = [path for found in by_folder for path in found]
    key = stored = None
    if memo is not None:
        try:
            key = repr([(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in paths])
        except OSError:
            key = None
        stored = memo.blob("catalogue", key) if key is not None else None
    if stored is None or len(stored) != len(paths):
        builtin = read_index(by_folder[0])
        if builtin is None:
            builtin = [_read_rule(path) for path in by_folder[0]]
        stored = builtin + [_read_rule(path) for path in paths[len(by_folder[0]):]]
        if key is not None:
            memo.store_blob("catalogue", key, stored)
    rules = [_parse_rule(path, data) for path, data in zip(paths, stored)]
    rules.sort(key=lambda r: r.id)
    return Catalogue(rules)
