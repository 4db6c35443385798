"""Serdes between SQL rows and Kafka bytes, per format, as `odradek.streams` serdes.

Inside a query a row's key is a tuple of the key columns and its value a dict {column: value} with
the Python values of `types.py`. On the wire, per format (ksqlDB's layouts):

| format    | key                                                   | value                                        |
|-----------|-------------------------------------------------------|----------------------------------------------|
| KAFKA     | one column: Kafka's serializer for its type (INT 4 bytes big-endian, BIGINT 8, DOUBLE 8, STRING UTF-8) | one column, same |
| JSON      | one column: the bare JSON value; several: an object   | an object {COLUMN: value}; with WRAP_SINGLE_VALUE=false a single column's bare value |
| DELIMITED | values joined by the delimiter (',' by default)       | same                                         |
| NONE      | no key (always null)                                  | -                                            |
| AVRO, PROTOBUF, JSON_SR | through the schema registry (`registry_serdes.py`): one key column unwrapped (Protobuf: a message), several a record | a record/message/object |
| PROTOBUF_NOSR | the bare message of the key columns (`protobuf_nosr.py`) | the bare message of the value columns |

JSON values: TIMESTAMP as milliseconds since the epoch, DATE as days since the epoch, TIME as
milliseconds of the day, BYTES as base64, DECIMAL as a number. Reading JSON matches field names
case-insensitively, as ksqlDB does; a value that does not fit its column's type raises
`SerializationError` (the query's deserialization error handler decides).

Windowed keys (tables from windowed aggregations): TUMBLING/HOPPING = key bytes + 8-byte window
start; SESSION = key bytes + 8-byte end + 8-byte start (Kafka Streams' TimeWindowed/SessionWindowed
serdes, which ksqlDB uses).

The aggregate state serde (`StateSerde`) writes UDAF states as JSON with tags for the values JSON
lacks (decimals, dates, bytes): it only ever goes to changelogs and repartition topics.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import struct
from collections.abc import Callable
from typing import Any

import orjson

from odradek.sql.compiler.protobuf_nosr import FORMAT as PROTOBUF_NOSR
from odradek.sql.compiler.protobuf_nosr import ProtobufNoSrKeySerde, ProtobufNoSrRowSerde
from odradek.sql.compiler.registry_serdes import (
    SCHEMA_TYPES,
    RegistryKeySerde,
    RegistryRowSerde,
    SchemaRegistry,
)
from odradek.sql.metastore import DataSource, SourceFormats, WindowInfo
from odradek.sql.parser.ast import WindowKind
from odradek.sql.schema import Column, LogicalSchema
from odradek.sql.types import BaseType, SqlType
from odradek.streams.errors import SerializationError
from odradek.streams.serdes import Serde
from odradek.streams.windows import Window, Windowed

EPOCH = datetime.datetime(1970, 1, 1)
EPOCH_DATE = datetime.date(1970, 1, 1)

REGISTRY_FORMATS = frozenset(SCHEMA_TYPES)

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


# -- value conversion between Python (inside queries) and JSON -------------------------------------------


def _ts_to_ms(ts: datetime.datetime) -> int:
    delta = ts - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def _time_to_ms(t: datetime.time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1000 + t.microsecond // 1000


def to_json(t: SqlType) -> Callable[[Any], Any] | None:
    """A converter Python value -> JSON-able value for type `t` (None when no conversion is needed)."""
    b = t.base
    if b is BaseType.TIMESTAMP:
        return _ts_to_ms
    if b is BaseType.DATE:
        return lambda d: (d - EPOCH_DATE).days
    if b is BaseType.TIME:
        return _time_to_ms
    if b is BaseType.BYTES:
        return lambda v: base64.b64encode(v).decode()
    if b is BaseType.DECIMAL:
        return float  # a JSON number (ksqlDB writes decimals as numbers)
    if b is BaseType.ARRAY and t.element is not None:
        element = to_json(t.element)
        if element is None:
            return None
        return lambda arr: [None if x is None else element(x) for x in arr]
    if b is BaseType.MAP and t.element is not None:
        value_conv = to_json(t.element)
        if value_conv is None:
            return None
        return lambda m: {k: None if x is None else value_conv(x) for k, x in m.items()}
    if b is BaseType.STRUCT:
        conv = [(n, to_json(ft)) for n, ft in t.fields]
        if all(c is None for _, c in conv):
            return None
        return lambda s: {n: (s.get(n) if c is None or s.get(n) is None else c(s.get(n))) for n, c in conv}
    return None


def from_json(t: SqlType) -> Callable[[Any], Any]:
    """A converter JSON value -> Python value of type `t` (checks the type; raises on mismatch)."""
    b = t.base
    if b is BaseType.BOOLEAN:
        return _expect(bool, t)
    if b in (BaseType.INTEGER, BaseType.BIGINT):

        def to_int(v: Any) -> int:
            if isinstance(v, bool):
                raise ValueError(f"{v!r} is not a {t}")
            if isinstance(v, int):
                return v
            if isinstance(v, float) and v.is_integer():
                return int(v)
            if isinstance(v, str):
                return int(v)
            raise ValueError(f"{v!r} is not a {t}")

        return to_int
    if b is BaseType.DOUBLE:

        def to_float(v: Any) -> float:
            if isinstance(v, bool) or not isinstance(v, int | float | str):
                raise ValueError(f"{v!r} is not a DOUBLE")
            return float(v)

        return to_float
    if b is BaseType.DECIMAL:
        quantum = decimal.Decimal(1).scaleb(-t.scale)
        return lambda v: decimal.Decimal(str(v)).quantize(quantum, rounding=decimal.ROUND_HALF_UP)
    if b is BaseType.STRING:
        return lambda v: (
            v
            if isinstance(v, str)
            else _ENCODER.encode(v)
            if isinstance(v, dict | list)
            else str(v).lower()
            if isinstance(v, bool)
            else str(v)
        )
    if b is BaseType.BYTES:
        return base64.b64decode
    if b is BaseType.TIMESTAMP:
        return lambda v: (
            EPOCH + datetime.timedelta(milliseconds=int(v))
            if not isinstance(v, str)
            else datetime.datetime.fromisoformat(v)
        )
    if b is BaseType.DATE:
        return lambda v: (
            EPOCH_DATE + datetime.timedelta(days=int(v))
            if not isinstance(v, str)
            else datetime.date.fromisoformat(v)
        )
    if b is BaseType.TIME:
        return lambda v: (
            (EPOCH + datetime.timedelta(milliseconds=int(v))).time()
            if not isinstance(v, str)
            else datetime.time.fromisoformat(v)
        )
    if b is BaseType.ARRAY:
        assert t.element is not None
        inner = from_json(t.element)
        return lambda arr: [None if x is None else inner(x) for x in _expect(list, t)(arr)]
    if b is BaseType.MAP:
        assert t.element is not None
        inner = from_json(t.element)
        return lambda m: {k: None if x is None else inner(x) for k, x in _expect(dict, t)(m).items()}
    if b is BaseType.STRUCT:
        fields = [(n, n.upper(), from_json(ft)) for n, ft in t.fields]

        def to_struct(v: Any) -> dict[str, Any]:
            obj = _expect(dict, t)(v)
            upper = {k.upper(): x for k, x in obj.items()}
            out = {}
            for n, u, conv in fields:
                x = obj.get(n, upper.get(u))
                out[n] = None if x is None else conv(x)
            return out

        return to_struct
    return lambda v: v


def _expect(kind: type, t: SqlType) -> Callable[[Any], Any]:
    def check(v: Any) -> Any:
        if not isinstance(v, kind):
            raise ValueError(f"{v!r} is not a {t}")
        return v

    return check


# -- value serdes ------------------------------------------------------------------------------------------


_MISSING: Any = object()
# JSON values orjson decodes to the Python class of the SQL type (bool is not int here: classes match exactly)
_JSON_CLASS: dict[BaseType, type] = {
    BaseType.BOOLEAN: bool,
    BaseType.INTEGER: int,
    BaseType.BIGINT: int,
    BaseType.DOUBLE: float,
    BaseType.STRING: str,
}


class JsonRowSerde(Serde[dict[str, Any]]):
    """A value row as a JSON object (or a bare value with WRAP_SINGLE_VALUE=false)."""

    name = "json-row"

    def __init__(self, columns: tuple[Column, ...], wrap: bool = True) -> None:
        self.columns = columns
        self.wrap = wrap or len(columns) != 1
        self._out = [(c.name, to_json(c.type)) for c in columns]
        # (name, upper-cased name, converter, the Python class a value of the type already has in JSON)
        self._in = [
            (c.name, c.name.upper(), from_json(c.type), _JSON_CLASS.get(c.type.base)) for c in columns
        ]
        self._plain_out = all(conv is None for _, conv in self._out)
        self._names = {c.name for c in columns}
        # the streams runtime's per-record path calls these directly (falling back to
        # serialize/deserialize, which name the error, when they raise)
        self.fast_encode = self.to_bytes
        self.fast_decode = self.from_bytes
        if self.exact:
            self.fast_decode = self._exact_decoder()

    @property
    def exact(self) -> bool:
        """Whether `fast_decode` is the straight-line decoder (every column's JSON class is known)."""
        return self.wrap and all(exact is not None for *_, exact in self._in)

    def decoder_lines(
        self, namespace: dict[str, Any], miss: str, indent: str = "    ", parsed: bool = False
    ) -> list[str]:
        """The straight-line decoder's statements: `data` (bytes) in, or the parsed `doc` when
        `parsed`; the row dict `v` out; any document the general decoder would convert (or reject)
        runs `miss` instead. Names it needs go into `namespace`. Used by `fast_decode` and by a
        query's generated per-record function."""
        lines = [] if parsed else ["doc = loads(data)"]
        lines += [
            "if doc.__class__ is not dict:",
            f"    {miss}",
        ]
        namespace.update(loads=orjson.loads, M=_MISSING)
        for i, (name, _, _, exact) in enumerate(self._in):
            namespace[f"T{i}"] = exact
            lines.append(f"c{i} = doc.get({name!r}, M)")
            lines.append(f"if c{i}.__class__ is not T{i} and c{i} is not None:")
            lines.append(f"    {miss}")
        row = ", ".join(f"{name!r}: c{i}" for i, (name, *_) in enumerate(self._in))
        lines.append(f"v = {{{row}}}")
        return [indent + line for line in lines]

    def _exact_decoder(self) -> Callable[[bytes], dict[str, Any]]:
        """`from_bytes` as straight-line code for this row's columns: a document whose fields all
        have their column's Python class (or are null) becomes the row dict with no per-column loop;
        any other document (a missing or differently-cased field, a value to convert, not an object)
        takes `_convert`, the general path."""
        namespace: dict[str, Any] = {"convert": self._convert}
        lines = ["def decode(data):", *self.decoder_lines(namespace, "return convert(doc)"), "    return v"]
        exec(compile("\n".join(lines) + "\n", "<json row decoder>", "exec"), namespace)
        return namespace["decode"]  # type: ignore[no-any-return]

    def to_bytes(self, obj: dict[str, Any]) -> bytes:
        if not self.wrap:
            name, conv = self._out[0]
            v = obj.get(name)
            return orjson.dumps(v if v is None or conv is None else conv(v))
        if self._plain_out:
            if obj.keys() == self._names:  # the row is exactly the columns (a projection's output)
                return orjson.dumps(obj)
            return orjson.dumps({n: obj.get(n) for n, _ in self._out})
        out = {}
        for name, conv in self._out:
            v = obj.get(name)
            out[name] = v if v is None or conv is None else conv(v)
        return orjson.dumps(out)

    def from_bytes(self, data: bytes) -> dict[str, Any]:
        return self._convert(orjson.loads(data))

    def convert(self, doc: Any) -> dict[str, Any]:
        """A parsed JSON document as the row (the general decoder after parsing)."""
        return self._convert(doc)

    def _convert(self, doc: Any) -> dict[str, Any]:
        if not self.wrap:
            name, _, conv, _ = self._in[0]
            return {name: None if doc is None else conv(doc)}
        if doc.__class__ is not dict:
            raise SerializationError(f"expected a JSON object, got {type(doc).__name__}")
        out: dict[str, Any] = {}
        upper: dict[str, Any] | None = None
        for name, up, conv, exact in self._in:
            v = doc.get(name, _MISSING)
            if v.__class__ is exact:  # already the column's Python type: no conversion
                out[name] = v
                continue
            if v is _MISSING:
                if upper is None:
                    upper = {k.upper(): x for k, x in doc.items()}
                v = upper.get(up)
            out[name] = None if v is None else conv(v)
        return out


_PRIMITIVE = {
    BaseType.INTEGER: (struct.Struct(">i"), int),
    BaseType.BIGINT: (struct.Struct(">q"), int),
    BaseType.DOUBLE: (struct.Struct(">d"), float),
}


def _primitive_codec(t: SqlType) -> tuple[Callable[[Any], bytes], Callable[[bytes], Any]]:
    b = t.base
    if b in _PRIMITIVE:
        st, _ = _PRIMITIVE[b]

        def unpack(data: bytes) -> Any:
            if len(data) != st.size:
                raise SerializationError(f"the KAFKA format needs {st.size} bytes for {t}, got {len(data)}")
            return st.unpack(data)[0]

        return st.pack, unpack
    if b is BaseType.STRING:
        return (lambda v: v.encode()), (lambda d: d.decode())
    if b is BaseType.BYTES:
        return bytes, bytes
    raise SerializationError(f"the KAFKA format does not support {t}")


class KafkaRowSerde(Serde[dict[str, Any]]):
    """A single-column value in Kafka's primitive layout."""

    name = "kafka-row"

    def __init__(self, column: Column) -> None:
        self.column = column
        self._pack, self._unpack = _primitive_codec(column.type)

    def to_bytes(self, obj: dict[str, Any]) -> bytes:
        v = obj.get(self.column.name)
        return b"" if v is None else self._pack(v)

    def from_bytes(self, data: bytes) -> dict[str, Any]:
        return {self.column.name: self._unpack(data)}


def _delimited_split(text: str, delimiter: str) -> list[str]:
    import csv

    return next(csv.reader([text], delimiter=delimiter)) if text else []


def _delimited_join(values: list[Any], delimiter: str) -> str:
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="").writerow(["" if v is None else v for v in values])
    return buf.getvalue()


