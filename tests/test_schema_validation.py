"""Schema validation pinned at exact lines and columns: each kind of violation, Flux and agent config."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_lint.engine import LintOptions, lint
from tests.conftest import write_tree

GITREPO = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: app
  namespace: flux-system
spec:
  interval: {interval}
  url: {url}
  ref:
    branch: main
  provider: {provider}
"""


def findings(tmp_path: Path, files: dict[str, str], *, flux: str | None = None, gitlab: str | None = None,
             select: str = "SCH,AGT009,TYP001") -> list[tuple[str, int, int, str]]:
    write_tree(tmp_path, files)
    options = LintOptions(paths=["."], cwd=tmp_path, select=select.split(","), flux_version=flux)
    options.config.gitlab_version = gitlab
    result = lint(options)
    assert not result.internal_errors
    return [(d.rule, d.span.line, d.span.column, d.message) for d in result.diagnostics]


def test_pattern_enum_and_type_at_their_values(tmp_path: Path) -> None:
    text = GITREPO.format(interval='"10 m"', url="git@gitlab.com:acme/app.git", provider="gitlab")
    found = findings(tmp_path, {"s.yaml": text})
    assert [(r, line, col) for r, line, col, _ in found] == [("SCH001", 7, 13), ("SCH001", 8, 8), ("SCH001", 11, 13)]
    assert 'spec.interval: "10 m" is not a Flux duration' in found[0][3]
    assert "spec.provider: \"gitlab\" is not one of generic, aws, azure, github" in found[2][3]
    typed = findings(tmp_path, {"s.yaml": GITREPO.format(interval="[10m]", url="https://x.io/a.git", provider="aws")})
    assert [(r, line, col) for r, line, col, _ in typed] == [("TYP001", 7, 13)]  # the model reports types, once


def test_required_at_the_parent_and_unknown_at_the_key(tmp_path: Path) -> None:
    text = ("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n"
            "  namespace: flux-system\nspec:\n  intervall: 10m\n  prune: true\n  retention: 3\n"
            "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n")
    found = findings(tmp_path, {"k.yaml": text})
    assert [(r, line, col) for r, line, col, _ in found] == [
        ("SCH001", 6, 1), ("SCH003", 7, 3), ("SCH002", 9, 3)]
    assert found[0][3] == "spec: required field 'interval' is missing"
    assert found[1][3] == "unknown field 'intervall' in spec (did you mean 'interval'?)"


def test_cel_rule_with_its_own_message(tmp_path: Path) -> None:
    text = ("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: p\n  namespace: p\n"
            "spec:\n  interval: 10m\n  upgrade:\n    strategy:\n      name: RemediateOnFailure\n"
            "      retryInterval: 1m\n  chartRef:\n    kind: OCIRepository\n    name: p\n")
    found = findings(tmp_path, {"h.yaml": text})
    assert [(r, line, col) for r, line, col, _ in found] == [("SCH004", 9, 5)]
    assert "retryInterval" in found[0][3]


@pytest.mark.parametrize(
    ("release", "expected"),
    [
        # v2beta2: served (deprecated) up to 2.7, removed in 2.8
        ("2.3", [("SCH005", 1, 13)]),
        ("2.7", [("SCH005", 1, 13)]),
        ("2.9", [("SCH006", 1, 13)]),
    ],
)
def test_version_matrix(tmp_path: Path, release: str, expected) -> None:
    text = ("apiVersion: helm.toolkit.fluxcd.io/v2beta2\nkind: HelmRelease\nmetadata:\n  name: p\n  namespace: p\n"
            "spec:\n  interval: 10m\n  chart:\n    spec:\n      chart: p\n      sourceRef:\n"
            "        kind: HelmRepository\n        name: p\n")
    found = findings(tmp_path, {"h.yaml": text}, flux=release)
    assert [(r, line, col) for r, line, col, _ in found] == expected
    if release == "2.9":
        assert "removed in 2.8" in found[0][3] and "use helm.toolkit.fluxcd.io/v2" in found[0][3]


