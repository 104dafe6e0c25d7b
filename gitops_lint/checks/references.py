"""References between objects, and the paths Kustomizations and kustomize files name."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable, Iterator

from gitops_lint.checks import Context, at
from gitops_lint.diagnostics import Finding, Severity
from gitops_lint.view.paths import archived
from gitops_lint.yaml.positions import format_path

if TYPE_CHECKING:
    from gitops_lint.graph import Reference  # the graph itself is imported where a rule builds it

SECRET_LIKE = frozenset({"Secret", "ConfigMap"})


def _judged(ctx: Context) -> Iterator[Reference]:
    for ref in ctx.graph.references:
        if not ref.unresolvable and ref.kind in ref.spec.kinds:
            yield ref


def _where(ref: Reference) -> str:
    return f"{ref.kind}/{ref.namespace + '/' if ref.namespace else ''}{ref.name}"


def dangling_reference(ctx: Context) -> Iterator[Finding]:
    """A reference to a Flux object that exists nowhere in the repository."""
    for ref in _judged(ctx):
        if (ref.targets and not ref.missing_in) or ref.provided_by or ref.renamed_to or ref.kind in SECRET_LIKE:
            continue
        if ref.missing_in:
            yield at(ref.source, _name_path(ref), (
                f"{ref.spec.relation} names {_where(ref)}, {_elsewhere(ctx, ref)}: Flux looks it up in the "
                "cluster's own API, so there it is not found"))
            continue
        candidates = ctx.graph.names_of_kind(ref.kind or "")
        import difflib  # only for a name that resolves nowhere

        close = difflib.get_close_matches(ref.name or "", candidates, n=1, cutoff=0.75)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        finding = at(ref.source, ref.path + (("name",) if ref.source.doc.has(ref.path + ("name",)) else ()), (
            f"{ref.spec.relation} names {_where(ref)}, which is defined nowhere in this repository{hint}"))
        if ref.spec.wildcard:
            # An Alert's event source or a Receiver's resource that does not exist fails nothing: the Alert
            # hears nothing from it, the Receiver has nothing to wake. Worth a look, not a failure.
            finding.message += f"; {ref.source.kind} stays ready, it only never hears from or wakes that object"
            finding.severity = Severity.WARNING
        yield finding


def missing_secret(ctx: Context) -> Iterator[Finding]:
    """A Secret or ConfigMap that is not in the repository: often created outside Git, so only information."""
    for ref in _judged(ctx):
        if (ref.targets and not ref.missing_in) or ref.provided_by or ref.renamed_to or ref.kind not in SECRET_LIKE \
                or ref.optional:
            continue
        where = _elsewhere(ctx, ref) if ref.missing_in else "which is not in this repository"
        yield at(ref.source, _name_path(ref), (
            f"{ref.spec.relation} names {_where(ref)}, {where}: make sure it is created "
            "in the cluster (SOPS-encrypted in Git, an ExternalSecret, `flux create secret`)"))


def renamed_reference(ctx: Context) -> Iterator[Finding]:
    """A reference holding the name an object is written with, which kustomize changes on the way."""
    yield from _renamed_health_checks(ctx)
    graph = ctx.graph
    for ref in _judged(ctx):
        if not ref.renamed_to or ref.optional:
            continue
        names = ", ".join(sorted({graph.key(o) for o in ref.renamed_to}))
        keep = "disableNameSuffixHash: true for a generated one, " if ref.kind in SECRET_LIKE else ""
        yield at(ref.source, _name_path(ref), (
            f"{ref.spec.relation} names {_where(ref)}, but kustomize applies that object as {names} and leaves "
            f"this reference as written: Flux finds no {ref.kind} {ref.name!r}; keep the name ({keep}no name "
            "prefix or suffix), or, where one build makes both in one namespace, add this field to a "
            "nameReference entry of its kustomization's configurations:"))


def _renamed_health_checks(ctx: Context) -> Iterator[Finding]:
    """A Flux Kustomization's `healthChecks` entry naming an object it applies by the name it is written with,
    where a name prefix or suffix renames it: kustomize-controller waits for the names as written
    (inventory.ReferenceToObjMetadataSet), so the check never passes and the Kustomization fails."""
    view = ctx.view
    if not view.active:
        return
    current: set[tuple[int, str | None, str | None]] = {(a.cluster, r.kind, r.name) for a in view.applied
                                                        for r in a.resources}
    seen: set[tuple] = set()
    for applied in view.applied:
        written = applied.kustomization.origin
        spec = applied.kustomization.data.get("spec")
        checks = spec.get("healthChecks") if isinstance(spec, dict) else None
        if written is None or not isinstance(checks, list) or spec.get("wait") is True:
            continue  # with wait: true Flux checks what it applies and ignores healthChecks
        for index, check in enumerate(checks):
            if not isinstance(check, dict) or not all(isinstance(check.get(k), str) for k in ("name", "kind")) \
                    or "${" in check["name"] or (applied.cluster, check["kind"], check["name"]) in current:
                continue
            group = str(check.get("apiVersion") or "").rpartition("/")[0]
            renamed = sorted({r.name for r in applied.resources if r.kind == check["kind"] and r.name
                              and r.group == group and r.namespace == check.get("namespace")
                              and r.name != check["name"] and check["name"] in r.names})
            if renamed and (id(written.doc), index) not in seen:
                seen.add((id(written.doc), index))
                yield at(written, ("spec", "healthChecks", index, "name"), (
                    f"healthChecks names {check.get('kind')}/{check['name']}, but this Kustomization applies it as "
                    f"{', '.join(renamed)} (a name prefix or suffix): Flux waits for the name as written, which never "
                    "appears, so the health check times out and the Kustomization fails; name it as applied"))


def _name_path(ref: Reference) -> tuple:
    return ref.path + (("name",) if ref.source.doc.has(ref.path + ("name",)) else ())


def _elsewhere(ctx: Context, ref: Reference) -> str:
    """Where a reference's target is, when some cluster applying the referrer lacks it."""
    graph = ctx.graph
    defined = graph.find(ref.kind or "", ref.name or "", ref.namespace)
    having = sorted({c for o in defined for c in graph.clusters.get(id(o), ())} - set(ref.missing_in))
    lacking = ", ".join(graph.cluster_names.get(c, str(c)) for c in ref.missing_in)
    others = ", ".join(graph.cluster_names.get(c, str(c)) for c in having)
    return f"which only cluster {others} applies, not cluster {lacking}, which applies this object too"


