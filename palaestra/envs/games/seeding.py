"""Cheap, reproducible random streams for the games (scalar and numpy-batched alike).

A game episode is fixed by one 63-bit *episode seed*: ``reset(seed=s)`` starts episode 0
with seed ``s``; each later ``reset()`` continues that stream with episode seed
``episode_seed(s, k)``. The opponent's k-th random draw in an episode is
``draw_u32(stream_key(episode seed), k)``; nothing else (no ``random.Random``, no
numpy ``Generator``) is built per reset. The vectorized envs compute the same numbers
over a batch with numpy ``uint64``, so that a vector env and single envs seeded alike
play the same games move for move.
"""

from __future__ import annotations

import os

import numpy as np

MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_STREAM = 0xD1B54A32D192ED03


def splitmix64(x: int) -> int:
    z = (x + _GOLDEN) & MASK64
    z = ((z ^ (z >> 30)) * _M1) & MASK64
    z = ((z ^ (z >> 27)) * _M2) & MASK64
    return z ^ (z >> 31)


def check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed={seed!r}: give a non-negative int (or None).")
    return int(seed)


def fresh_seed() -> int:
    """A seed from OS entropy, for a first ``reset()`` without one."""
    return int.from_bytes(os.urandom(8), "little") >> 1


MASK63 = (1 << 63) - 1


def episode_seed(seed: int, episode: int) -> int:
    """The seed of the ``episode``-th episode (0-based) after ``reset(seed=seed)``: a Weyl
    sequence (odd step), so it alternates parity (the agent's seat by seed parity) and
    sub-envs seeded ``s + i`` never share an episode; the opponent's stream is then
    hashed from it (``stream_key``)."""
    return (seed + episode * _GOLDEN) & MASK63


def stream_key(eff_seed: int) -> int:
    """Where an episode's stream starts (each draw is hashed again by ``splitmix64``)."""
    return ((eff_seed ^ _STREAM) * _M2) & MASK64


def draw_u32(key: int, counter: int) -> int:
    """The counter-th 32-bit draw of the stream ``key``: a Weyl sequence through one
    xorshift-multiply round of splitmix64's finalizer (cheap enough to run per ply over a
    numpy batch; plenty for a random opponent, not for cryptography)."""
    z = (key + counter * _GOLDEN) & MASK64
    return (((z ^ (z >> 31)) * _M1) & MASK64) >> 32


def draw_index(key: int, counter: int, n: int) -> int:
    """The counter-th uniform draw in range(n) of the stream ``key``."""
    return (draw_u32(key, counter) * n) >> 32


class StreamRNG:
    """The opponent's generator: ``randrange(n)`` from a counter-based stream.

    Its state is two ints, so snapshots stay tiny and restoring one is exact.
    """

    __slots__ = ("counter", "key")

    def __init__(self, key: int = 0, counter: int = 0):
        self.key, self.counter = key, counter

    def randrange(self, n: int) -> int:
        if n <= 0 or n >= 1 << 32:
            raise ValueError(f"randrange({n}): n must be in 1..2**32-1")
        z = (self.key + self.counter * _GOLDEN) & MASK64
        self.counter += 1
        return (((((z ^ (z >> 31)) * _M1) & MASK64) >> 32) * n) >> 32

    def getstate(self):
        return (self.key, self.counter)

    def setstate(self, state) -> None:
        self.key, self.counter = state


# ---- numpy versions (uint64 arithmetic wraps modulo 2**64, as splitmix64 needs) ------
def splitmix64_np(x: np.ndarray) -> np.ndarray:
    z = x + np.uint64(_GOLDEN)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_M1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_M2)
    return z ^ (z >> np.uint64(31))


def episode_seed_np(seed: np.ndarray, episode: np.ndarray) -> np.ndarray:
    return (seed + episode.astype(np.uint64) * np.uint64(_GOLDEN)) & np.uint64(MASK63)


def stream_key_np(eff: np.ndarray) -> np.ndarray:
    return (eff ^ np.uint64(_STREAM)) * np.uint64(_M2)


def draw_u32_np(key: np.ndarray, counter: np.ndarray) -> np.ndarray:
    """``draw_u32`` over arrays (uint64 in, uint64 values < 2**32 out)."""
    z = key + counter.astype(np.uint64, copy=False) * np.uint64(_GOLDEN)
    return ((z ^ (z >> np.uint64(31))) * np.uint64(_M1)) >> np.uint64(32)


def draw_index_np(key: np.ndarray, counter: np.ndarray, n: np.ndarray) -> np.ndarray:
    return ((draw_u32_np(key, counter) * n.astype(np.uint64)) >> np.uint64(32)).astype(np.int64)
