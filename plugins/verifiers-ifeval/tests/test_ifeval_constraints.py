"""Each constraint type: a passing and a failing response, and the tricky measurements."""

from __future__ import annotations

import pytest
from verifiers import Sample, Status
from verifiers_ifeval import IFEval, count_sentences, count_words

VERIFIER = IFEval()


def check(response: str, constraint: dict) -> tuple[bool, str]:
    """Whether `response` satisfies the one `constraint`, and the step's detail."""
    verdict = VERIFIER.verify(Sample(response, [constraint]))
    assert verdict.status in (Status.CORRECT, Status.INCORRECT), verdict.reason
    (step,) = verdict.steps
    return step.status is Status.CORRECT, step.detail


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", 0),
        ("Hello, world!", 2),
        ("A well-known state-of-the-art model.", 4),
        ("Don't stop — it's fine.", 4),
        ("It costs 3.5 dollars, i.e. cheap.", 6),
        ("   spaced    out\n\nwords  ", 3),
        ("... !!! ---", 0),
        ("我们去公园", 5),
    ],
)
def test_word_counting(text, words):
    assert count_words(text) == words


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("", 0),
        ("One sentence without a full stop", 1),
        ("First. Second! Third?", 3),
        ("Fruits, e.g. apples, are good. Dr. Smith agrees.", 2),
        ("Pi is about 3.14 and e is 2.718. Both are irrational.", 2),
        ("He said \"stop.\" Then he left.", 2),
        ("Wait... what?! Really.", 3),
        ("Title line\n\nA paragraph without a stop", 2),
        ("你好。今天天气很好！", 2),
        ("Version 1.2.3 shipped i.e. yesterday.", 1),
    ],
)
def test_sentence_counting(text, sentences):
    assert count_sentences(text) == sentences


def test_min_and_max_words():
    assert check("one two three", {"type": "min_words", "value": 3}) == (True, "3 words (needs >= 3)")
    assert check("one two", {"type": "min_words", "value": 3})[0] is False
    assert check("well-known, state-of-the-art!", {"type": "max_words", "value": 2})[0] is True  # hyphenated = 1 word
    assert check("a b c", {"type": "max_words", "value": 2}) == (False, "3 words (needs <= 2)")


def test_min_and_max_sentences():
    text = "See e.g. the docs. It costs 3.5 euros. Done."
    assert check(text, {"type": "min_sentences", "value": 3})[0] is True
    assert check(text, {"type": "max_sentences", "value": 2}) == (False, "3 sentences (needs <= 2)")


def test_include_keywords_are_case_insensitive_whole_words():
    constraint = {"type": "include_keywords", "value": ["Python", "unit test"]}
    assert check("I write PYTHON with a Unit Test.", constraint)[0] is True
    ok, detail = check("Pythonic code without tests", constraint)
    assert not ok and "'Python'" in detail and "'unit test'" in detail


def test_forbidden_words():
    constraint = {"type": "forbidden_words", "value": ["very", "really"]}
    assert check("Everything is fine.", constraint)[0] is True  # "every" is not "very"
    assert check("It is Very good.", constraint) == (False, "uses forbidden 'very'")


@pytest.mark.parametrize(
    "response",
    ['{"a": 1}', '  [1, 2, 3]\n', '```json\n{"a": 1}\n```', '```\n{"a": 1}\n```', '"just a string"'],
)
def test_json_format_passes(response):
    assert check(response, {"type": "json_format"})[0] is True


@pytest.mark.parametrize(
    "response",
    ["{'a': 1}", 'Here you go: {"a": 1}', '```json\n{"a": 1}\n```\nHope this helps', "", "{" * 100_000],
)
def test_json_format_fails(response):
    ok, detail = check(response, {"type": "json_format"})
    assert not ok and detail.startswith("not JSON")


