"""The verifier contract: what a plugin registers and what `verify()` runs.

Three capabilities, each a base class a plugin can subclass (or match as a duck type, see `VerifierLike`):

- `Verifier` (plain): `verify(sample)` decides one sample; the runner may call it in this process or in a killable
  worker process (`cpu_bound`, or when the caller asks for workers or a timeout).
- `BatchedVerifier`: `verify_batch(samples)` does real batching (a model judge, sandboxes in parallel, one Lean
  process); it always runs in this process, on the whole batch.
- `CompositeVerifier` (`verifiers.composite`): runs other verifiers, its parts, through the `PartRunner` it is
  given, so each part keeps its own placement, cache and deadline (cascades, weighted sums, checklists).

`traits(verifier)` is the one place that reads where a verifier runs. The base classes also give option handling
(`options` declared per class, checked in one routine) and a stable cache identity (`identity_key`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from .errors import OptionError
from .options import Option, changed, check_config, declaration, defaults
from .verdict import Sample, Verdict

__all__ = ["BatchedVerifier", "Kind", "PartRunner", "Traits", "Verifier", "VerifierLike", "identity_key", "traits"]


@runtime_checkable
class VerifierLike(Protocol):
    """The duck type the core relies on: read-only `name`, `domains` and `cost` (class or instance attributes)."""

    @property
    def name(self) -> str: ...

    @property
    def domains(self) -> tuple[str, ...]: ...

    @property
    def cost(self) -> float: ...

    def verify(self, sample: Sample) -> Verdict: ...

    def verify_batch(self, samples: Sequence[Sample]) -> list[Verdict]: ...


class Verifier:
    """Base class for verifiers.

    Class attributes:
      name       the registered name (`"exact"`, `"math.symbolic"`).
      domains    the domains whose default cascade includes this verifier, cheapest `cost` first.
      cost       relative cost; orders the stages of a cascade.
      version    bump when behaviour changes, so cached verdicts from the old version are not reused.
      options    option name -> `Option` (`verifiers.options`): its default, a one-line doc and the values it
                 accepts, checked by one routine at construction and for per-sample overrides. Call options
                 override defaults; a sample's `metadata` entry of the same name overrides both, unless the
                 option says `per_sample=False`. A plain value instead of an `Option` (`{"limit": 100}`, the
                 old style) is an untyped option with that default: any value passes unless `check_options`
                 refuses it.
      cpu_bound  run in the worker-process pool (killable, with a hard deadline) even when the caller did not
                 ask for workers. Set for work that can run away (sympy).
      batched    `verify_batch` does real batching (a model judge): run it in-process on the whole batch.
      timeout    default per-sample deadline in seconds for pool execution, or None.
    """

    name: str = ""  # a class attribute; a composite built at run time (a cascade) names its instance
    domains: tuple[str, ...] = ()
    cost: ClassVar[float] = 1.0
    version: ClassVar[str] = "1"
    options: ClassVar[Mapping[str, Option | Any]] = {}
    cpu_bound: ClassVar[bool] = False
    batched: ClassVar[bool] = False
    timeout: ClassVar[float | None] = None

    def __init__(self, **options: Any) -> None:
        config = {**defaults(self.options), **options}
        check_config(self.name, self.options, config)  # unknown names and values the declarations refuse
        self.config: dict[str, Any] = config
        self.check_options(self.config)

    @classmethod
    def check_options(cls, config: Mapping[str, Any]) -> None:
        """The hook for rules between options (`min_length <= max_length`): raise `OptionError` saying what to pass.

        Each value has already passed its own declaration in `options`; an old-style plugin with plain defaults
        may check its values here too. Called at construction and for every per-sample override.
        """

    def settings(self, sample: Sample) -> dict[str, Any]:
        """The options in force for `sample`: defaults < call options < `sample.metadata` entries (those of options
        declared `per_sample`)."""
        merged = dict(self.config)
        for key, value in sample.metadata.items():
            if key in merged and key in self.options and declaration(self.options[key]).per_sample:
                merged[key] = value
        return merged

    def resolve(self, sample: Sample) -> dict[str, Any] | Verdict:
        """`settings(sample)` checked like call options: an ERROR verdict when the metadata brings a bad value."""
        config = self.settings(sample)
        overrides = changed(config, self.config)
        if overrides:
            try:
                check_config(self.name, self.options, overrides)
                self.check_options(config)
            except OptionError as exc:
                return Verdict.error(self.name, f"bad option in the sample's metadata: {exc}")
        return config

    def verify(self, sample: Sample) -> Verdict:
        raise NotImplementedError(f"{type(self).__name__} must implement verify(sample)")

    def verify_batch(self, samples: Sequence[Sample]) -> list[Verdict]:
        """One `verify` per sample, each timed on its own: the runner keeps that time instead of an even share of
        the whole batch's (which it marks with `batch_size`)."""
        verdicts = []
        for sample in samples:
            start = time.perf_counter()
            verdict = self.verify(sample)
            if isinstance(verdict, Verdict) and verdict.elapsed_s == 0.0:
                verdict = verdict.replace(elapsed_s=time.perf_counter() - start)
            verdicts.append(verdict)
        return verdicts

    def __repr__(self) -> str:
        shown = changed(self.config, defaults(self.options))
        args = ", ".join(f"{k}={v!r}" for k, v in shown.items())
        return f"<{type(self).__name__} {self.name!r}{' ' + args if args else ''}>"


