"""When two numbers are the same answer: the one rule, written once (no sympy here).

`math.rule`, `math.symbolic` (through `equivalence`) and the `numeric` verifier all decide number equality here,
so the fast path can never be looser than the slow one. The rule (docs/math-semantics.md has the examples):

- An **exact** number (an integer, a fraction, a closed form such as `2^{40}` or `\\sqrt 2`) equals another exact
  number only when the values are equal. No tolerance of any kind: `1000000008` is not `1000000007`, `e^{-25}` is
  not `0`.
- A **decimal approximation** is a number written with a decimal point, also in scientific notation (`0.667`,
  `2.653`, `7.81e-08`, `7.81 \\times 10^{-8}`); without a decimal point a number is exact (`10^{6}`, `2 \\times
  10^{3}`, `1e9`). It has a last written place (its `ulp`: 0.001 for `0.667`, 1e-10
  for `7.81e-08`) and a count of significant digits (3 for `0.667` and `0.00667`; 0 for `0.00`). It matches an
  exact value x when x **rounded** (half away from zero) to that place is the decimal:
  `0.667` is 2/3, `0.666` (truncated) is not.
- An **answer** that approximates must carry at least `min_sig_digits` significant digits (default 3): `0.00` is
  not 1/300, `2.3` is not 7/3, `2.33` is. An exact integer is a count: an answer approximating it must show its
  units digit (`1.23e3` is not `1234`). A **gold** written as a decimal sets the precision itself (the task
  asked for it): the exact `1/3` matches the gold `0.33`, and `1234` matches the gold `1.2e3`. Only a gold with
  two significant digits or more whose last digit is not 0 sets a precision: `0.0`, `0.1`, `0.5`, `6.0` and `2.50`
  are exact values (a Python float, a short answer), so `0.05` does not match `0.1` nor `6.04` match `6.0`.
- Two approximations match when the less precise one is the more precise one rounded to its place (the answer,
  when it is the less precise, with enough significant digits): `2.65` and `2.653` match; `0.339` and `0.33`
  do not.

`rounding` says which side may be the approximation: "digits" (either), "gold" (only the gold: a decimal
answer to an exact gold earns nothing), "exact" (neither: values must be equal).

A huge or tiny exponent (`1e5000`, `2.5 \\times 10^{-100000000}`) is the same rule on a number kept as a
mantissa and a power of ten (`Written.shift`, read by `scientific`): it is never expanded into a giant integer, so
every comparison costs about the same whatever the exponent. `1e5000` is `1e5000` and not `1e4999` nor `10`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

__all__ = [
    "DEFAULT_MIN_SIG_DIGITS",
    "MAX_SIG_DIGITS",
    "ROUNDING_POLICIES",
    "Written",
    "agree",
    "aligned",
    "order_of_magnitude",
    "rounds_to",
    "scientific",
    "sets_precision",
    "written",
]

ROUNDING_POLICIES = ("digits", "gold", "exact")
DEFAULT_MIN_SIG_DIGITS = 3
MAX_SIG_DIGITS = 30
"""The largest `min_sig_digits` a verifier accepts."""
MAX_PLACES = 400
"""Decimal places beyond which a number is not treated as an approximation (it is compared exactly)."""

_DECIMAL = re.compile(r"[-+]?(?P<int>[0-9][0-9,]*)?(?:\.(?P<frac>[0-9]*))?(?:[eE](?P<exp>[-+]?[0-9]{1,6}))?")
MAX_EXPONENT_DIGITS = 30
"""Digits of a power of ten `scientific` reads (`1e100000000` has 9); a longer exponent is not a number."""
MAX_MANTISSA_DIGITS = 1_000
MAX_ORDER_GAP = 30
"""Orders of magnitude beyond which `aligned` gives up: the smaller number is then negligible next to the other."""
_LOG10_2 = 0.30102999566398120

_PERCENT_END = re.compile(r"\\?%$")
_SCIENTIFIC_NOISE = re.compile(r"\s+|[{}$]|\\[,;:! ]|\\left|\\right")
_SCIENTIFIC = re.compile(
    r"(?P<sign>[-+]?)(?:(?P<mant>[0-9]*(?:\.[0-9]*)?)(?:[eE]|(?:\\times|\\cdot|×|·|\*|x)10\^)|10\^)"
    rf"(?P<exp>[-+]?[0-9]{{1,{MAX_EXPONENT_DIGITS}}})"
)


@dataclass(frozen=True)
class Written:
    """A number as written: its exact value, and for a decimal approximation its last place and significant digits.

    `ulp` is None for an exact number; `sig` counts the digits from the first non-zero one to the last written one.
    """

    value: Fraction
    ulp: Fraction | None = None
    sig: int = 0
    shift: int = 0
    """The number is `value` x 10**shift, and its last place `ulp` x 10**shift (only `scientific` sets it)."""

    @property
    def exact(self) -> bool:
        return self.ulp is None

    def scaled(self, factor: Fraction) -> Written:
        """The same number read with a factor (`50%` read as 0.5): value and last place scale together."""
        ulp = None if self.ulp is None else self.ulp * abs(factor)
        return Written(self.value * factor, ulp, self.sig, self.shift)


def written(text: str, value: Fraction) -> Written:
    """`value` as the token `text` writes it: an approximation when `text` is a decimal or scientific number.

    `text` is a single number token (`0.67`, `1,234.50`, `7.81e-08`, `3/4`, `12`); anything else is exact.
    """
    token = text.strip().rstrip("%").strip()
    m = _DECIMAL.fullmatch(token)
    if m is None or m.group("frac") is None or not (m.group("int") or m.group("frac")):
        return Written(value)  # no decimal point: exact (`12`, `3/4`, `10^{6}`, `2 \times 10^{3}`, `1e9`)
    whole = (m.group("int") or "").replace(",", "")
    frac = m.group("frac") or ""
    exp = int(m.group("exp") or 0)
    if len(frac) - exp > MAX_PLACES:
        return Written(value)
    digits = (whole + frac).lstrip("0")
    ulp = Fraction(10) ** (exp - len(frac))
    return Written(value, ulp, len(digits))


def scientific(text: str) -> Written | None:
    """A number in scientific notation with any exponent (`1e5000`, `-2.5e-100000000`, `3 \\times 10^{7000}`,
    `10^{12345}`), kept as mantissa and power of ten; None when `text` is not one such number.

    The mantissa follows `written`: with a decimal point it is an approximation (unless its last place is beyond
    `MAX_PLACES`), else exact.
    """
    if len(text) > 2 * (MAX_MANTISSA_DIGITS + MAX_EXPONENT_DIGITS):
        return None
    compact = _PERCENT_END.sub("", _SCIENTIFIC_NOISE.sub("", text.replace("−", "-")))  # the caller reads a `%`
    m = _SCIENTIFIC.fullmatch(compact)
    if m is None:
        return None
    mant, exp = m.group("mant"), int(m.group("exp"))
    if mant is None:  # `10^{k}`
        whole, frac = "1", None
    else:
        whole, _, frac = mant.partition(".")
        frac = frac if "." in mant else None
        if not (whole or frac) or len(whole) + len(frac or "") > MAX_MANTISSA_DIGITS:
            return None
    digits = whole + (frac or "")
    value = Fraction(int(digits or "0"), 10 ** len(frac or ""))
    if m.group("sign") == "-":
        value = -value
    if frac is None or len(frac) - exp > MAX_PLACES:
        return Written(value, shift=exp)
    return Written(value, Fraction(1, 10 ** len(frac)), len(digits.lstrip("0")), exp)


def order_of_magnitude(w: Written) -> float:
    """log10 |w| give or take one (w not 0), from bit lengths: no big number is printed or built."""
    value = abs(w.value)
    return (value.numerator.bit_length() - value.denominator.bit_length()) * _LOG10_2 + w.shift


def aligned(a: Written, b: Written) -> tuple[Written, Written, int] | None:
    """`a` and `b` at one power of ten: (a', b', s) with a = a' x 10**s, b = b' x 10**s and no shift (a zero is
    the exact 0); None when their orders of magnitude are more than `MAX_ORDER_GAP` apart (a zero and a number
    beyond 10**MAX_ORDER_GAP or under its inverse): then no rounding and no relative tolerance under 1 can make
    them one number, and rescaling would build a giant power of ten."""
    nonzero = [w for w in (a, b) if w.value != 0]
    if len(nonzero) == 2 and abs(order_of_magnitude(a) - order_of_magnitude(b)) > MAX_ORDER_GAP + 2:
        return None
    if len(nonzero) == 1 and abs(order_of_magnitude(nonzero[0])) > MAX_ORDER_GAP:
        return None
    s = min((w.shift for w in nonzero), default=0)

    def rescaled(w: Written) -> Written:
        if w.value == 0:
            return Written(Fraction(0))
        factor = Fraction(10) ** (w.shift - s)  # small: the orders are close, and the mantissas are bounded
        return Written(w.value * factor, None if w.ulp is None else w.ulp * factor, w.sig)

    return rescaled(a), rescaled(b), s


def _is_integer(x: Fraction, s: int) -> bool:
    """Whether x x 10**s is an integer, without building 10**s when s is huge."""
    if x == 0:
        return True
    if s >= 0:
        den = x.denominator
        twos = fives = 0
        while den % 2 == 0 and twos <= s:
            den, twos = den // 2, twos + 1
        while den % 5 == 0 and fives <= s:
            den, fives = den // 5, fives + 1
        return den == 1 and max(twos, fives) <= s
    if x.denominator != 1 or -s > x.numerator.bit_length():
        return False
    return x.numerator % 10 ** (-s) == 0


def _above_one(x: Fraction, s: int) -> bool:
    """Whether x x 10**s > 1 (x > 0), without building 10**s when s is huge."""
    if s >= 0:
        return s > x.denominator.bit_length() or x.numerator * 10**s > x.denominator
    return -s <= x.numerator.bit_length() and x.numerator > x.denominator * 10 ** (-s)


def _round(x: Fraction, ulp: Fraction) -> Fraction:
    """x rounded to a multiple of `ulp`, half away from zero (one convention: `0.65` may not pass for both `0.6`
    and `0.7`)."""
    q = abs(x) / ulp
    floor = q.numerator // q.denominator
    sign = -1 if x < 0 else 1
    return sign * (floor + (1 if q - floor >= Fraction(1, 2) else 0)) * ulp


def sets_precision(gold: Written) -> bool:
    """Whether a decimal gold reads as a rounded value: two significant digits or more, and a last digit that is
    not 0 (`0.33`, `2.653`); `0.1`, `0.5`, `6.0` and `2.50` are exact values (a Python float, a short answer)."""
    if gold.ulp is None or gold.sig < 2:
        return False
    last = gold.value / gold.ulp
    return last.denominator == 1 and last.numerator % 10 != 0


def rounds_to(x: Fraction, approx: Written, min_sig: int = DEFAULT_MIN_SIG_DIGITS, *, count: bool = True) -> bool:
    """Whether the approximation `approx` is `x` rounded to its last place and carries `min_sig` significant
    digits; with `count`, an integer `x` needs an approximation that shows its units digit."""
    if approx.ulp is None or approx.sig < min_sig:
        return False
    if count and x.denominator == 1 and approx.ulp > 1:
        return False
    return approx.value == _round(x, approx.ulp)


def agree(pred: Written, gold: Written, *, rounding: str = "digits", min_sig: int = DEFAULT_MIN_SIG_DIGITS) -> bool:
    """Whether the answer `pred` and the gold `gold` are the same number under the rule of this module."""
    scale = 0
    if pred.shift or gold.shift:
        pair = aligned(pred, gold)
        if pair is None:
            return False
        pred, gold, scale = pair
    if pred.value == gold.value:
        return True
    if gold.ulp is not None and not sets_precision(gold):
        gold = Written(gold.value)  # `0.0`, `0.1`, `6.0`: a gold that sets no precision is the exact value
    if rounding == "exact" or (pred.exact and gold.exact):
        return False
    if pred.exact:  # the gold is the approximation: it sets the precision
        return rounds_to(pred.value, gold, 0, count=False)
    if gold.exact:  # an exact integer is a count: its approximation must show the units digit
        assert pred.ulp is not None
        if _is_integer(gold.value, scale) and _above_one(pred.ulp, scale):
            return False
        return rounding == "digits" and rounds_to(gold.value, pred, min_sig, count=False)
    assert pred.ulp is not None and gold.ulp is not None
    if pred.ulp == gold.ulp:
        return False
    if pred.ulp > gold.ulp:  # the answer is the less precise (the gold, an approximation, counts nothing)
        return rounding == "digits" and rounds_to(gold.value, pred, min_sig, count=False)
    return rounds_to(pred.value, gold, 0, count=False)
