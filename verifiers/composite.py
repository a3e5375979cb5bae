"""Composite verifiers: verifiers that decide by running other verifiers (their parts).

Subclass `CompositeVerifier` and implement `verify_parts(samples, runner)`: call `runner.run(part, samples)` for
each part (any verifier object) and combine the verdicts. The runner gives each part its own placement (in-process
or the killable worker pool), cache and deadline, and never raises; `run_named` builds parts from registered names.
Cascades (`verifiers.cascade`), `weighted`/`gated` (`verifiers.aggregate`) and `checklist` are built this way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from . import plugins
from .calls import gather
from .runner import Runner
from .verdict import Sample, Verdict
from .verifier import PartRunner, Verifier

__all__ = ["CompositeVerifier", "run_named", "unique_labels"]


class CompositeVerifier(Verifier):
    """A verifier whose verdicts come from other verifiers run through a `PartRunner`.

    The core runs it with its own runner (so parts share the caller's worker pool, cache and timeout); called
    directly (`composite.verify(sample)`), it runs its parts with a fresh `Runner`. It is never sent to the worker
    pool itself, and it is not cached as a whole: its parts are, one by one.
    """

    composite: ClassVar[bool] = True

    def verify(self, sample: Sample) -> Verdict:
        return self.verify_batch([sample])[0]

    def verify_batch(self, samples: Sequence[Sample], runner: PartRunner | None = None) -> list[Verdict]:
        return self.verify_parts(samples, runner if runner is not None else Runner())

    def verify_parts(self, samples: Sequence[Sample], runner: PartRunner) -> list[Verdict]:
        """One verdict per sample, in order, from parts run through `runner`."""
        raise NotImplementedError(f"{type(self).__name__} must implement verify_parts(samples, runner)")


def run_named(calls: Sequence[tuple[str, Mapping[str, Any], Sample]], runner: PartRunner) -> list[Verdict]:
    """Run each `(verifier name, options, sample)` call through `runner`; the verdicts in call order.

    Calls with the same verifier and options run as one batch. A verifier that cannot be built (unknown name, bad
    options) gives ERROR verdicts naming why.
    """
    groups: dict[str, list[int]] = {}
    for i, (name, options, _) in enumerate(calls):
        groups.setdefault(json.dumps([name, options], sort_keys=True, default=repr), []).append(i)
    parts: list[list[tuple[int, Verdict]]] = []
    for indices in groups.values():
        name, options, _ = calls[indices[0]]
        try:
            verifier = plugins.get_verifier(name, **options)
        except Exception as exc:
            parts.append([(i, Verdict.error(name, f"cannot use verifier {name!r}: {exc}")) for i in indices])
            continue
        parts.append(list(zip(indices, runner.run(verifier, [calls[i][2] for i in indices]))))
    return gather(len(calls), *parts)


def unique_labels(labels: Iterable[str]) -> list[str]:
    """The labels with repeats numbered ("regex", "regex#2"), so steps and aspects keep one entry each."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label}#{seen[label]}")
    return out
