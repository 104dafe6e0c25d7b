"""What a rule means, pinned on tiny repositories: findings only where Flux or GitLab really lose something.

Issue 14: FLX004 (numeric GitLab project IDs), FLX001 (deliberate `prune: false`),
INT003 (long timeouts), TYP001 (label and annotation values kustomize stringifies).
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from gitops_lint.catalogue import load_catalogue
from gitops_lint.cli import main
from gitops_lint.diagnostics import Severity
from gitops_lint.engine import LintOptions, lint
from gitops_lint.model.base import build_lenient
from gitops_lint.model.kubernetes import KubernetesObject
from gitops_lint.yaml.loader import load_text
from tests.conftest import write_tree

CATALOGUE = load_catalogue()


def findings(tmp_path: Path, files: dict[str, str], rule: str) -> list:
    write_tree(tmp_path, files)
    result = lint(LintOptions(paths=["."], cwd=tmp_path, extend_select=[rule]))
    assert not result.internal_errors, result.internal_errors
    return [d for d in result.diagnostics if d.rule == rule]


# --- FLX004: a gitlab Provider's address -------------------------------------------------------------------

def provider(address: str, kind: str = "gitlab") -> str:
    return f"""\
apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Provider
metadata:
  name: gitlab-status
  namespace: flux-system
spec:
  type: {kind}
  address: {address}
  secretRef:
    name: gitlab-token
"""


def test_flx004_accepts_a_numeric_project_id(tmp_path: Path) -> None:
    # notification-controller sends the address path to GitLab's API as the project ID: a number is a project.
    files = {"a.yaml": provider("https://gitlab.example.com/83"),
             "b.yaml": provider("https://gitlab.example.com/4242", "gitlabmergerequestcomment"),
             "c.yaml": provider("https://gitlab.com/acme/fleet")}
    assert findings(tmp_path, files, "FLX004") == []


def test_flx004_still_rejects_addresses_that_name_no_project(tmp_path: Path) -> None:
    files = {"a.yaml": provider("https://gitlab.example.com"),
             "b.yaml": provider("https://gitlab.example.com/acme"),  # a group or user, not a project
             "c.yaml": provider("https://gitlab.example.com/83x")}
    found = findings(tmp_path, files, "FLX004")
    assert sorted(d.path for d in found) == ["a.yaml", "b.yaml", "c.yaml"]
    assert all(d.span.line == 8 and "numeric ID" in d.message for d in found)


# --- FLX001: prune: false ------------------------------------------------------------------------------------

def kustomization(name: str, path: str, prune: str) -> str:
    return f"""\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: flux-system
spec:
  interval: 1h
  path: {path}
  prune: {prune}
  sourceRef:
    kind: GitRepository
    name: flux-system
"""


def test_flx001_is_advice_not_a_warning(tmp_path: Path) -> None:
    # CRDs, the CNI, storage and Flux itself are kept from deletion on purpose in working repositories:
    # the finding stays (a reminder), but at info, so it neither fails a --fail-on warning gate nor counts as one.
    assert CATALOGUE.get("FLX001").severity is Severity.INFO
    files = {"crds.yaml": kustomization("gateway-api-crds", "./crds", "false"),
             "cilium.yaml": kustomization("cilium", "./kube-system/cilium", "false"),
             "apps.yaml": kustomization("apps", "./apps", "false"),
             "pruned.yaml": kustomization("infra", "./infra", "true")}
    found = findings(tmp_path, files, "FLX001")
    assert sorted(d.path for d in found) == ["apps.yaml", "cilium.yaml", "crds.yaml"]
    assert all(d.severity is Severity.INFO and d.span.line == 9 for d in found)
    assert "CRDs" in found[0].message and "prune: disabled" in found[0].message


def test_flx001_summary_counts_no_warning(tmp_path: Path) -> None:
    write_tree(tmp_path, {"crds.yaml": kustomization("crds", "./crds", "false")})
    out = CliRunner().invoke(main, ["check", "--format", "json", "--select", "FLX001", str(tmp_path)])
    payload = json.loads(out.output)
    assert [d["severity"] for d in payload["diagnostics"]] == ["info"]
    assert payload["summary"]["warnings"] == 0 and payload["summary"]["infos"] == 1


# --- INT003: timeout and retryInterval against interval ------------------------------------------------------

def timed_kustomization(interval: str, extra: str) -> str:
    return f"""\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: istio
  namespace: flux-system
spec:
  interval: {interval}
{extra}  prune: true
  path: ./istio
  sourceRef:
    kind: GitRepository
    name: flux-system
