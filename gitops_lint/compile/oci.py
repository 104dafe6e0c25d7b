"""Flux OCI artifacts of the compiled manifests, written as an OCI image layout (`compile --oci DIR`).

An artifact is what `flux push artifact` makes (fluxcd/pkg `oci/client/push.go`, `oci/constants.go`,
`oci/meta.go`): an OCI image manifest (`application/vnd.oci.image.manifest.v1+json`) with the config
media type `application/vnd.cncf.flux.config.v1+json`, one layer `application/vnd.cncf.flux.content.v1.tar+gzip`
(a gzipped tar of the files, uid and gid 0, no user or group names), and the annotations
`org.opencontainers.image.created`, `.source` and `.revision`. The config blob is what go-containerregistry
writes for an empty image with one layer appended.

Unlike `flux push artifact` (which stamps the current time), the same files give the same bytes and
digests on every run and machine: entries sorted, one fixed time for every entry and for `created`
(SOURCE_DATE_EPOCH, else the commit's time), fixed modes, gzip with no name and no time.

The layout (`oci-layout`, `index.json`, `blobs/sha256/...`) holds one manifest per unit, named by the
`org.opencontainers.image.ref.name` annotation; `oras`, `crane` or `skopeo` copy it to any registry.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import functools
import os
import tarfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_MEDIA_TYPE = "application/vnd.cncf.flux.config.v1+json"
CONTENT_MEDIA_TYPE = "application/vnd.cncf.flux.content.v1.tar+gzip"
CREATED, SOURCE, REVISION = ("org.opencontainers.image.created", "org.opencontainers.image.source",
                             "org.opencontainers.image.revision")
REF_NAME = "org.opencontainers.image.ref.name"


@dataclass(slots=True)
class Blob:
    data: bytes
    #: Hashed once: layouts, indexes and pushes all ask for it.
    digest: str = field(init=False)

    def __post_init__(self) -> None:
        self.digest = "sha256:" + hashlib.sha256(self.data).hexdigest()

    def descriptor(self, media_type: str) -> dict:
        # go-containerregistry's field order: mediaType, size, digest
        return {"mediaType": media_type, "size": len(self.data), "digest": self.digest}


@dataclass(slots=True)
class Artifact:
    name: str
    layer: Blob
    config: Blob
    manifest: Blob
    files: int

    @property
    def digest(self) -> str:
        return self.manifest.digest


def _json(value: object) -> bytes:
    """JSON as Go's encoding/json writes it: compact, no HTML escaping, map keys sorted."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def content_layer(files: dict[str, bytes], mtime: int) -> tuple[bytes, bytes]:
    """(gzipped tar, tar): `files` (artifact path -> bytes) with their folders, sorted, reproducible."""
    folders = sorted({str(Path(rel).parent) for rel in files} - {"."} | {
        str(parent) for rel in files for parent in Path(rel).parents if str(parent) != "."})
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in folders:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, mtime
            tar.addfile(info)
        for rel in sorted(files):
            info = tarfile.TarInfo(rel)
            info.size, info.mode, info.mtime = len(files[rel]), 0o644, mtime
            tar.addfile(info, io.BytesIO(files[rel]))
    tar_bytes = raw.getvalue()
    packed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=0, compresslevel=9) as out:
        out.write(tar_bytes)
    return packed.getvalue(), tar_bytes


def build_artifact(name: str, files: dict[str, bytes], mtime: int, source: str, revision: str) -> Artifact:
    layer_bytes, tar_bytes = content_layer(files, mtime)
    layer = Blob(layer_bytes)
    diff_id = "sha256:" + hashlib.sha256(tar_bytes).hexdigest()
    zero = "0001-01-01T00:00:00Z"  # go-containerregistry's empty image: no time of its own
    config = Blob(_json({"architecture": "", "created": zero, "history": [{"created": zero}], "os": "",
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]}, "config": {}}))
    created = datetime.fromtimestamp(mtime, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    manifest = Blob(_json({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": config.descriptor(CONFIG_MEDIA_TYPE),
        "layers": [layer.descriptor(CONTENT_MEDIA_TYPE)],
        "annotations": {CREATED: created, REVISION: revision, SOURCE: source},
    }))
    return Artifact(name, layer, config, manifest, len(files))


def write_layout(directory: Path, artifacts: list[Artifact]) -> None:
    """An OCI image layout at `directory` holding `artifacts` (one index entry each, by name). Blobs are
    written to temporary files renamed into place, `index.json` last: a reader sees the old index or the
    new one, never one naming a blob not yet written."""
    blobs = directory / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    for artifact in artifacts:
        for blob in (artifact.layer, artifact.config, artifact.manifest):
            target = blobs / blob.digest.split(":", 1)[1]
            if not target.exists():
                _write(target, blob.data)
    _write(directory / "oci-layout", _json({"imageLayoutVersion": "1.0.0"}))
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [{**a.manifest.descriptor(MANIFEST_MEDIA_TYPE), "annotations": {REF_NAME: a.name}}
                           for a in sorted(artifacts, key=lambda a: a.name)]}
    _write(directory / "index.json", _json(index))


