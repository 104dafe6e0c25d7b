"""The on-disk cache: what each file loaded to, and the result of the last run of each kind.

Layout of the cache folder (default `.gitops-lint-cache/` at the repository root):

    .gitignore, CACHEDIR.TAG   written once: git and backup tools leave the folder alone
    files-<root id>.pack       per repository root: every file's load record, by content
    result-<run id>.bin        per repository root and run options: the findings of the last run
    catalogue.bin              the rule files as read (parsing them is most of a warm run's start)

A pack holds the records (`yaml.record`), then a header (which tool wrote it, when, each file's
`stat` and content digest, and where each record lies); a run writes records into the next pack as
it parses, so none is held in memory. A file whose size, times and inode
match the header is taken at its recorded digest without being read; any other file is read and
hashed, and only a digest with no record is parsed. A run writes a new pack only when something
was added, holding the records of its own files: the old pack's records are copied whole when the run
still uses at least half of their bytes (a few changed files), else one by one, so a pack never holds
more than twice one repository's worth.

A result is a run's findings before the baseline and the change scope are applied, under a key of
the tool, the options, the configuration and every file's digest; it also lists the files the run
read outside discovery (generator inputs, patches) with their digests, and is used only while those
still match.

Every write goes to a temporary file renamed into place, so a reader sees a whole old file or a whole
new one; two runs at once each write a valid file and the last rename wins. Whatever is wrong with
an entry (truncated, damaged, another version's, not a cache file at all) makes it a miss, never an
error: checksums guard every part before `marshal` decodes it.
"""

from __future__ import annotations

import hashlib
import marshal
import mmap
import os
import stat
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import gitops_lint

#: Bumped when the layout of a pack or a result changes.
FORMAT = 3
DEFAULT_DIR = ".gitops-lint-cache"
ENV_DIR = "GITOPS_LINT_CACHE_DIR"
_PACK_MAGIC = b"GLPACK02"
_BLOB_MAGIC = b"GLBLOB01"
_DIGEST_SIZE = 16
#: Stored run results kept per cache folder (each is small: the findings of one run).
_KEEP_RESULTS = 64
#: A file modified this close to when the pack was written may have changed again within the
#: same timestamp: it is hashed, not trusted (git's "racily clean" entries).
_RACY_NS = 2_000_000_000
_GITIGNORE = "# Written by gitops-lint: this folder is a cache, never commit it.\n*\n"
_CACHEDIR_TAG = ("Signature: 8a477f597d28d172789f06886806bc55\n"
                 "# This file is a cache directory tag created by gitops-lint.\n"
                 "# For information about cache directory tags see https://bford.info/cachedir/\n")


def digest(data: bytes | memoryview) -> bytes:
    return hashlib.blake2b(data, digest_size=_DIGEST_SIZE).digest()


def tool_key() -> str:
    """What makes one build of the tool differ from another: its version, the Python (marshal's format
    is Python's), and, for a checkout being worked on, when its code, rules and schemas last changed."""
    from gitops_lint.data import DataFolderMissing, data_dir

    folders = [Path(gitops_lint.__file__).parent]
    for name in ("rules", "schemas"):
        try:
            folders.append(data_dir(name))
        except DataFolderMissing:
            pass  # the run fails on it soon enough, with the packaging bug named
    newest, count = 0, 0
    for folder in dict.fromkeys(folders):
        for directory, subdirs, names in os.walk(folder):
            subdirs[:] = [d for d in subdirs if d != "__pycache__" and not (folders[0] == folder and d in ("rules", "schemas"))]
            for name in names:
                if name.endswith((".py", ".yaml", ".json")):
                    try:
                        newest = max(newest, os.stat(os.path.join(directory, name)).st_mtime_ns)
                    except OSError:
                        continue
                    count += 1
    return f"{gitops_lint.__version__}|{FORMAT}|{sys.version_info[0]}.{sys.version_info[1]}|{newest}|{count}"


