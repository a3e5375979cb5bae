"""Lean throughput: start-up per Lean process, marginal cost per snippet, peak memory.

Measured in one run, on the same light snippets (the valid cases of shared/bench/lean_cases.jsonl, cycled):
  - batch files (the `lean` verifier's design): one Lean process per batch of 1, 20, 100 and 400 snippets, and
    400 snippets over two processes in parallel;
  - the persistent worker (`lean --worker`, one document per request; recycled every few documents);
  - the peer: one fresh Lean process per snippet, as a checker without header caching or batching does.
Start-up = time for 1 snippet; marginal = (t(400) - t(1)) / 399. Targets under WebAssembly on 2 cores:
start-up <= 20 s, marginal <= 0.1 s per snippet with two processes in parallel.

    python benchmarks/lean_throughput.py [--sizes 1,20,100,400] [--worker-snippets 20] [--peer-snippets 3]
"""

from __future__ import annotations

import argparse
import sys
import time

from _common import load_bench, table

from verifiers.formal import LeanChecker, Outcome, Snippet, find_toolchain
from verifiers.formal.checker import process_memory_mb


def _snippets(n: int, rows: list[dict]) -> list[Snippet]:
    valid = [r for r in rows if r["expected_valid"]]
    # a distinct statement each time, so nothing is answered from the checker's memo
    return [Snippet(f"{valid[i % len(valid)]['statement']}", f"{valid[i % len(valid)]['proof']}\n-- {i}") for i in range(n)]


def _timed_check(checker: LeanChecker, snippets: list[Snippet]) -> tuple[float, int]:
    start = time.monotonic()
    results = checker.check(snippets)
    elapsed = time.monotonic() - start
    return elapsed, sum(r.outcome is Outcome.PROVED for r in results)


def bench_batches(toolchain, rows, sizes: list[int]) -> dict[str, float]:
    figures: dict[str, float] = {}
    body = []
    for n in sizes:
        checker = LeanChecker(toolchain, processes=1, batch_size=max(sizes))
        elapsed, proved = _timed_check(checker, _snippets(n, rows))
        figures[f"batch_{n}"] = elapsed
        figures["peak_mb"] = max(figures.get("peak_mb", 0.0), checker.peak_rss_mb)
        body.append([f"1 process, {n} snippets", f"{elapsed:.1f}", f"{elapsed / n:.3f}", f"{proved}/{n}",
                     f"{checker.peak_rss_mb:.0f}"])  # fmt: skip
    n = max(sizes)
    checker = LeanChecker(toolchain, processes=2, batch_size=(n + 1) // 2)
    elapsed, proved = _timed_check(checker, _snippets(n, rows))
    figures["parallel"] = elapsed
    body.append([f"2 processes, {n} snippets", f"{elapsed:.1f}", f"{elapsed / n:.3f}", f"{proved}/{n}",
                 f"{checker.peak_rss_mb:.0f}"])  # fmt: skip
    table("batch files", ["run", "seconds", "s/snippet", "proved", "peak MB/process"], body)
    return figures


def bench_peer(toolchain, rows, n: int) -> float:
    """One fresh Lean process per snippet."""
    checker = LeanChecker(toolchain, processes=1, batch_size=1)
    elapsed, proved = _timed_check(checker, _snippets(n, rows))
    table("peer: a fresh Lean process per snippet", ["run", "seconds", "s/snippet", "proved"],
          [[f"{n} snippets", f"{elapsed:.1f}", f"{elapsed / n:.2f}", f"{proved}/{n}"]])  # fmt: skip
    return elapsed / n


def bench_worker(toolchain, rows, n: int) -> dict[str, float] | None:
    """The persistent worker through the checker (`persistent=True`), one snippet per request."""
    if toolchain.kind != "wasm":
        print("\npersistent worker: only for the WebAssembly toolchain")
        return None
    checker = LeanChecker(toolchain, persistent=True)
    latencies, proved, peak = [], 0, 0.0
    try:
        start = time.monotonic()
        checker.check([Snippet("theorem warm : True", "trivial")])  # start-up and the first document
        ready = time.monotonic() - start
        for snippet in _snippets(n, rows):
            t0 = time.monotonic()
            (result,) = checker.check([snippet])
            latencies.append(time.monotonic() - t0)
            proved += result.outcome is Outcome.PROVED
            peak = max(peak, process_memory_mb(checker._worker.pid if checker._worker else None, "VmHWM"))
    finally:
        checker.close()
    latencies.sort()
    median = latencies[len(latencies) // 2]
    table("persistent worker (lean --worker via persistent=True, one snippet per request, recycled every 8)",
          ["start-up s", "median s/snippet", "max s/snippet", "proved", "peak MB"],
          [[f"{ready:.1f}", f"{median:.3f}", f"{latencies[-1]:.2f}", f"{proved}/{n}", f"{peak:.0f}"]])  # fmt: skip
    return {"ready": ready, "median": median}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1,20,100,400")
    parser.add_argument("--worker-snippets", type=int, default=20)
    parser.add_argument("--peer-snippets", type=int, default=3)
    args = parser.parse_args()
    if args.peer_snippets < 1:
        parser.error("--peer-snippets must be at least 1: the summary compares the batch files with the peer")
    sizes = sorted(int(s) for s in args.sizes.split(","))
    toolchain = find_toolchain()
    rows = load_bench("lean_cases.jsonl")
    print(f"Lean: {toolchain.version} ({toolchain.kind})")

    figures = bench_batches(toolchain, rows, sizes)
    peer = bench_peer(toolchain, rows, args.peer_snippets)
    worker = bench_worker(toolchain, rows, args.worker_snippets) if args.worker_snippets else None

    n = sizes[-1]
    startup = figures[f"batch_{sizes[0]}"]
    marginal = (figures[f"batch_{n}"] - startup) / max(n - sizes[0], 1)
    marginal_2 = (figures["parallel"] - startup) / max(n - sizes[0], 1)
    rows_out = [
        ["start-up per process (1 snippet)", f"{startup:.1f} s", "<= 20 s", "yes" if startup <= 20 else "NO"],
        ["marginal per snippet, 1 process", f"{marginal:.3f} s", "", ""],
        ["marginal per snippet, 2 processes", f"{marginal_2:.3f} s", "<= 0.1 s", "yes" if marginal_2 <= 0.1 else "NO"],
        ["peak memory per process", f"{figures['peak_mb']:.0f} MB", "", ""],
        [f"{n} snippets: peer / batch files", f"{peer * n / figures['parallel']:.0f}x", "", ""],
    ]
    if worker:
        rows_out.append(["one snippet: batch file / warm worker", f"{startup / worker['median']:.0f}x", "", ""])
    table("summary", ["figure", "value", "target", "met"], rows_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
