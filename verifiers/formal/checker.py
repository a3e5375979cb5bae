"""Check many Lean snippets with few Lean processes.

Snippets go into one file per batch, behind the verifier's trusted prelude (`lean/AuditPrelude.lean`), each as a
string handed to the prelude's `#snippet` command: Lean parses it, refuses syntax outside the allowlist
(`lean/AllowedSyntax.txt`), elaborates it from the header's environment, re-checks every declaration it added
with the kernel, lists their axioms and restores the environment, so no snippet sees another. Lean runs
once per batch and prints one record per snippet (tagged with a per-run nonce, at the command's own line). A
theorem counts as proved only when its snippet's record says so and every axiom is allowed; no record means
unchecked, never proved.

Lean elaborates a file in order and prints each command's messages as it finishes, so a watchdog sees progress
snippet by snippet: when a batch stops making progress (wall-clock timeout), runs out of memory or crashes, the
snippets already audited keep their results and the rest go to a new batch. A snippet that stalls after Lean's
start-up gets TIMEOUT at once; after a crash, a memory kill or a whole-batch deadline the snippet in progress is
retried alone (and then gets TIMEOUT or ERROR).
"""

from __future__ import annotations

import functools
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any

from verifiers.formal.source import (
    LeanSyntaxError,
    PolicyViolation,
    check_balanced,
    check_name,
    check_policy,
    indent,
    parse_statement,
    proof_body,
    split_declarations,
    tokenize,
)
from verifiers.formal.toolchain import (
    LeanUnavailable,
    Toolchain,
    find_toolchain,
    manifest_dir,
)

ALLOWED_AXIOMS = frozenset({"propext", "Classical.choice", "Quot.sound"})
"""The only axioms a proof may depend on."""

FORBIDDEN_AXIOMS = frozenset(
    {"sorryAx", "Lean.ofReduceBool", "Lean.ofReduceNat", "Lean.trustCompiler", "Lean.reduceBool", "Lean.reduceNat"}
)
"""Library constants that mean "not proved": sorry and trust in the compiler (native_decide)."""


class Outcome(str, Enum):
    PROVED = "proved"
    FAILED = "failed"  # Lean reported an error, or the proof depends on a forbidden axiom
    REJECTED = "rejected"  # refused by the source policy before Lean ran
    TIMEOUT = "timeout"
    ERROR = "error"  # infrastructure: Lean crashed, ran out of memory, or printed no record for the snippet


class Mode(int, Enum):
    """How the prelude's `#snippet` command treats a snippet (the numbers are the prelude's)."""

    THEOREM = 0  # exactly one `theorem thm`, written by the verifier from a statement and a proof
    PLACEHOLDER = 1  # the same with the verifier's own `sorry`: does the statement elaborate?
    CODE = 2  # a complete snippet: theorems, definitions and plain `open`s


@dataclass(frozen=True)
class Snippet:
    """One unit of checking: a theorem the verifier writes from (statement, proof), or a complete snippet.

    `hypotheses` are (name, proposition) pairs added as binders before the statement's own (earlier proof steps).
    With `placeholder=True` the proof is the verifier's own `sorry`: the result says only whether the statement
    elaborates (PROVED here means "well-formed"), and the audit accepts `sorryAx` for it.
    """

    statement: str | None = None
    proof: str | None = None
    code: str | None = None
    hypotheses: tuple[tuple[str, str], ...] = ()
    placeholder: bool = False

    def __post_init__(self) -> None:
        if self.code is not None:
            if self.statement is not None or self.proof is not None or self.hypotheses or self.placeholder:
                raise ValueError("a Snippet with complete code takes no statement, proof or hypotheses")
        elif self.statement is None:
            raise ValueError("a Snippet needs a statement (with a proof or placeholder=True) or complete code")
        elif (self.proof is None) != self.placeholder:
            raise ValueError("a Snippet with a statement needs exactly one of a proof and placeholder=True")


@dataclass(frozen=True)
class Message:
    severity: str
    line: int  # 1-based, in the snippet as checked (see SnippetResult.source)
    column: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "line": self.line, "column": self.column, "text": self.text}


@dataclass(frozen=True)
class SnippetResult:
    outcome: Outcome
    reason: str = ""
    messages: tuple[Message, ...] = ()
    axioms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    source: str = ""
    """The snippet as checked (for a statement and a proof: with the verifier's header)."""

    @property
    def first_error(self) -> str | None:
        return next((m.text for m in self.messages if m.severity == "error"), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "reason": self.reason,
            "messages": [m.to_dict() for m in self.messages],
            "axioms": {k: list(v) for k, v in self.axioms.items()},
            "source": self.source,
        }


