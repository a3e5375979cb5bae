"""The two math verifiers of the default cascade: `math.rule` (cheap, in-process) then `math.symbolic` (sympy).

Both find the final answer the same way (`extract_answer`) and take the same options, so a cascade passes
one set of options to both:

  ignore_think  drop `<think>` reasoning before looking for the answer (default True).
  answer_only   the response *is* the final answer (already extracted): no extraction (default False).
  fallback      what counts as the answer when nothing is anchored (no `\\boxed{}`, `<answer>`, "final answer"):
                "conclusion" (default) — "whole", else the one value stated by a concluding sentence that ends
                the response ("Therefore, there are 12 sequences.", "因此……192公斤。", no digits after it);
                "whole" — the only math segment (`$...$`, `\\(...\\)`, `\\[...\\]`) of a short response, or a
                short response (<= 60 characters) with no math at all; "none" — nothing; "last" — the last
                math segment, else the last number (Math-Verify's habit: weak, opt-in only).
  percent, rounding, list_order, degrees, min_sig_digits   the comparison policies (see `normalize.Policy`
                and `semantics`: how decimals, exact values and units compare).
  form          a form the answer must be written in besides its value (`lowest_terms`, `decimals:N`,
                `sig_figs:N`, `scientific`, `factored`, `expanded`; see `forms`), or None (default). A mapping
                reference `{"answer": ..., "form": ...}` may carry it too; the option wins.

`math.rule` never imports sympy: CORRECT for identical normalized answers or equal plain numbers in the same
unit (and equal multiple-choice letters), INCORRECT when certain (different plain numbers or letters, no
extractable answer, several different numbers), else UNDECIDED (units that differ in writing go on to
`math.symbolic`, which converts them). `math.symbolic` runs `equivalence.compare` in the worker pool
(`cpu_bound`, 5 s deadline); a parse failure is UNDECIDED so the judge can take it.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Mapping
from typing import Any

from ..errors import OptionError
from ..options import Option
from ..text import (
    Answer,
    clip,
    distinct,
    find_answers,
    find_numbers,
    last_number,
    parse_choices,
    strip_think,
)
from ..verdict import Sample, Verdict
from ..verifier import Verifier
from .forms import FORMS, NeedsSympy, check_form, check_form_option
from .normalize import (
    LIST_ORDERS,
    PERCENT_POLICIES,
    NormalForm,
    Policy,
    normalize_answer,
    numbers_match,
    other_unknowns,
    plain_number,
)
from .semantics import DEFAULT_MIN_SIG_DIGITS, MAX_SIG_DIGITS, ROUNDING_POLICIES

__all__ = ["OPTIONS", "MathRule", "MathSymbolic", "extract_answer", "gold_answer"]

FALLBACKS = ("conclusion", "whole", "none", "last")


def _is_form(value: object) -> bool:
    """Whether `value` names a form `check_form` knows (`lowest_terms`, `decimals:2`, ...)."""
    try:
        check_form_option(value, "math")
    except OptionError:
        return False
    return True


OPTIONS: Mapping[str, Option] = {
    "ignore_think": Option.flag(True, "drop <think> reasoning before looking for the answer"),
    "answer_only": Option.flag(False, "the response is the final answer already: no extraction"),
    "fallback": Option.choice(
        "conclusion",
        "the answer when nothing is anchored: the concluding sentence's value, "
        "the 'whole' short response, 'none', or the 'last' number (weak)",
        FALLBACKS,
    ),
    "percent": Option.choice(
        "gold",
        "how % compares: the gold's % decides ('gold'), x% is x/100 ('ratio'), or % is ignored ('strip')",
        PERCENT_POLICIES,
    ),
    "rounding": Option.choice(
        "digits",
        "which side may be a rounded decimal: either ('digits'), only the gold ('gold'), neither ('exact')",
        ROUNDING_POLICIES,
    ),
    "list_order": Option.choice("set", "a bare comma list is a set ('set') or a sequence ('ordered')", LIST_ORDERS),
    "degrees": Option.flag(True, "an angle in degrees matches the same angle in radians"),
    "min_sig_digits": Option.integer(
        DEFAULT_MIN_SIG_DIGITS,
        "significant digits a rounded decimal needs to match an exact value",
        maximum=MAX_SIG_DIGITS,
    ),
    "form": Option(
        None,
        "a form the answer must also be written in (lowest_terms, decimals:N, scientific, ...)",
        optional=True,
        must=f"one of {', '.join(FORMS)} (N a whole number)",
        accepts=_is_form,
    ),
}
"""The options of both math verifiers, so a cascade passes one set to both."""
MAX_ANSWERS = 100
WHOLE_MAX_CHARS = 60
SEGMENT_MAX_CHARS = 300
NO_REFERENCE = "no reference: give the gold answer as the reference"
_MISSING = frozenset({"nan", "none", "null", "n/a", "<na>"})

_FOREIGN_ANCHOR = re.compile(
    r"(?i)(?<![a-z])(?:r[ée]ponse|respuesta|resposta|risposta|antwort|jawaban|cevap)(?:\s+(?:finale|final|est|es|é|è|ist))*"
    r"\s*[:：]?\s*|(?:最终)?答案\s*(?:是|为|:|：)\s*|الإجابة\s*(?:هي)?\s*[:：]?\s*|ответ\s*[:：]?\s*"
)
_VERB = re.compile(
    r"(?i)(?<![A-Za-z'])(?:is|are|was|equals|est|es|ist|sont|son)(?![A-Za-z'])(?!\s+(?:not|pas|no|nicht)\b)"
    r"|(?<!不)是|(?<!不)为|هو|هي"
)
_CONCLUSION = re.compile(
    r"(?i)(?:^|(?<=[\s.。!！?？:：*,，、]))(?:therefore|thus|hence|so|in conclusion|consequently|finally|donc|ainsi|"
    r"en conclusion|por lo tanto|por tanto|así que|daher|also|somit|quindi|portanto|因此|所以|故|综上|结论|"
    r"لذا|لذلك|इसलिए|अतः)(?![A-Za-z])[\s,，:：*]*"
)
_WORD = re.compile(r"[^\W\d_]{3,}")
_MATHY = re.compile(
    r"[+^_!*=<>|√π]|(?<=\S)-|\\(?!d?frac|tfrac|left|right|text|mathrm|quad|,|!|;|\$|%)"
    r"|(?<![A-Za-z])(?![aAI](?![A-Za-z]))[A-Za-z](?![A-Za-z])"
)
_NEGATION = re.compile(
    r"(?i)(?<![A-Za-z])(?:not|no|never|cannot|n't|pas|nicht|kein|nunca|except|unlikely|wrong|"
    r"incorrect|false|neither|nor|impossible|maybe|perhaps|probably|possibly|unknown|"
    r"(?:less|more|greater|fewer|smaller|larger|bigger)\s+than|at\s+(?:least|most))(?![A-Za-z])"
    r"|不|没|非|ليس|नहीं"
)
"""Words that deny, doubt or bound the value next to them: a sentence with one states no answer ("not 6",
"less than 6", "any number except 6")."""
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]{2,}")


def policy_of(config: Mapping[str, Any]) -> Policy:
    return Policy(
        percent=config["percent"],
        rounding=config["rounding"],
        list_order=config["list_order"],
        degrees=config["degrees"],
        min_sig_digits=config["min_sig_digits"],
    )


# -- extraction ---------------------------------------------------------------------------------------------------


class _Next:
    """The next occurrence of `needle` at or after a position; asked with positions that only grow, so all the
    look-ups of one scan take linear time together."""

    def __init__(self, text: str, needle: str) -> None:
        self.text, self.needle, self.at = text, needle, -2

    def find(self, i: int) -> int:
        if self.at != -1 and self.at < i:
            self.at = self.text.find(self.needle, i)
        return self.at


def _math_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, content) of each math segment, left to right: `$$...$$`, `\\[...\\]`, `$...$` and
    `\\(...\\)` (the last two within a line; `\\$` is a dollar sign, not a delimiter). One linear scan: an
    unclosed opener costs no more than a closed one."""
    spans: list[tuple[int, int, str]] = []
    dollar, paren, bracket = _Next(text, "$"), _Next(text, "\\("), _Next(text, "\\[")
    double, paren_end, bracket_end = _Next(text, "$$"), _Next(text, "\\)"), _Next(text, "\\]")
    newline, closer = _Next(text, "\n"), _Next(text, "$")
    i = 0
    while True:
        starts = [j for j in (dollar.find(i), paren.find(i), bracket.find(i)) if j >= 0]
        if not starts:
            return spans
        j = min(starts)
        line_end = newline.find(j)
        line_end = len(text) if line_end < 0 else line_end
        end = -1
        if text.startswith("$$", j):
            close = double.find(j + 3)
            if close >= 0:
                spans.append((j, close + 2, text[j + 2 : close]))
                end = close + 2
            else:
                end = j + 2
        elif text[j] == "$":
            if j > 0 and text[j - 1] in "\\$":
                end = j + 1
            else:
                close = closer.find(j + 1)
                while close >= 0 and text[close - 1] == "\\":
                    close = closer.find(close + 1)
                if j + 1 < close < line_end:
                    spans.append((j, close + 1, text[j + 1 : close]))
                    end = close + 1
                else:
                    end = j + 1
        else:
            closing = (paren_end if text[j + 1] == "(" else bracket_end).find(j + 3)
            if closing >= 0 and (text[j + 1] == "[" or closing < line_end):
                spans.append((j, closing + 2, text[j + 2 : closing]))
                end = closing + 2
            else:
                end = j + 2
        i = end


