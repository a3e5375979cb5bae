"""Counting a sandboxed program's processes from the host: each test program is exec'd with a unique marker
argument, which every process it forks keeps in its command line."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def pids_with(marker: str) -> list[int]:
    """The host's processes (not this one) whose command line holds `marker`."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                if marker.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                    found.append(int(entry))
            except OSError:
                pass
    return found


def peak_while(run: Callable[[], T], marker: str) -> tuple[T, int]:
    """`run()`'s result and the most processes with `marker` seen at once while it ran (sampled every 50 ms)."""
    peak = 0
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, len(pids_with(marker)))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        result = run()
    finally:
        done.set()
        watcher.join()
    return result, peak
