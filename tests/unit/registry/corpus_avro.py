"""Avro compatibility corpus: (name, old schema, new schema, backward ok, forward ok).

Backward: the new schema reads data written with the old one; forward: the old reads the new's.
Verdicts follow the Avro specification's schema resolution (as Avro Java / Confluent apply it).
"""

from __future__ import annotations

from typing import Any


def rec(*fields: Any, name: str = "R", **extra: Any) -> dict[str, Any]:
    return {"type": "record", "name": name, "fields": list(fields), **extra}


def f(name: str, type_: Any, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, **extra}


def enum(*symbols: str, name: str = "E", **extra: Any) -> dict[str, Any]:
    return {"type": "enum", "name": name, "symbols": list(symbols), **extra}


def node(*extra_fields: Any) -> dict[str, Any]:
    return rec(f("value", "int"), f("next", ["null", "Node"], default=None), *extra_fields, name="Node")


BASE = rec(f("a", "int"), f("b", "string"))

CASES: list[tuple[str, Any, Any, bool, bool]] = [
    ("identical", BASE, BASE, True, True),
    ("add field with default", BASE, rec(f("a", "int"), f("b", "string"), f("c", "int", default=0)), True, True),
    ("add field without default", BASE, rec(f("a", "int"), f("b", "string"), f("c", "int")), False, True),
    ("remove field that had a default", rec(f("a", "int"), f("c", "int", default=1)), rec(f("a", "int")), True, True),
    ("remove field without default", BASE, rec(f("a", "int")), True, False),
    ("int to long", rec(f("a", "int")), rec(f("a", "long")), True, False),
    ("int to float", rec(f("a", "int")), rec(f("a", "float")), True, False),
    ("int to double", rec(f("a", "int")), rec(f("a", "double")), True, False),
    ("long to double", rec(f("a", "long")), rec(f("a", "double")), True, False),
    ("float to double", rec(f("a", "float")), rec(f("a", "double")), True, False),
    ("string to bytes", rec(f("a", "string")), rec(f("a", "bytes")), True, True),
    ("bytes to string", rec(f("a", "bytes")), rec(f("a", "string")), True, True),
    ("string to int", rec(f("a", "string")), rec(f("a", "int")), False, False),
    ("long to int", rec(f("a", "long")), rec(f("a", "int")), False, True),
    ("int to string", rec(f("a", "int")), rec(f("a", "string")), False, False),
    ("boolean to int", rec(f("a", "boolean")), rec(f("a", "int")), False, False),
    ("enum symbol added", rec(f("e", enum("A", "B"))), rec(f("e", enum("A", "B", "C"))), True, False),
    ("enum symbol removed", rec(f("e", enum("A", "B"))), rec(f("e", enum("A"))), False, True),
    (
        "enum symbol added, both have a default",
        rec(f("e", enum("A", "B", default="A"))),
        rec(f("e", enum("A", "B", "C", default="A"))),
        True,
        True,
    ),
    ("enum renamed", rec(f("e", enum("A"))), rec(f("e", enum("A", name="F"))), False, False),
    ("enum renamed with alias", rec(f("e", enum("A"))), rec(f("e", enum("A", name="F", aliases=["E"]))), True, False),
    ("string to enum", rec(f("a", "string")), rec(f("a", enum("A"))), False, False),
    ("fixed size changed", rec(f("x", {"type": "fixed", "name": "X", "size": 16})), rec(f("x", {"type": "fixed", "name": "X", "size": 32})), False, False),
    ("fixed unchanged", rec(f("x", {"type": "fixed", "name": "X", "size": 16})), rec(f("x", {"type": "fixed", "name": "X", "size": 16})), True, True),
    ("record renamed", BASE, rec(f("a", "int"), f("b", "string"), name="S"), False, False),
    ("record renamed with alias", BASE, rec(f("a", "int"), f("b", "string"), name="S", aliases=["R"]), True, False),
    ("namespace changed", rec(f("a", "int"), namespace="one"), rec(f("a", "int"), namespace="two"), False, False),
    ("field renamed with alias", rec(f("a", "int")), rec(f("b", "int", aliases=["a"])), True, False),
    ("union branch added", rec(f("u", ["null", "string"])), rec(f("u", ["null", "string", "int"])), True, False),
    ("union branch removed", rec(f("u", ["null", "string", "int"])), rec(f("u", ["null", "string"])), False, True),
    ("type widened to a union", rec(f("u", "string")), rec(f("u", ["null", "string"], default=None)), True, False),
    ("union narrowed to a type", rec(f("u", ["null", "string"], default=None)), rec(f("u", "string")), False, True),
    ("union branch promoted", rec(f("u", ["null", "int"])), rec(f("u", ["null", "long"])), True, False),
    ("null to optional int", rec(f("u", "null")), rec(f("u", ["null", "int"])), True, False),
    ("array items int to long", rec(f("l", {"type": "array", "items": "int"})), rec(f("l", {"type": "array", "items": "long"})), True, False),
    ("map values string to int", rec(f("m", {"type": "map", "values": "string"})), rec(f("m", {"type": "map", "values": "int"})), False, False),
    ("array to map", rec(f("c", {"type": "array", "items": "string"})), rec(f("c", {"type": "map", "values": "string"})), False, False),
    (
        "nested record field added with default",
        rec(f("n", rec(f("x", "int"), name="N"))),
        rec(f("n", rec(f("x", "int"), f("y", "int", default=0), name="N"))),
        True,
        True,
    ),
    (
        "nested record field added without default",
        rec(f("n", rec(f("x", "int"), name="N"))),
        rec(f("n", rec(f("x", "int"), f("y", "int"), name="N"))),
        False,
        True,
    ),
    ("optional field added", BASE, rec(f("a", "int"), f("b", "string"), f("c", ["null", "string"], default=None)), True, True),
    (
        "record field with a record default added",
        BASE,
        rec(f("a", "int"), f("b", "string"), f("n", rec(f("x", "int"), name="N"), default={"x": 1})),
        True,
        True,
    ),
    ("logical type added on int", rec(f("d", "int")), rec(f("d", {"type": "int", "logicalType": "date"})), True, True),
    (
        "decimal precision changed",
        rec(f("d", {"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": 2})),
        rec(f("d", {"type": "bytes", "logicalType": "decimal", "precision": 6, "scale": 2})),
        True,
        True,
    ),
    ("recursive type unchanged", node(), node(), True, True),
    ("recursive type gains a field with default", node(), node(f("tag", "string", default="")), True, True),
    (
        "union of records gains a record",
        rec(f("u", [rec(f("x", "int"), name="A")])),
        rec(f("u", [rec(f("x", "int"), name="A"), rec(f("y", "int"), name="B")])),
        True,
        False,
    ),
    (
        "record inside a union changes incompatibly",
        rec(f("u", ["null", rec(f("x", "int"), name="A")], default=None)),
        rec(f("u", ["null", rec(f("x", "string"), name="A")], default=None)),
        False,
        False,
    ),
    ("fields reordered", BASE, rec(f("b", "string"), f("a", "int")), True, True),
    ("default changed", rec(f("a", "int", default=1)), rec(f("a", "int", default=2)), True, True),
    ("doc changed", rec(f("a", "int"), doc="one"), rec(f("a", "int"), doc="two"), True, True),
]  # fmt: skip
