"""Plugin loading: built-ins through the same manager, entry points, allow/block lists, a real installed plugin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import verifiers
from verifiers import OptionError, UnknownVerifierError
from verifiers.plugins import DEFAULT_PLUGINS, plugin_info, pm

PLUGIN_SRC = Path(__file__).parent / "data" / "throwaway_plugin"


def clean_env(pythonpath: Path | None = None, **extra: str) -> dict[str, str]:
    """This process's environment without VERIFIERS_* settings, with `pythonpath` and `extra` added."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERIFIERS_")}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    env.update(extra)
    return env


def run_python(code: str, env_extra: dict[str, str] | None = None, pythonpath: Path | None = None):
    env = clean_env(pythonpath, **(env_extra or {}))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture(scope="module")
def installed_plugin(tmp_path_factory) -> Path:
    """The throwaway plugin really installed (pip, entry-point metadata and all) into a private target dir."""
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(PLUGIN_SRC)],
        capture_output=True, text=True, timeout=300, cwd=build,
    )
    assert result.returncode == 0, result.stderr
    return target


def test_builtins_are_registered_through_the_manager():
    verifiers.list_verifiers()
    names = {info.name for info in plugin_info()}
    assert set(DEFAULT_PLUGINS) <= names
    for module_name in DEFAULT_PLUGINS:
        assert pm.has_plugin(module_name)
    rule = next(info for info in plugin_info() if info.name == "verifiers.rule")
    assert rule.builtin and rule.version == verifiers.__version__ and "register_verifiers" in rule.hooks


def test_unknown_verifier_lists_what_exists():
    with pytest.raises(UnknownVerifierError) as info:
        verifiers.verify("x", "x", verifier="no-such-verifier")
    message = str(info.value)
    assert "no-such-verifier" in message and "exact" in message


def test_unknown_domain_lists_what_exists():
    with pytest.raises(verifiers.UnknownDomainError, match="unknown domain 'astrology'; registered: .*text"):
        verifiers.verify("x", "x", domain="astrology")


def test_unknown_option_is_a_clear_error():
    with pytest.raises(OptionError, match="does not take option.*'colour'.*its options are: strip"):
        verifiers.get_verifier("exact", colour="red")


def test_installed_plugin_is_found_through_its_entry_point(installed_plugin):
    code = (
        "import json, verifiers\n"
        "from verifiers.plugins import plugin_info\n"
        "v = verifiers.verify('Never odd or even', verifier='palindrome')\n"
        "d = verifiers.verify('abc', domain='palindromes')\n"
        "print(json.dumps({'plugins': [i.to_dict() for i in plugin_info()], 'v': v.to_dict(), 'd': d.to_dict()}))\n"
    )
    result = run_python(code, pythonpath=installed_plugin)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    plugin = next(p for p in data["plugins"] if p["name"] == "throwaway")
    assert plugin["version"] == "0.3.1" and plugin["hooks"] == ["register_verifiers"] and not plugin["builtin"]
    assert data["v"]["status"] == "correct" and data["v"]["evidence"]["normalized"] == "neveroddoreven"
    assert data["d"]["status"] == "incorrect"


def test_plugins_command_shows_the_installed_plugin(installed_plugin):
    result = subprocess.run([sys.executable, "-m", "verifiers", "plugins"], capture_output=True, text=True,
                            env=clean_env(installed_plugin), timeout=120)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {"name": "throwaway", "version": "0.3.1", "hooks": ["register_verifiers"], "builtin": False} in rows


def test_run_command_uses_the_installed_plugin(installed_plugin, tmp_path):
    data = tmp_path / "in.jsonl"
    data.write_text("".join(json.dumps({"id": str(i), "response": r}) + "\n"
                            for i, r in enumerate(["abba", "abc", "racecar"])))
    out = tmp_path / "out.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "verifiers", "run", str(data), "-o", str(out), "--verifier", "palindrome",
         "--no-progress"],
        capture_output=True, text=True, env=clean_env(installed_plugin), timeout=120,
    )
    assert result.returncode == 0, result.stderr
    records = {json.loads(line)["id"]: json.loads(line) for line in out.read_text().splitlines()}
    assert {k: r["verdict"]["status"] for k, r in records.items()} == {"0": "correct", "1": "incorrect",
                                                                        "2": "correct"}


@pytest.mark.parametrize(
    ("env", "expect_loaded"),
    [({}, True), ({"VERIFIERS_LOAD_PLUGINS": ""}, False), ({"VERIFIERS_LOAD_PLUGINS": "throwaway"}, True),
     ({"VERIFIERS_LOAD_PLUGINS": "other"}, False), ({"VERIFIERS_DISABLE_PLUGINS": "throwaway"}, False)],
)
def test_allow_and_block_lists(installed_plugin, env, expect_loaded):
    code = "import verifiers; print('palindrome' in [r['name'] for r in verifiers.list_verifiers()])"
    result = run_python(code, env, pythonpath=installed_plugin)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(expect_loaded)


def test_block_list_applies_to_builtins():
    code = "import verifiers; print(sorted(r['plugin'] for r in verifiers.list_verifiers()))"
    result = run_python(code, {"VERIFIERS_DISABLE_PLUGINS": "rule"})
    assert result.returncode == 0, result.stderr
    assert "verifiers.rule" not in result.stdout


def test_a_broken_plugin_is_skipped_with_a_warning(tmp_path):
    dist = tmp_path / "broken_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[verifiers]\nbroken = broken_plugin\n")
    (tmp_path / "broken_plugin.py").write_text("raise RuntimeError('I am broken')\n")
    code = (
        "import json, warnings, verifiers\n"
        "from verifiers.plugins import plugin_info\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    ok = verifiers.verify('a', 'a', verifier='exact').is_correct\n"
        "print(json.dumps({'ok': ok, 'warnings': [str(w.message) for w in caught],\n"
        "                  'info': [i.to_dict() for i in plugin_info() if i.name == 'broken']}))\n"
    )
    result = run_python(code, pythonpath=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["ok"]
    assert any("'broken'" in w and "I am broken" in w and "VERIFIERS_DISABLE_PLUGINS=broken" in w
               for w in data["warnings"])
    assert data["info"][0]["error"] == "RuntimeError: I am broken"
