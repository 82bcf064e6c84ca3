"""``palaestra/BFCL-v0``: the Berkeley Function-Calling Leaderboard v4 as episodes."""

from __future__ import annotations

import json

from palaestra.core import Task

from ..base import ToolEnvBase
from ..calls import GRAMMAR, MAX_CALLS, calls_of
from ..schema import bfcl_tool
from . import data
from .checker import check
from .multi_turn import APIWorld, missing_results, parse_ground_truth, state_differences

ADDED_FUNCTIONS_PROMPT = "I have updated some more functions you can choose from. What about now?"
MAX_STEPS_PER_TURN = 20  # BFCL's own limit of inference steps in one turn


def _oracle(env) -> list:
    return env.oracle_actions()


def _validate(env) -> tuple[float, bool, dict]:
    """``Task.validate``: 1.0 once the entry passed; the verdict so far."""
    if env._outcome is None:
        return 0.0, False, {"turn_verdicts": [dict(v) for v in env._verdicts]}
    return (1.0 if env._outcome["success"] else 0.0), True, dict(env._outcome["verdict"])


class BFCLEnv(ToolEnvBase):
    """BFCL v4 entries (the data ``bfcl-eval`` ships) as episodes, judged by BFCL's rules.

    ## Description
    Single-turn categories (``simple``, ``multiple``, ``parallel``,
    ``parallel_multiple``, ``irrelevance`` and the ``live_*`` ones): the user's request
    and the functions (in ``instructions``); one action, judged by BFCL's AST rules
    (:mod:`palaestra.envs.tools.bfcl.checker`). Irrelevance entries want no call: a
    final answer. A malformed action is an invalid action (explained, state unchanged),
    never a correct abstention (BFCL issue #443).

    Multi-turn categories (``multi_turn_base``, ``multi_turn_miss_func``,
    ``multi_turn_miss_param``, ``multi_turn_long_context``): the functions of BFCL's
    executable API classes, started from the entry's ``initial_config``. Each user turn
    the agent calls functions (they run on the episode's instances) and ends the turn
    with a final answer; the turn is then judged as BFCL does: the instances' public
    state equals the ground truth's, the ground truth's results are among the agent's
    results, and turns whose ground truth is empty (a missing function or parameter)
    must have no call.

    ## Action Space
    ``ToolCallSpace``: ``{"name": f, "arguments": {...}}``, a list of calls (parallel),
    or ``{"answer": text}``. Text: JSON, Python call syntax ``f(a=1)`` or a list
    ``[f(a=1), g(b=2)]`` (BFCL's prompt format), or ``answer: ...``. Calls are not checked
    against the schema before judging: that is the benchmark's job.

    ## Observation Space
    ``FreeText``: the conversation (user turns, calls, results).

    ## Rewards
    1.0 when the entry passes BFCL's check (single-turn: the one action; multi-turn:
    every turn), else 0.0, given when the episode ends; ``info["verdict"]`` says why.

    ## Episode End
    Single-turn: after one valid action. Multi-turn: after the last turn, or at the
    first failed turn; truncated after 20 steps in one turn (BFCL's limit).

    ## Arguments
    ``category``: a category, a comma list, or a group (``single_turn``, ``non_live``,
    ``live``, ``multi_turn``, ``all``); default ``simple``. ``result_limit``:
    characters of a result shown in the observation (the transcript keeps all).
    ``render_mode``: ``"ansi"`` or None. Needs ``bfcl-eval`` (``pip install --no-deps
    bfcl-eval``).

    ## Version History
    - v0: first version (BFCL v4 data of bfcl-eval; Python categories).
    """

    def __init__(self, category="simple", result_limit: int = 20_000, render_mode: str | None = None):
        super().__init__(max_steps=MAX_STEPS_PER_TURN, render_mode=render_mode)
        self.categories = tuple(data.expand(category))
        self.entries = data.entry_index(self.categories)
        self.task_ids = list(self.entries)
        self.result_limit = int(result_limit)
        self.entry: dict | None = None
        self.world: APIWorld | None = None
        self.truth: APIWorld | None = None
        self._functions: list[dict] = []
        self._instructions_text = None
        self._reset_episode()

    def _reset_episode(self):
        self._turn, self._turn_steps, self._turn_calls = 0, 0, 0
        self._results: list[str] = []
        self._verdicts: list[dict] = []
        self._messages, self._steps, self._calls = [], 0, 0
        self._ended, self._outcome = False, None
        self._actions: list = []

    @property
    def multi_turn(self) -> bool:
        return self.entry is not None and self.entry["category"] in data.MULTI_TURN

    # ---- instructions ----------------------------------------------------------------
    @property
    def instructions(self) -> str:
        """Rules, action grammar and the current functions (built when first read)."""
        if getattr(self, "_instructions_text", None) is None:
            self._instructions_text = self._instructions()
        return self._instructions_text

    def _instructions(self) -> str:
        lines = [
            "You are given a request and a set of functions (BFCL v4). Call the functions that fulfil the "
            "request, with the right arguments.",
            "Each step, send " + GRAMMAR + ".",
            "Single-turn entries take one action: the call(s), or a final answer when no function fits.",
            "Multi-turn entries have several user turns: call functions (they run, you see the results) and end "
            "each turn with a final answer; if a function or a detail is missing, call nothing and say so.",
        ]
        if self._functions:
            lines += ["", "Functions (BFCL format):"]
            lines += [json.dumps(f, ensure_ascii=False) for f in self._functions]
        return "\n".join(lines)

    def _sample_tools(self) -> list:
        return [(d["name"], bfcl_tool(d).parameters) for d in self._functions]

    def tool_schemas(self) -> list[dict]:
        """The current functions in OpenAI's ``tools`` format (BFCL types mapped to JSON schema)."""
        return [bfcl_tool(f).schema() for f in self._functions]

    # ---- episode -----------------------------------------------------------------------
    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        tid = self._pick(self.task_ids, seed, options)
        self._start(tid)
        return self.render_text(), self._info()

    def _start(self, tid: str, restore: dict | None = None):
        self.entry = self.entries[tid]
        e = self.entry
        goal = " / ".join(m["content"] for turn in e["question"][:1] for m in turn if m["role"] == "user")
        self.task = Task(id=tid, goal=goal, split="test", data={"category": e["category"]}, oracle=_oracle,
                         validator=_validate)
        self._reset_episode()
        if self.multi_turn:
            long_context = "long_context" in e["category"]
            if restore is None:
                self.world = APIWorld(e, long_context)
                self.truth = APIWorld(e, long_context)
            else:
                self.world = APIWorld.from_bytes(restore["world"])
                self.truth = APIWorld.from_bytes(restore["truth"])
            missed = {name for names in (e.get("missed_function") or {}).values() for name in names}
            self._functions = [d for c in e["involved_classes"] for d in data.multi_turn_docs(c)
                               if d["name"] not in missed]
        else:
            self.world = self.truth = None
            self._functions = list(e["function"])
        self._instructions_text = None
        if restore is None:
            self._open_turn(0)

    def _open_turn(self, turn: int):
        e = self.entry
        added = (e.get("missed_function") or {}).get(str(turn)) if self.multi_turn else None
        if added:
            names = set(added)
            for c in e["involved_classes"]:
                self._functions += [d for d in data.multi_turn_docs(c) if d["name"] in names]
            self._instructions_text = None
            self._say("note", "New functions are available: " + ", ".join(sorted(names)))
        messages = e["question"][turn]
        if not messages and added:
            self._say("user", ADDED_FUNCTIONS_PROMPT)
        for m in messages:
            self._say(m["role"] if m["role"] in ("user", "system") else "user", m["content"])

    def _positional(self, name: str):
        if self.world is not None:
            return self.world.positional(name)
        for doc in self._functions:
            if doc["name"] == name:
                return list(doc.get("parameters", {}).get("properties", {}))
        return None

    def step(self, action):
        action = self._begin_step(action)
        self._steps += 1
        self._turn_steps += 1
        self._actions.append(action)
        is_answer = isinstance(action, dict) and "answer" in action
        if not self.multi_turn:
            return self._single_turn(action, is_answer)
        reward, terminated, truncated = 0.0, False, False
        if is_answer:
            self._say("answer", action["answer"])
            reward, terminated = self._close_turn()
        else:
            for c in self._log_calls(action):
                result = self.world.call(c["name"], c["arguments"])
                self._results.append(result)
                self._calls += 1
                self._turn_calls += 1
                self._say("tool", result, name=c["name"])
            if self._turn_steps >= MAX_STEPS_PER_TURN:
                self._end(False, {"valid": False, "turn": self._turn, "error_type": "multi_turn:force_terminated",
                                  "error": f"more than {MAX_STEPS_PER_TURN} steps in one turn"})
                truncated = True
        return self.render_text(), reward, terminated, truncated, self._info()

    def _single_turn(self, action, is_answer):
        e = self.entry
        category = e["category"]
        if is_answer:
            self._say("answer", action["answer"])
        else:
            self._log_calls(action)
        calls = calls_of(action)
        self._calls = len(calls)
        if "irrelevance" in category:
            verdict = {"valid": not calls, "error_type": "" if not calls else "irrelevance_error:decoder_success",
                       "error": "" if not calls else "a function was called where none fits"}
        elif "relevance" in category:
            verdict = {"valid": bool(calls), "error_type": "" if calls else "relevance_error:decoder_failed",
                       "error": "" if calls else "no function was called"}
        elif not calls:
            verdict = {"valid": False, "error_type": "no_call", "error": "a final answer where a call was expected"}
        else:
            model = [{c["name"]: c["arguments"]} for c in calls]
            verdict = check(e["function"], model, e["ground_truth"], category)
        self._end(verdict["valid"], verdict)
        return self.render_text(), (1.0 if verdict["valid"] else 0.0), True, False, self._info()

    def _close_turn(self) -> tuple[float, bool]:
        e, turn = self.entry, self._turn
        truth_calls = e["ground_truth"][turn]
        truth_results = [self.truth.call(c["name"], c["arguments"])
                         for c in (parse_ground_truth(t, self.truth) for t in truth_calls)]
        verdict = {"valid": True, "turn": turn}
        if not truth_calls:
            if self._turn_calls:
                verdict = {"valid": False, "turn": turn, "error_type": "multi_turn:irrelevance_error:decoder_success",
                           "error": "functions were called in a turn where the request cannot be fulfilled"}
        elif not self._turn_calls:
            verdict = {"valid": False, "turn": turn, "error_type": "multi_turn:empty_turn_model_response",
                       "error": "no function was called in this turn"}
        else:
            diff = state_differences(self.world, self.truth)
            if diff:
                verdict = {"valid": False, "turn": turn, "error_type": "multi_turn:instance_state_mismatch",
                           "error": "the instances' state differs from the ground truth", "differences": diff}
            else:
                missing = missing_results(truth_results, self._results)
                if missing:
                    verdict = {"valid": False, "turn": turn, "error_type": "multi_turn:execution_response_mismatch",
                               "error": "some ground-truth results are not among yours",
                               "missing": [m[:300] for m in missing]}
        self._verdicts.append({k: v for k, v in verdict.items() if k in ("valid", "turn", "error_type")})
        if not verdict["valid"]:
            self._end(False, verdict)
            return 0.0, True
        self._turn += 1
        self._turn_steps, self._turn_calls = 0, 0
        if self._turn >= len(e["question"]):
            self._end(True, {"valid": True, "turns": self._turn})
            return 1.0, True
        self._open_turn(self._turn)
        return 0.0, False

    def _end(self, success: bool, verdict: dict):
        self._ended = True
        self._outcome = {"success": bool(success), "verdict": json.loads(json.dumps(verdict, default=str))}

    def _info(self) -> dict:
        info = {"task_id": self.task.id, "category": self.entry["category"], "steps": self._steps,
                "calls": self._calls}
        if self.multi_turn:
            info["turn"] = self._turn
            info["turns"] = len(self.entry["question"])
            info["turn_verdicts"] = [dict(v) for v in self._verdicts]
        if self._outcome is not None:
            info["success"] = self._outcome["success"]
            info["verdict"] = json.loads(json.dumps(self._outcome["verdict"]))
        return info

    # ---- oracle ------------------------------------------------------------------------------
    def oracle_actions(self) -> list:
        """Ground-truth actions from the current point of a fresh episode (BFCL's answers)."""
        e = self.entry
        cat = e["category"]
        if self.multi_turn:
            plan = self._multi_turn_plan(0)
            done = len(self._actions)
            if json.loads(json.dumps(plan[:done])) == json.loads(json.dumps(self._actions)):
                return plan[done:]
            return self._multi_turn_plan(self._turn)
        if "irrelevance" in cat:
            return [{"answer": "None of the functions fits this request."}]
        if "relevance" in cat:
            return [_placeholder_call(e["function"][0])]
        calls = [_ground_truth_call(e["function"], gt) for gt in e["ground_truth"]]
        return [calls if "parallel" in cat else calls[0]]

    def _multi_turn_plan(self, first_turn: int) -> list:
        actions = []
        for turn, calls in enumerate(self.entry["ground_truth"]):
            if turn < first_turn:
                continue
            parsed = [parse_ground_truth(t, self.truth) for t in calls]
            if len(parsed) < MAX_STEPS_PER_TURN:  # one call per step
                actions += parsed
            else:  # long turns: several calls per step (run in order), within the step limit
                actions += [parsed[i:i + MAX_CALLS] for i in range(0, len(parsed), MAX_CALLS)]
            actions.append({"answer": "Done." if calls else
                            "I cannot do that with the functions and details I have; please tell me more."})
        return actions

    # ---- text ----------------------------------------------------------------------------------
    def render_text(self) -> str:
        if self.task is None:
            return "No episode yet: call reset()."
        e = self.entry
        head = f"BFCL v4 {e['category']} entry {e['id']}"
        if self.multi_turn:
            head += f" — turn {min(self._turn + 1, len(e['question']))} of {len(e['question'])}"
        names = ", ".join(f["name"] for f in self._functions)
        lines = [head, "Functions: " + (names if len(names) < 600 else names[:600] + " ...")]
        lines += self._render_messages()
        if self._outcome is not None:
            v = self._outcome["verdict"]
            verdict = "SUCCESS" if self._outcome["success"] else "FAILURE"
            why = "" if self._outcome["success"] else f": {v.get('error_type', '')} {v.get('error', '')}".rstrip()
            lines += ["", f"Episode over: {verdict}{why}."]
        else:
            lines += ["", self._prompt_line()]
        return "\n".join(lines)

    # ---- snapshots -------------------------------------------------------------------------------
    def get_state(self):
        return {
            "task_id": self.task.id if self.task else None,
            "world": self.world.to_bytes() if self.world else None,
            "truth": self.truth.to_bytes() if self.truth else None,
            "functions": [f["name"] for f in self._functions],
            "messages": self.transcript(), "turn": self._turn, "turn_steps": self._turn_steps,
            "turn_calls": self._turn_calls, "results": list(self._results),
            "verdicts": [dict(v) for v in self._verdicts], "steps": self._steps, "calls": self._calls,
            "ended": self._ended, "outcome": json.loads(json.dumps(self._outcome)),
            "actions": json.loads(json.dumps(self._actions)),
        }

    def set_state(self, state) -> None:
        if state["task_id"] is None:
            raise ValueError("this snapshot was taken before reset(); there is nothing to restore.")
        tid = state["task_id"]
        if tid not in self.entries:
            raise ValueError(f"the snapshot's entry {tid!r} is not in this env's categories {self.categories}.")
        self._start(tid, restore=state if self.entries[tid]["category"] in data.MULTI_TURN else {})
        by_name = {}
        if self.multi_turn:
            by_name = {d["name"]: d for c in self.entry["involved_classes"] for d in data.multi_turn_docs(c)}
            self._functions = [by_name[n] for n in state["functions"]]
            self._instructions_text = None
        self._messages = [dict(m) for m in state["messages"]]
        self._turn, self._turn_steps, self._turn_calls = state["turn"], state["turn_steps"], state["turn_calls"]
        self._results = list(state["results"])
        self._verdicts = [dict(v) for v in state["verdicts"]]
        self._steps, self._calls, self._ended = state["steps"], state["calls"], state["ended"]
        self._outcome = json.loads(json.dumps(state["outcome"]))
        self._actions = json.loads(json.dumps(state["actions"]))


