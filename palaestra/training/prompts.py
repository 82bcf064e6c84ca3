"""The prompt of a recorded step: instructions, the history before it, the current observation.

Step-level preference pairs lose their meaning without their prefix (MCTS-DPO,
rStar-Math), so a step's prompt carries the instructions, the history and the current
observation. Two layouts: ``"agent"`` (default) is exactly what ``LLMAgent`` sends at
play time (so DPO/SFT change the policy the agent actually runs); ``"chat"`` is the
full multi-turn conversation, one user/assistant exchange per earlier step.
:func:`fit_to_length` drops the oldest exchanges of a chat prompt (never the
instructions or the current observation) when a tokenizer's budget is exceeded.
"""

from __future__ import annotations


def system_text(episode: dict) -> str:
    instructions = (episode.get("instructions") or "").strip()
    if instructions:
        return instructions
    goal = (episode.get("goal") or "").strip()
    return f"Goal: {goal}" if goal else "Choose the next action."


AGENT_HISTORY = 4  # LLMAgent's default number of earlier actions in its prompt


class _Recorded:
    """Stands in for an env in ``state_messages``: the recorded instructions and observation."""

    def __init__(self, instructions: str, observation: str):
        self.instructions = instructions
        self._observation = observation

    def render_text(self) -> str:
        return self._observation


def step_messages(episode: dict, t: int, max_history: int | None = None, style: str = "agent") -> list[dict]:
    """Chat messages for step ``t`` of ``episode`` (the prompt its action answered).

    ``style="agent"`` rebuilds exactly the prompt ``LLMAgent`` sends at play time
    (``palaestra.agents.llm.prompts.state_messages``: instructions, the earlier actions,
    the current state), so that training changes the policy the agent runs;
    ``max_history`` earlier actions (``None``: the agent's default, 4).
    ``style="chat"`` is the full multi-turn prefix: one user/assistant exchange per earlier
    step (observation, action), then the current observation; ``max_history`` keeps only
    the last that many exchanges (``None``: all).
    """
    steps = episode["steps"]
    if style == "agent":
        from palaestra.agents.llm.prompts import state_messages

        n = AGENT_HISTORY if max_history is None else int(max_history)
        history = [(str(s.get("observation", "")), str(s.get("action", ""))) for s in steps[:t]]
        base = _Recorded(system_text(episode), str(steps[t].get("observation", "")))
        layout = episode.get("prompt") or "full"  # the layout the recorded policy used
        return state_messages(base, history if n > 0 else [], history_len=n, style=layout)
    if style != "chat":
        raise ValueError(f"prompt style {style!r}: use 'agent' (the LLM agent's prompt) or 'chat' (full multi-turn prefix).")
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
