"""Discovered files -> loaded files: from the cache where a file is unchanged, on every core where not.

Two steps, so a run whose result is cached never decodes a file: `identify` tells each file's
content digest (from the cache's stat record, or by reading and hashing it), `load` turns the files
into `SourceFile`s, decoding cached records and parsing the rest, in worker processes when there
are enough of them. Workers return records (`yaml.record`), never live objects; the parent decodes
them in discovery order, so the result is the same whatever the number of workers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from gitops_lint.discover import UNREADABLE, Candidate, read_bytes
from gitops_lint.diagnostics import Span

if TYPE_CHECKING:
    from gitops_lint.cache import Cache
    from gitops_lint.yaml.loader import SourceFile

#: Fewer files to parse than this are parsed in this process: starting workers costs more.
PARALLEL_MIN_FILES = 400
#: A worker's batch is 1/_SHARE of each process's part of what is left: big while much is left (few round
#: trips), small at the end (no one waits long for the last).
_SHARE = 4
#: The smallest batch, and what this process parses between looks at its workers' results.
_MIN_BATCH = 48
#: The size in bytes a file whose size is not known counts as (a small manifest).
_TYPICAL_SIZE = 2048


def default_jobs() -> int:
    """The cores this process may run on (a container's CPU set, not the machine's count)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return max(os.cpu_count() or 1, 1)


@dataclass(slots=True)
class Identity:
    """What is known of one discovered file before it is loaded."""

    candidate: Candidate
    #: "yaml" (read as kyaml reads it), "go-yaml-v2" or "psych" (as GitLab or kustomize reads it:
    #: `loader.yaml_reader`), "template" (read, not parsed) or "unreadable" (discovery knows it cannot be
    #: read). Part of the cache's key.
    mode: str
    #: Content digest, when the cache is in use and the file could be read; else None.
    content: bytes | None = None
    #: The bytes, when they had to be read to hash them (so they are not read twice).
    raw: bytes | None = None
    #: (size, mtime, ctime, inode), when the cache is in use and the file could be stat'ed.
    state: tuple[int, int, int, int] | None = None


def identify(candidates: Sequence[Candidate], cache: "Cache | None",
             agent_configs: Callable[[str], bool] | None = None) -> list[Identity]:
    """`agent_configs`: more files GitLab reads as agent configs (the `agent-configs` setting), read with
    YAML 1.1's scalars as GitLab reads them."""
    from gitops_lint.yaml.loader import GO_YAML_V2, KYAML, yaml_reader

    def mode(candidate: Candidate) -> str:
        if candidate.template:
            return "template"
        rel = candidate.rel
        reader = GO_YAML_V2 if agent_configs is not None and agent_configs(rel) else yaml_reader(rel)
        return "yaml" if reader == KYAML else reader

    if cache is None:
        return [Identity(c, "unreadable" if c.unreadable else mode(c)) for c in candidates]
    from gitops_lint.cache import digest

    known, trusted_before = cache.known_files()
    # With no record of any file (a first run), each file is hashed where it is parsed, from the bytes
    # read there, not read twice.
    deferred = not known
    seen = cache.files
    out = []
    roots: dict[Path, str] = {}
    stat = os.stat
    for candidate in candidates:
        if candidate.unreadable:
            out.append(Identity(candidate, "unreadable"))
            continue
        item = Identity(candidate, mode(candidate))
        out.append(item)
        root = roots.get(candidate.root)
        if root is None:
            root = roots[candidate.root] = str(candidate.root)
        location = f"{root}/{candidate.name}"  # a string: a Path per file costs more than its stat
        try:
            state = candidate.state
            if state is None:
                st = stat(location)
                state = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
            item.state = state
            if deferred:
                cache.complete = False
                continue
            entry = known.get(candidate.name)
            if entry is not None and entry[0] == state and state[1] < trusted_before:
                content = entry[1]
            else:
                if entry is not None and entry[0] == state:
                    cache.racy = True
                item.raw = read_bytes(location)
                content = digest(item.raw)
        except OSError:
            item.raw = None  # the loader reads it again and says why it cannot
            continue
        item.content = content
        seen[candidate.name] = (state, content)
    return out


