"""The `transformers` judge backend: a causal LM loaded from a local directory (or the local Hugging Face cache).

Loaded on first use, offline (`local_files_only`), once per process (see `backend.backend_for`). Device `auto` is
CUDA when available, else the CPU; bf16 on a GPU, fp32 on the CPU. Inputs run in batches of similar length with
left padding (explicit position ids, so a padded row computes what it would alone). A CUDA out-of-memory error
splits the batch in halves and retries; a single prompt that does not fit is a Failure. A prompt longer than the
context keeps the end of the response (`Prompt.tail` is cut from its start).
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from verifiers.errors import OptionError

from .backend import Continuation, Failure, Prompt

__all__ = ["TransformersBackend"]

T = TypeVar("T")
ELLIPSIS = "…"
YES_SPELLINGS = ("Yes", "yes", "YES", " Yes", " yes", " YES")
NO_SPELLINGS = ("No", "no", "NO", " No", " no", " NO")


class TransformersBackend:
    """A local model judge. `model`: a directory or a cached model id; `device`: "auto", "cpu", "cuda", "cuda:1";
    `batch_size`: at most this many prompts per forward pass; `batch_tokens`: and at most this many tokens, padding
    included (None: 65536 on a GPU, 1024 on the CPU, where padded batches of long prompts were measured slower than
    one prompt at a time, see benchmarks/judge_batching.py); `max_length`: context limit in tokens (default: the
    model's)."""

    name = "transformers"

    def __init__(
        self,
        model: str,
        *,
        device: str = "auto",
        batch_size: int = 16,
        batch_tokens: int | None = None,
        max_length: int | None = None,
    ) -> None:
        if not isinstance(model, str) or not model:
            raise OptionError(f"transformers backend: model must be a directory or model id, got {model!r}")
        self.model_name = model
        self.device_option = device
        self.batch_size = batch_size
        self.batch_tokens_option = batch_tokens
        self.max_length_option = max_length
        self._lock = threading.RLock()
        self._loaded: tuple[Any, Any, str] | None = None
        self._load_error: str | None = None
        self.splits = 0
        """How many times an out-of-memory batch was split (observable for tests and benchmarks)."""

    # -- loading -------------------------------------------------------------------------------------------
    def _load(self) -> tuple[Any, Any, str]:
        with self._lock:
            if self._loaded is not None:
                return self._loaded
            if self._load_error is not None:
                raise RuntimeError(self._load_error)
            try:
                self._loaded = self._load_model()
            except Exception as exc:
                self._load_error = f"judge model {self.model_name!r} cannot be loaded: {type(exc).__name__}: {exc}"
                raise RuntimeError(self._load_error) from exc
            return self._loaded

    def _load_model(self) -> tuple[Any, Any, str]:
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:
            raise RuntimeError(
                "the transformers judge backend needs torch and transformers: pip install 'verifier-suite[judge]'"
            ) from exc
        device = self.device_option
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
        from transformers.utils import logging as hf_logging

        bars = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()  # a training loop's log is no place for loading bars
        try:
            tokenizer = AutoTokenizer.from_pretrained(self.model_name, local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(self.model_name, local_files_only=True, dtype=dtype)
        finally:
            if bars:
                hf_logging.enable_progress_bar()
        tokenizer.padding_side = "left"
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        model = model.to(device).eval()  # type: ignore[arg-type]
        return model, tokenizer, device

    @property
    def model(self) -> Any:
        return self._load()[0]

    @property
    def tokenizer(self) -> Any:
        return self._load()[1]

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {"backend": self.name, "model": self.model_name}
        if self._loaded is not None:
            described["device"] = self._loaded[2]
        return described

    def max_length(self) -> int:
        if self.max_length_option:
            return int(self.max_length_option)
        model, tokenizer, _ = self._load()
        limits = [getattr(model.config, name, None) for name in ("max_position_embeddings", "n_positions")]
        limits.append(getattr(tokenizer, "model_max_length", None))
        usable = [int(n) for n in limits if isinstance(n, int) and 0 < n < 10**7]
        return min(usable) if usable else 4096

    # -- text -> token ids -----------------------------------------------------------------------------------
    def _chat_text(self, prompt: Prompt, tail: str) -> str:
        """The prompt through the model's chat template; a last assistant message is continued, not closed."""
        tokenizer = self.tokenizer
        messages = prompt.render(tail)
        partial = ""
        if messages and messages[-1]["role"] == "assistant":
            partial = messages.pop()["content"]
        if getattr(tokenizer, "chat_template", None):
            head = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        else:  # a base model: plain text with a cue for the reply
            head = "\n\n".join(m["content"] for m in messages) + "\n\n"
        return head + partial

    def prompt_text(self, prompt: Prompt, *, reserve: int = 0, suffix: str = "") -> str | Failure:
        """The text the model reads for `prompt` (through the chat template, then `suffix`), its tail cut to leave
        `reserve` tokens of the context free (for generation)."""
        fitted = self._fitted(prompt, reserve=reserve, suffix=suffix)
        return fitted if isinstance(fitted, Failure) else fitted[0]

    def _count(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _fitted(self, prompt: Prompt, *, reserve: int = 0, suffix: str = "") -> tuple[str, int] | Failure:
        """(text, its token count) for the longest end of `prompt.tail` that keeps the text within the context."""
        try:
            budget = self.max_length() - reserve
        except RuntimeError as exc:
            return Failure(str(exc))
        tail = prompt.tail
        for _ in range(4):
            text = self._chat_text(prompt, tail) + suffix
            tokens = self._count(text)
            if tokens <= budget:
                return text, tokens
            if not tail:
                break
            ids = self.tokenizer(tail, add_special_tokens=False)["input_ids"]
            keep = max(0, len(ids) - (tokens - budget) - 8)  # a little slack: tokens re-merge at the cut
            tail = ELLIPSIS + self.tokenizer.decode(ids[len(ids) - keep :]) if keep else ""
        return Failure(
            f"the judge prompt does not fit the model's context of {budget} tokens even without the response"
        )

    # -- batching ----------------------------------------------------------------------------------------------
    def _batched(
        self, fitted: list[tuple[str, int] | Failure], run: Callable[[list[int], list[str]], list[T]]
    ) -> list[T | Failure]:
        """`run(indices, texts)` over length-sorted batches of the `_fitted` texts; Failures pass through; an OOM
        batch is split."""
        results: list[Any] = [f if isinstance(f, Failure) else None for f in fitted]
        lengths = {i: f[1] for i, f in enumerate(fitted) if not isinstance(f, Failure)}
        for chunk in self._chunks(sorted(lengths, key=lengths.__getitem__), lengths):
            texts = [fitted[i][0] for i in chunk]  # type: ignore[index]
            for i, out in zip(chunk, self._run_splitting(chunk, texts, run)):  # type: ignore[arg-type]
                results[i] = out
        return results

    def _chunks(self, order: list[int], lengths: dict[int, int]) -> list[list[int]]:
        """Consecutive (length-sorted) indices, at most `batch_size` rows and `batch_tokens` padded tokens each."""
        budget = self.batch_tokens_option or (65536 if self._load()[2].startswith("cuda") else 1024)
        chunks: list[list[int]] = []
        for i in order:
            if chunks and len(chunks[-1]) < self.batch_size and (len(chunks[-1]) + 1) * lengths[i] <= budget:
                chunks[-1].append(i)
            else:
                chunks.append([i])
        return chunks

    def _run_splitting(
        self, indices: list[int], texts: list[str], run: Callable[[list[int], list[str]], list[T]]
    ) -> list[T | Failure]:
        import torch

        oom = getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)
        try:
            with self._lock, torch.inference_mode():
                return list(run(indices, texts))
        except oom:
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            if len(texts) == 1:
                return [Failure(f"out of memory on a single judge prompt of {self._count(texts[0])} tokens")]
            self.splits += 1
            half = len(texts) // 2
            return self._run_splitting(indices[:half], texts[:half], run) + self._run_splitting(
                indices[half:], texts[half:], run
            )

    def _encode(self, texts: list[str]) -> tuple[Any, Any, Any]:
        """Left-padded ids, attention mask and position ids (counted from each row's first real token)."""
        batch = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        device = self._load()[2]
        ids, mask = batch["input_ids"].to(device), batch["attention_mask"].to(device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        return ids, mask, positions

    # -- the three questions -------------------------------------------------------------------------------------
    @functools.cached_property
    def _keeps_logits(self) -> bool:
        """Whether the model's forward can compute the logits of the last position only."""
        return "logits_to_keep" in inspect.signature(self.model.forward).parameters

    @functools.cached_property
    def _yes_no_ids(self) -> tuple[list[int], list[int]]:
        """The single-token spellings of yes and of no in this tokenizer."""

        def single(spellings: Sequence[str]) -> list[int]:
            encoded = (self.tokenizer(word, add_special_tokens=False)["input_ids"] for word in spellings)
            return sorted({ids[0] for ids in encoded if len(ids) == 1})

        return single(YES_SPELLINGS), single(NO_SPELLINGS)

    def yes_probabilities(self, prompts: Sequence[Prompt]) -> list[tuple[float, float] | Failure]:
        try:
            yes_ids, no_ids = self._yes_no_ids
        except RuntimeError as exc:
            return [Failure(str(exc))] * len(prompts)
        if not yes_ids or not no_ids:
            return [Failure(f"the tokenizer of {self.model_name!r} has no single token for 'yes' or 'no'")] * len(
                prompts
            )
        fitted = [self._fitted(p) for p in prompts]

        def run(_: list[int], batch: list[str]) -> list[tuple[float, float]]:
            import torch

            ids, mask, positions = self._encode(batch)
            last_only = {"logits_to_keep": 1} if self._keeps_logits else {}  # no vocabulary-wide head per position
            logits = self.model(input_ids=ids, attention_mask=mask, position_ids=positions, **last_only).logits[
                :, -1, :
            ]
            logprobs = torch.log_softmax(logits.float(), dim=-1)
            yes = torch.logsumexp(logprobs[:, yes_ids], dim=-1).exp()
            no = torch.logsumexp(logprobs[:, no_ids], dim=-1).exp()
            mass = yes + no
            p_yes = torch.where(mass > 0, yes / mass.clamp(min=1e-38), torch.full_like(mass, 0.5))
            return list(zip(p_yes.tolist(), mass.tolist()))

        return self._batched(fitted, run)

    def generate(self, prompts: Sequence[Prompt], *, max_tokens: int) -> list[str | Failure]:
        fitted = [self._fitted(p, reserve=max_tokens) for p in prompts]

        def run(_: list[int], batch: list[str]) -> list[str]:
            ids, mask, _ = self._encode(batch)
            tokenizer = self.tokenizer
            out = self.model.generate(
                input_ids=ids, attention_mask=mask, max_new_tokens=max_tokens, do_sample=False,
                pad_token_id=tokenizer.pad_token_id,
            )  # fmt: skip
            return tokenizer.batch_decode(out[:, ids.shape[1] :], skip_special_tokens=True)

        return self._batched(fitted, run)

    def continuation_logprobs(self, items: Sequence[Continuation]) -> list[list[float] | Failure]:
        """Log-probabilities of the tokens that cover `item.text` (a token straddling the boundary counts)."""
        fitted = [self._fitted(item.context, suffix=item.text) for item in items]

        def run(indices: list[int], batch: list[str]) -> list[list[float]]:
            import torch

            ids, mask, positions = self._encode(batch)
            logits = self.model(input_ids=ids, attention_mask=mask, position_ids=positions).logits
            logprobs = torch.log_softmax(logits.float(), dim=-1)
            out = []
            for row, (i, text) in enumerate(zip(indices, batch)):
                start = len(text) - len(items[i].text)
                offsets = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
                pad = ids.shape[1] - len(offsets)
                scored = [k for k, (_, end) in enumerate(offsets) if end > start and k > 0]
                out.append([logprobs[row, pad + k - 1, ids[row, pad + k]].item() for k in scored])
            return out

        return self._batched(fitted, run)
