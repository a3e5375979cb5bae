"""Built-in plugin: verifiers that combine other verifiers' verdicts (weighted sum, gated)."""

from __future__ import annotations

from .hookspecs import hookimpl


@hookimpl
def register_verifiers(register):
    pass
