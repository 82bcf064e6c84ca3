"""Calls written as replies BFCL reads back, and BFCL's possible answers as concrete calls.

- :func:`python_call_text`: ``name(a=1, b='x')``, BFCL's Python format;
- :func:`source_call_text` / :func:`source_call`: Java and JavaScript source for BFCL's
  tree-sitter parsers and type converters;
- :func:`ground_truth_call`: one call that a possible answer allows (the oracle), and
  :func:`placeholder_call` for relevance entries.
"""

from __future__ import annotations

import html
import json
import re


def _pick_option(options: list, required: bool):
    """A value the possible answer allows: leave out optional ones, else the first listed."""
    if "" in options and not required:
        return _OMIT
    # a required parameter whose only allowed value is "" takes the empty string; an empty
    # list of allowed values cannot be met (a flaw of a few BFCL entries): leave it out
    return next((o for o in options if o != ""), "" if options else _OMIT)


_OMIT = object()


def _concrete(value, declared: dict):
    kind = declared.get("type")
    if kind == "dict" and isinstance(value, dict):
        out = {}
        for key, options in value.items():
            v = _pick_option(options, False) if isinstance(options, list) else options
            if v is not _OMIT:
                out[key] = v
        return out
    if kind == "array" and declared.get("items", {}).get("type") == "dict" and isinstance(value, list):
        return [_concrete(v, {"type": "dict"}) for v in value]
    return value


def ground_truth_call(functions: list[dict], gt: dict) -> dict:
    (name, allowed), = gt.items()
    doc = next((f for f in functions if f["name"] == name), {"parameters": {}})
    props = doc["parameters"].get("properties", {})
    required = set(doc["parameters"].get("required", []))
    args = {}
    for param, options in allowed.items():
        value = _pick_option(options, param in required)
        if value is not _OMIT:
            args[param] = _concrete(value, props.get(param, {}))
    return {"name": name, "arguments": args}


_PLACEHOLDER = {"string": "example", "integer": 1, "float": 1.0, "boolean": True, "array": [], "tuple": [],
                "dict": {}, "any": "example"}


def placeholder_call(doc: dict) -> dict:
    props = doc.get("parameters", {}).get("properties", {})
    args = {p: _PLACEHOLDER.get(props[p].get("type"), "example") for p in doc.get("parameters", {}).get("required", [])
            if p in props}
    return {"name": doc["name"], "arguments": args}


def python_call_text(call: dict) -> str:
    """``name(a=1, b='x')``: a call in BFCL's Python format (values as Python literals)."""
    return call["name"] + "(" + ", ".join(f"{k}={v!r}" for k, v in call["arguments"].items()) + ")"


_STRING_TYPES = ("String", "char", "any")


_BARE = re.compile(r"^(-?\d+(\.\d+)?([eE][+-]?\d+)?[lLfFn]?|true|false|new\s.*|\[.*\]|\{.*\})$", re.DOTALL)


def source_call_text(call: dict, functions: list[dict]) -> str:
    """``name(p=value, ...)`` in Java/JavaScript: values that are source (numbers, booleans,
    ``new ...``, array and object literals) as they are, everything else as a string literal
    (BFCL's parsers take the quotes off again)."""
    parts = []
    for k, v in call["arguments"].items():
        if not isinstance(v, str):
            text = json.dumps(v)
        elif _BARE.match(v):
            text = v
        else:
            text = f'"{v}"' if '"' not in v and "\n" not in v else json.dumps(v)
        parts.append(f"{k}={text}")
    return f"{call['name']}(" + ", ".join(parts) + ")"


def _source_literal(value, language: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_source_literal(v, language) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_source_literal(v, language)}" for k, v in value.items()) + "}"
    return repr(value)


def _source_value(value, prop: dict, language: str) -> str:
    """The Java/JavaScript source of a ground-truth value, as BFCL's type converters read it back."""
    kind = prop.get("type")
    if isinstance(value, str):  # a string, or a variable name where a collection is declared
        return value
    if kind in _STRING_TYPES:
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if language == "java":
        if kind == "long":
            return f"{value}L"
        if kind == "float":
            return f"{value}f"
        if kind in ("Array", "ArrayList"):
            nested = prop.get("items", {}).get("type", "String")
            # BFCL reads String items of an ArrayList without their quotes, of an array as written
            items = [(json.dumps(v) if kind == "ArrayList" else str(v)) if nested == "String"
                     else _source_literal(v, language) if nested == "any"
                     else _source_value(v, {"type": nested}, language)
                     for v in value]
            if kind == "Array":
                return f"new {_JAVA_NAMES.get(nested, nested)}[]{{" + ", ".join(items) + "}"
            return "new ArrayList<>(Arrays.asList(" + ", ".join(items) + "))"
        if kind == "HashMap" and isinstance(value, dict):
            value = {k: _pick_option(v, False) if isinstance(v, list) else v for k, v in value.items()}
            puts = " ".join(f'put("{k}", {_source_literal(v, language)});' for k, v in value.items() if v is not _OMIT)
            return "new HashMap<String, Object>() {{ " + puts + " }}"
        return str(value)
    if kind == "Bigint":
        return f"{value}n"
    if kind in ("array", "dict"):
        return _source_literal(value, language)
    return str(value)


_JAVA_NAMES = {"integer": "int", "String": "String", "boolean": "boolean", "double": "double", "long": "long",
               "float": "float", "char": "char", "byte": "byte", "short": "short", "any": "Object"}


def source_call(call: dict, functions: list[dict], language: str) -> dict:
    doc = next((f for f in functions if f["name"] == call["name"]), {"parameters": {"properties": {}}})
    props = doc["parameters"].get("properties", {})
    return {"name": call["name"],
            "arguments": {k: _source_value(v, props.get(k, {}), language) for k, v in call["arguments"].items()}}


_XML_TYPES = ((bool, "boolean"), (int, "integer"), (float, "float"), (str, "string"), (list, "array"),
              (dict, "dict"), (type(None), "null"))


def _xml_type(value) -> str:
    return next(name for kind, name in _XML_TYPES if isinstance(value, kind))


def _xml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else repr(value)


def format_reply(calls: list[dict], return_format: str = "python", tool_call_tag: bool = False) -> str:
    """Calls written in one of BFCL's prompt formats (``python``, ``json``, ``verbose_xml``,
    ``concise_xml``), inside ``<TOOLCALL>`` when the prompt asks for the tag."""
    if return_format == "python":
        text = "[" + ", ".join(python_call_text(c) for c in calls) + "]"
    elif return_format == "json":
        text = json.dumps([{"function": c["name"], "parameters": c["arguments"]} for c in calls])
    elif return_format == "verbose_xml":
        text = "<functions>" + "".join(
            f'<function name="{html.escape(c["name"])}"><params>' + "".join(
                f'<param name="{html.escape(k)}" value="{html.escape(_xml_value(v))}" type="{_xml_type(v)}"/>'
                for k, v in c["arguments"].items()) + "</params></function>" for c in calls) + "</functions>"
    elif return_format == "concise_xml":
        text = "<functions>" + "".join(
            f'<function name="{html.escape(c["name"])}">' + "".join(
                f'<param name="{html.escape(k)}" type="{_xml_type(v)}">{html.escape(_xml_value(v), quote=False)}'
                "</param>" for k, v in c["arguments"].items()) + "</function>" for c in calls) + "</functions>"
    else:
        raise ValueError(f"unknown return format {return_format!r}")
    return f"<TOOLCALL>{text}</TOOLCALL>" if tool_call_tag else text
