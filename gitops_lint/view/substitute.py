"""Flux's post-build substitution as the view needs it: `${...}` replaced where the value is known.

kustomize-controller substitutes the text of every object a Kustomization
builds when `spec.postBuild` sets variables (`substitute`, `substituteFrom`),
then reads that text again as YAML. Here each string holding an expression is
replaced when every variable in it is known; a one-line result is read again as
a plain YAML scalar would be (`${SUSPEND:=false}` becomes the boolean false),
which is what the API server then receives. A variable whose value the
repository does not tell (a ConfigMap or Secret not committed, SOPS-encrypted
values) leaves its expression as written: unknown, never an error by itself.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

#: `$$` (an escaped dollar) or one `${...}` expression.
TOKEN_RE = re.compile(r"\$\$|\$\{([^{}]*)\}")
#: The forms fluxcd/pkg envsubst parses with a default: `${VAR}`, `${VAR:=default}`, `${VAR:-default}`,
#: `${VAR=default}` (its parser refuses `${VAR-default}`: "missing closing brace"; not evaluated here).
EXPRESSION_RE = re.compile(r"^(?P<name>[_A-Za-z][_A-Za-z0-9]*)(?:(?P<op>:[=-]|=)(?P<default>.*))?$", re.S)
DISABLED_KEY = "kustomize.toolkit.fluxcd.io/substitute"


@dataclass(slots=True)
class Variables:
    """What one Kustomization substitutes, as far as the repository tells."""

    values: dict[str, str] = field(default_factory=dict)
    #: Some variables come from ConfigMaps or Secrets whose values are not known here.
    open_ended: bool = False
    #: No `postBuild` variables at all: Flux substitutes nothing.
    literal: bool = True
    #: The values read from Secrets: a finding quoting a substituted value never prints them.
    secret: set[str] = field(default_factory=set)


class Unknown(Exception):
    """An expression whose value the repository does not tell: `name` is the variable (None when the
    expression uses an operator not evaluated here), `maybe_set` when substituteFrom may hold it."""

    def __init__(self, name: str | None, maybe_set: bool = False) -> None:
        super().__init__(name)
        self.name, self.maybe_set = name, maybe_set


def evaluate(expression: str, variables: Any) -> str:
    """One `${...}` expression (without `${` and `}`) with `variables` (`.values`, `.open_ended`)."""
    match = EXPRESSION_RE.match(expression)
    if match is None:
        raise Unknown(None)
    name, op, default = match.group("name"), match.group("op"), match.group("default")
    if name in variables.values:
        value = variables.values[name]
        if op is not None and value == "":
            return default  # every default form takes it for an empty value too (fluxcd/pkg envsubst toDefault)
        return value
    if variables.open_ended:
        raise Unknown(name, maybe_set=True)
    if op is not None:
        return default
    raise Unknown(name)  # Flux writes an empty string; judged as unknown rather than guessed


def substitute_text(text: str, variables: Variables) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return evaluate(match.group(1), variables)

    return TOKEN_RE.sub(replace, text)


def disabled(data: Any) -> bool:
    metadata = data.get("metadata") if isinstance(data, dict) else None
    if not isinstance(metadata, dict):
        return False
    return any(isinstance(m, dict) and m.get(DISABLED_KEY) == "disabled"
               for m in (metadata.get("labels"), metadata.get("annotations")))


def substitute(data: Any, variables: Variables) -> tuple[Any, bool]:
    """(`data` with known expressions replaced, whether any stayed unknown); unchanged parts are shared."""
    if variables.literal or disabled(data):
        return data, False
    unknown: list[bool] = []
    return _substituted(data, variables, unknown), bool(unknown)


def _substituted(value: Any, variables: Variables, unknown: list[bool]) -> Any:
    """A function of its own, not a closure: a recursive closure is a reference cycle, and with the
    collector off for the run, each call's would stay in memory to the end."""
    if isinstance(value, dict):
        out = {}
        changed = False
        for k, v in value.items():
            new = _substituted(v, variables, unknown)
            changed = changed or new is not v
            out[k] = new
        return out if changed else value
    if isinstance(value, list):
        items = [_substituted(v, variables, unknown) for v in value]
        return items if any(a is not b for a, b in zip(items, value)) else value
    if isinstance(value, str) and "${" in value:
        try:
            text = substitute_text(value, variables)
        except Unknown:
            unknown.append(True)
            return value
        return text if "\n" in value else read_plain(text)
    return value


@functools.lru_cache(maxsize=1 << 16)
def plain_scalar(text: str) -> tuple[bool, Any]:
    """(True, value) for what a one-line text reads as once Flux parses the substituted YAML again
    (number, boolean, null or string); (False, None) when it would read as a list, a mapping or not at all.
    Memoised: substituted values repeat across objects, and each answer is a parse. kustomize-controller
    reads the substituted text with sigs.k8s.io/yaml (go-yaml v2): YAML 1.1's scalars, `y` a boolean."""
    from gitops_lint.yaml.loader import GO_YAML_V2, load_text

    source = load_text(f"- {text}\n", reader=GO_YAML_V2)
    data = source.documents[0].data if len(source.documents) == 1 and not source.problems else None
    source.documents.clear()  # a file and its documents refer to each other: let this one go now
    if not (isinstance(data, list) and len(data) == 1) or isinstance(data[0], (dict, list)):
        return False, None
    return True, data[0]


def read_plain(text: str) -> Any:
    """`plain_scalar`'s value; text that would read as a list or mapping stays a string."""
    ok, value = plain_scalar(text)
    return value if ok else text


def substitutes_always(post_build: dict) -> bool:
    """`substituteStrategy: Always` (Flux 2.9): kustomize-controller substitutes even without any variable,
    so `${VAR:=default}` takes its default (fluxcd/pkg kustomize_varsub.go: `len(vars) > 0 || Always`)."""
    return post_build.get("substituteStrategy") == "Always"
