"""Hostile programs against the `code` verifier, in the real bubblewrap sandbox.

Every exploit that fools public harnesses must earn reward 0 here (and stay contained: the verdict is a
judgement, never an ERROR the attacker could use to dodge a negative reward).
"""

from __future__ import annotations

import pytest
from test_code import bwrap_sandbox, fenced

from verifiers import Sample, Status, verify_batch
from verifiers.code import CodeVerifier

# Expected values a wrong program cannot guess; `triple` is never implemented correctly below.
TRIPLE = {"tests": ["assert triple(7) == 21", "assert triple(12) == 36", "assert triple(-3) == -9",
                    "assert triple(1000) == 3000"], "entry_point": "triple"}
TRIPLE_STDIO = {"tests": [{"input": "7\n", "output": "21\n"}, {"input": "12\n", "output": "36\n"},
                          {"input": "5\n", "output": "15\n"}]}
WRONG = "def triple(x):\n    return x + 1\n"


@pytest.fixture(scope="module")
def sandbox():
    return bwrap_sandbox()


def verdict_for(sandbox, code, ref=TRIPLE, mode="fraction", timeout=2.0):
    verifier = CodeVerifier(sandbox=sandbox, reward_mode=mode, timeout=timeout)
    return verify_batch([Sample(response=fenced(code), reference=ref)], verifier=verifier)[0]


def assert_zero(verdict):
    assert verdict.status is Status.INCORRECT, (verdict.status, verdict.reason)
    assert verdict.score == 0.0
    assert all(step.status is Status.INCORRECT for step in verdict.steps)


EXIT_TRICKS = {
    "sys_exit_at_load": WRONG + "import sys\nsys.exit(0)\n",
    "os_exit_at_load": WRONG + "import os\nos._exit(0)\n",
    "sys_exit_in_test": "import sys\ndef triple(x):\n    sys.exit(0)\n",
    "os_exit_in_test": "import os\ndef triple(x):\n    os._exit(0)\n",
    "raise_systemexit_in_test": "def triple(x):\n    raise SystemExit(0)\n",
    "keyboard_interrupt": "def triple(x):\n    raise KeyboardInterrupt\n",
    "atexit": WRONG + "import atexit, os\natexit.register(lambda: os.write(1, b'all tests passed\\n'))\n",
    "excepthook": WRONG + "import sys\nsys.excepthook = lambda *a: None\n",
    "kill_self": "import os, signal\ndef triple(x):\n    os.kill(os.getpid(), signal.SIGKILL)\n",
    "kill_parent": "import os, signal\ndef triple(x):\n    os.kill(os.getppid(), signal.SIGKILL)\n",
    "kill_process_group": "import os, signal\ndef triple(x):\n    os.killpg(0, signal.SIGKILL)\n",
    "segfault": "import ctypes\ndef triple(x):\n    return ctypes.string_at(0)\n",
    "exit_code_zero_after_wrong": WRONG + "import atexit, os\natexit.register(os._exit, 0)\n",
}


@pytest.mark.parametrize("name", sorted(EXIT_TRICKS))
def test_exit_tricks_earn_nothing(sandbox, name):
    assert_zero(verdict_for(sandbox, EXIT_TRICKS[name]))


def test_stack_frame_walking_finds_no_expected_values(sandbox):
    # what a harness-reading exploit does: take the value the caller is about to compare against
    code = (
        "import sys, inspect\n"
        "def triple(x):\n"
        "    found = []\n"
        "    frame = sys._getframe(1)\n"
        "    while frame is not None:\n"
        "        for name, v in frame.f_locals.items():\n"
        "            if type(v) is int and v != x and name not in ('i', 'n'):\n"
        "                found.append(v)\n"
        "            if name in ('expected', 'want', 'output', 'answer', 'rhs'):\n"
        "                found.insert(0, v)\n"
        "        frame = frame.f_back\n"
        "    for info in inspect.stack():\n"
        "        for v in info.frame.f_locals.values():\n"
        "            if type(v) is int and v != x:\n"
        "                found.append(v)\n"
        "    return found[0] if found else None\n"
    )
    assert_zero(verdict_for(sandbox, code))


