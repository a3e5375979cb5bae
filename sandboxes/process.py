"""Supervising one child process (streamed output cap, wall clock, kill), and the `process` backend.

`supervise` is shared by every subprocess-based backend. `ProcessSandbox` runs the program as a plain child
under rlimits only: it does NOT isolate anything (the program sees the host's files, network and processes).
It exists for development machines without bubblewrap and must be chosen explicitly.
"""

from __future__ import annotations

import contextlib
import math
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from . import ExecResult, Limits, Outcome, SandboxUnavailable, SandboxWarning
from .enforcement import ENFORCED, NOT_ENFORCED, Enforcement, LimitState
from .languages import Language, get_language

__all__ = ["ProcessSandbox", "Supervised", "check_files", "compile_limits", "rlimit_argv", "supervise"]

PRLIMIT = "/usr/bin/prlimit"
_CHUNK = 1 << 16
_EXIT_GRACE_S = 0.5
DEFAULT_LIMITS = Limits()


def _pidfd(pid: int) -> int | None:
    """A pollable fd that becomes readable when `pid` exits (Linux >= 5.3), or None."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


class _Popen(subprocess.Popen):
    """A Popen that keeps the child's resource usage (wait4), for the CPU time of the whole waited tree."""

    rusage: os.struct_rusage | None = None  # type: ignore[name-defined]

    def _try_wait(self, wait_flags: int) -> tuple[int, int]:
        try:
            pid, status, rusage = os.wait4(self.pid, wait_flags)
        except ChildProcessError:
            return self.pid, 0
        if pid == self.pid:
            self.rusage = rusage
        return pid, status


@dataclass
class Supervised:
    """What `supervise` saw: the raw return code, captured output (capped) and why it stopped the child."""

    returncode: int | None
    stdout: bytes
    stderr: bytes
    wall_s: float
    cpu_s: float
    timed_out: bool
    output_exceeded: bool
    status: bytes = b""


def supervise(
    argv: Sequence[str],
    *,
    stdin: bytes,
    wall_s: float,
    output_bytes: int,
    kill: Callable[[subprocess.Popen], None],
    pass_fds: Sequence[int] = (),
    status_fd: int | None = None,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    after_start: Callable[[subprocess.Popen], None] | None = None,
) -> Supervised:
    """Run `argv` in a new session; stream its output up to `output_bytes`; `kill` it on overflow or wall clock.

    `status_fd` is the read end of a pipe whose write end the child holds (bubblewrap's `--json-status-fd`);
    its content is returned in `status`; `after_start(proc)` runs once the child exists (to close the parent's
    copy of that write end, to start watching it). Raises OSError only when the child cannot be started at all.
    """
    start = time.monotonic()
    deadline = start + wall_s
    proc = _Popen(
        list(argv),
        stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        pass_fds=tuple(pass_fds),
        cwd=cwd,
        env=dict(env) if env is not None else {},
        start_new_session=True,
    )
    if after_start is not None:
        try:
            after_start(proc)
        except BaseException:  # never leave the child running unsupervised
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
    assert proc.stdout is not None and proc.stderr is not None
    pidfd: int | None = None
    out, err = bytearray(), bytearray()
    buffers = {proc.stdout.fileno(): out, proc.stderr.fileno(): err}
    status = bytearray()
    total = 0
    timed_out = exceeded = False
    sel = selectors.DefaultSelector()
    try:
        for fd in buffers:
            os.set_blocking(fd, False)
            sel.register(fd, selectors.EVENT_READ)
        if status_fd is not None:
            os.set_blocking(status_fd, False)
            sel.register(status_fd, selectors.EVENT_READ)
        stdin_fd, offset, data = None, 0, memoryview(stdin)
        if stdin and proc.stdin is not None:
            stdin_fd = proc.stdin.fileno()
            os.set_blocking(stdin_fd, False)
            sel.register(stdin_fd, selectors.EVENT_WRITE)
        open_outputs = len(buffers)
        pidfd = _pidfd(proc.pid)
        exited = pidfd is None  # without a pidfd: read until the outputs close, then wait
        if pidfd is not None:
            sel.register(pidfd, selectors.EVENT_READ)
        grace: float | None = None  # after the child exits, how long leftovers may hold its outputs open
        while (open_outputs or not exited) and not exceeded:
            now = time.monotonic()
            if now >= deadline:
                timed_out = True
                break
            if grace is not None and now >= grace:
                break
            for key, _ in sel.select(min(deadline, grace or deadline) - now):
                fd = key.fd
                if fd == pidfd:
                    sel.unregister(fd)
                    exited = True
                    grace = time.monotonic() + _EXIT_GRACE_S
                    continue
                if fd == stdin_fd:
                    try:
                        offset += os.write(fd, data[offset : offset + _CHUNK])
                        done = offset >= len(data)
                    except (BrokenPipeError, BlockingIOError, OSError):
                        done = True
                    if done:
                        sel.unregister(fd)
                        proc.stdin.close()  # type: ignore[union-attr]
                        stdin_fd = None
                    continue
                try:
                    chunk = os.read(fd, _CHUNK)
                except BlockingIOError:
                    continue
                if fd == status_fd:
                    if chunk:
                        status += chunk
                    else:
                        sel.unregister(fd)
                    continue
                if not chunk:
                    sel.unregister(fd)
                    open_outputs -= 1
                    continue
                room = output_bytes - total
                buffers[fd] += chunk[: max(room, 0)]
                total += len(chunk)
                if total > output_bytes:
                    exceeded = True
                    break
        if timed_out or exceeded or (exited and open_outputs):
            kill(proc)
        try:
            proc.wait(timeout=max(deadline - time.monotonic(), 0.0))
        except subprocess.TimeoutExpired:
            timed_out = True
            kill(proc)
            proc.wait()
        if status_fd is not None:
            os.set_blocking(status_fd, True)
            with contextlib.suppress(OSError):
                while chunk := os.read(status_fd, _CHUNK):
                    status += chunk
    except BaseException:
        kill(proc)
        proc.wait()
        raise
    finally:
        sel.close()
        if pidfd is not None:
            os.close(pidfd)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
    ru = proc.rusage
    cpu = (ru.ru_utime + ru.ru_stime) if ru is not None else 0.0
    return Supervised(
        returncode=proc.returncode,
        stdout=bytes(out),
        stderr=bytes(err),
        wall_s=time.monotonic() - start,
        cpu_s=cpu,
        timed_out=timed_out,
        output_exceeded=exceeded,
        status=bytes(status),
    )


