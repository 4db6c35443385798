"""The Connect data model's schemas: Kafka Connect's `Schema`, `Field` and `SchemaBuilder`.

A schema is a type (the twelve of `Type`), whether it is optional, a default, an optional name,
version, doc and string parameters, and for the container types their parts: `fields` of a STRUCT,
`key_schema`/`value_schema` of a MAP, `value_schema` of an ARRAY. Named schemas with a well-known
name are logical types (`logical.py`). Schemas are immutable and hashable (the default value does
not take part in the hash), so converters and transforms cache by schema.

Python values per type: INT8..INT64 `int` (never `bool`), FLOAT32/64 `float`, BOOLEAN `bool`,
STRING `str`, BYTES `bytes`, ARRAY `list`, MAP `dict`, STRUCT `Struct`; logical types
`decimal.Decimal`, `datetime.date`, `datetime.time`, `datetime.datetime`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from dataclasses import field as dc_field
from enum import StrEnum
from typing import Any

from odradek.connect.api.errors import DataException, SchemaBuilderException


class Type(StrEnum):
    INT8 = "int8"
    INT16 = "int16"
    INT32 = "int32"
    INT64 = "int64"
    FLOAT32 = "float32"
    FLOAT64 = "float64"
    BOOLEAN = "boolean"
    STRING = "string"
    BYTES = "bytes"
    ARRAY = "array"
    MAP = "map"
    STRUCT = "struct"

    @property
    def is_primitive(self) -> bool:
        return self not in (Type.ARRAY, Type.MAP, Type.STRUCT)


INTEGER_RANGES: dict[Type, tuple[int, int]] = {
    Type.INT8: (-(2**7), 2**7 - 1),
    Type.INT16: (-(2**15), 2**15 - 1),
    Type.INT32: (-(2**31), 2**31 - 1),
    Type.INT64: (-(2**63), 2**63 - 1),
}


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    index: int
    schema: Schema


@dataclass(frozen=True, eq=False)
class Schema:
    type: Type
    optional: bool = False
    default: Any = None
    name: str | None = None
    version: int | None = None
    doc: str | None = None
    parameters: tuple[tuple[str, str], ...] = ()
    fields: tuple[Field, ...] = ()
    key_schema: Schema | None = None
    value_schema: Schema | None = None
    _by_name: dict[str, Field] = dc_field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_name.update({f.name: f for f in self.fields})
        # immutable: the hash is computed once (schemas key every converter and transform cache)
        object.__setattr__(self, "_hash", hash(self._identity()))

    @property
    def params(self) -> dict[str, str]:
        return dict(self.parameters)

    def field(self, name: str) -> Field | None:
        if self.type is not Type.STRUCT:
            raise DataException("Cannot look up fields on non-struct type")
        return self._by_name.get(name)

    def _identity(self) -> tuple[Any, ...]:
        return (
            self.type,
            self.optional,
            self.name,
            self.version,
            self.doc,
            self.parameters,
            tuple((f.name, f.schema) for f in self.fields),
            self.key_schema,
            self.value_schema,
        )

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Schema):
            return NotImplemented
        if self._hash != other._hash:  # type: ignore[attr-defined]
            return False
        return self._identity() == other._identity() and _same_default(self.default, other.default)

    def __hash__(self) -> int:
        return self._hash  # type: ignore[attr-defined,no-any-return]

    def __repr__(self) -> str:
        name = f" {self.name}" if self.name else ""
        opt = " optional" if self.optional else ""
        return f"Schema({self.type.value}{name}{opt})"

    def as_optional(self) -> Schema:
        return self if self.optional else replace(self, optional=True, _by_name={})

    def as_required(self) -> Schema:
        return replace(self, optional=False, default=None, _by_name={})


def _same_default(a: Any, b: Any) -> bool:
    if isinstance(a, bytes | bytearray) and isinstance(b, bytes | bytearray):
        return bytes(a) == bytes(b)
    return bool(a == b) and type(a) is type(b)


class SchemaBuilder:
    """Fluent builder, as Kafka's: `SchemaBuilder.struct().name("x").field("a", INT32_SCHEMA).build()`."""

    def __init__(self, type_: Type) -> None:
        self._type = type_
        self._optional = False
        self._default: Any = None
        self._name: str | None = None
        self._version: int | None = None
        self._doc: str | None = None
        self._parameters: dict[str, str] = {}
        self._fields: dict[str, Schema] = {}
        self._key_schema: Schema | None = None
        self._value_schema: Schema | None = None

    # constructors per type
    @classmethod
    def int8(cls) -> SchemaBuilder:
        return cls(Type.INT8)

    @classmethod
    def int16(cls) -> SchemaBuilder:
        return cls(Type.INT16)

    @classmethod
    def int32(cls) -> SchemaBuilder:
        return cls(Type.INT32)

    @classmethod
    def int64(cls) -> SchemaBuilder:
        return cls(Type.INT64)

    @classmethod
    def float32(cls) -> SchemaBuilder:
        return cls(Type.FLOAT32)

    @classmethod
    def float64(cls) -> SchemaBuilder:
        return cls(Type.FLOAT64)

    @classmethod
    def boolean(cls) -> SchemaBuilder:
        return cls(Type.BOOLEAN)

    @classmethod
    def string(cls) -> SchemaBuilder:
        return cls(Type.STRING)

    @classmethod
    def bytes_(cls) -> SchemaBuilder:
        return cls(Type.BYTES)

    @classmethod
    def struct(cls) -> SchemaBuilder:
        return cls(Type.STRUCT)

    @classmethod
    def array(cls, value_schema: Schema) -> SchemaBuilder:
        builder = cls(Type.ARRAY)
        builder._value_schema = value_schema
        return builder

    @classmethod
    def map(cls, key_schema: Schema, value_schema: Schema) -> SchemaBuilder:
        builder = cls(Type.MAP)
        builder._key_schema = key_schema
        builder._value_schema = value_schema
        return builder

    @classmethod
    def from_schema(cls, schema: Schema, *, fields: bool = True) -> SchemaBuilder:
        """A builder holding everything of `schema` (its fields only when `fields`)."""
        builder = cls(schema.type)
        builder._optional = schema.optional
        builder._default = schema.default
        builder._name = schema.name
        builder._version = schema.version
        builder._doc = schema.doc
        builder._parameters = schema.params
        builder._key_schema = schema.key_schema
        builder._value_schema = schema.value_schema
        if fields:
            builder._fields = {f.name: f.schema for f in schema.fields}
        return builder

    def optional(self) -> SchemaBuilder:
        self._optional = True
        return self

    def required(self) -> SchemaBuilder:
        self._optional = False
        return self

    def name(self, name: str | None) -> SchemaBuilder:
        self._name = name
        return self

    def version(self, version: int | None) -> SchemaBuilder:
        self._version = version
        return self

    def doc(self, doc: str | None) -> SchemaBuilder:
        self._doc = doc
        return self

    def parameter(self, key: str, value: str) -> SchemaBuilder:
        self._parameters[key] = value
        return self

    def parameters(self, params: Mapping[str, str]) -> SchemaBuilder:
        self._parameters.update(params)
        return self

    def default_value(self, value: Any) -> SchemaBuilder:
        self._default = value
        return self

    def field(self, name: str, schema: Schema) -> SchemaBuilder:
        if self._type is not Type.STRUCT:
            raise SchemaBuilderException("Cannot create fields on type " + self._type.value)
        if not name:
            raise SchemaBuilderException("fieldName cannot be null.")
        if name in self._fields:
            raise SchemaBuilderException(f"Cannot create field because of field name duplication {name}")
        self._fields[name] = schema
        return self

    @property
    def field_names(self) -> list[str]:
        return list(self._fields)

    def build(self) -> Schema:
        fields = tuple(Field(n, i, s) for i, (n, s) in enumerate(self._fields.items()))
        schema = Schema(
            type=self._type,
            optional=self._optional,
            name=self._name,
            version=self._version,
            doc=self._doc,
            parameters=tuple(self._parameters.items()),
            fields=fields,
            key_schema=self._key_schema,
            value_schema=self._value_schema,
        )
        if self._default is not None:
            from odradek.connect.data.values_check import validate_value

            try:
                validate_value(schema, self._default, "default")
            except DataException as exc:
                raise SchemaBuilderException(f"Invalid default value: {exc}") from exc
            schema = replace(schema, default=self._default, _by_name={})
        return schema


