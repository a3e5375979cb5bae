"""Built-in plugin: model judges, with guards before any call and batching throughout.

Modules: `guards` (master-key responses and answer extraction, before any judge call), `templates` (prompts as
data), `parse` (reading a generative judge's reply), `backend` (what a backend answers, choosing and caching one),
`local` (the `transformers` backend), `remote` (the `openai` backend: any OpenAI-compatible server), `verifier`
(the `judge`, `judge.principles` and `likelihood` verifiers). Docs: docs/judge.md.
"""

from __future__ import annotations

from collections.abc import Callable

from ..hookspecs import hookimpl
from .backend import (
    Continuation,
    Failure,
    JudgeBackend,
    NoJudge,
    Prompt,
    backend_for,
    yes_no_probability,
)
from .guards import MASTER_KEY_PROBES, MASTER_KEYS, Screened, is_master_key, screen
from .local import TransformersBackend
from .parse import parse_decision, parse_grade, parse_principles
from .remote import OpenAIBackend
from .templates import TEMPLATES, Template, TemplateError
from .verifier import JudgeVerifier, LikelihoodVerifier, PrinciplesVerifier

__all__ = [
    "MASTER_KEYS",
    "MASTER_KEY_PROBES",
    "TEMPLATES",
    "Continuation",
    "Failure",
    "JudgeBackend",
    "JudgeVerifier",
    "LikelihoodVerifier",
    "NoJudge",
    "OpenAIBackend",
    "PrinciplesVerifier",
    "Prompt",
    "Screened",
    "Template",
    "TemplateError",
    "TransformersBackend",
    "backend_for",
    "is_master_key",
    "parse_decision",
    "parse_grade",
    "parse_principles",
    "screen",
    "yes_no_probability",
]


@hookimpl
def register_verifiers(register: Callable[..., None]) -> None:
    register(JudgeVerifier)
    register(PrinciplesVerifier)
    register(LikelihoodVerifier)


@hookimpl
def register_judge_backends(register: Callable[..., None]) -> None:
    register(TransformersBackend, "transformers")
    register(OpenAIBackend, "openai")