def depends_on_cycle(ctx: Context) -> Iterator[Finding]:
    """Each dependsOn cycle once, reported at every member's dependsOn entry that closes it."""
    graph = ctx.graph
    # Per cluster: a dependency holds where both objects are applied, and two clusters' edges never close
    # a cycle together (None: objects placed in no cluster, or a repository of one).
    by_cluster: dict[int | None, dict[tuple[str, str], Reference]] = {}
    for ref in graph.references:
        if ref.spec.relation != "dependsOn":
            continue
        for target in ref.targets:
            shared = graph.shared_clusters(ref.source, target)
            for cluster in (None,) if shared is None else shared:
                by_cluster.setdefault(cluster, {})[(graph.key(ref.source), graph.key(target))] = ref
    for entries in by_cluster.values():
        if _has_cycle(entries):  # the common case, no cycle, is decided without networkx
            yield from _cycles(entries)


def _cycles(entries: dict[tuple[str, str], Reference]) -> Iterator[Finding]:
    import networkx

    dependency = networkx.DiGraph(list(entries))
    for cycle in sorted(sorted(c) if len(c) == 1 else _rotate(c) for c in networkx.simple_cycles(dependency)):
        text = " -> ".join([*cycle, cycle[0]])
        for index, member in enumerate(cycle):
            ref = entries[(member, cycle[(index + 1) % len(cycle)])]
            yield at(ref.source, ref.path + ("name",), (
                f"dependsOn cycle: {text}; none of them ever becomes ready"))


def _has_cycle(edges: Iterable[tuple[str, str]]) -> bool:
    """Whether the dependsOn edges close a cycle: peel off objects that depend on nothing left (Kahn);
    whatever cannot be peeled off lies on or behind a cycle."""
    depends_on: dict[str, int] = {}
    dependants: dict[str, list[str]] = {}
    for source, target in edges:
        depends_on[source] = depends_on.get(source, 0) + 1
        depends_on.setdefault(target, 0)
        dependants.setdefault(target, []).append(source)
    ready = [node for node, count in depends_on.items() if count == 0]
    peeled = 0
    while ready:
        node = ready.pop()
        peeled += 1
        for dependant in dependants.get(node, ()):
            depends_on[dependant] -= 1
            if depends_on[dependant] == 0:
                ready.append(dependant)
    return peeled < len(depends_on)


def _rotate(cycle: list[str]) -> list[str]:
    """A cycle starting at its smallest member, so each cycle has one spelling."""
    start = cycle.index(min(cycle))
    return cycle[start:] + cycle[:start]


def kustomization_path(ctx: Context) -> Iterator[Finding]:
    """spec.path of a Flux Kustomization that escapes the repository, does not exist, or holds no manifests."""
    if not ctx.settings.whole_repo:
        return
    for resolution in ctx.paths:
        ks = resolution.kustomization
        where = ("spec", "path") if ks.doc.has(("spec", "path")) else ("spec",)
        if resolution.folder is None or resolution.files:
            continue
        # discovery knows the folders of the files it loads; one holding no YAML (only a .gitkeep) is on disk
        exists = ctx.file_index.exists(resolution.folder) or _in_the_tree(ctx, resolution.folder, folder=True)
        # kustomize-controller builds a folder without manifests as an empty kustomization: Ready, applying nothing
        what = ("holds no manifests: Flux applies nothing" + (", and prune deletes what it applied before"
                                                             if ks.spec.prune else "")) if exists else \
            "does not exist in this repository"
        if resolution.escapes:
            finding = at(ks, where, (f"spec.path {ks.spec.path!r} climbs above the source's root, which Flux clamps "
                                     f"to ./{resolution.folder}; that folder {what}"))
        else:
            finding = at(ks, where, f"spec.path {ks.spec.path!r} {what}")
        if exists:
            finding.severity = Severity.WARNING
        yield finding


