"""``palaestra/ToolUse-v0``: generated tool-use tasks in a sandboxed world."""

from __future__ import annotations

import json

from palaestra.core import InvalidAction

from . import grading
from .base import ToolEnvBase
from .calls import GRAMMAR, result_text
from .tasks import TIERS, expected_hash, make_task, task_ids, task_specs, template_hash
from .world import TOOL_ORDER, TOOLS, ToolWorld

MAX_ANSWER_CHARS = 2000


class ToolUseEnv(ToolEnvBase):
    """Tool use in a sandboxed world: a shop database, a calendar, a knowledge base, units.

    ## Description
    A user asks for something; the agent calls tools (OpenAI function schemas, listed
    in ``instructions``) and ends with a final answer. Tasks come in five tiers:
    ``single`` (one call), ``sequence`` (several calls), ``dependent`` (a call needs an
    earlier result), ``state`` (the request changes the database) and ``refuse`` (pairs
    of look-alikes: in each, one request no tool can do or that misses a detail, to
    refuse or ask back, and one that must be done). 600 seeded tasks, one in five in
    the ``test`` split. Each episode works on its own
    in-memory copy of the world's SQLite database.

    ## Action Space
    ``ToolCallSpace``: ``{"name": tool, "arguments": {...}}``, a list of such calls
    (run in order as one parallel step), or ``{"answer": text}``. Text actions are the
    same as JSON, or Python call syntax ``get_order(order_id=1043)``, or ``answer: ...``.
    Malformed JSON, unknown tools and arguments that do not fit the schema raise
    ``InvalidAction`` and change nothing. A tool that refuses a call (an unknown order,
    a non-pending order to cancel, an SQL statement that is not a SELECT) returns
    ``{"error": ...}`` as its result: that is a step like any other.

    ## Observation Space
    ``FreeText``: the conversation so far (the request, each call and its result).

    ## Rewards
    1.0 when the episode ends with the database in the oracle's end state (canonical
    hash, as tau-bench), the final answer right in the form the request states (one
    value; values separated by semicolons; ``cannot: ...``; ``ask: ...`` about the
    missing detail only: :mod:`palaestra.envs.tools.answers`) and, where refusing or
    asking is right, no tool called; else 0.0. The reward reads hidden labels (the
    expected answer and end state: ``reward_access = "hidden"``): ``info["success"]`` and
    ``info["grading"]`` (the parts, never the expected values) are scorer-only, the
    observation says only that the episode is over, and snapshots carry no verdict.

    ## Episode End
    Terminated by a final answer; truncated after ``max_steps`` steps (not a success).

    ## Arguments
    ``tier``: one of ``single, sequence, dependent, state, refuse``, a list of them, or
    None for all; ``split``: ``"train"``, ``"test"`` or None (both); ``world_seed``: the
    world (database, today's date); ``max_steps`` (20); ``time_limit_s``: per SQL
    statement (1.0); ``render_mode``: ``"ansi"`` or None.

    ## Version History
    - v0: first version (600 tasks in 5 tiers); answers read in the form each task
      states, look-alikes in the refuse tier, every tool argument bounded.
    """

    reward_access = "hidden"
    #: the oracle's plan and the grader read the expected answer: not for an agent-side search
    scorer_only = ("oracle_actions", "grade_now", "_spec")
    scorer_info_keys = ("grading",)
    public_task_keys = ("tier",)

    def __init__(self, tier=None, split: str | None = None, world_seed: int = 0, max_steps: int = 20,
                 time_limit_s: float = 1.0, render_mode: str | None = None):
        super().__init__(max_steps=max_steps, render_mode=render_mode)
        tiers = [tier] if isinstance(tier, str) else list(tier) if tier else list(TIERS)
        tiers = [t.strip() for part in tiers for t in str(part).split(",") if t.strip()]
        unknown = [t for t in tiers if t not in TIERS]
        if unknown:
            raise ValueError(f"unknown tier(s) {unknown}; use one or more of {', '.join(TIERS)}.")
        if split not in (None, "train", "test"):
            raise ValueError(f"split={split!r}: use 'train', 'test' or None.")
        self.tiers, self.split, self.world_seed = tiers, split, int(world_seed)
        self.time_limit_s = float(time_limit_s)
        self.task_ids = [tid for t in tiers for tid in task_ids(self.world_seed, t, split)]
        self.world: ToolWorld | None = None
        self._answer: str | None = None
        self._actions: list = []
        self.instructions = self._instructions()

    # ---- instructions ------------------------------------------------------------------
    def _instructions(self) -> str:
        lines = [
            "You are a shop assistant with tools: a calculator, unit conversion, the shop's database "
            "(customers, products, orders), a calendar and a knowledge base.",
            "Each step, send " + GRAMMAR + ".",
            "Call tools as needed, then give the final answer; it ends the episode.",
            "The final answer takes the form the request asks for and holds nothing else: one value "
            "(e.g. 42.5 or shipped), or several values in the order asked, separated by semicolons "
            "(e.g. 12; Monday). An answer with more values than asked fails.",
            "If no tool can do the request, answer `cannot: <why>`; if a detail you need is missing, answer "
            "`ask: <one question about that detail>`. Call no tool in either case. Some requests look "
            "impossible or incomplete and are not: check the tools first.",
            "Success: the database ends as the request requires and the answer is right in its form.",
            "",
            "Tools:",
        ]
        for name in TOOL_ORDER:
            lines.append(f"- {TOOLS[name].signature_text()}: {TOOLS[name].description}")
        lines += ["", "Tool schemas (OpenAI function format):"]
        lines += [json.dumps(TOOLS[name].schema(), ensure_ascii=False) for name in TOOL_ORDER]
        return "\n".join(lines)

    def oracle_actions(self) -> list:
        """The oracle's remaining actions: the rest of its plan when the episode so far
        followed it, else the whole plan (calls that already ran fail harmlessly)."""
        plan = json.loads(json.dumps(self._spec()["oracle"]))
        done = len(self._actions)
        if plan[:done] == self._actions:
            return plan[done:]
        return plan

    def planning_env(self, *, true_reward: bool = False):
        """A twin of this env for a search to step (the real episode is never touched), in
        the agent-side view (no verdict, no oracle) unless ``true_reward`` opts in to the
        hidden reward for collecting training data."""
        from palaestra.core import AgentSideEnv

        twin = ToolUseEnv(tier=self.tiers, split=self.split, world_seed=self.world_seed, max_steps=self.max_steps,
                          time_limit_s=self.time_limit_s)
        if self.task is not None:
            twin.set_state(self.get_state())
        return twin if true_reward else AgentSideEnv(twin)

    def _spec(self) -> dict:
        """The current task's full spec (expected answer, oracle): for the scorer only."""
        return task_specs(self.world_seed)[self.task.id]

    def _sample_tools(self) -> list:
        return [(name, TOOLS[name].parameters) for name in TOOL_ORDER]

    def _sample_value(self, name, prop, rng):
        import datetime as dt

        ranges = {"order_id": (1001, 1300), "customer_id": (1, 60), "product_id": (1, 42), "quantity": (1, 20),
                  "duration_min": (15, 120)}
        if name in ranges:
            return rng.randint(*ranges[name])
        if "date" in name:
            return (self.world.today + dt.timedelta(days=rng.randint(-30, 60))).isoformat()
        if name == "time":
            return f"{rng.randint(8, 18):02d}:{rng.choice(['00', '30'])}"
        if name == "expression":
            return f"{rng.randint(1, 99)} {rng.choice('+-*/')} {rng.randint(1, 99)}"
        if name in ("from_unit", "to_unit"):
            return rng.choice(["meter", "foot", "kilogram", "pound", "liter", "gallon"])
        if name == "query" and prop.get("description", "").startswith("one SELECT"):
            return rng.choice(["SELECT id, status FROM orders LIMIT 5", "SELECT count(*) FROM customers"])
        return super()._sample_value(name, prop, rng)

    def tool_schemas(self) -> list[dict]:
        """The tools in OpenAI's ``tools`` format."""
        return [TOOLS[name].schema() for name in TOOL_ORDER]

    # ---- episode -----------------------------------------------------------------------
    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        tid = self._pick(self.task_ids, seed, options)
        self.task = make_task(self.world_seed, tid)
        self._new_world(None)
        self._messages, self._steps, self._calls = [], 0, 0
        self._ended, self._outcome, self._answer = False, None, None
        self._actions = []
        self._say("user", self.task.goal)
        return self.render_text(), self._info()

    def _new_world(self, data):
        if self.world is not None:
            self.world.db.close()
        self.world = ToolWorld(self.world_seed, data=data, time_limit_s=self.time_limit_s)

    def _check(self, action) -> None:
        if isinstance(action, dict) and "answer" in action and len(action["answer"]) > MAX_ANSWER_CHARS:
            raise InvalidAction(f"the final answer is {len(action['answer']):,} characters long; the limit is "
                                f"{MAX_ANSWER_CHARS:,}. Answer in the form the request asks for.")
        for c in ([] if "answer" in action else action if isinstance(action, list) else [action]):
            tool = TOOLS.get(c["name"])
            if tool is None:
                raise InvalidAction(f"unknown tool {c['name']!r}. Tools: {', '.join(TOOL_ORDER)}.",
                                    allowed=list(TOOL_ORDER))
            tool.validate(c["arguments"])

    def step(self, action):
        action = self._begin_step(action)
        self._steps += 1
        self._actions.append(action)
        reward, terminated, truncated = 0.0, False, False
        if isinstance(action, dict) and "answer" in action:
            self._answer = action["answer"]
            self._say("answer", self._answer)
            reward = self._finish()
            terminated = True
        else:
            for c in self._log_calls(action):
                result = self.world.call(c["name"], c["arguments"], checked=True)  # _begin_step checked them
                self._calls += 1
                self._say("tool", result_text(result), name=c["name"])
            if self._steps >= self.max_steps:
                self._finish()
                truncated = True
        return self.render_text(), reward, terminated, truncated, self._info()

    def grade_now(self) -> tuple[float, bool, dict]:
        """(reward, ended, details) of the episode as it stands (tau-bench grading)."""
        spec = self._spec()
        db = self.world.db
        db_hash = db.canonical_hash() if db.dirty else template_hash(self.world_seed)
        reward, details = grading.grade(
            db_hash, expected_hash(self.world_seed, self.task.id), self._answer,
            spec["answer"], self._calls, spec["no_calls"])
        return reward, self._ended, details

    def _finish(self) -> float:
        reward, _, details = self.grade_now()
        self._ended = True
        self._outcome = {"success": reward == 1.0, "grading": details}
        return reward

    def _info(self) -> dict:
        info = {"task_id": self.task.id, "tier": self.task.data["tier"], "steps": self._steps, "calls": self._calls,
                "security": [dict(e) for e in self.world.security_log]}
        if self._outcome is not None:
            info["success"] = self._outcome["success"]
            info["grading"] = json.loads(json.dumps(self._outcome["grading"]))
        return info

    # ---- text ----------------------------------------------------------------------------
    def render_text(self) -> str:
        if self.task is None:
            return "No episode yet: call reset()."
        t = self.task
        head = [f"Tool-use task {t.id} ({t.split} split) — step {self._steps} of {self.max_steps}",
                "Goal: answer the user's request below with the tools, in the form it asks for.",
                "Tools: " + ", ".join(TOOL_ORDER)]
        lines = head + self._render_messages()
        if self._ended:
            # the verdict reads hidden labels (the expected answer, the end state): it is in
            # info["success"] / info["grading"] for the scorer, never in what the agent sees
            how = "a final answer was given" if self._answer is not None else "the step limit was reached"
            lines += ["", f"Episode over: {how}."]
        else:
            lines += ["", self._prompt_line()]
        return "\n".join(lines)

    # ---- snapshots ---------------------------------------------------------------------------
    def get_state(self):
        return {
            "task_id": self.task.id if self.task else None,
            # an untouched database is the template's: no need to copy its bytes
            "db": self.world.db.to_bytes() if self.world and self.world.db.dirty else None,
            "security": [dict(e) for e in self.world.security_log] if self.world else [],
            "dirty": self.world.db.dirty if self.world else False,
            "messages": self.transcript(), "actions": json.loads(json.dumps(self._actions)),
            "steps": self._steps, "calls": self._calls, "ended": self._ended,
            "answer": self._answer,
            # no verdict: it is recomputed on restore, so a snapshot tells a search nothing hidden
        }

    def set_state(self, state) -> None:
        if state["task_id"] is None:
            raise ValueError("this snapshot was taken before reset(); there is nothing to restore.")
        self.task = make_task(self.world_seed, state["task_id"])
        self._new_world(state["db"])
        self.world.db.security_log[:] = [dict(e) for e in state["security"]]
        self.world.db.dirty = bool(state["dirty"])
        self._messages = [dict(m) for m in state["messages"]]
        self._actions = json.loads(json.dumps(state["actions"]))
        self._steps, self._calls, self._ended = state["steps"], state["calls"], state["ended"]
        self._answer = state["answer"]
        self._outcome = None
        if self._ended:
            self._finish()

    def close(self):
        if self.world is not None:
            self.world.db.close()
            self.world = None
        super().close()


__all__ = ["ToolUseEnv", "task_specs"]
