"""The comparison semantics (docs/math-semantics.md): numbers, expressions, units, Unicode, hedges, bases, Python
syntax and structured answers — each rule with its near misses (the wrong answer most like the right one)."""

from __future__ import annotations

import time
from fractions import Fraction

import pytest
from support.properties import given, settings, st

import verifiers
from verifiers.math.equivalence import compare
from verifiers.math.normalize import normalize_answer
from verifiers.math.parse import python_to_latex
from verifiers.math.semantics import Written, agree, rounds_to, written
from verifiers.math.units import convert, split_unit
from verifiers.text import normalize_unicode
from verifiers.verdict import Sample, Status

C, I, U = Status.CORRECT, Status.INCORRECT, Status.UNDECIDED


def cascade(pred: str, gold: str) -> Status:
    """The verdict of the default math cascade (math.rule, then math.symbolic) on an extracted answer."""
    return verifiers.verify(pred, gold, domain="math", options={"answer_only": True}).status


def w(text: str) -> Written:
    return written(text, Fraction(text.replace(",", "")))


# -- numbers: the one rule (semantics.py) ------------------------------------------------------------------------


def test_written_precision() -> None:
    assert w("0.667") == Written(Fraction("0.667"), Fraction(1, 1000), 3)
    assert w("0.00") == Written(Fraction(0), Fraction(1, 100), 0)
    assert w("7.81e-08").ulp == Fraction(1, 10**10) and w("7.81e-08").sig == 3
    assert w("12").exact and w("1,234").exact


@pytest.mark.parametrize(
    ("pred", "gold", "expected"),
    [
        ("1000000008", "1000000007", False),  # never a relative tolerance on integers
        ("1000000007", "1000000007", True),
        ("12345678912", "12345678900", False),
        ("0.666", "2/3", False),  # truncated, not rounded
        ("0.667", "2/3", True),
        ("0.00", "1/300", False),  # no significant digit
        ("0.00333", "1/300", True),
        ("0.33", "1/3", False),  # two significant digits: too few for an answer by default
        ("1/3", "0.33", True),  # a decimal gold sets the precision itself
        ("2.65", "2.653", True),  # the less precise answer is the gold rounded
        ("2.7", "2.653", False),  # ... but carries too few significant digits
        ("2.64", "2.653", False),
        ("2.653", "2.65", True),
        ("0.339", "0.33", False),  # 0.339 rounds to 0.34
        ("0.334", "0.33", True),
        ("1.23e3", "1234", False),  # an integer is a count: its approximation must show the units digit
        ("1234", "1.2e3", True),
    ],
)
def test_agree(pred: str, gold: str, expected: bool) -> None:
    def parse(text: str) -> Written:
        return Written(Fraction(text)) if "/" in text else w(text)

    assert agree(parse(pred), parse(gold)) is expected


def test_rounding_ties_go_away_from_zero() -> None:
    assert rounds_to(Fraction(1, 8), w("0.125"))
    assert rounds_to(Fraction("0.1245"), w("0.125"), 3) and not rounds_to(Fraction("0.1245"), w("0.124"), 3)
    assert rounds_to(Fraction("-0.1245"), w("-0.125"), 3)
    assert not rounds_to(Fraction("0.1246"), w("0.124"), 3)
    # a tie is no hedge: 0.65 is 0.7 only, and neither gold sets a precision with one significant digit
    assert cascade("0.65", "0.6") is not C and cascade("0.65", "0.7") is not C


@pytest.mark.parametrize(("pred", "gold"), [("0.05", "0.1"), ("0.14", "0.1"), ("6.04", "6.0"), ("2.54", "2.50"),
                                            ("\\frac17", "0.1"), ("1.45", "1.4")])
def test_a_short_or_zero_ending_decimal_gold_is_exact(pred: str, gold: str) -> None:
    assert cascade(pred, gold) is not C
    assert cascade(gold, gold + "0") is C


@settings(max_examples=300, deadline=None)
@given(st.fractions(min_value=Fraction(-10**6), max_value=Fraction(10**6)).filter(lambda x: x != 0),
       st.integers(min_value=3, max_value=12))
