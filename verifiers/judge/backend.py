"""What a judge backend is asked and what it answers; how a backend is chosen and kept warm.

A backend answers three questions, each for a whole batch (one list entry per input, in order):

  yes_probabilities(prompts)      P("yes") against P("no") for the judge's next token, from one forward pass
  generate(prompts, max_tokens)   the judge's greedy reply, to be read by `verifiers.judge.parse`
  continuation_logprobs(items)    the log-probability of each token of a given continuation (the likelihood reward)

An entry that could not be computed is a `Failure` (it becomes an ERROR, TIMEOUT or UNDECIDED verdict, never a
score). Backends are registered through the `register_judge_backends` hook; `backend_for` picks and caches one.
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from verifiers.errors import OptionError
from verifiers.verdict import Status

__all__ = [
    "ENV_BASE_URL",
    "ENV_MODEL",
    "ENV_SERVER_MODEL",
    "Continuation",
    "Failure",
    "JudgeBackend",
    "NoJudge",
    "Prompt",
    "backend_for",
    "cuda_available",
    "yes_no_probability",
]

ENV_MODEL = "VERIFIERS_JUDGE_MODEL"
"""A local model directory (or an id already in the local Hugging Face cache) for the `transformers` backend."""
ENV_BASE_URL = "VERIFIERS_JUDGE_BASE_URL"
"""The base URL of an OpenAI-compatible server (`http://host:8000/v1`) for the `openai` backend."""
ENV_SERVER_MODEL = "VERIFIERS_JUDGE_SERVER_MODEL"
"""The model name to ask that server for (default: the first model it lists)."""

TAIL = "\x00tail\x00"
"""Stands for a prompt's trimmable tail inside its messages (see `Prompt`)."""


@dataclass(frozen=True)
class Prompt:
    """Chat messages for a judge. `tail` (the end of the response being judged) is written where a message holds
    `TAIL`; when the prompt does not fit the model's context, a backend cuts the tail from its start, so the
    judge keeps the response's end and every instruction."""

    messages: tuple[tuple[str, str], ...]
    """(role, content) pairs; a last `assistant` message is a reply to continue, not a finished turn."""
    tail: str = ""

    def __post_init__(self) -> None:
        messages = tuple((str(role), _encodable(content)) for role, content in self.messages)
        object.__setattr__(self, "messages", messages)
        object.__setattr__(self, "tail", _encodable(self.tail).replace("\x00", ""))

    def render(self, tail: str | None = None) -> list[dict[str, str]]:
        text = self.tail if tail is None else tail
        return [{"role": role, "content": content.replace(TAIL, text)} for role, content in self.messages]

    def plain_text(self, tail: str | None = None) -> str:
        """The messages' contents joined by blank lines (for servers whose chat template the client cannot see)."""
        return "\n\n".join(m["content"] for m in self.render(tail))


@dataclass(frozen=True)
class Continuation:
    """Score `text` as the continuation of `context` (whose last message is usually the assistant's partial reply)."""

    context: Prompt
    text: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", _encodable(self.text).replace("\x00", ""))


def _encodable(text: str) -> str:
    """`text` with lone surrogates (not UTF-8, refused by tokenizers and JSON servers) replaced."""
    return text.encode("utf-8", "replace").decode("utf-8")


@dataclass(frozen=True)
class Failure:
    """Why one input got no answer from the backend; `status` is the verdict it becomes."""

    reason: str
    status: Status = Status.ERROR

    @classmethod
    def timeout(cls, reason: str) -> Failure:
        return cls(reason, Status.TIMEOUT)


class NoJudge(Exception):
    """No backend can be used with the configuration at hand (the sample stays UNDECIDED)."""


@runtime_checkable
class JudgeBackend(Protocol):
    name: str

    def describe(self) -> dict[str, Any]:
        """What a verdict's evidence records about the judge: backend, model, device."""
        ...

    def yes_probabilities(self, prompts: Sequence[Prompt]) -> list[tuple[float, float] | Failure]:
        """Per prompt: (P(yes), P(yes) + P(no)) of the next token, yes/no probabilities summed over spellings."""
        ...

    def generate(self, prompts: Sequence[Prompt], *, max_tokens: int) -> list[str | Failure]: ...

    def continuation_logprobs(self, items: Sequence[Continuation]) -> list[list[float] | Failure]: ...


