"""Exceptions a user can act on. Each message says what exists or what to do."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "VerifiersError",
    "UnknownNameError",
    "UnknownVerifierError",
    "UnknownDomainError",
    "UnknownSandboxError",
    "UnknownJudgeBackendError",
    "OptionError",
    "DatasetError",
    "PluginError",
]


class VerifiersError(Exception):
    """Base class of every error this library raises on purpose."""


class UnknownNameError(VerifiersError, KeyError):
    """A name was asked for that no plugin registered."""

    kind = "name"

    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.known = sorted(known)
        listing = ", ".join(self.known) if self.known else "(none registered)"
        super().__init__(f"unknown {self.kind} {name!r}; registered: {listing}")

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class UnknownVerifierError(UnknownNameError):
    kind = "verifier"


class UnknownDomainError(UnknownNameError):
    kind = "domain"


class UnknownSandboxError(UnknownNameError):
    kind = "sandbox"


class UnknownJudgeBackendError(UnknownNameError):
    kind = "judge backend"


class OptionError(VerifiersError, ValueError):
    """A verifier was given an option it does not take, or a bad value for one."""


class DatasetError(VerifiersError, ValueError):
    """A dataset cannot be read as asked (missing file, missing columns, unknown format)."""


class PluginError(VerifiersError):
    """A plugin could not be loaded or registered something invalid."""
