"""Model judges (in progress, issue 6). Here so far: the guards that run before any judge call (`guards`), the
parsers of a generative judge's reply (`parse`) and the prompt templates (`templates`). The backends
(transformers, OpenAI-compatible), yes/no log-probability scoring, the cascade stage and the likelihood reward come
next."""

from __future__ import annotations

from .guards import MASTER_KEYS, Screened, is_master_key, screen
from .parse import parse_decision, parse_grade, parse_principles
from .templates import TEMPLATES, Template, TemplateError

__all__ = [
    "MASTER_KEYS",
    "TEMPLATES",
    "Screened",
    "Template",
    "TemplateError",
    "is_master_key",
    "parse_decision",
    "parse_grade",
    "parse_principles",
    "screen",
]
