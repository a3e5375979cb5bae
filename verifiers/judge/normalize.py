"""What the judge guards compare: text with its invisible characters removed and its look-alike letters folded.

A policy under RL that learns "Solution" is rejected tries `Sol\\u200bution` (a zero-width space), `Sol\\u00adution`
(a soft hyphen), `Sоlution` (a Cyrillic о), `𝐒𝐨𝐥𝐮𝐭𝐢𝐨𝐧` (mathematical bold) or `Ｓｏｌｕｔｉｏｎ` (full width)
next. Every one of them reads "Solution" to a judge model, so the guards match on `fold(text)`:

  remove_invisible(text)  drop format characters (Unicode category Cf: zero-width spaces and joiners, the soft
                          hyphen, bidirectional controls, tag characters), variation selectors, the combining
                          grapheme joiner, Hangul fillers, the blank braille pattern and non-space control characters
  fold(text)              remove_invisible, then compatibility decomposition (NFKD: full width, mathematical
                          alphanumerics, ligatures, circled letters), combining marks dropped, look-alikes of Latin
                          letters (Cyrillic, Greek, Armenian, Cherokee, small capitals) mapped to them, case folded,
                          apostrophes unified

`fold` is for matching only (a genuine Russian "Ответ" folds to a mixed-script string that matches nothing but the
fold of "Ответ" itself); what a judge is shown keeps its letters and loses only the invisible characters.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["CONFUSABLES", "INVISIBLE", "fold", "remove_invisible"]

INVISIBLE = re.compile(
    "["
    # category Cf (Unicode 15): soft hyphen, Arabic and Syriac marks, zero-width space/joiners, bidi controls,
    # word joiner and invisible operators, BOM, interlinear annotations, shorthand format controls, tag characters
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    "\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
    # invisible but not Cf: combining grapheme joiner, Mongolian and other variation selectors, Khmer inherent
    # vowels, Hangul fillers, the blank braille pattern
    "\u034f\u180b-\u180d\u180f\ufe00-\ufe0f\U000e0100-\U000e01ef\u17b4\u17b5\u115f\u1160\u3164\uffa0\u2800"
    # control characters that are not whitespace
    "\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f"
    "]"
)
"""Characters that render as nothing (or as a blank) and that no answer needs."""

_LOOK_ALIKES = {
    # lower case: Cyrillic (also by shape: т м н п г и в), Greek, Armenian, Latin small capitals and variants
    "a": "аӑӓαɑᴀ", "b": "ьвʙ", "c": "сϲᴄ", "d": "ԁᴅ", "e": "еёҽεᴇ", "f": "ꜰ", "g": "ɡɢց", "h": "һнհʜ",
    "i": "іїɩıɪ", "j": "јϳȷᴊ", "k": "кκᴋ", "l": "ӏǀʟ", "m": "мᴍ", "n": "пηոɴ", "o": "оοօᴏ", "p": "рρᴘ",
    "q": "ԛզꞯ", "r": "гʀ", "s": "ѕꜱ", "t": "тτᴛ", "u": "иυսᴜ", "v": "νᴠ", "w": "ԝωᴡ", "x": "хχ", "y": "уүγʏ",
    "z": "ᴢ",
    # capitals: Cyrillic, Greek, Armenian, Cherokee
    "A": "АΑᎪ", "B": "ВЬΒᏴ", "C": "СϹᏟ", "D": "Ꭰ", "E": "ЕΕᎬ", "G": "ԌᏀ", "H": "НΗᎻ", "I": "ІӀΙ", "J": "ЈͿᎫ",
    "K": "КΚᏦ", "L": "Ꮮ", "M": "МΜᎷ", "N": "Ν", "O": "ОΟՕ", "P": "РΡᏢ", "Q": "Ԛ", "R": "Ꭱ", "S": "ЅՏᏚ",
    "T": "ТΤᎢ", "V": "Ꮩ", "W": "ԜᏔ", "X": "ХΧ", "Y": "УҮΥ", "Z": "ΖᏃ",
}  # fmt: skip

CONFUSABLES: dict[int, str] = {ord(ch): latin for latin, chars in _LOOK_ALIKES.items() for ch in chars}
"""Letters of other scripts that look like a Latin letter, mapped to it (for matching, never for display)."""

_MARKS = dict.fromkeys(c for c in range(0x300, 0x20000) if unicodedata.category(chr(c)) in ("Mn", "Me"))
"""Combining marks, to drop after decomposition (none lies above U+1FFFF but the variation selectors, invisible)."""

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "ʹ": "'", "′": "'", "`": "'", "´": "'", "＇": "'"})


def remove_invisible(text: str) -> str:
    """`text` without the characters in `INVISIBLE`."""
    return INVISIBLE.sub("", text)


def fold(text: str) -> str:
    """The matching form of `text`: invisible characters removed, compatibility forms and look-alike letters
    mapped to plain (Latin) letters, combining marks dropped, case folded. Punctuation and LaTeX are kept."""
    text = remove_invisible(text)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = text.translate(_MARKS)
        text = remove_invisible(unicodedata.normalize("NFC", text))
        text = text.translate(CONFUSABLES).casefold().translate(CONFUSABLES).lower()
        return text.translate(_APOSTROPHES)
    return text.lower().replace("`", "'")
