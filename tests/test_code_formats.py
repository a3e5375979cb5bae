"""The code ecosystem's test-suite formats (APPS/TACO/PRIME, CodeContests, LiveCodeBench), as JSON text or mappings,
run for real in the bubblewrap sandbox — each reading rule with the wrong answer that looks most like the right one.
"""

from __future__ import annotations

import base64
import json
import pickle
import zlib

import pytest
from test_code import bwrap_sandbox

import verifiers.code_formats as formats
from verifiers import Status, verify
from verifiers.code_formats import is_test_suite, native_reference
from verifiers.default_routing import guess_domain

ADD_STDIO = "a, b = map(int, input().split())\nprint(a + b)\n"
MUL_STDIO = "a, b = map(int, input().split())\nprint(a * b)\n"  # right on 2 2, wrong elsewhere
STDIO_GT = {"inputs": ["1 2\n", "3 4\n", "2 2\n"], "outputs": ["3\n", "7\n", "4\n"]}


@pytest.fixture(scope="module", autouse=True)
def sandbox():
    return bwrap_sandbox()


def check(program: str, reference: object) -> object:
    return verify(f"```python\n{program}```", reference, verifier="code")


def assert_verdict(verdict, status: Status, score: float | None = None) -> None:
    assert verdict.status is status, verdict.reason
    if score is not None:
        assert verdict.score == pytest.approx(score)


# -- APPS / TACO / PRIME: inputs, outputs, fn_name --------------------------------------------------------


@pytest.mark.parametrize("as_text", [True, False], ids=["json-text", "mapping"])
def test_stdin_stdout_pairs_run_and_a_near_miss_program_fails_the_tests_it_gets_wrong(as_text):
    reference = json.dumps(STDIO_GT) if as_text else STDIO_GT
    assert_verdict(check(ADD_STDIO, reference), Status.CORRECT, 1.0)
    assert_verdict(check(MUL_STDIO, reference), Status.PARTIAL, 1 / 3)


def test_lines_given_as_lists_are_joined():
    reference = {"inputs": [["1", "2"]], "outputs": [["1", "2"]]}
    assert native_reference(reference)["tests"] == [{"input": "1\n2", "output": "1\n2"}]
    assert_verdict(check("print(input())\nprint(input())\n", reference), Status.CORRECT)
    assert_verdict(check("print(input())\n", reference), Status.INCORRECT)


APPS_WRAPPED = {"fn_name": "pair", "inputs": [[1, 2], [3, 4]], "outputs": [[[1, 2]], [[3, 4]]]}


def test_apps_wraps_every_return_value_in_a_list_and_the_element_is_expected_exactly():
    assert native_reference(APPS_WRAPPED)["tests"][0] == {"args": [1, 2], "expected": [1, 2]}
    assert_verdict(check("def pair(a, b):\n    return [a, b]\n", APPS_WRAPPED), Status.CORRECT)
    # APPS's own checker accepts "the value or its first element": here that is `a`, and twice wrapped is not it
    assert_verdict(check("def pair(a, b):\n    return a\n", APPS_WRAPPED), Status.INCORRECT)
    assert_verdict(check("def pair(a, b):\n    return [[a, b]]\n", APPS_WRAPPED), Status.INCORRECT)


def test_outputs_not_all_wrapped_are_taken_as_they_are():
    reference = {"fn_name": "f", "inputs": [[1], [2]], "outputs": [[1, 2], 3]}
    assert [t["expected"] for t in native_reference(reference)["tests"]] == [[1, 2], 3]
    assert_verdict(check("def f(x):\n    return [1, 2] if x == 1 else 3\n", reference), Status.CORRECT)
    # the first element of [1, 2] is 1: verl's prime_code scores this program correct on test 1
    assert_verdict(check("def f(x):\n    return 1 if x == 1 else 3\n", reference), Status.PARTIAL, 0.5)


def test_json_text_inputs_hold_one_argument_per_line_and_json_text_outputs_are_never_unwrapped():
    reference = json.dumps({"fn_name": "f", "inputs": ["[1, 2]\n3\n"], "outputs": ["[1, 2, 3]"]})
    assert native_reference(reference)["tests"] == [{"args": [[1, 2], 3], "expected": [1, 2, 3]}]
    assert_verdict(check("def f(xs, y):\n    return xs + [y]\n", reference), Status.CORRECT)
    assert_verdict(check("def f(xs, y):\n    return 1\n", reference), Status.INCORRECT)
    assert_verdict(check("def f(xs, y):\n    return [xs + [y]]\n", reference), Status.INCORRECT)


