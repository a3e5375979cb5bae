"""Test helpers for plugin authors: a pytest plugin with a fixture and a verifier conformance suite.

pytest loads this module through the `pytest11` entry point, so in any project with `verifier-suite` installed:

  register_plugin      fixture: `register_plugin(obj, name=None) -> str` registers a plugin for one test only.
  check_verifier       `check_verifier(verifier, samples=..., examples=...)` raises `AssertionError` naming the
                       first conformance property the verifier breaks.
  VerifierConformance  a base test class: subclass it, set `verifier` (and `samples`), and pytest runs one test
                       per property.

The properties: `verify` and `verify_batch` never raise, whatever the text or reference (bad input is a
`Verdict.error(...)`, not an exception); they return `Verdict`s whose score is in [0, 1] and whose `verifier` names
the verifier; verdicts round-trip through JSON; `verify_batch(samples)` equals `[verify(s) for s in samples]`; equal
samples give equal verdicts. They are about well-formed verdicts, not correct ones: ERROR and UNDECIDED pass.

Hypothesis (a test dependency, not a library one) is imported only when the suite runs.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

import pytest

from .options import declaration
from .plugins import get_verifier, load_plugins, pm
from .verdict import Sample, Verdict

BATCH_TOLERANCE = 1e-5
"""A `batched` verifier (a model judge) may compute a sample in a padded batch with different floating-point
rounding than alone: its batch is compared to single calls with this relative and absolute tolerance on numbers."""

__all__ = [
    "HOSTILE_RESPONSES",
    "VerifierConformance",
    "check_verifier",
    "conformance_samples",
    "register_plugin",
    "resolve_verifier_under_test",
]

_counter = itertools.count()


@pytest.fixture
def register_plugin() -> Iterator[Callable[..., str]]:
    """`register_plugin(obj, name=None)` registers `obj` as a plugin until the test ends; returns its name.

    The built-in and entry-point plugins are loaded first, so the registered plugin sits beside them exactly as an
    installed one would. It is unregistered when the test ends, pass or fail. A plugin that is registered already
    (your package's module, once the package is installed and its entry point loaded) is left as it is: the call
    returns its name, so the same test works before and after `pip install -e .`.
    """
    load_plugins()
    names: list[str] = []

    def register(plugin: object, name: str | None = None) -> str:
        if pm.is_registered(plugin):
            return str(pm.get_name(plugin))
        name = name or f"test-plugin-{next(_counter)}"
        pm.register(plugin, name=name)
        names.append(name)
        return name

    try:
        yield register
    finally:
        for name in names:
            plugin = pm.get_plugin(name)
            if plugin is not None:
                pm.unregister(plugin)


# -- inputs --------------------------------------------------------------------------------------------------------

#: Fixed responses every verifier meets: huge, deeply nested, malformed and binary-looking text.
HOSTILE_RESPONSES: tuple[str, ...] = (
    "",
    " \n\t ",
    "\x00" * 16 + "42\x00",
    "\ud800 lone surrogates \udfff \\boxed{\udc80}",
    "\\boxed{" * 50_000,
    "}" * 10_000 + "\\boxed{}",
    "(" * 5_000 + "1" + ")" * 5_000,
    "<think>" * 2_000 + "</answer>",
    "9" * 5_000,
    "The answer is \\boxed{\\frac{1}{0}}",
    "```python\nimport os\nos._exit(3)\n```",
    "a" * (1 << 20),
    # padding that made quadratic scans stall a whole reward server, and what defeated guards (issue 15)
    "\\boxed{" + " " * 200_000 + "1}",
    "\\boxed{" + "\\;" * 50_000 + "1}",
    "42" + " " * 200_000 + "<|im_end|>",
    "1e5000",
    "Sol\u200bution\u00ad: \\boxed{\\ldots}",
    "Final answer: see the solution above",
)

_FRAGMENTS = (
    "\\boxed{",
    "}",
    "{",
    "\\frac{1}{2}",
    "\\sqrt{2}",
    "x^2",
    "The answer is ",
    "Answer: ",
    "**",
    "$",
    "$$",
    "<think>",
    "</think>",
    "<answer>",
    "</answer>",
    "```python\n",
    "```",
    "def f(x):\n    return x\n",
    "assert ",
    "1",
    "0",
    "-3.5",
    "1e308",
    "nan",
    "inf",
    "\\infty",
    "[1, 2)",
    "A",
    "(B)",
    "yes",
    "\n",
    " ",
    "\x00",
    "\u200b",
    "é",
    "\ufb01",
    "汉字",
    "\U0001f600",
    "\\pm",
    "=",
    "%",
    "°",
)


def _strategies() -> tuple[Any, Any, Any]:
    """(hypothesis module, responses strategy, references strategy), imported on first use."""
    try:
        import hypothesis
        import hypothesis.errors
        from hypothesis import strategies as st
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("verifiers.testing's conformance suite needs hypothesis: pip install hypothesis") from exc
    any_char = st.characters(exclude_categories=())  # surrogates included
    responses = st.one_of(
        st.text(any_char, max_size=200),
        st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.text(any_char, max_size=8)), max_size=25).map("".join),
    )
    json_leaf = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.text(any_char, max_size=20),
        st.sampled_from(_FRAGMENTS),
    )
    references = st.one_of(
        json_leaf,
        st.lists(json_leaf, max_size=4),
        st.dictionaries(st.text(max_size=8), json_leaf, max_size=4),
        st.dictionaries(
            st.sampled_from(["tests", "steps", "statement", "items", "entry_point"]),
            st.one_of(json_leaf, st.lists(json_leaf, max_size=3)),
            max_size=3,
        ),
    )
    return hypothesis, responses, references


def conformance_samples() -> list[Sample]:
    """Generic samples used when a verifier gives none: right and wrong answers of several shapes."""
    return [
        Sample("42", "42"),
        Sample("The answer is \\boxed{7}.", "8"),
        Sample("yes", ["yes", "no"]),
        Sample("", ""),
        Sample("B", "B", domain="multiple_choice"),
        Sample("<think>hmm</think><answer>3</answer>", "3"),
        Sample("no reference at all"),
    ]


def _weird_samples(typical: Sequence[Sample]) -> list[Sample]:
    """Samples with missing, ill-typed or hostile references and options: each must give a verdict."""
    weird: list[Any] = [
        None,
        object(),
        {1, 2},
        b"\xff\xfe",
        float("nan"),
        {"tests": object()},
        [[[]]],
        -1,
        {"unexpected": ["shape"]},
    ]
    response = typical[0].response if typical else "42"
    out = [Sample(response, reference) for reference in weird]
    for sample in typical[:3]:
        out.append(dataclasses.replace(sample, reference=None))
        out.append(dataclasses.replace(sample, reference=object()))
    return out


def _bad_option_samples(verifier: Any, typical: Sequence[Sample]) -> list[Sample]:
    """Per-sample options (in `metadata`) set to values of the wrong type: each must give a verdict. Options declared
    `per_sample=False` are left out: a sample's metadata cannot set them."""
    options = getattr(verifier, "options", None)
    if not isinstance(options, Mapping):
        return []
    base = typical[0] if typical else Sample("42", "42")
    bad_values: tuple[Any, ...] = ("not-a-valid-value", -1, {"unexpected": ["shape"]})
    return [
        dataclasses.replace(base, metadata={**base.metadata, key: value})
        for key in sorted(options)
        if declaration(options[key]).per_sample
        for value in bad_values
    ]


# -- the properties ------------------------------------------------------------------------------------------------


def resolve_verifier_under_test(verifier: Any) -> Any:
    """A verifier object from an object, a registered name (`get_verifier(name)`), or a zero-argument factory."""
    if isinstance(verifier, str):
        return get_verifier(verifier)
    if isinstance(verifier, type) or (callable(verifier) and not hasattr(verifier, "verify")):
        return verifier()
    return verifier


def _name(verifier: Any) -> str:
    return str(getattr(verifier, "name", "") or type(verifier).__name__)


def _show(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} chars)"


