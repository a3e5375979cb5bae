"""The training-loop adapters: TRL reward functions, verl's compute_score, OpenRLHF's reward_func, the scorer."""

from __future__ import annotations

import asyncio
import logging
import importlib.util
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from support.extras import install_hint

import verifiers.integrations.openrlhf as openrlhf_module
import verifiers.integrations.verl as verl_module
from verifiers import Sample, Status, Verdict
from verifiers.errors import OptionError, UnknownNameError
from verifiers.integrations.openrlhf import make_reward_func, response_from_query
from verifiers.integrations.scoring import RewardMap, Scorer
from verifiers.integrations.trl import async_reward_function, reward_function
from verifiers.integrations.verl import RESULT_KEYS, compute_score, compute_score_batch
from verifiers.verifier import Verifier

PROMPT = "What is 2 + 2? Put the final answer in \\boxed{}."


# The adapters themselves need none of the training libraries; the tests that run a library's own code skip
# without it.
@pytest.fixture(scope="module")
def trl() -> Any:
    return pytest.importorskip("trl", reason=install_hint("trl", "dev"))


@pytest.fixture(scope="module")
def verl() -> Any:
    return pytest.importorskip("verl", reason=install_hint("verl", "dev"))


@pytest.fixture(scope="module")
def torch() -> Any:
    return pytest.importorskip("torch", reason=install_hint("torch", "judge"))


