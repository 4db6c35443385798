"""FileStream source and sink (Kafka's quick-start pair, same class and config names).

Source (`FileStreamSourceConnector`): `file` (stdin when empty), `topic`, `batch.size` (2000).
One task; each line becomes a record with a STRING value and no key; the source partition is
`{"filename": file}` and the offset `{"position": <byte position after the line>}`, as Kafka's, so
offsets move between the two. A line is emitted only once its newline has been written.

Sink (`FileStreamSinkConnector`): `file` (stdout when empty), `topics`. Each record's value is
written as text plus a newline (bytes as they are); `flush()` flushes and fsyncs the file.

Both work on whole batches: the source reads big chunks and splits them into a `SourceBatch` of
lines (UTF-8 bytes, decoded only if a transform or the error path looks at them), the sink writes
a `SinkBatch`'s value column with one join.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping, Sequence
from itertools import accumulate
from typing import IO, Any

from odradek.connect.api.batches import OffsetColumn, SinkBatch, SourceBatch
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
READ_SIZE = 1 << 20
_PLUS_ONE = (1).__add__  # a line's bytes are its length plus its newline
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
        # big reads until the batch's lines are in, then one split: no Python work per line
        chunks = [self.pending]
        lines_in = self.pending.count(b"\n")
        while lines_in < self.batch_size:
            more = self.stream.read1(READ_SIZE)  # type: ignore[attr-defined]
            if not more:
                break
            chunks.append(more)
            lines_in += more.count(b"\n")
        buffer = b"".join(chunks) if len(chunks) > 1 else chunks[0]
        lines = buffer.split(b"\n", self.batch_size)
        # the unread rest (a partial line waits for its newline) stays for the next poll
        self.pending = lines.pop()
        if not lines:
            time.sleep(0.05)
            return []
        consumed = len(buffer) - len(self.pending)
        positions = list(accumulate(map(_PLUS_ONE, map(len, lines)), initial=self.position))
        del positions[0]
        self.position = positions[-1]
        if b"\r" in buffer:
            lines = [line[:-1] if line.endswith(b"\r") else line for line in lines]
        valid_text = buffer.isascii() or _is_utf8(memoryview(buffer)[:consumed])
        return SourceBatch(
            self.topic,
            lines if valid_text else [line.decode("utf-8", "replace") for line in lines],
            STRING_SCHEMA,
            source_partition=self.partition,
            source_offsets=OffsetColumn(POSITION_FIELD, positions),
            text_values=valid_text,
        )

    def stop(self) -> None:
        if self.stream is not None and self.stream is not sys.stdin.buffer:
            self.stream.close()
        self.stream = None


_TEXT_TYPES = frozenset((str,))
_BYTES_TYPES = frozenset((bytes,))


def _is_utf8(data: memoryview) -> bool:
    try:
        str(data, "utf-8")
    except UnicodeDecodeError:
        return False
    return True


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
        if isinstance(records, SinkBatch):
            values = records.values
            if None not in values:
                if _TEXT_TYPES.issuperset(map(type, values)):  # the whole batch in a few C calls
                    self.stream.write(("\n".join(values) + "\n").encode())
                    return
                if _BYTES_TYPES.issuperset(map(type, values)):
                    self.stream.write(b"\n".join(values) + b"\n")
                    return
        lines = []
        for record in records:
            value = record.value
            if isinstance(value, bytes):  # bytes are written as they are
                lines.append(value + b"\n")
                continue
            text = (
                "null"
                if value is None
                else value
                if isinstance(value, str)
                else convert_to_string(record.value_schema, value)
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
