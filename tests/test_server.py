"""The reward server: OpenRLHF's remote-reward protocol over real HTTP on 127.0.0.1, under concurrent load."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from verifiers import Sample, Verdict
from verifiers.integrations.openrlhf import make_reward_func
from verifiers.integrations.server import RewardServer
from verifiers.verifier import Verifier

PROMPT = "<|im_start|>user\nWhat is {a} + {b}?<|im_end|>\n<|im_start|>assistant\n"


def post(url: str, body: Any, *, raw: bytes | None = None, timeout: float = 30) -> tuple[int, dict[str, Any]]:
    data = raw if raw is not None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def math_request(pairs: list[tuple[int, int, int]]) -> dict[str, Any]:
    """OpenRLHF's body for (a, b, answered) triples: query = prompt + response, labels = the right sums."""
    prompts = [PROMPT.format(a=a, b=b) for a, b, _ in pairs]
    queries = [p + f"The sum is \\boxed{{{answer}}}<|im_end|>" for p, (_, _, answer) in zip(prompts, pairs)]
    return {"query": queries, "prompts": prompts, "labels": [str(a + b) for a, b, _ in pairs]}


@pytest.fixture
def server() -> Iterator[RewardServer]:
    with RewardServer(make_reward_func("math"), "127.0.0.1", 0).start() as running:
        yield running


def test_rewards_for_an_openrlhf_request(server: RewardServer):
    status, body = post(server.url, math_request([(1, 2, 3), (2, 2, 5)]))
    assert status == 200
    assert body["rewards"] == [1.0, 0.0] and body["scores"] == [1.0, 0.0]
    assert body["statuses"] == ["correct", "incorrect"]
    assert body["extra_logs"] == {
        "verifier_correct": [1.0, 0.0], "verifier_failed": [0.0, 0.0], "verifier_undecided": [0.0, 0.0]
    }  # fmt: skip
    assert get(server.url.replace("/get_reward", "/health")) == (
        200, {"status": "ok", "requests": 1, "samples": 2, "failures": 0}
    )  # fmt: skip


@pytest.mark.parametrize(
    ("body", "raw", "status", "message"),
    [
        (None, b"{not json", 400, "not valid JSON"),
        ([1, 2], None, 400, "must be a JSON object"),
        ({"prompts": ["p"]}, None, 400, "needs 'query'"),
        ({"query": "x", "labels": ["a", "b"]}, None, 400, "'labels' has 2 entries for 1 queries"),
        ({"query": ["x"], "prompts": "p"}, None, 400, "'prompts' must be a list"),
    ],
)
def test_malformed_requests_get_a_clear_4xx(server: RewardServer, body: Any, raw: bytes | None, status: int,
                                             message: str):  # fmt: skip
    code, answer = post(server.url, body, raw=raw)
    assert code == status and message in answer["error"]
    assert post(server.url, math_request([(1, 1, 2)]))[1]["rewards"] == [1.0]  # and it keeps serving


def test_size_limit_and_unknown_paths():
    with RewardServer(make_reward_func("math"), max_body_bytes=1000).start() as small:
        code, answer = post(small.url, {"query": ["x" * 2000]})
        assert code == 413 and "limit is 1000" in answer["error"]
        base = small.url.removesuffix("/get_reward")
        assert post(base + "/nope", {"query": []})[0] == 404
        assert get(base + "/nope")[0] == 404
        assert post(base + "/", math_request([(2, 3, 5)]))[1]["rewards"] == [1.0]  # "/" is an alias


def test_concurrent_load_with_openrlhfs_own_client_code(server: RewardServer):
    """64 requests from OpenRLHF's client code (aiohttp, one session per request, as its agent executor does)
    at once: every answer belongs to its own request, nothing lost or mixed up."""
    import aiohttp

    requests = [math_request([(i, j, i + j if (i + j) % 3 else i + j + 1) for j in range(4)]) for i in range(64)]

    async def fetch(payload: dict[str, Any]) -> dict[str, Any]:
        timeout = aiohttp.ClientTimeout(total=180)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.post(server.url, json=payload) as response:
                response.raise_for_status()
                return await response.json()

    async def run_all() -> list[dict[str, Any]]:
        return await asyncio.gather(*(fetch(r) for r in requests))

    answers = asyncio.run(run_all())
    for i, answer in enumerate(answers):
        expected = [0.0 if (i + j) % 3 == 0 else 1.0 for j in range(4)]
        assert answer["rewards"] == expected, i
    assert get(server.url.replace("/get_reward", "/health"))[1]["samples"] == 64 * 4


def test_requests_arriving_during_a_batch_are_verified_together():
    batches: list[int] = []

    class Slow(Verifier):
        name = "slow"
        batched = True

        def verify_batch(self, samples: list[Sample]) -> list[Verdict]:
            batches.append(len(samples))
            time.sleep(0.3)
            return [Verdict.from_bool(self.name, "yes" in s.response) for s in samples]

        def verify(self, sample: Sample) -> Verdict:
            return self.verify_batch([sample])[0]

    with RewardServer(make_reward_func(verifier=Slow(), cache=None)).start() as slow:
        results: list[Any] = [None] * 12

        def call(i: int) -> None:
            results[i] = post(slow.url, {"query": [f"q{i} yes" if i % 2 else f"q{i} no"]})[1]["rewards"]

        threads = [threading.Thread(target=call, args=(i,)) for i in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert results == [[float(i % 2)] for i in range(12)]
    assert sum(batches) == 12 and len(batches) < 12  # merged: at most the first request ran alone


def test_verifier_failures_are_numbers_with_the_status_beside_them():
    class Broken(Verifier):
        name = "broken"

        def verify(self, sample: Sample) -> Verdict:
            raise RuntimeError("no sandbox")

    with RewardServer(make_reward_func(verifier=Broken(), error_reward=-1.0, cache=None)).start() as broken:
        code, body = post(broken.url, {"query": ["a", "b"]})
    assert code == 200 and body["rewards"] == [-1.0, -1.0] and body["statuses"] == ["error", "error"]
    assert body["extra_logs"]["verifier_failed"] == [1.0, 1.0]


def test_verifiers_serve_command(tmp_path: Any):
    """`verifiers serve` as a process: prints its URL, answers, and stops cleanly on SIGTERM."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "verifiers", "serve", "--port", "0", "--domain", "math", "--error-reward", "-1"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert "serving rewards on http://127.0.0.1:" in line, line
        url = line.split()[3]
        status, body = post(url, math_request([(3, 4, 7), (3, 4, 8)]))
        assert status == 200 and body["rewards"] == [1.0, 0.0]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        assert "stopped after 1 requests (2 samples)" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_refuses_a_port_in_use_and_bad_options(server: RewardServer, capsys: pytest.CaptureFixture[str]):
    from verifiers.cli import main

    port = server.httpd.server_address[1]
    assert main(["serve", "--port", str(port), "--domain", "math"]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
    assert main(["serve", "--port", "0", "--domain", "math", "--option", "nonsense=1"]) == 2
    assert "takes option" in capsys.readouterr().err
