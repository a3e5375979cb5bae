"""Built-in plugin: rule-based verifiers (string, numeric, multiple choice, regex, format, length, checklist, BLEU).

All of them are cheap, deterministic and total: any response text gives a verdict, never an exception. A bad
option value raises `OptionError` at construction, or gives an ERROR verdict when it arrives in a sample's
metadata; a missing reference is an ERROR verdict ("no reference"), never a silent 0. Text normalization and
answer extraction live in `verifiers.text`, shared with the math verifier.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .calls import gather
from .composite import CompositeVerifier, run_named, unique_labels
from .errors import OptionError
from .hookspecs import hookimpl
from .math.semantics import (
    DEFAULT_MIN_SIG_DIGITS,
    MAX_SIG_DIGITS,
    Written,
    agree,
    aligned,
    order_of_magnitude,
    scientific,
    written,
)
from .numbers import DASHES
from .options import Option, is_number, need
from .text import (
    MAX_NUMBER_DIGITS,
    Answer,
    Number,
    clip,
    distinct,
    find_answers,
    find_numbers,
    last_number,
    normalize_text,
    parse_choices,
    parse_number,
    strip_latex_wrappers,
    strip_think,
)
from .verdict import Sample, Status, StepVerdict, Verdict
from .verifier import PartRunner, Verifier

__all__ = [
    "ExactMatch",
    "NormalizedMatch",
    "NumericMatch",
    "ChoiceMatch",
    "RegexMatch",
    "FormatCheck",
    "LengthPenalty",
    "Checklist",
    "BleuScore",
    "MAX_ANSWERS",
]

MAX_ANSWERS = 100
"""More different anchored answers than this is a hedge: INCORRECT without comparing them one by one."""

MAX_ANSWER_CHARS = 10_000
"""An anchored answer longer than this is not read as a number or a choice."""

NO_REFERENCE = "no reference to compare against"


REFERENCES_VERSION = "1"
"""The version of the verifiers that read references with `_references`: 1 since a mapping is no text to compare
with (verl's `{"target": [...]}` gives its targets), so verdicts cached before are not reused."""


def _references(reference: Any) -> list[str]:
    """A string reference or a list of acceptable ones, as strings; verl's QA form `{"target": [...]}` gives its
    targets, any other mapping none (it is not a text to compare with)."""
    if isinstance(reference, Mapping):
        return _references(reference.get("target"))
    if reference is None:
        return []
    if isinstance(reference, (list, tuple)):
        return [str(r) for r in reference if r is not None]
    return [str(reference)]


def _too_many(name: str, answers: list[str]) -> Verdict:
    return Verdict.incorrect(
        name,
        f"{len(answers)} different final answers (more than {MAX_ANSWERS}): a hedge, not an answer",
        evidence={"answers": [clip(a, 100) for a in answers[:10]]},
    )


def _status_for(score: float) -> Status:
    if score >= 1.0:
        return Status.CORRECT
    if score <= 0.0:
        return Status.INCORRECT
    return Status.PARTIAL


# -- exact and normalized strings -----------------------------------------------------------------------------


class ExactMatch(Verifier):
    """The response equals the reference (or one of a list of references) exactly, after stripping outer whitespace."""

    name = "exact"
    version = REFERENCES_VERSION
    cost = 0.1
    options = {"strip": Option.flag(True, "strip outer whitespace from the response and the references first")}

    def verify(self, sample: Sample) -> Verdict:
        config = self.resolve(sample)
        if isinstance(config, Verdict):
            return config
        refs = _references(sample.reference)
        if not refs:
            return Verdict.error(self.name, NO_REFERENCE)
        strip = config["strip"]
        response = sample.response.strip() if strip else sample.response
        ok = any(response == (r.strip() if strip else r) for r in refs)
        evidence = {"response": clip(response), "references": [clip(r) for r in refs]}
        return Verdict.from_bool(
            self.name, ok, "exact match" if ok else "no reference matches exactly", evidence=evidence
        )


_NORMALIZE_FLAGS = ("casefold", "whitespace", "unicode", "latex", "quotes", "punctuation")


class NormalizedMatch(Verifier):
    """The final answer equals a reference after normalization (case, whitespace, unicode, LaTeX wrappers, quotes).

    The answer is the anchored one (`\\boxed{}`, `<answer>`, "the answer is ...", see `verifiers.text.find_answers`)
    when there is one, else the whole response (reasoning in `<think>` dropped). Several different anchored
    answers are INCORRECT. Each normalization step has an option to switch it off.
    """

    name = "normalized"
    version = REFERENCES_VERSION
    domains = ("text",)
    cost = 0.2
    options = {
        "extract": Option.flag(True, "compare the anchored final answer when there is one, else the whole response"),
        "ignore_think": Option.flag(True, "drop <think> reasoning before looking for the answer"),
        "casefold": Option.flag(True, "ignore letter case (Unicode case folding)"),
        "whitespace": Option.flag(True, "collapse runs of whitespace"),
        "unicode": Option.flag(True, "apply Unicode NFKC (full-width letters, ligatures, compatibility forms)"),
        "latex": Option.flag(True, "strip LaTeX wrappers such as $...$, \\text{} and \\boxed{}"),
        "quotes": Option.flag(True, "drop surrounding quotes, backticks and **"),
        "punctuation": Option.flag(True, "drop trailing .,;:!?"),
    }

    def verify(self, sample: Sample) -> Verdict:
        config = self.resolve(sample)
        if isinstance(config, Verdict):
            return config
        refs = _references(sample.reference)
        if not refs:
            return Verdict.error(self.name, NO_REFERENCE)
        flags = {k: config[k] for k in _NORMALIZE_FLAGS}
        norm_refs = distinct(normalize_text(r, **flags) for r in refs)
        body = strip_think(sample.response) if config["ignore_think"] else sample.response
        answers = find_answers(body, ignore_think=False) if config["extract"] else []
        if answers:
            raw = distinct(a.text for a in answers)
            if len(raw) > MAX_ANSWERS:
                return _too_many(self.name, raw)
            candidates = distinct(normalize_text(a, **flags) for a in raw)
            anchor = answers[-1].kind
            if len(candidates) > 1:
                return Verdict.incorrect(
                    self.name,
                    f"several different final answers: {', '.join(repr(clip(c, 60)) for c in candidates[:5])}",
                    evidence={"answers": [a.to_dict() for a in answers[:10]], "normalized_answers": candidates[:10]},
                )
            answer, candidate = raw[-1], candidates[0]
        else:
            answer, candidate, anchor = body, normalize_text(body, **flags), "whole response"
        ok = candidate in norm_refs
        evidence = {
            "answer": clip(answer),
            "anchor": anchor,
            "normalized_answer": clip(candidate),
            "normalized_references": [clip(r) for r in norm_refs],
        }
        reason = "normalized answer matches a reference" if ok else "normalized answer matches no reference"
        return Verdict.from_bool(self.name, ok, reason, evidence=evidence)


# -- numbers --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Value:
    """A number read from an answer or a reference: the token as `verifiers.text` read it (its `value` is None for
    an exponent beyond `MAX_EXPONENT`) and the same number for `semantics.agree` (a huge or tiny one kept as
    mantissa and power of ten, never a giant integer)."""

    number: Number
    written: Written

    @property
    def key(self) -> tuple[Any, ...]:
        """Equal for equal numbers (with the same percent sign), whatever their notation."""
        value, shift = self.written.value, self.written.shift
        if shift:
            while value != 0 and value.denominator == 1 and value.numerator % 10 == 0:
                value, shift = value / 10, shift + 1
        return value, shift, self.number.percent

    def to_dict(self) -> dict[str, object]:
        return {"text": clip(self.number.text, 200), "value": _shown(self.written), "percent": self.number.percent}


def _shown(w: Written) -> str:
    """The value for evidence, without printing a number too big for `str` (Python's int digit limit)."""
    value = w.value
    if max(value.numerator.bit_length(), value.denominator.bit_length()) > 10_000:
        order = (abs(value).numerator.bit_length() - value.denominator.bit_length()) * 0.30103 + w.shift
        return f"{'-' if value < 0 else ''}about 10^{round(order)}"
    return f"{value} x 10^{w.shift}" if w.shift else str(value)


_HUGE_EXPONENT = re.compile(r"(?:[0-9.][ \t]*[eE]|10[ \t]*\^)[ \t]*\{?[ \t]*[-+−]?[ \t]*[0-9]{7,}")
"""An exponent of 7 digits or more (`1e1000000`, `10^{1000000}`): a token without a value in `verifiers.text`, read
here as the whole answer (mantissa and power of ten) or not at all."""
_LEADING_NAME = re.compile(r"^[A-Za-z][ \t]*=[ \t]*")


def _value(number: Number) -> _Value | None:
    """The number of a token, also when its exponent is out of the range of `verifiers.text`; None if unreadable."""
    if number.value is not None:
        return _Value(number, written(number.text, number.value))
    huge = scientific(number.text)
    return None if huge is None else _Value(number, huge)


def _huge_number(text: str) -> _Value | None:
    """`text` read as one number with a huge exponent (`1e100000000`, `$2 \\times 10^{-7777777}$`, `x = 1e9999999.`)."""
    if len(text) > 4 * MAX_NUMBER_DIGITS:
        return None
    bare = _LEADING_NAME.sub("", strip_latex_wrappers(text).strip().strip("*").strip()).rstrip(".,").strip()
    huge = scientific(bare)
    if huge is None:
        return None
    return _Value(Number(bare, None, bare.endswith("%")), huge)  # `\\%` and `%` both end with `%`


def _reference_number(value: Any) -> _Value | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        try:
            text = str(value)
        except ValueError:  # over Python's int-to-str digit limit: an exact integer all the same
            text = f"<integer of {value.bit_length()} bits>"
        return _Value(Number(text, Fraction(value)), Written(Fraction(value)))
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return _Value(Number(repr(value), Fraction(repr(value))), written(repr(value), Fraction(repr(value))))
    if isinstance(value, Fraction):
        return _Value(Number(str(value), value), Written(value))
    if isinstance(value, str):
        if _HUGE_EXPONENT.search(value):
            return _huge_number(value)
        number = parse_number(value)
        if number is None:
            return _huge_number(value)  # an exponent over `MAX_EXPONENT` (`1e20000`)
        return _value(number)
    return None


_NOT_NUMBER = re.compile(
    r"\\[dtc]?frac\s*\{[^{}]*\}\s*\{[^{}]*\}|[0-9][0-9,.]*(?:[eE][-+]?[0-9]+)?|^\s*[-+]|"
    r"\\times\s*10\s*\^\s*\{?[-+]?[0-9]+\}?|\\(?:text|mathrm|boxed)\b|\\[,;:! ]|\\%|\$"
    r"|[A-Za-z]\}?\s*\^\s*\{?[23]\}?"
)  # a unit's power: `\text{ cm}^2`
_OPERATION = re.compile(
    r"[-+*/^=<>!√×÷±]|\\(?:sqrt|pm|mp|neq?|cdot|times|div|pi|infty|[lg]eq?|[lg]t|approx|sim)"
    r"(?![A-Za-z])|(?i:(?<![A-Za-z])(?:not|no|never|except|wrong|incorrect|false|thousand|million|"
    r"billion|dozen|squared|cubed|times|plus|minus|over)(?![A-Za-z]))|(?<![A-Za-z])[ij](?![A-Za-z])"
)
"""What makes an answer more than a number: an operator, a relation, a function, a scaling or denying word."""
_DASHED = re.compile(rf"[{DASHES}][ \t]*[0-9.]")
"""A dash before a number (`–5`, `3–5`): never a sign (see `verifiers.numbers`), so not one number."""


class NumericMatch(Verifier):
    """The final answer is a number equal to the reference (fractions, percent, 1e3, 1,234).

    The answer is the anchored one (`\\boxed{}`, `<answer>`, "the answer is ...") or the whole response when it
    is just a number; with `fallback="last_number"` the last number of unanchored text (weak: opt-in only).
    Values are exact fractions compared by the one number rule of `verifiers.math.semantics`: exact values must be
    equal (`1000000008` is not `1000000007`), a decimal must be the other value rounded to its last place with
    `min_sig_digits` significant digits (`0.667` is 2/3, `0.666` is not). A huge or tiny exponent (`1e5000`,
    `1e-100000000`) is compared as mantissa and power of ten, never expanded. A tolerance is opt-in:
    `|a - b| <= max(rel_tol * max(|a|, |b|), abs_tol)` also passes when `rel_tol` or `abs_tol` is set. `percent`:
    when exactly one side carries `%`, "strip" reads 50% as 50, "ratio" as 0.5, "both" accepts either; 0.5 and
    50 without `%` never match. An answer holding several different numbers ("7 or 8"), or several anchored
    answers that differ, is INCORRECT. The reference may be a number, a numeric string or a list of them.
    """

    name = "numeric"
    domains = ("numeric",)
    cost = 0.2
    options = {
        "rel_tol": Option.number(
            0.0, "opt-in relative tolerance: |a - b| <= rel_tol * max(|a|, |b|) also passes", minimum=0.0
        ),
        "abs_tol": Option.number(0.0, "opt-in absolute tolerance: |a - b| <= abs_tol also passes", minimum=0.0),
        "min_sig_digits": Option.integer(
            DEFAULT_MIN_SIG_DIGITS,
            "significant digits a rounded decimal needs to match an exact value (0.667 is 2/3 at 3)",
            maximum=MAX_SIG_DIGITS,
        ),
        "percent": Option.choice(
            "both",
            "when one side carries %: 'strip' reads 50% as 50, 'ratio' as 0.5, 'both' accepts either",
            ("both", "strip", "ratio"),
        ),
        "fallback": Option.choice(
            "none",
            "'last_number': with nothing anchored, the last number is the answer (weak: opt-in only)",
            ("none", "last_number"),
        ),
        "ignore_think": Option.flag(True, "drop <think> reasoning before looking for the answer"),
    }

    def verify(self, sample: Sample) -> Verdict:
        config = self.resolve(sample)
        if isinstance(config, Verdict):
            return config
        raw_refs = sample.reference if isinstance(sample.reference, (list, tuple)) else [sample.reference]
        raw_refs = [r for r in raw_refs if r is not None]
        if not raw_refs:
            return Verdict.error(self.name, NO_REFERENCE)
        refs: list[_Value] = []
        for raw in raw_refs:
            number = _reference_number(raw)
            if number is None:
                return Verdict.error(self.name, f"reference {clip(_repr(raw), 100)} is not a number")
            refs.append(number)
        found = self._answer(sample.response, config)
        if isinstance(found, Verdict):
            return found
        number, answer, anchor = found
        matched = next((r for r in refs if self._equal(number, r, config)), None)
        evidence = {
            "answer": clip(answer),
            "anchor": anchor,
            "value": number.to_dict(),
            "references": [r.to_dict() for r in refs],
            "percent_policy": config["percent"],
        }
        shown = clip(number.number.text, 60)
        if matched is not None:
            return Verdict.correct(
                self.name, f"{shown} equals reference {clip(matched.number.text, 60)}", evidence=evidence
            )
        return Verdict.incorrect(self.name, f"{shown} equals no reference", evidence=evidence)

    def _answer(self, response: str, config: Mapping[str, Any]) -> tuple[_Value, str, str] | Verdict:
        """The single number the response commits to, with its answer text and anchor; or an INCORRECT verdict."""
        body = strip_think(response) if config["ignore_think"] else response
        answers = find_answers(body, ignore_think=False)
        if not answers:
            whole = self._whole(body) if len(body) <= MAX_ANSWER_CHARS else None
            if whole is not None:
                return whole, body.strip(), "whole response"
            if config["fallback"] == "last_number":
                last = last_number(body)
                if last is not None and not _HUGE_EXPONENT.search(body):
                    value = _value(last)
                    if value is not None:
                        return value, last.text, "last number"
            return Verdict.incorrect(
                self.name,
                "no final answer found: no \\boxed{}, <answer> tag or 'the answer is' phrase, and the response is "
                "not just a number",
                evidence={"response": clip(body, 200)},
            )
        raw = distinct(a.text for a in answers)
        if len(raw) > MAX_ANSWERS:
            return _too_many(self.name, raw)
        values: dict[Any, _Value] = {}
        for text in raw:
            numbers = self._numbers(text)
            if isinstance(numbers, str):
                return Verdict.incorrect(self.name, numbers, evidence={"answers": [a.to_dict() for a in answers[:10]]})
            values.setdefault(numbers.key, numbers)
        if len(values) > 1:
            shown = ", ".join(v.number.text for v in list(values.values())[:5])
            return Verdict.incorrect(
                self.name,
                f"several different final answers: {shown}",
                evidence={"answers": [a.to_dict() for a in answers[:10]]},
            )
        (number,) = values.values()
        return number, raw[-1], answers[-1].kind

    @staticmethod
    def _whole(body: str) -> _Value | None:
        """The response read as just one number, or None."""
        if _HUGE_EXPONENT.search(body):
            return _huge_number(body)
        whole = parse_number(body)
        return _value(whole) if whole is not None else _huge_number(body)

    @staticmethod
    def _numbers(text: str) -> _Value | str:
        """The one number in an answer text, or the reason there is not exactly one."""
        shown = repr(clip(text.strip(), 80))
        if len(text) > MAX_ANSWER_CHARS:
            return f"final answer is {len(text)} characters long; not read as a number"
        if _HUGE_EXPONENT.search(text):  # a power of ten `verifiers.text` cannot hold: the whole answer or nothing
            huge = _huge_number(text)
            return huge if huge is not None else f"final answer {shown} is not one number in scientific notation"
        numbers = find_numbers(text)
        if not numbers:
            return f"final answer {shown} holds no number"
        values = [_value(n) for n in numbers]
        if any(v is None for v in values):
            return f"final answer {shown} is out of range or divides by zero"
        if len({v.key for v in values if v is not None}) > 1:
            return f"final answer {shown} holds several different numbers"
        if len(numbers) > 1 or _OPERATION.search(_NOT_NUMBER.sub(" ", text)) or _DASHED.search(text):
            return f"final answer {shown} is an expression or a statement, not one number"
        assert values[0] is not None
        return values[0]

    @staticmethod
    def _equal(answer: _Value, reference: _Value, config: Mapping[str, Any]) -> bool:
        rel, abs_ = Fraction(config["rel_tol"]), Fraction(config["abs_tol"])

        def factors(n: Number, other: Number) -> list[Fraction]:
            """How `n` may be read: as written, or its `%` as a ratio (when only `n` carries one)."""
            if not n.percent or other.percent:
                return [Fraction(1)]
            return {"strip": [Fraction(1)], "ratio": [Fraction(1, 100)], "both": [Fraction(1), Fraction(1, 100)]}[
                config["percent"]
            ]

        for fa in factors(answer.number, reference.number):
            for fb in factors(reference.number, answer.number):
                a, b = answer.written.scaled(fa), reference.written.scaled(fb)
                if agree(a, b, min_sig=config["min_sig_digits"]):
                    return True
                if (rel or abs_) and _within(a, b, rel, abs_):
                    return True
        return False


def _within(a: Written, b: Written, rel: Fraction, abs_: Fraction) -> bool:
    """|a - b| <= max(rel * max(|a|, |b|), abs_), exact unless one number dwarfs the other (more than
    `MAX_ORDER_GAP` orders): then the smaller only counts for its sign, and a case too close to call fails."""
    pair = aligned(a, b)
    if pair is None:

        def size(w: Written) -> float:
            return -math.inf if w.value == 0 else order_of_magnitude(w)

        big, small = (a, b) if size(a) > size(b) else (b, a)
        opposite = small.value != 0 and (small.value < 0) != (big.value < 0)
        if rel > 1 or (rel == 1 and not opposite):  # rel > 1 is at least 1 + 2**-52 as a float: beyond the gap
            return True
        if abs_ == 0:
            return False
        magnitude = Written(abs(big.value), None, 0, big.shift)
        return _at_most(magnitude.scaled(Fraction(2)) if opposite else magnitude, abs_)
    x, y, scale = pair
    diff = abs(x.value - y.value)
    if diff <= rel * max(abs(x.value), abs(y.value)):
        return True
    return abs_ != 0 and _at_most(Written(diff, None, 0, scale), abs_)


def _at_most(x: Written, y: Fraction) -> bool:
    """Whether x <= y for x >= 0, without building x when its exponent is huge."""
    pair = aligned(x, Written(y))
    if pair is not None:
        return pair[0].value <= pair[1].value
    return x.value == 0 or order_of_magnitude(x) < math.log10(y)


def _repr(value: Any) -> str:
    try:
        return repr(value)
    except ValueError:  # an int over Python's int-to-str digit limit
        return f"<integer of {value.bit_length()} bits>"


# -- multiple choice ------------------------------------------------------------------------------------------

_OPTION_LINE = re.compile(r"[\s*_]{0,4}\(?([A-Z])[).:][ \t]")


class ChoiceMatch(Verifier):
    """The multiple-choice letter given as the final answer (A–J) is the reference letter.

    Read from "the answer is (B)", "Answer: B", `\\boxed{B}`, `\\boxed{\\text{B}}`, or a response that is just
    "B", "(B)", "B." or "**B**" (or one line "B) text"). Only capital letters from `choices` count, and an
    unanchored "A" in prose is an article, not a choice. Several different letters as final answers ("A or B",
    two boxes) are INCORRECT. The reference is "B", "(B)" or a list of letters: with `multi=False` any one of
    them is accepted; with `multi=True` the response must name exactly that set.
    """

    name = "choice"
    version = REFERENCES_VERSION
    domains = ("multiple_choice",)
    cost = 0.2
    options = {
        "choices": Option(
            "ABCDEFGHIJ",
            "the letters that count as choices",
            kind="str",
            must="a string of distinct capital letters such as 'ABCD'",
            accepts=lambda v: re.fullmatch(r"[A-Z]+", v) is not None and len(set(v)) == len(v),
        ),
        "multi": Option.flag(False, "the response must name exactly the reference's set of letters (else any one)"),
        "ignore_think": Option.flag(True, "drop <think> reasoning before looking for the answer"),
    }

    def verify(self, sample: Sample) -> Verdict:
        config = self.resolve(sample)
        if isinstance(config, Verdict):
            return config
        choices = config["choices"]
        gold = self._gold(sample.reference, choices)
        if isinstance(gold, Verdict):
            return gold
        body = strip_think(sample.response) if config["ignore_think"] else sample.response
        answers = find_answers(body, ignore_think=False)
        letters, anchor = self._letters(body, answers, choices)
        evidence = {
            "letters": letters if isinstance(letters, list) else [],
            "anchor": anchor,
            "answers": [a.to_dict() for a in answers[:10]],
            "reference": sorted(gold),
        }
        if isinstance(letters, str):
            return Verdict.incorrect(self.name, letters, evidence=evidence)
        if not letters:
            return Verdict.incorrect(self.name, "no choice found", evidence=evidence)
        if config["multi"]:
            ok = set(letters) == gold
            reason = f"chose {', '.join(sorted(letters))}; expected {', '.join(sorted(gold))}"
            return Verdict.from_bool(self.name, ok, reason, evidence=evidence)
        if len(letters) > 1:
            return Verdict.incorrect(
                self.name, f"several different choices given: {', '.join(letters)}", evidence=evidence
            )
        ok = letters[0] in gold
        return Verdict.from_bool(
            self.name,
            ok,
            f"chose {letters[0]}; {'correct' if ok else 'expected ' + ' or '.join(sorted(gold))}",
            evidence=evidence,
        )

    def _gold(self, reference: Any, choices: str) -> set[str] | Verdict:
        refs = _references(reference)
        if not refs:
            return Verdict.error(self.name, NO_REFERENCE)
        gold: set[str] = set()
        for ref in refs:
            ref = ref.strip()
            letters = parse_choices(ref.upper() if len(ref) <= 3 else ref, choices, whole=True)
            if not letters:
                return Verdict.error(
                    self.name, f"reference {clip(ref, 60)!r} is not a choice among {', '.join(choices)}"
                )
            gold.update(letters)
        return gold

    @staticmethod
    def _letters(body: str, answers: list[Answer], choices: str) -> tuple[list[str] | str, str]:
        """The distinct letters given as the final answer with the anchor kind, or a reason string."""
        if answers:
            raw = distinct(a.text for a in answers)
            if len(raw) > MAX_ANSWERS:
                return f"{len(raw)} different final answers: a hedge, not an answer", answers[-1].kind
            per_answer = [parse_choices(text, choices) for text in raw]
            if any(not letters for letters in per_answer):
                if len(raw) == 1:
                    return f"no choice found in the final answer {clip(raw[0].strip(), 60)!r}", answers[-1].kind
                return "several different final answers, not all of them a choice", answers[-1].kind
            return distinct(letter for letters in per_answer for letter in letters), answers[-1].kind
        stripped = body.strip()
        if len(stripped) > MAX_ANSWER_CHARS:
            return [], "none"
        letters = parse_choices(stripped, choices, whole=True)
        if letters:
            return letters, "whole response"
        line = _OPTION_LINE.match(stripped)
        if line and "\n" not in stripped and len(stripped) <= 300 and line.group(1) in choices:
            return [line.group(1)], "option line"
        return [], "none"


# -- regex ----------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _compile(pattern: str, flags: int) -> re.Pattern[str]:
    return re.compile(pattern, flags)


def regex_flags(ignore_case: bool = False, multiline: bool = False, dotall: bool = False) -> int:
    return (re.IGNORECASE if ignore_case else 0) | (re.MULTILINE if multiline else 0) | (re.DOTALL if dotall else 0)


def compile_regex(pattern: Any, flags: int = 0) -> re.Pattern[str] | str:
    """The compiled pattern (cached), or a message saying why it is not a usable regex."""
    if not isinstance(pattern, str):
        return f"regex must be a string, got {type(pattern).__name__}"
    try:
        return _compile(pattern, flags)
    except (re.error, RecursionError, OverflowError, ValueError) as exc:
        return f"invalid regex {clip(pattern, 100)!r}: {exc}"


class RegexMatch(Verifier):
    """The response matches a regex: the reference (or a list: any of them), or option `pattern`.

    mode "search" (anywhere) or "fullmatch" (the whole response). An invalid pattern is an ERROR verdict.
    Guard: Python's `re` has no timeout, so a response longer than `max_chars` is INCORRECT without running
    the pattern, and a pattern that backtracks catastrophically is the pattern author's to avoid; to bound
    untrusted patterns, run with `verify_batch(..., timeout=seconds)` (worker process with a hard deadline).
    """

    name = "regex"
    cost = 0.1
    timeout = 10.0
    options = {
        "pattern": Option.text(
            None,
            "the regex; None: the reference is the regex (or a list of them)",
            optional=True,
            must="a regex string",
        ),
        "mode": Option.choice(
            "search", "'search': anywhere in the response; 'fullmatch': the whole response", ("search", "fullmatch")
        ),
        "ignore_case": Option.flag(False, "match regardless of case (re.IGNORECASE)"),
        "multiline": Option.flag(False, "^ and $ match at every line (re.MULTILINE)"),
        "dotall": Option.flag(False, ". matches newlines too (re.DOTALL)"),
        "max_chars": Option.integer(1_000_000, "a longer response is INCORRECT without running the pattern"),
    }

    def verify(self, sample: Sample) -> Verdict:
        config = self.resolve(sample)
        if isinstance(config, Verdict):
            return config
        patterns = [config["pattern"]] if config["pattern"] is not None else _regex_references(sample.reference)
        if not patterns:
            return Verdict.error(self.name, "no reference: give the regex as the reference or option 'pattern'")
        flags = regex_flags(config["ignore_case"], config["multiline"], config["dotall"])
        compiled = []
        for pattern in patterns:
            result = compile_regex(pattern, flags)
            if isinstance(result, str):
                return Verdict.error(self.name, result)
            compiled.append(result)
        response = sample.response
        if len(response) > config["max_chars"]:
            return Verdict.incorrect(
                self.name,
                f"response is {len(response)} characters, over max_chars={config['max_chars']}; pattern not run",
                evidence={"length": len(response)},
            )
        for regex in compiled:
            m = regex.fullmatch(response) if config["mode"] == "fullmatch" else regex.search(response)
            if m is not None:
                return Verdict.correct(
                    self.name,
                    f"{config['mode']} of {clip(regex.pattern, 80)!r} matched",
                    evidence={"pattern": clip(regex.pattern), "match": clip(m.group()), "span": list(m.span())},
                )
        return Verdict.incorrect(
            self.name,
            f"no pattern {'fully ' if config['mode'] == 'fullmatch' else ''}matched",
            evidence={"patterns": [clip(p.pattern) for p in compiled], "mode": config["mode"]},
        )


def _regex_references(reference: Any) -> list[Any]:
    if reference is None:
        return []
    return list(reference) if isinstance(reference, (list, tuple)) else [reference]


# -- tag structure --------------------------------------------------------------------------------------------

_TAG_NAME = re.compile(r"[A-Za-z][\w.:-]{0,63}")


class FormatCheck(Verifier):
    """The response has the tag structure, e.g. `<think>…</think><answer>…</answer>`; one step per tag.

    strict (default): the response is exactly the `tags`, in order, each exactly once, with nothing but
    whitespace outside them. Non-strict: each tag appears exactly once (one open, one close) and in order; other
    text may surround them. Score 1 when every tag passes, else 0. Evidence holds each tag's content.
    """

    name = "format"
    cost = 0.1
    options = {
        "tags": Option(
            ("think", "answer"),
            "the tags the response must hold, in this order",
            must="a non-empty list of distinct tag names such as ['think', 'answer']",
            accepts=lambda v: (
                isinstance(v, (list, tuple))
                and len(v) > 0
                and all(isinstance(t, str) and _TAG_NAME.fullmatch(t) for t in v)
                and len(set(v)) == len(v)
            ),
        ),
        "strict": Option.flag(True, "nothing but the tags and whitespace (else other text may surround them)"),
    }

    def verify(self, sample: Sample) -> Verdict:
        config = self.resolve(sample)
        if isinstance(config, Verdict):
            return config
        tags, strict, text = list(config["tags"]), config["strict"], sample.response
        # str.count / str.find run at C speed; "<t>" never occurs inside "<u>" for another name u.
        opens = {t: text.count(f"<{t}>") for t in tags}
        closes = {t: text.count(f"</{t}>") for t in tags}
        first_open = {t: (i, i + len(t) + 2) for t in tags if (i := text.find(f"<{t}>")) >= 0}
        first_close = {t: (i, i + len(t) + 3) for t in tags if (i := text.find(f"</{t}>")) >= 0}
        steps: list[StepVerdict] = []
        contents: dict[str, str | None] = {}
        previous_end: int | None = 0  # where the previous tag closed (None: unknown, it failed)
        for i, tag in enumerate(tags):
            problems = []
            if opens[tag] != 1 or closes[tag] != 1:
                problems.append(f"<{tag}> opens {opens[tag]}x and closes {closes[tag]}x (want 1x each)")
            elif first_close[tag][0] < first_open[tag][1]:
                problems.append(f"</{tag}> comes before <{tag}>")
            if not problems:
                start, end = first_open[tag][0], first_close[tag][1]
                contents[tag] = clip(text[first_open[tag][1] : first_close[tag][0]])
                if previous_end is not None and i > 0 and start < previous_end:
                    problems.append(f"<{tag}> is not after </{tags[i - 1]}> (wrong order)")
                if strict and previous_end is not None and text[previous_end:start].strip():
                    where = "before the first tag" if i == 0 else f"between </{tags[i - 1]}> and <{tag}>"
                    problems.append(f"text {where}")
                if strict and i == len(tags) - 1 and text[end:].strip():
                    problems.append(f"text after </{tag}>")
                previous_end = end
            else:
                contents[tag] = None
                previous_end = None
            ok = not problems
            steps.append(
                StepVerdict(
                    tag,
                    Status.CORRECT if ok else Status.INCORRECT,
                    1.0 if ok else 0.0,
                    detail="ok" if ok else "; ".join(problems),
                )
            )
        evidence = {"tags": tags, "strict": strict, "contents": contents}
        failed = [s for s in steps if s.status is not Status.CORRECT]
        if not failed:
            return Verdict.correct(self.name, "format ok", steps=steps, evidence=evidence)
        reason = "; ".join(s.detail for s in failed)
        return Verdict.incorrect(self.name, reason, steps=steps, evidence=evidence)


# -- length ---------------------------------------------------------------------------------------------------


class LengthPenalty(Verifier):
    """Length reward in [0, 1]: soft overlong punishment (DAPO) and penalties for short or off-target length.

    L = length in `unit` ("chars", or "words" = whitespace-separated). The score is the product of the factors
    whose options are set:
      max_length M, buffer B:  1 if L <= M - B;  (M - L) / B if M - B < L <= M;  0 if L > M  (B = 0: 1 iff L <= M)
      min_length N:            min(1, L / N)
      target T:                max(0, 1 - |L - T| / T)
    Status CORRECT at 1, INCORRECT at 0, PARTIAL between; one step and one aspect per factor.
    """

    name = "length"
    cost = 0.05
    options = {
        "unit": Option.choice("chars", "what L counts: 'chars', or 'words' (whitespace-separated)", ("chars", "words")),
        "max_length": Option.number(
            None, "M: score 1 up to M - buffer, falling to 0 at M (DAPO overlong penalty)", above=0, optional=True
        ),
        "buffer": Option.number(0, "B: how far below max_length the score starts to fall", minimum=0),
        "min_length": Option.number(None, "N: score min(1, L / N)", minimum=0, optional=True),
        "target": Option.number(None, "T: score max(0, 1 - |L - T| / T)", above=0, optional=True),
    }

    @classmethod
    def check_options(cls, config: Mapping[str, Any]) -> None:
        if config["max_length"] is not None:
            need(
                config["buffer"] <= config["max_length"],
                f"{cls.name}: option 'buffer' ({config['buffer']}) must not exceed max_length ({config['max_length']})",
            )
            if config["min_length"] is not None:
                need(
                    config["min_length"] <= config["max_length"],
                    f"{cls.name}: min_length ({config['min_length']}) exceeds max_length ({config['max_length']})",
                )

    def verify(self, sample: Sample) -> Verdict:
        config = self.resolve(sample)
        if isinstance(config, Verdict):
            return config
        if config["max_length"] is None and config["min_length"] is None and config["target"] is None:
            return Verdict.error(self.name, "nothing to check: set max_length (and buffer), min_length or target")
        text = sample.response
        length = len(text) if config["unit"] == "chars" else len(text.split())
        factors: list[tuple[str, float, str]] = []  # exact arithmetic: option values may be huge ints
        if config["max_length"] is not None:
            m, b = Fraction(config["max_length"]), Fraction(config["buffer"])
            if length <= m - b:
                s = 1.0
            elif length > m:
                s = 0.0
            else:
                s = float((m - length) / b)
            detail = f"length {length} vs max_length {config['max_length']}, buffer {config['buffer']}"
            factors.append(("overlong", s, detail))
        if config["min_length"] is not None:
            n = Fraction(config["min_length"])
            s = 1.0 if length >= n else float(length / n)
            factors.append(("too_short", s, f"length {length} vs min_length {config['min_length']}"))
        if config["target"] is not None:
            t = Fraction(config["target"])
            s = float(max(Fraction(0), 1 - abs(length - t) / t))
            factors.append(("target", s, f"length {length} vs target {config['target']}"))
        score = min(1.0, max(0.0, math.prod(s for _, s, _ in factors)))
        steps = [StepVerdict(n, _status_for(s), s, detail=d) for n, s, d in factors]
        return Verdict(
            _status_for(score),
            score,
            self.name,
            f"{length} {config['unit']}: score {score:.4g}",
            steps=tuple(steps),
            aspects={n: s for n, s, _ in factors},
            evidence={"length": length, "unit": config["unit"]},
        )


# -- checklist ------------------------------------------------------------------------------------------------

_ITEM_KINDS = ("contains", "not_contains", "regex", "not_regex", "min_words", "max_words", "verifier")
_ITEM_EXTRA = {"name", "weight", "ignore_case", "reference", "options"}


@dataclass(frozen=True)
class _Item:
    name: str
    kind: str
    arg: Any
    weight: float
    ignore_case: bool
    spec: Mapping[str, Any]


def _parse_items(items: Any, where: str) -> list[_Item]:
    """Checklist items from their JSON form; `OptionError` says what is wrong with which item."""
    if isinstance(items, Mapping) or isinstance(items, (str, bytes)) or not isinstance(items, (list, tuple)):
        raise OptionError(f"checklist: {where} must be a list of items, got {type(items).__name__}")
    if not items:
        raise OptionError(f"checklist: {where} is an empty list")
    parsed = []
    for i, spec in enumerate(items, 1):
        if not isinstance(spec, Mapping):
            raise OptionError(f"checklist: item {i} must be a mapping such as {{'contains': 'x'}}, got {spec!r}")
        kinds = [k for k in _ITEM_KINDS if k in spec]
        unknown = sorted(str(k) for k in spec if k not in _ITEM_KINDS and k not in _ITEM_EXTRA)
        if len(kinds) != 1 or unknown:
            got = f"keys {sorted(map(str, spec))}"
            raise OptionError(
                f"checklist: item {i} needs exactly one kind; known kinds: {', '.join(_ITEM_KINDS)}; got {got}"
            )
        kind, arg = kinds[0], spec[kinds[0]]
        if kind in ("contains", "not_contains", "regex", "not_regex"):
            need(isinstance(arg, str), f"checklist: item {i} {kind!r} must be a string, got {arg!r}")
        elif kind in ("min_words", "max_words"):
            need(is_number(arg) and arg >= 0, f"checklist: item {i} {kind!r} must be a number >= 0, got {arg!r}")
        else:
            need(isinstance(arg, str) and arg != "", f"checklist: item {i} 'verifier' must be a verifier name")
            need(
                isinstance(spec.get("options", {}), Mapping),
                f"checklist: item {i} 'options' must be a mapping of option name to value",
            )
        weight = spec.get("weight", 1.0)
        need(is_number(weight) and weight >= 0, f"checklist: item {i} weight must be a number >= 0, got {weight!r}")
        ignore_case = spec.get("ignore_case", False)
        need(isinstance(ignore_case, bool), f"checklist: item {i} 'ignore_case' must be true or false")
        name = spec.get("name")
        name = str(name) if name not in (None, "") else f"{i}:{kind}"
        parsed.append(_Item(name, kind, arg, float(weight), ignore_case, spec))
    if sum(item.weight for item in parsed) <= 0:
        raise OptionError("checklist: item weights sum to 0; give at least one item a positive weight")
    return parsed


class Checklist(CompositeVerifier):
    """Binary principles (RLBFF / CM2 style): one step per item; score = weighted fraction of items passed.

    Items come from option `items` or the reference (a list). Each item is a mapping with one kind:
    `contains`, `not_contains`, `regex`, `not_regex` (strings; `ignore_case` optional), `min_words`,
    `max_words`, or `verifier` (a registered verifier name, with optional `reference` and `options`: its score
    and status become the item's; its ERROR/TIMEOUT makes the checklist ERROR/TIMEOUT, UNDECIDED makes it
    UNDECIDED). Optional `name` and `weight` (default 1). Status CORRECT when all items pass, INCORRECT when
    none does, else PARTIAL; aspects map item name to its score.
    """

    name = "checklist"
    cost = 0.5
    options = {
        "items": Option(
            None,
            "the checklist items (else the reference)",
            optional=True,
            must="a list of checklist items such as [{'contains': 'x'}]",
            accepts=lambda v: bool(_parse_items(v, "option 'items'")),
        ),
        "ignore_think": Option.flag(False, "drop <think> reasoning before checking the items"),
    }

    def verify_parts(self, samples: Sequence[Sample], runner: PartRunner) -> list[Verdict]:
        results: dict[int, Verdict] = {}
        plans: dict[int, tuple[list[_Item], list[StepVerdict | None]]] = {}
        calls: list[tuple[str, Mapping[str, Any], Sample]] = []
        where: list[tuple[int, int]] = []
        for s, sample in enumerate(samples):
            config = self.resolve(sample)
            if isinstance(config, Verdict):
                results[s] = config
                continue
            source = config["items"] if config["items"] is not None else sample.reference
            if source is None:
                results[s] = Verdict.error(
                    self.name, "no reference: give the checklist items as the reference or option 'items'"
                )
                continue
            try:
                items = _parse_items(source, "option 'items'" if config["items"] is not None else "the reference")
            except OptionError as exc:
                results[s] = Verdict.error(self.name, str(exc))
                continue
            names = unique_labels(item.name for item in items)
            items = [dataclasses.replace(item, name=n) for n, item in zip(names, items)]
            text = strip_think(sample.response) if config["ignore_think"] else sample.response
            steps: list[StepVerdict | None] = []
            for j, item in enumerate(items):
                if item.kind == "verifier":
                    ref = item.spec["reference"] if "reference" in item.spec else None
                    sub = Sample(response=sample.response, reference=ref, prompt=sample.prompt, id=sample.id)
                    calls.append((item.arg, dict(item.spec.get("options", {})), sub))
                    where.append((s, j))
                    steps.append(None)
                else:
                    steps.append(_check_item(item, text))
            plans[s] = (items, steps)
        for (s, j), verdict in zip(where, run_named(calls, runner)):
            item = plans[s][0][j]
            detail = f"{verdict.verifier}: {clip(verdict.reason, 300)}"
            plans[s][1][j] = StepVerdict(item.name, verdict.status, verdict.score, item.weight, detail)
        for s, (_, maybe_steps) in plans.items():
            decided = [step for step in maybe_steps if step is not None]
            assert len(decided) == len(maybe_steps), "a checklist item got no verdict"
            results[s] = self._verdict(decided)
        return gather(len(samples), results.items())

    def _verdict(self, steps: list[StepVerdict]) -> Verdict:
        aspects = {step.name: step.score for step in steps}
        fields: dict[str, Any] = {"steps": steps, "aspects": aspects}
        for bad in (Status.ERROR, Status.TIMEOUT, Status.UNDECIDED):
            hit = [step for step in steps if step.status is bad]
            if hit:
                reason = f"item {hit[0].name!r} is {bad.value}: {hit[0].detail}"
                if bad is Status.ERROR:
                    return Verdict.error(self.name, reason, **fields)
                if bad is Status.TIMEOUT:
                    return Verdict.timeout(self.name, reason, **fields)
                return Verdict.undecided(self.name, reason, **fields)
        total = math.fsum(step.weight for step in steps)
        score = min(1.0, max(0.0, math.fsum(step.weight * step.score for step in steps) / total))
        passed = sum(step.status is Status.CORRECT for step in steps)
        if passed == len(steps):
            status = Status.CORRECT
        elif all(step.score == 0.0 for step in steps):
            status = Status.INCORRECT
        else:
            status = Status.PARTIAL
        return Verdict(status, score, self.name, f"{passed}/{len(steps)} items pass", **fields)


def _check_item(item: _Item, text: str) -> StepVerdict:
    """Evaluate one local (non-delegated) checklist item on `text`."""
    kind, arg = item.kind, item.arg
    if kind in ("contains", "not_contains"):
        hay, needle = (text.casefold(), arg.casefold()) if item.ignore_case else (text, arg)
        found = needle in hay
        ok = found if kind == "contains" else not found
        detail = f"{clip(arg, 60)!r} {'found' if found else 'not found'}"
    elif kind in ("regex", "not_regex"):
        regex = compile_regex(arg, regex_flags(ignore_case=item.ignore_case))
        if isinstance(regex, str):
            return StepVerdict(item.name, Status.ERROR, 0.0, item.weight, regex)
        limit = RegexMatch.options["max_chars"].default
        if len(text) > limit:
            ok, detail = False, f"response over {limit} characters; pattern not run"
        else:
            found = regex.search(text) is not None
            ok = found if kind == "regex" else not found
            detail = f"pattern {clip(arg, 60)!r} {'matched' if found else 'did not match'}"
    else:
        words = len(text.split())
        ok = words >= arg if kind == "min_words" else words <= arg
        detail = f"{words} words ({kind.replace('_', ' ')} {arg})"
    return StepVerdict(item.name, Status.CORRECT if ok else Status.INCORRECT, 1.0 if ok else 0.0, item.weight, detail)


# -- BLEU -----------------------------------------------------------------------------------------------------


class BleuScore(Verifier):
    """Sentence BLEU (sacrebleu) of the response against the reference(s), as a score in [0, 1] (BLEUBERI).

    Status PARTIAL unless the score is 1 (CORRECT) or 0 (INCORRECT); with `threshold`, CORRECT at or above it
    and INCORRECT below (the score stays BLEU/100). A response longer than `max_chars` is INCORRECT with score 0
    without running BLEU (its precision against a normal reference is ~0 anyway). Needs the `bleu` extra.
    """

    name = "bleu"
    version = REFERENCES_VERSION
    cost = 0.5
    options = {
        "threshold": Option.number(
            None,
            "CORRECT at or above this score, INCORRECT below (None: PARTIAL between)",
            minimum=0,
            maximum=1,
            optional=True,
        ),
        "tokenize": Option.text("13a", "the sacrebleu tokenizer", must="a sacrebleu tokenizer name such as '13a'"),
        "lowercase": Option.flag(False, "compare lowercased text"),
        "ignore_think": Option.flag(True, "drop <think> reasoning before scoring"),
        "max_chars": Option.integer(200_000, "a longer response is INCORRECT with score 0 without running BLEU"),
    }

    def verify(self, sample: Sample) -> Verdict:
        config = self.resolve(sample)
        if isinstance(config, Verdict):
            return config
        refs = [_clean(r) for r in _references(sample.reference)]
        if not refs:
            return Verdict.error(self.name, NO_REFERENCE)
        try:
            import sacrebleu
        except ImportError:
            return Verdict.error(
                self.name, "BLEU needs sacrebleu, which is not installed: pip install 'verifier-suite[bleu]'"
            )
        hypothesis = _clean(strip_think(sample.response) if config["ignore_think"] else sample.response)
        if len(hypothesis) > config["max_chars"]:
            return Verdict.incorrect(
                self.name,
                f"response is {len(hypothesis)} characters, over max_chars={config['max_chars']}; BLEU not computed",
                evidence={"length": len(hypothesis)},
            )
        try:
            bleu = sacrebleu.sentence_bleu(hypothesis, refs, tokenize=config["tokenize"], lowercase=config["lowercase"])
        except KeyError:
            return Verdict.error(self.name, f"unknown sacrebleu tokenizer {config['tokenize']!r}")
        score = min(1.0, max(0.0, float(bleu.score) / 100.0))
        evidence = {
            "bleu": round(float(bleu.score), 6),
            "precisions": [round(float(p), 6) for p in bleu.precisions],
            "brevity_penalty": round(float(bleu.bp), 6),
            "hypothesis_length": int(bleu.sys_len),
            "reference_length": int(bleu.ref_len),
            "tokenize": config["tokenize"],
        }
        threshold = config["threshold"]
        if threshold is not None:
            status = Status.CORRECT if score >= threshold else Status.INCORRECT
        else:
            status = _status_for(score)
        return Verdict(status, score, self.name, f"BLEU {bleu.score:.2f}", evidence=evidence)


def _clean(text: str) -> str:
    """`text` with lone surrogates replaced, so third-party tokenizers can encode it."""
    return text.encode("utf-8", errors="replace").decode("utf-8")


@hookimpl
def register_verifiers(register):
    for factory in (
        ExactMatch,
        NormalizedMatch,
        NumericMatch,
        ChoiceMatch,
        RegexMatch,
        FormatCheck,
        LengthPenalty,
        Checklist,
        BleuScore,
    ):
        register(factory)