def _write(path: Path, data: bytes) -> None:
    from gitops_lint.cache import write_atomically

    write_atomically(path, [data])


def unit_name(folder: str) -> str:
    """A folder as an OCI repository and tag friendly name: `apps/production` -> `apps-production`."""
    cleaned = "".join(c if c.isalnum() or c in "._-" else "-" for c in folder.lower()).strip("-._")
    return cleaned or "root"


# --------------------------------------------------------------------------- units


@dataclass(slots=True)
class Unit:
    """What one artifact holds: a folder Flux applies, and everything its build reads."""

    name: str
    #: The repository folder the Flux Kustomization applies.
    folder: str
    #: The folder of the repository the artifact's root is (an ancestor of every file the build reads).
    root: str
    #: Artifact path -> bytes, from the compiled output.
    files: dict[str, bytes]
    #: The Flux Kustomization (effective data) that applies `folder`, when the unit comes from one.
    kustomization: dict | None = None

    @property
    def path(self) -> str:
        """Where `folder` is inside the artifact, as a Kustomization's `spec.path`."""
        inner = os.path.relpath(self.folder or ".", self.root or ".")
        return "./" if inner == "." else f"./{inner}"


def units(project, outputs: dict[str, str | bytes], configured: list[tuple[str, str]] | None = None) -> list[Unit]:
    """Each folder a Flux Kustomization fed by this repository applies (or each `(name, folder)` configured),
    with what its build reads: the compiled files below it and, transitively, what its kustomization files
    name elsewhere (a `../base`), so the artifact builds on its own."""
    named: dict[str, list[str]] = {}
    for ref in project.model.file_references:
        if ref.target is not None:
            named.setdefault(ref.owner.path, []).append(ref.target)
    folders: dict[str, tuple[str, dict | None]] = {}
    if configured:
        for name, folder in configured:
            folders[folder.strip("/").removeprefix("./") or ""] = (name, None)
    else:
        for applied in project.view.applied:
            if applied.folder is not None and applied.folder not in folders:
                folders[applied.folder] = (unit_name(applied.folder or "root"), applied.kustomization.data)
    out = []
    for folder, (name, kustomization) in sorted(folders.items()):
        wanted = _closure(folder, outputs, named)
        if not wanted:
            continue
        root = os.path.commonpath([os.path.dirname(r) or "." for r in wanted] + [folder or "."])
        root = "" if root == "." else root
        files = {os.path.relpath(rel, root or "."): _bytes(outputs[rel]) for rel in sorted(wanted)}
        out.append(Unit(name, folder, root, files, kustomization))
    return out


def _closure(folder: str, outputs: dict[str, str | bytes], named: dict[str, list[str]]) -> set[str]:
    wanted: set[str] = set()
    pending = [folder]
    while pending:
        place = pending.pop()
        for rel in outputs:
            if rel in wanted or not (not place or rel == place or rel.startswith(place + "/")):
                continue
            wanted.add(rel)
            pending.extend(named.get(rel, ()))
    return wanted


def _bytes(content: str | bytes) -> bytes:
    return content if isinstance(content, bytes) else content.encode()


# --------------------------------------------------------------------------- the objects that consume them


