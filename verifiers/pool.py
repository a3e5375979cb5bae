"""Long-lived worker processes for CPU-bound verifiers, with a soft and a hard deadline per sample.

`WorkerPool(workers).run(verifier, samples, timeout=seconds)` returns one `Verdict` per sample, in order, and
never raises for anything the verifier does:

- an exception becomes ERROR (through `runner.call_verify`, the same guard as in-process runs);
- the soft deadline (`timeout`) is a `timeout-decorator` SIGALRM timer in the worker's main thread, which is the
  thread that runs the verifier; it stops pure-Python loops and yields TIMEOUT;
- the hard deadline (`timeout + GRACE_S`) is kept by the parent, which SIGKILLs and replaces a worker that has
  not answered (a C call that ignores signals, SIGALRM blocked or swallowed) and records TIMEOUT;
- a worker that dies (segfault, `os._exit`, the OOM killer) costs an ERROR for the sample it was on; the rest
  of its chunk goes to another worker. A pool that cannot start any worker answers ERROR, never hangs.

Throughput: samples go to a worker in chunks (one message per chunk, about four chunks per worker per run); the
worker sends back each verdict as it finishes, so the parent knows which sample is running and starts its
deadline at the receipt of the previous verdict (or at the chunk send, or at the worker's "verifier loaded"
reply, so imports done while unpickling a verifier do not eat into the first sample's deadline). The verifier is
pickled once per `run` and sent to a worker only when that worker does not hold it yet (keyed by the hash of
the pickle), so its warm resources stay alive across runs.

How workers start: `sys.executable -c "...verifiers.pool._worker_entry()"` through `subprocess`, with a
socketpair for messages -- a `spawn`-style start that never re-runs the parent's `__main__`. Measured on the
2-core dev box (Python 3.11): a worker is ready in ~80 ms this way, `multiprocessing` "spawn" ~45 ms plus the
cost of the parent's script, "forkserver" ~100 ms once and then ~6 ms per worker. Plain `fork` is ruled out
because the parent may run threads (a progress bar, a judge's HTTP client) whose locks would be copied held.
Both `multiprocessing` methods re-execute the parent's main script in every worker (3.11's forkserver does not
preload `__main__`, its `main_path` key is never filled in), so a training script that imports torch at the top
would import it again in each of N workers, and would need an `if __name__ == "__main__"` guard. The
start-up cost only matters when a worker is replaced after a kill, which already cost a deadline. A verifier
class must therefore live in an importable module; the parent's `sys.path` is sent along with the verifier.

No orphans: workers are started from one long-lived launcher thread and set `PR_SET_PDEATHSIG` (Linux), which
fires when the *thread* that started a process exits, so the signal comes only when the parent process dies; an
idle worker also exits on EOF from its socket; and every pool still open at interpreter exit is closed (atexit),
which asks its workers to stop, then kills and reaps them.
"""

from __future__ import annotations

import atexit
import hashlib
import itertools
import math
import os
import pickle
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import weakref
from collections import OrderedDict, deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection, wait
from typing import Any

import timeout_decorator

from .calls import call_verify, exception_verdict, verifier_name
from .verdict import Sample, Verdict

__all__ = ["WorkerPool", "shared_pool", "GRACE_S"]

GRACE_S = 0.5  # hard deadline = soft deadline + GRACE_S
START_TIMEOUT_S = 60.0  # a new worker must say "ready" within this
LOAD_TIMEOUT_S = 60.0  # a worker must unpickle a verifier (imports included) within this
MAX_CHUNK = 64  # samples per message
MAX_START_FAILURES = 3  # per run; then the pool stops starting workers and fails what no live worker can take
_WORKER_CACHE = 32  # verifiers kept per worker

_STARTING, _IDLE, _LOADING, _BUSY = "starting", "idle", "loading", "busy"


def _dumps(obj: Any) -> bytes:
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


_loads = pickle.loads

