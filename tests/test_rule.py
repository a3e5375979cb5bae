"""Behaviour of the rule verifiers, through the public API and directly, plus never-raise properties."""

from __future__ import annotations

import sys
import time

import pytest
from support.extras import install_hint
from support.properties import HealthCheck, given, settings, st

import verifiers
from verifiers import OptionError, Sample, Status, Verdict, get_verifier, verify


def check(response, reference=None, *, verifier, **options) -> Verdict:
    verdict = verify(response, reference, verifier=verifier, options=options)
    assert 0.0 <= verdict.score <= 1.0
    assert Verdict.from_dict(verdict.to_dict()) == verdict
    return verdict


# -- registration -----------------------------------------------------------------------------------------------

EXPECTED = {
    "exact": (),
    "normalized": ("text",),
    "numeric": ("numeric",),
    "choice": ("multiple_choice",),
    "regex": (),
    "format": (),
    "length": (),
    "checklist": (),
    "bleu": (),
}


def test_rule_verifiers_are_registered_with_domains_and_docs():
    rows = {row["name"]: row for row in verifiers.list_verifiers()}
    for name, domains in EXPECTED.items():
        assert rows[name]["plugin"] == "verifiers.rule"
        assert tuple(rows[name]["domains"]) == domains
        assert rows[name]["description"], name


def test_domain_cascades_use_the_rule_verifiers():
    assert verify("The answer is 42.", "42", domain="numeric").status is Status.CORRECT
    assert verify("**B**", "B", domain="multiple_choice").status is Status.CORRECT
    assert verify("Paris.", "paris", domain="text").status is Status.CORRECT


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_unknown_option_is_rejected(name):
    with pytest.raises(OptionError):
        get_verifier(name, no_such_option=1)


# -- exact ------------------------------------------------------------------------------------------------------


def test_exact():
    assert check(" 42\n", "42", verifier="exact").status is Status.CORRECT
    assert check("42", ["41", "42"], verifier="exact").status is Status.CORRECT
    assert check("Paris", "paris", verifier="exact").status is Status.INCORRECT
    assert check(" 42", "42", verifier="exact", strip=False).status is Status.INCORRECT
    verdict = check("42", None, verifier="exact")
    assert verdict.status is Status.ERROR and "no reference" in verdict.reason


# -- normalized -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "response, reference",
    [
        ("Paris", "paris"),
        ("  PARIS. ", "Paris"),
        ("The answer is Paris.", "Paris"),
        ("Answer: $\\text{New  York}$", "new york"),
        ("\\boxed{\\textbf{Yes}}", "yes"),
        ('"Paris"', "Paris"),
        ("Ｐａｒｉｓ", "Paris"),
        ("<think>maybe Rome</think>\n**Paris**", "Paris"),
        ("<think>x</think><answer>Paris</answer>", "Paris"),
        ("Lyon", ["Paris", "Lyon"]),
        ("\\(\\mathrm{H_2O}\\)", "H_2O"),
    ],
)
def test_normalized_matches(response, reference):
    verdict = check(response, reference, verifier="normalized")
    assert verdict.status is Status.CORRECT, verdict.reason


@pytest.mark.parametrize(
    "response, reference",
    [
        ("Rome", "Paris"),
        ("The capital of France is Paris", "Paris"),  # unanchored prose is compared whole
        ("\\boxed{Paris} or maybe \\boxed{Rome}", "Paris"),
        ("<think>Paris</think>Rome", "Paris"),
    ],
)
def test_normalized_rejects(response, reference):
    assert check(response, reference, verifier="normalized").status is Status.INCORRECT


def test_normalized_several_answers_reason_and_evidence():
    verdict = check("\\boxed{Paris} \\boxed{Rome}", "Paris", verifier="normalized")
    assert "several different" in verdict.reason
    verdict = check("Answer: Paris", "paris", verifier="normalized")
    assert verdict.evidence["anchor"] == "answer_phrase"
    assert verdict.evidence["normalized_answer"] == "paris"


