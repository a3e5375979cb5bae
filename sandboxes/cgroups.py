"""Per-execution cgroups for the memory and pids limits of a whole process tree (and its CPU time).

Only cgroup v1 controllers are used (`/sys/fs/cgroup/memory`, `/sys/fs/cgroup/pids`): on the machines this
runs on the v2 tree offers no controllers. Execution cgroups are created under the caller's own cgroup
(`<mount>/<own path>/verifiers/<id>`), so they also count against any limit placed on the caller.
RLIMIT_NPROC cannot stand in for the pids controller (it does not stop root's fork bomb, and every sandbox
shares one host uid), and RLIMIT_AS breaks threaded runtimes, so without cgroups those limits are not enforced.
"""

from __future__ import annotations

import errno
import functools
import itertools
import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CgroupSupport", "ExecCgroup", "detect"]

CGROUP_ROOT = Path("/sys/fs/cgroup")
_PREFIX = "verifiers"
_counter = itertools.count()


@dataclass(frozen=True)
class CgroupSupport:
    """Where execution cgroups can be created; None for a controller that is not usable here."""

    memory: Path | None
    pids: Path | None
    cpuacct: Path | None = None  # only measures: the CPU time of the whole tree

    @property
    def controllers(self) -> tuple[str, ...]:
        return tuple(name for name in ("memory", "pids", "cpuacct") if getattr(self, name) is not None)


def _own_paths() -> dict[str, str]:
    paths: dict[str, str] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return paths
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(","):
            if controller:
                paths[controller] = path
    return paths


def _usable_base(controller: str, own: str | None) -> Path | None:
    mount = CGROUP_ROOT / controller
    if not (mount / "cgroup.procs").exists():
        return None
    candidates = []
    if own and own != "/":
        candidates.append(mount / own.lstrip("/") / _PREFIX)
    candidates.append(mount / _PREFIX)
    for base in candidates:
        probe = base / f"probe-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            base.mkdir(exist_ok=True)
            probe.mkdir()
            probe.rmdir()
        except OSError:
            continue
        _sweep(base)
        return base
    return None


def _sweep(base: Path) -> None:
    """Remove the empty execution cgroups a killed process left behind (named after that process's pid)."""
    for child in base.iterdir():
        owner = child.name.split("-", 1)[0]
        if not (child.is_dir() and owner.isdigit()) or Path(f"/proc/{owner}").exists():
            continue
        try:
            if not (child / "cgroup.procs").read_text().strip():
                child.rmdir()
        except OSError:
            pass


@functools.lru_cache(maxsize=1)
def detect() -> CgroupSupport:
    """The usable v1 controllers of this machine for this process (probed once: mkdir + rmdir)."""
    own = _own_paths()
    return CgroupSupport(
        memory=_usable_base("memory", own.get("memory")),
        pids=_usable_base("pids", own.get("pids")),
        cpuacct=_usable_base("cpuacct", own.get("cpuacct")),
    )


def _write(path: Path, value: str) -> None:
    with open(path, "w") as fh:
        fh.write(value)


def _read_int(path: Path, key: str | None = None) -> int | None:
    try:
        text = path.read_text()
    except OSError:
        return None
    if key is None:
        try:
            return int(text.strip())
        except ValueError:
            return None
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == key:
            try:
                return int(value)
            except ValueError:
                return None
    return None


class ExecCgroup:
    """The memory and pids cgroups of one execution: create, join (via `procs_files`), kill, remove."""

    def __init__(self, support: CgroupSupport, *, memory_mb: int, pids: int) -> None:
        self.dirs: list[Path] = []
        name = f"{os.getpid()}-{next(_counter)}-{uuid.uuid4().hex[:6]}"
        try:
            if support.memory is not None:
                mem = support.memory / name
                mem.mkdir()
                self.dirs.append(mem)
                limit = str(int(memory_mb) << 20)
                _write(mem / "memory.limit_in_bytes", limit)
                if (mem / "memory.memsw.limit_in_bytes").exists():
                    try:  # no swapping around the limit, where swap accounting exists
                        _write(mem / "memory.memsw.limit_in_bytes", limit)
                    except OSError:
                        pass
                self.memory: Path | None = mem
            else:
                self.memory = None
            if support.pids is not None:
                pid_dir = support.pids / name
                pid_dir.mkdir()
                self.dirs.append(pid_dir)
                _write(pid_dir / "pids.max", str(int(pids)))
                self.pids: Path | None = pid_dir
            else:
                self.pids = None
            self.cpuacct: Path | None = None
            if support.cpuacct is not None:
                acct = support.cpuacct / name
                acct.mkdir()
                self.dirs.append(acct)
                self.cpuacct = acct
        except BaseException:
            self.remove()
            raise

    @property
    def procs_files(self) -> list[str]:
        """The `cgroup.procs` files a launcher writes its own pid to before it execs the sandbox."""
        return [str(d / "cgroup.procs") for d in self.dirs]

    def oom_killed(self) -> bool:
        """Whether the kernel's OOM killer acted in this cgroup (or, on old kernels, the limit was hit)."""
        if self.memory is None:
            return False
        kills = _read_int(self.memory / "memory.oom_control", "oom_kill")
        if kills is not None:
            return kills > 0
        return (_read_int(self.memory / "memory.failcnt") or 0) > 0

    def memory_limit_hit(self) -> bool:
        return self.memory is not None and (_read_int(self.memory / "memory.failcnt") or 0) > 0

    def peak_memory_mb(self) -> float | None:
        if self.memory is None:
            return None
        peak = _read_int(self.memory / "memory.max_usage_in_bytes")
        return None if peak is None else peak / (1 << 20)

    def cpu_s(self) -> float | None:
        """CPU time used by every process that was in the cgroup (None without the cpuacct controller)."""
        if self.cpuacct is None:
            return None
        usage = _read_int(self.cpuacct / "cpuacct.usage")
        return None if usage is None else usage / 1e9

    def pids_refused(self) -> int:
        """How many forks the pids limit refused."""
        if self.pids is None:
            return 0
        return _read_int(self.pids / "pids.events", "max") or 0

    def _members(self) -> set[int]:
        pids: set[int] = set()
        for d in self.dirs:
            try:
                pids.update(int(p) for p in (d / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                pass
        return pids

    def kill(self, timeout_s: float = 2.0) -> bool:
        """SIGKILL every process in the cgroups until none is left; False if some survived `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while True:
            members = self._members()
            if not members:
                return True
            for pid in members:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if time.monotonic() > deadline:
                return False
            time.sleep(0.002)

    def remove(self) -> None:
        """Kill what is left and remove the cgroup directories."""
        if not self.dirs:
            return
        self.kill()
        for d in reversed(self.dirs):
            for attempt in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError as exc:
                    if exc.errno != errno.EBUSY:
                        break
                    self.kill(0.1)
                    time.sleep(0.002 * (attempt + 1))
        self.dirs = []
