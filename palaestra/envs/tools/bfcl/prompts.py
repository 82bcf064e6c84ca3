"""The system prompts BFCL gives a prompting model, built from BFCL's own templates."""

from __future__ import annotations

import json

from . import data


def shown_functions(functions: list[dict], category: str) -> list[dict]:
    """The function docs as BFCL shows them to the model: with its language hint ("Note that
    the provided function is in Python 3 syntax.") and, for Java/JavaScript, every parameter
    typed as a string of source text (``_func_doc_language_specific_pre_processing``)."""
    import copy

    from bfcl_eval.utils import _func_doc_language_specific_pre_processing

    return _func_doc_language_specific_pre_processing(copy.deepcopy(functions), category)


def bfcl_system_prompt(functions: list[dict], config: str | None = None) -> str:
    """BFCL's default system prompt for prompting models (``DEFAULT_SYSTEM_PROMPT_FORMAT``:
    Python calls, no tag, JSON function docs, plain text, classic style), from its templates."""
    if config is not None:  # a format-sensitivity variant: BFCL's own formulate_system_prompt
        try:
            from bfcl_eval.model_handler.utils import formulate_system_prompt
        except ImportError as exc:
            from palaestra.core import MissingDependency

            raise MissingDependency(f"BFCL's prompt builder ({exc})", "pip install 'palaestra[bfcl]'") from exc
        return formulate_system_prompt(format_sensitivity_config=config, functions=functions)
    from bfcl_eval.constants import default_prompts as p

    style = p.PROMPT_STYLE_TEMPLATES["classic"]
    return p.PROMPT_TEMPLATE_MAPPING["plaintext"].format(
        persona=style["persona"], task=style["task"],
        tool_call_format=style["tool_call_no_tag"].format(output_format=p.OUTPUT_FORMAT_MAPPING["python"],
                                                          param_types=p.PARAM_TYPE_MAPPING["python"]),
        multiturn_behavior=style["multiturn_behavior"],
        available_tools=style["available_tools"].format(format="json", functions=json.dumps(functions, indent=4)),
    )


def memory_system_prompt(entry: dict, world) -> str:
    """BFCL's memory system prompt (``add_memory_instruction_system_prompt``) with the core
    memory's content, followed for questions by its answer-format prompt."""
    from bfcl_eval.constants import default_prompts as p

    (inst,) = world.instances.values()
    template = p.MEMORY_BACKEND_INSTRUCTION_UNIFIED if "rec_sum" in entry["category"] \
        else p.MEMORY_BACKEND_INSTRUCTION_CORE_ARCHIVAL
    text = template.format(scenario_setting=p.MEMORY_AGENT_SETTINGS[entry["scenario"]],
                           memory_content=inst._dump_core_memory_to_context())
    if entry["category"] in data.MEMORY:
        text += "\n\n" + p.ADDITIONAL_SYSTEM_PROMPT_FOR_AGENTIC_RESPONSE_FORMAT
    return text




def agentic_system_prompt() -> str:
    """BFCL's answer-format prompt for agentic entries (memory questions, web search)."""
    from bfcl_eval.constants.default_prompts import ADDITIONAL_SYSTEM_PROMPT_FOR_AGENTIC_RESPONSE_FORMAT

    return ADDITIONAL_SYSTEM_PROMPT_FOR_AGENTIC_RESPONSE_FORMAT
