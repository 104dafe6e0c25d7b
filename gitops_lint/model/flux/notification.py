"""notification-controller kinds (`notification.toolkit.fluxcd.io`): webhooks in, alerts out."""

from __future__ import annotations


from gitops_lint.model.base import Field, Model
from gitops_lint.model.flux.common import CrossNamespaceObjectReference, LocalObjectReference
from gitops_lint.model.kubernetes import KubernetesObject

GROUP = "notification.toolkit.fluxcd.io"

RECEIVER_TYPES = (
    "generic",
    "generic-hmac",
    "generic-oidc",
    "github",
    "gitlab",
    "bitbucket",
    "harbor",
    "dockerhub",
    "quay",
    "gcr",
    "nexus",
    "acr",
    "cdevents",
)
#: Receiver types that honour `spec.events`; the others ignore it.
RECEIVER_TYPES_WITH_EVENTS = ("github", "gitlab", "bitbucket", "cdevents")
PROVIDER_TYPES = (
    "slack",
    "discord",
    "msteams",
    "rocket",
    "generic",
    "generic-hmac",
    "github",
    "gitlab",
    "gitea",
    "giteapullrequestcomment",
    "bitbucketserver",
    "bitbucket",
    "azuredevops",
    "googlechat",
    "googlepubsub",
    "webex",
    "sentry",
    "azureeventhub",
    "telegram",
    "lark",
    "matrix",
    "opsgenie",
    "alertmanager",
    "grafana",
    "githubdispatch",
    "githubpullrequestcomment",
    "gitlabmergerequestcomment",
    "pagerduty",
    "datadog",
    "nats",
    "zulip",
    "otel",
    "zoom",
    "incident.io",
)
#: Provider types that post commit statuses; only they accept `commitStatusExpr`.
COMMIT_STATUS_PROVIDER_TYPES = (
    "github",
    "gitlab",
    "gitea",
    "bitbucketserver",
    "bitbucket",
    "azuredevops",
)
ALERT_SEVERITIES = ("info", "error")


# --------------------------------------------------------------------------- Receiver


class OIDCValidation(Model):
    """A CEL check on the token claims, and the message returned when it fails."""

    expression: str | None = None
    message: str | None = None


class OIDCVariable(Model):
    """A named CEL expression, exposed to validations as `vars.<name>`."""

    name: str | None = None
    expression: str | None = None


class OIDCProvider(Model):
    """An OIDC issuer whose tokens a `generic-oidc` Receiver accepts."""

    issuerURL: str | None = None
    audience: str | None = None
    variables: list[OIDCVariable] = Field(default_factory=list)
    validations: list[OIDCValidation] = Field(default_factory=list)


class ReceiverResource(CrossNamespaceObjectReference):
    """An object a Receiver asks to reconcile, optionally narrowed by a CEL filter."""

    filter: str | None = None


class ReceiverSpec(Model):
    """Which webhook sender to trust, and which objects to reconcile when it calls."""

    type: str | None = None
    interval: str | None = None
    events: list[str] = Field(default_factory=list)
    resources: list[ReceiverResource] = Field(default_factory=list)
    resourceFilter: str | None = None
    secretRef: LocalObjectReference | None = None
    oidcProviders: list[OIDCProvider] = Field(default_factory=list)
    suspend: bool | None = None


class Receiver(KubernetesObject):
    """A webhook endpoint that triggers reconciliation of Flux objects."""

    spec: ReceiverSpec = Field(default_factory=ReceiverSpec)


# --------------------------------------------------------------------------- Provider


class ProviderSpec(Model):
    """Where and how to deliver notifications."""

    type: str | None = None
    interval: str | None = None
    channel: str | None = None
    username: str | None = None
    address: str | None = None
    timeout: str | None = None
    proxy: str | None = None
    proxySecretRef: LocalObjectReference | None = None
    secretRef: LocalObjectReference | None = None
    certSecretRef: LocalObjectReference | None = None
    serviceAccountName: str | None = None
    commitStatusExpr: str | None = None
    suspend: bool | None = None


class Provider(KubernetesObject):
    """A notification target (chat, Git commit status, webhook, ...)."""

    spec: ProviderSpec = Field(default_factory=ProviderSpec)


# --------------------------------------------------------------------------- Alert


class AlertSpec(Model):
    """Which events to forward to which Provider."""

    providerRef: LocalObjectReference | None = None
    eventSeverity: str | None = None
    eventSources: list[CrossNamespaceObjectReference] = Field(default_factory=list)
    inclusionList: list[str] = Field(default_factory=list)
    exclusionList: list[str] = Field(default_factory=list)
    eventMetadata: dict[str, str | None] = Field(default_factory=dict)
    summary: str | None = None
    suspend: bool | None = None


class Alert(KubernetesObject):
    """A rule forwarding events of Flux objects to a Provider."""

    spec: AlertSpec = Field(default_factory=AlertSpec)