def _in_the_tree(ctx: Context, rel: str, *, folder: bool) -> bool:
    """Whether a file (or a folder holding files) discovery did not load is in the source's artifact: on disk,
    and in a git work tree tracked by git (an empty or ignored folder is in no artifact: "path not found")."""
    import subprocess

    root = ctx.settings.root
    if root is None or not ((root / rel).is_dir() if folder else (root / rel).is_file()):
        return False
    if not (root / ".git").exists():
        return True
    try:
        listed = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--", rel], capture_output=True,
                                timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return True  # git cannot say: the disk does
    return listed.returncode != 0 or bool(listed.stdout)


def kustomize_missing_entry(ctx: Context) -> Iterator[Finding]:
    """Files and folders a kustomization names (resources, patches, plugin configs and what those
    name) that are not in the repository: kustomize fails the build on each."""
    if not ctx.settings.whole_repo:
        return
    from gitops_lint.model.kustomize import RESOURCE, KustomizeFile

    index = ctx.file_index
    for ref in ctx.model.file_references:
        if archived(ref.owner.path) or "${" in ref.entry:
            continue
        where = format_path(ref.field)
        if ref.target is None:
            yield at(ref.owner, ref.field, f"{where} entry {ref.entry!r} leaves the repository")
            continue
        # Only YAML files and folders are known to discovery: an `.env` or a certificate may exist unseen.
        name = ref.entry.rsplit("/", 1)[-1]
        judged = name.endswith((".yaml", ".yml")) or (ref.role == RESOURCE and "." not in name)
        if judged and not index.exists(ref.target) and not (
                "." not in name and _in_the_tree(ctx, ref.target, folder=False)):
            # (a resource file without an extension is read like any: discovery loads only YAML names)
            # A plugin config's paths are resolved from the kustomization listing it, not from its own folder.
            relative = "" if isinstance(ref.owner, KustomizeFile) else " (relative to the kustomization listing it)"
            yield at(ref.owner, ref.field, f"{where} entry {ref.entry!r} names no file or folder{relative}")


def remote_resource(ctx: Context) -> Iterator[Finding]:
    from gitops_lint.model.kustomize import KustomizeFile, is_remote

    for kustomize in ctx.model.of_type(KustomizeFile):
        for position, entry in enumerate(kustomize.resources or ()):
            if isinstance(entry, str) and is_remote(entry):
                yield at(kustomize, ("resources", position), (
                    f"remote resource {entry!r}: fetched at build time, so not checked here and not pinned unless "
                    "it names a tag or commit"))


def _applied_by(ctx: Context) -> dict[str, list]:
    """File -> the Flux Kustomizations whose path applies it."""
    out: dict[str, list] = {}
    for resolution in ctx.paths:
        for rel in resolution.files:
            out.setdefault(rel, []).append(resolution.kustomization)
    return out


def duplicate_object(ctx: Context) -> Iterator[Finding]:
    """The same Kind/namespace/name twice in what one Flux Kustomization applies: kustomize refuses the build."""
    if not ctx.settings.whole_repo:
        return
    if ctx.view.active:
        yield from _duplicates_in_view(ctx)
        return
    graph = ctx.graph
    by_file: dict[str, list] = {}
    for obj in graph.objects:
        by_file.setdefault(obj.path, []).append(obj)
    reported: set[int] = set()
    for resolution in ctx.paths:
        seen: dict[tuple, object] = {}
        for rel in resolution.files:
            for obj in by_file.get(rel, ()):
                # kustomize's resource id includes the API group: talos.dev's ServiceAccount is not core's
                key = graph.key(obj)
                first = seen.setdefault((obj.group, key), obj)
                if first is not obj and id(obj) not in reported:
                    reported.add(id(obj))
                    yield at(obj, ("metadata", "name"), (
                        f"{key} is defined twice in what {graph.key(resolution.kustomization)} applies (first in "
                        f"{first.path}:{first.doc.span.line}): kustomize refuses the build with "
                        "'may not add resource with an already registered id'"))


def _duplicates_in_view(ctx: Context) -> Iterator[Finding]:
    """kustomize's resource id is (group, kind, namespace, name) after every transform of the build."""
    view = ctx.view
    reported: set[int] = set()
    for applied in view.applied:
        seen: dict[tuple, object] = {}
        for resource in applied.resources:
            if resource.name is None:
                continue
            first = seen.setdefault(resource.identity, resource)
            if first is resource:
                continue
            key = "/".join(p for p in (resource.kind, resource.namespace, resource.name) if p)
            message = (f"{key} is defined twice in what {applied.key} applies (first in {first.path}:"
                       f"{first.doc.span.line}): kustomize refuses the build with 'may not add resource with an "
                       "already registered id'")
            if resource.origin is None and not resource.generator:  # an item of a `<Kind>List` document
                item = _list_item_path(resource, same_list=first.doc is resource.doc)
                if item and (id(resource.doc), item) not in reported:
                    reported.add((id(resource.doc), item))
                    yield Finding(message, resource.path, resource.doc.locate((*item, "metadata", "name")),
                                  anchor=format_path(item))
                continue
            obj = view.typed(resource)
            if obj is None or id(resource.doc) in reported or resource.origin is None:
                continue
            reported.add(id(resource.doc))
            yield at(obj, ("metadata", "name"), message)