def umask() -> int:
    """The process's umask (reading it means setting it: it is set back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomically(path: Path, chunks: list[bytes], mode: int | None = None) -> None:
    """`chunks` as the new content of `path`: a temporary file beside it, renamed into place. It gets `mode`,
    else the mode the umask gives a new file (mkstemp's own is private to the owner)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
        if mode is None:
            mode = 0o666 & ~umask()
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def remove(directory: Path) -> bool:
    """Delete a cache folder (`gitops-lint clean`); False when there is none. A folder that is not a
    gitops-lint cache (no tag of ours) is refused with ValueError: `--cache-dir` may name anything."""
    import shutil

    if not directory.exists():
        return False
    try:
        tag = (directory / "CACHEDIR.TAG").read_text(encoding="utf-8", errors="replace")
    except OSError:
        tag = ""
    if not directory.is_dir() or "created by gitops-lint" not in tag:
        raise ValueError(f"{directory} is not a gitops-lint cache folder (no CACHEDIR.TAG of ours): left as it is")
    shutil.rmtree(directory)
    return True


def resolve_dir(root: Path, option: Path | None) -> Path:
    """`--cache-dir`, else $GITOPS_LINT_CACHE_DIR, else `.gitops-lint-cache` at the repository root."""
    if option is not None:
        return option
    if os.environ.get(ENV_DIR):
        return Path(os.environ[ENV_DIR])
    return root / DEFAULT_DIR


@dataclass
class Cache:
    directory: Path
    root: Path
    tool: str = field(default_factory=tool_key)
    #: Why the cache could not be used this run (the folder is read-only, ...): said once, never fatal.
    problem: str | None = None
    _pack: "_Pack | None" = None
    _loaded: bool = False
    #: rel -> (state, digest) of this run's files.
    _files: dict[str, tuple[tuple[int, int, int, int], bytes]] = field(default_factory=dict)
    #: (digest, mode) -> (offset, length, checksum) of each record this run wrote into the next pack.
    _new: dict[tuple[bytes, str], tuple[int, int, bytes]] = field(default_factory=dict)
    #: The next pack, written as records come (none is held in memory) and renamed into place by `save`.
    _spool: Any = None
    _spool_path: str | None = None
    _started_ns: int = field(default_factory=time.time_ns)
    #: A file's state was too fresh to trust: the pack is rewritten so a later run can trust it.
    racy: bool = False
    #: Every file's digest is known before loading (False on a first run: files are hashed as parsed),
    #: so a stored result can be looked up.
    complete: bool = True

    @property
    def _root_id(self) -> str:
        return digest(f"{self.root}".encode("utf-8", "surrogateescape")).hex()

    @property
    def pack_path(self) -> Path:
        return self.directory / f"files-{self._root_id}.pack"

    # ----------------------------------------------------------------- file records

    def known_files(self) -> tuple[dict[str, tuple[tuple[int, int, int, int], bytes]], int]:
        """rel -> (stat state, digest) as the last run saw them, and the newest modification time at which a
        matching state may be trusted without reading the file (older than the pack by `_RACY_NS`)."""
        pack = self._open_pack()
        if pack is None:
            return {}, 0
        return pack.files, pack.written_ns - _RACY_NS

    def record(self, content: bytes, mode: str) -> bytes | memoryview | None:
        """The record of a file with this digest, loaded in this `mode` ("yaml" or "template")."""
        entry = self._new.get((content, mode))
        if entry is not None:
            self._spool.flush()
            return os.pread(self._spool.fileno(), entry[1], entry[0])
        pack = self._open_pack()
        return pack.record(content, mode) if pack is not None else None

    @property
    def files(self) -> dict[str, tuple[tuple[int, int, int, int], bytes]]:
        """rel -> (stat state, digest) of this run's files: `load.identify` fills it."""
        return self._files

    def add_record(self, content: bytes, mode: str, record: bytes) -> None:
        key = (content, mode)
        if key in self._new or not self._open_spool():
            return
        try:
            offset = self._spool.tell()
            self._spool.write(record)
        except OSError as exc:
            self._fail(exc)
            return
        self._new[key] = (offset, len(record), digest(record))

    def done_reading(self) -> None:
        """Loading is over: let go of the old pack's mapping (`save` maps it again if it copies from it)."""
        if self._pack is not None:
            self._pack.close()
        self._pack, self._loaded = None, False

    def save(self) -> None:
        """Write the pack when this run added a record or saw a file change; a failure only disables it.

        Layout: magic, the records, then the header (which tool wrote it, when, every file's stat and
        digest, where each record lies), its length, its checksum and the magic again. The records this
        run parsed are already in the new file; those it took from the old pack are copied over."""
        pack = self._open_pack()
        try:
            if pack is not None and not self._new and pack.files == self._files and not self.racy:
                return
            if not self._open_spool():
                return
            used = {content for _, content in self._files.values()}
            records = {key: entry for key, entry in self._new.items() if key[0] in used}
            kept = [] if pack is None else [(key, entry) for key, entry in pack.entries(used) if key not in records]
            records.update(kept)
            if kept:
                self._copy_kept(pack, kept, records)
            header = marshal.dumps({"tool": self.tool, "written_ns": self._started_ns, "files": self._files,
                                    "records": records})
            self._spool.write(header + len(header).to_bytes(8, "little") + digest(header) + _PACK_MAGIC)
            self._spool.close()
            os.replace(self._spool_path, self.pack_path)
            self._spool = self._spool_path = None
        except OSError as exc:
            self._fail(exc)
        finally:
            self.done_reading()
            self._discard_spool()

    def _copy_kept(self, pack: "_Pack", kept: list, records: dict) -> None:
        """The old pack's records this run still uses, copied into the new one (their checksums carry over:
        a damaged one stays damaged, and is a miss when read). When they are most of the old pack, it is
        copied whole, in one write at a fixed shift, rather than record by record (a few changed files of
        50k: 0.25 s saved); otherwise record by record, so the pack never keeps more than one repository."""
        region = pack.records_region()
        if sum(entry[1] for _, entry in kept) * 2 >= len(region):
            shift = self._spool.tell() - 8  # the region starts right after the old pack's magic
            self._spool.write(region)
            for key, (offset, length, checksum) in kept:
                records[key] = (offset + shift, length, checksum)
        else:
            for key, (offset, length, checksum) in kept:
                records[key] = (self._spool.tell(), length, checksum)
                self._spool.write(region[offset - 8 : offset - 8 + length])
        region.release()

    def _open_spool(self) -> bool:
        if self._spool is not None:
            return True
        if not self._prepare():
            return False
        try:
            handle, self._spool_path = tempfile.mkstemp(dir=self.directory, prefix=f".{self.pack_path.name}.",
                                                        suffix=".tmp")
            self._spool = os.fdopen(handle, "w+b", buffering=1 << 20)
            self._spool.write(_PACK_MAGIC)
        except OSError as exc:
            self._fail(exc)
            return False
        return True

    def _discard_spool(self) -> None:
        if self._spool is not None:
            try:
                self._spool.close()
            except OSError:
                pass
        if self._spool_path is not None:
            try:
                os.unlink(self._spool_path)
            except OSError:
                pass
        self._spool = self._spool_path = None
        self._new.clear()

    def _fail(self, exc: OSError) -> None:
        self.problem = self.problem or f"cannot write the cache in {self.directory}: {exc.strerror or exc}"
        self._discard_spool()

    # ----------------------------------------------------------------- run results

    def _result_name(self, options_key: str) -> str:
        return f"result-{digest(f'{self.root}|{options_key}'.encode('utf-8', 'surrogateescape')).hex()}"

    def files_key(self) -> str:
        """One digest of every file of this run and its content."""
        h = hashlib.blake2b(digest_size=_DIGEST_SIZE)
        for rel in sorted(self._files):
            h.update(rel.encode("utf-8", "surrogateescape") + b"\0" + self._files[rel][1])
        return h.hexdigest()

    def result(self, options_key: str, read) -> Any:
        """The stored result of a run with these options over exactly these files, or None. `read(rel)`
        gives a file's bytes (None when missing), to check the files that run read outside discovery."""
        if not self.complete:
            return None
        stored = self.blob(self._result_name(options_key), self.files_key())
        try:
            extra, result = stored
            for rel, content in extra:
                data = read(rel)
                if (None if data is None else digest(data)) != content:
                    return None
        except (TypeError, ValueError):
            return None
        return result

    def store_result(self, options_key: str, extra: dict[str, bytes | None], result: Any) -> None:
        self.store_blob(self._result_name(options_key), self.files_key(), (sorted(extra.items()), result))
        self._prune()

    def _prune(self) -> None:
        """The cache stays bounded: the newest `_KEEP_RESULTS` results (one per root and set of options
        used), and no temporary file a killed run left behind for more than an hour."""
        try:
            entries = [(entry.stat().st_mtime, entry.path, entry.name) for entry in os.scandir(self.directory)
                       if entry.name.startswith(("result-", ".")) and entry.is_file(follow_symlinks=False)]
        except OSError:
            return
        results = sorted((e for e in entries if e[2].startswith("result-")), reverse=True)
        stale = [e for e in entries if e[2].endswith(".tmp") and e[0] < time.time() - 3600]
        for _, path, _ in [*results[_KEEP_RESULTS:], *stale]:
            try:
                os.unlink(path)
            except OSError:
                pass  # another run took it first, or it is not ours to remove: either way, not an error

    # ----------------------------------------------------------------- small entries

    def blob(self, name: str, key: str) -> Any:
        """What `store_blob(name, key, ...)` stored, when it was stored under this key by this build; else None."""
        payload = self._read_checked(self.directory / f"{name}.bin", _BLOB_MAGIC)
        if payload is None:
            return None
        try:
            tool, stored_key, value = marshal.loads(payload)
        except (ValueError, EOFError, TypeError):
            return None
        return value if (tool, stored_key) == (self.tool, key) else None

    def store_blob(self, name: str, key: str, value: Any) -> None:
        if not self._prepare():
            return
        try:
            payload = marshal.dumps((self.tool, key, value))
            write_atomically(self.directory / f"{name}.bin", [_BLOB_MAGIC, digest(payload), payload])
        except ValueError:
            return  # a value marshal cannot write: not kept, nothing lost
        except OSError as exc:
            self.problem = f"cannot write the cache in {self.directory}: {exc.strerror or exc}"

    # ----------------------------------------------------------------- plumbing

    def _prepare(self) -> bool:
        """The folder, with its .gitignore and CACHEDIR.TAG; False (and `problem` said) when it cannot be made."""
        if self.problem is not None:
            return False
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            for name, text in ((".gitignore", _GITIGNORE), ("CACHEDIR.TAG", _CACHEDIR_TAG)):
                marker = self.directory / name
                if not marker.exists():
                    write_atomically(marker, [text.encode()])
        except OSError as exc:
            self.problem = f"cannot write the cache in {self.directory}: {exc.strerror or exc}"
            return False
        return True

    def _open_pack(self) -> "_Pack | None":
        if not self._loaded:
            self._loaded = True
            self._pack = _Pack.open(self.pack_path, self.tool)
        return self._pack

    @staticmethod
    def _read_checked(path: Path, magic: bytes) -> bytes | None:
        try:
            data = path.read_bytes()
        except OSError:
            return None
        head = len(magic) + _DIGEST_SIZE
        if len(data) < head or data[: len(magic)] != magic:
            return None
        payload = data[head:]
        return payload if digest(payload) == data[len(magic) : head] else None

    def close(self) -> None:
        self.done_reading()
        self._discard_spool()


class _Pack:
    """A pack file mapped into memory: its header decoded, its records read only when asked."""

    def __init__(self, view: mmap.mmap, files: dict, records: dict, written_ns: int, end: int):
        self._map, self.files, self._records, self.written_ns, self._end = view, files, records, written_ns, end

    @classmethod
    def open(cls, path: Path, tool: str) -> "_Pack | None":
        try:
            with open(path, "rb") as handle:
                if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode) or os.fstat(handle.fileno()).st_size < 48:
                    return None
                view = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            return None
        try:
            size = len(view)
            if view[:8] != _PACK_MAGIC or view[size - 8 :] != _PACK_MAGIC:
                raise ValueError("not a whole pack")
            trailer = size - 8 - _DIGEST_SIZE - 8
            length = int.from_bytes(view[trailer : trailer + 8], "little")
            start = trailer - length
            if start < 8:
                raise ValueError("damaged trailer")
            header = view[start:trailer]
            if digest(header) != view[trailer + 8 : trailer + 8 + _DIGEST_SIZE]:
                raise ValueError("damaged header")
            decoded = marshal.loads(header)
            if decoded["tool"] != tool:
                raise ValueError("another build's pack")
            return cls(view, decoded["files"], decoded["records"], decoded["written_ns"], start)
        except (ValueError, EOFError, TypeError, KeyError):
            view.close()
            return None

    def record(self, content: bytes, mode: str) -> memoryview | None:
        entry = self._records.get((content, mode))
        if entry is None:
            return None
        offset, length, checksum = entry
        if offset < 8 or offset + length > self._end:
            return None
        blob = memoryview(self._map)[offset : offset + length]
        if digest(blob) != checksum:
            blob.release()
            return None
        return blob

    def entries(self, contents: set[bytes]) -> Iterator[tuple[tuple[bytes, str], tuple[int, int, bytes]]]:
        """((digest, mode), (offset, length, checksum)) of the records of these contents, unchecked; those
        that would lie outside the records are left out."""
        end = self._end
        for key, entry in self._records.items():
            if key[0] in contents and entry[0] >= 8 and entry[0] + entry[1] <= end:
                yield key, entry

    def records_region(self) -> memoryview:
        """The bytes between the magic and the header: every record, as stored."""
        return memoryview(self._map)[8 : self._end]

    def close(self) -> None:
        try:
            self._map.close()
        except BufferError:
            pass  # a record still in use keeps the mapping; it goes with the process
