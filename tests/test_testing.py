"""verifiers.testing: the plugin-author fixture, and the conformance suite run on every built-in verifier."""

from __future__ import annotations

import json
import os
import random
import re
import shlex
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from support.extras import install_hint
from support.sampling import trials

import verifiers
from verifiers import Sample, Status, Verdict, Verifier, hookimpl
from verifiers.plugins import DEFAULT_PLUGINS, pm
from verifiers.testing import HOSTILE_RESPONSES, VerifierConformance, _hostile_samples, check_verifier

pytest.importorskip("hypothesis", reason=install_hint("hypothesis", "testing"))  # the conformance suite runs on it

CODE_REF = {"tests": ["assert add(1, 2) == 3", "assert add(-1, 1) == 0"], "entry_point": "add"}
EXACT = [{"verifier": "exact"}]

#: Typical samples per built-in verifier: a right and a wrong answer, options exercised through metadata.
TYPICAL: dict[str, list[Sample]] = {
    "bleu": [Sample("the cat sat on the mat", "the cat sat on the mat"), Sample("dogs bark", ["the cat sat"])],
    "checklist": [
        Sample("Paris is the capital.", [{"contains": "Paris"}, {"max_words": 10}]),
        Sample("London", None, metadata={"items": [{"regex": "^P"}, {"verifier": "exact", "reference": "x"}]}),
    ],
    "choice": [Sample("The answer is (B).", "B"), Sample("I pick C", ["A", "B"])],
    "code": [
        Sample("```python\ndef add(a, b):\n    return a + b\n```", CODE_REF, metadata={"timeout": 1.0}),
        Sample("```python\ndef add(a, b):\n    return a - b\n```", CODE_REF, metadata={"reward_mode": "all"}),
    ],
    "exact": [Sample("42", "42"), Sample(" 42 ", ["41", "43"], metadata={"strip": False})],
    "format": [Sample("<think>x</think><answer>1</answer>"), Sample("1", metadata={"strict": False})],
    "gated": [
        Sample("42", "42", metadata={"gate": {"verifier": "exact"}, "components": [{"verifier": "numeric"}]}),
        Sample("41", "42", metadata={"gate": {"verifier": "numeric"}, "components": EXACT}),
    ],
    "lean": [Sample("by omega", "theorem t (a b : Nat) : a + b = b + a"), Sample("by decide", "theorem f : 1 = 2")],
    "judge": [Sample("So \\boxed{4}.", "4", prompt="2+2?"), Sample("Thought process:", "4", metadata={"threshold": 0.9})],
    "judge.principles": [
        Sample("Leaves fall / cold wind / autumn ends", ["three lines", "mentions autumn"], prompt="Write a haiku"),
        Sample(":", {"principles": [{"text": "is polite", "weight": 2}]}, metadata={"tail_chars": 10}),
    ],
    "likelihood": [Sample("2 + 2 = 4, so \\boxed{4}", "4", prompt="2+2?"), Sample("...", 4, metadata={"prefix": "A: "})],
    "length": [Sample("short", metadata={"max_length": 10}), Sample("x" * 50, metadata={"target": 20})],
    "math.rule": [Sample("\\boxed{\\frac{1}{2}}", "0.5"), Sample("The answer is 3.", "\\sqrt{2}")],
    "math.steps": [Sample("2 + 3 = 5, so 5 * 2 = 10."), Sample("We get 21 + 4 = 26.", "25")],
    "math.symbolic": [Sample("\\boxed{\\frac{2}{4}}", "\\frac{1}{2}"), Sample("\\boxed{x^2}", "x^3")],
    "normalized": [Sample("The answer is Paris.", "paris"), Sample("Lyon", ["Paris", "Rome"])],
    "numeric": [Sample("1,234", "1234"), Sample("about 3.2", 3.14, metadata={"rel_tol": 0.1})],
    "regex": [Sample("order #123", r"#\d+"), Sample("none", None, metadata={"pattern": "^x", "mode": "fullmatch"})],
    "weighted": [
        Sample("42", "42", metadata={"components": [{"verifier": "exact", "weight": 2}, {"verifier": "numeric"}]}),
        Sample("7", "8", metadata={"components": EXACT, "undecided": "zero"}),
    ],
}
#: Generated examples per property; verifiers that run sandboxes or sympy get few, Lean (a ~15 s start-up for each
#: generated sample that reaches it) one, two with VERIFIERS_TEST_FULL=1.
EXAMPLES = {"code": 3, "math.symbolic": 10, "math.steps": 10, "bleu": 10, "lean": trials(1, 2)}
#: How a plugin author's pytest gets `verifiers.testing`: the installed `pytest11` entry point, else `-p`.
_AUTOLOADED = not os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD") and any(
    ep.value == "verifiers.testing" for ep in metadata.entry_points(group="pytest11"))