"""


HELMRELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: paperless
  namespace: apps
spec:
  interval: 10m
  timeout: 30m
  chart:
    spec:
      chart: paperless
      sourceRef:
        kind: HelmRepository
        name: charts
"""

GITREPOSITORY = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: app
  namespace: flux-system
spec:
  interval: 30s
  timeout: 2m
  url: https://example.com/acme/app.git
"""


def test_int003_allows_a_timeout_longer_than_the_interval(tmp_path: Path) -> None:
    # A controller never overlaps two reconciles of one object: a long timeout (slow Helm installs) delays nothing.
    files = {"ks.yaml": timed_kustomization("10m", "  timeout: 15m\n"),
             "hr.yaml": HELMRELEASE,
             "git.yaml": GITREPOSITORY}
    assert findings(tmp_path, files, "INT003") == []


def test_int003_keeps_a_retry_interval_longer_than_the_interval(tmp_path: Path) -> None:
    files = {"late.yaml": timed_kustomization("5m", "  timeout: 15m\n  retryInterval: 10m\n"),
             "fine.yaml": timed_kustomization("5m", "  retryInterval: 1m\n")}
    found = findings(tmp_path, files, "INT003")
    assert [(d.path, d.span.line) for d in found] == [("late.yaml", 9)]
    assert found[0].message.startswith("retryInterval 10m is longer than interval 5m")
    assert CATALOGUE.get("INT003").severity is Severity.WARNING


# --- TYP001: label and annotation values, as kustomize writes them ----------------------------------------

INGRESS_CLASS = """\
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
  labels:
    tier: 1
    ratio: 1.5
    enabled: false
  annotations:
    ingressclass.kubernetes.io/is-default-class: true
    priority: 10
    unset: null
spec:
  controller: k8s.io/ingress-nginx
"""


def test_typ001_ignores_scalar_label_and_annotation_values(tmp_path: Path) -> None:
    # Flux always builds with kustomize, which writes annotation values as "true", "10" (kubectl kustomize
    # 5.5); label values it writes as they are, and Flux's apply then drops every label of the object
    # (unstructured GetLabels fails on a non-string, fluxcd/pkg ssa SetOwnerLabels starts afresh): K8S003
    # warns of that, no type error.
    labelled_kustomization = kustomization("apps", "./apps", "true").replace(
        "  namespace: flux-system\n", "  namespace: flux-system\n  labels:\n    critical: true\n"
        "  annotations:\n    kustomize.toolkit.fluxcd.io/ssa: 1\n")
    files = {"class.yaml": INGRESS_CLASS, "ks.yaml": labelled_kustomization}
    assert findings(tmp_path, files, "TYP001") == []
    result = lint(LintOptions(paths=["."], cwd=tmp_path, select=["SCH", "TYP001", "K8S003"]))
    assert [(d.rule, d.severity, d.path, d.span.line, d.message.split(",")[0]) for d in result.diagnostics] == [
        ("K8S003", Severity.WARNING, "class.yaml", 6, "label value 1: it is a YAML int"),
        ("K8S003", Severity.WARNING, "class.yaml", 7, "label value 1.5: it is a YAML float"),
        ("K8S003", Severity.WARNING, "class.yaml", 8, "label value false: it is a YAML boolean"),
        ("K8S003", Severity.WARNING, "ks.yaml", 7, "label value true: it is a YAML boolean")]


def test_typ001_model_holds_the_strings_kustomize_writes() -> None:
    doc = load_text(INGRESS_CLASS, "class.yaml").documents[0]
    obj, problems = build_lenient(KubernetesObject, doc)
    assert problems == []
    assert obj.metadata.labels == {"tier": "1", "ratio": "1.5", "enabled": "false"}
    assert obj.metadata.annotations == {"ingressclass.kubernetes.io/is-default-class": "true", "priority": "10",
                                        "unset": None}


def test_typ001_still_reports_structures_in_labels_and_other_string_fields(tmp_path: Path) -> None:
    text = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: default
  labels:
    nested: {a: b}
  annotations:
    listed: [1, 2]
data:
  enabled: true
"""
    found = findings(tmp_path, {"cm.yaml": text}, "TYP001")
    assert sorted((d.span.line, d.message.split(":")[0]) for d in found) == [
        (7, "metadata.labels.nested"), (9, "metadata.annotations.listed"), (11, "data.enabled")]


def test_commonmetadata_of_a_flux_kustomization_is_not_stringified(tmp_path: Path) -> None:
    # kustomize rewrites metadata only: spec.commonMetadata goes to the API server as written, which refuses it.
    text = kustomization("apps", "./apps", "true") + "  commonMetadata:\n    labels:\n      team: 5\n"
    write_tree(tmp_path, {"ks.yaml": text})
    result = lint(LintOptions(paths=["."], cwd=tmp_path, select=["SCH001", "TYP001"]))
    assert [(d.rule, d.span.line) for d in result.diagnostics] == [("SCH001", 15)]


