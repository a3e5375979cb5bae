"""What a sandbox backend enforces here: its limits mode and, per limit, enforced / approximated / not enforced.

Backends expose an `Enforcement` as `sandbox.enforcement`; `verifiers sandbox doctor` prints it, the code verifier
names the mode in every verdict's evidence, and `require_limits=True` refuses a backend (before any program runs)
that leaves a limit not enforced.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

__all__ = [
    "APPROXIMATED",
    "ENFORCED",
    "NOT_ENFORCED",
    "REQUIRE_LIMITS_ENV",
    "Enforcement",
    "LimitState",
    "limits_required",
]

REQUIRE_LIMITS_ENV = "VERIFIERS_REQUIRE_SANDBOX_LIMITS"
"""Set to 1 to require limits everywhere a caller did not say (the CLI's `--require-sandbox-limits` sets it, so
worker processes inherit it)."""


def limits_required(explicit: bool | None = None) -> bool:
    """`explicit`, or else whether `$VERIFIERS_REQUIRE_SANDBOX_LIMITS` asks for enforced limits."""
    if explicit is not None:
        return explicit
    return os.environ.get(REQUIRE_LIMITS_ENV, "").strip().lower() in ("1", "true", "yes")


ENFORCED = "enforced"
APPROXIMATED = "approximated"
NOT_ENFORCED = "not enforced"


@dataclass(frozen=True)
class LimitState:
    """One limit (`memory`, `pids`, ...): its state and how it is held (or why it is not)."""

    limit: str
    state: str
    how: str


@dataclass(frozen=True)
class Enforcement:
    """A backend's limits here: `mode` (e.g. "cgroup v2", "cgroup v1", "fallback") and the state of each limit."""

    backend: str
    mode: str
    limits: tuple[LimitState, ...]

    def state(self, limit: str) -> str:
        return next((s.state for s in self.limits if s.limit == limit), NOT_ENFORCED)

    @property
    def not_enforced(self) -> list[LimitState]:
        return [s for s in self.limits if s.state == NOT_ENFORCED]

    def describe(self) -> str:
        """Lines for a person: the mode, then one line per limit."""
        width = max(len(s.limit) for s in self.limits)
        lines = [f"{self.backend}: limits mode {self.mode}"]
        lines += [f"  {s.limit.ljust(width)}  {s.state:<13} {s.how}" for s in self.limits]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "mode": self.mode,
            "limits": {s.limit: {"state": s.state, "how": s.how} for s in self.limits},
        }

    def refusal(self) -> str:
        """'' when every limit holds at least approximately; else what `require_limits` reports."""
        missing = self.not_enforced
        if not missing:
            return ""
        parts = "; ".join(f"{s.limit}: {s.how}" for s in missing)
        return f"{self.backend} ({self.mode}) does not enforce {', '.join(s.limit for s in missing)} here: {parts}"
