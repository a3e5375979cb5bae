"""Behaviour of the shared text helpers: extraction, normalization, number and choice parsing."""

from __future__ import annotations

import time
from fractions import Fraction

import pytest
from support.properties import given, settings, st

from verifiers.text import (
    clip,
    extract_all_boxed,
    extract_anchored_answers,
    extract_boxed,
    extract_tag_contents,
    find_answers,
    find_numbers,
    last_number,
    normalize_text,
    parse_choices,
    parse_number,
    strip_latex_wrappers,
    strip_think,
)

# -- boxes ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        (r"so \boxed{42}.", "42"),
        (r"\boxed{\frac{1}{2}}", r"\frac{1}{2}"),
        (r"\boxed{a{b{c}}d}", "a{b{c}}d"),
        (r"\fbox{7}", "7"),
        (r"\boxed 5", "5"),
        (r"first \boxed{1} then \boxed{2}", "2"),
        (r"\boxed{\boxed{3}}", r"\boxed{3}"),
        (r"\boxed{unclosed", None),
        (r"\boxedfoo{1}", None),
        ("no box here", None),
        (r"x + \boxed{\phantom{2}} = 3", None),
    ],
)
def test_extract_boxed(text, expected):
    assert extract_boxed(text) == expected


def test_extract_all_boxed_keeps_outer_boxes_in_order():
    assert extract_all_boxed(r"\boxed{1} \boxed{\boxed{2}} \fbox{3} \boxed{") == ["1", r"\boxed{2}", "3"]


def test_unclosed_box_before_a_closed_one_does_not_hide_it():
    assert extract_all_boxed(r"\boxed{ oops \boxed{5}") == ["5"]


BRACE_SOUP = st.lists(st.sampled_from(["{", "}", "\\boxed", "\\fbox", "\\text", "a", "1", " ", "$"]), max_size=80)


@settings(max_examples=300, deadline=None)
@given(BRACE_SOUP.map("".join))
def test_extract_boxed_on_random_brace_strings_terminates(text):
    boxes = extract_all_boxed(text)
    assert all(isinstance(b, str) for b in boxes)
    last = extract_boxed(text)
    assert last == (boxes[-1] if boxes else None)
    for box in boxes:  # every returned content has balanced braces
        depth = 0
        for ch in box:
            depth += {"{": 1, "}": -1}.get(ch, 0)
            assert depth >= 0
        assert depth == 0


def test_extraction_on_huge_brace_soup_is_fast():
    text = "\\boxed{" * 1_000_000 + "{" * 3_000_000
    start = time.perf_counter()
    assert extract_all_boxed(text) == []
    normalize_text(text)
    assert time.perf_counter() - start < 3.0


# -- thinking and tags ------------------------------------------------------------------------------------------


def test_strip_think():
    assert strip_think("<think>\\boxed{1}</think> \\boxed{2}") == " \\boxed{2}"
    assert strip_think("reasoning without open</think>answer") == "answer"
    assert strip_think("answer first <think>never closed") == "answer first "
    assert strip_think("plain") == "plain"


def test_extract_tag_contents():
    assert extract_tag_contents("<answer>a</answer> x <answer>b</answer>", "answer") == ["a", "b"]
    assert extract_tag_contents("<answer>open only", "answer") == []


# -- anchored answers -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The answer is 42.", ["42"]),
        ("Answer: B", ["B"]),
        ("**Answer:** (C) because", ["(C) because"]),
        ("The final answer is $5$. I hope it is correct.", ["$5$"]),
        ("**Final Answer**\n\n17\n", ["17"]),
        ("the answer is 3. Wait. The answer is 4.", ["4"]),
        ("We check if the answer is 3.\nFinal answer: 4", ["4"]),
        ("The answer is not 5.", []),
        ("<think>The answer is 1</think>The answer is 2", ["2"]),
        ("<think>\\boxed{9}</think>no anchor", []),
        ("<answer>The answer is \\boxed{6}</answer>", ["6"]),
        ("<think>x</think><answer> 7 </answer>", ["7"]),
        ("\\boxed{1} and \\boxed{2}", ["1", "2"]),
        ("so \\boxed{200} and \\boxed{255}. Final Answer: The final answer is $10,455$.", ["$10,455$"]),
        ("Final answer: \\boxed{8}", ["8"]),
        ("The correct option is D.", ["D"]),
        ("no anchor at all 12", []),
    ],
)
def test_extract_anchored_answers(text, expected):
    assert extract_anchored_answers(text) == expected


