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

import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import sympy
from sympy.core.relational import Relational

from ..text import clip, parse_choices
from ..verdict import Status
from .normalize import (
    NormalForm,
    Policy,
    normalize_answer,
    numbers_match,
    plain_number,
    split_assignment,
)
from .parse import Parsed, ParseFailure, looks_like_text, parse_math

__all__ = ["MAX_ITEMS", "Comparison", "compare", "split_items"]

MAX_ITEMS = 64
"""Most elements a list answer may have."""

_SAMPLES = 4
_TOL = 1e-9
_I = sympy.Symbol("i")


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


def _number(value: sympy.Basic) -> complex | None:
    """A closed-form value as a complex number (30-digit evaluation), None when it is not a finite number."""
    try:
        v = sympy.N(value, 30)
        if v.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo) or not v.is_number:
            return None
        c = complex(v)
    except Exception:
        return None
    if not (math.isfinite(c.real) and math.isfinite(c.imag)):
        return None
    return c


def _close(a: complex, b: complex, tol: float = _TOL) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def _decimal_places(value: sympy.Basic) -> int | None:
    """Decimals of a written decimal (`0.33` -> 2) when `value` is a single Float."""
    if not isinstance(value, sympy.Float):
        return None
    text = repr(float(value))
    if "e" in text or "." not in text:
        return None
    return len(text.split(".")[1].rstrip("0")) or None


def _rounds(exact: complex, decimal: complex, places: int) -> bool:
    if abs(exact.imag) > 1e-12 or abs(decimal.imag) > 1e-12 or places < 2:
        return False
    e, d = exact.real, decimal.real
    return abs(round(e, places) - d) < 10 ** -(places + 3) or abs(math.trunc(e * 10**places) / 10**places - d) < 10 ** -(places + 3)


def _numbers_equal(a: sympy.Basic, b: sympy.Basic, policy: Policy) -> bool | None:
    if a.is_Rational and b.is_Rational:
        return a == b
    av, bv = _number(a), _number(b)
    if av is None or bv is None:
        return None
    if _close(av, bv, max(policy.rel_tol, 1e-12)):
        return True
    # `a` is the answer, `b` the gold: the gold may be the rounded decimal under both policies, the answer only
    # under "digits" (see `Policy.rounding`).
    directions = {"digits": ((a, av, bv, b), (b, bv, av, a)), "gold": ((b, bv, av, a),)}
    if policy.rounding in directions:
        for dec, dv, ev, other in directions[policy.rounding]:
            places = _decimal_places(dec)
            if places is not None and not other.has(sympy.Float) and _rounds(ev, dv, places):
                return True
    return False


def _points(symbols: Sequence[sympy.Symbol], rng: random.Random) -> list[dict[sympy.Symbol, sympy.Basic]]:
    """Random rational points of both signs: all positive, all negative, alternating, then random signs
    (positive-only points would make `x` equal `|x|` and `\\sqrt{x^2}`)."""
    def sign(k: int, j: int) -> int:
        if k < 3:
            return (1, -1, 1 if j % 2 == 0 else -1)[k]
        return rng.choice((1, -1))

    return [
        {s: sign(k, j) * sympy.Rational(rng.randint(113, 1979), 1000) for j, s in enumerate(symbols)}
        for k in range(_SAMPLES)
    ]


def _expressions_equal(a: sympy.Basic, b: sympy.Basic, policy: Policy) -> bool | None:
    if a.has(sympy.zoo, sympy.nan) or b.has(sympy.zoo, sympy.nan):
        return None
    if a == b:
        return True
    free = sorted(a.free_symbols | b.free_symbols, key=lambda s: s.name)
    if not free:
        return _numbers_equal(a, b, policy)
    rng = random.Random(1234)
    decided = 0
    for point in _points(free, rng):
        try:
            av, bv = _number(a.xreplace(point)), _number(b.xreplace(point))
        except Exception:
            av = bv = None
        if av is None or bv is None:
            continue
        if not _close(av, bv, 1e-8):
            return False
        decided += 1
    if decided >= 2:
        return True
    return _simplify_equal(a, b)


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
    free = sorted(d1.free_symbols | d2.free_symbols, key=lambda s: s.name)
    if not free:
        return None
    rng = random.Random(4321)
    ratios: list[complex] = []
    for point in _points(free, rng):
        v1, v2 = _number(d1.xreplace(point)), _number(d2.xreplace(point))
        if v1 is None or v2 is None:
            continue
        if abs(v2) < 1e-12:
            if abs(v1) < 1e-12:
                continue
            return False
        ratios.append(v1 / v2)
    if len(ratios) < 2:
        return None
    k = ratios[0]
    if abs(k) < 1e-12 or not all(_close(r, k, 1e-8) for r in ratios):
        return False
    return not positive or (abs(k.imag) < 1e-12 and k.real > 0)


