"""kustomize's own `kustomization.yaml` (Kustomization v1beta1 and Component v1alpha1).

Types are lenient on purpose: kustomize accepts many shapes (a patch as a file
path or inline text, generators as files or inline objects), and judging them
is the rules' business. File lists are `list[str]`; the rest is kept as data.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar


from gitops_lint.model.base import Field, Located, Model
from gitops_lint.yaml.loader import KUSTOMIZE_FILE_NAMES

API_GROUP = "kustomize.config.k8s.io"
KINDS = ("Kustomization", "Component")
#: File names kustomize looks for in a directory, in its order of preference.
FILE_NAMES = KUSTOMIZE_FILE_NAMES


class KustomizePatch(Model):
    """A `patches[]` entry: a patch file or inline patch, with an optional target."""

    path: str | None = None
    patch: str | None = None
    target: dict[str, Any] | None = None
    options: dict[str, Any] | None = None


class KustomizeFile(Located):
    """A kustomization file; `apiVersion` and `kind` may be missing, kustomize assumes them."""

    display_kind: ClassVar[str] = "kustomization.yaml"

    apiVersion: str | None = None
    kind: str | None = None
    metadata: dict[str, Any] | None = None
    resources: list[str] = Field(default_factory=list)
    components: list[str] = Field(default_factory=list)
    crds: list[str] = Field(default_factory=list)
    namespace: str | None = None
    namePrefix: str | None = None
    nameSuffix: str | None = None
    labels: list[dict[str, Any]] = Field(default_factory=list)
    commonLabels: dict[str, Any] = Field(default_factory=dict)
    commonAnnotations: dict[str, Any] = Field(default_factory=dict)
    images: list[dict[str, Any]] = Field(default_factory=list)
    replicas: list[dict[str, Any]] = Field(default_factory=list)
    patches: list[KustomizePatch] = Field(default_factory=list)
    replacements: list[dict[str, Any]] = Field(default_factory=list)
    configMapGenerator: list[dict[str, Any]] = Field(default_factory=list)
    secretGenerator: list[dict[str, Any]] = Field(default_factory=list)
    generatorOptions: dict[str, Any] | None = None
    generators: list[str] = Field(default_factory=list)
    transformers: list[str] = Field(default_factory=list)
    validators: list[str] = Field(default_factory=list)
    helmCharts: list[dict[str, Any]] = Field(default_factory=list)
    helmGlobals: dict[str, Any] | None = None
    openapi: dict[str, Any] | None = None
    configurations: list[str] = Field(default_factory=list)
    buildMetadata: list[str] = Field(default_factory=list)
    sortOptions: dict[str, Any] | None = None
    # Deprecated by kustomize (still accepted by it); kept so that rules can report them.
    bases: list[str] = Field(default_factory=list)
    patchesStrategicMerge: list[str] = Field(default_factory=list)
    patchesJson6902: list[dict[str, Any]] = Field(default_factory=list)
    vars: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def ref(self) -> str:
        return f"{self.display_kind}/{self.doc.file.rel}"


# --------------------------------------------------------------------------- the files a kustomization names

#: What kustomize does with a file a kustomization names.
RESOURCE = "resource"  # built as objects: resources, bases, components, crds
PLUGIN = "plugin"  # a generator, transformer or validator config: an object kustomize runs
PATCH = "patch"  # a partial object or a JSON6902 patch, applied to others
INPUT = "input"  # read as data: generator sources, values files, replacements, configurations

#: The files a builtin plugin's config names, relative to the kustomization that lists the config.
_PLUGIN_FILE_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "PatchTransformer": (("path", PATCH),),
    "PatchJson6902Transformer": (("path", PATCH),),
    "PatchStrategicMergeTransformer": (("paths", PATCH),),
    "ConfigMapGenerator": (("files", INPUT), ("envs", INPUT), ("env", INPUT)),
    "SecretGenerator": (("files", INPUT), ("envs", INPUT), ("env", INPUT)),
    "HelmChartInflationGenerator": (("valuesFile", INPUT), ("additionalValuesFiles", INPUT)),
    "ReplacementTransformer": (("replacements", INPUT),),
}


#: Prefixes of the remote entries kustomize fetches without a scheme (`github.com/org/repo//base?ref=v1`).
_REMOTE_PREFIXES = ("github.com/", "gitlab.com/", "bitbucket.org/", "git@", "git::")


def is_remote(entry: str) -> bool:
    """A kustomization entry kustomize fetches (a URL or a Git repository) rather than reads from disk."""
    return "://" in entry or entry.startswith(_REMOTE_PREFIXES)


@dataclass(frozen=True, slots=True)
class FileReference:
    """One file (or folder) a kustomization names, and where it names it."""

    #: The object whose document holds the entry: the kustomization, or a plugin config it lists.
    owner: Located
    field: tuple[str | int, ...]
    entry: str
    #: Relative to the repository root, normalised; None when the entry climbs out of it.
    target: str | None
    role: str
    #: A secretGenerator reads it: every value in it is secret.
    secret: bool = False


def file_references(objects: Iterable[Located]) -> list[FileReference]:
    """Every local file the kustomizations among `objects` name, with what kustomize does with it.

    One walk for every consumer: the model (which files are patches), `compile`
    (which files to copy as they are) and the reference rules. Remote entries
    (URLs) and inline patches are no files and are skipped.
    """
    objects = list(objects)
    by_path: dict[str, list[Located]] = {}
    for obj in objects:
        by_path.setdefault(obj.path, []).append(obj)
    out: list[FileReference] = []
    for kustomize in objects:
        if not isinstance(kustomize, KustomizeFile):
            continue
        folder = kustomize.path.rpartition("/")[0]
        data = kustomize.doc.data if isinstance(kustomize.doc.data, dict) else {}
        for key, field, role in _entries(data):
            _add(out, kustomize, folder, (key, *field), _at(data, (key, *field)), role, key == "secretGenerator")
        for key in ("generators", "transformers", "validators"):
            for position, entry in enumerate(as_list(data.get(key))):
                if not _add(out, kustomize, folder, (key, position), entry, PLUGIN):
                    continue
                for config in by_path.get(out[-1].target or "", ()):
                    config_data = config.doc.data if isinstance(config.doc.data, dict) else {}
                    kind = str(config_data.get("kind"))
                    for name, role in _PLUGIN_FILE_FIELDS.get(kind, ()):
                        for field in _file_fields(config_data, name):
                            _add(out, config, folder, field, _at(config_data, field), role, kind == "SecretGenerator")
    return out


def _entries(data: dict) -> Iterator[tuple[str, tuple, str]]:
    """(key, path below it, role) of each entry of a kustomization that may name a file."""
    for key in ("resources", "bases", "components", "crds"):
        yield from ((key, (i,), RESOURCE) for i in range(len(as_list(data.get(key)))))
    for i in range(len(as_list(data.get("patchesStrategicMerge")))):
        yield "patchesStrategicMerge", (i,), PATCH
    for key in ("patches", "patchesJson6902"):
        yield from ((key, (i, "path"), PATCH) for i, item in enumerate(as_list(data.get(key))) if isinstance(item, dict))
    for i, item in enumerate(as_list(data.get("replacements"))):
        if isinstance(item, dict):
            yield "replacements", (i, "path"), INPUT
    yield from ((("configurations", (i,), INPUT)) for i in range(len(as_list(data.get("configurations")))))
    for key in ("configMapGenerator", "secretGenerator", "helmCharts"):
        for i, item in enumerate(as_list(data.get(key))):
            if isinstance(item, dict):
                fields = ("valuesFile", "additionalValuesFiles") if key == "helmCharts" else ("files", "envs", "env")
                yield from ((key, (i, *f), INPUT) for name in fields for f in _file_fields(item, name))
    if isinstance(data.get("openapi"), dict):
        yield "openapi", ("path",), INPUT


def _file_fields(data: dict, name: str) -> list[tuple]:
    """Paths into `data` of the file names its field `name` holds: a string, or a list of them (or of
    `replacements` entries, whose `path` is the file)."""
    value = data.get(name)
    if isinstance(value, list):
        return [(name, i, "path") if isinstance(v, dict) else (name, i) for i, v in enumerate(value)]
    return [(name,)] if value is not None else []


def _at(data: Any, path: tuple) -> Any:
    for item in path:
        if isinstance(data, dict):
            data = data.get(item)
        elif isinstance(data, list) and isinstance(item, int) and item < len(data):
            data = data[item]
        else:
            return None
    return data


def _add(out: list[FileReference], owner: Located, folder: str, field: tuple, entry: Any, role: str,
         secret: bool = False) -> bool:
    if not isinstance(entry, str) or not entry or "\n" in entry or is_remote(entry):
        return False
    if "files" in field and "=" in entry:
        entry = entry.partition("=")[2] or entry  # `key=path`
    target = posixpath.normpath(posixpath.join(folder, entry)) if folder else posixpath.normpath(entry)
    if target == ".." or target.startswith("../") or target.startswith("/"):
        target = None  # type: ignore[assignment]
    out.append(FileReference(owner, field, entry, "" if target == "." else target, role, secret))
    return True


def as_list(value: Any) -> list:
    """`value` when it is a list, else an empty one: kustomize files may hold anything where a list belongs."""
    return value if isinstance(value, list) else []


# --------------------------------------------------------------------------- the patches a repository holds

#: Kinds whose `patch`/`jsonOp` strings (or `patchesJson6902[].patch` lists) patch objects of the repository.
PATCHING_KINDS = frozenset({"Kustomization", "PatchTransformer", "PatchJson6902Transformer", "ReplacementTransformer"})


def repository_patches(model: Any, files: Iterable[Any], read: Any = None) -> list[tuple[str | None, Any]]:
    """(kind the entry targets, document) of every patch and replacement the repository holds: patch files
    and replacement files kustomizations name, and what kustomizations, Flux Kustomizations and patch
    transformers hold inline. A document is a strategic-merge patch (a mapping), a JSON 6902 patch or a
    list of replacements (a list). The kind is None where the entry names no target.

    One walk for every consumer: the schema rules (fields a patch sets are not missing) and `compile`
    (fields a patch needs must stay).
    """
    from gitops_lint.yaml.loader import load_text

    loaded = {source.rel: source for source in files}

    def documents(rel: str) -> list:
        source = loaded.get(rel)
        if source is None:
            raw = read(rel) if read is not None else None
            text = raw.decode("utf-8", "replace") if raw is not None else ""
            source = loaded[rel] = load_text(text, rel)
        return [doc.data for doc in source.documents if doc.data is not None]

    out: list[tuple[str | None, Any]] = []
    for ref in model.file_references:
        if ref.target and (ref.role == PATCH or (ref.role == INPUT and "replacements" in ref.field)):
            entry = _at(ref.owner.doc.data, ref.field[:-1]) if ref.field and ref.field[-1] == "path" else None
            kind = _target_kind(entry)
            out += [(kind, data) for data in documents(ref.target)]
    for obj in model.objects:
        data = obj.doc.data
        if isinstance(data, dict) and (data.get("kind") in PATCHING_KINDS or isinstance(obj, KustomizeFile)):
            for kind, patch in _inline_patches(data):
                if isinstance(patch, str):
                    out += [(kind, doc.data) for doc in load_text(patch).documents if doc.data is not None]
                else:
                    out.append((kind, patch))
    return out


def _target_kind(entry: Any) -> str | None:
    target = entry.get("target") if isinstance(entry, dict) else None
    kind = target.get("kind") if isinstance(target, dict) else None
    return kind if isinstance(kind, str) else None


def _inline_patches(data: object) -> list[tuple[str | None, Any]]:
    """(target kind, value) of the `patch`/`jsonOp` values and inline `replacements` anywhere in a
    kustomization, Flux Kustomization or patch transformer."""
    found: list[tuple[str | None, Any]] = []
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            kind = _target_kind(node)
            found += [(kind, node[key]) for key in ("patch", "jsonOp") if key in node]
            found.append((None, [r for r in as_list(node.get("replacements")) if isinstance(r, dict) and "source" in r]))
            stack += [v for k, v in node.items() if k not in ("patch", "jsonOp")]
        elif isinstance(node, list):
            stack += node
    return found