def test_json_required_keys():
    constraint = {"type": "json_format", "required_keys": ["name", "age"]}
    assert check('```json\n{"name": "x", "age": 3}\n```', constraint)[0] is True
    assert check('{"name": "x"}', constraint) == (False, "JSON object lacks key(s) 'age'")
    assert check('[1]', constraint)[0] is False


def test_markdown():
    text = "<<My Title>>\n# Heading\n\n- one\n* two\n+ three\n\n***\n"
    assert check(text, {"type": "markdown", "min_bullets": 3, "min_headings": 1, "title": True})[0] is True
    assert check(text, {"type": "markdown", "max_bullets": 2})[0] is False
    ok, detail = check("- only one bullet\n#not a heading", {"type": "markdown", "min_bullets": 2, "title": True})
    assert not ok and detail == "1 bullet(s), 0 heading(s), no <<title>>"
    assert check("<<  >>", {"type": "markdown", "title": True})[0] is False


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("The weather is nice today and we are going to the park.", "en"),
        ("Il fait beau aujourd'hui et nous allons au parc avec les enfants.", "fr"),
        ("Das Wetter ist heute schön und wir gehen mit den Kindern in den Park.", "de"),
        ("Hoy hace buen tiempo y vamos al parque con los niños.", "es"),
        ("今天天气很好，我们去公园。", "zh"),
        ("Сегодня хорошая погода, и мы идём в парк.", "ru"),
    ],
)
def test_language_passes(text, language):
    assert check(text, {"type": "language", "value": language}) == (True, f"detected {language!r}")


def test_language_fails():
    assert check("The weather is nice today.", {"type": "language", "value": "fr"}) == (False, "detected 'en'")
    assert check("12345 !!!", {"type": "language", "value": "en"}) == (False, "could not determine the language")


def test_starts_and_ends_with():
    text = "  Dear reader, here it is. Is there anything else I can help with?  "
    assert check(text, {"type": "ends_with", "value": "is there anything else I can help with?"})[0] is True
    assert check(text, {"type": "starts_with", "value": "dear reader"})[0] is True
    assert check(text, {"type": "ends_with", "value": "Goodbye."})[0] is False
    assert check(text, {"type": "starts_with", "value": "Hello"})[0] is False


def test_no_commas():
    assert check("No commas here.", {"type": "no_commas"}) == (True, "0 comma(s)")
    assert check("One, two，three", {"type": "no_commas"}) == (False, "2 comma(s)")


def test_lowercase_and_uppercase():
    assert check("all lower case, 123!", {"type": "lowercase"})[0] is True
    assert check("Not lower", {"type": "lowercase"}) == (False, "has uppercase letter 'N'")
    assert check("ALL CAPS 42", {"type": "uppercase"})[0] is True
    assert check("ALMOST aLL", {"type": "uppercase"}) == (False, "has lowercase letter 'a'")
    assert check("1234", {"type": "lowercase"}) == (False, "no cased letters")


def test_num_paragraphs():
    text = "First paragraph.\n\nSecond one\nstill second.\n\n\n  \nThird."
    assert check(text, {"type": "num_paragraphs", "value": 3}) == (True, "3 paragraphs (needs == 3)")
    assert check(text, {"type": "num_paragraphs", "value": 2, "relation": "at_most"})[0] is False
    stars = "One\n***\nTwo\n***\nThree"
    assert check(stars, {"type": "num_paragraphs", "value": 3, "separator": "***"})[0] is True
    assert check(stars, {"type": "num_paragraphs", "value": 3})[0] is False  # no blank lines: one paragraph


def test_placeholders():
    text = "Dear [name], your order [order id] ships to [address]. See [the docs](https://x.y)."
    assert check(text, {"type": "placeholders", "value": 3}) == (True, "3 placeholders (needs >= 3)")
    assert check(text, {"type": "placeholders", "value": 4})[0] is False
    assert check(text, {"type": "placeholders", "value": 3, "relation": "exactly"})[0] is True
