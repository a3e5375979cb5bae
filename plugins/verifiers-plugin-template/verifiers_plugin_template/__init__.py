"""verifiers-plugin-template: the smallest complete verifier-suite plugin. Copy it and change what you need.

A plugin is a module with hook implementations (`@hookimpl` functions named after the hooks in verifier-suite's
docs/hooks.md), found through the `verifiers` entry point in pyproject.toml. This one implements a single hook,
`register_verifiers`, to add one verifier: `template.exact_words`.

Use only the public API (`from verifiers import ...`): it is what stays stable between releases.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from verifiers import Option, Sample, Verdict, Verifier, hookimpl

__version__ = "0.1.0"  # keep in step with pyproject.toml

__all__ = ["ExactWords"]


class ExactWords(Verifier):
    """The response contains every word of the reference (whole words; case-insensitive unless told otherwise).

    The first docstring line is what `verifiers list` shows, so make it say what the verifier checks.
    """

    # The registered name: `verify(..., verifier="template.exact_words")`, `--verifier template.exact_words`.
    # Prefix your names with your plugin's name so they cannot clash with other plugins.
    name = "template.exact_words"

    # The domains whose default cascade includes this verifier (`verify(..., domain="keywords")`).
    # Leave it empty, `()`, for a verifier that is only used by name.
    domains = ("keywords",)

    # Relative cost: a cascade runs its cheapest verifiers first. Rules ~0.1-0.5, sympy ~2, sandboxes and
    # model judges much more.
    cost = 0.2

    # Bump the version whenever the same input could get a different verdict: cached verdicts of an older
    # version are then not reused.
    version = "1"

    # Every option, declared with its default, a one-line doc (`verifiers list` shows both) and the values it
    # accepts: `Option.flag`, `Option.integer(default, doc, minimum=..., maximum=...)`, `Option.number`,
    # `Option.choice(default, doc, choices)`, `Option.text`, or `Option(default, doc, must=..., accepts=...)`.
    # Callers set them per call (`verify(..., options={"case_sensitive": True})`, or
    # `ExactWords(case_sensitive=True)`); a sample's `metadata` entry with the same name wins over both (unless
    # declared `per_sample=False`). Unknown names and values the declaration refuses raise `OptionError` for you,
    # at construction and per sample.
    # A rule between two options (`min <= max`) goes in a `check_options(cls, config)` classmethod.
    options = {"case_sensitive": Option.flag(False, "match the words' letter case exactly")}

    def verify(self, sample: Sample) -> Verdict:
        # Rule 1: never raise. Anything you cannot judge becomes a verdict: `Verdict.error` when the input or the
        # infrastructure is at fault (it is never read as a 0 reward), `Verdict.undecided` when you cannot tell
        # (a cascade then asks its next stage).

        # `resolve` merges defaults < call options < the sample's metadata, and turns a bad per-sample value
        # into an ERROR verdict for you.
        config = self.resolve(sample)
        if isinstance(config, Verdict):
            return config

        words = _reference_words(sample.reference)
        if words is None:
            return Verdict.error(self.name, "no reference: give the required words as a string or a list of strings")

        flags = 0 if config["case_sensitive"] else re.IGNORECASE
        missing = [w for w in words if not re.search(rf"(?<!\w){re.escape(w)}(?!\w)", sample.response, flags)]

        # Rule 2: say why. `reason` is for people; `evidence` (JSON data) is for tools and debugging. Larger
        # verifiers can also return `steps` (one StepVerdict per unit checked) and `aspects` (named sub-scores).
        evidence = {"words": words, "missing": missing}
        if missing:
            return Verdict.incorrect(self.name, f"missing {', '.join(map(repr, missing))}", evidence=evidence)
        return Verdict.correct(self.name, f"all {len(words)} word(s) present", evidence=evidence)


def _reference_words(reference: Any) -> list[str] | None:
    """The required words from a string ("a b c") or a list of strings; None when there are none."""
    if isinstance(reference, str):
        words = reference.split()
    elif isinstance(reference, (list, tuple)) and all(isinstance(w, str) for w in reference):
        words = [w.strip() for w in reference if w.strip()]
    else:
        return None
    return words or None


# The hook: verifier-suite calls it once when it builds its registry. `register(factory, name=None)` takes a
# `Verifier` subclass (or any callable that takes keyword options and returns a verifier).
@hookimpl
def register_verifiers(register: Callable[..., None]) -> None:
    register(ExactWords)
