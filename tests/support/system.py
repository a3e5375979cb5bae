"""System parts the tests need (bubblewrap, a Docker engine, Chromium, a Lean toolchain): without one, its tests
skip and say what is missing and how to install it, unless the run demands the part.

`VERIFIERS_REQUIRE=bwrap,docker,chromium,lean` (or `all`) demands parts: a run that has installed them (CI, after
`scripts/install-system-packages` as root) sets it, so that a part that is missing or broken there fails its tests
instead of silently skipping the sandbox or Lean soundness batteries. `VERIFIERS_REQUIRE_LEAN=1` demands `lean`.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

__all__ = ["PARTS", "demanded", "missing", "requirements", "skip_without"]

PARTS = ("bwrap", "docker", "chromium", "lean")
"""The system parts a run can demand."""


def requirements() -> set[str]:
    """The parts this run demands; raises `pytest.UsageError` for a name that is not a part (a typo would
    otherwise demand nothing)."""
    names = {name.strip() for name in os.environ.get("VERIFIERS_REQUIRE", "").split(",") if name.strip()}
    unknown = sorted(names - {*PARTS, "all"})
    if unknown:
        raise pytest.UsageError(f"VERIFIERS_REQUIRE names {unknown}: the parts are {', '.join(PARTS)} (or all)")
    if "all" in names:
        names = set(PARTS)
    if os.environ.get("VERIFIERS_REQUIRE_LEAN"):
        names.add("lean")
    return names


def demanded(part: str) -> bool:
    """Whether this run must fail, rather than skip, the tests of `part` when it is missing."""
    return part in requirements()


def missing(part: str, problem: str) -> NoReturn:
    """Skip the calling test or fixture: `part` is missing here (`problem` says why and what to install).

    Fails instead when the run demands the part.
    """
    __tracebackhide__ = True  # pytest reports the skip at the caller (the test or fixture), not here
    if demanded(part):
        pytest.fail(f"{problem} (VERIFIERS_REQUIRE demands {part}: these tests must run here)", pytrace=False)
    pytest.skip(problem)


def skip_without(part: str, problem: str) -> pytest.MarkDecorator:
    """A `skipif` mark for the tests that need `part` (`problem`: what is missing, '' when it is here).

    When the run demands the missing part, importing the test module fails instead (a collection error).
    """
    if problem and demanded(part):
        pytest.fail(f"{problem} (VERIFIERS_REQUIRE demands {part}: these tests must run here)", pytrace=False)
    return pytest.mark.skipif(bool(problem), reason=problem)