PLUGIN_ARGS = [] if _AUTOLOADED else ["-p", "verifiers.testing"]
#: Built-ins whose every check starts a real Lean: run in CI, skipped by `-m "not slow"`.
SLOW = {"lean"}
BUILTINS = sorted(r["name"] for r in verifiers.list_verifiers() if r["plugin"] in DEFAULT_PLUGINS)


@pytest.fixture(scope="module")
def warm_lean():
    """The `lean` verifier the conformance suite checks, Lean's verdicts on its fixed samples decided in one run.

    Each Lean start-up costs ~10 s under WebAssembly, and every test of the suite verifies the fixed samples (typical
    and hostile: ~25 reach Lean) one at a time. Here one batch checks them all first; each test then still calls
    `verify`/`verify_batch` on every sample and asserts its property, with Lean's verdicts answered from the
    verifier's memo (the one production uses; `test_lean_attacks.py` checks it is sound). Generated samples still
    start Lean.
    """
    verifier = verifiers.get_verifier("lean")
    typical = TYPICAL["lean"]
    verifier.verify_batch([*typical, *_hostile_samples(typical)])
    return verifier


class TestBuiltinConformance(VerifierConformance):
    """The whole suite, once per built-in verifier (the same tests a plugin author's subclass gets)."""

    @pytest.fixture(params=[pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in BUILTINS])
    def verifier_under_test(self, request):
        if request.param == "lean":
            return request.getfixturevalue("warm_lean")
        return verifiers.get_verifier(request.param)

    @pytest.fixture
    def typical_samples(self, verifier_under_test):
        return TYPICAL.get(verifier_under_test.name, [Sample("42", "42"), Sample("41", "42")])

    @pytest.fixture
    def conformance_examples(self, verifier_under_test):
        return EXAMPLES.get(verifier_under_test.name, 25)


def test_every_builtin_has_typical_samples():
    assert set(BUILTINS) <= set(TYPICAL), f"add typical samples for {sorted(set(BUILTINS) - set(TYPICAL))}"


class TestSubclassByName(VerifierConformance):
    """The plain way a plugin author uses the class: a registered name and a few samples."""

    verifier = "numeric"
    samples = [Sample("3", "3"), Sample("4", "3")]
    examples = 10


def _make_exact():
    return verifiers.get_verifier("exact", strip=False)


class TestSubclassByFactory(VerifierConformance):
    """A factory function, called once per test (not bound to the test instance)."""

    verifier = _make_exact
    examples = 5

    def test_the_factory_was_called(self, verifier_under_test):
        assert verifier_under_test.config["strip"] is False


# -- the fixture ---------------------------------------------------------------------------------------------------


class Shout(Verifier):
    """The response is upper case."""

    name = "test.shout"

    def verify(self, sample):
        return Verdict.from_bool(self.name, sample.response.isupper())


class ShoutPlugin:
    @hookimpl
    def register_verifiers(self, register):
        register(Shout)


def test_register_plugin_registers_for_the_test(register_plugin):
    name = register_plugin(ShoutPlugin())
    assert name.startswith("test-plugin-") and pm.has_plugin(name)
    assert verifiers.verify("HEY", verifier="test.shout").is_correct
    assert register_plugin(ShoutPlugin(), name="named-plugin") == "named-plugin"


def test_register_plugin_leaves_an_already_registered_plugin_alone(register_plugin):
    import verifiers.rule

    assert register_plugin(verifiers.rule) == "verifiers.rule"  # e.g. an installed plugin's own module
    assert register_plugin(verifiers.rule, name="other") == "verifiers.rule" and not pm.has_plugin("other")


def test_register_plugin_keeps_builtins_after_the_test():
    assert pm.has_plugin("verifiers.rule") and verifiers.verify("a", "a", verifier="exact").is_correct


