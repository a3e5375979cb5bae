"""Are two math answers the same? `compare(pred, gold, policy=...)` -> `Comparison(status, reason, evidence)`.

Both arguments are extracted answers (not whole responses). The checks run cheapest first:

1. identical comparison forms (`normalize_answer`), equal plain numbers (exact, with the percent and rounding
   policies of `Policy`), multiple-choice letters, word answers;
2. lists: a top-level comma / "and" / "or" list, a `\\{...\\}` set or a `\\pm` is a collection; collections
   match element by element (as sets, or in order with `list_order="ordered"`); a single gold against several
   different predicted values is INCORRECT;
3. single values parsed to sympy (`parse.parse_math`) and compared by kind: numbers (exact, else 30-digit
   evaluation; a written decimal may round the exact value), expressions (structural, then evaluation at
   random points, then a bounded `simplify` only when evaluation cannot decide), assignments (`x = 5` vs `5`),
   equations (sides may swap or scale), inequalities (`-x > -1` is `x < 1`), intervals (brackets matter),
   unions, sets, tuples, matrices, complex numbers (`i`), degrees vs radians.

Status: CORRECT / INCORRECT when the comparison is certain, UNDECIDED when an answer cannot be parsed or its
value cannot be evaluated (the judge takes those). Never raises on any text.
"""

from __future__ import annotations

import contextvars
import random
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType
from typing import Any, NamedTuple

import sympy
from sympy.core.function import AppliedUndef
from sympy.core.relational import Relational

from ..text import clip, parse_choices
from ..verdict import Status
from .normalize import (
    NormalForm,
    Policy,
    normalize_answer,
    numbers_match,
    other_unknowns,
    plain_number,
    split_assignment,
)
from .parse import Parsed, ParseFailure, looks_like_text, parse_math
from .semantics import Written, agree, written

__all__ = ["MAX_ITEMS", "Comparison", "compare", "split_items"]

MAX_ITEMS = 64
"""Most elements a list answer may have."""

_SAMPLES = 10
_MIN_DECIDED = 4
_MAGNITUDES = (0, 1, -1, 2, -2, 0, 8, -6, 8)
_POINT_TOL = sympy.Rational(1, 10**45)
_DIGITS = 60
_RETRY_DIGITS = 250
_MAX_DIGITS = 600
_I = sympy.Symbol("i")
_DECIMAL_LITERAL = re.compile(r"(?<![0-9.])[0-9]*\.[0-9]+(?:[eE][-+]?[0-9]{1,4})?")
_WRITTEN: contextvars.ContextVar[Mapping[float, str]] = contextvars.ContextVar(
    "written_decimals", default=MappingProxyType({})
)


@dataclass(frozen=True)
class Comparison:
    """The outcome of comparing a predicted answer with a gold answer."""

    status: Status
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)


class _Undecidable(Exception):
    """A value could not be parsed or evaluated; the comparison is UNDECIDED with this reason."""


# -- lists ----------------------------------------------------------------------------------------------------

_SEPARATOR = re.compile(r",|;|\\quad|\\qquad|(?<![A-Za-z\\])(?:and|or)(?![A-Za-z])|\\text\s*\{\s*(?:and|or)\s*\}")
_OPEN, _CLOSE = "([{", ")]}"


def split_items(text: str) -> list[str]:
    """The items of a top-level list (`1, 2`, `6 and 8`, `21,16 or 11`), outside all brackets; [text] if none."""
    items: list[str] = []
    depth = 0
    last = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in "{}":
            depth += 1 if text[i + 1] == "{" else -1
            i += 2
            continue
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        elif depth == 0:
            m = _SEPARATOR.match(text, i)
            if m and m.end() > i:
                items.append(text[last:i])
                last = i = m.end()
                continue
        i += 1
    items.append(text[last:])
    items = [s.strip() for s in items]
    return [s for s in items if s] or [text]


# -- evaluation -----------------------------------------------------------------------------------------------


def _unit_i(value: Any) -> Any:
    try:
        return value.subs(_I, sympy.I) if isinstance(value, sympy.Basic) and value.has(_I) else value
    except Exception:
        return value


def _certainly_nonzero(value: sympy.Basic) -> bool | None:
    """Whether a closed-form number is non-zero: True when sympy's adaptive evaluation certifies a non-zero digit;
    False when it reports zero to the hundreds of digits it reached (a Float with no significant bit, as for
    `\\sin^2 x + \\cos^2 x - 1`); None when it cannot evaluate the value (`f(1)`, a limit, a modulus) or returns
    a bare exact 0 that proves nothing (its `log` does for `\\ln(1 + 10^{-50})` at 40 digits)."""
    if value == 0 or value.is_Rational:
        return value != 0
    for digits in (_DIGITS, _RETRY_DIGITS):
        try:
            v = sympy.N(value, digits, maxn=_MAX_DIGITS)
            if v.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
                return None
            parts = v.as_real_imag()
        except Exception:
            return None
        if not all(isinstance(p, (sympy.Float, sympy.Rational)) for p in parts):
            return None  # not evaluated: nothing is known
        if any(p != 0 and (not isinstance(p, sympy.Float) or p._prec > 1) for p in parts):
            return True
        if any(isinstance(p, sympy.Float) for p in parts):
            return False  # zero to the precision sympy reached
    return None


class _Complex(NamedTuple):
    """A complex value evaluated to 60 digits (sympy Floats, exact 0 for "zero to the precision reached"); the
    arithmetic below keeps that precision, also for huge magnitudes such as e^{2·10^8} (exact Fractions of those
    would have millions of digits)."""

    re: Any
    im: Any

    def size(self) -> Any:
        return abs(self.re) + abs(self.im)

    def is_zero(self) -> bool:
        return bool(self.re == 0 and self.im == 0)

    def __sub__(self, other: tuple[Any, ...]) -> _Complex:
        assert isinstance(other, _Complex)
        return _Complex(self.re - other.re, self.im - other.im)

    def __truediv__(self, other: _Complex) -> _Complex:
        d = other.re * other.re + other.im * other.im
        return _Complex((self.re * other.re + self.im * other.im) / d, (self.im * other.re - self.re * other.im) / d)


def _part(part: sympy.Basic) -> Any:
    if isinstance(part, sympy.Float) and part._prec <= 1:
        return sympy.S.Zero  # zero to the precision reached
    return part


def _number(value: sympy.Basic) -> _Complex | None:
    """A closed-form value evaluated to 60 digits, None when it is not a finite number.

    A value that evaluation reports as zero to its precision (`sin(x)^2 + cos(x)^2 - 1`) is 0."""
    try:
        v = sympy.N(value, _DIGITS, maxn=_MAX_DIGITS)
        if v.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo) or not v.is_number:
            return None
        re_part, im_part = v.as_real_imag()
        if not all(isinstance(p, (sympy.Float, sympy.Rational)) for p in (re_part, im_part)):
            return None
        return _Complex(_part(re_part), _part(im_part))
    except Exception:
        return None


def _close(a: _Complex, b: _Complex, tol: Any = _POINT_TOL) -> bool:
    """Relative agreement, with no absolute floor: a tiny value is not zero."""
    return bool((a - b).size() <= tol * max(a.size(), b.size()))


def _written_decimals(*texts: str) -> dict[float, str]:
    """The decimal literals of the answers being compared, by value: the parser keeps a decimal's value but not
    its written digits (`1.7320` has four places, the Float reads 1.732). Of two spellings the longer wins."""
    found: dict[float, str] = {}
    for text in texts:
        for m in _DECIMAL_LITERAL.finditer(text):
            try:
                key = float(m.group())
            except (ValueError, OverflowError):
                continue
            if len(m.group()) > len(found.get(key, "")):
                found[key] = m.group()
    return found


