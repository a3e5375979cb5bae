"""The judge tests' own support code: tiny local models (`support.tiny_models`) and the OpenAI-compatible server
that serves them (`support.openai_server`). Standard-library HTTP only, and only to 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.extras import install_hint
from support.openai_server import OpenAIServer

torch = pytest.importorskip("torch", reason=install_hint("torch", "judge"))
transformers = pytest.importorskip("transformers", reason=install_hint("transformers", "judge"))

from support.tiny_models import (  # noqa: E402  (after the skip: it imports torch)
    SINGLE_TOKENS,
    SPECIAL_TOKENS,
    build_model,
    build_tokenizer,
)

REPLY = "Final Decision: Yes"
CONVERSATIONS = [
    [{"role": "user", "content": "Is 2 + 2 = 4?"}],
    [
        {"role": "system", "content": "You are a careful judge."},
        {"role": "user", "content": "Question: 7 * 6? Response: 41. Final Decision: No"},
    ],
    [
        {"role": "user", "content": "Yes Yes Yes"},
        {"role": "assistant", "content": "No"},
        {"role": "user", "content": "\\boxed{12} " * 20},
    ],
]


def load(directory: Path) -> tuple[Any, Any]:
    tokenizer = transformers.AutoTokenizer.from_pretrained(directory, local_files_only=True)
    model = transformers.AutoModelForCausalLM.from_pretrained(directory, local_files_only=True).eval()
    return tokenizer, model


def prompt_ids(tokenizer: Any, messages: list[dict[str, str]]) -> list[int]:
    text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    return tokenizer(text, add_special_tokens=False)["input_ids"]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny-models")
    return {
        "llama": build_model(root / "llama", arch="llama", reply=REPLY),
        "gpt2": build_model(root / "gpt2", arch="gpt2", reply=REPLY),
        "random-0": build_model(root / "random-0", seed=0),
        "random-0-again": build_model(root / "random-0-again", seed=0),
        "random-1": build_model(root / "random-1", seed=1),
    }


# -- tiny models -----------------------------------------------------------------------------------------------


def test_tokenizer_round_trips_and_keeps_judge_words_whole(tmp_path: Path) -> None:
    tokenizer = build_tokenizer(tmp_path)
    for text in ["Final Decision: Yes", "The answer is \\boxed{-3.5}.", "naïve café ✓ 日本", "  two  spaces\n"]:
        ids = tokenizer.encode(text, add_special_tokens=False)
        assert tokenizer.decode(ids) == text
    for text in ["Yes", "No", " Yes", " No", *SINGLE_TOKENS]:
        assert len(tokenizer.encode(text, add_special_tokens=False)) == 1, text
    assert tokenizer.tokenize("\\boxed{") == ["\\", "boxed", "{"]
    for token in SPECIAL_TOKENS:
        assert tokenizer.convert_ids_to_tokens(tokenizer.encode(token, add_special_tokens=False)) == [token]
    reloaded = transformers.AutoTokenizer.from_pretrained(tmp_path, local_files_only=True)
    assert reloaded.encode("Final Decision: No") == tokenizer.encode("Final Decision: No")
    assert (reloaded.bos_token, reloaded.eos_token, reloaded.pad_token) == SPECIAL_TOKENS[:3]


def test_chat_template_ends_the_prompt_with_the_assistant_token(tmp_path: Path) -> None:
    tokenizer = build_tokenizer(tmp_path)
    text = tokenizer.apply_chat_template(CONVERSATIONS[1], add_generation_prompt=True, tokenize=False)
    assert text == (
        "<|system|>\nYou are a careful judge.<|end|>\n"
        "<|user|>\nQuestion: 7 * 6? Response: 41. Final Decision: No<|end|>\n<|assistant|>"
    )
    for messages in CONVERSATIONS:
        assert tokenizer.convert_ids_to_tokens(prompt_ids(tokenizer, messages)[-1]) == "<|assistant|>"


@pytest.mark.parametrize("arch", ["llama", "gpt2"])
def test_reply_model_greedily_says_its_reply_whatever_the_conversation(models: dict[str, Path], arch: str) -> None:
    tokenizer, model = load(models[arch])
    expected = tokenizer.encode(REPLY, add_special_tokens=False)
    for messages in CONVERSATIONS:
        ids = torch.tensor([prompt_ids(tokenizer, messages)])
        with torch.no_grad():
            out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=12, do_sample=False)
            first = model(ids).logits[0, -1].softmax(-1)[expected[0]].item()
        assert out[0, ids.shape[1] :].tolist() == [*expected, tokenizer.eos_token_id]
        assert first > 0.99


def test_reply_model_says_each_reply_it_is_built_for(tmp_path: Path) -> None:
    for index, reply in enumerate(["No", " Yes", "The answer is \\boxed{42}", "B"]):
        tokenizer, model = load(build_model(tmp_path / str(index), arch="gpt2", reply=reply))
        ids = torch.tensor([prompt_ids(tokenizer, CONVERSATIONS[0])])
        with torch.no_grad():
            out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=16, do_sample=False)
        assert tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True) == reply


def test_reply_that_is_not_a_bigram_chain_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bigram chain"):
        build_model(tmp_path, reply="No No No")  # "ĠNo" would be followed by "ĠNo" and by eos
    with pytest.raises(ValueError, match="empty"):
        build_model(tmp_path, reply="")


def test_random_models_are_deterministic_in_the_seed(models: dict[str, Path]) -> None:
    ids = torch.tensor([[7, 80, 120, 200, 5]])
    logits = {}
    for name in ("random-0", "random-0-again", "random-1"):
        _, model = load(models[name])
        with torch.no_grad():
            logits[name] = model(ids).logits
    assert torch.equal(logits["random-0"], logits["random-0-again"])
    assert not torch.allclose(logits["random-0"], logits["random-1"])


def test_models_reload_with_auto_classes(models: dict[str, Path]) -> None:
    for arch, cls in (("llama", "LlamaForCausalLM"), ("gpt2", "GPT2LMHeadModel")):
        tokenizer, model = load(models[arch])
        assert type(model).__name__ == cls
        assert model.config.tie_word_embeddings is False
        assert model.get_output_embeddings().weight.data_ptr() != model.get_input_embeddings().weight.data_ptr()
        assert len(tokenizer) == model.config.vocab_size
        assert (Path(models[arch]) / "model.safetensors").is_file()


# -- the server ------------------------------------------------------------------------------------------------


def call(
    server: OpenAIServer, path: str, body: Any = None, *, key: str | None = None, raw: bytes | None = None
) -> tuple[int, dict[str, Any], Any]:
    """(status, JSON body, headers) of one request; POST when a body is given."""
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(server.base_url + path, data=data, method="GET" if data is None else "POST")
    request.add_header("Content-Type", "application/json")
    if key is not None:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read()), response.headers
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read()), error.headers


def chat(messages: list[dict[str, str]], **extra: Any) -> dict[str, Any]:
    return {"model": "tiny-judge", "messages": messages, **extra}


@pytest.fixture(scope="module")
def server(models: dict[str, Path]) -> Iterator[OpenAIServer]:
    with OpenAIServer(models["llama"], max_context=200) as running:
        yield running


@pytest.fixture
def fresh(server: OpenAIServer) -> OpenAIServer:
    """The shared server with no delay; a test that injects failures consumes them itself."""
    server.delay = 0.0
    return server


def test_server_lists_its_model(fresh: OpenAIServer) -> None:
    status, body, _ = call(fresh, "/models")
    assert status == 200
    assert body["object"] == "list"
    assert [model["id"] for model in body["data"]] == ["tiny-judge"]


def test_chat_completion_is_the_reply_with_true_logprobs(fresh: OpenAIServer, models: dict[str, Path]) -> None:
    tokenizer, model = load(models["llama"])
    for messages in CONVERSATIONS:
        status, body, _ = call(fresh, "/chat/completions", chat(messages, logprobs=True, top_logprobs=5))
        assert status == 200, body
        choice = body["choices"][0]
        assert choice["message"] == {"role": "assistant", "content": REPLY}
        assert choice["finish_reason"] == "stop"
        content = choice["logprobs"]["content"]
        reply_ids = tokenizer.encode(REPLY, add_special_tokens=False)
        assert [entry["token"] for entry in content] == [tokenizer.decode([i]) for i in reply_ids]
        assert body["usage"] == {
            "prompt_tokens": len(prompt_ids(tokenizer, messages)),
            "completion_tokens": len(reply_ids),
            "total_tokens": len(prompt_ids(tokenizer, messages)) + len(reply_ids),
        }
        for entry in content:
            tops = entry["top_logprobs"]
            assert len(tops) == 5
            assert [top["logprob"] for top in tops] == sorted((top["logprob"] for top in tops), reverse=True)
            assert tops[0]["token"] == entry["token"] and tops[0]["logprob"] == entry["logprob"]
            assert bytes(entry["bytes"]).decode() == entry["token"]
    with torch.no_grad():
        ids = torch.tensor([prompt_ids(tokenizer, CONVERSATIONS[-1])])
        expected = torch.log_softmax(model(ids).logits[0, -1], -1)[reply_ids[0]].item()
    assert content[0]["logprob"] == pytest.approx(expected, abs=1e-5)
    assert content[0]["logprob"] > -0.01  # P("Final") > 0.99


def test_chat_completion_stops_at_max_tokens_and_omits_logprobs_unasked(fresh: OpenAIServer) -> None:
    status, body, _ = call(fresh, "/chat/completions", chat(CONVERSATIONS[0], max_tokens=2, temperature=0.7))
    assert status == 200
    assert body["choices"][0]["message"]["content"] == "Final Decision"
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["choices"][0]["logprobs"] is None


def test_completion_echo_offsets_map_tokens_back_to_the_prompt(fresh: OpenAIServer) -> None:
    prompt = "<|user|>\nIs  12 + 30 = 42? Final Decision: Yes, \\boxed{42}.<|end|>\n"
    status, body, _ = call(fresh, "/completions", {"model": "tiny-judge", "prompt": prompt, "max_tokens": 0,
                                                     "echo": True, "logprobs": 3})  # fmt: skip
    assert status == 200, body
    choice = body["choices"][0]
    assert choice["text"] == prompt
    logprobs = choice["logprobs"]
    tokens, offsets = logprobs["tokens"], logprobs["text_offset"]
    assert "".join(tokens) == prompt
    assert offsets[0] == 0
    for token, start, end in zip(tokens, offsets, [*offsets[1:], len(prompt)]):
        assert prompt[start:end] == token
    assert logprobs["token_logprobs"][0] is None and logprobs["top_logprobs"][0] is None
    assert all(isinstance(lp, float) and lp <= 0 for lp in logprobs["token_logprobs"][1:])
    assert all(len(top) == 3 for top in logprobs["top_logprobs"][1:])
    assert body["usage"]["completion_tokens"] == 0


def test_completion_echo_then_generates(fresh: OpenAIServer) -> None:
    prompt = "<|user|>\nhi<|end|>\n<|assistant|>"
    status, body, _ = call(fresh, "/completions", {"model": "tiny-judge", "prompt": prompt, "max_tokens": 8,
                                                     "echo": True, "logprobs": 1})  # fmt: skip
    assert status == 200, body
    choice = body["choices"][0]
    assert choice["text"] == prompt + REPLY
    assert choice["finish_reason"] == "stop"
    tokens, offsets = choice["logprobs"]["tokens"], choice["logprobs"]["text_offset"]
    assert "".join(tokens) == choice["text"]
    assert all(choice["text"][start:].startswith(token) for token, start in zip(tokens, offsets))
    status, body, _ = call(fresh, "/completions", {"model": "tiny-judge", "prompt": prompt, "max_tokens": 8})
    assert body["choices"][0]["text"] == REPLY and body["choices"][0]["logprobs"] is None


@pytest.mark.parametrize(
    ("path", "body", "raw", "status", "fragment"),
    [
        ("/nope", None, None, 404, "no such endpoint"),
        ("/chat/completions", chat(CONVERSATIONS[0], model="gpt-9"), None, 404, "does not exist"),
        ("/chat/completions", None, b"{not json", 400, "not valid JSON"),
        ("/chat/completions", {"model": "tiny-judge"}, None, 400, "messages"),
        ("/chat/completions", chat(CONVERSATIONS[0], max_tokens="4"), None, 400, "max_tokens"),
        ("/chat/completions", chat(CONVERSATIONS[0], top_logprobs=3), None, 400, "logprobs"),
        ("/chat/completions", chat([{"role": "user"}]), None, 400, "content"),
        ("/completions", {"model": "tiny-judge", "prompt": ["a"]}, None, 400, "prompt"),
        ("/completions", {"model": "tiny-judge", "prompt": "x", "logprobs": True}, None, 400, "logprobs"),
    ],
)
def test_bad_requests_get_openai_style_errors(
    fresh: OpenAIServer, path: str, body: Any, raw: bytes | None, status: int, fragment: str
) -> None:
    got, answer, _ = call(fresh, path, body, raw=raw)
    assert got == status
    assert set(answer["error"]) == {"message", "type", "code"}
    assert fragment in answer["error"]["message"]


def test_a_long_prompt_exceeds_the_maximum_context_length(fresh: OpenAIServer) -> None:
    status, body, _ = call(fresh, "/chat/completions", chat([{"role": "user", "content": "Yes " * 300}]))
    assert status == 400
    assert "maximum context length" in body["error"]["message"]


def test_api_key_is_required_when_set(models: dict[str, Path]) -> None:
    with OpenAIServer(models["gpt2"], api_key="sk-test", model_name="judge") as server:
        assert call(server, "/models")[0] == 401
        status, body, _ = call(server, "/models", key="wrong")
        assert status == 401 and body["error"]["code"] == "invalid_api_key"
        status, body, _ = call(server, "/chat/completions", {**chat(CONVERSATIONS[0]), "model": "judge"}, key="sk-test")
        assert status == 200 and body["choices"][0]["message"]["content"] == REPLY
        assert body["model"] == "judge"


def test_injected_failures_come_first_then_service_resumes(fresh: OpenAIServer) -> None:
    before = fresh.requests
    fresh.fail_next(2, 500)
    fresh.fail_next(1, 429, retry_after=1.5)
    assert call(fresh, "/models")[0] == 500
    status, body, _ = call(fresh, "/chat/completions", chat(CONVERSATIONS[0]))
    assert status == 500 and body["error"]["type"] == "server_error"
    status, body, headers = call(fresh, "/chat/completions", chat(CONVERSATIONS[0]))
    assert status == 429 and headers["Retry-After"] == "1.5"
    assert body["error"]["type"] == "rate_limit_error"
    status, body, _ = call(fresh, "/chat/completions", chat(CONVERSATIONS[0], max_tokens=3))
    assert status == 200
    assert fresh.requests == before + 4
    assert fresh.bodies[-1] == chat(CONVERSATIONS[0], max_tokens=3)


def test_a_handler_exception_is_a_500_answer(fresh: OpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(body: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr(fresh, "completion", broken)
    status, body, _ = call(fresh, "/completions", {"model": "tiny-judge", "prompt": "x"})
    assert status == 500
    assert "boom" in body["error"]["message"]


def test_requests_overlap_while_they_wait(models: dict[str, Path]) -> None:
    with OpenAIServer(models["llama"]) as server:
        server.delay = 0.3
        answers: list[int] = []

        def one() -> None:
            answers.append(call(server, "/chat/completions", chat(CONVERSATIONS[0]))[0])

        threads = [threading.Thread(target=one) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert answers == [200] * 4
        assert server.max_in_flight >= 2
        assert server.requests == 4


def test_close_frees_the_port(models: dict[str, Path]) -> None:
    server = OpenAIServer(models["gpt2"]).start()
    port = server.port
    assert call(server, "/models")[0] == 200
    server.close()
    server.close()
    assert f"openai-server-{port}" not in {thread.name for thread in threading.enumerate()}
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    with socket.socket() as probe:  # a new server could listen there (TIME_WAIT of the closed connection aside)
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
