"""The `docker` sandbox backend against a real Docker engine (started here when none is reachable).

The session fixture reuses a reachable engine or starts a private `dockerd --bridge=none --iptables=false`
(see tests/docker_support.py) and stops it at the end; every engine test skips with the reason when no
engine can be had. The image is built offline from the host's files (`sandboxes.docker_image`).
"""

from __future__ import annotations

import select
import socket
import sys
import threading
import time

import docker_support
import pytest
from support.extras import install_hint
from support.system import missing

from sandboxes import ExecResult, Limits, Outcome


@pytest.fixture(scope="session")
def engine():
    found = docker_support.get_engine()
    if isinstance(found, str):
        missing("docker", found)
    try:
        yield found
    finally:
        found.stop()


@pytest.fixture(scope="module")
def sandbox(engine):
    from sandboxes.docker import DockerSandbox

    sb = DockerSandbox(base_url=engine.base_url, pool_size=2)
    t0 = time.monotonic()
    try:
        sb.client()  # connects and builds (or finds) the image
    except Exception as exc:  # pragma: no cover - depends on the host
        missing("docker", f"cannot build the sandbox image: {exc}")
    built = time.monotonic() - t0
    image = sb.client().images.get(sb.image)
    print(f"\nimage {sb.image}: {image.attrs['Size'] / 1e6:.1f} MB, ready in {built:.2f} s")
    t0 = time.monotonic()
    sb.warm()
    print(f"warm pool of {sb.pool_size} containers in {time.monotonic() - t0:.2f} s")
    yield sb
    sb.close()


def run(sb, program: str, **kw) -> ExecResult:
    result = sb.run(program, **kw)
    assert isinstance(result, ExecResult)
    return result


# -- without an engine ------------------------------------------------------------------------------------


def test_missing_sdk_names_the_extra(monkeypatch):
    from sandboxes import docker as backend

    monkeypatch.setitem(sys.modules, "docker", None)
    with pytest.raises(backend.DockerUnavailable, match=r"pip install 'verifier-suite\[docker\]'"):
        backend.DockerSandbox()


def test_unreachable_engine_is_a_sandbox_error(tmp_path):
    pytest.importorskip("docker", reason=install_hint("docker", "docker"))
    from sandboxes.docker import DockerSandbox

    sb = DockerSandbox(base_url=f"unix://{tmp_path}/no-engine.sock")
    result = sb.run("print(1)")
    assert result.outcome is Outcome.SANDBOX_ERROR
    assert "docker sandbox" in result.detail
    sb.close()


def test_registered_as_a_sandbox_plugin(register_plugin):
    from sandboxes import docker as backend
    from verifiers.plugins import pm, sandbox_registry

    seen = []
    backend.register_sandboxes(lambda factory, name=None: seen.append((factory, name)))
    assert seen == [(backend.DockerSandbox, "docker")]
    if not pm.has_plugin("sandboxes.docker"):  # until it is among the built-in plugins
        register_plugin(backend, "sandboxes.docker")
    assert sandbox_registry().entry("docker").factory is backend.DockerSandbox


# -- with an engine ---------------------------------------------------------------------------------------


def test_stdin_to_stdout(sandbox):
    r = run(sandbox, "import sys\nprint(sys.stdin.read().strip()[::-1])", stdin="abc\n")
    assert r.outcome is Outcome.OK, r
    assert r.stdout == "cba\n"
    assert r.exit_code == 0


def test_files_and_exit_codes(sandbox):
    r = run(sandbox, "import sys\nprint(open('data/x.txt').read())\nsys.exit(int(open('code').read()))",
            files={"code": "3\n", "data/x.txt": "payload"})
    assert r.outcome is Outcome.RUNTIME_ERROR, r
    assert r.exit_code == 3
    assert r.stdout == "payload\n"


def test_runtime_error(sandbox):
    r = run(sandbox, "raise ValueError('boom')")
    assert r.outcome is Outcome.RUNTIME_ERROR
    assert r.exit_code == 1
    assert "ValueError: boom" in r.stderr


def test_unknown_language_raises_and_compiled_languages_are_refused(sandbox):
    from sandboxes import UnknownLanguageError

    with pytest.raises(UnknownLanguageError):
        sandbox.run("x", language="cobol")
    r = run(sandbox, "int main(){return 0;}", language="c")
    assert r.outcome is Outcome.SANDBOX_ERROR and "compiler" in r.detail