def _fail(verifier: Any, sample: Sample | None, problem: str) -> AssertionError:
    where = f"\n  sample: {_show(sample)}" if sample is not None else ""
    return AssertionError(f"verifier {_name(verifier)!r} {problem}{where}")


def _call_verify(verifier: Any, sample: Sample) -> Verdict:
    try:
        verdict = verifier.verify(sample)
    except Exception as exc:
        raise _fail(
            verifier,
            sample,
            f"raised {type(exc).__name__}: {exc} in verify(); a verifier must never raise for its input: return "
            f"Verdict.error(self.name, reason) for input it cannot handle (the runner would hide this as an ERROR "
            f"verdict, but it is a bug in the verifier)\n{_last_frame(exc)}",
        ) from exc
    return _check_verdict(verifier, sample, verdict, "verify()")


def _call_verify_batch(verifier: Any, samples: Sequence[Sample]) -> list[Verdict]:
    try:
        verdicts = verifier.verify_batch(list(samples))
    except Exception as exc:
        raise _fail(
            verifier,
            None,
            f"raised {type(exc).__name__}: {exc} in verify_batch() on {len(samples)} samples; verify_batch must "
            f"never raise: give the samples it cannot handle Verdict.error(...)\n{_last_frame(exc)}\n"
            f"  samples: {_show(list(samples))}",
        ) from exc
    if not isinstance(verdicts, list):
        raise _fail(verifier, None, f"verify_batch() returned {type(verdicts).__name__}, not a list of Verdicts")
    if len(verdicts) != len(samples):
        raise _fail(
            verifier,
            None,
            f"verify_batch() returned {len(verdicts)} verdicts for {len(samples)} samples; it must return one "
            f"verdict per sample, in input order\n  samples: {_show(list(samples))}",
        )
    return [_check_verdict(verifier, s, v, "verify_batch()") for s, v in zip(samples, verdicts)]