def _float_text(value: sympy.Float) -> str:
    """The decimal a sympy Float was written as (`0.33`): as the answer wrote it when it is one of its literals,
    else the shortest text that reads back as the Float."""
    try:
        number = float(value)
        text = _WRITTEN.get().get(abs(number))
    except (OverflowError, ValueError, TypeError):
        text = None
    if text is not None:  # the literals are unsigned: `-1.0210` is the literal 1.0210 after a minus
        return ("-" if number < 0 else "") + text
    if value._prec <= 53:
        return repr(float(value))
    text = str(value)
    if "e" not in text and "." in text:
        text = text.rstrip("0").rstrip(".") if "." in text else text
    return text


def _rationalized(value: Any) -> Any:
    """Every decimal inside an expression read as the exact number it writes (`0.5x` is `x/2`)."""
    if not isinstance(value, sympy.Basic) or not value.has(sympy.Float):
        return value
    try:
        return value.xreplace({f: sympy.Rational(_float_text(f)) for f in value.atoms(sympy.Float)})
    except Exception:
        return value


def _as_written(value: sympy.Basic, digits: int) -> Written | None:
    """A number for `semantics.agree`: a written decimal keeps its precision; an exact value is exact (an
    irrational one evaluated to `digits` significant digits, enough to round it at any written place)."""
    if isinstance(value, sympy.Float):
        text = _float_text(value)
        return written(text, Fraction(text))
    if isinstance(value, sympy.Rational):
        return Written(Fraction(int(value.p), int(value.q)))
    c = _number(value)
    if c is None or c.im != 0 or (_certainly_nonzero(sympy.im(value)) is not False):
        return None
    try:
        return Written(Fraction(str(sympy.N(value, digits, maxn=_MAX_DIGITS))))
    except (ValueError, ZeroDivisionError):
        return None


def _numbers_equal(a: sympy.Basic, b: sympy.Basic, policy: Policy) -> bool | None:
    """`a` (the answer) and `b` (the gold), two numbers, under the rule of `semantics`: exact values must be
    equal (proved, or zero difference to hundreds of digits); a written decimal must round the other value."""
    if a.is_infinite or b.is_infinite:
        return a == b
    if a.has(sympy.I) or b.has(sympy.I):  # complex numbers: real and imaginary parts, each by the same rule
        try:
            (ra, ia), (rb, ib) = sympy.expand_complex(a).as_real_imag(), sympy.expand_complex(b).as_real_imag()
            parts = [(ra, rb), (ia, ib)]
        except Exception:
            return None
        if any(x.has(sympy.I) or y.has(sympy.I) for x, y in parts):
            return None
        return _all_true([_numbers_equal(x, y, policy) for x, y in parts])
    if isinstance(a, sympy.Float) or isinstance(b, sympy.Float):
        sig = max(written(_float_text(v), Fraction(1)).sig for v in (a, b) if isinstance(v, sympy.Float))
        wa, wb = (
            _as_written(_rationalized_unless_float(a), sig + 25),
            _as_written(_rationalized_unless_float(b), sig + 25),
        )
        if wa is None or wb is None:
            return None
        return agree(wa, wb, rounding=policy.rounding, min_sig=policy.min_sig_digits)
    a, b = _rationalized(a), _rationalized(b)
    if a.is_Rational and b.is_Rational:
        return bool(a == b)
    try:
        diff = a - b
    except Exception:
        return None
    if diff == 0:
        return True
    if diff.is_Rational:
        return False
    nonzero = _certainly_nonzero(diff)
    if nonzero is None:
        return _simplify_equal(a, b)  # `\\ln 1 - 0`: what evaluation cannot tell, a bounded simplify may prove
    return not nonzero


def _rationalized_unless_float(value: sympy.Basic) -> sympy.Basic:
    return value if isinstance(value, sympy.Float) else _rationalized(value)


def _points(symbols: Sequence[sympy.Symbol], rng: random.Random) -> list[dict[sympy.Symbol, sympy.Basic]]:
    """Fresh random rational points of both signs and several magnitudes (10^-6 to 10^9, and one small integer
    point): all positive, all negative, alternating, then random signs (positive-only points would make `x` equal
    `|x|`); random denominators, so no periodic term vanishes on all of them (a fixed grid k/1000 hides
    `\\sin(1000\\pi x)`)."""

    def sign(k: int, j: int) -> int:
        if k < 3:
            return (1, -1, 1 if j % 2 == 0 else -1)[k]
        if _MAGNITUDES[k % len(_MAGNITUDES)] == 8:  # the far points on both sides (`\\max(x, 10^5)`)
            return 1 if k % 2 == 0 else -1
        return rng.choice((1, -1))

    def value(k: int) -> sympy.Basic:
        if k == _SAMPLES - 1:
            return sympy.Integer(
                rng.randint(2, 9)
            )  # an integer point: `\\lceil x \\rceil` is not `\\lfloor x \\rfloor + 1`
        mantissa = sympy.Rational(rng.randint(10**6, 10**7), rng.randint(10**5, 10**6))
        return mantissa * sympy.Rational(10) ** _MAGNITUDES[k % len(_MAGNITUDES)]

    return [
        {s: sign(k, j) * value(k if k == _SAMPLES - 1 else k + j) for j, s in enumerate(symbols)}
        for k in range(_SAMPLES)
    ]


def _fresh_rng() -> random.Random:
    return random.Random(secrets.randbits(64))


def _expressions_equal(a: sympy.Basic, b: sympy.Basic, policy: Policy) -> bool | None:
    if a.has(sympy.zoo, sympy.nan) or b.has(sympy.zoo, sympy.nan):
        return None
    if a == b:
        return True
    free = sorted(a.free_symbols | b.free_symbols, key=lambda s: s.name)
    if not free:
        return _numbers_equal(a, b, policy)
    a, b = _rationalized(a), _rationalized(b)
    try:
        diff = a - b
        if diff == 0:
            return True
        if diff.is_number:
            return _numbers_equal(a, b, policy) if diff.free_symbols else False
        exact = _polynomial_difference_is_zero(diff, free)
        if exact is not None:
            return exact
    except Exception:
        pass
    decided = 0
    for point in _points(free, _fresh_rng()):
        try:
            av, bv = _number(a.xreplace(point)), _number(b.xreplace(point))
        except Exception:
            av = bv = None
        if av is None or bv is None:
            continue
        if not _close(av, bv):
            return False
        decided += 1
    if decided >= _MIN_DECIDED:
        return True
    return _simplify_equal(a, b)


def _exact_polynomial(expr: Any, free: Sequence[sympy.Symbol]) -> sympy.Poly | None:
    """`expr` as a polynomial in `free` with exact coefficients, when it is one small enough to expand here; None for
    anything else (a decimal, a function, `(x+y+z+w)^{30}`: the points decide those)."""
    if sympy.count_ops(expr) > 200 or not expr.is_polynomial(*free) or expr.has(sympy.Float):
        return None
    if any(isinstance(p.base, sympy.Add) and p.exp.is_Integer and p.exp > 12 for p in expr.atoms(sympy.Pow)):
        return None
    poly = sympy.Poly(expr, *free)
    if poly.total_degree() > 60 or len(poly.terms()) > 2_000:
        return None
    return poly


def _polynomial_difference_is_zero(diff: sympy.Expr, free: Sequence[sympy.Symbol]) -> bool | None:
    """For a difference of two polynomials with exact coefficients, the exact answer (expanded, it is zero or not:
    `10^{-25} x` is not); None for anything else or a polynomial too big to expand here."""
    poly = _exact_polynomial(diff, free)
    return None if poly is None else bool(poly.is_zero)


