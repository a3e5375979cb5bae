"""Behaviour of math answer normalization (`verifiers.math.normalize`): one test per rule, plus number policies."""

from __future__ import annotations


import pytest
from support.properties import given, settings, st

from verifiers.text import Number, parse_number
from verifiers.math.normalize import (
    NormalForm,
    Policy,
    normalize_answer,
    numbers_match,
    split_assignment,
)


def text(answer: str) -> str:
    return normalize_answer(answer).text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\\left( \\frac{1}{3} \\right)", "( \\frac{1}{3} )"),  # \left / \right
        ("\\dfrac{1}{3}", "\\frac{1}{3}"),  # \dfrac
        ("\\tfrac{1}{3}", "\\frac{1}{3}"),
        ("\\cfrac{1}{3}", "\\frac{1}{3}"),
        ("$\\frac{1}{3}.$", "\\frac{1}{3}"),  # trailing punctuation inside math
        ("$\\frac{1}{3}$.", "\\frac{1}{3}"),
        ("\\[\\frac{1}{3},\\]", "\\frac{1}{3}"),
        ("$$42$$", "42"),
        ("\\(42\\)", "42"),
    ],
)
def test_latex_noise_and_delimiters(raw: str, expected: str) -> None:
    assert text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("125\\textnormal{ miles}", "125"),  # units in \text{}
        ("5 \\text{ cm}", "5"),
        ("15\\mbox{ cm}^2", "15"),
        ("10 units", "10"),  # a unit word after a number
        ("1,000.99m²", "1000.99"),
        ("\\text{Evelyn}", "Evelyn"),  # a word answer is kept
    ],
)
def test_units_are_dropped(raw: str, expected: str) -> None:
    assert text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("7,425,000", "7425000"),
        ("1 000", "1000"),
        ("14{,}916", "14916"),
        ("12,\\!000,\\!023", "12000023"),
        ("0,111", "0.111"),  # a leading 0: decimal comma
        ("2,74", "2.74"),
        ("-2,1", "-2,1"),  # a list, not a decimal
        ("32, 349", "32, 349"),  # a list with a space is not a thousands separator
    ],
)
def test_number_layout(raw: str, expected: str) -> None:
    assert text(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [("2\\frac{1}{3}", "7/3"), ("4 4/9", "40/9"), ("-1\\frac{1}{2}", "-3/2")])
def test_mixed_numbers_become_improper_fractions(raw: str, expected: str) -> None:
    assert text(raw) == expected


def test_mixed_number_needs_a_proper_fraction() -> None:
    assert text("2\\frac{5}{3}") == "2\\frac{5}{3}"


@pytest.mark.parametrize("raw", ["\\$10", "$10", "10€", "£10"])
def test_currency_signs_are_dropped(raw: str) -> None:
    assert text(raw) == "10"


@pytest.mark.parametrize("raw", ["28\\%", "28%", "28 percent", "28 pct", "$28$ %"])
def test_percent_becomes_a_flag(raw: str) -> None:
    assert normalize_answer(raw) == NormalForm("28", percent=True)


@pytest.mark.parametrize("raw", ["90^\\circ", "90^{\\circ}", "90°", "90 degrees"])
def test_degrees_become_a_flag(raw: str) -> None:
    assert normalize_answer(raw) == NormalForm("90", degrees=True)


def test_pm_is_kept_for_the_parser() -> None:
    assert text("1 \\pm \\sqrt{19}") == "1 \\pm \\sqrt{19}"


def test_factorial_and_ellipsis_are_not_punctuation() -> None:
    assert text("5!") == "5!"
    assert text("1, 2, 3, ...") == "1, 2, 3, ..."


def test_doubled_backslashes_are_read_as_commands() -> None:
    assert text("\\\\frac{1}{5}") == "\\frac{1}{5}"


def test_matrix_row_separators_survive() -> None:
    assert "\\\\" in text("\\begin{pmatrix}1\\\\ 2\\end{pmatrix}")


@pytest.mark.parametrize(("raw", "lhs", "rhs"), [("x = 5", "x", "5"), ("a_{1}=3", "a_{1}", "3"),
                                                 ("x = 1 = 2", "", "x = 1 = 2"), ("5", "", "5")])
def test_split_assignment(raw: str, lhs: str, rhs: str) -> None:
    assert split_assignment(raw) == (lhs, rhs)


# -- number policies -----------------------------------------------------------------------------------------


def number(text: str) -> Number:
    parsed = parse_number(text)
    assert parsed is not None and parsed.value is not None
    return parsed


def match(pred: str, pred_pct: bool, gold: str, gold_pct: bool, **policy: object) -> bool:
    return numbers_match(number(pred), pred_pct, number(gold), gold_pct, Policy(**policy))  # type: ignore[arg-type]


def test_percent_policy_gold_decides() -> None:
    assert match("50", False, "50", True)  # gold 50% accepts 50
    assert match("0.5", False, "50", True)  # ... and the ratio
    assert match("50", True, "0.5", False)  # a % on the answer reads as a ratio
    assert not match("50", True, "50", False)
    assert not match("0.5", False, "50", False)  # 0.5 vs 50: never


def test_percent_policy_ratio_and_strip() -> None:
    assert not match("50", False, "50", True, percent="ratio")
    assert match("0.5", False, "50", True, percent="ratio")
    assert match("50", True, "50", False, percent="strip")
    assert not match("0.5", False, "50", False, percent="strip")


def test_rounding_policy() -> None:
    assert match("0.333", False, "1/3", False)
    assert match("1/3", False, "0.33", False)  # a decimal gold sets the precision itself
    assert not match("0.33", False, "1/3", False)  # an answer needs 3 significant digits by default ...
    assert match("0.33", False, "1/3", False, min_sig_digits=2)  # ... a policy option
    assert match("1/3", False, "0.33", False, rounding="gold")  # only the gold may be the rounded side
    assert not match("0.333", False, "1/3", False, rounding="gold")
    assert not match("0.3", False, "1/3", False)  # one significant digit: too coarse
    assert not match("0.334", False, "1/3", False)
    assert not match("0.333", False, "1/3", False, rounding="exact")
    assert match("33.3", True, "1/3", False)  # 33.3% is 0.333 with its last place scaled too
    assert not match("33.2", True, "1/3", False)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_normalize_never_raises(raw: str) -> None:
    form = normalize_answer(raw)
    assert isinstance(form.text, str)
    assert normalize_answer(form.text).text == normalize_answer(form.text).text