def test_the_test_source_in_memory_holds_no_expected_value(sandbox):
    code = (
        "import gc, re\n"
        "def triple(x):\n"
        "    for obj in gc.get_objects():\n"
        "        for item in (obj if type(obj) in (list, tuple) else ()):\n"
        "            if type(item) is str:\n"
        "                m = re.search(r'triple\\(' + re.escape(str(x)) + r'\\)\\s*==\\s*(-?\\d+)', item)\n"
        "                if m:\n"
        "                    return int(m.group(1))\n"
        "    return None\n"
    )
    assert_zero(verdict_for(sandbox, code))


ALWAYS_EQUAL = {
    "int_subclass_eq": "class Liar(int):\n    def __eq__(self, o): return True\n    def __ne__(self, o): return False\n"
                       "    __hash__ = int.__hash__\ndef triple(x):\n    return Liar(0)\n",
    "object_eq": "class Liar:\n    def __eq__(self, o): return True\n    def __ne__(self, o): return False\n"
                 "    def __hash__(self): return 0\ndef triple(x):\n    return Liar()\n",
    "repr_looks_right": "class Liar:\n    def __init__(self, v): self.v = v\n    def __repr__(self): return repr(self.v)\n"
                        "    def __eq__(self, o): return True\ndef triple(x):\n    return Liar(3 * x)\n",
    "str_subclass": "class Liar(str):\n    def __eq__(self, o): return True\ndef triple(x):\n    return Liar('x')\n",
    "float_subclass": "class Liar(float):\n    def __eq__(self, o): return True\ndef triple(x):\n    return Liar(0)\n",
    "list_holding_liar": "class Liar(int):\n    def __eq__(self, o): return True\ndef triple(x):\n    return [Liar(0)]\n",
    "patched_builtins_type": "import builtins\nclass Liar(int):\n    def __eq__(self, o): return True\n"
                             "real = builtins.type\nbuiltins.type = lambda *a: int if len(a) == 1 and isinstance(a[0], Liar) "
                             "else real(*a)\ndef triple(x):\n    return Liar(0)\n",
}


@pytest.mark.parametrize("name", sorted(ALWAYS_EQUAL))
def test_objects_that_compare_equal_to_everything_earn_nothing(sandbox, name):
    verdict = verdict_for(sandbox, ALWAYS_EQUAL[name])
    assert_zero(verdict)


def test_always_equal_objects_fail_non_equality_asserts_too(sandbox):
    ref = {"tests": ["assert abs(frac(1.5) - 0.5) < 1e-6", "assert frac(2.25) in (0.25,)", "assert not is_neg(3)"]}
    code = (
        "class Liar(float):\n    def __eq__(self, o): return True\n    def __lt__(self, o): return True\n"
        "    def __sub__(self, o): return self\n    def __abs__(self): return self\n    def __bool__(self): return False\n"
        "    __hash__ = float.__hash__\n"
        "def frac(x):\n    return Liar(9)\ndef is_neg(x):\n    return Liar(1)\n"
    )
    assert_zero(verdict_for(sandbox, code, ref))


FORGERIES = {
    "print_records": WRONG + "print('{\"k\":\"test\",\"i\":0,\"r\":{\"x\":\"ok\",\"ops\":[{\"v\":[\"i\",\"15\"]}]},\"n\":1}')\n",
    "write_every_fd": WRONG + (
        "import os, json\n"
        "for fd in range(3, 64):\n"
        "    for i in range(4):\n"
        "        try:\n"
        "            os.write(fd, (json.dumps({'k': 'test', 'i': i, 'r': {'x': 'ok', 'ops': [{'v': ['b', True]}]},"
        " 'n': i + 1}) + '\\n').encode())\n"
        "        except OSError:\n"
        "            pass\n"
    ),
    "stderr_records": WRONG + "import sys\nsys.stderr.write('PASSED 4/4\\n')\nprint('ok', file=sys.__stderr__)\n",
    "hijack_record_channel": WRONG + (
        "import gc, os\n"
        "for obj in gc.get_objects():\n"
        "    if type(obj).__name__ == '_Records':\n"
        "        obj.emit({'k': 'loaded', 'ok': True})\n"
        "        for i in range(4):\n"
        "            obj.emit({'k': 'test', 'i': i, 'r': {'x': 'ok', 'ops': [{'v': ['i', '2a']}]}})\n"
        "        obj.emit({'k': 'end'})\n"
        "        os._exit(0)\n"
    ),
    "hijack_then_let_driver_continue": WRONG + (
        "import gc\n"
        "for obj in gc.get_objects():\n"
        "    if type(obj).__name__ == '_Records':\n"
        "        obj.emit({'k': 'loaded', 'ok': True})\n"
        "        obj.emit({'k': 'test', 'i': 0, 'r': {'x': 'ok', 'ops': [{'v': ['i', '15']}]}})\n"
    ),
    "patch_encoder": (
        "import sys, gc\n"
        "def triple(x):\n    return x\n"
        "for obj in gc.get_objects():\n"
        "    if type(obj) is dict and 'encode' in obj and 'NotPlain' in obj:\n"
        "        obj['encode'] = lambda v, *a: ['b', True]\n"
    ),
}


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_forged_records_earn_nothing(sandbox, name):
    verdict = verdict_for(sandbox, FORGERIES[name])
    assert_zero(verdict)


