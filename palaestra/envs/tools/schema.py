"""Tools as OpenAI function-calling schemas, bound to Python callables.

A :class:`Tool` is a name, a description, a JSON schema of its parameters and the
callable that runs it. :func:`tool_from_function` builds one from a typed function
and its Google-style docstring (pydantic writes the parameter schema); calls are
validated against the schema with ``jsonschema`` before anything runs.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import jsonschema
from pydantic import create_model

from palaestra.core import InvalidAction


def _docstring_parts(doc: str) -> tuple[str, dict[str, str]]:
    """(description, {param: text}) from a Google-style docstring."""
    doc = inspect.cleandoc(doc or "")
    description_lines, params, current = [], {}, None
    section = "description"
    for line in doc.splitlines():
        stripped = line.strip()
        if stripped in ("Args:", "Arguments:", "Parameters:"):
            section = "args"
            continue
        if stripped in ("Returns:", "Raises:", "Examples:"):
            section = "other"
            continue
        if section == "description":
            description_lines.append(stripped)
        elif section == "args":
            m = re.match(r"^(\w+)\s*(\([^)]*\))?:\s*(.*)$", stripped)
            if m and not line.startswith(" " * 8):
                current = m.group(1)
                params[current] = m.group(3)
            elif current and stripped:
                params[current] += " " + stripped
    description = " ".join(x for x in description_lines if x).strip()
    return description, params


def _strip_titles(node, names: bool = False):
    """Drop pydantic's "title" annotations (not properties that are named "title")."""
    if isinstance(node, dict):
        if names:
            return {k: _strip_titles(v) for k, v in node.items()}
        return {k: _strip_titles(v, names=k in ("properties", "$defs")) for k, v in node.items() if k != "title"}
    if isinstance(node, list):
        return [_strip_titles(v) for v in node]
    return node


def parameters_schema(fn: Callable) -> dict:
    """The JSON schema (an ``object``) of ``fn``'s parameters, from its type hints."""
    sig = inspect.signature(fn)
    hints = inspect.get_annotations(fn, eval_str=True)
    _, docs = _docstring_parts(fn.__doc__ or "")
    fields = {}
    for name, param in sig.parameters.items():
        if name == "self" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        annotation = hints.get(name, Any)
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[name] = (annotation, default)
    model = create_model(f"{fn.__name__}_arguments", **fields)
    schema = _strip_titles(model.model_json_schema())
    schema.pop("$defs", None)
    for name, prop in schema.get("properties", {}).items():
        if name in docs and docs[name]:
            prop["description"] = docs[name]
        # Optional[X] = None becomes anyOf [X, null]; keep X and note the default
        if "anyOf" in prop:
            kinds = [k for k in prop["anyOf"] if k.get("type") != "null"]
            if len(kinds) == 1:
                desc = prop.get("description")
                default = prop.get("default", None)
                prop.clear()
                prop.update(kinds[0])
                if desc:
                    prop["description"] = desc
                prop["default"] = default
    schema["additionalProperties"] = False
    schema.setdefault("required", [])
    return schema


_BOUNDS = {"maxLength", "minLength", "maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum", "maxItems"}


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit // 2] + f" ... [{len(text) - limit} characters] ... " + text[-limit // 3:]


def _shown(value) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        return f"a {len(str(abs(value)))}-digit number"
    text = repr(value)
    return text if len(text) <= 40 else f"a {len(text)}-character value"


def _bound_message(where: str, err) -> str:
    """The schema bound an argument broke, named with its limit (never the whole value)."""
    bound, value = err.validator_value, err.instance
    if err.validator == "maxLength":
        return f"argument {where!r} is {len(value):,} characters long; the limit is {bound:,} (maxLength)"
    if err.validator == "minLength":
        return f"argument {where!r} must have at least {bound} character(s)"
    if err.validator == "maxItems":
        return f"argument {where!r} has {len(value):,} items; the limit is {bound:,} (maxItems)"
    word = {"maximum": "at most", "minimum": "at least", "exclusiveMaximum": "below",
            "exclusiveMinimum": "above"}[err.validator]
    limit = f"{bound:,}" if isinstance(bound, int) else f"{bound:g}"
    return f"argument {where!r} is {_shown(value)}; it must be {word} {limit} ({err.validator})"


