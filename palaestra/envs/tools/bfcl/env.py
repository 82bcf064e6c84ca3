"""``palaestra/BFCL-v0``: the Berkeley Function-Calling Leaderboard v4 as episodes."""

from __future__ import annotations

import json

from palaestra.core import InvalidAction, Task

from ..base import ToolCallSpace, ToolEnvBase
from ..calls import GRAMMAR, MAX_CALLS, _canonical_call, calls_of
from ..schema import bfcl_tool
from . import data
from .checker import agentic_verdict, check
from .decoder import DecodeError, decode, execution_calls, is_call_list
from .multi_turn import (
    APIWorld,
    check_memory_snapshot,
    memory_snapshot,
    missing_results,
    parse_ground_truth,
    state_differences,
)
from .prompts import agentic_system_prompt, bfcl_system_prompt, memory_system_prompt, shown_functions
from .replies import format_reply, ground_truth_call, placeholder_call, source_call, source_call_text

#: ``"bfcl"``: BFCL's protocol (its decoder, one reply per single-turn entry, first-fit
#: parallel matching, the shipped evaluator's multi-turn rules); ``"strict"``: palaestra's
#: stricter reading (explained refusals of malformed replies that can be retried, an
#: explicit abstention on irrelevance entries, no call in a turn whose ground truth is
#: empty, any-order parallel matching). Results of the two are never comparable.
PROTOCOLS = ("bfcl", "strict")
MAX_REPLY_CALLS = 1000  # calls in one native action under protocol="bfcl" (text is bounded by MAX_REPLY)

ADDED_FUNCTIONS_PROMPT = "I have updated some more functions you can choose from. What about now?"
MAX_STEPS_PER_TURN = 20  # BFCL's own limit of inference steps in one turn


