"""The HTML report of a run's output file: exact figures, escaping of untrusted text, and the page as Chromium renders it.

The output file is made the way users make it: `run_dataset` over a JSON-lines dataset with real verifiers (math
cascade, text, multiple choice, checklist, judge without a configured model), then code and Lean verdicts with
steps written with the same record encoder, a duplicate id, a garbage line and a torn last line.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from support.png import read_png
from support.system import missing

from verifiers import Sample, StepVerdict, Verdict
from verifiers.datasets import open_dataset
from verifiers.errors import DatasetError
from verifiers.jobs import encode_record, run_dataset, summarize_output
from verifiers.report import (
    ALL,
    STATUS_COLOURS,
    build_report,
    reason_prefix,
    render_html,
    write_report,
)
from verifiers.verdict import Status

HOSTILE_ID = "<script>alert(1)</script>"
HOSTILE_STEP = "<img src=x onerror=alert(1)>"
HOSTILE_CODE_ID = '"><img src=x onerror=alert(2)>'
HOSTILE_REASON = "</script><script>alert(3)</script></title><svg onload=alert(4)>"
GENERATED = "2025-01-02T03:04:05+00:00"
SECTIONS = ("summary", "statuses", "scores", "latency", "steps", "failures")


def _steps(*spec: tuple[str, str]) -> tuple[StepVerdict, ...]:
    return tuple(StepVerdict(name, Status(status), 1.0 if status == "correct" else 0.0) for name, status in spec)


def _code_and_lean() -> list[bytes]:
    """Code verdicts (one step per unit test, named as verifiers/code.py names them) and Lean step proofs."""
    ok, bad = "correct", "incorrect"
    code = [
        ("cA", Verdict(Status.CORRECT, 1.0, "code", "3/3 tests pass", _steps(("test 0", ok), ("test 1", ok), ("test 2", ok)), elapsed_s=0.5)),
        ("cB", Verdict(Status.PARTIAL, 0.5, "code", "2/4 tests pass",
                       _steps(("test 0", ok), ("test 1", ok), ("test 2", bad), ("test 3", bad)), elapsed_s=1.0)),
        ("cC", Verdict(Status.INCORRECT, 0.0, "code", "0/2 tests pass", _steps(("test 0", bad), ("test 1", bad)), elapsed_s=2.0)),
        ("cD", Verdict(Status.TIMEOUT, 0.0, "code", "wall time limit of 10 s exceeded",
                       _steps(("test 0", bad), ("test 1", bad)), elapsed_s=10.0)),
        (HOSTILE_CODE_ID, Verdict(Status.ERROR, 0.0, "code", HOSTILE_REASON)),  # not timed: elapsed 0
    ]  # fmt: skip
    lean = [
        ("l1", Verdict(Status.CORRECT, 1.0, "lean", "proved", _steps(("h1", ok), ("h2", ok), ("main", ok)), elapsed_s=3.0)),
        ("l2", Verdict(Status.INCORRECT, 0.0, "lean", "step h2: not proved",
                       _steps(("h1", ok), ("h2", bad), ("main", "undecided")), elapsed_s=4.0)),
        ("l3", Verdict(Status.ERROR, 0.0, "lean", "step h2: lean worker crashed (exit 137)",
                       _steps(("h1", ok), ("h2", "error")), elapsed_s=5.0)),
        ("l4", Verdict(Status.TIMEOUT, 0.0, "lean", "lean timed out after 60 s", elapsed_s=60.0)),
        ("l5", Verdict(Status.UNDECIDED, 0.0, "lean", "formalization failed", _steps(("h1", "undecided")), elapsed_s=1.5)),
        ("l6", Verdict(Status.TIMEOUT, 0.0, "lean", "lean timed out after 90 s", elapsed_s=90.0)),
    ]  # fmt: skip
    return [encode_record(i, "code", v, "code.jsonl:" + str(n)) for n, (i, v) in enumerate(code, 1)] + [
        encode_record(i, "lean", v, "lean.jsonl:" + str(n)) for n, (i, v) in enumerate(lean, 1)
    ]


@pytest.fixture(scope="module")
def out_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("report")
    out = base / "OUT.jsonl"
    rows = [
        {"id": "m1", "response": "The answer is \\boxed{\\frac{1}{2}}", "reference": "0.5", "domain": "math"},
        {"id": "m2", "response": "\\boxed{3}", "reference": "4", "domain": "math"},
        {"id": "m3", "response": "\\boxed{x^2+2x+1}", "reference": "(x+1)^2", "domain": "math"},
        {"id": "m4", "response": "\\boxed{x^2+1}", "reference": "(x+1)^2", "domain": "math"},
        {"id": "t1", "response": "Paris", "reference": "paris", "domain": "text"},
        None,  # an unreadable dataset row: an ERROR record from the "input" verifier
        {"id": "t2", "response": "Lyon", "reference": "paris", "domain": "text"},
        {"id": HOSTILE_ID, "response": "x", "reference": "y", "domain": "klingon"},  # routing ERROR
        {"id": "c1", "response": "B", "reference": "B", "domain": "multiple_choice"},
    ]
    data = base / "data.jsonl"
    data.write_text("".join("{not json\n" if r is None else json.dumps(r) + "\n" for r in rows))
    run_dataset(open_dataset(data), out, summary_path=None)
    items = [{"contains": "foo", "name": "says foo"}, {"min_words": 3, "name": "three words"},
             {"regex": "onerror", "name": HOSTILE_STEP}]  # fmt: skip
    checklist = [Sample("foo bar onerror", items, id="k1"), Sample("foo", items, id="k2"), Sample("nothing", items, id="k3")]
    run_dataset(checklist, out, verifier="checklist", summary_path=None)
    with pytest.MonkeyPatch.context() as env:  # no judge configured: the judge says UNDECIDED
        for name in ("VERIFIERS_JUDGE_MODEL", "VERIFIERS_JUDGE_BASE_URL", "VERIFIERS_JUDGE_SERVER_MODEL"):
            env.delenv(name, raising=False)
        run_dataset([Sample("The final answer is \\boxed{42}", "42", prompt="6*7?", id="j1")], out,
                    verifier="judge", summary_path=None)  # fmt: skip
    with open(out, "ab") as handle:
        handle.write(b"".join(_code_and_lean()))
        handle.write(encode_record("cA", "code", Verdict(Status.ERROR, 0.0, "code", "a later duplicate"), None))
        handle.write(b"this line is not json\n")
        handle.write(b'{"id": "torn", "domain": "math", "verdict": {"status": "corr')  # a kill mid-write
    return out


@pytest.fixture(scope="module")
def page(out_file: Path) -> tuple[Path, object]:
    html_path = out_file.with_name("report.html")
    report = write_report(out_file, html_path, title="Run <b>42</b>", generated_at=GENERATED)
    return html_path, report


# -- the figures --------------------------------------------------------------------------------------------


def test_totals_and_notes(page) -> None:
    _, report = page
    assert report.records == 24
    assert (report.duplicates, report.unreadable_lines, report.torn_last_line) == (1, 2, True)
    assert report.summary["statuses"] == {"correct": 7, "incorrect": 6, "partial": 2, "undecided": 2, "error": 4, "timeout": 3}
    assert report.summary["decided"] == 15
    assert report.summary["mean_score"] == pytest.approx((7 + 1 / 3 + 0.5) / 15, abs=1e-6)


def test_summary_is_the_one_jobs_computes(out_file: Path, page) -> None:
    """Same tally, same first-record-of-an-id rule as `verifiers.jobs.summarize_output`."""
    _, report = page
    expected = summarize_output(out_file)
    expected.pop("out")
    assert report.summary == expected


def test_domain_by_verifier_groups(page) -> None:
    _, report = page
    groups = {(g["domain"], g["verifier"]): g for g in report.summary["groups"]}
    assert set(groups) == {
        ("math", "math.rule"), ("math", "math.symbolic"), ("text", "normalized"), (None, "input"),
        ("klingon", "routing"), ("multiple_choice", "choice"), (None, "checklist"), (None, "judge"),
        ("code", "code"), ("lean", "lean"),
    }  # fmt: skip
    code, lean = groups["code", "code"], groups["lean", "lean"]
    assert code["statuses"] == {"correct": 1, "incorrect": 1, "partial": 1, "undecided": 0, "error": 1, "timeout": 1}
    assert (code["total"], code["decided"], code["mean_score"]) == (5, 3, 0.5)
    assert lean["statuses"] == {"correct": 1, "incorrect": 1, "partial": 0, "undecided": 1, "error": 1, "timeout": 2}
    assert (lean["total"], lean["decided"], lean["mean_score"]) == (6, 2, 0.5)
    assert groups["math", "math.rule"]["statuses"]["correct"] == 1
    assert groups["math", "math.symbolic"]["statuses"]["correct"] == 1
    assert groups[None, "judge"]["statuses"]["undecided"] == 1


def test_score_histograms_hold_decided_verdicts_only(page) -> None:
    _, report = page
    code = report.scores["code"]
    assert code.edges == pytest.approx([i / 10 for i in range(11)])
    assert code.counts == (1, 0, 0, 0, 0, 1, 0, 0, 0, 1)  # 0.0, 0.5, 1.0 (the last bin includes 1)
    assert dict(code.left_out) == {"timeout": 1, "error": 1}
    assert report.scores["checklist"].counts == (1, 0, 0, 1, 0, 0, 0, 0, 0, 1)  # 0, 1/3, 1
    assert report.scores["judge"].counts == (0,) * 10 and dict(report.scores["judge"].left_out) == {"undecided": 1}
    assert dict(report.scores["lean"].left_out) == {"undecided": 1, "error": 1, "timeout": 2}


def test_latency_percentiles_and_log_bins(page) -> None:
    _, report = page
    code, lean = report.latency["code"], report.latency["lean"]
    assert (code.n, code.untimed, code.p50, code.p90, code.p99, code.max, code.exact) == (4, 1, 1.0, 10.0, 10.0, 10.0, True)
    assert (lean.n, lean.untimed, lean.p50, lean.p90, lean.p99, lean.max) == (6, 0, 4.0, 90.0, 90.0, 90.0)
    # two bins per decade: 0.5 in [10^-0.5, 1), 1.0 and 2.0 in [1, 10^0.5), 10.0 in [10, 10^1.5)
    assert code.histogram.edges == pytest.approx([10**-0.5, 1, 10**0.5, 10, 10**1.5])
    assert code.histogram.counts == (1, 2, 0, 1)
    overall = report.latency[ALL]
    shared = overall.batched.verdicts if overall.batched is not None else 0  # batch shares: not in the percentiles
    assert overall.n + overall.untimed + shared == report.records
    assert overall.max == 90.0 and overall.histogram.total == overall.n
    assert report.latency["routing"].n == 0 and report.latency["routing"].p50 is None


def test_step_pass_rates(page) -> None:
    _, report = page
    code = report.steps["code"]
    assert [(r.name, r.n, r.passed) for r in code.rows] == [("test 0", 4, 2), ("test 1", 4, 2), ("test 2", 2, 1), ("test 3", 1, 0)]
    assert (code.samples, code.steps, code.passed, code.all_passed, code.none_passed) == (4, 11, 5, 1, 2)
    assert code.fraction.counts == (2, 0, 0, 0, 0, 1, 0, 0, 0, 1)
    lean = report.steps["lean"]
    assert [(r.name, r.n, r.passed, round(r.pass_rate, 4)) for r in lean.rows] == [
        ("h1", 4, 3, 0.75), ("h2", 3, 1, 0.3333), ("main", 2, 1, 0.5)
    ]  # fmt: skip
    assert lean.fraction.counts == (1, 0, 0, 1, 0, 1, 0, 0, 0, 1)  # 0, 1/3, 1/2, 1
    checklist = report.steps["checklist"]
    assert [(r.name, r.n, r.passed) for r in checklist.rows] == [("says foo", 3, 2), ("three words", 3, 1), (HOSTILE_STEP, 3, 1)]
    assert set(report.steps) == {"checklist", "code", "lean"}


def test_failures_grouped_by_reason_prefix(page) -> None:
    _, report = page
    assert report.failure_total == 7
    top = report.failures[0]
    assert (top.status, top.verifier, top.prefix, top.count) == ("timeout", "lean", "lean timed out after N s", 2)
    assert (top.example_id, top.example_reason) == ("l4", "lean timed out after 60 s")
    groups = {(g.status, g.verifier, g.prefix): g.count for g in report.failures}
    assert groups == {
        ("timeout", "lean", "lean timed out after N s"): 2,
        ("error", "input", "invalid JSON (expecting property name enclosed in double quotes at column N)"): 1,
        ("error", "routing", "unknown domain 'klingon'; registered"): 1,
        ("timeout", "code", "wall time limit of N s exceeded"): 1,
        ("error", "code", reason_prefix(HOSTILE_REASON)): 1,
        ("error", "lean", "step hN"): 1,
    }
    assert report.failure_groups == 6


def _timed(item_id: str, verifier: str, elapsed_s: float, batch_size: object = None) -> dict:
    verdict = {"status": "correct", "score": 1.0, "verifier": verifier, "elapsed_s": elapsed_s}
    if batch_size is not None:
        verdict["batch_size"] = batch_size
    return {"id": item_id, "domain": None, "verdict": verdict}


def _batched_run() -> list[dict]:
    """A judge's batch of 4 that took 1 s and one of 2 that took 2 s (every verdict holds an even share), one
    judge verdict timed alone, and three rule verdicts timed one by one."""
    judge = [_timed(f"a{i}", "judge", 0.25, 4) for i in range(4)] + [_timed(f"b{i}", "judge", 1.0, 2) for i in range(2)]
    return judge + [_timed("alone", "judge", 0.5)] + [_timed(f"e{i}", "exact", i / 1000, 1) for i in (1, 2, 3)]


def test_batch_shares_are_not_latency_percentiles() -> None:
    """A batch share is the same for every verdict of its batch (p50 = p99 = max): summed per batch instead."""
    report = build_report(_batched_run())
    judge, overall = report.latency["judge"], report.latency[ALL]
    assert (judge.n, judge.p50, judge.p99, judge.max) == (1, 0.5, 0.5, 0.5)  # only the verdict timed alone
    batched = judge.batched
    assert batched is not None and batched.verdicts == 6 and batched.max_batch_size == 4
    assert batched.batches == pytest.approx(2) and batched.mean_batch_size == pytest.approx(3)
    assert batched.mean_batch_s == pytest.approx(1.5) and batched.max_batch_s == pytest.approx(2.0)
    assert batched.per_verdict_s == pytest.approx(0.5)  # 3 s over 6 verdicts: throughput
    assert (overall.n, overall.max) == (4, 0.5) and overall.batched is not None and overall.batched.verdicts == 6
    assert overall.n + overall.untimed + overall.batched.verdicts == report.records
    exact = report.latency["exact"]
    assert (exact.n, exact.p50, exact.max, exact.batched) == (3, 0.002, 0.003, None)
    only_batches = build_report(_batched_run()[:6]).latency["judge"]
    assert (only_batches.n, only_batches.p50, only_batches.p99) == (0, None, None)


@pytest.mark.parametrize("batch_size", [None, 1, 0, -2, 2.5, "4", True, float("nan")])
def test_a_verdict_without_a_whole_batch_size_over_1_counts_as_timed_alone(batch_size: object) -> None:
    """The near misses of a batch share: missing, 1 and malformed batch sizes read as timed alone, as in `Verdict`."""
    latency = build_report([_timed("x", "judge", 0.5, batch_size)]).latency["judge"]
    assert (latency.n, latency.p50, latency.batched) == (1, 0.5, None)
    record = _timed("x", "judge", 0.5, batch_size)
    parsed = Verdict.from_dict(record["verdict"])
    assert parsed.batch_size == 1


def test_batch_shares_are_named_on_the_page() -> None:
    page = render_html(build_report(_batched_run(), generated_at=GENERATED))
    dom = _Dom()
    dom.feed(page)
    latency = dom.tables["latency-table"]
    assert latency[0][-1] == "batch share"
    assert _row(latency, "judge") == ["judge", "1", "0", "500 ms", "500 ms", "500 ms", "500 ms", "6"]
    assert _row(latency, "exact")[-1] == "0"
    batches = dom.tables["batch-table"]
    assert batches[0] == ["verifier", "verdicts", "batches", "mean size", "max size", "mean per batch",
                          "max per batch", "per verdict"]  # fmt: skip
    assert _row(batches, "judge") == ["judge", "6", "2", "3.0", "4", "1.5 s", "2 s", "500 ms"]
    assert [row[0] for row in batches[1:]] == [ALL, "judge"]  # a verifier timed one by one has no row
    assert "batch share" in page and "batch-table" not in render_html(build_report(_batched_run()[6:]))


def test_batch_size_goes_from_verdict_to_record_to_report(tmp_path: Path) -> None:
    """A batched verifier that times its own batch: its verdicts' batch_size reaches the output and the report."""
    from verifiers.verifier import Verifier

    class SelfTimedJudge(Verifier):
        name = "self-timed-judge"
        batched = True

        def verify(self, sample: Sample) -> Verdict:
            return self.verify_batch([sample])[0]

        def verify_batch(self, samples):  # type: ignore[no-untyped-def]
            share = 3.0 / len(samples)  # a 3 s model call, split evenly
            return [Verdict.correct(self.name, elapsed_s=share, batch_size=len(samples)) for _ in samples]

    out = tmp_path / "out.jsonl"
    run_dataset([Sample("a", "a", id=str(i)) for i in range(6)], out, verifier=SelfTimedJudge(), chunk_size=3,
                summary_path=None)  # fmt: skip
    assert {json.loads(line)["verdict"]["batch_size"] for line in out.read_text().splitlines()} == {3}
    latency = write_report(out, tmp_path / "report.html").latency["self-timed-judge"]
    assert latency.n == 0 and latency.batched is not None
    assert (latency.batched.batches, latency.batched.mean_batch_s) == (pytest.approx(2), pytest.approx(3.0))


