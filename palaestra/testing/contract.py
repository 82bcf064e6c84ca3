"""The env contract (docs/architecture.md, "contracts"): one call checks all of it.

Every domain's tests call :func:`check_env_contract`::

    from palaestra.testing import check_env_contract
    check_env_contract("palaestra/ConnectFour-v0")

It raises ``AssertionError`` naming the broken contract, and returns a small report.
"""

from __future__ import annotations

import pickle
import random
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import gymnasium as gym
import numpy as np

from palaestra.core import InvalidAction, PalaestraEnv
from palaestra.wrappers import TextInterface


@dataclass
class ContractReport:
    env_id: str
    checks: list[str] = field(default_factory=list)
    fuzz_examples: int = 0
    fuzz_valid: int = 0

    def ok(self, name: str) -> None:
        self.checks.append(name)


def _same(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b))
    return a == b


def _actions_equal(a, b) -> bool:
    return _same(a, b)


class _Policy:
    """Seeded choice of valid native actions: legal moves, else the oracle's plan."""

    def __init__(self, env: PalaestraEnv, rng: random.Random, sampler=None):
        self.env, self.rng, self.sampler = env, rng, sampler
        self.plan: list = []

    def start(self):
        task = self.env.task
        self.plan = []
        if self.env.legal_actions() is None and task is not None and task.has_oracle:
            self.plan = list(task.solve(self.env))

    def __call__(self):
        if self.sampler is not None:
            return self.sampler(self.env, self.rng)
        legal = self.env.legal_actions()
        if legal:
            return legal[self.rng.randrange(len(legal))]
        if self.plan:
            return self.plan.pop(0)
        return None


def _mask_of(obs, info):
    if isinstance(info, dict) and "action_mask" in info:
        return info["action_mask"]
    if isinstance(obs, dict) and "action_mask" in obs:
        return obs["action_mask"]
    return None


def check_step_info(base, obs, info, term: bool = False, trunc: bool = False) -> None:
    """The per-step contract: the action mask (where given) is exactly ``legal_actions()``;
    an episode's end carries ``info["success"]`` (a bool)."""
    mask = _mask_of(obs, info)
    if mask is not None:
        legal = base.legal_actions()
        marked = [int(i) for i in np.flatnonzero(np.asarray(mask))]
        expected = sorted(int(a) for a in (legal or []))
        assert marked == expected, (
            f"the action mask marks {marked[:20]} but legal_actions() is {expected[:20]}; "
            "build the mask from legal_actions()"
        )
    if term or trunc:
        assert isinstance(info, dict) and "success" in info, (
            "info must carry 'success' at the episode's end (terminated or truncated)"
        )
        assert isinstance(info["success"], (bool, np.bool_)), (
            f"info['success'] must be a bool, got {type(info['success']).__name__}"
        )


def _rollout(env, policy: _Policy, k: int):
    trace, actions = [], []
    base = env.unwrapped
    for _ in range(k):
        action = policy()
        if action is None:
            break
        obs, reward, term, trunc, info = env.step(action)
        check_step_info(base, obs, info, term, trunc)
        actions.append(action)
        trace.append((obs, float(reward), term, trunc, base.render_text()))
        if term or trunc:
            break
    return actions, trace


def _replay(env, actions):
    trace = []
    for action in actions:
        obs, reward, term, trunc, info = env.step(action)
        trace.append((obs, float(reward), term, trunc, env.unwrapped.render_text()))
    return trace


