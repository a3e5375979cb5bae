"""The language detector and the text measures: known answers, documented limits, invariants."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifiers_ifeval import SUPPORTED_LANGUAGES, count_sentences, count_words, detect_language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Il gatto è sulla tavola e non dorme perché ha fame.", "it"),
        ("O gato não está em casa, mas é muito bonito.", "pt"),
        ("De kat is niet in het huis, maar ik weet niet waar hij is.", "nl"),
        ("今日は公園に行きました。", "ja"),
        ("오늘은 날씨가 좋습니다.", "ko"),
        ("Привіт, як справи? Це її книга.", "uk"),
        ("Καλημέρα, τι κάνεις σήμερα;", "el"),
        ("مرحبا بالعالم، كيف حالك؟", "ar"),
        ("שלום עולם, מה שלומך?", "he"),
        ("नमस्ते दुनिया, आप कैसे हैं?", "hi"),
        ("สวัสดีครับ วันนี้อากาศดี", "th"),
        ("The answer is 北京, the capital of China.", "en"),  # the script of most letters wins
    ],
)
def test_detects_the_language(text, language):
    assert detect_language(text) == language


@pytest.mark.parametrize("text", ["", "42 + 7 = 49", "OK", "Hmm."])
def test_undetermined_when_there_is_too_little_to_go_on(text):
    assert detect_language(text) is None


def test_every_detectable_code_is_a_supported_value():
    samples = ["The cat is on the mat.", "Le chat est sur le tapis.", "你好", "Привет"]
    assert {detect_language(s) for s in samples} <= SUPPORTED_LANGUAGES


@settings(deadline=None)
@given(st.text())
def test_measures_are_total_and_consistent(text):
    words, sentences = count_words(text), count_sentences(text)
    assert 0 <= sentences <= words
    assert detect_language(text) in SUPPORTED_LANGUAGES | {None}
