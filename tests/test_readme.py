"""The README's two set-up commands and its Python examples run as written."""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)
SETUP = README[README.index("## Set up and run"):]
SETUP_BLOCK = re.findall(r"```bash\n(.*?)```", SETUP, re.S)[0]
COMMANDS = [line for line in SETUP_BLOCK.splitlines() if line and not line.startswith("#")]
SCRIPT = ROOT / "scripts" / "install-system-packages"


def test_readme_has_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index):
    exec(compile(BLOCKS[index], f"README.md example {index}", "exec"), {"__name__": f"readme_{index}"})


def test_readme_api_example_gives_the_documented_statuses():
    namespace: dict = {}
    exec(compile(BLOCKS[0], "README.md example 0", "exec"), namespace)
    assert namespace["verdict"].status.value == "correct" and namespace["verdict"].reward == 1.0
    assert [v.status.value for v in namespace["verdicts"]] == ["correct", "correct"]


def test_readme_math_example_gives_the_documented_statuses():
    block = next(b for b in BLOCKS if "math.steps" in b)
    lines = [line.split("#")[0].strip() for line in block.splitlines() if line.startswith("verify(")]
    namespace: dict = {}
    exec("from verifiers import verify", namespace)
    first, second, third = (eval(line, namespace) for line in lines)  # our own README text, not model output
    assert first.value == "correct" and second.value == "incorrect"
    assert third["claim"].replace(" ", "").startswith("21+4=26")


def test_readme_judge_example_gives_the_documented_statuses():
    block = next(b for b in BLOCKS if "master key" in b)
    namespace: dict = {}
    exec(compile(block, "README.md judge example", "exec"), namespace)
    assert [(v.verifier, v.status.value) for v in namespace["verdicts"]] == [("judge", "undecided"),
                                                                             ("judge", "incorrect")]


def test_readme_training_loop_example_gives_the_documented_rewards():
    block = next(b for b in BLOCKS if "verifiers.integrations" in b)
    namespace: dict = {}
    results = []
    for line in block.splitlines():
        code = line.split("  #")[0]
        if not code or code.startswith("#"):
            continue
        if code.startswith("from ") or "=" in code.split("(")[0]:
            exec(code, namespace)
        else:
            results.append(eval(code, namespace))  # our own README text
    trl, verl, verl_code, openrlhf = results
    assert trl == [1.0] and verl == 1.0 and [float(r) for r in openrlhf] == [1.0]  # a tensor, a list without torch
    assert verl_code == 1.0


# -- the set-up commands --------------------------------------------------------------------------------------


def test_setup_is_two_commands_and_command_1_installs_no_extra():
    main, tests = COMMANDS
    assert main.startswith("python -m pip install -e . && verifiers run examples/mixed.jsonl ")
    assert "verifiers report results.jsonl --html report.html" in main
    assert tests == "scripts/install-system-packages && python -m pip install -e '.[dev]' && python -m pytest"
    assert os.access(SCRIPT, os.X_OK) and (ROOT / "examples" / "mixed.jsonl").is_file()
    assert "scripts/install-system-packages" in (ROOT / ".ci" / "run").read_text()


# the import names of the optional extras' packages (pyproject.toml): command 1 installs none of them
EXTRAS_MODULES = ("sacrebleu", "datasets", "pyarrow", "docker", "pytest", "hypothesis", "transformers", "torch",
                  "ray", "math_verify", "reasoning_gym", "trl", "verl")
BLOCK_EXTRAS = f"""
import os, sys
class BlockExtras:  # as if only `pip install -e .` had run: importing an extra's package fails, and is logged
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {EXTRAS_MODULES!r}:
            with open(os.environ["BLOCKED_IMPORTS_LOG"], "a") as log:
                log.write(name + "\\n")
            raise ImportError(f"{{name}} belongs to an extra that command 1 does not install")
sys.meta_path.insert(0, BlockExtras())
"""


