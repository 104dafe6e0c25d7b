"""`.gitops-lint.yaml`: found by walking up to the git root, or named with `--config`.

Unknown keys are configuration errors (exit 2) that name the key, with a
did-you-mean: a typo in a config file must never silently disable a setting.
"""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIG_NAMES = (".gitops-lint.yaml", ".gitops-lint.yml")
ENV_VAR = "GITOPS_LINT_CONFIG"


class ConfigError(Exception):
    """The configuration cannot be used (exit code 2)."""


@dataclass(slots=True)
class Config:
    path: Path | None = None
    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    per_path_ignores: dict[str, list[str]] = field(default_factory=dict)
    severity: dict[str, str] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    fail_on: str = "error"
    flux_version: str | None = None
    gitlab_version: str | None = None
    gitlab_url: str | None = None
    rule_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    custom_rules: list[Path] = field(default_factory=list)
    #: Globs (relative to the config's folder) of more files to check as GitLab agent configs.
    agent_configs: list[str] = field(default_factory=list)


def find_config(start: Path, stop: Path | None) -> Path | None:
    """The nearest config file from `start` upwards, not above `stop` (the git root) when given."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    current = start.resolve()
    if current.is_file():
        current = current.parent
    while True:
        for name in CONFIG_NAMES:
            candidate = current / name
            if candidate.is_file():
                return candidate
        if (stop is not None and current == stop) or current.parent == current:
            return None
        current = current.parent


def load_config(path: Path | None) -> Config:
    if path is None:
        return Config()
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc}") from None
    try:
        data = yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    if data is None:
        data = {}
    _validate(path, data)
    base = path.parent
    return Config(
        path=path,
        select=data.get("select"),
        extend_select=data.get("extend-select", []),
        ignore=data.get("ignore", []),
        per_path_ignores=data.get("per-path-ignores", {}),
        severity=data.get("severity", {}),
        exclude=data.get("exclude", []),
        fail_on=data.get("fail-on", "error"),
        flux_version=data.get("flux-version"),
        gitlab_version=data.get("gitlab-version"),
        gitlab_url=data.get("gitlab-url"),
        rule_options=data.get("rule-options", {}),
        custom_rules=[(base / p) for p in data.get("custom-rules", [])],
        agent_configs=data.get("agent-configs", []),
    )


def config_schema() -> dict:
    from gitops_lint.data import schemas_dir

    return json.loads((schemas_dir() / "config.schema.json").read_text(encoding="utf-8"))


def _validate(path: Path, data: Any) -> None:
    schema = config_schema()
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the configuration must be a mapping of settings")
    known = list(schema["properties"])
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (known keys: {', '.join(known)})"
            raise ConfigError(f"{path}: unknown configuration key {key!r}{hint}")
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
        raise ConfigError(f"{path}: {where}: {error.message}")
