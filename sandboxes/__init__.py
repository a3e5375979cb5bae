"""Isolated execution of untrusted programs. Execution only: no verifier logic lives here.

This module holds the contract every backend meets (`Sandbox`, `Limits`, `ExecResult`, `Outcome`); backends
are registered through the `register_sandboxes` hook and looked up with `verifiers.plugins.get_sandbox`.
Built-in backends: `bwrap` (the default, `sandboxes.bwrap`) and `process` (rlimits only, not isolating,
`sandboxes.process`); `default_sandbox()` returns the strongest one that works here or raises.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "ExecResult",
    "Limits",
    "Outcome",
    "Sandbox",
    "SandboxError",
    "SandboxPool",
    "SandboxUnavailable",
    "SandboxWarning",
    "UnknownLanguageError",
    "default_sandbox",
    "run_many",
]


@dataclass(frozen=True)
class Limits:
    """Resource limits for one execution. `None` means the backend's default, never "unlimited".

    `cpu_s` is CPU time per process (RLIMIT_CPU), `wall_s` the wall clock of the whole execution,
    `memory_mb` and `pids` cover the whole process tree (a cgroup where the backend has one),
    `file_size_mb` caps any one written file (RLIMIT_FSIZE), `disk_mb` each private tmpfs (/tmp and the
    working directory), `output_bytes` stdout and stderr together, `open_files` RLIMIT_NOFILE.
    """

    cpu_s: float = 10.0
    wall_s: float = 20.0
    memory_mb: int = 512
    pids: int = 64
    file_size_mb: int = 16
    output_bytes: int = 1 << 20
    network: bool = False
    disk_mb: int = 64
    open_files: int = 256


class Outcome(str, enum.Enum):
    """How an execution ended."""

    OK = "ok"
    RUNTIME_ERROR = "runtime_error"
    TIMEOUT = "timeout"
    MEMORY = "memory"
    OUTPUT_LIMIT = "output_limit"
    COMPILE_ERROR = "compile_error"
    SANDBOX_ERROR = "sandbox_error"


@dataclass(frozen=True)
class ExecResult:
    """What happened to a program in a sandbox. `SANDBOX_ERROR` is the sandbox's failure, not the program's.

    `signal` is the signal that ended the program (then `exit_code` is None); `COMPILE_ERROR` carries the
    compiler's message in `stderr`.
    """

    outcome: Outcome
    exit_code: int | None = None
    signal: int | None = None
    stdout: str = ""
    stderr: str = ""
    wall_s: float = 0.0
    cpu_s: float = 0.0
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


class SandboxError(Exception):
    """Base class of the sandbox package's exceptions."""


class SandboxUnavailable(SandboxError):
    """A backend cannot run on this machine (missing binary, user namespaces disabled, ...).

    Raised instead of silently running untrusted code with weaker isolation.
    """


class UnknownLanguageError(SandboxError, ValueError):
    """A program's language is not one the sandbox knows; the message lists the known ones."""


class SandboxWarning(UserWarning):
    """A sandbox runs with weaker guarantees than asked for (no isolation, a limit it cannot enforce)."""


@runtime_checkable
class Sandbox(Protocol):
    """A backend that runs a program under `Limits` and reports an `ExecResult`.

    `run` never raises for anything the program does; failures of the sandbox itself are `SANDBOX_ERROR`.
    Backends may also offer `run_many` (compile once, run per input); `sandboxes.run_many` falls back to
    repeated `run` calls for those that do not. `isolating` is False for backends that do not contain the
    program (the `process` backend).
    """

    name: str

    def run(
        self,
        program: str,
        *,
        language: str = "python",
        stdin: str = "",
        files: Mapping[str, str] | None = None,
        limits: Limits = Limits(),
    ) -> ExecResult: ...


def run_many(
    sandbox: Sandbox,
    program: str,
    *,
    language: str = "python",
    stdins: Sequence[str],
    files: Mapping[str, str] | None = None,
    limits: Limits = Limits(),
) -> tuple[ExecResult | None, list[ExecResult]]:
    """Run `program` once per stdin: (compile result or None, one result per stdin, in order).

    Uses the backend's own `run_many` (which compiles once) when it has one.
    """
    own = getattr(sandbox, "run_many", None)
    if own is not None:
        return own(program, language=language, stdins=stdins, files=files, limits=limits)
    return None, [sandbox.run(program, language=language, stdin=s, files=files, limits=limits) for s in stdins]


from .pool import SandboxPool  # noqa: E402  (the pool builds on the types above)


def __getattr__(name: str) -> Any:
    # `default_sandbox` lives with the plugin, which imports `verifiers`; load it only when asked for.
    if name == "default_sandbox":
        from .plugin import default_sandbox

        return default_sandbox
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
