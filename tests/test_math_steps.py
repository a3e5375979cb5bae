"""`math.steps`: claim-by-claim checking of worked solutions (real responses and planted errors)."""

from __future__ import annotations

import pytest
from support.bench import bench_rows
from support.properties import assume, given, settings, st

import verifiers
from verifiers import OptionError, Sample, Status, Verdict
from verifiers.math.claims import split_steps
from verifiers.math.steps import MathSteps


def check(text: str, **options: object) -> Verdict:
    return MathSteps(**options).verify(Sample(response=text))


def claims(verdict: Verdict) -> dict[str, Status]:
    """Claim text (the step name without its "step N: " prefix) -> status."""
    return {step.name.split(": ", 1)[1]: step.status for step in verdict.steps}


@pytest.fixture(scope="module")
def responses() -> dict[str, dict[str, object]]:
    return {row["id"]: row for row in bench_rows("math_responses.jsonl")}


# -- real responses ---------------------------------------------------------------------------------------


def test_a_real_correct_solution_has_every_claim_hold(responses: dict[str, dict[str, object]]) -> None:
    verdict = check(str(responses["m000_0"]["response"]))
    assert verdict.status is Status.CORRECT and verdict.score == 1.0
    assert {"10 \\cdot 6 = 60", "60 \\cdot 7 = 420"} <= set(claims(verdict))
    assert verdict.evidence["first_wrong_step"] is None


def test_a_real_arithmetic_slip_is_found(responses: dict[str, dict[str, object]]) -> None:
    row = responses["m072_0"]
    verdict = check(str(row["response"]))
    wrong = verdict.evidence["first_wrong_step"]
    assert wrong is not None
    assert wrong["claim"] == "49{,}994 + 20{,}006 = 69{,}999"
    assert "70000" in wrong["detail"]
    assert verdict.status in (Status.PARTIAL, Status.INCORRECT) and verdict.score < 1.0


def test_a_real_run_of_wrong_divisions_is_found(responses: dict[str, dict[str, object]]) -> None:
    verdict = check(str(responses["m097_2"]["response"]))  # "1 \div 50 = 50" and so on
    assert verdict.evidence["first_wrong_step"]["claim"] == "1 \\div 50 = 50"
    assert verdict.evidence["incorrect"] > 10


def test_real_responses_with_a_true_label_are_rarely_flagged(responses: dict[str, dict[str, object]]) -> None:
    """On 100 correct responses the verifier never errors, and it flags a wrong claim in only a few."""
    rows = [row for row in responses.values() if row["label"]][:100]
    verdicts = [check(str(row["response"])) for row in rows]
    assert all(v.status in (Status.CORRECT, Status.PARTIAL, Status.INCORRECT, Status.UNDECIDED) for v in verdicts)
    assert sum(v.status is Status.CORRECT for v in verdicts) >= 60
    assert sum(v.evidence["incorrect"] > 0 for v in verdicts) <= 10


# -- planted errors ---------------------------------------------------------------------------------------

SOLUTION = """A shop sells 21 boxes with 2 apples each.

First, the number of apples:
\\[ 2 \\cdot 21 = 42 \\]
Then they buy 18 more, so \\(42 + 18 = 60\\).
Splitting them among 4 friends gives \\(60 \\div 4 = 15\\) apples each.
Finally \\(15 \\times 3 = 45\\), so the answer is \\(\\boxed{45}\\).
"""


def test_a_correct_worked_solution_is_correct() -> None:
    verdict = check(SOLUTION)
    assert verdict.status is Status.CORRECT and verdict.score == 1.0
    assert verdict.evidence["checked"] == 4
    assert all(step.status is Status.CORRECT for step in verdict.steps)