def test_reason_prefix() -> None:
    assert reason_prefix("data.jsonl:17: invalid JSON (line 1)") == "invalid JSON (line N)"
    assert reason_prefix("compile error: SyntaxError: x") == "compile error"
    assert reason_prefix("  \n") == "(no reason)"
    assert reason_prefix("first line\nsecond: line") == "first line"
    assert len(reason_prefix("x" * 1000)) < 100


# -- the page as text ---------------------------------------------------------------------------------------


def test_page_is_self_contained_and_escaped(page) -> None:
    html_path, _ = page
    text = html_path.read_text(encoding="utf-8")
    assert "<script" not in text.lower() and "<img" not in text.lower() and "<svg onload" not in text.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text  # the id is shown, as text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text  # the step name
    assert "<title>Run &lt;b&gt;42&lt;/b&gt;</title>" in text
    for forbidden in ("http:", "https:", "//cdn", "@import", "url(", "<link", "<iframe", "<object", "<image"):
        assert forbidden not in text, forbidden
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    assert f'<p class="meta">Input: <code>{out_name(html_path)}</code> · generated {GENERATED}</p>' in text


def out_name(html_path: Path) -> str:
    return str(html_path.with_name("OUT.jsonl"))


def test_atomic_write_leaves_no_temporary_file(out_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "sub" / "r.html"
    target.parent.mkdir()
    target.write_text("old")
    write_report(out_file, target)
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert os.listdir(target.parent) == ["r.html"]
    assert target.stat().st_mode & 0o444 == 0o444


def test_empty_and_unreadable_files_give_a_page(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    report = write_report(empty, tmp_path / "empty.html")
    assert report.records == 0 and report.unreadable_lines == 0
    text = (tmp_path / "empty.html").read_text(encoding="utf-8")
    assert 'id="no-records"' in text and "There are no records" in text
    torn = tmp_path / "torn.jsonl"
    torn.write_bytes(b'\n\n{"id": "x", "verdict": {"sta')
    report = write_report(torn, tmp_path / "torn.html")
    assert (report.records, report.unreadable_lines, report.torn_last_line) == (0, 1, True)
    assert "1 unreadable line(s)" in (tmp_path / "torn.html").read_text(encoding="utf-8")


def test_missing_output_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        write_report(tmp_path / "nope.jsonl", tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


def test_malformed_records_are_counted_not_fatal() -> None:
    good = {"id": "a", "domain": None, "verdict": {"status": "correct", "score": 1.0, "verifier": "v"}}
    bad = [
        {"id": "b", "verdict": {"status": "correct", "score": "1", "verifier": "v"}},
        {"id": "c", "verdict": {"status": "correct", "score": 1.5, "verifier": "v"}},
        {"id": "d", "verdict": {"status": "correct", "score": 1.0, "verifier": "v", "steps": [{"name": "x"}]}},
        {"id": "e", "verdict": {"status": "maybe", "score": 1.0}},
        {"id": 5, "verdict": {"status": "correct", "score": 1.0}},
        {"id": "f", "domain": 7, "verdict": {"status": "correct", "score": 1.0}},
    ]
    report = build_report([good, *bad, {**good, "id": "b"}])  # an id whose first record was invalid still counts
    assert (report.records, report.invalid_records, report.duplicates) == (2, 6, 0)
    assert "\x00" not in render_html(report)


def test_untrusted_text_cannot_break_the_page() -> None:
    nasty = "\x00\x1b[31m\ud800 <!-- ]]> -->" + HOSTILE_REASON
    record = {"id": nasty, "domain": nasty, "verdict": {"status": "error", "score": 0.0, "verifier": nasty,
              "reason": nasty, "steps": [{"name": nasty, "status": "error"}], "elapsed_s": float("nan")}}  # fmt: skip
    text = render_html(build_report([record]), title=nasty)
    text.encode("utf-8")  # lone surrogates replaced
    assert "<script" not in text and "<svg onload" not in text and "<!--" not in text and "\x00" not in text


def test_caps_keep_memory_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unbounded step names and failure reasons are counted, not all named; latencies past the exact cap use
    the fine log histogram."""
    import verifiers.report as module

    monkeypatch.setattr(module, "STEP_NAMES_TRACKED", 70)
    monkeypatch.setattr(module, "FAILURE_GROUPS_TRACKED", 30)
    monkeypatch.setattr(module, "EXACT_LATENCIES", 100)

    def records() -> Iterator[dict]:
        for i in range(1000):
            steps = [{"name": f"t{i}", "status": "correct"}, {"name": "shared", "status": "incorrect"}]
            yield {"id": f"s{i}", "verdict": {"status": "partial", "score": 0.5, "verifier": "code", "steps": steps,
                   "elapsed_s": (i + 1) / 1000}}  # fmt: skip
            yield {"id": f"e{i}", "verdict": {"status": "error", "score": 0.0, "verifier": "x",
                   "reason": f"kind {chr(97 + i % 26)}{chr(97 + i // 26 % 26)}: detail {i}"}}  # fmt: skip

    builder = module.ReportBuilder()
    for record in records():
        builder.add(record)
    assert len(builder._steps["code"].names) == 70
    assert len(builder._failures) == 30
    report = builder.finish()
    steps = report.steps["code"]
    assert steps.rows[0] == module.StepRow("shared", 1000, 0)
    assert len(steps.rows) == 50 and steps.more_names == 20 and steps.untracked_steps == 1000 - 69
    assert report.failure_total == 1000 and report.failure_groups == 31  # 30 named, then "(other reasons)"
    other = [g for g in report.failures if g.prefix == "(other reasons)"]
    # the first 30 reasons are named (and seen again from i = 676 on, when the two letters repeat): the rest is "other"
    assert other[0].count == 1000 - sum(count for count, *_ in builder._failures.values()) == 1000 - 60
    latency = report.latency["code"]
    assert not latency.exact and latency.max == 1.0
    for p, exact in ((latency.p50, 0.5), (latency.p90, 0.9), (latency.p99, 0.99)):
        assert exact <= p <= exact * 10 ** (1 / module.FINE_PER_DECADE) + 1e-12
    assert "≈ " in render_html(report)


def test_large_files_stream_in_one_pass(tmp_path: Path) -> None:
    """100,000 records: one pass over the file, and state that does not grow with the records beyond id digests."""
    out = tmp_path / "big.jsonl"
    statuses = ("correct", "incorrect", "partial", "undecided", "error", "timeout")
    with open(out, "w") as handle:
        for i in range(100_000):
            status = statuses[i % 6]
            score = {"correct": 1.0, "partial": 0.5}.get(status, 0.0)
            handle.write(json.dumps({"id": f"r{i}", "domain": "math", "verdict": {
                "status": status, "score": score, "verifier": f"v{i % 3}", "reason": f"r {i}",
                "steps": [{"name": f"test {i % 7}", "status": "correct"}], "elapsed_s": 0.001 * (1 + i % 1000)}}) + "\n")  # fmt: skip
    report = write_report(out, tmp_path / "big.html")
    assert report.records == 100_000
    assert report.summary["statuses"] == {s: 100_000 // 6 + (1 if statuses.index(s) < 100_000 % 6 else 0) for s in statuses}
    assert sum(t.steps for t in report.steps.values()) == 100_000
    assert report.failure_total == report.summary["statuses"]["error"] + report.summary["statuses"]["timeout"]
    assert [(g.status, g.verifier, g.prefix) for g in report.failures] == [("error", "v1", "r N"), ("timeout", "v2", "r N")]
    assert (tmp_path / "big.html").stat().st_size < 200_000


# -- the page in a browser ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    missing("chromium", "no Chromium: install it with `apt-get install -y chromium` to check the report in a browser")


def _chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    command = [
        binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
        "--force-device-scale-factor=1", "--force-color-profile=srgb", f"--user-data-dir={profile}", *args,
    ]  # fmt: skip
    result = subprocess.run(command, check=False, capture_output=True, timeout=90)
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
    return result


class _Dom(HTMLParser):
    """The parts of a DOM the checks need: element counts, attributes, section ids, svg titles, table cells."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: Counter[str] = Counter()
        self.attributes: list[tuple[str, str, str | None]] = []
        self.sections: list[str] = []
        self.plots = 0
        self.titled_plots = 0
        self.tables: dict[str, list[list[str]]] = {}
        self._stack: list[str] = []
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._svg_depth: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        values = dict(attrs)
        self.attributes += [(tag, k, v) for k, v in attrs]
        if tag == "section":
            self.sections.append(values.get("id") or "")
        elif tag == "svg" and values.get("role") == "img":
            self.plots += 1
            self._svg_depth = len(self._stack)
        elif tag == "title" and self._svg_depth is not None and len(self._stack) == self._svg_depth + 1:
            self.titled_plots += 1
        elif tag == "table":
            self._table = values.get("id") or f"table-{self.tags['table']}"
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        self._stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            if self._stack.pop() == tag:
                break
        if tag == "svg" and self._svg_depth == len(self._stack):
            self._svg_depth = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _row(table: list[list[str]], *first: str) -> list[str]:
    matches = [row for row in table if row[: len(first)] == list(first)]
    assert len(matches) == 1, (first, table)
    return matches[0]


def test_rendered_dom(page, chromium: str, tmp_path: Path) -> None:
    html_path, report = page
    dom_text = _chromium(chromium, tmp_path / "profile", "--dump-dom", html_path.as_uri()).stdout.decode("utf-8")
    dom = _Dom()
    dom.feed(dom_text)
    assert dom.sections == list(SECTIONS)
    for tag in ("script", "img", "iframe", "object", "embed", "link", "base", "form"):
        assert dom.tags[tag] == 0, f"a <{tag}> element reached the DOM"
    assert not [a for a in dom.attributes if a[1].startswith("on")], "an event handler attribute reached the DOM"
    assert all(v and v.startswith("#") for tag, k, v in dom.attributes if k in ("href", "src", "xlink:href"))
    # plots: statuses, a score histogram per verifier with decided verdicts, latency (overall and per timed
    # verifier), a step-fraction histogram per verifier with steps; each one an <svg role="img"> with a <title>
    scored = sum(1 for h in report.scores.values() if h.total)
    timed = sum(1 for name, lat in report.latency.items() if lat.n and name != ALL)
    assert dom.plots == 1 + scored + 1 + timed + len(report.steps) == 1 + 7 + 1 + 7 + 3  # checklist: batch shares
    assert dom.titled_plots == dom.plots

    summary = dom.tables["summary-table"]
    assert summary[0] == ["domain", "verifier", "n", "correct", "incorrect", "partial", "undecided", "error", "timeout", "mean score"]
    assert _row(summary, "code", "code") == ["code", "code", "5", "1", "1", "1", "0", "1", "1", "0.500"]
    assert _row(summary, "lean", "lean") == ["lean", "lean", "6", "1", "1", "0", "1", "1", "2", "0.500"]
    assert _row(summary, "klingon", "routing")[2] == "1"
    assert _row(summary, "all") == ["all", "", "24", "7", "6", "2", "2", "4", "3", "0.522"]
    latency = dom.tables["latency-table"]
    assert _row(latency, "code") == ["code", "4", "1", "1 s", "10 s", "10 s", "10 s", "0"]
    assert _row(latency, "lean") == ["lean", "6", "0", "4 s", "90 s", "90 s", "90 s", "0"]
    steps = {tuple(r[0] for r in t[1:]): t for k, t in dom.tables.items() if k.startswith("steps-table")}
    code_steps = steps["test 0", "test 1", "test 2", "test 3"]
    assert [r[:4] for r in code_steps[1:]] == [["test 0", "4", "2", "50.0%"], ["test 1", "4", "2", "50.0%"],
                                               ["test 2", "2", "1", "50.0%"], ["test 3", "1", "0", "0.0%"]]  # fmt: skip
    assert ("says foo", "three words", HOSTILE_STEP) in steps  # shown as text, not as an element
    failures = dom.tables["failures-table"]
    assert failures[1][:4] == ["2", "timeout", "lean", "lean timed out after N s"]
    assert _row(failures, "1", "error", "routing")[4].startswith(HOSTILE_ID + ":")
    assert _row(failures, "1", "error", "code")[4] == f"{HOSTILE_CODE_ID}: {HOSTILE_REASON}"


def test_screenshot_shows_the_status_colours(page, chromium: str, tmp_path: Path) -> None:
    html_path, _ = page
    shot = tmp_path / "shot.png"
    _chromium(chromium, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,4000", html_path.as_uri())
    image = read_png(shot)
    assert (image.width, image.height) == (1280, 4000)
    wanted = {tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)): status for status, c in STATUS_COLOURS.items()}
    found: set[str] = set()
    colours: Counter[tuple[int, int, int]] = Counter()
    for y, row in enumerate(image.rows()):  # the legend and the bars are near the top: stop once all are seen
        colours.update(row)
        found.update(wanted[px] for px in set(row) & wanted.keys())
        if len(found) == len(wanted) and y > 600:
            break
    assert found == set(STATUS_COLOURS), f"status colours missing from the screenshot: {set(STATUS_COLOURS) - found}"
    pixels = sum(colours.values())
    assert colours[(255, 255, 255)] < 0.97 * pixels, "the page is (almost) blank"
    assert len(colours) > 50  # text, tables and plots, not a flat fill
    assert math.isclose(pixels, image.width * (y + 1))


def test_a_judge_batch_records_batch_shares_and_plain_verifiers_their_own_time(tmp_path: Path) -> None:
    """The runner marks a batched verifier's even split of its batch time; a plain verifier is timed per sample."""
    import time

    from verifiers.verifier import BatchedVerifier

    class SleepyJudge(BatchedVerifier):
        name = "sleepy-judge"

        def verify_batch(self, samples):  # type: ignore[no-untyped-def]
            time.sleep(0.02)
            return [Verdict.correct(self.name) for _ in samples]

    out = tmp_path / "out.jsonl"
    run_dataset([Sample("a", "a", id=str(i)) for i in range(8)], out, verifier=SleepyJudge(), chunk_size=4,
                summary_path=None)  # fmt: skip
    run_dataset([Sample("a", "a", id=f"e{i}") for i in range(8)], out, verifier="exact", chunk_size=4,
                summary_path=None)  # fmt: skip
    latency = write_report(out, tmp_path / "r.html").latency
    judge = latency["sleepy-judge"].batched
    assert latency["sleepy-judge"].n == 0 and judge is not None
    assert judge.batches == pytest.approx(2) and judge.max_batch_size == 4 and judge.mean_batch_s >= 0.02
    assert latency["exact"].n == 8 and latency["exact"].batched is None  # timed one by one, not as a share
