"""Runs a lint: discover -> load -> model -> rules -> diagnostics, then config and suppressions.

Everything the CLI prints comes out of `LintResult`; nothing here prints or exits.
"""

from __future__ import annotations

import dataclasses
import errno
import gc
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from gitops_lint.catalogue import Catalogue, CatalogueError, Rule, load_catalogue
from gitops_lint.config import Config, ConfigError
from gitops_lint.diagnostics import Diagnostic, Finding, Severity, Span
from gitops_lint.exits import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS
from gitops_lint.secrets import SecretMasker, mask_finding, redact
from gitops_lint.discover import Candidate, Discovery, discover, printable, relative_to_base, repository_reader
from gitops_lint.load import identify, load

if TYPE_CHECKING:
    from gitops_lint.project import ReportScope
    from gitops_lint.yaml.loader import SourceFile

SUPPRESSION_RULE = "SUP001"
#: Rules whose check is part of the engine rather than a module of `checks/`.
BUILTIN_PREFIX = "builtin:"
_SUPPRESSION_RE = re.compile(
    r"(?:^|(?<=\s))#\s*gitops-lint:\s*(?P<kind>ignore-file|ignore)(?:\[(?P<rules>[^\]]*)\])?(?P<reason>[^\n]*)"
)


class UsageError(Exception):
    """Bad selection or options (exit code 2)."""


@dataclass(slots=True)
class Summary:
    """The counts a report's summary prints."""

    files: int = 0
    documents: int = 0
    objects: int = 0
    errors: int = 0
    warnings: int = 0
    infos: int = 0
    #: Files read but not parsed as YAML (templates, binary, ...).
    skipped: int = 0
    #: Files taken from the cache instead of being parsed (the whole result, when it was cached).
    from_cache: int = 0

    def to_json(self) -> dict:
        # Not `from_cache`: machine-readable reports are the same whatever the cache held.
        return {
            "files": self.files,
            "documents": self.documents,
            "objects": self.objects,
            "errors": self.errors,
            "warnings": self.warnings,
            "infos": self.infos,
        }


@dataclass(slots=True)
class LintResult:
    """What a `check` run found, with what the reports and the exit code need."""

    root: Path
    diagnostics: list[Diagnostic]
    summary: Summary
    catalogue: Catalogue
    #: Checks that crashed: bugs of ours, reported with exit code 2.
    internal_errors: list[str] = field(default_factory=list)
    #: Files were named explicitly, and every one was excluded by the configuration.
    all_excluded: bool = False
    #: Seconds spent per phase (discover, load, model, rules, ...), for benchmarks.
    timings: dict[str, float] = field(default_factory=dict)
    #: The checks' context (model, graph) of the run, for scoping findings to a change.
    context: Any = None
    #: Baseline entries that matched no finding (fixed findings); empty when the run was scoped to a change.
    stale_baseline: list[dict] = field(default_factory=list)
    #: Which Flux release judged the files, and why (`FluxVersions.to_json()`), when known.
    flux_version: dict | None = None
    #: Said on stderr, never fatal (the cache could not be written, ...).
    warnings: list[str] = field(default_factory=list)

    @property
    def nothing_read(self) -> bool:
        """No file could be read (and the configuration did not exclude them all): never exit 0."""
        return self.summary.files == 0 and not self.all_excluded and not self.internal_errors

    def exit_code(self, fail_on: Severity, exit_zero: bool = False) -> int:
        """0 clean, 1 findings at or above `fail_on` (0 with `exit_zero`), 2 a bug of ours or nothing read."""
        if self.internal_errors or self.nothing_read:
            return EXIT_ERROR
        failing = any(d.severity >= fail_on for d in self.diagnostics)
        return EXIT_FINDINGS if failing and not exit_zero else EXIT_CLEAN


@dataclass(slots=True)
class LintOptions:
    """What a run was asked for: the command line and the configuration."""

    paths: list[str]
    config: Config = field(default_factory=Config)
    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    flux_version: str | None = None
    cwd: Path | None = None
    #: Load the whole repository (for references) but report only on the files in `paths`.
    repo_context: bool = False
    #: Report only on files changed since this git revision (the rest is still loaded).
    changed_since: str | None = None
    #: Called as progress(done, total) while files load (the CLI draws it on a terminal's stderr).
    progress: Any = None
    #: Folders holding `compile` output, left out of the lint: Flux paths into them are not judged.
    compiled_folders: tuple[Path, ...] = ()
    #: Findings of this baseline file are accepted: only new ones are reported.
    baseline: Path | None = None
    #: Keep what each file loads to, and each run's result, in the on-disk cache (`cache.py`).
    use_cache: bool = False
    #: Where the cache lives (None: $GITOPS_LINT_CACHE_DIR, else `.gitops-lint-cache` at the root).
    cache_dir: Path | None = None
    #: Worker processes that parse files (1: parse in this process).
    jobs: int = 1
    #: The run feeds `--fix`: findings must carry their repairs, so no stored result stands in for it.
    fixing: bool = False


def active_rules(catalogue: Catalogue, options: LintOptions) -> list[Rule]:
    """CLI beats config: the nearest `select` is the base, then extend-select and ignore adjust it."""
    config = options.config
    try:
        base = options.select if options.select is not None else config.select
        chosen = catalogue.select(base) if base is not None else {r.id for r in catalogue.rules if r.enabled_by_default}
        chosen |= catalogue.select([*config.extend_select, *options.extend_select])
        chosen -= catalogue.select([*config.ignore, *options.ignore])
        for key in config.severity:
            catalogue.select([key])
        for keys in config.per_path_ignores.values():
            catalogue.select(keys)
    except CatalogueError as exc:
        raise UsageError(str(exc)) from None
    return [r for r in catalogue.rules if r.id in chosen]