def _simplify_equal(a: sympy.Basic, b: sympy.Basic) -> bool | None:
    """Bounded symbolic check, for when evaluation at points cannot decide (the pool deadline bounds the rest)."""
    try:
        diff = a - b
        if sympy.count_ops(diff) > 200:
            return None
        return True if sympy.simplify(diff) == 0 else None
    except Exception:
        return None


def _ratio_constant(d1: sympy.Basic, d2: sympy.Basic, positive: bool) -> bool | None:
    """d1 = k * d2 for a constant k != 0 (k > 0 with `positive`): equations and inequalities in canonical form."""
    d1, d2 = _rationalized(d1), _rationalized(d2)
    free = sorted(d1.free_symbols | d2.free_symbols, key=lambda s: s.name)
    if not free:
        return None
    ratios: list[_Complex] = []
    for point in _points(free, _fresh_rng()):
        v1, v2 = _number(d1.xreplace(point)), _number(d2.xreplace(point))
        if v1 is None or v2 is None:
            continue
        if v2.is_zero():
            if v1.is_zero():
                continue
            return False
        ratios.append(v1 / v2)
    if len(ratios) < _MIN_DECIDED - 1:
        return None
    k = ratios[0]
    if k.is_zero() or not all(_close(r, k) for r in ratios):
        return False
    return not positive or bool(abs(k.im) <= _POINT_TOL * k.size() and k.re > 0)


# -- kinds ----------------------------------------------------------------------------------------------------


def _symbolic_only(expr: Any) -> bool:
    """A left-hand side that names the answer: a symbol (`x`, `a_1`), a function's value (`f(x)`), a segment or its
    length (`AB`, `|AB|`: capital letters), or a ratio of names (`V_1 : V_2`). Not an expression of the unknown
    (`y + 1`, `x^2`, `e^x`, `\\sin x`, `x!`, `xy`): `x^2 = 6` is an equation, not the answer 6."""
    if isinstance(expr, (sympy.Symbol, AppliedUndef)):
        return True
    if isinstance(expr, sympy.Tuple):  # `(p, q) = (3, 2)`
        return len(expr) > 0 and all(isinstance(e, (sympy.Symbol, AppliedUndef)) for e in expr)
    if isinstance(expr, sympy.Abs):
        return _segment(expr.args[0])
    if isinstance(expr, sympy.Mul):
        factors = [f.base if isinstance(f, sympy.Pow) and f.exp == -1 else f for f in expr.args]
        if any(isinstance(f, sympy.Pow) and f.exp == -1 for f in expr.args):  # a ratio of names
            return all(isinstance(f, (sympy.Symbol, AppliedUndef)) or _segment(f) for f in factors)
        return _segment(expr)
    return False


def _segment(expr: Any) -> bool:
    """`AB`: a product of capital-letter symbols, read as a name."""
    factors = expr.args if isinstance(expr, sympy.Mul) else (expr,)
    return all(isinstance(f, sympy.Symbol) and f.name[:1].isupper() for f in factors)


def _named_tuple(value: Any) -> dict[sympy.Symbol, Any] | None:
    """`(x, y) = (6, 5)` as {x: 6, y: 5}: a tuple of distinct unknowns set to a tuple of values."""
    if not isinstance(value, sympy.Eq) or not isinstance(value.lhs, sympy.Tuple):
        return None
    rhs = value.rhs
    if isinstance(rhs, sympy.Interval) and rhs.left_open and rhs.right_open:
        rhs = sympy.Tuple(rhs.start, rhs.end)  # `(5, 6)` read as an open interval
    names = list(value.lhs)
    if (
        isinstance(rhs, sympy.Tuple)
        and len(names) == len(rhs)
        and all(isinstance(n, sympy.Symbol) for n in names)
        and len(set(names)) == len(names)
    ):
        return dict(zip(names, rhs))
    return None


def _function_definition(value: Any) -> tuple[sympy.Symbol, Any] | None:
    """(variable, body) of `f(x) = body`: a function of one variable defined by an expression."""
    if isinstance(value, sympy.Eq) and isinstance(value.lhs, AppliedUndef) and len(value.lhs.args) == 1:
        var = value.lhs.args[0]
        if isinstance(var, sympy.Symbol) and isinstance(value.rhs, sympy.Expr):
            return var, value.rhs
    return None


def _solved_for(equation: sympy.Eq, other: sympy.Expr) -> list[Any] | None:
    """The solutions of `equation` for its one unknown that `other` does not mention (`y + 1 = -(2x-1)^2` against
    an expression in x: y = -(2x-1)^2 - 1); None when there is no such single unknown or it cannot be solved."""
    unknowns = equation.free_symbols - other.free_symbols
    if len(unknowns) != 1 or not other.free_symbols:
        return None
    (y,) = unknowns
    d = equation.lhs - equation.rhs
    try:
        poly = sympy.Poly(d, y)
        if poly.degree() == 1:
            c1, c0 = poly.all_coeffs()
            return [-c0 / c1]
        if sympy.count_ops(d) > 60:
            return None
        solutions = sympy.solve(d, y)
    except Exception:
        return None
    return list(solutions) if isinstance(solutions, list) and solutions else None


_CONSTANT_NAMES = frozenset({"C", "K", "c", "C_1", "C_{1}", "c_1", "c_{1}"})


def _integration_constant(value: Any) -> sympy.Symbol | None:
    """The constant of integration added to an antiderivative (`x^2/2 + C`), or None."""
    if not isinstance(value, sympy.Add):
        return None
    found = [t for t in value.args if isinstance(t, sympy.Symbol) and t.name in _CONSTANT_NAMES]
    return found[0] if len(found) == 1 else None


def _antiderivatives_equal(a: sympy.Expr, b: sympy.Expr, ca: sympy.Symbol, cb: sympy.Symbol) -> bool | None:
    """Two antiderivatives with their constants: equal when they differ by a constant (the same at every point)."""
    d = _rationalized(a.xreplace({ca: 0}) - b.xreplace({cb: 0}))
    free = sorted(d.free_symbols, key=lambda s: s.name)
    if not free:
        return True
    values = []
    for point in _points(free, _fresh_rng()):
        v = _number(d.xreplace(point))
        if v is not None:
            values.append(v)
    if len(values) < _MIN_DECIDED:
        return None
    return all(_close(v, values[0]) or v == values[0] for v in values)


def _assigned(value: Any) -> Any:
    """`x = 5` -> 5, `x = 1 + 1 = 2` -> 2, `x \\in [0, 1]` -> [0, 1]; other values unchanged."""
    if isinstance(value, sympy.And) and value.args and all(isinstance(a, sympy.Eq) for a in value.args):
        ordered = getattr(value, "_unsorted_args", value.args)
        if _symbolic_only(ordered[0].lhs):
            return ordered[-1].rhs
    if isinstance(value, sympy.Eq) and _symbolic_only(value.lhs):
        return value.rhs
    return value


def _matrix_value(value: Any) -> Any:
    """A sum or product of explicit matrices, computed (`A + B` written out with `pmatrix`)."""
    if isinstance(value, (sympy.MatAdd, sympy.MatMul)) and not value.free_symbols:
        try:
            done = value.doit()
            return done if isinstance(done, sympy.MatrixBase) else value
        except Exception:
            return value
    return value


def _as_interval(value: Any) -> Any:
    """`a < x < b` and `x > a` (one unknown against numbers) as an interval; other values unchanged."""
    return _interval_and_variable(value)[0]


