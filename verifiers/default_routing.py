"""Built-in plugin: guess a sample's domain from the shape of its reference when none is given.

Deliberately shallow: an explicit `domain` (on the sample or the call) always wins, and third-party
`route_sample` hooks run before this one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .code_formats import is_test_suite
from .hookspecs import hookimpl
from .numbers import is_plain
from .verdict import Sample

_CHOICE = re.compile(r"^\s*\(?([A-J])\)?\s*$")
_LATEX_OR_RELATION = re.compile(r"[\\^{}$=<>]")
_INTERVAL_OR_TUPLE = re.compile(r"^\s*[\[(].*,.*[\])]\s*$")
_OPERATION = re.compile(r"[\w)]\s*[-+*/]\s*[\w(]")
_LEAN_STATEMENT = re.compile(r"^\s*(?:theorem|lemma)\s+\S+.*:|^\s*example\s*[({\[:]", re.DOTALL)
_FUNCTION = re.compile(r"\b(?:sin|cos|tan|log|ln|exp|sqrt|pi)\b")
_WORD = re.compile(r"[A-Za-z]{3,}")


def _looks_like_math(text: str) -> bool:
    """LaTeX, a relation, an interval or tuple, or an operation between terms that are not words."""
    if _LATEX_OR_RELATION.search(text) or _INTERVAL_OR_TUPLE.match(text):
        return True
    return bool(_OPERATION.search(text)) and not _WORD.search(_FUNCTION.sub("", text))


def guess_domain(reference: Any) -> str | None:
    if is_test_suite(reference):  # also the JSON text of one, as verl and OpenRLHF rows carry it
        return "code"
    if isinstance(reference, Mapping):
        if "steps" in reference or "statement" in reference:
            return "lean"
        if "principles" in reference:
            return "rubric"
        return None
    if isinstance(reference, bool):
        return "text"
    if isinstance(reference, (int, float)):
        return "numeric"
    if isinstance(reference, str):
        if _LEAN_STATEMENT.match(reference):
            return "lean"
        if _CHOICE.match(reference):
            return "multiple_choice"
        if is_plain(reference):
            return "numeric"
        if _looks_like_math(reference):
            return "math"
        return "text"
    if isinstance(reference, (list, tuple)) and all(isinstance(r, str) for r in reference):
        return "text"
    return None


@hookimpl(trylast=True)
def route_sample(sample: Sample) -> str | None:
    return guess_domain(sample.reference)