def test_the_rounded_decimal_matches_and_its_neighbours_do_not(x: Fraction, places: int) -> None:
    ulp = Fraction(1, 10**places)
    q = abs(x) / ulp
    nearest = (q.numerator * 2 + q.denominator) // (2 * q.denominator)  # half up
    if (q - int(q)) == Fraction(1, 2):
        return  # ties are covered above
    sign = "-" if x < 0 else ""
    text = f"{sign}{nearest // 10**places}.{nearest % 10**places:0{places}d}"
    approx = w(text)
    if approx.sig < 3:
        assert agree(approx, Written(x)) is (approx.value == x)  # too coarse, unless it is the value itself
        return
    assert agree(approx, Written(x))
    for off in (-1, 1):
        other = nearest + off
        if other < 0:
            continue
        neighbour = w(f"{sign}{other // 10**places}.{other % 10**places:0{places}d}")
        assert not agree(neighbour, Written(x)), (neighbour, x)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-10**30, max_value=10**30), st.integers(min_value=1, max_value=10**6))
def test_different_integers_never_agree(n: int, delta: int) -> None:
    assert not agree(Written(Fraction(n + delta)), Written(Fraction(n)))
    assert compare(str(n + delta), str(n)).status is I


@pytest.mark.parametrize(
    ("wrong", "right", "gold"),
    [
        ("2^{40}+1", "1099511627776", "2^{40}"),
        ("\\frac{1}{2^{98}}", "2^{-99}", "\\frac{1}{2^{99}}"),
        ("e^{-25}", "0", "0"),
        ("1+10^{-10}", "\\frac{10}{10}", "1"),
        ("\\pi + 10^{-40}", "\\frac{2\\pi}{2}", "\\pi"),
        ("\\sqrt{2} + 10^{-60}", "\\frac{2}{\\sqrt{2}}", "\\sqrt{2}"),
        ("1.41421356238", "1.41421356237", "\\sqrt{2}"),  # the rounded decimal ends in 237
        ("1.7320", "1.7321", "\\sqrt{3}"),  # trailing zero kept: four places
        ("3.141", "3.142", "3.1416"),  # truncated vs rounded to the gold's less precise reading
        ("0.3", "0.333", "\\frac{1}{3}"),
    ],
)
def test_exact_values_compare_exactly(wrong: str, right: str, gold: str) -> None:
    assert cascade(wrong, gold) is not C
    assert cascade(right, gold) is C


# -- expressions: fresh random points of several magnitudes ------------------------------------------------------


@pytest.mark.parametrize(
    ("wrong", "right", "gold"),
    [
        ("x + \\sin(1000\\pi x)", "\\frac{2x}{2}", "x"),  # a fixed grid k/1000 would hide the sine
        ("x + \\sin(2\\pi x)", "x", "x"),
        ("x + 10^{-30}", "x", "x"),
        ("(x+1)^2 + 10^{-25}x", "x^2+2x+1", "(x+1)^2"),
        ("x", "\\sqrt{x^2}", "|x|"),  # both signs are sampled
        ("4t + 7", "-7+4t", "4t - 7"),
        ("-16t^2 + 64", "-16t(t-4)", "-16t^2 + 64t"),  # the parser's unit stripping once read 64t as 64
        ("x + 5", "5h + x", "x + 5h"),
    ],
)
def test_expressions(wrong: str, right: str, gold: str) -> None:
    assert cascade(wrong, gold) is not C
    assert cascade(right, gold) is C


def test_points_are_fresh_each_time() -> None:
    # an adversary cannot aim at a seed: many runs, every one rejects
    assert all(compare("x + \\sin(1000\\pi x)", "x").status is I for _ in range(10))


# -- units ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("5 \\text{ km}", "5", "km"),
        ("9.8 m/s^2", "9.8", "m*s^-2"),
        ("-285.8 kJ\\,mol^{-1}", "-285.8", "kJ*mol^-1"),
        ("3 \\text{ hours}", "3", "h"),
        ("5 square meters", "5", "m^2"),
        ("60 mph", "60", "mi*h^-1"),
        ("5x", "5x", None),  # a variable, not a unit
        ("5 or six", "5 or six", None),  # hedging words stay
        ("6 probably maybe not", "6 probably maybe not", None),
    ],
)
def test_split_unit(text: str, value: str, unit: str | None) -> None:
    got_value, got_unit, _ = split_unit(text)
    assert got_value == value
    assert (got_unit.text if got_unit else None) == unit