def test_javascript_when_the_image_has_node(sandbox):
    if "javascript" not in sandbox.languages():
        pytest.skip("the host has no node, so the image has none")
    r = run(sandbox, "let s = require('fs').readFileSync(0, 'utf8'); console.log(s.trim().length)", language="js",
            stdin="hello\n")
    assert r.outcome is Outcome.OK, r
    assert r.stdout == "5\n"


def test_timeout_then_clean_container(sandbox):
    prog = (
        "import subprocess, time\n"
        "subprocess.Popen(['/usr/bin/sleep', '1000'])\n"
        "open('/tmp/left-behind', 'w').write('x')\n"
        "while True: time.sleep(1)\n"
    )
    t0 = time.monotonic()
    r = run(sandbox, prog, limits=Limits(wall_s=1.0))
    took = time.monotonic() - t0
    assert r.outcome is Outcome.TIMEOUT, r
    assert took < 1.0 + 5.0
    print(f"\ntimeout run returned after {took:.2f} s")
    # The next executions (both pool containers) see no process or file of the timed-out one.
    check = (
        "import os\n"
        "mine = {os.getpid(), os.getppid(), 1}\n"
        "others = [p for p in os.listdir('/proc') if p.isdigit() and int(p) not in mine]\n"
        "print(others, sorted(os.listdir('/tmp')))\n"
    )
    for _ in range(sandbox.pool_size):
        r = run(sandbox, check)
        assert r.outcome is Outcome.OK, r
        others, tmp = r.stdout.split("] ")
        assert others == "["
        assert "left-behind" not in tmp


def test_cpu_limit(sandbox):
    r = run(sandbox, "while True: pass", limits=Limits(cpu_s=1, wall_s=10))
    assert r.outcome is Outcome.TIMEOUT, r
    assert r.cpu_s >= 0.5


def test_memory_bomb(sandbox):
    prog = "x = []\nwhile True:\n    x.append(bytearray(10 ** 7))\n"
    r = run(sandbox, prog, limits=Limits(memory_mb=64, wall_s=10))
    assert r.outcome is Outcome.MEMORY, r
    assert run(sandbox, "print('alive')", limits=Limits(memory_mb=64)).stdout == "alive\n"


def test_fork_bomb_is_contained(sandbox):
    prog = (
        "import os, time\n"
        "n = 0\n"
        "try:\n"
        "    while True:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(60)\n"
        "            os._exit(0)\n"
        "        n += 1\n"
        "except OSError:\n"
        "    print(n)\n"
    )
    limits = Limits(pids=16, wall_s=10)
    t0 = time.monotonic()
    r = run(sandbox, prog, limits=limits)
    assert r.outcome is Outcome.OK, r
    assert int(r.stdout) <= limits.pids
    assert time.monotonic() - t0 < 8
    # the sleeping children are gone: the next run can fork again
    assert run(sandbox, "import os\npid = os.fork()\nif pid == 0: os._exit(0)\nos.wait()\nprint('ok')",
               limits=limits).stdout == "ok\n"


def test_output_flood(sandbox):
    r = run(sandbox, "while True: print('y' * 1000)", limits=Limits(output_bytes=50_000, wall_s=10))
    assert r.outcome is Outcome.OUTPUT_LIMIT, r
    assert len(r.stdout) + len(r.stderr) <= 50_000


def test_network_is_off(sandbox, loopback_listener):
    server = loopback_listener
    port = server.getsockname()[1]
    prog = (
        "import socket\n"
        f"try:\n    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n    print('connected')\n"
        "except OSError as e:\n    print('refused', type(e).__name__)\n"
        "print(sorted(l.split(':')[0].strip() for l in open('/proc/net/dev').readlines()[2:]))\n"
    )
    r = run(sandbox, prog)
    pending, _, _ = select.select([server], [], [], 0.1)  # a connection that reached the host would be here
    assert not pending
    assert r.outcome is Outcome.OK, r
    assert r.stdout.startswith("refused"), r.stdout
    assert r.stdout.splitlines()[1] == "['lo']"
    assert run(sandbox, "print(1)", limits=Limits(network=True)).outcome is Outcome.SANDBOX_ERROR


