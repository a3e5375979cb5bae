"""A verifier that does about a millisecond of pure-Python work per sample, for the worker-pool benchmark.

It lives in its own module so worker processes can import it (the pool pickles verifiers by reference).
"""

from __future__ import annotations

from verifiers import Sample, Verdict, Verifier


class BusyExact(Verifier):
    """Exact match after `work` iterations of integer arithmetic (a stand-in for a sympy comparison)."""

    name = "bench.busy_exact"
    options = {"work": 16_000}

    def verify(self, sample: Sample) -> Verdict:
        acc = 0
        for i in range(self.config["work"]):
            acc = (acc + i * i) % 1_000_003
        ok = sample.response.strip() == str(sample.reference).strip()
        return Verdict.from_bool(self.name, ok, evidence={"checksum": acc})
