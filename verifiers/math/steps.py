"""`math.steps`: tool-grounded checking of the computations written in a worked solution (GroundedPRM / VPR idea).

No reference is needed. The response is split into steps; every explicit computational claim the bounded parser
(`verifiers.math.arith`) can read is checked exactly with sympy, with one `StepVerdict` per checked claim and the
first wrong one named in the evidence. The reward is the minimum over the checked claims (Math-Shepherd's
min-aggregation): 1.0 when all hold and at least one is not trivial, 0.0 when any is wrong, so padding a solution
with true claims never raises it. The splitting, binding, tolerance, triviality and scoring rules are documented
in `verifiers.math.claims`, which this class imports lazily so that loading the plugin does not import sympy.
"""

from __future__ import annotations

from typing import Any

from ..options import Option
from ..text import strip_think
from ..verdict import Sample, Verdict
from ..verifier import Verifier

__all__ = ["MathSteps"]


class MathSteps(Verifier):
    """Checks the arithmetic and algebra written in a worked solution, claim by claim.

    Score = min over the checked claims (1 holds, 0 wrong): CORRECT 1.0 when every one holds and one at least is
    not trivial (`1 + 1 = 2`, `42 = 42`); INCORRECT 0.0 when any is wrong; UNDECIDED when nothing, or nothing
    but trivial claims, could be checked, or `max_claims` cut the check short. No partial credit, so true claims
    added anywhere (trivial, repeated, unrelated) never raise the score. It checks computations, not answers.
    """

    name = "math.steps"
    domains = ()
    cost = 5.0
    version = "3"  # 2: min-aggregation; 3: lead-ins do not age bindings, a wrong use of an aged one is UNDECIDED
    cpu_bound = True
    timeout = 5.0
    options = {
        "approx_rel_tol": Option.number(
            0.01, "relative tolerance of a claim written with \\approx", minimum=0, below=1
        ),
        "binding_window": Option.integer(
            2, "steps after its own that a binding such as x = 3 stays in force (0: its own step only)", minimum=0
        ),
        "max_claims": Option.integer(300, "claims checked at most; more make the verdict UNDECIDED"),
        "max_chars": Option.integer(100_000, "a longer response is UNDECIDED without being checked"),
        "ignore_think": Option.flag(False, "check only the text after </think>"),
    }

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Unpickled in a worker: import the engine (and sympy) now, while the pool is loading the verifier, so the
        # import does not eat into the first sample's deadline.
        self.__dict__.update(state)
        from . import claims  # noqa: F401

    def verify(self, sample: Sample) -> Verdict:
        from .claims import StepChecker

        config = self.resolve(sample)
        if isinstance(config, Verdict):
            return config
        text = strip_think(sample.response) if config["ignore_think"] else sample.response
        if len(text) > config["max_chars"]:
            return Verdict.undecided(
                self.name, f"response is {len(text)} characters, over max_chars={config['max_chars']}; not checked"
            )
        return StepChecker(self.name, config).check(text)
