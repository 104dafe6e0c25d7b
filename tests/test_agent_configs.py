"""Every real agent config in ../shared/corpus/_agent_configs gets a verdict at the right line.

Accepted files have no error; rejected ones list (rule, line) of each reason GitLab's
parser would give (domain reference §A.2): unknown keys (AGT009), wrong types (TYP001),
the removed `gitops` section (AGT003), a merge conflict (YAML003). Judged against GitLab
18.0 (gitlab.com), as a configuration's `gitlab-version` says: AGT003 is an error only for a
GitLab known to be 17.0 or later.
"""

from __future__ import annotations

from collections import defaultdict

from gitops_lint.config import Config
from gitops_lint.diagnostics import Severity
from gitops_lint.engine import LintOptions, lint
from tests.conftest import shared_path, write_tree

VERDICTS = {
    'AminBerge+flask-example+my-agent.yaml': [],
    'Brick-Technology+cluster-management+test-agent.yaml': [],
    'Duncan-Haywood+stable-diffusion-k8s+eks-agent.yaml': [('AGT003', 1), ('TYP001', 5)],
    'Egor-Pomidor-pdf+DelayedNotifier+minikube.yaml': [('YAML003', 1)],
    'FemiFX+fastapi-k3s-gitops+production.yaml': [],
    'FemiFX+fastapi-k3s-gitops+staging.yaml': [],
    'GutsButcher+webapp-deploy+test.yaml': [('AGT003', 1), ('TYP001', 3)],
    'Hijerboa+SeniorDesign+k8s.yaml': [('AGT003', 1)],
    'Jonathan-molieres+fileforge+prod.yaml': [('AGT009', 3)],  # `- id:` without a value: an empty id
    'KG-khangelani+babelapha+gitlab-k8s-agent.yaml': [],
    'Mareo+infrastructure+kubernetes-agent.yaml': [],
    'MariemBS20+projet-Devops-Photo-sharing-app+k8s-agent.yaml': [],
    'Mohammedgh007+vaea-rest+test-agent.yaml': [('AGT003', 1), ('AGT009', 2)],
    'OskarLovsveden+2dv612-chat-project+main_agent.yaml': [('AGT003', 1)],
    'PavelKrasko+Advanced-DevOps-PRO-Track-+my-agent.yaml': [],
    'Phoen1xGH+ControlSystem+k3s.yaml': [],
    'Raeein+cis3760-swe+agent-a.yaml': [('AGT003', 1), ('AGT009', 7)],
    'Raeein+cis3760-swe+socs.yaml': [('AGT003', 1)],
    'Raul-dev+ASPNET07-DevOps-Template-k3s+prod.yaml': [('AGT003', 1), ('AGT009', 8)],
    'Rawangd+SummerProject+pfe.yaml': [],
    'Rawangd+SummerProject+worker.yaml': [],
    'abdulsaad209+Deployed-NodeJS-Application-Gitlab+k8s.yaml': [],
    'aerabi+aerabi-k8s+primary-agent.yaml': [('AGT003', 1)],
    'alex-gudkov+kubernetes-microservices+_root.yaml': [],
    'aliibrhemqannan+devops-terraform-cluster+eks-agent.yaml': [],
    'appsemble+appsemble+production-do.yaml': [],
    'appsemble+appsemble+review.yaml': [],
    'baguilartech+AMBER+production.yaml': [('AGT009', 50)],
    'bbertka+stock-flask-app+k3s.yaml': [('AGT003', 1), ('AGT009', 6)],
    'clayrisser+rock8s-cluster+k8s.yaml': [('AGT003', 1)],
    'dakual+gitlab-ci-release+minikube.yaml': [('AGT003', 1)],
    'dimMaryanto93+gitlab-devops-automation+examples_deploy-cicd_devel.yaml': [],
    'dimMaryanto93+gitlab-devops-automation+examples_deploy-gitops_devel.yaml': [],
    'dimMaryanto93+gitlab-devops-automation+examples_deploy-gitops_review.yaml': [('AGT003', 1)],
    'dimMaryanto93+gitlab-devops-automation+local-dev.yaml': [],
    'evekhm+gke-deploy-env+argolis.yaml': [],
    'evekhm+gke-deploy-env+demo.yaml': [],
    'evekhm+gke-deploy-env+development.yaml': [],
    'evekhm+gke-deploy-env+dp-agent.yaml': [],
    'evekhm+gke-deploy-env+gitlab-agent.yaml': [],
    'evekhm+gke-deploy-env+gke.yaml': [],
    'evekhm+gke-deploy-env+pa-demo.yaml': [],
    'evekhm+gke-deploy-env+pa-staging.yaml': [],
    'evekhm+gke-deploy-env+pa-test.yaml': [],
    'frank90086+gitlab-integration-k8s+gitlab-agent.yaml': [],
    'gesiscss+orc2+stage.yaml': [],
    'jienckebd+kubernetes-cluster+sysf.yaml': [],
    'leooroque+webinarOracleCloudCICD+k8s-agent.yaml': [('AGT003', 1)],
    'maheryy+shifter-shop+primary-agent.yaml': [],
    'manrodri+newSentiment+primary-agent.yaml': [('AGT003', 1)],
    'paulfournel+smilodon-frontend+k8s-frontend.yaml': [('AGT003', 1)],
    'paulfournel+smilodon-frontend+k8s.yaml': [('AGT003', 1)],
    'quinguyen1502+nodejs-glk8s-starter+deployment-agent.yaml': [('AGT003', 4)],
    'ricardogorayeb+kubernetes-tests+dev.yaml': [('AGT003', 1)],
    'ricardogorayeb+kubernetes-tests+prod.yaml': [('AGT003', 2)],
    's4njee+congress_scraper+k8s-agent.yaml': [('AGT003', 1)],
    'shortlink-org+gitops+contabo.yaml': [('AGT003', 10)],
    'shortlink-org+gitops+minikube.yaml': [('AGT003', 10)],
    'skp098+test+_root.yaml': [],
    'vovaripetskyint+spring-petclinic+k8s.yaml': [('AGT003', 1)],
    'willpe+set-time+settime-agent.yaml': [],
    'xsestech+rabbit_backend+cluster.yaml': [],
    'xsestech+rabbit_backend+rabbit_backend_cluster.yaml': [],
    'xsestech+rabbit_backend+rabbit_backend_rabbit-backend.yaml': [],
    'yohrannes+website-portifolio+agent1.yaml': [],
    'zMaAlz+reg-forms-app+gitlab-agent.yaml': [],
}


