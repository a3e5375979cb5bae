"""Math answer normalization (no sympy): one comparison form for a final answer, and the number policies.

`normalize_answer(text)` turns an extracted answer into a `NormalForm`: LaTeX noise removed (`\\left`/`\\right`,
`\\dfrac`, spacing commands, outer `$...$`), trailing punctuation dropped (`$\\frac{1}{3}.$`), units in `\\text{}`
and after a number dropped, currency signs dropped, thousands separators removed, mixed numbers
(`2\\frac{1}{3}`, `4 4/9`) rewritten as improper fractions, and the markers that change a value's reading
(`%`, `^\\circ`) taken off into flags. `math.rule` compares these forms directly; `math.symbolic` parses them.

`Policy` holds the comparison policies shared by both verifiers (percent, rounded decimals, list order,
degrees), and `numbers_match` applies them to two exact numbers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction

from ..text import MAX_SPAN, Number, parse_number, strip_latex_wrappers

__all__ = ["MAX_ANSWER_CHARS", "NormalForm", "Policy", "normalize_answer", "numbers_match", "split_assignment"]

MAX_ANSWER_CHARS = 4 * MAX_SPAN
"""An answer longer than this is not normalized further (it is not a final answer a checker can read)."""

PERCENT_POLICIES = ("gold", "ratio", "strip")
ROUNDING_POLICIES = ("gold", "digits", "exact")
LIST_ORDERS = ("set", "ordered")


@dataclass(frozen=True)
class Policy:
    """How two answers compare where mathematics alone does not say.

    percent   "gold" (default): the gold's `%` decides — gold `50%` accepts `50`, `50%` and `0.5`; a `%` only on
              the prediction reads as a ratio (`50%` = 0.5). "ratio": `x%` is always x/100. "strip": `%` is
              ignored. `0.5` and `50` without any `%` never match.
    rounding  "digits" (default, the convention of Math-Verify and of the public labels): a decimal written
              with d >= 2 decimals matches an exact value that rounds (or truncates) to it at d decimals, in
              either direction (gold `1/3`, answer `0.33`; gold `0.33`, answer `1/3`). "gold": only a gold
              written as a decimal may be the rounded side, so an answer that approximates an exact gold earns
              nothing (stricter, for training where approximating must not pay). "exact": only `rel_tol`.
    list_order "set" (default): a bare comma list (`1, 2, 3`) is a set of answers, order free; "ordered":
              order matters. Brackets always decide for themselves: `(1,2)` is a tuple, `\\{1,2\\}` a set.
    degrees   accept an angle given in degrees against the same angle in radians (`90^\\circ` vs `\\pi/2`).
    rel_tol   relative tolerance for numeric comparison of values that are not exact.
    """

    percent: str = "gold"
    rounding: str = "digits"
    list_order: str = "set"
    degrees: bool = True
    rel_tol: float = 1e-9


@dataclass(frozen=True)
class NormalForm:
    """An answer in comparison form: the text, and the markers taken off it (`%`, degrees)."""

    text: str
    percent: bool = False
    degrees: bool = False

    def to_dict(self) -> dict[str, object]:
        return {"text": self.text[:500], "percent": self.percent, "degrees": self.degrees}


# -- the rules, in the order they run --------------------------------------------------------------------------

_DOUBLE_BACKSLASH_CMD = re.compile(r"\\\\(?=[A-Za-z{}()\[\]])")
_SIZING = re.compile(r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg)(?![A-Za-z])[ \t]*"
                     r"(\\\{|\\\}|\\\||\\langle|\\rangle|\.|[()\[\]|])?")
_FRAC_VARIANT = re.compile(r"\\[dtc]frac(?![A-Za-z])")
_SPACED_THOUSANDS = re.compile(r"(?<=\d)(,?)[ \t]*(?<!\\)\\[,!;: ][ \t]*(?=\d{3}(?!\d))")
_SPACING = re.compile(r"(?<!\\)\\[,;:! ]|\\q?quad(?![A-Za-z])|\\displaystyle(?![A-Za-z])|\\limits(?![A-Za-z])|~")
_DEGREE = re.compile(r"\^\s*\{\s*\\circ\s*\}|\^\s*\\circ(?![A-Za-z])|\\circ(?![A-Za-z])|\\degree(?![A-Za-z])|°"
                     r"|\s*(?<![A-Za-z])degrees?(?![A-Za-z])")
_PERCENT = re.compile(r"\s*(?:\\%|%|\\percent(?![A-Za-z])|(?<![A-Za-z])(?:percentage|percent|pct)(?![A-Za-z]))")
_CURRENCY = re.compile(r"\\\$|(?<!\\)\$|€|£|¥|₹|\\euro(?![A-Za-z])|\\pounds(?![A-Za-z])")
_TRAILING_TEXT = re.compile(r"(?<=\S)\s*\\(?:text|textrm|textnormal|mbox|mathrm|textit|textbf)\s*\{\s*[A-Za-z][A-Za-z .]*\}"
                            r"(?:\s*\^\s*\{?\s*[23]\s*\}?)?\s*$")
_UNIT_AFTER_NUMBER = re.compile(
    r"^([-+]?(?:\d[\d,]*(?:\.\d+)?|\.\d+)(?:\s*/\s*\d+)?)\s*([A-Za-z]{2,}|m|g|s|[A-Za-z]{1,2}[23²³])(?:\s*\^\s*\{?[23]\}?)?"
    r"(?:\s+[A-Za-z]{2,})*$"
)
_MIXED_LATEX = re.compile(r"^([-+]?)(\d+)\s*\\frac\s*\{\s*(\d+)\s*\}\s*\{\s*(\d+)\s*\}$")
_MIXED_PLAIN = re.compile(r"^([-+]?)(\d+)\s+(\d+)\s*/\s*(\d+)$")
_THOUSANDS = re.compile(r"^[-+]?[1-9]\d{0,2}(?:(?:,|\{,\})\d{3})+(?:\.\d+)?$")
_SPACE_THOUSANDS = re.compile(r"^[-+]?[1-9]\d{0,2}(?: \d{3})+(?:\.\d+)?$")
_DECIMAL_COMMA = re.compile(r"^([-+]?\d+),(\d+)$")
_TRAILING_PUNCT = re.compile(r"(?:\s*(?:[.,;:?。，；：？]|(?<=[^\W\d_\s])[!！]|\\\.|\\,))+$")  # `5!` keeps its `!`
_ELLIPSIS = re.compile(r"(?:\.\.\.|…|\\[lc]?dots)\s*$")
_ASSIGNMENT = re.compile(r"^([A-Za-z](?:_\{?[A-Za-z0-9]{1,8}\}?)?|\\[A-Za-z]+)\s*=\s*(?=\S)")
_WS = re.compile(r"\s+")


def _strip_delimiters(text: str) -> str:
    """Outer `$`, `$$`, `\\(..\\)`, `\\[..\\]` and trailing punctuation, repeatedly (`$\\frac{1}{3}.$`)."""
    for _ in range(8):
        before = text
        text = text.strip()
        if not _ELLIPSIS.search(text):
            text = _TRAILING_PUNCT.sub("", text)
        text = strip_latex_wrappers(text) if ("$" in text or "\\(" in text or "\\[" in text) else text
        text = text.strip()
        if text == before:
            break
    return text


def _mixed_number(text: str) -> str:
    """`2\\frac{1}{3}` and `4 4/9` as improper fractions (`7/3`, `40/9`): a whole number beside a fraction."""
    m = _MIXED_LATEX.match(text) or _MIXED_PLAIN.match(text)
    if m is None:
        return text
    sign, whole, num, den = m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4))
    if den == 0 or num >= den or len(m.group(2)) > 30:
        return text
    value = Fraction(whole * den + num, den)
    return f"{'-' if sign == '-' else ''}{value.numerator}/{value.denominator}"


def _number_layout(text: str) -> str:
    """Thousands separators removed (`7,425,000`, `1 000`, `1{,}000`); a decimal comma read (`2,74`, `0,111`)."""
    if _THOUSANDS.match(text):
        return text.replace("{,}", "").replace(",", "")
    if _SPACE_THOUSANDS.match(text):
        return text.replace(" ", "")
    m = _DECIMAL_COMMA.match(text)
    if m and (m.group(1).lstrip("+-") == "0" or len(m.group(2)) == 2 or len(m.group(1).lstrip("+-")) > 3):
        return f"{m.group(1)}.{m.group(2)}"
    return text


def normalize_answer(text: str) -> NormalForm:
    """The comparison form of an extracted answer (see the module docstring for the rules)."""
    text = unicodedata.normalize("NFKC", text).replace("\u2212", "-")
    if len(text) > MAX_ANSWER_CHARS:
        return NormalForm(_WS.sub(" ", text[:MAX_ANSWER_CHARS]).strip())
    if "\\begin" not in text:
        text = _DOUBLE_BACKSLASH_CMD.sub(r"\\", text)  # "\\frac" written with doubled escapes
    text = _SIZING.sub(lambda m: m.group(1) or "", text)
    text = _FRAC_VARIANT.sub(r"\\frac", text)
    text = _SPACED_THOUSANDS.sub(r"\1", text)
    text = _SPACING.sub(" ", re.sub(r"(?<!\\)\\!", "", text))
    text = text.replace("{,}", ",")
    text = _strip_delimiters(text)
    degrees = percent = False
    if _DEGREE.search(text):
        text, degrees = _DEGREE.sub("", text).strip(), True
    text = _TRAILING_TEXT.sub("", text)
    if _PERCENT.search(text):
        stripped = _PERCENT.sub("", text).strip()
        if stripped:
            text, percent = stripped, True
    text = _CURRENCY.sub("", text)
    text = _strip_delimiters(strip_latex_wrappers(text) if "\\" in text else text)
    text = _WS.sub(" ", text).strip()
    m = _UNIT_AFTER_NUMBER.match(text)
    if m:
        text = m.group(1)
    text = _mixed_number(_number_layout(text))
    if text.startswith("+") and len(text) > 1 and text[1] != "+":
        text = text[1:]
    return NormalForm(text, percent, degrees)


def split_assignment(text: str) -> tuple[str, str]:
    """(`x`, `5`) for `x = 5` (a single, possibly subscripted, variable on the left and one `=`); else ("", text)."""
    m = _ASSIGNMENT.match(text)
    if m is None or "=" in text[m.end():] or "<" in text or ">" in text:
        return "", text
    return m.group(1), text[m.end():].strip()


# -- numbers ------------------------------------------------------------------------------------------------


def plain_number(form: NormalForm) -> Number | None:
    """The form read as exactly one plain number (no sympy), or None."""
    if len(form.text) > 200:
        return None
    return parse_number(form.text)


def _decimals(text: str) -> int | None:
    """Digits after the decimal point of a plain decimal token (`0.33` -> 2), None when not a plain decimal."""
    m = re.fullmatch(r"[-+]?\d*\.(\d+)", text.strip())
    return len(m.group(1)) if m else None


def value_readings(value: Fraction, percent: bool, other_percent: bool, is_gold: bool, policy: Policy) -> list[Fraction]:
    """The values a number may stand for, given the `%` markers on it and on the other side."""
    if not percent:
        return [value]
    if policy.percent == "strip":
        return [value]
    if policy.percent == "ratio" or other_percent:
        return [value / 100] if not other_percent else [value]
    return [value, value / 100] if is_gold else [value / 100]


def numbers_match(pred: Fraction, pred_text: str, pred_percent: bool, gold: Fraction, gold_text: str,
                  gold_percent: bool, policy: Policy) -> bool:
    """Whether two exact numbers are the same answer under `policy` (percent, rounding, tolerance)."""
    p_digits = _decimals(pred_text)
    g_digits = _decimals(gold_text)
    for p in value_readings(pred, pred_percent, gold_percent, False, policy):
        for g in value_readings(gold, gold_percent, pred_percent, True, policy):
            if p == g:
                return True
            scale = max(abs(p), abs(g))
            if abs(p - g) <= Fraction(policy.rel_tol) * scale:
                return True
            if policy.rounding == "digits":
                if p_digits is not None and p_digits >= 2 and g_digits is None and _rounds_to(g, p, p_digits):
                    return True
            if policy.rounding in ("gold", "digits"):
                if g_digits is not None and g_digits >= 2 and p_digits is None and _rounds_to(p, g, g_digits):
                    return True
    return False


def _rounds_to(exact: Fraction, decimal: Fraction, digits: int) -> bool:
    """`exact` rounded half-up, or truncated, to `digits` decimals equals `decimal` (signs must agree)."""
    if digits > 30 or (exact < 0) != (decimal < 0):
        return False
    scaled = abs(exact) * 10**digits
    target = abs(decimal) * 10**digits
    if target.denominator != 1:
        return False
    truncated = scaled.numerator // scaled.denominator
    rounded = (scaled + Fraction(1, 2)).numerator // (scaled + Fraction(1, 2)).denominator
    return target.numerator in (truncated, rounded)
