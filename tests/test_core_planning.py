"""The agent-side planning view: what a search may back up in a hidden-reward env."""

import gymnasium as gym
import pytest

from palaestra.core import AgentSideEnv, PalaestraEnv, ScorerOnly


class _Secret(PalaestraEnv):
    """A one-step env whose reward reads a hidden label."""

    reward_access = "hidden"
    scorer_only = ("reward_of",)
    scorer_info_keys = ("gold",)
    action_space = gym.spaces.Discrete(3)
    observation_space = gym.spaces.Discrete(1)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.label, self.done = 2, False
        return 0, {}

    def reward_of(self, action):
        return float(action == self.label)

    def step(self, action):
        self.done = True
        r = self.reward_of(action)
        return 0, r, True, False, {"success": r > 0, "gold": self.label, "public": 1}

    def legal_actions(self):
        return [] if self.done else [0, 1, 2]

    def format_action(self, a):
        return str(a)

    def parse_action(self, text):
        return int(text)

    def render_text(self):
        return f"done={self.done}"

    def get_state(self):
        return (self.label, self.done)

    def set_state(self, s):
        self.label, self.done = s


def test_hidden_reward_env_plans_on_agent_side_view():
    env = _Secret()
    env.reset(seed=0)
    view = env.planning_env()
    assert isinstance(view, AgentSideEnv)
    _, r, term, _, info = view.step(2)
    assert r == 0.0 and term  # the right answer pays nothing in the agent-side view
    assert info == {"public": 1}
    with pytest.raises(ScorerOnly, match="only the scorer"):
        view.reward_of(2)
    with pytest.raises(ScorerOnly):
        view.planning_env(true_reward=True)


def test_true_reward_is_an_explicit_opt_in():
    env = _Secret()
    env.reset(seed=0)
    assert env.planning_env(true_reward=True) is env
    _, r, *_ = env.planning_env(true_reward=True).step(2)
    assert r == 1.0


def test_rules_env_plans_on_itself():
    env = gym.make("palaestra/ConnectFour-v0", opponent=None)
    env.reset(seed=0)
    assert env.unwrapped.reward_access == "rules"
    assert env.unwrapped.planning_env() is env.unwrapped


def test_mcts_searches_agent_side_by_default():
    from palaestra.agents.mcts import MCTSAgent

    env = _Secret()
    agent = MCTSAgent(simulations=10, seed=0)
    env.reset(seed=0)
    agent.reset(env)
    assert isinstance(agent.plan, AgentSideEnv)
    agent = MCTSAgent(simulations=10, seed=0, search_reward="true")
    agent.reset(env)
    assert agent.plan is env
    with pytest.raises(ValueError, match="search_reward"):
        MCTSAgent(search_reward="peek")


def test_search_through_the_view_puts_the_real_env_back():
    from palaestra.agents.mcts import MCTSAgent
    from palaestra.core import shares_state

    env = _Secret()
    env.reset(seed=0)
    agent = MCTSAgent(simulations=10, seed=0)
    agent.reset(env)
    assert shares_state(agent.plan, env)
    before = env.get_state()
    agent.act(0, {})
    assert env.get_state() == before  # the search stepped the view, then restored the env


def test_view_shows_the_task_without_scorer_data():
    from palaestra.core import Task

    env = _Secret()
    env.reset(seed=0)
    env.task = Task(id="t", goal="say 2", data={"answer": 2}, oracle=lambda e: [2])
    view = env.planning_env()
    assert view.task.goal == "say 2" and view.task.data == {} and not view.task.has_oracle
    with pytest.raises(ScorerOnly):
        view.task.solve(view)
