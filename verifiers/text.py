"""Text helpers shared by the rule verifiers (and the math verifier): normalization and answer extraction.

Everything here is total and roughly linear: any `str` (arbitrary unicode, lone surrogates, 10 MB) goes in and
a value comes out, never an exception, never a runaway regex. Brace matching is a single pass with a budget
(`MAX_BRACES`); answer spans and number tokens have length caps. The pieces:

  strip_think(text)               drop `<think>...</think>` reasoning (everything up to the last `</think>`)
  iter_tags / extract_tag_contents  `<tag>...</tag>` occurrences and contents
  extract_boxed / extract_all_boxed `\\boxed{...}` / `\\fbox{...}` contents with nested braces
  find_answers / extract_anchored_answers  the final answer(s) a response commits to, by priority
  strip_latex_wrappers / normalize_text   string normalization with switchable parts
  find_numbers / parse_number      numbers in text: the plain grammar of `verifiers.numbers` plus LaTeX
                                   notation and fractions, with exact `Fraction` values, no eval
  parse_choices                   multiple-choice letters at the start of an answer span
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction

from . import numbers
from .numbers import MAX_DIGITS as MAX_NUMBER_DIGITS

__all__ = [
    "MAX_BOXES",
    "MAX_BRACES",
    "MAX_SPAN",
    "Answer",
    "Number",
    "TagEvent",
    "clip",
    "collapse_whitespace",
    "distinct",
    "extract_all_boxed",
    "extract_anchored_answers",
    "extract_boxed",
    "extract_tag_contents",
    "find_answers",
    "find_numbers",
    "iter_tags",
    "last_number",
    "normalize_text",
    "normalize_unicode",
    "parse_choices",
    "parse_number",
    "rewrite_base_literals",
    "strip_latex_wrappers",
    "strip_think",
]

MAX_BRACES = 200_000
"""Braces one matching pass looks at; a box or wrapper still open after that many counts as unclosed."""

MAX_BOXES = 1_000
"""Box commands looked at, counted from the end (a response with more is garbage either way)."""

MAX_SPAN = 1_000
"""Characters an answer phrase ("The answer is ...") may capture."""


def clip(text: str, limit: int = 500) -> str:
    """`text` cut to `limit` characters with a marker saying how much was dropped (for evidence)."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…[+{len(text) - limit} chars]"


def distinct(items: Iterable[str]) -> list[str]:
    """The items without repeats, in first-seen order."""
    return list(dict.fromkeys(items))


def collapse_whitespace(text: str) -> str:
    """Runs of any unicode whitespace become one space; ends are stripped."""
    return " ".join(text.split())


# -- unicode ----------------------------------------------------------------------------------------------

_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱ", "0123456789+-=()ni"))
_SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₕₖₗₘₙₚₛₜ", "0123456789+-=()aeoxhklmnpst"))
_SCRIPT_RUN = re.compile("([" + "".join(_SUPERSCRIPTS) + "]+)|([" + "".join(_SUBSCRIPTS) + "]+)")
_MATH_SYMBOLS = {
    "∞": r"\infty ",
    "∪": r"\cup ",
    "∩": r"\cap ",
    "≤": r"\le ",
    "≥": r"\ge ",
    "≠": r"\ne ",
    "−": "-",
    "×": r"\times ",
    "÷": r"\div ",
    "·": r"\cdot ",
    "⋅": r"\cdot ",
    "π": r"\pi ",
    "∈": r"\in ",
    "∉": r"\notin ",
    "∅": r"\emptyset ",
    "ℝ": r"\mathbb{R}",
    "ℤ": r"\mathbb{Z}",
    "ℕ": r"\mathbb{N}",
    "ℚ": r"\mathbb{Q}",
    "ℂ": r"\mathbb{C}",
    "±": r"\pm ",
    "∓": r"\mp ",
    "°": r"^\circ ",
    "→": r"\to ",
    "≈": r"\approx ",
    "∣": r"\mid ",
    "θ": r"\theta ",
    "α": r"\alpha ",
    "⁄": "/",
    "⟨": r"\langle ",
    "⟩": r"\rangle ",
    "β": r"\beta ",
    "γ": r"\gamma ",
    "λ": r"\lambda ",
    "μ": r"\mu ",
    "σ": r"\sigma ",
    "φ": r"\phi ",
    "ω": r"\omega ",
}
_RADICAND = re.compile(r"[0-9.]+|[A-Za-z]")
_MATH_SYMBOL = re.compile("[" + "".join(_MATH_SYMBOLS) + "]")