def test_register_plugin_is_gone_after_the_test_passes_or_fails(pytester):
    pytester.makepyfile(
        """
        import pytest
        import verifiers
        from verifiers import Verdict, Verifier, hookimpl
        from verifiers.plugins import pm

        class Shout(Verifier):
            name = "test.shout"

            def verify(self, sample):
                return Verdict.from_bool(self.name, sample.response.isupper())

        class Plugin:
            @hookimpl
            def register_verifiers(self, register):
                register(Shout)

        def test_passes(register_plugin):
            register_plugin(Plugin(), name="kept-for-one-test")
            assert verifiers.verify("HEY", verifier="test.shout").is_correct

        def test_fails(register_plugin):
            register_plugin(Plugin(), name="doomed")
            raise RuntimeError("boom")

        def test_after():
            assert not pm.has_plugin("kept-for-one-test") and not pm.has_plugin("doomed")
            with pytest.raises(verifiers.UnknownVerifierError):
                verifiers.get_verifier("test.shout")
        """
    )
    result = pytester.runpytest_inprocess(*PLUGIN_ARGS, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*RuntimeError: boom*"])


def test_subclass_in_a_plugin_authors_project(pytester):
    """What a plugin author writes: a subclass per verifier, collected and run by pytest."""
    pytester.makepyfile(
        """
        from verifiers import Sample, Verdict, Verifier
        from verifiers.testing import VerifierConformance

        class Palindrome(Verifier):
            name = "palindrome"

            def verify(self, sample):
                text = "".join(sample.response.lower().split())
                return Verdict.from_bool(self.name, bool(text) and text == text[::-1])

        class Raises(Verifier):
            name = "raises"

            def verify(self, sample):
                return Verdict.correct(self.name) if sample.response == "ok" else 1 / 0

        class TestPalindrome(VerifierConformance):
            verifier = Palindrome
            samples = [Sample("abba"), Sample("abc")]
            examples = 5

        class TestRaises(VerifierConformance):
            verifier = Raises
            samples = [Sample("ok")]
            examples = 5
        """
    )
    result = pytester.runpytest_inprocess(*PLUGIN_ARGS, "-p", "no:cacheprovider")
    # Raises gets "ok" in its fixed samples, so only the tests that generate or use hostile text fail
    result.assert_outcomes(passed=7 + 2, failed=5)
    result.stdout.fnmatch_lines(["*verifier 'raises' raised ZeroDivisionError*Verdict.error(self.name, reason)*"])


# -- the suite catches broken verifiers ----------------------------------------------------------------------------


class Good(Verifier):
    """Right when the response equals the reference."""

    name = "test.good"

    def verify(self, sample):
        if not isinstance(sample.reference, str):
            return Verdict.error(self.name, "the reference must be a string")
        return Verdict.from_bool(self.name, sample.response == sample.reference)


class RaisesOnBadInput(Good):
    name = "test.raises"

    def verify(self, sample):
        return Verdict.from_bool(self.name, sample.response.strip() == sample.reference.strip())


class NotAVerdict(Good):
    name = "test.not-a-verdict"

    def verify(self, sample):
        return 1.0 if sample.response == sample.reference else 0.0


class Nondeterministic(Good):
    name = "test.random"

    def verify(self, sample):
        return Verdict(Status.PARTIAL, random.random(), self.name)


class ReversedBatch(Good):
    name = "test.reversed"

    def verify_batch(self, samples):
        return [self.verify(s) for s in reversed(samples)]


class ShortBatch(Good):
    name = "test.short"

    def verify_batch(self, samples):
        return [self.verify(s) for s in samples][:1]


class Nameless(Good):
    name = "test.nameless"

    def verify(self, sample):
        return Verdict.incorrect(" ")


class FragileHostile(Good):
    name = "test.fragile"

    def verify(self, sample):
        if len(sample.response) > 100_000:
            raise MemoryError("too long")
        return super().verify(sample)


def test_a_good_verifier_passes():
    check_verifier(Good, examples=20)
    check_verifier(Good(), samples=[Sample("a", "a"), Sample("a", "b")], examples=5)


def test_a_registered_name_is_checked(register_plugin):
    class Plugin:
        @hookimpl
        def register_verifiers(self, register):
            register(Good)

    register_plugin(Plugin())
    check_verifier("test.good", examples=5)


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (RaisesOnBadInput, (r"'test\.raises' raised AttributeError: .* in verify\(\); a verifier must never raise"
                            r".*return Verdict\.error\(self\.name, reason\)")),
        (NotAVerdict, r"'test\.not-a-verdict' verify\(\) returned float \(1\.0\), not a verifiers\.Verdict"),
        (Nondeterministic, r"'test\.random' is not deterministic: the same sample gave two different verdicts"),
        (ReversedBatch, r"'test\.reversed' verify_batch\(samples\)\[0\] differs from verify\(samples\[0\]\)"),
        (ShortBatch, r"'test\.short' verify_batch\(\) returned 1 verdicts for 7 samples"),
        (Nameless, r"'test\.nameless' verify\(\) gave a verdict with verifier=' '; name the verifier"),
        (FragileHostile, r"'test\.fragile' raised MemoryError: too long.*\n.*\n  sample: Sample\(response='\\\\boxed\{"),
    ],
)
def test_a_broken_verifier_fails_with_a_helpful_message(broken, message):
    with pytest.raises(AssertionError, match=message):
        check_verifier(broken, examples=10)


def test_the_failure_names_the_sample():
    with pytest.raises(AssertionError) as info:
        check_verifier(RaisesOnBadInput, samples=[Sample("x", "x")], examples=5)
    assert "\n  sample: Sample(response='x', reference=None" in str(info.value)
    assert isinstance(info.value.__cause__, AttributeError)  # pytest shows the original traceback too


