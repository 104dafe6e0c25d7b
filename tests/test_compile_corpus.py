"""`compile`'s guarantees on real repositories, and its output built by kustomize.

Per corpus repository (skipped without ../shared): compiling twice gives the same
bytes (the second time in a child process with another hash seed), compiling the
output gives the same bytes, and `check` finds no error in the output that the
input does not have. `benchmarks/compile_corpus.py` prints the same as a table.

`kubectl kustomize` (skipped when kubectl is absent) builds every kustomization of
the compiled demo repository and of a legacy migration, and, on the smaller corpus
repositories, every output kustomization whose input builds.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from benchmarks.compile_corpus import CORPUS, KUSTOMIZE, VARIANTS, examine
from gitops_lint.compile import write_tree
from tests.conftest import PROJECT, shared_path
from tests.conftest import write_tree as write_files
from tests.test_compile_options import compiled

needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None,
                                   reason="kubectl not installed (Debian: apt-get install kubernetes-client)")

#: Repositories small enough to build every kustomization of in the test run (the rest: the benchmark).
KUSTOMIZE_IN_TESTS = {"fluxcd+flux2-hub-spoke-example", "fluxcd+flux2-kustomize-helm-example",
                      "fluxcd+flux2-monitoring-example", "fluxcd+flux2-multi-tenancy",
                      "dimMaryanto93+gitlab-devops-automation"}


def _repos() -> list[str]:
    if not CORPUS.is_dir():
        return ["(corpus absent)"]
    return sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and not p.name.startswith("_"))


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", _repos())
def test_compile_guarantees_on_corpus(name: str, variant: str, tmp_path: Path) -> None:
    repo = shared_path("corpus", name)
    kustomize = variant == "default" and name in KUSTOMIZE_IN_TESTS and shutil.which("kubectl") is not None
    report = examine(repo, variant, tmp_path, kustomize=kustomize)
    assert report.outputs > 0
    assert report.deterministic, "two compiles differ"
    assert report.idempotent, "compiling the output changes it"
    assert report.new_errors == [], "errors in the output that the input does not have"
    if kustomize:
        assert report.kustomize_failures == []
        assert report.kustomize[0] > 0  # something was built, so the comparison means something


def _build_all(out: Path) -> list[str]:
    folders = sorted({p.parent for p in out.rglob("kustomization.yaml")})
    assert folders
    failures = []
    for folder in folders:
        proc = subprocess.run([*KUSTOMIZE, str(folder)], capture_output=True, text=True, timeout=120)
        if proc.returncode != 0 or "kind:" not in proc.stdout:
            failures.append(f"{folder.relative_to(out)}: {proc.stderr.strip()}")
    return failures


@needs_kubectl
def test_kustomize_builds_compiled_examples(tmp_path: Path) -> None:
    examples = Path(shutil.copytree(PROJECT / "examples", tmp_path / "examples"))
    out = tmp_path / "out"
    write_tree(compiled(examples, with_agent_objects=True, substitute=True).outputs, out)
    assert _build_all(out) == []


@needs_kubectl
def test_kustomize_builds_migrated_kustomizations(tmp_path: Path) -> None:
    from tests.test_compile_migrate import CONFIG, MANIFEST

    write_files(tmp_path / "repo", {
        ".gitlab/agents/prod/config.yaml": CONFIG,
        "manifests/app.yaml": MANIFEST,
        "manifests/sub/more.yml": MANIFEST.replace("name: app", "name: more"),
    })
    from gitops_lint.compile import compile_context
    from gitops_lint.compile.legacy import migrate_agents
    from gitops_lint.engine import LintOptions, lint

    context = lint(LintOptions(paths=["."], cwd=tmp_path / "repo")).context
    migration = migrate_agents(context.files, context.model, config_project="group/app")
    out = tmp_path / "out"
    write_tree(compile_context(context, generated=migration.documents).outputs, out)
    assert (out / "flux/migrated/prod/app/kustomization.yaml").is_file()
    assert _build_all(out) == []
    built = subprocess.run([*KUSTOMIZE, str(out / "flux/migrated/prod/app")], capture_output=True, text=True,
                           check=True).stdout
    assert "name: app" in built and "name: more" in built
