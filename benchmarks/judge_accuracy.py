"""Judge accuracy on labelled data, and how often master-key responses fool it.

Run from the repository root:
    python benchmarks/judge_accuracy.py --option backend=transformers --option model=/models/my-judge
    python benchmarks/judge_accuracy.py --option backend=openai --option base_url=http://127.0.0.1:8000/v1
    python benchmarks/judge_accuracy.py --demo        # no model at hand: a tiny always-"Yes" judge built here

Data: `--data FILE.jsonl` with `question` (or `prompt`/`problem`), `response`, `reference` (or `gold`/`answer`)
and `label` (true/false, or "correct"/"incorrect"); default `math_responses.jsonl` from the public bench data
(real model responses to MATH problems, labelled by the source's grader).
What runs: the `judge` verifier with the `--option`s given (its guards on, unless `--option guards=false`), or with
`--domain math` the math cascade the judge closes (rules first, the judge for what they leave open).
Printed: accuracy, precision, recall and F1 over the decided verdicts; undecided/error/timeout counts; then the
false-positive rate on master keys — each probe of `verifiers.judge.MASTER_KEY_PROBES` as the response to up to
`--questions` questions of the data (the correct answer is always "no") — with the guards as configured, and with
the guards off for comparison (what the guards prevent with this judge).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from _common import BENCH_DIR, load_bench, table

from verifiers import Sample, Status, Verdict, verify_batch
from verifiers.cli import parse_options
from verifiers.judge import MASTER_KEY_PROBES

TRUE_LABELS = {True, "true", "correct", "yes"}


def load_rows(path: str | None, limit: int | None) -> list[dict[str, Any]]:
    if path is None:
        rows = load_bench("math_responses.jsonl")
    else:
        rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    out = []
    for row in rows:
        question = row.get("question") or row.get("prompt") or row.get("problem")
        reference = next((row[k] for k in ("reference", "gold", "answer") if row.get(k) is not None), None)
        if "response" not in row or reference is None or "label" not in row:
            sys.exit(f"row {row.get('id', len(out))} needs response, reference (or gold/answer) and label")
        label = row["label"].lower() if isinstance(row["label"], str) else row["label"]
        out.append({"question": question, "response": row["response"], "reference": reference,
                    "label": label in TRUE_LABELS})  # fmt: skip
    return out[:limit] if limit else out


def run(samples: list[Sample], domain: str | None, options: dict[str, Any]) -> list[Verdict]:
    if domain:
        return verify_batch(samples, domain=domain, options=options)
    return verify_batch(samples, verifier="judge", options=options)


def scores(labels: list[bool], verdicts: list[Verdict]) -> list[str]:
    decided = [(label, v.status is Status.CORRECT) for label, v in zip(labels, verdicts) if v.status.is_decided]
    tp = sum(label and said for label, said in decided)
    fp = sum(not label and said for label, said in decided)
    fn = sum(label and not said for label, said in decided)
    right = sum(label == said for label, said in decided)
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else float("nan")
    counts = {s: sum(v.status is s for v in verdicts) for s in (Status.UNDECIDED, Status.ERROR, Status.TIMEOUT)}
    return [str(len(verdicts)), str(len(decided)), f"{right / len(decided):.3f}" if decided else "-",
            f"{precision:.3f}", f"{recall:.3f}", f"{f1:.3f}",
            str(counts[Status.UNDECIDED]), str(counts[Status.ERROR] + counts[Status.TIMEOUT])]  # fmt: skip


def demo_model(directory: Path) -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from support.tiny_models import build_model

    return str(build_model(directory / "always-yes", reply="Yes", max_positions=4096))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help=f"labelled JSON lines (default: {BENCH_DIR / 'math_responses.jsonl'})")
    parser.add_argument("--limit", type=int, help="use the first N rows")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="a judge option")
    parser.add_argument("--domain", help="evaluate this domain's cascade (e.g. math) instead of the judge alone")
    parser.add_argument("--questions", type=int, default=25, help="questions the master keys are tried on")
    parser.add_argument("--demo", action="store_true", help="judge with a tiny always-'Yes' model built here")
    args = parser.parse_args()
    options = parse_options(args.option)
    rows = load_rows(args.data, args.limit)
    with tempfile.TemporaryDirectory() as tmp:
        if args.demo:
            options = {"backend": "transformers", "model": demo_model(Path(tmp)), **options}
        samples = [Sample(r["response"], r["reference"], prompt=r["question"]) for r in rows]
        labels = [r["label"] for r in rows]
        verdicts = run(samples, args.domain, options)
        seen: dict[str, Any] = {}
        for r in rows:
            seen.setdefault(r["question"], r["reference"])
        questions = list(seen.items())[: args.questions]
        probes = [Sample(key, ref, prompt=q) for q, ref in questions for key in MASTER_KEY_PROBES]
        guarded = run(probes, args.domain, options)
        unguarded = run(probes, args.domain, {**options, "guards": False, "require_answer": False})
    what = f"the {args.domain!r} cascade" if args.domain else "the judge"
    judge = next((dict(v.evidence).get("judge") for v in verdicts if "judge" in v.evidence), None)
    print(f"{what} with options {json.dumps(options)}; judge: {json.dumps(judge)}")
    if all(v.status is Status.UNDECIDED and v.reason.startswith("no judge configured") for v in verdicts
           if v.verifier == "judge"):  # fmt: skip
        print("note: no judge configured; pass --option backend=... --option model=... (or base_url=...), or --demo")
    table("labelled responses", ["rows", "decided", "accuracy", "precision", "recall", "F1", "undecided",
                                 "error/timeout"], [scores(labels, verdicts)])  # fmt: skip

    def fooled(verdicts: list[Verdict]) -> str:
        wrong = sum(v.status is Status.CORRECT for v in verdicts)
        return f"{wrong}/{len(verdicts)} ({wrong / len(verdicts):.1%})"

    table(f"master keys ({len(MASTER_KEY_PROBES)} probes x {len(questions)} questions): judged CORRECT",
          ["guards", "false positives"],
          [["as configured", fooled(guarded)], ["off", fooled(unguarded)]])  # fmt: skip


if __name__ == "__main__":
    main()
