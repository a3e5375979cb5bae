"""Reading a generative judge's output: a yes/no decision, a letter grade, or one verdict per principle.

Every parser takes the *last* decision the text states (judges reason first, then conclude) and returns None when
there is none or when the conclusion is ambiguous: a judge that does not decide leaves the sample UNDECIDED, it
never becomes a score of 0 or 1 by default.
"""

from __future__ import annotations

import re

_YES = {"yes", "correct", "true", "right", "equivalent", "consistent"}
_NO = {"no", "incorrect", "false", "wrong", "not equivalent", "inconsistent"}
_WORD = r"(yes|no|correct|incorrect|true|false|right|wrong|equivalent|not equivalent|consistent|inconsistent)"

_DECISION = re.compile(
    r"(?:final\s+(?:decision|verdict|judg(?:e)?ment|answer)|decision|verdict|judg(?:e)?ment)\s*[:：=]?\s*"
    r"(?:\*\*|\"|'|\[\[|\()?\s*" + _WORD + r"\b",
    re.IGNORECASE,
)
_BOXED_WORD = re.compile(r"\\boxed\{\s*(?:\\text\{)?\s*" + _WORD + r"\s*\}?\s*\}", re.IGNORECASE)


def parse_decision(text: str) -> bool | None:
    """The judge's last yes/no decision: "Final Decision: Yes", "Verdict: incorrect", "\\boxed{No}"."""
    found: list[tuple[int, str]] = [(m.start(), m.group(1)) for m in _DECISION.finditer(text)]
    found += [(m.start(), m.group(1)) for m in _BOXED_WORD.finditer(text)]
    if not found:
        return None
    word = max(found)[1].lower()
    word = " ".join(word.split())
    if word in _YES:
        return True
    if word in _NO:
        return False
    return None


_GRADE_PATTERNS = (
    re.compile(r"\\boxed\{\s*(?:\\text\{)?\s*([A-Z])\s*\}?\s*\}"),
    re.compile(r"\[\[\s*([A-Z])\s*\]\]"),
    # the label in any case, the letter in capitals ("Grade: a" is too easily an article)
    re.compile(
        r"(?i:(?:final\s+)?(?:grade|answer|decision|verdict|judg(?:e)?ment))\s*[:：=]\s*(?:\*\*)?\(?([A-Z])\b\)?"
    ),
)


def parse_grade(text: str, allowed: str = "ABC") -> str | None:
    """The judge's last letter grade among `allowed` ("\\boxed{A}", "[[B]]", "Grade: C")."""
    found = [(m.start(), m.group(1)) for p in _GRADE_PATTERNS for m in p.finditer(text)]
    found = [(pos, g) for pos, g in found if g in allowed]
    return max(found)[1] if found else None


_PRINCIPLE = re.compile(
    r"^\s*(?:[-*]\s*)?(?:principle\s*|p)?(\d{1,3})\s*[.):：-]\s*(?:.*?[:：-]\s*)?(?:\*\*)?" + _WORD + r"\b",
    re.IGNORECASE | re.MULTILINE,
)


def parse_principles(text: str, count: int) -> list[bool | None]:
    """One verdict per principle (1-based numbering, "2. yes", "Principle 3: no — because ..."); the last
    statement about a principle wins; principles the judge did not address are None."""
    verdicts: list[bool | None] = [None] * count
    for m in _PRINCIPLE.finditer(text):
        index = int(m.group(1)) - 1
        if 0 <= index < count:
            word = " ".join(m.group(2).lower().split())
            verdicts[index] = True if word in _YES else False if word in _NO else None
    return verdicts
