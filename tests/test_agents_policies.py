"""LLMAgent, BestOfNAgent, self-critique, OracleAgent, and MCTS with language-model
proposals/critique/cost-aware selection on a small single-player env."""

from __future__ import annotations

import gymnasium as gym
import pytest
from gymnasium import spaces

import palaestra  # noqa: F401
from _agents_openai_server import FakeOpenAI
from palaestra.agents import make
from palaestra.agents.best_of_n import BestOfNAgent
from palaestra.agents.llm.critique import LLMCritic, parse_pick
from palaestra.agents.llm.openai_lm import OpenAICompatibleLM
from palaestra.agents.llm.prompts import action_candidates
from palaestra.agents.llm.tiny import build_tiny_model
from palaestra.agents.llm.transformers_lm import TransformersLM
from palaestra.agents.llm_agent import LLMAgent
from palaestra.agents.mcts import MCTSAgent
from palaestra.agents.oracle import OracleAgent
from palaestra.core import InvalidAction, PalaestraEnv, Task
from palaestra.runner import run_episode
from palaestra.wrappers import TextInterface

ACTIONS = ["up", "down", "taxi"]


class Ladder(PalaestraEnv):
    """Climb from rung 0 to rung ``top``: ``up`` (+1, cost 1), ``down`` (-1), ``taxi``
    (+1, cost 5). Reward 1 on reaching the top; ``horizon`` steps at most.
    ``enumerable=False`` hides the legal actions (as free-text envs do)."""

    def __init__(self, top: int = 3, horizon: int = 8, enumerable: bool = True, render_mode=None):
        super().__init__(render_mode=render_mode)
        self.top, self.horizon, self.enumerable = top, horizon, enumerable
        self.action_space = spaces.Discrete(3)
        self.observation_space = spaces.Discrete(top + 1)
        self.instructions = "Climb the ladder. Actions: up, down, taxi. Reply 'Action: up' for instance."
        self.budget = 5.0
        self.pos = self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.pos = self.t = 0
        self.task = Task(id=f"ladder-{self.top}", goal=f"reach rung {self.top}",
                         oracle=lambda env: [0] * (env.top - env.pos))
        return self.pos, {"task_id": self.task.id}

    def step(self, action):
        if action not in (0, 1, 2):
            raise InvalidAction(f"{action!r} is not 0, 1 or 2.")
        self.pos = max(0, self.pos + (-1 if action == 1 else 1))
        self.t += 1
        done = self.pos >= self.top
        trunc = not done and self.t >= self.horizon
        info = {"task_id": self.task.id}
        if done or trunc:
            info["success"] = done
        return self.pos, float(done), done, trunc, info

    def render_text(self):
        return f"Goal: {self.task.goal}. You are on rung {self.pos} of {self.top}, step {self.t}/{self.horizon}."

    def parse_action(self, text):
        word = str(text).strip().lower()
        if word not in ACTIONS:
            raise InvalidAction(f"{text!r} is not an action; use one of: up, down, taxi.")
        return ACTIONS.index(word)

    def format_action(self, action):
        return ACTIONS[int(action)]

    def legal_actions(self):
        return [0, 1, 2] if self.enumerable else None

    def action_cost(self, action):
        return {0: 1.0, 1: 1.0, 2: 5.0}[int(action)]

    def get_state(self):
        return (self.pos, self.t)

    def set_state(self, state):
        self.pos, self.t = state


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    return TransformersLM(build_tiny_model(tmp_path_factory.mktemp("tiny"), seed=0), max_threads=1)


# ---- parsing -------------------------------------------------------------------------
def test_replies_parse_tolerantly():
    assert action_candidates("I will climb.\nAction: up")[0] == "up"
    assert action_candidates("**Action:** `taxi`.")[0] == "taxi"
    assert "e2e4" in action_candidates("Let me think.\n```\ne2e4\n```\nThat is all.")
    assert action_candidates("4")[0] == "4"
    assert parse_pick("I think option C is best.", ["a", "b", "c"]) == 2
    assert parse_pick("B) 4", ["1", "4", "7"]) == 1
    # a column answer is the action's text, never candidate #4 (issue 15)
    assert parse_pick("4", ["7", "5", "1", "2", "4"]) == 4
    assert parse_pick("3", ["1", "4", "7"]) is None
    assert parse_pick("The best is e2e4 because...", ["d2d4", "e2e4"]) == 1
    assert parse_pick("no idea", ["x1", "y2"]) is None