def test_normalized_options_switch_parts_off():
    assert check("PARIS", "paris", verifier="normalized", casefold=False).status is Status.INCORRECT
    assert check("Answer: Paris", "Paris", verifier="normalized", extract=False).status is Status.INCORRECT
    assert check("$Paris$", "Paris", verifier="normalized", latex=False).status is Status.INCORRECT
    assert check("<think>a</think>Paris", "Paris", verifier="normalized", ignore_think=False).status is Status.INCORRECT


def test_normalized_per_sample_metadata_wins():
    verdict = verify("PARIS", "paris", verifier="normalized", metadata={"casefold": False})
    assert verdict.status is Status.INCORRECT
    bad = verify("PARIS", "paris", verifier="normalized", metadata={"casefold": "yes"})
    assert bad.status is Status.ERROR and "casefold" in bad.reason


def test_normalized_needs_a_reference():
    assert check("Paris", None, verifier="normalized").status is Status.ERROR
    assert check("Paris", [], verifier="normalized").status is Status.ERROR


# -- numeric ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "response, reference",
    [
        ("The answer is 42.", "42"),
        ("42", 42),
        ("\\boxed{1,234}", "1234"),
        ("The answer is 1234", "1,234"),
        ("\\boxed{\\frac{3}{4}}", "0.75"),
        ("\\boxed{\\dfrac{3}{4}}", "3/4"),
        ("Answer: -5", "-5"),
        ("$x = 11$", "11"),
        ("\\boxed{1.5e3}", "1500"),
        ("\\boxed{1.5 \\times 10^{3}}", 1500),
        ("<answer>2.50</answer>", "2.5"),
        ("The final answer is $10,455$.", "10455"),
        ("\\boxed{0.1}", 0.1),
        ("\\boxed{5 \\text{ cm}^2}", "5"),
        ("\\boxed{7} so again \\boxed{7.0}", "7"),
        ("<think>\\boxed{3}</think>\\boxed{4}", "4"),
        ("\\boxed{4}", ["3", "4"]),
    ],
)
def test_numeric_matches(response, reference):
    verdict = check(response, reference, verifier="numeric")
    assert verdict.status is Status.CORRECT, verdict.reason


@pytest.mark.parametrize(
    "response, reference",
    [
        ("The answer is 41.", "42"),
        ("7 or 8", "7"),  # unanchored text with two numbers: no answer
        ("The answer is 7 or 8", "7"),
        ("The answer is 7 or 8", "8"),
        ("\\boxed{3} and \\boxed{4}", "3"),
        ("\\boxed{1,2}", "12"),
        ("I computed 5 apples", "5"),  # no anchor, fallback off
        ("\\boxed{2^{10}}", "2"),
        ("The answer is not 5.", "5"),
        ("\\boxed{1\\frac{1}{2}}", "11/2"),
    ],
)
def test_numeric_rejects(response, reference):
    assert check(response, reference, verifier="numeric").status is Status.INCORRECT


def test_numeric_several_answers_reason():
    verdict = check("\\boxed{3} then \\boxed{4}", "3", verifier="numeric")
    assert "several different final answers" in verdict.reason
    verdict = check("The answer is 7 or 8", "7", verifier="numeric")
    assert "several different numbers" in verdict.reason
    verdict = check("I computed 5 apples", "5", verifier="numeric")
    assert "no final answer" in verdict.reason


@pytest.mark.parametrize(
    "response, reference, policy, ok",
    [
        ("\\boxed{50\\%}", "50", "both", True),
        ("\\boxed{50\\%}", "0.5", "both", True),
        ("\\boxed{50\\%}", "50", "strip", True),
        ("\\boxed{50\\%}", "0.5", "strip", False),
        ("\\boxed{50\\%}", "0.5", "ratio", True),
        ("\\boxed{50\\%}", "50", "ratio", False),
        ("\\boxed{0.5}", "50%", "both", True),
        ("\\boxed{0.5}", "50", "both", False),  # no % anywhere: 0.5 is never 50
        ("\\boxed{50}", "0.5", "both", False),
        ("\\boxed{50%}", "50%", "ratio", True),
        ("\\boxed{50%}", "5000%", "both", False),  # both percent: compared as written
        ("12 percent", "0.12", "both", True),
    ],
)
def test_numeric_percent_policies(response, reference, policy, ok):
    verdict = check(response, reference, verifier="numeric", percent=policy)
    assert verdict.is_correct is ok, verdict.reason


