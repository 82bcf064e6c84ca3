"""PettingZoo AEC versions of the games, whose snapshots survive deepcopy and pickling."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv

from palaestra.core import InvalidAction

from .world import RULES


class GameAEC(AECEnv):
    """A two-player game in PettingZoo's AEC API (agents ``player_0`` moves first).

    Observations are ``{"observation": Box, "action_mask": MultiBinary}`` from the
    observing agent's side, as in PettingZoo classic; the mask is all zeros when it is
    not that agent's turn. Rewards +1/-1/0 at the end. An illegal or out-of-space action
    raises ``InvalidAction`` and leaves the game unchanged (PettingZoo classic instead
    ends the game with a penalty; an exception an agent can read is friendlier).
    ``get_state()`` / ``set_state()`` snapshot the game; ``copy.deepcopy`` and ``pickle``
    keep the board (PettingZoo's own chess loses it on deepcopy).
    """

    metadata = {"render_modes": ["ansi"], "is_parallelizable": False, "render_fps": 2}

    def __init__(self, name: str, render_mode: str | None = None, **rules_kwargs):
        super().__init__()
        if name not in RULES:
            raise ValueError(f"unknown game {name!r}; use one of {sorted(RULES)}")
        self.game_name = name
        self.rules = RULES[name](**rules_kwargs)
        self.metadata = dict(self.metadata, name=f"palaestra_{name}_v0")
        self.render_mode = render_mode
        self.possible_agents = ["player_0", "player_1"]
        n = self.rules.num_actions
        space = spaces.Dict(
            {
                "observation": spaces.Box(0.0, 1.0, shape=self.rules.obs_shape, dtype=np.float32),
                "action_mask": spaces.MultiBinary(n),
            }
        )
        self.observation_spaces = {a: space for a in self.possible_agents}
        self.action_spaces = {a: spaces.Discrete(n) for a in self.possible_agents}
        self._state = None
        self._seed = None

    def observation_space(self, agent):
        return self.observation_spaces[agent]

    def action_space(self, agent):
        return self.action_spaces[agent]

    def _spiel(self, agent: str) -> int:
        idx = self.possible_agents.index(agent)
        return self._first if idx == 0 else 1 - self._first

    def reset(self, seed=None, options=None):
        self._seed = seed
        self._state = self.rules.new_state(seed, options)
        self._first = self._state.current_player()
        self.agents = list(self.possible_agents)
        self.rewards = {a: 0.0 for a in self.agents}
        self._cumulative_rewards = {a: 0.0 for a in self.agents}
        self.terminations = {a: False for a in self.agents}
        self.truncations = {a: False for a in self.agents}
        self.infos = {a: {} for a in self.agents}
        self.agent_selection = self.agents[0]

    def observe(self, agent):
        player = self._spiel(agent)
        mask = np.zeros(self.rules.num_actions, dtype=np.int8)
        if not self._state.is_terminal() and self._state.current_player() == player:
            mask[self._state.legal_actions()] = 1
        return {"observation": self.rules.observation(self._state, player), "action_mask": mask}

    def step(self, action):
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        if action is None or not self.action_spaces[agent].contains(action) or int(action) not in self._state.legal_actions():
            legal = [self.rules.format(self._state, a) for a in self._state.legal_actions()]
            raise InvalidAction(f"{action!r} is not a legal action for {agent}. Legal: {', '.join(legal[:60])}", legal)
        self._state.apply_action(int(action))
        self._cumulative_rewards[agent] = 0.0
        if self._state.is_terminal():
            returns = self._state.returns()
            for a in self.agents:
                self.rewards[a] = float(returns[self._spiel(a)])
                self.terminations[a] = True
        else:
            for a in self.agents:
                self.rewards[a] = 0.0
            current = self._state.current_player()
            self.agent_selection = next(a for a in self.agents if self._spiel(a) == current)
        self._accumulate_rewards()

    def render(self):
        if self.render_mode == "ansi":
            return self.rules.draw(self._state)
        return None

    def close(self):
        pass

    # snapshots -------------------------------------------------------------------
    def get_state(self):
        return {
            "state": self._state.clone(),
            "first": self._first,
            "agents": list(self.agents),
            "rewards": dict(self.rewards),
            "cumulative": dict(self._cumulative_rewards),
            "terminations": dict(self.terminations),
            "truncations": dict(self.truncations),
            "selection": self.agent_selection,
        }

    def set_state(self, snap):
        self._state = snap["state"].clone()
        self._first = snap["first"]
        self.agents = list(snap["agents"])
        self.rewards = dict(snap["rewards"])
        self._cumulative_rewards = dict(snap["cumulative"])
        self.terminations = dict(snap["terminations"])
        self.truncations = dict(snap["truncations"])
        self.infos = {a: {} for a in self.agents}
        self.agent_selection = snap["selection"]
