"""The repository's own Flux version: which Flux release its clusters run, and where that is written.

Flux objects are judged against the CRDs of one Flux release. Which one, first found wins:

1. `--flux-version` on the command line;
2. `flux-version` in the configuration;
3. what the repository declares, per cluster (see below):

   a. an object that installs Flux: a Flux Operator `FluxInstance`'s `spec.distribution.version`;
      a HelmRelease of the `flux-instance` chart (`spec.values.instance.distribution.version`,
      else a values file with `instance.distribution.version` in its folder, else the chart's
      default `2.x`); an OCIRepository of Flux's own manifests (`oci://ghcr.io/fluxcd/flux-manifests`,
      which a Kustomization applies) with its `spec.ref.semver` or `spec.ref.tag`. A semver range
      (`2.x`, `2.4.x`, `>=2.3.0`) means the newest supported release it matches;
   b. the `# Flux Version: vX.Y.Z` header `flux bootstrap` writes at the top of
      `gotk-components.yaml` (without it, the `app.kubernetes.io/version` label flux puts on
      each object there, with `app.kubernetes.io/part-of: flux`);

4. the newest supported release.

Per cluster: a declaration covers its *cluster folder*, the folder of the declaring file, or
that folder's parent when it is a `flux-system` folder (`clusters/prod/flux-system/gotk-components.yaml`
covers `clusters/prod/`). A file takes the declaration whose cluster folder is the longest prefix
of its path (a. beats b. for the same folder); any other file takes the repository-wide
version: the newest release declared (by a., when there is any).

A declared version older than the oldest release we have schemas for is checked against that
oldest release (newer than the newest: the newest); the declared text is kept for messages.
The supported releases are passed in (`releases`, oldest first), so this module reads no schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from gitops_lint.model import Model
from gitops_lint.yaml.positions import value_at

OPERATOR_GROUP = "fluxcd.controlplane.io"
#: The Flux Operator's own kinds: where it is installed, Alerts and Receivers may name them too.
OPERATOR_KINDS = ("FluxInstance", "FluxReport", "ResourceSet", "ResourceSetInputProvider")
#: Helm charts that install the Flux Operator or a Flux instance through it.
OPERATOR_CHARTS = ("flux-operator", "flux-instance")
#: The OCI artifact of Flux's own install manifests, tagged with the Flux version (`v2.4.0`).
FLUX_MANIFESTS = "flux-manifests"
#: What the `flux-instance` chart's values.yaml sets `instance.distribution.version` to.
INSTANCE_CHART_DEFAULT = "2.x"

CLI, CONFIG, DEFAULT = "--flux-version", "config flux-version", "default: newest supported"
#: Ranks of the declarations: the lower beats the higher for the same cluster folder. Objects that
#: install Flux (a FluxInstance, the flux-instance chart, the flux-manifests artifact) beat the header.
_OPERATOR, _HEADER = 0, 1

_VERSION_LABEL = "app.kubernetes.io/version"
_HEADER_RE = re.compile(r"^#\s*Flux Version:\s*(\S+)", re.IGNORECASE)
#: How many lines at the top of gotk-components.yaml may hold the header.
_HEADER_LINES = 10
_EXACT_RE = re.compile(r"v?\d+\.\d+(?:\.\d+)?(?:[-+][0-9A-Za-z.-]*)?")
_CLAUSE_RE = re.compile(r"(>=|<=|~>|>|<|=|~|\^)?\s*v?(\d+)(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:[-+][0-9A-Za-z.-]*)?")


@dataclass(frozen=True, slots=True)
class FluxVersion:
    """One answer to "which Flux release judges this file"."""

    #: The release whose schemas are used, e.g. "2.6" (always one of the supported releases).
    release: str
    #: What was written, e.g. "v2.1.1", "2.x", "2.6"; the release itself for the default.
    declared: str
    #: Where it came from, e.g. "clusters/prod/flux-system/gotk-components.yaml:3 (# Flux Version header)",
    #: "FluxInstance/flux-system/flux spec.distribution.version (clusters/prod/flux.yaml:9)",
    #: "--flux-version", "config flux-version", "default: newest supported".
    source: str
    #: The cluster folder the declaration covers ("" is the repository root); None: the whole run.
    folder: str | None = None
    rank: int = _HEADER

    @property
    def predates_release(self) -> bool:
        """The declared version is older than `release` (older than every release we have schemas for)."""
        if not _EXACT_RE.fullmatch(self.declared):
            return False  # a range means the newest release it matches
        numbers = _first_version(self.declared)
        return numbers is not None and numbers[:2] < release_key(self.release)

    @property
    def describe(self) -> str:
        """Where the release comes from, in words: "v2.6.0 in clusters/staging/...:3 (# Flux Version header)"."""
        if self.source == DEFAULT:
            return "the newest supported release; the repository declares no Flux version"
        if self.source in (CLI, CONFIG):
            return self.source if self.declared == self.release else f"{self.declared} from {self.source}"
        if self.predates_release:
            return (f"the oldest release gitops-lint knows; the repository declares {self.declared} "
                    f"in {self.source}")
        return f"{self.declared} in {self.source}"

    @property
    def label(self) -> str:
        """For summaries: "Flux 2.6 (v2.6.0 in clusters/staging/flux-system/gotk-components.yaml:3 ...)"."""
        return f"Flux {self.release} ({self.describe})"

    def to_json(self) -> dict:
        return {"release": self.release, "declared": self.declared, "source": self.source}


@dataclass(frozen=True, slots=True)
class FluxVersions:
    """The repository-wide Flux version and the per-cluster declarations that refine it."""

    repository: FluxVersion
    #: Declarations with their cluster folders, most specific first (longest folder, then rank).
    clusters: tuple[FluxVersion, ...] = ()

    def for_path(self, rel: str) -> FluxVersion:
        """The version that judges the file `rel` (relative to the root, `/` separators)."""
        for version in self.clusters:
            folder = version.folder or ""
            if not folder or rel == folder or rel.startswith(folder + "/"):
                return version
        return self.repository

    def to_json(self) -> dict:
        """The run's summary entry: `{"release", "declared", "source"}`, plus `clusters` (folder, release,
        declared, source) for the cluster folders whose release differs from the repository's."""
        out = self.repository.to_json()
        others = [{"folder": v.folder, **v.to_json()} for v in self.clusters if v.release != self.repository.release]
        if others:
            out["clusters"] = others
        return out

    @property
    def releases(self) -> list[str]:
        """Every release in use, oldest first."""
        return sorted({self.repository.release, *(v.release for v in self.clusters)}, key=release_key)


