"""BFCL v4 entries from the data files that the ``bfcl-eval`` package ships.

``bfcl-eval`` is optional (``pip install --no-deps bfcl-eval``); without it these
functions raise :class:`~palaestra.core.MissingDependency` saying how to install it.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

from palaestra.core import MissingDependency

SINGLE_TURN = {
    "simple": "simple_python",
    "multiple": "multiple",
    "simple_java": "simple_java",
    "simple_javascript": "simple_javascript",
    "parallel": "parallel",
    "parallel_multiple": "parallel_multiple",
    "irrelevance": "irrelevance",
    "live_simple": "live_simple",
    "live_multiple": "live_multiple",
    "live_parallel": "live_parallel",
    "live_parallel_multiple": "live_parallel_multiple",
    "live_irrelevance": "live_irrelevance",
    "live_relevance": "live_relevance",
}
MULTI_TURN = {
    "multi_turn_base": "multi_turn_base",
    "multi_turn_miss_func": "multi_turn_miss_func",
    "multi_turn_miss_param": "multi_turn_miss_param",
    "multi_turn_long_context": "multi_turn_long_context",
}
#: BFCL's memory categories that run offline (``memory_vector`` needs sentence-transformers
#: and FAISS with a downloaded model): the questions, and the prerequisite conversations
#: (the memory write phase) whose final memory the questions read
MEMORY = {"memory_kv": "kv", "memory_rec_sum": "rec_sum"}
MEMORY_PREREQ = {f"{c}_prereq": b for c, b in MEMORY.items()}
SCENARIOS = ("customer", "finance", "healthcare", "notetaker", "student")
#: BFCL's web-search categories (search results with or without snippets), served from
#: an offline corpus (``web_corpus=``; see :mod:`palaestra.envs.tools.bfcl.web_search`)
WEB_SEARCH = {"web_search_base": True, "web_search_no_snippet": False}
#: BFCL's prompt-format variations: 200 single-turn entries under each of 26 system-prompt
#: configurations (return format, tool-call tag, function-doc format, prompt style)
FORMAT_SENSITIVITY = {"format_sensitivity": "format_sensitivity"}
GROUPS = {
    "single_turn": list(SINGLE_TURN),
    "non_live": ["simple", "simple_java", "simple_javascript", "multiple", "parallel", "parallel_multiple",
                 "irrelevance"],
    "live": [c for c in SINGLE_TURN if c.startswith("live_")],
    "multi_turn": list(MULTI_TURN),
    "memory": list(MEMORY),
    "memory_prereq": list(MEMORY_PREREQ),
    "web_search": list(WEB_SEARCH),
    "format_sensitivity": list(FORMAT_SENSITIVITY),
    "all": list(SINGLE_TURN) + list(MULTI_TURN) + list(MEMORY),
}
CATEGORIES = {**SINGLE_TURN, **MULTI_TURN, **MEMORY, **MEMORY_PREREQ, **WEB_SEARCH, **FORMAT_SENSITIVITY}


def prompt_config(entry: dict) -> tuple[str, bool]:
    """(return format, tool-call tag) a single-turn entry's replies are read in."""
    if entry["category"] != "format_sensitivity":
        return "python", False
    params = dict(part.split("=", 1) for part in entry["config"].split("&"))
    return params["ret_fmt"], params["tool_call_tag"] == "True"


def language(category: str) -> str:
    """The language BFCL decodes and checks a category's replies in (``is_java``/``is_js``)."""
    if "javascript" in category:
        return "javascript"
    return "java" if "java" in category else "python"


def package_dir() -> Path:
    try:
        import bfcl_eval
    except ImportError as exc:
        raise MissingDependency(f"bfcl-eval ({exc})", "pip install --no-deps bfcl-eval") from exc
    return Path(os.path.dirname(bfcl_eval.__file__))


def data_dir() -> Path:
    return package_dir() / "data"


