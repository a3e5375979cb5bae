"""A resumable dataset run: verify every item of a dataset, one JSON line per sample in an output file.

The output file is the job's only state. Each line is a record

    {"id": "...", "domain": "math" | null, "source": "data.jsonl:17", "verdict": {...Verdict.to_dict()}}

and a sample counts as done once its line is in the file. On start the file is read: a torn last line (a kill
in the middle of a write) is cut away, and the ids present are skipped. New records are appended a chunk at a
time with one write, then flushed and fsync'd, so a `kill -9` loses at most the chunk in flight and never
duplicates one.

Ids (the one rule; the record's "id" is this id):
  - A row's id is the text of its id value, `str(value)`: the number 55 and the string "55" are the same id
    (`55.0` is "55.0", another one). Nothing else is normalized: case, spaces and Unicode count.
  - A row without an id gets the default id `<name>:<row>`: the dataset's name (its file stem) and the row's
    0-based index among the rows read (`data:55`; `sample:3` for samples given in code).
  - Default ids never collide with given ones: a given id shaped like another row's default id (`data:55` on
    any row but row 55), or starting with `id:`, is recorded as `id:` + the id (`id:data:55`).
  - Ids are unique: a row whose id an earlier row already has is not verified. It gets an ERROR record under
    its own default id that names both rows (`data.jsonl:3` and `data.jsonl:8`); nothing is skipped silently.
  Every record id is a function of the input alone, so a resumed run assigns the same ids and neither loses
  nor duplicates a record.

A row that cannot be verified (malformed input, no domain, a domain nobody registered) gets an ERROR record
saying why and the run goes on. Errors that make the whole run pointless (an unknown `verifier` or `domain`
name, an option no verifier takes) raise before anything is written.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cache import Cache
from .calls import gather, verifier_name
from .cascade import Policy
from .datasets import Dataset, DatasetItem, default_id
from .errors import VerifiersError
from .executor import Executor, Plan, make_executor
from .verdict import Sample, Status, Verdict, json_safe

__all__ = [
    "JobResult",
    "ProgressInfo",
    "Tally",
    "default_summary_path",
    "parse_record",
    "read_output",
    "run_dataset",
    "scan_output",
    "summarize_output",
    "write_atomic",
]

DEFAULT_CHUNK_SIZE = 256
INPUT_VERIFIER = "input"  # the verifier named in ERROR records of rows that could not be read


# -- tallies ----------------------------------------------------------------------------------------------


@dataclass
class _Counts:
    statuses: Counter[str] = field(default_factory=Counter)
    score_sum: float = 0.0
    decided: int = 0

    def add(self, status: str, score: float) -> None:
        self.statuses[status] += 1
        if Status(status).is_decided:
            self.decided += 1
            self.score_sum += score

    def merge(self, other: _Counts) -> None:
        self.statuses.update(other.statuses)
        self.score_sum += other.score_sum
        self.decided += other.decided

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    @property
    def mean_score(self) -> float | None:
        return self.score_sum / self.decided if self.decided else None

    def to_dict(self) -> dict[str, Any]:
        mean = self.mean_score
        return {
            "total": self.total,
            "decided": self.decided,
            "mean_score": None if mean is None else round(mean, 6),
            "statuses": {s.value: self.statuses.get(s.value, 0) for s in Status},
        }


class Tally:
    """Verdict counts by domain x verifier x status, and the mean score over decided verdicts.

    UNDECIDED, ERROR and TIMEOUT are counted, never averaged in as 0.
    """

    def __init__(self) -> None:
        self.groups: dict[tuple[str | None, str], _Counts] = {}

    def add(self, domain: str | None, verdict: Verdict) -> None:
        self._add(domain, verdict.verifier, verdict.status.value, verdict.score)

    def add_record(self, record: Mapping[str, Any]) -> None:
        verdict = record.get("verdict") or {}
        verifier = str(verdict.get("verifier", "?"))
        self._add(record.get("domain"), verifier, verdict["status"], float(verdict.get("score", 0.0)))

    def _add(self, domain: str | None, verifier: str, status: str, score: float) -> None:
        key = (domain, verifier)
        counts = self.groups.get(key)
        if counts is None:
            counts = self.groups[key] = _Counts()
        counts.add(status, score)

    def overall(self) -> _Counts:
        total = _Counts()
        for counts in self.groups.values():
            total.merge(counts)
        return total

    @property
    def total(self) -> int:
        return self.overall().total

    @property
    def mean_score(self) -> float | None:
        return self.overall().mean_score

    def statuses(self) -> dict[str, int]:
        return self.overall().to_dict()["statuses"]

    def _by(self, position: int) -> dict[str, dict[str, Any]]:
        merged: dict[str, _Counts] = {}
        for key, counts in self.groups.items():
            label = key[position]
            name = "(none)" if label is None else label
            merged.setdefault(name, _Counts()).merge(counts)
        return {name: merged[name].to_dict() for name in sorted(merged)}

    def to_dict(self) -> dict[str, Any]:
        groups = [
            {"domain": domain, "verifier": verifier, **counts.to_dict()}
            for (domain, verifier), counts in sorted(self.groups.items(), key=lambda kv: (kv[0][0] or "", kv[0][1]))
        ]
        return {
            **self.overall().to_dict(),
            "by_domain": self._by(0),
            "by_verifier": self._by(1),
            "groups": groups,
        }


# -- the output file --------------------------------------------------------------------------------------


def parse_record(line: bytes) -> dict[str, Any] | None:
    """The record on one output line, or None when the line is not a well-formed record."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        return None
    verdict = record.get("verdict")
    if not isinstance(verdict, dict):
        return None
    try:
        Status(verdict.get("status"))
    except ValueError:
        return None
    return record


