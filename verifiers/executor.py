"""Where a batch of samples is verified: in this process (`local`) or on long-lived Ray actors (`ray`).

Both executors take a `Plan` (what verifies which sample, how it runs) and turn samples into `(domain, Verdict)`
pairs in input order. A sample no verifier can be chosen for gets an ERROR verdict naming the reason (the
`routing` verifier), so one bad row never costs its neighbours; `verify_batch` checks routing before it calls an
executor and raises instead, as it always has.

The Ray executor keeps a few actors per plan alive for the life of the process (`ray_executor` hands the same one
back for the same plan and cluster), so what a verifier keeps warm — worker pools, sandboxes, a loaded judge
model, the Lean workers — stays warm from one training step to the next. Samples go out in chunks to whichever
actor is free; an actor that dies turns its chunk into ERROR verdicts, and Ray restarts it for the next chunk.
"""

from __future__ import annotations

import json
import math
import os
import socket
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .cache import Cache, open_cache
from .calls import gather
from .cascade import Policy
from .errors import OptionError, VerifiersError
from .routing import Router
from .runner import Runner
from .verdict import Sample, Verdict

__all__ = [
    "EXECUTORS",
    "ROUTING_VERIFIER",
    "Executor",
    "LocalExecutor",
    "Plan",
    "RayExecutor",
    "make_executor",
    "ray_executor",
    "run_grouped",
    "verify_routed",
]

EXECUTORS = ("local", "ray")
ROUTING_VERIFIER = "routing"  # the verifier named in ERROR verdicts of samples no verifier could be chosen for

Routed = tuple[str | None, Verdict]


@dataclass(frozen=True)
class Plan:
    """What verifies each sample and how it runs; plain values, so it can travel to a Ray actor.

    `verifier`, `domain`, `domain_overrides`, `policy`, `options`: as for `Router`. `workers`, `timeout`: as for
    `Runner`. `cache`: None, True/"memory" or an SQLite path (a `Cache` object works locally only).
    """

    verifier: Any = None
    domain: str | None = None
    domain_overrides: bool = False
    policy: Policy = "first"
    options: Mapping[str, Any] = field(default_factory=dict)
    workers: int | None = None
    timeout: float | None = None
    cache: Any = None

    def router(self) -> Router:
        return Router(
            self.verifier, self.domain, domain_overrides=self.domain_overrides, policy=self.policy, options=self.options
        )

    def runner(self) -> Runner:
        return Runner(workers=self.workers, timeout=self.timeout, cache=open_cache(self.cache))

    def key(self) -> str:
        """A stable identity for reusing executors: equal plans share actors."""
        verifier = self.verifier if self.verifier is None or isinstance(self.verifier, str) else id(self.verifier)
        fields = [verifier, self.domain, self.domain_overrides, self.policy, dict(self.options), self.workers,
                  self.timeout, self.cache if not isinstance(self.cache, Cache) else id(self.cache)]  # fmt: skip
        return json.dumps(fields, sort_keys=True, default=repr)


def run_grouped(runner: Runner, samples: Sequence[Sample], chosen: Sequence[Any]) -> list[Verdict]:
    """Verdicts for `samples`, where `chosen[i]` verifies `samples[i]`: one batch per verifier, input order kept."""
    groups: dict[int, tuple[Any, list[int]]] = {}
    for i, verifier in enumerate(chosen):
        groups.setdefault(id(verifier), (verifier, []))[1].append(i)
    parts = [zip(indices, runner.run(verifier, [samples[i] for i in indices])) for verifier, indices in groups.values()]
    return gather(len(samples), *parts)


def verify_routed(router: Router, runner: Runner, samples: Sequence[Sample]) -> list[Routed]:
    """`(domain, verdict)` per sample: unroutable samples get ERROR verdicts, the rest run grouped by verifier."""
    unroutable: list[tuple[int, Routed]] = []
    todo: list[int] = []
    domains: list[str | None] = []
    chosen: list[Any] = []
    for i, sample in enumerate(samples):
        try:
            domain, verifier = router.choose(sample)
        except VerifiersError as exc:
            unroutable.append((i, (sample.domain, Verdict.error(ROUTING_VERIFIER, str(exc)))))
            continue
        todo.append(i)
        domains.append(domain)
        chosen.append(verifier)
    verdicts = run_grouped(runner, [samples[i] for i in todo], chosen)
    return gather(len(samples), unroutable, zip(todo, zip(domains, verdicts)))


