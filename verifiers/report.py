"""An HTML report of a dataset run's output file (`verifiers run DATA -o OUT.jsonl`).

`build_report` reads the records once, streaming, into a `Report` (plain figures: counts, histograms,
percentiles, step pass rates, failure reasons); `render_html` turns that into ONE self-contained page: inline
CSS, plots as inline SVG, no script, nothing fetched from anywhere. Every piece of text from the records (ids,
reasons, step and verifier names) is untrusted model output and is escaped; a Content-Security-Policy that
forbids scripts and remote loads backs that up. `write_report` does both for a file and writes the page
atomically.

Memory is bounded per distinct key (verifier, domain, step name, failure reason), not per record: the only
per-record state is a 16-byte digest of each id, so that the first record of an id wins, as in `scan_output`.
"""

from __future__ import annotations

import hashlib
import html
import math
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .errors import DatasetError
from .jobs import Tally, parse_record, write_atomic
from .text import clip
from .verdict import Status

__all__ = [
    "ALL",
    "STATUS_COLOURS",
    "BatchTiming",
    "FailureGroup",
    "Histogram",
    "Latency",
    "Report",
    "ReportBuilder",
    "StepRow",
    "StepTable",
    "build_report",
    "reason_prefix",
    "render_html",
    "write_report",
]

STATUSES = tuple(s.value for s in Status)
STATUS_COLOURS: Mapping[str, str] = MappingProxyType(
    {
        "correct": "#2e9e44",
        "incorrect": "#d43d3d",
        "partial": "#e8a317",
        "undecided": "#8a8f98",
        "error": "#7b3fbf",
        "timeout": "#1f6fd1",
    }
)
ALL = "(all)"  # the key of the figures over every verifier
NO_DOMAIN = "(none)"

SCORE_BINS = 10
STEP_NAMES_SHOWN = 50  # rows per step table; test names are unbounded, so the rest is only counted
STEP_NAMES_TRACKED = 2000  # per verifier; steps under names first seen after this are counted, not named
FAILURE_GROUPS_SHOWN = 20
FAILURE_GROUPS_TRACKED = 5000
EXACT_LATENCIES = 20_000  # per verifier: exact percentiles up to this many timed verdicts, then the fine histogram's
FINE_PER_DECADE = 60  # fine log bins for percentiles past EXACT_LATENCIES: at most 3.9% off
PLOT_PER_DECADE = 2  # the plotted latency histogram: two bins per decade
NAME_CHARS = 120  # names and ids are clipped to this for display and as keys


# -- the figures -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Histogram:
    """Counts in bins [edges[i], edges[i+1]) (the last bin includes its right edge for [0, 1] figures)."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]
    left_out: Mapping[str, int] = field(default_factory=dict)  # why -> how many values are not in the bins

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class BatchTiming:
    """Verdicts whose `elapsed_s` is an even share of a batch's time (`batch_size` > 1, e.g. a model judge's batch).

    A share says nothing about one sample (every verdict of a batch has the same), so these verdicts are summed
    per batch instead of going into percentiles. A batch of k verdicts adds 1/k per verdict to `batches`, so the
    figures are exact when every record of each batch is in the file.
    """

    verdicts: int
    batches: float  # the number of batches: the sum of 1/batch_size over the verdicts
    total_s: float  # the time spent in those batches: the sum of the shares
    max_batch_s: float  # the longest batch: max of share x batch_size
    max_batch_size: int

    @property
    def mean_batch_size(self) -> float:
        return self.verdicts / self.batches

    @property
    def mean_batch_s(self) -> float:
        return self.total_s / self.batches

    @property
    def per_verdict_s(self) -> float:
        """The time per verdict in batches: throughput, not the latency of any one sample."""
        return self.total_s / self.verdicts


@dataclass(frozen=True)
class Latency:
    """`elapsed_s` of the verdicts timed on their own (elapsed 0 means not timed: cached, or rejected before any
    work). Verdicts timed as a share of a batch are in `batched`, not in the percentiles."""

    n: int  # timed on their own: the verdicts the percentiles are over
    untimed: int
    p50: float | None
    p90: float | None
    p99: float | None
    max: float | None
    exact: bool  # False: percentiles are the upper edges of fine log bins (within 3.9%); max is always exact
    histogram: Histogram
    batched: BatchTiming | None = None  # verdicts whose elapsed_s is a batch share; None when there are none


@dataclass(frozen=True)
class StepRow:
    name: str
    n: int
    passed: int  # steps with status CORRECT

    @property
    def pass_rate(self) -> float:
        return self.passed / self.n if self.n else 0.0


@dataclass(frozen=True)
class StepTable:
    """The steps (unit tests, proof steps, checklist items) of one verifier's verdicts."""

    verifier: str
    samples: int  # verdicts with at least one step
    steps: int
    passed: int
    rows: tuple[StepRow, ...]  # the most frequent names, at most STEP_NAMES_SHOWN
    more_names: int  # further distinct names tracked but not shown
    untracked_steps: int  # steps under names first seen after STEP_NAMES_TRACKED names
    fraction: Histogram  # per sample: the fraction of its steps that passed
    all_passed: int
    none_passed: int