def expand(category) -> list[str]:
    """Category names from a name, a group (single_turn, live, multi_turn, all), a comma list or a list."""
    names = [category] if isinstance(category, str) else list(category)
    out: list[str] = []
    for part in names:
        for name in str(part).split(","):
            name = name.strip()
            if not name:
                continue
            if name in GROUPS:
                out += [c for c in GROUPS[name] if c not in out]
            elif name in CATEGORIES:
                if name not in out:
                    out.append(name)
            else:
                raise ValueError(f"unknown BFCL category {name!r}; use one of {', '.join(CATEGORIES)} "
                                 f"or a group: {', '.join(GROUPS)}.")
    return out


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _memory_entries(category: str) -> tuple[dict, ...]:
    """BFCL's ``process_memory_test_case``: ids ``memory_kv_...``, the backend's class, and
    (prerequisites) the conversations of each scenario in order."""
    prereq = category in MEMORY_PREREQ
    base = category[: -len("_prereq")] if prereq else category
    backend_class = f"MemoryAPI_{MEMORY[base]}"
    if prereq:
        entries = []
        for scenario in SCENARIOS:
            for entry in _read_jsonl(data_dir() / "memory_prereq_conversation" / f"memory_{scenario}.json"):
                entry["id"] = entry["id"].replace("memory", base)  # memory_kv_prereq_0-customer-0
                entries.append(entry)
    else:
        entries = _read_jsonl(data_dir() / "BFCL_v4_memory.json")
        answer_file = data_dir() / "possible_answer" / "BFCL_v4_memory.json"
        answers = {a["id"]: a["ground_truth"] for a in _read_jsonl(answer_file)}
        for entry in entries:
            entry["ground_truth"] = answers.get(entry["id"])
            entry["id"] = entry["id"].replace("memory", base)
    for entry in entries:
        entry["involved_classes"] = [backend_class]
        entry["category"] = category
    return tuple(entries)


@functools.lru_cache(maxsize=None)
def _entries(category: str) -> tuple[dict, ...]:
    if category in MEMORY or category in MEMORY_PREREQ:
        return _memory_entries(category)
    if category in FORMAT_SENSITIVITY:  # BFCL's load_format_sensitivity_test_cases
        from bfcl_eval.utils import get_all_format_sensitivity_configs

        with open(data_dir() / "BFCL_v4_format_sensitivity.json", encoding="utf-8") as fh:
            ids_by_stem = json.load(fh)
        stems = {stem: name for name, stem in SINGLE_TURN.items()}
        originals = []
        for stem, ids in ids_by_stem.items():
            wanted = set(ids)  # in the dataset's order, as BFCL's load_test_entries_from_id_file
            originals += [e for e in _entries(stems[stem]) if e["id"] in wanted]
        entries, n = [], 0
        for original in originals:
            for config in get_all_format_sensitivity_configs():
                entry = {k: v for k, v in original.items() if k not in ("id", "category")}
                entry.update(id=f"format_sensitivity_{n}:{config}:{original['id']}", category=category, config=config,
                             original_id=original["id"])
                entries.append(entry)
                n += 1
        return tuple(entries)
    if category in WEB_SEARCH:  # BFCL's process_web_search_test_case
        entries = _read_jsonl(data_dir() / "BFCL_v4_web_search.json")
        answers = {a["id"]: a["ground_truth"] for a in _read_jsonl(data_dir() / "possible_answer" /
                                                                     "BFCL_v4_web_search.json")}
        for entry in entries:
            entry["ground_truth"] = answers.get(entry["id"])
            entry["id"] = entry["id"].replace("web_search", category)
            entry["category"] = category
        return tuple(entries)
    stem = CATEGORIES[category]
    entries = _read_jsonl(data_dir() / f"BFCL_v4_{stem}.json")
    answers_path = data_dir() / "possible_answer" / f"BFCL_v4_{stem}.json"
    if answers_path.exists():
        answers = {a["id"]: a["ground_truth"] for a in _read_jsonl(answers_path)}
        for entry in entries:
            entry["ground_truth"] = answers.get(entry["id"])
    for entry in entries:
        entry["category"] = category
    return tuple(entries)


def load(category: str) -> list[dict]:
    """The entries of one category (each with ``ground_truth`` where BFCL has one)."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown BFCL category {category!r}; use one of {', '.join(CATEGORIES)}.")
    return list(_entries(category))


@functools.lru_cache(maxsize=None)
def entry_index(categories: tuple[str, ...]) -> dict[str, dict]:
    return {e["id"]: e for c in categories for e in _entries(c)}


@functools.lru_cache(maxsize=None)
def multi_turn_docs(class_name: str) -> tuple[dict, ...]:
    from bfcl_eval.constants.executable_backend_config import MULTI_TURN_FUNC_DOC_FILE_MAPPING

    path = data_dir() / "multi_turn_func_doc" / MULTI_TURN_FUNC_DOC_FILE_MAPPING[class_name]
    return tuple(_read_jsonl(path))