def _outside_math(text: str, fill: str | None = " ") -> str:
    """`text` with each math segment replaced by `fill` (None: by as many spaces as it is long)."""
    pieces: list[str] = []
    last = 0
    for start, end, _ in _math_spans(text):
        pieces.append(text[last:start])
        pieces.append(" " * (end - start) if fill is None else fill)
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def _segments(text: str) -> list[str]:
    return [content for _, _, content in _math_spans(text)]


def _wordy(text: str) -> bool:
    """Prose rather than math: two or more words outside math segments and LaTeX commands (or CJK text)."""
    outside = re.sub(r"\\[A-Za-z]+", " ", _outside_math(text))
    return len(_WORD.findall(outside)) >= 2 or _CJK.search(outside) is not None


def refine(answer: str) -> str:
    """The value an answer sentence states ("The largest $n$ is 34" -> `34`, "Jane started 3 hours ago" -> `3`):
    after the last "is"/"是"; then its only math segment, or its only number; else the answer unchanged."""
    text = answer.strip()
    if not _wordy(text):
        return _unparen(text)
    if _NEGATION.search(_outside_math(text)):
        return answer
    outside = _outside_math(text, None)
    verbs = list(_VERB.finditer(outside))
    if verbs:
        tail = text[verbs[-1].end() :].strip()
        if tail and not _wordy(tail):
            return _one_value(tail) or _unparen(_strip_math(tail))
        if tail:
            text = tail
    return _one_value(text) or answer