def test_a_batch_that_breaks_only_on_generated_input_is_found():
    class BatchSortsByResponse(Good):
        name = "test.sorted-batch"

        def verify_batch(self, samples):
            return [self.verify(s) for s in sorted(samples, key=lambda s: s.response)]

    with pytest.raises(AssertionError, match=r"verify_batch\(samples\)\[\d\] differs from verify"):
        check_verifier(BatchSortsByResponse, samples=[Sample("a", "a")], examples=50)


def test_hostile_responses_are_what_the_issue_asks_for():
    assert any(len(r) >= 1 << 20 for r in HOSTILE_RESPONSES)
    assert any(r.count("\\boxed{") >= 50_000 for r in HOSTILE_RESPONSES)
    assert any("\ud800" in r for r in HOSTILE_RESPONSES) and any("\x00" in r for r in HOSTILE_RESPONSES)
    assert any(r.count(" ") >= 200_000 and "\\boxed{" in r for r in HOSTILE_RESPONSES)  # padding
    assert any("\u200b" in r for r in HOSTILE_RESPONSES) and "1e5000" in HOSTILE_RESPONSES


def test_check_verifier_rejects_non_samples():
    with pytest.raises(TypeError, match=r"samples\[0\] must be a verifiers\.Sample, got dict"):
        check_verifier(Good, samples=[{"response": "x"}])


# -- docs/writing-a-plugin.md: its package, tests and commands work as written ---------------------------------------

DOC = (Path(__file__).resolve().parent.parent / "docs" / "writing-a-plugin.md").read_text()
DOC_FILES = dict(re.findall(r"```(?:python|toml)\n# (\S+)\n(.*?)```", DOC, re.S))
DOC_SNIPPETS = [b for b in re.findall(r"```python\n(.*?)```", DOC, re.S) if not b.startswith("# ")]
DOC_CHECKS = [line.split("  #")[0].strip() for line in re.findall(r"^verifiers check .*$", DOC, re.M)]


@pytest.fixture
def tutorial_project(pytester) -> Path:
    """The tutorial's project, written out file by file from the doc."""
    assert set(DOC_FILES) == {"pyproject.toml", "src/verifiers_keywords/__init__.py", "tests/test_keywords.py"}
    for name, text in DOC_FILES.items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (pytester.path / "README.md").write_text("# verifiers-keywords\n")
    pytester.syspathinsert(pytester.path / "src")
    return pytester.path


def test_tutorial_tests_pass_before_the_package_is_installed(pytester, tutorial_project):
    result = pytester.runpytest_inprocess(*PLUGIN_ARGS, "-p", "no:cacheprovider", "tests")
    result.assert_outcomes(passed=7 + 3)


def test_tutorial_package_works_installed(tutorial_project):
    """Installed = an entry point in the `verifiers` group: its tests, `verifiers plugins` and `verifiers check`."""
    dist = tutorial_project / "site" / "verifiers_keywords-0.1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: verifiers-keywords\nVersion: 0.1.0\n")
    (dist / "entry_points.txt").write_text("[verifiers]\nkeywords = verifiers_keywords\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERIFIERS_")}
    env["PYTHONPATH"] = os.pathsep.join([str(dist.parent), str(tutorial_project / "src")])

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                              cwd=tutorial_project, timeout=300)

    tests = run("-m", "pytest", "-q", "-p", "no:cacheprovider", *PLUGIN_ARGS, "tests")
    assert tests.returncode == 0 and "10 passed" in tests.stdout, tests.stdout + tests.stderr
    plugins = run("-m", "verifiers", "plugins")
    assert {"name": "keywords", "version": "0.1.0", "hooks": ["register_verifiers"], "builtin": False} in json.loads(
        plugins.stdout)
    assert len(DOC_CHECKS) == 2
    statuses = []
    for line in DOC_CHECKS:
        check = run("-m", "verifiers", *shlex.split(line)[1:])
        assert check.returncode == 0, check.stderr
        statuses.append(json.loads(check.stdout)["status"])
    assert statuses == ["correct", "incorrect"]


def test_tutorial_snippets_run(tutorial_project):
    namespace: dict = {}
    for i, block in enumerate(DOC_SNIPPETS):
        exec(compile(block, f"writing-a-plugin.md snippet {i}", "exec"), namespace)
    keywords = namespace["keywords"]
    assert keywords.verify(Sample("Paris is lovely.", ["Paris", "France"])).score == 0.5
    for name in ("Expensive", "LengthBatch"):
        check_verifier(namespace[name], examples=10)
    assert namespace["Expensive"].cpu_bound and namespace["LengthBatch"].batched