def _last_frame(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    return f"  raised at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""


def _check_verdict(verifier: Any, sample: Sample, verdict: Any, call: str) -> Verdict:
    """The verdict is a `Verdict`, scores in [0, 1], names a verifier, and survives JSON."""
    if not isinstance(verdict, Verdict):
        raise _fail(
            verifier,
            sample,
            f"{call} returned {type(verdict).__name__} ({_show(verdict, 100)}), not a verifiers.Verdict",
        )
    scores = {
        "score": verdict.score,
        **{f"aspect {k!r}": v for k, v in verdict.aspects.items()},
        **{f"step {s.name!r}": s.score for s in verdict.steps},
    }
    for label, score in scores.items():
        if not (isinstance(score, float) and math.isfinite(score) and 0.0 <= score <= 1.0):
            raise _fail(verifier, sample, f"{call} gave a verdict whose {label} is {score!r}, not in [0, 1]")
    if not isinstance(verdict.verifier, str) or not verdict.verifier.strip():
        raise _fail(
            verifier,
            sample,
            f"{call} gave a verdict with verifier={verdict.verifier!r}; name the verifier "
            f"(Verdict.correct(self.name, ...))",
        )
    try:
        text = verdict.to_json()
        json.loads(text)
        back = Verdict.from_json(text)
    except Exception as exc:
        raise _fail(
            verifier,
            sample,
            f"{call} gave a verdict that does not survive JSON: "
            f"{type(exc).__name__}: {exc}\n  verdict: {_show(verdict)}",
        ) from exc
    if back != verdict or Verdict.from_dict(verdict.to_dict()) != verdict:
        raise _fail(
            verifier,
            sample,
            f"{call} gave a verdict that changes through JSON:\n  before: {_show(verdict)}\n  after:  {_show(back)}",
        )
    return verdict


def _difference(a: Any, b: Any, path: str = "") -> str | None:
    """The first place where two JSON values differ, as `path: a != b`, or None when they are equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                return (
                    f"{path}.{key}: {'missing' if key not in a else _show(a[key], 80)} != "
                    f"{'missing' if key not in b else _show(b[key], 80)}"
                )
            found = _difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            found = _difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if a == b else f"{path or 'value'}: {_show(a, 80)} != {_show(b, 80)}"


def _differs_at(a: Verdict, b: Verdict) -> str:
    first, second = a.to_dict(timing=False), b.to_dict(timing=False)
    return f"\n  first difference: {(_difference(first, second) or '?').lstrip('.')}"


def _check_deterministic(verifier: Any, sample: Sample) -> Verdict:
    first = _call_verify(verifier, sample)
    second = _call_verify(verifier, dataclasses.replace(sample))  # an equal but distinct Sample object
    if first != second:
        raise _fail(
            verifier,
            sample,
            f"is not deterministic: the same sample gave two different verdicts (equal "
            f"input must give equal verdicts; elapsed_s is not compared){_differs_at(first, second)}"
            f"\n  first:  {_show(first)}\n  second: {_show(second)}",
        )
    return first


def _close(a: Any, b: Any) -> bool:
    """Equal, numbers within floating-point rounding (elapsed time aside): how a batched verifier's batch compares."""
    if isinstance(a, dict) and isinstance(b, dict):
        keys = (set(a) | set(b)) - {"elapsed_s", "batch_size"}
        return all(k in a and k in b and _close(a[k], b[k]) for k in keys)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b))
        return numbers and math.isclose(a, b, rel_tol=BATCH_TOLERANCE, abs_tol=BATCH_TOLERANCE)
    return bool(a == b)


