"""An LLM policy: one action per step from the env's instructions and state in words."""

from __future__ import annotations

import random

from palaestra.core import InvalidAction

from .base import text_view
from .llm.prompts import parse_reply, state_messages


class LLMAgent:
    """A language model acting in any palaestra env (native or text view).

    The system prompt is the env's instructions, the user prompt the current
    ``render_text()`` with the last ``history`` actions. The reply is parsed tolerantly
    (an action after "Action:", in a fenced block, on the first or last line); when the
    env's ``parse_action`` refuses it, the error message goes back to the model, up to
    ``retries`` times. If every try fails: in the text view the last reply is sent as is
    (the env explains the error in its next observation) unless ``fallback="random"``;
    in the native view a random legal action is taken (``fallback="raise"`` raises).

    Options: ``model``/``llm`` (a LanguageModel or a spec for ``load_lm``: a folder, a
    hub id, ``tiny``, ``http://HOST/v1#MODEL``), ``temperature``, ``max_new_tokens``,
    ``retries``, ``history``, ``fallback``, ``seed``, ``images`` (None = send the env's
    ``image()`` when the model is multimodal, e.g. ``multimodal=True`` for a server;
    False = never).
    """

    name = "llm"
    prefers_text = True  # the CLI gives it the language view by default

    def __init__(self, model=None, llm=None, temperature: float = 0.7, max_new_tokens: int = 48, retries: int = 2,
                 history: int = 4, fallback: str | None = None, seed: int | None = 0, images: bool | None = None,
                 **lm_options):
        from .llm import load_lm

        self.llm = load_lm(llm if llm is not None else model, **lm_options)
        self.temperature, self.max_new_tokens = float(temperature), int(max_new_tokens)
        self.retries, self.history_len = int(retries), int(history)
        if fallback not in (None, "random", "reply", "raise"):
            raise ValueError(f"fallback={fallback!r}: use 'random', 'reply' or 'raise'.")
        self.fallback = fallback
        self.images = images
        self.seed = seed
        self.rng = random.Random(seed)
        self.env = None
        self.history: list[tuple[str, str]] = []
        self.invalid = 0  # replies the env refused
        self.fallbacks = 0  # steps where no reply parsed

    @property
    def usage(self) -> dict:
        return dict(getattr(self.llm, "usage", None) or {"prompt_tokens": 0, "completion_tokens": 0})

    def reset(self, env) -> None:
        self.env = env
        self.base = env.unwrapped
        self.text = text_view(env)
        self.history = []

    def _attach_image(self, messages):
        """The env's current image (the segmentation overlay, a screenshot) on the last user
        message, when the model reads images."""
        from .llm.images import multimodal, with_images

        image = getattr(self.base, "image", None)
        if self.images is False or not callable(image) or not (self.images or multimodal(self.llm)):
            return messages
        return with_images(messages, [image()])

    def act(self, observation, info):
        if self.env is None:
            raise RuntimeError("call agent.reset(env) before act(); run_episode does it for you.")
        messages = state_messages(self.base, self.history, history_len=self.history_len)
        messages = self._attach_image(messages)
        reply = ""
        for attempt in range(self.retries + 1):
            reply = self.llm.generate([messages], n=1, temperature=self.temperature,
                                      max_new_tokens=self.max_new_tokens, seed=self.rng.randrange(2**31))[0][0]
            try:
                native, _ = parse_reply(reply, self.base.parse_action)
            except InvalidAction as err:
                self.invalid += 1
                messages = messages + [
                    {"role": "assistant", "content": reply},
                    {"role": "user", "content": f"That is not a valid action: {err}\nReply with one valid action "
                                                "on the last line as 'Action: <action>'."},
                ]
                continue
            text = self.base.format_action(native)
            self.history.append(("", text))
            return text if self.text else native
        self.fallbacks += 1
        mode = self.fallback or ("reply" if self.text else "random")
        if mode == "raise":
            raise InvalidAction(f"the model gave no valid action in {self.retries + 1} tries; last reply: {reply[:200]!r}")
        if mode == "reply" and self.text:
            self.history.append(("", reply.strip()[:200]))
            return reply
        legal = self.base.legal_actions()
        if legal:
            a = legal[self.rng.randrange(len(legal))]
        elif callable(getattr(self.base, "sample_action", None)):
            a = self.base.sample_action(self.rng)
        else:
            if self.text:
                return reply
            raise InvalidAction("the model gave no valid action and the env's actions are not enumerable.")
        text = self.base.format_action(a)
        self.history.append(("", text))
        return text if self.text else a
