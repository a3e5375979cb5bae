"""The engine of `math.steps`: tool-grounded checking of the computations in a worked solution (GroundedPRM / VPR).

Imported lazily by `verifiers.math.steps` (it needs sympy). No reference is needed. It splits the response into
steps, finds the explicit computational claims it can read with the bounded parser (`verifiers.math.arith`), checks
each one exactly with sympy, and rewards a solution whose checked claims all hold (min-aggregation: see Verdict).
One `StepVerdict` per checked claim; the first wrong one is named in the evidence.

Steps
  Display math (`\\[...\\]`, `$$...$$`, `\\begin{align}...\\end{align}` and kin) is split into rows at `\\\\`; a
  row that starts with a relation (`&= 5`) continues the previous row's last side. Other text is split into
  lines, and lines into sentences (at `.`, `!`, `?` followed by a capital, never inside math). Step numbers
  count every non-empty step, 1-based.

Claims
  Inside math (`\\(...\\)`, `$...$`, display rows) a segment is cut at top-level commas, `;`, `\\quad`,
  `\\implies`, `\\Rightarrow`, `\\therefore`, `\\text{...}` and kin; each piece with a relation operator is a
  claim, and a chain `a = b = c` gives one claim per link. In plain text, maximal runs of numbers, single
  letters, operators and brackets that hold a relation and a digit are claims ("2 x 3" between numbers reads
  as a product). A piece that borders an operator word ("of", "times", "and", ...; in text or in `\\text{}`)
  is not checked: its other operand was cut off ("20% of 50 = 10").

Variables
  `x = 3` (a single symbol equal to a closed expression) binds x; it is not itself a claim. A binding is used
  by the later claims of its own step and of the next `binding_window` steps (default 2), a later `x = ...`
  replaces it, and it is dropped when the same step binds x to two values ("x = 2 or x = 3") or lists values
  ("x = 1, 2"). A step that opens a case or a supposition ("Case 2:", "suppose", "assume", "consider", "if")
  drops every earlier binding. A claim is checked only
  when every symbol in it is bound, or when it is an identity in its free symbols (`(a+b)^2 = a^2 + 2ab + b^2`
  is checked by expanding); an equation in unbound symbols (`x^2 = 4`) is an equation to solve, not a claim,
  and is skipped, as is anything the parser cannot read. Skipped pieces that hold a relation are counted as
  "unchecked" in the evidence. The window counts only the steps that state no relation (prose), bind a new
  value or open a case: a step of claims alone (checked or not, repeated or not) does not count, so claims
  inserted between a binding and its use never move the use out of reach (prose still does, except a lead-in
  that the display math after it completes: "We get \\[ ... \\]" is one step of the clock). Prose cannot hide a
  wrong use either: a claim left unchecked that fails under a value bound before the window keeps the verdict
  UNDECIDED, never CORRECT (the name may have been reused, so it is not called wrong).

Tolerance
  `=` is exact (rational arithmetic; irrational values are compared to 40 significant digits), except that a
  side written as a decimal with k places (`0.333`, `33.3\\%`) may be the other side rounded or truncated to
  10^-k (`1/3 = 0.33`, `2/3 = 0.66` and `0.67` hold; `1/3 = 0.4` and `\\pi = 3.2` do not); a plain integer side
  gets no tolerance. `\\approx` passes when the written side is the other one rounded to its last place (an
  integer side: to the units; `5/3 \\approx 2` holds, `\\approx 1` does not) or within `approx_rel_tol` (default
  1%) of the larger side. `<`, `>`, `\\le`, `\\ge`, `\\neq` are exact. A non-finite or non-real value is
  skipped. A percent sign reads as a label (`\\frac{1}{4} \\times 100 = 25\\%`) only on a side that is just a
  number, never on a factor (`5 \\times 20\\% = 100` is wrong).

Trivial claims
  A claim is trivial when it computes nothing: two written numbers compared (`42 = 42`, `3 < 4`, `0.5 = 50\\%`),
  one-digit numbers under `+ - × ÷` with whole-number sides (`1 + 1 = 2`, `8 / 4 = 2`), or an identity whose two
  sides are the same text (`x = x`). A trivial claim is checked like any other (a wrong one is wrong) but is
  never credited: it cannot make a response CORRECT.

Verdict (min-aggregation)
  score = min over the checked claims of 1 (holds) / 0 (wrong): 1.0 when every checked claim holds, 0.0 as soon
  as one is wrong, whatever the number of claims that hold. This is the solution-level "minimum of step scores"
  of Math-Shepherd (Wang et al. 2024) and the product of step correctness of PRM800K (Lightman et al. 2023,
  "Let's verify step by step") with exact 0/1 checks; Gao et al. 2024 ("On designing effective RL reward at
  training time for LLM reasoning") show that rewarding the share of good steps is farmed by adding steps. So:
  adding true claims (trivial, repeated, unrelated, anywhere) never raises the score; any wrong claim costs the
  whole reward, and fixing every wrong claim of a solution that has a credited claim raises it from 0 to 1.
  - INCORRECT, 0.0: some checked claim is wrong (the first one is named in `first_wrong_step`).
  - UNDECIDED, 0.0: no claim could be checked; or every checked claim is trivial (a response of `1 + 1 = 2`
    solved nothing); or `max_claims` was reached with claims left (an error may hide in the rest).
  - CORRECT, 1.0: every checked claim holds and at least one is not trivial.
  There is no partial credit: a share of claims that hold is what padding farms. The per-claim StepVerdicts
  (1.0 / 0.0 each) stay for analysis. This verifier checks the computations written, not whether they solve the
  problem (it has no reference): reward a solution with it next to an answer check (e.g. the `math` domain).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy

from .. import numbers
from ..text import clip
from ..verdict import Status, StepVerdict, Verdict
from .arith import ArithError, Relation, parse_relation, substitute

__all__ = ["StepChecker", "split_steps", "Step"]

MAX_STEP_CHARS = 4_000
"""A step longer than this is not searched for claims (it is not a computation a reader could follow)."""

_HYPOTHESIS = re.compile(r"(?i)\b(?:case|suppose|assume|assuming|consider|if)\b")
_PERCENT_END = re.compile(r"\\?%\s*$")
_SHOW_OP = {"=": "=", "!=": "\\neq", "<": "<", ">": ">", "<=": "\\le", ">=": "\\ge", "~": "\\approx"}
_OPERATOR_WORDS = frozenset(
    "of times plus minus by over divided multiplied squared cubed power percent less more than add added adding "
    "subtract subtracted subtracting product sum half twice thrice double triple root factorial choose mod modulo "
    "per out remainder rem quotient".split()
)
"""Words that take an operand: a claim right next to one may have lost that operand ("20% of 50 = 10")."""
_PLAIN_OPERATOR_WORDS = _OPERATOR_WORDS | {"and", "from", "to"}
"""In plain text, also the words that join operands ("the sum of 2 and 3 = 5")."""


# -- steps --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One step of a solution: its 1-based index, its text, and the display-math block it is a row of (or None)."""

    index: int
    text: str
    block: int | None = None

    @property
    def math(self) -> bool:
        return self.block is not None