def _interval_and_variable(value: Any) -> tuple[Any, Any]:
    """(interval, the unknown it constrains) for `a < E < b` / `E > a`; (value, None) for anything else."""
    rels = None
    if isinstance(value, sympy.And) and all(
        isinstance(a, Relational) and not isinstance(a, (sympy.Eq, sympy.Ne)) for a in value.args
    ):
        rels = list(value.args)
    elif isinstance(value, Relational) and not isinstance(value, (sympy.Eq, sympy.Ne)):
        rels = [value]
    if not rels or len(rels) > 2:
        return value, None
    sides = [side for r in rels for side in (r.lhs, r.rhs) if not side.is_number]
    if not sides or any(side != sides[0] for side in sides):
        return value, None
    x = sides[0]
    lo, hi, lo_open, hi_open = sympy.S.NegativeInfinity, sympy.S.Infinity, True, True
    for r in rels:
        strict = isinstance(r, (sympy.StrictLessThan, sympy.StrictGreaterThan))
        less = isinstance(r, (sympy.StrictLessThan, sympy.LessThan))
        left, right = r.lhs, r.rhs
        if right == x:
            left, right, less = right, left, not less
        if left != x or not right.is_number:
            return value, None
        if less:
            hi, hi_open = right, strict
        else:
            lo, lo_open = right, strict
    try:
        return sympy.Interval(lo, hi, lo_open, hi_open), x
    except Exception:
        return value, None


def _canonical_relation(r: Relational) -> tuple[str, sympy.Basic]:
    """(`<`, `<=`, `!=` or `=`; expression e) with the relation read as `e op 0`."""
    if isinstance(r, sympy.Eq):
        return "=", r.lhs - r.rhs
    if isinstance(r, sympy.Ne):
        return "!=", r.lhs - r.rhs
    if isinstance(r, (sympy.StrictLessThan, sympy.LessThan)):
        return ("<" if isinstance(r, sympy.StrictLessThan) else "<="), r.lhs - r.rhs
    return ("<" if isinstance(r, sympy.StrictGreaterThan) else "<="), r.rhs - r.lhs


def _polynomial_multiple(ea: Any, eb: Any, positive: bool) -> bool | None:
    """For two polynomials with exact coefficients, exactly whether ea = k * eb for a constant k != 0 (k > 0 with
    `positive`): `y - 2x - 1 = 10^{-60}` is not `y = 2x + 1`. None for anything else."""
    free = sorted(ea.free_symbols | eb.free_symbols, key=lambda s: s.name)
    try:
        if not free or sympy.count_ops(ea) + sympy.count_ops(eb) > 200:
            return None
        pa, pb = _exact_polynomial(ea, free), _exact_polynomial(eb, free)
        if pa is None or pb is None:
            return None
        if pa.is_zero or pb.is_zero:
            return bool(pa.is_zero and pb.is_zero)
        k = pa.LC() / pb.LC()
        return bool((pa - pb.mul_ground(k)).is_zero) and (not positive or bool(k > 0))
    except Exception:
        return None


def _relations_equal(a: Relational, b: Relational) -> bool | None:
    op_a, ea = _canonical_relation(a)
    op_b, eb = _canonical_relation(b)
    if op_a != op_b:
        return False
    exact = _polynomial_multiple(_rationalized(ea), _rationalized(eb), positive=op_a not in ("=", "!="))
    if exact is not None:
        return exact
    r = _ratio_constant(ea, eb, positive=op_a not in ("=", "!="))
    if r is None and (a == b or _simplify_equal(ea, eb)):
        return True
    return r


def _elements(value: Any) -> list[Any] | None:
    if isinstance(value, sympy.FiniteSet):
        return list(getattr(value, "_unsorted_args", value.args))
    return None


def _match_all(
    a: Sequence[Any],
    b: Sequence[Any],
    policy: Policy,
    ordered: bool,
    equal: Callable[[Any, Any, Policy], bool | None] | None = None,
) -> bool | None:
    """Whether the answer's items `a` match the gold's `b`, in order or as sets (each gold item used once)."""
    equal = equal or _equal
    if len(a) != len(b):
        return False
    if ordered:
        results = [equal(x, y, policy) for x, y in zip(a, b)]
        if any(r is False for r in results):
            return False
        return None if any(r is None for r in results) else True
    unused = list(range(len(b)))
    undecided = False
    for x in a:
        hit = None
        for j in unused:
            r = equal(x, b[j], policy)
            if r:
                hit = j
                break
            undecided = undecided or r is None
        if hit is None:
            return None if undecided else False
        unused.remove(hit)
    return True


def _interval_equal(a: sympy.Interval, b: sympy.Interval, policy: Policy) -> bool | None:
    if a.left_open != b.left_open or a.right_open != b.right_open:
        return False
    return _all_true([_endpoint_equal(a.start, b.start, policy), _endpoint_equal(a.end, b.end, policy)])


def _endpoint_equal(a: Any, b: Any, policy: Policy) -> bool | None:
    if a.is_infinite or b.is_infinite:
        return a == b
    return _equal(a, b, policy)


def _vector(value: Any) -> Any:
    """A one-row or one-column matrix as the tuple of its entries (a vector written as a tuple is the same)."""
    if isinstance(value, sympy.MatrixBase) and 1 in value.shape:
        return sympy.Tuple(*value)
    return value


def _solution_set(value: Any) -> Any:
    """A condition on one real unknown (`|x| \\le 3`, `1 \\le |z| \\le 2`, `x < -1 \\lor x > 1`) as the set
    of reals it holds on; other values unchanged."""
    if not isinstance(value, (Relational, sympy.And, sympy.Or)) or isinstance(value, sympy.Eq):
        return value
    free = value.free_symbols
    if len(free) != 1 or sympy.count_ops(value) > 40:
        return value
    x = next(iter(free))

    def solve(condition: Any) -> Any:
        if isinstance(condition, (sympy.And, sympy.Or)):
            parts = [solve(c) for c in condition.args]
            return sympy.Intersection(*parts) if isinstance(condition, sympy.And) else sympy.Union(*parts)
        return sympy.solveset(condition, x, sympy.S.Reals)

    try:
        result = solve(value)
    except Exception:
        return value
    return result if isinstance(result, sympy.Set) else value


_AND = re.compile(r"(?<![A-Za-z\\])and(?![A-Za-z])|\\land(?![A-Za-z])|\\wedge(?![A-Za-z])")
_OR = re.compile(r"(?<![A-Za-z\\])or(?![A-Za-z])|\\lor(?![A-Za-z])|\\vee(?![A-Za-z])|\\cup(?![A-Za-z])")
_AMBIGUOUS = sympy.Symbol("ambiguous conditions")


def _union_of_conditions(values: list[Any], text: str) -> Any:
    """Several conditions on the same unknown as one set: joined by "or" (or commas) their union, by "and" their
    intersection (`x < -2 or x > 3`; `x > 1 and x < 3`)."""
    if len(values) < 2 or not all(
        isinstance(v, (Relational, sympy.And, sympy.Or)) and not isinstance(v, (sympy.Eq, sympy.Ne)) for v in values
    ):
        return None
    sets = [_solution_set(v) for v in values]
    free = {frozenset(v.free_symbols) for v in values}
    if len(free) != 1 or not all(isinstance(x, sympy.Set) for x in sets):
        return None
    joiner = "and" if _AND.search(text) else "or" if _OR.search(text) else None
    if joiner is None:
        return _AMBIGUOUS  # `x \ge 0, x \le 1`: a list of conditions may mean either
    try:
        return sympy.Intersection(*sets) if joiner == "and" else sympy.Union(*sets)
    except Exception:
        return None