def _one_value(text: str) -> str | None:
    """The only math segment of `text`, or its only number (the last `=` decides a chain); None otherwise."""
    segments = _segments(text)
    if len(segments) == 1:
        return _unparen(segments[0])
    if segments:
        return None
    text = text.replace("**", " ")  # markdown bold
    numbers = find_numbers(text)
    if len(numbers) > 1 and "=" in text:
        return _one_value(text[text.rfind("=") + 1 :])
    if numbers and len({(n.value, n.percent) for n in numbers}) == 1 and not _MATHY.search(text):
        return numbers[-1].text
    return None


def _conclusion(body: str) -> str | None:
    """The value stated by a concluding sentence ("Therefore, there are 12 ...", "因此...192公斤") that ends the
    response (no digits after it); None when there is none or it does not state exactly one value."""
    tail = body[-3_000:]
    last = None
    for m in _CONCLUSION.finditer(tail):
        last = m
    if last is None:
        return None
    rest = tail[last.end() :]
    end = re.search(r"[.!?](?=\s|$)|[。！？\n]|<\|", rest)
    sentence, after = (rest[: end.start()], rest[end.end() :]) if end else (rest, "")
    if re.search(r"\d", after) or not sentence.strip() or _NEGATION.search(sentence):
        return None
    value = refine(sentence)
    return value if value != sentence else _one_value(sentence)


