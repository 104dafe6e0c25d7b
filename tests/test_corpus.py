"""The real-world corpus in ../shared/corpus: no crash, and every error is one we have read and believe.

Each repository is linted on its own, from its root, as its owners would run it.
"""

from __future__ import annotations

from collections import Counter

from gitops_lint.diagnostics import Severity
from gitops_lint.engine import LintOptions, lint
from tests.conftest import shared_path

#: Errors reviewed by reading the files: (rule, repository/path). A new error here is a new
#: false positive until someone reads the file and adds it with a reason.
REVIEWED_ERRORS = {
    # the file starts with an unresolved `<<<<<<< HEAD` / `=======` pair
    ("YAML003", "_agent_configs/Egor-Pomidor-pdf+DelayedNotifier+minikube.yaml"),
    # a JSON6902 patch list followed by a top-level `target:` mapping in the same document
    ("YAML001", "sulibot+home-ops/terraform/infra/modules/cluster_core/ippools-patch.yaml"),
    # legacy `gitops.manifest_projects`: removed in GitLab 17.0, nothing applies them any more
    ("AGT003", "dimMaryanto93+gitlab-devops-automation/.gitlab/agents/testing/config.yaml"),
    ("AGT003", "dimMaryanto93+gitlab-devops-automation/examples/deploy-gitops/.gitlab/agents/review/config.yaml"),
    # Alert eventSources kind FluxInstance: not in the v1beta3 CRD's enum, the API server refuses the Alert
    ("SCH001", "joryirving+home-ops/kubernetes/components/namespace/alerts/alertmanager/alert.yaml"),
    ("SCH001", "onedr0p+home-ops/kubernetes/components/alerts/alertmanager/alert.yaml"),
    # kiali depends on a `jaeger` HelmRelease/Kustomization that the repository does not define
    ("REF001", "sulibot+home-ops/kubernetes/apps/tier-1-infrastructure/kiali/app/helmrelease.yaml"),
    ("REF001", "sulibot+home-ops/kubernetes/apps/tier-1-infrastructure/kiali/ks.yaml"),
    # cluster-102 lists ./flux-system, which is not committed; cluster_core lists ../../base, which is absent
    ("REF006", "sulibot+home-ops/kubernetes/clusters/cluster-102/kustomization.yaml"),
    ("REF006", "sulibot+home-ops/terraform/infra/modules/cluster_core/kustomization.yaml"),
    # production and staging clusters point at kubernetes/manifests/*, a tree that no longer exists
    ("REF005", "sulibot+home-ops/kubernetes/clusters/production/apps-old.yaml"),
    ("REF005", "sulibot+home-ops/kubernetes/clusters/production/core.yaml"),
    ("REF005", "sulibot+home-ops/kubernetes/clusters/production/platform.yaml"),
    ("REF005", "sulibot+home-ops/kubernetes/clusters/staging/apps.yaml"),
    ("REF005", "sulibot+home-ops/kubernetes/clusters/staging/git.yaml"),
    # a disabled app (commented out of its overlay) still names an ExternalArtifact nothing generates
    ("REF001", "xunholy+k8s-gitops/kubernetes/apps/base/game-servers/minecraft-witherstorm/ks.yaml"),
}


#: Flux objects on apiVersions that Flux 2.9 no longer serves (HelmRelease v2beta1/v2beta2, HelmRepository and
#: OCIRepository v1beta2): real, and the API server of a 2.9 cluster refuses every one of them (SCH006).
REMOVED_API_VERSIONS = {
    "bjw-s+home-ops/.archive/kubernetes/authentik/app/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/authentik/redis/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/bonob/kids/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/bonob/main/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/dbman/operator/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/dbman/operator/helmrepository.yaml",
    "bjw-s+home-ops/.archive/kubernetes/excalidraw/app/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/immich/app/machine-learning/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/immich/app/microservices/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/immich/app/server/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/immich/app/typesense/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/immich/app/web/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/immich/redis/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/jellyfin/app/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/k8s-ycl/app/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/mealie/app/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/n8n/app/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/navidrome/kids/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/navidrome/main/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/oauth2-proxy/app/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/oauth2-proxy/redis/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/obsidian-couchdb/app/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/opentelemetry-collector/app/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/opentelemetry-collector/app/helmrepository.yaml",
    "bjw-s+home-ops/.archive/kubernetes/overseerr/app/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/parseable/app/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/plex-meta-manager/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/quickwit/app/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/quickwit/app/helmrepository.yaml",
    "bjw-s+home-ops/.archive/kubernetes/readarr/app/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/renovate-ce/app/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/spegel/app/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/spegel/app/ocirepository.yaml",
    "bjw-s+home-ops/.archive/kubernetes/spoolman/app/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/tagspaces/app/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/thanos/app/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/tudo/app/helmrelease.yaml",
    "bjw-s+home-ops/.archive/kubernetes/windmill/app/helmrelease.yaml",
    "bjw-s+home-ops/kubernetes/main/flux/config/flux.yaml",
    "fluxcd+flux2-hub-spoke-example/deploy/apps/podinfo.yaml",
    "fluxcd+flux2-hub-spoke-example/deploy/infra-controllers/cert-manager.yaml",
    "fluxcd+flux2-hub-spoke-example/deploy/infra-controllers/ingress-nginx.yaml",
    "fluxcd+flux2-multi-tenancy/infrastructure/kyverno/source.yaml",
}
REVIEWED_ERRORS |= {("SCH006", path) for path in REMOVED_API_VERSIONS}


def test_corpus_has_no_crash_and_only_reviewed_errors() -> None:
    corpus = shared_path("corpus")
    errors: set[tuple[str, str]] = set()
    counts: Counter[str] = Counter()
    files = 0
    for repo in sorted(p for p in corpus.iterdir() if p.is_dir()):
        result = lint(LintOptions(paths=["."], cwd=repo))
        assert not result.internal_errors, (repo.name, result.internal_errors)
        files += result.summary.files
        counts.update(d.rule for d in result.diagnostics)
        errors |= {(d.rule, f"{repo.name}/{d.path}") for d in result.diagnostics if d.severity is Severity.ERROR}
    assert files > 6000
    assert errors == REVIEWED_ERRORS, sorted(errors ^ REVIEWED_ERRORS)
    # Ansible task files with unparseable Jinja are skipped as templates, not syntax errors.
    assert counts["YAML008"] >= 3 and counts["YAML001"] == 1
