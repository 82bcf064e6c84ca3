"""The click-to-mask MDP: coordinates, rewards, episode ends, text view, overlay, oracle agent."""

import gymnasium as gym
import numpy as np
import pytest

import palaestra  # noqa: F401  (registers the ids)
from palaestra.agents import make as make_agent
from palaestra.core import InvalidAction
from palaestra.runner import run_episode

ENV = "palaestra/Segmentation-v0"


def test_text_coordinates_in_both_orders_hit_the_same_pixel():
    xy = gym.make(ENV, image_size=(100, 200)).unwrapped
    rc = gym.make(ENV, image_size=(100, 200), coords="segagent").unwrapped
    a = xy.parse_action("Positive point: (900, 100)")  # x = 900 (right), y = 100 (top)
    b = rc.parse_action("Positive point: (100, 900)")  # row 100 (top), column 900 (right)
    assert a.tolist() == b.tolist() == [900, 100, 1]
    assert xy.format_action(a) == "Positive point: (900, 100)"
    assert rc.format_action(a) == "Positive point: (100, 900)"
    assert "x FIRST" in xy.instructions and "row FIRST" in rc.instructions
    for env in (xy, rc):
        env.reset(seed=0)
        env.step(a)
        click = env.pixel_clicks()[0]
        assert (click.x, click.y) == (180, 10)  # right part, top part of a 200-wide, 100-high image
        assert env.image_size() == (100, 200)
    assert xy.parse_action("finish").tolist() == [0, 0, 2]
    assert xy.parse_action("Negative point: (0, 999)").tolist() == [0, 999, 0]


@pytest.mark.parametrize("text", ["Positive point: (1000, 3)", "Positive point (3)", "Click (3, 4)", "", "Finish it"])
def test_bad_text_explains(text):
    env = gym.make(ENV).unwrapped
    env.reset(seed=0)
    with pytest.raises(InvalidAction) as err:
        env.parse_action(text)
    assert "0" in str(err.value) and ("999" in str(err.value) or "Finish" in str(err.value))


def test_rewards_sum_to_final_iou_and_episode_ends():
    env = gym.make(ENV, terminate_on_success=False, max_clicks=5)
    obs, info = env.reset(seed=11)
    base = env.unwrapped
    assert obs["mask"].sum() == 0 and (obs["clicks"] == -1).all() and info["iou"] == 0.0
    total, steps = 0.0, 0
    while True:
        obs, reward, term, trunc, info = env.step(base.oracle_action())
        total += reward
        steps += 1
        if term or trunc:
            break
    assert np.isclose(total, info["iou"])
    assert "success" in info
    if not term:  # truncated at the horizon: 5 clicks recorded in the observation
        assert steps == 5 and (obs["clicks"][:, 2] >= 0).all()
    with pytest.raises(InvalidAction):
        env.step(np.array([1, 1, 1]))


def test_finish_ends_with_zero_reward_and_judges_success():
    env = gym.make(ENV)
    env.reset(seed=2)
    obs, reward, term, trunc, info = env.step(env.unwrapped.parse_action("Finish"))
    assert term and not trunc and reward == 0.0 and info["success"] is False


def test_success_terminates_when_target_reached_only_as_an_option():
    env = gym.make(ENV, target_iou=0.5, terminate_on_success=True)
    env.reset(seed=4)
    ious = []
    for _ in range(7):
        _, reward, term, trunc, info = env.step(env.unwrapped.oracle_action())
        ious.append(info["iou"])
        if term or trunc:
            break
    assert term and info["success"] and ious[-1] >= 0.5 and all(v < 0.5 for v in ious[:-1])


def test_text_view_puts_the_overlay_in_info():
    env = gym.make(ENV, text=True, render_mode="rgb_array")
    obs, info = env.reset(seed=1)
    assert "Goal: segment the" in obs and "Clicks left: 7" in obs
    assert info["image"].shape == (160, 160, 3) and info["image"].dtype == np.uint8
    plain = env.unwrapped.sample.image
    action = env.unwrapped.format_action(env.unwrapped.oracle_action())
    obs, reward, term, trunc, info = env.step(action)
    assert action in obs  # the click is listed
    over = info["image"]
    mask = env.unwrapped._mask
    # the mask area is tinted green: more green than the plain image there
    assert over[mask][:, 1].astype(int).mean() > plain[mask][:, 1].astype(int).mean()
    assert np.array_equal(env.render(), env.unwrapped.image())
    assert "#" in obs  # the text grid shows the mask


