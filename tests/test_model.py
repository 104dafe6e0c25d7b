"""The typed models: what they build from YAML, and what they turn into ModelProblems."""

from __future__ import annotations

from textwrap import dedent

import pytest

from gitops_lint.diagnostics import Span
from gitops_lint.model import agent_path
from gitops_lint.model.agent import DRY_RUN_STRATEGIES, AgentConfig
from gitops_lint.model.base import Located, build_lenient
from gitops_lint.model.flux import FLUX_KINDS, GitRepository, HelmRelease, Kustomization
from gitops_lint.model.flux.notification import Receiver
from gitops_lint.model.kubernetes import KubernetesObject
from gitops_lint.model.kustomize import KustomizeFile
from gitops_lint.yaml.loader import load_text


def build(cls: type[Located], text: str, rel: str = "clusters/prod/app.yaml"):
    source = load_text(dedent(text), rel)
    assert not source.problems, source.problems
    return build_lenient(cls, source.documents[0])


GIT_REPOSITORY = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: app
  namespace: flux-system
spec:
  interval: 5m
  url: https://gitlab.com/group/app.git
  ref:
    branch: main
  secretRef:
    name: app-auth
  ignore: |
    /*
    !/deploy
  include:
    - repository: {name: shared}
      toPath: shared
"""


def test_git_repository_builds():
    repo, problems = build(GitRepository, GIT_REPOSITORY)
    assert problems == []
    assert repo.ref == "GitRepository/flux-system/app"
    assert repo.group == "source.toolkit.fluxcd.io" and repo.version == "v1"
    assert repo.spec.interval == "5m"
    assert repo.spec.url == "https://gitlab.com/group/app.git"
    assert repo.spec.ref.branch == "main" and repo.spec.ref.tag is None
    assert repo.spec.secretRef.name == "app-auth"
    assert repo.spec.ignore == "/*\n!/deploy\n"
    assert repo.spec.include[0].repository.name == "shared"
    assert repo.spec.include[0].toPath == "shared"
    assert repo.spec.verify is None and repo.spec.sparseCheckout == []
    assert repo.path == "clusters/prod/app.yaml"


def test_locate_points_at_the_value_with_an_exclusive_end_column():
    repo, _ = build(GitRepository, GIT_REPOSITORY)
    # Line 7 is `  interval: 5m`: the value `5m` spans columns 13-14.
    assert repo.locate(("spec", "interval")) == Span(7, 13, 7, 15)
    assert repo.locate(("spec", "interval"), key=True) == Span(7, 3, 7, 11)
    assert repo.locate(("spec", "ref", "branch")) == Span(10, 13, 10, 17)


KUSTOMIZATION = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  retryInterval: 1m
  path: ./apps/prod
  prune: true
  wait: true
  sourceRef:
    kind: GitRepository
    name: app
  dependsOn:
    - name: infra
    - name: crds
      namespace: flux-system
  patches:
    - patch: |
        - op: replace
          path: /spec/replicas
          value: 2
      target:
        kind: Deployment
        labelSelector: app=web
  postBuild:
    substitute:
      cluster: prod
    substituteFrom:
      - kind: ConfigMap
        name: cluster-vars
        optional: true
  healthCheckExprs:
    - apiVersion: example.com/v1
      kind: Widget
      current: status.ready == true
"""


def test_kustomization_builds():
    ks, problems = build(Kustomization, KUSTOMIZATION)
    assert problems == []
    spec = ks.spec
    assert (spec.interval, spec.retryInterval, spec.path) == ("10m", "1m", "./apps/prod")
    assert spec.prune is True and spec.wait is True and spec.force is None
    assert (spec.sourceRef.kind, spec.sourceRef.name, spec.sourceRef.namespace) == ("GitRepository", "app", None)
    assert [(d.name, d.namespace) for d in spec.dependsOn] == [("infra", None), ("crds", "flux-system")]
    assert spec.patches[0].patch.startswith("- op: replace")
    assert spec.patches[0].target.kind == "Deployment"
    assert spec.patches[0].target.labelSelector == "app=web"
    assert spec.postBuild.substitute == {"cluster": "prod"}
    assert spec.postBuild.substituteFrom[0].optional is True
    assert spec.healthCheckExprs == [
        {"apiVersion": "example.com/v1", "kind": "Widget", "current": "status.ready == true"}
    ]


def test_quoted_boolean_is_one_problem_and_the_rest_is_built():
    ks, problems = build(Kustomization, KUSTOMIZATION.replace("prune: true", 'prune: "yes"'))
    assert [p.path for p in problems] == [("spec", "prune")]
    assert '"yes" is not a boolean' in problems[0].message
    assert ks.spec.prune is None
    assert ks.spec.interval == "10m"
    assert ks.spec.sourceRef.name == "app"
    assert len(ks.spec.dependsOn) == 2


def test_number_for_a_duration_is_one_problem():
    ks, problems = build(Kustomization, KUSTOMIZATION.replace("interval: 10m", "interval: 5"))
    assert [p.path for p in problems] == [("spec", "interval")]
    assert problems[0].message == 'spec.interval: 5 is not a string (quote it: "5")'
    assert ks.spec.interval is None
    assert ks.spec.prune is True and ks.spec.retryInterval == "1m"
    # The problem can be pointed at: the value 5 on line 7.
    assert ks.locate(problems[0].path) == Span(7, 13, 7, 14)


def test_strict_types_like_kubernetes():
    """A numeric string is no integer and a number no string, as for the API server."""
    text = """\
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata: {name: web}
    spec:
      interval: 1h
      maxHistory: "5"
      install:
        createNamespace: "true"
      upgrade:
        remediation:
          retries: 3
      chart:
        spec:
          chart: web
          version: 1.2
          sourceRef: {kind: HelmRepository, name: charts}
    """
    hr, problems = build(HelmRelease, text)
    assert sorted(p.path for p in problems) == [
        ("spec", "chart", "spec", "version"),
        ("spec", "install", "createNamespace"),
        ("spec", "maxHistory"),
    ]
    assert hr.spec.maxHistory is None
    assert hr.spec.install.createNamespace is None
    assert hr.spec.upgrade.remediation.retries == 3
    assert hr.spec.chart.spec.version is None and hr.spec.chart.spec.chart == "web"


def test_a_bad_list_item_field_drops_only_that_field():
    text = KUSTOMIZATION.replace("    - name: infra\n", "    - name: 3\n")
    ks, problems = build(Kustomization, text)
    assert [p.path for p in problems] == [("spec", "dependsOn", 0, "name")]
    assert [(d.name, d.namespace) for d in ks.spec.dependsOn] == [(None, None), ("crds", "flux-system")]


HELM_RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: apps
spec:
  interval: 30m
  releaseName: podinfo
  chart:
    spec:
      chart: podinfo
      version: ">=6.0.0"
      sourceRef:
        kind: HelmRepository
        name: podinfo
        namespace: flux-system
  install:
    crds: CreateReplace
    remediation:
      retries: -1
  upgrade:
    strategy:
      name: RetryOnFailure
      retryInterval: 5m
  valuesFrom:
    - kind: Secret
      name: podinfo-values
      valuesKey: values.yaml
      targetPath: redis.auth
  values:
    replicaCount: 2
    ingress:
      enabled: true
      hosts: [podinfo.example.com]
  postRenderers:
    - kustomize:
        patches:
          - patch: |
              kind: Deployment
              metadata: {name: podinfo}
        images:
          - name: ghcr.io/stefanprodan/podinfo
            newTag: 6.5.0
"""


def test_helm_release_builds():
    hr, problems = build(HelmRelease, HELM_RELEASE)
    assert problems == []
    assert hr.ref == "HelmRelease/apps/podinfo"
    spec = hr.spec
    assert spec.interval == "30m" and spec.releaseName == "podinfo"
    assert spec.chart.spec.chart == "podinfo" and spec.chart.spec.version == ">=6.0.0"
    assert (spec.chart.spec.sourceRef.kind, spec.chart.spec.sourceRef.namespace) == ("HelmRepository", "flux-system")
    assert spec.chartRef is None
    assert spec.install.crds == "CreateReplace" and spec.install.remediation.retries == -1
    assert (spec.upgrade.strategy.name, spec.upgrade.strategy.retryInterval) == ("RetryOnFailure", "5m")
    ref = spec.valuesFrom[0]
    assert (ref.kind, ref.name, ref.valuesKey, ref.targetPath, ref.optional) == (
        "Secret", "podinfo-values", "values.yaml", "redis.auth", None,
    )
    assert spec.values == {"replicaCount": 2, "ingress": {"enabled": True, "hosts": ["podinfo.example.com"]}}
    kustomize = spec.postRenderers[0].kustomize
    assert kustomize.patches[0].patch.startswith("kind: Deployment")
    assert kustomize.images[0].newTag == "6.5.0"


def test_unknown_fields_are_kept():
    text = GIT_REPOSITORY.replace("  interval: 5m\n", "  interval: 5m\n  intervall: 1m\n") + "status:\n  ready: true\n"
    repo, problems = build(GitRepository, text)
    assert problems == []
    assert repo.spec.model_extra == {"intervall": "1m"}
    assert repo.model_extra == {"status": {"ready": True}}
    assert repo.spec.interval == "5m"


def test_removed_fields_of_old_api_versions_are_modelled():
    text = """\
    apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
    kind: Kustomization
    metadata: {name: old}
    spec:
      interval: 5m
      prune: false
      validation: client
      sourceRef: {kind: GitRepository, name: app}
      patchesStrategicMerge:
        - kind: Deployment
          metadata: {name: web}
      patchesJson6902:
        - target: {kind: Deployment, name: web}
          patch:
            - {op: add, path: /spec/paused, value: true}
    """
    ks, problems = build(Kustomization, text)
    assert problems == []
    assert ks.spec.model_extra == {}
    assert ks.spec.validation == "client"
    assert ks.spec.patchesStrategicMerge == [{"kind": "Deployment", "metadata": {"name": "web"}}]
    assert ks.spec.patchesJson6902[0].target.name == "web"
    assert ks.spec.patchesJson6902[0].patch[0]["op"] == "add"

    repo, problems = build(GitRepository, GIT_REPOSITORY + "  gitImplementation: libgit2\n")
    assert problems == [] and repo.spec.gitImplementation == "libgit2"


def test_flux_kinds():
    import importlib

    from gitops_lint.model import MODELLED_KINDS, model_class

    assert len(FLUX_KINDS) == 14
    assert all(issubclass(cls, KubernetesObject) for cls in FLUX_KINDS)
    for (group, kind), module in MODELLED_KINDS.items():
        cls = model_class(group, kind)
        # the class is named after the kind, in the module of its API group
        assert cls.__name__ == kind and cls.__module__ == module
        assert getattr(importlib.import_module(module), "GROUP", "") == group
    assert model_class("notification.toolkit.fluxcd.io", "Receiver").__name__ == "Receiver"
    assert model_class("example.com", "Receiver") is None
    for cls in FLUX_KINDS:
        # A spec is always there to read, even when the document has none.
        assert cls.model_validate({}).spec is not None


def test_receiver_resources():
    text = """\
    apiVersion: notification.toolkit.fluxcd.io/v1
    kind: Receiver
    metadata: {name: gitlab-app, namespace: flux-system}
    spec:
      type: gitlab
      events: ["Push Hook"]
      secretRef: {name: token}
      resources:
        - kind: GitRepository
          name: "*"
          matchLabels: {team: web}
    """
    receiver, problems = build(Receiver, text)
    assert problems == []
    assert receiver.spec.resources[0].name == "*"
    assert receiver.spec.resources[0].matchLabels == {"team": "web"}
    assert receiver.spec.events == ["Push Hook"]


AGENT_CONFIG = """\
ci_access:
  projects:
    - id: group/app
      default_namespace: app
      access_as:
        impersonate:
          username: deployer
          groups: [deployers]
      environments: ["review/*", production]
  groups:
    - id: group/sub
      access_as:
        ci_job: {}
      protected_branches_only: true
user_access:
  access_as:
    agent: {}
  projects:
    - id: group/app
flux:
  webhook_receiver_url: http://webhook-receiver.flux-system.svc.cluster.local
observability:
  logging:
    level: debug
    grpc_level: 2
container_scanning:
  cadence: "0 0 * * *"
  report_max_size: "300000000"
  vulnerability_report:
    namespaces: [default]
remote_development:
  enabled: true
  dns_zone: workspaces.example.dev
  network_policy:
    egress:
      - allow: 0.0.0.0/0
        except: [10.0.0.0/8]
  workspaces_quota: 10
"""


def test_agent_config_builds():
    config, problems = build(AgentConfig, AGENT_CONFIG, ".gitlab/agents/prod-agent/config.yaml")
    assert problems == []
    assert config.agent_name == "prod-agent"
    assert config.ref == "AgentConfig/prod-agent"
    project = config.ci_access.projects[0]
    assert (project.id, project.default_namespace) == ("group/app", "app")
    assert project.access_as.impersonate.username == "deployer"
    assert project.access_as.agent is None
    assert project.environments == ["review/*", "production"]
    group = config.ci_access.groups[0]
    assert group.access_as.ci_job is not None and group.protected_branches_only is True
    assert config.user_access.access_as.agent is not None
    assert config.user_access.projects[0].id == "group/app"
    assert config.flux.webhook_receiver_url.startswith("http://webhook-receiver.")
    assert (config.observability.logging.level, config.observability.logging.grpc_level) == ("debug", 2)
    assert config.container_scanning.cadence == "0 0 * * *"
    assert config.container_scanning.report_max_size == "300000000"
    rd = config.remote_development
    assert rd.enabled is True and rd.workspaces_quota == 10
    assert rd.network_policy.egress[0].except_ == ["10.0.0.0/8"]
    assert config.gitops is None and config.starboard is None


def test_agent_config_legacy_gitops_parses():
    text = """\
    gitops:
      manifest_projects:
        - id: group/manifests
          ref:
            tag: v1.2.0
          default_namespace: apps
          paths:
            - glob: "/manifests/**/*.yaml"
            - glob: "/crds/*.yaml"
          reconcile_timeout: 3600s
          dry_run_strategy: client
          prune: false
          prune_timeout: 360s
          prune_propagation_policy: background
          inventory_policy: adopt_if_no_inventory
          resource_inclusions:
            - api_groups: [""]
              kinds: [ConfigMap]
    starboard:
      cadence: "@daily"
    """
    config, problems = build(AgentConfig, text, ".gitlab/agents/legacy/config.yaml")
    assert problems == []
    project = config.gitops.manifest_projects[0]
    assert project.id == "group/manifests"
    assert (project.ref.tag, project.ref.branch) == ("v1.2.0", None)
    assert project.default_namespace == "apps"
    assert [p.glob for p in project.paths] == ["/manifests/**/*.yaml", "/crds/*.yaml"]
    assert (project.reconcile_timeout, project.prune_timeout) == ("3600s", "360s")
    assert project.dry_run_strategy == "client" and project.dry_run_strategy in DRY_RUN_STRATEGIES
    assert project.prune is False
    assert project.prune_propagation_policy == "background"
    assert project.inventory_policy == "adopt_if_no_inventory"
    assert project.resource_inclusions[0].kinds == ["ConfigMap"]
    assert config.starboard.cadence == "@daily"
    assert project.model_extra == {} and config.model_extra == {}


def test_agent_config_keeps_bad_enum_values_and_reports_bad_types():
    text = """\
    gitops:
      manifest_projects:
        - id: 1234
          dry_run_strategy: always
          reconcile_timeout: 1h
          paths: [{glob: "*.yaml"}]
    observability:
      logging:
        level: [debug]
    """
    config, problems = build(AgentConfig, text, ".gitlab/agents/a/config.yaml")
    assert [(p.path, p.message) for p in problems] == [
        (("gitops", "manifest_projects", 0, "id"), 'gitops.manifest_projects[0].id: 1234 is not a string (quote it: "1234")'),
        (
            ("observability", "logging", "level"),
            "observability.logging.level: a list is not an integer or a numeric string",
        ),
    ]
    project = config.gitops.manifest_projects[0]
    # Enum values and duration formats are the rules' business, not the model's.
    assert project.dry_run_strategy == "always" and project.reconcile_timeout == "1h"
    assert project.id is None and project.paths[0].glob == "*.yaml"


def test_agent_name_is_derived_from_the_path_or_set():
    config, _ = build(AgentConfig, "flux: {}\n", "infra/.gitlab/agents/edge-1/config.yaml")
    assert config.agent_name == "edge-1"
    config, _ = build(AgentConfig, "flux: {}\nagent_name: nope\n", "somewhere/config.yaml")
    assert config.agent_name is None and config.ref == "AgentConfig/?"
    # An `agent_name:` key in the file is no field: it stays an unknown key.
    assert config.model_extra == {"agent_name": "nope"}
    config.agent_name = "given"
    assert config.ref == "AgentConfig/given"
    # What the builder attaches stays out of the data.
    config.location = agent_path(".gitlab/agents/given/config.yaml")
    assert config.location.name == "given"
    assert config.model_extra == {"agent_name": "nope"}


def test_egress_except_takes_only_its_yaml_spelling():
    text = """\
    remote_development:
      network_policy:
        egress:
          - allow: 10.0.0.0/8
            except_: [10.1.0.0/16]
    """
    config, problems = build(AgentConfig, text, ".gitlab/agents/a/config.yaml")
    assert problems == []
    rule = config.remote_development.network_policy.egress[0]
    assert rule.except_ == [] and rule.model_extra == {"except_": ["10.1.0.0/16"]}


KUSTOMIZE_FILE = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: apps
resources:
  - ../base
  - deployment.yaml
components: [../components/monitoring]
patches:
  - path: patch-replicas.yaml
    target:
      kind: Deployment
  - patch: |-
      - op: remove
        path: /spec/template/spec/nodeSelector
    target: {kind: Deployment, name: web}
configMapGenerator:
  - name: web-config
    files: [config.json]
images:
  - name: web
    newTag: "1.2"
commonLabels:
  team: web
bases: [../legacy]
helmCharts:
  - name: redis
    repo: https://charts.bitnami.com/bitnami
    version: 18.0.0
"""


