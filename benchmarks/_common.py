"""What every benchmark script shares: finding the public bench data and printing a table."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BENCH_DIR = Path(os.environ.get("VERIFIERS_BENCH_DIR") or Path(__file__).resolve().parents[1].parent / "shared" / "bench")


def load_bench(name: str, limit: int | None = None) -> list[dict[str, Any]]:
    """The rows of `shared/bench/<name>` (or `$VERIFIERS_BENCH_DIR/<name>`); exits with a message when missing."""
    path = BENCH_DIR / name
    if not path.exists():
        sys.exit(f"benchmark data not found: {path} (set VERIFIERS_BENCH_DIR to the folder that holds it)")
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
