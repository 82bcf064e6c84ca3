"""Gymnasium spaces for the language view."""

from __future__ import annotations

import string

import numpy as np
from gymnasium.spaces import Discrete, Text


class FreeText(Text):
    """A ``gymnasium.spaces.Text`` that contains any ``str`` up to ``max_length``.

    Gymnasium's ``Text`` only contains strings over its charset (alphanumerics by
    default), which rejects boards, JSON and unicode. Observations and actions of the
    language view are arbitrary text, so membership only checks type and length;
    sampling still draws from a printable charset.
    """

    def __init__(self, max_length: int = 1 << 20, *, min_length: int = 0, seed=None):
        super().__init__(
            max_length=max_length,
            min_length=min_length,
            charset=string.printable,
            seed=seed,
        )

    def contains(self, x) -> bool:
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length

    def __repr__(self) -> str:
        return f"FreeText({self.min_length}, {self.max_length})"

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, FreeText)
            and self.min_length == other.min_length
            and self.max_length == other.max_length
        )


def mask_from_legal(n: int, legal) -> np.ndarray:
    mask = np.zeros(n, dtype=np.int8)
    mask[list(legal)] = 1
    return mask


class LegalDiscrete(Discrete):
    """``Discrete`` whose ``sample()`` draws a legal action of its env by default.

    Illegal native actions raise ``InvalidAction``, so ``env.action_space.sample()``
    (as Gymnasium's checker and many training loops call it) should give a legal one.
    Pass an explicit ``mask`` to override. Pickles as a plain ``Discrete``.
    """

    def __init__(self, n: int, legal_fn=None, seed=None):
        super().__init__(n, seed=seed)
        self._legal_fn = legal_fn

    def sample(self, mask=None, probability=None):
        if mask is None and probability is None and self._legal_fn is not None:
            legal = self._legal_fn()
            if legal:
                mask = np.zeros(self.n, dtype=np.int8)
                mask[list(legal)] = 1
        return super().sample(mask=mask, probability=probability)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_legal_fn"] = None
        return state