_DISPLAY_ENVS = "equation|align|aligned|alignat|gather|gathered|eqnarray|multline|split|displaymath|array"
_DISPLAY_OPEN = re.compile(r"\\\[|\$\$|\\begin\{(" + _DISPLAY_ENVS + r")(\*?)\}")
_ROW_BREAK = re.compile(r"\\\\(?:\[[^\]]{0,20}\])?")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def _display_blocks(text: str) -> list[tuple[bool, str]]:
    """The text cut into (is_display_math, chunk) pieces, in order. Linear: an opener never closed is text."""
    out: list[tuple[bool, str]] = []
    pos = last = 0
    unclosed: set[str] = set()
    while True:
        m = _DISPLAY_OPEN.search(text, pos)
        if m is None:
            break
        opener = m.group()
        closer = "\\]" if opener == "\\[" else "$$" if opener == "$$" else f"\\end{{{m.group(1)}{m.group(2)}}}"
        end = -1 if closer in unclosed else text.find(closer, m.end())
        if end < 0:
            unclosed.add(closer)
            pos = m.end()
            continue
        if m.start() > last:
            out.append((False, text[last : m.start()]))
        out.append((True, text[m.end() : end]))
        pos = last = end + len(closer)
    if last < len(text):
        out.append((False, text[last:]))
    return out


_INLINE = re.compile(r"\\\((.*?)\\\)|(?<!\\)\$(.+?)(?<!\\)\$")


def _inline_spans(line: str) -> list[tuple[int, int, str]]:
    """(start, end, content) of inline math in one line: `\\(...\\)` and `$...$` (not `\\$`)."""
    if len(line) > MAX_STEP_CHARS:
        return []
    return [(m.start(), m.end(), m.group(1) if m.group(1) is not None else m.group(2)) for m in _INLINE.finditer(line)]


def _sentences(line: str) -> list[str]:
    spans = _inline_spans(line)
    cuts = [0]
    for m in _SENTENCE_END.finditer(line):
        if not any(s < m.start() < e for s, e, _ in spans):
            cuts.append(m.end())
    cuts.append(len(line))
    return [line[a:b] for a, b in zip(cuts, cuts[1:])]


