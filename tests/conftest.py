from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
SHARED = PROJECT.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path in ../shared, skipping the test when the folder is absent (users' machines)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return path


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8", newline="")
    return root


@pytest.fixture(autouse=True, scope="session")
def _cache_outside_the_trees(tmp_path_factory: pytest.TempPathFactory):
    """`check` caches by default, at the root of what it checks: in tests that would be the project itself
    or ../shared. One cache folder for the session instead (tests of the default place unset this)."""
    previous = os.environ.get("GITOPS_LINT_CACHE_DIR")
    os.environ["GITOPS_LINT_CACHE_DIR"] = str(tmp_path_factory.mktemp("gitops-lint-cache"))
    yield
    if previous is None:
        os.environ.pop("GITOPS_LINT_CACHE_DIR", None)
    else:
        os.environ["GITOPS_LINT_CACHE_DIR"] = previous


#: A self-applying Flux bootstrap at `clusters/prod`: Flux's view of a test repository starts here.
FLUX_SYNC = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m0s
  ref:
    branch: main
  url: https://gitlab.com/acme/fleet.git
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m0s
  path: ./clusters/prod
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
"""

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE_GOLDEN = bool(os.environ.get("GITOPS_LINT_UPDATE_GOLDEN"))


def assert_golden(name: str, actual: str, *, folder: Path = GOLDEN) -> None:
    """`actual` equals the golden file `tests/golden/<name>` (`<folder>/<name>` when given, e.g. the rule
    snapshots). Golden files are written only when GITOPS_LINT_UPDATE_GOLDEN is set: a missing one fails,
    so a test can never pass by writing its answer."""
    path = folder / name
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="")
    if not path.exists():
        pytest.fail(f"golden file {path} is missing: run with GITOPS_LINT_UPDATE_GOLDEN=1 and review it")
    assert actual == path.read_text(encoding="utf-8"), f"{name} changed (GITOPS_LINT_UPDATE_GOLDEN=1 rewrites it)"