def test_find_answers_reports_the_anchor_kind():
    assert [a.kind for a in find_answers("\\boxed{1}")] == ["boxed"]
    assert [a.kind for a in find_answers("<answer>x</answer>")] == ["tag"]
    assert [a.kind for a in find_answers("Final answer: 3")] == ["final_answer"]
    assert [a.kind for a in find_answers("the answer is 3")] == ["answer_phrase"]


def test_think_is_kept_when_asked():
    assert extract_anchored_answers("<think>\\boxed{9}</think>", ignore_think=False) == ["9"]


# -- normalization ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("  Paris  ", "paris"),
        ("New   York\n City", "new york city"),
        ("$\\text{Paris}$", "paris"),
        ("\\(\\mathrm{H_2O}\\)", "h_2o"),
        ("\\textbf{\\boxed{Yes}}.", "yes"),
        ('"Paris".', "paris"),
        ("“Paris”", "paris"),
        ("**Paris**!", "paris"),
        ("Ｐａｒｉｓ", "paris"),  # full-width letters (NFKC)
        ("ﬁne", "fine"),  # ligature (NFKC)
        ("STRASSE", "strasse"),
        ("Straße", "strasse"),  # casefold, not lower
        ("$5$ and $6$", "$5$ and $6$"),  # dollars that do not wrap the whole text stay
        ("\\text{a{b}c}", "a{b}c"),
    ],
)
def test_normalize_text(text, expected):
    assert normalize_text(text) == expected


def test_normalize_text_parts_switch_off():
    assert normalize_text(" Paris. ", casefold=False) == "Paris"
    assert normalize_text("Paris.", punctuation=False) == "paris."
    assert normalize_text("$x$", latex=False) == "$x$"
    assert normalize_text("a  b", whitespace=False) == "a  b"
    assert normalize_text('"a"', quotes=False) == '"a"'
    assert normalize_text("Ｐ", unicode=False, casefold=False) == "Ｐ"


def test_strip_latex_wrappers():
    assert strip_latex_wrappers("$$\\text{ok}$$") == "ok"
    assert strip_latex_wrappers("\\[ 5 \\]") == "5"
    assert strip_latex_wrappers("\\mathbf{v} + \\mathrm{d}x") == "v + dx"


def test_clip():
    assert clip("abc", 5) == "abc"
    assert clip("abcdef", 3) == "abc…[+3 chars]"


# -- numbers ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, value, percent",
    [
        ("42", "42", False),
        ("-7", "-7", False),
        ("\u22125", "-5", False),  # unicode minus
        ("+3", "3", False),
        ("3.25", "13/4", False),
        (".5", "1/2", False),
        ("1,234,567", "1234567", False),
        ("1 000", "1000", False),
        ("1{,}000", "1000", False),
        ("1\\,000", "1000", False),
        ("3/4", "3/4", False),
        ("\\frac{3}{4}", "3/4", False),
        ("\\dfrac{-3}{4}", "-3/4", False),
        ("-\\frac{3}{4}", "-3/4", False),
        ("\\tfrac34", "3/4", False),
        ("1.5e3", "1500", False),
        ("2E-2", "1/50", False),
        ("1.5 \\times 10^{3}", "1500", False),
        ("1.5\\cdot10^3", "1500", False),
        ("10^{-2}", "1/100", False),
        ("50%", "50", True),
        ("50\\%", "50", True),
        ("12 percent", "12", True),
        ("$\\boxed{7}$", "7", False),
        ("x = 11", "11", False),
        ("\\$10", "10", False),
        ("0.5.", "1/2", False),
    ],
)
def test_parse_number(text, value, percent):
    number = parse_number(text)
    assert number is not None
    assert number.value == Fraction(value)
    assert number.percent is percent


