"""`.gitops-lint.yaml`: found by walking up to the git root, or named with `--config`.

One pydantic model, `Config`, is the single source of the configuration: it
parses and validates the file (kebab-case keys through aliases), it is the typed
object the rest of the code reads (snake_case attributes), and it generates
`schemas/config.schema.json` (`scripts/generate_config_schema.py`), the schema
editors use; a test checks that the committed schema is the generated one.

Unknown keys are configuration errors (exit 2) that name the file, the line and
the key, with a did-you-mean: a typo in a config file must never silently
disable a setting. For the same reason a key given with no value (`select:`) is
an error, not "unset".

Startup stays cheap: the model's validator is built on first validation
(`defer_build`), so a run without a configuration file never builds it.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError, WithJsonSchema

CONFIG_NAMES = (".gitops-lint.yaml", ".gitops-lint.yml")
ENV_VAR = "GITOPS_LINT_CONFIG"
SCHEMA_ID = "https://gitops-lint.dev/schemas/config.schema.json"


class ConfigError(Exception):
    """The configuration cannot be used (exit code 2)."""


SeverityName = Literal["error", "warning", "info"]
#: A rule id (`AGT002`), name (`duplicate-key`), prefix (`AGT`) or `ALL`.
Selector = Annotated[str, StringConstraints(min_length=1)]
Selectors = list[Selector]
Glob = Annotated[str, StringConstraints(min_length=1)]


def _non_empty(value: Any) -> Any:
    if isinstance(value, str) and not value:
        raise ValueError("a folder path must not be empty")  # pydantic would read "" as Path(".")
    return value


#: Read as a non-empty string; `load_config` makes it relative to the config file's folder.
RelativePath = Annotated[Path, BeforeValidator(_non_empty), WithJsonSchema({"type": "string", "minLength": 1})]


class Config(BaseModel):
    """The settings of one `.gitops-lint.yaml`; attributes are the keys in snake_case."""

    model_config = ConfigDict(
        title="gitops-lint configuration (.gitops-lint.yaml)",
        extra="forbid",
        # `Config(custom_rules=...)` in code; kebab-case aliases in the file (`load_config` admits only those).
        populate_by_name=True,
        # Built on first validation: a run without a configuration file never pays for it.
        defer_build=True,
        # The CLI and compile adjust a loaded configuration (`--gitlab-version`, compile's own excludes).
        validate_assignment=False,
        json_schema_extra={"description": (
            "gitops-lint settings: `.gitops-lint.yaml` (or `.yml`), found by walking up from the first path "
            "to the git root, or given with `--config` or `GITOPS_LINT_CONFIG`. Unknown keys are an error.")},
    )

    # Mutable defaults are given as values (pydantic copies them per instance): a `default_factory`
    # costs an `inspect.signature` per factory on the first `Config()`, ~6 ms of every run.

    #: The file this configuration was read from (None: defaults). Not a key of the file.
    path: Annotated[Path | None, Field(exclude=True)] = None

    select: Selectors | None = Field(
        None, description="Rules to run, replacing the default selection: ids (`AGT002`), names "
                          "(`duplicate-key`), prefixes (`AGT`) or `ALL`.",
        examples=[["ALL"]])
    extend_select: Selectors = Field(
        [], alias="extend-select",
        description="Rules to run in addition to the default selection (ids, names or prefixes).")
    ignore: Selectors = Field(
        [], description="Rules not to run (ids, names or prefixes).", examples=[["AGT002"]])
    per_path_ignores: dict[Glob, Selectors] = Field(
        {}, alias="per-path-ignores",
        description="Rules not to run on some files: gitignore-style globs, relative to this file's folder, "
                    "mapped to rule ids, names or prefixes.",
        examples=[{"vendor/**": ["ALL"]}])
    severity: dict[Selector, SeverityName] = Field(
        {}, description="Per-rule severity overrides (rule id or name -> severity).",
        examples=[{"duplicate-key": "warning"}])
    exclude: list[Glob] = Field(
        [], description="Files and folders not to check: gitignore-style globs, relative to this file's folder.",
        examples=[["ansible/**", "**/charts/**"]])
    fail_on: SeverityName = Field(
        "error", alias="fail-on", description="The lowest severity that makes the run fail (exit 1).")
    flux_version: Annotated[str, StringConstraints(pattern=r"^2\.[0-9]+$")] | None = Field(
        None, alias="flux-version",
        description="The Flux release (minor) to check against, quoted (`\"2.10\"`, not `2.10`). "
                    "Default: what the repository declares, else the newest supported.",
        examples=["2.9"])
    gitlab_version: Annotated[str, StringConstraints(pattern=r"^[0-9]+\.[0-9]+$")] | None = Field(
        None, alias="gitlab-version",
        description="The GitLab release (major.minor) the agents run against, quoted, e.g. \"17.8\".",
        examples=["17.8"])
    gitlab_url: Annotated[str, StringConstraints(pattern=r"^https?://")] | None = Field(
        None, alias="gitlab-url", description="The GitLab instance the agents belong to.",
        examples=["https://gitlab.example.com"])
    rule_options: dict[str, dict[str, Any]] = Field(
        {}, alias="rule-options",
        description="Per-rule options (rule id or name -> option -> value); see `gitops-lint explain ID`.")
    custom_rules: list[RelativePath] = Field(
        [], alias="custom-rules",
        description="Folders of your own rules (same format as the built-in `rules/`), relative to this "
                    "file's folder.",
        examples=[["lint-rules/"]])
    agent_configs: list[Glob] = Field(
        [], alias="agent-configs",
        description="More files to check as GitLab agent configs: gitignore-style globs, relative to this "
                    "file's folder.")


#: Key of the file -> attribute of `Config` (`path` is not a key: it is where the file was found).
_FIELD_BY_KEY = {info.alias or name: name for name, info in Config.model_fields.items() if name != "path"}


def config_keys() -> list[str]:
    """The keys a configuration file may hold, in the model's order."""
    return list(_FIELD_BY_KEY)


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
        # Defaults need no validation, so the validator is not built on runs without a config file.
        return Config.model_construct()
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
    config = parse_config(data, path, text)
    base = path.parent
    config.custom_rules = [base / p for p in config.custom_rules]
    return config


