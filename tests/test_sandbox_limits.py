"""The bomb battery in every limits mode the bubblewrap sandbox can run in here: a fork bomb, a memory bomb, a thread
bomb and a disk filler are contained (the host stays responsive, nothing is left running, no cgroup is left
behind), a code verdict on them is a 0 that names the mode, and a mode that cannot hold a limit says so.

Modes: "cgroup v1" (root with writable v1 controllers, as on this machine), "fallback" (forced with
`cgroups=False`: a uid per execution with RLIMIT_NPROC, RLIMIT_DATA, a PSS watchdog), "cgroup v2" (a delegated
cgroup2 subtree with the memory and pids controllers; skipped, with the kernel's reason, where none exists).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
import warnings
from pathlib import Path

import pytest
from support.processes import peak_while, pids_with
from support.system import skip_without

from sandboxes import Limits, Outcome, SandboxUnavailable, SandboxWarning
from sandboxes.bwrap import BwrapSandbox, bwrap_usable
from sandboxes.cgroups import CGROUP_ENV, _own_paths, _v2_base, _v2_mount, detect
from sandboxes.enforcement import APPROXIMATED, ENFORCED, NOT_ENFORCED, REQUIRE_LIMITS_ENV
from verifiers import Status, verify
from verifiers.code import CodeVerifier

_REASON = bwrap_usable()
pytestmark = skip_without("bwrap", _REASON and f"bubblewrap cannot run here: {_REASON}")


def _v2_reason() -> str:
    """'' when a delegated cgroup v2 subtree with memory and pids exists here, else why not."""
    if detect().mode == "cgroup v2":
        return ""
    mount = _v2_mount()
    if mount is None:
        return "no cgroup2 mount"
    base, why = _v2_base(mount / _own_paths().get("", "/").lstrip("/"), create_child=True)
    return "" if base is not None else why


MODES = ["cgroup v1", "fallback", "cgroup v2"]


@pytest.fixture(scope="module", params=MODES)
def sandbox(request: pytest.FixtureRequest) -> BwrapSandbox:
    mode = request.param
    if mode == "cgroup v1" and detect().mode != "cgroup v1":
        pytest.skip(f"no writable cgroup v1 memory and pids controllers here: {detect().reason}")
    if mode == "cgroup v2" and (reason := _v2_reason()):
        pytest.skip(f"no delegated cgroup v2 subtree with memory and pids here: {reason}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SandboxWarning)  # the fallback says what it does not enforce
        sandbox = BwrapSandbox(cgroups=mode != "fallback")
    assert sandbox.enforcement.mode == mode
    return sandbox


def _fallback() -> BwrapSandbox:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SandboxWarning)
        return BwrapSandbox(cgroups=False)


def _our_cgroups() -> list[Path]:
    """Execution cgroups of this process still on disk (named `<pid>-<n>-<random>`)."""
    support = detect()
    bases = [b for b in (support.memory, support.pids, support.cpuacct, support.v2) if b is not None]
    return [c for base in bases for c in base.iterdir() if c.name.startswith(f"{os.getpid()}-")]


def _contained(marker: str) -> None:
    """Nothing of the run is left, and the host still starts a process at once."""
    deadline = time.monotonic() + 5  # a busy machine may take a moment to reap a killed tree
    while pids_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pids_with(marker) == []
    assert _our_cgroups() == []
    started = time.monotonic()
    subprocess.run(["/bin/true"], check=True, timeout=10)
    assert time.monotonic() - started < 2


def _marked(body: str, marker: str) -> str:
    """`body` exec'd with `marker` in its command line, so each of its processes can be counted from the host."""
    return f"import os\nos.execv('/usr/bin/python3', ['/usr/bin/python3', '-c', {body!r}, {marker!r}])"


FORK_BOMB = (
    "import os, time\n"
    "for _ in range(10_000):\n"
    "    try:\n"
    "        os.fork()\n"
    "    except OSError:\n"
    "        time.sleep(0.01)\n"
    "time.sleep(60)\n"
)
THREAD_BOMB = (
    "import threading, time\n"
    "started = 0\n"
    "try:\n"
    "    while True:\n"
    "        threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
    "        started += 1\n"
    "except RuntimeError:\n"
    "    print('refused after', started, flush=True)\n"
    "time.sleep(60)\n"
)
MEMORY_BOMB = "chunks = []\nwhile True:\n    chunks.append(bytearray(16 << 20))\n"
FORKED_MEMORY_BOMB = (  # each process stays under any per-process limit; only the tree's sum passes it
    "import os, time\n"
    "for _ in range(5):\n"
    "    if os.fork() == 0:\n"
    "        break\n"
    "block = bytearray(40 << 20)\n"
    "for i in range(0, len(block), 4096):\n"
    "    block[i] = 1\n"
    "time.sleep(60)\n"
)
DISK_FILLER = (
    "import os\n"
    "written = 0\n"
    "try:\n"
    "    for n in range(10_000):\n"
    "        with open(f'/tmp/fill{n}', 'wb') as fh:\n"
    "            for _ in range(8):\n"
    "                fh.write(b'x' * (1 << 20))\n"
    "                written += 1 << 20\n"
    "except OSError as exc:\n"
    "    print('stopped', written >> 20, exc.errno)\n"
)


