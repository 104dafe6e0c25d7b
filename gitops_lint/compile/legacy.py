"""`gitops-lint compile --migrate`: legacy GitLab agent GitOps (`gitops.manifest_projects`) -> Flux.

GitLab removed the agent's pull-based GitOps module in 17.0; Flux is its successor.
`migrate_agents` is pure (files and model in, documents and a report out); the
compiler writes the documents in its canonical form, each with a header naming the
agent config line it comes from. Per agent config and per manifest project it
writes one file `flux/migrated/<agent>/<slug>.yaml` holding:

* a source, named `<agent>-<slug>` in `flux-system`: a `source.toolkit.fluxcd.io/v1`
  GitRepository (`url: <gitlab_url>/<project>.git`, `interval: 5m0s` because kas polled
  every 5 minutes, `ref` from `ref.branch|tag|commit`), or with `source="oci"` an
  OCIRepository (`oci://registry.<gitlab host>/<project>`, which CI must fill with
  `flux push artifact`; the agent read Git, so this is reported);
* a `kustomize.toolkit.fluxcd.io/v1` Kustomization of the same name: `prune` (agent
  default true), `timeout` from `reconcile_timeout` (protobuf -> Go form; not written when
  absent or equal to the agent default 1h, see below), `targetNamespace` from `default_namespace` (default `default`),
  `interval: 10m0s`, `sourceRef` to the source, `path` (see below).

Mappings and decisions:

* `wait` is not set. The agent waited up to `reconcile_timeout` for the applied objects
  to become ready, but a failure there blocked nothing; Flux's `wait: true` makes the
  Kustomization (and whatever `dependsOn` it) not Ready until every object is healthy,
  a behaviour change the user should opt into. A non-default `reconcile_timeout` is still
  carried over as `timeout` (it bounds apply, and health checks once `wait`/`healthChecks`
  are added); the agent default 1h is dropped, because without `wait` it means nothing and
  a timeout above the 10m interval lets runs queue up (our INT003 warns); Flux then uses
  the interval. A carried-over timeout longer than the interval is reported.
* `targetNamespace` *overrides* the namespace of every namespaced object, while the agent's
  `default_namespace` only filled in a missing one; every project gets a report item
  saying so (remove `targetNamespace` when the manifests set their own namespaces).
* File selection (`paths[].glob`, doublestar v2, see `glob_match`): Flux's Kustomization has
  no file filter. When the manifest project is this repository (no `id`, or `id` equal to
  `config_project`) the matched files are listed in a generated
  `flux/migrated/<agent>/<slug>/kustomization.yaml` and the Kustomization's `path` points
  there. Otherwise `path: ./` and a report item gives the globs, asking for a
  kustomization.yaml in the manifest project.
* No Flux equivalent, so reported (only when the value differs from what Flux does):
  `dry_run_strategy` client/server (Flux always server-side dry-runs, then applies);
  `prune_propagation_policy` (Flux garbage-collects with background propagation;
  `spec.deletionPolicy` is about deleting the Kustomization itself, not pruning, so it is
  not used); `inventory_policy` other than `adopt_all` (Flux takes over existing objects
  whoever applied them, as `adopt_all` did); `prune_timeout` (Flux has one `timeout`);
  a missing or numeric `id`; the default-branch guess (`main`); invalid durations;
  braces with spaces, globs into dot folders; malformed `gitops` sections.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import urlparse

from wcmatch import glob as wcglob

from gitops_lint.compile.agent_objects import GeneratedDocument
from gitops_lint.compile.origin import document_origin
from gitops_lint.durations import DurationError, format_go_duration, parse_go_duration, parse_proto_duration
from gitops_lint.model.agent import AgentConfig, GitopsCF, GitRefCF, ManifestProjectCF, PathCF
from gitops_lint.model.base import Model, ModelError

__all__ = [
    "DEFAULT_GLOB",
    "MigrationResult",
    "brace_expand",
    "glob_match",
    "migrate_agents",
    "render_report",
    "report_json",
    "select_files",
]

DEFAULT_GLOB = "**/*.{yaml,yml,json}"
OUTPUT_DIR = "flux/migrated"
NAMESPACE = "flux-system"
SOURCE_INTERVAL = "5m0s"  # kas polled manifest projects every 5 minutes
KUSTOMIZATION_INTERVAL = "10m0s"
DEFAULT_TIMEOUT = "1h0m0s"
DEFAULT_BRANCH_GUESS = "main"

_GIT_API = "source.toolkit.fluxcd.io/v1"
_KS_API = "kustomize.toolkit.fluxcd.io/v1"
_KUSTOMIZE_API = "kustomize.config.k8s.io/v1beta1"


@dataclass(slots=True)
class MigrationResult:
    #: Relative output path -> the documents of that file, sorted by path.
    documents: dict[str, list[GeneratedDocument]] = field(default_factory=dict)
    #: Items {agent, project, field, value, message}: what has no Flux equivalent or needs a decision.
    report: list[dict] = field(default_factory=list)
    #: Agent configs (relative paths) whose whole `gitops` section the documents replace: the compiled
    #: config leaves it out, and the removed-section finding (AGT003) on them is resolved by the migration.
    replaced: frozenset[str] = frozenset()
    #: Output path -> the report items of the manifest project it migrates.
    decisions: dict[str, list[dict]] = field(default_factory=dict)


# --------------------------------------------------------------------------- doublestar v2 globs


def brace_expand(pattern: str) -> list[str]:
    """`a{b,c{d,e}}` -> [`ab`, `acd`, `ace`]; an unclosed `{` stays literal; `\\` escapes."""
    depth = 0
    start = -1
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            if depth == 0:
                start = i
            depth += 1
        elif c == "}" and depth:
            depth -= 1
            if depth == 0:
                body = pattern[start + 1 : i]
                head, tail = pattern[:start], pattern[i + 1 :]
                out: list[str] = []
                for alt in _split_alternatives(body):
                    for rest in brace_expand(alt + tail):
                        out.append(head + rest)
                return out
        i += 1
    return [pattern]


def _split_alternatives(body: str) -> list[str]:
    parts, depth, current, i = [], 0, [], 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            current.append(body[i : i + 2])
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        if c == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(c)
        i += 1
    parts.append("".join(current))
    return parts


#: doublestar v2 as kas used it, in wcmatch's terms: `**` as a whole segment spans folders (GLOBSTAR),
#: `*` also matches names starting with `.` (DOTGLOB; dot folders are skipped before matching), case
#: matters on every OS (CASE). No BRACE: bracex follows bash (`{a}` stays literal, `{1..3}` is a
#: sequence) where doublestar expands `{a}` and knows no sequences, so `brace_expand` does that part.
#: No NEGATE or EXTGLOB: `!` and `@(...)` are literal, as in doublestar.
_WCMATCH_FLAGS = wcglob.GLOBSTAR | wcglob.DOTGLOB | wcglob.CASE

_STARS_ONLY = frozenset({"*", "**"})


def _unclosed_class(segment: str) -> bool:
    """Whether a `[` in `segment` has no closing `]` (doublestar: ErrBadPattern, so the glob matches nothing;
    wcmatch would read the `[` literally)."""
    i, n = 0, len(segment)
    while i < n:
        c = segment[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            j = i + 1
            if j < n and segment[j] in "!^":
                j += 1
            if j < n and segment[j] == "]":
                j += 1
            while j < n and segment[j] != "]":
                j += 1
            if j >= n:
                return True
            i = j
        i += 1
    return False


def _normalized(alternative: str) -> list[str]:
    """One brace-free alternative as wcmatch patterns with doublestar's meaning; [] when it matches nothing.

    * `a//b` and a trailing `/` name no file;
    * a run of whole segments that are only `*` and `**` means "at least as many folders as it has `*`",
      so it is rewritten as those `*` then one `**` (`**/*/**/*` -> `*/*/**`): the same paths, without the
      backtracking that a regex of many `**` does on long paths;
    * a trailing `/**` also matches zero folders (`a/**` matches `a`), which GLOBSTAR does not.
    """
    segments = alternative.split("/")
    if "" in segments or any(_unclosed_class(s) for s in segments):
        return []
    out: list[str] = []
    i = 0
    while i < len(segments):
        if segments[i] not in _STARS_ONLY:
            out.append(segments[i])
            i += 1
            continue
        j = i
        while j < len(segments) and segments[j] in _STARS_ONLY:
            j += 1
        run = segments[i:j]
        out.extend(["*"] * run.count("*") + (["**"] if "**" in run else []))
        i = j
    patterns = ["/".join(out)]
    if len(out) > 1 and out[-1] == "**":
        patterns.append("/".join(out[:-1]))
    return patterns


@lru_cache(maxsize=256)
def _matcher(pattern: str) -> Any:
    """The compiled wcmatch matcher of a doublestar glob (leading `/` already stripped); None if it
    matches nothing."""
    patterns = [p for alternative in brace_expand(pattern) for p in _normalized(alternative)]
    return wcglob.compile(patterns, flags=_WCMATCH_FLAGS) if patterns else None


def glob_match(pattern: str, path: str, *, skip_dot_dirs: bool = True) -> bool:
    """Whether the agent would have applied file `path` (relative to the project root) for `pattern`.

    doublestar v2 as kas used it: a leading `/` of the pattern is stripped; `**` as a whole
    segment matches zero or more folders; `*`, `?` and `[...]` stay within one segment (a
    `**` inside a longer segment acts as `*`); `{a,b}` alternatives may nest. With
    `skip_dot_dirs`, files below a folder whose name starts with `.` never match (kas did not
    descend into them), even when the pattern names that folder. Matching is wcmatch's
    (`_WCMATCH_FLAGS`), after `brace_expand` and `_normalized`.
    """
    path = path.lstrip("/")
    if skip_dot_dirs and any(p.startswith(".") for p in path.split("/")[:-1]):
        return False
    matcher = _matcher(pattern.lstrip("/"))
    return matcher is not None and matcher.match(path)


def select_files(globs: list[str], paths: list[str]) -> list[str]:
    """The sorted paths that any glob matches."""
    return sorted(p for p in set(paths) if any(glob_match(g, p) for g in globs))


# --------------------------------------------------------------------------- migration


class _Report:
    def __init__(self, result: MigrationResult, agent: str, project: str) -> None:
        self.result, self.agent, self.project = result, agent, project

    def __call__(self, field_: str, value: Any, message: str) -> None:
        self.result.report.append({"agent": self.agent, "project": self.project, "field": field_,
                                   "value": value, "message": message})


#: What an OCI registry accepts as a tag (the distribution spec); other refs (`feature/x`) become slugs.
_OCI_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "project"


def _name(agent: str, slug: str, limit: int = 56) -> str:
    # 56 leaves room for agentk's `gitlab-` prefix on the Receiver it creates (63 chars).
    name = _slug(f"{agent}-{slug}")
    if len(name) > limit:
        digest = hashlib.sha256(name.encode()).hexdigest()[:6]
        name = name[: limit - 7].rstrip("-") + "-" + digest
    return name


def _duration(value: Any, field_: str, report: _Report) -> str | None:
    """Go form of a protobuf duration; None (and a report item) when it cannot be used."""
    if value is None:
        return None
    try:
        ns = parse_proto_duration(value)
    except DurationError as exc:
        report(field_, value, f"not a protobuf duration ({exc}); the default {DEFAULT_TIMEOUT} is used")
        return None
    if ns < 0:
        report(field_, value, f"a negative duration has no Flux form; the default {DEFAULT_TIMEOUT} is used")
        return None
    return format_go_duration(ns)


def _ns(go_duration: str) -> int:
    return parse_go_duration(go_duration)


def migrate_agents(files, model, *, gitlab_url: str = "https://gitlab.com", source: str = "git",
                   config_project: str | None = None) -> MigrationResult:
    """Flux objects replacing every agent's `gitops.manifest_projects`; no I/O.

    `files` are the loaded files of this repository (used to list the files a glob
    selects when a manifest project is this repository); `config_project` is this
    repository's GitLab path (`group/project`), when known.
    """
    from gitops_lint.model.kubernetes import KubernetesObject

    if source not in ("git", "oci"):
        raise ValueError(f"source must be 'git' or 'oci', not {source!r}")
    gitlab_url = gitlab_url.rstrip("/")
    result = MigrationResult()
    # Only files holding Kubernetes objects can be kustomize resources (a kustomization.yaml, a values
    # file or an agent config a glob also matches cannot; the agent applied only objects too).
    holding_objects = {obj.path for obj in model.of_type(KubernetesObject)}
    rels = sorted({f.rel for f in files if f.rel in holding_objects})
    agents = sorted(model.of_type(AgentConfig), key=lambda a: (a.agent_name or "", a.path))
    used_paths: set[str] = set()
    replaced: set[str] = set()
    for agent in agents:
        name = agent.agent_name or "agent"
        section = _read_section(agent, _Report(result, name, ""))
        if section is None:
            continue
        if section.replaced:
            replaced.add(agent.path)
        project_dir = agent.location.project_dir if agent.location is not None else ""
        origin = document_origin(agent.doc)
        for index, entry in section.entries:
            if entry is None:
                _Report(result, name, f"#{index}")(f"gitops.manifest_projects[{index}]", section.raw[index],
                                                  "entry is not a mapping; skipped")
                continue
            _migrate_project(result, name, project_dir, index, entry, rels, used_paths, origin,
                             gitlab_url=gitlab_url, source=source, config_project=config_project)
    result.documents = dict(sorted(result.documents.items()))
    result.replaced = frozenset(replaced)
    return result


# --------------------------------------------------------------------------- reading the typed section


M = TypeVar("M", bound=Model)


def _typed(cls: type[M], data: dict) -> tuple[M, dict[Any, Any]]:
    """`data` as the typed `cls`, one key at a time: the object built from the keys the model takes, and
    {key: value} of those it refuses (a wrong type; a key that is not a string).

    Key by key rather than through `build_lenient`, so that a refused value is known by its key (the
    report shows it) and never takes a neighbour with it.
    """
    taken: dict[str, Any] = {}
    refused: dict[Any, Any] = {}
    for key, value in data.items():
        if not isinstance(key, str):
            refused[key] = value
            continue
        try:
            cls.model_validate({key: value})
        except ModelError:
            refused[key] = value
        else:
            taken[key] = value
    return cls.model_validate(taken), refused


@dataclass(slots=True)
class _Project:
    """One `manifest_projects` entry: the typed fields, what the model refused, and the typed `paths`."""

    fields: ManifestProjectCF
    refused: dict[Any, Any]
    #: Each `paths` item: typed when it is a mapping with a `glob` string, else the value as written.
    paths: list[PathCF | Any] | None

    def value(self, name: str) -> Any:
        """The typed value of field `name`, or the value the model refused there (for the report)."""
        return self.refused.get(name, getattr(self.fields, name))

    @property
    def unknown(self) -> list[str]:
        keys = [*(self.fields.model_extra or {}), *(k for k in self.refused if k not in ManifestProjectCF.model_fields)]
        return sorted(str(k) for k in keys)


@dataclass(slots=True)
class _Section:
    """What of an agent's `gitops` section the migration reads."""

    #: (index in the file's list, the entry; None when it is not a mapping).
    entries: list[tuple[int, _Project | None]]
    #: The list as written (a mapping read as a one-project list), to show an entry that is no mapping.
    raw: list[Any]
    #: Whether the documents replace the whole section (the compiled config leaves it out).
    replaced: bool


