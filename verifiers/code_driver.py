"""The test driver that runs INSIDE the sandbox for the `code` verifier (self-contained: stdlib only).

`verifiers.code` sends this file's source as the sandboxed program and a JSON payload on stdin. Nothing the
candidate's code can reach is trusted by the parent, and the test code never shares an interpreter with it:

* Three kinds of process. The driver ("D", this process) reads the payload and makes itself non-dumpable (so no
  other process of the same user can ptrace it, read or write its memory through /proc, or take its
  descriptors). For each session of tests it forks the program's process ("S"), which closes every descriptor
  to the parent's records, loads the program as module `solution`, reports its top-level names and then answers
  requests, and a test process ("R"): a fresh fork of D, a clean interpreter in which the program was never
  loaded. R and S are joined by two pipes. The program's top-level functions and classes are proxies in R:
  calling one sends plain data (tagged, see below) to S, which runs the call and answers with plain data, which
  R decodes into fresh builtin objects (or a handle for anything else: a generator, an instance, a method). So
  every expected value, comparison, comprehension, loop, helper and `check` function of the tests runs in R, on
  builtin values, and nothing the program does to its own interpreter (builtins, modules, frames, `exec`,
  compile flags, `json`, `==`) reaches it. A program name that is a builtin or a standard-library module name is
  the real one in R (a program cannot make `math.pi` or `sorted` its own), program constants are not values in
  R, and R imports only from directories no sandboxed process can write to. A session runs the tests in order
  (each in a fresh copy of R's namespace; the program keeps its state between them, as in one interpreter under
  the official harnesses); after a test that times out, kills R or breaks the pipes, the next test gets a new
  session with the program loaded again.
* R reports the values of the assert "leaves" (plain data by exact type) on a pipe to D; D turns them into
  records. Records are lines `<nonce> <json>` on a private duplicate of the original stdout,
  which no candidate process holds; each carries a sequence number `n` (0, 1, 2, ...); the parent rejects the
  whole execution on a duplicate, out-of-order or malformed record.
* Each test has a hard wall deadline enforced by D (SIGKILL of R and S); S also gets a soft RLIMIT_CPU per
  request. A test whose S dies, exits or hangs fails (its calls raise in R). An exit status never means
  "passed": only a record with values does.

Payload: {"nonce", "mode": "assert" | "stdio", "code", "tests", "timeout", "load_timeout", "total_timeout",
"memory_mb", "max_value_bytes", "max_output_bytes"}.
  mode "assert": each test is a list of ops run in order in R:
      ["exec", src]  run statements (setup, or a whole loop-style test); an exception ends the test
      ["eval", src]  evaluate an expression; its encoded value, or its exception, is kept
      ["call", name, args, kwargs]  call `name(*args, **kwargs)` with decoded (tagged) arguments
  mode "stdio": each test is an input string; a forked child runs the code as `__main__` with that stdin (the
      parent compares the output: there is nothing to share).
Records: {"k": "loaded", "ok": bool, "error"?: str, "compile"?: bool}, then one {"k": "test", "i": index,
"r": result} per test in order, then {"k": "end"}; every record has "n".
  assert result: {"x": "ok", "ops": [{"v": value} | {"e": "Type: message"}, ...]} (one per op run) or {"x": "timeout" |
      "died" | "skipped" | "bad", ...}
  stdio result: {"x": "ok" | "timeout" | "died" | "skipped", "rc", "sig", "out", "err", "t", "trunc"}
Values: ["N"], ["b", bool], ["i", hex], ["f", float.hex], ["c", re_hex, im_hex], ["s", str], ["y", hex],
["l", [...]], ["t", [...]], ["S", [...]], ["F", [...]], ["d", [[k, v], ...]]; between R and S also ["H", n], an
object that stays in S (a handle).
R -> S requests: {"op": "call" | "getattr" | "iter" | "next" | "len" | "bool" | "getitem", "t": ["n", name] |
["h", n], ...}; S -> R replies: {"v": value, "a"?: [args after the call]} | {"e": [type name, message]} |
{"stop": 1} (StopIteration), each a 4-byte big-endian length and JSON; S's first message is its load report
{"ok": true, "names": [[name, "m", module name] | [name, "o"], ...]} or {"ok": false, "error"}.
"""

import builtins
import io
import json
import os
import select
import signal
import socket
import sys
import time
import types

try:
    import resource
except ImportError:  # pragma: no cover - not on Linux
    resource = None  # type: ignore[assignment]

_type = type
_KEYS_VIEW: type = _type({}.keys())
_ITEMS_VIEW: type = _type({}.items())
_len = len
_isinstance = isinstance
_MAX_DEPTH = 100
_MAX_NODES = 2000000


class NotPlain(Exception):
    """The value is not plain data (or too large / too deep)."""