def _sets_equal(a: sympy.Set, b: sympy.Set) -> bool | None:
    """Two sets of reals written differently (`(-2,0) \\cup (0,2)` and `(-2,2) \\setminus \\{0\\}`): their
    symmetric difference is empty; None when sympy cannot decide."""
    if a.free_symbols or b.free_symbols:
        return None
    try:
        difference = sympy.Union(sympy.Complement(a, b), sympy.Complement(b, a))
    except Exception:
        return None
    if difference is sympy.S.EmptySet:
        return True
    if isinstance(difference, (sympy.Interval, sympy.FiniteSet)) or (
        isinstance(difference, sympy.Union)
        and all(isinstance(x, (sympy.Interval, sympy.FiniteSet)) for x in difference.args)
    ):
        return False
    return None


def _all_true(results: Sequence[bool | None]) -> bool | None:
    if any(r is False for r in results):
        return False
    return None if any(r is None for r in results) else True


def _equal(a: Any, b: Any, policy: Policy) -> bool | None:
    """Whether two parsed values are equal; None when it cannot be told."""
    na, nb = _named_tuple(a), _named_tuple(b)
    if na is not None and nb is not None:  # `(x, y) = (6, 5)`: values by name
        if set(na) != set(nb):
            return False
        return _all_true([_equal(na[k], nb[k], policy) for k in na])
    fa, fb = _function_definition(a), _function_definition(b)
    if fa is not None and fb is not None:  # `f(x) = x^2` and `f(t) = t^2`: the bound variable is a name
        (va, body_a), (vb, body_b) = fa, fb
        if va != vb:
            if vb in body_a.free_symbols:
                return False  # `f(y) = x^2` is constant in y: not `f(x) = x^2`
            body_a = body_a.xreplace({va: vb})
        return _equal(body_a, body_b, policy)
    for eq, other, flip in ((a, b, False), (b, a, True)):
        if (
            isinstance(eq, sympy.Eq)
            and isinstance(other, sympy.Expr)
            and not _symbolic_only(eq.lhs)
            and not _symbolic_only(eq.rhs)
        ):
            solutions = _solved_for(eq, other)
            if solutions is not None:
                results = [_equal(s, other, policy) if flip else _equal(other, s, policy) for s in solutions]
                if len(solutions) == 1:
                    return results[0]
                return False if all(r is False for r in results) else None
    if isinstance(a, sympy.Eq) and isinstance(b, sympy.Eq):
        if not any(isinstance(side, (sympy.Set, sympy.Tuple, sympy.MatrixBase)) for side in (*a.args, *b.args)):
            r = _relations_equal(a, b)
            if r is not None:
                return r
    a, b = _matrix_value(_assigned(a)), _matrix_value(_assigned(b))
    if isinstance(a, sympy.Eq) != isinstance(b, sympy.Eq):
        return False
    if isinstance(a, sympy.MatrixBase) or isinstance(b, sympy.MatrixBase):
        if not (isinstance(a, sympy.MatrixBase) and isinstance(b, sympy.MatrixBase)):
            a, b = _vector(a), _vector(b)  # a row or a column written as a tuple
        if isinstance(a, sympy.Tuple) and isinstance(b, sympy.Tuple):
            return _match_all(list(a), list(b), policy, ordered=True)
        if not (isinstance(a, sympy.MatrixBase) and isinstance(b, sympy.MatrixBase)) or a.shape != b.shape:
            return False
        return _all_true([_equal(x, y, policy) for x, y in zip(a, b)])
    (a_int, a_var), (b_int, b_var) = _interval_and_variable(a), _interval_and_variable(b)
    sets = (sympy.Interval, sympy.Union)
    # `0 < f(x) < 1` is an interval of f(x); `1 \le |z|` is no interval of z
    plain = all(v is None or isinstance(v, (sympy.Symbol, AppliedUndef)) for v in (a_var, b_var))
    if (
        plain
        and isinstance(a_int, sets)
        and isinstance(b_int, sets)
        and (a_var is None or b_var is None or a_var == b_var)
    ):
        a, b = a_int, b_int
    if isinstance(a, Relational) and isinstance(b, Relational):
        return _relations_equal(a, b)
    if isinstance(a, (sympy.And, sympy.Or)) and isinstance(b, type(a)):
        return _match_all(list(a.args), list(b.args), policy, ordered=False)
    # an open interval and a pair are written the same way: (1, 2)
    if isinstance(a, sympy.Interval) and isinstance(b, sympy.Tuple) and len(b) == 2 and a.left_open and a.right_open:
        a = sympy.Tuple(a.start, a.end)
    if isinstance(b, sympy.Interval) and isinstance(a, sympy.Tuple) and len(a) == 2 and b.left_open and b.right_open:
        b = sympy.Tuple(b.start, b.end)
    if isinstance(a, sympy.Interval) and isinstance(b, sympy.Interval):
        return _interval_equal(a, b, policy)
    if isinstance(a, sympy.Union) and isinstance(b, sympy.Union):
        return _match_all(list(a.args), list(b.args), policy, ordered=False)
    if isinstance(a, sympy.Tuple) and isinstance(b, sympy.Tuple):
        return _match_all(list(a), list(b), policy, ordered=True)
    ea, eb = _elements(a), _elements(b)
    if ea is not None or eb is not None:
        return _match_all(ea if ea is not None else [a], eb if eb is not None else [b], policy, ordered=False)
    if isinstance(a, sympy.Set) or isinstance(b, sympy.Set):
        sa, sb = _solution_set(a), _solution_set(b)
        if isinstance(sa, sympy.Set) and isinstance(sb, sympy.Set):
            r = _sets_equal(sa, sb)
            if r is not None:
                return r
    kinds = (sympy.Set, sympy.Tuple, Relational, sympy.And, sympy.Or, sympy.Not)
    if isinstance(a, kinds) or isinstance(b, kinds):
        return False if type(a) is not type(b) else (True if a == b else None)
    if not (isinstance(a, sympy.Expr) and isinstance(b, sympy.Expr)):
        return None
    ca, cb = _integration_constant(a), _integration_constant(b)
    if ca is not None and cb is not None:
        return _antiderivatives_equal(a, b, ca, cb)
    try:
        return _expressions_equal(_unit_i(a), _unit_i(b), policy)
    except Exception:
        return None


# -- readings of markers (% and degrees) -------------------------------------------------------------------------


def _readings(value: Any, form: NormalForm, other: NormalForm, is_gold: bool, policy: Policy) -> list[Any]:
    """The values an answer may stand for, given its `%` / degree markers and the other side's."""
    out = [value]
    if form.percent and isinstance(value, sympy.Expr):
        factors = [Fraction(r) for r in _percent_factors(form, other, is_gold, policy)]
        out = [value * sympy.Rational(f.numerator, f.denominator) if f != 1 else value for f in factors]
    if form.degrees and not other.degrees and policy.degrees and isinstance(value, sympy.Expr):
        out = out + [v * sympy.pi / 180 for v in out]
    return out


def _percent_factors(form: NormalForm, other: NormalForm, is_gold: bool, policy: Policy) -> list[Fraction]:
    from .normalize import value_readings

    return value_readings(Fraction(1), form.percent, other.percent, is_gold, policy)


# -- the entry point ----------------------------------------------------------------------------------------------


_SET_BUILDER = re.compile(r"^\\\{\s*([A-Za-z])\s*(?:\\in\s*\\mathbb\s*\{?\s*R\s*\}?\s*)?(?:\\mid|\||:)\s*(.+?)\s*\\\}$")