def _read_project(data: dict) -> _Project:
    paths_raw = data.get("paths")
    fields, refused = _typed(ManifestProjectCF, {k: v for k, v in data.items() if k != "paths"})
    paths: list[PathCF | Any] | None = None
    if isinstance(paths_raw, list):
        paths = [_path_item(item) for item in paths_raw]
    elif paths_raw is not None:  # `paths:` with no value is no list, but means the default, as for GitLab
        refused["paths"] = paths_raw
    return _Project(fields, refused, paths)


def _path_item(item: Any) -> PathCF | Any:
    """A `paths` item, typed; as written when the model refuses it (shown in the report)."""
    if not isinstance(item, dict):
        return item
    typed, refused = _typed(PathCF, item)
    return item if refused else typed


def _read_section(agent: AgentConfig, report: _Report) -> _Section | None:
    """The agent's `gitops` section through the typed models (`GitopsCF`, `ManifestProjectCF`, `PathCF`),
    reporting what cannot be migrated; None when there is nothing to migrate.

    Read from the document rather than from `agent.gitops`: lenient building drops a whole entry that is
    not a mapping, which would shift the index of every later entry (the report names entries by index).
    """
    raw = agent.doc.data if agent.doc is not None else None
    if not isinstance(raw, dict) or "gitops" not in raw:
        return None
    gitops_raw = raw["gitops"]
    if gitops_raw is None:
        report("gitops", None, "an empty section: the compiled agent config leaves it out")
        return _Section([], [], replaced=True)
    if not isinstance(gitops_raw, dict):
        report("gitops", gitops_raw, "`gitops` is not a mapping; nothing to migrate")
        return None
    projects = gitops_raw.get("manifest_projects")
    gitops, refused = _typed(GitopsCF, {k: v for k, v in gitops_raw.items() if k != "manifest_projects"})
    unknown = sorted(str(k) for k in [*(gitops.model_extra or {}), *(k for k in refused if k != "charts")])
    has_charts = gitops.charts is not None or refused.get("charts") is not None
    if has_charts:
        report("gitops.charts", "…", "experimental Helm charts (removed in 2023) are not migrated; "
               "write a HelmRelease for each")
    if projects is None:
        if unknown:
            report("gitops", unknown, f"no `manifest_projects` (unknown key(s) {', '.join(unknown)}: a typo?); "
                   "nothing to migrate")
        return None
    if unknown:
        report("gitops", unknown, f"unknown key(s) {', '.join(unknown)} ignored")
    if isinstance(projects, dict):
        projects = [projects]
        report("gitops.manifest_projects", "mapping",
               "`manifest_projects` is a mapping, not a list (a `- ` is missing): GitLab rejected this "
               "config; it is migrated as a one-project list")
    elif not isinstance(projects, list):
        report("gitops.manifest_projects", projects, "`manifest_projects` is not a list; nothing to migrate")
        return None
    if not has_charts:  # else part of it is not migrated: the section stays, and so does AGT003
        report("gitops", None, "replaced by the Flux objects this migration writes: the compiled agent config leaves the "
               "section out; delete it from the source config once Flux applies the manifests")
    entries = [(i, _read_project(e) if isinstance(e, dict) else None) for i, e in enumerate(projects)]
    return _Section(entries, projects, replaced=not has_charts)


