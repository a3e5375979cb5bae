"""Where a verifier runs on a batch: cache look-ups, then in this process or in the worker pool.

Every call goes through the guarded calls of `verifiers.calls`, so nothing a verifier does escapes from here: an
exception or a wrong return value becomes an ERROR verdict, and a verifier that runs past its deadline in the pool
becomes TIMEOUT.

Placement, from `traits(verifier)` (see `verifiers.verifier`):
  - composite verifiers get this runner and run their parts through it;
  - batched verifiers run in-process on the whole batch;
  - plain verifiers run in the worker pool when they are `cpu_bound` or the caller asked for `workers` or a
    `timeout`; else in-process (the cheap path: rule verifiers in a training loop).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from .cache import Cache, cache_key
from .calls import call_verify_batch, gather
from .pool import shared_pool
from .verdict import Sample, Verdict
from .verifier import traits

__all__ = ["Runner"]


class Runner:
    """Runs verifiers on batches; one per `verify_batch` call or held by a long-running job.

    `workers`: size of the worker-process pool (None: the pool is used only by `cpu_bound` verifiers, with one
    worker per core). `timeout`: per-sample deadline in seconds for pool execution (None: the verifier's own
    `timeout`, else no deadline). `cache`: a `Cache` or None.
    """

    def __init__(self, *, workers: int | None = None, timeout: float | None = None, cache: Cache | None = None):
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be >= 1 or None, got {workers}")
        if timeout is not None and not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds or None, got {timeout}")
        self.workers = workers
        self.timeout = timeout
        self.cache = cache

    def uses_pool(self, verifier: Any) -> bool:
        placed = traits(verifier)
        return placed.kind == "plain" and (placed.cpu_bound or self.workers is not None or self.timeout is not None)

    def deadline(self, verifier: Any) -> float | None:
        return self.timeout if self.timeout is not None else traits(verifier).timeout

    def run(self, verifier: Any, samples: Sequence[Sample]) -> list[Verdict]:
        """Verdicts for `samples`, in order."""
        # A composite's parts are cached one by one as they run through this runner; caching the whole would
        # also keep it stale when a part's version changes.
        composite = traits(verifier).kind == "composite"
        cache = None if composite else self.cache
        cached: list[tuple[int, Verdict]] = []
        keys: dict[int, str] = {}
        todo: list[int] = []
        for i, sample in enumerate(samples):
            hit = None
            if cache is not None:
                try:
                    keys[i] = cache_key(verifier, sample)
                    hit = cache.get(keys[i])
                except Exception:  # an unreadable cache entry is a miss, not a failure
                    hit = None
            if hit is None:
                todo.append(i)
            else:
                cached.append((i, hit))
        fresh = list(zip(todo, self._execute(verifier, [samples[i] for i in todo], composite))) if todo else []
        if cache is not None:
            for i, verdict in fresh:
                if i not in keys:
                    continue
                try:
                    cache.put(keys[i], verdict)
                except Exception as exc:  # a cache that cannot be written must not cost the verdict
                    warnings.warn(f"verdict cache write failed: {type(exc).__name__}: {exc}", stacklevel=2)
        return gather(len(samples), cached, fresh)

    def _execute(self, verifier: Any, samples: list[Sample], composite: bool) -> list[Verdict]:
        if composite:
            return call_verify_batch(verifier, samples, runner=self)
        if self.uses_pool(verifier):
            return shared_pool(self.workers).run(verifier, samples, timeout=self.deadline(verifier))
        return call_verify_batch(verifier, samples)

    def close(self) -> None:
        """Nothing to release: the worker pool is shared and long-lived (see `verifiers.pool`)."""

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