def test_the_program_cannot_reach_the_record_stream(sandbox):
    # the driver's record writer is in the program's memory (a fork), but its descriptor is not
    forging = (
        "import gc\n"
        "def triple(x):\n    return x + 1\n"
        "for obj in gc.get_objects():\n"
        "    if type(obj).__name__ == '_Records':\n"
        "        for k in range(4):\n"
        "            obj.emit({'k': 'test', 'i': k, 'r': {'x': 'ok', 'ops': [{'v': ['i', '15']}]}})\n"
    )
    assert_zero(verdict_for(sandbox, forging))


def test_a_duplicate_record_rejects_the_whole_execution():
    from verifiers.code import _parse_records

    nonce = "n0"
    lines = [
        'n0 {"k":"loaded","ok":true,"n":0}',
        'n0 {"k":"test","i":0,"r":{"x":"ok","ops":[]},"n":1}',
        'n0 {"k":"test","i":0,"r":{"x":"ok","ops":[]},"n":1}',
    ]
    run = _parse_records("\n".join(lines) + "\n", nonce, 2)
    assert "out of sequence" in run.tampered


def test_stdio_printing_fewer_or_extra_lines_fails(sandbox):
    ref = {"tests": [{"input": "3\n", "output": "1\n2\n3\n"}, {"input": "2\n", "output": "1\n2\n"}]}
    first_line_only = "n = int(input())\nprint(1)\n"
    extra_lines = "n = int(input())\nfor i in range(1, n + 2):\n    print(i)\n"
    for checker in ("tokens", "lines", "exact"):
        for code in (first_line_only, extra_lines):
            assert_zero(verdict_for(sandbox, code, {**ref, "checker": checker}))


def test_stdio_reading_expected_output_from_disk_finds_nothing(sandbox):
    ref = {"tests": [{"input": "probe\n", "output": "ZEBRA-7781-SECRET\n"}]}
    code = (
        "import os, sys\n"
        "found = ''\n"
        "places = ['/proc/self/cmdline', '/proc/self/environ', '/proc/1/cmdline', '/proc/self/fd/0']\n"
        "for root in ('.', '/tmp', '/home', '/root', os.path.expanduser('~'), '/work', '/var/tmp', '/dev/shm'):\n"
        "    for dirpath, _, files in os.walk(root):\n"
        "        places.extend(os.path.join(dirpath, f) for f in files)\n"
        "for path in places[:5000]:\n"
        "    try:\n"
        "        with open(path, 'rb') as fh:\n"
        "            data = fh.read(1 << 20)\n"
        "    except Exception:\n"
        "        continue\n"
        "    i = data.find(b'ZEBRA')\n"
        "    if i >= 0:\n"
        "        found = data[i:i + 17].decode()\n"
        "        break\n"
        "for pid in os.listdir('/proc') if os.path.isdir('/proc') else []:\n"
        "    if pid.isdigit():\n"
        "        try:\n"
        "            data = open('/proc/%s/cmdline' % pid, 'rb').read() + open('/proc/%s/environ' % pid, 'rb').read()\n"
        "        except Exception:\n"
        "            continue\n"
        "        if b'ZEBRA' in data:\n"
        "            found = 'ZEBRA-7781-SECRET'\n"
        "print(found or 'nothing')\n"
    )
    assert_zero(verdict_for(sandbox, code, ref))