# A verdict travels as a raw frame, tag + run id + sample index + pickled verdict (the hot path, one per
# sample); every other message is a pickled tuple, whose first byte is pickle's PROTO opcode, never the tag.
_RESULT = struct.Struct("<cQQ")
_RESULT_TAG = b"R"


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "for an unknown reason"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = ", perhaps by the out-of-memory killer" if -code == signal.SIGKILL else ""
        return f"killed by {name}{hint}"
    return f"with exit code {code}"


# -- the worker process ----------------------------------------------------------------------------------------
class _SoftTimeout(BaseException):
    """Raised by the SIGALRM handler in a worker; a BaseException so `except Exception` in verifiers lets it by."""


def _ignore_alarm(signum: int, frame: Any) -> None:
    """A SIGALRM that arrives after a sample finished is dropped."""


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
        except Exception:  # not fatal: EOF on the socket still ends an idle worker
            pass
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


def _guarded(timeout: float | None) -> Any:
    """`call_verify`, under a soft SIGALRM deadline when there is one (made once per chunk: it costs ~6 us)."""
    if timeout is None:
        return call_verify
    return timeout_decorator.timeout(timeout, use_signals=True, timeout_exception=_SoftTimeout)(call_verify)


def _verify_one(verifier: Any, name: str, payload: bytes, timeout: float | None, guarded: Any) -> Verdict:
    try:
        sample = _loads(payload)
    except Exception as exc:
        return Verdict.error(name, f"sample could not be loaded in a worker process: {_describe(exc)}")
    start = time.perf_counter()
    try:
        if timeout is not None:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM})  # an earlier verifier may have blocked it
        return guarded(verifier, sample)
    except _SoftTimeout:
        reason = f"verifier did not finish within the {timeout:g} s deadline (stopped in the worker process)"
        return Verdict.timeout(name, reason, elapsed_s=time.perf_counter() - start)
    except BaseException as exc:  # SystemExit, KeyboardInterrupt from the verifier: the worker carries on
        return exception_verdict(verifier, exc).replace(elapsed_s=time.perf_counter() - start)


def _worker_entry() -> None:
    """`python -c` entry point of a worker: `argv` = [-c, socket fd, parent pid]."""
    fd, parent = int(sys.argv[1]), int(sys.argv[2])
    sys.argv = sys.argv[:1]
    _die_with_parent(parent)
    _worker_main(Connection(fd))


def _worker_main(conn: Connection) -> None:
    """A worker's loop: receive chunks, send back one verdict per sample as it finishes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGALRM, _ignore_alarm)
    cache: OrderedDict[str, Any] = OrderedDict()
    conn.send_bytes(_dumps(("ready", os.getpid())))
    while True:
        try:
            message = _loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        if message[0] == "stop":
            return
        _, run_id, key, blob, path, timeout, items = message
        verifier = cache.get(key)
        if verifier is None:
            if blob is None:
                conn.send_bytes(_dumps(("missing", run_id)))
                continue
            sys.path[:] = path + [p for p in sys.path if p not in path]
            try:
                verifier = _loads(blob)
            except BaseException as exc:
                reason = f"verifier could not be loaded in a worker process: {_describe(exc)}"
                if "__main__" in str(exc):
                    reason += "; define the verifier class in an importable module"
                conn.send_bytes(_dumps(("loaded", run_id, reason)))
                continue
            cache[key] = verifier
            while len(cache) > _WORKER_CACHE:
                cache.popitem(last=False)
            conn.send_bytes(_dumps(("loaded", run_id, None)))
        cache.move_to_end(key)
        name, guarded = verifier_name(verifier), _guarded(timeout)
        for index, payload in items:
            verdict = _verify_one(verifier, name, payload, timeout, guarded)
            try:
                data = _dumps(verdict)
            except Exception as exc:
                data = _dumps(Verdict.error(name, f"verdict could not be sent back from the worker: {_describe(exc)}"))
            conn.send_bytes(_RESULT.pack(_RESULT_TAG, run_id, index) + data)


# -- the parent side -----------------------------------------------------------------------------------------
class _Worker:
    """The parent's handle on one worker process and the chunk it is working through."""

    def __init__(self, process: subprocess.Popen[bytes], conn: Connection) -> None:
        self.process = process
        self.conn = conn
        self.pidfd: int | None = None  # readable when the process has exited (Linux >= 5.3)
        if hasattr(os, "pidfd_open"):
            try:
                self.pidfd = os.pidfd_open(process.pid)
            except OSError:
                pass
        self.state = _STARTING
        self.since = time.monotonic()  # start of the current phase: start-up, loading, or the current sample
        self.keys: set[str] = set()  # verifiers this worker holds
        self.chunk: deque[int] = deque()  # indices sent and not answered; chunk[0] is running

    def deadline(self, timeout: float | None) -> float | None:
        if self.state == _STARTING:
            return self.since + START_TIMEOUT_S
        if self.state == _LOADING:
            return self.since + LOAD_TIMEOUT_S
        if self.state == _BUSY and timeout is not None:
            return self.since + timeout + GRACE_S
        return None