def detect(model: Model, releases: Sequence[str], *, cli: str | None = None,
           config: str | None = None) -> FluxVersions:
    """The Flux version(s) of the repository in `model`; `releases` are the supported ones, oldest first."""
    releases = sorted(releases, key=release_key)
    if not releases:
        raise ValueError("no supported Flux release")
    for given, source in ((cli, CLI), (config, CONFIG)):
        if given:
            return FluxVersions(FluxVersion(resolve(str(given), releases) or releases[-1], str(given), source))
    found = declarations(model, releases)
    if not found:
        return FluxVersions(FluxVersion(releases[-1], releases[-1], DEFAULT))
    best = min(v.rank for v in found)
    repository = max((v for v in found if v.rank == best), key=lambda v: release_key(v.release))
    clusters = sorted(found, key=lambda v: (-len(v.folder or ""), v.rank, [-n for n in release_key(v.release)]))
    return FluxVersions(FluxVersion(repository.release, repository.declared, repository.source, None, best),
                        tuple(clusters))


def declarations(model: Model, releases: Sequence[str]) -> list[FluxVersion]:
    """Every Flux version the repository writes down, resolved to a supported release, in file order."""
    out: list[FluxVersion] = []

    def add(text: Any, source: str, path: str, rank: int) -> None:
        if isinstance(text, bool) or not isinstance(text, (str, int, float)):
            return
        text = str(text).strip()
        release = resolve(text, releases)
        if release is not None:
            out.append(FluxVersion(release, text, source, cluster_folder(path), rank))

    values_files = _instance_values_files(model)
    seen_files: set[str] = set()
    gotk_pending: set[str] = set()  # gotk-components files without a header: their labels may tell
    for obj in model.objects:
        source = obj.doc.file
        if source.rel not in seen_files:
            seen_files.add(source.rel)
            if source.rel.rsplit("/", 1)[-1] in ("gotk-components.yaml", "gotk-components.yml"):
                gotk_pending.add(source.rel)
                for number, line in enumerate(source.lines[:_HEADER_LINES], start=1):
                    if match := _HEADER_RE.match(line.strip()):
                        add(match.group(1), f"{source.rel}:{number} (# Flux Version header)", source.rel, _HEADER)
                        gotk_pending.discard(source.rel)
                        break
        data = obj.doc.data
        if source.rel in gotk_pending:
            # Without the header (a copy that lost its comments), every object flux generated carries the
            # version as a label: `app.kubernetes.io/part-of: flux`, `app.kubernetes.io/version: v2.0.1`.
            labels = value_at(data, ("metadata", "labels"))
            if isinstance(labels, dict) and labels.get("app.kubernetes.io/part-of") == "flux" and isinstance(
                    labels.get(_VERSION_LABEL), str):
                path = ("metadata", "labels", _VERSION_LABEL)
                add(labels[_VERSION_LABEL], f"{source.rel}:{obj.locate(path).line} ({_VERSION_LABEL} label)",
                    source.rel, _HEADER)
                gotk_pending.discard(source.rel)
        kind, group = data.get("kind"), _group(data)
        if group == OPERATOR_GROUP and kind == "FluxInstance":
            path = ("spec", "distribution", "version")
            add(value_at(data, path), f"{_ref(obj)} spec.distribution.version ({_where(obj, path)})", obj.path, _OPERATOR)
        elif (kind == "OCIRepository" and group == "source.toolkit.fluxcd.io"
              and str(value_at(data, ("spec", "url")) or "").rstrip("/").rpartition("/")[2] == FLUX_MANIFESTS):
            for field in ("semver", "tag"):
                path = ("spec", "ref", field)
                if (text := value_at(data, path)) is not None:
                    add(text, f"{_ref(obj)} spec.ref.{field} ({_where(obj, path)})", obj.path, _OPERATOR)
                    break
        elif kind == "HelmRelease" and _chart_of(data) == "flux-instance":
            path = ("spec", "values", "instance", "distribution", "version")
            if (text := value_at(data, path)) is not None:
                add(text, f"{_ref(obj)} spec.values.instance.distribution.version ({_where(obj, path)})",
                    obj.path, _OPERATOR)
                continue
            folder = obj.path.rpartition("/")[0]
            beside = [(rel, line, text) for rel, line, text in values_files
                      if rel.startswith(folder + "/") or not folder]
            if beside:
                rel, line, text = beside[0]
                add(text, f"{_ref(obj)} values file {rel}:{line} instance.distribution.version", obj.path, _OPERATOR)
            else:
                add(INSTANCE_CHART_DEFAULT, f"{_ref(obj)} (flux-instance chart default)", obj.path, _OPERATOR)
    return out


