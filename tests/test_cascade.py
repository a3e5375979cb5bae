"""The cascade: stages run batch-wise, each seeing only what the earlier stages left open."""

import pytest

import verifiers
from verifiers import Cascade, OptionError, Sample, Status, Verdict, Verifier, hookimpl


class Recording(Verifier):
    """Answers from a table keyed by response; records every batch it receives."""

    name = "test.recording"
    batched = True

    def __init__(self, name, table, default=Status.UNDECIDED):
        super().__init__()
        self.name = name
        self.table = table
        self.default = default
        self.batches = []

    def verify_batch(self, samples):
        self.batches.append([s.response for s in samples])
        return [self.verify(s) for s in samples]

    def verify(self, sample):
        status = Status(self.table.get(sample.response, self.default))
        score = {Status.CORRECT: 1.0, Status.PARTIAL: 0.5}.get(status, 0.0)
        return Verdict(status, score, self.name)


def make_stages():
    rule = Recording("rule", {"a": "correct", "b": "incorrect"})
    symbolic = Recording("symbolic", {"c": "correct", "d": "error"})
    judge = Recording("judge", {"e": "correct", "b": "correct"}, default=Status.INCORRECT)
    return rule, symbolic, judge


def test_each_stage_sees_only_what_the_previous_left_undecided():
    rule, symbolic, judge = make_stages()
    cascade = Cascade([rule, symbolic, judge])
    verdicts = cascade.verify_batch([Sample(r) for r in "abcdef"])
    assert rule.batches == [list("abcdef")]
    assert symbolic.batches == [list("cdef")]
    assert judge.batches == [list("ef")]  # the last stage gets one batch
    assert [v.status.value for v in verdicts] == ["correct", "incorrect", "correct", "error", "correct",
                                                 "incorrect"]
    assert [v.verifier for v in verdicts] == ["rule", "rule", "symbolic", "symbolic", "judge", "judge"]
    stages = verdicts[4].evidence["cascade"]["stages"]
    assert [(s["verifier"], s["status"]) for s in stages] == [("rule", "undecided"), ("symbolic", "undecided"),
                                                              ("judge", "correct")]


def test_addon_policy_rechecks_incorrect_and_keeps_decisions_a_later_stage_cannot_make():
    rule, symbolic, judge = make_stages()
    cascade = Cascade([rule, symbolic, judge], policy="addon")
    verdicts = cascade.verify_batch([Sample(r) for r in "abd"])
    assert judge.batches == [["b"]] and symbolic.batches == [["b", "d"]]
    assert verdicts[1].status is Status.CORRECT and verdicts[1].verifier == "judge"  # rule said incorrect
    assert verdicts[2].status is Status.ERROR
    # an earlier decision stands when the later stage cannot decide
    undecided_judge = Recording("judge", {})
    verdict = Cascade([rule, undecided_judge], policy="addon").verify(Sample("b"))
    assert verdict.status is Status.INCORRECT and verdict.verifier == "rule"
    assert [s["verifier"] for s in verdict.evidence["cascade"]["stages"]] == ["rule", "judge"]


def test_forward_can_include_failures():
    flaky = Recording("flaky", {"x": "timeout"})
    backup = Recording("backup", {"x": "correct"})
    assert Cascade([flaky, backup]).verify(Sample("x")).status is Status.TIMEOUT
    verdict = Cascade([flaky, backup], forward=["undecided", "timeout"]).verify(Sample("x"))
    assert verdict.status is Status.CORRECT


def test_a_stage_that_raises_gives_errors_not_a_crash():
    class Boom(Verifier):
        name = "boom"

        def verify(self, sample):
            raise ZeroDivisionError("nope")

    verdicts = Cascade([Boom(), Recording("next", {"a": "correct"})]).verify_batch([Sample("a")])
    assert verdicts[0].status is Status.ERROR and "ZeroDivisionError" in verdicts[0].reason


def test_bad_policy_is_rejected():
    with pytest.raises(OptionError):
        Cascade([Recording("r", {})], policy="vote")
    with pytest.raises(OptionError):
        Cascade([])


class Cheap(Verifier):
    """Decides only short answers."""

    name = "test.cheap"
    domains = ("toy",)
    cost = 1

    def verify(self, sample):
        if len(sample.response) > 3:
            return Verdict.undecided(self.name, "too long for me")
        return Verdict.from_bool(self.name, sample.response == sample.reference)


class Expensive(Verifier):
    """Decides anything, counting its calls."""

    name = "test.expensive"
    domains = ("toy",)
    cost = 100
    batched = True
    calls: list[int] = []

    def verify_batch(self, samples):
        Expensive.calls.append(len(samples))
        return [Verdict.from_bool(self.name, s.response.startswith(str(s.reference))) for s in samples]


def test_domain_cascade_orders_stages_by_cost(register_plugin):
    class Plugin:
        @hookimpl
        def register_verifiers(self, register):
            register(Expensive)
            register(Cheap)

    register_plugin(Plugin())
    Expensive.calls.clear()
    samples = [Sample(r, reference="ab", domain="toy") for r in ["ab", "abcdef", "x", "abcd", "zzzz"]]
    verdicts = verifiers.verify_batch(samples)
    assert [v.status.value for v in verdicts] == ["correct", "correct", "incorrect", "correct", "incorrect"]
    assert Expensive.calls == [3]  # one batch holding exactly the undecided samples
    assert verdicts[1].evidence["cascade"]["name"] == "cascade:toy"
