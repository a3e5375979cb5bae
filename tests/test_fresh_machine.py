"""The suite on a machine without the optional extras: every test module imports, and what needs an extra skips.

`pip install -e '.[dev]'` installs every extra, but a lighter install must still run the suite: a test module that
needs torch, Ray, pyarrow... skips saying which extra installs it (`pytest.importorskip(module,
reason=support.extras.install_hint(...))`), and property tests import hypothesis through `support.properties`, so
without it they skip and the module's other tests still run. Checked for real: the whole suite is collected in a
subprocess where importing any extra fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: The optional extras' top-level modules (and the test dependency hypothesis), all hidden in the subprocess.
EXTRAS = (
    "torch", "transformers", "tokenizers", "huggingface_hub", "ray", "trl", "verl", "docker", "datasets", "pyarrow",
    "sacrebleu", "math_verify", "hypothesis",
)  # fmt: skip


def pytest_without_extras(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m pytest *args` in a subprocess where importing any of `EXTRAS` fails as a missing package would."""
    hidden = tmp_path / "hidden"
    for name in EXTRAS:  # a package of that name first on the path, whose import raises
        (hidden / name).mkdir(parents=True, exist_ok=True)
        (hidden / name / "__init__.py").write_text(
            f"raise ModuleNotFoundError(\"No module named '{name}' (hidden by the test)\", name={name!r})\n"
        )
    path = [str(hidden), str(ROOT), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, path))}
    # hypothesis's own pytest plugin is installed here; on a machine without hypothesis there is none
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:hypothesispytest", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_every_test_module_imports_without_the_optional_extras(tmp_path: Path) -> None:
    result = pytest_without_extras(tmp_path, "--collect-only", "-q", str(ROOT / "tests"))
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "error" not in output.splitlines()[-1], output[-4000:]
    # the modules that need an extra say which one installs it
    for skip in ("torch is not installed: pip install -e '.[judge]'", "ray is not installed: pip install -e '.[ray]'"):
        assert skip in output, output[-4000:]


def test_without_hypothesis_and_pyarrow_only_the_tests_that_need_them_skip(tmp_path: Path) -> None:
    result = pytest_without_extras(tmp_path, "-q", "-rs", str(ROOT / "tests" / "test_datasets.py"))
    output = result.stdout + result.stderr
    summary = output.strip().splitlines()[-1]
    assert result.returncode == 0 and " passed" in summary and " skipped" in summary, output[-4000:]
    assert "hypothesis is not installed: pip install -e '.[testing]'" in output  # the property test
    assert "pyarrow is not installed: pip install -e '.[datasets]'" in output  # the parquet tests
    assert "tests/test_datasets.py" in output and "support/" not in output.split("short test summary")[-1]


def test_a_missing_system_part_skips_with_its_reason_unless_the_run_demands_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without bubblewrap the sandbox tests skip, saying what to install; in a run that demands it (CI after
    installing it), the same tests fail, so a broken install cannot pass as a green run of skips."""
    pytester.syspathinsert(Path(__file__).resolve().parent)  # `support`
    pytester.makepyfile(
        test_parts="""
        from support.system import missing, skip_without

        def test_needs_bwrap():
            missing("bwrap", "bubblewrap (bwrap) is not installed: apt-get install bubblewrap")

        def test_needs_lean():
            missing("lean", "no Lean toolchain: npm is missing")

        @skip_without("chromium", "")
        def test_has_chromium():
            pass
        """,
        test_module_mark="""
        from support.system import skip_without

        pytestmark = skip_without("docker", "no Docker engine reachable")

        def test_needs_docker():
            pass
        """,
    )
    for name in ("VERIFIERS_REQUIRE", "VERIFIERS_REQUIRE_LEAN"):
        monkeypatch.delenv(name, raising=False)
    plain = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")  # nothing here uses hypothesis
    result = pytester.runpytest_inprocess(*plain, "-rs")
    result.assert_outcomes(passed=1, skipped=3)
    result.stdout.fnmatch_lines(["*bubblewrap (bwrap) is not installed: apt-get install bubblewrap*"])

    monkeypatch.setenv("VERIFIERS_REQUIRE", "bwrap")
    result = pytester.runpytest_inprocess(*plain)
    result.assert_outcomes(passed=1, failed=1, skipped=2)
    result.stdout.fnmatch_lines(["*VERIFIERS_REQUIRE demands bwrap*"])

    monkeypatch.setenv("VERIFIERS_REQUIRE_LEAN", "1")  # what .ci/run sets
    result = pytester.runpytest_inprocess(*plain)
    result.assert_outcomes(passed=1, failed=2, skipped=1)

    monkeypatch.setenv("VERIFIERS_REQUIRE", "all")
    result = pytester.runpytest_inprocess(*plain)
    result.assert_outcomes(errors=1)  # the module-level mark fails its module's collection, and so the run
    result.stdout.fnmatch_lines(["*no Docker engine reachable (VERIFIERS_REQUIRE demands docker*"])