def test_the_first_planted_error_is_named() -> None:
    verdict = check(SOLUTION.replace("42 + 18 = 60", "42 + 18 = 62").replace("60 \\div 4 = 15", "62 \\div 4 = 16"))
    wrong = verdict.evidence["first_wrong_step"]
    assert wrong["claim"] == "42 + 18 = 62"
    assert wrong["index"] == next(s.index for s in split_steps(SOLUTION) if "42 + 18" in s.text)
    assert "60" in wrong["detail"]
    assert verdict.status is Status.INCORRECT and verdict.score == 0.0  # min-aggregation: no credit for the rest
    assert verdict.evidence["correct"] == 2 and verdict.evidence["incorrect"] == 2
    assert claims(verdict)["62 \\div 4 = 16"] is Status.INCORRECT


def test_all_claims_wrong_is_incorrect() -> None:
    verdict = check("We get \\(2 + 2 = 5\\) and \\(3 \\times 3 = 10\\).")
    assert verdict.status is Status.INCORRECT and verdict.score == 0.0
    assert verdict.evidence["first_wrong_step"]["claim"] == "2 + 2 = 5"


def test_chains_check_every_link_and_display_rows_continue() -> None:
    verdict = check("\\[ 3 \\cdot 4 = 12 = 2 \\cdot 7 \\]")
    assert claims(verdict) == {"3 \\cdot 4 = 12": Status.CORRECT, "12 = 2 \\cdot 7": Status.INCORRECT}
    aligned = check("\\begin{align*} (2 + 3)^2 &= 5^2 \\\\ &= 25 \\\\ &= 24 \\end{align*}")
    assert claims(aligned) == {"(2 + 3)^2 = 5^2": Status.CORRECT, "5^2 = 25": Status.CORRECT,
                               "25 = 24": Status.INCORRECT}


def test_plain_text_claims_are_read() -> None:
    verdict = check("Step 1: 12 x 11 = 132.\nStep 2: 132 - 32 = 90!")
    assert claims(verdict) == {"12 × 11 = 132": Status.CORRECT, "132 - 32 = 90": Status.INCORRECT}


# -- scoring: the minimum over the claims, so padding cannot raise it (issue 15) ----------------------------

TRIVIAL = ["1 + 1 = 2", "2 + 2 = 4", "3 + 3 = 6", "4 + 4 = 8", "5 - 1 = 4", "2 \\times 3 = 6", "8 / 4 = 2", "9 = 9"]


def test_padding_a_wrong_solution_with_trivial_claims_does_not_raise_its_score() -> None:
    """The red-team attack: one wrong step scored 0.5, eight trivial true claims raised it to 0.9."""
    wrong = "First \\(2 \\cdot 21 = 42\\), then \\(42 + 18 = 62\\)."
    plain = check(wrong)
    assert plain.status is Status.INCORRECT and plain.score == 0.0
    for padded in (
        "".join(f"\\({c}\\)\n" for c in TRIVIAL) + wrong,  # before
        wrong + "\n" + "\n".join(f"Also \\({c}\\)." for c in TRIVIAL),  # after
        wrong.replace(", then", ", " + ", ".join(f"\\({c}\\)" for c in TRIVIAL) + ", then"),  # in between
        wrong + "\n" + "\n".join(["\\(2 \\cdot 21 = 42\\)"] * 8),  # repeats of a true claim
        wrong + "\n" + "\n".join(f"\\({100 + i} + 1 = {101 + i}\\)" for i in range(8)),  # unrelated claims
    ):
        verdict = check(padded)
        assert verdict.status is Status.INCORRECT and verdict.score == 0.0, padded
        assert verdict.evidence["first_wrong_step"]["claim"] == "42 + 18 = 62"
        assert {c: st for c, st in claims(verdict).items()}["42 + 18 = 62"] is Status.INCORRECT


