"""The reward server under a training burst: 256 concurrent clients against the same reward function called directly.

Run from the repository root:  python benchmarks/server_load.py [--clients 256] [--requests 8] [--samples 8]

Each of `clients` threads sends `requests` OpenRLHF requests of `samples` math samples one after the other, all
threads starting at once; every request is new text (no cache hits). The peer is the same `RewardFunc` object
called in-process from as many threads (`reward.verdicts`, what the server runs for a request), so the ratio is
what HTTP, JSON and the server's defences cost on top of verification. Server and clients share this process
(one interpreter, as the peer), so the figures compare like with like rather than show the most a server on its
own cores can do. Prints requests/s, samples/s, p50 and p99 latency per path, the lost requests (must be 0) and
the ratios.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import table  # noqa: E402

from verifiers.integrations.openrlhf import RewardFunc, make_reward_func  # noqa: E402
from verifiers.integrations.server import RewardServer  # noqa: E402

PROMPT = "<|im_start|>user\nWhat is {a} + {b}?<|im_end|>\n<|im_start|>assistant\n"


def request_body(seed: int, samples: int) -> dict[str, Any]:
    """An OpenRLHF body of `samples` sums, every third one wrong; `seed` makes its texts new."""
    pairs = [(seed, j) for j in range(samples)]
    prompts = [PROMPT.format(a=a, b=b) for a, b in pairs]
    answers = [a + b + (j % 3 == 0) for j, (a, b) in enumerate(pairs)]
    queries = [f"{p}Adding them gives \\boxed{{{answer}}}.<|im_end|>" for p, answer in zip(prompts, answers)]
    return {"query": queries, "prompts": prompts, "labels": [str(a + b) for a, b in pairs]}


def burst(clients: int, requests: int, samples: int, offset: int,
          call: Callable[[dict[str, Any]], bool]) -> tuple[float, list[float], int]:  # fmt: skip
    """(seconds, latencies, lost) of `clients` threads making `requests` calls each, started together."""
    start = threading.Barrier(clients + 1)
    latencies: list[float] = []
    lost = [0]
    lock = threading.Lock()

    def client(i: int) -> None:
        bodies = [request_body(offset + i * requests + r, samples) for r in range(requests)]
        start.wait()
        for body in bodies:
            began = time.perf_counter()
            ok = call(body)
            took = time.perf_counter() - began
            with lock:
                latencies.append(took)
                lost[0] += not ok

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, latencies, lost[0]


def direct(reward: RewardFunc) -> Callable[[dict[str, Any]], bool]:
    def call(body: dict[str, Any]) -> bool:
        verdicts = reward.verdicts(body["query"], body["prompts"], body["labels"])
        return len(verdicts) == len(body["query"])

    return call


def over_http(server: RewardServer) -> Callable[[dict[str, Any]], bool]:
    host, port = server.httpd.server_address[:2]

    def call(body: dict[str, Any]) -> bool:
        connection = http.client.HTTPConnection(str(host), int(port), timeout=300)  # one per request, as OpenRLHF
        try:
            connection.request("POST", "/get_reward", json.dumps(body), {"Content-Type": "application/json"})
            response = connection.getresponse()
            answer = json.loads(response.read())
            return response.status == 200 and len(answer["rewards"]) == len(body["query"])
        except (OSError, http.client.HTTPException):
            return False
        finally:
            connection.close()

    return call


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=256)
    parser.add_argument("--requests", type=int, default=8, help="requests per client")
    parser.add_argument("--samples", type=int, default=8, help="samples per request")
    args = parser.parse_args()
    reward = make_reward_func("math", cache=None)
    direct(reward)(request_body(-1, 4))  # warm: verifiers resolved, modules imported
    results = {}
    with RewardServer(reward).start() as server:  # sets the scorer's batches: the peer runs with the same setting
        over_http(server)(request_body(-2, 4))
        offset = args.clients * args.requests
        results["in-process RewardFunc (peer)"] = burst(args.clients, args.requests, args.samples, 0, direct(reward))
        results["HTTP server"] = burst(args.clients, args.requests, args.samples, offset, over_http(server))
    rows = []
    for name, (seconds, latencies, lost) in results.items():
        count = len(latencies)
        rows.append([name, f"{count / seconds:,.0f}", f"{count * args.samples / seconds:,.0f}",
                     f"{percentile(latencies, 0.5) * 1e3:,.1f}", f"{percentile(latencies, 0.99) * 1e3:,.1f}",
                     str(lost)])  # fmt: skip
    table(f"{args.clients} concurrent clients x {args.requests} requests x {args.samples} samples (math, no cache)",
          ["path", "requests/s", "samples/s", "p50 ms", "p99 ms", "lost"], rows)  # fmt: skip
    (peer_s, peer_lat, _), (http_s, http_lat, _) = results.values()
    print(f"HTTP overhead: throughput x{peer_s / http_s:.2f} of the peer's, p50 latency x"
          f"{percentile(http_lat, 0.5) / percentile(peer_lat, 0.5):.2f}, p99 x"
          f"{percentile(http_lat, 0.99) / percentile(peer_lat, 0.99):.2f}")


if __name__ == "__main__":
    main()
