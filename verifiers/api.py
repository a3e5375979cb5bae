"""The two calls a training loop makes: `verify()` for one answer, `verify_batch()` for many.

Two namespaces never mix: verifier options go in `options={...}` (what the verifier checks: `rel_tol`, a code
verifier's per-test `timeout`), execution settings are keyword arguments (how it runs: `workers`, `timeout`,
`cache`, `executor`). `verify(..., verifier="code", timeout=0.5)` sets the runner's deadline;
`options={"timeout": 0.5}` sets the code verifier's own per-test limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .cache import Cache
from .cascade import Policy
from .executor import Plan, make_executor
from .groups import regroup
from .verdict import Sample, Verdict

__all__ = ["verify", "verify_batch"]

SampleLike = Sample | Mapping[str, Any]


def _as_sample(item: SampleLike, index: int) -> Sample:
    if isinstance(item, Sample):
        return item
    if isinstance(item, Mapping):
        if "response" not in item:
            raise TypeError(f"sample {index} has no 'response' key (keys: {sorted(map(str, item))})")
        return Sample.from_dict(item)
    raise TypeError(f"sample {index} must be a Sample or a mapping, got {type(item).__name__}")


def verify(
    response: str | bytes | None,
    reference: Any = None,
    *,
    domain: str | None = None,
    verifier: Any = None,
    prompt: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    policy: Policy = "first",
    options: Mapping[str, Any] | None = None,
    workers: int | None = None,
    timeout: float | None = None,
    cache: Cache | str | bool | None = None,
) -> Verdict:
    """Verify one response against its reference and return the `Verdict`.

    Name a `verifier` (see `list_verifiers()`), or a `domain` whose default cascade runs, or neither to let the
    routing hooks pick the domain from the reference. `options` configure the verifier; `workers`, `timeout` and
    `cache` are execution settings, as for `verify_batch`. The call never raises for any response text; an
    unknown verifier, domain or option name raises an error listing what exists.
    """
    # Sample reads bytes and None as text
    sample = Sample(response, reference, prompt=prompt, domain=domain, metadata=metadata or {})  # type: ignore[arg-type]
    return verify_batch(
        [sample],
        verifier=verifier,
        domain=domain,
        policy=policy,
        options=options,
        workers=workers,
        timeout=timeout,
        cache=cache,
    )[0]


def verify_batch(
    samples: Iterable[SampleLike],
    *,
    workers: int | None = None,
    timeout: float | None = None,
    cache: Cache | str | bool | None = None,
    executor: str = "local",
    ray_address: str | None = None,
    verifier: Any = None,
    domain: str | None = None,
    policy: Policy = "first",
    options: Mapping[str, Any] | None = None,
) -> list[Verdict]:
    """Verify many samples; the result list is in input order.

    Samples sharing a verifier (or a domain cascade) run as one batch, so a judge stage sees them together.
    `workers`: worker processes for non-batched verifiers (None: only `cpu_bound` ones use the pool).
    `timeout`: per-sample deadline in seconds (enforced by killing the worker). `cache`: None, True/"memory",
    an SQLite path or a `Cache`. `executor`: "local", or "ray" to spread chunks over long-lived Ray actors (kept
    warm for later calls with the same settings; `ray_address` attaches to a cluster, e.g. "auto"; without it an
    initialized Ray is used, else a local one is started). `policy`: how domain cascades pass samples on
    ("first", or "addon" to let a closing judge re-check INCORRECT). `options`: the verifier's options (see
    `verifiers list`); a domain cascade gives each stage the ones it declares.

    Names the caller passes (verifier, domain, options, executor) are checked before any work and raise an error
    that lists what exists; a sample whose domain cannot be told gets an ERROR verdict saying so. Rewards that
    depend on a GRPO group are computed over the groups within this call (`verifiers.groups`).
    """
    batch = [_as_sample(item, i) for i, item in enumerate(samples)]
    plan = Plan(
        verifier, domain, policy=policy, options=dict(options or {}), workers=workers, timeout=timeout, cache=cache
    )
    return regroup(batch, [verdict for _, verdict in make_executor(executor, plan, address=ray_address).run(batch)])
