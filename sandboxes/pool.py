"""Parallel executions: a thread pool in front of a sandbox (each execution is its own subprocess)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from . import ExecResult, Outcome, Sandbox

__all__ = ["SandboxPool"]


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class SandboxPool:
    """Runs `sandbox.run(**kwargs)` calls on `workers` threads (default: the usable cores).

    `run_batch` returns one `ExecResult` per request, in request order; an exception inside one execution
    becomes that execution's `SANDBOX_ERROR`, never the batch's failure.
    """

    def __init__(self, sandbox: Sandbox, workers: int | None = None) -> None:
        self.sandbox = sandbox
        self.workers = max(1, int(workers or _cores()))
        self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="sandbox")

    def _run(self, kwargs: Mapping[str, Any]) -> ExecResult:
        try:
            return self.sandbox.run(**kwargs)
        except Exception as exc:  # noqa: BLE001  one broken request must not lose the others' results
            return ExecResult(Outcome.SANDBOX_ERROR, detail=f"{type(exc).__name__}: {exc}")

    def submit(self, **kwargs: Any) -> Future[ExecResult]:
        """Queue one `sandbox.run(**kwargs)`; its future never raises (see `run_batch`)."""
        return self._executor.submit(self._run, kwargs)

    def run_batch(self, requests: Iterable[Mapping[str, Any]]) -> list[ExecResult]:
        """Run every request (the keyword arguments of one `sandbox.run`) in parallel; results in order."""
        futures = [self.submit(**dict(request)) for request in requests]
        return [future.result() for future in futures]

    def close(self) -> None:
        self._executor.shutdown(wait=True)

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
