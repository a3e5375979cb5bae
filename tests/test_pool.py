"""The worker pool, with real worker processes: order, deadlines, crashes, reuse, and clean shutdown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import types
import warnings
from pathlib import Path

import pytest
from support.slow_verifiers import Echo, Misbehaving, SlowLoad, TimeoutAttr, Unpicklable

import verifiers
from verifiers import Sample, Status, Verifier, get_verifier
from verifiers.pool import GRACE_S, WorkerPool, shared_pool
from verifiers.calls import call_verify

SUPPORT = str(Path(__file__).resolve().parent)


def statuses(verdicts):
    return [v.status for v in verdicts]


def samples(*responses: str) -> list[Sample]:
    return [Sample(response=r, reference="ok") for r in responses]


def gone(pid: int) -> bool:
    """The process has exited (reaped, or a zombie waiting for a reaper that is not us)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


@pytest.fixture(scope="module")
def pool():
    with WorkerPool(2) as workers:
        workers.run(Echo(), samples("ok", "ok", "ok", "ok"))  # start both workers outside the timed tests
        yield workers


def test_results_equal_in_process_results_in_order(pool):
    batch = [Sample(response=str(i % 7), reference=[str(i % 5), "x"], id=str(i)) for i in range(200)]
    exact = get_verifier("exact")
    expected = [call_verify(exact, s).replace(elapsed_s=0.0) for s in batch]
    got = [v.replace(elapsed_s=0.0) for v in pool.run(exact, batch)]
    assert got == expected
    assert {v.status for v in got} == {Status.CORRECT, Status.INCORRECT}


def test_empty_batch(pool):
    assert pool.run(Echo(), []) == []


def test_pure_python_loop_times_out_and_the_batch_goes_on(pool):
    deadline = 0.5
    start = time.monotonic()
    verdicts = pool.run(Misbehaving(), samples("hang", "ok", "no", "ok"), timeout=deadline)
    elapsed = time.monotonic() - start
    assert statuses(verdicts) == [Status.TIMEOUT, Status.CORRECT, Status.INCORRECT, Status.CORRECT]
    assert "0.5 s deadline" in verdicts[0].reason
    assert verdicts[0].elapsed_s <= deadline + 1.0
    assert elapsed < deadline + 1.0 + 3.0  # the deadline + 1 s, plus slack for a busy machine


@pytest.mark.parametrize("how", ["blocked", "swallow"])
def test_verifier_deaf_to_the_soft_timeout_is_killed(pool, how):
    deadline = 0.5
    start = time.monotonic()
    verdicts = pool.run(Misbehaving(), samples(how, "ok", "no"), timeout=deadline)
    elapsed = time.monotonic() - start
    assert statuses(verdicts) == [Status.TIMEOUT, Status.CORRECT, Status.INCORRECT]
    assert "0.5 s deadline" in verdicts[0].reason and "killed" in verdicts[0].reason
    assert deadline + GRACE_S <= verdicts[0].elapsed_s <= deadline + 1.0
    assert elapsed < deadline + 1.0 + 3.0


def test_exception_becomes_error_naming_it(pool):
    verdicts = pool.run(Misbehaving(), samples("raise", "ok", "none"), timeout=5)
    assert statuses(verdicts) == [Status.ERROR, Status.CORRECT, Status.ERROR]
    assert "ValueError" in verdicts[0].reason and "boom" in verdicts[0].reason
    assert "not a Verdict" in verdicts[2].reason


@pytest.mark.parametrize(("how", "words"), [("exit", "exit code 3"), ("segv", "SIGSEGV")])
def test_worker_death_is_an_error_for_that_sample_only(pool, how, words):
    batch = samples("ok", how, *["ok"] * 20)
    verdicts = pool.run(Misbehaving(), batch)  # no deadline: a death must not hang the run either
    assert statuses(verdicts) == [Status.CORRECT, Status.ERROR] + [Status.CORRECT] * 20
    assert "worker process died" in verdicts[1].reason and words in verdicts[1].reason


