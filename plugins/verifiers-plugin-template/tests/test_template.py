"""Tests for the template verifier: behaviour, the conformance suite, and the plugin as verifier-suite sees it."""

from __future__ import annotations

import pytest
import verifiers
from verifiers import OptionError, Sample, Status
from verifiers.testing import VerifierConformance
from verifiers_plugin_template import ExactWords

# Rename these with the package when you copy the template (see README.md).
DISTRIBUTION = "verifiers-plugin-template"  # [project] name in pyproject.toml
ENTRY_POINT = "template"  # its name under [project.entry-points.verifiers]
VERIFIER = "template.exact_words"  # ExactWords.name

# 1. Behaviour: call the verifier directly on real inputs and check what it concludes.

def test_all_words_present_is_correct():
    verdict = ExactWords().verify(Sample("The Quick brown fox.", "quick fox"))
    assert verdict.status is Status.CORRECT and verdict.score == 1.0


def test_a_missing_word_is_incorrect_and_named():
    verdict = ExactWords().verify(Sample("The quickest fox", ["quick", "fox"]))  # whole words only
    assert verdict.status is Status.INCORRECT and verdict.score == 0.0
    assert verdict.evidence["missing"] == ["quick"]


def test_options_come_from_the_call_or_the_sample():
    sample = Sample("The Fox", "fox")
    assert ExactWords().verify(sample).is_correct
    assert not ExactWords(case_sensitive=True).verify(sample).is_correct
    per_sample = Sample("The Fox", "fox", metadata={"case_sensitive": True})
    assert not ExactWords().verify(per_sample).is_correct
    with pytest.raises(OptionError):
        ExactWords(case_sensitive="yes")


def test_no_reference_is_an_error_not_a_zero():
    verdict = ExactWords().verify(Sample("anything"))
    assert verdict.status is Status.ERROR and verdict.reward is None


# 2. Conformance: verifier-suite's shared suite checks the contract every verifier keeps (never raises, scores in
#    [0, 1], JSON round-trip, verify_batch == map(verify), deterministic). Give it typical samples.

class TestConformance(VerifierConformance):
    verifier = ExactWords()
    samples = [
        Sample("The quick brown fox", "quick fox"),
        Sample("A slow dog", ["quick", "fox"]),
        Sample("The Fox", "fox", metadata={"case_sensitive": True}),
        Sample("no reference"),
    ]


# 3. As a plugin: `register_plugin` (a fixture from verifiers.testing) registers the module for one test, so this
#    works without `pip install`. When the plugin is installed, its entry point has already registered it.

@pytest.fixture
def plugin(register_plugin):
    import verifiers_plugin_template

    if VERIFIER not in {row["name"] for row in verifiers.list_verifiers()}:
        register_plugin(verifiers_plugin_template, name=ENTRY_POINT)
    return verifiers_plugin_template


def test_verify_finds_it_by_name_and_by_domain(plugin):
    assert verifiers.verify("The quick fox", "quick fox", verifier=VERIFIER).is_correct
    assert verifiers.verify("The quick fox", "quick dog", domain="keywords").status is Status.INCORRECT


def test_installed_plugin_shows_its_version():
    from importlib.metadata import PackageNotFoundError, version

    from verifiers.plugins import plugin_info

    try:
        expected = version(DISTRIBUTION)
    except PackageNotFoundError:
        pytest.skip(f"{DISTRIBUTION} is not pip-installed")
    assert {ENTRY_POINT: expected}.items() <= {i.name: i.version for i in plugin_info()}.items()