@pytest.mark.parametrize(
    "text",
    ["1,2", "0,111", "1,2345", "7 or 8", "5 cm", "abc", "", "3/0", "1e99999", "2^{10}", "1" * 5000, "1\\frac{1}{2}"],
)
def test_parse_number_rejects(text):
    assert parse_number(text) is None


def test_thousands_separator_is_not_a_list_separator():
    assert parse_number("1,234").value == 1234
    assert [n.value for n in find_numbers("1,2")] == [1, 2]


def test_find_numbers():
    assert [str(n.value) for n in find_numbers("x = 5 and y_2 = \\frac{1}{2}")] == ["5", "1/2"]
    assert [n.value for n in find_numbers("5 \\text{ cm}^2")] == [5]
    assert [n.value for n in find_numbers("3-5")] == [3, 5]
    assert [n.percent for n in find_numbers("50% of 8")] == [True, False]


def test_last_number():
    assert last_number("first 12 then 3.5, done").value == Fraction(7, 2)
    assert last_number("no digits") is None
    assert last_number("x" * 1_000_000 + " 9 " + "y" * 1_000_000).value == 9


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_parse_number_round_trips_integers_with_and_without_separators(n):
    assert parse_number(str(n)).value == n
    assert parse_number(f"{n:,}").value == n


@settings(max_examples=200, deadline=None)
@given(st.fractions(max_denominator=10**6))
def test_parse_number_round_trips_fractions(q):
    assert parse_number(str(q)).value == q
    assert parse_number(f"\\frac{{{q.numerator}}}{{{q.denominator}}}").value == q


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_number_parsing_is_total(text):
    number = parse_number(text)
    assert number is None or isinstance(number.value, Fraction)
    for n in find_numbers(text):
        assert n.value is None or isinstance(n.value, Fraction)


# -- choices ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("B", ["B"]),
        ("(B)", ["B"]),
        ("B.", ["B"]),
        ("**B**", ["B"]),
        ("\\boxed{\\text{B}}", ["B"]),
        ("option C", ["C"]),
        ("A or B", ["A", "B"]),
        ("A, C and D", ["A", "C", "D"]),
        ("B, B", ["B"]),
        ("b", []),  # lower case is an article, not a choice
        ("K", []),  # outside the choices
        ("(B) because A is wrong", ["B"]),
    ],
)
def test_parse_choices(text, expected):
    assert parse_choices(text) == expected


def test_parse_choices_whole_rejects_prose():
    assert parse_choices("A cat sat on the mat", whole=True) == []
    assert parse_choices("A cat sat on the mat") == ["A"]  # only an anchored span may start with a letter
    assert parse_choices("**(D).**", whole=True) == ["D"]
    assert parse_choices("E", "ABCD") == []


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_extraction_helpers_are_total(text):
    for answer in find_answers(text):
        assert isinstance(answer.text, str)
    normalize_text(text)
    parse_choices(text)
    strip_latex_wrappers(text)


def test_numbers_right_after_cjk_text_are_numbers() -> None:
    # CJK characters are word characters to `re`: "有99" once hid the 99 from the number grammar
    assert [n.value for n in find_numbers("Haley总共有99颗弹珠")] == [99]
    assert find_numbers("x2") == [] and find_numbers("a_1") == []


def test_an_exponent_of_any_length_never_leaves_its_mantissa_alone():
    import verifiers

    # `1e1000000` once read as 1 (the exponent grammar stopped at 6 digits), a false CORRECT against 1
    from verifiers.text import find_numbers

    (token,) = find_numbers("so 1e1000000 it is")
    assert token.text == "1e1000000" and token.value is None
    (sci,) = find_numbers("2 \\times 10^{1000000}")
    assert sci.value is None
    assert find_numbers("1e6")[0].value == 1_000_000  # the twin: an ordinary exponent keeps its value
    for response in ("The answer is 1e1000000.", "\\boxed{1e1000000}", "\\boxed{2 \\times 10^{1000000}}"):
        for domain in ("numeric", "math", None):
            verdict = verifiers.verify(response, "1" if "2 " not in response else "2", domain=domain)
            assert verdict.status is not verifiers.Status.CORRECT, (response, domain, verdict.reason)
    assert verifiers.verify("\\boxed{1e6}", "1000000", domain="numeric").is_correct
