"""The near-miss battery (`tests/data/math_near_misses.jsonl`): every wrong answer that looks like the right one is
not CORRECT, and the right twins, written differently from the gold, are CORRECT.

Each row is a gold answer, the wrong answer most like the right one (off by one, truncated, other unit, other
variable, extra term, a hedge, ...) and an equivalent rewrite. The rows were written for this project, checked
with sympy where a check can be written; `benchmarks/math_accuracy.py` runs them beside Math-Verify.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

import verifiers
from verifiers.verdict import Sample, Status

BATTERY = Path(__file__).parent / "data" / "math_near_misses.jsonl"
ROWS = [json.loads(line) for line in BATTERY.read_text(encoding="utf-8").splitlines() if line.strip()]


def _verdicts(key: str) -> list[verifiers.Verdict]:
    samples = [Sample(r[key], r["gold"], domain="math", metadata={"answer_only": True}, id=r["id"]) for r in ROWS]
    return verifiers.verify_batch(samples, workers=2, timeout=20.0)


@pytest.fixture(scope="module")
def wrong_verdicts() -> list[verifiers.Verdict]:
    return _verdicts("wrong")


@pytest.fixture(scope="module")
def right_verdicts() -> list[verifiers.Verdict]:
    return _verdicts("right")


def test_battery_is_well_formed() -> None:
    assert len(ROWS) >= 200
    assert len({r["id"] for r in ROWS}) == len(ROWS)
    categories = Counter(r["category"] for r in ROWS)
    assert len(categories) >= 20 and min(categories.values()) >= 5, categories
    for r in ROWS:
        assert r["wrong"] != r["gold"] and r["wrong"] != r["right"], r["id"]


def test_no_wrong_answer_is_correct(wrong_verdicts: list[verifiers.Verdict]) -> None:
    accepted = [(r["id"], r["gold"], r["wrong"], v.verifier, v.reason) for r, v in zip(ROWS, wrong_verdicts)
                if v.status is Status.CORRECT]
    assert accepted == []


def test_wrong_answers_are_decided_and_never_errors(wrong_verdicts: list[verifiers.Verdict]) -> None:
    failed = [(r["id"], v.status.value, v.reason) for r, v in zip(ROWS, wrong_verdicts)
              if v.status in (Status.ERROR, Status.TIMEOUT)]
    assert failed == []


def test_right_twins_are_correct(right_verdicts: list[verifiers.Verdict]) -> None:
    missed = [(r["id"], r["gold"], r["right"], v.status.value, v.reason) for r, v in zip(ROWS, right_verdicts)
              if v.status is not Status.CORRECT]
    assert len(missed) <= 0.05 * len(ROWS), missed
    assert len(missed) <= 3, missed  # the figure today: 1 (a complex conjugate bar, `\overline{1+i}`)
