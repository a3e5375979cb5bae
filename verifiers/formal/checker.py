"""Check many Lean snippets with few Lean processes.

Snippets go into one file per batch, behind the verifier's trusted prelude (`lean/AuditPrelude.lean`), each in its
own namespace followed by one audit command per theorem. Lean runs once per batch; every message is mapped back
to its snippet by line. A theorem counts as proved only when its snippet has no error and the audit printed a
record for it (tagged with a per-run nonce, at the audit command's own line) whose axioms are all allowed; no
record means unchecked, never proved.

Lean elaborates a file in order and prints each command's messages as it finishes, so a watchdog sees progress
snippet by snippet: when a batch stops making progress (wall-clock timeout), runs out of memory or crashes, the
snippets already audited keep their results, the snippet in progress is retried alone (and then gets TIMEOUT or
ERROR), and the rest go to a new batch.
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
from dataclasses import dataclass, field
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
    ERROR = "error"  # infrastructure: Lean crashed, ran out of memory, or no audit record


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
    line: int  # 1-based, relative to the snippet as written into the batch (see SnippetResult.source)
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
    """The snippet as written into the batch file (with the verifier's header)."""

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
    source: str  # the snippet's lines, as written
    theorems: list[str]  # names to audit, relative to the snippet namespace
    placeholder: bool = False


@dataclass
class _Span:
    prepared: _Prepared
    first_line: int  # first line of the snippet text in the file (1-based)
    last_line: int  # last line of its audit commands
    audit_lines: dict[int, str]  # file line -> theorem name


@dataclass
class _Run:
    messages: list[dict[str, Any]]
    returncode: int | None
    killed: str | None  # "timeout", "memory" or None
    stderr: str


def _prepare(index: int, snippet: Snippet, heartbeats: int) -> _Prepared | SnippetResult:
    limit = f"set_option maxHeartbeats {heartbeats} in\n"
    texts = [snippet.statement, snippet.proof, snippet.code, *(t for pair in snippet.hypotheses for t in pair)]
    for text in texts:
        if text is not None and not _is_encodable(text):
            return SnippetResult(Outcome.REJECTED, "the text is not valid Unicode (it contains lone surrogates)")
        if text is not None and "\x00" in text:
            return SnippetResult(Outcome.REJECTED, "the text contains a NUL character")
    try:
        if snippet.code is None:
            assert snippet.statement is not None
            statement = parse_statement(snippet.statement)
            for name, prop in snippet.hypotheses:
                check_name(name, "hypothesis name")
                check_policy(tokenize(prop), what="hypothesis")
                check_balanced(tokenize(prop), "hypothesis")
            hyps = "".join(f"({name} : {prop}) " for name, prop in snippet.hypotheses)
            header = f"theorem thm {hyps}{statement.signature}"
            body = "sorry" if snippet.placeholder else proof_body(snippet.proof or "")
            return _Prepared(index, f"{limit}{header} :=\n{indent(body)}", ["thm"], snippet.placeholder)
        decls = split_declarations(snippet.code)
    except (PolicyViolation, LeanSyntaxError) as exc:
        return SnippetResult(Outcome.REJECTED, str(exc))
    theorems = [d.name for d in decls if d.keyword == "theorem" and d.name]
    if not theorems:
        return SnippetResult(Outcome.REJECTED, "the snippet declares no theorem to check")
    parts = [d.text if d.name is None else limit + d.text for d in decls]
    return _Prepared(index, "\n".join(parts), theorems)


def _is_encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@functools.cache
def _prelude_template(kind: str) -> str:
    text = (manifest_dir() / "AuditPrelude.lean").read_text(encoding="utf-8")
    # The WebAssembly build elaborates every file as a `module`, where definitions run at elaboration time need
    # `meta`; a native Lean elaborates a plain file classically, where they need nothing.
    return text.replace("__META__", "meta " if kind == "wasm" else "")


def _prelude(nonce: str, toolchain: Toolchain) -> str:
    return _prelude_template(toolchain.kind).replace("__NONCE__", nonce)


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


def _render(prepared: Sequence[_Prepared], nonce: str, toolchain: Toolchain) -> tuple[str, list[_Span]]:
    lines = _prelude(nonce, toolchain).rstrip("\n").split("\n")
    spans: list[_Span] = []
    for p in prepared:
        ns = f"S_{nonce}_{p.index}"
        lines.append(f"namespace {ns}")
        first = len(lines) + 1
        lines.extend(p.source.split("\n"))
        lines.append(f"end {ns}")
        audits: dict[int, str] = {}
        for name in p.theorems:
            lines.append(f"#audit_{nonce} {p.index} {ns}.{name}")
            audits[len(lines)] = name
        spans.append(_Span(p, first, len(lines), audits))
    return "\n".join(lines) + "\n", spans


_AUDIT = re.compile(r"^AUDIT (\w+) (\d+) (\S+) (OK|MISSING)((?: \S+)*)\s*$")


def _audit_record(msg: dict[str, Any], nonce: str, span: _Span) -> tuple[str, tuple[str, ...] | None] | None:
    """(theorem, axiom entries or None when missing) if `msg` is a genuine audit record for this span."""
    line = (msg.get("pos") or {}).get("line")
    if msg.get("severity") != "information" or line not in span.audit_lines:
        return None
    m = _AUDIT.match(str(msg.get("data", "")))
    if m is None or m.group(1) != nonce or int(m.group(2)) != span.prepared.index:
        return None
    entries = tuple(m.group(5).split()) if m.group(4) == "OK" else None
    return span.audit_lines[line], entries


def _judge_axioms(entries: tuple[str, ...]) -> str | None:
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
    """The snippet's result, or None when it has no audit record for some theorem (unchecked)."""
    mine: list[Message] = []
    records: dict[str, tuple[str, ...] | None] = {}
    for msg in messages:
        line = (msg.get("pos") or {}).get("line")
        if not isinstance(line, int) or not span.first_line - 1 <= line <= span.last_line:
            continue
        record = _audit_record(msg, nonce, span)
        if record is not None:
            records[record[0]] = record[1]
            continue
        if line in span.audit_lines and msg.get("severity") != "error":
            continue
        rel = max(1, min(line, span.first_line + span.prepared.source.count("\n")) - span.first_line + 1)
        col = (msg.get("pos") or {}).get("column") or 0
        mine.append(Message(str(msg.get("severity", "error")), rel, int(col), str(msg.get("data", ""))))
    source = span.prepared.source
    axioms = {name: tuple(e.split(":")[0] for e in entries) for name, entries in records.items() if entries}
    errors = [m for m in mine if m.severity == "error"]
    if errors:
        return SnippetResult(Outcome.FAILED, errors[0].text, tuple(mine), axioms, source)
    if any(name not in records for name in span.prepared.theorems):
        return None
    for name in span.prepared.theorems:
        entries = records[name]
        if entries is None:
            return SnippetResult(Outcome.FAILED, f"`{name}` was not added to the environment", tuple(mine), axioms, source)
        reason = None if span.prepared.placeholder else _judge_axioms(entries)
        if reason is not None:
            return SnippetResult(Outcome.FAILED, f"`{name}` {reason}", tuple(mine), axioms, source)
    return SnippetResult(Outcome.PROVED, "", tuple(mine), axioms, source)


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
            prepared = _prepare(i, snippet, self.heartbeats)
            if isinstance(prepared, SnippetResult):
                results[i] = prepared
                continue
            keys[i] = f"{prepared.placeholder}\0{prepared.source}"
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
            text, spans = _render(batch, nonce, self.toolchain)
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
            if failure is not None and len(batch) == 1:
                results[batch[0].index] = failure
                continue
            if failure is None and len(unresolved) == len(spans) and len(batch) == 1:
                results[batch[0].index] = SnippetResult(
                    Outcome.ERROR, "Lean finished without an audit record for this snippet", source=batch[0].source
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
        if run.killed == "timeout":
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
        last_progress = [time.monotonic(), self.startup_timeout]
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
                    if str(msg.get("data", "")).startswith(("AUDIT ", "READY ")):
                        last_progress[:] = [time.monotonic(), self.timeout]

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
                elif time.monotonic() - last_progress[0] > last_progress[1] or time.monotonic() - start > deadline:
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