# --------------------------------------------------------------------------- one manifest project


def _migrate_project(result: MigrationResult, agent: str, project_dir: str, index: int, entry: _Project,
                     rels: list[str], used_paths: set[str], origin: tuple[str, int], *, gitlab_url: str,
                     source: str, config_project: str | None) -> None:
    where = f"gitops.manifest_projects[{index}]"
    first_item = len(result.report)
    path, local, label, id_problem = _project_path(entry, config_project)
    report = _Report(result, agent, label or f"#{index}")
    unknown = entry.unknown
    if unknown:
        report(f"{where}", unknown, f"unknown key(s) {', '.join(unknown)} ignored (GitLab rejected them)")
    for removed in ("resource_inclusions", "resource_exclusions"):
        if entry.value(removed) is not None:
            report(f"{where}.{removed}", "…", "removed in GitLab 14.0; not migrated")
    if id_problem is not None:
        report(f"{where}.id", entry.value("id"), id_problem)

    slug = _slug(path.rsplit("/", 1)[-1] if "/" in path else path)
    base = f"{OUTPUT_DIR}/{_slug(agent)}/{slug}"
    if f"{base}.yaml" in used_paths:
        slug = f"{slug}-{index}"
        base = f"{OUTPUT_DIR}/{_slug(agent)}/{slug}"
    used_paths.add(f"{base}.yaml")
    name = _name(agent, slug)

    ref = _ref(entry, where, report)
    timeout = _timeout(entry, where, report)
    prune = entry.fields.prune
    if prune is None:
        if entry.value("prune") is not None:
            report(f"{where}.prune", entry.value("prune"), "not a boolean; Flux's `prune` is set to the agent default true")
        prune = True
    namespace = entry.fields.default_namespace or "default"
    report(f"{where}.default_namespace", namespace,
           f"mapped to `targetNamespace: {namespace}`, which sets the namespace of EVERY namespaced object; "
           "the agent only filled in missing namespaces. Remove targetNamespace if the manifests name "
           "their own namespaces")
    _report_unmapped(entry, where, report)
    prefix = f"{project_dir}/" if project_dir else ""
    kustomization_dir = _select_files(result, entry, where, report, local, prefix, base, rels, origin)
    src, ks = _flux_objects(name, path, ref, prune, namespace, timeout, kustomization_dir, where, report,
                            gitlab_url=gitlab_url, source=source)
    note = f"migrated from {where} of the GitLab agent `{agent}`, project {path}; review the migration report"
    result.documents[f"{prefix}{base}.yaml"] = [GeneratedDocument(*origin, note, src),
                                                GeneratedDocument(*origin, note, ks)]
    result.decisions[f"{prefix}{base}.yaml"] = result.report[first_item:]


