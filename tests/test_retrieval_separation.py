"""What an agent may use in ChunkSelection-v0, and what only the scorer may use.

Issue 14: the old CARROT agent scored candidate sets with ``env.reward_of``, the utility
that reads the hidden fact labels it was then scored with. Now the env's planning view
is a whitelist; agents and searches that try to reach the scorer are refused.
"""

import pickle

import gymnasium as gym
import pytest

import palaestra  # noqa: F401
from palaestra.agents import make
from palaestra.core import AgentSideEnv, ScorerOnly
from palaestra.envs.retrieval.planning import ChunkSelectionView

ENV_ID = "palaestra/ChunkSelection-v0"
SCORER = ("reward_of", "rewards_of", "stop_value", "utility", "problem", "problem_for", "world", "corpus", "final",
          "_final", "_info", "_validate", "_solve", "search_step", "validate_task", "_problems", "retriever")


class _Exploding:
    """Stands in for the scorer's utility: any use of it fails the test."""

    name = "exploding"
    order_invariant = True

    def value(self, problem, seq):
        raise AssertionError("an agent reached the scorer's utility")

    values = upper_bound = value


def check_hidden_reward_contract(env_id: str, seed: int = 0, **kwargs) -> AgentSideEnv:
    """The contract for a hidden-reward env (what the kit should check for every one):
    its planning view refuses every scorer-only attribute, its step info and snapshots
    carry no scorer field, and the true reward needs the explicit opt-in."""
    env = gym.make(env_id, **kwargs)
    base = env.unwrapped
    env.reset(seed=seed)
    assert base.reward_access == "hidden"
    view = base.planning_env()
    assert isinstance(view, AgentSideEnv) and view.unwrapped is view
    for name in base.scorer_only:
        with pytest.raises(ScorerOnly):
            getattr(view, name)
    with pytest.raises(ScorerOnly):
        view.planning_env(true_reward=True)
    assert base.planning_env(true_reward=True) is base
    # play to the end through the view: nothing the scorer alone sees comes back
    term = False
    while not term:
        _, r, term, trunc, info = view.step(view.legal_actions()[0])
        assert not set(info) & (set(base.scorer_info_keys) | {"success", "reward_details", "score", "gold"})
    state = view.get_state()
    blob = pickle.dumps(state)
    for word in (b"utility", b"reward", b"success", b"final"):
        assert word not in blob, f"a snapshot carries {word!r}"
    return view


def test_contract_hidden_reward_generated_and_user_corpus(tmp_path):
    check_hidden_reward_contract(ENV_ID)
    check_hidden_reward_contract(ENV_ID, seed=3, world_size="small", top_n=5, budget=60, cost_penalty=0.2)
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "chunks.jsonl").write_text('{"id": "a", "text": "Oslo is the capital of Norway."}\n'
                                         '{"id": "b", "text": "Rome is the capital of Italy."}\n')
    (folder / "questions.jsonl").write_text('{"query": "Capital of Norway?", "answer": "Oslo", '
                                            '"gold_chunk_ids": ["a"]}\n')
    check_hidden_reward_contract(ENV_ID, corpus=str(folder), top_n=2, budget=64)


def test_view_refuses_the_scorer_and_passes_what_an_agent_may_use():
    env = gym.make(ENV_ID)
    base = env.unwrapped
    env.reset(seed=4)
    view = base.planning_env()
    assert isinstance(view, ChunkSelectionView)
    for name in SCORER:
        with pytest.raises(ScorerOnly, match="agent-side API"):
            getattr(view, name)
    with pytest.raises(ScorerOnly, match="read-only"):
        view.utility = _Exploding()
    # the task carries the goal, not the answer, the facts, the gold ids or the oracle
    task = view.task
    assert task.goal == view.query and task.split == "test"
    assert set(task.data) == {"qtype", "budget"}
    with pytest.raises(NotImplementedError):
        task.solve(view)
    cands = view.candidates()
    assert [c.text for c in cands] == [c.chunk.text for c in base.problem.candidates]
    assert not any(hasattr(c, "chunk") or hasattr(c, "injected") for c in cands)
    assert view.candidate_embeddings().shape == (len(cands), 384)


def test_snapshots_carry_no_score_and_the_view_pays_the_agent_side_reward():
    env = gym.make(ENV_ID)
    base = env.unwrapped
    env.reset(seed=9)
    view = base.planning_env()
    seq = tuple(view.legal_actions()[:2])
    for a in seq:
        view.step(a)
    _, r, term, _, info = view.step(view.top_n)
    assert term and r == pytest.approx(view.agent_values([seq])[0])  # the reranker proxy, not the hidden utility
    assert r != pytest.approx(base.reward_of(seq))
    assert "Episode over." in view.render_text() and "utility" not in view.render_text()
    done = view.get_state()
    assert set(done) == {"task_id", "chosen", "done", "steps"}
    # a snapshot of a finished episode restored in the real env: the scorer recomputes its verdict
    env.reset(seed=9)
    base.set_state(done)
    assert "utility" in base.render_text()
    with pytest.raises(ValueError, match="not distinct candidates"):
        view.set_state(dict(done, chosen=(0, 0)))


class _Cheater:
    """An agent that tries to score candidate sets with the hidden utility."""

    def reset(self, env):
        self.view = env.unwrapped.planning_env()

    def act(self, observation, info):
        return max(self.view.legal_actions(), key=lambda a: self.view.reward_of(self.view.chosen + (a,)))


def test_an_agent_that_reaches_for_the_scorer_is_refused():
    from palaestra.runner import run_episode

    env = gym.make(ENV_ID)
    with pytest.raises(ScorerOnly):
        run_episode(env, _Cheater(), seed=4)


@pytest.mark.parametrize("name,opts", [("topk", {}), ("greedy", {}), ("carrot", {"simulations": 60}),
                                       ("mcts", {"simulations": 30, "selection": "ucb-cost", "rollout": "random"})])
def test_agents_never_touch_the_scorer(name, opts):
    """Every retrieval agent (and the generic MCTS through its planning view) plays whole
    episodes with the scorer's utility replaced by one that fails on any use."""
    env = gym.make(ENV_ID)
    base = env.unwrapped
    agent = make(name, **opts)
    for seed in (4, 9, 14):
        obs, info = env.reset(seed=seed)
        real = base.utility
        base.utility = _Exploding()
        try:
            agent.reset(env)
            view = base.planning_env()
            term = False
            while not term:
                obs, _, term, _, info = view.step(agent.act(obs, info))
        finally:
            base.utility = real
