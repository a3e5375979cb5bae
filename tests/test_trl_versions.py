"""The TRL reward functions against the rules of every TRL release we allow (trl >= 1.6): how each release tells an
async reward function, how it names one, what it does with None — each rule written as that release's code has it.
The installed TRL's own helpers are used where it has them; `test_trl_grpo.py` runs the installed `GRPOTrainer`."""

from __future__ import annotations

import asyncio
import inspect
import logging
import pickle
from typing import Any

import pytest

import verifiers.integrations.trl as trl_module
from verifiers import Sample, Verdict
from verifiers.errors import OptionError
from verifiers.integrations.trl import (
    MIN_TRL_FOR_NONE,
    async_reward_function,
    reward_function,
    reward_functions,
)
from verifiers.verifier import Verifier


def old_trl_dispatch(reward: Any, **kwargs: Any) -> list[Any]:
    """TRL 1.0-1.15 `GRPOTrainer._calculate_rewards`: `elif inspect.iscoroutinefunction(reward_func):` collects the
    async functions and awaits them together; anything else is called and its result used as the rewards."""
    if inspect.iscoroutinefunction(reward):
        return asyncio.run(reward(**kwargs))
    return reward(**kwargs)


class _InstanceWithAsyncCall:
    """What `AsyncRewardFunction` is without its function-like attributes: an instance with an `async __call__`."""

    __name__ = "plain_async_instance"

    async def __call__(self, **kwargs: Any) -> list[float]:
        return [1.0]


def test_an_async_instance_alone_is_invisible_to_the_rule_of_trl_before_1_16():
    """The attack on old TRL: it calls such an instance synchronously and gets a coroutine, not rewards."""
    plain = _InstanceWithAsyncCall()
    assert not inspect.iscoroutinefunction(plain)
    result = old_trl_dispatch(plain)
    assert inspect.iscoroutine(result)
    result.close()


def test_every_release_detects_the_async_reward_function_and_names_it():
    reward = async_reward_function("math")
    assert inspect.iscoroutinefunction(reward)  # TRL 1.0-1.15 (GRPO), and `inspect` since Python 3.5
    assert asyncio.iscoroutinefunction(reward)  # TRL's RLOO trainer in releases that ask asyncio
    assert reward.__name__ == "verifiers_math"  # TRL 1.0-1.11 name a reward function by `__name__`
    trl_utils = pytest.importorskip("trl.trainer.utils")
    if hasattr(trl_utils, "is_async_callable"):  # TRL >= 1.16
        assert trl_utils.is_async_callable(reward)
    if hasattr(trl_utils, "get_callable_name"):  # TRL >= 1.12
        assert trl_utils.get_callable_name(reward) == "verifiers_math"
    rewards = old_trl_dispatch(reward, prompts=["p", "p"], completions=["\\boxed{2}", "\\boxed{3}"], solution=["2"] * 2)
    assert rewards == [1.0, 0.0]


def test_the_synchronous_reward_function_is_not_taken_for_an_async_one():
    reward = reward_function("math")
    assert not inspect.iscoroutinefunction(reward) and not asyncio.iscoroutinefunction(reward)
    trl_utils = pytest.importorskip("trl.trainer.utils")
    if hasattr(trl_utils, "is_async_callable"):
        assert not trl_utils.is_async_callable(reward)
    assert old_trl_dispatch(reward, prompts=["p"], completions=["\\boxed{2}"], solution=["2"]) == [1.0]


def test_a_pickled_async_reward_function_is_still_async():
    """TRL's async GRPO sends reward functions to a spawned rollout process by pickle."""
    clone = pickle.loads(pickle.dumps(async_reward_function("math", name="m")))
    assert inspect.iscoroutinefunction(clone) and clone.__name__ == "m"
    assert asyncio.run(clone(prompts=["p"], completions=["\\boxed{4}"], solution=["4"])) == [1.0]


@pytest.mark.parametrize(("installed", "refused"), [((1, 5, 2), True), ((1, 6, 0), False), ((1, 16, 0), False)])
def test_none_rewards_are_refused_where_trl_would_train_them_as_zero(monkeypatch, installed, refused):
    monkeypatch.setattr(trl_module, "_installed_trl", lambda: installed)
    if refused:
        with pytest.raises(OptionError, match=r"trl>=1\.6"):
            reward_function("math")
        with pytest.raises(OptionError, match=r"trl>=1\.6"):
            reward_function("math", undecided_reward=0.0)  # errors would still be None
    else:
        reward_function("math")
    reward_function("math", undecided_reward=0.0, error_reward=0.0)  # numbers work with every release
    assert MIN_TRL_FOR_NONE == (1, 6)


