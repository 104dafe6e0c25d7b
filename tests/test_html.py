"""The pages to look at (`graph --format html`, `diff --format html`): self-contained, escaped, and working
in a real browser (headless Chromium, Debian's `chromium` package, when installed)."""

from __future__ import annotations

import html.parser
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from gitops_lint.cli import main
from gitops_lint.html_page import PageNode, layout, render_page
from tests.conftest import PROJECT, shared_path

CHROMIUM = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome") if shutil.which(name)),
                None)


class _Collect(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs) -> None:  # noqa: ANN001 - the parser's signature
        self.tags.append((tag, dict(attrs)))


def parse(page: str) -> list[tuple[str, dict]]:
    collector = _Collect()
    collector.feed(page)
    collector.close()
    return collector.tags


def test_a_page_is_self_contained_and_escapes_what_it_shows() -> None:
    nodes = [PageNode("Kustomization/flux-system/apps", "Kustomization", "flux-system", "apps", "clusters/apps.yaml", 2),
             PageNode("ConfigMap/web/<script>alert(1)</script>", "ConfigMap", "web", "<script>alert(1)</script>",
                      "apps/x'\".yaml", 1)]
    page = render_page("t", nodes, [(nodes[0].id, nodes[1].id, "applies")])
    tags = parse(page)
    assert [t for t, _ in tags].count("script") == 1  # ours, inline; the name is text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert not [a for t, a in tags if t in ("script", "img", "link", "iframe") and (a.get("src") or a.get("href"))]
    assert not re.search(r"""(src|href)=['"]?https?://""", page), "nothing is fetched when the page is viewed"
    assert sum(1 for t, a in tags if t == "a" and "node" in a.get("class", "")) == 2
    assert {a["href"] for t, a in tags if t == "a"} == {"clusters/apps.yaml#L2", "apps/x'\".yaml#L1"}


def test_layout_puts_what_applies_before_what_is_applied_and_survives_cycles() -> None:
    edges = [("a", "b", "applies"), ("b", "c", "applies"), ("c", "a", "dependsOn"), ("a", "d", "applies")]
    positions = layout(["a", "b", "c", "d", "lonely"], edges)
    assert positions["a"][0] < positions["b"][0] < positions["c"][0]
    assert positions["lonely"][0] > positions["c"][0]  # no edge: out of the way, last
    many = layout([f"n{i}" for i in range(100)], [])
    assert len({x for x, _ in many.values()}) == 3  # a tall layer folds into columns of 40


def graph_page(tmp_path: Path, folder: Path) -> tuple[Path, dict]:
    out = tmp_path / "graph.html"
    result = CliRunner().invoke(main, ["graph", "--isolated", "--format", "html", "-o", str(out), str(folder)])
    assert result.exit_code == 0, result.output
    data = json.loads(CliRunner().invoke(main, ["graph", "--isolated", "--format", "json", str(folder)]).output)
    return out, data


def test_graph_page_has_every_node(tmp_path: Path) -> None:
    page, data = graph_page(tmp_path, PROJECT / "examples")
    text = page.read_text()
    assert f'data-total="{len(data["nodes"])}"' in text
    assert text.count("class='node ") == len(data["nodes"])


def chromium(url: str, tmp_path: Path, *extra: str) -> tuple[str, list[str], float]:
    """The DOM after the page's script ran, its console messages, and the seconds it took."""
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")
    started = time.perf_counter()
    run = subprocess.run([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
                          "--v=0", f"--user-data-dir={tmp_path / 'profile'}", *extra, "--dump-dom", url],
                         capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - started
    assert run.returncode == 0, run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    return run.stdout, console, elapsed


def shown(dom: str) -> tuple[int, int]:
    body = re.search(r"<body[^>]*>", dom).group(0)
    return int(re.search(r'data-shown="(\d+)"', body).group(1)), int(re.search(r'data-matches="(\d+)"', body).group(1))


def test_search_and_filters_work_in_a_browser(tmp_path: Path) -> None:
    page, data = graph_page(tmp_path, PROJECT / "examples")
    nodes = data["nodes"]
    url = page.as_uri()
    dom, console, _ = chromium(url, tmp_path)
    assert console == [], console
    assert shown(dom) == (len(nodes), 0)
    term = "flux-system"
    expected = sum(1 for n in nodes if term in n["name"].lower() or term in n["kind"].lower())
    assert shown(chromium(f"{url}#q={term}", tmp_path)[0]) == (len(nodes), expected)
    kustomizations = sum(1 for n in nodes if n["kind"] == "Kustomization")
    assert shown(chromium(f"{url}#kind=Kustomization", tmp_path)[0])[0] == kustomizations > 0
    namespaced = sum(1 for n in nodes if n["namespace"] == "flux-system")
    assert shown(chromium(f"{url}#ns=flux-system", tmp_path)[0])[0] == namespaced > 0
    screenshot = tmp_path / "graph.png"
    chromium(url, tmp_path, f"--screenshot={screenshot}", "--window-size=1400,900")
    assert screenshot.stat().st_size > 10_000


def test_a_large_real_repository_page(tmp_path: Path) -> None:
    """sulibot+home-ops: ~1,300 nodes. Weight and the time to open are printed (no timing assertion)."""
    page, data = graph_page(tmp_path, shared_path("corpus", "sulibot+home-ops"))
    size = page.stat().st_size
    assert size < 1_000_000, f"{size} bytes"
    dom, console, elapsed = chromium(page.as_uri(), tmp_path)
    assert console == [] and shown(dom)[0] == len(data["nodes"])
    print(f"sulibot+home-ops graph page: {len(data['nodes'])} nodes, {size / 1e6:.2f} MB, opened in {elapsed:.2f} s")
