"""Built-in plugin: verifiers that combine other verifiers' verdicts (weighted sum, gated).

A component is a mapping `{"verifier": name, "weight": w, "options": {...}, "reference": ..., "name": label}`
(only `verifier` is required; `reference`, when present, replaces the sample's reference for that component).
Components run through the `Runner` the aggregate was given, batch-wise per component, so a component keeps its
placement (worker pool and deadline for `cpu_bound` verifiers, one big batch for a judge) and every exception
becomes an ERROR verdict. A component that fails (ERROR/TIMEOUT) fails the aggregate: a reward is never quietly
lowered because a verifier broke. Per-sample metadata is not passed on to components: their options are the
ones in their spec (per-sample `components` in metadata replace the whole list).

Component specs given at construction are checked eagerly: a malformed spec raises `OptionError`, an unknown
verifier name raises the registry's `UnknownVerifierError`, and a component's bad options raise its
`OptionError` — so a typo fails at start-up, not as ERROR verdicts hours into a run. Specs that arrive in a
sample's metadata are checked at verify time and give ERROR verdicts.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import plugins
from .calls import gather
from .composite import CompositeVerifier, run_named, unique_labels
from .errors import OptionError
from .hookspecs import hookimpl
from .options import Option
from .text import clip
from .verdict import Sample, Status, StepVerdict, Verdict
from .verifier import PartRunner

__all__ = ["Component", "parse_components", "Weighted", "Gated"]

_COMPONENT_KEYS = {"verifier", "weight", "options", "reference", "name"}
_UNDECIDED_POLICIES = ("undecided", "zero")
_COMPONENTS = Option(
    None,
    "the component verifiers: mappings {verifier, weight, options, reference, name}",
    optional=True,
    must="a non-empty list of component mappings",
    accepts=lambda v: bool(parse_components(v, "components")),
)
_UNDECIDED = Option.choice(
    "undecided",
    "an UNDECIDED component makes the aggregate UNDECIDED ('undecided') or counts as 0 ('zero')",
    _UNDECIDED_POLICIES,
)


@dataclass(frozen=True)
class Component:
    """One verifier inside an aggregate: its name, weight, options, and an optional reference override."""

    verifier: str
    weight: float = 1.0
    options: Mapping[str, Any] = field(default_factory=dict)
    has_reference: bool = False
    reference: Any = None
    label: str = ""

    def sample_for(self, sample: Sample) -> Sample:
        """The sample this component sees: same response and prompt; its own reference when the spec has one."""
        reference = self.reference if self.has_reference else sample.reference
        return Sample(
            response=sample.response, reference=reference, prompt=sample.prompt, domain=sample.domain, id=sample.id
        )


def _parse_component(spec: Any, where: str) -> Component:
    if not isinstance(spec, Mapping):
        raise OptionError(f"{where} must be a mapping such as {{'verifier': 'numeric', 'weight': 1}}, got {spec!r}")
    unknown = sorted(str(k) for k in spec if k not in _COMPONENT_KEYS)
    if unknown:
        raise OptionError(f"{where} has unknown key(s) {unknown}; known keys: {', '.join(sorted(_COMPONENT_KEYS))}")
    name = spec.get("verifier")
    if not isinstance(name, str) or not name:
        raise OptionError(f"{where} needs 'verifier': the name of a registered verifier, got {name!r}")
    weight = spec.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight < 0:
        raise OptionError(f"{where} weight must be a finite number >= 0, got {weight!r}")
    options = spec.get("options", {}) or {}
    if not isinstance(options, Mapping):
        raise OptionError(f"{where} options must be a mapping of option name to value, got {options!r}")
    label = spec.get("name")
    return Component(
        verifier=name,
        weight=float(weight),
        options=dict(options),
        has_reference="reference" in spec,
        reference=spec.get("reference"),
        label=str(label) if label not in (None, "") else name,
    )


def parse_components(specs: Any, where: str = "components") -> list[Component]:
    """Component specs (a non-empty list with a positive total weight) as `Component`s; `OptionError` otherwise."""
    if not isinstance(specs, (list, tuple)) or not specs:
        raise OptionError(f"{where} must be a non-empty list of component mappings, got {specs!r}")
    components = [_parse_component(spec, f"{where}[{i}]") for i, spec in enumerate(specs)]
    if math.fsum(c.weight for c in components) <= 0:
        raise OptionError(f"{where}: weights sum to 0; give at least one component a positive weight")
    labels = unique_labels(c.label for c in components)
    return [dataclasses.replace(c, label=label) for c, label in zip(components, labels)]


def _build(component: Component) -> Any:
    return plugins.get_verifier(component.verifier, **component.options)


def _component_step(component: Component, verdict: Verdict, weight: float | None = None) -> StepVerdict:
    return StepVerdict(
        component.label,
        verdict.status,
        verdict.score,
        component.weight if weight is None else weight,
        f"{verdict.verifier}: {clip(verdict.reason, 300)}",
    )


def _component_evidence(component: Component, verdict: Verdict) -> dict[str, Any]:
    embedded = verdict.to_dict(timing=False)  # what was concluded: equal input gives equal verdicts
    return {"name": component.label, "verifier": component.verifier, "weight": component.weight, "verdict": embedded}


def combine(name: str, components: Sequence[Component], verdicts: Sequence[Verdict], undecided: str) -> Verdict:
    """The weighted verdict of `components` from their `verdicts` (see `Weighted`)."""
    steps = [_component_step(c, v) for c, v in zip(components, verdicts)]
    fields: dict[str, Any] = {
        "steps": steps,
        "aspects": {c.label: v.score for c, v in zip(components, verdicts)},
        "evidence": {"components": [_component_evidence(c, v) for c, v in zip(components, verdicts)]},
    }
    for bad in (Status.ERROR, Status.TIMEOUT):
        hit = [(c, v) for c, v in zip(components, verdicts) if v.status is bad]
        if hit:
            c, v = hit[0]
            reason = f"component {c.label!r} ({c.verifier}) gave {bad.value}: {v.reason}"
            return (Verdict.error if bad is Status.ERROR else Verdict.timeout)(name, reason, **fields)
    open_ = [c.label for c, v in zip(components, verdicts) if v.status is Status.UNDECIDED]
    if open_ and undecided == "undecided":
        return Verdict.undecided(name, f"component(s) {', '.join(map(repr, open_))} could not decide", **fields)
    total = math.fsum(c.weight for c in components)
    pairs = list(zip(components, verdicts))
    score = math.fsum(c.weight * (0.0 if v.status is Status.UNDECIDED else v.score) for c, v in pairs)
    score = min(1.0, max(0.0, score / total))
    status = Status.CORRECT if score >= 1.0 else Status.INCORRECT if score <= 0.0 else Status.PARTIAL
    detail = ", ".join(f"{c.label}={v.score:.3g}" for c, v in zip(components, verdicts))
    return Verdict(status, score, name, f"weighted score {score:.4g} ({detail})", **fields)


class _Aggregate(CompositeVerifier):
    """Shared plumbing: per-sample component specs, eager checks at construction."""

    cost = 1.0

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        for spec_key in ("gate", "components"):
            value = self.config.get(spec_key)
            if value is None:
                continue
            for component in parse_components([value] if spec_key == "gate" else value, spec_key):
                _build(component)  # unknown names and bad options fail here, at construction

    def _plan(self, sample: Sample, keys: Sequence[str]) -> tuple[dict[str, Any], dict[str, list[Component]]] | Verdict:
        config = self.resolve(sample)
        if isinstance(config, Verdict):
            return config
        missing = [k for k in keys if config[k] is None]
        if missing:
            return Verdict.error(self.name, f"no {' or '.join(missing)} given: set option(s) {', '.join(missing)}")
        parsed = {}
        for key in keys:
            parsed[key] = parse_components([config[key]] if key == "gate" else config[key], key)
        return config, parsed


class Weighted(_Aggregate):
    """Weighted sum of component verifiers: score = Σ wᵢ·scoreᵢ / Σ wᵢ, one step and one aspect per component.

    Option `components`: a list of `{"verifier", "weight", "options", "reference", "name"}`. Any component
    ERROR/TIMEOUT makes the result ERROR/TIMEOUT (naming it); an UNDECIDED component makes it UNDECIDED unless
    `undecided="zero"`, which counts it as 0. Status CORRECT at 1, INCORRECT at 0, PARTIAL between.
    """

    name = "weighted"
    options = {"components": _COMPONENTS, "undecided": _UNDECIDED}

    def verify_parts(self, samples: Sequence[Sample], runner: PartRunner) -> list[Verdict]:
        results: dict[int, Verdict] = {}
        plans: dict[int, tuple[dict[str, Any], list[Component]]] = {}
        calls, where = [], []
        for s, sample in enumerate(samples):
            plan = self._plan(sample, ["components"])
            if isinstance(plan, Verdict):
                results[s] = plan
                continue
            config, parsed = plan
            plans[s] = (config, parsed["components"])
            for component in parsed["components"]:
                calls.append((component.verifier, component.options, component.sample_for(sample)))
                where.append(s)
        verdicts: dict[int, list[Verdict]] = {s: [] for s in plans}
        for s, verdict in zip(where, run_named(calls, runner)):
            verdicts[s].append(verdict)
        for s, (config, components) in plans.items():
            results[s] = combine(self.name, components, verdicts[s], config["undecided"])
        return gather(len(samples), results.items())


class Gated(_Aggregate):
    """Components count only when a gate verifier passes: gate not CORRECT → score 0, else the weighted score.

    Options `gate` (one component spec) and `components` (as for `weighted`). A gate that is INCORRECT or
    PARTIAL gives INCORRECT with score 0 (the gate's verdict in steps and evidence; components are not run).
    A gate ERROR/TIMEOUT gives ERROR/TIMEOUT, and an UNDECIDED gate gives UNDECIDED unless `undecided="zero"`
    (then it counts as not passed): a broken gate is never read as a failed answer.
    """

    name = "gated"
    options = {
        "gate": Option(
            None,
            "the component that must pass (CORRECT) for the others to count",
            optional=True,
            must="a component mapping",
            accepts=lambda v: bool(parse_components([v], "gate")),
        ),
        "components": _COMPONENTS,
        "undecided": _UNDECIDED,
    }

    def verify_parts(self, samples: Sequence[Sample], runner: PartRunner) -> list[Verdict]:
        results: dict[int, Verdict] = {}
        plans: dict[int, tuple[dict[str, Any], Component, list[Component]]] = {}
        for s, sample in enumerate(samples):
            plan = self._plan(sample, ["gate", "components"])
            if isinstance(plan, Verdict):
                results[s] = plan
                continue
            config, parsed = plan
            plans[s] = (config, parsed["gate"][0], parsed["components"])
        order = list(plans)
        gate_calls = [(plans[s][1].verifier, plans[s][1].options, plans[s][1].sample_for(samples[s])) for s in order]
        gates = dict(zip(order, run_named(gate_calls, runner)))
        calls, where = [], []
        for s in order:
            config, gate, components = plans[s]
            verdict = gates[s]
            early = self._gate_outcome(gate, verdict, config["undecided"])
            if early is not None:
                results[s] = early
                continue
            for component in components:
                calls.append((component.verifier, component.options, component.sample_for(samples[s])))
                where.append(s)
        verdicts: dict[int, list[Verdict]] = {}
        for s, verdict in zip(where, run_named(calls, runner)):
            verdicts.setdefault(s, []).append(verdict)
        for s, component_verdicts in verdicts.items():
            config, gate, components = plans[s]
            inner = combine(self.name, components, component_verdicts, config["undecided"])
            evidence = dict(inner.evidence)
            evidence["gate"] = _component_evidence(gate, gates[s])
            results[s] = inner.replace(
                steps=(self._gate_step(gate, gates[s]), *inner.steps),
                evidence=evidence,
                reason=f"gate {gate.label!r} passed; {inner.reason}",
            )
        return gather(len(samples), results.items())

    @staticmethod
    def _gate_step(gate: Component, verdict: Verdict) -> StepVerdict:
        step = _component_step(gate, verdict, weight=0.0)
        return StepVerdict(f"gate:{gate.label}", step.status, step.score, 0.0, step.detail)

    def _gate_outcome(self, gate: Component, verdict: Verdict, undecided: str) -> Verdict | None:
        """The final verdict when the gate decides it (did not pass, or failed); None when it passed."""
        if verdict.status is Status.CORRECT:
            return None
        fields: dict[str, Any] = {
            "steps": [self._gate_step(gate, verdict)],
            "aspects": {f"gate:{gate.label}": verdict.score},
            "evidence": {"gate": _component_evidence(gate, verdict)},
        }
        what = f"gate {gate.label!r} ({gate.verifier})"
        if verdict.status is Status.ERROR:
            return Verdict.error(self.name, f"{what} gave error: {verdict.reason}", **fields)
        if verdict.status is Status.TIMEOUT:
            return Verdict.timeout(self.name, f"{what} timed out: {verdict.reason}", **fields)
        if verdict.status is Status.UNDECIDED and undecided == "undecided":
            return Verdict.undecided(self.name, f"{what} could not decide: {verdict.reason}", **fields)
        return Verdict.incorrect(self.name, f"{what} did not pass ({verdict.status.value}): {verdict.reason}", **fields)


@hookimpl
def register_verifiers(register):
    register(Weighted)
    register(Gated)
