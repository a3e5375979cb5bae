"""Cheapest first: an ordered list of verifiers where each stage sees only what the stages before left open.

Batch-wise, so the last stage (a model judge) gets one large batch. The verdict's `evidence["cascade"]` records
every stage that ran on the sample and what it said.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Literal

from .composite import CompositeVerifier
from .errors import OptionError
from .verdict import Sample, Status, Verdict
from .verifier import PartRunner

__all__ = ["Cascade", "Policy"]

Policy = Literal["first", "addon"]


class Cascade(CompositeVerifier):
    """Run `stages` in order.

    policy "first" (default): a sample moves on only while its verdict's status is in `forward`
    (default: UNDECIDED); the verdict of the last stage that ran is the answer.
    policy "addon": INCORRECT moves on too, so a later stage (a judge) can re-check a rule's rejection; a later
    stage's CORRECT overrides, while a later stage that cannot decide (UNDECIDED, ERROR, TIMEOUT) leaves the
    earlier decision standing.
    """

    cost: ClassVar[float] = 0.0
    version = "1"

    def __init__(
        self,
        stages: Sequence[Any],
        *,
        name: str | None = None,
        policy: Policy = "first",
        forward: Iterable[Status | str] = (Status.UNDECIDED,),
    ) -> None:
        if not stages:
            raise OptionError("a cascade needs at least one stage")
        if policy not in ("first", "addon"):
            raise OptionError(f"cascade policy must be 'first' or 'addon', got {policy!r}")
        self.stages = list(stages)
        self.policy = policy
        self.forward = frozenset(Status(s) for s in forward)
        if policy == "addon":
            self.forward |= {Status.INCORRECT}
        self.name = name or "cascade:" + ">".join(getattr(s, "name", "?") for s in self.stages)
        self.domains: tuple[str, ...] = ()
        self.config = {
            "stages": [getattr(s, "config", {}) | {"name": getattr(s, "name", "?")} for s in self.stages],
            "policy": policy,
            "forward": sorted(s.value for s in self.forward),
        }

    def verify_parts(self, samples: Sequence[Sample], runner: PartRunner) -> list[Verdict]:
        final: list[Verdict | None] = [None] * len(samples)
        trail: list[list[dict[str, Any]]] = [[] for _ in samples]
        elapsed = [0.0] * len(samples)
        batch_size = [1] * len(samples)  # the largest batch a stage's time was shared with
        pending = list(range(len(samples)))
        for stage in self.stages:
            if not pending:
                break
            verdicts = runner.run(stage, [samples[i] for i in pending])
            still_open = []
            for i, verdict in zip(pending, verdicts):
                trail[i].append(
                    {
                        "verifier": verdict.verifier,
                        "status": verdict.status.value,
                        "score": verdict.score,
                    }
                )
                elapsed[i] += verdict.elapsed_s
                batch_size[i] = max(batch_size[i], verdict.batch_size)
                final[i] = self._combine(final[i], verdict)
                if verdict.status in self.forward:
                    still_open.append(i)
            pending = still_open
        out = []
        for i, last in enumerate(final):
            assert last is not None, "every sample meets the first stage"
            evidence = dict(last.evidence)
            evidence["cascade"] = {"name": self.name, "policy": self.policy, "stages": trail[i]}
            out.append(last.replace(evidence=evidence, elapsed_s=elapsed[i], batch_size=batch_size[i]))
        return out

    def _combine(self, earlier: Verdict | None, later: Verdict) -> Verdict:
        if earlier is None or self.policy == "first":
            return later
        if earlier.status.is_decided and not later.status.is_decided:
            return earlier
        return later

    def __repr__(self) -> str:
        return f"<Cascade {self.name!r} policy={self.policy}>"
