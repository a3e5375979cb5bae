"""Reading datasets: formats, presets, dotted paths, chat columns, malformed rows and missing columns."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import ModuleType

import pytest
from support.extras import install_hint
from support.properties import given, settings, st

from verifiers import DatasetError, Sample
from verifiers.datasets import (
    ColumnMap,
    detect_format,
    get_path,
    has_path,
    message_text,
    open_dataset,
    read_records,
    resolve_columns,
    VERL_SOURCES,
    verl_domain,
)


@pytest.fixture
def pa() -> ModuleType:
    """pyarrow, for the parquet tests (the JSONL ones run without it)."""
    return pytest.importorskip("pyarrow", reason=install_hint("pyarrow", "datasets"))


@pytest.fixture
def pq(pa: ModuleType) -> ModuleType:
    return pytest.importorskip("pyarrow.parquet", reason=install_hint("pyarrow", "datasets"))


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def verl_rows() -> list[dict]:
    return [
        {
            "data_source": "openai/gsm8k",
            "prompt": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "What is 6 * 7?"},
            ],
            "ability": "math",
            "reward_model": {"style": "rule", "ground_truth": "42"},
            "extra_info": {"split": "train", "index": 0},
            "responses": "The answer is 42.",
        },
        {
            "data_source": "lighteval/MATH",
            "prompt": [{"role": "user", "content": "What is 1/2 + 1/2?"}],
            "ability": "math",
            "reward_model": {"style": "rule", "ground_truth": "1"},
            "extra_info": {"split": "train", "index": 1},
            "responses": "1",
        },
    ]


# -- raw rows -------------------------------------------------------------------------------------------------


def test_jsonl_rows_with_locations_and_malformed_lines(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_bytes(
        b'\xef\xbb\xbf{"response": "a", "reference": "a"}\n'
        b"\n"
        b"{not json\n"
        b'{"response": "caf\xe9"}\n'  # latin-1, not UTF-8
        b"[1, 2]\n"
        b'{"response": "b", "reference": "c"}'  # no final newline
    )
    rows = list(read_records(path))
    assert [r.index for r in rows] == [0, 1, 2, 3, 4]
    assert [r.location for r in rows] == [f"{path}:{n}" for n in (1, 3, 4, 5, 6)]
    assert rows[0].data == {"response": "a", "reference": "a"}
    assert rows[1].data is None and f"{path}:3" in rows[1].error and "invalid JSON" in rows[1].error
    assert rows[2].data is None and "not valid UTF-8" in rows[2].error and "0xe9" in rows[2].error
    assert rows[3].data is None and "expected a JSON object" in rows[3].error
    assert rows[4].data == {"response": "b", "reference": "c"}


def test_limit_counts_malformed_rows_too(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(b'{"response": "a"}\nbad\n{"response": "b"}\n')
    assert len(list(read_records(path, limit=2))) == 2
    assert list(read_records(path, limit=0)) == []


def test_json_array_file(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps([{"response": "a", "reference": "a"}, 3]), encoding="utf-8")
    rows = list(read_records(path))
    assert rows[0].data == {"response": "a", "reference": "a"}
    assert rows[1].error and "expected a JSON object" in rows[1].error


def test_format_detection(tmp_path: Path, pa: ModuleType, pq: ModuleType) -> None:
    jsonl = write_jsonl(tmp_path / "a.jsonl", [{"response": "x"}])
    parquet = tmp_path / "noext"
    pq.write_table(pa.Table.from_pylist([{"response": "x"}]), parquet)
    assert detect_format(jsonl) == "jsonl"
    assert detect_format(parquet) == "parquet"
    assert detect_format(tmp_path) == "hf"
    with pytest.raises(DatasetError, match="does not exist"):
        detect_format(tmp_path / "missing.jsonl")


def test_parquet_rows_stream_in_batches(tmp_path: Path, pa: ModuleType, pq: ModuleType) -> None:
    path = tmp_path / "big.parquet"
    table = pa.Table.from_pylist([{"response": str(i), "reference": str(i)} for i in range(3000)])
    pq.write_table(table, path, row_group_size=700)
    rows = list(read_records(path))
    assert len(rows) == 3000
    assert rows[2999].data == {"response": "2999", "reference": "2999"}
    assert rows[5].location == f"{path}#5"
    assert len(list(read_records(path, limit=10))) == 10


def test_corrupt_parquet_is_a_dataset_error(tmp_path: Path, pq: ModuleType) -> None:
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"PAR1 this is not really parquet")
    with pytest.raises(DatasetError, match="not a readable parquet file"):
        list(read_records(path))


# -- columns --------------------------------------------------------------------------------------------------


def test_dotted_paths() -> None:
    row = {"reward_model": {"ground_truth": "42"}, "responses": ["a", "b"], "flat.key": 1}
    assert get_path(row, "reward_model.ground_truth") == "42"
    assert get_path(row, "responses.1") == "b"
    assert get_path(row, "responses.-1") == "b"
    assert get_path(row, "flat.key") == 1  # a literal dotted key wins
    assert not has_path(row, "reward_model.style")
    assert get_path(row, "responses.5", None) is None
    with pytest.raises(KeyError):
        get_path(row, "nope")


def test_message_text_from_chats() -> None:
    chat = [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "q2"},
    ]
    assert message_text(chat, "user") == "q2"
    assert message_text(chat, "assistant") == "a1"
    assert message_text([{"role": "assistant", "content": [{"type": "text", "text": "x"}, {"type": "text", "text": "y"}]}], "assistant") == "x\ny"
    assert message_text([{"content": "only"}], "assistant") == "only"
    assert message_text("plain", "user") == "plain"
    assert message_text(None, "user") is None
    assert message_text(3, "user") == "3"
    with pytest.raises(ValueError):
        message_text(["a", "b"], "assistant")


def test_verl_data_sources_map_to_domains() -> None:
    assert verl_domain("openai/gsm8k") == "math"
    assert verl_domain("lighteval/MATH") == "math"
    assert verl_domain("codecontests") == "code"
    assert verl_domain("allenai/ai2_arc") == "multiple_choice"
    assert verl_domain("text", known_domains=("text",)) == "text"
    assert verl_domain("my/custom_set") is None
    assert verl_domain(None) is None


@pytest.mark.parametrize("source", sorted(VERL_SOURCES))
def test_every_data_source_verl_scores_has_its_domain(source: str) -> None:
    assert verl_domain(source, known_domains=("math", "code", "text")) == VERL_SOURCES[source]


def test_verl_sources_cover_the_names_of_the_installed_verl() -> None:
    """Every data_source string verl's default_compute_score compares against is in the table (or is a domain)."""
    import inspect

    scores = pytest.importorskip("verl.utils.reward_score")
    named = set(re.findall(r'"([A-Za-z0-9_/.-]+)"', inspect.getsource(scores.default_compute_score)))
    assert named - set(VERL_SOURCES) <= {"math", "aime"}  # a domain name, and the prefix matched by keyword


