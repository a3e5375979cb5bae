"""The one plain-number grammar (`verifiers.numbers`) and the places that read numbers with it: routing, the
numeric verifier, math normalization and the step parser must agree on what is one number and on its value."""

from __future__ import annotations

import unicodedata
from fractions import Fraction

import pytest
from support.properties import given, settings, st

from verifiers import numbers, verify
from verifiers.default_routing import guess_domain
from verifiers.math.arith import ArithError, parse_expression
from verifiers.math.normalize import normalize_answer
from verifiers.text import find_numbers, normalize_unicode, parse_number
from verifiers.verdict import Status

NEAR_MISSES = ["1 0000", "10 00", "1 2", "1,00", "1.000,5", "0,123", "1,000 000", "1,2345", "3–5", "–5", "‒5",
               "5.%", "1e", "e3", ".", "-", "+-5", "- 5", "٥", "1٬000"]
"""Texts that look like one number and are not: each must be refused, never read as some other number."""


# -- the grammar ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "percent"),
    [
        ("42", "42", False),
        ("-7", "-7", False),
        ("+5", "5", False),
        ("\u22125", "-5", False),  # minus sign
        ("\uff0d5", "-5", False),  # full-width hyphen-minus
        ("\ufe635", "-5", False),  # small hyphen-minus
        ("５", "5", False),  # full-width digit
        ("5.", "5", False),  # a final period is punctuation
        (".5", "1/2", False),
        ("3.25", "13/4", False),
        ("1,234,567", "1234567", False),
        ("1 000", "1000", False),
        ("1\u00a0000", "1000", False),  # no-break space
        ("1\u2009000", "1000", False),  # thin space
        ("1\u202f000", "1000", False),  # narrow no-break space
        ("1\u2007000", "1000", False),  # figure space
        ("-1 000 000.25", "-4000001/4", False),
        ("1e3", "1000", False),
        ("1e-3", "1/1000", False),
        ("1E+3", "1000", False),
        ("1,000e3", "1000000", False),
        ("50%", "50", True),
        ("50 %", "50", True),
        ("  12  ", "12", False),
    ],
)
def test_plain_numbers(text: str, value: str, percent: bool) -> None:
    number = numbers.read_plain(text)
    assert number is not None and number.value == Fraction(value) and number.percent is percent
    assert numbers.is_plain(text)


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_are_not_one_number(text: str) -> None:
    assert numbers.read_plain(text) is None
    assert parse_number(text) is None


def test_space_groups_only_a_whole_number() -> None:
    assert [n.value for n in find_numbers("1 000")] == [1000]
    assert [n.value for n in find_numbers("pages 10 100 200")] == [10, 100, 200]  # running text: three numbers
    assert [n.value for n in find_numbers("1 0000")] == [1, 0]


def test_exponent_and_length_caps_give_no_value() -> None:
    huge = numbers.read_plain("1e99999999")
    assert huge is not None and huge.value is None  # one number all the same, whose value is not built
    assert numbers.decimal_value("1" * (numbers.MAX_DIGITS + 1)) is None
    assert numbers.decimal_value("1", str(numbers.MAX_EXPONENT)) == 10**numbers.MAX_EXPONENT


def test_latex_groups_join_only_valid_groups() -> None:
    assert numbers.join_latex_groups("1\\,000\\,000") == "1,000,000"
    assert numbers.join_latex_groups("12,\\!000") == "12,000"
    assert numbers.join_latex_groups("1{,}000", "") == "1000"
    assert numbers.join_latex_groups("12345\\,678") == "12345\\,678"  # not 12,345,678 or 12345678
    assert numbers.join_latex_groups("1\\,00") == "1\\,00"
    assert numbers.join_latex_groups("0\\,123") == "0\\,123"


def test_ascii_table_reads_as_text_normalization_does() -> None:
    """Routing reads Unicode with `to_ascii`, the numeric verifier with `normalize_unicode`: they must agree."""
    for char in {*numbers.MINUS_SIGNS, *numbers.SPACES, "\uff0b", "\ufe62", "\uff05", "\ufe6a", "\uff0e",
                 "\ufe52", "\uff0c", "\ufe50", *(chr(0xFF10 + d) for d in range(10))}:
        assert numbers.to_ascii(char) == normalize_unicode(char, math=True), hex(ord(char))
    nfkc_spaces = {chr(c) for c in range(0x3001) if unicodedata.category(chr(c)) == "Zs" and chr(c) != " "
                   and unicodedata.normalize("NFKC", chr(c)) == " "}
    assert nfkc_spaces == set(numbers.SPACES)
    for dash in numbers.DASHES:
        assert numbers.to_ascii(dash) == dash and normalize_unicode(dash, math=True) not in "-+"


# -- routing and the numeric verifier agree ------------------------------------------------------------------------

_SIGNS = st.sampled_from(["", "-", "+", "\u2212", "\uff0d", "\ufe63"])
_SEPARATORS = st.sampled_from([",", " ", "\u00a0", "\u2009", "\u202f", "\u2007"])


