"""The guarded call: the one primitive that turns running a verifier into verdicts, whatever the verifier does.

An exception becomes an ERROR verdict naming it, a return value that is not a `Verdict` (or a batch of the wrong
length) becomes ERROR verdicts, and a batch that raises is retried one sample at a time so one bad sample cannot
fail its neighbours. The in-process runner, the worker pool and the Ray actors all call verifiers through here
(pytest's `CallInfo.from_call` plays this part there).

`gather` is the other half of every scatter-by-index step: it puts results back into their input slots and
refuses to return while a slot is empty, so a lost result can never shift the ones after it.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from .verdict import Sample, Verdict

__all__ = ["call_verify", "call_verify_batch", "exception_verdict", "gather", "verifier_name"]

T = TypeVar("T")


def verifier_name(verifier: Any) -> str:
    """The name a verdict about `verifier` carries: its `name`, else its class name."""
    return str(getattr(verifier, "name", "") or type(verifier).__name__)


def exception_verdict(verifier: Any, exc: BaseException) -> Verdict:
    """The ERROR verdict for an exception a verifier raised: its type, message and where it was raised."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return Verdict.error(
        verifier_name(verifier),
        f"verifier raised {type(exc).__name__}: {exc}",
        evidence={"exception": type(exc).__name__, "where": where.strip()},
    )


def _checked(verifier: Any, result: Any, elapsed: float, batch_size: int = 1) -> Verdict:
    if not isinstance(result, Verdict):
        return Verdict.error(
            verifier_name(verifier),
            f"verifier returned {type(result).__name__}, not a Verdict",
            elapsed_s=elapsed,
        )
    if result.elapsed_s == 0.0:  # the verifier did not time itself: ours, a share of the batch when batch_size > 1
        result = result.replace(elapsed_s=elapsed, batch_size=batch_size)
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
    """`verifier.verify_batch(samples, **kwargs)`, guarded: one verdict per sample, in order, never an exception.

    A batch that raises is retried one sample at a time, so one bad sample cannot fail its neighbours. A verdict
    without its own time gets the batch's time divided evenly (a batch share, not a measurement of that sample).
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
    return [_checked(verifier, r, share, len(samples)) for r in results]


def gather(size: int, *parts: Iterable[tuple[int, T]]) -> list[T]:
    """A list of `size` results from `(slot, result)` pairs; every slot filled exactly once.

    Raises `AssertionError` naming the slots when one is missing or filled twice: a bug in the caller, which must
    never come out as results shifted onto the wrong samples.
    """
    slots: list[Any] = [_EMPTY] * size
    twice: list[int] = []
    for part in parts:
        for slot, result in part:
            if slots[slot] is not _EMPTY:
                twice.append(slot)
            slots[slot] = result
    missing = [i for i, result in enumerate(slots) if result is _EMPTY]
    if missing or twice:
        raise AssertionError(f"gather: slots {missing[:10]} missing, slots {twice[:10]} filled twice (of {size})")
    return slots


_EMPTY: Any = object()
