"""Behaviour of the aggregate verifiers: weighted sums and gates over other verifiers' verdicts."""

from __future__ import annotations

import pytest
from support.properties import HealthCheck, given, settings, st

from verifiers import (
    OptionError,
    Runner,
    Sample,
    Status,
    UnknownVerifierError,
    Verdict,
    Verifier,
    get_verifier,
    hookimpl,
    list_verifiers,
    verify,
    verify_batch,
)

# -- throwaway verifiers with fixed outcomes -----------------------------------------------------------------------


class AlwaysTimeout(Verifier):
    """Test double: always TIMEOUT."""

    name = "test.timeout"

    def verify(self, sample):
        return Verdict.timeout(self.name, "took too long")


class AlwaysUndecided(Verifier):
    """Test double: always UNDECIDED."""

    name = "test.undecided"

    def verify(self, sample):
        return Verdict.undecided(self.name, "cannot tell")


class AlwaysRaises(Verifier):
    """Test double: raises."""

    name = "test.raises"

    def verify(self, sample):
        raise RuntimeError("boom")


class Half(Verifier):
    """Test double: PARTIAL 0.5, counting the batches it is handed."""

    name = "test.half"
    batches: list[int] = []

    def verify_batch(self, samples):
        Half.batches.append(len(samples))
        return [Verdict(Status.PARTIAL, 0.5, self.name, "half") for _ in samples]


class _Plugin:
    @hookimpl
    def register_verifiers(self, register):
        for factory in (AlwaysTimeout, AlwaysUndecided, AlwaysRaises, Half):
            register(factory)


_DOUBLES = _Plugin()  # one long-lived object: a freed plugin's id() could be reused by another test's plugin


@pytest.fixture
def doubles(register_plugin):
    """The test doubles, registered until the test ends (the shared `register_plugin` fixture)."""
    register_plugin(_DOUBLES)


def check(response, reference=None, *, verifier, metadata=None, **options) -> Verdict:
    verdict = verify(response, reference, verifier=verifier, metadata=metadata, options=options)
    assert 0.0 <= verdict.score <= 1.0
    assert Verdict.from_dict(verdict.to_dict()) == verdict
    return verdict


NUMERIC_AND_FORMAT = [
    {"verifier": "numeric", "weight": 3},
    {"verifier": "regex", "weight": 1, "name": "boxed", "options": {"pattern": r"\\boxed\{"}},
]

# -- weighted -----------------------------------------------------------------------------------------------------


def test_aggregates_are_registered():
    rows = {row["name"]: row for row in list_verifiers()}
    assert rows["weighted"]["plugin"] == rows["gated"]["plugin"] == "verifiers.aggregate"
    assert rows["weighted"]["description"] and rows["gated"]["description"]


def test_weighted_all_pass():
    verdict = check("\\boxed{42}", "42", verifier="weighted", components=NUMERIC_AND_FORMAT)
    assert verdict.status is Status.CORRECT and verdict.score == 1.0
    assert [(s.name, s.weight) for s in verdict.steps] == [("numeric", 3.0), ("boxed", 1.0)]
    assert dict(verdict.aspects) == {"numeric": 1.0, "boxed": 1.0}
    assert [c["verifier"] for c in verdict.evidence["components"]] == ["numeric", "regex"]


def test_weighted_partial_and_zero():
    partial = check("The answer is 42", "42", verifier="weighted", components=NUMERIC_AND_FORMAT)
    assert partial.status is Status.PARTIAL and partial.score == pytest.approx(0.75)
    assert dict(partial.aspects) == {"numeric": 1.0, "boxed": 0.0}
    zero = check("The answer is 41", "42", verifier="weighted", components=NUMERIC_AND_FORMAT)
    assert zero.status is Status.INCORRECT and zero.score == 0.0


def test_weighted_component_reference_override_and_duplicate_names():
    components = [
        {"verifier": "normalized", "reference": "paris"},
        {"verifier": "normalized", "reference": "rome"},
    ]
    verdict = check("Paris", "ignored", verifier="weighted", components=components)
    assert verdict.score == pytest.approx(0.5)
    assert dict(verdict.aspects) == {"normalized": 1.0, "normalized#2": 0.0}


