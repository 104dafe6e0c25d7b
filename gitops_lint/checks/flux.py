"""How Flux and the GitLab agent's Flux module really behave together."""

from __future__ import annotations

import re
from typing import Iterator
from urllib.parse import urlsplit

from gitops_lint.checks import Context, at
from gitops_lint.diagnostics import Finding
from gitops_lint.model.agent import AgentConfig
from gitops_lint.model.flux.kustomize import Kustomization
from gitops_lint.model.flux.notification import Receiver
from gitops_lint.model.flux.source import GitRepository

_ALNUM = re.compile(r"[A-Za-z0-9]")


def agent_object_name(name: str, limit: int) -> str:
    """The agent's `objectWithPrefix`: `gitlab-<name>` cut to `limit`, ending in `-x` if cut at a non-alphanumeric."""
    result = "gitlab-" + name
    if len(result) > limit:
        result = result[:limit]
        if not _ALNUM.match(result[-1]):
            result = result[:-2] + "-x"
    return result


def gitlab_hosts(ctx: Context) -> set[str]:
    """Host names of the GitLab instance the agents belong to.

    From `gitlab-url` in the configuration; without it, when the repository
    holds an agent config, the hosts of GitRepository URLs that name GitLab
    (gitlab.com, gitlab.example.com).
    """
    configured = ctx.settings.get("gitlab_url")
    if configured:
        host = urlsplit(str(configured)).hostname
        return {host} if host else set()
    if not any(True for _ in ctx.model.of_type(AgentConfig)):
        return set()
    hosts = set()
    for repo in ctx.model.of_type(GitRepository):
        host = _host(repo.spec.url)
        if host and "gitlab" in host.split("."):
            hosts.add(host)
        elif host and host.startswith("gitlab."):
            hosts.add(host)
    return hosts


def _host(url: str | None) -> str | None:
    if not url or "${" in url:
        return None
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def kustomization_prune_disabled(ctx: Context) -> Iterator[Finding]:
    for ks in ctx.model.of_type(Kustomization):
        if ks.spec.prune is False:
            yield at(ks, ("spec", "prune"), (
                "prune: false: objects removed from Git stay in the cluster and drift; set prune: true (opt single "
                "objects out with the annotation kustomize.toolkit.fluxcd.io/prune: disabled)"))


def receiver_name_collision(ctx: Context) -> Iterator[Finding]:
    """A user Receiver with the name the agent gives the Receiver it creates for a GitRepository."""
    hosts = gitlab_hosts(ctx)
    if not hosts:
        return
    agent_names: dict[tuple[str | None, str], GitRepository] = {}
    for repo in ctx.model.of_type(GitRepository):
        if repo.name and _host(repo.spec.url) in hosts:
            agent_names[(repo.namespace, agent_object_name(repo.name, 63))] = repo
    for receiver in ctx.model.of_type(Receiver):
        repo = agent_names.get((receiver.namespace, receiver.name or ""))
        annotations = receiver.metadata.annotations or {}
        if repo is None or annotations.get("app.kubernetes.io/managed-by") == "gitlab":
            continue
        yield at(receiver, ("metadata", "name"), (
            f"the GitLab agent creates a Receiver named {receiver.name!r} for {repo.ref} (on the GitLab instance) "
            "and applies it with force: the two overwrite each other on every reconcile; rename this one"))


def prefer_oci_source(ctx: Context) -> Iterator[Finding]:
    """Advice (opt-in): deploy from OCI artifacts rather than Git."""
    used = {(ks.spec.sourceRef.namespace or ks.namespace, ks.spec.sourceRef.name)
            for ks in ctx.model.of_type(Kustomization)
            if ks.spec.sourceRef is not None and (ks.spec.sourceRef.kind or "GitRepository") == "GitRepository"}
    for repo in ctx.model.of_type(GitRepository):
        if (repo.namespace, repo.name) in used:
            yield at(repo, ("kind",), (
                "Kustomizations deploy from this GitRepository: an OCIRepository with an artifact pushed by CI "
                "(`flux push artifact`) is immutable, can be signed and scanned, and is not re-synced on every push"))
