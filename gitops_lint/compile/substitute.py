"""`compile --substitute`: Flux post-build variables resolved where their value is certain.

kustomize-controller substitutes `${...}` expressions in every object a
Kustomization builds, with the variables of its `spec.postBuild` (the inline
`substitute` map overriding `substituteFrom`), and only when it has at least
one variable. We replace an expression only when its value is the same under
every Kustomization that applies the file and is known from the repository:

* `${VAR}`, `${VAR:=default}`, `${VAR:-default}`, `${VAR=default}` (the forms with a
  default that fluxcd/pkg envsubst parses; it refuses `${VAR-default}`); other operators
  stay as written;
* a variable missing from `substitute` is unknown when `substituteFrom` is set
  (its value is in a ConfigMap or Secret of the cluster); without it, the default
  applies (with no variable at all, only under `substituteStrategy: Always`), and an expression with no default stays as written with a warning
  (Flux would write an empty string, which is rarely what was meant);
* `$${VAR}` is Flux's escape for a literal `${VAR}`: kept as written, so the output
  still means the same when Flux builds it;
* objects labelled or annotated `kustomize.toolkit.fluxcd.io/substitute: disabled` are left alone.

As in Flux, which substitutes the YAML text kustomize writes and parses the result
again (fluxcd/flux2#4154): a one-line string is written plain whenever it can be,
whatever quotes it had in the source, so what it becomes is read as YAML. `${N}`
with `N: "3"` becomes the number 3, `yes` a boolean, an empty value null, `a #b`
just `a`, quoted or not; multi-line strings (written as blocks) stay strings.
Where the result would read as a list or mapping, or not at all, the expression
stays as written with a warning. Line breaks in values are dropped, as Flux does.

A value holding `$` stays unresolved: Flux substitutes the compiled output again
when it builds it, so `${OTHER}` or `$$` in a value would not mean what it says,
and compiling twice would not give the same bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from gitops_lint.yaml.loader import Document
from gitops_lint.yaml.positions import DataPath

from gitops_lint.view import substitute as view_substitute
from gitops_lint.view.substitute import TOKEN_RE as _TOKEN_RE

_NESTED_RE = re.compile(r"\$\{[^}]*\$\{")


@dataclass(frozen=True, slots=True)
class Variables:
    """One Kustomization's post-build variables as far as the repository tells them."""

    #: Who sets them (`Kustomization/ns/name`), for messages.
    owner: str
    values: dict[str, str]
    #: `substituteFrom` is set: a variable not in `values` may still have a value.
    open_ended: bool
    #: The Kustomization has no post-build variables: Flux leaves every expression as written.
    literal: bool = False


@dataclass(slots=True)
class Substitution:
    data: Any
    #: (path, message): expressions left as written, and why.
    notes: list[tuple[DataPath, str]] = field(default_factory=list)


def variables_of(kustomization: Any, data: Any = None) -> Variables:
    """The post-build variables of a Flux Kustomization (`literal` when it substitutes nothing), from `data`
    (the Kustomization as the cluster gets it, its own variables substituted by its parent) or as written."""
    data = kustomization.doc.data if data is None else data
    spec = data.get("spec") if isinstance(data, dict) else None
    post_build = spec.get("postBuild") if isinstance(spec, dict) else None
    if not isinstance(post_build, dict):
        return Variables(kustomization.ref, {}, False, literal=True)
    inline = post_build.get("substitute")
    # Flux drops line breaks from values: a value never splits the line it lands on.
    values = {str(k): _text(v).replace("\n", "") for k, v in inline.items()} if isinstance(inline, dict) else {}
    open_ended = bool(post_build.get("substituteFrom"))
    if not values and not open_ended and not view_substitute.substitutes_always(post_build):
        return Variables(kustomization.ref, {}, False, literal=True)
    return Variables(kustomization.ref, values, open_ended)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


class Unknown(Exception):
    """An expression whose value the repository does not tell."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _evaluate(expression: str, variables: Variables) -> str:
    """The view's evaluation (one rule for what an expression means), with the reason compile reports."""
    if variables.literal:
        return f"${{{expression}}}"
    try:
        return view_substitute.evaluate(expression, variables)
    except view_substitute.Unknown as exc:
        if exc.name is None:
            raise Unknown(f"${{{expression}}} uses an operator gitops-lint does not evaluate") from None
        if exc.maybe_set:
            raise Unknown(f"${{{exc.name}}} may be set by substituteFrom of {variables.owner}") from None
        raise Unknown(f"${{{exc.name}}} is not set by {variables.owner} (Flux would substitute an empty "
                      "string)") from None


def substitute_text(text: str, variables: list[Variables]) -> str:
    """`text` with every expression replaced; `Unknown` when any one cannot be."""
    if _NESTED_RE.search(text.replace("$$", "")):
        raise Unknown("nested ${...} expressions are not evaluated")

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$$"
        results = {_evaluate(match.group(1), v) for v in variables}
        if len(results) > 1:
            owners = ", ".join(v.owner + (" (no postBuild variables)" if v.literal else "") for v in variables)
            raise Unknown(f"{match.group(0)} has different values under {owners}")
        value = results.pop()
        if "$" in value and value != match.group(0):
            # Flux substitutes the built output again: `$` in a value would be read a second time there.
            raise Unknown(f"{match.group(0)}: its value holds `$`, which Flux would substitute again")
        return value

    return _TOKEN_RE.sub(replace, text)


def substitute_document(doc: Document, data: Any, variables: list[Variables]) -> Substitution:
    """`data` (the document's, possibly normalized already) with the known expressions replaced."""
    result = Substitution(data)
    if all(v.literal for v in variables) or view_substitute.disabled(data):
        return result
    def walk(value: Any, path: DataPath) -> Any:
        if isinstance(value, dict):
            return {walk_key(k, path): walk(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, (*path, i)) for i, v in enumerate(value)]
        if isinstance(value, str) and "${" in value:
            try:
                text = substitute_text(value, variables)
            except Unknown as exc:
                result.notes.append((path, exc.reason))
                return value
            if "\n" in value or not written_plain(value):
                return text  # a block, or quoted even in kustomize's output: a string
            try:
                return read_plain(text)
            except Unknown as exc:
                result.notes.append((path, exc.reason))
                return value
        return value

    def walk_key(key: Any, path: DataPath) -> Any:
        if isinstance(key, str) and "${" in key:
            try:
                return substitute_text(key, variables)
            except Unknown as exc:
                result.notes.append((path, exc.reason))
        return key

    result.data = walk(data, ())
    return result


def written_plain(text: str) -> bool:
    """Whether a one-line string is written without quotes (by kustomize's writer, as by ours)."""
    from gitops_lint.compile.emit import dump

    return dump({"k": text}) == f"k: {text}\n"


def read_plain(text: str) -> Any:
    """What `text`, written as a plain scalar, reads as (number, boolean, null or string); `Unknown`
    when it would read as a list or mapping, or not at all (the view's reading, one rule for both)."""
    ok, value = view_substitute.plain_scalar(text)
    if not ok:
        raise Unknown(f"{text!r} would not read back as one value once substituted")
    return value


def variables_by_file(resolutions: list[Any]) -> dict[str, list[Variables]]:
    """Per file a Flux Kustomization applies (`graph.resolve_paths`), the variables of each one applying it."""
    out: dict[str, list[Variables]] = {}
    for resolution in sorted(resolutions, key=lambda r: (r.kustomization.path, r.kustomization.doc.span.line)):
        variables = variables_of(resolution.kustomization, resolution.data)
        for rel in dict.fromkeys(resolution.files):
            out.setdefault(rel, []).append(variables)
    return out
