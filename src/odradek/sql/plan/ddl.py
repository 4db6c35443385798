"""DDL analysis: CREATE STREAM/TABLE (and the sink of CREATE ... AS SELECT) -> a `DataSource`.

WITH properties (names case-insensitive):

| property          | meaning                                                                  |
|-------------------|--------------------------------------------------------------------------|
| KAFKA_TOPIC       | the topic (required for CREATE without AS; default for CSAS: the name)   |
| KEY_FORMAT        | KAFKA (default), JSON, JSON_SR, AVRO, PROTOBUF, PROTOBUF_NOSR, DELIMITED, NONE |
| VALUE_FORMAT      | JSON, JSON_SR, AVRO, PROTOBUF, PROTOBUF_NOSR, DELIMITED, KAFKA (one column) |
| FORMAT            | both at once (not with KEY_FORMAT/VALUE_FORMAT)                          |
| PARTITIONS        | partitions of a topic to create                                          |
| REPLICAS          | replication factor of a topic to create                                  |
| TIMESTAMP         | a column holding the event time (BIGINT, TIMESTAMP, or STRING + format)  |
| TIMESTAMP_FORMAT  | a Java DateTimeFormatter pattern for a STRING TIMESTAMP column           |
| WRAP_SINGLE_VALUE | false: a single value column is the whole value, not an object/record    |
| KEY_SCHEMA_ID, VALUE_SCHEMA_ID | schema registry ids of the schemas to use                   |
| WINDOW_TYPE, WINDOW_SIZE | the window of a windowed topic's keys (TUMBLING, '1 MINUTE')      |
| KEY_DELIMITER, VALUE_DELIMITER | DELIMITED format separators (',' default)                   |

Streams take `KEY` columns, tables take one `PRIMARY KEY` (tables need one).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from odradek.sql import types as t
from odradek.sql.errors import KsqlAnalysisError, Position
from odradek.sql.metastore import DataSource, MetaStore, SourceFormats, WindowInfo
from odradek.sql.parser import ast
from odradek.sql.schema import HEADERS_TYPE, RESERVED_NAMES, Column, LogicalSchema, Namespace
from odradek.sql.types import BaseType

FORMATS = frozenset({"KAFKA", "JSON", "JSON_SR", "AVRO", "PROTOBUF", "PROTOBUF_NOSR", "DELIMITED", "NONE"})
SCHEMA_REGISTRY_FORMATS = frozenset({"JSON_SR", "AVRO", "PROTOBUF"})

SOURCE_PROPERTIES = frozenset(
    {
        "KAFKA_TOPIC", "KEY_FORMAT", "VALUE_FORMAT", "FORMAT", "PARTITIONS", "REPLICAS", "TIMESTAMP",
        "TIMESTAMP_FORMAT", "WRAP_SINGLE_VALUE", "KEY_SCHEMA_ID", "VALUE_SCHEMA_ID", "WINDOW_TYPE",
        "WINDOW_SIZE", "KEY_DELIMITER", "VALUE_DELIMITER", "KEY_SCHEMA_FULL_NAME", "VALUE_SCHEMA_FULL_NAME",
        "VALUE_AVRO_SCHEMA_FULL_NAME", "RETENTION_MS", "CLEANUP_POLICY",
    }
)  # fmt: skip

DEFAULTS = {"ksql.persistence.default.format.key": "KAFKA", "ksql.persistence.default.format.value": "JSON"}


def _err(message: str, position: Position | None) -> KsqlAnalysisError:
    return KsqlAnalysisError(message, position=position)


def check_properties(props: dict[str, Any], position: Position | None) -> None:
    unknown = sorted(set(props) - SOURCE_PROPERTIES)
    if unknown:
        raise _err(f"Invalid config variable(s) in the WITH clause: {','.join(unknown)}", position)
    for name in ("PARTITIONS", "REPLICAS", "KEY_SCHEMA_ID", "VALUE_SCHEMA_ID"):
        if name in props and (
            not isinstance(props[name], int)
            or isinstance(props[name], bool)
            or props[name] < (1 if name == "PARTITIONS" else -1)
        ):
            raise _err(
                f"Invalid value for property {name}: {props[name]!r} (an integer is required)", position
            )
    if "WRAP_SINGLE_VALUE" in props and not isinstance(props["WRAP_SINGLE_VALUE"], bool | str):
        raise _err("WRAP_SINGLE_VALUE must be true or false", position)


def formats_from(
    props: dict[str, Any], inherited: SourceFormats | None, config: dict[str, str], position: Position | None
) -> SourceFormats:
    if "FORMAT" in props and ("KEY_FORMAT" in props or "VALUE_FORMAT" in props):
        raise _err(
            "Cannot supply both 'FORMAT' and 'KEY_FORMAT' or 'VALUE_FORMAT' properties, as 'FORMAT' sets both.",
            position,
        )
    base = inherited or SourceFormats(
        key_format=config.get(
            "ksql.persistence.default.format.key", DEFAULTS["ksql.persistence.default.format.key"]
        ).upper(),
        value_format=config.get(
            "ksql.persistence.default.format.value", DEFAULTS["ksql.persistence.default.format.value"]
        ).upper(),
    )
    key = str(props.get("FORMAT", props.get("KEY_FORMAT", base.key_format))).upper()
    value = str(props.get("FORMAT", props.get("VALUE_FORMAT", base.value_format))).upper()
    for what, fmt in (("KEY_FORMAT", key), ("VALUE_FORMAT", value)):
        if fmt not in FORMATS:
            raise _err(
                f"Unknown format: {fmt} ({what}). Known formats: {', '.join(sorted(FORMATS))}", position
            )
    wrap = props.get("WRAP_SINGLE_VALUE", base.wrap_single_value if inherited else None)
    if isinstance(wrap, str):
        wrap = wrap.lower() == "true"
    # a schema id inherited from the source of a CREATE ... AS SELECT only applies in a registry format
    key_id = None if not inherited or key not in SCHEMA_REGISTRY_FORMATS else base.key_schema_id
    value_id = None if not inherited or value not in SCHEMA_REGISTRY_FORMATS else base.value_schema_id
    return SourceFormats(
        key,
        value,
        wrap,
        props.get("KEY_SCHEMA_ID", key_id),
        props.get("VALUE_SCHEMA_ID", value_id),
        str(props.get("KEY_DELIMITER", base.key_delimiter)),
        str(props.get("VALUE_DELIMITER", base.value_delimiter)),
    )


def _window(props: dict[str, Any], position: Position | None) -> WindowInfo | None:
    kind = props.get("WINDOW_TYPE")
    if kind is None:
        if "WINDOW_SIZE" in props:
            raise _err("WINDOW_SIZE requires WINDOW_TYPE", position)
        return None
    try:
        wk = ast.WindowKind(str(kind).upper())
    except ValueError:
        raise _err(f"Unknown WINDOW_TYPE {kind}: use TUMBLING, HOPPING or SESSION", position) from None
    size = None
    if wk is not ast.WindowKind.SESSION:
        if "WINDOW_SIZE" not in props:
            raise _err(f"{wk.value} windows need WINDOW_SIZE, e.g. WINDOW_SIZE='1 MINUTE'", position)
        size = parse_duration(str(props["WINDOW_SIZE"]), position)
    return WindowInfo(wk, size)


_UNITS = {"MILLISECOND": 1, "SECOND": 1000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000}


def parse_duration(text: str, position: Position | None) -> int:
    parts = text.split()
    if len(parts) == 2 and parts[0].isdigit():
        unit = parts[1].upper().rstrip("S")
        if unit in _UNITS:
            return int(parts[0]) * _UNITS[unit]
    raise _err(f"Invalid duration '{text}': expected e.g. '1 MINUTE'", position)


def source_from_create(
    stmt: ast.CreateSource, metastore: MetaStore, config: dict[str, str], inferred: list[Column] | None = None
) -> DataSource:
    """The DataSource a CREATE STREAM/TABLE statement declares (validated)."""
    props = stmt.properties
    check_properties(props, stmt.position)
    if "KAFKA_TOPIC" not in props:
        raise _err('Missing required property "KAFKA_TOPIC" which has no default value.', stmt.position)
    formats = formats_from(props, None, config, stmt.position)
    declared = columns_from_elements(stmt, metastore) if stmt.elements else []
    columns = merge_inferred(declared, inferred)
    if not [c for c in columns if c.namespace is Namespace.VALUE] and not stmt.elements:
        if formats.value_format in SCHEMA_REGISTRY_FORMATS:
            raise _err(
                f"Schema for {stmt.name} could not be inferred: no value schema was found in the schema registry; list the columns.",
                stmt.position,
            )
        raise _err("The statement does not define any columns.", stmt.position)
    schema = LogicalSchema(tuple(columns))
    if (
        not schema.key
        and formats.key_format == "KAFKA"
        and "KEY_FORMAT" not in props
        and "FORMAT" not in props
    ):
        formats = replace(formats, key_format="NONE")
    check_formats(schema, formats, stmt.position, config)
    ts_col, ts_fmt = timestamp_of(props, schema, stmt.position)
    if stmt.kind is ast.SourceKind.TABLE and not schema.key:
        raise _err("Tables require a PRIMARY KEY. Please define the PRIMARY KEY.", stmt.position)
    return DataSource(
        name=stmt.name,
        kind=stmt.kind,
        schema=schema,
        topic=str(props["KAFKA_TOPIC"]),
        formats=formats,
        timestamp_column=ts_col,
        timestamp_format=ts_fmt,
        window=_window(props, stmt.position),
        partitions=props.get("PARTITIONS"),
        replicas=props.get("REPLICAS"),
        read_only=stmt.read_only,
        statement=stmt.text,
    )


def columns_from_elements(stmt: ast.CreateSource | ast.AlterSource, metastore: MetaStore) -> list[Column]:
    columns: list[Column] = []
    seen: set[str] = set()
    is_table = stmt.kind is ast.SourceKind.TABLE
    for el in stmt.elements if isinstance(stmt, ast.CreateSource) else stmt.add_columns:
        if el.name in RESERVED_NAMES:
            raise _err(
                f"'{el.name}' is a reserved column name. You cannot use it as a name for a column.",
                el.position,
            )
        if el.name in seen:
            raise _err(f"Duplicate column names: {el.name}", el.position)
        seen.add(el.name)
        try:
            typ = t.parse_type(el.type_text, metastore.types)
        except ValueError as e:
            raise _err(f"Unknown type: {el.type_text} ({e})", el.position) from None
        c = el.constraint
        if c is ast.ColumnConstraint.PRIMARY_KEY and not is_table:
            raise _err(
                f"Column `{el.name}` is a 'PRIMARY KEY' column: please use 'KEY' for streams.\nTables have PRIMARY KEYs, which are unique and NON NULL.\nStreams have KEYs, which have no uniqueness or NON NULL constraints.",
                el.position,
            )
        if c is ast.ColumnConstraint.KEY and is_table:
            raise _err(
                f"Column `{el.name}` is a 'KEY' column: please use 'PRIMARY KEY' for tables.\nTables have PRIMARY KEYs, which are unique and NON NULL.\nStreams have KEYs, which have no uniqueness or NON NULL constraints.",
                el.position,
            )
        if c in (ast.ColumnConstraint.KEY, ast.ColumnConstraint.PRIMARY_KEY):
            columns.append(Column(el.name, typ, Namespace.KEY))
        elif c is ast.ColumnConstraint.HEADERS:
            if typ != HEADERS_TYPE:
                raise _err(
                    f"Invalid type for HEADERS column {el.name}: expected {HEADERS_TYPE}, got {typ}",
                    el.position,
                )
            columns.append(Column(el.name, typ, Namespace.HEADERS))
        elif c is ast.ColumnConstraint.HEADER:
            if typ != t.BYTES:
                raise _err(
                    f"Invalid type for HEADER('{el.header_key}') column {el.name}: expected BYTES, got {typ}",
                    el.position,
                )
            columns.append(Column(el.name, typ, Namespace.HEADERS, el.header_key))
        else:
            columns.append(Column(el.name, typ, Namespace.VALUE))
    if any(c.namespace is Namespace.HEADERS and c.header_key is None for c in columns) and any(
        c.namespace is Namespace.HEADERS and c.header_key is not None for c in columns
    ):
        raise _err("A source cannot have both a HEADERS column and HEADER('key') columns", stmt.position)
    return columns


def merge_inferred(declared: list[Column], inferred: list[Column] | None) -> list[Column]:
    """Declared columns plus the registry's: inferred key columns when none are declared, inferred
    value columns when none are declared (ksqlDB's partial schemas: `CREATE TABLE t (id INT PRIMARY
    KEY) WITH (VALUE_FORMAT='AVRO')` takes the value columns from the registry)."""
    if not inferred:
        return declared
    has_key = any(c.namespace is Namespace.KEY for c in declared)
    has_value = any(c.namespace is Namespace.VALUE for c in declared)
    keys = [c for c in declared if c.namespace is Namespace.KEY] or (
        [] if has_key else [c for c in inferred if c.namespace is Namespace.KEY]
    )
    values = [c for c in declared if c.namespace is Namespace.VALUE] or (
        [] if has_value else [c for c in inferred if c.namespace is Namespace.VALUE]
    )
    return [*keys, *values, *(c for c in declared if c.namespace is Namespace.HEADERS)]


def _types_in(typ: t.SqlType) -> list[t.SqlType]:
    out = [typ]
    for inner in (typ.element, typ.key, *(ft for _, ft in typ.fields)):
        if inner is not None:
            out.extend(_types_in(inner))
    return out


def check_formats(
    schema: LogicalSchema,
    formats: SourceFormats,
    position: Position | None,
    config: dict[str, str] | None = None,
) -> None:
    for what, fmt in (("KEY_FORMAT", formats.key_format), ("VALUE_FORMAT", formats.value_format)):
        schema_id = formats.key_schema_id if what == "KEY_FORMAT" else formats.value_schema_id
        if schema_id is not None and fmt not in SCHEMA_REGISTRY_FORMATS:
            prop = "KEY_SCHEMA_ID" if what == "KEY_FORMAT" else "VALUE_SCHEMA_ID"
            raise _err(f"{prop} is provided but format {fmt} doesn't support registering schema.", position)
        if (
            fmt in SCHEMA_REGISTRY_FORMATS
            and config is not None
            and not config.get("ksql.schema.registry.url")
        ):
            raise _err(
                f"The {fmt} format ({what}) needs a schema registry: set 'ksql.schema.registry.url' "
                "(odradek sql-server --schema-registry URL; odradek dev sets it).",
                position,
            )
        columns = schema.key if what == "KEY_FORMAT" else schema.value
        if fmt in ("AVRO", "PROTOBUF", "PROTOBUF_NOSR"):
            for c in columns:
                bad = [
                    x
                    for x in _types_in(c.type)
                    if x.base is BaseType.MAP and x.key is not None and x.key.base is not BaseType.STRING
                ]
                if bad:
                    raise _err(
                        f"The {fmt} format supports only STRING map keys, not {bad[0]} (column {c.name})",
                        position,
                    )
        if fmt in ("PROTOBUF", "PROTOBUF_NOSR"):
            for c in columns:
                nested = [
                    x
                    for x in _types_in(c.type)
                    if x.base in (BaseType.ARRAY, BaseType.MAP)
                    and x.element is not None
                    and x.element.base in (BaseType.ARRAY, BaseType.MAP)
                ]
                if nested:
                    raise _err(
                        f"The {fmt} format does not support {nested[0]} (column {c.name}): a Protobuf "
                        "repeated field or map value cannot itself be repeated or a map; wrap it in a STRUCT",
                        position,
                    )
    keys = schema.key
    if keys and formats.key_format == "NONE":
        raise _err(
            "The 'NONE' format can only be used when no columns are defined. Got: "
            + ", ".join(str(k) for k in keys),
            position,
        )
    if formats.key_format == "KAFKA":
        if len(keys) > 1:
            raise _err(
                f"The 'KAFKA' format only supports a single field. Got: [{', '.join(str(k) for k in keys)}]. Use KEY_FORMAT='JSON' for several key columns.",
                position,
            )
        if keys and keys[0].type.base not in (
            BaseType.INTEGER,
            BaseType.BIGINT,
            BaseType.DOUBLE,
            BaseType.STRING,
            BaseType.BYTES,
        ):
            raise _err(f"The 'KAFKA' format does not support type '{keys[0].type.base.value}'", position)
    values = schema.value
    if formats.value_format == "KAFKA" and len(values) > 1:
        raise _err(
            "The 'KAFKA' format only supports a single field. Got: ["
            + ", ".join(str(v) for v in values)
            + "]",
            position,
        )
    if formats.value_format == "DELIMITED" and any(
        v.type.base in (BaseType.ARRAY, BaseType.MAP, BaseType.STRUCT) for v in values
    ):
        raise _err("The 'DELIMITED' format does not support ARRAY, MAP or STRUCT columns", position)
    if formats.wrap_single_value is not None and len(values) != 1:
        raise _err("'WRAP_SINGLE_VALUE' is only valid for single-field value schemas", position)
    if formats.wrap_single_value is False and formats.value_format == "PROTOBUF_NOSR":
        raise _err("Format 'PROTOBUF_NOSR' does not support 'WRAP_SINGLE_VALUE' set to 'false'.", position)


def timestamp_of(
    props: dict[str, Any], schema: LogicalSchema, position: Position | None
) -> tuple[str | None, str | None]:
    name = props.get("TIMESTAMP")
    fmt = props.get("TIMESTAMP_FORMAT")
    if name is None:
        if fmt is not None:
            raise _err("TIMESTAMP_FORMAT requires TIMESTAMP", position)
        return None, None
    col_name = str(name).upper() if not str(name).startswith("`") else str(name).strip("`")
    col = schema.find(col_name)
    if col is None:
        raise _err(
            f"The TIMESTAMP column set in the WITH clause does not exist in the schema: '{col_name}'",
            position,
        )
    if col.type.base is BaseType.STRING:
        if fmt is None:
            raise _err(
                f"Column {col_name} is a STRING: TIMESTAMP_FORMAT is needed to read it as a timestamp",
                position,
            )
    elif col.type.base not in (BaseType.BIGINT, BaseType.TIMESTAMP):
        raise _err(
            f"Timestamp column, {col_name}, should be LONG(INT64), TIMESTAMP, or a String with a timestamp_format specified.",
            position,
        )
    return col_name, None if fmt is None else str(fmt)


def sink_source(
    name: str,
    kind: ast.SourceKind,
    schema: LogicalSchema,
    props: dict[str, Any],
    inherited: DataSource,
    window: WindowInfo | None,
    config: dict[str, str],
    statement: str,
    position: Position | None,
) -> DataSource:
    """The DataSource a CREATE ... AS SELECT writes (formats and partitions inherited from its source)."""
    check_properties(props, position)
    formats = formats_from(props, inherited.formats, config, position)
    if (
        not schema.key
        and formats.key_format != "NONE"
        and "KEY_FORMAT" not in props
        and "FORMAT" not in props
    ):
        formats = replace(formats, key_format="NONE")
    elif schema.key and formats.key_format == "NONE":
        formats = replace(
            formats, key_format=config.get("ksql.persistence.default.format.key", "KAFKA").upper()
        )
    if len(schema.key) > 1 and formats.key_format == "KAFKA":
        formats = (
            replace(formats, key_format="JSON")
            if "KEY_FORMAT" not in props and "FORMAT" not in props
            else formats
        )
    if formats.wrap_single_value is not None and len(schema.value) != 1:
        formats = replace(formats, wrap_single_value=None)
    check_formats(schema, formats, position, config)
    ts_col, ts_fmt = timestamp_of(props, schema, position)
    return DataSource(
        name=name,
        kind=kind,
        schema=schema,
        topic=str(props.get("KAFKA_TOPIC", name)),
        formats=formats,
        timestamp_column=ts_col,
        timestamp_format=ts_fmt,
        window=window,
        partitions=props.get("PARTITIONS", inherited.partitions),
        replicas=props.get("REPLICAS", inherited.replicas),
        statement=statement,
    )