def check_env_contract(
    env_id: str,
    *,
    seeds: tuple[int, ...] = (0, 1),
    steps: int = 6,
    fuzz_examples: int = 1000,
    near_misses: list[str] | None = None,
    sampler: Callable[[PalaestraEnv, random.Random], Any] | None = None,
    skip_check_env: bool = False,
    **kwargs,
) -> ContractReport:
    """Check ``env_id`` (made with ``kwargs``) against every palaestra contract.

    - gymnasium's ``check_env`` on the native and the text view;
    - the same seed gives the same task and the same episode;
    - snapshots: ``get_state``, play, ``set_state``, replay gives identical
      observations, rewards and flags, also after pickling and in a fresh env;
    - ``parse_action(format_action(a)) == a`` for every legal action seen;
    - the action mask (``info`` or observation ``"action_mask"``) marks exactly
      ``legal_actions()``, and every episode end carries a bool ``info["success"]``;
    - native actions outside the space or not legal raise ``InvalidAction`` and change
      nothing: an env that maps them to a legal action (or crashes) fails;
    - ``fuzz_examples`` malformed text actions (hypothesis): never an exception, and a
      rejected action leaves the state unchanged.

    The adversarial battery, the success statement, ``reward_access`` and hostile input
    are separate checks (see :mod:`palaestra.testing`), run on every id by
    ``tests/test_contract_kit.py``.
    """
    from gymnasium.utils.env_checker import check_env

    report = ContractReport(env_id)
    env = gym.make(env_id, **kwargs)
    base = env.unwrapped
    try:
        assert isinstance(base, PalaestraEnv), f"{env_id} does not subclass PalaestraEnv"
        assert isinstance(base.instructions, str) and base.instructions.strip(), (
            f"{env_id} has no instructions"
        )
        env.reset(seed=seeds[0])
        if not skip_check_env:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*different from the unwrapped.*")
                check_env(_CheckerAdapter(base), skip_render_check=True)
            report.ok("check_env native")

        # same seed -> same episode; info keys
        traces = []
        for _ in range(2):
            obs, info = env.reset(seed=seeds[0])
            assert "task_id" in info, "info must carry task_id after reset"
            check_step_info(base, obs, info)
            policy = _Policy(base, random.Random(seeds[0]), sampler)
            policy.start()
            actions, trace = _rollout(env, policy, steps)
            traces.append((base.render_text(), actions, trace))
        assert _same(traces[0], traces[1]), "the same seed gave different episodes"
        report.ok("seeded determinism")

        # snapshot round trips
        for seed in seeds:
            env.reset(seed=seed)
            policy = _Policy(base, random.Random(seed), sampler)
            policy.start()
            prefix, ptrace = _rollout(env, policy, steps // 2)
            if ptrace and (ptrace[-1][2] or ptrace[-1][3]):
                env.reset(seed=seed)
                policy.start()
            state = base.get_state()
            blob = pickle.dumps(state)
            text_before = base.render_text()
            actions, trace = _rollout(env, policy, steps)
            base.set_state(state)
            assert base.render_text() == text_before, "set_state did not restore render_text()"
            assert _same(_replay(env, actions), trace), "replay after set_state differs"
            base.set_state(pickle.loads(blob))
            assert _same(_replay(env, actions), trace), "replay after a pickled state differs"
            fresh = gym.make(env_id, **kwargs)
            try:
                fresh.reset(seed=seed + 1000)
                fresh.unwrapped.set_state(pickle.loads(blob))
                assert fresh.unwrapped.render_text() == text_before, (
                    "a fresh env did not restore the snapshot"
                )
                assert _same(_replay(fresh, actions), trace), "replay in a fresh env differs"
            finally:
                fresh.close()
        report.ok("snapshot round trip")

        # format/parse round trip
        checked = 0
        for seed in seeds:
            env.reset(seed=seed)
            policy = _Policy(base, random.Random(seed), sampler)
            policy.start()
            for _ in range(steps):
                legal = base.legal_actions()
                if legal:
                    candidates = list(legal)
                elif policy.plan:
                    candidates = [policy.plan[0]]
                elif sampler is not None:
                    candidates = [sampler(base, random.Random(seed + checked))]
                else:
                    candidates = []
                for action in candidates:
                    text = base.format_action(action)
                    assert isinstance(text, str)
                    back = base.parse_action(text)
                    assert _actions_equal(back, action), (
                        f"parse_action(format_action({action!r})) gave {back!r} via {text!r}"
                    )
                    checked += 1
                action = policy()
                if action is None:
                    break
                _, _, term, trunc, _ = env.step(action)
                if term or trunc:
                    break
        assert checked > 0, "no action was available to round-trip"
        report.ok(f"text round trip ({checked} actions)")

        # native out-of-space and illegal actions raise InvalidAction: never a crash, never
        # silently mapped to a legal action, and the state stays as it was. The one other
        # accepted answer is PettingZoo classic's for an in-space illegal move: the episode
        # ends at once as a loss, saying so in info["illegal_action"].
        env.reset(seed=seeds[0])
        start_state = base.get_state()
        for bad in _bad_native_actions(base):
            base.set_state(start_state)
            before = base.render_text()
            try:
                result = base.step(bad)
            except InvalidAction:
                pass
            except Exception as exc:  # noqa: BLE001 - the kit names the crash
                raise AssertionError(
                    f"native action {bad!r} crashed step() with {type(exc).__name__}: {exc}; "
                    "an action outside the space or not legal must raise InvalidAction"
                ) from exc
            else:
                _, reward, term, _, info = result
                in_space = base.action_space.contains(bad) if not isinstance(bad, str) else False
                assert in_space and term and info.get("illegal_action") and not info.get("success") and reward <= 0, (
                    f"step() accepted the invalid native action {bad!r} (outside the action space or "
                    "not legal now): it must raise InvalidAction (or, for an in-space illegal move, end the "
                    "episode as a loss with info['illegal_action']), never map it to a legal action"
                )
                continue
            assert base.render_text() == before, f"rejected native action {bad!r} changed the state"
        base.set_state(start_state)
        report.ok("bad native actions")

        # fuzzing the text view
        _fuzz(env_id, kwargs, report, fuzz_examples, near_misses or [], seeds[0])
        report.ok("fuzz")

        # text view passes check_env too
        if not skip_check_env:
            tenv = gym.make(env_id, text=True, **kwargs)
            try:
                view = tenv
                while not isinstance(view, TextInterface):
                    view = view.env
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", message=".*different from the unwrapped.*")
                    check_env(view, skip_render_check=True)
            finally:
                tenv.close()
            report.ok("check_env text")
    finally:
        env.close()
    return report


class _CheckerAdapter(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """gymnasium's check_env samples actions before ``reset`` and without the mask; a
    stale sample that is illegal in the state reached is replaced by the first legal
    action, or by a fresh sample (illegal actions are checked separately below)."""

    def __init__(self, env):
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.Wrapper.__init__(self, env)

    def step(self, action):
        legal = self.env.unwrapped.legal_actions()
        if legal and action not in legal:
            action = legal[0]
        try:
            return self.env.step(action)
        except InvalidAction:
            # a sample drawn before reset may not fit the state reached; draw again now
            return self.env.step(self.env.action_space.sample())


def _contains(space, x) -> bool:
    try:
        return bool(space.contains(x))
    except Exception:  # noqa: BLE001 - a space that cannot even compare x does not contain it
        return False


def _bad_native_actions(base) -> list:
    space = base.action_space
    bad: list = [x for x in (None, "not an action", -1, 10**9, 1.5) if not _contains(space, x)]
    if isinstance(space, gym.spaces.Discrete):
        bad += [int(space.start + space.n), int(space.start) - 1]
        legal = base.legal_actions()
        if legal is not None:
            illegal = [a for a in range(int(space.start), int(space.start + space.n)) if a not in set(legal)]
            bad += illegal[:5]
    return bad


def _near_misses(base, extra: list[str]) -> list[str]:
    words = list(extra)
    legal = base.legal_actions() or []
    for action in legal[:20]:
        text = base.format_action(action)
        words += [text + "9", text[:-1], text.upper() + "!", " " + text + " x", text * 3, text[::-1]]
    return words


def _fuzz(env_id, kwargs, report, n, extra, seed):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    tenv = gym.make(env_id, text=True, max_invalid=None, **kwargs)
    base = tenv.unwrapped
    tenv.reset(seed=seed)
    start = base.get_state()
    misses = _near_misses(base, extra)
    strategy = st.one_of(
        st.text(max_size=40),
        st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=12),
        st.sampled_from(misses or [""]),
        st.builds(lambda a, b: a + b, st.sampled_from(misses or ["x"]), st.text(max_size=4)),
        st.just(""),
        st.just("x" * 100_000),
        st.just("\x00\n\t"),
        st.integers().map(str),
    )
    counts = {"n": 0, "valid": 0}

    @settings(
        max_examples=n,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def fuzz_one(text):
        counts["n"] += 1
        before = base.render_text()
        obs, reward, term, trunc, info = tenv.step(text)
        assert isinstance(obs, str)
        if "invalid_action" in info:
            assert base.render_text() == before, f"invalid action {text!r} changed the state"
            assert info["invalid_action"].strip(), "an invalid action needs an explanation"
        else:
            counts["valid"] += 1
            base.set_state(start)

    try:
        fuzz_one()
    finally:
        tenv.close()
    report.fuzz_examples = counts["n"]
    report.fuzz_valid = counts["valid"]
    assert counts["n"] >= min(n, 50), f"only {counts['n']} fuzz examples ran"