# ---- LLMAgent ------------------------------------------------------------------------
def test_llm_agent_reads_action_from_prose_native_and_text():
    with FakeOpenAI(reply=lambda m, i: "The centre is strongest.\nAction: 4") as server:
        lm = OpenAICompatibleLM(server.url, "m")
        env = gym.make("palaestra/ConnectFour-v0", opponent="random")
        obs, info = env.reset(seed=0)
        agent = LLMAgent(llm=lm, policy="generate")
        agent.reset(env)
        assert agent.act(obs, info) == 3
        text_env = gym.make("palaestra/ConnectFour-v0", opponent="random", text=True)
        obs, info = text_env.reset(seed=0)
        agent.reset(text_env)
        assert agent.act(obs, info) == "4"
        messages = server.requests[0]["body"]["messages"]
        assert messages[0]["role"] == "system" and "Connect Four" in messages[0]["content"].replace("_", " ").title()
        assert "Legal moves" in messages[1]["content"]
        assert agent.usage["prompt_tokens"] > 0


def test_llm_agent_retries_with_the_error_message():
    def reply(messages, i):
        return "Action: 2" if "not a valid action" in messages[-1]["content"] else "Action: 9"

    with FakeOpenAI(reply=reply) as server:
        env = gym.make("palaestra/ConnectFour-v0", opponent="random")
        obs, info = env.reset(seed=0)
        agent = make("llm", llm=OpenAICompatibleLM(server.url, "m"), retries=2, policy="generate")
        agent.reset(env)
        assert agent.act(obs, info) == 1
        assert agent.invalid == 1
        retry = server.requests[1]["body"]["messages"]
        assert "column 9 does not exist" in retry[-1]["content"] and retry[-2]["role"] == "assistant"


def test_llm_agent_text_fallback_sends_reply_and_env_explains():
    with FakeOpenAI(reply=lambda m, i: "I resign") as server:
        env = gym.make("palaestra/ConnectFour-v0", opponent="random", text=True)
        obs, info = env.reset(seed=0)
        agent = LLMAgent(llm=OpenAICompatibleLM(server.url, "m"), retries=1, policy="generate")
        agent.reset(env)
        action = agent.act(obs, info)
        assert action == "I resign" and agent.fallbacks == 1 and agent.invalid == 2
        _, _, _, _, info = env.step(action)
        assert "not a column number" in info["invalid_action"]


def test_llm_agent_with_tiny_model_runs_an_episode(tiny_lm):
    env = gym.make("palaestra/ConnectFour-v0", opponent="random", text=True)
    agent = LLMAgent(llm=tiny_lm, retries=1, fallback="random", max_new_tokens=8, policy="generate")
    result = run_episode(env, agent, seed=0)
    assert result.terminated and result.tokens > 0 and result.invalid_actions == 0


# ---- self-critique and best-of-n ---------------------------------------------------
def test_critic_repeated_pick_best_gives_rank_values():
    with FakeOpenAI(reply=lambda m, i: "B") as server:
        critic = LLMCritic(OpenAICompatibleLM(server.url, "m"), mode="rank", rounds=5)
        msgs = [{"role": "user", "content": "Goal: x"}]
        values = critic.critique([(msgs, ["a", "b", "c"]), (msgs, ["only"])])
        # picks: b (2nd of a,b,c), then c (2nd of a,c), then a
        assert values == [[0.0, 1.0, 0.5], [1.0]]