@pytest.mark.parametrize(
    ("source", "domain"),
    [("ARC-Challenge", "multiple_choice"), ("ArcherCodeR", None), ("archive_qa", None), ("amc23", "math"),
     ("amcat", None), ("gsm_hard", "math"), ("AIME_2025", "math"), ("likaixin/TACO-verified", "code")],
)  # fmt: skip
def test_three_letter_keywords_name_whole_words_only(source: str, domain: str | None) -> None:
    assert verl_domain(source) == domain


def test_auto_detects_presets() -> None:
    assert resolve_columns("auto", {"response": "a", "reference": "b"}) == ColumnMap(
        response="response", reference="reference", prompt="prompt", domain="domain", id="id", metadata=("metadata",)
    )
    trl = resolve_columns("auto", {"prompt": "p", "completion": "c", "solution": "s"})
    assert (trl.response, trl.reference, trl.prompt) == ("completion", "solution", "prompt")
    verl = resolve_columns("auto", verl_rows()[0])
    assert (verl.response, verl.reference, verl.domain) == ("responses", "reward_model.ground_truth", "data_source")
    assert verl.verl_sources and verl.metadata == ("extra_info",)


def test_missing_columns_name_the_column_and_the_columns_present() -> None:
    with pytest.raises(DatasetError) as info:
        resolve_columns("plain", {"response": "a", "answer": "b"})
    assert "'reference'" in str(info.value) and "answer, response" in str(info.value)
    with pytest.raises(DatasetError, match="cannot tell the layout"):
        resolve_columns("auto", {"text": "a"})
    with pytest.raises(DatasetError, match="'output' \\(the response\\) is not in the dataset"):
        resolve_columns("plain", {"response": "a", "reference": "b"}, {"response": "output"})
    with pytest.raises(DatasetError, match="no response column: looked for 'responses'"):
        resolve_columns("verl", {k: v for k, v in verl_rows()[0].items() if k != "responses"})
    with pytest.raises(DatasetError, match="unknown preset"):
        resolve_columns("openrlhf", {"response": "a"})
    # an explicit "no reference" is allowed, and so is none at all when the caller says a reference is optional
    assert resolve_columns("auto", {"response": "a"}, {"reference": ""}).reference is None
    assert resolve_columns("auto", {"response": "a"}, require_reference=False).reference is None
    with pytest.raises(DatasetError, match="no reference column"):
        resolve_columns("auto", {"response": "a"})