def test_noun_labels_are_labels() -> None:
    assert split_unit("12 sequences") == ("12", None, "sequence")
    assert convert(split_unit("5 km")[1])[0] == 1000 * convert(split_unit("5 m")[1])[0]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("wrong", "right", "gold"),
    [
        ("5 \\text{ m}", "5000 \\text{ m}", "5 \\text{ km}"),
        ("3 \\text{ minutes}", "180 \\text{ minutes}", "3 \\text{ hours}"),
        ("9.8 \\text{ m/s}", "980 \\text{ cm/s}^2", "9.8 \\text{ m/s}^2"),
        ("5 \\text{ kg}", "5 \\text{ km}", "5000 \\text{ m}"),  # a dimension mismatch
        ("7 \\text{ cents}", "700 \\text{ cents}", "7 \\text{ dollars}"),
        ("30 \\text{ rad}", "\\frac{\\pi}{6} \\text{ rad}", "30^\\circ"),
        ("2.6", "2.65", "2.653 \\mathrm{m}"),  # a bare number is read in the gold's unit
        ("-285.8 \\text{ J/mol}", "-285800 \\text{ J/mol}", "-285.8 \\text{ kJ/mol}"),
    ],
)
def test_units(wrong: str, right: str, gold: str) -> None:
    assert cascade(wrong, gold) is not C
    assert cascade(right, gold) is C


def test_different_noun_labels_are_not_the_same_answer() -> None:
    assert cascade("12 \\text{ apples}", "12 \\text{ pears}") is not C
    assert cascade("12 \\text{ apples}", "12") is C


# -- Unicode, hedges, bases, Python syntax -------------------------------------------------------------------


def test_unicode_means_what_it_says() -> None:
    assert normalize_unicode("2⁵ x₁ √(x+1) ∞ ≤ −", math=True) == "2^{5} x_{1} \\sqrt{x+1} \\infty  \\le  -"
    assert normalize_unicode("2⁵") == "2^{5}"  # not NFKC's 25, in the text verifiers too


@pytest.mark.parametrize(
    ("wrong", "right", "gold"),
    [
        ("25", "2⁵", "32"),
        ("25", "2^5", "2⁵"),
        ("5₆", "x₁", "x_1"),
        ("[1, ∞)", "(1, ∞)", "(1, \\infty)"),
        ("x ≤ 2", "x ≥ 2", "x \\ge 2"),
        ("√3", "√2", "\\sqrt{2}"),
        ("2π", "π", "\\pi"),
        ("⅓", "½", "\\frac{1}{2}"),
    ],
)
def test_unicode(wrong: str, right: str, gold: str) -> None:
    assert cascade(wrong, gold) is not C
    assert cascade(right, gold) is C


@pytest.mark.parametrize("hedge", ["5 or six", "5 or 6", "5 probably", "5 probably maybe not", "either 5 or 7",
                                   "5 \\text{ and } 7", "\\pm 5", "5, 7", "5 \\text{ or maybe } 6"])
def test_hedges_are_not_correct(hedge: str) -> None:
    assert cascade(hedge, "5") is I


def test_a_list_gold_still_takes_a_list() -> None:
    assert cascade("5 \\text{ and } 7", "5, 7") is C
    assert cascade("\\pm 3", "3, -3") is C


@pytest.mark.parametrize(
    ("wrong", "right", "gold"),
    [
        ("0xc2d9", "49880", "0xc2d8"),
        ("-0x3", "0xC2D8", "0xc2d8"),
        ("0b1101", "11", "0b1011"),
        ("0o16", "15", "0o17"),
        ("0xg1", "49880", "49880"),  # not hex: never a product of letters
        ("(1011)_{2}", "(1010)_{2}", "10"),
    ],
)
def test_number_bases(wrong: str, right: str, gold: str) -> None:
    assert cascade(wrong, gold) is not C
    assert cascade(right, gold) is C


