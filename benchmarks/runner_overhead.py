"""How much the runner and the worker pool cost on top of calling a verifier directly.

Run from the repository root:  python benchmarks/runner_overhead.py [--samples N] [--pool-samples M]

1. in-process: a plain loop over `verifier.verify(sample)` (the peer) against `verifiers.verify_batch(...,
   verifier="exact")`, the path a training loop takes for rule verifiers. Target: < 50 us/sample of overhead.
2. worker pool: a verifier doing ~1 ms of pure-Python work per sample, in-process against `WorkerPool(1)` and
   `WorkerPool(os.cpu_count())`, warm (workers started and the verifier loaded before timing), with a per-sample
   deadline, so the soft-timeout machinery is part of the cost. Prints samples/s and the scaling ratio.
3. worker-pool overhead: the trivial "exact" verifier through one worker against the plain loop, in us/sample.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # so `_cpu_verifier` imports here and in workers

from _common import table  # noqa: E402
from _cpu_verifier import BusyExact  # noqa: E402

import verifiers  # noqa: E402
from verifiers import Sample, get_verifier  # noqa: E402
from verifiers.pool import WorkerPool  # noqa: E402


def synthetic_samples(n: int) -> list[Sample]:
    """Half right, half wrong, a few with list references and padding, so every branch of `exact` runs."""
    samples = []
    for i in range(n):
        answer = str(i * 7 % 1000)
        if i % 4 == 0:
            samples.append(Sample(response=f"  {answer} ", reference=answer))
        elif i % 4 == 1:
            samples.append(Sample(response=answer, reference=[str(i), answer]))
        else:
            samples.append(Sample(response=answer, reference=str(i * 7 % 1000 + (i % 4 == 3))))
    return samples


def best_of(repeats: int, fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def in_process(n: int, repeats: int) -> None:
    samples = synthetic_samples(n)
    exact = get_verifier("exact")
    plain = [exact.verify(s) for s in samples]
    batched = verifiers.verify_batch(samples, verifier="exact")
    assert [v.status for v in plain] == [v.status for v in batched], "verify_batch disagrees with the plain loop"

    loop_s = best_of(repeats, lambda: [exact.verify(s) for s in samples])
    batch_s = best_of(repeats, lambda: verifiers.verify_batch(samples, verifier="exact"))
    per_loop, per_batch = loop_s / n * 1e6, batch_s / n * 1e6
    table(
        f"1. in-process, verifier 'exact', {n:,} samples (best of {repeats})",
        ("path", "total s", "us/sample", "vs loop"),
        [
            ("plain loop: verifier.verify(s)", f"{loop_s:.3f}", f"{per_loop:.2f}", "1.00x"),
            ("verifiers.verify_batch(...)", f"{batch_s:.3f}", f"{per_batch:.2f}", f"{batch_s / loop_s:.2f}x"),
        ],
    )
    verdict = "meets" if per_batch - per_loop < 50 else "MISSES"
    print(f"runner overhead: {per_batch - per_loop:.2f} us/sample ({verdict} the < 50 us/sample target)")


def pool(n: int, timeout: float) -> None:
    samples = synthetic_samples(n)
    busy = BusyExact()
    cores = os.cpu_count() or 1
    start = time.perf_counter()
    reference = [busy.verify(s) for s in samples]
    local_s = time.perf_counter() - start
    rows = [("in-process loop (peer)", "-", f"{local_s:.3f}", f"{n / local_s:,.0f}", "1.00x")]
    rates = {}
    for workers in sorted({1, cores}):
        with WorkerPool(workers) as workers_pool:
            workers_pool.run(busy, samples[: workers * 4], timeout=timeout)  # start the workers, load the verifier
            start = time.perf_counter()
            verdicts = workers_pool.run(busy, samples, timeout=timeout)
            elapsed = time.perf_counter() - start
        assert [v.status for v in verdicts] == [v.status for v in reference], "pool disagrees with in-process"
        rates[workers] = n / elapsed
        speed = f"{local_s / elapsed:.2f}x"
        rows.append((f"WorkerPool({workers})", str(workers), f"{elapsed:.3f}", f"{n / elapsed:,.0f}", speed))
    table(
        f"2. worker pool, ~1 ms pure-Python verifier, {n:,} samples, timeout={timeout:g} s",
        ("path", "workers", "total s", "samples/s", "vs in-process"),
        rows,
    )
    if cores > 1:
        print(f"scaling {cores} workers / 1 worker: {rates[cores] / rates[1]:.2f}x (ideal {cores}.00x)")


def pool_overhead(n: int, timeout: float) -> None:
    """The pool's own cost per sample: the trivial 'exact' verifier through one worker against a plain loop."""
    samples = synthetic_samples(n)
    exact = get_verifier("exact")
    loop_s = best_of(3, lambda: [exact.verify(s) for s in samples])
    rows = [("plain loop: verifier.verify(s)", f"{loop_s:.3f}", f"{loop_s / n * 1e6:.1f}", "-")]
    with WorkerPool(1) as one:
        one.run(exact, samples[:10])
        configs = (("WorkerPool(1), no timeout", None), (f"WorkerPool(1), timeout={timeout:g} s", timeout))
        for label, deadline in configs:
            elapsed = best_of(3, lambda d=deadline: one.run(exact, samples, timeout=d))
            extra = (elapsed - loop_s) / n * 1e6
            rows.append((label, f"{elapsed:.3f}", f"{elapsed / n * 1e6:.1f}", f"{extra:.1f}"))
    table(
        f"3. worker-pool overhead, verifier 'exact', {n:,} samples (best of 3)",
        ("path", "total s", "us/sample", "overhead us/sample"),
        rows,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=20_000, help="samples for the in-process comparison")
    parser.add_argument("--pool-samples", type=int, default=2_000, help="samples for the worker-pool comparison")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=5.0, help="per-sample deadline in the pool")
    args = parser.parse_args(argv)
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, verifiers {verifiers.__version__}")
    in_process(args.samples, args.repeats)
    pool(args.pool_samples, args.timeout)
    pool_overhead(args.samples, args.timeout)


if __name__ == "__main__":
    main()