# -- datasets -------------------------------------------------------------------------------------------------


def test_open_dataset_plain_jsonl_ids_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(
        b'{"id": "q1", "response": "4", "reference": "4", "domain": "numeric", "metadata": {"strip": false}}\n'
        b'{"response": "B", "reference": "B", "prompt": "pick"}\n'
        b"{oops\n"
        b'{"reference": "x"}\n'
        b'{"response": "y", "reference": null}\n'
    )
    dataset = open_dataset(path)
    assert dataset.preset == "plain" and dataset.format == "jsonl"
    assert dataset.count() == 5
    items = list(dataset)
    assert [i.id for i in items] == ["q1", "mixed:1", "mixed:2", "mixed:3", "mixed:4"]
    assert items[0].sample == Sample("4", "4", domain="numeric", metadata={"strip": False}, id="q1")
    assert items[1].sample is not None and items[1].sample.prompt == "pick" and items[1].sample.domain is None
    assert items[2].sample is None and items[2].error.startswith(f"{path}:3: invalid JSON")
    assert items[3].sample is None and "no column 'response'" in items[3].error and f"{path}:4" in items[3].error
    assert items[4].sample is not None and items[4].sample.reference is None
    # iterating again reads the file again and gives the same items
    assert list(dataset) == items


def test_open_dataset_checks_columns_before_anything(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", [{"question": "q", "answer": "a"}])
    with pytest.raises(DatasetError, match="columns \\(answer, question\\)"):
        open_dataset(path)
    ok = open_dataset(path, columns={"response": "answer", "reference": "question"})
    assert [i.sample.response for i in ok] == ["a"]


def test_open_dataset_skips_malformed_rows_when_checking_columns(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(b"garbage\n" + json.dumps({"completion": "c", "solution": "s"}).encode() + b"\n")
    dataset = open_dataset(path)
    assert dataset.preset == "trl"
    items = list(dataset)
    assert items[0].error and items[1].sample.response == "c"


def test_empty_file_is_an_empty_dataset(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    assert list(open_dataset(path)) == []


def test_verl_parquet_with_nested_columns(tmp_path: Path, pa: ModuleType, pq: ModuleType) -> None:
    path = tmp_path / "verl.parquet"
    pq.write_table(pa.Table.from_pylist(verl_rows()), path)
    dataset = open_dataset(path)
    assert dataset.preset == "verl" and dataset.format == "parquet"
    first, second = list(dataset)
    assert first.id == "verl:0" and first.location == f"{path}#0"
    assert first.sample.response == "The answer is 42."
    assert first.sample.reference == "42"
    assert first.sample.prompt == "What is 6 * 7?"
    assert first.sample.domain == "math"
    assert first.sample.metadata["data_source"] == "openai/gsm8k"
    assert first.sample.metadata["index"] == 0  # extra_info merged into metadata
    assert second.sample.reference == "1"


def test_verl_responses_as_a_list_need_an_index(tmp_path: Path, pa: ModuleType, pq: ModuleType) -> None:
    rows = verl_rows()
    for row in rows:
        row["responses"] = ["first try", "second try"]
    path = tmp_path / "verl.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    items = list(open_dataset(path, preset="verl"))
    assert items[0].sample is None and "--response-col responses.0" in items[0].error
    picked = list(open_dataset(path, preset="verl", columns={"response": "responses.1"}))
    assert picked[0].sample.response == "second try"


def test_trl_conversational_jsonl(tmp_path: Path) -> None:
    rows = [
        {
            "prompt": [{"role": "user", "content": "2+2?"}],
            "completion": [{"role": "assistant", "content": "4"}],
            "solution": "4",
        }
    ]
    dataset = open_dataset(write_jsonl(tmp_path / "trl.jsonl", rows), preset="trl")
    (item,) = list(dataset)
    assert (item.sample.prompt, item.sample.response, item.sample.reference) == ("2+2?", "4", "4")


def test_hf_saved_dataset_and_splits(tmp_path: Path) -> None:
    hf = pytest.importorskip("datasets", reason=install_hint("datasets", "datasets"))
    rows = {"response": ["a", "b", "c"], "reference": ["a", "x", "c"], "id": ["r1", "r2", "r3"]}
    single = tmp_path / "single"
    hf.Dataset.from_dict(rows).save_to_disk(str(single))
    dataset = open_dataset(single)
    assert dataset.format == "hf" and dataset.count() == 3
    assert [(i.id, i.sample.response) for i in dataset] == [("r1", "a"), ("r2", "b"), ("r3", "c")]

    both = tmp_path / "dict"
    hf.DatasetDict({"train": hf.Dataset.from_dict(rows), "test": hf.Dataset.from_dict(rows)}).save_to_disk(str(both))
    with pytest.raises(DatasetError, match="has splits test, train; pick one with --split"):
        open_dataset(both)
    assert len(list(open_dataset(both, split="test", limit=2))) == 2
    with pytest.raises(DatasetError, match="no split 'dev'"):
        open_dataset(both, split="dev")


def test_hf_directory_of_data_files(tmp_path: Path, pa: ModuleType, pq: ModuleType) -> None:
    root = tmp_path / "snapshot"
    (root / "data").mkdir(parents=True)
    pq.write_table(
        pa.Table.from_pylist([{"response": "a", "reference": "a"}] * 3), root / "data" / "train-00000-of-00002.parquet"
    )
    pq.write_table(
        pa.Table.from_pylist([{"response": "b", "reference": "b"}] * 2), root / "data" / "train-00001-of-00002.parquet"
    )
    pq.write_table(pa.Table.from_pylist([{"response": "t", "reference": "t"}]), root / "data" / "test-00000.parquet")
    dataset = open_dataset(root, split="train")
    items = list(dataset)
    assert [i.sample.response for i in items] == ["a", "a", "a", "b", "b"]
    assert [i.id for i in items] == [f"snapshot:{n}" for n in range(5)]  # unique across files
    assert dataset.count() == 5
    assert len(list(open_dataset(root))) == 6
    with pytest.raises(DatasetError, match="holds no dataset"):
        open_dataset(tmp_path / "snapshot" / "data", fmt="hf", split="validation")


def test_ten_megabyte_response(tmp_path: Path) -> None:
    big = "x" * (10 * 1024 * 1024)
    path = write_jsonl(tmp_path / "big.jsonl", [{"response": big, "reference": "x"}, {"response": "y", "reference": "y"}])
    items = list(open_dataset(path))
    assert len(items[0].sample.response) == len(big)
    assert items[1].sample.response == "y"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=40).filter(lambda b: b"\n" not in b), max_size=8))
