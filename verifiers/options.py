"""Verifier options as typed declarations, checked by one routine.

A verifier declares each option once, with its default, a one-line doc and what values it accepts:

    options = {
        "strip": Option.flag(True, "strip outer whitespace before comparing"),
        "max_chars": Option.integer(1_000_000, "longer responses are INCORRECT without running the pattern"),
    }

`check_config` refuses a name the verifier does not declare and a value its declaration does not accept, with an
`OptionError` that names the verifier, the option, what it must be and what it got. It runs when a verifier is
built and again for the options a sample's metadata overrides (`Verifier.resolve`), so both are checked the same
way. A plain value in `options` (`{"limit": 100}`, the old style that third-party plugins may still use) is an
untyped option with that default: any value passes, and the verifier's own `check_options` may check it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from .errors import OptionError

__all__ = [
    "Option",
    "changed",
    "check_config",
    "check_int",
    "check_number",
    "declaration",
    "defaults",
    "describe_options",
    "is_number",
    "need",
]

OptionKind = Literal["any", "bool", "int", "number", "choice", "str"]


@dataclass(frozen=True)
class Option:
    """One option: its default, a one-line doc, and the values it accepts.

    Build it with a constructor (`flag`, `integer`, `number`, `choice`, `text`) or directly for any other value:
    `Option(None, "doc", must="a list of tag names", accepts=predicate)`. `accepts(value)` returns whether the
    value is usable; for a structured value (a list of specs) it may instead raise an exception (`OptionError`)
    whose message says what is wrong. `optional`: None is accepted too. `per_sample`: a sample's metadata may
    override the option (False for options that pick a backend or switch a defence off, so a dataset column
    cannot).
    """

    default: Any
    doc: str = ""
    kind: OptionKind = "any"
    minimum: float | None = None
    """Smallest accepted value (`>=`); for `int` and `number`."""
    maximum: float | None = None
    """Largest accepted value (`<=`)."""
    above: float | None = None
    """Exclusive lower bound (`>`)."""
    below: float | None = None
    """Exclusive upper bound (`<`)."""
    choices: tuple[Any, ...] = ()
    optional: bool = False
    per_sample: bool = True
    must: str = ""
    """What a value must be, for messages; derived from the fields above when empty."""
    accepts: Callable[[Any], object] | None = None

    # -- constructors --------------------------------------------------------------------------------------------

    @classmethod
    def flag(cls, default: bool, doc: str, *, per_sample: bool = True) -> Option:
        """True or false."""
        return cls(default, doc, "bool", per_sample=per_sample)

    @classmethod
    def integer(cls, default: int | None, doc: str, *, minimum: int = 1, maximum: int | None = None,
                optional: bool = False, per_sample: bool = True) -> Option:  # fmt: skip
        """An int (not a bool) from `minimum` (default 1) to `maximum`."""
        return cls(default, doc, "int", minimum=minimum, maximum=maximum, optional=optional, per_sample=per_sample)

    @classmethod
    def number(cls, default: float | None, doc: str, *, minimum: float | None = None, maximum: float | None = None,
               above: float | None = None, below: float | None = None, optional: bool = False,
               per_sample: bool = True) -> Option:  # fmt: skip
        """A finite int, float or Fraction (not a bool) within the bounds given (`minimum`/`maximum` inclusive,
        `above`/`below` exclusive)."""
        return cls(default, doc, "number", minimum=minimum, maximum=maximum, above=above, below=below,
                   optional=optional, per_sample=per_sample)  # fmt: skip

    @classmethod
    def choice(cls, default: str | None, doc: str, choices: Sequence[str], *, optional: bool = False,
               per_sample: bool = True) -> Option:  # fmt: skip
        """One of `choices`."""
        return cls(default, doc, "choice", choices=tuple(choices), optional=optional, per_sample=per_sample)

    @classmethod
    def text(cls, default: str | None, doc: str, *, nonempty: bool = False, optional: bool = False,
             must: str = "", per_sample: bool = True) -> Option:  # fmt: skip
        """A string (`nonempty`: not ""); `must` replaces "a string" in messages when a name is expected."""
        return cls(default, doc, "str", minimum=1 if nonempty else None, optional=optional, per_sample=per_sample,
                   must=must)  # fmt: skip

    # -- checking ------------------------------------------------------------------------------------------------

    def describe(self) -> str:
        """What a value must be: "a positive integer", "one of 'a', 'b'", "true or false"; "" for any value."""
        what = self.must or self._derived()
        if what and self.optional:
            what += " or None"
        return what

    def check(self, verifier: str, name: str, value: Any) -> None:
        """Raise `OptionError` naming `verifier` and option `name` unless this declaration accepts `value`."""
        if value is None and self.optional:
            return
        if not self._fits(value):
            raise OptionError(f"{verifier}: option {name!r} must be {self.describe()}, got {_shown(value)}")
        if self.accepts is None:
            return
        try:
            ok = self.accepts(value)
        except Exception as exc:  # a structured value (a list of specs): the exception says what is wrong with it
            reason = str(exc).removeprefix(f"{verifier}: ")
            where = "" if reason.startswith(f"option {name!r}") else f"option {name!r}: "
            raise OptionError(f"{verifier}: {where}{reason}") from None
        if not ok:
            raise OptionError(f"{verifier}: option {name!r} must be {self.describe()}, got {_shown(value)}")

    def _fits(self, value: Any) -> bool:
        if self.kind == "bool":
            return isinstance(value, bool)
        if self.kind == "choice":
            return any(type(value) is type(c) and value == c for c in self.choices)
        if self.kind == "str":
            return isinstance(value, str) and (self.minimum is None or len(value) >= self.minimum)
        if self.kind == "int":
            return isinstance(value, int) and not isinstance(value, bool) and self._within(value)
        if self.kind == "number":
            return is_number(value) and self._within(value)
        return True

    def _within(self, value: Any) -> bool:
        return (
            (self.minimum is None or value >= self.minimum)
            and (self.maximum is None or value <= self.maximum)
            and (self.above is None or value > self.above)
            and (self.below is None or value < self.below)
        )

    def _derived(self) -> str:
        if self.kind == "bool":
            return "true or false"
        if self.kind == "choice":
            return f"one of {', '.join(map(repr, self.choices))}"
        if self.kind == "str":
            return "a non-empty string" if self.minimum else "a string"
        if self.kind == "int":
            if self.maximum is not None:
                return f"an integer from {self.minimum} to {self.maximum}"
            return "a positive integer" if self.minimum == 1 else f"an integer >= {self.minimum}"
        if self.kind == "number":
            low = self.minimum if self.minimum is not None else self.above
            high = self.maximum if self.maximum is not None else self.below
            if low is not None and high is not None:
                opening, closing = "[" if self.minimum is not None else "(", "]" if self.maximum is not None else ")"
                return f"a number in {opening}{low}, {high}{closing}"
            if low is not None:
                return f"a finite number {'>=' if self.minimum is not None else '>'} {low}"
            if high is not None:
                return f"a finite number {'<=' if self.maximum is not None else '<'} {high}"
            return "a finite number"
        return ""


def is_number(value: Any) -> bool:
    """A finite int, float or Fraction (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction)):
        return False
    return isinstance(value, (int, Fraction)) or math.isfinite(value)