def uses_flux_operator(model: Model) -> bool:
    """The repository installs the Flux Operator: a fluxcd.controlplane.io object (FluxInstance,
    ResourceSet, ...) or a HelmRelease of the flux-operator or flux-instance chart."""
    for obj in model.objects:
        data = obj.doc.data
        if _group(data) == OPERATOR_GROUP:
            return True
        if data.get("kind") == "HelmRelease" and _chart_of(data) in OPERATOR_CHARTS:
            return True
    return False


def cluster_folder(rel: str) -> str:
    """The folder a declaration in file `rel` covers: its folder, or the parent of a `flux-system` folder."""
    folder = rel.rpartition("/")[0]
    if folder.rpartition("/")[2] == "flux-system":
        folder = folder.rpartition("/")[0]
    return folder


def resolve(text: str, releases: Sequence[str]) -> str | None:
    """The supported release (`releases`, oldest first) a version or semver range means; None when none.

    An exact version names its release (`v2.4.0` -> "2.4"); a range the newest release it matches
    (`2.x`, `2.4.x`, `>=2.3.0 <2.6.0`, `~2.5`, `^2.3`, alternatives with `||`). A version or range
    below every supported release means the oldest one, above them the newest one.
    """
    releases = sorted(releases, key=release_key)
    text = text.strip()
    if not text or "${" in text or not releases:
        return None
    if text in ("*", "x", "X", "latest"):
        return releases[-1]
    alternatives = [alt for alt in text.split("||") if alt.strip()]
    for release in reversed(releases):
        if any(_matches(alt, release_key(release)) for alt in alternatives):
            return release
    first = _first_version(text)
    if first is None:
        return None
    return releases[0] if first < release_key(releases[0]) else releases[-1]


