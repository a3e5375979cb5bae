"""Optional Python extras in the tests: a test module that needs one skips, saying which extra installs it.

`pip install -e '.[dev]'` installs every extra; a lighter install (`.[testing]`, `.[judge]`, ...) skips the tests
of what it left out instead of failing them at import. Call `pytest.importorskip(module, reason=install_hint(...))`
in the test module itself, so that the skip names the module it skips.
"""

from __future__ import annotations

__all__ = ["install_hint"]


def install_hint(module: str, extra: str) -> str:
    """The skip reason for a missing `module`: what is missing and the command that installs it."""
    every = "" if extra == "dev" else " (or '.[dev]' for every extra)"
    return f"{module} is not installed: pip install -e '.[{extra}]'{every}"
