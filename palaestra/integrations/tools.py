"""An env's action grammar as typed tools: one Python function per kind of action.

TRL (``GRPOTrainer(environment_factory=...)``), OpenAI-style tool calling and MCP all
describe tools by a function's name, type hints and docstring. :func:`action_tools`
gives, for any palaestra env, functions that format their arguments into the env's own
text action: a column for Connect Four, a cell for Hex, a move for chess, ``search`` /
``click`` for the shop in text mode, ``click`` / ``fill`` / ... for browser pages, the
real tool schemas for ToolUse, a point for segmentation, ``add`` / ``stop`` for chunk
selection. Every env also gets ``act(action)``, the raw text action, so nothing of the
grammar is out of reach.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from typing import Any, Callable

_JSON_TYPES = {"string": str, "integer": int, "number": float, "boolean": bool, "array": list, "object": dict}


@dataclass
class ActionTool:
    """A typed tool: ``name(**arguments) -> text action``."""

    name: str
    doc: str  # Google-style: a summary, then "Args:" with one line per parameter
    params: list[tuple[str, type, str, Any]]  # (name, type, description, default or inspect._empty)
    to_text: Callable[..., str]

    def signature(self) -> inspect.Signature:
        return inspect.Signature([
            inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=t, default=d)
            for p, t, _, d in self.params
        ], return_annotation=str)

    def docstring(self) -> str:
        lines = [self.doc.strip()]
        if self.params:
            lines += ["", "Args:"] + [f"    {p}: {desc}" for p, _, desc, _ in self.params]
        lines += ["", "Returns:", "    The env's next observation (or its error message)."]
        return "\n".join(lines)


_E = inspect.Parameter.empty


def _game_tools(base) -> list[ActionTool]:
    game = getattr(getattr(base, "rules", None), "name", "")
    if game == "connect_four":
        return [ActionTool("drop", "Drop a disc into a column.", [("column", int, "the column, 1 (left) to 7 (right).", _E)],
                           lambda column: str(column))]
    if game == "hex":
        return [ActionTool("place", "Place a stone on a cell (or 'swap' when the swap rule allows it).",
                           [("cell", str, "a cell like c5 (column letter, row number), or swap.", _E)], lambda cell: cell)]
    if game == "chess":
        return [ActionTool("move", "Play a chess move.", [("move", str, "the move in UCI (e2e4) or SAN (Nf3).", _E)],
                           lambda move: move)]
    return []


def _tool_schema_tools(base) -> list[ActionTool]:
    tools = []
    for schema in base.tool_schemas():
        fn = schema.get("function", schema)
        props = (fn.get("parameters") or {}).get("properties") or {}
        required = set((fn.get("parameters") or {}).get("required") or [])
        params = []
        for pname, prop in props.items():
            ptype = _JSON_TYPES.get(prop.get("type"), str)
            desc = " ".join(str(prop.get("description") or pname).split())
            params.append((pname, ptype, desc, _E if pname in required else None))
        params.sort(key=lambda p: p[3] is not _E)  # required first

        def to_text(_name=fn["name"], **arguments):
            args = {k: v for k, v in arguments.items() if v is not None}
            return json.dumps({"name": _name, "arguments": args}, ensure_ascii=False)

        tools.append(ActionTool(fn["name"], fn.get("description") or fn["name"], params, to_text))
    return tools


def action_tools(env) -> list[ActionTool]:
    """The typed tools of ``env`` (a palaestra env, any wrapper), ``act`` included."""
    base = env.unwrapped
    name = type(base).__name__
    tools: list[ActionTool] = []
    if hasattr(base, "rules"):
        tools = _game_tools(base)
    elif name == "ToolUseEnv" and callable(getattr(base, "tool_schemas", None)):
        tools = _tool_schema_tools(base)
    elif name == "WebShopEnv" and getattr(base, "mode", "text") == "text":
        tools = [ActionTool("search", "Search the shop.", [("query", str, "the search words.", _E)],
                            lambda query: f"search[{query}]"),
                 ActionTool("click", "Click a bracketed label of the current page.",
                            [("label", str, "the label as shown in brackets, e.g. buy now or a product id.", _E)],
                            lambda label: f"click[{label}]")]
    elif name in ("WebShopEnv", "MiniWoBEnv") or "browser" in name.lower():
        tools = [ActionTool("click", "Click an element of the page.", [("element", int, "the element's id N.", _E)],
                            lambda element: f"click({element})"),
                 ActionTool("fill", "Type text into a text box (replacing its content).",
                            [("element", int, "the text box's id N.", _E), ("text", str, "the text to type.", _E)],
                            lambda element, text: f"fill({element}, {json.dumps(text)})"),
                 ActionTool("select", "Choose an option of a drop-down.",
                            [("element", int, "the drop-down's id N.", _E), ("option", str, "the option's label.", _E)],
                            lambda element, option: f"select({element}, {json.dumps(option)})")]
    elif name == "SegmentationEnv":
        tools = [ActionTool("point", "Click a point: positive on a part of the object the mask misses, negative on a "
                            "part outside the object the mask covers.",
                            [("x", int, "the first coordinate on the 0-999 scale (see the instructions for its axis).", _E),
                             ("y", int, "the second coordinate on the 0-999 scale.", _E),
                             ("positive", bool, "true for a positive point, false for a negative one.", True)],
                            lambda x, y, positive=True: f"{'Positive' if positive else 'Negative'} point: ({x}, {y})"),
                 ActionTool("finish", "Say the mask is done; ends the episode.", [], lambda: "Finish")]
    elif name == "ChunkSelectionEnv":
        tools = [ActionTool("add", "Append a retrieved chunk to the context.",
                            [("chunk", int, "the chunk's number as listed.", _E)], lambda chunk: f"add {chunk}"),
                 ActionTool("stop", "Stop: the chosen chunks are the context; ends the episode.", [], lambda: "stop")]
    tools.append(ActionTool("act", "Take any action in the env's own text form (see the instructions).",
                            [("action", str, "the action, exactly as the instructions write it.", _E)],
                            lambda action: action))
    return tools