@pytest.mark.parametrize(
    ("text", "latex"),
    [
        ("8*x**9/5 - 3*x**7 + C", "8\\cdot x^{9}/5-3\\cdot x^{7}+C"),
        ("sqrt(2)/2", "\\sqrt{2}/2"),
        ("exp(2*x)", "e^{2\\cdot x}"),
        ("x**-2", "x^{-2}"),
        ("2**3**2", "2^{3^{2}}"),
        ("\\frac{1}{2}", "\\frac{1}{2}"),  # LaTeX is left alone
    ],
)
def test_python_to_latex(text: str, latex: str) -> None:
    assert python_to_latex(text) == latex


@pytest.mark.parametrize(
    ("wrong", "right", "gold"),
    [
        ("8*x**9/5 - 3*x**7", "8*x**9/5 - 3*x**7 + C", "\\frac{8x^9}{5} - 3x^7 + C"),
        ("x**3 - 2", "x**3 - 2*x", "x^3 - 2x"),
        ("pi/3", "pi/2", "\\frac{\\pi}{2}"),
        ("exp(x) + 1", "exp(x)", "e^x"),
        ("log(x) + 1", "log(x)", "\\ln x"),
        ("sqrt(3)/2", "sqrt(2)/2", "\\frac{\\sqrt{2}}{2}"),
    ],
)
def test_python_syntax(wrong: str, right: str, gold: str) -> None:
    assert cascade(wrong, gold) is not C
    assert cascade(right, gold) is C


# -- equations, structures, families ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wrong", "right", "gold"),
    [
        ("-4x^2+4x-1", "-4x^2+4x-2", "y + 1 = -(2x-1)^2"),  # the gold is solved for its unknown first
        ("2x - 1", "2x + 1", "y - 1 = 2x"),
        ("y = 2x - 1", "2x - y + 1 = 0", "y = 2x + 1"),
        ("Maximum = 1, Minimum = 2", "Maximum = 2, Minimum = 1", "\\text{max} = 2, \\text{min} = 1"),
        ("a = 1, b = 2", "b = 1, a = 2", "a = 2, b = 1"),  # labels decide, not the order
        ("a_{37} = 2, a_3 = 19", "a_{37} = 19, a_3 = 2", "a_3 = 2, a_{37} = 19"),
        ("f(t) = t^3", "f(t) = t^2", "f(x) = x^2"),
        ("\\{x \\mid -1 \\le x < 1\\}", "\\{x \\mid -1 < x < 1\\}", "(-1, 1)"),
        ("x < -2 \\text{ or } x > 4", "x < -2 \\text{ or } x > 3", "(-\\infty, -2) \\cup (3, \\infty)"),
        ("|x| < 3", "|x| \\le 3", "[-3, 3]"),
        ("\\begin{pmatrix} 3 \\\\ 1 \\\\ 2 \\end{pmatrix}", "(3, -1, 2)", "\\begin{pmatrix} 3 \\\\ -1 \\\\ 2 \\end{pmatrix}"),
        ("k\\pi", "2n\\pi", "2k\\pi, \\ k \\in \\mathbb{Z}"),
        ("k\\pi", "\\frac{5\\pi}{6} + k\\pi", "-\\frac{\\pi}{6} + k\\pi, \\ k \\in \\mathbb{Z}"),
        ("\\frac{x^2}{2}", "\\frac{x^2}{2} + K", "\\frac{x^2}{2} + C"),  # an antiderivative keeps its constant
        ("\\frac{x^3}{3} + x + C", "\\frac{x^3}{3} + x^2 + x + C", "\\frac{(x+1)^3}{3} + C"),
        ("13^{\\text{th}}", "12^{\\text{th}}", "12"),
        ("0.\\overline{3}", "0.\\overline{6}", "\\frac{2}{3}"),
        ("2.3", "2.\\overline{3}", "\\frac{7}{3}"),
        ("\\frac{1+a+b}c", "\\frac{1+a+b+c}c", "\\frac{1+a+b+c}{c}"),
        ("\\cos(90^\\circ - x)", "\\sin(90^\\circ - x)", "\\cos x"),
    ],
)
def test_structured_answers(wrong: str, right: str, gold: str) -> None:
    assert cascade(wrong, gold) is not C
    assert cascade(right, gold) is C


