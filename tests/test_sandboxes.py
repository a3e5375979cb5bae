"""The sandbox backends' behaviour with real subprocesses: outcomes, languages, the pool, the plugin."""

from __future__ import annotations

import os
import time
import warnings

import pytest
from support.system import missing, skip_without

from sandboxes import (
    ExecResult,
    Limits,
    Outcome,
    Sandbox,
    SandboxPool,
    SandboxUnavailable,
    SandboxWarning,
    UnknownLanguageError,
    run_many,
)
from sandboxes.bwrap import BwrapSandbox, bwrap_usable
from sandboxes.languages import get_language
from sandboxes.process import ProcessSandbox

_PROBLEM = bwrap_usable()
_REASON = f"bubblewrap cannot run here: {_PROBLEM}" if _PROBLEM else ""
needs_bwrap = skip_without("bwrap", _REASON)


def _needs(*tools: str) -> pytest.MarkDecorator:
    missing = [t for t in tools if not os.access(t, os.X_OK)]
    return pytest.mark.skipif(bool(missing), reason=f"not installed: {', '.join(missing)}")

C_DOUBLE = '#include <stdio.h>\nint main(void){int a; if(scanf("%d",&a)!=1) return 2; printf("%d\\n", 2*a); return 0;}\n'
CPP_SUM = "#include <iostream>\nint main(){long a,b; std::cin>>a>>b; std::cout<<a+b<<std::endl;}\n"


@pytest.fixture(scope="module")
def sandbox() -> BwrapSandbox:
    if _REASON:
        missing("bwrap", _REASON)
    return BwrapSandbox()


@needs_bwrap
def test_stdout_stdin_and_exit_code(sandbox: BwrapSandbox) -> None:
    result = sandbox.run("import sys\nprint(sys.stdin.read().upper())", stdin="hello")
    assert result.outcome is Outcome.OK and result.ok
    assert result.stdout == "HELLO\n"
    assert result.exit_code == 0 and result.signal is None
    assert result.wall_s > 0 and result.cpu_s > 0

    exited = sandbox.run("import sys; print('partial'); sys.exit(3)")
    assert exited.outcome is Outcome.RUNTIME_ERROR
    assert exited.exit_code == 3 and exited.stdout == "partial\n"


@needs_bwrap
def test_exception_is_runtime_error_with_traceback(sandbox: BwrapSandbox) -> None:
    result = sandbox.run("def f():\n    return 1 / 0\nf()")
    assert result.outcome is Outcome.RUNTIME_ERROR
    assert result.exit_code == 1
    assert "ZeroDivisionError" in result.stderr


@needs_bwrap
def test_killed_by_signal_reports_the_signal(sandbox: BwrapSandbox) -> None:
    result = sandbox.run("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)")
    assert result.outcome is Outcome.RUNTIME_ERROR
    assert result.signal == 11 and result.exit_code is None


@needs_bwrap
def test_extra_files_are_readable_in_the_working_directory(sandbox: BwrapSandbox) -> None:
    program = "import os\nprint(open('data/input.txt').read(), os.getcwd())"
    result = sandbox.run(program, files={"data/input.txt": "payload"})
    assert result.outcome is Outcome.OK, result
    assert result.stdout.split() == ["payload", "/box"]


@needs_bwrap
def test_python_is_a_plain_interpreter(sandbox: BwrapSandbox) -> None:
    program = "import helper\nprint(helper.VALUE)\nexit(4)"
    result = sandbox.run(program, files={"helper.py": "VALUE = 'imported'"})
    assert result.outcome is Outcome.RUNTIME_ERROR and result.exit_code == 4, result
    assert result.stdout == "imported\n"


@needs_bwrap
@pytest.mark.parametrize("name", ["/etc/passwd", "../escape", "main.py", ""])
def test_bad_file_names_are_refused(sandbox: BwrapSandbox, name: str) -> None:
    with pytest.raises(ValueError):
        sandbox.run("pass", files={name: "x"})


