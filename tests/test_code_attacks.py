"""Attacks on the `code` harness around the sandbox (issue 15), each against the real bubblewrap sandbox.

Every program below is wrong (or honest, for the twins), and every attack earned a full reward from the old harness,
in which the tests' leaves ran in the program's own interpreter. Here the test code runs in a clean process that
the program never loads into, so none of them may earn anything; the honest twins must score what Python's own
`assert` gives them.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
from support.bench import bench_rows
from test_code import bwrap_sandbox, fenced

from verifiers import Sample, Status, verify_batch
from verifiers.code import CodeVerifier


@pytest.fixture(scope="module")
def sandbox():
    return bwrap_sandbox()


def verdict_for(sandbox, code, ref, tag="python", **options):
    verifier = CodeVerifier(sandbox=sandbox, **{"timeout": 3.0, **options})
    return verify_batch([Sample(response=fenced(code, tag), reference=ref)], verifier=verifier)[0]


def assert_nothing(verdict):
    assert verdict.status is Status.INCORRECT, (verdict.status, verdict.reason, [s.detail for s in verdict.steps])
    assert verdict.score == 0.0


# Copies, onto the program's own leaf, the value of the leaf after it (the expected value, when that was
# evaluated next to the program): json.dumps of the per-test result is the program's to patch in its interpreter.
COPY_EXPECTED = (
    "import json\n"
    "_dumps = json.dumps\n"
    "def _patched(obj, *a, **k):\n"
    "    if isinstance(obj, dict) and isinstance(obj.get('ops'), list) and len(obj['ops']) >= 2:\n"
    "        obj['ops'][-2] = obj['ops'][-1]\n"
    "    return _dumps(obj, *a, **k)\n"
    "json.dumps = _patched\n"
)

EXPRESSION_EXPECTED = {
    "join": ({"tests": ["assert shout('ab') == ''.join(['A', 'B', '!'])"], "entry_point": "shout"},
             "def shout(s):\n    return 'nope'\n"),
    "factorial": ({"tests": ["import math\nassert fact(6) == math.factorial(6)"], "entry_point": "fact"},
                  "def fact(n):\n    return 1\n"),
    "pow": ({"tests": ["assert modexp(3, 200, 13) == pow(3, 200, 13)"], "entry_point": "modexp"},
            "def modexp(b, e, m):\n    return 0\n"),
}


@pytest.mark.parametrize("name", sorted(EXPRESSION_EXPECTED))
def test_an_expected_value_computed_by_an_expression_cannot_be_copied(sandbox, name):
    ref, wrong = EXPRESSION_EXPECTED[name]
    assert_nothing(verdict_for(sandbox, COPY_EXPECTED + wrong, ref))


def test_math_constants_are_the_real_ones(sandbox):
    ref = {"tests": ["import math\nassert abs(area(1) - math.pi) < 1e-9", "assert abs(area(2) - 4 * math.pi) < 1e-9"],
           "entry_point": "area"}
    for wrong in (
        "import math\nmath.pi = 0\ndef area(r):\n    return 0\n",  # patch the module
        "class math:\n    pi = 0\ndef area(r):\n    return 0\n",  # a look-alike under the module's name
        "import sys, types\nsys.modules['math'] = types.SimpleNamespace(pi=0)\ndef area(r):\n    return 0\n",
    ):
        assert_nothing(verdict_for(sandbox, wrong, ref))
    # without the test's own import, the program's `import math` is the real module in the test process too
    bare = {"tests": ["assert abs(area(1) - math.pi) < 1e-9"], "entry_point": "area"}
    assert_nothing(verdict_for(sandbox, "import math\nmath.pi = 0\ndef area(r):\n    return 0\n", bare))
    honest = "import math\ndef area(r):\n    return math.pi * r * r\n"
    assert verdict_for(sandbox, honest, ref).score == 1.0
    assert verdict_for(sandbox, honest, bare).score == 1.0


def test_a_program_constant_is_never_an_expected_value(sandbox):
    ref = {"tests": ["assert abs(area(1) - pi) < 1e-9"], "entry_point": "area"}
    assert_nothing(verdict_for(sandbox, "pi = 0\ndef area(r):\n    return 0\n", ref))


def test_builtins_are_the_real_ones_in_tests(sandbox):
    ref = {"tests": ["for x in [3, 1, 2]:\n    assert sort3(x) == sorted([x, x, x])"], "entry_point": "sort3"}
    wrong = "def sorted(x):\n    return 'same'\ndef sort3(x):\n    return 'same'\n"
    assert_nothing(verdict_for(sandbox, wrong, ref))


ALWAYS_EQUAL = "class _Eq:\n    def __eq__(self, other):\n        return True\n    __hash__ = object.__hash__\n"


def test_a_comprehension_compares_plain_values_only(sandbox):
    ref = {"tests": ["assert all([double(x) == 2 * x for x in range(5)])",
                     "assert [double(x) for x in range(3)] == [0, 2, 4]"], "entry_point": "double"}
    assert_nothing(verdict_for(sandbox, ALWAYS_EQUAL + "def double(x):\n    return _Eq()\n", ref))
    assert verdict_for(sandbox, "def double(x):\n    return x * 2\n", ref).score == 1.0


# HumanEval/EvalPlus-style suites whose asserts sit in loops: they run whole, once "weak" and at full weight in
# the program's interpreter.
LOOP_CHECK = (
    "def check(candidate):\n"
    "    for x, want in [(1, 3), (4, 12), (-2, -6)]:\n"
    "        assert candidate(x) == want, x\n"
    "check(triple)\n"
)
LOOP_REF = {"tests": [LOOP_CHECK], "entry_point": "triple"}
LOOP_ATTACKS = {
    "caller_frame": (
        "import sys\n"
        "def triple(x):\n"
        "    f = sys._getframe(1)\n"
        "    while f is not None:\n"
        "        if 'want' in f.f_locals:\n"
        "            return f.f_locals['want']\n"
        "        f = f.f_back\n"
        "    return 0\n"
    ),
    "exec_is_a_no_op": "import builtins\nbuiltins.exec = lambda *a, **k: None\ndef triple(x):\n    return 0\n",
    "compile_without_asserts": (
        "import builtins\n"
        "_compile = builtins.compile\n"
        "builtins.compile = lambda src, fn, mode, *a, **k: _compile(src, fn, mode, 0, True, 2)\n"
        "def triple(x):\n    return 0\n"
    ),
    "assertion_error_swallowed": (
        "import builtins\n"
        "class _Never(Exception):\n    pass\n"
        "builtins.AssertionError = _Never\n"
        "def triple(x):\n    return 0\n"
    ),
    "always_equal": ALWAYS_EQUAL + "def triple(x):\n    return _Eq()\n",
    "exit_zero_in_the_loop": "import os\ndef triple(x):\n    os._exit(0)\n",
}


@pytest.mark.parametrize("name", sorted(LOOP_ATTACKS))
def test_loop_style_check_suites_cannot_be_subverted(sandbox, name):
    verdict = verdict_for(sandbox, LOOP_ATTACKS[name], LOOP_REF)
    assert_nothing(verdict)
    assert "weak_tests" not in verdict.evidence


def test_loop_style_check_suites_pass_honest_programs(sandbox):
    verdict = verdict_for(sandbox, "def triple(x):\n    return 3 * x\n", LOOP_REF)
    assert verdict.status is Status.CORRECT and verdict.score == 1.0


def test_a_helper_defined_by_the_test_is_out_of_the_programs_reach(sandbox):
    ref = {"tests": ["def _reference(x):\n    return x * x + 1\nfor x in range(4):\n    assert f(x) == _reference(x)",
                     "def _reference(x):\n    return x * x + 1\nassert f(7) == _reference(7)"], "entry_point": "f"}
    wrong = "def f(x):\n    return globals()['_reference'](x)\n"
    assert_nothing(verdict_for(sandbox, wrong, ref))
    stolen = "import sys\ndef f(x):\n    return sys.modules['__main__'].__dict__['_reference'](x)\n"
    assert_nothing(verdict_for(sandbox, stolen, ref))
    assert verdict_for(sandbox, "def f(x):\n    return x * x + 1\n", ref).score == 1.0


def test_truth_values_follow_python(sandbox):
    # the official harness's verdicts: `assert` takes any truthy value, and 0 == False
    ref = {"tests": ["assert is_even(4)", "assert not is_even(3)", "assert is_even(2) == True",
                     "assert is_even(5) == False"], "entry_point": "is_even"}
    for honest in ("def is_even(n):\n    return 1 - n % 2\n", "def is_even(n):\n    return n % 2 == 0\n"):
        assert verdict_for(sandbox, honest, ref).score == 1.0
    truthy_list = "def is_even(n):\n    return [1] if n % 2 == 0 else []\n"  # Python: `[1] == True` is False
    assert [s.status for s in verdict_for(sandbox, truthy_list, ref).steps] == [
        Status.CORRECT, Status.CORRECT, Status.INCORRECT, Status.INCORRECT]
    assert_nothing(verdict_for(sandbox, "def is_even(n):\n    return n % 2\n", ref))


def test_program_objects_generators_and_in_place_changes(sandbox):
    ref = {"tests": ["s = Stack()\ns.push(3)\ns.push(4)\nassert s.pop() == 4 and len(s) == 1",
                     "assert list(count_up(3)) == [0, 1, 2]",
                     "xs = [3, 1, 2]\nsort_in_place(xs)\nassert xs == [1, 2, 3]",
                     "try:\n    root(-1)\n    assert False\nexcept ValueError:\n    pass"]}
    honest = (
        "class Stack:\n"
        "    def __init__(self):\n        self.items = []\n"
        "    def push(self, x):\n        self.items.append(x)\n"
        "    def pop(self):\n        return self.items.pop()\n"
        "    def __len__(self):\n        return len(self.items)\n"
        "def count_up(n):\n    yield from range(n)\n"
        "def sort_in_place(xs):\n    xs.sort()\n"
        "def root(x):\n"
        "    if x < 0:\n        raise ValueError('negative')\n"
        "    return x ** 0.5\n"
    )
    assert verdict_for(sandbox, honest, ref).score == 1.0
    lazy = honest.replace("    xs.sort()\n", "    return sorted(xs)\n").replace("raise ValueError", "raise KeyError")
    assert [s.status for s in verdict_for(sandbox, lazy, ref).steps][2:] == [Status.INCORRECT, Status.INCORRECT]


def test_an_exception_class_of_the_program_is_not_raised_in_the_test(sandbox):
    # a program-defined subclass of AssertionError-catching types must not reach `except` clauses as itself
    ref = {"tests": ["try:\n    assert check_me(1) == 2\nexcept AssertionError:\n    raise SystemExit(1)"],
           "entry_point": "check_me"}
    wrong = "class Boom(Exception):\n    pass\ndef check_me(x):\n    raise Boom()\n"
    assert_nothing(verdict_for(sandbox, wrong, ref))


def _bwrap_children() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().split(b"\0")[0]
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid() and cmd.endswith(b"bwrap"):
            pids.append(int(entry.name))
    return pids


def test_bubblewrap_killed_from_outside_is_an_error_not_a_score(sandbox):
    ref = {"tests": ["assert slow_double(1) == 2", "assert slow_double(2) == 4"], "entry_point": "slow_double"}
    honest = "import time\ndef slow_double(x):\n    time.sleep(1.5)\n    return 2 * x\n"
    killed: list[int] = []

    def killer() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not killed:
            for pid in _bwrap_children():
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.05)

    thread = threading.Thread(target=killer)
    thread.start()
    try:
        verdict = verdict_for(sandbox, honest, ref, workers=1)
    finally:
        killed.append(0)
        thread.join()
    assert killed[0] != 0, "no bubblewrap process was found to kill"
    assert verdict.status is Status.ERROR, (verdict.status, verdict.reason)
    assert "killed from outside" in verdict.reason


def test_pidfd_getfd_is_refused_in_the_sandbox(sandbox):
    from sandboxes import Limits

    probe = (
        "import ctypes, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "try:\n"
        "    pidfd = os.pidfd_open(os.getppid())\n"
        "except (AttributeError, OSError):\n"
        "    print('no-pidfd', 0)\n"
        "else:\n"
        "    r = libc.syscall(438, pidfd, 0, 0)\n"  # pidfd_getfd(pidfd, targetfd=0, flags=0)
        "    print(r, ctypes.get_errno())\n"
    )
    result = sandbox.run(probe, limits=Limits(cpu_s=5, wall_s=10))
    ret, errno = result.stdout.split()
    if ret == "no-pidfd":
        pytest.skip("this kernel has no pidfd_open: pidfd_getfd cannot be reached either")
    assert ret == "-1" and int(errno) == 1  # EPERM from the seccomp filter


def test_the_test_process_cannot_be_read_or_written_by_the_program(sandbox):
    # /proc/<pid>/mem of the driver (the program's parent) is closed to it: the driver is not dumpable
    ref = {"tests": ["assert peek(1) == 'closed'"], "entry_point": "peek"}
    probe = (
        "import os\n"
        "def peek(x):\n"
        "    try:\n"
        "        open('/proc/%d/mem' % os.getppid(), 'rb').close()\n"
        "        return 'open'\n"
        "    except OSError:\n"
        "        return 'closed'\n"
    )
    assert verdict_for(sandbox, probe, ref).score == 1.0


# -- agreement with the official harness ------------------------------------------------------------------------

# The official HumanEval/MBPP semantics: the program and each assert in one plain interpreter, a test passing when
# it raises nothing. Honest (and honestly wrong) programs must get exactly these verdicts from the harness.
OFFICIAL = r'''
import json, signal, sys
def _late(*_):
    raise TimeoutError
signal.signal(signal.SIGALRM, _late)
payload = json.loads(sys.stdin.read())
ns = {"__name__": "__main__"}
try:
    exec(compile(payload["program"], "solution.py", "exec"), ns)
    loaded = True
except BaseException:
    loaded = False
out = []
for test in payload["tests"]:
    try:
        if not loaded:
            raise RuntimeError("not loaded")
        signal.setitimer(signal.ITIMER_REAL, 3.0)
        exec(compile(test, "test", "exec"), dict(ns))
        signal.setitimer(signal.ITIMER_REAL, 0)
        out.append(True)
    except BaseException:
        signal.setitimer(signal.ITIMER_REAL, 0)
        out.append(False)
print(json.dumps(out))
'''


def _official(program: str, tests: list[str]) -> list[bool]:
    import json
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", OFFICIAL], input=json.dumps({"program": program, "tests": tests}),
                          capture_output=True, text=True, timeout=60, check=True)
    return json.loads(proc.stdout)


def _variants(problem: dict) -> dict[str, str]:
    from test_code import solution_code

    good = solution_code(problem)
    entry = problem["entry_point"]
    variants = {"canonical": good, "constant": good + f"\n\ndef {entry}(*args, **kwargs):\n    return 0\n"}
    for old, new in ((" + 1", " + 2"), (" == ", " != "), ("return True", "return 1"),
                     ("return False", "return 0")):
        if old in good:
            variants[f"mutant {old.strip()}"] = good.replace(old, new, 1)
    return variants


@pytest.mark.slow
def test_verdicts_agree_with_the_official_harness_on_public_problems(sandbox):
    problems = [p for p in bench_rows("code_problems.jsonl") if p["test_type"] == "assert"]
    samples, expected, labels = [], [], []
    for problem in problems:
        for name, program in _variants(problem).items():
            samples.append(Sample(response=fenced(program),
                                  reference={"tests": problem["tests"], "entry_point": problem["entry_point"]}))
            expected.append(_official(program, problem["tests"]))
            labels.append(f"{problem['task_id']} {name}")
    verdicts = verify_batch(samples, verifier=CodeVerifier(sandbox=sandbox, timeout=3.0))
    disagreements = [
        (label, want, [s.status is Status.CORRECT for s in verdict.steps], [s.detail for s in verdict.steps])
        for label, want, verdict in zip(labels, expected, verdicts)
        if [s.status is Status.CORRECT for s in verdict.steps] != want
    ]
    assert len(samples) > 2 * len(problems)
    assert sum(not all(w) for w in expected) > len(problems)  # the wrong variants do fail somewhere
    assert not disagreements, disagreements[:5]


def test_the_program_imports_from_its_usual_path_on_any_backend():
    # The test process imports only from read-only directories; the program keeps the whole path. Under the
    # unisolated `process` backend (run as root, everything writable) the standard library still loads for both.
    from sandboxes.process import ProcessSandbox

    ref = {"tests": ["import math\nassert total([1, 2]) == math.fsum([1, 2])"], "entry_point": "total"}
    program = "from typing import List\nimport json\ndef total(xs: List[int]) -> int:\n    return sum(xs)\n"
    with pytest.warns(Warning):
        verifier = CodeVerifier(sandbox=ProcessSandbox(), timeout=3.0)
    verdict = verify_batch([Sample(response=fenced(program), reference=ref)], verifier=verifier)[0]
    assert verdict.status is Status.CORRECT, (verdict.reason, [s.detail for s in verdict.steps])


# -- the red team's second pass (against the harness above) -------------------------------------------------------


WRONG_TRIPLE = "def triple(x):\n    return 0\n"
CHECK_SHAPES = {
    "assertion_helper": (  # EvalPlus: `check` calls a module-level helper, no bare assert in its body
        "def assertion(out, exp):\n    assert out == exp\n"
        "def check(candidate):\n    for x, want in [(1, 3), (4, 12)]:\n        assertion(candidate(x), want)\n"
    ),
    "raise_after_the_last_assert": (
        "def check(candidate):\n    assert candidate(0) == 0\n"
        "    for x, want in [(1, 3), (4, 12)]:\n        if candidate(x) != want:\n            raise AssertionError(x)\n"
    ),
    "nested_helper": (
        "def check(candidate):\n    def helper(x, want):\n        assert candidate(x) == want\n"
        "    helper(1, 3)\n    helper(4, 12)\n"
    ),
}


@pytest.mark.parametrize("name", sorted(CHECK_SHAPES))
def test_every_statement_of_a_check_function_that_tests_is_run(sandbox, name):
    ref = {"tests": [CHECK_SHAPES[name]], "entry_point": "triple"}
    verdict = verdict_for(sandbox, WRONG_TRIPLE, ref)
    assert verdict.score < 1.0 and any(s.status is Status.INCORRECT for s in verdict.steps), verdict.reason
    assert verdict_for(sandbox, "def triple(x):\n    return 3 * x\n", ref).score == 1.0


def test_a_check_function_without_an_entry_point_to_call_is_an_unusable_reference(sandbox):
    ref = {"tests": ["def check(candidate):\n    assert candidate(1) == 3\n"]}
    assert verdict_for(sandbox, WRONG_TRIPLE, ref).status is Status.ERROR


def test_test_variables_keep_their_scopes_and_their_changes(sandbox):
    scoped = {"tests": ["x = 4\nassert not any(is_prime(x) for x in [4, 6, 8, 9])",
                        "n = 10\nassert all(is_prime(n) for n in [2, 3, 5, 7])"], "entry_point": "is_prime"}
    honest = "def is_prime(n):\n    return n > 1 and all(n % d for d in range(2, n))\n"
    assert verdict_for(sandbox, honest, scoped).score == 1.0
    assert verdict_for(sandbox, "def is_prime(n):\n    return n != 4\n", scoped).steps[0].status is Status.INCORRECT
    mutated = {"tests": ["xs = [1, 2, 3]\nassert sum_list(xs) == 6\nassert xs == [1, 2, 3]"], "entry_point": "sum_list"}
    assert_nothing(verdict_for(sandbox, "def sum_list(xs):\n    s = sum(xs)\n    xs.clear()\n    return s\n", mutated))
    in_place = {"tests": ["xs = [3, 1, 2]\nassert sort_in_place(xs) is None\nassert xs == [1, 2, 3]"],
                "entry_point": "sort_in_place"}
    assert verdict_for(sandbox, "def sort_in_place(xs):\n    xs.sort()\n", in_place).score == 1.0


def test_names_the_test_or_the_entry_point_define_are_not_the_builtins(sandbox):
    as_max = {"tests": ["assert max([1, 5, 3]) == 5"], "entry_point": "max"}
    assert_nothing(verdict_for(sandbox, "def max(xs):\n    return -1\n", as_max))
    assert verdict_for(sandbox, "def max(xs):\n    return sorted(xs)[-1]\n", as_max).score == 1.0
    undefined = {"tests": [{"args": [[3, 1, 2]], "expected": [1, 2, 3]}], "entry_point": "sorted"}
    assert_nothing(verdict_for(sandbox, "x = 1\n", undefined))
    strict = {"tests": ["def isclose(a, b):\n    return type(a) is type(b) and a == b\nassert isclose(f(1), 3)"],
              "entry_point": "f"}
    assert_nothing(verdict_for(sandbox, "def f(x):\n    return 3.0\n", strict))
    stdlib_named = {"tests": ["assert bisect([1, 2, 3], 2) == 1"], "entry_point": "bisect"}
    honest = "def bisect(xs, x):\n    return xs.index(x)\n"
    assert verdict_for(sandbox, honest, stdlib_named).score == 1.0


def test_main_guarded_test_blocks_run(sandbox):
    ref = {"tests": ["if __name__ == '__main__':\n    assert f(1) == 2"], "entry_point": "f"}
    assert_nothing(verdict_for(sandbox, "def f(x):\n    return 0\n", ref))


def test_stop_iteration_from_a_call_is_an_error_not_the_end_of_a_loop(sandbox):
    ref = {"tests": ["assert all(map(is_prime, [2, 3, 5, 7]))"], "entry_point": "is_prime"}
    assert_nothing(verdict_for(sandbox, "def is_prime(n):\n    raise StopIteration\n", ref))


def test_honest_values_of_subclassed_types_compare_as_python_does(sandbox):
    ref = {"tests": ["assert count('aab') == {'a': 2, 'b': 1}", "assert point() == (1, 2)", "assert color() == 1",
                     "assert keys() == {'x', 'y'}", "assert raw() == b'ab'", "assert ordered() == {'k': 1}"]}
    honest = (
        "import collections, enum\n"
        "def count(s):\n    return collections.Counter(s)\n"
        "P = collections.namedtuple('P', 'x y')\n"
        "def point():\n    return P(1, 2)\n"
        "class C(enum.IntEnum):\n    RED = 1\n"
        "def color():\n    return C.RED\n"
        "def keys():\n    return {'x': 1, 'y': 2}.keys()\n"
        "def raw():\n    return bytearray(b'ab')\n"
        "def ordered():\n    return collections.OrderedDict(k=1)\n"
    )
    verdict = verdict_for(sandbox, honest, ref)
    assert verdict.score == 1.0, [s.detail for s in verdict.steps]
    # a subclass's own `__eq__` never runs: its plain data is compared
    liar = "class L(list):\n    def __eq__(self, other):\n        return True\ndef point():\n    return L([9, 9])\n"
    assert_nothing(verdict_for(sandbox, liar, {"tests": ["assert point() == (1, 2)", "assert point() == [1, 2]"]}))


def test_large_honest_values_and_arguments(sandbox):
    ref = {"tests": ["assert len(upto(250000)) == 250000", "assert sum(upto(200000)) == 19999900000",
                     "assert echo(list(range(50000))) == 50000", "assert '%.2f' % area(1) == '3.14'"]}
    honest = ("def upto(n):\n    return list(range(n))\n"
              "def echo(xs):\n    return len(xs)\n"
              "def area(r):\n    return 3.14159 * r * r\n")
    verdict = verdict_for(sandbox, honest, ref)
    assert verdict.score == 1.0, [s.detail for s in verdict.steps]


# -- the third pass ------------------------------------------------------------------------------------------------


def test_boolean_operators_give_python_operand_values(sandbox):
    ref = {"tests": ["assert (f(1) or 0) == 1", "assert (f(1) or f(2)) == True"], "entry_point": "f"}
    assert_nothing(verdict_for(sandbox, "def f(x):\n    return 5 if x == 1 else 'yes'\n", ref))
    honest = {"tests": ["assert sorted(f(3) or []) == [3]", "assert (g(0) or 7) == 7"]}
    assert verdict_for(sandbox, "def f(x):\n    return [x]\ndef g(x):\n    return x\n", honest).score == 1.0


def test_constant_asserts_and_replayed_calls_earn_nothing(sandbox):
    check_src = ("def check(candidate):\n    import random\n    random.seed(0)\n"
                 "    for _ in range(10):\n        x = random.randint(1, 9)\n        assert candidate(x) == 2 * x\n"
                 "    assert True\n    assert True, 'This prints if this assert fails'\n")
    ref = {"tests": [check_src], "entry_point": "double"}
    assert_nothing(verdict_for(sandbox, "def double(x):\n    return 0\n", ref))
    assert verdict_for(sandbox, "def double(x):\n    return 2 * x\n", ref).score == 1.0


def test_an_operand_changed_in_place_by_a_later_call_is_seen(sandbox):
    # Python compares the list `a` after add3 appended to it; so must the harness (and a program that changes its
    # argument but returns the old copy must fail)
    ref = {"tests": ["a = [1, 2]\nassert a == add3(a)"], "entry_point": "add3"}
    assert verdict_for(sandbox, "def add3(xs):\n    xs.append(3)\n    return xs\n", ref).score == 1.0
    assert_nothing(verdict_for(sandbox, "def add3(xs):\n    old = list(xs)\n    xs.append(3)\n    return old\n", ref))


def test_program_objects_and_types_are_values_the_test_can_hold(sandbox):
    ref = {"tests": ["assert type(f(1)) == int", "assert make() is not None", "assert match('xabbb')",
                     "assert make() != make()"]}
    honest = ("import re\ndef f(x):\n    return x\nclass Node:\n    pass\ndef make():\n    return Node()\n"
              "def match(s):\n    return re.search('ab+', s)\n")
    assert verdict_for(sandbox, honest, ref).score == 1.0, [s.detail for s in verdict_for(sandbox, honest, ref).steps]
    wrong = {"tests": ["assert f(1) == 1", "assert type(f(2)) == str"]}
    assert_nothing(verdict_for(sandbox, "class T:\n    pass\ndef f(x):\n    return T()\n", wrong))


def test_threads_and_exit_functions_of_stdio_programs_finish(sandbox):
    ref = {"tests": [{"input": "4\n", "output": "8\n"}, {"input": "5\n", "output": "10\n"}]}
    threaded = ("import threading, time\ndef main():\n    n = int(input())\n    time.sleep(0.2)\n    print(2 * n)\n"
                "threading.Thread(target=main).start()\n")
    assert verdict_for(sandbox, threaded, ref).score == 1.0
    at_exit = "import atexit\nn = int(input())\natexit.register(lambda: print(2 * n))\n"
    assert verdict_for(sandbox, at_exit, ref).score == 1.0


def test_invalid_text_is_the_programs_fault_not_an_error(sandbox):
    ref = {"tests": [{"input": "1", "output": "42"}], "language": "c"}
    verdict = verdict_for(sandbox, '#include <stdio.h>\n// \ud800\nint main(){ puts("wrong"); return 0; }\n', ref, "c")
    assert verdict.status is Status.INCORRECT and "not valid text" in verdict.reason


def test_native_programs_keep_the_total_time_budget(sandbox):
    import shutil

    if shutil.which("gcc") is None:
        pytest.skip("no C compiler")
    ref = {"tests": [{"input": str(i), "output": "0"} for i in range(12)], "language": "c"}
    start = time.monotonic()
    verdict = verdict_for(sandbox, "#include <unistd.h>\nint main(){ for(;;) pause(); }\n", ref, "c", total_timeout=3.0)
    assert verdict.status is Status.INCORRECT
    assert time.monotonic() - start < 3.0 * 12  # not every test's full timeout one after another
    assert "budget" in verdict.steps[-1].detail


def test_filling_dev_shm_until_the_oom_killer_acts_is_a_judgement(sandbox):
    import shutil

    if shutil.which("gcc") is None:
        pytest.skip("no C compiler")
    if "memory" not in getattr(getattr(sandbox, "cgroups", None), "controllers", ()):
        pytest.skip("no memory cgroup: /dev/shm would fill this machine's memory, not the sandbox's")
    ref = {"tests": [{"input": "1", "output": "42"}, {"input": "2", "output": "43"}], "language": "c"}
    fill = (
        "#include <stdio.h>\n#include <string.h>\n"
        "int main(){ static char b[1 << 16]; memset(b, 'x', sizeof b); char name[64];\n"
        "  for (int k = 0; k < 64; k++) { sprintf(name, \"/dev/shm/f%d\", k); FILE *f = fopen(name, \"wb\");\n"
        "    if (!f) break; for (int i = 0; i < 250; i++) fwrite(b, 1, sizeof b, f); fclose(f); }\n"
        "  puts(\"wrong\"); return 0; }\n"
    )
    verdict = verdict_for(sandbox, fill, ref, "c", timeout=10.0)
    assert verdict.status is Status.INCORRECT, verdict.reason  # never an ERROR that would dodge the 0


def test_a_driver_that_cannot_protect_itself_judges_nothing(sandbox):
    # An interpreter without ctypes (simulated: the import is blocked before the driver runs) cannot make the
    # driver non-dumpable; the program could then write its memory, so the verdict is an ERROR, never a score.
    class WithoutCtypes:
        name = "bwrap-without-ctypes"

        def run(self, program, **kwargs):
            return sandbox.run("import sys\nsys.modules['ctypes'] = None\n" + program, **kwargs)

    ref = {"tests": ["assert triple(2) == 6"], "entry_point": "triple"}
    verifier = CodeVerifier(sandbox=WithoutCtypes(), timeout=3.0)
    verdict = verify_batch([Sample(response=fenced("def triple(x):\n    return 3 * x\n"), reference=ref)],
                           verifier=verifier)[0]
    assert verdict.status is Status.ERROR and "non-dumpable" in verdict.reason