def test_k8s001_leaves_a_name_that_is_no_text_to_typ001(tmp_path: Path) -> None:
    """`name: 2024` is there, as a number: TYP001 says to quote it; K8S001 does not say it is missing."""
    files = {"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: 2024\n  namespace: default\n"}
    assert findings(tmp_path, files, "K8S001") == []
    assert len(findings(tmp_path, files, "TYP001")) == 1


# --- TOK002: the keys of a GitRepository's Secret, as fluxcd/pkg git.NewAuthOptions reads them -----------

def git_repository(url: str, secret: dict[str, str], provider: str | None = None) -> str:
    keys = "".join(f"  {k}: {v}\n" for k, v in secret.items())
    return (f"apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: fleet\n"
            f"  namespace: flux-system\nspec:\n  interval: 10m\n  url: {url}\n"
            + (f"  provider: {provider}\n" if provider else "")
            + "  ref: {branch: main}\n  secretRef:\n    name: fleet-auth\n---\n"
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: fleet-auth\n  namespace: flux-system\n"
            f"stringData:\n{keys}")


def test_tok002_takes_the_user_of_the_url_and_the_keys_of_a_provider(tmp_path: Path) -> None:
    """The URL's user stands in for a missing username; a username alone passes Flux's validation; a
    `provider: github` GitRepository authenticates with a GitHub App's keys."""
    files = {
        "a.yaml": git_repository("https://oauth2@gitlab.com/acme/fleet.git", {"password": "t"}),
        "b.yaml": git_repository("https://gitlab.com/acme/fleet.git", {"username": "bot"}).replace("fleet", "b"),
        "c.yaml": git_repository("https://github.com/acme/fleet", {
            "githubAppID": "'1'", "githubAppInstallationID": "'2'", "githubAppPrivateKey": "k"},
            provider="github").replace("fleet", "c"),
    }
    assert findings(tmp_path, files, "TOK002") == []


def test_tok002_refuses_a_password_without_any_username(tmp_path: Path) -> None:
    files = {"a.yaml": git_repository("https://gitlab.com/acme/fleet.git", {"password": "t"}),
             "b.yaml": git_repository("https://gitlab.com/acme/fleet.git", {"token": "t"}).replace("fleet", "b")}
    found = findings(tmp_path, files, "TOK002")
    assert [(d.path, "requires 'username'" in d.message) for d in found] == [("a.yaml", True), ("b.yaml", False)]


# --- REF001: what controllers make ---------------------------------------------------------------------------

HELM_PAIR = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: podinfo, namespace: flux-system}
spec: {interval: 1h, url: https://stefanprodan.github.io/podinfo}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: podinfo, namespace: apps}
spec:
  interval: 10m
  chart:
    spec:
      chart: podinfo
      sourceRef: {kind: HelmRepository, name: podinfo, namespace: flux-system}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: second, namespace: apps}
spec:
  interval: 10m
  chartRef: {kind: HelmChart, name: %s, namespace: flux-system}
"""


def test_ref001_knows_the_helmchart_a_helmrelease_makes(tmp_path: Path) -> None:
    """helm-controller makes HelmChart `<namespace>-<name>` of a chart template, in its source's namespace."""
    assert findings(tmp_path, {"hr.yaml": HELM_PAIR % "apps-podinfo"}, "REF001") == []
    missing = findings(tmp_path / "other", {"hr.yaml": HELM_PAIR % "podinfo"}, "REF001")
    assert [d.span.line for d in missing] == [21]


# --- YAML002: where a repeated key fails nothing -----------------------------------------------------------

def test_yaml002_is_a_warning_where_go_yaml_v2_reads_the_file(tmp_path: Path) -> None:
    """GitLab's agent server (an agent config) and kustomize (a kustomization file) read with go-yaml v2,
    which keeps the later value: a warning there; a manifest's repeated key fails kustomize: an error."""
    files = {".gitlab/agents/prod/config.yaml": "gitops:\n  manifest_projects: []\ngitops:\n  manifest_projects: []\n",
             "apps/kustomization.yaml": "resources: [cm.yaml]\nresources: [cm.yaml]\n",
             "apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v, k: w}\n"}
    assert sorted((d.path, d.severity) for d in findings(tmp_path, files, "YAML002")) == [
        (".gitlab/agents/prod/config.yaml", Severity.WARNING), ("apps/cm.yaml", Severity.ERROR),
        ("apps/kustomization.yaml", Severity.WARNING)]