def test_only_trivial_claims_are_not_rewarded() -> None:
    for text in ("1 + 1 = 2", "\\(1+1=2\\), \\(2+2=4\\), \\(3 < 4\\)", "So \\(42 = 42\\) and \\(x = x\\).",
                 "\n".join(f"\\({c}\\)" for c in TRIVIAL)):
        verdict = check(text)
        assert verdict.status is Status.UNDECIDED and verdict.score == 0.0, text
        assert verdict.evidence["trivial"] == verdict.evidence["checked"] > 0
        assert "trivial" in verdict.reason and all("trivial" in step.detail for step in verdict.steps)
    assert check("1 + 1 = 3").status is Status.INCORRECT  # a wrong trivial claim is still wrong
    assert check("\\(1 + 1 = 2\\), \\(12 \\times 11 = 132\\)").status is Status.CORRECT  # one real computation


def test_a_wrong_claim_past_max_claims_is_not_hidden_by_padding() -> None:
    filler = "\n".join(f"\\({100 + i} + 1 = {101 + i}\\)" for i in range(20))
    verdict = check(filler + "\nFinally \\(2 + 2 = 5\\).", max_claims=20)
    assert verdict.status is Status.UNDECIDED and verdict.score == 0.0 and verdict.evidence["truncated"]
    assert check(filler + "\nFinally \\(2 + 2 = 4\\).", max_claims=20).status is Status.UNDECIDED
    assert check(filler, max_claims=20).status is Status.CORRECT  # exactly at the cap: everything was checked
    assert check("\\(2 + 2 = 5\\)\n" + filler, max_claims=20).status is Status.INCORRECT  # found before the cap


def test_claims_between_a_binding_and_its_use_do_not_hide_an_error() -> None:
    text = "Let \\(x = 3\\).\n{pad}Then \\(2x + 1 = 8\\), and \\(12 \\times 11 = 132\\)."
    assert check(text.format(pad="")).status is Status.INCORRECT
    for pad in ("\\(1 + 1 = 2\\)\n" * 5, "".join(f"\\({100 + i} + 1 = {101 + i}\\)\n" for i in range(5)),
                "So \\(x = 3\\).\n" * 3, "Then \\(2x + 1 = 7\\).\n" * 4):
        verdict = check(text.format(pad=pad))
        assert verdict.status is Status.INCORRECT, pad
        assert verdict.evidence["first_wrong_step"]["claim"] in ("2x + 1 = 8", "2x + 1 = 7")
    # prose is another matter: it ends the binding's reach (see test_bindings_do_not_reach_unrelated_later_lines)


def _closed(a: int, b: int, op: str, wrong: bool, form: int) -> str:
    value = {"+": a + b, "-": a - b, "\\times": a * b}[op] + (1 if wrong else 0)
    claim = f"{a} {op} {b} = {value}"
    return [f"\\({claim}\\)", f"We get \\[ {claim} \\]", f"So {claim.replace(chr(92) + 'times', 'x')}."][form]


@st.composite
def solutions(draw: st.DrawFn) -> tuple[list[str], list[str], list[int]]:
    """(lines with some claims wrong, the same lines with every claim right, indexes of the claim lines)."""
    bad: list[str] = []
    good: list[str] = []
    claim_lines: list[int] = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["closed", "closed", "binding", "prose"]))
        wrong = draw(st.booleans())
        if kind == "closed":
            a, b = draw(st.integers(10, 99)), draw(st.integers(10, 99))
            op, form = draw(st.sampled_from(["+", "-", "\\times"])), draw(st.integers(0, 2))
            claim_lines.append(len(bad))
            bad.append(_closed(a, b, op, wrong, form))
            good.append(_closed(a, b, op, False, form))
        elif kind == "binding":
            name, value, k = draw(st.sampled_from("xyz")), draw(st.integers(2, 50)), draw(st.integers(2, 9))
            for lines in (bad, good):
                lines.append(f"Let \\({name} = {value}\\).")
            claim_lines.append(len(bad))
            bad.append(f"Then \\({k}{name} + 1 = {k * value + 1 + (1 if wrong else 0)}\\).")
            good.append(f"Then \\({k}{name} + 1 = {k * value + 1}\\).")
        else:
            text = draw(st.sampled_from(["We go on.", "Next we add them up."]))
            bad.append(text)
            good.append(text)
    return bad, good, claim_lines


