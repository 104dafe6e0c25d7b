"""Run one command and measure it: wall time and peak resident memory of its whole process tree.

    from measure import run
    m = run(["kubeconform", "-summary", "repo"])
    print(m.wall, m.peak_mib, m.returncode)

Peak tree RSS (Linux): a sampler thread sums, every ~5 ms, the resident pages (/proc/PID/statm) of
the child and all its descendants and keeps the maximum; the child's ru_maxrss from os.wait4 is a
floor (for a child too short for the sampler). Elsewhere only ru_maxrss. Descendants come from the
ppid field of every /proc/PID/stat: that scan costs ~0.7 ms with ~130 processes, so it is redone
every 4th sample (~20 ms), which keeps the sampler near 4 % of one core instead of ~15 %.
A sum of RSS counts pages shared between processes once per process (forked workers; a child
caught between fork and exec, e.g. a `git` subprocess, briefly counts as a second interpreter).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PROC = "/proc"
HAVE_PROC = sys.platform.startswith("linux") and os.path.exists(f"{PROC}/self/statm")
PAGE = os.sysconf("SC_PAGE_SIZE") if HAVE_PROC else 4096
MIB = 1024 * 1024


@dataclass
class Measurement:
    """One finished command."""

    wall: float  # seconds, from start to reaped
    peak_mib: float  # peak resident set of the process tree, MiB
    returncode: int
    stdout: str
    stderr: str


def _read(path: str) -> str | None:
    """The text of a /proc file, or None once the process has gone (os.open: cheaper than open())."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        return os.read(fd, 4096).decode("ascii", "replace")
    except OSError:
        return None
    finally:
        os.close(fd)


def _tree(root: int) -> list[int]:
    """ROOT and every descendant, from the ppid field of each /proc/PID/stat."""
    children: dict[int, list[int]] = {}
    for name in os.listdir(PROC):
        if not name.isdigit():
            continue
        stat = _read(f"{PROC}/{name}/stat")
        if stat is None:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses
        fields = stat.rpartition(")")[2].split()
        if len(fields) >= 2:
            children.setdefault(int(fields[1]), []).append(int(name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def _rss(pids: list[int]) -> int:
    """Resident bytes of PIDS now (a vanished process counts 0)."""
    total = 0
    for pid in pids:
        statm = _read(f"{PROC}/{pid}/statm")
        if statm:
            parts = statm.split()
            if len(parts) >= 2:
                total += int(parts[1]) * PAGE
    return total


class _Sampler(threading.Thread):
    """Tree RSS of PID every INTERVAL seconds until stopped; the tree is rescanned every RESCAN samples."""

    def __init__(self, pid: int, interval: float = 0.005, rescan: int = 4):
        super().__init__(daemon=True)
        self.pid, self.interval, self.rescan = pid, interval, rescan
        self.peak = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        tree, count = [self.pid], 0
        while not self.stopped.is_set():
            try:
                if count % self.rescan == 0:
                    tree = _tree(self.pid)
                self.peak = max(self.peak, _rss(tree))
            except (OSError, ValueError):
                pass
            count += 1
            self.stopped.wait(self.interval)


def run(argv: list[str], cwd=None, env=None) -> Measurement:
    """Run ARGV to completion (output captured through temporary files) and measure it."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        sampler = _Sampler(proc.pid) if HAVE_PROC else None
        if sampler:
            sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # e.g. Ctrl-C: do not leave the child running
            proc.kill()
            proc.wait()
            raise
        finally:
            wall = time.perf_counter() - started
            if sampler:
                sampler.stopped.set()
                sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        # ru_maxrss is KiB on Linux, bytes on macOS
        maxrss = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
        peak = max(sampler.peak if sampler else 0, maxrss)
        out.seek(0)
        err.seek(0)
        return Measurement(wall, peak / MIB, proc.returncode,
                           out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"))


if __name__ == "__main__":
    m = run(sys.argv[1:] or [sys.executable, "-c", "pass"])
    print(f"{m.wall:.3f} s  peak {m.peak_mib:.1f} MiB  exit {m.returncode}")


def compile_package(python: str = sys.executable) -> int:
    """Bring gitops_lint's bytecode up to date, as after `pip install`, and say how many .pyc files it has.

    With PYTHONDONTWRITEBYTECODE set, or a checkout edited since its last run, every measured run would
    compile the edited modules from source: 0.1 s of a one-file check, measured as if it were ours."""
    import importlib.util

    spec = importlib.util.find_spec("gitops_lint")  # finds the package without importing it
    if not spec or not spec.origin:
        return 0
    package = Path(spec.origin).parent
    subprocess.run([python, "-m", "compileall", "-q", str(package)], check=False, capture_output=True)
    return len(list(package.rglob(f"*.{sys.implementation.cache_tag}.pyc")))