def _check_batch(verifier: Any, samples: Sequence[Sample], singles: Sequence[Verdict] | None = None) -> None:
    if _call_verify_batch(verifier, []) != []:
        raise _fail(verifier, None, "verify_batch([]) did not return []")
    batch = _call_verify_batch(verifier, samples)
    if singles is None:
        singles = [_call_verify(verifier, s) for s in samples]
    approximate = bool(getattr(verifier, "batched", False))
    for i, (sample, b, s) in enumerate(zip(samples, batch, singles)):
        if not (_close(b.to_dict(), s.to_dict()) if approximate else b == s):
            raise _fail(
                verifier,
                sample,
                f"verify_batch(samples)[{i}] differs from verify(samples[{i}]) (the batch "
                f"must equal mapping verify over it, in input order){_differs_at(b, s)}"
                f"\n  verify_batch: {_show(b)}\n  verify:       {_show(s)}",
            )


def _for_generated_batches(examples: int, typical: Sequence[Sample], check: Callable[[list[Sample]], None]) -> None:
    """Run `check(batch)` under hypothesis on `examples` generated batches of 1-3 samples.

    Generated samples mix arbitrary text with answer-shaped fragments and the typical samples' responses,
    references and metadata (so per-sample options stay realistic) with arbitrary JSON-like references.
    """
    hypothesis, responses, references = _strategies()
    st = hypothesis.strategies
    typical_refs = [s.reference for s in typical]
    typical_meta = [dict(s.metadata) for s in typical] + [{}]
    domains = sorted({s.domain for s in typical if s.domain}) or ["text"]
    reference = st.one_of(st.sampled_from(typical_refs), references) if typical_refs else references
    sample = st.builds(
        Sample,
        response=st.one_of(st.sampled_from([s.response for s in typical] or ["42"]), responses),
        reference=reference,
        domain=st.one_of(st.none(), st.sampled_from(domains)),
        metadata=st.sampled_from(typical_meta),
    )

    @hypothesis.settings(
        max_examples=max(1, examples),
        deadline=None,
        report_multiple_bugs=False,  # one AssertionError: the first property broken, on a shrunk sample
        suppress_health_check=[
            hypothesis.HealthCheck.too_slow,
            hypothesis.HealthCheck.data_too_large,
            hypothesis.HealthCheck.large_base_example,
        ],
    )
    @hypothesis.given(st.lists(sample, min_size=1, max_size=3))
    def run(batch: list[Sample]) -> None:
        check(batch)

    try:
        run()
    except hypothesis.errors.Flaky as exc:  # failed once, passed on replay: the verifier is nondeterministic
        raise AssertionError(
            f"a conformance check failed on a generated sample and then passed on the same sample: the verifier is "
            f"nondeterministic (equal input must give equal verdicts, without exceptions)\n  {exc}"
        ) from exc


def _samples_of(samples: Sequence[Sample] | None) -> list[Sample]:
    typical = list(conformance_samples() if samples is None else samples)
    for i, sample in enumerate(typical):
        if not isinstance(sample, Sample):
            raise TypeError(f"samples[{i}] must be a verifiers.Sample, got {type(sample).__name__}")
    return typical


def check_verifier(verifier: Any, *, samples: Sequence[Sample] | None = None, examples: int = 100) -> None:
    """Check every conformance property of `verifier`; raise `AssertionError` on the first one it breaks.

    `verifier`: an object, a registered name, or a zero-argument factory (a `Verifier` subclass).
    `samples`: typical samples for the verifier (right and wrong answers, its options in `metadata`); they, fixed
    hostile responses (`HOSTILE_RESPONSES`), ill-typed references and options, and `examples` generated batches
    (hypothesis) are each checked. The verifier's own `verify`/`verify_batch` are called, not the runner's guards.
    Lower `examples` for verifiers that take seconds per call (sandboxes, sympy).
    """
    verifier = resolve_verifier_under_test(verifier)
    typical = _samples_of(samples)
    _check_typical(verifier, typical)
    _check_hostile(verifier, typical)
    _check_errors_are_verdicts(verifier, typical)

    def every_property(batch: list[Sample]) -> None:
        singles = [_check_deterministic(verifier, s) for s in batch]
        _check_batch(verifier, batch, singles)

    _for_generated_batches(examples, typical, every_property)


def _check_typical(verifier: Any, typical: Sequence[Sample]) -> None:
    singles = [_check_deterministic(verifier, s) for s in typical]
    if typical:
        _check_batch(verifier, typical, singles)