def test_numeric_tolerances():
    # no tolerance by default: a decimal is right only as the other value rounded to its last place
    assert check("\\boxed{3.14158}", "3.14159265", verifier="numeric").status is Status.INCORRECT
    assert check("\\boxed{3.14159}", "3.14159265", verifier="numeric").status is Status.CORRECT
    assert check("\\boxed{3.14158}", "3.14159265", verifier="numeric", rel_tol=1e-5).status is Status.CORRECT
    assert check("\\boxed{1000000008}", "1000000007", verifier="numeric").status is Status.INCORRECT
    assert check("\\boxed{0.001}", "0", verifier="numeric", abs_tol=0.01).status is Status.CORRECT
    assert check("\\boxed{0.1}", "0", verifier="numeric", abs_tol=0.01).status is Status.INCORRECT
    assert check("\\boxed{0.333333333333}", "1/3", verifier="numeric").status is Status.CORRECT


def test_numeric_fallback_last_number_only_when_asked():
    text = "First 3 apples, then 5 more, total 8"
    assert check(text, "8", verifier="numeric").status is Status.INCORRECT
    verdict = check(text, "8", verifier="numeric", fallback="last_number")
    assert verdict.status is Status.CORRECT and verdict.evidence["anchor"] == "last number"


def test_numeric_evidence_is_explained():
    verdict = check("The answer is \\frac{1}{2}.", "0.5", verifier="numeric")
    assert verdict.evidence["value"]["value"] == "1/2"
    assert verdict.evidence["anchor"] == "answer_phrase"
    assert verdict.evidence["references"][0]["value"] == "1/2"


@pytest.mark.parametrize("reference", [None, [], "banana", float("nan"), True, {"a": 1}])
def test_numeric_bad_reference_is_an_error(reference):
    verdict = check("\\boxed{1}", reference, verifier="numeric")
    assert verdict.status is Status.ERROR


# Huge and tiny exponents (issue 15): a verdict, never ERROR, never a giant integer, never the mantissa alone.
@pytest.mark.parametrize(
    "response, reference, status",
    [
        ("1e5000", "1e5000", Status.CORRECT),  # was ERROR: Python's int-to-str digit limit
        ("1e5000", "1e4999", Status.INCORRECT),
        ("1e5000", "10", Status.INCORRECT),
        pytest.param("\\boxed{1e5000}", 10**5000, Status.CORRECT, id="int-reference-over-the-digit-limit"),
        ("\\boxed{1e5000} and \\boxed{1e5001}", "1e5000", Status.INCORRECT),
        ("1.5e20000", "1.5e20000", Status.CORRECT),  # beyond `verifiers.text.MAX_EXPONENT`
        ("\\boxed{1e20000}", "1e19999", Status.INCORRECT),
        ("1e100000000", "1e100000000", Status.CORRECT),
        ("1e100000000", "1e99999999", Status.INCORRECT),
        ("1e100000000", "1", Status.INCORRECT),
        ("\\boxed{1e100000000}", "1", Status.INCORRECT),  # was CORRECT: the exponent was dropped
        ("The answer is 1e1000000.", "1", Status.INCORRECT),  # was CORRECT
        ("\\boxed{1e0000001}", "1", Status.INCORRECT),  # was CORRECT: 7 exponent digits, value 10
        ("\\boxed{1e0000001}", "10", Status.CORRECT),
        ("\\boxed{2 \\times 10^{1000000}}", "2", Status.INCORRECT),  # was CORRECT
        ("\\boxed{2 \\times 10^{1000000}}", "2e1000000", Status.CORRECT),
        ("\\boxed{10^{100000000}}", "1e100000000", Status.CORRECT),
        ("\\boxed{-1e100000000}", "1e100000000", Status.INCORRECT),
        ("\\boxed{1e100000000 or 2}", "1e100000000", Status.INCORRECT),
        ("1e-100000000", "0", Status.INCORRECT),
        ("1e-100000000", "1e-100000000", Status.CORRECT),
        ("1.2345e100000000", "1.23e100000000", Status.CORRECT),  # the rounding rule, as for 2.653 and 2.65
        ("1.23e100000000", "1.2345e100000000", Status.CORRECT),
        ("1.24e100000000", "1.2345e100000000", Status.INCORRECT),
        ("\\boxed{1e1000000\\%}", "1e999998", Status.CORRECT),  # percent read as a ratio
    ],
)
def test_numeric_huge_exponents(response, reference, status):
    start = time.perf_counter()
    verdict = check(response, reference, verifier="numeric")
    assert verdict.status is status, verdict.reason
    assert time.perf_counter() - start < 2.0


