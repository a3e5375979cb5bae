"""Hostile programs against the bwrap sandbox: each test checks the host, not just the reported outcome."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from support.processes import pids_with as _pids_with
from support.system import skip_without

from sandboxes import Limits, Outcome
from sandboxes.bwrap import BwrapSandbox, bwrap_usable, seccomp_filter

_REASON = bwrap_usable()
pytestmark = skip_without("bwrap", _REASON and f"bubblewrap cannot run here: {_REASON}")


@pytest.fixture(scope="module")
def sandbox() -> BwrapSandbox:
    return BwrapSandbox()


def _host_pids() -> set[int]:
    return {int(p) for p in os.listdir("/proc") if p.isdigit()}


def test_runs_as_non_root_without_capabilities(sandbox: BwrapSandbox) -> None:
    program = (
        "import os\n"
        "status = dict(l.split(':', 1) for l in open('/proc/self/status'))\n"
        "print(os.getuid(), os.getgid(), status['CapEff'].strip(), status['CapBnd'].strip())\n"
    )
    result = sandbox.run(program)
    assert result.outcome is Outcome.OK, result
    uid, gid, cap_eff, cap_bnd = result.stdout.split()
    assert (uid, gid) == ("65534", "65534")
    assert int(cap_eff, 16) == 0 and int(cap_bnd, 16) == 0


def test_environment_is_cleared(sandbox: BwrapSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = f"host-secret-{uuid.uuid4().hex}"
    monkeypatch.setenv("VERIFIERS_TEST_SECRET", secret)
    result = sandbox.run("import os\nprint(sorted(os.environ)); print(open('/proc/1/environ','rb').read())")
    assert result.outcome is Outcome.OK, result
    assert secret not in result.stdout and "VERIFIERS_TEST_SECRET" not in result.stdout
    assert eval(result.stdout.splitlines()[0]) == ["HOME", "LANG", "PATH", "PWD", "TMPDIR"]


def test_host_files_are_invisible(sandbox: BwrapSandbox, tmp_path: Path) -> None:
    expected = tmp_path / "expected_output.txt"
    expected.write_text("the hidden answer")
    repo_file = Path(__file__).resolve().parent / f".sandbox-secret-{uuid.uuid4().hex}"
    repo_file.write_text("the hidden answer")
    try:
        program = (
            "import os\n"
            f"for path in [{str(expected)!r}, {str(repo_file)!r}, '/root', '/home', '/work', '/etc/shadow',"
            " '/etc/passwd', '/run', '/var', '/sys/fs/cgroup', '/opt']:\n"
            "    print(path, os.path.exists(path))\n"
            "print(sorted(os.listdir('/tmp')), sorted(os.listdir('/')))\n"
        )
        result = sandbox.run(program)
    finally:
        repo_file.unlink()
    assert result.outcome is Outcome.OK, result
    lines = result.stdout.splitlines()
    assert all(line.endswith(" False") for line in lines[:-1]), result.stdout
    assert "hidden answer" not in result.stdout
    assert lines[-1] == "[] " + str(["bin", "box", "dev", "etc", "lib", "lib64", "proc", "sbin", "tmp", "usr"])


def test_system_directories_are_read_only(sandbox: BwrapSandbox) -> None:
    program = (
        "import os\n"
        "for path in ['/usr/evil', '/usr/bin/python3', '/etc/evil', '/etc/ld.so.cache', '/evil', '/proc/sys/kernel/hostname']:\n"
        "    try:\n"
        "        open(path, 'a').write('x')\n"
        "        print(path, 'WRITTEN')\n"
        "    except OSError as exc:\n"
        "        print(path, type(exc).__name__)\n"
    )
    result = sandbox.run(program)
    assert result.outcome is Outcome.OK, result
    assert "WRITTEN" not in result.stdout, result.stdout
    assert not Path("/usr/evil").exists() and not Path("/etc/evil").exists()


def test_network_is_unreachable(sandbox: BwrapSandbox, loopback_listener: socket.socket) -> None:
    listener = loopback_listener
    port = listener.getsockname()[1]
    program = (
        "import socket\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'leak')\n"
        "    print('CONNECTED')\n"
        "except OSError as exc:\n"
        "    print('blocked', type(exc).__name__)\n"
        "print(open('/proc/net/dev').read().count(':'))\n"
    )
    result = sandbox.run(program)
    with pytest.raises(socket.timeout):
        listener.accept()
    assert result.outcome is Outcome.OK, result
    assert result.stdout.startswith("blocked"), result.stdout
    assert result.stdout.split()[-1] == "1"  # only the (down) loopback interface of its own namespace


def test_host_processes_are_invisible_and_unkillable(sandbox: BwrapSandbox) -> None:
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        program = (
            "import os, signal\n"
            "print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))\n"
            f"for pid in (os.getppid(), 1, {victim.pid}, {os.getpid()}):\n"
            "    try:\n"
            "        os.kill(pid, signal.SIGKILL)\n"
            "    except OSError as exc:\n"
            "        print(pid, type(exc).__name__)\n"
            "try:\n"
            "    os.kill(-1, signal.SIGKILL)\n"
            "except OSError as exc:\n"
            "    print(-1, type(exc).__name__)\n"
        )
        result = sandbox.run(program, limits=Limits(wall_s=5))
        time.sleep(0.1)
        assert victim.poll() is None, "a host process was killed from inside the sandbox"
    finally:
        victim.kill()
        victim.wait()
    visible = eval(result.stdout.splitlines()[0])
    assert max(visible) <= 3, visible  # its own pid namespace: bwrap's init and the program
    assert result.outcome in (Outcome.OK, Outcome.RUNTIME_ERROR)


def test_nested_user_namespaces_are_refused(sandbox: BwrapSandbox) -> None:
    result = sandbox.run(
        "import subprocess\nprint(subprocess.run(['/usr/bin/unshare', '-U', '-r', 'true']).returncode)"
    )
    assert result.outcome is Outcome.OK, result
    assert result.stdout.strip() != "0"


def test_sleep_forever_is_killed_with_its_whole_tree(sandbox: BwrapSandbox) -> None:
    marker = f"sandbox-marker-{uuid.uuid4().hex}"
    program = (
        "import subprocess, time\n"
        f"subprocess.Popen(['/usr/bin/python3', '-c', 'import os, time; os.setsid(); time.sleep(600)', {marker!r}])\n"
        f"subprocess.Popen(['/bin/sh', '-c', 'trap \"\" TERM HUP; sleep 600 # {marker}'])\n"
        "print('started', flush=True)\n"
        "time.sleep(600)\n"
    )
    result = sandbox.run(program, limits=Limits(wall_s=1.5))
    assert result.outcome is Outcome.TIMEOUT
    assert result.stdout == "started\n"
    deadline = time.monotonic() + 5  # a busy machine may take a moment to reap the killed tree
    while _pids_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _pids_with(marker) == []


def test_large_file_write_fails(sandbox: BwrapSandbox) -> None:
    program = (
        "import os\n"
        "for path in ['/tmp/big', 'big']:\n"
        "    try:\n"
        "        with open(path, 'wb') as fh:\n"
        "            for _ in range(200):\n"
        "                fh.write(b'x' * (1 << 20))\n"
        "        print(path, 'WROTE', os.path.getsize(path))\n"
        "    except OSError as exc:\n"
        "        print(path, 'refused', exc.errno)\n"
    )
    result = sandbox.run(program, limits=Limits(memory_mb=512))
    assert result.outcome is Outcome.OK, result
    assert "WROTE" not in result.stdout, result.stdout
    assert result.stdout.count("refused") == 2


def test_signal_to_the_whole_session_spares_the_host(sandbox: BwrapSandbox) -> None:
    result = sandbox.run("import os, signal\nos.killpg(0, signal.SIGKILL)")
    assert result.outcome is Outcome.RUNTIME_ERROR
    assert result.signal == signal.SIGKILL
    assert os.getpgrp() > 0  # we are still here


@pytest.mark.skipif(seccomp_filter() is None, reason="the seccomp filter is built for x86_64 only")
def test_dangerous_syscalls_are_refused(sandbox: BwrapSandbox) -> None:
    program = (
        "import ctypes, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "for name, nr in [('ptrace', 101), ('keyctl', 250), ('bpf', 321), ('io_uring_setup', 425),"
        " ('unshare', 272), ('mount', 165), ('getppid', 110)]:\n"
        "    print(name, libc.syscall(nr, 0, 0, 0, 0), ctypes.get_errno())\n"
    )
    result = sandbox.run(program)
    assert result.outcome is Outcome.OK, result
    refused = {name: (int(rc), int(err)) for name, rc, err in (line.split() for line in result.stdout.splitlines())}
    eperm = (-1, 1)
    assert all(refused[name] == eperm for name in ("ptrace", "keyctl", "bpf", "io_uring_setup", "unshare", "mount"))
    assert refused["getppid"][0] >= 0


def test_network_can_be_granted_explicitly(sandbox: BwrapSandbox, loopback_listener: socket.socket) -> None:
    port = loopback_listener.getsockname()[1]
    result = sandbox.run(
        f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2).close()\nprint('connected')",
        limits=Limits(network=True),
    )
    assert result.outcome is Outcome.OK and result.stdout == "connected\n", result