def test_weighted_component_error_is_an_error_not_a_lower_score():
    components = [{"verifier": "exact"}, {"verifier": "numeric", "reference": "banana", "name": "num"}]
    verdict = check("42", "42", verifier="weighted", components=components)
    assert verdict.status is Status.ERROR and verdict.score == 0.0
    assert "'num'" in verdict.reason and "not a number" in verdict.reason
    assert verdict.reward is None
    assert {s.name: s.status for s in verdict.steps} == {"exact": Status.CORRECT, "num": Status.ERROR}


def test_weighted_component_timeout_and_exception(doubles):
    timeout = check("x", "x", verifier="weighted", components=[{"verifier": "exact"}, {"verifier": "test.timeout"}])
    assert timeout.status is Status.TIMEOUT and "test.timeout" in timeout.reason
    raised = check("x", "x", verifier="weighted", components=[{"verifier": "exact"}, {"verifier": "test.raises"}])
    assert raised.status is Status.ERROR and "boom" in raised.reason


def test_weighted_undecided_policy(doubles):
    components = [{"verifier": "exact", "weight": 1}, {"verifier": "test.undecided", "weight": 1}]
    undecided = check("x", "x", verifier="weighted", components=components)
    assert undecided.status is Status.UNDECIDED and "test.undecided" in undecided.reason
    zero = check("x", "x", verifier="weighted", components=components, undecided="zero")
    assert zero.status is Status.PARTIAL and zero.score == pytest.approx(0.5)


def test_weighted_runs_each_component_once_per_batch(doubles):
    Half.batches.clear()
    samples = [Sample(str(i), str(i)) for i in range(5)]
    verdicts = verify_batch(
        samples, verifier="weighted", options={"components": [{"verifier": "test.half"}, {"verifier": "exact"}]}
    )
    assert Half.batches == [5]
    assert [v.score for v in verdicts] == [pytest.approx(0.75)] * 5
    assert all(v.status is Status.PARTIAL for v in verdicts)


def test_weighted_direct_verify_without_runner():
    verifier = get_verifier("weighted", components=NUMERIC_AND_FORMAT)
    assert verifier.verify(Sample("\\boxed{42}", "42")).is_correct
    assert verifier.verify_batch([Sample("\\boxed{42}", "42")], runner=Runner())[0].is_correct


@pytest.mark.parametrize(
    "components, message",
    [
        ([], "non-empty list"),
        ("numeric", "non-empty list"),
        ([{"weight": 1}], "needs 'verifier'"),
        ([{"verifier": "numeric", "weight": -1}], "weight"),
        ([{"verifier": "numeric", "weight": 0}], "sum to 0"),
        ([{"verifier": "numeric", "weigth": 2}], "unknown key"),
        ([{"verifier": "numeric", "options": [1]}], "options must be a mapping"),
    ],
)
def test_weighted_bad_specs_fail_at_construction(components, message):
    with pytest.raises(OptionError, match=message):
        get_verifier("weighted", components=components)


def test_weighted_unknown_names_and_options_fail_eagerly():
    with pytest.raises(UnknownVerifierError, match="no-such"):
        get_verifier("weighted", components=[{"verifier": "no-such"}])
    with pytest.raises(OptionError, match="percent"):
        get_verifier("weighted", components=[{"verifier": "numeric", "options": {"percent": "half"}}])
    with pytest.raises(OptionError, match="undecided"):
        get_verifier("weighted", components=NUMERIC_AND_FORMAT, undecided="ignore")


def test_weighted_per_sample_components_are_checked_lazily():
    unknown = check("x", "x", verifier="weighted", metadata={"components": [{"verifier": "no-such"}]})
    assert unknown.status is Status.ERROR and "no-such" in unknown.reason
    malformed = check("x", "x", verifier="weighted", metadata={"components": "exact"})
    assert malformed.status is Status.ERROR and "components" in malformed.reason
    missing = check("x", "x", verifier="weighted")
    assert missing.status is Status.ERROR and "components" in missing.reason
    good = check("x", "x", verifier="weighted", metadata={"components": [{"verifier": "exact"}]})
    assert good.status is Status.CORRECT


# -- gated --------------------------------------------------------------------------------------------------------

FORMAT_GATE = {"verifier": "format", "options": {"tags": ["answer"], "strict": False}, "name": "format"}
GATED = {"gate": FORMAT_GATE, "components": NUMERIC_AND_FORMAT}