def _list_item_path(resource, *, same_list: bool) -> tuple:
    """Where in its `<Kind>List` document an item is (found by kind and name as written): the later of two
    alike items where the other is in the same list. () when not found (a List inside a List)."""
    data = resource.doc.data
    items = data.get("items") if isinstance(data, dict) else None
    written = resource.former_ids[0][0] if resource.former_ids else resource.name
    found = [("items", index) for index, item in enumerate(items if isinstance(items, list) else ())
             if isinstance(item, dict) and item.get("kind") == resource.kind
             and isinstance(item.get("metadata"), dict) and item["metadata"].get("name") == written]
    return found[1] if same_list and len(found) > 1 else (found[0] if found else ())


def depends_on_suspended(ctx: Context) -> Iterator[Finding]:
    """dependsOn an object that is suspended: it never becomes ready, so the dependent never reconciles."""
    for ref in ctx.graph.references:
        if ref.spec.relation != "dependsOn":
            continue
        for target in ref.targets:
            data = ctx.graph.data_of(target)
            spec = data.get("spec") if isinstance(data, dict) else None
            if isinstance(spec, dict) and spec.get("suspend") is True:
                yield at(ref.source, ref.path + ("name",), (
                    f"dependsOn {ctx.graph.key(target)}, which is suspended (spec.suspend: true): it never becomes "
                    "ready, so this object waits forever"))


def unreachable_file(ctx: Context, entry_points: list | None = None) -> Iterator[Finding]:
    """Manifests that neither a cluster entry point nor a Flux Kustomization in the repository applies.

    An entry point is a folder `flux bootstrap` (or the Flux Operator) syncs,
    by convention `clusters/<name>/` at any depth: everything below it is
    applied, as are the paths of the Flux Kustomizations found anywhere.
    """
    if not ctx.settings.whole_repo:
        return
    if ctx.view.active:
        yield from _unapplied_in_view(ctx)
        return
    import fnmatch

    from gitops_lint.model.kubernetes import is_generated
    from gitops_lint.model.kustomize import KustomizeFile

    patterns = [str(p).rstrip("/") for p in (entry_points or ["clusters/*", "*/clusters/*"])]
    source_root = ctx.settings.source_root
    index = ctx.file_index
    applied = set(_applied_by(ctx))
    if not applied:
        return  # no Kustomization path resolves here: nothing to judge reachability by
    for folder in sorted(index.dirs):
        local = folder[len(source_root) + 1:] if source_root and folder.startswith(source_root + "/") else folder
        if any(fnmatch.fnmatch(local, p) for p in patterns):
            applied.update(index.applied_files(folder))
    reported: set[str] = set()
    in_chart = _in_helm_chart(ctx)
    for obj in ctx.graph.objects:
        rel = obj.path
        if (rel in applied or rel in reported or archived(rel) or isinstance(obj, KustomizeFile)
                or is_generated(obj.doc.data)  # `compile --with-agent-objects` output: shown, never applied
                or in_chart(rel)):
            continue
        reported.add(rel)
        yield at(obj, ("kind",), (
            f"neither a Flux Kustomization in this repository nor a cluster entry point ({', '.join(patterns)}) "
            f"applies {rel}: Flux never applies it (if a bootstrap script does, add its folder to the rule's "
            "entry_points)"))


def _in_helm_chart(ctx: Context):
    """Whether a file lies in a Helm chart (a folder with a Chart.yaml, such as its `crds/`): Helm installs
    it through a HelmRelease, not a Kustomization."""
    charts = tuple(f.rel.rpartition("/")[0] + "/" for f in ctx.files if f.rel.rpartition("/")[2] == "Chart.yaml")
    return lambda rel: bool(charts) and (rel.startswith(charts) or "/" in charts)


def _unapplied_in_view(ctx: Context) -> Iterator[Finding]:
    """Each file of objects no followed Flux Kustomization applies, once; its findings are not reported."""
    from gitops_lint.model.kubernetes import is_generated

    view = ctx.view
    unapplied = view.unapplied_files
    unfollowed = [a for a in view.applied if a.skipped]
    caveat = (f"; {len(unfollowed)} Kustomization(s) read sources gitops-lint cannot follow (another repository, "
              "an OCI artifact, a ${VAR} path), which may apply it") if unfollowed else ""
    reported: set[str] = set()
    in_chart = _in_helm_chart(ctx)
    for obj in ctx.model.objects:
        rel = obj.path
        if rel not in unapplied or rel in reported or archived(rel) or is_generated(obj.doc.data) or in_chart(rel):
            continue
        reported.add(rel)
        yield at(obj, ("kind",) if obj.doc.has(("kind",)) else (), (
            f"no Flux Kustomization this repository feeds applies {rel} (entry points: {view.entry_kind}), so "
            f"its objects are not judged{caveat}"))