def encode(value, depth=0, budget=None, handles=None):
    """The tagged plain-data form of `value`, by exact type; raises NotPlain for anything else, unless `handles`
    (a dict) is given: then anything else is stored there and sent as a handle ["H", n]."""
    if budget is None:
        budget = [_MAX_NODES]
    budget[0] -= 1
    if budget[0] < 0:
        raise NotPlain("value too large")
    if depth > _MAX_DEPTH:
        raise NotPlain("value nested too deep")
    t = _type(value)
    if value is None:
        return ["N"]
    if t is bool:
        return ["b", value is True]
    # Subclasses (IntEnum, Counter, OrderedDict, namedtuple, ...) give their plain data, read with the base type's
    # own methods: whatever a subclass overrides (`__eq__`, `__iter__`, `__str__`) never runs here or in R.
    if _isinstance(value, int):
        return ["i", int.__format__(int.__index__(value), "x")]
    if _isinstance(value, float):
        return ["f", float.hex(float.__float__(value))]
    if _isinstance(value, complex):
        return ["c", float.hex(complex.real.__get__(value)), float.hex(complex.imag.__get__(value))]
    if _isinstance(value, str):
        return ["s", str.__str__(value)]
    if _isinstance(value, (bytes, bytearray)):
        return ["y", bytes.hex(bytes(memoryview(value)))]
    for base, tag in ((list, "l"), (tuple, "t"), (set, "S"), (frozenset, "F")):
        if _isinstance(value, base):
            items = list(base.__iter__(value))
            return [tag, [encode(v, depth + 1, budget, handles) for v in items]]
    if _isinstance(value, dict):
        pairs = list(dict.items(value))
        return ["d", [[encode(k, depth + 1, budget, handles), encode(v, depth + 1, budget, handles)] for k, v in pairs]]
    if t is _KEYS_VIEW or t is _ITEMS_VIEW:  # compare as sets, as Python compares them
        return ["S", [encode(v, depth + 1, budget, handles) for v in list(t.__iter__(value))]]
    if handles is not None:
        n = _len(handles) + 1
        handles[n] = value
        return ["H", n]
    raise NotPlain("not plain data: %s" % (t.__name__,))


def decode(data, depth=0, handle=None):
    """Tagged plain data -> fresh builtin values. A handle ["H", n] or name ["G", name]
    becomes `handle(tag, key)` (ValueError without `handle`)."""
    if depth > _MAX_DEPTH:
        raise ValueError("nested too deep")
    if _type(data) is not list or not data or _type(data[0]) is not str:
        raise ValueError("malformed value")
    tag = data[0]
    if tag == "N":
        return None
    if tag == "b":
        return data[1] is True
    if tag == "i":
        return int(str(data[1]), 16)
    if tag == "f":
        return float.fromhex(str(data[1]))
    if tag == "c":
        return complex(float.fromhex(str(data[1])), float.fromhex(str(data[2])))
    if tag == "s":
        return str(data[1])
    if tag == "y":
        return bytes.fromhex(str(data[1]))
    if tag in ("l", "t", "S", "F"):
        items = [decode(v, depth + 1, handle) for v in data[1]]
        return {"l": list, "t": tuple, "S": set, "F": frozenset}[tag](items)
    if tag == "d":
        return {decode(k, depth + 1, handle): decode(v, depth + 1, handle) for k, v in data[1]}
    if tag in ("H", "G") and handle is not None:
        return handle(tag, data[1])
    raise ValueError("unknown tag %r" % (tag,))


def _describe(exc):
    try:
        text = "%s: %s" % (_type(exc).__name__, exc)
    except BaseException:  # a hostile __str__
        text = "%s" % (_type(exc).__name__,)
    return text[:500]


class _Records:
    def __init__(self, fd, nonce):
        self.fd = fd
        self.prefix = (nonce + " ").encode("ascii")
        self.n = 0

    def emit(self, record):
        record["n"] = self.n
        self.n += 1
        data = self.prefix + json.dumps(record, separators=(",", ":")).encode("utf-8", "surrogatepass") + b"\n"
        while data:
            written = os.write(self.fd, data)
            data = data[written:]


def _memfd(name):
    if hasattr(os, "memfd_create"):
        try:
            return os.memfd_create(name, 0)
        except OSError:
            pass
    import tempfile

    fd, path = tempfile.mkstemp()
    os.unlink(path)
    return fd