def test_a_list_of_golds_means_any_of_them() -> None:
    assert verifiers.verify("\\boxed{7}", ["6", "7"], domain="math").status is C
    assert verifiers.verify("\\boxed{8}", ["6", "7"], domain="math").status is I
    assert verifiers.verify("\\boxed{5 \\text{ km}}", ["5000 m", "3 miles"], domain="math").status is C
    assert verifiers.verify("\\boxed{5 \\text{ m}}", ["5000 m", "3 miles"], domain="math").status is I
    assert verifiers.verify("\\boxed{1}", [], verifier="math.rule").status is Status.ERROR
    assert verifiers.verify("\\boxed{7}", ["6", "7"], verifier="numeric").status is C


# -- the fast path is never looser than the slow one -------------------------------------------------------------


@pytest.mark.parametrize(
    ("pred", "gold"),
    [("1000000008", "1000000007"), ("0.66", "\\frac{2}{3}"), ("0.00", "\\frac{1}{300}"), ("2⁵", "25"),
     ("5₆", "56"), ("5 or six", "5"), ("5 \\text{ km}", "5 \\text{ m}"), ("3 \\text{ hours}", "3 \\text{ minutes}"),
     ("7 \\text{ cents}", "7 \\text{ dollars}"), ("30 \\text{ rad}", "30^\\circ")],
)
def test_rule_is_not_looser_than_symbolic(pred: str, gold: str) -> None:
    rule = verifiers.verify(pred, gold, verifier="math.rule", options={"answer_only": True})
    symbolic = verifiers.verify(pred, gold, verifier="math.symbolic", options={"answer_only": True})
    assert rule.status is not C and symbolic.status is not C


def test_numeric_verifier_uses_the_same_rule() -> None:
    assert verifiers.verify("\\boxed{1000000008}", "1000000007", verifier="numeric").status is I
    assert verifiers.verify("\\boxed{0.667}", "0.6666666", verifier="numeric").status is C
    assert verifiers.verify("\\boxed{0.66}", 2 / 3, verifier="numeric").status is I


# -- regexes that see model text are linear ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "response",
    [
        ("\\boxed{5" + " " * 20_000 + "}") * 20,
        ("\\boxed{5" + " " * 20_000 + ",}") * 5,
        "\\boxed{1" + " " * 50_000 + "degrees}",
        "\\boxed{1" + " " * 50_000 + "percent}",
        "$" + " x" * 50_000,
        "\\[" * 30_000,
        "\\(" * 30_000 + "\\boxed{5}",
        "\\boxed{" + "1 " * 50_000 + "}",
        "The answer is " + "1" * 100_000 + "!",
    ],
)
def test_no_quadratic_work_on_padded_responses(response: str) -> None:
    start = time.perf_counter()
    for name in ("math.rule", "math.symbolic"):
        verdict = verifiers.verify(response, "5", verifier=name, timeout=30)
        assert verdict.status not in (Status.ERROR, Status.TIMEOUT), verdict.reason
    # a hang guard, not a speed target: the quadratic versions took minutes on these inputs
    assert time.perf_counter() - start < 20


def test_padding_does_not_hide_an_answer() -> None:
    assert verifiers.verify("\\boxed{" + " " * 5_000 + "5" + " " * 5_000 + "}", "5", verifier="math.rule").status is C


def test_normalize_is_idempotent_on_the_new_forms() -> None:
    for raw in ["5 \\text{ km}", "0xc2d8", "12^{\\text{th}}", "0.\\overline{6}", "2⁵", "\\frac{1+a}c"]:
        form = normalize_answer(raw)
        assert normalize_answer(form.text).text == form.text


def test_verify_batch_with_units_and_bases() -> None:
    samples = [Sample("\\boxed{5000 \\text{ m}}", "5 \\text{ km}", domain="math"),
               Sample("\\boxed{5 \\text{ m}}", "5 \\text{ km}", domain="math"),
               Sample("\\boxed{0xc2d8}", "49880", domain="math")]
    assert [v.status for v in verifiers.verify_batch(samples)] == [C, I, C]


