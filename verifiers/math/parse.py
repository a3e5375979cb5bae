"""LaTeX / plain-text math into sympy, behind size and growth caps.

Parser: `latex2sympy2_extended` (the ANTLR LaTeX grammar that Math-Verify uses). It is maintained, reads the
LaTeX that models write (`\\frac`, `\\sqrt[3]{}`, `\\pm`, intervals, sets, matrices, relations) and builds sympy
objects directly from the parse tree with `evaluate=False`: no `eval`, `sympify(str)` or `parse_expr` ever
sees model text (its only `parse_expr` call is for caller-given variable values, which we never pass).

Caps, checked before and after parsing, turn runaway inputs into a `ParseFailure` (-> UNDECIDED): text length,
brace depth, power towers (`9^{9^{9^{9}}}`), big factorials (`1000!`), huge integer literals, tree size, and
numeric powers whose exact value would be enormous. The caps bound the work any later sympy step can start;
the per-sample deadline of the worker pool bounds the rest.

`parse_math(text)` is memoized on the (normalized) text: the gold answer is shared by many responses.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from typing import Any

import sympy
from latex2sympy2_extended import latex2sympy
from latex2sympy2_extended.latex2sympy2 import ConversionConfig
from latex2sympy2_extended.math_normalization import NormalizationConfig

__all__ = ["MAX_CHARS", "MAX_FACTORIAL", "MAX_NODES", "MAX_POWER_DIGITS", "ParseFailure", "Parsed", "parse_math"]

MAX_CHARS = 1_500
"""Longest answer text handed to the parser."""
MAX_DEPTH = 40
"""Deepest brace/bracket nesting."""
MAX_NODES = 3_000
"""Largest expression tree."""
MAX_FACTORIAL = 300
"""Largest integer whose factorial may be computed."""
MAX_POWER_DIGITS = 2_000
"""Largest number of digits an exact numeric power may have."""
MAX_INT_DIGITS = 400
"""Longest integer literal."""

_NORMALIZATION = NormalizationConfig(
    basic_latex=True, units=False, malformed_operators=True, nits=True, boxed="all", equations=False
)
"""The parser's own unit stripping is off: it deleted letters that look like units anywhere (`64t` read as 64,
`x + 5h` as x + 5). Units are split off before parsing (`units.split_unit`), only after a value."""
_CONVERSION = ConversionConfig(
    interpret_as_mixed_fractions=True,
    interpret_simple_eq_as_assignment=False,
    interpret_contains_as_eq=True,
    lowercase_symbols=False,
)


@dataclass(frozen=True)
class Parsed:
    """A parsed answer: the sympy object (an expression, relation, set, interval, tuple or matrix)."""

    value: Any
    text: str


@dataclass(frozen=True)
class ParseFailure:
    """Why an answer was not parsed (too big, a power tower, a syntax error)."""

    reason: str


_BIG_FACTORIAL = re.compile(r"(?<!\d)(\d+)\s*!")
_BASE_PREFIX = re.compile(r"(?<![\w.])0[xXbBoO][0-9A-Za-z]")
_INT = re.compile(r"\d+")
_TOWER_FLAT = re.compile(r"\^\s*[\w.]+\s*\^")
_WORDS = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{3,}")
_KNOWN_WORDS = frozenset(
    [
        "sin",
        "cos",
        "tan",
        "cot",
        "sec",
        "csc",
        "log",
        "ln",
        "exp",
        "sqrt",
        "frac",
        "arcsin",
        "arccos",
        "arctan",
        "sinh",
        "cosh",
        "tanh",
        "lim",
        "sum",
        "prod",
        "int",
        "max",
        "min",
        "gcd",
        "lcm",
        "mod",
        "pmod",
        "bmod",
        "det",
        "infty",
        "pi",
        "cup",
        "cap",
        "text",
        "mathrm",
        "operatorname",
        "begin",
        "end",
        "pmatrix",
        "bmatrix",
        "matrix",
        "array",
        "cdot",
        "times",
        "div",
        "pm",
        "mp",
        "leq",
        "geq",
        "neq",
        "le",
        "ge",
        "lt",
        "gt",
        "approx",
        "sim",
        "equiv",
        "in",
        "notin",
        "emptyset",
        "varnothing",
        "mathbb",
        "dfrac",
        "tfrac",
        "binom",
        "choose",
        "floor",
        "ceil",
        "lfloor",
        "rfloor",
        "lceil",
        "rceil",
        "circ",
        "deg",
        "and",
        "or",
    ]
)


def _too_deep(text: str) -> str | None:
    """A reason when braces nest too deep or powers stack into a tower; None when the text is fine."""
    depth = 0
    exp_depth = 0
    stack: list[bool] = []  # True: this group is an exponent
    pending_exp = False
    for ch in text:
        if ch == "^":
            pending_exp = True
            if exp_depth >= 2:
                return "a power tower (exponents nested more than two deep)"
            continue
        if ch in "{([":
            is_exp = pending_exp and ch == "{"
            stack.append(is_exp)
            exp_depth += is_exp
            depth += 1
            if depth > MAX_DEPTH:
                return f"brackets nested more than {MAX_DEPTH} deep"
        elif ch in "})]":
            if stack:
                exp_depth -= stack.pop()
                depth -= 1
        pending_exp = pending_exp and ch.isspace()
    if _TOWER_FLAT.search(text):
        return "a power tower"
    return None


def _precheck(text: str) -> str | None:
    if len(text) > MAX_CHARS:
        return f"answer is {len(text)} characters, over the parser cap of {MAX_CHARS}"
    reason = _too_deep(text)
    if reason:
        return reason
    for m in _BIG_FACTORIAL.finditer(text):
        if len(m.group(1)) > 4 or int(m.group(1)) > MAX_FACTORIAL:
            return f"factorial of {m.group(1)[:20]} is over the cap of {MAX_FACTORIAL}!"
    if text.count("!") > 3:
        return "repeated factorials"
    if any(len(m.group()) > MAX_INT_DIGITS for m in _INT.finditer(text)):
        return f"an integer literal over {MAX_INT_DIGITS} digits"
    bad_base = _BASE_PREFIX.search(text)
    if bad_base:
        return f"{bad_base.group()!r} is not a number in base 16, 2 or 8 (and not a product of letters)"
    return None


def _digits_of_power(base: sympy.Basic, exponent: sympy.Basic) -> float:
    """About how many digits `base**exponent` has when both are closed-form numbers (0 otherwise)."""
    if base.free_symbols or exponent.free_symbols or not (base.is_number and exponent.is_number):
        return 0.0
    try:
        b = abs(complex(sympy.N(base, 15)))
        e = abs(complex(sympy.N(exponent, 15)))
    except (OverflowError, ValueError, TypeError):
        return float("inf")
    if not (math.isfinite(b) and math.isfinite(e)):
        return float("inf")
    if b == 0.0 or b == 1.0:
        return 0.0
    return e * abs(math.log10(b))


def _postcheck(value: Any) -> str | None:
    nodes = 0
    todo = [value]
    while todo:
        node = todo.pop()
        nodes += 1
        if nodes > MAX_NODES:
            return f"expression has more than {MAX_NODES} parts"
        if isinstance(node, sympy.MatrixBase):
            todo.extend(node)
            continue
        if not isinstance(node, sympy.Basic):
            continue
        if isinstance(node, sympy.Pow):
            base, exponent = node.args
            if _digits_of_power(base, exponent) > MAX_POWER_DIGITS:
                return f"a numeric power with more than {MAX_POWER_DIGITS} digits"
        elif isinstance(node, (sympy.factorial, sympy.factorial2, sympy.subfactorial)):
            arg = node.args[0]
            if not arg.is_Integer or int(arg) > MAX_FACTORIAL:
                if not arg.free_symbols:
                    return f"factorial of {str(arg)[:20]} is over the cap"
        todo.extend(node.args)
    return None


def looks_like_text(text: str) -> bool:
    """True for a word answer (`Evelyn`, `odd`, `The midpoints form a regular hexagon`): compare it as text."""
    if "\\" in text.replace("\\text", ""):  # LaTeX commands other than \text: math, not prose
        return False
    if _PY_MARKERS.search(text):  # `2*x*asin(x)`: Python syntax, not prose
        return False
    words = [w for w in _WORDS.findall(text) if w.lower() not in _KNOWN_WORDS]
    return bool(words) and not re.search(r"[=<>^_]", text)


_PY_TOKEN = re.compile(r"\s+|\*\*|[A-Za-z_][A-Za-z_0-9]*|[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?|.", re.DOTALL)
_PY_CALLS = {
    "sqrt": ("\\sqrt{", "}"),
    "exp": ("e^{", "}"),
    "log": ("\\ln\\left(", "\\right)"),
    "ln": ("\\ln\\left(", "\\right)"),
    "abs": ("\\left|", "\\right|"),
    "Abs": ("\\left|", "\\right|"),
    "sin": ("\\sin\\left(", "\\right)"),
    "cos": ("\\cos\\left(", "\\right)"),
    "tan": ("\\tan\\left(", "\\right)"),
    "asin": ("\\arcsin\\left(", "\\right)"),
    "acos": ("\\arccos\\left(", "\\right)"),
    "atan": ("\\arctan\\left(", "\\right)"),
    "sinh": ("\\sinh\\left(", "\\right)"),
    "cosh": ("\\cosh\\left(", "\\right)"),
    "tanh": ("\\tanh\\left(", "\\right)"),
    "asinh": ("\\operatorname{arcsinh}\\left(", "\\right)"),
    "acosh": ("\\operatorname{arccosh}\\left(", "\\right)"),
    "atanh": ("\\operatorname{arctanh}\\left(", "\\right)"),
    "cot": ("\\cot\\left(", "\\right)"),
    "sec": ("\\sec\\left(", "\\right)"),
    "csc": ("\\csc\\left(", "\\right)"),
    "acot": ("\\cot^{-1}\\left(", "\\right)"),
}
_PY_NAMES = {"pi": "\\pi ", "oo": "\\infty ", "sqrt": None}
_PY_MARKERS = re.compile(
    r"\*\*|(?<![A-Za-z])(?:" + "|".join(_PY_CALLS) + r")\s*\(|(?<![A-Za-z])(?:pi|oo)(?![A-Za-z])"
    r"|(?<![\w.])[0-9]+(?:\.[0-9]+)?j(?![\w])"
)
_PY_IMAGINARY = re.compile(r"(?<![\w.])([0-9]+(?:\.[0-9]+)?)j(?![\w])")


class _PythonSyntax:
    """Python/sympy syntax (`8*x**9/5`, `sqrt(2)/2`, `exp(2*x)`, `pi/2`, `log(x)`, `1.0j`) rewritten as the LaTeX it
    means, token by token (no `eval`, no sympy parser): `a**b` -> `a^{b}`, calls -> commands, `pi` -> `\\pi`."""

    def __init__(self, text: str) -> None:
        self.toks = [t for t in _PY_TOKEN.findall(text) if not t.isspace()]
        self.i = 0

    def run(self) -> str:
        out = self.sequence()
        if self.i != len(self.toks):
            raise ValueError("unbalanced parentheses")
        return out

    def sequence(self) -> str:
        out: list[str] = []
        while self.i < len(self.toks) and self.toks[self.i] != ")":
            if self.toks[self.i] == "**":
                self.i += 1
                out.append("^{" + self.operand() + "}")
            else:
                out.append(self.atom())
        return "".join(out)

    def operand(self) -> str:
        """What `**` raises to: signs, then an atom, then a further `**` (right-associative)."""
        signs = ""
        while self.i < len(self.toks) and self.toks[self.i] in "+-":
            signs += self.toks[self.i]
            self.i += 1
        if self.i >= len(self.toks):
            raise ValueError("nothing after **")
        value = signs + self.atom()
        if self.i < len(self.toks) and self.toks[self.i] == "**":
            self.i += 1
            value += "^{" + self.operand() + "}"
        return value

    def atom(self) -> str:
        tok = self.toks[self.i]
        self.i += 1
        nxt = self.toks[self.i] if self.i < len(self.toks) else ""
        if tok == "(":
            inner = self.sequence()
            self.close()
            return "(" + inner + ")"
        if tok in _PY_CALLS and nxt == "(":
            self.i += 1
            inner = self.sequence()
            self.close()
            left, right = _PY_CALLS[tok]
            return left + inner + right
        if tok in ("pi", "oo"):
            return _PY_NAMES[tok] or tok
        if tok == "*" and nxt != "*":
            return "\\cdot "
        return tok

    def close(self) -> None:
        if self.i >= len(self.toks) or self.toks[self.i] != ")":
            raise ValueError("unclosed parenthesis")
        self.i += 1


def python_to_latex(text: str) -> str:
    """`text` with Python/sympy syntax rewritten as LaTeX when it has any (`**`, `sqrt(`, `pi`, ...) and no LaTeX
    commands; otherwise unchanged. Raises ValueError on unbalanced parentheses."""
    if "\\" in text or not _PY_MARKERS.search(text):
        return text
    text = _PY_IMAGINARY.sub(r"\1i", text)  # Python's complex literal `1.0j`
    return _PythonSyntax(text).run()


@functools.lru_cache(maxsize=8192)
def parse_math(text: str) -> Parsed | ParseFailure:
    """`text` (an answer in `normalize_answer` form) as a sympy object, or why not."""
    reason = _precheck(text)
    if reason:
        return ParseFailure(reason)
    if not text.strip():
        return ParseFailure("empty answer")
    try:
        text = python_to_latex(text)
    except ValueError as exc:
        return ParseFailure(f"not parsed as math: {exc}")
    try:
        value = latex2sympy(text, normalization_config=_NORMALIZATION, conversion_config=_CONVERSION)
    except RecursionError:
        return ParseFailure("expression nested too deep for the parser")
    except Exception as exc:  # the parser signals every syntax error with a bare Exception
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return ParseFailure(f"not parsed as math: {first[:120]}")
    if value is None:
        return ParseFailure("not parsed as math")
    reason = _postcheck(value)
    if reason:
        return ParseFailure(reason)
    return Parsed(value, text)
