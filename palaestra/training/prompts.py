"""The prompt of a recorded step: instructions, the history before it, the current observation.

Step-level preference pairs lose their meaning without their prefix (MCTS-DPO,
rStar-Math), so a step's prompt is the whole conversation that led to it, as chat
messages: a system message with the env's instructions, one user/assistant exchange
per earlier step (observation, action), and the current observation as the last user
message. This is the layout the LLM agent sends at play time, so what DPO/SFT change
is the policy the agent uses. :func:`fit_to_length` drops the oldest exchanges (never
the instructions or the current observation) when a tokenizer's budget is exceeded.
"""

from __future__ import annotations


def system_text(episode: dict) -> str:
    instructions = (episode.get("instructions") or "").strip()
    if instructions:
        return instructions
    goal = (episode.get("goal") or "").strip()
    return f"Goal: {goal}" if goal else "Choose the next action."


def step_messages(episode: dict, t: int, max_history: int | None = None) -> list[dict]:
    """Chat messages for step ``t`` of ``episode`` (the prompt its action answered).

    ``max_history`` keeps only the last that many earlier exchanges (``None``: all).
    """
    steps = episode["steps"]
    messages = [{"role": "system", "content": system_text(episode)}]
    start = 0 if max_history is None else max(0, t - int(max_history))
    for s in steps[start:t]:
        messages.append({"role": "user", "content": str(s.get("observation", ""))})
        messages.append({"role": "assistant", "content": str(s.get("action", ""))})
    messages.append({"role": "user", "content": str(steps[t].get("observation", ""))})
    return messages


def assistant(text: str) -> list[dict]:
    return [{"role": "assistant", "content": str(text)}]


def _length(tokenizer, messages: list[dict]) -> int:
    ids = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=False)
    if isinstance(ids, dict) or hasattr(ids, "keys"):
        ids = ids["input_ids"]
    return len(ids)


def fit_to_length(prompt: list[dict], completions: list[list[dict]], tokenizer, max_length: int) -> list[dict] | None:
    """``prompt`` with its oldest exchanges dropped until prompt + each completion fits in
    ``max_length`` tokens; ``None`` when even the shortest prompt does not fit."""
    prompt = list(prompt)
    while True:
        longest = max(_length(tokenizer, prompt + c) for c in completions)
        if longest <= max_length:
            return prompt
        # system, (user, assistant)*, user: drop the oldest user/assistant exchange
        if len(prompt) >= 4 and prompt[1]["role"] == "user" and prompt[2]["role"] == "assistant":
            del prompt[1:3]
        else:
            return None
