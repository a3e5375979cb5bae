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
status and a status column in the completions table; where TRL passes neither (its async GRPO trainer), failures
are reported on the `verifiers.integrations` logger instead (`StatusLog`).

TRL versions: None as "no reward" needs TRL >= 1.6 (`MIN_TRL_FOR_NONE`): earlier releases sum a completion's
rewards with `nansum`, so a completion whose every reward is None trained as 0. With an older TRL installed,
building a function that can return None raises; give `undecided_reward=` and `error_reward=` numbers there.
`async_reward_function` is detected as async by every TRL release: TRL >= 1.16 asks `is_async_callable` (the
instance's `async __call__`), earlier ones `inspect.iscoroutinefunction` (or asyncio's), which this object also
satisfies (it carries its coroutine's code object, as compiled functions do); it stays picklable.

Vector rewards: `reward_functions(domain, aspects=[...])` gives the score function and one function per verdict
aspect (e.g. a length verifier's "overlong", a rubric judge's criteria), all sharing one scorer and one
verification per batch; TRL sums them with `reward_weights` and logs each under its own name.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import importlib.metadata
import inspect
import json
import re
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from typing import Any

from verifiers.errors import OptionError
from verifiers.integrations.scoring import (
    RewardMap,
    Scorer,
    StatusLog,
    make_sample,
    plain,
    response_text,
    source_domain,
)
from verifiers.verdict import Status, Verdict

__all__ = [
    "MIN_TRL_FOR_NONE",
    "REFERENCE_COLUMNS",
    "AsyncRewardFunction",
    "RewardFunction",
    "async_reward_function",
    "reward_function",
    "reward_functions",
]

REFERENCE_COLUMNS = ("solution", "answer", "ground_truth", "reference", "tests", "test_cases", "label")
# what TRL passes besides dataset columns; never a reference, a domain or metadata
_TRAINER_KEYWORDS = frozenset({"completion_ids", "trainer_state", "log_extra", "log_metric", "environments"})
MIN_TRL_FOR_NONE = (1, 6)
"""The first TRL release that leaves a completion whose every reward is None out of the advantage."""


def _installed_trl() -> tuple[int, ...] | None:
    try:
        version = importlib.metadata.version("trl")
    except importlib.metadata.PackageNotFoundError:
        return None
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def _check_none_semantics(rewards: RewardMap) -> None:
    """Refuse None rewards where the installed TRL would train them as 0."""
    if rewards.undecided is not None and rewards.error is not None:
        return
    installed = _installed_trl()
    if installed is not None and installed[:2] < MIN_TRL_FOR_NONE:
        raise OptionError(
            f"TRL {'.'.join(map(str, installed))} sums rewards with nansum, so a completion whose every reward is None "
            f"trains as 0: upgrade to trl>={'.'.join(map(str, MIN_TRL_FOR_NONE))}, or give undecided_reward= and "
            "error_reward= numbers"
        )


class _Batch:
    """The verdicts of the last batch, shared by the reward functions made together: TRL calls each of them with
    the same batch, and only the first verifies it (a call arriving while it does waits for its verdicts). Not
    copied into a pickle (a copy verifies anew)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.key: str | None = None
        self.verdicts: list[Verdict] = []
        self.pending: dict[str, Future[list[Verdict]]] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]


def _batch_key(prompts: Any, completions: Any, columns: Mapping[str, Any]) -> str | None:
    """A digest of a call's inputs, or None when they cannot be written down (then nothing is shared)."""
    data = plain([prompts, completions, {k: v for k, v in columns.items() if k not in _TRAINER_KEYWORDS}])
    try:
        text = json.dumps(data, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        return None
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


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
        _check_none_semantics(self.rewards)
        self.scorer = Scorer(verifier=verifier, domain=domain, **settings)
        self.reference_column = reference_column
        self.log_statuses = log_statuses
        label = name or (verifier if isinstance(verifier, str) else None) or domain or "auto"
        self.__name__ = name or "verifiers_" + re.sub(r"\W+", "_", str(label)).strip("_")
        self.__qualname__ = self.__name__
        self.aspect: str | None = None  # None: the verdict's score; else that aspect of the verdict
        self.status_log = StatusLog(self.__name__, self.rewards)
        self._batch = _Batch()
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

    def for_aspect(self, aspect: str) -> RewardFunction:
        """A reward function giving `aspect` of the same verdicts (None where a verdict has no such aspect), named
        `<name>_<aspect>`; it shares this function's scorer and its batch: TRL's calls verify each batch once."""
        if not isinstance(aspect, str) or not aspect:
            raise OptionError(f"an aspect must be a non-empty name, got {aspect!r}")
        clone = copy.copy(self)
        clone.aspect = aspect
        clone.log_statuses = False  # the score function logs the statuses of the shared verdicts
        clone.__name__ = clone.__qualname__ = self.__name__ + "_" + re.sub(r"\W+", "_", aspect).strip("_")
        return clone

    def _shared_verdicts(self, prompts: Any, completions: Sequence[Any], columns: Mapping[str, Any]) -> list[Verdict]:
        key = _batch_key(prompts, completions, columns)
        if key is None:
            return self.verdicts(prompts, completions, **columns)
        shared = self._batch
        with shared.lock:
            if shared.key == key:
                return shared.verdicts
            waiting = shared.pending.get(key)
            if waiting is None:
                mine: Future[list[Verdict]] = Future()
                shared.pending[key] = mine
        if waiting is not None:  # the same batch is being verified for another function of this set
            return waiting.result()
        try:
            verdicts = self.verdicts(prompts, completions, **columns)
        except BaseException as exc:
            mine.set_exception(exc)
            raise
        finally:
            with shared.lock:
                shared.pending.pop(key, None)
        with shared.lock:
            shared.key, shared.verdicts = key, verdicts
        mine.set_result(verdicts)
        return verdicts

    def _log(self, verdicts: list[Verdict], columns: Mapping[str, Any]) -> None:
        if not self.log_statuses or not verdicts:
            return
        log_metric, log_extra = columns.get("log_metric"), columns.get("log_extra")
        if callable(log_metric):
            for status in Status:
                share = sum(v.status is status for v in verdicts) / len(verdicts)
                log_metric(f"{self.__name__}/{status.value}", share)
        else:  # TRL's async GRPO passes no metric channel: failures go to the log instead
            self.status_log.record(verdicts)
        if callable(log_extra):
            log_extra(f"{self.__name__}_status", [v.status.value for v in verdicts])

    def _reward(self, verdict: Verdict) -> float | None:
        if self.aspect is None or not verdict.status.is_decided:
            return self.rewards(verdict)
        return verdict.aspects.get(self.aspect)

    def __call__(
        self, prompts: Sequence[Any] | None = None, completions: Sequence[Any] | None = None, **columns: Any
    ) -> list[float | None]:
        if completions is None:
            raise TypeError(f"{self.__name__} needs completions= (TRL's reward function signature)")
        verdicts = self._shared_verdicts(prompts, completions, columns)
        self.last_verdicts = verdicts
        self._log(verdicts, columns)
        return [self._reward(v) for v in verdicts]


class AsyncRewardFunction(RewardFunction):
    """The same reward function as a coroutine: TRL runs async reward functions concurrently with each other
    (e.g. a code sandbox and a model judge); the verification itself runs in a worker thread.

    TRL before 1.16 tells an async reward function by `inspect.iscoroutinefunction(f)`, which is False for an
    instance with an `async __call__`: TRL would call it synchronously and get a coroutine instead of rewards.
    `inspect` also accepts any object that looks like a compiled function (a `__code__` object, a `__name__`,
    `__defaults__`, `__kwdefaults__`, `__annotations__`) and reads the coroutine flag from its code, so the
    class carries those of its own `__call__`.
    """

    async def __call__(  # type: ignore[override]
        self, prompts: Sequence[Any] | None = None, completions: Sequence[Any] | None = None, **columns: Any
    ) -> list[float | None]:
        return await asyncio.to_thread(super().__call__, prompts, completions, **columns)

    __code__ = __call__.__code__
    __defaults__ = (None, None)
    __kwdefaults__ = None
    __signature__ = inspect.Signature(list(inspect.signature(RewardFunction.__call__).parameters.values())[1:])


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


def reward_functions(
    domain: str | None = None, *, aspects: Sequence[str], asynchronous: bool = False, **settings: Any
) -> list[RewardFunction]:
    """The score function and one function per aspect in `aspects`, sharing one scorer: TRL calls them all with
    each batch, which is verified once. An aspect a verdict does not have is None (no reward, left out by TRL);
    a failed verdict gives every function the failure reward. Settings as for `reward_function`."""
    if isinstance(aspects, str) or not aspects:
        raise OptionError(f"aspects must be a non-empty list of aspect names, got {aspects!r}")
    score = (AsyncRewardFunction if asynchronous else RewardFunction)(domain=domain, **settings)
    return [score, *(score.for_aspect(aspect) for aspect in aspects)]