@dataclass
class Tool:
    """One callable tool with its OpenAI function schema."""

    name: str
    description: str
    parameters: dict
    fn: Callable | None = None
    mutates: bool = False  # changes the world (state-changing tools)
    _validator: Any = field(default=None, repr=False, compare=False)

    def schema(self) -> dict:
        """The OpenAI ``tools`` entry: ``{"type": "function", "function": {...}}``."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }

    def signature_text(self) -> str:
        """``name(arg: type, opt: type = default)`` for people reading the instructions."""
        props = self.parameters.get("properties", {})
        required = set(self.parameters.get("required", []))
        parts = []
        for pname, prop in props.items():
            kind = prop.get("type", "any")
            if "enum" in prop:
                kind = "|".join(repr(v) for v in prop["enum"])
            if pname in required:
                parts.append(f"{pname}: {kind}")
            else:
                parts.append(f"{pname}: {kind} = {prop.get('default', None)!r}")
        return f"{self.name}({', '.join(parts)})"

    def validate(self, arguments: dict) -> None:
        """Raise InvalidAction naming the argument that does not fit the schema."""
        if not isinstance(arguments, dict):
            raise InvalidAction(f"arguments of {self.name} must be a JSON object, got {type(arguments).__name__}.")
        arguments = self.drop_null_defaults(arguments)
        if self._validator is None:
            cls = jsonschema.validators.validator_for(self.parameters, default=jsonschema.Draft202012Validator)
            self._validator = cls(self.parameters)
        errors = sorted(self._validator.iter_errors(arguments), key=lambda e: list(e.path))
        if errors:
            err = jsonschema.exceptions.best_match(errors)
            where = "/".join(str(p) for p in err.absolute_path)
            if err.validator == "additionalProperties":
                extra = sorted(set(arguments) - set(self.parameters.get("properties", {})))
                msg = f"unexpected argument(s) {', '.join(map(repr, extra))}"
            elif err.validator == "required":
                msg = err.message.replace("is a required property", "is required but missing")
            elif err.validator in _BOUNDS:
                msg = _bound_message(where, err)
            else:
                msg = f"argument {where!r}: {_clip(err.message)}" if where else _clip(err.message)
            raise InvalidAction(f"{self.name}: {msg}. Signature: {self.signature_text()}")

    def drop_null_defaults(self, arguments: dict) -> dict:
        """Arguments without explicit ``null`` for optional parameters whose default is null."""
        props = self.parameters.get("properties", {})
        required = set(self.parameters.get("required", []))
        return {
            k: v for k, v in arguments.items()
            if not (v is None and k in props and k not in required and props[k].get("default", 0) is None)
        }

    def __call__(self, **arguments):
        return self.fn(**self.drop_null_defaults(arguments))

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_validator"] = None
        return state


def tool_from_function(fn: Callable, name: str | None = None, mutates: bool = False) -> Tool:
    """A Tool whose schema comes from ``fn``'s signature and docstring."""
    description, _ = _docstring_parts(fn.__doc__ or "")
    return Tool(
        name=name or fn.__name__,
        description=description,
        parameters=parameters_schema(fn),
        fn=fn,
        mutates=mutates,
    )


_BFCL_TYPES = {"dict": "object", "float": "number", "tuple": "array", "any": None, **{  # Java/JS, as GORILLA_TO_OPENAPI
    "byte": "integer", "short": "integer", "long": "integer", "double": "number", "char": "string", "String": "string",
    "Boolean": "boolean", "Bigint": "integer", "Array": "array", "ArrayList": "array", "Set": "array",
    "Queue": "array", "Stack": "array", "HashMap": "object", "Hashtable": "object", "Any": None, "": None}}


def bfcl_to_json_schema(node):
    """BFCL's parameter dialect (``dict``, ``float``, ``tuple``, ``any``) as JSON schema."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "type" and isinstance(value, str):
                mapped = _BFCL_TYPES.get(value, value)
                if mapped is not None:
                    out["type"] = mapped
            elif key in ("properties",) and isinstance(value, dict):
                out[key] = {k: bfcl_to_json_schema(v) for k, v in value.items()}
            else:
                out[key] = bfcl_to_json_schema(value)
        return out
    if isinstance(node, list):
        return [bfcl_to_json_schema(v) for v in node]
    return node


def bfcl_tool(doc: dict) -> Tool:
    """A Tool (schema only, no callable) from a BFCL function description."""
    return Tool(
        name=doc["name"],
        description=doc.get("description", ""),
        parameters=bfcl_to_json_schema(doc.get("parameters", {"type": "dict", "properties": {}})),
    )
