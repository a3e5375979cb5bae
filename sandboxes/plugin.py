"""The built-in sandbox plugin: registers the `bwrap` and `process` backends; `default_sandbox()`.

The `docker` backend (`sandboxes.docker`) is registered by its own module, not here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from verifiers.hookspecs import hookimpl

from . import SandboxUnavailable
from .bwrap import BwrapSandbox
from .process import ProcessSandbox

__all__ = ["default_sandbox", "register_sandboxes"]


@hookimpl
def register_sandboxes(register: Callable[..., None]) -> None:
    register(BwrapSandbox, "bwrap")
    register(ProcessSandbox, "process")


def default_sandbox(**options: Any) -> BwrapSandbox:
    """The default isolating sandbox: bubblewrap. Never falls back to the non-isolating `process` backend.

    Raises `SandboxUnavailable` (saying what to install or enable) when bubblewrap cannot run here; callers
    should turn that into an ERROR verdict, or choose another backend explicitly with `get_sandbox(name)`.
    """
    try:
        return BwrapSandbox(**options)
    except SandboxUnavailable as exc:
        raise SandboxUnavailable(
            f"no isolating sandbox is available: {exc}. The 'process' backend runs programs unisolated and is "
            "never chosen automatically; pass it explicitly only for trusted code"
        ) from exc