@dataclass(frozen=True)
class FailureGroup:
    """ERROR/TIMEOUT verdicts of one verifier whose reasons share a prefix (`reason_prefix`)."""

    status: str
    verifier: str
    prefix: str
    count: int
    example_id: str
    example_reason: str


@dataclass(frozen=True)
class Report:
    """What the page shows, as numbers. `summary` is `Tally.to_dict()` (the shape of `summarize_output`)."""

    source: str | None
    generated_at: str
    records: int  # counted: the first readable record of each id
    duplicates: int  # later records of an id already counted
    invalid_records: int  # JSON records with a verdict that cannot be read (bad score, steps, ...)
    unreadable_lines: int
    torn_last_line: bool  # the last line is unreadable and unterminated: a run still writing, or killed
    summary: Mapping[str, Any]
    scores: Mapping[str, Histogram]  # per verifier: decided verdicts' scores, 10 bins over [0, 1]
    latency: Mapping[str, Latency]  # per verifier, and ALL
    steps: Mapping[str, StepTable]  # per verifier whose verdicts have steps
    failures: tuple[FailureGroup, ...]  # the most frequent, at most FAILURE_GROUPS_SHOWN
    failure_total: int
    failure_groups: int  # distinct groups (those past FAILURE_GROUPS_TRACKED fall into one "other reasons")


# -- accumulating ------------------------------------------------------------------------------------------


def _bin01(value: float, bins: int = SCORE_BINS) -> int:
    """The bin of a value in [0, 1]; 1.0 falls in the last. The epsilon keeps 0.7 (6.9999...) out of bin 6."""
    return min(int(value * bins + 1e-9), bins - 1)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _fine_bin(seconds: float) -> int:
    return math.floor(math.log10(seconds) * FINE_PER_DECADE)


_LOCATION = re.compile(r"^\S+:\d+: ")  # "data.jsonl:17: " in front of the reasons of unreadable input rows


def reason_prefix(reason: str) -> str:
    """What failure reasons are grouped by: the first line (less a leading `file:line: `) up to its first ': ',
    numbers replaced by N."""
    line = _LOCATION.sub("", reason.strip().split("\n", 1)[0].strip())
    if not line:
        return "(no reason)"
    head, sep, _ = line.partition(": ")
    if sep and len(head) <= 80:
        line = head
    return clip(re.sub(r"\d+(?:\.\d+)?", "N", line), 80)


def _batch_size(value: Any) -> int:
    """A record's `batch_size` as `Verdict` reads it: a whole number >= 1, anything else (or none) is 1."""
    number = _number(value)
    return int(number) if number is not None and number >= 1 and number == int(number) else 1


