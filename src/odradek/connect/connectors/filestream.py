"""FileStream source and sink (Kafka's quick-start pair, same class and config names).

Source (`FileStreamSourceConnector`): `file` (stdin when empty), `topic`, `batch.size` (2000).
One task; each line becomes a record with a STRING value and no key; the source partition is
`{"filename": file}` and the offset `{"position": <byte position after the line>}`, as Kafka's, so
offsets move between the two. A line is emitted only once its newline has been written.

Sink (`FileStreamSinkConnector`): `file` (stdout when empty), `topics`. Each record's value is
written as text plus a newline; `flush()` flushes and fsyncs the file.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping, Sequence
from typing import IO, Any

from odradek.connect.api.config_def import (
    NO_DEFAULT,
    ConfigDef,
    ConfigType,
    Importance,
    at_least,
    non_empty_string,
)
from odradek.connect.api.connector import (
    ExactlyOnceSupport,
    SinkConnector,
    SinkTask,
    SourceConnector,
    SourceTask,
    Task,
)
from odradek.connect.api.errors import ConnectException
from odradek.connect.api.records import SinkRecord, SourceRecord
from odradek.connect.data.schema import STRING_SCHEMA
from odradek.connect.data.values import convert_to_string
from odradek.model.topic_partition import TopicPartition

FILENAME_FIELD = "filename"
POSITION_FIELD = "position"
DEFAULT_BATCH_SIZE = 2000
READ_SIZE = 1 << 16
VERSION = "odradek"


class FileStreamSourceConnector(SourceConnector):
    java_class = "org.apache.kafka.connect.file.FileStreamSourceConnector"

    @classmethod
    def config_def(cls) -> ConfigDef:
        return (
            ConfigDef()
            .define(
                "file",
                ConfigType.STRING,
                None,
                None,
                Importance.HIGH,
                "Source filename. If not specified, the standard input will be used",
            )
            .define(
                "topic",
                ConfigType.LIST,
                NO_DEFAULT,
                non_empty_string,
                Importance.HIGH,
                "The topic to publish data to",
            )
            .define(
                "batch.size",
                ConfigType.INT,
                DEFAULT_BATCH_SIZE,
                at_least(1),
                Importance.LOW,
                "The maximum number of records the source task can read from the file each time it is polled",
            )
        )

    def version(self) -> str:
        return VERSION

    def start(self, props: Mapping[str, str]) -> None:
        values = self.config_def().parse(props)
        topics = values["topic"]
        if not topics or len(topics) != 1:
            raise ConnectException(
                "'topic' in FileStreamSourceConnector configuration requires definition of a single topic"
            )
        self.props = {
            "file": values["file"] or "",
            "topic": topics[0],
            "batch.size": str(values["batch.size"]),
        }

    def task_class(self) -> type[Task]:
        return FileStreamSourceTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props)]

    def stop(self) -> None:
        return None

    def exactly_once_support(self, props: Mapping[str, str]) -> ExactlyOnceSupport | None:
        return ExactlyOnceSupport.SUPPORTED if props.get("file") else ExactlyOnceSupport.UNSUPPORTED

    def alter_offsets(self, props: Mapping[str, str], offsets: Mapping[Any, Any]) -> bool:
        for offset in offsets.values():
            if offset is None:
                continue
            if not isinstance(offset, dict) or not isinstance(offset.get(POSITION_FIELD), int):
                raise ConnectException(
                    "Offset objects should contain the key 'position' with an integer value"
                )
            if offset[POSITION_FIELD] < 0:
                raise ConnectException(
                    "The value for the 'position' key in the offset should not be negative"
                )
        return True


class FileStreamSourceTask(SourceTask):
    def version(self) -> str:
        return VERSION

    def start(self, props: Mapping[str, str]) -> None:
        self.filename = props.get("file") or ""
        self.topic = props["topic"]
        self.batch_size = int(props.get("batch.size", DEFAULT_BATCH_SIZE))
        self.stream: IO[bytes] | None = None
        self.position = 0
        self.pending = b""
        self.partition = {FILENAME_FIELD: self.filename} if self.filename else None

    def _open(self) -> IO[bytes] | None:
        if not self.filename:
            return sys.stdin.buffer
        try:
            stream = open(self.filename, "rb")  # noqa: SIM115 - kept open across polls
        except FileNotFoundError:
            return None
        stored = self.context.offset_storage_reader().offset(self.partition or {}) if self.partition else None
        if stored is not None:
            position = stored.get(POSITION_FIELD)
            if not isinstance(position, int):
                stream.close()
                raise ConnectException("Offset position is the incorrect type")
            stream.seek(position)
            self.position = position
        return stream

    def poll(self) -> Sequence[SourceRecord] | None:
        if self.stream is None:
            self.stream = self._open()
            if self.stream is None:
                time.sleep(1)
                return None
        records: list[SourceRecord] = []
        topic, partition, position = self.topic, self.partition, self.position
        buffer = self.pending
        start = 0
        while len(records) < self.batch_size:
            end = buffer.find(b"\n", start)
            if end < 0:
                # no complete line left: read more (big reads, not a readline per record)
                more = self.stream.read(READ_SIZE)
                if not more:
                    break
                buffer = buffer[start:] + more
                start = 0
                continue
            line = buffer[start:end]
            position += end + 1 - start
            start = end + 1
            if line.endswith(b"\r"):
                line = line[:-1]
            records.append(
                SourceRecord(
                    topic,
                    None,
                    None,
                    None,
                    STRING_SCHEMA,
                    line.decode("utf-8", "replace"),
                    None,
                    source_partition=partition,
                    source_offset={POSITION_FIELD: position},
                )
            )
        # the unread rest (a partial line waits for its newline) stays for the next poll
        self.pending = buffer[start:]
        self.position = position
        if not records:
            time.sleep(0.05)
        return records

    def stop(self) -> None:
        if self.stream is not None and self.stream is not sys.stdin.buffer:
            self.stream.close()
        self.stream = None


class FileStreamSinkConnector(SinkConnector):
    java_class = "org.apache.kafka.connect.file.FileStreamSinkConnector"

    @classmethod
    def config_def(cls) -> ConfigDef:
        return ConfigDef().define(
            "file",
            ConfigType.STRING,
            None,
            None,
            Importance.HIGH,
            "Destination filename. If not specified, the standard output will be used",
        )

    def version(self) -> str:
        return VERSION

    def start(self, props: Mapping[str, str]) -> None:
        self.props = {"file": props.get("file") or ""}

    def task_class(self) -> type[Task]:
        return FileStreamSinkTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props) for _ in range(max_tasks)]

    def stop(self) -> None:
        return None

    def alter_offsets(self, props: Mapping[str, str], offsets: Mapping[Any, Any]) -> bool:
        return True


class FileStreamSinkTask(SinkTask):
    def version(self) -> str:
        return VERSION

    def start(self, props: Mapping[str, str]) -> None:
        filename = props.get("file") or ""
        self.stream: IO[bytes] = open(filename, "ab") if filename else sys.stdout.buffer  # noqa: SIM115
        self.to_file = bool(filename)

    def put(self, records: Sequence[SinkRecord]) -> None:
        lines = []
        for record in records:
            value = record.value
            text = (
                "null"
                if value is None
                else value
                if isinstance(value, str)
                else (
                    value.decode("utf-8", "replace")
                    if isinstance(value, bytes)
                    else convert_to_string(record.value_schema, value)
                )
            )
            lines.append(f"{text}\n".encode())
        self.stream.write(b"".join(lines))

    def flush(self, current_offsets: Mapping[TopicPartition, int]) -> None:
        self.stream.flush()
        if self.to_file:
            os.fsync(self.stream.fileno())

    def stop(self) -> None:
        if self.to_file:
            self.stream.close()
