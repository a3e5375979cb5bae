"""Resumable dataset runs: one record per id, torn lines repaired, ERROR records for bad rows, honest summaries."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from support.properties import given, settings, st

from verifiers import Sample, UnknownDomainError, UnknownVerifierError, Verdict, Verifier, VerifiersError, hookimpl
from verifiers.datasets import open_dataset
from verifiers.jobs import (
    ProgressInfo,
    default_summary_path,
    read_output,
    run_dataset,
    scan_output,
    summarize_output,
)


class ToyParity(Verifier):
    """Correct when the response's length has the parity named by the reference ("even"/"odd")."""

    name = "toy.parity"
    domains = ("toy",)
    options = {"invert": False}

    def verify(self, sample: Sample) -> Verdict:
        if sample.reference not in ("even", "odd"):
            return Verdict.undecided(self.name, "reference is not even/odd")
        ok = (len(sample.response) % 2 == 0) == (sample.reference == "even")
        return Verdict.from_bool(self.name, ok != self.settings(sample)["invert"])


class ToyPlugin:
    @hookimpl
    def register_verifiers(self, register):
        register(ToyParity)


@pytest.fixture
def toy(register_plugin) -> None:
    register_plugin(ToyPlugin())


def samples(n: int, prefix: str = "s") -> list[Sample]:
    return [Sample(str(i), str(i) if i % 3 else "nope", id=f"{prefix}{i}") for i in range(n)]


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def test_records_are_one_line_per_sample(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = run_dataset(samples(10), out, verifier="exact", chunk_size=3)
    records = lines_of(out)
    assert [r["id"] for r in records] == [f"s{i}" for i in range(10)]
    assert set(records[0]) == {"id", "domain", "verdict"}
    assert Verdict.from_dict(records[1]["verdict"]).is_correct
    assert records[0]["verdict"]["status"] == "incorrect"
    assert result.written == 10 and result.already_done == 0 and not result.interrupted
    assert result.summary_path == default_summary_path(out) == tmp_path / "out.summary.json"


def test_resume_skips_done_ids_and_appends_the_rest(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    run_dataset(samples(25)[:10], out, verifier="exact", chunk_size=4)
    result = run_dataset(samples(25), out, verifier="exact", chunk_size=4)
    ids = [r["id"] for r in lines_of(out)]
    assert len(ids) == len(set(ids)) == 25
    assert result.written == 15 and result.already_done == 10
    again = run_dataset(samples(25), out, verifier="exact")
    assert again.written == 0 and again.already_done == 25
    assert len(lines_of(out)) == 25


def test_torn_last_line_is_cut_and_the_sample_redone(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    run_dataset(samples(6), out, verifier="exact")
    data = out.read_bytes().splitlines(keepends=True)
    out.write_bytes(b"".join(data[:4]) + data[4][: len(data[4]) // 2])  # a kill in the middle of line 5
    scan = scan_output(out, repair=False)
    assert scan.done == {"s0", "s1", "s2", "s3"} and scan.torn_bytes > 0
    result = run_dataset(samples(6), out, verifier="exact")
    assert result.torn_bytes > 0 and result.written == 2
    records = lines_of(out)  # every line parses again
    assert sorted(r["id"] for r in records) == [f"s{i}" for i in range(6)]


def test_complete_last_line_without_newline_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    run_dataset(samples(3), out, verifier="exact")
    out.write_bytes(out.read_bytes().rstrip(b"\n"))
    result = run_dataset(samples(5), out, verifier="exact")
    assert result.already_done == 3 and result.written == 2 and result.torn_bytes == 0
    assert [r["id"] for r in lines_of(out)] == ["s0", "s1", "s2", "s3", "s4"]


def test_summary_counts_the_whole_file_after_resume(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    items = samples(30) + [Sample("x", None, id="no-ref")]
    run_dataset(items[:12], out, verifier="exact", chunk_size=5)
    result = run_dataset(items, out, verifier="exact", chunk_size=5)
    summary = json.loads(default_summary_path(out).read_text())
    assert summary == result.summary
    records = lines_of(out)
    statuses = Counter(r["verdict"]["status"] for r in records)
    assert summary["total"] == 31
    assert summary["statuses"] == {s: statuses.get(s, 0) for s in summary["statuses"]}
    assert summary["statuses"]["error"] == 1  # the None reference: an ERROR, not a 0
    decided = [r["verdict"]["score"] for r in records if r["verdict"]["status"] in ("correct", "incorrect", "partial")]
    assert summary["decided"] == len(decided) == 30
    assert summary["mean_score"] == pytest.approx(sum(decided) / len(decided), abs=1e-6)
    assert summary["by_verifier"]["exact"]["total"] == 31
    assert summary["run"]["written"] == 19 and summary["run"]["already_done"] == 12
    assert {k: v for k, v in summarize_output(out).items() if k != "run"} == {k: v for k, v in summary.items() if k != "run"}


def test_unknown_names_fail_before_anything_is_written(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with pytest.raises(UnknownVerifierError, match="no-such-verifier.*exact"):
        run_dataset(samples(3), out, verifier="no-such-verifier")
    with pytest.raises(UnknownDomainError):
        run_dataset(samples(3), out, domain="no-such-domain")
    assert not out.exists()


def test_bad_rows_become_error_records_and_the_run_goes_on(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_bytes(
        b'{"id": "ok", "response": "a", "reference": "a"}\n'
        b"{broken\n"
        b'{"id": "latin", "response": "caf\xe9", "reference": "x"}\n'
        b'{"id": "none", "response": "a", "reference": null}\n'
        b'{"id": "last", "response": "b", "reference": "b"}\n'
    )
    out = tmp_path / "out.jsonl"
    run_dataset(open_dataset(data), out, verifier="exact")
    records = {r["id"]: r for r in lines_of(out)}
    assert set(records) == {"ok", "d:1", "d:2", "none", "last"}
    assert records["d:1"]["source"] == f"{data}:2"
    assert records["d:1"]["verdict"]["status"] == "error" and f"{data}:2" in records["d:1"]["verdict"]["reason"]
    assert records["d:2"]["verdict"]["status"] == "error" and "UTF-8" in records["d:2"]["verdict"]["reason"]
    assert records["none"]["verdict"]["status"] == "error"
    assert records["ok"]["verdict"]["status"] == records["last"]["verdict"]["status"] == "correct"


def test_routing_by_domain_with_errors_for_unknown_domains(tmp_path: Path, toy: None) -> None:
    items = [
        Sample("ab", "even", domain="toy", id="a"),
        Sample("abc", "even", domain="toy", id="b"),
        Sample("abc", "odd", domain="unheard-of", id="c"),
        Sample("abc", None, id="d"),  # no domain and nothing to route by
    ]
    out = tmp_path / "out.jsonl"
    result = run_dataset(items, out)
    records = {r["id"]: r for r in lines_of(out)}
    assert records["a"]["verdict"]["status"] == "correct" and records["a"]["domain"] == "toy"
    assert records["b"]["verdict"]["status"] == "incorrect"
    assert records["c"]["verdict"]["status"] == "error" and "unheard-of" in records["c"]["verdict"]["reason"]
    assert records["d"]["verdict"]["status"] == "error" and "--domain" in records["d"]["verdict"]["reason"]
    assert result.summary["by_domain"]["toy"]["mean_score"] == 0.5


def test_forced_domain_and_options(tmp_path: Path, toy: None) -> None:
    items = [Sample("ab", "even", id="a"), Sample("ab", "odd", domain="other", id="b")]
    out = tmp_path / "out.jsonl"
    run_dataset(items, out, domain="toy", options={"invert": True})
    records = {r["id"]: r for r in lines_of(out)}
    assert records["a"]["domain"] == records["b"]["domain"] == "toy"
    assert records["a"]["verdict"]["status"] == "incorrect" and records["b"]["verdict"]["status"] == "correct"


def test_a_repeated_id_is_an_error_record_naming_both_rows(tmp_path: Path) -> None:
    items = [Sample("a", "a", id="x"), Sample("b", "b", id="y"), Sample("zzz", "a", id="x")]
    out = tmp_path / "out.jsonl"
    result = run_dataset(items, out, verifier="exact")
    records = lines_of(out)
    assert [r["id"] for r in records] == ["x", "y", "sample:2"]  # the repeat is recorded under its default id
    assert records[0]["verdict"]["status"] == "correct"  # the first one is verified
    error = records[2]["verdict"]
    assert error["status"] == "error" and "input item 0" in error["reason"] and "input item 2" in error["reason"]
    assert result.duplicates == 1 and result.written == 3
    assert result.duplicate_examples == ("x (input item 0 and input item 2)",)
    assert result.summary["run"]["duplicate_ids"] == 1 and result.summary["statuses"]["error"] == 1
    rerun = run_dataset(items, out, verifier="exact")
    assert (rerun.duplicates, rerun.already_done, rerun.written) == (1, 2, 0)
    assert len(lines_of(out)) == 3


def _data(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_a_given_id_never_takes_another_rows_default_id(tmp_path: Path) -> None:
    """`data:2` given to row 0 used to make row 2 (no id, default `data:2`) a silent duplicate, never verified."""
    data = _data(tmp_path / "data.jsonl", [
        {"id": "data:2", "response": "a", "reference": "a"},
        {"id": "id:z", "response": "b", "reference": "b"},
        {"response": "c", "reference": "c"},
        {"id": "data:3", "response": "d", "reference": "d"},  # its own default id: the same id
        {"response": "e", "reference": "x"},
        {"id": "data:4", "response": "f", "reference": "f"},  # after the row it could be taken for
    ])
    out = tmp_path / "out.jsonl"
    result = run_dataset(open_dataset(data), out, verifier="exact")
    records = {r["id"]: r["verdict"]["status"] for r in lines_of(out)}
    assert records == {"id:data:2": "correct", "id:id:z": "correct", "data:2": "correct", "data:3": "correct",
                       "data:4": "incorrect", "id:data:4": "correct"}
    assert result.duplicates == 0 and result.written == 6
    assert run_dataset(open_dataset(data), out, verifier="exact").already_done == 6


def test_the_number_55_and_the_string_55_are_one_id(tmp_path: Path) -> None:
    data = _data(tmp_path / "data.jsonl", [
        {"id": 55, "response": "a", "reference": "a"},
        {"id": "55", "response": "b", "reference": "b"},
        {"id": 55.0, "response": "c", "reference": "c"},  # "55.0": another id
    ])
    out = tmp_path / "out.jsonl"
    result = run_dataset(open_dataset(data), out, verifier="exact")
    records = {r["id"]: r for r in lines_of(out)}
    assert set(records) == {"55", "data:1", "55.0"}
    error = records["data:1"]["verdict"]
    assert error["status"] == "error" and "'55'" in error["reason"]
    assert f"{data}:1" in error["reason"] and f"{data}:2" in error["reason"]  # both lines named
    assert records["data:1"]["source"] == f"{data}:2"
    assert result.duplicates == 1 and result.duplicate_examples == (f"55 ({data}:1 and {data}:2)",)


def test_retry_errors_verifies_failures_again(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    run_dataset([Sample("a", None, id="a"), Sample("b", "b", id="b")], out, verifier="exact")
    assert lines_of(out)[0]["verdict"]["status"] == "error"
    result = run_dataset([Sample("a", "a", id="a"), Sample("b", "b", id="b")], out, verifier="exact", retry_errors=True)
    assert result.written == 1 and result.summary["run"]["retried_failures"] == 1
    assert {r["id"]: r["verdict"]["status"] for r in lines_of(out)} == {"a": "correct", "b": "correct"}


def test_keyboard_interrupt_keeps_what_was_written(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    seen: list[ProgressInfo] = []

    def progress(info: ProgressInfo) -> None:
        seen.append(info)
        if info.written >= 20:
            raise KeyboardInterrupt

    result = run_dataset(samples(100), out, verifier="exact", chunk_size=10, progress=progress)
    assert result.interrupted and result.written == 20
    assert len(lines_of(out)) == 20
    assert json.loads(default_summary_path(out).read_text())["run"]["interrupted"] is True
    assert seen[-1].statuses["correct"] + seen[-1].statuses["incorrect"] == 20
    finished = run_dataset(samples(100), out, verifier="exact", chunk_size=10)
    assert finished.already_done == 20 and len({r["id"] for r in lines_of(out)}) == len(lines_of(out)) == 100


def test_progress_reports_totals_and_live_scores(tmp_path: Path) -> None:
    seen: list[ProgressInfo] = []
    run_dataset(samples(9), tmp_path / "o.jsonl", verifier="exact", chunk_size=4, total=9, progress=seen.append)
    last = seen[-1]
    assert (last.seen, last.written, last.total) == (9, 9, 9)
    assert last.mean_score == pytest.approx(6 / 9)


def test_ten_megabyte_response_and_unicode(tmp_path: Path) -> None:
    big = "é" * (5 * 1024 * 1024)  # 10 MB of UTF-8
    items = [Sample(big, big, id="big"), Sample("\ud800", "x", id="surrogate")]
    out = tmp_path / "out.jsonl"
    run_dataset(items, out, verifier="exact", summary_path=None)
    assert out.stat().st_size < 10_000  # verdicts are written, not responses
    records = {r["id"]: r for r in read_output(out)}
    assert records["big"]["verdict"]["status"] == "correct"
    assert records["surrogate"]["verdict"]["status"] == "incorrect"
    assert not default_summary_path(out).exists()


def test_a_second_run_on_the_same_output_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    summary = default_summary_path(out)

    def progress(info: ProgressInfo) -> None:
        if info.written == 5:  # the first run is mid-way and holds the file
            with pytest.raises(VerifiersError, match="another run is writing"):
                run_dataset(samples(10), out, verifier="exact")

    result = run_dataset(samples(10), out, verifier="exact", chunk_size=5, progress=progress)
    assert result.written == 10 and len(lines_of(out)) == 10
    assert json.loads(summary.read_text())["total"] == 10


def test_unwritable_output_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "dir.jsonl").mkdir()
    with pytest.raises(VerifiersError, match="cannot write"):
        run_dataset(samples(1), tmp_path / "dir.jsonl", verifier="exact")


@settings(max_examples=50, deadline=None)
@given(n=st.integers(1, 30), chunk=st.integers(1, 8), cut=st.floats(0, 1))
def test_a_kill_at_any_byte_resumes_to_exactly_one_record_per_id(
    tmp_path_factory: pytest.TempPathFactory, n: int, chunk: int, cut: float
) -> None:
    out = tmp_path_factory.mktemp("torn") / "out.jsonl"
    items = samples(n)
    run_dataset(items, out, verifier="exact", chunk_size=chunk, summary_path=None, fsync=False)
    data = out.read_bytes()
    out.write_bytes(data[: int(len(data) * cut)])  # what a kill -9 at that byte would leave
    result = run_dataset(items, out, verifier="exact", chunk_size=chunk, summary_path=None, fsync=False)
    records = lines_of(out)
    assert sorted(r["id"] for r in records) == sorted(s.id for s in items)
    assert result.summary["total"] == n


_IDS = st.sampled_from([None, None, "a", "b", "1", 1, "sample:0", "sample:3", "id:a", "id:id:a"])


@settings(max_examples=60, deadline=None)
@given(ids=st.lists(_IDS, min_size=1, max_size=12), chunk=st.integers(1, 5), cut=st.floats(0, 1))
def test_colliding_ids_resume_to_the_records_of_an_uninterrupted_run(
    tmp_path_factory: pytest.TempPathFactory, ids: list, chunk: int, cut: float
) -> None:
    """Repeats, int/str twins and default-shaped ids: a kill at any byte then a rerun gives exactly the records of
    one uninterrupted run, one per record id, every row accounted for."""
    base = tmp_path_factory.mktemp("ids")
    items = [Sample(str(i), str(i) if i % 2 else "x", id=item_id) for i, item_id in enumerate(ids)]
    whole = base / "whole.jsonl"
    run_dataset(items, whole, verifier="exact", chunk_size=chunk, summary_path=None, fsync=False)
    expected = sorted((r["id"], r["verdict"]["status"]) for r in lines_of(whole))
    assert len(expected) == len(items) == len({i for i, _ in expected})
    out = base / "out.jsonl"
    run_dataset(items, out, verifier="exact", chunk_size=chunk, summary_path=None, fsync=False)
    data = out.read_bytes()
    out.write_bytes(data[: int(len(data) * cut)])
    run_dataset(items, out, verifier="exact", chunk_size=chunk, summary_path=None, fsync=False)
    assert sorted((r["id"], r["verdict"]["status"]) for r in lines_of(out)) == expected


# -- the progress display of `verifiers run` ----------------------------------------------------------------

_BUSY = ProgressInfo(seen=123456, written=123422, already_done=34, duplicates=0, total=500000, mean_score=0.7342,
                     statuses={"correct": 80000, "incorrect": 30000, "partial": 50, "undecided": 20, "error": 25,
                               "timeout": 5})  # fmt: skip
_EARLY = ProgressInfo(seen=12, written=12, already_done=0, duplicates=0, total=500000, mean_score=0.5,
                      statuses={"correct": 6, "incorrect": 6, "partial": 0, "undecided": 0, "error": 0, "timeout": 0})
_STATUS_SHOWN = {"correct": "cor", "incorrect": "inc", "partial": "par", "undecided": "und", "error": "err",
                 "timeout": "t/o"}  # fmt: skip


def _shown_lines(text: str) -> list[str]:
    """What a terminal shows of rich output: control sequences dropped, split at newlines and carriage returns."""
    import re

    return [line for line in re.split(r"[\r\n]", re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)) if line]


def _progress_output(width: int, *updates: ProgressInfo) -> list[str]:
    import io

    from rich.console import Console

    from verifiers.cli import _Progress

    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=True, color_system=None)
    progress = _Progress(console, enabled=True, label="a-dataset-with-a-rather-long-file-name.jsonl")
    for info in updates:
        progress(info)
    progress.close()
    return _shown_lines(buffer.getvalue())


def test_a_dumb_terminal_gets_plain_lines_not_a_live_display(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from rich.console import Console

    from verifiers.cli import _Progress

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TERM", "dumb")  # Emacs shells, some CI runners: no cursor movement
    buffer = io.StringIO()
    progress = _Progress(Console(file=buffer, width=80, force_terminal=True, color_system=None), enabled=True,
                         label="data.jsonl")  # fmt: skip
    progress(_EARLY)
    progress(_BUSY)
    progress.close()
    assert "\x1b[" not in buffer.getvalue()  # no redraw sequences
    assert buffer.getvalue().splitlines() == ["verifying data.jsonl (500000 rows)"]


@pytest.mark.parametrize("width", [40, 60, 80, 100, 200])
def test_progress_display_fits_the_terminal(width: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.cells import cell_len

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")  # a terminal that can redraw (TERM=dumb cannot)
    lines = _progress_output(width, _EARLY, _BUSY)
    assert lines and max(cell_len(line) for line in lines) <= width, lines
    final = " ".join(lines[-2:])
    assert "123456/500000" in final and "mean 0.734" in final  # rows done and the mean score: always shown


def test_progress_display_at_80_columns_keeps_every_status_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's case: at 80 columns the bar, count and time share a line, the scores get their own."""
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")  # a terminal that can redraw (TERM=dumb cannot)
    head, scores = _progress_output(80, _BUSY)[-2:]
    assert "123456/500000" in head and "━" in head
    assert scores.startswith("mean 0.734")
    from verifiers.cli import _progress_lines

    an_hour_in = [line.plain for line in _progress_lines(_BUSY, "data.jsonl", 3725.0, 80)]
    assert len(an_hour_in) == 2 and an_hour_in[0].endswith("123456/500000  1:02:05  eta 3:09:24")
    for status, count in _BUSY.statuses.items():
        assert f"{_STATUS_SHOWN[status]} {count}" in scores or f"{status} {count}" in scores, (status, scores)
    wide = _progress_output(200, _BUSY)[-1]  # the near miss: room for everything, one line, full names
    assert "123456/500000" in wide and "correct 80000 · incorrect 30000" in wide and "timeout 5" in wide
    early = _progress_output(80, _EARLY)  # few statuses: full names still fit at 80
    assert "mean 0.500 · correct 6 · incorrect 6" in early[-1]


def test_verifiers_run_progress_on_an_80_column_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    from rich.cells import cell_len

    from verifiers.cli import main

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")  # a terminal that can redraw (TERM=dumb cannot)
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich then treats stderr as a terminal
    monkeypatch.setenv("COLUMNS", "80")
    data = tmp_path / ("x" * 60 + ".jsonl")
    data.write_text("".join(json.dumps({"id": str(i), "response": str(i % 3), "reference": "1"}) + "\n"
                            for i in range(30)))  # fmt: skip
    assert main(["run", str(data), "-o", str(tmp_path / "out.jsonl"), "--verifier", "exact", "--chunk-size", "7"]) == 0
    lines = _shown_lines(capsys.readouterr().err)
    assert lines and max(cell_len(line) for line in lines) <= 80, lines
    assert any("30/30" in line for line in lines) and any("mean 0.333 · correct 10 · incorrect 20" in line for line in lines)


def test_what_the_readme_commands_write_at_the_root_is_git_ignored() -> None:
    """`verifiers run … -o results.jsonl` and `verifiers report … --html report.html` at the repository root."""
    import shutil
    import subprocess

    root = Path(__file__).resolve().parents[1]
    if shutil.which("git") is None or not (root / ".git").exists():
        pytest.skip("not a git checkout: nothing to ignore")
    outputs = ["results.jsonl", "results-math.jsonl", "out.jsonl"]
    written = ["results.jsonl", "results-math.jsonl", "report.html", ".report.html.k2j4x9.tmp",
               *(default_summary_path(Path(name)).name for name in outputs)]  # fmt: skip
    kept = ["examples/mixed.summary.json", "docs/report.html", "tests/data/results.jsonl"]  # near misses: not the root
    # safe.directory: a checkout owned by another user (tests run with sudo in a user's clone) is still read
    check = subprocess.run(["git", "-c", "safe.directory=*", "check-ignore", "--no-index", *written, *kept],
                           cwd=root, capture_output=True, text=True)  # fmt: skip
    assert check.returncode in (0, 1), check.stderr  # 1: some path is not ignored; anything else: git failed
    assert sorted(check.stdout.split()) == sorted(written)
