"""The verdict: steps, score, status, aspects, options, errors, and the plugin as installed or registered."""

from __future__ import annotations

import json

import pytest
import verifiers
from verifiers import OptionError, Sample, Status, Verdict
from verifiers.testing import VerifierConformance, check_verifier
from verifiers_ifeval import TYPES, IFEval

CONSTRAINTS = [
    {"type": "max_words", "value": 10},
    {"type": "include_keywords", "value": ["cat"]},
    {"type": "no_commas"},
]


def test_one_step_per_constraint_and_fraction_score():
    verdict = IFEval().verify(Sample("The cat sat, quietly.", CONSTRAINTS))
    assert [s.name for s in verdict.steps] == ["max_words<=10", "include_keywords(cat)", "no_commas"]
    assert [s.status for s in verdict.steps] == [Status.CORRECT, Status.CORRECT, Status.INCORRECT]
    assert verdict.status is Status.PARTIAL and verdict.score == pytest.approx(2 / 3)
    assert dict(verdict.aspects) == {"max_words<=10": 1.0, "include_keywords(cat)": 1.0, "no_commas": 0.0}
    assert verdict.steps[2].detail == "1 comma(s)"
    assert "failed: no_commas" in verdict.reason


def test_all_and_none_satisfied():
    assert IFEval().verify(Sample("The cat sat.", CONSTRAINTS)).status is Status.CORRECT
    none = IFEval().verify(Sample("A dog, " * 20, CONSTRAINTS))
    assert none.status is Status.INCORRECT and none.score == 0.0


def test_strict_is_all_or_nothing_as_option_or_per_sample():
    sample = Sample("The cat sat, quietly.", CONSTRAINTS)
    strict = IFEval(strict=True).verify(sample)
    assert strict.status is Status.INCORRECT and strict.score == 0.0 and len(strict.steps) == 3
    per_sample = IFEval().verify(Sample(sample.response, CONSTRAINTS, metadata={"strict": True}))
    assert per_sample == strict.replace(elapsed_s=per_sample.elapsed_s)
    assert IFEval(strict=True).verify(Sample("The cat sat.", CONSTRAINTS)).score == 1.0


def test_constraints_option_wins_over_the_reference_and_json_strings_are_read():
    verifier = IFEval(constraints=[{"type": "uppercase"}])
    assert verifier.verify(Sample("LOUD", CONSTRAINTS)).is_correct
    assert IFEval().verify(Sample("The cat sat.", json.dumps(CONSTRAINTS))).is_correct
    assert IFEval().verify(Sample("x", {"type": "max_words", "value": 3})).is_correct  # one spec, not a list


def test_think_is_ignored_by_default():
    sample = Sample("<think>Lots, of, commas, here</think>Fine answer.", [{"type": "no_commas"}])
    assert IFEval().verify(sample).is_correct
    assert IFEval(ignore_think=False).verify(sample).status is Status.INCORRECT


def test_duplicate_constraints_get_distinct_names():
    verdict = IFEval().verify(Sample("a", [{"type": "no_commas"}, {"type": "no_commas"}, {"type": "lowercase",
                                                                                            "name": "quiet"}]))
    assert [s.name for s in verdict.steps] == ["no_commas", "no_commas #2", "quiet"]


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        (None, "no constraints"),
        ([], "empty"),
        ("not json", "a string must be JSON"),
        (42, "expected a list of constraints"),
        ([{"type": "max_wordz", "value": 3}], "unknown constraint type 'max_wordz'"),
        (["max_words"], "a constraint is a mapping"),
        ([{"type": "max_words"}], "missing key(s) 'value'"),
        ([{"type": "max_words", "value": -1}], "integer >= 0"),
        ([{"type": "max_words", "value": 3, "vaule": 4}], "unknown key(s) 'vaule'"),
        ([{"type": "include_keywords", "value": []}], "non-empty list"),
        ([{"type": "language", "value": "english"}], "supported: ar, de, el, en"),
        ([{"type": "markdown"}], "needs at least one of"),
        ([{"type": "num_paragraphs", "value": 2, "relation": "more"}], "'relation' must be one of"),
    ],
)
def test_malformed_constraints_are_error_verdicts(reference, message):
    verdict = IFEval().verify(Sample("Some answer.", reference))
    assert verdict.status is Status.ERROR and verdict.score == 0.0 and verdict.reward is None
    assert message in verdict.reason