def test_text_outputs_of_call_tests_with_listed_arguments_are_strings_to_return():
    """Only a row whose inputs are JSON text has JSON-text outputs; elsewhere "5" is the string "5"."""
    reference = {"fn_name": "to_str", "inputs": [[5], [12]], "outputs": ["5", "12"]}
    assert [t["expected"] for t in native_reference(reference)["tests"]] == ["5", "12"]
    assert_verdict(check("def to_str(n):\n    return str(n)\n", reference), Status.CORRECT)
    assert_verdict(check("def to_str(n):\n    return n\n", reference), Status.INCORRECT)


def test_dict_outputs_with_integer_text_keys_have_integer_keys_as_apps_reads_them():
    reference = {"fn_name": "count", "inputs": [[[1, 2, 2]]], "outputs": [[{"1": 1, "2": 2}]]}
    assert native_reference(reference)["tests"][0]["expected"] == {1: 1, 2: 2}
    assert_verdict(check("from collections import Counter\ndef count(xs):\n    return dict(Counter(xs))\n", reference),
                   Status.CORRECT)  # fmt: skip
    assert_verdict(check("def count(xs):\n    return {str(x): xs.count(x) for x in xs}\n", reference), Status.INCORRECT)
    words = {"fn_name": "f", "inputs": [[1]], "outputs": [[{"1": 1, "a": 2}]]}  # not all integers: kept as text
    assert native_reference(words)["tests"][0]["expected"] == {"1": 1, "a": 2}


def test_primeintellect_function_call_tests_are_calls_not_stdin():
    """The attack: read as stdin tests, a program printing the upper-cased input passed and the function failed."""
    tests = [{"type": "function_call", "fn_name": "shout", "input": ["hi"], "output": ["HI"]},
             {"type": "function_call", "fn_name": "shout", "input": ["yo"], "output": ["YO"]}]  # fmt: skip
    assert native_reference(tests)["tests"] == [{"args": ["hi"], "expected": "HI"}, {"args": ["yo"], "expected": "YO"}]
    assert_verdict(check("def shout(s):\n    return s.upper()\n", json.dumps(tests)), Status.CORRECT)
    assert_verdict(check("print(input().upper())\n", tests), Status.INCORRECT)
    stdin = [{"type": "stdin_stdout", "input": "1 2\n", "output": "3\n"}]
    assert_verdict(check(ADD_STDIO, stdin), Status.CORRECT)


def test_a_leetcode_solution_class_method_is_called_and_a_program_without_the_function_fails():
    reference = {"fn_name": "add", "inputs": [[1, 2], [5, 5]], "outputs": [[3], [10]]}
    method = "class Solution:\n    def {}(self, a, b):\n        return a {} b\n"
    assert_verdict(check(method.format("add", "+"), reference), Status.CORRECT)
    assert_verdict(check(method.format("add", "-"), reference), Status.INCORRECT)
    assert_verdict(check(method.format("plus", "+"), reference), Status.INCORRECT)
    assert_verdict(check("def plus(a, b):\n    return a + b\n", reference), Status.INCORRECT)


def test_an_empty_function_name_means_stdin_stdout():
    assert native_reference({**STDIO_GT, "fn_name": ""})["tests"][0] == {"input": "1 2\n", "output": "3\n"}
    assert native_reference({**STDIO_GT, "fn_name": None})["tests"][0] == {"input": "1 2\n", "output": "3\n"}


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ({"inputs": ["1"], "outputs": ["1", "2"]}, "1 inputs but 2 outputs"),
        ({"inputs": "1", "outputs": ["1"]}, "must be lists"),
        ({"inputs": [1], "outputs": ["1"]}, "input 1 must be a string"),
        ({"fn_name": "f", "inputs": ["{oops"], "outputs": ["1"]}, "input 1 is not JSON"),
        ({"fn_name": "f", "inputs": ["1"], "outputs": ["nope"]}, "output 1 is not JSON"),
        ([{"input": "1", "output": "1", "testtype": "interactive"}], "unknown test type 'interactive'"),
        ([{"type": "function_call", "fn_name": "f", "input": [1], "output": [1]},
          {"type": "function_call", "fn_name": "g", "input": [1], "output": [1]}], "call different functions"),
        ({"fn_name": "f()", "inputs": [[1]], "outputs": [[1]]}, "must be an identifier"),
        ({"inputs": [], "outputs": []}, "non-empty list"),
        ('{"inputs": [', "must be a mapping"),
    ],
)
def test_a_malformed_suite_is_an_error_naming_the_fault_never_a_score(reference, message):
    verdict = check(ADD_STDIO, reference)
    assert verdict.status is Status.ERROR
    assert message in verdict.reason


# -- CodeContests ----------------------------------------------------------------------------------------


