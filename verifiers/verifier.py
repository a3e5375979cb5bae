"""The verifier object: what a plugin registers and what `verify()` runs.

Subclass `Verifier`, set `name` (and `domains`, `cost`, `options` as needed) and implement `verify`.
Anything with the same attributes and methods works too (see `VerifierLike`), but the base class gives
option handling and a stable cache identity for free.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Protocol, runtime_checkable

from .errors import OptionError
from .verdict import Sample, Verdict

__all__ = ["Verifier", "VerifierLike", "identity_key"]


@runtime_checkable
class VerifierLike(Protocol):
    """The duck type the core relies on."""

    name: str
    domains: tuple[str, ...]
    cost: float

    def verify(self, sample: Sample) -> Verdict: ...

    def verify_batch(self, samples: Sequence[Sample]) -> list[Verdict]: ...


class Verifier:
    """Base class for verifiers.

    Class attributes:
      name       the registered name (`"exact"`, `"math.symbolic"`).
      domains    the domains whose default cascade includes this verifier, cheapest `cost` first.
      cost       relative cost; orders the stages of a cascade.
      version    bump when behaviour changes, so cached verdicts from the old version are not reused.
      options    option name -> default. Call options override defaults; per-sample options in
                 `Sample.metadata` override both.
      cpu_bound  run in the worker-process pool (killable, with a hard deadline) even when the caller did not
                 ask for workers. Set for work that can run away (sympy).
      batched    `verify_batch` does real batching (a model judge): run it in-process on the whole batch.
      timeout    default per-sample deadline in seconds for pool execution, or None.
    """

    name: ClassVar[str] = ""
    domains: ClassVar[tuple[str, ...]] = ()
    cost: ClassVar[float] = 1.0
    version: ClassVar[str] = "1"
    options: ClassVar[Mapping[str, Any]] = {}
    cpu_bound: ClassVar[bool] = False
    batched: ClassVar[bool] = False
    timeout: ClassVar[float | None] = None

    def __init__(self, **options: Any) -> None:
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            known = ", ".join(sorted(self.options)) or "(none)"
            raise OptionError(
                f"verifier {self.name!r} does not take option(s) {', '.join(map(repr, unknown))}; "
                f"its options are: {known}"
            )
        self.config: dict[str, Any] = {**self.options, **options}
        self.check_options(self.config)

    @classmethod
    def check_options(cls, config: Mapping[str, Any]) -> None:
        """Raise `OptionError` when a value in `config` is unusable; say what to pass instead."""

    def settings(self, sample: Sample) -> dict[str, Any]:
        """The options in force for `sample`: defaults < call options < `sample.metadata` entries."""
        merged = dict(self.config)
        for key, value in sample.metadata.items():
            if key in merged:
                merged[key] = value
        return merged

    def resolve(self, sample: Sample) -> dict[str, Any] | Verdict:
        """`settings(sample)` checked: an ERROR verdict when the sample's metadata brings a bad value."""
        config = self.settings(sample)
        if config != self.config:
            try:
                self.check_options(config)
            except OptionError as exc:
                return Verdict.error(self.name, f"bad option in the sample's metadata: {exc}")
        return config

    def verify(self, sample: Sample) -> Verdict:
        raise NotImplementedError(f"{type(self).__name__} must implement verify(sample)")

    def verify_batch(self, samples: Sequence[Sample]) -> list[Verdict]:
        return [self.verify(sample) for sample in samples]

    def __repr__(self) -> str:
        shown = {k: v for k, v in self.config.items() if self.options.get(k) != v}
        args = ", ".join(f"{k}={v!r}" for k, v in shown.items())
        return f"<{type(self).__name__} {self.name!r}{' ' + args if args else ''}>"


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