_TRIVIAL_LINES = st.sampled_from(
    [f"\\({c}\\)" for c in TRIVIAL] + [c for c in TRIVIAL] + ["Also \\[ 3 \\times 3 = 9 \\]", "So 4 - 4 = 0.",
                                                              "Note that \\(5 = 5\\) and \\(2 < 7\\)."]
)


def _pad(draw: st.DrawFn, solution: tuple[list[str], list[str], list[int]], *, related: bool) -> list[str]:
    """The wrong solution with true claims inserted: trivial ones anywhere; repeats of its true claim lines
    (anywhere for a closed claim, right after the original for one that uses a variable); and (with
    `related=False`) claims that have nothing to do with the problem, anywhere."""
    bad, good, claim_lines = solution
    true_lines = [i for i in claim_lines if bad[i] == good[i]]
    inserts: list[tuple[int, str]] = []  # (insert before this line of `bad`, line)
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["trivial", "repeat"] + ([] if related else ["unrelated"])))
        if kind == "repeat" and true_lines:
            i = draw(st.sampled_from(true_lines))
            where = i + 1 if bad[i].startswith("Then") else draw(st.integers(0, len(bad)))
            inserts.append((where, bad[i]))
        elif kind == "unrelated":
            a, b = draw(st.integers(100, 999)), draw(st.integers(100, 999))
            inserts.append((draw(st.integers(0, len(bad))), f"\\({a} + {b} = {a + b}\\)"))
        else:
            inserts.append((draw(st.integers(0, len(bad))), draw(_TRIVIAL_LINES)))
    out: list[str] = []
    for i in range(len(bad) + 1):
        out.extend(line for where, line in inserts if where == i)
        if i < len(bad):
            out.append(bad[i])
    return out


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_padding_never_raises_the_score(data: st.DataObject) -> None:
    """True trivial claims and repeats, inserted before, between or after the steps, never raise the score."""
    solution = data.draw(solutions())
    bad = solution[0]
    padded = _pad(data.draw, solution, related=True)
    before, after = check("\n".join(bad)), check("\n".join(padded))
    assert after.score <= before.score
    if before.status is Status.INCORRECT:
        assert after.status is Status.INCORRECT
        assert after.evidence["first_wrong_step"]["claim"] == before.evidence["first_wrong_step"]["claim"]


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_unrelated_true_claims_never_hide_an_error(data: st.DataObject) -> None:
    solution = data.draw(solutions())
    before = check("\n".join(solution[0]))
    after = check("\n".join(_pad(data.draw, solution, related=False)))
    if before.status is Status.INCORRECT:
        assert after.status is Status.INCORRECT and after.score == 0.0
    if before.status is Status.CORRECT:
        assert after.status is Status.CORRECT


@settings(max_examples=150, deadline=None)
@given(solutions())
def test_a_wrong_claim_always_scores_below_the_fixed_solution(solution: tuple[list[str], list[str], list[int]]) -> None:
    bad, good, claim_lines = solution
    assume(claim_lines)
    fixed = check("\n".join(good))
    assert fixed.status is Status.CORRECT and fixed.score == 1.0  # every claim here computes something
    assert fixed.evidence["first_wrong_step"] is None
    wrong = check("\n".join(bad))
    if bad != good:
        assert wrong.status is Status.INCORRECT and wrong.score < fixed.score
        first = next(i for i, (b, g) in enumerate(zip(bad, good)) if b != g)
        assert wrong.evidence["first_wrong_step"]["text"] in bad[first]
        assert len(wrong.steps) == wrong.evidence["checked"]  # one StepVerdict per claim, wrong ones marked
        assert sum(step.status is Status.INCORRECT for step in wrong.steps) == wrong.evidence["incorrect"] >= 1


# -- variables ----------------------------------------------------------------------------------------------