def rlimit_argv(limits: Limits, *, nproc: int | None = None, data_mb: int | None = None) -> list[str]:
    """`prlimit` in front of a command: CPU (SIGXCPU at the limit, SIGKILL a second later), file size,
    open files, no core dumps; and where asked (the fallback without cgroups, `sandboxes.fallback`) the tasks of
    the uid (RLIMIT_NPROC) and each process's data segment (RLIMIT_DATA). RLIMIT_AS is left alone: it breaks
    threaded runtimes (node, the JVM)."""
    cpu = max(1, math.ceil(limits.cpu_s))
    fsize = int(limits.file_size_mb) << 20
    nofile = int(limits.open_files)
    extra = [f"--nproc={int(nproc)}"] if nproc is not None else []
    extra += [f"--data={int(data_mb) << 20}"] if data_mb is not None else []
    return [PRLIMIT, f"--cpu={cpu}:{cpu + 1}", f"--fsize={fsize}", f"--nofile={nofile}", "--core=0", *extra, "--"]


def compile_limits(limits: Limits) -> Limits:
    """Limits for a compiler: at least the generous defaults a C++ compile needs, never below the run's."""
    return replace(
        limits,
        cpu_s=max(limits.cpu_s, 30.0),
        wall_s=max(limits.wall_s, 60.0),
        memory_mb=max(limits.memory_mb, 1024),
        pids=max(limits.pids, 64),
        file_size_mb=max(limits.file_size_mb, 64),
        disk_mb=max(limits.disk_mb, 256),
        output_bytes=max(limits.output_bytes, 1 << 16),
    )


def check_files(files: Mapping[str, str] | None, language: Language) -> dict[str, str]:
    """Validate extra files: relative paths, no `..`, not the program's own file; returns a plain dict."""
    checked: dict[str, str] = {}
    for name, content in (files or {}).items():
        path = PurePosixPath(name)
        if not name or path.is_absolute() or ".." in path.parts or str(path) in (language.source, "."):
            raise ValueError(f"sandbox file name {name!r} must be a relative path inside the working directory")
        checked[str(path)] = content
    return checked


def decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def classify(
    raw: Supervised,
    limits: Limits,
    *,
    exit_code: int | None,
    sig: int | None,
    oom: bool = False,
    detail: str = "",
) -> ExecResult:
    """The outcome of a finished execution: our own kills first, then the kernel's (OOM, CPU), then the exit."""
    notes = [detail] if detail else []
    if raw.output_exceeded:
        outcome = Outcome.OUTPUT_LIMIT
        notes.append(f"output exceeded {limits.output_bytes} bytes")
    elif raw.timed_out:
        outcome = Outcome.TIMEOUT
        notes.append(f"wall clock exceeded {limits.wall_s:g} s")
    elif oom:
        outcome = Outcome.MEMORY
        notes.append(f"memory exceeded {limits.memory_mb} MB")
    elif sig == signal.SIGXCPU or (sig == signal.SIGKILL and raw.cpu_s >= math.ceil(limits.cpu_s) + 0.9):
        outcome = Outcome.TIMEOUT
        notes.append(f"CPU time exceeded {limits.cpu_s:g} s")
    elif exit_code == 0 and sig is None:
        outcome = Outcome.OK
    else:
        outcome = Outcome.RUNTIME_ERROR
        if sig is not None:
            notes.append(f"killed by {_signal_name(sig)}")
    return ExecResult(
        outcome=outcome,
        exit_code=exit_code,
        signal=sig,
        stdout=decode(raw.stdout),
        stderr=decode(raw.stderr),
        wall_s=raw.wall_s,
        cpu_s=raw.cpu_s,
        detail="; ".join(notes),
    )