# -- kinds ----------------------------------------------------------------------------------------------------


def _symbolic_only(expr: Any) -> bool:
    """A left-hand side that names the answer (`x`, `f(x)`, `|AB|`, `V_1 : V_2`): symbols only, no numbers."""
    if not isinstance(expr, sympy.Basic) or expr.is_number:
        return False
    return not any(a.is_Number and a not in (sympy.S.NegativeOne, sympy.S.One) for a in sympy.preorder_traversal(expr))


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
    if isinstance(value, sympy.And) and all(isinstance(a, Relational) and not isinstance(a, (sympy.Eq, sympy.Ne))
                                             for a in value.args):
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


def _relations_equal(a: Relational, b: Relational) -> bool | None:
    op_a, ea = _canonical_relation(a)
    op_b, eb = _canonical_relation(b)
    if op_a != op_b:
        return False
    r = _ratio_constant(ea, eb, positive=op_a not in ("=", "!="))
    if r is None and (a == b or _simplify_equal(ea, eb)):
        return True
    return r


def _elements(value: Any) -> list[Any] | None:
    if isinstance(value, sympy.FiniteSet):
        return list(getattr(value, "_unsorted_args", value.args))
    return None


def _match_all(a: Sequence[Any], b: Sequence[Any], policy: Policy, ordered: bool) -> bool | None:
    if len(a) != len(b):
        return False
    if ordered:
        results = [_equal(x, y, policy) for x, y in zip(a, b)]
        if any(r is False for r in results):
            return False
        return None if any(r is None for r in results) else True
    unused = list(range(len(b)))
    undecided = False
    for x in a:
        hit = None
        for j in unused:
            r = _equal(x, b[j], policy)
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


def _all_true(results: Sequence[bool | None]) -> bool | None:
    if any(r is False for r in results):
        return False
    return None if any(r is None for r in results) else True


def _equal(a: Any, b: Any, policy: Policy) -> bool | None:
    """Whether two parsed values are equal; None when it cannot be told."""
    if isinstance(a, sympy.Eq) and isinstance(b, sympy.Eq):
        if not any(isinstance(side, (sympy.Set, sympy.Tuple, sympy.MatrixBase)) for side in (*a.args, *b.args)):
            r = _relations_equal(a, b)
            if r is not None:
                return r
    a, b = _matrix_value(_assigned(a)), _matrix_value(_assigned(b))
    if isinstance(a, sympy.Eq) != isinstance(b, sympy.Eq):
        return False
    if isinstance(a, sympy.MatrixBase) or isinstance(b, sympy.MatrixBase):
        if not (isinstance(a, sympy.MatrixBase) and isinstance(b, sympy.MatrixBase)) or a.shape != b.shape:
            return False
        return _all_true([_equal(x, y, policy) for x, y in zip(a, b)])
    (a_int, a_var), (b_int, b_var) = _interval_and_variable(a), _interval_and_variable(b)
    sets = (sympy.Interval, sympy.Union)
    if isinstance(a_int, sets) and isinstance(b_int, sets) and (a_var is None or b_var is None or a_var == b_var):
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
    kinds = (sympy.Set, sympy.Tuple, Relational, sympy.And, sympy.Or, sympy.Not)
    if isinstance(a, kinds) or isinstance(b, kinds):
        return False if type(a) is not type(b) else (True if a == b else None)
    if not (isinstance(a, sympy.Expr) and isinstance(b, sympy.Expr)):
        return None
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


def _parsed(text: str) -> Any:
    result = parse_math(text)
    if isinstance(result, ParseFailure):
        raise _Undecidable(f"{clip(text, 80)!r}: {result.reason}")
    assert isinstance(result, Parsed)
    return result.value