def primitive(type_: Type, optional: bool = False) -> Schema:
    return Schema(type_, optional=optional)


INT8_SCHEMA = primitive(Type.INT8)
INT16_SCHEMA = primitive(Type.INT16)
INT32_SCHEMA = primitive(Type.INT32)
INT64_SCHEMA = primitive(Type.INT64)
FLOAT32_SCHEMA = primitive(Type.FLOAT32)
FLOAT64_SCHEMA = primitive(Type.FLOAT64)
BOOLEAN_SCHEMA = primitive(Type.BOOLEAN)
STRING_SCHEMA = primitive(Type.STRING)
BYTES_SCHEMA = primitive(Type.BYTES)
OPTIONAL_INT8_SCHEMA = primitive(Type.INT8, True)
OPTIONAL_INT16_SCHEMA = primitive(Type.INT16, True)
OPTIONAL_INT32_SCHEMA = primitive(Type.INT32, True)
OPTIONAL_INT64_SCHEMA = primitive(Type.INT64, True)
OPTIONAL_FLOAT32_SCHEMA = primitive(Type.FLOAT32, True)
OPTIONAL_FLOAT64_SCHEMA = primitive(Type.FLOAT64, True)
OPTIONAL_BOOLEAN_SCHEMA = primitive(Type.BOOLEAN, True)
OPTIONAL_STRING_SCHEMA = primitive(Type.STRING, True)
OPTIONAL_BYTES_SCHEMA = primitive(Type.BYTES, True)


def struct_schema(
    fields: Iterable[tuple[str, Schema]], name: str | None = None, optional: bool = False
) -> Schema:
    builder = SchemaBuilder.struct().name(name)
    for field_name, schema in fields:
        builder.field(field_name, schema)
    if optional:
        builder.optional()
    return builder.build()
