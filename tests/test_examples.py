"""The mixed example of the README's command 1 (`examples/mixed.jsonl`): every row gets the status its `expected`
field names, through the same `verifiers run` the command uses; a row whose system part is missing (bubblewrap,
a Lean toolchain) is skipped with the reason, after checking that its ERROR record says what to install."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sandboxes import SandboxUnavailable
from sandboxes.bwrap import bwrap_usable
from sandboxes.plugin import default_sandbox
from verifiers import Sample, Status
from verifiers.cli import main
from verifiers.formal.verifier import LeanVerifier

MIXED = Path(__file__).resolve().parent.parent / "examples" / "mixed.jsonl"
ROWS: list[dict[str, Any]] = [json.loads(line) for line in MIXED.read_text(encoding="utf-8").splitlines()]
LEAN_ROWS = [row for row in ROWS if row["domain"] == "lean"]
OTHER_ROWS = [row for row in ROWS if row["domain"] != "lean"]  # seconds, where Lean's start-up alone is ~20 s


def run_rows(rows: list[dict[str, Any]], folder: Path) -> dict[str, dict[str, Any]]:
    """The verdicts `verifiers run` writes for these rows, by id."""
    data, out = folder / "mixed.jsonl", folder / "results.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    assert main(["run", str(data), "-o", str(out), "--no-progress"]) == 0
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return {record["id"]: record["verdict"] for record in records}


@pytest.fixture(scope="module")
def other_verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return run_rows(OTHER_ROWS, tmp_path_factory.mktemp("mixed"))


def test_the_example_shows_each_kind_of_check_with_a_near_miss() -> None:
    """What the README promises of the example: math, code, Lean and rule rows, each domain with a wrong answer
    beside its right one, and code with a PARTIAL."""
    expected = {(row["domain"], row["expected"]) for row in ROWS}
    for domain in ("math", "code", "lean", "multiple_choice", "numeric"):
        assert {(domain, "correct"), (domain, "incorrect")} <= expected, domain
    assert ("code", "partial") in expected
    assert all(Status(row["expected"]) for row in ROWS) and len({row["id"] for row in ROWS}) == len(ROWS)


@pytest.mark.parametrize("row", OTHER_ROWS, ids=[row["id"] for row in OTHER_ROWS])
def test_row_gets_its_expected_status(row: dict[str, Any], other_verdicts: dict[str, dict[str, Any]]) -> None:
    verdict = other_verdicts[row["id"]]
    if row["domain"] == "code" and (reason := bwrap_usable()):
        assert verdict["status"] == "error" and reason in verdict["reason"]  # an ERROR that says why, never a 0
        pytest.skip(f"bubblewrap cannot run here: {reason}")
    assert verdict["status"] == row["expected"], verdict["reason"]


@pytest.mark.slow
def test_lean_rows_get_their_expected_statuses(lean_toolchain: object, tmp_path: Path) -> None:
    verdicts = run_rows(LEAN_ROWS, tmp_path)
    assert {i: v["status"] for i, v in verdicts.items()} == {row["id"]: row["expected"] for row in LEAN_ROWS}


def test_without_bubblewrap_the_error_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(SandboxUnavailable) as raised:
        default_sandbox(bwrap=str(tmp_path / "bwrap"))  # a bwrap that is not there
    assert "apt-get install bubblewrap" in str(raised.value)
    assert "scripts/install-system-packages" in str(raised.value)


def test_without_lean_or_npm_the_lean_rows_are_errors_that_say_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No Lean installed, no native `lean`, and no npm to install one with: ERROR records naming the package."""
    monkeypatch.setenv("VERIFIERS_LEAN_HOME", str(tmp_path / "lean"))
    monkeypatch.setenv("PATH", str(tmp_path))  # neither `lean` nor `npm` on it
    monkeypatch.delenv("VERIFIERS_LEAN", raising=False)
    samples = [Sample(row["response"], row["reference"], domain="lean") for row in LEAN_ROWS]
    verdicts = LeanVerifier().verify_batch(samples)
    assert not any(v.status is Status.CORRECT for v in verdicts)
    proof = verdicts[[row["id"] for row in LEAN_ROWS].index("lean-proof")]
    assert proof.status is Status.ERROR and proof.reward is None
    assert "apt-get install npm" in proof.reason and "verifiers lean install" in proof.reason