def _strip_math(text: str) -> str:
    segments = _segments(text)
    return segments[0] if len(segments) == 1 and _outside_math(text, "").strip(" .,;") == "" else text


def _unparen(text: str) -> str:
    """`(35 + 70 = 105)` -> `35 + 70 = 105`: a parenthesized statement, not a tuple."""
    t = text.strip()
    if t.startswith("(") and t.endswith(")") and "=" in t and "," not in t:
        return t[1:-1].strip()
    return text


def _foreign(body: str) -> str | None:
    """An answer after a non-English answer phrase ("réponse est", "答案：", "Antwort:"), the last one."""
    last = None
    for m in _FOREIGN_ANCHOR.finditer(body[-20_000:]):
        last = m
    if last is None:
        return None
    tail = body[-20_000:][last.end() :]
    line = tail.strip().split("\n", 1)[0]
    line = re.split(r"(?<=[^\d\s])[.。!?！？](?=\s|$)|[。！？]", line, maxsplit=1)[0].strip()
    return line or None


def _unanchored(body: str, fallback: str) -> tuple[str, str] | None:
    """(answer, how) for a response with no anchored answer, per the `fallback` policy; None when there is none."""
    text = body.strip()
    if not text or fallback == "none":
        return None
    if fallback == "last":
        tail = text[-20_000:]
        segments = _segments(tail)
        if segments:
            return segments[-1], "last math segment"
        number = last_number(tail)
        return (number.text, "last number") if number is not None else None
    segments = _segments(text) if len(text) <= SEGMENT_MAX_CHARS else []
    if len(segments) == 1 and _NEGATION.search(_outside_math(text)):
        return None  # "Not $6$", "$x = 6$ is wrong": a short response that denies its only value
    if len(segments) == 1:
        return segments[0], "only math in a short response"
    if not segments and len(text) <= WHOLE_MAX_CHARS:
        return text, "whole response"
    if fallback == "conclusion":
        value = _conclusion(text)
        if value is not None:
            return value, "concluding sentence"
    return None


def extract_answer(response: str, config: Mapping[str, Any]) -> tuple[list[str], str] | str:
    """(distinct answer texts, anchor) the response commits to, or the reason there is none."""
    if config["answer_only"]:
        return [response], "answer_only"
    body = strip_think(response) if config["ignore_think"] else response
    answers: list[Answer] = find_answers(body, ignore_think=False)
    if any(a.denied for a in answers):
        return 'the response denies its own boxed answer ("not \\boxed{...}", "\\boxed{...} is wrong")'
    if answers:
        texts = [a.text if a.kind == "boxed" else refine(a.text) for a in answers]
        return distinct(texts), answers[-1].kind
    foreign = _foreign(body)
    if foreign is not None:
        return [refine(foreign)], "answer_phrase"
    found = _unanchored(body, config["fallback"])
    if found is None:
        return (
            "no final answer found: no \\boxed{}, <answer> tag or 'final answer' phrase, and the response is "
            f"not a short answer (fallback={config['fallback']!r})"
        )
    return [refine(found[0]) if found[1] == "whole response" else found[0]], found[1]


