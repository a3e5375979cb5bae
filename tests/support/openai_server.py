"""A real OpenAI-compatible HTTP server on 127.0.0.1 serving a local model, for the judge tests.

`OpenAIServer(model_dir).start()` loads the model with `transformers` (fp32, CPU, `local_files_only=True`) and answers
`GET /v1/models`, `POST /v1/chat/completions` and `POST /v1/completions` the way vLLM does (greedy decoding, true
log-probabilities), with OpenAI-style error bodies. Tests steer it (`fail_next`, `delay`) and watch it (`requests`,
`max_in_flight`, `bodies`). Every response closes its connection (HTTP/1.0), so `close()` leaves nothing open.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

__all__ = ["OpenAIServer"]

MAX_TOP_LOGPROBS = 20
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}


class _RequestError(Exception):
    """A request the server refuses: becomes an HTTP error with an OpenAI-style body."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


def _error_body(status: int, message: str, code: str | None = None) -> dict[str, Any]:
    kind = ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "code": code}}


class OpenAIServer:
    """Serves the model in `model_dir` as `model_name` at `base_url` ("http://127.0.0.1:<port>/v1") once started.

    `api_key`: require `Authorization: Bearer <api_key>`. `max_context`: the longest prompt in tokens (default: the
    model's maximum positions); a longer one gets 400 "... maximum context length ...".
    """

    def __init__(
        self,
        model_dir: Path,
        *,
        model_name: str = "tiny-judge",
        api_key: str | None = None,
        max_context: int | None = None,
    ) -> None:
        self.model_dir = Path(model_dir)
        self.model_name = model_name
        self.api_key = api_key
        self.max_context = max_context
        self.delay: float = 0.0
        """Seconds each request sleeps before it is answered (outside the model lock, so requests overlap)."""
        self._state = threading.Lock()
        self._model_lock = threading.Lock()
        self._failures: deque[tuple[int, float | None]] = deque()
        self._requests = 0
        self._in_flight = 0
        self._max_in_flight = 0
        self._bodies: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._model: Any = None
        self._tokenizer: Any = None
        self._model_positions = 0

    # -- lifecycle ---------------------------------------------------------------------------------------------

    def start(self) -> OpenAIServer:
        """Load the model, bind a free port on 127.0.0.1 and serve from a daemon thread."""
        if self._httpd is not None:
            raise RuntimeError("the server is already started")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self._tokenizer = AutoTokenizer.from_pretrained(self.model_dir, local_files_only=True)
        self._model = AutoModelForCausalLM.from_pretrained(
            self.model_dir, local_files_only=True, dtype=torch.float32
        ).eval()
        config = self._model.config
        self._model_positions = int(getattr(config, "max_position_embeddings", None) or config.n_positions)
        if self.max_context is None:
            self.max_context = self._model_positions
        server = self

        class Handler(_Handler):
            owner = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=f"openai-server-{self.port}", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, free the port and join the server thread (idempotent)."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> OpenAIServer:
        return self if self._httpd is not None else self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the server is not started: call start() first")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- fault injection and observation -----------------------------------------------------------------------

    def fail_next(self, count: int, status: int = 500, *, retry_after: float | None = None) -> None:
        """Answer the next `count` requests (any endpoint) with HTTP `status` and an OpenAI-style error body;
        `retry_after` adds a `Retry-After` header (seconds)."""
        with self._state:
            self._failures.extend([(status, retry_after)] * count)

    @property
    def requests(self) -> int:
        """Requests received so far, on every endpoint (injected failures and refusals included)."""
        with self._state:
            return self._requests

    @property
    def max_in_flight(self) -> int:
        """The most requests that were being handled at the same moment."""
        with self._state:
            return self._max_in_flight

    @property
    def bodies(self) -> list[dict[str, Any]]:
        """The JSON object bodies received, in order (a copy)."""
        with self._state:
            return list(self._bodies)

    # -- request handling (called from handler threads) --------------------------------------------------------

    def _enter(self) -> tuple[int, float | None] | None:
        with self._state:
            self._requests += 1
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            return self._failures.popleft() if self._failures else None

    def _leave(self) -> None:
        with self._state:
            self._in_flight -= 1

    def _record(self, body: dict[str, Any]) -> None:
        with self._state:
            self._bodies.append(body)

    def _check_auth(self, header: str | None) -> None:
        if self.api_key is not None and header != f"Bearer {self.api_key}":
            why = "no API key given" if not header else "incorrect API key given"
            raise _RequestError(401, f"{why}: send 'Authorization: Bearer <key>'", "invalid_api_key")

    def _check_model(self, body: dict[str, Any]) -> None:
        name = _field(body, "model", str, required=True)
        if name != self.model_name:
            raise _RequestError(404, f"the model {name!r} does not exist (this server has {self.model_name!r})",
                                "model_not_found")  # fmt: skip

    def models(self) -> dict[str, Any]:
        return {"object": "list", "data": [{"id": self.model_name, "object": "model", "owned_by": "tests"}]}

    def chat_completion(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /v1/chat/completions (the caller holds the model lock)."""
        self._check_model(body)
        messages = _field(body, "messages", list, required=True)
        if not messages:
            raise _RequestError(400, "'messages' must not be empty")
        rendered = [_message(m, i) for i, m in enumerate(messages)]
        max_tokens = _max_tokens(body, "max_completion_tokens", "max_tokens")
        _sampling_fields(body)
        want_logprobs = bool(_field(body, "logprobs", bool))
        top = _field(body, "top_logprobs", int)
        if top is not None:
            if not 0 <= top <= MAX_TOP_LOGPROBS:
                raise _RequestError(400, f"'top_logprobs' must be in 0..{MAX_TOP_LOGPROBS}, got {top}")
            if not want_logprobs:
                raise _RequestError(400, "'top_logprobs' needs 'logprobs': true")
        prompt = self._tokenizer.apply_chat_template(rendered, add_generation_prompt=True, tokenize=False)
        prompt_ids = self._tokenizer(prompt, add_special_tokens=False)["input_ids"]
        self._check_length(len(prompt_ids))
        _, steps, finish = self._run(prompt_ids, max_tokens, top or 0, score_prompt=False)
        generated = [step[0] for step in steps]
        logprobs = None
        if want_logprobs:
            logprobs = {"content": [self._chat_logprob(token, logprob, tops) for token, logprob, tops in steps]}
        return {
            "id": f"chatcmpl-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model_name,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": self._tokenizer.decode(generated)},
                "logprobs": logprobs,
                "finish_reason": finish,
            }],
            "usage": _usage(len(prompt_ids), len(generated)),
        }  # fmt: skip

    def completion(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /v1/completions (the caller holds the model lock)."""
        self._check_model(body)
        prompt = _field(body, "prompt", str, required=True)
        max_tokens = _max_tokens(body, "max_tokens")
        _sampling_fields(body)
        echo = bool(_field(body, "echo", bool))
        top = _field(body, "logprobs", int)
        if top is not None and not 0 <= top <= MAX_TOP_LOGPROBS:
            raise _RequestError(400, f"'logprobs' must be in 0..{MAX_TOP_LOGPROBS}, got {top}")
        encoded = self._tokenizer(prompt, add_special_tokens=False, return_offsets_mapping=True)
        prompt_ids, offsets = encoded["input_ids"], encoded["offset_mapping"]
        self._check_length(len(prompt_ids))
        if not prompt_ids and max_tokens > 0:
            raise _RequestError(400, "'prompt' is empty: there is nothing to continue")
        prompt_steps, steps, finish = self._run(prompt_ids, max_tokens, top or 0, score_prompt=echo)
        generated_ids = [step[0] for step in steps]
        generated = self._tokenizer.decode(generated_ids)
        text = prompt + generated if echo else generated
        logprobs = None
        if top is not None:
            shown = [*prompt_steps, *steps] if echo else steps
            starts = [start for start, _ in offsets] if echo else []
            position = len(prompt) if echo else 0
            for token, _, _ in steps:
                starts.append(position)
                position += len(self._tokenizer.decode([token]))
            logprobs = {
                "tokens": [self._tokenizer.decode([token]) for token, _, _ in shown],
                "token_logprobs": [logprob for _, logprob, _ in shown],
                "top_logprobs": [
                    None if tops is None else {self._tokenizer.decode([t]): lp for t, lp in tops}
                    for _, _, tops in shown
                ],
                "text_offset": starts,
            }
        return {
            "id": f"cmpl-{next(self._ids)}",
            "object": "text_completion",
            "created": int(time.time()),
            "model": self.model_name,
            "choices": [{"index": 0, "text": text, "logprobs": logprobs, "finish_reason": finish}],
            "usage": _usage(len(prompt_ids), len(generated_ids)),
        }

    def _check_length(self, prompt_tokens: int) -> None:
        assert self.max_context is not None
        if prompt_tokens > self.max_context:
            raise _RequestError(
                400,
                f"This model's maximum context length is {self.max_context} tokens. However, your request has "
                f"{prompt_tokens} input tokens. Please reduce the length of the input.",
                "context_length_exceeded",
            )

    def _run(
        self, prompt_ids: list[int], max_tokens: int, top: int, *, score_prompt: bool
    ) -> tuple[list[_Step], list[_Step], str]:
        """Greedy decoding: (prompt steps when `score_prompt`, generated steps without eos, finish reason);
        generation also stops where the model runs out of positions."""
        import torch

        eos = self._model.generation_config.eos_token_id
        stops = set(eos if isinstance(eos, list) else [] if eos is None else [eos])
        budget = min(max_tokens, self._model_positions - len(prompt_ids))
        prompt_steps: list[_Step] = []
        steps: list[_Step] = []
        if not prompt_ids:
            return prompt_steps, steps, "length"
        with torch.no_grad():
            # no KV cache: tiny models recompute faster than the cache API changes between transformers versions
            ids = torch.tensor([prompt_ids])
            table = torch.log_softmax(self._model(ids, use_cache=False).logits[0].float(), dim=-1)
            if score_prompt:
                prompt_steps.append((prompt_ids[0], None, None))
                for position, token in enumerate(prompt_ids[1:]):
                    prompt_steps.append((token, float(table[position, token]), _top(table[position], top)))
            for _ in range(max(budget, 0)):
                logprobs = table[-1]
                token = int(torch.argmax(logprobs))
                if token in stops:
                    return prompt_steps, steps, "stop"
                steps.append((token, float(logprobs[token]), _top(logprobs, top)))
                ids = torch.cat([ids, torch.tensor([[token]])], dim=1)
                table = torch.log_softmax(self._model(ids, use_cache=False).logits[0, -1:].float(), dim=-1)
        return prompt_steps, steps, "length"

    def _chat_logprob(self, token: int, logprob: float | None, tops: list[tuple[int, float]] | None) -> dict[str, Any]:
        return {
            **self._token_entry(token, logprob),
            "top_logprobs": [self._token_entry(t, lp) for t, lp in tops or []],
        }

    def _token_entry(self, token: int, logprob: float | None) -> dict[str, Any]:
        text = self._tokenizer.decode([token])
        return {"token": text, "logprob": logprob, "bytes": list(text.encode("utf-8"))}


_Step = tuple[int, float | None, list[tuple[int, float]] | None]
"""One token: (id, log-probability or None, the top-k (id, log-probability) pairs or None)."""


def _top(logprobs: Any, k: int) -> list[tuple[int, float]]:
    import torch

    values, indices = torch.topk(logprobs, k) if k else (logprobs[:0], logprobs[:0].long())
    return [(int(i), float(v)) for v, i in zip(values, indices)]


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _field(body: dict[str, Any], name: str, kind: type, *, required: bool = False) -> Any:
    """`body[name]` checked against `kind` (None when absent or null, unless `required`); 400 otherwise."""
    value = body.get(name)
    if value is None:
        if required:
            raise _RequestError(400, f"missing required field {name!r}", "missing_field")
        return None
    wrong_bool = isinstance(value, bool) and kind is not bool  # bool is an int to isinstance
    if wrong_bool or not isinstance(value, kind):
        raise _RequestError(400, f"{name!r} must be of type {kind.__name__}, got {type(value).__name__}", "invalid_type")
    return value


def _max_tokens(body: dict[str, Any], *names: str) -> int:
    for name in names:
        value = _field(body, name, int)
        if value is not None:
            if value < 0:
                raise _RequestError(400, f"{name!r} must be >= 0, got {value}")
            return int(value)
    return 16


def _sampling_fields(body: dict[str, Any]) -> None:
    """Check the fields a greedy server accepts but does not need (temperature, top_p) and refuse the ones it
    cannot honour (n > 1, streaming)."""
    for name in ("temperature", "top_p"):
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise _RequestError(400, f"{name!r} must be a number, got {type(value).__name__}", "invalid_type")
    if _field(body, "n", int) not in (None, 1):
        raise _RequestError(400, "only 'n': 1 is supported")
    if _field(body, "stream", bool):
        raise _RequestError(400, "streaming is not supported by this test server")


def _message(message: Any, index: int) -> dict[str, str]:
    """A chat message as {"role", "content"}; content may be a string or a list of text parts."""
    if not isinstance(message, dict):
        raise _RequestError(400, f"messages[{index}] must be an object")
    role = _field(message, "role", str, required=True)
    content = message.get("content")
    if isinstance(content, list):
        parts = [part.get("text") for part in content if isinstance(part, dict) and part.get("type") == "text"]
        if len(parts) != len(content) or not all(isinstance(part, str) for part in parts):
            raise _RequestError(400, f"messages[{index}].content parts must be text parts")
        content = "".join(str(part) for part in parts)
    if not isinstance(content, str):
        raise _RequestError(400, f"messages[{index}].content must be a string or a list of text parts")
    return {"role": role, "content": content}


class _Handler(BaseHTTPRequestHandler):
    """Routes requests to `owner`; every outcome, an exception included, is a JSON response."""

    owner: OpenAIServer
    server_version = "tiny-openai/1.0"
    ROUTES: ClassVar[set[tuple[str, str]]] = {("GET", "/v1/models"), ("POST", "/v1/chat/completions"), ("POST", "/v1/completions")}

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: no access log on stderr."""

    def _handle(self, method: str) -> None:
        owner = self.owner
        failure = owner._enter()
        try:
            status, payload, headers = self._answer(method, failure)
        except Exception as exc:  # noqa: BLE001  (a handler bug must still be an HTTP answer)
            status, payload, headers = 500, _error_body(500, f"internal error: {type(exc).__name__}: {exc}"), {}
        finally:
            owner._leave()
        self._send(status, payload, headers)

    def _answer(
        self, method: str, failure: tuple[int, float | None] | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Checks in the order a real server makes them: injected failure, key, endpoint, body, then the work."""
        owner = self.owner
        body: dict[str, Any] | None = None
        bad_body: _RequestError | None = None
        if method == "POST":
            try:
                body = self._read_body()
            except _RequestError as exc:
                bad_body = exc
        if owner.delay > 0:
            time.sleep(owner.delay)
        if failure is not None:
            status, retry_after = failure
            headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
            return status, _error_body(status, f"injected failure: HTTP {status}"), headers
        try:
            owner._check_auth(self.headers.get("Authorization"))
            path = self.path.split("?", 1)[0].rstrip("/")
            if (method, path) not in self.ROUTES:
                if any(path == known for _, known in self.ROUTES):
                    raise _RequestError(405, f"{method} is not allowed on {path}")
                raise _RequestError(404, f"no such endpoint: {method} {path}", "not_found")
            if bad_body is not None:
                raise bad_body
            if path == "/v1/models":
                return 200, owner.models(), {}
            assert body is not None
            with owner._model_lock:  # the tokenizer is not safe to share between threads either
                work = owner.chat_completion if path == "/v1/chat/completions" else owner.completion
                return 200, work(body), {}
        except _RequestError as exc:
            return exc.status, _error_body(exc.status, exc.message, exc.code), {}

    def _read_body(self) -> dict[str, Any]:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise _RequestError(400, "a POST needs a Content-Length header")
        raw = self.rfile.read(int(length))
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise _RequestError(400, f"the body is not valid JSON: {exc}", "invalid_json") from None
        if not isinstance(body, dict):
            raise _RequestError(400, "the body must be a JSON object", "invalid_json")
        self.owner._record(body)
        return body

    def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
        data = json.dumps(payload).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away; nothing to answer
