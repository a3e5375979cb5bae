"""Group-dependent rewards (the code verifier's VeRPO weighting) are computed per explicit group, so a group's rewards
do not depend on how a scorer merges concurrent calls, on what the verdict cache holds, or on sample order."""

from __future__ import annotations

import threading

import pytest
from support.properties import HealthCheck, given, settings, st
from test_code import bwrap_sandbox

from verifiers import Sample, Status, Verdict, verify_batch
from verifiers.cache import MemoryCache
from verifiers.code import CodeVerifier
from verifiers.groups import GROUP_EVIDENCE, regroup
from verifiers.integrations.scoring import Scorer

SUITE = {"tests": ["assert sq(2) == 4", "assert sq(3) == 9", "assert sq(-7) == 49", "assert sq(0) == 0"],
         "entry_point": "sq"}  # fmt: skip
PROGRAMS = [  # which of the four tests each passes (the last is also passed by the stub `return 0`)
    "def sq(x):\n    return x * x\n",  # all
    "def sq(x):\n    return {2: 4, 3: 9}.get(x, 0)\n",  # 1, 2, 4
    "def sq(x):\n    return 49 if x == -7 else 1\n",  # 3
    "def sq(x):\n    return 4\n",  # 1
    "def sq(x):\n    return 0\n",  # 4 (the stub's test: weight 0)
]


def response(program: int) -> str:
    return f"```python\n{PROGRAMS[program]}```"


def sample(program: int, prompt: str = "p", **metadata: object) -> Sample:
    return Sample(response(program), SUITE, prompt=prompt, metadata=metadata)


@pytest.fixture(scope="module")
def sandbox():
    return bwrap_sandbox()


def weighted(sandbox, **options: object) -> CodeVerifier:
    return CodeVerifier(sandbox=sandbox, reward_mode="weighted", alpha=0.0, **options)


# -- the rule -------------------------------------------------------------------------------------------------------


def test_a_group_of_one_call_is_weighted_by_difficulty_and_a_sample_alone_is_not(sandbox):
    verifier = weighted(sandbox)
    group = verify_batch([sample(1), sample(1), sample(2)], verifier=verifier)
    # tests passed by k of n = 3: (2, 2, 1, 2); test 4 weighs 0 (a stub passes it) -> weights 0.4, 0.4, 0.6, 0
    assert [s.weight for s in group[0].steps] == pytest.approx([0.4, 0.4, 0.6, 0.0])
    assert group[0].score == pytest.approx(0.8 / 1.4) and group[2].score == pytest.approx(0.6 / 1.4)
    assert group[0].evidence["group_size"] == 3
    alone = verify_batch([sample(1)], verifier=verifier)[0]
    assert [s.weight for s in alone.steps] == [1.0, 1.0, 1.0, 0.0] and alone.score == pytest.approx(2 / 3)
    assert "group_size" not in alone.evidence


def test_explicit_group_ids_and_prompts_separate_groups(sandbox):
    verifier = weighted(sandbox)
    split = verify_batch([sample(1, group="a"), sample(1, group="a"), sample(2, group="b")], verifier=verifier)
    assert [v.evidence.get("group_size") for v in split] == [2, 2, None]
    by_uid = verify_batch([sample(1, uid=7), sample(2, uid=7), sample(2, uid=8)], verifier=verifier)
    assert [v.evidence.get("group_size") for v in by_uid] == [2, 2, None]
    prompts = verify_batch([sample(1, "p"), sample(2, "q")], verifier=verifier)
    assert [v.evidence.get("group_size") for v in prompts] == [None, None]


def test_failed_verdicts_and_verdicts_without_group_evidence_are_left_alone():
    ok = Verdict(Status.PARTIAL, 0.5, "code", evidence={GROUP_EVIDENCE: {
        "suite": "s", "alpha": 0.0, "base": [1.0, 1.0], "scores": [1.0, 0.0], "passed": [True, False]}})  # fmt: skip
    error = Verdict.error("code", "sandbox down")
    plain = Verdict.correct("math", "ok")
    out = regroup([Sample("a"), Sample("b"), Sample("c")], [ok, error, plain])
    assert out == [ok, error, plain]
    with pytest.raises(ValueError, match="2 verdicts for 1 samples"):
        regroup([Sample("a")], [ok, ok])


# -- the property ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def baseline(sandbox):
    """Each candidate group's rewards verified in one call, alone, without a cache."""
    verifier = weighted(sandbox)
    return lambda programs: [v.score for v in verify_batch([sample(p) for p in programs], verifier=verifier)]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    group=st.lists(st.integers(0, len(PROGRAMS) - 1), min_size=2, max_size=5),
    others=st.lists(st.lists(st.integers(0, len(PROGRAMS) - 1), min_size=1, max_size=3), max_size=3),
    warm=st.lists(st.integers(0, len(PROGRAMS) - 1), max_size=3),
    order=st.randoms(use_true_random=False),
)
def test_a_groups_rewards_do_not_depend_on_merging_caching_or_order(sandbox, baseline, group, others, warm, order):
    """The group goes to a scorer in one call while other calls with the same prompt and tests arrive concurrently
    (the scorer merges them into its batches) and the cache already holds some of the same answers."""
    expected = baseline(group)
    cache = MemoryCache()
    scorer = Scorer(verifier=weighted(sandbox), cache=cache, batches=1)
    if warm:
        scorer.verify([sample(p) for p in warm])  # verdicts of these answers, verified in another group
    permutation = list(range(len(group)))
    order.shuffle(permutation)
    results: dict[str, list[float]] = {}

    def call(name: str, programs: list[int]) -> None:
        results[name] = [v.score for v in scorer.verify([sample(p) for p in programs])]

    threads = [threading.Thread(target=call, args=(f"other{i}", o)) for i, o in enumerate(others)]
    threads.append(threading.Thread(target=call, args=("group", [group[i] for i in permutation])))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    got = results["group"]
    assert [got[permutation.index(i)] for i in range(len(group))] == pytest.approx(expected)