class _Batch:
    """One `run` call: the samples still to send, the verdicts so far, and why workers could not start."""

    def __init__(self, run_id: int, verifier: Any, samples: Sequence[Sample], timeout: float | None) -> None:
        self.run_id = run_id
        self.name = verifier_name(verifier)
        self.timeout = timeout
        self.results: list[Verdict | None] = [None] * len(samples)
        self.payloads: list[bytes] = [b""] * len(samples)
        self.blob = b""
        self.key = ""
        self.start_failures = 0
        self.last_start_error = ""
        try:
            self.blob = _dumps(verifier)
            self.key = hashlib.sha256(self.blob).hexdigest()
        except Exception as exc:
            self.fail(range(len(samples)), f"verifier cannot be sent to a worker process: {_describe(exc)}")
        else:
            for i, sample in enumerate(samples):
                try:
                    self.payloads[i] = _dumps(sample)
                except Exception as exc:
                    self.fail([i], f"sample cannot be sent to a worker process: {_describe(exc)}")
        self.pending: deque[int] = deque(i for i, r in enumerate(self.results) if r is None)
        self.chunk_size = 1

    def set_chunk_size(self, workers: int) -> None:
        # About four chunks per worker balances the load at the end of a batch; MAX_CHUNK bounds a message.
        self.chunk_size = max(1, min(MAX_CHUNK, math.ceil(len(self.pending) / (4 * workers))))

    def fail(self, indices: Any, reason: str) -> None:
        for i in indices:
            if self.results[i] is None:
                self.results[i] = Verdict.error(self.name, reason)

    def fail_remaining(self, worker: _Worker | None, reason: str) -> None:
        if worker is not None:
            self.fail(worker.chunk, reason)
            worker.chunk.clear()
        self.fail(self.pending, reason)
        self.pending.clear()

    def requeue(self, worker: _Worker) -> None:
        self.pending.extendleft(reversed(worker.chunk))
        worker.chunk.clear()

    def chunks_wanted(self) -> int:
        return math.ceil(len(self.pending) / self.chunk_size)


_live_pools: weakref.WeakSet[WorkerPool] = weakref.WeakSet()
_launcher: ThreadPoolExecutor | None = None
_launcher_lock = threading.Lock()


def _launch(args: list[str], fd: int) -> subprocess.Popen[bytes]:
    """Start a process from the one launcher thread (see PR_SET_PDEATHSIG in the module docstring)."""
    global _launcher
    with _launcher_lock:
        if _launcher is None:
            _launcher = ThreadPoolExecutor(1, thread_name_prefix="verifiers-pool-launcher")
    future = _launcher.submit(subprocess.Popen, args, pass_fds=(fd,), stdin=subprocess.DEVNULL, close_fds=True)
    return future.result(timeout=START_TIMEOUT_S)


def _interpreter_flags() -> list[str]:
    """The parent's -X/-W/-E/-I... options, so a worker runs under the same interpreter settings."""
    flags = getattr(subprocess, "_args_from_interpreter_flags", None)  # what multiprocessing uses too
    return list(flags()) if flags is not None else []


