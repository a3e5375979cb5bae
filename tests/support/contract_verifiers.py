"""One verifier of each capability written the way a plugin writes them, for the contract tests.

They live in an importable module because the worker pool pickles a verifier by reference.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from verifiers import BatchedVerifier, CompositeVerifier, PartRunner, Sample, Verdict, Verifier


class Configured(Verifier):
    """Exact match whose evidence shows its own options and the process that ran it."""

    name = "contract.configured"
    options = {"timeout": 1.0, "workers": 1}

    def verify(self, sample: Sample) -> Verdict:
        ok = sample.response == sample.reference
        return Verdict.from_bool(self.name, ok, evidence={"config": dict(self.config), "pid": os.getpid()})


class CpuBound(Configured):
    """The same, declared `cpu_bound`: always placed in the worker pool."""

    name = "contract.cpu_bound"
    cpu_bound = True


class WholeBatch(BatchedVerifier):
    """Records the size of the batch it was given and the process it ran in."""

    name = "contract.batched"
    cpu_bound = True  # ignored for a batched verifier: it never goes to the pool

    def verify_batch(self, samples: Sequence[Sample]) -> list[Verdict]:
        return [
            Verdict.from_bool(self.name, s.response == s.reference, evidence={"batch": len(samples), "pid": os.getpid()})
            for s in samples
        ]


class Both(CompositeVerifier):
    """CORRECT when both parts are: one plain part in the pool, one batched part in-process."""

    name = "contract.both"

    def verify_parts(self, samples: Sequence[Sample], runner: PartRunner) -> list[Verdict]:
        first = runner.run(CpuBound(), samples)
        second = runner.run(WholeBatch(), samples)
        return [
            Verdict.from_bool(self.name, a.status.value == b.status.value == "correct",
                              evidence={"parts": [a.evidence["pid"], b.evidence["pid"]], "batch": b.evidence["batch"]})
            for a, b in zip(first, second)
        ]  # fmt: skip
