"""One test per hook (the docs meta-test requires a `test_hook_<name>` for each)."""

import pytest

import verifiers
from sandboxes import ExecResult, Outcome
from verifiers import Sample, UnknownVerifierError, Verdict, Verifier, hookimpl
from verifiers.errors import PluginError, UnknownJudgeBackendError, UnknownSandboxError
from verifiers.plugins import get_judge_backend, get_sandbox, route


class Upper(Verifier):
    """The response is upper case."""

    name = "test.upper"
    domains = ("shouting",)

    def verify(self, sample):
        return Verdict.from_bool(self.name, sample.response.isupper())


def test_hook_register_verifiers(register_plugin):
    with pytest.raises(UnknownVerifierError):
        verifiers.get_verifier("test.upper")

    class Plugin:
        @hookimpl
        def register_verifiers(self, register):
            register(Upper)

    register_plugin(Plugin())
    assert verifiers.verify("HELLO", verifier="test.upper").is_correct
    assert not verifiers.verify("hello", domain="shouting").is_correct
    assert "shouting" in verifiers.list_domains()
    row = next(r for r in verifiers.list_verifiers() if r["name"] == "test.upper")
    assert row["description"] == "The response is upper case."
    assert row["domains"] == ["shouting"]


def test_hook_register_verifiers_rejects_a_duplicate_name(register_plugin):
    class Plugin:
        @hookimpl
        def register_verifiers(self, register):
            register(Upper, name="exact")

    register_plugin(Plugin(), name="dup-plugin")
    with pytest.raises(PluginError, match="registered twice.*dup-plugin"):
        verifiers.get_verifier("exact")


class EchoSandbox:
    name = "test.echo"

    def __init__(self, prefix=""):
        self.prefix = prefix

    def run(self, program, *, language="python", stdin="", files=None, limits=None):
        return ExecResult(Outcome.OK, exit_code=0, stdout=self.prefix + stdin)


def test_hook_register_sandboxes(register_plugin):
    with pytest.raises(UnknownSandboxError, match="unknown sandbox 'test.echo'; registered: "):
        get_sandbox("test.echo")

    class Plugin:
        @hookimpl
        def register_sandboxes(self, register):
            register(EchoSandbox)

    register_plugin(Plugin())
    sandbox = get_sandbox("test.echo", prefix="> ")
    assert sandbox.run("cat", stdin="hi").stdout == "> hi"


def test_hook_register_judge_backends(register_plugin):
    class ConstantJudge:
        def __init__(self, answer="yes"):
            self.answer = answer

        def judge(self, prompts):
            return [self.answer for _ in prompts]

    class Plugin:
        @hookimpl
        def register_judge_backends(self, register):
            register(ConstantJudge, name="test.constant")

    with pytest.raises(UnknownJudgeBackendError):
        get_judge_backend("test.constant")
    register_plugin(Plugin())
    assert get_judge_backend("test.constant", answer="no").judge(["q1", "q2"]) == ["no", "no"]


def test_hook_route_sample(register_plugin):
    sample = Sample("HELLO", reference={"loud": True})
    assert route(sample) is None  # the built-in router does not know this shape

    class Plugin:
        @hookimpl
        def route_sample(self, sample):
            if isinstance(sample.reference, dict) and "loud" in sample.reference:
                return "shouting"
            return None

        @hookimpl
        def register_verifiers(self, register):
            register(Upper)

    register_plugin(Plugin())
    assert route(sample) == "shouting"
    assert route(Sample("x", reference="3")) == "numeric"  # plugins that pass leave the built-in router
    verdict = verifiers.verify("HELLO", {"loud": True})
    assert verdict.is_correct and verdict.verifier == "test.upper"