class BatchedVerifier(Verifier):
    """A verifier whose `verify_batch` does real batching; implement `verify_batch` (and only it).

    It runs in this process on the whole batch, never in the worker pool: what it keeps warm (a model, sandboxes,
    a Lean process) stays in one place, and its own deadlines apply (a batch has no per-sample hard deadline).
    """

    batched: ClassVar[bool] = True

    def verify(self, sample: Sample) -> Verdict:
        return self.verify_batch([sample])[0]

    def verify_batch(self, samples: Sequence[Sample]) -> list[Verdict]:
        raise NotImplementedError(f"{type(self).__name__} must implement verify_batch(samples)")


class PartRunner(Protocol):
    """What a composite verifier runs its parts with: verdicts for `samples`, in order, never an exception.

    `verifiers.runner.Runner` is the implementation; it places each part (in-process, worker pool) and caches it.
    """

    def run(self, verifier: Any, samples: Sequence[Sample]) -> list[Verdict]: ...


Kind = Literal["plain", "batched", "composite"]


@dataclass(frozen=True)
class Traits:
    """Where and how a verifier runs, read once from its class: the runner's only input about the verifier.

    `kind`: plain, batched or composite (see the module docstring). `cpu_bound`: a plain verifier whose work can
    run away (sympy) always runs in the killable worker pool. `timeout`: its default per-sample deadline in the
    pool, in seconds (the caller's `timeout=` wins), or None.
    """

    kind: Kind
    cpu_bound: bool = False
    timeout: float | None = None


def traits(verifier: Any) -> Traits:
    """The `Traits` of `verifier`: from the base class it derives from, or the same class attributes on a duck type
    (`composite`, `batched`, `cpu_bound`, `timeout`)."""
    kind: Kind = "plain"
    if getattr(verifier, "composite", False) is True:
        kind = "composite"
    elif getattr(verifier, "batched", False) is True:
        kind = "batched"
    timeout = getattr(type(verifier), "timeout", None)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        timeout = None
    return Traits(kind, cpu_bound=getattr(verifier, "cpu_bound", False) is True, timeout=timeout)


def identity_key(verifier: Any) -> str:
    """A string that is equal for verifiers that behave the same: name, version and options.

    Used for caching. Options that are not JSON data (a callable checker) are keyed by their repr, so such a
    verifier is only cached within one process.
    """
    config = getattr(verifier, "config", None)
    if config is None:
        config = {"repr": repr(verifier)}
    payload = {
        "name": getattr(verifier, "name", type(verifier).__name__),
        "version": str(getattr(verifier, "version", "0")),
        "class": f"{type(verifier).__module__}.{type(verifier).__qualname__}",
        "options": config,
    }
    return json.dumps(payload, sort_keys=True, default=repr, ensure_ascii=False)