def _project_path(entry: _Project, config_project: str | None) -> tuple[str, bool, str | None, str | None]:
    """The project's GitLab path, whether it is this repository, its label in the report (None: by index)
    and what is wrong with its `id`."""
    raw_id = entry.value("id")
    project_id = entry.fields.id if entry.fields.id and entry.fields.id.strip() else None
    if isinstance(raw_id, (int, float)) and not isinstance(raw_id, bool):
        project_id = str(raw_id)  # refused by the model (not a string), but the agent took a number
    if project_id is None:
        if config_project:
            return config_project, True, None, None
        path = "TODO-agent-config-project"
        return path, True, None, ("no `id`: the agent used its configuration project; its GitLab path is "
                                  f"unknown here, so the URL holds `{path}` (give the project path, e.g. "
                                  "`group/project`)")
    path = project_id.strip().strip("/")
    if path.endswith(".git"):
        path = path[:-4]
    problem = None
    if re.fullmatch(r"[0-9]+", path):
        problem = "a numeric project ID: Flux needs the project's path in the URL; replace it with `group/project`"
    elif "/" not in path or path.endswith((".yaml", ".yml")):
        problem = "does not look like a project path (`group/project`); check the URL"
    return path, config_project is not None and path == config_project.strip("/"), project_id, problem