def test_unknown_type_error_lists_the_known_types():
    reason = IFEval().verify(Sample("x", [{"type": "nope"}])).reason
    assert all(kind in reason for kind in TYPES)


def test_bad_options_raise_at_construction_and_are_errors_per_sample():
    with pytest.raises(OptionError, match="unknown constraint type"):
        IFEval(constraints=[{"type": "nope"}])
    with pytest.raises(OptionError, match="'strict' must be true or false"):
        IFEval(strict="yes")
    verdict = IFEval().verify(Sample("x", CONSTRAINTS, metadata={"strict": "yes"}))
    assert verdict.status is Status.ERROR and "bad option" in verdict.reason


def test_check_verifier_passes():
    check_verifier(IFEval(), samples=SAMPLES, examples=30)


SAMPLES = [
    Sample("The cat sat.", CONSTRAINTS),
    Sample("The cat sat, quietly.", CONSTRAINTS, metadata={"strict": True}),
    Sample('```json\n{"name": "x"}\n```', [{"type": "json_format", "required_keys": ["name"]}]),
    Sample("<think>hmm</think>Bonjour, je suis très content de vous voir.", [{"type": "language", "value": "fr"}]),
    Sample("- a\n- b\n\n<<T>>", [{"type": "markdown", "min_bullets": 2, "title": True}, {"type": "placeholders",
                                                                                          "value": 1}]),
    Sample("anything", [{"type": "nope"}]),
    Sample("no reference"),
]


class TestConformance(VerifierConformance):
    verifier = IFEval()
    samples = SAMPLES


# -- as a plugin ------------------------------------------------------------------------------------------------


def _installed() -> bool:
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        distribution("verifiers-ifeval")
    except PackageNotFoundError:
        return False
    return True


@pytest.mark.skipif(not _installed(), reason="verifiers-ifeval is not pip-installed")
def test_installed_entry_point_is_listed_with_its_version():
    from verifiers.plugins import plugin_info

    info = {i.name: i for i in plugin_info()}
    assert info["ifeval"].version == "0.1.0" and not info["ifeval"].builtin
    assert {"register_verifiers", "route_sample"} <= set(info["ifeval"].hooks)
    assert "ifeval" in {row["name"] for row in verifiers.list_verifiers()}


@pytest.fixture
def ifeval_plugin(register_plugin):
    """The plugin registered for one test: as installed, or from source through `register_plugin`."""
    import verifiers_ifeval

    if "ifeval" not in {row["name"] for row in verifiers.list_verifiers()}:
        register_plugin(verifiers_ifeval, name="ifeval")
    return verifiers_ifeval


def test_verify_by_name_and_by_routing(ifeval_plugin):
    by_name = verifiers.verify("The cat sat.", CONSTRAINTS, verifier="ifeval")
    assert by_name.is_correct and by_name.verifier == "ifeval"
    assert "instruction_following" in verifiers.list_domains()
    routed = verifiers.verify("The cat sat.", CONSTRAINTS)  # no domain, no verifier: route_sample picks ours
    assert routed.is_correct
    assert verifiers.verify("x", [{"type": "max_wordz", "value": 1}]).status is Status.ERROR


def test_the_command_line_runs_it(ifeval_plugin, tmp_path):
    if not _installed():
        pytest.skip("the CLI runs in a fresh process: needs the plugin pip-installed")
    import subprocess
    import sys

    data = tmp_path / "data.jsonl"
    out = tmp_path / "out.jsonl"
    data.write_text(json.dumps({"id": "1", "response": "The cat sat.", "reference": CONSTRAINTS}) + "\n")
    result = subprocess.run([sys.executable, "-m", "verifiers", "run", str(data), "-o", str(out),
                             "--verifier", "ifeval"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    row = json.loads(out.read_text().splitlines()[0])
    verdict = Verdict.from_dict(row.get("verdict", row))
    assert verdict.is_correct and len(verdict.steps) == 3
