"""`compile --oci DIR`: Flux OCI artifacts of the compiled manifests, in an OCI image layout, reproducible,
with the objects that consume them."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from gitops_lint.cli import main
from gitops_lint.compile.oci import CONFIG_MEDIA_TYPE, CONTENT_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, content_layer
from tests.conftest import FLUX_SYNC, PROJECT, shared_path, write_tree


def fleet(root: Path) -> Path:
    """A clean repository: a bootstrap, and an app whose build reads a base elsewhere (`../base`)."""
    return write_tree(root, {
        "clusters/prod/flux-system/gotk-sync.yaml": FLUX_SYNC,
        "clusters/prod/flux-system/kustomization.yaml": "resources:\n  - gotk-sync.yaml\n",
        "clusters/prod/kustomization.yaml": "resources:\n  - flux-system\n  - apps.yaml\n",
        "clusters/prod/apps.yaml": (
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n"
            "  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps/prod\n  prune: true\n"
            "  targetNamespace: web\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"),
        "apps/prod/kustomization.yaml": "resources:\n  - ../base\n",
        "apps/base/kustomization.yaml": "resources:\n  - config.yaml\n",
        "apps/base/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hello\ndata:\n  a: b\n",
    })


def blob(layout: Path, digest: str) -> bytes:
    return (layout / "blobs" / "sha256" / digest.split(":", 1)[1]).read_bytes()


def artifacts(layout: Path) -> dict[str, dict]:
    index = json.loads((layout / "index.json").read_text())
    return {m["annotations"]["org.opencontainers.image.ref.name"]: json.loads(blob(layout, m["digest"]))
            for m in index["manifests"]}


def unpack(layout: Path, manifest: dict) -> dict[str, bytes]:
    layer = blob(layout, manifest["layers"][0]["digest"])
    with tarfile.open(fileobj=io.BytesIO(layer), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def compile_oci(root: Path, layout: Path, *extra: str) -> str:
    result = CliRunner().invoke(main, ["compile", "--isolated", "--oci", str(layout), *extra, str(root)])
    assert result.exit_code == 0, result.output
    return result.output


def test_each_flux_kustomization_folder_is_an_artifact_that_builds_on_its_own(tmp_path: Path) -> None:
    root = fleet(tmp_path / "fleet")
    layout = tmp_path / "layout"
    compile_oci(root, layout)
    assert json.loads((layout / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    found = artifacts(layout)
    assert set(found) == {"apps-prod", "clusters-prod"}
    # apps/prod names ../base: the artifact holds both, rooted at apps/
    assert set(unpack(layout, found["apps-prod"])) == {"prod/kustomization.yaml", "base/kustomization.yaml",
                                                         "base/config.yaml"}


def test_an_artifact_unpacks_to_exactly_the_compiled_manifests(tmp_path: Path) -> None:
    """Built from `examples/`: every unit's files are the compiled output's, byte for byte, under one root,
    and every compiled file of the unit's folder is in it."""
    root = Path(shutil.copytree(PROJECT / "examples", tmp_path / "examples"))
    compiled, layout = tmp_path / "compiled", tmp_path / "layout"
    result = CliRunner().invoke(main, ["compile", "--isolated", "--force", "-o", str(compiled), "--oci", str(layout),
                                       str(root)])
    assert result.exit_code in (0, 1), result.output
    folders = dict(re.findall(r"artifact (\S+): (\S+) \(", result.output))
    found = artifacts(layout)
    assert set(found) == set(folders) and found
    for name, manifest in found.items():
        files = unpack(layout, manifest)
        # the artifact's root: the folder of the compiled output its files sit under
        roots = [p for p in [compiled, *compiled.rglob("*")] if p.is_dir()
                 and all((p / rel).is_file() and (p / rel).read_bytes() == data for rel, data in files.items())]
        assert roots, name
        folder = compiled / folders[name]
        assert {p for p in folder.rglob("*") if p.is_file()} <= {r / rel for r in roots for rel in files}, name


