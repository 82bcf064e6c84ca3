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

    ``policy`` chooses how an action is picked:

    - ``"legal"``: score every legal action's text as the reply to the prompt (one batched
      call; the prompt is shared) and take the best (``temperature`` 0) or sample from
      the softmax of the scores at ``temperature``; ``norm`` is ``"mean"`` (length-
      normalised log-prob, default) or ``"sum"``. Needs enumerable ``legal_actions()``;
    - ``"generate"``: free generation, parsed as above (the only choice where the env's
      actions are not enumerable); when no reply parses and the env has
      ``sample_action``, ``candidates`` sampled actions are scored like legal ones and the
      best is taken (``fallback`` below applies only when that is not possible);
    - ``"auto"`` (default): ``"legal"`` where ``legal_actions()`` is enumerable and the
      model can score, else ``"generate"``.

    Options: ``model``/``llm`` (a LanguageModel or a spec for ``load_lm``: a folder, a
    hub id, ``tiny``, ``http://HOST/v1#MODEL``), ``policy``, ``norm``, ``temperature``,
    ``max_new_tokens``, ``retries``, ``history``, ``fallback``, ``candidates``, ``seed``,
    ``prompt`` (``"full"``: instructions, history, state; ``"compact"``: the state only),
    ``images`` (None = send the env's ``image()`` when the model is multimodal, e.g.
    ``multimodal=True`` for a server; False = never).
    ``last_scores`` holds the scored actions of the last step (legal policy).
    """

    name = "llm"
    prefers_text = True  # the CLI gives it the language view by default

    def __init__(self, model=None, llm=None, temperature: float = 0.7, max_new_tokens: int = 48, retries: int = 2,
                 history: int = 4, fallback: str | None = None, seed: int | None = 0, policy: str = "auto",
                 norm: str = "mean", candidates: int = 8, prompt: str = "full", images: bool | None = None,
                 **lm_options):
        from .llm import load_lm
        from .llm.scoring import NORMS

        if policy not in ("auto", "legal", "generate"):
            raise ValueError(f"policy={policy!r}: use 'auto', 'legal' (score the legal actions) or 'generate' "
                             "(free generation, parsed).")
        if norm not in NORMS:
            raise ValueError(f"norm={norm!r}: use 'mean' (length-normalised log-prob) or 'sum'.")
        from .llm.prompts import PROMPT_STYLES

        if prompt not in PROMPT_STYLES:
            raise ValueError(f"prompt={prompt!r}: use 'full' (instructions, history, state) or 'compact' (state only).")
        self.policy, self.norm, self.candidates, self.prompt = policy, norm, max(1, int(candidates)), prompt
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
        self.last_scores: list[tuple[str, float]] | None = None

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
        messages = state_messages(self.base, self.history, history_len=self.history_len, style=self.prompt)
        messages = self._attach_image(messages)
        self.last_scores = None
        can_score = callable(getattr(self.llm, "score", None))
        if self.policy == "legal" or (self.policy == "auto" and can_score):
            legal = self.base.legal_actions()
            if legal:
                return self._emit(self._pick(messages, legal))
            if self.policy == "legal" and legal is not None:
                raise InvalidAction("no legal action in this state (the episode should have ended).")
            if self.policy == "legal":
                raise ValueError(f"policy='legal' needs enumerable legal_actions(); {type(self.base).__name__} "
                                 "has none. Use policy='generate' (or 'auto').")
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
        if self.fallback is None and callable(getattr(self.base, "sample_action", None)) and \
                callable(getattr(self.llm, "score", None)):
            # nothing parsed: the env's own samples are valid candidates; the model picks among them
            cands, seen = [], set()
            for _ in range(self.candidates):
                a = self.base.sample_action(self.rng)
                key = self.base.format_action(a)
                if key not in seen:
                    seen.add(key)
                    cands.append(a)
            if cands:
                return self._emit(self._pick(state_messages(self.base, self.history, history_len=self.history_len, style=self.prompt),
                                             cands))
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

    def _pick(self, messages, actions: list):
        """The action whose text the model scores best (or sampled from the scores)."""
        from .llm.scoring import score_texts, softmax

        texts = [self.base.format_action(a) for a in actions]
        scores = score_texts(self.llm, messages, texts, self.norm)
        self.last_scores = list(zip(texts, scores))
        if self.temperature and self.temperature > 0 and len(actions) > 1:
            i = self.rng.choices(range(len(actions)), weights=softmax(scores, self.temperature))[0]
        else:
            i = max(range(len(actions)), key=lambda j: scores[j])
        return actions[i]

    def _emit(self, action):
        text = self.base.format_action(action)
        self.history.append(("", text))
        return text if self.text else action
