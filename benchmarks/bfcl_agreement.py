"""BFCL-v0 (protocol="bfcl") against BFCL's own evaluator, verdict by verdict.

Single-turn: a battery of model-like replies to every single-turn entry (correct, wrong
function, missing/extra parameters, type swaps, case, parallel reorderings, abstentions
in prose and ``[]``, BFCL's JSON output form, fenced blocks, positional arguments,
arithmetic, bare identifiers, tuples, ...). Each reply goes through BFCL-v0's text
interface (``gym.make(..., text=True)``, one ``step(reply)``) and through BFCL's eval
runner (``_evaluate_single_ast_entry`` / ``_evaluate_single_relevance_entry`` with its
default prompting decoder, :mod:`palaestra.envs.tools.bfcl.reference`).

Multi-turn: per entry, the ground truth and perturbed reply scripts (a turn left empty,
a call dropped, a wrong value, a call in a turn whose ground truth is empty, a call
with positional arguments, a turn in JSON form, reordered calls, all calls of a turn in
one reply, an early prose reply, 21 call steps in a turn), through BFCL-v0's text
interface and through BFCL's own multi-turn inference loop plus its shipped evaluator.

Run: ``python benchmarks/bfcl_agreement.py`` (``--single N --multi M`` to size it,
``--json PATH`` to keep every disagreement).
"""

from __future__ import annotations

import argparse
import copy
import json
import keyword
import random
import time
from collections import Counter, defaultdict

# ---- reply text ---------------------------------------------------------------------------


