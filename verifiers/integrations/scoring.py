"""What every training-loop adapter shares: samples from the loop's values, a warm scorer, and reward mapping.

A `Scorer` holds one executor (local or Ray) for its whole life, so worker pools, sandboxes and judge models stay
warm between training steps. It is safe to call from many threads and event loops at once (`verify`,
`verify_async`, `submit`): calls are queued and verified by the scorer's own batch threads, and the calls that
arrive while a batch runs are merged into the next one (verl scores samples concurrently, the reward server
from one thread per request), so a judge stage sees them together; `batches` (default 1) lets that many batches
run at once, so a slow batch does not hold back the calls that arrive while it runs (the reward server runs
several). Merging never changes a reward: group-dependent rewards are computed over each call's own groups. A
sample that cannot even be built (a completion that is not text) or routed (no domain) gets an ERROR verdict;
nothing a model writes raises in the training loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from typing import Any

from verifiers.cascade import Policy
from verifiers.datasets import message_text, verl_domain
from verifiers.errors import OptionError
from verifiers.executor import Executor, Plan, make_executor
from verifiers.groups import regroup
from verifiers.jobs import (
    INPUT_VERIFIER,  # named in ERROR verdicts of samples the loop's values could not make
)
from verifiers.verdict import Sample, Status, Verdict

__all__ = [
    "RewardMap",
    "Scorer",
    "StatusLog",
    "aspect_names",
    "aspect_rewards",
    "plain",
    "prompt_text",
    "response_text",
    "source_domain",
]


@dataclass(frozen=True)
class RewardMap:
    """How a verdict becomes the number a loop trains on.

    CORRECT, INCORRECT and PARTIAL give their score. `undecided` is the reward for UNDECIDED and `error` for ERROR
    and TIMEOUT (a verifier failure, not a model failure): None where the loop accepts "no reward" (TRL turns it
    into NaN and leaves the sample out), a number where it needs one (verl, OpenRLHF) — the adapters then report
    the status beside the number, so a failure is never a silent 0.
    """

    undecided: float | None = None
    error: float | None = None

    def __post_init__(self) -> None:
        for name in ("undecided", "error"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value != value):
                raise OptionError(f"the {name} reward must be a number or None, got {value!r}")

    def __call__(self, verdict: Verdict) -> float | None:
        if verdict.status.is_decided:
            return verdict.score
        if verdict.status is Status.UNDECIDED:
            return self.undecided
        return self.error


def aspect_names(aspects: Any) -> tuple[str, ...]:
    """The `aspects` setting of an adapter (None or a list of aspect names), checked."""
    if aspects is None:
        return ()
    names = isinstance(aspects, Sequence) and not isinstance(aspects, str)
    if not names or not all(isinstance(a, str) and a for a in aspects):
        raise OptionError(f"aspects must be a list of aspect names, got {aspects!r}")
    return tuple(aspects)


def aspect_rewards(verdict: Verdict, aspects: Sequence[str], rewards: RewardMap) -> list[float]:
    """A number per aspect for loops that need one everywhere (verl, OpenRLHF): the verdict's aspect score, 0.0
    where a decided verdict has no such aspect, and the failure's reward for a failed or undecided verdict (a
    failure is never a good aspect score)."""
    if not verdict.status.is_decided:
        number = rewards(verdict)
        return [float(number if number is not None else 0.0)] * len(aspects)
    return [float(verdict.aspects.get(aspect, 0.0)) for aspect in aspects]


LOGGER = logging.getLogger("verifiers.integrations")


class StatusLog:
    """Failures made visible where a loop logs no metrics of ours (verl's training steps, TRL's async GRPO): every
    `every` seconds at most, a WARNING on the `verifiers.integrations` logger says how many samples since the last
    report were ERROR/TIMEOUT or UNDECIDED, what they were rewarded, and the first failure's reason."""

    def __init__(self, label: str, rewards: RewardMap, every: float = 60.0) -> None:
        self.label = label
        self.rewards = rewards
        self.every = every
        self.counts: Counter[Status] = Counter()  # since the last report
        self._first_failure = ""
        self._last_report = time.monotonic() - every  # the first failure is reported at once
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"label": self.label, "rewards": self.rewards, "every": self.every}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def record(self, verdicts: Sequence[Verdict]) -> None:
        with self._lock:
            self.counts.update(v.status for v in verdicts)
            if not self._first_failure:
                self._first_failure = next((v.reason for v in verdicts if v.status.is_failure), "")
            failed = sum(n for status, n in self.counts.items() if status.is_failure)
            now = time.monotonic()
            if not failed or now - self._last_report < self.every:
                return
            total, undecided, reason = sum(self.counts.values()), self.counts[Status.UNDECIDED], self._first_failure
            self.counts.clear()
            self._first_failure = ""
            self._last_report = now
        LOGGER.warning(
            "%s: %d of %d samples since the last report were ERROR/TIMEOUT (rewarded %s) and %d UNDECIDED "
            "(rewarded %s): the verifier failed, not the model. First failure: %s",
            self.label, failed, total, self.rewards.error, undecided, self.rewards.undecided, reason[:300],
        )  # fmt: skip


