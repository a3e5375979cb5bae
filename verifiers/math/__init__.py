"""Built-in plugin: math answer verification (extraction, LaTeX parsing, symbolic equivalence, step checks).

Two verifiers make the default `math` cascade: `math.rule` (cost 0.3, in-process, no sympy) and
`math.symbolic` (cost 10, sympy in the worker pool with a deadline); the judge joins later. Modules:
`semantics` (the one rule for numbers: exact values, rounded decimals; no sympy), `units` (units split off and
converted), `normalize` (answer comparison form and policies, no sympy), `parse` (LaTeX and Python syntax ->
sympy with caps), `equivalence` (`compare(pred, gold)`), `forms` (form requirements), `verifier` (the two
verifiers and answer extraction). `math.steps` (`steps`, on the safe arithmetic parser in `arith`) checks the
computational claims of a worked solution; it is used by name, not in the default cascade. docs/math-semantics.md
writes the rules down.
"""

from __future__ import annotations

from ..hookspecs import hookimpl
from .normalize import NormalForm, Policy, normalize_answer
from .steps import MathSteps
from .verifier import MathRule, MathSymbolic, extract_answer

__all__ = ["MathRule", "MathSteps", "MathSymbolic", "NormalForm", "Policy", "extract_answer", "normalize_answer"]


@hookimpl
def register_verifiers(register):
    register(MathRule)
    register(MathSymbolic)
    register(MathSteps)
