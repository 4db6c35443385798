"""JSON Schema compatibility corpus: (name, old, new, backward ok, forward ok).

Backward: every document the old schema accepts is accepted by the new one; forward: the reverse.
Verdicts follow Confluent's rules (open/closed/partially open content models, required with default).
"""

from __future__ import annotations

from typing import Any


def obj(props: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props, **extra}


def closed(props: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return obj(props, additionalProperties=False, **extra)


S = {"type": "string"}
I = {"type": "integer"}  # noqa: E741

CASES: list[tuple[str, Any, Any, bool, bool]] = [
    ("identical", obj({"a": S}), obj({"a": S}), True, True),
    ("string gains null", S, {"type": ["string", "null"]}, True, False),
    ("integer to number", I, {"type": "number"}, True, False),
    ("number to integer", {"type": "number"}, I, False, True),
    ("maxLength raised", {"type": "string", "maxLength": 10}, {"type": "string", "maxLength": 20}, True, False),
    ("maxLength removed", {"type": "string", "maxLength": 10}, S, True, False),
    ("minLength lowered", {"type": "string", "minLength": 5}, {"type": "string", "minLength": 2}, True, False),
    ("pattern added", S, {"type": "string", "pattern": "^a"}, False, True),
    ("pattern removed", {"type": "string", "pattern": "^a"}, S, True, False),
    ("maximum raised", {"type": "number", "maximum": 100}, {"type": "number", "maximum": 200}, True, False),
    ("minimum raised", {"type": "number", "minimum": 0}, {"type": "number", "minimum": 10}, False, True),
    ("minimum removed", {"type": "integer", "minimum": 0}, I, True, False),
    ("exclusiveMaximum added", {"type": "number"}, {"type": "number", "exclusiveMaximum": 5}, False, True),
    ("multipleOf 2 to 4", {"type": "integer", "multipleOf": 2}, {"type": "integer", "multipleOf": 4}, False, True),
    ("multipleOf 4 to 2", {"type": "integer", "multipleOf": 4}, {"type": "integer", "multipleOf": 2}, True, False),
    ("enum value added", {"enum": ["a", "b"]}, {"enum": ["a", "b", "c"]}, True, False),
    ("enum value removed", {"enum": ["a", "b"]}, {"enum": ["a"]}, False, True),
    ("enum added", S, {"type": "string", "enum": ["a"]}, False, True),
    ("const added", S, {"type": "string", "const": "a"}, False, True),
    ("closed model: optional property added", closed({"a": S}), closed({"a": S, "b": I}), True, False),
    ("closed model: property removed", closed({"a": S, "b": I}), closed({"a": S}), False, True),
    ("open model: typed property added", obj({"a": S}), obj({"a": S, "b": I}), False, True),
    ("open model: property removed", obj({"a": S, "b": I}), obj({"a": S}), True, False),
    ("open model: property with empty schema added", obj({"a": S}), obj({"a": S, "b": {}}), True, True),
    ("required added without default", obj({"a": S, "b": I}), obj({"a": S, "b": I}, required=["b"]), False, True),
    ("required removed", obj({"a": S, "b": I}, required=["b"]), obj({"a": S, "b": I}), True, False),
    (
        "required added with default",
        obj({"a": S, "b": {"type": "integer", "default": 0}}),
        obj({"a": S, "b": {"type": "integer", "default": 0}}, required=["b"]),
        True,
        True,
    ),
    ("model opened", closed({"a": S}), obj({"a": S}), True, False),
    ("model closed", obj({"a": S}), closed({"a": S}), False, True),
    (
        "partially open: property covered by additionalProperties added",
        obj({"a": S}, additionalProperties=S),
        obj({"a": S, "b": S}, additionalProperties=S),
        True,
        True,
    ),
    (
        "partially open: property not covered added",
        obj({"a": S}, additionalProperties=S),
        obj({"a": S, "b": I}, additionalProperties=S),
        False,
        False,
    ),
    ("array items widened", {"type": "array", "items": S}, {"type": "array", "items": {"type": ["string", "null"]}}, True, False),
    ("maxItems raised", {"type": "array", "maxItems": 5}, {"type": "array", "maxItems": 10}, True, False),
    ("minItems lowered", {"type": "array", "minItems": 1}, {"type": "array", "minItems": 0}, True, False),
    ("uniqueItems added", {"type": "array", "items": S}, {"type": "array", "items": S, "uniqueItems": True}, False, True),
    ("anyOf branch added", {"anyOf": [S, I]}, {"anyOf": [S, I, {"type": "boolean"}]}, True, False),
    ("anyOf branch removed", {"anyOf": [S, I]}, {"anyOf": [S]}, False, True),
    ("oneOf became anyOf", {"oneOf": [S, I]}, {"anyOf": [S, I]}, True, False),
    (
        "allOf branch added",
        {"allOf": [{"type": "string"}]},
        {"allOf": [{"type": "string"}, {"maxLength": 3}]},
        False,
        True,
    ),
    (
        "allOf branch removed",
        {"allOf": [{"type": "string"}, {"maxLength": 3}]},
        {"allOf": [{"type": "string"}]},
        True,
        False,
    ),
    ("not added", S, {"type": "string", "not": {"const": "x"}}, False, True),
    ("nested property retyped", obj({"n": obj({"x": S})}), obj({"n": obj({"x": I})}), False, False),
    ("nested property widened", obj({"n": obj({"x": S})}), obj({"n": obj({"x": {"type": ["string", "integer"]}})}), True, False),
    ("title and description changed", {"type": "string", "title": "A"}, {"type": "string", "title": "B", "description": "d"}, True, True),
    (
        "$ref definition widened",
        {"definitions": {"d": {"type": "string", "maxLength": 5}}, "type": "object", "properties": {"a": {"$ref": "#/definitions/d"}}},
        {"definitions": {"d": {"type": "string", "maxLength": 10}}, "type": "object", "properties": {"a": {"$ref": "#/definitions/d"}}},
        True,
        False,
    ),
    ("dependency added", obj({"a": S, "b": S}), obj({"a": S, "b": S}, dependencies={"a": ["b"]}), False, True),
    ("maxProperties added", obj({"a": S}), obj({"a": S}, maxProperties=3), False, True),
    ("true to false", True, False, False, True),
]  # fmt: skip
