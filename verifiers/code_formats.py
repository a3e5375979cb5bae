"""Test-suite formats of the code ecosystem, read into the `code` verifier's own reference (`{"tests": [...]}`).

Accepted, as a mapping or as its JSON text (verl and OpenRLHF rows carry the ground truth as a JSON string):

- the verifier's own `{"tests": [...], "entry_point", "language", "checker"}`: unchanged;
- APPS / TACO / PRIME (Eurus) / DeepCoder / verl `prime_code`: `{"inputs": [...], "outputs": [...], "fn_name"?}`.
  Without `fn_name` (or with an empty one) each pair is a stdin/stdout test; a list of lines is joined with "\\n".
  With `fn_name` each pair is a call of that function (a LeetCode-style `class Solution` method is found too):
  an input is the list of arguments, or a text of one JSON value per line (LiveCodeBench, DeepCoder); an output is
  the return value, or its JSON text. APPS and TACO wrap every raw return value in a one-element list
  (`"outputs": [[3], [7]]`): when *every* raw (non-text) output of a row is a one-element list, the element is the
  expected value — exactly it, never "the list or its element" as APPS's own checker accepts (under that rule a
  function returning `1` passes a test expecting `[1, 2]`);
- CodeContests: `{"public_tests": {"input": [...], "output": [...]}, "private_tests": ..., "generated_tests": ...}`,
  all present groups in that order;
- LiveCodeBench: `{"public_test_cases", "private_test_cases", "metadata"}` as the dataset ships them (JSON texts;
  the private cases may be base64/zlib/pickle-compressed, read by an unpickler that builds no objects but strings,
  numbers, lists and dicts) or a bare list of `{"input", "output", "testtype"}` tests; `"functional"` tests call
  `metadata.func_name` (or the row's `fn_name`), `"stdin"` ones are stdin/stdout;
- PrimeIntellect (SYNTHETIC-1, verifiable-coding-problems): a list of `{"type": "function_call", "fn_name",
  "input": [args], "output": [value]}` or `{"type": "stdin_stdout", "input", "output"}` tests.
  A test type not named here is refused, never guessed.

How a call test's expected value is read, one rule for every format: when every input of the row is text (one
JSON value per line: LiveCodeBench, DeepCoder), a text output is the JSON of the return value; otherwise outputs
are values as they are (a text output is a string to return), unwrapped from one-element lists only when every
output of the row is one (APPS, TACO, PrimeIntellect), and a dict whose keys are all integers written as text has
integer keys, as APPS's own harness reads them (JSON cannot hold integer keys).

Each reader returns the native mapping; a reference in none of these forms is returned as it came, and the
verifier reports what it expected. Anything malformed raises `ValueError` saying which test and why.
"""

from __future__ import annotations

import base64
import functools
import io
import json
import pickle
import re
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["MAX_DECOMPRESSED_BYTES", "is_test_suite", "native_reference"]

MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024
"""The most a compressed LiveCodeBench test list may expand to (a zip bomb is refused, not unpacked)."""
_CODECONTESTS_GROUPS = ("public_tests", "private_tests", "generated_tests")
_LIVECODEBENCH_GROUPS = ("public_test_cases", "private_test_cases")
_PASSED_ON = ("entry_point", "language", "checker")  # keys of a foreign row that mean the same here
_STDIO_TYPES = ("stdin", "stdin_stdout")  # LiveCodeBench's, PrimeIntellect's
_CALL_TYPES = ("functional", "function_call")
_INTEGER = re.compile(r"-?\d+")


def is_test_suite(reference: Any) -> bool:
    """Whether `reference` (a mapping, a list of tests, or the JSON text of one) is a code test suite in a format
    this module reads — what routing uses to send an undeclared sample to the `code` verifier."""
    decoded = _decoded(reference)
    if isinstance(decoded, Mapping):
        return any(k in decoded for k in ("tests", "inputs", "outputs", *_CODECONTESTS_GROUPS, *_LIVECODEBENCH_GROUPS))
    return _is_test_list(decoded)


