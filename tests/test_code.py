"""The `code` verifier on real problems, in the real bubblewrap sandbox: extraction, test kinds, checkers,
reward modes, group weights, languages and infrastructure failures."""

from __future__ import annotations

import shutil
import sys
import warnings

import pytest
from support.bench import bench_rows
from support.properties import HealthCheck, given, settings, st
from support.system import missing

import verifiers.code as code_module
from verifiers import Sample, Status, verify, verify_batch
from verifiers.code import CodeVerifier, extract_code


@pytest.fixture(scope="module")
def sandbox():
    return bwrap_sandbox()


@pytest.fixture(scope="module")
def problems():
    return bench_rows("code_problems.jsonl")


def bwrap_sandbox():
    """The real bubblewrap backend (through the plugin registry when its plugin is loaded); skip without one."""
    from verifiers.errors import UnknownSandboxError
    from verifiers.plugins import get_sandbox

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            try:
                return get_sandbox("bwrap")
            except UnknownSandboxError:
                from sandboxes.bwrap import BwrapSandbox

                return BwrapSandbox()
        except Exception as exc:  # no bubblewrap here
            missing("bwrap", f"bwrap sandbox unavailable: {exc}")


def fenced(code: str, tag: str = "python") -> str:
    return f"Here is my solution.\n```{tag}\n{code}\n```\nDone."


def solution_code(problem: dict) -> str:
    if problem["test_type"] == "assert" and problem["source"].startswith("openai"):
        return problem["prompt"] + problem["canonical_solution"]  # HumanEval: the body completes the prompt
    return problem["canonical_solution"]


def reference(problem: dict) -> dict:
    return {"tests": problem["tests"], "entry_point": problem["entry_point"], "language": "python"}


def check(sandbox, response, ref, **options):
    return verify_batch([Sample(response=response, reference=ref)], verifier=CodeVerifier(sandbox=sandbox, **options))[0]


ADD = {"tests": ["assert add(1, 2) == 3", "assert add(-4, 4) == 0", "assert add(10, 5) == 15",
                 "assert add(2, 2) == 4"], "entry_point": "add"}
SUM_STDIO = {"tests": [{"input": "1 2\n", "output": "3\n"}, {"input": "10 20\n", "output": "30\n"},
                       {"input": "-5 5\n", "output": "0\n"}]}


# -- extraction -------------------------------------------------------------------------------------------


def test_extract_last_block_of_the_language():
    text = "```python\nx = 1\n```\ntext\n```js\nlet y\n```\n```python\nx = 2\n```\n"
    assert extract_code(text) == ("x = 2\n", "fenced:python")
    assert extract_code(text, "javascript") == ("let y\n", "fenced:js")


def test_extract_untagged_block_then_whole_text():
    assert extract_code("intro\n```\nprint(1)\n```\n") == ("print(1)\n", "fenced:untagged")
    assert extract_code("def f():\n    return 1\n") == ("def f():\n    return 1\n", "whole_text")


def test_extract_drops_thinking_and_reads_an_unclosed_fence():
    text = "<think>```python\nwrong = 1\n```</think>```py\nright = 2\n"
    assert extract_code(text) == ("right = 2\n", "fenced:py")


@given(st.text(max_size=300))
@settings(max_examples=200, deadline=None)
def test_extract_is_total(text):
    code, how = extract_code(text)
    assert isinstance(code, str) and how in ("whole_text", "fenced:untagged") or how.startswith("fenced:")


# -- the benchmark problems -------------------------------------------------------------------------------


def test_every_canonical_solution_scores_one(sandbox, problems):
    samples = [Sample(response=fenced(solution_code(p)), reference=reference(p), id=p["task_id"]) for p in problems]
    verdicts = verify_batch(samples, verifier=CodeVerifier(sandbox=sandbox))
    failures = [(s.id, v.status, v.reason) for s, v in zip(samples, verdicts) if v.score != 1.0]
    assert failures == []
    assert all(v.status is Status.CORRECT for v in verdicts)
    assert all(len(v.steps) == p["n_tests"] for v, p in zip(verdicts, problems))
    assert verdicts[0].evidence["extraction"] == "fenced:python"


def test_stubs_score_near_zero_when_weighted(sandbox, problems):
    samples = []
    for p in problems:
        if p["entry_point"]:
            stub = f"def {p['entry_point']}(*args, **kwargs):\n    return None\n"
        else:
            stub = "print(0)\n"
        samples.append(Sample(response=fenced(stub), reference=reference(p)))
    verdicts = verify_batch(samples, verifier=CodeVerifier(sandbox=sandbox, reward_mode="weighted"))
    scores = [v.score for v in verdicts]
    assert all(v.status.is_decided for v in verdicts)
    assert sum(scores) / len(scores) < 0.02
    assert max(scores) == 0.0