@needs_bwrap
def test_wall_timeout(sandbox: BwrapSandbox) -> None:
    start = time.monotonic()
    result = sandbox.run("import time\ntime.sleep(30)", limits=Limits(wall_s=0.5))
    assert result.outcome is Outcome.TIMEOUT
    assert "wall" in result.detail
    assert time.monotonic() - start < 5


@needs_bwrap
def test_cpu_limit_is_a_timeout(sandbox: BwrapSandbox) -> None:
    result = sandbox.run("while True:\n    pass", limits=Limits(cpu_s=1, wall_s=10))
    assert result.outcome is Outcome.TIMEOUT
    assert "CPU" in result.detail
    assert result.cpu_s >= 0.5  # the CPU time was accounted (cpuacct), not just the wall clock


@needs_bwrap
def test_output_flood_is_cut_at_the_cap(sandbox: BwrapSandbox) -> None:
    result = sandbox.run("while True:\n    print('x' * 4096)", limits=Limits(output_bytes=50_000))
    assert result.outcome is Outcome.OUTPUT_LIMIT
    assert 0 < len(result.stdout) + len(result.stderr) <= 50_000


@needs_bwrap
@_needs("/usr/bin/gcc")
def test_c_compiles_once_and_runs_per_input(sandbox: BwrapSandbox) -> None:
    compiled, runs = sandbox.run_many(C_DOUBLE, language="c", stdins=["1", "21", "x"])
    assert compiled is not None and compiled.outcome is Outcome.OK
    assert [r.stdout for r in runs] == ["2\n", "42\n", ""]
    assert [r.outcome for r in runs] == [Outcome.OK, Outcome.OK, Outcome.RUNTIME_ERROR]
    assert runs[2].exit_code == 2


@needs_bwrap
@_needs("/usr/bin/g++", "/usr/bin/node")
def test_cpp_and_javascript_run(sandbox: BwrapSandbox) -> None:
    cpp = sandbox.run(CPP_SUM, language="cpp", stdin="40 2")
    assert cpp.outcome is Outcome.OK and cpp.stdout == "42\n", cpp
    js = sandbox.run("const s = require('fs').readFileSync(0, 'utf8'); console.log(s.trim() + '!')", language="js",
                     stdin="hi")  # fmt: skip
    assert js.outcome is Outcome.OK and js.stdout == "hi!\n", js


@needs_bwrap
@_needs("/usr/bin/gcc", "/usr/bin/g++")
@pytest.mark.parametrize("language, program", [("c", "int main(void) { return undefined_name; }"),
                                               ("c++", "int main() { std::vector<int> v; }")])  # fmt: skip
def test_compile_error_carries_the_compiler_message(sandbox: BwrapSandbox, language: str, program: str) -> None:
    compiled, runs = sandbox.run_many(program, language=language, stdins=["", ""])
    assert compiled is not None and compiled.outcome is Outcome.COMPILE_ERROR
    assert "error" in compiled.stderr and ("undefined_name" in compiled.stderr or "vector" in compiled.stderr)
    assert runs == [compiled, compiled]
    assert sandbox.run(program, language=language).outcome is Outcome.COMPILE_ERROR


def test_languages_and_unknown_language() -> None:
    assert get_language("Python").name == "python"
    assert get_language("js").name == "javascript"
    assert get_language("c++").compiled
    with pytest.raises(UnknownLanguageError, match="known: c, cpp, javascript, python"):
        get_language("cobol")


@needs_bwrap
def test_unknown_language_raises(sandbox: BwrapSandbox) -> None:
    with pytest.raises(UnknownLanguageError):
        sandbox.run("x", language="brainfuck")


@_needs("/usr/bin/gcc")
def test_process_backend_warns_and_is_not_isolating() -> None:
    with pytest.warns(SandboxWarning, match="NOT isolate"):
        backend = ProcessSandbox()
    assert backend.isolating is False
    assert isinstance(backend, Sandbox)
    result = backend.run("import sys\nprint(sum(map(int, sys.stdin.read().split())))", stdin="1 2 3")
    assert result.outcome is Outcome.OK and result.stdout == "6\n"
    assert "not isolating" in result.detail
    timed = backend.run("import time\ntime.sleep(30)", limits=Limits(wall_s=0.3))
    assert timed.outcome is Outcome.TIMEOUT
    compiled, runs = backend.run_many(C_DOUBLE, language="c", stdins=["4"])
    assert compiled is not None and compiled.ok and runs[0].stdout == "8\n"


