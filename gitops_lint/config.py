"""`.gitops-lint.yaml`: found by walking up to the git root, or named with `--config`.

One declaration, the `Config` dataclass, is the single source of the configuration:
it is the typed object the rest of the code reads (snake_case attributes), and each
field's metadata holds its key in the file (kebab-case), its type as the validator
reads it, its description and examples. From it the pydantic model that validates a
file is built (`_file_model`), and so `schemas/config.schema.json`
(`scripts/generate_config_schema.py`), the schema editors use; a test checks that
the committed schema is the generated one.

Unknown keys are configuration errors (exit 2) that name the file, the line and
the key, with a did-you-mean: a typo in a config file must never silently
disable a setting. For the same reason a key given with no value (`select:`) is
an error, not "unset".

Startup stays cheap: a file is first checked against the committed schema by
`schema.plainly_valid` (no validator library imported); pydantic is imported, and
the validating model built, only to explain a file that fails that check (or one
that uses a keyword the plain check leaves to a validator). A test holds the two to
the same verdict.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

CONFIG_NAMES = (".gitops-lint.yaml", ".gitops-lint.yml")
ENV_VAR = "GITOPS_LINT_CONFIG"
SCHEMA_ID = "https://gitops-lint.dev/schemas/config.schema.json"
_TITLE = "gitops-lint configuration (.gitops-lint.yaml)"
_DESCRIPTION = (
    "gitops-lint settings: `.gitops-lint.yaml` (or `.yml`), found by walking up from the first path "
    "to the git root, or given with `--config` or `GITOPS_LINT_CONFIG`. Unknown keys are an error.")


class ConfigError(Exception):
    """The configuration cannot be used (exit code 2)."""


def _setting(default: Any, kind: Callable[[SimpleNamespace], Any], description: str, *, key: str | None = None,
             examples: list | None = None) -> Any:
    """A field of `Config`: `kind(t)` is its type, from the validator's names in `t` (`_types`); `key` its
    name in the file when it is not the attribute's own."""
    metadata = {"kind": kind, "description": description, "key": key, "examples": examples}
    if isinstance(default, (list, dict)):
        empty = type(default)
        return dataclasses.field(default_factory=empty, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclass
class Config:
    """The settings of one `.gitops-lint.yaml`; attributes are the keys in snake_case."""

    #: The file this configuration was read from (None: defaults). Not a key of the file.
    path: Path | None = None

    select: list[str] | None = _setting(
        None, lambda t: t.Selectors | None,
        "Rules to run, replacing the default selection: ids (`AGT002`), names (`duplicate-key`), prefixes "
        "(`AGT`) or `ALL`.", examples=[["ALL"]])
    extend_select: list[str] = _setting(
        [], lambda t: t.Selectors, "Rules to run in addition to the default selection (ids, names or prefixes).",
        key="extend-select")
    ignore: list[str] = _setting(
        [], lambda t: t.Selectors, "Rules not to run (ids, names or prefixes).", examples=[["AGT002"]])
    per_path_ignores: dict[str, list[str]] = _setting(
        {}, lambda t: dict[t.Glob, t.Selectors],
        "Rules not to run on some files: gitignore-style globs, relative to this file's folder, mapped to rule "
        "ids, names or prefixes.", key="per-path-ignores", examples=[{"vendor/**": ["ALL"]}])
    severity: dict[str, str] = _setting(
        {}, lambda t: dict[t.Selector, t.SeverityName], "Per-rule severity overrides (rule id or name -> severity).",
        examples=[{"duplicate-key": "warning"}])
    exclude: list[str] = _setting(
        [], lambda t: list[t.Glob],
        "Files and folders not to check: gitignore-style globs, relative to this file's folder.",
        examples=[["ansible/**", "**/charts/**"]])
    fail_on: str = _setting(
        "error", lambda t: t.SeverityName, "The lowest severity that makes the run fail (exit 1).", key="fail-on")
    flux_version: str | None = _setting(
        None, lambda t: t.Pattern(r"^2\.[0-9]+$") | None,
        "The Flux release (minor) to check against, quoted (`\"2.10\"`, not `2.10`). "
        "Default: what the repository declares, else the newest supported.", key="flux-version", examples=["2.9"])
    gitlab_version: str | None = _setting(
        None, lambda t: t.Pattern(r"^[0-9]+\.[0-9]+$") | None,
        "The GitLab release (major.minor) the agents run against, quoted, e.g. \"17.8\".", key="gitlab-version",
        examples=["17.8"])
    gitlab_url: str | None = _setting(
        None, lambda t: t.Pattern(r"^https?://") | None, "The GitLab instance the agents belong to.",
        key="gitlab-url", examples=["https://gitlab.example.com"])
    rule_options: dict[str, dict[str, Any]] = _setting(
        {}, lambda t: dict[str, dict[str, Any]],
        "Per-rule options (rule id or name -> option -> value); see `gitops-lint explain ID`.", key="rule-options")
    custom_rules: list[Path] = _setting(
        [], lambda t: list[t.RelativePath],
        "Folders of your own rules (same format as the built-in `rules/`), relative to this file's folder.",
        key="custom-rules", examples=[["lint-rules/"]])
    agent_configs: list[str] = _setting(
        [], lambda t: list[t.Glob],
        "More files to check as GitLab agent configs: gitignore-style globs, relative to this file's folder.",
        key="agent-configs")
    oci_units: list[dict[str, str]] = _setting(
        [], lambda t: list[t.OciUnit],
        "The OCI artifacts `compile --oci` builds, each a `name` and a `path` (a folder of the repository); "
        "default: one per folder a Flux Kustomization of this repository applies.",
        key="oci-units", examples=[[{"name": "podinfo", "path": "apps/podinfo"}]])


#: The fields a file may set (every one but `path`, which is where the file was found).
_SETTINGS = [f for f in dataclasses.fields(Config) if f.name != "path"]
#: Key of the file -> attribute of `Config`.
_FIELD_BY_KEY = {(f.metadata["key"] or f.name): f.name for f in _SETTINGS}


def _non_empty(value: Any) -> Any:
    if isinstance(value, str) and not value:
        raise ValueError("a folder path must not be empty")  # pydantic would read "" as Path(".")
    return value


def _types() -> SimpleNamespace:
    """The names fields' types are written in, as the validator reads them."""
    from typing import Annotated, Literal

    from pydantic import BeforeValidator, StringConstraints, WithJsonSchema

    selector = Annotated[str, StringConstraints(min_length=1)]  # a rule id, name, prefix or `ALL`
    return SimpleNamespace(
        SeverityName=Literal["error", "warning", "info"],
        Selector=selector,
        Selectors=list[selector],
        Glob=Annotated[str, StringConstraints(min_length=1)],
        Pattern=lambda pattern: Annotated[str, StringConstraints(pattern=pattern)],
        # Read as a non-empty string; `load_config` makes it relative to the config file's folder.
        RelativePath=Annotated[Path, BeforeValidator(_non_empty), WithJsonSchema({"type": "string", "minLength": 1})],
        OciUnit=_oci_unit(),
    )


def _oci_unit() -> Any:
    """An `oci-units` entry: `{name, path}`, both non-empty; the name as OCI repository names allow."""
    from typing import Annotated

    from pydantic import ConfigDict, StringConstraints
    from pydantic import create_model

    return create_model(
        "OciUnit", __config__=ConfigDict(extra="forbid"),
        name=(Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+([._-][a-z0-9]+)*$")], ...),
        path=(Annotated[str, StringConstraints(min_length=1)], ...),
    )


@functools.cache
def _file_model() -> Any:
    """The pydantic model that validates a file: `Config`'s settings under their keys."""
    from pydantic import ConfigDict, Field, create_model

    t = _types()
    definitions = {}
    for f in _SETTINGS:
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        extra = {"examples": f.metadata["examples"]} if f.metadata["examples"] is not None else {}
        definitions[f.name] = (f.metadata["kind"](t), Field(default, alias=f.metadata["key"] or None,
                                                            description=f.metadata["description"], **extra))
    return create_model(
        "Config",
        __config__=ConfigDict(title=_TITLE, extra="forbid", populate_by_name=True,
                              json_schema_extra={"description": _DESCRIPTION}),
        **definitions,
    )


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
        return Config()  # defaults need no validation
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
            import difflib  # only for a key no one knows

            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (known keys: {', '.join(known)})"
            raise ConfigError(f"{path}{_where(text, (key,), key=True)}: unknown configuration key {key!r}{hint}")
    for key, value in data.items():
        if value is None:
            raise ConfigError(f"{path}{_where(text, (key,), key=True)}: {key}: no value given "
                              "(remove the key to use the default)")
    plain = _plain_values(data)
    if plain is not None:
        return Config(path=path, **plain)
    return Config(path=path, **_validated_values(data, path, text))


def _plain_values(data: dict) -> dict[str, Any] | None:
    """The settings `data` sets, when the committed schema plainly accepts it; None when pydantic must judge."""
    from gitops_lint.schema import plainly_valid
    from gitops_lint.schema_index import config_file_schema

    if not _plain_json(data) or not plainly_valid(config_file_schema(), data):
        return None
    values: dict[str, Any] = {}  # the keys the file sets; `Config` has the defaults
    for f in _SETTINGS:
        key = f.metadata["key"] or f.name
        if key not in data:
            continue
        value = data[key]
        if f.name == "custom_rules":
            value = [Path(item) for item in value]
        elif isinstance(value, dict):
            value = {k: dict(v) if isinstance(v, dict) else list(v) if isinstance(v, list) else v
                     for k, v in value.items()}
        elif isinstance(value, list):
            value = [dict(item) if isinstance(item, dict) else item for item in value]
        values[f.name] = value
    return values


def _plain_json(value: Any) -> bool:
    """Whether `value` reads the same to JSON Schema and to the pydantic model: string keys only (JSON has
    no others; the model refuses them), and no line break in a string (a pattern's `$` matches before a
    final one in Python's `re`, not in the model's)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and "\n" not in k and _plain_json(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain_json(item) for item in value)
    return not isinstance(value, str) or "\n" not in value


def _validated_values(data: dict, path: Path, text: str | None) -> dict[str, Any]:
    """The settings of `data` as the pydantic model reads them, or the ConfigError of its first problem."""
    from pydantic import ValidationError

    try:
        validated = _file_model().model_validate(data)
    except ValidationError as exc:
        order = {key: index for index, key in enumerate(data)}  # the first error in the file's order
        error = min(exc.errors(include_url=False),
                    key=lambda e: (order.get(e["loc"][0], -1) if e["loc"] else -1, [str(p) for p in e["loc"][1:]]))
        raise ConfigError(f"{path}{_where(text, error['loc'])}: {_describe(error)}") from None
    values = {f.name: getattr(validated, f.name) for f in _SETTINGS}
    values["oci_units"] = [unit.model_dump() for unit in values["oci_units"]]
    return values


def _describe(error: dict[str, Any]) -> str:
    """`severity.duplicate-key: 'warn': Input should be 'error', 'warning' or 'info'`."""
    loc = [p for p in error["loc"] if p != "[key]"]
    where = ".".join(repr(p) if p == "" else str(p) for p in loc) or "(top level)"
    message = error["msg"].removeprefix("Value error, ")
    if error["loc"] and error["loc"][-1] == "[key]":
        return f"{where}: key {error['input']!r}: {message}"
    if error["type"] not in ("missing", "value_error"):
        message = f"{_show(error['input'])}: {message}"
    info = _file_model().model_fields.get(_FIELD_BY_KEY.get(str(loc[0]), "")) if loc else None
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

    generated = _file_model().model_json_schema(by_alias=True, schema_generator=_FileSchema, mode="validation")
    head = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            "title": generated.pop("title"), "description": generated.pop("description"),
            "type": generated.pop("type"), "additionalProperties": generated.pop("additionalProperties")}
    return {**head, **generated}
