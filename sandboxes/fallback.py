"""What bounds a bubblewrap sandbox where no cgroup can be used: identities, rlimits and a memory watchdog.

- **A uid per concurrent execution** (`UidSlots`, when this process is root and can drop privileges with
  `setpriv`): each running sandbox gets a uid no other process uses, so RLIMIT_NPROC — which counts the tasks of a
  uid — bounds that sandbox's processes and threads alone, as IOI's `isolate` does. Without root every sandbox
  runs as this process's uid: RLIMIT_NPROC is then set to the uid's tasks at the start plus the pids limit, which
  bounds the host's pids but shares the allowance with the user's other processes (`shared_uid_nproc`).
- **RLIMIT_DATA per process** for runtimes that tolerate it (`DATA_LIMIT_LANGUAGES`: python, c, cpp — their
  heaps and thread stacks are private writable mappings, which the kernel counts). Node's V8 and the JVM reserve
  far more than they use, so JavaScript gets none.
- **An RSS watchdog** (`Watchdog` over `tree_rss_bytes`) summing the resident memory of the sandbox's whole
  process tree every 50 ms and killing it past the memory limit: the tree's total, which no rlimit sees, checked
  at that interval.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["DATA_LIMIT_LANGUAGES", "UidSlots", "Watchdog", "kill_uid", "shared_uid_nproc", "tree_rss_bytes"]

DATA_LIMIT_LANGUAGES = frozenset({"python", "c", "cpp"})
UID_BASE = 2_100_000_000
"""Slot uids are UID_BASE + n: far above any account's uid (and below the 2^31 that some tools read as negative)."""
_PAGE = os.sysconf("SC_PAGE_SIZE")


class UidSlots:
    """Hands out the uids of concurrent executions: `UID_BASE + n`, each held by one execution at a time.

    After an execution every live process left with its uid is killed, and the uid cools down: it is handed out
    again only once no task of it is left. A killed tree's last tasks are zombies until the host's init reaps
    them (which may take a second or two), and a zombie still counts against RLIMIT_NPROC, so a uid reused at once
    would start the next execution with part of its allowance gone ("bwrap: Can't fork")."""

    def __init__(self, base: int = UID_BASE) -> None:
        self.base = base
        self._free: list[int] = []
        self._cooling: list[int] = []
        self._next = 0
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def slot(self) -> Iterator[int]:
        with self._lock:
            if self._cooling:
                busy = _uids_in_use()
                self._free += [uid for uid in self._cooling if uid not in busy]
                self._cooling = [uid for uid in self._cooling if uid in busy]
            if self._free:
                uid = self._free.pop()
            else:
                uid = self.base + self._next
                self._next += 1
        try:
            yield uid
        finally:
            kill_uid(uid)
            with self._lock:
                self._cooling.append(uid)


def _uids_in_use() -> set[int]:
    uids = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                uids.add(os.stat(f"/proc/{entry}").st_uid)
    return uids


def kill_uid(uid: int) -> None:
    """SIGKILL every process of `uid` (what a killed tree may leave: a double-forked straggler)."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    os.kill(int(entry), signal.SIGKILL)


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
    tasks = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    tasks += _tasks(entry)
    return tasks + pids


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry))
    return children


def tree_rss_bytes(root: int) -> int:
    """The resident memory of `root` and all its descendants (threads share their process's)."""
    children = _children()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
        todo.extend(children.get(pid, ()))
    return total


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
