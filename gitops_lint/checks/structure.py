"""Where files sit and what every document must carry."""

from __future__ import annotations

from typing import Iterator

from gitops_lint.checks import Context, at
from gitops_lint.diagnostics import Finding
from gitops_lint.model.agent import AgentConfig
from gitops_lint.model.kubernetes import KubernetesObject
from gitops_lint.yaml.positions import format_path

#: API groups whose objects always need metadata.name (Flux's own).
FLUX_GROUP_SUFFIX = ".toolkit.fluxcd.io"
#: Files that carry `apiVersion` without being Kubernetes objects.
NOT_OBJECT_FILES = frozenset({"Chart.yaml", "Chart.yml"})


def agent_config_location(ctx: Context, nested_project: bool = False) -> Iterator[Finding]:
    """Agent configs GitLab never reads; `nested_project` selects the info-level case of a nested `.gitlab/`."""
    for agent in ctx.model.of_type(AgentConfig):
        location = agent.location
        if location is None:
            continue
        if nested_project:
            if location.ignored_because is None and location.project_dir:
                yield at(agent, (), (
                    f"agent config under `{location.project_dir}/`: GitLab reads `.gitlab/agents/` only at the "
                    "root of a project, so this file is ignored unless that folder is a project of its own"))
        elif location.ignored_because is not None:
            yield at(agent, (), location.ignored_because)


def object_identity(ctx: Context) -> Iterator[Finding]:
    """Documents meant as Kubernetes objects that lack apiVersion, kind or metadata.name."""
    for doc in ctx.model.other_documents:
        data = doc.data
        if doc.file.rel.rsplit("/", 1)[-1] in NOT_OBJECT_FILES:
            continue
        has = {k for k in ("apiVersion", "kind", "metadata") if k in data}
        if "metadata" in has and not isinstance(data.get("metadata"), dict):
            continue
        if len(has) < 2:
            continue  # one of the three alone says nothing: a values file may well have `kind:`
        for key in ("apiVersion", "kind"):
            if key not in data:
                yield _finding(doc, (), f"document has no `{key}`: Kubernetes and Flux cannot apply it")
            elif not isinstance(data[key], str):
                yield _finding(doc, (key,), f"`{key}` must be a string")
    for obj in ctx.model.of_type(KubernetesObject):
        if obj.metadata.name or obj.metadata.generateName:
            continue
        if (obj.kind or "").endswith("List"):
            continue
        metadata = obj.doc.data.get("metadata")
        if isinstance(metadata, dict) or obj.group.endswith(FLUX_GROUP_SUFFIX):
            where = ("metadata",) if isinstance(metadata, dict) else ()
            yield at(obj, where, f"{obj.kind} has no `metadata.name`: the API server rejects it", key=True)


def _finding(doc, path, message) -> Finding:
    return Finding(message, doc.file.rel, doc.locate(path), anchor=format_path(path) or "document")