def lit(value, quote="'"):
    """A Python literal for a JSON value; ``quote='"'`` writes strings with double quotes."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False) if quote == '"' else repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(lit(v, quote) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(lit(v, quote) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{lit(k, quote)}: {lit(v, quote)}" for k, v in value.items()) + "}"
    return repr(value)


def call_text(name, args, quote="'", sep=", "):
    return f"{name}(" + sep.join(f"{k}={lit(v, quote)}" for k, v in args.items()) + ")"


def py(calls, quote="'"):
    return "[" + ", ".join(call_text(c["name"], c["arguments"], quote) for c in calls) + "]"


def _ident(value) -> bool:
    return isinstance(value, str) and value.isidentifier() and not keyword.iskeyword(value) \
        and value not in ("True", "False", "None")


def _tuplify(value):
    if isinstance(value, list):
        return tuple(_tuplify(v) for v in value)
    return value


# ---- single-turn battery ---------------------------------------------------------------------
PROSE = [
    "I'm sorry, but none of the available functions can help with this request.",
    "None of the provided functions is suitable for this question.",
    "The question lacks the parameters required by the function. Could you tell me more?",
    "I cannot answer that with these tools.",
]


def _with(call, **changes):
    c = copy.deepcopy(call)
    c.update(changes)
    return c


def _mutations(entry, calls, rng):
    """(kind, list of calls) variants of the ground truth calls."""
    docs = {f["name"]: f for f in entry["function"]}
    out = []
    first = calls[0]
    doc = docs.get(first["name"], {"parameters": {"properties": {}, "required": []}})
    props = doc["parameters"].get("properties", {})
    required = doc["parameters"].get("required", [])
    rest = calls[1:]
    # wrong function
    other = [n for n in docs if n != first["name"]]
    out.append(("wrong function", [_with(first, name=rng.choice(other) if other else first["name"] + "_v2")] + rest))
    out.append(("function name case", [_with(first, name=first["name"].upper())] + rest))
    # missing parameters
    present_req = [p for p in required if p in first["arguments"]]
    if present_req:
        c = copy.deepcopy(first)
        del c["arguments"][rng.choice(present_req)]
        out.append(("missing required", [c] + rest))
    present_opt = [p for p in first["arguments"] if p not in required]
    if present_opt:
        c = copy.deepcopy(first)
        del c["arguments"][rng.choice(present_opt)]
        out.append(("missing optional", [c] + rest))
    absent_opt = [p for p in props if p not in first["arguments"] and p not in required]
    c = copy.deepcopy(first)
    if absent_opt:
        p = rng.choice(absent_opt)
        c["arguments"][p] = _placeholder(props[p])
        out.append(("extra schema param", [c] + rest))
    c = copy.deepcopy(first)
    c["arguments"]["unexpected_param"] = "x"
    out.append(("extra unknown param", [c] + rest))
    # per-value changes
    for param, value in first["arguments"].items():
        c = copy.deepcopy(first)
        args = c["arguments"]
        if isinstance(value, bool):
            out.append(("bool as string", [_with(first, arguments={**args, param: str(value).lower()})] + rest))
            out.append(("wrong value", [_with(first, arguments={**args, param: not value})] + rest))
        elif isinstance(value, int):
            out.append(("int as string", [_with(first, arguments={**args, param: str(value)})] + rest))
            out.append(("int as float", [_with(first, arguments={**args, param: float(value)})] + rest))
            out.append(("wrong value", [_with(first, arguments={**args, param: value + 7})] + rest))
        elif isinstance(value, float):
            out.append(("float as string", [_with(first, arguments={**args, param: str(value)})] + rest))
            if value == int(value):
                out.append(("float as int", [_with(first, arguments={**args, param: int(value)})] + rest))
            out.append(("wrong value", [_with(first, arguments={**args, param: value * 3 + 1})] + rest))
        elif isinstance(value, str):
            out.append(("string upper case", [_with(first, arguments={**args, param: value.upper()})] + rest))
            punctuated = " " + value.replace(" ", "_") + "."
            out.append(("string punctuation", [_with(first, arguments={**args, param: punctuated})] + rest))
            out.append(("wrong value", [_with(first, arguments={**args, param: value + " extra"})] + rest))
            if value.strip().lstrip("-").isdigit():
                out.append(("numeric string as int", [_with(first, arguments={**args, param: int(value)})] + rest))
        elif isinstance(value, list):
            out.append(("list as tuple", [_with(first, arguments={**args, param: tuple(value)})] + rest))
            out.append(("empty list", [_with(first, arguments={**args, param: []})] + rest))
            if value:
                out.append(("list first item", [_with(first, arguments={**args, param: value[0]})] + rest))
                out.append(("list reversed", [_with(first, arguments={**args, param: list(reversed(value))})] + rest))
        elif isinstance(value, dict):
            out.append(("dict as string", [_with(first, arguments={**args, param: json.dumps(value)})] + rest))
            out.append(("empty dict", [_with(first, arguments={**args, param: {}})] + rest))
    # call count and order
    if len(calls) > 1:
        out.append(("parallel reversed", list(reversed(calls))))
        shuffled = calls[:]
        rng.shuffle(shuffled)
        out.append(("parallel shuffled", shuffled))
        out.append(("parallel one dropped", calls[:-1]))
    out.append(("duplicate call", calls + [calls[0]]))
    return out


def _placeholder(prop):
    return {"string": "example", "integer": 3, "float": 1.5, "boolean": True, "array": ["a"], "tuple": ["a"],
            "dict": {"k": "v"}}.get(prop.get("type"), "example")


def _forms(calls, rng):
    """(kind, reply text) forms of one list of calls."""
    out = [("python list", py(calls)), ("python list, double quotes", py(calls, '"')),
           ("python list, newlines",
            "[\n    " + ",\n    ".join(call_text(c["name"], c["arguments"]) for c in calls) + "\n]"),
           ("json form", json.dumps([{"function": c["name"], "parameters": c["arguments"]} for c in calls])),
           ("json form fenced", "```json\n" + json.dumps([{"function": c["name"], "parameters": c["arguments"]}
                                                         for c in calls]) + "\n```"),
           ("openai json", json.dumps({"name": calls[0]["name"], "arguments": calls[0]["arguments"]})),
           ("fenced python", "```python\n" + py(calls) + "\n```"),
           ("fenced bare", "```\n" + py(calls) + "\n```"),
           ("inline backticks", "`" + py(calls) + "`"),
           ("prose then calls", "Sure, here are the calls: " + py(calls)),
           ("calls then prose", py(calls) + "\nLet me know if you need anything else."),
           ("tuple of calls", "(" + ", ".join(call_text(c["name"], c["arguments"]) for c in calls) + ",)"),
           ("quoted list", "'" + py(calls) + "'")]
    if len(calls) == 1:
        out.append(("bare call", call_text(calls[0]["name"], calls[0]["arguments"])))
    else:
        out.append(("bare calls", ", ".join(call_text(c["name"], c["arguments"]) for c in calls)))
    c = calls[0]
    if c["arguments"]:
        values = list(c["arguments"].values())
        out.append(("positional args", "[" + f"{c['name']}(" + ", ".join(lit(v) for v in values) + ")"
                    + "".join(", " + call_text(o["name"], o["arguments"]) for o in calls[1:]) + "]"))
        if len(values) > 1:
            (k0, v0), *others = c["arguments"].items()
            out.append(("first arg positional", "[" + f"{c['name']}({lit(v0)}, "
                        + ", ".join(f"{k}={lit(v)}" for k, v in others) + ")"
                        + "".join(", " + call_text(o["name"], o["arguments"]) for o in calls[1:]) + "]"))
    ints = [k for k, v in c["arguments"].items() if isinstance(v, int) and not isinstance(v, bool)]
    if ints:
        k = rng.choice(ints)
        v = c["arguments"][k]
        text = py(calls).replace(f"{k}={v!r}", f"{k}={v - 1} + 1", 1)
        out.append(("arithmetic", text))
    idents = [k for k, v in c["arguments"].items() if _ident(v)]
    if idents:
        k = rng.choice(idents)
        text = py(calls).replace(f"{k}={c['arguments'][k]!r}", f"{k}={c['arguments'][k]}", 1)
        out.append(("bare identifier", text))
    lists = [k for k, v in c["arguments"].items() if isinstance(v, list) and v]
    if lists:
        k = rng.choice(lists)
        cc = copy.deepcopy(calls)
        cc[0]["arguments"][k] = _tuplify(cc[0]["arguments"][k])
        out.append(("tuple for a list", py(cc)))
    negs = [k for k, v in c["arguments"].items() if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0]
    if negs:
        k = rng.choice(negs)
        out.append(("unary plus", py(calls).replace(f"{k}={c['arguments'][k]!r}", f"{k}=+{c['arguments'][k]!r}", 1)))
    text = py(calls)
    out.append(("truncated", text[: max(2, len(text) // 2)]))
    out.append(("kwargs splat", "[" + f"{c['name']}(**{lit(c['arguments'])})" + "]"))
    return out


def single_turn_cases(env, rng, n: int):
    """(entry id, kind, reply) cases, about ``n`` of them, spread over every entry."""
    from palaestra.envs.tools.bfcl.env import _ground_truth_call, _placeholder_call

    per_entry = []
    for tid in env.task_ids:
        e = env.entries[tid]
        cases = []
        if "relevance" in e["category"]:  # irrelevance and relevance: abstentions and calls
            doc = e["function"][0] if e["function"] else {"name": "get_info", "parameters": {"properties": {}}}
            call = _placeholder_call(doc)
            cases += [("prose", rng.choice(PROSE)), ("prose naming a function",
                                                     f"The function {doc['name']} cannot answer this question."),
                      ("empty list", "[]"), ("empty list fenced", "```\n[]\n```"), ("None", "None"),
                      ("empty reply", ""),
                      ("malformed call", f"[{doc['name']}(x=]"), ("placeholder call", py([call])),
                      ("call without args", f"[{doc['name']}()]"),
                      ("json form", json.dumps([{"function": call["name"], "parameters": call["arguments"]}])),
                      ("fenced python call", "```python\n" + py([call]) + "\n```"),
                      ("bare call", call_text(call["name"], call["arguments"])),
                      ("positional call", f"[{doc['name']}('x')]")]
        elif e.get("ground_truth"):
            gt = [_ground_truth_call(e["function"], g) for g in e["ground_truth"]]
            cases += [(f"correct, {kind}", text) for kind, text in _forms(gt, rng)]
            for kind, calls in _mutations(e, gt, rng):
                cases.append((kind, py(calls)))
            cases += [("prose", rng.choice(PROSE)), ("empty list", "[]")]
        if "java" in e["category"]:  # Java/JavaScript: the ground truth as source, the rest as written
            lang = "javascript" if "javascript" in e["category"] else "java"
            env.reset(options={"task": tid})
            cases.append(("correct, source", env.format_action(env.task.solve(env)[0])))
            cases = [(f"{lang}: {kind}", text) for kind, text in cases]
        per_entry.append([(tid, kind, text) for kind, text in cases])
    total = sum(len(c) for c in per_entry)
    keep = min(1.0, n / max(total, 1))
    out = []
    for cases in per_entry:
        for case in cases:
            if rng.random() < keep:
                out.append(case)
    return out


def run_single_turn(n: int = 24_000, seed: int = 0, progress=None) -> dict:
    import gymnasium as gym

    import palaestra  # noqa: F401 - registers the ids
    from palaestra.envs.tools.bfcl import reference

    env = gym.make("palaestra/BFCL-v0", category="single_turn", text=True)
    base = env.unwrapped
    rng = random.Random(seed)
    cases = single_turn_cases(base, rng, n)
    agree, by_kind, disagreements, raised = 0, defaultdict(Counter), [], 0
    for i, (tid, kind, reply) in enumerate(cases):
        env.reset(options={"task": tid})
        _, reward, term, trunc, info = env.step(reply)
        ours = bool(info.get("success")) and term
        try:
            theirs = reference.single_turn_verdict(base.entries[tid], reply)
        except Exception as exc:  # noqa: BLE001 - BFCL's evaluator itself crashed on this reply
            theirs, raised = f"raised {type(exc).__name__}", raised + 1
        same = ours == theirs
        agree += same
        by_kind[kind]["same" if same else "different"] += 1
        by_kind[kind]["bfcl_pass"] += theirs is True
        if not same:
            disagreements.append({"id": tid, "kind": kind, "reply": reply[:300], "palaestra": ours, "bfcl": theirs,
                                  "palaestra_verdict": info.get("verdict", {}).get("error_type", "")})
        if progress and i % 1000 == 0:
            progress(i, len(cases))
    return {"cases": len(cases), "agree": agree, "by_kind": {k: dict(v) for k, v in sorted(by_kind.items())},
            "disagreements": disagreements, "bfcl_raised": raised}


# ---- multi-turn battery ----------------------------------------------------------------------
def _kw_calls(entry, world):
    from palaestra.envs.tools.bfcl.multi_turn import parse_ground_truth

    return [[parse_ground_truth(t, world) for t in turn] for turn in entry["ground_truth"]]


def multi_turn_scripts(entry, world, rng):
    """(kind, script) pairs: script[turn] is the list of replies in that turn."""
    turns = _kw_calls(entry, world)
    one = [[py([c]) for c in turn] for turn in turns]
    out = [("ground truth", one), ("ground truth, one reply per turn", [[py(t)] if t else [] for t in turns])]
    filled = [i for i, t in enumerate(turns) if t]
    empty = [i for i, t in enumerate(turns) if not t]
    if filled:
        i = rng.choice(filled)
        s = copy.deepcopy(one)
        s[i] = []
        out.append(("turn left empty", s))
        s = copy.deepcopy(one)
        del s[i][rng.randrange(len(s[i]))]
        out.append(("one call dropped", s))
        s = copy.deepcopy(one)
        j = rng.randrange(len(turns[i]))
        c = copy.deepcopy(turns[i][j])
        strs = [k for k, v in c["arguments"].items() if isinstance(v, str)]
        nums = [k for k, v in c["arguments"].items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if strs:
            c["arguments"][rng.choice(strs)] += "_x"
        elif nums:
            k = rng.choice(nums)
            c["arguments"][k] = c["arguments"][k] + 1
        s[i][j] = py([c])
        out.append(("wrong value", s))
        if c["arguments"]:
            s = copy.deepcopy(one)
            orig = turns[i][j]
            s[i][j] = f"[{orig['name']}(" + ", ".join(lit(v) for v in orig["arguments"].values()) + ")]"
            out.append(("positional call", s))
        s = copy.deepcopy(one)
        s[i] = [json.dumps([{"function": c["name"], "parameters": c["arguments"]} for c in turns[i]])]
        out.append(("turn in json form", s))
        if len(turns[i]) > 1:
            s = copy.deepcopy(one)
            s[i] = list(reversed(s[i]))
            out.append(("calls reordered", s))
            s = copy.deepcopy(one)
            s[i] = s[i][:1] + ["I have done the first step."] + s[i][1:]
            out.append(("prose mid-turn", s))
        s = copy.deepcopy(one)
        s[i] = s[i] + [s[i][-1]]
        out.append(("last call repeated", s))
        s = copy.deepcopy(one)
        s[i] = ["```python\n" + py(turns[i]) + "\n```"]
        out.append(("turn fenced with a language tag", s))
        s = copy.deepcopy(one)
        s[i] = ["```\n" + py(turns[i]) + "\n```"]
        out.append(("turn fenced without a tag", s))
        s = copy.deepcopy(one)
        s[i] = ["[no_such_function(x=1)]"] * 21
        out.append(("21 call steps", s))
    if empty:
        i = rng.choice(empty)
        later = [c for t in turns[i + 1:] for c in t] or [c for t in turns for c in t]
        if later:
            s = copy.deepcopy(one)
            s[i] = [py([later[0]])]
            out.append(("call in an empty-ground-truth turn", s))
    if len(filled) > 1:
        i, k = filled[0], filled[1]
        s = copy.deepcopy(one)
        s[i] = s[i] + s[k]
        s[k] = []
        out.append(("next turn's calls done early", s))
    return out


def _run_palaestra(env, tid, script):
    env.reset(options={"task": tid})
    info = {}
    for turn, replies in enumerate(script):
        for reply in replies + ["Done."]:
            _, _, term, trunc, info = env.step(reply)
            if term or trunc:
                return bool(info.get("success"))
            if info["turn"] != turn:
                break
    return bool(info.get("success"))


def run_multi_turn(n_entries: int = 400, per_entry: int = 4, seed: int = 0, progress=None) -> dict:
    import gymnasium as gym

    import palaestra  # noqa: F401
    from palaestra.envs.tools.bfcl import reference
    from palaestra.envs.tools.bfcl.multi_turn import APIWorld

    env = gym.make("palaestra/BFCL-v0", category="multi_turn", text=True)
    base = env.unwrapped
    rng = random.Random(seed)
    by_cat = defaultdict(list)
    for tid in base.task_ids:
        by_cat[base.entries[tid]["category"]].append(tid)
    ids = []
    for cat in sorted(by_cat):  # the same number from each multi-turn category
        ids += rng.sample(by_cat[cat], min(len(by_cat[cat]), -(-n_entries // len(by_cat))))
    agree, total, by_kind, disagreements = 0, 0, defaultdict(Counter), []
    for i, tid in enumerate(ids):
        e = base.entries[tid]
        world = APIWorld(e, "long_context" in e["category"])
        scripts = multi_turn_scripts(e, world, rng)
        chosen = scripts[:1] + rng.sample(scripts[1:], min(per_entry - 1, len(scripts) - 1))
        for kind, script in chosen:
            ours = _run_palaestra(env, tid, script)
            theirs = reference.multi_turn_verdict(e, script, f"{seed}_{i}_{kind}")
            total += 1
            same = ours == theirs
            agree += same
            by_kind[kind]["same" if same else "different"] += 1
            by_kind[kind]["bfcl_pass"] += theirs
            if not same:
                disagreements.append({"id": tid, "kind": kind, "palaestra": ours, "bfcl": theirs,
                                      "script": [[r[:120] for r in t] for t in script]})
        if progress:
            progress(i, len(ids))
    return {"entries": len(ids), "runs": total, "agree": agree,
            "by_kind": {k: dict(v) for k, v in sorted(by_kind.items())}, "disagreements": disagreements}


# ---- memory battery ------------------------------------------------------------------------------
def _memory_write_script(backend, entry, facts):
    """Replies for a prerequisite conversation: store some facts in the first turn, nothing later."""
    if backend == "kv":
        first = [f"[archival_memory_add(key={k!r}, value={v!r})]" for k, v in facts]
        first += [f"[core_memory_add(key={k!r}, value={v!r})]" for k, v in facts[:3]]
    else:
        first = [f"[memory_append(text={(k + ': ' + v + '. ')!r})]" for k, v in facts]
    return [first] + [[] for _ in entry["question"][1:]]


def _memory_question_scripts(backend, entry, key, everything, rng):
    answer = entry["ground_truth"][0]
    retrieve = f"[archival_memory_retrieve(key={key!r})]" if backend == "kv" else "[memory_retrieve()]"
    scripts = [("retrieve then answer", [retrieve, str({"answer": answer, "context": "from memory"})]),
               ("answer in prose", [f"I remember: {answer}."]),
               ("wrong answer", [str({"answer": "I do not know", "context": "I do not know"})]),
               ("every answer of the scenario", [", ".join(everything)]),
               ("21 call steps", [retrieve] * 21),
               ("answer as a call", [f"[answer(text={answer!r})]"]),
               ("empty reply", [""]),
               ("answer in a fenced block", ["```\n" + answer + "\n```"])]
    return rng.sample(scripts, 3)


def _palaestra_conversation(env, tid, script, memory=None):
    options = {"task": tid} if memory is None else {"task": tid, "memory": memory}
    env.reset(options=options)
    info = {}
    for turn, replies in enumerate(script):
        for reply in replies + ["Done."]:
            _, _, term, trunc, info = env.step(reply)
            if term or trunc:
                return info
            if info["turn"] != turn:
                break
    return info


def run_memory(seed: int = 0, scenarios=None) -> dict:
    import tempfile

    import gymnasium as gym

    import palaestra  # noqa: F401
    from palaestra.envs.tools.bfcl import data, reference

    rng = random.Random(seed)
    agree, total, by_kind, disagreements = 0, 0, defaultdict(Counter), []
    for backend in ("kv", "rec_sum"):
        prereq_env = gym.make("palaestra/BFCL-v0", category=f"memory_{backend}_prereq", text=True)
        question_env = gym.make("palaestra/BFCL-v0", category=f"memory_{backend}", text=True)
        for scenario in scenarios or data.SCENARIOS:
            pre = [e for e in data.load(f"memory_{backend}_prereq") if e["scenario"] == scenario]
            qs = [e for e in data.load(f"memory_{backend}") if e["scenario"] == scenario]
            facts = [(f"q_{i}", q["ground_truth"][0]) for i, q in enumerate(qs)]
            rng.shuffle(facts)
            stored = dict(facts[: len(facts) // 2])  # half the answers are written down
            chunks = [list(stored.items())[i::len(pre)] for i in range(len(pre))]
            prereqs = [(e, _memory_write_script(backend, e, chunk)) for e, chunk in zip(pre, chunks)]
            memory = None
            for e, script in prereqs:
                info = _palaestra_conversation(prereq_env, e["id"], script, memory)
                memory = info["memory"]
            everything = [q["ground_truth"][0] for q in qs]
            questions, kinds = [], []
            for i, q in enumerate(qs):
                for kind, replies in _memory_question_scripts(backend, q, f"q_{i}", everything, rng):
                    questions.append((q, replies))
                    kinds.append(kind)
            ours = [bool(_palaestra_conversation(question_env, q["id"], [replies], memory).get("success"))
                    for q, replies in questions]
            with tempfile.TemporaryDirectory() as folder:
                theirs = reference.memory_verdicts(prereqs, questions, f"{seed}_{backend}_{scenario}", folder)
            for (q, replies), kind, a, b in zip(questions, kinds, ours, theirs):
                total += 1
                agree += a == b
                by_kind[f"{backend}: {kind}"]["same" if a == b else "different"] += 1
                by_kind[f"{backend}: {kind}"]["bfcl_pass"] += b
                if a != b:
                    disagreements.append({"id": q["id"], "kind": kind, "palaestra": a, "bfcl": b,
                                          "reply": replies[-1][:150]})
    return {"runs": total, "agree": agree, "by_kind": {k: dict(v) for k, v in sorted(by_kind.items())},
            "disagreements": disagreements}


# ---- format-sensitivity battery ------------------------------------------------------------------
FORMATS = [(fmt, tag) for fmt in ("python", "json", "verbose_xml", "concise_xml") for tag in (False, True)]


def run_format_sensitivity(n: int = 6000, seed: int = 0) -> dict:
    """Replies to format-sensitivity entries: the ground truth (and a wrong value, a missing
    call) written in every BFCL return format, with and without the tool-call tag, judged
    under the entry's own prompt configuration."""
    import gymnasium as gym

    import palaestra  # noqa: F401
    from palaestra.envs.tools.bfcl import reference
    from palaestra.envs.tools.bfcl.replies import format_reply

    env = gym.make("palaestra/BFCL-v0", category="format_sensitivity", text=True)
    base = env.unwrapped
    rng = random.Random(seed)
    cases = []
    for tid in base.task_ids:
        env.reset(options={"task": tid})
        action = base.task.solve(base)[0]
        calls = action if isinstance(action, list) else [action]
        wrong = copy.deepcopy(calls)
        k = next((k for k, v in wrong[0]["arguments"].items() if isinstance(v, (str, int, float))
                  and not isinstance(v, bool)), None)
        if k is not None:
            v = wrong[0]["arguments"][k]
            wrong[0]["arguments"][k] = v + " zz" if isinstance(v, str) else v + 7
        for fmt, tag in FORMATS:
            cases.append((tid, f"correct as {fmt}{' in tag' if tag else ''}", format_reply(calls, fmt, tag)))
            cases.append((tid, f"wrong value as {fmt}{' in tag' if tag else ''}", format_reply(wrong, fmt, tag)))
        cases.append((tid, "fenced json", "```json\n" + format_reply(calls, "json") + "\n```"))
        cases.append((tid, "prose", rng.choice(PROSE)))
    cases = rng.sample(cases, min(n, len(cases)))
    agree, by_kind, disagreements = 0, defaultdict(Counter), []
    for tid, kind, reply in cases:
        env.reset(options={"task": tid})
        info = env.step(reply)[-1]
        ours = bool(info.get("success"))
        theirs = reference.single_turn_verdict(base.entries[tid], reply)
        agree += ours == theirs
        by_kind[kind]["same" if ours == theirs else "different"] += 1
        by_kind[kind]["bfcl_pass"] += theirs
        if ours != theirs:
            disagreements.append({"id": tid, "kind": kind, "palaestra": ours, "bfcl": theirs, "reply": reply[:300]})
    return {"cases": len(cases), "agree": agree, "by_kind": {k: dict(v) for k, v in sorted(by_kind.items())},
            "disagreements": disagreements, "bfcl_raised": 0}


