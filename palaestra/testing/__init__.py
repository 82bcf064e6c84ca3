"""The contract kit: what every palaestra env must keep, as one import for every test.

- :func:`check_env_contract`: the Gymnasium API (gymnasium's ``check_env``, native and
  text), seeded determinism, snapshots, the text round trip, invalid native actions,
  the action mask, ``info["success"]`` at episode end, and fuzzed text actions;
- :func:`check_adversarial`: policies that do not try the task (constant, repeat-last,
  random, shotgun answers, leaving the task, invalid actions) succeed no more often
  than chance allows (:mod:`palaestra.testing.bounds`);
- :func:`check_success_statement`: ``Task.validate`` is the single statement of success;
- :func:`check_reward_access`: ``reward_access`` is declared, and hidden rewards stay
  out of ``planning_env()``;
- :func:`check_hostile`: huge numbers, deep nesting, long strings, lone surrogates and
  resource bombs give an error observation within 2 s of CPU.

``tests/test_contract_kit.py`` holds small broken envs that each of these must reject.
"""

from .battery import POLICIES, BatteryReport, check_adversarial
from .bounds import CHANCE_BOUNDS, STRICT, ChanceBound, chance_bound
from .contract import ContractReport, check_env_contract, check_step_info
from .hostile import FAMILIES, HostileReport, check_hostile, hostile_inputs
from .scoring import check_reward_access, check_success_statement, declared_reward_access

__all__ = [
    "CHANCE_BOUNDS",
    "FAMILIES",
    "POLICIES",
    "STRICT",
    "BatteryReport",
    "ChanceBound",
    "ContractReport",
    "HostileReport",
    "chance_bound",
    "check_adversarial",
    "check_env_contract",
    "check_hostile",
    "check_reward_access",
    "check_step_info",
    "check_success_statement",
    "declared_reward_access",
    "hostile_inputs",
]