class BFCLActionSpace(ToolCallSpace):
    """``ToolCallSpace`` plus ``{"reply": text}``: a model's raw reply, decoded by BFCL's decoder."""

    def contains(self, x) -> bool:
        if isinstance(x, dict) and set(x) == {"reply"}:
            return isinstance(x["reply"], str)
        return super().contains(x)

    def __repr__(self) -> str:
        return "BFCLActionSpace()"


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
    By default (``protocol="bfcl"``) the env follows BFCL's protocol for a prompting
    model, so its success rate is comparable with the BFCL leaderboard's:

    - the model's reply is text (the text view sends it as ``{"reply": text}``) decoded
      by BFCL's default decoder (:mod:`palaestra.envs.tools.bfcl.decoder`): a Python list
      of calls with keyword arguments, ``[f(a=1), g(b="x")]``; what BFCL's decoder
      refuses (JSON, a fenced block with a language tag, prose) decodes to nothing;
    - single-turn entries take exactly one reply: it is judged and the episode ends.
      ``simple``/``multiple``/``parallel*``/``live_*``: BFCL's ``ast_checker`` rules
      (:mod:`palaestra.envs.tools.bfcl.checker`, first-fit parallel matching);
      ``irrelevance``/``live_irrelevance``: passes when the reply decodes to no call
      (prose, ``[]``, anything undecodable); ``live_relevance``: passes when it decodes
      to at least one call;
    - multi-turn entries (``multi_turn_base``, ``_miss_func``, ``_miss_param``,
      ``_long_context``): the functions of BFCL's executable API classes, started from
      the entry's ``initial_config``. Each reply that decodes to calls runs them and the
      turn goes on; a reply that decodes to no call (prose, ``[]``) ends the turn, which
      is then judged as BFCL's shipped evaluator does (``multi_turn_checker``): turns
      with ground truth must have had calls, the instances' public state must equal the
      ground truth's and the ground truth's results must be among the model's results
      so far; calls in a turn whose ground truth is empty run but are not judged. More
      than 20 call steps in one turn ends the entry as a failure (BFCL's force quit;
      in the last turn BFCL's evaluator does not notice it and judges the turn as is,
      and so does this env).

    Java and JavaScript (``simple_java``, ``simple_javascript``): replies are read by
    BFCL's own tree-sitter parsers and values converted by its type converters (needs
    ``pip install palaestra[bfcl]``). Memory (``memory_kv``, ``memory_rec_sum``): the
    scenario's prerequisite conversations (``memory_kv_prereq``, ...; BFCL's write phase,
    not scored) end with ``info["memory"]``, which the next conversation and the questions
    take as ``reset(options={"memory": ...})``; a question passes when its final reply (the
    first without calls) contains one of the answers (BFCL's ``agentic_checker``). Web
    search (``web_search_base``, ``web_search_no_snippet``): BFCL's search and fetch
    functions answered from an offline corpus (``web_corpus=``), judged like memory
    questions.

    ``protocol="strict"`` is palaestra's stricter reading, for training: a malformed
    reply is an invalid action (explained; the text view lets the model try again, up
    to its ``max_invalid``), accepted forms are wider (JSON calls, positional arguments,
    one fenced block), an irrelevance entry needs an explicit final answer, a call in a
    turn whose ground truth is empty fails the entry, parallel calls are matched in any
    order, and a turn is ended by a final answer only (``{"answer": ...}``, ``answer:
    ...``). ``info["protocol"]`` names the protocol on every step; results under the two
    must never be mixed.

    ## Action Space
    ``BFCLActionSpace``: ``{"reply": text}`` (a raw model reply, decoded as above under
    ``"bfcl"``, parsed by palaestra's parser under ``"strict"``), a call
    ``{"name": f, "arguments": {...}}``, a list of calls, or ``{"answer": text}`` (a
    reply with no call). The text view sends every text as ``{"reply": text}``.

    ## Observation Space
    ``FreeText``: the conversation (user turns, calls, results).

    ## Rewards
    1.0 when the entry passes BFCL's check (single-turn: the one reply; multi-turn:
    every turn), else 0.0, given when the episode ends; ``info["verdict"]`` says why.

    ## Episode End
    Single-turn: after one reply (``"strict"``: after one valid action). Multi-turn:
    after the last turn, or at the first failed turn; after 20 call steps in one turn
    (``"strict"``: truncated after 20 steps in one turn).

    ## Arguments
    ``category``: a category, a comma list, or a group (``single_turn``, ``non_live``,
    ``live``, ``multi_turn``, ``memory``, ``memory_prereq``, ``web_search``,
    ``format_sensitivity``, ``all``);
    default ``simple``. ``protocol``: ``"bfcl"`` (default) or ``"strict"``. ``web_corpus``:
    the offline pages for the web-search categories (required for them).
    ``result_limit``: characters of a result shown in the
    observation (the transcript keeps all). ``render_mode``: ``"ansi"`` or None. Needs
    ``bfcl-eval`` (``pip install --no-deps bfcl-eval``).

    ## Version History
    - v0: BFCL v4 data of bfcl-eval; ``protocol="bfcl"`` by default (the earlier
      behaviour is ``protocol="strict"``); Java, JavaScript, memory and offline web search.
    """

    reward_access = "hidden"  # the reward reads BFCL's possible answers and ground truth

    def __init__(self, category="simple", protocol: str = "bfcl", result_limit: int = 20_000,
                 web_corpus: str | None = None, render_mode: str | None = None):
        super().__init__(max_steps=MAX_STEPS_PER_TURN, render_mode=render_mode)
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol={protocol!r}: use 'bfcl' (BFCL's own protocol, the default) or 'strict' "
                             "(palaestra's stricter reading with retries).")
        self.protocol = protocol
        self.action_space = BFCLActionSpace()
        self.web_corpus = None
        if any(c in data.WEB_SEARCH for c in data.expand(category)):
            if web_corpus is None:
                raise ValueError("BFCL's web_search categories search an offline corpus here: pass web_corpus= a "
                                 "folder of .txt/.md/.html pages or a .jsonl of {\"url\", \"title\", \"text\"} "
                                 "records (palaestra.envs.tools.bfcl.web_search).")
            from .web_search import load_corpus

            self.web_corpus = str(load_corpus(str(web_corpus)).path)  # checked in full now, not at reset
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
        self._turn, self._turn_steps, self._turn_calls, self._call_steps = 0, 0, 0, 0
        self._results: list[str] = []
        self._verdicts: list[dict] = []
        self._messages, self._steps, self._calls = [], 0, 0
        self._ended, self._outcome = False, None
        self._actions: list = []

    @property
    def _language(self) -> str:
        return data.language(self.entry["category"]) if self.entry is not None else "python"

    @property
    def _reply_format(self) -> tuple[str, bool]:
        """(return format, tool-call tag) of BFCL's prompt for this entry (format_sensitivity varies them)."""
        return data.prompt_config(self.entry) if self.entry is not None else ("python", False)

    def _decode(self, text: str):
        return decode(text, self._language, *self._reply_format)

    @property
    def multi_turn(self) -> bool:
        """Turns of a conversation with executable functions (multi-turn and memory entries)."""
        return self.entry is not None and (self.entry["category"] in data.MULTI_TURN or self.memory
                                           or self.entry["category"] in data.WEB_SEARCH)

    @property
    def memory(self) -> bool:
        return self.entry is not None and (self.entry["category"] in data.MEMORY
                                           or self.entry["category"] in data.MEMORY_PREREQ)

    @property
    def web_search(self) -> bool:
        return self.entry is not None and self.entry["category"] in data.WEB_SEARCH

    @property
    def memory_prereq(self) -> bool:
        return self.entry is not None and self.entry["category"] in data.MEMORY_PREREQ

    # ---- instructions ----------------------------------------------------------------
    @property
    def instructions(self) -> str:
        """Rules, action grammar and the current functions (built when first read)."""
        if getattr(self, "_instructions_text", None) is None:
            self._instructions_text = self._instructions()
        return self._instructions_text

    def _instructions(self) -> str:
        if self.protocol == "bfcl":
            if self.entry is None:
                return bfcl_system_prompt(self._functions)
            stem = data.CATEGORIES[self.entry["category"]]
            return bfcl_system_prompt(shown_functions(self._functions, stem), self.entry.get("config"))
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

    # ---- actions ---------------------------------------------------------------------------
    def parse_action(self, text: str):
        """Under ``"bfcl"`` every text is a reply, judged as BFCL would; it never raises.

        The reply comes back as the native action it amounts to when that is exact: no
        call (it does not decode, or decodes to ``[]``) is ``{"answer": text}``; calls with
        plain JSON values that BFCL would run as written are ``{"name", "arguments"}``
        dicts (a list for several calls, or for a parallel entry); anything else (tuples,
        ``**`` arguments, nested calls) stays ``{"reply": text}`` and is decoded in
        ``step``. Under ``"strict"`` palaestra's parser reads the text and refuses
        malformed text with an explanation.
        """
        if self.protocol != "bfcl":
            return super().parse_action(text)
        if not isinstance(text, str):
            raise InvalidAction(f"a reply is text; got {type(text).__name__}.")
        try:
            decoded = self._decode(text)
        except DecodeError:
            return {"answer": text}
        if not decoded or not is_call_list(decoded):
            return {"answer": text}
        try:
            if not all(runnable for _, _, runnable in execution_calls(decoded)):
                return {"reply": text}
            calls = [_canonical_call({"name": name, "arguments": args})
                     for call in decoded for name, args in call.items()]
        except (DecodeError, InvalidAction):
            return {"reply": text}
        if any(c["name"] != name or c["arguments"] != args for c, call in zip(calls, decoded)
               for name, args in call.items()) or len(calls) > MAX_REPLY_CALLS:
            return {"reply": text}
        parallel = (self.entry is not None and not self.multi_turn
                    and "parallel" in self.entry.get("original_id", self.entry["category"]))
        return calls[0] if len(calls) == 1 and not parallel else calls

    def format_action(self, action) -> str:
        """Text of a native action: the reply itself, or BFCL's Python call list."""
        if isinstance(action, dict) and set(action) == {"reply"}:
            return action["reply"]
        if self.protocol == "bfcl":
            if isinstance(action, dict) and "answer" in action:
                return str(action["answer"])
            calls = [_canonical_call(c) for c in calls_of(action if isinstance(action, (dict, list)) else list(action))]
            if self._language != "python":
                return "[" + ", ".join(source_call_text(c, self._functions) for c in calls) + "]"
            return format_reply(calls, *self._reply_format)
        return super().format_action(action)

    def _begin_step(self, action):
        if isinstance(action, dict) and "reply" in action:
            if self._ended:
                raise InvalidAction("the episode is over; call reset() to start a new one.")
            if self.task is None:
                raise InvalidAction("call reset() before step().")
            if set(action) != {"reply"} or not isinstance(action["reply"], str):
                raise InvalidAction('a reply is {"reply": "<text>"} and nothing else.')
            if self.protocol == "bfcl":
                return {"reply": action["reply"]}
            action = super().parse_action(action["reply"])
        if self.protocol == "bfcl" and isinstance(action, (list, tuple)) and len(action) > MAX_CALLS:
            if self._ended or self.task is None:
                return super()._begin_step(action)
            if len(action) > MAX_REPLY_CALLS:
                raise InvalidAction(f"{len(action)} calls in one action; at most {MAX_REPLY_CALLS}.")
            return [_canonical_call(c) for c in action]
        return super()._begin_step(action)

    def _decoded(self, action) -> tuple[list[dict] | None, str]:
        """(BFCL's decoded calls or None when the reply does not decode, the decode error)."""
        if "reply" in action if isinstance(action, dict) else False:
            try:
                return self._decode(action["reply"]), ""
            except DecodeError as exc:
                return None, str(exc)
        if isinstance(action, dict) and "answer" in action:
            return None, "a final answer (no call)"
        return [{c["name"]: c["arguments"]} for c in calls_of(action)], ""

    def _sample_tools(self) -> list:
        return [(d["name"], bfcl_tool(d).parameters) for d in self._functions]

    def tool_schemas(self) -> list[dict]:
        """The current functions in OpenAI's ``tools`` format (BFCL types mapped to JSON schema)."""
        return [bfcl_tool(f).schema() for f in self._functions]

    # ---- episode -----------------------------------------------------------------------
    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        tid = self._pick(self.task_ids, seed, options)
        memory = (options or {}).get("memory")
        e = self.entries[tid]
        if memory is not None and not (e["category"] in data.MEMORY or e["category"] in data.MEMORY_PREREQ):
            raise ValueError(f"options['memory'] is for BFCL's memory categories; {tid} is {e['category']}.")
        if memory is not None:
            memory = check_memory_snapshot(e["involved_classes"][0], memory)
            if e["category"] in data.MEMORY_PREREQ and tid.endswith("-0"):
                memory = None  # BFCL: the first conversation of a scenario starts from an empty memory
        self._start(tid, memory=memory)
        return self.render_text(), self._info()

    def _start(self, tid: str, restore: dict | None = None, memory: dict | None = None):
        self.entry = self.entries[tid]
        e = self.entry
        goal = " / ".join(m["content"] for turn in e["question"][:1] for m in turn if m["role"] == "user")
        self.task = Task(id=tid, goal=goal, split="test", data={"category": e["category"]}, oracle=_oracle,
                         validator=_validate)
        self._reset_episode()
        self._memory_loaded = memory is not None if restore is None else restore.get("memory_loaded", False)
        if self.memory or self.web_search:
            web = (self.web_corpus, data.WEB_SEARCH[e["category"]]) if self.web_search else None
            self.world = (APIWorld(e, False, memory=memory, web=web) if restore is None
                          else APIWorld.from_bytes(restore["world"]))
            self.truth = None
            self._functions = [d for c in e["involved_classes"] for d in data.multi_turn_docs(c)]
        elif self.multi_turn:
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
        if self.memory and turn == 0:
            self._say("system", memory_system_prompt(e, self.world))
        elif self.web_search and turn == 0:
            self._say("system", agentic_system_prompt())
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
        if not self.multi_turn:
            return self._single_turn(action)
        if self.memory or self.web_search:
            return self._memory_step(action)
        if self.protocol == "bfcl":
            return self._multi_turn_bfcl(action)
        reward, terminated, truncated = 0.0, False, False
        if isinstance(action, dict) and "answer" in action:
            self._say("answer", action["answer"])
            reward, terminated = self._close_turn()
        else:
            for c in self._log_calls(action):
                self._run_call(c["name"], c["arguments"])
            if self._turn_steps >= MAX_STEPS_PER_TURN:
                self._end(False, {"valid": False, "turn": self._turn, "error_type": "multi_turn:force_terminated",
                                  "error": f"more than {MAX_STEPS_PER_TURN} steps in one turn"})
                truncated = True
        return self.render_text(), reward, terminated, truncated, self._info()

    def _run_call(self, name: str, arguments: dict, runnable: bool = True):
        if not runnable:
            result = ("Error during execution: an argument reads as a nested function call, which palaestra "
                      "does not run")
        else:
            result = self.world.call(name, arguments)
        self._results.append(result)
        self._calls += 1
        self._turn_calls += 1
        self._say("tool", result, name=name)

    def _multi_turn_bfcl(self, action):
        """BFCL's inference loop: calls run and the turn goes on; a reply without calls ends it."""
        calls = None
        if isinstance(action, dict) and "reply" in action:
            try:
                calls = execution_calls(decode(action["reply"]))
            except DecodeError:
                calls = None
            if calls:
                self._say("call", action["reply"].strip("`\n "))
            else:
                self._say("answer", action["reply"])
        elif isinstance(action, dict) and "answer" in action:
            self._say("answer", action["answer"])
        else:
            calls = [(c["name"], c["arguments"], True) for c in self._log_calls(action)]
        if not calls:
            reward, terminated = self._close_turn()
            return self.render_text(), reward, terminated, False, self._info()
        for name, arguments, runnable in calls:
            self._run_call(name, arguments, runnable)
        self._call_steps += 1
        if self._call_steps > MAX_STEPS_PER_TURN:
            if self._turn == len(self.entry["question"]) - 1:
                # BFCL's force quit in the last turn leaves as many turns as the ground
                # truth has, so its evaluator judges the entry as usual
                reward, terminated = self._close_turn()
                return self.render_text(), reward, terminated, False, self._info()
            self._end(False, {"valid": False, "turn": self._turn, "error_type": "multi_turn:force_terminated",
                              "error": f"more than {MAX_STEPS_PER_TURN} steps with calls in one turn"})
            return self.render_text(), 0.0, True, False, self._info()
        return self.render_text(), 0.0, False, False, self._info()

    def _memory_step(self, action):
        """BFCL's memory entries: calls run on the memory backend; a reply without calls ends
        the turn. Prerequisite conversations (the write phase) are not scored and end with
        the memory in ``info["memory"]``; a question is judged on that reply by BFCL's
        ``agentic_checker`` (one of the answers appears in it, words whole, case and
        ``,./-_*^()`` ignored)."""
        calls, text = None, None
        if isinstance(action, dict) and "reply" in action:  # protocol="bfcl" (strict replies are parsed)
            try:
                calls = execution_calls(decode(action["reply"]))
            except DecodeError:
                calls = None
            text = action["reply"]
            self._say("call" if calls else "answer", text.strip("`\n ") if calls else text)
        elif isinstance(action, dict) and "answer" in action:
            text = action["answer"]
            self._say("answer", text)
        else:
            calls = [(c["name"], c["arguments"], True) for c in self._log_calls(action)]
        if calls:
            for name, arguments, runnable in calls:
                self._run_call(name, arguments, runnable)
            self._call_steps += 1
            if self._call_steps <= MAX_STEPS_PER_TURN:
                return self.render_text(), 0.0, False, False, self._info()
            text = None  # BFCL's force quit: the turn (and the entry's inference) stops here
        if self.memory_prereq:
            if text is not None and self._turn + 1 < len(self.entry["question"]):
                self._turn += 1
                self._turn_steps, self._turn_calls, self._call_steps = 0, 0, 0
                self._open_turn(self._turn)
                return self.render_text(), 0.0, False, False, self._info()
            self._end(False, {"valid": False, "error_type": "", "scored": False,
                              "note": "a prerequisite conversation (BFCL's memory write phase) is not scored; pass "
                                      "info['memory'] to the scenario's next entries"})
            return self.render_text(), 0.0, True, False, self._info()
        if text is None:
            verdict = {"valid": False, "error_type": "agentic:no_last_message",
                       "error": f"more than {MAX_STEPS_PER_TURN} steps with calls and no final reply"}
        else:
            verdict = agentic_verdict(text, self.entry["ground_truth"], self.protocol)
        self._end(verdict["valid"], verdict)
        return self.render_text(), (1.0 if verdict["valid"] else 0.0), True, False, self._info()

    def _single_turn(self, action):
        e = self.entry
        category = e["category"]
        if self.protocol == "strict":
            return self._single_turn_strict(action)
        decoded, why = self._decoded(action)
        if isinstance(action, dict) and "reply" in action:
            self._say("call" if decoded else "answer", action["reply"])
        elif decoded is None:
            self._say("answer", action["answer"])
        else:
            self._log_calls(action)
        self._calls = len(decoded or [])
        if "relevance" in category:  # BFCL: a reply that does not decode, or decodes to [], has no call
            has_call = bool(decoded) and is_call_list(decoded)
            if "irrelevance" in category:
                verdict = {"valid": not has_call,
                           "error_type": "" if not has_call else "irrelevance_error:decoder_success",
                           "error": "" if not has_call else "a function was called where none fits"}
            else:
                verdict = {"valid": has_call, "error_type": "" if has_call else "relevance_error:decoder_failed",
                           "error": "" if has_call else "no function was called"}
        elif decoded is None:
            verdict = {"valid": False, "error_type": "ast_decoder:decoder_failed",
                       "error": f"the reply is not a list of calls in BFCL's format: {why}"}
        elif not is_call_list(decoded):
            verdict = {"valid": False, "error_type": "ast_decoder:decoder_wrong_output_format",
                       "error": "the reply decodes to no function call in BFCL's format"}
        else:
            # format_sensitivity: BFCL dispatches on the original entry's id (simple / multiple / parallel)
            verdict = check(e["function"], decoded, e["ground_truth"], e.get("original_id", category),
                            matching="first_fit", language=self._language)
        self._end(verdict["valid"], verdict)
        return self.render_text(), (1.0 if verdict["valid"] else 0.0), True, False, self._info()

    def _single_turn_strict(self, action):
        e = self.entry
        category = e["category"]
        if isinstance(action, dict) and "answer" in action:
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
            verdict = check(e["function"], model, e["ground_truth"], e.get("original_id", category),
                            matching="perfect",
                            language=self._language)
        self._end(verdict["valid"], verdict)
        return self.render_text(), (1.0 if verdict["valid"] else 0.0), True, False, self._info()

    def _close_turn(self) -> tuple[float, bool]:
        e, turn = self.entry, self._turn
        truth_calls = e["ground_truth"][turn]
        truth_results = [self.truth.call(c["name"], c["arguments"])
                         for c in (parse_ground_truth(t, self.truth) for t in truth_calls)]
        verdict = {"valid": True, "turn": turn}
        if not truth_calls:
            if self._turn_calls and self.protocol == "strict":
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
        self._turn_steps, self._turn_calls, self._call_steps = 0, 0, 0
        if self._turn >= len(e["question"]):
            self._end(True, {"valid": True, "turns": self._turn})
            return 1.0, True
        self._open_turn(self._turn)
        return 0.0, False

    def _end(self, success: bool, verdict: dict):
        self._ended = True
        self._outcome = {"success": bool(success), "verdict": json.loads(json.dumps(verdict, default=str))}

    def _info(self) -> dict:
        info = {"task_id": self.task.id, "category": self.entry["category"], "protocol": self.protocol,
                "steps": self._steps, "calls": self._calls}
        if self.multi_turn:
            info["turn"] = self._turn
            info["turns"] = len(self.entry["question"])
            info["turn_verdicts"] = [dict(v) for v in self._verdicts]
        if self.memory:
            info["memory_loaded"] = self._memory_loaded
            if self.memory_prereq and self._ended:
                info["memory"] = memory_snapshot(self.world)
        if self._outcome is not None:
            info["success"] = self._outcome["success"]
            info["verdict"] = json.loads(json.dumps(self._outcome["verdict"]))
        return info

    # ---- oracle ------------------------------------------------------------------------------
    def oracle_actions(self) -> list:
        """Ground-truth actions from the current point of a fresh episode (BFCL's answers)."""
        e = self.entry
        cat = e["category"]
        if self.memory or self.web_search:
            if self.memory_prereq:
                return [{"answer": "Noted."} for _ in range(self._turn, len(e["question"]))]
            return [{"answer": str({"answer": e["ground_truth"][0], "context": "from my memory"})}]
        if self.multi_turn:
            plan = self._multi_turn_plan(0)
            done = len(self._actions)
            if json.loads(json.dumps(plan[:done])) == json.loads(json.dumps(self._actions)):
                return plan[done:]
            return self._multi_turn_plan(self._turn)
        if "irrelevance" in cat:
            return [{"answer": "None of the functions fits this request."}]
        if "relevance" in cat:
            return [placeholder_call(e["function"][0])]
        calls = [ground_truth_call(e["function"], gt) for gt in e["ground_truth"]]
        if self._language != "python":
            calls = [source_call(c, e["function"], self._language) for c in calls]
        return [calls if "parallel" in e.get("original_id", cat) else calls[0]]

    def _multi_turn_plan(self, first_turn: int) -> list:
        actions = []
        for turn, calls in enumerate(self.entry["ground_truth"]):
            if turn < first_turn:
                continue
            parsed = [parse_ground_truth(t, self.truth) for t in calls]
            if len(parsed) < MAX_STEPS_PER_TURN:  # one call per step
                actions += parsed
            else:  # long turns: several calls per step (run in order), within the step limit
                chunks = [parsed[i:i + MAX_CALLS] for i in range(0, len(parsed), MAX_CALLS)]
                actions += [chunk if len(chunk) > 1 else chunk[0] for chunk in chunks]
            actions.append({"answer": "Done." if calls else
                            "I cannot do that with the functions and details I have; please tell me more."})
        return actions

    # ---- text ----------------------------------------------------------------------------------
    def render_text(self) -> str:
        if self.task is None:
            return "No episode yet: call reset()."
        e = self.entry
        head = f"BFCL v4 {e['category']} entry {e['id']} (protocol: {self.protocol})"
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

    def _prompt_line(self) -> str:
        if self.protocol == "strict":
            return super()._prompt_line()
        if self.multi_turn:
            return ("Your reply: function calls as [func_name1(param=value, ...), func_name2(...)] (they run and "
                    "you see the results), or a reply without calls to end this turn.")
        return ("Your reply (one, judged as BFCL judges it): function calls as [func_name1(param=value, ...), "
                "func_name2(...)], or a reply without calls if none of the functions can be used.")

    # ---- snapshots -------------------------------------------------------------------------------
    def get_state(self):
        return {
            "task_id": self.task.id if self.task else None,
            "world": self.world.to_bytes() if self.world else None,
            "truth": self.truth.to_bytes() if self.truth else None,
            "functions": [f["name"] for f in self._functions],
            "messages": self.transcript(), "turn": self._turn, "turn_steps": self._turn_steps,
            "turn_calls": self._turn_calls, "call_steps": self._call_steps, "protocol": self.protocol,
            "results": list(self._results),
            "verdicts": [dict(v) for v in self._verdicts], "steps": self._steps, "calls": self._calls,
            "ended": self._ended, "outcome": json.loads(json.dumps(self._outcome)),
            "memory_loaded": getattr(self, "_memory_loaded", False),
            "actions": json.loads(json.dumps(self._actions)),
        }

    def set_state(self, state) -> None:
        if state["task_id"] is None:
            raise ValueError("this snapshot was taken before reset(); there is nothing to restore.")
        tid = state["task_id"]
        if state.get("protocol", self.protocol) != self.protocol:
            raise ValueError(f"the snapshot was taken under protocol={state['protocol']!r}; this env runs "
                             f"protocol={self.protocol!r}. Make the env with the snapshot's protocol.")
        if tid not in self.entries:
            raise ValueError(f"the snapshot's entry {tid!r} is not in this env's categories {self.categories}.")
        category = self.entries[tid]["category"]
        multi = (category in data.MULTI_TURN or category in data.MEMORY or category in data.MEMORY_PREREQ
                 or category in data.WEB_SEARCH)
        self._start(tid, restore=state if multi else {})
        by_name = {}
        if self.multi_turn:
            by_name = {d["name"]: d for c in self.entry["involved_classes"] for d in data.multi_turn_docs(c)}
            self._functions = [by_name[n] for n in state["functions"]]
            self._instructions_text = None
        self._messages = [dict(m) for m in state["messages"]]
        self._turn, self._turn_steps, self._turn_calls = state["turn"], state["turn_steps"], state["turn_calls"]
        self._call_steps = state.get("call_steps", 0)
        self._results = list(state["results"])
        self._verdicts = [dict(v) for v in state["verdicts"]]
        self._steps, self._calls, self._ended = state["steps"], state["calls"], state["ended"]
        self._outcome = json.loads(json.dumps(state["outcome"]))
        self._actions = json.loads(json.dumps(state["actions"]))


# the oracle's helpers, under the names tests and benchmarks import from this module
_ground_truth_call, _placeholder_call = ground_truth_call, placeholder_call
