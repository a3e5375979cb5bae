"""verl: `compute_score_async` for verl's reward loop, `compute_score` and `compute_score_batch` for the others.

verl loads a reward function by file path and name, so point it at this file:

    reward.custom_reward_function.path=$(python -c "import verifiers.integrations.verl as m; print(m.__file__)")
    reward.custom_reward_function.name=compute_score_async    # see "Which function" below
    +reward.custom_reward_function.reward_kwargs.domain=math  # optional: settings, see below

(`pkg://verifiers.integrations.verl` works too.) This file is executed outside its package that way, so it
imports only absolute names.

Which function:
- `compute_score_async` — verl's reward loop (`verl.experimental.reward_loop`, which verl 0.9's PPO trainer
  always uses; its managers `naive`, `dapo`, `gdpo`, `limited`, `remote` await a coroutine function natively). It
  never blocks the loop's event loop: samples are queued to the scorer's own batch threads.
- `compute_score` — the same, synchronous: the legacy `naive` and `dapo` managers (`verl.workers.reward_manager`);
  the reward loop runs it in a thread pool, which works but holds a thread per waiting sample.
- `compute_score_batch` — the legacy `batch` manager (`reward_manager=batch`).
- The legacy `prime` manager is not supported: it sends every sample to a fresh process pool each step (a cold
  scorer per process, no warm sandbox or judge) and reads `float(result[0])`, which a result dict does not have —
  verl then zeroes the whole batch. Use `naive` (or the reward loop) with `compute_score_async`.

One scorer per process: every call with the same settings in one process shares one warm scorer (its sandboxes,
worker pool, judge model) and its batches. verl's reward loop runs `reward.num_workers` worker processes (8 by
default), each with its own scorer; as the scorer itself verifies concurrently (`workers`, sandboxes in parallel),
`reward.num_workers=1` to 2 keeps one warm copy — and one judge model — instead of eight.

Each sample's domain comes from its `data_source` (verl's own names are in `verifiers.datasets.VERL_SOURCES`, e.g.
"openai/gsm8k" -> math, "codecontests"/"apps"/"taco"/"codeforces" -> code; other names by keyword), else the
`domain` setting, else the routing hooks. `ground_truth` is the reference (a code test suite may be the JSON text
verl's code datasets carry, see `verifiers.code_formats`); `extra_info` goes into the sample's metadata (its
"question"/"prompt" becomes the prompt). verl's per-sample managers send one sample per call, so a group-dependent
reward (the code verifier's weighted mode) is computed for the sample alone (`verifiers.groups`); the `batch`
manager's call is one batch, whose groups are the samples with the same prompt and reference.

The result is a dict with the same keys for every sample — verl stacks them into `reward_extra_info` and logs
the numeric ones in validation (`val-aux/<data source>/<key>/mean`):

    score      the reward (float)
    acc        1.0 when the verdict is CORRECT, else 0.0
    failed     1.0 for ERROR/TIMEOUT (the verifier failed, not the model), else 0.0
    undecided  1.0 for UNDECIDED, else 0.0
    status, verifier, reason, pred    strings (pred: the extracted answer when the verifier reports one)
    aspect_<name>  for each name of the `aspects` setting: the verdict's aspect score (0.0 where the verdict has
               no such aspect; the failure score for a failed verdict) — per-component rewards for verl's GDPO
               (`algorithm.gdpo_reward_keys=[aspect_<name>, ...]`) and per-aspect logging.

verl needs a number, so UNDECIDED scores `undecided_score` and a failure `error_score` (both 0.0 by default).
verl logs `reward_extra_info` in validation, not in training steps; so that a failure is never only a 0 there,
the scorer also reports failures on the `verifiers.integrations` logger (a WARNING at most once a minute, with
counts and the first reason), which the worker's log carries to the driver.

Settings (`reward_kwargs`): `domain`, `verifier`, `policy`, `workers`, `timeout`, `cache`, `executor`,
`ray_address`, `undecided_score`, `error_score`, `aspects` (a list of aspect names), and `options` (a mapping of
verifier options, e.g. `+reward.custom_reward_function.reward_kwargs.options.rel_tol=0.01`). Arguments verl itself
adds (`reward_router_address`, `sandbox_fusion_url`, ...) are ignored. One warm scorer is kept per setting, and
verl's concurrent per-sample calls are merged into batches.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from verifiers.integrations.scoring import (
    RewardMap,
    Scorer,
    StatusLog,
    aspect_names,
    aspect_rewards,
    make_sample,
    plain,
    source_domain,
)
from verifiers.verdict import Status, Verdict

__all__ = ["RESULT_KEYS", "compute_score", "compute_score_async", "compute_score_batch", "score_dict"]

RESULT_KEYS = ("score", "acc", "failed", "undecided", "status", "verifier", "reason", "pred")
# keywords verl passes to reward functions on its own; they configure verl's built-in scorers, not ours
_VERL_KEYWORDS = frozenset(
    {"reward_router_address", "reward_model_tokenizer", "sandbox_fusion_url", "concurrent_semaphore",
     "memory_limit_mb", "tokenizer", "return_dict"}
)  # fmt: skip
_PRED_KEYS = ("pred", "extracted", "answer", "parsed_answer")
_REASON_CHARS = 300


class _Setup:
    """What one set of `reward_kwargs` makes: the warm scorer, the reward mapping, the exported aspects."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.rewards = RewardMap(
            undecided=float(settings.pop("undecided_score", 0.0)), error=float(settings.pop("error_score", 0.0))
        )
        self.aspects = aspect_names(settings.pop("aspects", None))
        self.scorer = Scorer(**settings)
        self.status_log = StatusLog("verifiers (verl)", self.rewards)

    def results(self, verdicts: list[Verdict]) -> list[dict[str, Any]]:
        self.status_log.record(verdicts)
        return [score_dict(v, self.rewards, self.aspects) for v in verdicts]


