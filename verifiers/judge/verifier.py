"""The model-judge verifiers: `judge` (reference-based), `judge.principles` (reference-free rubric) and
`likelihood` (the reference answer's log-probability given the response).

Every one screens responses with the guards first (`verifiers.judge.guards`), then sends what is left to its
backend as one batch. What a judge cannot settle stays UNDECIDED ("no judge configured", no yes/no mass, no stated
decision); a backend failure is ERROR or TIMEOUT; neither ever becomes a score.

Backend options (`backend`, `model`, `base_url`, ...) and `guards` are taken from the call only (declared
`per_sample=False`); a sample's metadata may override only the scoring options, so a dataset column named `model`
cannot re-route a judge and one named `guards` cannot switch the guards off.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from verifiers.errors import OptionError
from verifiers.options import Option, need
from verifiers.text import clip, strip_think
from verifiers.verdict import Sample, Status, StepVerdict, Verdict
from verifiers.verifier import Verifier

from .backend import TAIL, Continuation, Failure, NoJudge, Prompt, backend_for
from .guards import Screened, is_master_key, screen
from .parse import parse_decision, parse_grade, parse_principles
from .templates import TEMPLATES, Template, TemplateError

__all__ = ["BACKEND_OPTIONS", "JudgeVerifier", "LikelihoodVerifier", "PrinciplesVerifier"]

BACKEND_OPTIONS: Mapping[str, Option] = {
    "backend": Option.text(
        "auto",
        "'auto', 'transformers', 'openai' or a registered backend name",
        nonempty=True,
        must="'auto', 'transformers', 'openai' or a registered backend name",
        per_sample=False,
    ),
    "model": Option.text(
        None,
        "the local model (transformers backend; else $VERIFIERS_JUDGE_MODEL)",
        nonempty=True,
        optional=True,
        per_sample=False,
    ),
    "base_url": Option.text(
        None,
        "the OpenAI-compatible server (openai backend; else $VERIFIERS_JUDGE_BASE_URL)",
        nonempty=True,
        optional=True,
        per_sample=False,
    ),
    "server_model": Option.text(
        None,
        "the model name sent to the server (else $VERIFIERS_JUDGE_SERVER_MODEL)",
        nonempty=True,
        optional=True,
        per_sample=False,
    ),
    "backend_options": Option(
        None,
        "keyword options of a registered (third-party) backend",
        optional=True,
        must="a mapping",
        accepts=lambda v: isinstance(v, Mapping),
        per_sample=False,
    ),
    "device": Option.text(
        "auto",
        "where the local model runs: 'auto', 'cpu' or 'cuda[:N]'",
        must="'auto', 'cpu' or 'cuda[:N]'",
        per_sample=False,
    ),
    "batch_size": Option.integer(16, "prompts per forward pass of the local model", per_sample=False),
    "batch_tokens": Option.integer(
        None, "padded tokens per forward pass of the local model (None: by device)", optional=True, per_sample=False
    ),
    "max_length": Option.integer(
        None, "the local model's context in tokens (None: the model's own)", minimum=16, optional=True, per_sample=False
    ),
    "concurrency": Option.integer(8, "requests in flight to the server", per_sample=False),
    "request_timeout": Option.number(60.0, "seconds one server request may take", above=0, per_sample=False),
    "retries": Option.integer(
        3, "retries of a server request that failed for a transient reason", minimum=0, per_sample=False
    ),
}
"""How the judges reach their model: from the call only, never from a sample's metadata."""
_THRESHOLD = Option.number(
    0.5, "the score (P(yes), likelihood) at or above which the verdict is CORRECT", minimum=0, maximum=1
)
_MIN_MASS = Option.number(0.5, "P(yes) + P(no) below this leaves the sample UNDECIDED (no yes/no answer)", minimum=0)
_MAX_TOKENS = Option.integer(512, "tokens the judge may generate (decision, grade and principles templates)")
_GUARDS = Option.flag(
    True, "refuse responses the guards flag (openers, injections) before asking the judge", per_sample=False
)
NO_QUESTION = "(no question given)"