def parse_config(data: Any, path: Path, text: str | None = None) -> Config:
    """`data` (a loaded `.gitops-lint.yaml`) as a `Config`, or a ConfigError naming file, line and key.

    `text` (the file's text) gives errors their line and column; it is parsed again only on error.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{path}{_where(text, ())}: the configuration must be a mapping of settings")
    known = config_keys()
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (known keys: {', '.join(known)})"
            raise ConfigError(f"{path}{_where(text, (key,), key=True)}: unknown configuration key {key!r}{hint}")
    for key, value in data.items():
        if value is None:
            raise ConfigError(f"{path}{_where(text, (key,), key=True)}: {key}: no value given "
                              "(remove the key to use the default)")
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        order = {key: index for index, key in enumerate(data)}  # the first error in the file's order
        error = min(exc.errors(include_url=False),
                    key=lambda e: (order.get(e["loc"][0], -1) if e["loc"] else -1, [str(p) for p in e["loc"][1:]]))
        raise ConfigError(f"{path}{_where(text, error['loc'])}: {_describe(error)}") from None
    config.path = path
    return config


def _describe(error: dict[str, Any]) -> str:
    """`severity.duplicate-key: 'warn': Input should be 'error', 'warning' or 'info'`."""
    loc = [p for p in error["loc"] if p != "[key]"]
    where = ".".join(repr(p) if p == "" else str(p) for p in loc) or "(top level)"
    message = error["msg"].removeprefix("Value error, ")
    if error["loc"] and error["loc"][-1] == "[key]":
        return f"{where}: key {error['input']!r}: {message}"
    if error["type"] not in ("missing", "value_error"):
        message = f"{_show(error['input'])}: {message}"
    info = Config.model_fields.get(_FIELD_BY_KEY.get(str(loc[0]), "")) if loc else None
    if error["type"] == "string_type" and isinstance(error["input"], (int, float)) and len(loc) == 1:
        message += " (quote it: unquoted, YAML reads it as a number, and 2.10 as 2.1)"
    elif error["type"] == "string_pattern_mismatch" and info is not None and info.examples:
        message += f" (for example {info.examples[0]!r})"
    return f"{where}: {message}"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _where(text: str | None, loc: tuple | list, *, key: bool = False) -> str:
    """`:line:column` of the value (or the key) at `loc` in the YAML `text`; "" when it cannot be found."""
    if text is None:
        return ""
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return ""
    if node is None:
        return ""
    mark = node.start_mark
    parts = list(loc)
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part):
                    if (last and key) or (index + 1 < len(parts) and parts[index + 1] == "[key]"):
                        return f":{key_node.start_mark.line + 1}:{key_node.start_mark.column + 1}"
                    node = value_node
                    mark = node.start_mark
                    break
            else:
                break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            mark = node.start_mark
        else:
            break
    return f":{mark.line + 1}:{mark.column + 1}"


def config_schema() -> dict:
    """The JSON Schema of `.gitops-lint.yaml`, generated from `Config` (committed as schemas/config.schema.json)."""
    from pydantic.json_schema import GenerateJsonSchema

    class _FileSchema(GenerateJsonSchema):
        """Keys by alias, `T | None` fields as `T` (a key given with no value is an error), no `default: null`."""

        def nullable_schema(self, schema):  # type: ignore[no-untyped-def]
            return self.generate_inner(schema["schema"])

        def default_schema(self, schema):  # type: ignore[no-untyped-def]
            out = super().default_schema(schema)
            if out.get("default", ...) is None:
                del out["default"]
            return out

        def field_title_should_be_set(self, schema) -> bool:  # type: ignore[no-untyped-def]
            return False

    generated = Config.model_json_schema(by_alias=True, schema_generator=_FileSchema, mode="validation")
    generated["properties"].pop("path", None)
    head = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            "title": generated.pop("title"), "description": generated.pop("description"),
            "type": generated.pop("type"), "additionalProperties": generated.pop("additionalProperties")}
    return {**head, **generated}
