#!/usr/bin/env python3
"""CEL backends for the Flux CRDs' `x-kubernetes-validations`: cost and correctness of each candidate.

Prints figures; asserts nothing (these machines are shared and noisy).

    python benchmarks/cel_candidates.py                    # pip-install every candidate into a temp folder
    python benchmarks/cel_candidates.py --keep /tmp/celc   # install into (or reuse) this folder
    python benchmarks/cel_candidates.py --only cel-expr-python gitops_lint.cel

For each candidate: install time (pip --target, no cache) and size, cold import time
(fresh interpreters, median of several) and the memory it adds, compile time per
rule, evaluation time per (rule, object), and correctness on

* every distinct rule of the Flux 2.3-2.9 CRDs (read from ../shared/crds) on
  hand-written satisfying and violating values, each with the answer the API
  server gives;
* probes of CEL semantics the rules lean on (error absorption by `||`/`&&`,
  `has()` on an empty string, comparison of mismatched types, ...);
* every Flux object of the corpus (../shared/corpus) at every node that carries a
  rule, with schema defaults applied as the API server does; the corpus has no
  answers, so results are compared with Google's cel-expr-python (the C++ runtime).

Each candidate runs in its own interpreter with only its own install folder on the
path (two of them are both called `cel`). The worker side is this same file with
`--worker`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
SHARED = PROJECT.parent / "shared"
CRDS = SHARED / "crds"
CORPUS = SHARED / "corpus"

#: name -> (pip requirement or None for our own module, module to import, note)
CANDIDATES: dict[str, tuple[str | None, str, str]] = {
    "cel-python": ("cel-python", "celpy", "pure Python (lark parser)"),
    "cel-expr-python": ("cel-expr-python", "cel_expr_python.cel", "Google's C++ runtime (pybind)"),
    "common-expression-language": ("common-expression-language", "cel", "Rust cel crate (PyO3)"),
    "cel-bind": ("cel-bind", "cel", "cel-cpp bindings, typed by JSON schema"),
    "celparser": ("celparser", "celparser", "pure Python, alpha"),
    "gitops_lint.cel": (None, "gitops_lint.cel", "this project's evaluator of the CRD subset"),
}
REFERENCE = "cel-expr-python"
#: What `gitops-lint check` has imported before any CEL rule needs evaluating.
TOOL_PREAMBLE = ("import re, functools, json, typing, dataclasses, enum, pathlib, collections, yaml, jsonschema, "
                 "pydantic, gitops_lint\n")

B = "HelmRepository"
#: Hand-written values at the rule's node: (value, what the API server answers).
#: Values are completed with the schema's defaults before evaluation, as on the API server.
CASES: dict[str, list[tuple[Any, str]]] = {
    "(has(self.chart) && !has(self.chartRef)) || (!has(self.chart) && has(self.chartRef))": [
        ({"interval": "10m", "chart": {"spec": {"chart": "podinfo", "sourceRef": {"kind": B, "name": "p"}}}}, "passed"),
        ({"interval": "10m", "chartRef": {"kind": "OCIRepository", "name": "podinfo"}}, "passed"),
        ({"interval": "10m", "chart": {"spec": {"chart": "podinfo", "sourceRef": {"kind": B, "name": "p"}}},
          "chartRef": {"kind": "OCIRepository", "name": "podinfo"}}, "failed"),
        ({"interval": "10m"}, "failed"),
    ],
    "self.provider == 'aws' || self.provider == 'generic' || !has(self.sts)": [
        ({"provider": "aws", "bucketName": "b", "endpoint": "s3.amazonaws.com", "interval": "5m",
          "sts": {"provider": "aws", "endpoint": "https://sts.amazonaws.com"}}, "passed"),
        ({"provider": "gcp", "bucketName": "b", "endpoint": "storage.googleapis.com", "interval": "5m"}, "passed"),
        ({"bucketName": "b", "endpoint": "minio", "interval": "5m",
          "sts": {"provider": "ldap", "endpoint": "https://minio"}}, "passed"),  # provider defaults to generic
        ({"provider": "gcp", "bucketName": "b", "endpoint": "storage.googleapis.com", "interval": "5m",
          "sts": {"provider": "aws", "endpoint": "https://sts.amazonaws.com"}}, "failed"),
    ],
    "self.provider != 'aws' || !has(self.sts) || self.sts.provider == 'aws'": [
        ({"provider": "aws", "bucketName": "b", "endpoint": "e", "interval": "5m",
          "sts": {"provider": "aws", "endpoint": "https://sts.amazonaws.com"}}, "passed"),
        ({"provider": "aws", "bucketName": "b", "endpoint": "e", "interval": "5m"}, "passed"),
        ({"provider": "aws", "bucketName": "b", "endpoint": "e", "interval": "5m",
          "sts": {"provider": "ldap", "endpoint": "https://sts"}}, "failed"),
    ],
    "self.provider != 'generic' || !has(self.sts) || self.sts.provider == 'ldap'": [
        ({"provider": "generic", "bucketName": "b", "endpoint": "minio", "interval": "5m",
          "sts": {"provider": "ldap", "endpoint": "https://minio"}}, "passed"),
        ({"bucketName": "b", "endpoint": "minio", "interval": "5m",
          "sts": {"provider": "aws", "endpoint": "https://sts"}}, "failed"),  # provider defaults to generic
        ({"provider": "generic", "bucketName": "b", "endpoint": "minio", "interval": "5m",
          "sts": {"provider": "aws", "endpoint": "https://sts"}}, "failed"),
    ],
    "!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.secretRef)": [
        ({"provider": "aws", "bucketName": "b", "endpoint": "e", "interval": "5m",
          "sts": {"provider": "aws", "endpoint": "https://sts"}}, "passed"),
        ({"provider": "generic", "bucketName": "b", "endpoint": "e", "interval": "5m",
          "sts": {"provider": "ldap", "endpoint": "https://sts", "secretRef": {"name": "s"}}}, "passed"),
        ({"provider": "aws", "bucketName": "b", "endpoint": "e", "interval": "5m",
          "sts": {"provider": "aws", "endpoint": "https://sts", "secretRef": {"name": "s"}}}, "failed"),
    ],
    "!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.certSecretRef)": [
        ({"provider": "aws", "bucketName": "b", "endpoint": "e", "interval": "5m",
          "sts": {"provider": "aws", "endpoint": "https://sts"}}, "passed"),
        ({"provider": "aws", "bucketName": "b", "endpoint": "e", "interval": "5m",
          "sts": {"provider": "aws", "endpoint": "https://sts", "certSecretRef": {"name": "ca"}}}, "failed"),
    ],
    "!has(self.interval) || (has(self.digestReflectionPolicy) && self.digestReflectionPolicy == 'Always')": [
        ({"imageRepositoryRef": {"name": "app"}, "policy": {"semver": {"range": "1.x"}}}, "passed"),
        ({"imageRepositoryRef": {"name": "app"}, "policy": {"semver": {"range": "1.x"}},
          "digestReflectionPolicy": "Always", "interval": "5m"}, "passed"),
        ({"imageRepositoryRef": {"name": "app"}, "policy": {"semver": {"range": "1.x"}}, "interval": "5m"},
         "failed"),  # digestReflectionPolicy defaults to Never
        ({"imageRepositoryRef": {"name": "app"}, "policy": {"semver": {"range": "1.x"}},
          "digestReflectionPolicy": "IfNotPresent", "interval": "5m"}, "failed"),
    ],
    "has(self.interval) || !has(self.digestReflectionPolicy) || self.digestReflectionPolicy != 'Always'": [
        ({"imageRepositoryRef": {"name": "app"}, "policy": {"semver": {"range": "1.x"}}}, "passed"),
        ({"imageRepositoryRef": {"name": "app"}, "policy": {"semver": {"range": "1.x"}},
          "digestReflectionPolicy": "Always", "interval": "5m"}, "passed"),
        ({"imageRepositoryRef": {"name": "app"}, "policy": {"semver": {"range": "1.x"}},
          "digestReflectionPolicy": "Always"}, "failed"),
    ],
    "self.type == 'github' || self.type == 'gitlab' || self.type == 'gitea' || self.type == 'bitbucketserver' "
    "|| self.type == 'bitbucket' || self.type == 'azuredevops' || !has(self.commitStatusExpr)": [
        ({"type": "gitlab", "commitStatusExpr": "event.metadata.app"}, "passed"),
        ({"type": "slack", "channel": "general"}, "passed"),
        ({"type": "slack", "commitStatusExpr": "event.metadata.app"}, "failed"),
    ],
    "!has(self.retryInterval) || self.name != 'RemediateOnFailure'": [
        ({"name": "RetryOnFailure", "retryInterval": "5m"}, "passed"),
        ({"name": "RemediateOnFailure"}, "passed"),
        ({"name": "RemediateOnFailure", "retryInterval": "5m"}, "failed"),
    ],
    "has(self.configMapRef) || has(self.secretRef)": [
        ({"secretRef": {"name": "kubeconfig"}}, "passed"),
        ({"configMapRef": {"name": "kubeconfig"}}, "passed"),
        ({}, "failed"),
    ],
    "!has(self.configMapRef) || !has(self.secretRef)": [
        ({"secretRef": {"name": "kubeconfig"}}, "passed"),
        ({"configMapRef": {"name": "a"}, "secretRef": {"name": "b"}}, "failed"),
    ],
    "!has(self.retryInterval) || self.name == 'RetryOnFailure'": [
        ({"name": "RetryOnFailure", "retryInterval": "5m"}, "passed"),
        ({"name": "RemediateOnFailure"}, "passed"),
        ({"name": "RemediateOnFailure", "retryInterval": "5m"}, "failed"),
    ],
    "self.provider != 'generic' || !has(self.serviceAccountName)": [
        ({"provider": "aws", "bucketName": "b", "endpoint": "e", "interval": "5m", "serviceAccountName": "sa"},
         "passed"),
        ({"bucketName": "b", "endpoint": "e", "interval": "5m"}, "passed"),
        ({"bucketName": "b", "endpoint": "e", "interval": "5m", "serviceAccountName": "sa"},
         "failed"),  # provider defaults to generic
    ],
    "!has(self.secretRef) || !has(self.serviceAccountName)": [
        ({"provider": "aws", "bucketName": "b", "endpoint": "e", "interval": "5m", "serviceAccountName": "sa"},
         "passed"),
        ({"provider": "aws", "bucketName": "b", "endpoint": "e", "interval": "5m", "serviceAccountName": "sa",
          "secretRef": {"name": "creds"}}, "failed"),
    ],
    "!has(self.serviceAccountName) || (has(self.provider) && self.provider == 'azure')": [
        ({"interval": "5m", "url": "https://dev.azure.com/o/p/_git/r", "provider": "azure",
          "serviceAccountName": "sa"}, "passed"),
        ({"interval": "5m", "url": "https://github.com/o/r"}, "passed"),
        ({"interval": "5m", "url": "https://github.com/o/r", "serviceAccountName": "sa"}, "failed"),
        ({"interval": "5m", "url": "https://github.com/o/r", "provider": "github", "serviceAccountName": "sa"},
         "failed"),
    ],
    "!has(self.serviceAccountName) || (has(self.provider) && (self.provider == 'azure' || self.provider == 'aws'))": [
        ({"interval": "5m", "url": "https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/r", "provider": "aws",
          "serviceAccountName": "sa"}, "passed"),
        ({"interval": "5m", "url": "https://github.com/o/r"}, "passed"),
        ({"interval": "5m", "url": "https://github.com/o/r", "provider": "generic", "serviceAccountName": "sa"},
         "failed"),
    ],
    "!has(self.verify) || self.sourceRef.kind == 'HelmRepository'": [
        ({"chart": "podinfo", "interval": "5m", "sourceRef": {"kind": B, "name": "p"},
          "verify": {"provider": "cosign"}}, "passed"),
        ({"chart": "./charts/app", "interval": "5m", "sourceRef": {"kind": "GitRepository", "name": "g"}}, "passed"),
        ({"chart": "./charts/app", "interval": "5m", "sourceRef": {"kind": "GitRepository", "name": "g"},
          "verify": {"provider": "cosign"}}, "failed"),
    ],
    "self.type != 'generic-oidc' || (has(self.oidcProviders) && size(self.oidcProviders) > 0)": [
        ({"type": "generic-oidc", "resources": [{"kind": "GitRepository", "name": "g"}],
          "oidcProviders": [{"issuerURL": "https://gitlab.com"}]}, "passed"),
        ({"type": "github", "resources": [{"kind": "GitRepository", "name": "g"}], "secretRef": {"name": "t"}},
         "passed"),
        ({"type": "generic-oidc", "resources": [{"kind": "GitRepository", "name": "g"}], "oidcProviders": []},
         "failed"),
        ({"type": "generic-oidc", "resources": [{"kind": "GitRepository", "name": "g"}]}, "failed"),
    ],
    "self.type == 'generic-oidc' || !has(self.oidcProviders) || size(self.oidcProviders) == 0": [
        ({"type": "github", "resources": [{"kind": "GitRepository", "name": "g"}], "secretRef": {"name": "t"},
          "oidcProviders": []}, "passed"),
        ({"type": "generic-oidc", "resources": [{"kind": "GitRepository", "name": "g"}],
          "oidcProviders": [{"issuerURL": "https://gitlab.com"}]}, "passed"),
        ({"type": "github", "resources": [{"kind": "GitRepository", "name": "g"}], "secretRef": {"name": "t"},
          "oidcProviders": [{"issuerURL": "https://gitlab.com"}]}, "failed"),
    ],
    "self.type != 'generic-oidc' || !has(self.secretRef)": [
        ({"type": "generic-oidc", "resources": [{"kind": "GitRepository", "name": "g"}],
          "oidcProviders": [{"issuerURL": "https://gitlab.com"}]}, "passed"),
        ({"type": "generic-oidc", "resources": [{"kind": "GitRepository", "name": "g"}],
          "oidcProviders": [{"issuerURL": "https://gitlab.com"}], "secretRef": {"name": "t"}}, "failed"),
    ],
    "self.type == 'generic-oidc' || has(self.secretRef)": [
        ({"type": "github", "resources": [{"kind": "GitRepository", "name": "g"}], "secretRef": {"name": "t"}},
         "passed"),
        ({"type": "github", "resources": [{"kind": "GitRepository", "name": "g"}]}, "failed"),
    ],
}

#: Probes of CEL semantics: (rule, value at self, CEL's answer, what it checks).
PROBES: list[tuple[str, Any, str, str]] = [
    ("self.provider == 'aws' || !has(self.sts)", {"x": 1}, "passed", "error || true absorbs the error"),
    ("!has(self.sts) || self.provider == 'aws'", {"x": 1}, "passed", "true || error short-circuits"),
    ("self.provider == 'aws' && has(self.sts)", {"x": 1}, "failed", "error && false absorbs the error"),
    ("self.provider == 'aws' || has(self.sts)", {"x": 1}, "error", "error || false stays an error"),
    ("has(self.a) && size(self.a) > 0", {"a": []}, "failed", "size() of an empty list"),
    ("has(self.a) && size(self.a) > 0", {"a": {"k": "v"}}, "passed", "size() of a map"),
    ("size(self.name) == 3", {"name": "héé"}, "passed", "size() counts code points"),
    ("has(self.name)", {"name": ""}, "passed", "has() of an empty string field is true on a map"),
    ("has(self.a.b)", {"x": 1}, "error", "has() through an absent field is an error"),
    ("self.name in ['a', 'b']", {"name": "b"}, "passed", "in on a list literal"),
    ("'k' in self.labels", {"labels": {"k": "v"}}, "passed", "in on map keys"),
    ("self.name.startsWith('flux-') && self.name.endsWith('-system')", {"name": "flux-system"}, "passed",
     "startsWith / endsWith"),
    ("self.name.matches('^[a-z]+$')", {"name": "abc"}, "passed", "matches"),
    ("self.name.matches('^[a-z]+$')", {"name": "abc\n"}, "failed", "RE2 $ is end of text"),
    ("self.name.contains('x')", {"name": "abc"}, "failed", "contains"),
    ("self.count > 2 ? self.name == 'a' : true", {"count": 3, "name": "a"}, "passed", "ternary"),
    ("self.count == 3", {"count": 3}, "passed", "int equality"),
    ("self.count < 10 && -self.count == -3", {"count": 3}, "passed", "ordering and negation"),
    ("self.all(x, x.startsWith('a'))", ["ab", "ac"], "passed", "all() over a list"),
    ("self.exists(x, x == 'b')", ["ab", "ac"], "failed", "exists() over a list"),
]


# =========================================================================== parent side


def strip_schema(node: Any) -> Any:
    """A schema node without descriptions and nested rules (what a typed backend needs)."""
    if isinstance(node, dict):
        return {k: strip_schema(v) for k, v in node.items() if k not in ("description", "x-kubernetes-validations")}
    if isinstance(node, list):
        return [strip_schema(v) for v in node]
    return node


def load_rule_sites(root: Path) -> list[dict]:
    """Every rule in every CRD of every Flux release: release, group, version, kind, path, entry, schema."""
    import yaml

    sites: list[dict] = []
    for folder in sorted(root.glob("flux-2.*"), key=lambda p: int(p.name.split(".")[1])):
        for path in sorted(folder.glob("*.yaml")):
            for doc in yaml.load_all(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
                if not doc or doc.get("kind") != "CustomResourceDefinition":
                    continue
                group, kind = doc["spec"]["group"], doc["spec"]["names"]["kind"]
                for version in doc["spec"]["versions"]:
                    schema = version["schema"]["openAPIV3Schema"]
                    _collect(schema, (), folder.name, group, version["name"], kind, sites)
    return sites


def _collect(node: Any, path: tuple, release: str, group: str, version: str, kind: str, out: list) -> None:
    if not isinstance(node, dict):
        return
    for entry in node.get("x-kubernetes-validations") or []:
        out.append({"release": release, "group": group, "version": version, "kind": kind, "path": path,
                    "entry": entry, "schema": strip_schema(node)})
    for key, sub in (node.get("properties") or {}).items():
        _collect(sub, path + (key,), release, group, version, kind, out)
    if isinstance(node.get("items"), dict):
        _collect(node["items"], path + ("[]",), release, group, version, kind, out)
    if isinstance(node.get("additionalProperties"), dict):
        _collect(node["additionalProperties"], path + ("{}",), release, group, version, kind, out)


def _yaml_loader():
    import yaml

    class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        pass

    def any_tag(loader, suffix, node):  # !env_var, !vault, ...: their text is enough here
        if isinstance(node, yaml.ScalarNode):
            return loader.construct_scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node)
        return loader.construct_mapping(node)

    Loader.add_multi_constructor("!", any_tag)
    Loader.add_multi_constructor("tag:", any_tag)
    return Loader


def corpus_objects(root: Path, groups: set[str]) -> list[dict]:
    """Flux objects of the corpus (documents whose apiVersion is a Flux toolkit group)."""
    import yaml

    loader, out = _yaml_loader(), []
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in sorted(files):
            if not name.endswith((".yaml", ".yml")) and name not in ("kustomization", "Kustomization"):
                continue
            path = Path(directory, name)
            try:
                if path.stat().st_size > 2_000_000:
                    continue
                text = path.read_text(encoding="utf-8", errors="replace")
                if "toolkit.fluxcd.io" not in text:
                    continue
                docs = list(yaml.load_all(text, Loader=loader))
            except Exception:  # noqa: BLE001 - templates, Jinja, broken files: not our subject
                continue
            for doc in docs:
                if isinstance(doc, dict) and isinstance(doc.get("apiVersion"), str) \
                        and doc["apiVersion"].split("/")[0] in groups and isinstance(doc.get("kind"), str):
                    out.append(doc)
    return out


def nodes_at(value: Any, path: tuple) -> list[Any]:
    """Values at a schema path ('[]' each item, '{}' each map value); only the present ones."""
    current = [value]
    for step in path:
        nxt = []
        for v in current:
            if step == "[]" and isinstance(v, list):
                nxt.extend(v)
            elif step == "{}" and isinstance(v, dict):
                nxt.extend(v.values())
            elif isinstance(v, dict) and v.get(step) is not None:
                nxt.append(v[step])
        current = nxt
    return [v for v in current if v is not None]


def has_substitution(value: Any) -> bool:
    if isinstance(value, str):
        return "${" in value
    if isinstance(value, dict):
        return any(has_substitution(v) for v in value.values())
    if isinstance(value, list):
        return any(has_substitution(v) for v in value)
    return False


def build_workload(sites: list[dict]) -> dict:
    """Rules, rule instances (rule + node schema), hand cases, probes and corpus units, as JSON."""
    sys.path.insert(0, str(PROJECT))
    from gitops_lint.cel import apply_defaults

    rules: list[str] = []
    instances: list[dict] = []
    index: dict[tuple, int] = {}
    newest: dict[str, int] = {}
    for site in sites:
        rule = site["entry"]["rule"]
        if rule not in rules:
            rules.append(rule)
        key = (rule, json.dumps(site["schema"], sort_keys=True))
        if key not in index:
            index[key] = len(instances)
            instances.append({"rule": rules.index(rule), "schema": site["schema"],
                              "transition": "oldSelf" in rule})
        site["instance"] = index[key]
        newest[rule] = index[key]  # sites are in release order: the last one is the newest

    units: list[dict] = []  # {"instance", "value", "source", "expected"}
    missing_cases = [r for r in rules if r not in CASES]
    for rule, cases in CASES.items():
        if rule not in newest:
            continue
        inst = instances[newest[rule]]
        for value, expected in cases:
            units.append({"instance": newest[rule], "value": apply_defaults(inst["schema"], value),
                          "source": "case", "expected": expected})
    for rule, value, expected, _ in PROBES:
        if rule not in rules:
            rules.append(rule)
        instances.append({"rule": rules.index(rule), "schema": _probe_schema(value), "transition": False})
        units.append({"instance": len(instances) - 1, "value": value, "source": "probe", "expected": expected})

    groups = {s["group"] for s in sites}
    objects = corpus_objects(CORPUS, groups) if CORPUS.is_dir() else []
    served: dict[tuple, dict[str, list]] = {}  # (group, version, kind) -> release -> sites
    for site in sites:
        served.setdefault((site["group"], site["version"], site["kind"]), {}).setdefault(site["release"], []) \
            .append(site)
    corpus_stats = {"objects": len(objects), "objects_with_rules": 0, "substituted_units": 0}
    for obj in objects:
        group, _, version = obj["apiVersion"].partition("/")
        releases = served.get((group, version, obj["kind"]))
        if not releases:
            continue
        release = max(releases, key=lambda r: int(r.split(".")[1]))  # the newest release serving it
        touched = False
        for site in releases[release]:
            for value in nodes_at(obj, site["path"]):
                touched = True
                substituted = has_substitution(value)
                corpus_stats["substituted_units"] += substituted
                units.append({"instance": site["instance"], "source": "corpus", "expected": None,
                              "value": apply_defaults(site["schema"], value), "substituted": substituted})
        corpus_stats["objects_with_rules"] += touched
    units.extend(mutations(units, rules, instances, apply_defaults))
    return {"rules": rules, "instances": instances, "units": units, "missing_cases": missing_cases,
            "corpus": corpus_stats, "sites": len(sites)}


def mutations(units: list[dict], rules: list[str], instances: list[dict], apply_defaults) -> list[dict]:
    """Near misses of the corpus values: each field a rule reads dropped, added, or set to the rule's literals.

    The corpus is valid as deployed, so this is where realistic violating objects come from.
    Added fields take their value from the rule's hand cases.
    """
    import re

    out: list[dict] = []
    seen: set[tuple] = set()
    for unit in [u for u in units if u["source"] == "corpus" and isinstance(u["value"], dict)]:
        inst = instances[unit["instance"]]
        rule = rules[inst["rule"]]
        paths = sorted({tuple(m.group(1).split(".")[1:]) for m in re.finditer(r"self((?:\.\w+)+)", rule)})
        literals = sorted(set(re.findall(r"'([^']*)'", rule)))
        samples = [v for v, _ in CASES.get(rule, [])]
        variants = []
        for path in paths:
            present = _get(unit["value"], path)
            if present is not None:
                variants.append(_set(unit["value"], path, None))
                if isinstance(present, str):
                    variants.extend(_set(unit["value"], path, lit) for lit in literals if lit != present)
            else:
                sample = next((x for x in (_get(v, path) for v in samples) if x is not None), None)
                if sample is not None:
                    variants.append(_set(unit["value"], path, sample))
        for variant in variants:
            if variant is None:
                continue
            value = apply_defaults(inst["schema"], variant)
            key = (unit["instance"], json.dumps(value, sort_keys=True, default=str))
            if key in seen:
                continue
            seen.add(key)
            out.append({"instance": unit["instance"], "value": value, "source": "mutation", "expected": None,
                        "substituted": has_substitution(value)})
    return out


def _get(value: Any, path: tuple) -> Any:
    for step in path:
        if not isinstance(value, dict):
            return None
        value = value.get(step)
    return value


def _set(value: dict, path: tuple, new: Any) -> dict | None:
    """A copy of `value` with `path` set to `new` (None: removed); None when the parents are missing."""
    if not path:
        return None
    head, rest = path[0], path[1:]
    copy = dict(value)
    if not rest:
        if new is None:
            copy.pop(head, None)
        else:
            copy[head] = new
        return copy
    child = value.get(head)
    if not isinstance(child, dict):
        return None
    inner = _set(child, rest, new)
    if inner is None:
        return None
    copy[head] = inner
    return copy


def _probe_schema(value: Any) -> dict:
    """A JSON schema for a probe value (only cel-bind needs one)."""
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, str):
        return {"type": "string"}
    if isinstance(value, list):
        return {"type": "array", "items": _probe_schema(value[0]) if value else {"type": "string"}}
    if isinstance(value, dict):
        props = {k: _probe_schema(v) for k, v in value.items()}
        for extra in ("sts", "a", "provider", "name", "labels", "count"):
            props.setdefault(extra, {"type": "object", "properties": {"b": {"type": "string"}}}
                             if extra in ("sts", "a") else {"type": "string"})
        return {"type": "object", "properties": props}
    return {"type": "string"}


def install(name: str, requirement: str, where: Path, reuse: bool) -> dict:
    target = where / name
    if reuse and target.is_dir() and any(target.glob("*.dist-info")):
        seconds = None
    else:
        shutil.rmtree(target, ignore_errors=True)
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-cache-dir",
                               "--disable-pip-version-check", "--target", str(target), requirement],
                              capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            return {"ok": False, "error": proc.stderr.strip().splitlines()[-1:] or ["pip failed"]}
    size = sum(f.stat().st_size for f in target.rglob("*") if f.is_file() and "__pycache__" not in f.parts)
    dists = sorted(p.name.split("-")[0] for p in target.glob("*.dist-info"))
    native = any(target.rglob("*.so")) or any(target.rglob("*.pyd"))
    return {"ok": True, "seconds": seconds, "bytes": size, "dists": dists, "native": native, "path": str(target)}


def cold_import(module: str, pythonpath: str | None, runs: int, preamble: str = "") -> dict:
    """Import time and added RSS in fresh interpreters (median of `runs`); `preamble` runs first, untimed."""
    # VmRSS, not ru_maxrss: a child's ru_maxrss starts at its parent's high-water mark on Linux.
    code = ("import time\n"
            "def rss():\n"
            "    for line in open('/proc/self/status'):\n"
            "        if line.startswith('VmRSS:'):\n"
            "            return int(line.split()[1])\n"
            "    return 0\n"
            "{pre}before = rss(); t = time.perf_counter(); import {m}; t = time.perf_counter() - t\n"
            "print(t, rss() - before)\n").format(m=module, pre=preamble)
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: from .pyc, not from source
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, env=env)  # writes .pyc
    times, rss = [], []
    for _ in range(runs):
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            return {"ok": False, "error": (proc.stderr.strip().splitlines() or ["import failed"])[-1]}
        seconds, kib = proc.stdout.split()
        times.append(float(seconds))
        rss.append(int(kib))
    return {"ok": True, "first": times[0], "median": statistics.median(times), "min": min(times),
            "rss_mib": statistics.median(rss) / 1024}


def run_worker(name: str, pythonpath: str | None, workload_file: Path) -> dict:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    proc = subprocess.run([sys.executable, __file__, "--worker", name, "--workload", str(workload_file)],
                          capture_output=True, text=True, env=env, timeout=900)
    if proc.returncode != 0:
        return {"ok": False, "error": (proc.stderr.strip().splitlines() or ["worker failed"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=Path, help="install folder to create or reuse (default: a temp folder)")
    parser.add_argument("--only", nargs="*", help="candidates to measure")
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per import measurement")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--workload", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, json.loads(args.workload.read_text()))))
        return 0
    if not CRDS.is_dir():
        print(f"no CRDs at {CRDS}: nothing to measure")
        return 0

    sites = load_rule_sites(CRDS)
    workload = build_workload(sites)
    units = workload["units"]
    n_case = sum(u["source"] == "case" for u in units)
    n_probe = sum(u["source"] == "probe" for u in units)
    n_corpus = sum(u["source"] == "corpus" for u in units)
    n_mutation = sum(u["source"] == "mutation" for u in units)
    distinct_flux = len({s["entry"]["rule"] for s in sites})
    print(f"CRD rules: {workload['sites']} sites, {distinct_flux} distinct rules "
          f"({sum('oldSelf' in s['entry']['rule'] for s in sites)} transition sites); "
          f"{n_case} hand cases, {n_probe} semantics probes")
    if workload["missing_cases"]:
        print("rules without hand cases:", *workload["missing_cases"], sep="\n  ")
    c = workload["corpus"]
    print(f"corpus: {c['objects']} Flux objects, {c['objects_with_rules']} with a rule node, "
          f"{n_corpus} (rule, value) evaluations, {c['substituted_units']} of them on values holding ${{...}}; "
          f"{n_mutation} near-miss mutations of those values")

    keep = args.keep
    tmp = None if keep else tempfile.TemporaryDirectory(prefix="cel-candidates-")
    where = keep or Path(tmp.name)
    where.mkdir(parents=True, exist_ok=True)
    workload_file = where / "workload.json"
    workload_file.write_text(json.dumps(workload))

    names = args.only or list(CANDIDATES)
    report: dict[str, dict] = {}
    for name in names:
        requirement, module, note = CANDIDATES[name]
        row: dict[str, Any] = {"note": note}
        if requirement is None:
            own = PROJECT / (module.replace(".", "/") + ".py")
            row["install"] = {"ok": True, "seconds": 0.0, "bytes": own.stat().st_size, "dists": [],
                              "native": False}
            pythonpath = str(PROJECT)
        else:
            print(f"installing {requirement} ...", flush=True)
            row["install"] = install(name, requirement, where, reuse=keep is not None)
            pythonpath = row["install"].get("path")
        if row["install"]["ok"]:
            row["import"] = cold_import(module, pythonpath, args.runs)
            row["import_marginal"] = cold_import(module, pythonpath, args.runs, preamble=TOOL_PREAMBLE)
            row["work"] = run_worker(name, pythonpath, workload_file)
        report[name] = row
    if tmp is not None:
        tmp.cleanup()
    print_report(report, workload)
    return 0


def _fmt_bytes(n: int) -> str:
    return f"{n / 1024:.0f} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MiB"


def print_report(report: dict, workload: dict) -> None:
    units = workload["units"]
    reference = report.get(REFERENCE, {}).get("work", {}).get("results") if REFERENCE in report else None
    print()
    header = ("candidate", "install", "size", "deps", "import alone (first)", "in tool", "+RSS", "compile/rule",
              "eval/unit", "corpus pass", "cases ok", "probes ok", "corpus+mut. vs ref")
    rows = [header]
    details: list[str] = []
    for name, row in report.items():
        inst = row["install"]
        if not inst["ok"]:
            rows.append((name, "FAILED", "", "", "", "", "", "", "", "", "", "", ""))
            details.append(f"{name}: install failed: {inst['error']}")
            continue
        imp, work = row.get("import", {}), row.get("work", {})
        install_s = "-" if inst["seconds"] in (None, 0.0) else f"{inst['seconds']:.1f} s"
        deps = str(max(len(inst["dists"]) - 1, 0)) + (" +native" if inst["native"] else "")
        imp_s = f"{imp['median'] * 1000:.1f} ms ({imp['first'] * 1000:.0f})" if imp.get("ok") else "FAILED"
        rss = f"{imp['rss_mib']:.1f} MiB" if imp.get("ok") else ""
        marginal = row.get("import_marginal", {})
        imp_s = (imp_s, f"{marginal['median'] * 1000:.1f} ms" if marginal.get("ok") else "FAILED")
        if not work.get("ok", True) or "results" not in work:
            rows.append((name, install_s, _fmt_bytes(inst["bytes"]), deps, *imp_s, rss, "worker failed",
                         "", "", "", "", ""))
            details.append(f"{name}: worker failed: {work.get('error')}")
            continue
        results = work["results"]
        case_ok = probe_ok = n_case = n_probe = 0
        agree = compared = 0
        wrong: list[str] = []
        for i, (unit, got) in enumerate(zip(units, results)):
            rule = workload["rules"][workload["instances"][unit["instance"]]["rule"]]
            if unit["source"] == "case":
                n_case += 1
                if got == unit["expected"]:
                    case_ok += 1
                else:
                    wrong.append(f"  case  {rule}\n        on {json.dumps(unit['value'])[:150]}: "
                                 f"{got}, API server: {unit['expected']}")
            elif unit["source"] == "probe":
                n_probe += 1
                if got == unit["expected"]:
                    probe_ok += 1
                else:
                    wrong.append(f"  probe {rule} on {json.dumps(unit['value'])}: {got}, CEL: {unit['expected']}")
            elif reference is not None and name != REFERENCE and got != "unknown" and not unit.get("substituted"):
                compared += 1
                ref = reference[i]
                if got == ref or (ref == "error" and got in ("error", "unsupported")):
                    agree += 1
                elif len(wrong) < 40:
                    wrong.append(f"  {unit['source']} {rule}\n        on {json.dumps(unit['value'])[:150]}: {got}, "
                                 f"{REFERENCE}: {ref}")
        corpus = [r for u, r in zip(units, results) if u["source"] == "corpus"]
        mutated = [r for u, r in zip(units, results) if u["source"] == "mutation"]
        tally = {s: corpus.count(s) for s in ("passed", "failed", "error", "unsupported", "unknown") if s in corpus}
        mtally = {s: mutated.count(s) for s in ("passed", "failed", "error", "unsupported", "unknown")
                  if s in mutated}
        vs_ref = "reference" if name == REFERENCE else (f"{agree}/{compared}" if compared else "-")
        rows.append((name, install_s, _fmt_bytes(inst["bytes"]), deps, *imp_s, rss,
                     f"{work['compile_us']:.0f} us" + (f" ({work['compile_failures']} fail)"
                                                       if work["compile_failures"] else ""),
                     f"{work['eval_us']:.1f} us", f"{tally.get('passed', 0)}/{len(corpus)}",
                     f"{case_ok}/{n_case}", f"{probe_ok}/{n_probe}", vs_ref))
        details.append(f"{name} ({row['note']}): corpus {tally}; mutations {mtally}; corpus pass in one go "
                       f"{work['corpus_ms']:.1f} ms; dependencies: {', '.join(inst['dists']) or 'none'}")
        details.extend(wrong[:60])
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(header))]
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
    print()
    print("\n".join(details))


# =========================================================================== worker side (one candidate)


def worker(name: str, workload: dict) -> dict:
    """Compile every rule and evaluate every unit with one backend; statuses and timings as JSON."""
    backend = BACKENDS[name]()
    rules, instances, units = workload["rules"], workload["instances"], workload["units"]

    programs: dict[int, Any] = {}
    compile_times: list[float] = []
    failures = 0
    for i, inst in enumerate(instances):
        rule = rules[inst["rule"]]
        best = None
        for _ in range(5):
            backend.reset()
            started = time.perf_counter()
            try:
                program = backend.compile(rule, inst["schema"])
            except Exception as exc:  # noqa: BLE001
                program = ("compile-error", f"{type(exc).__name__}: {exc}")
            elapsed = time.perf_counter() - started
            best = elapsed if best is None else min(best, elapsed)
        compile_times.append(best)
        if isinstance(program, tuple) and program and program[0] == "compile-error":
            failures += 1
        programs[i] = program

    def run(unit: dict) -> str:
        program = programs[unit["instance"]]
        if isinstance(program, tuple) and program and program[0] == "compile-error":
            return "unsupported"
        if instances[unit["instance"]]["transition"]:
            return "skipped"
        try:
            return backend.evaluate(program, unit["value"])
        except Exception:  # noqa: BLE001
            return "error"

    results = [run(u) for u in units]
    corpus = [u for u in units if u["source"] == "corpus"]
    best_total, best_corpus = None, None
    for _ in range(5):
        started = time.perf_counter()
        for u in units:
            run(u)
        total = time.perf_counter() - started
        started = time.perf_counter()
        for u in corpus:
            run(u)
        corpus_total = time.perf_counter() - started
        best_total = total if best_total is None else min(best_total, total)
        best_corpus = corpus_total if best_corpus is None else min(best_corpus, corpus_total)
    return {"ok": True, "results": results, "compile_us": statistics.mean(compile_times) * 1e6,
            "compile_failures": failures, "eval_us": best_total / max(len(units), 1) * 1e6,
            "corpus_ms": best_corpus * 1000}


class _Backend:
    def reset(self) -> None:
        """Forget compile caches, so each compile is measured cold."""

    def compile(self, rule: str, schema: dict) -> Any:
        raise NotImplementedError

    def evaluate(self, program: Any, value: Any) -> str:
        raise NotImplementedError


class _Celpy(_Backend):
    def __init__(self):
        import celpy

        self.celpy = celpy
        self.env = celpy.Environment()

    def compile(self, rule, schema):
        return self.env.program(self.env.compile(rule))

    def evaluate(self, program, value):
        try:
            result = program.evaluate({"self": self.celpy.json_to_cel(value)})
        except self.celpy.CELEvalError:
            return "error"
        if isinstance(result, self.celpy.CELEvalError):
            return "error"
        return _boolean(result)


class _CelExpr(_Backend):
    def __init__(self):
        from cel_expr_python import cel

        self.cel = cel
        self.env = cel.NewEnv(variables={"self": cel.Type.DYN})

    def compile(self, rule, schema):
        return self.env.compile(rule)

    def evaluate(self, program, value):
        result = program.eval(data={"self": value})
        if result.type() == self.cel.Type.ERROR:
            return "error"
        return _boolean(result.value())


class _RustCel(_Backend):
    def __init__(self):
        import cel

        self.cel = cel

    def compile(self, rule, schema):
        return self.cel.compile(rule)

    def evaluate(self, program, value):
        try:
            return _boolean(program.execute({"self": value}))
        except Exception:  # noqa: BLE001 - it raises KeyError, ValueError, RuntimeError, ...
            return "error"


class _CelBind(_Backend):
    """Typed like Kubernetes: `self` is declared with the rule's schema node (as a proto message)."""

    def __init__(self):
        import cel

        self.cel = cel
        self.count = 0

    def compile(self, rule, schema):
        pool = self.cel.DescriptorPool()
        self.count += 1
        env = {"self": _cel_bind_type(self.cel, pool, schema, f"node{self.count}")}
        checked = self.cel.Compiler(pool, env, None).compile_to_checked_expr(rule)
        interpreter = self.cel.Interpreter(pool, env, None)
        return interpreter, interpreter.build_expression_plan(checked)

    def evaluate(self, program, value):
        interpreter, plan = program
        try:
            return _boolean(interpreter.evaluate(plan, {"self": value}))
        except Exception:  # noqa: BLE001
            return "error"