def _tail_chars(default: int) -> Option:
    return Option.integer(default, "characters of the response's end shown to the judge", minimum=0)


def _template_option(default: str, modes: tuple[str, ...]) -> Option:
    return Option(
        default,
        f"the prompt template, of mode {' or '.join(modes)}",
        must="a template name or a mapping with mode, system and user",
        accepts=lambda v: bool(_template(v, modes)),
    )


def _template(value: Any, modes: Sequence[str]) -> Template:
    """A template from a name in TEMPLATES or a mapping {"mode", "system", "user"}; `OptionError` says what is wrong."""
    if isinstance(value, str):
        if value not in TEMPLATES:
            raise OptionError(f"unknown template {value!r}; known: {', '.join(sorted(TEMPLATES))}")
        template = TEMPLATES[value]
    elif isinstance(value, Mapping) and {"mode", "system", "user"} <= set(value):
        template = Template(str(value.get("name", "custom")), value["mode"], str(value["system"]), str(value["user"]))
    else:
        raise OptionError(f"option 'template' must be a template name or a mapping with mode, system and user, got "
                          f"{value!r}")  # fmt: skip
    need(template.mode in modes, f"template {template.name!r} has mode {template.mode!r}; this verifier takes "
                                 f"{', '.join(map(repr, modes))}")  # fmt: skip
    return template


def _reference_text(reference: Any) -> str | None:
    if isinstance(reference, Mapping):
        for key in ("answer", "solution", "reference", "ground_truth"):
            if reference.get(key) is not None:
                return _reference_text(reference[key])
        return None
    if reference is None or isinstance(reference, bool):
        return None if reference is None else str(reference).lower()
    if isinstance(reference, (list, tuple)):
        return " or ".join(str(r) for r in reference) or None
    text = str(reference).strip()
    return text or None


@dataclass(frozen=True)
class _Plan:
    """What one sample asks the backend, and how the answers become its verdict."""

    ask: str
    """"yes_no" (`yes_probabilities`), "generate" or "likelihood" (`continuation_logprobs`)."""
    queries: tuple[Any, ...]
    """Prompts (Continuations for "likelihood"), all asked the same way."""
    finish: Callable[[list[Any], Mapping[str, Any]], Verdict]
    """(one answer per query — a value or a Failure, the backend's description) -> the verdict."""
    max_tokens: int = 0