def test_every_agent_config_gets_the_expected_verdict() -> None:
    folder = shared_path("corpus", "_agent_configs")
    config = Config(agent_configs=["*.yaml"], gitlab_version="18.0")
    result = lint(LintOptions(paths=["."], cwd=folder, config=config))
    assert not result.internal_errors
    found: dict[str, set] = defaultdict(set)
    for d in result.diagnostics:
        if d.severity is Severity.ERROR:
            found[d.path].add((d.rule, d.span.line))
    files = sorted(p.name for p in folder.glob("*.yaml"))
    assert files == sorted(VERDICTS)
    assert {f: sorted(found.get(f, ())) for f in files} == {f: sorted(v) for f, v in VERDICTS.items()}


def test_agent_configs_kept_elsewhere_are_read_with_gitlabs_yaml_11_booleans(tmp_path) -> None:
    from tests.conftest import write_tree

    text = "observability:\n  google_profiler:\n    enabled: yes\n"
    write_tree(tmp_path, {".gitlab/agents/prod/config.yaml": text, "templates/agent.yaml": text})
    result = lint(LintOptions(paths=["."], cwd=tmp_path, config=Config(agent_configs=["templates/*.yaml"])))
    assert not result.internal_errors
    assert not [d for d in result.diagnostics if d.severity is Severity.ERROR], result.diagnostics


def test_agent_configs_kept_elsewhere_point_at_the_same_lines(tmp_path) -> None:
    # `on:` is a boolean key to GitLab: positions read again for findings read it the same way.
    from tests.conftest import write_tree

    text = "ci_access:\n  projects:\n    - id: group/project\n      on: x\n"
    write_tree(tmp_path, {".gitlab/agents/prod/config.yaml": text, "templates/agent.yaml": text})
    config = Config(agent_configs=["templates/*.yaml"])
    for cache in (False, True, True):  # cold, then from the cache
        result = lint(LintOptions(paths=["."], cwd=tmp_path, config=config, use_cache=cache))
        spans = {}
        for d in result.diagnostics:
            spans.setdefault(d.path, []).append((d.rule, d.span.line, d.span.column))
        assert spans["templates/agent.yaml"] == spans[".gitlab/agents/prod/config.yaml"], spans


def test_a_key_gitlab_reads_as_a_boolean_is_named_as_json_names_it(tmp_path) -> None:
    from tests.conftest import write_tree

    write_tree(tmp_path, {".gitlab/agents/prod/config.yaml": "ci_access:\n  projects:\n    - id: a/b\n      on: x\n"})
    result = lint(LintOptions(paths=["."], cwd=tmp_path, config=Config()))
    assert any("unknown field 'true' in ci_access.projects[0]" in d.message for d in result.diagnostics)


def test_ci_access_for_the_whole_instance_is_a_known_key(tmp_path) -> None:
    """`ci_access.instance` (GitLab Self-Managed, instance-level agent authorization) is no unknown field."""
    write_tree(tmp_path, {".gitlab/agents/prod/config.yaml": "ci_access:\n  instance: {}\n  projects:\n    - id: a/b\n"})
    result = lint(LintOptions(paths=["."], cwd=tmp_path))
    assert not [d for d in result.diagnostics if d.rule == "AGT009"], [d.message for d in result.diagnostics]


def _verdict(tmp_path, files: dict[str, str]) -> list[tuple[str, int]]:
    write_tree(tmp_path, files)
    result = lint(LintOptions(paths=["."], cwd=tmp_path))
    assert not result.internal_errors, result.internal_errors
    return [(d.rule, d.span.line) for d in result.diagnostics if d.severity is not Severity.INFO]


