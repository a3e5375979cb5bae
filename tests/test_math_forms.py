"""Form requirements (`form` option or a `{"answer", "form"}` reference): equal in value but not in the asked form
is INCORRECT with the reason; without a requirement value equality stands. Each form with its near miss."""

from __future__ import annotations

import pytest

import verifiers
from verifiers.errors import OptionError
from verifiers.math import MathRule
from verifiers.verdict import Status

C, I = Status.CORRECT, Status.INCORRECT


def check(pred: str, gold: str, form: str | None) -> verifiers.Verdict:
    return verifiers.verify(pred, gold, domain="math", options={"answer_only": True, "form": form})


@pytest.mark.parametrize(
    ("form", "gold", "right", "wrong"),
    [
        ("lowest_terms", "23/131", "\\frac{23}{131}", "92/524"),
        ("lowest_terms", "23/131", "23/131", "0.1756"),
        ("lowest_terms", "5", "5", "10/2"),
        ("decimals:2", "3.14159", "3.14", "3.142"),
        ("decimals:0", "7", "7", "7.0"),
        ("sig_figs:3", "0.0031416", "0.00314", "0.003142"),
        ("scientific", "0.0000000781", "7.81 \\times 10^{-8}", "0.0000000781"),
        ("scientific", "7.81e-8", "7.81e-08", "78.1e-9"),
        ("factored", "656", "2^4 \\cdot 41", "656"),
        ("factored", "656", "2 \\cdot 2 \\cdot 2 \\cdot 2 \\cdot 41", "4 \\cdot 164"),
        ("factored", "x^2-1", "(x-1)(x+1)", "x^2-1"),
        ("factored", "x^3-x", "x(x-1)(x+1)", "x(x^2-1)"),
        ("expanded", "(x-1)(x+1)", "x^2-1", "(x-1)(x+1)"),
        ("expanded", "(x+1)^2", "x^2+2x+1", "(x+1)^2"),
    ],
)
def test_forms(form: str, gold: str, right: str, wrong: str) -> None:
    assert check(right, gold, form).status is C
    verdict = check(wrong, gold, form)
    assert verdict.status is I
    assert "form" in verdict.reason or "differs" in verdict.reason or "not equivalent" in verdict.reason


def test_without_a_requirement_value_equality_stands() -> None:
    assert check("92/524", "23/131", None).status is C
    assert check("656", "2^4 \\cdot 41", None).status is C


def test_the_reference_can_carry_the_form() -> None:
    reference = {"answer": "23/131", "form": "lowest_terms"}
    assert verifiers.verify("\\boxed{92/524}", reference, domain="math").status is I
    assert verifiers.verify("\\boxed{\\frac{23}{131}}", reference, domain="math").status is C
    # the option wins over the reference
    assert verifiers.verify("\\boxed{92/524}", {"answer": "23/131", "form": "expanded"}, domain="math",
                            options={"form": "lowest_terms"}).status is I
    assert verifiers.verify("\\boxed{1}", {"form": "lowest_terms"}, verifier="math.rule").status is Status.ERROR


def test_bad_forms_are_option_errors() -> None:
    with pytest.raises(OptionError):
        MathRule(form="simplest")
    with pytest.raises(OptionError):
        MathRule(form="decimals:two")
    verdict = verifiers.verify("\\boxed{1}", {"answer": "1", "form": "weird"}, verifier="math.rule")
    assert verdict.status is Status.ERROR and "form" in verdict.reason
