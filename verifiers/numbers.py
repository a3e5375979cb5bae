"""The one grammar of a plain number, shared by routing, the rule verifiers, math normalization and the step parser.

A plain number is an optional sign, digits, an optional decimal part, an optional exponent and an optional `%`:
`42`, `-7`, `+3`, `3.25`, `.5`, `5.`, `1,234,567`, `1 000`, `1.5e3`, `2E-2`, `50%`. Everything here is lexical
(no LaTeX, no fractions, no words): `verifiers.text` rewrites LaTeX notation into this grammar first, and the math
parsers build expressions out of its tokens.

Where the four old copies disagreed, the reading that cannot turn one number into another wins:

- Thousands groups: a first group of 1-3 digits not starting with 0, then groups of exactly three, one kind of
  separator throughout (`1,234`, `1 000`, `1{,}000`). `1 0000`, `10 00`, `1,00`, `0,123`, `1,000 000` and
  `1.000,5` are not one number (the step parser read `0,123` as 123; normalization read `12345\\,678` as
  12345678). A decimal comma (`2,74`) is not part of this grammar: math normalization alone reads it, by its own
  rule.
- Spaces (plain, no-break, thin, narrow no-break, figure: `SPACES`) group digits only when the whole text is the
  number (`is_plain("1 000")`). Inside running text a space separates numbers: `pages 10 100 200` is three.
- Signs: `-`, `+`, the minus sign U+2212 and the full-width and small hyphen-minus (`MINUS_SIGNS`). Dashes
  (`DASHES`: hyphen, figure dash, en dash, em dash) are never signs: `3–5` is a range and `–5` is not a number.
- Digits are ASCII (full-width digits are read as ASCII, as NFKC reads them); digits of other scripts are not
  numbers. An exponent needs digits right after the `e` (`1e3`, `1e-3`, `1E+3`); a final `.` is punctuation.
- Values are exact `Fraction`s, never floats; a literal over `MAX_DIGITS` digits or an exponent over
  `MAX_EXPONENT` has no value (`decimal_value` returns None) rather than a huge computation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

__all__ = [
    "DASHES",
    "EXPONENT",
    "LATEX_SEPARATOR",
    "MAX_DIGITS",
    "MAX_EXPONENT",
    "MINUS_SIGNS",
    "SPACES",
    "UNSIGNED",
    "PlainNumber",
    "compact",
    "decimal_value",
    "grouped",
    "is_plain",
    "join_latex_groups",
    "read_plain",
    "to_ascii",
    "ungroup",
]

MAX_DIGITS = 1_000
"""Digits one number literal may have and still get a value."""

MAX_EXPONENT = 10_000
"""Largest power of ten a literal's exponent may ask for and still get a value."""

MINUS_SIGNS = "\u2212\uff0d\ufe63"
"""Read as `-`: the minus sign, the full-width and the small hyphen-minus."""

DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015"
"""Never a sign (hyphen, non-breaking hyphen, figure dash, en dash, em dash, horizontal bar): `3–5` is a range."""

SPACES = "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
"""Read as a plain space (every space NFKC reads as one; thin, narrow no-break and figure spaces group digits)."""

_ASCII = str.maketrans(
    {
        **dict.fromkeys(MINUS_SIGNS, "-"),
        **dict.fromkeys("\uff0b\ufe62", "+"),
        **dict.fromkeys("\uff05\ufe6a", "%"),
        **dict.fromkeys("\uff0e\ufe52", "."),
        **dict.fromkeys("\uff0c\ufe50", ","),
        **dict.fromkeys(SPACES, " "),
        **{chr(0xFF10 + d): str(d) for d in range(10)},
    }
)

LATEX_SEPARATOR = r"(?:,?[ \t]*\\[,;:! ][ \t]*|~|\{,\})"
"""Regex source: a LaTeX thousands separator (`1\\,000`, `1,\\!000`, `1~000`, `1{,}000`)."""

EXPONENT = r"[eE][-+]?[0-9]+"
"""Regex source: an exponent, digits right after the `e`."""


def grouped(*separators: str) -> str:
    """Regex source: an integer in thousands groups, each alternative one separator (given as regex source).

    The first group has 1-3 digits and does not start with 0; every later group has exactly three.
    """
    return "(?:" + "|".join(rf"[1-9][0-9]{{0,2}}(?:{sep}[0-9]{{3}})+(?![0-9])" for sep in separators) + ")"


