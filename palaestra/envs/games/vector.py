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
        self.counter = np.zeros(n, dtype=_U)
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


_ONES = _U((1 << 64) - 1)
_C4_BOTTOM = np.array([1 << (7 * c) for c in range(7)], dtype=_U)
_C4_COLUMN = np.array([((1 << 6) - 1) << (7 * c) for c in range(7)], dtype=_U)
_C4_TOPCELL = np.array([1 << (7 * c + 5) for c in range(7)], dtype=_U)
_C4_FULL = _U(int(sum(_C4_COLUMN.tolist())))
_C4_SHIFTS = np.array([1, 7, 6, 8], dtype=_U)
_C4_SHIFTS2 = _C4_SHIFTS + _C4_SHIFTS
# the seven top cells (bits 5 + 7c) gathered into a 7-bit "full columns" pattern by one multiply
_C4_TOPMASK = _U(int(sum(_C4_TOPCELL.tolist())))
_C4_MAGIC = _U(sum(1 << (6 * j) for j in range(7)))
_C4_LEGAL = np.array([[0 if full >> c & 1 else 1 for c in range(7)] for full in range(128)], dtype=np.int8)
_C4_COUNT = _C4_LEGAL.sum(axis=1).astype(_U)
_C4_KTH = np.array([[(list(np.flatnonzero(row)) + [0] * 8)[k] for k in range(8)] for row in _C4_LEGAL],
                   dtype=np.int64).reshape(-1)  # [full * 8 + k]: the k-th legal column


# reward by winner (-1 none, 0, 1, 2 draw): [(winner + 1) * 2 + agent seat], self-play [winner + 1]
_AGENT_REWARD = np.array([0.0, 0.0, 1.0, -1.0, -1.0, 1.0, 0.0, 0.0])
_SELF_PLAY_REWARD = np.array([0.0, 1.0, 1.0, 0.0])


def _c4_full(occ: np.ndarray) -> np.ndarray:
    """Bit c set where column c is full, for each board (uint64, 0..127; numpy indexes with it)."""
    return (((occ & _C4_TOPMASK) * _C4_MAGIC) >> _U(41)) & _U(127)