# ---- web-search battery ---------------------------------------------------------------------------
def run_web_search(seed: int = 0, per_entry: int = 3, corpus: str | None = None) -> dict:
    """Web-search entries (both categories) through an offline corpus of generic pages (no
    answer in it) and through BFCL's own loop (its searches fail offline; scripted replies
    do not read results)."""
    import tempfile

    import gymnasium as gym

    import palaestra  # noqa: F401
    from palaestra.envs.tools.bfcl import reference

    rng = random.Random(seed)
    agree, total, by_kind, disagreements = 0, 0, defaultdict(Counter), []
    with tempfile.TemporaryDirectory() as folder:
        if corpus is None:
            for i, topic in enumerate(["tea", "football", "music", "billionaires", "rivers"]):
                with open(f"{folder}/page_{i}.txt", "w", encoding="utf-8") as fh:
                    fh.write(f"About {topic}\nA short local page about {topic}, with no answer in it.\n")
            corpus = folder
        env = gym.make("palaestra/BFCL-v0", category="web_search", web_corpus=corpus, text=True)
        base = env.unwrapped
        everything = sorted({base.entries[t]["ground_truth"][0] for t in base.task_ids})
        for tid in base.task_ids:
            e = base.entries[tid]
            answer = e["ground_truth"][0]
            scripts = [("search then answer", ["[search_engine_query(keywords='background facts')]",
                                               str({"answer": answer, "context": "from the search"})]),
                       ("fetch then answer", ["[fetch_url_content(url='https://example.com/page', mode='truncate')]",
                                              f"The answer is {answer}."]),
                       ("answer in prose", [f"It is {answer}."]),
                       ("wrong answer", [str({"answer": "I cannot answer this question", "context": "no data"})]),
                       ("every answer of the category", [", ".join(everything)]),
                       ("21 call steps", ["[search_engine_query(keywords='x')]"] * 21),
                       ("answer as a call", [f"[final_answer(text={answer!r})]"]),
                       ("empty reply", [""])]
            for kind, replies in rng.sample(scripts, per_entry):
                info = _palaestra_conversation(env, tid, [replies])
                ours = bool(info.get("success"))
                theirs = reference.web_search_verdict(e, replies, f"{seed}_{tid}_{kind}")
                total += 1
                agree += ours == theirs
                by_kind[kind]["same" if ours == theirs else "different"] += 1
                by_kind[kind]["bfcl_pass"] += theirs
                if ours != theirs:
                    disagreements.append({"id": tid, "kind": kind, "palaestra": ours, "bfcl": theirs,
                                          "reply": replies[-1][:150]})
    return {"runs": total, "agree": agree, "by_kind": {k: dict(v) for k, v in sorted(by_kind.items())},
            "disagreements": disagreements}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--single", type=int, default=24_000, help="single-turn replies (about)")
    parser.add_argument("--multi", type=int, default=400, help="multi-turn entries")
    parser.add_argument("--per-entry", type=int, default=4,
                        help="scripts per multi-turn entry (ground truth + perturbed)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the full report (every disagreement) here")
    args = parser.parse_args()
    from rich.console import Console
    from rich.table import Table

    console = Console(width=120)
    start = time.process_time()
    single = run_single_turn(args.single, args.seed)
    single_cpu = time.process_time() - start
    start = time.process_time()
    multi = run_multi_turn(args.multi, args.per_entry, args.seed)
    multi_cpu = time.process_time() - start
    start = time.process_time()
    memory = run_memory(args.seed)
    memory_cpu = time.process_time() - start
    start = time.process_time()
    web = run_web_search(args.seed)
    web_cpu = time.process_time() - start
    formats = run_format_sensitivity(seed=args.seed)
    for title, rep in (("single-turn replies", single), ("multi-turn runs", multi), ("memory questions", memory),
                       ("web-search entries", web), ("format-sensitivity replies", formats)):
        n = rep.get("cases", rep.get("runs"))
        table = Table(title=f"BFCL-v0 vs BFCL's evaluator, {title}: {rep['agree']}/{n} agree "
                            f"({100 * rep['agree'] / max(n, 1):.2f}%)")
        for col in ("kind", "cases", "agree", "differ", "BFCL passes"):
            table.add_column(col, justify="left" if col == "kind" else "right")
        for kind, c in rep["by_kind"].items():
            table.add_row(kind, str(c.get("same", 0) + c.get("different", 0)), str(c.get("same", 0)),
                          str(c.get("different", 0)), str(c.get("bfcl_pass", 0)))
        console.print(table)
        for d in rep["disagreements"][:40]:
            console.print(f"  [yellow]{d['id']}[/] {d['kind']}: palaestra={d['palaestra']} bfcl={d['bfcl']} "
                          f"{d.get('reply', '')[:150]!r}")
    console.print(f"CPU: single-turn {single_cpu:.1f} s, multi-turn {multi_cpu:.1f} s, memory {memory_cpu:.1f} s, "
                  f"web search {web_cpu:.1f} s; "
                  f"BFCL evaluator crashed on {single['bfcl_raised']} single-turn replies.")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"single_turn": single, "multi_turn": multi, "memory": memory, "web_search": web,
                       "format_sensitivity": formats}, fh,
                      indent=1, default=str)


if __name__ == "__main__":
    main()