def load_by_path(path: str, name: str, module_name: str = "custom_module_under_test") -> Any:
    """What verl and OpenRLHF do: execute the file outside its package and take one name from it."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


# -- RewardMap ----------------------------------------------------------------------------------------------


def test_reward_map_passes_scores_and_maps_failures():
    rewards = RewardMap(undecided=0.25, error=-1.0)
    assert rewards(Verdict.correct("v")) == 1.0
    assert rewards(Verdict(Status.PARTIAL, 0.5, "v")) == 0.5
    assert rewards(Verdict.undecided("v")) == 0.25
    assert rewards(Verdict.error("v", "boom")) == -1.0
    assert rewards(Verdict.timeout("v", "slow")) == -1.0
    assert RewardMap()(Verdict.error("v", "boom")) is None
    with pytest.raises(OptionError, match="the error reward must be a number"):
        RewardMap(error="zero")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="undecided"):
        RewardMap(undecided=float("nan"))


# -- TRL ----------------------------------------------------------------------------------------------------


def test_trl_reward_function_plain_and_conversational_completions():
    reward = reward_function("math")
    assert reward.__name__ == "verifiers_math"
    prompts = [PROMPT, [{"role": "user", "content": PROMPT}], PROMPT]
    completions = [
        "2 + 2 = 4, so \\boxed{4}",
        [{"role": "assistant", "content": "It is \\boxed{5}."}],
        "\\boxed{4}",
    ]
    rewards = reward(prompts=prompts, completions=completions, completion_ids=[[1], [2], [3]],
                     solution=["4", "4", "4"], trainer_state=object())  # fmt: skip
    assert rewards == [1.0, 0.0, 1.0]
    assert [v.status for v in reward.last_verdicts] == [Status.CORRECT, Status.INCORRECT, Status.CORRECT]


def test_trl_reference_columns_domains_and_name():
    reward = reward_function(name="my reward")
    assert reward.__name__ == "my reward"
    # no domain given: each row's `domain` column routes it; `answer` is the reference column here
    rewards = reward(
        prompts=["p", "p"], completions=["\\boxed{7}", "Paris"], answer=["7", "Paris"], domain=["math", "text"]
    )
    assert rewards == [1.0, 1.0]
    assert reward.last_verdicts[0].verifier.startswith("math")
    explicit = reward_function("math", reference_column="gold")
    assert explicit(prompts=["p"], completions=["\\boxed{3}"], gold=["3"], solution=["4"]) == [1.0]
    with pytest.raises(KeyError, match="reference column 'gold' is not in the batch; columns: solution"):
        explicit(prompts=["p"], completions=["x"], solution=["4"], log_metric=print)
    assert reward_function(verifier="exact").__name__ == "verifiers_exact"


def test_trl_failures_are_none_unless_configured():
    class Broken(Verifier):
        name = "broken"

        def verify(self, sample: Sample) -> Verdict:
            raise RuntimeError("the sandbox is gone")

    default = reward_function(verifier=Broken(), cache=None)
    assert default(prompts=["p"], completions=["x"], solution=["y"]) == [None]
    assert default.last_verdicts[0].status is Status.ERROR
    configured = reward_function(verifier=Broken(), error_reward=-0.5, cache=None)
    assert configured(prompts=["p"], completions=["x"], solution=["y"]) == [-0.5]
    # a completion that is no text at all is an ERROR verdict for it alone, not a crash of the training step
    mixed = reward_function("math")
    assert mixed(prompts=["p", "p"], completions=[object(), "\\boxed{1}"], solution=["1", "1"]) == [None, 1.0]
    assert "cannot build a sample" in mixed.last_verdicts[0].reason


def test_trl_logs_status_shares_and_a_status_column():
    metrics: dict[str, list[float]] = {}
    columns: dict[str, list[Any]] = {}
    reward = reward_function("math")
    reward(
        prompts=["p"] * 4,
        completions=["\\boxed{1}", "\\boxed{2}", "\\boxed{1}", "no answer at all"],
        solution=["1"] * 4,
        log_metric=lambda name, value: metrics.setdefault(name, []).append(value),
        log_extra=lambda column, values: columns.setdefault(column, []).extend(values),
    )
    assert metrics["verifiers_math/correct"] == [0.5]
    assert metrics["verifiers_math/incorrect"] == [0.5]
    assert sum(v[0] for v in metrics.values()) == pytest.approx(1.0)
    assert columns["verifiers_math_status"] == ["correct", "incorrect", "correct", "incorrect"]


def test_trl_async_variant_is_a_coroutine_function_with_the_same_rewards(trl):
    from trl.trainer.utils import is_async_callable

    reward = async_reward_function("math")
    assert is_async_callable(reward) and not is_async_callable(reward_function("math"))
    assert reward.__name__ == "verifiers_math"
    result = asyncio.run(reward(prompts=["p", "p"], completions=["\\boxed{4}", "\\boxed{3}"], solution=["4", "4"]))
    assert result == [1.0, 0.0]


def test_trl_bad_configuration_fails_when_the_trainer_is_built():
    with pytest.raises(UnknownNameError):
        reward_function(verifier="no-such-verifier")
    with pytest.raises(OptionError, match=r"\['no_such_option'\] are not taken by the 'math' cascade"):
        reward_function("math", options={"no_such_option": 1})
    with pytest.raises(OptionError, match=r"unknown setting\(s\) \['rel_tol'\].*options=\{\.\.\.\}"):
        reward_function("math", rel_tol=0.1)  # a verifier option is never taken for a setting, nor the reverse
    with pytest.raises(TypeError, match="needs completions="):
        reward_function("math")(prompts=["p"])


# -- verl ---------------------------------------------------------------------------------------------------


def test_verl_compute_score_loaded_by_file_path_like_verl(verl):
    from verl.utils.import_utils import load_extern_object

    loaded = load_extern_object(module_path=verl_module.__file__, object_name="compute_score")
    good = loaded("openai/gsm8k", "... so the answer is \\boxed{72}", "72", {"index": 0, "question": "q"})
    bad = loaded("lighteval/MATH", "\\boxed{71}", "72", None)
    assert set(good) == set(bad) == set(RESULT_KEYS)
    assert (good["score"], good["acc"], good["status"], good["failed"]) == (1.0, 1.0, "correct", 0.0)
    assert (bad["score"], bad["acc"], bad["status"]) == (0.0, 0.0, "incorrect")
    assert good["verifier"].startswith("math") and good["pred"] == "72"


def test_verl_custom_reward_function_config_passes_reward_kwargs(verl):
    from omegaconf import OmegaConf
    from verl.trainer.ppo.reward import get_custom_reward_fn

    config = OmegaConf.create(
        {"reward": {"custom_reward_function": {
            "path": verl_module.__file__, "name": "compute_score",
            "reward_kwargs": {"verifier": "exact", "undecided_score": 0.5},
        }}}
    )  # fmt: skip
    score = get_custom_reward_fn(config)
    assert score is not None
    result = score(data_source="anything", solution_str="Paris", ground_truth="Paris", extra_info={})
    assert (result["verifier"], result["score"]) == ("exact", 1.0)


def test_verl_keys_are_the_same_for_every_outcome_and_failures_are_reported():
    class Undecided(Verifier):
        name = "undecided"

        def verify(self, sample: Sample) -> Verdict:
            return Verdict.undecided(self.name, "cannot tell")

    results = compute_score_batch(
        data_sources=["math", "math", "nonsense-source"],
        solution_strs=["\\boxed{1}", "\\boxed{2}", "x"],
        ground_truths=["1", "1", None],
        extra_infos=[{"index": 1}, {"index": 2}, {"index": 3}],
    )
    assert [r["status"] for r in results] == ["correct", "incorrect", "error"]
    assert results[2]["failed"] == 1.0 and results[2]["score"] == 0.0 and results[2]["verifier"] == "routing"
    assert all(list(r) == list(RESULT_KEYS) for r in results)
    undecided = compute_score("any", "x", "y", verifier=Undecided(), undecided_score=0.5, cache=None)
    assert (undecided["score"], undecided["undecided"], undecided["status"]) == (0.5, 1.0, "undecided")
    ignored = compute_score("math", "\\boxed{1}", "1", reward_router_address=None, sandbox_fusion_url=None)
    assert ignored["status"] == "correct"  # verl's own keywords are not taken for verifier options
    with pytest.raises(ValueError, match="1 data_sources, 2 solution_strs"):
        compute_score_batch(["math"], ["a", "b"], ["1", "2"])


def _verl_batch(tokenizer: Any, prompts: list[str], responses: list[str], truths: list[Any], sources: list[str]) -> Any:
    """A verl `DataProto` as the rollout hands it to a reward manager: left-padded prompts, right-padded responses."""
    import numpy as np
    import torch
    from verl import DataProto

    pad = tokenizer.pad_token_id
    prompt_ids = [tokenizer.encode(p) for p in prompts]
    response_ids = [tokenizer.encode(r) + [tokenizer.eos_token_id] for r in responses]
    p_len, r_len = max(map(len, prompt_ids)), max(map(len, response_ids))
    prompts_t = torch.tensor([[pad] * (p_len - len(ids)) + ids for ids in prompt_ids])
    responses_t = torch.tensor([ids + [pad] * (r_len - len(ids)) for ids in response_ids])
    mask = torch.tensor(
        [[0] * (p_len - len(p)) + [1] * len(p) + [1] * len(r) + [0] * (r_len - len(r)) for p, r in zip(prompt_ids, response_ids)]
    )
    return DataProto.from_dict(
        tensors={"prompts": prompts_t, "responses": responses_t, "attention_mask": mask,
                 "input_ids": torch.cat([prompts_t, responses_t], dim=1)},
        non_tensors={
            "data_source": np.array(sources, dtype=object),
            "reward_model": np.array([{"ground_truth": t, "style": "rule"} for t in truths], dtype=object),
            "extra_info": np.array([{"index": i} for i in range(len(prompts))], dtype=object),
        },
    )  # fmt: skip


@pytest.fixture(scope="module")
def verl_tokenizer(tmp_path_factory: pytest.TempPathFactory, verl: Any, torch: Any) -> Any:
    from support.tiny_models import build_tokenizer

    return build_tokenizer(tmp_path_factory.mktemp("verl-tokenizer"))


def test_verl_naive_and_batch_reward_managers(verl_tokenizer: Any):
    from verl.workers.reward_manager.batch import BatchRewardManager
    from verl.workers.reward_manager.naive import NaiveRewardManager

    data = _verl_batch(
        verl_tokenizer,
        prompts=["What is 1 + 1 ?", "What is 2 + 3 ?", "Capital of France ?"],
        responses=["\\boxed{2}", "\\boxed{6}", "Paris"],
        truths=["2", "5", "Paris"],
        sources=["openai/gsm8k", "math", "text"],
    )
    lengths = data.batch["attention_mask"][:, data.batch["prompts"].shape[-1]:].sum(-1).tolist()
    for manager in (
        NaiveRewardManager(verl_tokenizer, num_examine=0, compute_score=compute_score),
        BatchRewardManager(verl_tokenizer, num_examine=0, compute_score=compute_score_batch),
    ):
        out = manager(data, return_dict=True)
        tensor, info = out["reward_tensor"], out["reward_extra_info"]
        # the score lands on each response's last token, nowhere else
        assert [tensor[i, lengths[i] - 1].item() for i in range(3)] == [1.0, 0.0, 1.0]
        assert tensor.sum().item() == 2.0
        assert set(info) == set(RESULT_KEYS)
        assert list(info["status"]) == ["correct", "incorrect", "correct"]


def test_verl_reward_loop_manager_merges_concurrent_calls(verl_tokenizer: Any, monkeypatch: pytest.MonkeyPatch):
    """verl's default (reward loop) manager scores samples concurrently from a thread pool; the scorer merges
    those calls into batches, so the verifier sees fewer, larger batches than calls."""
    from omegaconf import OmegaConf
    from verl.experimental.reward_loop.reward_manager.naive import NaiveRewardManager

    batches: list[int] = []

    class Slow(Verifier):
        name = "slow-exact"

        def verify_batch(self, samples: list[Sample]) -> list[Verdict]:
            batches.append(len(samples))
            time.sleep(0.2)
            return [Verdict.from_bool(self.name, s.response.strip() == s.reference) for s in samples]

        def verify(self, sample: Sample) -> Verdict:
            return self.verify_batch([sample])[0]

    slow = Slow()
    count = 12
    data = _verl_batch(
        verl_tokenizer, prompts=["q"] * count, responses=[str(i % 3) for i in range(count)],
        truths=["0"] * count, sources=["numbers"] * count,
    )  # fmt: skip

    def score(**kwargs: Any) -> dict[str, Any]:
        return compute_score(**kwargs, verifier=slow, cache=None)

    async def run() -> list[dict[str, Any]]:
        manager = NaiveRewardManager(OmegaConf.create({}), verl_tokenizer, score)
        return await asyncio.gather(*(manager.run_single(data[i : i + 1]) for i in range(count)))

    results = asyncio.run(run())
    assert [r["reward_score"] for r in results] == [1.0 if i % 3 == 0 else 0.0 for i in range(count)]
    assert sum(batches) == count and len(batches) < count


# -- OpenRLHF -----------------------------------------------------------------------------------------------


CHAT_PROMPT = "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (CHAT_PROMPT + "It is \\boxed{4}<|im_end|><|endoftext|>", "It is \\boxed{4}"),
        (CHAT_PROMPT.replace("\n", " \n") + "\\boxed{5}</s>", " \n\\boxed{5}"),  # decoding changed the spacing
        ("garbled start" + CHAT_PROMPT[20:] + "A<eos>", "\nA"),  # found by the end of the prompt
        ("no prompt here \\boxed{1}", "no prompt here \\boxed{1}"),
        (CHAT_PROMPT + "\\boxed{7}<｜end▁of▁sentence｜>", "\\boxed{7}"),  # DeepSeek: full-width bars
        (CHAT_PROMPT + "\\boxed{7}<|eos|>", "\\boxed{7}"),  # any <|name|> special token
        (CHAT_PROMPT + "x <| not a token |>", "x <| not a token |>"),  # spaces: not a token's shape
        (CHAT_PROMPT + "a|b>", "a|b>"),
        (CHAT_PROMPT + "the set is <|1|>", "the set is <|1|>"),  # too short, no letter: content, not a token
        (CHAT_PROMPT + "ans: <|x|><|im_end|>", "ans: <|x|>"),
    ],
)
def test_openrlhf_response_from_query(query: str, expected: str):
    assert response_from_query(query, CHAT_PROMPT) == expected


def test_openrlhf_reward_func_loaded_by_path_with_environment_settings(monkeypatch: pytest.MonkeyPatch, torch: Any):
    monkeypatch.setenv("VERIFIERS_DOMAIN", "math")
    monkeypatch.setenv("VERIFIERS_OPTIONS", '{"error_reward": -1.0}')
    reward_func = load_by_path(openrlhf_module.__file__, "reward_func", "reward_func")
    result = reward_func(
        [CHAT_PROMPT + "\\boxed{4}<|im_end|>", CHAT_PROMPT + "\\boxed{3}<|im_end|>"], [CHAT_PROMPT] * 2, ["4", "4"]
    )
    assert isinstance(result["rewards"], torch.Tensor)  # what OpenRLHF (which always has torch) expects
    assert result["rewards"].tolist() == [1.0, 0.0] and result["scores"].tolist() == [1.0, 0.0]
    assert result["extra_logs"]["verifier_correct"].tolist() == [1.0, 0.0]
    assert result["extra_logs"]["verifier_failed"].tolist() == [0.0, 0.0]


def test_openrlhf_labels_failures_and_bad_settings(monkeypatch: pytest.MonkeyPatch):
    class Broken(Verifier):
        name = "broken"

        def verify(self, sample: Sample) -> Verdict:
            raise OSError("sandbox down")

    reward = make_reward_func(verifier=Broken(), error_reward=-1.0, cache=None, tensors=False)
    result = reward(["q a"], ["q"], ["x"])
    assert result["rewards"] == [-1.0] and result["extra_logs"]["verifier_failed"] == [1.0]
    with pytest.raises(TypeError, match="cannot be None"):
        make_reward_func("math", error_reward=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="2 queries, 1 prompts"):
        make_reward_func("math")(["a", "b"], ["p"], ["1", "2"])
    # a JSON-object label (a test suite) is decoded; other strings stay strings
    seen: list[Any] = []

    class Recorder(Verifier):
        name = "recorder"

        def verify(self, sample: Sample) -> Verdict:
            seen.append(sample.reference)
            return Verdict.correct(self.name)

    make_reward_func(verifier=Recorder(), cache=None)(["p1", "p2", "p3"], ["p", "p", "p"], ['{"tests": ["assert f()"]}', "[1, 2]", "4"])
    assert seen == [{"tests": ["assert f()"]}, "[1, 2]", "4"]
    monkeypatch.setattr(openrlhf_module, "_DEFAULT", None)
    monkeypatch.setenv("VERIFIERS_OPTIONS", "[1]")
    with pytest.raises(ValueError, match="VERIFIERS_OPTIONS must be a JSON object"):
        openrlhf_module.reward_func(["x"], ["p"], ["y"])
    monkeypatch.setattr(openrlhf_module, "_DEFAULT", None)


# -- the scorer ---------------------------------------------------------------------------------------------


def test_scorer_merges_concurrent_calls_and_keeps_each_callers_order():
    batches: list[list[str]] = []
    gate = threading.Event()

    class Echo(Verifier):
        name = "echo"
        batched = True

        def verify_batch(self, samples: list[Sample]) -> list[Verdict]:
            batches.append([s.response for s in samples])
            gate.wait(5)
            return [Verdict.correct(self.name, s.response) for s in samples]

        def verify(self, sample: Sample) -> Verdict:
            return self.verify_batch([sample])[0]

    scorer = Scorer(verifier=Echo(), cache=None)
    results: dict[int, list[str]] = {}

    def call(n: int) -> None:
        results[n] = [v.reason for v in scorer.verify([Sample(f"{n}.{k}") for k in range(3)])]

    first = threading.Thread(target=call, args=(0,))
    first.start()
    while not batches:
        time.sleep(0.01)
    others = [threading.Thread(target=call, args=(n,)) for n in range(1, 6)]
    for thread in others:
        thread.start()
    time.sleep(0.3)  # the five queue up behind the running batch
    gate.set()
    for thread in [first, *others]:
        thread.join(10)
    assert results == {n: [f"{n}.{k}" for k in range(3)] for n in range(6)}
    assert len(batches) == 2 and len(batches[1]) == 15  # the five waiting calls ran as one batch


def test_scorer_broken_executor_fails_every_waiting_call_and_recovers():
    scorer = Scorer(verifier="exact", cache=None)
    real = scorer.executor.run
    calls = {"n": 0}

    def flaky(samples: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("the cluster went away")
        return real(samples)

    scorer.executor.run = flaky  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        scorer.verify([Sample("a", "a")])
    assert scorer.verify([Sample("a", "a")])[0].status is Status.CORRECT


def test_integration_modules_import_only_absolute_names():
    """verl and OpenRLHF execute these files outside the package: a relative import would fail there."""
    for module in ("trl", "verl", "openrlhf", "scoring", "server"):
        source = (Path(verl_module.__file__).parent / f"{module}.py").read_text()
        assert "from ." not in source, module


def test_reward_functions_pickle_into_a_fresh_scorer_with_the_same_settings():
    """TRL's async GRPO trainer pickles reward functions into a spawned worker; a copy rebuilds its own scorer."""
    import copy
    import pickle

    reward = reward_function("math", timeout=3.0, undecided_reward=0.5)
    clone = pickle.loads(pickle.dumps(reward))
    assert clone.__name__ == "verifiers_math" and clone.scorer is not reward.scorer
    assert clone.scorer.settings == reward.scorer.settings
    assert clone(prompts=["p", "p"], completions=["\\boxed{2}", "\\boxed{3}"], solution=["2", "2"]) == [1.0, 0.0]
    copied = copy.deepcopy(make_reward_func("math", error_reward=-1.0))
    rewards = copied(["q \\boxed{4}"], ["q"], ["4"])["rewards"]
    assert [float(r) for r in rewards] == [1.0]  # a tensor, or a list without torch