def test_a_bound_variable_is_substituted() -> None:
    verdict = check("Let \\(x = 3\\). Then \\(2x + 1 = 7\\).")
    assert claims(verdict) == {"2x + 1 = 7": Status.CORRECT}
    assert "x = 3" in verdict.steps[0].detail
    wrong = check("Let \\(x = 3\\). Then \\(2x + 1 = 8\\).")
    assert wrong.status is Status.INCORRECT


def test_bindings_do_not_reach_unrelated_later_lines() -> None:
    text = (
        "Let \\(x = 3\\), so \\(x + 1 = 4\\).\n\n"
        "Next we look at the second part of the problem.\n\n"
        "It asks for more.\n\n"
        "Now solve \\(x^2 = 16\\) for the new unknown."
    )
    verdict = check(text)
    assert "x^2 = 16" not in claims(verdict)  # not checked as 3^2 = 16: the binding is out of reach
    # ... but it fails under that old value, and prose padding must not hide such a use: open, never CORRECT
    assert verdict.status is Status.UNDECIDED and verdict.evidence["stale_claim"]["claim"] == "x^2 = 16"
    reused = text.replace("Now solve", "Case 2: now solve")  # a new case drops the old value: the reuse is fine
    assert check(reused).status is Status.CORRECT


def test_a_new_case_drops_earlier_values() -> None:
    text = "We find \\(x = 97\\) and \\(y = 94\\).\n\n**Case 2: \\( x - y = -3 \\)**"
    verdict = check(text)
    assert verdict.status is Status.UNDECIDED


def test_conflicting_and_listed_values_are_not_bindings() -> None:
    assert check("So \\(x = 2\\) or \\(x = 3\\), and then \\(x + 1 = 3\\).").status is Status.UNDECIDED
    assert check("The roots are \\(x = 1, 2\\), so \\(x + 1 = 2\\).").status is Status.UNDECIDED


def test_identities_in_free_symbols_are_checked_and_equations_skipped() -> None:
    assert check("Expanding, \\((a+b)^2 = a^2 + 2ab + b^2\\).").status is Status.CORRECT
    assert check("\\[\\frac{x^2 - 1}{x - 1} = x + 1\\]").status is Status.CORRECT
    assert check("We need \\(x^2 = 4\\).").status is Status.UNDECIDED  # an equation to solve
    assert check("So \\((a+b)^2 = a^2 + b^2\\).").status is Status.UNDECIDED  # not an identity: not a claim


# -- tolerance ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "claim, status",
    [
        ("\\frac{1}{3} = 0.333", Status.CORRECT),  # rounded
        ("\\frac{2}{3} = 0.666", Status.CORRECT),  # truncated: within one unit in the last place
        ("\\frac{2}{3} = 0.667", Status.CORRECT),
        ("\\frac{1}{3} = 0.35", Status.INCORRECT),
        ("7 / 2 = 3", Status.INCORRECT),  # an integer side is exact
        ("0.1 + 0.2 = 0.3", Status.CORRECT),  # decimals are exact rationals
        ("\\pi \\approx 3.14", Status.CORRECT),
        ("\\sqrt{2} \\approx 1.41", Status.CORRECT),
        ("\\pi \\approx 3.5", Status.INCORRECT),
        ("10.0000198 \\approx 10", Status.CORRECT),
        ("\\sqrt{8} = 2\\sqrt{2}", Status.CORRECT),
        ("\\sqrt{8} = 2.83", Status.CORRECT),
        ("\\frac{1}{4} \\times 100 = 25\\%", Status.CORRECT),  # the percent sign as a label
        ("25\\% = \\frac{1}{4}", Status.CORRECT),
        ("3 < 4 \\le 4 \\neq 5", Status.CORRECT),
        ("5 > 7", Status.INCORRECT),
        ("5! = 120", Status.CORRECT),
        ("\\binom{5}{2} = 10", Status.CORRECT),
    ],
)
def test_tolerance_policy(claim: str, status: Status) -> None:
    verdict = check(f"Indeed \\({claim}\\).")
    assert verdict.steps and {step.status for step in verdict.steps} == {status}
    if status is Status.INCORRECT:
        assert verdict.status is Status.INCORRECT
    else:  # comparing two written numbers computes nothing: checked, but not credited
        assert verdict.status is (Status.UNDECIDED if verdict.evidence["trivial"] == len(verdict.steps) else status)


