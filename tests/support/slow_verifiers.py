"""Verifiers that misbehave on purpose, for the worker-pool tests.

They live in an importable module (not in a test file) because the pool pickles a verifier by reference and
the worker process must import its class. Each one behaves like an exact-match verifier except for the
response that triggers its misbehaviour.
"""

from __future__ import annotations

import ctypes
import os
import signal
import threading
import time

from verifiers import Sample, Verdict, Verifier


class Echo(Verifier):
    """Exact match that also records which process ran it and how many samples this instance has seen."""

    name = "test.echo"

    def __init__(self, **options):
        super().__init__(**options)
        self.calls = 0  # warm state: grows across runs when the worker keeps this instance

    def verify(self, sample: Sample) -> Verdict:
        self.calls += 1
        ok = sample.response.strip() == str(sample.reference).strip()
        return Verdict.from_bool(self.name, ok, evidence={"pid": os.getpid(), "calls": self.calls})


class Misbehaving(Echo):
    """Echo, except on these responses:

    "hang"     loops forever in pure Python (a soft timeout stops it)
    "blocked"  blocks SIGALRM, then loops forever (only the parent's kill stops it)
    "swallow"  loops forever and swallows every exception, the soft timeout included
    "sleep"    sleeps 0.2 s, then answers
    "raise"    raises ValueError("boom")
    "exit"     calls os._exit(3)
    "segv"     dereferences a null pointer
    "none"     returns None instead of a Verdict
    """

    name = "test.misbehaving"

    def verify(self, sample: Sample) -> Verdict:
        what = sample.response
        if what == "hang":
            while True:
                pass
        if what == "blocked":
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
            while True:
                pass
        if what == "swallow":
            while True:
                try:
                    while True:
                        pass
                except BaseException:
                    pass
        if what == "sleep":
            time.sleep(0.2)
        if what == "raise":
            raise ValueError("boom")
        if what == "exit":
            os._exit(3)
        if what == "segv":
            ctypes.string_at(0)
        if what == "none":
            return None  # type: ignore[return-value]
        return super().verify(sample)


class Unpicklable(Echo):
    """Holds a lock, so it cannot be pickled and sent to a worker."""

    name = "test.unpicklable"

    def __init__(self, **options):
        super().__init__(**options)
        self.lock = threading.Lock()


class SlowLoad(Echo):
    """Sleeps while being unpickled in the worker, like a verifier whose module import is slow."""

    name = "test.slow_load"

    def __setstate__(self, state):
        time.sleep(0.8)
        self.__dict__.update(state)


class TimeoutAttr(Misbehaving):
    """Declares its own per-sample deadline, so the runner uses it when the caller gives none."""

    name = "test.timeout_attr"
    timeout = 0.5