class ConnectFourVectorEnv(_BoardVectorEnv):
    """Connect Four over a batch; see the module doc.

    Each sub-env is a pair of uint64 bitboards (the discs of the side to move and of
    the other side, as ``connect_four.py`` lays them out), so a ply for the whole batch is
    a handful of numpy operations on ``num_envs``-long arrays: the landing cell is
    ``(occupied + bottom[col]) & column[col]``, four-in-a-row is two shifts per direction.
    Every sub-env steps in every call (finished ones reset instead: the next-step
    autoreset), so nothing is gathered into subsets; the random opponent's draws for a
    whole episode are hashed once when it starts.
    """

    num_actions = 7
    obs_shape = (3, 6, 7)
    _PERM = np.array([c * 7 + r for r in range(6) for c in range(7)], dtype=np.int64)

    def __init__(self, num_envs: int = 1, **kwargs):
        super().__init__(num_envs, **kwargs)

    def _init_boards(self, n):
        self._all_moving = False  # every sub-env moves in this ply (no masks needed)
        self.cur = np.zeros(n, dtype=_U)  # discs of the side to move
        self.oth = np.zeros(n, dtype=_U)
        self.eff = np.zeros(n, dtype=_U)  # this episode's seed

    @property
    def bits(self) -> np.ndarray:
        """(num_envs, 2) uint64: x's discs, o's discs."""
        x = np.where(self.player == 0, self.cur, self.oth)
        o = np.where(self.player == 0, self.oth, self.cur)
        return np.stack([x, o], axis=1)

    # the generic hooks (used by reset(options={"reset_mask": ...}) through _start)
    def _clear(self, idx):
        self.cur[idx] = 0
        self.oth[idx] = 0

    def _legal_mask(self, idx):
        occ = self.cur[idx] | self.oth[idx]
        return (occ[:, None] & _C4_TOPCELL) == 0

    def _start(self, idx):
        super()._start(idx)

    # ---- the batch step --------------------------------------------------------------
    def _begin(self, mask: np.ndarray) -> np.ndarray:
        """Start new episodes where ``mask``; returns where the opponent moves first."""
        sub = np.flatnonzero(mask)
        if not sub.size:
            return mask
        self.eff[sub] = eff = sd.episode_seed_np(self.base_seed[sub], self.episode[sub])
        self.key[sub] = sd.stream_key_np(eff)
        self.counter[mask] = 0
        if self.agent_player_arg is not None:
            self.agent[mask] = self.agent_player_arg
        elif not self.self_play:
            self.agent[mask] = (self.eff[mask] & _U(1)).astype(np.int64)
        self.cur[mask] = 0
        self.oth[mask] = 0
        self.player[mask] = 0
        self.winner[mask] = -1
        self.illegal[mask] = False
        self.plies[mask] = 0
        return mask & (self.agent == 1) if not self.self_play else np.zeros_like(mask)

    def _ply(self, cols: np.ndarray, moving: np.ndarray) -> None:
        """The side to move drops a disc in ``cols`` where ``moving`` (others stay put)."""
        cur, oth = self.cur, self.oth
        occ = cur | oth
        move = (occ + _C4_BOTTOM[cols]) & _C4_COLUMN[cols]
        if not self._all_moving:
            move *= moving
        b = cur | move
        bb = b[:, None]
        m = bb & (bb >> _C4_SHIFTS)
        # four-in-a-row in any of the 4 directions; a (n, 4) bool row viewed as one uint32
        # is nonzero exactly when one is True (cheaper than a reduction over axis 1)
        won = ((m & (m >> _C4_SHIFTS2)) != 0).view(np.uint32)[:, 0] != 0
        if np.count_nonzero(won) or np.count_nonzero(self.plies >= 41):
            filled = (occ | move) == _C4_FULL
            if not self._all_moving:  # a finished board that did not move keeps its result
                won &= moving
                filled &= moving
            self.winner = np.where(won, self.player, np.where(filled, 2, self.winner))
        # the side to move changes where a disc dropped
        if self._all_moving:
            self.cur, self.oth = oth, b
            self.player = 1 - self.player
            self.plies += 1
        else:
            self.cur = np.where(moving, oth, b)
            self.oth = np.where(moving, b, oth)
            self.player = self.player ^ moving
            self.plies += moving

    def _opponent_ply(self, moving: np.ndarray) -> None:
        if not np.count_nonzero(moving):
            return
        full = _c4_full(self.cur | self.oth)
        k = (sd.draw_u32_np(self.key, self.counter) * _C4_COUNT[full]) >> _U(32)
        cols = _C4_KTH[(full << _U(3)) + k]
        self._all_moving = np.count_nonzero(moving) == self.num_envs
        self.counter += moving
        self._ply(cols, moving)

    def reset(self, *, seed=None, options=None):
        n = self.num_envs
        options = dict(options or {})
        if "reset_mask" in options:
            return super().reset(seed=seed, options=options)
        if options:
            raise ValueError(f"options {sorted(options)}: the vector env takes only 'reset_mask'.")
        if seed is not None:
            seeds = [seed + i for i in range(n)] if isinstance(seed, (int, np.integer)) else list(seed)
            if len(seeds) != n:
                raise ValueError(f"seed: give one int or {n} of them, not {len(seeds)}.")
            self.base_seed[:] = np.array([sd.check_seed(s) for s in seeds], dtype=_U)
            self.episode[:] = 0
            self._seeded = True
        elif not self._seeded:
            self.base_seed[:] = [sd.fresh_seed() for _ in range(n)]
            self.episode[:] = 0
            self._seeded = True
        else:
            self.episode += 1
        first = self._begin(np.ones(n, dtype=bool))
        self._opponent_ply(first)
        self.done = np.zeros(n, dtype=bool)
        return self._obs_info()

    def _start(self, idx):  # reset_mask path: the same as _begin on a mask
        mask = np.zeros(self.num_envs, dtype=bool)
        mask[idx] = True
        self._opponent_ply(self._begin(mask))

    def step(self, actions):
        actions = np.asarray(actions)
        n = self.num_envs
        if actions.shape != (n,) or actions.dtype.kind not in "iu":
            raise InvalidAction(f"actions: give {n} ints (shape ({n},)), "
                                f"not an array of shape {actions.shape} and dtype {actions.dtype}.")
        resetting = self.done
        live = ~resetting
        if np.count_nonzero(actions.astype(np.uint64) >= 7):  # negatives wrap to huge
            bad = int(np.flatnonzero((actions < 0) | (actions >= 7))[0])
            if live[bad]:
                raise InvalidAction(f"action {int(actions[bad])} is outside 0..6 (sub-env {bad}).")
            actions = np.where(live, actions, 0)  # ignored: those sub-envs reset
        any_reset = np.count_nonzero(resetting) > 0
        if any_reset:
            self.episode += resetting
            first = self._begin(resetting)
        else:
            first = None
        legal = ((self.cur | self.oth) & _C4_TOPCELL[actions]) == 0
        reward = np.zeros(n, dtype=np.float64)
        all_legal = True
        if np.count_nonzero(legal | resetting) < n:
            lost = live & ~legal
            if self.illegal_action == "raise":
                i = int(np.flatnonzero(lost)[0])
                raise InvalidAction(f"action {int(actions[i])} is not legal in sub-env {i}; "
                                    "legal ones are where info['action_mask'] is 1.")
            self.illegal |= lost
            all_legal = False
            reward[lost] = -1.0
            live = live & legal
        self._all_moving = not any_reset and all_legal
        self._ply(actions, live)
        w = self.winner
        # (sub-envs that reset this step have winner -1: reward 0)
        if self.self_play:  # only the mover can have just won
            won = _SELF_PLAY_REWARD[w + 1]
        else:
            going = live & (w < 0)
            if self.max_plies is not None:
                going &= self.plies < self.max_plies
            self._opponent_ply(going if first is None else going | first)
            w = self.winner
            won = _AGENT_REWARD[(w + 1) * 2 + self.agent]
        reward = won if all_legal else reward + won
        terminated = (w >= 0) | self.illegal
        if self.max_plies is not None:
            truncated = ~terminated & (self.plies >= self.max_plies) & ~resetting
        else:
            truncated = np.zeros(n, dtype=bool)
        self.done = terminated | truncated
        obs, info = self._obs_info(terminated)
        return obs, reward, terminated, truncated, info

    def _obs_info(self, ended=None):
        n = self.num_envs
        w = self.winner
        if ended is None:
            ended = (w >= 0) | self.illegal
        if self.self_play:
            observer = np.where(w >= 0, 0, self.player)
        else:
            observer = self.agent
        own = self.player == observer
        cur, oth = self.cur, self.oth
        occ = cur | oth
        mine = np.where(own, cur, oth)
        trio = np.stack((mine, occ ^ mine, occ ^ _C4_FULL), axis=1)  # observer's, other's, empty
        bits = np.unpackbits(trio.view(np.uint8).reshape(n, 3, 8), axis=2, bitorder="little")
        board = bits[:, :, self._PERM]
        # a column is legal while its top cell (row 5 of the empty plane) is empty
        mask = board[:, 2, 35:42].copy().view(np.int8)
        board = board.astype(np.float32)
        any_ended = np.count_nonzero(ended)
        if any_ended:
            mask[ended] = 0
        yes = np.ones(n, dtype=bool)
        info = {"action_mask": mask, "_action_mask": yes, "to_play": np.where(ended, -1, self.player),
                "_to_play": yes, "plies": self.plies.copy(), "_plies": yes}
        if any_ended:  # outcome and illegal only for the sub-envs whose episode ended
            ref = self.agent if not self.self_play else 0
            outcome = np.where((w == 0) | (w == 1), np.where(w == ref, 1, -1), 0)
            if np.count_nonzero(self.illegal):
                outcome = np.where(self.illegal, -1 if not self.self_play else np.where(self.player == 0, -1, 1),
                                   outcome)
            info.update(outcome=outcome, _outcome=ended, illegal=self.illegal.copy(), _illegal=ended.copy())
        return {"observation": board.reshape(n, 3, 6, 7), "action_mask": mask}, info


