"""The contract kit rejects broken envs: each small env below breaks one rule, and the kit
must say so. A well-behaved env (``Pick``) passes every check, so the kit is not simply
rejecting everything."""

from __future__ import annotations

import random
import re

import gymnasium as gym
import numpy as np
import pytest

from palaestra.core import AgentSideEnv, FreeText, InvalidAction, PalaestraEnv, Task
from palaestra.testing import (
    STRICT,
    ChanceBound,
    chance_bound,
    check_adversarial,
    check_env_contract,
    check_hostile,
    check_reward_access,
    check_success_statement,
)
from palaestra.testing.bounds import beyond_chance, binomial_tail
from palaestra.wrappers import TextInterface

N = 10_000  # words in the vocabulary: a blind guess succeeds 3 times in 10,000


def word(i: int) -> str:
    letters = "bcdfghjklm"
    return "".join(letters[int(d)] for d in f"{i:04d}")


class _Picking(PalaestraEnv):
    """Pick the word the goal names, in at most three tries."""

    instructions = "Pick the word the goal names: pick[word]. Three tries."
    tries = 3

    def __init__(self, render_mode=None):
        super().__init__(render_mode)
        self.action_space = gym.spaces.Discrete(N)
        self.observation_space = gym.spaces.Discrete(N)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.target = int(self.np_random.integers(N))
        self.picks: list[int] = []
        self.done = False
        self.task = Task(id=f"pick:{self.target}", goal=f"pick {word(self.target)}", validator=self.validate,
                         oracle=lambda env: [env.target])
        return self.target, self.info()

    @staticmethod
    def validate(env):
        won = env.target in env.picks
        return float(won), env.done, {}

    def success(self) -> bool:
        return self.target in self.picks

    def info(self) -> dict:
        info = {"task_id": self.task.id}
        if self.done:
            info["success"] = self.success()
        return info

    def step(self, action):
        self.check_action(action)
        if self.done:
            raise InvalidAction("the episode is over; call reset().")
        self.picks.append(int(action))
        won = int(action) == self.target
        self.done = won or len(self.picks) >= self.tries
        return self.target, float(won), self.done, False, self.info()

    def render_text(self) -> str:
        return f"Goal: pick {word(self.target)}. Picked: {[word(p) for p in self.picks]}"

    def parse_action(self, text: str):
        m = re.fullmatch(r"\s*pick\[([a-z]{4})\]\s*", text)
        if not m:
            raise InvalidAction(f"{text[:40]!r} is not pick[word]; e.g. pick[{word(0)}].")
        letters = "bcdfghjklm"
        if any(ch not in letters for ch in m.group(1)):
            raise InvalidAction(f"{m.group(1)!r} is not a word here (letters {letters}).")
        return int("".join(str(letters.index(ch)) for ch in m.group(1)))

    def format_action(self, action) -> str:
        return f"pick[{word(int(action))}]"

    def get_state(self):
        return {"target": self.target, "picks": list(self.picks), "done": self.done}

    def set_state(self, state) -> None:
        self.target, self.picks, self.done = state["target"], list(state["picks"]), state["done"]
        self.task = Task(id=f"pick:{self.target}", goal=f"pick {word(self.target)}", validator=self.validate,
                         oracle=lambda env: [env.target])


class Pick(_Picking):
    """The well-behaved env."""

    reward_access = "rules"  # the goal names the word: the reward follows from what the agent sees


# ---- broken variants: each breaks one rule ---------------------------------------------
class Lenient(Pick):
    """Silently maps an action outside the space to a legal one."""

    def step(self, action):
        try:
            action = int(action) % N
        except (TypeError, ValueError):
            action = 0
        return super().step(action)


class NoSuccessAtEnd(Pick):
    def info(self) -> dict:
        return {"task_id": self.task.id}


class WrongMask(Pick):
    """Its mask marks every word, but only the first ten are legal."""

    def legal_actions(self):
        return list(range(10))

    def info(self) -> dict:
        return {**super().info(), "action_mask": np.ones(N, dtype=np.int8)}


class PaysOnGivingUp(Pick):
    """Counts running out of tries as a success: any policy wins."""

    def success(self) -> bool:
        return True

    @staticmethod
    def validate(env):
        return 1.0, env.done, {}


class TwoStatements(Pick):
    """Step says success on a near miss; ``validate`` wants the exact word."""

    def success(self) -> bool:
        return any(abs(p - self.target) <= 1 for p in self.picks)


