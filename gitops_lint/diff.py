"""`gitops-lint diff`: what a change does to the cluster, worked out offline.

Both revisions go through the pipeline `check` uses, up to Flux's view: the head from the working tree,
the base from git's objects (no checkout, no network). For each Flux Kustomization of either view
(per cluster), the objects it applies are matched by identity (group, kind, namespace, name) and
reported added, removed or changed, with the fields that changed. Values are never shown: a field
path says what changed without printing a Secret.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from gitops_lint.discover import (Candidate, ChartDirs, Discovery, exclude_matcher, is_candidate, is_ignore_file,
                                  printable, template_reason)
from gitops_lint.view.changes import Diff


class DiffError(Exception):
    """The revisions cannot be compared (no git, an unknown revision): a usage error (exit 2)."""


# --------------------------------------------------------------------------- the base revision


class GitTree:
    """The files of one revision, read from git's object store by one `git cat-file --batch` process."""

    def __init__(self, root: Path, revision: str):
        self.root, self.revision = root, revision
        listing = _git(root, "ls-tree", "-r", "-z", "--full-tree", revision)
        self.blobs: dict[str, str] = {}
        for entry in listing.split(b"\0"):
            if not entry:
                continue
            meta, _, name = entry.partition(b"\t")
            mode, kind, oid = meta.split(b" ")
            if kind == b"blob" and mode in (b"100644", b"100755"):  # not symlinks, not submodules
                self.blobs[os.fsdecode(name)] = oid.decode()
        self._cat: subprocess.Popen | None = None

    def read(self, rel: str) -> bytes | None:
        """A file's bytes at this revision; None when the revision has no such file."""
        oid = self.blobs.get(rel)
        if oid is None:
            return None
        if self._cat is None:
            self._cat = subprocess.Popen(["git", "-C", str(self.root), "cat-file", "--batch"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self._cat.stdin is not None and self._cat.stdout is not None
        self._cat.stdin.write(oid.encode() + b"\n")
        self._cat.stdin.flush()
        header = self._cat.stdout.readline().split()
        if len(header) != 3:
            return None
        data = self._cat.stdout.read(int(header[2]))
        self._cat.stdout.read(1)  # the newline after each object
        return data

    def close(self) -> None:
        if self._cat is not None:
            self._cat.communicate()
            self._cat = None


def _git(root: Path, *args: str) -> bytes:
    try:
        out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise DiffError(f"git {args[0]} failed: {exc}") from None
    if out.returncode != 0:
        raise DiffError(f"git {args[0]} failed: {out.stderr.decode('utf-8', 'replace').strip()}")
    return out.stdout


def base_revision(root: Path, given: str | None) -> str:
    """`given`, else CI_MERGE_REQUEST_DIFF_BASE_SHA, else where HEAD left the default branch."""
    revision = given or os.environ.get("CI_MERGE_REQUEST_DIFF_BASE_SHA")
    if not revision:
        for branch in ("origin/HEAD", "origin/main", "origin/master", "main", "master"):
            try:
                revision = _git(root, "merge-base", "HEAD", branch).decode().strip()
                break
            except DiffError:
                continue
        else:
            raise DiffError("no base revision: give --base REV (or set CI_MERGE_REQUEST_DIFF_BASE_SHA)")
    try:
        return _git(root, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}").decode().strip()
    except DiffError:
        raise DiffError(f"--base {revision!r} is no commit of this repository") from None


def base_candidates(tree: GitTree, named: list[str], excludes: list[str], exclude_base: Path | None) -> list[str]:
    """The files `check` would read at the base revision, under the folders named (relative to the root)."""
    excluded = exclude_matcher(excludes, tree.root, exclude_base)
    charts = ChartDirs(tree.root, lambda folder: _in_tree(tree, folder / "Chart.yaml"))
    out = []
    for rel in sorted(tree.blobs):
        if not is_candidate(rel) or (excluded is not None and excluded(rel)):
            continue
        if named and not any(n in ("", ".") or rel == n or rel.startswith(n.rstrip("/") + "/") for n in named):
            continue
        if template_reason(tree.root, rel, charts) is not None:
            continue  # not YAML until Helm (or its template engine) renders it: no objects to compare
        out.append(rel)
    return out


def _in_tree(tree: GitTree, path: Path) -> bool:
    try:
        return path.relative_to(tree.root).as_posix() in tree.blobs
    except ValueError:
        return False  # above the root: not in the revision's tree


def load_base(tree: GitTree, rels: list[str]) -> list[Any]:
    from gitops_lint.yaml.loader import load_file

    return [load_file(tree.root / rel, printable(rel), raw=tree.read(rel) or b"") for rel in rels]


def base_discovery(tree: GitTree, rels: list[str]) -> Discovery:
    """The base revision's files as discovery would list them, with its `.sourceignore` files (its symlinks
    are no blobs: no artifact holds them, and neither does this)."""
    ignore_files = sorted(rel for rel in tree.blobs if is_ignore_file(rel))
    return Discovery(root=tree.root, files=[Candidate(tree.root, rel, printable(rel)) for rel in rels], in_git=True,
                     ignore_files=ignore_files)


# --------------------------------------------------------------------------- output


def render_text(diff: Diff) -> str:
    lines = []
    marks = {"added": "+", "removed": "-", "changed": "~"}
    for change in diff.kustomizations:
        if change.state == "unchanged":
            continue
        counts = {s: sum(1 for o in change.objects if o.state == s) for s in ("added", "removed", "changed")}
        what = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no object changes"
        head = f"{change.kustomization} ({change.cluster}): "
        if change.state == "removed":
            pruned = " (prune: true: Flux deletes them)" if change.prune else ""
            head += f"removed, with the {len(change.objects)} object(s) it applied{pruned}"
        elif change.state == "added":
            head += f"added, applying {len(change.objects)} object(s)"
        else:
            head += what
        lines.append(head)
        for o in change.objects:
            fields = ""
            if o.fields:
                fields = ": " + ", ".join(o.fields) + (f" (+{o.more} more)" if o.more else "")
            gone = " (pruned)" if o.state == "removed" and change.prune and change.state != "removed" else ""
            lines.append(f"  {marks[o.state]} {o.object}{gone}  {o.path}:{o.line}{fields}")
    for agent in diff.agents:
        fields = ": " + ", ".join(agent.fields) + (f" (+{agent.more} more)" if agent.more else "") if agent.fields else ""
        lines.append(f"Agent config {agent.path}: {agent.state}{fields}")
    if not lines:
        return f"No change to what Flux applies between {diff.base[:12]} and {diff.head}.\n"
    summary = diff.to_json()["summary"]
    lines.append(f"Objects: {summary['added']} added, {summary['removed']} removed, {summary['changed']} changed "
                 f"(base {diff.base[:12]}, head {diff.head}).")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the whole comparison


def review(options: Any, base_revision_given: str | None, head_label: str = "working tree") -> Any:
    """Flux's view of the working tree and of the base revision, compared (`view.changes.Review`).
    `options` are `engine.LintOptions` (paths, configuration, Flux release)."""
    from gitops_lint.engine import build_context, load_context
    from gitops_lint.view.changes import Review, diff_agents, diff_views

    import dataclasses

    from gitops_lint.discover import DiscoveryError, find_root

    cwd = options.cwd or Path.cwd()
    for p in options.paths:
        if not (cwd / p).exists():
            raise DiscoveryError(f"path does not exist: {p}")
    root, _ = find_root([cwd / p for p in options.paths], cwd)
    # Flux's view needs the whole repository (a Kustomization applies folders anywhere): both revisions are
    # read whole, and the paths named only narrow what is reported.
    whole = dataclasses.replace(options, paths=[str(root)], cwd=root)
    head = load_context(whole)
    base = base_revision(root, base_revision_given)
    tree = GitTree(root, base)
    try:
        config = options.config
        rels = base_candidates(tree, [], config.exclude, config.path.parent if config.path else None)
        before = build_context(load_base(tree, rels), base_discovery(tree, rels), whole)
        before.reader = tree.read
        compared = diff_views(before.view, head.view, base, head_label)
        compared.agents = diff_agents(before.model, head.model)
    finally:
        tree.close()
    named = [os.path.relpath(os.path.abspath(cwd / p), root) for p in options.paths]
    if all(n in ("", ".") for n in named):
        return Review(compared, before, head)
    return Review(_within(compared, named), before, head)


def _within(compared: Diff, named: list[str]) -> Diff:
    """The changes of objects (and agent configs) in the files or folders named."""
    def inside(rel: str) -> bool:
        return any(rel == n or rel.startswith(n.rstrip("/") + "/") for n in named)

    for change in compared.kustomizations:
        change.objects = [o for o in change.objects if inside(o.path)]
        if not change.objects and change.state != "unchanged":
            change.state = "unchanged"
    compared.agents = [a for a in compared.agents if inside(a.path)]
    return compared


def danger_signals(change: Any, options: Any) -> tuple[list[Any], list[str], Any]:
    """The change rules' findings on `change` (a Review), as diagnostics; the checks that crashed; the
    catalogue (what reports say of each rule)."""
    from gitops_lint.catalogue import load_catalogue
    from gitops_lint.engine import active_rules, rule_params, run_checks

    catalogue = load_catalogue(options.config.custom_rules)
    rules = [r for r in active_rules(catalogue, options) if r.scope == "change"]
    params = {rule.id: rule_params(rule, options.config) for rule in rules}
    # Suppression comments count where the finding is: the head's files, and the base's where the head has none.
    head = {f.rel for f in change.head.files}
    files = [*change.head.files, *(f for f in change.base.files if f.rel not in head)]
    diagnostics, internal = run_checks(rules, params, change, files, options.config, catalogue)
    return _masked(change, diagnostics), internal, catalogue


def _masked(change: Any, diagnostics: list[Any]) -> list[Any]:
    """The values Secrets hand to other objects at either end (`FluxView.secret_texts`) masked where the
    review names objects and in the signals' messages: every format renders them as `***`. Done once the
    change rules have judged the real names."""
    import dataclasses

    from gitops_lint.secrets import SecretMasker

    masked = SecretMasker(change.base.view.secret_texts | change.head.view.secret_texts)
    if not masked:
        return diagnostics
    for kustomization in change.diff.kustomizations:
        kustomization.kustomization = masked(kustomization.kustomization)
        for obj in kustomization.objects:
            obj.object = masked(obj.object)
    return [dataclasses.replace(d, message=masked(d.message), object=masked(d.object) if d.object else d.object)
            for d in diagnostics]


_MARKS = {"added": "+", "removed": "-", "changed": "~"}


def _cell(text: str) -> str:
    """Text for a markdown table cell: pipes escaped, no line breaks."""
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(diff: Diff, signals: list[Any]) -> str:
    """A merge request note: the danger signals first, a table per Kustomization, the changes in detail
    (folded), and a mermaid drawing of what changed (within GitLab's limits)."""
    changed = [k for k in diff.kustomizations if k.state != "unchanged"]
    out = ["### gitops-lint: what this change does to the cluster", ""]
    if not changed and not diff.agents:
        return "\n".join([*out, f"No change to what Flux applies (base `{diff.base[:12]}`).", ""])
    if signals:
        out += ["**Danger signals**", "", "| Rule | Where | What |", "|---|---|---|"]
        for d in signals:
            out.append(f"| {d.severity.label} {d.rule} | `{_cell(d.path)}:{d.span.line}` | {_cell(d.message)} |")
        out.append("")
    if changed:
        out += ["| Cluster | Flux Kustomization | State | Added | Removed | Changed | Prune |",
                "|---|---|---|---|---|---|---|"]
    for k in changed:
        counts = [sum(1 for o in k.objects if o.state == s) for s in ("added", "removed", "changed")]
        out.append(f"| `{_cell(k.cluster)}` | `{_cell(k.kustomization)}` | {k.state} | "
                   + " | ".join(str(n) for n in counts) + f" | {'yes' if k.prune else 'no'} |")
    out.append("")
    for k in changed:
        out += [f"<details><summary><code>{k.kustomization}</code> ({k.cluster}): {len(k.objects)} object(s)</summary>",
                ""]
        for o in k.objects:
            fields = f": {', '.join(f'`{f}`' for f in o.fields)}" + (f" (+{o.more} more)" if o.more else "") \
                if o.fields else ""
            out.append(f"- `{_MARKS[o.state]}` `{o.object}` (`{o.path}:{o.line}`){fields}")
        out += ["", "</details>", ""]
    if diff.agents:
        out += ["**GitLab agent configs**", ""]
        for agent in diff.agents:
            fields = f": {', '.join(f'`{f}`' for f in agent.fields)}" if agent.fields else ""
            out.append(f"- `{agent.path}` {agent.state}{fields}")
        out.append("")
    if changed:
        out += _mermaid(changed)
    out.append(f"Base `{diff.base[:12]}`, head {diff.head}.")
    return "\n".join(out) + "\n"


def _mermaid(changed: list[Any]) -> list[str]:
    """What changed, drawn: as many objects as fit in one block GitLab still renders."""
    from gitops_lint.graph_render import MERMAID_BLOCK_LIMIT

    style = {"added": "fill:#d4f8d4", "removed": "fill:#f8d4d4", "changed": "fill:#f8f0c8"}
    lines = ["graph LR"]
    drawn = total = 0
    full = False
    for ki, k in enumerate(changed):
        block = [f'  k{ki}["{_label(k.kustomization)}"]']
        for oi, o in enumerate(k.objects):
            total += 1
            node = f"k{ki}o{oi}"
            kind, _, name = o.object.partition(" ")  # `group/Kind namespace/name`: the group says little here
            line = [f'  k{ki} --> {node}["{_MARKS[o.state]} {_label(kind.rpartition("/")[2] + " " + name)}"]',
                    f"  style {node} {style[o.state]}"]
            if full or sum(len(x) + 1 for x in [*lines, *block, *line]) + 16 > MERMAID_BLOCK_LIMIT:
                full = True
                continue
            block += line
            drawn += 1
        if len(block) > 1:
            lines += block
    out = ["```mermaid", *lines, "```", ""]
    if total > drawn:
        out += [f"(The drawing shows {drawn} of the {total} changed objects: GitLab draws no larger diagram.)", ""]
    return out


def _label(text: str) -> str:
    """Text safe inside a mermaid node label."""
    return text.replace('"', "'").replace("[", "(").replace("]", ")")


def render_html(diff: Diff, signals: list[Any]) -> str:
    """The diff as a page to look at: each changed Flux Kustomization with the objects it adds (green),
    removes (red) and changes (yellow), and the danger signals above."""
    from gitops_lint.html_page import PageNode, render_page

    nodes: dict[str, PageNode] = {}
    edges = []
    for change in diff.kustomizations:
        if change.state == "unchanged":
            continue
        _, namespace, name = (change.kustomization.split("/") + ["", ""])[:3]
        resource = change.after.kustomization if change.after is not None else change.before.kustomization
        key = f"{change.cluster}:{change.kustomization}"
        nodes[key] = PageNode(key, "Kustomization", namespace or None, name, resource.path,
                              resource.doc.span.line, "" if change.state == "changed" else change.state)
        for o in change.objects:
            shown = o.after if o.after is not None else o.before
            object_key = f"{change.cluster}:{o.object}"
            # namespace and name as the review's label has them (masked where a Secret filled them in)
            identity = o.object.partition(" ")[2]
            namespace, _, name = identity.rpartition("/") if shown.namespace else ("", "", identity)
            nodes.setdefault(object_key, PageNode(object_key, shown.kind, namespace or None, name,
                                                  o.path, o.line, o.state))
            edges.append((key, object_key, "applies"))
    listed = [(d.severity.label, d.rule, f"{d.path}:{d.span.line}", d.message) for d in signals]
    counts = diff.to_json()["summary"]
    summary = (f"{counts['added']} added, {counts['removed']} removed, {counts['changed']} changed "
               f"(base {diff.base[:12]}, head {diff.head})")
    return render_page("gitops-lint diff", list(nodes.values()), edges, listed, summary)