def test_critic_with_tiny_model_follows_the_model(tiny_lm):
    from palaestra.agents.llm.critique import label, rank_values, ranking_prompt

    msgs, cands = [{"role": "user", "content": "Goal: win"}], ["1", "4", "7"]
    # score mode orders the candidates by the model's own log-probabilities
    values = LLMCritic(tiny_lm, mode="score").critique([(msgs, cands)])[0]
    # candidates are labelled A, B, C, so an action text ("4") is never read as an index
    scores = tiny_lm.score([ranking_prompt(msgs, cands)] * 3, [f"{label(i)}) {c}" for i, c in enumerate(cands)])
    assert len(set(scores)) == 3  # the model tells the candidates apart, so the order below has teeth
    assert values == rank_values(sorted(range(3), key=lambda i: -scores[i]), 3)
    # rank mode asks the model (its tokens are counted) and is reproducible with the same seed
    before = tiny_lm.usage["prompt_tokens"]
    ranked = LLMCritic(tiny_lm, mode="rank").critique([(msgs, cands)])[0]
    assert tiny_lm.usage["prompt_tokens"] > before and sorted(ranked) == [0.0, 0.5, 1.0]
    assert LLMCritic(tiny_lm, mode="rank").critique([(msgs, cands)])[0] == ranked


def test_best_of_n_judges():
    replies = ["Action: 1", "Action: 4", "Action: 4", "junk"]
    with FakeOpenAI(reply=lambda m, i: replies[i % 4]) as server:
        lm = OpenAICompatibleLM(server.url, "m")
        env = gym.make("palaestra/ConnectFour-v0", opponent="random")
        obs, info = env.reset(seed=0)
        vote = BestOfNAgent(llm=lm, n=4, judge="vote")
        vote.reset(env)
        assert vote.act(obs, info) == 3 and vote.invalid == 1
        assert vote.last_search[0] == {"action": "4", "visits": 2, "q": 0.5, "prior": 2 / 3, "critique": None}
    # lookahead: of the sampled moves, the one that wins at once
    with FakeOpenAI(reply=lambda m, i: ["Action: 2", "Action: 1"][i % 2]) as server:
        env = gym.make("palaestra/ConnectFour-v0", opponent=None)
        env.reset(seed=0)
        for col in [0, 6, 0, 6, 0, 6]:
            env.step(col)
        agent = BestOfNAgent(llm=OpenAICompatibleLM(server.url, "m"), n=2, judge="lookahead", rollouts=2)
        agent.reset(env)
        assert agent.act(*env.unwrapped.observe()) == 0
        assert agent.last_search[0]["q"] == 1.0


# ---- oracle ------------------------------------------------------------------------
def test_oracle_follows_and_replans():
    env = Ladder(top=3)
    result = run_episode(env, OracleAgent(), seed=0)
    assert result.success and result.steps == 3
    env.reset(seed=0)
    agent = OracleAgent()
    agent.reset(env)
    env.step(agent.act(0, {"task_id": "x"}))  # up
    env.step(1)  # someone else steps down: the plan runs out before the top
    steps = 0
    while True:
        _, r, term, trunc, info = env.step(agent.act(None, {}))
        steps += 1
        if term or trunc:
            break
    assert info["success"] and agent.replans >= 1
    games = gym.make("palaestra/ConnectFour-v0", opponent="random")
    obs, info = games.reset(seed=0)
    oracle = OracleAgent()
    oracle.reset(games)
    with pytest.raises(NotImplementedError, match="no oracle"):
        oracle.act(obs, info)


# ---- MCTS on a single-player env ---------------------------------------------------
def test_mcts_single_player_restores_env_and_reaches_goal():
    env = TextInterface(Ladder(top=3), max_invalid=3)
    result = run_episode(env, MCTSAgent(simulations=30, seed=0), seed=0)
    assert result.success and result.steps == 3


def test_mcts_ucb_cost_prefers_the_cheap_action():
    env = Ladder(top=1, horizon=2)
    env.reset(seed=0)
    cheap = MCTSAgent(simulations=40, selection="ucb-cost", cost_weight=1.0, seed=0)
    cheap.reset(env)
    assert cheap.act(0, {}) == 0
    by_action = {c["action"]: c["visits"] for c in cheap.last_search}
    assert by_action["up"] > by_action["taxi"]