# -- attacks found by an independent red-team pass (each must not be CORRECT), with a right twin -----------------


@pytest.mark.parametrize(
    ("wrong", "right", "gold"),
    [
        # a value sympy cannot evaluate is no proof of equality
        ("f(1)", "42", "42"),
        ("\\lim_{x\\to 0} \\frac{\\sin x}{x}", "7", "7"),
        ("\\gcd(12,18)", "5", "5"),
        ("5 \\mod 3", "7", "7"),
        ("(f(1), f(2))", "(3, 4)", "(3, 4)"),
        # a bare exact 0 from evaluation proves nothing
        ("\\ln(1+10^{-50})", "\\ln 1", "0"),
        ("\\pi+\\ln(1+10^{-50})", "\\pi", "\\pi"),
        # a power of ten is exact, not a one-digit approximation
        ("1400000", "1000000", "10^{6}"),
        ("2499", "2000", "2 \\times 10^{3}"),
        # no family without a declared integer parameter: `(n-2)\pi` is a polygon's angle sum
        ("(n-1)\\pi", "(n-2)\\pi", "(n-2)\\pi"),
        ("\\frac{\\pi}{2}+x\\pi", "\\frac{\\pi}{2}+n\\pi", "\\frac{\\pi}{2}+k\\pi, k \\in \\mathbb{Z}"),
        # labels must match
        ("b = -2, c = 3", "b = 3, a = -2", "a = -2, b = 3"),
        ("x = 5, x = 6", "y = 6, x = 5", "x = 5, y = 6"),
        ("(y, x) = (6, 5)", "(y, x) = (5, 6)", "(x, y) = (6, 5)"),
        # words that change the value are no labels; unknown words against units decide nothing
        ("5 \\text{ thousand}", "5 \\text{ apples}", "5"),
        ("2 \\text{ dozen}", "2", "2"),
        ("6 \\text{ hundredths}", "6", "6"),
        ("5 \\text{ wrong}", "5", "5"),
        ("5 \\text{ microseconds}", "5000000 \\text{ us}", "5 \\text{ s}"),
        ("5 \\text{ Mm}", "0.005 \\text{ m}", "5 \\text{ mm}"),
        ("5 \\text{ kg}", "5", "5 \\text{ apples}"),
        ("\\$5", "\\$0.05", "5 \\text{ cents}"),
        ("0 \\text{ °F}", "0^\\circ C", "0 \\text{ °C}"),
        ("30 \\text{ arcmin}", "30^\\circ", "30°"),
        ("5?", "5", "5"),
        ("6\\ldots", "6", "6"),
        # several choice letters
        ("A B C D", "A", "A"),
        ("A \\lor B", "(A)", "A"),
        ("A \\text{ is wrong}", "\\text{A}", "A"),
        # notation
        ("1½", "5.5", "\\frac{11}{2}"),
        ("0.\\overline{3}4", "0.\\overline{3}", "\\frac{1}{3}"),
        ("x<0 \\text{ and } x>0", "x \\neq 0", "x<0 \\text{ or } x>0"),
        ("\\{y \\mid -1 < x < 1\\}", "\\{x \\mid -1 < x < 1\\}", "(-1,1)"),
        # far and integer points
        ("\\max(x, 10^{5})", "10^{5}", "10^{5}"),
        ("x + e^{-10^{6} x^2}", "x", "x"),
        ("\\lceil x \\rceil", "\\lfloor x \\rfloor", "\\lfloor x \\rfloor"),
        ("x + 10^{-35}\\sin x", "x", "x"),
        # complex numbers are compared part by part
        ("14.0 + 0.1i", "14.0", "14.00"),
        ("-2.0", "-2.0i", "-2.00i"),
    ],
)
def test_red_team_attacks(wrong: str, right: str, gold: str) -> None:
    assert cascade(wrong, gold) is not C
    assert cascade(right, gold) is C


def test_long_answers_are_not_cut_into_equality() -> None:
    assert cascade("9" * 5000, "9" * 4999 + "8") is not C
    assert cascade("9" * 5000, "9" * 5000) is C