def _scripts(text: str) -> str:
    """Unicode super- and subscripts as LaTeX scripts: `2⁵` -> `2^{5}` (not NFKC's `25`), `x₁` -> `x_{1}`."""

    def script(m: re.Match[str]) -> str:
        if m.group(1):
            return "^{" + "".join(_SUPERSCRIPTS[c] for c in m.group(1)) + "}"
        return "_{" + "".join(_SUBSCRIPTS[c] for c in m.group(2)) + "}"

    return _SCRIPT_RUN.sub(script, text)


def _radicals(text: str) -> str:
    """`√2` -> `\\sqrt{2}`, `√(x+1)` -> `\\sqrt{x+1}`, `√x` -> `\\sqrt{x}`: the radical takes the next atom."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        j = text.find("√", i)
        if j < 0:
            out.append(text[i:])
            break
        out.append(text[i:j] + "\\sqrt")
        k = j + 1
        if k < n and text[k] == "(":
            depth, end = 0, -1
            for p in range(k, min(n, k + MAX_SPAN)):
                depth += {"(": 1, ")": -1}.get(text[p], 0)
                if depth == 0:
                    end = p
                    break
            if end > 0:
                out.append("{" + text[k + 1 : end] + "}")
                i = end + 1
                continue
        m = _RADICAND.match(text, k)
        if m and text[k] != "{":
            out.append("{" + m.group() + "}")
            k = m.end()
        i = k
    return "".join(out)


_VULGAR_FRACTION = re.compile("[¼½¾⅐⅑⅒⅓⅔⅕⅖⅗⅘⅙⅚⅛⅜⅝⅞]")


def _vulgar(m: re.Match[str]) -> str:
    """`½` -> `\\frac{1}{2}` (so `1½` is the mixed number 1 1/2, not NFKC's `11⁄2`)."""
    num, _, den = unicodedata.normalize("NFKC", m.group()).partition("⁄")
    return f"\\frac{{{num}}}{{{den}}}"


def normalize_unicode(text: str, *, math: bool = False) -> str:
    """NFKC, with Unicode scripts read as scripts (`2⁵` -> `2^{5}`; NFKC alone makes it `25`).

    With `math`, the symbols mean what they say in LaTeX too: `∞ ∪ ∩ ≤ ≥ ≠ × ÷ · ± π °` become `\\infty \\cup ...`,
    `−` becomes `-`, and `√x` becomes `\\sqrt{x}`.
    """
    if text.isascii():
        return text
    text = _scripts(text)
    if math:
        text = _VULGAR_FRACTION.sub(_vulgar, text)
        text = _MATH_SYMBOL.sub(lambda m: _MATH_SYMBOLS[m.group()], text)
        if "√" in text:
            text = _radicals(text)
        return unicodedata.normalize("NFKC", text).replace("⁄", "/")  # `½` is 1⁄2 after NFKC
    return unicodedata.normalize("NFKC", text)


# -- tags and thinking ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TagEvent:
    """One `<tag>` or `</tag>` occurrence: where it starts and ends, its name, and whether it closes."""

    start: int
    end: int
    tag: str
    closing: bool


@functools.lru_cache(maxsize=64)
def _tag_pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"<(/?)(" + "|".join(map(re.escape, names)) + r")>")


