"""The dependency graph: namespace resolution, the four output formats, GitLab's Mermaid limits."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_lint.checks import Context
from gitops_lint.project import Settings
from gitops_lint.engine import load_sources
from gitops_lint.discover import discover
from gitops_lint.graph_render import MERMAID_BLOCK_LIMIT, build_view, render_mermaid
from gitops_lint.model import build_model
from tests.conftest import PROJECT, write_tree
from tests.test_cli import golden, run


def context(tmp_path: Path, files: dict[str, str]) -> Context:
    write_tree(tmp_path, files)
    sources = load_sources(discover(["."], cwd=tmp_path).files)
    return Context(files=sources, model=build_model(sources), settings=Settings(whole_repo=True, source_root=""))


def ks(name: str, namespace: str | None, source: str, source_ns: str | None = None, depends: str = "") -> str:
    meta = f"  name: {name}\n" + (f"  namespace: {namespace}\n" if namespace else "")
    ref = f"    kind: GitRepository\n    name: {source}\n" + (f"    namespace: {source_ns}\n" if source_ns else "")
    dep = f"  dependsOn:\n    - name: {depends}\n" if depends else ""
    return (f"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n{meta}spec:\n"
            f"  interval: 10m\n  prune: true\n{dep}  sourceRef:\n{ref}")


def gitrepo(name: str, namespace: str | None) -> str:
    meta = f"  name: {name}\n" + (f"  namespace: {namespace}\n" if namespace else "")
    return (f"apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n{meta}spec:\n"
            "  interval: 10m\n  url: https://gitlab.com/acme/app.git\n")


def targets(ctx: Context) -> dict[str, list[str]]:
    return {f"{ctx.graph.key(r.source)} {r.spec.relation}": [ctx.graph.key(t) for t in r.targets]
            for r in ctx.graph.references}


def test_reference_without_namespace_means_the_referrers_namespace(tmp_path: Path) -> None:
    ctx = context(tmp_path, {"a.yaml": ks("app", "team-a", "src"), "b.yaml": gitrepo("src", "team-b")})
    assert targets(ctx) == {"Kustomization/team-a/app sourceRef": []}
    ctx = context(tmp_path, {"a.yaml": ks("app", "team-a", "src", source_ns="team-b")})
    assert targets(ctx) == {"Kustomization/team-a/app sourceRef": ["GitRepository/team-b/src"]}


def test_namespace_from_the_kustomize_file_that_includes_the_object(tmp_path: Path) -> None:
    ctx = context(tmp_path, {
        "team/kustomization.yaml": "namespace: team-a\nresources:\n  - app.yaml\n  - sub\n",
        "team/app.yaml": ks("app", None, "src"),
        "team/sub/kustomization.yaml": "resources: [src.yaml]\n",
        "team/sub/src.yaml": gitrepo("src", None),
        "other.yaml": gitrepo("src", "team-b"),
    })
    assert targets(ctx) == {"Kustomization/team-a/app sourceRef": ["GitRepository/team-a/src"]}


def test_object_without_any_namespace_matches_references_from_anywhere(tmp_path: Path) -> None:
    ctx = context(tmp_path, {"a.yaml": ks("app", "flux-system", "src"), "b.yaml": gitrepo("src", None)})
    assert targets(ctx) == {"Kustomization/flux-system/app sourceRef": ["GitRepository/src"]}


def test_substitutions_and_wildcards_are_not_judged(tmp_path: Path) -> None:
    receiver = ("apiVersion: notification.toolkit.fluxcd.io/v1\nkind: Receiver\nmetadata:\n  name: r\n"
                "  namespace: flux-system\nspec:\n  type: gitlab\n  resources:\n    - kind: GitRepository\n"
                "      name: '*'\n")
    ctx = context(tmp_path, {"a.yaml": ks("app", "x", "${SOURCE}"), "r.yaml": receiver})
    assert [r.unresolvable for r in ctx.graph.references] == [True, True]


def test_graph_formats_golden() -> None:
    for fmt, name in (("tree", "graph.tree.txt"), ("mermaid", "graph.mermaid.md"), ("dot", "graph.dot"),
                      ("json", "graph.json")):
        out = run(["graph", "--format", fmt, "examples/"], PROJECT)
        assert out.returncode == 0, out.stderr
        golden(name, out.stdout)
    payload = json.loads((Path(__file__).parent / "golden" / "graph.json").read_text())
    assert {"nodes", "links"} <= set(payload)
    assert any(link["relation"] == "applies" for link in payload["links"])


def test_focus(tmp_path: Path) -> None:
    out = run(["graph", "--focus", "HelmRelease/podinfo/podinfo", "examples/"], PROJECT)
    assert out.returncode == 0
    assert "HelmRelease/podinfo/podinfo" in out.stdout and "Receiver" not in out.stdout
    missing = run(["graph", "--focus", "HelmRelease/podinfo/podinfoo", "examples/"], PROJECT)
    assert missing.returncode == 2 and "did you mean" in missing.stderr


@pytest.mark.parametrize("count", [3, 80])
def test_mermaid_stays_within_gitlab_limits(tmp_path: Path, count: int) -> None:
    files = {"src.yaml": gitrepo("fleet", "flux-system")}
    for i in range(count):
        files[f"apps/app{i}.yaml"] = ks(f"app-{i}-with-a-long-name", "flux-system", "fleet",
                                        depends=f"app-{i - 1}-with-a-long-name" if i else "")
    ctx = context(tmp_path, files)
    text = render_mermaid(build_view(ctx))
    blocks = re.findall(r"```mermaid\n(.*?)```", text, re.S)
    assert blocks and len(blocks) <= 50
    for block in blocks:
        assert len("```mermaid\n" + block + "```\n") <= MERMAID_BLOCK_LIMIT
        assert "&" not in block
        ids = set(re.findall(r"^\s+(n\d+)\[", block, re.M))
        used = set(re.findall(r"\b(n\d+)\b", block))
        assert used <= ids  # every node a block uses is declared (labelled) in that block
        assert not re.search(r'\[(?!")', block)  # labels are quoted
    if count > 10:
        assert len(blocks) > 1 and "split into" in text


def test_receiver_wildcards_resolve_by_namespace_and_labels(tmp_path: Path) -> None:
    receiver = ("apiVersion: notification.toolkit.fluxcd.io/v1\nkind: Receiver\nmetadata:\n  name: r\n"
                "  namespace: flux-system\nspec:\n  type: gitlab\n  resources:\n    - kind: GitRepository\n"
                "      name: '*'\n      matchLabels:\n        team: web\n")
    labelled = gitrepo("web", "flux-system").replace("  namespace: flux-system\n",
                                                     "  namespace: flux-system\n  labels:\n    team: web\n")
    ctx = context(tmp_path, {"r.yaml": receiver, "a.yaml": labelled, "b.yaml": gitrepo("other", "flux-system"),
                             "c.yaml": gitrepo("web2", "elsewhere")})
    assert targets(ctx) == {"Receiver/flux-system/r resources": ["GitRepository/flux-system/web"]}


def test_kustomize_entries_into_excluded_folders_exist(tmp_path: Path) -> None:
    """A file the configuration's `exclude` keeps out of the lint is still in the repository: no REF006."""
    write_tree(tmp_path, {
        ".gitops-lint.yaml": "exclude: [vendor/]\n",
        "app/kustomization.yaml": ("resources: [../vendor/cm.yaml, ../vendor/base, ../vendor/gone.yaml]\n"
                                   "patches: [{path: ../vendor/p.yaml}]\n"),
        "vendor/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
        "vendor/p.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: y}\n",
        "vendor/base/kustomization.yaml": "resources: []\n",
    })
    out = run(["check", "--select", "REF006", "--format", "json", "."], tmp_path)
    found = [d["message"] for d in json.loads(out.stdout)["diagnostics"]]
    assert found == ["resources[2] entry '../vendor/gone.yaml' names no file or folder"], found


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcdefg"), st.sampled_from("abcdefg")), max_size=14))
def test_the_cycle_precheck_agrees_with_networkx(edges) -> None:
    """REF004 imports networkx only when its own check finds a cycle: the two must agree on every graph."""
    import networkx

    from gitops_lint.checks.references import _has_cycle

    assert _has_cycle(edges) == (not networkx.is_directed_acyclic_graph(networkx.DiGraph(edges)))


def _walk_as_specified(data, path, prefix=()):
    """Every value at `path`, depth first: the definition `_walk` computes level by level."""
    if not path:
        yield prefix, data
        return
    head, rest = path[0], path[1:]
    if head == "*":
        if isinstance(data, list):
            for index, item in enumerate(data):
                yield from _walk_as_specified(item, rest, prefix + (index,))
    elif isinstance(data, dict) and head in data:
        yield from _walk_as_specified(data[head], rest, prefix + (head,))


_KEYS = st.sampled_from(["spec", "ref", "name", "*"])
_DATA = st.recursive(st.one_of(st.none(), st.integers(), st.text(max_size=2)),
                     lambda inner: st.one_of(st.lists(inner, max_size=3),
                                             st.dictionaries(st.sampled_from(["spec", "ref", "name"]), inner,
                                                             max_size=3)),
                     max_leaves=12)


@given(_DATA, st.lists(_KEYS, max_size=4).map(tuple))
def test_walk_finds_every_value_at_a_path_in_document_order(data, path):
    from gitops_lint.graph import _walk

    assert _walk(data, path) == list(_walk_as_specified(data, path))
