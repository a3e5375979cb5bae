"""Per-step reward latency of a 256-sample GRPO batch through each training-loop adapter, against verl's own scorer.

Run from the repository root:  python benchmarks/adapter_latency.py [--steps 2] [--code-tests 10]

Workload per step: 128 math samples (`math_responses.jsonl`: real model responses with their gold answers) and 128
code samples (the stdin/stdout problems of `code_problems.jsonl`, first `--code-tests` tests each, as verl's
code datasets carry them: the JSON text of {"inputs", "outputs"}; 16 prompts x 8 generations: the reference
solution, `print(0)`, `print(-1)` and an empty program, two each), each step new samples (the code differs by a
comment, so no verdict cache hides the work). Data from `shared/bench/` or `$VERIFIERS_BENCH_DIR`.

Each adapter is driven in the shape its loop calls it:
  TRL        one call with the whole batch (`reward_function()`, as GRPOTrainer calls a reward function);
  verl       one coroutine per sample gathered on an event loop (`compute_score_async`, as verl's reward loop
             awaits it);
  OpenRLHF   one call per sample from threads (`reward_func`, as OpenRLHF 0.11's agent executor calls a file).
Peer, in the same run and the same shape: verl's `default_compute_score` (its gsm8k/MATH rules and `prime_code`,
which runs programs without a sandbox), sync, through `asyncio.to_thread` for the verl and OpenRLHF shapes and a
loop for TRL's. Printed: seconds per step (the first step includes warm-up), the ratio ours / peer, and how many
samples each scored 1.0 (the answers differ: prime_code accepts more, see tests/test_code_formats.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import warnings
from typing import Any

from _common import load_bench, table

Batch = list[tuple[str, str, Any]]  # (data_source, response, ground truth)


def batches(steps: int, code_tests: int) -> list[Batch]:
    math_rows = load_bench("math_responses.jsonl")
    problems = [p for p in load_bench("code_problems.jsonl") if p["test_type"] == "stdin_stdout"]
    out: list[Batch] = []
    for step in range(steps):
        batch: Batch = []
        for row in math_rows[step * 128 : (step + 1) * 128]:
            batch.append(("lighteval/MATH", row["response"], row["gold"]))
        for prompt in range(16):
            problem = problems[prompt % len(problems)]
            tests = problem["tests"][:code_tests]
            truth = json.dumps({"inputs": [t["input"] for t in tests], "outputs": [t["output"] for t in tests]})
            for generation in range(8):
                body = [problem["canonical_solution"], "print(0)", "print(-1)", ""][generation // 2]
                code = f"# step {step} prompt {prompt} generation {generation}\n{body}"
                batch.append(("codecontests", f"```python\n{code}\n```", truth))
        out.append(batch)
    return out


def peer_one(source: str, response: str, truth: Any) -> float:
    from verl.utils.reward_score import default_compute_score

    try:
        result = default_compute_score(source, response, truth)
    except Exception:
        return 0.0
    return float(result["score"] if isinstance(result, dict) else result)


def run_trl(batch: Batch, peer: bool) -> list[float]:
    if peer:
        return [peer_one(*row) for row in batch]
    from verifiers.integrations.trl import reward_function

    global _TRL
    if _TRL is None:
        _TRL = reward_function()
    rewards = _TRL(prompts=["p"] * len(batch), completions=[r for _, r, _ in batch],
                   data_source=[s for s, _, _ in batch], ground_truth=[t for _, _, t in batch])  # fmt: skip
    return [0.0 if r is None else r for r in rewards]


_TRL: Any = None


def run_verl(batch: Batch, peer: bool) -> list[float]:
    from verifiers.integrations.verl import compute_score_async

    async def gather() -> list[float]:
        if peer:
            return list(await asyncio.gather(*(asyncio.to_thread(peer_one, *row) for row in batch)))
        results = await asyncio.gather(*(compute_score_async(s, r, t) for s, r, t in batch))
        return [result["score"] for result in results]

    return asyncio.run(gather())


def run_openrlhf(batch: Batch, peer: bool) -> list[float]:
    from verifiers.integrations.openrlhf import make_reward_func

    global _OPENRLHF
    if _OPENRLHF is None:
        _OPENRLHF = make_reward_func(tensors=False)
    function = _OPENRLHF

    def one(source: str, response: str, truth: Any) -> float:
        if peer:
            return peer_one(source, response, truth)
        return float(function(["p" + response], ["p"], [truth])["rewards"][0])

    async def gather() -> list[float]:
        return list(await asyncio.gather(*(asyncio.to_thread(one, *row) for row in batch)))

    return asyncio.run(gather())


_OPENRLHF: Any = None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--code-tests", type=int, default=10)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    steps = batches(args.steps, args.code_tests)
    rows = []
    for name, run in (("TRL", run_trl), ("verl", run_verl), ("OpenRLHF", run_openrlhf)):
        for step, batch in enumerate(steps, 1):
            timing = {}
            correct = {}
            for who in ("ours", "peer"):
                started = time.perf_counter()
                scores = run(batch, who == "peer")
                timing[who] = time.perf_counter() - started
                correct[who] = sum(1 for s in scores if s == 1.0)
            ratio = timing["ours"] / timing["peer"]
            rows.append([f"{name} step {step}", f"{timing['ours']:.2f}", f"{timing['peer']:.2f}", f"{ratio:.2f}",
                         f"{correct['ours']}", f"{correct['peer']}"])  # fmt: skip
    table(
        f"reward latency per 256-sample step ({args.code_tests} tests per code row)",
        ["adapter", "ours s", "peer s", "ours/peer", "ours 1.0", "peer 1.0"],
        rows,
    )


if __name__ == "__main__":
    main()