def test_stub_passing_tests_weigh_zero(sandbox):
    ref = {"tests": ["assert not is_even(3)", "assert is_even(4)", "assert is_even(0)"], "entry_point": "is_even"}
    stub = check(sandbox, fenced("def is_even(n):\n    return False\n"), ref, reward_mode="weighted")
    assert stub.score == 0.0 and stub.status is Status.INCORRECT
    fraction = check(sandbox, fenced("def is_even(n):\n    return False\n"), ref)
    assert fraction.score == pytest.approx(1 / 3)


# -- test kinds ---------------------------------------------------------------------------------------------


def test_partial_credit_one_step_per_test(sandbox):
    wrong_on_negatives = "def add(a, b):\n    return abs(a) + b\n"
    verdict = check(sandbox, fenced(wrong_on_negatives), ADD)
    assert verdict.status is Status.PARTIAL
    assert verdict.score == pytest.approx(0.75)
    assert [s.status for s in verdict.steps] == [Status.CORRECT, Status.INCORRECT, Status.CORRECT, Status.CORRECT]
    assert "got 8" in verdict.steps[1].detail


def test_reward_modes(sandbox):
    wrong = fenced("def add(a, b):\n    return abs(a) + b\n")
    assert check(sandbox, wrong, ADD, reward_mode="binary").score == 0.0
    assert check(sandbox, wrong, ADD, reward_mode="binary").status is Status.INCORRECT
    weighted = check(sandbox, wrong, ADD, reward_mode="weighted", alpha=0.5)
    # stubs: add(-4, 4) == 0 is passed by `return 0`, so its weight is 0: partial = 3/3, score = 0.5 * 0 + 0.5 * 1
    assert weighted.score == pytest.approx(0.5)
    assert [s.weight for s in weighted.steps] == [1.0, 0.0, 1.0, 1.0]
    per_sample = verify_batch(
        [Sample(response=wrong, reference=ADD, metadata={"reward_mode": "binary"})],
        verifier=CodeVerifier(sandbox=sandbox),
    )[0]
    assert per_sample.score == 0.0


def test_group_weights_favour_hard_tests(sandbox):
    ref = {"tests": ["assert sq(2) == 4", "assert sq(3) == 9", "assert sq(-7) == 49"], "entry_point": "sq"}
    easy_only = fenced("def sq(x):\n    return {2: 4, 3: 9}.get(x, 1)\n")
    hard_only = fenced("def sq(x):\n    return 49 if x == -7 else 1\n")
    group = [Sample(response=easy_only, reference=ref, prompt="p"), Sample(response=easy_only, reference=ref, prompt="p"),
             Sample(response=hard_only, reference=ref, prompt="p")]
    verdicts = verify_batch(group, verifier=CodeVerifier(sandbox=sandbox, reward_mode="weighted", alpha=0.0))
    # k = (2, 2, 1) of n = 3: weights (1 - 3/5, 1 - 3/5, 1 - 2/5) = (0.4, 0.4, 0.6)
    assert [s.weight for s in verdicts[0].steps] == pytest.approx([0.4, 0.4, 0.6])
    assert verdicts[0].score == pytest.approx(0.8 / 1.4)
    assert verdicts[2].score == pytest.approx(0.6 / 1.4)
    assert verdicts[0].evidence["group_size"] == 3


def test_non_equality_asserts_are_judged_on_the_trusted_side(sandbox):
    ref = {"tests": ["assert abs(frac(1.33) - 0.33) < 1e-06", "assert frac(2.5) is not None",
                     "assert not is_pos(-1)", "assert is_pos(3) is True", "assert set(pair()) == {1, 2}",
                     "assert sorted(pair(), reverse=True)[0] == 2", "assert math.isclose(frac(0.75), 0.75)"]}
    good = "import math\ndef frac(x):\n    return x % 1.0\ndef is_pos(x):\n    return x > 0\ndef pair():\n    return (2, 1)\n"
    assert check(sandbox, fenced(good), ref).score == 1.0
    truthy_not_bool = "import math\ndef frac(x):\n    return x % 1.0\ndef is_pos(x):\n    return int(x > 0)\ndef pair():\n    return (2, 1)\n"
    verdict = check(sandbox, fenced(truthy_not_bool), ref)
    # Python's own semantics: `not 0` holds, `1 is True` does not
    assert [s.status for s in verdict.steps][2:4] == [Status.CORRECT, Status.INCORRECT]


