"""Connect's `Struct`: the value of a STRUCT schema, fields checked against the schema on `put`."""

from __future__ import annotations

from typing import Any

from odradek.connect.api.errors import DataException
from odradek.connect.data.schema import Field, Schema, Type


class Struct:
    __slots__ = ("_values", "schema")

    def __init__(self, schema: Schema) -> None:
        if schema.type is not Type.STRUCT:
            raise DataException("Not a struct schema: " + repr(schema))
        self.schema = schema
        self._values: dict[str, Any] = {}

    def _field(self, name: str) -> Field:
        found = self.schema.field(name)
        if found is None:
            raise DataException(f"{name} is not a valid field name")
        return found

    def put(self, name: str, value: Any) -> Struct:
        from odradek.connect.data.values_check import validate_value

        found = self._field(name)
        validate_value(found.schema, value, name)
        self._values[name] = value
        return self

    def put_trusted(self, name: str, value: Any) -> Struct:
        """`put` without validation, for converters that have already checked the value's type."""
        self._values[name] = value
        return self

    def get(self, name: str) -> Any:
        """The field's value, or its schema's default when unset."""
        found = self._field(name)
        if name in self._values:
            return self._values[name]
        return found.schema.default

    def get_without_default(self, name: str) -> Any:
        self._field(name)
        return self._values.get(name)

    def validate(self) -> None:
        from odradek.connect.data.values_check import validate_value

        for f in self.schema.fields:
            validate_value(f.schema, self.get(f.name), f.name)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: self.get(f.name) for f in self.schema.fields}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Struct):
            return NotImplemented
        return self.schema == other.schema and self.as_dict() == other.as_dict()

    def __hash__(self) -> int:
        return hash(self.schema)

    def __repr__(self) -> str:
        inner = ",".join(f"{k}={v!r}" for k, v in self.as_dict().items())
        return f"Struct{{{inner}}}"