@dataclass
class _Prepared:
    index: int
    source: str  # the snippet, as Lean checks it
    mode: Mode
    assign: int = 0  # THEOREM/PLACEHOLDER: the UTF-8 byte offset of the verifier's own `:=` in `source`

    @property
    def placeholder(self) -> bool:
        return self.mode is Mode.PLACEHOLDER


@dataclass
class _Span:
    prepared: _Prepared
    first_line: int  # the line of its `#snippet` command in the file (1-based): where the record is printed


@dataclass
class _Run:
    messages: list[dict[str, Any]]
    returncode: int | None
    killed: str | None  # "stall" (the snippet in progress made no progress), "timeout", "memory" or None
    stderr: str


MAX_NESTING = 200
"""Brackets nested deeper than this are refused before Lean runs (deep nesting overflows the WebAssembly stack)."""

MAX_CHARS = 200_000
"""A snippet longer than this (statement, hypotheses and proof, or the whole code, together) is refused before Lean
runs: real proofs are a few kilobytes, and Lean would spend tens of seconds parsing megabytes of junk."""


def _prepare(index: int, snippet: Snippet) -> _Prepared | SnippetResult:
    """The snippet as Lean will check it, or the reason the Python pre-filter refuses it. The pre-filter is a first
    gate only (cheap, clear messages); what runs is decided by the prelude on Lean's own parse."""
    size = sum(len(text) for text in _texts(snippet))
    if size > MAX_CHARS:
        return SnippetResult(Outcome.REJECTED, f"the snippet is {size:,} characters long; the limit is {MAX_CHARS:,}")
    snippet = _with_lf(snippet)  # Lean reads CRLF as LF: the byte offset of the verifier's `:=` must agree
    for text in _texts(snippet):
        if not _is_encodable(text):
            return SnippetResult(Outcome.REJECTED, "the text is not valid Unicode (it contains lone surrogates)")
        if "\x00" in text:
            return SnippetResult(Outcome.REJECTED, "the text contains a NUL character")
        if _nesting(text) > MAX_NESTING:
            return SnippetResult(Outcome.REJECTED, f"brackets are nested deeper than {MAX_NESTING} levels")
    try:
        if snippet.code is None:
            assert snippet.statement is not None
            statement = parse_statement(snippet.statement)
            for name, prop in snippet.hypotheses:
                check_name(name, "hypothesis name")
                check_policy(tokenize(prop), what="hypothesis")
                check_balanced(tokenize(prop), "hypothesis")
            # Every part ends its line, so a trailing `--` comment in a statement cannot swallow what follows; the
            # prelude also checks that the theorem's `:=` is this one (at byte `assign`).
            hyps = "".join(f"({name} : {prop}\n) " for name, prop in snippet.hypotheses)
            binders = f"{statement.binders}\n" if statement.binders else ""
            header = f"theorem thm {hyps}{binders}: {statement.proposition}\n"
            body = "sorry" if snippet.placeholder else proof_body(snippet.proof or "")
            mode = Mode.PLACEHOLDER if snippet.placeholder else Mode.THEOREM
            return _Prepared(index, f"{header}:=\n{indent(body)}", mode, len(header.encode("utf-8")))
        decls = split_declarations(snippet.code)
    except (PolicyViolation, LeanSyntaxError) as exc:
        return SnippetResult(Outcome.REJECTED, str(exc))
    if not any(d.keyword == "theorem" and d.name for d in decls):
        return SnippetResult(Outcome.REJECTED, "the snippet declares no theorem to check")
    return _Prepared(index, "\n".join(d.text for d in decls), Mode.CODE)


def _texts(snippet: Snippet) -> list[str]:
    """Every piece of source text the snippet has."""
    pieces = [snippet.statement, snippet.proof, snippet.code, *(t for pair in snippet.hypotheses for t in pair)]
    return [text for text in pieces if text is not None]


def _with_lf(snippet: Snippet) -> Snippet:
    def lf(text: str | None) -> str | None:
        return None if text is None else text.replace("\r\n", "\n").replace("\r", "\n")

    return replace(
        snippet,
        statement=lf(snippet.statement),
        proof=lf(snippet.proof),
        code=lf(snippet.code),
        hypotheses=tuple((name, lf(prop) or "") for name, prop in snippet.hypotheses),
    )


