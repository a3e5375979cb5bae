"""The verifier contract: plain, batched and composite verifiers written as a plugin writes them, their placement,
and verifier options that can never be taken for execution settings (or the other way round)."""

from __future__ import annotations

import json
import os

import pytest
from support.contract_verifiers import Both, Configured, CpuBound, WholeBatch

import verifiers
from verifiers import OptionError, Sample, Status
from verifiers.calls import gather
from verifiers.verifier import traits


@pytest.fixture
def contract(register_plugin):
    class Plugin:
        @verifiers.hookimpl
        def register_verifiers(self, register):
            for cls in (Configured, CpuBound, WholeBatch, Both):
                register(cls)

    register_plugin(Plugin(), name="contract")


def test_verifier_options_and_execution_settings_never_mix(contract):
    # execution settings: the runner's deadline and pool size; the verifier keeps its own defaults
    run = verifiers.verify("a", "a", verifier="contract.configured", timeout=0.5, workers=3)
    assert run.status is Status.CORRECT
    assert run.evidence["config"] == {"timeout": 1.0, "workers": 1}
    assert run.evidence["pid"] != os.getpid()  # a timeout puts a plain verifier in the killable pool
    # verifier options: the verifier's own settings; nothing runs in the pool
    own = verifiers.verify("a", "a", verifier="contract.configured", options={"timeout": 0.5, "workers": 3})
    assert own.evidence["config"] == {"timeout": 0.5, "workers": 3}
    assert own.evidence["pid"] == os.getpid()


def test_options_passed_as_keywords_are_refused_not_guessed(contract):
    with pytest.raises(TypeError, match="strip"):
        verifiers.verify(" a ", "a", verifier="exact", strip=False)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        verifiers.verify_batch([Sample("a", "a")], verifier="exact", strip=False)  # type: ignore[call-arg]


def test_options_for_a_verifier_object_are_refused():
    with pytest.raises(OptionError, match="cannot be applied to a verifier object"):
        verifiers.verify("a", "a", verifier=Configured(), options={"timeout": 2.0})


def test_an_unknown_option_fails_before_any_sample_runs(contract):
    with pytest.raises(OptionError, match=r"\['nosuch'\].*any registered verifier"):
        verifiers.verify_batch([Sample("a", "a")], options={"nosuch": 1})
    with pytest.raises(OptionError, match=r"\['rel_tol'\].*'text' cascade"):
        verifiers.verify_batch([Sample("a", "a")], domain="text", options={"rel_tol": 0.1})
    # twin: an option some domain's cascade declares is accepted; a sample routed to a domain whose cascade does
    # not take it gets an ERROR saying so (a tightening option is never silently left out), the others go on
    verdicts = verifiers.verify_batch(
        [Sample("The answer is 10.", "10", domain="numeric"), Sample("x = 3.14", "\\pi", domain="math")],
        options={"rel_tol": 0.5},
    )
    assert [v.status for v in verdicts] == [Status.CORRECT, Status.ERROR]
    assert "rel_tol" in verdicts[1].reason and "'math' cascade" in verdicts[1].reason
    near = verifiers.verify("The answer is 14.", "10", domain="numeric", options={"rel_tol": 0.5})
    assert near.status is Status.CORRECT
    far = verifiers.verify("The answer is 25.", "10", domain="numeric", options={"rel_tol": 0.5})
    assert far.status is Status.INCORRECT


def test_each_capability_runs_where_its_contract_says(contract):
    samples = [Sample("a", "a"), Sample("b", "a"), Sample("c", "c")]
    batched = verifiers.verify_batch(samples, verifier="contract.batched")
    assert [v.evidence["batch"] for v in batched] == [3, 3, 3]  # one call with the whole batch
    assert {v.evidence["pid"] for v in batched} == {os.getpid()}  # in-process, although it says cpu_bound
    both = verifiers.verify_batch(samples, verifier="contract.both")
    assert [v.status for v in both] == [Status.CORRECT, Status.INCORRECT, Status.CORRECT]
    pool_pid, own_pid = both[0].evidence["parts"]
    assert pool_pid != os.getpid() and own_pid == os.getpid() and both[0].evidence["batch"] == 3
    # called directly, a composite runs its parts with a fresh runner: the same verdicts
    assert [v.status for v in Both().verify_batch(samples)] == [v.status for v in both]


def test_traits_read_the_capability_not_stray_attributes():
    assert traits(Configured()).kind == "plain" and not traits(Configured()).cpu_bound
    assert traits(CpuBound()) == traits(CpuBound())  # a value
    assert traits(CpuBound()).cpu_bound and traits(WholeBatch()).kind == "batched" and traits(Both()).kind == "composite"

    class Duck:
        name, domains, cost = "duck", (), 1.0
        batched = "yes"  # not True: a stray truthy value does not change placement
        timeout = -1  # not a usable deadline

        def verify(self, sample):
            raise AssertionError

    assert traits(Duck()).kind == "plain" and traits(Duck()).timeout is None


def test_gather_refuses_a_missing_or_doubled_slot():
    assert gather(3, [(2, "c")], [(0, "a"), (1, "b")]) == ["a", "b", "c"]
    assert gather(2, [(0, None), (1, 0)]) == [None, 0]  # falsy results are results
    with pytest.raises(AssertionError, match=r"slots \[1\] missing"):
        gather(3, [(0, "a"), (2, "c")])
    with pytest.raises(AssertionError, match=r"slots \[0\] filled twice"):
        gather(2, [(0, "a"), (1, "b")], [(0, "again")])


def test_a_sample_that_cannot_be_routed_is_an_error_verdict_in_its_slot_everywhere(tmp_path):
    """verify_batch and dataset runs treat an unroutable sample alike: an ERROR verdict saying why, in its slot."""
    batch = [Sample("4", "4", domain="numeric"), Sample("x", {"shape": "unknown"}, id="odd"), Sample("B", "B")]
    verdicts = verifiers.verify_batch(batch)
    assert [v.status for v in verdicts] == [Status.CORRECT, Status.ERROR, Status.CORRECT]
    assert verdicts[1].verifier == "routing" and "cannot tell the domain of sample 'odd'" in verdicts[1].reason
    out = tmp_path / "out.jsonl"
    verifiers.run_dataset(batch, out, summary_path=None)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["verdict"]["status"] for r in records] == ["correct", "error", "correct"]
    assert records[1]["verdict"]["reason"] == verdicts[1].reason
    # a domain the caller names is checked before any work, and raises
    with pytest.raises(verifiers.UnknownDomainError):
        verifiers.verify_batch(batch, domain="astrology")