def _parsed(text: str) -> Any:
    m = _SET_BUILDER.match(text.strip())
    if m is not None:  # `\{x \mid -1 < x < 1\}`: the condition, read as an interval where it is one
        value = _parsed(m.group(2))
        if {str(s) for s in getattr(value, "free_symbols", set())} != {m.group(1)}:
            raise _Undecidable(f"{clip(text, 80)!r}: the condition is not on the set's variable {m.group(1)}")
        interval, variable = _interval_and_variable(value)
        return interval if variable is not None and str(variable) == m.group(1) else _solution_set(value)
    result = parse_math(text)
    if isinstance(result, ParseFailure):
        raise _Undecidable(f"{clip(text, 80)!r}: {result.reason}")
    assert isinstance(result, Parsed)
    return result.value


_APPROX = re.compile(r"\\approx|≈|\\simeq")
_EQ_SPLIT = re.compile(r"(?<![<>!=\\])=(?!=)")
_TIME = re.compile(r"^\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?m\.?)?$", re.IGNORECASE)
_LABEL = re.compile(
    r"^\s*([A-Za-z][A-Za-z ]{0,29}?)\s*(?:_\{?([A-Za-z0-9]{1,8})\}?)?\s*(?:=|(?<=[A-Za-z]{3}):)\s*(?=\S)"
)
"""`x = 5`, `a_1 = 3`, `Maximum = 2`, `Minimum: 1` (a colon only after a word: `A:B = 1` is a ratio)."""
_SHORT_LABELS = frozenset({"max", "min", "sum", "lcm", "gcd", "area"})
_LABEL_ALIASES = {
    "maximum": "max",
    "minimum": "min",
    "largest": "max",
    "smallest": "min",
    "greatest": "max",
    "least": "min",
}
_HEDGES = re.compile(
    r"(?i)(?<![A-Za-z\\])(?:probably|maybe|perhaps|possibly|likely|unlikely|might|guess|unsure|"
    r"not|wrong|incorrect|false|except|unknown)(?![A-Za-z])|\u0338|\\not(?![A-Za-z])"
)
_ELLIPSES = ("...", "…", "\\dots", "\\ldots", "\\cdots")
_DENIAL = re.compile(r"(?i)n't(?![A-Za-z])|(?<![A-Za-z])(?:not|non|no|nicht|pas)(?![A-Za-z])|不|非|没")
_STANDALONE_LETTER = re.compile(r"(?<![A-Za-z])[A-J](?![A-Za-z])")


def final_value_text(item: str) -> str:
    """The value an answer item states: `x = 5 + 5 + 1 = 11` -> `11`, `\\frac{9.5}{\\pi} \\approx 3.01` ->
    `\\frac{9.5}{\\pi}`, `x \\approx 11` -> `11`, `\\frac{1}{2} = 0.5` -> `0.5`; an equation in unknowns stays."""
    parts = _APPROX.split(item)
    if len(parts) > 1:
        head = parts[0].strip()
        lhs, rhs = split_assignment(head + " = 0") if "=" not in head else ("", head)
        item = parts[-1].strip() if (lhs and rhs == "0") else head
    sides = [p.strip() for p in _EQ_SPLIT.split(item)]
    if len(sides) >= 3 and all(sides):
        return sides[-1]
    if (
        len(sides) == 2
        and all(sides)
        and not any(re.search(r"[A-Za-z]", re.sub(r"\\[A-Za-z]+", "", side)) for side in sides)
    ):
        return sides[1]  # a numeric statement: the value it ends with
    return item


def _values(items: list[str]) -> list[Any]:
    values: list[Any] = []
    for item in items:
        value = _parsed(final_value_text(item))
        elements = _elements(_assigned(value))
        values.extend(elements if elements is not None else [value])
    return values


def _distinct_values(values: list[Any]) -> list[Any]:
    seen: dict[str, Any] = {}
    for v in values:
        seen.setdefault(str(v), v)
    return list(seen.values())


def _text_key(text: str) -> str:
    return re.sub(r"\s+", "", text.replace("\\text", "")).strip("{}()").casefold()


def _choice(form: NormalForm) -> str | None:
    """The letter of a multiple-choice gold (`B`, `(C)`, `(D) Alina`, `C Cecile`), or None."""
    text = form.text.strip()
    if "=" in text or len(text) > 200:
        return None
    m = re.match(r"^\(?([A-J])\)?(?:[.:)]?\s+\S.*|[.:])?$", text, re.DOTALL)
    return m.group(1) if m else None


def _labelled(items: list[str]) -> list[tuple[str, str]] | None:
    """(label key, value text) for each item when every item is labelled (`Maximum = 2`, `a = -2`), else None."""
    out: list[tuple[str, str]] = []
    for item in items:
        keys: list[str] = []
        rest = item
        while (m := _LABEL.match(rest)) is not None and len(keys) < 8:  # `a = b = -2` labels both
            key = re.sub(r"[^a-z]", "", m.group(1).casefold())
            keys.append(_LABEL_ALIASES.get(key, key) + (f"_{m.group(2)}" if m.group(2) else ""))
            rest = rest[m.end() :].strip()
        if not keys:
            return None
        out.extend((key, rest) for key in keys)
    return out


def _same_label(a: str, b: str) -> bool:
    """The same label: equal, or one word a prefix of the other (`max`, `maximum`) with equal subscripts."""
    (word_a, _, sub_a), (word_b, _, sub_b) = a.partition("_"), b.partition("_")
    if sub_a != sub_b:
        return False
    return word_a == word_b or (
        min(len(word_a), len(word_b)) >= 3 and (word_a.startswith(word_b) or word_b.startswith(word_a))
    )


_PARAMETER = re.compile(
    r"^(?:(?:where|for|with|and)\s+)?([A-Za-z])\s*(?:\\in\s*\\mathbb\s*\{?\s*Z\s*\}?|"
    r"\\in\s*\\Z(?![A-Za-z])|is\s+an?\s+integer)$"
)
_FAMILY_NAMES = frozenset("knmjl")
_SHIFTS = range(-3, 4)


def _family_parameters(items: list[str]) -> tuple[list[str], list[sympy.Symbol]]:
    """The items without their `k \\in \\mathbb{Z}` clauses, and the integer parameters those clauses declare."""
    kept: list[str] = []
    params: list[sympy.Symbol] = []
    for item in items:
        m = _PARAMETER.match(item.strip())
        if m is None:
            kept.append(item)
        else:
            params.append(sympy.Symbol(m.group(1)))
    return kept or items, params


def _family_parameter(declared: list[sympy.Symbol]) -> sympy.Symbol | None:
    """The integer parameter of a family of answers: the gold must declare it (`k \\in \\mathbb{Z}`). A `k` or `n`
    alone is not enough: `(n-2)\\pi` (a polygon's angle sum) is no family, and shifting its n is an off-by-one."""
    return declared[0] if len(declared) == 1 else None


def _family_equal(a: Any, b: Any, k: sympy.Symbol, policy: Policy) -> bool | None:
    """`a` and `b` as families over the integer `k`: the same set when a(k) = b(±k + c) for a small shift c
    (`-\\frac{\\pi}{6} + k\\pi` and `\\frac{5\\pi}{6} + k\\pi`); `2k\\pi` and `k\\pi` are not."""
    results = []
    for sign in (1, -1):
        for c in _SHIFTS:
            r = _equal(a, b if (sign, c) == (1, 0) else b.xreplace({k: sign * k + c}), policy)
            if r:
                return True
            results.append(r)
    return False if all(r is False for r in results) else None