def plain(value: Any) -> Any:
    """Numpy values (verl hands over object arrays and numpy scalars) as plain Python ones."""
    if hasattr(value, "tolist") and callable(value.tolist):
        return value.tolist()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def response_text(completion: Any) -> str:
    """The model's answer from a completion: a string, or a chat (`[{"role", "content"}]`: the last assistant
    message). Raises ValueError for anything else."""
    text = message_text(plain(completion), "assistant")
    return "" if text is None else text


def prompt_text(prompt: Any) -> str | None:
    """The prompt as text: a string, or a chat's last user message; None when there is none or it is not text."""
    try:
        return message_text(plain(prompt), "user")
    except ValueError:
        return None


def source_domain(data_source: Any) -> str | None:
    """The domain a verl/OpenRLHF `data_source` names (see `verifiers.datasets.verl_domain`)."""
    from verifiers.plugins import list_domains

    return verl_domain(plain(data_source), list_domains())


def make_sample(
    response: Callable[[], str], reference: Any, *, prompt: Any = None, domain: str | None = None,
    metadata: Mapping[str, Any] | None = None, sample_id: Any = None,
) -> Sample | Verdict:  # fmt: skip
    """A `Sample`, or the ERROR verdict saying why the values make none."""
    try:
        return Sample(
            response(), plain(reference), prompt=prompt_text(prompt), domain=domain,
            metadata=plain(dict(metadata or {})), id=None if sample_id is None else str(sample_id),
        )  # fmt: skip
    except (TypeError, ValueError) as exc:
        return Verdict.error(INPUT_VERIFIER, f"cannot build a sample: {exc}")


class _Request:
    def __init__(self, samples: list[Sample]) -> None:
        self.samples = samples
        self.future: Future[list[Verdict]] = Future()


