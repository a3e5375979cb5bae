"""Checks for verifier options, shared by the built-in verifiers' `check_options`: each raises `OptionError` with a
message that names the verifier, the option, what it must be and what it got."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from .errors import OptionError


def is_number(value: Any) -> bool:
    """A finite int, float or Fraction (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction)):
        return False
    return isinstance(value, (int, Fraction)) or math.isfinite(value)


def need(ok: bool, message: str) -> None:
    if not ok:
        raise OptionError(message)


def check_bools(name: str, config: Mapping[str, Any], keys: Sequence[str]) -> None:
    for key in keys:
        need(isinstance(config[key], bool), f"{name}: option {key!r} must be true or false, got {config[key]!r}")


def check_choice(name: str, config: Mapping[str, Any], key: str, allowed: Sequence[str]) -> None:
    need(
        config[key] in allowed,
        f"{name}: option {key!r} must be one of {', '.join(map(repr, allowed))}, got {config[key]!r}",
    )


def check_int(name: str, config: Mapping[str, Any], key: str, *, minimum: int = 1, maximum: int | None = None,
              optional: bool = False) -> None:
    value = config[key]
    if optional and value is None:
        return
    what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
    if maximum is not None:
        what = f"an integer from {minimum} to {maximum}"
    need(isinstance(value, int) and not isinstance(value, bool) and minimum <= value <= (maximum or value),
         f"{name}: option {key!r} must be {what}{' or None' if optional else ''}, got {value!r}")  # fmt: skip


def check_number(name: str, config: Mapping[str, Any], key: str, *, minimum: float = 0.0, optional: bool = False,
                 strict: bool = False) -> None:  # fmt: skip
    value = config[key]
    if optional and value is None:
        return
    ok = is_number(value) and (value > minimum if strict else value >= minimum)
    bound = f"> {minimum}" if strict else f">= {minimum}"
    need(ok, f"{name}: option {key!r} must be a finite number {bound}{' or None' if optional else ''}, got {value!r}")
