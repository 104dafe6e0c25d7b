"""The real-world corpus in ../shared/corpus: no crash, and every error is one we have read and believe.

Each repository is linted on its own, from its root, as its owners would run it.
"""

from __future__ import annotations

from collections import Counter

from gitops_lint.diagnostics import Severity
from gitops_lint.engine import LintOptions, lint
from tests.conftest import shared_path

#: Errors reviewed by reading the files: (rule, repository/path), each one Flux or GitLab fails on. A new
#: error here is a new false positive until someone shows that Flux or GitLab would fail on it.
#: Where a repository has a Flux entry point, only what its Kustomizations apply is judged (Flux's view):
#: disabled apps (sulibot's kiali, xunholy's minecraft), clusters that are not bootstrapped (sulibot's
#: production and staging) and parked `.archive/` folders (bjw-s) no longer give errors; REF010 names them.
REVIEWED_ERRORS = {
    # the file starts with an unresolved `<<<<<<< HEAD` / `=======` pair
    ("YAML003", "_agent_configs/Egor-Pomidor-pdf+DelayedNotifier+minikube.yaml"),
    # three exporters point at `<name>/app`, but their manifests sit in `<name>/` itself: kustomize-controller
    # fails each with "kustomization path not found"
    ("REF005", "tuxpeople+k8s-homelab/kubernetes/apps/observability/exportarr/ks.yaml"),
    # kyverno's crds.yaml exists upstream but is over 4 MiB, so the corpus snapshot left it out
    # (.extract.json lists it as missing): true for the files as stored here
    ("REF006", "tuxpeople+k8s-homelab/kubernetes/apps/security/kyverno/crds/kustomization.yaml"),
    # the sample's bootstrap sync keeps the placeholder `REPO_PREFIX/gitops-system` its setup script
    # replaces; as committed, the API server refuses the URL (it must start with http, https or ssh)
    ("SCH001", "aws-samples+eks-multi-cluster-gitops/repos/gitops-system/clusters/mgmt/flux-system/gotk-sync.yaml"),
}


#: Warnings that were errors before the check knew better, each pinned where it stands.
DOWNGRADED = {
    # apiVersions the newest Flux (2.9) no longer serves, in repositories that declare no Flux version: their
    # clusters may run an older Flux that serves them (these examples reconcile on the Flux of their day)
    ("SCH006", "fluxcd+flux2-hub-spoke-example/deploy/apps/podinfo.yaml"),
    ("SCH006", "fluxcd+flux2-hub-spoke-example/deploy/infra-controllers/cert-manager.yaml"),
    ("SCH006", "fluxcd+flux2-hub-spoke-example/deploy/infra-controllers/ingress-nginx.yaml"),
    ("SCH006", "fluxcd+flux2-multi-tenancy/infrastructure/kyverno/source.yaml"),
    # legacy `gitops.manifest_projects` in a repository that names no GitLab version: removed in GitLab 17.0,
    # but a self-managed GitLab before 17.0 still applies them
    ("AGT003", "dimMaryanto93+gitlab-devops-automation/.gitlab/agents/testing/config.yaml"),
    ("AGT003", "dimMaryanto93+gitlab-devops-automation/examples/deploy-gitops/.gitlab/agents/review/config.yaml"),
    # a JSON6902 patch list followed by a top-level `target:` mapping: not YAML, but a Terraform module's
    # file that neither Flux nor GitLab reads
    ("YAML001", "sulibot+home-ops/terraform/infra/modules/cluster_core/ippools-patch.yaml"),
}


def test_corpus_has_no_crash_and_only_reviewed_errors() -> None:
    corpus = shared_path("corpus")
    errors: set[tuple[str, str]] = set()
    warnings: set[tuple[str, str]] = set()
    counts: Counter[str] = Counter()
    files = 0
    for repo in sorted(p for p in corpus.iterdir() if p.is_dir()):
        result = lint(LintOptions(paths=["."], cwd=repo))
        assert not result.internal_errors, (repo.name, result.internal_errors)
        files += result.summary.files
        counts.update(d.rule for d in result.diagnostics)
        errors |= {(d.rule, f"{repo.name}/{d.path}") for d in result.diagnostics if d.severity is Severity.ERROR}
        warnings |= {(d.rule, f"{repo.name}/{d.path}") for d in result.diagnostics if d.severity is Severity.WARNING}
    assert files > 6000
    assert errors == REVIEWED_ERRORS, sorted(errors ^ REVIEWED_ERRORS)
    assert DOWNGRADED <= warnings, sorted(DOWNGRADED - warnings)
    # Ansible task files with unparseable Jinja are skipped as templates, not syntax errors.
    assert counts["YAML008"] >= 3 and counts["YAML001"] == 1