def test_the_fork_bomb_is_held_to_the_pids_limit(sandbox: BwrapSandbox) -> None:
    marker = f"fork-bomb-{uuid.uuid4().hex}"
    result, peak = peak_while(lambda: sandbox.run(_marked(FORK_BOMB, marker), limits=Limits(pids=32, wall_s=3)),
                               marker)  # fmt: skip
    assert result.outcome in (Outcome.TIMEOUT, Outcome.RUNTIME_ERROR), result
    assert 1 <= peak <= 32, peak
    _contained(marker)


def test_the_thread_bomb_is_held_to_the_pids_limit(sandbox: BwrapSandbox) -> None:
    marker = f"thread-bomb-{uuid.uuid4().hex}"
    result = sandbox.run(_marked(THREAD_BOMB, marker), limits=Limits(pids=32, wall_s=3))
    assert result.outcome is Outcome.TIMEOUT, result
    refused_after = int(result.stdout.split()[-1])
    assert refused_after < 32  # the threads count against the limit too
    _contained(marker)


@pytest.mark.parametrize("bomb", [MEMORY_BOMB, FORKED_MEMORY_BOMB], ids=["one-process", "five-processes"])
def test_the_memory_bomb_is_a_memory_outcome(sandbox: BwrapSandbox, bomb: str) -> None:
    marker = f"memory-bomb-{uuid.uuid4().hex}"
    result = sandbox.run(_marked(bomb, marker), limits=Limits(memory_mb=128, pids=32, wall_s=20))
    assert result.outcome is Outcome.MEMORY, result
    assert result.wall_s < 15
    _contained(marker)


def test_the_disk_filler_stops_at_the_disk_limit(sandbox: BwrapSandbox) -> None:
    marker = f"disk-filler-{uuid.uuid4().hex}"
    result = sandbox.run(_marked(DISK_FILLER, marker), limits=Limits(disk_mb=32, memory_mb=256, wall_s=20))
    assert result.outcome is Outcome.OK, result
    stopped, written, errno = result.stdout.split()
    assert stopped == "stopped" and int(written) <= 32 and int(errno) == 28  # ENOSPC
    _contained(marker)


def test_a_code_verdict_on_a_bomb_is_a_zero_that_names_the_mode(sandbox: BwrapSandbox) -> None:
    reference = {"tests": [{"input": "1\n", "output": "1\n"}]}
    verifier = CodeVerifier(sandbox=sandbox, total_timeout=5, timeout=2)
    bomb = f"```python\n{FORK_BOMB}```"
    verdict = verify(bomb, reference, verifier=verifier)
    assert verdict.status is Status.INCORRECT and verdict.score == 0.0, verdict.reason
    assert verdict.evidence["sandbox"] == {"backend": "bwrap", "limits": sandbox.enforcement.mode}
    right = verify("```python\nprint(input())\n```", reference, verifier=verifier)
    assert right.status is Status.CORRECT and right.evidence["sandbox"]["limits"] == sandbox.enforcement.mode


# -- what each mode says it enforces ----------------------------------------------------------------------------------


def test_every_mode_names_each_limit_and_none_runs_unbounded_silently() -> None:
    with pytest.warns(SandboxWarning, match="does not enforce memory"):  # never silently
        fallback = BwrapSandbox(cgroups=False)
    states = {s.limit: s.state for s in fallback.enforcement.limits}
    assert states["memory"] == NOT_ENFORCED  # the program's own memory is bounded, kernel buffers are not
    assert "socket and pipe buffers" in next(s.how for s in fallback.enforcement.limits if s.limit == "memory")
    assert states["pids"] == (ENFORCED if os.geteuid() == 0 else APPROXIMATED)
    with pytest.raises(SandboxUnavailable, match="does not enforce memory"):
        BwrapSandbox(cgroups=False, require_limits=True)
    if detect().mode != "fallback":
        full = BwrapSandbox()
        assert {s.limit: s.state for s in full.enforcement.limits}["memory"] == ENFORCED


