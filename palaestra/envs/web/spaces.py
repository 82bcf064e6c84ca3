"""The text action space of the web envs: any string, sampling a valid action."""

from __future__ import annotations

import random

from palaestra.core import FreeText


class WebActionSpace(FreeText):
    """``FreeText`` whose ``sample()`` draws a valid action of its env (as LegalDiscrete).

    Any string is in the space; strings the env cannot do raise ``InvalidAction``.
    Gymnasium's checker and random baselines call ``sample()`` and get a doable action.
    """

    def __init__(self, sample_fn=None, max_length: int = 4096, seed=None):
        super().__init__(max_length=max_length, seed=seed)
        self._sample_fn = sample_fn

    def sample(self, mask=None, probability=None):
        if mask is None and self._sample_fn is not None:
            seed = int(self.np_random.integers(2**31))
            action = self._sample_fn(random.Random(seed))
            if action is not None:
                return action
        return super().sample(mask=mask)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_sample_fn"] = None
        return state