_FENCE = re.compile(r"^[ \t]*(```|~~~)", re.MULTILINE)


def _without_code(text: str) -> str:
    """The text with fenced code blocks (```...```) blanked out: code is not a worked computation."""
    if "```" not in text and "~~~" not in text:
        return text
    out, last, inside = [], 0, False
    for m in _FENCE.finditer(text):
        if not inside:
            out.append(text[last : m.start()])
        else:
            out.append("\n")
        inside, last = not inside, m.end()
    if not inside:
        out.append(text[last:])
    return "".join(out)


def split_steps(text: str) -> list[Step]:
    """The steps of a worked solution (see the module docstring): display rows, then lines and sentences."""
    steps: list[Step] = []
    for block, (is_math, chunk) in enumerate(_display_blocks(_without_code(text))):
        pieces: list[tuple[int | None, str]]
        if is_math:
            pieces = [(block, row) for row in _ROW_BREAK.split(chunk)]
        else:
            pieces = [(None, s) for line in chunk.split("\n") for s in _sentences(line)]
        for where, piece in pieces:
            if piece.strip(" \t\r\n.,;:*#-"):
                steps.append(Step(len(steps) + 1, piece.strip(), where))
    return steps


# -- claims -------------------------------------------------------------------------------------------------

_REL_CHARS = re.compile(r"=|<|>|≤|≥|≠|≈|\\(?:le|leq|ge|geq|neq|ne|lt|gt|approx|leqslant|geqslant)(?![A-Za-z])")
_LEADING_REL = re.compile(
    r"^\s*(?:==|<=|>=|!=|=|<|>|≤|≥|≠|≈|\\(?:leq|le|geq|ge|neq|ne|lt|gt|approx|leqslant|geqslant)(?![A-Za-z]))"
)
_TRAILING_REL = re.compile(
    r"(?:==|<=|>=|!=|=|<|>|≤|≥|≠|≈|\\(?:leq|le|geq|ge|neq|ne|lt|gt|approx|leqslant|geqslant)(?![A-Za-z]))\s*$"
)
_TEXT_CMD = re.compile(
    r"\\(?:text|textbf|textit|textrm|textnormal|mathrm|mbox|hbox|operatorname|mathbf|mathit|emph)\s*\{([^{}]*)\}"
)
_DROP = re.compile(
    r"\\(?:begin|end)\{[^{}]*\}(?:\{[^{}]*\})?|\\(?:tag|label)\*?\{[^{}]*\}|\\(?:nonumber|notag|displaystyle)"
    r"(?![A-Za-z])|\\(?:boxed|fbox)(?![A-Za-z])|&"
)
_SEPARATORS = re.compile(
    r"\\(?:quad|qquad|implies|impliedby|Rightarrow|Longrightarrow|rightarrow|Leftrightarrow|iff|to|therefore|"
    r"because|land|lor|wedge|vee|text|mid)(?![A-Za-z])|;|\\\\"
)
_SEP, _POISON = "\x00", "\x01"
_WORD = re.compile(r"[A-Za-z]+")


def _is_operator_text(words: str, vocabulary: frozenset[str] = _OPERATOR_WORDS) -> bool:
    found = _WORD.findall(words.lower())
    return bool(found) and (found[0] in vocabulary or found[-1] in vocabulary)


def _cuts_operand(token: str | None, vocabulary: frozenset[str]) -> bool:
    """Whether the word (or LaTeX command) right next to a claim may hold one of its operands."""
    if token is None:
        return False
    return token.startswith("\\") or _is_operator_text(token, vocabulary)


def _split_top_level(text: str) -> list[str]:
    """Cut at separators and at commas outside brackets (a comma between digit groups of three is kept)."""
    out: list[str] = []
    depth, last = 0, 0
    for i, c in enumerate(text):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth = max(0, depth - 1)
        elif c in (_SEP, _POISON):
            out.append(text[last:i])
            out.append(c)
            last = i + 1
        elif c == "," and depth == 0 and not (i > 0 and text[i - 1] == "\\"):
            if i > 0 and text[i - 1].isdigit() and re.match(r"[0-9]{3}(?![0-9])", text[i + 1 : i + 5]):
                continue  # 1,234
            out.append(text[last:i])
            out.append(_SEP)
            last = i + 1
    out.append(text[last:])
    return out


@dataclass
class _Piece:
    text: str
    poisoned: bool = False
    in_list: bool = False


