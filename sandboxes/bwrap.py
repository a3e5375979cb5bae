"""The default backend: every execution in a fresh bubblewrap sandbox, limited by rlimits and cgroups.

Isolation (one `bwrap` per execution): all namespaces unshared (user, pid, net, ipc, uts, cgroup, mount),
no nested user namespaces, a non-root uid inside and (when this process is root) outside too, no
capabilities, a seccomp filter refusing syscalls programs never need (ptrace, bpf, io_uring, keyrings, mounts,
...; x86_64 only), a cleared environment, a new session, death with the parent. The filesystem is a read-only
/usr (plus the /lib, /bin symlinks and a few files of /etc the loader needs), a fresh /proc and minimal /dev,
and two private size-capped tmpfs: /tmp and the working directory /box; the root itself is read-only.
Nothing else of the host is visible.

Limits: a tiny `sh` launcher writes its own pid into a fresh cgroup (v1 memory and pids controllers, or a
delegated cgroup v2 subtree, see `cgroups`), then execs `prlimit` (CPU, file size, open files, no core) which
execs (as root: `setpriv` to the sandbox uid, then) `bwrap`. The parent streams the output with a cap and
SIGKILLs the process group and every process of the cgroup on overflow or at the wall clock; the sandboxed tree
dies with bwrap's pid-namespace init. Where no cgroup is usable (mode "fallback", `sandboxes.fallback`): a uid of
its own per concurrent execution with RLIMIT_NPROC (root), RLIMIT_DATA for python, c and cpp, and a memory
watchdog (summed PSS) over the tree. `BwrapSandbox.enforcement` says which mode holds and what each limit is.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import os
import platform
import shlex
import shutil
import signal
import struct
import subprocess
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from . import ExecResult, Limits, Outcome, SandboxUnavailable, SandboxWarning
from .cgroups import CgroupSupport, ExecCgroup, ExecCgroupV2, detect, exec_cgroup
from .enforcement import APPROXIMATED, ENFORCED, NOT_ENFORCED, Enforcement, LimitState, limits_required
from .fallback import DATA_LIMIT_LANGUAGES, UidSlots, Watchdog, shared_uid_nproc, tree_usage
from .languages import BINARY, Language
from .process import SubprocessBackend, Supervised, classify, rlimit_argv, supervise

__all__ = ["BwrapSandbox", "bwrap_usable"]

WORKDIR = "/box"
SETPRIV = "/usr/bin/setpriv"
_ETC = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives", "/etc/localtime")
_NET_ETC = ("/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/ssl", "/etc/ca-certificates")


# Syscalls a program never needs and kernel exploits often do (x86_64 numbers): tracing other processes (and
# taking their descriptors or advising their memory: pidfd_getfd, process_madvise), keyrings, BPF, perf,
# userfaultfd, io_uring, module and kexec loading, mounts, namespaces, clocks, swap.
_DENIED_SYSCALLS = {
    "ptrace": 101, "syslog": 103, "uselib": 134, "modify_ldt": 154, "pivot_root": 155, "_sysctl": 156,
    "adjtimex": 159, "chroot": 161, "acct": 163, "settimeofday": 164, "mount": 165, "umount2": 166,
    "swapon": 167, "swapoff": 168, "reboot": 169, "iopl": 172, "ioperm": 173, "create_module": 174,
    "init_module": 175, "delete_module": 176, "get_kernel_syms": 177, "query_module": 178, "quotactl": 179,
    "nfsservctl": 180, "lookup_dcookie": 212, "clock_settime": 227, "kexec_load": 246, "add_key": 248,
    "request_key": 249, "keyctl": 250, "unshare": 272, "perf_event_open": 298, "name_to_handle_at": 303,
    "open_by_handle_at": 304, "clock_adjtime": 305, "setns": 308, "process_vm_readv": 310,
    "process_vm_writev": 311, "finit_module": 313, "kexec_file_load": 320, "bpf": 321, "userfaultfd": 323,
    "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "open_tree": 428,
    "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442,
    "pidfd_getfd": 438, "process_madvise": 440,
}  # fmt: skip


# Memory no rlimit or RSS sum sees, refused where no cgroup charges it (the fallback): System V shared memory
# segments and memory-backed files.
_UNCOUNTED_MEMORY_SYSCALLS = {"shmget": 29, "shmat": 30, "shmctl": 31, "memfd_create": 319}


@functools.lru_cache(maxsize=2)
def seccomp_filter(fallback: bool = False) -> bytes | None:
    """A classic-BPF seccomp program (for `bwrap --seccomp`): the syscalls above (`fallback`: and the uncounted
    memory ones) fail with EPERM, foreign architectures and the x32 ABI are refused; None on machines other than
    x86_64 (no filter there)."""
    if platform.machine() not in ("x86_64", "amd64"):
        return None
    ld_abs, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
    audit_arch_x86_64, kill_process, allow = 0xC000003E, 0x80000000, 0x7FFF0000
    deny = 0x00050000 | errno.EPERM
    denied = {**_DENIED_SYSCALLS, **(_UNCOUNTED_MEMORY_SYSCALLS if fallback else {})}
    numbers = sorted(denied.values())
    n = len(numbers)
    deny_at = 5 + n + 1  # index of the final "return EPERM"
    prog = [
        (ld_abs, 0, 0, 4),  # A = seccomp_data.arch
        (jeq, 1, 0, audit_arch_x86_64),
        (ret, 0, 0, kill_process),
        (ld_abs, 0, 0, 0),  # A = seccomp_data.nr
        (jge, deny_at - 5, 0, 0x40000000),  # the x32 ABI
        *[(jeq, deny_at - (5 + i + 1), 0, nr) for i, nr in enumerate(numbers)],
        (ret, 0, 0, allow),
        (ret, 0, 0, deny),
    ]
    return b"".join(struct.pack("<HBBI", *insn) for insn in prog)


def _root_binds() -> list[str]:
    """/usr read-only, and /bin, /lib, ... as the same symlinks the host has (merged /usr) or read-only binds."""
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    return args


@dataclass
class _Workspace:
    """The program's files for one `run_many`: copied into each sandbox, plus a build dir for compilers."""

    sources: dict[str, bytes]
    language: str = ""
    build: Path | None = None
    binary: Path | None = None
    dirs: list[str] = field(default_factory=list)