def _nesting(text: str) -> int:
    """The deepest bracket nesting of `text`, counted on raw characters (comments and strings included: the
    count only has to be an upper bound)."""
    depth = deepest = 0
    for ch in text:
        if ch in "([{⟨⦃":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}⟩⦄":
            depth = max(0, depth - 1)
    return deepest


def _is_encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@functools.cache
def allowed_syntax() -> tuple[str, ...]:
    """The syntax node kinds a snippet may use (`lean/AllowedSyntax.txt`, one per line, `#` comments)."""
    text = (manifest_dir() / "AllowedSyntax.txt").read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def _lean_string_body(text: str) -> str:
    """`text` escaped for the inside of a Lean string literal."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@functools.cache
def _prelude_template(kind: str) -> str:
    text = (manifest_dir() / "AuditPrelude.lean").read_text(encoding="utf-8")
    # The WebAssembly build elaborates every file as a `module`, where definitions run at elaboration time need
    # `meta`; a native Lean elaborates a plain file classically, where they need nothing.
    text = text.replace("__META__", "meta " if kind == "wasm" else "")
    text = text.replace("__KINDS__", _lean_string_body("\n".join(allowed_syntax())))
    return text.replace("__AXIOMS__", _lean_string_body("\n".join(sorted(ALLOWED_AXIOMS | FORBIDDEN_AXIOMS))))


def _prelude(nonce: str, toolchain: Toolchain) -> str:
    return _prelude_template(toolchain.kind).replace("__NONCE__", nonce)


def _raw_string(text: str) -> str:
    """`text` as a Lean raw string literal, with more `#`s than any run of them after a `"` in the text."""
    hashes = "#" * (max((len(m.group(1)) for m in re.finditer(r'"(#*)', text)), default=0) + 1)
    return f'r{hashes}"{text}"{hashes}'


def lean_options(toolchain: Toolchain) -> list[str]:
    """Command-line options for a batch run: no silent stop after 100 errors, commands elaborated in order (so
    messages stream snippet by snippet). Older native versions that lack an option simply do not get it."""
    m = re.search(r"version (\d+)\.(\d+)", toolchain.version)
    version = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    options = []
    if version >= (4, 12):
        options.append("-DmaxErrors=1000000")
    if version >= (4, 19):
        options.append("-DElab.async=false")
    return options


def _render(
    prepared: Sequence[_Prepared], nonce: str, toolchain: Toolchain, heartbeats: int
) -> tuple[str, list[_Span]]:
    lines = _prelude(nonce, toolchain).rstrip("\n").split("\n")
    spans: list[_Span] = []
    for p in prepared:
        command = f"#snippet_{nonce} {p.index} {p.mode.value} {heartbeats} {p.assign} {_raw_string(p.source)}"
        spans.append(_Span(p, len(lines) + 1))
        lines.extend(command.split("\n"))
    return "\n".join(lines) + "\n", spans


_RECORD = re.compile(r"^SNIPPET (\w+) (\d+) (\{.*\})\s*$", re.DOTALL)


def _record(msg: dict[str, Any], nonce: str, span: _Span) -> dict[str, Any] | None:
    """The prelude's record for this span's snippet, if `msg` is one: an information message at the command's own
    line, tagged with the run's nonce and the snippet's index."""
    line = (msg.get("pos") or {}).get("line")
    if msg.get("severity") != "information" or line != span.first_line:
        return None
    m = _RECORD.match(str(msg.get("data", "")))
    if m is None or m.group(1) != nonce or int(m.group(2)) != span.prepared.index:
        return None
    try:
        record = json.loads(m.group(3))
    except json.JSONDecodeError:
        return None
    return record if isinstance(record, dict) and record.get("status") in ("ok", "failed", "rejected") else None


def _judge_axioms(entries: Sequence[str]) -> str | None:
    """The reason the axiom list is unacceptable, or None. An entry is `name:kind:origin`."""
    for entry in entries:
        name, _, rest = entry.rpartition(":")
        name, _, kind = name.rpartition(":")
        origin = rest
        plain = re.sub(r"^_private\.[\w.]*?\.0\.", "", name)
        if plain in ALLOWED_AXIOMS:
            continue
        if plain in FORBIDDEN_AXIOMS:
            return f"depends on `{plain}`" + (" (sorry)" if plain == "sorryAx" else " (trusts the compiler)")
        if origin != "imported":
            return f"depends on `{plain}`, a {kind} declared outside the trusted library"
        # an imported library theorem (its own proof is not loaded in module mode): trusted
    return None


def _evaluate(span: _Span, messages: list[dict[str, Any]], nonce: str) -> SnippetResult | None:
    """The snippet's result, or None when Lean printed no record for it (unchecked)."""
    records = [record for msg in messages if (record := _record(msg, nonce, span)) is not None]
    if len(records) != 1:  # none: unchecked; several: something printed a second one, trust neither
        return None
    record = records[0]
    prepared = span.prepared
    mine = tuple(
        Message(str(m[0]), int(m[1]), int(m[2]), str(m[3]))
        for m in record.get("messages") or []
        if isinstance(m, list) and len(m) == 4
    )
    # (name, axiom entries, declared as a theorem by the snippet); the others are listed for their axioms. A list,
    # not a mapping: two declarations may show the same name (a private one and a public one).
    audited = [
        (str(t[0]), tuple(str(e) for e in t[1]), t[2] is True)
        for t in record.get("theorems") or []
        if isinstance(t, list) and len(t) == 3 and isinstance(t[1], list)
    ]
    theorems = {name for name, _, declared in audited if declared}
    axioms: dict[str, tuple[str, ...]] = {}
    for name, entries, _ in audited:
        axioms[name] = axioms.get(name, ()) + tuple(e.split(":")[0] for e in entries)
    axioms = {name: names for name, names in axioms.items() if names}
    reason = str(record.get("reason") or "")
    if record["status"] == "rejected":
        return SnippetResult(Outcome.REJECTED, reason, mine, axioms, prepared.source)
    errors = [m for m in mine if m.severity == "error"]
    if record["status"] == "failed":
        return SnippetResult(
            Outcome.FAILED, reason or (errors[0].text if errors else "not proved"), mine, axioms, prepared.source
        )
    if errors:  # an "ok" record never carries errors; refuse rather than trust a record that contradicts itself
        return SnippetResult(Outcome.FAILED, errors[0].text, mine, axioms, prepared.source)
    if not theorems or (prepared.mode is not Mode.CODE and "thm" not in theorems):
        return SnippetResult(Outcome.FAILED, "no theorem was added to the environment", mine, axioms, prepared.source)
    for name, entries, _ in audited:
        judged = None if prepared.placeholder else _judge_axioms(entries)
        if judged is not None:
            return SnippetResult(Outcome.FAILED, f"`{name}` {judged}", mine, axioms, prepared.source)
    return SnippetResult(Outcome.PROVED, "", mine, axioms, prepared.source)