def native_reference(reference: Any) -> Any:
    """`reference` as the `code` verifier's own `{"tests": [...]}` mapping (see the module docstring)."""
    if isinstance(reference, str):
        return _native_from_text(reference)
    return _native(reference)


@functools.lru_cache(maxsize=16)
def _native_from_text(text: str) -> Any:
    """`_native` of a JSON text, kept for the next samples of the same row (a GRPO group shares its reference,
    and a compressed LiveCodeBench row takes a while to unpack)."""
    return _native(_decoded(text))


def _native(decoded: Any) -> Any:
    if _is_test_list(decoded):
        return _single_tests(decoded, None, {})
    if not isinstance(decoded, Mapping) or "tests" in decoded:
        return decoded
    extra = {k: decoded[k] for k in _PASSED_ON if k in decoded}
    if "inputs" in decoded or "outputs" in decoded:
        return _inputs_outputs(decoded, extra)
    if any(k in decoded for k in _CODECONTESTS_GROUPS):
        return _codecontests(decoded, extra)
    if any(k in decoded for k in _LIVECODEBENCH_GROUPS):
        tests: list[Any] = []
        for group in _LIVECODEBENCH_GROUPS:
            if decoded.get(group) is not None:
                tests.extend(_livecodebench_group(decoded[group], group))
        return _single_tests(tests, _function_name(decoded), extra)
    return decoded


def _decoded(reference: Any) -> Any:
    """A JSON object or array given as text, decoded; anything else as it is."""
    if isinstance(reference, str) and reference.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(reference)
        except ValueError:
            return reference
    return reference


def _is_test_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(t, Mapping) and "input" in t and "output" in t for t in value)
    )


def _function_name(row: Mapping[str, Any]) -> str | None:
    """The function a row's call tests call: `fn_name` (APPS/TACO/PRIME), else `metadata.func_name` (LCB)."""
    name = row.get("fn_name")
    if name is None:
        metadata = _decoded(row.get("metadata"))
        name = metadata.get("func_name") if isinstance(metadata, Mapping) else None
    if name is None or name == "" or (isinstance(name, float) and name != name):  # NaN: a pandas row's "none"
        return None
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"the function name must be an identifier, got {name!r}")
    return name


def _text(value: Any, what: str) -> str:
    """A stdin or stdout text: a string, or a list of lines joined with newlines."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(line, str) for line in value):
        return "\n".join(value)
    raise ValueError(f"{what} must be a string or a list of lines, got {type(value).__name__}")


def _json_value(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{what} is not JSON ({exc}): {text[:80]!r}") from None


def _arguments(value: Any, what: str) -> list[Any]:
    """A call's arguments: a list, or a text of one JSON value per line."""
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [_json_value(line, what) for line in value.split("\n") if line.strip()]
    raise ValueError(f"{what} must be a list of arguments or JSON lines, got {type(value).__name__}")


def _pairs(inputs: Any, outputs: Any, where: str) -> list[tuple[Any, Any]]:
    if not isinstance(inputs, list) or not isinstance(outputs, list):
        raise ValueError(f"{where}: 'inputs' and 'outputs' must be lists")
    if len(inputs) != len(outputs):
        raise ValueError(f"{where}: {len(inputs)} inputs but {len(outputs)} outputs")
    return list(zip(inputs, outputs))


