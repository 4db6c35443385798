"""`FluentdForwardSourceConnector`: Fluentd's and Fluent Bit's `forward` output send to it, and
their events become Kafka records (a log pipeline with no Kafka plugin on the Fluent side).

It speaks the Forward Protocol v1 (MessagePack over TCP, Fluentd's `in_forward` config names
`bind` and `port`): Message mode `[tag, time, record, option?]`, Forward mode
`[tag, [[time, record], ...], option?]`, PackedForward (`entries` as a MessagePack byte stream)
and CompressedPackedForward (`option.compressed = "gzip"`). `time` is an integer or the EventTime
extension (seconds and nanoseconds). When a message carries `option.chunk`, the connector answers
`{"ack": <chunk>}` once every event of that message was written to Kafka (or handled by the
error policy): a sender waiting for acks resends what was never acknowledged, so nothing is lost
when the worker dies (at least once).

With `security.shared_key` every connection starts with the protocol's handshake
(`fluentd_handshake.py`: HELO, PING, PONG; `security.self_hostname`, and user authentication with
`security.user_auth` and `security.users`); a client that fails it is answered PONG false and
disconnected before any of its events is read. UDP heartbeats (`heartbeat.udp`, on by default):
as Fluentd's `in_forward`, every datagram to the same port number is answered with one zero byte,
which is how a sender with `heartbeat_type udp` sees the server alive.

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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgpack

from odradek.connect.api.config_def import NO_DEFAULT, ConfigDef, ConfigType, Importance, between
from odradek.connect.api.connector import SourceConnector, SourceTask, Task
from odradek.connect.api.errors import ConnectException
from odradek.connect.api.records import RecordMetadata, SourceRecord
from odradek.connect.connectors.fluentd_handshake import Handshake, Security, parse_users
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

    def _messages(self) -> Iterator[Any]:
        """The connection's MessagePack objects until it closes or the task stops."""
        unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, max_buffer_size=64 * 1024 * 1024)
        sock = self.request
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
            yield from unpacker

    def _authenticated(self, messages: Iterator[Any]) -> bool:
        assert self.server.security is not None
        handshake = Handshake(self.server.security)
        try:
            self.request.sendall(msgpack.packb(handshake.helo()))
            ping = next(messages, None)
            pong, accepted = handshake.pong(ping)
            self.request.sendall(msgpack.packb(pong))
        except OSError:
            return False
        if not accepted:
            log.warning("refused a forward connection from %s: %s", self.client_address, pong[2])
        return accepted

    def handle(self) -> None:
        sock = self.request
        sock.settimeout(1.0)
        messages = self._messages()
        if self.server.security is not None and not self._authenticated(messages):
            return  # the connection closes: nothing the client sent is read
        for message in messages:
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

    def __init__(self, address: tuple[str, int], security: Security | None) -> None:
        self.events: queue.Queue[tuple[str, int | None, Any, Chunk]] = queue.Queue(MAX_QUEUE)
        self.stopping = threading.Event()
        self.security = security
        super().__init__(address, _Handler)


class _Heartbeat(socketserver.UDPServer):
    """Answers every datagram with one zero byte (Fluentd's UDP heartbeat)."""

    allow_reuse_address = True

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _HeartbeatHandler)


class _HeartbeatHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        _, sock = self.request
        with contextlib.suppress(OSError):
            sock.sendto(b"\x00", self.client_address)


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
            .define(
                "heartbeat.udp",
                ConfigType.BOOLEAN,
                True,
                None,
                Importance.LOW,
                "Answer UDP heartbeats (each datagram gets one zero byte) on the same port number.",
            )
            .define(
                "security.shared_key",
                ConfigType.PASSWORD,
                None,
                None,
                Importance.MEDIUM,
                "The key shared with the senders: when set, each connection must pass the forward "
                "protocol's handshake (Fluentd's <security> shared_key).",
            )
            .define(
                "security.self_hostname",
                ConfigType.STRING,
                socket.gethostname(),
                None,
                Importance.LOW,
                "The hostname this server names in the handshake (it must differ from the sender's).",
            )
            .define(
                "security.user_auth",
                ConfigType.BOOLEAN,
                False,
                None,
                Importance.LOW,
                "Also require a user name and password from `security.users` in the handshake.",
            )
            .define(
                "security.users",
                ConfigType.PASSWORD,
                None,
                None,
                Importance.LOW,
                "The users for `security.user_auth`: `user:password,user2:password2`.",
            )
        )

    def version(self) -> str:
        return "odradek"

    def start(self, props: Mapping[str, str]) -> None:
        values = self.config_def().parse(props)
        if values["security.user_auth"]:
            if values["security.shared_key"] is None:
                raise ConnectException("security.user_auth needs security.shared_key")
            try:
                users = parse_users(values["security.users"].value if values["security.users"] else "")
            except ValueError as exc:
                raise ConnectException(str(exc)) from exc
            if not users:
                raise ConnectException("security.user_auth needs at least one user in security.users")
        self.props = dict(props)  # secrets travel unresolved (placeholders are resolved in the task)

    def task_class(self) -> type[Task]:
        return FluentdForwardSourceTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props)]  # one listening socket

    def stop(self) -> None:
        return None


class FluentdForwardSourceTask(SourceTask):
    def start(self, props: Mapping[str, str]) -> None:
        values = FluentdForwardSourceConnector.config_def().parse(props)
        self.topic = values["topic"]
        self.batch_size = values["batch.size"]
        security = None
        if values["security.shared_key"] is not None:
            users = values["security.users"]
            security = Security(
                values["security.shared_key"].value,
                values["security.self_hostname"],
                parse_users(users.value) if values["security.user_auth"] and users else {},
            )
        bind = values["bind"]
        try:
            self.server = _Server((bind, values["port"]), security)
        except OSError as exc:
            raise ConnectException(f"cannot listen on {bind}:{values['port']}: {exc}") from exc
        self.port = self.server.server_address[1]
        self.heartbeat: _Heartbeat | None = None
        if values["heartbeat.udp"]:
            try:
                self.heartbeat = _Heartbeat((bind, self.port))
            except OSError as exc:
                self.server.server_close()
                raise ConnectException(
                    f"cannot listen for UDP heartbeats on {bind}:{self.port}: {exc}"
                ) from exc
        self.threads = [
            threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.2}, name=name, daemon=True
            )
            for server, name in ((self.server, "fluentd-forward"), (self.heartbeat, "fluentd-heartbeat"))
            if server is not None
        ]
        for thread in self.threads:
            thread.start()

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
        for server in (self.server, self.heartbeat):
            if server is not None:
                server.shutdown()
                server.server_close()
