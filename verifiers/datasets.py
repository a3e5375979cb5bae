"""Reading datasets into `Sample`s: JSON lines, parquet and Hugging Face dataset directories.

Three layers, each usable alone:
  `read_records(path)`   raw rows, one `RawRecord` each; a malformed row (bad JSON, non-UTF-8 bytes) is a
                         record with an `error` and its `location` ("file:line"), never an exception;
  `ColumnMap`, presets   where the response, reference, prompt, domain and id live in a row (dotted paths such
                         as `reward_model.ground_truth` reach into nested columns);
  `open_dataset(path)`   both together: checks the columns on the first good row (a `DatasetError` before
                         anything runs) and yields one `DatasetItem` per row, with a stable, unique-per-row id.

pyarrow and datasets are optional (`pip install 'verifier-suite[datasets]'`) and imported only when needed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import DatasetError
from .verdict import Sample

__all__ = [
    "FORMATS",
    "PRESETS",
    "ColumnMap",
    "Dataset",
    "DatasetItem",
    "Preset",
    "RawRecord",
    "detect_format",
    "detect_preset",
    "get_path",
    "has_path",
    "message_text",
    "open_dataset",
    "read_records",
    "resolve_columns",
    "verl_domain",
]

FORMATS = ("jsonl", "parquet", "hf")
INSTALL_HINT = "pip install 'verifier-suite[datasets]'"
_JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}
_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_SUFFIXES = {".parquet", ".pq"}
_BATCH_ROWS = 1024


# -- raw rows ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RawRecord:
    """One row as read: `data` when it parsed, else `error` saying why not. `index` counts rows from 0."""

    index: int
    location: str
    data: dict[str, Any] | None = None
    error: str | None = None


def detect_format(path: str | Path) -> str:
    """ "jsonl", "parquet" or "hf" from the path: a directory is "hf", else the suffix, else the magic bytes."""
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"dataset {str(path)!r} does not exist")
    if path.is_dir():
        return "hf"
    suffix = path.suffix.lower()
    if suffix == ".gz":
        suffix = Path(path.stem).suffix.lower() or ".jsonl"
    if suffix in _JSONL_SUFFIXES:
        return "jsonl"
    if suffix in _PARQUET_SUFFIXES:
        return "parquet"
    with open(path, "rb") as handle:
        magic = handle.read(4)
    return "parquet" if magic == b"PAR1" else "jsonl"


def read_records(
    path: str | Path, *, fmt: str | None = None, limit: int | None = None, split: str | None = None
) -> Generator[RawRecord, None, None]:
    """Yield the rows of a dataset file or directory, at most `limit` of them (malformed rows count).

    `fmt`: "jsonl", "parquet", "hf" or None/"auto" to detect. `split`: the split of a saved `DatasetDict`.
    Raises `DatasetError` when the dataset as a whole cannot be read (missing, unknown format, corrupt parquet).
    """
    path = Path(path)
    fmt = detect_format(path) if fmt in (None, "auto") else fmt
    if not path.exists():
        raise DatasetError(f"dataset {str(path)!r} does not exist")
    if fmt == "jsonl":
        rows = _read_jsonl(path, str(path), 0)
    elif fmt == "parquet":
        rows = _read_parquet(path, str(path), 0)
    elif fmt == "hf":
        rows = _read_hf(path, split)
    else:
        raise DatasetError(f"unknown dataset format {fmt!r}; formats: auto, {', '.join(FORMATS)}")
    if limit is not None and limit < 0:
        raise DatasetError(f"limit must be >= 0, got {limit}")
    try:
        for count, row in enumerate(rows):
            if limit is not None and count >= limit:
                break
            yield row
    finally:
        rows.close()  # the file now, not whenever the generator is collected


def _read_jsonl(path: Path, shown: str, start: int) -> Generator[RawRecord, None, None]:
    if path.is_dir():
        raise DatasetError(f"{shown!r} is a directory; use --format hf for a dataset directory")
    if path.suffix.lower() == ".json" and _starts_with(path, b"["):
        yield from _read_json_array(path, shown, start)
        return
    with _open_bytes(path) as handle:
        lines = enumerate(handle, 1)
        lineno = 0
        while True:
            try:
                lineno, raw = next(lines)
            except StopIteration:
                return
            except (OSError, EOFError) as exc:  # a truncated or corrupt .gz
                raise DatasetError(f"{shown}: cannot read past line {lineno} ({type(exc).__name__}: {exc})") from None
            if raw.strip():
                yield _parse_line(raw, lineno, f"{shown}:{lineno}", start)
                start += 1


def _json_problem(exc: json.JSONDecodeError, unit: str = "line") -> str:
    """What is wrong with a JSON text, for a message that already names the file and line: `invalid JSON
    (expecting value at column 7)`. `unit` ("line" or "file") is what the text is, for "at the end of the line"."""
    what = exc.msg[:1].lower() + exc.msg[1:]
    control = what.startswith("invalid control character")
    if not exc.doc[exc.pos :].strip():  # at the end: a cut-off record, or a line break inside a string
        if control:
            return f"invalid JSON (the {unit} ends inside a string)"
        return f"invalid JSON ({what.removesuffix(' at')} at the end of the {unit})"
    where = f"column {exc.colno}" if what.endswith(" at") else f"at column {exc.colno}"  # json's msg may end in "at"
    hint = ": a tab or line break inside a string must be written as \\t or \\n" if control else ""
    return f"invalid JSON ({what} {where}{hint})"


def _utf8_problem(data: bytes, exc: UnicodeDecodeError) -> tuple[int, str]:
    """The line of `data` where its UTF-8 breaks, and what is wrong there."""
    line = data.count(b"\n", 0, exc.start) + 1
    column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
    return line, f"not valid UTF-8 (byte 0x{data[exc.start : exc.start + 1].hex()} at column {column})"


def _parse_line(raw: bytes, lineno: int, location: str, index: int) -> RawRecord:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return RawRecord(index, location, error=f"{location}: {_utf8_problem(raw, exc)[1]}")
    if lineno == 1:
        text = text.lstrip("\ufeff")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return RawRecord(index, location, error=f"{location}: {_json_problem(exc)}")
    except RecursionError:
        return RawRecord(index, location, error=f"{location}: invalid JSON (nested too deeply)")
    if not isinstance(data, dict):
        return RawRecord(index, location, error=f"{location}: expected a JSON object, got {type(data).__name__}")
    return RawRecord(index, location, data=data)


def _open_bytes(path: Path) -> Any:
    """The file for reading bytes, decompressing a gzip file named `*.gz` (`data.jsonl.gz`) transparently."""
    with open(path, "rb") as handle:
        magic = handle.read(2)
    if magic == _GZIP_MAGIC and path.suffix.lower() == ".gz":
        import gzip

        return gzip.open(path, "rb")
    return open(path, "rb")


def _starts_with(path: Path, prefix: bytes) -> bool:
    with open(path, "rb") as handle:
        head = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(prefix)


def _read_json_array(path: Path, shown: str, start: int) -> Generator[RawRecord, None, None]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, problem = _utf8_problem(data, exc)
        raise DatasetError(f"{shown}:{line}: {problem}; the JSON array cannot be read") from None
    try:
        rows = json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        problem = _json_problem(exc, "file")
        raise DatasetError(f"{shown}:{exc.lineno}: {problem}; the JSON array cannot be read") from None
    for i, data in enumerate(rows):
        location = f"{shown}#{i}"
        if isinstance(data, dict):
            yield RawRecord(start + i, location, data=data)
        else:
            reason = f"expected a JSON object, got {type(data).__name__}"
            yield RawRecord(start + i, location, error=f"{location}: {reason}")


def _pyarrow_parquet() -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise DatasetError(f"reading parquet needs pyarrow: {INSTALL_HINT}") from None
    return pq


def _read_parquet(path: Path, shown: str, start: int) -> Generator[RawRecord, None, None]:
    pq = _pyarrow_parquet()
    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:
        raise DatasetError(f"{shown}: not a readable parquet file ({type(exc).__name__}: {exc})") from None
    index = start
    try:
        for batch in parquet.iter_batches(batch_size=_BATCH_ROWS):
            for data in batch.to_pylist():
                yield RawRecord(index, f"{shown}#{index - start}", data=data)
                index += 1
    except DatasetError:
        raise
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        raise DatasetError(f"{shown}: parquet read failed after {index - start} rows ({reason})") from None


_HF_MARKERS = ("dataset_info.json", "state.json", "dataset_dict.json")


def _hf_files(path: Path, split: str | None) -> list[Path]:
    """The data files of a dataset directory that is not a `save_to_disk` one (e.g. a hub snapshot)."""
    suffixes = _JSONL_SUFFIXES | _PARQUET_SUFFIXES
    files = sorted(
        p
        for p in path.rglob("*")
        if p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(path).parts)
        and (p.suffix.lower() in suffixes or p.name.lower().endswith((".jsonl.gz", ".json.gz")))
    )
    if split is not None:
        files = [p for p in files if split in p.relative_to(path).parts[:-1] or p.stem.startswith(split)]
    if not files:
        raise DatasetError(
            f"{str(path)!r} holds no dataset: expected a `save_to_disk` directory or parquet/jsonl files"
            + (f" for split {split!r}" if split else "")
        )
    return files


def _is_saved_dataset(path: Path) -> bool:
    return any((path / marker).exists() for marker in _HF_MARKERS)


def _read_hf(path: Path, split: str | None) -> Generator[RawRecord, None, None]:
    if path.is_file():
        raise DatasetError(f"{str(path)!r} is a file; --format hf expects a dataset directory")
    if _is_saved_dataset(path):
        yield from _read_saved_dataset(path, split)
        return
    index = 0
    for file in _hf_files(path, split):
        reader = _read_parquet if file.suffix.lower() in _PARQUET_SUFFIXES else _read_jsonl
        for row in reader(file, str(file), index):
            yield row
            index = row.index + 1


def _load_saved(path: Path, split: str | None) -> tuple[Any, str]:
    """The `datasets.Dataset` saved at `path` (one split of a `DatasetDict`) and how to name it in messages."""
    try:
        import datasets as hf
    except ImportError:
        raise DatasetError(f"reading a Hugging Face dataset directory needs datasets: {INSTALL_HINT}") from None
    try:
        loaded = hf.load_from_disk(str(path))
    except Exception as exc:
        raise DatasetError(f"{str(path)!r}: load_from_disk failed ({type(exc).__name__}: {exc})") from None
    shown = str(path)
    if isinstance(loaded, hf.DatasetDict):
        splits = sorted(loaded)
        if split is None and len(splits) == 1:
            split = splits[0]
        if split not in loaded:
            raise DatasetError(
                f"{shown!r} has splits {', '.join(splits)}; pick one with --split"
                if split is None
                else f"{shown!r} has no split {split!r}; splits: {', '.join(splits)}"
            )
        return loaded[split], f"{shown}[{split}]"
    if split is not None:
        raise DatasetError(f"{shown!r} is a single dataset without splits; drop --split")
    return loaded, shown


def _read_saved_dataset(path: Path, split: str | None) -> Generator[RawRecord, None, None]:
    loaded, shown = _load_saved(path, split)
    index = 0
    for batch in loaded.iter(batch_size=_BATCH_ROWS):
        columns = list(batch)
        size = len(batch[columns[0]]) if columns else 0
        for i in range(size):
            yield RawRecord(index, f"{shown}#{index}", data={c: batch[c][i] for c in columns})
            index += 1


def count_rows(path: str | Path, *, fmt: str | None = None, split: str | None = None) -> int | None:
    """How many rows `read_records` yields (without `limit`), for a progress bar; None when it cannot tell."""
    path = Path(path)
    try:
        fmt = detect_format(path) if fmt in (None, "auto") else fmt
        if fmt == "hf":
            if _is_saved_dataset(path):
                return len(_load_saved(path, split)[0])
            counts = [count_rows(f, split=None) for f in _hf_files(path, split)]
            return None if None in counts else sum(c for c in counts if c is not None)
        if fmt == "parquet":
            return int(_pyarrow_parquet().ParquetFile(path).metadata.num_rows)
        if fmt == "jsonl":
            if path.suffix.lower() == ".json" and _starts_with(path, b"["):
                return None
            with _open_bytes(path) as handle:
                return sum(1 for line in handle if line.strip())
    except Exception:  # a corrupt or unreadable dataset: read_records reports it properly
        return None
    return None


# -- columns ----------------------------------------------------------------------------------------------

_MISSING = object()


def _is_index(part: str, size: int) -> bool:
    return re.fullmatch(r"-?\d+", part) is not None and -size <= int(part) < size


def _lookup(record: Mapping[str, Any], path: str) -> Any:
    """The value at `path`, or `_MISSING`."""
    if path in record:
        return record[path]
    value: Any = record
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, (list, tuple)) and _is_index(part, len(value)):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def get_path(record: Mapping[str, Any], path: str, *default: Any) -> Any:
    """The value at a dotted `path` ("reward_model.ground_truth", "responses.0").

    A literal key with the full dotted name wins (flattened tables). When absent: `default` if given, else
    KeyError.
    """
    value = _lookup(record, path)
    if value is _MISSING:
        if default:
            return default[0]
        raise KeyError(path)
    return value


def has_path(record: Mapping[str, Any], path: str) -> bool:
    return _lookup(record, path) is not _MISSING


def message_text(value: Any, role: str) -> str | None:
    """Plain text from a column that may hold a chat: a string stays as is; a list of `{"role", "content"}`
    messages gives the content of the last `role` message (else of the last message); content given as a list
    of parts gives their text joined. None stays None. Raises ValueError for shapes that are not text.
    """
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, Mapping):
        if "content" in value:
            return _content_text(value["content"])
        raise ValueError(f"a mapping without 'content' (keys: {', '.join(sorted(map(str, value)))})")
    if isinstance(value, (list, tuple)):
        if not value:
            return ""
        if all(isinstance(m, Mapping) and "content" in m for m in value):
            chosen = [m for m in value if m.get("role") == role] or list(value)
            return _content_text(chosen[-1]["content"])
        raise ValueError(f"a list of {len(value)} {type(value[0]).__name__} values, not a chat")
    if isinstance(value, (int, float, bool)):
        return str(value)
    raise ValueError(f"a {type(value).__name__}, not text")


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, (list, tuple)):  # multimodal parts: [{"type": "text", "text": ...}]
        parts = [p.get("text") or "" if isinstance(p, Mapping) else str(p) for p in content]
        return "\n".join(p for p in parts if p)
    return str(content)


# verl's `data_source` names a dataset, not a domain; past verl's own names (`VERL_SOURCES`), these keywords
# (matched against the start of each word of the lower-cased name; a three-letter one only alone or before digits)
# say which domain's cascade checks it. Anything else is routed by its reference.
VERL_SOURCE_DOMAINS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("lean", "minif2f", "proofnet", "putnambench"), "lean"),
    (
        ("code", "apps", "taco", "primeintellect", "livecodebench", "humaneval", "mbpp", "kodcode"),
        "code",
    ),
    (("gsm8k", "gsmplus", "math", "aime", "amc", "olympiad", "numina", "deepscaler", "dapo", "minerva", "gsm"), "math"),
    (("mmlu", "gpqa", "arc", "commonsenseqa", "hellaswag", "multiple_choice"), "multiple_choice"),
)


VERL_SOURCES: dict[str, str] = {
    **dict.fromkeys(["openai/gsm8k", "lighteval/MATH", "DigitalLearningGmbH/MATH-lighteval", "HuggingFaceH4/MATH-500",
                     "math_dapo", "math_dapo_reasoning", "numina_aops_forum", "numina_synthetic_math",
                     "numina_amc_aime", "numina_synthetic_amc", "numina_cn_k12", "numina_olympiads",
                     "hiyouga/geometry3k"], "math"),
    **dict.fromkeys(["codecontests", "apps", "codeforces", "taco"], "code"),
    **dict.fromkeys(["searchR1_nq", "searchR1_triviaqa", "searchR1_popqa", "searchR1_hotpotqa",
                     "searchR1_2wikimultihopqa", "searchR1_musique", "searchR1_bamboogle"], "text"),
}  # fmt: skip
"""Every `data_source` that verl's `default_compute_score` scores (verl 0.9), and the domain that checks it here
("math" is a domain name itself; names starting with "aime" go by keyword)."""


def verl_domain(data_source: Any, known_domains: Sequence[str] = ()) -> str | None:
    """The domain for a verl `data_source`: itself when it is a known domain, else verl's own name for it
    (`VERL_SOURCES`), else by keyword, else None."""
    if data_source is None:
        return None
    source = str(data_source).strip()
    if source in known_domains:
        return source
    if source in VERL_SOURCES:
        return VERL_SOURCES[source]
    words = [w for w in re.split(r"[^a-z0-9]+", source.lower()) if w]
    for keywords, domain in VERL_SOURCE_DOMAINS:
        if any(_keyword_word(w, k) for w in words for k in keywords):
            return domain
    return None


def _keyword_word(word: str, keyword: str) -> bool:
    """Whether `word` is `keyword`'s: starts with it, and a short keyword (three letters: arc, amc, gsm) only with
    digits after it ("amc12"), so "archer" or "archive" is not ARC."""
    if not word.startswith(keyword):
        return False
    rest = word[len(keyword) :]
    return len(keyword) > 3 or not rest or rest.isdigit()


@dataclass(frozen=True)
class ColumnMap:
    """Where each part of a `Sample` lives in a row. Paths may be dotted; None means "not in this dataset".

    `metadata` columns are merged into `Sample.metadata` (a mapping value is merged key by key, anything else
    is stored under the column name). `verl_sources`: the domain column holds verl `data_source` names,
    translated with `verl_domain` (the raw name is kept as `metadata["data_source"]`).
    """

    response: str = "response"
    reference: str | None = "reference"
    prompt: str | None = None
    domain: str | None = None
    id: str | None = None
    metadata: tuple[str, ...] = ()
    verl_sources: bool = False

    def describe(self) -> str:
        parts = [f"response={self.response}", f"reference={self.reference or '(none)'}"]
        for name in ("prompt", "domain", "id"):
            if getattr(self, name):
                parts.append(f"{name}={getattr(self, name)}")
        if self.metadata:
            parts.append(f"metadata={','.join(self.metadata)}")
        return " ".join(parts)


@dataclass(frozen=True)
class Preset:
    """A layout people have: candidate columns per field, the first present in the first row is used."""

    name: str
    response: tuple[str, ...]
    reference: tuple[str, ...]
    prompt: tuple[str, ...] = ()
    domain: tuple[str, ...] = ()
    id: tuple[str, ...] = ("id",)
    metadata: tuple[str, ...] = ()
    verl_sources: bool = False
    description: str = ""


PRESETS: dict[str, Preset] = {
    "plain": Preset(
        "plain",
        response=("response",),
        reference=("reference",),
        prompt=("prompt",),
        domain=("domain",),
        metadata=("metadata",),
        description="response / reference (+ optional prompt, domain, id, metadata)",
    ),
    "verl": Preset(
        "verl",
        response=("responses", "response", "solution_str", "completion", "output"),
        reference=("reward_model.ground_truth",),
        prompt=("prompt",),
        domain=("data_source",),
        metadata=("extra_info",),
        verl_sources=True,
        description="verl parquet: reward_model.ground_truth, data_source, chat prompt, a responses column",
    ),
    "trl": Preset(
        "trl",
        response=("completion",),
        reference=("solution", "answer", "ground_truth", "reference"),
        prompt=("prompt",),
        domain=("domain",),
        description="TRL: prompt / completion / solution (plain text or conversational)",
    ),
}
FIELDS = ("response", "reference", "prompt", "domain", "id")


def detect_preset(record: Mapping[str, Any]) -> str | None:
    """The preset whose layout the row has, or None."""
    if has_path(record, "reward_model.ground_truth"):
        return "verl"
    if "completion" in record:
        return "trl"
    if "response" in record:
        return "plain"
    return None


def _columns_present(record: Mapping[str, Any]) -> str:
    return ", ".join(sorted(map(str, record))) or "(none)"


def resolve_columns(
    preset: str,
    record: Mapping[str, Any] | None,
    overrides: Mapping[str, str | None] | None = None,
    *,
    require_reference: bool = True,
) -> ColumnMap:
    """The column map for a dataset whose first good row is `record`.

    `preset`: "auto", "plain", "verl" or "trl". `overrides`: field -> column chosen by the user; it must exist
    in `record`, and "" or None means "no such column" (not allowed for the response). The response column, and
    the reference column unless `require_reference` is false (a chosen verifier that may need none), must be in
    `record`; optional ones (prompt, domain, id, metadata) are looked up per row. Raises
    `DatasetError` naming the missing column and the columns present. With no row to look at (an empty or
    all-malformed file) the preset's first candidates are used unchecked.
    """
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(FIELDS) - {"metadata"})
    if unknown:
        raise DatasetError(f"unknown column field(s) {unknown}; fields: {', '.join(FIELDS)}, metadata")
    if preset == "auto":
        chosen = (detect_preset(record) if record is not None else None) or "plain"
        if record is not None and detect_preset(record) is None and "response" not in overrides:
            raise DatasetError(
                f"cannot tell the layout of the dataset from its columns ({_columns_present(record)}); "
                f"pick --preset ({', '.join(PRESETS)}) or name the columns with --response-col/--reference-col"
            )
    elif preset in PRESETS:
        chosen = preset
    else:
        raise DatasetError(f"unknown preset {preset!r}; presets: auto, {', '.join(PRESETS)}")
    spec = PRESETS[chosen]
    resolved: dict[str, Any] = {}
    for name in FIELDS:
        candidates: tuple[str, ...] = getattr(spec, name)
        required = name == "response" or (name == "reference" and require_reference)
        if name in overrides:
            column = overrides[name]
            if not column:
                if name == "response":
                    raise DatasetError("the response column cannot be empty")
                resolved[name] = None
                continue
            if record is not None and not has_path(record, column):
                raise DatasetError(
                    f"column {column!r} (the {name}) is not in the dataset; columns present: {_columns_present(record)}"
                )
            resolved[name] = column
            continue
        if record is None:
            resolved[name] = candidates[0] if candidates else None
            continue
        found = next((c for c in candidates if has_path(record, c)), None)
        if found is None and not required and name != "reference":
            found = candidates[0] if candidates else None  # rows without it simply have none
        if found is None and required:
            looked = " or ".join(repr(c) for c in candidates)
            raise DatasetError(
                f"no {name} column: looked for {looked} (preset {chosen}); columns present: "
                f"{_columns_present(record)}; name it with --{name}-col"
                + (" (or --reference-col '' for none)" if name == "reference" else "")
            )
        resolved[name] = found
    if "metadata" in overrides:
        meta_cols = tuple(c.strip() for c in str(overrides["metadata"] or "").split(",") if c.strip())
    else:
        meta_cols = spec.metadata
    verl_sources = spec.verl_sources and resolved["domain"] is not None
    return ColumnMap(**resolved, metadata=meta_cols, verl_sources=verl_sources)


# -- samples ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetItem:
    """One row ready to verify: its `sample`, or the `error` that makes it unverifiable (reported, not raised)."""

    id: str
    location: str
    sample: Sample | None = None
    error: str | None = None


def default_id(name: str, index: int) -> str:
    """The id of a row that gives none: `<dataset name>:<row index>` (`verifiers.jobs` keeps given ids apart)."""
    return f"{name}:{index}"


def to_item(raw: RawRecord, columns: ColumnMap, stem: str, known_domains: Sequence[str] = ()) -> DatasetItem:
    """Turn a raw row into a `DatasetItem` with the column map; problems become the item's `error`."""
    item_id = default_id(stem, raw.index)
    if raw.error is not None or raw.data is None:
        return DatasetItem(item_id, raw.location, error=raw.error or f"{raw.location}: empty row")
    row = raw.data
    if columns.id:
        value = get_path(row, columns.id, None)
        if value is not None and str(value) != "":
            item_id = str(value)

    def fail(reason: str) -> DatasetItem:
        return DatasetItem(item_id, raw.location, error=f"{raw.location}: {reason}")

    if not has_path(row, columns.response):
        return fail(f"no column {columns.response!r} (the response); columns present: {_columns_present(row)}")
    try:
        response = message_text(get_path(row, columns.response), "assistant")
    except ValueError as exc:
        return fail(
            f"response column {columns.response!r} holds {exc}; pick one entry, e.g. --response-col "
            f"{columns.response}.0"
        )
    reference = None
    if columns.reference:
        if not has_path(row, columns.reference):
            return fail(f"no column {columns.reference!r} (the reference); columns present: {_columns_present(row)}")
        reference = get_path(row, columns.reference)
    prompt = None
    if columns.prompt:
        try:
            prompt = message_text(get_path(row, columns.prompt, None), "user")
        except ValueError:
            prompt = json.dumps(get_path(row, columns.prompt), ensure_ascii=False, default=str)
    metadata: dict[str, Any] = {}
    for column in columns.metadata:
        value = get_path(row, column, None)
        if isinstance(value, Mapping):
            metadata.update({str(k): v for k, v in value.items()})
        elif value is not None:
            metadata[column] = value
    domain = None
    if columns.domain:
        raw_domain = get_path(row, columns.domain, None)
        if columns.verl_sources:
            if raw_domain is not None:
                metadata.setdefault("data_source", raw_domain)
            domain = verl_domain(raw_domain, known_domains)
        elif raw_domain is not None and str(raw_domain).strip():
            domain = str(raw_domain).strip()
    try:
        sample = Sample(response or "", reference, prompt=prompt, domain=domain, metadata=metadata, id=item_id)
    except (TypeError, ValueError) as exc:
        return fail(f"cannot build a sample: {exc}")
    return DatasetItem(item_id, raw.location, sample=sample)


