"""A safe, bounded parser for plain-text and simple-LaTeX arithmetic and algebra, building sympy constructively.

No `eval`, no `sympify(str)`, no `parse_expr`: a hand-written tokenizer and a Pratt parser build sympy objects
(`Integer`, `Rational`, `Symbol`, `Add`, `Mul`, `Pow`, ...) directly, under caps that keep every call fast:
input length (`MAX_LENGTH`), token count (`MAX_TOKENS`), nesting depth (`MAX_DEPTH`), literal digits
(`MAX_LITERAL_DIGITS`) and the size of any exact number it computes (`MAX_DIGITS`, estimated *before* a power,
factorial or binomial is computed). Any input gives a result or one of its own exceptions (`ArithSyntaxError`,
`TooLarge`, both `ArithError`), never another exception and never a hang.

    parse_expression("2\\frac{1}{2} + 3(4+5)")  -> 59/2
    parse_relation("2 \\cdot 21 = 42 < 50")     -> Relation(parts=(42, 42, 50), ops=("=", "<"), texts=(...))

What it accepts
  numbers      the plain grammar of `verifiers.numbers`: integers, decimals (`0.5`, `.5`; exact rationals,
               never floats), thousands separators (`1,234`, `1{,}234`, `1\\,234`, `1,\\!234`: a first group of
               1-3 digits not starting with 0, then groups of exactly three; a space separates numbers here),
               scientific `1.5e3` (digits right after the `e`), a mixed number `2\\frac{1}{2}` /
               `2 \\frac{1}{2}` (an integer literal right before a `\\frac` of two integer literals means
               2 + 1/2), percent `50%` / `50\\%` (= 50/100)
  operators    `+ - * / ^ **`, `\\cdot \\times \\div \\ast`, unicode `× · ÷ −`, unary `+ -` (`-2^2` = -4),
               implicit multiplication (`2x`, `3(4+5)`, `2\\pi`, `(a)(b)`, `x y`; two numbers side by side
               such as `2 3` are an error), postfix factorial `n!` and percent; powers are right-associative
               and `2^10` reads as 2^10 (the plain-text reading); unicode superscripts `x²`
  grouping     `( )`, `[ ]`, `{ }`, `\\left( \\right)` (and `[`, `\\{`, `|`), absolute value `|x|`,
               `\\lvert x \\rvert`
  commands     `\\frac \\dfrac \\tfrac \\cfrac{a}{b}` (also `\\frac12`), `\\sqrt{x}`, `\\sqrt[n]{x}`, `\\sqrt x`,
               `\\binom{n}{k}` (`\\dbinom`, `\\tbinom`), `\\pi` / `π`, `\\sin \\cos \\tan \\ln \\exp`,
               `\\log_{b}` (a `\\log` without a base is ambiguous and refused), `\\infty` is refused
  symbols      single letters (`x`, `y`), with a subscript `x_1` / `a_{12}`; `e` is a plain symbol unless
               `e_is_euler=True`; `i` is always a plain symbol
  relations    `= \\neq \\ne != < > \\le \\leq <= \\ge \\geq >= \\lt \\gt \\approx ≈ ≤ ≥ ≠` and chains
               `a = b = c` (`parse_relation`)
  ignored      LaTeX spacing (`\\, \\; \\! \\quad`), `\\displaystyle`, `\\left.`/`\\right.`, degree signs
               (`90^\\circ`, `°`: 90^\\circ reads as 90), `\\$`
Division by zero follows sympy (`1/0` is `zoo`): callers decide what a non-finite value means.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import sympy

from .. import numbers

__all__ = [
    "ArithError",
    "ArithSyntaxError",
    "TooLarge",
    "Relation",
    "parse_expression",
    "parse_relation",
    "substitute",
    "MAX_LENGTH",
    "MAX_TOKENS",
    "MAX_DEPTH",
    "MAX_DIGITS",
    "MAX_LITERAL_DIGITS",
    "MAX_FACTORIAL",
    "RELATIONS",
]

MAX_LENGTH = 5_000
"""Characters of input; longer text is refused (`TooLarge`)."""

MAX_TOKENS = 1_000
"""Tokens of input."""

MAX_DEPTH = 150
"""Parser recursion steps (each bracket level takes about three: some 50 nested brackets, powers or signs)."""

MAX_DIGITS = 10_000
"""Decimal digits any exact number built here may have (numerator or denominator); estimated before computing."""

MAX_LITERAL_DIGITS = numbers.MAX_DIGITS
"""Digits of one number literal."""

MAX_FACTORIAL = 3_000
"""Largest integer whose factorial is computed (3000! has 9131 digits)."""

MAX_SYMBOLIC_EXPONENT = 1_000
"""Largest integer exponent applied to a constant that is not a plain rational (`\\sqrt{2}^{1001}` is refused)."""

_MAX_ROOT_DIGITS = 100  # a root of a bigger rational stays unevaluated

RELATIONS = ("=", "!=", "<", ">", "<=", ">=", "~")
"""The relation operators `parse_relation` reports ("~" is `\\approx`)."""


class ArithError(ValueError):
    """The text could not be turned into an expression (see the two subclasses)."""


class ArithSyntaxError(ArithError):
    """The text is not in the accepted grammar (the message says where and why)."""


class TooLarge(ArithError):
    """The text, or a number it asks for, is over one of the caps (`MAX_LENGTH`, `MAX_DIGITS`, ...)."""


@dataclass(frozen=True)
class Relation:
    """A relation chain `parts[0] ops[0] parts[1] ops[1] ...`; `texts` are the source slices of the parts.

    A text without relation operators is a `Relation` with one part and no ops.
    """

    parts: tuple[Any, ...]
    ops: tuple[str, ...]
    texts: tuple[str, ...]


# -- tokens -------------------------------------------------------------------------------------------------

_NUM, _SYM, _OP, _CMD, _REL, _END = "num", "sym", "op", "cmd", "rel", "end"


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    start: int
    end: int
    tight: bool = False  # no whitespace before this token


_LATEX_REL = {
    "le": "<=",
    "leq": "<=",
    "leqslant": "<=",
    "ge": ">=",
    "geq": ">=",
    "geqslant": ">=",
    "neq": "!=",
    "ne": "!=",
    "lt": "<",
    "gt": ">",
    "approx": "~",
    "eq": "=",
}
_LATEX_OP = {"cdot": "*", "times": "*", "ast": "*", "div": "/"}
_IGNORED = {
    "displaystyle",
    "textstyle",
    "quad",
    "qquad",
    "left.",
    "right.",
    "nonumber",
    "limits",
    "!",
    ",",
    ";",
    ":",
    " ",
    "$",
    "middle",
}
_OPEN = {"(": ")", "[": "]", "{": "}", "\\{": "\\}", "|": "|", "\\lvert": "\\rvert", "\\vert": "\\vert"}
_FUNCS = {"sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "ln": sympy.log, "exp": sympy.exp}
_GREEK = frozenset(
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi rho sigma tau "
    "phi varphi chi psi omega".split()
)
_SUPERSCRIPTS = {"²": "2", "³": "3", "¹": "1", "⁰": "0", "⁴": "4", "⁵": "5", "⁶": "6", "⁷": "7", "⁸": "8", "⁹": "9"}
_UNICODE = {
    **dict.fromkeys(numbers.MINUS_SIGNS, ("op", "-")),
    "–": ("op", "-"),  # an en dash between operands is a typeset minus in a worked step (`10 – 4 = 6`)
    "×": ("op", "*"),
    "·": ("op", "*"),
    "⋅": ("op", "*"),
    "÷": ("op", "/"),
    "≤": ("rel", "<="),
    "≥": ("rel", ">="),
    "≠": ("rel", "!="),
    "≈": ("rel", "~"),
    "π": ("cmd", "pi"),
    "√": ("cmd", "usqrt"),
}
_NUMBER_RE = re.compile(
    rf"(?:{numbers.grouped(',', numbers.LATEX_SEPARATOR)}|[0-9]+)(?:\.[0-9]+)?(?:{numbers.EXPONENT})?|\.[0-9]+"
)
_CMD_RE = re.compile(r"\\(?:[A-Za-z]+|.)")
_DEGREE_RE = re.compile(r"\^\s*(?:\{\s*\\circ\s*\}|\\circ)")
_LOG_BASE_RE = re.compile(r"\s*_\s*(?:\{([^{}]{1,40})\}|([0-9A-Za-z]))")
_SUB_RE = re.compile(r"_(?:\{([A-Za-z0-9]{1,8})\}|([A-Za-z0-9]))")


def _tokenize(text: str) -> list[_Tok]:
    if len(text) > MAX_LENGTH:
        raise TooLarge(f"input is {len(text)} characters, over the {MAX_LENGTH} cap")
    toks: list[_Tok] = []
    i, n = 0, len(text)
    tight = True
    while i < n:
        if len(toks) > MAX_TOKENS:
            raise TooLarge(f"input has more than {MAX_TOKENS} tokens")
        c = text[i]
        if c.isspace() or c == "&":
            i += 1
            tight = False
            continue
        start = i
        if c in _SUPERSCRIPTS:
            digits = ""
            while i < n and text[i] in _SUPERSCRIPTS:
                digits += _SUPERSCRIPTS[text[i]]
                i += 1
            toks.append(_Tok(_OP, "^", start, start, tight))
            toks.append(_Tok(_NUM, digits, start, i, True))
        elif c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit()):
            m = _NUMBER_RE.match(text, i)
            if m is None:  # a non-ASCII digit
                raise ArithSyntaxError(f"unexpected character {c!r} at {i}")
            toks.append(_Tok(_NUM, m.group(), start, m.end(), tight))
            i = m.end()
        elif c.isascii() and c.isalpha():
            i += 1
            name = c
            m = _SUB_RE.match(text, i)
            if m:
                name = f"{c}_{m.group(1) or m.group(2)}"
                i = m.end()
            toks.append(_Tok(_SYM, name, start, i, tight))
        elif c == "\\":
            m = _CMD_RE.match(text, i)
            if m is None:
                raise ArithSyntaxError(f"a lone backslash at {i}")
            name = m.group()[1:]
            i = m.end()
            if name in ("left", "right"):
                nxt = text[i : i + 1]
                if nxt == ".":
                    i += 1
                    continue
                if nxt == "\\":
                    m2 = _CMD_RE.match(text, i)
                    if m2 is not None and m2.group() in ("\\{", "\\}", "\\lvert", "\\rvert", "\\vert", "\\|"):
                        continue  # the delimiter command comes next as its own token
                continue  # `\left(`: the bracket comes next
            if name in _IGNORED or name in ("%",):
                if name == "%":
                    toks.append(_Tok(_OP, "%", start, i, tight))
                continue
            if name in ("{", "}", "lvert", "rvert", "vert"):
                toks.append(_Tok(_OP, "\\" + name, start, i, tight))
            elif name in _LATEX_REL:
                toks.append(_Tok(_REL, _LATEX_REL[name], start, i, tight))
            elif name in _LATEX_OP:
                toks.append(_Tok(_OP, _LATEX_OP[name], start, i, tight))
            elif name == "circ":
                pass  # a bare degree mark
            elif name == "log":
                base = _LOG_BASE_RE.match(text, i)
                if base is None:
                    raise ArithSyntaxError(f"\\log without an explicit base is ambiguous (at {start})")
                toks.append(_Tok(_CMD, "log_" + (base.group(1) or base.group(2)), start, base.end(), tight))
                i = base.end()
            else:
                toks.append(_Tok(_CMD, name, start, i, tight))
        elif c == "^" and _DEGREE_RE.match(text, i):
            i = _DEGREE_RE.match(text, i).end()  # type: ignore[union-attr]
        elif c == "°" or c == "$":
            i += 1
        elif c in _UNICODE:
            kind, value = _UNICODE[c]
            toks.append(_Tok(kind, value, start, i + 1, tight))
            i += 1
        else:
            two = text[i : i + 2]
            if two in ("**", "<=", ">=", "!=", "=="):
                kind = _OP if two == "**" else _REL
                toks.append(_Tok(kind, {"**": "^", "==": "="}.get(two, two), start, i + 2, tight))
                i += 2
            elif c in "<>=":
                toks.append(_Tok(_REL, c, start, i + 1, tight))
                i += 1
            elif c in "+-*/^()[]{}!%|":
                toks.append(_Tok(_OP, c, start, i + 1, tight))
                i += 1
            else:
                raise ArithSyntaxError(f"unexpected character {c!r} at {i}")
        tight = True
    if len(toks) > MAX_TOKENS:
        raise TooLarge(f"input has more than {MAX_TOKENS} tokens")
    return toks


# -- bounded arithmetic -------------------------------------------------------------------------------------


def _digits(n: int) -> int:
    return int(abs(n).bit_length() * 0.30103) + 1


def _check_size(value: Any) -> Any:
    if isinstance(value, sympy.Rational):
        if _digits(value.p) > MAX_DIGITS or _digits(value.q) > MAX_DIGITS:
            raise TooLarge(f"a number with more than {MAX_DIGITS} digits")
    return value


def _integer_value(x: Any) -> int | None:
    return int(x) if isinstance(x, sympy.Integer) else None


def _power(base: Any, exp: Any) -> Any:
    """`base ** exp`, refusing results whose size is estimated over `MAX_DIGITS` before computing them."""
    if isinstance(exp, sympy.Rational):  # Integer included
        e = exp
        if isinstance(base, sympy.Rational):
            size = max(_digits(base.p), _digits(base.q))
            if abs(base.p) > 1 or base.q > 1:
                if abs(e.p) > 4 * MAX_DIGITS * e.q:  # any rational but 0 and ±1 grows past MAX_DIGITS (and the
                    raise TooLarge(f"power with an exponent of {_digits(e.p)} digits")  # estimate overflows a float)
                est = abs(e.p) / e.q * max(math.log10(abs(base.p)) if base.p else 0, math.log10(base.q))
                if est > MAX_DIGITS or (e.q > 1 and (size > MAX_LITERAL_DIGITS or e.q > 1_000)):
                    raise TooLarge(f"power with about {est:.0f} digits")
                if e.q > 1 and size > _MAX_ROOT_DIGITS:  # sympy would factor the radicand: keep it as written
                    return _guard(lambda: sympy.Pow(base, exp, evaluate=False))
        elif not base.free_symbols and abs(e.p) > MAX_SYMBOLIC_EXPONENT and base not in (sympy.S.One, -sympy.S.One):
            raise TooLarge(f"exponent {e} on a constant that is not a plain rational")
    return _check_size(_guard(lambda: sympy.Pow(base, exp)))


def _factorial(x: Any) -> Any:
    n = _integer_value(x)
    if n is not None and n > MAX_FACTORIAL:
        raise TooLarge(f"factorial of {n} (over {MAX_FACTORIAL})")
    if isinstance(x, sympy.Rational) and not isinstance(x, sympy.Integer):
        return _guard(lambda: sympy.factorial(x, evaluate=False))
    return _guard(lambda: sympy.factorial(x))


def _binomial(n: Any, k: Any) -> Any:
    nv, kv = _integer_value(n), _integer_value(k)
    if nv is not None and abs(nv) > 10 * MAX_FACTORIAL:
        raise TooLarge(f"binomial with n = {nv}")
    if nv is not None and kv is not None and 0 <= kv <= nv:
        small = min(kv, nv - kv)
        est = (math.lgamma(nv + 1) - math.lgamma(small + 1) - math.lgamma(nv - small + 1)) / math.log(10)
        if est > MAX_DIGITS:
            raise TooLarge(f"binomial with about {est:.0f} digits")
    if kv is not None and abs(kv) > 10 * MAX_FACTORIAL:
        raise TooLarge(f"binomial with k = {kv}")
    return _guard(lambda: sympy.binomial(n, k))


def _guard(build: Any) -> Any:
    try:
        return build()
    except ArithError:
        raise
    except (RecursionError, ValueError, TypeError, ArithmeticError, AttributeError, NotImplementedError) as exc:
        raise ArithSyntaxError(f"cannot build the expression: {type(exc).__name__}: {exc}") from None


def _mul(a: Any, b: Any) -> Any:
    return _check_size(_guard(lambda: sympy.Mul(a, b)))


def _div(a: Any, b: Any) -> Any:
    return _check_size(_guard(lambda: sympy.Mul(a, sympy.Pow(b, -1))))


def _add(a: Any, b: Any) -> Any:
    return _check_size(_guard(lambda: sympy.Add(a, b)))


def _number(text: str) -> Any:
    mantissa, _, exponent = numbers.ungroup(text).lower().partition("e")
    value = numbers.decimal_value(mantissa, exponent or None)
    if value is None:
        raise TooLarge(
            f"a number literal over {MAX_LITERAL_DIGITS} digits or with an exponent over "
            f"{numbers.MAX_EXPONENT}: {text[:40]}"
        )
    return _check_size(sympy.Rational(value.numerator, value.denominator))


# -- the parser -------------------------------------------------------------------------------------------

_ADD_BP, _MUL_BP, _UNARY_BP, _POW_BP = 10, 20, 30, 40
_ATOM_START_OPS = {"(", "[", "{", "\\{", "|", "\\lvert", "\\vert"}


class _Parser:
    def __init__(self, text: str, *, e_is_euler: bool) -> None:
        self.text = text
        self.toks = _tokenize(text)
        self.pos = 0
        self.depth = 0
        self.e_is_euler = e_is_euler
        self.closers: list[str] = []  # open bars, so `|` in postfix position closes

    # -- helpers
    def peek(self, offset: int = 0) -> _Tok:
        j = self.pos + offset
        if j < len(self.toks):
            return self.toks[j]
        return _Tok(_END, "", len(self.text), len(self.text))

    def take(self) -> _Tok:
        tok = self.peek()
        self.pos += 1
        return tok

    def expect(self, kind: str, text: str) -> _Tok:
        tok = self.peek()
        if tok.kind != kind or tok.text != text:
            found = tok.text or "the end"
            raise ArithSyntaxError(f"expected {text!r} at {tok.start}, found {found!r}")
        return self.take()

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise TooLarge(f"nesting deeper than {MAX_DEPTH}")

    # -- grammar
    def relation(self) -> Relation:
        parts, ops, texts = [], [], []
        start = 0
        parts.append(self.expression())
        texts.append(self.text[start : self.toks[self.pos - 1].end].strip())
        while self.peek().kind == _REL:
            rel = self.take()
            ops.append(rel.text)
            if self.peek().kind == _END:
                raise ArithSyntaxError("a relation with nothing on its right side")
            start = rel.end
            parts.append(self.expression())
            texts.append(self.text[start : self.toks[self.pos - 1].end].strip())
        tok = self.peek()
        if tok.kind != _END:
            raise ArithSyntaxError(f"unexpected {tok.text!r} at {tok.start}")
        return Relation(tuple(parts), tuple(ops), tuple(texts))

    def expression(self, min_bp: int = 0) -> Any:
        self.enter()
        left = self.prefix()
        while True:
            tok = self.peek()
            if tok.kind == _OP and tok.text in ("+", "-") and min_bp < _ADD_BP:
                self.take()
                right = self.expression(_ADD_BP)
                left = _add(left, right if tok.text == "+" else _mul(sympy.S.NegativeOne, right))
            elif tok.kind == _OP and tok.text in ("*", "/") and min_bp < _MUL_BP:
                self.take()
                right = self.expression(_MUL_BP)
                left = _mul(left, right) if tok.text == "*" else _div(left, right)
            elif self.starts_atom(tok) and min_bp < _MUL_BP:
                if tok.kind == _NUM and self.peek(-1).kind == _NUM:
                    raise ArithSyntaxError(f"two numbers side by side at {tok.start}")
                left = _mul(left, self.expression(_MUL_BP))
            elif tok.kind == _OP and tok.text == "^" and min_bp < _POW_BP:
                raise ArithSyntaxError(f"unexpected '^' at {tok.start}")
            else:
                break
        self.depth -= 1
        return left

    def starts_atom(self, tok: _Tok) -> bool:
        if tok.kind in (_NUM, _SYM):
            return True
        if tok.kind == _CMD:
            return True
        if tok.kind == _OP and tok.text in _ATOM_START_OPS:
            if tok.text in ("|", "\\vert") and self.closers and self.closers[-1] == tok.text:
                return False  # this bar closes the open one
            return True
        return False

    def prefix(self) -> Any:
        tok = self.peek()
        if tok.kind == _OP and tok.text in ("-", "+"):
            self.take()
            operand = self.expression(_UNARY_BP)
            return _mul(sympy.S.NegativeOne, operand) if tok.text == "-" else operand
        return self.power()

    def power(self) -> Any:
        self.enter()
        base = self.postfix(self.atom())
        if self.peek().kind == _OP and self.peek().text == "^":
            self.take()
            nxt = self.peek()
            if nxt.kind == _OP and nxt.text in ("-", "+"):
                self.take()
                exp = self.power()
                exp = _mul(sympy.S.NegativeOne, exp) if nxt.text == "-" else exp
            else:
                exp = self.power()
            base = _power(base, exp)
        self.depth -= 1
        return base

    def postfix(self, value: Any) -> Any:
        while True:
            tok = self.peek()
            if tok.kind == _OP and tok.text == "!":
                self.take()
                value = _factorial(value)
            elif tok.kind == _OP and tok.text == "%":
                self.take()
                value = _div(value, sympy.Integer(100))
            else:
                return value

    def group(self) -> Any:
        """A `{...}` argument, or a single character/token (as in `\\frac12`, `\\sqrt2`, `\\sqrt x`)."""
        tok = self.peek()
        if tok.kind == _OP and tok.text == "{":
            self.take()
            self.closers.append("}")
            value = self.expression()
            self.closers.pop()
            self.expect(_OP, "}")
            return value
        if tok.kind == _NUM:
            self.take()
            if tok.text.isdigit() and len(tok.text) > 1:  # `\frac12`: one digit per argument
                rest = _Tok(_NUM, tok.text[1:], tok.start + 1, tok.end, True)
                self.toks.insert(self.pos, rest)
                return sympy.Integer(int(tok.text[0]))
            return _number(tok.text)
        if tok.kind == _SYM:
            self.take()
            return self.symbol(tok.text)
        if tok.kind == _CMD and tok.text == "pi":
            self.take()
            return sympy.pi
        raise ArithSyntaxError(f"expected an argument in braces at {tok.start}")

    def symbol(self, name: str) -> Any:
        if name == "e" and self.e_is_euler:
            return sympy.E
        return sympy.Symbol(name)

    def atom(self) -> Any:
        self.enter()
        tok = self.take()
        try:
            if tok.kind == _NUM:
                value = _number(tok.text)
                nxt = self.peek()
                if nxt.kind == _CMD and nxt.text in ("frac", "dfrac", "tfrac") and tok.text.isdigit():
                    save = self.pos
                    self.take()
                    num, den = self.group(), self.group()
                    if isinstance(num, sympy.Integer) and isinstance(den, sympy.Integer) and den != 0:
                        return _add(value, _div(num, den))  # mixed number 2\frac{1}{2}
                    self.pos = save
                return value
            if tok.kind == _SYM:
                return self.symbol(tok.text)
            if tok.kind == _OP and tok.text in _OPEN:
                close = _OPEN[tok.text]
                if tok.text == "\\vert":
                    close = "\\vert"
                self.closers.append(close)
                value = self.expression()
                self.closers.pop()
                end = self.peek()
                if end.kind != _OP or end.text != close:
                    if tok.text == "\\lvert" and end.text == "|":
                        pass
                    else:
                        raise ArithSyntaxError(f"expected {close!r} at {end.start}, found {end.text or 'the end'!r}")
                self.take()
                if tok.text in ("|", "\\lvert", "\\vert"):
                    return _guard(lambda: sympy.Abs(value))
                return value
            if tok.kind == _CMD:
                return self.command(tok)
            raise ArithSyntaxError(f"unexpected {tok.text or 'end of input'!r} at {tok.start}")
        finally:
            self.depth -= 1

    def command(self, tok: _Tok) -> Any:
        name = tok.text
        if name == "pi":
            return sympy.pi
        if name in ("frac", "dfrac", "tfrac", "cfrac"):
            num = self.group()
            den = self.group()
            return _div(num, den)
        if name in ("binom", "dbinom", "tbinom"):
            n = self.group()
            k = self.group()
            return _binomial(n, k)
        if name == "sqrt":
            index = None
            if self.peek().kind == _OP and self.peek().text == "[":
                self.take()
                self.closers.append("]")
                index = self.expression()
                self.closers.pop()
                self.expect(_OP, "]")
            radicand = self.group() if self.peek().kind != _OP or self.peek().text == "{" else self.atom()
            if index is None:
                return _power(radicand, sympy.Rational(1, 2))
            if isinstance(index, sympy.Integer) and index > 0:
                return _power(radicand, sympy.Rational(1, int(index)))
            return _power(radicand, _guard(lambda: sympy.Pow(index, -1)))
        if name in _FUNCS:
            if self.peek().kind == _OP and self.peek().text == "^":
                raise ArithSyntaxError(f"a power of \\{name} (as in \\{name}^2 x) is not accepted")
            arg = self.power()
            return _guard(lambda: _FUNCS[name](arg))
        if name.startswith("log_"):
            base = parse_expression(name[4:], e_is_euler=self.e_is_euler)
            arg = self.power()
            return _check_size(_guard(lambda: sympy.log(arg, base)))
        if name in _GREEK:
            return sympy.Symbol(name)
        if name == "usqrt":  # unicode radical: the whole following atom, as in √16
            return _power(self.postfix(self.atom()), sympy.Rational(1, 2))
        raise ArithSyntaxError(f"unsupported command \\{name} at {tok.start}")


def _parse(text: str, e_is_euler: bool) -> Relation:
    if not isinstance(text, str):
        raise ArithSyntaxError(f"expected a string, got {type(text).__name__}")
    parser = _Parser(text, e_is_euler=e_is_euler)
    if not parser.toks:
        raise ArithSyntaxError("empty input")
    try:
        return parser.relation()
    except RecursionError:
        raise TooLarge("nesting too deep") from None


def parse_relation(text: str, *, e_is_euler: bool = False) -> Relation:
    """`text` as a relation chain (`a = b`, `a = b = c`, `a < b`, or just `a`); raises `ArithError`."""
    return _parse(text, e_is_euler)


def parse_expression(text: str, *, e_is_euler: bool = False) -> Any:
    """`text` as one sympy expression (no relation operator); raises `ArithError`."""
    relation = _parse(text, e_is_euler)
    if relation.ops:
        raise ArithSyntaxError(f"a relation ({relation.ops[0]!r}), not an expression")
    return relation.parts[0]


_FUNC_BUILDERS = {sympy.factorial: lambda args: _factorial(args[0]), sympy.binomial: lambda args: _binomial(*args)}


def substitute(expr: Any, values: dict[Any, Any], *, _depth: int = 0) -> Any:
    """`expr` with symbols replaced by `values`, rebuilt through the same size guards as the parser.

    Use this rather than `expr.subs` on parsed text: a substituted value can make a power or factorial huge.
    Raises `TooLarge` (or `ArithSyntaxError` when sympy cannot rebuild a node).
    """
    if _depth > 4 * MAX_DEPTH:
        raise TooLarge("expression too deep to substitute into")
    if isinstance(expr, sympy.Symbol):
        return values.get(expr, expr)
    if not getattr(expr, "args", ()) or not (expr.free_symbols & set(values)):
        return expr
    args = [substitute(a, values, _depth=_depth + 1) for a in expr.args]
    if isinstance(expr, sympy.Add):
        out = args[0]
        for a in args[1:]:
            out = _add(out, a)
        return out
    if isinstance(expr, sympy.Mul):
        out = args[0]
        for a in args[1:]:
            out = _mul(out, a)
        return out
    if isinstance(expr, sympy.Pow):
        return _power(args[0], args[1])
    builder = _FUNC_BUILDERS.get(expr.func)
    if builder is not None:
        return builder(args)
    return _check_size(_guard(lambda: expr.func(*args)))
