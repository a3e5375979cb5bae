"""Tiny causal language models built locally from configs, for the judge tests (no hub, no downloads).

`build_model(directory)` writes a tokenizer and a 2-layer model that `AutoTokenizer` / `AutoModelForCausalLM` reload
with `local_files_only=True`. With `reply=None` the weights are random (from `seed`); with `reply="Final Decision:
Yes"` the model is a deterministic judge: after any prompt rendered with `CHAT_TEMPLATE` and a generation prompt
(which ends with the `<|assistant|>` token) greedy decoding produces exactly `reply`, then eos.

Tokenization (byte-level BPE trained on `CORPUS`, GPT-2 pre-tokenizer, no special tokens added when encoding):
one token each: "Yes", " Yes", "No", " No", "yes", "no", "Final", " Decision", ":", "A", "B", "C", " A", " B",
" C", "}", "{", the digits "0".."9", and every special token. "\\boxed{" is three tokens ("\\", "boxed", "{"):
the pre-tokenizer splits punctuation from letters. `test_judge_support.py` checks these facts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import torch
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedModel,
    PreTrainedTokenizerFast,
)

__all__ = ["CHAT_TEMPLATE", "CORPUS", "SINGLE_TOKENS", "SPECIAL_TOKENS", "build_model", "build_tokenizer"]

BOS, EOS, PAD = "<|bos|>", "<|eos|>", "<|pad|>"
SPECIAL_TOKENS: tuple[str, ...] = (BOS, EOS, PAD, "<|system|>", "<|user|>", "<|assistant|>", "<|end|>")
"""Ids 0..6 in this order: bos, eos, pad, one token per chat role, end of message."""
ASSISTANT = "<|assistant|>"

CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>\n{{ message['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
"""Each message is `<|role|>\\ncontent<|end|>\\n`; the generation prompt is the single token `<|assistant|>`."""

SINGLE_TOKENS: tuple[str, ...] = (
    "Yes", " Yes", "No", " No", "yes", "no", "Final", " Decision", ":", "A", "B", "C", " A", " B", " C", "{", "}",
    *"0123456789",
)  # fmt: skip
"""Strings the tokenizer encodes as exactly one token (`build_tokenizer` checks them)."""

VOCAB_SIZE = 640
"""Target vocabulary of the trained BPE (the trainer may stop short of it on a small corpus)."""

_JUDGE_LINES = (
    "Final Decision: Yes",
    "Final Decision: No",
    "Yes",
    "No",
    "yes",
    "no",
    "Answer: Yes",
    "Answer: No",
    "Is the response correct? Yes, it is.",
    "Is the response correct? No, it is not.",
    "The answer is A. The answer is B. The answer is C. The answer is D.",
    "A B C D A B C D",
    "Options: (A) (B) (C) (D)",
    "The final answer is \\boxed{42}. So the answer is \\boxed{7} and \\boxed{x+1}.",
    "0 1 2 3 4 5 6 7 8 9 10 12 100 3.14 -5 1/2",
    "You are a careful judge. Read the question and the response, then decide whether the response is correct.",
    "Question: What is 2 + 2? Response: 4. Reference: 4.",
    "Think step by step and explain your reasoning before the verdict.",
    "def add(a, b):\n    return a + b\n",
    "The quick brown fox jumps over the lazy dog.",
)
CORPUS: tuple[str, ...] = _JUDGE_LINES * 8 + tuple(f" {word}" for word in ("Yes", "No", "yes", "no") * 8)
"""What the BPE is trained on: judge phrases, options, digits and a little prose and code (repeated so the
words the judges read become whole tokens)."""

HIDDEN = 64
MAX_REPLY_TOKENS = HIDDEN - 10  # the chain takes one embedding direction per token, and a few stay free
_CHAIN_GAIN = 4.0  # next-token logit of a chain step ~ 7 * gain (~29): P(next) > 0.9999 against ~460 tokens
_EOS_GAIN = 4.0  # eos logit off the chain ~ 3.6 * gain (~14): eos wins by that margin, chain steps still win by ~14


def build_tokenizer(directory: Path) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE on `CORPUS`, wrap it with bos/eos/pad and `CHAT_TEMPLATE`, save it to `directory`.

    Encoding never adds special tokens; offsets are not trimmed, so the tokens of a text join back to it.
    """
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)  # GPT-2's split, no added space
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=[AddedToken(token, special=True, normalized=False) for token in SPECIAL_TOKENS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(CORPUS, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        additional_special_tokens=list(SPECIAL_TOKENS[3:]),
        chat_template=CHAT_TEMPLATE,
        clean_up_tokenization_spaces=False,
        model_max_length=100_000,
    )
    for text in SINGLE_TOKENS:
        pieces = tokenizer.tokenize(text)
        if len(pieces) != 1:
            raise RuntimeError(f"the tiny tokenizer splits {text!r} into {pieces}; give CORPUS more of it")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(directory)
    return tokenizer


def build_model(
    directory: Path,
    *,
    arch: Literal["llama", "gpt2"] = "llama",
    reply: str | None = None,
    seed: int = 0,
    max_positions: int = 512,
    layers: int = 2,
    hidden: int = HIDDEN,
) -> Path:
    """Write a tokenizer and a tiny `arch` model (safetensors, fp32) to `directory`; return `directory`.

    `reply=None`: random weights drawn from `seed` (same seed, same weights); `layers` and `hidden` size them (for
    benchmarks; a reply machine uses the defaults). A `reply`: the bigram judge built by
    `_make_reply_machine`; ValueError when the reply cannot be such a chain (a token used twice, or too long).
    """
    if reply is not None and hidden != HIDDEN:
        raise ValueError(f"a reply machine is built with hidden={HIDDEN}")
    directory = Path(directory)
    tokenizer = build_tokenizer(directory)
    ids = {token: tokenizer.get_vocab()[token] for token in (BOS, EOS, PAD, ASSISTANT)}
    chain = None if reply is None else _reply_chain(tokenizer, reply, ids[ASSISTANT], ids[EOS])
    vocab = len(tokenizer)
    torch.manual_seed(seed)
    if arch == "llama":
        model: PreTrainedModel = LlamaForCausalLM(LlamaConfig(
            vocab_size=vocab, hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=max_positions, tie_word_embeddings=False,
            bos_token_id=ids[BOS], eos_token_id=ids[EOS], pad_token_id=ids[PAD],
        ))  # fmt: skip
    elif arch == "gpt2":
        model = GPT2LMHeadModel(GPT2Config(
            vocab_size=vocab, n_embd=hidden, n_layer=layers, n_head=4, n_positions=max_positions, tie_word_embeddings=False,
            bos_token_id=ids[BOS], eos_token_id=ids[EOS], pad_token_id=ids[PAD],
        ))  # fmt: skip
    else:
        raise ValueError(f"unknown arch {arch!r}: use 'llama' or 'gpt2'")
    if chain is not None:
        _make_reply_machine(model, arch, chain, ids[EOS], seed)
    model.generation_config.pad_token_id = ids[PAD]
    model.save_pretrained(directory, safe_serialization=True)
    return directory


def _reply_chain(tokenizer: PreTrainedTokenizerFast, reply: str, assistant: int, eos: int) -> list[int]:
    """[<|assistant|>, reply tokens..., eos]; a next-token function only exists if no token occurs twice."""
    chain = [assistant, *tokenizer.encode(reply, add_special_tokens=False), eos]
    if len(chain) == 2:
        raise ValueError("reply must not be empty")
    seen: set[int] = set()
    for token in chain[:-1]:
        if token in seen or token == eos:
            raise ValueError(
                f"reply {reply!r} is not a bigram chain: token {tokenizer.decode([token])!r} occurs twice in "
                f"{tokenizer.convert_ids_to_tokens(chain)}, so it would need two different successors"
            )
        seen.add(token)
    if len(chain) - 2 > MAX_REPLY_TOKENS:
        raise ValueError(f"reply {reply!r} is {len(chain) - 2} tokens; at most {MAX_REPLY_TOKENS} fit a tiny model")
    return chain


@torch.no_grad()
def _make_reply_machine(model: Any, arch: str, chain: list[int], eos: int, seed: int) -> None:
    """Turn `model` into a bigram machine that follows `chain` and otherwise predicts eos.

    Attention and MLP outputs are zeroed (and GPT-2's position embeddings), so the final hidden state at a
    position is the normalised embedding of the token there. Embeddings are `0.5 * u + v_t`: `u` a shared unit
    direction only the eos row reads (the default: stop), `v_t` unit vectors, orthonormal along the chain and
    orthogonal to the chain for every other token. The lm_head row of chain[i + 1] reads v_{chain[i]} with a
    larger gain than eos reads u. Every vector is orthogonal to the all-ones vector, so GPT-2's LayerNorm acts
    like Llama's RMSNorm (a rescaling).
    """
    vocab = model.get_input_embeddings().weight.shape[0]
    generator = torch.Generator().manual_seed(seed)
    ones = torch.ones(HIDDEN) / HIDDEN**0.5
    basis, _ = torch.linalg.qr(torch.cat([ones[:, None], torch.randn(HIDDEN, HIDDEN - 1, generator=generator)], 1))
    # column 0 spans the ones vector (skipped), column 1 is u, the next len(chain) - 1 are the chain's v
    shared, chain_vectors = basis[:, 1], basis[:, 2 : 2 + len(chain) - 1]
    free = basis[:, 1 + len(chain) :]  # orthogonal to ones, u and the chain
    rest = torch.randn(vocab, free.shape[1], generator=generator) @ free.T
    embeddings = rest / rest.norm(dim=1, keepdim=True)
    embeddings[chain[:-1]] = chain_vectors.T
    embeddings += 0.5 * shared
    head = torch.zeros(vocab, HIDDEN)
    head[eos] = _EOS_GAIN * shared
    for step, following in enumerate(chain[1:]):
        head[following] += _CHAIN_GAIN * chain_vectors[:, step]  # reads v of chain[step]

    model.get_input_embeddings().weight.copy_(embeddings)
    model.get_output_embeddings().weight.copy_(head)
    if arch == "llama":
        for layer in model.model.layers:
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
        model.model.norm.weight.fill_(1.0)
    else:
        model.transformer.wpe.weight.zero_()
        for block in model.transformer.h:
            for projection in (block.attn.c_proj, block.mlp.c_proj):
                projection.weight.zero_()
                projection.bias.zero_()
        model.transformer.ln_f.weight.fill_(1.0)
        model.transformer.ln_f.bias.zero_()