#: The controller that resolves the references of each kind (and runs with --no-cross-namespace-refs or not).
_CONTROLLER_OF = {"Kustomization": "kustomize-controller", "HelmRelease": "helm-controller",
                  "Alert": "notification-controller", "Provider": "notification-controller",
                  "Receiver": "notification-controller", "ImagePolicy": "image-reflector-controller",
                  "ImageUpdateAutomation": "image-automation-controller"}
_NO_CROSS_NAMESPACE_REFS = re.compile(r"--no-cross-namespace-refs(?:=(\w+))?")


def cross_namespace_reference(ctx: Context, forbidden: bool = False) -> Iterator[Finding]:
    """References into another namespace, where Flux refuses them.

    An ImagePolicy may name an ImageRepository elsewhere only if that
    repository's `spec.accessFrom` admits the policy's namespace; every other
    cross-namespace reference is refused when the controllers run with
    `--no-cross-namespace-refs=true`: the rule's `forbidden` option says so for
    every cluster, and a cluster's own configuration for its controllers (the
    multi-tenancy lockdown patch of `flux bootstrap`, a FluxInstance's
    `cluster.multitenant`).
    """
    graph = ctx.graph
    locked = _locked_down(ctx) if not forbidden else {}
    every_cluster = frozenset(locked)
    elsewhere = _applied_elsewhere(ctx) if locked else set()
    for ref in graph.references:
        own = graph.namespace_of(ref.source)
        if ref.spec.local or own is None or ref.namespace in (None, own) or "${" in ref.namespace:
            continue
        path = ref.path + (("namespace",) if ref.source.doc.has(ref.path + ("namespace",)) else ())
        controller = _CONTROLLER_OF.get(ref.source.kind or "")
        # with two clusters or more, an object is judged in those that apply it; with one, in that one
        in_clusters = graph.clusters.get(id(ref.source), frozenset()) if graph.clusters else every_cluster
        if id(ref.source) in elsewhere:
            in_clusters = frozenset()  # applied only through a kubeConfig: no lockdown here tells
        where = sorted({locked[c][controller] for c in in_clusters if controller in locked.get(c, {})})
        # dependsOn is read without the check (the controllers only get the object); a wildcard
        # (`name: '*'` of an Alert or Receiver) is refused like a name
        if (forbidden or where) and ref.spec.relation != "dependsOn":
            why = "(rule option)" if forbidden else f"({'; '.join(where)})"
            yield at(ref.source, path, (
                f"{ref.spec.relation} reaches into namespace {ref.namespace} from {own}: "
                f"{controller or 'the controllers'} run{'' if controller is None else 's'} with "
                f"--no-cross-namespace-refs=true {why}, so Flux refuses it; keep the object in one namespace"))
        elif ref.spec.relation == "imageRepositoryRef" and not ref.unresolvable:
            for target in ref.targets:
                access = (graph.data_of(target).get("spec") or {}).get("accessFrom")
                if not _admits(access, ref.source):
                    yield at(ref.source, path, (
                        f"imageRepositoryRef names {graph.key(target)} in another namespace, whose spec.accessFrom "
                        f"does not admit namespace {own}: image-reflector-controller refuses the policy"))


def _locked_down(ctx: Context) -> dict[int, dict[str, str]]:
    """cluster -> controller -> where the cluster's configuration runs it with --no-cross-namespace-refs=true:
    a patch of its Deployment in what the cluster builds (`flux bootstrap`'s multi-tenancy lockdown), or a
    FluxInstance (or flux-instance chart values) of the cluster. Patches count in the order kustomize runs
    them (a base's before its overlay's, a Flux Kustomization's own `spec.patches` last), and the last
    value of a repeated flag wins. A Kustomization with a `kubeConfig` builds for another cluster: not
    this one's configuration."""
    view = ctx.view
    if not view.active:
        return {}
    from gitops_lint.model.kustomize import KustomizeFile
    from gitops_lint.view.flux import _instance_chart
    from gitops_lint.view.kustomize import is_inline_patch

    kustomize_files = {o.path: o for o in ctx.model.objects if isinstance(o, KustomizeFile)}
    out: dict[int, dict[str, str]] = {}
    seen: set[tuple[int, object]] = set()  # (cluster, a file's path or an instance's data) judged there
    for applied in view.applied:
        found = out.setdefault(applied.cluster, {})
        spec = applied.kustomization.data.get("spec")
        spec = spec if isinstance(spec, dict) else {}
        if applied.remote or applied.builds_remote:
            continue
        instances = [(applied.holder.doc.data, applied.holder.path)] if applied.holder is not None else []
        instances += [(r.data, r.path) for r in applied.resources
                      if r.kind == "FluxInstance" or (r.kind == "HelmRelease" and _instance_chart(r.data))]
        for data, where in instances:
            if (applied.cluster, id(data)) not in seen:
                seen.add((applied.cluster, id(data)))
                _instance_lockdown(ctx, data, where, found)
        for rel in reversed(list(dict.fromkeys(applied.files))):  # the deepest kustomization's patches first
            kustomization = kustomize_files.get(rel)
            if kustomization is None or (applied.cluster, rel) in seen:
                continue
            seen.add((applied.cluster, rel))
            data = kustomization.doc.data if isinstance(kustomization.doc.data, dict) else {}
            folder = rel.rpartition("/")[0]
            for key in ("patchesStrategicMerge", "patchesJson6902", "patches"):  # kustomize's order
                entries = data.get(key)
                if key == "patchesStrategicMerge" and isinstance(entries, list):
                    entries = [{"patch": e} if is_inline_patch(e) else {"path": e} for e in entries if isinstance(e, str)]
                _lockdown_patches(ctx, entries, rel, found, folder)
        _lockdown_patches(ctx, spec.get("patches"), applied.kustomization.path, found)
    return {cluster: controllers for cluster, controllers in out.items() if controllers}


