"""The bounded arithmetic parser: what it reads, what it refuses, and that it never fails any other way."""

from __future__ import annotations

import pytest
import sympy
from support.properties import given, settings, st

from verifiers.math.arith import (
    MAX_LENGTH,
    ArithError,
    ArithSyntaxError,
    TooLarge,
    parse_expression,
    parse_relation,
    substitute,
)

x, y, a_12 = sympy.symbols("x y a_12")
R = sympy.Rational


@pytest.mark.parametrize(
    "text, value",
    [
        ("42", 42),
        ("1,234 + 1", 1235),
        ("1{,}000", 1000),
        ("1\\,000", 1000),
        ("0.25", R(1, 4)),
        (".5", R(1, 2)),
        ("1.5e3", 1500),
        ("3/4", R(3, 4)),
        ("\\frac{3}{4}", R(3, 4)),
        ("\\dfrac{1}{3} + \\tfrac{1}{6}", R(1, 2)),
        ("\\frac12", R(1, 2)),
        ("2\\frac{1}{2}", R(5, 2)),  # a mixed number
        ("2 \\cdot 21", 42),
        ("6 \\times 7", 42),
        ("3 × 4 ÷ 2", 6),
        ("7 \\div 2", R(7, 2)),
        ("2^10", 1024),
        ("2**3", 8),
        ("2^{-1}", R(1, 2)),
        ("2^-1", R(1, 2)),
        ("-2^2", -4),
        ("2^3^2", 512),  # right-associative
        ("3(4+5)", 27),
        ("2(3)(4)", 24),
        ("\\left(1+2\\right)^2", 9),
        ("[1 + 2] \\cdot 2", 6),
        ("\\sqrt{16}", 4),
        ("\\sqrt[3]{27}", 3),
        ("\\sqrt2 \\cdot \\sqrt{2}", 2),
        ("√16", 4),
        ("50\\%", R(1, 2)),
        ("50%", R(1, 2)),
        ("5!", 120),
        ("\\binom{5}{2}", 10),
        ("|-3|", 3),
        ("\\left| -3 \\right|", 3),
        ("90^\\circ", 90),
        ("\\log_2 8", 3),
        ("\\sin(\\pi/6)", R(1, 2)),
        ("3 − 1", 2),
        ("3 \\times 10^{8}", 300_000_000),
        ("\\$5", 5),
    ],
)
def test_numbers_and_operators(text: str, value: object) -> None:
    assert parse_expression(text) == value


def test_symbols_implicit_multiplication_and_constants() -> None:
    assert parse_expression("2x + 1") == 2 * x + 1
    assert parse_expression("x²") == x**2
    assert parse_expression("x y") == x * y
    assert parse_expression("2\\pi") == 2 * sympy.pi
    assert parse_expression("a_{12} + x") == a_12 + x
    assert parse_expression("\\frac{1}{2}x") == x / 2
    assert parse_expression("e") == sympy.Symbol("e")
    assert parse_expression("e", e_is_euler=True) == sympy.E


def test_relations_and_chains() -> None:
    rel = parse_relation("2 \\cdot 21 = 42 < 50")
    assert rel.parts == (42, 42, 50)
    assert rel.ops == ("=", "<")
    assert rel.texts == ("2 \\cdot 21", "42", "50")
    assert parse_relation("a \\neq b \\le c \\geq d \\approx f").ops == ("!=", "<=", ">=", "~")
    assert parse_relation("x ≤ 3 ≠ 4").ops == ("<=", "!=")
    assert parse_relation("1 + 1").ops == ()
    with pytest.raises(ArithSyntaxError):
        parse_expression("1 = 1")


@pytest.mark.parametrize(
    "text",
    ["", "2 3", "1 +", "(1 + 2", "5.", "\\text{cm}", "\\log 8", "x = ", "1,2", "@", "\\frac{1}", "2^^3", "a = = b"],
)
def test_syntax_errors(text: str) -> None:
    with pytest.raises(ArithSyntaxError):
        parse_relation(text)


@pytest.mark.parametrize(
    "text",
    [
        "10^{100000}",
        "9^{9^{9}}",
        "2^{2^{2^{2^{2}}}}",
        "4000!",
        "10!!!",
        "\\sqrt{2}^{1001}",
        "(10^{5000})^{2}",
        "10^{5000} \\cdot 10^{5000} \\cdot 10^{5000}",
        "\\binom{100000}{50000}",
        "(" * 200 + "1" + ")" * 200,
        "-" * 500 + "1",
        "1" * 1001,
        "1+" * (MAX_LENGTH // 2 + 1) + "1",
        "2**2**9999",  # an exponent too big for the size estimate's float (found by hypothesis)
    ],
)
def test_caps_raise_too_large(text: str) -> None:
    with pytest.raises(TooLarge):
        parse_relation(text)


def test_symbolic_powers_stay_unexpanded() -> None:
    assert parse_expression("(x+1)^{1000000}") == sympy.Pow(x + 1, 1_000_000)


def test_substitute_is_guarded() -> None:
    expr = parse_expression("2x + 1")
    assert substitute(expr, {x: sympy.Integer(3)}) == 7
    with pytest.raises(TooLarge):
        substitute(parse_expression("x^x"), {x: sympy.Integer(10**6)})
    with pytest.raises(TooLarge):
        substitute(parse_expression("x!"), {x: sympy.Integer(10**5)})


_ALPHABET = st.sampled_from(
    list("0123456789+-*/^()[]{}!%|=<>.,_ xyeabπ√²×÷−≤≥≠≈$&")
    + ["\\frac", "\\dfrac", "\\sqrt", "\\cdot", "\\times", "\\div", "\\left(", "\\right)", "\\pi", "\\le",
       "\\neq", "\\approx", "\\binom", "\\log_", "\\sin", "\\%", "\\circ", "\\,", "\\{", "\\}", "\\left|", "**",
       "{,}", "\\text", "\\", "9999", "e5", "\\lvert", "\\rvert", "\\alpha"]
)


@settings(max_examples=1500, deadline=5000)
@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_any_math_like_text_gives_a_result_or_an_arith_error(text: str) -> None:
    try:
        rel = parse_relation(text)
    except ArithError:
        return
    assert len(rel.parts) == len(rel.ops) + 1 == len(rel.texts)
    for part in rel.parts:
        assert isinstance(part, sympy.Basic)


@settings(max_examples=500, deadline=5000)
@given(st.text(max_size=200))
def test_any_text_gives_a_result_or_an_arith_error(text: str) -> None:
    try:
        parse_relation(text)
    except ArithError:
        pass


@settings(max_examples=300, deadline=5000)
@given(st.integers(-10**6, 10**6), st.integers(-10**6, 10**6), st.integers(1, 10**4))
def test_arithmetic_agrees_with_exact_python_arithmetic(a: int, b: int, c: int) -> None:
    assert parse_expression(f"{a} + ({b}) \\cdot {c}") == a + b * c
    assert parse_expression(f"\\frac{{{a}}}{{{c}}} - ({b})") == R(a, c) - b
    assert parse_expression(f"({a})^{{2}}") == a * a
