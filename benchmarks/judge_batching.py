"""Judge throughput: one batched forward pass over a group of prompts against one prompt at a time, same model,
same prompts, same run.

Run from the repository root:  python benchmarks/judge_batching.py [--batch 32] [--model DIR] [--rounds 3]

Workload: the judge prompts of `math_responses.jsonl` (real responses to MATH problems; the guards' excerpt and
final answer in the `reference_logprob` template), `--batch` of them per round.
Model: `--model DIR` (any local causal LM directory, e.g. a real judge on a GPU machine), else small random Llama
models built here from configs (no downloads), at a few sizes, so the ratio is shown where the per-call overhead
dominates and where compute does.
Peer: the same `TransformersBackend` with `batch_size=1`, i.e. what a judge that scores one sample per call pays
(TRL-style reward functions called per completion, or a rubric that calls the judge in a loop).
Ours: `batch_size=--batch`, left padding, one forward pass per batch. Also timed: the `judge` verifier end to end
(guards + template + backend) on the batch, against `verify()` once per sample.
Device: "auto" (CUDA when available); the table says which. Target: batched / one-at-a-time >= 4x at batch 32
on the CPU.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import load_bench, table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the tiny-model builder of the test suite

from verifiers import Sample
from verifiers.judge import (
    TEMPLATES,
    JudgeVerifier,
    Prompt,
    TransformersBackend,
    screen,
)

SIZES = (("tiny (64 wide, 2 layers)", 64, 2), ("small (256 wide, 4 layers)", 256, 4))


def judge_inputs(count: int, tail_chars: int) -> tuple[list[Prompt], list[Sample]]:
    rows = load_bench("math_responses.jsonl")
    prompts, samples = [], []
    template = TEMPLATES["reference_logprob"]
    for row in rows:
        screened = screen(row["response"], tail_chars=tail_chars)
        if screened.rejection is not None:
            continue
        prompts.append(template.prompt(question=row["problem"], reference=row["gold"], answer=screened.answer or "",
                                       excerpt=screened.excerpt))  # fmt: skip
        samples.append(Sample(row["response"], row["gold"], prompt=row["problem"], metadata={"tail_chars": tail_chars}))
        if len(prompts) == count:
            break
    return prompts, samples


TAILS = (1500, 0)  # the judge's default excerpt, and the final answer alone
SHORT_WORKLOAD = "short yes/no questions (~60 ch)"


def short_inputs(count: int) -> tuple[list[Prompt], list[Sample]]:
    """Prompts where a call's fixed cost dominates: a one-line yes/no question each."""
    prompts = [Prompt((("user", f"Is {i} + {i + 1} equal to {2 * i + 1 + i % 2}? Yes or No."),)) for i in range(count)]
    return prompts, []


def best_of(rounds: int, run) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(model_dir: str, prompts: list[Prompt], samples: list[Sample], batch: int, rounds: int) -> list[str]:
    single = TransformersBackend(model_dir, batch_size=1)
    batched = TransformersBackend(model_dir, batch_size=batch)  # the default token budget per batch
    padded = TransformersBackend(model_dir, batch_size=batch, batch_tokens=10**9)  # every prompt in one batch
    for backend in (single, batched, padded):
        backend.yes_probabilities(prompts[:2])  # load and warm
    t_single = best_of(rounds, lambda: single.yes_probabilities(prompts))
    t_batched = best_of(rounds, lambda: batched.yes_probabilities(prompts))
    t_padded = best_of(rounds, lambda: padded.yes_probabilities(prompts))
    verifier = JudgeVerifier(backend="transformers", model=model_dir, batch_size=batch)
    verifier.verify_batch(samples[:2])
    n = len(prompts)
    if samples:
        t_verify_one = best_of(rounds, lambda: [verifier.verify(s) for s in samples])
        t_verify_batch = best_of(rounds, lambda: verifier.verify_batch(samples))
        verifier_ratio = f"{t_verify_one / t_verify_batch:.1f}x"
    else:
        verifier_ratio = "-"
    return [
        batched.describe().get("device", "?"),
        f"{n / t_single:.1f}",
        f"{n / t_batched:.1f}",
        f"{n / t_padded:.1f}",
        f"{t_single / t_batched:.1f}x",
        f"{t_single / t_padded:.1f}x",
        verifier_ratio,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=32, help="prompts per batch (default 32)")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds; the best is kept (default 3)")
    parser.add_argument("--model", help="a local model directory to time instead of the built random models")
    args = parser.parse_args()
    workloads = []
    for tail_chars in TAILS:
        prompts, samples = judge_inputs(args.batch, tail_chars)
        chars = statistics.mean(len(p.plain_text()) for p in prompts)
        workloads.append((f"math judge, tail {tail_chars} ch (~{chars:.0f} ch)", prompts, samples))
    workloads.append((SHORT_WORKLOAD, *short_inputs(args.batch)))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.model:
            models = [(args.model, args.model)]
        else:
            from support.tiny_models import build_model

            models = [(label, str(build_model(Path(tmp) / str(hidden), hidden=hidden, layers=layers,
                                              max_positions=4096))) for label, hidden, layers in SIZES]  # fmt: skip
        for label, model in models:
            for workload, prompts, samples in workloads:
                rows.append([label, workload, *measure(model, prompts, samples, args.batch, args.rounds)])
    table(
        f"yes/no judge scoring of math_responses.jsonl, batch of {args.batch}: prompts per second (best of {args.rounds})",
        ["model", "prompts", "device", "one at a time", "batched", f"all {args.batch} in one", "batched / one",
         "one batch / one", "verifier: batch / verify()"],
        rows,
    )


if __name__ == "__main__":
    main()