def _ref(entry: _Project, where: str, report: _Report) -> dict[str, str]:
    """`ref` as Flux writes it: the set one of branch/tag/commit, or the default-branch guess (reported)."""
    ref: dict[str, str] = {}
    typed, refused = entry.fields.ref, entry.refused.get("ref")
    if isinstance(refused, dict):  # a mapping with a value that is no string: the other keys still count
        typed = _typed(GitRefCF, refused)[0]
    if typed is not None:
        ref = {key: getattr(typed, key) for key in ("branch", "tag", "commit") if getattr(typed, key)}
        if len(ref) > 1:
            report(f"{where}.ref", refused or typed.model_dump(exclude_unset=True),
                   "more than one of branch/tag/commit (GitLab wanted exactly one); Flux uses commit over tag "
                   "over branch")
    elif refused is not None:
        report(f"{where}.ref", refused, "`ref` is not a mapping; ignored")
    if not ref:
        ref = {"branch": DEFAULT_BRANCH_GUESS}
        report(f"{where}.ref", None, f"the agent used the project's default branch; `branch: {DEFAULT_BRANCH_GUESS}` "
               "is a guess (Flux's own default would be `master`): set the real default branch")
    return ref


def _timeout(entry: _Project, where: str, report: _Report) -> str | None:
    """The Kustomization's `timeout`: a non-default `reconcile_timeout`; the prune timeout is reported."""
    reconcile = _duration(entry.value("reconcile_timeout"), f"{where}.reconcile_timeout", report)
    # The agent's default (1h) is not written: without `wait` Flux's timeout only bounds the apply, and
    # Flux's default (the interval) keeps a slow apply from overlapping the next run (our INT003).
    timeout = reconcile if reconcile not in (None, DEFAULT_TIMEOUT) else None
    if timeout is not None and _ns(timeout) > _ns(KUSTOMIZATION_INTERVAL):
        report(f"{where}.reconcile_timeout", entry.value("reconcile_timeout"),
               f"carried over as `timeout: {timeout}`, longer than the Kustomization's interval "
               f"{KUSTOMIZATION_INTERVAL}: raise the interval or shorten the timeout")
    prune_timeout = _duration(entry.value("prune_timeout"), f"{where}.prune_timeout", report)
    if prune_timeout is not None and prune_timeout != (timeout or DEFAULT_TIMEOUT):
        report(f"{where}.prune_timeout", entry.value("prune_timeout"),
               "Flux has one `timeout` for apply, health checks and pruning; it is "
               f"{timeout or 'the interval (' + KUSTOMIZATION_INTERVAL + ')'}, not the agent's prune timeout "
               f"{prune_timeout}")
    return timeout


