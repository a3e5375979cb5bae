"""The reward server (`verifiers serve`): OpenRLHF's remote-reward protocol over HTTP.

    POST /get_reward   {"query": [...], "prompts": [...], "labels": [...]}
    ->                 {"rewards": [...], "scores": [...], "extra_logs": {...}, "statuses": [...]}
    GET  /health       {"status": "ok", "requests": N, "samples": N, "failures": N, "timed_out": N, "refused": N,
                        "in_flight": N}

`query` holds the full texts (prompt + response), as OpenRLHF sends them (`--reward.remote_url
http://host:port/get_reward`); `prompts` and `labels` are optional and as long as `query`. The rewards are those of
`verifiers.integrations.openrlhf.RewardFunc` (the number for UNDECIDED/ERROR/TIMEOUT is configurable and the
status is reported per sample). Requests are served on threads; the ones that arrive while batches run are
verified together in the next batch. A malformed request gets a 4xx with a JSON `{"error": ...}` saying why;
nothing a client sends can stop the server. Its defences, each a keyword of `RewardServer` (default):

  backlog              connections the kernel queues until they are accepted (1024): a burst of training
                       clients waits in the queue instead of being reset.
  read_timeout         seconds a connection may wait idle for its next request, and seconds a request (line,
                       headers, body) may take to arrive once its first byte is in (30); a client that stops
                       sending gets a 408 and is closed, and the same bound holds for sending the answer.
  max_body_bytes       the largest body (64 MiB): 413.
  max_queries          queries per request (4096): 413, saying to split the request.
  max_in_flight        queries being verified across all requests (65536), work past its deadline included, and
  max_in_flight_bytes  body bytes held across all requests (1 GiB): over either, 503 with Retry-After.
  request_timeout      seconds a request's verification may take (120, below OpenRLHF's 180 s client timeout):
                       past it every sample of the request is TIMEOUT (`error_reward`); the work finishes in the
                       background and counts as in flight until then.
  batches              merged batches verified at once (4, see `Scorer`): a slow batch does not hold back the
                       requests that arrive while it runs.
"""

from __future__ import annotations

import io
import json
import socket
import sys
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from verifiers.integrations.openrlhf import RewardFunc
from verifiers.options import check_int, check_number, need
from verifiers.verdict import Verdict

__all__ = ["REWARD_PATHS", "RequestError", "RewardServer"]

REWARD_PATHS = ("/get_reward", "/reward", "/")
DEFAULT_MAX_BODY = 64 * 1024 * 1024
DEFAULT_BACKLOG = 1024
DEFAULT_READ_TIMEOUT = 30.0
DEFAULT_MAX_QUERIES = 4096
DEFAULT_MAX_IN_FLIGHT = 65536
DEFAULT_MAX_IN_FLIGHT_BYTES = 1024 * 1024 * 1024
DEFAULT_REQUEST_TIMEOUT = 120.0
DEFAULT_BATCHES = 4
RETRY_AFTER_S = 1  # what a 503 tells the client to wait
SERVER_VERIFIER = "server"  # the verifier named in the TIMEOUT verdicts of a request past its deadline
_BODY_CHUNK = 1024 * 1024  # a body is read (and counted against max_in_flight_bytes) this much at a time
_LINGER_S, _LINGER_BYTES = 1.0, 1024 * 1024  # what a closing connection still drains, so its answer arrives


class RequestError(Exception):
    """A request the server refuses; `status` is the HTTP status, `headers` go with the answer."""

    def __init__(self, status: HTTPStatus, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}


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