def _applied_elsewhere(ctx: Context) -> set[int]:
    """The objects (as the graph holds them) that only Kustomizations with a `kubeConfig`, or below one,
    apply: they live in another cluster, whose controllers' flags the repository does not show here."""
    view = ctx.view
    remote, local = set(), set()
    for applied in view.applied:
        into = remote if applied.remote or applied.builds_remote else local
        into.update(id(typed) for resource in applied.resources if (typed := view.typed(resource)) is not None)
    return remote - local


def _instance_lockdown(ctx: Context, data, where: str, found: dict[str, str]) -> None:
    """A FluxInstance's (or a flux-instance chart's values') `cluster.multitenant` and `kustomize.patches`."""
    if not isinstance(data, dict):
        return
    spec = data.get("spec") if isinstance(data.get("spec"), dict) else {}
    if data.get("kind") == "FluxInstance":
        instance = spec
    else:
        values = spec.get("values") if isinstance(spec.get("values"), dict) else {}
        instance = values.get("instance")
    if not isinstance(instance, dict):
        return
    cluster = instance.get("cluster") if isinstance(instance.get("cluster"), dict) else {}
    if cluster.get("multitenant") is True:
        found.update({c: f"cluster.multitenant in {where}" for c in set(_CONTROLLER_OF.values())})
    kustomize = instance.get("kustomize") if isinstance(instance.get("kustomize"), dict) else {}
    _lockdown_patches(ctx, kustomize.get("patches"), where, found)


def _lockdown_patches(ctx: Context, patches, where: str, found: dict[str, str], folder: str = "") -> None:
    """What `patches` (kustomize's, a Flux Kustomization's or a FluxInstance's) set --no-cross-namespace-refs to,
    per controller: read from the patches' values (comments are no values), for the Deployments the target
    names (a strategic-merge patch without one names its Deployment inside). A target by labels is left
    alone: the Deployments' labels are not at hand."""
    from gitops_lint.view.kustomize import join_path, parse_patch, scalars

    for entry in patches if isinstance(patches, list) else ():
        if not isinstance(entry, dict):
            continue
        text = entry.get("patch")
        if not isinstance(text, str) and isinstance(entry.get("path"), str):
            rel = join_path(folder, entry["path"].strip())
            data = ctx.read(rel) if rel is not None else None
            text = data.decode("utf-8", "replace") if data is not None else None
        if not isinstance(text, str) or "--no-cross-namespace-refs" not in text:
            continue
        target = entry.get("target")
        target = target if isinstance(target, dict) else None
        if target is not None and (target.get("labelSelector") or target.get("annotationSelector")
                                   or target.get("kind") not in (None, "Deployment")):
            continue
        for document in parse_patch(text):
            flags = [f for value in scalars(document)
                     if isinstance(value, str) and (f := _NO_CROSS_NAMESPACE_REFS.fullmatch(value.strip()))]
            if not flags:
                continue
            names = _target_controllers(target, document)
            on = (flags[-1].group(1) or "true").lower() in ("true", "1", "t")
            for controller in names:
                if on:
                    found[controller] = f"patched in {where}"
                else:
                    found.pop(controller, None)


def _target_controllers(target: dict | None, document) -> set[str]:
    """The Flux controllers a patch applies to: those its target's name matches (a whole-string regular
    expression, as kustomize matches it), else the one a strategic-merge patch names."""
    import warnings

    controllers = set(_CONTROLLER_OF.values())
    if target is None:
        metadata = document.get("metadata") if isinstance(document, dict) else None
        name = metadata.get("name") if isinstance(metadata, dict) else None
        return {name} & controllers if isinstance(name, str) else set()
    name = target.get("name")
    if name is None:
        return controllers
    if not isinstance(name, str):
        return set()
    try:  # Go's RE2 syntax: `\z` is Python's `\Z`; what Python reads otherwise is left alone (not judged)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pattern = re.compile(name.replace("\\z", "\\Z"))
    except re.error:
        return set()
    return {c for c in controllers if pattern.fullmatch(c)}


def _admits(access, obj) -> bool:
    """Whether `accessFrom.namespaceSelectors` admits the namespace of `obj`.

    Namespace labels other than `kubernetes.io/metadata.name` are not in the
    repository, so any other selector is given the benefit of the doubt.
    """
    if not isinstance(access, dict):
        return False
    for selector in access.get("namespaceSelectors") or ():
        labels = selector.get("matchLabels") if isinstance(selector, dict) else None
        if labels == {} or labels is None or labels.get("kubernetes.io/metadata.name") in (obj.namespace, None):
            return True
    return False


