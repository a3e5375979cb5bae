"""What every benchmark script shares: finding the public bench data and printing a table."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BENCH_DIR = Path(os.environ.get("VERIFIERS_BENCH_DIR") or Path(__file__).resolve().parents[2] / "shared" / "bench")
"""The public bench data: `$VERIFIERS_BENCH_DIR`, else `shared/bench/` next to the repository (a clone has neither:
`tests/data/bench/` holds only the cases the tests read, and a subset would give misleading figures)."""


def require_bench(*names: str) -> None:
    """Exit with a message saying what is missing and where it was looked for, unless every file is there."""
    missing = [name for name in names if not (BENCH_DIR / name).is_file()]
    if not missing:
        return
    where = "$VERIFIERS_BENCH_DIR" if os.environ.get("VERIFIERS_BENCH_DIR") else "shared/bench/ next to the repository"
    sys.exit(
        f"benchmark data not found: {', '.join(missing)} in {BENCH_DIR} ({where}).\n"
        f"The benchmarks read the public bench data, which is not part of the repository: set VERIFIERS_BENCH_DIR "
        f"to the folder that holds {', '.join(missing)} (tests/data/bench/ has only the few cases the tests need)."
    )


def load_bench(name: str, limit: int | None = None) -> list[dict[str, Any]]:
    """The rows of `<BENCH_DIR>/<name>`; exits with `require_bench`'s message when the file is missing."""
    require_bench(name)
    path = BENCH_DIR / name
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows[:limit] if limit else rows


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print `rows` under `header`, first column left-aligned, the others right-aligned."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)

    def fmt(cells: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    if title:
        print(f"\n{title}")
    print(line)
    print(fmt(header))
    print(line)
    for row in rows:
        print(fmt(row))
    print(line)