class Answers(Pick):
    """Free-text answers graded by substring: an answer listing every word passes."""

    def __init__(self, render_mode=None):
        super().__init__(render_mode)
        self.action_space = FreeText(1 << 16)

    def parse_action(self, text: str):
        if not text.startswith("answer: "):
            raise InvalidAction("answer: <word>")
        return text

    def format_action(self, action) -> str:
        return str(action)

    def sample_action(self, rng):
        return "answer: " + word(rng.randrange(N))

    def step(self, action):
        if not isinstance(action, str) or not action.startswith("answer: "):
            raise InvalidAction("answer: <word>")
        self.done = True
        won = word(self.target) in action
        self.picks.append(self.target if won else (self.target + 1) % N)
        return self.target, float(won), True, False, self.info()

    def shotgun_actions(self) -> list[str]:
        return ["answer: " + " ".join(word(i) for i in range(N))]


class Site(Pick):
    """A site with a task page and a home page; the reward is read from the page the agent is
    on, so leaving the task for the home page's one button pays."""

    instructions = 'click(i) on the current page, goto("/path").'

    def reset(self, *, seed=None, options=None):
        self.page = "/task"
        return super().reset(seed=seed, options=options)

    def parse_action(self, text: str):
        m = re.fullmatch(r'goto\("(/[a-z]*)"\)', text.strip())
        if m:
            return ("goto", m.group(1))
        m = re.fullmatch(r"click\((\d{1,4})\)", text.strip())
        if m:
            return ("click", int(m.group(1)))
        raise InvalidAction('click(i) or goto("/path")')

    def format_action(self, action) -> str:
        return f'goto("{action[1]}")' if action[0] == "goto" else f"click({action[1]})"

    def sample_action(self, rng):
        return ("click", 0 if self.page == "/" else rng.randrange(N))

    def step(self, action):
        if action[0] == "goto":
            self.page = action[1]
            return self.target, 0.0, False, False, self.info()
        if self.page == "/":  # the home page's Start button "wins" whatever the task was
            self.picks.append(self.target)
            self.done = True
            return self.target, 1.0, True, False, self.info()
        return super().step(action[1])

    def get_state(self):
        return {**super().get_state(), "page": self.page}

    def set_state(self, state) -> None:
        super().set_state(state)
        self.page = state["page"]


class Undeclared(_Picking):
    """Inherits PalaestraEnv's default reward_access: not a deliberate declaration."""


class HiddenPlansOnTruth(Pick):
    """A hidden-reward env whose planning view is the env itself."""

    reward_access = "hidden"

    def planning_env(self, *, true_reward: bool = False):
        return self


class HiddenLeaks(Pick):
    """A hidden-reward env whose planning view passes the scorer's success on."""

    reward_access = "hidden"

    def planning_env(self, *, true_reward: bool = False):
        env = self

        class Leaky(AgentSideEnv):
            def step(self, action):
                return env.step(action)

        return Leaky(self)


class HiddenFair(Pick):
    reward_access = "hidden"


class Crashes(Pick):
    """Encodes the text without a thought for lone surrogates."""

    def parse_action(self, text: str):
        text.encode("utf-8")
        return super().parse_action(text)


class Slow(Pick):
    """Parsing costs time in proportion to the input: a megabyte takes seconds."""

    def parse_action(self, text: str):
        total = 0
        for ch in text[:200_000]:
            for _ in range(200):
                total += 1
        return super().parse_action(text)


def _register(cls) -> str:
    env_id = f"kit-test/{cls.__name__}-v0"

    def factory(text: bool = False, max_invalid: int | None = 10, **kwargs):
        env = cls(**kwargs)
        return TextInterface(env, max_invalid=max_invalid) if text else env

    if env_id not in gym.registry:
        gym.register(id=env_id, entry_point=factory)
    return env_id


# ---- the good env passes ---------------------------------------------------------------
def test_a_well_behaved_env_passes_every_check():
    env_id = _register(Pick)
    report = check_env_contract(env_id, fuzz_examples=60)
    assert "bad native actions" in report.checks and "check_env text" in report.checks
    battery = check_adversarial(env_id)
    assert battery.results["random"].episodes == 6 and battery.results["shotgun"].skipped
    assert check_success_statement(env_id) >= 8  # oracle and random episodes on four seeds
    assert check_reward_access(env_id) == "rules"
    hostile = check_hostile(env_id)
    assert hostile.inputs > 30 and hostile.invalid == hostile.inputs
    assert check_reward_access(_register(HiddenFair)) == "hidden"


# ---- and each broken one is rejected ---------------------------------------------------
def test_kit_rejects_an_env_that_maps_a_bad_native_action_to_a_legal_one():
    with pytest.raises(AssertionError, match="accepted the invalid native action"):
        check_env_contract(_register(Lenient), fuzz_examples=20, skip_check_env=True)


