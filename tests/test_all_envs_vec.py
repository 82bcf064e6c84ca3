"""Every registered id works with gymnasium.make_vec, native and text views."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector.utils import concatenate, create_empty_array

import palaestra

# MiniWoB++ registers one id per page; one of them stands for all here
_IDS = [i for i in palaestra.ENV_IDS if not i.startswith("palaestra/miniwob.")]
_IDS += [i for i in palaestra.ENV_IDS if i == "palaestra/miniwob.click-test-v0"]


def _marks(env_id):
    return [pytest.mark.browser] if "miniwob" in env_id else []


def _first_valid(envs, obs, infos, text):
    actions = []
    for i in range(envs.num_envs):
        env = envs.envs[i].unwrapped
        legal = env.legal_actions()
        if legal:
            a = legal[0]
        elif env.task is not None and env.task.has_oracle:
            a = env.task.solve(env)[0]
        else:
            return None
        actions.append(env.format_action(a) if text else a)
    return actions


@pytest.mark.parametrize("text", [False, True], ids=["native", "text"])
@pytest.mark.parametrize("env_id", [pytest.param(i, marks=_marks(i)) for i in _IDS])
def test_make_vec_sync(env_id, text):
    envs = gym.make_vec(env_id, num_envs=2, vectorization_mode="sync", text=text)
    try:
        obs, infos = envs.reset(seed=[0, 1])
        actions = _first_valid(envs, obs, infos, text)
        if actions is None:
            pytest.skip(f"{env_id}: no enumerable action or oracle to step with")
        if not text:  # batch native actions the way gymnasium's vector envs expect them
            space = envs.single_action_space
            actions = concatenate(space, actions, create_empty_array(space, envs.num_envs))
        obs, rewards, terms, truncs, infos = envs.step(tuple(actions) if text else actions)
        assert len(rewards) == 2
        assert not np.any(infos.get("_invalid_action", False)), infos.get("invalid_action")
    finally:
        envs.close()


@pytest.mark.parametrize("env_id", ["palaestra/ConnectFour-v0", "palaestra/Hex-v0"])
def test_make_vec_async(env_id):
    envs = gym.make_vec(env_id, num_envs=2, vectorization_mode="async")
    try:
        obs, infos = envs.reset(seed=[0, 1])
        plies = np.asarray(infos["plies"])
        for _ in range(3):
            legal = [np.flatnonzero(m) for m in obs["action_mask"]]
            actions = np.array([int(l[0]) for l in legal])
            obs, rewards, terms, truncs, infos = envs.step(actions)
            assert rewards.shape == (2,) and obs["action_mask"].shape[0] == 2
            assert not np.any(infos.get("_invalid_action", False)), infos.get("invalid_action")
            if np.any(terms | truncs):
                break
            # each sub-env moved: the agent's ply and (when it has one) the opponent's reply
            assert np.all(np.asarray(infos["plies"]) > plies), (plies, infos["plies"])
            plies = np.asarray(infos["plies"])
        # the sub-envs are separate processes with their own seeds: their boards differ
        assert not np.array_equal(obs["observation"][0], obs["observation"][1])
    finally:
        envs.close()
