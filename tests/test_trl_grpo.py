"""TRL's `GRPOTrainer` end to end on the CPU, trained by `verifiers.integrations.trl` rewards.

The policy is a tiny local bigram machine (`support.tiny_models`) that answers any chat prompt with `\\boxed{5}`
or `\\boxed{6}`, each with probability 1/2: the two digits have identical weights, so nothing in the model
prefers either. Only the reward can break that symmetry, so a few GRPO steps must move the logit of the digit the
references name above the other one; with the references flipped, the model must move the other way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.extras import install_hint

pytest.importorskip("trl", reason=install_hint("trl", "dev"))

import huggingface_hub.constants
import torch
from datasets import Dataset
from support.tiny_models import build_model
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)
from trl import GRPOConfig, GRPOTrainer

from verifiers import Status, Verdict
from verifiers.integrations.trl import (
    RewardFunction,
    async_reward_function,
    reward_function,
    reward_functions,
)
from verifiers.judge.backend import ENV_BASE_URL, ENV_MODEL, ENV_SERVER_MODEL

pytestmark = pytest.mark.slow

NAME = "verifiers_math"  # what TRL logs the reward under: the function's __name__
GENERATIONS = 4
BATCH = 2 * GENERATIONS  # completions per step: two prompts, each answered GENERATIONS times
STEPS = 4  # 2 prompts a step: one epoch over the 8 rows, so every row (the undecided one too) is trained on
ANSWERS = ("\\boxed{5}", "\\boxed{6}")
JUDGE_ONLY = "the number after four"  # a reference no rule can read: UNDECIDED without a judge, a None reward

# (question, reference): every reference but the last names 5, written the ways a dataset might write it
FIVES = [
    ("What is 2+3?", "5"),
    ("What is 1+4?", "5.0"),
    ("What is 10/2?", "\\frac{10}{2}"),
    ("What is 9-4?", "$5$"),
    ("What is 0+5?", "\\boxed{5}"),
    ("What is 15/3?", "5"),
    ("What is 7-2?", "5"),
    ("Which number comes after four?", JUDGE_ONLY),
]
SIXES = [
    ("What is 2+4?", "6"),
    ("What is 1+5?", "6.0"),
    ("What is 12/2?", "\\frac{12}{2}"),
    ("What is 9-3?", "$6$"),
    ("What is 0+6?", "\\boxed{6}"),
    ("What is 18/3?", "6"),
    ("What is 8-2?", "6"),
    ("Which number comes after five?", "the number after five"),
]


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No hub, no judge: the math rules alone decide, and UNDECIDED stays undecided."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # read at import, maybe before us
    for name in (ENV_MODEL, ENV_BASE_URL, ENV_SERVER_MODEL, "VERIFIERS_JUDGE_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def coin_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bigram machine writing `\\boxed{5}` after a chat prompt, with "6" made a twin of "5" (same embedding,
    same output row): after `\\boxed{` it draws 5 or 6 with equal probability, then closes the brace."""
    directory = build_model(tmp_path_factory.mktemp("grpo") / "coin", reply=ANSWERS[0])
    tokenizer = AutoTokenizer.from_pretrained(directory, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(directory, local_files_only=True)
    five, six = tokenizer.convert_tokens_to_ids(["5", "6"])
    with torch.no_grad():
        for weights in (model.get_input_embeddings().weight, model.get_output_embeddings().weight):
            weights[six] = weights[five]
    model.save_pretrained(directory, safe_serialization=True)
    return directory


@dataclass
class Call:
    prompts: list[Any]
    completions: list[Any]
    columns: dict[str, Any]
    rewards: list[float | None]
    verdicts: list[Verdict]


class Recorder:
    """Calls `reward` exactly as TRL called it and records each call; keeps its `__name__` (TRL's metric name)."""

    def __init__(self, reward: RewardFunction) -> None:
        self.reward = reward
        self.__name__ = reward.__name__
        self.calls: list[Call] = []

    def __call__(self, prompts: list[Any], completions: list[Any], **columns: Any) -> list[float | None]:
        rewards = self.reward(prompts=prompts, completions=completions, **columns)
        self.calls.append(Call(list(prompts), list(completions), columns, list(rewards), list(self.reward.last_verdicts)))
        return rewards


def question(text: str) -> str:
    return f"{text} Put the answer in \\boxed{{}}."


def chat(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": question(text)}]


def train(model_dir: Path, output_dir: Path, reward: Any, dataset: Dataset, *, learns: bool = True) -> GRPOTrainer:
    """Run GRPO for STEPS steps on a fresh copy of the model in `model_dir` (`reward`: one reward function or a
    list); check that it stepped, and (`learns`) that the weights moved."""
    model = AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    head = model.get_output_embeddings().weight.detach().clone()
    config = GRPOConfig(
        output_dir=str(output_dir), use_cpu=True, bf16=False, report_to="none", seed=0, data_seed=0,
        per_device_train_batch_size=BATCH, num_generations=GENERATIONS, max_completion_length=12, max_steps=STEPS,
        learning_rate=3e-3, logging_steps=1, save_strategy="no", dataloader_num_workers=0, disable_tqdm=True,
    )  # fmt: skip
    trainer = GRPOTrainer(
        model=model, reward_funcs=reward if isinstance(reward, list) else [reward], args=config,
        train_dataset=dataset, processing_class=tokenizer,
    )
    result = trainer.train()
    assert math.isfinite(result.training_loss)
    assert trainer.state.global_step == STEPS
    if learns:
        assert not torch.equal(trainer.model.get_output_embeddings().weight.detach().cpu(), head)
    return trainer


def step_logs(trainer: GRPOTrainer) -> list[dict[str, float]]:
    logs = [entry for entry in trainer.state.log_history if f"rewards/{NAME}/mean" in entry]
    assert [entry["step"] for entry in logs] == list(range(1, STEPS + 1))
    return logs


@torch.no_grad()
def five_over_six(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> float:
    """logit("5") - logit("6") where the model picks the digit: after a chat prompt and `\\boxed{`."""
    prompt = tokenizer.apply_chat_template(chat("What is 2+3?"), tokenize=False, add_generation_prompt=True)
    ids = tokenizer(prompt + "\\boxed{", return_tensors="pt", add_special_tokens=False).input_ids
    logits = model.eval()(input_ids=ids.to(model.device)).logits[0, -1]
    five, six = tokenizer.convert_tokens_to_ids(["5", "6"])
    return float(logits[five] - logits[six])


def test_coin_model_is_symmetric(coin_model: Path) -> None:
    model = AutoModelForCausalLM.from_pretrained(coin_model, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(coin_model, local_files_only=True)
    assert five_over_six(model, tokenizer) == 0.0


def test_plain_text_grpo_is_driven_by_the_verdicts(coin_model: Path, tmp_path: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(coin_model, local_files_only=True)
    prompts = {
        tokenizer.apply_chat_template(chat(text), tokenize=False, add_generation_prompt=True): reference
        for text, reference in FIVES
    }  # plain text: the chat already rendered, ending with the generation prompt
    dataset = Dataset.from_dict({"prompt": list(prompts), "solution": list(prompts.values())})
    reward = reward_function("math")
    recorder = Recorder(reward)
    trainer = train(coin_model, tmp_path / "run", recorder, dataset)

    assert len(recorder.calls) == STEPS  # one generation batch per step
    statuses: set[Status] = set()
    for call, logged in zip(recorder.calls, step_logs(trainer), strict=True):
        assert {"solution", "completion_ids", "trainer_state", "log_metric", "log_extra"} <= set(call.columns)
        assert len(call.prompts) == len(call.completions) == len(call.rewards) == len(call.verdicts) == BATCH
        assert call.columns["solution"] == [prompts[prompt] for prompt in call.prompts]
        assert set(call.completions) <= set(ANSWERS), call.completions
        expected = [
            None if reference == JUDGE_ONLY else float(completion == ANSWERS[0])
            for completion, reference in zip(call.completions, call.columns["solution"], strict=True)
        ]
        assert call.rewards == expected
        statuses |= {verdict.status for verdict in call.verdicts}

        decided = [r for r in call.rewards if r is not None]
        assert logged[f"rewards/{NAME}/mean"] == pytest.approx(sum(decided) / len(decided))
        shares = {status: logged[f"{NAME}/{status.value}"] for status in Status}
        assert shares == {s: pytest.approx(sum(v.status is s for v in call.verdicts) / BATCH) for s in Status}
        assert sum(shares.values()) == pytest.approx(1.0)

    assert statuses == {Status.CORRECT, Status.INCORRECT, Status.UNDECIDED}
    assert reward.last_verdicts == recorder.calls[-1].verdicts
    assert five_over_six(trainer.model, tokenizer) > 0.1  # rewarded toward the references' 5


def test_conversational_async_grpo_follows_the_references(coin_model: Path, tmp_path: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(coin_model, local_files_only=True)
    dataset = Dataset.from_dict({
        "prompt": [chat(text) for text, _ in SIXES], "solution": [reference for _, reference in SIXES],
    })  # fmt: skip
    reward = async_reward_function("math")
    assert reward.__name__ == NAME
    trainer = train(coin_model, tmp_path / "run", reward, dataset)  # TRL itself awaits it

    correct = incorrect = undecided = 0.0
    logs = step_logs(trainer)
    for logged in logs:
        shares = {status: logged[f"{NAME}/{status.value}"] for status in Status}
        assert sum(shares.values()) == pytest.approx(1.0)
        # no ERROR: every conversational completion was read as the assistant's text
        assert shares[Status.ERROR] == shares[Status.TIMEOUT] == shares[Status.PARTIAL] == 0.0
        # TRL's mean leaves out the None rewards of undecided samples; correct scores 1 and incorrect 0
        decided = shares[Status.CORRECT] + shares[Status.INCORRECT]
        assert logged[f"rewards/{NAME}/mean"] == pytest.approx(shares[Status.CORRECT] / decided)
        correct += shares[Status.CORRECT]
        incorrect += shares[Status.INCORRECT]
        undecided += shares[Status.UNDECIDED]
    assert correct > 0 and incorrect > 0 and undecided > 0

    last = reward.last_verdicts  # the last step's verdicts, which its logged shares describe
    assert len(last) == BATCH
    assert {s: logs[-1][f"{NAME}/{s.value}"] for s in Status} == {
        s: pytest.approx(sum(v.status is s for v in last) / BATCH) for s in Status
    }
    assert five_over_six(trainer.model, tokenizer) < -0.1  # rewarded toward the references' 6


def test_vector_rewards_one_function_per_aspect_from_one_verification(coin_model: Path, tmp_path: Path) -> None:
    """`reward_functions` gives TRL the score and one reward per verdict aspect; TRL logs each under its name and
    the batch is verified once for all of them."""
    dataset = Dataset.from_dict({"prompt": [chat(text) for text, _ in FIVES], "solution": ["5"] * len(FIVES)})
    functions = reward_functions(
        verifier="length", aspects=["overlong"], name="length", options={"max_length": 10, "buffer": 4}
    )
    assert [f.__name__ for f in functions] == ["length", "length_overlong"]
    trainer = train(coin_model, tmp_path / "run", functions, dataset, learns=False)  # both answers are as long
    logs = [entry for entry in trainer.state.log_history if "rewards/length/mean" in entry]
    assert len(logs) == STEPS
    for logged in logs:
        # "\\boxed{5}" is 9 characters, 3 past max_length - buffer: (10 - 9) / 4, the score and its one factor
        assert logged["rewards/length/mean"] == logged["rewards/length_overlong/mean"] == pytest.approx(0.25)
        assert "length_overlong/correct" not in logged  # statuses are logged once, by the score function
    score, overlong = functions
    assert overlong.last_verdicts is score.last_verdicts  # one verification served both functions