def test_assert_program_reading_disk_and_stdin_finds_nothing(sandbox):
    code = (
        "import os, sys\n"
        "blob = sys.stdin.read() if not sys.stdin.closed else ''\n"
        "blob += ' '.join(sys.argv)\n"
        "for root in ('.', '/tmp'):\n"
        "    for dirpath, _, files in os.walk(root):\n"
        "        for f in files:\n"
        "            try:\n"
        "                blob += open(os.path.join(dirpath, f), errors='replace').read()\n"
        "            except Exception:\n"
        "                pass\n"
        "import re\n"
        "def triple(x):\n"
        "    m = re.search(r'triple\\(' + re.escape(str(x)) + r'\\)\\s*==\\s*(-?\\d+)', blob)\n"
        "    return int(m.group(1)) if m else None\n"
    )
    assert_zero(verdict_for(sandbox, code))


def test_an_infinite_loop_in_one_test_fails_only_that_test(sandbox):
    code = "def triple(x):\n    if x == 12:\n        while True:\n            pass\n    return 3 * x\n"
    verdict = verdict_for(sandbox, code)
    assert verdict.status is Status.PARTIAL and verdict.score == pytest.approx(0.75)
    assert [s.status for s in verdict.steps] == [Status.CORRECT, Status.INCORRECT, Status.CORRECT, Status.CORRECT]
    assert "timed out" in verdict.steps[1].detail


def test_an_unstoppable_loop_that_swallows_signals_fails_only_that_test(sandbox):
    code = (
        "import signal\n"
        "def triple(x):\n"
        "    if x == -3:\n"
        "        for s in (signal.SIGALRM, signal.SIGTERM, signal.SIGXCPU):\n"
        "            signal.signal(s, signal.SIG_IGN)\n"
        "        while True:\n"
        "            try:\n"
        "                pass\n"
        "            except BaseException:\n"
        "                pass\n"
        "    return 3 * x\n"
    )
    verdict = verdict_for(sandbox, code)
    assert verdict.status is Status.PARTIAL and verdict.score == pytest.approx(0.75)
    assert verdict.steps[2].status is Status.INCORRECT


# The program's process is forked by a zygote that the driver forked: the driver is its grandparent.
KILL_DRIVER = (
    "import os, signal\n"
    "def _kill_driver():\n"
    "    with open('/proc/%d/stat' % os.getppid()) as f:\n"
    "        os.kill(int(f.read().rsplit(')', 1)[1].split()[1]), signal.SIGKILL)\n"
)


def test_killing_the_driver_costs_the_tests_left(sandbox):
    # no test runs again: a re-run in a fresh sandbox would escape the total time budget
    code = KILL_DRIVER + "def triple(x):\n    if x == 12:\n        _kill_driver()\n    return 3 * x\n"
    verdict = verdict_for(sandbox, code)
    assert verdict.score <= 0.25
    assert [s.status for s in verdict.steps][1:] == [Status.INCORRECT] * 3
    assert "driver ended" in verdict.steps[3].detail


def test_killing_the_driver_escapes_no_time_budget(sandbox):
    ref = {"tests": [f"assert slow_double({i}) == {2 * i}" for i in range(6)], "entry_point": "slow_double"}
    honest = "import time\ndef slow_double(x):\n    time.sleep(1.2)\n    return 2 * x\n"
    budget = CodeVerifier(sandbox=sandbox, timeout=3.0, total_timeout=3.0)
    slow = verify_batch([Sample(response=fenced(honest), reference=ref)], verifier=budget)[0]
    assert 0 < slow.score < 1  # the budget runs out part way
    escape = KILL_DRIVER + honest.replace("    return 2 * x", "    if x == 1:\n        _kill_driver()\n    return 2 * x")
    escaped = verify_batch([Sample(response=fenced(escape), reference=ref)], verifier=budget)[0]
    assert escaped.score <= slow.score


