"""`.gitops-lint.yaml` is one declaration, the `Config` dataclass: the typed object, the validator of the file
(a pydantic model built from it on demand, to explain a file the schema's plain check refuses) and the schema
all come from it."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_lint.config import (Config, ConfigError, _plain_values, _validated_values, config_keys, config_schema,
                                load_config, parse_config)
from tests.conftest import PROJECT, write_tree

SCHEMA_FILE = PROJECT / "schemas" / "config.schema.json"


def _generator():
    sys.path.insert(0, str(PROJECT / "scripts"))
    try:
        import generate_config_schema
    finally:
        sys.path.remove(str(PROJECT / "scripts"))
    return generate_config_schema


def _load(tmp_path: Path, text: str) -> Config:
    config = tmp_path / ".gitops-lint.yaml"
    config.write_text(text, encoding="utf-8")
    return load_config(config)


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    message = str(caught.value)
    prefix = str(tmp_path / ".gitops-lint.yaml")
    assert message.startswith(prefix), message
    return message[len(prefix):]


# --------------------------------------------------------------------------- the schema is generated


def test_the_committed_schema_is_the_generated_one() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == _generator().render(), \
        "run scripts/generate_config_schema.py and commit schemas/config.schema.json"


def test_the_generator_check_mode(tmp_path: Path) -> None:
    generator = _generator()
    out = tmp_path / "config.schema.json"
    assert generator.main(["--out", str(out), "--check"]) == 1
    assert generator.main(["--out", str(out)]) == 0
    assert generator.main(["--out", str(out), "--check"]) == 0
    assert json.loads(out.read_text(encoding="utf-8")) == config_schema()


def test_the_schema_is_useful_to_editors() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] and ".gitops-lint.yaml" in schema["description"]
    assert schema["additionalProperties"] is False
    assert list(schema["properties"]) == config_keys()
    for key, prop in schema["properties"].items():
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", key), key  # kebab-case, as in the file
        assert len(prop.get("description", "")) > 20, f"{key}: no useful description"
    # `path` is where the file was found, not a key of the file
    assert "path" not in schema["properties"]


def test_every_attribute_the_code_reads_is_a_field() -> None:
    """Attribute names the rest of the code uses (cli.py, engine.py, tests) stay those of the old dataclass."""
    assert {f.name for f in dataclasses.fields(Config)} == {
        "path", "select", "extend_select", "ignore", "per_path_ignores", "severity", "exclude", "fail_on",
        "flux_version", "gitlab_version", "gitlab_url", "rule_options", "custom_rules", "agent_configs", "oci_units"}


VALID = [
    "",
    "select: [ALL]\nignore: [AGT002]\n",
    "extend-select: [FLX]\nper-path-ignores: {'vendor/**': [ALL]}\n",
    "severity: {duplicate-key: warning, AGT001: info}\nfail-on: warning\n",
    "exclude: ['ansible/**', '**/charts/**']\nagent-configs: ['deploy/*.yaml']\n",
    "flux-version: '2.10'\ngitlab-version: '17.8'\ngitlab-url: https://gitlab.example.com\n",
    "rule-options: {FLX001: {max: 3}, duplicate-key: {}}\ncustom-rules: [lint-rules/]\n",
    "oci-units: [{name: podinfo, path: apps/podinfo}]\n",
]
INVALID = [
    "oci-units: [{name: Bad Name, path: apps}]\n",
    "oci-units: [{name: podinfo}]\n",
    "ignroe: [YAML001]\n",
    "custom_rules: [x]\n",  # attribute names are not keys of the file
    "path: elsewhere\n",
    "select: AGT001\n",
    "select: ['']\n",
    "severity: {duplicate-key: warn}\n",
    "fail-on: fatal\n",
    "flux-version: 2.10\n",
    "flux-version: '3.1'\n",
    "gitlab-version: '17'\n",
    "gitlab-url: gitlab.com\n",
    "exclude: [a, 3]\n",
    "per-path-ignores: {vendor: ALL}\n",
    "rule-options: {FLX001: 3}\n",
    "custom-rules: ['']\n",
    "agent-configs: [~]\n",
    "select:\n",
    "- select\n",
]


@pytest.mark.parametrize("text", VALID + INVALID)
def test_the_model_and_the_schema_judge_alike(tmp_path: Path, text: str) -> None:
    data = yaml.safe_load(text) or {}
    schema_says = not list(jsonschema.Draft202012Validator(config_schema()).iter_errors(data))
    try:
        parse_config(data, tmp_path / ".gitops-lint.yaml")
        model_says = True
    except ConfigError:
        model_says = False
    assert model_says == schema_says == (text in VALID)


def test_the_shipped_configurations_are_valid(tmp_path: Path) -> None:
    load_config(PROJECT / "examples" / ".gitops-lint.yaml")
    load_config(PROJECT / ".gitops-lint.yaml")
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Configuration"):]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block, "README's Configuration section has no YAML example"
    config = _load(tmp_path, block.group(1))
    assert config.select == ["ALL"] and config.severity == {"duplicate-key": "warning"}


# --------------------------------------------------------------------------- the typed object


def test_keys_are_kebab_case_in_the_file_and_snake_case_in_code(tmp_path: Path) -> None:
    config = _load(tmp_path, "extend-select: [FLX]\nper-path-ignores: {'a/**': [ALL]}\nfail-on: info\n"
                             "flux-version: '2.8'\ngitlab-url: https://gitlab.example.com\n"
                             "custom-rules: [lint-rules, /abs/rules]\nagent-configs: ['*.yaml']\n")
    assert config.path == tmp_path / ".gitops-lint.yaml"
    assert config.extend_select == ["FLX"] and config.per_path_ignores == {"a/**": ["ALL"]}
    assert config.fail_on == "info" and config.flux_version == "2.8"
    assert config.gitlab_url == "https://gitlab.example.com" and config.agent_configs == ["*.yaml"]
    # custom rule folders are relative to the configuration file's folder
    assert config.custom_rules == [tmp_path / "lint-rules", Path("/abs/rules")]
    assert config.select is None and config.ignore == [] and config.rule_options == {}


def test_defaults_and_construction_by_attribute_name() -> None:
    default = load_config(None)
    assert default == Config() and default.path is None and default.fail_on == "error"
    assert default.select is None and default.exclude == [] and default.custom_rules == []
    made = Config(custom_rules=[Path("rules")], agent_configs=["*.yaml"], severity={"AGT001": "info"})
    assert made.custom_rules == [Path("rules")] and made.severity == {"AGT001": "info"}
    # the CLI and compile adjust a loaded configuration in place
    default.gitlab_version = "17.8"
    default.exclude = [*default.exclude, "/out/"]
    assert default.gitlab_version == "17.8" and default.exclude == ["/out/"]
    assert Config().exclude == [], "defaults are not shared between configurations"
    default.ignore.append("AGT001")
    default.severity["AGT001"] = "info"
    assert load_config(None).ignore == [] and Config().severity == {}


def test_an_empty_file_is_the_defaults(tmp_path: Path) -> None:
    config = _load(tmp_path, "# nothing yet\n")
    assert dataclasses.replace(config, path=None) == Config() and config.path is not None


# --------------------------------------------------------------------------- errors name the file, line and key


@pytest.mark.parametrize(("text", "expected"), [
    ("select: [ALL]\nignroe: [YAML001]\n", ":2:1: unknown configuration key 'ignroe' (did you mean 'ignore'?)"),
    ("custom_rules: [x]\n", ":1:1: unknown configuration key 'custom_rules' (did you mean 'custom-rules'?)"),
    ("bogus: 1\n", ":1:1: unknown configuration key 'bogus' (known keys: select, extend-select, ignore, "),
    ("path: x\n", ":1:1: unknown configuration key 'path' (known keys: "),
    ("select: AGT001\n", ":1:9: select: 'AGT001': Input should be a valid list"),
    ("severity:\n  duplicate-key: warn\n",
     ":2:18: severity.duplicate-key: 'warn': Input should be 'error', 'warning' or 'info'"),
    ("exclude:\n  - a\n  - 3\n", ":3:5: exclude.1: 3: Input should be a valid string"),
    ("flux-version: 2.10\n", ":1:15: flux-version: 2.1: Input should be a valid string (quote it"),
    ("flux-version: '3.1'\n", r":1:15: flux-version: '3.1': String should match pattern '^2\.[0-9]+$' "
                              "(for example '2.9')"),
    ("custom-rules: [ok, '']\n", ":1:20: custom-rules.1: a folder path must not be empty"),
    ("per-path-ignores:\n  '': [ALL]\n", ":2:3: per-path-ignores.'': key '': String should have at least 1"),
    ("select: 3\nexclude: [1]\n", ":1:9: select: 3: Input should be a valid list"),  # the first in the file
    ("exclude: [1]\nselect: 3\n", ":1:11: exclude.0: 1: Input should be a valid string"),
    ("fail-on:\n", ":1:1: fail-on: no value given (remove the key to use the default)"),
    ("- select\n", ":1:1: the configuration must be a mapping of settings"),
    ("select: [ALL\n", ":2:1: invalid YAML: "),
])
def test_error_messages(tmp_path: Path, text: str, expected: str) -> None:
    assert _error(tmp_path, text).startswith(expected)


def test_unreadable_configuration(tmp_path: Path) -> None:
    (tmp_path / "latin1.yaml").write_bytes(b"select: [\xff]\n")
    for name in ("latin1.yaml", "missing.yaml"):
        with pytest.raises(ConfigError, match=rf"^{re.escape(str(tmp_path / name))}: cannot read configuration"):
            load_config(tmp_path / name)


def test_the_command_line_reports_the_line_and_exits_2(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
                          ".gitops-lint.yaml": "select: [ALL]\nignroe: [YAML001]\n"})
    env = {k: v for k, v in os.environ.items() if k != "GITOPS_LINT_CONFIG"}
    out = subprocess.run([sys.executable, "-m", "gitops_lint", "check", "."], cwd=tmp_path, capture_output=True,
                         text=True, env=env, timeout=300)
    assert out.returncode == 2, out.stderr
    assert ".gitops-lint.yaml:2:1: unknown configuration key 'ignroe' (did you mean 'ignore'?)" in out.stderr


# --------------------------------------------------------------------------- startup stays cheap


_WORDS = st.sampled_from(["ALL", "AGT", "AGT002", "duplicate-key", "error", "warning", "info", "warn", "", "2.9",
                          "2.10", "3.1", "17.8", "https://gitlab.example.com", "ftp://x", "a/**", "podinfo",
                          "Pod Info", "apps/podinfo", "2.9\n", "error\n"])
_SCALARS = st.one_of(_WORDS, st.integers(-1, 3), st.booleans(), st.floats(0, 3))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.one_of(_WORDS, st.integers(0, 2), st.none(), st.booleans()), inner, max_size=3)),
    max_leaves=6)
_CONFIGS = st.dictionaries(st.sampled_from(config_keys()), _VALUES, max_size=4)


@settings(max_examples=500, deadline=None)
@given(_CONFIGS)
def test_the_plain_check_accepts_only_what_the_model_accepts_and_reads_it_alike(data: dict) -> None:
    """A file the committed schema plainly accepts skips pydantic: it must be one pydantic accepts, read the
    same way (the fast path is what nearly every run takes)."""
    plain = _plain_values(data)
    if plain is None:
        return
    assert Config(**plain) == Config(**_validated_values(data, Path("c.yaml"), None))


@pytest.mark.parametrize("data", [
    {"rule-options": {"REF011": {1: "a"}}}, {"rule-options": {1: {"a": "b"}}}, {"rule-options": {None: {}}},
    {"flux-version": "2.9\n"}, {"gitlab-version": "17.8\n"},
])
def test_what_the_plain_check_would_read_otherwise_goes_to_the_model(data: dict) -> None:
    """Keys that are no strings and strings with a final line break: JSON Schema and the model disagree
    on them, so the model decides (and refuses them)."""
    assert _plain_values(data) is None
    with pytest.raises(ConfigError):
        _validated_values(data, Path("c.yaml"), None)


def test_a_valid_configuration_file_is_read_without_pydantic(tmp_path: Path) -> None:
    (tmp_path / ".gitops-lint.yaml").write_text(
        "select: [ALL]\nignore: [REF010]\nseverity: {duplicate-key: warning}\nflux-version: '2.9'\n"
        "custom-rules: [lint/]\nper-path-ignores: {'vendor/**': [ALL]}\nrule-options: {INT002: {max_interval: 12h}}\n")
    code = ("import sys\nfrom pathlib import Path\nfrom gitops_lint.config import load_config\n"
            f"c = load_config(Path({str(tmp_path / '.gitops-lint.yaml')!r}))\n"
            "assert c.select == ['ALL'] and c.custom_rules[0].name == 'lint', c\n"
            "print('pydantic' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_a_run_without_a_configuration_file_never_imports_pydantic() -> None:
    code = ("import sys\nfrom gitops_lint.config import Config, load_config\n"
            "c = load_config(None); c.gitlab_version = '17.8'; c.exclude = [*c.exclude, 'x/']\n"
            "assert c.fail_on == 'error' and c.path is None\n"
            "print('pydantic' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
