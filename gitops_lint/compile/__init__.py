"""`gitops-lint compile`: every GitOps object of a repository in one canonical form.

`compile_repo` is pure (files and model in, texts out); `tree` writes, checks and
diffs the output folder. Per input file that holds objects, one output file at
the same relative path, its documents separated by `---`, each preceded by
`# Source: <path>:<line>`. Per object:

* keys in Kubernetes' conventional order (`normalize.ordered_object`), deeper keys sorted;
* `metadata.namespace` made explicit where Flux would set it: the `spec.targetNamespace`
  of the Flux Kustomizations applying the file (when they agree), else the `namespace:`
  every kustomize build including it gives it (`kustomize_namespaces`); never on the
  kinds other objects name with a namespace (`NAMED_WITH_NAMESPACE`);
* Flux apiVersions moved to the target release's storage version when nothing blocks it
  (`migrate.plan`; what blocks it becomes an error and the object keeps its version);
* Flux duration fields in Go's `Duration.String()` form (`10m` -> `10m0s`);
* schema defaults of the written version filled in (`explicit`) or dropped (`omit`);
* comments dropped; `${VAR}` substitutions kept as written unless asked;
* SOPS-encrypted documents copied byte for byte (their MAC covers what they say);
* with `variables` (`--substitute`), `${VAR}` replaced where its value is certain
  (`substitute.py`).

Objects no input file holds (`generated`: legacy migration, the agent's objects)
are normalized the same way; their header carries a note, `# Source: <path>:<line>
(<note>)`, naming what they were made from.

Files kustomize reads as input rather than as resources (patch files, generator
`files:`/`envs:`, `helmCharts` values files, ...), and files a kustomization names
as resources that hold no object (bootstrap placeholders), are copied unchanged so
every kustomization still builds; so are the files kustomize reads that are no YAML
(`.env`, `.properties`, JSON, certificates), read from disk through `read`. Files that
cannot be read whole (a syntax error, bytes that are not UTF-8, a merge conflict) are
copied unchanged too, and reported. Other files with no object (Helm values, CI files,
templates) are left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gitops_lint.compile.agent_objects import GeneratedDocument
from gitops_lint.compile.emit import dump
from gitops_lint.compile.migrate import plan
from gitops_lint.compile.normalize import (
    DEFAULT_MODES,
    apply_object_schema,
    ordered_object,
    sorted_deep,
    with_namespace,
)
from gitops_lint.compile.origin import HEADER_RE, LINE_RE, header, header_of
from gitops_lint.compile.substitute import Variables, substitute_document
from gitops_lint.compile.tree import MARKER, CompileError, check_tree, diff_tree, stream, write_tree
from gitops_lint.discover import repository_reader  # noqa: F401 - compile's public name for it
from gitops_lint.model import Model
from gitops_lint.model.kubernetes import is_generated
from gitops_lint.model.kustomize import as_list
from gitops_lint.yaml.loader import (
    CONFLICT_MARKER,
    INCOMPLETE,
    TEMPLATE,
    Document,
    SourceFile,
    load_text,
)

__all__ = [
    "MARKER",
    "CompileError",
    "CompileResult",
    "GeneratedDocument",
    "Variables",
    "check_tree",
    "compile_context",
    "compile_repo",
    "diff_tree",
    "stream",
    "write_tree",
]

#: Load problems after which a file's documents are incomplete: compiling the rest would drop objects silently.

#: A file's bytes by its relative path (None when there is no such regular file in the repository).
Reader = Callable[[str], "bytes | None"]


@dataclass(slots=True)
class CompileResult:
    #: Relative path -> what to write, sorted by path: text, or bytes copied as they are.
    outputs: dict[str, str | bytes] = field(default_factory=dict)
    #: (relative path, line, message): objects that could not be compiled as asked, files that could not be read.
    errors: list[tuple[str, int, str]] = field(default_factory=list)
    #: (relative path, line, message): what was compiled, but not as fully as asked (`${VAR}` left as written).
    warnings: list[tuple[str, int, str]] = field(default_factory=list)
    #: Outputs copied for a secretGenerator: every value in them is secret (`--diff` never shows them).
    secret_files: frozenset[str] = frozenset()


def compile_repo(files: list[SourceFile], model: Model, *, flux_version: str | None = None,
                 defaults: str = "omit", variables: dict[str, list[Variables]] | None = None,
                 generated: dict[str, list[GeneratedDocument]] | None = None,
                 target_namespaces: dict[str, str] | None = None, read: Reader | None = None,
                 without_gitops: frozenset[str] = frozenset()) -> CompileResult:
    """Compile the loaded files (with their model) for Flux `flux_version`; no I/O but `read`.

    `variables`: per file, the post-build variables of each Kustomization that applies
    it (`--substitute`); `generated`: output path -> objects no input file holds;
    `target_namespaces`: per file, the `targetNamespace` every Kustomization applying it sets;
    `read`: the bytes of a repository file, for what must be copied but was not loaded as text;
    `without_gitops`: agent configs whose legacy `gitops` section a migration replaced (left out).
    """
    from gitops_lint.schema_index import flux_releases, newest_flux_release

    flux_version = flux_version or newest_flux_release()
    if defaults not in DEFAULT_MODES:
        raise ValueError(f"defaults must be one of {', '.join(DEFAULT_MODES)}, not {defaults!r}")
    if flux_version not in flux_releases():
        raise ValueError(f"unknown Flux version {flux_version!r} (supported: {', '.join(flux_releases())})")
    compiler = _Compiler(files, model, flux_version, defaults, variables or {}, result := CompileResult(),
                         read or (lambda rel: None))
    compiler.target_namespaces = target_namespaces or {}
    compiler.without_gitops = without_gitops
    for source in sorted(files, key=lambda f: f.rel):
        text = compiler.file(source)
        if text is not None:
            result.outputs[output_name(source)] = text
    # What kustomize reads that discovery never loaded (`.env`, `.properties`, JSON, binary generator files).
    loaded = {source.rel for source in files}
    for rel in sorted((compiler.inputs | compiler.resources) - loaded):
        data = compiler.read(rel)
        if data is not None:
            result.outputs[rel] = data
    for rel, docs in sorted((generated or {}).items()):
        if rel in result.outputs and rel not in compiler.regenerable:
            result.errors.append((docs[0].source, docs[0].line, f"not written: {rel} is already an output file"))
            continue
        result.outputs[rel] = "---\n".join(
            header(d.source, d.line, d.note) + "\n" + dump(compiler.normalize(d.data, d.source, d.line))
            for d in docs)
    result.outputs = dict(sorted(result.outputs.items()))
    result.errors.sort(key=lambda e: (e[0], e[1], e[2]))
    result.warnings.sort(key=lambda e: (e[0], e[1], e[2]))
    return result


def compile_context(ctx: object, *, flux_version: str | None = None, defaults: str = "omit",
                    substitute: bool = False, with_agent_objects: bool = False,
                    generated: dict[str, list[GeneratedDocument]] | None = None,
                    root: Path | None = None, without_gitops: frozenset[str] = frozenset()) -> CompileResult:
    """`compile_repo` on a linted repository (`checks.Context`) found at `root`, with what the options ask for.

    Without `flux_version`, apiVersions go to the release the repository runs (`--flux-version`, the
    configuration, or what it declares), never to a newer one whose apiVersions its cluster does not serve.
    """
    flux_version = flux_version or ctx.settings.flux_version
    from gitops_lint.model.gitlab import agent_watches
    from gitops_lint.compile.agent_objects import agent_objects
    from gitops_lint.compile.substitute import variables_by_file
    from gitops_lint.graph import inherited_namespaces

    generated = dict(generated or {})
    if with_agent_objects:
        namespaces = inherited_namespaces(ctx.model, ctx.files)
        # Every agent GitLab reads: the Flux module needs no `flux:` section to run.
        watches = agent_watches(_with_generated(ctx, generated), ctx.settings.gitlab_url,
                                configured_only=False)
        for rel, docs in agent_objects(watches, namespaces).items():
            generated[rel] = [*generated.get(rel, []), *docs]
    variables = variables_by_file(ctx.paths) if substitute else None
    return compile_repo(ctx.files, ctx.model, flux_version=flux_version, defaults=defaults, variables=variables,
                        generated=generated, target_namespaces=target_namespaces(ctx.paths),
                        read=repository_reader(root) if root is not None else None, without_gitops=without_gitops)


def output_name(source: SourceFile) -> str:
    """The relative path to write `source`'s output under: its own name, byte for byte.

    `source.rel` is the name reports print, where bytes that are no UTF-8 and unprintable characters
    are escaped (`discover.printable`: `caf\\xe9.yaml`); the output keeps the file's real name
    (`os.fsdecode`'s surrogates, written back as the original bytes), which its path still holds.
    """
    from gitops_lint.discover import printable

    depth = source.rel.count("/") + 1
    parts = Path(source.path).parts if source.path else ()
    real = "/".join(parts[-depth:]) if len(parts) >= depth else source.rel
    return real if real != source.rel and printable(real) == source.rel else source.rel


def _with_generated(ctx: object, generated: dict[str, list[GeneratedDocument]]) -> Model:
    """The model of `ctx` with the objects of `generated` (the GitRepositories `--migrate` makes) as if they
    were files: the agent watches them as any other, and the output compiled again holds them as files."""
    loaded = {source.rel for source in ctx.files}
    # A file already there is an earlier output of the same migration (or in the way of it): it is in the model.
    generated = {rel: docs for rel, docs in generated.items() if rel not in loaded}
    if not generated:
        return ctx.model
    from gitops_lint.model import build_model

    files = [load_text("---\n".join(header(d.source, d.line, d.note) + "\n" + dump(d.data) for d in docs), rel)
             for rel, docs in sorted(generated.items())]
    return Model(objects=[*ctx.model.objects, *build_model(files).objects])


def target_namespaces(resolutions: list) -> dict[str, str]:
    """Per file, the `spec.targetNamespace` of the Flux Kustomizations applying it, when they all set the same."""
    from gitops_lint.model.kubernetes import DNS1123_LABEL

    seen: dict[str, set] = {}
    for resolution in resolutions:
        namespace = getattr(resolution.kustomization.spec, "targetNamespace", None)
        if not (isinstance(namespace, str) and len(namespace) <= 63 and DNS1123_LABEL.match(namespace)):
            namespace = None  # none, or `${NS}` that only Flux knows
        for rel in resolution.files:
            seen.setdefault(rel, set()).add(namespace)
    return {rel: next(iter(values)) for rel, values in sorted(seen.items()) if len(values) == 1 and None not in values}


class _Compiler:
    def __init__(self, files: list[SourceFile], model: Model, release: str, defaults: str,
                 variables: dict[str, list[Variables]], result: CompileResult, read: Reader):
        from gitops_lint.model.agent import AgentConfig
        from gitops_lint.model.kubernetes import KubernetesObject
        from gitops_lint.schema_index import flux_kinds

        self.model, self.release, self.defaults = model, release, defaults
        self.variables, self.result, self.read = variables, result, read
        self.target_namespaces: dict[str, str] = {}
        self.without_gitops: frozenset[str] = frozenset()
        #: Output files every document of which an earlier compile generated: generating them again replaces them.
        self.regenerable: set[str] = set()
        self.namespaces = kustomize_namespaces(model)
        self.resources, self.inputs, result.secret_files = kustomize_files(model)
        self.patched = patched_fields(files, model, read) if defaults == "omit" else frozenset()
        self.patched_without_namespace = _patched_without_namespace(files, model, read)
        self.flux_kinds = flux_kinds()
        self.AgentConfig, self.KubernetesObject = AgentConfig, KubernetesObject

    def file(self, source: SourceFile) -> str | bytes | None:
        if source.rel in self.inputs:
            return self.verbatim(source)  # kustomize's input, not objects: its bytes are what kustomize reads
        broken = next((p for p in source.problems if p.code in INCOMPLETE), None)
        if broken is not None and source.skipped not in ("template", TEMPLATE):
            # Copied as it is, so every kustomization naming it still finds it (and `check` still reports it):
            # what it holds past the problem is unknown, so leaving it out could drop objects silently.
            copy = self.verbatim(source)
            done = "copied as it is" if copy is not None else "left out"
            self.result.errors.append((source.rel, broken.span.line, f"file not compiled, {done}: {broken.message}"))
            return copy
        if source.skipped or not any(self.model.object_of(d) is not None for d in source.documents):
            # No objects (a placeholder, comments only): copied only so that the kustomization naming it builds.
            return self.verbatim(source) if source.rel in self.resources else None
        parts = []
        notes = []
        lines = LINE_RE.findall(source.text)
        start = 0
        for doc in source.documents:
            if is_generated(doc.data):
                continue  # written by an earlier compile --with-agent-objects: made again from its source, or not
            span = doc.span
            lead = lines[start : span.line - 1]
            end = span.end_line - 1 if span.end_column == 1 else span.end_line
            body = "".join(lines[span.line - 1 : end])[span.column - 1 :]
            start = max(end, span.line)
            kept, comments = header_of(lead)
            notes.append(kept is not None and HEADER_RE.match(kept).group("note") is not None)
            line = kept or header(source.rel, span.line)
            folded = None if doc.sops else folded_with_indented_lines(body)
            if folded is not None:
                self.result.warnings.append((source.rel, span.line + folded, (
                    "document kept as written: a folded block scalar (`>`) with more-indented lines, which "
                    "go-yaml (Flux, kustomize) reads with more line breaks than other YAML readers; "
                    "a literal block (`|`) means the same to all")))
            if doc.sops or folded is not None:
                # Byte for byte, leading comments included: SOPS may have encrypted them too.
                text = "".join(comments) + body
                text += "" if text.endswith("\n") else "\n"
            else:
                text = dump(self.data(doc))
            parts.append(f"{line}\n{text}")
        if parts and all(notes):
            self.regenerable.add(output_name(source))
        return "---\n".join(parts) if parts else None

    def verbatim(self, source: SourceFile) -> str | bytes | None:
        """The file as it is: its bytes on disk (a byte order mark, UTF-16 kept), else the text it was read as."""
        data = self.read(output_name(source))
        # an empty file is content too: a generator's empty input must still be there for kustomize
        if data is None and source.skipped in (None, "template", TEMPLATE, CONFLICT_MARKER):
            return source.text
        return data

    def data(self, doc: Document) -> object:
        data = doc.data
        obj = self.model.object_of(doc)
        if isinstance(data, dict) and isinstance(obj, self.AgentConfig) and doc.file.rel in self.without_gitops:
            data = {key: value for key, value in data.items() if key != "gitops"}  # what `--migrate` replaced
        if not isinstance(data, dict) or obj is None or isinstance(obj, self.AgentConfig):
            return sorted_deep(data)
        if not isinstance(obj, self.KubernetesObject):
            return ordered_object(data)  # a kustomization.yaml
        variables = self.variables.get(doc.file.rel)
        if variables:
            substitution = substitute_document(doc, data, variables)
            data = substitution.data
            for path, reason in substitution.notes:
                self.result.warnings.append((doc.file.rel, doc.locate(path).line, f"left as written: {reason}"))
        metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        # A strategic-merge patch that names the object without a namespace finds it only while it has none.
        if data.get("kind") not in NAMED_WITH_NAMESPACE and (str(data.get("kind")), str(metadata.get("name"))) not in \
                self.patched_without_namespace:
            data = with_namespace(data, self.target_namespaces.get(doc.file.rel) or self.namespaces.get(doc.file.rel))
        return self.normalize(data, doc.file.rel, doc.locate, ref=obj.ref)

    def normalize(self, data: dict, rel: str, where: object, *, ref: str | None = None) -> dict:
        """A Kubernetes object's data in canonical form; `where` is the line of the object, or a
        function from a data path to a Span (for pointing at what blocks a migration)."""
        api_version, kind = data.get("apiVersion"), data.get("kind")
        if isinstance(api_version, str) and isinstance(kind, str):
            group, _, version = api_version.rpartition("/")
            if (group, kind) in self.flux_kinds:
                migration = plan(data, group, kind, version, self.release)
                if migration.blockers:
                    path, _ = migration.blockers[0]
                    reasons = "; ".join(reason for _, reason in migration.blockers)
                    line = where(path).line if callable(where) else where
                    self.result.errors.append((rel, line, f"{ref or kind}: cannot migrate {api_version} to "
                                                          f"{group}/{migration.target}: {reasons}"))
                data = {**data, "apiVersion": migration.api_version}
                if migration.schema is not None:
                    data = apply_object_schema(data, migration.schema, self.defaults, self.patched)
        return ordered_object(data)


_FOLDED_RE = re.compile(r"(?:^|[:-])[ \t]+(?:[&!]\S*[ \t]+)*>[-+0-9]*[ \t]*(?:#.*)?$")


def folded_with_indented_lines(text: str) -> int | None:
    """The line offset in `text` of a folded block scalar holding a more-indented line, else None.

    go-yaml folds such a scalar differently from libyaml and the YAML spec (an extra line break
    before each more-indented run), so no rewrite of it keeps what Flux deploys.
    """
    if ">" not in text:
        return None
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if not _FOLDED_RE.search(line.rstrip("\r")):
            continue
        parent = len(line) - len(line.lstrip(" "))
        indent = None
        for content in lines[index + 1 :]:
            if not content.strip():
                continue
            width = len(content) - len(content.lstrip(" "))
            if width <= parent:
                break
            if indent is None:
                indent = width
            elif width > indent:
                return index
    return None


#: Kinds other objects name together with a namespace field (RBAC subjects name ServiceAccounts, webhooks
#: and APIServices name Services). kustomize moves such a reference along with the object only while the
#: object's namespace is the one its file gave it: writing the inferred namespace out would cut the link.
NAMED_WITH_NAMESPACE = frozenset({"ServiceAccount", "Service"})


def kustomize_namespaces(model: Model) -> dict[str, str]:
    """Per file, the namespace kustomize gives its objects, where every build including it agrees.

    Each kustomize file is a build of its own (`kubectl kustomize base` as well as the overlays on
    it); in each, the outermost `namespace:` on the way to a file wins. A file built to different
    namespaces (a base shared by overlays), or to none in some build, gets none.
    """
    from gitops_lint.graph import included_paths
    from gitops_lint.model.kubernetes import DNS1123_LABEL
    from gitops_lint.model.kustomize import KustomizeFile

    by_dir = {k.path.rpartition("/")[0]: k for k in model.of_type(KustomizeFile)}
    seen: dict[str, set[str | None]] = {}

    def namespace_of(kustomize: KustomizeFile) -> str | None:
        value = kustomize.namespace
        # Only a real namespace name: `${NS}` is Flux's to fill in.
        return value if isinstance(value, str) and len(value) <= 63 and DNS1123_LABEL.match(value) else None

    def visit(directory: str, outer: str | None, path: set[str]) -> None:
        kustomize = by_dir[directory]
        namespace = outer or namespace_of(kustomize)
        for target in included_paths(kustomize, directory):
            if target in by_dir:
                if target not in path:
                    visit(target, namespace, path | {target})
            else:
                seen.setdefault(target, set()).add(namespace)

    for directory in sorted(by_dir):
        visit(directory, None, {directory})
    return {rel: next(iter(values)) for rel, values in sorted(seen.items())
            if len(values) == 1 and None not in values}


#: JSON6902 operations, and the pointer of each that must name an existing field.
_EXISTING = {"remove": "path", "replace": "path", "test": "path", "move": "from", "copy": "from"}


def patched_fields(files: list[SourceFile], model: Model, read: Reader) -> frozenset[tuple[str, ...]]:
    """Fields that patches and replacements need to exist, as paths from an object's root.

    `--defaults omit` keeps these even when they equal their default: an overlay
    that replaces a base's `spec.timeout: 60s`, or a replacement that copies it,
    fails to build once it is gone. Which objects a patch targets is not resolved;
    keeping a default that some patch names, in any object, costs a line and is
    stable when compiled again.
    """
    from gitops_lint.model.kustomize import repository_patches

    items: list = []  # JSON6902 operations and replacements, as found
    for _, document in repository_patches(model, files, read):
        items += document if isinstance(document, list) else [document]
    needed: set[tuple[str, ...]] = set()
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("path"), str):  # a JSON6902 operation
            kind = item.get("op")
            if isinstance(kind, str) and kind in _EXISTING and isinstance(item.get(_EXISTING[kind]), str):
                needed.add(_pointer(item[_EXISTING[kind]]))
            needed.add(_pointer(item["path"])[:-1])  # every operation writes or reads below an existing parent
        elif isinstance(item, dict) and "source" in item:  # a replacement: it reads its source, writes its targets
            source = item["source"]
            paths = [source.get("fieldPath")] if isinstance(source, dict) else []
            for target in as_list(item.get("targets")):
                paths += as_list(target.get("fieldPaths")) if isinstance(target, dict) else []
            needed.update(_field_path(path) for path in paths if isinstance(path, str))
    needed.discard(())
    return frozenset(needed)


def _patched_without_namespace(files: list[SourceFile], model: Model, read: Reader) -> frozenset[tuple[str, str]]:
    """(kind, name) of every object a strategic-merge patch without a target names without a namespace (or in
    `default`): kustomize finds the object by that id only while it has none, so its namespace is left to
    whatever sets it later in the build (a kustomization's `namespace:`, Flux's targetNamespace)."""
    from gitops_lint.model.kustomize import repository_patches

    named = set()
    for target_kind, document in repository_patches(model, files, read):
        metadata = document.get("metadata") if isinstance(document, dict) else None
        if target_kind is None and isinstance(metadata, dict) and metadata.get("namespace") in (None, "", "default"):
            named.add((str(document.get("kind")), str(metadata.get("name"))))
    return frozenset(named)


def _pointer(text: str) -> tuple[str, ...]:
    """A JSON pointer (`/spec/a~1b`) as a path of keys (`("spec", "a/b")`)."""
    return tuple(part.replace("~1", "/").replace("~0", "~") for part in text.split("/")[1:])


def _field_path(text: str) -> tuple[str, ...]:
    """A kustomize field path (`spec.timeout`) as keys, up to its first selector (`[name=app]`)."""
    keys: list[str] = []
    for part in text.split("."):
        if not part or "[" in part:
            break
        keys.append(part)
    return tuple(keys)



def kustomize_files(model: Model) -> tuple[set[str], set[str], frozenset[str]]:
    """Files kustomize files name: as resources (or components, crds); as other input (patches,
    generator sources, values files, ..., of the kustomization or of a plugin config it lists);
    and, among those, what secretGenerators read."""
    from gitops_lint.model.kustomize import INPUT, PATCH, RESOURCE

    resources: set[str] = set()
    inputs: set[str] = set()
    secret: set[str] = set()
    for ref in model.file_references:
        if ref.target and ref.role == RESOURCE:
            resources.add(ref.target)
        elif ref.target and ref.role in (INPUT, PATCH):
            inputs.add(ref.target)
            if ref.secret:
                secret.add(ref.target)
    return resources, inputs, frozenset(secret)
