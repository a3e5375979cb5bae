"""Isolated test executions per second: the bwrap sandbox three ways, against plain unsandboxed subprocesses.

Run from the repository root:  python benchmarks/sandbox_throughput.py [--limit N] [--workers W]

Workload: the HumanEval problems of `code_problems.jsonl` (task_id HumanEval/*, assert tests), program =
prompt + canonical solution, from `shared/bench/` next to the repository or from `$VERIFIERS_BENCH_DIR`.

Ways, all in this one run, all counting test executions (one assert = one test):
  1. fresh bwrap per test: `BwrapSandbox.run(program + one assert)`, one after another;
  2. fresh bwrap per test through `SandboxPool` (W workers): the same executions, in parallel;
  3. ours, batched: one sandboxed process per problem running a small driver that executes every assert under
     try/except and prints one JSON result per test, the problems in parallel through `SandboxPool`;
  4. the `code` verifier itself (`CodeVerifier`, bubblewrap): the harness the rewards come from, with the
     test code and the candidate in separate processes and the comparison on the trusted side, problems in
     parallel (`workers` = the pool's);
  5. peer: a plain unsandboxed `/usr/bin/python3 -E -s -c program+assert` subprocess per test (the sandbox's
     interpreter and flags), one after another.
Ways 2 and 4 run once per limits mode available here (`BwrapSandbox.enforcement.mode`: cgroup v2 or v1 as
detected, and the fallback, forced with `cgroups=False`: a uid per execution, RLIMIT_NPROC/DATA, an RSS
watchdog), so the fallback's cost is measured against the cgroup mode in the same run.
The issue's floor for way 4 is 150 test executions/s on 2 cores.
Every way must pass all tests of the canonical solutions; the script fails loudly otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

from _common import load_bench, table

from sandboxes import Limits, Outcome, SandboxPool
from sandboxes.bwrap import BwrapSandbox

PYTHON = "/usr/bin/python3"
LIMITS = Limits(cpu_s=10, wall_s=30)

# The batching driver: the program is the module's source; the tests arrive as a JSON list on stdin.
DRIVER = r'''
import json, sys
_tests = json.loads(sys.stdin.read())
_ns = {"__name__": "__main__"}
exec(compile(_PROGRAM, "solution.py", "exec"), _ns)
for _i, _test in enumerate(_tests):
    try:
        exec(compile(_test, f"test_{_i}", "exec"), dict(_ns))
        _r = {"i": _i, "ok": True}
    except BaseException as _exc:  # an assert failure or any error is that test's failure
        _r = {"i": _i, "ok": False, "error": type(_exc).__name__}
    print(json.dumps(_r), flush=True)
'''


def load(limit: int | None) -> list[dict[str, Any]]:
    rows = [r for r in load_bench("code_problems.jsonl")
            if r["task_id"].startswith("HumanEval") and r["test_type"] == "assert" and r["tests"]]
    return rows[:limit] if limit else rows


def program_of(row: dict[str, Any]) -> str:
    return row["prompt"] + row["canonical_solution"]


def fresh_sequential(sandbox: BwrapSandbox, rows: list[dict[str, Any]]) -> tuple[int, int]:
    passed = total = 0
    for row in rows:
        for test in row["tests"]:
            result = sandbox.run(program_of(row) + "\n" + test + "\n", limits=LIMITS)
            passed += result.outcome is Outcome.OK
            total += 1
    return passed, total


def fresh_pooled(pool: SandboxPool, rows: list[dict[str, Any]]) -> tuple[int, int]:
    requests = [
        {"program": program_of(row) + "\n" + test + "\n", "limits": LIMITS} for row in rows for test in row["tests"]
    ]
    results = pool.run_batch(requests)
    return sum(r.outcome is Outcome.OK for r in results), len(results)


def batched(pool: SandboxPool, rows: list[dict[str, Any]]) -> tuple[int, int]:
    requests = [
        {"program": f"_PROGRAM = {program_of(row)!r}\n{DRIVER}", "stdin": json.dumps(row["tests"]), "limits": LIMITS}
        for row in rows
    ]
    passed = total = 0
    for row, result in zip(rows, pool.run_batch(requests)):
        verdicts = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
        passed += sum(v["ok"] for v in verdicts)
        total += len(row["tests"])
    return passed, total


def code_verifier(sandbox: BwrapSandbox, workers: int, rows: list[dict[str, Any]]) -> tuple[int, int]:
    from verifiers import Sample, verify_batch
    from verifiers.code import CodeVerifier

    verifier = CodeVerifier(sandbox=sandbox, workers=workers)
    samples = [
        Sample(response=f"```python\n{program_of(row)}```", reference={"tests": row["tests"], "entry_point": row["entry_point"]})
        for row in rows
    ]
    verdicts = verify_batch(samples, verifier=verifier)
    passed = sum(int(v.evidence.get("passed", 0)) for v in verdicts)
    return passed, sum(len(row["tests"]) for row in rows)


def plain_subprocess(rows: list[dict[str, Any]]) -> tuple[int, int]:
    passed = total = 0
    for row in rows:
        for test in row["tests"]:
            proc = subprocess.run(
                [PYTHON, "-E", "-s", "-c", program_of(row) + "\n" + test + "\n"], capture_output=True, timeout=30, check=False
            )
            passed += proc.returncode == 0
            total += 1
    return passed, total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="first N HumanEval problems only")
    parser.add_argument("--workers", type=int, default=None, help="pool workers (default: the usable cores)")
    args = parser.parse_args(argv)

    rows = load(args.limit)
    sandbox = BwrapSandbox()
    pool = SandboxPool(sandbox, workers=args.workers)
    n_tests = sum(len(r["tests"]) for r in rows)
    mode = sandbox.enforcement.mode
    print(f"{len(rows)} HumanEval problems, {n_tests} assert tests; pool workers: {pool.workers}; "
          f"cores: {len(os.sched_getaffinity(0))}; limits mode: {mode}")  # fmt: skip
    sandbox.run("pass")  # warm the page cache for python3 and bwrap

    ways = [
        (f"fresh bwrap per test, sequential [{mode}]", lambda: fresh_sequential(sandbox, rows)),
        (f"fresh bwrap per test, pool x{pool.workers} [{mode}]", lambda: fresh_pooled(pool, rows)),
        (f"ours: batched per problem, pool x{pool.workers} [{mode}]", lambda: batched(pool, rows)),
        (f"ours: the code verifier's harness, x{pool.workers} [{mode}]",
         lambda: code_verifier(sandbox, pool.workers, rows)),
    ]  # fmt: skip
    if mode != "fallback":
        fallback = BwrapSandbox(cgroups=False)
        fallback_pool = SandboxPool(fallback, workers=args.workers)
        ways += [
            (f"fresh bwrap per test, pool x{pool.workers} [fallback]", lambda: fresh_pooled(fallback_pool, rows)),
            (f"ours: the code verifier's harness, x{pool.workers} [fallback]",
             lambda: code_verifier(fallback, pool.workers, rows)),
        ]  # fmt: skip
    ways.append(("peer: plain subprocess per test (no isolation)", lambda: plain_subprocess(rows)))
    measured: dict[str, float] = {}
    lines = []
    failures = []
    for name, fn in ways:
        start = time.perf_counter()
        passed, total = fn()
        elapsed = time.perf_counter() - start
        measured[name] = total / elapsed
        if passed != total:
            failures.append(f"{name}: {passed}/{total} canonical tests passed")
        lines.append((name, f"{total}", f"{passed}", f"{elapsed:.2f}", f"{total / elapsed:.1f}"))
    pool.close()
    if mode != "fallback":
        fallback_pool.close()

    fresh = measured[ways[0][0]]
    plain = measured[ways[-1][0]]
    rows_out = [(*line, f"{measured[line[0]] / fresh:.2f}x", f"{measured[line[0]] / plain:.2f}x") for line in lines]
    print()
    table("", ("way", "tests", "passed", "wall s", "tests/s", "vs fresh bwrap", "vs plain subprocess"), rows_out)
    if failures:
        sys.exit("canonical solutions failed: " + "; ".join(failures))


if __name__ == "__main__":
    main()
