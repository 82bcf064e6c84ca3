"""Turning chat messages into a model's prompt text, and replies into actions."""

from __future__ import annotations

import re

_FENCE = re.compile(r"```(?:[a-zA-Z]*)\s*\n?(.*?)```", re.DOTALL)
_LABEL = re.compile(r"(?:^|\n)\s*(?:\*\*)?(?:final\s+)?(?:action|move|answer)\s*(?:\*\*)?\s*[:=]\s*(?:\*\*)?(.+)", re.IGNORECASE)


def plain_prompt(messages: list[dict]) -> str:
    """The prompt format for models without a chat template."""
    parts = []
    for m in messages:
        role = m.get("role", "user")
        parts.append(f"{role.capitalize()}: {m.get('content', '')}")
    parts.append("Assistant:")
    return "\n\n".join(parts)


def action_candidates(reply: str) -> list[str]:
    """Strings that may be the action in a model's ``reply``, most likely first.

    Tolerates surrounding prose: the text after the last "Action:" (or "Move:",
    "Answer:"), the contents of fenced code blocks, the first and last non-empty lines,
    and the whole reply stripped of quotes and backticks.
    """
    reply = reply or ""
    out: list[str] = []

    def add(s: str):
        s = s.strip().strip("`*\"' ").strip()
        if s.endswith(".") and not s.endswith(".."):
            s = s[:-1].strip().strip("`*\"' ").strip()
        if s and s not in out:
            out.append(s)

    labels = _LABEL.findall(reply)
    for m in reversed(labels):
        add(m.splitlines()[0] if m.strip() else m)
    for block in _FENCE.findall(reply):
        add(block)
        for line in block.splitlines():
            add(line)
    lines = [ln for ln in reply.splitlines() if ln.strip()]
    if lines:
        add(lines[0])
        add(lines[-1])
    add(reply)
    return out


def parse_reply(reply: str, parse):
    """First candidate of ``reply`` that ``parse`` accepts: (native action, text).

    Raises the InvalidAction of the most likely candidate when none parses.
    """
    from palaestra.core import InvalidAction

    first_error = None
    for cand in action_candidates(reply):
        try:
            return parse(cand), cand
        except InvalidAction as err:
            first_error = first_error or err
    if first_error is None:
        first_error = InvalidAction("the reply was empty; reply with exactly one action.")
    raise first_error


PROMPT_STYLES = ("full", "compact")


def state_messages(base, history: list[tuple[str, str]] | None = None, error: str | None = None,
                   history_len: int = 4, style: str = "full") -> list[dict]:
    """Chat messages for the state of ``base`` (a PalaestraEnv): system = instructions,
    user = the last ``history_len`` (state, action) pairs, the current state, the error
    of the previous reply if any, and the request for one action.

    ``style="compact"``: one user message with the current state only (no instructions,
    no history) -- for small models trained on recorded episodes that used it too (the
    episode records its ``prompt`` style so that training and play agree)."""
    if style not in PROMPT_STYLES:
        raise ValueError(f"prompt style {style!r}: use 'full' or 'compact'.")
    if style == "compact":
        return [{"role": "user", "content": base.render_text()}]
    system = (base.instructions or "").strip()
    system += "\n\nThink briefly if you like, then give your action on the last line as 'Action: <action>'."
    parts = []
    for past_obs, past_action in (history or [])[-history_len:]:
        parts.append(f"Earlier action: {past_action}")
    parts.append(base.render_text())
    if error:
        parts.append(f"Your previous reply was not a valid action: {error}\nTry again.")
    parts.append("What is your next action?")
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n\n".join(parts)}]
