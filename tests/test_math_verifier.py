"""Behaviour of the `math` cascade (`math.rule` -> `math.symbolic`) through the public API."""

from __future__ import annotations

import subprocess
import sys

import pytest
from support.properties import given, settings, st

import verifiers
from verifiers import plugins
from verifiers.errors import OptionError
from verifiers.math.verifier import (
    MathRule,
    MathSymbolic,
    extract_answer,
    gold_answer,
    refine,
)
from verifiers.verdict import Sample, Status

C, I, U = Status.CORRECT, Status.INCORRECT, Status.UNDECIDED


def check(response: str, gold: str, **options: object) -> verifiers.Verdict:
    return verifiers.verify(response, gold, domain="math", options=options)


def test_registered_as_the_math_cascade() -> None:
    assert plugins.domain_stages("math")[:2] == ["math.rule", "math.symbolic"]
    assert MathSymbolic.cpu_bound and MathSymbolic.timeout == 5.0
    assert MathRule.cost < MathSymbolic.cost


def test_rule_decides_plain_numbers_in_process() -> None:
    verdict = check("So the total is \\boxed{42}.", "42")
    assert verdict.status is C and verdict.verifier == "math.rule"
    verdict = check("So the total is \\boxed{41}.", "42")
    assert verdict.status is I and verdict.verifier == "math.rule"


def test_symbolic_decides_what_the_rule_cannot() -> None:
    verdict = check("Thus $x = \\boxed{\\frac{\\sqrt{2}}{2}}$", "\\frac{1}{\\sqrt{2}}")
    assert verdict.status is C and verdict.verifier == "math.symbolic"
    stages = [s["verifier"] for s in verdict.evidence["cascade"]["stages"]]
    assert stages == ["math.rule", "math.symbolic"]


@pytest.mark.parametrize(
    ("response", "answer"),
    [
        ("so \\boxed{\\frac{1}{2}} is it", "\\frac{1}{2}"),
        ("nested \\fbox{\\frac{1}{\\sqrt{2}}}", "\\frac{1}{\\sqrt{2}}"),
        ("The final answer is $7$. I hope it is correct.", "$7$"),
        ("Answer: 12", "12"),
        ("<answer>3/4</answer>", "3/4"),
        ("$\\frac{1}{3}$", "\\frac{1}{3}"),  # a short response with one math segment
        ("Final Answer: The largest $n$ is 34.", "34"),  # the value an answer sentence states
        ("lots of work. Therefore, there are 12 sequences.", "12"),  # a concluding sentence that ends the response
    ],
)
def test_extraction(response: str, answer: str) -> None:
    found = extract_answer(response, MathRule().config)
    assert not isinstance(found, str)
    assert found[0] == [answer]


def test_think_is_ignored_by_default() -> None:
    response = "<think>maybe \\boxed{5}</think> The answer is \\boxed{6}."
    assert check(response, "6").status is C
    assert check("<think>\\boxed{6}</think> I am not sure.", "6").status is not C
    assert check("<think>\\boxed{6}</think>", "6", ignore_think=False).status is C


def test_no_extractable_answer_is_incorrect() -> None:
    verdict = check("I computed many things like 3 and 4 and then 7 here and there but never concluded anything at all", "7")
    assert verdict.status is I
    assert "no final answer" in verdict.reason


def test_last_bare_number_only_on_request() -> None:
    response = "We add 3 and 4 to get 7, and after more thought about the remaining cases we get 7 in total"
    assert check(response, "7").status is not C
    assert check(response, "7", fallback="last").status is C


def test_several_different_final_answers_are_incorrect() -> None:
    for response in ("\\boxed{7} or \\boxed{8}", "The answer is 7 or 8", "\\boxed{7, 8}"):
        verdict = check(response, "7")
        assert verdict.status is I, response
    verdict = check("\\boxed{x^2} and also \\boxed{x^3}", "x^2")
    assert verdict.status is I and "several" in verdict.reason


def test_repeated_equal_answers_are_one_answer() -> None:
    assert check("\\boxed{\\frac{1}{2}} ... so again \\boxed{0.5}", "1/2").status is C


def test_several_boxes_for_a_list_gold() -> None:
    assert check("\\boxed{1} and \\boxed{2} and \\boxed{3}", "1, 2, 3").status is C
    assert check("\\boxed{(1, 2)}, \\boxed{(2, 1)}", "(2,1),(1,2)").status is C


def test_answer_only_skips_extraction() -> None:
    assert check("4, 10, -2", "10, 4, -2", answer_only=True).status is C
    assert check("4, 10, -2", "10, 4, -2", answer_only=True, list_order="ordered").status is I


def test_gold_answer_is_extracted_from_a_solution() -> None:
    assert gold_answer("Adding gives $\\boxed{12}$.") == "12"
    assert gold_answer("\\frac{1}{2}") == "\\frac{1}{2}"
    assert check("\\boxed{12}", "So we get $\\boxed{12}$ in the end.").status is C


def test_multiple_choice_cascade() -> None:
    assert check("The correct answer is (B).", "B").status is C
    assert check("\\boxed{\\text{(C)}}", "\\text{C}").status is C
    assert check("The answer is A", "B").status is I


