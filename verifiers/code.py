"""The `code` verifier: run a response's program against a test suite in a sandbox, one step per test.

Reference: `{"tests": [...], "entry_point": str | None, "language": "python", "checker": ...}`. A test is
  - an assert string (`"assert f(2) == 4"`; any statements, the asserts among them are rewritten, see below);
    a HumanEval-style `def check(candidate): ...` string becomes one test per top-level assert of `check`;
  - a function call `{"args": [...], "kwargs": {...}, "expected": value}` on `entry_point` (JSON semantics:
    tuples compare as lists);
  - a stdin/stdout pair `{"input": str, "output": str}`, judged by the checker (python, c, cpp, javascript).
The ecosystem's formats (APPS/TACO/PRIME `inputs`/`outputs`/`fn_name`, CodeContests, LiveCodeBench), and any of
them as JSON text, are read into this one by `verifiers.code_formats`; a call test whose function the program
does not define at top level calls the method of that name on a fresh `Solution()` (LeetCode style).
The program is the last fenced block tagged with the language (```python), else the last untagged fenced
block, else the whole text (after `<think>` reasoning is dropped); `evidence["extraction"]` says which.

Trust model: the candidate program is hostile, and test code never shares an interpreter with it. Expected
values never enter the candidate's processes, and only plain data crosses between them (protocol and process
layout in `verifiers.code_driver`).
- Assert rewriting (done here with `ast`): each assert's expression is split into a trusted skeleton that
  this process evaluates (constants, containers, `== != < <= > >= in not in`, `is`/`is not` against
  None/True/False, `and or not`, arithmetic with size guards, subscripts, `x if c else y`, and the builtins
  abs round len sorted set frozenset list tuple dict min max sum int float str bool all any repr,
  `math.isclose/fabs/floor/ceil/isnan/isinf/sqrt`) and "leaves": the maximal subexpressions it does not
  handle (calls, names, attributes, comprehensions). The leaves are evaluated in the sandbox by a clean test
  process in which the program was never loaded: the program's functions and classes are proxies there, each
  call a request to the program's own process with plain-data arguments and a plain-data answer (fresh builtin
  objects; anything else stays a handle on the program's side, equal only to itself). So
  `assert abs(f(1.33) - 0.33) < 1e-06` sends `f(1.33)` to the test process and the call's arguments to the
  program; `math.pi`, `''.join(...)` or a comprehension are computed where the program cannot reach them.
  Truth values follow Python (`assert is_even(4)` passes with `1`; `0 == False`). A name the test or the entry
  point gives a meaning of its own (`def isclose`, `from numpy import isclose`, an entry point `max`) is never
  taken for the builtin. Other statements of a test (setup lines, loops with asserts inside, a call to a `check`
  function) run in the clean test process as they are, in order; such a test passes when it raises nothing,
  exactly as under Python, and the program cannot change that test code. The program's processes descend from a
  zygote forked before the tests were read: no test text or expected value is in their memory.
- Every test runs (no stop at the first failure), in its own test process and program process with its own
  deadline; a test without a record fails. If the sandboxed driver itself dies (the program can kill it), every
  test without a record fails: a re-run would be an escape from the time budget.
- A forged, duplicate, out-of-order or malformed record rejects the whole execution: every test fails.
- Infrastructure failures (no sandbox, SANDBOX_ERROR, the sandbox killed from outside) give an ERROR verdict,
  never a score of 0. The program's own crash, timeout or compile error fails tests (INCORRECT/PARTIAL,
  compiler output in evidence).

Checkers for stdin/stdout tests (`checker` in the reference, or the `checker` option, which wins):
  "tokens" (default): whitespace-separated token streams are equal;
  "exact": stdout equals the expected text; "lines": equal line by line after stripping trailing
  whitespace per line and trailing blank lines (fewer or extra lines fail);
  "float" or {"type": "float", "rel_tol": r, "abs_tol": a}: token streams, numbers equal within tolerance;
  {"type": "program", "source": src, "language": "python"}: a trusted checker program, run in the sandbox
  (it sees the expected output, the candidate never does); stdin is the JSON object
  {"input", "expected", "actual"}; its last stdout line is a score in [0, 1] (or true/false); a checker
  that crashes fails the test;
  a Python callable `checker(input, expected, actual) -> bool | float` given in-process (option or
  reference): trusted, runs here; an exception fails the test.

Reward (`reward_mode`): `binary` = 1 if every test passes else 0; `fraction` = passed / total (default);
`weighted` (VeRPO-style) = alpha * all_passed + (1 - alpha) * sum(w_i * pass_i) / sum(w_i), with
  w_i = stub_i * difficulty_i, where
  stub_i = 0 if a trivial stub passes test i, else 1. Stubs run once per reference: every function the
      tests call returning None / 0 / True / False / "" / [] (assert and call tests); the constant outputs
      "", "0", "1", "-1", "YES", "NO" (stdin/stdout tests, judged by the checker; not for checker programs);
  difficulty_i = 1 - (k_i + 1) / (n + 2) when `group_weights` and the sample is one of a group of n >= 2,
      k_i of them passing test i (Laplace-smoothed failure rate: harder tests weigh more); otherwise 1. A group
      is explicit and never depends on batching or caching: the samples of one call with the same test suite,
      prompt and group id (`verifiers.groups`, applied by `verify_batch` and the training-loop adapters).
  When every weight is 0 (stubs pass every test), the partial term is all_passed. Status: CORRECT when
  every test passes, INCORRECT when the score is 0, else PARTIAL.
"""

from __future__ import annotations

import ast
import builtins
import concurrent.futures
import functools
import hashlib
import json
import marshal
import math
import operator
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandboxes.languages import fence_tags, language_names, lookup_language

from .code_formats import native_reference
from .groups import GROUP_EVIDENCE, weighted_score
from .hookspecs import hookimpl
from .options import Option
from .text import clip, strip_think
from .verdict import Sample, Status, StepVerdict, Verdict
from .verifier import Verifier

__all__ = ["CHECKERS", "DRIVER_SOURCE", "REWARD_MODES", "CodeVerifier", "extract_code"]

DRIVER_SOURCE = (Path(__file__).with_name("code_driver.py")).read_text(encoding="utf-8")


@functools.cache
def _driver_program() -> str:
    """The program sent to the sandbox: the driver's bytecode when the sandbox's interpreter reads this one's
    bytecode format (same cache tag: it then skips compiling the driver, a fifth of a short execution's time),
    else the driver's source."""
    code = compile(DRIVER_SOURCE, "code_driver.py", "exec")
    tag = sys.implementation.cache_tag
    return (
        "import sys\n"
        f"if sys.implementation.cache_tag == {tag!r}:\n"
        f"    import marshal\n    exec(marshal.loads(bytes.fromhex({marshal.dumps(code).hex()!r})))\n"
        f"else:\n    exec(compile({DRIVER_SOURCE!r}, 'code_driver.py', 'exec'))\n"
    )


REWARD_MODES = ("binary", "fraction", "weighted")
CHECKERS = ("tokens", "exact", "lines", "float")


def _language_name(name: str, default: str | None = None) -> str:
    """The canonical name of language `name` (`py` -> `python`; the table is `sandboxes.languages`); an unknown name
    gives `default`, or itself lower-cased when there is no default (the caller reports it)."""
    language = lookup_language(name)
    if language is not None:
        return language.name
    return default if default is not None else name.strip().lower()


MAX_CODE_CHARS = 1_000_000
"""Programs longer than this are not run (INCORRECT): no model answer needs a megabyte of code."""
_STUB_RETURNS = ("None", "0", "True", "False", "''", "[]")
_STUB_OUTPUTS = ("", "0\n", "1\n", "-1\n", "YES\n", "NO\n")


# -- extraction -------------------------------------------------------------------------------------------