def test_numeric_huge_exponents_with_tolerances():
    assert check("1.2e100000000", "1e100000000", verifier="numeric", rel_tol=0.5).status is Status.CORRECT
    assert check("1e100000001", "1e100000000", verifier="numeric", rel_tol=0.5).status is Status.INCORRECT
    assert check("1e100000000", "1", verifier="numeric", rel_tol=0.9).status is Status.INCORRECT
    assert check("1e100000000", "-1", verifier="numeric", rel_tol=1).status is Status.INCORRECT
    assert check("1e-100000000", "0", verifier="numeric", abs_tol=1e-300).status is Status.CORRECT
    assert check("1e100000000", "0", verifier="numeric", abs_tol=1e300).status is Status.INCORRECT
    assert check("1e5000", "1e5000", verifier="numeric", abs_tol=1).status is Status.CORRECT
    assert check("1e5000", "2e5000", verifier="numeric", abs_tol=1e300).status is Status.INCORRECT


def test_numeric_huge_exponent_evidence_is_printable():
    verdict = check("1e5000", "1e5000", verifier="numeric")
    assert verdict.evidence["value"]["value"] == "about 10^5000"
    verdict = check("1e100000000", "1e100000000", verifier="numeric")
    assert verdict.evidence["references"][0]["value"] == "1 x 10^100000000"


_MANTISSAS = st.one_of(st.integers(-999, 999).map(str), st.decimals(-100, 100, places=3).map(str))


@settings(max_examples=300, deadline=None)
@given(_MANTISSAS, st.integers(-300, 300), _MANTISSAS, st.integers(-300, 300))
def test_numbers_kept_as_mantissa_and_exponent_follow_the_one_rule(ma, ea, mb, eb):
    """`scientific` (mantissa x 10**shift) decides exactly as the expanded numbers do."""
    from fractions import Fraction

    from verifiers.math.semantics import agree, scientific, written

    a, b = f"{ma}e{ea}", f"{mb}e{eb}"
    expanded = agree(written(a, Fraction(a)), written(b, Fraction(b)))
    shifted_a, shifted_b = scientific(a), scientific(b)
    assert shifted_a is not None and shifted_b is not None
    assert agree(shifted_a, shifted_b) == expanded
    assert agree(shifted_a, written(b, Fraction(b))) == expanded


@pytest.mark.parametrize(
    "options", [{"rel_tol": -1}, {"abs_tol": "x"}, {"percent": "half"}, {"fallback": "first"}, {"rel_tol": True}]
)
def test_numeric_bad_options(options):
    with pytest.raises(OptionError):
        get_verifier("numeric", **options)


# -- choice -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "response, reference",
    [
        ("The answer is (B).", "B"),
        ("Answer: B", "B"),
        ("So the final answer is \\boxed{B}", "B"),
        ("\\boxed{\\text{B}}", "B"),
        ("(B)", "B"),
        ("B", "(B)"),
        ("B.", "B"),
        ("**B**", "B"),
        ("C) 42 apples", "C"),
        ("The correct option is D because A is wrong.", "D"),
        ("<think>A? no.</think>The answer is C", "C"),
        ("Answer: B", ["B", "D"]),
        ("The answer is (B)", "b"),
    ],
)
def test_choice_matches(response, reference):
    verdict = check(response, reference, verifier="choice")
    assert verdict.status is Status.CORRECT, verdict.reason