def test_pool_is_reusable_after_a_kill(pool):
    before = set(pool.pids)
    verdicts = pool.run(Misbehaving(), samples("blocked"), timeout=0.2)
    assert statuses(verdicts) == [Status.TIMEOUT]
    verdicts = pool.run(Misbehaving(), samples(*["ok", "no"] * 50), timeout=5)
    assert statuses(verdicts) == [Status.CORRECT, Status.INCORRECT] * 50
    assert len(pool.pids) == 2 and set(pool.pids) != before  # the killed worker was replaced


def test_worker_killed_while_idle_costs_nothing(pool):
    victim = pool.pids[0]
    os.kill(victim, signal.SIGKILL)
    end = time.monotonic() + 5
    while not gone(victim) and time.monotonic() < end:
        time.sleep(0.01)
    verdicts = pool.run(Echo(), samples(*["ok", "no"] * 20), timeout=5)
    assert statuses(verdicts) == [Status.CORRECT, Status.INCORRECT] * 20
    assert victim not in pool.pids


def test_unpicklable_verifier_gives_errors_not_an_exception(pool):
    verdicts = pool.run(Unpicklable(), samples("ok", "no"))
    assert statuses(verdicts) == [Status.ERROR, Status.ERROR]
    assert "cannot be sent to a worker process" in verdicts[0].reason
    assert "lock" in verdicts[0].reason


def test_unpicklable_sample_fails_alone(pool):
    batch = [Sample("ok", "ok"), Sample("ok", reference=lambda: None), Sample("ok", "ok")]
    verdicts = pool.run(Echo(), batch)
    assert statuses(verdicts) == [Status.CORRECT, Status.ERROR, Status.CORRECT]
    assert "sample cannot be sent to a worker process" in verdicts[1].reason


def test_verifier_class_the_worker_cannot_import_gives_errors(pool):
    module = types.ModuleType("only_in_the_parent")

    class Hidden(Verifier):
        name = "test.hidden"

        def verify(self, sample):
            raise AssertionError("never runs")

    Hidden.__module__, Hidden.__qualname__ = module.__name__, "Hidden"
    module.Hidden = Hidden
    sys.modules[module.__name__] = module
    try:
        verdicts = pool.run(Hidden(), samples("ok", "ok", "ok"), timeout=5)
    finally:
        del sys.modules[module.__name__]
    assert statuses(verdicts) == [Status.ERROR] * 3
    assert "could not be loaded in a worker process" in verdicts[0].reason
    assert "only_in_the_parent" in verdicts[0].reason
    assert statuses(pool.run(Echo(), samples("ok"))) == [Status.CORRECT]


def test_verifier_is_sent_once_and_stays_warm(pool):
    echo = Echo()
    first = pool.run(echo, samples(*["ok"] * 40))
    second = pool.run(echo, samples(*["ok"] * 40))
    seen = {}
    for verdict in first:
        seen[verdict.evidence["pid"]] = max(seen.get(verdict.evidence["pid"], 0), verdict.evidence["calls"])
    for verdict in second:
        pid = verdict.evidence["pid"]
        if pid in seen:  # the same instance kept counting in that worker
            assert verdict.evidence["calls"] > seen[pid]
    assert echo.calls == 0  # the parent's copy never ran


def test_loading_the_verifier_does_not_eat_the_first_deadline(pool):
    verdicts = pool.run(SlowLoad(), samples("ok", "ok", "no"), timeout=0.1)  # unpickling sleeps 0.8 s
    assert statuses(verdicts) == [Status.CORRECT, Status.CORRECT, Status.INCORRECT]


