"""The reward server: OpenRLHF's remote-reward protocol over real HTTP on 127.0.0.1, under concurrent load."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from verifiers import Sample, Verdict
from verifiers.errors import OptionError
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
        200, {"status": "ok", "requests": 1, "samples": 2, "failures": 0, "timed_out": 0, "refused": 0, "in_flight": 0}
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

        def verify_batch(self, samples: Sequence[Sample]) -> list[Verdict]:
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
        [sys.executable, "-m", "verifiers", "serve", "--port", "0", "--domain", "math", "--error-reward", "-1",
         "--max-queries", "2", "--read-timeout", "5"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert "serving rewards on http://127.0.0.1:" in line, line
        url = line.split()[3]
        status, body = post(url, math_request([(3, 4, 7), (3, 4, 8)]))
        assert status == 200 and body["rewards"] == [1.0, 0.0]
        status, body = post(url, math_request([(3, 4, 7), (3, 4, 8), (1, 1, 2)]))  # over --max-queries
        assert status == 413 and "limit is 2" in body["error"]
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
    assert "['nonsense'] are not taken by the 'math' cascade" in capsys.readouterr().err


# -- defences: each test is an attack the server must survive ------------------------------------------------------


def post_raw(url: str, body: Any, timeout: float = 30) -> tuple[int, dict[str, str], dict[str, Any]]:
    """(status, headers, JSON body) of a POST on a fresh connection."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request("POST", "/get_reward", json.dumps(body), {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read())
    finally:
        connection.close()


def address(server: RewardServer) -> tuple[str, int]:
    host, port = server.httpd.server_address[:2]
    return str(host), int(port)


class Gate(Verifier):
    """Answers "yes" as correct, at once; a response containing "wait" blocks until `opened` (30 s at most) and
    says on `entered` that it has started."""

    name = "test.gate"

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.opened = threading.Event()

    def verify(self, sample: Sample) -> Verdict:
        if "wait" in sample.response:
            self.entered.set()
            self.opened.wait(30)
        return Verdict.from_bool(self.name, "yes" in sample.response)


def in_thread(function: Any, *args: Any) -> tuple[threading.Thread, list[Any]]:
    box: list[Any] = []
    thread = threading.Thread(target=lambda: box.append(function(*args)), daemon=True)
    thread.start()
    return thread, box


def test_a_burst_of_256_clients_loses_no_request(server: RewardServer):
    """256 clients connect at the same instant (a training step's burst): every one is answered, none reset."""
    clients = 256
    start = threading.Barrier(clients)
    answers: list[Any] = [None] * clients

    def client(i: int) -> None:
        start.wait(30)
        try:
            status, _, body = post_raw(server.url, math_request([(i, 1, i + 1), (i, 2, i)]), timeout=120)
            answers[i] = (status, body["rewards"])
        except (OSError, http.client.HTTPException) as exc:
            answers[i] = exc

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    lost = [a for a in answers if not (isinstance(a, tuple) and a == (200, [1.0, 0.0]))]
    assert not lost, f"{len(lost)} of {clients} requests lost, e.g. {lost[:3]}"
    assert server.health()["requests"] == clients


def test_slow_and_silent_clients_are_closed_after_the_read_timeout():
    """Slowloris: a client that announces a body and never sends it, one that trickles its request line a byte at
    a time, and one that connects and says nothing are all closed after `read_timeout` (the first two with a
    408), while other clients are served meanwhile."""
    with RewardServer(make_reward_func("math"), read_timeout=1.0).start() as server:
        silent_body = socket.create_connection(address(server), timeout=20)
        silent_body.sendall(b"POST /get_reward HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"query\"")
        trickler = socket.create_connection(address(server), timeout=20)
        idle = socket.create_connection(address(server), timeout=20)
        stop = threading.Event()

        def trickle() -> None:
            for byte in b"POST /get_reward HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10_000:
                if stop.wait(0.05):
                    return
                try:
                    trickler.send(bytes([byte]))
                except OSError:
                    return

        trickling = threading.Thread(target=trickle, daemon=True)
        trickling.start()
        try:
            assert post(server.url, math_request([(1, 1, 2)]))[1]["rewards"] == [1.0]  # served meanwhile

            def answer(sock: socket.socket) -> bytes:
                data = b""
                while chunk := sock.recv(4096):  # until the server closes (socket timeout: 20 s)
                    data += chunk
                return data

            for sock in (silent_body, trickler):
                data = answer(sock)
                assert data.startswith(b"HTTP/1.1 408"), data[:80]
                assert b"did not arrive within 1 s" in data
            assert answer(idle) == b""  # nothing asked, nothing answered: just closed
            assert post(server.url, math_request([(2, 2, 4)]))[1]["rewards"] == [1.0]
        finally:
            stop.set()
            for sock in (silent_body, trickler, idle):
                sock.close()
        assert server.health()["refused"] == 2


