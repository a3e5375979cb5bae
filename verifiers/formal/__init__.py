"""Built-in plugin: formal verification with Lean 4 (theorem proofs, complete snippets, Safe-style step proofs).

Modules: `toolchain` (native Lean or the pinned WebAssembly Lean, installation), `glue` (the install-time patch
of the WebAssembly glue), `source` (lexer and the Python pre-filter), `checker` (batch files behind the trusted
prelude — Lean-side syntax allowlist, isolation, kernel replay, axiom audit — timeouts, memory cap, retries,
process pool), `proof` (step proofs), `worker` (a persistent Lean
language-server worker for low latency), `verifier` (the `lean` verifier). Docs: `lean/README.md`.
"""

from __future__ import annotations

from ..hookspecs import hookimpl
from .checker import ALLOWED_AXIOMS, LeanChecker, Outcome, Snippet, SnippetResult
from .proof import FormalProof, FormalStep, StepOutcome, StepResult, check_proofs
from .source import PolicyViolation
from .toolchain import LeanUnavailable, Toolchain, find_toolchain, install_wasm
from .verifier import LeanVerifier
from .worker import LeanWorker, LeanWorkerError

__all__ = [
    "ALLOWED_AXIOMS",
    "FormalProof",
    "FormalStep",
    "LeanChecker",
    "LeanUnavailable",
    "LeanVerifier",
    "LeanWorker",
    "LeanWorkerError",
    "Outcome",
    "PolicyViolation",
    "Snippet",
    "SnippetResult",
    "StepOutcome",
    "StepResult",
    "Toolchain",
    "check_proofs",
    "find_toolchain",
    "install_wasm",
]


@hookimpl
def register_verifiers(register):
    register(LeanVerifier)