def extract_code(text: str, language: str = "python", *, ignore_think: bool = True) -> tuple[str, str]:
    """(code, how): the last fenced block tagged `language`, else the last untagged block, else the text.

    `how` is "fenced:<tag>", "fenced:untagged" or "whole_text". An unclosed final fence runs to the end.
    """
    body = strip_think(text) if ignore_think else text
    wanted = set(fence_tags(language))
    tagged: tuple[str, str] | None = None
    untagged: str | None = None
    lines = body.split("\n")
    i = 0
    while i < len(lines):
        stripped = lines[i].lstrip()
        if stripped.startswith("```"):
            info = stripped.strip("`").strip().split(maxsplit=1)
            tag = info[0].lower() if info else ""
            fence = stripped[: len(stripped) - len(stripped.lstrip("`"))]
            j = i + 1
            while j < len(lines) and not (lines[j].lstrip().startswith(fence) and lines[j].strip().strip("`") == ""):
                j += 1
            block = "\n".join(lines[i + 1 : j]).rstrip("\n")
            if block.strip():
                if tag in wanted:
                    tagged = (block + "\n", tag)
                elif not tag:
                    untagged = block + "\n"
            i = j + 1
            continue
        i += 1
    if tagged is not None:
        return tagged[0], f"fenced:{tagged[1]}"
    if untagged is not None:
        return untagged, "fenced:untagged"
    return body, "whole_text"


# -- the trusted side of assert tests --------------------------------------------------------------------


class _Leaf(ast.expr):
    """A placeholder for a subexpression evaluated in the sandbox (its value arrives as plain data)."""

    _fields = ()

    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index


class _Fail(Exception):
    """The trusted evaluation says the test fails (with a reason)."""


_SAFE_FUNCS: dict[str, Callable[..., Any]] = {
    "abs": abs,
    "round": round,
    "len": len,
    "sorted": sorted,
    "set": set,
    "frozenset": frozenset,
    "list": list,
    "tuple": tuple,
    "dict": dict,
    "min": min,
    "max": max,
    "sum": sum,
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "all": all,
    "any": any,
    "repr": repr,
    "isclose": math.isclose,
}
_SAFE_MATH: dict[str, Callable[..., Any]] = {
    "isclose": math.isclose,
    "fabs": math.fabs,
    "floor": math.floor,
    "ceil": math.ceil,
    "isnan": math.isnan,
    "isinf": math.isinf,
    "sqrt": math.sqrt,
}
_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
    ast.BitOr: operator.or_,
    ast.BitXor: operator.xor,
    ast.BitAnd: operator.and_,
}
_CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
_SINGLETONS = (None, True, False, Ellipsis)


def _is_singleton(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and any(node.value is s for s in _SINGLETONS)


_CONSUMERS = frozenset(
    {"list", "tuple", "set", "frozenset", "sorted", "sum", "min", "max", "all", "any", "dict", "len"}
)
"""Builtins that consume an iterable: applied directly to a leaf, they run in the test process with it, because
the leaf may be one of the program's iterators or objects (a handle, not plain data)."""


def _is_leaf(node: ast.expr, shadowed: frozenset[str]) -> bool:
    probe: list[str] = []
    return isinstance(_split(node, probe, shadowed), _Leaf)


def _safe_call(node: ast.Call, shadowed: frozenset[str]) -> bool:
    """A call of a builtin (or `math.` function) this process evaluates itself: not when the test or the program
    gives the name a meaning of its own (`shadowed`)."""
    if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
        return False
    func = node.func
    if isinstance(func, ast.Name):
        return func.id in _SAFE_FUNCS and func.id not in shadowed
    return (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id == "math"
        and func.attr in _SAFE_MATH
        and "math" not in shadowed
    )


def _split(node: ast.expr, leaves: list[str], shadowed: frozenset[str] = frozenset()) -> ast.expr:
    """`node` with every subexpression the trusted evaluator does not handle replaced by a `_Leaf`; names in
    `shadowed` are never taken for the builtins of the same name."""

    def leaf() -> ast.expr:
        leaves.append(ast.unparse(node))
        return _Leaf(len(leaves) - 1)

    if isinstance(node, ast.Constant):
        return node
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        if any(isinstance(e, ast.Starred) for e in node.elts):
            return leaf()
        elts = [_split(e, leaves, shadowed) for e in node.elts]
        return ast.Set(elts=elts) if isinstance(node, ast.Set) else type(node)(elts=elts, ctx=ast.Load())
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            return leaf()
        keys: list[ast.expr | None] = [_split(k, leaves, shadowed) for k in node.keys if k is not None]
        return ast.Dict(keys=keys, values=[_split(v, leaves, shadowed) for v in node.values])
    if isinstance(node, ast.UnaryOp):
        return ast.UnaryOp(op=node.op, operand=_split(node.operand, leaves, shadowed))
    if (
        isinstance(node, ast.BinOp)
        and isinstance(node.op, ast.Mod)
        and isinstance(node.left, (ast.Constant, ast.JoinedStr))
        and not isinstance(getattr(node.left, "value", ""), (int, float, complex))
    ):
        return leaf()  # `'%.2f' % f(x)`: string formatting, done in the test process
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        return ast.BinOp(
            left=_split(node.left, leaves, shadowed), op=node.op, right=_split(node.right, leaves, shadowed)
        )
    if isinstance(node, ast.BoolOp):
        return ast.BoolOp(op=node.op, values=[_split(v, leaves, shadowed) for v in node.values])
    if isinstance(node, ast.Compare):
        operands = [node.left, *node.comparators]
        for k, op in enumerate(node.ops):
            if isinstance(op, (ast.Is, ast.IsNot)) and not (
                _is_singleton(operands[k]) or _is_singleton(operands[k + 1])
            ):
                return leaf()
        return ast.Compare(
            left=_split(node.left, leaves, shadowed),
            ops=node.ops,
            comparators=[_split(c, leaves, shadowed) for c in node.comparators],
        )
    if isinstance(node, ast.IfExp):
        return ast.IfExp(
            test=_split(node.test, leaves, shadowed),
            body=_split(node.body, leaves, shadowed),
            orelse=_split(node.orelse, leaves, shadowed),
        )
    if isinstance(node, ast.Call) and _safe_call(node, shadowed):
        args = [*node.args, *(k.value for k in node.keywords)]
        if isinstance(node.func, ast.Name) and node.func.id in _CONSUMERS and any(_is_leaf(a, shadowed) for a in args):
            return leaf()  # `list(gen(3))`: the program's iterator is consumed in the test process
        return ast.Call(
            func=node.func,
            args=[_split(a, leaves, shadowed) for a in node.args],
            keywords=[ast.keyword(arg=k.arg, value=_split(k.value, leaves, shadowed)) for k in node.keywords],
        )
    if isinstance(node, ast.Subscript):
        return ast.Subscript(
            value=_split(node.value, leaves, shadowed), slice=_split(node.slice, leaves, shadowed), ctx=ast.Load()
        )
    if isinstance(node, ast.Slice):

        def part(v: ast.expr | None) -> ast.expr | None:
            return None if v is None else _split(v, leaves, shadowed)

        return ast.Slice(lower=part(node.lower), upper=part(node.upper), step=part(node.step))
    return leaf()


@dataclass(frozen=True)
class _LeafError:
    message: str


_MAX_SEQ = 10_000_000


def _binop(op: ast.operator, a: Any, b: Any) -> Any:
    if isinstance(op, ast.Pow) and isinstance(b, int) and isinstance(a, int):
        if abs(b) > 100_000 or abs(a).bit_length() * abs(b) > 4_000_000:
            raise _Fail("power too large to evaluate")
    if isinstance(op, ast.Mult):
        for seq, n in ((a, b), (b, a)):
            if isinstance(seq, (str, bytes, list, tuple)) and isinstance(n, int) and len(seq) * n > _MAX_SEQ:
                raise _Fail("product too large to evaluate")
    if isinstance(op, ast.LShift) and isinstance(b, int) and b > 4_000_000:
        raise _Fail("shift too large to evaluate")
    if isinstance(op, ast.Mod) and isinstance(a, (str, bytes)):
        raise _Fail("string formatting is not evaluated on the trusted side")
    return _BINOPS[type(op)](a, b)


class _Evaluator:
    """Evaluates a skeleton over plain-data leaf values (all builtin objects built by the decoder)."""

    def __init__(self, values: Sequence[Any]) -> None:
        self.values = values

    def truth(self, node: ast.expr) -> bool:
        return bool(self.eval(node))  # plain data only (fresh builtins): Python's own truth values

    def eval(self, node: ast.expr) -> Any:
        if isinstance(node, _Leaf):
            value = self.values[node.index]
            if isinstance(value, _LeafError):
                raise _Fail(value.message)
            return value
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.List):
            return [self.eval(e) for e in node.elts]
        if isinstance(node, ast.Tuple):
            return tuple(self.eval(e) for e in node.elts)
        if isinstance(node, ast.Set):
            return {self.eval(e) for e in node.elts}
        if isinstance(node, ast.Dict):
            return {self.eval(k): self.eval(v) for k, v in zip(node.keys, node.values) if k is not None}
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return not self.truth(node.operand)
            value = self.eval(node.operand)
            if isinstance(node.op, ast.USub):
                return -value
            return +value if isinstance(node.op, ast.UAdd) else ~value
        if isinstance(node, ast.BinOp):
            return _binop(node.op, self.eval(node.left), self.eval(node.right))
        if isinstance(node, ast.BoolOp):  # Python's values: `a or b` is a when a is true, else b
            is_and = isinstance(node.op, ast.And)
            result: Any = None
            for value in node.values:
                result = self.eval(value)
                if bool(result) is not is_and:
                    return result
            return result
        if isinstance(node, ast.Compare):
            left = self.eval(node.left)
            for op, comparator in zip(node.ops, node.comparators):
                right = self.eval(comparator)
                if not _CMPOPS[type(op)](left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.IfExp):
            return self.eval(node.body) if self.truth(node.test) else self.eval(node.orelse)
        if isinstance(node, ast.Call):
            func = node.func
            fn = _SAFE_FUNCS[func.id] if isinstance(func, ast.Name) else _SAFE_MATH[func.attr]  # type: ignore[attr-defined]
            args = [self.eval(a) for a in node.args]
            kwargs = {str(k.arg): self.eval(k.value) for k in node.keywords}
            return fn(*args, **kwargs)
        if isinstance(node, ast.Subscript):
            return self.eval(node.value)[self.eval(node.slice)]
        if isinstance(node, ast.Slice):
            return slice(*(None if p is None else self.eval(p) for p in (node.lower, node.upper, node.step)))
        raise _Fail(f"cannot evaluate {type(node).__name__}")  # pragma: no cover - _split leaves these out