class Dataset:
    """A dataset opened for verification: the column map is checked on open, iteration yields `DatasetItem`s.

    Iterating reads the source again each time (nothing is held in memory). Ids come from the id column when
    there is one, else `"<name>:<row index>"` (stable across runs, so a run can resume by id).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        fmt: str | None = None,
        preset: str = "auto",
        columns: Mapping[str, str | None] | None = None,
        split: str | None = None,
        limit: int | None = None,
        require_reference: bool = True,
    ) -> None:
        self.path = Path(path)
        self.format = detect_format(self.path) if fmt in (None, "auto") else fmt
        if self.format not in FORMATS:
            raise DatasetError(f"unknown dataset format {fmt!r}; formats: auto, {', '.join(FORMATS)}")
        self.split = split
        self.limit = limit
        self.name = self.path.stem if self.path.is_file() else self.path.name
        rows = self._raw()
        try:
            first = next((r.data for r in rows if r.data is not None), None)
        finally:
            rows.close()
        self.columns = resolve_columns(preset, first, columns, require_reference=require_reference)
        if preset == "auto":
            preset = (detect_preset(first) if first is not None else None) or "plain"
        self.preset = preset
        self._known_domains: tuple[str, ...] | None = None

    def _raw(self) -> Generator[RawRecord, None, None]:
        return read_records(self.path, fmt=self.format, limit=self.limit, split=self.split)

    def known_domains(self) -> tuple[str, ...]:
        if self._known_domains is None:
            from .plugins import list_domains

            self._known_domains = tuple(list_domains())
        return self._known_domains

    def __iter__(self) -> Iterator[DatasetItem]:
        known = self.known_domains() if self.columns.verl_sources else ()
        for raw in self._raw():
            yield to_item(raw, self.columns, self.name, known)

    def count(self) -> int | None:
        """The number of rows iteration yields, when it can be told without reading them all; else None."""
        total = count_rows(self.path, fmt=self.format, split=self.split)
        if total is None:
            return None
        return min(total, self.limit) if self.limit is not None else total

    def __repr__(self) -> str:
        return f"<Dataset {str(self.path)!r} format={self.format} preset={self.preset} {self.columns.describe()}>"


def open_dataset(path: str | Path, **options: Any) -> Dataset:
    """Open a dataset for verification: `Dataset(path, **options)`.

    Raises `DatasetError` before anything runs when the data cannot be read or lacks the columns asked for;
    `require_reference=False` accepts a dataset without a reference column (for a chosen verifier that needs
    none: format, length).
    """
    return Dataset(path, **options)
