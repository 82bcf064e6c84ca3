"""BFCL's own evaluator functions, importable without the dependencies ``bfcl-eval`` pulls in.

``bfcl-eval`` is installed with ``--no-deps`` (its requirements pin numpy, vLLM-era
clients, tree-sitter and a dozen API SDKs). The functions palaestra is checked against
are pure Python, but their modules import those SDKs at the top:

- ``bfcl_eval.model_handler.utils`` (``default_decode_ast_prompting``,
  ``default_decode_execute_prompting``) imports the Java/JavaScript tree-sitter parsers
  and ``tenacity``;
- ``bfcl_eval.eval_checker.ast_eval.ast_checker`` imports the model registry
  (``constants.model_config``), which imports every API client.

Where a module is missing, a placeholder stands in for it: the tree-sitter parsers
raise when called (Python entries never call them), ``tenacity``'s decorators are
identity functions, and the model registry answers every model name with the config of
a prompting model (``underscore_to_dot=False``: function names are compared as written,
which is what a prompting model is scored by). Installed modules are used as they are.
Only checks and benchmarks use this module; the env never does.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import sys
import types


def _missing(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is None
    except (ImportError, ValueError):
        return True


def _placeholder_parsers() -> None:
    for mod, fn in (("bfcl_eval.model_handler.parser.java_parser", "parse_java_function_call"),
                    ("bfcl_eval.model_handler.parser.js_parser", "parse_javascript_function_call")):
        if mod in sys.modules or not _missing("tree_sitter"):
            continue
        stub = types.ModuleType(mod)

        def _unavailable(*args, _fn=fn, **kwargs):
            raise RuntimeError(f"{_fn} needs tree-sitter, which is not installed")

        setattr(stub, fn, _unavailable)
        sys.modules[mod] = stub
    if _missing("tenacity") and "tenacity" not in sys.modules:
        stub = types.ModuleType("tenacity")

        def retry(*args, **kwargs):
            if len(args) == 1 and callable(args[0]) and not kwargs:
                return args[0]
            return lambda fn: fn

        def _anything(*args, **kwargs):
            return None

        stub.retry = retry
        for name in ("retry_if_exception_message", "retry_if_exception_type", "wait_random_exponential",
                     "stop_after_attempt", "before_sleep_log"):
            setattr(stub, name, _anything)
        sys.modules["tenacity"] = stub
    if _missing("overrides") and "overrides" not in sys.modules:
        stub = types.ModuleType("overrides")
        stub.final = stub.override = stub.overrides = lambda fn: fn
        sys.modules["overrides"] = stub
    if _missing("dotenv") and "dotenv" not in sys.modules:
        stub = types.ModuleType("dotenv")
        stub.load_dotenv = lambda *args, **kwargs: False
        sys.modules["dotenv"] = stub


def _placeholder_model_config() -> None:
    name = "bfcl_eval.constants.model_config"
    if name in sys.modules:
        return
    try:
        importlib.import_module(name)
        return
    except ImportError:
        sys.modules.pop(name, None)
    stub = types.ModuleType(name)

    class _PromptingModel:
        underscore_to_dot = False

    class _Mapping(dict):
        def __missing__(self, key):
            return _PromptingModel()

    stub.MODEL_CONFIG_MAPPING = _Mapping()
    sys.modules[name] = stub


@functools.lru_cache(maxsize=None)
def decoder():
    """BFCL's ``default_decode_ast_prompting`` (Python return format, no tool-call tag)."""
    _placeholder_parsers()
    from bfcl_eval.constants.enums import ReturnFormat
    from bfcl_eval.model_handler.utils import default_decode_ast_prompting

    return lambda reply: default_decode_ast_prompting(reply, ReturnFormat.PYTHON, False)


@functools.lru_cache(maxsize=None)
def execute_decoder():
    """BFCL's ``default_decode_execute_prompting`` (multi-turn replies to call strings)."""
    _placeholder_parsers()
    from bfcl_eval.model_handler.utils import default_decode_execute_prompting

    return lambda reply: default_decode_execute_prompting(reply, False)


@functools.lru_cache(maxsize=None)
def ast_checker():
    """BFCL's ``ast_checker``: ``check(docs, decoded, possible, category)``, in the category's language."""
    _placeholder_model_config()
    from bfcl_eval.constants.enums import Language
    from bfcl_eval.eval_checker.ast_eval.ast_checker import ast_checker as checker
    from bfcl_eval.utils import is_java, is_js

    def check(docs, decoded, possible, category):
        language = Language.JAVA if is_java(category) else Language.JAVASCRIPT if is_js(category) else Language.PYTHON
        return checker(docs, decoded, possible, language, category, "palaestra")

    return check


@functools.lru_cache(maxsize=None)
def output_format():
    """BFCL's ``is_function_calling_format_output`` and ``is_empty_output``."""
    from bfcl_eval.utils import is_empty_output, is_function_calling_format_output

    return is_function_calling_format_output, is_empty_output