class _Budget:
    """Units in use (queries, bytes) up to `limit`; `take` refuses rather than waits."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._lock = threading.Lock()

    def take(self, amount: int) -> bool:
        with self._lock:
            if self.used + amount > self.limit:
                return False
            self.used += amount
            return True

    def reserve(self, amount: int, what: str) -> None:
        """`take(amount)`, or a 503 that says how much of `what` the server holds and when to retry."""
        if not self.take(amount):
            raise RequestError(
                HTTPStatus.SERVICE_UNAVAILABLE,
                f"the server holds {self.used} {what}, its limit is {self.limit}: retry in {RETRY_AFTER_S} s",
                retry_after=RETRY_AFTER_S,
            )

    def give(self, amount: int) -> None:
        with self._lock:
            self.used -= amount


class _Reader(io.RawIOBase):
    """A connection's incoming bytes under two deadlines: the next request must start within `timeout` seconds,
    and once its first byte is in, all of it must arrive within `timeout` seconds (a client trickling a byte at a
    time gains nothing). `expired` says that a deadline passed, `started` that the request had begun."""

    def __init__(self, sock: socket.socket, timeout: float | None) -> None:
        super().__init__()
        self.sock, self.timeout = sock, timeout
        self.deadline: float | None = None
        self.started = self.expired = False

    def expect_request(self) -> None:
        self.deadline, self.started, self.expired = None, False, False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.timeout is not None:
            wait = self.timeout if self.deadline is None else self.deadline - time.monotonic()
            if wait <= 0:
                self.expired = True
                raise TimeoutError(f"the request did not arrive within {self.timeout:g} s")
            self.sock.settimeout(wait)
        try:
            count = self.sock.recv_into(buffer)
        except TimeoutError:
            self.expired = True
            raise
        if count and not self.started:
            self.started = True
            if self.timeout is not None:
                self.deadline = time.monotonic() + self.timeout
        return count


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], backlog: int) -> None:
        self.request_queue_size = backlog  # read by listen() in server_activate
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):  # a client that went away or stopped reading: not news
            return
        super().handle_error(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        """Stop sending, drain what the client still sends (briefly), then close: closing with unread bytes
        (a refused body) resets the connection, which can destroy the answer on its way to the client."""
        try:
            request.shutdown(socket.SHUT_WR)
            end, drained = time.monotonic() + _LINGER_S, 0
            while drained < _LINGER_BYTES and (left := end - time.monotonic()) > 0:
                request.settimeout(left)
                chunk = request.recv(65536)
                if not chunk:
                    break
                drained += len(chunk)
        except OSError:
            pass
        self.close_request(request)


class RewardServer:
    """An HTTP server answering OpenRLHF reward requests with `reward` (a `RewardFunc`); the keywords are its
    defences against clients (see the module docstring). `batches` (None: keep the reward's own) sets how many
    batches `reward`'s scorer runs at once."""

    def __init__(
        self,
        reward: RewardFunc,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY,
        log_requests: bool = False,
        backlog: int = DEFAULT_BACKLOG,
        read_timeout: float | None = DEFAULT_READ_TIMEOUT,
        max_queries: int = DEFAULT_MAX_QUERIES,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        max_in_flight_bytes: int = DEFAULT_MAX_IN_FLIGHT_BYTES,
        request_timeout: float | None = DEFAULT_REQUEST_TIMEOUT,
        batches: int | None = DEFAULT_BATCHES,
    ) -> None:
        settings = dict(max_body_bytes=max_body_bytes, backlog=backlog, max_queries=max_queries,
                        max_in_flight=max_in_flight, max_in_flight_bytes=max_in_flight_bytes, batches=batches,
                        read_timeout=read_timeout, request_timeout=request_timeout)  # fmt: skip
        for key in ("max_body_bytes", "backlog", "max_queries", "max_in_flight", "max_in_flight_bytes", "batches"):
            check_int("RewardServer", settings, key, optional=key == "batches")
        for key in ("read_timeout", "request_timeout"):
            check_number("RewardServer", settings, key, optional=True, strict=True)
        need(
            max_queries <= max_in_flight,
            f"RewardServer: max_queries ({max_queries}) must not exceed max_in_flight ({max_in_flight})",
        )
        need(max_body_bytes <= max_in_flight_bytes, f"RewardServer: max_body_bytes ({max_body_bytes}) must not "
             f"exceed max_in_flight_bytes ({max_in_flight_bytes})")  # fmt: skip
        self.reward = reward
        if batches is not None:
            reward.scorer.batches = batches
        self.max_body_bytes = max_body_bytes
        self.log_requests = log_requests
        self.read_timeout = read_timeout
        self.max_queries = max_queries
        self.request_timeout = request_timeout
        self.queries = _Budget(max_in_flight)  # queries verified now, by requests answered or not
        self.bytes = _Budget(max_in_flight_bytes)  # body bytes held now
        self.stats = {"requests": 0, "samples": 0, "failures": 0, "timed_out": 0, "refused": 0}
        self._stats_lock = threading.Lock()
        self.httpd = _HTTPServer((host, port), self._handler_class(), backlog)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{int(port)}/get_reward"

    def health(self) -> dict[str, Any]:
        with self._stats_lock:
            return {"status": "ok", **self.stats, "in_flight": self.queries.used}

    def rewards(self, body: Any) -> dict[str, Any]:
        """The response body for a request body; raises `RequestError` for a malformed or refused one."""
        if not isinstance(body, dict):
            raise RequestError(HTTPStatus.BAD_REQUEST, f"the body must be a JSON object, got {type(body).__name__}")
        queries = _texts(body, "query", None)
        assert queries is not None
        if len(queries) > self.max_queries:
            raise RequestError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the request has {len(queries)} queries; the limit is {self.max_queries} per request: split it",
            )
        prompts = _texts(body, "prompts", len(queries))
        labels = _texts(body, "labels", len(queries))
        verdicts = self._verdicts(queries, prompts, labels)
        result = self.reward.result(verdicts, tensors=False)  # JSON lists
        result["statuses"] = [v.status.value for v in verdicts]
        with self._stats_lock:
            self.stats["requests"] += 1
            self.stats["samples"] += len(verdicts)
            self.stats["failures"] += sum(v.status.is_failure for v in verdicts)
        return result

    def _verdicts(self, queries: list[Any], prompts: list[Any] | None, labels: list[Any] | None) -> list[Verdict]:
        """The verdicts of one request; TIMEOUT ones when the work runs past `request_timeout`, in which case it
        finishes in the background and its queries stay counted in flight until it does."""
        count = len(queries)
        self.queries.reserve(count, "queries in verification")
        if self.request_timeout is None:
            try:
                return self.reward.verdicts(queries, prompts, labels)
            finally:
                self.queries.give(count)
        future: Future[list[Verdict]] = Future()

        def work() -> None:
            try:
                verdicts = self.reward.verdicts(queries, prompts, labels)
            except BaseException as exc:
                self.queries.give(count)
                future.set_exception(exc)
            else:
                self.queries.give(count)  # before the answer, so the client's next request finds room
                future.set_result(verdicts)

        try:
            threading.Thread(target=work, name="verifiers-reward-request", daemon=True).start()
        except RuntimeError:  # no more threads
            self.queries.give(count)
            raise RequestError(HTTPStatus.SERVICE_UNAVAILABLE, "the server cannot start another thread: retry later",
                               retry_after=RETRY_AFTER_S) from None  # fmt: skip
        try:
            return future.result(timeout=self.request_timeout)
        except FutureTimeout:
            with self._stats_lock:
                self.stats["timed_out"] += 1
            reason = f"verifying the request took longer than the server's deadline ({self.request_timeout:g} s)"
            return [Verdict.timeout(SERVER_VERIFIER, reason) for _ in queries]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "verifiers-reward-server"

            def setup(self) -> None:
                super().setup()
                self.rfile.close()  # replaced by a reader that keeps the read deadlines
                self.reader = _Reader(self.connection, server.read_timeout)
                self.rfile = io.BufferedReader(self.reader)
                self.held = 0  # body bytes counted against max_in_flight_bytes
                self.answered = False

            def log_message(self, format: str, *args: Any) -> None:
                if server.log_requests:
                    sys.stderr.write(f"{self.address_string()} - {format % args}\n")

            def handle_one_request(self) -> None:
                self.reader.expect_request()
                self.answered = False
                self.requestline, self.request_version, self.command = "", self.protocol_version, ""  # until read
                super().handle_one_request()
                if self.reader.expired:  # the request line or headers did not arrive in time
                    self.close_connection = True
                    if self.reader.started and not self.answered:
                        self._timed_out()

            def _timed_out(self) -> None:
                self._send(HTTPStatus.REQUEST_TIMEOUT,
                           {"error": f"the request did not arrive within {server.read_timeout:g} s"})  # fmt: skip

            def _send(self, status: HTTPStatus, payload: Any, headers: dict[str, str] | None = None) -> None:
                self.answered = True
                if status >= 400:
                    self.close_connection = True
                    with server._stats_lock:
                        server.stats["refused"] += 1
                blob = json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8")
                self.connection.settimeout(server.read_timeout)  # a client that does not read is let go
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(blob)))
                if self.close_connection:
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(blob)

            def do_GET(self) -> None:
                if self.path.split("?")[0] == "/health":
                    self._send(HTTPStatus.OK, server.health())
                else:
                    self._send(HTTPStatus.NOT_FOUND, {"error": f"no such page {self.path!r}; POST to /get_reward"})

            def do_POST(self) -> None:
                headers: dict[str, str] = {}
                try:
                    if self.path.split("?")[0] not in REWARD_PATHS:
                        raise RequestError(HTTPStatus.NOT_FOUND, f"no such endpoint {self.path!r}; POST to /get_reward")
                    status, payload = HTTPStatus.OK, server.rewards(self._body())
                except RequestError as exc:
                    status, payload, headers = exc.status, {"error": str(exc)}, exc.headers
                except TimeoutError:  # the body did not arrive in time
                    self._timed_out()
                    return
                except Exception as exc:  # a bug or a broken executor: say so, keep serving
                    status, payload = HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"{type(exc).__name__}: {exc}"}
                finally:
                    server.bytes.give(self.held)
                    self.held = 0
                self._send(status, payload, headers)

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
                chunks = []
                for start in range(0, length, _BODY_CHUNK):
                    size = min(_BODY_CHUNK, length - start)
                    server.bytes.reserve(size, "bytes of request bodies")
                    self.held += size
                    chunk = self.rfile.read(size)
                    chunks.append(chunk)
                    if len(chunk) < size:
                        got = start + len(chunk)
                        raise RequestError(HTTPStatus.BAD_REQUEST, f"the body ended after {got} of {length} bytes")
                try:
                    return json.loads(b"".join(chunks))
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