def test_the_installed_trl_is_one_we_allow():
    installed = trl_module._installed_trl()
    if installed is None:
        pytest.skip("trl is not installed")
    assert installed[:2] >= MIN_TRL_FOR_NONE


def test_without_trls_metric_channel_failures_go_to_the_log(caplog: pytest.LogCaptureFixture):
    """TRL's async GRPO passes no `log_metric`: a failure must not vanish into a None there."""
    reward = reward_function(domain="code", timeout=9.0)
    with caplog.at_level(logging.WARNING, logger="verifiers.integrations"):
        assert reward(prompts=["p"], completions=["print(1)"], tests=["not a test suite"]) == [None]
    message = next(r.getMessage() for r in caplog.records if r.name == "verifiers.integrations")
    assert "1 of 1 samples" in message and "ERROR/TIMEOUT (rewarded None)" in message
    caplog.clear()
    shares: dict[str, float] = {}
    with caplog.at_level(logging.WARNING, logger="verifiers.integrations"):
        reward(prompts=["p"], completions=["x"], tests=["still not"], log_metric=shares.__setitem__)
    assert shares["verifiers_code/error"] == 1.0
    assert not [r for r in caplog.records if r.name == "verifiers.integrations"]  # the metric carries it


class _Aspects(Verifier):
    """Scores the response length against the reference, with two aspects; counts its batches."""

    name = "two-aspects"
    batched = True
    batches = 0

    def verify_batch(self, samples: list[Sample]) -> list[Verdict]:
        type(self).batches += 1
        return [self.verify(s) for s in samples]

    def verify(self, sample: Sample) -> Verdict:
        if sample.reference == "broken":
            return Verdict.error(self.name, "broken reference")
        short = 1.0 if len(sample.response) <= 3 else 0.0
        aspects = {"short": short} if sample.reference == "no-tone" else {"short": short, "tone": 0.5}
        return Verdict.from_bool(self.name, short == 1.0, aspects=aspects)


def test_one_function_per_aspect_share_one_verification_per_batch():
    _Aspects.batches = 0
    score, short, tone = reward_functions(verifier=_Aspects(), aspects=["short", "tone"], cache=None)
    assert [f.__name__ for f in (score, short, tone)] == ["verifiers_auto", "verifiers_auto_short", "verifiers_auto_tone"]
    batch = {"prompts": ["p"] * 4, "completions": ["abc", "abcdef", "ab", "x"],
             "solution": ["r", "r", "no-tone", "broken"]}  # fmt: skip
    assert score(**batch) == [1.0, 0.0, 1.0, None]
    assert short(**batch) == [1.0, 0.0, 1.0, None]  # a failed verdict gives every function the failure reward
    assert tone(**batch) == [0.5, 0.5, None, None]  # no such aspect: no reward
    assert _Aspects.batches == 1
    score(**{**batch, "completions": ["a", "b", "c", "d"]})  # another batch is verified again
    assert _Aspects.batches == 2
    with pytest.raises(OptionError, match="non-empty list"):
        reward_functions("math", aspects="short")
    clone = pickle.loads(pickle.dumps(tone))
    assert clone.aspect == "tone" and clone(**batch) == [0.5, 0.5, None, None]


def test_concurrent_async_aspect_functions_verify_a_batch_once_and_odd_columns_do_not_break_them():
    _Aspects.batches = 0
    functions = reward_functions(verifier=_Aspects(), aspects=["short", "tone"], asynchronous=True, cache=None)
    batch = {"prompts": ["p", "p"], "completions": ["ab", "abcdef"], "solution": ["r", "r"]}

    async def together() -> list[list[Any]]:
        return list(await asyncio.gather(*(f(**batch) for f in functions)))  # as TRL awaits async reward functions

    assert asyncio.run(together()) == [[1.0, 0.0], [1.0, 0.0], [0.5, 0.5]]
    assert _Aspects.batches == 1
    odd = {**batch, "extra": [{(1, 2): "a"}, {1: "a", "b": 2}]}  # keys json cannot write
    assert asyncio.run(functions[0](**odd)) == [1.0, 0.0]
    assert str(inspect.signature(functions[0])).startswith("(prompts")  # no `self` in what tools are told