def _report_unmapped(entry: _Project, where: str, report: _Report) -> None:
    """Settings with no Flux equivalent, when they ask for something other than what Flux does."""
    dry_run = entry.value("dry_run_strategy")
    if dry_run not in (None, "", "none"):
        report(f"{where}.dry_run_strategy", dry_run,
               "no Flux equivalent: Flux always runs a server-side dry-run and then applies; to only preview, "
               "use `flux diff kustomization` or `spec.suspend: true`")
    propagation = entry.value("prune_propagation_policy")
    if propagation not in (None, "", "background"):
        report(f"{where}.prune_propagation_policy", propagation or "foreground",
               "no Flux equivalent: Flux garbage-collects pruned objects with background propagation "
               "(`spec.deletionPolicy` controls what happens when the Kustomization itself is deleted, not pruning)"
               + ("; to keep objects, label them `kustomize.toolkit.fluxcd.io/prune: disabled`"
                  if propagation == "orphan" else ""))
    inventory = entry.value("inventory_policy")
    if inventory != "adopt_all":
        report(f"{where}.inventory_policy", inventory or "must_match",
               "no Flux equivalent: Flux applies over existing objects whoever created them (like adopt_all); "
               "the agent's inventory ConfigMap in the default namespace is not read by Flux and can be deleted "
               "once Flux owns the objects")


