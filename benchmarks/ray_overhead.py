"""Ray overhead: the same batch verified by the local executor and by the Ray executor, same run, same machine.

Run from the repository root:  python benchmarks/ray_overhead.py [--rounds 3] [--cpus 2] [--workload all]

Workloads (from `shared/bench/`, or `$VERIFIERS_BENCH_DIR`):
  - math: the labelled responses of `math_responses.jsonl` (the math cascade: rules, then sympy), x4;
  - code: the canonical solutions of `code_problems.jsonl` (sandboxed unit tests, the pool's deadline).
Peer: `verify_batch(..., executor="local")` — this process and its worker pool.
Ours: `verify_batch(..., executor="ray")` on a local Ray with `--cpus` CPUs (started here), warm actors: the
first Ray call (actor start-up, imports, warm-up) is timed apart as "cold", the next `--rounds` calls are the
throughput. Printed: samples/s for both and the ratio Ray / local (1.0 = no overhead). Ray's use is spreading a
batch over a cluster; on one machine the ratio shows what the actors cost or gain there: the local executor runs
in-process verifiers (the math rules) on one core, the actors run one per CPU, so a ratio above 1 is parallelism
the local executor does not use, not a free lunch. Results are also checked equal between the two executors.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

from _common import load_bench, require_bench, table

import verifiers
from verifiers import Sample


def math_batch() -> list[Sample]:
    rows = load_bench("math_responses.jsonl")
    samples = [Sample(r["response"], r["gold"], domain="math") for r in rows]
    return samples * 4


def code_batch() -> list[Sample]:
    from code_reward import fenced, reference, solution

    return [Sample(fenced(solution(p)), reference(p), domain="code") for p in load_bench("code_problems.jsonl")]


def timed(samples: list[Sample], rounds: int, **settings: Any) -> tuple[float, list[float], list[Any]]:
    start = time.perf_counter()
    verdicts = verifiers.verify_batch(samples, **settings)
    cold = time.perf_counter() - start
    runs = []
    for _ in range(rounds):
        start = time.perf_counter()
        verifiers.verify_batch(samples, **settings)
        runs.append(time.perf_counter() - start)
    return cold, runs, verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray")
    parser.add_argument("--workload", choices=("all", "math", "code"), default="all")
    args = parser.parse_args()

    files = {"math": "math_responses.jsonl", "code": "code_problems.jsonl"}
    require_bench(*(file for name, file in files.items() if args.workload in ("all", name)))  # before Ray's slow start
    import ray

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    started = time.perf_counter()
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False, configure_logging=False)
    print(f"local Ray with {args.cpus} CPUs started in {time.perf_counter() - started:.1f} s")
    workloads = {"math": math_batch, "code": code_batch}
    rows = []
    try:
        for name, build in workloads.items():
            if args.workload not in ("all", name):
                continue
            samples = build()
            settings: dict[str, Any] = {"timeout": 10} if name == "code" else {}
            local_cold, local_runs, local_verdicts = timed(samples, args.rounds, **settings)
            ray_cold, ray_runs, ray_verdicts = timed(samples, args.rounds, executor="ray", **settings)
            same = sum(a.status == b.status and a.score == b.score for a, b in zip(local_verdicts, ray_verdicts))
            local_rate = len(samples) / statistics.median(local_runs)
            ray_rate = len(samples) / statistics.median(ray_runs)
            rows.append([
                name, str(len(samples)), f"{local_rate:,.0f}", f"{ray_rate:,.0f}", f"{ray_rate / local_rate:.2f}x",
                f"{local_cold:.1f} / {ray_cold:.1f}", f"{same}/{len(samples)}",
            ])  # fmt: skip
    finally:
        ray.shutdown()
    table(
        f"throughput, warm (median of {args.rounds} rounds; samples/s)",
        ["workload", "samples", "local", "ray", "ray / local", "cold s (local / ray)", "same verdicts"],
        rows,
    )


if __name__ == "__main__":
    main()