def consumer_objects(unit: Unit, url: str, digest: str, oci_version: str) -> list[dict]:
    """An OCIRepository pinned to the artifact's digest, and the Flux Kustomization that applies it: the
    one that applied the folder from Git (its settings kept), now reading the artifact."""
    original = unit.kustomization or {}
    metadata = original.get("metadata") if isinstance(original.get("metadata"), dict) else {}
    namespace = metadata.get("namespace") or "flux-system"
    spec = dict(original.get("spec") or {}) if isinstance(original.get("spec"), dict) else {}
    spec.setdefault("interval", "10m")
    spec.setdefault("prune", True)
    spec["path"] = unit.path
    spec["sourceRef"] = {"kind": "OCIRepository", "name": unit.name}
    repository = {
        "apiVersion": f"source.toolkit.fluxcd.io/{oci_version}",
        "kind": "OCIRepository",
        "metadata": {"name": unit.name, "namespace": namespace},
        "spec": {"interval": "10m", "url": f"{url.rstrip('/')}/{unit.name}", "ref": {"digest": digest},
                 "layerSelector": {"mediaType": CONTENT_MEDIA_TYPE, "operation": "extract"}},
    }
    kustomization = {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                     "metadata": {"name": metadata.get("name") or unit.name, "namespace": namespace}, "spec": spec}
    return [repository, kustomization]


# --------------------------------------------------------------------------- all of it


def provenance(root: Path) -> tuple[str, str, int]:
    """(source, revision, time) of the artifacts, as Flux writes them: the `origin` remote without any
    credentials in it, `<branch>@sha1:<commit>`, and SOURCE_DATE_EPOCH, else the commit's time (0 outside git).

    GitLab CI checks out a detached HEAD: there the branch (or tag) is the job's `CI_COMMIT_REF_NAME`, when
    the job's commit is the one checked out."""
    source, commit, branch, committed = _git_facts(str(root))
    if branch in ("", "HEAD") and commit and os.environ.get("CI_COMMIT_SHA") == commit:
        branch = os.environ.get("CI_COMMIT_REF_NAME", "")
    revision = f"{branch}@sha1:{commit}" if commit and branch and branch != "HEAD" else (f"sha1:{commit}" if commit else "")
    epoch = os.environ.get("SOURCE_DATE_EPOCH") or committed or "0"
    try:
        moment = int(epoch)
    except ValueError:
        moment = 0
    return source, revision, moment


