"""What every training-loop adapter shares: samples from the loop's values, a warm scorer, and reward mapping.

A `Scorer` holds one executor (local or Ray) for its whole life, so worker pools, sandboxes and judge models stay
warm between training steps. It is safe to call from many threads at once: concurrent calls are merged into one
batch (verl scores samples from a thread pool, the reward server from one thread per request), so a judge stage
sees them together; `batches` (default 1) lets that many batches run at once, so a slow batch does not hold
back the calls that arrive while it runs (the reward server runs several). A sample that cannot even be built
(a completion that is not text) or routed (no domain) gets an ERROR verdict; nothing a model writes raises in the
training loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from verifiers.cascade import Policy
from verifiers.datasets import message_text, verl_domain
from verifiers.errors import OptionError
from verifiers.executor import Executor, Plan, make_executor
from verifiers.jobs import (
    INPUT_VERIFIER,  # named in ERROR verdicts of samples the loop's values could not make
)
from verifiers.verdict import Sample, Status, Verdict

__all__ = ["RewardMap", "Scorer", "plain", "prompt_text", "response_text", "source_domain"]


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
        self.taken = False  # in a batch that runs (or ran) in some thread
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
        self._running = 0  # batches running now

    def __reduce__(self) -> tuple[Any, ...]:
        """A copy (a pickle sent to another process, e.g. TRL's async rollout worker) is a new scorer with the same
        settings: its own executor, warmed up there."""
        return (_rebuild_scorer, (self.settings,))

    def verify(self, items: Sequence[Sample | Verdict]) -> list[Verdict]:
        """A verdict per item, in order; items that are already verdicts (samples that could not be built) pass
        through. Calls from other threads arriving meanwhile are verified in the same batch."""
        samples = [item for item in items if isinstance(item, Sample)]
        verdicts = iter(self._run(samples) if samples else [])
        return [item if isinstance(item, Verdict) else next(verdicts) for item in items]

    def _run(self, samples: list[Sample]) -> list[Verdict]:
        """Queue the samples; a caller that finds fewer than `batches` batches running verifies everything queued
        in one batch (in its own thread), the others wait for their share or their turn."""
        request = _Request(samples)
        with self._turn:
            self._queue.append(request)
            while not request.taken and self._running >= self.batches:
                self._turn.wait()
            if request.taken:  # another caller's batch holds it: wait for that batch, not for a turn
                batch = None
            else:
                self._running += 1
                batch, self._queue = self._queue, []  # ours included
                for queued in batch:
                    queued.taken = True
        if batch is None:
            return request.future.result()
        try:
            self._verify_merged(batch)
        finally:
            with self._turn:
                self._running -= 1
                self._turn.notify_all()
        return request.future.result()

    def _verify_merged(self, batch: list[_Request]) -> None:
        merged = [sample for request in batch for sample in request.samples]
        try:
            verdicts = [verdict for _, verdict in self.executor.run(merged)]
        except BaseException as exc:  # the executor itself broke (e.g. its Ray cluster went away)
            for request in batch:
                request.future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        start = 0
        for request in batch:
            end = start + len(request.samples)
            request.future.set_result(verdicts[start:end])
            start = end


def _rebuild_scorer(settings: dict[str, Any]) -> Scorer:
    return Scorer(**settings)
