"""Fields that move when a Flux object moves to its release's storage version, as text edits.

The API server stores every object of a Flux kind in the storage version, converting with the `None`
strategy: only `apiVersion` changes, and a field the storage version lacks is pruned. So a deprecated
version's field is already gone from the cluster. Moves come in two kinds:

* dropped: fields that did nothing in the served release (`validation`, `gitImplementation`,
  `accessFrom`). Deleting them changes nothing the cluster sees: safe.
* moved: fields that meant something (`patchesStrategicMerge`, `patchesJson6902`, `valuesFile`),
  rewritten as the storage version says it (`patches`, `valuesFiles`). The cluster starts applying
  what the author wrote and the API server has been dropping: unsafe (`--unsafe-fixes`).

Every fix is checked before it is offered: the edited file must parse to exactly the object the move
describes, and that object must be valid under the storage version's schema; otherwise there is no fix
and a person moves the fields.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable

from gitops_lint.checks.loading import scalar_fix
from gitops_lint.yaml.edits import TextEdits, region
from gitops_lint.yaml.positions import value_at

KUSTOMIZE = "kustomize.toolkit.fluxcd.io"
HELM = "helm.toolkit.fluxcd.io"
SOURCE = "source.toolkit.fluxcd.io"

#: (group, kind) -> the mappings (paths, `*` for every list item) whose keys no longer exist, and what
#: becomes of them: "drop" (a no-op field), "patches" (old patch lists into `patches`), "valuesFiles".
_MOVES: dict[tuple[str, str], list[tuple[tuple, str, str]]] = {
    (KUSTOMIZE, "Kustomization"): [
        (("spec",), "validation", "drop"),
        (("spec",), "patchesStrategicMerge", "patches"),
        (("spec",), "patchesJson6902", "patches"),
    ],
    (HELM, "HelmRelease"): [
        (("spec", "chart", "spec"), "valuesFile", "valuesFiles"),
        (("spec", "postRenderers", "*", "kustomize"), "patchesStrategicMerge", "patches"),
        (("spec", "postRenderers", "*", "kustomize"), "patchesJson6902", "patches"),
    ],
    (SOURCE, "GitRepository"): [(("spec",), "gitImplementation", "drop"), (("spec",), "accessFrom", "drop")],
    (SOURCE, "Bucket"): [(("spec",), "accessFrom", "drop")],
    (SOURCE, "HelmChart"): [(("spec",), "accessFrom", "drop"), (("spec",), "valuesFile", "valuesFiles")],
}


@dataclass(slots=True)
class Moved:
    """The object as it reads after the moves, the text edits that write it, and whether all are safe."""

    data: Any
    edits: list[tuple[int, int, str]]
    safe: bool


def move_fields(doc, api_version: str, json6902_in_place: bool = False) -> Moved | None:
    """The moves `doc` needs at `api_version` (its apiVersion included), or None when one cannot be
    written as an edit of its text (flow style, anchors, tabs, a key not alone on its line).

    kustomize runs strategic-merge patches, then `patches`, then its namespace, prefix/suffix, label and
    annotation transformers, then JSON 6902 patches. Moved into `patches`, strategic-merge patches go
    first and keep their place; JSON 6902 patches move ahead of those transformers, which is the same
    only where none of them applies: `json6902_in_place` says so (the caller knows the build)."""
    data = doc.data
    group = str(data.get("apiVersion", "")).split("/")[0]
    writer = TextEdits.of(doc)
    if writer is None:
        return None
    new = copy.deepcopy(data)
    new["apiVersion"] = api_version
    version = scalar_fix(doc, doc.locate(("apiVersion",)), api_version)  # in the quotes it has
    place = writer.offset(version.span) if version is not None else None
    if place is None:
        return None
    writer.edits.append((*place, version.text))
    safe = True
    for parent, key, action in _MOVES.get((group, str(data.get("kind"))), ()):
        for path in _expand(data, parent):
            mapping = value_at(new, path)
            if not isinstance(mapping, dict) or key not in mapping:
                continue
            if key == "patchesJson6902" and not json6902_in_place and value_at(new, path + (key,)):
                return None
            outcome = _ACTIONS[action](writer, new, path, key)
            if outcome is None:
                return None
            safe = safe and outcome
    return Moved(new, writer.edits, safe)


def verify(doc, moved: Moved) -> str | None:
    """The new file text when applying `moved` to it parses to `moved.data` (and its other documents
    stay as they were); None otherwise."""
    from gitops_lint.yaml.loader import load_text

    text = doc.file.text
    edits = sorted(moved.edits, key=lambda edit: edit[:2])  # stable: inserts at one offset keep their order
    if any(a[1] > b[0] for a, b in zip(edits, edits[1:])):
        return None  # two moves edit the same text
    for start, end, new in reversed(edits):
        text = text[:start] + new + text[end:]
    parsed = load_text(text, doc.file.rel)
    if parsed.problems or len(parsed.documents) != len(doc.file.documents):
        return None
    for index, (before, after) in enumerate(zip(doc.file.documents, parsed.documents)):
        if after.data != (moved.data if index == doc.index else before.data):
            return None
    return text


def as_fix(doc, moved: Moved):
    """One `Fix` covering every edit of `moved` (the text between them kept as it is), if it verifies."""
    from gitops_lint.diagnostics import Fix

    if verify(doc, moved) is None:
        return None
    span, old, new = region(doc.file.text, moved.edits)
    return Fix(span, old, new, safe=moved.safe)


# --- the moves ----------------------------------------------------------------------------------------


# Each move returns None when it cannot be written, else whether it is safe (the cluster sees no change).


def _drop(writer: TextEdits, new: dict, path: tuple, key: str) -> bool | None:
    mapping = value_at(new, path)
    if len(mapping) < 2 or not writer.delete_entry(path, key):
        return None  # the last key: the mapping would be left empty (null), which means something else
    del mapping[key]
    return True


def _into_patches(writer: TextEdits, new: dict, path: tuple, key: str) -> bool | None:
    """`patchesStrategicMerge` items become `{patch: <the object as written>}`; `patchesJson6902` items keep
    their target and their operations become the `patch` text. They go after any `patches`, strategic
    merge patches first, in the order Flux's generator wrote them."""
    mapping = value_at(new, path)
    if mapping[key] in ([], None):
        return _drop(writer, new, path, key)  # nothing to move
    old_items = mapping.pop(key)
    if not isinstance(old_items, list):
        return None
    items: list[tuple[list[str], str]] = []  # (leading comments, the item cut at its margin)
    for index, item in enumerate(old_items):
        where = path + (key, index)
        lead = writer.item_lead(path + (key,), index)
        if lead is None or not isinstance(item, dict):
            return None
        if key == "patchesStrategicMerge":
            literal = writer.literal(where)
            if literal is None or not _reads_as(literal[1], item, yaml12=True):
                return None
            old_items[index] = {"patch": literal[1]}
            items.append((lead, "patch: " + literal[0]))
        else:
            if set(item) - {"target", "patch"} or not isinstance(item.get("patch"), list):
                return None
            literal = writer.literal(where + ("patch",))
            if literal is None or not _reads_as(literal[1], item["patch"]):
                return None
            body = writer.item_with(where, "patch", literal[0])
            if body is None:
                return None
            old_items[index] = {**item, "patch": literal[1]}
            items.append((lead, body))
    existing = mapping.get("patches")
    first = key == "patchesStrategicMerge"  # strategic merge patches ran before `patches`; JSON 6902 after
    if existing is None:
        # The first old key becomes `patches` in place; a second one then joins it.
        if not writer.rename_list(path, key, "patches", items):
            return None
        mapping["patches"] = old_items
        return False
    comment = writer.key_comment(path, key)  # the old key's line goes: its comment goes with the items
    if comment is not None:
        items[0] = ([comment, *items[0][0]], items[0][1])
    if not isinstance(existing, list) or not writer.add_items(path + ("patches",), items, first=first):
        return None
    if not writer.delete_entry(path, key):
        return None
    if first:
        existing[0:0] = old_items
    else:
        existing.extend(old_items)
    return False