@pytest.mark.parametrize(
    "response, reference, reason",
    [
        ("A cat sat on the mat.", "A", "no choice found"),  # an article, not a choice
        ("A good answer needs thought.", "A", "no choice found"),
        ("A or B", "A", "several different choices"),
        ("\\boxed{A} hmm \\boxed{B}", "A", "several different choices"),
        ("The answer is A, B", "B", "several different choices"),
        ("The answer is C", "B", "chose C"),
        ("I have no idea", "B", "no choice found"),
        ("The answer is 42", "B", "no choice found"),
        ("Answer: K", "B", "no choice found"),
    ],
)
def test_choice_rejects(response, reference, reason):
    verdict = check(response, reference, verifier="choice")
    assert verdict.status is Status.INCORRECT
    assert reason in verdict.reason


def test_choice_multi_answer_questions():
    assert check("The answer is A and C", ["A", "C"], verifier="choice", multi=True).status is Status.CORRECT
    assert check("The answer is A", ["A", "C"], verifier="choice", multi=True).status is Status.INCORRECT
    assert check("\\boxed{A, C}", "A, C", verifier="choice", multi=True).status is Status.CORRECT


def test_choice_custom_letters_and_bad_reference():
    assert check("Answer: E", "E", verifier="choice", choices="ABCD").status is Status.ERROR  # reference not a choice
    assert check("Answer: E", "A", verifier="choice", choices="ABCD").status is Status.INCORRECT
    assert check("Answer: A", None, verifier="choice").status is Status.ERROR
    with pytest.raises(OptionError):
        get_verifier("choice", choices="abc")


# -- regex ------------------------------------------------------------------------------------------------------


def test_regex():
    assert check("id: 1234", r"\d{4}", verifier="regex").status is Status.CORRECT
    assert check("id: 1234", r"\d{4}", verifier="regex", mode="fullmatch").status is Status.INCORRECT
    assert check("1234", None, verifier="regex", pattern=r"\d+", mode="fullmatch").status is Status.CORRECT
    assert check("HELLO", "hello", verifier="regex", ignore_case=True).status is Status.CORRECT
    assert check("abc", ["x", "b"], verifier="regex").status is Status.CORRECT
    verdict = check("abc", "b", verifier="regex")
    assert verdict.evidence["match"] == "b" and verdict.evidence["span"] == [1, 2]


def test_regex_invalid_pattern_is_an_error():
    verdict = check("anything", "([unclosed", verifier="regex")
    assert verdict.status is Status.ERROR and "invalid regex" in verdict.reason
    assert check("anything", None, verifier="regex").status is Status.ERROR
    assert check("anything", 5, verifier="regex").status is Status.ERROR


def test_regex_guards_huge_inputs():
    verdict = check("a" * 2_000_000, "a+", verifier="regex")
    assert verdict.status is Status.INCORRECT and "max_chars" in verdict.reason
    assert check("a" * 2_000_000, "a+", verifier="regex", max_chars=3_000_000).status is Status.CORRECT


def test_regex_catastrophic_pattern_is_stopped_by_a_deadline():
    (verdict,) = verifiers.verify_batch([Sample("a" * 40 + "!", "(a+)+$")], verifier="regex", timeout=1)
    assert verdict.status is Status.TIMEOUT


def test_regex_bad_options():
    with pytest.raises(OptionError):
        get_verifier("regex", mode="match")
    with pytest.raises(OptionError):
        get_verifier("regex", max_chars=0)


# -- format -----------------------------------------------------------------------------------------------------

GOOD = "<think>\nstep by step\n</think>\n<answer>42</answer>\n"


def test_format_strict_ok():
    verdict = check(GOOD, verifier="format")
    assert verdict.status is Status.CORRECT and verdict.score == 1.0
    assert [s.name for s in verdict.steps] == ["think", "answer"]
    assert verdict.evidence["contents"] == {"think": "\nstep by step\n", "answer": "42"}