def test_a_request_over_the_query_cap_is_refused_at_once_in_bounded_memory(server: RewardServer):
    """200,000 empty queries (a 1 MB body) cost the old server 456 MB and 23 s; now a 413 before any work."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        status, _, body = post_raw(server.url, {"query": [""] * 200_000}, timeout=60)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert status == 413 and "200000 queries; the limit is 4096 per request: split it" in body["error"]
    assert peak < 64 * 1024 * 1024, f"{peak / 2**20:.0f} MiB traced while refusing"
    assert server.health()["samples"] == 0


def test_the_query_cap_admits_a_request_of_exactly_the_cap():
    with RewardServer(make_reward_func("math"), max_queries=3).start() as server:
        assert post_raw(server.url, math_request([(1, 1, 2)] * 3))[2]["rewards"] == [1.0] * 3
        status, _, body = post_raw(server.url, math_request([(1, 1, 2)] * 4))
        assert status == 413 and "4 queries; the limit is 3" in body["error"]


def test_work_over_the_in_flight_cap_is_refused_with_503_and_retry_after():
    gate = Gate()
    with RewardServer(make_reward_func(verifier=gate, cache=None), max_queries=4, max_in_flight=4).start() as server:
        busy, answer = in_thread(post_raw, server.url, {"query": ["wait yes", "yes", "no"]})
        try:
            assert gate.entered.wait(20)
            assert server.health()["in_flight"] == 3
            status, headers, body = post_raw(server.url, {"query": ["yes", "yes"]})  # 3 + 2 > 4
            assert status == 503 and headers["Retry-After"] == "1"
            assert "holds 3 queries in verification, its limit is 4" in body["error"]
        finally:
            gate.opened.set()
        busy.join(20)
        assert answer[0][2]["rewards"] == [1.0, 1.0, 0.0]
        assert post_raw(server.url, {"query": ["yes", "yes"]})[2]["rewards"] == [1.0, 1.0]  # room again
        assert server.health()["in_flight"] == 0


def test_bodies_over_the_in_flight_bytes_cap_are_refused_with_503():
    gate = Gate()
    reward = make_reward_func(verifier=gate, cache=None)
    with RewardServer(reward, max_body_bytes=1000, max_in_flight_bytes=1500).start() as server:
        body = {"query": ["wait yes " + "x" * 800]}
        busy, answer = in_thread(post_raw, server.url, body)
        try:
            assert gate.entered.wait(20)
            status, headers, refused = post_raw(server.url, {"query": ["yes " + "x" * 800]})
            assert status == 503 and headers["Retry-After"] == "1"
            assert "bytes of request bodies, its limit is 1500" in refused["error"]
        finally:
            gate.opened.set()
        busy.join(20)
        assert answer[0][2]["rewards"] == [1.0]
        assert post_raw(server.url, {"query": ["yes " + "x" * 800]})[2]["rewards"] == [1.0]


def test_a_request_past_its_deadline_gets_timeout_statuses_not_a_hang():
    gate = Gate()
    reward = make_reward_func(verifier=gate, cache=None, error_reward=-1.0)
    with RewardServer(reward, request_timeout=0.5).start() as server:
        try:
            status, _, body = post_raw(server.url, {"query": ["wait yes", "yes"]}, timeout=20)
            assert status == 200 and body["statuses"] == ["timeout", "timeout"] and body["rewards"] == [-1.0, -1.0]
            assert body["extra_logs"]["verifier_failed"] == [1.0, 1.0]
            health = server.health()
            assert health["timed_out"] == 1 and health["in_flight"] == 2  # the abandoned work still counts
        finally:
            gate.opened.set()
        for _ in range(200):  # the work ends once the gate opens; its queries leave the count then
            if server.health()["in_flight"] == 0:
                break
            time.sleep(0.05)
        assert server.health()["in_flight"] == 0
        assert post_raw(server.url, {"query": ["yes"]})[2]["statuses"] == ["correct"]


def test_a_slow_sample_does_not_stall_a_request_that_arrives_meanwhile():
    """The fast request arrives while the slow one is being verified, and is answered while the slow one is
    still running (the old server made it wait for the slow batch)."""
    gate = Gate()
    with RewardServer(make_reward_func(verifier=gate, cache=None)).start() as server:
        slow, slow_answer = in_thread(post_raw, server.url, {"query": ["wait yes"]})
        try:
            assert gate.entered.wait(20)
            status, _, body = post_raw(server.url, {"query": ["yes", "no"]}, timeout=15)
            assert status == 200 and body["rewards"] == [1.0, 0.0]
            assert slow.is_alive() and not slow_answer  # answered first, while the slow one still runs
        finally:
            gate.opened.set()
        slow.join(20)
        assert slow_answer[0][2]["rewards"] == [1.0]


def test_padded_answers_are_verified_in_linear_time(server: RewardServer):
    """Answers padded with 200,000 spaces, `\\;`, `{}`, nested braces or digits: each is read in one pass. The old
    server spent minutes in a backtracking regex on the spaces (quadratic: 1.2 s at 20,000), holding the
    interpreter from every other client; the client's timeout is the bound, generous for linear work."""
    n = 200_000
    responses = [
        "\\boxed{" + " " * n + "1}",
        "\\boxed{" + "\\;" * n + "1}",
        "\\boxed{" + "{}" * n + "1}",
        "\\boxed{" + "{" * n + "1" + "}" * n + "}",
        "\\boxed{" + "1" * n + "}",
    ]
    status, _, body = post_raw(server.url, {"query": responses, "labels": ["1"] * len(responses)}, timeout=60)
    assert status == 200 and len(body["statuses"]) == len(responses)
    assert body["statuses"][0] == "correct" and "timeout" not in body["statuses"]


def test_bad_defence_settings_are_refused_with_what_to_pass():
    reward = make_reward_func("math")
    with pytest.raises(OptionError, match="max_queries \\(10\\) must not exceed max_in_flight \\(5\\)"):
        RewardServer(reward, max_queries=10, max_in_flight=5)
    with pytest.raises(OptionError, match="'read_timeout' must be a finite number > 0.0 or None, got 0"):
        RewardServer(reward, read_timeout=0)
    with pytest.raises(OptionError, match="'backlog' must be a positive integer, got -1"):
        RewardServer(reward, backlog=-1)
    with pytest.raises(OptionError, match="batches must be an integer >= 1, got 0"):
        make_reward_func("math", batches=0)