# -- what is not a claim ---------------------------------------------------------------------------------


def test_cut_operands_code_and_unreadable_pieces_are_skipped() -> None:
    assert check("Taking 20% of 50 = 10 gives the discount.").status is Status.UNDECIDED
    assert check("\\[ 63 \\div 5 = 12 \\text{ remainder } 3 \\]").status is Status.UNDECIDED
    assert check("```python\nx = 1\nprint(1 == 5)\n```").status is Status.UNDECIDED
    verdict = check("The answer is \\(f(2, 3) = 7\\) and \\(\\lim_{n} a_n = 0\\).")
    assert verdict.status is Status.UNDECIDED
    assert verdict.evidence["unchecked"] >= 2 and verdict.evidence["checked"] == 0


def test_no_claims_and_too_long_are_undecided() -> None:
    assert check("").status is Status.UNDECIDED
    assert check("There is nothing to compute here.").status is Status.UNDECIDED
    assert check("1 + 1 = 2 " * 100, max_chars=100).status is Status.UNDECIDED


def test_repeated_claims_count_once() -> None:
    verdict = check("\\(2 + 2 = 4\\), indeed \\(2 + 2 = 4\\).")
    assert verdict.evidence["checked"] == 1 and verdict.evidence["repeated"] == 1


# -- options and running through the library -------------------------------------------------------------


def test_options_are_checked() -> None:
    with pytest.raises(OptionError):
        MathSteps(approx_rel_tol=2)
    with pytest.raises(OptionError):
        MathSteps(binding_window=-1)
    bad = MathSteps().verify(Sample(response="1 + 1 = 2", metadata={"max_claims": 0}))
    assert bad.status is Status.ERROR
    assert check("Let x = 3.\n\nA.\n\nB.\n\nThen 2x = 6.", binding_window=0).status is Status.UNDECIDED


def test_runs_through_verify_batch_in_the_worker_pool() -> None:
    samples = [Sample(response=SOLUTION), Sample(response="\\(2 + 2 = 5\\)"), Sample(response="no claims")]
    verdicts = verifiers.verify_batch(samples, verifier=MathSteps())
    assert [v.status for v in verdicts] == [Status.CORRECT, Status.INCORRECT, Status.UNDECIDED]
    assert verdicts == [MathSteps().verify(s) for s in samples]
    assert all(Verdict.from_dict(v.to_dict()) == v for v in verdicts)


_PIECES = st.sampled_from(
    ["\\(", "\\)", "\\[", "\\]", "$", "$$", "=", " = ", "\\approx", "<", "\\le", "+", "-", "\\cdot", "\\frac{",
     "}{", "}", "^", "x", "y", "2", "3", "10", "0.5", "1,000", "!", "%", "\\%", "\n", "\n\n", ". ", ", ", "\\\\",
     "&", "\\text{ of }", "Case 1:", "Let ", "\\begin{align*}", "\\end{align*}", "```", "(", ")", "\\sqrt{",
     "9^{9^{9}}", "4000!"]
)


@settings(max_examples=300, deadline=5000)
@given(st.one_of(st.lists(_PIECES, max_size=40).map("".join), st.text(max_size=300)))
def test_verify_never_raises_and_scores_stay_in_range(text: str) -> None:
    verdict = MathSteps().verify(Sample(response=text))
    assert verdict.status in (Status.CORRECT, Status.PARTIAL, Status.INCORRECT, Status.UNDECIDED)
    assert 0.0 <= verdict.score <= 1.0
    checked = verdict.evidence["checked"]
    assert checked == len(verdict.steps) == verdict.evidence["correct"] + verdict.evidence["incorrect"]
    if verdict.status is Status.CORRECT:
        assert verdict.score == 1.0 and checked > 0