def _math_pieces(
    segment: str, *, poison_before: bool = False, poison_after: bool = False, carry: str | None = None
) -> list[_Piece]:
    """Candidate claim texts in one math segment, with the ones bordering an operator word marked poisoned."""
    text = _TEXT_CMD.sub(lambda m: _POISON if _is_operator_text(m.group(1)) else _SEP, segment)
    text = _DROP.sub(" ", text)
    text = _SEPARATORS.sub(_SEP, text)
    parts = _split_top_level(text)
    pieces: list[_Piece] = []
    poison_next = poison_before
    for part in parts:
        if part == _POISON:
            if pieces:
                pieces[-1].poisoned = True
            poison_next = True
            continue
        if part == _SEP:
            continue
        piece = _Piece(part.strip().rstrip(".,:;").strip(), poisoned=poison_next)
        poison_next = False
        if piece.text:
            pieces.append(piece)
    if pieces and poison_after:
        pieces[-1].poisoned = True
    if pieces and carry and _LEADING_REL.match(_DROP.sub(" ", segment)):
        pieces[0].text = f"{carry} {pieces[0].text}"  # `&= 5` continues the row above
    in_list = any(not _REL_CHARS.search(p.text) for p in pieces)
    out = []
    for piece in pieces:
        piece.text = _TRAILING_REL.sub("", _LEADING_REL.sub("", piece.text, count=1)).strip()
        piece.in_list = in_list
        if _REL_CHARS.search(piece.text):
            out.append(piece)
    return out


_PLAIN = re.compile(
    rf"(?:(?:{numbers.grouped(',')}|[0-9]+)(?:\.[0-9]+)?|(?<![A-Za-z'])[A-Za-z](?![A-Za-z'])|\*\*"
    r"|\\(?:cdot|times|div|[dt]?frac|sqrt|pi|left|right|leq?|geq?|neq?|approx)(?![A-Za-z])"
    r"|[-+*/^×÷·−=<>≤≥≠≈!%()\[\]{}]|[ \t]+)+"
)
_TIMES_X = re.compile(r"(?<=[0-9])\s*x\s*(?=[0-9])")
_LEADING_ARTICLES = re.compile(r"^(?:[A-Za-z]\s+)+(?=[0-9(])")


def _plain_pieces(text: str) -> list[_Piece]:
    """Candidate claims in text outside math: maximal runs of numbers, single letters, operators, brackets."""
    out: list[_Piece] = []
    for m in _PLAIN.finditer(text):
        span = m.group()
        if not _REL_CHARS.search(span) or not any(c.isdigit() for c in span):
            continue
        before = text[max(0, m.start() - 30) : m.start()].split()
        after = text[m.end() : m.end() + 30].split()
        span = span.strip(" \t*")
        if span.endswith("!") and (m.end() == len(text) or text[m.end()].isspace()):
            span = span[:-1]  # "= 8!" closing a sentence is an exclamation
        if span[:1] in "-+" and span[1:2].isspace() and not text[: m.start()].strip():
            span = span[1:]  # a list bullet, not a sign
        span = _LEADING_ARTICLES.sub("", _TIMES_X.sub(" × ", span))
        out.extend(
            _math_pieces(
                span,
                poison_before=_cuts_operand(before[-1] if before else None, _PLAIN_OPERATOR_WORDS),
                poison_after=_cuts_operand(after[0] if after else None, _OPERATOR_WORDS),
            )
        )
    return out


def _step_pieces(step: Step, carry: str | None) -> list[_Piece]:
    if len(step.text) > MAX_STEP_CHARS:
        return []
    if step.math:
        return _math_pieces(step.text, carry=carry)
    pieces: list[_Piece] = []
    last = 0
    for start, end, content in _inline_spans(step.text):
        pieces.extend(_plain_pieces(step.text[last:start]))
        before = step.text[max(0, start - 30) : start].split()
        after = step.text[end : end + 30].split()
        pieces.extend(
            _math_pieces(
                content,
                poison_before=_cuts_operand(before[-1] if before else None, _OPERATOR_WORDS),
                poison_after=_cuts_operand(after[0] if after else None, _OPERATOR_WORDS),
            )
        )
        last = end
    pieces.extend(_plain_pieces(step.text[last:]))
    return pieces


# -- checking one relation ----------------------------------------------------------------------------------

_LITERAL = re.compile(
    rf"^\s*[-+{numbers.MINUS_SIGNS}]?\s*(?:{numbers.grouped(',', numbers.LATEX_SEPARATOR)}|[0-9]+)?"
    r"(?:\.([0-9]+))?\s*(\\?%)?\s*$"
)
_PRECISION = 40


def _unit(text: str) -> Fraction | None:
    """One unit in the last place of a side written as a plain number literal (None when it is not one)."""
    m = _LITERAL.match(text)
    if m is None or not any(c.isdigit() for c in text):
        return None
    unit = Fraction(1, 10 ** len(m.group(1) or ""))
    return unit / 100 if m.group(2) else unit


