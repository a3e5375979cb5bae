"""The reward server (`verifiers serve`): OpenRLHF's remote-reward protocol over HTTP.

    POST /get_reward   {"query": [...], "prompts": [...], "labels": [...]}
    ->                 {"rewards": [...], "scores": [...], "extra_logs": {...}, "statuses": [...]}
    GET  /health       {"status": "ok", "requests": N, "samples": N, "failures": N}

`query` holds the full texts (prompt + response), as OpenRLHF sends them (`--remote_rm_url
http://host:port/get_reward`); `prompts` and `labels` are optional and as long as `query`. The rewards are those of
`verifiers.integrations.openrlhf.RewardFunc` (the number for UNDECIDED/ERROR/TIMEOUT is configurable and the
status is reported per sample). Requests are served on threads; the ones that arrive while a batch runs are
verified together in the next batch. A malformed request gets a 4xx with a JSON `{"error": ...}` saying why;
nothing a client sends can stop the server.
"""

from __future__ import annotations

import json
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from verifiers.integrations.openrlhf import RewardFunc

__all__ = ["REWARD_PATHS", "RequestError", "RewardServer"]

REWARD_PATHS = ("/get_reward", "/reward", "/")
DEFAULT_MAX_BODY = 64 * 1024 * 1024


class RequestError(Exception):
    """A request the server refuses; `status` is the HTTP status."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


def _texts(body: dict[str, Any], key: str, count: int | None) -> list[Any] | None:
    value = body.get(key)
    if value is None:
        if count is None:
            raise RequestError(HTTPStatus.BAD_REQUEST, f"the body needs {key!r}: a list of strings (prompt + response)")
        return None
    if isinstance(value, str) and key == "query":
        value = [value]
    if not isinstance(value, list):
        raise RequestError(HTTPStatus.BAD_REQUEST, f"{key!r} must be a list, got {type(value).__name__}")
    if count is not None and len(value) != count:
        raise RequestError(HTTPStatus.BAD_REQUEST, f"{key!r} has {len(value)} entries for {count} queries")
    return value


class RewardServer:
    """An HTTP server answering OpenRLHF reward requests with `reward` (a `RewardFunc`)."""

    def __init__(
        self,
        reward: RewardFunc,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY,
        log_requests: bool = False,
    ) -> None:
        self.reward = reward
        self.max_body_bytes = max_body_bytes
        self.log_requests = log_requests
        self.stats = {"requests": 0, "samples": 0, "failures": 0}
        self._stats_lock = threading.Lock()
        self.httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{int(port)}/get_reward"

    def rewards(self, body: Any) -> dict[str, Any]:
        """The response body for a request body; raises `RequestError` for a malformed one."""
        if not isinstance(body, dict):
            raise RequestError(HTTPStatus.BAD_REQUEST, f"the body must be a JSON object, got {type(body).__name__}")
        queries = _texts(body, "query", None)
        assert queries is not None
        prompts = _texts(body, "prompts", len(queries))
        labels = _texts(body, "labels", len(queries))
        verdicts = self.reward.verdicts(queries, prompts, labels)
        result = self.reward.result(verdicts, tensors=False)  # JSON lists
        result["statuses"] = [v.status.value for v in verdicts]
        with self._stats_lock:
            self.stats["requests"] += 1
            self.stats["samples"] += len(verdicts)
            self.stats["failures"] += sum(v.status.is_failure for v in verdicts)
        return result

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "verifiers-reward-server"

            def log_message(self, format: str, *args: Any) -> None:
                if server.log_requests:
                    sys.stderr.write(f"{self.address_string()} - {format % args}\n")

            def _send(self, status: HTTPStatus, payload: Any) -> None:
                blob = json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(blob)))
                self.end_headers()
                self.wfile.write(blob)

            def do_GET(self) -> None:
                if self.path.split("?")[0] == "/health":
                    with server._stats_lock:
                        self._send(HTTPStatus.OK, {"status": "ok", **server.stats})
                else:
                    self._send(HTTPStatus.NOT_FOUND, {"error": f"no such page {self.path!r}; POST to /get_reward"})

            def do_POST(self) -> None:
                try:
                    if self.path.split("?")[0] not in REWARD_PATHS:
                        raise RequestError(HTTPStatus.NOT_FOUND, f"no such endpoint {self.path!r}; POST to /get_reward")
                    body = self._body()
                    self._send(HTTPStatus.OK, server.rewards(body))
                except RequestError as exc:
                    self.close_connection = True
                    self._send(exc.status, {"error": str(exc)})
                except Exception as exc:  # a bug or a broken executor: say so, keep serving
                    self.close_connection = True
                    self._send(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"{type(exc).__name__}: {exc}"})

            def _body(self) -> Any:
                length_header = self.headers.get("Content-Length")
                if length_header is None:
                    raise RequestError(HTTPStatus.LENGTH_REQUIRED, "send a Content-Length header")
                try:
                    length = int(length_header)
                except ValueError:
                    raise RequestError(HTTPStatus.BAD_REQUEST, f"bad Content-Length {length_header!r}") from None
                if length < 0 or length > server.max_body_bytes:
                    raise RequestError(
                        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                        f"the body is {length} bytes; the limit is {server.max_body_bytes}",
                    )
                raw = self.rfile.read(length)
                try:
                    return json.loads(raw)
                except (ValueError, RecursionError) as exc:
                    raise RequestError(HTTPStatus.BAD_REQUEST, f"the body is not valid JSON: {exc}") from None

        return Handler

    # -- running --------------------------------------------------------------------------------------------
    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.2)

    def start(self) -> RewardServer:
        """Serve from a background thread (for embedding in a process that does other work, and tests)."""
        self._thread = threading.Thread(target=self.serve_forever, name="verifiers-reward-server", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and release the port."""
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self.httpd.server_close()

    def __enter__(self) -> RewardServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