def test_two_threads_share_a_pool(pool):
    results = {}

    def work(name, verifier, batch):
        results[name] = pool.run(verifier, batch, timeout=5)

    threads = [
        threading.Thread(target=work, args=("echo", Echo(), samples(*["ok", "no"] * 30))),
        threading.Thread(target=work, args=("exact", get_verifier("exact"), samples(*["no", "ok"] * 30))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert statuses(results["echo"]) == [Status.CORRECT, Status.INCORRECT] * 30
    assert statuses(results["exact"]) == [Status.INCORRECT, Status.CORRECT] * 30


def test_verify_batch_with_workers_and_timeout():
    verdicts = verifiers.verify_batch(
        samples("ok", "hang", "raise", "no", "ok"), verifier=Misbehaving(), workers=2, timeout=1.0
    )
    assert statuses(verdicts) == [Status.CORRECT, Status.TIMEOUT, Status.ERROR, Status.INCORRECT, Status.CORRECT]
    assert "1 s deadline" in verdicts[1].reason
    assert verdicts[1].reward is None and verdicts[2].reward is None


def test_verify_batch_uses_the_verifiers_own_timeout():
    verdicts = verifiers.verify_batch(samples("hang", "ok"), verifier=TimeoutAttr(), workers=2)
    assert statuses(verdicts) == [Status.TIMEOUT, Status.CORRECT]
    assert "0.5 s deadline" in verdicts[0].reason


def test_shared_pool_is_one_per_size():
    assert shared_pool(2) is shared_pool(2)
    assert shared_pool(1) is not shared_pool(2)
    assert shared_pool(None).size == (os.cpu_count() or 1)


def test_no_worker_can_start_gives_errors(monkeypatch):
    for executable, words in [("/nonexistent/python", "No such file"), ("/bin/false", "exit code 1")]:
        monkeypatch.setattr(sys, "executable", executable)
        with WorkerPool(2) as broken:
            verdicts = broken.run(Echo(), samples("ok", "ok", "ok"), timeout=1)
        assert statuses(verdicts) == [Status.ERROR] * 3
        assert "could not start a worker process" in verdicts[0].reason and words in verdicts[0].reason


def test_closed_pool_reaps_its_workers_and_refuses_work():
    with WorkerPool(2) as temporary:
        temporary.run(Echo(), samples(*["ok"] * 20))
        pids = temporary.pids
    assert pids and all(gone(pid) for pid in pids)
    with pytest.raises(RuntimeError, match="closed"):
        temporary.run(Echo(), samples("ok"))


def test_forked_child_starts_its_own_workers(pool):
    parent_pids = set(pool.pids)
    read, write = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork() with threads running
        child = os.fork()
    if child == 0:  # pragma: no cover - runs in the forked child
        code = 1
        try:
            verdicts = pool.run(Echo(), samples("ok", "no"), timeout=5)
            own = {v.evidence["pid"] for v in verdicts}
            code = 0 if statuses(verdicts) == [Status.CORRECT, Status.INCORRECT] and not own & parent_pids else 2
            pool.close()
        finally:
            os.write(write, bytes([code]))
            os._exit(0)
    os.close(write)
    try:
        assert os.read(read, 1) == b"\x00"
    finally:
        os.close(read)
        os.waitpid(child, 0)
    assert set(pool.pids) == parent_pids  # the child neither used nor stopped the parent's workers
    assert statuses(pool.run(Echo(), samples("ok"))) == [Status.CORRECT]


def _script(body: str) -> subprocess.Popen[str]:
    code = f"import sys; sys.path.insert(0, {SUPPORT!r})\n" + textwrap.dedent(body)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


def test_interpreter_exit_leaves_no_workers():
    parent = _script(
        """
        from support.slow_verifiers import Echo
        from verifiers import Sample
        from verifiers.pool import shared_pool
        pool = shared_pool(2)
        pool.run(Echo(), [Sample("ok", "ok")] * 20)
        print(*pool.pids, flush=True)
        """
    )
    out, _ = parent.communicate(timeout=20)
    assert parent.returncode == 0
    pids = [int(p) for p in out.split()]
    assert pids
    end = time.monotonic() + 5
    while not all(gone(pid) for pid in pids) and time.monotonic() < end:
        time.sleep(0.05)
    assert all(gone(pid) for pid in pids)


def test_killed_parent_takes_a_stuck_worker_with_it():
    parent = _script(
        """
        from support.slow_verifiers import Misbehaving
        from verifiers import Sample
        from verifiers.pool import WorkerPool
        pool = WorkerPool(1)
        pool.run(Misbehaving(), [Sample("ok", "ok")])
        print(*pool.pids, flush=True)
        pool.run(Misbehaving(), [Sample("blocked", "ok")])  # no deadline: stuck for good
        """
    )
    try:
        pids = [int(p) for p in parent.stdout.readline().split()]
        assert pids and not gone(pids[0])
        time.sleep(0.3)  # let the worker get stuck
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        parent.stdout.close()
    end = time.monotonic() + 5
    while not gone(pids[0]) and time.monotonic() < end:
        time.sleep(0.05)
    assert gone(pids[0])