def test_mcts_llm_proposals_validated_and_counted():
    samples = ["Action: up", "```\nup\n```", "fly", "Action: taxi"]
    with FakeOpenAI(reply=lambda m, i: samples[i % 4]) as server:
        lm = OpenAICompatibleLM(server.url, "m")
        env = Ladder(top=2, enumerable=False)
        agent = MCTSAgent(simulations=20, llm=lm, k=4, batch_size=4, rollout="random", seed=0)
        result = run_episode(env, agent, seed=0)
        assert result.success
        assert agent.stats["invalid_candidates"] > 0 and agent.stats["valid_candidates"] > 0
        # "up" was proposed twice per node, "taxi" once: priors by frequency
        priors = {c["action"]: c["prior"] for c in agent.last_search}
        assert set(priors) == {"up", "taxi"} and priors["up"] == pytest.approx(2 / 3)


def test_mcts_policy_rollouts_batched():
    with FakeOpenAI(reply=lambda m, i: "Action: up") as server:
        env = Ladder(top=3, enumerable=True)
        agent = MCTSAgent(simulations=8, rollout="policy", llm=OpenAICompatibleLM(server.url, "m"), batch_size=4, seed=0)
        result = run_episode(env, agent, seed=0)
        assert result.success and agent.stats["llm_calls"] > 0