@dataclass
class _Scan:
    done: set[str]
    tally: Tally
    torn_bytes: int = 0  # bytes of a torn last line cut away
    bad_lines: int = 0  # unreadable lines before the last one (left in place, ignored)
    duplicate_records: int = 0
    retried: int = 0  # ERROR/TIMEOUT records removed to be verified again


def scan_output(path: str | Path, *, repair: bool = True) -> _Scan:
    """Read an output file: the ids done and their tally (the first record of an id counts).

    With `repair`, a torn last line is truncated away and a complete last line missing its newline gets one,
    so appending is safe.
    """
    path = Path(path)
    scan = _Scan(done=set(), tally=Tally())
    if not path.exists():
        return scan
    size = path.stat().st_size
    offset = 0
    cut: int | None = None
    needs_newline = False
    with open(path, "rb") as handle:
        for line in handle:
            end = offset + len(line)
            record = parse_record(line) if line.strip() else None
            if record is None:
                if end >= size and line.strip():
                    cut = offset
                    scan.torn_bytes = end - offset
                elif line.strip():
                    scan.bad_lines += 1
            else:
                needs_newline = not line.endswith(b"\n")
                if record["id"] in scan.done:
                    scan.duplicate_records += 1
                else:
                    scan.done.add(record["id"])
                    scan.tally.add_record(record)
            offset = end
    if repair and (cut is not None or needs_newline):
        with open(path, "r+b") as handle:
            if cut is not None:
                handle.truncate(cut)
            else:
                handle.seek(0, os.SEEK_END)
                handle.write(b"\n")
            handle.flush()
            os.fsync(handle.fileno())
    return scan


def _drop_failures(path: Path) -> int:
    """Remove the ERROR and TIMEOUT records (atomically: a new file replaces the old) so they are redone."""
    dropped = 0
    tmp = path.with_name(path.name + ".retry.tmp")
    with open(path, "rb") as src, open(tmp, "wb") as dst:
        for line in src:
            record = parse_record(line)
            if record is not None and Status(record["verdict"]["status"]).is_failure:
                dropped += 1
                continue
            dst.write(line)
        dst.flush()
        os.fsync(dst.fileno())
    os.replace(tmp, path)
    return dropped


def read_output(path: str | Path) -> Iterator[dict[str, Any]]:
    """The records of an output file, skipping unreadable lines (a torn last line included)."""
    with open(path, "rb") as handle:
        for line in handle:
            record = parse_record(line) if line.strip() else None
            if record is not None:
                yield record


def summarize_output(path: str | Path) -> dict[str, Any]:
    """The summary of an output file as it is now (first record per id)."""
    scan = scan_output(path, repair=False)
    return {"out": str(path), **scan.tally.to_dict()}