def rule_params(rule: Rule, config: Config) -> dict:
    overrides: dict = {}
    for key in (rule.id, rule.name):
        overrides.update(config.rule_options.get(key, {}))
    unknown = sorted(set(overrides) - set(rule.options))
    if unknown:
        known = ", ".join(sorted(rule.options)) or "none"
        raise ConfigError(f"rule-options for {rule.id} ({rule.name}): unknown option(s) {unknown} (options: {known})")
    return {**rule.params, **rule.options, **overrides}


def load_sources(candidates: Iterable[Candidate], progress=None) -> list[SourceFile]:
    """The candidates loaded in this process, without the cache (`graph`, `compile` and tests)."""
    return load(identify(list(candidates), None), progress=progress).files


def discovery_sources(discovery: Discovery) -> list[SourceFile]:
    """What discovery left out, and why, as records the loading rules report: a folder that could not be
    listed (YAML009), a folder of compile output (YAML010). They hold no document and are no file read."""
    if not discovery.problems:
        return []
    from gitops_lint.yaml.loader import LoadProblem, SourceFile

    out = []
    for problem in discovery.problems:
        source = SourceFile(location=str(discovery.root / problem.rel), rel=problem.rel, skipped=problem.code)
        source.problems.append(LoadProblem(problem.code, problem.message, Span.point(1)))
        out.append(source)
    return out


def _with_compiled_folders(options: LintOptions, discovery: Discovery) -> LintOptions:
    """`options` knowing the compile output folders discovery left out: Flux paths into them are not judged.

    A named symlink loop (a file, reported by YAML009) is left out of its paths: they only tell which
    named folders cover the repository, and resolving a loop raises (Python < 3.13)."""
    cwd = options.cwd or Path.cwd()
    paths = [p for p in options.paths if not _is_symlink_loop(Path(cwd, p))]
    if not discovery.compiled and len(paths) == len(options.paths):
        return options
    found = tuple(discovery.root / rel for rel in discovery.compiled)
    return dataclasses.replace(options, paths=paths, compiled_folders=(*options.compiled_folders, *found))


#: A document that is no mapping: TYP001 says so for every file that expects objects, REF012 (which names
#: the Flux Kustomization that fails on it) for those Flux builds. One finding per document is enough.
_SAME_DOCUMENT = ("TYP001", "REF012")