class DelimitedRowSerde(Serde[dict[str, Any]]):
    name = "delimited-row"

    def __init__(self, columns: tuple[Column, ...], delimiter: str = ",") -> None:
        self.columns = columns
        self.delimiter = (
            "\t" if delimiter.upper() == "TAB" else " " if delimiter.upper() == "SPACE" else delimiter
        )
        self._out = [(c.name, to_json(c.type)) for c in columns]
        self._in = [(c.name, from_json(c.type)) for c in columns]

    def to_bytes(self, obj: dict[str, Any]) -> bytes:
        values = []
        for name, conv in self._out:
            v = obj.get(name)
            values.append(v if v is None or conv is None else conv(v))
        return _delimited_join(values, self.delimiter).encode()

    def from_bytes(self, data: bytes) -> dict[str, Any]:
        parts = _delimited_split(data.decode(), self.delimiter)
        if len(parts) != len(self._in):
            raise SerializationError(f"expected {len(self._in)} delimited fields, got {len(parts)}")
        return {name: (None if p == "" else conv(p)) for (name, conv), p in zip(self._in, parts, strict=True)}


# -- key serdes ----------------------------------------------------------------------------------------------


class KeySerde(Serde[tuple[Any, ...]]):
    """A key tuple through a one-column row serde (KAFKA, JSON unwrapped, DELIMITED)."""

    name = "sql-key"

    def __init__(self, columns: tuple[Column, ...], fmt: str, delimiter: str = ",") -> None:
        self.columns = columns
        self.names = [c.name for c in columns]
        if fmt == "KAFKA":
            self._pack, self._unpack = _primitive_codec(columns[0].type)
            self.kind = "kafka"
            pack, unpack = self._pack, self._unpack

            def encode(obj: tuple[Any, ...]) -> bytes | None:
                v = obj[0]
                return None if v is None else pack(v)

            def decode(data: bytes) -> tuple[Any, ...]:
                return (unpack(data),)

            if columns[0].type.base is BaseType.STRING:  # the common key: no codec call inside

                def encode(obj: tuple[Any, ...]) -> bytes | None:
                    v = obj[0]
                    return None if v is None else v.encode()

                def decode(data: bytes) -> tuple[Any, ...]:
                    return (data.decode(),)

            # the per-record path's one-argument calls (see `Serde.fast_encode`)
            self.fast_encode = encode
            self.fast_decode = decode
        elif fmt == "DELIMITED":
            self.row: Serde[dict[str, Any]] = DelimitedRowSerde(columns, delimiter)
            self.kind = "row"
        else:
            self.row = JsonRowSerde(columns, wrap=len(columns) > 1)
            self.kind = "row"

    def to_bytes(self, obj: tuple[Any, ...]) -> bytes:
        if self.kind == "kafka":
            v = obj[0]
            return b"" if v is None else self._pack(v)
        return self.row.to_bytes(dict(zip(self.names, obj, strict=True)))

    def from_bytes(self, data: bytes) -> tuple[Any, ...]:
        if self.kind == "kafka":
            return (self._unpack(data),)
        row = self.row.from_bytes(data)
        return tuple(row.get(n) for n in self.names)

    def serialize(self, topic: str, obj: Any, headers: Any = None) -> bytes | None:
        if obj is None or obj.count(None) == len(obj):
            return None
        if self.kind == "kafka":
            try:
                return self._pack(obj[0])
            except Exception as exc:
                raise SerializationError(f"{self.name} cannot serialize {obj!r}: {exc}") from exc
        return super().serialize(topic, obj, headers)