def test_stdio_exit_tricks_earn_nothing(sandbox):
    for code in ("import sys\nsys.exit(0)\n", "import os\nos._exit(0)\n", "print(0)\n",
                 "import sys\nprint(int(input()) + 1)\nsys.exit(0)\n"):
        assert_zero(verdict_for(sandbox, code, TRIPLE_STDIO))


def test_huge_output_is_contained(sandbox):
    verdict = verdict_for(sandbox, "import sys\nsys.stdout.write('7' * (1 << 26))\n", TRIPLE_STDIO)
    assert_zero(verdict)
    verdict = verdict_for(sandbox, "def triple(x):\n    return list(range(10 ** 6))\n")
    assert_zero(verdict)


def test_recursive_structure_is_not_plain_data(sandbox):
    verdict = verdict_for(sandbox, "def triple(x):\n    a = []\n    a.append(a)\n    return a\n")
    assert_zero(verdict)


def test_exploits_earn_nothing_under_every_reward_mode(sandbox):
    for mode in ("binary", "fraction", "weighted"):
        assert_zero(verdict_for(sandbox, ALWAYS_EQUAL["int_subclass_eq"], mode=mode))
        assert_zero(verdict_for(sandbox, EXIT_TRICKS["sys_exit_at_load"], mode=mode))


def test_expected_values_assigned_in_a_test_stay_on_the_trusted_side(sandbox):
    ref = {"tests": ["expected = [3, 2, 1]\nvalues = [1, 2, 3]\nassert rev(values) == expected",
                     "want = 'cba'\nassert rev('abc') == want"]}
    rewrite_the_expectation = (
        "import sys\n"
        "def rev(x):\n"
        "    g = sys._getframe(1).f_globals\n"
        "    for key in ('expected', 'want'):\n"
        "        g[key] = 'forged'\n"
        "    return g.get('expected', g.get('want', 'forged'))\n"
    )
    assert_zero(verdict_for(sandbox, rewrite_the_expectation, ref))
    honest = verdict_for(sandbox, "def rev(x):\n    return x[::-1]\n", ref)
    assert honest.score == 1.0


def test_call_expectations_and_expected_outputs_never_enter_the_sandbox(sandbox):
    sent: list[str] = []

    class Spy:
        name = "spy"

        def run(self, program, **kwargs):
            sent.append(program + str(kwargs.get("stdin", "")) + repr(kwargs.get("files")))
            return sandbox.run(program, **kwargs)

    ref = {"tests": [{"args": [1], "expected": "call-secret"}, {"args": [2], "expected": 987654321}],
           "entry_point": "f"}
    verifier = CodeVerifier(sandbox=Spy(), reward_mode="weighted")
    verdict = verify_batch([Sample(response=fenced("def f(x):\n    return x\n"), reference=ref)], verifier=verifier)[0]
    assert verdict.score == 0.0 and len(sent) >= 2  # the program's run and the stubs' run
    stdio = {"tests": [{"input": "1\n", "output": "stdout-secret-4242\n"}]}
    verify_batch([Sample(response=fenced("print(1)"), reference=stdio)], verifier=CodeVerifier(sandbox=Spy()))
    everything = "\n".join(sent)
    for secret in ("call-secret", "987654321", "3ade68b1", "stdout-secret"):  # also the hex form
        assert secret not in everything


# Reads every readable page of its own process for the text of the tests (the assert `f(3) == <expected>`, the
# loop's table) and answers with what it finds there. The program's processes descend from a zygote forked
# before the driver read the tests, so there is nothing to find.
MEMORY_SCAN = (
    "import ctypes, gc, re\n"
    "ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # dumpable again, so /proc/self/mem opens\n"
    "def _texts():\n"
    "    for obj in gc.get_objects():  # the live objects: a payload dict, its lists of ops\n"
    "        items = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple)) else ()\n"
    "        for item in list(items):\n"
    "            if isinstance(item, str):\n"
    "                yield item.encode('utf-8', 'replace')\n"
    "    with open('/proc/self/maps') as maps:  # and every readable page, freed memory included\n"
    "        regions = [line.split() for line in maps]\n"
    "    with open('/proc/self/mem', 'rb', 0) as mem:\n"
    "        for region in regions:\n"
    "            if not region[1].startswith('r'):\n"
    "                continue\n"
    "            lo, hi = (int(v, 16) for v in region[0].split('-'))\n"
    "            try:\n"
    "                mem.seek(lo)\n"
    "                yield mem.read(min(hi - lo, 1 << 26))\n"
    "            except (OSError, ValueError, OverflowError):\n"
    "                continue\n"
    "def _find(pattern):\n"
    "    for data in _texts():\n"
    "        m = re.search(pattern, data)\n"
    "        if m:\n"
    "            return int(m.group(1))\n"
    "    return 0\n"
    "def f(x):\n"
    "    return _find(rb'f[(]%d[)] == ([0-9]+)' % x) or _find(rb'[(]%d, ([0-9]+)[)]' % x)\n"
)