def test_a_bug_after_the_executor_reaches_the_caller_and_the_scorer_goes_on(monkeypatch: pytest.MonkeyPatch):
    """Before: a batch thread died on an exception past the executor, and every later call waited forever."""
    import verifiers.integrations.scoring as scoring

    scorer = Scorer(verifier="exact", cache=None)
    real = scoring.regroup
    calls = {"n": 0}

    def broken_once(samples: Any, verdicts: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("regroup bug")
        return real(samples, verdicts)

    monkeypatch.setattr(scoring, "regroup", broken_once)
    with pytest.raises(RuntimeError, match="regroup bug"):
        scorer.submit([Sample("a", "a")]).result(timeout=10)
    assert scorer.submit([Sample("a", "a")]).result(timeout=10)[0].status is Status.CORRECT


def test_a_cancelled_async_call_is_dropped_quietly(caplog: pytest.LogCaptureFixture):
    class Slow(Verifier):
        name = "slow-for-cancel"

        def verify(self, sample: Sample) -> Verdict:
            time.sleep(0.3)
            return Verdict.correct(self.name, "ok")

    scorer = Scorer(verifier=Slow(), cache=None)

    async def run() -> None:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(scorer.verify_async([Sample("a")]), 0.05)

    with caplog.at_level(logging.ERROR):
        asyncio.run(run())
        time.sleep(0.5)  # the batch finishes after its caller gave up
    assert not [r for r in caplog.records if "callback" in r.getMessage()]
    assert scorer.verify([Sample("b")])[0].status is Status.CORRECT