def process_memory_mb(pid: int | None, field: str = "VmRSS") -> float:
    """A process's memory from /proc/PID/status (`VmRSS` now, `VmHWM` its peak), in MB; 0 when unknown."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class LeanChecker:
    """Checks snippets in batch files, with a pool of Lean processes, timeouts, a memory cap and retries.

    `timeout` is the wall-clock budget of one snippet: a batch is killed when no snippet finishes for that long
    (after `startup_timeout` for the imports), and in any case after `startup_timeout + timeout * snippets`.
    `memory_mb` caps each Lean process's resident memory.
    With `persistent=True` (WebAssembly only), batches of at most `persistent_max_snippets` go to a warm
    `LeanWorker` (~0.2 s per snippet instead of ~8-10 s of start-up, but ~7 GB per worker process).
    """

    def __init__(
        self,
        toolchain: Toolchain | None = None,
        *,
        batch_size: int = 400,
        processes: int | None = None,
        timeout: float = 60.0,
        startup_timeout: float = 180.0,
        memory_mb: int = 6144,
        heartbeats: int = 200_000,
        persistent: bool = False,
        persistent_max_snippets: int = 8,
    ) -> None:
        self._toolchain = toolchain
        self.batch_size = batch_size
        # A Lean process keeps about two cores busy (its helper threads): on 2 cores a second process in
        # parallel was measured slower than one process doing both batches in turn.
        self.processes = processes or max(1, (os.cpu_count() or 2) // 2)
        self.timeout = timeout
        self.startup_timeout = startup_timeout
        self.memory_mb = memory_mb
        self.heartbeats = heartbeats
        self.persistent = persistent
        self.persistent_max_snippets = persistent_max_snippets
        self._worker: Any = None
        self._worker_lock = threading.Lock()
        self._worker_nonce = secrets.token_hex(8)
        self.worker_failures: list[str] = []  # why persistent-worker runs failed (each was redone by a process)
        self.runs = 0  # Lean processes started (for tests and benchmarks)
        self.peak_rss_mb = 0.0
        # Lean's verdict on a given text is deterministic: remember PROVED/FAILED ones (GRPO groups repeat answers).
        self._memo: OrderedDict[str, SnippetResult] = OrderedDict()
        self._memo_lock = threading.Lock()
        self.memo_size = 4096

    @property
    def toolchain(self) -> Toolchain:
        if self._toolchain is None:
            self._toolchain = find_toolchain()
        return self._toolchain

    def check(self, snippets: Sequence[Snippet]) -> list[SnippetResult]:
        results: list[SnippetResult | None] = [None] * len(snippets)
        pending: list[_Prepared] = []
        keys: dict[int, str] = {}
        for i, snippet in enumerate(snippets):
            prepared = _prepare(i, snippet)
            if isinstance(prepared, SnippetResult):
                results[i] = prepared
                continue
            keys[i] = f"{prepared.mode.value}\0{prepared.assign}\0{prepared.source}"
            with self._memo_lock:
                if keys[i] in self._memo:
                    self._memo.move_to_end(keys[i])
                    results[i] = self._memo[keys[i]]
                    continue
            pending.append(prepared)
        if pending:
            chunks = self._chunks(pending)
            with ThreadPoolExecutor(max_workers=min(self.processes, len(chunks))) as pool:
                for done in pool.map(self._check_chunk, chunks):
                    for index, result in done.items():
                        results[index] = result
                        if result.outcome in (Outcome.PROVED, Outcome.FAILED):
                            self._remember(keys[index], result)
        assert all(r is not None for r in results)
        return results  # type: ignore[return-value]

    def _remember(self, key: str, result: SnippetResult) -> None:
        with self._memo_lock:
            self._memo[key] = result
            self._memo.move_to_end(key)
            while len(self._memo) > self.memo_size:
                self._memo.popitem(last=False)

    def _chunks(self, pending: list[_Prepared]) -> list[list[_Prepared]]:
        n = max(-(-len(pending) // self.batch_size), 1)
        if n < self.processes and len(pending) >= 40 * self.processes:
            n = self.processes  # enough work to be worth a second process's start-up
        size = -(-len(pending) // n)
        return [pending[i : i + size] for i in range(0, len(pending), size)]

    def _check_chunk(self, chunk: list[_Prepared]) -> dict[int, SnippetResult]:
        results: dict[int, SnippetResult] = {}
        queue = [chunk]
        while queue:
            batch = queue.pop(0)
            use_worker = self._use_worker(len(batch))
            # The worker re-elaborates only what changed since its last document, so its prelude (and nonce)
            # stays the same for the worker's lifetime; a batch process gets a fresh nonce every time.
            nonce = self._worker_nonce if use_worker else secrets.token_hex(8)
            text, spans = _render(batch, nonce, self.toolchain, self.heartbeats)
            run = self._run_in_worker(text, len(batch)) if use_worker else None
            if run is None or run.returncode is None:  # no worker, or it failed: a batch process decides
                run = self._run(text, len(batch))
            unresolved: list[_Span] = []
            for span in spans:
                result = _evaluate(span, run.messages, nonce)
                if result is None:
                    unresolved.append(span)
                else:
                    results[span.prepared.index] = result
            if not unresolved:
                continue
            failure = self._failure(run, unresolved)
            if failure is not None and (len(batch) == 1 or run.killed == "stall"):
                # A stall is the first unresolved snippet's own: Lean was past its start-up and had finished the
                # snippet before it, so it is not waited out a second time alone.
                results[unresolved[0].prepared.index] = failure
                if len(unresolved) > 1:
                    queue.append([s.prepared for s in unresolved[1:]])
                continue
            if failure is None and len(unresolved) == len(spans) and len(batch) == 1:
                results[batch[0].index] = SnippetResult(
                    Outcome.ERROR,
                    "Lean stopped without a verdict for this snippet (checked alone; e.g. its syntax overflowed "
                    "Lean's stack)",
                    source=batch[0].source,
                )
                continue
            # The first unresolved snippet is the suspect: alone, it shows whether it is the culprit.
            suspect, rest = unresolved[0].prepared, [s.prepared for s in unresolved[1:]]
            queue.append([suspect])
            if rest:
                queue.append(rest)
        return results

    def _failure(self, run: _Run, unresolved: list[_Span]) -> SnippetResult | None:
        source = unresolved[0].prepared.source
        if run.killed in ("stall", "timeout"):
            return SnippetResult(Outcome.TIMEOUT, f"no result within {self.timeout:g} s", source=source)
        if run.killed == "memory":
            return SnippetResult(Outcome.ERROR, f"Lean exceeded the {self.memory_mb} MB memory cap", source=source)
        if run.returncode not in (0, 1):
            tail = run.stderr.strip()[-500:]
            return SnippetResult(Outcome.ERROR, f"Lean crashed (exit {run.returncode}): {tail}", source=source)
        return None

    def _use_worker(self, snippets: int) -> bool:
        return self.persistent and self.toolchain.kind == "wasm" and snippets <= self.persistent_max_snippets

    def _run_in_worker(self, text: str, snippets: int) -> _Run:
        """Check one batch in the warm worker; a failed run (returncode None) is redone by a batch process."""
        from verifiers.formal.worker import LeanWorker, LeanWorkerError

        try:
            with self._worker_lock:
                if self._worker is None:
                    self._worker = LeanWorker(self.toolchain, start_timeout=self.startup_timeout)
            messages = self._worker.check(text, timeout=self.timeout * snippets + 5.0)
        except (LeanWorkerError, LeanUnavailable) as exc:
            self.worker_failures.append(str(exc))
            return _Run([], None, None, str(exc))
        return _Run(messages, 0, None, "")

    def close(self) -> None:
        """Stop the persistent worker, if one was started (batch processes never outlive a check)."""
        with self._worker_lock:
            if self._worker is not None:
                self._worker.close()
                self._worker = None

    def _run(self, text: str, snippets: int) -> _Run:
        """Run Lean on one batch file, watching progress, memory and the whole batch's deadline."""
        toolchain = self.toolchain
        workdir = Path(tempfile.mkdtemp(prefix="verifiers-lean-"))  # mounted into the wasm file system too
        try:
            (workdir / "Batch.lean").write_text(text, encoding="utf-8")
            cmd = toolchain.command("--json", *lean_options(toolchain), "Batch.lean")
            self.runs += 1
            deadline = self.startup_timeout + self.timeout * snippets
            return self._watch(cmd, toolchain.environment(workdir), workdir, deadline)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _watch(self, cmd: list[str], env: dict[str, str], cwd: Path, deadline: float) -> _Run:
        start = time.monotonic()
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, encoding="utf-8", errors="replace", start_new_session=True,
        )  # fmt: skip
        messages: list[dict[str, Any]] = []
        progress = {"at": time.monotonic(), "ready": False}  # the last READY/SNIPPET record; Lean started?
        stderr_parts: list[str] = []

        def read_stdout() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                if not line.startswith("{"):
                    continue
                try:
                    msg = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(msg, dict) and "severity" in msg:
                    messages.append(msg)
                    if str(msg.get("data", "")).startswith(("SNIPPET ", "READY ")):
                        progress.update(at=time.monotonic(), ready=True)

        def read_stderr() -> None:
            assert proc.stderr is not None
            stderr_parts.append(proc.stderr.read()[-4000:])

        readers = [threading.Thread(target=f, daemon=True) for f in (read_stdout, read_stderr)]
        for t in readers:
            t.start()
        killed: str | None = None
        try:
            while proc.poll() is None:
                time.sleep(0.1)
                rss = process_memory_mb(proc.pid)
                self.peak_rss_mb = max(self.peak_rss_mb, rss)
                if rss > self.memory_mb:
                    killed = "memory"
                elif progress["ready"] and time.monotonic() - progress["at"] > self.timeout:
                    killed = "stall"
                elif not progress["ready"] and time.monotonic() - progress["at"] > self.startup_timeout:
                    killed = "timeout"
                elif time.monotonic() - start > deadline:
                    killed = "timeout"
                if killed:
                    break
        finally:  # also on KeyboardInterrupt: Lean runs in its own session and would outlive us
            _kill_group(proc)
        proc.wait()
        for t in readers:
            t.join(timeout=5)
        return _Run(messages, proc.returncode, killed, "".join(stderr_parts))


def _kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
