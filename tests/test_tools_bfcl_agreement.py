"""BFCL-v0's default protocol agrees with BFCL's own evaluator (bfcl_eval's eval runner,
prompting decoder, multi-turn inference loop and checker) verdict by verdict, and the
reproductions of issue 13 score as BFCL scores them."""

import importlib.util
import json
import sys
from pathlib import Path

import gymnasium as gym
import pytest

import palaestra  # noqa: F401  (registers the ids)

pytestmark = pytest.mark.skipif(importlib.util.find_spec("bfcl_eval") is None,
                                reason="bfcl-eval is not installed: pip install --no-deps bfcl-eval")


@pytest.fixture(scope="module")
def battery():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bfcl_agreement.py"
    spec = importlib.util.spec_from_file_location("bfcl_agreement", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bfcl_agreement", module)
    spec.loader.exec_module(module)
    return module


def test_single_turn_battery_agrees_with_bfcl(battery):
    report = battery.run_single_turn(4000, seed=7)
    assert report["cases"] >= 3500 and report["bfcl_raised"] == 0
    assert report["agree"] >= 0.995 * report["cases"], report["disagreements"][:10]
    kinds = report["by_kind"]
    # the battery is not one-sided: BFCL passes some kinds and fails others
    assert kinds["correct, python list"]["bfcl_pass"] == sum(kinds["correct, python list"].get(k, 0)
                                                            for k in ("same", "different"))
    assert kinds["correct, fenced python"]["bfcl_pass"] == 0 and kinds["correct, json form"]["bfcl_pass"] == 0
    assert kinds["correct, arithmetic"]["bfcl_pass"] > 0 and kinds["correct, bare identifier"]["bfcl_pass"] > 0
    assert kinds["prose"]["bfcl_pass"] > 0 and kinds["wrong value"]["bfcl_pass"] == 0


def test_multi_turn_battery_agrees_with_bfcl(battery):
    report = battery.run_multi_turn(48, per_entry=5, seed=3)
    assert report["entries"] == 48 and report["runs"] >= 200
    assert report["agree"] >= 0.995 * report["runs"], report["disagreements"][:5]
    # the ground truth, one call per reply, passes unless a turn needs more than 20 replies
    # (2 of BFCL's 800 entries: BFCL force-quits them too)
    assert report["by_kind"]["ground truth"]["bfcl_pass"] >= 46
    assert report["by_kind"]["turn left empty"].get("bfcl_pass", 0) == 0


def _verdict(category, tid, reply, **kwargs):
    env = gym.make("palaestra/BFCL-v0", category=category, text=True, **kwargs)
    env.reset(options={"task": tid})
    _, reward, term, trunc, info = env.step(reply)
    return reward, term, info


def test_one_reply_per_single_turn_entry():
    reward, term, info = _verdict("simple", "simple_python_197", "I am not sure what to call.")
    assert term and reward == 0.0 and info["verdict"]["error_type"] == "ast_decoder:decoder_failed"
    assert info["protocol"] == "bfcl"
    # the strict protocol explains and lets the model try again
    env = gym.make("palaestra/BFCL-v0", category="simple", protocol="strict", text=True)
    env.reset(options={"task": "simple_python_197"})
    _, reward, term, _, info = env.step("I am not sure what to call.")
    assert not term and "invalid_action" in info


@pytest.mark.parametrize("reply", ["I cannot help with that: none of the functions fits.",
                                   "The function {name} cannot answer this question.", "[]", "[{name}(x=]"])
def test_irrelevance_abstentions_pass_on_every_entry(reply):
    env = gym.make("palaestra/BFCL-v0", category="irrelevance,live_irrelevance", text=True)
    base = env.unwrapped
    passed = 0
    for tid in base.task_ids:
        env.reset(options={"task": tid})
        functions = base.entries[tid]["function"]
        _, reward, term, _, info = env.step(reply.format(name=functions[0]["name"] if functions else "get_info"))
        passed += term and reward == 1.0
    assert len(base.task_ids) == 1124 and passed == 1124


@pytest.mark.parametrize("reply,expected", [
    ('[{"function": "get_air_quality_index", "parameters": {"location": "San Diego", "time": "12pm"}}]', 0.0),
    ("[get_air_quality_index(location='San Diego', time='12pm')]", 1.0),
    ("get_air_quality_index(location=\"San Diego\", time='12pm')", 1.0),
    ("```\n[get_air_quality_index(location='San Diego', time='12pm')]\n```", 1.0),
    ("```python\n[get_air_quality_index(location='San Diego', time='12pm')]\n```", 0.0),
    ("[get_air_quality_index('San Diego', '12pm')]", 0.0),
])
def test_bfcl_decoding_forms(reply, expected):
    reward, term, _ = _verdict("simple", "simple_python_197", reply)
    assert term and reward == expected


def test_arithmetic_bare_identifiers_and_tuples_as_bfcl_decodes_them():
    env = gym.make("palaestra/BFCL-v0", category="single_turn", text=True)
    base = env.unwrapped

    def gt_args(e):
        return _ground_truth_call(e["function"], e["ground_truth"][0])["arguments"]

    def find(pred):
        return next(t for t in base.task_ids if base.entries[t].get("ground_truth") and pred(base.entries[t]))

    from palaestra.envs.tools.bfcl.env import _ground_truth_call

    # arithmetic: an integer written as a sum
    tid = find(lambda e: "parallel" not in e["category"] and any(
        isinstance(v, int) and not isinstance(v, bool) for v in gt_args(e).values()))
    call = _ground_truth_call(base.entries[tid]["function"], base.entries[tid]["ground_truth"][0])
    k, v = next((k, v) for k, v in call["arguments"].items() if isinstance(v, int) and not isinstance(v, bool))
    args = ", ".join(f"{p}={x!r}" if p != k else f"{p}={v - 1} + 1" for p, x in call["arguments"].items())
    env.reset(options={"task": tid})
    assert env.step(f"[{call['name']}({args})]")[1] == 1.0
    # a bare identifier is its name as a string
    tid = find(lambda e: "parallel" not in e["category"] and any(
        isinstance(v, str) and v.isidentifier() and v not in ("True", "False", "None")
        for v in gt_args(e).values()))
    call = _ground_truth_call(base.entries[tid]["function"], base.entries[tid]["ground_truth"][0])
    k = next(k for k, v in call["arguments"].items() if isinstance(v, str) and v.isidentifier()
             and v not in ("True", "False", "None"))
    args = ", ".join(f"{p}={x!r}" if p != k else f"{p}={x}" for p, x in call["arguments"].items())
    env.reset(options={"task": tid})
    assert env.step(f"[{call['name']}({args})]")[1] == 1.0
    # a tuple for an array parameter fails, as in BFCL
    tid = find(lambda e: "parallel" not in e["category"] and any(
        isinstance(v, list) and v and next(f for f in e["function"] if f["name"] == next(iter(e["ground_truth"][0])))
        ["parameters"]["properties"][p]["type"] == "array"
        for p, v in gt_args(e).items()))
    call = _ground_truth_call(base.entries[tid]["function"], base.entries[tid]["ground_truth"][0])
    k = next(k for k, v in call["arguments"].items() if isinstance(v, list) and v)
    args = ", ".join(f"{p}={x!r}" if p != k else f"{p}={tuple(x)!r}" for p, x in call["arguments"].items())
    env.reset(options={"task": tid})
    assert env.step(f"[{call['name']}({args})]")[1] == 0.0
    env.reset(options={"task": tid})
    assert env.step(f"[{call['name']}({', '.join(f'{p}={x!r}' for p, x in call['arguments'].items())})]")[1] == 1.0


def test_parallel_calls_match_first_fit_by_default_and_in_any_order_when_strict():
    no_eps = "electromagnetic_force(charge1=5, charge2=10, distance=2)"
    vacuum = "electromagnetic_force(charge1=5, charge2=10, distance=2, medium_permittivity=8.854e-12)"
    reply = f"[{no_eps}, {vacuum}]"
    assert _verdict("parallel", "parallel_96", reply)[0] == 0.0  # BFCL: the first expected call takes no_eps
    assert _verdict("parallel", "parallel_96", reply, protocol="strict")[0] == 1.0
    assert _verdict("parallel", "parallel_96", f"[{vacuum}, {no_eps}]")[0] == 1.0
    calls = [("Apple", "2022-01-01"), ("Microsoft", "2022-02-01"), ("Microsoft", "2022-01-01"),
             ("Apple", "2022-02-01")]
    reply = "[" + ", ".join(f"get_stock_price(company_name='{c}', date='{d}', exchange='NASDAQ')"
                            for c, d in calls) + "]"
    assert _verdict("parallel", "parallel_178", reply)[0] == 0.0
    assert _verdict("parallel", "parallel_178", reply, protocol="strict")[0] == 1.0


@pytest.mark.parametrize("category,tid", [("simple", "simple_python_335"), ("multiple", "multiple_178"),
                                          ("parallel_multiple", "parallel_multiple_189"),
                                          ("parallel_multiple", "parallel_multiple_191")])
def test_empty_list_passes_where_the_possible_answer_is_empty_string(category, tid):
    from palaestra.envs.tools.bfcl import reference

    env = gym.make("palaestra/BFCL-v0", category=category, text=True)
    base = env.unwrapped
    env.reset(options={"task": tid})
    calls = base.task.solve(base)[0]
    calls = calls if isinstance(calls, list) else [calls]
    for call in calls:
        if call["name"] == "find_card_in_deck":
            call["arguments"]["deck"] = []
    reply = base.format_action(calls if len(calls) > 1 else calls[0])
    assert "deck=[]" in reply
    assert env.step(reply)[1] == 1.0 and reference.single_turn_verdict(base.entries[tid], reply)
    # the strict protocol too: an empty list where the parameter may be left out
    assert _verdict(category, tid, reply, protocol="strict")[0] == 1.0


def test_multi_turn_prose_ends_the_turn_and_long_turns_are_allowed():
    from palaestra.envs.tools.bfcl.env import BFCLEnv
    from palaestra.envs.tools.bfcl.multi_turn import APIWorld, parse_ground_truth

    env = gym.make("palaestra/BFCL-v0", category="multi_turn", text=True)
    base = env.unwrapped
    tid = "multi_turn_base_0"
    env.reset(options={"task": tid})
    _, reward, term, _, info = env.step("Let me look into this for you.")  # prose: the turn ends, with no call
    assert term and reward == 0.0 and info["verdict"]["error_type"] == "multi_turn:empty_turn_model_response"
    # a turn with more than 16 ground-truth calls, all sent in one reply
    tid = next(t for t in base.task_ids if max(len(x) for x in base.entries[t]["ground_truth"]) > 16)
    e = base.entries[tid]
    world = APIWorld(e, "long_context" in e["category"])
    env.reset(options={"task": tid})
    info = {}
    for turn in e["ground_truth"]:
        calls = [parse_ground_truth(c, world) for c in turn]
        if calls:
            text = "[" + ", ".join(c["name"] + "(" + ", ".join(f"{k}={v!r}" for k, v in c["arguments"].items()) + ")"
                                   for c in calls) + "]"
            _, _, term, _, info = env.step(text)
            assert "invalid_action" not in info and not term
        _, reward, term, _, info = env.step("Done.")
    assert term and reward == 1.0 and info["success"]
    assert isinstance(base, BFCLEnv)


def test_java_and_javascript_entries_are_served_and_judged_as_bfcl_judges_them():
    from palaestra.envs.tools.bfcl import reference

    env = gym.make("palaestra/BFCL-v0", category="simple_java,simple_javascript", text=True)
    base = env.unwrapped
    assert len(base.task_ids) == 150
    passed, disagree = 0, []
    for tid in base.task_ids:
        env.reset(options={"task": tid})
        reply = base.format_action(base.task.solve(base)[0])  # the ground truth as Java/JavaScript source
        _, reward, term, _, info = env.step(reply)
        theirs = reference.single_turn_verdict(base.entries[tid], reply)
        passed += reward == 1.0
        if (reward == 1.0) != theirs:
            disagree.append((tid, reply))
    assert not disagree and passed >= 140  # the rest: BFCL's Java parser drops a HashMap's body, data flaws
    env.reset(options={"task": "simple_javascript_0"})
    assert env.step('[validateUserInput(inputField="userInputField", isComplete=true)]')[1] == 1.0
    env.reset(options={"task": "simple_javascript_0"})  # Python's True is not JavaScript's true
    assert env.step('[validateUserInput(inputField="userInputField", isComplete=True)]')[1] == 0.0
    assert not reference.single_turn_verdict(base.entries["simple_javascript_0"],
                                             '[validateUserInput(inputField="userInputField", isComplete=True)]')


def test_memory_battery_agrees_with_bfcl(battery):
    report = battery.run_memory(seed=5, scenarios=("customer", "notetaker"))
    assert report["runs"] >= 300 and report["agree"] == report["runs"], report["disagreements"][:5]
    kinds = report["by_kind"]
    assert kinds["kv: retrieve then answer"]["bfcl_pass"] > 0 and kinds["kv: wrong answer"].get("bfcl_pass", 0) == 0


def test_memory_is_written_in_prerequisites_and_read_by_questions():
    from palaestra.envs.tools.bfcl import data

    prereq = gym.make("palaestra/BFCL-v0", category="memory_kv_prereq", text=True)
    first = [e for e in data.load("memory_kv_prereq") if e["scenario"] == "customer"][0]
    prereq.reset(options={"task": first["id"]})
    _, _, term, _, info = prereq.step("[core_memory_add(key='first_name', value='Michael')]")
    assert not term
    for _ in first["question"]:
        _, reward, term, _, info = prereq.step("Thank you, noted.")
        if term:
            break
    assert term and reward == 0.0 and not info["success"] and info["verdict"]["scored"] is False
    assert info["memory"] == {"core_memory": {"first_name": "Michael"}, "archival_memory": {}}
    question = gym.make("palaestra/BFCL-v0", category="memory_kv", text=True)
    obs, info = question.reset(options={"task": "memory_kv_0-customer-0", "memory": info["memory"]})
    assert info["memory_loaded"] and '"first_name": "Michael"' in obs  # the core memory is in the prompt
    obs, reward, term, _, _ = question.step("[core_memory_retrieve(key='first_name')]")
    assert not term and '{"value": "Michael"}' in obs
    assert question.step("{'answer': 'Michael', 'context': 'core memory'}")[1:3] == (1.0, True)
    # a malformed snapshot is refused with what to pass instead
    with pytest.raises(ValueError, match="info\\['memory'\\]"):
        question.reset(options={"task": "memory_kv_0-customer-0", "memory": {"memory": "x"}})


def test_memory_shotgun_pays_under_bfcl_and_not_under_strict():
    from palaestra.envs.tools.bfcl import data

    qs = [e for e in data.load("memory_kv") if e["scenario"] == "customer"]
    everything = ", ".join(q["ground_truth"][0] for q in qs)
    bfcl = gym.make("palaestra/BFCL-v0", category="memory_kv", text=True)
    strict = gym.make("palaestra/BFCL-v0", category="memory_kv", protocol="strict", text=True)
    bfcl.reset(options={"task": qs[0]["id"]})
    assert bfcl.step(everything)[1] == 1.0  # BFCL's agentic_checker: any expected answer in the reply
    strict.reset(options={"task": qs[0]["id"]})
    _, reward, term, _, info = strict.step("answer: " + everything)
    assert term and reward == 0.0 and info["verdict"]["error_type"] == "strict:answer_too_long"
    strict.reset(options={"task": qs[0]["id"]})
    assert strict.step("answer: Your first name is Michael.")[1] == 1.0


@pytest.fixture
def web_corpus(tmp_path):
    (tmp_path / "wiki").mkdir()
    (tmp_path / "wiki" / "tea.txt").write_text(
        "URL: https://en.wikipedia.org/wiki/Da_Hong_Pao\nDa Hong Pao\nDa Hong Pao is a Wuyi rock tea from China, "
        "among the most expensive teas in the world.\n", encoding="utf-8")
    (tmp_path / "forbes.html").write_text(
        "<html><head><title>Forbes: China's richest</title><script>var x = 1;</script></head><body>"
        "<p>In April 2025 Zhang Yiming is the richest person in China, according to Forbes.</p></body></html>",
        encoding="utf-8")
    return tmp_path


def test_web_search_runs_offline_with_bfcls_functions(web_corpus):
    import pickle

    env = gym.make("palaestra/BFCL-v0", category="web_search", web_corpus=str(web_corpus), text=True)
    env.reset(options={"task": "web_search_base_0"})
    obs, _, term, _, _ = env.step("[search_engine_query(keywords='most expensive tea country')]")
    assert not term and "'href': 'https://en.wikipedia.org/wiki/Da_Hong_Pao'" in obs and "'body': " in obs
    state = pickle.dumps(env.unwrapped.get_state())
    assert len(state) < 20_000  # the snapshot holds the corpus path, not its index
    obs, _, term, _, _ = env.step("[fetch_url_content(url='https://local.corpus/forbes.html', mode='truncate')]")
    assert "Zhang Yiming is the richest" in obs and "var x" not in obs
    obs, _, _, _, _ = env.step("[fetch_url_content(url='https://nowhere.example/x')]")
    assert "404" in obs
    assert env.step("{'answer': 'Zhang Yiming', 'context': 'Forbes, April 2025'}")[1:3] == (1.0, True)
    env.reset(options={"task": "web_search_no_snippet_0"})
    obs = env.step("[search_engine_query(keywords='Forbes richest China')]")[0]
    assert "https://local.corpus/forbes.html" in obs and "'body'" not in obs
    with pytest.raises(ValueError, match="web_corpus="):
        gym.make("palaestra/BFCL-v0", category="web_search_base")


def test_web_corpus_problems_are_all_reported_up_front(tmp_path):
    for i in range(5):
        (tmp_path / f"good_{i}.txt").write_text(f"Page {i}\ntext {i}\n", encoding="utf-8")
    for i in range(3):
        (tmp_path / f"latin1_{i}.txt").write_bytes("caf\xe9 au lait".encode("latin-1"))
    (tmp_path / "empty.md").write_text("   \n", encoding="utf-8")
    with pytest.raises(ValueError) as err:
        gym.make("palaestra/BFCL-v0", category="web_search_base", web_corpus=str(tmp_path))
    message = str(err.value)
    assert "4 bad item(s)" in message and all(f"latin1_{i}.txt" in message for i in range(3))
    assert "empty.md: no text" in message


def test_web_search_battery_agrees_with_bfcl(battery):
    report = battery.run_web_search(seed=4, per_entry=2)
    assert report["runs"] == 400 and report["agree"] == report["runs"], report["disagreements"][:5]
    assert report["by_kind"]["search then answer"]["bfcl_pass"] > 0


def test_web_search_contract(web_corpus):
    from palaestra.testing import check_env_contract

    report = check_env_contract("palaestra/BFCL-v0", category="web_search_base", web_corpus=str(web_corpus),
                                fuzz_examples=100)
    assert report.fuzz_examples >= 50


def test_format_sensitivity_battery_agrees_with_bfcl(battery):
    report = battery.run_format_sensitivity(1500, seed=2)
    assert report["cases"] == 1500 and report["agree"] == report["cases"], report["disagreements"][:5]


def test_bfcls_json_form_passes_where_bfcls_prompt_asks_for_it():
    from palaestra.envs.tools.bfcl import data

    env = gym.make("palaestra/BFCL-v0", category="format_sensitivity", text=True)
    entries = [e for e in data.load("format_sensitivity") if e["original_id"] == "simple_python_58"]
    by_config = {data.prompt_config(e): e["id"] for e in entries if "style=classic" in e["config"]}
    env.reset(options={"task": by_config[("json", False)]})
    base = env.unwrapped
    call = base.task.solve(base)[0]
    json_form = json.dumps([{"function": call["name"], "parameters": call["arguments"]}])
    assert "ret_fmt=json" in base.instructions or '"function"' in base.instructions
    assert env.step(json_form)[1] == 1.0
    env.reset(options={"task": by_config[("json", True)]})  # the tag is required when the prompt asks for it
    assert env.step(json_form)[1] == 0.0
    env.reset(options={"task": by_config[("json", True)]})
    assert env.step(f"<TOOLCALL>{json_form}</TOOLCALL>")[1] == 1.0
    env.reset(options={"task": by_config[("python", False)]})  # and not where the prompt asks for Python
    assert env.step(json_form)[1] == 0.0


def test_format_sensitivity_contract():
    from palaestra.testing import check_env_contract

    report = check_env_contract("palaestra/BFCL-v0", category="format_sensitivity", fuzz_examples=100)
    assert report.fuzz_examples >= 50