def _read_fd(fd, cap):
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    total = 0
    while total <= cap:
        chunk = os.read(fd, min(1 << 16, cap + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += _len(chunk)
    data = b"".join(chunks)
    return data[:cap], _len(data) > cap


def _wait(pid, deadline):
    """(status or None on timeout) for child `pid`, killing it at `deadline`."""
    pidfd = None
    if hasattr(os, "pidfd_open"):
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            pidfd = None
    try:
        delay = 0.0005
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status
            left = deadline - time.monotonic()
            if left <= 0:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
                os.waitpid(pid, 0)
                return None
            if pidfd is not None:
                select.select([pidfd], [], [], left)
            else:
                time.sleep(min(delay, left))
                delay = min(delay * 2, 0.02)
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _limit_child(payload, cpu=None):
    if resource is None:
        return
    cpu = int(payload["timeout"]) + 1 if cpu is None else int(cpu)
    for which, value in (
        (resource.RLIMIT_CPU, cpu),
        (resource.RLIMIT_AS, int(payload["memory_mb"]) << 20),
        (resource.RLIMIT_CORE, 0),
    ):
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass


def _fork_test(payload, records_fd, body, out_fd):
    """Run `body()` in a child (that first closes `records_fd`); returns (status or None on timeout, seconds)."""
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.close(records_fd)
            for sig in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT, signal.SIGPIPE):
                try:
                    signal.signal(sig, signal.SIG_DFL)
                except (OSError, ValueError):
                    pass
            _limit_child(payload)
            body(out_fd)
        except BaseException:
            os._exit(121)
        os._exit(0)
    status = _wait(pid, start + float(payload["timeout"]))
    return status, time.monotonic() - start


def _status_fields(status):
    if status is None:
        return {"x": "timeout", "rc": None, "sig": signal.SIGKILL}
    if os.WIFSIGNALED(status):
        return {"x": "died", "rc": None, "sig": os.WTERMSIG(status)}
    return {"x": "ok", "rc": os.WEXITSTATUS(status), "sig": None}


# -- the wire between a test process (R) and the program's server (S) --------------------------------------


def _send_frame(fd, obj):
    data = json.dumps(obj, separators=(",", ":")).encode("utf-8", "surrogatepass")
    data = _len(data).to_bytes(4, "big") + data
    while data:
        data = data[os.write(fd, data) :]


def _read_exact(fd, n, deadline=None):
    chunks = []
    while n > 0:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError("no answer in time")
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed its end")
        chunks.append(chunk)
        n -= _len(chunk)
    return b"".join(chunks)


def _recv_frame(fd, cap, deadline=None):
    size = int.from_bytes(_read_exact(fd, 4, deadline), "big")
    if size > cap:
        raise ValueError("a message of %d bytes, over %d" % (size, cap))
    return json.loads(_read_exact(fd, size, deadline).decode("utf-8", "surrogatepass"))


class RemoteError(Exception):
    """Raised in a test when the program's side raised a non-builtin exception, or did not answer."""


class _Link:
    """R's pipes to and from its S (one pair per session)."""

    to_program = -1
    from_program = -1
    cap = 1 << 16
    broken = ""


_LINK = _Link()
_NOT_RAISED_AS_IS = (StopIteration, StopAsyncIteration, GeneratorExit)


def _raise_remote(error):
    """Raise, in R, the exception the program raised: a builtin exception type as itself, anything else as
    RemoteError (never a type the program defined, never one that changes control flow such as StopIteration)."""
    name, message = "Exception", ""
    if _type(error) is list and _len(error) == 2:
        name, message = str(error[0])[:100], str(error[1])[:500]
    cls = getattr(builtins, name, None)
    if _isinstance(cls, type) and issubclass(cls, Exception) and not issubclass(cls, _NOT_RAISED_AS_IS):
        try:
            exc = cls(message)
        except BaseException:
            exc = None
        if exc is not None:
            raise exc
    raise RemoteError("%s: %s" % (name, message))


def _rpc(op, target, **fields):
    """One request to S; returns (value, reply). Values arrive as fresh builtins or `_Remote` handles."""
    if _LINK.broken:
        raise RemoteError(_LINK.broken)
    request = {"op": op, "t": target}
    request.update(fields)
    try:
        _send_frame(_LINK.to_program, request)
        reply = _recv_frame(_LINK.from_program, _LINK.cap)
        if _type(reply) is not dict:
            raise ValueError("not a reply")
        if "e" in reply:
            error = reply["e"]
        elif "stop" in reply:
            error = None
        else:
            return decode(reply.get("v"), handle=_Remote.handle), reply
    except BaseException as exc:  # EOF, reset, an oversized or malformed reply: the program's side failed
        _LINK.broken = "the program's process %s" % (
            "ended or closed its side"
            if _isinstance(exc, (EOFError, OSError))
            else "answered with more than %d bytes" % (_LINK.cap,)
            if "over" in _message(exc)
            else "gave no valid answer (%s)" % (_type(exc).__name__,)
        )
        raise RemoteError(_LINK.broken) from None
    if error is None:
        raise StopIteration
    _raise_remote(error)


class _Remote:
    """A function, class or other object of the program, living in S. Calls, attribute reads, iteration, len,
    truth and indexing are requests to S; equality and hashing are by identity (the program's `__eq__` never
    runs in R)."""

    __slots__ = ("_target",)

    def __init__(self, target):
        object.__setattr__(self, "_target", target)

    @staticmethod
    def handle(tag, key):
        if tag != "H" or _type(key) is not int:
            raise ValueError("malformed handle")
        return _Remote(["h", key])

    def __call__(self, *args, **kwargs):
        value, reply = _rpc("call", self._target, a=_wire(list(args)), k=_wire(dict(kwargs)))
        after = reply.get("a")
        if _type(after) is list and _len(after) == _len(args):
            for arg, new in zip(args, after):  # in-place changes to list/dict/set arguments, as Python shares them
                t = _type(arg)
                if new is None or t not in (list, dict, set):
                    continue
                try:
                    fresh = decode(new)
                except BaseException:
                    continue
                if _type(fresh) is not t:
                    continue
                if t is list:
                    arg[:] = fresh
                else:
                    arg.clear()
                    arg.update(fresh)
        return value

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _rpc("getattr", self._target, attr=str(name))[0]

    def __setattr__(self, name, value):
        raise AttributeError("objects of the program are read-only in tests")

    def __iter__(self):
        return _rpc("iter", self._target)[0]

    def __next__(self):
        return _rpc("next", self._target)[0]

    def __len__(self):
        value = _rpc("len", self._target)[0]
        if _type(value) is not int:
            raise TypeError("len() of a program object is not an int")
        return value

    def __bool__(self):
        value = _rpc("bool", self._target)[0]
        if _type(value) is not bool:
            raise TypeError("the truth value of a program object is not a bool")
        return value

    def __getitem__(self, key):
        return _rpc("getitem", self._target, key=_wire(key))[0]

    def __repr__(self):
        return "<program object %s>" % (self._target[1],)


class _RemoteTargets(dict):
    """`encode`'s handle table for data R sends to S: a `_Remote` goes back as its target (["H", n] for a handle,
    ["G", name] for one of the program's names); anything else is not plain data."""

    def __setitem__(self, key, value):
        if _type(value) is not _Remote:
            raise NotPlain("not plain data: %s" % (_type(value).__name__,))
        kind, target = value._target
        dict.__setitem__(self, key, ["H", target] if kind == "h" else ["G", target])


def _wire(value):
    """Test-side data -> tagged form for S (see `_RemoteTargets`)."""
    table = _RemoteTargets()
    return _marked(encode(value, handles=table), table)


# -- the program's server (S) -------------------------------------------------------------------------------


def _cpu_budget(seconds):
    """Soft RLIMIT_CPU = CPU used so far + `seconds` (under the session's hard limit): SIGXCPU ends a request
    that computes too long even when the test process has already been stopped."""
    if resource is None:
        return
    try:
        used = resource.getrusage(resource.RUSAGE_SELF)
        hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
        soft = int(used.ru_utime + used.ru_stime + seconds) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (soft if hard < 0 else min(soft, hard), hard))
    except (ValueError, OSError):
        pass