@dataclass(slots=True)
class Loaded:
    """The loaded files of a run, and how many of them were parsed rather than taken from the cache."""

    files: list[SourceFile]
    #: Files parsed by this run.
    parsed: int
    #: Files taken from the cache (the rest could not be read: a broken link, a loop, no permission).
    cached: int = 0


def load(identities: Sequence[Identity], cache: "Cache | None" = None, jobs: int = 1,
         progress: Callable[[int, int], None] | None = None) -> Loaded:
    from gitops_lint.yaml import record
    from gitops_lint.yaml.loader import LoadProblem, SourceFile

    files: list[SourceFile | None] = [None] * len(identities)
    todo: list[int] = []
    cached = 0
    for index, item in enumerate(identities):
        candidate = item.candidate
        if item.mode == "unreadable":
            source = SourceFile(location=candidate.location, rel=candidate.rel, skipped=UNREADABLE)
            source.problems.append(LoadProblem(UNREADABLE, candidate.unreadable or "", Span.point(1)))
            files[index] = source
            continue
        stored = cache.record(item.content, item.mode) if cache is not None and item.content is not None else None
        if stored is not None:
            try:
                files[index] = _with_reader(record.decode(stored, candidate.location, candidate.rel), item.mode)
                cached += 1
                continue
            except (ValueError, EOFError, TypeError):
                pass  # damaged: parsed again below, and the new record replaces it
            finally:
                if isinstance(stored, memoryview):
                    stored.release()
        todo.append(index)
    total = len(identities)
    progress_of = _Progress(progress, total, total - len(todo))

    def parse_here(index: int) -> None:
        item = identities[index]
        if cache is not None and item.content is None and item.state is not None:
            from gitops_lint.cache import digest

            try:
                item.raw = read_bytes(item.candidate.location)
            except OSError:
                pass  # the loader reads it again and says why it cannot
            else:
                note(item, digest(item.raw))
        source = _parse(item.candidate.location, item.candidate.rel, item.mode, item.raw)
        item.raw = None
        files[index] = source
        if cache is not None and item.content is not None:
            cache.add_record(item.content, item.mode, record.encode(source))
        progress_of.step()

    def take_record(index: int, content: bytes | None, blob: bytes) -> None:
        item = identities[index]
        files[index] = _with_reader(record.decode(blob, item.candidate.location, item.candidate.rel), item.mode)
        if cache is not None and content is not None:
            if item.content is None and item.state is not None:
                note(item, content)
            if content == item.content:
                cache.add_record(content, item.mode, blob)
        progress_of.step()

    def note(item: Identity, content: bytes) -> None:
        item.content = content
        cache.files[item.candidate.name] = (item.state, content)  # type: ignore[union-attr]

    if jobs > 1 and len(todo) >= PARALLEL_MIN_FILES:
        _parse_shared(todo, identities, jobs - 1, parse_here, take_record)
    else:
        for index in todo:
            parse_here(index)
    return Loaded(files, len(todo), cached)  # type: ignore[arg-type] - every slot is filled above


def _with_reader(source: "SourceFile", mode: str) -> "SourceFile":
    """A decoded record's file, told the reader it was parsed with (an agent config the `agent-configs`
    setting names is not its path's): positions read again later read it the same way."""
    from gitops_lint.yaml.loader import KYAML

    if mode != "template":
        source.reader = KYAML if mode == "yaml" else mode
    return source


class _Progress:
    def __init__(self, report: Callable[[int, int], None] | None, total: int, done: int):
        self.report, self.total, self.done = report, total, done
        if report is not None:
            report(done, total)

    def step(self) -> None:
        self.done += 1
        if self.report is not None and self.done % 500 == 0:
            self.report(self.done, self.total)


def _parse(location: str, rel: str, mode: str, raw: bytes | None) -> SourceFile:
    from gitops_lint.yaml.loader import KYAML, load_file, read_source

    if mode == "template":
        source = read_source(location, rel, raw)
        source.skipped = source.skipped or "template"
        return source
    return load_file(location, rel, raw=raw, reader=KYAML if mode == "yaml" else mode)