def _find_bwrap(path: str | None) -> str:
    found = path or shutil.which("bwrap") or ("/usr/bin/bwrap" if os.access("/usr/bin/bwrap", os.X_OK) else None)
    if not found or not os.access(found, os.X_OK):
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed: install it with `sudo apt-get install bubblewrap` (or, in a clone "
            "of verifier-suite, `sudo scripts/install-system-packages`), or choose another sandbox explicitly: the "
            "code verifier's option `sandbox=\"docker\"`, or get_sandbox('docker')"
        )
    return found


class BwrapSandbox(SubprocessBackend):
    """Runs each execution in a fresh bubblewrap sandbox (see the module docstring for what that means).

    Raises `SandboxUnavailable` at construction when bubblewrap is missing or cannot create namespaces here; with
    `require_cgroups=True` when no cgroup can be used (mode "fallback"); with `require_limits=True` (default:
    `$VERIFIERS_REQUIRE_SANDBOX_LIMITS`) when a limit would not be enforced at all (`enforcement.refusal()`).
    `cgroups=False` forces the fallback. A limit that is not enforced is announced with a `SandboxWarning`.
    """

    name = "bwrap"
    isolating = True

    def __init__(
        self,
        *,
        bwrap: str | None = None,
        uid: int = 65534,
        gid: int = 65534,
        require_cgroups: bool = False,
        require_limits: bool | None = None,
        cgroups: bool = True,
        seccomp: bool = True,
    ) -> None:
        self.bwrap = _find_bwrap(bwrap)
        self.uid, self.gid = int(uid), int(gid)
        self._drop = os.geteuid() == 0 and os.access(SETPRIV, os.X_OK)
        self.cgroups = detect() if cgroups else CgroupSupport(None, None, reason="cgroups switched off (cgroups=False)")
        self.fallback = self.cgroups.mode == "fallback"
        self.seccomp = seccomp_filter(self.fallback) if seccomp else None
        self._slots = UidSlots() if self.fallback and self._drop else None
        self.enforcement = self._enforcement()
        if self.fallback and require_cgroups:
            raise SandboxUnavailable(f"no usable cgroup here: {self.cgroups.reason}")
        refusal = self.enforcement.refusal()
        if refusal:
            if limits_required(require_limits):
                raise SandboxUnavailable(refusal)
            warnings.warn(refusal, SandboxWarning, stacklevel=2)

        self._base = self._base_args()
        # the probe uses every option a run uses, so an old bubblewrap (no --size, --disable-userns) fails here
        probe_args = (*self._base, "--perms", "1777", "--size", str(1 << 20), "--tmpfs", "/tmp", "--remount-ro", "/")
        if self._slots is not None:  # as a run would: a uid of its own (65534 may already hold many tasks)
            with self._slots.slot() as uid:
                problem = _probe(self.bwrap, tuple(self._prefix(Limits(), uid=uid)), probe_args)
        else:
            problem = _probe(self.bwrap, tuple(self._prefix(Limits())), probe_args)
        if problem:
            raise SandboxUnavailable(
                f"bubblewrap cannot create a sandbox here ({problem}); user namespaces may be disabled "
                "(sysctl kernel.unprivileged_userns_clone / user.max_user_namespaces) or restricted by AppArmor"
            )

    def _enforcement(self) -> Enforcement:
        """What holds in this backend's mode (see the module docstring)."""
        mode = self.cgroups.mode
        limits = [
            LimitState("wall clock", ENFORCED, "the parent kills the tree at the deadline"),
            LimitState("cpu time", ENFORCED, "RLIMIT_CPU per process" + ("; cpu.max: one CPU for the whole tree"
                       if self.cgroups.v2 is not None and _has_controller(self.cgroups.v2, "cpu") else "")),
            LimitState("output", ENFORCED, "streamed with a cap; the tree is killed past it"),
            LimitState("disk", ENFORCED, "size-capped private tmpfs for /tmp and the working directory"),
            LimitState("network", ENFORCED, "a network namespace of its own"),
        ]  # fmt: skip
        if mode != "fallback":
            swap_file = (
                self.cgroups.v2 / "memory.swap.max" if self.cgroups.v2 is not None
                else Path(str(self.cgroups.memory)) / "memory.memsw.limit_in_bytes"
            )  # fmt: skip
            swap = _no_swap_here() or swap_file.exists()
            limits += [
                LimitState(
                    "memory",
                    ENFORCED,
                    f"{mode} memory limit on the whole tree"
                    + (", no swap" if swap else f" (swap not limited: no {swap_file.name})"),
                ),
                LimitState("pids", ENFORCED, f"{mode} pids limit on the whole tree"),
            ]
            return Enforcement("bwrap", mode, tuple(limits))
        why = f" (no cgroup: {self.cgroups.reason})" if self.cgroups.reason else ""
        limits.append(LimitState(
            "memory", NOT_ENFORCED,
            f"the program's own memory is bounded (RLIMIT_DATA per process for "
            f"{', '.join(sorted(DATA_LIMIT_LANGUAGES))}, a watchdog killing the tree when its summed PSS passes the "
            f"limit, checked every 50 ms; System V shared memory and memfd refused), but memory the kernel holds for "
            f"it (socket and pipe buffers) is counted nowhere{why}",
        ))  # fmt: skip
        if self._slots is not None:
            limits.append(LimitState("pids", ENFORCED, "RLIMIT_NPROC on a uid of the execution's own"))
        elif os.geteuid() == 0:
            limits.append(LimitState("pids", NOT_ENFORCED, f"root without {SETPRIV}: no uid of its own to limit"))
        else:
            limits.append(LimitState(
                "pids", APPROXIMATED,
                "RLIMIT_NPROC on this user's uid (its tasks at the start plus the limit): bounds the host's pids, "
                "but shares the allowance with the user's other processes",
            ))  # fmt: skip
        return Enforcement("bwrap", mode, tuple(limits))

    # -- the command line ---------------------------------------------------------------------------------
    def _base_args(self) -> list[str]:
        return [
            "--unshare-all",
            "--unshare-user",
            "--disable-userns",
            "--uid", str(self.uid),
            "--gid", str(self.gid),
            "--hostname", "sandbox",
            "--die-with-parent",
            "--new-session",
            "--cap-drop", "ALL",
            "--clearenv",
            "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin",
            "--setenv", "HOME", WORKDIR,
            "--setenv", "TMPDIR", "/tmp",
            "--setenv", "LANG", "C.UTF-8",
            *_root_binds(),
            *[arg for path in _ETC for arg in ("--ro-bind-try", path, path)],
            "--proc", "/proc",
            "--dev", "/dev",
        ]  # fmt: skip

    def _prefix(
        self, limits: Limits, procs_files: Sequence[str] = (), *, uid: int | None = None, language: str = ""
    ) -> list[str]:
        """Launcher (join the cgroups), rlimits and privilege drop (to `uid`, default the sandbox uid), in front of
        `bwrap`; in the fallback also RLIMIT_NPROC and (for `language`s that tolerate it) RLIMIT_DATA."""
        prefix: list[str] = []
        if procs_files:
            joins = " && ".join(f"echo $$ > {shlex.quote(p)}" for p in procs_files)
            prefix += ["/bin/sh", "-c", f'{joins} && exec "$@"', "sh"]
        nproc = data = None
        if self.fallback:
            nproc = limits.pids if self._slots is not None else shared_uid_nproc(limits.pids)
            # twice the limit: RLIMIT_DATA counts reserved memory (a thread's whole stack), the watchdog what is used
            data = 2 * limits.memory_mb if language in DATA_LIMIT_LANGUAGES else None
        prefix += rlimit_argv(limits, nproc=nproc, data_mb=data)
        if self._drop:
            owner = self.uid if uid is None else uid
            prefix += [SETPRIV, f"--reuid={owner}", f"--regid={self.gid}", "--clear-groups", "--"]
        return [*prefix, self.bwrap]

    # -- SubprocessBackend ----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _workspace(self, sources: dict[str, str], language: Language) -> Iterator[_Workspace]:
        workspace = _Workspace({name: text.encode() for name, text in sources.items()}, language.name)
        parents = {str(p) for name in sources for p in PurePosixPath(name).parents if str(p) != "."}
        workspace.dirs = sorted(parents, key=lambda p: p.count("/"))
        if language.compile is None:
            yield workspace
            return
        build = Path(tempfile.mkdtemp(prefix="verifiers-build-"))
        build.chmod(0o755)  # the runs (each maybe under a uid of its own) read the binary through it
        try:
            for name, data in workspace.sources.items():
                (build / name).parent.mkdir(parents=True, exist_ok=True)
                (build / name).write_bytes(data)
            if self._drop:
                for path in [build, *build.rglob("*")]:
                    os.chown(path, self.uid, self.gid)
            workspace.build = build
            workspace.binary = build / BINARY
            yield workspace
        finally:
            shutil.rmtree(build, ignore_errors=True)

    def _execute(
        self, workspace: object, argv: Sequence[str], stdin: bytes, limits: Limits, *, compiling: bool
    ) -> ExecResult:
        assert isinstance(workspace, _Workspace)
        if self._slots is None:
            return self._execute_as(workspace, argv, stdin, limits, compiling=compiling, uid=None)
        with self._slots.slot() as uid:
            return self._execute_as(workspace, argv, stdin, limits, compiling=compiling, uid=uid)

    def _execute_as(
        self, workspace: _Workspace, argv: Sequence[str], stdin: bytes, limits: Limits, *, compiling: bool,
        uid: int | None,
    ) -> ExecResult:  # fmt: skip
        try:
            cgroup = exec_cgroup(self.cgroups, memory_mb=limits.memory_mb, pids=limits.pids)
        except OSError as exc:
            return ExecResult(Outcome.SANDBOX_ERROR, detail=f"could not create the execution cgroup: {exc}")
        fds: list[int] = []
        status_r, status_w = os.pipe()
        open_fds = [status_r, status_w]

        watchdog: Watchdog | None = None
        running: list[subprocess.Popen] = []
        sampled_cpu = [0.0]  # the fallback's CPU time of the tree, as last seen by the watchdog

        def started(proc: subprocess.Popen) -> None:
            os.close(status_w)
            open_fds.remove(status_w)
            running.append(proc)
            if watchdog is not None:
                watchdog.start(proc.pid)

        try:
            prefix = self._prefix(limits, cgroup.procs_files, uid=uid, language=workspace.language)
            args = [*prefix, *self._base, "--json-status-fd", str(status_w)]
            disk = str(int(limits.disk_mb) << 20)
            args += ["--perms", "1777", "--size", disk, "--tmpfs", "/tmp"]
            # /dev is a tmpfs the sandbox uid owns: shared memory gets a capped tmpfs of its own, the rest is read-only
            args += ["--perms", "1777", "--size", disk, "--tmpfs", "/dev/shm", "--remount-ro", "/dev"]
            if limits.network:
                args += ["--share-net", *[a for p in _NET_ETC for a in ("--ro-bind-try", p, p)]]
            if compiling:
                assert workspace.build is not None
                if uid is not None:  # the compiler runs as this execution's uid: the build dir is its to write
                    for path in [workspace.build, *workspace.build.rglob("*")]:
                        os.chown(path, uid, self.gid)
                args += ["--bind", str(workspace.build), WORKDIR]
            else:
                args += ["--perms", "0777", "--size", disk, "--tmpfs", WORKDIR]
                for d in workspace.dirs:
                    args += ["--perms", "0777", "--dir", f"{WORKDIR}/{d}"]
                for name, data in workspace.sources.items():
                    fd = os.memfd_create("sandbox-file")
                    fds.append(fd)
                    os.write(fd, data)
                    os.lseek(fd, 0, os.SEEK_SET)
                    args += ["--perms", "0644", "--file", str(fd), f"{WORKDIR}/{name}"]
                if workspace.binary is not None:
                    args += ["--ro-bind", str(workspace.binary), f"{WORKDIR}/{BINARY}"]
            if self.seccomp is not None:
                fd = os.memfd_create("sandbox-seccomp")
                fds.append(fd)
                os.write(fd, self.seccomp)
                os.lseek(fd, 0, os.SEEK_SET)
                args += ["--seccomp", str(fd)]
            args += ["--remount-ro", "/", "--chdir", WORKDIR, "--", *argv]

            def kill(proc: subprocess.Popen) -> None:
                if proc.poll() is None:  # never signal a pid (group) that may be another process's by now
                    _end_tree(proc)
                cgroup.kill()

            if self.fallback:  # no cgroup sums the tree's memory (or times its CPU): the watchdog does
                cap = int(limits.memory_mb) << 20

                def over(root: int) -> bool:
                    memory, cpu = tree_usage(root)
                    sampled_cpu[0] = max(sampled_cpu[0], cpu)
                    return memory > cap

                watchdog = Watchdog(over, lambda: kill(running[0]))
            elif isinstance(cgroup, ExecCgroup):  # a v1 OOM kill takes one process: end the whole execution
                watchdog = Watchdog(lambda _root: cgroup.oom_killed(), lambda: kill(running[0]))

            try:
                raw = supervise(
                    args,
                    stdin=stdin,
                    wall_s=limits.wall_s,
                    output_bytes=limits.output_bytes,
                    kill=kill,
                    pass_fds=[status_w, *fds],
                    status_fd=status_r,
                    env={"PATH": "/usr/bin:/bin"},
                    after_start=started,
                )
            except OSError as exc:
                return ExecResult(Outcome.SANDBOX_ERROR, detail=f"could not start bubblewrap: {exc}")
            finally:
                if watchdog is not None:
                    watchdog.stop()
            raw.cpu_s = max(raw.cpu_s, sampled_cpu[0])
            return self._result(raw, limits, cgroup, watchdog)
        finally:
            for fd in (*fds, *open_fds):
                with contextlib.suppress(OSError):
                    os.close(fd)
            cgroup.remove()

    def _result(
        self, raw: Supervised, limits: Limits, cgroup: ExecCgroup | ExecCgroupV2, watchdog: Watchdog | None
    ) -> ExecResult:
        cpu = cgroup.cpu_s()
        if cpu is not None:  # bwrap does not wait for its pid-namespace init, so rusage misses the program
            raw.cpu_s = cpu
        status = _parse_status(raw.status)
        if "child-pid" not in status:
            message = raw.stderr.decode(errors="replace").strip() or f"exit status {raw.returncode}"
            return ExecResult(
                Outcome.SANDBOX_ERROR, exit_code=raw.returncode, wall_s=raw.wall_s, detail=f"bwrap failed: {message}"
            )
        rc = status.get("exit-code", raw.returncode)
        oom_killed = cgroup.oom_killed() or (self.fallback and watchdog is not None and watchdog.fired)
        if (rc is None or rc < 0) and not (raw.timed_out or raw.output_exceeded or oom_killed):
            # bwrap itself died by a signal we did not send: killed from outside (an operator, the OOM killer of
            # the host): the program's run is unknown, never a verdict on it
            return ExecResult(
                Outcome.SANDBOX_ERROR,
                exit_code=raw.returncode,
                wall_s=raw.wall_s,
                detail=f"bubblewrap was killed from outside (status {raw.returncode})",
            )
        exit_code: int | None
        sig: int | None = None
        if rc is None or rc < 0:  # bwrap itself was killed (by us): the program has no exit status of its own
            exit_code = None
        elif 128 < rc <= 128 + 64:  # bwrap reports a child killed by signal N as exit status 128 + N
            exit_code, sig = None, rc - 128
        else:
            exit_code = rc
        memory_error = b"MemoryError" in raw.stderr[-4096:] and rc not in (0, None)
        # in the fallback RLIMIT_DATA makes an allocation past the limit fail inside the program (MemoryError)
        oom = oom_killed or (memory_error and (cgroup.memory_limit_hit() or self.fallback))
        notes = []
        refused = cgroup.pids_refused()
        if refused:
            notes.append(f"{refused} forks refused by the pids limit ({limits.pids})")
        if self.fallback and watchdog is not None and watchdog.fired:
            notes.append(f"the tree's summed PSS passed {limits.memory_mb} MB (watchdog)")
        return classify(raw, limits, exit_code=exit_code, sig=sig, oom=oom, detail="; ".join(notes))