@pytest.mark.parametrize(
    "response, failing",
    [
        ("Sure! " + GOOD, "think"),
        (GOOD + "bye", "answer"),
        ("<think>a</think> text <answer>b</answer>", "answer"),
        ("<think>a</think>", "answer"),
        ("<think>a</think><answer>b</answer><answer>c</answer>", "answer"),
        ("<answer>b</answer><think>a</think>", "answer"),
        ("</think>a<think><answer>b</answer>", "think"),
        ("<think><think>a</think></think><answer>b</answer>", "think"),
    ],
)
def test_format_strict_failures(response, failing):
    verdict = check(response, verifier="format")
    assert verdict.status is Status.INCORRECT and verdict.score == 0.0
    steps = {s.name: s for s in verdict.steps}
    assert steps[failing].status is Status.INCORRECT
    assert steps[failing].detail


def test_format_non_strict():
    surrounded = "Sure. <think>a</think> and so <answer>b</answer> done"
    assert check(surrounded, verifier="format", strict=False).status is Status.CORRECT
    assert check(surrounded, verifier="format").status is Status.INCORRECT
    wrong_order = "<answer>b</answer><think>a</think>"
    verdict = check(wrong_order, verifier="format", strict=False)
    assert verdict.status is Status.INCORRECT and "wrong order" in verdict.reason
    assert {s.name: s.status for s in verdict.steps} == {"think": Status.CORRECT, "answer": Status.INCORRECT}


def test_format_custom_tags():
    text = "<reasoning>r</reasoning><code>c</code>"
    assert check(text, verifier="format", tags=["reasoning", "code"]).status is Status.CORRECT
    assert check(text, verifier="format", tags=["code"], strict=False).status is Status.CORRECT
    with pytest.raises(OptionError):
        get_verifier("format", tags="think")
    with pytest.raises(OptionError):
        get_verifier("format", tags=[])
    assert verify(text, verifier="format", metadata={"tags": ["x y"]}).status is Status.ERROR


# -- length -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "length, score, status",
    [
        (700, 1.0, Status.CORRECT),
        (800, 1.0, Status.CORRECT),  # = max_length - buffer
        (900, 0.5, Status.PARTIAL),
        (950, 0.25, Status.PARTIAL),
        (1000, 0.0, Status.INCORRECT),
        (1001, 0.0, Status.INCORRECT),
    ],
)
def test_length_soft_overlong_punishment(length, score, status):
    verdict = check("x" * length, verifier="length", max_length=1000, buffer=200)
    assert verdict.score == pytest.approx(score)
    assert verdict.status is status
    assert verdict.aspects["overlong"] == pytest.approx(score)


def test_length_hard_cutoff_and_words():
    assert check("x" * 10, verifier="length", max_length=10).score == 1.0
    assert check("x" * 11, verifier="length", max_length=10).score == 0.0
    words = "one two three four"
    assert check(words, verifier="length", unit="words", max_length=4).score == 1.0
    assert check(words, verifier="length", unit="words", max_length=3).score == 0.0


def test_length_min_and_target():
    assert check("x" * 50, verifier="length", min_length=100).score == pytest.approx(0.5)
    assert check("x" * 150, verifier="length", min_length=100).score == 1.0
    assert check("x" * 80, verifier="length", target=100).score == pytest.approx(0.8)
    assert check("x" * 300, verifier="length", target=100).score == 0.0
    both = check("x" * 900, verifier="length", max_length=1000, buffer=200, target=1000)
    assert both.score == pytest.approx(0.5 * 0.9)
    assert {s.name for s in both.steps} == {"overlong", "target"}


def test_length_configuration_errors():
    assert check("x", verifier="length").status is Status.ERROR
    for bad in ({"unit": "tokens"}, {"max_length": 0}, {"max_length": 10, "buffer": 20}, {"buffer": -1},
                {"target": 0}, {"min_length": 20, "max_length": 10}):
        with pytest.raises(OptionError):
            get_verifier("length", **bad)


# -- checklist --------------------------------------------------------------------------------------------------

