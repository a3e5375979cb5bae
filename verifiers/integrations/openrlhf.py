"""OpenRLHF: `reward_func(queries, prompts, labels)` for `--reward.remote_url /path/to/this/file.py`.

OpenRLHF loads the file by path and calls `reward_func` with the full texts (prompt + response, special tokens
included), the prompts and the labels (`--data.label_key`). Point it at this file:

    --reward.remote_url $(python -c "import verifiers.integrations.openrlhf as m; print(m.__file__)")

(OpenRLHF before 0.10 spelled these `--remote_rm_url` and `--label_key`.)

and configure it through the environment: `VERIFIERS_DOMAIN` (e.g. "math"), `VERIFIERS_VERIFIER`, and
`VERIFIERS_OPTIONS` (a JSON object of settings, verifier options under "options", e.g.
`{"timeout": 10, "error_reward": 0, "options": {"rel_tol": 0.01}}`).
Or write a two-line file of your own: `reward_func = make_reward_func(domain="math", timeout=10)`. For a
reward server instead of a file, run `verifiers serve` (same protocol over HTTP; see `server.py`).

The response is the query after its prompt, with trailing end-of-sequence tokens removed. A label that is a
JSON object (a code test suite, a rubric) is decoded. The result: `rewards` and `scores` (tensors when torch is
importable, else lists), and `extra_logs` with per-sample `verifier_correct`, `verifier_failed`,
`verifier_undecided`, and `verifier_aspect_<name>` for each name of the `aspects` setting (the rule of
`scoring.aspect_rewards`) — OpenRLHF needs a number, so UNDECIDED gets `undecided_reward` and ERROR/TIMEOUT
`error_reward` (0.0 by default), and the failure shows in the logs (OpenRLHF logs `extra_logs` every step) instead
of passing as a silent 0.

OpenRLHF 0.11's agent executor loads this file with `spec_from_file_location("reward_func", path)` and calls
`reward_func` with one sample at a time, from threads (`asyncio.to_thread`); the scorer merges those concurrent
calls into batches. A call is one sample, so a group-dependent reward is computed for the sample alone
(`verifiers.groups`). OpenRLHF catches an exception of `reward_func` and only logs it at INFO, so settings are
checked when the file is first called and a broken setting fails every call the same way.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Sequence
from typing import Any

from verifiers.integrations.scoring import RewardMap, Scorer, aspect_names, aspect_rewards, make_sample, plain
from verifiers.verdict import Status, Verdict

__all__ = ["RewardFunc", "make_reward_func", "response_from_query", "reward_func"]

# end-of-sequence and padding markers of the common chat templates, removed from the end of a query; besides
# these, any marker shaped like a chat template's special token: `<|name|>` (Qwen, Llama 3, Phi, GPT-OSS) or
# `<｜name｜>` with full-width bars (DeepSeek's `<｜end▁of▁sentence｜>`)
_TRAILING_SPECIAL = ("</s>", "<eos>", "<end_of_turn>", "<pad>")
_SPECIAL_SHAPE = re.compile(r"<([|｜])(?=[^<>|｜\s]*[A-Za-z])[^<>|｜\s]{3,40}\1>$")  # a name, not `<|1|>`
_PROMPT_TAIL = 32  # characters of the prompt's end looked for when the query does not start with the prompt


def response_from_query(query: str, prompt: str | None) -> str:
    """The model's response inside an OpenRLHF query (the decoded prompt + response tokens).

    The query normally starts with the prompt; decoding may change its whitespace, so the prompt is matched
    ignoring whitespace, then by its last characters; a query where neither is found is taken whole.
    """
    text = query
    if prompt:
        end = _prompt_end(query, prompt)
        if end is None:
            tail = prompt.strip()[-_PROMPT_TAIL:]
            at = query.rfind(tail) if tail else -1
            end = at + len(tail) if at >= 0 else None
        if end is not None:
            text = query[end:]
    return _without_trailing_special(text)


def _without_trailing_special(text: str) -> str:
    """`text` without the end-of-sequence markers that end it and the whitespace around them (kept as is when
    it ends with none); one backward scan, linear however much whitespace the text holds."""
    cut = end = len(text)
    while True:
        while end and text[end - 1].isspace():
            end -= 1
        marker = next((m for m in _TRAILING_SPECIAL if text.endswith(m, 0, end)), None)
        if marker is None:
            shaped = _SPECIAL_SHAPE.search(text, max(0, end - 44), end)
            if shaped is None:
                return text[:cut]
            marker = shaped.group()
        end -= len(marker)
        while end and text[end - 1].isspace():
            end -= 1
        cut = end


def _prompt_end(query: str, prompt: str) -> int | None:
    """Where `prompt` ends in `query` when the query starts with it up to whitespace; else None."""
    if query.startswith(prompt):
        return len(prompt)
    wanted = [c for c in prompt if not c.isspace()]
    matched = 0
    for at, char in enumerate(query):
        if matched == len(wanted):
            return at
        if char.isspace():
            continue
        if char != wanted[matched]:
            return None
        matched += 1
    return len(query) if matched == len(wanted) else None


def _label(label: Any) -> Any:
    label = plain(label)
    if isinstance(label, str) and label.lstrip().startswith("{"):
        try:
            decoded = json.loads(label)
        except ValueError:
            return label
        return decoded if isinstance(decoded, dict) else label
    return label


def _as_tensor(values: list[float]) -> Any:
    try:
        import torch
    except ImportError:
        return values
    return torch.tensor(values, dtype=torch.float32)


class RewardFunc:
    """An OpenRLHF reward function backed by a `Scorer`; see `make_reward_func`."""

    def __init__(
        self,
        *,
        domain: str | None = None,
        verifier: Any = None,
        undecided_reward: float = 0.0,
        error_reward: float = 0.0,
        tensors: bool = True,
        aspects: Sequence[str] | None = None,
        **settings: Any,
    ) -> None:
        if undecided_reward is None or error_reward is None:
            raise TypeError(
                "OpenRLHF needs a number for every sample: undecided_reward and error_reward cannot be None"
            )
        self.rewards = RewardMap(undecided=undecided_reward, error=error_reward)
        self.aspects = aspect_names(aspects)
        self.scorer = Scorer(verifier=verifier, domain=domain, **settings)
        self.tensors = tensors
        self.__name__ = "reward_func"

    def verdicts(
        self, queries: Sequence[Any], prompts: Sequence[Any] | None, labels: Sequence[Any] | None
    ) -> list[Verdict]:
        if prompts is not None and len(prompts) != len(queries) or labels is not None and len(labels) != len(queries):
            raise ValueError(
                f"reward_func got {len(queries)} queries, {'no' if prompts is None else len(prompts)} prompts and "
                f"{'no' if labels is None else len(labels)} labels; they must be as many"
            )
        items = []
        for i, query in enumerate(queries):
            prompt = plain(prompts[i]) if prompts is not None else None
            prompt = prompt if isinstance(prompt, str) else None
            items.append(
                make_sample(
                    lambda q=query, p=prompt: response_from_query(str(plain(q)), p),  # type: ignore[misc]
                    _label(labels[i]) if labels is not None else None,
                    prompt=prompt,
                )
            )
        return self.scorer.verify(items)

    def result(self, verdicts: Sequence[Verdict], *, tensors: bool | None = None) -> dict[str, Any]:
        """OpenRLHF's reward dict for `verdicts`: tensors or lists (`tensors`, default: as configured)."""
        rewards = [float(self.rewards(v)) for v in verdicts]  # type: ignore[arg-type]
        logs = {
            "verifier_correct": [1.0 if v.status is Status.CORRECT else 0.0 for v in verdicts],
            "verifier_failed": [1.0 if v.status.is_failure else 0.0 for v in verdicts],
            "verifier_undecided": [1.0 if v.status is Status.UNDECIDED else 0.0 for v in verdicts],
        }
        per_verdict = [aspect_rewards(v, self.aspects, self.rewards) for v in verdicts]
        for i, aspect in enumerate(self.aspects):
            logs[f"verifier_aspect_{aspect}"] = [values[i] for values in per_verdict]
        convert = _as_tensor if (self.tensors if tensors is None else tensors) else list
        return {
            "rewards": convert(rewards),
            "scores": convert(rewards),
            "extra_logs": {name: convert(values) for name, values in logs.items()},
        }

    def __call__(
        self, queries: Sequence[Any], prompts: Sequence[Any] | None = None, labels: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:  # fmt: skip
        return self.result(self.verdicts(queries, prompts, labels))


def make_reward_func(domain: str | None = None, *, verifier: Any = None, **settings: Any) -> RewardFunc:
    """An OpenRLHF `reward_func` verifying with `domain`'s cascade (or `verifier`, or routing by label).

    Settings: `undecided_reward`, `error_reward` (numbers, default 0.0), `aspects` (aspect names exported in
    `extra_logs`), `policy`, `workers`, `timeout`, `cache`, `executor`, `ray_address`, and `options` (verifier
    options).
    """
    return RewardFunc(domain=domain, verifier=verifier, **settings)


_DEFAULT: RewardFunc | None = None
_DEFAULT_LOCK = threading.Lock()


def _from_environment() -> RewardFunc:
    raw = os.environ.get("VERIFIERS_OPTIONS", "").strip()
    try:
        settings = json.loads(raw) if raw else {}
    except ValueError as exc:
        raise ValueError(f"VERIFIERS_OPTIONS is not valid JSON: {exc}") from None
    if not isinstance(settings, dict):
        raise ValueError(f"VERIFIERS_OPTIONS must be a JSON object, got {type(settings).__name__}")
    return make_reward_func(
        os.environ.get("VERIFIERS_DOMAIN") or None, verifier=os.environ.get("VERIFIERS_VERIFIER") or None, **settings
    )


def reward_func(queries: Sequence[Any], prompts: Sequence[Any] | None = None, labels: Sequence[Any] | None = None,
                **kwargs: Any) -> dict[str, Any]:  # fmt: skip
    """OpenRLHF's entry point, configured from `VERIFIERS_DOMAIN`, `VERIFIERS_VERIFIER`, `VERIFIERS_OPTIONS`
    (read on the first call; the scorer is then kept warm)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = _from_environment()
        function = _DEFAULT
    return function(queries, prompts, labels, **kwargs)