def _cel_bind_type(cel, pool, schema: dict, name: str):
    kind = schema.get("type")
    simple = {"string": cel.StringType, "integer": cel.IntType, "boolean": cel.BoolType, "number": cel.DoubleType}
    if kind in simple:
        return simple[kind]()
    if kind == "array":
        return cel.ListType(_cel_bind_type(cel, pool, schema.get("items") or {"type": "string"}, name + "i"))
    node = dict(schema, type="object")
    return pool.add_json_schema(name, json.dumps(node))


class _Celparser(_Backend):
    def __init__(self):
        import celparser

        self.celparser = celparser

    def compile(self, rule, schema):
        return self.celparser.compile(rule)

    def evaluate(self, program, value):
        try:
            return _boolean(program({"self": value}))
        except Exception:  # noqa: BLE001
            return "error"


class _Own(_Backend):
    def __init__(self):
        from gitops_lint import cel

        self.cel = cel

    def reset(self):
        self.cel._compile_entry.cache_clear()
        self.cel._compile_text.cache_clear()

    def compile(self, rule, schema):
        compiled = self.cel.compile_rule({"rule": rule})
        if compiled.unsupported and not compiled.is_transition:
            raise ValueError(compiled.unsupported)
        return compiled

    def evaluate(self, program, value):
        return self.cel.evaluate(program, value).status


def _boolean(value: Any) -> str:
    if value is True or (type(value).__name__ == "BoolType" and bool(value)):
        return "passed"
    if value is False or (type(value).__name__ == "BoolType" and not bool(value)):
        return "failed"
    return "error"


BACKENDS = {"cel-python": _Celpy, "cel-expr-python": _CelExpr, "common-expression-language": _RustCel,
            "cel-bind": _CelBind, "celparser": _Celparser, "gitops_lint.cel": _Own}


if __name__ == "__main__":
    sys.exit(main())