def default_summary_path(out_path: str | Path) -> Path:
    """`results.jsonl` -> `results.summary.json`."""
    out_path = Path(out_path)
    stem = out_path.stem if out_path.suffix else out_path.name
    return out_path.with_name(stem + ".summary.json")


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` all at once: a temporary file beside it, fsync'd, then renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; results are for reading
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _write_json_atomic(path: Path, data: Any) -> None:
    write_atomic(path, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


def encode_record(item_id: str, domain: str | None, verdict: Verdict, source: str | None) -> bytes:
    record: dict[str, Any] = {"id": item_id, "domain": domain}
    if source:
        record["source"] = source
    record["verdict"] = verdict.to_dict()
    try:
        return (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from the input: escape them instead
        return (json.dumps(record, ensure_ascii=True, separators=(",", ":")) + "\n").encode("ascii")


# -- the run ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgressInfo:
    """Where a run stands; passed to the `progress` callback after every chunk."""

    seen: int  # input rows consumed by this run (done before, duplicates and new)
    written: int  # records this run appended (duplicates' ERROR records included)
    already_done: int  # rows skipped because their id was in the output already (duplicates not counted)
    duplicates: int  # rows whose id an earlier row has: an ERROR record each (see "Ids" in the module docstring)
    total: int | None  # input rows expected, when known
    mean_score: float | None  # over every decided verdict in the output
    statuses: dict[str, int]  # status -> count over the whole output


@dataclass(frozen=True)
class JobResult:
    out_path: Path
    summary_path: Path | None
    summary: dict[str, Any]
    written: int
    already_done: int
    duplicates: int
    duplicate_examples: tuple[str, ...]
    torn_bytes: int
    interrupted: bool
    elapsed_s: float


RESERVED_ID_PREFIX = "id:"
"""Put before a given id that could be read as a default id (see "Ids" in the module docstring)."""


def _name(items: object) -> str:
    """The name in the default ids of `items`' rows: the dataset's, else "sample"."""
    return items.name if isinstance(items, Dataset) else "sample"


def _as_items(items: Iterable[DatasetItem | Sample | Mapping[str, Any]]) -> Iterator[tuple[DatasetItem, str]]:
    """Each input row as a `DatasetItem`, with its default id (`datasets.default_id`, as `datasets.to_item` names a
    row without an id)."""
    name = _name(items)
    for index, item in enumerate(items):
        default = default_id(name, index)
        if isinstance(item, DatasetItem):
            yield item, default
            continue
        sample = item if isinstance(item, Sample) else Sample.from_dict(item)
        yield DatasetItem(sample.id if sample.id is not None else default, "", sample=sample), default


class _Ids:
    """Gives each input row its record id under the rules in the module docstring (a function of the input)."""

    def __init__(self, items: object) -> None:
        self._default_shape = re.compile(re.escape(_name(items)) + r":(?:0|[1-9][0-9]*)")
        self.rows: dict[str, str] = {}  # record id -> where the row that has it is

    def assign(self, item: DatasetItem, default: str, where: str) -> tuple[DatasetItem, str | None]:
        """The item under its record id and None; for a repeated id, an ERROR item and where the earlier row is."""
        record_id = item.id
        reserved = record_id.startswith(RESERVED_ID_PREFIX) or self._default_shape.fullmatch(record_id)
        if reserved and record_id != default:
            record_id = RESERVED_ID_PREFIX + record_id
        first = self.rows.get(record_id)
        if first is None:
            self.rows[record_id] = where
            return (item if record_id == item.id else dataclasses.replace(item, id=record_id)), None
        own, n = default, 1
        while own in self.rows:  # a default id is never taken under these rules; never reuse one all the same
            own, n = f"{default}#{n}", n + 1
        self.rows[own] = where
        shown = repr(item.id if len(item.id) <= 80 else item.id[:80] + "…")
        reason = (
            f"{where}: id {shown} is already the id of {first}; ids must be unique, so this row is not "
            f"verified (its record has its default id {own!r}): give it an id of its own"
        )
        return DatasetItem(own, item.location, error=reason), first


def run_dataset(
    items: Iterable[DatasetItem | Sample | Mapping[str, Any]],
    out_path: str | Path,
    *,
    verifier: Any = None,
    domain: str | None = None,
    options: Mapping[str, Any] | None = None,
    policy: Policy = "first",
    workers: int | None = None,
    timeout: float | None = None,
    cache: Cache | str | Path | bool | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    total: int | None = None,
    progress: Callable[[ProgressInfo], None] | None = None,
    summary_path: str | Path | None | bool = True,
    retry_errors: bool = False,
    fsync: bool = True,
    run_info: Mapping[str, Any] | None = None,
    executor: str = "local",
    ray_address: str | None = None,
) -> JobResult:
    """Verify `items` into the JSON-lines file `out_path`, resuming where an earlier run of it stopped.

    `items`: `DatasetItem`s (from `verifiers.datasets.open_dataset`), `Sample`s or sample mappings; ids follow
    the rules in the module docstring (a repeated id is an ERROR record naming both rows). `verifier` (a name or
    object) verifies every sample; else `domain` (forced for every sample), else each sample's own domain or the
    routing hooks pick a domain's cascade. `options` configure the verifiers;
    `policy` is the cascades' ("first" or "addon").
    `workers`, `timeout`, `cache` as for `verify_batch` (one `Runner` serves the whole run). `summary_path`:
    where the summary JSON goes (True: `default_summary_path(out_path)`, None/False: nowhere). `retry_errors`:
    verify again the samples whose record is ERROR or TIMEOUT. `run_info` is copied into the summary's "run".
    `executor`: "local", or "ray" (chunks on long-lived Ray actors; `ray_address` attaches to a cluster, e.g.
    "auto"); records are written by this process either way, so resuming works the same.
    A KeyboardInterrupt stops the run cleanly: every record written so far stays, the result says `interrupted`.
    """
    if chunk_size < 1:
        raise VerifiersError(f"chunk_size must be >= 1, got {chunk_size}")
    if summary_path is True:
        target: Path | None = default_summary_path(out_path)
    elif summary_path is None or summary_path is False:
        target = None
    else:
        target = Path(summary_path)
    plan = Plan(verifier, domain, domain_overrides=True, policy=policy, options=dict(options or {}),
                workers=workers, timeout=timeout, cache=cache)  # fmt: skip
    job = _Job(
        executor=make_executor(executor, plan, address=ray_address),  # unknown names raise here, before any write
        out_path=Path(out_path),
        summary_path=target,
        chunk_size=chunk_size,
        total=total,
        progress=progress,
        fsync=fsync,
        run_info={
            **dict(run_info or {}),
            "verifier": verifier if verifier is None or isinstance(verifier, str) else verifier_name(verifier),
            "domain": domain,
            "options": dict(options or {}),
            "executor": executor,
        },
    )
    return job.run(items, retry_errors=retry_errors)


class _Job:
    """The state of one `run_dataset` call."""

    def __init__(
        self,
        *,
        executor: Executor,
        out_path: Path,
        summary_path: Path | None,
        chunk_size: int,
        total: int | None,
        progress: Callable[[ProgressInfo], None] | None,
        fsync: bool,
        run_info: dict[str, Any],
    ) -> None:
        self.executor = executor
        self.out_path, self.summary_path = out_path, summary_path
        self.chunk_size, self.total, self.progress, self.fsync = chunk_size, total, progress, fsync
        self.run_info = run_info
        self.counters = {"seen": 0, "written": 0, "already_done": 0, "duplicates": 0}
        self.duplicate_examples: list[str] = []
        self.scan = _Scan(done=set(), tally=Tally())
        self.start = time.perf_counter()

    def run(self, items: Iterable[DatasetItem | Sample | Mapping[str, Any]], *, retry_errors: bool) -> JobResult:
        interrupted = False
        out = self._open()  # a second run on the same file fails here, before touching anything
        try:
            try:
                if retry_errors:
                    retried = _drop_failures(self.out_path)
                    out.close()
                    out = self._open()  # the rewrite is a new file: lock that one
                else:
                    retried = 0
                self.scan = scan_output(self.out_path)
                self.scan.retried = retried
                self._loop(items, out)
            finally:
                out.close()
        except KeyboardInterrupt:
            interrupted = True
        except Exception as exc:  # keep an honest summary of what the file holds, then fail
            self._write_summary(interrupted=False, failure=f"{type(exc).__name__}: {exc}")
            raise
        summary = self._write_summary(interrupted=interrupted, failure=None)
        return JobResult(
            out_path=self.out_path,
            summary_path=self.summary_path,
            summary=summary,
            written=self.counters["written"],
            already_done=self.counters["already_done"],
            duplicates=self.counters["duplicates"],
            duplicate_examples=tuple(self.duplicate_examples),
            torn_bytes=self.scan.torn_bytes,
            interrupted=interrupted,
            elapsed_s=time.perf_counter() - self.start,
        )

    def _open(self) -> Any:
        """The output file for appending, locked so that a second run on it fails instead of duplicating."""
        try:
            self.out_path.parent.mkdir(parents=True, exist_ok=True)
            out = open(self.out_path, "ab")
        except OSError as exc:
            raise VerifiersError(f"cannot write {str(self.out_path)!r}: {exc.strerror or exc}") from None
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock
            return out
        try:
            fcntl.flock(out.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            out.close()
            raise VerifiersError(
                f"another run is writing {str(self.out_path)!r}; wait for it or stop it, then rerun to resume"
            ) from None
        return out

    def _loop(self, items: Iterable[DatasetItem | Sample | Mapping[str, Any]], out: Any) -> None:
        counters, done = self.counters, self.scan.done
        ids = _Ids(items)
        self._good_size = os.fstat(out.fileno()).st_size  # after scan_output's repair
        self._report()
        chunk: list[DatasetItem] = []
        for index, (given, default) in enumerate(_as_items(items)):
            counters["seen"] += 1
            where = given.location or f"input item {index}"
            item, first = ids.assign(given, default, where)
            if first is not None:
                counters["duplicates"] += 1
                if len(self.duplicate_examples) < 5:
                    self.duplicate_examples.append(f"{given.id} ({first} and {where})")
            if item.id in done:
                if first is None:
                    counters["already_done"] += 1
                    if counters["already_done"] % self.chunk_size == 0:
                        self._report()
                continue
            chunk.append(item)
            if len(chunk) >= self.chunk_size:
                self._flush(chunk, out)
                chunk = []
        if chunk:
            self._flush(chunk, out)
        self._report()

    def _flush(self, chunk: list[DatasetItem], out: Any) -> None:
        results = _verify_chunk(chunk, self.executor)
        blob = b"".join(
            encode_record(item.id, dom, verdict, item.location) for item, (dom, verdict) in zip(chunk, results)
        )
        flushed = False
        try:
            out.write(blob)
            out.flush()
            flushed = True
            if self.fsync:
                os.fsync(out.fileno())
        except BaseException:
            if flushed:  # the chunk is in the file; only the fsync was cut short
                self._accepted(results, len(blob))
            else:
                _truncate(out, self._good_size)  # all of this chunk or none of it
            raise
        self._accepted(results, len(blob))
        self._report()

    def _accepted(self, results: list[tuple[str | None, Verdict]], size: int) -> None:
        self._good_size += size
        for dom, verdict in results:
            self.scan.tally.add(dom, verdict)
        self.counters["written"] += len(results)

    def _report(self) -> None:
        if self.progress is not None:
            overall = self.scan.tally.overall()
            self.progress(
                ProgressInfo(
                    total=self.total,
                    mean_score=overall.mean_score,
                    statuses=overall.to_dict()["statuses"],
                    **self.counters,
                )
            )

    def _write_summary(self, *, interrupted: bool, failure: str | None) -> dict[str, Any]:
        scan = self.scan
        tally = scan.tally
        if interrupted or failure:  # stopped at an arbitrary point: count what the file holds
            tally = scan_output(self.out_path, repair=False).tally
        summary: dict[str, Any] = {"out": str(self.out_path), **tally.to_dict()}
        summary["run"] = {
            **self.run_info,
            "written": self.counters["written"],
            "already_done": self.counters["already_done"],
            "duplicate_ids": self.counters["duplicates"],  # rows given an ERROR record for a repeated id
            "duplicate_id_examples": self.duplicate_examples,
            "retried_failures": scan.retried,
            "torn_bytes_repaired": scan.torn_bytes,
            "unreadable_output_lines": scan.bad_lines,
            "duplicate_output_records": scan.duplicate_records,
            "interrupted": interrupted,
            "failed": failure,
            "elapsed_s": round(time.perf_counter() - self.start, 3),
        }
        summary = json_safe(summary)
        if self.summary_path is not None:
            _write_json_atomic(self.summary_path, summary)
        return summary


def _truncate(out: Any, size: int) -> None:
    try:
        out.flush()
    except BaseException:
        pass
    try:
        os.ftruncate(out.fileno(), size)
        out.seek(size)
    except OSError:
        pass


def _verify_chunk(chunk: list[DatasetItem], executor: Executor) -> list[tuple[str | None, Verdict]]:
    """(domain, verdict) per item: unreadable rows get ERROR records, the rest goes to the executor (which gives
    unroutable samples ERROR records of their own)."""
    unreadable: list[tuple[int, tuple[str | None, Verdict]]] = []
    todo: list[int] = []
    samples: list[Sample] = []
    for i, item in enumerate(chunk):
        if item.sample is None:
            unreadable.append((i, (None, Verdict.error(INPUT_VERIFIER, item.error or "unreadable row"))))
        else:
            todo.append(i)
            samples.append(item.sample)
    return gather(len(chunk), unreadable, zip(todo, executor.run(samples)))
