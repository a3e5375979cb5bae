"""Content-addressed verdict caches: in memory for training loops, SQLite on disk for dataset runs.

The key is the verifier's identity (name, version, options) plus the sample's content hash. Only verdicts that
judged the answer or declined to (CORRECT, INCORRECT, PARTIAL, UNDECIDED) are stored: an ERROR or TIMEOUT is a
fact about the infrastructure at that moment and is retried next time.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Protocol, runtime_checkable

from .verdict import Sample, Verdict
from .verifier import identity_key

__all__ = ["Cache", "MemoryCache", "SQLiteCache", "cache_key", "open_cache", "is_cacheable"]


def cache_key(verifier: object, sample: Sample) -> str:
    digest = hashlib.sha256()
    digest.update(identity_key(verifier).encode("utf-8", errors="surrogatepass"))
    digest.update(b"\0")
    digest.update(sample.fingerprint().encode("ascii"))
    return digest.hexdigest()


def is_cacheable(verdict: Verdict) -> bool:
    return not verdict.status.is_failure


@runtime_checkable
class Cache(Protocol):
    def get(self, key: str) -> Verdict | None: ...

    def put(self, key: str, verdict: Verdict) -> None: ...


class MemoryCache:
    """A thread-safe LRU of at most `maxsize` verdicts."""

    def __init__(self, maxsize: int = 100_000) -> None:
        if maxsize < 1:
            raise ValueError("MemoryCache maxsize must be >= 1")
        self.maxsize = maxsize
        self._data: OrderedDict[str, Verdict] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Verdict | None:
        with self._lock:
            verdict = self._data.get(key)
            if verdict is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return verdict

    def put(self, key: str, verdict: Verdict) -> None:
        if not is_cacheable(verdict):
            return
        with self._lock:
            self._data[key] = verdict
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


class SQLiteCache:
    """Verdicts in an SQLite file, shared by every run that points at it (WAL mode, one connection per thread)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._connection() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS verdicts (key TEXT PRIMARY KEY, verdict TEXT NOT NULL)")

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def get(self, key: str) -> Verdict | None:
        row = self._connection().execute("SELECT verdict FROM verdicts WHERE key = ?", (key,)).fetchone()
        return Verdict.from_json(row[0]) if row else None

    def put(self, key: str, verdict: Verdict) -> None:
        if not is_cacheable(verdict):
            return
        with self._connection() as conn:
            conn.execute("INSERT OR REPLACE INTO verdicts (key, verdict) VALUES (?, ?)", (key, verdict.to_json()))

    def __len__(self) -> int:
        return self._connection().execute("SELECT COUNT(*) FROM verdicts").fetchone()[0]

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


_shared_memory_cache: MemoryCache | None = None


def open_cache(cache: Cache | str | Path | bool | None) -> Cache | None:
    """Turn the `cache=` argument of `verify_batch` into a cache.

    None/False: no cache. True or "memory": the process-wide in-memory LRU. A path (str or Path): an SQLite
    file. A `Cache` object is used as given.
    """
    global _shared_memory_cache
    if cache is None or cache is False:
        return None
    if cache is True or cache == "memory":
        if _shared_memory_cache is None:
            _shared_memory_cache = MemoryCache()
        return _shared_memory_cache
    if isinstance(cache, (str, Path)):
        return SQLiteCache(cache)
    if isinstance(cache, Cache):
        return cache
    raise TypeError(f"cache must be None, True, 'memory', a file path or a Cache object, got {cache!r}")