def test_webhook_urls_go_cannot_parse_are_findings_not_crashes(tmp_path) -> None:
    """An unclosed IPv6 bracket, a port that is no number, a leading space: Go's url.Parse refuses each and the
    agent's Flux module does not start (AGT006); the run goes on (it stopped on the first)."""
    for index, url in enumerate(["'http://[fd00::5'", "http://host:port", "' http://x.example.com'"]):
        files = {".gitlab/agents/a/config.yaml": f"flux:\n  webhook_receiver_url: {url}\n",
                 "flux/svc.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: webhook-receiver, "
                                  "namespace: flux-system}\n"}
        assert _verdict(tmp_path / str(index), files) == [("AGT006", 2)]


def test_gitlab_reads_the_first_document_even_when_it_is_empty(tmp_path) -> None:
    """kas reads only the first document of config.yaml: an empty one makes an empty config, and the document
    after it is not judged as the config (domain reference §A.2)."""
    files = {".gitlab/agents/a/config.yaml": "---\n# nothing yet\n---\nfoo: bar\n"}
    assert _verdict(tmp_path, files) == []


def test_an_integer_written_as_a_float_is_an_integer_to_gitlab(tmp_path) -> None:
    """go-yaml v2's JSON writes 1.0 as 1, which protojson takes for an integer field."""
    files = {".gitlab/agents/a/config.yaml": "observability:\n  logging:\n    level: 1.0\n"}
    assert _verdict(tmp_path, files) == []


def test_the_receiver_service_is_where_the_kustomization_puts_it(tmp_path) -> None:
    """A kustomization's `namespace: flux` moves the webhook-receiver Service written in flux-system: the agent's
    URL into namespace flux is right (AGT008 judges the Service as Flux applies it)."""
    files = {
        ".gitlab/agents/a/config.yaml": "flux:\n  webhook_receiver_url: http://webhook-receiver.flux.svc.cluster.local\n",
        "clusters/prod/flux-system/gotk-sync.yaml": (
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: {name: flux-system, namespace: "
            "flux}\nspec: {interval: 1m, url: 'https://gitlab.com/a/b.git', ref: {branch: main}}\n---\n"
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: flux-system, "
            "namespace: flux}\nspec: {interval: 10m, path: ./clusters/prod, prune: true, sourceRef: {kind: "
            "GitRepository, name: flux-system}}\n"),
        "clusters/prod/flux-system/kustomization.yaml": "namespace: flux\nresources: [gotk-sync.yaml, svc.yaml]\n",
        "clusters/prod/flux-system/svc.yaml": ("apiVersion: v1\nkind: Service\nmetadata: {name: webhook-receiver, "
                                               "namespace: flux-system}\n"),
    }
    assert [r for r in _verdict(tmp_path, files) if r[0] == "AGT008"] == []


def test_access_ids_that_are_no_full_path_authorize_nothing(tmp_path) -> None:
    """GitLab looks ci_access and user_access ids up by full path: a leading or trailing '/', a URL or a numeric
    ID matches none (AGT010, a warning: the config is accepted)."""
    files = {".gitlab/agents/a/config.yaml": (
        "ci_access:\n  projects:\n    - id: acme/fleet\n    - id: '12345'\n    - id: acme/apps/\n"
        "user_access:\n  access_as: {agent: {}}\n  groups:\n    - id: https://gitlab.com/acme\n")}
    write_tree(tmp_path, files)
    result = lint(LintOptions(paths=["."], cwd=tmp_path))
    assert [(d.rule, d.severity, d.span.line) for d in result.diagnostics if d.rule == "AGT010"] == [
        ("AGT010", Severity.WARNING, 4), ("AGT010", Severity.WARNING, 5), ("AGT010", Severity.WARNING, 9)]


def test_a_cadence_that_is_no_standard_cron_spec_is_refused(tmp_path) -> None:
    """robfig/cron's ParseStandard takes five fields or a descriptor; the agent says "cadence is invalid"."""
    config = "container_scanning:\n  cadence: '{}'\n  vulnerability_report:\n    namespaces: [default]\n"
    for index, cadence in enumerate(["0 0 0 * * *", "61 * * * *", "0 0 * * 7"]):
        assert _verdict(tmp_path / str(index), {".gitlab/agents/a/config.yaml": config.format(cadence)}) \
            == [("AGT009", 2)], cadence
    for index, cadence in enumerate(["0 0 * * *", "*/15 2-4 * JAN-MAR MON-FRI", "@daily", "@every 6h"]):
        assert _verdict(tmp_path / f"ok{index}", {".gitlab/agents/a/config.yaml": config.format(cadence)}) == [], cadence


def test_an_agent_config_over_128_kib_is_refused(tmp_path) -> None:
    """kas's default max_configuration_file_size is 131,072 bytes (domain reference §A.1)."""
    padding = "# " + "x" * 98 + "\n"
    big = "ci_access:\n  projects:\n    - id: acme/fleet\n" + padding * 1400
    assert ("AGT009", 1) in _verdict(tmp_path, {".gitlab/agents/a/config.yaml": big})
    assert _verdict(tmp_path / "small", {".gitlab/agents/a/config.yaml": big[: 1000]}) == []