def _runner():
    _placeholder_parsers()
    _placeholder_model_config()
    from bfcl_eval.eval_checker import eval_runner

    return eval_runner


def _bfcl_category(entry: dict) -> str:
    from . import data

    return data.CATEGORIES[entry["category"]]


@functools.lru_cache(maxsize=None)
def _handler_class():
    """A BFCL prompting-model handler whose "model" replies from a script.

    Everything else is BFCL's ``BaseHandler``: its multi-turn inference loop (a reply
    that decodes to calls runs them; one that does not ends the turn; more than 20 call
    steps force-quit the entry) and its default prompting decoders.
    """
    _placeholder_parsers()
    _placeholder_model_config()
    from bfcl_eval.model_handler.base_handler import BaseHandler
    from bfcl_eval.model_handler.utils import default_decode_ast_prompting, default_decode_execute_prompting

    class ScriptedPromptingHandler(BaseHandler):
        def __init__(self, model_name: str, script: list[list[str]]):
            super().__init__(model_name=model_name, temperature=0.0, registry_name=model_name, is_fc_model=False)
            self.script = [list(turn) for turn in script]
            self.turn = 0

        def decode_ast(self, result, language, has_tool_call_tag):
            return default_decode_ast_prompting(result, language, has_tool_call_tag)

        def decode_execute(self, result, has_tool_call_tag):
            return default_decode_execute_prompting(result, has_tool_call_tag)

        def _pre_query_processing_prompting(self, test_entry):
            return {"message": []}

        def add_first_turn_message_prompting(self, inference_data, first_turn_message):
            self.turn = 0
            return inference_data

        def _add_next_turn_user_message_prompting(self, inference_data, user_message):
            self.turn += 1
            return inference_data

        def _query_prompting(self, inference_data):
            queue = self.script[self.turn] if self.turn < len(self.script) else []
            return (queue.pop(0) if queue else "Done."), 0.0

        def _parse_query_response_prompting(self, api_response):
            return {"model_responses": api_response, "input_token": 0, "output_token": 0}

        def _add_assistant_message_prompting(self, inference_data, model_response_data):
            return inference_data

        def _add_execution_results_prompting(self, inference_data, execution_results, model_response_data):
            return inference_data

    return ScriptedPromptingHandler


def single_turn_verdict(entry: dict, reply: str) -> bool:
    """BFCL's verdict on one reply to a single-turn entry: its eval runner's
    ``_evaluate_single_relevance_entry`` / ``_evaluate_single_ast_entry`` with a
    prompting handler's decoder."""
    import copy

    runner = _runner()
    from bfcl_eval.constants.enums import Language, ReturnFormat

    handler = _handler_class()("palaestra_reference", [])
    category = _bfcl_category(entry)
    prompt = {k: v for k, v in entry.items() if k not in ("ground_truth", "category")}
    if "relevance" in category:
        result = runner._evaluate_single_relevance_entry(handler, entry["id"], reply, prompt, "palaestra_reference",
                                                         category)
    else:
        from bfcl_eval.utils import is_java, is_js

        has_tag = False
        if category == "format_sensitivity":  # as format_sensitivity_runner reads the entry's config
            from bfcl_eval.model_handler.utils import parse_prompt_variation_params

            ret, has_tag, *_ = parse_prompt_variation_params(entry["config"])
            language, return_format = Language.PYTHON, ReturnFormat(ret)
        elif is_java(category):  # as ast_file_runner picks them
            language, return_format = Language.JAVA, ReturnFormat.JAVA
        elif is_js(category):
            language, return_format = Language.JAVASCRIPT, ReturnFormat.JAVASCRIPT
        else:
            language, return_format = Language.PYTHON, ReturnFormat.PYTHON
        result = runner._evaluate_single_ast_entry(handler, entry["id"], reply, copy.deepcopy(entry["ground_truth"]),
                                                   prompt, "palaestra_reference", category, language=language,
                                                   return_format=return_format, has_tool_call_tag=has_tag)
    return bool(result["valid"])


