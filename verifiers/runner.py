"""Where and how a verifier runs on a batch: cache look-ups, in-process or in the worker pool, and guards.

Nothing a verifier does escapes from here: an exception becomes an ERROR verdict naming it, a wrong return
value becomes an ERROR verdict, and a verifier that runs past its deadline in the pool becomes TIMEOUT.

Placement rule, per verifier:
  - composite verifiers (cascades, aggregates) get the runner and run their parts through it;
  - `batched` verifiers (model judges) run in-process on the whole batch;
  - otherwise the worker pool is used when the verifier is `cpu_bound`, or the caller asked for `workers` or a
    `timeout`; else the verifier runs in-process (the cheap path: rule verifiers in a training loop).
"""

from __future__ import annotations

import time
import traceback
import warnings
from collections.abc import Sequence
from typing import Any

from .cache import Cache, cache_key
from .verdict import Sample, Verdict

__all__ = ["Runner", "call_verify", "call_verify_batch", "exception_verdict", "verifier_name"]


def verifier_name(verifier: Any) -> str:
    return str(getattr(verifier, "name", "") or type(verifier).__name__)


def exception_verdict(verifier: Any, exc: BaseException) -> Verdict:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return Verdict.error(
        verifier_name(verifier),
        f"verifier raised {type(exc).__name__}: {exc}",
        evidence={"exception": type(exc).__name__, "where": where.strip()},
    )


def _checked(verifier: Any, result: Any, elapsed: float) -> Verdict:
    if not isinstance(result, Verdict):
        return Verdict.error(
            verifier_name(verifier),
            f"verifier returned {type(result).__name__}, not a Verdict",
            elapsed_s=elapsed,
        )
    if result.elapsed_s == 0.0:
        result = result.replace(elapsed_s=elapsed)
    return result


def call_verify(verifier: Any, sample: Sample) -> Verdict:
    """`verifier.verify(sample)`, with every failure turned into an ERROR verdict."""
    start = time.perf_counter()
    try:
        result = verifier.verify(sample)
    except Exception as exc:
        return exception_verdict(verifier, exc).replace(elapsed_s=time.perf_counter() - start)
    return _checked(verifier, result, time.perf_counter() - start)


def call_verify_batch(verifier: Any, samples: Sequence[Sample], **kwargs: Any) -> list[Verdict]:
    """`verifier.verify_batch(samples, **kwargs)`, guarded.

    A batch that raises is retried one sample at a time, so one bad sample cannot fail its neighbours.
    """
    if not samples:
        return []
    start = time.perf_counter()
    try:
        results = list(verifier.verify_batch(list(samples), **kwargs))
    except Exception as exc:
        if len(samples) == 1:
            return [exception_verdict(verifier, exc).replace(elapsed_s=time.perf_counter() - start)]
        return [call_verify_batch(verifier, [sample], **kwargs)[0] for sample in samples]
    if len(results) != len(samples):
        reason = f"verify_batch returned {len(results)} verdicts for {len(samples)} samples"
        return [Verdict.error(verifier_name(verifier), reason) for _ in samples]
    share = (time.perf_counter() - start) / len(samples)
    return [_checked(verifier, r, share) for r in results]


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
        if getattr(verifier, "batched", False) or getattr(verifier, "composite", False):
            return False
        return bool(getattr(verifier, "cpu_bound", False) or self.workers is not None or self.timeout is not None)

    def deadline(self, verifier: Any) -> float | None:
        return self.timeout if self.timeout is not None else getattr(verifier, "timeout", None)

    def run(self, verifier: Any, samples: Sequence[Sample]) -> list[Verdict]:
        """Verdicts for `samples`, in order."""
        # A composite's parts are cached one by one as they run through this runner; caching the whole would
        # also keep it stale when a part's version changes.
        cache = None if getattr(verifier, "composite", False) else self.cache
        results: list[Verdict | None] = [None] * len(samples)
        keys: list[str | None] = [None] * len(samples)
        todo: list[int] = []
        for i, sample in enumerate(samples):
            if cache is not None:
                try:
                    key = keys[i] = cache_key(verifier, sample)
                    results[i] = cache.get(key)
                except Exception:  # an unreadable cache entry is a miss, not a failure
                    results[i] = None
            if results[i] is None:
                todo.append(i)
        if todo:
            batch = [samples[i] for i in todo]
            for i, verdict in zip(todo, self._execute(verifier, batch)):
                results[i] = verdict
                key = keys[i]
                if cache is not None and key is not None:
                    try:
                        cache.put(key, verdict)
                    except Exception as exc:  # a cache that cannot be written must not cost the verdict
                        warnings.warn(f"verdict cache write failed: {type(exc).__name__}: {exc}", stacklevel=2)
        return [r for r in results if r is not None]

    def _execute(self, verifier: Any, samples: list[Sample]) -> list[Verdict]:
        if getattr(verifier, "composite", False):
            return call_verify_batch(verifier, samples, runner=self)
        if self.uses_pool(verifier):
            from .pool import shared_pool

            pool = shared_pool(self.workers)
            return pool.run(verifier, samples, timeout=self.deadline(verifier))
        return call_verify_batch(verifier, samples)

    def close(self) -> None:
        """Nothing to release: the worker pool is shared and long-lived (see `verifiers.pool`)."""

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
