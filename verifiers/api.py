"""The two calls a training loop makes: `verify()` for one answer, `verify_batch()` for many."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from . import plugins
from .cache import Cache
from .cascade import Cascade, Policy
from .errors import OptionError, PluginError, VerifiersError
from .runner import Runner
from .verdict import Sample, Verdict

__all__ = ["Router", "domain_of", "resolve_verifier", "run_grouped", "verify", "verify_batch"]

SampleLike = Sample | Mapping[str, Any]


def domain_of(sample: Sample, default: str | None = None) -> str:
    """The sample's domain: its own, else the call's `default`, else what the routing hooks say."""
    domain = sample.domain or default
    if not domain:
        try:
            domain = plugins.route(sample)
        except Exception as exc:  # a broken route_sample hook is a plugin error, not the caller's crash
            raise PluginError(f"a route_sample hook failed: {type(exc).__name__}: {exc}") from exc
    if not domain:
        known = ", ".join(plugins.list_domains())
        raise VerifiersError(
            f"cannot tell the domain of sample {sample.id!r} from its reference; "
            f"give it a domain (domain= or --domain; one of: {known}) or a verifier (verifier= or --verifier)"
        )
    return str(domain)


def resolve_verifier(verifier: Any = None, domain: str | None = None, *, policy: Policy = "first", **options: Any) -> Any:
    """A verifier object from a name, an object, or a domain (the domain's default cascade).

    Options go to the named verifier; for a domain cascade they go to every stage that takes them. `policy` is the
    cascade's ("first": only UNDECIDED moves on; "addon": INCORRECT too, so a closing judge re-checks rejections).
    """
    if verifier is not None and not isinstance(verifier, str):
        return verifier
    if verifier is not None:
        return plugins.get_verifier(verifier, **options)
    if domain is None:
        raise VerifiersError("resolve_verifier needs a verifier or a domain")
    names = plugins.domain_stages(domain)
    stages: list[Any] = []
    used: set[str] = set()
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
    return Cascade(stages, name=f"cascade:{domain}", policy=policy)


class Router:
    """Chooses each sample's verifier, reusing one object per verifier or domain so warm resources stay warm.

    `verifier` (a name or object) verifies every sample. Otherwise each sample's domain picks that domain's
    cascade: the sample's own domain, else `domain`, else the routing hooks; with `domain_overrides=True`,
    `domain` wins over the sample's own (what `verifiers run --domain` does). `policy`: the cascades' policy.
    """

    def __init__(
        self,
        verifier: Any = None,
        domain: str | None = None,
        *,
        domain_overrides: bool = False,
        policy: Policy = "first",
        **options: Any,
    ) -> None:
        self.domain = domain
        self.options = options
        self.policy = policy
        self.fixed: Any = None
        if verifier is not None:
            self.fixed = resolve_verifier(verifier, **options)
        elif domain is not None and domain_overrides:
            self.fixed = resolve_verifier(domain=domain, policy=policy, **options)
        self._by_domain: dict[str, Any] = {}

    def choose(self, sample: Sample) -> tuple[str | None, Any]:
        """(domain, verifier) for `sample`; raises `VerifiersError` when none can be chosen."""
        if self.fixed is not None:
            return self.domain or sample.domain, self.fixed
        domain = domain_of(sample, self.domain)
        if domain not in self._by_domain:
            try:
                self._by_domain[domain] = resolve_verifier(domain=domain, policy=self.policy, **self.options)
            except VerifiersError as exc:  # remembered: one bad domain is looked up once
                self._by_domain[domain] = exc
        chosen = self._by_domain[domain]
        if isinstance(chosen, VerifiersError):
            raise chosen
        return domain, chosen


def run_grouped(runner: Runner, samples: Sequence[Sample], chosen: Sequence[Any]) -> list[Verdict]:
    """Verdicts for `samples`, where `chosen[i]` verifies `samples[i]`: one batch per verifier, input order kept."""
    groups: dict[int, tuple[Any, list[int]]] = {}
    for i, verifier in enumerate(chosen):
        groups.setdefault(id(verifier), (verifier, []))[1].append(i)
    results: list[Verdict | None] = [None] * len(samples)
    for verifier, indices in groups.values():
        for i, verdict in zip(indices, runner.run(verifier, [samples[i] for i in indices])):
            results[i] = verdict
    return [r for r in results if r is not None]


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
    **options: Any,
) -> Verdict:
    """Verify one response against its reference and return the `Verdict`.

    Name a `verifier` (see `list_verifiers()`), or a `domain` whose default cascade runs, or neither to let the
    routing hooks pick the domain from the reference. Keyword `options` configure the verifier. The call never
    raises for any response text; an unknown verifier or domain name raises `UnknownNameError` listing what
    exists.
    """
    sample = Sample(response=response, reference=reference, prompt=prompt, domain=domain, metadata=metadata or {})
    return verify_batch([sample], verifier=verifier, policy=policy, **options)[0]


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
    **options: Any,
) -> list[Verdict]:
    """Verify many samples; the result list is in input order.

    Samples sharing a verifier (or a domain cascade) run as one batch, so a judge stage sees them together.
    `workers`: worker processes for non-batched verifiers (None: only `cpu_bound` ones use the pool).
    `timeout`: per-sample deadline in seconds (enforced by killing the worker). `cache`: None, True/"memory",
    an SQLite path or a `Cache`. `executor`: "local", or "ray" to spread chunks over long-lived Ray actors (kept
    warm for later calls with the same settings; `ray_address` attaches to a cluster, e.g. "auto"; without it an
    initialized Ray is used, else a local one is started). `policy`: how domain cascades pass samples on
    ("first", or "addon" to let a closing judge re-check INCORRECT).
    """
    from .executor import Plan, make_executor

    batch = [_as_sample(item, i) for i, item in enumerate(samples)]
    plan = Plan(verifier, domain, policy=policy, options=options, workers=workers, timeout=timeout, cache=cache)
    router = plan.router()
    # a sample without a verifier is the caller's mistake: raise, before any work
    chosen = [router.choose(sample)[1] for sample in batch]
    if executor == "local" and ray_address is None:
        return run_grouped(plan.runner(), batch, chosen)
    return [verdict for _, verdict in make_executor(executor, plan, address=ray_address).run(batch)]
