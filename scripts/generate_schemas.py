#!/usr/bin/env python3
"""Generate the project's Flux JSON Schemas from the CRDs of each Flux release.

    python scripts/generate_schemas.py [--crds ../shared/crds] [--out schemas] [--check]

Input: `<crds>/flux-2.N/*.yaml` (the CustomResourceDefinitions a Flux release
installs) and `<crds>/SOURCES.tsv` (controller repository, tag and commit of
each file). Output, all under `<out>/flux/`:

* `2.N/<group>/<kind>_<version>.json`: one JSON Schema (draft 2020-12) per served
  version of every CRD: the CRD's `openAPIV3Schema` without descriptions, with
  `apiVersion`/`kind` pinned by `const`, OpenAPI-only keywords rewritten
  (`nullable`, boolean `exclusiveMinimum`/`exclusiveMaximum`,
  `x-kubernetes-int-or-string`), every `x-kubernetes-*` extension kept, and a
  top-level `deprecated: true` + `x-deprecation-warning` when the CRD deprecates
  the version. When the tree would be large, identical schemas are stored once
  as `_shared/<sha256>.json` instead (see SHARE_ABOVE_BYTES).
* `2.N/index.json`: per `group/Kind`, every version served by the release (served,
  storage, deprecated, file) plus the versions an earlier release served and this
  one no longer does (`served: false`, `removed_in`). `file` is relative to `<out>/flux`.
* `lifecycle.json`: per `group/Kind` and version, across all releases: first
  release serving it, releases deprecating it, first release no longer serving it.
* `SOURCES.json`: where each release's CRDs came from (upstream Apache-2.0).

Output is deterministic (sorted keys, `indent=1`, trailing newline), so the test
suite regenerates it and compares byte for byte. Standard library + PyYAML only.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

try:
    _Loader = yaml.CSafeLoader
except AttributeError:  # PyYAML without libyaml
    _Loader = yaml.SafeLoader

DRAFT = "https://json-schema.org/draft/2020-12/schema"
RELEASE_DIR = re.compile(r"^flux-(\d+)\.(\d+)$")
#: Documentation-only keywords: dropped everywhere in a schema (never inside `default`/`enum` values).
DOC_KEYWORDS = frozenset({"description", "example", "externalDocs"})
#: Keywords whose value is a map of name -> schema.
SCHEMA_MAPS = ("properties", "patternProperties", "dependentSchemas", "$defs", "definitions")
#: Keywords whose value is a list of schemas.
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
#: Keywords whose value is one schema.
SCHEMA_ONE = ("not", "additionalItems", "contains", "propertyNames", "if", "then", "else")
#: Above this total size, identical schemas are shared across releases (content-addressed).
SHARE_ABOVE_BYTES = 15 * 1024 * 1024
SHARED_DIR = "_shared"


# --------------------------------------------------------------------------- conversion

def convert(node: Any) -> Any:
    """One OpenAPI v3 (Kubernetes structural) schema node -> JSON Schema 2020-12, descriptions dropped."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in DOC_KEYWORDS or key == "nullable":
            continue
        if key in SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: convert(sub) for name, sub in value.items()}
        elif key in SCHEMA_LISTS and isinstance(value, list):
            out[key] = [convert(sub) for sub in value]
        elif key == "items":
            if isinstance(value, list):  # OpenAPI tuple form (not allowed in structural schemas)
                out["prefixItems"] = [convert(sub) for sub in value]
            else:
                out[key] = convert(value)
        elif key in SCHEMA_ONE or key == "additionalProperties":
            out[key] = convert(value)  # a schema or a boolean
        elif key == "x-kubernetes-validations":
            out[key] = [dict(rule) for rule in value]  # rule, message, messageExpression, reason, fieldPath...
        else:  # type, format, pattern, enum, default, bounds, required, x-kubernetes-* ...
            out[key] = value
    # OpenAPI 3.0 boolean exclusive bounds -> 2020-12 numeric ones.
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        flag = out.get(exclusive)
        if isinstance(flag, bool):
            del out[exclusive]
            if flag and bound in out:
                out[exclusive] = out.pop(bound)
    # x-kubernetes-int-or-string without an explicit alternative: integer or string.
    if out.get("x-kubernetes-int-or-string") is True and "type" not in out and "anyOf" not in out \
            and "oneOf" not in out:
        out["type"] = ["integer", "string"]
    # nullable: true -> the type (and enum) also admit null.
    if node.get("nullable") is True:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        elif isinstance(kind, list) and "null" not in kind:
            out["type"] = [*kind, "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


def version_schema(group: str, kind: str, version: dict) -> dict:
    """The whole-object schema of one CRD version."""
    name = version["name"]
    schema = convert(((version.get("schema") or {}).get("openAPIV3Schema")) or {"type": "object"})
    schema["$schema"] = DRAFT
    schema["title"] = f"{kind} {group}/{name}"
    schema.setdefault("type", "object")
    properties = schema.setdefault("properties", {})
    properties["apiVersion"] = {"const": f"{group}/{name}", "type": "string"}
    properties["kind"] = {"const": kind, "type": "string"}
    required = [r for r in schema.get("required", []) if r not in ("apiVersion", "kind")]
    schema["required"] = ["apiVersion", "kind", *required]
    schema["x-kubernetes-group-version-kind"] = [{"group": group, "kind": kind, "version": name}]
    if version.get("deprecated"):
        schema["deprecated"] = True
        schema["x-deprecation-warning"] = version.get("deprecationWarning") or (
            f"{group}/{name} {kind} is deprecated")
    return schema


# --------------------------------------------------------------------------- reading

def release_key(release: str) -> tuple[int, ...]:
    return tuple(int(p) for p in release.split("."))


def find_releases(crds: Path) -> list[tuple[str, Path]]:
    found = []
    for child in crds.iterdir():
        match = RELEASE_DIR.match(child.name)
        if match and child.is_dir():
            found.append((f"{match[1]}.{match[2]}", child))
    if not found:
        raise SystemExit(f"no flux-2.N folders in {crds}")
    return sorted(found, key=lambda item: release_key(item[0]))


def read_sources(crds: Path) -> dict[tuple[str, str], dict[str, str]]:
    """(release, file name) -> controller, tag, commit, path, from SOURCES.tsv (absent -> empty)."""
    path = crds / "SOURCES.tsv"
    if not path.is_file():
        return {}
    out = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            out[(row["flux"], Path(row["path"]).name)] = {
                "controller": row["controller"], "tag": row["tag"], "commit": row["commit"], "path": row["path"]}
    return out


def read_crds(folder: Path) -> list[tuple[str, dict]]:
    """(file name, CRD) for every CustomResourceDefinition in the folder, in file-name order."""
    out = []
    for path in sorted(folder.glob("*.y*ml")):
        for doc in yaml.load_all(path.read_text(encoding="utf-8"), Loader=_Loader):
            if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                out.append((path.name, doc))
    return out


# --------------------------------------------------------------------------- building

def dump(data: Any) -> bytes:
    return (json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def build(crds: Path) -> dict[str, bytes]:
    """Every output file: path relative to `<out>/flux` -> content."""
    sources = read_sources(crds)
    releases = find_releases(crds)
    schemas: dict[str, bytes] = {}  # per-release path -> content
    indexes: dict[str, dict] = {}
    provenance: dict[str, dict] = {}
    for release, folder in releases:
        index: dict[str, dict] = {}
        for file_name, crd in read_crds(folder):
            spec = crd["spec"]
            group, names = spec["group"], spec["names"]
            kind = names["kind"]
            entry = index.setdefault(f"{group}/{kind}", {"versions": {}})
            entry.update({
                "group": group, "kind": kind, "plural": names.get("plural"),
                "short_names": list(names.get("shortNames") or []), "scope": spec.get("scope"),
                "storage_version": next((v["name"] for v in spec["versions"] if v.get("storage")), None),
            })
            source = sources.get((release, file_name))
            if source:
                entry["source"] = dict(source)
                provenance.setdefault(release, {})[source["controller"]] = {
                    "tag": source["tag"], "commit": source["commit"]}
            for version in spec["versions"]:
                name = version["name"]
                info = {"served": bool(version.get("served")), "storage": bool(version.get("storage")),
                        "deprecated": bool(version.get("deprecated")), "file": None}
                if version.get("deprecated"):
                    info["deprecation_warning"] = version.get("deprecationWarning") or (
                        f"{group}/{name} {kind} is deprecated")
                if info["served"]:
                    rel = f"{release}/{group}/{kind.lower()}_{name}.json"
                    schemas[rel] = dump(version_schema(group, kind, version))
                    info["file"] = rel
                entry["versions"][name] = info
        indexes[release] = index

    lifecycle = compute_lifecycle([r for r, _ in releases], indexes)
    # Removed versions appear in each later index, so one file answers "served/deprecated/removed in 2.N".
    for release, index in indexes.items():
        for key, versions in lifecycle["kinds"].items():
            for name, life in versions.items():
                removed = life["removed_in"]
                if removed and release_key(release) >= release_key(removed):
                    entry = index.setdefault(key, {"versions": {}, "removed": True})
                    entry["versions"].setdefault(name, {
                        "served": False, "storage": False, "deprecated": False, "file": None,
                        "removed_in": removed, "last_served": life["served_in"][-1]})

    files: dict[str, bytes] = {}
    total = sum(len(c) for c in schemas.values())
    if total > SHARE_ABOVE_BYTES:
        moved: dict[str, str] = {}
        for rel, content in schemas.items():
            shared = f"{SHARED_DIR}/{hashlib.sha256(content).hexdigest()}.json"
            files[shared] = content
            moved[rel] = shared
        for index in indexes.values():
            for entry in index.values():
                for info in entry["versions"].values():
                    if info["file"]:
                        info["file"] = moved[info["file"]]
    else:
        files.update(schemas)
    for release, index in indexes.items():
        files[f"{release}/index.json"] = dump(index)
    files["lifecycle.json"] = dump(lifecycle)
    files["SOURCES.json"] = dump({
        "generator": "scripts/generate_schemas.py",
        "licence": "Apache-2.0 (the Flux controllers' CustomResourceDefinitions, descriptions removed)",
        "releases": provenance,
    })
    return dict(sorted(files.items()))


def compute_lifecycle(releases: list[str], indexes: dict[str, dict]) -> dict:
    """Per group/Kind/version: the releases that serve and deprecate it, when it arrived and left."""
    kinds: dict[str, dict[str, dict]] = {}
    for key in sorted({k for index in indexes.values() for k in index}):
        names = sorted({v for index in indexes.values() for v in (index.get(key) or {}).get("versions", {})})
        for name in names:
            served, deprecated, storage = [], [], []
            for release in releases:
                info = ((indexes[release].get(key) or {}).get("versions") or {}).get(name)
                if info and info["served"]:
                    served.append(release)
                    if info["deprecated"]:
                        deprecated.append(release)
                    if info["storage"]:
                        storage.append(release)
            if not served:
                continue
            first = served[0]
            after = [r for r in releases if release_key(r) > release_key(served[-1])]
            kinds.setdefault(key, {})[name] = {
                "first_served": first,
                #: The first release of the data serves it: it may be older than that.
                "served_before_first_release": first == releases[0],
                "served_in": served,
                "deprecated_in": deprecated,
                "first_deprecated": deprecated[0] if deprecated else None,
                "storage_in": storage,
                "removed_in": after[0] if after else None,
            }
    return {"releases": releases, "kinds": kinds}


# --------------------------------------------------------------------------- writing

def write(files: dict[str, bytes], target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_bytes() != content:
            path.write_bytes(content)
    # Drop what an earlier run wrote and this one does not (a release or version that went away).
    for path in sorted(target.rglob("*"), reverse=True):
        rel = path.relative_to(target).as_posix()
        if path.is_file() and rel not in files and path.suffix == ".json":
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def differences(files: dict[str, bytes], target: Path) -> list[str]:
    existing = {p.relative_to(target).as_posix() for p in target.rglob("*.json")} if target.is_dir() else set()
    out = [f"missing: {rel}" for rel in files if rel not in existing]
    out += [f"stale: {rel}" for rel in sorted(existing - set(files))]
    out += [f"differs: {rel}" for rel in files if rel in existing and (target / rel).read_bytes() != files[rel]]
    return out


def main(argv: list[str] | None = None) -> int:
    project = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--crds", type=Path, default=project.parent / "shared" / "crds",
                        help="folder holding flux-2.N/ and SOURCES.tsv (default: ../shared/crds)")
    parser.add_argument("--out", type=Path, default=project / "schemas",
                        help="schemas folder; Flux schemas go to <out>/flux (default: schemas)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if <out>/flux is out of date")
    args = parser.parse_args(argv)
    files = build(args.crds)
    target = args.out / "flux"
    if args.check:
        problems = differences(files, target)
        for line in problems:
            print(line, file=sys.stderr)
        return 1 if problems else 0
    write(files, target)
    size = sum(len(c) for c in files.values())
    print(f"wrote {len(files)} files, {size / 1024 / 1024:.1f} MiB, to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