class NoKeySerde(Serde[tuple[Any, ...]]):
    """Format NONE: the key is always null (and ignored on read)."""

    name = "no-key"

    def serialize(self, topic: str, obj: Any, headers: Any = None) -> bytes | None:
        return None

    def deserialize(self, topic: str, data: bytes | None, headers: Any = None) -> tuple[Any, ...]:
        return ()


_Q = struct.Struct(">q")


class WindowedKeySerde(Serde[Windowed]):
    """ksqlDB's windowed key layouts (see the module docstring)."""

    name = "sql-windowed-key"

    def __init__(self, inner: Serde[Any], window: WindowInfo) -> None:
        self.inner = inner
        self.window = window
        self.session = window.kind is WindowKind.SESSION

    def serialize(self, topic: str, obj: Any, headers: Any = None) -> bytes | None:
        if obj is None:
            return None
        raw = self.inner.serialize(topic, obj.key, headers) or b""  # the topic names registry subjects
        if self.session:
            return raw + _Q.pack(obj.window.end) + _Q.pack(obj.window.start)
        return raw + _Q.pack(obj.window.start)

    def deserialize(self, topic: str, data: bytes | None, headers: Any = None) -> Any:
        if data is None:
            return None
        if self.session:
            end, start = _Q.unpack_from(data, len(data) - 16)[0], _Q.unpack_from(data, len(data) - 8)[0]
            return Windowed(self.inner.deserialize(topic, data[:-16], headers), Window(start, end))
        start = _Q.unpack_from(data, len(data) - 8)[0]
        return Windowed(
            self.inner.deserialize(topic, data[:-8], headers),
            Window(start, start + (self.window.size_ms or 0)),
        )

    def to_bytes(self, obj: Windowed) -> bytes:
        data = self.serialize("", obj)
        assert data is not None
        return data

    def from_bytes(self, data: bytes) -> Windowed:
        return self.deserialize("", data)  # type: ignore[no-any-return]


