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

from gitops_lint.discover import UNREADABLE, Candidate
from gitops_lint.diagnostics import Span
from gitops_lint.yaml.loader import LoadProblem, SourceFile, load_file, read_source

if TYPE_CHECKING:
    from gitops_lint.cache import Cache

#: Fewer files to parse than this are parsed in this process: starting workers costs more.
PARALLEL_MIN_FILES = 400
#: Tasks per worker: few enough that each pays for its round trip, enough that workers end together.
_TASKS_PER_WORKER = 6


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
    #: "yaml", "template" (read, not parsed) or "unreadable" (discovery knows it cannot be read).
    mode: str
    #: Content digest, when the cache is in use and the file could be read; else None.
    content: bytes | None = None
    #: The bytes, when they had to be read to hash them (so they are not read twice).
    raw: bytes | None = None


def identify(candidates: Sequence[Candidate], cache: "Cache | None") -> list[Identity]:
    out = []
    roots: dict[Path, str] = {}
    for candidate in candidates:
        if candidate.unreadable:
            out.append(Identity(candidate, "unreadable"))
            continue
        item = Identity(candidate, "template" if candidate.template else "yaml")
        out.append(item)
        if cache is None:
            continue
        from gitops_lint.cache import digest, file_state

        root = roots.get(candidate.root)
        if root is None:
            root = roots[candidate.root] = str(candidate.root)
        location = f"{root}/{candidate.name}"  # a string: a Path per file costs more than its stat
        try:
            state = file_state(os.stat(location))
            item.content = cache.known_digest(candidate.name, state)
            if item.content is None:
                with open(location, "rb") as handle:
                    item.raw = handle.read()
                item.content = digest(item.raw)
        except OSError:
            item.content = item.raw = None  # the loader reads it again and says why it cannot
            continue
        cache.note_file(candidate.name, state, item.content)
    return out


@dataclass(slots=True)
class Loaded:
    files: list[SourceFile]
    #: Files parsed by this run (the others came from the cache).
    parsed: int


def load(identities: Sequence[Identity], cache: "Cache | None" = None, jobs: int = 1,
         progress: Callable[[int, int], None] | None = None) -> Loaded:
    from gitops_lint.yaml import record

    files: list[SourceFile | None] = [None] * len(identities)
    todo: list[int] = []
    for index, item in enumerate(identities):
        candidate = item.candidate
        if item.mode == "unreadable":
            source = SourceFile(path=candidate.path, rel=candidate.rel, skipped=UNREADABLE)
            source.problems.append(LoadProblem(UNREADABLE, candidate.unreadable or "", Span.point(1)))
            files[index] = source
            continue
        stored = cache.record(item.content, item.mode) if cache is not None and item.content is not None else None
        if stored is not None:
            try:
                files[index] = record.decode(stored, candidate.path, candidate.rel)
                continue
            except (ValueError, EOFError, TypeError):
                pass  # damaged: parsed again below, and the new record replaces it
            finally:
                if isinstance(stored, memoryview):
                    stored.release()
        todo.append(index)
    total = len(identities)
    done = total - len(todo)
    if progress is not None:
        progress(done, total)
    if jobs > 1 and len(todo) >= PARALLEL_MIN_FILES:
        results = _parse_in_workers([identities[i] for i in todo], jobs)
        for index, (content, blob) in zip(todo, results):
            item = identities[index]
            candidate = item.candidate
            files[index] = record.decode(blob, candidate.path, candidate.rel)
            if cache is not None and content is not None and content == item.content:
                cache.add_record(content, item.mode, blob)
            done += 1
            if progress is not None and done % 500 == 0:
                progress(done, total)
    else:
        for index in todo:
            item = identities[index]
            source = _parse(item.candidate.path, item.candidate.rel, item.mode, item.raw)
            item.raw = None
            files[index] = source
            if cache is not None and item.content is not None:
                cache.add_record(item.content, item.mode, record.encode(source))
            done += 1
            if progress is not None and done % 500 == 0:
                progress(done, total)
    return Loaded(files, len(todo))  # type: ignore[arg-type] - every slot is filled above


def _parse(path: Path, rel: str, mode: str, raw: bytes | None) -> SourceFile:
    if mode == "template":
        source = read_source(path, rel, raw)
        source.skipped = source.skipped or "template"
        return source
    return load_file(path, rel, raw=raw)


def _parse_batch(batch: list[tuple[str, str, str]]) -> list[tuple[bytes | None, bytes]]:
    """In a worker: read, hash and parse each (path, rel, mode); its content digest and record."""
    from gitops_lint.cache import digest
    from gitops_lint.yaml import record

    out = []
    for location, rel, mode in batch:
        path = Path(location)
        try:
            raw = path.read_bytes()
        except OSError:
            raw = None
        source = _parse(path, rel, mode, raw)
        out.append((None if raw is None else digest(raw), record.encode(source)))
    return out


def _parse_in_workers(items: list[Identity], jobs: int):
    """Each item's (digest, record), in order, from `jobs` worker processes."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork where the platform has it: the workers start with this process's imports, in milliseconds.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    size = max(32, -(-len(items) // (jobs * _TASKS_PER_WORKER)))
    batches = [
        [(str(item.candidate.path), item.candidate.rel, item.mode) for item in items[start : start + size]]
        for start in range(0, len(items), size)
    ]
    with ProcessPoolExecutor(max_workers=min(jobs, len(batches)), mp_context=context) as pool:
        for batch in pool.map(_parse_batch, batches):
            yield from batch