def _inputs_outputs(row: Mapping[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """APPS / TACO / PRIME / DeepCoder: parallel `inputs` and `outputs`, call tests when `fn_name` is given."""
    pairs = _pairs(row.get("inputs"), row.get("outputs"), "the reference")
    name = _function_name(row)
    if name is None:
        tests = [
            {"input": _text(i, f"input {n}"), "output": _text(o, f"output {n}")} for n, (i, o) in enumerate(pairs, 1)
        ]
        return {**extra, "tests": tests}
    json_lines = all(isinstance(given, str) for given, _ in pairs)
    wrapped = not json_lines and all(isinstance(o, list) and len(o) == 1 for _, o in pairs)
    calls: list[dict[str, Any]] = []
    for n, (given, output) in enumerate(pairs, 1):
        if json_lines:
            expected = _json_value(output, f"output {n}") if isinstance(output, str) else output
        else:
            expected = _integer_keys(output[0] if wrapped else output)
        calls.append({"args": _arguments(given, f"input {n}"), "expected": expected})
    return {**extra, "entry_point": name, "tests": calls}


def _integer_keys(value: Any) -> Any:
    """A dict whose keys are all integers written as text, with integer keys (APPS's harness does the same)."""
    if isinstance(value, dict) and value and all(isinstance(k, str) and _INTEGER.fullmatch(k) for k in value):
        return {int(k): v for k, v in value.items()}
    return value


def _codecontests(row: Mapping[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    tests = []
    for group in _CODECONTESTS_GROUPS:
        if row.get(group) is None:
            continue
        cases = row[group]
        if not isinstance(cases, Mapping):
            raise ValueError(f"{group} must be a mapping {{'input': [...], 'output': [...]}}")
        for n, (given, output) in enumerate(_pairs(cases.get("input"), cases.get("output"), group), 1):
            tests.append({"input": _text(given, f"{group} input {n}"), "output": _text(output, f"{group} output {n}")})
    return {**extra, "tests": tests}


def _single_tests(tests: Sequence[Any], name: str | None, extra: dict[str, Any]) -> dict[str, Any]:
    """A list of tests each with its own "input", "output" and type (LiveCodeBench's `testtype`, PrimeIntellect's
    `type`), read as one `inputs`/`outputs` row so that every format follows the same call-test rule."""
    kinds = []
    for n, test in enumerate(tests, 1):
        kind = test.get("testtype", test.get("type"))
        if kind is None or kind in _STDIO_TYPES:
            kinds.append("stdio")
        elif kind in _CALL_TYPES:
            kinds.append("call")
        else:
            raise ValueError(
                f"test {n} has the unknown test type {kind!r}; known: {', '.join(_STDIO_TYPES + _CALL_TYPES)}"
            )
    if len(set(kinds)) > 1:
        raise ValueError("the tests mix function-call and stdin/stdout tests")
    row: dict[str, Any] = {"inputs": [t["input"] for t in tests], "outputs": [t["output"] for t in tests]}
    if kinds[0] == "call":
        named = {t["fn_name"] for t in tests if t.get("fn_name")}
        if len(named) > 1 or (name is not None and named - {name}):
            raise ValueError(f"the tests call different functions: {sorted(str(n) for n in named | {name} if n)}")
        row["fn_name"] = name if name is not None else next(iter(named), None)
        if row["fn_name"] is None:
            raise ValueError("function-call tests need the function's name (metadata.func_name or fn_name)")
    return _inputs_outputs(row, extra)


def _livecodebench_group(value: Any, group: str) -> list[Any]:
    """One LiveCodeBench test group: a list, its JSON text, or that text compressed (base64 of zlib of a pickle)."""
    if isinstance(value, str):
        decoded = _decoded(value)
        value = decoded if decoded is not value else _json_value(_unpack(value, group), group)
    if value != [] and not _is_test_list(value):
        raise ValueError(f"{group} must be a list of {{'input', 'output'}} tests")
    return list(value)


class _PlainUnpickler(pickle.Unpickler):
    """Unpickles strings, numbers, lists and dicts only: any class or function a pickle names is refused, so
    dataset text cannot run code here."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refused: the pickle names {module}.{name}; only plain data is read")


def _unpack(text: str, group: str) -> str:
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(base64.b64decode(text.encode("ascii"), validate=True), MAX_DECOMPRESSED_BYTES)
        too_big = bool(inflater.unconsumed_tail)
        if not too_big and not inflater.eof:
            raise ValueError("the compressed data ends early")
        value = None if too_big else _PlainUnpickler(io.BytesIO(raw)).load()
    except Exception as exc:  # bad base64, zlib or pickle data: each library has its own errors
        raise ValueError(f"{group} is neither JSON nor LiveCodeBench's compressed form: {exc}") from None
    if too_big:
        raise ValueError(f"{group} expands past {MAX_DECOMPRESSED_BYTES} bytes")
    if not isinstance(value, str):
        raise ValueError(f"{group}: the compressed form holds {type(value).__name__}, not JSON text")
    return value