class _ModelVerifier(Verifier):
    """What the three share: backend options, sample-level options, the guard step, and the batch: each sample is
    planned (`_plan`: a verdict without any call, or the questions to ask), then every question of the batch goes to
    the backend in one call per kind of question."""

    batched: ClassVar[bool] = True
    allowed_modes: ClassVar[tuple[str, ...]] = ()

    def _plan(self, sample: Sample, config: Mapping[str, Any]) -> Verdict | _Plan:
        raise NotImplementedError

    def verify(self, sample: Sample) -> Verdict:
        return self.verify_batch([sample])[0]

    def verify_batch(self, samples: Sequence[Sample]) -> list[Verdict]:
        verdicts: list[Verdict | None] = [None] * len(samples)
        plans: list[tuple[int, _Plan]] = []
        for i, sample in enumerate(samples):
            config = self.resolve(sample)
            planned = config if isinstance(config, Verdict) else self._plan(sample, config)
            if isinstance(planned, Verdict):
                verdicts[i] = planned
            else:
                plans.append((i, planned))
        if plans:
            backend = self._backend()
            if isinstance(backend, Verdict):
                outcomes = [backend] * len(plans)
            else:
                outcomes = self._ask(backend, [plan for _, plan in plans])
            for (i, _), verdict in zip(plans, outcomes):
                verdicts[i] = verdict
        return verdicts  # type: ignore[return-value]

    @staticmethod
    def _ask(backend: Any, plans: list[_Plan]) -> list[Verdict]:
        """One backend call per kind of question, over every plan's questions; answers sliced back per plan."""
        answers: list[list[Any]] = [[] for _ in plans]
        groups: dict[tuple[str, int], list[int]] = {}
        for p, plan in enumerate(plans):
            groups.setdefault((plan.ask, plan.max_tokens), []).append(p)
        for (ask, max_tokens), members in groups.items():
            queries = [query for p in members for query in plans[p].queries]
            if ask == "yes_no":
                results: list[Any] = backend.yes_probabilities(queries)
            elif ask == "generate":
                results = backend.generate(queries, max_tokens=max_tokens)
            else:
                results = backend.continuation_logprobs(queries)
            at = 0
            for p in members:
                answers[p] = results[at : at + len(plans[p].queries)]
                at += len(plans[p].queries)
        described = backend.describe()  # after the calls: a server's model name is known by then
        return [plan.finish(answer, described) for plan, answer in zip(plans, answers)]

    def _backend(self) -> Any:
        """The backend, or the verdict every pending sample gets instead (UNDECIDED / ERROR)."""
        try:
            return backend_for(self.config)
        except NoJudge as exc:
            return Verdict.undecided(self.name, str(exc))
        except Exception as exc:  # noqa: BLE001  (a backend factory that rejects its options: a configuration error)
            return Verdict.error(self.name, f"judge backend unavailable: {type(exc).__name__}: {exc}")

    def _failed(self, failure: Failure, evidence: Mapping[str, Any]) -> Verdict:
        return Verdict(failure.status, 0.0, self.name, failure.reason, evidence=evidence)

    def _guard(self, sample: Sample, config: Mapping[str, Any], require_answer: bool,
               reference: str | None = None) -> Verdict | Screened:  # fmt: skip
        """The guards' INCORRECT verdict, or what they let through (`reference`: the gold answer, when there is one)."""
        screened = screen(sample.response, require_answer=require_answer, tail_chars=config["tail_chars"],
                          reject=config["guards"], answer_only=config.get("answer_only", False),
                          reference=reference)  # fmt: skip
        if screened.rejection is not None:
            return Verdict.incorrect(self.name, f"guard: {screened.rejection}", evidence={"guard": screened.rejection})
        return screened


def _yes_no_verdict(
    name: str, result: tuple[float, float] | Failure, config: Mapping[str, Any], evidence: dict[str, Any]
) -> Verdict:
    if isinstance(result, Failure):
        return Verdict(result.status, 0.0, name, result.reason, evidence=evidence)
    p_yes, mass = result
    evidence = {**evidence, "p_yes": round(p_yes, 6), "yes_no_mass": round(mass, 6)}
    if mass < config["min_mass"]:
        return Verdict.undecided(
            name, f"the judge's next token is not yes or no (P(yes) + P(no) = {mass:.3g} < min_mass "
                  f"{config['min_mass']:g})", evidence=evidence)  # fmt: skip
    evidence["confidence"] = round(max(p_yes, 1 - p_yes), 6)
    ok = p_yes >= config["threshold"]
    return Verdict.from_bool(name, ok, f"P(yes) = {p_yes:.3f}", score=p_yes, evidence=evidence)