@functools.lru_cache(maxsize=8)
def _git_facts(root: str) -> tuple[str, str, str, str]:
    """(origin URL without credentials, HEAD's commit, its branch or "HEAD", its commit time), asked once per
    run (the layout and the push's tag both need them)."""
    import re
    import subprocess

    def git(*args: str) -> list[str]:
        try:
            out = subprocess.run(["git", "-C", root, *args], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            return []
        return out.stdout.split("\n") if out.returncode == 0 else []

    origin = git("config", "--get", "remote.origin.url")
    source = re.sub(r"(?<=://)[^/@]+@", "", origin[0].strip()) if origin else ""
    head = git("show", "-s", "--format=%H%n%ct", "HEAD")
    branch = git("rev-parse", "--abbrev-ref", "HEAD") if head else []
    commit, committed = (head[0].strip(), head[1].strip()) if len(head) >= 2 else ("", "")
    return source, commit, branch[0].strip() if branch else "", committed


def write_artifacts(project, outputs: dict[str, str | bytes], directory: Path, url: str | None,
                    configured: list[tuple[str, str]] | None = None) -> list[tuple[Unit, Artifact]]:
    """An artifact per unit in an OCI layout at `directory`; with `url` (`oci://registry/group/project`),
    the objects that consume each one in `directory/flux/<unit>.yaml`."""
    import yaml

    from gitops_lint.schema_index import flux_versions

    source, revision, moment = provenance(project.settings.root or Path.cwd())
    built = [(unit, build_artifact(unit.name, unit.files, moment, source, revision))
             for unit in units(project, outputs, configured)]
    write_layout(directory, [artifact for _, artifact in built])
    if url:
        release = project.settings.flux_version
        versions = flux_versions(release, "source.toolkit.fluxcd.io", "OCIRepository") if release else {}
        oci_version = next((v for v, info in versions.items() if info.get("storage")), "v1")
        (directory / "flux").mkdir(exist_ok=True)
        for unit, artifact in built:
            documents = consumer_objects(unit, url, artifact.digest, oci_version)
            _write(directory / "flux" / f"{unit.name}.yaml",
                   yaml.safe_dump_all(documents, sort_keys=False, explicit_start=True).encode())
    return built


# --------------------------------------------------------------------------- push


def default_tag(root: Path | None) -> str:
    """`<branch>-<commit>` of the repository (a tag per revision), else `latest`."""
    _, revision, _ = provenance(root or Path.cwd())
    branch, _, commit = revision.partition("@sha1:")
    if not commit:
        return "latest"
    tag = "".join(c if c.isalnum() or c in "._-" else "-" for c in f"{branch}-{commit[:12]}")
    return tag.lstrip(".-")[:128] or "latest"


class PushError(Exception):
    """The registry refused or could not be reached (what it said, never a credential)."""


def registry_credentials(hostname: str, creds: str | None) -> tuple[str, str] | None:
    """`USER:PASSWORD` given, else GitLab CI's job credentials for its own registry, else None (the docker
    config's `auths`, which the client reads itself, or anonymous)."""
    if creds:
        user, _, password = creds.partition(":")
        return user, password
    if os.environ.get("CI_REGISTRY") == hostname and os.environ.get("CI_REGISTRY_PASSWORD"):
        return os.environ.get("CI_REGISTRY_USER", ""), os.environ["CI_REGISTRY_PASSWORD"]
    return None


def push(directory: Path, artifacts: list[Artifact], url: str, tag: str, creds: str | None = None) -> list[str]:
    """Push each artifact of the layout at `directory` to `url/<name>:<tag>`; the references pushed, by digest.

    oras-py (the ORAS project's client) does the registry protocol: token and basic auth, the docker config,
    blob uploads. The manifest is sent as the bytes the layout holds, so the registry's digest is ours."""
    import oras.container
    import oras.provider

    location = url.removeprefix("oci://").rstrip("/")
    hostname, _, repository = location.partition("/")
    # Plain HTTP only for a registry on this machine, as docker and Flux allow it.
    insecure = hostname.split(":")[0] in ("localhost", "127.0.0.1", "[::1]")
    credentials = registry_credentials(hostname, creds)
    _reachable(("http" if insecure else "https") + f"://{hostname}/v2/")
    registry = oras.provider.Registry(hostname=hostname, insecure=insecure)
    if credentials is not None:
        registry.auth.set_basic_auth(*credentials)
    pushed = []
    for artifact in artifacts:
        name = f"{repository}/{artifact.name}" if repository else artifact.name
        container = oras.container.Container(f"{name}:{tag}", registry=hostname)
        try:
            for blob, media_type in ((artifact.layer, CONTENT_MEDIA_TYPE), (artifact.config, CONFIG_MEDIA_TYPE)):
                path = directory / "blobs" / "sha256" / blob.digest.split(":", 1)[1]
                response = registry.upload_blob(str(path), container, blob.descriptor(media_type))
                _raise_for(response, f"blob {blob.digest}")
            response = registry.do_request(f"{registry.prefix}://{container.manifest_url()}", "PUT",
                                           headers={"Content-Type": MANIFEST_MEDIA_TYPE}, data=artifact.manifest.data)
            _raise_for(response, "manifest")
        except PushError:
            raise
        except Exception as exc:  # noqa: BLE001 - the network, the registry: a message, not a traceback
            raise PushError(f"{hostname}/{name}:{tag}: {type(exc).__name__}: {_without_secrets(str(exc), credentials)}") \
                from None
        pushed.append(f"oci://{hostname}/{name}@{artifact.digest}")
    return pushed


def _reachable(endpoint: str) -> None:
    """Fail at once on a registry that does not answer (the client retries for minutes). Any HTTP answer,
    401 included, is a registry that is there."""
    import urllib.error
    import urllib.request

    try:
        urllib.request.urlopen(endpoint, timeout=10).close()
    except urllib.error.HTTPError:
        return
    except (OSError, ValueError) as exc:
        raise PushError(f"cannot reach {endpoint}: {getattr(exc, 'reason', exc)}") from None


def _raise_for(response, what: str) -> None:
    if response is not None and getattr(response, "status_code", 200) >= 400:
        raise PushError(f"the registry refused the {what}: HTTP {response.status_code} {response.text[:200]}")


def _without_secrets(text: str, credentials: tuple[str, str] | None) -> str:
    return text.replace(credentials[1], "****") if credentials and credentials[1] else text
