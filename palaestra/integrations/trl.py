"""palaestra envs as TRL GRPO environments (``GRPOTrainer(environment_factory=...)``).

TRL 1.16 builds one environment object per rollout from a factory, exposes its public
methods to the model as tools (name, type hints and docstring), calls ``reset(**row)``
with the dataset row (its return is appended to the prompt) and, when the object has
``get_reward()``, uses it as a reward source. :func:`environment_factory` gives such a
factory for any palaestra id; its tools are the env's action grammar in typed form
(:func:`palaestra.integrations.tools.action_tools`), and ``get_reward`` is the episode's
return as the env computes it (the same number ``run_episode`` reports)::

    from trl import GRPOConfig, GRPOTrainer
    from palaestra.integrations.trl import environment_factory, prompts_dataset

    trainer = GRPOTrainer(model=..., args=GRPOConfig(...),
                          train_dataset=prompts_dataset("palaestra/ConnectFour-v0", range(256)),
                          environment_factory=environment_factory("palaestra/ConnectFour-v0"))

A dict ``{"c4": environment_factory("palaestra/ConnectFour-v0"), "tools": ...}`` mixes
envs by the dataset's ``environment`` column (``prompts_dataset(..., environment="c4")``).
"""

from __future__ import annotations

import inspect
import itertools
from typing import Any, Callable, Iterable

from .tools import ActionTool, action_tools

#: how a rollout's first user message reads; the env's instructions and first
#: observation are appended by ``reset``
DEFAULT_PROMPT = "Act in the environment below by calling its tools until the episode ends."


class PalaestraToolEnv:
    """One episode of a palaestra env, driven through tool calls (a base class: the
    factory makes a subclass per env id whose methods are that env's tools)."""

    env_id: str = ""
    env_kwargs: dict = {}
    #: what ``get_reward`` gives an episode the model left unfinished (stopped calling
    #: tools): the env's worst outcome by default, so that not playing never beats losing
    unfinished_reward: float = 0.0
    #: whether ``reset`` puts the env's instructions before the first observation
    with_instructions: bool = True
    _seeds = itertools.count(0)

    def __init__(self):
        import gymnasium as gym

        import palaestra  # noqa: F401

        self._env = gym.make(self.env_id, text=True, max_invalid=None, **self.env_kwargs)
        self._return, self._done, self._info = 0.0, False, {}
        self.transcript: list[tuple[str, str]] = []

    def reset(self, seed: int | None = None, **_row: Any) -> str:
        """Start an episode (``seed`` from the dataset row, else the next one) and
        return the env's instructions and first observation."""
        seed = next(type(self)._seeds) if seed is None else int(seed)
        obs, self._info = self._env.reset(seed=seed)
        self._return, self._done = 0.0, False
        self.transcript = []
        if not self.with_instructions:  # TRL appends this to the prompt's last message
            return f"\n\n{obs}"
        return f"\n\n{_without_schemas(self._env.unwrapped.instructions)}\n\n{obs}"

    def get_reward(self) -> float:
        """The episode's return as the env computes it; an unfinished episode gets
        ``unfinished_reward`` (the env's worst outcome unless the factory says otherwise)."""
        if not self._done:
            return float(min(self._return, self.unfinished_reward))
        return float(self._return)

    @property
    def done(self) -> bool:
        return self._done

    @property
    def success(self) -> bool:
        return bool(self._info.get("success", False))

    def _act(self, text: str) -> str:
        if self._done:
            return "The episode is over; no more actions are taken. Stop calling tools."
        obs, reward, terminated, truncated, self._info = self._env.step(text)
        self._return += float(reward)
        self._done = bool(terminated or truncated)
        self.transcript.append((text, obs))
        if self._done:
            outcome = "success" if self._info.get("success") else "no success"
            obs += f"\n\nThe episode is over ({outcome}, return {self._return:+.2f}). Stop calling tools."
        return obs

    # not a public method: TRL would expose every public function as a tool
    def _close(self) -> None:
        self._env.close()

    def __del__(self):
        try:
            self._env.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