def compare(pred: str, gold: str, *, policy: Policy | None = None) -> Comparison:
    """Compare a predicted final answer with the gold answer under `policy` (see the module docstring)."""
    policy = policy or Policy()
    p_form, g_form = normalize_answer(pred), normalize_answer(gold)
    evidence: dict[str, Any] = {"normalized_answer": p_form.to_dict(), "normalized_gold": g_form.to_dict()}
    token = _WRITTEN.set(_written_decimals(p_form.text, g_form.text))
    try:
        return _compare(p_form, g_form, policy, evidence)
    except RecursionError:
        return Comparison(Status.UNDECIDED, "expression nested too deep to compare", evidence)
    finally:
        _WRITTEN.reset(token)


def _decided(ok: bool | None, yes: str, no: str, undecided: str, evidence: dict[str, Any]) -> Comparison:
    if ok is None:
        return Comparison(Status.UNDECIDED, undecided, evidence)
    return Comparison(Status.CORRECT if ok else Status.INCORRECT, yes if ok else no, evidence)


def _compare(p: NormalForm, g: NormalForm, policy: Policy, evidence: dict[str, Any]) -> Comparison:
    if not p.text:
        return Comparison(Status.INCORRECT, "the answer is empty", evidence)
    if p.same_reading(g):
        return Comparison(Status.CORRECT, "identical normalized answers", evidence)
    if p.text.endswith(_ELLIPSES) and not g.text.endswith(_ELLIPSES):
        return Comparison(Status.UNDECIDED, "the answer trails off (an ellipsis)", evidence)
    hedge = _HEDGES.search(re.sub(r"\\[A-Za-z]+", " ", p.text))
    if hedge and not _HEDGES.search(g.text):
        return Comparison(Status.INCORRECT, f"the answer hedges ({hedge.group()!r})", evidence)
    kind = p.differs_in_kind(g)
    if kind and (p.label or g.label):
        return Comparison(Status.UNDECIDED, kind, evidence)
    if kind:
        try:
            return _compare_units(p, g, policy, evidence)
        except _Undecidable as exc:
            return Comparison(Status.UNDECIDED, f"could not parse {exc}", evidence)
    if p.text == g.text and p.percent == g.percent and p.degrees == g.degrees:
        return Comparison(Status.CORRECT, "identical values (a unit on one side only)", evidence)
    if _TIME.match(p.text) and _TIME.match(g.text):
        ok = p.text.replace(" ", "").casefold() == g.text.replace(" ", "").casefold()
        return Comparison(Status.CORRECT if ok else Status.INCORRECT, f"times {'equal' if ok else 'differ'}", evidence)
    pn, gn = plain_number(p), plain_number(g)
    if pn is not None and gn is not None and pn.value is not None and gn.value is not None:
        if other_unknowns(p, g):
            return Comparison(Status.INCORRECT, "the answer gives another unknown than the gold", evidence)
        ok = numbers_match(pn, p.percent or pn.percent, gn, g.percent or gn.percent, policy)
        return Comparison(
            Status.CORRECT if ok else Status.INCORRECT,
            f"numbers {'equal' if ok else 'differ'}: {clip(pn.text, 40)} vs {clip(gn.text, 40)}",
            evidence,
        )
    letter = _choice(g)
    if letter is not None:
        letters = parse_choices(p.text, whole=True) or parse_choices(p.text)
        others = set(_STANDALONE_LETTER.findall(p.text)) - set(letters)
        if letters and others and not _DENIAL.search(p.text):  # `A B C D`; but `D, not A or B` rules A, B out
            return Comparison(Status.INCORRECT, "several choice letters in the answer", evidence)
        if letters:
            ok = letters == [letter]
            reason = f"choice {'/'.join(letters)} vs {letter}"
            if len(letters) > 1:
                reason = f"several choices given ({', '.join(letters)})"
            return Comparison(Status.CORRECT if ok else Status.INCORRECT, reason, evidence)
    if looks_like_text(g.text) or looks_like_text(p.text):
        if _text_key(p.text) == _text_key(g.text):
            return Comparison(Status.CORRECT, "same text answer", evidence)
    p_items, g_items = split_items(p.text), split_items(g.text)
    if len(p_items) > MAX_ITEMS or len(g_items) > MAX_ITEMS:
        return Comparison(Status.UNDECIDED, f"list of more than {MAX_ITEMS} items", evidence)
    if len(g_items) == 1 and len(set(p_items)) > 1:
        several = _several_for_one(p_items, g_items[0], policy, evidence)
        if several is not None:
            return several
    if len(p_items) == 1 and len(g_items) == 1 and (looks_like_text(g.text) or looks_like_text(p.text)):
        single = " " not in p.text.strip() and " " not in g.text.strip()
        if single and looks_like_text(g.text) and looks_like_text(p.text):
            return Comparison(Status.INCORRECT, "different word answers", evidence)
        return Comparison(Status.UNDECIDED, "text answers differ in wording; cannot tell", evidence)
    p_labels, g_labels = _labelled(p_items), _labelled(g_items)
    if p_labels is not None and g_labels is not None and max(len(p_labels), len(g_labels)) > 1:
        try:
            return _compare_labelled(p_labels, g_labels, policy, evidence)
        except _Undecidable as exc:
            return Comparison(Status.UNDECIDED, f"could not parse {exc}", evidence)
    ordered_by_label = False
    if (p_labels is None) != (g_labels is None):  # `y = 1, x = 2` against `(1, 2)`: the values in the order of
        labels = p_labels if p_labels is not None else g_labels  # their unknowns' names, as a tuple lists them
        assert labels is not None
        unknowns = all(len(k.partition("_")[0]) == 1 for k, _ in labels)  # unknowns, not words like `max`
        word_labels = all(len(w) >= 4 or w in _SHORT_LABELS for w in (k.partition("_")[0] for k, _ in labels))
        if unknowns and len(labels) > 1 and len({k for k, _ in labels}) == len(labels):
            if p_labels is not None and [k for k, _ in labels] != sorted(k for k, _ in labels):
                # `y = 1, x = 2` against `(1, 2)`: which order the tuple means is not written anywhere
                return Comparison(Status.UNDECIDED, "labelled unknowns against a tuple, in another order", evidence)
            written = [f"{k} = {v}" for k, v in labels]  # the gold's order, or the answer's alphabetical one
            p_items, g_items = (written, g_items) if p_labels is not None else (p_items, written)
            ordered_by_label = True
        elif word_labels:  # `Maximum = 2, Minimum = 1` against `1, 2`: the values, as a set (`xy = 6` is a product)
            bare = [v for _, v in labels]
            p_items, g_items = (bare, g_items) if p_labels is not None else (p_items, bare)
    (p_items, p_params), (g_items, g_params) = _family_parameters(p_items), _family_parameters(g_items)
    try:
        p_values, g_values = _values(p_items), _values(g_items)
    except _Undecidable as exc:
        return Comparison(Status.UNDECIDED, f"could not parse {exc}", evidence)
    evidence["parsed_answer"] = clip(", ".join(str(v) for v in p_values), 300)
    evidence["parsed_gold"] = clip(", ".join(str(v) for v in g_values), 300)
    k = _family_parameter(g_params)
    if k is not None:
        return _compare_families(p_values, g_values, k, p_params, policy, evidence)
    if len(g_values) == 1 and len(p_values) == 1:
        undecided = False
        for pv in _readings(p_values[0], p, g, False, policy):
            for gv in _readings(g_values[0], g, p, True, policy):
                r = _equal(pv, gv, policy)
                if r:
                    return Comparison(Status.CORRECT, "equivalent", evidence)
                undecided = undecided or r is None
        if undecided:
            return Comparison(Status.UNDECIDED, "could not decide equivalence", evidence)
        return Comparison(Status.INCORRECT, "not equivalent", evidence)
    p_set, g_set = _union_of_conditions(p_values, p.text), _union_of_conditions(g_values, g.text)
    if _AMBIGUOUS in (p_set, g_set):
        return Comparison(Status.UNDECIDED, "conditions in a list, neither 'and' nor 'or'", evidence)
    if p_set is not None or g_set is not None:  # conditions joined by "or" / "and" against a set or conditions
        a_set = p_set if p_set is not None else (p_values[0] if len(p_values) == 1 else None)
        b_set = g_set if g_set is not None else (g_values[0] if len(g_values) == 1 else None)
        a_set, b_set = _solution_set(_assigned(a_set)), _solution_set(_assigned(b_set))
        if isinstance(a_set, sympy.Set) and isinstance(b_set, sympy.Set):
            r = _sets_equal(a_set, b_set)
            return _decided(r, "the same set", "different sets", "could not compare the sets", evidence)
    for one, many, items in ((g_values, p_values, p_items), (p_values, g_values, g_items)):
        if len(one) == 1 and len(many) > 1 and not any(i.lstrip().startswith("\\{") for i in items):  # no `\{set\}`
            pair = one[0]
            if isinstance(pair, sympy.Interval) and pair.left_open and pair.right_open and len(many) == 2:
                pair = sympy.Tuple(pair.start, pair.end)
            if isinstance(pair, sympy.Tuple) and len(pair) == len(many):  # `1, 3` written for `(1, 3)`
                r = _match_all(list(pair), many, policy, ordered=True)
                if r is not None:
                    return Comparison(
                        Status.CORRECT if r else Status.INCORRECT,
                        "tuple written without brackets " + ("matches" if r else "differs"),
                        evidence,
                    )
    if policy.list_order == "set":
        p_values, g_values = _distinct_values(p_values), _distinct_values(g_values)
    if len(g_values) == 1 and len(p_values) > 1:
        return Comparison(
            Status.INCORRECT, f"several different answers ({len(p_values)}) for a single gold value", evidence
        )
    ordered = policy.list_order == "ordered" or ordered_by_label
    r = _match_all(p_values, g_values, policy, ordered)
    if r is None:
        return Comparison(Status.UNDECIDED, "could not decide equivalence of the lists", evidence)
    return Comparison(
        Status.CORRECT if r else Status.INCORRECT,
        "lists match" if r else f"lists differ ({len(p_values)} vs {len(g_values)} items)",
        evidence,
    )