def _hex_plane_table() -> np.ndarray:
    table = np.zeros(192, dtype=np.int8)
    for observer in (0, 1):
        for stone in (0, 1, 2):
            for flags in range(32):
                if stone == 0:
                    plane = 4
                elif stone == 1:
                    plane = 8 if flags & 16 else 7 if flags & 1 else 6 if flags & 2 else 5
                else:
                    plane = 0 if flags & 16 else 1 if flags & 4 else 2 if flags & 8 else 3
                table[observer * 96 + stone * 32 + flags] = 8 - plane if observer == 1 else plane
    return table


_HEX_PLANE = _hex_plane_table()
_HEX_NINE = np.arange(9, dtype=np.int8)[None, :, None, None]


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

    _DIRS = ((-1, 0), (1, 0), (0, -1), (0, 1), (-1, 1), (1, -1))

    def _play(self, idx, actions):
        s = self.size
        p = self.player[idx]
        r, c = np.divmod(actions, s)
        colour = (p + 1).astype(np.int8)
        self.stone[idx, r, c] = colour
        self.plies[idx] += 1
        # the new stone's flags: its own edges and its same-colour neighbours'
        own = np.where(p == 0, np.where(r == 0, 1, 0) | np.where(r == s - 1, 2, 0),
                       np.where(c == 0, 4, 0) | np.where(c == s - 1, 8, 0)).astype(np.int8)
        fl = own
        neighbour_flags = []
        for dr, dc in self._DIRS:
            rr, cc = r + dr, c + dc
            ok = (rr >= 0) & (rr < s) & (cc >= 0) & (cc < s)
            rr, cc = np.clip(rr, 0, s - 1), np.clip(cc, 0, s - 1)
            same = ok & (self.stone[idx, rr, cc] == colour)
            nf = np.where(same, self.flags[idx, rr, cc], -1).astype(np.int8)  # -1: no same-colour stone
            neighbour_flags.append(nf)
            fl = fl | np.where(same, nf, 0).astype(np.int8)
        full = np.where(p == 0, 3, 12)
        won = (fl & full) == full
        self.flags[idx, r, c] = np.where(won, fl | 16, fl)
        self.winner[idx] = np.where(won, p, -1)
        self.player[idx] = 1 - p
        # flood the new flags through the groups the stone joined, only where some joined
        # group lacks one of them (no need once the game is won)
        grow = np.zeros(idx.size, dtype=bool)
        for nf in neighbour_flags:
            grow |= (nf >= 0) & (nf != fl)
        grow &= ~won
        if np.count_nonzero(grow):
            g = idx[grow]
            stones = self.stone[g] == colour[grow][:, None, None]
            reach = np.zeros_like(stones)
            reach[np.arange(g.size), r[grow], c[grow]] = True
            while True:
                nxt = self._dilate(reach) & stones & ~reach
                if not np.count_nonzero(nxt):
                    break
                reach |= nxt
            self.flags[g] = np.where(reach, self.flags[g] | fl[grow][:, None, None], self.flags[g])

    def _observe(self, observer):
        # OpenSpiel's plane of each cell (from x's side): 4 empty; x 5 plain, 6 south,
        # 7 north, 8 win; o 3 plain, 2 east, 1 west, 0 win; reversed for o's side
        code = self.stone.astype(np.int64) * 32 + self.flags
        code += (observer * 96)[:, None, None]
        plane = _HEX_PLANE[code]
        out = (plane[:, None] == _HEX_NINE).astype(np.float32)
        return out
