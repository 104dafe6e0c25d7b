"""Memory on huge files: documents are composed and built one at a time, positions are compact."""

from __future__ import annotations

import tracemalloc
import weakref

from gitops_lint.yaml import loader

DOC = """---
apiVersion: v1
kind: ConfigMap
metadata:
  name: config-{i}
  labels: {{app: web-{i}}}
data:
  key: "value-{i}"
  list: [a, b, {i}]
"""


def _text(documents: int) -> str:
    return "".join(DOC.format(i=i) for i in range(documents))


def test_at_most_one_composed_document_is_alive_at_a_time(monkeypatch) -> None:
    alive: list[weakref.ref] = []
    most = 0
    build = loader._add_document

    def counting(source, index, node, positions):  # noqa: ANN001 - the loader's own signature
        nonlocal most
        alive.append(weakref.ref(node))
        most = max(most, sum(ref() is not None for ref in alive))
        build(source, index, node, positions)

    monkeypatch.setattr(loader, "_add_document", counting)
    source = loader.load_text(_text(200))
    assert len(source.documents) == 200
    assert most <= 2, f"{most} composed documents alive at once: the loader must stream them"


def test_loading_costs_a_bounded_multiple_of_the_file_size() -> None:
    text = _text(12_000)  # about 2 MB
    size = len(text)
    assert size > 1_500_000
    tracemalloc.start()
    try:
        source = loader.load_text(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(source.documents) == 12_000
    # Measured: ~20x with the positions (the data, the positions, the text); without them, as loading
    # keeps documents now, less. Composing every document first, with a tuple per span, took over 80x.
    assert peak < 40 * size, f"peak {peak / 1e6:.0f} MB for a {size / 1e6:.1f} MB file"
    tracemalloc.start()
    try:
        source.documents[0].pos  # noqa: B018 - the positions, built when asked
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 40 * size, f"peak {peak / 1e6:.0f} MB for the positions of a {size / 1e6:.1f} MB file"


def test_positions_read_back_as_before() -> None:
    source = loader.load_text("a: 1\nb:\n  - x\n  - {c: 2}\n<<: {d: 3, a: 9}\n")
    doc = source.documents[0]
    assert doc.data == {"a": 1, "b": ["x", {"c": 2}], "d": 3}
    assert list(doc.pos.entries) == ["a", "b", "d"]
    assert doc.pos.entries["a"] == ((1, 1, 1, 2), (1, 4, 1, 5))
    assert doc.pos.entries["d"][1] == (5, 9, 5, 10)
    items = doc.pos.entries["b"][1].items
    assert items[0] == (3, 5, 3, 6)
    assert items[1].span == (4, 5, 4, 11)
    assert doc.locate(("b", 1, "c")).line == 4 and doc.locate(("b", 1, "c")).column == 9
    assert doc.locate(("b", -1, "c"), key=True).column == 6
    assert not doc.has(("b", 2))


def _fleet(root, apps: int):
    from tests.conftest import write_tree

    files = {
        "clusters/prod/flux-system/gotk-sync.yaml": (
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n"
            "  namespace: flux-system\nspec:\n  interval: 1m\n  url: https://gitlab.com/acme/fleet.git\n"
            "  ref:\n    branch: main\n---\n"
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: flux-system\n"
            "  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./clusters/prod\n  prune: true\n"
            "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"),
        "clusters/prod/kustomization.yaml": "resources:\n  - flux-system/gotk-sync.yaml\n"
                                            + "".join(f"  - app-{i}.yaml\n" for i in range(apps)),
    }
    for i in range(apps):
        files[f"clusters/prod/app-{i}.yaml"] = (
            f"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: app-{i}\n"
            f"  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps/app-{i}\n  prune: true\n"
            "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
            f"  postBuild:\n    substitute:\n      NAME: app-{i}\n")
        files[f"apps/app-{i}/kustomization.yaml"] = f"namespace: team-{i}\nresources:\n  - config.yaml\n"
        files[f"apps/app-{i}/config.yaml"] = (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${NAME}\ndata:\n  key: ${NAME:=x}\n")
    write_tree(root, files)


def test_a_run_leaves_no_garbage_that_grows_with_the_repository(tmp_path) -> None:
    """The collector is off during a run (it would walk the growing heap again and again), so a reference
    cycle made per file or per object (a recursive closure, say) stays in memory to the end. At 50k
    documents such cycles were tens of MiB; here their number must not grow with the repository."""
    import gc

    from gitops_lint.engine import LintOptions, lint

    unreachable = []
    for apps in (3, 10, 60):  # the first run imports and builds validators: its garbage is not counted
        root = tmp_path / f"fleet-{apps}"
        _fleet(root, apps)
        gc.collect()
        gc.disable()
        try:
            result = lint(LintOptions(paths=["."], cwd=root))
            assert result.summary.files == 3 * apps + 2 and not result.internal_errors
            unreachable.append(gc.collect())  # while the result (files, model, view) is alive: garbage only
            del result
        finally:
            gc.enable()
    # 150 more files; a cycle per file or per object would add hundreds (a compiled schema, once, adds ~40)
    assert unreachable[2] <= unreachable[1] + 100, f"cyclic garbage grows with the files: {unreachable[1:]}"
