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
    """BFCL's ``ast_checker`` for Python entries: ``check(docs, decoded, possible, category)``."""
    _placeholder_model_config()
    from bfcl_eval.constants.enums import Language
    from bfcl_eval.eval_checker.ast_eval.ast_checker import ast_checker as checker

    return lambda docs, decoded, possible, category: checker(docs, decoded, possible, Language.PYTHON, category,
                                                             "palaestra")


@functools.lru_cache(maxsize=None)
def output_format():
    """BFCL's ``is_function_calling_format_output`` and ``is_empty_output``."""
    from bfcl_eval.utils import is_empty_output, is_function_calling_format_output

    return is_function_calling_format_output, is_empty_output


def single_turn_verdict(entry: dict, reply: str) -> bool:
    """BFCL's verdict on one reply to a single-turn entry, as its eval runner reaches it
    (``_evaluate_single_relevance_entry`` / ``_evaluate_single_ast_entry``)."""
    import copy

    decode = decoder()
    is_format, is_empty = output_format()
    category = entry["category"]
    if "relevance" in category:  # relevance and irrelevance
        try:
            decoded = decode(reply)
            has_call = not is_empty(decoded)
        except Exception:  # noqa: BLE001 - BFCL: a failed decode is "no call"
            has_call = False
        return not has_call if "irrelevance" in category else has_call
    try:
        decoded = decode(reply)
    except Exception:  # noqa: BLE001 - BFCL: ast_decoder:decoder_failed
        return False
    if not is_format(decoded):
        return False
    return bool(ast_checker()(entry["function"], decoded, copy.deepcopy(entry["ground_truth"]), category)["valid"])


@functools.lru_cache(maxsize=None)
def multi_turn_checker():
    """BFCL's ``multi_turn_checker`` (the shipped evaluator's multi-turn check)."""
    from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker import multi_turn_checker as checker

    return checker


def multi_turn_verdict(entry: dict, turns: list[list[str]], run_id: str) -> bool:
    """BFCL's verdict on a multi-turn run given the model's raw replies per turn, as the
    shipped ``_evaluate_single_multi_turn_entry`` reaches it (decoding each reply,
    dropping the ones that fail or are empty, then ``multi_turn_checker``)."""
    from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_utils import is_empty_execute_response

    if len(turns) != len(entry["ground_truth"]):
        return False  # multi_turn:force_terminated
    decode = execute_decoder()
    decoded_turns = []
    for replies in turns:
        steps = []
        for reply in replies:
            try:
                calls = decode(reply)
            except Exception:  # noqa: BLE001 - BFCL ignores replies that do not decode
                continue
            if is_empty_execute_response(calls):
                continue
            steps.append(calls)
        decoded_turns.append(steps)
    import re

    from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_utils

    entry = {k: v for k, v in entry.items() if k != "function"}
    try:
        verdict = multi_turn_checker()(decoded_turns, entry["ground_truth"], entry, entry["category"], run_id)
    finally:  # BFCL keeps each run's instances as module globals: drop this run's
        prefix = re.sub(r"[-./:]", "_", run_id)
        for name in [n for n in vars(multi_turn_utils) if n.startswith(prefix) and n.endswith("_instance")]:
            delattr(multi_turn_utils, name)
    return bool(verdict["valid"])