def _has_controller(cgroup: Path, controller: str) -> bool:
    try:
        return controller in (cgroup / "cgroup.subtree_control").read_text().split()
    except OSError:
        return False


def _no_swap_here() -> bool:
    """Whether the host has no swap at all (then a memory limit needs no swap limit)."""
    try:
        return len(Path("/proc/swaps").read_text().splitlines()) <= 1
    except OSError:
        return False


def _end_tree(proc: subprocess.Popen) -> None:
    """Kill a running bwrap's sandbox: its pid-namespace init first (the kernel then kills everything inside),
    so that bwrap reaps it and exits by itself; then the whole process group. Killing bwrap first would leave
    its init a zombie for the host's init to reap (which in a container without one never happens)."""
    with contextlib.suppress(OSError, ValueError):
        for child in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(child), signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(0.2)
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


def _parse_status(data: bytes) -> dict[str, int]:
    status: dict[str, int] = {}
    for line in data.decode(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            doc = json.loads(line)
            if isinstance(doc, dict):
                status.update({k: v for k, v in doc.items() if isinstance(v, int)})
    return status


_PROBED: set[tuple[str, tuple[str, ...], tuple[str, ...]]] = set()


def _probe(bwrap: str, prefix: tuple[str, ...], base: tuple[str, ...]) -> str:
    """'' when a minimal sandbox runs `/usr/bin/true` here, else what went wrong (a success is remembered per
    setup; a failure is not, so a passing condition — a busy host — does not disable the sandbox for good)."""
    key = (bwrap, tuple(a for a in prefix if not a.startswith("--reuid=")), base)
    if key in _PROBED:
        return ""
    problem = _run_probe(bwrap, prefix, base)
    if not problem:
        _PROBED.add(key)
    return problem


def _run_probe(bwrap: str, prefix: tuple[str, ...], base: tuple[str, ...]) -> str:
    try:
        proc = subprocess.run(
            [*prefix, *base, "--", "/usr/bin/true"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
            env={"PATH": "/usr/bin:/bin"},
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{type(exc).__name__}: {exc}"
    if proc.returncode != 0:
        return proc.stderr.decode(errors="replace").strip() or f"exit status {proc.returncode}"
    return ""


def bwrap_usable() -> str:
    """'' when the bwrap backend can run here, else the reason it cannot (for skips and `default_sandbox`)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SandboxWarning)
            BwrapSandbox()
    except SandboxUnavailable as exc:
        return str(exc)
    return ""