def test_policies_as_options() -> None:
    assert check("\\boxed{0.5}", "50\\%").status is C
    assert check("\\boxed{0.5}", "50\\%", percent="strip").status is I
    assert check("\\boxed{0.5}", "50").status is I
    assert check("\\boxed{0.333}", "\\frac{1}{3}").status is C
    assert check("\\boxed{0.33}", "\\frac{1}{3}").status is I  # too few significant digits ...
    assert check("\\boxed{0.33}", "\\frac{1}{3}", min_sig_digits=2).status is C  # ... by default
    assert check("\\boxed{0.333}", "\\frac{1}{3}", rounding="gold").status is I  # approximating does not pay
    assert check("\\boxed{\\frac{1}{3}}", "0.33", rounding="gold").status is C  # the gold was rounded
    assert check("\\boxed{\\frac{1}{3}}", "0.33", rounding="exact").status is I


def test_per_sample_options() -> None:
    samples = [Sample("\\boxed{0.5}", "50\\%", domain="math", metadata={"percent": "strip"}),
               Sample("\\boxed{0.5}", "50\\%", domain="math")]
    first, second = verifiers.verify_batch(samples)
    assert first.status is I and second.status is C


def test_bad_options() -> None:
    with pytest.raises(OptionError):
        MathRule(percent="sometimes")
    with pytest.raises(OptionError):
        MathSymbolic(fallback="anything")
    verdict = verifiers.verify("\\boxed{1}", "1", verifier="math.rule", metadata={"min_sig_digits": "x"})
    assert verdict.status is Status.ERROR


def test_missing_reference_is_an_error() -> None:
    assert verifiers.verify("\\boxed{1}", None, verifier="math.rule").status is Status.ERROR


def test_rule_does_not_import_sympy() -> None:
    code = (
        "import sys, verifiers\n"
        "v = verifiers.verify('\\\\boxed{3}', '3', verifier='math.rule')\n"
        "assert v.status.value == 'correct', v\n"
        "print('sympy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


ADVERSARIAL = [
    ("\\boxed{" * 50_000, "1"),
    ("\\boxed{" + "{" * 5_000 + "1" + "}" * 5_000 + "}", "1"),
    ("The answer is \\boxed{\\frac{1}{2", "1/2"),
    ("\\boxed{9^{9^{9^{9}}}}", "1"),
    ("\\boxed{9^{9^{9^{9}}}}", "9^{9^{9^{9}}}+1"),
    ("\\boxed{1000!}", "1001!/1001"),
    ("\\boxed{(10^{10^{10}})!}", "1"),
    ("\\boxed{2^{100000}}", "2^{100000}+1"),
    ("\\boxed{" + "\\sqrt{" * 300 + "2" + "}" * 300 + "}", "2"),
    ("\\left( \\right( \\frac{ \\boxed{ } } $$ \\[", "1"),
]


def test_adversarial_inputs_finish_without_a_false_correct() -> None:
    # (identical answer strings are CORRECT even when huge: nothing is computed for them)
    assert check("\\boxed{9^{9^{9^{9}}}}", "9^{9^{9^{9}}}").status is C
    samples = [Sample(r, g, domain="math") for r, g in ADVERSARIAL]
    verdicts = verifiers.verify_batch(samples, timeout=5.0)
    for (response, gold), verdict in zip(ADVERSARIAL, verdicts):
        assert verdict.status in (I, U, Status.TIMEOUT), (response[:40], gold, verdict)


def test_single_adversarial_call_with_timeout() -> None:
    verdict = verifiers.verify("\\boxed{1000!}", "1001!/1001", domain="math", timeout=5.0)
    assert verdict.status in (I, U, Status.TIMEOUT)


def test_refine_keeps_boxed_lists() -> None:
    assert refine("6 \\text{ and } 8") == "6 \\text{ and } 8"
    assert refine("the answer is 5 apples and 3 oranges") == "the answer is 5 apples and 3 oranges"


_RULE = MathRule()
_SYMBOLIC = MathSymbolic()


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=200), st.sampled_from(["1", "\\frac{1}{2}", "x^2", "(1,2]", "B", "\\{1,2\\}"]))
def test_verifiers_never_raise_and_scores_are_in_range(response: str, gold: str) -> None:
    for verifier in (_RULE, _SYMBOLIC):
        verdict = verifier.verify(Sample(response, gold))
        assert 0.0 <= verdict.score <= 1.0
        assert verdict.status in (C, I, U)


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("\\boxed{}()^0123456789x+-=$ ")), max_size=120))
def test_latex_like_noise_never_raises(response: str) -> None:
    for verifier in (_RULE, _SYMBOLIC):
        verdict = verifier.verify(Sample(response, "x+1"))
        assert 0.0 <= verdict.score <= 1.0


def test_a_gold_box_followed_by_percent_is_a_percentage() -> None:
    gold = "Solving yields $x=1/5$, or $\\boxed{20}$ percent."
    assert check("The final answer is $20 \\%$", gold).status is C
    assert check("\\boxed{0.2}", gold).status is C
    assert check("\\boxed{21\\%}", gold).status is I