def test_setup_statements_and_tests_without_a_top_level_assert(sandbox):
    ref = {"tests": ["x = double(4)\nassert x == 8", "def verify_all(f):\n    assert f(1) == 2\nverify_all(double)"]}
    verdict = check(sandbox, fenced("def double(n):\n    return 2 * n\n"), ref)
    assert verdict.score == 1.0
    assert "weak_tests" not in verdict.evidence  # the helper runs in the clean test process, at full weight
    assert check(sandbox, fenced("def double(n):\n    return n\n"), ref).score == 0.0


def test_function_call_tests(sandbox):
    ref = {"tests": [{"args": [[3, 1, 2]], "expected": [1, 2, 3]}, {"args": [[]], "expected": []},
                     {"args": [[2, 1]], "kwargs": {"reverse": True}, "expected": [2, 1]}], "entry_point": "sort_it"}
    good = "def sort_it(xs, reverse=False):\n    return tuple(sorted(xs, reverse=reverse))\n"
    assert check(sandbox, fenced(good), ref).score == 1.0
    bad = "def sort_it(xs, reverse=False):\n    return xs\n"
    assert check(sandbox, fenced(bad), ref).score == pytest.approx(2 / 3)  # [] and [2, 1] come back as they are


def test_stdio_and_its_checkers(sandbox):
    good = "a, b = map(int, input().split())\nprint(a + b)\n"
    assert check(sandbox, fenced(good), SUM_STDIO).score == 1.0
    spaced = "a, b = map(int, input().split())\nprint('  ', a + b, '  ')\nprint()\n"
    assert check(sandbox, fenced(spaced), SUM_STDIO).score == 1.0  # tokens (the default)
    assert check(sandbox, fenced(spaced), {**SUM_STDIO, "checker": "exact"}).score == 0.0
    trailing = "a, b = map(int, input().split())\nprint(str(a + b) + '   ')\n"
    assert check(sandbox, fenced(trailing), {**SUM_STDIO, "checker": "lines"}).score == 1.0
    assert check(sandbox, fenced(trailing), {**SUM_STDIO, "checker": "exact"}).score == 0.0


def test_float_checker(sandbox):
    ref = {"tests": [{"input": "1 3\n", "output": "0.333333333\n"}], "checker": {"type": "float", "rel_tol": 1e-4}}
    assert check(sandbox, fenced("a, b = map(int, input().split())\nprint(round(a / b, 5))\n"), ref).score == 1.0
    assert check(sandbox, fenced("print(0.3)\n"), ref).score == 0.0
    assert check(sandbox, fenced("print(0.3333)\n"), {**ref, "checker": "float"}).score == 0.0  # default 1e-6


def test_checker_program_runs_in_the_sandbox(sandbox):
    checker = (
        "import json, sys\nd = json.load(sys.stdin)\n"
        "print(1 if sorted(d['actual'].split()) == sorted(d['expected'].split()) else 0)\n"
    )
    ref = {"tests": [{"input": "3\n", "output": "1 2 3\n"}, {"input": "2\n", "output": "1 2\n"}],
           "checker": {"type": "program", "source": checker}}
    any_order = "n = int(input())\nprint(*reversed(range(1, n + 1)))\n"
    assert check(sandbox, fenced(any_order), ref).score == 1.0
    assert check(sandbox, fenced("print(1)\n"), ref).score == 0.0


def test_trusted_callable_checker(sandbox):
    def same_number(inp, expected, actual):
        return float(actual) == float(expected)

    assert check(sandbox, fenced("print('3.0')\n"), {"tests": [{"input": "", "output": "3"}]},
                 checker=same_number).score == 1.0

    def broken(inp, expected, actual):
        raise RuntimeError("checker bug")

    verdict = check(sandbox, fenced("print(3)\n"), {"tests": [{"input": "", "output": "3"}], "checker": broken})
    assert verdict.score == 0.0 and "checker raised RuntimeError" in verdict.steps[0].detail


