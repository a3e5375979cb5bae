"""Reading generative judges: decisions, grades and per-principle verdicts; no decision means None."""

from __future__ import annotations

import pytest
from support.properties import given, settings, st

from verifiers.judge.parse import parse_decision, parse_grade, parse_principles
from verifiers.judge.templates import TEMPLATES, TemplateError


@pytest.mark.parametrize(
    ("text", "decision"),
    [
        ("The response matches the reference.\nFinal Decision: Yes", True),
        ("Final decision: **No**", False),
        ("Verdict: incorrect", False),
        ("Judgement: correct.", True),
        ("Both are the same value, so \\boxed{Yes}", True),
        ("\\boxed{\\text{No}}", False),
        ("At first I thought Final Decision: Yes, but on reflection Final Decision: No", False),  # the last one
        ("Final Decision: not equivalent", False),
        ("I am not sure.", None),
        ("yes no yes", None),  # no stated decision
        ("", None),
    ],
)
def test_parse_decision(text, decision):
    assert parse_decision(text) is decision


@pytest.mark.parametrize(
    ("text", "grade"),
    [
        ("The answer is consistent with the reference. \\boxed{A}", "A"),
        ("[[B]]", "B"),
        ("Grade: C", "C"),
        ("Final grade: A ... on second thought Final grade: B", "B"),
        ("\\boxed{D}", None),  # not an allowed grade
        ("A response like this", None),
    ],
)
def test_parse_grade(text, grade):
    assert parse_grade(text) == grade


def test_parse_principles():
    text = "1. Yes — it cites a source\n2) no\nPrinciple 3: Correct\n- 5: yes\n7. yes (out of range)\n2. yes"
    assert parse_principles(text, 5) == [True, True, True, None, True]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_parsers_never_raise(text):
    assert parse_decision(text) in (True, False, None)
    assert parse_grade(text) in (None, "A", "B", "C")
    assert len(parse_principles(text, 3)) == 3


# -- templates --------------------------------------------------------------------------------------------------


def test_reference_template_renders_chat_messages_with_every_field():
    messages = TEMPLATES["reference"].render(question="2+2?", reference="4", answer="4", excerpt="so 4")
    assert [m["role"] for m in messages] == ["system", "user"]
    user = messages[1]["content"]
    assert "2+2?" in user and "Reference answer:\n4" in user and "Final Decision: Yes" in user


def test_principles_are_numbered_and_the_mode_names_the_parser():
    template = TEMPLATES["principles"]
    user = template.render(question="Write a haiku", excerpt="...", principles=["three lines", "about autumn"])[1]
    assert "1. three lines\n2. about autumn" in user["content"]
    assert {t.mode for t in TEMPLATES.values()} == {"logprob", "decision", "grade", "principles"}


def test_missing_or_unknown_fields_are_errors():
    with pytest.raises(TemplateError, match="missing"):
        TEMPLATES["reference"].render(question="q", reference="r", answer="a")
    with pytest.raises(TemplateError, match="not used"):
        TEMPLATES["reference_grade"].render(question="q", reference="r", answer="a", excerpt="e", extra="x")