def _parse_batch(batch: list[tuple[str, str, str]], spool: str) -> str:
    """In a worker: read, hash and parse each (path, rel, mode) into its content digest and record, and
    write them all to a file in the folder `spool`; its name is the result.

    Not returned through the pool's pipe: a result megabytes long comes back in 64 KiB reads by the
    pool's thread in the parent, which needs the interpreter lock for each while the parent parses; a
    worker waited up to a second for its result to be taken before it could start its next batch."""
    import marshal
    import tempfile

    from gitops_lint.cache import digest
    from gitops_lint.yaml import record

    out = []
    for location, rel, mode in batch:
        try:
            raw = read_bytes(location)
        except OSError:
            raw = None
        source = _parse(location, rel, mode, raw)
        out.append((None if raw is None else digest(raw), record.encode(source)))
    handle, name = tempfile.mkstemp(dir=spool)
    with os.fdopen(handle, "wb") as stream:
        marshal.dump(out, stream)
    return name


def _size(item: Identity) -> int:
    """A file's size in bytes where discovery or the cache stat'ed it, else a typical manifest's."""
    return item.state[0] if item.state is not None else _TYPICAL_SIZE


def _parse_shared(todo: list[int], identities: Sequence[Identity], workers: int,
                  parse_here: Callable[[int], None], take_record: Callable[[int, bytes | None, bytes], None]) -> None:
    """Parse `todo` on `workers` worker processes and in this one at once.

    Workers take batches from the front of the list, this process takes small ones from the end and
    parses them itself (no record to encode and decode), until the two meet. A worker's batch is a share
    of what is left, so batches shrink towards the end and everyone finishes together. Worker results
    are decoded here in between, into their own slots: the order never depends on timing.
    """
    import marshal
    import multiprocessing
    import shutil
    import tempfile
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # fork where the platform has it: the workers start with this process's imports, in milliseconds.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    # Largest files first: workers take them from the front in batches of a share of the bytes left, this
    # process the smallest from the back, so no big file is left for one side while the other waits.
    todo = sorted(todo, key=lambda i: -_size(identities[i]))
    left_after = [0] * (len(todo) + 1)  # left_after[k]: bytes of todo[k:]
    for position in range(len(todo) - 1, -1, -1):
        left_after[position] = left_after[position + 1] + _size(identities[todo[position]])
    front, back = 0, len(todo)  # todo[front:back] is not handed out yet
    try:
        spool = tempfile.mkdtemp(prefix="gitops-lint-load-")
    except OSError:  # no writable temporary folder: parse here, one core is still a result
        for index in todo:
            parse_here(index)
        return
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            pending: dict = {}

            def feed() -> None:
                nonlocal front
                while front < back and len(pending) < 2 * workers:  # one running and one queued per worker
                    share = max(_MIN_BATCH * _TYPICAL_SIZE,
                                (left_after[front] - left_after[back]) // (_SHARE * (workers + 1)))
                    end = front + 1
                    while end < back and left_after[front] - left_after[end] < share:
                        end += 1
                    batch = todo[front:end]
                    front = end
                    work = [(identities[i].candidate.location, identities[i].candidate.rel, identities[i].mode)
                            for i in batch]
                    pending[pool.submit(_parse_batch, work, spool)] = batch

            def collect(futures) -> None:
                for future in futures:
                    name = future.result()
                    with open(name, "rb") as stream:
                        results = marshal.load(stream)
                    os.unlink(name)
                    for index, (content, blob) in zip(pending.pop(future), results):
                        take_record(index, content, blob)

            feed()
            while front < back or pending:
                collect([f for f in pending if f.done()])
                feed()
                if front < back:
                    start = max(front, back - _MIN_BATCH)
                    for index in todo[start:back]:
                        parse_here(index)
                    back = start
                elif pending:
                    collect(wait(pending, return_when=FIRST_COMPLETED).done)
    finally:
        shutil.rmtree(spool, ignore_errors=True)
