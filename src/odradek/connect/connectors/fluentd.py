"""`FluentdForwardSourceConnector`: Fluentd's and Fluent Bit's `forward` output send to it, and
their events become Kafka records (a log pipeline with no Kafka plugin on the Fluent side).

It speaks the Forward Protocol v1 (MessagePack over TCP, Fluentd's `in_forward` config names
`bind` and `port`): Message mode `[tag, time, record, option?]`, Forward mode
`[tag, [[time, record], ...], option?]`, PackedForward (`entries` as a MessagePack byte stream)
and CompressedPackedForward (`option.compressed = "gzip"`). `time` is an integer or the EventTime
extension (seconds and nanoseconds). When a message carries `option.chunk`, the connector answers
`{"ack": <chunk>}` once every event of that message was written to Kafka (or handled by the
error policy): a sender waiting for acks resends what was never acknowledged, so nothing is lost
when the worker dies (at least once). Shared-key authentication (the handshake phase) and the UDP
heartbeat are not supported.

Each event becomes one record: key = the tag (string), value = the event's record as a schemaless
map, timestamp = the event time, written to `topic`. One task (one listening socket).
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import queue
import socket
import socketserver
import struct
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgpack

from odradek.connect.api.config_def import NO_DEFAULT, ConfigDef, ConfigType, Importance, between
from odradek.connect.api.connector import SourceConnector, SourceTask, Task
from odradek.connect.api.errors import ConnectException
from odradek.connect.api.records import RecordMetadata, SourceRecord
from odradek.connect.data.schema import OPTIONAL_STRING_SCHEMA

log = logging.getLogger("odradek.connect.fluentd")
EVENT_TIME = 0
MAX_QUEUE = 10_000


def event_time_ms(value: Any) -> int | None:
    """Forward protocol time (integer seconds, float, or EventTime ext) as epoch milliseconds."""
    if isinstance(value, msgpack.ExtType) and value.code == EVENT_TIME and len(value.data) == 8:
        seconds, nanos = struct.unpack(">II", value.data)
        return int(seconds) * 1000 + int(nanos) // 1_000_000
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value * 1000)
    return None


def decode_message(message: Any) -> tuple[str, list[tuple[int | None, Any]], dict[str, Any]]:
    """(tag, [(time_ms, record)], option) of one forward-protocol message; ValueError when malformed."""
    if not isinstance(message, list | tuple) or len(message) < 2 or not isinstance(message[0], str):
        raise ValueError("not a forward protocol message")
    tag = message[0]
    second = message[1]
    if isinstance(second, list | tuple) and not isinstance(second, msgpack.ExtType):  # Forward mode
        option = message[2] if len(message) > 2 and isinstance(message[2], dict) else {}
        entries = [(event_time_ms(e[0]), e[1]) for e in second if isinstance(e, list | tuple) and len(e) == 2]
        return tag, entries, option
    if isinstance(second, bytes | str):  # (Compressed)PackedForward
        option = message[2] if len(message) > 2 and isinstance(message[2], dict) else {}
        raw = second.encode("latin-1") if isinstance(second, str) else second
        if option.get("compressed") == "gzip":
            raw = gzip.decompress(raw)
        unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
        unpacker.feed(raw)
        entries = [
            (event_time_ms(e[0]), e[1]) for e in unpacker if isinstance(e, list | tuple) and len(e) == 2
        ]
        return tag, entries, option
    if len(message) < 3:  # Message mode needs time and record
        raise ValueError("message mode without a record")
    option = message[3] if len(message) > 3 and isinstance(message[3], dict) else {}
    return tag, [(event_time_ms(second), message[2])], option


@dataclass
class Chunk:
    """Events of one message awaiting acknowledgement (`option.chunk`)."""

    chunk_id: str | None
    connection: socket.socket | None
    pending: int
    lock: threading.Lock = field(default_factory=threading.Lock)

    def done(self) -> None:
        with self.lock:
            self.pending -= 1
            finished = self.pending == 0
        if finished and self.chunk_id is not None and self.connection is not None:
            # a sender that went away resends the chunk when it reconnects
            with contextlib.suppress(OSError):
                self.connection.sendall(msgpack.packb({"ack": self.chunk_id}))


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, max_buffer_size=64 * 1024 * 1024)
        sock = self.request
        sock.settimeout(1.0)
        while not self.server.stopping.is_set():
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            unpacker.feed(data)
            for message in unpacker:
                try:
                    tag, entries, option = decode_message(message)
                except ValueError as exc:
                    log.warning("dropping a malformed forward message from %s: %s", self.client_address, exc)
                    continue
                chunk_id = option.get("chunk") if isinstance(option.get("chunk"), str) else None
                if not entries:
                    Chunk(chunk_id, sock, 1).done()
                    continue
                chunk = Chunk(chunk_id, sock, len(entries))
                for time_ms, record in entries:
                    while not self.server.stopping.is_set():
                        try:
                            self.server.events.put((tag, time_ms, record, chunk), timeout=0.5)
                            break
                        except queue.Full:
                            continue


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int]) -> None:
        self.events: queue.Queue[tuple[str, int | None, Any, Chunk]] = queue.Queue(MAX_QUEUE)
        self.stopping = threading.Event()
        super().__init__(address, _Handler)


class FluentdForwardSourceConnector(SourceConnector):
    @classmethod
    def config_def(cls) -> ConfigDef:
        return (
            ConfigDef()
            .define(
                "topic",
                ConfigType.STRING,
                NO_DEFAULT,
                None,
                Importance.HIGH,
                "The topic events are written to.",
            )
            .define(
                "bind", ConfigType.STRING, "0.0.0.0", None, Importance.MEDIUM, "The address to listen on."
            )
            .define(
                "port",
                ConfigType.INT,
                24224,
                between(0, 65535),
                Importance.HIGH,
                "The TCP port to listen on (Fluentd's forward port is 24224).",
            )
            .define("batch.size", ConfigType.INT, 1000, None, Importance.LOW, "Events per poll.")
        )

    def version(self) -> str:
        return "odradek"

    def start(self, props: Mapping[str, str]) -> None:
        self.props = {k: str(v) for k, v in self.config_def().parse(props).items()}

    def task_class(self) -> type[Task]:
        return FluentdForwardSourceTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props)]  # one listening socket

    def stop(self) -> None:
        return None


class FluentdForwardSourceTask(SourceTask):
    def start(self, props: Mapping[str, str]) -> None:
        self.topic = props["topic"]
        self.batch_size = int(props.get("batch.size", "1000"))
        try:
            self.server = _Server((props.get("bind", "0.0.0.0"), int(props.get("port", "24224"))))
        except OSError as exc:
            raise ConnectException(
                f"cannot listen on {props.get('bind')}:{props.get('port')}: {exc}"
            ) from exc
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="fluentd-forward",
            daemon=True,
        )
        self.thread.start()

    def poll(self) -> Sequence[SourceRecord] | None:
        records: list[SourceRecord] = []
        try:
            first = self.server.events.get(timeout=0.2)
        except queue.Empty:
            return None
        for tag, time_ms, record, chunk in [first, *self._drain()]:
            source = SourceRecord(self.topic, None, OPTIONAL_STRING_SCHEMA, tag, None, record, time_ms)
            source.chunk = chunk  # type: ignore[attr-defined]
            records.append(source)
        return records

    def _drain(self) -> list[tuple[str, int | None, Any, Chunk]]:
        out: list[tuple[str, int | None, Any, Chunk]] = []
        while len(out) < self.batch_size - 1:
            try:
                out.append(self.server.events.get_nowait())
            except queue.Empty:
                break
        return out

    def commit_record(self, record: SourceRecord, metadata: RecordMetadata | None) -> None:
        chunk = getattr(record, "chunk", None)
        if isinstance(chunk, Chunk):
            chunk.done()

    def stop(self) -> None:
        self.server.stopping.set()
        self.server.shutdown()
        self.server.server_close()