class Executor(Protocol):
    """Verifies samples into `(domain, verdict)` pairs, in input order; never raises for a sample."""

    name: str

    def run(self, samples: Sequence[Sample]) -> list[Routed]: ...


class LocalExecutor:
    """Verifies in this process (and its worker pool)."""

    name = "local"

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.router = plan.router()
        self.runner = plan.runner()

    def run(self, samples: Sequence[Sample]) -> list[Routed]:
        return verify_routed(self.router, self.runner, samples)


class _Actor:
    """The body of a Ray actor: one `Router` and `Runner` for its whole life, so warm resources stay warm."""

    def __init__(self, plan: Plan) -> None:
        self.local = LocalExecutor(plan)

    def run(self, samples: list[Sample]) -> list[Routed]:
        return self.local.run(samples)

    def ping(self) -> int:
        return os.getpid()


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise VerifiersError(
            "executor 'ray' needs Ray, which is not installed: pip install 'verifier-suite[ray]'"
        ) from None
    return ray


def connect_ray(address: str | None = None, *, connect_timeout_s: float = 10.0) -> Any:
    """The `ray` module, connected: an already initialized Ray is used as is; else `address` ("auto", "ray://…",
    host:port) is attached to, or a local Ray is started when it is None.

    A host:port nobody listens on fails within `connect_timeout_s` (Ray itself would retry for minutes).
    """
    ray = _import_ray()
    if ray.is_initialized():
        return ray
    if address is not None:
        _check_reachable(address, connect_timeout_s)
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address!r}" if address else "a local Ray"
        raise VerifiersError(f"cannot start or attach to {where}: {exc}") from None
    return ray


def _check_reachable(address: str, timeout: float) -> None:
    """Raise `VerifiersError` when `address` names a host:port that refuses connections."""
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit() or not host:
        return  # "auto", "local" and the like: Ray resolves them itself
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise VerifiersError(
            f"cannot attach to the Ray cluster at {address!r}: {exc.strerror or exc} (is `ray start --head` running "
            f"there? --ray-address auto finds the cluster this machine belongs to)"
        ) from None


