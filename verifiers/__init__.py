"""verifier-suite: turn a model's answer into a trustworthy reward.

>>> from verifiers import verify
>>> verify("The answer is 42.", "42", domain="numeric").status
<Status.CORRECT: 'correct'>
"""

from __future__ import annotations

__version__ = "0.1.0"

from .api import verify, verify_batch
from .cache import Cache, MemoryCache, SQLiteCache
from .cascade import Cascade
from .composite import CompositeVerifier
from .datasets import open_dataset
from .errors import (
    DatasetError,
    OptionError,
    PluginError,
    UnknownDomainError,
    UnknownNameError,
    UnknownVerifierError,
    VerifiersError,
)
from .hookspecs import hookimpl
from .jobs import run_dataset
from .options import Option
from .plugins import get_verifier, list_domains, list_verifiers
from .routing import Router, resolve_verifier
from .runner import Runner
from .verdict import Sample, Status, StepVerdict, Verdict
from .verifier import BatchedVerifier, PartRunner, Verifier, VerifierLike

__all__ = [
    "__version__",
    "BatchedVerifier",
    "Cache",
    "Cascade",
    "CompositeVerifier",
    "DatasetError",
    "MemoryCache",
    "Option",
    "OptionError",
    "PartRunner",
    "PluginError",
    "Router",
    "Runner",
    "SQLiteCache",
    "Sample",
    "Status",
    "StepVerdict",
    "UnknownDomainError",
    "UnknownNameError",
    "UnknownVerifierError",
    "Verdict",
    "Verifier",
    "VerifierLike",
    "VerifiersError",
    "get_verifier",
    "hookimpl",
    "list_domains",
    "list_verifiers",
    "open_dataset",
    "run_dataset",
    "resolve_verifier",
    "verify",
    "verify_batch",
]