def iter_tags(text: str, tags: Iterable[str]) -> Iterator[TagEvent]:
    """Every `<tag>` / `</tag>` of the given names, left to right (exact, case-sensitive names)."""
    names = tuple(sorted({t for t in tags if t}, key=len, reverse=True))
    if not names:
        return
    for m in _tag_pattern(names).finditer(text):
        yield TagEvent(m.start(), m.end(), m.group(2), bool(m.group(1)))


def extract_tag_contents(text: str, tag: str) -> list[str]:
    """The contents of every closed `<tag>...</tag>`; an opening tag inside an open one is ignored."""
    out: list[str] = []
    start: int | None = None
    for event in iter_tags(text, (tag,)):
        if not event.closing and start is None:
            start = event.end
        elif event.closing and start is not None:
            out.append(text[start : event.start])
            start = None
    return out


def strip_think(text: str) -> str:
    """The text without its reasoning: what follows the last `</think>`; with an unclosed `<think>`, what precedes it.

    A response that opens `<think>` and never closes it has given no answer outside its reasoning.
    """
    close = text.rfind("</think>")
    if close >= 0:
        return text[close + len("</think>") :]
    open_ = text.find("<think>")
    if open_ >= 0:
        return text[:open_]
    return text


# -- braces and boxes -----------------------------------------------------------------------------------------

_BRACE = re.compile(r"[{}]")


def _closing_braces(text: str, opens: list[int]) -> dict[int, int]:
    """For each position in `opens` (each holds a `{`), the position of its matching `}` when there is one.

    One left-to-right pass over the braces from the first wanted `{`, at most `MAX_BRACES` of them.
    """
    if not opens:
        return {}
    wanted = set(opens)
    found: dict[int, int] = {}
    stack: list[int] = []
    for count, m in enumerate(_BRACE.finditer(text, min(opens))):
        if count >= MAX_BRACES:
            break
        i = m.start()
        if text[i] == "{":
            stack.append(i)
        elif stack:
            j = stack.pop()
            if j in wanted:
                found[j] = i
                if len(found) == len(wanted):
                    break
    return found


