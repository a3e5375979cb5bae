import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifiers import Sample, Status, StepVerdict, Verdict


def test_verdict_round_trips_through_json():
    verdict = Verdict(
        Status.PARTIAL,
        0.5,
        "checklist",
        reason="1 of 2",
        steps=(StepVerdict("a", Status.CORRECT, 1.0), StepVerdict("b", "incorrect", 0.0, weight=2)),
        aspects={"a": 1.0, "b": 0.0},
        evidence={"extracted": "42", "nested": {"t": (1, 2)}, "nan": float("nan")},
        elapsed_s=0.25,
    )
    again = Verdict.from_json(verdict.to_json())
    assert again == verdict
    assert again.steps[1].status is Status.INCORRECT
    assert again.evidence["nested"]["t"] == [1, 2]  # JSON-safe at construction
    assert again.evidence["nan"] == "nan"


@pytest.mark.parametrize("score", [-0.1, 1.0001, float("nan"), float("inf")])
def test_score_outside_unit_interval_is_rejected(score):
    with pytest.raises(ValueError, match="score"):
        Verdict(Status.CORRECT, score, "x")


@pytest.mark.parametrize("score", ["1", None, True])
def test_score_must_be_a_number(score):
    with pytest.raises(TypeError):
        Verdict(Status.CORRECT, score, "x")


def test_verdict_is_frozen():
    verdict = Verdict.correct("x")
    with pytest.raises(AttributeError):
        verdict.score = 0.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        verdict.evidence["k"] = 1  # type: ignore[index]


def test_reward_is_none_unless_decided():
    assert Verdict.correct("x").reward == 1.0
    assert Verdict.incorrect("x").reward == 0.0
    for verdict in (Verdict.undecided("x"), Verdict.error("x", "boom"), Verdict.timeout("x", "slow")):
        assert verdict.reward is None
        assert not verdict.status.is_decided
    assert Verdict.error("x", "boom").status.is_failure


def test_sample_accepts_bytes_and_none():
    assert Sample(b"caf\xc3\xa9 \xff").response == "café \ufffd"
    assert Sample(None).response == ""
    assert Sample(42, id=7).id == "7"


def test_sample_fingerprint_ignores_id_and_is_stable():
    a = Sample("x", reference=["1", 2], metadata={"k": 1}, id="a")
    b = Sample("x", reference=["1", 2], metadata={"k": 1}, id="b")
    assert a.fingerprint() == b.fingerprint()
    assert Sample("y").fingerprint() != a.fingerprint()
    assert Sample.from_dict(a.to_dict()) == a


def test_step_weight_must_be_non_negative():
    with pytest.raises(ValueError, match="weight"):
        StepVerdict("t", Status.CORRECT, 1.0, weight=-1)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=10,
)


@settings(deadline=None)  # a property, not a timing: a busy machine must not fail it
@given(
    status=st.sampled_from(list(Status)),
    score=st.floats(0, 1),
    reason=st.text(),
    evidence=st.dictionaries(st.text(max_size=8), json_values, max_size=4),
    steps=st.lists(
        st.builds(StepVerdict, st.text(max_size=8), st.sampled_from(list(Status)), st.floats(0, 1), st.floats(0, 10)),
        max_size=3,
    ),
)
def test_any_verdict_round_trips(status, score, reason, evidence, steps):
    verdict = Verdict(status, score, "v", reason, steps=tuple(steps), evidence=evidence)
    text = verdict.to_json()
    json.loads(text)  # valid JSON
    again = Verdict.from_json(text)
    assert again == verdict
    assert 0.0 <= again.score <= 1.0 and math.isfinite(again.score)


def test_sample_and_verdict_pickle():
    import pickle

    sample = Sample("a", {"x": (1, 2)}, metadata={"k": 1}, id="3")
    verdict = Verdict("partial", 0.5, "x", steps=(StepVerdict("a", "correct", 1.0),), aspects={"a": 1},
                      evidence={"e": [1]}, elapsed_s=0.1)
    assert pickle.loads(pickle.dumps(sample)) == sample
    again = pickle.loads(pickle.dumps(verdict))
    assert again == verdict and again.elapsed_s == 0.1