@pytest.mark.skipif(shutil.which("gcc") is None or shutil.which("g++") is None, reason="no C compiler")
def test_c_and_cpp_programs_and_compile_errors(sandbox):
    c = "#include <stdio.h>\nint main(){long a,b;scanf(\"%ld %ld\",&a,&b);printf(\"%ld\\n\",a+b);return 0;}\n"
    cpp = "#include <iostream>\nint main(){long a,b;std::cin>>a>>b;std::cout<<a+b<<std::endl;}\n"
    assert check(sandbox, fenced(c, "c"), {**SUM_STDIO, "language": "c"}).score == 1.0
    assert check(sandbox, fenced(cpp, "cpp"), {**SUM_STDIO, "language": "cpp"}).score == 1.0
    broken = check(sandbox, fenced("int main( {", "c"), {**SUM_STDIO, "language": "c"})
    assert broken.status is Status.INCORRECT and broken.score == 0.0
    assert "error" in broken.evidence["compile_error"]


@pytest.mark.skipif(shutil.which("node") is None, reason="no node")
def test_javascript_program(sandbox):
    js = "const s=require('fs').readFileSync(0,'utf8').trim().split(/\\s+/).map(Number);console.log(s[0]+s[1]);\n"
    assert check(sandbox, fenced(js, "js"), {**SUM_STDIO, "language": "javascript"}).score == 1.0


def test_python_syntax_error_is_incorrect_with_message(sandbox):
    verdict = check(sandbox, fenced("def add(a, b)\n    return a + b\n"), ADD)
    assert verdict.status is Status.INCORRECT and verdict.score == 0.0
    assert "SyntaxError" in verdict.evidence["compile_error"]


def test_empty_response_is_incorrect_without_running(sandbox):
    verdict = check(sandbox, "", ADD)
    assert verdict.status is Status.INCORRECT and verdict.score == 0.0


# -- infrastructure failures are ERROR, never 0 ---------------------------------------------------------------


def test_missing_sandbox_is_an_error():
    verdict = check("no-such-sandbox", fenced("def add(a, b):\n    return a + b\n"), ADD)
    assert verdict.status is Status.ERROR and verdict.reward is None
    assert "no sandbox" in verdict.reason


def test_sandbox_error_outcome_is_an_error():
    from sandboxes import ExecResult, Outcome

    class Broken:
        name = "broken"

        def run(self, program, **kwargs):
            return ExecResult(Outcome.SANDBOX_ERROR, detail="cgroup vanished")

    verdict = check(Broken(), fenced("def add(a, b):\n    return a + b\n"), ADD)
    assert verdict.status is Status.ERROR and "cgroup vanished" in verdict.reason


@pytest.mark.parametrize("ref", [None, "assert f() == 1", {"tests": []}, {"tests": ["assert (("]},
                                 {"tests": ["assert f() == 1", {"input": "", "output": ""}]},
                                 {"tests": [{"input": "", "output": ""}], "checker": "fuzzy"}])
def test_unusable_references_are_errors(sandbox, ref):
    verdict = check(sandbox, fenced("x = 1"), ref)
    assert verdict.status is Status.ERROR


def test_registered_as_a_built_in_plugin(sandbox):
    from verifiers.plugins import DEFAULT_PLUGINS, verifier_registry

    assert "verifiers.code" in DEFAULT_PLUGINS and verifier_registry().entry("code").plugin == "verifiers.code"
    verdict = verify(fenced("def add(a, b):\n    return a + b\n"), ADD, verifier="code", options={"sandbox": sandbox})
    assert verdict.is_correct and verdict.verifier == "code"


def test_verifier_attributes():
    assert CodeVerifier.name == "code" and CodeVerifier.domains == ("code",)
    assert CodeVerifier.batched is True and CodeVerifier.cost >= 10


def test_driver_is_self_contained():
    import ast

    tree = ast.parse(code_module.DRIVER_SOURCE)
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                for a in n.names} | {n.module.split(".")[0] for n in ast.walk(tree)
                                     if isinstance(n, ast.ImportFrom) and n.module}
    assert imported <= set(sys.stdlib_module_names)


@given(st.text(max_size=200))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_response_gives_a_score_in_range(sandbox, text):
    verdict = check(sandbox, text, ADD, reward_mode="weighted")
    assert verdict.status in (Status.CORRECT, Status.INCORRECT, Status.PARTIAL)
    assert 0.0 <= verdict.score <= 1.0


def test_humaneval_check_functions_become_one_test_per_assert(sandbox):
    check_src = (
        'METADATA = {"author": "jt"}\n\n'
        "def check(candidate):\n"
        "    xs = [1, 2]\n"
        "    assert candidate(2) == 4\n"
        "    assert candidate(-1) == -2\n"
        "    assert True, 'This prints if this assert fails'\n"  # tests nothing: no step, no free point
        "    assert candidate(xs[0]) == 2\n"
    )
    ref = {"tests": [check_src], "entry_point": "double"}
    verdict = check(sandbox, fenced("def double(n):\n    return 2 * n if n > 0 else n\n"), ref)
    assert [s.status for s in verdict.steps] == [Status.CORRECT, Status.INCORRECT, Status.CORRECT]