class WorkerPool:
    """A pool of `workers` long-lived processes (None: one per core) that run verifiers with deadlines.

    Workers start when a `run` first needs them and stay up between runs. `run` is thread-safe (calls are
    serialized). Use as a context manager or call `close()`; pools still open at interpreter exit are closed then.
    """

    def __init__(self, workers: int | None = None) -> None:
        size = (os.cpu_count() or 1) if workers is None else workers
        if size < 1:
            raise ValueError(f"workers must be >= 1 or None, got {workers}")
        self.size = size
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._run_ids = itertools.count(1)
        self.closed = False
        _live_pools.add(self)

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{len(self._workers)} running"
        return f"<WorkerPool size={self.size} {state}>"

    @property
    def pids(self) -> list[int]:
        """Process ids of the workers now running (for tests and diagnostics)."""
        return [w.process.pid for w in self._workers if w.process.pid is not None]

    # -- public -------------------------------------------------------------------------------------------
    def run(self, verifier: Any, samples: Sequence[Sample], *, timeout: float | None = None) -> list[Verdict]:
        """One verdict per sample, in order. `timeout`: per-sample deadline in seconds, or None for none."""
        if timeout is not None and not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds or None, got {timeout}")
        samples = list(samples)
        if not samples:
            return []
        with self._lock:
            if self.closed:
                raise RuntimeError("this WorkerPool is closed; create a new one (or use shared_pool())")
            batch = _Batch(next(self._run_ids), verifier, samples, timeout)
            batch.set_chunk_size(self.size)
            finished = False
            try:
                while batch.pending or any(w.chunk for w in self._workers):
                    self._dispatch(batch)
                    if batch.pending and not self._workers and batch.start_failures >= MAX_START_FAILURES:
                        reason = batch.last_start_error or "no worker process could be started"
                        batch.fail_remaining(None, f"could not start a worker process: {reason}")
                    if batch.pending or any(w.chunk for w in self._workers):
                        self._wait(batch)
                finished = True
            finally:
                if not finished:  # interrupted: workers still holding chunks of this run are out of step
                    for worker in [w for w in self._workers if w.state in (_LOADING, _BUSY)]:
                        self._kill(worker)
        missing = "the worker pool was closed during the run" if self.closed else "the worker pool lost this sample"
        return [r if r is not None else Verdict.error(batch.name, missing) for r in batch.results]

    def close(self) -> None:
        """Stop the workers (asking first, then killing) and wait for them to exit. Idempotent.

        Waits at most a few seconds for a `run` in another thread, so that interpreter exit cannot hang on a
        verifier stuck without a deadline; that run then gets ERROR verdicts.
        """
        locked = self._lock.acquire(timeout=5.0)
        try:
            self.closed = True
            workers, self._workers = self._workers, []
            for worker in workers:
                if worker.state == _IDLE:
                    try:
                        worker.conn.send_bytes(_dumps(("stop",)))
                    except OSError:
                        pass
            end = time.monotonic() + 1.0
            for worker in workers:
                if worker.state == _IDLE:
                    try:
                        worker.process.wait(max(0.0, end - time.monotonic()))
                    except subprocess.TimeoutExpired:
                        pass
                self._kill(worker)
        finally:
            if locked:
                self._lock.release()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- workers ----------------------------------------------------------------------------------------------
    def _start_worker(self) -> _Worker:
        ours, theirs = socket.socketpair()
        try:
            command = "from verifiers.pool import _worker_entry; _worker_entry()"
            args = [sys.executable, *_interpreter_flags(), "-c", command, str(theirs.fileno()), str(os.getpid())]
            process = _launch(args, theirs.fileno())
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        return _Worker(process, Connection(ours.detach()))

    def _kill(self, worker: _Worker) -> None:
        """Forget the worker; kill it if it still runs, and reap it."""
        if worker in self._workers:
            self._workers.remove(worker)
        try:
            if worker.process.poll() is None:
                worker.process.kill()
            worker.process.wait(5.0)
        except (OSError, subprocess.TimeoutExpired):
            pass
        worker.conn.close()
        if worker.pidfd is not None:
            os.close(worker.pidfd)
            worker.pidfd = None

    def _forget_workers(self) -> None:
        """In a forked child: the workers belong to the parent; drop our copies without touching them."""
        for worker in self._workers:
            worker.conn.close()
            if worker.pidfd is not None:
                os.close(worker.pidfd)
            worker.process.returncode = -1  # not our child: keep Popen from trying to reap it
        self._workers = []
        self._lock = threading.Lock()  # another thread of the parent may have held it at the fork

    def _start_failed(self, batch: _Batch, reason: str) -> None:
        batch.start_failures += 1
        batch.last_start_error = reason

    # -- the event loop -------------------------------------------------------------------------------------
    def _dispatch(self, batch: _Batch) -> None:
        """Start the workers the pending chunks need, then give a chunk to every idle worker."""
        if self.closed:  # by another thread (interpreter exit): start nothing more
            batch.fail_remaining(None, "the worker pool was closed during the run")
            return
        for worker in [w for w in self._workers if w.state == _IDLE]:
            if worker.process.poll() is not None:  # died while idle (the OOM killer?): no sample's fault
                self._kill(worker)
        spare = sum(1 for w in self._workers if w.state in (_STARTING, _IDLE))
        while (
            batch.pending
            and len(self._workers) < self.size
            and spare < batch.chunks_wanted()
            and batch.start_failures < MAX_START_FAILURES
        ):
            try:
                self._workers.append(self._start_worker())
                spare += 1
            except Exception as exc:
                self._start_failed(batch, _describe(exc))
        for worker in [w for w in self._workers if w.state == _IDLE]:
            if not batch.pending:
                break
            for _ in range(batch.chunk_size):
                if not batch.pending:
                    break
                worker.chunk.append(batch.pending.popleft())
            self._send(worker, batch, with_verifier=batch.key not in worker.keys)

    def _send(self, worker: _Worker, batch: _Batch, *, with_verifier: bool) -> None:
        items = [(i, batch.payloads[i]) for i in worker.chunk]
        path: list[str] | None = [p or os.getcwd() for p in sys.path]  # "" is the parent's directory, not the worker's
        blob, path = (batch.blob, path) if with_verifier else (None, None)
        message = ("run", batch.run_id, batch.key, blob, path, batch.timeout, items)
        try:
            worker.conn.send_bytes(_dumps(message))
        except OSError:  # the worker is gone before it saw the chunk
            batch.requeue(worker)
            self._kill(worker)
            return
        worker.state = _LOADING if with_verifier else _BUSY
        worker.since = time.monotonic()

    def _wait(self, batch: _Batch) -> None:
        """Wait for a message, a death or the nearest deadline, and handle what happened."""
        active = [w for w in self._workers if w.state != _IDLE]
        if not active:
            return
        deadlines = [d for w in active if (d := w.deadline(batch.timeout)) is not None]
        if any(w.pidfd is None for w in active):  # no pidfd: look for deaths at least once a second
            deadlines.append(time.monotonic() + 1.0)
        wait_s = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
        owners: dict[Any, _Worker] = {}
        for worker in active:
            owners[worker.conn] = worker
            if worker.pidfd is not None:
                owners[worker.pidfd] = worker
        try:
            readable = wait(list(owners), wait_s)
        except OSError:  # a handle was closed under us (close() from another thread): look at every worker
            readable = list(owners)
        for ready in readable:
            worker = owners[ready]
            if worker in self._workers:
                self._drain(worker, batch)
        now = time.monotonic()
        for worker in active:
            if worker not in self._workers:
                continue
            deadline = worker.deadline(batch.timeout)
            if deadline is not None and now >= deadline:
                self._drain(worker, batch)  # a verdict may have arrived right at the deadline
                if worker in self._workers and worker.deadline(batch.timeout) == deadline:
                    self._overdue(worker, batch)
            elif worker.pidfd is None and worker.process.poll() is not None:
                self._drain(worker, batch)

    def _drain(self, worker: _Worker, batch: _Batch) -> None:
        """Handle every message the worker has sent; notice if it died."""
        try:
            while worker.conn.poll():
                data = worker.conn.recv_bytes()
                if data[:1] == _RESULT_TAG:
                    _, run_id, index = _RESULT.unpack_from(data)
                    self._result(worker, batch, run_id, index, data[_RESULT.size :])
                else:
                    self._handle(worker, _loads(data), batch)
        except (EOFError, OSError):
            self._died(worker, batch)
            return
        if worker in self._workers and worker.process.poll() is not None:
            self._died(worker, batch)

    def _handle(self, worker: _Worker, message: tuple[Any, ...], batch: _Batch) -> None:
        kind = message[0]
        now = time.monotonic()
        if kind == "ready":
            worker.state, worker.since = _IDLE, now
            batch.start_failures = 0
            return
        if message[1] != batch.run_id:  # left over from an interrupted run
            return
        if kind == "loaded":
            if message[2] is not None:
                worker.state = _IDLE
                batch.fail_remaining(worker, message[2])
                return
            worker.keys.add(batch.key)
            worker.state, worker.since = _BUSY, now
        elif kind == "missing":
            worker.keys.discard(batch.key)
            self._send(worker, batch, with_verifier=True)

    def _result(self, worker: _Worker, batch: _Batch, run_id: int, index: int, data: bytes) -> None:
        if run_id != batch.run_id or not worker.chunk or worker.chunk[0] != index:
            return
        worker.chunk.popleft()
        try:
            verdict = _loads(data)
        except Exception as exc:
            verdict = Verdict.error(batch.name, f"verdict from the worker could not be read: {_describe(exc)}")
        batch.results[index] = verdict
        worker.since = time.monotonic()
        if not worker.chunk:
            worker.state = _IDLE

    def _died(self, worker: _Worker, batch: _Batch) -> None:
        state = worker.state
        try:
            worker.process.wait(1.0)
        except subprocess.TimeoutExpired:  # its socket closed but it lives on: finish it
            worker.process.kill()
            worker.process.wait()
        how = _describe_exit(worker.process.returncode)
        if state == _STARTING:
            self._kill(worker)
            self._start_failed(batch, f"the worker process exited {how} before it was ready")
        elif state == _LOADING:
            batch.fail_remaining(worker, f"worker process died ({how}) while loading the verifier")
            self._kill(worker)
        elif worker.chunk:
            index = worker.chunk.popleft()
            reason = f"worker process died ({how}) while verifying this sample; it was replaced"
            batch.results[index] = Verdict.error(batch.name, reason, elapsed_s=time.monotonic() - worker.since)
            batch.requeue(worker)
            self._kill(worker)
        else:
            self._kill(worker)

    def _overdue(self, worker: _Worker, batch: _Batch) -> None:
        state, elapsed = worker.state, time.monotonic() - worker.since
        self._kill(worker)
        if state == _STARTING:
            self._start_failed(batch, f"the worker process was not ready within {START_TIMEOUT_S:g} s")
        elif state == _LOADING:
            batch.fail_remaining(worker, f"verifier did not load in a worker process within {LOAD_TIMEOUT_S:g} s")
        elif worker.chunk and batch.timeout is not None:
            index = worker.chunk.popleft()
            reason = (
                f"verifier did not finish within the {batch.timeout:g} s deadline; its worker process was killed "
                f"after {batch.timeout + GRACE_S:g} s and replaced"
            )
            batch.results[index] = Verdict.timeout(batch.name, reason, elapsed_s=elapsed)
            batch.requeue(worker)


# -- the process-wide pools ------------------------------------------------------------------------------------
_shared: dict[int, WorkerPool] = {}
_shared_lock = threading.Lock()


def shared_pool(workers: int | None = None) -> WorkerPool:
    """The process-wide pool of `workers` processes (None: one per core), created on first use and reused."""
    size = (os.cpu_count() or 1) if workers is None else workers
    with _shared_lock:
        pool = _shared.get(size)
        if pool is None or pool.closed:
            pool = _shared[size] = WorkerPool(size)
        return pool


@atexit.register
def _close_all_pools() -> None:
    for pool in list(_live_pools):
        try:
            pool.close()
        except Exception:
            pass


def _after_fork_in_child() -> None:
    """A forked child owns none of its parent's workers or threads: its pools start their own workers."""
    global _launcher, _launcher_lock, _shared_lock
    _launcher, _launcher_lock, _shared_lock = None, threading.Lock(), threading.Lock()
    for pool in list(_live_pools):
        pool._forget_workers()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
