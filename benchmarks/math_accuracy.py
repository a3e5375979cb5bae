"""Math answer-checking accuracy: this project's `math` cascade against Math-Verify, side by side, in one run.

    python benchmarks/math_accuracy.py [--fallback whole|none|last] [--quiet]

Data: `shared/bench/math_cases.jsonl` (labelled equivalence cases from Math-Verify's, lighteval's and the MATH
repo's test suites) and `math_responses.jsonl` (800 model responses with the source grader's label). The bench
folder is found next to the repository (`../shared/bench`) or through `VERIFIERS_BENCH_DIR`.

How each side is called:
- ours: `verifiers.verify_batch` on domain "math" (math.rule -> math.symbolic; no judge). Rows of kind
  "answer" (already-extracted answers) pass the option `answer_only=True`, so the prediction is read as the
  final answer without extraction; kind "response" rows go through extraction with the defaults. A verdict
  counts as "equivalent" only when it is CORRECT (UNDECIDED, the judge's share, counts as not equivalent).
- Math-Verify: `math_verify.parse(gold wrapped in $...$)`, `parse(pred)`, `verify(gold, pred)`, as its README
  shows (the gold is not re-wrapped when it already holds `$` or `\\boxed`).

Prints accuracy, precision, recall (positive = expected equivalent) and counts for both, then the cases we get
wrong, and the agreement of both with the labels of the 800 responses. Last, the near-miss battery
(`tests/data/math_near_misses.jsonl`, written for this project): per category, how many wrong answers each side
accepts (false CORRECT: the figure that must be 0) and how many of the equivalent rewrites it accepts. Math-Verify
is called on `$answer$` against `$gold$`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _common import BENCH_DIR, load_bench, table  # noqa: E402

import verifiers
from verifiers.verdict import Sample, Status


def metrics(expected: list[bool], got: list[bool]) -> dict[str, float]:
    tp = sum(e and g for e, g in zip(expected, got))
    tn = sum((not e) and (not g) for e, g in zip(expected, got))
    fp = sum((not e) and g for e, g in zip(expected, got))
    fn = sum(e and (not g) for e, g in zip(expected, got))
    n = len(expected)
    return {
        "n": n,
        "accuracy": (tp + tn) / n if n else 0.0,
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "tp": tp, "tn": tn, "fp": fp, "fn": fn,
    }


def show(label: str, m: dict[str, float], extra: str = "") -> None:
    print(f"  {label:<12} accuracy {m['accuracy']:.3f}  precision {m['precision']:.3f}  recall {m['recall']:.3f}  "
          f"(n={m['n']}, tp={m['tp']} tn={m['tn']} fp={m['fp']} fn={m['fn']}){extra}")


def math_verify_judge(gold: str, pred: str) -> bool:
    from math_verify import parse, verify

    try:
        wrapped = gold if ("$" in gold or "\\boxed" in gold or "\\(" in gold or "\\[" in gold) else f"${gold}$"
        return bool(verify(parse(wrapped), parse(pred)))
    except Exception:
        return False


def ours(rows: list[dict[str, Any]], pred_key: str, options: dict[str, Any]) -> list[Any]:
    samples = []
    for r in rows:
        metadata = {"answer_only": True} if r.get("kind") == "answer" else {}
        samples.append(Sample(response=r[pred_key], reference=r["gold"], domain="math", metadata=metadata,
                              id=str(r["id"])))
    return verifiers.verify_batch(samples, options=options)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fallback", default=None, choices=["conclusion", "whole", "none", "last"],
                        help="answer fallback for unanchored responses (default: the verifier's default)")
    parser.add_argument("--quiet", action="store_true", help="do not list the wrong cases")
    args = parser.parse_args()
    options = {"fallback": args.fallback} if args.fallback else {}

    cases = load_bench("math_cases.jsonl")
    expected = [bool(r["expected"]) for r in cases]
    start = time.perf_counter()
    verdicts = ours(cases, "pred", options)
    ours_s = time.perf_counter() - start
    got = [v.status is Status.CORRECT for v in verdicts]
    start = time.perf_counter()
    mv = [math_verify_judge(r["gold"], r["pred"]) for r in cases]
    mv_s = time.perf_counter() - start
    statuses = Counter(v.status.value for v in verdicts)
    print(f"math_cases.jsonl ({len(cases)} cases; {BENCH_DIR})")
    m_ours, m_mv = metrics(expected, got), metrics(expected, mv)
    show("verifiers", m_ours, f"  statuses {dict(statuses)}  {ours_s:.1f}s")
    show("math-verify", m_mv, f"  {mv_s:.1f}s")
    print(f"  accuracy difference (ours - math-verify): {m_ours['accuracy'] - m_mv['accuracy']:+.3f}")
    clean = [i for i, r in enumerate(cases) if not r.get("flags")]  # rows the bench flags as policy, conflict, mcq
    show("clean ours", metrics([expected[i] for i in clean], [got[i] for i in clean]), "  (rows without flags)")
    show("clean m-v", metrics([expected[i] for i in clean], [mv[i] for i in clean]))
    if not args.quiet:
        wrong = [(r, v, m) for r, v, g, m in zip(cases, verdicts, got, mv) if g != bool(r["expected"])]
        by_cat = Counter(r["category"] for r, _, _ in wrong)
        print(f"\nwrong cases ({len(wrong)}), by category: {dict(by_cat.most_common())}")
        for r, v, m in wrong:
            print(f"  {r['id']} [{r['category']}] expected={r['expected']} ours={v.status.value} "
                  f"math-verify={m} flags={r.get('flags')}")
            print(f"      gold={r['gold'][:100]!r}")
            print(f"      pred={r['pred'][-140:]!r}")
            print(f"      reason={v.reason[:160]!r}")

    responses = load_bench("math_responses.jsonl")
    labels = [bool(r["label"]) for r in responses]
    start = time.perf_counter()
    rv = ours(responses, "response", options)
    r_s = time.perf_counter() - start
    r_got = [v.status is Status.CORRECT for v in rv]
    start = time.perf_counter()
    r_mv = [math_verify_judge(r["gold"], r["response"]) for r in responses]
    r_mv_s = time.perf_counter() - start
    print(f"\nmath_responses.jsonl ({len(responses)} responses): agreement with the source grader's labels")
    show("verifiers", metrics(labels, r_got), f"  statuses {dict(Counter(v.status.value for v in rv))}  {r_s:.1f}s")
    show("math-verify", metrics(labels, r_mv), f"  {r_mv_s:.1f}s")
    if not args.quiet:
        dis = [(r, v) for r, v, g in zip(responses, rv, r_got) if g != bool(r["label"])]
        print(f"  disagreements: {len(dis)}")
        for r, v in dis[:40]:
            print(f"    {r['id']} label={r['label']} ours={v.status.value} gold={r['gold'][:60]!r} "
                  f"answer={str(v.evidence.get('answer', ''))[:60]!r} reason={v.reason[:100]!r}")
    battery()
    return 0


def battery() -> None:
    """The near-miss battery side by side: false CORRECT on the wrong answers, recall on the rewrites."""
    path = ROOT / "tests" / "data" / "math_near_misses.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    answers = [dict(r, kind="answer") for r in rows]
    wrong = [v.status is Status.CORRECT for v in ours(answers, "wrong", {})]
    right = [v.status is Status.CORRECT for v in ours(answers, "right", {})]
    mv_wrong = [math_verify_judge(r["gold"], f"${r['wrong']}$") for r in rows]
    mv_right = [math_verify_judge(r["gold"], f"${r['right']}$") for r in rows]
    by_cat: dict[str, list[int]] = {}
    for r, w, g, mw, mg in zip(rows, wrong, right, mv_wrong, mv_right):
        counts = by_cat.setdefault(r["category"], [0, 0, 0, 0, 0])
        counts[0] += 1
        counts[1] += w
        counts[2] += mw
        counts[3] += g
        counts[4] += mg
    lines = [[cat, str(c[0]), str(c[1]), str(c[2]), str(c[3]), str(c[4])] for cat, c in sorted(by_cat.items())]
    total = [sum(c[i] for c in by_cat.values()) for i in range(5)]
    lines.append(["all", *map(str, total)])
    table(f"near-miss battery ({len(rows)} pairs, {path.name})",
          ["category", "pairs", "wrong accepted: ours", "math-verify", "rewrites accepted: ours", "math-verify"],
          lines)
    print(f"  false CORRECT: ours {total[1]}, math-verify {total[2]};  rewrites accepted: ours "
          f"{total[3] / total[0]:.1%}, math-verify {total[4] / total[0]:.1%}")
    for r, w in zip(rows, wrong):
        if w:
            print(f"  FALSE CORRECT {r['id']}: {r['wrong']!r} for {r['gold']!r}")


if __name__ == "__main__":
    raise SystemExit(main())