def test_future_and_unknown_api_versions(tmp_path: Path) -> None:
    text = ("apiVersion: source.toolkit.fluxcd.io/v1\nkind: ExternalArtifact\nmetadata:\n  name: a\n"
            "  namespace: flux-system\nspec: {}\n")
    found = findings(tmp_path, {"e.yaml": text}, flux="2.6")
    assert [(r, line) for r, line, _, _ in found] == [("SCH006", 1)] and "arrives only in Flux 2.7" in found[0][3]
    text = text.replace("kind: ExternalArtifact", "kind: GitRepository").replace("/v1\n", "/v2\n", 1)
    found = findings(tmp_path, {"e.yaml": text})
    assert [(r, line) for r, line, _, _ in found] == [("SCH006", 1)] and "is no version of GitRepository" in found[0][3]


def test_removed_version_names_the_fields_to_change(tmp_path: Path) -> None:
    text = ("apiVersion: kustomize.toolkit.fluxcd.io/v1beta2\nkind: Kustomization\nmetadata:\n  name: a\n"
            "  namespace: flux-system\nspec:\n  interval: 10m\n  prune: true\n  validation: client\n"
            "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n")
    (found,) = findings(tmp_path, {"k.yaml": text})
    assert found[0] == "SCH006" and "spec.validation" in found[3]


def test_substitutions_and_sops_are_not_judged(tmp_path: Path) -> None:
    text = GITREPO.format(interval="${SYNC_INTERVAL:=10m}", url="${REPO_URL}", provider="generic")
    assert findings(tmp_path, {"s.yaml": text}) == []


AGENT = """\
gitops:
  manifest_projects:
    - id: acme/app
      reconcile_timeout: 1h
      inventory_policy: adopt-all
      ref:
        branch: main
        tag: v1
starboard:
  cadence: '@daily'
observability:
  logging:
    level: verbose
"""


def test_agent_config_violations(tmp_path: Path) -> None:
    found = findings(tmp_path, {".gitlab/agents/prod/config.yaml": AGENT}, select="AGT009")
    assert [(r, line, col) for r, line, col, _ in found] == [
        ("AGT009", 4, 26), ("AGT009", 5, 25), ("AGT009", 6, 7), ("AGT009", 9, 1), ("AGT009", 13, 12)]
    messages = [m for *_, m in found]
    assert 'is not a protobuf duration: GitLab rejects it (write "3600s")' in messages[0]
    assert "did you mean 'adopt_all'?" in messages[1]
    assert "exactly one of branch, commit, tag" in messages[2]
    assert "starboard was removed in GitLab 16.0" in messages[3]
    assert "verbose" in messages[4]


def test_gitlab_version_decides_which_keys_exist(tmp_path: Path) -> None:
    text = "ci_access:\n  projects:\n    - id: acme/app\n      protected_branches_only: true\n"
    assert findings(tmp_path, {".gitlab/agents/a/config.yaml": text}, select="AGT009") == []
    old = findings(tmp_path, {".gitlab/agents/a/config.yaml": text}, gitlab="16.5", select="AGT009")
    assert [(r, line) for r, line, _, _ in old] == [("AGT009", 4)] and "since GitLab 17.3" in old[0][3]


def test_agent_config_type_required_pattern_unknown_at_exact_positions(tmp_path: Path) -> None:
    text = ("ci_access:\n  projects:\n    - default_namespace: apps\n  groups:\n    - id: acme\n"
            "      protected_branches_only: \"yes\"\ncontainer_scanning:\n  cadence: '0 0 * * *'\n"
            "  scanner_timeout: 15m\nflux:\n  webhook-receiver-url: http://x\n")
    found = findings(tmp_path, {".gitlab/agents/prod/config.yaml": text}, select="AGT009,TYP001")
    assert [(r, line, col) for r, line, col, _ in found] == [
        ("AGT009", 3, 7),    # required: `id` missing in the project entry (points at the entry)
        ("TYP001", 6, 32),   # type: a quoted "yes" is a string, not a boolean
        ("AGT009", 9, 20),   # pattern: 15m is no protobuf duration
        ("AGT009", 11, 3),   # unknown key: kebab-case is not accepted
    ]
    messages = [m for *_, m in found]
    assert "required field 'id' is missing" in messages[0]
    assert '(write "900s")' in messages[2]
    assert "did you mean 'webhook_receiver_url'?" in messages[3]