def _without_schemas(instructions: str) -> str:
    """The instructions less the JSON tool schemas some envs list: TRL puts the tools'
    schemas in the prompt itself, so they would be there twice."""
    lines = [ln for ln in instructions.splitlines() if not ln.lstrip().startswith('{"type": "function"')]
    return "\n".join(ln for ln in lines if ln.strip() != "Tool schemas (OpenAI function format):")


def _method(tool: ActionTool) -> Callable:
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)] + list(tool.signature().parameters.values())
    sig = inspect.Signature(params, return_annotation=str)

    def method(self, *args, **kwargs):
        bound = sig.bind(self, *args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        arguments.pop("self")
        try:
            text = tool.to_text(**arguments)
        except Exception as err:  # noqa: BLE001 - a malformed call is the model's error, shown to it
            return f"Error: could not form the action from {arguments}: {err}"
        return self._act(text)

    method.__name__ = method.__qualname__ = tool.name
    method.__signature__ = sig
    method.__annotations__ = {p: t for p, t, _, _ in tool.params} | {"return": str}
    method.__doc__ = tool.docstring()
    return method


def environment_factory(env_id: str, unfinished_reward: float | None = None, tools: Iterable[str] | None = None,
                        instructions: bool = True, **env_kwargs) -> Callable[[], PalaestraToolEnv]:
    """A TRL ``environment_factory`` for ``env_id`` (made with ``env_kwargs``).

    ``unfinished_reward``: the reward of an episode the model did not finish; default
    the env's worst outcome (-1, a loss, in two-player games; 0 elsewhere). ``tools``:
    expose only these tool names (``act`` always stays), e.g. to fit a small context;
    ``instructions=False``: ``reset`` returns the first observation alone (the tools'
    schemas, which TRL puts in the prompt, then carry the action grammar)."""
    import gymnasium as gym

    import palaestra  # noqa: F401

    probe = gym.make(env_id, **env_kwargs)
    try:
        probe.reset(seed=0)
        found = action_tools(probe)
        if unfinished_reward is None:
            unfinished_reward = -1.0 if getattr(probe.unwrapped.planning_env(), "num_players", 1) == 2 else 0.0
    finally:
        probe.close()
    if tools is not None:
        keep = set(tools) | {"act"}
        unknown = keep - {t.name for t in found}
        if unknown:
            raise ValueError(f"{env_id} has no tool {sorted(unknown)}; its tools: {', '.join(t.name for t in found)}.")
        found = [t for t in found if t.name in keep]
    tools = found
    names = [t.name for t in tools]
    clash = [n for n in names if n in ("reset", "get_reward", "done", "success", "transcript")]
    if clash:  # pragma: no cover - a tool schema named like a control method
        tools = [t for t in tools if t.name not in clash]
    attrs = {t.name: _method(t) for t in tools}
    attrs.update(env_id=env_id, env_kwargs=dict(env_kwargs), _seeds=itertools.count(0),
                 unfinished_reward=float(unfinished_reward), with_instructions=bool(instructions),
                 __doc__=f"{env_id} as a TRL environment; tools: {', '.join(t.name for t in tools)}.")
    cls_name = "".join(ch for ch in env_id.split("/")[-1].split("-v")[0].title() if ch.isalnum()) + "ToolEnv"
    cls = type(cls_name, (PalaestraToolEnv,), attrs)
    return cls


def prompts_dataset(env_id: str, seeds: Iterable[int], prompt: str = DEFAULT_PROMPT, environment: str | None = None):
    """A ``datasets.Dataset`` of conversational prompts, one row per seed (the ``seed``
    column reaches ``reset``); ``environment`` names the factory in a dict."""
    from datasets import Dataset

    seeds = [int(s) for s in seeds]
    rows: dict[str, list] = {"prompt": [[{"role": "user", "content": prompt}] for _ in seeds], "seed": seeds}
    if environment is not None:
        rows["environment"] = [environment] * len(seeds)
    return Dataset.from_dict(rows)
