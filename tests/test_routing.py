"""The built-in router guesses a domain only from the shape of the reference."""

import pytest

import verifiers
from verifiers.default_routing import guess_domain


@pytest.mark.parametrize(
    ("reference", "domain"),
    [
        ({"tests": ["assert f() == 1"]}, "code"),
        ({"steps": []}, "lean"),
        (3, "numeric"), (2.5, "numeric"), ("42", "numeric"), ("1,234", "numeric"), ("-3.5%", "numeric"),
        ("1 000", "numeric"), ("\u22125", "numeric"), ("5.", "numeric"), ("1 0000", "text"), ("3\u20135", "text"),
        ("B", "multiple_choice"), ("(C)", "multiple_choice"),
        ("\\frac{1}{2}", "math"), ("[1, 2)", "math"), ("x = 5", "math"), ("2x+1", "math"), ("3/4", "math"),
        ("2^{10}", "math"), ("sin(x)+1", "math"),
        ("Paris", "text"), ("New York, USA", "text"), ("e-mail", "text"), ("well-known", "text"),
        (["a", "b"], "text"), (True, "text"),
        (None, None), ({"something": 1}, None), (object(), None),
    ],
)
def test_guess_domain(reference, domain):
    assert guess_domain(reference) == domain


def test_verify_without_a_domain_uses_the_guess():
    assert verifiers.verify("So the answer is $\\boxed{\\dfrac{1}{2}}$.", "\\frac{1}{2}").is_correct
    verdict = verifiers.verify("The answer is (B).", "B")
    assert verdict.is_correct and verdict.verifier == "choice"
