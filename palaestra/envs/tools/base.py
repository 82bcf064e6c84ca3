"""What the tool-use envs share: the action space, the transcript, the text view."""

from __future__ import annotations

import copy
import json
import random
import string

import gymnasium as gym
import numpy as np

from palaestra.core import FreeText, InvalidAction, PalaestraEnv

from .calls import call_text, calls_of, canonical_action, format_action_text, parse_action_text, result_text

RESULT_LIMIT = 4000  # characters of a tool result shown in the observation


class ToolCallSpace(gym.Space):
    """Native actions of the tool envs: a call dict, a list of call dicts, or ``{"answer": str}``.

    ``contains`` checks the structure (the env checks tool names and arguments);
    ``sample`` draws a final answer of random words, which every task accepts as an
    action (it ends the episode or, in BFCL multi-turn, the turn).
    """

    def __init__(self, seed=None):
        super().__init__(shape=None, dtype=None, seed=seed)

    def contains(self, x) -> bool:
        try:
            canonical_action(x)
        except InvalidAction:
            return False
        return True

    def sample(self, mask=None, probability=None):
        letters = np.array(list(string.ascii_lowercase + " "))
        n = int(self.np_random.integers(1, 24))
        return {"answer": "".join(self.np_random.choice(letters, size=n))}

    @property
    def is_np_flattenable(self):
        return False

    def __repr__(self) -> str:
        return "ToolCallSpace()"

    def __eq__(self, other) -> bool:
        return isinstance(other, ToolCallSpace)


class ToolEnvBase(PalaestraEnv):
    """A conversation with tools: user turns, calls and their results, a final answer."""

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, max_steps: int = 20, render_mode: str | None = None):
        super().__init__(render_mode=render_mode)
        self.max_steps = int(max_steps)
        self.result_limit = RESULT_LIMIT
        self.observation_space = FreeText(1 << 22)
        self.action_space = ToolCallSpace()
        self._messages: list[dict] = []
        self._steps = 0
        self._calls = 0
        self._ended = False
        self._outcome: dict | None = None

    # ---- picking a task ----------------------------------------------------------
    def _pick(self, ids: list[str], seed, options) -> str:
        options = dict(options or {})
        if "task" in options:
            tid = str(options["task"])
            known = getattr(self, "_known_ids", None)
            if known is None or len(known) != len(ids):
                known = self._known_ids = frozenset(ids)
            if tid not in known:
                shown = ", ".join(ids[:8]) + (" ..." if len(ids) > 8 else "")
                raise ValueError(f"unknown task {tid!r} for this env's settings; known ids look like: {shown}")
            return tid
        if not ids:
            raise ValueError("no task matches this env's settings (tier/split/category).")
        if seed is not None:
            return ids[random.Random(seed).randrange(len(ids))]
        return ids[int(self.np_random.integers(len(ids)))]

    # ---- transcript ----------------------------------------------------------------
    def _say(self, role: str, content: str, **extra) -> None:
        self._messages.append({"role": role, "content": content, **extra})

    def transcript(self) -> list[dict]:
        """The conversation so far as chat messages (copies)."""
        return copy.deepcopy(self._messages)

    def _render_messages(self) -> list[str]:
        lines = []
        for m in self._messages:
            role = m["role"]
            if role == "user":
                lines += ["", "User: " + m["content"]]
            elif role == "system":
                lines += ["", "System: " + m["content"]]
            elif role == "call":
                lines.append("Assistant → " + m["content"])
            elif role == "tool":
                lines.append(f"  ← {m.get('name', 'tool')}: " + result_text(m["content"], self.result_limit))
            elif role == "answer":
                lines.append("Assistant: " + m["content"])
            elif role == "note":
                lines += ["", "[" + m["content"] + "]"]
        return lines

    def _prompt_line(self) -> str:
        return ('Your move: a tool call {"name": ..., "arguments": {...}} (or name(arg=...)), a list of calls, '
                'or a final answer {"answer": "..."} (or answer: ...).')

    # ---- actions -------------------------------------------------------------------
    def _positional(self, name: str) -> list[str] | None:
        return None

    def parse_action(self, text: str):
        action = parse_action_text(text, positional=self._positional)
        self._check(action)
        return action

    def format_action(self, action) -> str:
        return format_action_text(action)

    def _check(self, action) -> None:
        """Env-specific validation before anything changes (raise InvalidAction)."""

    def _begin_step(self, action):
        if self._ended:
            raise InvalidAction("the episode is over; call reset() to start a new one.")
        if self.task is None:
            raise InvalidAction("call reset() before step().")
        action = canonical_action(action)
        self._check(action)
        return action

    def _log_calls(self, action) -> list[dict]:
        calls = calls_of(action)
        if len(calls) > 1:
            self._say("call", "[" + ", ".join(call_text(c) for c in calls) + "]")
        elif calls:
            self._say("call", call_text(calls[0]))
        return calls

    # ---- random actions (RandomAgent, MCTS rollouts) ---------------------------------------
    _WORDS = ("status", "order", "return", "policy", "kettle", "meeting", "report", "file", "note", "alpha")

    def _sample_value(self, name: str, prop: dict, rng: random.Random):
        if "enum" in prop and prop["enum"]:
            return rng.choice(prop["enum"])
        kind = prop.get("type")
        if kind == "integer":
            return rng.randint(0, 10)
        if kind == "number":
            return round(rng.uniform(0, 100), 2)
        if kind == "boolean":
            return rng.random() < 0.5
        if kind == "array":
            return []
        if kind == "object":
            return {}
        return rng.choice(self._WORDS)

    def _sample_tools(self) -> list:
        """(name, JSON-schema parameters) of the tools a random action may call."""
        return []

    def sample_action(self, rng: random.Random):
        """A random valid action: a schema-valid call of a random tool, sometimes a final answer."""
        tools = self._sample_tools()
        if not tools or rng.random() < 0.15:
            return {"answer": " ".join(rng.choice(self._WORDS) for _ in range(rng.randint(1, 4)))}
        name, params = rng.choice(tools)
        props = params.get("properties", {})
        required = set(params.get("required", []))
        args = {p: self._sample_value(p, prop, rng) for p, prop in props.items()
                if p in required or rng.random() < 0.3}
        action = {"name": name, "arguments": args}
        try:
            self._check(canonical_action(action))
        except InvalidAction:
            return {"answer": "I cannot do that."}
        return action

    @staticmethod
    def _json(value) -> str:
        return json.dumps(value, ensure_ascii=False, default=str)
