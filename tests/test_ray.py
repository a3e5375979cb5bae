"""The Ray executor: a local 2-CPU Ray started by the tests; results identical to the local executor.

The first test attaches `verifiers run --executor ray` to a separate cluster started with `ray start`; the others
share one in-process Ray (`ray.init(num_cpus=2)`, ~5 s to start).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import ray_local
from support.extras import install_hint

import verifiers
from sandboxes.bwrap import bwrap_usable
from verifiers import Sample, Status, Verdict
from verifiers.executor import Plan, ray_executor
from verifiers.jobs import read_output, run_dataset

ray = pytest.importorskip("ray", reason=install_hint("ray", "ray"))

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ADD = {"tests": ["assert add(1, 2) == 3", "assert add(-1, 1) == 0", "assert add(2, 2) == 4"]}
RAY_ENV = ray_local.RAY_ENV


def mixed_samples() -> list[dict[str, Any]]:
    """Rows of every cheap domain (the example file), math answers and sandboxed code with unit tests."""
    rows = [json.loads(line) for line in (EXAMPLES / "samples.jsonl").read_text().splitlines()]
    for i in range(12):
        rows.append({"id": f"square{i}", "domain": "math", "response": f"so \\boxed{{{i * i}}}", "reference": str(i * i + i % 2)})
    bodies = ["return a + b", "return a - b", "return abs(a) + b", "raise SystemExit(3)"]
    for i, body in enumerate(bodies):
        rows.append({"id": f"c{i}", "domain": "code", "response": f"def add(a, b):\n    {body}\n", "reference": ADD})
    return rows


def comparable(verdict: Verdict) -> dict[str, Any]:
    data = verdict.to_dict()
    data.pop("elapsed_s")
    data.pop("batch_size", None)  # how the executor chunked the samples, like the time: not the outcome
    data["evidence"] = {k: v for k, v in data["evidence"].items() if "time" not in k and "elapsed" not in k}
    for step in data["steps"]:
        step["detail"] = step["detail"].split(" in ")[0]  # "passed in 0.01 s": the time is not the outcome
    return data


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_cli_attaches_to_a_running_cluster(tmp_path: Path):
    """`ray start --head` (2 CPUs), then `verifiers run --executor ray --ray-address HOST:PORT` in another process:
    the output equals a local run's, record for record."""
    assert not ray.is_initialized()
    env = {**os.environ, **RAY_ENV}
    port = free_port()
    temp_dir = tempfile.mkdtemp(prefix="vray", dir="/tmp")  # short: Ray's socket paths must fit in 107 bytes
    head = subprocess.Popen(
        [sys.executable, "-m", "ray.scripts.scripts", "start", "--head", f"--port={port}", "--num-cpus=2",
         "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp_dir}"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        started = head.communicate(timeout=120)[0]
        assert head.returncode == 0, started
        data = tmp_path / "data.jsonl"
        data.write_text("".join(json.dumps(row) + "\n" for row in mixed_samples()))
        command = [sys.executable, "-m", "verifiers", "run", str(data), "--no-progress", "--timeout", "5"]
        local = subprocess.run([*command, "-o", str(tmp_path / "local.jsonl")], env=env, capture_output=True,
                               text=True, timeout=300)  # fmt: skip
        assert local.returncode == 0, local.stderr
        remote = subprocess.run(
            [*command, "-o", str(tmp_path / "ray.jsonl"), "--executor", "ray", "--ray-address", f"127.0.0.1:{port}"],
            env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert remote.returncode == 0, remote.stderr
        by_id = {r["id"]: r for r in read_output(tmp_path / "local.jsonl")}
        on_ray = {r["id"]: r for r in read_output(tmp_path / "ray.jsonl")}
        assert set(on_ray) == set(by_id) and len(on_ray) == len(mixed_samples())
        for key, record in on_ray.items():
            assert comparable(Verdict.from_dict(record["verdict"])) == comparable(Verdict.from_dict(by_id[key]["verdict"])), key
        summary = json.loads((tmp_path / "ray.summary.json").read_text())
        assert summary["run"]["executor"] == "ray"
    finally:
        try:
            os.killpg(head.pid, signal.SIGKILL)  # the head's processes stay in the session it started
        except ProcessLookupError:
            pass
        head.wait()
        shutil.rmtree(temp_dir, ignore_errors=True)


def test_an_unreachable_cluster_is_a_quick_clear_error(tmp_path: Path):
    from verifiers.cli import main

    data = tmp_path / "data.jsonl"
    data.write_text('{"id": "a", "response": "1", "reference": "1", "domain": "numeric"}\n')
    port = free_port()  # nobody listens there
    started = time.monotonic()
    code = main(["run", str(data), "-o", str(tmp_path / "out.jsonl"), "--executor", "ray",
                 "--ray-address", f"127.0.0.1:{port}"])  # fmt: skip
    assert code == 2 and time.monotonic() - started < 30
    assert not (tmp_path / "out.jsonl").exists() or (tmp_path / "out.jsonl").read_text() == ""
    assert not ray.is_initialized()


@pytest.fixture(scope="module")
def local_ray() -> Iterator[Any]:
    with ray_local.local_ray() as ray_module:
        yield ray_module


def test_verify_batch_on_ray_equals_local(local_ray: Any):
    rows = mixed_samples()
    local = verifiers.verify_batch(rows, timeout=5)
    on_ray = verifiers.verify_batch(rows, timeout=5, executor="ray")
    assert [comparable(v) for v in on_ray] == [comparable(v) for v in local]
    assert {Status.CORRECT, Status.INCORRECT} <= {v.status for v in on_ray}
    code = [v for row, v in zip(rows, on_ray) if row.get("domain") == "code"]
    assert code
    if bwrap_usable():  # no sandbox here: the code rows are ERROR on both executors, saying what to install
        assert all(v.status is Status.ERROR and "bubblewrap" in v.reason for v in code), [v.reason for v in code]
    else:
        assert Status.PARTIAL in {v.status for v in code}


def test_actors_are_long_lived_and_shared_between_calls(local_ray: Any):
    plan = Plan("exact", timeout=None)
    executor = ray_executor(plan)
    assert ray_executor(Plan("exact")) is executor  # the same settings reuse the same actors
    pids = sorted(ray.get([actor.ping.remote() for actor in executor.actors]))
    assert len(pids) == 2 and len(set(pids)) == 2  # one actor per CPU
    samples = [Sample(str(i), str(i % 2)) for i in range(40)]
    for _ in range(3):
        verdicts = verifiers.verify_batch(samples, verifier="exact", executor="ray")
        assert [v.status for v in verdicts] == [Status.CORRECT if i % 2 == i else Status.INCORRECT for i in range(40)]
    assert sorted(ray.get([actor.ping.remote() for actor in executor.actors])) == pids  # nobody restarted
    assert ray_executor(Plan("exact", timeout=3.0)) is not executor  # other settings, other actors


def test_a_dead_actor_costs_only_its_chunk(local_ray: Any):
    from verifiers.executor import RayExecutor
    from verifiers.verifier import Verifier

    class Crasher(Verifier):  # defined here so Ray ships it by value to the actors
        name = "crasher"

        def verify(self, sample: Sample) -> Verdict:
            if sample.response == "crash":
                os._exit(3)  # the actor's process dies with the task
            return Verdict.correct(self.name)

    executor = RayExecutor(Plan(Crasher()), chunk_size=2)
    samples = [Sample("fine")] * 4 + [Sample("crash"), Sample("fine")] + [Sample("fine")] * 4
    routed = executor.run(samples)
    statuses = [verdict.status for _, verdict in routed]
    assert statuses[4] is Status.ERROR and statuses[5] is Status.ERROR  # the crashing chunk
    assert "Ray task verifying this sample failed" in routed[4][1].reason
    assert statuses[:4] + statuses[6:] == [Status.CORRECT] * 8  # its neighbours are untouched
    again = executor.run([Sample("fine")] * 6)  # the dead actor was restarted for the next batch
    assert [verdict.status for _, verdict in again] == [Status.CORRECT] * 6
    executor.close()


def test_run_dataset_on_ray_resumes_like_local(local_ray: Any, tmp_path: Path):
    rows = mixed_samples() + [{"id": "lost", "response": "x", "reference": None}]  # unroutable: an ERROR record
    out = tmp_path / "out.jsonl"
    first = run_dataset(rows[:20], out, executor="ray", timeout=5, chunk_size=8)
    assert first.written == 20
    second = run_dataset(rows, out, executor="ray", timeout=5, chunk_size=8)
    assert (second.written, second.already_done) == (len(rows) - 20, 20)
    records = list(read_output(out))
    assert [r["id"] for r in records] == [r["id"] for r in rows]  # nothing lost, nothing twice, input order
    local = run_dataset(rows, tmp_path / "local.jsonl", timeout=5, chunk_size=8)
    assert local.written == len(rows)
    expected = {r["id"]: comparable(Verdict.from_dict(r["verdict"])) for r in read_output(tmp_path / "local.jsonl")}
    assert {r["id"]: comparable(Verdict.from_dict(r["verdict"])) for r in records} == expected
    assert records[-1]["verdict"]["verifier"] == "routing"


def test_ray_settings_errors_are_clear(local_ray: Any):
    from verifiers.cache import MemoryCache
    from verifiers.errors import OptionError, UnknownNameError

    with pytest.raises(OptionError, match="cannot share a Cache object"):
        verifiers.verify_batch([Sample("a", "a")], verifier="exact", executor="ray", cache=MemoryCache())
    with pytest.raises(UnknownNameError):
        verifiers.verify_batch([Sample("a", "a")], verifier="no-such-verifier", executor="ray")
    cached = verifiers.verify_batch([Sample("a", "a")] * 3, verifier="exact", executor="ray", cache=True)
    assert [v.status for v in cached] == [Status.CORRECT] * 3