class JudgeVerifier(_ModelVerifier):
    """A model judge of the final answer against the reference: P(yes), a stated decision, or an A/B/C grade.

    Closes the `math` and `text` cascades: it sees only what the cheaper stages left UNDECIDED (or INCORRECT too
    with policy "addon"). Reference: the gold answer (a string, or a mapping with `answer`). The question is the
    sample's prompt.
    """

    name = "judge"
    domains = ("math", "text")
    cost = 100.0
    allowed_modes = ("logprob", "decision", "grade")
    options = {
        **BACKEND_OPTIONS,
        "template": _template_option("reference_logprob", allowed_modes),
        "threshold": _THRESHOLD,
        "min_mass": _MIN_MASS,
        "max_tokens": _MAX_TOKENS,
        "tail_chars": _tail_chars(1500),
        "guards": _GUARDS,
        "require_answer": Option.flag(True, "a response without a final answer is INCORRECT before the judge"),
        "answer_only": Option.flag(False, "the response is the final answer already: no extraction"),
    }

    def _plan(self, sample: Sample, config: Mapping[str, Any]) -> Verdict | _Plan:
        reference = _reference_text(sample.reference)
        if reference is None:
            return Verdict.error(self.name, "no reference: the judge compares against a gold answer")
        screened = self._guard(sample, config, config["require_answer"], reference)
        if isinstance(screened, Verdict):
            return screened
        template = _template(config["template"], self.allowed_modes)
        try:
            prompt = template.prompt(question=sample.prompt or NO_QUESTION, reference=reference,
                                     answer=screened.answer or "(none stated)", excerpt=screened.excerpt)  # fmt: skip
        except TemplateError as exc:
            return Verdict.error(self.name, str(exc))
        evidence = {"template": template.name, "answer": clip(screened.answer or "", 200)}

        def finish(answers: list[Any], described: Mapping[str, Any]) -> Verdict:
            (answer,) = answers
            seen = {**evidence, "judge": described}
            if template.mode == "logprob":
                return _yes_no_verdict(self.name, answer, config, seen)
            if isinstance(answer, Failure):
                return self._failed(answer, seen)
            return self._read_reply(template.mode, answer, seen)

        ask = "yes_no" if template.mode == "logprob" else "generate"
        return _Plan(ask, (prompt,), finish, config["max_tokens"])

    def _read_reply(self, mode: str, reply: str, evidence: dict[str, Any]) -> Verdict:
        evidence = {**evidence, "reply": clip(reply, 1000)}
        if mode == "grade":
            grade = parse_grade(reply, "ABC")
            evidence["grade"] = grade
            if grade is None:
                return Verdict.undecided(self.name, "the judge's reply gives no grade A, B or C", evidence=evidence)
            reasons = {"A": "graded A: agrees with the reference", "B": "graded B: disagrees with the reference",
                       "C": "graded C: missing, incomplete or several answers"}  # fmt: skip
            return Verdict.from_bool(self.name, grade == "A", reasons[grade], evidence=evidence)
        decision = parse_decision(reply)
        if decision is None:
            return Verdict.undecided(self.name, "the judge's reply states no decision", evidence=evidence)
        return Verdict.from_bool(
            self.name, decision, f"the judge decided {'yes' if decision else 'no'}", evidence=evidence
        )


def _principles(source: Any) -> list[tuple[str, str, float]] | str:
    """(name, text, weight) per principle from a list of strings or mappings {text, name?, weight?}; or a reason."""
    if isinstance(source, Mapping):
        source = source.get("principles")
    if isinstance(source, str):
        source = [source]
    if not isinstance(source, (list, tuple)) or not source:
        return "give the principles as the reference (a list, or {'principles': [...]}) or option 'principles'"
    out = []
    for n, item in enumerate(source, 1):
        if isinstance(item, str) and item.strip():
            out.append((f"p{n}", item.strip(), 1.0))
        elif isinstance(item, Mapping) and isinstance(item.get("text"), str) and item["text"].strip():
            weight = item.get("weight", 1.0)
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight >= 0:
                return f"principle {n}: weight must be a number >= 0, got {weight!r}"
            out.append((str(item.get("name") or f"p{n}"), item["text"].strip(), float(weight)))
        else:
            return f"principle {n} must be a non-empty string or a mapping with 'text', got {item!r}"
    if not sum(w for _, _, w in out) > 0:
        return "the principles' weights sum to 0"
    return out


def _usable_principles(source: Any) -> bool:
    """True for principles `_principles` can read; else `OptionError` saying what is wrong with them."""
    parsed = _principles(source)
    need(not isinstance(parsed, str), str(parsed))
    return True


