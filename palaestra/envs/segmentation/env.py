"""``palaestra/Segmentation-v0``: SegAgent's click-to-mask MDP."""

from __future__ import annotations

import re

import numpy as np
from gymnasium import spaces

from palaestra.core import InvalidAction, PalaestraEnv, Task

from .backends import DEFAULT_BACKEND, make_backend
from .clicker import next_click
from .render import mask_text, overlay
from .sample import DEFAULT_IMAGE_SIZE, SCALE, Click, iou, to_pixel, to_scale
from .sources import load_samples

FINISH = 2
MAX_ACTION_CHARS = 2000  # longer replies are refused before any regex runs
# "Positive point: (x, y)" and the spellings VLMs emit: "[x, y]", "positive click (x, y)",
# "Positive: [x, y]", "Positive point x, y"; one action, integer coordinates.
_POINT = re.compile(
    r"^(positive|negative)(?:\s+(?:point|click))?\s*:?\s*"
    r"(?:\(\s*([+-]?\d+)\s*,\s*([+-]?\d+)\s*\)|\[\s*([+-]?\d+)\s*,\s*([+-]?\d+)\s*\]|([+-]?\d+)\s*,\s*([+-]?\d+))"
    r"\s*\.?$",
    re.IGNORECASE,
)
_FINISH = re.compile(r"^finish(?:ed)?\s*[.!]?$", re.IGNORECASE)
# wrappers VLMs put around the action: <answer>...</answer>, <action>...</action>,
# "Action: ...", backticks, quotes, a bold "**...**"
_TAGS = re.compile(r"^<(answer|action)>\s*(.*?)\s*</\1>$", re.IGNORECASE | re.DOTALL)
_PREFIX = re.compile(r"^(?:final\s+)?(?:action|answer)\s*[:=]\s*", re.IGNORECASE)
_SYNTHETIC_ID = re.compile(r"^(synthetic|synthetic-hard):(\d{1,9})$")


