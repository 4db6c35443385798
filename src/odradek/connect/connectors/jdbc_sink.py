"""`JdbcSinkConnector`: records into database tables through SQLAlchemy (Confluent's JDBC sink
config names), so any database SQLAlchemy has a dialect and driver for works (SQLite built in;
PostgreSQL with psycopg, MySQL with a MySQL driver, ...).

- `connection.url`: an SQLAlchemy URL (`sqlite:////tmp/db.sqlite`,
  `postgresql+psycopg://host:5432/db`); `connection.user` / `connection.password` fill it in.
- `table.name.format` (`${topic}`), `insert.mode` insert | upsert | update,
  `pk.mode` none | kafka | record_key | record_value with `pk.fields`,
  `fields.whitelist` (deprecated name kept), `auto.create`, `auto.evolve` (add missing columns),
  `delete.enabled` (a tombstone deletes the row by its key; needs `pk.mode=record_key`),
  `batch.size`.
- Values must be structs (with a schema) or maps (schemaless, column types inferred); keys for
  `record_key` structs, maps or primitives (then `pk.fields` names the one column).

Each `put()` runs in one database transaction, so offsets are committed only for rows that are in
the database; upserts make re-delivery after a crash idempotent.
"""

from __future__ import annotations

import datetime as dt
import decimal
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from odradek.connect.api.config_def import (
    NO_DEFAULT,
    ConfigDef,
    ConfigType,
    Importance,
    at_least,
    valid_string,
)
from odradek.connect.api.connector import SinkConnector, SinkTask, Task
from odradek.connect.api.errors import ConfigException, ConnectException, DataException
from odradek.connect.api.records import SinkRecord
from odradek.connect.data import logical
from odradek.connect.data.schema import Schema, Type
from odradek.connect.data.struct import Struct
from odradek.model.topic_partition import TopicPartition

log = logging.getLogger("odradek.connect.jdbc")
KAFKA_PK = ("__connect_topic", "__connect_partition", "__connect_offset")


def column_type(schema: Schema) -> Any:
    if schema.name == logical.DECIMAL:
        return sa.Numeric(precision=38, scale=logical.decimal_scale(schema))
    if schema.name == logical.DATE:
        return sa.Date()
    if schema.name == logical.TIME:
        return sa.Time()
    if schema.name == logical.TIMESTAMP:
        return sa.DateTime(timezone=True)
    return {
        Type.INT8: sa.SmallInteger(),
        Type.INT16: sa.SmallInteger(),
        Type.INT32: sa.Integer(),
        Type.INT64: sa.BigInteger(),
        Type.FLOAT32: sa.Float(),
        Type.FLOAT64: sa.Double(),
        Type.BOOLEAN: sa.Boolean(),
        Type.STRING: sa.Text(),
        Type.BYTES: sa.LargeBinary(),
    }.get(schema.type) or _unsupported(schema)


def _unsupported(schema: Schema) -> Any:
    raise DataException(f"The JDBC sink cannot store a {schema.type.value} column")


def inferred_type(value: Any) -> Any:
    if isinstance(value, bool):
        return sa.Boolean()
    if isinstance(value, int):
        return sa.BigInteger()
    if isinstance(value, float):
        return sa.Double()
    if isinstance(value, decimal.Decimal):
        return sa.Numeric(38, 10)
    if isinstance(value, bytes):
        return sa.LargeBinary()
    if isinstance(value, dt.datetime):
        return sa.DateTime(timezone=True)
    if isinstance(value, dt.date):
        return sa.Date()
    if isinstance(value, dt.time):
        return sa.Time()
    if isinstance(value, dict | list):
        raise DataException(
            "The JDBC sink cannot store nested maps or arrays; flatten them first (Flatten SMT)"
        )
    return sa.Text()