# --------------------------------------------------------------------------- helpers

def release_key(release: str) -> tuple[int, ...]:
    """`2.10` as (2, 10): releases compared as numbers."""
    return tuple(int(p) for p in release.split(".") if p.isdigit())


def _first_version(text: str) -> tuple[int, ...] | None:
    match = re.search(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?", text)
    if match is None:
        return None
    return tuple(int(g) for g in match.groups() if g is not None)


def _matches(alternative: str, release: tuple[int, ...]) -> bool:
    """Whether some patch of `release` (major, minor) satisfies every clause of one alternative."""
    clauses = _CLAUSE_RE.findall(alternative)
    if not clauses or _CLAUSE_RE.sub("", alternative).strip(" ,"):
        return False  # not a version range (text left over)
    major, minor = release[0], release[1] if len(release) > 1 else 0
    for op, a, b, c in clauses:
        a = int(a)
        if not b or not b.isdigit():  # 2, 2.x: the whole major line
            ok = {">": major > a, ">=": major >= a, "<": major < a, "<=": major <= a}.get(op, major == a)
        else:
            want, have = (a, int(b)), (major, minor)
            patch = int(c) if c and c.isdigit() else 0
            ok = {
                "^": major == a and have >= want,
                "~": have == want, "~>": have == want,
                ">": have >= want, ">=": have >= want,
                "<": have < want or (have == want and patch > 0),
                "<=": have <= want,
            }.get(op, have == want)
        if not ok:
            return False
    return True


def _group(data: dict) -> str:
    api_version = data.get("apiVersion")
    return api_version.split("/", 1)[0] if isinstance(api_version, str) and "/" in api_version else ""


def _ref(obj) -> str:
    return getattr(obj, "ref", None) or obj.path


def _where(obj, path: tuple) -> str:
    return f"{obj.path}:{obj.locate(path).line}"


def _chart_of(data: dict) -> str | None:
    """The chart a HelmRelease installs, by its last path segment (`chart.spec.chart` or `chartRef.name`)."""
    name = value_at(data, ("spec", "chart", "spec", "chart"))
    if not isinstance(name, str):
        name = value_at(data, ("spec", "chartRef", "name"))
    if not isinstance(name, str):
        return None
    return name.rstrip("/").rpartition("/")[2]


def _instance_values_files(model: Model) -> list[tuple[str, int, Any]]:
    """(file, line, version) of plain values documents with `instance.distribution.version`
    (a flux-instance HelmRelease's values kept in a file for a configMapGenerator)."""
    out = []
    for doc in model.other_documents:
        path = ("instance", "distribution", "version")
        value = value_at(doc.data, path)
        if value is not None:
            out.append((doc.file.rel, doc.locate(path).line, value))
    return out