_SETUPS: dict[str, _Setup] = {}
_SETUPS_LOCK = threading.Lock()


def _setup(settings: Mapping[str, Any]) -> _Setup:
    settings = {k: plain(v) for k, v in settings.items() if k not in _VERL_KEYWORDS}
    key = json.dumps(settings, sort_keys=True, default=repr)
    with _SETUPS_LOCK:
        found = _SETUPS.get(key)
        if found is None:
            found = _SETUPS[key] = _Setup(settings)
        return found


def score_dict(verdict: Verdict, rewards: RewardMap, aspects: Sequence[str] = ()) -> dict[str, Any]:
    """The verl result for a verdict: `RESULT_KEYS`, always all of them, then `aspect_<name>` per aspect."""
    pred = next((verdict.evidence[k] for k in _PRED_KEYS if isinstance(verdict.evidence.get(k), str)), "")
    score = rewards(verdict)
    result = {
        "score": float(score if score is not None else 0.0),
        "acc": 1.0 if verdict.status is Status.CORRECT else 0.0,
        "failed": 1.0 if verdict.status.is_failure else 0.0,
        "undecided": 1.0 if verdict.status is Status.UNDECIDED else 0.0,
        "status": verdict.status.value,
        "verifier": verdict.verifier,
        "reason": verdict.reason[:_REASON_CHARS],
        "pred": pred[:_REASON_CHARS],
    }
    for aspect, value in zip(aspects, aspect_rewards(verdict, aspects, rewards)):
        result[f"aspect_{aspect}"] = value
    return result


def _item(data_source: Any, solution_str: Any, ground_truth: Any, extra_info: Any) -> Any:
    info = plain(extra_info) if isinstance(extra_info, Mapping) else {}
    prompt = next((info[k] for k in ("question", "prompt", "problem") if isinstance(info.get(k), str)), None)
    metadata = {k: v for k, v in info.items() if k not in ("question", "prompt", "problem")}
    if data_source is not None:
        metadata["data_source"] = plain(data_source)
    return make_sample(
        lambda: "" if solution_str is None else str(solution_str), ground_truth, prompt=prompt,
        domain=source_domain(data_source), metadata=metadata, sample_id=info.get("index"),
    )  # fmt: skip


def compute_score(
    data_source: Any, solution_str: Any, ground_truth: Any, extra_info: Any = None, **kwargs: Any
) -> dict[str, Any]:
    """verl's per-sample reward function: the `RESULT_KEYS` dict for one response."""
    setup = _setup(kwargs)
    return setup.results(setup.scorer.verify([_item(data_source, solution_str, ground_truth, extra_info)]))[0]


async def compute_score_async(
    data_source: Any, solution_str: Any, ground_truth: Any, extra_info: Any = None, **kwargs: Any
) -> dict[str, Any]:
    """`compute_score` as a coroutine for verl's reward loop: awaits the scorer without blocking the event loop."""
    setup = _setup(kwargs)
    item = _item(data_source, solution_str, ground_truth, extra_info)
    return setup.results(await setup.scorer.verify_async([item]))[0]


def compute_score_batch(
    data_sources: Sequence[Any],
    solution_strs: Sequence[Any],
    ground_truths: Sequence[Any],
    extra_infos: Sequence[Any] | None = None,
    **kwargs: Any,
) -> list[dict[str, Any]]:
    """verl's batch reward function (`reward_manager=batch`): a `RESULT_KEYS` dict per response, in order."""
    count = len(solution_strs)
    if (
        len(data_sources) != count
        or len(ground_truths) != count
        or (extra_infos is not None and len(extra_infos) != count)
    ):
        raise ValueError(
            f"compute_score_batch got {len(data_sources)} data_sources, {count} solution_strs, "
            f"{len(ground_truths)} ground_truths and {'no' if extra_infos is None else len(extra_infos)} extra_infos"
        )
    setup = _setup(kwargs)
    infos = extra_infos if extra_infos is not None else [None] * count
    items = [_item(*row) for row in zip(data_sources, solution_strs, ground_truths, infos)]
    return setup.results(setup.scorer.verify(items))