def test_manifest_and_config_follow_fluxs_format(tmp_path: Path) -> None:
    """fluxcd/pkg oci/client/push.go, oci/constants.go, oci/meta.go; go-containerregistry's empty image."""
    root = fleet(tmp_path / "fleet")
    layout = tmp_path / "layout"
    compile_oci(root, layout)
    manifest = artifacts(layout)["apps-prod"]
    assert list(manifest) == ["schemaVersion", "mediaType", "config", "layers", "annotations"]
    assert manifest["schemaVersion"] == 2 and manifest["mediaType"] == MANIFEST_MEDIA_TYPE
    assert manifest["config"]["mediaType"] == CONFIG_MEDIA_TYPE == "application/vnd.cncf.flux.config.v1+json"
    (layer,) = manifest["layers"]
    assert layer["mediaType"] == CONTENT_MEDIA_TYPE == "application/vnd.cncf.flux.content.v1.tar+gzip"
    assert set(manifest["annotations"]) == {"org.opencontainers.image.created", "org.opencontainers.image.source",
                                            "org.opencontainers.image.revision"}
    for descriptor in (manifest["config"], layer):
        data = blob(layout, descriptor["digest"])
        assert descriptor["size"] == len(data) and descriptor["digest"] == "sha256:" + hashlib.sha256(data).hexdigest()
    config = json.loads(blob(layout, manifest["config"]["digest"]))
    tar = gzip.decompress(blob(layout, layer["digest"]))
    assert config == {"architecture": "", "created": "0001-01-01T00:00:00Z",
                      "history": [{"created": "0001-01-01T00:00:00Z"}], "os": "",
                      "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]},
                      "config": {}}
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        for member in archive.getmembers():  # nothing of the machine that built it
            assert (member.uid, member.gid, member.uname, member.gname) == (0, 0, "", "")
            assert member.mode == (0o755 if member.isdir() else 0o644)


def test_the_same_input_gives_the_same_digests_on_every_run(tmp_path: Path) -> None:
    """Two runs in different folders with different hash seeds: byte-identical layouts."""
    layouts = []
    for index, seed in enumerate(("1", "4242")):
        root = fleet(tmp_path / f"copy-{index}" / "fleet")
        layout = tmp_path / f"layout-{index}"
        env = {**os.environ, "PYTHONHASHSEED": seed, "SOURCE_DATE_EPOCH": "1700000000"}
        run = subprocess.run([sys.executable, "-m", "gitops_lint", "compile", "--isolated", "--oci", str(layout),
                              str(root)], capture_output=True, text=True, env=env, timeout=120)
        assert run.returncode == 0, run.stderr
        layouts.append(layout)
    first, second = ({p.relative_to(layout).as_posix(): p.read_bytes() for p in layout.rglob("*") if p.is_file()}
                     for layout in layouts)
    assert first == second
    created = {m["annotations"]["org.opencontainers.image.created"] for m in artifacts(layouts[0]).values()}
    assert created == {"2023-11-14T22:13:20Z"}  # SOURCE_DATE_EPOCH, not the time of the run


def test_the_layer_is_reproducible_whatever_order_files_come_in() -> None:
    files = {"b/x.yaml": b"x", "a.yaml": b"a", "b/c/y.yaml": b"y"}
    assert content_layer(files, 0) == content_layer(dict(reversed(list(files.items()))), 0)


def test_the_consuming_objects_are_clean_for_check(tmp_path: Path) -> None:
    root = fleet(tmp_path / "fleet")
    layout = tmp_path / "layout"
    compile_oci(root, layout, "--oci-url", "oci://registry.gitlab.example.com/acme/fleet")
    objects = (layout / "flux" / "apps-prod.yaml").read_text()
    digest = {name: m for name, m in artifacts(layout).items()}
    assert "url: oci://registry.gitlab.example.com/acme/fleet/apps-prod" in objects
    assert "operation: extract" in objects and "targetNamespace: web" in objects and "path: ./prod" in objects
    index = json.loads((layout / "index.json").read_text())
    assert [m["digest"] for m in index["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"]
            == "apps-prod"][0] in objects
    result = CliRunner().invoke(main, ["check", "--isolated", "--no-cache", "--format", "json",
                                       str(layout / "flux")])
    report = json.loads(result.output)
    assert [d for d in report["diagnostics"] if d["severity"] != "info"] == [], report["diagnostics"]
    assert digest


