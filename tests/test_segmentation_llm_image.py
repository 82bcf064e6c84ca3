"""An LLM agent sends the segmentation overlay to a multimodal OpenAI-compatible server."""

import base64
import io
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
from PIL import Image

import palaestra  # noqa: F401
from palaestra.agents.llm.images import PLACEHOLDER, decode_images, text_only, with_images
from palaestra.agents.llm_agent import LLMAgent
from palaestra.runner import run_episode

sys.path.insert(0, str(Path(__file__).parent))
from _agents_openai_server import FakeOpenAI  # noqa: E402


def _images(body):
    out = []
    for m in body["messages"]:
        if isinstance(m["content"], list):
            for part in m["content"]:
                if part["type"] == "image_url":
                    url = part["image_url"]["url"]
                    assert url.startswith("data:image/png;base64,")
                    out.append(np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))))
    return out


def test_multimodal_server_receives_the_overlay_each_step():
    replies = iter(["<answer>Positive point: [500, 500]</answer>", "Action: Negative point: (10, 10)", "Finish"])
    seen = []

    class Recording(gym.Wrapper):
        def step(self, action):
            out = super().step(action)
            seen.append(self.env.unwrapped.image())
            return out

    with FakeOpenAI(reply=lambda messages, i: next(replies)) as server:
        env = gym.make("palaestra/Segmentation-v0", text=True, max_clicks=5)
        agent = LLMAgent(model=f"{server.url}#tiny-vlm", multimodal=True, retries=0)
        obs, _ = env.reset(seed=3)
        first = env.unwrapped.image()
        result = run_episode(Recording(env), agent, seed=3)
        bodies = [r["body"] for r in server.requests if r["path"].endswith("/chat/completions")]
    assert result.invalid_actions == 0 and result.steps == 3
    assert len(bodies) == 3
    sent = [_images(b) for b in bodies]
    assert all(len(s) == 1 and s[0].shape == (160, 160, 3) for s in sent)
    assert np.array_equal(sent[0][0], first)  # the image before any click
    assert np.array_equal(sent[1][0], seen[0]) and np.array_equal(sent[2][0], seen[1])  # the overlay after each click
    assert not np.array_equal(sent[0][0], sent[1][0])  # the mask and the click are drawn


def test_text_model_gets_no_image():
    with FakeOpenAI(reply=lambda messages, i: "Finish") as server:
        env = gym.make("palaestra/Segmentation-v0", text=True)
        run_episode(env, LLMAgent(model=f"{server.url}#text-only"), seed=0)
        body = server.requests[-1]["body"]
    assert all(isinstance(m["content"], str) for m in body["messages"])


def test_image_helpers_round_trip_and_flatten():
    img = (np.arange(12 * 10 * 3) % 251).astype(np.uint8).reshape(12, 10, 3)
    msgs = with_images([{"role": "system", "content": "s"}, {"role": "user", "content": "look"}], [img])
    assert msgs[1]["content"][0] == {"type": "text", "text": "look"}
    assert np.array_equal(np.asarray(decode_images(msgs)[0]), img)
    flat = text_only(msgs)
    assert flat[1]["content"] == f"look\n{PLACEHOLDER}"


def test_local_vlm_gets_the_overlay_through_its_processor(tmp_path):
    import torch

    torch.set_num_threads(1)
    from palaestra.agents.llm import load_lm
    from palaestra.agents.llm.vlm import TransformersVLM, build_tiny_vlm

    path = build_tiny_vlm(tmp_path / "vlm")
    lm = load_lm(str(path))
    assert isinstance(lm, TransformersVLM) and lm.multimodal
    fed = []
    real = lm._inputs

    def spy(messages, suffix=""):
        inputs = real(messages, suffix)
        fed.append((decode_images(messages), inputs))
        return inputs

    lm._inputs = spy
    env = gym.make("palaestra/Segmentation-v0", text=True)
    env.reset(seed=2)
    agent = LLMAgent(llm=lm, retries=0, max_new_tokens=4)
    agent.reset(env)
    agent.act(None, {})
    images, inputs = fed[0]
    assert len(images) == 1 and np.array_equal(np.asarray(images[0]), env.unwrapped.image())
    assert inputs["pixel_values"].shape[0] == 1
    image_token = lm.model.config.image_token_index
    assert int((inputs["input_ids"] == image_token).sum()) > 0
