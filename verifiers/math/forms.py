"""Form requirements: an answer equal in value to the gold but not in the form the task asks for is INCORRECT.

A sample asks for a form with the option `form` (call option or sample metadata), or a mapping reference
`{"answer": "23/131", "form": "lowest_terms"}`. Without one, value equality stands. The forms:

  lowest_terms   a fraction in lowest terms, or an integer (`23/131`, `\\frac{23}{131}`; not `92/524`)
  decimals:N     a decimal with exactly N places (`3.14` for decimals:2)
  sig_figs:N     exactly N significant digits (`0.00314`, `3.14e-3` for sig_figs:3)
  scientific     a × 10^k with 1 <= |a| < 10 (`7.81 \\times 10^{-8}`, `7.81e-08`)
  factored       a product of irreducible factors: integers as prime powers (`2^4 \\cdot 41`), polynomials
                 factored over the rationals (`(x-1)(x+1)`; not `x^2-1`)
  expanded       a polynomial written as a sum of monomials (`x^2-1`; not `(x-1)(x+1)`)

`check_form(answer, form)` returns None when the answer is in the form, else the reason. The numeric forms need
no sympy (math.rule checks them); `factored` and `expanded` on expressions import sympy lazily.
"""

from __future__ import annotations

import re
from fractions import Fraction
from math import gcd, isqrt

from ..errors import OptionError
from ..text import parse_number
from .semantics import written

__all__ = ["FORMS", "NeedsSympy", "check_form", "check_form_option"]

FORMS = ("lowest_terms", "decimals:N", "sig_figs:N", "scientific", "factored", "expanded")
_FORM = re.compile(r"^(lowest_terms|scientific|factored|expanded)$|^(decimals|sig_figs):([0-9]{1,2})$")
_FRACTION = re.compile(
    r"^\s*([-+]?)\s*(?:\\frac\s*\{\s*([0-9]{1,400})\s*\}\s*\{\s*([0-9]{1,400})\s*\}|"
    r"([0-9]{1,400})\s*/\s*([0-9]{1,400}))\s*$"
)
_INTEGER = re.compile(r"^\s*[-+]?[0-9]{1,400}\s*$")
_SCIENTIFIC = re.compile(
    r"^\s*[-+]?([0-9](?:\.[0-9]+)?)\s*(?:\\times|\\cdot|×|\*|x)\s*10\s*\^\s*\{?\s*[-+]?[0-9]{1,4}\s*\}?\s*$"
    r"|^\s*[-+]?([0-9](?:\.[0-9]+)?)[eE][-+]?[0-9]{1,4}\s*$"
)
_PRODUCT = re.compile(r"\\cdot|\\times|×|\*")
_PRIME_POWER = re.compile(r"^\s*\(?\s*([0-9]{1,13})\s*\)?\s*(?:\^\s*\{?\s*([0-9]{1,3})\s*\}?)?\s*$")


class NeedsSympy(Exception):
    """The form is about an expression: only the symbolic verifier can check it."""


def check_form_option(value: object, name: str) -> None:
    """Raise OptionError unless `value` is None or one of `FORMS`."""
    if value is None:
        return
    if not isinstance(value, str) or _FORM.match(value) is None:
        raise OptionError(f"{name}: option 'form' must be one of {', '.join(FORMS)} (N a whole number), got {value!r}")


def _is_prime(n: int) -> bool:
    if n < 2:
        return False
    for p in (2, 3, 5, 7, 11, 13):
        if n % p == 0:
            return n == p
    return all(n % d for d in range(17, isqrt(n) + 1, 2))


def _factored_integer(text: str) -> str | None:
    factors = _PRODUCT.split(text)
    for factor in factors:
        m = _PRIME_POWER.match(factor)
        if m is None:
            return f"{factor.strip()!r} is not a prime or a prime power"
        if int(m.group(1)) >= 10**12:
            raise NeedsSympy  # too big to test here
        if not _is_prime(int(m.group(1))):
            return f"{m.group(1)} is not prime"
    return None


