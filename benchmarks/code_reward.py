"""Code reward: canonical solutions, trivial stubs and known exploits, against a naive harness, same run.

Run from the repository root:  python benchmarks/code_reward.py [--limit N] [--workers W]

Workload: `code_problems.jsonl` (97 problems: HumanEval split into one assert per test, MBPP, Codeforces /
CodeContests stdin/stdout), from `shared/bench/` next to the repository or from `$VERIFIERS_BENCH_DIR`.

Ours: the `code` verifier (bubblewrap sandbox, one driver process per program, a forked child per test).
Peer: the usual public harness, in the same sandbox: for assert problems, the program followed by its asserts
as one script, passed when the script exits 0 (HumanEval / MBPP style); for stdin/stdout problems one run per
test, token comparison. Printed:
  - canonical solutions: how many score 1.0 (and any that do not), with problems/s for ours and the peer;
  - stub programs (`def entry_point(*a, **k): return None`, `pass`, `print(0)`, empty): mean score per kind,
    ours under `weighted` and `fraction`, the peer's pass rate;
  - exploits (`sys.exit(0)` before the asserts, an always-equal `int` subclass, `os._exit(0)`, an atexit
    hook that forces exit status 0): mean score, ours (weighted and fraction) against the peer's.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import time
import warnings
from typing import Any

from _common import load_bench

from verifiers import Sample, verify_batch
from verifiers.code import CodeVerifier



def solution(problem: dict[str, Any]) -> str:
    if problem["test_type"] == "assert" and problem["source"].startswith("openai"):
        return problem["prompt"] + problem["canonical_solution"]
    return problem["canonical_solution"]


def reference(problem: dict[str, Any]) -> dict[str, Any]:
    return {"tests": problem["tests"], "entry_point": problem["entry_point"], "language": "python"}


def fenced(code: str) -> str:
    return f"```python\n{code}\n```"


def stub(kind: str, problem: dict[str, Any]) -> str | None:
    name = problem["entry_point"]
    if kind == "return None":
        return f"def {name}(*a, **k):\n    return None\n" if name else None
    if kind == "pass":
        return f"def {name}(*a, **k):\n    pass\n" if name else None
    if kind == "print(0)":
        return "print(0)\n"
    return "\n"  # empty program


EXPLOITS = {
    "sys.exit(0) first": "import sys\nsys.exit(0)\n",
    "always-equal int": "class E(int):\n    def __eq__(self, o): return True\n    def __ne__(self, o): return False\n"
                        "    def __bool__(self): return True\n    __hash__ = int.__hash__\n"
                        "def {name}(*a, **k):\n    return E(0)\n",
    "os._exit(0) first": "import os\nos._exit(0)\n",
    "atexit exit 0": "import atexit, os, sys\natexit.register(os._exit, 0)\nsys.excepthook = lambda *a: None\n"
                     "def {name}(*a, **k):\n    return None\n",
}


def exploit(kind: str, problem: dict[str, Any]) -> str | None:
    if not problem["entry_point"]:
        return None
    return EXPLOITS[kind].replace("{name}", problem["entry_point"])


class Naive:
    """The public-harness peer: exit status 0 of program + asserts means passed."""

    def __init__(self, sandbox: Any, workers: int) -> None:
        from sandboxes import Limits

        self.sandbox = sandbox
        self.workers = workers
        self.limits = Limits(cpu_s=10, wall_s=20)

    def one(self, code: str, problem: dict[str, Any]) -> float:
        if problem["test_type"] == "assert":
            result = self.sandbox.run(code + "\n\n" + "\n".join(problem["tests"]) + "\n", limits=self.limits)
            return 1.0 if result.exit_code == 0 else 0.0
        passed = 0
        for test in problem["tests"]:
            result = self.sandbox.run(code, stdin=test["input"], limits=self.limits)
            passed += result.exit_code == 0 and result.stdout.split() == test["output"].split()
        return float(passed == len(problem["tests"]))

    def run(self, codes: list[str], problems: list[dict[str, Any]]) -> list[float]:
        with concurrent.futures.ThreadPoolExecutor(self.workers) as pool:
            return list(pool.map(self.one, codes, problems))


def ours(codes: list[str], problems: list[dict[str, Any]], verifier: CodeVerifier) -> list[float]:
    samples = [Sample(response=fenced(c), reference=reference(p), prompt=p["task_id"]) for c, p in zip(codes, problems)]
    verdicts = verify_batch(samples, verifier=verifier)
    errors = [(p["task_id"], v.reason) for p, v in zip(problems, verdicts) if not v.status.is_decided]
    if errors:
        print(f"  !! {len(errors)} undecided/error verdicts, e.g. {errors[:3]}")
    return [v.score for v in verdicts]


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 2))
    args = parser.parse_args()
    problems = load_bench("code_problems.jsonl", args.limit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sandboxes import default_sandbox

        sandbox = default_sandbox()
    peer = Naive(sandbox, args.workers)
    fraction = CodeVerifier(sandbox=sandbox, workers=args.workers)
    weighted = CodeVerifier(sandbox=sandbox, workers=args.workers, reward_mode="weighted")
    print(f"{len(problems)} problems, {sum(len(p['tests']) for p in problems)} tests, sandbox {sandbox.name}, "
          f"{args.workers} workers, {os.cpu_count()} cores")

    codes = [solution(p) for p in problems]
    start = time.perf_counter()
    scores = ours(codes, problems, fraction)
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    peer_scores = peer.run(codes, problems)
    peer_s = time.perf_counter() - start
    failures = [(p["task_id"], s) for p, s in zip(problems, scores) if s != 1.0]
    print("\ncanonical solutions")
    print(f"  ours: {len(problems) - len(failures)}/{len(problems)} score 1.0   {len(problems) / ours_s:6.2f} problems/s "
          f"({ours_s:.1f} s)")
    print(f"  peer: {int(sum(peer_scores))}/{len(problems)} pass          {len(problems) / peer_s:6.2f} problems/s "
          f"({peer_s:.1f} s)")
    print(f"  speed ratio ours/peer: {peer_s / ours_s:.2f}x")
    for task_id, score in failures:
        print(f"  FAIL {task_id}: {score}")
    start = time.perf_counter()
    ours(codes, problems, weighted)
    print(f"  weighted mode (runs the stubs too): {len(problems) / (time.perf_counter() - start):.2f} problems/s")

    print("\nstubs (mean score; want ~0)")
    print(f"  {'kind':<14}{'n':>4}{'weighted':>10}{'fraction':>10}{'peer':>8}")
    for kind in ("return None", "pass", "print(0)", "empty"):
        chosen = [(stub(kind, p), p) for p in problems if stub(kind, p) is not None]
        cs, ps = [c for c, _ in chosen], [p for _, p in chosen]
        w, f, n = ours(cs, ps, weighted), ours(cs, ps, fraction), peer.run(cs, ps)
        print(f"  {kind:<14}{len(cs):>4}{mean(w):>10.4f}{mean(f):>10.4f}{mean(n):>8.4f}")

    print("\nexploits (mean score; want 0)")
    print(f"  {'kind':<20}{'n':>4}{'weighted':>10}{'fraction':>10}{'peer':>8}")
    for kind in EXPLOITS:
        chosen = [(exploit(kind, p), p) for p in problems if exploit(kind, p) is not None]
        cs, ps = [c for c, _ in chosen], [p for _, p in chosen]
        w, f, n = ours(cs, ps, weighted), ours(cs, ps, fraction), peer.run(cs, ps)
        print(f"  {kind:<20}{len(cs):>4}{mean(w):>10.4f}{mean(f):>10.4f}{mean(n):>8.4f}")
    print("  (a fraction-mode score above 0 is credit for tests whose answer the stub's constant happens to be)")


if __name__ == "__main__":
    main()