@functools.lru_cache(maxsize=4096)
def gold_answer(reference: str) -> str:
    """The gold answer inside a reference: its boxed/anchored answer(s) when it has any (joined as a list when
    there are several), else the whole reference."""
    if "\\boxed" not in reference and "\\fbox" not in reference and "answer" not in reference.lower():
        return reference
    answers = distinct(a.text for a in find_answers(reference, ignore_think=False))
    if not answers:
        return reference
    if len(answers) == 1 and _BOX_THEN_PERCENT.search(reference):
        return answers[0] + "\\%"  # "… or \\boxed{20} percent.": the gold is 20%
    return ", ".join(answers)


_BOX_THEN_PERCENT = re.compile(r"\\boxed\{[^{}]{1,40}\}\$?\s{0,3}(?:\\%|%|percent(?![A-Za-z]))\s{0,3}[.,;]?\s{0,3}$")


def _forms(answers: list[str]) -> list[NormalForm]:
    return list({f: None for f in (normalize_answer(a) for a in answers)})


def _prepare(
    verifier: Verifier, sample: Sample
) -> tuple[dict[str, Any], list[NormalForm], NormalForm, dict[str, Any]] | Verdict:
    """Options, the distinct normalized answers, the normalized gold and the evidence; or a finished verdict."""
    config = verifier.resolve(sample)
    if isinstance(config, Verdict):
        return config
    reference = sample.reference
    if isinstance(reference, Mapping):  # {"answer": gold, "form": requirement}
        if "answer" not in reference:
            return Verdict.error(verifier.name, "a mapping reference needs an 'answer' (and may give a 'form')")
        form = config["form"] if config["form"] is not None else reference.get("form")
        try:
            check_form_option(form, verifier.name)
        except OptionError as exc:
            return Verdict.error(verifier.name, str(exc))
        config = {**config, "form": form}
        reference = reference["answer"]
    if reference is None or (isinstance(reference, str) and not reference.strip()):
        return Verdict.error(verifier.name, NO_REFERENCE)
    if (isinstance(reference, float) and not math.isfinite(reference)) or str(
        reference
    ).strip().casefold() in _MISSING:  # a dataset's missing value, not an answer
        return Verdict.error(verifier.name, f"reference {str(reference)[:20]!r} is a missing value, not a gold answer")
    gold = gold_answer(str(reference))
    found = extract_answer(sample.response, config)
    if isinstance(found, str):
        return Verdict.incorrect(verifier.name, found, evidence={"response": clip(sample.response, 200)})
    answers, anchor = found
    if len(answers) > MAX_ANSWERS:
        return Verdict.incorrect(
            verifier.name,
            f"{len(answers)} different final answers: a hedge, not an answer",
            evidence={"answers": [clip(a, 100) for a in answers[:10]]},
        )
    g_form = normalize_answer(gold)
    forms = _forms(answers)
    if len(forms) > 1 and _gold_is_list(g_form):
        forms = [normalize_answer(", ".join(answers))]  # one box per element of a list answer
    evidence = {
        "answer": clip(answers[-1]) if len(answers) == 1 else [clip(a, 200) for a in answers[:10]],
        "anchor": anchor,
        "gold": clip(gold),
        "normalized_answer": forms[-1].to_dict(),
        "normalized_gold": g_form.to_dict(),
    }
    if config["form"] is not None:
        evidence["form"] = config["form"]
    return config, forms, g_form, evidence


def any_gold(verifier: Verifier, sample: Sample) -> Verdict:
    """A list of acceptable golds: CORRECT when the answer matches any of them, INCORRECT when it matches none;
    otherwise what the first gold that could not be decided said (UNDECIDED, ERROR)."""
    golds = list(sample.reference)
    if not golds or len(golds) > MAX_ANSWERS:
        return Verdict.error(verifier.name, f"a list reference needs 1 to {MAX_ANSWERS} acceptable golds")
    verdicts: list[Verdict] = []
    for index, gold in enumerate(golds):  # the first match decides: later golds are not compared
        verdict = verifier.verify(dataclasses.replace(sample, reference=gold))
        if verdict.status.value == "correct":
            evidence = {**verdict.evidence, "gold_index": index}
            return Verdict.correct(
                verifier.name, f"{verdict.reason} (acceptable gold {index + 1} of {len(golds)})", evidence=evidence
            )
        verdicts.append(verdict)
    return next((v for v in verdicts if v.status.value != "incorrect"), verdicts[-1])