ITEMS = [
    {"name": "greets", "contains": "hello"},
    {"name": "polite", "not_contains": "stupid", "ignore_case": True},
    {"name": "has number", "regex": r"\d+"},
    {"name": "no url", "not_regex": r"https?://"},
    {"name": "short", "max_words": 10},
    {"name": "not empty", "min_words": 2},
]


def test_checklist_all_pass():
    verdict = check("hello there, 42 is the answer", ITEMS, verifier="checklist")
    assert verdict.status is Status.CORRECT and verdict.score == 1.0
    assert dict(verdict.aspects) == {item["name"]: 1.0 for item in ITEMS}
    assert all(step.status is Status.CORRECT for step in verdict.steps)


def test_checklist_partial_and_weights():
    items = [{"name": "a", "contains": "a", "weight": 3}, {"name": "b", "contains": "b", "weight": 1}]
    verdict = check("only a here", items, verifier="checklist")
    assert verdict.status is Status.PARTIAL and verdict.score == pytest.approx(0.75)
    assert dict(verdict.aspects) == {"a": 1.0, "b": 0.0}
    assert [s.weight for s in verdict.steps] == [3.0, 1.0]
    none = check("nothing", items, verifier="checklist")
    assert none.status is Status.INCORRECT and none.score == 0.0


def test_checklist_items_from_option():
    verdict = check("Hi STUPID", None, verifier="checklist", items=ITEMS[:2])
    assert verdict.status is Status.INCORRECT and verdict.score == 0.0
    assert verdict.reason == "0/2 items pass"
    assert check("hello", "ignored", verifier="checklist", items=ITEMS[:2]).status is Status.CORRECT


def test_checklist_delegates_to_registered_verifiers():
    items = [
        {"name": "right answer", "verifier": "numeric", "reference": "42"},
        {"name": "format", "verifier": "regex", "options": {"pattern": r"\\boxed"}},
        {"name": "concise", "max_words": 3},
    ]
    verdict = check("so \\boxed{42}", items, verifier="checklist")
    assert verdict.status is Status.CORRECT
    assert verdict.steps[0].detail.startswith("numeric:")
    wrong = check("so \\boxed{41}", items, verifier="checklist")
    assert wrong.status is Status.PARTIAL and wrong.score == pytest.approx(2 / 3)


def test_checklist_delegate_error_is_an_error_not_a_zero():
    items = [{"name": "ok", "contains": "x"}, {"name": "bad", "verifier": "numeric", "reference": "banana"}]
    verdict = check("x \\boxed{1}", items, verifier="checklist")
    assert verdict.status is Status.ERROR
    assert "bad" in verdict.reason
    assert {s.name: s.status for s in verdict.steps}["bad"] is Status.ERROR
    unknown = check("x", [{"verifier": "no-such-verifier"}], verifier="checklist")
    assert unknown.status is Status.ERROR and "no-such-verifier" in unknown.reason


def test_checklist_configuration_errors():
    verdict = check("x", [{"name": "odd", "sounds_like": "x"}], verifier="checklist")
    assert verdict.status is Status.ERROR
    for kind in ("contains", "not_contains", "regex", "not_regex", "min_words", "max_words", "verifier"):
        assert kind in verdict.reason
    assert check("x", None, verifier="checklist").status is Status.ERROR
    assert check("x", "contains x", verifier="checklist").status is Status.ERROR
    assert check("x", [{"regex": "("}], verifier="checklist").status is Status.ERROR
    assert check("x", [{"contains": "x", "weight": 0}], verifier="checklist").status is Status.ERROR
    with pytest.raises(OptionError):
        get_verifier("checklist", items=[{"contains": 5}])


def test_checklist_duplicate_names_stay_distinct():
    verdict = check("ab", [{"name": "n", "contains": "a"}, {"name": "n", "contains": "z"}], verifier="checklist")
    assert dict(verdict.aspects) == {"n": 1.0, "n#2": 0.0}


# -- BLEU -------------------------------------------------------------------------------------------------------


@pytest.fixture
def sacrebleu():
    """sacrebleu, for the tests of BLEU's scores (the missing-package verdict is tested without it, below)."""
    return pytest.importorskip("sacrebleu", reason=install_hint("sacrebleu", "bleu"))


