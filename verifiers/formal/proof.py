"""Step proofs in the style of the "Safe" paper: every reasoning step stated and proved in Lean 4.

A `FormalProof` is an ordered list of `FormalStep`s. Step k is checked as its own theorem whose hypotheses are
the earlier steps' statements (so its proof may use them by name), independently of whether those were proved:
a step is judged given the steps before it, as in Safe. One Lean run checks, for every step of every proof handed
in together, the statement alone with the verifier's placeholder proof (does it elaborate?) and the step with
its proof; a second run re-checks only the steps after a statement that does not elaborate, without it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from verifiers.formal.checker import LeanChecker, Outcome, Snippet, SnippetResult
from verifiers.formal.source import (
    LeanSyntaxError,
    PolicyViolation,
    Statement,
    check_name,
    parse_statement,
)


class StepOutcome(str, Enum):
    PROVED = "proved"
    FAILED = "failed"  # the proof does not check (Lean's message says why), or it was rejected
    FORMALIZATION_FAILED = "formalization_failed"  # the statement alone does not elaborate
    SKIPPED = "skipped"  # the step asks for no verification
    TIMEOUT = "timeout"
    ERROR = "error"  # infrastructure; says nothing about the step


@dataclass(frozen=True)
class FormalStep:
    statement: str | None
    proof: str | None = None
    name: str | None = None
    verify: bool = True
    text: str = ""  # the natural-language step this formalizes (carried into evidence)


def step_list(data: Any) -> Sequence[Any]:
    """The raw steps of `{"steps": [...]}`, a list, or JSON text of either; ValueError when there are none."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise ValueError(f"a formal proof given as text must be JSON: {exc}") from None
    if isinstance(data, Mapping):
        data = data.get("steps")
    if not isinstance(data, Sequence) or isinstance(data, str) or not data:
        raise ValueError("a formal proof needs a non-empty list of steps")
    return data


@dataclass(frozen=True)
class FormalProof:
    steps: tuple[FormalStep, ...]

    @classmethod
    def parse(cls, data: Any, *, proofs: bool = True) -> FormalProof:
        """From `{"steps": [...]}`, a list of step mappings, or JSON text of either. A step mapping has
        `statement`, `proof`, optional `name`, `verify` (default true) and `text`. With `proofs=False` (a
        reference, whose proofs come from the response) proofs are neither required nor kept."""
        steps = []
        for i, raw in enumerate(step_list(data), 1):
            if not isinstance(raw, Mapping):
                raise ValueError(f"step {i} must be a mapping with `statement` and `proof`, got {type(raw).__name__}")
            unknown = set(raw) - {"statement", "proof", "name", "verify", "text"}
            if unknown:
                raise ValueError(f"step {i} has unknown field(s) {sorted(unknown)}")
            verify = raw.get("verify", True)
            if not isinstance(verify, bool):
                raise ValueError(f"step {i}: `verify` must be true or false")
            for key in ("statement", "proof", "name", "text"):
                if raw.get(key) is not None and not isinstance(raw[key], str):
                    raise ValueError(f"step {i}: `{key}` must be a string")
            if verify and not (raw.get("statement") and (raw.get("proof") or not proofs)):
                raise ValueError(f"step {i} needs a `statement` and a `proof` (or `verify: false`)")
            proof = raw.get("proof") if proofs else None
            steps.append(FormalStep(raw.get("statement"), proof, raw.get("name"), verify, raw.get("text") or ""))
        return cls(tuple(steps))


@dataclass(frozen=True)
class StepResult:
    name: str
    outcome: StepOutcome
    message: str = ""
    result: SnippetResult | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "outcome": self.outcome.value, "message": self.message}
        if self.result is not None and self.result.axioms:
            data["axioms"] = {k: list(v) for k, v in self.result.axioms.items()}
        return data


def _step_name(step: FormalStep, parsed: Statement | None, index: int) -> str:
    name = step.name or (parsed.name if parsed else None) or f"step_{index}"
    check_name(name, "step name")
    return name


