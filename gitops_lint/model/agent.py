"""The GitLab agent for Kubernetes configuration file (`.gitlab/agents/<name>/config.yaml`).

Field names are the snake_case proto field names, the only spelling GitLab
accepts. Durations (protobuf `Duration`, e.g. `"3600s"`) and enum-like values are plain
strings here: their format and allowed values are for the rules to check, so
a bad value is reported with its rule rather than dropped by the model.

Message-typed fields default to None, not to an empty message: for GitLab a
present section and an absent one differ (a present `container_scanning` needs
`cadence`, for instance).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from gitops_lint.model.base import Field, Located, Model, Plain, Refused

if TYPE_CHECKING:
    from gitops_lint.model import AgentPath

# GitLab also accepts "" for these three: it means the default (none, foreground, must_match).
DRY_RUN_STRATEGIES = ("none", "client", "server")
PRUNE_PROPAGATION_POLICIES = ("orphan", "background", "foreground")
INVENTORY_POLICIES = ("must_match", "adopt_if_no_inventory", "adopt_all")
#: Proto enum `log_level_enum`: GitLab accepts the name or its number.
LOG_LEVELS = ("info", "debug", "warn", "error")

#: Where kas finds an agent's config; group 1 is the agent name.
CONFIG_PATH_RE = re.compile(r"(?:^|/)\.gitlab/agents/([^/]+)/config\.ya?ml$")


def _int_or_str(value: Any) -> int | str:
    # One check instead of an `int | str` union, which would report a
    # wrong value once per member and so would make two problems of one.
    if isinstance(value, (int, str)) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)  # go-yaml's JSON writes 1.0 as 1, which protojson takes as an integer
    raise Refused("int_or_string_type", "An integer or a numeric string")


#: A protobuf integer (or enum) field: protojson takes a number or a numeric string.
IntOrStr = Annotated[int | str, Plain(_int_or_str)]


# --------------------------------------------------------------------------- gitops (legacy)


class GitRefCF(Model):
    """Exactly one of `tag`, `branch` or `commit` is meant to be set."""

    tag: str | None = None
    branch: str | None = None
    commit: str | None = None


class PathCF(Model):
    """A doublestar glob of manifest files in the project."""

    glob: str | None = None


class ResourceFilterCF(Model):
    """`resource_inclusions`/`resource_exclusions` entry, removed in GitLab 14.0."""

    api_groups: list[str] = Field(default_factory=list)
    kinds: list[str] = Field(default_factory=list)


class ManifestProjectCF(Model):
    """A project whose manifests the agent applies (legacy pull-based GitOps)."""

    id: str | None = None
    ref: GitRefCF | None = None
    default_namespace: str | None = None
    paths: list[PathCF] = Field(default_factory=list)
    reconcile_timeout: str | None = None
    dry_run_strategy: str | None = None
    prune: bool | None = None
    prune_timeout: str | None = None
    prune_propagation_policy: str | None = None
    inventory_policy: str | None = None
    # Removed in GitLab 14.0; kept so that rules can report them.
    resource_inclusions: list[ResourceFilterCF] | None = None
    resource_exclusions: list[ResourceFilterCF] | None = None


class GitopsCF(Model):
    """Legacy GitOps: deprecated in GitLab 16.2, removed in 17.0."""

    manifest_projects: list[ManifestProjectCF] = Field(default_factory=list)
    # Experimental Helm support, removed in August 2023; kept so that rules can report it.
    charts: list[dict[str, Any]] | None = None


# --------------------------------------------------------------------------- flux


class FluxCF(Model):
    """Settings of the agent's Flux module."""

    webhook_receiver_url: str | None = None


# --------------------------------------------------------------------------- ci_access


class ExtraKeyValCF(Model):
    """An extra impersonation attribute: one key, one or more values."""

    key: str | None = None
    val: list[str] = Field(default_factory=list)


class ImpersonateCF(Model):
    """The identity CI jobs impersonate."""

    username: str | None = None
    groups: list[str] = Field(default_factory=list)
    uid: str | None = None
    extra: list[ExtraKeyValCF] = Field(default_factory=list)


class CiAccessAsCF(Model):
    """Whom CI jobs act as: exactly one of `agent`, `impersonate` or `ci_job` is meant to be set."""

    agent: Model | None = None
    impersonate: ImpersonateCF | None = None
    ci_job: Model | None = None


