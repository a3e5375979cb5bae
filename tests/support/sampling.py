"""Repeated random trials of the slowest Lean properties: a fixed, seeded sample by default, all of them on demand.

Under WebAssembly every Lean process costs ~15 s on 2 cores, so a property checked on several random shuffles (or
generated samples) costs a Lean start-up per trial. The default run checks a seeded sample of the trials, so that
the whole suite stays within minutes; `VERIFIERS_TEST_FULL=1` runs every trial (for a nightly or a release run).
Every attack, case and property is still checked by default: only the number of random repetitions changes.
"""

from __future__ import annotations

import os

__all__ = ["FULL", "trials"]

FULL = bool(os.environ.get("VERIFIERS_TEST_FULL"))
"""Whether this run checks every trial (`VERIFIERS_TEST_FULL=1`)."""


def trials(default: int, full: int) -> int:
    """How many random trials of a property to run: `default`, or `full` when `VERIFIERS_TEST_FULL` is set."""
    return full if FULL else default