YES_WORDS = frozenset({"yes"})
NO_WORDS = frozenset({"no"})


def yes_no_probability(token_logprobs: Iterable[tuple[str, float]]) -> tuple[float, float]:
    """(P(yes) / (P(yes) + P(no)), P(yes) + P(no)) from (token text, log-probability) pairs of distinct tokens.

    Spellings are pooled: "Yes", " yes", "YES" all count as yes. With no yes/no mass at all, P(yes) is 0.5 and the
    mass 0 (the caller decides what too little mass means).
    """
    yes = no = 0.0
    for token, logprob in token_logprobs:
        word = token.strip().casefold()
        if word in YES_WORDS:
            yes += math.exp(logprob)
        elif word in NO_WORDS:
            no += math.exp(logprob)
    mass = yes + no
    return (yes / mass if mass > 0 else 0.5), mass


def cuda_available() -> bool:
    """True when torch is importable and sees a CUDA device (False without torch: no local GPU judge then)."""
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


# -- choosing a backend ----------------------------------------------------------------------------------------

_backends: dict[str, Any] = {}
_backends_lock = threading.Lock()


def _cached(name: str, options: Mapping[str, Any]) -> Any:
    """One backend object per (name, options) in this process, so every judge verifier shares a loaded model."""
    from verifiers.plugins import get_judge_backend

    key = json.dumps([name, dict(options)], sort_keys=True, default=repr)
    with _backends_lock:
        backend = _backends.get(key)
        if backend is None:
            backend = _backends[key] = get_judge_backend(name, **options)
        return backend


def backend_for(config: Mapping[str, Any]) -> Any:
    """The backend a judge verifier's options (`backend`, `model`, `base_url`, `server_model`, ...) select.

    `backend="auto"`: the `transformers` backend when a local model is configured (option `model` or
    $VERIFIERS_JUDGE_MODEL) and CUDA is available; else the `openai` backend when a server is configured (option
    `base_url` or $VERIFIERS_JUDGE_BASE_URL); else `NoJudge` ("no judge configured"). A named backend is used as
    configured (`transformers` on the CPU included). Any other name is looked up in the registry and gets the
    `backend_options` mapping as its keyword options.
    """
    name = config["backend"]
    model = config.get("model") or os.environ.get(ENV_MODEL) or None
    base_url = config.get("base_url") or os.environ.get(ENV_BASE_URL) or None
    if name == "auto":
        if model and cuda_available():
            name = "transformers"
        elif base_url:
            name = "openai"
        else:
            why = (
                f"a local model is set but no CUDA device is available (use backend='transformers' to run it on "
                f"the CPU), and no server is set (base_url / ${ENV_BASE_URL})"
                if model
                else f"set a local model (model / ${ENV_MODEL}) or an OpenAI-compatible server (base_url / "
                f"${ENV_BASE_URL})"
            )
            raise NoJudge(f"no judge configured: {why}")
    if name == "transformers":
        if not model:
            raise OptionError(f"the transformers judge backend needs a model (option 'model' or ${ENV_MODEL})")
        return _cached(name, {"model": model, "device": config["device"], "batch_size": config["batch_size"],
                              "batch_tokens": config["batch_tokens"], "max_length": config["max_length"]})  # fmt: skip
    if name == "openai":
        if not base_url:
            raise OptionError(f"the openai judge backend needs a server (option 'base_url' or ${ENV_BASE_URL})")
        server_model = config.get("server_model") or os.environ.get(ENV_SERVER_MODEL) or None
        return _cached(name, {"base_url": base_url, "model": server_model, "concurrency": config["concurrency"],
                              "request_timeout": config["request_timeout"], "retries": config["retries"]})  # fmt: skip
    return _cached(name, dict(config.get("backend_options") or {}))