_BOX = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])[ \t]*(?:(\{)|([^\s{}$\\]+))")


_PLACEHOLDER = re.compile(r"(?:\s|\\[hv]?phantom\{[^{}]{0,100}\}|\\quad|\\qquad|\\[,;:! ]|~)*")


def _box_starts(text: str) -> list[int]:
    """Positions of the last `MAX_BOXES` `\\boxed` / `\\fbox` commands, ascending (C-speed `rfind`)."""
    starts: list[int] = []
    for command in ("\\boxed", "\\fbox"):
        end = len(text)
        for _ in range(MAX_BOXES):
            end = text.rfind(command, 0, end)
            if end < 0:
                break
            starts.append(end)
    return sorted(starts)[-MAX_BOXES:]


def _boxes(text: str) -> list[tuple[int, int, str]]:
    """(start, end, content) of every outermost box among the last `MAX_BOXES` box commands."""
    found: list[tuple[int, int, int]] = []  # (command start, content start, content end or -1)
    opens: list[int] = []
    for start in _box_starts(text):
        m = _BOX.match(text, start)
        if m is None:
            continue
        if m.group(1):
            opens.append(m.start(1))
            found.append((m.start(), m.start(1), -1))
        else:
            found.append((m.start(), m.start(2), m.end(2)))
    if not found:
        return []
    closing = _closing_braces(text, opens)
    out: list[tuple[int, int, str]] = []  # a blank or `\\phantom` box is a placeholder, not an answer
    covered_until = -1
    for start, content_start, content_end in found:
        if start < covered_until:
            continue  # nested inside a box already taken
        if content_end < 0:
            close = closing.get(content_start)
            if close is None:
                continue
            content = text[content_start + 1 : close]
            if not _PLACEHOLDER.fullmatch(content):
                out.append((start, close + 1, content))
            covered_until = close
        else:
            out.append((start, content_end, text[content_start:content_end]))
            covered_until = content_end
    return out


def extract_all_boxed(text: str) -> list[str]:
    """The contents of every outermost `\\boxed{...}` / `\\fbox{...}` (also `\\boxed 5`), left to right.

    Nested braces are matched; a box inside another box is part of the outer content, not a separate answer;
    an unclosed box, and a blank or `\\phantom{}` placeholder box (as in "what goes in the box?"), is
    ignored. Only the last `MAX_BOXES` box commands are looked at.
    """
    return [content for _, _, content in _boxes(text)]


def extract_boxed(text: str) -> str | None:
    """The content of the last `\\boxed{...}` / `\\fbox{...}` in `text`, or None when there is none."""
    boxes = extract_all_boxed(text)
    return boxes[-1] if boxes else None


# -- anchored answers -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """A final answer found in a response: its text and the anchor that marked it.

    kind: "boxed" (`\\boxed{}`/`\\fbox{}`), "tag" (`<answer>` content), "final_answer" ("final answer is / :"),
    "answer_phrase" ("the answer is", "Answer:", "the correct option is").
    """

    text: str
    kind: str
    denied: bool = False
    """The response denies this answer where it states it ("not \\boxed{6}", "\\boxed{6} is wrong")."""

    def to_dict(self) -> dict[str, str]:
        return {"text": clip(self.text), "kind": self.kind}


_PHRASE = re.compile(
    r"(?i)(?<![a-z])(?:(final)\s{1,3}answer|answer|correct\s{1,3}(?:option|choice))(?![a-z])"
    r"[ \t*_]{0,8}(?:is(?![a-z])|:|=|(?(1)(?=[ \t]*\r?\n)|(?!)))(?![ \t*_]{0,8}not(?![a-z]))[ \t*_:]{0,8}"
)
_SENTENCE_END = re.compile(r"(?<=\S)[.!?](?=\s|$)")


def _phrase_span(text: str, start: int) -> str:
    """The answer after an anchor phrase: the rest of its line (or the next line, if the phrase ends a line),
    cut at the first sentence end and at `MAX_SPAN` characters."""
    end = min(len(text), start + MAX_SPAN)
    window = text[start:end]
    stripped = window.lstrip(" \t")
    if stripped.startswith(("\n", "\r")):
        stripped = stripped.lstrip()  # "Final Answer:\n\n42"
    line = stripped.split("\n", 1)[0].strip()
    m = _SENTENCE_END.search(line)
    if m:
        line = line[: m.start()]
    return line.strip()


def _anchored_in(text: str) -> list[Answer]:
    boxes = _boxes(text)
    last_final = last_plain = None
    for m in _PHRASE.finditer(text):
        if m.group(1):
            last_final = m
        else:
            last_plain = m
    final = _phrase_span(text, last_final.end()) if last_final is not None else ""
    if final and last_final is not None and (not boxes or last_final.start() >= boxes[-1][1]):
        return [Answer(final, "final_answer")]
    if boxes:
        out = [Answer(content, "boxed", _denied(text, start, end)) for start, end, content in boxes]
        plain = (
            _phrase_span(text, last_plain.end())
            if last_plain is not None and last_plain.start() >= boxes[-1][1]
            else ""
        )
        return out + [Answer(plain, "answer_phrase")] if plain else out  # "\\boxed{6} is wrong, the answer is 5"
    if final:
        return [Answer(final, "final_answer")]
    plain = _phrase_span(text, last_plain.end()) if last_plain is not None else ""
    return [Answer(plain, "answer_phrase")] if plain else []


_DENIED_BEFORE = re.compile(r"(?i)(?:(?<![a-z])(?:not|never|no)|n't)(?:\s+(?:equal\s+to|equals?|be|is))?[\s:*$\\(]*$")
_DENIED_AFTER = re.compile(r"(?i)^[\s$\\)}.*]*(?:is|was|are)?\s*(?:not\b|wrong|incorrect|false|a\s+mistake)")


def _denied(text: str, start: int, end: int) -> bool:
    """Whether the words right around a box deny it ("The answer is not \\boxed{6}", "\\boxed{6} is wrong")."""
    return bool(_DENIED_BEFORE.search(text[max(0, start - 40) : start]) or _DENIED_AFTER.search(text[end : end + 40]))


def find_answers(text: str, *, ignore_think: bool = True) -> list[Answer]:
    """The final answers a response commits to, by anchor priority (empty when nothing is anchored).

    1. `<answer>...</answer>` tags: each tag's content, or the anchored answers inside it;
    2. a "final answer is / :" phrase after the last box (the model's last word, as in "Final Answer: The final
       answer is $5$" after boxed intermediate results): the last such phrase;
    3. every `\\boxed{}` / `\\fbox{}` (each box is a commitment, so several that differ is a hedge);
    4. otherwise the last "final answer is / :" phrase, else the last "the answer is" / "Answer:" /
       "the correct option is" phrase ("answer is not ..." does not count). Answer phrases also occur in
       reasoning ("if the answer is 3, then ..."), so only the last one counts; a phrase followed by nothing
       is no anchor.
    With `ignore_think`, `<think>` reasoning is dropped first (see `strip_think`).
    """
    body = strip_think(text) if ignore_think else text
    tags = extract_tag_contents(body, "answer")
    if tags:
        out: list[Answer] = []
        for content in tags:
            inner = _anchored_in(content)
            out.extend(inner if inner else [Answer(content.strip(), "tag")])
        return out
    return _anchored_in(body)


def extract_anchored_answers(text: str, *, ignore_think: bool = True) -> list[str]:
    """The texts of `find_answers(text)`."""
    return [a.text for a in find_answers(text, ignore_think=ignore_think)]


# -- LaTeX wrappers and normalization --------------------------------------------------------------------------

_WRAPPERS = (
    "boxed",
    "fbox",
    "text",
    "textrm",
    "textbf",
    "textit",
    "texttt",
    "textsf",
    "textnormal",
    "mbox",
    "emph",
    "mathrm",
    "mathbf",
    "mathit",
    "mathsf",
    "mathtt",
    "mathnormal",
    "bm",
    "boldsymbol",
)
_WRAPPER_ALT = "|".join(sorted(_WRAPPERS, key=len, reverse=True))
_WRAPPER_SIMPLE = re.compile(r"\\(?:" + _WRAPPER_ALT + r")(?![A-Za-z])[ \t]*\{([^{}\\]*)\}")
_WRAPPER_OR_BRACE = re.compile(r"\\(?:" + _WRAPPER_ALT + r")(?![A-Za-z])[ \t]*\{|[{}]")
_WRAPPER_CMD = re.compile(r"\\(?:" + _WRAPPER_ALT + r")(?![A-Za-z])[ \t]*\{")
_DOLLAR = re.compile(r"(?<!\\)\$")


def _unwrap_commands(text: str) -> str:
    """`\\text{x}` -> `x` (and the other wrappers) anywhere, nested braces kept; at most `MAX_BRACES` tokens."""
    text = _WRAPPER_SIMPLE.sub(r"\1", text)  # the common flat case in one C-speed pass
    if not _WRAPPER_CMD.search(text):
        return text
    pieces: list[str] = []
    last = 0
    stack: list[bool] = []  # True: this `{` belongs to a wrapper, drop its `}`
    for count, m in enumerate(_WRAPPER_OR_BRACE.finditer(text)):
        if count >= MAX_BRACES:
            break
        token = m.group()
        if token == "}":
            if stack and stack.pop():
                pieces.append(text[last : m.start()])
                last = m.end()
        elif token == "{":
            stack.append(False)
        else:
            pieces.append(text[last : m.start()])
            last = m.end()
            stack.append(True)
    pieces.append(text[last:])
    return "".join(pieces)


def _strip_outer_math(text: str) -> str:
    """Remove math delimiters that wrap the whole (stripped) text: `$$..$$`, `$..$`, `\\(..\\)`, `\\[..\\]`."""
    for _ in range(8):
        s = text.strip()
        if len(s) >= 4 and s.startswith("$$") and s.endswith("$$") and not _DOLLAR.search(s[2:-2]):
            text = s[2:-2]
        elif len(s) >= 2 and s.startswith("$") and s.endswith("$") and not _DOLLAR.search(s[1:-1]):
            text = s[1:-1]
        elif len(s) >= 4 and s[:2] in ("\\(", "\\[") and s[-2:] == {"\\(": "\\)", "\\[": "\\]"}[s[:2]]:
            text = s[2:-2]
        else:
            return s
    return text.strip()


def strip_latex_wrappers(text: str) -> str:
    """Unwrap `\\text{}`, `\\mathrm{}`, `\\textbf{}`, `\\boxed{}` (and kin) anywhere, and math delimiters
    (`$...$`, `$$...$$`, `\\(...\\)`, `\\[...\\]`) around the whole text."""
    return _strip_outer_math(_unwrap_commands(text))


_QUOTE_PAIRS = (('"', '"'), ("'", "'"), ("“", "”"), ("‘", "’"), ("«", "»"), ("`", "`"), ("**", "**"), ("__", "__"))
_TRAILING_PUNCT = ".,;:!?。，；：！？"


def _strip_quotes(text: str) -> str:
    for left, right in _QUOTE_PAIRS:
        if len(text) >= len(left) + len(right) and text.startswith(left) and text.endswith(right):
            return text[len(left) : -len(right)].strip()
    return text


def normalize_text(
    text: str,
    *,
    casefold: bool = True,
    whitespace: bool = True,
    unicode: bool = True,
    latex: bool = True,
    quotes: bool = True,
    punctuation: bool = True,
) -> str:
    """A comparison form of `text`; each part can be switched off.

    unicode: NFKC (full-width letters, ligatures, compatibility forms); latex: `strip_latex_wrappers`;
    whitespace: collapse runs of whitespace; quotes: drop surrounding quotes/backticks/`**`;
    punctuation: drop trailing `.,;:!?`; casefold: unicode case folding. Outer whitespace is always stripped.
    """
    if unicode:
        text = normalize_unicode(text)
    if latex:
        text = _unwrap_commands(text)
    if whitespace:
        text = collapse_whitespace(text)
    for _ in range(16):
        before = text
        text = text.strip()
        if latex:
            text = _strip_outer_math(text)
        if quotes:
            text = _strip_quotes(text)
        if punctuation:
            text = text.rstrip(_TRAILING_PUNCT).rstrip()
        if text == before:
            break
    if casefold:
        text = text.casefold()
        if unicode:
            text = unicodedata.normalize("NFKC", text)
    return text


# -- numbers ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    """A number as written: the token, its exact value (None when out of range or a division by zero), percent."""

    text: str
    value: Fraction | None
    percent: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "text": clip(self.text, 200),
            "value": None if self.value is None else str(self.value),
            "percent": self.percent,
        }


_NUMBER = re.compile(
    r"(?<![A-Za-z0-9.^_])(?P<num>[-+]?(?:" + numbers.UNSIGNED + r"))(?:[eE](?P<exp>[-+]?[0-9]+))?(?![0-9])"
    r"(?:[ \t]{0,3}/[ \t]{0,3}(?P<den>[-+]?(?:" + numbers.UNSIGNED + r"))(?:[eE](?P<dexp>[-+]?[0-9]+))?(?![0-9]))?"
    r"(?P<pct>[ \t]{0,3}%)?"
)
_FRAC = re.compile(
    r"\\[dtc]?frac[ \t]*\{[ \t]*([-+]?[0-9.,]{1,1000})[ \t]*\}[ \t]*\{[ \t]*([-+]?[0-9.,]{1,1000})[ \t]*\}"
)
_FRAC_AFTER_DIGIT = re.compile(r"(?<=[0-9])\\(?=[dtc]?frac(?![A-Za-z]))")
_FRAC_SHORT = re.compile(r"\\[dtc]?frac[ \t]*([0-9])[ \t]*([0-9])(?![0-9])")
_SCI_TIMES = re.compile(
    r"([0-9.])[ \t]*(?:\\times|\\cdot|×|·|\*|x)[ \t]*10[ \t]*\^[ \t]*\{?[ \t]*([-+]?[0-9]+)[ \t]*\}?"
)
_SCI_BARE = re.compile(r"(?<![0-9.])10[ \t]*\^[ \t]*\{[ \t]*([-+]?[0-9]+)[ \t]*\}|(?<![0-9.])10\^([-+]?[0-9]+)")
_SCRIPT = re.compile(r"(?<=[A-Za-z])[\^_][ \t]*(?:\{[^{}]{0,50}\}|[0-9A-Za-z])")
_LATEX_NOISE = re.compile(r"\\[,;:! ]|\\left|\\right|\\\(|\\\)|\\\[|\\\]|\\?\$")
_PERCENT_WORD = re.compile(r"(?i)(?<![ \t])[ \t]*(?:\\%|\bper[ \t]?cent\b)")
_BASE_LITERAL = re.compile(r"(?<![\w.])0(?:[xX]([0-9a-fA-F]{1,800})|[bB]([01]{1,3000})|[oO]([0-7]{1,1000}))(?![\w.])")
_ASSIGNMENT = re.compile(r"^[A-Za-z](?:_\{?[A-Za-z0-9]{1,8}\}?)?[ \t]*=[ \t]*")


def rewrite_base_literals(text: str) -> str:
    """`0xc2d8`, `0b1011`, `0o17` as the decimal numbers they are (`49880`, `11`, `15`); not products of letters."""
    if "0" not in text:
        return text

    def decimal(m: re.Match[str]) -> str:
        digits, base = next((g, b) for g, b in zip(m.groups(), (16, 2, 8)) if g is not None)
        return str(int(digits, base))

    return _BASE_LITERAL.sub(decimal, text)


def _plain(text: str) -> str:
    """Rewrite LaTeX number notation into the plain grammar `_NUMBER` reads."""
    text = rewrite_base_literals(normalize_unicode(text, math=True))
    if "\\" in text or "{" in text:
        text = _unwrap_commands(text)
        text = _FRAC_AFTER_DIGIT.sub(r" \\", text)  # "1\frac{1}{2}" is not "11/2"
        text = _FRAC.sub(r"\1/\2 ", text)
        text = _FRAC_SHORT.sub(r"\1/\2 ", text)
        text = text.replace("{,}", ",")
        text = numbers.join_latex_groups(text)
    text = _PERCENT_WORD.sub("%", text)
    if "^" in text:
        text = _SCI_TIMES.sub(r"\1e\2", text)
        text = _SCI_BARE.sub(lambda m: "1e" + (m.group(1) or m.group(2)), text)
    if "^" in text or "_" in text:
        text = _SCRIPT.sub(" ", text)
    return _LATEX_NOISE.sub(" ", text)


def _token(m: re.Match[str]) -> Number:
    value = numbers.decimal_value(numbers.ungroup(m.group("num")), m.group("exp"))
    if m.group("den") is not None and value is not None:
        den = numbers.decimal_value(numbers.ungroup(m.group("den")), m.group("dexp"))
        value = None if den is None or den == 0 else value / den
    return Number(m.group().strip(), value, m.group("pct") is not None)


def find_numbers(text: str) -> list[Number]:
    """Every number token in `text`, left to right (LaTeX `\\frac`, `\\times 10^{k}`, `\\%` understood).

    "1,234" is one number (thousands); "1,2" is two numbers (1 and 2), never 12. Spaces group digits only when
    the whole text is one number ("1 000"); in running text "10 100" is two numbers. Scripts on letters (`cm^2`,
    `x_1`) are not numbers of their own; a script on a number (`2^{10}`) stays, so it reads as two numbers.
    """
    plain = _plain(text)
    return [_token(m) for m in _NUMBER.finditer(numbers.compact(plain) if " " in plain.strip() else plain)]


def parse_number(text: str) -> Number | None:
    """`text` read as exactly one number (surrounding LaTeX wrappers, `$`, spaces, a leading `x =` and a final
    period or comma allowed).

    Accepts ints, decimals, thousands separators (`1,234,567`, `1 000`, `1{,}000`, `1\\,000`), fractions
    (`3/4`, `\\frac{3}{4}`, `\\dfrac34`), signs (also U+2212), scientific notation (`1.5e3`, `1.5 \\times 10^{3}`)
    and percent (`50%`, `50\\%`, `50 percent`). None when it is not one number or is out of range.
    """
    if len(text) > 4 * MAX_NUMBER_DIGITS:
        return None
    unwrapped = strip_latex_wrappers(text).strip()
    plain = _plain(_ASSIGNMENT.sub("", unwrapped, count=1)).strip()  # `x = 5`, never `x^2 = 5` (scripts go later)
    if plain.endswith((".", ",")):
        plain = plain[:-1].rstrip()
    m = _NUMBER.fullmatch(numbers.compact(plain))
    if m is None:
        return None
    number = _token(m)
    return number if number.value is not None else None


def last_number(text: str) -> Number | None:
    """The last number token of `text` (a weak, opt-in fallback for responses with no anchored answer).

    Looks only around the last digit, so it stays cheap on huge text.
    """
    last = max(text.rfind(d) for d in "0123456789")
    if last < 0:
        return None
    found = find_numbers(text[max(0, last - 2 * MAX_NUMBER_DIGITS) : last + 64])
    return found[-1] if found else None


# -- multiple choice ----------------------------------------------------------------------------------------

_CHOICE_LEAD = re.compile(r"[\s(\[*_\"'`]*(?:(?i:option|choice)[ \t]*)?[(\[]?([A-Z])[)\]]?(?![A-Za-z0-9])")
_CHOICE_NEXT = re.compile(
    r"[ \t*_]*(?:,|/|&|;|\bor\b|\band\b)[ \t]*(?:(?i:option|choice)[ \t]*)?[(\[]?([A-Z])[)\]]?(?![A-Za-z0-9])"
)
_CHOICE_TAIL = re.compile(r"[\s.!:)\]*_\"'`]*")


def parse_choices(text: str, choices: str = "ABCDEFGHIJ", *, whole: bool = False) -> list[str]:
    """The choice letters an answer span starts with: "B", "(B)", "B.", "\\text{B}", "option B", "A, C", "A or B".

    Only upper-case letters from `choices` count (a lower-case "a" is an article). With `whole`, the span must
    hold nothing but the letters, separators and trailing punctuation (for a bare response such as "**B**").
    Returns the letters in order, repeats removed; [] when the span does not start with a choice.
    """
    span = strip_latex_wrappers(unicodedata.normalize("NFKC", text[: 4 * MAX_SPAN]))
    m = _CHOICE_LEAD.match(span)
    if m is None or m.group(1) not in choices:
        return []
    letters = [m.group(1)]
    pos = m.end()
    while True:
        nxt = _CHOICE_NEXT.match(span, pos)
        if nxt is None or nxt.group(1) not in choices:
            break
        letters.append(nxt.group(1))
        pos = nxt.end()
    if whole and _CHOICE_TAIL.fullmatch(span, pos) is None:
        return []
    return distinct(letters)
