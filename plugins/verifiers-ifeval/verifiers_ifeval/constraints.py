"""The constraint vocabulary: parse a JSON spec into a `Constraint`, and check it against a response.

Every constraint is a mapping with a `type` and that type's keys (see `TYPES` and the README's table). Parsing is
strict: an unknown type, an unknown key or a value of the wrong kind raises `SpecError`, so a typo in a dataset is
an ERROR verdict, never a silent 0. Checking is total: any text gives `(passed, detail)`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .language import SUPPORTED_LANGUAGES, detect_language

__all__ = [
    "TYPES",
    "Constraint",
    "SpecError",
    "count_sentences",
    "count_words",
    "parse_constraints",
    "split_paragraphs",
]


class SpecError(ValueError):
    """A constraint spec that cannot be used; the message says what to write instead."""


@dataclass(frozen=True)
class Constraint:
    """One parsed constraint: its step `name`, its `type` and the checked `spec`."""

    name: str
    type: str
    spec: Mapping[str, Any]

    def check(self, text: str) -> tuple[bool, str]:
        """Whether `text` satisfies this constraint, and what was measured."""
        return TYPES[self.type].check(self.spec, text)


# -- measuring text -------------------------------------------------------------------------------------------

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
# A word: a run of letters/digits, joined through hyphens, apostrophes and inner dots ("well-known", "don't",
# "3.5", "e.g"); CJK characters count one word each, since those scripts do not separate words with spaces.
_WORD = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+(?:[-'’.][^\W{_CJK}]+)*")

ABBREVIATIONS = frozenset(
    [
        "e.g", "i.e", "etc", "vs", "cf", "al", "approx", "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "no",
        "fig", "eq", "dept", "inc", "ltd", "co", "a.m", "p.m", "u.s", "u.k",
    ]
)
"""Words whose trailing dot does not end a sentence (compared lowercased, without the final dot)."""

# A candidate sentence end: terminal punctuation (plus closing quotes/brackets) before whitespace or the end,
# CJK full stops anywhere, or a blank line.
# (The lookbehinds start a match only at the beginning of a run, which keeps huge runs of dots linear.)
_SENTENCE_END = re.compile(r"(?<![.!?…])[.!?…]+[\"'”’)\]]*(?=\s|$)|(?<![。！？])[。！？]+|\n\s*\n")
_LAST_TOKEN = re.compile(r"(\S+)$")


def count_words(text: str) -> int:
    return sum(1 for _ in _WORD.finditer(text))


def count_sentences(text: str) -> int:
    """Sentences, not fooled by abbreviations ("e.g.", "Dr.") or decimals ("3.5"); a blank line ends one too."""
    count, start = 0, 0
    for match in _SENTENCE_END.finditer(text):
        if match.group().startswith("."):
            token = _LAST_TOKEN.search(text, max(start, match.start() - 40), match.start())
            if token and token.group(1).lower().lstrip("(\"'“") in ABBREVIATIONS:
                continue
        if _has_word(text, start, match.end()):
            count += 1
        start = match.end()
    if _has_word(text, start, len(text)):
        count += 1
    return count


def _has_word(text: str, start: int, end: int) -> bool:
    return _WORD.search(text, start, end) is not None


def split_paragraphs(text: str, separator: str) -> list[str]:
    pattern = r"\n\s*\n" if separator == "blank_line" else r"^\s*\*\*\*\s*$"
    parts = re.split(pattern, text, flags=re.MULTILINE)
    return [p for p in parts if p.strip()]


_FENCE = re.compile(r"^```[ \t]*(?:json|JSON)?[ \t]*\n(.*)\n[ \t]*```$", re.DOTALL)
_BULLET = re.compile(r"^[ \t]*[-*+•][ \t]+\S", re.MULTILINE)
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+\S", re.MULTILINE)
_TITLE = re.compile(r"<<[ \t]*[^\s<>][^\n<>]*>>")
_PLACEHOLDER = re.compile(r"\[[^\[\]\n]+\](?!\()")  # [name], not a markdown link [text](url)


def _keyword_pattern(word: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE)


# -- spec checks ------------------------------------------------------------------------------------------------


def _int(spec: Mapping[str, Any], key: str, *, minimum: int = 0) -> int:
    value = spec[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SpecError(f"{key!r} must be an integer >= {minimum}, got {value!r}")
    return value


def _text(spec: Mapping[str, Any], key: str) -> str:
    value = spec[key]
    if not isinstance(value, str) or not value.strip():
        raise SpecError(f"{key!r} must be a non-empty string, got {value!r}")
    return value


def _words(spec: Mapping[str, Any], key: str) -> list[str]:
    value = spec[key]
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(w, str) and w.strip() for w in value):
        raise SpecError(f"{key!r} must be a non-empty list of non-empty strings, got {value!r}")
    return [w.strip() for w in value]


_RELATIONS = {"at_least": ">=", "at_most": "<=", "exactly": "=="}


def _relation(spec: Mapping[str, Any], default: str) -> str:
    value = spec.get("relation", default)
    if value not in _RELATIONS:
        raise SpecError(f"'relation' must be one of {', '.join(map(repr, _RELATIONS))}, got {value!r}")
    return value


def _compare(measured: int, relation: str, value: int) -> bool:
    return {"at_least": measured >= value, "at_most": measured <= value, "exactly": measured == value}[relation]


# -- the types ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConstraintType:
    """One entry of the vocabulary: allowed keys, a spec validator that also names the step, and a checker."""

    required: tuple[str, ...]
    optional: tuple[str, ...]
    describe: Callable[[Mapping[str, Any]], str]  # validates the spec (raising SpecError) and returns the step name
    check: Callable[[Mapping[str, Any], str], tuple[bool, str]]
    doc: str


def _bound_type(noun: str, measure: Callable[[str], int], op: str) -> ConstraintType:
    def describe(spec: Mapping[str, Any]) -> str:
        return f"{'min' if op == '>=' else 'max'}_{noun}{op}{_int(spec, 'value')}"

    def check(spec: Mapping[str, Any], text: str) -> tuple[bool, str]:
        n, value = measure(text), spec["value"]
        ok = n >= value if op == ">=" else n <= value
        return ok, f"{n} {noun} (needs {op} {value})"

    bound = "at least" if op == ">=" else "at most"
    return ConstraintType(("value",), (), describe, check, f"{bound} `value` {noun}")


def _keywords_type(forbidden: bool) -> ConstraintType:
    label = "forbidden_words" if forbidden else "include_keywords"

    def describe(spec: Mapping[str, Any]) -> str:
        return f"{label}({', '.join(_words(spec, 'value'))})"

    def check(spec: Mapping[str, Any], text: str) -> tuple[bool, str]:
        words = _words(spec, "value")
        present = [w for w in words if _keyword_pattern(w).search(text)]
        if forbidden:
            return not present, f"uses forbidden {', '.join(map(repr, present))}" if present else "none used"
        missing = [w for w in words if w not in present]
        return not missing, f"missing {', '.join(map(repr, missing))}" if missing else "all present"

    doc = ("none of the words in `value` appears" if forbidden
           else "every keyword in `value` appears (case-insensitive, whole words)")
    return ConstraintType(("value",), (), describe, check, doc)


def _json_describe(spec: Mapping[str, Any]) -> str:
    if "required_keys" in spec:
        return f"json_format(keys: {', '.join(_words(spec, 'required_keys'))})"
    return "json_format"


def _json_check(spec: Mapping[str, Any], text: str) -> tuple[bool, str]:
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1)
    try:
        value = json.loads(body)
    except (ValueError, RecursionError) as exc:
        return False, f"not JSON: {type(exc).__name__}: {str(exc)[:120]}"
    keys = _words(spec, "required_keys") if "required_keys" in spec else []
    if keys:
        if not isinstance(value, dict):
            return False, f"JSON {type(value).__name__}, not an object with keys {', '.join(keys)}"
        missing = [k for k in keys if k not in value]
        if missing:
            return False, f"JSON object lacks key(s) {', '.join(map(repr, missing))}"
    return True, "valid JSON" + (" (fenced)" if fenced else "")


_MARKDOWN_KEYS = ("min_bullets", "max_bullets", "min_headings", "title")


def _markdown_describe(spec: Mapping[str, Any]) -> str:
    parts = []
    for key in ("min_bullets", "max_bullets", "min_headings"):
        if key in spec:
            parts.append(f"{key.split('_')[1]}{'<=' if key.startswith('max') else '>='}{_int(spec, key)}")
    if "title" in spec:
        if not isinstance(spec["title"], bool):
            raise SpecError(f"'title' must be true or false, got {spec['title']!r}")
        if spec["title"]:
            parts.append("title")
    if not parts:
        raise SpecError(f"a markdown constraint needs at least one of {', '.join(_MARKDOWN_KEYS)}")
    return f"markdown({','.join(parts)})"


def _markdown_check(spec: Mapping[str, Any], text: str) -> tuple[bool, str]:
    bullets = sum(1 for _ in _BULLET.finditer(text))
    headings = sum(1 for _ in _HEADING.finditer(text))
    title = _TITLE.search(text) is not None
    ok = (
        bullets >= spec.get("min_bullets", 0)
        and ("max_bullets" not in spec or bullets <= spec["max_bullets"])
        and headings >= spec.get("min_headings", 0)
        and (title or not spec.get("title", False))
    )
    return ok, f"{bullets} bullet(s), {headings} heading(s), {'a' if title else 'no'} <<title>>"


def _language_describe(spec: Mapping[str, Any]) -> str:
    value = spec["value"]
    if value not in SUPPORTED_LANGUAGES:
        raise SpecError(f"language {value!r} is not supported; supported: {', '.join(sorted(SUPPORTED_LANGUAGES))}")
    return f"language=={value}"


def _language_check(spec: Mapping[str, Any], text: str) -> tuple[bool, str]:
    found = detect_language(text)
    if found is None:
        return False, "could not determine the language"
    return found == spec["value"], f"detected {found!r}"


def _affix_type(where: str) -> ConstraintType:
    def describe(spec: Mapping[str, Any]) -> str:
        return f"{where}({_text(spec, 'value')[:40]})"

    def check(spec: Mapping[str, Any], text: str) -> tuple[bool, str]:
        phrase, body = spec["value"].strip().lower(), text.strip().lower()
        ok = body.endswith(phrase) if where == "ends_with" else body.startswith(phrase)
        edge = body[-len(phrase) - 10:] if where == "ends_with" else body[: len(phrase) + 10]
        return ok, f"{'ends' if where == 'ends_with' else 'starts'} with {edge!r}"

    edge = "starts" if where == "starts_with" else "ends"
    return ConstraintType(("value",), (), describe, check, f"the stripped response {edge} with `value` (any case)")


def _no_commas_check(spec: Mapping[str, Any], text: str) -> tuple[bool, str]:
    n = text.count(",") + text.count("，") + text.count("、")
    return n == 0, f"{n} comma(s)"


def _case_type(case: str) -> ConstraintType:
    def check(spec: Mapping[str, Any], text: str) -> tuple[bool, str]:
        ok = text.islower() if case == "lowercase" else text.isupper()
        if ok:
            return True, f"all {case}"
        other = str.isupper if case == "lowercase" else str.islower
        wrong = next((ch for ch in text if other(ch)), None)
        if wrong is None:
            return False, "no cased letters"
        return False, f"has {'uppercase' if case == 'lowercase' else 'lowercase'} letter {wrong!r}"

    return ConstraintType((), (), lambda spec: case, check, f"every cased letter is {case} (at least one letter)")


def _count_type(noun: str, measure: Callable[[Mapping[str, Any], str], int], default: str,
                extra: tuple[str, ...] = ()) -> ConstraintType:
    def describe(spec: Mapping[str, Any]) -> str:
        relation = _relation(spec, default)
        name = f"{noun}{_RELATIONS[relation]}{_int(spec, 'value')}"
        if "separator" in spec:
            if spec["separator"] not in ("blank_line", "***"):
                raise SpecError(f"'separator' must be 'blank_line' or '***', got {spec['separator']!r}")
            name += f" (sep {spec['separator']})"
        return name

    def check(spec: Mapping[str, Any], text: str) -> tuple[bool, str]:
        relation, value = _relation(spec, default), spec["value"]
        n = measure(spec, text)
        return _compare(n, relation, value), f"{n} {noun} (needs {_RELATIONS[relation]} {value})"

    doc = f"the number of {noun} is {default.replace('_', ' ')} `value` (`relation`: at_least, at_most, exactly)"
    return ConstraintType(("value",), ("relation",) + extra, describe, check, doc)


TYPES: dict[str, ConstraintType] = {
    "min_words": _bound_type("words", count_words, ">="),
    "max_words": _bound_type("words", count_words, "<="),
    "min_sentences": _bound_type("sentences", count_sentences, ">="),
    "max_sentences": _bound_type("sentences", count_sentences, "<="),
    "include_keywords": _keywords_type(forbidden=False),
    "forbidden_words": _keywords_type(forbidden=True),
    "json_format": ConstraintType((), ("required_keys",), _json_describe, _json_check,
                                  "the whole response (optionally fenced ```json) parses as JSON; "
                                  "`required_keys`: top-level keys it must have"),
    "markdown": ConstraintType((), _MARKDOWN_KEYS, _markdown_describe, _markdown_check,
                               "`min_bullets`/`max_bullets` (- * + lines), `min_headings` (# lines), "
                               "`title`: a <<title>>"),
    "language": ConstraintType(("value",), (), _language_describe, _language_check,
                               "the response is written in language `value` (ISO 639-1 code)"),
    "starts_with": _affix_type("starts_with"),
    "ends_with": _affix_type("ends_with"),
    "no_commas": ConstraintType((), (), lambda spec: "no_commas", _no_commas_check, "no comma anywhere"),
    "lowercase": _case_type("lowercase"),
    "uppercase": _case_type("uppercase"),
    "num_paragraphs": _count_type(
        "paragraphs", lambda spec, text: len(split_paragraphs(text, spec.get("separator", "blank_line"))),
        "exactly", ("separator",)),
    "placeholders": _count_type(
        "placeholders", lambda spec, text: sum(1 for _ in _PLACEHOLDER.finditer(text)), "at_least"),
}


def known_types() -> str:
    return ", ".join(TYPES)


def parse_constraint(item: Any, where: str) -> Constraint:
    if not isinstance(item, Mapping):
        raise SpecError(f"{where}: a constraint is a mapping with a 'type', got {item!r:.80}; known types: "
                        f"{known_types()}")
    kind = item.get("type")
    if kind not in TYPES:
        raise SpecError(f"{where}: unknown constraint type {kind!r}; known types: {known_types()}")
    ctype = TYPES[kind]
    allowed = {"type", "name", *ctype.required, *ctype.optional}
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise SpecError(f"{where} ({kind}): unknown key(s) {', '.join(map(repr, unknown))}; "
                        f"allowed: {', '.join(sorted(allowed))}")
    missing = [k for k in ctype.required if k not in item]
    if missing:
        raise SpecError(f"{where} ({kind}): missing key(s) {', '.join(map(repr, missing))}")
    spec = {k: v for k, v in item.items() if k not in ("type", "name")}
    try:
        name = ctype.describe(spec)
    except SpecError as exc:
        raise SpecError(f"{where} ({kind}): {exc}") from None
    if "name" in item:
        if not isinstance(item["name"], str) or not item["name"].strip():
            raise SpecError(f"{where} ({kind}): 'name' must be a non-empty string, got {item['name']!r}")
        name = item["name"]
    return Constraint(name, kind, spec)


def parse_constraints(source: Any, where: str = "the reference") -> list[Constraint]:
    """A list of constraints from a list of specs, one spec, or a JSON string of either. Raises `SpecError`."""
    if isinstance(source, str):
        try:
            source = json.loads(source)
        except ValueError:
            raise SpecError(f"{where}: a string must be JSON holding a list of constraints; "
                            f"got {source!r:.80}") from None
    if isinstance(source, Mapping):
        source = [source]
    if not isinstance(source, (list, tuple)):
        raise SpecError(f"{where}: expected a list of constraints like [{{\"type\": \"max_words\", \"value\": 100}}], "
                        f"got {type(source).__name__}; known types: {known_types()}")
    if not source:
        raise SpecError(f"{where}: the list of constraints is empty")
    constraints = [parse_constraint(item, f"{where}, constraint {i}") for i, item in enumerate(source)]
    seen: dict[str, int] = {}
    unique = []
    for c in constraints:  # step names are aspect keys: make them unique
        seen[c.name] = seen.get(c.name, 0) + 1
        unique.append(c if seen[c.name] == 1 else Constraint(f"{c.name} #{seen[c.name]}", c.type, c.spec))
    return unique