def test_compiled_fast_path_agrees_with_jsonschema(monkeypatch: pytest.MonkeyPatch) -> None:
    """After FAST_AFTER uses a schema is compiled; valid objects pass it, invalid ones are still fully explained."""
    from gitops_lint import schema as schema_module

    monkeypatch.setattr(schema_module, "PLAIN_BUDGET", 0.0)  # as when plainly_valid has spent its time
    from gitops_lint.schema import SchemaValidator
    from gitops_lint.schema_index import flux_schema

    validator = SchemaValidator(flux_schema("2.9", "source.toolkit.fluxcd.io", "GitRepository", "v1"))
    good = {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository", "metadata": {"name": "a"},
            "spec": {"interval": "10m", "url": "https://gitlab.com/a/b.git"}}
    bad = {**good, "spec": {"interval": "10 m", "url": "git@gitlab.com:a/b.git"}}
    before = validator.violations(bad)
    for _ in range(schema_module.FAST_AFTER + 1):
        assert validator.violations(good) == []
    assert validator.fast  # compiled by now
    # Validating never changes the object (fastjsonschema would fill in defaults such as spec.timeout).
    assert good["spec"] == {"interval": "10m", "url": "https://gitlab.com/a/b.git"}
    assert validator.violations(bad) == before and len(before) == 2


def _schemas_to_compare() -> list[tuple[str, dict]]:
    """Every Flux schema of the newest release, the agent config's, and our configuration file's."""
    from gitops_lint.schema_index import (agent_config_schema, config_file_schema, flux_index, flux_schema,
                                          newest_flux_release)

    release = newest_flux_release()
    found = []
    for key, entry in sorted(flux_index(release).items()):
        group, kind = key.split("/")
        for version, facts in sorted(entry["versions"].items()):
            schema = flux_schema(release, group, kind, version) if facts.get("served") else None
            if schema is not None:
                found.append((f"{kind}-{version}", schema))
    import json

    # Each node is judged on its own: the configuration's one $ref is inlined, so jsonschema can resolve it.
    text = json.dumps({k: v for k, v in config_file_schema().items() if k != "$defs"})
    for name, definition in config_file_schema()["$defs"].items():
        text = text.replace(json.dumps({"$ref": f"#/$defs/{name}"}), json.dumps(definition))
    config = json.loads(text)
    return [*found, ("agent-config", agent_config_schema()), ("gitops-lint-config", config)]


_STRINGS = ["", "main", "10m", "10 m", "1h30m", "https://gitlab.com/a/b.git", "git@gitlab.com:a/b.git", "${VAR}",
            "x" * 300, "a-b", "Ab", "v1", "flux-system"]
_SCALARS = [*_STRINGS, 0, 1, -1, 1.0, 1.5, 2**40, True, False, None]
_TYPED = {"string": _STRINGS, "integer": [0, 1, -1, 1.0, 65535, 2**40], "number": [0, 1.5, -2],
          "boolean": [True, False]}


def _instance(schema, draw, depth: int = 0):
    """A value shaped by `schema`, mostly right and sometimes wrong, chosen by hypothesis's `draw`."""
    from hypothesis import strategies as st

    if not isinstance(schema, dict) or depth > 6 or draw(st.integers(0, 14)) == 0:
        return draw(st.sampled_from([*_SCALARS, {}, [], {"x": 1}, ["a"]]))
    if schema.get("enum") and draw(st.integers(0, 3)):
        return draw(st.sampled_from(schema["enum"]))
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties") or {}
        keys = set(schema.get("required") or ()) if draw(st.integers(0, 5)) else set()
        if properties:
            keys |= set(draw(st.lists(st.sampled_from(sorted(properties)), max_size=4, unique=True)))
        out = {key: _instance(properties.get(key), draw, depth + 1) for key in sorted(keys)}
        if draw(st.integers(0, 4)) == 0:  # a key the schema may not know, or the one additionalProperties types
            extra = schema.get("additionalProperties")
            out[draw(st.sampled_from(["extra", "name", ""]))] = _instance(extra if isinstance(extra, dict) else {},
                                                                      draw, depth + 1)
        return out
    if kind == "array":
        return [_instance(schema.get("items"), draw, depth + 1) for _ in range(draw(st.integers(0, 3)))]
    return draw(st.sampled_from(_TYPED.get(kind, _SCALARS) if isinstance(kind, str) else _SCALARS))