def test_command_1_runs_without_any_extra(tmp_path):
    """Command 1 after its pip part, in processes (the CLI and its workers) where no extra can be imported, on the
    example's rows without Lean (its start-up alone takes ~20 s; it imports no Python extra either)."""
    rows = [line for line in (ROOT / "examples" / "mixed.jsonl").read_text().splitlines() if '"lean"' not in line]
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "mixed.jsonl").write_text("\n".join(rows) + "\n")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(BLOCK_EXTRAS)
    log = tmp_path / "blocked.log"
    env = {**os.environ, "PYTHONPATH": f"{tmp_path / 'site'}{os.pathsep}{ROOT}", "BLOCKED_IMPORTS_LOG": str(log),
           "VERIFIERS_LOAD_PLUGINS": ""}  # no third-party plugin, as in a fresh clone
    main = COMMANDS[0].split(" && ")
    assert main[0] == "python -m pip install -e ."
    for command in main[1:]:
        argv = shlex.split(command)
        assert argv[0] == "verifiers"
        quiet = ["--no-progress"] if argv[1] == "run" else []
        proc = subprocess.run([sys.executable, "-m", "verifiers", *argv[1:], *quiet], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
    assert not log.exists(), f"command 1 imported an extra: {log.read_text()}"
    assert len((tmp_path / "results.jsonl").read_text().splitlines()) == len(rows)
    assert (tmp_path / "report.html").read_text().startswith("<!DOCTYPE html>")


# -- scripts/install-system-packages, with stand-ins for apt-get, apt-cache and id (nothing is installed) ----------

PACKAGE_COMMANDS = {"bubblewrap": "bwrap", "npm": "npm", "docker.io": "dockerd", "chromium": "chromium", "g++": "g++"}
BASH = shutil.which("bash") or "/bin/bash"


def _stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!{BASH}\n{body}\n")
    path.chmod(0o755)


def run_script(tmp_path: Path, *, present=(), uid=0, apt=True, no_candidate=(), install_fails=False):
    """Runs the script with only `present` of the packages' commands on PATH; returns (exit code, output,
    the apt-get calls)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "apt-get.calls"
    os.symlink(shutil.which("grep") or "/bin/grep", bin_dir / "grep")
    _stub(bin_dir, "id", f"echo {uid}")
    for package in present:
        _stub(bin_dir, PACKAGE_COMMANDS[package], "exit 0")
    if apt:
        fail = '[ "$1" = install ] && exit 100\n' if install_fails else ""
        _stub(bin_dir, "apt-get", f'echo "$*" >> {calls}\n{fail}exit 0')
        none = "|".join(shlex.quote(p) for p in no_candidate) or "-"
        # as apt-cache does: the candidate, then a version table (here longer than a pipe's buffer, so a reader
        # that stops at the candidate line makes this writer fail)
        table = 'for ((i = 0; i < 3000; i++)); do echo "        500 http://deb.debian.org/debian bookworm/main"; done'
        policy = f'case "$2" in {none}) echo "  Candidate: (none)";; *) echo "  Candidate: 1.0";; esac\n{table}'
        _stub(bin_dir, "apt-cache", policy)
    proc = subprocess.run([BASH, str(SCRIPT)], env={"PATH": str(bin_dir)}, capture_output=True, text=True, timeout=60)
    return proc.returncode, proc.stdout + proc.stderr, calls.read_text().splitlines() if calls.exists() else []


def _expected_missing(*present: str) -> list[str]:
    """The packages the script should find missing: dockerd counts when it is in /usr/sbin (off a user's PATH)."""
    in_sbin = os.access("/usr/sbin/dockerd", os.X_OK)
    return [p for p in PACKAGE_COMMANDS if p not in present and not (p == "docker.io" and in_sbin)]


def test_script_as_root_installs_exactly_the_missing_packages_apt_has(tmp_path):
    code, output, calls = run_script(tmp_path, present=["npm"], no_candidate=["chromium"])  # as on Ubuntu (a snap)
    wanted = [p for p in _expected_missing("npm") if p != "chromium"]
    assert code == 0
    assert calls == ["update -qq", f"install -y -qq {' '.join(wanted)}"]
    assert "not installed chromium: apt has no such package here" in output


def test_script_installs_nothing_when_nothing_is_missing(tmp_path):
    code, output, calls = run_script(tmp_path, present=list(PACKAGE_COMMANDS))
    assert (code, calls) == (0, []) and "all present" in output


def test_script_not_as_root_says_what_is_missing_and_how_to_install_it_and_does_not_fail(tmp_path):
    code, output, calls = run_script(tmp_path, present=["npm", "chromium"], uid=1000)
    missing = " ".join(_expected_missing("npm", "chromium"))
    assert (code, calls) == (0, [])
    assert f"missing {missing}; not installed: not root" in output and f"sudo apt-get install {missing}" in output


def test_script_without_apt_does_not_fail(tmp_path):
    code, output, calls = run_script(tmp_path, apt=False)
    assert code == 0 and "there is no apt-get here" in output


def test_script_when_apt_get_install_fails_says_so_and_does_not_fail(tmp_path):
    code, output, calls = run_script(tmp_path, present=["npm", "chromium", "g++"], install_fails=True)
    assert code == 0 and len(calls) == 2 and "apt-get install failed" in output


def test_script_refuses_arguments(tmp_path):
    proc = subprocess.run([BASH, str(SCRIPT), "--yes"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "usage" in proc.stderr
