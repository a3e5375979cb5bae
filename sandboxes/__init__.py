"""Isolated execution of untrusted programs. Execution only: no verifier logic lives here.

This module holds the contract every backend meets (`Sandbox`, `Limits`, `ExecResult`, `Outcome`); backends
are registered through the `register_sandboxes` hook and looked up with `verifiers.plugins.get_sandbox`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["Limits", "Outcome", "ExecResult", "Sandbox"]


@dataclass(frozen=True)
class Limits:
    """Resource limits for one execution. `None` means the backend's default, never "unlimited"."""

    cpu_s: float = 10.0
    wall_s: float = 20.0
    memory_mb: int = 512
    pids: int = 64
    file_size_mb: int = 16
    output_bytes: int = 1 << 20
    network: bool = False


class Outcome(str, enum.Enum):
    """How an execution ended."""

    OK = "ok"
    RUNTIME_ERROR = "runtime_error"
    TIMEOUT = "timeout"
    MEMORY = "memory"
    OUTPUT_LIMIT = "output_limit"
    SANDBOX_ERROR = "sandbox_error"


@dataclass(frozen=True)
class ExecResult:
    """What happened to a program in a sandbox. `SANDBOX_ERROR` is the sandbox's failure, not the program's."""

    outcome: Outcome
    exit_code: int | None = None
    signal: int | None = None
    stdout: str = ""
    stderr: str = ""
    wall_s: float = 0.0
    cpu_s: float = 0.0
    detail: str = ""


@runtime_checkable
class Sandbox(Protocol):
    """A backend that runs a program under `Limits` and reports an `ExecResult`."""

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