def _needs_registry(fmt: str) -> SerializationError:
    return SerializationError(
        f"The {fmt} format needs a schema registry: set ksql.schema.registry.url (odradek sql-server --schema-registry URL)"
    )


def key_serde(
    schema: LogicalSchema, formats: SourceFormats, registry: SchemaRegistry | None = None
) -> Serde[Any]:
    keys = schema.key
    if not keys or formats.key_format == "NONE":
        return NoKeySerde()
    if formats.key_format in REGISTRY_FORMATS:
        if registry is None:
            raise _needs_registry(formats.key_format)
        # ksqlDB writes a single key column unwrapped (Protobuf keys are always messages)
        row = RegistryRowSerde(registry, formats.key_format, keys, len(keys) > 1, True, formats.key_schema_id)
        return RegistryKeySerde(row, [c.name for c in keys])
    if formats.key_format == PROTOBUF_NOSR:
        return ProtobufNoSrKeySerde(keys)
    return KeySerde(keys, formats.key_format, formats.key_delimiter)


def value_serde(
    schema: LogicalSchema, formats: SourceFormats, registry: SchemaRegistry | None = None
) -> Serde[Any]:
    values = schema.value
    fmt = formats.value_format
    if fmt in REGISTRY_FORMATS:
        if registry is None:
            raise _needs_registry(fmt)
        wrap = formats.wrap_single_value is not False
        return RegistryRowSerde(registry, fmt, values, wrap, False, formats.value_schema_id)
    if fmt == PROTOBUF_NOSR:
        return ProtobufNoSrRowSerde(values)
    if fmt == "KAFKA":
        return KafkaRowSerde(values[0])
    if fmt == "DELIMITED":
        return DelimitedRowSerde(values, formats.value_delimiter)
    if fmt == "JSON":
        wrap = formats.wrap_single_value is not False
        return JsonRowSerde(values, wrap)
    raise SerializationError(f"unsupported value format {fmt}")