def _signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def as_compile_error(result: ExecResult) -> ExecResult:
    """A failed compile step as the program's `COMPILE_ERROR` (sandbox failures stay `SANDBOX_ERROR`)."""
    if result.outcome in (Outcome.OK, Outcome.SANDBOX_ERROR, Outcome.COMPILE_ERROR):
        return result
    detail = "compilation failed" + (f" ({result.outcome.value}: {result.detail})" if result.detail else "")
    return replace(result, outcome=Outcome.COMPILE_ERROR, detail=detail)


class SubprocessBackend:
    """Shared driver of the subprocess backends: language dispatch, compile once, run per input."""

    name = "subprocess"
    isolating = True

    def run(
        self,
        program: str,
        *,
        language: str = "python",
        stdin: str = "",
        files: Mapping[str, str] | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> ExecResult:
        """Run `program` once with `stdin`; a compiled language's failed compile is its `COMPILE_ERROR`."""
        _, runs = self.run_many(program, language=language, stdins=[stdin], files=files, limits=limits)
        return runs[0]

    def run_many(
        self,
        program: str,
        *,
        language: str = "python",
        stdins: Sequence[str],
        files: Mapping[str, str] | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> tuple[ExecResult | None, list[ExecResult]]:
        """Compile once (compiled languages), then run once per stdin, each in a fresh sandbox.

        Returns (compile result or None, one result per stdin). When compilation fails every run result is the
        compile result (`COMPILE_ERROR`), so the list always pairs up with `stdins`.
        """
        lang = get_language(language)
        extra = check_files(files, lang)
        sources = {**extra, lang.source: program}
        with self._workspace(sources, lang) as workspace:
            compiled: ExecResult | None = None
            if lang.compile is not None:
                compiled = as_compile_error(
                    self._execute(workspace, lang.compile, b"", compile_limits(limits), compiling=True)
                )
                if compiled.outcome is not Outcome.OK:
                    return compiled, [compiled for _ in stdins]
            runs = [self._execute(workspace, lang.run, s.encode(), limits, compiling=False) for s in stdins]
            return compiled, runs

    def _workspace(self, sources: dict[str, str], language: Language) -> contextlib.AbstractContextManager:
        raise NotImplementedError

    def _execute(
        self, workspace: object, argv: Sequence[str], stdin: bytes, limits: Limits, *, compiling: bool
    ) -> ExecResult:
        raise NotImplementedError


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


class ProcessSandbox(SubprocessBackend):
    """NOT ISOLATING: the program runs as a plain child process of this one, under rlimits only.

    It can read and write the host's files, use the network and signal other processes. Memory and process
    count are not limited. Use it only for trusted programs or on machines without bubblewrap, explicitly.
    """

    name = "process"
    isolating = False
    enforcement = Enforcement("process", "none (not isolating)", (
        LimitState("wall clock", ENFORCED, "the parent kills the process group at the deadline"),
        LimitState("cpu time", ENFORCED, "RLIMIT_CPU per process"),
        LimitState("output", ENFORCED, "streamed with a cap"),
        LimitState("memory", NOT_ENFORCED, "no cgroup and no rlimit: the process backend does not contain programs"),
        LimitState("pids", NOT_ENFORCED, "no cgroup and no rlimit: the process backend does not contain programs"),
        LimitState("disk", NOT_ENFORCED, "the program writes to the host's file system (RLIMIT_FSIZE per file only)"),
        LimitState("network", NOT_ENFORCED, "the host's network"),
    ))  # fmt: skip

    def __init__(self, *, quiet: bool = False) -> None:
        if not os.access(PRLIMIT, os.X_OK):
            raise SandboxUnavailable(f"the process backend needs {PRLIMIT} (util-linux) to apply rlimits")
        if not quiet:
            warnings.warn(
                "the 'process' sandbox does NOT isolate programs: they run as this user with full access to "
                "files, network and processes (rlimits only); use the 'bwrap' backend for untrusted code",
                SandboxWarning,
                stacklevel=2,
            )

    @contextlib.contextmanager
    def _workspace(self, sources: dict[str, str], language: Language) -> Iterator[Path]:
        root = Path(tempfile.mkdtemp(prefix="verifiers-process-"))
        try:
            for name, content in sources.items():
                path = root / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(content)
            yield root
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def _execute(
        self, workspace: object, argv: Sequence[str], stdin: bytes, limits: Limits, *, compiling: bool
    ) -> ExecResult:
        assert isinstance(workspace, Path)
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(workspace)}
        try:
            raw = supervise(
                [*rlimit_argv(limits), *argv],
                stdin=stdin,
                wall_s=limits.wall_s,
                output_bytes=limits.output_bytes,
                kill=_kill_group,
                cwd=str(workspace),
                env=env,
            )
        except OSError as exc:
            return ExecResult(Outcome.SANDBOX_ERROR, detail=f"could not start {argv[0]}: {exc}")
        rc = raw.returncode
        sig = -rc if rc is not None and rc < 0 else None
        return classify(raw, limits, exit_code=None if sig else rc, sig=sig, detail="process backend (not isolating)")