def _serve(requests, replies, module, cap, per_request):
    """Answer R's requests with the program's objects until R goes away. Runs the program's code: untrusted."""
    handles = {}
    names = module.__dict__

    def resolve(tag, key):
        if tag == "H":
            return handles[key]
        if tag == "G":
            return names[key]
        raise ValueError("unknown handle tag")

    while True:
        try:
            request = _recv_frame(requests, cap)
        except BaseException:
            os._exit(0)
        reply = None
        try:
            kind, key = request["t"]
            if kind == "n":
                if key not in names:
                    raise NameError("name %r is not defined by the program" % (key,))
                obj = names[key]
            else:
                obj = handles[key]
            op = request["op"]
            after = None
            _cpu_budget(per_request)
            if op == "call":
                args = decode(request["a"], handle=resolve)
                kwargs = decode(request["k"], handle=resolve)
                value = obj(*args, **kwargs)
                after = []  # the list/dict/set arguments the call changed in place, as Python would share them
                for arg, sent in zip(args, request["a"][1]):
                    try:
                        now = encode(arg) if _type(arg) in (list, dict, set) else None
                    except BaseException:
                        now = None
                    after.append(now if now != sent else None)
            elif op == "getattr":
                value = getattr(obj, request["attr"])
            elif op == "iter":
                value = iter(obj)
            elif op == "next":
                value = next(obj)
            elif op == "len":
                value = len(obj)
            elif op == "bool":
                value = bool(obj)
            elif op == "getitem":
                value = obj[decode(request["key"], handle=resolve)]
            else:
                raise ValueError("unknown request")
            reply = {"v": encode(value, handles=handles)}
            if after is not None:
                reply["a"] = after
        except StopIteration as exc:  # the end of an iteration only where R asked for the next item
            reply = {"stop": 1} if request.get("op") == "next" else {"e": ["StopIteration", _message(exc)]}
        except BaseException as exc:  # SystemExit and KeyboardInterrupt included: an answer, not an exit
            reply = {"e": [_type(exc).__name__, _message(exc)]}
        try:
            _send_frame(replies, reply)
        except BaseException:
            os._exit(0)


def _message(exc):
    try:
        return str(exc)[:500]
    except BaseException:
        return ""