def test_a_limit_not_enforced_is_refused_when_limits_are_required(monkeypatch: pytest.MonkeyPatch) -> None:
    """Root without `setpriv` has no uid of its own to put RLIMIT_NPROC on: pids are not enforced in the fallback."""
    if os.geteuid() != 0:
        pytest.skip("the not-enforced case needs root (a non-root fallback approximates pids)")
    monkeypatch.setattr("sandboxes.bwrap.SETPRIV", "/nonexistent/setpriv")
    with pytest.warns(SandboxWarning, match="does not enforce memory, pids"):
        loose = BwrapSandbox(cgroups=False)
    assert loose.enforcement.state("pids") == NOT_ENFORCED
    with pytest.raises(SandboxUnavailable, match="does not enforce memory, pids"):
        BwrapSandbox(cgroups=False, require_limits=True)
    monkeypatch.setenv(REQUIRE_LIMITS_ENV, "1")
    with pytest.raises(SandboxUnavailable, match="does not enforce memory, pids"):
        BwrapSandbox(cgroups=False)


def test_the_code_verifier_refuses_to_run_where_limits_are_required_and_missing() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SandboxWarning)
        from sandboxes.process import ProcessSandbox

        unisolated = ProcessSandbox()
    reference = {"tests": [{"input": "", "output": "ran\n"}]}
    program = "```python\nprint('ran')\n```"
    assert verify(program, reference, verifier=CodeVerifier(sandbox=unisolated)).status is Status.CORRECT
    refused = verify(program, reference, verifier=CodeVerifier(sandbox=unisolated, require_limits=True))
    assert refused.status is Status.ERROR
    assert "sandbox limits required" in refused.reason and "memory" in refused.reason


