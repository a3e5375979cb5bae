"""The public benchmark cases the tests read: `tests/data/bench/` (see its README for sources and licences).

They ship with the repository, so every test runs on a fresh clone. The full data sets the `benchmarks/` read stay
outside it (`shared/bench/` next to the repository, or `$VERIFIERS_BENCH_DIR`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parents[1] / "data" / "bench"


def bench_rows(name: str) -> list[dict[str, Any]]:
    """The rows of `tests/data/bench/<name>` (JSON lines)."""
    return [json.loads(line) for line in (BENCH_DIR / name).read_text(encoding="utf-8").splitlines() if line.strip()]
