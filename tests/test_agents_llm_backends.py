"""Language-model back-ends: the tiny local model through transformers, and an
OpenAI-compatible client against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from _agents_openai_server import FakeOpenAI
from palaestra.agents.llm import load_lm
from palaestra.agents.llm.openai_lm import APIError, OpenAICompatibleLM
from palaestra.agents.llm.tiny import build_tiny_model, tiny_model_path
from palaestra.agents.llm.transformers_lm import TransformersLM

PROMPTS = [
    [{"role": "system", "content": "You play Connect Four."}, {"role": "user", "content": "Legal moves: 1 2 3 4"}],
    [{"role": "user", "content": "Pick a column."}],
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny"), seed=0)


@pytest.fixture(scope="module")
def lm(tiny):
    return TransformersLM(tiny, max_threads=1)


def test_tiny_model_files_and_chat_template(tiny):
    names = {p.name for p in tiny.iterdir()}
    assert {"config.json", "tokenizer.json", "model.safetensors"} <= names
    size = sum(p.stat().st_size for p in tiny.iterdir())
    assert size < 8e6
    config = json.loads((tiny / "config.json").read_text())
    assert config["model_type"] == "gpt2" and config["n_layer"] == 2
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny)
    text = tok.apply_chat_template(PROMPTS[0], tokenize=False, add_generation_prompt=True)
    assert text.endswith("<|im_start|>assistant\n") and "You play Connect Four." in text
    # byte-level BPE round-trips any text
    sample = "Action: e2e4 — ünïcode ✓"
    assert tok.decode(tok(sample)["input_ids"]) == sample


def test_tiny_model_is_seeded_and_cached(tmp_path, monkeypatch):
    a = build_tiny_model(tmp_path / "a", seed=3)
    b = build_tiny_model(tmp_path / "b", seed=3)
    assert (a / "model.safetensors").read_bytes() == (b / "model.safetensors").read_bytes()
    monkeypatch.setenv("PALAESTRA_CACHE", str(tmp_path / "cache"))
    p1 = tiny_model_path(seed=3)
    mtime = (p1 / "config.json").stat().st_mtime_ns
    p2 = tiny_model_path(seed=3)
    assert p1 == p2 and (p2 / "config.json").stat().st_mtime_ns == mtime


def test_generate_batched_n_samples_seeded(lm):
    out = lm.generate(PROMPTS, n=3, temperature=1.0, max_new_tokens=6, seed=7)
    assert len(out) == 2 and all(len(o) == 3 and all(isinstance(s, str) for s in o) for o in out)
    assert out == lm.generate(PROMPTS, n=3, temperature=1.0, max_new_tokens=6, seed=7)
    greedy = lm.generate(PROMPTS[:1], n=1, temperature=0.0, max_new_tokens=6)
    assert greedy == lm.generate(PROMPTS[:1], n=1, temperature=0.0, max_new_tokens=6)
    assert lm.usage["prompt_tokens"] > 0 and lm.usage["completion_tokens"] > 0


def test_score_is_summed_log_prob(lm):
    comps = ["Action: 4", "hello there"]
    batched = lm.score(PROMPTS, comps)
    single = [lm.score([p], [c])[0] for p, c in zip(PROMPTS, comps)]
    assert batched == pytest.approx(single, abs=1e-4)
    # against a direct forward pass
    tok, model = lm.tokenizer, lm.model
    prompt_ids = tok(lm.format(PROMPTS[0]), add_special_tokens=False)["input_ids"]
    comp_ids = tok(comps[0], add_special_tokens=False)["input_ids"]
    ids = torch.tensor([prompt_ids + comp_ids])
    with torch.no_grad():
        logp = torch.log_softmax(model(ids).logits[0, :-1].float(), -1)
    manual = sum(float(logp[len(prompt_ids) - 1 + i, t]) for i, t in enumerate(comp_ids))
    assert batched[0] == pytest.approx(manual, abs=1e-4)
    assert all(s < 0 for s in batched)


def test_plain_prompt_without_chat_template(tiny, tmp_path):
    plain = tmp_path / "plain"
    shutil.copytree(tiny, plain)
    cfg_path = plain / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg.pop("chat_template", None)
    cfg_path.write_text(json.dumps(cfg))
    (plain / "chat_template.jinja").unlink(missing_ok=True)
    lm = TransformersLM(plain)
    assert lm.format(PROMPTS[0]).endswith("Assistant:")
    assert len(lm.generate(PROMPTS[:1], n=2, max_new_tokens=3, seed=0)[0]) == 2


def test_missing_model_says_what_to_do(tmp_path):
    with pytest.raises(OSError, match="palaestra model tiny|config.json"):
        TransformersLM(tmp_path / "nothing-here")
    with pytest.raises(ValueError, match="model="):
        load_lm(None)


def test_openai_generate_usage_and_auth():
    with FakeOpenAI(reply=lambda m, i: f"Action: {i + 1}") as server:
        lm = OpenAICompatibleLM(server.url, "test-model", api_key="sk-test")
        out = lm.generate(PROMPTS, n=3, temperature=0.5, max_new_tokens=5, seed=1)
        assert out == [["Action: 1", "Action: 2", "Action: 3"]] * 2
        assert lm.usage == {"prompt_tokens": 20, "completion_tokens": 18}
        req = server.requests[0]
        assert req["path"] == "/v1/chat/completions" and req["auth"] == "Bearer sk-test"
        assert req["body"]["model"] == "test-model" and req["body"]["max_tokens"] == 5
        assert isinstance(req["body"]["messages"], list)
        lm.close()


def test_openai_asks_again_when_server_ignores_n():
    with FakeOpenAI(ignore_n=True) as server:
        lm = OpenAICompatibleLM(server.url, "m")
        assert lm.generate(PROMPTS[:1], n=3) == [["Action: 4"] * 3]
        assert len(server.requests) == 3


def test_openai_retries_with_backoff_then_succeeds():
    with FakeOpenAI(fail_first=2) as server:
        lm = OpenAICompatibleLM(server.url, "m", max_retries=3, backoff=0.01)
        assert lm.generate(PROMPTS[:1]) == [["Action: 4"]]
        assert lm.retries == 2 and len(server.requests) == 3


def test_openai_gives_up_with_a_clear_error():
    with FakeOpenAI(fail_first=100) as server:
        lm = OpenAICompatibleLM(server.url, "m", max_retries=1, backoff=0.01)
        with pytest.raises(APIError, match="after 2 attempts"):
            lm.generate(PROMPTS[:1])
    lm = OpenAICompatibleLM("http://127.0.0.1:9/v1", "m", max_retries=0, timeout=1)
    with pytest.raises(APIError, match="server up"):
        lm.generate(PROMPTS[:1])


def test_openai_timeout_and_concurrency_limit():
    with FakeOpenAI(delay=0.05) as server:
        lm = OpenAICompatibleLM(server.url, "m", concurrency=2)
        out = lm.generate([PROMPTS[0]] * 6)
        assert len(out) == 6 and server.max_inflight <= 2
    with FakeOpenAI(delay=0.5) as server:
        lm = OpenAICompatibleLM(server.url, "m", timeout=0.1, max_retries=0)
        with pytest.raises(APIError, match="Timeout"):
            lm.generate(PROMPTS[:1])


def test_openai_score_from_echoed_logprobs():
    with FakeOpenAI() as server:
        lm = OpenAICompatibleLM(server.url, "m")
        scores = lm.score(PROMPTS, ["Action: 4", "a bb"])
        # the fake server gives -0.1 per character of each word of the completion
        assert scores == pytest.approx([-0.1 * (7 + 1), -0.1 * (1 + 2)])
        assert load_lm(f"{server.url}#m").generate(PROMPTS[:1]) == [["Action: 4"]]


def test_shared_prefix_scoring_matches_full_passes(lm):
    prompts = [PROMPTS[0]] * 4 + [PROMPTS[1]] * 2 + [PROMPTS[0]]
    comps = ["Action: 1", "Action: 22", "a much longer completion here", "x", "hello", "Action: 4", "Action: 1"]
    shared = lm.score(prompts, comps)
    lm.share_prefix = False
    try:
        full = lm.score(prompts, comps)
    finally:
        lm.share_prefix = True
    assert shared == pytest.approx(full, abs=1e-4)
    assert shared[0] == pytest.approx(shared[-1], abs=1e-6)


def test_tiny_warm_up_training_fits_the_corpus(tmp_path):
    raw = TransformersLM(build_tiny_model(tmp_path / "raw", seed=1), max_threads=1)
    warm = TransformersLM(build_tiny_model(tmp_path / "warm", seed=1, train_steps=30), max_threads=1)
    text = [[{"role": "user", "content": "Legal moves: 1 2 3 4 5 6 7"}]]
    assert warm.score(text, ["Action: 4"])[0] > raw.score(text, ["Action: 4"])[0]


def test_openai_score_keeps_the_first_token_that_carries_the_space():
    # issue 15: vLLM's first completion token is " 4" (offset one before the completion);
    # selecting tokens by start offset scored "4" as 0.0
    with FakeOpenAI() as server:
        lm = OpenAICompatibleLM(server.url, "m")
        assert lm.score(PROMPTS[:1], ["4"]) == pytest.approx([-0.1])
        assert lm.score(PROMPTS[:1], ["Action: 44"], reduce="mean") == pytest.approx([-(0.7 + 0.2) / 2])
        body = server.requests[0]["body"]
        assert body["echo"] is True and body["prompt"].endswith("Assistant: 4")


def test_mean_scores_are_per_token_and_shared_prefix_consistent(lm):
    comps = ["4", "Action: 4 and some more words"]
    sums = lm.score([PROMPTS[0]] * 2, comps)
    means = lm.score([PROMPTS[0]] * 2, comps, reduce="mean")
    n = [len(lm.tokenizer(c, add_special_tokens=False)["input_ids"]) for c in comps]
    assert means == pytest.approx([s / k for s, k in zip(sums, n)], abs=1e-5)
    with pytest.raises(ValueError, match="reduce"):
        lm.score(PROMPTS[:1], ["4"], reduce="max")


def test_too_long_prompts_are_an_error_or_a_logged_cut(tiny, caplog):
    # issue 15: tool instructions were silently cut at inference
    long = [{"role": "system", "content": "Use the tools. " * 2000}, {"role": "user", "content": "Legal moves: 1 2"}]
    strict = TransformersLM(tiny, max_threads=1)
    with pytest.raises(ValueError, match="instructions.*truncation='left'"):
        strict.score([long], ["1"])
    with pytest.raises(ValueError, match="positions"):
        strict.generate([long], max_new_tokens=2)
    cut = TransformersLM(tiny, max_threads=1, truncation="left")
    with caplog.at_level("WARNING", logger="palaestra.llm"):
        assert len(cut.score([long], ["1"])) == 1
    assert cut.truncated == 1 and "instructions at its start are lost" in caplog.text