# A decimal side is the other side rounded or truncated to its last place, not just near it; `\approx` is
# rounding (or the relative tolerance); a percent sign is a label only on a bare number (red-team findings).
NEAR_BUT_WRONG = [
    r"$\frac{1}{3} = 0.4$", r"$\pi = 3.2$", r"$\pi \approx 3.2$", r"$\sqrt{2} = 1.5$", r"$0.5 + 0.25 = 0.76$",
    r"$\frac{1}{3} \approx 1$", r"$\frac{5}{3} \approx 1$", r"$5 \times 20\% = 100$", r"$3 \times 25\% = 75$",
]
ROUNDED_RIGHT = [
    r"$\frac{1}{3} = 0.33$", r"$\frac{2}{3} = 0.67$", r"$\frac{2}{3} = 0.66$", r"$\pi \approx 3.14$",
    r"$\sqrt{2} \approx 1.41$", r"$\frac{1}{4} \times 100 = 25\%$", r"$0.25 = 25\%$", r"$\frac{5}{3} \approx 2$",
    r"$\pi \approx 3$", r"$22/7 \approx 3.14$",
]


@pytest.mark.parametrize("claim", NEAR_BUT_WRONG)
def test_a_value_near_the_right_one_is_wrong(claim):
    verdict = verifiers.verify("First, $12 \\times 13 = 156$.\n" + claim, verifier="math.steps")
    assert verdict.status is Status.INCORRECT, verdict.reason


@pytest.mark.parametrize("claim", ROUNDED_RIGHT)
def test_a_rounded_or_truncated_value_holds(claim):
    verdict = verifiers.verify("First, $12 \\times 13 = 156$.\n" + claim, verifier="math.steps")
    assert verdict.status is Status.CORRECT, verdict.reason


def test_repeated_display_claims_do_not_push_a_binding_out_of_reach() -> None:
    """Found by hypothesis: each "We get \\[...\\]" split into a prose lead-in and a math row, and the lead-ins
    moved the binding window, so two repeats left the wrong `2x + 1 = 6` unchecked and the score rose to 1."""
    shown = "We get \\[ 10 + 10 = 20 \\]"
    wrong = "\n".join(["Let \\(x = 2\\).", shown, shown, "Then \\(2x + 1 = 6\\).", shown])
    verdict = check(wrong)
    assert verdict.status is Status.INCORRECT and verdict.score == 0.0
    assert verdict.evidence["first_wrong_step"]["claim"] == "2x + 1 = 6"
    # the twin: the same padding around the right value keeps the solution correct
    assert check(wrong.replace("= 6", "= 5")).status is Status.CORRECT


def test_prose_between_a_binding_and_a_wrong_use_cannot_earn_a_correct() -> None:
    """Padding prose pushes `x = 2` out of the binding window; the wrong use it would hide keeps the verdict open."""
    padded = "\n".join(["Let \\(x = 2\\).", "We go on.", "Next we add them up.", "Then \\(2x + 1 = 6\\).",
                        "\\(10 + 10 = 20\\)"])  # fmt: skip
    verdict = check(padded)
    assert verdict.status is Status.UNDECIDED and verdict.reward is None
    assert verdict.evidence["stale_claim"]["claim"] == "2x + 1 = 6"
    # the twin: the right use under the old value stays CORRECT; without the padding the wrong one is INCORRECT
    assert check(padded.replace("= 6", "= 5")).status is Status.CORRECT
    assert check(padded.replace("We go on.\nNext we add them up.\n", "")).status is Status.INCORRECT
    # a new case or supposition drops the old value: reusing the name there is not held against the solution
    assert check(padded.replace("We go on.", "Case 2: suppose instead x is new.")).status is Status.CORRECT
