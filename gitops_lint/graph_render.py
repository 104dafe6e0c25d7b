"""`gitops-lint graph`: the dependency graph as a tree (like `flux tree`), Mermaid, DOT or JSON.

Edges: `applies` (a Flux Kustomization applies the objects of its path),
plus every resolved reference (`sourceRef`, `dependsOn`, `valuesFrom`, ...).
Output is sorted, so the same repository always renders the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from typing import TYPE_CHECKING

from gitops_lint.model.kubernetes import KubernetesObject

if TYPE_CHECKING:
    from gitops_lint.checks import Context

#: GitLab does not auto-render a Mermaid block above 2,000 characters in merge requests and issues.
MERMAID_BLOCK_LIMIT = 2000
#: ... nor more than 50 diagrams on one page.
MERMAID_MAX_BLOCKS = 50
FORMATS = ("tree", "mermaid", "dot", "json", "html")


@dataclass(slots=True)
class View:
    """The nodes and edges to draw: keys are `Kind/namespace/name`."""

    nodes: dict[str, KubernetesObject] = field(default_factory=dict)
    #: (source, target, relation), sorted and without repeats.
    edges: list[tuple[str, str, str]] = field(default_factory=list)
    #: What Flux's view changed on the way to each node (`targetNamespace of Kustomization/...`, patches).
    transforms: dict[str, list[str]] = field(default_factory=dict)

    def children(self, key: str, relation: str | None = None) -> list[str]:
        return [t for s, t, r in self.edges if s == key and (relation is None or r == relation)]


def build_view(ctx: "Context", focus: str | None = None) -> View:
    """Objects, what each Flux Kustomization applies, every resolved reference, and what each agent watches."""
    from gitops_lint.model.gitlab import agent_watches

    graph, paths = ctx.graph, ctx.paths
    view = View()
    for obj in graph.objects:
        view.nodes[graph.key(obj)] = obj
    by_file: dict[str, list[KubernetesObject]] = {}
    for obj in graph.objects:
        by_file.setdefault(obj.path, []).append(obj)
    edges: set[tuple[str, str, str]] = set()
    if ctx.view.active:
        # what each Kustomization applies, object by object, as Flux's view computed it
        for applied in ctx.view.applied:
            kustomization = ctx.view.typed(applied.kustomization)
            if kustomization is None:
                continue
            source = graph.key(kustomization)
            view.nodes.setdefault(source, kustomization)
            for resource in applied.resources:
                obj = ctx.view.typed(resource)
                if obj is not None and obj.kind and obj.name and resource.doc is not applied.kustomization.doc:
                    edges.add((source, graph.key(obj), "applies"))
                    done = view.transforms.setdefault(graph.key(obj), [])
                    done.extend(t for t in resource.transforms if t not in done)
    for resolution in paths if not ctx.view.active else ():
        source = graph.key(resolution.kustomization)
        for rel in resolution.files:
            for obj in by_file.get(rel, ()):
                if obj is not resolution.kustomization:
                    edges.add((source, graph.key(obj), "applies"))
    for ref in graph.references:
        for target in ref.targets:
            edges.add((graph.key(ref.source), graph.key(target), ref.spec.relation))
    for agent, repositories in agent_watches(ctx.model, ctx.settings.gitlab_url):
        view.nodes[agent.ref] = agent
        edges.update((agent.ref, graph.key(repo), "watches") for repo in repositories)
    view.edges = sorted(edges)
    if focus:
        view = _focus(view, focus)
    return _masked(view, ctx.view.secret_texts)


def _masked(view: View, secrets: set[str]) -> View:
    """The view with the values Secrets hand to other objects (`FluxView.secret_texts`) masked in every
    name and note it draws, before any format renders them: a substituted name is `***` in all of them."""
    if not secrets:
        return view
    from gitops_lint.secrets import SecretMasker

    masked = SecretMasker(secrets)
    return View({masked(k): v for k, v in view.nodes.items()},
                sorted({(masked(s), masked(t), r) for s, t, r in view.edges}),
                {masked(k): [masked(t) for t in v] for k, v in view.transforms.items()})


def _focus(view: View, focus: str) -> View:
    """Only what `focus` reaches and what reaches it."""
    import networkx

    graph = networkx.DiGraph()
    graph.add_nodes_from(view.nodes)
    graph.add_edges_from((s, t) for s, t, _ in view.edges)
    if focus not in graph:
        raise KeyError(focus)
    keep = {focus} | networkx.descendants(graph, focus) | networkx.ancestors(graph, focus)
    # What focus reaches is applied by something, most often by a Kustomization it does not reach (the
    # HelmRepository a HelmRelease names): the Kustomizations applying each kept object, up to the entry
    # point, stay with their `applies` edges, or the tree would call that object "not applied".
    applies = networkx.DiGraph((s, t) for s, t, r in view.edges if r == "applies")
    appliers = set().union(*(networkx.ancestors(applies, k) for k in keep if k in applies)) - keep
    edges = [e for e in view.edges if (e[0] in keep and e[1] in keep)
             or (e[2] == "applies" and e[0] in appliers and e[1] in keep | appliers)]
    keep |= appliers
    return View({k: v for k, v in view.nodes.items() if k in keep}, edges,
                {k: v for k, v in view.transforms.items() if k in keep})


# --------------------------------------------------------------------------- tree


def render_tree(view: View) -> str:
    """`flux tree` style: one tree per entry point (a Kustomization nothing in the repository applies)."""
    applied = {t for _, t, r in view.edges if r == "applies"}
    roots = [k for k in view.nodes if k.startswith("Kustomization/") and k not in applied
             and view.children(k, "applies")]
    agents = sorted(k for k in view.nodes if k.startswith("AgentConfig/"))
    lines: list[str] = []
    for root in sorted(roots):
        lines.append(root)
        _branch(view, root, "", lines, {root})
    for agent in agents:  # what each agent reconciles on push
        lines.append(agent)
        watched = sorted(view.children(agent, "watches"))
        lines.extend(f"{'└── ' if i == len(watched) - 1 else '├── '}watches {k}" for i, k in enumerate(watched))
    orphans = sorted(k for k in view.nodes if k not in applied and k not in roots and k not in agents)
    if orphans:
        lines.append(f"(not applied by any Kustomization in this repository: {len(orphans)})")
        lines.extend(f"{'└── ' if i == len(orphans) - 1 else '├── '}{k}" for i, k in enumerate(orphans))
    return "\n".join(lines) + "\n" if lines else ""


def _branch(view: View, key: str, prefix: str, lines: list[str], path: set[str]) -> None:
    children = sorted(set(view.children(key, "applies")))
    for index, child in enumerate(children):
        last = index == len(children) - 1
        lines.append(f"{prefix}{'└── ' if last else '├── '}{child}")
        if child not in path:
            _branch(view, child, prefix + ("    " if last else "│   "), lines, path | {child})


# --------------------------------------------------------------------------- mermaid


def render_mermaid(view: View) -> str:
    """Markdown with ```mermaid blocks that GitLab renders inline: each under its size limits.

    A graph too big for one block is split into connected parts, and a part
    still too big into chunks of edges; a note says so.
    """
    ids = {key: f"n{index}" for index, key in enumerate(sorted(view.nodes))}
    blocks: list[str] = []
    for part in _components(view):
        nodes = [k for k in sorted(part)]
        edges = [e for e in view.edges if e[0] in part]
        blocks.extend(_mermaid_blocks(nodes, edges, ids, view))
    if not blocks:
        return "```mermaid\nflowchart LR\n```\n"
    note = ""
    if len(blocks) > MERMAID_MAX_BLOCKS:
        note = (f"<!-- {len(blocks)} diagrams: GitLab renders at most {MERMAID_MAX_BLOCKS} on a page; "
                "use --focus Kind/namespace/name for a part -->\n")
    elif len(blocks) > 1:
        note = f"<!-- the graph is split into {len(blocks)} diagrams to stay within GitLab's size limit -->\n"
    return note + "\n".join(blocks)


def _components(view: View) -> list[set[str]]:
    import networkx

    graph = networkx.Graph()
    graph.add_nodes_from(view.nodes)
    graph.add_edges_from((s, t) for s, t, _ in view.edges)
    return sorted((set(c) for c in networkx.connected_components(graph)), key=lambda c: min(c))


def _label(key: str) -> str:
    return key.replace('"', "#quot;")


def _mermaid_blocks(nodes: list[str], edges: list[tuple[str, str, str]], ids: dict[str, str], view: View) -> list[str]:
    """Pack edges (and lone nodes) into blocks under the size limit; each block declares the nodes it uses."""
    head, tail = "```mermaid\nflowchart LR\n", "```\n"
    touched = {k for s, t, _ in edges for k in (s, t)}
    items = [((s, t), f"  {ids[s]} {'-->' if r == 'applies' else '-.->'}|{r}| {ids[t]}") for s, t, r in edges]
    items += [((k,), "") for k in nodes if k not in touched]
    blocks: list[str] = []
    lines: list[str] = []
    declared: set[str] = set()

    def flush() -> None:
        if lines:
            blocks.append(head + "\n".join(lines) + "\n" + tail)

    for keys, edge_line in items:
        new = [f'  {ids[k]}["{_label(k)}"]' for k in dict.fromkeys(keys) if k not in declared]
        new += [edge_line] if edge_line else []
        if lines and len(head) + len(tail) + sum(len(x) + 1 for x in lines + new) > MERMAID_BLOCK_LIMIT:
            flush()
            lines, declared = [], set()
            new = [f'  {ids[k]}["{_label(k)}"]' for k in dict.fromkeys(keys)] + ([edge_line] if edge_line else [])
        lines.extend(new)
        declared.update(keys)
    flush()
    return blocks


# --------------------------------------------------------------------------- dot and json


def render_dot(view: View) -> str:
    lines = ["digraph gitops {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];']
    for key in sorted(view.nodes):
        lines.append(f"  {json.dumps(key)};")
    for source, target, relation in view.edges:
        style = "" if relation == "applies" else ", style=dashed"
        lines.append(f"  {json.dumps(source)} -> {json.dumps(target)} [label={json.dumps(relation)}{style}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _key_parts(key: str) -> tuple[str, str | None, str]:
    """`Kind/namespace/name` (or `Kind/name`) -> (kind, namespace or None, name)."""
    kind, _, rest = key.partition("/")
    namespace = rest.split("/")[0] if key.count("/") == 2 else None
    return kind, namespace, rest.rpartition("/")[2]


def render_json(view: View) -> str:
    nodes = []
    for key in sorted(view.nodes):
        obj = view.nodes[key]
        kind, namespace, name = _key_parts(key)
        nodes.append({"id": key, "kind": kind, "namespace": namespace, "name": name,
                      "path": obj.path, "line": obj.doc.span.line, "transforms": view.transforms.get(key, [])})
    links = [{"source": s, "target": t, "relation": r} for s, t, r in view.edges]
    return json.dumps({"directed": True, "multigraph": True, "nodes": nodes, "links": links}, indent=2) + "\n"


def render_html(view: View) -> str:
    """One self-contained page: the graph drawn, filtered by kind and namespace, searched by name."""
    from gitops_lint.html_page import PageNode, render_page

    nodes = [PageNode(key, *_key_parts(key), view.nodes[key].path, view.nodes[key].doc.span.line)
             for key in sorted(view.nodes)]
    return render_page("gitops-lint graph", nodes, view.edges,
                       summary=f"{len(nodes)} objects, {len(view.edges)} edges")


RENDERERS = {"tree": render_tree, "mermaid": render_mermaid, "dot": render_dot, "json": render_json,
             "html": render_html}
