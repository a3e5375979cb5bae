"""verifiers-ifeval: an instruction-following verifier plugin for verifier-suite.

Registers the `ifeval` verifier (domain `instruction_following`) and routes samples whose reference is a list of
ifeval constraints to that domain. Uses only the public `verifiers` API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from verifiers import Sample, hookimpl

from .constraints import TYPES, Constraint, SpecError, count_sentences, count_words, parse_constraints
from .language import SUPPORTED_LANGUAGES, detect_language
from .verifier import IFEval

__version__ = "0.1.0"

__all__ = [
    "SUPPORTED_LANGUAGES",
    "TYPES",
    "Constraint",
    "IFEval",
    "SpecError",
    "count_sentences",
    "count_words",
    "detect_language",
    "parse_constraints",
]


@hookimpl
def register_verifiers(register: Callable[..., None]) -> None:
    register(IFEval)


@hookimpl
def route_sample(sample: Sample) -> str | None:
    """`instruction_following` for a reference that is a non-empty list of mappings that each have a `type`.

    Unknown types are routed too, so that a typo gets the `ifeval` error listing the known types.
    """
    ref: Any = sample.reference
    if isinstance(ref, (list, tuple)) and ref and all(isinstance(c, dict) and isinstance(c.get("type"), str)
                                                      for c in ref):
        return "instruction_following"
    return None