def _program(requests, replies, code_obj, payload):
    """S: load the program as module `solution`, report its top-level names on `replies`, then answer R's
    requests. Runs the program's code: everything here is untrusted by D and R. Never returns."""
    try:
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        _limit_child(payload, cpu=float(payload["load_timeout"]) + float(payload["total_timeout"]) + 1)
        module = types.ModuleType("solution")
        module.__file__ = "solution.py"
        module.__builtins__ = builtins
        sys.modules["solution"] = module

        def load_timeout(signum, frame):
            raise TimeoutError("loading the program took over %g s" % (payload["load_timeout"],))

        try:
            signal.signal(signal.SIGALRM, load_timeout)
            signal.setitimer(signal.ITIMER_REAL, float(payload["load_timeout"]))
            exec(code_obj, module.__dict__)
            signal.setitimer(signal.ITIMER_REAL, 0)
        except BaseException as exc:
            signal.setitimer(signal.ITIMER_REAL, 0)
            _send_frame(replies, {"ok": False, "error": _describe(exc)})
            os._exit(0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.signal(signal.SIGXCPU, signal.SIG_DFL)
        names = []
        for name, value in list(module.__dict__.items()):
            if _type(name) is not str or name.startswith("__"):
                continue
            if _isinstance(value, types.ModuleType):
                names.append([name, "m", str(getattr(value, "__name__", ""))])
            else:
                names.append([name, "o"])
        _send_frame(replies, {"ok": True, "names": names})
        _serve(requests, replies, module, max(int(payload["max_value_bytes"]) * 64, 1 << 22), float(payload["timeout"]))
    finally:
        os._exit(0)


def _zygote(channel):
    """Z: forked before the payload is read, so neither it nor the program's processes it forks hold any test.
    Receives the program's code and limits once, then forks one S per pair of pipe ends D sends, answering each
    with S's pid. Never returns; never runs the program's code itself."""
    try:
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # S processes are reaped by the kernel
        first = _recv_frame(channel.fileno(), 1 << 26)
        limits = first["limits"]
        code_obj = compile(first["code"], "solution.py", "exec")
        while True:
            msg, fds, _, _ = socket.recv_fds(channel, 1, 2)
            if not msg or _len(fds) != 2:
                os._exit(0)
            pid = os.fork()
            if pid == 0:
                try:
                    channel.close()
                    _program(fds[0], fds[1], code_obj, limits)
                finally:
                    os._exit(0)
            for fd in fds:
                os.close(fd)
            _send_frame(channel.fileno(), {"pid": pid})
    finally:
        os._exit(0)


def _start_zygote():
    """Fork Z (see `_zygote`); D's end of the channel to it."""
    mine, theirs = socket.socketpair()
    if os.fork() == 0:
        mine.close()
        _zygote(theirs)
    theirs.close()
    return mine


# -- the test process (R) -----------------------------------------------------------------------------------


def _session(namespace, tests, first, max_value_bytes, to_program, from_program, results_fd):
    """R: run tests[first:] in order, each in a fresh copy of the clean namespace, one result frame each on
    `results_fd`; stops after a test whose link to S broke (D starts a new session for the rest)."""
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # a vanished S is a RemoteError in the test, not a death
    _LINK.to_program, _LINK.from_program = to_program, from_program
    _LINK.cap = max(max_value_bytes * 64, 1 << 22)  # what R reads from S; R's own results stay within max_value_bytes
    for i in range(first, _len(tests)):
        ops = _run_ops(dict(namespace), tests[i], max_value_bytes)
        frame = {"i": i, "ops": ops}
        if _LINK.broken:
            frame["broken"] = True
        data = json.dumps(frame, separators=(",", ":")).encode("utf-8", "surrogatepass")
        data = _len(data).to_bytes(4, "big") + data
        while data:
            data = data[os.write(results_fd, data) :]
        if _LINK.broken:
            return


def _entry(ns, name):
    """The function a call test calls: the program's top-level `name`, else (the LeetCode convention of LiveCodeBench
    and TACO) the method `name` of a fresh instance of the program's `class Solution`."""
    if name in ns:
        return ns[name]
    if "Solution" in ns:
        return getattr(ns["Solution"](), name)
    raise NameError("the program defines no %r" % (name,))


def _run_ops(ns, ops, max_value_bytes):
    """Run one test's ops; the values of an assert's leaves are read when its last leaf has run (an operand is a
    reference in Python: a later call of the same assert that changes it in place is seen)."""
    results = []
    pending = []

    def flush():
        for slot, value in pending:
            results[slot] = _leaf_result(value, max_value_bytes)
        del pending[:]

    for op in ops:
        try:
            if op[0] == "exec":
                flush()
                exec(compile(op[1], "<test>", "exec"), ns)
                results.append({"v": ["N"]})
                continue
            if op[0] == "eval":
                value = eval(compile(op[1], "<test>", "eval"), ns)
            else:
                value = _entry(ns, op[1])(*decode(op[2]), **decode(op[3]))
            pending.append((_len(results), value))
            results.append(None)
            if _len(op) > 2 and op[-1] == 1:  # the last leaf of an assert
                flush()
        except BaseException as exc:  # SystemExit and KeyboardInterrupt included
            results.append({"e": _describe(exc)})
            if op[0] == "exec":
                break
    flush()
    return results


_BUILTIN_TYPES = {
    t.__name__: t for t in (int, float, complex, bool, str, bytes, list, tuple, set, frozenset, dict, type(None))
}


class _LeafTable(dict):
    """`encode`'s handle table for a leaf's value in R: a program object becomes the marker ["O"] (a thing that is
    not plain data, equal only to itself, true), a builtin type ["T", name]; anything else is not plain data."""

    def __setitem__(self, key, value):
        if _type(value) is _Remote:
            dict.__setitem__(self, key, ["O"])
        elif _type(value) is type and _BUILTIN_TYPES.get(value.__name__) is value:
            dict.__setitem__(self, key, ["T", value.__name__])
        else:
            raise NotPlain("not plain data: %s" % (_type(value).__name__,))


def _leaf_result(value, max_value_bytes):
    table = _LeafTable()
    try:
        encoded = json.dumps({"v": _marked(encode(value, handles=table), table)}, separators=(",", ":"))
    except NotPlain as exc:
        return {"e": "NotPlainData: %s" % (exc,)}
    except BaseException as exc:
        return {"e": _describe(exc)}
    if _len(encoded) > max_value_bytes:
        return {"e": "NotPlainData: value over %d bytes" % (max_value_bytes,)}
    return json.loads(encoded)


def _marked(data, table):
    """Tagged data with each handle ["H", n] that `encode` stored in `table` replaced by the marker stored there."""
    if _type(data) is list and data and data[0] == "H":
        return table[data[1]]
    if _type(data) is list and data and data[0] in ("l", "t", "S", "F"):
        return [data[0], [_marked(v, table) for v in data[1]]]
    if _type(data) is list and data and data[0] == "d":
        return ["d", [[_marked(k, table), _marked(v, table)] for k, v in data[1]]]
    return data


_NEVER_IMPORTED = frozenset(
    {
        "antigravity",
        "this",
        "turtle",
        "turtledemo",
        "tkinter",
        "idlelib",
        "webbrowser",
        "pydoc",
        "pdb",
        "code",
        "ensurepip",
        "venv",
    }
)


def _stdlib_module(name):
    """The real standard-library module `name`, imported here (in D), or None."""
    names = getattr(sys, "stdlib_module_names", ())
    if _type(name) is not str or name not in names or name in _NEVER_IMPORTED or name.startswith("_"):
        return None
    try:
        return __import__(name)
    except BaseException:
        return None


def _test_namespace(report, entry_point):
    """R's globals: builtins, the real standard-library modules the program imported, and a `_Remote` for each
    other top-level name of the program (never one that shadows a builtin, except the entry point)."""
    ns = {"__builtins__": builtins, "__name__": "__main__"}  # `if __name__ == "__main__":` test blocks run
    solution = types.ModuleType("solution")
    items = report.get("names") if _type(report) is dict else None
    for item in (items if _type(items) is list else [])[:100000]:
        if _type(item) is not list or _len(item) < 2 or _type(item[0]) is not str or not item[0].isidentifier():
            continue
        name = item[0]
        module = None if name == entry_point else _stdlib_module(name)
        if module is None and name != entry_point and item[1] == "m" and _len(item) > 2:
            module = _stdlib_module(item[2])
        if module is not None:
            ns[name] = module
        elif name == entry_point or not hasattr(builtins, name):
            ns[name] = _Remote(["n", name])
        else:
            continue
        setattr(solution, name, ns[name])
    sys.modules["solution"] = solution
    return ns


def _read_only_path():
    """Drop every import directory a sandboxed process could write to (or create), so R imports nothing of the
    program's making; the interpreter's own standard library always stays. Returns the path as it was (for S)."""
    original = list(sys.path)
    stdlib = os.path.dirname(os.__file__)
    own = (stdlib, os.path.join(stdlib, "lib-dynload"))
    kept = []
    for entry in sys.path:
        if entry in own:
            kept.append(entry)
            continue
        if not entry or not os.path.isabs(entry) or not os.path.exists(entry):
            continue
        if os.access(entry, os.W_OK) or os.access(os.path.dirname(entry) or "/", os.W_OK):
            continue
        kept.append(entry)
    sys.path[:] = kept
    sys.path_importer_cache.clear()
    return original


_PROGRAM_PATH: list = []


def _program_path():
    """In a process that runs the program: the import path as it was, so the program imports as anywhere."""
    sys.path[:] = _PROGRAM_PATH
    sys.path_importer_cache.clear()


def _not_dumpable():
    """PR_SET_DUMPABLE 0: processes of the same user cannot ptrace this one or open its /proc memory and fds."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(4, 0, 0, 0, 0) == 0
    except BaseException:
        return False


def _stdio_child(code_obj, input_text, max_output_bytes, err_fd):
    def body(out_fd):
        in_fd = _memfd("stdin")
        data = input_text.encode("utf-8", "surrogatepass")
        while data:
            data = data[os.write(in_fd, data) :]
        os.lseek(in_fd, 0, os.SEEK_SET)
        os.dup2(in_fd, 0)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        if resource is not None:
            try:
                cap = max_output_bytes + 1
                resource.setrlimit(resource.RLIMIT_FSIZE, (cap, cap))
            except (ValueError, OSError):
                pass
        sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding="utf-8")
        sys.stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)), encoding="utf-8")
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", write_through=True)
        sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr  # type: ignore[misc]
        module = types.ModuleType("__main__")
        module.__file__ = "solution.py"
        module.__builtins__ = builtins
        sys.modules["__main__"] = module
        sys.argv = ["solution.py"]
        _program_path()
        status = 0
        try:
            exec(code_obj, module.__dict__)
        except SystemExit as exc:
            code = exc.code
            if code is None:
                status = 0
            elif _type(code) is int:
                status = code & 0xFF
            else:
                status = 1
                try:
                    sys.stderr.write(str(code) + "\n")
                except BaseException:
                    pass
        except BaseException as exc:
            status = 1
            try:
                import traceback

                traceback.print_exception(_type(exc), exc, exc.__traceback__)
            except BaseException:
                pass
        status = _shutdown(status)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                status = status or 1
        os._exit(status)

    return body


def _shutdown(status):
    """What the interpreter does at exit for a program run as `__main__`: wait for its non-daemon threads (the
    `threading.Thread(target=main).start()` idiom), then run its `atexit` functions. D's deadline still holds."""
    try:
        threading = sys.modules.get("threading")
        if threading is not None:
            for thread in threading.enumerate():
                if thread is not threading.main_thread() and not thread.daemon:
                    thread.join()
        atexit = sys.modules.get("atexit")
        if atexit is not None:
            atexit._run_exitfuncs()
    except SystemExit as exc:
        code = exc.code
        status = code & 0xFF if _type(code) is int else (0 if code is None else 1)
    except BaseException:
        status = status or 1
    return status


class _Session:
    """D's view of one session: S (the program, loaded afresh) and R (a clean test process) joined by two pipes;
    R runs the tests from `first` on and sends one result frame per test on a third pipe."""

    def __init__(self, payload, records_fd, zygote):
        self.payload = payload
        self.records_fd = records_fd
        self.zygote = zygote
        self.test_pid = None
        self.program_pid = None
        requests_r, self.requests_w = os.pipe()
        self.replies_r, replies_w = os.pipe()
        try:
            socket.send_fds(zygote, [b"s"], [requests_r, replies_w])
            answer = _recv_frame(zygote.fileno(), 4096, time.monotonic() + 10.0)
            if _type(answer) is dict and _type(answer.get("pid")) is int and answer["pid"] > 1:
                self.program_pid = answer["pid"]
        except BaseException:
            pass  # Z is gone (the program killed it): S never answers, and the load fails below
        os.close(requests_r)
        os.close(replies_w)
        deadline = time.monotonic() + float(payload["load_timeout"]) + 2.0
        try:
            report = _recv_frame(self.replies_r, 1 << 24, deadline)
        except BaseException as exc:
            report = {"ok": False, "error": "the program ended or stalled while loading (%s)" % (_type(exc).__name__,)}
        if _type(report) is not dict or report.get("ok") is not True:
            error = report.get("error") if _type(report) is dict else None
            self.report = {"ok": False, "error": str(error or "the program did not load")[:2000]}
            self.close()
        else:
            self.report = report

    def start(self, namespace, first):
        """Fork R for tests[first:]."""
        self.results_r, results_w = os.pipe()
        self.test_pid = os.fork()
        if self.test_pid == 0:
            try:
                os.close(self.records_fd)
                os.close(self.results_r)
                self.zygote.close()
                for sig in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT):
                    signal.signal(sig, signal.SIG_DFL)
                _limit_child(self.payload, cpu=float(self.payload["total_timeout"]) + 1)
                _session(
                    namespace,
                    self.payload["tests"],
                    first,
                    int(self.payload["max_value_bytes"]),
                    self.requests_w,
                    self.replies_r,
                    results_w,
                )
            except BaseException:
                os._exit(121)
            os._exit(0)
        os.close(results_w)
        os.close(self.requests_w)  # from here on only R talks to S
        os.close(self.replies_r)
        self.requests_w = self.replies_r = -1
        self.buffer = b""
        self.late = False
        self.cap = int(self.payload["max_value_bytes"]) * (max(_len(t) for t in self.payload["tests"]) + 1) + 4096

    def next_result(self, deadline):
        """The next test's {"i", "ops", "broken"?} frame; None when R ended, sent garbage or the deadline
        passed."""
        while True:
            if _len(self.buffer) >= 4:
                size = int.from_bytes(self.buffer[:4], "big")
                if size > self.cap:
                    return None
                if _len(self.buffer) >= 4 + size:
                    frame, self.buffer = self.buffer[4 : 4 + size], self.buffer[4 + size :]
                    try:
                        return json.loads(frame.decode("utf-8", "surrogatepass"))
                    except ValueError:
                        return None
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.results_r], [], [], left)[0]:
                self.late = True
                return None
            chunk = os.read(self.results_r, 1 << 16)
            if not chunk:
                return None
            self.buffer += chunk

    def close(self):
        """End R and S; R's wait status, None when it had to be killed (it ran past a deadline)."""
        status = None
        if self.test_pid is not None:
            os.close(self.results_r)
            status = _wait(self.test_pid, time.monotonic() + (0.0 if self.late else 1.0))
        for fd in (self.requests_w, self.replies_r):
            if fd >= 0:
                os.close(fd)
        if self.program_pid is not None and self.program_pid != os.getpid():
            try:
                os.kill(self.program_pid, signal.SIGKILL)  # Z's child: Z reaps it
            except OSError:
                pass
        return status