def test_any_bytes_give_one_record_per_non_blank_line(tmp_path_factory: pytest.TempPathFactory, lines: list[bytes]) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "f.jsonl"
    path.write_bytes(b"\n".join(lines))
    rows = list(read_records(path))
    expected = [line for line in lines if line.strip()]
    assert len(rows) == len(expected)
    for row in rows:
        assert (row.data is None) != (row.error is None)


def test_gzipped_jsonl(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "d.jsonl.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(b'{"response": "a", "reference": "a"}\n{"response": "b", "reference": "c"}\n')
    assert detect_format(path) == "jsonl"
    assert [i.sample.response for i in open_dataset(path)] == ["a", "b"]
    assert open_dataset(path).count() == 2
    path.write_bytes(path.read_bytes()[:30])  # truncated
    with pytest.raises(DatasetError, match="cannot read past line"):
        list(read_records(path))


def test_deeply_nested_json_is_a_bad_row_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_bytes(b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n" + b'{"response": "ok"}\n')
    rows = list(read_records(path))
    assert rows[0].error and "nested too deeply" in rows[0].error
    assert rows[1].data == {"response": "ok"}


def _no_doubled_words(message: str) -> bool:
    words = message.lower().split()
    return all(a != b for a, b in zip(words, words[1:]))


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{"response": "a\tb"}\n', "invalid JSON (invalid control character at column 16: a tab or line break inside a "
                                   "string must be written as \\t or \\n)"),  # was "Invalid control character at at column 16"
        ('{"response": "a", "reference": \n', "invalid JSON (expecting value at the end of the line)"),
        ('{"response": "abc\n', "invalid JSON (the line ends inside a string)"),  # a raw line break in a string
        ('{"response": "abc', "invalid JSON (unterminated string starting at column 14)"),  # the near miss: no \n
        ('{"response": "a"} x\n', "invalid JSON (extra data at column 19)"),
        ('{"response": "a\\q"}\n', "invalid JSON (invalid \\escape at column 16)"),
        ("{response: 1}\n", "invalid JSON (expecting property name enclosed in double quotes at column 2)"),
        (b'{"response": "\xff"}\n', "not valid UTF-8 (byte 0xff at column 15)"),
    ],
)
def test_a_malformed_line_names_file_and_line_and_reads_well(tmp_path: Path, line: str | bytes, problem: str) -> None:
    path = tmp_path / "data.jsonl"
    path.write_bytes(b'{"response": "ok"}\n' + (line if isinstance(line, bytes) else line.encode()))
    rows = list(read_records(path))
    assert rows[0].error is None and rows[1].data is None
    assert rows[1].error == f"{path}:2: {problem}"
    assert _no_doubled_words(problem) and "None" not in problem
    item = list(open_dataset(path, require_reference=False))[1]  # what becomes the ERROR record's reason
    assert item.sample is None and item.error == f"{path}:2: {problem}"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'[{"response": "a"},\n {"response": "a\tb"}]', "2: invalid JSON (invalid control character at column 17: "
                                                         "a tab or line break inside a string must be written as \\t or \\n)"),
        (b'[{"response": "a"},\n {"response": "b"}', "2: invalid JSON (expecting ',' delimiter at the end of the file)"),
        (b'[{"response": "a"},\n\n {"response": "\xff"}]', "3: not valid UTF-8 (byte 0xff at column 16)"),
    ],
)
def test_a_malformed_json_array_names_file_and_line(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "data.json"
    path.write_bytes(content)
    with pytest.raises(DatasetError) as caught:
        list(read_records(path))
    assert str(caught.value) == f"{path}:{problem}; the JSON array cannot be read"


@settings(deadline=None, max_examples=60)
@given(row=st.dictionaries(st.sampled_from(["response", "reference", "id"]), st.text(max_size=6), min_size=1),
       cut=st.integers(0, 60), insert=st.sampled_from(["", "\t", "\n", "\\", '"', ",", "}", "x", "\x00"]))  # fmt: skip
def test_any_broken_line_gets_a_readable_message(tmp_path_factory: pytest.TempPathFactory, row: dict, cut: int,
                                                 insert: str) -> None:  # fmt: skip
    text = json.dumps(row)
    broken = text[:cut] + insert + text[cut + 1 :]
    path = tmp_path_factory.mktemp("broken") / "data.jsonl"
    path.write_text('{"response": "ok"}\n' + broken + "\n", encoding="utf-8")
    for record in list(read_records(path))[1:]:
        if record.error is not None:
            assert record.error.startswith(f"{path}:") and record.error.endswith(")")
            assert _no_doubled_words(record.error) and "None" not in record.error, record.error
