"""TRL: reward functions for `GRPOTrainer(reward_funcs=...)` (and every trainer using TRL's reward signature).

    from verifiers.integrations.trl import reward_function
    trainer = GRPOTrainer(model=..., reward_funcs=[reward_function(domain="math")], train_dataset=dataset, ...)

TRL calls `f(prompts=..., completions=..., completion_ids=..., **columns)` where `columns` holds the dataset's
other columns, one value per completion. The reference comes from the first of `solution`, `answer`,
`ground_truth`, `reference`, `tests`, `test_cases`, `label` that the dataset has (or `reference_column=`), a
`domain` or `data_source` column routes samples per row. Completions may be plain text or conversational
(`[{"role": "assistant", "content": ...}]`). The result is one `float | None` per completion: the verdict's score,
None for UNDECIDED, ERROR and TIMEOUT (TRL leaves those out of the advantage) unless `undecided_reward=` or
`error_reward=` give a number. Through TRL's `log_metric`/`log_extra` the function also logs the share of each
status and a status column in the completions table.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from typing import Any

from verifiers.integrations.scoring import (
    RewardMap,
    Scorer,
    make_sample,
    response_text,
    source_domain,
)
from verifiers.verdict import Status, Verdict

__all__ = ["REFERENCE_COLUMNS", "AsyncRewardFunction", "RewardFunction", "async_reward_function", "reward_function"]

REFERENCE_COLUMNS = ("solution", "answer", "ground_truth", "reference", "tests", "test_cases", "label")
# what TRL passes besides dataset columns; never a reference, a domain or metadata
_TRAINER_KEYWORDS = frozenset({"completion_ids", "trainer_state", "log_extra", "log_metric", "environments"})


class RewardFunction:
    """A TRL reward function backed by a `Scorer` (see `reward_function`)."""

    def __init__(
        self,
        *,
        domain: str | None = None,
        verifier: Any = None,
        reference_column: str | None = None,
        undecided_reward: float | None = None,
        error_reward: float | None = None,
        name: str | None = None,
        log_statuses: bool = True,
        **settings: Any,
    ) -> None:
        self.rewards = RewardMap(undecided=undecided_reward, error=error_reward)
        self.scorer = Scorer(verifier=verifier, domain=domain, **settings)
        self.reference_column = reference_column
        self.log_statuses = log_statuses
        label = name or (verifier if isinstance(verifier, str) else None) or domain or "auto"
        self.__name__ = name or "verifiers_" + re.sub(r"\W+", "_", str(label)).strip("_")
        self.__qualname__ = self.__name__
        self.last_verdicts: list[Verdict] = []  # the verdicts behind the last call's rewards, for inspection

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.__name__}>"

    def _reference_column(self, columns: Mapping[str, Any]) -> str | None:
        if self.reference_column is not None:
            if self.reference_column not in columns:
                present = ", ".join(sorted(k for k in columns if k not in _TRAINER_KEYWORDS)) or "(none)"
                raise KeyError(f"reference column {self.reference_column!r} is not in the batch; columns: {present}")
            return self.reference_column
        return next((c for c in REFERENCE_COLUMNS if c in columns), None)

    def verdicts(self, prompts: Sequence[Any] | None, completions: Sequence[Any], **columns: Any) -> list[Verdict]:
        """The verdict per completion (what the rewards are made from)."""
        count = len(completions)
        reference_column = self._reference_column(columns)
        references = columns.get(reference_column) if reference_column else None
        domains = columns.get("domain")
        sources = columns.get("data_source")
        items = []
        for i, completion in enumerate(completions):
            domain = domains[i] if domains is not None else None
            if not domain and sources is not None:
                domain = source_domain(sources[i])
            items.append(
                make_sample(
                    lambda c=completion: response_text(c),  # type: ignore[misc]
                    references[i] if references is not None else None,
                    prompt=prompts[i] if prompts is not None and i < len(prompts) else None,
                    domain=str(domain) if domain else None,
                )
            )
        verdicts = self.scorer.verify(items)
        if len(verdicts) != count:  # cannot happen; a wrong count would silently misalign rewards
            raise RuntimeError(f"{len(verdicts)} verdicts for {count} completions")
        return verdicts

    def _log(self, verdicts: list[Verdict], columns: Mapping[str, Any]) -> None:
        if not self.log_statuses or not verdicts:
            return
        log_metric, log_extra = columns.get("log_metric"), columns.get("log_extra")
        if callable(log_metric):
            for status in Status:
                share = sum(v.status is status for v in verdicts) / len(verdicts)
                log_metric(f"{self.__name__}/{status.value}", share)
        if callable(log_extra):
            log_extra(f"{self.__name__}_status", [v.status.value for v in verdicts])

    def __call__(
        self, prompts: Sequence[Any] | None = None, completions: Sequence[Any] | None = None, **columns: Any
    ) -> list[float | None]:
        if completions is None:
            raise TypeError(f"{self.__name__} needs completions= (TRL's reward function signature)")
        verdicts = self.verdicts(prompts, completions, **columns)
        self.last_verdicts = verdicts
        self._log(verdicts, columns)
        return [self.rewards(v) for v in verdicts]


class AsyncRewardFunction(RewardFunction):
    """The same reward function as a coroutine: TRL runs async reward functions concurrently with each other
    (e.g. a code sandbox and a model judge); the verification itself runs in a worker thread."""

    async def __call__(  # type: ignore[override]
        self, prompts: Sequence[Any] | None = None, completions: Sequence[Any] | None = None, **columns: Any
    ) -> list[float | None]:
        return await asyncio.to_thread(super().__call__, prompts, completions, **columns)


def reward_function(domain: str | None = None, **settings: Any) -> RewardFunction:
    """A TRL reward function verifying completions with `domain`'s cascade (or `verifier=`, or per-row routing).

    Settings (see `RewardFunction`): `verifier`, `reference_column`, `undecided_reward`, `error_reward`, `name`
    (`__name__`, TRL's metric name; default "verifiers_<domain or verifier>"), `log_statuses`, `policy`,
    `workers`, `timeout`, `cache` (default: an in-memory verdict cache), `executor` ("local" or "ray"),
    `ray_address`, and any verifier option. Unknown verifier names and options raise here, when the trainer is
    built, not in the middle of training.
    """
    return RewardFunction(domain=domain, **settings)


def async_reward_function(domain: str | None = None, **settings: Any) -> AsyncRewardFunction:
    """`reward_function` as an async callable (TRL awaits async reward functions concurrently)."""
    return AsyncRewardFunction(domain=domain, **settings)