class JdbcSinkConnector(SinkConnector):
    java_class = "io.confluent.connect.jdbc.JdbcSinkConnector"

    @classmethod
    def config_def(cls) -> ConfigDef:
        return (
            ConfigDef()
            .define(
                "connection.url",
                ConfigType.STRING,
                NO_DEFAULT,
                None,
                Importance.HIGH,
                "SQLAlchemy database URL, e.g. postgresql+psycopg://host:5432/db or sqlite:////path/db.sqlite",
            )
            .define("connection.user", ConfigType.STRING, None, None, Importance.HIGH, "Database user.")
            .define(
                "connection.password", ConfigType.PASSWORD, None, None, Importance.HIGH, "Database password."
            )
            .define(
                "table.name.format",
                ConfigType.STRING,
                "${topic}",
                None,
                Importance.MEDIUM,
                "Destination table name; ${topic} is replaced by the record's topic.",
            )
            .define(
                "insert.mode",
                ConfigType.STRING,
                "insert",
                valid_string("insert", "upsert", "update"),
                Importance.HIGH,
                "insert, upsert (insert or update by primary key) or update.",
            )
            .define(
                "pk.mode",
                ConfigType.STRING,
                "none",
                valid_string("none", "kafka", "record_key", "record_value"),
                Importance.HIGH,
                "Where the primary key comes from.",
            )
            .define("pk.fields", ConfigType.LIST, "", None, Importance.MEDIUM, "Primary key field names.")
            .define(
                "fields.whitelist",
                ConfigType.LIST,
                "",
                None,
                Importance.MEDIUM,
                "Value fields to store (empty: all).",
            )
            .define(
                "auto.create",
                ConfigType.BOOLEAN,
                False,
                None,
                Importance.MEDIUM,
                "Create the table from the record's schema when it does not exist.",
            )
            .define(
                "auto.evolve",
                ConfigType.BOOLEAN,
                False,
                None,
                Importance.MEDIUM,
                "Add columns the table lacks.",
            )
            .define(
                "delete.enabled",
                ConfigType.BOOLEAN,
                False,
                None,
                Importance.MEDIUM,
                "Delete the row when a tombstone arrives (needs pk.mode=record_key).",
            )
            .define(
                "batch.size",
                ConfigType.INT,
                3000,
                at_least(1),
                Importance.MEDIUM,
                "Rows per statement batch.",
            )
        )

    def version(self) -> str:
        return "odradek"

    def start(self, props: Mapping[str, str]) -> None:
        values = self.config_def().parse(props)
        if values["delete.enabled"] and values["pk.mode"] != "record_key":
            raise ConfigException(
                "delete.enabled", "true", "Deletes are only supported for pk.mode record_key"
            )
        if values["insert.mode"] in ("upsert", "update") and values["pk.mode"] == "none":
            raise ConfigException(
                "pk.mode", "none", f"insert.mode {values['insert.mode']} needs a primary key"
            )
        self.props = dict(props)

    def task_class(self) -> type[Task]:
        return JdbcSinkTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props) for _ in range(max_tasks)]

    def stop(self) -> None:
        return None