def build_fails(ctx: Context) -> Iterator[Finding]:
    """What makes kustomize-controller fail a whole Kustomization: a document that is no Kubernetes object
    in what its path builds, a folder resource without a kustomization file, a variable strict
    substitution finds unset."""
    from gitops_lint.diagnostics import Span

    if not ctx.settings.whole_repo or not ctx.view.active:
        return
    yield from _unset_in_strict_substitution(ctx)
    yield from _invalid_variable_names(ctx)
    failing: dict[tuple, list[str]] = {}
    where: dict[tuple, object] = {}
    for applied in ctx.view.applied:
        for problem in applied.problems:
            if not problem.fatal:
                continue
            key = (id(problem.doc) if problem.doc is not None else id(problem.owner), problem.field, problem.message)
            failing.setdefault(key, []).append(applied.key)
            where[key] = problem
    for key, kustomizations in failing.items():
        problem = where[key]
        names = ", ".join(sorted(set(kustomizations)))
        message = f"{problem.message}; Flux fails {names} on it, and applies none of its objects"
        if problem.doc is not None and problem.field:  # a field of a document no model object holds
            yield Finding(message, problem.doc.file.rel, problem.doc.locate(problem.field, key=problem.point == "key"),
                          anchor=format_path(problem.field))
        elif problem.doc is not None:
            span = problem.doc.span
            yield Finding(message, problem.doc.file.rel, Span(span.line, span.column, span.line, span.column + 1),
                          anchor=f"document {problem.doc.index}")
        else:
            yield at(problem.owner, problem.field, message, key=problem.point == "key",
                     value=problem.point == "value")


#: kustomize-controller's feature gate, on by default from v1.9 (Flux 2.9): `--feature-gates=...=false` turns it off.
_STRICT_GATE_OFF = re.compile(r"StrictPostBuildSubstitutions\s*=\s*(?:false|f|0)\b", re.IGNORECASE)


def _unset_in_strict_substitution(ctx: Context) -> Iterator[Finding]:
    """Flux 2.9 substitutes strictly (kustomize-controller's StrictPostBuildSubstitutions, on by default from
    v1.9): a bare `${VAR}` that none of a Kustomization's variables sets fails it (fluxcd/pkg envsubst:
    "variable not set (strict mode)"); forms with a default (`${VAR:=x}`) pass. Judged only where every
    variable is known: each substituteFrom object is in the repository (its keys count, whatever their
    values), and the expression is still in the object Flux builds (no patch replaced it); not where the
    repository turns the gate off."""
    from gitops_lint.view.substitute import EXPRESSION_RE, TOKEN_RE, disabled
    from gitops_lint.view.version import DEFAULT, release_key
    from gitops_lint.yaml.positions import value_at

    versions = ctx.settings.flux_versions
    if versions is None:
        return
    of_cluster = {cluster: versions.for_path(f"{folder}/") for cluster, folder in ctx.view.cluster_names.items()}
    sources: dict[tuple, set[str]] | None = None
    strings: dict[int, list[tuple[tuple, str]]] = {}  # id(document) -> its strings holding `${`
    unset: dict[tuple, list] = {}  # (document, path, variable) -> [object, version, Kustomizations]
    for applied in ctx.view.applied:
        variables = applied.variables
        if variables is None or variables.literal or variables.open_ended:
            continue
        version = of_cluster.get(applied.cluster, versions.repository)
        if release_key(version.release) < (2, 9):
            continue
        sources = _variable_keys(ctx.view) if sources is None else sources
        known = _known_variables(applied, sources)
        if known is None:
            continue
        for resource in applied.resources:
            written = resource.origin
            if written is None:
                continue
            found = strings.get(id(written.doc))
            if found is None:
                found = strings[id(written.doc)] = list(_strings(written.doc.data)) \
                    if "${" in written.doc.file.text else []
            if not found or disabled(resource.data):
                continue
            for path, text in found:
                for match in TOKEN_RE.finditer(text):
                    expression = EXPRESSION_RE.match(match.group(1) or "")
                    if expression is None or expression.group("op") is not None or expression.group("name") in known:
                        continue
                    built = value_at(resource.data, path)
                    if not (isinstance(built, str) and match.group(0) in built):
                        continue  # a patch replaced it on the way: not in what Flux substitutes
                    entry = unset.setdefault((id(written.doc), path, expression.group("name")), [written, version, []])
                    entry[2].append(applied.key)
    if unset and any(f.text and "StrictPostBuildSubstitutions" in f.text and _STRICT_GATE_OFF.search(f.text)
                     for f in ctx.files):
        return  # the repository turns the gate off (read only when there is something to report)
    for (_, path, name), (written, version, kustomizations) in unset.items():
        finding = at(written, path, (
            f"${{{name}}} is set by no post-build variable of {', '.join(sorted(set(kustomizations)))} and has no "
            f"default: Flux {version.release} substitutes strictly, so it fails the Kustomization (\"variable not "
            f"set (strict mode)\"); set it, give it a default (${{{name}:=...}}), escape it ($${{{name}}}) or "
            f"annotate the object kustomize.toolkit.fluxcd.io/substitute: disabled ({version.describe})"))
        if version.source == DEFAULT:
            finding.severity = Severity.WARNING  # the repository does not say it runs 2.9: it may run one before
        yield finding


