"""The adversarial battery: policies that never try the task must not succeed.

Every reward in palaestra is optimised against (RL, DPO, search). :func:`check_adversarial`
plays, through the text view an LLM agent uses, policies that an optimiser finds first:

- ``constant``: the same action every step;
- ``repeat-last``: a random first action, then that action again and again;
- ``random``: random actions (legal where enumerable, else the env's ``sample_action``);
- ``shotgun``: an answer that lists every plausible value, from the env's optional hook
  ``shotgun_actions() -> list[str]`` (text actions) or the caller's ``shotgun``; skipped
  with the reason when neither exists;
- ``off-task``: leave the task (browser envs: ``goto`` another page, ``go_back()``), then
  act at random; from the env's optional hook ``off_task_actions() -> list[str]``, the
  caller's ``off_task``, or ``goto("/")`` where the grammar has ``goto``;
- ``invalid``: the env's own invalid-action path (text that does not parse), until the
  view truncates the episode.

Each is played on several seeds; its success count must not exceed what the env's
:class:`~palaestra.testing.bounds.ChanceBound` allows (a one-sided binomial test). The
shotgun, off-task and invalid policies are held to the strict bound in every env: no
chance excuses them. A new
env gets the battery for free and the strict bound unless it states another.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable

import gymnasium as gym

from .bounds import STRICT, ChanceBound, beyond_chance, chance_bound
from .policies import as_text, random_native

POLICIES = ("constant", "repeat-last", "random", "shotgun", "off-task", "invalid")
#: policies no chance excuses: listing every value, leaving the task or invalid actions never pay
ALWAYS_STRICT = ("shotgun", "off-task", "invalid")
STRICT_BOUND = ChanceBound(0.0, f"{STRICT.reason}; listing every value, leaving the task and invalid actions "
                                "are never excused by chance")

INVALID_TEXTS = ("", "\x00", "do nothing please", "}{", "click(")


@dataclass
class PolicyResult:
    policy: str
    episodes: int = 0
    successes: int = 0
    total_return: float = 0.0
    skipped: str = ""  # the reason, when the policy does not apply to the env


@dataclass
class BatteryReport:
    env_id: str
    bound: ChanceBound
    results: dict[str, PolicyResult] = field(default_factory=dict)

    def summary(self) -> str:
        parts = []
        for r in self.results.values():
            parts.append(f"{r.policy}: skipped ({r.skipped})" if r.skipped
                         else f"{r.policy}: {r.successes}/{r.episodes} successes")
        return "; ".join(parts)


class _Constant:
    def __init__(self, text: str):
        self.text = text

    def start(self, base, rng):
        pass

    def __call__(self, base, rng):
        return self.text


class _RepeatLast:
    def start(self, base, rng):
        self.text = as_text(base, random_native(base, rng))

    def __call__(self, base, rng):
        return self.text


class _Random:
    def start(self, base, rng):
        pass

    def __call__(self, base, rng):
        return as_text(base, random_native(base, rng))


class _Script:
    """Plays ``texts(base)`` in order, then random actions (``then_random``) or nothing. An item
    may be a callable ``fn(base) -> str``, called when its turn comes (e.g. to read an element
    id from the page the script has reached)."""

    def __init__(self, texts: Callable, then_random: bool):
        self.texts, self.then_random = texts, then_random

    def start(self, base, rng):
        self.queue = list(self.texts(base))

    def __call__(self, base, rng):
        if self.queue:
            item = self.queue.pop(0)
            return item(base) if callable(item) else item  # a callable reads the page it is on
        return as_text(base, random_native(base, rng)) if self.then_random else None


class _Invalid:
    def start(self, base, rng):
        self.i = 0

    def __call__(self, base, rng):
        self.i += 1
        return INVALID_TEXTS[self.i % len(INVALID_TEXTS)]


def _hook(base, name: str):
    """The env's optional hook ``name()`` as ``fn(base) -> list[str]`` (None if absent)."""
    fn = getattr(base, name, None)
    if not callable(fn):
        return None
    return lambda env: fn()


def _play(tenv, policy, seed: int, steps: int) -> tuple[bool, float]:
    base = tenv.unwrapped
    rng = random.Random(seed)
    _, info = tenv.reset(seed=seed)
    policy.start(base, rng)
    ret, success = 0.0, False
    for _ in range(steps):
        text = policy(base, rng)
        if text is None:
            break
        _, reward, term, trunc, info = tenv.step(text)
        ret += float(reward)
        if term or trunc:
            break
    success = bool(info.get("success", False))
    return success, ret


def check_adversarial(
    env_id: str,
    *,
    seeds: tuple[int, ...] = tuple(range(6)),
    steps: int = 12,
    bound: ChanceBound | None = None,
    shotgun: Callable | None = None,
    off_task: Callable | None = None,
    policies: tuple[str, ...] = POLICIES,
    alpha: float = 0.01,
    **kwargs,
) -> BatteryReport:
    """Play the battery on ``env_id`` (made with ``kwargs``, text view) and check the bound.

    ``shotgun`` / ``off_task``: ``fn(base_env) -> list`` of text actions (or callables
    ``fn(base_env) -> str`` evaluated in turn), used where the env has no
    ``shotgun_actions`` / ``off_task_actions`` hook. Raises ``AssertionError``
    naming the policy, its success count and the bound; returns a :class:`BatteryReport`.
    """
    bound = bound or chance_bound(env_id)
    report = BatteryReport(env_id, bound)
    tenv = gym.make(env_id, text=True, **kwargs)
    base = tenv.unwrapped
    try:
        tenv.reset(seed=seeds[0])
        constant = as_text(base, random_native(base, random.Random(0)))
        shot = _hook(base, "shotgun_actions") or shotgun
        leave = _hook(base, "off_task_actions") or off_task
        if leave is None and "goto(" in (base.instructions or ""):
            def leave(_base):
                return ['goto("/")', "go_back()"]
        makers = {
            "constant": lambda: _Constant(constant),
            "repeat-last": _RepeatLast,
            "random": _Random,
            "shotgun": (lambda: _Script(shot, then_random=False)) if shot else None,
            "off-task": (lambda: _Script(leave, then_random=True)) if leave else None,
            "invalid": _Invalid,
        }
        skipped = {
            "shotgun": "the env has no free-text answer candidates (no shotgun_actions hook)",
            "off-task": "the env has no page or place to leave (no off_task_actions hook, no goto)",
        }
        failures = []
        for name in policies:
            result = PolicyResult(name)
            report.results[name] = result
            make = makers[name]
            if make is None:
                result.skipped = skipped[name]
                continue
            # the invalid path runs until the view truncates (max_invalid, 10 by default)
            n_steps = max(steps, 12) if name == "invalid" else steps
            for seed in seeds:
                ok, ret = _play(tenv, make(), seed, n_steps)
                result.episodes += 1
                result.successes += int(ok)
                result.total_return += ret
            this = STRICT_BOUND if name in ALWAYS_STRICT else bound
            if beyond_chance(result.successes, result.episodes, this, alpha):
                failures.append(
                    f"policy {name!r} succeeded in {result.successes} of {result.episodes} episodes, "
                    f"beyond the chance bound {this.rate:.2f} ({this.reason})"
                )
            if name == "invalid" and result.total_return != 0:
                failures.append(f"invalid actions earned a return of {result.total_return}")
        assert not failures, f"{env_id} pays a policy that does not try the task: " + "; ".join(failures)
    finally:
        tenv.close()
    return report