def test_a_check_function_with_loops_or_calls_runs_whole(sandbox):
    # statements that test and prepare at once (a loop, a call) keep their order: one test, as the official harness
    check_src = (
        "def check(candidate):\n"
        "    s = candidate()\n"
        "    s.push(1)\n"
        "    s.push(2)\n"
        "    assert s.pop() == 2\n"
        "    for want in [1]:\n"
        "        assert s.pop() == want\n"
    )
    ref = {"tests": [check_src], "entry_point": "Stack"}
    honest = ("class Stack:\n    def __init__(self):\n        self.items = []\n"
              "    def push(self, x):\n        self.items.append(x)\n    def pop(self):\n        return self.items.pop()\n")
    verdict = check(sandbox, fenced(honest), ref)
    assert verdict.score == 1.0 and len(verdict.steps) == 1
    assert check(sandbox, fenced(honest.replace("self.items.pop()", "self.items.pop(0)")), ref).score == 0.0


# The rewritten asserts must judge exactly as Python's own `assert` would, for honest plain-data programs.
SEMANTICS_PROGRAM = (
    "def f(x):\n    return x\n"
    "def g(*a):\n    return list(a)\n"
    "def h():\n    return {'a': (1, 2), 'b': {3}}\n"
    "def n():\n    return None\n"
)
SEMANTICS_ASSERTS = [
    "assert f(1) == 1.0", "assert f(True) == 1", "assert f((1, 2)) == [1, 2]", "assert f([1, 2]) == [1, 2]",
    "assert g(1, 2) == [1, 2]", "assert g(1, 2) != (1, 2)", "assert h() == {'a': (1, 2), 'b': {3}}",
    "assert h()['a'][1] == 2", "assert sorted(h()['b']) == [3]", "assert 3 in h()['b']", "assert n() is None",
    "assert not f(False)", "assert f(2) > 1 and f(3) < 4", "assert f(0.1) + f(0.2) == 0.3",
    "assert abs(f(0.1) + f(0.2) - 0.3) < 1e-9", "assert len(g(*range(4))) == 4", "assert f('ab') * 2 == 'abab'",
    "assert f(float('nan')) != f(float('nan'))", "assert f([1, [2, 3]])[1][-1] == 3", "assert f(1) if True else 0",
    "assert max(g(3, 9, 4)) == 9 == f(9)", "assert f(2) ** 10 == 1024", "assert f({1: 2}) == {1: 2.0}",
    "assert f('x') in ('x', 'y')", "assert f([]) == []", "assert f(-0.0) == 0", "assert f(10) // 3 == 3",
    "assert f('abc')[::-1] == 'cba'", "assert f(b'hi') == b'hi'", "assert f(1j) == 1j",
]


def test_rewritten_asserts_agree_with_python(sandbox):
    namespace: dict = {}
    exec(SEMANTICS_PROGRAM, namespace)
    expected = []
    for source in SEMANTICS_ASSERTS:
        try:
            exec(source, dict(namespace))
            expected.append(Status.CORRECT)
        except AssertionError:
            expected.append(Status.INCORRECT)
    verdict = check(sandbox, fenced(SEMANTICS_PROGRAM), {"tests": SEMANTICS_ASSERTS})
    assert [s.status for s in verdict.steps] == expected


def test_a_batch_with_dying_drivers_does_not_deadlock(sandbox):
    killer = ("import os, signal\ndef add(a, b):\n    if a == -4:\n"
              "        with open('/proc/%d/stat' % os.getppid()) as f:\n"  # the zygote's parent: the driver
              "            os.kill(int(f.read().rsplit(')', 1)[1].split()[1]), signal.SIGKILL)\n"
              "    return a + b\n")
    samples = [Sample(response=fenced(killer), reference=ADD) for _ in range(5)]
    verdicts = verify_batch(samples, verifier=CodeVerifier(sandbox=sandbox, workers=2))
    assert all(v.score <= 0.25 and v.status is not Status.ERROR for v in verdicts)


def test_overlong_programs_are_not_run(sandbox):
    verdict = check(sandbox, fenced("x = 1\n" * 200_000), ADD)
    assert verdict.status is Status.INCORRECT and "not run" in verdict.reason
