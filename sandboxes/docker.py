"""The `docker` sandbox backend: programs run in containers of a Docker engine, through the Docker SDK.

Containers run an image made offline from the host's own files (`sandboxes.docker_image`, `docker import`;
nothing is pulled) with `network_mode="none"`, a memory limit without swap, a pids limit, a read-only root,
a size-capped tmpfs for `/tmp` (the working directories live there), `no-new-privileges`, no host mounts and
every capability dropped but SETUID/SETGID/KILL/CHOWN, which only the supervisor holds: PID 1 and every
program run as uid/gid 65534 with no capabilities, so a program can neither signal nor read its supervisor.

Throughput comes from a warm pool: up to `pool_size` long-lived containers (`sleep infinity`) per engine, and
each execution is one `docker exec` of a small supervisor baked into the image. The program, its files and its
stdin travel over the exec's stdin; the supervisor makes a fresh working directory, runs the program under
RLIMIT_CPU/RLIMIT_FSIZE, relays its output up to `Limits.output_bytes`, enforces `Limits.wall_s`, then kills
every process left in the container, wipes `/tmp` and reports a status line. So a container is clean between
executions; when anything misbehaves (no status, the host-side backstop deadline, an engine error) the
container is killed and replaced instead of reused.

Outcomes: wall or CPU time -> TIMEOUT; OOM kill (SIGKILL with the container's OOM counter raised, or a
Python `MemoryError` while the cgroup hit its limit; without readable cgroups, any SIGKILL) -> MEMORY; more
output than allowed -> OUTPUT_LIMIT; non-zero exit or a signal ->
RUNTIME_ERROR; any failure of the engine or the container -> SANDBOX_ERROR with the reason in `detail`
(`run` never raises for those).

The Docker SDK is an optional extra: `pip install 'verifier-suite[docker]'`. `Limits.network=True` is refused
(SANDBOX_ERROR): this backend never gives a program a network.
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import os
import posixpath
import secrets
import select
import signal
import socket
import struct
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from verifiers.hookspecs import hookimpl

from . import ExecResult, Limits, Outcome
from .docker_image import PYTHON_PATH, SUPERVISOR_PATH, ensure_image
from .enforcement import ENFORCED, Enforcement, LimitState
from .languages import get_language

__all__ = ["DockerSandbox", "DockerUnavailable", "register_sandboxes"]

INSTALL_HINT = "pip install 'verifier-suite[docker]'"
LABEL = "org.verifiers.sandbox"
SANDBOX_ID = 65534  # uid and gid of PID 1 and of every program; the supervisor alone runs as root
SANDBOX_UID = f"{SANDBOX_ID}:{SANDBOX_ID}"
# Memory the container needs besides the program (the supervisor's Python, `sleep`); added to the limit.
OVERHEAD_MB = 24
# Processes besides the program's (PID 1 `sleep`, the supervisor, a spare).
OVERHEAD_PIDS = 3
# Seconds after `wall_s` that the host waits for the supervisor before it kills the container itself.
BACKSTOP_S = 5.0

# PID 1 of every container: becomes uid/gid 65534 and sleeps forever (it never reaps; the supervisor is a
# child subreaper and reaps what its program leaves behind).
_DROP_TO_NOBODY = (
    f"import os; os.setgroups([]); os.setgid({SANDBOX_ID}); os.setuid({SANDBOX_ID}); "
    "os.execv('/usr/bin/sleep', ['sleep', 'infinity'])"
)

_CHILD_ENV = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/tmp",
    "LANG": "C.UTF-8",
    "PYTHONIOENCODING": "utf-8",
    "PYTHONDONTWRITEBYTECODE": "1",
}


class DockerUnavailable(ImportError):
    """The Docker SDK for Python is not installed."""


def _import_docker() -> Any:
    try:
        import docker
    except ImportError as exc:
        raise DockerUnavailable(f"the docker sandbox needs the Docker SDK for Python: {INSTALL_HINT} ({exc})") from exc
    return docker


@dataclass(frozen=True)
class _Shape:
    """Limits fixed when a container is created; executions with other values need other containers."""

    memory_mb: int
    pids: int
    tmpfs_mb: int


class _Slot:
    def __init__(self, container: Any, shape: _Shape) -> None:
        self.container = container
        self.id: str = container.id
        self.shape = shape
        self.runs = 0


class _ExecFailure(Exception):
    """The engine or the container failed (not the program)."""


class DockerSandbox:
    """Run untrusted programs in a warm pool of locked-down Docker containers (see the module docstring).

    Options: `base_url` (engine address; default `DOCKER_HOST` or the local socket), `image` (a tag to use
    instead of building one), `pool_size` (warm containers kept, and the most executions at once),
    `node` (put node in the built image: None = when the host has it), `cpus` (CPU share per container),
    `tmpfs_mb` (size of `/tmp` when `Limits` has no `disk_mb`), `acquire_timeout_s` (how long a run waits for a
    free container).
    """

    name = "docker"
    isolating = True
    enforcement = Enforcement("docker", "docker", (
        LimitState("wall clock", ENFORCED, "the supervisor kills the execution at the deadline"),
        LimitState("cpu time", ENFORCED, "RLIMIT_CPU per process, and the container's CPU share"),
        LimitState("output", ENFORCED, "streamed with a cap"),
        LimitState("memory", ENFORCED, "the container's memory limit (its cgroup), no swap"),
        LimitState("pids", ENFORCED, "the container's pids limit (its cgroup)"),
        LimitState("disk", ENFORCED, "a read-only root and size-capped tmpfs"),
        LimitState("network", ENFORCED, "network_mode none"),
    ))  # fmt: skip

    def __init__(
        self,
        *,
        base_url: str | None = None,
        image: str | None = None,
        pool_size: int = 2,
        node: bool | None = None,
        cpus: float = 1.0,
        tmpfs_mb: int = 64,
        acquire_timeout_s: float = 120.0,
    ) -> None:
        _import_docker()  # fail early and clearly when the SDK is missing
        if pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        self.base_url = base_url
        self.image = image
        self.pool_size = pool_size
        self.node = node
        self.cpus = cpus
        self.tmpfs_mb = tmpfs_mb
        self.acquire_timeout_s = acquire_timeout_s
        self._client: Any = None
        self._languages: tuple[str, ...] | None = None
        self._lock = threading.Lock()
        self._cond = threading.Condition()
        self._idle: list[_Slot] = []
        self._live = 0
        self._closed = False
        self._all: dict[str, _Slot] = {}
        self._finalizer = weakref.finalize(self, DockerSandbox._remove_all, self._all)
        atexit.register(self._finalizer)

    # -- engine and image -------------------------------------------------------------------------------

    def client(self) -> Any:
        """The SDK client, connected (and the image ensured) on first use."""
        with self._lock:
            if self._client is None:
                docker = _import_docker()
                client = (
                    docker.DockerClient(base_url=self.base_url, timeout=60)
                    if self.base_url
                    else docker.from_env(timeout=60)
                )
                try:
                    client.ping()
                    if self.image is None:
                        self.image = ensure_image(client, node=self.node)
                    _remove_stale(client)
                except Exception:
                    client.close()
                    raise
                self._client = client
            return self._client

    def languages(self) -> tuple[str, ...]:
        """The languages the image can run."""
        if self._languages is None:
            self.client()
            attrs = self._client.images.get(self.image).attrs
            labels = (attrs.get("Config") or {}).get("Labels") or {}
            found = labels.get(f"{LABEL}.languages")
            self._languages = tuple(found.split(",")) if found else ("python",)
        return self._languages

    # -- the pool -----------------------------------------------------------------------------------------

    def _shape(self, limits: Limits) -> _Shape:
        tmpfs = int(getattr(limits, "disk_mb", self.tmpfs_mb) or self.tmpfs_mb)
        return _Shape(int(limits.memory_mb) + OVERHEAD_MB, int(limits.pids) + OVERHEAD_PIDS, tmpfs)

    def _create(self, shape: _Shape) -> _Slot:
        client = self.client()
        mem = f"{shape.memory_mb}m"
        container = client.containers.run(
            self.image,
            [PYTHON_PATH, "-I", "-S", "-c", _DROP_TO_NOBODY],
            detach=True,
            network_mode="none",
            mem_limit=mem,
            memswap_limit=mem,
            pids_limit=shape.pids,
            nano_cpus=int(self.cpus * 1e9),
            read_only=True,
            tmpfs={"/tmp": f"rw,nosuid,nodev,size={shape.tmpfs_mb}m,mode=1777"},
            shm_size="16m",
            # The container's user is root so that the supervisor, exec'd as root, keeps the four capabilities
            # below (with no-new-privileges an exec cannot gain what the container user lacks). PID 1 drops to
            # 65534 at once (`_DROP_TO_NOBODY`), and so does every program, losing all capabilities for good:
            # no-new-privileges holds and the image has no setuid binaries.
            user="0:0",
            cap_drop=["ALL"],
            cap_add=["SETUID", "SETGID", "KILL", "CHOWN"],
            security_opt=["no-new-privileges"],
            environment={},
            working_dir="/tmp",
            hostname="sandbox",
            ulimits=[_import_docker().types.Ulimit(name="nofile", soft=4096, hard=4096)],
            log_config={"type": "none", "config": {}},
            labels={LABEL: "1", f"{LABEL}.host": socket.gethostname(), f"{LABEL}.pid": str(os.getpid())},
            stdin_open=False,
            auto_remove=False,
        )
        slot = _Slot(container, shape)
        self._all[slot.id] = slot
        return slot

    def _acquire(self, shape: _Shape) -> _Slot:
        deadline = time.monotonic() + self.acquire_timeout_s
        evict: _Slot | None = None
        with self._cond:
            while True:
                if self._closed:
                    raise _ExecFailure("the sandbox is closed")
                for i, slot in enumerate(self._idle):
                    if slot.shape == shape:
                        return self._idle.pop(i)
                if self._live < self.pool_size:
                    self._live += 1
                    break
                if self._idle:  # a warm container of another shape: replace it by one of this shape
                    evict = self._idle.pop(0)
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    raise _ExecFailure(f"no free container within {self.acquire_timeout_s:.0f} s")
                self._cond.wait(left)
        if evict is not None:
            self._discard(evict, count=False)
        try:
            return self._create(shape)
        except BaseException:
            with self._cond:
                self._live -= 1
                self._cond.notify()
            raise

    def _release(self, slot: _Slot, healthy: bool) -> None:
        if healthy and not self._closed:
            with self._cond:
                self._idle.append(slot)
                self._cond.notify()
        else:
            self._discard(slot)

    def _discard(self, slot: _Slot, count: bool = True) -> None:
        self._all.pop(slot.id, None)
        threading.Thread(target=_remove_quietly, args=(slot.container,), daemon=True).start()
        if count:
            with self._cond:
                self._live -= 1
                self._cond.notify()

    def warm(self, n: int | None = None, limits: Limits = Limits()) -> int:
        """Start up to `n` (default `pool_size`) idle containers for `limits` now; returns how many are idle."""
        shape = self._shape(limits)
        want = min(n or self.pool_size, self.pool_size)
        slots: list[_Slot] = []
        errors: list[BaseException] = []

        def one() -> None:
            try:
                slots.append(self._acquire(shape))
            except BaseException as exc:
                errors.append(exc)

        self.client()
        with self._cond:
            have = sum(1 for s in self._idle if s.shape == shape)
        threads = [threading.Thread(target=one) for _ in range(max(0, want - have))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for slot in slots:
            self._release(slot, True)
        if errors and not slots and not have:
            raise errors[0]
        with self._cond:
            return sum(1 for s in self._idle if s.shape == shape)

    def close(self) -> None:
        """Remove every container of this sandbox (idle or not). The object cannot run anything afterwards."""
        with self._cond:
            self._closed = True
            self._idle.clear()
            self._cond.notify_all()
        self._finalizer()
        if self._client is not None:
            try:
                self._client.close()
            except Exception:
                pass

    def __enter__(self) -> DockerSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _remove_all(slots: dict[str, _Slot]) -> None:
        for slot in list(slots.values()):
            _remove_quietly(slot.container)
        slots.clear()

    # -- running ------------------------------------------------------------------------------------------

    def run(
        self,
        program: str,
        *,
        language: str = "python",
        stdin: str = "",
        files: Mapping[str, str] | None = None,
        limits: Limits = Limits(),
    ) -> ExecResult:
        start = time.monotonic()
        get_language(language)  # a caller's mistake (unknown language) raises UnknownLanguageError
        try:
            return self._run(program, language, stdin, files, limits, start)
        except Exception as exc:  # never a crash: the infrastructure failed, not the program
            return ExecResult(
                Outcome.SANDBOX_ERROR,
                wall_s=time.monotonic() - start,
                detail=f"docker sandbox: {type(exc).__name__}: {exc}",
            )

    def _run(
        self, program: str, language: str, stdin: str, files: Mapping[str, str] | None, limits: Limits, start: float
    ) -> ExecResult:
        defaults = Limits()
        limits = dataclasses.replace(
            limits,
            **{
                f.name: getattr(defaults, f.name) for f in dataclasses.fields(limits) if getattr(limits, f.name) is None
            },
        )  # None means the default
        if limits.network:
            return ExecResult(Outcome.SANDBOX_ERROR, detail="the docker sandbox never grants network access")
        spec = get_language(language)  # UnknownLanguageError for a language nobody knows
        if spec.compiled:
            return ExecResult(
                Outcome.SANDBOX_ERROR,
                detail=f"the docker image has no compiler for {spec.name!r} (interpreted languages only)",
            )
        lang, main, argv = spec.name, spec.source, list(spec.run)
        payload_files: dict[str, str] = {}
        for name, text in (files or {}).items():
            clean = posixpath.normpath(name)
            if posixpath.isabs(clean) or clean.startswith("..") or clean in (".", ""):
                return ExecResult(Outcome.SANDBOX_ERROR, detail=f"file name {name!r} leaves the working directory")
            payload_files[clean] = text
        payload_files[main] = program
        shape = self._shape(limits)
        slot = self._acquire(shape)
        if lang != "python" and lang not in self.languages():
            self._release(slot, True)
            return ExecResult(Outcome.SANDBOX_ERROR, detail=f"the docker image has no runtime for {language!r}")
        healthy = False
        try:
            result, healthy = self._exec(slot, argv, payload_files, stdin, limits, start)
            slot.runs += 1
            return result
        finally:
            self._release(slot, healthy)

    def _exec(
        self, slot: _Slot, argv: list[str], files: dict[str, str], stdin: str, limits: Limits, start: float
    ) -> tuple[ExecResult, bool]:
        api = self._client.api
        nonce = "\n@@verifiers-status-" + secrets.token_hex(16) + "@@"
        header = json.dumps(
            {
                "nonce": nonce,
                "uid": SANDBOX_ID,
                "gid": SANDBOX_ID,
                "workdir": f"/tmp/run-{secrets.token_hex(4)}",
                "files": files,
                "argv": argv,
                "env": _CHILD_ENV,
                "cpu_s": max(1, int(limits.cpu_s + 0.999)),
                "wall_s": float(limits.wall_s),
                "fsize": int(limits.file_size_mb) << 20,
                "nofile": int(getattr(limits, "open_files", 256) or 256),
                "output_bytes": int(limits.output_bytes),
            }
        ).encode()
        payload = b"%d\n" % len(header) + header + stdin.encode()
        oom_before = _oom_kills(slot.id)
        hits_before = _limit_hits(slot.id)
        try:
            exec_id = api.exec_create(
                slot.id,
                [PYTHON_PATH, "-I", "-S", "-B", SUPERVISOR_PATH],
                stdin=True,
                stdout=True,
                stderr=True,
                user="0:0",
                workdir="/tmp",
                environment={},
            )["Id"]
            sock = api.exec_start(exec_id, socket=True)
        except Exception as exc:
            raise _ExecFailure(f"exec failed: {exc}") from exc
        raw: socket.socket = getattr(sock, "_sock", sock)
        cap = int(limits.output_bytes) + (1 << 20)  # backstop; the supervisor caps at output_bytes
        deadline = start + limits.wall_s + BACKSTOP_S
        try:
            out, err, ended = _converse(raw, payload, deadline, cap)
        finally:
            try:
                sock.close()
            except Exception:
                pass
        wall = time.monotonic() - start
        if ended != "eof":
            _kill_quietly(slot.container)
            outcome = Outcome.TIMEOUT if ended == "timeout" else Outcome.OUTPUT_LIMIT
            return ExecResult(
                outcome,
                stdout=_text(out),
                stderr=_text(err),
                wall_s=wall,
                detail=f"container killed by the host ({ended} backstop)",
            ), False
        at = err.rfind(nonce.encode())
        if at < 0:
            return self._lost(slot, exec_id, out, err, wall, oom_before), False
        try:
            status = json.loads(err[at + len(nonce) :].strip() or b"{}")
        except ValueError:
            return self._lost(slot, exec_id, out, err, wall, oom_before), False
        err = err[:at]
        clean = not status.get("dirty")
        stdout, stderr = _text(out), _text(err)
        rc, sig, why = status.get("rc"), status.get("sig"), status.get("why", "")
        cpu, prog_wall = float(status.get("cpu") or 0.0), float(status.get("wall") or wall)
        common = dict(exit_code=rc, signal=sig, stdout=stdout, stderr=stderr, wall_s=prog_wall, cpu_s=cpu)
        if why.startswith("exec_failed"):
            return ExecResult(Outcome.SANDBOX_ERROR, **common, detail=why), clean
        if why == "timeout":
            return ExecResult(Outcome.TIMEOUT, **common, detail=f"wall clock limit of {limits.wall_s:g} s"), clean
        if why == "output_limit":
            return ExecResult(
                Outcome.OUTPUT_LIMIT, **common, detail=f"more than {limits.output_bytes} bytes of output"
            ), clean
        oom_after = _oom_kills(slot.id)
        if sig is not None:
            if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu >= limits.cpu_s):
                return ExecResult(Outcome.TIMEOUT, **common, detail=f"CPU time limit of {limits.cpu_s:g} s"), clean
            if sig == signal.SIGKILL and (
                (oom_before is not None and oom_after is not None and oom_after > oom_before) or oom_after is None
            ):
                how = "the OOM killer" if oom_after is not None else "SIGKILL, presumably the OOM killer"
                return ExecResult(
                    Outcome.MEMORY, **common, detail=f"memory limit of {limits.memory_mb} MB ({how})"
                ), clean
            if sig == signal.SIGXFSZ:
                return ExecResult(
                    Outcome.RUNTIME_ERROR, **common, detail=f"file size limit of {limits.file_size_mb} MB"
                ), clean
            return ExecResult(Outcome.RUNTIME_ERROR, **common, detail=f"killed by signal {sig}"), clean
        if rc == 0:
            return ExecResult(Outcome.OK, **common), clean
        hits_after = _limit_hits(slot.id)
        limit_hit = hits_before is None or hits_after is None or hits_after > hits_before
        if (limit_hit and "MemoryError" in stderr[-4000:]) or (
            oom_before is not None and (oom_after or 0) > oom_before
        ):
            return ExecResult(Outcome.MEMORY, **common, detail=f"memory limit of {limits.memory_mb} MB"), clean
        return ExecResult(Outcome.RUNTIME_ERROR, **common, detail=f"exit status {rc}"), clean

    def _lost(
        self, slot: _Slot, exec_id: str, out: bytes, err: bytes, wall: float, oom_before: int | None
    ) -> ExecResult:
        """The supervisor ended without a status: decide between the memory limit and a sandbox failure."""
        oom_after = _oom_kills(slot.id)
        exit_code = None
        try:
            exit_code = self._client.api.exec_inspect(exec_id).get("ExitCode")
        except Exception:
            pass
        state: dict[str, Any] = {}
        try:
            slot.container.reload()
            state = slot.container.attrs.get("State") or {}
        except Exception:
            pass
        _kill_quietly(slot.container)
        oom = (oom_before is not None and oom_after is not None and oom_after > oom_before) or bool(
            state.get("OOMKilled")
        )
        memory = oom or (oom_after is None and exit_code == 137)
        return ExecResult(
            Outcome.MEMORY if memory else Outcome.SANDBOX_ERROR,
            exit_code=exit_code,
            stdout=_text(out),
            stderr=_text(err),
            wall_s=wall,
            detail="the container hit its memory limit (OOM kill)"
            if memory
            else f"the supervisor ended without a status (exit {exit_code}, container {state.get('Status', '?')})",
        )


def _converse(raw: socket.socket, payload: bytes, deadline: float, cap: int) -> tuple[bytes, bytes, str]:
    """Send `payload` then half-close; read the multiplexed stream until EOF, the deadline or `cap` bytes."""
    raw.setblocking(False)
    bufs = {1: bytearray(), 2: bytearray()}
    pending = bytearray()
    view = memoryview(payload)
    sent = 0
    total = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return bytes(bufs[1]), bytes(bufs[2]), "timeout"
        want_write = sent < len(view)
        r, w, _ = select.select([raw], [raw] if want_write else [], [], min(left, 1.0))
        if w:
            try:
                sent += raw.send(view[sent : sent + 262144])
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                sent = len(view)  # the other side stopped reading: go on and read what it said
            if sent >= len(view):
                try:
                    raw.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
        if r:
            try:
                chunk = raw.recv(262144)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                chunk = b""
            if not chunk:
                return bytes(bufs[1]), bytes(bufs[2]), "eof"
            pending += chunk
            while len(pending) >= 8:
                stream, size = pending[0], struct.unpack(">I", pending[4:8])[0]
                if len(pending) < 8 + size:
                    break
                bufs.get(stream, bufs[2]).extend(pending[8 : 8 + size])
                total += size
                del pending[: 8 + size]
            if total > cap:
                return bytes(bufs[1]), bytes(bufs[2]), "output"


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _memory_counters(container_id: str) -> tuple[int, int] | None:
    """(OOM kills, times the limit was hit) of the container's memory cgroup, when this host can read it.

    None when the engine is remote or the cgroup lies elsewhere (cgroup v1 with the cgroupfs driver and v2
    are looked up). Both counters only grow, so a run compares them before and after.
    """
    v1 = f"/sys/fs/cgroup/memory/docker/{container_id}"
    try:
        with open(f"{v1}/memory.oom_control") as fh:
            kills = next((int(line.split()[1]) for line in fh if line.startswith("oom_kill ")), 0)
        with open(f"{v1}/memory.failcnt") as fh:
            return kills, int(fh.read().strip() or 0)
    except (OSError, ValueError):
        pass
    for path in (
        f"/sys/fs/cgroup/docker/{container_id}/memory.events",
        f"/sys/fs/cgroup/system.slice/docker-{container_id}.scope/memory.events",
    ):
        try:
            with open(path) as fh:
                events = dict(line.split() for line in fh if line.strip())
            return int(events.get("oom_kill", 0)), int(events.get("max", 0))
        except (OSError, ValueError):
            continue
    return None


def _oom_kills(container_id: str) -> int | None:
    counters = _memory_counters(container_id)
    return None if counters is None else counters[0]


def _limit_hits(container_id: str) -> int | None:
    counters = _memory_counters(container_id)
    return None if counters is None else counters[1]


def _remove_stale(client: Any) -> None:
    """Remove pool containers left behind by dead processes of this host (a crash skips `close`)."""
    host = socket.gethostname()
    try:
        found = client.containers.list(all=True, filters={"label": [LABEL, f"{LABEL}.host={host}"]})
    except Exception:
        return
    for container in found:
        try:
            pid = int((container.labels or {}).get(f"{LABEL}.pid", "0"))
        except ValueError:
            continue
        if pid <= 0 or pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            _remove_quietly(container)
        except OSError:
            pass


def _kill_quietly(container: Any) -> None:
    try:
        container.kill()
    except Exception:
        pass


def _remove_quietly(container: Any) -> None:
    try:
        container.remove(force=True)
    except Exception:
        pass


@hookimpl
def register_sandboxes(register: Any) -> None:
    """This module is its own plugin (listed in `verifiers.plugins.DEFAULT_PLUGINS` as `sandboxes.docker`).

    Registering needs no Docker SDK: it is imported when a `DockerSandbox` is made.
    """
    register(DockerSandbox, "docker")