def _pick_option(options: list, required: bool):
    """A value the possible answer allows: leave out optional ones, else the first listed."""
    if "" in options and not required:
        return _OMIT
    # a required parameter whose only allowed value is "" takes the empty string; an empty
    # list of allowed values cannot be met (a flaw of a few BFCL entries): leave it out
    return next((o for o in options if o != ""), "" if options else _OMIT)


_OMIT = object()


def _concrete(value, declared: dict):
    kind = declared.get("type")
    if kind == "dict" and isinstance(value, dict):
        out = {}
        for key, options in value.items():
            v = _pick_option(options, False) if isinstance(options, list) else options
            if v is not _OMIT:
                out[key] = v
        return out
    if kind == "array" and declared.get("items", {}).get("type") == "dict" and isinstance(value, list):
        return [_concrete(v, {"type": "dict"}) for v in value]
    return value


def _ground_truth_call(functions: list[dict], gt: dict) -> dict:
    (name, allowed), = gt.items()
    doc = next((f for f in functions if f["name"] == name), {"parameters": {}})
    props = doc["parameters"].get("properties", {})
    required = set(doc["parameters"].get("required", []))
    args = {}
    for param, options in allowed.items():
        value = _pick_option(options, param in required)
        if value is not _OMIT:
            args[param] = _concrete(value, props.get(param, {}))
    return {"name": name, "arguments": args}


_PLACEHOLDER = {"string": "example", "integer": 1, "float": 1.0, "boolean": True, "array": [], "tuple": [],
                "dict": {}, "any": "example"}


def _placeholder_call(doc: dict) -> dict:
    props = doc.get("parameters", {}).get("properties", {})
    args = {p: _PLACEHOLDER.get(props[p].get("type"), "example") for p in doc.get("parameters", {}).get("required", [])
            if p in props}
    return {"name": doc["name"], "arguments": args}