def in_form(name: str, verdict: Verdict, answer: NormalForm, config: Mapping[str, Any]) -> Verdict:
    """A CORRECT verdict checked against the required form (numeric forms only, no sympy): INCORRECT with the
    reason when the answer is not written that way; UNDECIDED when only the symbolic check can tell."""
    form = config["form"]
    if form is None or verdict.status.value != "correct":
        return verdict
    try:
        problem = check_form(answer.text, form)
    except NeedsSympy:
        return Verdict.undecided(
            name, f"equal in value; the form {form!r} is left to the symbolic check", evidence=dict(verdict.evidence)
        )
    if problem is None:
        return verdict
    return Verdict.incorrect(
        name, f"equal in value but not in the required form ({form}): {problem}", evidence=dict(verdict.evidence)
    )


def _gold_is_list(gold: NormalForm) -> bool:
    from_text = gold.text.count(",") + gold.text.count(";") + len(re.findall(r"\b(?:and|or)\b", gold.text))
    return from_text > 0 or "\\pm" in gold.text


# -- the verifiers ------------------------------------------------------------------------------------------------


class MathRule(Verifier):
    """Fast math check without sympy: identical normalized answers or equal plain numbers are CORRECT;
    different plain numbers, different choice letters or no extractable answer are INCORRECT; the rest is
    UNDECIDED (for `math.symbolic`)."""

    name = "math.rule"
    domains = ("math",)
    cost = 0.3
    version = "1"
    options = OPTIONS

    def verify(self, sample: Sample) -> Verdict:
        if isinstance(sample.reference, (list, tuple)):
            return any_gold(self, sample)
        prepared = _prepare(self, sample)
        if isinstance(prepared, Verdict):
            return prepared
        config, forms, gold, evidence = prepared
        policy = policy_of(config)
        if len(forms) > 1:
            numbers = [plain_number(f) for f in forms]
            if all(n is not None and n.value is not None for n in numbers):
                first = numbers[0]
                assert first is not None and first.value is not None
                if any(
                    not numbers_match(n, n.percent or f.percent, first, first.percent or forms[0].percent, policy)
                    for n, f in zip(numbers[1:], forms[1:])
                    if n is not None and n.value is not None
                ):
                    shown = ", ".join(clip(f.text, 40) for f in forms[:5])
                    return Verdict.incorrect(self.name, f"several different final answers: {shown}", evidence=evidence)
            return Verdict.undecided(self.name, "several final answers; left to the symbolic check", evidence=evidence)
        return in_form(self.name, self._compare(forms[0], gold, policy, evidence), forms[0], config)

    def _compare(self, form: NormalForm, gold: NormalForm, policy: Policy, evidence: dict[str, Any]) -> Verdict:
        kind = form.differs_in_kind(gold)
        if kind:
            return Verdict.undecided(self.name, f"{kind}; left to the symbolic check", evidence=evidence)
        if form.same_reading(gold) or (
            form.text == gold.text and (form.percent, form.degrees) == (gold.percent, gold.degrees)
        ):
            return Verdict.correct(self.name, "identical normalized answers", evidence=evidence)
        if not form.text:
            return Verdict.incorrect(self.name, "the final answer is empty", evidence=evidence)
        pn, gn = plain_number(form), plain_number(gold)
        if pn is not None and gn is not None and pn.value is not None and gn.value is not None:
            if other_unknowns(form, gold):
                return Verdict.incorrect(self.name, "the answer gives another unknown than the gold", evidence=evidence)
            ok = numbers_match(pn, form.percent or pn.percent, gn, gold.percent or gn.percent, policy)
            reason = f"{clip(pn.text, 40)} {'equals' if ok else 'differs from'} {clip(gn.text, 40)}"
            return Verdict.from_bool(self.name, ok, reason, evidence=evidence)
        letter = _gold_choice(gold.text)
        if letter is not None:
            letters = parse_choices(form.text, whole=True)
            if letters:
                ok = letters == [letter]
                return Verdict.from_bool(self.name, ok, f"choice {'/'.join(letters)} vs {letter}", evidence=evidence)
        return Verdict.undecided(
            self.name, "not a plain number or identical text; left to the symbolic check", evidence=evidence
        )