def source_serdes(
    source: DataSource, registry: SchemaRegistry | None = None
) -> tuple[Serde[Any], Serde[Any]]:
    """The key and value serdes of a source's topic (`registry`: for AVRO, PROTOBUF, JSON_SR)."""
    k = key_serde(source.schema, source.formats, registry)
    if source.window is not None:
        k = WindowedKeySerde(k, source.window)
    return k, value_serde(source.schema, source.formats, registry)


def _registry_rows(source: DataSource, registry: SchemaRegistry) -> list[RegistryRowSerde]:
    k, v = source_serdes(source, registry)
    rows = []
    for serde in (k.inner if isinstance(k, WindowedKeySerde) else k, v):
        row = serde.row if isinstance(serde, RegistryKeySerde) else serde
        if isinstance(row, RegistryRowSerde):
            rows.append(row)
    return rows


def check_sink_schemas(source: DataSource, registry: SchemaRegistry) -> None:
    """Refuse a CREATE ... AS SELECT whose output schemas the registry would reject (an existing
    subject with an incompatible latest version), before its command is written."""
    from odradek.sql.errors import KsqlExecutionError

    for row in _registry_rows(source, registry):
        if row.schema_id is not None:
            continue  # written with a given schema: nothing is registered
        subject = row.subject(source.topic)
        try:
            compatible = registry.compatible(subject, row.codec.schema_type, row.codec.schema_text())
        except Exception as exc:
            raise KsqlExecutionError(
                f"Could not check the schema of {subject} with the schema registry: {exc}"
            ) from None
        if not compatible:
            raise KsqlExecutionError(
                f"Could not register schema for topic: the {row.fmt} schema of {source.name}'s "
                f"{'key' if row.is_key else 'value'} is incompatible with the latest version of subject "
                f"{subject} (use another KAFKA_TOPIC, or change the subject's compatibility level)."
            )