# -- plain data -------------------------------------------------------------------------------------------


def _encode(value: Any, depth: int = 0) -> list[Any]:
    """Trusted JSON-ish data (call arguments) in the driver's tagged form."""
    if depth > 100:
        raise ValueError("argument nested too deep")
    if value is None:
        return ["N"]
    if isinstance(value, bool):
        return ["b", value]
    if isinstance(value, int):
        return ["i", format(value, "x")]
    if isinstance(value, float):
        return ["f", value.hex()]
    if isinstance(value, str):
        return ["s", value]
    if isinstance(value, (list, tuple)):
        return ["l" if isinstance(value, list) else "t", [_encode(v, depth + 1) for v in value]]
    if isinstance(value, Mapping):
        return ["d", [[_encode(k, depth + 1), _encode(v, depth + 1)] for k, v in value.items()]]
    raise ValueError(f"call arguments must be JSON data, got {type(value).__name__}")


class _BadValue(Exception):
    pass


class _Opaque:
    """An object of the program (an instance, a generator, a match): not plain data, so nothing is known of it but
    that it is an object: true, not None, equal only to itself."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<an object of the program>"


_BUILTIN_TYPES: dict[str, type] = {
    t.__name__: t for t in (int, float, complex, bool, str, bytes, list, tuple, set, frozenset, dict, type(None))
}


def _decode(data: Any, depth: int = 0) -> Any:
    """A value reported by the sandbox -> fresh builtin objects; `_BadValue` for anything malformed."""
    if depth > 100 or not isinstance(data, list) or not data or not isinstance(data[0], str):
        raise _BadValue("malformed value")
    tag, rest = data[0], data[1:]
    try:
        if tag == "N" and not rest:
            return None
        if tag == "O" and not rest:
            return _Opaque()
        if tag == "T" and len(rest) == 1 and rest[0] in _BUILTIN_TYPES:
            return _BUILTIN_TYPES[rest[0]]
        if tag == "b" and len(rest) == 1 and type(rest[0]) is bool:
            return rest[0]
        if tag == "i" and len(rest) == 1 and isinstance(rest[0], str) and len(rest[0]) <= 1_000_000:
            return int(rest[0], 16)
        if tag == "f" and len(rest) == 1 and isinstance(rest[0], str):
            return float.fromhex(rest[0])
        if tag == "c" and len(rest) == 2 and all(isinstance(x, str) for x in rest):
            return complex(float.fromhex(rest[0]), float.fromhex(rest[1]))
        if tag == "s" and len(rest) == 1 and isinstance(rest[0], str):
            return rest[0]
        if tag == "y" and len(rest) == 1 and isinstance(rest[0], str):
            return bytes.fromhex(rest[0])
        if tag in ("l", "t", "S", "F") and len(rest) == 1 and isinstance(rest[0], list):
            items = [_decode(v, depth + 1) for v in rest[0]]
            return {"l": list, "t": tuple, "S": set, "F": frozenset}[tag](items)
        if tag == "d" and len(rest) == 1 and isinstance(rest[0], list):
            out = {}
            for pair in rest[0]:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise _BadValue("malformed dict")
                out[_decode(pair[0], depth + 1)] = _decode(pair[1], depth + 1)
            return out
    except (ValueError, TypeError, OverflowError) as exc:
        raise _BadValue(f"malformed value: {exc}") from None
    raise _BadValue(f"malformed value tag {tag!r}")


def _jsonish(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_jsonish(v) for v in value]
    if isinstance(value, dict):
        return {
            (_jsonish(k) if not isinstance(k, (list, tuple)) else tuple(_jsonish(k))): _jsonish(v)
            for k, v in value.items()
        }
    return value


def _short(value: Any, limit: int = 120) -> str:
    try:
        return clip(repr(value), limit)
    except Exception:  # pragma: no cover - reprs of decoded builtins do not fail
        return "<unprintable>"


# -- reference --------------------------------------------------------------------------------------------


class _ReferenceError(Exception):
    """The reference cannot be used (an ERROR verdict: the data, not the model, is at fault)."""


@dataclass
class _Assert:
    skeleton: ast.expr
    first_leaf_op: int  # index of its first leaf in the test's ops


@dataclass
class _Test:
    name: str
    source: str
    kind: str  # "assert" | "call" | "stdio"
    ops: list[list[Any]] = field(default_factory=list)
    asserts: list[_Assert] = field(default_factory=list)
    expected: Any = None
    input: str = ""
    output: str = ""
    called: frozenset[str] = frozenset()


@dataclass
class _Plan:
    mode: str  # "assert" | "stdio"
    language: str
    tests: list[_Test]
    checker: Any
    entry_point: str | None
    key: str


def _calls(node: ast.AST) -> set[str]:
    return {n.func.id for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}


def _bound_names(module: ast.AST) -> set[str]:
    """Names the test code gives a meaning of its own (assigned, defined, parameters, imported under another
    name or from a module); `import math` binds `math` to itself and is not counted."""
    names: set[str] = set()
    for node in ast.walk(module):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.ImportFrom):
            names.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.asname for alias in node.names if alias.asname and alias.asname != alias.name)
    return names


def _parse_assert_test(source: str, name: str, entry_point: str | None = None) -> _Test:
    """One test string -> ops for the clean test process + trusted skeletons.

    Statements other than asserts run in the test process as they are, in order; each assert is split into a
    skeleton (evaluated here) and leaves (evaluated in the test process, after the statements before it). A name
    the test or the entry point gives a meaning of its own is never taken for the builtin of the same name.
    """
    try:
        module = ast.parse(source)
    except SyntaxError as exc:
        raise _ReferenceError(f"{name} is not valid Python: {exc.msg} (line {exc.lineno})") from None
    shown = [ast.unparse(stmt) for stmt in module.body if isinstance(stmt, ast.Assert)]
    test = _Test(name=name, source=" ; ".join(shown) if shown else source, kind="assert")
    shadowed = frozenset(_bound_names(module) | ({entry_point} if entry_point else set()))
    called: set[str] = set()
    for stmt in module.body:
        if isinstance(stmt, ast.Assert):
            leaves: list[str] = []
            skeleton = _split(stmt.test, leaves, shadowed)
            test.asserts.append(_Assert(skeleton, len(test.ops)))
            test.ops.extend(["eval", leaf] for leaf in leaves)
            if leaves:
                test.ops[-1].append(1)  # the assert's last leaf: its values are read once it has run
            for leaf in leaves:
                called |= _calls(ast.parse(leaf, mode="eval"))
            continue
        test.ops.append(["exec", ast.unparse(stmt)])
        called |= _calls(stmt)
    if not test.ops and not test.asserts:
        raise _ReferenceError(f"{name} is empty")
    test.called = frozenset(called)
    return test


class _Rename(ast.NodeTransformer):
    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.Name(id=self.new, ctx=node.ctx) if node.id == self.old else node


def _expand_check(source: str, entry_point: str | None) -> list[str] | None:
    """A HumanEval-style `def check(candidate): assert candidate(...) == ...` test as one test per assert.

    `candidate` becomes the function named in the top-level `check(name)` call, else `entry_point`. Each
    When `check` holds only asserts and preparing statements (bindings, imports, definitions), each assert that
    tests something (not `assert True`) is its own test, preceded by the module's other statements and the
    preparing statements before it; otherwise (a loop, a call, a raise: order matters) `check` runs whole as one
    test. None when `source` defines no `check`, or nothing in it tests.
    """
    try:
        module = ast.parse(source)
    except SyntaxError:
        return None
    checks = [n for n in module.body if isinstance(n, ast.FunctionDef) and n.name == "check" and len(n.args.args) == 1]
    if not checks:
        return None
    target = entry_point
    prelude: list[ast.stmt] = []
    for stmt in module.body:
        if stmt is checks[-1] or (isinstance(stmt, ast.FunctionDef) and stmt.name == "check"):
            continue
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "check":
            if len(call.args) == 1 and isinstance(call.args[0], ast.Name):
                target = call.args[0].id
            continue
        prelude.append(stmt)
    if target is None:
        raise _ReferenceError(
            "the test defines check(candidate) but never calls it and the reference has no entry_point to call it with"
        )
    rename = _Rename(checks[-1].args.args[0].arg, target)
    body = [
        ast.fix_missing_locations(rename.visit(stmt))
        for stmt in checks[-1].body
        if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))
    ]  # docstrings
    if not all(isinstance(stmt, (ast.Assert, *_SETUP)) for stmt in body):
        # a loop, a call, a raise: statements that test and prepare at once, in an order that matters; `check`
        # runs whole, as the official harness calls it
        run = ast.Expr(ast.Call(func=ast.Name("check", ast.Load()), args=[ast.Name(target, ast.Load())], keywords=[]))
        return [ast.unparse(ast.fix_missing_locations(ast.Module(body=[*prelude, checks[-1], run], type_ignores=[])))]
    setup: list[ast.stmt] = []
    tests: list[str] = []
    for stmt in body:
        if not isinstance(stmt, ast.Assert):
            setup.append(stmt)  # runs before every later test, as it would in `check`
        elif not isinstance(stmt.test, ast.Constant):  # `assert True, "..."` tests nothing: no free point
            tests.append(ast.unparse(ast.Module(body=[*prelude, *setup, stmt], type_ignores=[])))
    return tests or None


_SETUP = (
    ast.Assign,
    ast.AnnAssign,
    ast.AugAssign,
    ast.Import,
    ast.ImportFrom,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Pass,
    ast.Global,
    ast.Nonlocal,
)
"""Statements of a `check` body that only prepare (bindings, imports, helpers); every other statement tests."""


def _plan(reference: Any, checker_option: Any) -> _Plan:
    try:
        reference = native_reference(reference)
    except ValueError as exc:
        raise _ReferenceError(str(exc)) from None
    if not isinstance(reference, Mapping):
        raise _ReferenceError(
            f"the code reference must be a mapping with 'tests' (or a test-suite format named in "
            f"verifiers.code_formats), got {type(reference).__name__}"
        )
    tests_in = reference.get("tests")
    if isinstance(tests_in, (str, Mapping)) or not isinstance(tests_in, Sequence) or not tests_in:
        raise _ReferenceError("the code reference needs a non-empty list 'tests'")
    entry_point = reference.get("entry_point")
    if entry_point is not None and (not isinstance(entry_point, str) or not entry_point.isidentifier()):
        raise _ReferenceError(f"entry_point must be a function name, got {entry_point!r}")
    language = _language_name(str(reference.get("language") or "python"))
    expanded: list[Any] = []
    for raw in tests_in:
        checks = _expand_check(raw, entry_point) if isinstance(raw, str) and "check" in raw else None
        expanded.extend(checks if checks is not None else [raw])
    tests: list[_Test] = []
    for i, raw in enumerate(expanded, 1):
        name = f"test {i}"
        if isinstance(raw, str):
            tests.append(_parse_assert_test(raw, name, entry_point))
        elif isinstance(raw, Mapping) and "input" in raw and "output" in raw:
            if not isinstance(raw["input"], str) or not isinstance(raw["output"], str):
                raise _ReferenceError(f"{name}: 'input' and 'output' must be strings")
            tests.append(
                _Test(name=name, source=clip(raw["input"], 200), kind="stdio", input=raw["input"], output=raw["output"])
            )
        elif isinstance(raw, Mapping) and "expected" in raw and ("args" in raw or "kwargs" in raw):
            if entry_point is None:
                raise _ReferenceError(f"{name} is a function-call test but the reference has no entry_point")
            args, kwargs = raw.get("args", []), raw.get("kwargs", {})
            if not isinstance(args, (list, tuple)) or not isinstance(kwargs, Mapping):
                raise _ReferenceError(f"{name}: 'args' must be a list and 'kwargs' a mapping")
            try:
                op = ["call", entry_point, _encode(list(args)), _encode(dict(kwargs))]
            except ValueError as exc:
                raise _ReferenceError(f"{name}: {exc}") from None
            source = f"{entry_point}(*{clip(json.dumps(args, default=repr), 150)})"
            tests.append(
                _Test(
                    name=name,
                    source=source,
                    kind="call",
                    ops=[op],
                    expected=raw["expected"],
                    called=frozenset({entry_point}),
                )
            )
        else:
            raise _ReferenceError(
                f"{name} must be an assert string, {{'input', 'output'}} or {{'args', 'expected'}}; "
                f"got {clip(repr(raw), 100)}"
            )
    kinds = {t.kind == "stdio" for t in tests}
    if len(kinds) > 1:
        raise _ReferenceError("a reference cannot mix stdin/stdout tests with assert or call tests")
    mode = "stdio" if tests[0].kind == "stdio" else "assert"
    if mode == "assert" and language != "python":
        raise _ReferenceError(f"assert and call tests need language 'python', got {language!r}")
    if mode == "stdio" and lookup_language(language) is None:
        raise _ReferenceError(f"unknown language {language!r}; known: {', '.join(language_names())}")
    checker = checker_option if checker_option is not None else reference.get("checker")
    checker = _check_checker(checker if checker is not None else "tokens")
    try:
        key = json.dumps(
            {
                "tests": list(tests_in),
                "entry_point": entry_point,
                "language": language,
                "checker": reference.get("checker"),
            },
            sort_keys=True,
            default=repr,
        )
    except (TypeError, ValueError):
        key = repr(sorted(reference.items(), key=str))
    return _Plan(mode, language, tests, checker, entry_point, key)


def _check_checker(checker: Any) -> Any:
    if callable(checker):
        return checker
    if isinstance(checker, str):
        if checker not in CHECKERS:
            raise _ReferenceError(f"unknown checker {checker!r}; known: {', '.join(CHECKERS)}, a program or a callable")
        return {"type": checker}
    if isinstance(checker, Mapping):
        kind = checker.get("type")
        if kind == "program":
            if not isinstance(checker.get("source"), str):
                raise _ReferenceError("a program checker needs 'source' (the checker's code)")
            return dict(checker)
        if kind in CHECKERS:
            return dict(checker)
    raise _ReferenceError(
        f"bad checker {clip(repr(checker), 100)}: give a name ({', '.join(CHECKERS)}), "
        "{'type': 'program', 'source': ...} or a callable"
    )


# -- checkers ---------------------------------------------------------------------------------------------


def _number(token: str) -> float | None:
    try:
        return float(token)
    except ValueError:
        return None


def builtin_check(
    checker: Mapping[str, Any], actual: str, expected: str, rel_tol: float, abs_tol: float
) -> tuple[bool, str]:
    """(passed, detail) for the built-in stdout checkers."""
    kind = checker["type"]
    if kind == "exact":
        ok = actual == expected
        return ok, "" if ok else "output differs (exact)"
    if kind == "lines":

        def lines(text: str) -> list[str]:
            out = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
            while out and not out[-1]:
                out.pop()
            return out

        a, e = lines(actual), lines(expected)
        if len(a) != len(e):
            return False, f"{len(a)} lines, want {len(e)}"
        for n, (x, y) in enumerate(zip(a, e), 1):
            if x != y:
                return False, f"line {n} differs: {clip(x, 60)!r}"
        return True, ""
    a_tokens, e_tokens = actual.split(), expected.split()
    if len(a_tokens) != len(e_tokens):
        return False, f"{len(a_tokens)} tokens, want {len(e_tokens)}"
    rel = float(checker.get("rel_tol", rel_tol))
    tol = float(checker.get("abs_tol", abs_tol))
    for n, (x, y) in enumerate(zip(a_tokens, e_tokens), 1):
        if x == y:
            continue
        if kind == "float":
            fx, fy = _number(x), _number(y)
            if fx is not None and fy is not None and math.isclose(fx, fy, rel_tol=rel, abs_tol=tol):
                continue
        return False, f"token {n} differs: {clip(x, 40)!r}"
    return True, ""


def _checker_score(text: str) -> float | None:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return None
    last = lines[-1].lower()
    if last in ("true", "ok", "accepted", "yes"):
        return 1.0
    if last in ("false", "wrong", "rejected", "no"):
        return 0.0
    value = _number(last)
    if value is None or not math.isfinite(value):
        return None
    return min(1.0, max(0.0, value))


# -- sandbox results --------------------------------------------------------------------------------------


@dataclass
class _Run:
    """What one driver execution reported: validated records only."""

    ok: bool = True  # the sandbox worked
    error: str = ""
    loaded: bool | None = None
    load_error: str = ""
    compile_error: bool = False
    results: dict[int, dict[str, Any]] = field(default_factory=dict)
    tampered: str = ""
    outcome: str = ""
    stderr: str = ""
    infra: str = ""  # the driver refused to run (a sandbox it cannot secure itself in): an ERROR, never a score


_RESULT_KINDS = {"ok", "timeout", "died", "skipped", "bad"}


def _parse_records(stdout: str, nonce: str, n_tests: int) -> _Run:
    run = _Run()
    prefix = nonce + " "
    lines = stdout.split("\n")
    if lines and lines[-1] != "":
        lines = lines[:-1]  # a record cut short by an output limit: not a record
    expected_n = 0
    expected_i = 0
    ended = False
    for line in lines:
        if not line.startswith(prefix):
            if nonce in line:
                run.tampered = "a line carries the nonce in the wrong place"
                return run
            continue
        try:
            record = json.loads(line[len(prefix) :])
        except (ValueError, RecursionError):
            run.tampered = "a malformed record"
            return run
        if not isinstance(record, dict) or record.get("n") != expected_n or ended:
            run.tampered = "a record out of sequence (duplicated, forged or reordered)"
            return run
        expected_n += 1
        kind = record.get("k")
        if kind == "loaded" and run.loaded is None:
            run.loaded = record.get("ok") is True
            run.infra = str(record.get("infra", ""))[:500]
            run.load_error = str(record.get("error", ""))[:2000]
            run.compile_error = record.get("compile") is True
        elif kind == "test" and run.loaded:
            result = record.get("r")
            if (
                record.get("i") != expected_i
                or expected_i >= n_tests
                or not isinstance(result, dict)
                or not isinstance(result.get("x"), str)
                or result["x"] not in _RESULT_KINDS
            ):
                run.tampered = "a test record out of sequence or malformed"
                return run
            run.results[expected_i] = result
            expected_i += 1
        elif kind == "end" and run.loaded:
            ended = True
        else:
            run.tampered = f"an unexpected record {clip(str(kind), 40)!r}"
            return run
    return run


# -- the verifier -----------------------------------------------------------------------------------------


@dataclass
class _Outcome:
    """Per-test pass/fail (and score) for one program, or why it could not be judged."""

    passed: list[bool] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    error: str = ""  # infrastructure failure: ERROR verdict
    evidence: dict[str, Any] = field(default_factory=dict)


class CodeVerifier(Verifier):
    """Runs the response's program against the reference's tests in a sandbox; one step per test."""

    name = "code"
    domains = ("code",)
    cost = 20.0
    batched = True
    version = "2"  # 2: ecosystem test-suite formats, `Solution` methods, group weights applied after caching
    options = {
        "reward_mode": Option.choice(
            "fraction",
            "the score: 'binary' (1 when every test passes), 'fraction' (the "
            "share that pass) or 'weighted' (VeRPO-style, see the module doc)",
            REWARD_MODES,
        ),
        "alpha": Option.number(0.5, "weight of the all-passed term in 'weighted'", minimum=0, maximum=1),
        "group_weights": Option.flag(True, "'weighted': tests that fewer samples of a GRPO group pass weigh more"),
        "stub_weights": Option.flag(True, "'weighted': tests that a trivial stub program passes weigh 0"),
        "timeout": Option.number(4.0, "seconds one test may take", above=0),
        "load_timeout": Option.number(10.0, "seconds the program's module-level code may take", above=0),
        "total_timeout": Option.number(
            60.0, "seconds all the tests of one program may take; tests not reached fail", minimum=0
        ),
        "memory_mb": Option.integer(512, "memory cap of the program, in MB"),
        "sandbox": Option(None, "a sandbox backend name or object (None: bubblewrap)", per_sample=False),
        "require_limits": Option.flag(
            False,
            "refuse a sandbox that leaves a limit (memory, pids, ...) not enforced here: every verdict is an ERROR "
            "before any program runs (also: the VERIFIERS_REQUIRE_SANDBOX_LIMITS=1 environment variable)",
            per_sample=False,
        ),
        "workers": Option.integer(
            None, "parallel sandbox executions (None: the CPU count, at least 2)", optional=True, per_sample=False
        ),
        "checker": Option(
            None,
            "the stdin/stdout checker (wins over the reference's)",
            optional=True,
            must="a checker name, {'type': 'program', 'source': ...} or a callable",
            accepts=_check_checker,
        ),
        "rel_tol": Option.number(1e-6, "relative tolerance of the float checker", minimum=0),
        "abs_tol": Option.number(1e-6, "absolute tolerance of the float checker", minimum=0),
        "ignore_think": Option.flag(True, "drop <think> reasoning before looking for the program"),
        "max_value_bytes": Option.integer(1 << 16, "bytes a test may send back as values (assert and call tests)"),
        "max_output_bytes": Option.integer(1 << 20, "bytes of output a stdin/stdout test may send back"),
    }

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._lock = threading.Lock()
        self._sandbox_obj: Any = None
        self._sandbox_error = ""
        self._stub_cache: dict[str, list[bool]] = {}

    # -- sandbox -----------------------------------------------------------------------------------------

    def _workers(self) -> int:
        return int(self.config["workers"] or max(2, os.cpu_count() or 2))

    def _sandbox(self) -> Any:
        """The sandbox object, made once; None with `_sandbox_error` set when there is none."""
        with self._lock:
            if self._sandbox_obj is not None or self._sandbox_error:
                return self._sandbox_obj
            choice = self.config["sandbox"]
            try:
                if choice is None:
                    import sandboxes

                    default_sandbox: Any = sandboxes.default_sandbox  # bubblewrap; never the unisolated backend
                    self._sandbox_obj = default_sandbox()
                elif isinstance(choice, str):
                    from .plugins import get_sandbox

                    self._sandbox_obj = get_sandbox(choice)
                else:
                    self._sandbox_obj = choice
            except Exception as exc:  # no usable sandbox: every verdict is an ERROR, never a 0
                self._sandbox_error = f"no sandbox available ({type(exc).__name__}: {exc})"
                return None
            from sandboxes.enforcement import limits_required

            if limits_required(self.config["require_limits"] or None):
                enforcement = getattr(self._sandbox_obj, "enforcement", None)
                refusal = (
                    enforcement.refusal() if enforcement is not None
                    else f"the {getattr(self._sandbox_obj, 'name', 'given')} sandbox does not say what it enforces"
                )  # fmt: skip
                if refusal:
                    self._sandbox_obj, self._sandbox_error = None, f"sandbox limits required: {refusal}"
            return self._sandbox_obj

    def _sandbox_evidence(self) -> dict[str, Any]:
        """The backend and its limits mode, for every verdict's evidence (see `sandboxes.enforcement`)."""
        sandbox = self._sandbox_obj
        enforcement = getattr(sandbox, "enforcement", None)
        return {"backend": getattr(sandbox, "name", type(sandbox).__name__),
                "limits": enforcement.mode if enforcement is not None else "unknown"}  # fmt: skip

    def _limits(self, config: Mapping[str, Any], wall: float, output: int) -> Any:
        from sandboxes import Limits

        return Limits(
            cpu_s=wall, wall_s=wall, memory_mb=int(config["memory_mb"]) + 256, output_bytes=min(output, 64 << 20)
        )

    def _drive(
        self,
        sandbox: Any,
        config: Mapping[str, Any],
        mode: str,
        code: str,
        tests: list[Any],
        entry_point: str | None = None,
    ) -> _Run:
        """One driver execution in the sandbox, its records validated."""
        nonce = secrets.token_hex(16)
        payload = {
            "nonce": nonce,
            "mode": mode,
            "code": code,
            "tests": tests,
            "entry_point": entry_point,
            "timeout": float(config["timeout"]),
            "total_timeout": float(config["total_timeout"]),
            "load_timeout": float(config["load_timeout"]),
            "memory_mb": int(config["memory_mb"]),
            "max_value_bytes": int(config["max_value_bytes"]),
            "max_output_bytes": int(config["max_output_bytes"]),
        }
        per_test = float(config["timeout"]) + 0.25
        wall = (
            float(config["load_timeout"])
            + 2.0
            + min(float(config["total_timeout"]), per_test * len(tests))
            + per_test
            + 5.0
        )
        cap = int(config["max_output_bytes"] if mode == "stdio" else config["max_value_bytes"])
        ops = max((len(t) for t in tests if isinstance(t, list)), default=1)
        # a record holds a test's output (stdio) or values (up to one cap per op); JSON escaping at most sextuples
        output = 65536 + len(tests) * (cap * (1 if mode == "stdio" else ops + 1) * 6 + 1024)
        try:
            result = sandbox.run(
                _driver_program(),
                language="python",
                stdin=json.dumps(payload),
                limits=self._limits(config, wall, output),
            )
        except Exception as exc:
            return _Run(ok=False, error=f"sandbox raised {type(exc).__name__}: {exc}")
        outcome = getattr(result.outcome, "value", str(result.outcome))
        if outcome == "sandbox_error":
            return _Run(ok=False, error=f"sandbox error: {clip(result.detail or result.stderr, 500)}")
        run = _parse_records(result.stdout or "", nonce, len(tests))
        if run.infra and not run.tampered:
            return _Run(ok=False, error=f"sandbox error: {run.infra}")
        run.outcome = outcome
        run.stderr = clip(result.stderr or "", 1000)
        if run.loaded is None and not run.tampered:
            run.load_error = run.load_error or f"the program ended before its tests ran ({outcome})"
        return run

    # -- running -----------------------------------------------------------------------------------------

    def _run_tests(self, sandbox: Any, config: Mapping[str, Any], plan: _Plan, code: str) -> _Outcome:
        """Run the program on every test of `plan` and judge each result."""
        if plan.mode == "stdio" and plan.language != "python":
            return self._run_native(sandbox, config, plan, code)
        n = len(plan.tests)
        specs = [t.ops if plan.mode == "assert" else t.input for t in plan.tests]
        run = self._drive(sandbox, config, plan.mode, code, specs, plan.entry_point)
        if not run.ok:
            return _Outcome(error=run.error)
        evidence: dict[str, Any] = {}
        if run.tampered:
            evidence["tampered"] = run.tampered
            return _Outcome([False] * n, [0.0] * n, [f"execution rejected: {run.tampered}"] * n, evidence=evidence)
        if not run.loaded:
            key = "compile_error" if run.compile_error else "load_error"
            evidence[key] = run.load_error
            detail = ("compile error: " if run.compile_error else "program failed to load: ") + clip(
                run.load_error, 300
            )
            return _Outcome([False] * n, [0.0] * n, [detail] * n, evidence=evidence)
        results: dict[int, dict[str, Any]] = dict(run.results)
        missing = [i for i in range(n) if i not in results]
        for i in missing:  # the driver died (the program can kill it): no re-run could be told from an escape
            results[i] = {"x": "died", "why": f"no result: the test driver ended before it ({run.outcome})"}
        outcome = _Outcome(evidence=evidence)
        checker_runs: list[tuple[int, str]] = []
        for i, test in enumerate(plan.tests):
            result = results[i]
            if plan.mode == "assert":
                try:
                    ok, detail = _judge_assert(test, result)
                except Exception as exc:  # whatever the sandbox sent, it is the program's failure, never an ERROR
                    ok, detail = False, f"malformed result ({type(exc).__name__})"
                outcome.passed.append(ok)
                outcome.scores.append(1.0 if ok else 0.0)
                outcome.details.append(detail)
                continue
            try:
                ok, detail, actual = _stdio_status(result)
            except Exception as exc:
                ok, detail, actual = False, f"malformed result ({type(exc).__name__})", ""
            if not ok:
                outcome.passed.append(False)
                outcome.scores.append(0.0)
                outcome.details.append(detail)
                continue
            outcome.passed.append(False)
            outcome.scores.append(0.0)
            outcome.details.append("")
            checker_runs.append((i, actual))
        if checker_runs:
            error = self._apply_checker(sandbox, config, plan, checker_runs, outcome)
            if error:
                return _Outcome(error=error)
        return outcome

    def _run_native(self, sandbox: Any, config: Mapping[str, Any], plan: _Plan, code: str) -> _Outcome:
        """Compiled or non-python programs: the sandbox's own language support, one run per input."""
        from sandboxes import run_many

        limits = self._limits(config, float(config["timeout"]), int(config["max_output_bytes"]))
        n = len(plan.tests)
        # `total_timeout` holds here too: the inputs go in chunks that each fit the budget, none after it is spent
        chunk = max(1, int(float(config["total_timeout"]) // float(config["timeout"])))
        start = time.monotonic()
        compiled, results = None, []
        try:
            for first in range(0, n, chunk):
                if first and time.monotonic() - start >= float(config["total_timeout"]):
                    break
                stdins = [t.input for t in plan.tests[first : first + chunk]]
                built, ran = run_many(sandbox, code, language=plan.language, stdins=stdins, limits=limits)
                compiled = compiled or built
                results.extend(ran)
                if built is not None and getattr(built.outcome, "value", "") != "ok":
                    break
        except Exception as exc:
            return _Outcome(error=f"sandbox raised {type(exc).__name__}: {exc}")
        if compiled is not None and getattr(compiled.outcome, "value", "") == "compile_error":
            message = clip(compiled.stderr or compiled.detail, 2000)
            return _Outcome([False] * n, [0.0] * n, ["compile error"] * n, evidence={"compile_error": message})
        if compiled is not None and getattr(compiled.outcome, "value", "") == "sandbox_error":
            return _Outcome(error=f"sandbox error while compiling: {clip(compiled.detail, 300)}")
        outcome = _Outcome()
        checker_runs: list[tuple[int, str]] = []
        for i, result in enumerate(results):
            kind = getattr(result.outcome, "value", str(result.outcome))
            if kind == "sandbox_error":
                return _Outcome(error=f"sandbox error: {clip(result.detail or result.stderr, 300)}")
            if kind == "compile_error":
                message = clip(result.stderr or result.detail, 2000)
                return _Outcome([False] * n, [0.0] * n, ["compile error"] * n, evidence={"compile_error": message})
            outcome.passed.append(False)
            outcome.scores.append(0.0)
            if kind != "ok" or result.exit_code != 0:
                outcome.details.append(f"{kind}, exit code {result.exit_code}: {clip(result.stderr, 200)}")
                continue
            outcome.details.append("")
            checker_runs.append((i, result.stdout))
        for _ in range(len(results), n):
            outcome.passed.append(False)
            outcome.scores.append(0.0)
            outcome.details.append("not run: the total time budget ran out")
        if checker_runs:
            error = self._apply_checker(sandbox, config, plan, checker_runs, outcome)
            if error:
                return _Outcome(error=error)
        return outcome

    def _apply_checker(
        self, sandbox: Any, config: Mapping[str, Any], plan: _Plan, runs: list[tuple[int, str]], outcome: _Outcome
    ) -> str:
        """Judge stdout of tests that ran cleanly; fills `outcome`; returns an infrastructure error or ""."""
        checker = plan.checker
        if isinstance(checker, Mapping) and checker.get("type") == "program":
            scores = self._checker_program(sandbox, config, checker, plan, runs)
            if isinstance(scores, str):
                return scores
            for (i, _), (score, detail) in zip(runs, scores):
                outcome.scores[i] = score
                outcome.passed[i] = score >= 1.0
                outcome.details[i] = detail
            return ""
        for i, actual in runs:
            test = plan.tests[i]
            ok, score, detail = _check_one(checker, test.input, test.output, actual, config)
            outcome.passed[i], outcome.scores[i], outcome.details[i] = ok, score, detail
        return ""

    def _checker_program(
        self,
        sandbox: Any,
        config: Mapping[str, Any],
        checker: Mapping[str, Any],
        plan: _Plan,
        runs: list[tuple[int, str]],
    ) -> list[tuple[float, str]] | str:
        inputs = [
            json.dumps({"input": plan.tests[i].input, "expected": plan.tests[i].output, "actual": actual})
            for i, actual in runs
        ]
        language = _language_name(str(checker.get("language", "python")), default="python")
        if language == "python":
            run = self._drive(sandbox, config, "stdio", checker["source"], inputs)
            if not run.ok:
                return run.error
            if not run.loaded:
                return f"the checker program does not load: {clip(run.load_error, 300)}"
            raw = [run.results.get(k) for k in range(len(inputs))]
            outputs = [(r.get("out", "") if r and r.get("x") == "ok" and r.get("rc") == 0 else None) for r in raw]
        else:
            from sandboxes import run_many

            limits = self._limits(config, float(config["timeout"]), int(config["max_output_bytes"]))
            compiled, results = run_many(sandbox, checker["source"], language=language, stdins=inputs, limits=limits)
            if compiled is not None and getattr(compiled.outcome, "value", "") != "ok":
                return f"the checker program does not compile: {clip(compiled.stderr or compiled.detail, 300)}"
            outputs = [r.stdout if r.outcome.value == "ok" and r.exit_code == 0 else None for r in results]
        out: list[tuple[float, str]] = []
        for text in outputs:
            score = None if text is None else _checker_score(text)
            if score is None:
                out.append((0.0, "the checker crashed or printed no score"))
            else:
                out.append((score, "" if score >= 1.0 else f"checker score {score:g}"))
        return out

    # -- stubs -------------------------------------------------------------------------------------------

    def _stub_passes(self, sandbox: Any, config: Mapping[str, Any], plan: _Plan) -> list[bool] | str:
        """Which tests some trivial stub passes (cached per reference); a string on infrastructure failure."""
        cache_key = (
            plan.key + json.dumps([config["rel_tol"], config["abs_tol"]]) if not callable(plan.checker) else None
        )
        if cache_key is not None and cache_key in self._stub_cache:
            return self._stub_cache[cache_key]
        n = len(plan.tests)
        passed = [False] * n
        if plan.mode == "stdio":
            if isinstance(plan.checker, Mapping) and plan.checker.get("type") == "program":
                return passed
            for i, test in enumerate(plan.tests):
                for output in _STUB_OUTPUTS:
                    ok, _, _ = _check_one(plan.checker, test.input, test.output, output, config)
                    if ok:
                        passed[i] = True
                        break
        else:
            names = sorted(set().union(*(t.called for t in plan.tests)) - set(dir(builtins)))
            if plan.entry_point:
                names = sorted(set(names) | {plan.entry_point})
            if names:
                specs: list[list[Any]] = []
                for value in _STUB_RETURNS:
                    stub = "".join(f"def {name}(*args, **kwargs):\n    return {value}\n" for name in names)
                    specs.extend([["exec", stub], *t.ops] for t in plan.tests)
                run = self._drive(sandbox, config, "assert", "", specs)
                if not run.ok:
                    return run.error
                if not run.tampered and run.loaded:
                    for k, result in run.results.items():
                        i = k % n
                        ops_result = dict(result)
                        if ops_result.get("x") == "ok" and isinstance(ops_result.get("ops"), list):
                            ops_result["ops"] = ops_result["ops"][1:]
                        ok, _ = _judge_assert(plan.tests[i], ops_result)
                        passed[i] = passed[i] or ok
        if cache_key is not None:
            with self._lock:
                if len(self._stub_cache) > 4096:
                    self._stub_cache.clear()
                self._stub_cache[cache_key] = passed
        return passed

    # -- verify ------------------------------------------------------------------------------------------

    def verify(self, sample: Sample) -> Verdict:
        return self.verify_batch([sample])[0]

    def verify_batch(self, samples: Sequence[Sample]) -> list[Verdict]:
        results: list[Verdict | None] = [None] * len(samples)
        jobs: dict[int, tuple[dict[str, Any], _Plan, str, str]] = {}
        for s, sample in enumerate(samples):
            config = self.resolve(sample)
            if isinstance(config, Verdict):
                results[s] = config
                continue
            try:
                plan = _plan(sample.reference, config["checker"])
            except _ReferenceError as exc:
                results[s] = Verdict.error(self.name, f"unusable reference: {exc}")
                continue
            code, how = extract_code(sample.response, plan.language, ignore_think=config["ignore_think"])
            refusal = _not_runnable(code)
            if refusal:
                steps = tuple(StepVerdict(t.name, Status.INCORRECT, 0.0, detail="not run") for t in plan.tests)
                results[s] = Verdict.incorrect(
                    self.name,
                    f"{refusal}; not run",
                    steps=steps,
                    evidence={"extraction": how, "passed": 0, "total": len(plan.tests)},
                )
                continue
            jobs[s] = (config, plan, code, how)
        if not jobs:
            return [r for r in results if r is not None]
        sandbox = self._sandbox()
        if sandbox is None:
            for s in jobs:
                results[s] = Verdict.error(self.name, self._sandbox_error)
            return [r for r in results if r is not None]
        with concurrent.futures.ThreadPoolExecutor(max_workers=self._workers()) as pool:
            futures: dict[int, concurrent.futures.Future[_Outcome]] = {}
            for s, (config, plan, code, _) in jobs.items():
                if code.strip():
                    futures[s] = pool.submit(self._run_tests, sandbox, config, plan, code)
            stub_futures: dict[str, concurrent.futures.Future[Any]] = {}
            for config, plan, _, _ in jobs.values():
                if config["reward_mode"] == "weighted" and config["stub_weights"] and plan.key not in stub_futures:
                    stub_futures[plan.key] = pool.submit(self._stub_passes, sandbox, config, plan)
            outcomes: dict[int, _Outcome] = {}
            for s, (_, plan, _, _) in jobs.items():
                if s in futures:
                    try:
                        outcomes[s] = futures[s].result()
                    except Exception as exc:  # a bug here must not become a reward of 0
                        outcomes[s] = _Outcome(error=f"verifier raised {type(exc).__name__}: {exc}")
                else:
                    n = len(plan.tests)
                    outcomes[s] = _Outcome([False] * n, [0.0] * n, ["no code in the response"] * n)
            stubs: dict[str, list[bool] | str] = {}
            for key, future in stub_futures.items():
                try:
                    stubs[key] = future.result()
                except Exception as exc:
                    stubs[key] = f"stub run raised {type(exc).__name__}: {exc}"
        for s, (config, plan, code, how) in jobs.items():
            outcome = outcomes[s]
            if outcome.error:
                results[s] = Verdict.error(
                    self.name,
                    outcome.error,
                    evidence={"code": clip(code, 2000), "extraction": how, "sandbox": self._sandbox_evidence()},
                )
                continue
            stub = stubs.get(plan.key)
            if isinstance(stub, str):
                results[s] = Verdict.error(self.name, f"stub run failed: {stub}")
                continue
            results[s] = self._verdict(config, plan, code, how, outcome, stub)
        return [r for r in results if r is not None]

    def _verdict(
        self,
        config: Mapping[str, Any],
        plan: _Plan,
        code: str,
        how: str,
        outcome: _Outcome,
        stub: list[bool] | None,
    ) -> Verdict:
        n = len(plan.tests)
        passed = outcome.passed
        all_passed = all(passed)
        mode = config["reward_mode"]
        weights = [1.0] * n
        evidence: dict[str, Any] = {
            "code": clip(code, 4000),
            "extraction": how,
            "language": plan.language,
            "passed": sum(passed),
            "total": n,
            "reward_mode": mode,
            "sandbox": self._sandbox_evidence(),
            **outcome.evidence,
        }
        if mode == "binary":
            score = 1.0 if all_passed else 0.0
        elif mode == "fraction":
            score = math.fsum(outcome.scores) / n
        else:  # alone: the weights come from the reference; `verifiers.groups.regroup` adds the group's difficulty
            if stub is not None:
                weights = [0.0 if hit else w for w, hit in zip(weights, stub)]
                evidence["stub_passed"] = [t.name for t, hit in zip(plan.tests, stub) if hit]
            alpha = float(config["alpha"])
            score = weighted_score(alpha, weights, outcome.scores, all_passed)
            evidence["weights"] = [round(w, 6) for w in weights]
            if config["group_weights"]:
                evidence[GROUP_EVIDENCE] = {
                    "suite": hashlib.sha256(plan.key.encode("utf-8", "surrogatepass")).hexdigest()[:16],
                    "alpha": alpha, "base": weights, "scores": list(outcome.scores), "passed": list(passed),
                }  # fmt: skip
        score = min(1.0, max(0.0, score))
        steps = [
            StepVerdict(
                test.name,
                Status.CORRECT if ok else (Status.PARTIAL if 0 < sc < 1 else Status.INCORRECT),
                sc,
                weights[i],
                clip(f"{test.source} -> {detail}" if detail else test.source, 400),
            )
            for i, (test, ok, sc, detail) in enumerate(zip(plan.tests, passed, outcome.scores, outcome.details))
        ]
        if all_passed:
            status = Status.CORRECT
        elif score == 0.0:
            status = Status.INCORRECT
        else:
            status = Status.PARTIAL
        reason = f"{sum(passed)}/{n} tests pass"
        if "compile_error" in evidence:
            reason = f"compile error: {clip(str(evidence['compile_error']), 200)}"
        elif "tampered" in evidence:
            reason = f"execution rejected: {evidence['tampered']}"
        return Verdict(status, score, self.name, reason, steps=tuple(steps), evidence=evidence)


def _not_runnable(code: str) -> str:
    """Why the program is not run at all (its fault: INCORRECT), or ""."""
    if len(code) > MAX_CODE_CHARS:
        return f"the program is {len(code)} characters, over {MAX_CODE_CHARS}"
    try:
        code.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate: no compiler reads it
        return f"the program is not valid text (unpaired surrogate at {exc.start})"
    return ""


def _check_one(
    checker: Any, input_text: str, expected: str, actual: str, config: Mapping[str, Any]
) -> tuple[bool, float, str]:
    if callable(checker):
        try:
            result = checker(input_text, expected, actual)
        except Exception as exc:
            return False, 0.0, f"checker raised {type(exc).__name__}: {clip(str(exc), 200)}"
        if isinstance(result, bool):
            return result, float(result), "" if result else "rejected by the checker"
        if isinstance(result, (int, float)) and math.isfinite(result):
            score = min(1.0, max(0.0, float(result)))
            return score >= 1.0, score, "" if score >= 1.0 else f"checker score {score:g}"
        return False, 0.0, f"checker returned {type(result).__name__}, not a bool or number"
    ok, detail = builtin_check(checker, actual, expected, float(config["rel_tol"]), float(config["abs_tol"]))
    return ok, 1.0 if ok else 0.0, detail


def _stdio_status(result: Mapping[str, Any]) -> tuple[bool, str, str]:
    """(ran cleanly, detail, stdout) for one stdin/stdout test record."""
    kind = result.get("x")
    if "why" in result:
        return False, str(result["why"]), ""
    if kind == "timeout":
        return False, "timed out", ""
    if kind == "skipped":
        return False, "not run: the total time budget ran out", ""
    if kind == "died":
        return False, f"killed by signal {result.get('sig')}", ""
    if kind != "ok":
        return False, f"no usable result ({kind})", ""
    out = result.get("out")
    if not isinstance(out, str):
        return False, "malformed result", ""
    if result.get("trunc"):
        return False, "output over the limit", ""
    if result.get("rc") != 0:
        err = str(result.get("err", "")).strip().splitlines()
        return False, f"exit code {result.get('rc')}" + (f": {clip(err[-1], 200)}" if err else ""), ""
    return True, "", out


def _judge_assert(test: _Test, result: Mapping[str, Any]) -> tuple[bool, str]:
    """(passed, detail) for one assert or call test's record."""
    kind = result.get("x")
    if "why" in result:
        return False, str(result["why"])
    if kind == "timeout":
        return False, "timed out"
    if kind == "skipped":
        return False, "not run: the total time budget ran out"
    if kind == "died":
        return False, f"the test process was killed by signal {result.get('sig')}"
    if kind != "ok":
        return False, "the test process ended without a result (exit, crash or tampering)"
    ops = result.get("ops")
    if not isinstance(ops, list) or len(ops) > len(test.ops):
        return False, "malformed result"
    values: list[Any] = []
    for k, op_result in enumerate(ops):
        if not isinstance(op_result, dict):
            return False, "malformed result"
        if "e" in op_result:
            message = clip(str(op_result["e"]), 300)
            if test.ops[k][0] == "exec":
                return False, f"raised {message}"
            values.append(_LeafError(f"raised {message}"))
            continue
        try:
            values.append(_decode(op_result.get("v")))
        except _BadValue as exc:
            values.append(_LeafError(str(exc)))
    if len(values) < len(test.ops):
        return False, "the test did not finish"
    if test.kind == "call":
        got = values[0]
        if isinstance(got, _LeafError):
            return False, got.message
        ok = _jsonish(got) == _jsonish(test.expected)
        return ok, "" if ok else f"got {_short(got)}"
    for item in test.asserts:
        leaf_values = values[item.first_leaf_op :]
        try:
            ok = _Evaluator(leaf_values).truth(item.skeleton)
        except _Fail as exc:
            return False, str(exc)
        except (Exception, RecursionError, MemoryError) as exc:
            return False, f"{type(exc).__name__}: {clip(str(exc), 200)}"
        if not ok:
            shown = [v for v in leaf_values[:4] if not isinstance(v, _LeafError)]
            return False, "assertion failed" + (f"; got {_short(shown[0])}" if len(shown) == 1 else "")
    return True, ""


@hookimpl
def register_verifiers(register):
    register(CodeVerifier)