def _show(value: Any) -> str:
    try:
        if isinstance(value, sympy.Rational):
            if value.p.bit_length() < 100 and value.q.bit_length() < 100:
                return str(value)
            return str(sympy.Float(value, 15))
        if isinstance(value, sympy.Basic) and value.is_number:
            exact = str(value)
            approx = str(value.evalf(15))
            return exact if len(exact) <= 40 and exact == approx else f"{clip(exact, 60)} ≈ {approx}"
        return clip(str(value), 80)
    except Exception:  # printing a huge or odd value must not cost the verdict
        return "<value>"


def _is_finite_real(value: Any) -> bool:
    return bool(value.is_number) and value.is_finite is not False and not value.has(sympy.zoo, sympy.nan)


def _numeric(value: Any) -> sympy.Float | None:
    """`value` as a 40-digit real float, or None when it does not evaluate to one."""
    v = value.evalf(_PRECISION)
    if isinstance(v, sympy.Number) and v.is_real and v.is_finite:
        return sympy.Float(v, _PRECISION)
    return None


def _difference(lhs: Any, rhs: Any) -> tuple[Any, Any]:
    """|lhs - rhs| and the scale max(1, |lhs|, |rhs|), as exact rationals when possible, else as 40-digit floats."""
    diff = lhs - rhs
    if isinstance(diff, sympy.Rational) and isinstance(lhs, sympy.Rational) and isinstance(rhs, sympy.Rational):
        return abs(diff), max(sympy.Integer(1), abs(lhs), abs(rhs))
    d, a, b = (_numeric(sympy.Abs(v)) for v in (diff, lhs, rhs))
    if d is None or a is None or b is None:
        return None, None
    return d, max(sympy.Float(1), a, b)


def _rounds(value: Any, approx: Any, unit: Fraction, diff: Any, *, truncation: bool) -> bool:
    """Whether `approx` (written to `unit`, its last place) is `value` rounded to that place, or with `truncation`
    cut there (toward zero); `diff` is |value - approx|."""
    step = sympy.Rational(unit.numerator, unit.denominator)
    try:
        if bool(diff <= step / 2):
            return True
        return truncation and bool(diff < step) and bool(abs(approx) <= abs(value)) and bool(approx * value >= 0)
    except TypeError:  # a comparison sympy cannot decide
        return False


