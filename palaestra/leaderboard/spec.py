"""Agent specifications: what ``--agent`` takes, and a stable hash per configuration.

Syntax (``palaestra eval --agent``, ``palaestra tournament --agents``)::

    random                                  a registered agent name
    mcts[simulations=50,c_puct=2]           with options (values parsed as JSON)
    llm[model=tiny]@text                    forcing the text (or @native) view
    mcts50=mcts[simulations=50]             with a label shown in reports
    my_pkg.agents:MyAgent[depth=3]          a Python entry point ``module:attr``
    stockfish[skill=5,depth=6]              reference opponents palaestra.leaderboard adds

The configuration hash covers the target and the options (not the label), so results
from the same configuration pool together whatever it is called.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
from dataclasses import dataclass, field
from typing import Any

# reference agents the leaderboard adds to palaestra.agents.registry()
EXTRA_AGENTS = {"stockfish": "palaestra.leaderboard.reference:StockfishAgent"}


def canonical_json(obj: Any) -> str:
    """Sorted-key compact JSON: equal configurations give equal strings."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def short_hash(obj: Any, n: int = 12) -> str:
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()[:n]


def _parse_value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def split_top(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` outside brackets: ``"a[x=1,y=2],b"`` -> ``["a[x=1,y=2]", "b"]``."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


@dataclass(frozen=True)
class AgentSpec:
    target: str  # a registry name or "module:attr"
    options: dict = field(default_factory=dict)
    label: str | None = None
    view: str | None = None  # "text" / "native" when forced; None: the agent's own choice (prefers_text)

    @classmethod
    def parse(cls, text: str, extra_options: dict | None = None) -> "AgentSpec":
        text = text.strip()
        if not text:
            raise ValueError("empty agent spec; give e.g. 'random' or 'mcts[simulations=50]'.")
        label = None
        head = text.split("[", 1)[0]
        if "=" in head:
            label, _, text = text.partition("=")
            label, text = label.strip(), text.strip()
            if not label.replace("-", "_").replace(".", "_").isidentifier():
                raise ValueError(f"agent label {label!r} must be a plain name (letters, digits, - _ .).")
        view = None
        for suffix in ("@text", "@native"):
            if text.endswith(suffix):
                view, text = suffix[1:], text[: -len(suffix)]
        options: dict = {}
        target = text
        if "[" in text:
            if not text.endswith("]"):
                raise ValueError(f"agent spec {text!r}: options go in brackets at the end, e.g. mcts[simulations=50].")
            target, _, inner = text[:-1].partition("[")
            for pair in split_top(inner):
                if "=" not in pair:
                    raise ValueError(f"agent option {pair!r} in {text!r} must look like key=value.")
                k, _, v = pair.partition("=")
                options[k.strip()] = _parse_value(v.strip())
        if isinstance(options.get("search_reward"), bool):  # search_reward=true parses as JSON true
            options["search_reward"] = "true" if options["search_reward"] else "agent"
        options.update(extra_options or {})
        target = target.strip()
        if not target:
            raise ValueError(f"agent spec {text!r} names no agent.")
        return cls(target=target, options=options, label=label, view=view)

    # ---- identity ------------------------------------------------------------------
    def config(self) -> dict:
        config = {"agent": self.target, "options": self.options}
        if self.view is not None:  # a forced view is part of the configuration
            config["view"] = self.view
        return config

    def with_view(self, text: bool | None) -> "AgentSpec":
        view = None if text is None else ("text" if text else "native")
        return AgentSpec(self.target, dict(self.options), self.label, view)

    def use_text(self, agent=None) -> bool:
        if self.view is not None:
            return self.view == "text"
        return bool(getattr(agent if agent is not None else self.factory(), "prefers_text", False))

    @property
    def search_reward(self) -> str:
        """``"true"`` when the agent's search reads the scorer's reward (data collection), else
        ``"agent"`` (the default of every searching agent: fair at test time)."""
        value = self.options.get("search_reward", "agent")
        return "true" if value is True or str(value).lower() == "true" else "agent"

    @property
    def config_hash(self) -> str:
        return short_hash(self.config())

    @property
    def canonical(self) -> str:
        suffix = f"@{self.view}" if self.view else ""
        if not self.options:
            return self.target + suffix
        inner = ",".join(f"{k}={canonical_json(v) if not isinstance(v, str) else v}" for k, v in sorted(self.options.items()))
        return f"{self.target}[{inner}]{suffix}"

    @property
    def name(self) -> str:
        return self.label or self.canonical

    def to_json(self) -> str:
        return canonical_json({"target": self.target, "options": self.options, "label": self.label, "view": self.view})

    @classmethod
    def from_json(cls, text: str) -> "AgentSpec":
        d = json.loads(text)
        return cls(target=d["target"], options=d.get("options") or {}, label=d.get("label"), view=d.get("view"))

    # ---- building ------------------------------------------------------------------
    def factory(self):
        if self.target in EXTRA_AGENTS:
            path = EXTRA_AGENTS[self.target]
        elif ":" in self.target:
            path = self.target
        else:
            from palaestra.agents import registry

            names = registry()
            if self.target not in names:
                known = ", ".join(sorted(set(names) | set(EXTRA_AGENTS)))
                raise ValueError(f"unknown agent {self.target!r}; known agents: {known}, or a 'module:attr' entry point.")
            path = names[self.target]
        module, _, attr = path.partition(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"agent {self.target!r} could not be loaded from {path}: {exc}") from exc

    def build(self, seed: int | None = None, lm_cache: dict | None = None):
        """A fresh agent. ``seed`` seeds it when the spec does not fix one and it takes one.

        Building a fresh, per-episode-seeded agent makes each episode's result depend
        only on its seed, not on which worker ran which episodes before it. With
        ``lm_cache`` (a dict a worker keeps), a language model named by ``llm=``/``model=``
        is loaded once per process and handed to each fresh agent (back-ends take a
        seed per call, so sharing one does not couple episodes).
        """
        factory = self.factory()
        options = dict(self.options)
        if seed is not None and "seed" not in options and _accepts(factory, "seed"):
            options["seed"] = seed
        if lm_cache is not None:
            options = _share_lm(factory, options, lm_cache)
        return factory(**options)


def _accepts(factory, name: str) -> bool:
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False
    return name in params


def _share_lm(factory, options: dict, cache: dict) -> dict:
    key = next((k for k in ("llm", "model") if isinstance(options.get(k), str)), None)
    if key is None:
        return options
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return options
    if key not in params:
        return options
    named = {k for k, p in params.items() if p.kind is not inspect.Parameter.VAR_KEYWORD}
    # options the factory does not name go to the model loader (LLMAgent's **lm_options)
    lm_options = {k: v for k, v in options.items() if k not in named}
    if lm_options and not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return options  # the factory would refuse them anyway; let it say so
    cache_key = canonical_json([options[key], lm_options])
    if cache_key not in cache:
        from palaestra.agents.llm import load_lm

        cache[cache_key] = load_lm(options[key], **lm_options)
    out = {k: v for k, v in options.items() if k not in lm_options}
    out[key] = cache[cache_key]
    return out


def search_reward_of(spec_json: str) -> str:
    """``search_reward`` of a stored spec (``AgentSpec.to_json``): ``"true"`` or ``"agent"``."""
    try:
        return AgentSpec.from_json(spec_json).search_reward
    except (ValueError, TypeError, KeyError):
        return "agent"


def parse_agents(values: list[str] | None, extra_options: dict | None = None) -> list[AgentSpec]:
    """Specs from repeated and/or comma-separated CLI values; labels must be unique."""
    specs = []
    for value in values or []:
        for part in split_top(value):
            specs.append(AgentSpec.parse(part, extra_options))
    names = [s.name for s in specs]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"agents named twice: {', '.join(sorted(dup))}; give each a label, e.g. a1=random.")
    return specs


def env_key(env_id: str, env_kwargs: dict | None) -> str:
    return short_hash({"env": env_id, "kwargs": env_kwargs or {}})


def derive_seed(*parts) -> int:
    """A 31-bit seed from any parts (stable across processes and machines)."""
    return int(hashlib.sha256(canonical_json(list(parts)).encode()).hexdigest()[:8], 16) & 0x7FFFFFFF
