import json
import math

import pytest
from support.properties import given, settings, st

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


def _nested_evidence_verdict() -> Verdict:
    from types import MappingProxyType

    inner = MappingProxyType({"t": (1, 2), "s": {"b", "a"}})
    return Verdict("partial", 0.5, "x", aspects={"a": 1}, evidence={"inner": inner, "rows": [(1, {"k": inner})]})


def test_evidence_and_aspects_go_to_json_dumps_as_they_are():
    verdict = _nested_evidence_verdict()  # a mapping proxy and tuples nested inside, as verifiers pass them
    assert json.loads(json.dumps(verdict.evidence)) == verdict.to_dict()["evidence"]
    assert json.loads(json.dumps(verdict.aspects)) == {"a": 1.0}
    assert json.loads(json.dumps(verdict.evidence, indent=2, sort_keys=True)) == verdict.to_dict()["evidence"]
    assert verdict.evidence == {"inner": {"t": [1, 2], "s": ["a", "b"]}, "rows": [[1, {"k": {"t": [1, 2], "s": ["a", "b"]}}]]}
    assert isinstance(verdict.evidence, dict) and isinstance(verdict.evidence["rows"], list)


def test_evidence_is_read_only_all_the_way_down():
    verdict = _nested_evidence_verdict()
    evidence = verdict.evidence
    inner, rows = evidence["inner"], evidence["rows"]
    attempts = [
        lambda: evidence.update(k=1), lambda: evidence.setdefault("k", 1), lambda: evidence.pop("inner"),
        lambda: evidence.popitem(), lambda: evidence.clear(), lambda: evidence.__delitem__("inner"),
        lambda: evidence.__ior__({"k": 1}), lambda: inner.__setitem__("t", 0), lambda: verdict.aspects.update(a=0),
        lambda: rows.append(1), lambda: rows.extend([1]), lambda: rows.insert(0, 1), lambda: rows.pop(),
        lambda: rows.remove(rows[0]), lambda: rows.sort(), lambda: rows.reverse(), lambda: rows.clear(),
        lambda: rows.__setitem__(0, 1), lambda: rows.__delitem__(0), lambda: rows.__iadd__([1]),
        lambda: rows.__imul__(2), lambda: inner["t"].append(3),
    ]
    for attempt in attempts:
        with pytest.raises(TypeError, match="read-only"):
            attempt()
    assert verdict == _nested_evidence_verdict()  # nothing changed
    copy = dict(verdict.evidence)  # the near miss: a copy is an ordinary dict and may change
    copy["k"] = 1
    listed = list(rows)
    listed.append(2)
    assert "k" not in verdict.evidence and len(verdict.evidence["rows"]) == 1


def test_read_only_evidence_pickles_copies_and_compares_as_before():
    import copy
    import pickle

    verdict = _nested_evidence_verdict()
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        again = pickle.loads(pickle.dumps(verdict, protocol=protocol))
        assert again == verdict
        with pytest.raises(TypeError):
            again.evidence["rows"].append(1)
        assert pickle.loads(pickle.dumps(verdict.evidence, protocol=protocol)) == verdict.evidence
    assert copy.deepcopy(verdict) == verdict and copy.copy(verdict.evidence) == verdict.evidence
    assert Verdict.from_dict(verdict.to_dict()) == verdict
    assert Verdict.from_json(verdict.to_json()) == verdict
    assert verdict.replace(evidence={"x": 1}).evidence == {"x": 1}
    assert verdict != verdict.replace(evidence={"inner": {"t": [1, 3], "s": ["a", "b"]}, "rows": verdict.evidence["rows"]})
    with pytest.raises(TypeError):  # unhashable, as before (evidence is a dict)
        hash(verdict)
    plain = verdict.to_dict()["evidence"]  # to_dict gives plain, mutable JSON data
    assert type(plain) is dict and type(plain["rows"]) is list


def test_batch_size_is_timing_kept_through_json_and_pickle_but_not_compared():
    import pickle

    share = Verdict.correct("judge", elapsed_s=0.25, batch_size=8)  # 2 s for a batch of 8, split evenly
    alone = Verdict.correct("judge", elapsed_s=0.25)
    assert share == alone  # timing is not part of what was concluded
    assert alone.batch_size == 1 and "batch_size" not in alone.to_dict()  # timed alone: the record keeps its shape
    assert share.to_dict()["batch_size"] == 8
    for again in (Verdict.from_json(share.to_json()), pickle.loads(pickle.dumps(share)), share.replace(reason="r")):
        assert (again.elapsed_s, again.batch_size) == (0.25, 8)
    assert share.to_dict(timing=False) == alone.to_dict(timing=False)
    assert not {"elapsed_s", "batch_size"} & set(share.to_dict(timing=False))


@pytest.mark.parametrize("bad", [0, -3, 2.5, float("nan"), float("inf"), True, "8", None])
def test_a_batch_size_that_is_not_a_whole_count_reads_as_timed_alone(bad):
    assert Verdict.correct("x", batch_size=bad).batch_size == 1
    assert Verdict.from_dict({"status": "correct", "score": 1, "verifier": "x", "batch_size": bad}).batch_size == 1
    assert Verdict.correct("x", batch_size=8.0).batch_size == 8  # the near miss: a whole float is a count
