"""The test driver that runs INSIDE the sandbox for the `code` verifier (self-contained: stdlib only).

`verifiers.code` sends this file's source as the sandboxed program and a JSON payload on stdin. Nothing here
is trusted by the parent: the candidate's code runs in this process (or in its forked children) and may
rewrite any of it. The parent only trusts what it can check itself:

* Expected values never reach this process. Assert tests arrive already split by the parent into the
  expressions to evaluate (the "leaves", e.g. the call `f(3)` of `assert f(3) == 7`); stdin/stdout tests
  arrive as inputs only. So there is nothing here to read from a stack frame, a file or memory.
* Every value sent back is plain data, encoded with exact type checks (`type(v) is int`, never
  `isinstance`): an `int` subclass with a fake `__eq__`, or an object whose `repr` looks right, is "not plain
  data" and the test fails. The parent decodes into fresh builtin objects and compares those.
* Records are lines `<nonce> <json>` on a private duplicate of the original stdout; the nonce comes in the
  payload. Before the candidate's code runs, stdin is replaced by /dev/null, `sys.argv` is scrubbed and
  fds 1/2 point to /dev/null, so ordinary output cannot look like a record. Each record carries a sequence
  number `n` (0, 1, 2, ...); the parent rejects the whole execution on a duplicate, out-of-order or
  malformed record. Code that finds the nonce in memory can forge records, but it can only report values
  it computed itself (there is nothing secret to copy), and a forged record next to a real one is a
  duplicate.
* Each test runs in its own forked child with a hard wall deadline enforced here (SIGKILL), an RLIMIT_CPU
  and an address-space limit: `sys.exit`, `os._exit`, a segfault, an `atexit` hook or an infinite loop
  end one test, which then has no value and fails. Children end with `os._exit`, so `atexit` hooks and
  exception hooks never run. An exit status never means "passed": only a record with values does.

Payload: {"nonce", "mode": "assert" | "stdio", "code", "tests", "timeout", "load_timeout", "total_timeout",
"memory_mb", "max_value_bytes", "max_output_bytes"}.
  mode "assert": the code is loaded once (as module `solution`, so `if __name__ == "__main__"` blocks do not
      run); each test is a list of ops run in order in a forked child:
      ["exec", src]  run statements (a test's setup); an exception ends the test (success reports None)
      ["eval", src]  evaluate an expression; its encoded value, or its exception, is kept
      ["call", name, args, kwargs]  call `name(*args, **kwargs)` with decoded (tagged) arguments
  mode "stdio": each test is an input string; a forked child runs the code as `__main__` with that stdin.
Records: {"k": "loaded", "ok": bool, "error"?: str, "compile"?: bool}, then one {"k": "test", "i": index,
"r": result} per test in order, then {"k": "end"}; every record has "n".
  assert result: {"x": "ok", "ops": [{"v": value} | {"e": "Type: message"}, ...]} (one per op run) or {"x": "timeout" |
      "died" | "skipped" | "bad", ...}
  stdio result: {"x": "ok" | "timeout" | "died" | "skipped", "rc", "sig", "out", "err", "t", "trunc"}
Values: ["N"], ["b", bool], ["i", hex], ["f", float.hex], ["c", re_hex, im_hex], ["s", str], ["y", hex],
["l", [...]], ["t", [...]], ["S", [...]], ["F", [...]], ["d", [[k, v], ...]].
"""

import builtins
import io
import json
import os
import select
import signal
import sys
import time
import types

try:
    import resource
except ImportError:  # pragma: no cover - not on Linux
    resource = None  # type: ignore[assignment]

_type = type
_len = len
_isinstance = isinstance
_MAX_DEPTH = 100
_MAX_NODES = 200000


class NotPlain(Exception):
    """The value is not plain data (or too large / too deep)."""


def encode(value, depth=0, budget=None):
    """The tagged plain-data form of `value`, by exact type; raises NotPlain for anything else."""
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
    if t is int:
        return ["i", int.__format__(value, "x")]
    if t is float:
        return ["f", float.hex(value)]
    if t is complex:
        return ["c", float.hex(complex.real.__get__(value)), float.hex(complex.imag.__get__(value))]
    if t is str:
        return ["s", str.__str__(value)]
    if t is bytes:
        return ["y", bytes.hex(value)]
    if t is list or t is tuple or t is set or t is frozenset:
        tag = {list: "l", tuple: "t", set: "S", frozenset: "F"}[t]
        items = list(t.__iter__(value))
        return [tag, [encode(v, depth + 1, budget) for v in items]]
    if t is dict:
        pairs = list(dict.items(value))
        return ["d", [[encode(k, depth + 1, budget), encode(v, depth + 1, budget)] for k, v in pairs]]
    raise NotPlain("not plain data: %s" % (t.__name__,))


