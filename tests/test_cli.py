"""The `verifiers` command line, in-process and as real subprocesses (kill -9 and Ctrl-C mid-run, then resume)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.extras import install_hint

from verifiers import __version__
from verifiers.cli import main, parse_options

ROOT = Path(__file__).resolve().parents[1]

SLOW_PLUGIN = '''
import os
import time

from verifiers import Verdict, Verifier, hookimpl


class SlowExact(Verifier):
    """Exact match after a short sleep, so that a test can interrupt a run half-way."""

    name = "slow_exact"
    options = {"delay": 0.001}

    def verify(self, sample):
        time.sleep(self.config["delay"])
        return Verdict.from_bool(self.name, sample.response == str(sample.reference), evidence={"pid": os.getpid()})


@hookimpl
def register_verifiers(register):
    register(SlowExact)
'''


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding an installed-looking third-party plugin (module + dist-info with an entry point)."""
    root = tmp_path_factory.mktemp("plugin")
    (root / "slow_plugin.py").write_text(SLOW_PLUGIN, encoding="utf-8")
    dist = root / "slow_plugin-0.3.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: slow-plugin\nVersion: 0.3\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text("[verifiers]\nslow = slow_plugin\n", encoding="utf-8")
    return root


def cli(*args: str, plugin: Path | None = None, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(plugin or ""), str(ROOT)]))}
    env.pop("CI", None)
    return subprocess.Popen(
        [sys.executable, "-m", "verifiers.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=kwargs.pop("cwd", None),
        # a shell without job control starts background jobs with SIGINT ignored, and Python keeps an ignored
        # SIGINT ignored: give the CLI the disposition a terminal would
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def finish(proc: subprocess.Popen, timeout: float = 60) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out.decode(), err.decode()


def write_rows(path: Path, n: int) -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(n):
            reference = str(i) if i % 4 else "other"
            handle.write(json.dumps({"id": f"row-{i:04d}", "response": str(i), "reference": reference}) + "\n")
    return path


def count_lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


# -- run: resume ------------------------------------------------------------------------------------------


def test_sigkill_mid_run_then_rerun_gives_every_id_exactly_once(tmp_path: Path, plugin_path: Path) -> None:
    data = write_rows(tmp_path / "data.jsonl", 2000)
    out = tmp_path / "out.jsonl"
    args = ["run", str(data), "-o", str(out), "--verifier", "slow_exact", "--option", "delay=0.002", "--chunk-size", "16"]
    proc = cli(*args, plugin=plugin_path)
    deadline = time.monotonic() + 60
    while proc.poll() is None and count_lines(out) < 200 and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    written = count_lines(out)
    assert 0 < written < 2000
    # a kill in the middle of a write leaves half a line: simulate one on top
    with open(out, "ab") as handle:
        handle.write(b'{"id":"row-1999","domain":null,"verdict":{"status":"cor')

    code, stdout, stderr = finish(cli(*args, plugin=plugin_path))
    assert code == 0, stderr
    records = [json.loads(line) for line in out.read_bytes().splitlines()]
    ids = [r["id"] for r in records]
    assert len(records) == 2000
    assert len(set(ids)) == 2000
    assert set(ids) == {f"row-{i:04d}" for i in range(2000)}
    assert "torn last line" in stderr
    assert f"2000 records in {out}" in stdout and f"{2000 - written} new" in stdout

    summary = json.loads((tmp_path / "out.summary.json").read_text())
    assert summary["total"] == 2000
    assert summary["statuses"]["correct"] == 1500 and summary["statuses"]["incorrect"] == 500
    assert summary["mean_score"] == 0.75
    assert summary["run"]["already_done"] == written and summary["run"]["written"] == 2000 - written


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_ctrl_c_stops_cleanly_and_the_rerun_resumes(tmp_path: Path, plugin_path: Path, sig: int) -> None:
    data = write_rows(tmp_path / "data.jsonl", 600)
    out = tmp_path / "out.jsonl"
    args = ["run", str(data), "-o", str(out), "--verifier", "slow_exact", "--option", "delay=0.002", "--chunk-size", "8"]
    proc = cli(*args, plugin=plugin_path)
    deadline = time.monotonic() + 60
    while proc.poll() is None and count_lines(out) < 40 and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(sig)
    code, stdout, stderr = finish(proc)
    assert code == 130, stderr
    assert "rerun the same command to resume" in stderr
    assert "Traceback" not in stderr
    kept = [json.loads(line) for line in out.read_bytes().splitlines()]  # every kept line is whole
    assert 0 < len(kept) < 600
    assert json.loads((tmp_path / "out.summary.json").read_text())["run"]["interrupted"] is True
    code, _, stderr = finish(cli(*args, plugin=plugin_path))
    assert code == 0, stderr
    ids = [json.loads(line)["id"] for line in out.read_bytes().splitlines()]
    assert len(ids) == len(set(ids)) == 600


# -- run: inputs and errors -------------------------------------------------------------------------------


def test_unknown_verifier_exits_2_with_the_list_before_starting(tmp_path: Path) -> None:
    data = write_rows(tmp_path / "data.jsonl", 3)
    out = tmp_path / "out.jsonl"
    code, stdout, stderr = finish(cli("run", str(data), "-o", str(out), "--verifier", "exactly"))
    assert code == 2
    assert "exactly" in stderr and "exact" in stderr.replace("'exactly'", "")
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_missing_columns_exit_2_before_starting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "qa.jsonl"
    data.write_text(json.dumps({"question": "q", "answer": "a"}) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["run", str(data), "-o", str(out), "--preset", "plain"]) == 2
    err = capsys.readouterr().err
    assert "no response column" in err and "answer, question" in err
    assert main(["run", str(data), "-o", str(out), "--response-col", "answer", "--reference-col", "solution"]) == 2
    assert "'solution'" in capsys.readouterr().err
    assert not out.exists()
    assert main(["run", str(data), "-o", str(out), "--response-col", "answer", "--reference-col", "question",
                 "--verifier", "exact", "--no-progress"]) == 0
    assert json.loads(out.read_text())["verdict"]["status"] == "incorrect"


def test_no_reference_column_needs_a_chosen_verifier(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "responses.jsonl"
    data.write_text(json.dumps({"response": "<answer>1</answer>"}) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["run", str(data), "-o", str(out)]) == 2
    assert "no reference column" in capsys.readouterr().err and not out.exists()
    assert main(["run", str(data), "-o", str(out), "--verifier", "exact", "--no-progress"]) == 0
    assert "has no reference column" in capsys.readouterr().err
    record = json.loads(out.read_text())
    assert record["verdict"]["status"] == "error" and "no reference" in record["verdict"]["reason"]


def test_malformed_lines_become_error_records_with_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "messy.jsonl"
    big = "z" * (10 * 1024 * 1024)
    data.write_bytes(
        b'{"id": "a", "response": "1", "reference": "1"}\n'
        b'{"id": "b", "response": \n'
        b'{"id": "c", "response": "\xff\xfe", "reference": "1"}\n'
        + json.dumps({"id": "big", "response": big, "reference": big}).encode()
        + b"\n"
        b'{"id": "none", "response": "1", "reference": null}\n'
        b'{"id": "e", "response": "2", "reference": "2"}\n'
    )
    out = tmp_path / "out.jsonl"
    assert main(["run", str(data), "-o", str(out), "--verifier", "exact", "--no-progress"]) == 0
    records = {r["id"]: r for r in map(json.loads, out.read_bytes().splitlines())}
    assert set(records) == {"a", "messy:1", "messy:2", "big", "none", "e"}
    assert records["messy:1"]["source"] == f"{data}:2"
    assert records["messy:1"]["verdict"]["reason"].startswith(f"{data}:2: invalid JSON")
    assert records["messy:2"]["verdict"]["reason"].startswith(f"{data}:3: not valid UTF-8")
    assert records["none"]["verdict"]["status"] == "error"
    assert records["big"]["verdict"]["status"] == records["e"]["verdict"]["status"] == "correct"
    summary = json.loads((tmp_path / "out.summary.json").read_text())
    assert summary["statuses"]["error"] == 3 and summary["mean_score"] == 1.0
    printed = capsys.readouterr().out
    assert "error" in printed and "6 records in" in printed


def test_parquet_with_the_verl_preset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pa = pytest.importorskip("pyarrow", reason=install_hint("pyarrow", "datasets"))
    pq = pytest.importorskip("pyarrow.parquet", reason=install_hint("pyarrow", "datasets"))
    rows = [
        {
            "data_source": "my/custom",
            "prompt": [{"role": "user", "content": f"q{i}"}],
            "reward_model": {"style": "rule", "ground_truth": str(i)},
            "extra_info": {"index": i},
            "responses": str(i if i % 2 else -1),
        }
        for i in range(10)
    ]
    data = tmp_path / "rollouts.parquet"
    pq.write_table(pa.Table.from_pylist(rows), data)
    out = tmp_path / "res.jsonl"
    summary_path = tmp_path / "s.json"
    code = main(["run", str(data), "-o", str(out), "--verifier", "exact", "--no-progress", "--summary", str(summary_path)])
    assert code == 0
    records = [json.loads(line) for line in out.read_bytes().splitlines()]
    assert [r["id"] for r in records] == [f"rollouts:{i}" for i in range(10)]
    assert records[1]["source"] == f"{data}#1"
    summary = json.loads(summary_path.read_text())
    assert summary["statuses"]["correct"] == 5 and summary["run"]["preset"] == "verl"
    assert main(["run", str(data), "-o", str(tmp_path / "lim.jsonl"), "--verifier", "exact", "--limit", "3", "--no-progress"]) == 0
    assert count_lines(tmp_path / "lim.jsonl") == 3


def test_hf_dataset_directory_with_trl_columns(tmp_path: Path) -> None:
    hf = pytest.importorskip("datasets", reason=install_hint("datasets", "datasets"))
    ds = hf.Dataset.from_dict(
        {
            "prompt": [[{"role": "user", "content": "2+2?"}], [{"role": "user", "content": "3+3?"}]],
            "completion": [[{"role": "assistant", "content": "4"}], [{"role": "assistant", "content": "7"}]],
            "solution": ["4", "6"],
        }
    )
    ds.save_to_disk(str(tmp_path / "trl_ds"))
    out = tmp_path / "out.jsonl"
    code = main(["run", str(tmp_path / "trl_ds"), "-o", str(out), "--preset", "trl", "--verifier", "exact", "--no-progress"])
    assert code == 0
    statuses = [json.loads(line)["verdict"]["status"] for line in out.read_bytes().splitlines()]
    assert statuses == ["correct", "incorrect"]


def test_bad_option_and_bad_flags_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_rows(tmp_path / "d.jsonl", 2)
    out = str(tmp_path / "o.jsonl")
    assert main(["run", str(data), "-o", out, "--option", "novalue"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err
    assert main(["run", str(data), "-o", out, "--verifier", "exact", "--option", "bogus=1"]) == 2
    assert "bogus" in capsys.readouterr().err
    assert main(["run", str(data), "-o", out, "--workers", "0"]) == 2
    assert main(["run", str(data), "-o", out, "--verifier", "exact", "--domain", "text"]) == 2
    assert main(["run", str(tmp_path / "missing.jsonl"), "-o", out]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not Path(out).exists()


def test_an_option_no_verifier_takes_fails_before_any_record_is_written(tmp_path: Path, capsys) -> None:
    """Routed by each row's domain (no --verifier, no --domain): a typo in --option is a configuration mistake."""
    data = tmp_path / "mixed.jsonl"
    data.write_text(
        json.dumps({"id": "a", "response": "The answer is 4.", "reference": "4"}) + "\n"
        + json.dumps({"id": "b", "response": "B", "reference": "B"}) + "\n"
    )  # fmt: skip
    out = tmp_path / "o.jsonl"
    assert main(["run", str(data), "-o", str(out), "--option", "nosuch=1", "--no-progress"]) == 2
    assert "nosuch" in capsys.readouterr().err
    assert not out.exists()
    # the twin: an option one domain's cascade takes runs; a row whose cascade does not take it is an ERROR record
    # naming it (never verified without the option the caller set)
    assert main(["run", str(data), "-o", str(out), "--option", "rel_tol=0.01", "--no-progress"]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["id"], r["verdict"]["status"]) for r in records] == [("a", "correct"), ("b", "error")]
    assert "rel_tol" in records[1]["verdict"]["reason"]


def test_non_tty_progress_does_not_spam(tmp_path: Path) -> None:
    data = write_rows(tmp_path / "d.jsonl", 500)
    code, stdout, stderr = finish(cli("run", str(data), "-o", str(tmp_path / "o.jsonl"), "--verifier", "exact", "--chunk-size", "5"))
    assert code == 0, stderr
    assert len(stderr.splitlines()) <= 2
    assert "500 records in" in stdout


def test_sqlite_cache_is_shared_between_runs(tmp_path: Path) -> None:
    from verifiers import SQLiteCache

    data = write_rows(tmp_path / "d.jsonl", 20)
    cache = tmp_path / "verdicts.sqlite"
    for name in ("a.jsonl", "b.jsonl"):
        args = ["run", str(data), "-o", str(tmp_path / name), "--verifier", "exact", "--cache", str(cache), "--no-progress"]
        assert main(args) == 0
    assert len(SQLiteCache(cache)) == 20
    first, second = ([json.loads(line)["verdict"] for line in (tmp_path / n).read_bytes().splitlines()] for n in ("a.jsonl", "b.jsonl"))
    assert first == second


def test_workers_and_timeout(tmp_path: Path, plugin_path: Path) -> None:
    """`--workers 2` verifies in worker processes, not in the CLI's; `--timeout` cuts a stuck sample short."""
    data = write_rows(tmp_path / "d.jsonl", 40)
    out = tmp_path / "o.jsonl"
    args = ["run", str(data), "-o", str(out), "--verifier", "slow_exact", "--workers", "2", "--timeout", "0.5"]
    proc = cli(*args, "--option", "delay=0.001", plugin=plugin_path)
    code, _, stderr = finish(proc)
    assert code == 0, stderr
    assert json.loads((tmp_path / "o.summary.json").read_text())["statuses"]["correct"] == 30
    pids = {json.loads(line)["verdict"]["evidence"]["pid"] for line in out.read_bytes().splitlines()}
    assert 1 <= len(pids) <= 2 and proc.pid not in pids
    slow = tmp_path / "slow.jsonl"
    code, _, stderr = finish(cli("run", str(data), "-o", str(slow), "--verifier", "slow_exact", "--timeout", "0.2",
                                 "--limit", "2", "--option", "delay=5", plugin=plugin_path))
    assert code == 0, stderr
    statuses = [json.loads(line)["verdict"]["status"] for line in slow.read_bytes().splitlines()]
    assert statuses == ["timeout", "timeout"]


def test_parse_options() -> None:
    assert parse_options(["a=1", "b=false", "c=B", "d=[1, 2]", "e=", "f=x=y"]) == {
        "a": 1, "b": False, "c": "B", "d": [1, 2], "e": "", "f": "x=y",
    }


# -- check, plugins, list ---------------------------------------------------------------------------------


def test_check_prints_the_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--response", " 42 ", "--reference", "42", "--verifier", "exact"]) == 0
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["status"] == "correct" and verdict["verifier"] == "exact" and verdict["score"] == 1.0
    assert main(["check", "--response", " 42 ", "--reference-json", '["41", "42 "]', "--verifier", "exact",
                 "--option", "strip=false"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "incorrect"
    assert main(["check", "--response", "x", "--verifier", "exact"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "error"


def test_check_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--response", "x", "--reference", "y", "--verifier", "nope"]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["check", "--response", "x", "--reference-json", "{bad", "--verifier", "exact"]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert main(["check", "--reference", "y"]) == 2  # no response


def test_check_reads_the_response_from_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "answer.txt"
    path.write_bytes(b"hello\xff\n")
    assert main(["check", "--response-file", str(path), "--reference", "hello\ufffd", "--verifier", "exact"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "correct"


def test_plugins_lists_name_version_hooks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins"]) == 0
    infos = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    assert infos["verifiers.rule"]["hooks"] == ["register_verifiers"]
    assert infos["verifiers.rule"]["version"] == __version__


def test_plugins_shows_a_third_party_plugin(plugin_path: Path) -> None:
    code, stdout, stderr = finish(cli("plugins", plugin=plugin_path))
    assert code == 0, stderr
    infos = {p["name"]: p for p in json.loads(stdout)}
    assert infos["slow"] == {"name": "slow", "version": "0.3", "hooks": ["register_verifiers"], "builtin": False}


def test_list_as_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["exact"]["plugin"] == "verifiers.rule"
    assert main(["list"]) == 0
    table = capsys.readouterr().out
    assert "exact" in table and "verifiers.rule" in table


def test_list_json_has_each_option_with_default_and_doc(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    (strip,) = rows["exact"]["options"]
    assert strip["name"] == "strip" and strip["default"] is True and strip["doc"] and strip["per_sample"] is True
    assert strip["accepts"] == "true or false"
    tags = next(o for o in rows["format"]["options"] if o["name"] == "tags")
    assert tags["default"] == ["think", "answer"]  # JSON, as `--option tags='["think", "answer"]'` takes it
    guards = next(o for o in rows["judge"]["options"] if o["name"] == "guards")
    assert guards["per_sample"] is False
    # the docstring's whole first paragraph, not its first line (which ends mid-sentence for math.rule)
    assert rows["math.rule"]["description"].endswith("the rest is UNDECIDED (for `math.symbolic`).")


@pytest.mark.parametrize("columns", ["60", "200"])
def test_list_prints_options_and_wraps_never_cuts(
    columns: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    monkeypatch.setenv("COLUMNS", columns)
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    flat = " ".join(out.split())
    for row in rows:
        assert f"{row['name']} (" in flat
        assert " ".join(row["description"].split()) in flat, row["name"]  # whole: wrapped, never cut
        for option in row["options"]:
            line = f"{option['name']} {json.dumps(option['default'], ensure_ascii=False)}"
            assert line in flat or f"{option['name']} {json.dumps(option['default'])}" in flat, option
            assert " ".join(option["doc"].split()) in flat, (row["name"], option["name"])
    width = max(60, min(int(columns), 160))
    too_long = [line for line in out.splitlines() if len(line) > width and " " in line.strip()]
    assert not too_long  # a line past the width holds one word too long to break, nothing else


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"verifiers {__version__}"
    assert main([]) == 2
    assert main(["run", "--help"]) == 0
    assert "--preset" in capsys.readouterr().out


def test_examples_main_command(tmp_path: Path) -> None:
    """The command of README.md / examples/README.md: each domain's default cascade over examples/samples.jsonl."""
    data = ROOT / "examples" / "samples.jsonl"
    code, stdout, stderr = finish(cli("run", str(data), "-o", "results.jsonl", cwd=tmp_path))
    assert code == 0, stderr
    summary = json.loads((tmp_path / "results.summary.json").read_text())
    assert summary["total"] == count_lines(data) == 30
    assert set(summary["by_domain"]) == {"text", "numeric", "multiple_choice"}
    assert summary["statuses"]["correct"] == 24 and summary["statuses"]["incorrect"] == 6  # six wrong on purpose
    assert "30 records in results.jsonl, 30 new" in stdout
    again = finish(cli("run", str(data), "-o", "results.jsonl", cwd=tmp_path))
    assert again[0] == 0 and "0 new, 30 already done" in again[1]


def test_examples_messy_input(tmp_path: Path) -> None:
    data = ROOT / "examples" / "messy.jsonl"
    assert main(["run", str(data), "-o", str(tmp_path / "m.jsonl"), "--no-progress"]) == 0
    summary = json.loads((tmp_path / "m.summary.json").read_text())
    assert summary["total"] == 6 and summary["statuses"]["error"] == 4 and summary["statuses"]["correct"] == 2
    assert summary["by_verifier"]["input"]["total"] == 2 and summary["by_verifier"]["routing"]["total"] == 1


def test_console_script_is_declared() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'verifiers = "verifiers.cli:main"' in text