def test_kustomize_file_builds():
    kf, problems = build(KustomizeFile, KUSTOMIZE_FILE, "apps/prod/kustomization.yaml")
    assert problems == []
    assert kf.ref == "kustomization.yaml/apps/prod/kustomization.yaml"
    assert kf.resources == ["../base", "deployment.yaml"]
    assert kf.components == ["../components/monitoring"]
    assert kf.patches[0].path == "patch-replicas.yaml" and kf.patches[0].target == {"kind": "Deployment"}
    assert kf.patches[1].patch.startswith("- op: remove")
    assert kf.configMapGenerator[0]["name"] == "web-config"
    assert kf.images == [{"name": "web", "newTag": "1.2"}]
    assert kf.bases == ["../legacy"]
    assert kf.helmCharts[0]["version"] == "18.0.0"
    assert kf.namespace == "apps" and kf.commonLabels == {"team": "web"}


def test_kustomize_file_without_api_version():
    kf, problems = build(KustomizeFile, "resources: [a.yaml, 3]\n", "base/kustomization.yml")
    assert [p.path for p in problems] == [("resources", 1)]
    assert kf.apiVersion is None and kf.kind is None
    assert kf.resources == ["a.yaml"]


def test_null_means_unset_as_in_kubernetes():
    repo, problems = build(GitRepository, "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nspec: null\n")
    assert problems == [] and repo.spec is not None


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("spec: [1]\n", ("spec",)),
        ("metadata: {name: 3}\nspec: {interval: 1m}\n", ("metadata", "name")),
    ],
)
def test_wrong_containers_are_one_problem_each(text, path):
    repo, problems = build(GitRepository, "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\n" + text)
    assert [p.path for p in problems] == [path]
    assert repo.spec is not None and repo.kind == "GitRepository"


def test_problems_in_a_list_name_the_items_as_they_stand_in_the_file() -> None:
    """Dropping a failing item shifts the later ones: each problem still names the item in the file."""
    from gitops_lint.model import build_model
    from gitops_lint.yaml.loader import load_text

    text = ("gitops:\n  manifest_projects:\n  - 3\n  - id: a/b\n    prune: 7\n  - null\n"
            "  - id: c/d\n    ref: main\n")
    source = load_text(text, ".gitlab/agents/x/config.yaml")
    problems = build_model([source]).problems
    assert [(p.path, source.documents[0].locate(p.path).line) for p in problems] == [
        (("gitops", "manifest_projects", 0), 3),
        (("gitops", "manifest_projects", 1, "prune"), 5),
        (("gitops", "manifest_projects", 3, "ref"), 8),
    ]