def _one_finding_per_document(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    built = {(d.path, d.span.line, d.span.column) for d in diagnostics if d.rule == _SAME_DOCUMENT[1]}
    if not built:
        return diagnostics
    return [d for d in diagnostics if d.rule != _SAME_DOCUMENT[0] or (d.path, d.span.line, d.span.column) not in built]


def _is_symlink_loop(path: Path) -> bool:
    try:
        os.stat(path)
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def _check_config_selectors(catalogue: Catalogue, config: Config) -> None:
    """An unknown rule selector in the configuration file is a configuration error naming the file."""
    if config.path is None:
        return
    lists = {"select": config.select or [], "extend-select": config.extend_select, "ignore": config.ignore,
             "severity": list(config.severity),
             **{f"per-path-ignores {glob!r}": keys for glob, keys in config.per_path_ignores.items()}}
    for key, selectors in lists.items():
        try:
            catalogue.select(selectors)
        except CatalogueError as exc:
            raise ConfigError(f"config {config.path}: {exc} (in {key})") from None


def lint(options: LintOptions) -> LintResult:
    # The run builds millions of small objects that live until it ends and form
    # no cycles; the cyclic collector would walk the growing heap again and
    # again (measured: loading 2.5x slower). Collect once at the end instead.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _lint(options)
    finally:
        if was_enabled:
            gc.enable()


def _lint(options: LintOptions) -> LintResult:
    config = options.config
    clock = time.perf_counter()
    exclude_base = config.path.parent if config.path else None
    discovery = discover(options.paths, cwd=options.cwd, excludes=config.exclude, exclude_base=exclude_base)
    discovery.check_named()
    cache = _open_cache(options, discovery)
    try:
        catalogue = load_catalogue(config.custom_rules, memo=cache)
    except CatalogueError as exc:
        raise ConfigError(f"config {config.path}: {exc}" if config.path else str(exc)) from None
    _check_config_selectors(catalogue, config)
    rules = active_rules(catalogue, options)
    params = {rule.id: rule_params(rule, config) for rule in rules}
    named: set[str] | None = None
    if options.repo_context:
        named = {c.rel for c in discovery.files} or None
        if named:
            discovery = discover([discovery.root], cwd=options.cwd, excludes=config.exclude,
                                 exclude_base=exclude_base)
    base = _base_commit(discovery.root, options.changed_since) if options.changed_since else None
    scoped = named is not None or base is not None
    pending_scope = _PendingScope(discovery.root, discovery.in_git, named, options.changed_since, base) \
        if scoped else None
    try:
        discovered = time.perf_counter()
        left_out = discovery_sources(discovery)
        lint_options = _with_compiled_folders(options, discovery)
        identities = identify(discovery.files, cache, _agent_config_matcher(config, discovery.root))
        memo = _memo_key(discovery, rules, params, lint_options) if cache is not None and not scoped \
            and not options.fixing else None
        stored = cache.result(memo, repository_reader(discovery.root)) if memo is not None else None
        result = _from_memo(stored, discovery.root, catalogue) if stored is not None else None
        if result is not None and cache is not None:
            cache.save()  # files touched but unchanged (a checkout) are recorded, to be trusted without reading again
        if result is None:
            loaded = load(identities, cache, max(options.jobs, 1), options.progress)
            del identities  # what they knew is in the loaded files and the cache
            if cache is not None:
                cache.save()  # now, while the heap is small: writing the pack's header costs tens of MB at 50k files
            files = loaded.files + left_out
            parsed = time.perf_counter()
            scope = pending_scope.result() if pending_scope is not None else None
            result = lint_files(files, discovery, catalogue, rules, params, lint_options, scope)
            result.timings = {"load": parsed - discovered, **result.timings}
            result.diagnostics = _one_finding_per_document(result.diagnostics)
            result.summary.from_cache = loaded.cached
            if memo is not None and not result.internal_errors:
                cache.store_result(memo, result.context.read_log, _memo_payload(result))
        if cache is not None:
            cache.close()
            if cache.problem:
                result.warnings.append(cache.problem)
        partial = _part_of_a_folder(options, discovery)
        if partial:
            result.warnings.append(partial)
        if pending_scope is not None:
            result.diagnostics = pending_scope.result().select(result)
        if options.baseline is not None:
            from gitops_lint.baseline import apply_baseline, read_baseline

            applied = apply_baseline(result.diagnostics, read_baseline(options.baseline))
            result.diagnostics = applied.kept
            if not scoped:  # out-of-scope entries of a scoped run are not known to be fixed
                result.stale_baseline = applied.stale
        result.summary = summarize(result.diagnostics, result.summary)
        # Folders reported as left out are no file read: a run that read nothing still says so (exit 2).
        result.summary.files -= len(left_out)
        result.summary.skipped -= len(left_out)
        result.timings = {"discover": discovered - clock, **result.timings}
        return result
    except BaseException:
        if pending_scope is not None:
            pending_scope.abandon()  # git's processes are not left running behind a failed run
        raise


def _part_of_a_folder(options: LintOptions, discovery: Discovery) -> str | None:
    """Outside git the root is the folder the run is in: one folder named below it is checked as part of it,
    so Flux's paths (relative to the repository's root) are not followed. Said, as it looks like a full check."""
    if discovery.in_git or options.repo_context or len(options.paths) != 1:
        return None
    named = Path(options.cwd or ".") / options.paths[0]
    if not named.is_dir() or path_settings(discovery.root, options.config, options)["whole_repo"]:
        return None  # (a configuration file in it makes it the source's root: its paths are followed)
    shown = printable(str(options.paths[0]))
    return (f"{shown} is not a git work tree, so it is checked as part of the folder you run in "
            f"({printable(str(discovery.root))}): Flux Kustomization paths start at a repository's root and are not "
            f"followed here; to check {shown} as a repository, run gitops-lint in it")


def _open_cache(options: LintOptions, discovery: Discovery):
    if not options.use_cache or options.config.custom_rules:
        return None  # custom rules are code the cache's key does not cover
    from gitops_lint.cache import Cache, resolve_dir

    directory = resolve_dir(discovery.root, options.cache_dir)
    if not directory.is_absolute():
        directory = (options.cwd or Path.cwd()) / directory
    return Cache(directory, discovery.root)


def _memo_key(discovery: Discovery, rules: list[Rule], params: dict[str, dict], options: LintOptions) -> str:
    """What, besides the files, decides a run's findings: the rules and their options, the configuration,
    the command line's settings and which paths were named."""
    import json

    config = options.config
    cwd = options.cwd or Path.cwd()
    named = sorted(os.path.relpath(os.path.abspath(Path(cwd, p)), discovery.root) for p in options.paths)
    return json.dumps([
        [r.id for r in rules], params, dataclasses.asdict(config), str(config.path), options.flux_version,
        named, [str(f) for f in options.compiled_folders], discovery.excluded, str(discovery.root),
        [(p.rel, p.code) for p in discovery.problems], discovery.refused, discovery.ignore_files, discovery.linked,
    ], sort_keys=True, default=str)


def _memo_payload(result: "LintResult") -> tuple:
    """A run's result as built-in values (`cache.store_result`)."""
    s = result.summary
    return (
        [(d.rule, d.name, int(d.severity), d.message, d.path, tuple(d.span), d.object, d.fingerprint, d.source,
          d.fixable) for d in result.diagnostics],
        (s.files, s.documents, s.objects, s.skipped),
        result.flux_version,
        result.all_excluded,
    )


def _from_memo(payload, root: Path, catalogue: Catalogue) -> "LintResult | None":
    try:
        diagnostics, (files, documents, objects, skipped), flux_version, all_excluded = payload
        restored = [Diagnostic(rule=rule, name=name, severity=Severity(severity), message=message, path=path,
                               span=Span(*span), object=obj, fingerprint=fingerprint, source=tuple(source),
                               fixable=fixable)
                    for rule, name, severity, message, path, span, obj, fingerprint, source, fixable in diagnostics]
    except (TypeError, ValueError):
        return None
    summary = Summary(files=files, documents=documents, objects=objects, skipped=skipped, from_cache=files)
    return LintResult(root, restored, summary, catalogue, all_excluded=all_excluded, flux_version=flux_version)


@dataclass(slots=True)
class Scope:
    """What a merge request or a commit changed: report on these files, and on objects that refer into them."""

    files: set[str]
    #: (kind, name) of objects the changed files held before the change (deleted and renamed ones included).
    changed_objects: set[tuple[str, str]]
    #: A `.sourceignore` was added, changed or removed: what every artifact holds may have changed.
    ignore_rules_changed: bool = False
    #: Files the change deleted or moved away (their old names).
    gone: frozenset[str] = frozenset()

    def reported(self, ctx) -> ReportScope:
        """The files, and the objects (file, `Kind/namespace/name`) that findings are reported on: those a
        changed overlay changes on their way to the cluster, and those whose references resolve into a
        changed file or depend on an object such an overlay suspends, or name what the change (or
        the overlay, or a changed generator) removed, renamed or moved and resolve no more (in some
        cluster). A reference that still resolves to an unchanged object (another cluster's of that
        name) is not the change's."""
        from gitops_lint.project import ReportScope

        files = self.files
        touched = set(self.changed_objects)
        objects: set[tuple[str, str]] = set()
        if ctx is not None:
            for obj in ctx.graph.objects:
                if obj.path in files:
                    touched.add((obj.kind, obj.name))
            written = ctx.model.written
            changed, rebuilds = self._rebuilds(ctx)
            on_the_way = set(self._changed_on_the_way(changed, rebuilds))
            # renamed or moved by a changed overlay: a reference to it as written may resolve no more
            touched.update((ref.partition("/")[0], ref.rpartition("/")[2]) for _, ref in on_the_way)
            # What those Kustomizations apply: a rename there, or one undone, is the change's.
            rebuilt = {(typed.path, typed.ref) for applied in rebuilds for resource in applied.resources
                       if (typed := ctx.view.typed(resource)) is not None}
            from gitops_lint.yaml.positions import value_at

            suspended = ("spec", "suspend")
            for ref in ctx.graph.references:
                # A target an overlay suspends (or wakes) concerns its dependants (REF009); whatever else an
                # overlay changes in a target leaves its referrers' findings as they were.
                if any((t := written(target)).path in files or (
                        ref.spec.relation == "dependsOn" and (t.path, t.ref) in on_the_way
                        and value_at(ctx.graph.data_of(target), suspended) != value_at(t.doc.data, suspended))
                       for target in ref.targets) or (
                        (ref.kind, ref.name) in touched and (not ref.targets or ref.missing_in)) or (
                        ref.renamed_to and any((o.path, o.ref) in rebuilt for o in (ref.source, *ref.renamed_to))):
                    # The source may be a copy Flux changed (targetNamespace): rules speak of either.
                    for obj in (ref.source, written(ref.source)):
                        objects.add((obj.path, obj.ref))
            objects.update(on_the_way)
            objects.update(self._naming_what_is_gone(ctx))
            # What the artifact lacks fails a build at the entry that names it, in a file the change may not
            # touch: reported where the change is the missing file itself or the rules that leave it out.
            for applied in ctx.view.applied:
                for problem in applied.problems:
                    if problem.artifact is not None and problem.owner is not None and (
                            self.ignore_rules_changed or problem.artifact in files
                            or any(f.startswith(problem.artifact + "/") for f in files)):
                        objects.add((problem.owner.path, problem.owner.ref))
        return ReportScope(frozenset(files), frozenset(objects))

    def _naming_what_is_gone(self, ctx) -> Iterator[tuple[str, str]]:
        """Objects that name a file or folder the change deleted or moved away: a kustomization's entry (a
        resource, a patch, a folder whose kustomization file went), a Flux Kustomization's spec.path. Their
        findings (it names nothing, the build fails) are the change's, in files it did not touch."""
        if not self.gone:
            return

        def gone(target: str) -> bool:
            return target in self.gone or any(name.startswith(target + "/") for name in self.gone)

        for ref in ctx.model.file_references:
            if ref.target is not None and gone(ref.target):
                yield ref.owner.path, ref.owner.ref
        for resolution in ctx.paths:
            if resolution.folder is not None and gone(resolution.folder) and resolution.folder != "":
                yield resolution.kustomization.path, resolution.kustomization.ref

    def _rebuilds(self, ctx) -> tuple[set[str], list]:
        """The changed files with the kustomizations that name them (a patch, a replacement, a configurations
        file), and the Flux Kustomizations of the view whose own file or build reads one of them."""
        changed = set(self.files)
        changed.update(ref.owner.path for ref in ctx.model.file_references if ref.target in self.files)
        rebuilds = [applied for applied in ctx.view.applied
                    if applied.kustomization.path in changed or not changed.isdisjoint(applied.files)]
        return changed, rebuilds

    @staticmethod
    def _changed_on_the_way(changed: set[str], rebuilds: list) -> Iterator[tuple[str, str]]:
        """Objects as written (reported there) whose applied copy a changed file changes: a kustomization (or
        a patch or replacement file it names) whose transform the copy went through, or the Flux Kustomization
        whose targetNamespace or spec.patches it got. A change to a cluster overlay is judged on the objects
        it changes, not only in its own file."""
        for applied in rebuilds:
            flux_file, of_flux = applied.kustomization.path, f" of {applied.key}"
            for resource in applied.resources:
                origin = resource.origin
                if origin is None or resource.data is origin.doc.data:
                    continue
                for transform in resource.transforms:  # `<what> from <file>` or `<what> of <Kustomization>`
                    _, sep, where = transform.rpartition(" from ")
                    if (sep and where in changed) or (flux_file in changed and transform.endswith(of_flux)):
                        yield origin.path, origin.ref
                        break

    def select(self, result: "LintResult") -> list[Diagnostic]:
        """Findings in changed files, and findings on objects whose references name a changed object."""
        scope = result.context.scope if result.context is not None and result.context.scope is not None \
            else self.reported(result.context)
        return [d for d in result.diagnostics if d.path in scope.files or (d.path, d.object) in scope.objects]


class _PendingScope:
    """The files a scoped run reports on, and the objects they held before: the files named with
    `--repo-context`, those changed since `--changed-since` (both: the named files that changed).

    Only the findings are filtered by it, so git is asked when the run starts and answered at its end:
    its commands run in processes of their own while the files load. (Processes, not a thread: the
    loading workers are forked, and a fork must not copy a thread holding a lock.)"""

    def __init__(self, root: Path, in_git: bool, named: set[str] | None, revision: str | None,
                 base: str | None) -> None:
        self.root, self.named, self.revision, self.base = root, named, revision, base
        self._scope: Scope | None = None
        # A commit's staged changes (the pre-commit hook): renames and deletions remove objects too.
        self.staged = _GitQuery(root, "diff", "--cached", "--name-status", "-z") \
            if named is not None and in_git else None
        what = f"--changed-since {revision}"
        self.diff = _GitQuery(root, "diff", "--name-status", "-z", revision, "--", what=what) if revision else None
        self.untracked = _GitQuery(root, "ls-files", "-z", "--others", "--exclude-standard") if revision else None

    def result(self) -> Scope:
        if self._scope is None:
            self._scope = self._read()
        return self._scope

    def abandon(self) -> None:
        """The run failed before it needed git's answers: stop asking."""
        for query in (self.staged, self.diff, self.untracked):
            if query is not None:
                query.stop()

    def _read(self) -> Scope:
        scope = None
        if self.named is not None:
            now, before = _changed_files(self.staged.lines()) if self.staged is not None else (set(), [])
            scope = Scope(self.named, _objects_at(self.root, "HEAD", before), _ignore_rules_in(self.named, before),
                          frozenset(printable(name) for name in set(before) - now))
        if self.diff is not None and self.untracked is not None and self.base is not None:
            now, before = _changed_files(self.diff.lines())
            # As reports name files (a name that is not UTF-8, or holds a newline, is escaped alike).
            changed = {printable(name) for name in (*now, *self.untracked.lines())}
            old = _objects_at(self.root, self.base, before)
            rules = _ignore_rules_in(changed, before)
            gone = frozenset(printable(name) for name in set(before) - now)
            scope = Scope(changed, old, rules, gone) if scope is None else \
                Scope(scope.files & changed, scope.changed_objects | old, scope.ignore_rules_changed or rules,
                      scope.gone | gone)
        assert scope is not None, "a scoped run names files or a revision"
        return scope


def _base_commit(root: Path, revision: str) -> str:
    """The commit `--changed-since REV` compares with: REV itself, or the old side of a range (`A..B`,
    `A...B`: their merge base). Asked at once, so a revision git does not know is a usage error before
    the check, not after it; git takes REV as `git diff` takes it."""
    what = f"--changed-since {revision}"
    lines = _GitQuery(root, "rev-parse", "--revs-only", revision, "--", what=what).lines("\n")
    if not lines:  # an option, not a revision (`-x`): git diff refuses it
        raise UsageError(f"{what}: not a revision")
    return next((line[1:] for line in lines if line.startswith("^")), lines[0])


def _ignore_rules_in(changed: Iterable[str], before: Iterable[str]) -> bool:
    """Whether a `.sourceignore` is among the files changed, added or removed."""
    from gitops_lint.discover import is_ignore_file

    return any(is_ignore_file(name) for name in (*changed, *before))


def _changed_files(fields: list[str]) -> tuple[set[str], list[str]]:
    """From `git diff --name-status -z`: files added, copied, modified (in content or type: a file made a
    symlink) or renamed (their new names), and those deleted, modified or renamed (their old names, whose
    objects the change removed)."""
    now: set[str] = set()
    before: list[str] = []
    index = 0
    while index + 1 < len(fields):
        status = fields[index][:1]
        if status in ("R", "C") and index + 2 < len(fields):
            old, new = fields[index + 1], fields[index + 2]
            index += 3
            now.add(new)
            if status == "R":
                before.append(old)
            continue
        name = fields[index + 1]
        index += 2
        if status in ("A", "M", "T"):
            now.add(name)
        if status in ("D", "M", "T"):
            before.append(name)
    return now, before


class _GitQuery:
    """One git command, started now and read later (`lines`)."""

    def __init__(self, root: Path, *args: str, what: str | None = None) -> None:
        import subprocess

        self.args, self.what = args, what
        self.process: subprocess.Popen | None = None
        self.problem = ""
        try:
            self.process = subprocess.Popen(["git", "-C", str(root), *args], stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE)
        except OSError as exc:  # no git at all
            self.problem = f"cannot run git: {exc.strerror or exc}"

    def lines(self, separator: str = "\0") -> list[str]:
        """The output's lines; a failing command is a usage error when `what` names the option."""
        import subprocess

        out = b""
        if self.process is not None:
            try:
                out, err = self.process.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                self.stop()
                self.problem = f"git {self.args[0]} took more than 120 s"
            else:
                if self.process.returncode != 0:
                    self.problem = f"git {self.args[0]} failed: {err.decode('utf-8', 'replace').strip()}"
        if self.problem:
            if self.what:
                raise UsageError(f"{self.what}: {self.problem}")
            return []
        return [line for line in out.decode("utf-8", "surrogateescape").split(separator) if line]

    def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            self.process.communicate()


def _objects_at(root: Path, revision: str, rels: list[str]) -> set[tuple[str, str]]:
    """(kind, name) of the objects these files held at `revision` (files since deleted or changed)."""
    from gitops_lint.yaml.loader import load_text

    found: set[tuple[str, str]] = set()
    for rel, raw in _files_at(root, revision, [r for r in rels if r.endswith((".yaml", ".yml"))]):
        for doc in load_text(raw.decode("utf-8", "replace"), rel).documents:
            data = doc.data
            if isinstance(data, dict) and isinstance(data.get("kind"), str) and isinstance(data.get("metadata"), dict):
                name = data["metadata"].get("name")
                if isinstance(name, str):
                    found.add((data["kind"], name))
    return found


def _files_at(root: Path, revision: str, rels: list[str]) -> list[tuple[str, bytes]]:
    """(path, bytes) of those of `rels` that `revision` has, read by one `git cat-file --batch` (a commit
    may stage hundreds of files). A name holding a line break cannot be asked for that way, and is
    asked for alone."""
    import subprocess

    batch = [rel for rel in rels if "\n" not in rel]
    out: list[tuple[str, bytes]] = []
    if batch:
        asked = b"".join(os.fsencode(f"{revision}:{rel}") + b"\n" for rel in batch)
        run = subprocess.run(["git", "-C", str(root), "cat-file", "--batch"], input=asked, capture_output=True,
                             timeout=120, check=False)
        answer, at = run.stdout if run.returncode == 0 else b"", 0
        for rel in batch:
            end = answer.find(b"\n", at)
            if end < 0:
                break
            header = answer[at:end].split()
            at = end + 1
            if len(header) == 3 and header[2].isdigit():  # else "<name> missing": no content follows
                size = int(header[2])
                if header[1] == b"blob":
                    out.append((rel, answer[at : at + size]))
                at += size + 1  # the content, and the line break after it
    for rel in rels:
        if "\n" in rel:
            shown = subprocess.run(["git", "-C", str(root), "show", f"{revision}:{rel}"], capture_output=True,
                                   timeout=60, check=False)
            if shown.returncode == 0:
                out.append((rel, shown.stdout))
    return out


def build_context(files: list[SourceFile], discovery: Discovery, options: LintOptions):
    """The typed model of the loaded files, and the run-wide settings rules read: what every command shares."""
    from gitops_lint.project import Project, Settings
    from gitops_lint.model import build_model
    from gitops_lint.schema_index import flux_releases
    from gitops_lint.view.version import detect

    config = options.config
    model = build_model(files, _agent_config_matcher(config, discovery.root))
    secret_files = model.secret_files  # a set over every file reference: computed once, not per file
    for source in files:
        source.all_secret = source.rel in secret_files
    # --flux-version beats the config's flux-version, which beats what the repository declares.
    flux_versions = detect(model, flux_releases(), cli=options.flux_version, config=config.flux_version)
    settings = Settings(
        flux_version=flux_versions.repository.release,
        flux_versions=flux_versions,
        gitlab_version=config.gitlab_version,
        gitlab_url=config.gitlab_url,
        excluded_files=frozenset(discovery.excluded),
        ignore_files=None if discovery.ignore_files is None else tuple(discovery.ignore_files),
        linked_files=frozenset(discovery.linked),
        **path_settings(discovery.root, config, options),
    )
    return Project(files=files, model=model, settings=settings)


def load_context(options: LintOptions):
    """Discover and load `options.paths` into a Context, without running any rule (`gitops-lint graph`)."""
    config = options.config
    discovery = discover(options.paths, cwd=options.cwd, excludes=config.exclude,
                         exclude_base=config.path.parent if config.path else None)
    discovery.check_named()
    return build_context(load_sources(discovery.files, options.progress), discovery,
                         _with_compiled_folders(options, discovery))


def lint_files(
    files: list[SourceFile],
    discovery: Discovery,
    catalogue: Catalogue,
    rules: list[Rule],
    params: dict[str, dict],
    options: LintOptions,
    scope: Scope | None = None,
) -> LintResult:
    """Every rule on `files`. With `scope` (a run that reports only on a change), rules may skip objects
    whose findings the scope drops (`Project.judged`); the scope itself is applied by the caller."""
    clock = time.perf_counter()
    ctx = build_context(files, discovery, options)
    modelled = time.perf_counter()
    ctx.view  # noqa: B018 - Flux's view, computed here so its cost shows as a phase of its own
    viewed = time.perf_counter()
    if os.environ.get("GITOPS_LINT_TIMINGS"):  # shared structures rules build lazily, timed apart
        ctx.graph, ctx._copies  # noqa: B018
    graphed = time.perf_counter()
    if scope is not None:
        ctx.scope = scope.reported(ctx)
    config = options.config
    model = ctx.model
    by_rel = {f.rel: f for f in files}
    view_secrets = SecretMasker(ctx.view.secret_texts)
    diagnostics: list[Diagnostic] = []
    internal: list[str] = []
    per_rule: dict[str, float] = {}
    for rule in rules:
        if rule.check.startswith(BUILTIN_PREFIX) or rule.scope == "change":
            continue  # unused suppressions need every other rule's result first; changes need two revisions
        started = time.perf_counter()
        ctx.judging_applied = rule.scope == "applied"  # _outside_flux drops its findings in unapplied files
        findings = _findings(rule, ctx, params[rule.id], internal)
        _run_fixer(rule, ctx, findings, internal)
        ctx.judging_applied = False
        diagnostics.extend(_diagnostic(rule, finding, by_rel.get(finding.path), config, view_secrets)
                           for finding in findings)
        per_rule[rule.id] = time.perf_counter() - started
    checked = time.perf_counter()
    diagnostics = _outside_flux(diagnostics, ctx, catalogue, config)
    diagnostics = _apply_path_ignores(diagnostics, config, catalogue, discovery.root)
    active_ids = {r.id for r in rules if r.scope != "change"}  # change rules run in `diff`, never here
    diagnostics = _apply_suppressions(diagnostics, files, catalogue, active_ids, config)
    diagnostics.sort(key=Diagnostic.sort_key)
    _fingerprint(diagnostics)
    summary = summarize(diagnostics, Summary(
        files=len(files),
        documents=sum(len(f.documents) for f in files),
        objects=len(model.objects),
        skipped=sum(1 for f in files if f.skipped),
    ))
    explicit_files = [p for p in options.paths if not Path(options.cwd or ".", p).is_dir()]
    all_excluded = not files and bool(options.paths) and len(explicit_files) == len(options.paths)
    timings = {"model": modelled - clock, "view": viewed - modelled, "graph": graphed - viewed, "rules": checked - graphed, "suppressions": time.perf_counter() - checked,
               **{f"rule {rule_id}": seconds for rule_id, seconds in per_rule.items()}}
    flux_versions = ctx.settings.flux_versions
    return LintResult(discovery.root, diagnostics, summary, catalogue, internal, all_excluded, timings, ctx,
                      flux_version=flux_versions.to_json() if flux_versions is not None else None)


def _findings(rule: Rule, subject: Any, params: dict, internal: list[str]) -> list[Finding]:
    """The rule's findings on `subject` (those a shared check made for this rule); a crash is reported
    in `internal` and costs only this rule's findings."""
    try:
        found = [f for f in rule.load_check()(subject, **params) if not f.rule or f.rule == rule.id]
        # The same finding twice is one: an object Flux applies twice (two clusters, two overlays) is
        # judged once per copy, and copies alike in what the rule reads say the same thing.
        unique: dict[tuple, Finding] = {}
        for finding in found:
            unique.setdefault((finding.path, finding.span, finding.message, finding.object, finding.anchor), finding)
        return list(unique.values())
    except CatalogueError as exc:
        internal.append(str(exc))
    except Exception as exc:  # noqa: BLE001 - a crashing check must not hide the others
        internal.append(_crash(f"rule {rule.id} ({rule.name})", exc))
    return []


def _crash(what: str, exc: Exception) -> str:
    import traceback  # here: only a crash needs it

    where = traceback.extract_tb(exc.__traceback__)[-1]
    return f"internal error in {what}: {type(exc).__name__}: {exc} [{Path(where.filename).name}:{where.lineno}]"


def _run_fixer(rule: Rule, ctx, findings: list, internal: list[str]) -> None:
    """The rule's `fixer`, if it has one; a crash there costs the fixes, never the findings."""
    if not findings or not rule.fixer:
        return
    try:
        rule.load_fixer()(ctx, findings)
    except Exception as exc:  # noqa: BLE001 - the findings stand without their fixes
        for finding in findings:
            finding.fix = None
        internal.append(_crash(f"the fixer of rule {rule.id} ({rule.name})", exc))


def run_checks(rules: list[Rule], params: dict[str, dict], subject: Any, files: list[SourceFile],
               config: Config, catalogue: Catalogue) -> tuple[list[Diagnostic], list[str]]:
    """Run each rule's check on `subject` (what its checks take: a change between two revisions, for the
    change rules of `diff`): diagnostics after the files' suppression comments, sorted and fingerprinted,
    and the checks that crashed."""
    by_rel = {f.rel: f for f in files}
    diagnostics: list[Diagnostic] = []
    internal: list[str] = []
    for rule in rules:
        for finding in _findings(rule, subject, params[rule.id], internal):
            source = finding.source if finding.source is not None else by_rel.get(finding.path)
            diagnostics.append(_diagnostic(rule, finding, source, config))
    diagnostics = _apply_suppressions(diagnostics, files, catalogue, {r.id for r in rules}, config)
    diagnostics.sort(key=Diagnostic.sort_key)
    _fingerprint(diagnostics)
    return diagnostics, internal


def _outside_flux(diagnostics: list[Diagnostic], ctx, catalogue: Catalogue, config: Config) -> list[Diagnostic]:
    """Where the repository has a Flux entry point, what Flux never reads cannot fail a reconcile.

    Findings of rules that judge applied objects, on files no Flux Kustomization applies, are dropped
    (REF010 names each such file once, as info). A file that does not load (syntax, encoding: the YAML
    rules) is still reported, but as a warning where neither Flux nor GitLab reads it (a Terraform or
    Ansible file beside the manifests), unless the configuration sets that rule's severity."""
    from gitops_lint.yaml.loader import read_by_gitlab

    view = ctx.view
    if not view.active:
        return diagnostics
    unapplied = view.unapplied_files
    read_by_flux: set[str] | None = None
    generator_data: set[str] = set()
    kept = []
    for d in diagnostics:
        rule = catalogue.get(d.rule)
        if rule is None:
            kept.append(d)
            continue
        if rule.scope == "applied" and d.path in unapplied:
            continue
        if d.severity is Severity.ERROR and rule.family == "YAML" \
                and rule.id not in config.severity and rule.name not in config.severity:
            if read_by_flux is None:
                references = ctx.model.file_references
                read_by_flux = view.applied_files | {r.target for r in references if r.target and not _data_input(r)}
                generator_data = {r.target for r in references if r.target and _data_input(r)}
            if d.path not in read_by_flux and not read_by_gitlab(d.path):
                if d.path in generator_data:
                    d = dataclasses.replace(d, severity=Severity.WARNING, message=(
                        f"{d.message} (a generator reads this file as data, not as YAML: the build does not fail; "
                        "what reads the ConfigMap or Secret it makes, a HelmRelease's valuesFrom or the "
                        "application, may)"))
                else:
                    d = dataclasses.replace(d, severity=Severity.WARNING, message=(
                        f"{d.message} (no Flux Kustomization reads this file and GitLab does not either: nothing "
                        "fails to reconcile)"))
        kept.append(d)
    return kept


def _data_input(reference) -> bool:
    """A file a configMapGenerator or secretGenerator reads (`files`, `envs`): bytes to kustomize, never parsed."""
    from gitops_lint.model.kustomize import INPUT

    return reference.role == INPUT and any(step in ("files", "envs", "env") for step in reference.field)


def _agent_config_matcher(config: Config, root: Path):
    """The `agent-configs` globs as a predicate on root-relative paths (None when there are none)."""
    if not config.agent_configs:
        return None
    import pathspec

    spec = pathspec.GitIgnoreSpec.from_lines(config.agent_configs)
    base = config.path.parent if config.path else None
    return lambda rel: spec.match_file(relative_to_base(rel, root, base))


def path_settings(root: Path, config: Config, options: LintOptions) -> dict:
    """Where Flux paths start, and whether every file under it was discovered.

    A Kustomization's spec.path is relative to the root of its source: the
    repository, or the folder of the `.gitops-lint.yaml` in use when it sits
    lower (a repository kept inside another, like `examples/`).
    """
    source_root = root
    if config.path is not None and root in config.path.resolve().parents:
        source_root = config.path.resolve().parent
    cwd = Path(options.cwd or ".")
    given = [(cwd / p).resolve() for p in options.paths]
    whole = options.repo_context or any(p == source_root or p in source_root.parents for p in given)
    prefix = source_root.relative_to(root).as_posix()
    compiled = [folder.relative_to(root).as_posix() for folder in options.compiled_folders if root in folder.parents]
    return {"source_root": "" if prefix == "." else prefix, "whole_repo": whole, "compiled_folders": tuple(compiled),
            "root": root}


def summarize(diagnostics: list[Diagnostic], scope: Summary) -> Summary:
    """`scope`'s file, document and object counts with the counts of these diagnostics."""
    summary = Summary(files=scope.files, documents=scope.documents, objects=scope.objects, skipped=scope.skipped,
                      from_cache=scope.from_cache)
    for d in diagnostics:
        if d.severity is Severity.ERROR:
            summary.errors += 1
        elif d.severity is Severity.WARNING:
            summary.warnings += 1
        else:
            summary.infos += 1
    return summary


def _diagnostic(rule: Rule, finding: Finding, source: SourceFile | None, config: Config,
                view_secrets: SecretMasker | None = None) -> Diagnostic:
    severity = rule.severity if finding.severity is None else finding.severity
    for key in (rule.id, rule.name):
        if key in config.severity:
            severity = Severity.parse(config.severity[key])
    lines = source.source_lines(finding.span) if source is not None and source.text else ()
    message = finding.message
    # Whatever a check wrote, no secret reaches an output: a Secret's values are masked in the
    # code frame, and in the message of a finding about them; tokens are redacted everywhere.
    if lines:
        lines, message = mask_finding(source, finding.span, lines, message)
    obj = finding.object
    if view_secrets:  # values Flux's copies hold that no written Secret does where a finding points
        message = view_secrets(message)
        obj = view_secrets(obj) if obj else obj
    return Diagnostic(
        rule=rule.id,
        name=rule.name,
        severity=severity,
        message=redact(message),
        path=finding.path,
        span=finding.span,
        object=obj,
        fingerprint=finding.anchor,  # replaced by the real fingerprint once sorted
        source=tuple(redact(line) for line in lines),
        fix=finding.fix,
        fixable=None if finding.fix is None else "safe" if finding.fix.safe else "unsafe",
    )


def _fingerprint(diagnostics: list[Diagnostic]) -> None:
    """Stable when unrelated lines move: rule, file, object and field, not line numbers."""
    if not diagnostics:
        return  # a clean run: not even OpenSSL's module is imported
    import hashlib

    seen: dict[str, int] = {}
    for d in diagnostics:
        context = d.fingerprint if d.object else f"{d.fingerprint}|{(d.source[0].strip() if d.source else '')}"
        # Never the message: messages may quote line numbers ("first defined at line 3").
        key = f"{d.rule}|{d.path}|{d.object or ''}|{context}"
        n = seen.get(key, 0)
        seen[key] = n + 1
        d.fingerprint = hashlib.sha256(f"{key}|{n}".encode()).hexdigest()[:32]


def _apply_path_ignores(
    diagnostics: list[Diagnostic], config: Config, catalogue: Catalogue, root: Path
) -> list[Diagnostic]:
    """`per-path-ignores` globs are relative to the configuration file's folder, like `exclude`."""
    if not config.per_path_ignores:
        return diagnostics
    import pathspec

    base = config.path.parent if config.path else None

    table = [
        (pathspec.GitIgnoreSpec.from_lines([glob]), catalogue.select(keys))
        for glob, keys in config.per_path_ignores.items()
    ]
    return [
        d for d in diagnostics
        if not any(d.rule in ids and spec.match_file(relative_to_base(d.path, root, base)) for spec, ids in table)
    ]


@dataclass(slots=True)
class _Suppression:
    """One `# gitops-lint: ignore` comment: where, and which rules it silences."""

    line: int
    column: int
    targets: tuple[int, ...]
    rules: set[str] | None  # None: every rule
    unknown: list[str]
    file_level: bool
    used: bool = False


def parse_suppressions(source: SourceFile, catalogue: Catalogue) -> list[_Suppression]:
    if "gitops-lint:" not in source.text:
        return []
    out = []
    for number, text in enumerate(source.lines, start=1):
        if "gitops-lint:" not in text:
            continue
        match = _SUPPRESSION_RE.search(text)
        if not match:
            continue
        rules: set[str] | None = None
        unknown: list[str] = []
        if match.group("rules") is not None:
            rules = set()
            for key in re.split(r"[,\s]+", match.group("rules").strip()):
                if not key:
                    continue
                rule = catalogue.get(key)
                if rule:
                    rules.add(rule.id)
                else:
                    unknown.append(key)
        own_line = not text[: match.start()].strip()
        targets = (number + 1,) if own_line else (number,)
        out.append(_Suppression(number, match.start() + 1, targets, rules, unknown, match.group("kind") == "ignore-file"))
    return out


def _apply_suppressions(
    diagnostics: list[Diagnostic], files: list[SourceFile], catalogue: Catalogue, active: set[str], config: Config
) -> list[Diagnostic]:
    table = {f.rel: parse_suppressions(f, catalogue) for f in files}
    kept = []
    for d in diagnostics:
        suppressed = False
        for s in table.get(d.path, ()):
            if (s.file_level or d.span.line in s.targets) and (s.rules is None or d.rule in s.rules):
                s.used = suppressed = True
        if not suppressed:
            kept.append(d)
    rule = catalogue.get(SUPPRESSION_RULE)
    if rule is None or SUPPRESSION_RULE not in active:
        return kept
    by_rel = {f.rel: f for f in files}
    for rel, suppressions in table.items():
        for s in suppressions:
            span = Span.point(s.line, s.column)
            for key in s.unknown:
                kept.append(_diagnostic(rule, Finding(f"suppression names unknown rule {key!r}", rel, span,
                                                      anchor=f"unknown:{key}"), by_rel[rel], config))
            if s.used:
                continue
            named = s.rules if s.rules is not None else None
            if named is not None and not (named & active):
                continue  # it suppresses rules not run this time: not known to be unused
            what = ", ".join(sorted(named)) if named else "all rules"
            scope = "in this file" if s.file_level else "on this line or the next"
            kept.append(_diagnostic(rule, Finding(f"unused suppression ({what}): nothing {scope} is reported; "
                                                  "remove it", rel, span, anchor=f"unused:{what}"), by_rel[rel], config))
    return kept
