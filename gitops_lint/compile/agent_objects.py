"""`compile --with-agent-objects`: the Receiver and Secret the GitLab agent creates per GitRepository.

The agent's Flux module (§A.11 of the reference) watches every GitRepository
whose URL host is the GitLab instance's and server-side applies, in the same
namespace, a Secret `gitlab-receiver-<name>` (cut to 253 characters) holding an
empty `token`, and a Receiver `gitlab-<name>` (cut to 63) of type `generic`,
interval 5m, pointing at the GitRepository. Both are annotated
`app.kubernetes.io/managed-by: gitlab`.

We write them, per agent, to `agent-objects.yaml` beside the agent's config, so a
reviewer sees what exists in the cluster besides what the repository applies.
What only GitLab knows is left out: the agent id annotation and the owner
reference (it needs the GitRepository's uid). Each object carries the annotation
`gitops-lint/generated: gitlab-agent`; compiling drops objects with it, so output
compiled again is the same, with or without this option.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitops_lint.model.gitlab import agent_object_name, project_path
from gitops_lint.compile.origin import document_origin
from gitops_lint.model.kubernetes import GENERATED_ANNOTATION, GENERATED_BY_AGENT, is_generated

FILE_NAME = "agent-objects.yaml"
RECEIVER_INTERVAL = "5m0s"


@dataclass(frozen=True, slots=True)
class GeneratedDocument:
    """One object we write that no input file holds; its header names what it comes from."""

    source: str
    line: int
    note: str
    data: dict


def agent_objects(watches: list[tuple[Any, list[Any]]], namespaces: dict[int, str]
                  ) -> dict[str, list[GeneratedDocument]]:
    """Output path -> documents, for each agent with the Flux module and the GitRepositories it watches
    (`model.gitlab.agent_watches`); `namespaces` holds the namespace kustomize gives objects without one."""
    from gitops_lint.graph import archived

    out: dict[str, list[GeneratedDocument]] = {}
    for agent, repositories in sorted(watches, key=lambda w: w[0].path):
        folder = agent.path.rpartition("/")[0]
        docs: list[GeneratedDocument] = []
        for repo in sorted(repositories, key=lambda r: (r.path, r.doc.span.line)):
            if not repo.name or archived(repo.path) or is_generated(repo.doc.data):
                continue
            namespace = repo.namespace or namespaces.get(id(repo))
            project = project_path(repo.spec.url)
            docs.extend(_objects(agent.agent_name or folder.rpartition("/")[2], repo, namespace, project))
        if docs:
            out[f"{folder}/{FILE_NAME}" if folder else FILE_NAME] = docs
    return out


def _objects(agent: str, repo: Any, namespace: str | None, project: str | None) -> list[GeneratedDocument]:
    secret_name = agent_object_name(f"receiver-{repo.name}", 253)
    receiver_name = agent_object_name(repo.name, 63)
    target = f"GitRepository {namespace + '/' if namespace else ''}{repo.name}"
    common = {"app.kubernetes.io/managed-by": "gitlab", GENERATED_ANNOTATION: GENERATED_BY_AGENT}

    def metadata(name: str, annotations: dict[str, str]) -> dict:
        meta: dict[str, Any] = {"name": name}
        if namespace:
            meta["namespace"] = namespace
        meta["annotations"] = annotations
        return meta

    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": metadata(secret_name, dict(common)),
              "data": {"token": ""}}
    receiver_annotations = dict(common)
    if project:
        receiver_annotations["agent.gitlab.com/project"] = project
    resource: dict[str, Any] = {"kind": "GitRepository", "name": repo.name}
    if namespace:
        resource["namespace"] = namespace
    receiver = {"apiVersion": "notification.toolkit.fluxcd.io/v1", "kind": "Receiver",
                "metadata": metadata(receiver_name, receiver_annotations),
                "spec": {"type": "generic", "interval": RECEIVER_INTERVAL, "resources": [resource],
                         "secretRef": {"name": secret_name}}}
    origin = document_origin(repo.doc)
    note = f"generated: the GitLab agent `{agent}` creates this for {target}"
    return [GeneratedDocument(*origin, note, secret), GeneratedDocument(*origin, note, receiver)]