def test_oracle_agent_succeeds_in_both_views():
    agent = make_agent("ritm")
    wins = 0
    for seed in range(10):
        env = gym.make(ENV, text=seed % 2 == 0)
        result = run_episode(env, agent, seed=seed)
        wins += result.success
        assert result.invalid_actions == 0
    assert wins >= 9


def test_task_oracle_plan_restores_the_state():
    env = gym.make(ENV)
    env.reset(seed=5)
    base = env.unwrapped
    before = base.get_state()
    plan = base.task.solve(base)
    assert plan and base.get_state()["clicks"] == before["clicks"]
    for action in plan:
        *_, term, trunc, info = env.step(action)
    assert (term or trunc) and info["success"]


def test_reset_by_task_id_and_seed():
    env = gym.make(ENV)
    _, a = env.reset(seed=3)
    _, b = env.reset(seed=3)
    assert a["task_id"] == b["task_id"]
    _, c = env.reset(options={"task": "synthetic:123456"})
    assert c["task_id"] == "synthetic:123456"
    with pytest.raises(InvalidAction):
        env.reset(options={"task": "nope:1"})


def test_random_agent_uses_sample_action():
    env = gym.make(ENV, text=True)
    result = run_episode(env, make_agent("random", seed=0), seed=0)
    assert result.steps >= 1 and result.invalid_actions == 0


# ---- issue 22: SegAgent's protocol ------------------------------------------------------
def test_the_agent_decides_when_to_finish_by_default():
    env = gym.make(ENV, max_clicks=7)
    env.reset(seed=4)
    base = env.unwrapped
    for _ in range(7):
        action = base.oracle_action(finish_at_target=False)
        if action[2] == 2:
            break
        *_, term, trunc, info = env.step(action)
        if info["iou"] >= base.target_iou:
            break
    assert info["iou"] >= 0.85 and not term and not trunc and "success" not in info  # no hidden stop
    *_, term, trunc, info = env.step(base.parse_action("Finish"))
    assert term and info["success"]


def test_segagent_preset_reads_row_column():
    env = gym.make(ENV, preset="segagent", image_size=(100, 200)).unwrapped
    assert env.coords == "segagent" and env.max_clicks == 7 and not env.terminate_on_success
    assert env.parse_action("Positive point: (100, 900)").tolist() == [900, 100, 1]
    with pytest.raises(ValueError, match="segagent"):
        gym.make(ENV, preset="sam")


@pytest.mark.parametrize("text, expected", [
    ("Positive point: [900, 100]", [900, 100, 1]),
    ("<answer>Negative point: (5, 6)</answer>", [5, 6, 0]),
    ("<answer> Positive point: [1, 2] </answer>", [1, 2, 1]),
    ("Action: Positive point: (7, 8)", [7, 8, 1]),
    ("positive click (9, 10)", [9, 10, 1]),
    ("Positive: [11, 12]", [11, 12, 1]),
    ("`Negative point: 13, 14`", [13, 14, 0]),
    ("<answer>Finish</answer>", [0, 0, 2]),
    ("**Finish**", [0, 0, 2]),
])
def test_parser_takes_what_vlms_emit(text, expected):
    env = gym.make(ENV).unwrapped
    assert env.parse_action(text).tolist() == expected


@pytest.mark.parametrize("text", [
    "Positive point: [900, 100], Negative point: [1, 2]", "<answer>Positive point: (1, 2)", "[500, 500]",
    "Positive point: (0.5, 0.3)", "I think Positive point: (1, 2)", "Positive point: (1, 2, 3)",
    "Positive point: (99999999999999999999, 1)", "<answer><answer>x</answer></answer>", "Finish " * 500,
    "Positive point: (" + "1" * 5000 + ", 2)",
])
def test_parser_still_refuses_garbage(text):
    env = gym.make(ENV).unwrapped
    with pytest.raises(InvalidAction):
        env.parse_action(text)


def test_native_view_carries_the_overlay():
    env = gym.make(ENV)
    _, info = env.reset(seed=1)
    assert info["image"].shape == (160, 160, 3) and info["image"].dtype == np.uint8
    _, _, _, _, info = env.step(env.unwrapped.oracle_action())
    assert np.array_equal(info["image"], env.unwrapped.image())
    assert env.unwrapped.reward_access == "hidden"