def _select_files(result: MigrationResult, entry: _Project, where: str, report: _Report, local: bool, prefix: str,
                  base: str, rels: list[str], origin: tuple[str, int]) -> str | None:
    """The folder of the generated kustomization.yaml listing the files the globs select (this repository
    only), or None (`path: ./`); what the user must do is reported."""
    globs, glob_problems = _globs(entry)
    for problem in glob_problems:
        report(f"{where}.paths", *problem)
    if not local:
        report(f"{where}.paths", globs, "the manifests live in another project: Flux applies every manifest under "
               "`path` (or the kustomization.yaml there); create a kustomization.yaml in that project listing "
               "the files these globs match (doublestar, leading `/` stripped, dot folders skipped)")
        return None
    in_project = [r[len(prefix):] for r in rels if r.startswith(prefix)]
    matched = [p for p in select_files(globs, in_project) if not p.startswith(f"{OUTPUT_DIR}/")]
    if not matched:
        report(f"{where}.paths", globs, "the project is this repository but no loaded file matches these "
               "globs: create a kustomization.yaml listing the files and point the Kustomization's "
               "`path` at its folder")
        return None
    depth = base.count("/") + 1
    resources = ["../" * depth + p for p in matched]
    kustomization = {"apiVersion": _KUSTOMIZE_API, "kind": "Kustomization", "resources": resources}
    result.documents[f"{prefix}{base}/kustomization.yaml"] = [
        GeneratedDocument(*origin, f"migrated: the files {where}.paths selects", kustomization)]
    report(f"{where}.paths", globs, f"the project is this repository: {len(matched)} matched file(s) "
           f"listed in {base}/kustomization.yaml; regenerate it when files are added")
    return base


def _flux_objects(name: str, path: str, ref: dict[str, str], prune: bool, namespace: str, timeout: str | None,
                  kustomization_dir: str | None, where: str, report: _Report, *, gitlab_url: str,
                  source: str) -> tuple[dict, dict]:
    """The source (GitRepository or OCIRepository) and the Kustomization applying it."""
    host = urlparse(gitlab_url).hostname or "gitlab.com"
    if source == "oci":
        tag = ref.get("tag") or ref.get("branch") or "latest"
        src_kind = "OCIRepository"
        src_spec: dict[str, Any] = {"interval": SOURCE_INTERVAL, "url": f"oci://registry.{host}/{path.lower()}",
                                    "ref": {"tag": tag if _OCI_TAG.fullmatch(tag) else _slug(tag)}}
        report(f"{where}.id", path, f"OCI source: the agent read Git; a CI job must push the manifests with "
               f"`flux push artifact oci://registry.{host}/{path.lower()}:<tag>`; the registry may need a "
               "`secretRef` (docker-registry Secret) for private projects"
               + ("; a commit ref has no tag, `latest` is used" if "commit" in ref and tag == "latest" else ""))
    else:
        src_kind = "GitRepository"
        src_spec = {"interval": SOURCE_INTERVAL, "url": f"{gitlab_url}/{path}.git", "ref": ref}
    src = {"apiVersion": _GIT_API, "kind": src_kind,
           "metadata": {"name": name, "namespace": NAMESPACE}, "spec": src_spec}
    ks_spec: dict[str, Any] = {
        "interval": KUSTOMIZATION_INTERVAL,
        "path": f"./{kustomization_dir}" if kustomization_dir else "./",
        "prune": prune,
        "sourceRef": {"kind": src_kind, "name": name},
        "targetNamespace": namespace,
    }
    if timeout is not None:
        ks_spec["timeout"] = timeout
    ks = {"apiVersion": _KS_API, "kind": "Kustomization", "metadata": {"name": name, "namespace": NAMESPACE},
          "spec": ks_spec}
    return src, ks


def _globs(entry: _Project) -> tuple[list[str], list[tuple[Any, str]]]:
    problems: list[tuple[Any, str]] = []
    globs: list[str] = []
    if "paths" in entry.refused:
        problems.append((entry.refused["paths"], f"`paths` is not a list; the default `{DEFAULT_GLOB}` is used"))
    for item in entry.paths or []:
        glob = item.glob if isinstance(item, PathCF) else None
        if not glob:
            problems.append((item.model_dump(exclude_unset=True) if isinstance(item, PathCF) else item,
                             "entry without a `glob` string; ignored"))
            continue
        globs.append(glob)
        if re.search(r"\{[^}]*,\s|\s[,}]", glob):
            problems.append((glob, "spaces inside `{...}` are part of the alternatives (`{yaml, yml}` matches "
                             "`x. yml`, not `x.yml`): the agent never matched those files"))
        if any(p.startswith(".") and p not in (".", "..") for p in glob.lstrip("/").split("/")[:-1]):
            problems.append((glob, "names a folder starting with `.`: the agent skipped such folders, so this "
                             "glob matched nothing"))
    if not globs:
        globs = [DEFAULT_GLOB]
    return globs, problems