class SegmentationEnv(PalaestraEnv):
    """Interactive segmentation by clicks, as in SegAgent (HLMAT).

    ## Description
    An image, a referring description of one object ("the red triangle in the top
    left") and an interactive segmentation tool. Each step the agent clicks a point
    inside (positive) or outside (negative) the object; the tool turns *all* clicks so
    far, plus the previous mask, into a new mask. The agent stops with ``Finish`` or
    when the clicks run out. Samples come from a seeded synthetic scene generator, the
    images shipped in scikit-image (and optionally stardist/imgaug), a folder of
    image + mask PNGs, or COCO-style JSON (see ``sources.py``). Every sample is resized
    to ``image_size`` (default :data:`~.sample.DEFAULT_IMAGE_SIZE`, the same size
    ``palaestra seg-eval`` and ``benchmarks/segmentation.py`` use, so figures agree).

    ## Action Space
    ``MultiDiscrete([1000, 1000, 3])``: ``(x, y, kind)`` with ``x`` the column (0 =
    left edge, 999 = right edge) and ``y`` the row (0 = top, 999 = bottom) on SegAgent's
    0-999 scale, and ``kind`` 1 = positive click, 0 = negative click, 2 = finish
    (coordinates ignored; canonically ``(0, 0, 2)``). The native order is always
    ``(x, y)``. Text actions: ``Positive point: (x, y)``, ``Negative point: (x, y)``,
    ``Finish``; with ``coords="segagent"`` (or ``preset="segagent"``) the text pair is
    ``(row, column)`` = ``(y, x)``, as SegAgent's own code reads it: run a SegAgent
    checkpoint with ``preset="segagent"`` or it clicks transposed points. The parser also
    takes the forms VLMs emit: ``[x, y]`` brackets, ``Positive click (x, y)``,
    ``Positive: [x, y]``, and the action inside ``<answer>...</answer>``,
    ``<action>...</action>`` or after ``Action:``; it refuses anything else (two actions,
    fractions, words around the action).

    ## Observation Space
    ``Dict(image=Box(0, 255, (H, W, 3), uint8), mask=Box(0, 1, (H, W), uint8),
    clicks=Box(-1, 999, (max_clicks, 3), int32))``; ``clicks`` rows are ``(x, y,
    positive)`` on the 0-999 scale, unused rows are -1. The text view shows the
    description, the clicks so far and a coarse text rendering of the mask. In both
    views ``info["image"]`` (and ``env.unwrapped.image()``) is the overlay, (H, W, 3)
    uint8: the mask in semi-transparent green, positive clicks as green dots, negative
    as red. ``LLMAgent`` sends it to multimodal models.

    ## Rewards
    The IoU gain of each click (IoU after minus IoU before); ``Finish`` gives 0. The
    return of an episode is the final IoU.

    ## Episode End
    As in SegAgent, finishing is the agent's decision: terminated on ``Finish``,
    truncated after ``max_clicks`` clicks. ``terminate_on_success=True`` (an option for
    curricula, not SegAgent's protocol) also terminates as soon as the hidden IoU
    reaches ``target_iou``. ``info["success"]`` (at the end) is ``IoU >= target_iou``.
    The reward reads the hidden ground truth (``reward_access = "hidden"``).

    ## Arguments
    - ``source``: "synthetic" (default), "synthetic-hard", "skimage", "stardist", "imgaug", "packages",
      "folder:PATH", "coco:FILE.json"; ``split`` "train"/"test" (synthetic);
      ``num_samples`` limits the set; ``source_options`` go to the loader.
    - ``backend``: "graphcut" (default), "grabcut", "watershed", "sam", or an object with
      ``segment(image, clicks, previous_mask)``; ``backend_options`` go to it.
    - ``target_iou`` (0.85), ``max_clicks`` (7 as SegAgent; 20 for the NoC protocol),
      ``terminate_on_success`` (False: the agent decides when to finish).
    - ``coords``: "xy" (default: ``(x, y)`` = (column, row)) or "segagent" (``(row, column)``).
    - ``preset``: ``"segagent"`` = SegAgent's conventions: ``coords="segagent"`` (the
      other defaults already follow it: 7 clicks, target 0.85, the agent finishes).
    - ``image_size``: (height, width) every sample is resized to, 8..1000 each (default
      :data:`~.sample.DEFAULT_IMAGE_SIZE`); results depend on it, so every table states it.
    - ``render_mode``: "ansi" (text) or "rgb_array" (the overlay).

    ## Version History
    - v0: first version; later in v0: ``terminate_on_success`` defaults to False,
      ``info["image"]`` in the native view, default ``image_size`` shared with seg-eval.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 2}
    #: the reward reads the ground-truth mask, which the agent never sees
    reward_access = "hidden"
    #: the IoU is measured against that mask: a planning view drops it from ``info``
    scorer_info_keys = ("iou",)

    def __init__(
        self,
        source: str = "synthetic",
        split: str = "test",
        backend=DEFAULT_BACKEND,
        backend_options: dict | None = None,
        target_iou: float = 0.85,
        max_clicks: int = 7,
        terminate_on_success: bool = False,
        coords: str | None = None,
        image_size: tuple[int, int] | None = None,
        preset: str | None = None,
        num_samples: int | None = None,
        source_options: dict | None = None,
        text_grid: int = 20,
        render_mode: str | None = None,
    ):
        super().__init__(render_mode=render_mode)
        if preset not in (None, "segagent"):
            raise ValueError(f"preset={preset!r}: the only preset is 'segagent' ((row, column) coordinates)")
        if coords is None:
            coords = "segagent" if preset == "segagent" else "xy"
        if coords not in ("xy", "segagent"):
            raise ValueError(f"coords={coords!r}: use 'xy' ((x, y) = (column, row)) or 'segagent' ((row, column))")
        h, w = (int(v) for v in (DEFAULT_IMAGE_SIZE if image_size is None else image_size))
        if not (8 <= h <= SCALE and 8 <= w <= SCALE):
            raise ValueError(f"image_size={image_size!r}: both sides must lie in 8..{SCALE} pixels")
        if not 0 < target_iou <= 1:
            raise ValueError(f"target_iou={target_iou!r} must lie in (0, 1]")
        if int(max_clicks) < 1:
            raise ValueError(f"max_clicks={max_clicks!r} must be at least 1")
        self.source, self.split = source, split
        self.coords = coords
        self.preset = preset
        self.target_iou = float(target_iou)
        self.max_clicks = int(max_clicks)
        self.terminate_on_success = bool(terminate_on_success)
        self.text_grid = int(text_grid)
        self._size = (h, w)
        self.samples = load_samples(source, split=split, limit=num_samples, size=(h, w), **dict(source_options or {}))
        if len(self.samples) == 0:
            raise ValueError(f"source {source!r} gave no samples")
        self.backend = make_backend(backend, **dict(backend_options or {}))
        self.action_space = spaces.MultiDiscrete([SCALE, SCALE, 3])
        self.observation_space = spaces.Dict(
            {
                "image": spaces.Box(0, 255, (h, w, 3), np.uint8),
                "mask": spaces.Box(0, 1, (h, w), np.uint8),
                "clicks": spaces.Box(-1, SCALE - 1, (self.max_clicks, 3), np.int32),
            }
        )
        self.sample = None
        self._clicks: list[tuple[int, int, bool]] = []  # (x, y, positive) on the 0-999 scale
        self._mask = np.zeros((h, w), bool)
        self._iou = 0.0
        self._ended = False
        self._finished = False
        self.last_call_ms = 0.0
        self.instructions = self._instructions()

    # ---- text ------------------------------------------------------------------------
    def _pair(self) -> str:
        return "(x, y)" if self.coords == "xy" else "(row, column)"

    def _instructions(self) -> str:
        if self.coords == "xy":
            order = (
                "Coordinates are (x, y): x FIRST = the column, 0 at the left edge to 999 at the right "
                "edge; y SECOND = the row, 0 at the top to 999 at the bottom. Example: (999, 0) is the "
                "top-right corner."
            )
        else:
            order = (
                "Coordinates are (row, column) as in SegAgent: the row FIRST, 0 at the top to 999 at the "
                "bottom; the column SECOND, 0 at the left edge to 999 at the right edge. Example: "
                "(0, 999) is the top-right corner."
            )
        return (
            "You are annotating an object in an image with an interactive segmentation tool. "
            "Each turn, click one point: a positive point on a part of the object the mask misses, or "
            "a negative point on a part outside the object that the mask wrongly covers. The tool "
            "recomputes the mask around your newest click. The text below renders the current mask as a "
            "grid ('#' inside, '+' partly, '.' outside). If you are also shown the image, the mask is "
            "drawn on it in semi-transparent green, your positive clicks as green dots and negative ones "
            "as red dots.\n"
            f"{order} Both run from 0 to 999 whatever the image size.\n"
            f"Answer with exactly one action:\n  Positive point: {self._pair()}\n  Negative point: "
            f"{self._pair()}\n  Finish\n"
            f"Say Finish when the mask covers the object well. You have at most {self.max_clicks} clicks; "
            f"the episode succeeds when the mask's IoU with the true object reaches {self.target_iou:.2f}."
        )

    def format_action(self, action) -> str:
        x, y, kind = self._coerce(action)
        if kind == FINISH:
            return "Finish"
        a, b = (x, y) if self.coords == "xy" else (y, x)
        return f"{'Positive' if kind == 1 else 'Negative'} point: ({a}, {b})"

    @staticmethod
    def _unwrap(text: str) -> str:
        """The action inside the wrappers VLMs put around it (tags, "Action:", quotes)."""
        s = text.strip()
        for _ in range(4):
            before = s
            m = _TAGS.match(s)
            if m:
                s = m.group(2).strip()
            s = _PREFIX.sub("", s, count=1).strip()
            s = s.strip("`\"'*").strip()
            if s == before:
                break
        return s

    def parse_action(self, text: str):
        if not isinstance(text, str):
            raise InvalidAction(f"expected text, got {type(text).__name__}")
        if len(text) > MAX_ACTION_CHARS:
            raise InvalidAction(
                f"the action is {len(text)} characters long (at most {MAX_ACTION_CHARS}); write one action such as "
                f"'Positive point: {self._pair()}' or 'Finish'."
            )
        body = self._unwrap(text)
        if _FINISH.match(body):
            return np.array([0, 0, FINISH], dtype=np.int64)
        m = _POINT.match(body)
        if not m:
            shown = text if len(text) <= 60 else text[:57] + "..."
            raise InvalidAction(
                f"could not read {shown!r} as an action. Write exactly one of: 'Positive point: {self._pair()}', "
                f"'Negative point: {self._pair()}' or 'Finish', with integer coordinates 0-999, "
                f"e.g. 'Positive point: (500, 250)'.",
                allowed=[f"Positive point: {self._pair()}", f"Negative point: {self._pair()}", "Finish"],
            )
        nums = [g for g in m.groups()[1:] if g is not None]
        if any(len(g.lstrip("+-")) > 6 for g in nums):
            raise InvalidAction(f"coordinates of {self._pair()} must be integers from 0 to {SCALE - 1}.")
        a, b = int(nums[0]), int(nums[1])
        if not (0 <= a < SCALE and 0 <= b < SCALE):
            raise InvalidAction(
                f"point ({a}, {b}) is off the image: both coordinates of {self._pair()} must be integers from 0 "
                f"to {SCALE - 1} (0-999 scale, not pixels)."
            )
        x, y = (a, b) if self.coords == "xy" else (b, a)
        return np.array([x, y, 1 if m.group(1).lower() == "positive" else 0], dtype=np.int64)

    def render_text(self) -> str:
        if self.sample is None:
            return "No episode yet: call reset()."
        h, w = self._size
        lines = [
            f"Goal: segment {self.sample.description}.",
            f"Image: {w} pixels wide, {h} high; coordinates {self._pair()} on a 0-999 scale.",
        ]
        if self._clicks:
            shown = "; ".join(self.format_action((x, y, int(p))) for x, y, p in self._clicks)
            lines.append(f"Clicks so far ({len(self._clicks)} of {self.max_clicks}): {shown}")
        else:
            lines.append(f"No clicks yet ({self.max_clicks} allowed).")
        cover = 100.0 * float(self._mask.mean())
        lines.append(f"Current mask: {cover:.1f}% of the image.")
        lines.append(mask_text(self._mask, self.text_grid, self.coords))
        if self._ended:
            verdict = "reached" if self._iou >= self.target_iou else "did not reach"
            lines.append(f"Episode over: the mask {verdict} IoU {self.target_iou:.2f} (IoU {self._iou:.3f}).")
        else:
            lines.append(f"Clicks left: {self.max_clicks - len(self._clicks)}. Next action?")
        return "\n".join(lines)

    # ---- episode ---------------------------------------------------------------------
    def _load(self, task_id: str):
        try:
            return self.samples[self.samples.index(task_id)]
        except KeyError:
            m = _SYNTHETIC_ID.match(str(task_id))
            if m and self.source == m.group(1):
                from .synthetic import hard_scene, synthetic_scene

                scene = synthetic_scene if m.group(1) == "synthetic" else hard_scene
                return scene(int(m.group(2)), self._size)
            raise InvalidAction(
                f"unknown task {task_id!r} for source {self.source!r}; ids look like {self.samples.ids[0]!r}"
            ) from None

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        options = dict(options or {})
        if "task" in options:
            sample = self._load(str(options["task"]))
        else:
            sample = self.samples[int(self.np_random.integers(len(self.samples)))]
        self._start(sample)
        return self._obs(), self._info()

    def _start(self, sample):
        self.sample = sample
        self._clicks = []
        self._mask = np.zeros(self._size, bool)
        self._iou = 0.0
        self._ended = False
        self._finished = False
        self.task = self._make_task(sample)

    def _make_task(self, sample) -> Task:
        def validate(env):
            return env._iou, env._ended, {"iou": env._iou}

        def solve(env):
            return env.oracle_plan()

        return Task(
            id=sample.id,
            goal=f"Segment {sample.description} (IoU >= {self.target_iou:.2f} within {self.max_clicks} clicks).",
            split=self.split if self.source in ("synthetic", "synthetic-hard") else "test",
            data={"description": sample.description, "target_iou": self.target_iou},
            validator=validate,
            oracle=solve,
        )

    def _coerce(self, action) -> tuple[int, int, int]:
        try:
            arr = np.asarray(action)
            ok = arr.shape == (3,) and np.issubdtype(arr.dtype, np.integer)
            if not ok and arr.shape == (3,) and np.issubdtype(arr.dtype, np.floating):
                ok = bool(np.all(arr == np.round(arr)))
        except Exception:  # noqa: BLE001 - anything that is not an array-like
            ok = False
        if not ok:
            raise InvalidAction(
                f"{action!r} is not an action: give (x, y, kind) integers, x and y 0-999 (x = column, "
                "y = row), kind 1 = positive click, 0 = negative click, 2 = finish (or use the text view)."
            )
        x, y, kind = (int(v) for v in arr)
        if not (0 <= x < SCALE and 0 <= y < SCALE and kind in (0, 1, 2)):
            raise InvalidAction(
                f"{action!r} is out of range: x and y must be 0-999 and kind 0 (negative), 1 (positive) or 2 (finish)."
            )
        return x, y, kind

    def step(self, action):
        if self.sample is None:
            raise InvalidAction("call reset() before step().")
        if self._ended:
            raise InvalidAction("the episode is over; call reset() to start a new one.")
        x, y, kind = self._coerce(action)
        if kind == FINISH:
            self._ended = self._finished = True
            return self._obs(), 0.0, True, False, self._info()
        before = self._iou
        self._clicks.append((x, y, bool(kind)))
        import time

        start = time.perf_counter()
        mask = self.backend.segment(self.sample.image, self.pixel_clicks(), self._mask)
        self.last_call_ms = 1000.0 * (time.perf_counter() - start)
        self._mask = np.asarray(mask, bool)
        self._iou = iou(self._mask, self.sample.mask)
        terminated = self.terminate_on_success and self._iou >= self.target_iou
        truncated = not terminated and len(self._clicks) >= self.max_clicks
        self._ended = terminated or truncated
        return self._obs(), float(self._iou - before), bool(terminated), bool(truncated), self._info()

    def pixel_clicks(self) -> list[Click]:
        h, w = self._size
        return [Click(to_pixel(x, w), to_pixel(y, h), p) for x, y, p in self._clicks]

    def _obs(self):
        clicks = np.full((self.max_clicks, 3), -1, np.int32)
        for i, (x, y, p) in enumerate(self._clicks):
            clicks[i] = (x, y, int(p))
        return {"image": self.sample.image.copy(), "mask": self._mask.astype(np.uint8), "clicks": clicks}

    def _info(self) -> dict:
        info = {"task_id": self.sample.id, "iou": self._iou, "clicks": len(self._clicks),
                "description": self.sample.description, "image": self.image()}
        if self._ended:
            info["success"] = bool(self._iou >= self.target_iou)
        return info

    # ---- images ----------------------------------------------------------------------
    def image(self) -> np.ndarray | None:
        """The overlay (RGB uint8): the image, the mask in green, clicks as dots."""
        if self.sample is None:
            return None
        return overlay(self.sample.image, self._mask, self.pixel_clicks())

    def image_size(self) -> tuple[int, int]:
        """(height, width) in pixels of :meth:`image`; clicks map 0-999 onto it."""
        return self._size

    def render(self):
        if self.render_mode == "rgb_array":
            return self.image()
        return super().render()

    # ---- oracle ----------------------------------------------------------------------
    def oracle_action(self, finish_at_target: bool = True):
        """The RITM clicker's next action (``Finish`` once the target IoU is reached,
        unless ``finish_at_target`` is False; ``Finish`` also when no error is left)."""
        if finish_at_target and self._iou >= self.target_iou and self._clicks:
            return np.array([0, 0, FINISH], dtype=np.int64)
        click = next_click(self.sample.mask, self._mask, self.pixel_clicks())
        if click is None:
            return np.array([0, 0, FINISH], dtype=np.int64)
        h, w = self._size
        return np.array([to_scale(click.x, w), to_scale(click.y, h), int(click.positive)], dtype=np.int64)

    def oracle_plan(self) -> list:
        """The oracle's actions from here to the end (simulated, then the state is restored)."""
        state = self.get_state()
        plan = []
        try:
            while not self._ended:
                action = self.oracle_action()
                plan.append(action)
                self.step(action)
        finally:
            self.set_state(state)
        return plan

    def sample_action(self, rng):
        """A random action (RandomAgent uses it): mostly clicks, sometimes Finish."""
        if rng.random() < 0.1:
            return np.array([0, 0, FINISH], dtype=np.int64)
        return np.array([rng.randrange(SCALE), rng.randrange(SCALE), int(rng.random() < 0.6)], dtype=np.int64)

    # ---- snapshots -------------------------------------------------------------------
    def get_state(self):
        if self.sample is None:
            return None
        return {
            "task_id": self.sample.id,
            "clicks": list(self._clicks),
            "mask": np.packbits(self._mask).tobytes(),
            "iou": self._iou,
            "ended": self._ended,
            "finished": self._finished,
            "rng": self.np_random.bit_generator.state,
        }

    def set_state(self, state) -> None:
        if state is None:
            self.sample = None
            return
        if self.sample is None or self.sample.id != state["task_id"]:
            self._start(self._load(state["task_id"]))
        h, w = self._size
        bits = np.unpackbits(np.frombuffer(state["mask"], np.uint8), count=h * w)
        self._mask = bits.reshape(h, w).astype(bool)
        self._clicks = [(int(x), int(y), bool(p)) for x, y, p in state["clicks"]]
        self._iou = float(state["iou"])
        self._ended = bool(state["ended"])
        self._finished = bool(state["finished"])
        self.np_random.bit_generator.state = state["rng"]