_APPROX = re.compile(r"\\approx|≈|\\simeq")
_EQ_SPLIT = re.compile(r"(?<![<>!\\])=(?!=)")
_TIME = re.compile(r"^\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?m\.?)?$", re.IGNORECASE)


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
    if len(sides) == 2 and all(sides) and not any(re.search(r"[A-Za-z]", re.sub(r"\\[A-Za-z]+", "", side))
                                                  for side in sides):
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


def compare(pred: str, gold: str, *, policy: Policy | None = None) -> Comparison:
    """Compare a predicted final answer with the gold answer under `policy` (see the module docstring)."""
    policy = policy or Policy()
    p_form, g_form = normalize_answer(pred), normalize_answer(gold)
    evidence: dict[str, Any] = {"normalized_answer": p_form.to_dict(), "normalized_gold": g_form.to_dict()}
    try:
        return _compare(p_form, g_form, policy, evidence)
    except RecursionError:
        return Comparison(Status.UNDECIDED, "expression nested too deep to compare", evidence)


def _compare(p: NormalForm, g: NormalForm, policy: Policy, evidence: dict[str, Any]) -> Comparison:
    if not p.text:
        return Comparison(Status.INCORRECT, "the answer is empty", evidence)
    if p.text == g.text and p.percent == g.percent and p.degrees == g.degrees:
        return Comparison(Status.CORRECT, "identical normalized answers", evidence)
    if _TIME.match(p.text) or _TIME.match(g.text):
        ok = p.text.replace(" ", "").casefold() == g.text.replace(" ", "").casefold()
        return Comparison(Status.CORRECT if ok else Status.INCORRECT, f"times {'equal' if ok else 'differ'}", evidence)
    pn, gn = plain_number(p), plain_number(g)
    if pn is not None and gn is not None and pn.value is not None and gn.value is not None:
        ok = numbers_match(pn.value, pn.text, p.percent or pn.percent, gn.value, gn.text, g.percent or gn.percent,
                           policy)
        return Comparison(Status.CORRECT if ok else Status.INCORRECT,
                          f"numbers {'equal' if ok else 'differ'}: {clip(pn.text, 40)} vs {clip(gn.text, 40)}", evidence)
    letter = _choice(g)
    if letter is not None:
        letters = parse_choices(p.text)
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
    if len(p_items) == 1 and len(g_items) == 1 and (looks_like_text(g.text) or looks_like_text(p.text)):
        single = " " not in p.text.strip() and " " not in g.text.strip()
        if single and looks_like_text(g.text) and looks_like_text(p.text):
            return Comparison(Status.INCORRECT, "different word answers", evidence)
        return Comparison(Status.UNDECIDED, "text answers differ in wording; cannot tell", evidence)
    try:
        p_values, g_values = _values(p_items), _values(g_items)
    except _Undecidable as exc:
        return Comparison(Status.UNDECIDED, f"could not parse {exc}", evidence)
    evidence["parsed_answer"] = clip(", ".join(str(v) for v in p_values), 300)
    evidence["parsed_gold"] = clip(", ".join(str(v) for v in g_values), 300)
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
    for one, many in ((g_values, p_values), (p_values, g_values)):
        if len(one) == 1 and len(many) > 1:
            pair = one[0]
            if isinstance(pair, sympy.Interval) and pair.left_open and pair.right_open and len(many) == 2:
                pair = sympy.Tuple(pair.start, pair.end)
            if isinstance(pair, sympy.Tuple) and len(pair) == len(many):  # `1, 3` written for `(1, 3)`
                r = _match_all(list(pair), many, policy, ordered=True)
                if r is not None:
                    return Comparison(Status.CORRECT if r else Status.INCORRECT,
                                      "tuple written without brackets " + ("matches" if r else "differs"), evidence)
    if policy.list_order == "set":
        p_values, g_values = _distinct_values(p_values), _distinct_values(g_values)
    if len(g_values) == 1 and len(p_values) > 1:
        return Comparison(Status.INCORRECT, f"several different answers ({len(p_values)}) for a single gold value",
                          evidence)
    ordered = policy.list_order == "ordered"
    r = _match_all(p_values, g_values, policy, ordered)
    if r is None:
        return Comparison(Status.UNDECIDED, "could not decide equivalence of the lists", evidence)
    return Comparison(Status.CORRECT if r else Status.INCORRECT,
                      "lists match" if r else f"lists differ ({len(p_values)} vs {len(g_values)} items)", evidence)
