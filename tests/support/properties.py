"""Hypothesis for the property tests, or stand-ins that skip them when it is not installed.

Hypothesis is a test dependency (the `dev` and `testing` extras), not a library one. Test modules import it from
here, so that without it each `@given` test is skipped with the reason and the module's other tests still run,
instead of the whole module failing to import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from .extras import install_hint

__all__ = ["HYPOTHESIS_MISSING", "HealthCheck", "assume", "given", "settings", "st"]

HYPOTHESIS_MISSING = install_hint("hypothesis", "testing")
"""The reason property tests are skipped, or "" when hypothesis is installed."""

if TYPE_CHECKING:
    from hypothesis import HealthCheck, assume, given, settings
    from hypothesis import strategies as st
else:
    try:
        from hypothesis import HealthCheck, assume, given, settings
        from hypothesis import strategies as st

        HYPOTHESIS_MISSING = ""
    except ModuleNotFoundError as exc:
        if exc.name != "hypothesis":
            raise

        class _StandIn:
            """Absorbs what a module does with hypothesis at import time: strategies, settings, health checks.

            `decorates`: calling it on a function returns the function (`@settings(...)` keeps the test for `given`
            to skip); otherwise every call and attribute is a stand-in again (`@st.composite` makes a strategy).
            """

            def __init__(self, decorates: bool = False) -> None:
                self._decorates = decorates

            def __getattr__(self, name: str) -> _StandIn:
                if name.startswith("_"):  # what pytest and copy probe objects for (`_pytestfixturefunction`, ...)
                    raise AttributeError(name)
                return self

            def __call__(self, *args: Any, **kwargs: Any) -> Any:
                if self._decorates and len(args) == 1 and callable(args[0]) and not kwargs:
                    return args[0]
                return self

            def __or__(self, other: object) -> _StandIn:
                return self

            __ror__ = __or__

        st = HealthCheck = _StandIn()
        settings = _StandIn(decorates=True)

        def given(*args: Any, **kwargs: Any) -> Any:
            return pytest.mark.skip(reason=HYPOTHESIS_MISSING)

        def assume(condition: object) -> bool:
            raise AssertionError("unreachable: property tests are skipped without hypothesis")
