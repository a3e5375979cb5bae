"""The persistent Lean worker (`verifiers.formal.worker`), against the real WebAssembly Lean (slow: process
start-ups take ~20-40 s each; the whole file runs in about two minutes)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from verifiers.formal.worker import LeanWorker, LeanWorkerError

pytestmark = pytest.mark.slow

HEADER = "import Lean\n"


@pytest.fixture(scope="module")
def worker(lean_toolchain) -> Iterator[LeanWorker]:
    if lean_toolchain.kind != "wasm":
        pytest.skip("LeanWorker runs the WebAssembly Lean only")
    with LeanWorker(lean_toolchain, header=HEADER, max_documents=4) as worker:
        yield worker


def errors(messages: list[dict]) -> list[dict]:
    return [m for m in messages if m["severity"] == "error"]


def test_documents_do_not_see_each_other(worker: LeanWorker) -> None:
    assert worker.check(HEADER + "def secretValue : Nat := 41\nexample : secretValue + 1 = 42 := rfl\n") == []
    found = errors(worker.check(HEADER + "example : secretValue = 41 := rfl\n"))
    assert found and "secretValue" in found[0]["data"]
    assert found[0]["pos"]["line"] == 2


def test_correct_snippet_has_no_error(worker: LeanWorker) -> None:
    assert errors(worker.check(HEADER + "theorem addComm (a b : Nat) : a + b = b + a := by omega\n")) == []


def test_failed_proof_is_reported_at_its_line(worker: LeanWorker) -> None:
    found = errors(worker.check(HEADER + "\ntheorem fine : 2 = 2 := rfl\nexample : 1 = 2 := by rfl\n"))
    assert len(found) == 1
    assert found[0]["pos"]["line"] == 4
    assert found[0]["endPos"]["line"] == 4


def test_processes_are_recycled(worker: LeanWorker) -> None:
    worker.check(HEADER + "example : 0 = 0 := rfl\n")  # a process is running, whatever the tests before did
    first, held = worker.pid, []
    for i in range(worker.max_documents):  # the process serving now retires within max_documents checks
        text = HEADER + f"theorem ok{i} (n : Nat) : n + {i} = {i} + n := by omega\nexample : {i} = {i + 1} := by rfl\n"
        found = errors(worker.check(text))
        assert [m["pos"]["line"] for m in found] == [3], found
        held.append(worker.live_processes)
        if worker.pid != first:
            break
    assert worker.pid != first
    assert 2 in held  # a spare was started before the recycling


def test_timeout_kills_and_recovers(worker: LeanWorker) -> None:
    # 40 omega proofs take well over a second here: a 20 ms limit must fire
    slow = HEADER + "".join(f"theorem slow{i} (a b : Nat) : a + b + {i} = {i} + b + a := by omega\n" for i in range(40))
    with pytest.raises(LeanWorkerError, match="timed out"):
        worker.check(slow, timeout=0.02)
    assert errors(worker.check(HEADER + "example : 3 = 3 := rfl\n")) == []


def test_document_must_start_with_the_header(worker: LeanWorker) -> None:
    with pytest.raises(ValueError):
        worker.check("example : 1 = 1 := rfl\n")

