"""Where the public benchmark data lives for the tests: `$VERIFIERS_BENCH_DIR`, else `shared/bench` next to the
repository (the same rule as `benchmarks/_common.py`)."""

from __future__ import annotations

import os
from pathlib import Path

BENCH_DIR = Path(os.environ.get("VERIFIERS_BENCH_DIR") or Path(__file__).resolve().parents[3] / "shared" / "bench")