def test_a_short_response_that_denies_its_value_states_none() -> None:
    for response in ["Not $6$", "It is not $6$.", "$x = 6$ is wrong", "$6$? No.", "Thus the answer is less than 6.",
                     "not 6", "6 is wrong",
                     "Thus, any number except 6.", "Therefore, it is unlikely to be 6."]:
        assert verifiers.verify(response, "6", domain="math").status is not C, response
    assert verifiers.verify("Therefore, there are 6 ways.", "6", domain="math").status is C
    assert verifiers.verify("D, it can't be A or B", "D", domain="math").status is C  # a denial of the others


def test_the_factored_form_is_a_product_of_polynomials() -> None:
    assert verifiers.verify("(x^2-1)(x+1)/(x-1)", "x^2+2x+1", domain="math",
                            options={"answer_only": True, "form": "factored"}).status is I
    factored = {"answer_only": True, "form": "factored"}
    assert verifiers.verify("(x+1)^2", "x^2+2x+1", domain="math", options=factored).status is C


# -- attacks of a second red-team pass ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wrong", "right", "gold"),
    [
        # equations of the unknown are no names; false numeric equations state nothing; another unknown is wrong
        ("x^2 = 6", "x = 6", "6"),
        ("e^x = 6", "6", "6"),
        ("xy = 6", "AB = 6", "6"),
        ("y = 3", "x = 3", "x = 3"),
        ("f(y) = x^2", "f(t) = t^2", "f(x) = x^2"),
        # conditions in a bare list, sets against tuples, multiplicity, labels against tuples
        ("x \\geq 0, x \\leq 1", "x \\geq 0 \\text{ and } x \\leq 1", "[0, 1]"),
        ("\\{1,2\\}", "1, 2", "(1,2)"),
        ("y = 1, x = 2", "x = 1, y = 2", "(1,2)"),
        ("(1,2)", "(2, 1)", "y = 2, x = 1"),  # a labelled gold is read in its written order
        # a decimal gold that sets no precision is exact; ties round one way
        ("0.05", "\\frac{1}{10}", "0.1"),
        ("6.04", "6", "6.0"),
        ("0.65", "0.70", "0.7"),
        # unit words kept apart by case; labels glued to a value are no labels
        ("6 \\text{ MeV}", "6 \\text{ meV}", "6 \\text{ meV}"),
        ("0x" + "f" * 65, "0x0", "0"),
        # exact polynomial equations
        ("y - 2x - 1 = 10^{-60}", "2x - y + 1 = 0", "y = 2x + 1"),
        # hedges
        ("\\boxed{B̸}", "B", "B"),
        ("A\\\\B\\\\C\\\\D", "A", "A"),
    ],
)
def test_second_red_team_attacks(wrong: str, right: str, gold: str) -> None:
    assert cascade(wrong, gold) is not C
    assert cascade(right, gold) is C


@pytest.mark.parametrize("response", ["$\\boxed{6}$ is incorrect, the answer is 5", "The answer is not \\boxed{6}.",
                                      "Not \\boxed{6}", "\\boxed{6} is wrong."])
def test_a_denied_box_is_no_answer(response: str) -> None:
    assert verifiers.verify(response, "6", domain="math").status is I
    assert verifiers.verify("There is no other option: \\boxed{6}", "6", domain="math").status is C


def test_a_missing_reference_is_an_error_not_a_gold() -> None:
    for reference in [float("nan"), "NaN", "None"]:
        assert verifiers.verify("\\boxed{nan}", reference, domain="math").status is Status.ERROR


@pytest.mark.parametrize("answer", ["\\boxed{6-6}", "\\boxed{6^6}", "\\boxed{\\sqrt{6}}", "\\boxed{x \\neq 6}",
                                    "\\boxed{not 6}", "\\boxed{6 \\text{ thousand}}", "\\boxed{6 \\pm 6}",
                                    "\\boxed{>6}", "\\boxed{6i}", "\\boxed{6!}", "\\boxed{6\\pi}"])
def test_numeric_needs_one_number(answer: str) -> None:
    assert verifiers.verify(answer, "6", verifier="numeric").status is I
    assert verifiers.verify("\\boxed{6 \\text{ cm}^2}", "6", verifier="numeric").status is C
