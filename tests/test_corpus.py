"""The real-world corpus in ../shared/corpus: no crash, and every error is one we have read and believe."""

from __future__ import annotations

from collections import Counter

from gitops_lint.diagnostics import Severity
from gitops_lint.engine import LintOptions, lint
from tests.conftest import shared_path

#: Errors reviewed by reading the files: (rule, path). A new error here is a new
#: false positive until someone reads the file and adds it with a reason.
REVIEWED_ERRORS = {
    # the file starts with an unresolved `<<<<<<< HEAD` / `=======` pair
    ("YAML003", "_agent_configs/Egor-Pomidor-pdf+DelayedNotifier+minikube.yaml"),
    # a JSON6902 patch list followed by a top-level `target:` mapping in the same document
    ("YAML001", "sulibot+home-ops/terraform/infra/modules/cluster_core/ippools-patch.yaml"),
    # legacy `gitops.manifest_projects`: removed in GitLab 17.0, nothing applies them any more
    ("AGT003", "dimMaryanto93+gitlab-devops-automation/.gitlab/agents/testing/config.yaml"),
    ("AGT003", "dimMaryanto93+gitlab-devops-automation/examples/deploy-gitops/.gitlab/agents/review/config.yaml"),
}


def test_corpus_has_no_crash_and_only_reviewed_errors() -> None:
    corpus = shared_path("corpus")
    result = lint(LintOptions(paths=["."], cwd=corpus))
    assert not result.internal_errors, result.internal_errors
    assert result.summary.files > 6000
    errors = {(d.rule, d.path) for d in result.diagnostics if d.severity is Severity.ERROR}
    assert errors == REVIEWED_ERRORS, sorted(errors ^ REVIEWED_ERRORS)
    counts = Counter(d.rule for d in result.diagnostics)
    # Ansible task files with unparseable Jinja are skipped as templates, not syntax errors.
    assert counts["YAML008"] >= 3 and counts["YAML001"] == 1