@needs_bwrap
def test_pool_returns_results_in_order_and_runs_in_parallel(sandbox: BwrapSandbox) -> None:
    n = 6
    requests = [{"program": f"import time\ntime.sleep(0.4)\nprint({i})"} for i in range(n)]
    with SandboxPool(sandbox, workers=n) as pool:
        start = time.monotonic()
        results = pool.run_batch(requests)
        elapsed = time.monotonic() - start
    assert [r.stdout for r in results] == [f"{i}\n" for i in range(n)]
    assert elapsed < n * 0.4 * 0.6, elapsed  # sequential would take n * 0.4 s


def test_pool_turns_exceptions_into_sandbox_errors() -> None:
    class Broken:
        name = "broken"

        def run(self, program: str, **kwargs: object) -> ExecResult:
            if program == "boom":
                raise RuntimeError("backend exploded")
            return ExecResult(Outcome.OK, exit_code=0, stdout=program)

    with SandboxPool(Broken(), workers=2) as pool:  # type: ignore[arg-type]
        results = pool.run_batch([{"program": "a"}, {"program": "boom"}, {"program": "c"}])
    assert [r.outcome for r in results] == [Outcome.OK, Outcome.SANDBOX_ERROR, Outcome.OK]
    assert "backend exploded" in results[1].detail
    assert pool.workers == 2
    assert SandboxPool(Broken()).workers >= 1  # type: ignore[arg-type]


def test_run_many_falls_back_to_repeated_runs() -> None:
    class Echo:
        name = "echo"

        def run(self, program: str, *, stdin: str = "", **kwargs: object) -> ExecResult:
            return ExecResult(Outcome.OK, exit_code=0, stdout=stdin)

    compiled, runs = run_many(Echo(), "p", stdins=["a", "b"])  # type: ignore[arg-type]
    assert compiled is None and [r.stdout for r in runs] == ["a", "b"]


def test_missing_bwrap_is_unavailable_not_a_silent_fallback() -> None:
    with pytest.raises(SandboxUnavailable, match="bubblewrap"):
        BwrapSandbox(bwrap="/nonexistent/bwrap")


@needs_bwrap
def test_plugin_registers_backends(register_plugin) -> None:
    import sandboxes.plugin
    from verifiers.plugins import get_sandbox, pm

    if not pm.has_plugin("sandboxes.plugin") and not pm.is_registered(sandboxes.plugin):
        register_plugin(sandboxes.plugin, "sandboxes.plugin")
    backend = get_sandbox("bwrap")
    assert isinstance(backend, BwrapSandbox) and isinstance(backend, Sandbox) and backend.isolating
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SandboxWarning)
        assert get_sandbox("process").isolating is False
    assert get_sandbox("bwrap").run("print(6 * 7)").stdout == "42\n"

    from sandboxes import default_sandbox

    assert isinstance(default_sandbox(), BwrapSandbox)


def test_default_sandbox_never_falls_back_to_process() -> None:
    from sandboxes import default_sandbox

    with pytest.raises(SandboxUnavailable, match="never chosen automatically"):
        default_sandbox(bwrap="/nonexistent/bwrap")


@pytest.mark.parametrize("backend", ["bwrap", "process"])
def test_a_finished_program_does_not_wait_for_its_background_children(backend: str) -> None:
    if backend == "bwrap":
        if _REASON:
            missing("bwrap", _REASON)
        sandbox: Sandbox = BwrapSandbox()
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SandboxWarning)
            sandbox = ProcessSandbox()
    start = time.monotonic()
    result = sandbox.run("import subprocess\nsubprocess.Popen(['/bin/sleep', '30'])\nprint('bye')",
                         limits=Limits(wall_s=10))  # fmt: skip
    assert result.outcome is Outcome.OK and result.stdout == "bye\n", result
    assert time.monotonic() - start < 5