# --------------------------------------------------------------------------- reports


def render_report(result: MigrationResult) -> str:
    """The report as text, grouped by agent and project."""
    if not result.report:
        return "Nothing needs attention.\n"
    lines: list[str] = []
    current = None
    for item in result.report:
        key = (item["agent"], item["project"])
        if key != current:
            current = key
            if lines:
                lines.append("")
            lines.append(f"agent {item['agent']}" + (f", project {item['project']}" if item["project"] else ""))
        value = item["value"]
        shown = "" if value is None else f" = {json.dumps(value, ensure_ascii=False, default=str)}"
        lines.append(f"  {item['field']}{shown}: {item['message']}")
    files = "\n".join(f"  {p}" for p in result.documents)
    return "\n".join(lines) + ("\n\nwritten:\n" + files if files else "") + "\n"


def report_json(result: MigrationResult) -> str:
    text = json.dumps({"outputs": sorted(result.documents), "report": result.report}, indent=2,
                      ensure_ascii=False, default=str)
    # A file name's bytes that are not UTF-8 (os.fsdecode's surrogates) as JSON escapes: valid UTF-8 JSON
    # that reads back to the same name.
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"


_SURROGATE = re.compile("[\ud800-\udfff]")


# --------------------------------------------------------------------------- the fix of AGT003


def fix_gitops_sections(ctx, findings: list) -> None:
    """The fixer of AGT003 (`--fix --unsafe-fixes`): each agent's `gitops` section deleted, and the Flux
    files this migration writes for it created, each headed by the decisions left to a person. Unsafe:
    Flux objects take over from the agent. No fix when the migration does not replace the whole section."""
    from gitops_lint.compile.emit import dump
    from gitops_lint.diagnostics import Fix
    from gitops_lint.yaml.edits import TextEdits, region

    if not findings:
        return
    migration = migrate_agents(ctx.files, ctx.model, gitlab_url=ctx.settings.gitlab_url or "https://gitlab.com")
    agents = {agent.path: agent for agent in ctx.model.of_type(AgentConfig)}
    for finding in findings:
        agent = agents.get(finding.path)
        if agent is None or agent.path not in migration.replaced:
            continue
        edits = TextEdits.of(agent.doc)
        if edits is None or not edits.delete_entry((), "gitops"):
            continue
        name = agent.agent_name or "agent"
        theirs = {rel for rel, docs in migration.documents.items() if any(d.source == agent.path for d in docs)}
        placed = {id(item) for rel in theirs for item in migration.decisions.get(rel, ())}
        # What the migration says about the section as a whole (an entry that is no mapping, say) goes into
        # every file; its note that these files replace the section is what the fix does, not a decision.
        general = [item for item in migration.report if item["agent"] == name and id(item) not in placed
                   and item["field"] != "gitops"]
        created = []
        for rel in sorted(theirs):
            decisions = [*general, *migration.decisions.get(rel, ())]
            head = [f"# Written by `gitops-lint check --fix --unsafe-fixes` in place of the `gitops` section of "
                    f"{_one_line(agent.path)}."]
            if decisions:
                head += ["# Review before merging:", *(f"# - {_decision(item)}" for item in decisions)]
            body = "---\n".join(f"# {_one_line(d.note.removesuffix('; review the migration report'))}\n"
                                + dump(d.data) for d in migration.documents[rel])
            created.append((rel, "\n".join(head) + "\n" + body))
        if created:
            start, end, _ = edits.edits[0]
            span, old, text = region(agent.doc.file.text, [(start, end, "")])
            finding.fix = Fix(span, old, text, safe=False, creates=tuple(created))


def _decision(item: dict) -> str:
    """A report item on one comment line."""
    from gitops_lint.diagnostics import show_value

    shown = f" = {show_value(item['value'])}" if item.get("value") is not None else ""
    return _one_line(f"{item['field']}{shown}: {item['message']}")


def _one_line(text: str) -> str:
    """`text` fit for one comment line: every run of white space, line breaks included, one space (a
    project id holding a line break must not write YAML of its own into the file)."""
    return " ".join(str(text).split())