def _run_stdio_test(payload, records_fd, code_obj, input_text):
    out_fd = _memfd("out")
    err_fd = _memfd("err")
    status, seconds = _fork_test(
        payload, records_fd, _stdio_child(code_obj, input_text, payload["max_output_bytes"], err_fd), out_fd
    )
    result = _status_fields(status)
    out, truncated = _read_fd(out_fd, payload["max_output_bytes"])
    err, _ = _read_fd(err_fd, 2000)
    os.close(err_fd)
    os.close(out_fd)
    result.update(out=out.decode("utf-8", "replace"), err=err.decode("utf-8", "replace"), trunc=truncated)
    result["t"] = round(seconds, 4)
    return result


def main():
    secured = _not_dumpable()
    zygote = _start_zygote()  # before the payload is read: the program's processes never hold a test
    payload = json.loads(sys.stdin.buffer.read().decode("utf-8", "surrogatepass"))
    devnull = os.open(os.devnull, os.O_RDWR)
    records_fd = os.dup(1)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False))
    sys.argv = ["solution.py"]
    records = _Records(records_fd, payload.pop("nonce"))
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    if not secured:  # the program could read and write this process's memory: refuse to judge anything
        records.emit(
            {
                "k": "loaded",
                "ok": False,
                "infra": "the driver could not make itself non-dumpable "
                "(prctl through ctypes failed): no test is run without that protection",
            }
        )
        return
    _PROGRAM_PATH[:] = _read_only_path()
    mode = payload["mode"]
    if mode != "assert":
        zygote.close()  # stdio programs run in forks of D, on inputs only: nothing to keep from them
    try:
        code_obj = compile(payload["code"], "solution.py", "exec")
    except BaseException as exc:
        records.emit({"k": "loaded", "ok": False, "compile": True, "error": _describe(exc)})
        return
    namespace = None
    session = None
    if mode == "assert":
        limits = {k: payload[k] for k in ("timeout", "load_timeout", "total_timeout", "memory_mb", "max_value_bytes")}
        _send_frame(zygote.fileno(), {"code": payload["code"], "limits": limits})
        session = _Session(payload, records_fd, zygote)
        if not session.report["ok"]:
            records.emit({"k": "loaded", "ok": False, "error": session.report["error"]})
            return
        namespace = _test_namespace(session.report, payload.get("entry_point"))
        session.start(namespace, 0)
    records.emit({"k": "loaded", "ok": True})
    budget_end = time.monotonic() + float(payload["total_timeout"])
    tests = payload["tests"]
    timeout = float(payload["timeout"])
    i = 0
    while i < _len(tests):
        if time.monotonic() >= budget_end:
            records.emit({"k": "test", "i": i, "r": {"x": "skipped"}})
            i += 1
            continue
        if mode == "stdio":
            records.emit({"k": "test", "i": i, "r": _run_stdio_test(payload, records_fd, code_obj, tests[i])})
            i += 1
            continue
        if session is None:  # the last session broke: the program is loaded again for the tests left
            session = _Session(payload, records_fd, zygote)
            if not session.report["ok"]:
                session = None
                records.emit({"k": "test", "i": i, "r": {"x": "died", "why": "the program did not load again"}})
                i += 1
                continue
            session.start(namespace, i)
        start = time.monotonic()
        frame = session.next_result(min(start + timeout, budget_end + timeout))
        seconds = round(time.monotonic() - start, 4)
        if _type(frame) is dict and frame.get("i") == i and _type(frame.get("ops")) is list:
            records.emit({"k": "test", "i": i, "r": {"x": "ok", "ops": frame["ops"], "t": seconds}})
            i += 1
            if frame.get("broken"):  # S is gone or garbled: a new session for the tests left
                session.close()
                session = None
            continue
        status = session.close()  # R stopped answering: this test timed out, died or sent garbage
        session = None
        result = _status_fields(status)
        if result["x"] == "ok":
            result = (
                {"x": "bad", "rc": result["rc"]}
                if frame is not None
                else {"x": "died", "rc": result["rc"], "sig": None}
            )
        result["t"] = seconds
        records.emit({"k": "test", "i": i, "r": result})
        i += 1
    if session is not None:
        session.close()
    zygote.close()
    records.emit({"k": "end"})


if __name__ == "__main__":
    main()
