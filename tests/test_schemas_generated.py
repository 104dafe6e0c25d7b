"""The shipped schemas: Flux schemas regenerate byte for byte, and both data sets say what they should."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from gitops_lint import schema_index
from tests.conftest import PROJECT, shared_path

FLUX = PROJECT / "schemas" / "flux"
AGENT_SCHEMA = PROJECT / "schemas" / "gitlab-agent" / "config.schema.json"
RELEASES = ("2.3", "2.4", "2.5", "2.6", "2.7", "2.8", "2.9")
HELM, NOTIFICATION, SOURCE, KUSTOMIZE = (f"{g}.toolkit.fluxcd.io" for g in ("helm", "notification", "source",
                                                                             "kustomize"))


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _walk(node: Any) -> Iterator[dict]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _schema_nodes(schema: Any) -> Iterator[dict]:
    """Schema objects only (not `default`/`enum`/`const` values, which are instance data)."""
    if not isinstance(schema, dict):
        return
    yield schema
    for key, value in schema.items():
        if key in ("properties", "patternProperties", "$defs"):
            for sub in value.values():
                yield from _schema_nodes(sub)
        elif key in ("items", "additionalProperties", "not", "if", "then", "else", "propertyNames"):
            yield from _schema_nodes(value)
        elif key in ("allOf", "anyOf", "oneOf", "prefixItems"):
            for sub in value:
                yield from _schema_nodes(sub)


def _flux_schema_files() -> list[Path]:
    return sorted(p for p in FLUX.rglob("*.json") if p.name not in ("index.json", "lifecycle.json", "SOURCES.json"))


# --------------------------------------------------------------------------- Flux: regeneration


def test_flux_schemas_regenerate_byte_for_byte(tmp_path):
    crds = shared_path("crds")
    result = subprocess.run(
        [sys.executable, str(PROJECT / "scripts" / "generate_schemas.py"),
         "--crds", str(crds), "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    fresh, committed = _files(tmp_path / "flux"), _files(FLUX)
    assert sorted(fresh) == sorted(committed), "run scripts/generate_schemas.py and commit schemas/flux"
    changed = [rel for rel in fresh if fresh[rel] != committed[rel]]
    assert not changed, f"out of date (run scripts/generate_schemas.py): {changed[:10]}"


def test_flux_tree_stays_small():
    size = sum(p.stat().st_size for p in FLUX.rglob("*") if p.is_file())
    assert size < 15 * 1024 * 1024


def test_flux_output_is_canonical_json():
    for path in [*FLUX.rglob("*.json")]:
        text = path.read_text(encoding="utf-8")
        assert text == json.dumps(json.loads(text), indent=1, sort_keys=True, ensure_ascii=False) + "\n", path


# --------------------------------------------------------------------------- Flux: data


@pytest.mark.parametrize("release", RELEASES)
def test_every_release_has_the_core_kinds(release):
    index = schema_index.flux_index(release)
    for key in ("source.toolkit.fluxcd.io/GitRepository", "kustomize.toolkit.fluxcd.io/Kustomization",
                "helm.toolkit.fluxcd.io/HelmRelease", "notification.toolkit.fluxcd.io/Receiver",
                "notification.toolkit.fluxcd.io/Provider", "notification.toolkit.fluxcd.io/Alert",
                "source.toolkit.fluxcd.io/OCIRepository"):
        group, kind = key.split("/")
        served = [v for v, info in schema_index.flux_versions(release, group, kind).items() if info["served"]]
        assert served, f"{key} not served in {release}"
        assert key in index
        for version in served:
            schema = schema_index.flux_schema(release, group, kind, version)
            assert schema["properties"]["apiVersion"]["const"] == f"{group}/{version}"
            assert schema["properties"]["kind"]["const"] == kind


def test_releases_are_listed_in_order():
    assert schema_index.flux_releases() == RELEASES


def test_helmrelease_v2beta1_deprecated_in_2_6_removed_in_2_7():
    old = schema_index.flux_versions("2.6", HELM, "HelmRelease")["v2beta1"]
    assert old["served"] and old["deprecated"]
    schema = schema_index.flux_schema("2.6", HELM, "HelmRelease", "v2beta1")
    assert schema["deprecated"] is True
    assert "deprecated" in schema["x-deprecation-warning"]
    gone = schema_index.flux_versions("2.7", HELM, "HelmRelease")["v2beta1"]
    assert not gone["served"] and gone["removed_in"] == "2.7" and gone["file"] is None
    assert schema_index.flux_schema("2.7", HELM, "HelmRelease", "v2beta1") is None
    life = schema_index.lifecycle(HELM, "HelmRelease", "v2beta1")
    assert life["removed_in"] == "2.7" and "2.6" in life["deprecated_in"] and "2.7" not in life["served_in"]


def test_receiver_v1beta2_removed_in_2_9():
    assert schema_index.flux_versions("2.8", NOTIFICATION, "Receiver")["v1beta2"]["served"]
    assert not schema_index.flux_versions("2.9", NOTIFICATION, "Receiver")["v1beta2"]["served"]
    assert schema_index.lifecycle(NOTIFICATION, "Receiver", "v1beta2")["removed_in"] == "2.9"


def test_lifecycle_matches_the_reference_table():
    """domain.md §B.1, as far as releases 2.3-2.9 can tell."""
    expect = {
        (SOURCE, "GitRepository", "v1beta1"): "2.7", (SOURCE, "GitRepository", "v1beta2"): "2.8",
        (SOURCE, "OCIRepository", "v1beta2"): "2.8", (KUSTOMIZE, "Kustomization", "v1beta2"): "2.8",
        (HELM, "HelmRelease", "v2beta2"): "2.8", (NOTIFICATION, "Provider", "v1beta2"): "2.9",
        (NOTIFICATION, "Alert", "v1beta1"): "2.7", ("image.toolkit.fluxcd.io", "ImagePolicy", "v1beta2"): "2.9",
    }
    for (group, kind, version), removed in expect.items():
        assert schema_index.lifecycle(group, kind, version)["removed_in"] == removed, (kind, version)
    assert schema_index.lifecycle(SOURCE, "OCIRepository", "v1")["first_served"] == "2.6"
    assert schema_index.lifecycle(SOURCE, "Bucket", "v1")["first_served"] == "2.4"
    assert schema_index.lifecycle(SOURCE, "ExternalArtifact", "v1")["first_served"] == "2.7"
    assert schema_index.lifecycle("image.toolkit.fluxcd.io", "ImageRepository", "v1")["first_served"] == "2.7"
    assert schema_index.lifecycle(HELM, "HelmRelease", "v2")["removed_in"] is None
    assert schema_index.lifecycle(HELM, "HelmRelease", "v1") == {}


def test_no_description_anywhere():
    for path in _flux_schema_files():
        for node in _walk(json.loads(path.read_text(encoding="utf-8"))):
            assert "description" not in node, path


def test_cel_validations_are_kept():
    schema = schema_index.flux_schema("2.9", HELM, "HelmRelease", "v2")
    rules = schema["properties"]["spec"]["x-kubernetes-validations"]
    assert any("chartRef" in r["rule"] and r["message"] == "either chart or chartRef must be set" for r in rules)
    total = sum(len(node.get("x-kubernetes-validations", ())) for path in _flux_schema_files()
                for node in _schema_nodes(json.loads(path.read_text(encoding="utf-8"))))
    assert total > 50


def test_constraints_are_kept():
    spec = schema_index.flux_schema("2.9", SOURCE, "GitRepository", "v1")["properties"]["spec"]
    assert spec["required"] == ["interval", "url"]
    assert spec["properties"]["url"]["pattern"] == "^(http|https|ssh)://.*$"
    assert spec["properties"]["timeout"] == {"default": "60s", "pattern": "^([0-9]+(\\.[0-9]+)?(ms|s|m))+$",
                                             "type": "string"}
    assert spec["properties"]["provider"]["enum"] == ["generic", "aws", "azure", "github"]
    hr = schema_index.flux_schema("2.9", HELM, "HelmRelease", "v2")["properties"]["spec"]["properties"]
    assert hr["releaseName"] == {"maxLength": 53, "minLength": 1, "type": "string"}
    values = hr["values"]
    assert values.get("x-kubernetes-preserve-unknown-fields") is True


def test_every_flux_schema_is_a_valid_2020_12_schema():
    from jsonschema import Draft202012Validator

    files = _flux_schema_files()
    assert len(files) > 150
    for text in sorted({path.read_text(encoding="utf-8") for path in files}):  # releases share many schemas
        Draft202012Validator.check_schema(json.loads(text))


def test_generator_converts_openapi_only_keywords():
    sys.path.insert(0, str(PROJECT / "scripts"))
    try:
        import generate_schemas
    finally:
        sys.path.pop(0)
    node = {"type": "string", "nullable": True, "enum": ["a"], "description": "x",
            "properties": {"n": {"type": "integer", "minimum": 0, "exclusiveMinimum": True, "description": "y"},
                           "description": {"x-kubernetes-int-or-string": True}},
            "x-kubernetes-validations": [{"rule": "self.a", "messageExpression": "'m'", "reason": "FieldValueInvalid",
                                          "fieldPath": ".a"}]}
    assert generate_schemas.convert(node) == {
        "type": ["string", "null"], "enum": ["a", None],
        "properties": {"n": {"type": "integer", "exclusiveMinimum": 0},
                       "description": {"x-kubernetes-int-or-string": True, "type": ["integer", "string"]}},
        "x-kubernetes-validations": [{"rule": "self.a", "messageExpression": "'m'", "reason": "FieldValueInvalid",
                                      "fieldPath": ".a"}]}


# --------------------------------------------------------------------------- GitLab agent config


@pytest.fixture(scope="module")
def agent_validator():
    from jsonschema import Draft202012Validator

    schema = json.loads(AGENT_SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema_index.agent_config_schema() == schema
    return Draft202012Validator(schema)


def _errors(validator, instance) -> list[str]:
    return [e.message for e in validator.iter_errors(instance)]


def test_agent_schema_accepts_the_reference_examples(agent_validator):
    folder = shared_path("reference", "examples")
    files = sorted(folder.glob("0[1-5]-agent-config-*.yaml"))
    if not files:
        pytest.skip("no agent config examples")
    for path in files:
        assert _errors(agent_validator, yaml.safe_load(path.read_text(encoding="utf-8"))) == [], path.name


@pytest.mark.parametrize("config", [
    None, {}, {"flux": None}, {"flux": {}},
    {"gitops": {"manifest_projects": [{"id": "a/b", "ref": {"tag": "v1"}, "reconcile_timeout": "3600s",
                                       "prune_timeout": ".5s", "dry_run_strategy": "",
                                       "paths": [{"glob": "*.yaml"}]}]}},
    {"gitops": {"manifest_projects": [{"ref": None}, {"ref": {"commit": "abc", "branch": None}}]}},
    {"observability": {"logging": {"level": 1, "grpc_level": "warn"}}},
    {"ci_access": {"projects": [{"id": "a", "access_as": {"impersonate": {"username": "u", "groups": ["g"],
                                                                           "extra": [{"key": "k", "val": ["v"]}]}}}],
                   "groups": [{"id": "g", "access_as": {"agent": {}}}]}},
    {"user_access": {"access_as": {"agent": {}}, "projects": [{"id": "p"}]}},
    {"remote_development": {"enabled": True, "dns_zone": "ws.example.dev", "workspaces_quota": "-1",
                            "allow_privilege_escalation": True, "default_runtime_class": "kata",
                            "labels": {"example.com/team": "a", "tier": ""}}},
    {"container_scanning": {"cadence": "0 0 * * *", "report_max_size": "300000000", "delete_report_artifact": False}},
    # Removed keys are known (the validator reports them by GitLab version), not unknown.
    {"starboard": {"cadence": "0 0 * * *"}, "cilium": {"hubble_relay_address": "hubble:80"}},
])
def test_agent_schema_accepts(agent_validator, config):
    assert _errors(agent_validator, config) == []


@pytest.mark.parametrize("config", [
    {"gitops": {"manifest_projects": [{"id": "x", "reconcile_timeout": "1h"}]}},
    {"gitops": {"manifest_projects": [{"prune_timeout": 3600}]}},
    {"gitops": {"manifest_projects": [{"id": ""}]}},
    {"gitops": {"manifest_projects": [{"ref": {"branch": "main", "tag": "v1"}}]}},
    {"gitops": {"manifest_projects": [{"ref": {}}]}},
    {"gitops": {"manifest_projects": [{"ref": {"branch": ""}}]}},
    {"gitops": {"manifest_projects": [{"paths": [{}]}]}},
    {"gitops": {"manifest_projects": [{"paths": [{"glob": None}]}]}},
    {"gitops": {"manifest_projects": [{"dry_run_strategy": "Server"}]}},
    {"gitops": {"manifest_projects": [{"inventory_policy": "adopt"}]}},
    {"gitops": {"manifestProjects": []}},
    {"unknown_key": {}},
    {"workspaces": {}},
    {"flux": {"webhookReceiverUrl": "http://x"}},
    {"observability": {"logging": {"level": "trace"}}},
    {"ci_access": {"projects": [{}]}},
    {"ci_access": {"projects": [{"id": str(i)} for i in range(501)]}},
    {"ci_access": {"groups": [{"id": "g", "access_as": {"agent": {}, "ci_job": {}}}]}},
    {"ci_access": {"projects": [{"id": "a", "access_as": {"impersonate": {}}}]}},
    {"ci_access": {"projects": [{"id": "a", "environments": [""]}]}},
    {"user_access": {"access_as": {"agent": {}, "user": {}}}},
    {"user_access": {"groups": [{"id": "g"}] * 501}},
    {"container_scanning": {"vulnerability_report": {"namespaces": ["default"]}}},
    {"container_scanning": {"cadence": "@daily", "scanner_timeout": "1h"}},
    {"remote_development": {"workspaces_quota": -2}},
    {"remote_development": {"allow_privilege_escalation": True}},
    {"remote_development": {"labels": {"app.kubernetes.io/name": "x"}}},
    {"remote_development": {"default_resources_per_workspace_container": {"requests": {"cpu": "1"}}}},
])
def test_agent_schema_rejects(agent_validator, config):
    assert _errors(agent_validator, config)


def test_agent_schema_lifecycle_keywords():
    props = schema_index.agent_config_schema()["properties"]
    assert props["gitops"]["x-gitlab-deprecated"] == "16.2" and props["gitops"]["x-gitlab-removed"] == "17.0"
    assert props["starboard"]["x-gitlab-removed"] == "16.0"
    assert props["cilium"]["x-gitlab-removed"] == "15.0"
    assert props["flux"]["x-gitlab-since"] == "16.1" and props["user_access"]["x-gitlab-since"] == "16.1"
    rd = props["remote_development"]["properties"]
    assert rd["default_max_hours_before_termination"]["x-gitlab-removed"] == "18.0"
    assert rd["partial_sync_interval"]["x-gitlab-removed"] == "17.0"


def test_agent_schema_is_closed_everywhere():
    """Every object with properties closes its keys (protojson rejects unknown ones); keys are snake_case."""
    def objects(node: dict) -> Iterator[dict]:
        yield node
        for sub in (node.get("properties") or {}).values():
            yield from objects(sub)
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                yield from objects(node[key])

    seen = 0
    for node in objects(schema_index.agent_config_schema()):
        if "properties" in node:
            seen += 1
            assert node.get("additionalProperties") is False, sorted(node["properties"])
            for key in node["properties"]:
                assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", key), key
    assert seen > 30


def test_generator_can_share_identical_schemas(monkeypatch):
    """Above the size limit, identical schemas are stored once under _shared/ and the indexes point there."""
    crds = shared_path("crds")
    sys.path.insert(0, str(PROJECT / "scripts"))
    try:
        import generate_schemas
    finally:
        sys.path.pop(0)
    monkeypatch.setattr(generate_schemas, "SHARE_ABOVE_BYTES", 0)
    files = generate_schemas.build(crds)
    shared = [rel for rel in files if rel.startswith("_shared/")]
    per_release = [rel for rel in files if rel.count("/") == 2]
    assert shared and not per_release
    index = json.loads(files["2.9/index.json"])
    for entry in index.values():
        for info in entry["versions"].values():
            assert info["file"] is None or info["file"] in files
    assert json.loads(files["2.8/index.json"])["helm.toolkit.fluxcd.io/HelmRelease"]["versions"]["v2"]["file"] \
        .startswith("_shared/")
