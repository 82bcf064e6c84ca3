"""Gymnasium envs for the board games: the single-agent view against an opponent."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces
from gymnasium.error import ResetNeeded
from gymnasium.utils import seeding as gym_seeding

from palaestra.core import InvalidAction, LegalDiscrete, PalaestraEnv, Task

from .connect_four import _LEGAL as _C4_LEGAL
from .connect_four import EMPTY_PLANES, C4State
from .opponents import RandomOpponent, make_opponent
from .seeding import (
    _GOLDEN,
    _M1,
    StreamRNG,
    check_seed,
    episode_seed,
    fresh_seed,
    stream_key,
)
from .seeding import MASK64 as _MASK64
from .world import RULES, chess960_position

_OUTCOME = {1: "win", 0: "draw", -1: "loss"}
_SWAP_XO = np.array([1, 0, 2])


class GameEnv(PalaestraEnv):
    """Base of the board-game envs (see the subclasses' docstrings).

    Seeding: ``reset(seed=s)`` fixes the episode (the agent's seat when ``agent_player``
    is None: ``s % 2``; Chess960's start; every random choice of the opponent); a later
    ``reset()`` continues the same stream (see ``seeding.py``), so ``reset(seed=s)``
    followed by any number of ``reset()`` replays exactly. A first ``reset()`` without a
    seed draws one from OS entropy.

    Observations are from the agent's side (self-play: the side to move), as in
    PettingZoo classic: the subclasses' docstrings say how the planes are ordered.

    ``illegal_action``: what a native action inside the action space but not legal now
    does. ``"lose"`` (default, PettingZoo classic's rule, and what Gymnasium's
    ``check_env`` needs: it steps actions sampled in another state): the game ends,
    reward -1 to the mover, ``info["illegal_action"]`` names the move and the legal
    ones. ``"raise"``: ``InvalidAction`` and the game stays as it was. Actions outside
    the space (and anything after the game ended) always raise ``InvalidAction``.
    """

    game_name = ""
    metadata = {"render_modes": ["ansi"], "render_fps": 2}
    #: the rules are the reward: what the agent sees decides it, so search may plan on it
    reward_access = "rules"

    def __init__(
        self,
        opponent="random",
        agent_player: int | None = None,
        opponent_options: dict | None = None,
        max_plies: int | None = None,
        render_mode: str | None = None,
        illegal_action: str = "lose",
        **rules_kwargs,
    ):
        super().__init__(render_mode=render_mode)
        if illegal_action not in ("lose", "raise"):
            raise ValueError(f"illegal_action={illegal_action!r}: use 'lose' (PettingZoo classic) or 'raise'.")
        self.illegal_action = illegal_action
        if max_plies is not None and (isinstance(max_plies, bool) or not isinstance(max_plies, int) or max_plies < 1):
            raise ValueError(f"max_plies={max_plies!r}: give a positive int or None.")
        self.rules = RULES[self.game_name](**rules_kwargs)
        self.rules_kwargs = dict(rules_kwargs)
        self.opponent_spec = opponent
        self.opponent_options = dict(opponent_options or {})
        self.opponent = make_opponent(opponent, self.game_name, **self.opponent_options)
        self.num_players = 1 if self.opponent is not None else 2
        if agent_player not in (None, 0, 1):
            raise ValueError(f"agent_player={agent_player!r}: use 0 (moves first), 1 (second) or None (by seed parity).")
        self.agent_player_arg = agent_player
        self.max_plies = max_plies
        n = self.rules.num_actions
        self.action_space = LegalDiscrete(n, self._legal_or_none)
        self.observation_space = spaces.Dict(
            {
                "observation": spaces.Box(0.0, 1.0, shape=self.rules.obs_shape, dtype=np.float32),
                "action_mask": spaces.MultiBinary(n),
            }
        )
        self._state = None
        self._planning = None
        self._rng = StreamRNG()
        self._seed = None  # this episode's seed
        self._base_seed = None  # the seed given to the last reset(seed=...)
        self._episode = 0
        self._start_fen = None
        self._illegal = None
        self._tasks: dict = {}  # (seat, variant) -> Task (a task is the same for every such episode)
        self._agent = 0  # 0 = the first mover
        self._first = 0  # OpenSpiel id of the first mover (white is player 1 in chess)
        self._plies = 0
        self._last = None
        self._ended = False
        self._legal_cache = (None, None)
        self._zero_mask = np.zeros(n, dtype=np.int8)
        self.instructions = self._instructions()

    # ---- episode -------------------------------------------------------------------
    # Gymnasium's np_random is built only when asked for (it costs more than a whole
    # Connect Four step); reset(seed=s) records s and the generator follows from it.
    @property
    def _np_random(self):
        rng = self.__dict__.get("_np_rng")
        if rng is None:
            rng, seed = gym_seeding.np_random(self.__dict__.get("_np_pending"))
            self.__dict__["_np_rng"], self.__dict__["_np_random_seed"] = rng, seed
        return rng

    @_np_random.setter
    def _np_random(self, value):
        self.__dict__["_np_rng"] = value

    def _next_seed(self, seed) -> int:
        if seed is not None:
            seed = check_seed(seed)
            self._base_seed, self._episode = seed, 0
            self.__dict__.update(_np_rng=None, _np_pending=seed, _np_random_seed=seed)
        elif self._base_seed is None:
            self._base_seed, self._episode = fresh_seed(), 0
        else:
            self._episode += 1
        return episode_seed(self._base_seed, self._episode)

    def reset(self, *, seed=None, options=None):
        options = dict(options or {}) if options else {}
        if "task" in options:
            options.update(self._parse_task_id(options.pop("task")))
        eff = self._next_seed(seed)
        self._seed = eff
        self._rng = StreamRNG(stream_key(eff))
        self._prepare(options, eff)
        self._state = self.rules.new_state(eff, options)
        self._first = self.rules.first_player(self._state)
        if "agent_player" in options:
            if options["agent_player"] not in (0, 1):
                raise ValueError(f"options['agent_player']={options['agent_player']!r}: use 0 or 1.")
            self._agent = int(options["agent_player"])
        elif self.agent_player_arg is not None:
            self._agent = self.agent_player_arg
        else:
            self._agent = eff % 2 if self.opponent is not None else 0
        self._plies, self._last, self._ended, self._illegal = 0, None, False, None
        self._legal_cache = (None, None)
        self._new_state_hook()
        key = (self._agent, self._variant())
        task = self._tasks.get(key)
        if task is None:
            task = self._tasks[key] = self._make_task()
            if len(self._tasks) > 64:
                self._tasks.pop(next(iter(self._tasks)))
        self.task = task
        if self.opponent is not None and self.to_play() != self._agent:
            self._opponent_move()
        obs, info = self.observe()
        return obs, info

    def step(self, action):
        reward, terminated, truncated = self.search_step(action)
        obs, info = self.observe()
        return obs, reward, terminated, truncated, info

    def _new_state_hook(self) -> None:
        """Called whenever ``_state`` is replaced (reset, set_state)."""

    def _prepare(self, options: dict, eff_seed: int) -> None:
        """Subclasses fill in seed-dependent options (Chess960's start) before the state."""

    def search_step(self, action) -> tuple[float, bool, bool]:
        """``step`` for planners: the same transition and reward, no observation built."""
        if self._state is None:
            raise ResetNeeded(f"{type(self).__name__}: call reset() (or set_state()) before step().")
        if self._ended:
            raise InvalidAction("The game is over; call reset() to start a new one.")
        if type(action) is not int:
            if isinstance(action, np.integer) or (
                isinstance(action, np.ndarray) and action.shape == () and action.dtype.kind in "iu"
            ):
                action = int(action)
            else:
                raise InvalidAction(
                    f"{action!r} is not an action id; give an int in 0..{self.rules.num_actions - 1} "
                    "(or use the text view)."
                )
        if action not in self._legal():
            error = self.rules.illegal(
                self._state, str(action), f"action {action} ({self.format_action(action)}) is not legal now."
            )
            if self.illegal_action == "raise" or not 0 <= action < self.rules.num_actions:
                raise error
            return self._lose_on_illegal(error)
        state = self._state
        mover = state.current_player()
        self._apply(action)
        terminated = state.is_terminal()
        if self.opponent is None:  # self-play: reward to the player who just moved
            reward = state.returns()[mover] if terminated else 0.0
        else:
            if not terminated and not (self.max_plies is not None and self._plies >= self.max_plies):
                self._opponent_move()
                terminated = state.is_terminal()
            reward = state.returns()[self._spiel(self._agent)] if terminated else 0.0
        truncated = not terminated and self._truncated()
        self._ended = terminated or truncated
        return float(reward), terminated, truncated

    def _lose_on_illegal(self, error) -> tuple[float, bool, bool]:
        """PettingZoo classic's rule: an illegal move ends the game, the mover loses."""
        mover = self.to_play()
        self._illegal = (mover, str(error))
        self._ended = True
        self._legal_cache = (self._plies, [])
        return -1.0, True, False

    def _apply(self, action: int):
        self._state.apply_action(action)
        self._plies += 1
        self._last = action
        self._legal_cache = (None, None)

    def _opponent_move(self):
        action = self.opponent.choose(self, self._state, self._rng)
        self._apply(int(action))

    def _truncated(self) -> bool:
        return self.max_plies is not None and self._plies >= self.max_plies

    def _legal(self) -> list[int]:
        key, legal = self._legal_cache
        if key != self._plies or legal is None:
            if self._illegal is not None:
                return []
            legal = [] if self._state.is_terminal() else self._state.legal_actions()
            self._legal_cache = (self._plies, legal)
        return legal

    def _legal_or_none(self):
        return self._legal() if self._state is not None else None

    def _spiel(self, player: int) -> int:
        """palaestra player (0 = first mover) -> OpenSpiel player id."""
        return self._first if player == 0 else 1 - self._first

    def to_play(self) -> int:
        if self._illegal is not None:
            return -1
        current = self._state.current_player()
        if current < 0:
            return -1
        return 0 if current == self._first else 1

    def observe(self):
        """The observation and info of the current state, from the mover's side."""
        legal = self._legal()
        mask = self._zero_mask.copy()
        if legal:
            mask[legal] = 1
        if self.opponent is not None:
            perspective = self._spiel(self._agent)
        else:
            perspective = self._state.current_player()
            if perspective < 0:
                perspective = self._first
        obs = {"observation": self.rules.observation(self._state, perspective), "action_mask": mask}
        info = {"task_id": self.task.id, "action_mask": mask, "to_play": self.to_play(), "plies": self._plies}
        self._end_info(info)
        return obs, info

    def _end_info(self, info: dict) -> None:
        """Adds the outcome fields once the game ended (or stopped at max_plies)."""
        if self._illegal is not None:
            mover, message = self._illegal
            info["illegal_action"] = message
            if self.opponent is not None:
                info["outcome"], info["success"] = "loss", False
            else:
                info["returns"] = [-1.0 if p == mover else 1.0 for p in (0, 1)]
                info["success"] = False
        elif self._state.is_terminal() or self._truncated():
            if self.opponent is not None:
                ret = self._state.returns()[self._spiel(self._agent)] if self._state.is_terminal() else 0.0
                info["outcome"] = _OUTCOME[int(np.sign(ret))]
                info["success"] = ret > 0
            else:
                returns = self._state.returns() if self._state.is_terminal() else [0.0, 0.0]
                info["returns"] = [returns[self._spiel(0)], returns[self._spiel(1)]]
                info["success"] = False

    # ---- tasks ---------------------------------------------------------------------
    def _variant(self) -> str:
        return "standard"

    def _make_task(self) -> Task:
        side = f"p{self._agent}" if self.opponent is not None else "selfplay"
        tid = f"{self.game_name}:{self._variant()}:{side}"
        opp = getattr(self.opponent, "name", "self-play")
        goal = (
            f"Win the game of {self.rules.name.replace('_', ' ')} playing "
            f"{self._side_name(self._agent)} against {opp}."
            if self.opponent is not None
            else f"Play both sides of {self.rules.name.replace('_', ' ')}."
        )

        def validate(env):
            state = env._state
            if not state.is_terminal():
                return 0.0, False, {}
            ret = state.returns()[env._spiel(env._agent)]
            return float(ret), True, {"outcome": _OUTCOME[int(np.sign(ret))]}

        return Task(id=tid, goal=goal, split="test", data={"agent_player": self._agent}, validator=validate)

    def _parse_task_id(self, tid: str) -> dict:
        parts = str(tid).split(":")
        if len(parts) != 3 or parts[0] != self.game_name:
            raise ValueError(f"task id {tid!r} is not of the form '{self.game_name}:<variant>:p0|p1'.")
        out = {}
        if parts[2] in ("p0", "p1"):
            out["agent_player"] = int(parts[2][1])
        if parts[1] != "standard":
            out["position"] = int(parts[1])
        return out

    def _side_name(self, player: int) -> str:
        return ["first (x)", "second (o)"][player]

    # ---- language view -------------------------------------------------------------
    def _instructions(self) -> str:
        return (
            f"You play {self.rules.name.replace('_', ' ')}. {self._rules_text()}\n"
            f"Action format: {self.rules.move_help} Reply with exactly one move."
        )

    def _rules_text(self) -> str:
        return ""

    def render_text(self) -> str:
        state = self._state
        lines = [f"Goal: {self.task.goal}", self.rules.draw(state)]
        if self._last is not None:
            lines.append(f"Last move: {self._format_past(self._last)}")
        if state.is_terminal():
            lines.append(f"Game over: {self.observe()[1].get('outcome', 'finished')}.")
        elif self._truncated():
            lines.append("Game stopped: move limit reached.")
        else:
            who = self._side_name(self.to_play())
            you = " (you)" if self.opponent is None or self.to_play() == self._agent else ""
            lines.append(f"To move: {who}{you}")
            legal = [self.format_action(a) for a in self._legal()]
            lines.append("Legal moves: " + " ".join(legal))
        return "\n".join(lines)

    def _format_past(self, action) -> str:
        history = self._state.history()
        if not history:
            return str(action)
        # rebuild the position before the last move to name it in its own notation
        fen = self._start_fen
        before = self.rules.game.new_initial_state(fen) if fen else self.rules.game.new_initial_state()
        for a in history[:-1]:
            before.apply_action(a)
        return self.rules.format(before, history[-1])

    def parse_action(self, text: str) -> int:
        if not isinstance(text, str):
            raise InvalidAction(f"expected text, got {type(text).__name__}. {self.rules.move_help}")
        if self._ended:
            raise InvalidAction("The game is over; call reset() to start a new one.")
        return int(self.rules.parse(self._state, text))

    def format_action(self, action) -> str:
        return self.rules.format(self._state, int(action))

    def legal_actions(self) -> list[int]:
        return list(self._legal())

    def spiel_state(self):
        """The current position as a pyspiel state (a copy), for OpenSpiel's searchers."""
        if self._state is None:
            raise ResetNeeded(f"{type(self).__name__}: call reset() (or set_state()) first.")
        to_spiel = getattr(self._state, "to_spiel", None)
        return to_spiel() if to_spiel is not None else self._state.clone()

    def ui_state(self) -> dict:
        return {
            "game": self.rules.name,
            "rows": self.rules.rows,
            "cols": self.rules.cols,
            "cells": self.rules.cells(self._state),
            "fen": str(self._state) if self.rules.name == "chess" else None,
            "legal": [self.format_action(a) for a in self._legal()],
            "to_play": self.to_play(),
            "agent_player": self._agent if self.opponent is not None else None,
            "last_move": self._format_past(self._last) if self._last is not None else None,
            "over": bool(self._ended),
        }

    # ---- snapshots -----------------------------------------------------------------
    def get_state(self):
        return {
            "state": self._state.clone(),
            "rng": self._rng.getstate() if self.opponent is not None else None,
            "seed": self._seed,
            "agent": self._agent,
            "first": self._first,
            "plies": self._plies,
            "last": self._last,
            "ended": self._ended,
            "illegal": self._illegal,
            "start_fen": self._start_fen,
            "stream": (self._base_seed, self._episode),
            "task": (self.task.id, self.task.goal, self.task.data),
        }

    def set_state(self, snap) -> None:
        self._state = snap["state"].clone()
        if snap["rng"] is not None:
            self._rng.setstate(snap["rng"])
        self._seed = snap["seed"]
        self._agent = snap["agent"]
        self._first = snap["first"]
        self._plies = snap["plies"]
        self._last = snap["last"]
        self._ended = snap["ended"]
        self._illegal = snap.get("illegal")
        self._start_fen = snap.get("start_fen")
        self._base_seed, self._episode = snap.get("stream", (self._base_seed, self._episode))
        self._legal_cache = (None, None)
        self._new_state_hook()
        self._restore_variant(snap["task"][0].split(":")[1])
        if self.task is None or self.task.id != snap["task"][0]:
            self.task = self._make_task()

    def _restore_variant(self, variant: str) -> None:
        """Subclasses restore what ``_variant()`` reads from a snapshot's task id."""

    @property
    def episode_key(self):
        """Identifies this episode (an engine opponent starts a new game when it changes)."""
        return (id(self), self._base_seed, self._episode, self._start_fen)

    def planning_env(self, *, true_reward: bool = False) -> GameEnv:
        """A self-play copy (no opponent) for search: both sides move through step. The
        rules are the reward (``reward_access = "rules"``), so ``true_reward`` changes nothing."""
        if self.opponent is None:
            return self
        if self._planning is None:
            self._planning = type(self)(opponent=None, max_plies=self.max_plies, **self.rules_kwargs)
            self._planning.reset(seed=self._seed)
        return self._planning

    def close(self):
        if self.opponent is not None:
            self.opponent.close()
        if self._planning is not None and self._planning is not self:
            self._planning.close()


class ConnectFourEnv(GameEnv):
    """Connect Four against an opponent (rules: OpenSpiel ``connect_four``).

    ## Description
    Two players drop discs into a 6x7 grid; four in a row (any direction) wins.

    ## Action Space
    ``Discrete(7)``: the column, 0-6. Text: a column number ``1``-``7``.

    ## Observation Space
    ``Dict(observation=Box(0, 1, (3, 6, 7)), action_mask=MultiBinary(7))``, PettingZoo
    style, from the agent's side (self-play: the side to move): plane 0 the observer's
    discs, plane 1 the other side's, plane 2 the empty cells; row 0 is the bottom row
    (OpenSpiel's tensor with its x/o planes ordered by the observer).

    ## Rewards
    +1 win, -1 loss, 0 draw, from the agent's side, at the end.

    ## Episode End
    Terminated on a win or a full board; truncated at ``max_plies`` if given.

    ## Arguments
    ``opponent`` ("random", "mcts", None for self-play, or an Agent), ``opponent_options``
    (e.g. ``{"simulations": 400}``), ``agent_player`` (0 first, 1 second, None: seed
    parity), ``max_plies``, ``render_mode`` ("ansi").

    ## Version History
    v0: first release.
    """

    game_name = "connect_four"

    # ---- the lean path (native bitboards, see connect_four.py) ------------------------
    # The observation planes are kept up to date ply by ply from the agent's side (x's
    # side in self-play, swapped on demand), so a step costs two bit operations per ply
    # and one array copy instead of rebuilding the tensor.
    def _new_state_hook(self):
        st = self._state
        self._planes = EMPTY_PLANES.copy() if type(st) is C4State and not st.moves else None
        self._flat = None if self._planes is None else self._planes.reshape(-1)  # a view

    def _observer(self) -> int:
        if self.opponent is not None:
            return self._agent  # C4: palaestra player == OpenSpiel player (x moves first)
        return 0

    def _apply(self, action: int):
        st = self._state
        if type(st) is not C4State:
            return super()._apply(action)
        if st.winner >= 0 or st.full >> action & 1:
            raise ValueError(f"illegal Connect Four action {action}")
        mine = st.player == self._observer()
        row = st.play(action)
        planes = self._planes
        if planes is not None:
            planes[0 if mine else 1, row, action] = 1.0
            planes[2, row, action] = 0.0
        self._plies += 1
        self._last = action
        self._legal_cache = (None, None)

    def step(self, action):
        st = self._state
        if (type(action) is not int or st is None or self._ended or not 0 <= action < 7
                or st.full >> action & 1 or type(st) is not C4State):
            return super().step(action)  # conversions, errors and illegal moves
        mover = st.player
        opponent = self.opponent
        flat = self._flat
        # the agent's ply (inline _apply)
        cell = st.play(action) * 7 + action
        if flat is not None:
            flat[cell if opponent is not None or mover == 0 else cell + 42] = 1.0
            flat[cell + 84] = 0.0
        self._plies += 1
        self._last = action
        self._legal_cache = (None, None)
        terminated = st.winner >= 0
        if opponent is None:
            reward = (1.0 if st.winner == mover else -1.0) if terminated and st.winner < 2 else 0.0
        else:
            if not terminated and (self.max_plies is None or self._plies < self.max_plies):
                if type(opponent) is RandomOpponent:
                    legal = _C4_LEGAL[st.full]
                    rng = self._rng
                    z = (rng.key + rng.counter * _GOLDEN) & _MASK64  # StreamRNG.randrange, inline
                    rng.counter += 1
                    col = legal[(((((z ^ (z >> 31)) * _M1) & _MASK64) >> 32) * len(legal)) >> 32]
                    cell = st.play(col) * 7 + col
                    if flat is not None:
                        flat[cell + 42] = 1.0
                        flat[cell + 84] = 0.0
                    self._plies += 1
                    self._last = col
                else:
                    self._opponent_move()
                terminated = st.winner >= 0
            w = st.winner
            reward = (1.0 if w == self._agent else -1.0) if terminated and w < 2 else 0.0
        truncated = not terminated and self.max_plies is not None and self._plies >= self.max_plies
        self._ended = terminated or truncated
        obs, info = self.observe()
        return obs, reward, terminated, truncated, info

    def observe(self):
        st = self._state
        if type(st) is not C4State or self._illegal is not None:
            return super().observe()
        planes = self._planes
        if planes is None:
            planes = self._planes = st.observation(self._observer())
            self._flat = planes.reshape(-1)
        if self.opponent is None and st.player == 1:
            board = planes[_SWAP_XO]
        else:
            board = planes.copy()
        mask = st.mask()
        info = {"task_id": self.task.id, "action_mask": mask, "to_play": st.player if st.winner < 0 else -1,
                "plies": self._plies}
        if st.winner >= 0 or (self.max_plies is not None and self._plies >= self.max_plies):
            self._end_info(info)
        return {"observation": board, "action_mask": mask}, info

    def _rules_text(self):
        return "Drop a disc into a column; the first to line up four discs (row, column or diagonal) wins."


class HexEnv(GameEnv):
    """Hex against an opponent (rules: OpenSpiel ``hex``).

    ## Description
    Players alternately claim cells of a rhombic board; x wins by connecting the top and
    bottom edges, o by connecting left and right. No draws.

    ## Action Space
    ``Discrete(size*size (+1 with swap))``: cell ``row * size + col`` (and the swap move).
    Text: a cell such as ``c5`` (column letter, row number), or ``swap``.

    ## Observation Space
    ``Dict(observation=Box(0, 1, (9, size, size)), action_mask=MultiBinary(n))``: OpenSpiel's
    cell-state planes from the observer's side. For x they run o-win, o-west, o-east,
    o, empty, x, x-south, x-north, x-win; for o the order is reversed, so planes 5-8
    always hold the observer's stones (edge-connected ones flagged) and 0-3 the other's.

    ## Rewards
    +1 win, -1 loss, from the agent's side, at the end.

    ## Episode End
    Terminated when a side connects its edges.

    ## Arguments
    ``board_size`` (5..19, default 11), ``swap`` (pie rule, default False), ``opponent``,
    ``opponent_options``, ``agent_player``, ``max_plies``, ``render_mode``.

    ## Version History
    v0: first release.
    """

    game_name = "hex"

    def __init__(self, board_size: int = 11, swap: bool = False, **kwargs):
        super().__init__(board_size=board_size, swap=swap, **kwargs)

    def _variant(self):
        return f"{self.rules.size}"

    def _parse_task_id(self, tid):
        parts = str(tid).split(":")
        if len(parts) != 3 or parts[0] != "hex":
            raise ValueError(f"task id {tid!r} is not of the form 'hex:<size>:p0|p1'.")
        return {"agent_player": int(parts[2][1])} if parts[2] in ("p0", "p1") else {}

    def _rules_text(self):
        return (
            f"The board is {self.rules.size}x{self.rules.size}. x (first) connects the top and bottom rows; "
            "o (second) connects the left and right columns."
            + (" The second player may answer the first move with 'swap'." if self.rules.swap else "")
        )


class ChessEnv(GameEnv):
    """Chess against an opponent (rules: OpenSpiel ``chess``; notation: python-chess).

    ## Description
    Standard chess. Draws by the fifty-move rule, threefold repetition, stalemate and
    insufficient material, as OpenSpiel implements them.

    ## Action Space
    ``Discrete(4674)``: OpenSpiel's move encoding. Text: UCI (``e2e4``, ``e7e8q``;
    canonical) or SAN (``Nf3``, ``O-O``, ``exd5``).

    ## Observation Space
    ``Dict(observation=Box(0, 1, (20, 8, 8)), action_mask=MultiBinary(4674))``: OpenSpiel's
    planes from the observer's side, as PettingZoo's chess does it: for Black the board
    is mirrored (rank 8 first) and the colours swapped, so the even planes 0-10 always
    hold the observer's K, Q, R, B, N, P, the odd planes 1-11 the other side's, 16-17
    the observer's castling rights, 18-19 the other's; plane 14 is 1 when White moves.

    ## Rewards
    +1 win, -1 loss, 0 draw, from the agent's side, at the end.

    ## Episode End
    Terminated at checkmate or a draw; truncated at ``max_plies`` if given.

    ## Arguments
    ``opponent`` ("random", "mcts", "stockfish", None for self-play, or an Agent),
    ``opponent_options`` (Stockfish: ``skill`` 0-20, ``depth``, ``movetime``, ``elo``),
    ``agent_player`` (0 White, 1 Black, None: seed parity), ``max_plies``, ``render_mode``.

    ## Version History
    v0: first release.
    """

    game_name = "chess"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def reset(self, *, seed=None, options=None):
        """``options``: ``{"task": id}``, ``{"agent_player": 0|1}``, ``{"fen": FEN}`` (start there)."""
        return super().reset(seed=seed, options=options)

    def _prepare(self, options, eff_seed):
        self._fen = options.get("fen")
        self._start_fen = self.rules.start_fen(options, eff_seed)

    def _variant(self):
        return getattr(self, "_fen", None) or "standard"

    def python_board(self):
        """A ``chess.Board`` of the current position with the game's moves on its stack."""
        return self.rules.board_with_moves(self._state, self._start_fen)

    def _parse_task_id(self, tid):
        parts = str(tid).split(":")
        if len(parts) != 3 or parts[0] != self.game_name:
            raise ValueError(f"task id {tid!r} is not of the form '{self.game_name}:<standard|FEN|position>:p0|p1'.")
        out = {"agent_player": int(parts[2][1])} if parts[2] in ("p0", "p1") else {}
        if "/" in parts[1]:
            out["fen"] = parts[1]
        elif parts[1] != "standard":
            out["position"] = int(parts[1])
        return out

    def _restore_variant(self, variant):
        self._fen = variant if "/" in variant else None

    def _side_name(self, player):
        return ["White", "Black"][player]

    def _rules_text(self):
        return "Uppercase letters are White's pieces, lowercase Black's; the FEN line gives the exact position."


class Chess960Env(ChessEnv):
    """Chess960 (Fischer random chess): the start position is drawn from the seed.

    ## Description
    Chess with one of the 960 start positions, numbered as Scharnagl does (python-chess's
    ``Board.from_chess960_pos``: 518 is the classical start); seeds 0..959 reach every
    position exactly once (``options={"position": k}`` picks one directly). Castling in UCI is written
    king-takes-own-rook (``e1h1``), as python-chess and OpenSpiel do for Chess960.

    ## Action Space / Observation Space / Rewards / Episode End / Arguments
    As ``palaestra/Chess-v0``.

    ## Version History
    v0: first release.
    """

    game_name = "chess960"

    def _prepare(self, options, eff_seed):
        if not options.get("fen"):
            options["position"] = options.get("position", chess960_position(eff_seed))
            self._position = options["position"]
        super()._prepare(options, eff_seed)

    def _variant(self):
        return getattr(self, "_fen", None) or str(getattr(self, "_position", 0))

    def _restore_variant(self, variant):
        super()._restore_variant(variant)
        if "/" not in variant:
            self._position = int(variant)