class CiAccessProjectCF(Model):
    """A project whose CI jobs may use the agent."""

    id: str | None = None
    default_namespace: str | None = None
    access_as: CiAccessAsCF | None = None
    environments: list[str] = Field(default_factory=list)
    protected_branches_only: bool | None = None


class CiAccessGroupCF(Model):
    """A group whose projects' CI jobs may use the agent."""

    id: str | None = None
    default_namespace: str | None = None
    access_as: CiAccessAsCF | None = None
    environments: list[str] = Field(default_factory=list)
    protected_branches_only: bool | None = None


class CiAccessCF(Model):
    """Which projects' and groups' CI jobs may use the agent."""

    projects: list[CiAccessProjectCF] = Field(default_factory=list)
    groups: list[CiAccessGroupCF] = Field(default_factory=list)
    #: Every project of the instance (`instance: {}`, GitLab Self-Managed with instance-level agent
    #: authorization enabled). What it may hold besides is not known here: not judged.
    instance: dict | None = None


# --------------------------------------------------------------------------- user_access


class UserAccessAsCF(Model):
    """Whom users act as: exactly one of `agent` or `user` is meant to be set."""

    agent: Model | None = None
    user: Model | None = None


class UserAccessProjectCF(Model):
    id: str | None = None


class UserAccessGroupCF(Model):
    id: str | None = None


class UserAccessCF(Model):
    """Which projects' and groups' members may reach the cluster through the agent."""

    access_as: UserAccessAsCF | None = None
    projects: list[UserAccessProjectCF] = Field(default_factory=list)
    groups: list[UserAccessGroupCF] = Field(default_factory=list)


# --------------------------------------------------------------------------- observability


class LoggingCF(Model):
    """Log levels of agentk and of its gRPC layer."""

    level: IntOrStr | None = None
    grpc_level: IntOrStr | None = None


class GoogleProfilerCF(Model):
    """Continuous profiling with Google Cloud Profiler."""

    enabled: bool | None = None
    project_id: str | None = None
    credentials_file: str | None = None
    debug_logging: bool | None = None


class ObservabilityCF(Model):
    """Logging and profiling of agentk."""

    logging: LoggingCF | None = None
    google_profiler: GoogleProfilerCF | None = None


# --------------------------------------------------------------------------- container_scanning


class VulnerabilityReportFilterCF(Model):
    """A scan filter of the 16.x proto, absent from current docs."""

    namespaces: list[str] = Field(default_factory=list)
    resources: list[str] = Field(default_factory=list)
    containers: list[str] = Field(default_factory=list)
    kinds: list[str] = Field(default_factory=list)


class VulnerabilityReportCF(Model):
    """Which namespaces and resource types to scan."""

    namespaces: list[str] = Field(default_factory=list)
    filters: list[VulnerabilityReportFilterCF] = Field(default_factory=list)
    resource_types: list[str] = Field(default_factory=list)


class ScannerResourceQuantitiesCF(Model):
    """Kubernetes quantities, as strings (`100m`, `500Mi`)."""

    cpu: str | None = None
    memory: str | None = None
    ephemeral_storage: str | None = None


class ScannerResourceRequirementsCF(Model):
    requests: ScannerResourceQuantitiesCF | None = None
    limits: ScannerResourceQuantitiesCF | None = None


class TrivyK8sWrapperImageCF(Model):
    """A custom image for the scanner."""

    repository: str | None = None


class ContainerScanningCF(Model):
    """Operational container scanning (GitLab Ultimate); `starboard` had the same shape."""

    cadence: str | None = None
    vulnerability_report: VulnerabilityReportCF | None = None
    resource_requirements: ScannerResourceRequirementsCF | None = None
    trivy_k8s_wrapper_image: TrivyK8sWrapperImageCF | None = None
    scanner_timeout: str | None = None
    report_max_size: IntOrStr | None = None
    delete_report_artifact: bool | None = None


# --------------------------------------------------------------------------- remote_development


class WorkspacesProxyCF(Model):
    """Where the GitLab workspaces proxy runs, and which protocols it serves."""

    namespace: str | None = None
    http_enabled: bool | None = None
    ssh_enabled: bool | None = None


