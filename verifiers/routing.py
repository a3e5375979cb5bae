"""Which verifier verifies a sample: a named verifier, or the cascade of the sample's domain.

Routing only reads the plugin layer (the registries and the `route_sample` hooks); it never runs a verifier.
The domain of a sample is its own, else the call's default, else what the routing hooks say. Verifier options
(`options=`) go to the verifiers that declare them; they never share a namespace with execution settings such as
`workers` or `timeout`, which belong to the runner (see `verifiers.api`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import plugins
from .cascade import Cascade, Policy
from .errors import OptionError, PluginError, VerifiersError
from .verdict import Sample
from .verifier import VerifierLike

__all__ = ["Router", "domain_of", "resolve_verifier"]


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
        which = f"sample {sample.id!r}" if sample.id is not None else "this sample"
        raise VerifiersError(
            f"cannot tell the domain of {which} from its reference; "
            f"give it a domain (domain= or --domain; one of: {known}) or a verifier (verifier= or --verifier)"
        )
    return str(domain)


def _declared(name: str) -> frozenset[str] | None:
    """The option names verifier `name` declares, or None when it does not say (it takes any)."""
    declared = plugins.verifier_registry().entry(name).attribute("options", None)
    return None if declared is None else frozenset(declared)


def _cascade_takes(domain: str) -> frozenset[str] | None:
    """The option names some stage of `domain`'s cascade declares; None when a stage takes any."""
    taken: set[str] = set()
    for name in plugins.domain_stages(domain):
        declared = _declared(name)
        if declared is None:
            return None
        taken |= declared
    return frozenset(taken)


def resolve_verifier(
    verifier: Any = None,
    domain: str | None = None,
    *,
    policy: Policy = "first",
    options: Mapping[str, Any] | None = None,
) -> VerifierLike:
    """A verifier object from a name, an object, or a domain (the domain's default cascade).

    `options` go to the named verifier; for a domain cascade, each stage gets the ones it declares, and an option
    no stage declares is an `OptionError`. `policy` is the cascade's ("first": only UNDECIDED
    moves on; "addon": INCORRECT too, so a closing judge re-checks rejections).
    """
    options = dict(options or {})
    if verifier is not None and not isinstance(verifier, str):
        if options:
            raise OptionError(
                f"options {sorted(options)} cannot be applied to a verifier object ({verifier!r}); "
                f"configure the object itself, or name a registered verifier"
            )
        return verifier
    if verifier is not None:
        return plugins.get_verifier(verifier, **options)
    if domain is None:
        raise VerifiersError("resolve_verifier needs a verifier or a domain")
    names = plugins.domain_stages(domain)
    stages: list[VerifierLike] = []
    used: set[str] = set()
    for name in names:
        accepted = _declared(name)
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

    `options` are checked here, before any sample: an option that no verifier it could choose declares is an
    `OptionError` (a typo never turns into a run of ERROR verdicts). When samples are routed by domain, a sample
    whose domain's cascade does not take every option gets an ERROR verdict saying which: an option the caller
    set (a tighter `rel_tol`) is never silently left out.
    """

    def __init__(
        self,
        verifier: Any = None,
        domain: str | None = None,
        *,
        domain_overrides: bool = False,
        policy: Policy = "first",
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.domain = domain
        self.options = dict(options or {})
        self.policy = policy
        self.fixed: VerifierLike | None = None
        self._by_domain: dict[str, VerifierLike | VerifiersError] = {}
        if verifier is not None:
            self.fixed = resolve_verifier(verifier, options=self.options)
        elif domain is not None and domain_overrides:
            self.fixed = resolve_verifier(domain=domain, policy=policy, options=self.options)
        else:
            if domain is not None:
                plugins.domain_stages(domain)  # a domain the caller names must exist: UnknownDomainError here
            if self.options:
                self._check_options()

    def _check_options(self) -> None:
        """Refuse options that no cascade this router can reach declares (the default domain's, when one is given:
        the caller named it)."""
        domains = [self.domain] if self.domain is not None else plugins.list_domains()
        taken: set[str] = set()
        for domain in domains:
            declared = _cascade_takes(domain)
            if declared is None:
                return
            taken |= declared
        unknown = sorted(set(self.options) - taken)
        if unknown:
            where = f"the {self.domain!r} cascade" if self.domain is not None else "any registered verifier"
            raise OptionError(
                f"option(s) {unknown} are not taken by {where}; `verifiers list` shows each verifier's options"
            )

    def choose(self, sample: Sample) -> tuple[str | None, VerifierLike]:
        """(domain, verifier) for `sample`; raises `VerifiersError` when none can be chosen."""
        if self.fixed is not None:
            return self.domain or sample.domain, self.fixed
        domain = domain_of(sample, self.domain)
        if domain not in self._by_domain:
            try:
                self._by_domain[domain] = resolve_verifier(domain=domain, policy=self.policy, options=self.options)
            except VerifiersError as exc:  # remembered: one bad domain is looked up once
                self._by_domain[domain] = exc
        chosen = self._by_domain[domain]
        if isinstance(chosen, VerifiersError):
            raise chosen
        return domain, chosen
