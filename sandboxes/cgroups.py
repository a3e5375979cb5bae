"""Per-execution cgroups for the memory and pids limits of a whole process tree (and its CPU time).

Two kinds, the first usable wins (`detect`):
- cgroup v1 controllers (`/sys/fs/cgroup/memory`, `/sys/fs/cgroup/pids`, writable: root on a v1 or hybrid host).
  Execution cgroups are created under the caller's own cgroup (`<mount>/<own path>/verifiers/<id>`), so they
  also count against any limit placed on the caller.
- a delegated cgroup v2 subtree: `$VERIFIERS_CGROUP` (a cgroup2 directory prepared for us, e.g. by systemd
  `Delegate=yes`), else the caller's own cgroup when its memory and pids controllers can be enabled for a
  `verifiers` child (root of a unified host; a container with its own cgroup namespace whose processes live in
  a leaf). Each execution gets `<base>/<id>` with `memory.max`, `memory.swap.max` = 0, `pids.max` and `cpu.max`
  (one CPU), is killed as a group through `cgroup.kill` and removed after.
Without either the backend falls back to rlimits and a watchdog (`sandboxes.bwrap`); `CgroupSupport.reason`
says why no cgroup was usable.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import itertools
import os
import signal
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

__all__ = ["CGROUP_ENV", "CgroupSupport", "ExecCgroup", "ExecCgroupV2", "detect", "exec_cgroup"]

CGROUP_ROOT = Path("/sys/fs/cgroup")
CGROUP_ENV = "VERIFIERS_CGROUP"
"""A delegated cgroup v2 directory to create execution cgroups in (its memory and pids controllers enabled or
enableable for children)."""
_V2_CONTROLLERS = ("memory", "pids")
_PREFIX = "verifiers"
_counter = itertools.count()


@dataclass(frozen=True)
class CgroupSupport:
    """Where execution cgroups can be created: v1 controller directories (None where not usable), or a cgroup v2
    base directory; `reason` says why neither is usable when that is so."""

    memory: Path | None
    pids: Path | None
    cpuacct: Path | None = None  # only measures: the CPU time of the whole tree
    v2: Path | None = None
    reason: str = ""

    @property
    def controllers(self) -> tuple[str, ...]:
        if self.v2 is not None:
            return ("memory", "pids", "cpu")
        return tuple(name for name in ("memory", "pids", "cpuacct") if getattr(self, name) is not None)

    @property
    def mode(self) -> str:
        """ "cgroup v2", "cgroup v1" (memory and pids controllers both usable), or "fallback"."""
        if self.v2 is not None:
            return "cgroup v2"
        if self.memory is not None and self.pids is not None:
            return "cgroup v1"
        return "fallback"


def _own_paths() -> dict[str, str]:
    paths: dict[str, str] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return paths
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if not controllers:  # the cgroup v2 line ("0::/path")
            paths[""] = path
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
    """What this process can use here (probed once: mkdir + rmdir): `$VERIFIERS_CGROUP`, else the v1 memory and
    pids controllers, else a v2 subtree of its own cgroup, else nothing (with the reason)."""
    own = _own_paths()
    explicit = os.environ.get(CGROUP_ENV, "").strip()
    if explicit:
        base, why = _v2_base(Path(explicit), create_child=False)
        return CgroupSupport(None, None, v2=base, reason="" if base else f"${CGROUP_ENV}={explicit}: {why}")
    v1 = CgroupSupport(
        memory=_usable_base("memory", own.get("memory")),
        pids=_usable_base("pids", own.get("pids")),
        cpuacct=_usable_base("cpuacct", own.get("cpuacct")),
    )
    if v1.mode == "cgroup v1":
        return v1
    mount = _v2_mount()
    if mount is None:
        return replace(v1, reason="no writable cgroup v1 memory and pids controllers, and no cgroup2 mount")
    base, why = _v2_base(mount / own.get("", "/").lstrip("/"), create_child=True)
    if base is not None:
        return CgroupSupport(None, None, v2=base)
    return replace(v1, reason=f"no writable cgroup v1 memory and pids controllers; cgroup v2 ({mount}): {why}")


def _v2_mount() -> Path | None:
    """Where the cgroup2 hierarchy is mounted (`/sys/fs/cgroup` on a unified host, `.../unified` on a hybrid)."""
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split(" - ", 1)
        if len(fields) == 2 and fields[1].split(" ", 1)[0] == "cgroup2":
            return Path(fields[0].split()[4])
    return None


def _v2_base(own: Path, *, create_child: bool) -> tuple[Path | None, str]:
    """A cgroup v2 directory whose children get the memory and pids controllers, or (None, why not).

    `create_child`: make `own/verifiers` and enable the controllers for it in `own` (which the kernel refuses
    while `own` holds processes, except at the root); else use `own` itself."""
    try:
        available = set((own / "cgroup.controllers").read_text().split())
    except OSError as exc:
        return None, f"{own} is not a cgroup2 directory ({exc.strerror or exc})"
    missing = [c for c in _V2_CONTROLLERS if c not in available]
    if missing:
        return None, f"the {' and '.join(missing)} controllers are not available in {own} (cgroup.controllers)"
    base = own / _PREFIX if create_child else own
    wanted = list(_V2_CONTROLLERS)
    try:
        if create_child:
            _enable(own, wanted)
            base.mkdir(exist_ok=True)
        _enable(base, wanted)
        if "cpu" in available:  # optional: the kernel refuses it while realtime tasks run, which costs only cpu.max
            with contextlib.suppress(OSError):
                if create_child:
                    _enable(own, ["cpu"])
                _enable(base, ["cpu"])
        probe = base / f"probe-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        probe.mkdir()
        try:
            if not (probe / "memory.max").exists() or not (probe / "pids.max").exists():
                return None, f"children of {base} get no memory.max/pids.max"
        finally:
            probe.rmdir()
    except OSError as exc:
        return None, f"cannot delegate {base}: {exc.strerror or exc} (a cgroup that holds processes cannot enable "
        f"controllers for children: set ${CGROUP_ENV} to a delegated cgroup, e.g. systemd Delegate=yes)"
    _sweep(base)
    return base, ""


def _enable(cgroup: Path, controllers: list[str]) -> None:
    enabled = set((cgroup / "cgroup.subtree_control").read_text().split())
    todo = [c for c in controllers if c not in enabled]
    if todo:
        _write(cgroup / "cgroup.subtree_control", " ".join(f"+{c}" for c in todo))


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


def _rmdir(cgroup: Path, kill: Callable[[float], bool]) -> None:
    """Remove an execution cgroup, killing stragglers while the kernel still says it is busy (a dying task)."""
    for attempt in range(50):
        try:
            cgroup.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                return
            kill(0.1)
            time.sleep(0.002 * (attempt + 1))


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
            _rmdir(d, self.kill)
        self.dirs = []


class ExecCgroupV2:
    """One execution's cgroup v2 directory: memory.max (no swap), pids.max, cpu.max (one CPU), joined through
    `procs_files`, killed at once through `cgroup.kill`, removed after; the same interface as `ExecCgroup`."""

    CPU_PERIOD_US = 100_000

    def __init__(self, base: Path, *, memory_mb: int, pids: int) -> None:
        self.path = base / f"{os.getpid()}-{next(_counter)}-{uuid.uuid4().hex[:6]}"
        self.path.mkdir()
        try:
            _write(self.path / "memory.max", str(int(memory_mb) << 20))
            if (self.path / "memory.swap.max").exists():
                _write(self.path / "memory.swap.max", "0")
            _write(self.path / "pids.max", str(int(pids)))
            if (self.path / "memory.oom.group").exists():  # an OOM kill takes the whole execution, not one process
                _write(self.path / "memory.oom.group", "1")
            if (self.path / "cpu.max").exists():
                _write(self.path / "cpu.max", f"{self.CPU_PERIOD_US} {self.CPU_PERIOD_US}")
        except BaseException:
            self.remove()
            raise

    @property
    def procs_files(self) -> list[str]:
        return [str(self.path / "cgroup.procs")]

    def _event(self, name: str, key: str) -> int:
        return _read_int(self.path / name, key) or 0

    def oom_killed(self) -> bool:
        return self._event("memory.events", "oom_kill") > 0

    def memory_limit_hit(self) -> bool:
        return self._event("memory.events", "max") > 0

    def cpu_s(self) -> float | None:
        usage = _read_int(self.path / "cpu.stat", "usage_usec")
        return None if usage is None else usage / 1e6

    def pids_refused(self) -> int:
        return self._event("pids.events", "max")

    def kill(self, timeout_s: float = 2.0) -> bool:
        """Kill the whole cgroup (`cgroup.kill`, or SIGKILL per member on kernels before 5.14) until it is empty."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                members = [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
            except (OSError, ValueError):
                return True
            if not members:
                return True
            try:
                _write(self.path / "cgroup.kill", "1")
            except OSError:
                for pid in members:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            if time.monotonic() > deadline:
                return False
            time.sleep(0.002)

    def remove(self) -> None:
        if not self.path.exists():
            return
        self.kill()
        _rmdir(self.path, self.kill)


def exec_cgroup(support: CgroupSupport, *, memory_mb: int, pids: int) -> ExecCgroup | ExecCgroupV2:
    """The cgroup(s) of one execution in whatever `support` offers (an `ExecCgroup` holding nothing in fallback)."""
    if support.v2 is not None:
        return ExecCgroupV2(support.v2, memory_mb=memory_mb, pids=pids)
    return ExecCgroup(support, memory_mb=memory_mb, pids=pids)