def _into_values_files(writer: TextEdits, new: dict, path: tuple, key: str) -> bool | None:
    """`valuesFile: x` is merged before the `valuesFiles` items: it becomes their first."""
    mapping = value_at(new, path)
    if mapping[key] in ("", None):
        return _drop(writer, new, path, key)  # an empty valuesFile was ignored: nothing to carry over
    value = mapping.pop(key)
    if not isinstance(value, str):
        return None
    existing = mapping.get("valuesFiles")
    old = writer.value_text(path + (key,))
    if old is None or (old[:1] not in ("'", '"') and any(c in old for c in ",[]{}#")):
        return None
    if existing is None:
        if not writer.rename_and_replace_scalar(path, key, "valuesFiles", f"[{old}]"):
            return None
        mapping["valuesFiles"] = [value]
        return False
    if not isinstance(existing, list) or not writer.prepend_item(path + ("valuesFiles",), old):
        return None
    if not writer.delete_entry(path, key):
        return None
    existing.insert(0, value)
    return False


_ACTIONS: dict[str, Callable[[TextEdits, dict, tuple, str], bool | None]] = {
    "drop": _drop, "patches": _into_patches, "valuesFiles": _into_values_files}


def _reads_as(text: str, value: Any, yaml12: bool = False) -> bool:
    """Whether a patch's text, parsed on its own as Flux parses it, is the value it was in the file (an
    alias to an anchor elsewhere, say, is not). kustomize reads strategic-merge patch text as YAML 1.2
    (`yes` is a string there, a boolean where the object was written): `yaml12` checks that reading too."""
    from gitops_lint.yaml.loader import load_text

    parsed = load_text(text)
    if parsed.problems or len(parsed.documents) != 1 or parsed.documents[0].data != value:
        return False
    if yaml12:
        from ruamel.yaml import YAML, YAMLError

        try:
            return YAML(typ="safe", pure=True).load(text) == value
        except YAMLError:
            return False
    return True


def _expand(data: Any, pattern: tuple) -> list[tuple]:
    """Concrete paths matching `pattern` (`*` for each index of a list)."""
    paths: list[tuple] = [()]
    for part in pattern:
        found = []
        for path in paths:
            value = value_at(data, path)
            if part == "*" and isinstance(value, list):
                found.extend(path + (i,) for i in range(len(value)))
            elif isinstance(value, dict) and part in value:
                found.append(path + (part,))
        paths = found
    return paths
