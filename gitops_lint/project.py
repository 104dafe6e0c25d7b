"""The project a run looks at: its loaded files, their typed model, the run's settings, and what is
derived from them once (Flux's view, the dependency graph, where Kustomization paths lead).

Every consumer reads the same object: the rules (`checks/`), `graph` and `compile`. It sits below
them, so none of them imports another to get at it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from gitops_lint.model import Model
from gitops_lint.yaml.loader import SourceFile
from gitops_lint.yaml.positions import value_at

if TYPE_CHECKING:
    from gitops_lint.graph import FileIndex, Graph, PathResolution
    from gitops_lint.view.state import FluxView
    from gitops_lint.view.version import FluxVersions


@dataclass(frozen=True, slots=True)
class Settings:
    """What the configuration and the command line say, and where the repository starts."""

    #: The repository-wide Flux release (`--flux-version`, config, declared, or the newest).
    flux_version: str | None = None
    #: The release (and where it came from) for each file: `view.version.FluxVersions`.
    flux_versions: "FluxVersions | None" = None
    #: The target GitLab release, `MAJOR.MINOR` (None: the current one).
    gitlab_version: str | None = None
    #: The GitLab instance the agents belong to.
    gitlab_url: str | None = None
    #: Files the configuration's `exclude` keeps out of the lint: they exist all the same.
    excluded_files: frozenset[str] = frozenset()
    #: Where Flux paths start, relative to the root ("" for the root itself).
    source_root: str = ""
    #: Every file below the source root was read (not one file of a pre-commit run).
    whole_repo: bool = True
    #: Folders holding `compile` output: Flux paths into them are not judged.
    compiled_folders: tuple[str, ...] = ()
    #: The repository root on disk (for files discovery did not load, like generator inputs).
    root: Path | None = None
    #: The repository's `.sourceignore` files, as discovery found them (None: not known).
    ignore_files: tuple[str, ...] | None = None
    #: Files that are symbolic links (or below a symlinked folder), which no artifact holds.
    linked_files: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ReportScope:
    """What a run scoped to a change (`--changed-since`, `--repo-context`) reports: findings in these
    files, and findings on these objects ((file, `Kind/namespace/name`): those whose references name a
    changed object). The engine drops every other finding; rules may skip what would be dropped."""

    files: frozenset[str]
    objects: frozenset[tuple[str, str]]


@dataclass
class Project:
    """What every rule reads: the files, the typed model, Flux's view and the graph, computed once."""

    files: list[SourceFile]
    model: Model
    settings: Settings = field(default_factory=Settings)
    #: Schema validators compiled once per run: (id(schema), closed) -> validator.
    schema_validators: dict[tuple[int, bool], Any] = field(default_factory=dict)
    #: Alert/Receiver schemas widened by the Flux Operator's kinds: id(schema) -> (schema, widened).
    operator_schemas: dict[int, tuple[dict, dict]] = field(default_factory=dict)
    #: (judging_applied, [(object, violation)]) of the served Flux objects judged, shared by the four
    #: schema rules.
    flux_violations: tuple[bool, list] | None = None
    #: File -> the Flux version of the clusters applying it (`checks.schemas.flux_version`), once asked.
    file_flux_versions: dict[str, Any] | None = None
    #: Files read outside discovery (generator inputs, patches) -> digest of their bytes (None: missing),
    #: so a cached result is used only while they are unchanged.
    read_log: dict[str, bytes | None] = field(default_factory=dict)
    #: Where files discovery did not load come from, when not the working tree (`diff` reads the base
    #: revision from git's objects): rel -> bytes or None.
    reader: Any = None
    #: Set when the run reports only on a change: see `judged`.
    scope: ReportScope | None = None
    #: Set by the engine while it runs a rule of scope `applied`, whose findings in files Flux never
    #: applies it drops: see `judged`.
    judging_applied: bool = False
    _judged: dict[Any, list] = field(default_factory=dict)

    def judged(self, cls: Any) -> Iterator[Any]:
        """The model's objects of `cls` whose findings the engine keeps for the rule being run: all of them,
        except in files Flux never applies (for a rule of scope `applied`, where the repository has an
        entry point) and outside a change the run is scoped to. For rules whose every finding is
        `at(obj, ...)` on the object judged: they judge what can be reported, not the whole repository."""
        skipped = self._unapplied_skipped()
        scope = self.scope
        if scope is None and not skipped:
            return self.model.of_type(cls)
        judged = self._judged.get((cls, bool(skipped)))
        if judged is None:  # several rules ask for the same class: the filter runs once
            judged = self._judged[(cls, bool(skipped))] = [
                o for o in self.model.of_type(cls) if o.path not in skipped
                and (scope is None or o.path in scope.files or (o.path, o.ref) in scope.objects)]
        return iter(judged)

    def as_applied(self, cls: Any) -> Iterator[tuple[Any, Any]]:
        """(as Flux applies it, as written) for each object of `cls`: each distinct copy Flux's view holds of
        it (patched by a cluster overlay or a parent's `spec.patches`, moved by targetNamespace), else the
        object itself. Rules judge the first and report at the second, the line users edit."""
        for obj in self.model.of_type(cls):
            for applied in self.copies_of(obj):
                yield applied, obj

    def copies_of(self, obj: Any) -> list[Any]:
        """The distinct copies Flux's view applies of an object as written (`as_applied`), else the object."""
        return self._copies[0].get(id(obj)) or [obj]

    def applied_data(self, obj: Any) -> Any:
        """The data Flux applies for an object `copies_of` gave (its document's data where unchanged)."""
        resource = self._copies[1].get(id(obj))
        return resource.data if resource is not None else obj.doc.data

    def changed_on_the_way(self, copy: Any, written: Any, path: tuple) -> bool:
        """Whether the copy Flux applies holds another value at `path` than the file does."""
        return copy is not written and value_at(self.applied_data(copy), path) != value_at(written.doc.data, path)

    def applied_note(self, copy: Any, written: Any, path: tuple) -> str:
        """` (as Flux applies it, after patch from clusters/prod/kustomization.yaml)` where the value at `path`
        that a finding speaks of is the copy's, not the file's: it says where to look for it."""
        resource = self._copies[1].get(id(copy))
        if resource is None or not resource.transforms or not self.changed_on_the_way(copy, written, path):
            return ""
        return f" (as Flux applies it, after {', '.join(resource.transforms)})"

    def literal_reason(self, written: Any, copy: Any = None) -> str | None:
        """Why Flux sends a `${...}` in this object to the API server as text, or None where it fills it in
        or cannot tell: every Kustomization Flux's view has apply the file without post-build variables (a
        forgotten `postBuild`), or the object as applied turns substitution off. Without an entry point
        nothing tells: the expression is left to Flux."""
        from gitops_lint.view.substitute import DISABLED_KEY, disabled

        if not self.view.active:
            return None
        if written.path not in self._substituted_files:
            return "no Flux Kustomization that applies this file substitutes post-build variables: add postBuild"
        if disabled(self.applied_data(copy if copy is not None else written)):
            return f"its {DISABLED_KEY}: disabled keeps Flux from substituting it"
        return None

    @cached_property
    def _substituted_files(self) -> set[str]:
        return self.view.substituted_files

    @cached_property
    def _copies(self) -> tuple[dict[int, list[Any]], dict[int, Any]]:
        """id(written object) -> the typed copies the view applies of it (the object itself where unchanged),
        and id(copy) -> the view's resource it was made from (its data, what changed it on the way). Every
        cluster's copy counts, also where two clusters apply alike objects."""
        view = self.view
        copies: dict[int, list[Any]] = {}
        resources: dict[int, Any] = {}
        if not view.active:
            return copies, resources
        for applied in view.applied:
            for resource in applied.resources:
                origin = resource.origin
                if origin is None:
                    continue
                typed = origin if resource.data is origin.doc.data else view.typed(resource)
                found = copies.setdefault(id(origin), [])
                if typed is not None and all(typed is not other for other in found):
                    found.append(typed)
                    resources[id(typed)] = resource
        return copies, resources

    def judged_files(self) -> list[SourceFile]:
        """The files whose findings the engine keeps for the rule being run (`judged`), for rules whose
        findings name no object."""
        skipped = self._unapplied_skipped()
        scope = self.scope
        if scope is None and not skipped:
            return self.files
        return [f for f in self.files if f.rel not in skipped and (scope is None or f.rel in scope.files)]

    def _unapplied_skipped(self) -> "set[str] | frozenset[str]":
        return self.view.unapplied_files if self.judging_applied and self.view.active else frozenset()

    @cached_property
    def read(self):
        """The bytes of a repository file discovery did not load, by relative path (`discover.repository_reader`);
        every read is noted in `read_log`."""
        from gitops_lint.discover import repository_reader

        if self.reader is not None:
            return self.reader
        if self.settings.root is None:
            return lambda rel: None
        return repository_reader(self.settings.root, self.read_log)

    @cached_property
    def view(self) -> "FluxView":
        """Flux's view: what each Flux Kustomization fed by this repository applies (inactive without an
        entry point, or when only part of the repository was read)."""
        if not self.settings.whole_repo:
            from gitops_lint.view.state import FluxView

            return FluxView()
        from gitops_lint.view.flux import build_view

        return build_view(self.model, self.files, self.settings.root, self.settings.source_root,
                          self.settings.compiled_folders, read=self.read, ignore_files=self.settings.ignore_files,
                          linked_files=self.settings.linked_files)

    @cached_property
    def graph(self) -> "Graph":
        """The dependency graph, built the first time something asks for it."""
        from gitops_lint.graph import build_graph

        return build_graph(self.model, self.files, self.view)

    @cached_property
    def file_index(self) -> "FileIndex":
        """The repository's files and folders, as discovery found them."""
        from gitops_lint.graph import FileIndex

        return FileIndex([f.rel for f in self.files], self.model, self.settings.excluded_files)

    @cached_property
    def paths(self) -> list["PathResolution"]:
        """Where each Flux Kustomization's spec.path leads in this repository."""
        from gitops_lint.graph import resolve_paths

        return resolve_paths(self.model, self.file_index, self.settings.source_root,
                             self.settings.compiled_folders, self.view)