class PrinciplesVerifier(_ModelVerifier):
    """Reference-free rubric: each natural-language principle is a yes/no question to the judge (a StepVerdict and
    an aspect); score = weighted share of principles met (P(yes) per principle in logprob mode).

    Principles come from option `principles` or the reference (a list of strings or {text, name, weight}
    mappings, or {"principles": [...]}). Template `principle_logprob` (one forward pass per principle) or
    `principles` (one generated reply covering all of them).
    """

    name = "judge.principles"
    domains = ("rubric",)
    cost = 100.0
    allowed_modes = ("logprob", "principles")
    options = {
        **BACKEND_OPTIONS,
        "principles": Option(
            None,
            "the principles (else the reference)",
            optional=True,
            must="a list of strings or {text, name, weight} mappings",
            accepts=_usable_principles,
        ),
        "template": _template_option("principle_logprob", allowed_modes),
        "threshold": _THRESHOLD,
        "min_mass": _MIN_MASS,
        "max_tokens": _MAX_TOKENS,
        "tail_chars": _tail_chars(3000),
        "guards": _GUARDS,
    }

    def _plan(self, sample: Sample, config: Mapping[str, Any]) -> Verdict | _Plan:
        principles = _principles(config["principles"] if config["principles"] is not None else sample.reference)
        if isinstance(principles, str):
            return Verdict.error(self.name, principles)
        screened = self._guard(sample, config, require_answer=False)
        if isinstance(screened, Verdict):
            return screened
        template = _template(config["template"], self.allowed_modes)
        question = sample.prompt or NO_QUESTION
        try:
            if template.mode == "logprob":
                prompts = [template.prompt(question=question, excerpt=screened.excerpt, principle=text)
                           for _, text, _ in principles]  # fmt: skip
            else:
                prompts = [template.prompt(question=question, excerpt=screened.excerpt,
                                           principles=[text for _, text, _ in principles])]  # fmt: skip
        except TemplateError as exc:
            return Verdict.error(self.name, str(exc))

        def finish(answers: list[Any], described: Mapping[str, Any]) -> Verdict:
            return self._combine(principles, template.mode, answers, config, template.name, described)

        ask = "yes_no" if template.mode == "logprob" else "generate"
        return _Plan(ask, tuple(prompts), finish, config["max_tokens"])

    def _combine(self, principles: list[tuple[str, str, float]], mode: str, results: list[Any],
                 config: Mapping[str, Any], template: str, described: Mapping[str, Any]) -> Verdict:  # fmt: skip
        evidence: dict[str, Any] = {"template": template, "judge": described}
        failures = [r for r in results if isinstance(r, Failure)]
        if failures:
            return self._failed(failures[0], evidence)
        if mode == "logprob":
            scored: list[tuple[float | None, str]] = []
            for p_yes, mass in results:
                if mass < config["min_mass"]:
                    scored.append((None, f"no yes/no answer (P(yes) + P(no) = {mass:.3g})"))
                else:
                    scored.append((p_yes, f"P(yes) = {p_yes:.3f}"))
        else:
            evidence["reply"] = clip(results[0], 1000)
            scored = [(None if d is None else float(d), "not addressed" if d is None else "yes" if d else "no")
                      for d in parse_principles(results[0], len(principles))]  # fmt: skip
        steps = []
        for (name, text, weight), (value, detail) in zip(principles, scored):
            if value is None:
                status = Status.UNDECIDED
            else:
                status = Status.CORRECT if value >= config["threshold"] else Status.INCORRECT
            steps.append(StepVerdict(name, status, value or 0.0, weight, f"{detail}: {clip(text, 200)}"))
        undecided = [s.name for s in steps if s.status is Status.UNDECIDED]
        if undecided:
            return Verdict.undecided(self.name, f"the judge did not answer principle(s) {', '.join(undecided)}",
                                     steps=tuple(steps), evidence=evidence)  # fmt: skip
        total = sum(s.weight for s in steps)
        score = sum(s.weight * s.score for s in steps) / total
        met = sum(s.status is Status.CORRECT for s in steps)
        status = Status.CORRECT if met == len(steps) else Status.INCORRECT if met == 0 else Status.PARTIAL
        return Verdict(status, min(1.0, score), self.name, f"{met} of {len(steps)} principles met", steps=tuple(steps),
                       aspects={s.name: s.score for s in steps}, evidence=evidence)  # fmt: skip