def decode(data, depth=0):
    """Tagged plain data -> value (for call arguments sent by the parent)."""
    if depth > _MAX_DEPTH:
        raise ValueError("nested too deep")
    tag = data[0]
    if tag == "N":
        return None
    if tag == "b":
        return bool(data[1])
    if tag == "i":
        return int(data[1], 16)
    if tag == "f":
        return float.fromhex(data[1])
    if tag == "c":
        return complex(float.fromhex(data[1]), float.fromhex(data[2]))
    if tag == "s":
        return str(data[1])
    if tag == "y":
        return bytes.fromhex(data[1])
    if tag in ("l", "t", "S", "F"):
        items = [decode(v, depth + 1) for v in data[1]]
        return {"l": list, "t": tuple, "S": set, "F": frozenset}[tag](items)
    if tag == "d":
        return {decode(k, depth + 1): decode(v, depth + 1) for k, v in data[1]}
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


def _limit_child(payload):
    if resource is None:
        return
    cpu = int(payload["timeout"]) + 1
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
    """Run `body()` in a child; returns (status or None on timeout, seconds)."""
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


def _assert_child(module, ops, max_value_bytes):
    def body(out_fd):
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        ns = module.__dict__
        results = []
        for op in ops:
            try:
                if op[0] == "exec":
                    exec(compile(op[1], "<test>", "exec"), ns)
                    results.append({"v": ["N"]})
                    continue
                if op[0] == "eval":
                    value = eval(compile(op[1], "<test>", "eval"), ns)
                else:
                    func = ns[op[1]] if op[1] in ns else getattr(builtins, op[1])
                    args = decode(op[2])
                    kwargs = decode(op[3])
                    value = func(*args, **kwargs)
                try:
                    encoded = json.dumps({"v": encode(value)}, separators=(",", ":"))
                except NotPlain as exc:
                    results.append({"e": "NotPlainData: %s" % (exc,)})
                    continue
                if _len(encoded) > max_value_bytes:
                    results.append({"e": "NotPlainData: value over %d bytes" % (max_value_bytes,)})
                    continue
                results.append(json.loads(encoded))
            except BaseException as exc:  # SystemExit and KeyboardInterrupt included
                results.append({"e": _describe(exc)})
                if op[0] == "exec":
                    break
        data = json.dumps({"ops": results}, separators=(",", ":")).encode("utf-8", "surrogatepass")
        os.write(out_fd, data)

    return body


def _stdio_child(code_obj, input_text, max_output_bytes, err_fd):
    def body(out_fd):
        in_fd = _memfd("stdin")
        data = input_text.encode("utf-8", "surrogatepass")
        while data:
            data = data[os.write(in_fd, data):]
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
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                status = status or 1
        os._exit(status)

    return body


def main():
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
    code = payload["code"]
    mode = payload["mode"]
    filename = "solution.py"
    try:
        code_obj = compile(code, filename, "exec")
    except BaseException as exc:
        records.emit({"k": "loaded", "ok": False, "compile": True, "error": _describe(exc)})
        return
    module = None
    if mode == "assert":
        module = types.ModuleType("solution")
        module.__file__ = filename
        module.__builtins__ = builtins
        sys.modules["solution"] = module
        load_out = os.dup(2)
        os.dup2(devnull, 2)

        def load_timeout(signum, frame):
            raise TimeoutError("loading the program took over %g s" % (payload["load_timeout"],))

        try:
            signal.signal(signal.SIGALRM, load_timeout)
            signal.setitimer(signal.ITIMER_REAL, float(payload["load_timeout"]))
            exec(code_obj, module.__dict__)
            signal.setitimer(signal.ITIMER_REAL, 0)
        except BaseException as exc:
            signal.setitimer(signal.ITIMER_REAL, 0)
            os.dup2(load_out, 2)
            records.emit({"k": "loaded", "ok": False, "error": _describe(exc)})
            return
        os.dup2(load_out, 2)
    records.emit({"k": "loaded", "ok": True})
    budget_end = time.monotonic() + float(payload["total_timeout"])
    for i, test in enumerate(payload["tests"]):
        if time.monotonic() >= budget_end:
            records.emit({"k": "test", "i": i, "r": {"x": "skipped"}})
            continue
        out_fd = _memfd("out")
        if mode == "assert":
            status, seconds = _fork_test(payload, records_fd, _assert_child(module, test, payload["max_value_bytes"]),
                                         out_fd)
            result = _status_fields(status)
            data, truncated = _read_fd(out_fd, payload["max_value_bytes"] * (_len(test) + 1) + 4096)
            if result["x"] == "ok" and not truncated:
                try:
                    parsed = json.loads(data.decode("utf-8", "surrogatepass"))
                    result = {"x": "ok", "ops": parsed["ops"]}
                except (ValueError, KeyError, TypeError):
                    result = {"x": "bad", "rc": result["rc"]}
            elif result["x"] == "ok":
                result = {"x": "bad", "rc": result["rc"]}
        else:
            err_fd = _memfd("err")
            status, seconds = _fork_test(
                payload, records_fd, _stdio_child(code_obj, test, payload["max_output_bytes"], err_fd), out_fd
            )
            result = _status_fields(status)
            out, truncated = _read_fd(out_fd, payload["max_output_bytes"])
            err, _ = _read_fd(err_fd, 2000)
            os.close(err_fd)
            result.update(
                out=out.decode("utf-8", "replace"), err=err.decode("utf-8", "replace"), trunc=truncated
            )
        os.close(out_fd)
        result["t"] = round(seconds, 4)
        records.emit({"k": "test", "i": i, "r": result})
    records.emit({"k": "end"})


if __name__ == "__main__":
    main()