def test_configured_units(tmp_path: Path) -> None:
    root = fleet(tmp_path / "fleet")
    write_tree(root, {".gitops-lint.yaml": "oci-units:\n  - name: base\n    path: apps/base\n"})
    layout = tmp_path / "layout"
    result = CliRunner().invoke(main, ["compile", "--config", str(root / ".gitops-lint.yaml"), "--oci", str(layout),
                                       str(root)])
    assert result.exit_code == 0, result.output
    found = artifacts(layout)
    assert set(found) == {"base"} and set(unpack(layout, found["base"])) == {"kustomization.yaml", "config.yaml"}


def test_no_output_named_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["compile", "--isolated", str(fleet(tmp_path / "fleet"))])
    assert result.exit_code == 2 and "--oci DIR" in result.output


def test_every_unit_of_a_real_repository(tmp_path: Path) -> None:
    corpus = shared_path("corpus", "fluxcd+flux2-kustomize-helm-example")
    root = Path(shutil.copytree(corpus, tmp_path / "repo", ignore=shutil.ignore_patterns(".git")))
    layout = tmp_path / "layout"
    output = compile_oci(root, layout)
    found = artifacts(layout)
    assert len(found) >= 3 and all(unpack(layout, m) for m in found.values())
    print(output)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture()