def test_gated_passing_gate_gives_the_weighted_score():
    verdict = check("<answer>42</answer>", "42", verifier="gated", **GATED)
    assert verdict.status is Status.PARTIAL and verdict.score == pytest.approx(0.75)
    assert [s.name for s in verdict.steps] == ["gate:format", "numeric", "boxed"]
    assert verdict.steps[0].weight == 0.0 and verdict.steps[0].status is Status.CORRECT
    assert verdict.evidence["gate"]["verdict"]["status"] == "correct"
    full = check("<answer>\\boxed{42}</answer>", "42", verifier="gated", **GATED)
    assert full.status is Status.CORRECT and full.score == 1.0


def test_gated_failing_gate_zeroes_the_score():
    verdict = check("\\boxed{42}", "42", verifier="gated", **GATED)  # right answer, wrong format
    assert verdict.status is Status.INCORRECT and verdict.score == 0.0
    assert [s.name for s in verdict.steps] == ["gate:format"]
    assert verdict.steps[0].status is Status.INCORRECT
    assert "gate 'format'" in verdict.reason and "did not pass" in verdict.reason
    assert verdict.evidence["gate"]["verifier"] == "format"


def test_gated_partial_gate_does_not_pass(doubles):
    verdict = check("x", "x", verifier="gated", gate={"verifier": "test.half"}, components=[{"verifier": "exact"}])
    assert verdict.status is Status.INCORRECT and verdict.score == 0.0


def test_gated_broken_gate_is_never_read_as_a_failed_answer(doubles):
    components = [{"verifier": "exact"}]
    error = check("x", "x", verifier="gated", gate={"verifier": "test.raises"}, components=components)
    assert error.status is Status.ERROR and "boom" in error.reason
    timeout = check("x", "x", verifier="gated", gate={"verifier": "test.timeout"}, components=components)
    assert timeout.status is Status.TIMEOUT
    undecided = check("x", "x", verifier="gated", gate={"verifier": "test.undecided"}, components=components)
    assert undecided.status is Status.UNDECIDED
    zero = check("x", "x", verifier="gated", gate={"verifier": "test.undecided"}, components=components,
                 undecided="zero")
    assert zero.status is Status.INCORRECT and zero.score == 0.0


def test_gated_component_error_after_gate_passes():
    verdict = check(
        "<answer>1</answer>", "1", verifier="gated", gate=FORMAT_GATE,
        components=[{"verifier": "numeric", "reference": "banana"}],
    )
    assert verdict.status is Status.ERROR and "numeric" in verdict.reason


def test_gated_batch_mixes_outcomes():
    samples = [Sample("<answer>42</answer>", "42"), Sample("42", "42"), Sample("<answer>\\boxed{42}</answer>", "42")]
    verdicts = verify_batch(samples, verifier="gated", options=GATED)
    assert [v.status for v in verdicts] == [Status.PARTIAL, Status.INCORRECT, Status.CORRECT]


def test_gated_needs_gate_and_components():
    assert check("x", "x", verifier="gated", components=[{"verifier": "exact"}]).status is Status.ERROR
    assert check("x", "x", verifier="gated", gate={"verifier": "exact"}).status is Status.ERROR
    with pytest.raises(OptionError):
        get_verifier("gated", gate={"verifier": "exact", "bogus": 1}, components=[{"verifier": "exact"}])
    with pytest.raises(UnknownVerifierError):
        get_verifier("gated", gate={"verifier": "no-such"}, components=[{"verifier": "exact"}])


def test_aggregates_nest():
    inner = {"verifier": "weighted", "options": {"components": NUMERIC_AND_FORMAT}, "name": "inner"}
    verdict = check("<answer>\\boxed{42}</answer>", "42", verifier="gated", gate=FORMAT_GATE, components=[inner])
    assert verdict.status is Status.CORRECT and verdict.aspects["inner"] == 1.0


# -- totality -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, options", [("weighted", {"components": NUMERIC_AND_FORMAT}), ("gated", GATED)])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    response=st.text(max_size=100),
    reference=st.one_of(st.none(), st.sampled_from(["42", "x", "\\frac12"]), st.integers(), st.text(max_size=5)),
)
def test_aggregates_never_raise_and_round_trip(name, options, response, reference):
    verdict = get_verifier(name, **options).verify(Sample(response, reference))
    assert 0.0 <= verdict.score <= 1.0
    assert Verdict.from_dict(verdict.to_dict()) == verdict
