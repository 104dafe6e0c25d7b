"""Facts about GitLab and its agent that several stages need: which GitLab instance the agents belong
to, which GitRepositories an agent reconciles on push, and how the agent names what it creates.

They live here, below every stage, so that rules, `graph` and `compile` share one answer and none
of them imports another's module.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from gitops_lint.model import Model

if TYPE_CHECKING:
    from gitops_lint.model.agent import AgentConfig
    from gitops_lint.model.flux.source import GitRepository

_ALNUM = re.compile(r"[A-Za-z0-9]")


def gitlab_release(text: object) -> tuple[int, int] | None:
    """`MAJOR.MINOR` (a target GitLab release, or a schema's `x-gitlab-since`) as a comparable pair; None
    when there is none or it is no such text."""
    if not isinstance(text, str) or "." not in text:
        return None
    major, _, minor = text.partition(".")
    return (int(major), int(minor)) if major.isdigit() and minor.isdigit() else None


def agent_object_name(name: str, limit: int) -> str:
    """The agent's `objectWithPrefix`: `gitlab-<name>` cut to `limit`, ending in `-x` if cut at a non-alphanumeric."""
    result = "gitlab-" + name
    if len(result) > limit:
        result = result[:limit]
        if not _ALNUM.match(result[-1]):
            result = result[:-2] + "-x"
    return result


def project_path(url: str | None) -> str | None:
    """The agent's own derivation: the URL path without leading slashes and one trailing `.git`."""
    if not url or "${" in url:
        return None
    path = urlsplit(url).path.lstrip("/")
    return path[:-4] if path.endswith(".git") else path


def url_host(url: str | None) -> str | None:
    """The host of a URL; None for a `${VAR}` or an unparseable one."""
    if not url or "${" in url:
        return None
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def gitlab_hosts(model: Model, gitlab_url: str | None = None) -> set[str]:
    """Host names of the GitLab instance the agents belong to.

    From `gitlab-url` in the configuration; without it, when the repository
    holds an agent config, the hosts of GitRepository URLs that name GitLab
    (gitlab.com, gitlab.example.com).
    """
    if gitlab_url:
        host = urlsplit(str(gitlab_url)).hostname
        return {host} if host else set()
    if not any(True for _ in model.of_type("AgentConfig")):
        return set()
    hosts = set()
    for repo in model.of_type("GitRepository"):
        host = url_host(repo.spec.url)
        if host and ("gitlab" in host.split(".") or host.startswith("gitlab.")):
            hosts.add(host)
    return hosts


def agent_watches(model: Model, gitlab_url: str | None = None, *, configured_only: bool = True
                  ) -> list[tuple[AgentConfig, list[GitRepository]]]:
    """Each agent with the Flux module, and the GitRepositories on its GitLab instance it reconciles on push.

    The module runs in every agent (16.1+) of a cluster with Flux's CRDs; `configured_only` keeps
    the agents whose config has a `flux:` section, a sign that the cluster runs Flux at all.
    """
    hosts = gitlab_hosts(model, gitlab_url)
    repositories = [r for r in model.of_type("GitRepository") if url_host(r.spec.url) in hosts]
    return [(agent, repositories) for agent in model.of_type("AgentConfig")
            if (agent.flux is not None or not configured_only)
            and (agent.location is None or agent.location.ignored_because is None)]
