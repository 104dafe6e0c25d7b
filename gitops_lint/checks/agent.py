"""How GitLab's agent really treats its configuration: legacy GitOps, inventory, webhook URLs."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator
from urllib.parse import urlsplit

from gitops_lint.checks import Context, at
from gitops_lint.diagnostics import Finding, Severity, show_value
from gitops_lint.model.kubernetes import KubernetesObject

if TYPE_CHECKING:
    from gitops_lint.model.agent import AgentConfig


#: The agent's own test (Go regexp.MatchString: unanchored, anywhere in the string).
PROXY_PATH_RE = re.compile(r"/api/v1/namespaces/([^/]+)/services/([^/]+)/proxy")
DEFAULT_WEBHOOK_RECEIVER_URL = "http://webhook-receiver.flux-system.svc.cluster.local"
#: `http:webhook-receiver:80` in a proxy path names scheme, service and port.
_PROXY_SERVICE_RE = re.compile(r"^(?:https?:)?([^:]+)(?::[^:]+)?$")
#: GitLab versions of the legacy `gitops` keyword (domain reference §A.3, §A.12).
GITOPS_DEPRECATED, GITOPS_REMOVED = (16, 2), (17, 0)


def gitlab_version(ctx: Context) -> tuple[int, int] | None:
    """The GitLab release to judge against; None means the newest."""
    from gitops_lint.model.gitlab import gitlab_release

    return gitlab_release(ctx.settings.gitlab_version)


def legacy_gitops(ctx: Context) -> Iterator[Finding]:
    """The `gitops` section: an error where the configured GitLab is 17.0 or later (the section is gone); a
    warning where it still runs it (16.2-16.11), and where no `gitlab-version` says which GitLab runs the
    agent (a self-managed GitLab before 17.0 still applies these manifests)."""
    version = gitlab_version(ctx)
    if version is not None and version < GITOPS_DEPRECATED:
        return
    for agent in ctx.model.of_type("AgentConfig"):
        data = agent.doc.data
        if data.get("gitops") is None:
            continue  # absent, or null: unset for GitLab
        what = _gitops_contents(data["gitops"])
        if version is None:
            message = (f"the `gitops` section ({what}) was removed in GitLab 17.0: on GitLab 17.0 or later "
                       "(gitlab.com included) the agent applies none of these manifests; move them to Flux "
                       "(`gitlab-version` says which GitLab runs the agent)")
        elif version >= GITOPS_REMOVED:
            message = (f"the `gitops` section ({what}) was removed in GitLab 17.0: the agent no longer applies "
                       "these manifests; move them to Flux")
        else:
            message = (f"the `gitops` section ({what}) is deprecated since GitLab 16.2 and removed in 17.0; "
                       "move these manifests to Flux before upgrading")
        finding = at(agent, ("gitops",), message, key=True)
        if version is None or version < GITOPS_REMOVED:
            finding.severity = Severity.WARNING  # the rule's error is for a GitLab known to be 17.0 or later
        yield finding


def _gitops_contents(section: object) -> str:
    """What a `gitops` section holds, in a few words, as written (the typed model drops a malformed list)."""
    if not isinstance(section, dict):
        return f"{_a_value(section)}, not a mapping"
    projects = section.get("manifest_projects")
    if projects is None and (others := [f"`{key}`" for key in section if key != "manifest_projects"]):
        return f"no `manifest_projects`, only {', '.join(others)}"
    if projects is None or projects == []:
        return "no manifest projects"
    if isinstance(projects, list):
        return f"{len(projects)} manifest project{'s' if len(projects) != 1 else ''}"
    return f"`manifest_projects` is {_a_value(projects)}, not a list"


def _a_value(value: object) -> str:
    """`a mapping`, `a list`, `the string "x"`, `the value 3`."""
    if isinstance(value, (dict, list)):
        return show_value(value)
    return f"the {'string' if isinstance(value, str) else 'value'} {show_value(value)}"


def inventory_adopt_all(ctx: Context) -> Iterator[Finding]:
    for agent in ctx.model.of_type("AgentConfig"):
        for index, project in enumerate(agent.gitops.manifest_projects if agent.gitops else ()):
            if project.inventory_policy == "adopt_all":
                yield at(agent, ("gitops", "manifest_projects", index, "inventory_policy"), (
                    "inventory_policy: adopt_all takes over objects that another inventory (another agent, "
                    "Flux, Helm) manages, and may prune them later; use must_match (the default) or "
                    "adopt_if_no_inventory"))


def access_id_not_a_path(ctx: Context) -> Iterator[Finding]:
    """ci_access/user_access ids GitLab looks up by full path that no full path matches."""
    for agent in ctx.model.of_type("AgentConfig"):
        for section_name in ("ci_access", "user_access"):
            section = getattr(agent, section_name, None)
            for kind in ("projects", "groups"):
                for index, entry in enumerate(getattr(section, kind, None) or ()):
                    problem = _not_a_path(entry.id) if isinstance(entry.id, str) else None
                    if problem:
                        yield at(agent, (section_name, kind, index, "id"), (
                            f"{section_name}.{kind}[{index}].id {entry.id!r} {problem}: GitLab looks {kind} up by "
                            "their full path, so this entry authorizes nothing"))


def _not_a_path(value: str) -> str | None:
    """Why `value` matches no full path (None when it may be one)."""
    if "://" in value:
        path = urlsplit(value).path.strip("/") if _split(value) is not None else ""
        return f"is a URL{f'; its path is {path!r}' if path else ''}"
    if value.isdigit():
        return "is a numeric ID, not the path"
    if value.startswith("/") or value.endswith("/"):
        return f"has a leading or trailing '/' (write {value.strip('/')!r})"
    return None


def manifest_prune_disabled(ctx: Context) -> Iterator[Finding]:
    for agent in ctx.model.of_type("AgentConfig"):
        for index, project in enumerate(agent.gitops.manifest_projects if agent.gitops else ()):
            if project.prune is False:
                yield at(agent, ("gitops", "manifest_projects", index, "prune"), (
                    "prune: false leaves objects deleted from Git running in the cluster"))


def _receiver_services(ctx: Context) -> set[tuple[str, str]]:
    """(namespace, name) of each Service named webhook-receiver that the repository installs, where Flux puts it
    (a kustomization's `namespace:` moves the one `gotk-components.yaml` writes into flux-system)."""
    found = set()
    for obj, _ in ctx.as_applied(KubernetesObject):
        if obj.kind == "Service" and obj.group == "" and obj.name == "webhook-receiver":
            found.add((obj.namespace or "flux-system", obj.name))
    return found


def _webhook_urls(ctx: Context) -> Iterator[tuple[AgentConfig, str]]:
    for agent in ctx.model.of_type("AgentConfig"):
        url = agent.flux.webhook_receiver_url if agent.flux else None
        if url:
            yield agent, url.strip()


def _split(url: str):
    """`urlsplit(url)`, or None where it (like Go's url.Parse) refuses the URL: an unclosed `[`, a port that
    is no number."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    try:
        parts.port  # noqa: B018 - raises for a port that is no number, as Go's url.Parse refuses it
    except ValueError:
        if not parts.netloc.rpartition(":")[2].isdigit():  # Go checks digits only, not the range
            return None
    return parts


def webhook_url_invalid(ctx: Context) -> Iterator[Finding]:
    path = ("flux", "webhook_receiver_url")
    for agent, url in _webhook_urls(ctx):
        proxy = PROXY_PATH_RE.search(url)
        parts = _split(url)
        written = agent.flux.webhook_receiver_url if agent.flux else url
        if parts is None or written[:1].isspace():
            why = "it starts with a space" if parts is not None else "its host or port does not parse"
            yield at(agent, path, (
                f"{written!r} is no URL the agent can parse (Go's url.Parse refuses it: {why}), so its Flux module "
                f"does not start; the default is {DEFAULT_WEBHOOK_RECEIVER_URL}"))
        elif proxy and parts.scheme:
            yield at(agent, path, (
                f"{url!r} is a full URL that contains a service-proxy path: the agent joins the whole string "
                "onto the Kubernetes API server URL, so the call goes nowhere; write only the path "
                f"({proxy.group(0)!r}) or a plain URL without it"))
        elif proxy:
            continue
        elif parts.scheme not in ("http", "https") or not parts.hostname:
            yield at(agent, path, (
                f"{url!r} is neither an absolute http(s) URL nor a service-proxy path "
                "(/api/v1/namespaces/<ns>/services/<svc>/proxy): the agent cannot call it; the default is "
                f"{DEFAULT_WEBHOOK_RECEIVER_URL}"))


def webhook_proxy_untrusted(ctx: Context, trusted_urls: list | None = None) -> Iterator[Finding]:
    trusted = {str(u).strip() for u in trusted_urls or ()}
    for agent, url in _webhook_urls(ctx):
        parts = _split(url)
        if PROXY_PATH_RE.search(url) and parts is not None and not parts.scheme and url not in trusted:
            yield at(agent, ("flux", "webhook_receiver_url"), (
                f"service-proxy webhook URL {url!r}: the agent sends its own Kubernetes credentials with every "
                "call; if this Service is meant to receive them, list the URL in rule-options "
                "(AGT007: trusted_urls)"))


def webhook_receiver_mismatch(ctx: Context) -> Iterator[Finding]:
    services = _receiver_services(ctx)
    if not services:
        return  # the repository does not show where Flux is installed
    for agent, url in _webhook_urls(ctx):
        target = _url_target(url)
        if target is None or target in services:
            continue
        where = ", ".join(f"{name} in namespace {ns}" for ns, name in sorted(services))
        yield at(agent, ("flux", "webhook_receiver_url"), (
            f"{url!r} points at service {target[1]} in namespace {target[0]}, but this repository installs "
            f"notification-controller's receiver as {where}"))


def _url_target(url: str) -> tuple[str, str] | None:
    """(namespace, service) a webhook URL reaches inside the cluster, when it says."""
    if proxy := PROXY_PATH_RE.search(url):
        service = _PROXY_SERVICE_RE.match(proxy.group(2))
        return (proxy.group(1), service.group(1)) if service else None
    parts = _split(url)
    host = (parts.hostname if parts is not None else None) or ""
    labels = host.split(".")
    if len(labels) >= 3 and labels[2] == "svc":
        return labels[1], labels[0]
    return None
