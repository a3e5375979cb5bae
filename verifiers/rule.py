"""Built-in plugin: rule-based verifiers (string, numeric, multiple choice, regex, format, length, checklist, BLEU)."""

from __future__ import annotations

from typing import Any

from .hookspecs import hookimpl
from .verdict import Sample, Verdict
from .verifier import Verifier


def _references(reference: Any) -> list[str]:
    if reference is None:
        return []
    if isinstance(reference, (list, tuple)):
        return [str(r) for r in reference]
    return [str(reference)]


class ExactMatch(Verifier):
    """The response equals the reference (or one of a list of references) exactly, after stripping outer whitespace."""

    name = "exact"
    cost = 0.1
    options = {"strip": True}

    def verify(self, sample: Sample) -> Verdict:
        refs = _references(sample.reference)
        if not refs:
            return Verdict.error(self.name, "no reference to compare against")
        strip = self.settings(sample)["strip"]
        response = sample.response.strip() if strip else sample.response
        ok = any(response == (r.strip() if strip else r) for r in refs)
        return Verdict.from_bool(self.name, ok, "exact match" if ok else "no reference matches exactly")


@hookimpl
def register_verifiers(register):
    register(ExactMatch)