class _LatencyAcc:
    def __init__(self) -> None:
        self.values: list[float] | None = []
        self.fine: Counter[int] = Counter()
        self.n = 0
        self.untimed = 0
        self.max = 0.0
        self.shared = 0  # verdicts timed as a share of a batch
        self.batches = self.shared_s = self.max_batch_s = 0.0
        self.max_batch_size = 0

    def add(self, seconds: float | None, batch_size: int = 1) -> None:
        if seconds is None or seconds <= 0:
            self.untimed += 1
            return
        if batch_size > 1:
            self.shared += 1
            self.batches += 1 / batch_size
            self.shared_s += seconds
            self.max_batch_s = max(self.max_batch_s, seconds * batch_size)
            self.max_batch_size = max(self.max_batch_size, batch_size)
            return
        self.n += 1
        self.max = max(self.max, seconds)
        self.fine[_fine_bin(seconds)] += 1
        if self.values is not None:
            self.values.append(seconds)
            if len(self.values) > EXACT_LATENCIES:
                self.values = None

    def _percentile(self, p: float) -> float | None:
        """Nearest rank: the smallest value with at least p% of the values at or below it."""
        if not self.n:
            return None
        rank = max(1, math.ceil(p / 100 * self.n))
        if self.values is not None:
            return sorted(self.values)[rank - 1]
        seen = 0
        for k in sorted(self.fine):
            seen += self.fine[k]
            if seen >= rank:
                return min(10 ** ((k + 1) / FINE_PER_DECADE), self.max)
        return self.max

    def finish(self) -> Latency:
        plot: Counter[int] = Counter()
        for k, count in self.fine.items():
            plot[k // (FINE_PER_DECADE // PLOT_PER_DECADE)] += count
        if plot:
            lo, hi = min(plot), max(plot)
            edges = tuple(10 ** (d / PLOT_PER_DECADE) for d in range(lo, hi + 2))
            counts = tuple(plot.get(d, 0) for d in range(lo, hi + 1))
        else:
            edges, counts = (), ()
        left_out = {"untimed": self.untimed} if self.untimed else {}
        return Latency(
            n=self.n,
            untimed=self.untimed,
            p50=self._percentile(50),
            p90=self._percentile(90),
            p99=self._percentile(99),
            max=self.max if self.n else None,
            exact=self.values is not None,
            histogram=Histogram(edges, counts, left_out),
            batched=BatchTiming(self.shared, self.batches, self.shared_s, self.max_batch_s, self.max_batch_size)
            if self.shared
            else None,
        )


class _StepAcc:
    def __init__(self) -> None:
        self.names: dict[str, list[int]] = {}  # name -> [n, passed], in first-seen order
        self.untracked = [0, 0]
        self.samples = self.steps = self.passed = self.all_passed = self.none_passed = 0
        self.fraction = [0] * SCORE_BINS

    def add(self, steps: list[tuple[str, bool]]) -> None:
        self.samples += 1
        passed = 0
        for name, ok in steps:
            row = self.names.get(name)
            if row is None:
                if len(self.names) < STEP_NAMES_TRACKED:
                    row = self.names[name] = [0, 0]
                else:
                    row = self.untracked
            row[0] += 1
            row[1] += ok
            passed += ok
        self.steps += len(steps)
        self.passed += passed
        self.all_passed += passed == len(steps)
        self.none_passed += passed == 0
        self.fraction[_bin01(passed / len(steps))] += 1

    def finish(self, verifier: str) -> StepTable:
        named = list(self.names.items())
        order = {name: i for i, (name, _) in enumerate(named)}
        ranked = sorted(named, key=lambda item: (-item[1][0], order[item[0]]))
        return StepTable(
            verifier=verifier,
            samples=self.samples,
            steps=self.steps,
            passed=self.passed,
            rows=tuple(StepRow(name, n, p) for name, (n, p) in ranked[:STEP_NAMES_SHOWN]),
            more_names=max(0, len(named) - STEP_NAMES_SHOWN),
            untracked_steps=self.untracked[0],
            fraction=Histogram(_score_edges(), tuple(self.fraction)),
            all_passed=self.all_passed,
            none_passed=self.none_passed,
        )


def _score_edges() -> tuple[float, ...]:
    return tuple(i / SCORE_BINS for i in range(SCORE_BINS + 1))


class ReportBuilder:
    """Accumulates records one at a time (first record of an id wins); `finish()` gives the `Report`."""

    def __init__(self) -> None:
        self.tally = Tally()
        self._ids: set[bytes] = set()
        self.duplicates = self.invalid_records = self.unreadable_lines = 0
        self.torn_last_line = False
        self._scores: dict[str, list[int]] = {}
        self._left_out: dict[str, Counter[str]] = {}
        self._latency: dict[str, _LatencyAcc] = {ALL: _LatencyAcc()}
        self._steps: dict[str, _StepAcc] = {}
        self._failures: dict[tuple[str, str, str], list[Any]] = {}  # key -> [count, example id, example reason]
        self._other_failures: list[Any] = [0, "", ""]
        self.failure_total = 0

    def add_unreadable(self, *, last: bool = False) -> None:
        """Count a line that is not a record; `last`: it is an unterminated last line (a torn write)."""
        self.unreadable_lines += 1
        self.torn_last_line = self.torn_last_line or last

    def add(self, record: Mapping[str, Any]) -> None:
        """Count one record `{"id", "domain", "verdict": {...}}`; a malformed one is counted as invalid."""
        verdict = record.get("verdict")
        item_id = record.get("id")
        domain = record.get("domain")
        if not isinstance(verdict, Mapping) or not isinstance(item_id, str):
            self.invalid_records += 1
            return
        if domain is not None and not isinstance(domain, str):
            self.invalid_records += 1
            return
        try:
            status = Status(verdict.get("status"))
        except ValueError:
            self.invalid_records += 1
            return
        score = _number(verdict.get("score", 0.0))
        raw_steps = verdict.get("steps") or []
        if score is None or not 0.0 <= score <= 1.0 or not isinstance(raw_steps, list):
            self.invalid_records += 1
            return
        steps: list[tuple[str, bool]] = []
        for step in raw_steps:
            if not isinstance(step, Mapping) or step.get("status") not in STATUSES:
                self.invalid_records += 1
                return
            steps.append((clip(str(step.get("name", "?")), NAME_CHARS), step["status"] == "correct"))
        digest = hashlib.blake2b(item_id.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        if digest in self._ids:
            self.duplicates += 1
            return
        self._ids.add(digest)

        verifier = clip(str(verdict.get("verifier", "?")), NAME_CHARS)
        if domain is not None:
            domain = clip(domain, NAME_CHARS)
        self.tally.add_record(
            {"domain": domain, "verdict": {"verifier": verifier, "status": status.value, "score": score}}
        )
        if status.is_decided:
            self._scores.setdefault(verifier, [0] * SCORE_BINS)[_bin01(score)] += 1
        else:
            self._scores.setdefault(verifier, [0] * SCORE_BINS)
            self._left_out.setdefault(verifier, Counter())[status.value] += 1
        elapsed = _number(verdict.get("elapsed_s"))
        batch_size = _batch_size(verdict.get("batch_size"))
        self._latency[ALL].add(elapsed, batch_size)
        self._latency.setdefault(verifier, _LatencyAcc()).add(elapsed, batch_size)
        if steps:
            self._steps.setdefault(verifier, _StepAcc()).add(steps)
        if status.is_failure:
            self._add_failure(status.value, verifier, str(verdict.get("reason", "")), item_id)

    def _add_failure(self, status: str, verifier: str, reason: str, item_id: str) -> None:
        self.failure_total += 1
        key = (status, verifier, reason_prefix(reason))
        group = self._failures.get(key)
        if group is None:
            if len(self._failures) >= FAILURE_GROUPS_TRACKED:
                group = self._other_failures
            else:
                group = self._failures[key] = [0, "", ""]
        if not group[0]:
            group[1], group[2] = clip(item_id, NAME_CHARS), clip(reason, 300)
        group[0] += 1

    def finish(self, *, source: str | None = None, generated_at: str | None = None) -> Report:
        groups = [FailureGroup(s, v, p, g[0], g[1], g[2]) for (s, v, p), g in self._failures.items()]
        if self._other_failures[0]:
            other = self._other_failures
            groups.append(FailureGroup("", "", "(other reasons)", other[0], other[1], other[2]))
        groups.sort(key=lambda g: -g.count)  # stable: ties stay in first-seen order
        latency = {name: acc.finish() for name, acc in sorted(self._latency.items()) if name != ALL}
        return Report(
            source=source,
            generated_at=generated_at or datetime.now(timezone.utc).isoformat(timespec="seconds"),
            records=self.tally.total,
            duplicates=self.duplicates,
            invalid_records=self.invalid_records,
            unreadable_lines=self.unreadable_lines,
            torn_last_line=self.torn_last_line,
            summary=self.tally.to_dict(),
            scores={
                name: Histogram(_score_edges(), tuple(bins), dict(self._left_out.get(name, {})))
                for name, bins in sorted(self._scores.items())
            },
            latency={ALL: self._latency[ALL].finish(), **latency},
            steps={name: acc.finish(name) for name, acc in sorted(self._steps.items())},
            failures=tuple(groups[:FAILURE_GROUPS_SHOWN]),
            failure_total=self.failure_total,
            failure_groups=len(groups),
        )


def build_report(
    records: Iterable[Mapping[str, Any]], *, source: str | None = None, generated_at: str | None = None
) -> Report:
    """The figures of an iterable of output records (e.g. `read_output(path)`), in one streaming pass."""
    builder = ReportBuilder()
    for record in records:
        builder.add(record)
    return builder.finish(source=source, generated_at=generated_at)


def read_report(out_jsonl: str | Path, *, generated_at: str | None = None) -> Report:
    """The figures of an output file, counting the lines that are not records (`read_output` skips them)."""
    path = Path(out_jsonl)
    if not path.is_file():
        raise DatasetError(
            f"{str(path)!r} does not exist or is not a file; make it with `verifiers run DATA -o {path}`"
        )
    builder = ReportBuilder()
    with open(path, "rb") as handle:
        for line in handle:
            if not line.strip():
                continue
            record = parse_record(line)
            if record is None:
                builder.add_unreadable(last=not line.endswith(b"\n"))
            else:
                builder.add(record)
    return builder.finish(source=str(path), generated_at=generated_at)


def write_report(
    out_jsonl: str | Path, html_path: str | Path, *, title: str | None = None, generated_at: str | None = None
) -> Report:
    """Read `out_jsonl`, write its HTML report to `html_path` atomically (a temporary file, then a rename)."""
    report = read_report(out_jsonl, generated_at=generated_at)
    page = render_html(report, title=title or f"Verification report: {Path(out_jsonl).name}")
    write_atomic(Path(html_path), page.encode("utf-8"))
    return report


# -- the page ----------------------------------------------------------------------------------------------

_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")  # control characters and lone surrogates


def _e(value: Any) -> str:
    """Text for HTML (element content and quoted attributes): escaped, with unencodable characters replaced."""
    return html.escape(_UNSAFE.sub("\ufffd", str(value)), quote=True)


def _int(n: int) -> str:
    return f"{n:,}"


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "–"


def _score(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _seconds(value: float | None) -> str:
    if value is None:
        return "–"
    if value < 1e-3:
        return f"{value * 1e6:.3g} µs"
    if value < 1:
        return f"{value * 1e3:.3g} ms"
    return f"{value:.3g} s"


_CSS = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #1d2330; background: #fff; margin: 0 auto; max-width: 1200px; padding: 16px 24px 48px; }
h1 { font-size: 22px; margin: 8px 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #dde1e7; }
h3 { font-size: 15px; margin: 16px 0 6px; }
nav a { margin-right: 12px; color: #2a5db0; text-decoration: none; }
.meta, .caption, .note { color: #5b6472; font-size: 13px; }
.note { background: #fff6e0; border-left: 3px solid #e8a317; padding: 6px 10px; margin: 8px 0; color: #4a3b10; }
table { border-collapse: collapse; margin: 6px 0 12px; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #dde1e7; padding: 3px 8px; text-align: right; vertical-align: top; }
th { background: #f3f5f8; font-weight: 600; }
td.name, th.name { text-align: left; max-width: 520px; overflow-wrap: anywhere; }
tr.total td { font-weight: 600; background: #f8f9fb; }
.bar { display: inline-block; width: 120px; height: 10px; background: #eceff3; vertical-align: middle; }
.bar > span { display: block; height: 100%; background: #2e9e44; }
.plots { display: flex; flex-wrap: wrap; gap: 12px 24px; }
figure { margin: 0; } figcaption { color: #5b6472; font-size: 12px; max-width: 340px; }
svg text { font: 11px system-ui, sans-serif; fill: #1d2330; }
.swatch { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 10px; vertical-align: baseline; }
"""

_SECTIONS = (
    ("summary", "Summary"),
    ("statuses", "Statuses"),
    ("scores", "Scores"),
    ("latency", "Latency"),
    ("steps", "Steps"),
    ("failures", "Failures"),
)


class _Ids:
    """Unique element ids for the plots' titles (aria-labelledby)."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"plot-{self.n}"


def _svg(title: str, width: int, height: int, body: list[str], ids: _Ids) -> str:
    ref = ids()
    return (
        f'<svg role="img" aria-labelledby="{ref}" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f'<title id="{ref}">{_e(title)}</title>' + "".join(body) + "</svg>"
    )


def _status_plot(report: Report, ids: _Ids) -> str:
    rows = [(ALL, report.summary["statuses"])]
    rows += [(name, counts["statuses"]) for name, counts in report.summary["by_verifier"].items()]
    label_w, bar_w, row_h = 190, 640, 24
    height = 34 + row_h * len(rows)
    body: list[str] = []
    x = label_w
    for status in STATUSES:  # the legend
        body.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{STATUS_COLOURS[status]}"/>')
        body.append(f'<text x="{x + 16}" y="16">{status} ({_int(report.summary["statuses"][status])})</text>')
        x += 112
    for i, (name, counts) in enumerate(rows):
        y = 30 + i * row_h
        total = sum(counts.values())
        body.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{_e(clip(name, 26))}</text>')
        body.append(f'<rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="{row_h - 6}" fill="#eceff3"/>')
        left = 0.0
        for status in STATUSES:
            count = counts.get(status, 0)
            if not count:
                continue
            w = bar_w * count / total
            tip = f"{name}: {status} {count} of {total} ({_pct(count, total)})"
            body.append(
                f'<rect x="{label_w + left:.2f}" y="{y + 3}" width="{w:.2f}" height="{row_h - 6}" '
                f'fill="{STATUS_COLOURS[status]}"><title>{_e(tip)}</title></rect>'
            )
            left += w
        body.append(f'<text x="{label_w + bar_w + 8}" y="{y + 15}">{_int(total)}</text>')
    return _svg("Verdict statuses per verifier (stacked, share of verdicts)", label_w + bar_w + 70, height, body, ids)


def _histogram_plot(title: str, hist: Histogram, labels: list[str], ids: _Ids, colour: str = "#4a6fa5") -> str:
    """Vertical bars with the count on each; `labels[i]` names bin i (shown under every bar when it fits)."""
    n = len(hist.counts)
    bar_w = max(14, min(40, 320 // max(n, 1)))
    plot_h, left, top = 110, 34, 16
    width, height = left + n * bar_w + 12, top + plot_h + 40
    peak = max(hist.counts, default=0) or 1
    body = [f'<line x1="{left}" y1="{top + plot_h}" x2="{left + n * bar_w}" y2="{top + plot_h}" stroke="#8a8f98"/>',
            f'<text x="{left - 4}" y="{top + 4}" text-anchor="end">{_int(peak)}</text>',
            f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end">0</text>']  # fmt: skip
    every = math.ceil((max((len(s) for s in labels), default=0) * 6.5 + 6) / bar_w)  # labels must not overlap
    for i, count in enumerate(hist.counts):
        h = plot_h * count / peak
        x = left + i * bar_w
        tip = f"{labels[i]}: {count}"
        body.append(
            f'<rect x="{x + 1}" y="{top + plot_h - h:.2f}" width="{bar_w - 2}" height="{h:.2f}" fill="{colour}">'
            f"<title>{_e(tip)}</title></rect>"
        )
        if i % every == 0:
            body.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle">{_e(labels[i])}</text>'
            )
    return _svg(title, max(width, 160), height, body, ids)


_NAME = ' class="name"'


def _table(headers: list[str], rows: list[list[str]], *, table_id: str | None = None, text: Collection[int] = (0,),
           total: list[str] | None = None) -> str:  # fmt: skip
    """Cells are already escaped HTML; the columns in `text` are left-aligned, the others numbers."""
    ident = f' id="{table_id}"' if table_id else ""
    head = "".join(f"<th{_NAME if i in text else ''}>{h}</th>" for i, h in enumerate(headers))
    out = [f"<table{ident}><thead><tr>{head}</tr></thead><tbody>"]
    for row in rows + ([total] if total else []):
        cls = ' class="total"' if total is not None and row is total else ""
        cells = "".join(f"<td{_NAME if i in text else ''}>{c}</td>" for i, c in enumerate(row))
        out.append(f"<tr{cls}>{cells}</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _bar(fraction: float, colour: str = "#2e9e44") -> str:
    return f'<span class="bar"><span style="width:{100 * fraction:.1f}%;background:{colour}"></span></span>'


def _summary(report: Report) -> str:
    s = report.summary
    out = [
        (
            f"<p><b>{_int(report.records)}</b> verdicts, mean score <b>{_score(s['mean_score'])}</b> over "
            f"{_int(s['decided'])} decided (UNDECIDED, ERROR and TIMEOUT are counted, never averaged as 0).</p>"
        )
    ]
    headers = ["domain", "verifier", "n", *STATUSES, "mean score"]
    rows = [
        [_e(g["domain"] if g["domain"] is not None else NO_DOMAIN), _e(g["verifier"]), _int(g["total"]),
         *(_int(g["statuses"][st]) for st in STATUSES), _score(g["mean_score"])]
        for g in s["groups"]
    ]  # fmt: skip
    total = ["all", "", _int(s["total"]), *(_int(s["statuses"][st]) for st in STATUSES), _score(s["mean_score"])]
    out.append(_table(headers, rows, table_id="summary-table", text=(0, 1), total=total))
    return "".join(out)


def _notes(report: Report) -> str:
    notes = []
    if report.unreadable_lines:
        torn = ""
        if report.torn_last_line:
            torn = " (the last one is unterminated: a run still writing, or killed mid-write)"
        notes.append(f"{_int(report.unreadable_lines)} unreadable line(s) were skipped{torn}.")
    if report.invalid_records:
        notes.append(f"{_int(report.invalid_records)} record(s) with a malformed verdict were skipped.")
    if report.duplicates:
        notes.append(
            f"{_int(report.duplicates)} later record(s) of an id already seen were skipped (the first one counts)."
        )
    return "".join(f'<p class="note">{n}</p>' for n in notes)


def _left_out(left_out: Mapping[str, int]) -> str:
    parts = [f"{_int(count)} {_e(why)}" for why, count in left_out.items() if count]
    return ", ".join(parts) if parts else "none"


def _scores(report: Report, ids: _Ids) -> str:
    labels = [f"{i / 10:.1f}" for i in range(SCORE_BINS)]
    figures = []
    undecided = []
    for name, hist in report.scores.items():
        if not hist.total:
            undecided.append(f"{_e(name)} ({_left_out(hist.left_out)})")
            continue
        plot = _histogram_plot(f"Score histogram of {name} (10 bins over [0, 1])", hist, labels, ids)
        caption = f"<b>{_e(name)}</b>: {_int(hist.total)} decided; left out: {_left_out(hist.left_out)}"
        figures.append(f"<figure>{plot}<figcaption>{caption}</figcaption></figure>")
    none = f"<p>No decided verdicts, so no plot: {', '.join(undecided)}.</p>" if undecided else ""
    return (
        '<p class="caption">Scores of decided verdicts (correct, incorrect, partial) in 10 bins of width 0.1; '
        "bin 0.9 includes 1.0. Undecided and failed verdicts have no score to show and are only counted.</p>"
        f'<div class="plots">{"".join(figures)}</div>{none}'
    )


def _batch_table(report: Report) -> str:
    """Per-batch figures of the verifiers timed per batch (model judges): their shares are not in the percentiles."""
    rows = [
        [_e(name), _int(b.verdicts), f"{b.batches:,.0f}", f"{b.mean_batch_size:.1f}", _int(b.max_batch_size),
         _seconds(b.mean_batch_s), _seconds(b.max_batch_s), _seconds(b.per_verdict_s)]
        for name, lat in report.latency.items() if (b := lat.batched) is not None
    ]  # fmt: skip
    if not rows:
        return ""
    headers = ["verifier", "verdicts", "batches", "mean size", "max size", "mean per batch", "max per batch",
               "per verdict"]  # fmt: skip
    return (
        '<h3>Timed per batch</h3><p class="caption">These verdicts were verified together in batches (a model '
        "judge): each one's elapsed_s is an even share of its batch's time (<b>batch share</b>), the same for "
        "every verdict of the batch, so it says nothing about one sample and is not in the percentiles above. "
        "Per verdict is the batches' time over their verdicts: throughput, not latency.</p>"
        + _table(headers, rows, table_id="batch-table")
    )


def _latency(report: Report, ids: _Ids) -> str:
    rows = []
    for name, lat in report.latency.items():
        mark = "" if lat.exact else "≈ "
        shared = _int(lat.batched.verdicts) if lat.batched is not None else "0"
        percentiles = (mark + _seconds(v) for v in (lat.p50, lat.p90, lat.p99))
        rows.append([_e(name), _int(lat.n), _int(lat.untimed), *percentiles, _seconds(lat.max), shared])
    headers = ["verifier", "timed", "untimed", "p50", "p90", "p99", "max", "batch share"]
    out = [
        (
            '<p class="caption">elapsed_s per verdict timed on its own. Percentiles are nearest-rank; "≈" marks a '
            f"verifier with more than {_int(EXACT_LATENCIES)} timed verdicts, whose percentiles come from log bins "
            "(within 4%). Verdicts with elapsed 0 were not timed (cached, or rejected before any work) and are left "
            "out; so are batch shares (verdicts timed together in a batch), counted in the last column and shown "
            "per batch below.</p>"
        ),
        _table(headers, rows, table_id="latency-table"),
        _batch_table(report),
    ]
    figures = []
    for name, lat in report.latency.items():
        if not lat.n or (name == ALL and len(report.latency) == 2):  # one verifier: its plot is the overall one
            continue
        edges = lat.histogram.edges
        labels = [_seconds(edges[i]) for i in range(len(edges) - 1)]
        plot = _histogram_plot(f"Latency histogram of {name} (log bins, two per decade)", lat.histogram, labels, ids,
                               colour="#1f6fd1")  # fmt: skip
        caption = f"<b>{_e(name)}</b>: {_int(lat.n)} timed; bars start at the labelled time"
        figures.append(f"<figure>{plot}<figcaption>{caption}</figcaption></figure>")
    out.append(f'<div class="plots">{"".join(figures)}</div>')
    return "".join(out)


def _steps(report: Report, ids: _Ids) -> str:
    if not report.steps:
        return "<p>No verdict has steps (unit tests, proof steps, checklist items).</p>"
    out = [
        (
            '<p class="caption">One step per unit test (code), proof step or theorem (Lean), or item (checklists). '
            "A step passes when its status is correct.</p>"
        )
    ]
    labels = [f"{i / 10:.1f}" for i in range(SCORE_BINS)]
    for index, (name, table) in enumerate(report.steps.items()):
        out.append(
            f"<h3>{_e(name)}</h3><p>{_int(table.samples)} verdicts with steps, {_int(table.steps)} steps, "
            f"{_int(table.passed)} passed ({_pct(table.passed, table.steps)}).</p>"
        )
        rows = [[_e(r.name), _int(r.n), _int(r.passed), _pct(r.passed, r.n), _bar(r.pass_rate)] for r in table.rows]
        title = f"Per-sample step pass fraction of {name}"
        plot = _histogram_plot(title, table.fraction, labels, ids, colour="#2e9e44")
        caption = (
            f"Fraction of each verdict's steps that passed: all passed in {_int(table.all_passed)}, "
            f"none in {_int(table.none_passed)} of {_int(table.samples)}"
        )
        out.append(
            '<div class="plots">'
            + _table(["step", "n", "passed", "pass rate", ""], rows, table_id=f"steps-table-{index + 1}")
            + f"<figure>{plot}<figcaption>{caption}</figcaption></figure></div>"
        )
        more = []
        if table.more_names:
            more.append(f"{_int(table.more_names)} more step names not shown")
        if table.untracked_steps:
            more.append(f"{_int(table.untracked_steps)} steps under names past the first {_int(STEP_NAMES_TRACKED)}")
        if more:
            out.append(f'<p class="note">{"; ".join(more)} (the {STEP_NAMES_SHOWN} most frequent are listed).</p>')
    return "".join(out)


def _failures(report: Report) -> str:
    if not report.failure_total:
        return "<p>No ERROR or TIMEOUT verdicts.</p>"
    rows = [
        [_int(g.count), _e(g.status), _e(g.verifier), _e(g.prefix),
         f"<code>{_e(g.example_id)}</code>: {_e(g.example_reason)}"]
        for g in report.failures
    ]  # fmt: skip
    shown = f"the {len(report.failures)} most frequent of {_int(report.failure_groups)} groups"
    return (
        f"<p>{_int(report.failure_total)} ERROR/TIMEOUT verdicts, grouped by verifier, status and the reason's first "
        f"part (numbers replaced by N); {shown}. These are infrastructure failures, not wrong answers: rerun them with "
        "<code>verifiers run … --retry-errors</code> once fixed.</p>"
        + _table(
            ["count", "status", "verifier", "reason", "example (id: reason)"],
            rows,
            table_id="failures-table",
            text=(1, 2, 3, 4),
        )
    )


def render_html(report: Report, *, title: str = "Verification report") -> str:
    """The report as one self-contained HTML page (inline CSS and SVG; no script, fonts, images or URLs)."""
    ids = _Ids()
    source = _e(report.source) if report.source is not None else "(records given directly)"
    head = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1>"
        f'<p class="meta">Input: <code>{source}</code> · generated {_e(report.generated_at)}</p>'
    )
    if not report.records:
        body = (
            f'<section id="summary"><h2>Summary</h2><p id="no-records">There are no records in {source}.</p>'
            f"{_notes(report)}</section>"
        )
        return head + body + "</body></html>\n"
    nav = "<nav>" + "".join(f'<a href="#{ident}">{name}</a>' for ident, name in _SECTIONS) + "</nav>"
    sections = {
        "summary": _summary(report) + _notes(report),
        "statuses": '<p class="caption">Share of each status per verifier; colours are fixed per status.</p>'
        + _status_plot(report, ids),
        "scores": _scores(report, ids),
        "latency": _latency(report, ids),
        "steps": _steps(report, ids),
        "failures": _failures(report),
    }
    body = "".join(f'<section id="{ident}"><h2>{name}</h2>{sections[ident]}</section>' for ident, name in _SECTIONS)
    return head + nav + body + "</body></html>\n"