def test_bleu(sacrebleu):
    same = check("the cat sat on the mat", "the cat sat on the mat", verifier="bleu")
    assert same.status is Status.CORRECT and same.score == 1.0
    some = check("the cat sat on a mat", "the cat sat on the mat", verifier="bleu")
    assert some.status is Status.PARTIAL and 0 < some.score < 1
    assert some.evidence["bleu"] == pytest.approx(some.score * 100, abs=1e-4)
    none = check("xyz", "the cat sat on the mat", verifier="bleu")
    assert none.status is Status.INCORRECT and none.score == 0.0
    multi = check("the cat sat on the mat", ["a dog", "the cat sat on the mat"], verifier="bleu")
    assert multi.score == 1.0


def test_bleu_threshold_and_errors(sacrebleu):
    partial = check("the cat sat on a mat", "the cat sat on the mat", verifier="bleu", threshold=0.3)
    assert partial.status is Status.CORRECT and partial.score < 1
    assert check("the cat", "the cat sat on the mat", verifier="bleu", threshold=0.9).status is Status.INCORRECT
    assert check("x", None, verifier="bleu").status is Status.ERROR
    assert check("x", "y", verifier="bleu", tokenize="no-such-tokenizer").status is Status.ERROR
    with pytest.raises(OptionError):
        get_verifier("bleu", threshold=2)


def test_bleu_without_sacrebleu_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sacrebleu", None)  # import now raises ImportError
    verdict = check("the cat", "the cat", verifier="bleu")
    assert verdict.status is Status.ERROR
    assert "pip install 'verifier-suite[bleu]'" in verdict.reason


# -- totality: any text, any reference ----------------------------------------------------------------------------

ALL = {
    "exact": {},
    "normalized": {},
    "numeric": {},
    "choice": {},
    "regex": {},
    "format": {},
    "length": {"max_length": 50, "buffer": 10},
    "checklist": {},
    "bleu": {},
}

texts = st.one_of(
    st.text(max_size=200),
    st.lists(
        st.sampled_from(
            ["\\boxed{", "}", "{", "<think>", "</think>", "<answer>", "</answer>", "The answer is ", "Answer: ",
             "A", "B", " or ", "1,234", "50%", "\\frac{1}{2}", "$", "\\text{", "-", "3.5e2", "\n", " ", "\ud800"]
        ),
        max_size=30,
    ).map("".join),
)
references = st.one_of(
    st.none(),
    st.sampled_from(["42", "B", "(C)", "1,234", "50%", "\\frac{1}{2}", "Paris", "[", r"\d+", "a|b", ""]),
    st.lists(st.sampled_from(["A", "7", "x"]), max_size=3),
    st.just([{"contains": "a"}, {"regex": "b+"}, {"verifier": "numeric", "reference": "7"}]),
    st.integers(-5, 5),
    st.text(max_size=20),
)


@pytest.mark.parametrize("name", sorted(ALL))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(response=texts, reference=references)
def test_verifiers_never_raise_and_round_trip(name, response, reference):
    verifier = get_verifier(name, **ALL[name])
    verdict = verifier.verify(Sample(response, reference))
    assert isinstance(verdict, Verdict)
    assert 0.0 <= verdict.score <= 1.0
    assert Verdict.from_dict(verdict.to_dict()) == verdict
    if verdict.status is Status.ERROR:
        assert verdict.reason


@pytest.mark.parametrize("name", sorted(ALL))
def test_huge_and_odd_responses_are_cheap(name):
    verifier = get_verifier(name, **ALL[name])
    reference = [{"contains": "x"}, {"max_words": 3}] if name == "checklist" else "42"
    for response in ("x" * 10_000_000, "\\boxed{" * 1_000_000, "{" * 5_000_000, "\ud800" * 1000, "", None):
        start = time.perf_counter()
        verdict = verifier.verify(Sample(response, reference))
        assert time.perf_counter() - start < 3.0, (name, (response or "")[:10])
        assert 0.0 <= verdict.score <= 1.0