def registry(tmp_path: Path):
    """A real registry on the loopback address: Debian's docker-registry (`.ci/run` installs it)."""
    import time
    import urllib.request

    binary = shutil.which("docker-registry") or shutil.which("registry")
    if binary is None:
        pytest.skip("docker-registry is not installed (Debian: apt-get install docker-registry)")
    port = _free_port()
    config = tmp_path / "registry.yml"
    config.write_text(f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {tmp_path / 'data'}\n"
                      f"http:\n  addr: 127.0.0.1:{port}\n")
    server = subprocess.Popen([binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the registry did not start: " + server.stderr.read(2000).decode(errors="replace"))
        yield f"127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_push_to_a_real_registry_and_pull_back(tmp_path: Path, registry: str) -> None:
    import urllib.request

    root = fleet(tmp_path / "fleet")
    layout = tmp_path / "layout"
    output = compile_oci(root, layout, "--push", f"oci://{registry}/acme/fleet", "--oci-tag", "v1")
    local = artifacts(layout)
    index = {m["annotations"]["org.opencontainers.image.ref.name"]: m["digest"]
             for m in json.loads((layout / "index.json").read_text())["manifests"]}
    for name, digest in index.items():
        assert f"pushed oci://{registry}/acme/fleet/{name}@{digest}" in output
        request = urllib.request.Request(f"http://{registry}/v2/acme/fleet/{name}/manifests/v1",
                                         headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        assert "sha256:" + hashlib.sha256(body).hexdigest() == digest  # the registry holds our very bytes
        manifest = json.loads(body)
        assert manifest == local[name]
        layer = manifest["layers"][0]["digest"]
        with urllib.request.urlopen(f"http://{registry}/v2/acme/fleet/{name}/blobs/{layer}", timeout=10) as response:
            pulled = response.read()
        with tarfile.open(fileobj=io.BytesIO(pulled), mode="r:gz") as tar:
            assert {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()} == unpack(layout, manifest)
    # the consuming objects name where it was pushed
    assert f"url: oci://{registry}/acme/fleet/apps-prod" in (layout / "flux" / "apps-prod.yaml").read_text()


def test_a_registry_that_cannot_be_reached_is_an_error_with_no_secret(tmp_path: Path) -> None:
    root = fleet(tmp_path / "fleet")
    result = CliRunner().invoke(main, ["compile", "--isolated", "--oci", str(tmp_path / "layout"), "--push",
                                       f"oci://127.0.0.1:{_free_port()}/acme", "--creds", "robot:s3cret-token",
                                       str(root)])
    assert result.exit_code == 2 and "push:" in result.output and "Traceback" not in result.output
    assert "s3cret-token" not in result.output


def test_the_ci_component_pushes_with_the_jobs_own_credentials(tmp_path: Path, registry: str) -> None:
    """The oci job's script, run as GitLab would on the default branch, against a loopback registry."""
    import yaml

    header, job = yaml.safe_load_all((PROJECT / "templates/gitops-lint-oci.yml").read_text())
    (definition,) = job.values()
    assert definition["rules"] == [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"}]
    inputs = {name: spec.get("default", "") for name, spec in header["spec"]["inputs"].items()}
    script = [line for line in definition["script"] if "pip install" not in line]
    for name, value in inputs.items():
        script = [line.replace(f"$[[ inputs.{name} ]]", str(value)) for line in script]
    repo = fleet(tmp_path / "repo")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "CI_REGISTRY": registry, "CI_REGISTRY_IMAGE": f"{registry}/acme/fleet", "CI_REGISTRY_USER": "gitlab-ci-token",
           "CI_REGISTRY_PASSWORD": "job-token-not-to-be-printed"}
    run = subprocess.run(["bash", "-ec", "\n".join(script)], cwd=repo, capture_output=True, text=True, env=env,
                         timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"pushed oci://{registry}/acme/fleet/flux/apps-prod@sha256:" in run.stderr
    assert "job-token-not-to-be-printed" not in run.stdout + run.stderr
    assert (repo / "gitops-lint-oci" / "flux" / "apps-prod.yaml").is_file()


def test_registry_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    from gitops_lint.compile.oci import registry_credentials

    monkeypatch.setenv("CI_REGISTRY", "registry.gitlab.com")
    monkeypatch.setenv("CI_REGISTRY_USER", "gitlab-ci-token")
    monkeypatch.setenv("CI_REGISTRY_PASSWORD", "t")
    assert registry_credentials("registry.gitlab.com", None) == ("gitlab-ci-token", "t")
    assert registry_credentials("ghcr.io", None) is None  # the job's token is for its own registry only
    assert registry_credentials("ghcr.io", "me:p:w") == ("me", "p:w")


def test_provenance_names_the_branch_as_flux_does_and_gitlab_cis_detached_checkout_too(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gitops_lint.compile.oci import _git_facts, default_tag, provenance

    root = tmp_path / "repo"
    write_tree(root, {"a.yaml": "a: 1\n"})
    env = {**os.environ, "GIT_AUTHOR_DATE": "@1700000000 +0000", "GIT_COMMITTER_DATE": "@1700000000 +0000"}

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True,
                              env=env).stdout.strip()

    git("init", "-q", "-b", "main")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "x")
    git("remote", "add", "origin", "https://gitlab-ci-token:secret@gitlab.example.com/acme/fleet.git")
    commit = git("rev-parse", "HEAD")
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    monkeypatch.delenv("CI_COMMIT_SHA", raising=False)
    _git_facts.cache_clear()
    assert provenance(root) == ("https://gitlab.example.com/acme/fleet.git", f"main@sha1:{commit}", 1700000000)
    git("checkout", "-q", "--detach")  # as a GitLab CI job checks out
    _git_facts.cache_clear()
    assert provenance(root)[1] == f"sha1:{commit}"
    monkeypatch.setenv("CI_COMMIT_SHA", commit)
    monkeypatch.setenv("CI_COMMIT_REF_NAME", "feature/x")
    assert provenance(root)[1] == f"feature/x@sha1:{commit}"
    assert default_tag(root) == f"feature-x-{commit[:12]}"
    monkeypatch.setenv("CI_COMMIT_SHA", "0" * 40)  # another commit's job: its ref says nothing of this checkout
    assert provenance(root)[1] == f"sha1:{commit}"
    _git_facts.cache_clear()
