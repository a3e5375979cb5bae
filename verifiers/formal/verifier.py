"""The `lean` verifier: formal checking of theorem proofs, complete snippets and step proofs.

What a sample holds (see ARCHITECTURE.md):
  - `reference` = a theorem statement (`"theorem t (a b : Nat) : a + b = b + a"`, or `{"statement": ...}`), and
    the response is its proof (`"by omega"`; fences, a leading `:=` or a restated header are tolerated, but the
    verifier always writes the header itself from the reference, so a model cannot restate or weaken it);
  - `reference` = None: the response is a complete snippet of `theorem`/`lemma`/`example`/`def` declarations,
    or a JSON step proof `{"steps": [...]}`;
  - `reference` = `{"steps": [...]}`: a step proof (Safe) whose statements come from the reference and whose
    proofs come from the response (JSON `{"steps": [...]}` or a list, one entry per reference step: a mapping with
    `proof` — and, if it restates it, the same `statement` — or the proof text itself); proofs written in the
    reference are never used. One StepVerdict per step, score = fraction of the steps that require verification
    that are proved, evidence names the first failing step. A step that is not verified (`verify: false`) but
    states something later steps assume counts as unproved: the whole is never CORRECT on an unchecked claim.
A wall-clock timeout or a Lean crash is TIMEOUT/ERROR, never a score; a missing toolchain is ERROR.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from verifiers.formal.checker import LeanChecker, Outcome, Snippet, SnippetResult
from verifiers.formal.proof import FormalProof, StepOutcome, StepResult, check_proofs, step_list
from verifiers.formal.source import LeanSyntaxError, PolicyViolation, parse_statement
from verifiers.formal.toolchain import LeanUnavailable, Toolchain, find_toolchain
from verifiers.options import Option
from verifiers.text import clip
from verifiers.verdict import Sample, Status, StepVerdict, Verdict
from verifiers.verifier import Verifier

_STEP_STATUS = {
    StepOutcome.PROVED: Status.CORRECT,
    StepOutcome.FAILED: Status.INCORRECT,
    StepOutcome.FORMALIZATION_FAILED: Status.UNDECIDED,
    StepOutcome.SKIPPED: Status.UNDECIDED,
    StepOutcome.TIMEOUT: Status.TIMEOUT,
    StepOutcome.ERROR: Status.ERROR,
}


class LeanVerifier(Verifier):
    """Checks Lean 4 proofs with a trusted axiom audit (only propext, Classical.choice, Quot.sound).

    `persistent` (WebAssembly only) keeps a warm `lean --worker` for batches of at most 8 snippets, for latency:
    ~0.2 s per snippet instead of ~10 s, but ~7 GB of memory while it lives.
    """

    name = "lean"
    domains = ("lean",)
    cost = 50.0
    batched = True
    version = "1"
    options = {
        "timeout": Option.number(60.0, "wall-clock seconds one snippet may take (TIMEOUT beyond)", above=0),
        "heartbeats": Option.integer(
            200_000,
            "Lean's deterministic maxHeartbeats per declaration (0: no limit); exceeding it fails the proof",
            minimum=0,
        ),
        "batch_size": Option.integer(400, "snippets checked by one Lean process"),
        "processes": Option.integer(None, "parallel Lean processes (None: one per two cores)", optional=True),
        "memory_mb": Option.integer(6144, "memory cap of one Lean process, in MB"),
        "persistent": Option.flag(False, "keep a warm Lean worker for small batches (WebAssembly only; ~7 GB)"),
    }

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._lock = threading.Lock()
        self._toolchain: Toolchain | None = None
        self._unavailable = ""
        self._checkers: dict[tuple[Any, ...], LeanChecker] = {}

    def _checker(self, config: Mapping[str, Any]) -> LeanChecker | str:
        """A checker for these settings, or the reason no Lean is available."""
        with self._lock:
            if self._toolchain is None and not self._unavailable:
                try:
                    self._toolchain = find_toolchain()
                except LeanUnavailable as exc:
                    self._unavailable = str(exc)
        if self._toolchain is None:
            return f"no Lean toolchain: {self._unavailable}"
        key = _settings_key(config)
        with self._lock:
            if key not in self._checkers:  # one per settings, so its memo of verdicts is reused across calls
                # the options are exactly LeanChecker's keyword arguments
                self._checkers[key] = LeanChecker(self._toolchain, **{**config, "timeout": float(config["timeout"])})
            return self._checkers[key]

    def verify(self, sample: Sample) -> Verdict:
        return self.verify_batch([sample])[0]

    def verify_batch(self, samples: Sequence[Sample]) -> list[Verdict]:
        verdicts: list[Verdict | None] = [None] * len(samples)
        groups: dict[tuple[Any, ...], list[int]] = {}
        configs: dict[int, Mapping[str, Any]] = {}
        for i, sample in enumerate(samples):
            config = self.resolve(sample)
            if isinstance(config, Verdict):
                verdicts[i] = config
                continue
            configs[i] = config
            groups.setdefault(_settings_key(config), []).append(i)
        for indices in groups.values():
            checker = self._checker(configs[indices[0]])
            for i, verdict in zip(indices, self._verify_group([samples[i] for i in indices], checker)):
                verdicts[i] = verdict
        assert all(v is not None for v in verdicts)
        return verdicts  # type: ignore[return-value]

    def _verify_group(self, samples: Sequence[Sample], checker: LeanChecker | str) -> list[Verdict]:
        verdicts: list[Verdict | None] = [None] * len(samples)
        theorem_jobs: list[tuple[int, Snippet]] = []
        proof_jobs: list[tuple[int, FormalProof]] = []
        for i, sample in enumerate(samples):
            try:
                job = _job(sample)
            except _BadResponse as exc:
                verdicts[i] = Verdict(Status.INCORRECT, 0.0, self.name, f"rejected: {exc}")
                continue
            except (ValueError, TypeError) as exc:
                verdicts[i] = Verdict.error(self.name, f"unusable lean sample: {exc}")
                continue
            if isinstance(checker, str):
                verdicts[i] = Verdict.error(self.name, checker)
            elif isinstance(job, Snippet):
                theorem_jobs.append((i, job))
            else:
                proof_jobs.append((i, job))
        if isinstance(checker, LeanChecker):
            version = checker.toolchain.version
            # one Lean run for the theorems and the step proofs together
            proofs, theorems = check_proofs([p for _, p in proof_jobs], checker, also=[s for _, s in theorem_jobs])
            for (i, _), result in zip(theorem_jobs, theorems):
                verdicts[i] = self._theorem_verdict(result, version)
            for (i, proof), steps in zip(proof_jobs, proofs):
                verdicts[i] = self._proof_verdict(proof, steps, version)
        return verdicts  # type: ignore[return-value]

    def _theorem_verdict(self, result: SnippetResult, version: str) -> Verdict:
        evidence = {**result.to_dict(), "lean": version}
        evidence["messages"] = evidence["messages"][:20]
        for m in evidence["messages"]:
            m["text"] = clip(m["text"], 2000)
        if result.outcome is Outcome.PROVED:
            return Verdict(Status.CORRECT, 1.0, self.name, "proved", evidence=evidence)
        if result.outcome in (Outcome.FAILED, Outcome.REJECTED):
            label = "rejected" if result.outcome is Outcome.REJECTED else "not proved"
            return Verdict(Status.INCORRECT, 0.0, self.name, f"{label}: {clip(result.reason, 500)}", evidence=evidence)
        status = Status.TIMEOUT if result.outcome is Outcome.TIMEOUT else Status.ERROR
        return Verdict(status, 0.0, self.name, result.reason, evidence=evidence)

    def _proof_verdict(self, proof: FormalProof, steps: list[StepResult], version: str) -> Verdict:
        step_verdicts = []
        for step, res in zip(proof.steps, steps):
            detail = res.outcome.value + (f": {clip(res.message, 1000)}" if res.message else "")
            weight = 1.0 if step.verify else 0.0
            score = 1.0 if res.outcome is StepOutcome.PROVED else 0.0
            step_verdicts.append(StepVerdict(res.name, _STEP_STATUS[res.outcome], score, weight, detail))
        evidence: dict[str, Any] = {"steps": [r.to_dict() for r in steps], "lean": version}
        for r in evidence["steps"]:
            r["message"] = clip(r["message"], 1000)
        failing = next((r for r in steps if r.outcome not in (StepOutcome.PROVED, StepOutcome.SKIPPED)), None)
        if failing is not None:
            evidence["first_failure"] = {"step": failing.name, "outcome": failing.outcome.value,
                                         "message": clip(failing.message, 1000)}  # fmt: skip
        infra = [r for r in steps if r.outcome in (StepOutcome.ERROR, StepOutcome.TIMEOUT)]
        if infra:
            status = Status.ERROR if any(r.outcome is StepOutcome.ERROR for r in infra) else Status.TIMEOUT
            return Verdict(status, 0.0, self.name, f"step {infra[0].name}: {infra[0].message}",
                           steps=tuple(step_verdicts), evidence=evidence)  # fmt: skip
        required = [r for s, r in zip(proof.steps, steps) if s.verify]
        proved = sum(r.outcome is StepOutcome.PROVED for r in required)
        if not required:
            return Verdict(Status.UNDECIDED, 0.0, self.name, "no step requires verification",
                           steps=tuple(step_verdicts), evidence=evidence)  # fmt: skip
        # A statement that was never checked but that later steps take as a hypothesis: the proof rests on it.
        assumed = [r.name for s, r in zip(proof.steps[:-1], steps) if not s.verify and s.statement]
        total = len(required) + len(assumed)
        score = proved / total
        status = Status.CORRECT if proved == total else Status.INCORRECT if proved == 0 else Status.PARTIAL
        reason = f"{proved}/{total} steps proved"
        if assumed:
            evidence["unverified_assumptions"] = assumed
            reason += f"; assumed without verification: {', '.join(assumed)}"
        if failing is not None:
            reason += f"; first failure: {failing.name} ({failing.outcome.value})"
        return Verdict(status, score, self.name, reason, steps=tuple(step_verdicts), evidence=evidence)


def _settings_key(config: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(config[k] for k in sorted(LeanVerifier.options))


def _theorem(statement: str, proof: str) -> Snippet:
    """The statement comes from the dataset: one Lean cannot use is the sample's fault (ERROR), not the model's."""
    try:
        parse_statement(statement)
    except (PolicyViolation, LeanSyntaxError) as exc:
        raise ValueError(f"the reference statement cannot be checked: {exc}") from None
    return Snippet(statement=statement, proof=proof)


class _BadResponse(ValueError):
    """The response cannot be what the reference asks for: the model's fault (INCORRECT), not the sample's."""


def _job(sample: Sample) -> Snippet | FormalProof:
    reference = sample.reference
    if isinstance(reference, Mapping):
        if "steps" in reference:
            return _step_job(reference, sample.response)
        statement = reference.get("statement")
        if not isinstance(statement, str):
            raise ValueError("a lean reference mapping needs `statement` (a string) or `steps`")
        return _theorem(statement, sample.response)
    if isinstance(reference, str):
        return _theorem(reference, sample.response)
    if reference is None:
        text = sample.response.strip()
        if text.startswith(("{", "[")):
            return FormalProof.parse(text)
        return Snippet(code=sample.response)
    raise TypeError(f"a lean reference must be a statement, a mapping or None, got {type(reference).__name__}")


def _step_job(reference: Mapping[str, Any], response: str) -> FormalProof:
    """The reference's statements with the response's proofs (never the reference's own proofs)."""
    wanted = FormalProof.parse(reference, proofs=False)
    try:
        given = step_list(response)
    except ValueError:
        raise _BadResponse('the response is not a JSON step proof (`{"steps": [...]}` or a list)') from None
    if len(given) != len(wanted.steps):
        raise _BadResponse(f"the response has {len(given)} steps, the reference {len(wanted.steps)}")
    steps = []
    for i, (step, answer) in enumerate(zip(wanted.steps, given), 1):
        if isinstance(answer, Mapping):
            restated = answer.get("statement")
            if restated is not None and " ".join(str(restated).split()) != " ".join((step.statement or "").split()):
                raise _BadResponse(f"step {i} restates a different statement than the reference's")
            answer = answer.get("proof")
        if answer is None and not step.verify:
            steps.append(step)
            continue
        if not isinstance(answer, str) or not answer.strip():
            raise _BadResponse(f"step {i} has no proof")
        steps.append(replace(step, proof=answer))
    return FormalProof(tuple(steps))