def _shown(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


# -- a verifier's declarations -----------------------------------------------------------------------------------


def declaration(value: Any) -> Option:
    """The declaration behind one entry of a verifier's `options`: an `Option` as is, a plain value as an untyped
    option with that default (the old style)."""
    return value if isinstance(value, Option) else Option(value)


def defaults(options: Mapping[str, Any]) -> dict[str, Any]:
    """Option name -> default, from a verifier's `options`."""
    return {name: declaration(value).default for name, value in options.items()}


def check_config(verifier: str, options: Mapping[str, Any], config: Mapping[str, Any]) -> None:
    """The one check of option values: raise `OptionError` for a name in `config` that `options` does not declare
    (listing the ones it does) or a value its declaration does not accept."""
    unknown = sorted(set(config) - set(options))
    if unknown:
        known = ", ".join(sorted(options)) or "(none)"
        raise OptionError(
            f"verifier {verifier!r} does not take option(s) {', '.join(map(repr, unknown))}; its options are: {known}"
        )
    for name, value in config.items():
        declaration(options[name]).check(verifier, name, value)


def changed(config: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of `config` that `base` lacks or holds another value for; a value of another type counts as
    another value (`1` is not `True`), so an override is never waved through as equal to a checked one."""
    return {k: v for k, v in config.items() if k not in base or type(v) is not type(base[k]) or v != base[k]}


def describe_options(options: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One JSON-safe row per option, in declaration order: name, default, doc, what it accepts, per-sample."""
    rows = []
    for name, value in options.items():
        option = declaration(value)
        rows.append({"name": name, "default": _json_safe(option.default), "doc": option.doc,
                     "accepts": option.describe() or "any value", "per_sample": option.per_sample})  # fmt: skip
    return rows


def _json_safe(value: Any) -> Any:
    """`value` as JSON data (a tuple becomes a list); a value JSON cannot hold becomes its repr."""
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError):
        return repr(value)


# -- checks of settings that are not a verifier's options (a server's, an integration's) ----------------------------


def need(ok: bool, message: str) -> None:
    """Raise `OptionError(message)` unless `ok`."""
    if not ok:
        raise OptionError(message)


def check_int(name: str, config: Mapping[str, Any], key: str, *, minimum: int = 1, maximum: int | None = None,
              optional: bool = False) -> None:  # fmt: skip
    """`config[key]` checked as `Option.integer` would check it, in messages naming `name`."""
    Option.integer(None, "", minimum=minimum, maximum=maximum, optional=optional).check(name, key, config[key])


def check_number(name: str, config: Mapping[str, Any], key: str, *, minimum: float = 0.0, optional: bool = False,
                 strict: bool = False) -> None:  # fmt: skip
    """`config[key]` checked as a finite number >= `minimum` (> with `strict`), in messages naming `name`."""
    low, above = (None, minimum) if strict else (minimum, None)
    Option.number(None, "", minimum=low, above=above, optional=optional).check(name, key, config[key])
