"""verl's reward loop, for real: rows built as verl's code datasets carry them (PRIME / Eurus-2-RL-Data: the ground
truth is the JSON text of `{"inputs", "outputs", "fn_name"?}`), scored by `compute_score_async` loaded by file path
through verl's own loader, awaited by verl's own reward managers — in-process, and through `RewardLoopManager`
with its Ray worker actors. Code runs in the real bubblewrap sandbox."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from support import ray_local
from support.extras import install_hint
from test_code import bwrap_sandbox

import verifiers.integrations.verl as verl_module
from verifiers import Sample, Verdict
from verifiers.integrations.verl import RESULT_KEYS, compute_score, compute_score_async
from verifiers.verifier import Verifier

pytest.importorskip("verl", reason=install_hint("verl", "dev"))

import numpy as np
import torch
from omegaconf import OmegaConf
from verl import DataProto

SUM_RIGHT = "```python\na, b = map(int, input().split())\nprint(a + b)\n```"
SUM_NEAR_MISS = "```python\na, b = map(int, input().split())\nprint(a * b)\n```"  # right on "2 2" only
SUM_TESTS = {"inputs": ["1 2\n", "3 4\n", "2 2\n"], "outputs": ["3\n", "7\n", "4\n"]}
PAIR_TESTS = {"fn_name": "pair", "inputs": [[1, 2], [3, 4]], "outputs": [[[1, 2]], [[3, 4]]]}  # APPS wraps returns
PAIR_RIGHT = "```python\ndef pair(a, b):\n    return [a, b]\n```"
PAIR_FIRST = "```python\ndef pair(a, b):\n    return a\n```"  # what APPS's "x or x[0]" rule would accept
LINES_TESTS = {"inputs": [["2", "5 7"]], "outputs": [["12"]]}  # TACO: lines as lists
LINES_RIGHT = "```python\ninput()\nprint(sum(map(int, input().split())))\n```"


def eurus_row(data_source: str, ground_truth: Any, index: int) -> dict[str, Any]:
    """A row as PRIME's Eurus-2-RL-Data stores it (and verl's PRIME recipe reads it)."""
    truth = json.dumps(ground_truth) if isinstance(ground_truth, dict) else ground_truth
    return {
        "data_source": data_source,
        "prompt": [{"role": "user", "content": f"Solve problem {index}."}],
        "ability": "code" if data_source != "openai/gsm8k" else "math",
        "reward_model": {"style": "rule", "ground_truth": truth},
        "extra_info": {"split": "train", "index": index},
    }  # fmt: skip


CASES = [  # (data_source, ground truth, response, expected score)
    ("codecontests", SUM_TESTS, SUM_RIGHT, 1.0),
    ("codecontests", SUM_TESTS, SUM_NEAR_MISS, 1 / 3),
    ("apps", PAIR_TESTS, PAIR_RIGHT, 1.0),
    ("apps", PAIR_TESTS, PAIR_FIRST, 0.0),
    ("taco", LINES_TESTS, LINES_RIGHT, 1.0),
    ("taco", SUM_TESTS, SUM_NEAR_MISS, 1 / 3),
    ("codeforces", SUM_TESTS, SUM_RIGHT, 1.0),
    ("openai/gsm8k", "72", "so the answer is \\boxed{72}", 1.0),
    ("openai/gsm8k", "72", "so the answer is \\boxed{73}", 0.0),
]


@pytest.fixture(scope="module", autouse=True)
def sandbox() -> Any:
    return bwrap_sandbox()


@pytest.mark.parametrize(("source", "truth", "response", "expected"), CASES)
def test_code_datasets_score_on_rows_as_verl_builds_them(source: str, truth: Any, response: str, expected: float):
    row = eurus_row(source, truth, 0)
    result = compute_score(row["data_source"], response, row["reward_model"]["ground_truth"], row["extra_info"])
    assert result["score"] == pytest.approx(expected), result["reason"]
    assert result["failed"] == 0.0


def test_a_broken_code_row_is_a_visible_failure_not_a_zero_that_looks_like_a_wrong_answer():
    result = compute_score("codecontests", SUM_RIGHT, json.dumps({"inputs": ["1"], "outputs": []}))
    assert result["status"] == "error" and result["failed"] == 1.0
    assert "1 inputs but 0 outputs" in result["reason"]


class _Slow(Verifier):
    name = "slow-exact"

    def verify(self, sample: Sample) -> Verdict:
        time.sleep(0.4)
        return Verdict.from_bool(self.name, sample.response.strip() == sample.reference)


def test_the_async_entry_point_never_blocks_the_event_loop():
    slow = _Slow()

    async def run() -> tuple[list[dict[str, Any]], int]:
        ticks = 0
        done = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        results = await asyncio.gather(
            *(compute_score_async("numbers", str(i % 2), "0", verifier=slow, cache=None) for i in range(4))
        )
        done.set()
        await task
        return list(results), ticks

    results, ticks = asyncio.run(run())
    assert [r["score"] for r in results] == [1.0, 0.0, 1.0, 0.0]
    assert ticks >= 20  # the loop kept running through at least 0.4 s of verification


# -- verl's own reward loop ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from support.tiny_models import build_tokenizer

    directory = tmp_path_factory.mktemp("verl-reward-loop-tokenizer")
    build_tokenizer(directory)
    return directory


def loop_config(tokenizer_dir: Path, manager: str = "naive", **reward_kwargs: Any) -> Any:
    """The parts of verl's trainer config the reward loop reads (the rest of the trainer is not involved)."""
    return OmegaConf.create({
        "actor_rollout_ref": {"model": {"path": str(tokenizer_dir), "tokenizer_path": None}},
        "trainer": {"experiment_name": "verifiers-e2e"},
        "reward": {
            "num_workers": 1,
            "reward_model": {"enable": False, "enable_resource_pool": False},
            "reward_manager": {"source": "register", "name": manager, "module": None},
            "custom_reward_function": {"path": verl_module.__file__, "name": "compute_score_async",
                                       "reward_kwargs": reward_kwargs},
            "sandbox_fusion": None,
        },
    })  # fmt: skip