class Scorer:
    """Verifies samples for an adapter with one executor kept warm for the scorer's life; thread-safe.

    `verifier` (a name or object) verifies every sample; else each sample's own domain, else `domain`, else the
    routing hooks pick a domain's cascade. `options` configure the verifiers (never the execution settings).
    `cache`: True (default) keeps an in-memory verdict cache — GRPO groups repeat answers — None turns it off, a
    path uses SQLite. `executor`: "local" or "ray" (`ray_address` attaches to a cluster). `batches`: how many
    merged batches may run at once (1: one after the other). Unknown names and options raise here.
    """

    def __init__(
        self,
        *,
        verifier: Any = None,
        domain: str | None = None,
        policy: Policy = "first",
        workers: int | None = None,
        timeout: float | None = None,
        cache: Any = True,
        executor: str = "local",
        ray_address: str | None = None,
        batches: int = 1,
        options: Mapping[str, Any] | None = None,
        **unknown: Any,
    ) -> None:
        if unknown:
            raise OptionError(
                f"unknown setting(s) {sorted(unknown)}: the settings are verifier, domain, policy, workers, timeout, "
                f"cache, executor, ray_address, batches; verifier options go in options={{...}}"
            )
        if isinstance(batches, bool) or not isinstance(batches, int) or batches < 1:
            raise OptionError(f"batches must be an integer >= 1, got {batches!r}")
        self.settings: dict[str, Any] = dict(
            verifier=verifier, domain=domain, policy=policy, workers=workers, timeout=timeout, cache=cache,
            executor=executor, ray_address=ray_address, batches=batches, options=dict(options or {}),
        )  # fmt: skip
        self.batches = batches
        plan = Plan(verifier, domain, policy=policy, options=dict(options or {}), workers=workers, timeout=timeout,
                    cache=cache)  # fmt: skip
        # building the executor builds its Router, which checks the verifier, the default domain and the options
        self.executor: Executor = make_executor(executor, plan, address=ray_address)
        self._turn = threading.Condition()
        self._queue: list[_Request] = []
        self._running = 0  # threads verifying batches now

    def __reduce__(self) -> tuple[Any, ...]:
        """A copy (a pickle sent to another process, e.g. TRL's async rollout worker) is a new scorer with the same
        settings: its own executor, warmed up there."""
        return (_rebuild_scorer, (self.settings,))

    def submit(self, items: Sequence[Sample | Verdict]) -> Future[list[Verdict]]:
        """Queue `items` and return at once; the future holds a verdict per item, in order (see `verify`)."""
        items = list(items)
        samples = [item for item in items if isinstance(item, Sample)]
        result: Future[list[Verdict]] = Future()
        if not samples:
            result.set_result([item for item in items if isinstance(item, Verdict)])
            return result
        request = _Request(samples)

        def deliver(done: Future[list[Verdict]]) -> None:
            try:
                error = done.exception()
                if error is None:
                    verdicts = iter(done.result())
                    result.set_result([item if isinstance(item, Verdict) else next(verdicts) for item in items])
                    return
            except InvalidStateError:  # the caller cancelled it (e.g. verify_async under a timeout)
                return
            except BaseException as exc:  # a bug here must reach the caller, not leave it waiting
                error = exc
            with contextlib.suppress(InvalidStateError):
                result.set_exception(error)

        request.future.add_done_callback(deliver)
        with self._turn:
            self._queue.append(request)
            start = self._running < self.batches
            if start:
                self._running += 1
        if start:
            try:
                threading.Thread(target=self._drain, name="verifiers-scorer", daemon=True).start()
            except BaseException:  # no thread (the process is out of them): nothing left queued, the caller sees why
                with self._turn:
                    self._running -= 1
                    if request in self._queue:
                        self._queue.remove(request)
                raise
        return result

    def verify(self, items: Sequence[Sample | Verdict]) -> list[Verdict]:
        """A verdict per item, in order; items that are already verdicts (samples that could not be built) pass
        through. Calls arriving while a batch runs, from any thread, are verified together in the next batch."""
        return self.submit(items).result()

    async def verify_async(self, items: Sequence[Sample | Verdict]) -> list[Verdict]:
        """`verify` for an event loop: the loop is never blocked, and concurrent calls (from this loop or other
        threads) are merged into batches all the same."""
        return await asyncio.wrap_future(self.submit(items))

    def _drain(self) -> None:
        """A batch thread: verifies everything queued as one batch, then what queued meanwhile, until nothing is
        left. At most `batches` of these run at once."""
        while True:
            with self._turn:
                if not self._queue:
                    self._running -= 1
                    return
                batch, self._queue = self._queue, []
            try:
                self._verify_merged(batch)
            except BaseException as exc:  # a bug past the executor: its callers see it, and the thread goes on
                for request in batch:
                    if not request.future.done():
                        request.future.set_exception(exc)

    def _verify_merged(self, batch: list[_Request]) -> None:
        merged = [sample for request in batch for sample in request.samples]
        try:
            verdicts = [verdict for _, verdict in self.executor.run(merged)]
        except BaseException as exc:  # the executor itself broke (e.g. its Ray cluster went away): every caller sees it
            for request in batch:
                request.future.set_exception(exc)
            return
        start = 0
        for request in batch:  # a group-dependent reward is computed over the groups of the caller's own call
            end = start + len(request.samples)
            request.future.set_result(regroup(request.samples, verdicts[start:end]))
            start = end


def _rebuild_scorer(settings: dict[str, Any]) -> Scorer:
    return Scorer(**settings)