def multi_turn_verdict(entry: dict, script: list[list[str]], run_id: str) -> bool:
    """BFCL's verdict on a multi-turn entry whose model replies ``script[turn]`` in order
    (then "Done." in each turn): BFCL's own inference loop (``BaseHandler.
    inference_multi_turn_prompting``) and its shipped evaluator
    (``_evaluate_single_multi_turn_entry``, i.e. decoding then ``multi_turn_checker``).
    ``run_id`` keeps this run's API instances apart (BFCL keeps them as module globals)."""
    import contextlib
    import copy
    import io
    import re

    runner = _runner()
    from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_utils

    name = "ref_" + re.sub(r"[^A-Za-z0-9_]", "_", run_id)
    handler = _handler_class()(name, script)
    test_entry = {k: copy.deepcopy(v) for k, v in entry.items() if k not in ("ground_truth", "category")}
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            responses, _ = handler.inference_multi_turn_prompting(test_entry, include_input_log=False,
                                                                  exclude_state_log=True)
            result = runner._evaluate_single_multi_turn_entry(
                handler, entry["id"], responses, copy.deepcopy(entry["ground_truth"]), test_entry, name,
                _bfcl_category(entry))
    finally:  # BFCL keeps each run's instances as module globals: drop this run's
        for key in [k for k in vars(multi_turn_utils) if k.startswith(name) and k.endswith("_instance")]:
            delattr(multi_turn_utils, key)
    return bool(result["valid"])


def memory_verdicts(prereqs: list[tuple[dict, list[list[str]]]], questions: list[tuple[dict, list[str]]],
                    run_id: str, folder) -> list[bool]:
    """BFCL's verdicts on memory questions after its memory write phase.

    ``prereqs``: the scenario's prerequisite entries in order, each with the scripted replies
    per turn; ``questions``: question entries with their scripted replies. BFCL's own
    inference loop runs the prerequisites (each flushes the memory to ``folder``, as BFCL
    does), then each question (which loads that memory) and ``_evaluate_single_agentic_entry``
    judges it.
    """
    import contextlib
    import copy
    import io
    import re
    from pathlib import Path

    runner = _runner()
    from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_utils

    name = "ref_" + re.sub(r"[^A-Za-z0-9_]", "_", run_id)
    handler_class = _handler_class()

    def config(entry):
        return {entry["involved_classes"][0]: {"model_result_dir": Path(folder), "scenario": entry["scenario"],
                                               "test_id": entry["id"], "test_category": entry["category"]}}

    verdicts = []
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            for entry, script in prereqs:
                test_entry = {k: copy.deepcopy(v) for k, v in entry.items() if k != "category"}
                test_entry["initial_config"] = config(entry)
                handler_class(name, script).inference_multi_turn_prompting(test_entry, include_input_log=False,
                                                                           exclude_state_log=True)
            for entry, replies in questions:
                test_entry = {k: copy.deepcopy(v) for k, v in entry.items() if k not in ("category", "ground_truth")}
                test_entry["initial_config"] = config(entry)
                handler = handler_class(name, [replies])
                responses, _ = handler.inference_multi_turn_prompting(test_entry, include_input_log=False,
                                                                      exclude_state_log=True)
                result = runner._evaluate_single_agentic_entry(handler, entry["id"], responses,
                                                               copy.deepcopy(entry["ground_truth"]), test_entry, name,
                                                               entry["category"])
                verdicts.append(bool(result["valid"]))
    finally:
        for key in [k for k in vars(multi_turn_utils) if k.startswith(name) and k.endswith("_instance")]:
            delattr(multi_turn_utils, key)
    return verdicts


def _placeholder_web() -> None:
    """BFCL's WebSearchAPI imports SerpAPI, BeautifulSoup and html2text; where they are missing
    the placeholders answer every search and fetch with an error (a scripted run does not
    read the results)."""
    for name, attr in (("serpapi", "GoogleSearch"), ("bs4", "BeautifulSoup"), ("html2text", "HTML2Text")):
        if name in sys.modules or not _missing(name):
            continue
        stub = types.ModuleType(name)

        class _Offline:
            def __init__(self, *args, **kwargs):
                raise RuntimeError("offline: no web access in the reference run")

        setattr(stub, attr, _Offline)
        sys.modules[name] = stub


def web_search_verdict(entry: dict, replies: list[str], run_id: str) -> bool:
    """BFCL's verdict on a web-search entry whose model replies ``replies`` (then "Done."):
    its inference loop and ``_evaluate_single_agentic_entry``."""
    import contextlib
    import copy
    import io
    import re

    _placeholder_web()
    runner = _runner()
    from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_utils

    name = "ref_" + re.sub(r"[^A-Za-z0-9_]", "_", run_id)
    handler = _handler_class()(name, [replies])
    test_entry = {k: copy.deepcopy(v) for k, v in entry.items() if k not in ("category", "ground_truth")}
    test_entry["initial_config"] = {"WebSearchAPI": {"show_snippet": "no_snippet" not in entry["id"]}}
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            responses, _ = handler.inference_multi_turn_prompting(test_entry, include_input_log=False,
                                                                  exclude_state_log=True)
            result = runner._evaluate_single_agentic_entry(handler, entry["id"], responses,
                                                           copy.deepcopy(entry["ground_truth"]), test_entry, name,
                                                           entry["category"])
    finally:
        for key in [k for k in vars(multi_turn_utils) if k.startswith(name) and k.endswith("_instance")]:
            delattr(multi_turn_utils, key)
    return bool(result["valid"])
