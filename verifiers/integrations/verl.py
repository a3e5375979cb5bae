"""verl: `compute_score` for `reward.custom_reward_function` (and `compute_score_batch` for the batch manager).

verl loads a reward function by file path and name, so point it at this file:

    reward.custom_reward_function.path=$(python -c "import verifiers.integrations.verl as m; print(m.__file__)")
    reward.custom_reward_function.name=compute_score          # or compute_score_batch with reward_manager=batch
    +reward.custom_reward_function.reward_kwargs.domain=math  # optional: settings, see below

(`pkg://verifiers.integrations.verl` works too.) This file is executed outside its package that way, so it
imports only absolute names.

Each sample's domain comes from its `data_source` (a domain name, or a dataset name such as "openai/gsm8k" or
"codecontests" matched by keyword), else the `domain` setting, else the routing hooks. `ground_truth` is the
reference; `extra_info` goes into the sample's metadata (its "question"/"prompt" becomes the prompt).

The result is a dict with the same keys for every sample — verl stacks them into `reward_extra_info` and logs
the numeric ones:

    score      the reward (float)
    acc        1.0 when the verdict is CORRECT, else 0.0
    failed     1.0 for ERROR/TIMEOUT (the verifier failed, not the model), else 0.0
    undecided  1.0 for UNDECIDED, else 0.0
    status, verifier, reason, pred    strings (pred: the extracted answer when the verifier reports one)

verl needs a number, so UNDECIDED scores `undecided_score` and a failure `error_score` (both 0.0 by default) —
never silently: `failed`/`undecided` show up in verl's metrics beside `acc`.

Settings (`reward_kwargs`): `domain`, `verifier`, `policy`, `workers`, `timeout`, `cache`, `executor`,
`ray_address`, `undecided_score`, `error_score`, and `options` (a mapping of verifier options, e.g.
`+reward.custom_reward_function.reward_kwargs.options.rel_tol=0.01`). Arguments verl itself adds
(`reward_router_address`, `sandbox_fusion_url`, ...) are ignored. One warm scorer is kept per setting, and
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
    make_sample,
    plain,
    source_domain,
)
from verifiers.verdict import Status, Verdict

__all__ = ["RESULT_KEYS", "compute_score", "compute_score_batch", "score_dict"]

RESULT_KEYS = ("score", "acc", "failed", "undecided", "status", "verifier", "reason", "pred")
# keywords verl passes to reward functions on its own; they configure verl's built-in scorers, not ours
_VERL_KEYWORDS = frozenset(
    {"reward_router_address", "reward_model_tokenizer", "sandbox_fusion_url", "concurrent_semaphore",
     "memory_limit_mb", "tokenizer", "return_dict"}
)  # fmt: skip
_PRED_KEYS = ("pred", "extracted", "answer", "parsed_answer")
_REASON_CHARS = 300

_SCORERS: dict[str, tuple[Scorer, RewardMap]] = {}
_SCORERS_LOCK = threading.Lock()


def _scorer(settings: Mapping[str, Any]) -> tuple[Scorer, RewardMap]:
    settings = {k: plain(v) for k, v in settings.items() if k not in _VERL_KEYWORDS}
    key = json.dumps(settings, sort_keys=True, default=repr)
    with _SCORERS_LOCK:
        found = _SCORERS.get(key)
        if found is None:
            rewards = RewardMap(
                undecided=float(settings.pop("undecided_score", 0.0)), error=float(settings.pop("error_score", 0.0))
            )
            found = _SCORERS[key] = (Scorer(**settings), rewards)
        return found


def score_dict(verdict: Verdict, rewards: RewardMap) -> dict[str, Any]:
    """The verl result for a verdict: `RESULT_KEYS`, always all of them."""
    pred = next((verdict.evidence[k] for k in _PRED_KEYS if isinstance(verdict.evidence.get(k), str)), "")
    score = rewards(verdict)
    return {
        "score": float(score if score is not None else 0.0),
        "acc": 1.0 if verdict.status is Status.CORRECT else 0.0,
        "failed": 1.0 if verdict.status.is_failure else 0.0,
        "undecided": 1.0 if verdict.status is Status.UNDECIDED else 0.0,
        "status": verdict.status.value,
        "verifier": verdict.verifier,
        "reason": verdict.reason[:_REASON_CHARS],
        "pred": pred[:_REASON_CHARS],
    }


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
    scorer, rewards = _scorer(kwargs)
    return score_dict(scorer.verify([_item(data_source, solution_str, ground_truth, extra_info)])[0], rewards)


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
    scorer, rewards = _scorer(kwargs)
    infos = extra_infos if extra_infos is not None else [None] * count
    items = [_item(*row) for row in zip(data_sources, solution_strs, ground_truths, infos)]
    return [score_dict(v, rewards) for v in scorer.verify(items)]