def _outcome_of(result: SnippetResult) -> StepOutcome:
    return {
        Outcome.PROVED: StepOutcome.PROVED,
        Outcome.FAILED: StepOutcome.FAILED,
        Outcome.REJECTED: StepOutcome.FAILED,
        Outcome.TIMEOUT: StepOutcome.TIMEOUT,
        Outcome.ERROR: StepOutcome.ERROR,
    }[result.outcome]


def check_proofs(
    proofs: Sequence[FormalProof], checker: LeanChecker, *, also: Sequence[Snippet] = ()
) -> tuple[list[list[StepResult]], list[SnippetResult]]:
    """Per-step results for every proof (and the results of the unrelated snippets `also`, checked in the same
    Lean run). Each statement is checked alone and, at the same time, each step with all the earlier statements
    as hypotheses; only when some statement does not elaborate are the steps after it checked again without it
    (a second run for those steps alone)."""
    results: list[list[StepResult | None]] = [[None] * len(p.steps) for p in proofs]
    names: list[list[str]] = []
    parsed: list[list[Statement | None]] = []
    jobs: list[tuple[str, int, int, Snippet]] = []  # ("statement" | "proof", proof index, step index, snippet)
    for pi, proof in enumerate(proofs):
        names.append([])
        parsed.append([])
        for si, step in enumerate(proof.steps):
            statement = None
            try:
                statement = parse_statement(step.statement) if step.statement else None
                name = _step_name(step, statement, si + 1)
            except (PolicyViolation, LeanSyntaxError) as exc:
                name = step.name or f"step_{si + 1}"
                results[pi][si] = StepResult(name, StepOutcome.FAILED, f"rejected: {exc}")
            names[pi].append(name)
            parsed[pi].append(statement)
            if results[pi][si] is None and step.statement:  # skipped steps too: later steps assume them
                jobs.append(("statement", pi, si, Snippet(statement=step.statement, placeholder=True)))
            if not step.verify and results[pi][si] is None:
                results[pi][si] = StepResult(name, StepOutcome.SKIPPED)
        for si in range(len(proof.steps)):
            if results[pi][si] is None:
                jobs.append(("proof", pi, si, _step_snippet(proof, si, names[pi], parsed[pi], None)))
    first = checker.check([job for *_, job in jobs] + list(also))
    well_formed: set[tuple[int, int]] = set()
    for (kind, pi, si, _), res in zip(jobs, first):
        if kind != "statement":
            continue
        if res.outcome is Outcome.PROVED:
            well_formed.add((pi, si))
        elif results[pi][si] is not None:
            continue  # a skipped step: not assumed by later steps, still skipped
        elif res.outcome in (Outcome.FAILED, Outcome.REJECTED):
            results[pi][si] = StepResult(names[pi][si], StepOutcome.FORMALIZATION_FAILED, res.reason, res)
        else:
            results[pi][si] = StepResult(names[pi][si], _outcome_of(res), res.reason, res)
    again: list[tuple[int, int, Snippet]] = []
    for (kind, pi, si, _), res in zip(jobs, first):
        if kind != "proof" or results[pi][si] is not None:
            continue
        assumed = [j for j in range(si) if parsed[pi][j] is not None]
        if all((pi, j) in well_formed for j in assumed):
            results[pi][si] = StepResult(names[pi][si], _outcome_of(res), res.reason, res)
        else:
            keep = {j for j in assumed if (pi, j) in well_formed}
            again.append((pi, si, _step_snippet(proofs[pi], si, names[pi], parsed[pi], keep)))
    for (pi, si, _), res in zip(again, checker.check([job for *_, job in again]) if again else []):
        results[pi][si] = StepResult(names[pi][si], _outcome_of(res), res.reason, res)
    return [[r for r in row if r is not None] for row in results], first[len(jobs) :]


def _step_snippet(
    proof: FormalProof, si: int, names: list[str], parsed: list[Statement | None], keep: set[int] | None
) -> Snippet:
    """Step `si` as a theorem with the earlier statements (all, or those in `keep`) as named hypotheses."""
    hypotheses = tuple(
        (names[j], stmt.as_proposition())
        for j in range(si)
        if (stmt := parsed[j]) is not None and (keep is None or j in keep)
    )
    step = proof.steps[si]
    return Snippet(statement=step.statement, proof=step.proof, hypotheses=hypotheses)
