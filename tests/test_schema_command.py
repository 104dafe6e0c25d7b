"""`gitops-lint schema` prints the schemas editors use, the catalogue maps files to them, and an editor
validating agent configs with the schema reaches gitops-lint's verdicts."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from wcmatch import glob

from gitops_lint.cli import main
from gitops_lint.schema_index import flux_schema, flux_versions
from tests.conftest import PROJECT, shared_path, write_tree

SCHEMAS = PROJECT / "schemas"


def schema(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["schema", *args])
    return result.exit_code, result.output


def test_the_agent_config_and_config_schemas_are_the_shipped_files() -> None:
    for name, file in (("agent-config", "gitlab-agent/config.schema.json"), ("config", "config.schema.json")):
        code, out = schema(name)
        assert code == 0 and json.loads(out) == json.loads((SCHEMAS / file).read_text())


@pytest.mark.parametrize(("asked", "release", "version"), [
    (["Kustomization"], "2.9", "v1"),
    (["gitrepository", "--flux-version", "2.3"], "2.3", "v1"),
    (["source.toolkit.fluxcd.io/v1beta2/GitRepository", "--flux-version", "2.3"], "2.3", "v1beta2"),
    (["helm.toolkit.fluxcd.io/HelmRelease", "--flux-version", "2.5", "--api-version", "v2beta2"], "2.5", "v2beta2"),
])
def test_a_flux_kind_by_name_group_or_version(asked: list[str], release: str, version: str) -> None:
    code, out = schema("flux", *asked)
    assert code == 0, out
    printed = json.loads(out)
    kind = asked[0].split("/")[-1].lower()
    group = {"kustomization": "kustomize.toolkit.fluxcd.io", "gitrepository": "source.toolkit.fluxcd.io",
             "helmrelease": "helm.toolkit.fluxcd.io"}[kind]
    proper = next(k for k in ("Kustomization", "GitRepository", "HelmRelease") if k.lower() == kind)
    assert version in flux_versions(release, group, proper)
    assert printed == flux_schema(release, group, proper, version)


def test_the_printed_schema_judges_objects_as_the_api_server_would() -> None:
    code, out = schema("flux", "GitRepository")
    validator = jsonschema.Draft202012Validator(json.loads(out))
    good = {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
            "metadata": {"name": "app"}, "spec": {"interval": "5m", "url": "https://gitlab.com/acme/app.git"}}
    assert not list(validator.iter_errors(good))
    bad = {**good, "spec": {"interval": "5 minutes", "url": "https://gitlab.com/acme/app.git"}}
    assert [e.json_path for e in validator.iter_errors(bad)] == ["$.spec.interval"]


@pytest.mark.parametrize(("args", "message"), [
    (["flux", "Nope"], "no Flux kind 'Nope' (Flux kinds: Alert, Bucket,"),
    (["flux", "Kustomization", "--api-version", "v1beta2"], "does not serve kustomize.toolkit.fluxcd.io/v1beta2"),
    (["flux"], "a Flux kind is given with `flux` only"),
    (["config", "Kustomization"], "a Flux kind is given with `flux` only"),
    (["config", "--flux-version", "2.6"], "apply to `flux KIND` only"),
    (["flux", "Kustomization", "--flux-version", "1.0"], "is not a Flux release"),
])
def test_what_does_not_exist_is_a_usage_error(args: list[str], message: str) -> None:
    code, out = schema(*args)
    assert code == 2 and message in out, out


def test_the_catalogue_maps_files_to_the_shipped_schemas() -> None:
    """SchemaStore's format: each `url` is the `$id` of a schema in `schemas/`, each `fileMatch` finds its files."""
    catalogue = json.loads((SCHEMAS / "catalog.json").read_text())
    assert catalogue["$schema"] == "https://json.schemastore.org/schema-catalog.json" and catalogue["version"] == 1
    by_id = {json.loads(p.read_text()).get("$id"): p.relative_to(SCHEMAS).as_posix() for p in SCHEMAS.rglob("*.json")}
    shipped = {entry["url"]: by_id.get(entry["url"]) for entry in catalogue["schemas"]}
    assert shipped == {"https://gitops-lint.dev/schemas/gitlab-agent/config.schema.json": "gitlab-agent/config.schema.json",
                       "https://gitops-lint.dev/schemas/config.schema.json": "config.schema.json"}
    for entry in catalogue["schemas"]:
        assert entry["name"] and entry["description"] and set(entry) == {"name", "description", "fileMatch", "url"}

    def matched(path: str) -> list[str]:
        return [by_id[e["url"]] for e in catalogue["schemas"]
                if glob.globmatch(path, e["fileMatch"], flags=glob.GLOBSTAR | glob.DOTGLOB)]

    assert matched(".gitlab/agents/prod/config.yaml") == ["gitlab-agent/config.schema.json"]
    assert matched("infra/.gitlab/agents/prod/config.yaml") == ["gitlab-agent/config.schema.json"]
    assert matched(".gitops-lint.yaml") == matched("sub/.gitops-lint.yml") == ["config.schema.json"]
    assert matched(".gitlab/agents/prod/other.yaml") == matched("clusters/config.yaml") == []


def test_an_editor_with_the_schema_reaches_agt009s_verdict_on_every_shared_agent_config(tmp_path: Path,
                                                                                         monkeypatch) -> None:
    if shutil.which("check-jsonschema") is None:
        try:
            import check_jsonschema  # noqa: F401
        except ImportError:
            pytest.skip("check-jsonschema is not installed")
    configs = sorted(shared_path("corpus", "_agent_configs").glob("*.yaml"))
    assert len(configs) > 50
    root = tmp_path / "repo"
    by_rel = {}
    for number, config in enumerate(configs):
        rel = f".gitlab/agents/agent-{number:03}/config.yaml"
        write_tree(root, {rel: config.read_bytes()})
        by_rel[rel] = config.name
    (root / ".git").mkdir()
    monkeypatch.chdir(root)
    result = CliRunner().invoke(main, ["check", "--isolated", "--no-cache", "--format", "json", "."])
    judged = {"AGT009", "TYP001"}
    ours = {by_rel[d["path"]] for d in json.loads(result.stdout)["diagnostics"]
            if d["path"] in by_rel and d["severity"] == "error" and (d["rule"] in judged or d["rule"].startswith("YAML"))}
    editor = subprocess.run([sys.executable, "-m", "check_jsonschema", "--output-format", "json", "--schemafile",
                             str(SCHEMAS / "gitlab-agent/config.schema.json"), *map(str, configs)],
                            capture_output=True, text=True, timeout=300)
    report = json.loads(editor.stdout)
    theirs = {Path(e["filename"]).name for e in [*report["errors"], *report["parse_errors"]]}
    assert ours == theirs, {"only gitops-lint": sorted(ours - theirs), "only check-jsonschema": sorted(theirs - ours)}
    assert 0 < len(ours) < len(configs)  # real mistakes on both sides of the verdict
