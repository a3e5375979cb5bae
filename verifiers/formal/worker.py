"""A persistent Lean checker: Lean's single-document language server (`lean --worker`) under WebAssembly.

Starting Lean and importing `Lean` costs seconds per process; a file worker pays it once and then checks each new
version of its one document in a fraction of a second, reusing the imported environment. Each check replaces the
whole document, so names and options cannot leak from one check into the next. The worker's memory grows with
every version, so a process is recycled after `max_documents` checks; two checks before that, a spare process is
started in the background, so that the check after the recycling usually does not wait for a start-up. A worker
used for only a few checks never starts a spare (on a small machine, a start-up competes with the checks). The Node
driver is `lean/worker.mjs`.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import Any

from verifiers.errors import VerifiersError
from verifiers.formal.toolchain import LeanUnavailable, Toolchain, manifest_dir

__all__ = ["LeanWorker", "LeanWorkerError"]


class LeanWorkerError(VerifiersError):
    """The Lean worker crashed or did not answer in time; its process was killed (the next check starts anew)."""


def _driver() -> Path:
    path = manifest_dir() / "worker.mjs"
    if not path.is_file():
        raise LeanUnavailable(f"the Lean worker driver is missing ({path})")
    return path


class _Process:
    """One `lean --worker` process with its driver: start-up, one request at a time, kill."""

    def __init__(self, toolchain: Toolchain, header: str) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="lean-worker-"))  # mounted into the wasm file system
        self.documents = 0
        self.ready = False
        self._next_id = 0
        self._lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        node, glue = toolchain.argv
        with open(self.workdir / "stderr.log", "wb") as stderr:
            self.popen = subprocess.Popen(
                [node, str(_driver()), glue, header],
                cwd=self.workdir,
                env=toolchain.environment(self.workdir),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                start_new_session=True,  # its own process group, killed as a whole
            )
        threading.Thread(target=self._read, name=f"lean-worker-{self.popen.pid}", daemon=True).start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for raw in self.popen.stdout:
            if raw.startswith(b"{"):  # other lines are the glue's debug output
                try:
                    self._lines.put(json.loads(raw))
                except ValueError:
                    continue
        self._lines.put(None)

    def _receive(self, deadline: float) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise TimeoutError from None
        if line is None:
            self.popen.wait()
            raise LeanWorkerError(f"the Lean worker exited (code {self.popen.returncode}){self._stderr_tail()}")
        return line

    def _stderr_tail(self) -> str:
        try:
            lines = (self.workdir / "stderr.log").read_text(errors="replace").splitlines()
        except OSError:
            return ""
        tail = [line for line in lines if not line.startswith(("[DEBUG", "  "))][-10:]
        return (":\n" + "\n".join(tail)) if tail else ""

    def wait_ready(self, timeout: float) -> None:
        """Block until the header is elaborated; LeanUnavailable (after killing the process) otherwise."""
        deadline = time.monotonic() + timeout
        try:
            while not self.ready:
                line = self._receive(deadline)
                if "error" in line:
                    raise LeanWorkerError(f"the Lean worker failed to start: {line['error']}{self._stderr_tail()}")
                self.ready = bool(line.get("ready"))
        except TimeoutError:
            self.kill()
            raise LeanUnavailable(f"the Lean worker was not ready within {timeout:g} s") from None
        except LeanWorkerError as exc:
            self.kill()
            raise LeanUnavailable(str(exc)) from None

    def check(self, text: str, timeout: float) -> list[dict[str, Any]]:
        """The messages of one document; LeanWorkerError (after killing the process) on timeout or crash."""
        self._next_id += 1
        self.documents += 1
        request = json.dumps({"id": self._next_id, "text": text, "timeout": timeout}) + "\n"
        deadline = time.monotonic() + timeout + 5.0  # the driver times out first; this catches a stuck driver
        try:
            assert self.popen.stdin is not None
            self.popen.stdin.write(request.encode())
            self.popen.stdin.flush()
            while True:
                line = self._receive(deadline)
                if line.get("id") != self._next_id:
                    continue
                if line.get("error") == "timeout":
                    raise LeanWorkerError(f"the Lean check timed out after {timeout:g} s")
                if "error" in line:
                    raise LeanWorkerError(f"the Lean worker failed: {line['error']}{self._stderr_tail()}")
                return list(line["messages"])
        except TimeoutError:
            self.kill()
            raise LeanWorkerError(f"the Lean worker did not answer within {timeout:g} s") from None
        except (LeanWorkerError, OSError) as exc:
            self.kill()
            raise LeanWorkerError(str(exc)) from None

    def kill(self, *, reap_in_background: bool = False) -> None:
        """Kill the process group; reaping it (the kernel frees GBs: ~1 s) and removing its folder may be deferred."""
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if reap_in_background:
            threading.Thread(target=_reap, args=(self.popen, self.workdir), daemon=True).start()
        else:
            _reap(self.popen, self.workdir)


def _reap(popen: subprocess.Popen[bytes], workdir: Path) -> None:
    popen.wait()
    for stream in (popen.stdin, popen.stdout):
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass
    shutil.rmtree(workdir, ignore_errors=True)


def _kill_all(processes: list[_Process]) -> None:
    for process in list(processes):
        process.kill()
    processes.clear()


SPARE_LEAD = 2
"""How many checks before a process retires its spare is started (a start-up takes seconds; a check a fraction)."""


class LeanWorker:
    """Check whole Lean documents that share one header (their imports) with a persistent Lean worker.

    `check(text)` returns the document's messages in the shape of `lean --json` output: dicts with `severity`
    ("error", "warning" or "information"), `pos` and `endPos` (`{"line": 1-based, "column": 0-based}`) and `data`
    (the text). Every document must start with `header`. Processes are recycled after `max_documents` checks;
    with `spare`, the next process is started in the background `SPARE_LEAD` checks before the current one retires.
    Thread-safe (checks are serialized). Needs the WebAssembly toolchain.
    """

    def __init__(
        self,
        toolchain: Toolchain,
        *,
        header: str = "import Lean\n",
        max_documents: int = 8,
        start_timeout: float = 120.0,
        spare: bool = True,
    ) -> None:
        if toolchain.kind != "wasm":
            raise LeanUnavailable("LeanWorker runs the WebAssembly Lean; this toolchain is a native one")
        if max_documents < 1:
            raise ValueError("max_documents must be at least 1")
        self.toolchain = toolchain
        self.header = header
        self.max_documents = max_documents
        self.start_timeout = start_timeout
        self.spare = spare
        self._lock = threading.Lock()
        self._processes: list[_Process] = []  # [active, spare?]; every live process is here
        self._closed = False
        self._finalizer = weakref.finalize(self, _kill_all, self._processes)  # also runs at interpreter exit
        self._processes.append(_Process(toolchain, header))

    def check(self, text: str, timeout: float = 60.0) -> list[dict[str, Any]]:
        """The messages Lean reports for the document `text` (which starts with the header).

        Raises LeanWorkerError when the check times out or the worker crashes (the worker is replaced by the
        next check), LeanUnavailable when no worker can be started.
        """
        if not text.startswith(self.header):
            raise ValueError("the document must start with the worker's header")
        with self._lock:
            if self._closed:
                raise LeanWorkerError("this LeanWorker is closed")
            process = self._active()
            try:
                return process.check(text, timeout)
            finally:
                if process.popen.poll() is not None or process.documents >= self.max_documents:
                    self._retire(process)

    @property
    def live_processes(self) -> int:
        """How many Lean processes this worker holds now (the active one, and a spare once started); for monitoring."""
        return len(self._processes)

    @property
    def pid(self) -> int | None:
        """The process id of the process that serves the next check (None before one is started); for monitoring."""
        return self._processes[0].popen.pid if self._processes else None

    def _active(self) -> _Process:
        if not self._processes:
            self._processes.append(_Process(self.toolchain, self.header))
        process = self._processes[0]
        if not process.ready:
            try:
                process.wait_ready(self.start_timeout)
            except LeanUnavailable:
                self._processes.remove(process)
                raise
        if self.spare and len(self._processes) == 1 and process.documents + SPARE_LEAD >= self.max_documents:
            self._processes.append(_Process(self.toolchain, self.header))
        return process

    def _retire(self, process: _Process) -> None:
        process.kill(reap_in_background=True)
        self._processes.remove(process)

    def close(self) -> None:
        """Kill every process of this worker; idempotent."""
        with self._lock:
            self._closed = True
            self._finalizer()

    def __enter__(self) -> LeanWorker:  # noqa: PYI034  (Self needs Python 3.11)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