@st.composite
def plain_numbers(draw: st.DrawFn) -> str:
    """Texts in the plain grammar: a sign, digits (grouped or not), decimals, exponent, percent, a final period."""
    whole = draw(st.integers(min_value=0, max_value=10**15))
    if draw(st.booleans()) and whole >= 1000:
        digits = f"{whole:,}".replace(",", draw(_SEPARATORS))
    else:
        digits = draw(st.sampled_from(["", "0", "00"])) + str(whole) if whole else "0"
    fraction = draw(st.one_of(st.just(""), st.from_regex(r"\.[0-9]{1,8}", fullmatch=True)))
    if fraction and draw(st.booleans()) and "," not in digits and " " not in digits:
        digits = "" if whole == 0 else digits  # `.5`
    exponent = draw(st.one_of(st.just(""), st.from_regex(r"[eE][-+]?[0-9]{1,3}", fullmatch=True)))
    percent = draw(st.sampled_from(["", "%", " %"]))
    period = draw(st.sampled_from(["", "."]))
    space = draw(st.sampled_from(["", " ", "\t", "\n"]))
    return space + draw(_SIGNS) + digits + fraction + exponent + percent + period + space


@settings(max_examples=300, deadline=None)
@given(plain_numbers())
def test_every_routed_number_is_read_to_the_same_value(text: str) -> None:
    plain = numbers.read_plain(text)
    assert plain is not None, text
    assert guess_domain(text) == "numeric"
    parsed = parse_number(text)
    assert parsed is not None and parsed.value == plain.value and parsed.percent is plain.percent


def scientific(value: Fraction) -> str:
    """An exact decimal value written as `<integer>e<power>` (`-1.25` -> `-125e-2`), short for any exponent."""
    power = 0
    while value.denominator != 1:
        value, power = value * 10, power - 1
    whole = value.numerator
    while whole and whole % 10 == 0:
        whole, power = whole // 10, power + 1
    return f"{whole}e{power}"


@settings(max_examples=60, deadline=None)
@given(plain_numbers().filter(lambda t: "%" not in t))
def test_routed_numbers_score_their_value_and_not_a_neighbour(text: str) -> None:
    plain = numbers.read_plain(text)
    assert plain is not None and plain.value is not None
    other = plain.value + max(Fraction(1), abs(plain.value))
    assert verify(f"The answer is {scientific(plain.value)}.", text).status is Status.CORRECT
    assert verify(f"The answer is {scientific(other)}.", text).status is Status.INCORRECT


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789 ,.-+eE%\u2212\u2013\u00a0\u2009", max_size=14))
def test_anything_the_router_calls_a_number_the_numeric_verifier_reads_alike(text: str) -> None:
    plain = numbers.read_plain(text)
    if guess_domain(text) == "numeric":
        assert plain is not None
    if plain is not None and plain.value is not None:
        parsed = parse_number(text)
        assert parsed is not None and parsed.value == plain.value, text


# -- end to end: the twins of issue 17 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "reference", "status"),
    [
        ("The answer is 1000.", "1 000", Status.CORRECT),
        ("The answer is 1001.", "1 000", Status.INCORRECT),
        ("The answer is 1 000.", "1000", Status.CORRECT),
        ("The answer is 1 000.", "1001", Status.INCORRECT),
        ("1000", "1\u202f000", Status.CORRECT),
        ("-5", "\u22125", Status.CORRECT),
        ("5", "\u22125", Status.INCORRECT),
        ("\u22125", "-5", Status.CORRECT),
        ("-5", "\uff0d5", Status.CORRECT),
        ("+5", "5", Status.CORRECT),
        ("5", "5.", Status.CORRECT),
        ("0.5", ".5", Status.CORRECT),
        ("1000", "1e3", Status.CORRECT),
        ("1000", "1e-3", Status.INCORRECT),
        ("0.001", "1e-3", Status.CORRECT),
        # near misses: never a different number
        ("The answer is 1 0000", "10000", Status.INCORRECT),
        ("The answer is 1 0000", "1000", Status.INCORRECT),
        ("The answer is 10 00", "1000", Status.INCORRECT),
        ("The answer is 1 2", "12", Status.INCORRECT),
        ("The answer is 1,00", "100", Status.INCORRECT),
        ("The answer is 1.000,5", "1000.5", Status.INCORRECT),
        ("The answer is 1.000,5", "1", Status.INCORRECT),
        ("The answer is 3–5", "3", Status.INCORRECT),  # a range
        ("The answer is 3–5", "-5", Status.INCORRECT),
        ("The answer is –5", "5", Status.INCORRECT),  # an en dash is no sign: neither 5 ...
        ("The answer is –5", "-5", Status.INCORRECT),  # ... nor -5
        ("\\boxed{12345\\,678}", "12345678", Status.INCORRECT),
    ],
)
def test_routed_verdicts(response: str, reference: str, status: Status) -> None:
    assert verify(response, reference).status is status


@pytest.mark.parametrize("reference", ["1 0000", "10 00", "1,00", "1.000,5", "3–5", "–5", "0,123", "1,000 000"])
def test_near_miss_references_are_not_routed_as_numbers(reference: str) -> None:
    assert guess_domain(reference) != "numeric"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1\\,000", "1000"), ("10\\,000\\,000", "10000000"), ("12345\\,678", "12345 678"), ("1\\,00", "1 00"),
     ("1 0000", "1 0000"), ("1,000 000", "1,000 000")],
)
def test_math_normalization_never_joins_bad_groups(raw: str, expected: str) -> None:
    assert normalize_answer(raw).text == expected


@pytest.mark.parametrize("text", ["0,123", "1,0000", "1 000", "12345\\,678"])
def test_step_parser_refuses_bad_groups(text: str) -> None:
    with pytest.raises(ArithError):
        parse_expression(text)


@pytest.mark.parametrize(("text", "value"), [("1,000", 1000), ("12,\\!000", 12000), ("3 \uff0d 1", 2), ("1e3", 1000)])
def test_step_parser_reads_the_plain_grammar(text: str, value: int) -> None:
    assert parse_expression(text) == value
