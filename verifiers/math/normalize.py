"""Math answer normalization (no sympy): one comparison form for a final answer, and the number policies.

`normalize_answer(text)` turns an extracted answer into a `NormalForm`: Unicode read as math (`2⁵` is `2^{5}`,
`∞` is `\\infty`), LaTeX noise removed (`\\left`/`\\right`, `\\dfrac`, spacing commands, outer `$...$`),
trailing punctuation dropped (`$\\frac{1}{3}.$`), numbers in other bases (`0xc2d8`), ordinals (`12^{\\text{th}}`)
and repeating decimals (`0.\\overline{6}`) read as the numbers they are, a unit after the value split off into
`NormalForm.unit` (`5 \\text{ km}`; a plain noun label such as `12 sequences` is dropped; hedging words such as
`5 or six` are kept), currency signs dropped, thousands separators removed, mixed numbers (`2\\frac{1}{3}`,
`4 4/9`) rewritten as improper fractions, and the markers that change a value's reading (`%`, `^\\circ`) taken off
into flags (a degree inside a trigonometric function becomes radians in place). `math.rule` compares these forms
directly; `math.symbolic` parses them.

`Policy` holds the comparison policies shared by both verifiers (percent, rounding, list order, degrees,
significant digits), and `numbers_match` applies them to two plain numbers through `semantics.agree`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from fractions import Fraction

from .. import numbers
from ..text import MAX_SPAN, Number, normalize_unicode, parse_number, rewrite_base_literals, strip_latex_wrappers
from .semantics import DEFAULT_MIN_SIG_DIGITS, agree, written
from .units import Unit, split_unit

__all__ = [
    "MAX_ANSWER_CHARS",
    "NormalForm",
    "Policy",
    "normalize_answer",
    "numbers_match",
    "other_unknowns",
    "split_assignment",
]

MAX_ANSWER_CHARS = 4 * MAX_SPAN
"""An answer longer than this is not normalized further (it is not a final answer a checker can read)."""

PERCENT_POLICIES = ("gold", "ratio", "strip")
LIST_ORDERS = ("set", "ordered")


@dataclass(frozen=True)
class Policy:
    """How two answers compare where mathematics alone does not say.

    percent   "gold" (default): the gold's `%` decides — gold `50%` accepts `50`, `50%` and `0.5`; a `%` only on
              the prediction reads as a ratio (`50%` = 0.5). "ratio": `x%` is always x/100. "strip": `%` is
              ignored. `0.5` and `50` without any `%` never match.
    rounding  which side may be a rounded decimal (see `semantics`): "digits" (default) either side — gold
              `1/3`, answer `0.33`, or gold `0.33`, answer `1/3`; "gold": only the gold, so an answer that
              approximates an exact gold earns nothing (for training where approximating must not pay);
              "exact": neither, values must be equal.
    min_sig_digits  significant digits a rounded decimal must carry to match (default 2: `0.00` is not 1/300).
    list_order "set" (default): a bare comma list (`1, 2, 3`) is a set of answers, order free; "ordered":
              order matters. Brackets always decide for themselves: `(1,2)` is a tuple, `\\{1,2\\}` a set.
    degrees   accept an angle given in degrees against the same angle in radians (`90^\\circ` vs `\\pi/2`).
    """

    percent: str = "gold"
    rounding: str = "digits"
    list_order: str = "set"
    degrees: bool = True
    min_sig_digits: int = DEFAULT_MIN_SIG_DIGITS


@dataclass(frozen=True)
class NormalForm:
    """An answer in comparison form: the text, the markers taken off it (`%`, degrees) and its unit, if any.

    `label` is the noun split off the value (`sequence` for `12 sequences`), "" when none.
    """

    text: str
    percent: bool = False
    degrees: bool = False
    unit: Unit | None = None
    label: str = ""

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"text": self.text[:500], "percent": self.percent, "degrees": self.degrees}
        if self.unit is not None:
            out["unit"] = self.unit.text
        if self.label:
            out["label"] = self.label[:100]
        return out

    def differs_in_kind(self, other: NormalForm) -> str:
        """Why two answers with equal-looking values may still differ — units written differently, other noun
        labels (`7 dollars`, `7 cents`), radians against degrees — or "" when nothing outside the value differs."""
        if self.unit is not None and other.unit is not None and self.unit != other.unit:
            return "the units are written differently"
        if self.label and other.label and self.label != other.label:
            return "the answers count different things"
        if (self.label and other.unit is not None) or (other.label and self.unit is not None):
            return "a unit against a word that is no unit we know"
        if self.degrees != other.degrees and (
            self.unit is not None or other.unit is not None or self.label or other.label
        ):
            return "an angle in degrees against one with a unit"
        return ""

    def same_reading(self, other: NormalForm) -> bool:
        """Identical text with identical markers, units and labels: the same answer without any further check."""
        return (self.text, self.percent, self.degrees, self.unit, self.label) == (
            other.text,
            other.percent,
            other.degrees,
            other.unit,
            other.label,
        )


# -- the rules, in the order they run --------------------------------------------------------------------------

_DOUBLE_BACKSLASH_CMD = re.compile(r"\\\\(?=[A-Za-z{}()\[\]])")
_SIZING = re.compile(
    r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg)(?![A-Za-z])[ \t]*"
    r"(\\\{|\\\}|\\\||\\langle|\\rangle|\.|[()\[\]|])?"
)
_FRAC_VARIANT = re.compile(r"\\[dtc]frac(?![A-Za-z])")
_SPACING = re.compile(r"(?<!\\)\\[,;:! ]|\\q?quad(?![A-Za-z])|\\displaystyle(?![A-Za-z])|\\limits(?![A-Za-z])|~")
_DEGREE_MARK = r"\^\s*\{\s*\\circ\s*\}|\^\s*\\circ(?![A-Za-z])|\\circ(?![A-Za-z])|\\degree(?![A-Za-z])|°"
_DEGREE = re.compile(_DEGREE_MARK + r"|(?<!\s)\s*(?<![A-Za-z])degrees?(?![A-Za-z])")
_DEGREE_NUMBER = re.compile(r"(?<![0-9.])([0-9]+(?:\.[0-9]+)?)\s*(?:" + _DEGREE_MARK + ")")
_TRIG = re.compile(r"\\(?:sin|cos|tan|cot|sec|csc)(?![A-Za-z])")
_PERCENT = re.compile(r"(?<!\s)\s*(?:\\%|%|\\percent(?![A-Za-z])|(?<![A-Za-z])(?:percentage|percent|pct)(?![A-Za-z]))")
_PRIME = re.compile(r"(?<=[0-9}])\s*('{1,2}|\"|′{1,2}|″|\^\s*\{?\s*\\prime\s*\}?)\s*$")
_CURRENCY = re.compile(r"\\\$|(?<!\\)\$|€|£|¥|₹|\\euro(?![A-Za-z])|\\pounds(?![A-Za-z])")
_DOLLAR_AMOUNT = re.compile(r"\$\s*[0-9]|[0-9]\s*\$")
_CURRENCY_UNITS = {
    "$": "dollar",
    "€": "euro",
    "£": "GBP",
    "¥": "yen",
    "₹": "rupee",
    "\\euro": "euro",
    "\\pounds": "GBP",
}
_TEMPERATURE = re.compile(
    r"(?:\^\s*\{\s*\\circ\s*\}|\^\s*\\circ(?![A-Za-z])|°)\s*(?:\\(?:text|mathrm)\s*\{\s*)?([CF])(?![A-Za-z])\}?"
)
_ORDINAL = re.compile(
    r"(?<=[0-9])(?:\s*\^\s*\{\s*(?:\\(?:text|mathrm|textrm)\s*\{\s*)?(?:st|nd|rd|th)\s*\}?\s*\}"
    r"|\^\s*(?:st|nd|rd|th)(?![A-Za-z])|(?:st|nd|rd|th)(?![A-Za-z]))"
)
_REPEATING = re.compile(
    r"(?<![0-9.])([-+]?)([0-9]{0,30})\.([0-9]{0,30})\\(?:overline|bar|dot)\s*\{([0-9]{1,30})\}"
    r"(?![0-9])"
)
_REPEATING_DOTS = re.compile(
    r"(?<![0-9.])([-+]?)([0-9]{0,30})\.([0-9]{0,30}?)(([0-9])\5{2,})\s*(?:\\[lc]?dots|\.\.\.|…)$"
)
_BASE_SUBSCRIPT = re.compile(
    r"(?<![\w.)])(?:\(([0-9][0-9A-Za-z]{0,63})\)|([0-9][0-9A-Za-z]{0,63}))_\{?([0-9]{1,2})\}?(?![\w{])"
)
_ANGLE_BRACKETS = re.compile(r"\\[lr]angle(?![A-Za-z])")
_MIXED_LATEX = re.compile(r"^([-+]?)(\d+)\s*\\frac\s*\{\s*(\d+)\s*\}\s*\{\s*(\d+)\s*\}$")
_MIXED_PLAIN = re.compile(r"^([-+]?)(\d+)\s+(\d+)\s*/\s*(\d+)$")
_DECIMAL_COMMA = re.compile(r"^([-+]?\d+),(\d+)$")
_TRAILING_PUNCT = tuple(".,;:。，；：") + ("\\.", "\\,")  # a `?` stays: `5?` is no answer
_ELLIPSIS = ("...", "…", "\\dots", "\\ldots", "\\cdots")
_ASSIGNMENT = re.compile(r"^([A-Za-z](?:_\{?[A-Za-z0-9]{1,8}\}?)?|\\[A-Za-z]+)\s*=\s*(?=\S)")
_FRAC_COMMAND = re.compile(r"\\frac(?![A-Za-z])")
_WS = re.compile(r"\s+")


def _strip_trailing_punct(text: str) -> str:
    """Trailing `.`, `,`, `;`, `:`, `?` (and `!` after a word; `5!` keeps its `!`), with the spaces between them."""
    for _ in range(64):
        text = text.rstrip()
        if text.endswith(_ELLIPSIS):
            return text
        cut = next((p for p in _TRAILING_PUNCT if text.endswith(p)), None)
        if cut is None and text[-1:] in ("!", "！") and len(text) > 1 and text[-2].isalpha():
            cut = text[-1]
        if cut is None:
            return text
        text = text[: -len(cut)]
    return text


def _strip_delimiters(text: str) -> str:
    """Outer `$`, `$$`, `\\(..\\)`, `\\[..\\]` and trailing punctuation, repeatedly (`$\\frac{1}{3}.$`)."""
    for _ in range(8):
        before = text
        text = _strip_trailing_punct(text.strip())
        text = strip_latex_wrappers(text) if ("$" in text or "\\(" in text or "\\[" in text) else text
        text = text.strip()
        if text == before:
            break
    return text


def _repeating(m: re.Match[str]) -> str:
    """`0.1\\overline{6}` -> `1/6`: the repeating decimal as the fraction it is."""
    sign, whole, fixed, period = m.groups()
    value = Fraction(int(whole or "0")) + Fraction(int(fixed or "0"), 10 ** len(fixed))
    value += Fraction(int(period), (10 ** len(period) - 1) * 10 ** len(fixed))
    return (
        f"{'-' if sign == '-' else ''}{value.numerator}/{value.denominator}"
        if value.denominator > 1
        else f"{'-' if sign == '-' else ''}{value.numerator}"
    )


def _repeating_dots(m: re.Match[str]) -> str:
    """`0.666\\ldots` -> `2/3`: a digit written three or more times before an ellipsis repeats forever."""
    sign, whole, fixed, _, digit = m.groups()
    value = Fraction(int(whole or "0")) + Fraction(int(fixed or "0"), 10 ** len(fixed))
    value += Fraction(int(digit), 9 * 10 ** len(fixed))
    text = f"{value.numerator}/{value.denominator}" if value.denominator > 1 else str(value.numerator)
    return ("-" if sign == "-" else "") + text


def _base_subscript(m: re.Match[str]) -> str:
    """`1010_2`, `(777)_{8}` -> `10`, `511`: digits with their base as a subscript (bases 2 to 36)."""
    digits, base = m.group(1) or m.group(2), int(m.group(3))
    if not 2 <= base <= 36:
        return m.group()
    try:
        return str(int(digits, base))
    except ValueError:
        return m.group()


def _brace_arguments(text: str) -> str:
    """`\\frac{1+a}c` -> `\\frac{1+a}{c}`, `\\frac ab` -> `\\frac{a}{b}`: both arguments of every `\\frac` braced."""
    if "\\frac" not in text:
        return text
    out: list[str] = []
    last = 0
    for m in _FRAC_COMMAND.finditer(text):
        if m.start() < last:
            continue
        out.append(text[last : m.end()])
        i = m.end()
        for _ in range(2):
            while i < len(text) and text[i] == " ":
                i += 1
            if i >= len(text):
                break
            if text[i] == "{":
                depth, j = 0, i
                while j < len(text):
                    depth += {"{": 1, "}": -1}.get(text[j], 0)
                    if depth == 0:
                        break
                    j += 1
                out.append(text[i : j + 1])
                i = j + 1
            elif text[i] == "\\":
                cmd = re.match(r"\\[A-Za-z]+", text[i:])
                arg = cmd.group() if cmd else text[i : i + 2]
                out.append("{" + arg + "}")
                i += len(arg)
            else:
                out.append("{" + text[i] + "}")
                i += 1
        last = i
    out.append(text[last:])
    return "".join(out)


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
    plain = numbers.compact(text)
    if plain != text:
        return plain
    m = _DECIMAL_COMMA.match(text)
    if m and (m.group(1).lstrip("+-") == "0" or len(m.group(2)) == 2 or len(m.group(1).lstrip("+-")) > 3):
        return f"{m.group(1)}.{m.group(2)}"
    return text


def _degrees(text: str) -> tuple[str, bool]:
    """Degree marks: inside a trigonometric expression each `N^\\circ` becomes radians in place
    (`\\sin(90^\\circ - x)`); otherwise the marks come off and the answer is flagged as given in degrees."""
    if not _DEGREE.search(text):
        return text, False
    if _TRIG.search(text):
        return _DEGREE_NUMBER.sub(lambda m: f"\\frac{{{m.group(1)}\\pi}}{{180}}", text), False
    return _DEGREE.sub("", text).strip(), True


def normalize_answer(text: str) -> NormalForm:
    """The comparison form of an extracted answer (see the module docstring for the rules)."""
    text = normalize_unicode(text, math=True)
    if len(text) > MAX_ANSWER_CHARS:
        text = _WS.sub(" ", text).strip()
        if len(text) > MAX_ANSWER_CHARS:  # cut, with a digest of the whole: two long answers are identical only if
            digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]  # all of them is
            return NormalForm(f"{text[:MAX_ANSWER_CHARS]}…[{len(text)} characters, sha256 {digest}]")
    if "\\begin" not in text:
        text = _DOUBLE_BACKSLASH_CMD.sub(r"\\", text)  # "\\frac" written with doubled escapes
    text = _SIZING.sub(lambda m: m.group(1) or "", text)
    text = _FRAC_VARIANT.sub(r"\\frac", text)
    text = numbers.join_latex_groups(text, "")
    text = _SPACING.sub(" ", re.sub(r"(?<!\\)\\!", "", text))
    text = text.replace("{,}", ",")
    text = _strip_delimiters(text)
    text = rewrite_base_literals(text)
    text = _ORDINAL.sub("", text)
    text = _REPEATING.sub(_repeating, text)
    text = _REPEATING_DOTS.sub(_repeating_dots, text)
    text = _BASE_SUBSCRIPT.sub(_base_subscript, text)
    text = _ANGLE_BRACKETS.sub(lambda m: "(" if m.group()[1] == "l" else ")", text)
    text = _brace_arguments(text)
    text = _TEMPERATURE.sub(lambda m: f" \\text{{deg{m.group(1)}}}", text)  # °C and °F: units, not angles
    text, degrees = _degrees(text)
    percent = False
    if _PERCENT.search(text):
        stripped = _PERCENT.sub("", text).strip()
        if stripped:
            text, percent = stripped, True
    prime = _PRIME.search(text)
    if prime is not None:  # `30'`, `6"`: minutes or feet, seconds or inches: a label that no bare unit matches
        text = text[: prime.start()]
    text, unit, label = split_unit(text)
    if prime is not None and unit is None and not label:
        label = "double prime" if len(prime.group(1)) > 1 or prime.group(1) in '"″' else "prime"
    currency = _CURRENCY.search(text)
    if currency is not None:
        sign = currency.group().removeprefix("\\") if currency.group() == "\\$" else currency.group()
        money = sign != "$" or currency.group() == "\\$" or (text.count("$") == 1 and _DOLLAR_AMOUNT.search(text))
        text = _CURRENCY.sub("", text)
        if money and unit is None and not label:  # `\$5`: five dollars (not five cents); `$28$ %` is math
            unit = Unit(((_CURRENCY_UNITS[sign], 1),))
    text = _strip_delimiters(strip_latex_wrappers(text) if "\\" in text else text)
    text = _WS.sub(" ", text).strip()
    text = _mixed_number(_number_layout(text))
    if text.startswith("+") and len(text) > 1 and text[1] != "+":
        text = text[1:]
    return NormalForm(text, percent, degrees, unit, label)


def other_unknowns(a: NormalForm, b: NormalForm) -> bool:
    """Both answers assign a value to an unknown, and not to the same one (`y = 3` against `x = 3`)."""
    (la, _), (lb, _) = split_assignment(a.text), split_assignment(b.text)
    return bool(la and lb and la.replace("{", "").replace("}", "") != lb.replace("{", "").replace("}", ""))


def split_assignment(text: str) -> tuple[str, str]:
    """(`x`, `5`) for `x = 5` (a single, possibly subscripted, variable on the left and one `=`); else ("", text)."""
    m = _ASSIGNMENT.match(text)
    if m is None or "=" in text[m.end() :] or "<" in text or ">" in text:
        return "", text
    return m.group(1), text[m.end() :].strip()


# -- numbers ------------------------------------------------------------------------------------------------


def plain_number(form: NormalForm) -> Number | None:
    """The form read as exactly one plain number (no sympy), or None."""
    if len(form.text) > 200:
        return None
    return parse_number(form.text)


def value_readings(
    value: Fraction, percent: bool, other_percent: bool, is_gold: bool, policy: Policy
) -> list[Fraction]:
    """The factors a number may be read with, given the `%` markers on it and on the other side (1 or 1/100)."""
    if not percent:
        return [value]
    if policy.percent == "strip":
        return [value]
    if policy.percent == "ratio" or other_percent:
        return [value / 100] if not other_percent else [value]
    return [value, value / 100] if is_gold else [value / 100]


def numbers_match(pred: Number, pred_percent: bool, gold: Number, gold_percent: bool, policy: Policy) -> bool:
    """Whether two plain numbers are the same answer under `policy` (percent readings, then `semantics.agree`)."""
    assert pred.value is not None and gold.value is not None
    p_written, g_written = written(pred.text, pred.value), written(gold.text, gold.value)
    for p in value_readings(Fraction(1), pred_percent, gold_percent, False, policy):
        for g in value_readings(Fraction(1), gold_percent, pred_percent, True, policy):
            if agree(p_written.scaled(p), g_written.scaled(g), rounding=policy.rounding, min_sig=policy.min_sig_digits):
                return True
    return False