def test_the_programs_memory_holds_no_test(sandbox):
    # the scan works: where the table is the program's own, it finds it
    own = {"tests": ["assert f(7) == 4242"], "entry_point": "f"}
    assert verdict_for(sandbox, MEMORY_SCAN + "_TABLE = '(7, 4242)'\n", own, timeout=10.0).score == 1.0
    ref = {"tests": ["assert f(3) == 987654321", "assert f(5) == ''.join(['12', '34'])",
                     "for x, want in [(7, 4242), (8, 4343)]:\n    assert f(x) == want"], "entry_point": "f"}
    assert_zero(verdict_for(sandbox, MEMORY_SCAN, ref, timeout=10.0))


# Resource and escape attacks, through the verifier: contained, reward 0, the host unharmed. Each program is
# wrong on purpose (`triple` never triples), so any reward at all would come from the attack.
RESOURCE_ATTACKS = {
    "fork_bomb": "import os\ndef triple(x):\n    while True:\n        try:\n            os.fork()\n"
                 "        except OSError:\n            pass\n",
    "memory_bomb": "def triple(x):\n    hog = []\n    while True:\n        hog.append(bytearray(64 << 20))\n",
    "cpu_spin": "def triple(x):\n    while True:\n        pass\n",
    "sleep_forever": "import time\ndef triple(x):\n    time.sleep(10**6)\n",
    "big_file": "def triple(x):\n    with open('/tmp/big', 'wb') as f:\n        for _ in range(200):\n"
                "            f.write(b'0' * (1 << 20))\n    return x + 1\n",
    "endless_printing": "def triple(x):\n    while True:\n        print('x' * 4096)\n",
    "write_usr_etc": "def triple(x):\n    for p in ('/usr/pwned', '/etc/pwned'):\n        try:\n"
                     "            open(p, 'w').write('x')\n        except OSError:\n            pass\n    return x + 1\n",
    "signal_everyone": "import os, signal\ndef triple(x):\n    for sig in (signal.SIGTERM, signal.SIGKILL):\n"
                       "        try:\n            os.kill(-1, sig)\n        except OSError:\n            pass\n"
                       "    return x + 1\n",
}


TRIPLE_TWO = {**TRIPLE, "tests": TRIPLE["tests"][:2]}  # two tests: each attack costs its deadline per test


@pytest.mark.parametrize("name", sorted(RESOURCE_ATTACKS))
def test_resource_attacks_are_contained_and_earn_nothing(sandbox, name):
    from pathlib import Path

    verdict = verdict_for(sandbox, RESOURCE_ATTACKS[name], ref=TRIPLE_TWO)
    assert_zero(verdict)
    assert not Path("/usr/pwned").exists() and not Path("/etc/pwned").exists()


def test_a_network_connection_reaches_nothing_and_earns_nothing(sandbox, loopback_listener):
    import socket

    port = loopback_listener.getsockname()[1]
    program = (
        "import socket\n"
        "def triple(x):\n"
        "    try:\n"
        f"        s = socket.create_connection(('127.0.0.1', {port}), timeout=1)\n"
        "        s.sendall(b'give me the answers')\n"
        "        return int(s.recv(64) or 0)\n"
        "    except OSError:\n"
        "        return x + 1\n"
    )
    assert_zero(verdict_for(sandbox, program, ref=TRIPLE_TWO))
    with pytest.raises(socket.timeout):
        loopback_listener.accept()  # nothing ever connected to the host's loopback
