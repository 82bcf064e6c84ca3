"""Tool schemas from signatures and docstrings; validation of calls against them."""

import importlib.util
from typing import Literal, Optional

import jsonschema
import pytest

from palaestra.core import InvalidAction
from palaestra.envs.tools.schema import bfcl_to_json_schema, tool_from_function
from palaestra.envs.tools.world import TOOLS


def book_room(room: str, nights: int, guests: Optional[int] = None, view: Literal["sea", "city"] = "city",
              rate: float = 99.5):
    """Book a hotel room.

    Args:
        room: the room's name.
        nights: how many nights
            (continued description).
        guests: how many people.
        view: which side the window faces.
        rate: price per night.
    """
    return {"room": room, "nights": nights, "guests": guests, "view": view, "rate": rate}


def test_schema_from_signature_and_docstring():
    tool = tool_from_function(book_room)
    schema = tool.schema()
    assert schema["type"] == "function"
    fn = schema["function"]
    assert fn["name"] == "book_room" and fn["description"] == "Book a hotel room."
    params = fn["parameters"]
    jsonschema.Draft202012Validator.check_schema(params)
    assert params["required"] == ["room", "nights"]
    assert params["properties"]["nights"] == {"type": "integer",
                                              "description": "how many nights (continued description)."}
    assert params["properties"]["guests"]["type"] == "integer"
    assert params["properties"]["view"]["enum"] == ["sea", "city"]
    assert params["properties"]["rate"]["type"] == "number"
    assert params["additionalProperties"] is False
    assert tool(room="A", nights=2, guests=None)["view"] == "city"


def test_validation_names_the_problem():
    tool = tool_from_function(book_room)
    tool.validate({"room": "A", "nights": 2, "guests": None})  # null for an optional None default
    for args, needle in [({"room": "A"}, "nights"), ({"room": "A", "nights": "2"}, "nights"),
                         ({"room": "A", "nights": 2, "view": "garden"}, "view"),
                         ({"room": "A", "nights": 2, "pets": 1}, "pets")]:
        with pytest.raises(InvalidAction) as err:
            tool.validate(args)
        assert needle in str(err.value) and "Signature: book_room(" in str(err.value)


def test_world_tools_have_valid_schemas_and_descriptions():
    assert len(TOOLS) >= 15
    for name, tool in TOOLS.items():
        jsonschema.Draft202012Validator.check_schema(tool.parameters)
        assert tool.description, name
        for pname, prop in tool.parameters["properties"].items():
            assert prop.get("description"), (name, pname)


@pytest.mark.skipif(importlib.util.find_spec("bfcl_eval") is None,
                    reason="bfcl-eval is not installed: pip install --no-deps bfcl-eval")
def test_every_bfcl_function_converts_to_a_valid_json_schema():
    from palaestra.envs.tools.bfcl import data

    meta = jsonschema.Draft7Validator(jsonschema.Draft7Validator.META_SCHEMA)
    import json

    seen = set()
    for category in data.CATEGORIES:
        for entry in data.load(category):
            for doc in entry.get("function") or []:
                key = json.dumps(doc["parameters"], sort_keys=True)
                if key in seen:
                    continue
                seen.add(key)
                schema = bfcl_to_json_schema(doc["parameters"])
                meta.validate(schema)
                assert schema.get("type") == "object"
    assert len(seen) > 1000