UNSIGNED = rf"(?:{grouped(',')}|[0-9]+)(?:\.[0-9]+)?|\.[0-9]+"
"""Regex source: an unsigned number as it may appear inside running text (commas group, spaces do not)."""

_PLAIN = re.compile(
    rf"(?P<sign>[-+]?)(?P<mantissa>(?:{grouped(',', ' ')}|[0-9]+)(?:\.[0-9]+)?|\.[0-9]+)"
    rf"(?P<exp>{EXPONENT})?(?P<pct>[ \t]{{0,3}}%)?\.?"
)
_SEPARATOR = re.compile(rf"{LATEX_SEPARATOR}|[, ]")
_LATEX_RUN = re.compile(rf"(?<![0-9.,])[0-9]+(?:{LATEX_SEPARATOR}[0-9]+)+(?![0-9])")
_LATEX_GROUPS = re.compile(rf"[1-9][0-9]{{0,2}}(?:{LATEX_SEPARATOR}[0-9]{{3}})+")
_LATEX_SEPARATOR = re.compile(LATEX_SEPARATOR)


@dataclass(frozen=True)
class PlainNumber:
    """A whole text read as one plain number: its compact token (ASCII sign, no separators), value and `%`.

    `value` is None when the literal is over `MAX_DIGITS` or its exponent over `MAX_EXPONENT`.
    """

    token: str
    value: Fraction | None
    percent: bool


def to_ascii(text: str) -> str:
    """Unicode signs, full-width digits and punctuation, and Unicode spaces as the ASCII this grammar reads.

    A subset of what `verifiers.text.normalize_unicode(text, math=True)` does, so both read a number alike.
    """
    return text if text.isascii() else text.translate(_ASCII)


def read_plain(text: str) -> PlainNumber | None:
    """The whole of `text` (surrounding whitespace aside) as one plain number, or None when it is not one."""
    if len(text) > 4 * MAX_DIGITS:
        return None
    m = _PLAIN.fullmatch(to_ascii(text).strip())
    if m is None:
        return None
    sign, mantissa, exp = m.group("sign"), ungroup(m.group("mantissa")), m.group("exp") or ""
    percent = m.group("pct") is not None
    value = decimal_value(sign + mantissa, exp[1:] or None)
    return PlainNumber(sign + mantissa + exp + ("%" if percent else ""), value, percent)


def is_plain(text: str) -> bool:
    """Whether the whole of `text` is one plain number (`1 000`, `−5`, `2.5e3`, `50%`; not `1 0000`, `3–5`)."""
    return read_plain(text) is not None


def compact(text: str) -> str:
    """`text` as its compact token when the whole of it is one plain number (`−1 000.5` -> `-1000.5`); else as is."""
    number = read_plain(text)
    return text if number is None else number.token


def ungroup(token: str) -> str:
    """A number token matched by a `grouped` pattern, without its separators (`1{,}000` -> `1000`)."""
    return _SEPARATOR.sub("", token)


def join_latex_groups(text: str, separator: str = ",") -> str:
    """LaTeX thousands separators written as `separator`, only inside valid groups (`1\\,000` -> `1,000`).

    A run whose groups are not valid (`12345\\,678`, `1\\,00`) is left as written, so it never becomes one number.
    """
    if "\\" not in text and "~" not in text and "{" not in text:
        return text

    def join(m: re.Match[str]) -> str:
        run = m.group()
        return _LATEX_SEPARATOR.sub(separator, run) if _LATEX_GROUPS.fullmatch(run) else run

    return _LATEX_RUN.sub(join, text)


def decimal_value(mantissa: str, exponent: str | None = None) -> Fraction | None:
    """The exact value of a signed decimal literal without separators (`-1.5`, exponent `3`): -1500.

    None when the literal has over `MAX_DIGITS` digits or the exponent is over `MAX_EXPONENT` (never computed).
    """
    if len(mantissa) > MAX_DIGITS:
        return None
    if exponent and len(exponent.lstrip("+-").lstrip("0")) > 6:
        return None
    e = int(exponent) if exponent else 0
    if abs(e) > MAX_EXPONENT:
        return None
    value = Fraction(mantissa)
    return value * Fraction(10) ** e if e else value