def test_codecontests_groups_are_all_run_in_order():
    reference = {
        "public_tests": {"input": ["1 2\n"], "output": ["3\n"]},
        "private_tests": {"input": ["3 4\n"], "output": ["7\n"]},
        "generated_tests": {"input": ["2 2\n"], "output": ["4\n"]},
    }
    assert [t["input"] for t in native_reference(reference)["tests"]] == ["1 2\n", "3 4\n", "2 2\n"]
    assert_verdict(check(ADD_STDIO, json.dumps(reference)), Status.CORRECT)
    assert_verdict(check(MUL_STDIO, reference), Status.PARTIAL, 1 / 3)
    only_public = {"public_tests": reference["public_tests"], "private_tests": None}
    assert len(native_reference(only_public)["tests"]) == 1


# -- LiveCodeBench -----------------------------------------------------------------------------------------


def packed(value: object) -> str:
    return base64.b64encode(zlib.compress(pickle.dumps(value))).decode()


LCB_STDIN = [{"input": "1 2\n", "output": "3\n", "testtype": "stdin"}]
LCB_PRIVATE = [{"input": "3 4\n", "output": "7\n", "testtype": "stdin"}]


def test_livecodebench_rows_as_shipped_with_compressed_private_tests():
    row = {"public_test_cases": json.dumps(LCB_STDIN), "private_test_cases": packed(json.dumps(LCB_PRIVATE))}
    assert [t["output"] for t in native_reference(row)["tests"]] == ["3\n", "7\n"]
    assert_verdict(check(ADD_STDIO, row), Status.CORRECT)
    assert_verdict(check("print(3)\n", row), Status.PARTIAL, 0.5)


def test_livecodebench_functional_tests_call_the_metadata_function():
    tests = [{"input": "[2, 7, 11]\n9", "output": "[0, 1]", "testtype": "functional"}]
    row = {"public_test_cases": json.dumps(tests), "metadata": json.dumps({"func_name": "twoSum"})}
    program = (
        "class Solution:\n    def twoSum(self, nums, target):\n"
        "        return [i for i in range(len(nums)) for j in range(i) if nums[i] + nums[j] == target][:0] or [0, 1]\n"
    )
    assert_verdict(check(program, row), Status.CORRECT)
    assert_verdict(check("class Solution:\n    def twoSum(self, nums, target):\n        return [1, 0]\n", row),
                   Status.INCORRECT)  # fmt: skip
    with pytest.raises(ValueError, match="need the function's name"):
        native_reference(tests)
    with pytest.raises(ValueError, match="mix"):
        native_reference([*tests, *LCB_STDIN])


def test_a_bare_list_of_tests_is_a_suite():
    assert_verdict(check(ADD_STDIO, json.dumps(LCB_STDIN + LCB_PRIVATE)), Status.CORRECT)


class _Planted:
    """A pickle that opens (creates) a file when loaded by `pickle.loads`."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_compressed_test_list_that_names_a_function_is_refused_without_running_it(tmp_path):
    planted = tmp_path / "planted"
    attack = packed(_Planted(str(planted)))
    pickle.loads(zlib.decompress(base64.b64decode(attack))).close()  # the attack is real: a plain unpickler runs it
    assert planted.exists()
    planted.unlink()
    verdict = check(ADD_STDIO, {"public_test_cases": json.dumps(LCB_STDIN), "private_test_cases": attack})
    assert verdict.status is Status.ERROR
    assert "refused: the pickle names io.open" in verdict.reason
    assert not planted.exists()


def test_a_compressed_test_list_past_the_size_limit_is_refused(monkeypatch):
    monkeypatch.setattr(formats, "MAX_DECOMPRESSED_BYTES", 1000)
    row = {"public_test_cases": "[]", "private_test_cases": packed(json.dumps(LCB_PRIVATE * 100))}
    with pytest.raises(ValueError, match="expands past 1000 bytes"):
        native_reference(row)


def test_a_compressed_form_holding_no_json_text_is_refused():
    with pytest.raises(ValueError, match="holds list"):
        native_reference({"private_test_cases": packed(LCB_PRIVATE)})
    with pytest.raises(ValueError, match="neither JSON nor"):
        native_reference({"private_test_cases": "not base64 at all!"})


# -- routing -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reference",
    [json.dumps(STDIO_GT), STDIO_GT, json.dumps(LCB_STDIN), {"public_tests": {"input": [], "output": []}},
     {"public_test_cases": "[]"}],
)  # fmt: skip
def test_a_test_suite_in_any_format_routes_to_code(reference):
    assert is_test_suite(reference)
    assert guess_domain(reference) == "code"


@pytest.mark.parametrize("reference", ["[1, 2]", "{1, 2}", '{"a": 1}', "[]", '["x"]', "12"])
def test_json_looking_answers_that_are_no_test_suite_do_not_route_to_code(reference):
    assert not is_test_suite(reference)
    assert guess_domain(reference) != "code"