def test_read_only_root_and_nobody(sandbox):
    prog = (
        "import os\n"
        "for path in ('/x', '/usr/x', '/etc/passwd', '/opt/verifiers/supervise.py'):\n"
        "    try:\n"
        "        open(path, 'a').close(); print('wrote', path)\n"
        "    except OSError as e:\n"
        "        print('denied', path, e.errno)\n"
        "print(os.getuid(), os.getgid(), os.getgroups())\n"
        "print(open('/proc/self/status').read().split('CapEff:')[1].split()[0])\n"
        "open('/tmp/ok', 'w').write('tmp is writable')\n"
    )
    r = run(sandbox, prog)
    assert r.outcome is Outcome.OK, r
    lines = r.stdout.splitlines()
    assert all(line.startswith("denied") for line in lines[:4]), lines
    assert lines[4] == "65534 65534 []"
    assert int(lines[5], 16) == 0  # no capabilities at all


def test_cannot_touch_the_supervisor(sandbox):
    r = run(sandbox, "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)")
    assert r.outcome is Outcome.RUNTIME_ERROR, r
    assert "PermissionError" in r.stderr


def test_warm_pool_throughput(sandbox):
    n = 20
    t0 = time.monotonic()
    results = [run(sandbox, "print(input())", stdin=f"{i}\n") for i in range(n)]
    serial = (time.monotonic() - t0) / n
    assert [r.stdout for r in results] == [f"{i}\n" for i in range(n)]
    out: list[ExecResult] = []
    t0 = time.monotonic()
    threads = [threading.Thread(target=lambda i=i: out.append(run(sandbox, f"print({i})"))) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    parallel = (time.monotonic() - t0) / n
    assert sorted(int(r.stdout) for r in out) == list(range(n))
    print(f"\nwarm pool: {serial * 1000:.0f} ms per exec serially, {parallel * 1000:.0f} ms per exec "
          f"with {sandbox.pool_size} containers in parallel")


def test_other_limits_get_their_own_containers(sandbox):
    r = run(sandbox, "print('big')", limits=Limits(memory_mb=256, pids=32))
    assert r.outcome is Outcome.OK and r.stdout == "big\n"
    assert run(sandbox, "print('default')").stdout == "default\n"


def test_stale_containers_of_dead_processes_are_removed(engine, sandbox):
    import subprocess

    from sandboxes.docker import DockerSandbox

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    client = sandbox.client()
    labels = {"org.verifiers.sandbox": "1", "org.verifiers.sandbox.host": socket.gethostname(),
              "org.verifiers.sandbox.pid": str(dead.pid)}
    stale = client.containers.create(sandbox.image, ["/usr/bin/sleep", "1"], labels=labels, network_mode="none")
    other = DockerSandbox(base_url=engine.base_url, image=sandbox.image, pool_size=1)
    try:
        other.client()
        ids = {c.id for c in client.containers.list(all=True)}
        assert stale.id not in ids
        assert all(s.id in ids for s in sandbox._idle)  # the live pool is untouched
    finally:
        other.close()


def test_lost_supervisor_is_a_sandbox_error_and_the_container_is_replaced(sandbox):
    """An infrastructure failure mid-run (here: the supervisor killed from outside) is SANDBOX_ERROR."""
    killer = (
        "import os, time\n"
        "for _ in range(200):\n"
        "    for p in os.listdir('/proc'):\n"
        "        try:\n"
        "            if p.isdigit() and b'supervise.py' in open(f'/proc/{p}/cmdline', 'rb').read():\n"
        "                os.kill(int(p), 9); raise SystemExit(0)\n"
        "        except OSError:\n"
        "            pass\n"
        "    time.sleep(0.02)\n"
    )
    done: list[ExecResult] = []
    t = threading.Thread(target=lambda: done.append(run(sandbox, "import time\ntime.sleep(3)\nprint('x')")))
    t.start()
    time.sleep(0.3)
    busy = set(sandbox._all) - {s.id for s in sandbox._idle}
    assert busy
    for cid in busy:
        sandbox.client().containers.get(cid).exec_run([sandbox_python(), "-c", killer], user="0:0")
    t.join()
    r = done[0]
    assert r.outcome is Outcome.SANDBOX_ERROR, r
    assert "without a status" in r.detail
    assert not busy & set(sandbox._all)  # the container was discarded
    assert run(sandbox, "print('fresh')").stdout == "fresh\n"


def sandbox_python() -> str:
    from sandboxes.docker_image import PYTHON_PATH

    return PYTHON_PATH