class JdbcSinkTask(SinkTask):
    def start(self, props: Mapping[str, str]) -> None:
        values = JdbcSinkConnector.config_def().parse(props)
        url: URL = make_url(values["connection.url"])
        if values["connection.user"]:
            url = url.set(username=values["connection.user"])
        if values["connection.password"] is not None:
            url = url.set(password=values["connection.password"].value)
        self.engine: Engine = sa.create_engine(url, pool_pre_ping=True)
        self.table_format = values["table.name.format"]
        self.insert_mode = values["insert.mode"]
        self.pk_mode = values["pk.mode"]
        self.pk_fields = [f for f in values["pk.fields"] if f]
        self.whitelist = {f for f in values["fields.whitelist"] if f}
        self.auto_create = values["auto.create"]
        self.auto_evolve = values["auto.evolve"]
        self.delete_enabled = values["delete.enabled"]
        self.batch_size = values["batch.size"]
        self.tables: dict[str, sa.Table] = {}

    # -- rows ------------------------------------------------------------------------------------

    def _value_fields(self, record: SinkRecord) -> list[tuple[str, Schema | None, Any]]:
        value = record.value
        fields: list[tuple[str, Schema | None, Any]]
        if isinstance(value, Struct):
            fields = [(f.name, f.schema, value.get(f.name)) for f in value.schema.fields]
        elif isinstance(value, dict):
            fields = [(str(k), None, v) for k, v in value.items()]
        else:
            raise DataException(
                f"The JDBC sink needs a struct or map value, got {type(value).__name__} "
                f"({record.topic}-{record.kafka_partition}@{record.kafka_offset})"
            )
        if self.whitelist:
            fields = [f for f in fields if f[0] in self.whitelist or f[0] in self.pk_fields]
        return fields

    def _key_fields(self, record: SinkRecord) -> list[tuple[str, Schema | None, Any]]:
        if self.pk_mode == "kafka":
            return [
                (KAFKA_PK[0], None, record.topic),
                (KAFKA_PK[1], None, record.kafka_partition),
                (KAFKA_PK[2], None, record.kafka_offset),
            ]
        if self.pk_mode == "record_key":
            key = record.key
            if isinstance(key, Struct):
                names = self.pk_fields or [f.name for f in key.schema.fields]
                fields: list[tuple[str, Schema | None, Any]] = []
                for n in names:
                    found = key.schema.field(n)
                    fields.append((n, found.schema if found is not None else None, key.get(n)))
                return fields
            if isinstance(key, dict):
                names = self.pk_fields or list(key)
                return [(n, None, key.get(n)) for n in names]
            if key is None:
                raise DataException(
                    f"pk.mode=record_key but the record at {record.topic}@{record.kafka_offset} has no key"
                )
            return [((self.pk_fields or ["__connect_key"])[0], record.key_schema, key)]
        return []

    def _pk_names(self, record: SinkRecord) -> list[str]:
        if self.pk_mode == "record_value":
            return self.pk_fields
        return [name for name, _, _ in self._key_fields(record)]

    def row(self, record: SinkRecord) -> dict[str, Any]:
        row = {name: value for name, _, value in self._value_fields(record)}
        for name, _, value in self._key_fields(record):
            row[name] = value
        return row

    # -- tables ----------------------------------------------------------------------------------

    def table_for(self, record: SinkRecord, connection: sa.Connection) -> sa.Table:
        name = self.table_format.replace("${topic}", record.topic)
        table = self.tables.get(name)
        if table is None:
            inspector = sa.inspect(connection)
            if inspector.has_table(name):
                table = sa.Table(name, sa.MetaData(), autoload_with=connection)
            elif self.auto_create:
                table = self._create(name, record, connection)
            else:
                raise ConnectException(f"Table {name} is missing and auto.create is disabled")
            self.tables[name] = table
        if record.value is not None:
            table = self._evolve(table, record, connection)
        return table

    def _columns(self, record: SinkRecord) -> list[tuple[str, Any, bool]]:
        seen: dict[str, tuple[str, Any, bool]] = {}
        for name, schema, value in [*self._key_fields(record), *self._value_fields(record)]:
            if schema is not None:
                seen[name] = (name, column_type(schema), schema.optional)
            else:
                seen[name] = (name, inferred_type(value) if value is not None else sa.Text(), True)
        return list(seen.values())

    def _create(self, name: str, record: SinkRecord, connection: sa.Connection) -> sa.Table:
        if record.value is None:
            raise ConnectException(f"Cannot create table {name} from a tombstone")
        pk = set(self._pk_names(record))
        columns = [
            sa.Column(n, t, primary_key=n in pk, nullable=optional and n not in pk)
            for n, t, optional in self._columns(record)
        ]
        table = sa.Table(name, sa.MetaData(), *columns)
        table.create(connection)
        log.info("created table %s", name)
        return table

    def _evolve(self, table: sa.Table, record: SinkRecord, connection: sa.Connection) -> sa.Table:
        missing = [c for c in self._columns(record) if c[0] not in table.c]
        if not missing:
            return table
        if not self.auto_evolve:
            raise ConnectException(
                f"Table {table.name} lacks columns {[c[0] for c in missing]} and auto.evolve is disabled"
            )
        preparer = connection.dialect.identifier_preparer
        for name, type_, _ in missing:
            compiled = type_.compile(dialect=connection.dialect)
            connection.execute(
                sa.text(
                    f"ALTER TABLE {preparer.quote(table.name)} ADD COLUMN {preparer.quote(name)} {compiled}"
                )
            )
        refreshed = sa.Table(table.name, sa.MetaData(), autoload_with=connection)
        self.tables[table.name] = refreshed
        return refreshed

    # -- writes ----------------------------------------------------------------------------------

    def put(self, records: Sequence[SinkRecord]) -> None:
        if not records:
            return
        with self.engine.begin() as connection:
            for record in records:
                table = self.table_for(record, connection)
                if record.value is None:
                    if self.delete_enabled:
                        self._delete(table, record, connection)
                    continue
                self._write(table, self.row(record), self._pk_names(record), connection)

    def _write(self, table: sa.Table, row: dict[str, Any], pk: list[str], connection: sa.Connection) -> None:
        row = {k: v for k, v in row.items() if k in table.c}
        if self.insert_mode == "insert":
            connection.execute(table.insert().values(**row))
            return
        key = {k: row[k] for k in pk}
        updates = {k: v for k, v in row.items() if k not in pk}
        if self.insert_mode == "update":
            connection.execute(
                table.update().where(*[table.c[k] == v for k, v in key.items()]).values(**updates)
            )
            return
        dialect = connection.dialect.name
        if dialect in ("sqlite", "postgresql"):
            module = __import__(f"sqlalchemy.dialects.{dialect}", fromlist=["insert"])
            statement = module.insert(table).values(**row)
            statement = (
                statement.on_conflict_do_update(index_elements=pk, set_=updates)
                if updates
                else statement.on_conflict_do_nothing(index_elements=pk)
            )
            connection.execute(statement)
        elif dialect in ("mysql", "mariadb"):
            from sqlalchemy.dialects.mysql import insert as mysql_insert

            statement = mysql_insert(table).values(**row)
            connection.execute(statement.on_duplicate_key_update(**(updates or key)))
        else:  # portable fallback: update, insert when nothing was updated
            result = connection.execute(
                table.update().where(*[table.c[k] == v for k, v in key.items()]).values(**updates)
            )
            if result.rowcount == 0:
                connection.execute(table.insert().values(**row))

    def _delete(self, table: sa.Table, record: SinkRecord, connection: sa.Connection) -> None:
        key = {name: value for name, _, value in self._key_fields(record)}
        connection.execute(table.delete().where(*[table.c[k] == v for k, v in key.items()]))

    def flush(self, current_offsets: Mapping[TopicPartition, int]) -> None:
        return None  # every put() committed its transaction

    def stop(self) -> None:
        self.engine.dispose()
