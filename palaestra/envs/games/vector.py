"""Native vectorized Connect Four and Hex: numpy over a batch of boards.

``gymnasium.make_vec("palaestra/ConnectFour-v0", num_envs=64,
vectorization_mode="vector_entry_point")`` (and the same for ``palaestra/Hex-v0``) builds
one of these instead of 64 single envs. They follow the single envs exactly: OpenSpiel's
rules, the same observations from the agent's side, the same action masks, the same
opponents (``"random"`` or ``None`` for self-play; each random choice comes from the
same counter-based stream as in the single env, see ``seeding.py``), the same rewards,
``max_plies`` and ``illegal_action`` rules. Sub-env ``i`` of ``reset(seed=s)`` plays what
a single env plays after ``reset(seed=s + i)``, and each later episode what that single
env plays after another ``reset()``; tests check this move for move.

Autoreset is Gymnasium 1.x's default, ``AutoresetMode.NEXT_STEP``: the step after an
episode ends resets that sub-env (its action is ignored; reward 0, not terminated).

Infos are Gymnasium vector infos: ``action_mask`` (num_envs, n), ``to_play``, ``plies``,
``outcome`` (1 win, -1 loss, 0 draw or unfinished, from the agent's side) and
``illegal`` (True where an illegal action ended the episode), each with its ``_key`` mask.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from palaestra.core import InvalidAction

from . import seeding as sd

_U = np.uint64


class _BoardVectorEnv(VectorEnv):
    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}
    num_actions = 0
    obs_shape: tuple = ()

    def __init__(self, num_envs: int = 1, opponent="random", agent_player: int | None = None,
                 max_plies: int | None = None, illegal_action: str = "lose", text: bool = False,
                 opponent_options: dict | None = None, render_mode=None, max_invalid=None):
        if text:
            raise ValueError("the native vector env has no text view; use "
                             "gymnasium.make_vec(..., vectorization_mode='sync', text=True).")
        if render_mode is not None:
            raise ValueError("the native vector env does not render; use vectorization_mode='sync'.")
        if opponent not in ("random", None, "self"):
            raise ValueError(f"opponent={opponent!r}: the native vector env plays 'random' or None (self-play); "
                             "for 'mcts', an Agent or Stockfish use vectorization_mode='sync'.")
        if opponent_options:
            raise ValueError(f"opponent_options={opponent_options!r}: the random opponent takes none.")
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or not 1 <= num_envs <= 1 << 20:
            raise ValueError(f"num_envs={num_envs!r}: give an int in 1..{1 << 20}.")
        if agent_player not in (None, 0, 1):
            raise ValueError(f"agent_player={agent_player!r}: use 0 (moves first), 1 (second) or None (by seed parity).")
        if max_plies is not None and (isinstance(max_plies, bool) or not isinstance(max_plies, int) or max_plies < 1):
            raise ValueError(f"max_plies={max_plies!r}: give a positive int or None.")
        if illegal_action not in ("lose", "raise"):
            raise ValueError(f"illegal_action={illegal_action!r}: use 'lose' or 'raise'.")
        n = self.num_envs = int(num_envs)
        self.self_play = opponent in (None, "self")
        self.agent_player_arg = agent_player
        self.max_plies = max_plies
        self.illegal_action = illegal_action
        self.single_observation_space = spaces.Dict({
            "observation": spaces.Box(0.0, 1.0, shape=self.obs_shape, dtype=np.float32),
            "action_mask": spaces.MultiBinary(self.num_actions),
        })
        self.single_action_space = spaces.Discrete(self.num_actions)
        self.observation_space = batch_space(self.single_observation_space, n)
        self.action_space = batch_space(self.single_action_space, n)
        self._ar = np.arange(n)
        self.base_seed = np.zeros(n, dtype=_U)
        self.episode = np.zeros(n, dtype=np.int64)
        self.key = np.zeros(n, dtype=_U)
        self.counter = np.zeros(n, dtype=np.int64)
        self.agent = np.zeros(n, dtype=np.int64)
        self.player = np.zeros(n, dtype=np.int64)  # to move (kept at the mover after an illegal move)
        self.winner = np.full(n, -1, dtype=np.int64)  # 0/1, 2 draw
        self.illegal = np.zeros(n, dtype=bool)
        self.plies = np.zeros(n, dtype=np.int64)
        self.done = np.zeros(n, dtype=bool)  # ended last step: reset on the next one
        self._seeded = False
        self._init_boards(n)

    # ---- game-specific hooks --------------------------------------------------------
    def _init_boards(self, n):  # pragma: no cover - abstract
        raise NotImplementedError

    def _clear(self, idx):  # pragma: no cover - abstract
        raise NotImplementedError

    def _legal_mask(self, idx) -> np.ndarray:  # bool (len(idx), num_actions)
        raise NotImplementedError

    def _play(self, idx, actions):  # apply for player self.player[idx]; sets winner
        raise NotImplementedError

    def _observe(self, observer) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    # ---- episode --------------------------------------------------------------------
    def reset(self, *, seed=None, options=None):
        n = self.num_envs
        options = dict(options or {})
        mask = options.pop("reset_mask", None)
        if options:
            raise ValueError(f"options {sorted(options)}: the vector env takes only 'reset_mask'.")
        idx = self._ar if mask is None else np.flatnonzero(np.asarray(mask, dtype=bool))
        if seed is not None:
            seeds = [seed + i for i in range(n)] if isinstance(seed, (int, np.integer)) else list(seed)
            if len(seeds) != n:
                raise ValueError(f"seed: give one int or {n} of them, not {len(seeds)}.")
            seeds = np.array([sd.check_seed(s) for s in seeds], dtype=_U)
            self.base_seed[idx] = seeds[idx]
            self.episode[idx] = 0
            self._seeded = True
        elif not self._seeded:
            self.base_seed[:] = [sd.fresh_seed() for _ in range(n)]
            self.episode[:] = 0
            self._seeded = True
        else:
            self.episode[idx] += 1
        self._start(idx)
        self.done[:] = False if mask is None else self.done & ~np.isin(self._ar, idx)
        return self._obs_info()

    def _start(self, idx):
        eff = sd.episode_seed_np(self.base_seed[idx], self.episode[idx])
        self.key[idx] = sd.stream_key_np(eff)
        self.counter[idx] = 0
        if self.agent_player_arg is not None:
            self.agent[idx] = self.agent_player_arg
        else:
            self.agent[idx] = 0 if self.self_play else (eff % _U(2)).astype(np.int64)
        self.player[idx] = 0
        self.winner[idx] = -1
        self.illegal[idx] = False
        self.plies[idx] = 0
        self._clear(idx)
        if not self.self_play:
            first = idx[self.agent[idx] == 1]
            if first.size:
                self._opponent(first)

    def _opponent(self, idx):
        legal = self._legal_mask(idx)
        k = sd.draw_index_np(self.key[idx], self.counter[idx], legal.sum(1))
        self.counter[idx] += 1
        col = np.argmax(np.cumsum(legal, axis=1) > k[:, None], axis=1)
        self._play(idx, col)

    def step(self, actions):
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs,) or actions.dtype.kind not in "iu":
            raise InvalidAction(f"actions: give {self.num_envs} ints (shape ({self.num_envs},)), "
                                f"not an array of shape {actions.shape} and dtype {actions.dtype}.")
        actions = actions.astype(np.int64)
        n = self.num_envs
        reward = np.zeros(n, dtype=np.float64)
        resetting = self.done.copy()
        live = np.flatnonzero(~resetting)
        if resetting.any():
            ridx = np.flatnonzero(resetting)
            self.episode[ridx] += 1
            self._start(ridx)
        if live.size:
            a = actions[live]
            bad = (a < 0) | (a >= self.num_actions)
            if bad.any():
                raise InvalidAction(f"action {int(a[bad][0])} is outside 0..{self.num_actions - 1} "
                                    f"(sub-env {int(live[bad][0])}).")
            legal = self._legal_mask(live)[np.arange(live.size), a]
            if not legal.all():
                if self.illegal_action == "raise":
                    i = int(live[~legal][0])
                    raise InvalidAction(f"action {int(actions[i])} is not legal in sub-env {i}; "
                                        "legal ones are where info['action_mask'] is 1.")
                lost = live[~legal]
                self.illegal[lost] = True
                reward[lost] = -1.0
                live, a = live[legal], a[legal]
            mover = self.player[live]
            self._play(live, a)
            if not self.self_play:
                going = live[(self.winner[live] < 0)]
                if self.max_plies is not None:
                    going = going[self.plies[going] < self.max_plies]
                if going.size:
                    self._opponent(going)
                w = self.winner[live]
                ag = self.agent[live]
                reward[live] = np.where((w == 0) | (w == 1), np.where(w == ag, 1.0, -1.0), 0.0)
            else:
                w = self.winner[live]
                reward[live] = np.where((w == 0) | (w == 1), np.where(w == mover, 1.0, -1.0), 0.0)
        terminated = (self.winner >= 0) | self.illegal
        truncated = np.zeros(n, dtype=bool)
        if self.max_plies is not None:
            truncated = ~terminated & (self.plies >= self.max_plies)
        terminated[resetting] = False
        truncated[resetting] = False
        self.done = terminated | truncated
        obs, info = self._obs_info()
        return obs, reward, terminated, truncated, info

    def _obs_info(self):
        ended = (self.winner >= 0) | self.illegal
        if self.self_play:
            observer = np.where(self.winner >= 0, 0, self.player)
        else:
            observer = self.agent
        mask = self._legal_mask(self._ar).astype(np.int8)
        mask[ended] = 0
        obs = {"observation": self._observe(observer), "action_mask": mask}
        w = self.winner
        ref = self.agent if not self.self_play else np.zeros_like(self.agent)
        outcome = np.where((w == 0) | (w == 1), np.where(w == ref, 1, -1), 0)
        outcome = np.where(self.illegal, -1 if not self.self_play else np.where(self.player == 0, -1, 1), outcome)
        to_play = np.where(ended, -1, self.player)
        yes = np.ones(self.num_envs, dtype=bool)
        info = {"action_mask": mask.copy(), "_action_mask": yes, "to_play": to_play, "_to_play": yes.copy(),
                "plies": self.plies.copy(), "_plies": yes.copy(), "outcome": outcome, "_outcome": yes.copy(),
                "illegal": self.illegal.copy(), "_illegal": yes.copy()}
        return obs, info

    def close_extras(self, **kwargs):
        pass


class ConnectFourVectorEnv(_BoardVectorEnv):
    """Connect Four over a batch (uint64 bitboards, as ``connect_four.py``); see the module doc."""

    num_actions = 7
    obs_shape = (3, 6, 7)
    _SHIFTS = tuple((_U(d), _U(2 * d)) for d in (1, 7, 6, 8))
    _TOP = np.array([c * 7 + 6 for c in range(7)], dtype=np.int64)
    _PERM = np.array([c * 7 + r for r in range(6) for c in range(7)], dtype=np.int64)

    def __init__(self, num_envs: int = 1, **kwargs):
        super().__init__(num_envs, **kwargs)

    def _init_boards(self, n):
        self.bits = np.zeros((n, 2), dtype=_U)
        self.heights = np.tile(np.arange(7, dtype=np.int64) * 7, (n, 1))

    def _clear(self, idx):
        self.bits[idx] = 0
        self.heights[idx] = np.arange(7, dtype=np.int64) * 7

    def _legal_mask(self, idx):
        return self.heights[idx] < self._TOP

    def _play(self, idx, cols):
        p = self.player[idx]
        h = self.heights[idx, cols]
        b = self.bits[idx, p] | (_U(1) << h.astype(_U))
        self.bits[idx, p] = b
        self.heights[idx, cols] = h + 1
        self.plies[idx] += 1
        won = np.zeros(idx.size, dtype=bool)
        for d, d2 in self._SHIFTS:
            m = b & (b >> d)
            won |= (m & (m >> d2)) != 0
        self.winner[idx] = np.where(won, p, np.where(self.plies[idx] == 42, 2, -1))
        self.player[idx] = 1 - p

    def _observe(self, observer):
        n = self.num_envs
        pair = np.empty((n, 2), dtype=_U)
        pair[:, 0] = self.bits[self._ar, observer]
        pair[:, 1] = self.bits[self._ar, 1 - observer]
        bits = np.unpackbits(pair.view(np.uint8).reshape(n, 2, 8), axis=2, bitorder="little")[:, :, self._PERM]
        out = np.empty((n, 3, 42), dtype=np.float32)
        out[:, :2] = bits
        np.subtract(1.0, out[:, 0] + out[:, 1], out=out[:, 2])
        return out.reshape(n, 3, 6, 7)


class HexVectorEnv(_BoardVectorEnv):
    """Hex over a batch (no swap rule): stones plus edge-connection flags, flooded with numpy.

    Observations are OpenSpiel's nine cell-state planes from the observer's side, as in
    ``palaestra/Hex-v0`` (a stone is flagged when its group touches its side's edge; the
    stone that completes a connection is the "win" cell).
    """

    def __init__(self, num_envs: int = 1, board_size: int = 11, swap: bool = False, **kwargs):
        if swap:
            raise ValueError("swap=True: the native Hex vector env has no swap rule; "
                             "use vectorization_mode='sync' for it.")
        if isinstance(board_size, bool) or not isinstance(board_size, (int, np.integer)) or not 5 <= board_size <= 19:
            raise ValueError(f"board_size={board_size!r} is outside 5..19; pick a size in that range.")
        self.size = int(board_size)
        self.num_actions = self.size * self.size
        self.obs_shape = (9, self.size, self.size)
        super().__init__(num_envs, **kwargs)

    def _init_boards(self, n):
        s = self.size
        self.stone = np.zeros((n, s, s), dtype=np.int8)  # 0 empty, 1 x, 2 o
        # flags: bit 1 x touches north (row 0), 2 x south, 4 o west (col 0), 8 o east, 16 winning stone
        self.flags = np.zeros((n, s, s), dtype=np.int8)

    def _clear(self, idx):
        self.stone[idx] = 0
        self.flags[idx] = 0

    def _legal_mask(self, idx):
        return (self.stone[idx] == 0).reshape(idx.size, -1)

    @staticmethod
    def _dilate(a):
        """Cells adjacent (OpenSpiel's hex neighbourhood) to a True cell."""
        out = np.zeros_like(a)
        out[:, 1:, :] |= a[:, :-1, :]   # (r-1, c)
        out[:, :-1, :] |= a[:, 1:, :]   # (r+1, c)
        out[:, :, 1:] |= a[:, :, :-1]   # (r, c-1)
        out[:, :, :-1] |= a[:, :, 1:]   # (r, c+1)
        out[:, 1:, :-1] |= a[:, :-1, 1:]  # (r-1, c+1)
        out[:, :-1, 1:] |= a[:, 1:, :-1]  # (r+1, c-1)
        return out

    def _play(self, idx, actions):
        s = self.size
        p = self.player[idx]
        r, c = np.divmod(actions, s)
        self.stone[idx, r, c] = p + 1
        self.plies[idx] += 1
        # the new stone's flags: its own edges and its same-colour neighbours'
        own = np.where(p == 0, np.where(r == 0, 1, 0) | np.where(r == s - 1, 2, 0),
                       np.where(c == 0, 4, 0) | np.where(c == s - 1, 8, 0)).astype(np.int8)
        fl = own.copy()
        for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1), (-1, 1), (1, -1)):
            rr, cc = r + dr, c + dc
            ok = (rr >= 0) & (rr < s) & (cc >= 0) & (cc < s)
            rr, cc = np.clip(rr, 0, s - 1), np.clip(cc, 0, s - 1)
            same = ok & (self.stone[idx, rr, cc] == p + 1)
            fl |= np.where(same, self.flags[idx, rr, cc], 0).astype(np.int8)
        full = np.where(p == 0, 3, 12)
        won = (fl & full) == full
        self.flags[idx, r, c] = np.where(won, fl | 16, fl)
        self.winner[idx] = np.where(won, p, -1)
        self.player[idx] = 1 - p
        # flood the new flags through the new stone's group (no need once the game is won)
        grow = ~won & (fl != 0)
        if grow.any():
            g = idx[grow]
            for bit, colour in ((1, 1), (2, 1), (4, 2), (8, 2)):
                stones = self.stone[g] == colour
                have = (self.flags[g] & bit) != 0
                seed_mask = np.zeros_like(have)
                seed_mask[np.arange(g.size), r[grow], c[grow]] = True
                front = seed_mask & have
                if not front.any():
                    continue
                reach = front.copy()
                while True:
                    nxt = self._dilate(reach) & stones & ~reach
                    if not nxt.any():
                        break
                    reach |= nxt
                self.flags[g] |= np.where(reach, bit, 0).astype(np.int8)

    def _observe(self, observer):
        n, s = self.num_envs, self.size
        st, fl = self.stone, self.flags
        # OpenSpiel plane of each cell (x's side): 4 empty; x 5 plain, 6 south, 7 north, 8 win;
        # o 3 plain, 2 east, 1 west, 0 win
        xp = np.where(fl & 16, 8, np.where(fl & 1, 7, np.where(fl & 2, 6, 5)))
        op = np.where(fl & 16, 0, np.where(fl & 4, 1, np.where(fl & 8, 2, 3)))
        plane = np.where(st == 1, xp, np.where(st == 2, op, 4))
        plane = np.where((observer == 1)[:, None, None], 8 - plane, plane)
        out = np.zeros((n, 9, s, s), dtype=np.float32)
        np.put_along_axis(out, plane[:, None, :, :], 1.0, axis=1)
        return out