def _hostile_samples(typical: Sequence[Sample]) -> list[Sample]:
    references: list[Any] = []
    for sample in typical[:2]:
        if all(sample.reference != seen for seen in references):
            references.append(sample.reference)
    references = references or ["42"]
    metadata = dict(typical[0].metadata) if typical else {}
    return [Sample(text, reference, metadata=metadata) for text in HOSTILE_RESPONSES for reference in references]


def _check_hostile(verifier: Any, typical: Sequence[Sample]) -> None:
    for sample in _hostile_samples(typical):
        _call_verify(verifier, sample)


def _check_errors_are_verdicts(verifier: Any, typical: Sequence[Sample]) -> None:
    odd = _weird_samples(typical) + _bad_option_samples(verifier, typical)
    for sample in odd:
        _call_verify(verifier, sample)
    _check_batch(verifier, odd)


# -- the test class ------------------------------------------------------------------------------------------------


class VerifierConformance:
    """Subclass as `TestMyVerifier(VerifierConformance)`, set `verifier`, and pytest runs the conformance suite.

    `verifier`: an object, a registered name or a zero-argument factory (a `Verifier` subclass).
    `samples`: typical samples (right and wrong answers, options in `metadata`); generic ones when None.
    `examples`: generated examples per property (hypothesis); lower it for verifiers taking seconds per call.

    To run the suite on several verifiers, override the `verifier_under_test` fixture with `params`.
    """

    verifier: ClassVar[Any] = None
    samples: ClassVar[Sequence[Sample] | None] = None
    examples: ClassVar[int] = 50

    @pytest.fixture
    def verifier_under_test(self) -> Any:
        verifier = type(self).verifier  # through the class: a factory function must not become a bound method
        if verifier is None:
            pytest.fail(f"{type(self).__name__} must set `verifier` (an object, a registered name or a factory)")
        return resolve_verifier_under_test(verifier)

    @pytest.fixture
    def typical_samples(self, verifier_under_test: Any) -> list[Sample]:
        return _samples_of(self.samples)

    @pytest.fixture
    def conformance_examples(self, verifier_under_test: Any) -> int:
        return self.examples

    def test_never_raises_on_arbitrary_text(
        self, verifier_under_test: Any, typical_samples: list[Sample], conformance_examples: int
    ) -> None:
        _check_hostile(verifier_under_test, typical_samples)

        def check(batch: list[Sample]) -> None:
            for sample in batch:
                _call_verify(verifier_under_test, sample)
            _call_verify_batch(verifier_under_test, batch)

        _for_generated_batches(conformance_examples, typical_samples, check)

    def test_scores_in_unit_interval(
        self, verifier_under_test: Any, typical_samples: list[Sample], conformance_examples: int
    ) -> None:
        self._verify_each(verifier_under_test, typical_samples, conformance_examples)  # _check_verdict checks scores

    def test_verdict_json_round_trips(
        self, verifier_under_test: Any, typical_samples: list[Sample], conformance_examples: int
    ) -> None:
        extra = _weird_samples(typical_samples)  # _check_verdict round-trips every verdict
        self._verify_each(verifier_under_test, typical_samples + extra, conformance_examples, typical_samples)

    def test_verify_batch_equals_mapping_verify(
        self, verifier_under_test: Any, typical_samples: list[Sample], conformance_examples: int
    ) -> None:
        if typical_samples:
            _check_batch(verifier_under_test, typical_samples)
        _for_generated_batches(
            conformance_examples, typical_samples, lambda batch: _check_batch(verifier_under_test, batch)
        )

    def test_deterministic_for_equal_input(
        self, verifier_under_test: Any, typical_samples: list[Sample], conformance_examples: int
    ) -> None:
        def check(batch: list[Sample]) -> None:
            for sample in batch:
                _check_deterministic(verifier_under_test, sample)

        check(typical_samples)
        _for_generated_batches(conformance_examples, typical_samples, check)

    def test_verdict_names_the_verifier(self, verifier_under_test: Any, typical_samples: list[Sample]) -> None:
        for sample in typical_samples or [Sample("42", "42")]:
            _call_verify(verifier_under_test, sample)  # _check_verdict fails on an empty or missing name

    def test_errors_are_verdicts_not_exceptions(self, verifier_under_test: Any, typical_samples: list[Sample]) -> None:
        _check_errors_are_verdicts(verifier_under_test, typical_samples)

    @staticmethod
    def _verify_each(verifier: Any, fixed: list[Sample], examples: int, typical: list[Sample] | None = None) -> None:
        def check(batch: list[Sample]) -> None:
            for sample in batch:
                _call_verify(verifier, sample)

        check(fixed)
        _for_generated_batches(examples, fixed if typical is None else typical, check)