def _variable_keys(view) -> dict[tuple, set[str]]:
    """(cluster, kind, namespace, name) -> the keys of each ConfigMap and Secret the view applies: the variables
    `substituteFrom` gets from it, whatever their values (SOPS-encrypted, holding `${...}` themselves)."""
    out: dict[tuple, set[str]] = {}
    for resource, clusters in view.placed():
        if resource.kind not in ("ConfigMap", "Secret") or resource.group != "" or not resource.name:
            continue
        keys = {str(k) for field in ("data", "stringData", "binaryData")
                for k in (resource.data.get(field) if isinstance(resource.data.get(field), dict) else ())}
        for cluster in clusters:
            out.setdefault((cluster, resource.kind, resource.namespace, resource.name), set()).update(keys)
    return out


def _known_variables(applied, sources: dict[tuple, set[str]]) -> set[str] | None:
    """Every variable name a Kustomization sets (inline and the keys of its substituteFrom objects); None when
    an object it reads is not in the repository (optional or not: it may be in the cluster)."""
    spec = applied.kustomization.data.get("spec")
    post_build = spec.get("postBuild") if isinstance(spec, dict) else None
    if not isinstance(post_build, dict):
        return None
    inline = post_build.get("substitute")
    known = {str(k) for k in inline} if isinstance(inline, dict) else set()
    references = post_build.get("substituteFrom")
    for ref in references if isinstance(references, list) else ():
        if not isinstance(ref, dict):
            return None
        keys = sources.get((applied.cluster, str(ref.get("kind")), applied.kustomization.namespace, str(ref.get("name"))))
        if keys is None:
            return None
        known |= keys
    return known


def _strings(data) -> Iterator[tuple[tuple, str]]:
    """(path, text) of every string value holding `${` in `data`."""
    stack: list[tuple[tuple, object]] = [((), data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((path + (k,), v) for k, v in reversed(list(value.items())))
        elif isinstance(value, list):
            stack.extend((path + (i,), v) for i, v in reversed(list(enumerate(value))))
        elif isinstance(value, str) and "${" in value:
            yield path, value


#: fluxcd/pkg kustomize_varsub.go `varsubRegex` (Go's [:alpha:] is ASCII letters).
_VARIABLE_NAME = re.compile(r"[_A-Za-z][_A-Za-z0-9]*")


def _invalid_variable_names(ctx: Context) -> Iterator[Finding]:
    """A post-build variable whose name is no shell name (`CLUSTER-NAME`), inline or a key of a ConfigMap or
    Secret `substituteFrom` reads: kustomize-controller fails the Kustomization before substituting ("var
    name is invalid")."""
    from gitops_lint.view.flux import variable_sources

    sources = None
    seen: set[tuple] = set()
    for applied in ctx.view.applied:
        written = applied.kustomization.origin
        spec = applied.kustomization.data.get("spec")
        post_build = spec.get("postBuild") if isinstance(spec, dict) else None
        if written is None or not isinstance(post_build, dict):
            continue
        bad: list[tuple[tuple, list[str], bool]] = []  # (path, names, at the key)
        inline = post_build.get("substitute")
        for key in inline if isinstance(inline, dict) else ():
            if not _VARIABLE_NAME.fullmatch(str(key)):
                bad.append((("spec", "postBuild", "substitute", key), [str(key)], True))
        references = post_build.get("substituteFrom")
        for index, ref in enumerate(references if isinstance(references, list) else ()):
            if not isinstance(ref, dict):
                continue
            sources = variable_sources(ctx.view) if sources is None else sources
            found = sources.get((applied.cluster, str(ref.get("kind")), applied.kustomization.namespace,
                                 str(ref.get("name")))) or {}
            names = sorted(k for k in found if not _VARIABLE_NAME.fullmatch(k))
            if names:
                bad.append((("spec", "postBuild", "substituteFrom", index, "name"), names, False))
        for path, names, at_key in bad:
            if (id(written.doc), path) in seen:
                continue
            seen.add((id(written.doc), path))
            where = "" if at_key else f" (keys of {_ref_text(written, path)})"
            yield at(written, path, (
                f"post-build variable name{'s' if len(names) > 1 else ''} {', '.join(repr(n) for n in names)}{where} "
                "must be letters, digits and _, not starting with a digit: kustomize-controller fails the "
                "Kustomization (\"var name is invalid\") and applies none of it"), key=at_key)


def _ref_text(written, path: tuple) -> str:
    """`ConfigMap/cluster-vars`: the object a substituteFrom entry at `path` names."""
    from gitops_lint.yaml.positions import value_at

    entry = value_at(written.doc.data, path[:-1])
    return f"{entry.get('kind')}/{entry.get('name')}" if isinstance(entry, dict) else "what it names"
