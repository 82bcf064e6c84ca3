"""Env ids: every domain lists its envs in ``palaestra/envs/<domain>/ids.py``.

``ids.py`` files must import nothing heavy: they only name entry points, so that
``import palaestra`` stays fast and works without the optional extras.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym


def _domains() -> tuple[str, ...]:
    """Every package under ``palaestra/envs`` with an ``ids.py``: a new domain registers
    itself by adding that file."""
    import pkgutil

    import palaestra.envs as envs

    names = []
    for mod in pkgutil.iter_modules(envs.__path__):
        if mod.ispkg and not mod.name.startswith("_"):
            path = importlib.util.find_spec(f"palaestra.envs.{mod.name}.ids") if mod.ispkg else None
            if path is not None:
                names.append(mod.name)
    order = ("games", "web", "tools", "segmentation", "retrieval")  # the README's order first
    return tuple(sorted(names, key=lambda n: (order.index(n) if n in order else len(order), n)))


DOMAINS = _domains()


@dataclass
class EnvInfo:
    id: str
    entry: str  # "module:Class"
    description: str
    extra: str  # the pip extra the env needs
    kwargs: dict[str, Any] = field(default_factory=dict)
    max_episode_steps: int | None = None
    system: tuple[str, ...] = ()  # Debian packages it needs, e.g. ("chromium",)
    domain: str = ""  # the palaestra/envs package that registers it (filled in by all_env_infos)
    # False where the env itself refuses step() before reset() *or set_state()*
    # (gymnasium's OrderEnforcing only knows reset, so a restored snapshot raised ResetNeeded)
    order_enforce: bool = True
    # gymnasium's PassiveEnvChecker also assumes reset() came first (its first step
    # compares with the reset's data); such envs are checked with check_env in tests
    env_checker: bool = True
    # "module:Class" of a native batched env for gymnasium.make_vec(vectorization_mode="vector_entry_point")
    vector_entry: str | None = None


class EnvFactory:
    """Entry point for gymnasium: builds the env, wrapped in TextInterface if text=True."""

    def __init__(self, entry: str):
        self.entry = entry

    def __call__(self, text: bool = False, max_invalid: int | None = 10, **kwargs):
        module, _, name = self.entry.partition(":")
        cls = getattr(importlib.import_module(module), name)
        env = cls(**kwargs)
        if text:
            from palaestra.wrappers import TextInterface

            env = TextInterface(env, max_invalid=max_invalid)
        return env

    def __reduce__(self):
        return (EnvFactory, (self.entry,))

    def __repr__(self) -> str:
        return f"EnvFactory({self.entry!r})"


def all_env_infos() -> list[EnvInfo]:
    infos: list[EnvInfo] = []
    for domain in DOMAINS:
        try:
            mod = importlib.import_module(f"palaestra.envs.{domain}.ids")
        except ModuleNotFoundError as exc:
            if exc.name in (f"palaestra.envs.{domain}", f"palaestra.envs.{domain}.ids"):
                continue  # the domain is not part of this install
            raise
        found = mod.env_infos() if hasattr(mod, "env_infos") else mod.ENVS
        for info in found:
            info.domain = info.domain or domain
        infos.extend(found)
    return infos


def domain_agents() -> dict[str, str]:
    """Agent names that domains add (e.g. retrieval's "topk"): name -> "module:attr"."""
    agents: dict[str, str] = {}
    for domain in DOMAINS:
        try:
            mod = importlib.import_module(f"palaestra.envs.{domain}.ids")
        except ModuleNotFoundError as exc:
            if exc.name in (f"palaestra.envs.{domain}", f"palaestra.envs.{domain}.ids"):
                continue
            raise
        agents.update(getattr(mod, "AGENTS", {}))
    return agents


def register_all() -> list[str]:
    ids = []
    for info in all_env_infos():
        if info.id not in gym.registry:
            gym.register(
                id=info.id,
                entry_point=EnvFactory(info.entry),
                kwargs=dict(info.kwargs),
                max_episode_steps=info.max_episode_steps,
                order_enforce=info.order_enforce,
                disable_env_checker=not info.env_checker,
                vector_entry_point=info.vector_entry,
            )
        ids.append(info.id)
    return ids
