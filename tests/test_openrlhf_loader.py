"""OpenRLHF's own agent executor loads `verifiers/integrations/openrlhf.py` (its `--reward.remote_url file.py` path)
and scores generations with it, in a subprocess.

OpenRLHF itself cannot be installed here (it pins DeepSpeed, vLLM and flash-attn, CUDA builds), but the module that
loads and calls a reward file, `openrlhf/utils/agent.py`, needs only torch, transformers and aiohttp. So the test
takes OpenRLHF's wheel from PyPI (`pip download --no-deps`, cached) and runs that module as shipped. The one
stand-in is the vLLM engine, which needs a GPU: it returns the tokens of a given response, as vLLM returns them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from support.extras import install_hint
from test_code import bwrap_sandbox

import verifiers.integrations.openrlhf as openrlhf_module

OPENRLHF = "0.11.2"
pytest.importorskip("transformers", reason=install_hint("transformers", "judge"))
pytest.importorskip("aiohttp", reason="OpenRLHF's agent module imports aiohttp (pip install aiohttp)")

SCRIPT = r"""
import asyncio, json, sys
from types import SimpleNamespace

from openrlhf.utils.agent import SingleTurnAgentExecutor
from transformers import AutoTokenizer

reward_file, tokenizer_dir, cases = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
executor = SingleTurnAgentExecutor(remote_rm_url=reward_file)  # what `--reward.remote_url file.py` builds


class Engine:
    '''Stands in for vLLM (no GPU here): answers with the tokens of one response, then end-of-sequence.'''

    def __init__(self, response):
        self.ids = tokenizer.encode(response, add_special_tokens=False) + [tokenizer.eos_token_id]

    async def generate(self, prompt_token_ids, sampling_params, multi_modal_data=None):
        output = SimpleNamespace(token_ids=self.ids, finish_reason="stop", logprobs=None)
        return SimpleNamespace(outputs=[output])


results = []
for prompt, label, response in cases:
    params = SimpleNamespace(max_tokens=256, logprobs=None)
    out = asyncio.run(executor.execute(prompt, label, params, 1024, tokenizer, Engine(response)))
    # what OpenRLHF's samples generator then reads: the reward, the score, and each extra log's first value
    number = lambda value: None if value is None else float(value.flatten()[0].item())
    results.append({
        "reward": number(out["reward"]), "score": number(out["scores"]),
        "extra_logs": {k: number(v) for k, v in out["extra_logs"].items()},
    })
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def openrlhf_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A directory from which `openrlhf` imports: the installed one's, else the unpacked wheel's."""
    try:
        import openrlhf  # noqa: F401

        return ""
    except ImportError:
        pass
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "verifiers" / "test-wheels"
    wheels = sorted(cache.glob(f"openrlhf-{OPENRLHF}-*.whl"))
    if not wheels:
        fetch = subprocess.run(
            [sys.executable, "-m", "pip", "download", f"openrlhf=={OPENRLHF}", "--no-deps", "--only-binary=:all:",
             "--python-version", "3.11", "--platform", "manylinux1_x86_64", "-d", str(cache), "-q"],
            capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        wheels = sorted(cache.glob(f"openrlhf-{OPENRLHF}-*.whl"))
        if not wheels:
            pytest.skip(f"OpenRLHF {OPENRLHF}'s wheel could not be fetched from PyPI: {fetch.stderr.strip()[-300:]}")
    target = tmp_path_factory.mktemp("openrlhf")
    with zipfile.ZipFile(wheels[0]) as wheel:
        wheel.extractall(target)
    purelib = next(target.glob("*.data/purelib"), target)
    assert (purelib / "openrlhf" / "utils" / "agent.py").exists()
    return str(purelib)


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from support.tiny_models import build_tokenizer

    directory = tmp_path_factory.mktemp("openrlhf-tokenizer")
    build_tokenizer(directory)
    return directory


def run_openrlhf(openrlhf_path: str, tokenizer_dir: Path, cases: list[Any], **env: str) -> list[dict[str, Any]]:
    environment = {**os.environ, **env}
    environment["PYTHONPATH"] = os.pathsep.join(p for p in (openrlhf_path, environment.get("PYTHONPATH", "")) if p)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, openrlhf_module.__file__, str(tokenizer_dir), json.dumps(cases)],
        capture_output=True, text=True, timeout=300, env=environment,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


SUM_TESTS = json.dumps({"inputs": ["1 2\n", "3 4\n", "2 2\n"], "outputs": ["3\n", "7\n", "4\n"]})
SUM_RIGHT = "```python\na, b = map(int, input().split())\nprint(a + b)\n```"
SUM_NEAR_MISS = "```python\na, b = map(int, input().split())\nprint(a * b)\n```"


def test_openrlhf_loads_the_reward_file_and_scores_math_and_code(openrlhf_path: str, tokenizer_dir: Path):
    bwrap_sandbox()  # skips without a sandbox
    cases = [
        ("What is 2+2? ", "4", "It is \\boxed{4}"),
        ("What is 2+2? ", "4", "It is \\boxed{5}"),
        ("Sum two numbers. ", SUM_TESTS, SUM_RIGHT),
        ("Sum two numbers. ", SUM_TESTS, SUM_NEAR_MISS),
        ("Sum two numbers. ", '{"inputs": ["1"], "outputs": []}', SUM_RIGHT),  # a broken label
    ]
    results = run_openrlhf(openrlhf_path, tokenizer_dir, cases, VERIFIERS_OPTIONS=json.dumps({"timeout": 30}))
    assert [r["reward"] for r in results] == pytest.approx([1.0, 0.0, 1.0, 1 / 3, 0.0])
    assert [r["score"] for r in results] == [r["reward"] for r in results]
    assert [r["extra_logs"]["verifier_correct"] for r in results] == [1.0, 0.0, 1.0, 0.0, 0.0]
    assert [r["extra_logs"]["verifier_failed"] for r in results] == [0.0, 0.0, 0.0, 0.0, 1.0]  # not a silent 0


def test_aspects_reach_openrlhfs_extra_logs(openrlhf_path: str, tokenizer_dir: Path):
    settings = {"aspects": ["overlong"], "options": {"max_length": 20, "buffer": 10}}
    cases = [("Say hi. ", None, "hi"), ("Say hi. ", None, "hi" * 8)]
    results = run_openrlhf(
        openrlhf_path, tokenizer_dir, cases, VERIFIERS_VERIFIER="length", VERIFIERS_OPTIONS=json.dumps(settings)
    )
    assert [r["extra_logs"]["verifier_aspect_overlong"] for r in results] == pytest.approx([1.0, 0.4])