def register_schemas(source: DataSource, registry: SchemaRegistry | None) -> None:
    """Register the schemas a source's writer uses (CSAS/CTAS sinks, as ksqlDB does at creation)."""
    if registry is None:
        return
    for row in _registry_rows(source, registry):
        row.register(source.topic)


# -- aggregate state -------------------------------------------------------------------------------------------


_JSON_SCALARS = frozenset({type(None), bool, int, float, str})


def _tag(v: Any) -> Any:
    """JSON-able form of a state value; only values JSON lacks are wrapped ({"$d": ...} etc.)."""
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, decimal.Decimal):
        return {"$d": str(v)}
    if isinstance(v, datetime.datetime):
        return {"$ts": _ts_to_ms(v)}
    if isinstance(v, datetime.date):
        return {"$date": (v - EPOCH_DATE).days}
    if isinstance(v, datetime.time):
        return {"$time": _time_to_ms(v)}
    if isinstance(v, bytes):
        return {"$b": base64.b64encode(v).decode()}
    if isinstance(v, tuple):
        return {"$tuple": [_tag(x) for x in v]}
    if isinstance(v, list):
        return [_tag(x) for x in v]
    if isinstance(v, dict):
        if all(type(k) is str and not k.startswith("$") for k in v):
            return {k: _tag(x) for k, x in v.items()}
        return {"$map": [[_tag(k), _tag(x)] for k, x in v.items()]}
    return v


def _untag(v: Any) -> Any:
    if isinstance(v, list):
        return [_untag(x) for x in v]
    if isinstance(v, dict):
        if len(v) == 1:
            ((k, x),) = v.items()
            if k == "$d":
                return decimal.Decimal(x)
            if k == "$ts":
                return EPOCH + datetime.timedelta(milliseconds=x)
            if k == "$date":
                return EPOCH_DATE + datetime.timedelta(days=x)
            if k == "$time":
                return (EPOCH + datetime.timedelta(milliseconds=x)).time()
            if k == "$b":
                return base64.b64decode(x)
            if k == "$tuple":
                return tuple(_untag(y) for y in x)
            if k == "$map":
                return {_untag(a): _untag(b) for a, b in x}
        return {k: _untag(x) for k, x in v.items()}
    return v


class StateSerde(Serde[Any]):
    """Any value made of JSON types plus decimals, dates, bytes, tuples and non-string-keyed dicts."""

    name = "sql-state"

    def to_bytes(self, obj: Any) -> bytes:
        kind = obj.__class__
        if kind in _JSON_SCALARS or (kind is list and all(x.__class__ in _JSON_SCALARS for x in obj)):
            return orjson.dumps(obj)  # the usual aggregate state: nothing to tag
        return orjson.dumps(_tag(obj))

    def from_bytes(self, data: bytes) -> Any:
        value = orjson.loads(data)
        return _untag(value) if b'"$' in data else value
