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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops_lint.discover import Candidate, Discovery, exclude_matcher, is_candidate, printable
from gitops_lint.yaml.positions import DataPath, format_path

#: Field paths listed per changed object; more are counted.
FIELDS_SHOWN = 8


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
    charts = {rel.rpartition("/")[0] for rel in tree.blobs if rel.rpartition("/")[2] == "Chart.yaml"}
    out = []
    for rel in sorted(tree.blobs):
        if not is_candidate(rel) or (excluded is not None and excluded(rel)):
            continue
        if named and not any(n in ("", ".") or rel == n or rel.startswith(n.rstrip("/") + "/") for n in named):
            continue
        parts = rel.split("/")
        if any(part == "templates" and "/".join(parts[:i]) in charts for i, part in enumerate(parts)):
            continue  # a Helm chart's template: not YAML until Helm renders it
        out.append(rel)
    return out


def load_base(tree: GitTree, rels: list[str]) -> list[Any]:
    from gitops_lint.yaml.loader import load_file

    return [load_file(tree.root / rel, printable(rel), raw=tree.read(rel) or b"") for rel in rels]


def base_discovery(tree: GitTree, rels: list[str]) -> Discovery:
    return Discovery(root=tree.root, files=[Candidate(tree.root, rel, printable(rel)) for rel in rels], in_git=True)


# --------------------------------------------------------------------------- comparing two views


@dataclass(slots=True)
class ObjectChange:
    #: "added", "removed" or "changed".
    state: str
    #: `group/Kind namespace/name` (no group for the core API).
    object: str
    #: Where it is: the head file for added and changed objects, the base file for removed ones.
    path: str
    line: int
    #: Changed fields (changed objects), as data paths; at most FIELDS_SHOWN, `more` counts the rest.
    fields: list[str] = field(default_factory=list)
    more: int = 0

    def to_json(self) -> dict:
        out = {"state": self.state, "object": self.object, "path": self.path, "line": self.line}
        if self.state == "changed":
            out["fields"] = self.fields
            out["more_fields"] = self.more
        return out


@dataclass(slots=True)
class KustomizationChange:
    #: The folder the cluster's entry point applies (`clusters/prod`), telling clusters apart.
    cluster: str
    #: `Kustomization/namespace/name`.
    kustomization: str
    #: "added", "removed", "changed" or "unchanged" (the Kustomization itself, or what it applies).
    state: str
    #: `spec.prune` at the head (at the base for a removed Kustomization): pruning deletes what is removed.
    prune: bool
    objects: list[ObjectChange] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"cluster": self.cluster, "kustomization": self.kustomization, "state": self.state,
                "prune": self.prune, "objects": [o.to_json() for o in self.objects]}


@dataclass(slots=True)
class Diff:
    base: str
    head: str
    kustomizations: list[KustomizationChange]

    def to_json(self) -> dict:
        changed = [k for k in self.kustomizations if k.state != "unchanged"]
        return {"base": self.base, "head": self.head, "kustomizations": [k.to_json() for k in changed],
                "summary": {state: sum(1 for k in self.kustomizations for o in k.objects if o.state == state)
                            for state in ("added", "removed", "changed")}}


def diff_views(base_view: Any, head_view: Any, base: str, head: str) -> Diff:
    """Per Flux Kustomization of either view, matched by cluster and name, what its objects became."""
    before, after = _by_kustomization(base_view), _by_kustomization(head_view)
    out = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old is None or new is None:
            applied = new if new is not None else old
            state = "added" if old is None else "removed"
            objects = [_object_change(state, r, None) for r in _objects(applied).values()]
            out.append(KustomizationChange(key[0], key[1], state, _prune(applied), objects))
            continue
        old_objects, new_objects = _objects(old), _objects(new)
        objects = []
        for identity in sorted(set(old_objects) | set(new_objects), key=_sort_key):
            a, b = old_objects.get(identity), new_objects.get(identity)
            if a is None:
                objects.append(_object_change("added", b, None))
            elif b is None:
                objects.append(_object_change("removed", a, None))
            elif a.data != b.data:
                objects.append(_object_change("changed", b, a))
        itself = old.kustomization.data != new.kustomization.data
        state = "changed" if objects or itself else "unchanged"
        if itself:
            objects.insert(0, _object_change("changed", new.kustomization, old.kustomization))
        out.append(KustomizationChange(key[0], key[1], state, _prune(new), objects))
    return Diff(base, head, out)


def _by_kustomization(view: Any) -> dict[tuple[str, str], Any]:
    clusters: dict[int, str] = {}
    for applied in view.applied:
        clusters.setdefault(applied.cluster, applied.folder or applied.kustomization.path.rpartition("/")[0] or ".")
    out: dict[tuple[str, str], Any] = {}
    for applied in view.applied:
        out.setdefault((clusters[applied.cluster], applied.key), applied)
    return out


def _objects(applied: Any) -> dict[tuple, Any]:
    out: dict[tuple, Any] = {}
    for resource in applied.resources:
        out.setdefault(resource.identity, resource)
    return out


def _sort_key(identity: tuple) -> tuple:
    return tuple("" if part is None else part for part in identity)


def _prune(applied: Any) -> bool:
    spec = applied.kustomization.data.get("spec")
    return isinstance(spec, dict) and spec.get("prune") is True


def _label(resource: Any) -> str:
    kind = f"{resource.group}/{resource.kind}" if resource.group else resource.kind
    name = "/".join(p for p in (resource.namespace, resource.name) if p)
    return f"{kind} {name}"


def _object_change(state: str, resource: Any, before: Any) -> ObjectChange:
    change = ObjectChange(state, _label(resource), resource.path, resource.doc.span.line)
    if before is not None:
        paths = changed_fields(before.data, resource.data)
        change.fields = [format_path(p) or "(the whole object)" for p in paths[:FIELDS_SHOWN]]
        change.more = max(len(paths) - FIELDS_SHOWN, 0)
    return change


def changed_fields(old: Any, new: Any, path: DataPath = ()) -> list[DataPath]:
    """The deepest paths where `new` differs from `old`: changed values, added and removed keys or items."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[DataPath] = []
        for key in [*old, *(k for k in new if k not in old)]:
            if key not in old or key not in new:
                out.append(path + (key,))
            elif old[key] != new[key]:
                out.extend(changed_fields(old[key], new[key], path + (key,)))
        return out
    if isinstance(old, list) and isinstance(new, list):
        out = []
        for index in range(max(len(old), len(new))):
            if index >= len(old) or index >= len(new):
                out.append(path + (index,))
            elif old[index] != new[index]:
                out.extend(changed_fields(old[index], new[index], path + (index,)))
        return out
    return [] if old == new and type(old) is type(new) else [path]


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
    if not lines:
        return f"No change to what Flux applies between {diff.base[:12]} and {diff.head}.\n"
    summary = diff.to_json()["summary"]
    lines.append(f"Objects: {summary['added']} added, {summary['removed']} removed, {summary['changed']} changed "
                 f"(base {diff.base[:12]}, head {diff.head}).")
    return "\n".join(lines) + "\n"
