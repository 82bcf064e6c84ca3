"""A short MCTS episode on every registered env: one search works through the contract.

Few simulations, a short horizon. Envs whose actions are not enumerable and that have no
``sample_action`` get candidates from their task's oracle (as a stand-in for a language
model's proposals), so the search machinery itself is what is tested. Ids whose extras
or system packages are missing are skipped with the reason; browser envs are marked
``browser`` (a few by default, the rest also ``slow``).
"""

from __future__ import annotations

import shutil

import gymnasium as gym
import pytest

import palaestra  # noqa: F401
from palaestra.agents.mcts import MCTSAgent
from palaestra.core import MissingDependency, ScorerOnly
from palaestra.registration import all_env_infos
from palaestra.runner import run_episode

BROWSER_DEFAULT = {"palaestra/miniwob.click-test-v0"}


def _params():
    out = []
    for info in all_env_infos():
        marks = []
        if "chromium" in info.system:
            marks.append(pytest.mark.browser)
            if info.id not in BROWSER_DEFAULT:
                marks.append(pytest.mark.slow)
        out.append(pytest.param(info, id=info.id, marks=marks))
    return out


def _oracle_proposer(env, rng, k):
    """Candidates for envs without enumerable actions: the oracle's next action, and
    samples where the env can draw them."""
    out = []
    task = env.task
    if task is not None and task.has_oracle:
        try:
            plan = task.solve(env)
        except ScorerOnly:  # a hidden-reward env's planning view withholds its oracle
            plan = []
        if plan:
            out.append(plan[0])
    sample = getattr(env, "sample_action", None)
    if callable(sample):
        out.extend(sample(rng) for _ in range(max(0, k - len(out))))
    return out


@pytest.mark.parametrize("info", _params())
def test_short_mcts_episode(info):
    missing = [s for s in info.system if s != "stockfish" and shutil.which(s) is None]
    if missing:
        pytest.skip(f"{info.id} needs the Debian package(s) {missing}: apt-get install -y {' '.join(missing)}")
    try:
        env = gym.make(info.id, text=True)
    except MissingDependency as err:
        pytest.skip(f"{info.id}: {err}")
    except ModuleNotFoundError as err:
        if (err.name or "").startswith("palaestra"):
            raise
        pytest.skip(f"{info.id}: the extra '{info.extra}' is not installed ({err}); pip install 'palaestra[{info.extra}]'")
    browser = "chromium" in info.system
    try:
        obs, _ = env.reset(seed=0)
        base = env.unwrapped
        enumerable = base.legal_actions() is not None
        agent = MCTSAgent(
            simulations=2 if browser else 6,
            rollout=None if browser else "random",
            rollout_depth=3,
            depth_limit=2,
            k=3,
            proposer=None if enumerable else _oracle_proposer,
            seed=0,
        )
        before = base.render_text()
        agent.reset(env)
        action = agent.act(obs, {})
        assert isinstance(action, str) and action
        assert base.render_text() == before, "the search must leave the real env where it was"
        assert agent.last_search, "the root's children are reported"
        assert {"action", "visits", "q", "prior", "critique"} <= set(agent.last_search[0])
        result = run_episode(env, MCTSAgent(simulations=2 if browser else 6, rollout=None if browser else "random",
                                            rollout_depth=3, depth_limit=2, k=3,
                                            proposer=None if enumerable else _oracle_proposer, seed=0),
                             seed=0, max_steps=1 if browser else 3)
        assert result.steps >= 1 and result.invalid_actions == 0
    finally:
        env.close()