class RayExecutor:
    """Verifies on `actors` long-lived Ray actors, `chunk_size` samples per task.

    `address`: the cluster to attach to ("auto" for the one this machine belongs to); None starts a local Ray
    unless one is initialized already. `actors`: default one per CPU the cluster has (at most 32), spread over
    its nodes. `actor_cpus`: CPUs Ray reserves per actor for its whole life; by default none (Ray's default for
    actors: a CPU to be placed, none held), so idle verifier actors never starve the trainer's own tasks.
    `chunk_size`: default so that every actor gets about two chunks (smaller chunks spread better, larger ones
    batch better for model judges). `start_timeout_s`: how long the actors may take to start.
    """

    name = "ray"

    def __init__(
        self,
        plan: Plan,
        *,
        address: str | None = None,
        actors: int | None = None,
        actor_cpus: float | None = None,
        chunk_size: int | None = None,
        start_timeout_s: float = 300.0,
    ) -> None:
        if isinstance(plan.cache, Cache):
            raise OptionError(
                "executor 'ray' cannot share a Cache object with its actors; give cache=True (a cache per actor) "
                "or an SQLite path"
            )
        if actors is not None and actors < 1:
            raise OptionError(f"actors must be >= 1, got {actors}")
        if chunk_size is not None and chunk_size < 1:
            raise OptionError(f"chunk_size must be >= 1, got {chunk_size}")
        plan.router()  # unknown names and options fail here, in the caller, not in every actor
        self.plan = plan
        self.ray = ray = connect_ray(address)
        if actors is None:
            cpus = int(ray.cluster_resources().get("CPU", 1))
            actors = max(1, min(32, int(cpus // actor_cpus) if actor_cpus else cpus))
        self.chunk_size = chunk_size
        placement: dict[str, Any] = {"scheduling_strategy": "SPREAD"}
        if actor_cpus is not None:
            placement["num_cpus"] = actor_cpus
        remote = ray.remote(max_restarts=-1, max_task_retries=0, **placement)(_Actor)
        self.actors = [remote.remote(plan) for _ in range(actors)]
        self.job_id = ray.get_runtime_context().get_job_id()
        ready, _ = ray.wait([a.ping.remote() for a in self.actors], num_returns=actors, timeout=start_timeout_s)
        if len(ready) < actors:
            self.close()
            raise VerifiersError(
                f"only {len(ready)} of {actors} Ray actors started within {start_timeout_s:g} s "
                f"(each needs {actor_cpus or 0:g} CPUs held; the cluster has {ray.cluster_resources().get('CPU', 0):g})"
            )
        self._lock = threading.Lock()  # one batch at a time: chunks of two batches must not interleave on actors

    def _chunks(self, count: int) -> list[range]:
        size = self.chunk_size or max(1, math.ceil(count / (2 * len(self.actors))))
        return [range(start, min(start + size, count)) for start in range(0, count, size)]

    def run(self, samples: Sequence[Sample]) -> list[Routed]:
        if not samples:
            return []
        ray = self.ray
        results: list[tuple[int, Routed]] = []
        pending = list(reversed(self._chunks(len(samples))))
        with self._lock:
            running: dict[Any, tuple[Any, range]] = {}
            free = list(self.actors)
            while pending or running:
                while pending and free:
                    actor, chunk = free.pop(), pending.pop()
                    running[actor.run.remote([samples[i] for i in chunk])] = (actor, chunk)
                done, _ = ray.wait(list(running), num_returns=1)
                for ref in done:
                    actor, chunk = running.pop(ref)
                    free.append(actor)
                    try:
                        routed = ray.get(ref)
                    except Exception as exc:  # the actor died (or the task could not run): this chunk fails
                        routed = [(samples[i].domain, _lost(exc)) for i in chunk]
                    if len(routed) != len(chunk):
                        lost = RuntimeError(f"the actor returned {len(routed)} verdicts for {len(chunk)} samples")
                        routed = [(samples[i].domain, _lost(lost)) for i in chunk]
                    results.extend(zip(chunk, routed))
        return gather(len(samples), results)

    def close(self) -> None:
        for actor in self.actors:
            try:
                self.ray.kill(actor)
            except Exception:  # already gone with its cluster
                pass
        self.actors = []


def _lost(exc: BaseException) -> Verdict:
    kind = type(exc).__name__
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return Verdict.error("executor:ray", f"the Ray task verifying this sample failed ({kind}): {first}"[:500])


_RAY_EXECUTORS: dict[tuple[str, str | None], RayExecutor] = {}
_RAY_LOCK = threading.Lock()


def _connected_to(executor: RayExecutor) -> bool:
    """Whether the executor's actors belong to the Ray this process is connected to now."""
    ray = executor.ray
    return bool(ray.is_initialized() and ray.get_runtime_context().get_job_id() == executor.job_id)


def ray_executor(plan: Plan, *, address: str | None = None, **settings: Any) -> RayExecutor:
    """The process's Ray executor for `plan` on the cluster at `address`, created on first use and kept (with its
    warm actors) for later calls; one whose Ray was shut down is replaced."""
    key = (plan.key() + json.dumps(settings, sort_keys=True, default=repr), address)
    with _RAY_LOCK:
        executor = _RAY_EXECUTORS.get(key)
        if executor is not None and _connected_to(executor):
            return executor
        executor = _RAY_EXECUTORS[key] = RayExecutor(plan, address=address, **settings)
        return executor


def make_executor(kind: str, plan: Plan, *, address: str | None = None) -> Executor:
    """An executor by name: "local", or "ray" (reused across calls; `address` picks the cluster)."""
    if kind == "local":
        if address is not None:
            raise OptionError("an address (--ray-address) only applies to executor 'ray'")
        return LocalExecutor(plan)
    if kind == "ray":
        return ray_executor(plan, address=address)
    raise OptionError(f"unknown executor {kind!r}; executors: {', '.join(EXECUTORS)}")
