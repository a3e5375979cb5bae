"""Every hook a plugin can implement. The hook reference in docs/hooks.md mirrors this file.

Registration hooks take a `register` callback (the simonw/llm style): a plugin calls `register(...)` once per
thing it provides. Routing hooks are `firstresult`: the first non-None answer wins.
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from .verdict import Sample

hookspec = pluggy.HookspecMarker("verifiers")
hookimpl = pluggy.HookimplMarker("verifiers")


@hookspec
def register_verifiers(register: Callable[..., None]) -> None:
    """Register verifier factories: `register(factory, name=None)`.

    `factory` is a `Verifier` subclass (or any callable taking keyword options and returning a verifier);
    its `name`, `domains` and `cost` attributes place it in the registry and in default cascades.
    """


@hookspec
def register_sandboxes(register: Callable[..., None]) -> None:
    """Register sandbox backends: `register(factory, name=None)`; `factory(**options)` returns a sandbox."""


@hookspec
def register_judge_backends(register: Callable[..., None]) -> None:
    """Register model-judge backends: `register(factory, name=None)`; `factory(**options)` returns a backend."""


@hookspec(firstresult=True)
def route_sample(sample: Sample) -> str | None:
    """Name the domain of a sample that has none (`sample.domain is None`), or return None to pass.

    Called once per such sample; the first non-None answer wins. Plugins run before the built-in router,
    which guesses only from the shape of the reference.
    """
