"""One self-contained HTML page of a graph (`graph --format html`, `diff --format html`): nothing fetched
when it is viewed (no CDN, no font), so it opens offline, from a CI artifact or a file.

The layout is computed here, in Python, and drawn as plain SVG: layers by longest path (what applies
comes before what is applied), nodes ordered in each layer by where their parents sit, tall layers
folded into several columns. No drawing library: at 2,000 nodes a force layout in the browser takes
seconds and a library adds hundreds of KB, where this page is a few hundred bytes per node and shows at
once. Each node links to `path#L<line>` (a line anchor GitLab's file view follows). A little inline
script filters by kind and namespace and searches by name; its state lives in the
address's `#` part (`#q=podinfo&kind=HelmRelease&ns=flux-system`), so a filtered view can be shared.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

#: Nodes per column: a layer with more is folded into several columns.
COLUMN_HEIGHT = 40
NODE_WIDTH, NODE_HEIGHT = 250, 26
COLUMN_GAP, ROW_GAP = 70, 8


@dataclass(slots=True)
class PageNode:
    id: str
    kind: str
    namespace: str | None
    name: str
    path: str
    line: int
    #: "added", "removed", "changed" on a diff page; "" otherwise.
    state: str = ""


def layout(ids: list[str], edges: list[tuple[str, str, str]]) -> dict[str, tuple[int, int]]:
    """(x, y) of each node's top left corner."""
    children: dict[str, list[str]] = {i: [] for i in ids}
    parents: dict[str, list[str]] = {i: [] for i in ids}
    for source, target, _ in edges:
        if source in children and target in children and source != target:
            children[source].append(target)
            parents[target].append(source)
    # Layers by longest path, on the graph without the edges that close a cycle (a dependsOn cycle).
    order: list[str] = []
    state: dict[str, int] = {}
    back: set[tuple[str, str]] = set()
    for start in ids:
        if start in state:
            continue
        stack = [(start, iter(children[start]))]
        state[start] = 1
        while stack:
            node, pending = stack[-1]
            child = next(pending, None)
            if child is None:
                state[node] = 2
                order.append(node)
                stack.pop()
            elif state.get(child) == 1:
                back.add((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(children[child])))
    layer: dict[str, int] = {}
    for node in reversed(order):  # parents before children
        layer[node] = max((layer[p] + 1 for p in parents[node] if (p, node) not in back and p in layer), default=0)
    layers: dict[int, list[str]] = {}
    alone = max(layer.values(), default=0) + 1  # nodes with no edge at all come last, out of the way
    for node in ids:
        layers.setdefault(layer[node] if children[node] or parents[node] else alone, []).append(node)
    positions: dict[str, tuple[int, int]] = {}
    rank: dict[str, float] = {}
    column = 0
    for number in sorted(layers):
        members = layers[number]
        # Under their parents, so edges cross less; then by name, so the page is the same every time.
        members.sort(key=lambda n: (sum(rank.get(p, 0) for p in parents[n]) / max(len(parents[n]), 1), n))
        for index, node in enumerate(members):
            rank[node] = index
            positions[node] = ((column + index // COLUMN_HEIGHT) * (NODE_WIDTH + COLUMN_GAP),
                               (index % COLUMN_HEIGHT) * (NODE_HEIGHT + ROW_GAP))
        column += -(-len(members) // COLUMN_HEIGHT)
    return positions


def render_page(title: str, nodes: list[PageNode], edges: list[tuple[str, str, str]],
                signals: list[tuple[str, str, str, str]] = (), summary: str = "") -> str:
    """The page: `signals` are (severity, rule, `path:line`, message) listed above the drawing."""
    e = html.escape
    positions = layout([n.id for n in nodes], edges)
    width = max((x for x, _ in positions.values()), default=0) + NODE_WIDTH + 20
    height = max((y for _, y in positions.values()), default=0) + NODE_HEIGHT + 20
    index = {n.id: i for i, n in enumerate(nodes)}
    parts = []
    for source, target, relation in edges:
        if source not in positions or target not in positions:
            continue
        (x1, y1), (x2, y2) = positions[source], positions[target]
        x1, y1, y2 = x1 + NODE_WIDTH, y1 + NODE_HEIGHT // 2, y2 + NODE_HEIGHT // 2
        middle = (x1 + x2) // 2
        # `applies` is most edges and needs no label; references are dashed and say what they are
        label = "" if relation == "applies" else f"<title>{e(relation)}</title>"
        dashed = "" if relation == "applies" else " class='ref'"
        parts.append(f"<path{dashed} data-from='{index[source]}' data-to='{index[target]}' "
                     f"d='M{x1} {y1}C{middle} {y1} {middle} {y2} {x2} {y2}'>{label}</path>")
    for n in nodes:
        x, y = positions[n.id]
        label = f"{n.kind} {n.namespace + '/' if n.namespace else ''}{n.name}"
        text = label if len(label) <= 38 else label[:37] + "…"
        parts.append(
            f"<a class='node {n.state}' href='{e(n.path, quote=True)}#L{n.line}' data-i='{index[n.id]}' data-kind='{e(n.kind)}' "
            f"data-ns='{e(n.namespace or '')}' data-name='{e(n.name.lower())}' transform='translate({x} {y})'>"
            f"<title>{e(n.id)}\n{e(n.path)}:{n.line}</title><use href='#box'/><text x='8' y='17'>{e(text)}</text></a>")
    kinds = sorted({n.kind for n in nodes})
    namespaces = sorted({n.namespace for n in nodes if n.namespace})
    signal_items = "".join(f"<li class='{e(s)}'><b>{e(r)}</b> <code>{e(w)}</code> {e(m)}</li>" for s, r, w, m in signals)
    return _PAGE.format(
        title=e(title), summary=e(summary),
        signals=f"<ul class='signals'>{signal_items}</ul>" if signals else "",
        kinds="".join(f"<label><input type='checkbox' value='{e(k)}' checked> {e(k)}</label>" for k in kinds),
        namespaces="".join(f"<option>{e(ns)}</option>" for ns in namespaces),
        width=width, height=height, drawing="".join(parts), total=len(nodes), node_width=NODE_WIDTH,
        node_height=NODE_HEIGHT,
        script=_SCRIPT, style=_STYLE)


_STYLE = """
body{font:13px system-ui,sans-serif;margin:0;color:#222}
header{position:sticky;top:0;background:#fafafa;border-bottom:1px solid #ddd;padding:8px 12px;z-index:1}
header h1{font-size:15px;margin:0 0 6px}
#kinds label{margin-right:10px;white-space:nowrap}
#status{color:#666;margin-left:10px}
.signals{margin:8px 12px;padding-left:18px}.signals .error b{color:#b00}.signals .warning b{color:#a60}
svg{display:block;margin:12px}
.node use{fill:#eef3fb;stroke:#7a9cc6}.node text{font-size:12px;fill:#123}
.node.added use{fill:#d4f8d4;stroke:#3a3}.node.removed use{fill:#f8d4d4;stroke:#c33}
.node.changed use{fill:#f8f0c8;stroke:#b90}
.node.hit use{stroke:#e60;stroke-width:3}
.node.dim{opacity:.25}
.hidden{display:none}
path{fill:none;stroke:#999}path.ref{stroke-dasharray:4 3;stroke:#bbb}
"""

_SCRIPT = """
(function(){
  var nodes=[].slice.call(document.querySelectorAll('.node'));
  var paths=[].slice.call(document.querySelectorAll('svg path'));
  var q=document.getElementById('q'),ns=document.getElementById('ns');
  var boxes=[].slice.call(document.querySelectorAll('#kinds input'));
  function read(){
    var h=new URLSearchParams(location.hash.slice(1));
    q.value=h.get('q')||'';ns.value=h.get('ns')||'';
    var kinds=h.get('kind');
    if(kinds!==null){var wanted=kinds.split(',');boxes.forEach(function(b){b.checked=wanted.indexOf(b.value)>=0;});}
  }
  function apply(write){
    var term=q.value.trim().toLowerCase(),space=ns.value;
    var kinds=boxes.filter(function(b){return b.checked;}).map(function(b){return b.value;});
    var shown={},count=0,hits=0;
    nodes.forEach(function(n){
      var visible=kinds.indexOf(n.dataset.kind)>=0&&(!space||n.dataset.ns===space);
      var hit=term!==''&&(n.dataset.name.indexOf(term)>=0||n.dataset.kind.toLowerCase().indexOf(term)>=0);
      n.classList.toggle('hidden',!visible);n.classList.toggle('hit',visible&&hit);
      n.classList.toggle('dim',visible&&term!==''&&!hit);
      if(visible){shown[n.dataset.i]=1;count++;if(hit)hits++;}
    });
    paths.forEach(function(p){p.classList.toggle('hidden',!(shown[p.dataset.from]&&shown[p.dataset.to]));});
    document.getElementById('status').textContent=count+' of '+nodes.length+' shown'+(term?', '+hits+' match':'');
    document.body.dataset.shown=count;document.body.dataset.matches=hits;
    if(write){
      var h=new URLSearchParams();if(term)h.set('q',term);if(space)h.set('ns',space);
      if(kinds.length!==boxes.length)h.set('kind',kinds.join(','));
      history.replaceState(null,'','#'+h.toString());
    }
  }
  read();apply(false);
  q.addEventListener('input',function(){apply(true);});ns.addEventListener('change',function(){apply(true);});
  boxes.forEach(function(b){b.addEventListener('change',function(){apply(true);});});
  window.addEventListener('hashchange',function(){read();apply(false);});
})();
"""

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><style>{style}</style></head>
<body data-total="{total}">
<header><h1>{title}</h1>
<input id="q" type="search" placeholder="search by name or kind" autofocus>
<select id="ns"><option value="">every namespace</option>{namespaces}</select>
<span id="status"></span><div id="kinds">{kinds}</div><div>{summary}</div></header>
{signals}
<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">
<defs><rect id="box" width="{node_width}" height="{node_height}" rx="4"/></defs>{drawing}</svg>
<script>{script}</script>
</body></html>
"""