# The last answer anchor of a response: what the likelihood reward replaces by the reference answer.
_ANSWER_ANCHOR = re.compile(
    r"\\boxed\s*\{|\\fbox\s*\{|<answer>|\*{0,2}final\s+answer|the\s+(?:correct\s+)?answer\s+is|\banswer\s*:",
    re.IGNORECASE,
)


def reasoning_part(response: str) -> str:
    """The response up to (not including) its last answer anchor: the reasoning a reference answer follows."""
    body = strip_think(response) if "</think>" in response else response
    anchors = list(_ANSWER_ANCHOR.finditer(body))
    return body[: anchors[-1].start()].rstrip() if anchors else body.rstrip()


class LikelihoodVerifier(_ModelVerifier):
    """The reference answer's probability after the prompt and the response's reasoning, per token (RLPR / VeriFree):
    a dense reward for answers no rule can check.

    The response's own final answer is cut (at its last answer anchor) and the reference is scored in its place,
    after `prefix`. `reduce`: "mean_prob" (the mean of the tokens' probabilities, as RLPR) or "geometric" (exp of
    the mean log-probability). Status CORRECT when the score reaches `threshold`.
    """

    name = "likelihood"
    cost = 50.0
    options = {
        **BACKEND_OPTIONS,
        "prefix": Option.text("\n\nFinal answer: ", "the text between the response's reasoning and the reference"),
        "reduce": Option.choice(
            "mean_prob",
            "the score: the tokens' mean probability ('mean_prob', as RLPR) or exp of "
            "their mean log-probability ('geometric')",
            ("mean_prob", "geometric"),
            per_sample=False,
        ),
        "threshold": _THRESHOLD,
        "tail_chars": _tail_chars(6000),
        "guards": _GUARDS,
    }

    def _plan(self, sample: Sample, config: Mapping[str, Any]) -> Verdict | _Plan:
        reference = _reference_text(sample.reference)
        if reference is None:
            return Verdict.error(self.name, "no reference: the likelihood reward scores a gold answer")
        reasoning = reasoning_part(sample.response)
        if config["guards"] and is_master_key(reasoning or sample.response):
            reason = "the response is only punctuation, an opener or an answer label"
            return Verdict.incorrect(self.name, f"guard: {reason}", evidence={"guard": reason})
        tail_chars = config["tail_chars"]
        tail = ("…" if len(reasoning) > tail_chars else "") + (reasoning[-tail_chars:] if tail_chars else "")
        context = Prompt((("user", sample.prompt or NO_QUESTION), ("assistant", TAIL + config["prefix"])), tail=tail)

        def finish(answers: list[Any], described: Mapping[str, Any]) -> Verdict:
            (logprobs,) = answers
            evidence: dict[str, Any] = {"judge": described}
            if isinstance(logprobs, Failure):
                return self._failed(logprobs, evidence)
            if not logprobs:
                return Verdict.error(self.name, "the backend scored no token of the reference", evidence=evidence)
            mean_logprob = sum(logprobs) / len(logprobs)
            if config["reduce"] == "mean_prob":
                score = sum(math.exp(lp) for lp in logprobs) / len(logprobs)
            else:
                score = math.exp(mean_logprob)
            score = min(1.0, max(0.0, score))
            evidence.update({"tokens": len(logprobs), "mean_logprob": round(mean_logprob, 6)})
            return Verdict.from_bool(self.name, score >= config["threshold"],
                                     f"reference {config['reduce']} = {score:.3f} over {len(logprobs)} tokens",
                                     score=score, evidence=evidence)  # fmt: skip

        return _Plan("likelihood", (Continuation(context, reference),), finish)