class EgressRuleCF(Model):
    """A CIDR workspaces may reach, minus exceptions."""

    # Only the YAML spelling `except` fills `except_` (a key `except_` is an unknown key).
    allow: str | None = None
    except_: list[str] = Field(default_factory=list, alias="except")


class NetworkPolicyCF(Model):
    """The network policy applied to workspaces."""

    enabled: bool | None = None
    egress: list[EgressRuleCF] | None = None


class WorkspaceResourceQuantitiesCF(Model):
    """Kubernetes quantities, as strings (`500m`, `1Gi`)."""

    cpu: str | None = None
    memory: str | None = None


class WorkspaceResourcesCF(Model):
    """Requests and limits; both are meant to be set when the section is."""

    requests: WorkspaceResourceQuantitiesCF | None = None
    limits: WorkspaceResourceQuantitiesCF | None = None


class ImagePullSecretCF(Model):
    """A pull secret to mount into workspaces."""

    name: str | None = None
    namespace: str | None = None


class RemoteDevelopmentCF(Model):
    """GitLab Workspaces settings (the key kept its old name)."""

    enabled: bool | None = None
    dns_zone: str | None = None
    gitlab_workspaces_proxy: WorkspacesProxyCF | None = None
    network_policy: NetworkPolicyCF | None = None
    default_resources_per_workspace_container: WorkspaceResourcesCF | None = None
    max_resources_per_workspace: WorkspaceResourcesCF | None = None
    workspaces_quota: IntOrStr | None = None
    workspaces_per_user_quota: IntOrStr | None = None
    use_kubernetes_user_namespaces: bool | None = None
    default_runtime_class: str | None = None
    allow_privilege_escalation: bool | None = None
    image_pull_secrets: list[ImagePullSecretCF] = Field(default_factory=list)
    annotations: dict[str, str] = Field(default_factory=dict)
    labels: dict[str, str] = Field(default_factory=dict)
    max_active_hours_before_stop: IntOrStr | None = None
    max_stopped_hours_before_termination: IntOrStr | None = None
    # Removed (sync intervals ~17.0, termination hours 18.0); kept so that rules can report them.
    partial_sync_interval: str | None = None
    full_sync_interval: str | None = None
    default_max_hours_before_termination: IntOrStr | None = None
    max_hours_before_termination_limit: IntOrStr | None = None


# --------------------------------------------------------------------------- removed sections


class CiliumCF(Model):
    """The Cilium alert module's settings, removed in GitLab 15.0."""

    hubble_relay_address: str | None = None


# --------------------------------------------------------------------------- the file


class AgentConfig(Located):
    """One agent's `config.yaml`.

    The agent's name is not in the file but in its path. `agent_name` is
    derived from the document's path (`.gitlab/agents/<name>/config.yaml`)
    unless whoever builds the object sets it, which it may do through the
    property; the builder also sets `location`, how GitLab sees that path.
    Neither is a field (both live in private attributes), so `agent_name:`
    or `location:` keys in the file stay unknown keys.
    """

    display_kind: ClassVar[str] = "AgentConfig"

    gitops: GitopsCF | None = None
    observability: ObservabilityCF | None = None
    ci_access: CiAccessCF | None = None
    container_scanning: ContainerScanningCF | None = None
    user_access: UserAccessCF | None = None
    remote_development: RemoteDevelopmentCF | None = None
    flux: FluxCF | None = None
    # Removed sections (starboard in 16.0, cilium in 15.0); kept so that rules can report them.
    starboard: ContainerScanningCF | None = None
    cilium: CiliumCF | None = None

    _agent_name: str | None = None
    _location: AgentPath | None = None

    @property
    def agent_name(self) -> str | None:
        if self._agent_name is not None:
            return self._agent_name
        path = self.__dict__.get("path")  # None: built without a document
        if path is None:
            return None
        match = CONFIG_PATH_RE.search(path)
        return match.group(1) if match else None

    @agent_name.setter
    def agent_name(self, name: str | None) -> None:
        self._agent_name = name

    @property
    def location(self) -> AgentPath | None:
        return self._location

    @location.setter
    def location(self, location: AgentPath | None) -> None:
        self._location = location

    @property
    def ref(self) -> str:
        return f"{self.display_kind}/{self.agent_name or '?'}"