def _compare_families(
    p_values: list[Any],
    g_values: list[Any],
    k: sympy.Symbol,
    p_params: list[sympy.Symbol],
    policy: Policy,
    evidence: dict[str, Any],
) -> Comparison:
    """Families of answers over an integer parameter, compared up to renaming, shifting and reflecting it."""
    gold_free: set[Any] = set().union(*(getattr(v, "free_symbols", set()) for v in g_values))
    pred_free: set[Any] = set().union(*(getattr(v, "free_symbols", set()) for v in p_values))
    extra = pred_free - gold_free
    own = (
        p_params[0]
        if len(p_params) == 1
        else next(iter(extra))
        if len(extra) == 1 and next(iter(extra)).name in _FAMILY_NAMES
        else None
    )
    if own is not None and own != k and k not in pred_free:
        p_values = [v.xreplace({own: k}) if isinstance(v, sympy.Basic) else v for v in p_values]
    r = _match_all(
        _distinct_values(p_values),
        _distinct_values(g_values),
        policy,
        ordered=False,
        equal=lambda a, b, pol: _family_equal(a, b, k, pol),
    )
    return _decided(
        r,
        f"the same family over the integer {k}",
        f"different families over the integer {k}",
        "could not decide the families",
        evidence,
    )


def _several_for_one(p_items: list[str], gold: str, policy: Policy, evidence: dict[str, Any]) -> Comparison | None:
    """Several different answers against one gold value (`5 or six` for `5`): INCORRECT without reading them,
    unless the gold is itself a collection written as one item (a tuple, interval, set or matrix)."""
    try:
        gold_value = _assigned(_parsed(final_value_text(gold)))
    except _Undecidable:
        return None
    collections = (
        sympy.Tuple,
        sympy.Interval,
        sympy.Union,
        sympy.FiniteSet,
        sympy.MatrixBase,
        sympy.Set,
        Relational,
        sympy.And,
        sympy.Or,
    )  # a condition is a set too: `x \neq 0` is `x < 0 or x > 0`
    if isinstance(gold_value, collections) and not isinstance(gold_value, sympy.Eq):
        return None
    return Comparison(Status.INCORRECT, f"several answers ({len(p_items)}) for a single gold value", evidence)


def _compare_labelled(
    p: list[tuple[str, str]], g: list[tuple[str, str]], policy: Policy, evidence: dict[str, Any]
) -> Comparison:
    """Labelled components (`a = -2, b = 3`): matched by label; a label of the answer that the gold does not have
    (`b = -2, c = 3` for `a = -2, b = 3`), or one used twice, is INCORRECT."""
    if len(p) != len(g):
        return Comparison(Status.INCORRECT, f"{len(p)} labelled values for {len(g)}", evidence)
    unused = list(range(len(g)))
    pairs: list[tuple[str, str]] = []
    for key, value in p:
        hit = next((j for j in unused if _same_label(key, g[j][0])), None)
        if hit is None:
            return Comparison(
                Status.INCORRECT, f"the label {key!r} is not among the gold's ({', '.join(k for k, _ in g)})", evidence
            )
        unused.remove(hit)
        pairs.append((value, g[hit][1]))
    results = [_equal(_parsed(final_value_text(a)), _parsed(final_value_text(b)), policy) for a, b in pairs]
    return _decided(
        _all_true(results),
        "labelled values match",
        "a labelled value differs",
        "could not decide a labelled value",
        evidence,
    )


def _compare_units(p: NormalForm, g: NormalForm, policy: Policy, evidence: dict[str, Any]) -> Comparison:
    """Two values in different units: converted exactly (sympy.physics.units) and compared as numbers."""
    from .units import Unit, convert

    degree = Unit((("deg", 1),))
    p_unit = degree if p.degrees and p.unit is None else p.unit
    g_unit = degree if g.degrees and g.unit is None else g.unit
    if p_unit is None or g_unit is None:
        return Comparison(Status.UNDECIDED, "an angle in degrees against a value with a unit", evidence)
    (p_scale, p_dim), (g_scale, g_dim) = convert(p_unit), convert(g_unit)
    if p_dim != g_dim:
        return Comparison(Status.INCORRECT, f"units of different dimensions: {p_unit.text} vs {g_unit.text}", evidence)
    pv, gv = _parsed(final_value_text(p.text)), _parsed(final_value_text(g.text))
    if not (isinstance(pv, sympy.Expr) and isinstance(gv, sympy.Expr)):
        return Comparison(Status.UNDECIDED, "a value with a unit that is not a number", evidence)
    if (
        isinstance(pv, (sympy.Float, sympy.Rational))
        and isinstance(gv, (sympy.Float, sympy.Rational))
        and p_scale.is_Rational
        and g_scale.is_Rational
    ):
        wp, wg = _as_written(pv, 40), _as_written(gv, 40)
        assert wp is not None and wg is not None
        ok: bool | None = agree(
            wp.scaled(Fraction(int(p_scale.p), int(p_scale.q))),
            wg.scaled(Fraction(int(g_scale.p), int(g_scale.q))),
            rounding=policy.rounding,
            min_sig=policy.min_sig_digits,
        )
    else:
        ok = _equal(pv * p_scale, gv * g_scale, policy)
    return _decided(
        ok,
        f"equal after converting {p_unit.text} to {g_unit.text}",
        f"different amounts: {p_unit.text} vs {g_unit.text}",
        "could not compare the amounts",
        evidence,
    )
