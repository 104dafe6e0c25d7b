"""How Flux and the GitLab agent's Flux module really behave together."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator
from urllib.parse import urlsplit

from gitops_lint.checks import Context, at
from gitops_lint.diagnostics import Finding
from gitops_lint.model import gitlab, is_kind
from gitops_lint.model.gitlab import agent_object_name, project_path, url_host
from gitops_lint.yaml.positions import value_at

if TYPE_CHECKING:
    from gitops_lint.model.flux.source import GitRepository


def gitlab_hosts(ctx: Context) -> set[str]:
    """Host names of the GitLab instance the agents belong to (`model.gitlab.gitlab_hosts`)."""
    return gitlab.gitlab_hosts(ctx.model, ctx.settings.gitlab_url)


def agent_watches(ctx: Context, *, configured_only: bool = True) -> list:
    """Each agent with the Flux module and the GitRepositories it reconciles on push (`model.gitlab`)."""
    return gitlab.agent_watches(ctx.model, ctx.settings.gitlab_url, configured_only=configured_only)


def kustomization_prune_disabled(ctx: Context) -> Iterator[Finding]:
    """Advice (info): `prune: false`, often deliberate (CRDs, the CNI, storage, Flux itself), sometimes an oversight."""
    for ks, written in ctx.as_applied("Kustomization"):
        if ks.spec.prune is False:
            yield at(written, ("spec", "prune"), (
                "prune: false: objects removed from Git (or left when this Kustomization is deleted) stay in the "
                "cluster; right for what must outlive its manifests (CRDs, the CNI, volumes, Flux itself), otherwise "
                "set prune: true and opt single objects out with the annotation "
                "kustomize.toolkit.fluxcd.io/prune: disabled" + ctx.applied_note(ks, written, ("spec", "prune"))))


def receiver_name_collision(ctx: Context) -> Iterator[Finding]:
    """A user Receiver with the name the agent gives the Receiver it creates for a GitRepository."""
    hosts = gitlab_hosts(ctx)
    if not hosts:
        return
    agent_names: dict[tuple[str | None, str], GitRepository] = {}
    for repo, _ in ctx.as_applied("GitRepository"):  # names and namespaces as Flux applies them
        if repo.name and url_host(repo.spec.url) in hosts:
            agent_names[(repo.namespace, agent_object_name(repo.name, 63))] = repo
    for receiver, written in ctx.as_applied("Receiver"):
        repo = agent_names.get((receiver.namespace, receiver.name or ""))
        annotations = receiver.metadata.annotations or {}
        if repo is None or annotations.get("app.kubernetes.io/managed-by") == "gitlab":
            continue
        yield at(written, ("metadata", "name"), (
            f"the GitLab agent creates a Receiver named {receiver.name!r} for {repo.ref} (on the GitLab instance) "
            "and applies it with force: the two overwrite each other on every reconcile; rename this one"))


def receiver_wildcard_without_labels(ctx: Context) -> Iterator[Finding]:
    """A Receiver resource named `*` without matchLabels: notification-controller fails it on every call."""
    for receiver, written in ctx.as_applied("Receiver"):
        resources = value_at(ctx.applied_data(receiver), ("spec", "resources"))
        for index, resource in enumerate(resources if isinstance(resources, list) else ()):
            if isinstance(resource, dict) and resource.get("name") == "*" and resource.get("matchLabels") is None:
                yield at(written, ("spec", "resources", index, "name"), (
                    f"resources[{index}] names every {resource.get('kind') or 'object'} ('*') without matchLabels: "
                    "notification-controller fails it on every webhook call (\"matchLabels field not set when using "
                    "wildcard '*' as name\") and answers 500; add matchLabels"))


def prefer_oci_source(ctx: Context) -> Iterator[Finding]:
    """Advice (opt-in): deploy from OCI artifacts rather than Git."""
    used = {(ks.spec.sourceRef.namespace or ks.namespace, ks.spec.sourceRef.name)
            for ks in ctx.model.of_type("Kustomization")
            if ks.spec.sourceRef is not None and (ks.spec.sourceRef.kind or "GitRepository") == "GitRepository"}
    for repo in ctx.model.of_type("GitRepository"):
        if (repo.namespace, repo.name) in used:
            yield at(repo, ("kind",), (
                "Kustomizations deploy from this GitRepository: an OCIRepository with an artifact pushed by CI "
                "(`flux push artifact`) is immutable, can be signed and scanned, and is not re-synced on every push"))


def _secret_keys(ctx: Context, secret) -> set[str] | None:
    """The keys of a Secret as Flux applies it (with what a patch adds); None for one a secretGenerator makes:
    its inputs (`.env` files, SOPS-encrypted or made in CI) may lie outside what the repository holds."""
    if ctx.model.written(secret).kind != "Secret":
        return None
    data = ctx.graph.data_of(secret)
    keys: set[str] = set()
    if not isinstance(data, dict):
        return keys
    for field in ("data", "stringData"):
        if isinstance(data.get(field), dict):
            keys.update(str(k) for k in data[field])
    return keys


def git_secret_keys(ctx: Context) -> Iterator[Finding]:
    """The Secret a GitRepository authenticates with lacks the keys its URL scheme needs (domain reference §B.4)."""
    graph = ctx.graph
    for ref in graph.references:
        if not is_kind(ref.source, "GitRepository") or ref.spec.relation != "secretRef" or not ref.targets:
            continue
        url = ref.source.spec.url or ""
        if "${" in url:
            continue
        try:
            in_url = urlsplit(url)
        except ValueError:
            continue  # no URL source-controller can parse (an unclosed `[`): the schema rules speak of it
        scheme = in_url.scheme
        for secret in ref.targets:
            keys = _secret_keys(ctx, secret)
            if not keys:
                continue  # data filled in some other way (a generator, a patch): nothing to judge
            where = f"{graph.key(secret)} ({secret.path})"
            if scheme == "ssh":
                missing = [k for k in ("identity", "known_hosts") if k not in keys]
                if missing:
                    yield at(ref.source, ref.path + ("name",), (
                        f"ssh:// repository, but {where} has no {' and no '.join(missing)}: Flux needs the private key "
                        "(`identity`, a read-only deploy key is enough) and the host key (`known_hosts`)"))
            elif scheme in ("http", "https") and (ref.source.spec.provider or "generic") == "generic":
                # (a `provider` such as github authenticates with its own keys: a GitHub App's)
                # fluxcd/pkg git.NewAuthOptions: a bearerToken wins; else the URL's user fills in a missing
                # username or password, and only a password without a username is refused.
                basic = {"username", "password"} & keys
                tls_only = keys <= {"ca.crt", "caFile", "tls.crt", "tls.key"}
                if "bearerToken" not in keys and "password" in keys and "username" not in keys \
                        and not in_url.username:
                    yield at(ref.source, ref.path + ("name",), (
                        f"{where} has password without username, and the URL names no user: Flux refuses it "
                        "(\"'password' requires 'username' to be set\"); for GitLab: any username and a deploy "
                        "token as password"))
                elif not basic and "bearerToken" not in keys and not tls_only:
                    yield at(ref.source, ref.path + ("name",), (
                        f"https:// repository, but {where} has neither username/password nor bearerToken "
                        f"(it has {', '.join(sorted(keys))}): for GitLab use a project deploy token with "
                        "read_repository as `password` and its name as `username`"))


def gitlab_provider(ctx: Context) -> Iterator[Finding]:
    """A Provider posting to GitLab (commit status, MR comments) without a token or without a project address."""

    for provider, written in ctx.as_applied("Provider"):
        kind = provider.spec.type
        if kind not in ("gitlab", "gitlabmergerequestcomment"):
            continue
        if provider.spec.secretRef is None:
            yield at(written, ("spec",), (
                f"Provider of type {kind} has no secretRef: GitLab refuses the calls; give it a Secret with `token`, "
                "a project access token with the api scope (the smallest blast radius)"))
        address = provider.spec.address
        if isinstance(address, str) and "${" not in address:
            parts = urlsplit(address)
            if parts.scheme not in ("http", "https") or not _gitlab_project_id(parts.path):
                yield at(written, ("spec", "address"), (
                    f"address {address!r} is not a project URL: write the project's web address, e.g. "
                    "https://gitlab.com/group/project, or the instance URL and the project's numeric ID, e.g. "
                    "https://gitlab.com/83" + ctx.applied_note(provider, written, ("spec", "address"))))
        elif address is None and provider.spec.secretRef is not None and not _secret_has(ctx, provider, "address"):
            yield at(written, ("spec",), (
                f"Provider of type {kind} has no address (neither in spec nor in its Secret): set the project's URL, "
                "e.g. https://gitlab.com/group/project"))


def _gitlab_project_id(path: str) -> str | None:
    """The project notification-controller sends to GitLab's API for an address path; None when there is none.

    Flux takes the whole URL path, without its leading slashes and one trailing
    `.git`, as the project ID of GitLab's API (`/projects/:id`), which accepts a
    full project path (`group/project`, at least two segments: a single name is
    a user or a group) or the project's numeric ID (`83`).
    """
    project = path.lstrip("/").removesuffix(".git")
    segments = [s for s in project.split("/") if s]
    if len(segments) >= 2 or (len(segments) == 1 and segments[0].isascii() and segments[0].isdigit()):
        return project
    return None


def _secret_has(ctx: Context, obj, key: str) -> bool:
    """Whether the Secret `obj` (an object as Flux applies it: `as_applied`) references holds `key`; True when
    the Secret is not in the repository."""
    for ref in ctx.graph.references:
        if ref.source is obj and ref.spec.relation == "secretRef":
            # Keys not known (generated, or filled in some other way) get the benefit of the doubt.
            return not ref.targets or any(not keys or key in keys for keys in (_secret_keys(ctx, s) for s in ref.targets))
    return True


#: What the agent's Flux module needs in the cluster (domain reference §A.11: GitRepository and Receiver v1 CRDs).
AGENT_NEEDS = ("source-controller", "notification-controller")


def flux_install_components(ctx: Context) -> tuple[set[str], object] | None:
    """Flux controllers the repository installs, and an object to point at; None when it holds no Flux install."""
    from gitops_lint.model.kubernetes import KubernetesObject

    found: set[str] = set()
    anchor = None
    for obj, written in ctx.as_applied(KubernetesObject):  # as Flux applies them (an overlay adds components)
        labels = obj.metadata.labels or {}
        if obj.kind == "Deployment" and obj.group == "apps" and (
                labels.get("app.kubernetes.io/part-of") == "flux" or (obj.name or "").endswith("-controller")
                and obj.namespace == "flux-system"):
            found.add(obj.name or "")
            anchor = anchor or written
        elif obj.kind == "FluxInstance" and obj.group.startswith("fluxcd.controlplane.io"):
            spec = ctx.applied_data(obj).get("spec")
            components = spec.get("components") if isinstance(spec, dict) else None
            if isinstance(components, list):
                found.update(str(c) for c in components)
            else:  # the operator installs its default set, which includes both
                found.update(AGENT_NEEDS)
            anchor = anchor or written
    if anchor is None or not found & {"source-controller", "kustomize-controller", "helm-controller"}:
        return None
    return found, anchor


def agent_flux_components(ctx: Context) -> Iterator[Finding]:
    """The agent's Flux module is configured, but the repository's Flux install lacks what it needs."""
    install = flux_install_components(ctx)
    if install is None:
        return
    components, anchor = install
    missing = [c for c in AGENT_NEEDS if c not in components]
    if not missing:
        return
    for agent in ctx.model.of_type("AgentConfig"):
        if agent.flux is None:
            continue
        yield at(agent, ("flux",), (
            f"the agent's Flux module needs {' and '.join(missing)} (its GitRepository and Receiver v1 APIs), but "
            f"the Flux install in {anchor.path} has no {', '.join(missing)}: no GitRepository gets instant "
            "reconciliation on push"), key=True)


def private_project_no_push(ctx: Context, config_project: str = "", public_projects: list | None = None
                            ) -> Iterator[Finding]:
    """GitRepositories the agent cannot reconcile on push: private projects other than its configuration project.

    The configuration project is the `config_project` option, or else the
    project of the bootstrap GitRepository `flux-system` on the instance (a
    fleet repository usually holds its agents' configs too).
    """
    public = {str(p).strip("/") for p in public_projects or ()}
    for agent, repositories in agent_watches(ctx):
        own = config_project.strip("/") or next(
            (project_path(r.spec.url) for r in repositories if r.name == "flux-system"), None)
        if not own:
            return  # nothing says which project holds the agent: not judged
        for repo in repositories:
            project = project_path(repo.spec.url)
            if project and project != own and project not in public:
                yield at(repo, ("spec", "url"), (
                    f"{project} is not the agent's configuration project ({own}) nor listed as public: GitLab lets "
                    f"{agent.ref} reconcile on push only its configuration project and public projects, so this "
                    "source follows its interval (list public projects in rule option public_projects)"))
