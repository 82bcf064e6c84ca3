"""The contracts every palaestra env and agent keeps (see docs/architecture.md)."""

from .env import PalaestraEnv
from .errors import InvalidAction, MissingDependency, PalaestraError, require
from .planning import AgentSideEnv, ScorerOnly, shares_state
from .spaces import FreeText, LegalDiscrete, mask_from_legal
from .task import Task

__all__ = [
    "PalaestraEnv",
    "AgentSideEnv",
    "ScorerOnly",
    "shares_state",
    "InvalidAction",
    "MissingDependency",
    "PalaestraError",
    "require",
    "FreeText",
    "LegalDiscrete",
    "mask_from_legal",
    "Task",
]
