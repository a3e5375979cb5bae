"""The `openai` judge backend: any OpenAI-compatible HTTP server (vLLM, SGLang, a hosted API).

Standard library only. At most `concurrency` requests are in flight; a request that times out, cannot connect or
gets HTTP 408/409/429/5xx is retried up to `retries` times with exponential backoff (a `Retry-After` header is
honoured, capped); any other HTTP error is final. What is still failing after that is a `Failure` — TIMEOUT for
timeouts, ERROR for the rest — never a score. The API key is read from $VERIFIERS_JUDGE_API_KEY (else
$OPENAI_API_KEY) at request time; it is never an option, so it never lands in a verdict, a cache key or a log.

Yes/no scoring asks for one token with `top_logprobs`; generation is a greedy chat completion; the likelihood
reward uses `/completions` with `echo` (the prompt's token log-probabilities and character offsets), on the
context rendered as plain text (the server's chat template is not visible to a client).
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from verifiers.errors import OptionError

from .backend import Continuation, Failure, Prompt, yes_no_probability

__all__ = ["API_KEY_ENV", "OpenAIBackend"]

T = TypeVar("T")
API_KEY_ENV = ("VERIFIERS_JUDGE_API_KEY", "OPENAI_API_KEY")
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
TOP_LOGPROBS = 20
MAX_BACKOFF_S = 30.0


class OpenAIBackend:
    """`base_url` such as "http://127.0.0.1:8000/v1"; `model`: the served model's name (None: the first one the
    server lists); `request_timeout` in seconds per attempt; `backoff`: the first retry's wait in seconds."""

    name = "openai"

    def __init__(
        self,
        base_url: str,
        *,
        model: str | None = None,
        concurrency: int = 8,
        request_timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 0.5,
    ) -> None:
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise OptionError(f"openai backend: base_url must be an http(s) URL, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.model_option = model
        self.concurrency = concurrency
        self.request_timeout = request_timeout
        self.retries = retries
        self.backoff = backoff
        self._model: str | None = model
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "base_url": self.base_url, "model": self._model}

    # -- HTTP -----------------------------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = next((os.environ[name] for name in API_KEY_ENV if os.environ.get(name)), None)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _request(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any] | Failure:
        """One API call with retries: the decoded JSON reply, or the Failure that ended the attempts."""
        url = f"{self.base_url}/{path}"
        data = None if body is None else json.dumps(body).encode()
        timed_out = Failure.timeout(f"judge server did not answer {path} within {self.request_timeout:g} s")
        failure = Failure("no attempt was made")
        for attempt in range(self.retries + 1):
            wait: float | None = None
            try:
                request = urllib.request.Request(url, data=data, headers=self._headers())
                with urllib.request.urlopen(request, timeout=self.request_timeout) as reply:
                    return json.loads(reply.read().decode("utf-8"))
            except urllib.error.HTTPError as exc:
                failure = Failure(f"judge server answered HTTP {exc.code} to {path}: {_error_message(exc)}")
                if exc.code not in RETRY_STATUSES:
                    return failure
                wait = _retry_after(exc)
            except TimeoutError:  # socket.timeout is TimeoutError
                failure = timed_out
            except urllib.error.URLError as exc:  # a timeout while connecting arrives wrapped
                if isinstance(exc.reason, TimeoutError):
                    failure = timed_out
                else:
                    failure = Failure(f"cannot reach the judge server at {self.base_url}: {exc.reason}")
            except (OSError, ValueError) as exc:  # connection reset, a reply that is not JSON
                failure = Failure(f"bad reply from the judge server to {path}: {type(exc).__name__}: {exc}")
            if attempt < self.retries:
                delay = self.backoff * 2**attempt * (1 + random.random() / 4)
                time.sleep(min(MAX_BACKOFF_S, wait if wait is not None else delay))
        tries = self.retries + 1
        return Failure(f"{failure.reason} (after {tries} attempt{'s' if tries > 1 else ''})", failure.status)

    def _served_model(self) -> str | Failure:
        with self._lock:
            if self._model is not None:
                return self._model
        listed = self._request("models")
        if isinstance(listed, Failure):
            return listed
        try:
            name = str(listed["data"][0]["id"])
        except (KeyError, IndexError, TypeError):
            return Failure(f"the judge server at {self.base_url} lists no model; set server_model")
        with self._lock:
            self._model = name
        return name

    def _map(self, items: Sequence[Any], call: Callable[[Any, str], T | Failure]) -> list[T | Failure]:
        """`call(item, model)` for every item, at most `concurrency` at a time."""
        model = self._served_model()
        if isinstance(model, Failure):
            return [model] * len(items)
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.concurrency, thread_name_prefix="verifiers-judge")
            executor = self._executor
        return list(executor.map(lambda item: _guarded(call, item, model), items))

    # -- the three questions -----------------------------------------------------------------------------
    def yes_probabilities(self, prompts: Sequence[Prompt]) -> list[tuple[float, float] | Failure]:
        def call(prompt: Prompt, model: str) -> tuple[float, float] | Failure:
            body = {"model": model, "messages": prompt.render(), "max_tokens": 1, "temperature": 0,
                    "logprobs": True, "top_logprobs": TOP_LOGPROBS}  # fmt: skip
            reply = self._request("chat/completions", body)
            if isinstance(reply, Failure):
                return reply
            first = reply["choices"][0]["logprobs"]["content"][0]
            candidates = {(first["token"], first["logprob"])}
            candidates.update((t["token"], t["logprob"]) for t in first.get("top_logprobs") or ())
            return yes_no_probability(candidates)

        return self._map(prompts, call)

    def generate(self, prompts: Sequence[Prompt], *, max_tokens: int) -> list[str | Failure]:
        def call(prompt: Prompt, model: str) -> str | Failure:
            body = {"model": model, "messages": prompt.render(), "max_tokens": max_tokens, "temperature": 0}
            reply = self._request("chat/completions", body)
            if isinstance(reply, Failure):
                return reply
            return str(reply["choices"][0]["message"]["content"] or "")

        return self._map(prompts, call)

    def continuation_logprobs(self, items: Sequence[Continuation]) -> list[list[float] | Failure]:
        def call(item: Continuation, model: str) -> list[float] | Failure:
            context = item.context.plain_text()
            text = context + item.text
            body = {"model": model, "prompt": text, "max_tokens": 1, "echo": True, "logprobs": 1, "temperature": 0}
            reply = self._request("completions", body)
            if isinstance(reply, Failure):
                return reply
            logprobs = reply["choices"][0]["logprobs"]
            offsets, values = logprobs["text_offset"], logprobs["token_logprobs"]
            ends = list(offsets[1:]) + [len(reply["choices"][0]["text"])]
            return [
                float(value)
                for offset, end, value in zip(offsets, ends, values)
                if offset < len(text) and end > len(context) and value is not None
            ]

        return self._map(items, call)

    def close(self) -> None:
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None


def _guarded(call: Callable[[Any, str], T | Failure], item: Any, model: str) -> T | Failure:
    """A reply of an unexpected shape is the server's failure, for this item only."""
    try:
        return call(item, model)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        return Failure(f"the judge server's reply has an unexpected shape ({type(exc).__name__}: {exc})")


def _error_message(exc: urllib.error.HTTPError) -> str:
    try:
        raw = exc.read().decode("utf-8", errors="replace")
    except OSError:
        return exc.reason or ""
    try:
        return str(json.loads(raw)["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return raw[:300] or str(exc.reason)


def _retry_after(exc: urllib.error.HTTPError) -> float | None:
    value = exc.headers.get("Retry-After") if exc.headers else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
