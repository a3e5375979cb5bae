"""Rewards that depend on a GRPO group, computed over an explicit group so they are deterministic.

VeRPO-style weighting (the `code` verifier's `reward_mode="weighted"` with `group_weights`) weighs a test by how
few samples of the group pass it, so a sample's score depends on the other samples. Verifying and caching stay
per sample: the verifier gives each verdict the score of the sample alone (test weights from the reference
only) and records in `evidence[GROUP_EVIDENCE]` what a re-weighting needs. `regroup` then re-weights the verdicts
of each group, as a pure function of the group's verdicts. So a group's rewards do not depend on how a scorer
merged concurrent calls into batches, on which verdicts came from the cache, or on the order of the samples.

The rule, documented for users in the adapters:
- a group is the samples **of one call** (`verify_batch`, one TRL reward call, one verl `compute_score_batch`,
  one OpenRLHF request) with the same verifier, test suite, prompt and explicit group id
  (`metadata["group"]`, else `metadata["uid"]`; none given: the same prompt and reference make the group);
- a group of one — a sample that arrives alone, as verl's per-sample managers send them — is scored alone,
  with difficulty 1 for every test; members of one group sent in different calls are different groups.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

from .verdict import Sample, Status, Verdict

__all__ = ["GROUP_EVIDENCE", "GROUP_KEYS", "difficulty_weights", "regroup", "weighted_score"]

GROUP_EVIDENCE = "group_weighting"
"""Evidence key: {"suite", "alpha", "base", "scores", "passed"} of a verdict that a group may re-weight."""
GROUP_KEYS = ("group", "uid")
"""Metadata keys that name a sample's group explicitly, first present wins."""


def weighted_score(alpha: float, weights: Sequence[float], scores: Sequence[float], all_passed: bool) -> float:
    """alpha * all_passed + (1 - alpha) * the weighted mean of the test scores (all_passed when no test weighs)."""
    total = math.fsum(weights)
    partial = math.fsum(w * s for w, s in zip(weights, scores)) / total if total > 0 else float(all_passed)
    return min(1.0, max(0.0, alpha * float(all_passed) + (1.0 - alpha) * partial))


def difficulty_weights(base: Sequence[float], passes: Sequence[Sequence[bool]]) -> list[float]:
    """`base` times each test's Laplace-smoothed failure rate in the group: 1 - (k + 1) / (n + 2), k of n passing."""
    n = len(passes)
    return [b * (1.0 - (sum(1 for p in passes if p[i]) + 1) / (n + 2)) for i, b in enumerate(base)]


def _group_key(sample: Sample, verdict: Verdict, info: Mapping[str, Any]) -> tuple[Any, ...]:
    explicit = next((sample.metadata[k] for k in GROUP_KEYS if sample.metadata.get(k) is not None), None)
    return (verdict.verifier, info.get("suite"), sample.prompt, None if explicit is None else str(explicit))


def regroup(samples: Sequence[Sample], verdicts: Sequence[Verdict]) -> list[Verdict]:
    """`verdicts` (one per sample, in order) with the group-dependent ones re-weighted over their group."""
    if len(samples) != len(verdicts):
        raise ValueError(f"{len(verdicts)} verdicts for {len(samples)} samples")
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, (sample, verdict) in enumerate(zip(samples, verdicts)):
        info = verdict.evidence.get(GROUP_EVIDENCE)
        if isinstance(info, Mapping) and not verdict.status.is_failure:
            groups.setdefault(_group_key(sample, verdict, info), []).append(i)
    out = list(verdicts)
    for members in groups.values():
        if len(members) < 2:
            continue
        passes = [verdicts[i].evidence[GROUP_EVIDENCE]["passed"] for i in members]
        if len({len(p) for p in passes}) != 1:  # not one test suite after all: leave them alone
            continue
        for i in members:
            out[i] = _reweighted(verdicts[i], passes)
    return out


def _reweighted(verdict: Verdict, passes: list[Sequence[bool]]) -> Verdict:
    info = verdict.evidence[GROUP_EVIDENCE]
    weights = difficulty_weights(info["base"], passes)
    passed = list(info["passed"])
    score = weighted_score(float(info["alpha"]), weights, info["scores"], all(passed))
    status = Status.CORRECT if all(passed) else (Status.INCORRECT if score == 0.0 else Status.PARTIAL)
    steps = verdict.steps
    if len(steps) == len(weights):
        steps = tuple(dataclasses.replace(step, weight=w) for step, w in zip(steps, weights))
    evidence = {**verdict.evidence, "weights": [round(w, 6) for w in weights], "group_size": len(passes)}
    return dataclasses.replace(verdict, status=status, score=score, steps=steps, evidence=evidence)