def check_form(answer: str, form: str) -> str | None:
    """None when the answer (in comparison form) is written in `form`, else why not (see the module docstring).

    Raises `NeedsSympy` for `factored`/`expanded` on an expression."""
    m = _FORM.match(form)
    assert m is not None
    text = answer.strip()
    if form == "lowest_terms":
        if _INTEGER.match(text):
            return None
        frac = _FRACTION.match(text)
        if frac is None:
            return f"not a fraction: {text[:60]!r}"
        num, den = int(frac.group(2) or frac.group(4)), int(frac.group(3) or frac.group(5))
        if den == 0 or gcd(num, den) != 1 or den == 1:
            return f"{num}/{den} is not in lowest terms"
        return None
    if form == "scientific":
        sci = _SCIENTIFIC.match(text)
        if sci is None or (sci.group(1) or sci.group(2)).startswith("0"):
            return f"not in scientific notation (a \\times 10^k with 1 <= |a| < 10): {text[:60]!r}"
        return None
    if m.group(2):
        number = parse_number(text)
        if number is None or number.value is None:
            return f"not a decimal number: {text[:60]!r}"
        shape = written(number.text, number.value)
        n = int(m.group(3))
        if m.group(2) == "sig_figs":
            ok = shape.sig == n or (
                shape.exact
                and number.value.denominator == 1
                and len(str(abs(number.value.numerator)).rstrip("0")) <= n <= len(str(abs(number.value.numerator)))
            )
            return None if ok else f"{number.text} does not have {n} significant figures"
        places = 0 if shape.ulp is None else -_exponent(shape.ulp)
        if shape.ulp is not None and shape.ulp > 1:
            places = -1
        if places != n or (shape.exact and number.value.denominator != 1):
            return f"{number.text} does not have {n} decimal places"
        return None
    if (
        form == "factored"
        and (_INTEGER.match(text) or _PRODUCT.search(text) or "^" in text)
        and not re.search(r"[A-Za-z]", text.replace("\\cdot", "").replace("\\times", ""))
    ):
        if _INTEGER.match(text):
            n = abs(int(text))
            if n >= 10**12:
                raise NeedsSympy
            return None if _is_prime(n) or n < 2 else f"{n} is not written as a product of primes"
        return _factored_integer(text)
    raise NeedsSympy


def _exponent(ulp: Fraction) -> int:
    """k for ulp = 10^k."""
    k = 0
    while ulp < 1:
        ulp *= 10
        k -= 1
    while ulp > 1:
        ulp /= 10
        k += 1
    return k


def check_expression_form(value: object, form: str) -> str | None:
    """`factored` / `expanded` on a parsed sympy expression: None when it is written that way, else why not."""
    import sympy

    if not isinstance(value, sympy.Expr):
        return None
    free = sorted(value.free_symbols, key=lambda s: s.name)
    if not free:
        return None
    if not value.is_polynomial(*free):  # `(x^2-1)(x+1)/(x-1)`: a quotient is neither form of a polynomial
        return "not a polynomial written as a product" if form == "factored" else "not a polynomial written as a sum"
    if form == "expanded":
        for node in sympy.preorder_traversal(value):
            if isinstance(node, sympy.Mul) and any(isinstance(a, sympy.Add) for a in node.args):
                return "not expanded (a product with a sum is left)"
            if (
                isinstance(node, sympy.Pow)
                and isinstance(node.base, sympy.Add)
                and node.exp.is_Integer
                and node.exp > 1
            ):
                return "not expanded (a power of a sum is left)"
        return None
    factors = value.args if isinstance(value, sympy.Mul) else (value,)
    for factor in factors:
        base = factor.base if isinstance(factor, sympy.Pow) and factor.exp.is_Integer else factor
        if base.is_number:
            continue
        if len(sympy.factor_list(base)[1]) > 1 or any(m > 1 for _, m in sympy.factor_list(base)[1]):
            return f"{base} is not irreducible: not fully factored"
    return None