def test_the_doctor_prints_the_mode_and_fails_on_request(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "verifiers", "sandbox", "doctor", "--json"], capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["mode"] == detect().mode and set(report["limits"]) >= {"memory", "pids", "wall clock", "disk"}
    strict = subprocess.run(
        [sys.executable, "-W", "ignore", "-m", "verifiers", "sandbox", "doctor", "--backend", "process",
         "--require-limits"], capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert strict.returncode == 1 and "not enforced: process" in strict.stdout


def test_a_cgroup_v2_directory_without_the_controllers_is_refused_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The real cgroup2 hierarchy of this machine: where it lacks the memory and pids controllers (a hybrid host
    binds them to v1), `$VERIFIERS_CGROUP` pointing at it gives the fallback and says why."""
    mount = _v2_mount()
    if mount is None:
        pytest.skip("no cgroup2 mount here")
    available = (mount / "cgroup.controllers").read_text().split()
    if "memory" in available and "pids" in available:
        pytest.skip("this cgroup2 hierarchy has the memory and pids controllers")
    monkeypatch.setenv(CGROUP_ENV, str(mount))
    detect.cache_clear()
    try:
        support = detect()
        assert support.mode == "fallback"
        assert "memory and pids controllers are not available" in support.reason
    finally:
        monkeypatch.delenv(CGROUP_ENV)
        detect.cache_clear()


def test_back_to_back_fallback_executions_do_not_inherit_each_others_tasks() -> None:
    """A uid slot is reused only once no task of the last execution is left: unreaped tasks of earlier runs used
    to count against the next run's RLIMIT_NPROC ("bwrap: Can't fork for pid 1")."""
    from sandboxes import SandboxPool

    pool = SandboxPool(_fallback(), workers=2)
    try:
        results = pool.run_batch([{"program": f"print({i})", "limits": Limits(pids=8, wall_s=10)} for i in range(60)])
    finally:
        pool.close()
    assert [r.stdout for r in results] == [f"{i}\n" for i in range(60)], [r for r in results if not r.ok][:2]


# -- what the review of the fallback found ----------------------------------------------------------------------------


def test_compiled_languages_run_in_every_mode(sandbox: BwrapSandbox) -> None:
    """In the fallback the compiler runs as the execution's own uid: the build directory must be its to write."""
    from sandboxes import run_many

    program = '#include <stdio.h>\nint main(){int a,b;scanf("%d %d",&a,&b);printf("%d\\n",a+b);}'
    compiled, runs = run_many(sandbox, program, language="c", stdins=["1 2", "3 4"])
    assert compiled is not None and compiled.ok, compiled
    assert [r.stdout for r in runs] == ["3\n", "7\n"]
    assert sandbox.run("#include <iostream>\nint main(){std::cout<<42<<std::endl;}", language="cpp").stdout == "42\n"


def test_dev_is_read_only_and_shared_memory_is_capped(sandbox: BwrapSandbox) -> None:
    program = (
        "n = 0\n"
        "try:\n"
        "    with open('/dev/shm/fill', 'wb') as fh:\n"
        "        for _ in range(200):\n"
        "            fh.write(b'x' * (1 << 20))\n"
        "            n += 1\n"
        "except OSError as exc:\n"
        "    print('shm', n, exc.errno)\n"
        "try:\n"
        "    open('/dev/extra', 'wb').write(b'x')\n"
        "except OSError as exc:\n"
        "    print('dev', exc.errno)\n"
        "open('/dev/null', 'w').write('still works')\n"
    )
    result = sandbox.run(program, limits=Limits(disk_mb=32, file_size_mb=64, memory_mb=256))
    assert result.ok, result
    shm, written, shm_errno, dev, dev_errno = result.stdout.split()
    assert int(written) <= 32 and int(shm_errno) == 28  # ENOSPC: the tmpfs's cap
    assert int(dev_errno) == 30  # EROFS


def test_the_fallback_refuses_memory_no_watchdog_sees() -> None:
    program = (
        "import ctypes, os\n"
        "try:\n"
        "    os.memfd_create('x')\n"
        "    print('memfd allowed')\n"
        "except OSError as exc:\n"
        "    print('memfd', exc.errno)\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "print('shmget', libc.shmget(0, 1 << 28, 0o1600), ctypes.get_errno())\n"
    )
    result = _fallback().run(program)
    assert result.stdout.split() == ["memfd", "1", "shmget", "-1", "1"], result  # EPERM from the seccomp filter


def test_the_fallback_counts_shared_copy_on_write_pages_once() -> None:
    """Five processes sharing a parent's 100 MB use 100 MB, not 500 (the sum of PSS, not of RSS)."""
    program = (
        "import os, time\n"
        "block = bytearray(100 << 20)\n"
        "for i in range(0, len(block), 4096):\n"
        "    block[i] = 1\n"
        "children = [os.fork() for _ in range(4)]\n"
        "if 0 in children:\n"
        "    time.sleep(1.5)\n"
        "    os._exit(0)\n"
        "for pid in children:\n"
        "    os.waitpid(pid, 0)\n"
        "print('done')\n"
    )
    result = _fallback().run(program, limits=Limits(memory_mb=256, wall_s=20))
    assert result.ok and result.stdout == "done\n", result


def test_the_fallback_allows_a_large_reserved_stack() -> None:
    """RLIMIT_DATA counts reserved memory: a 256 MB thread stack (a deep-recursion idiom) must still start."""
    program = (
        "import threading\n"
        "threading.stack_size(1 << 28)\n"
        "t = threading.Thread(target=lambda: print('deep ok'))\n"
        "t.start()\n"
        "t.join()\n"
    )
    result = _fallback().run(program, limits=Limits(memory_mb=256))
    assert result.ok and result.stdout == "deep ok\n", result


def test_the_fallback_reports_cpu_time_and_a_cpu_limit_is_a_timeout() -> None:
    program = "import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True:\n    pass\n"
    result = _fallback().run(program, limits=Limits(cpu_s=1, wall_s=10))
    assert result.outcome is Outcome.TIMEOUT and "CPU time" in result.detail, result
    assert result.cpu_s >= 1.5


def test_two_sandboxes_never_share_a_uid(tmp_path: Path) -> None:
    """Each execution's uid is held across sandbox objects and processes: the end of one run (which kills every
    process of its uid) must not kill another's."""
    if os.geteuid() != 0:
        pytest.skip("uid slots need root")
    other = subprocess.Popen(
        [sys.executable, "-W", "ignore", "-c",
         "from sandboxes.bwrap import BwrapSandbox\nfrom sandboxes import Limits\n"
         "r = BwrapSandbox(cgroups=False).run('import time\\ntime.sleep(3)\\nprint(1)', limits=Limits(wall_s=20))\n"
         "print(r.outcome.value, r.stdout.strip())"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(1.0)  # the other process's execution is running now
    mine, also_mine = _fallback(), _fallback()
    for sandbox in (mine, also_mine, mine):
        assert sandbox.run("print(2)").stdout == "2\n"
    out, _ = other.communicate(timeout=60)
    assert out.split() == ["ok", "1"]
