"""The public API: verify() and verify_batch() never raise for any text, keep order, cache, and guard verifiers."""

from __future__ import annotations

import pytest
from support.properties import HealthCheck, given, settings, st

import verifiers
from verifiers import MemoryCache, Sample, SQLiteCache, Status, Verdict, Verifier
from verifiers.errors import VerifiersError


def all_verifier_names() -> list[str]:
    return [row["name"] for row in verifiers.list_verifiers()]


references = st.one_of(
    st.none(), st.text(max_size=20), st.integers(), st.floats(), st.lists(st.text(max_size=5), max_size=3),
    st.sampled_from(["42", "B", "\\frac{1}{2}", "50%", "1,234", "<think>", "[a-z]+", "(C)"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(response=st.text(), reference=references, data=st.data())
def test_verify_never_raises_and_scores_stay_in_unit_interval(response, reference, data):
    # not `lean`: a random statement would start a Lean process (~15 s) per draw; arbitrary text through Lean is
    # TestBuiltinConformance's (test_testing.py), with one warm checker
    name = data.draw(st.sampled_from([n for n in all_verifier_names() if n != "lean"]))
    verdict = verifiers.verify(response, reference, verifier=name)
    assert isinstance(verdict, Verdict)
    assert 0.0 <= verdict.score <= 1.0
    assert Verdict.from_json(verdict.to_json()) == verdict


@settings(max_examples=40, deadline=None)
@given(response=st.text(), reference=references, domain=st.sampled_from(["text", "numeric", "multiple_choice"]))
def test_domain_cascades_never_raise(response, reference, domain):
    if domain not in verifiers.list_domains():
        return
    verdict = verifiers.verify(response, reference, domain=domain)
    assert 0.0 <= verdict.score <= 1.0
    assert "cascade" in verdict.evidence or verdict.verifier


@pytest.mark.parametrize("name", all_verifier_names())
def test_every_verifier_survives_hostile_input(name):
    hostile = [
        "x" * 10_000_000,
        "\\boxed{" * 50_000,
        "{" * 100_000 + "}" * 99_999,
        "\udcff lone surrogate \ud800",
        b"\xff\xfe not utf-8 \xc3".decode("utf-8", errors="surrogateescape"),
        "",
    ]
    for response in hostile:
        for reference in (None, "42", ["a", "b"]):
            verdict = verifiers.verify(response, reference, verifier=name)
            assert 0.0 <= verdict.score <= 1.0
            Verdict.from_json(verdict.to_json())


def test_bytes_responses_are_decoded():
    verdict = verifiers.verify(b"caf\xc3\xa9", "café", verifier="exact")
    assert verdict.is_correct
    assert verifiers.verify(b"\xff\xfe", "x", verifier="exact").status is Status.INCORRECT


class Flaky(Verifier):
    """Misbehaves on demand, counting calls."""

    name = "test.flaky"
    calls = 0

    def verify(self, sample):
        Flaky.calls += 1
        if sample.response == "raise":
            raise KeyError("missing")
        if sample.response == "wrong-type":
            return 0.5
        if sample.response == "error":
            return Verdict.error(self.name, "backend down")
        return Verdict.from_bool(self.name, sample.response == sample.reference)


def test_misbehaving_verifiers_become_error_verdicts():
    samples = [Sample("ok", "ok"), Sample("raise"), Sample("wrong-type"), Sample("no", "ok")]
    verdicts = verifiers.verify_batch(samples, verifier=Flaky())
    assert [v.status for v in verdicts] == [Status.CORRECT, Status.ERROR, Status.ERROR, Status.INCORRECT]
    assert "KeyError" in verdicts[1].reason and verdicts[1].verifier == "test.flaky"
    assert "returned float" in verdicts[2].reason


def test_wrong_number_of_verdicts_from_a_batch_is_an_error():
    class Short(Verifier):
        name = "short"

        def verify_batch(self, samples):
            return [Verdict.correct(self.name)]

    verdicts = verifiers.verify_batch([Sample("a"), Sample("b")], verifier=Short())
    assert all(v.status is Status.ERROR and "returned 1 verdicts for 2" in v.reason for v in verdicts)


def test_order_is_preserved_across_domains_and_verifiers():
    samples = [Sample(str(i), reference=str(i if i % 3 else -1), domain=None) for i in range(30)]
    verdicts = verifiers.verify_batch(samples, verifier="exact")
    assert [v.is_correct for v in verdicts] == [bool(i % 3) for i in range(30)]


def test_samples_may_be_plain_mappings_but_must_have_a_response():
    verdicts = verifiers.verify_batch([{"response": "a", "reference": "a"}], verifier="exact")
    assert verdicts[0].is_correct
    with pytest.raises(TypeError, match="sample 0 has no 'response'"):
        verifiers.verify_batch([{"answer": "a"}], verifier="exact")
    with pytest.raises(TypeError, match="sample 0 must be a Sample or a mapping"):
        verifiers.verify_batch(["a"], verifier="exact")


def test_unknown_executor_is_a_clear_error():
    with pytest.raises(VerifiersError, match="unknown executor 'spark'; executors: local, ray"):
        verifiers.verify_batch([Sample("a")], verifier="exact", executor="spark")
    with pytest.raises(VerifiersError, match="only applies to executor 'ray'"):
        verifiers.verify_batch([Sample("a")], verifier="exact", ray_address="auto")


def test_memory_cache_skips_recomputation_but_not_failures():
    Flaky.calls = 0
    cache = MemoryCache()
    samples = [Sample("ok", "ok"), Sample("error")]
    first = verifiers.verify_batch(samples, verifier=Flaky(), cache=cache)
    second = verifiers.verify_batch(samples, verifier=Flaky(), cache=cache)
    assert first == second
    assert Flaky.calls == 3  # "ok" once, "error" twice: failures are retried
    assert len(cache) == 1


def test_sqlite_cache_persists_between_runs(tmp_path):
    path = tmp_path / "cache.sqlite"
    Flaky.calls = 0
    verifiers.verify_batch([Sample("ok", "ok")], verifier=Flaky(), cache=str(path))
    verdicts = verifiers.verify_batch([Sample("ok", "ok")], verifier=Flaky(), cache=SQLiteCache(path))
    assert Flaky.calls == 1 and verdicts[0].is_correct


def test_cache_key_depends_on_options():
    cache = MemoryCache()
    strict = verifiers.verify_batch([Sample(" a ", "a")], verifier=verifiers.get_verifier("exact", strip=False),
                                    cache=cache)
    loose = verifiers.verify_batch([Sample(" a ", "a")], verifier="exact", cache=cache)
    assert strict[0].status is Status.INCORRECT and loose[0].status is Status.CORRECT


def test_per_sample_options_win_over_call_options():
    samples = [Sample(" a ", "a"), Sample(" a ", "a", metadata={"strip": False})]
    verdicts = verifiers.verify_batch(samples, verifier="exact", options={"strip": True})
    assert [v.status for v in verdicts] == [Status.CORRECT, Status.INCORRECT]


def test_a_failing_cache_costs_no_verdict():
    class Broken(MemoryCache):
        def put(self, key, verdict):
            raise OSError("disk full")

        def get(self, key):
            raise OSError("unreadable")

    with pytest.warns(UserWarning, match="disk full"):
        verdicts = verifiers.verify_batch([Sample("a", "a")], verifier="exact", cache=Broken())
    assert verdicts[0].is_correct


def test_composites_are_not_cached_whole_but_their_parts_are():
    cache = MemoryCache()
    cascade = verifiers.Cascade([verifiers.get_verifier("exact"), verifiers.get_verifier("normalized")],
                                forward=["undecided", "incorrect"])
    verdict = verifiers.verify_batch([Sample("PARIS", "paris")], verifier=cascade, cache=cache)[0]
    assert verdict.is_correct and verdict.verifier == "normalized"
    assert sorted(v.verifier for v in cache._data.values()) == ["exact", "normalized"]
