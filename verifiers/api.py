"""The two calls a training loop makes: `verify()` for one answer, `verify_batch()` for many."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from . import plugins
from .cache import Cache, open_cache
from .cascade import Cascade
from .errors import OptionError, VerifiersError
from .runner import Runner
from .verdict import Sample, Verdict

__all__ = ["verify", "verify_batch", "resolve_verifier", "domain_of"]

SampleLike = Sample | Mapping[str, Any]


def domain_of(sample: Sample, default: str | None = None) -> str:
    """The sample's domain: its own, else the call's `default`, else what the routing hooks say."""
    domain = sample.domain or default or plugins.route(sample)
    if not domain:
        known = ", ".join(plugins.list_domains())
        raise VerifiersError(
            f"cannot tell the domain of sample {sample.id!r} from its reference; "
            f"pass domain= (one of: {known}) or verifier="
        )
    return str(domain)


def resolve_verifier(verifier: Any = None, domain: str | None = None, **options: Any) -> Any:
    """A verifier object from a name, an object, or a domain (the domain's default cascade).

    Options go to the named verifier; for a domain cascade they go to every stage that takes them.
    """
    if verifier is not None and not isinstance(verifier, str):
        return verifier
    if verifier is not None:
        return plugins.get_verifier(verifier, **options)
    if domain is None:
        raise VerifiersError("resolve_verifier needs a verifier or a domain")
    names = plugins.domain_stages(domain)
    stages, used = [], set()
    for name in names:
        accepted = getattr(plugins.verifier_registry().entry(name).factory, "options", None)
        stage_options = options if accepted is None else {k: v for k, v in options.items() if k in accepted}
        used.update(stage_options)
        stages.append(plugins.get_verifier(name, **stage_options))
    unused = sorted(set(options) - used)
    if unused:
        raise OptionError(f"no verifier of the {domain!r} cascade ({', '.join(names)}) takes option(s) {unused}")
    if len(stages) == 1:
        return stages[0]
    return Cascade(stages, name=f"cascade:{domain}")


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
    **options: Any,
) -> Verdict:
    """Verify one response against its reference and return the `Verdict`.

    Name a `verifier` (see `list_verifiers()`), or a `domain` whose default cascade runs, or neither to let the
    routing hooks pick the domain from the reference. Keyword `options` configure the verifier. The call never
    raises for any response text; an unknown verifier or domain name raises `UnknownNameError` listing what
    exists.
    """
    sample = Sample(response=response, reference=reference, prompt=prompt, domain=domain, metadata=metadata or {})
    return verify_batch([sample], verifier=verifier, **options)[0]


def verify_batch(
    samples: Iterable[SampleLike],
    *,
    workers: int | None = None,
    timeout: float | None = None,
    cache: Cache | str | bool | None = None,
    executor: str = "local",
    verifier: Any = None,
    domain: str | None = None,
    **options: Any,
) -> list[Verdict]:
    """Verify many samples; the result list is in input order.

    Samples sharing a verifier (or a domain cascade) run as one batch, so a judge stage sees them together.
    `workers`: worker processes for non-batched verifiers (None: only `cpu_bound` ones use the pool).
    `timeout`: per-sample deadline in seconds (enforced by killing the worker). `cache`: None, True/"memory",
    an SQLite path or a `Cache`. `executor`: "local" (Ray arrives with the distributed-execution work).
    """
    if executor != "local":
        raise VerifiersError(f"executor {executor!r} is not available; available executors: local")
    batch = [_as_sample(item, i) for i, item in enumerate(samples)]
    runner = Runner(workers=workers, timeout=timeout, cache=open_cache(cache))
    groups: dict[str, tuple[Any, list[int]]] = {}
    if verifier is not None:
        groups["verifier"] = (resolve_verifier(verifier, **options), list(range(len(batch))))
    else:
        for i, sample in enumerate(batch):
            dom = domain_of(sample, domain)
            if dom not in groups:
                groups[dom] = (resolve_verifier(domain=dom, **options), [])
            groups[dom][1].append(i)
    results: list[Verdict | None] = [None] * len(batch)
    for chosen, indices in groups.values():
        for i, verdict in zip(indices, runner.run(chosen, [batch[i] for i in indices])):
            results[i] = verdict
    return [r for r in results if r is not None]
