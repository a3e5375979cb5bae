"""What bounds a bubblewrap sandbox where no cgroup can be used: identities, rlimits and a memory watchdog.

- **A uid per concurrent execution** (`UidSlots`, when this process is root and can drop privileges with
  `setpriv`): each running sandbox gets a uid no other process uses, so RLIMIT_NPROC — which counts the tasks of a
  uid — bounds that sandbox's processes and threads alone, as IOI's `isolate` does. Without root every sandbox
  runs as this process's uid: RLIMIT_NPROC is then set to the uid's tasks at the start plus the pids limit, which
  bounds the host's pids but shares the allowance with the user's other processes (`shared_uid_nproc`).
- **RLIMIT_DATA per process** for runtimes that tolerate it (`DATA_LIMIT_LANGUAGES`: python, c, cpp — their
  heaps and thread stacks are private writable mappings, which the kernel counts). Node's V8 and the JVM reserve
  far more than they use, so JavaScript gets none.
- **A memory watchdog** (`Watchdog` over `tree_usage`) summing the proportional resident memory (PSS: shared
  copy-on-write pages once) of the sandbox's whole process tree every 50 ms and killing it past the memory limit:
  the tree's total, which no rlimit sees, checked at that interval. It also keeps the tree's CPU time, which
  nothing else measures without a cgroup.
- What stays uncounted: memory the kernel holds for a program (socket and pipe buffers). System V shared memory
  and memfd files are refused by the seccomp filter in this mode, and /dev/shm, /tmp and the working directory
  are size-capped tmpfs. So the fallback's memory limit bounds the program's own memory, not all the memory it
  can make the kernel hold: `enforcement` reports memory as not enforced.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["DATA_LIMIT_LANGUAGES", "UidSlots", "Watchdog", "kill_uid", "shared_uid_nproc", "tree_usage"]

DATA_LIMIT_LANGUAGES = frozenset({"python", "c", "cpp"})
UID_BASE = 2_100_000_000
"""Slot uids are UID_BASE + n: far above any account's uid (and below the 2^31 that some tools read as negative)."""
_PAGE = os.sysconf("SC_PAGE_SIZE")
_TICKS = os.sysconf("SC_CLK_TCK")


class UidSlots:
    """Hands out the uids of concurrent executions, `UID_BASE + n`, each held by one execution at a time across
    every process of this host (an exclusive `flock` on `<lock dir>/<uid>.lock`, held for the execution).

    After an execution every live process left with its uid is killed. A uid is handed out only when no task of
    it is left: a killed tree's last tasks are zombies until their parent reaps them, and a zombie still counts
    against RLIMIT_NPROC, so a uid reused at once would start the next execution with part of its allowance gone
    ("bwrap: Can't fork")."""

    def __init__(self, base: int = UID_BASE, lock_dir: Path | None = None) -> None:
        self.base = base
        self.lock_dir = lock_dir or _lock_dir()

    @contextlib.contextmanager
    def slot(self) -> Iterator[int]:
        busy = _uids_in_use()
        for n in itertools.count():
            uid = self.base + n
            if uid in busy:
                continue
            fd = os.open(self.lock_dir / f"{uid}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # another execution (of this process or another one) holds it
                os.close(fd)
                continue
            if uid in _uids_in_use():  # its last holder left a task behind between the scan and the lock
                os.close(fd)
                continue
            break
        try:
            yield uid
        finally:
            kill_uid(uid)
            os.close(fd)  # releases the lock


def _lock_dir() -> Path:
    for candidate in (Path("/run/verifiers-uid-slots"), Path(tempfile.gettempdir()) / "verifiers-uid-slots"):
        with contextlib.suppress(OSError):
            candidate.mkdir(mode=0o700, exist_ok=True)
            if os.access(candidate, os.W_OK):
                return candidate
    raise OSError("no writable directory for the uid slot locks (/run or the temporary directory)")


def _processes() -> Iterator[tuple[str, int]]:
    """(pid, owner uid) of every process on the host, from one pass over /proc."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                yield entry, os.stat(f"/proc/{entry}").st_uid


def _uids_in_use() -> set[int]:
    return {owner for _, owner in _processes()}


def kill_uid(uid: int) -> None:
    """SIGKILL every process of `uid` (what a killed tree may leave: a double-forked straggler)."""
    for pid, owner in _processes():
        if owner == uid:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(pid), signal.SIGKILL)


def _tasks(pid: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def shared_uid_nproc(pids: int) -> int:
    """RLIMIT_NPROC for a sandbox that shares this process's uid: the uid's tasks now, plus `pids`."""
    uid = os.getuid()
    return sum(_tasks(pid) for pid, owner in _processes() if owner == uid) + pids


def _descendants(root: int) -> list[int]:
    """`root` and every process below it, from the kernel's per-task children lists (no scan of all /proc)."""
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{pid}/task"):
                with contextlib.suppress(OSError, ValueError):
                    todo.extend(int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split())
    return found


def _pss_bytes(pid: int) -> int:
    """A process's proportional share of its resident memory: shared copy-on-write pages count once in a tree."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) << 10
    with contextlib.suppress(OSError, ValueError, IndexError):  # kernels before 4.14: RSS
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
    return 0


def _cpu_s(pid: int) -> float:
    with contextlib.suppress(OSError, ValueError, IndexError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS
    return 0.0


def tree_usage(root: int) -> tuple[int, float]:
    """(memory in bytes, CPU seconds) of `root`'s live process tree: the sum of PSS, and of user + system time."""
    pids = _descendants(root)
    return sum(_pss_bytes(p) for p in pids), sum(_cpu_s(p) for p in pids)


class Watchdog:
    """Polls `over(root pid)` every `interval_s` while an execution runs and calls `kill` once it is true: the
    fallback's summed RSS past the memory limit, or a v1 cgroup's OOM kill (which takes one process and would
    leave the rest of the tree running until the wall clock)."""

    def __init__(self, over: Callable[[int], bool], kill: Callable[[], None], interval_s: float = 0.05) -> None:
        self.over = over
        self.kill = kill
        self.interval_s = interval_s
        self.fired = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, root: int) -> None:
        self._thread = threading.Thread(target=self._watch, args=(root,), name="sandbox-watchdog", daemon=True)
        self._thread.start()

    def _watch(self, root: int) -> None:
        while not self._stop.wait(self.interval_s):
            if self.over(root):
                self.fired = True
                self.kill()
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