def test_kit_rejects_an_episode_end_without_success():
    with pytest.raises(AssertionError, match="'success' at the episode's end"):
        check_env_contract(_register(NoSuccessAtEnd), fuzz_examples=20, skip_check_env=True)


def test_kit_rejects_a_mask_that_is_not_the_legal_actions():
    with pytest.raises(AssertionError, match="action mask marks"):
        check_env_contract(_register(WrongMask), fuzz_examples=20, skip_check_env=True)


def test_battery_rejects_an_env_that_pays_for_giving_up():
    with pytest.raises(AssertionError, match="policy 'constant' succeeded in 6 of 6"):
        check_adversarial(_register(PaysOnGivingUp))


def test_battery_rejects_a_shotgun_answer_that_passes():
    with pytest.raises(AssertionError, match="policy 'shotgun' succeeded"):
        check_adversarial(_register(Answers))


def test_battery_rejects_a_reward_read_from_a_page_the_agent_chose():
    report = None
    with pytest.raises(AssertionError, match="policy 'off-task' succeeded") as err:
        report = check_adversarial(_register(Site))
    assert report is None and "'random'" not in str(err.value)  # only leaving the task pays


def test_success_statement_rejects_two_definitions_of_success():
    with pytest.raises(AssertionError, match="task.validate says False"):
        check_success_statement(_register(TwoStatements), seeds=tuple(range(12)))


def test_reward_access_must_be_declared_and_hidden_rewards_kept_from_search():
    assert Undeclared.reward_access == "rules"  # inherited default, not declared
    with pytest.raises(AssertionError, match="does not declare reward_access"):
        check_reward_access(_register(Undeclared))
    with pytest.raises(AssertionError, match="not an agent-side view"):
        check_reward_access(_register(HiddenPlansOnTruth))
    with pytest.raises(AssertionError, match=r"info carries \['success'\]"):
        check_reward_access(_register(HiddenLeaks), seeds=(0, 1, 2))


def test_hostile_input_that_crashes_step_is_named():
    with pytest.raises(AssertionError, match="UnicodeEncodeError on hostile input"):
        check_hostile(_register(Crashes))


def test_hostile_input_that_takes_seconds_fails_the_guard():
    with pytest.raises(AssertionError, match=r"(of CPU|hung) on hostile input \(long strings"):
        check_hostile(_register(Slow), per_family=1, cpu_limit_s=0.5, wall_limit_s=5.0)


# ---- the chance bounds ------------------------------------------------------------------
def test_chance_bounds_default_to_strict_and_are_stated_per_env():
    assert chance_bound("palaestra/NoSuchEnv-v0") is STRICT and STRICT.rate == 0.0
    assert chance_bound("palaestra/miniwob.click-test-v0").rate > 0
    assert chance_bound("palaestra/miniwob.click-test-v0").reason
    # the binomial tail against scipy's, and the one-sided decision
    from scipy.stats import binom

    for k, n, p in [(3, 6, 0.5), (5, 6, 0.25), (0, 6, 0.1), (9, 40, 0.3)]:
        assert binomial_tail(k, n, p) == pytest.approx(binom.sf(k - 1, n, p), abs=1e-12)
    assert beyond_chance(1, 6, STRICT)
    assert not beyond_chance(3, 6, ChanceBound(0.5, "coin"))
    assert beyond_chance(6, 6, ChanceBound(0.3, "x"))


def test_random_policy_draws_legal_actions_where_enumerable():
    from palaestra.testing.policies import random_native

    env = WrongMask()
    env.reset(seed=0)
    rng = random.Random(0)
    assert {random_native(env, rng) for _ in range(50)} <= set(range(10))


# ---- every registered id ---------------------------------------------------------------
# A new env gets every check below for free. Where an env (owned by its domain) fails a
# check today, the entry says which env and why, and the check is an xfail until the
# domain fixes it; remove the entry then.
import palaestra  # noqa: E402

ALL_IDS = list(palaestra.ENV_IDS)
GAMES = ("palaestra/ConnectFour-v0", "palaestra/Hex-v0", "palaestra/Chess-v0", "palaestra/Chess960-v0")
BROWSER = tuple(i for i in ALL_IDS if i.startswith("palaestra/miniwob."))

KNOWN = {
    "check_env": {
        "palaestra/WebShop-v0": "WebShop-v0: check_env's sample clicked a label of another page ('nothing labelled "
                                "[b075vu33vv]'), 2 of 20 runs (issue 16, web); not re-run since the web domain's fixes",
    },
}
#: known failures too slow to run in every suite (they still show as xfail, not run)
NOT_RUN: set[tuple[str, str]] = set()


