"""Model judges (in progress): the guards that run before any judge call are here (`guards`); the backends,
scoring modes, templates and the cascade stage come next (issue 6)."""

from __future__ import annotations

from .guards import MASTER_KEYS, Screened, is_master_key, screen

__all__ = ["MASTER_KEYS", "Screened", "is_master_key", "screen"]