def test_mcts_with_tiny_model_critique_and_priors(tiny_lm):
    env = gym.make("palaestra/ConnectFour-v0", opponent="random", text=True)
    agent = MCTSAgent(simulations=16, batch_size=8, critic="llm", critic_mode="score", priors="llm",
                      llm=tiny_lm, alpha=0.5, seed=0)
    obs, info = env.reset(seed=0)
    agent.reset(env)
    action = agent.act(obs, info)
    assert action in [str(c) for c in range(1, 8)]
    assert sum(c["prior"] for c in agent.last_search) == pytest.approx(1.0)
    assert len({round(c["prior"], 6) for c in agent.last_search}) > 1  # not uniform
    # one model call serves a whole batch of leaves: root + 2 batches, each priors + critique
    assert agent.stats["llm_calls"] <= 2 * (1 + 16 // 8)
    assert agent.usage["prompt_tokens"] > 0


def test_mcts_text_view_sends_a_reply_when_no_proposal_is_valid():
    with FakeOpenAI(reply=lambda m, i: "fly away") as server:
        env = TextInterface(Ladder(top=2, enumerable=False), max_invalid=2)
        obs, info = env.reset(seed=0)
        agent = MCTSAgent(simulations=4, llm=OpenAICompatibleLM(server.url, "m"), k=2, seed=0)
        agent.reset(env)
        action = agent.act(obs, info)
        assert action == "fly away" and agent.stats["invalid_candidates"] == 2
        _, _, _, _, info = env.step(action)
        assert "use one of: up, down, taxi" in info["invalid_action"]


@pytest.mark.slow
def test_mcts_with_critique_beats_the_plain_llm_agent_with_the_tiny_model(tiny_lm):
    env = gym.make("palaestra/ConnectFour-v0", opponent="random", text=True)
    n = 20
    plain = sum(run_episode(env, LLMAgent(llm=tiny_lm, retries=1, fallback="random", max_new_tokens=8, seed=s),
                            seed=s).success for s in range(n))
    searched = sum(run_episode(env, MCTSAgent(simulations=24, batch_size=8, llm=tiny_lm, critic="llm",
                                              critic_mode="score", seed=s), seed=s).success for s in range(n))
    assert searched > plain, (searched, plain)


# ---- legal-action policies (issue 15) -------------------------------------------------
class _Lookup:
    """A LanguageModel whose scores come from a table (summed log-prob per completion)."""

    def __init__(self, table):
        self.table, self.calls, self.usage = table, [], {"prompt_tokens": 0, "completion_tokens": 0}

    def generate(self, prompts, n=1, **kw):
        raise AssertionError("a legal-action policy must not generate")

    def score(self, prompts, completions, reduce="sum"):
        self.calls.append((len({id(p) for p in prompts}), list(completions)))
        return [self.table.get(c, -50.0) / (len(c) if reduce == "mean" else 1) for c in completions]


def test_llm_agent_scores_the_legal_actions_in_one_shared_prompt_call():
    env = gym.make("palaestra/ConnectFour-v0", opponent="random", text=True)
    obs, info = env.reset(seed=0)
    lm = _Lookup({"6": -1.0, "4": -3.0})
    agent = LLMAgent(llm=lm, temperature=0.0)
    agent.reset(env)
    assert agent.act(obs, info) == "6"
    prompts, comps = lm.calls[0]
    assert prompts == 1 and sorted(comps) == [str(c) for c in range(1, 8)]
    assert dict(agent.last_scores)["6"] == -1.0
    # a full column is not a candidate
    selfplay = gym.make("palaestra/ConnectFour-v0", opponent=None, text=True)
    obs, info = selfplay.reset(seed=0)
    for _ in range(6):
        obs, *_ , info = selfplay.step("1")
    agent.reset(selfplay)
    agent.act(obs, info)
    assert sorted(lm.calls[-1][1]) == [str(c) for c in range(2, 8)]


def test_length_normalised_scores_do_not_favour_short_texts():
    env = Ladder(top=2)
    env.reset(seed=0)
    # summed: "up" (2 chars, -1.0) beats "taxi" (4 chars, -1.6); per character taxi wins
    lm = _Lookup({"up": -1.0, "down": -9.0, "taxi": -1.6})
    mean, summed = LLMAgent(llm=lm, temperature=0.0), LLMAgent(llm=lm, temperature=0.0, norm="sum")
    mean.reset(env), summed.reset(env)
    assert mean.act(0, {}) == 2 and summed.act(0, {}) == 0


def test_llm_agent_falls_back_to_scored_env_samples_when_no_reply_parses():
    class Sampled(Ladder):
        def sample_action(self, rng):
            return rng.choice([0, 2])

    class Babbler(_Lookup):
        def generate(self, prompts, n=1, **kw):
            return [["fly away"] * n for _ in prompts]

    env = Sampled(top=2, enumerable=False)
    env.reset(seed=0)
    agent = LLMAgent(llm=Babbler({"up": -5.0, "taxi": -1.0}), retries=1)
    agent.reset(env)
    assert agent.act(0, {}) == 2 and agent.fallbacks == 1 and agent.invalid == 2
    with pytest.raises(ValueError, match="enumerable"):
        bad = LLMAgent(llm=Babbler({}), policy="legal")
        bad.reset(env)
        bad.act(0, {})


def test_mcts_llm_priors_are_length_normalised_and_batched():
    env = Ladder(top=2)
    lm = _Lookup({"up": -1.0, "down": -9.0, "taxi": -1.6})
    agent = MCTSAgent(simulations=8, priors="llm", llm=lm, batch_size=4, seed=0)
    run_episode(env, agent, seed=0)
    priors = {c["action"]: c["prior"] for c in agent.last_search}
    assert priors["taxi"] > priors["up"] > priors["down"]
    assert all(c["q"] is None for c in agent.last_search if c["visits"] == 0 and c["proven"] is None)


def test_mcts_searches_env_samples_when_every_proposal_is_invalid():
    # issue 15: 0 simulations and a random fallback with no tree recorded
    class Sampled(Ladder):
        def sample_action(self, rng):
            return rng.choice([0, 1, 2])

    with FakeOpenAI(reply=lambda m, i: "fly away") as server:
        env = Sampled(top=2, enumerable=False)
        obs, info = env.reset(seed=0)
        agent = MCTSAgent(simulations=12, llm=OpenAICompatibleLM(server.url, "m"), k=3, seed=0)
        agent.reset(env)
        agent.act(obs, info)
        assert agent.stats["simulations"] == 12 and agent.stats["sampled_fallbacks"] >= 1
        assert agent.last_search and sum(c["visits"] for c in agent.last_search) == 12
