"""Two views of a repository compared: per Flux Kustomization and cluster, what its objects became.

The objects each Kustomization applies are matched by identity (group, kind, namespace, name) and are
added, removed or changed; changed objects list the fields that changed. `gitops-lint diff` prints
this, and the change rules (`checks/changes.py`) judge it. Values are never part of it: a field path
says what changed without carrying a Secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitops_lint.yaml.positions import DataPath, format_path

#: Field paths listed per changed object; more are counted.
FIELDS_SHOWN = 8


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
    #: The effective objects compared (`view.kustomize.Resource`): None where the object is not.
    before: Any = None
    after: Any = None
    #: Every changed field, as data paths.
    paths: list[DataPath] = field(default_factory=list)

    def to_json(self) -> dict:
        return _with_fields({"state": self.state, "object": self.object, "path": self.path, "line": self.line}, self)


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
    #: The Kustomization at each end (`view.flux.Applied`): None where it is not.
    before: Any = None
    after: Any = None

    def to_json(self) -> dict:
        return {"cluster": self.cluster, "kustomization": self.kustomization, "state": self.state,
                "prune": self.prune, "objects": [o.to_json() for o in self.objects]}


@dataclass(slots=True)
class AgentChange:
    """A GitLab agent's config (`.gitlab/agents/<name>/config.yaml`) added, removed or changed."""

    path: str
    state: str
    #: Changed fields (a changed config), as in `ObjectChange`.
    fields: list[str] = field(default_factory=list)
    more: int = 0

    def to_json(self) -> dict:
        return _with_fields({"path": self.path, "state": self.state}, self)


def _with_fields(out: dict, change: "ObjectChange | AgentChange") -> dict:
    """`out` with the changed fields of a changed object or agent config (and how many more were left out)."""
    if change.state == "changed":
        out["fields"] = change.fields
        out["more_fields"] = change.more
    return out


@dataclass(slots=True)
class Diff:
    base: str
    head: str
    kustomizations: list[KustomizationChange]
    agents: list[AgentChange] = field(default_factory=list)

    def to_json(self) -> dict:
        changed = [k for k in self.kustomizations if k.state != "unchanged"]
        return {"base": self.base, "head": self.head, "kustomizations": [k.to_json() for k in changed],
                "agents": [a.to_json() for a in self.agents],
                "summary": {state: sum(1 for k in self.kustomizations for o in k.objects if o.state == state)
                            for state in ("added", "removed", "changed")}}


def diff_agents(base_model: Any, head_model: Any) -> list[AgentChange]:
    """Each agent config of either revision that is not the same in both, by its file."""
    from gitops_lint.model.agent import AgentConfig

    before = {a.path: a.doc.data for a in base_model.of_type(AgentConfig)}
    after = {a.path: a.doc.data for a in head_model.of_type(AgentConfig)}
    out = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        if old is None or new is None:
            out.append(AgentChange(path, "added" if old is None else "removed"))
            continue
        paths = changed_fields(old, new)
        out.append(AgentChange(path, "changed", [format_path(p) or "(the whole file)" for p in paths[:FIELDS_SHOWN]],
                               max(len(paths) - FIELDS_SHOWN, 0)))
    return out


def diff_views(base_view: Any, head_view: Any, base: str, head: str) -> Diff:
    """Per Flux Kustomization of either view, matched by cluster and name, what its objects became."""
    before, after = _by_kustomization(base_view), _by_kustomization(head_view)
    out = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old is None or new is None:
            applied = new if new is not None else old
            state = "added" if old is None else "removed"
            objects = [_object_change(state, r, None) if state == "added" else _object_change(state, None, r)
                       for r in _objects(applied).values()]
            out.append(KustomizationChange(key[0], key[1], state, _prune(applied), objects, old, new))
            continue
        old_objects, new_objects = _objects(old), _objects(new)
        objects = []
        for identity in sorted(set(old_objects) | set(new_objects), key=_sort_key):
            a, b = old_objects.get(identity), new_objects.get(identity)
            if a is None:
                objects.append(_object_change("added", b, None))
            elif b is None:
                objects.append(_object_change("removed", None, a))
            elif a.data != b.data:
                objects.append(_object_change("changed", b, a))
        itself = old.kustomization.data != new.kustomization.data
        state = "changed" if objects or itself else "unchanged"
        if itself:
            objects.insert(0, _object_change("changed", new.kustomization, old.kustomization))
        out.append(KustomizationChange(key[0], key[1], state, _prune(new), objects, old, new))
    return Diff(base, head, out)


def _by_kustomization(view: Any) -> dict[tuple[str, str], Any]:
    clusters = view.cluster_names
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


def _object_change(state: str, after: Any, before: Any) -> ObjectChange:
    """A change of one object: where it is now (where it was, when removed), and what changed in it."""
    shown = after if after is not None else before
    change = ObjectChange(state, _label(shown), shown.path, shown.doc.span.line, before=before, after=after)
    if before is not None and after is not None:
        change.paths = changed_fields(before.data, after.data)
        change.fields = [format_path(p) or "(the whole object)" for p in change.paths[:FIELDS_SHOWN]]
        change.more = max(len(change.paths) - FIELDS_SHOWN, 0)
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


@dataclass(slots=True)
class Review:
    """What the change rules judge: the comparison, and the two projects it was made from."""

    diff: Diff
    #: `project.Project` of the base revision and of the head.
    base: Any
    head: Any