def _gold_choice(text: str) -> str | None:
    m = re.fullmatch(r"\(?([A-J])\)?[.:]?", text.strip())
    return m.group(1) if m else None


class MathSymbolic(Verifier):
    """Symbolic equivalence with sympy (`equivalence.compare`), in the killable worker pool with a deadline."""

    name = "math.symbolic"
    domains = ("math",)
    cost = 10.0
    version = "1"
    options = OPTIONS
    cpu_bound = True
    timeout = 5.0

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Unpickled in a worker: import sympy and the parser now, while the pool is "loading" the verifier, so
        # the import does not eat into the first sample's deadline.
        self.__dict__.update(state)
        from . import equivalence  # noqa: F401

    def verify(self, sample: Sample) -> Verdict:
        from .equivalence import compare

        if isinstance(sample.reference, (list, tuple)):
            return any_gold(self, sample)
        prepared = _prepare(self, sample)
        if isinstance(prepared, Verdict):
            return prepared
        config, forms, gold, evidence = prepared
        policy = policy_of(config)
        if len(forms) > 1:
            for other in forms[1:]:
                same = compare(other.text, forms[0].text, policy=policy) if not _marked(other, forms[0]) else None
                if same is None or same.status.value != "correct":
                    shown = ", ".join(clip(f.text, 40) for f in forms[:5])
                    if same is not None and same.status.value == "incorrect":
                        return Verdict.incorrect(
                            self.name, f"several different final answers: {shown}", evidence=evidence
                        )
                    return Verdict.undecided(
                        self.name, f"several final answers that may differ: {shown}", evidence=evidence
                    )
        result = compare(_marked_text(forms[-1]), _marked_text(gold), policy=policy)
        evidence.update({k: v for k, v in result.evidence.items() if k.startswith("parsed")})
        verdict = Verdict(
            result.status, 1.0 if result.status.value == "correct" else 0.0, self.name, result.reason, evidence=evidence
        )
        checked = in_form(self.name, verdict, forms[-1], config)
        if checked.status.value != "undecided" or verdict.status.value != "correct":
            return checked
        from .forms import check_expression_form
        from .parse import Parsed, parse_math

        parsed = parse_math(forms[-1].text)
        problem = check_expression_form(parsed.value, config["form"]) if isinstance(parsed, Parsed) else None
        if problem is None:
            return verdict
        return Verdict.incorrect(
            self.name, f"equal in value but not in the required form ({config['form']}): {problem}", evidence=evidence
        )


def _marked(a: NormalForm, b: NormalForm) -> bool:
    """Two answers of one response whose markers differ (a unit or label on one side only does not count)."""
    return a.percent != b.percent or a.degrees != b.degrees or bool(a.differs_in_kind(b))


def _marked_text(form: NormalForm) -> str:
    """A normal form back as answer text, its markers restored (compare normalizes again: idempotent)."""
    unit = (
        f" \\mathrm{{{form.unit.text}}}" if form.unit is not None else f" \\text{{ {form.label}}}" if form.label else ""
    )
    return form.text + ("\\%" if form.percent else "") + ("^\\circ" if form.degrees else "") + unit