def verl_rows(tokenizer_dir: Path) -> DataProto:
    """A `DataProto` as the rollout hands it to the reward loop: left-padded prompts, right-padded responses."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    rows = [eurus_row(source, truth, i) for i, (source, truth, _, _) in enumerate(CASES)]
    prompt_ids = [tokenizer.encode(row["prompt"][0]["content"]) for row in rows]
    response_ids = [tokenizer.encode(response) + [tokenizer.eos_token_id] for _, _, response, _ in CASES]
    p_len, r_len = max(map(len, prompt_ids)), max(map(len, response_ids))
    pad = tokenizer.pad_token_id
    prompts = torch.tensor([[pad] * (p_len - len(ids)) + ids for ids in prompt_ids])
    responses = torch.tensor([ids + [pad] * (r_len - len(ids)) for ids in response_ids])
    mask = torch.tensor([[0] * (p_len - len(p)) + [1] * (len(p) + len(r)) + [0] * (r_len - len(r))
                         for p, r in zip(prompt_ids, response_ids)])  # fmt: skip
    return DataProto.from_dict(
        tensors={"prompts": prompts, "responses": responses, "attention_mask": mask,
                 "input_ids": torch.cat([prompts, responses], dim=1)},
        non_tensors={key: np.array([row[key] for row in rows], dtype=object)
                     for key in ("data_source", "reward_model", "extra_info")},
    )  # fmt: skip


def test_verl_loads_the_async_entry_point_as_a_coroutine_function(tokenizer_dir: Path):
    from verl.trainer.ppo.reward import get_custom_reward_fn

    from verifiers.integrations.scoring import Scorer  # noqa: F401  (the file verl loads imports it by absolute name)

    loaded = get_custom_reward_fn(loop_config(tokenizer_dir))
    import inspect

    assert inspect.iscoroutinefunction(loaded)  # verl's managers test exactly this, then await it


@pytest.mark.parametrize("manager", ["naive", "dapo"])
def test_the_reward_loop_worker_scores_a_mixed_batch(tokenizer_dir: Path, manager: str):
    from verl.experimental.reward_loop.reward_loop import RewardLoopWorker

    config = loop_config(tokenizer_dir, manager)
    if manager == "dapo":  # DAPO's overlong penalty settings, switched off
        config.reward.reward_kwargs = {"max_resp_len": 4096, "overlong_buffer_cfg": None}
    worker = RewardLoopWorker(config)
    outputs = worker.loop.run_until_complete(worker.compute_score_batch(verl_rows(tokenizer_dir)))
    scores = [out["reward_score"] for out in outputs]
    assert scores == pytest.approx([expected for *_, expected in CASES])
    for out in outputs:
        assert set(RESULT_KEYS) <= set(out["reward_extra_info"])
        assert out["reward_extra_info"]["failed"] == 0.0


@pytest.fixture(scope="module")
def local_ray() -> Any:
    pytest.importorskip("ray")
    with ray_local.local_ray() as ray:
        yield ray


def test_the_reward_loop_manager_with_its_ray_workers(tokenizer_dir: Path, local_ray: Any):
    """verl's `RewardLoopManager`: Ray worker actors load the file by path, score their chunk, and the manager
    assembles token-level scores and `reward_extra_info` for the trainer."""
    from verl.experimental.reward_loop.reward_loop import RewardLoopManager

    config = loop_config(tokenizer_dir, aspects=["overlong"])
    config.reward.num_workers = 2
    data = verl_rows(tokenizer_dir)
    out = RewardLoopManager(config).compute_rm_score(data)
    rm_scores = out.batch["rm_scores"]
    assert rm_scores.sum(dim=-1).tolist() == pytest.approx([expected for *_, expected in CASES])
    extra = out.meta_info["reward_extra_keys"]
    assert set(RESULT_KEYS) | {"aspect_overlong"} <= set(extra)
    assert list(out.non_tensor_batch["status"]) == [
        "correct", "partial", "correct", "incorrect", "correct", "partial", "correct", "correct", "incorrect"
    ]  # fmt: skip


# -- what verl shows of a verdict -------------------------------------------------------------------------------------


def test_aspects_become_reward_extra_info_keys_for_gdpo_and_logging():
    settings = {"verifier": "length", "options": {"max_length": 10, "buffer": 5, "min_length": 4}}
    short = compute_score("text", "abc", None, aspects=["overlong", "too_short", "absent"], **settings)
    long = compute_score("text", "x" * 8, None, aspects=["overlong", "too_short", "absent"], **settings)
    assert (short["aspect_overlong"], short["aspect_too_short"], short["aspect_absent"]) == (1.0, 0.75, 0.0)
    assert long["aspect_overlong"] == pytest.approx(0.4) and long["aspect_too_short"] == 1.0
    assert list(short)[: len(RESULT_KEYS)] == list(RESULT_KEYS)
    failed = compute_score("codecontests", SUM_RIGHT, "{not json", aspects=["overlong"], error_score=-1.0)
    assert failed["failed"] == 1.0 and failed["aspect_overlong"] == -1.0  # a failure is never a good aspect score
    with pytest.raises(ValueError, match="aspects must be a list"):
        compute_score("text", "abc", None, aspects="overlong")


def test_failures_during_training_are_reported_on_the_log(caplog: pytest.LogCaptureFixture):
    """verl logs reward_extra_info in validation only: a failing verifier must show up in the training log."""
    with caplog.at_level("WARNING", logger="verifiers.integrations"):
        result = compute_score("codecontests", SUM_RIGHT, json.dumps({"inputs": ["1"]}), error_score=0.0, timeout=9.0)
    assert result["failed"] == 1.0
    warning = next(r for r in caplog.records if r.name == "verifiers.integrations")
    assert "1 of 1 samples" in warning.getMessage() and "ERROR/TIMEOUT (rewarded 0.0)" in warning.getMessage()
    assert "inputs" in warning.getMessage()  # the first failure's reason


def test_verls_question_answering_ground_truth_is_read_and_other_mappings_are_not_texts():
    assert compute_score("searchR1_nq", "<answer>Paris</answer>", {"target": ["Paris", "City of Paris"]})["acc"] == 1.0
    assert compute_score("searchR1_nq", "<answer>Lyon</answer>", {"target": ["Paris"]})["acc"] == 0.0
    mapping = {"answer": "Paris"}
    forged = compute_score("text", str(mapping), mapping)  # the mapping's own text used to match it
    assert forged["acc"] == 0.0 and forged["status"] == "error"