def _subschemas(schema, found: list) -> list:
    """`schema` and every schema below it, through properties, items and additionalProperties."""
    if isinstance(schema, dict):
        found.append(schema)
        for sub in (schema.get("properties") or {}).values():
            _subschemas(sub, found)
        for key in ("items", "additionalProperties"):
            _subschemas(schema.get(key), found)
    return found


@pytest.mark.parametrize("name,schema", _schemas_to_compare(), ids=lambda v: v if isinstance(v, str) else "")
def test_plainly_valid_agrees_with_jsonschema(name: str, schema: dict) -> None:
    """What lets a small check skip jsonschema must judge as jsonschema does: never valid where it is not,
    and valid wherever jsonschema is, unless the schema has a keyword it leaves to jsonschema."""
    import jsonschema
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from gitops_lint.schema import plainly_valid

    deferred = ('"oneOf"', '"anyOf"', '"allOf"', '"not"', '"if"', '"$ref"', '"patternProperties"')
    nodes = _subschemas(schema, [])
    seen = {"valid": 0, "invalid": 0}

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(st.data())
    def agree(data) -> None:
        node = data.draw(st.sampled_from(nodes))
        instance = _instance(node, data.draw)
        expected = jsonschema.Draft202012Validator(node).is_valid(instance)
        seen["valid" if expected else "invalid"] += 1
        got = plainly_valid(node, instance)
        assert not got or expected, instance
        if not any(key in json_text(node) for key in deferred):
            assert got == expected, instance

    agree()
    assert seen["invalid"] and seen["valid"] > seen["invalid"] / 4, seen


def json_text(schema: dict) -> str:
    import json

    return json.dumps(schema)


def test_plainly_valid_on_the_json_schema_corner_cases() -> None:
    from gitops_lint.schema import plainly_valid

    assert plainly_valid({"type": "integer"}, 3) and plainly_valid({"type": "integer"}, 3.0)
    assert not plainly_valid({"type": "integer"}, True) and not plainly_valid({"type": "number"}, False)
    assert not plainly_valid({"enum": [1]}, True) and plainly_valid({"enum": [1]}, 1.0)
    assert not plainly_valid({"const": False}, 0)
    assert plainly_valid({"pattern": "b"}, "abc") and plainly_valid({"pattern": "^x"}, 5)
    assert plainly_valid({"maxLength": 1}, ["a", "b"]) and not plainly_valid({"maxItems": 1}, ["a", "b"])
    assert plainly_valid({"properties": {"a": False}}, {"b": 1}) and not plainly_valid({"properties": {"a": False}},
                                                                                         {"a": 1})
    assert not plainly_valid({"additionalProperties": False, "properties": {"a": {}}}, {"a": 1, "b": 2})
    assert not plainly_valid({"oneOf": [{}]}, 1)  # unknown to it: left to jsonschema
    # numbers of other types, and another draft, are left to jsonschema too
    from decimal import Decimal
    from fractions import Fraction

    assert not plainly_valid({"minimum": 1}, Fraction(1, 2)) and not plainly_valid({"maximum": 0.5}, Decimal(1))
    draft4 = {"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer"}
    assert not plainly_valid(draft4, 1.0) and not plainly_valid({"properties": {"n": draft4}}, {"n": 1.0})
    assert plainly_valid({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "integer"}, 1.0)
