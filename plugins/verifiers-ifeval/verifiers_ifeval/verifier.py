"""The `ifeval` verifier: one step per verifiable instruction, score = fraction satisfied."""

from __future__ import annotations

from verifiers import Option, Sample, Status, StepVerdict, Verdict, Verifier

from .constraints import SpecError, parse_constraints

__all__ = ["IFEval", "strip_think"]


def strip_think(text: str) -> str:
    """The answer without its reasoning: what follows the last `</think>`; before an unclosed `<think>`."""
    close = text.rfind("</think>")
    if close >= 0:
        return text[close + len("</think>"):]
    opened = text.find("<think>")
    return text[:opened] if opened >= 0 else text


class IFEval(Verifier):
    """Instruction following (IFEval-style): checks verifiable constraints, one step per constraint.

    The constraints come from option `constraints` or the reference: a list of mappings such as
    `{"type": "max_words", "value": 100}` (vocabulary: `verifiers_ifeval.constraints.TYPES`, the README's table).
    Score = fraction satisfied (`strict=True`: 1 only when all are, else 0); CORRECT when all, INCORRECT when
    none, PARTIAL otherwise; aspects map each constraint's step name to 0 or 1. A malformed or unknown constraint
    is an ERROR verdict listing the known types. Reasoning in `<think>...</think>` is ignored unless
    `ignore_think=False`.
    """

    name = "ifeval"
    domains = ("instruction_following",)
    cost = 0.5
    version = "1"
    options = {
        "constraints": Option(None, "the constraints (else the reference)", optional=True,
                              must="a list of constraints such as [{'type': 'max_words', 'value': 100}]",
                              accepts=lambda v: bool(parse_constraints(v, "option 'constraints'"))),
        "strict": Option.flag(False, "score 1 only when every constraint holds, else 0"),
        "ignore_think": Option.flag(True, "drop <think> reasoning before checking"),
    }

    def verify(self, sample: Sample) -> Verdict:
        config = self.resolve(sample)
        if isinstance(config, Verdict):
            return config
        from_option = config["constraints"] is not None
        source = config["constraints"] if from_option else sample.reference
        if source is None:
            return Verdict.error(self.name, "no constraints: give a list of constraints as the reference or as "
                                            "option 'constraints', e.g. [{\"type\": \"max_words\", \"value\": 100}]")
        try:
            constraints = parse_constraints(source, "option 'constraints'" if from_option else "the reference")
        except SpecError as exc:
            return Verdict.error(self.name, str(exc))
        text = strip_think(sample.response) if config["ignore_think"] else sample.response
        steps = []
        for constraint in constraints:
            ok, detail = constraint.check(text)
            steps.append(StepVerdict(constraint.name, Status.CORRECT if ok else Status.INCORRECT,
                                     1.0 if ok else 0.0, detail=detail))
        passed = sum(step.status is Status.CORRECT for step in steps)
        total = len(steps)
        if config["strict"]:
            score = 1.0 if passed == total else 0.0
        else:
            score = passed / total
        if passed == total:
            status = Status.CORRECT
        elif passed == 0 or config["strict"]:
            status = Status.INCORRECT
        else:
            status = Status.PARTIAL
        failed = [step.name for step in steps if step.status is not Status.CORRECT]
        reason = f"{passed}/{total} constraints satisfied" + (f"; failed: {', '.join(failed)}" if failed else "")
        return Verdict(status, score, self.name, reason, steps=steps,
                       aspects={step.name: step.score for step in steps},
                       evidence={"satisfied": passed, "constraints": total, "strict": config["strict"]})