def _closed_check(lhs: Any, op: str, rhs: Any, lhs_text: str, rhs_text: str, rel_tol: float) -> tuple[str, str]:
    """("holds" | "fails" | "skip", detail) for a relation between two closed (symbol-free) values."""
    if not (_is_finite_real(lhs) and _is_finite_real(rhs)):
        return "skip", "a value is not a finite number"
    if op in ("=", "~", "!="):
        diff, scale = _difference(lhs, rhs)
        if diff is None:
            return "skip", "a value could not be evaluated"
        exact = diff == 0 if isinstance(diff, sympy.Rational) else diff <= scale * sympy.Float(10) ** (5 - _PRECISION)
        if op == "!=":
            return ("holds" if not exact else "fails"), ""
        if exact:
            return "holds", ""
        if op == "=":
            # a decimal side is the other side rounded or truncated to its last place, never just near it
            # (`1/3 = 0.33` and `2/3 = 0.66` hold; `1/3 = 0.4` and `\pi = 3.2` do not)
            written = [
                (u, side)
                for side, text in ((lhs, lhs_text), (rhs, rhs_text))
                if "." in text and (u := _unit(text)) is not None
            ]
            if written:
                unit, approx = max(written, key=lambda w: w[0])
                value = rhs if approx is lhs else lhs
                if _rounds(value, approx, unit, diff, truncation=True):
                    return "holds", f"rounded or truncated to {len(str(unit.denominator)) - 1} decimals"
            return "fails", ""
        units = [(u, side) for side, text in ((lhs, lhs_text), (rhs, rhs_text)) if (u := _unit(text)) is not None]
        if units:  # `\approx`: the written side is the other one rounded to its last place (an integer: to units)
            unit, approx = max(units, key=lambda w: w[0])
            if _rounds(rhs if approx is lhs else lhs, approx, unit, diff, truncation=False):
                return "holds", "the value rounded to the written place"
        bound = sympy.Float(rel_tol) * scale
        if diff <= bound:
            return "holds", "within the approximation tolerance"
        return "fails", f"differs by {_show(diff)} (tolerance {_show(bound)})"
    if not (lhs.is_real and rhs.is_real):
        return "skip", "a value is not real"
    if isinstance(lhs, sympy.Rational) and isinstance(rhs, sympy.Rational):
        a, b = lhs, rhs
    else:
        a, b = _numeric(lhs), _numeric(rhs)
        if a is None or b is None:
            return "skip", "a value could not be evaluated"
    ok = {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
    return ("holds" if bool(ok) else "fails"), ""


_MAX_EXPAND_EXPONENT = 30
_MAX_NODES = 300


def _expandable(expr: Any) -> bool:
    """Whether expanding `expr` stays small: few nodes, small integer powers, few powers of sums in all."""
    nodes = 0
    powers_of_sums = 0
    for node in sympy.preorder_traversal(expr):
        nodes += 1
        if nodes > _MAX_NODES:
            return False
        if isinstance(node, sympy.Pow):
            exp = node.exp
            if isinstance(node.base, sympy.Add) and exp.is_Integer:
                powers_of_sums += abs(int(exp))
                if powers_of_sums > 2 * _MAX_EXPAND_EXPONENT:
                    return False
            if not exp.is_Integer or abs(int(exp)) > _MAX_EXPAND_EXPONENT:
                if not exp.free_symbols and exp.is_Rational and abs(exp.p) <= _MAX_EXPAND_EXPONENT:
                    continue
                return False
    return True


_PROBES = (sympy.Rational(3, 7), sympy.Rational(-11, 5), sympy.Rational(13, 3))


def _is_identity(lhs: Any, rhs: Any) -> bool:
    """True when lhs = rhs for all values of its free symbols (checked by expanding; probes first for speed)."""
    diff = lhs - rhs
    if diff == 0:
        return True
    if not _expandable(diff):
        return False
    symbols = sorted(diff.free_symbols, key=str)
    for k in range(2):
        values = {s: _PROBES[(i + k) % len(_PROBES)] + i for i, s in enumerate(symbols)}
        try:
            probe = substitute(diff, values)
        except ArithError:
            return False
        if probe.is_number and _is_finite_real(probe):
            d, scale = _difference(probe, sympy.Integer(0))
            if d is None or (d != 0 if isinstance(d, sympy.Rational) else d > scale * sympy.Float(10) ** -30):
                return False
    if sympy.expand(diff) == 0:
        return True
    return bool(diff.has(sympy.Pow) and sympy.cancel(sympy.together(diff)) == 0)


# -- trivial claims ------------------------------------------------------------------------------------------

_TRIVIAL_TOKEN = re.compile(r"\\[A-Za-z]+|[0-9]+(?:[.,][0-9]+)*|\S")
_TRIVIAL_OPS = frozenset("+ - − * / × · ÷ ( ) [ ] { } \\cdot \\times \\div \\left \\right".split())


def _is_trivial(lhs_text: str, rhs_text: str, lhs: Any, rhs: Any) -> bool:
    """Whether a closed claim states no computation worth a reward: two written numbers compared (`42 = 42`,
    `3 < 4`, `0.5 = 50\\%`), or one-digit numbers under `+ - × ÷` with whole-number sides (`1 + 1 = 2`, `8 / 4 = 2`)."""
    if _unit(lhs_text) is not None and _unit(rhs_text) is not None:
        return True
    for token in _TRIVIAL_TOKEN.findall(f"{lhs_text} {rhs_text}"):
        if token not in _TRIVIAL_OPS and not (len(token) == 1 and token.isdigit()):
            return False
    return isinstance(lhs, sympy.Integer) and isinstance(rhs, sympy.Integer)


# -- the verifier -------------------------------------------------------------------------------------------


@dataclass
class _Binding:
    value: Any
    tick: int  # the binding window's clock when it was bound
    conflict: bool = False


@dataclass
class _Check:
    step: Step
    claim: str
    holds: bool
    detail: str
    trivial: bool = False


@dataclass
class _Scan:
    """What checking the steps found. `truncated`: `max_claims` was reached with claims left unchecked."""

    checks: list[_Check]
    unchecked: int = 0
    repeated: int = 0
    truncated: bool = False
    stale: _Check | None = None
    """The first unchecked claim that fails under a binding out of the window (see `_check_steps`)."""


class StepChecker:
    """Checks the claims of one response under one set of `math.steps` options; `check(text)` gives the verdict."""

    def __init__(self, name: str, config: Mapping[str, Any]) -> None:
        self.name = name
        self.config = config

    def check(self, text: str) -> Verdict:
        steps = split_steps(text)
        return self._verdict(steps, self._check_steps(steps, self.config))

    def _check_steps(self, steps: list[Step], config: Mapping[str, Any]) -> _Scan:
        scan = _Scan(checks=[])
        checks = scan.checks
        seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
        parsed: dict[str, Relation | None] = {}  # a piece written again is parsed once
        bindings: dict[Any, _Binding] = {}
        window = config["binding_window"]
        # The binding window's clock counts the steps that state no relation (prose), bind a new value or open a
        # case; a step of claims alone does not count, so inserted claims never move a binding out of reach.
        clock = 0
        carry: tuple[int | None, str] | None = None
        for k, step in enumerate(steps):
            if scan.truncated:
                break
            tick = clock + 1
            moves = False  # set when this step opens a case or binds a new value; also when it states no relation
            if _HYPOTHESIS.search(step.text):
                bindings.clear()  # a new case or supposition: earlier values no longer apply
                moves = True
            active = {s: b.value for s, b in bindings.items() if not b.conflict and tick - b.tick <= window}
            expired = {s: b.value for s, b in bindings.items() if not b.conflict and s not in active}
            bound_here: dict[Any, _Binding] = {}  # bindings made in this step apply to its later claims
            continued = carry[1] if carry is not None and step.math and carry[0] == step.block else None
            pieces = _step_pieces(step, continued)
            carry = None
            for piece in pieces:
                if piece.text not in parsed:
                    try:
                        parsed[piece.text] = parse_relation(piece.text)
                    except ArithError:
                        parsed[piece.text] = None
                rel = parsed[piece.text]
                if rel is None:
                    scan.unchecked += 1
                    continue
                if not rel.ops:
                    continue
                if step.math:
                    carry = (step.block, rel.texts[-1])
                if piece.poisoned:
                    scan.unchecked += 1
                    continue
                links = list(range(len(rel.ops)))
                target = self._assignment(rel, active)
                if target is not None:
                    links = links[1:]
                for i in links:
                    if len(checks) >= config["max_claims"]:
                        scan.truncated = True
                        break
                    claim = f"{rel.texts[i]} {_SHOW_OP[rel.ops[i]]} {rel.texts[i + 1]}"
                    used = (rel.parts[i].free_symbols | rel.parts[i + 1].free_symbols) & set(active)
                    key = (" ".join(claim.split()), tuple(sorted((str(s), str(active[s])) for s in used)))
                    if key in seen:  # the same claim under the same values: checked once
                        scan.repeated += 1
                        continue
                    outcome = self._check_link(rel, i, active, config)
                    if outcome is None:
                        scan.unchecked += 1
                        # Prose between a binding and its use must not hide a wrong use: a claim that fails under
                        # a value out of the window keeps the verdict from CORRECT (it may be a reused name).
                        if scan.stale is None and expired:
                            stale = self._check_link(rel, i, {**expired, **active}, config)
                            if stale is not None and not stale[0]:
                                scan.stale = _Check(step, claim, False, stale[1], False)
                        continue
                    holds, detail, _, trivial = outcome
                    seen.add(key)
                    checks.append(_Check(step, claim, holds, detail, trivial))
                if scan.truncated:
                    break
                if target is not None and not piece.in_list:
                    symbol, value = target
                    previous = bound_here.get(symbol)
                    if previous is not None and previous.value != value:
                        previous.conflict = True
                        active.pop(symbol, None)
                    elif previous is None:
                        moves = moves or active.get(symbol) != value  # restating the value in force is not new
                        bound_here[symbol] = _Binding(value, tick)
                        active[symbol] = value
            bindings.update(bound_here)
            # prose moves the clock, except a lead-in that the display math after it completes ("We get \[...\]"):
            # one sentence is one step, so repeating it cannot push a binding out of reach
            leads_in = not step.math and k + 1 < len(steps) and steps[k + 1].math
            if moves or (not pieces and not leads_in):
                clock = tick
        return scan

    @staticmethod
    def _assignment(rel: Relation, active: Mapping[Any, Any]) -> tuple[Any, Any] | None:
        """(symbol, value) when the relation is `x = <closed value> [= ...]`, else None."""
        first = rel.parts[0]
        if rel.ops[0] != "=" or not isinstance(first, sympy.Symbol):
            return None
        if any(op != "=" for op in rel.ops):
            return None
        try:
            value = substitute(rel.parts[-1], dict(active))
        except ArithError:
            return None
        if value.free_symbols or not _is_finite_real(value):
            return None
        return first, value

    @staticmethod
    def _check_link(
        rel: Relation, i: int, active: Mapping[Any, Any], config: Mapping[str, Any]
    ) -> tuple[bool, str, set[Any], bool] | None:
        """(holds, detail, bound symbols used, trivial) for link i of the chain, or None when it is not checkable."""
        lhs, rhs, op = rel.parts[i], rel.parts[i + 1], rel.ops[i]
        lhs_text, rhs_text = rel.texts[i], rel.texts[i + 1]
        if ("\\$" in lhs_text) != ("\\$" in rhs_text):
            return None  # a unit conversion such as \$1.20 = 120 cents
        used = (lhs.free_symbols | rhs.free_symbols) & set(active)
        try:
            if used:
                values = {s: active[s] for s in used}
                lhs, rhs = substitute(lhs, values), substitute(rhs, values)
            free = lhs.free_symbols | rhs.free_symbols
            with_bindings = ""
            if used:
                with_bindings = " with " + ", ".join(f"{s} = {_show(active[s])}" for s in sorted(used, key=str))
            if free:
                if op != "=" or not _is_identity(lhs, rhs):
                    return None
                restated = "".join(lhs_text.split()) == "".join(rhs_text.split())  # `x = x`
                return True, f"identity in {', '.join(sorted(map(str, free)))}{with_bindings}", used, restated
            verdict, note = _closed_check(lhs, op, rhs, lhs_text, rhs_text, config["approx_rel_tol"])
            labelled = [t for t in (lhs_text, rhs_text) if _PERCENT_END.search(t)]
            if verdict == "fails" and op in ("=", "~") and len(labelled) == 1 and _unit(labelled[0]) is not None:
                # only a side that is just a number with a percent sign (`= 25\%`), never `5 \times 20\%`
                # "\frac{1}{4} \times 100 = 25\%": the percent sign as a label on a number already times 100
                scaled = (lhs * 100, rhs) if _PERCENT_END.search(lhs_text) else (lhs, rhs * 100)
                again, _ = _closed_check(*scaled[:1], op, scaled[1], lhs_text, rhs_text, config["approx_rel_tol"])
                if again == "holds":
                    lhs, rhs = scaled
                    verdict, note = "holds", "reading the percent sign as a label"
            trivial = not used and _is_trivial(lhs_text, rhs_text, lhs, rhs)
        except ArithError:
            return None
        except Exception:  # sympy raises many kinds on odd input: such a claim is unchecked, not an error
            return None
        if verdict == "skip":
            return None
        shown = f"left side = {_show(lhs)}, right side = {_show(rhs)}{with_bindings}"
        return verdict == "holds", f"{shown}{'; ' + note if note else ''}", used, trivial

    def _verdict(self, steps: list[Step], scan: _Scan) -> Verdict:
        checks = scan.checks
        evidence: dict[str, Any] = {
            "steps": len(steps),
            "checked": len(checks),
            "correct": sum(c.holds for c in checks),
            "incorrect": sum(not c.holds for c in checks),
            "trivial": sum(c.trivial for c in checks),
            "unchecked": scan.unchecked,
            "repeated": scan.repeated,
            "truncated": scan.truncated,
            "first_wrong_step": None,
        }
        if not checks:
            return Verdict.undecided(self.name, "no computational claim could be checked", evidence=evidence)
        step_verdicts = tuple(
            StepVerdict(
                f"step {c.step.index}: {clip(c.claim, 100)}",
                Status.CORRECT if c.holds else Status.INCORRECT,
                1.0 if c.holds else 0.0,
                detail=f"{c.detail}; trivial: not credited" if c.trivial else c.detail,
            )
            for c in checks
        )
        wrong = next((c for c in checks if not c.holds), None)
        held = evidence["correct"]
        if wrong is not None:
            evidence["first_wrong_step"] = {
                "index": wrong.step.index,
                "text": clip(wrong.step.text, 300),
                "claim": clip(wrong.claim, 200),
                "detail": wrong.detail,
            }
            reason = (
                f"{evidence['incorrect']} of {len(checks)} checked claims are wrong; first wrong: step "
                f"{wrong.step.index}: {clip(wrong.claim, 80)}"
            )
            return Verdict(Status.INCORRECT, 0.0, self.name, reason, steps=step_verdicts, evidence=evidence)
        if scan.truncated:
            reason = (
                f"all {held} checked claims hold, but the response has more than max_claims="
                f"{self.config['max_claims']}; the rest is not checked"
            )
            return Verdict.undecided(self.name, reason, steps=step_verdicts, evidence=evidence)
        if scan.stale is not None:
            evidence["stale_claim"] = {"index": scan.stale.step.index, "claim": clip(scan.stale.claim, 200),
                                       "detail": scan.stale.detail}  # fmt: skip
            reason = (
                f"all {held} checked claims hold, but step {scan.stale.step.index}: {clip(scan.stale.claim, 80)} "
                f"fails under a value bound more than binding_window steps earlier; it cannot be decided"
            )
            return Verdict.undecided(self.name, reason, steps=step_verdicts, evidence=evidence)
        if held == evidence["trivial"]:
            reason = f"all {held} checked claims hold, but every one is trivial (nothing is computed)"
            return Verdict.undecided(self.name, reason, steps=step_verdicts, evidence=evidence)
        return Verdict(
            Status.CORRECT, 1.0, self.name, f"all {held} checked claims hold", steps=step_verdicts, evidence=evidence
        )
