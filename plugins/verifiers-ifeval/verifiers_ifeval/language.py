"""A small, dependency-free language detector: the writing system first, then function words for Latin script.

Good enough to tell "answered in French" from "answered in English" for a paragraph or more; not a general
language identifier. Limits: texts under a few words are often undetermined (None); closely related languages
that share a script and most function words (Spanish/Catalan/Galician, Russian/Belarusian, Hindi/Marathi/Nepali,
Arabic/Persian/Urdu) are not told apart; Latin-script languages outside `LATIN_STOPWORDS` are never detected.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

__all__ = ["LATIN_STOPWORDS", "MAX_CHARS", "SUPPORTED_LANGUAGES", "detect_language"]

MAX_CHARS = 20_000
"""Only this many leading characters are read: enough to decide, bounded time on huge responses."""

# Frequent function words, chosen to tell the languages apart (words shared by several lists count for each).
LATIN_STOPWORDS: dict[str, frozenset[str]] = {
    lang: frozenset(words.split())
    for lang, words in {
        "en": "the and is are was were of to with that this it for you have has be not on from they which would "
              "there their what will an or by we can been",
        "fr": "le les des est et une un du dans pour que qui pas sur avec ce cette sont nous vous il elle au aux "
              "mais être plus ou été je ne très",
        "de": "der die das und ist nicht ein eine zu den mit sich des auf für im dem von auch es sind wir ich wird "
              "werden oder aber noch nach bei",
        "es": "el los las y es que del por con una para está son se lo como más pero sus al muy también fue hay "
              "este esta yo ha",
        "it": "il lo gli di che è e non per sono una della del con anche come più nel alla questo questa ma io ha "
              "essere degli delle stato",
        "pt": "o os as não é em um uma do da dos das com para que se mais por no na ao mas foi são está também eu "
              "você muito",
        "nl": "de het een en van is niet dat op te met voor zijn er ook maar aan om als wordt bij nog naar ik je "
              "wij dit deze hebben",
    }.items()
}

SUPPORTED_LANGUAGES: frozenset[str] = frozenset(
    set(LATIN_STOPWORDS) | {"zh", "ja", "ko", "ru", "uk", "el", "ar", "he", "hi", "th"}
)

_UKRAINIAN_ONLY = set("іїєґІЇЄҐ")
_WORD = re.compile(r"[^\W\d_]+")


def _script(ch: str) -> str | None:
    """The writing system of a letter, or None for anything that is not a letter."""
    code = ord(ch)
    if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF:
        return "han"
    if 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF:
        return "kana"
    if 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
        return "hangul"
    if not ch.isalpha():
        return None
    if code < 0x250 or 0x1E00 <= code <= 0x1EFF:
        return "latin"
    if 0x0400 <= code <= 0x052F:
        return "cyrillic"
    if 0x0370 <= code <= 0x03FF or 0x1F00 <= code <= 0x1FFF:
        return "greek"
    if 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F:
        return "arabic"
    if 0x0590 <= code <= 0x05FF:
        return "hebrew"
    if 0x0900 <= code <= 0x097F:
        return "devanagari"
    if 0x0E00 <= code <= 0x0E7F:
        return "thai"
    return "other"


_SCRIPT_LANGUAGE = {"hangul": "ko", "greek": "el", "arabic": "ar", "hebrew": "he", "devanagari": "hi", "thai": "th"}


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of the language `text` is written in, or None when it cannot tell."""
    text = unicodedata.normalize("NFC", text[:MAX_CHARS])
    scripts = Counter(s for s in map(_script, text) if s is not None)
    if not scripts:
        return None
    if scripts["han"] or scripts["kana"]:
        cjk = scripts["han"] + scripts["kana"]
        if cjk >= max(scripts.values()):
            # Japanese mixes kana into kanji; Chinese has none.
            return "ja" if scripts["kana"] >= 0.05 * cjk else "zh"
    script, _ = scripts.most_common(1)[0]
    if script in _SCRIPT_LANGUAGE:
        return _SCRIPT_LANGUAGE[script]
    if script == "cyrillic":
        return "uk" if sum(ch in _UKRAINIAN_ONLY for ch in text) else "ru"
    if script != "latin":
        return None
    words = Counter(w.lower() for w in _WORD.findall(text))
    hits = {lang: sum(n for w, n in words.items() if w in stop) for lang, stop in LATIN_STOPWORDS.items()}
    ranked = sorted(hits.items(), key=lambda kv: kv[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if top == 0 or top == second:
        return None
    return best
