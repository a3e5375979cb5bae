"""The Lean checker against a real Lean (native when on PATH, else the WebAssembly Lean from npm).

Slow under WebAssembly (each Lean process costs ~8-10 s of start-up on 2 cores), so the cases are grouped into few
batches: module-scoped fixtures check many snippets at once and the tests read their results.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from support.bench import bench_rows

import verifiers
from verifiers import Sample, Status
from verifiers.formal import LeanChecker, Outcome, Snippet
from verifiers.formal.checker import Mode, _Prepared

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def toolchain(lean_toolchain):
    return lean_toolchain


@pytest.fixture(scope="module")
def checker(toolchain):
    # two processes whatever the machine: the bench batch is two chunks, checked side by side
    return LeanChecker(toolchain, processes=2)


# Snippets that pass the source policy, so only Lean and the audit can refuse them; (statement, proof, proved?).
THROUGH_LEAN = {
    "classical logic is allowed": ("theorem t (p : Prop) : p ∨ ¬p", "Classical.em p", True),
    "funext is allowed": ("theorem t (f g : Nat → Nat) (h : ∀ x, f x = g x) : f = g", "funext h", True),
    "decide +native trusts the compiler": ("theorem t : 2 + 2 = 4", "by decide +native", False),
    "a weaker restated theorem": ("theorem t : 1 = 2", "theorem t : True := trivial", False),
    "a parse error": ("theorem t : 1 = 1", "by (", False),
    "the neighbour of a parse error": ("theorem t : 2 = 2", "rfl", True),
    "unbalanced parentheses": ("theorem t : 3 = 3", "(rfl", False),
    "a proof at column zero": ("theorem t (p q : Prop) (hp : p) (hq : q) : p ∧ q", "by\nconstructor\nexact hp\nexact hq", True),
    "exact? cannot prove False": ("theorem t : False", "by exact?", False),
}
# Complete snippets: the second must not see the first's names.
ISOLATION = [
    "theorem helper : 41 + 1 = 42 := rfl\nexample : True := trivial",
    "theorem uses_helper : 41 + 1 = 42 := helper",
]


@pytest.fixture(scope="module")
def batch(checker):
    """One `check` call for the public bench (as statement + proof, as complete code, and each statement alone),
    the cheats that reach Lean, and the isolation pair."""
    rows = bench_rows("lean_cases.jsonl")
    snippets = [Snippet(r["statement"], r["proof"]) for r in rows]
    snippets += [Snippet(code=r["code"]) for r in rows]
    snippets += [Snippet(r["statement"], placeholder=True) for r in rows]
    snippets += [Snippet(s, p) for s, p, _ in THROUGH_LEAN.values()]
    snippets += [Snippet(code=c) for c in ISOLATION]
    start = time.monotonic()
    results = checker.check(snippets)
    n = len(rows)
    return {
        "rows": rows,
        "bench": results[:n],
        "bench_code": results[n : 2 * n],
        "bench_statements": results[2 * n : 3 * n],
        "through_lean": dict(zip(THROUGH_LEAN, results[3 * n : 3 * n + len(THROUGH_LEAN)])),
        "isolation": results[3 * n + len(THROUGH_LEAN) :],
        "seconds": time.monotonic() - start,
    }


def test_bench_agreement_is_at_least_97_percent(batch):
    disagreements = [
        (row["id"], row["category"], res.outcome.value, res.reason[:120])
        for row, res in zip(batch["rows"], batch["bench"])
        if (res.outcome is Outcome.PROVED) != row["expected_valid"]
    ]
    agreement = 1 - len(disagreements) / len(batch["rows"])
    assert agreement >= 0.97, disagreements


def test_bench_as_complete_snippets_agrees_too(batch):
    """The same cases given as whole snippets (`example`s named by the verifier, the snippet's own header)."""
    disagreements = [
        (row["id"], res.outcome.value, res.reason[:120])
        for row, res in zip(batch["rows"], batch["bench_code"])
        if (res.outcome is Outcome.PROVED) != row["expected_valid"]
    ]
    assert 1 - len(disagreements) / len(batch["rows"]) >= 0.97, disagreements


def test_every_bench_statement_elaborates_on_its_own(batch):
    """The placeholder check behind FORMALIZATION_FAILED: every bench statement, true or false, is well-formed."""
    assert [row["id"] for row, res in zip(batch["rows"], batch["bench_statements"])
            if res.outcome is not Outcome.PROVED] == []  # fmt: skip


def test_bench_has_no_infrastructure_failures(batch):
    assert [r.outcome for r in batch["bench"] if r.outcome in (Outcome.ERROR, Outcome.TIMEOUT)] == []


def test_every_invalid_bench_case_is_refused(batch):
    accepted = [row["id"] for row, res in zip(batch["rows"], batch["bench"])
                if not row["expected_valid"] and res.outcome is Outcome.PROVED]  # fmt: skip
    assert accepted == []


@pytest.mark.parametrize("case", THROUGH_LEAN)
def test_cases_that_reach_lean(batch, case):
    result = batch["through_lean"][case]
    assert (result.outcome is Outcome.PROVED) == THROUGH_LEAN[case][2], result.reason


def test_a_failure_carries_leans_message_and_position(batch):
    result = batch["through_lean"]["a weaker restated theorem"]
    assert result.outcome is Outcome.FAILED and result.first_error
    assert result.messages and result.messages[0].line >= 2  # inside the snippet, after the header lines


def test_snippets_cannot_see_each_others_names(batch):
    first, second = batch["isolation"]
    assert first.outcome is Outcome.PROVED and set(first.axioms) <= {"helper", "example_1"}
    assert second.outcome is Outcome.FAILED and "helper" in second.reason


# -- wall clock, memory, infrastructure ---------------------------------------------------------------------------

STALL = (
    "theorem thm (" + " ".join(f"x{i}" for i in range(21)) + " : Int) "
    + " ".join(f"(h{i} : x{i} ≠ 0) (l{i} : -1 ≤ x{i}) (u{i} : x{i} ≤ 1)" for i in range(21))
    + " (hs : " + " + ".join(f"x{i}" for i in range(21)) + " = 0) : False := by omega"
)
"""Allowed syntax that runs for hours without a heartbeat limit: 21 odd ±1 terms cannot sum to 0, but omega only
finds out after splitting every `≠` (2^21 cases)."""


def test_a_stalled_snippet_times_out_and_the_others_keep_their_results(toolchain):
    # generous for `rfl` on a loaded machine; no heartbeat limit, so only the watchdog ends the stall
    checker = LeanChecker(toolchain, timeout=10, processes=1, heartbeats=0)
    prepared = [
        _Prepared(0, "theorem thm : 1 = 1 := rfl", Mode.CODE),
        _Prepared(1, STALL, Mode.CODE),
        _Prepared(2, "theorem thm : 2 = 2 := rfl", Mode.CODE),
    ]
    start = time.monotonic()
    results = checker._check_chunk(prepared)
    assert [results[i].outcome for i in range(3)] == [Outcome.PROVED, Outcome.TIMEOUT, Outcome.PROVED]
    assert time.monotonic() - start < 300  # the stall runs for hours: it was cut short, not waited out
    # the stall came after Lean's start-up and the snippet before it, so it is the stalled snippet's own: it is
    # not waited out a second time alone; only the snippet after it needs a new run
    assert checker.runs == 2


def test_the_memory_cap_kills_lean_and_gives_an_error(toolchain):
    checker = LeanChecker(toolchain, memory_mb=150, processes=1)
    (result,) = checker.check([Snippet("theorem t : True", "trivial")])
    assert result.outcome is Outcome.ERROR and "memory" in result.reason


def test_a_hung_start_up_is_a_timeout_verdict(toolchain):
    verifier = verifiers.get_verifier("lean", timeout=30.0)
    checker = verifier._checker(verifier.config)
    checker.startup_timeout = 0.5
    try:
        verdict = verifier.verify(Sample("trivial", "theorem t : True"))
    finally:
        checker.startup_timeout = 180.0
    assert verdict.status is Status.TIMEOUT and verdict.reward is None


# -- the verifier end to end ---------------------------------------------------------------------------------------

STEPS = {
    "steps": [
        {"statement": "theorem h1 : 2 + 2 = 4", "proof": "by decide", "text": "2 + 2 = 4"},
        {"statement": "theorem h2 : 2 + 2 + 1 = 5", "proof": "by rw [h1]", "text": "so 2 + 2 + 1 = 5"},
        {"statement": "theorem h3 : 3 * 3 = 10", "proof": "by decide", "text": "and 3 * 3 = 10"},
        {"statement": "theorem h4 : (1 : Nat) = ", "proof": "rfl", "text": "a garbled step"},
        {"text": "therefore it holds", "verify": False},
        {"statement": "theorem h5 : 10 - 5 = 5", "proof": "by sorry"},
        {"statement": "theorem h6 : 7 = 7", "proof": "rfl", "text": "checked again without the garbled step"},
    ]
}


@pytest.fixture(scope="module")
def verdicts(toolchain):
    samples = [
        Sample("by omega", "theorem t (a b : Nat) : a + b = b + a"),
        Sample("```lean\nby decide\n```", "theorem f : 2 + 2 = 5"),
        Sample("theorem foo : 1 + 1 = 2 := rfl\nexample : True := trivial", None, domain="lean"),
        Sample(json.dumps(STEPS), STEPS),
        Sample("by omega", {"statement": "theorem t (n : Nat) : n + 0 = n"}),
        Sample("", STEPS),  # the response is what is checked: no steps, no proof
    ]
    return verifiers.verify_batch(samples)


def test_theorem_verdicts(verdicts):
    assert [(v.status, v.score) for v in verdicts[:3]] == [
        (Status.CORRECT, 1.0), (Status.INCORRECT, 0.0), (Status.CORRECT, 1.0),
    ]  # fmt: skip
    assert verdicts[0].verifier == "lean" and verdicts[0].evidence["outcome"] == "proved"
    assert verdicts[4].status is Status.CORRECT
    assert verdicts[5].status is Status.INCORRECT and "not a JSON step proof" in verdicts[5].reason


def test_step_proof_verdict(verdicts):
    v = verdicts[3]
    outcomes = [s["outcome"] for s in v.evidence["steps"]]
    assert outcomes == ["proved", "proved", "failed", "formalization_failed", "skipped", "failed", "proved"]
    assert v.status is Status.PARTIAL and v.score == pytest.approx(3 / 6)
    assert v.evidence["first_failure"]["step"] == "h3" and "decide" in v.evidence["first_failure"]["message"]
    assert [s.weight for s in v.steps] == [1, 1, 1, 1, 0, 1, 1]
    assert [s.status for s in v.steps][:4] == [Status.CORRECT, Status.CORRECT, Status.INCORRECT, Status.UNDECIDED]


def test_repeated_answers_are_answered_from_memory(toolchain):
    verifier = verifiers.get_verifier("lean")
    checker = verifier._checker(verifier.config)
    sample = Sample("by omega", "theorem t (a b : Nat) : a + b = b + a")
    first = verifier.verify(sample)
    runs = checker.runs
    again = verifier.verify_batch([sample, sample])
    assert checker.runs == runs and [v.status for v in again] == [first.status] * 2


def _until(condition: Callable[[], object], timeout: float) -> bool:
    """Poll `condition` every 0.2 s until it holds (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _processes_in(folder: Path) -> list[int]:
    """Live processes whose working directory is under `folder` (the checker runs Lean in a temporary folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and os.readlink(entry / "cwd").startswith(str(folder)):
                found.append(int(entry.name))
        except OSError:  # gone, a zombie, or not ours to read
            continue
    return found


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used so far (0 for those already gone)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


def test_interrupting_a_check_leaves_no_lean_process(toolchain, tmp_path):
    """Ctrl-C in the middle of a check kills Lean (it runs in its own session, so nothing else would).

    Waits on conditions, not fixed sleeps, with deadlines generous enough for a loaded 2-core machine: Lean has
    started and burnt CPU in the stall, then the interrupted process exits, then no Lean process may remain.
    """
    import signal
    import subprocess
    import sys

    script = (  # a stall: Lean writes nothing more, so a broken pipe would not end it
        "from verifiers.formal import LeanChecker\nfrom verifiers.formal.checker import Mode, _Prepared\n"
        f"LeanChecker(heartbeats=0)._check_chunk([_Prepared(0, {STALL!r}, Mode.CODE)])\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script], env={**os.environ, "TMPDIR": str(tmp_path)})
    try:
        assert _until(lambda: _processes_in(tmp_path), 300), "Lean never started"
        # into the stall: Lean has loaded (~5 s of CPU under WebAssembly) and has been elaborating for a while
        _until(lambda: _cpu_seconds(_processes_in(tmp_path)) >= 15, 300)
        assert _processes_in(tmp_path) and child.poll() is None, "the check ended before it could be interrupted"
        child.send_signal(signal.SIGINT)
        child.wait(timeout=300)
        # the interrupted checker killed Lean's whole session: nothing may be left, however long we wait
        _until(lambda: not _processes_in(tmp_path), 30)
        assert _processes_in(tmp_path) == []
    finally:  # never leave the hours-long stall running, whatever failed above
        child.kill()
        child.wait()
        for pid in _processes_in(tmp_path):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


# -- the persistent worker behind the checker (here, not in test_lean_worker.py, whose module-scoped worker and
# its spare would still hold ~15 GB next to this one) --------------------------------------------------------------


def test_the_checker_uses_a_warm_worker_for_small_batches(lean_toolchain) -> None:
    if lean_toolchain.kind != "wasm":
        pytest.skip("LeanWorker runs the WebAssembly Lean only")
    checker = LeanChecker(lean_toolchain, persistent=True)
    try:
        good, bad, cheat = checker.check(
            [Snippet("theorem t (a : Nat) : a + 0 = a", "by omega"), Snippet("theorem f : 1 = 2", "by decide"),
             Snippet("theorem c : 1 = 2", "by native_decide")]
        )
        (again,) = checker.check([Snippet("theorem u : 3 = 3", "rfl")])
        assert checker._worker is not None and checker._worker.live_processes == 1  # two checks start no spare
    finally:
        checker.close()
    assert (good.outcome, bad.outcome, cheat.outcome, again.outcome) == (
        Outcome.PROVED, Outcome.FAILED, Outcome.REJECTED, Outcome.PROVED,
    )  # fmt: skip
    assert checker.runs == 0, checker.worker_failures  # no batch process was started


def test_a_failing_worker_falls_back_to_a_batch_process(lean_toolchain) -> None:
    """Fault injection: a worker that always crashes; the batch still gets real verdicts from a Lean process."""
    from verifiers.formal import LeanWorkerError

    class CrashingWorker:
        def check(self, text: str, timeout: float) -> list:
            raise LeanWorkerError("the worker process exited (injected)")

        def close(self) -> None:
            pass

    checker = LeanChecker(lean_toolchain, persistent=True)
    checker._worker = CrashingWorker()
    good, bad = checker.check([Snippet("theorem t : 2 = 2", "rfl"), Snippet("theorem f : 2 = 3", "rfl")])
    assert (good.outcome, bad.outcome) == (Outcome.PROVED, Outcome.FAILED)
    assert checker.runs == 1 and "injected" in checker.worker_failures[0]