def _params(check: str, ids, slow_ids=()):
    out = []
    for env_id in ids:
        marks = []
        if env_id in BROWSER:
            marks += [pytest.mark.slow, pytest.mark.browser]
        if env_id in slow_ids:
            marks.append(pytest.mark.slow)
        if env_id in KNOWN.get(check, {}):
            marks.append(pytest.mark.xfail(reason=KNOWN[check][env_id], strict=False,
                                           run=(check, env_id) not in NOT_RUN))
        out.append(pytest.param(env_id, marks=marks, id=env_id.removeprefix("palaestra/")))
    return out


def _tooluse_shotgun(base) -> list[str]:
    """Issue 13's shotgun: every status, every weekday, the refusal and ask phrases, 0-1000."""
    from palaestra.envs.tools.world import STATUSES

    days = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday"
    return ["answer: Sorry, I cannot do that. Which order, which date and time, which product, which "
            f"customer? {' '.join(STATUSES)} {days} " + " ".join(str(i) for i in range(1001))]


SHOTGUNS = {"palaestra/ToolUse-v0": _tooluse_shotgun}


def _click(pattern: str):
    """A text action clicking the element whose accessibility-tree line matches ``pattern``."""

    def action(base) -> str:
        m = re.search(pattern + r".*?\[id=(\d+)\]|\[id=(\d+)\]: " + pattern, base.render_text())
        return f"click({(m.group(1) or m.group(2)) if m else 0})"

    return action


def _off_task(env_id):
    if env_id == "palaestra/miniwob.click-test-v0":  # its own page: leave for the site root instead
        return lambda base: ['goto("/")']
    if env_id in BROWSER:  # leave for another task's page and solve that one, as issue 13 did
        return lambda base: ['goto("/miniwob/click-test.html")', _click("START"), _click('button "Click Me!"')]
    return None


@pytest.mark.parametrize("env_id", _params("battery", ALL_IDS))
def test_adversarial_battery(env_id):
    # browser steps take about a second: three seeds of six steps each (130 MiniWoB pages)
    budget = {"seeds": (0, 1, 2), "steps": 6} if env_id in BROWSER else {"seeds": tuple(range(6)), "steps": 12}
    report = check_adversarial(env_id, shotgun=SHOTGUNS.get(env_id), off_task=_off_task(env_id), **budget)
    played = [r for r in report.results.values() if not r.skipped]
    assert {"constant", "repeat-last", "random", "invalid"} <= {r.policy for r in played}
    assert all(r.episodes == len(budget["seeds"]) for r in played)
    if env_id in BROWSER:
        assert not report.results["off-task"].skipped


SUCCESS_KWARGS = {"palaestra/Chess-v0": {"max_plies": 40}, "palaestra/Chess960-v0": {"max_plies": 40}}
SUCCESS_STEPS = {"palaestra/Hex-v0": 130}


@pytest.mark.parametrize("env_id", _params("success", ALL_IDS))
def test_validate_is_the_single_statement_of_success(env_id):
    checked = check_success_statement(env_id, steps=SUCCESS_STEPS.get(env_id, 40), **SUCCESS_KWARGS.get(env_id, {}))
    assert checked >= 4


@pytest.mark.parametrize("env_id", _params("reward_access", ALL_IDS))
def test_reward_access_is_declared_and_hidden_rewards_stay_out_of_search(env_id):
    declared = check_reward_access(env_id)
    if env_id in GAMES:
        assert declared == "rules"
    else:  # goal attributes, gold calls, masks, gold facts: the scorer's alone
        assert declared == "hidden", f"{env_id}'s reward reads labels the agent does not see"


@pytest.mark.parametrize("env_id", _params("hostile", ALL_IDS))
def test_hostile_input_gives_an_error_observation_quickly(env_id):
    report = check_hostile(env_id)
    assert report.inputs >= 30


@pytest.mark.slow
@pytest.mark.parametrize("env_id", _params("check_env", ALL_IDS))
def test_gymnasium_check_env_passes_twenty_runs_in_a_row(env_id):
    from gymnasium.utils.env_checker import check_env

    failures = []
    for run in range(20):
        env = gym.make(env_id)
        try:
            check_env(env.unwrapped, skip_render_check=True)
        except Exception as exc:  # noqa: BLE001 - count every kind of failure
            failures.append(f"run {run}: {type(exc).__name__}: {exc!s:.200}")
        finally:
            env.close()
    assert not failures, f"{env_id}: gymnasium's check_env failed {len(failures)} of 20 runs:\n" + "\n".join(failures)
