"""The Fluentd forward-protocol source, fed by the Fluentd project's own Python client
(PyPI fluent-logger): message mode, EventTime, reconnects after the worker restarts the task, and
ack mode (fluent-logger has none: its packets get the protocol's `chunk` option here, and the
sender waits for the `{"ack": chunk}` answer before an event counts as delivered)."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import time
import uuid
from typing import Any

import msgpack
from connect_helpers import read_topic, wait_for
from fluent import sender


class AckingSender(sender.FluentSender):
    """fluent-logger's sender with the forward protocol's at-least-once option (`require_ack_response`)."""

    def _make_packet(self, label: str, timestamp: Any, data: Any) -> bytes:
        self.chunk = base64.b64encode(uuid.uuid4().bytes).decode()
        tag = f"{self.tag}.{label}" if label else self.tag
        return msgpack.packb([tag, timestamp, data, {"chunk": self.chunk, "size": 1}])

    def _send_data(self, bytes_: bytes) -> None:
        super()._send_data(bytes_)
        self.socket.settimeout(self.timeout)
        unpacker = msgpack.Unpacker(raw=False)
        while True:
            data = self.socket.recv(1024)
            if not data:
                raise OSError("connection closed before the ack")
            unpacker.feed(data)
            for answer in unpacker:
                if answer == {"ack": self.chunk}:
                    return


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_fluent_logger_events_become_records_with_acks_and_reconnects(
    standalone, bootstrap: str, topic_name: str
) -> None:
    port = free_port()
    herder = standalone(
        **{
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "false",
        }
    )
    herder.put_connector_config(
        "fluent",
        {
            "connector.class": "odradek.connect.connectors.fluentd.FluentdForwardSourceConnector",
            "topic": topic_name,
            "bind": "127.0.0.1",
            "port": str(port),
        },
        allow_replace=False,
    )
    wait_for(
        lambda: (
            herder.connector_status("fluent")["tasks"]
            and herder.connector_status("fluent")["tasks"][0]["state"] == "RUNNING"
        ),
        what="listening",
    )
    plain = sender.FluentSender("app", host="127.0.0.1", port=port, nanosecond_precision=True)
    for i in range(5):
        assert plain.emit("access", {"i": i, "path": "/x"}), plain.last_error
    acked = AckingSender("app", host="127.0.0.1", port=port, timeout=10)
    for i in range(5, 10):
        assert acked.emit_with_time("audit", 1_700_000_000 + i, {"i": i}), acked.last_error
    records = read_topic(bootstrap, topic_name, 10)
    assert sorted(json.loads(r.value())["i"] for r in records) == list(range(10))
    audit = [r for r in records if r.key() == b"app.audit"]
    assert (
        len(audit) == 5
        and audit[0].timestamp()[1] == (1_700_000_000 + json.loads(audit[0].value())["i"]) * 1000
    )
    assert {r.key() for r in records} == {b"app.access", b"app.audit"}

    # the task restarts (socket closed); both senders reconnect by themselves
    herder.restart_task("fluent", 0)
    time.sleep(0.5)
    wait_for(lambda: herder.connector_status("fluent")["tasks"][0]["state"] == "RUNNING", what="restarted")

    def resend() -> bool:
        return bool(acked.emit("audit", {"i": 10}))

    wait_for(resend, timeout=30, interval=0.5, what="acked emit after reconnect")
    # without acks an event written into the dead connection is lost (the protocol's at-most-once
    # mode): emit until one arrives, i.e. until the sender has reconnected
    wait_for(
        lambda: (
            plain.emit("access", {"i": 11})
            and any(
                json.loads(r.value())["i"] == 11 for r in read_topic(bootstrap, topic_name, 12, timeout=1)
            )
        ),
        timeout=30,
        interval=0.2,
        what="plain emit after reconnect",
    )
    plain.close()
    acked.close()
    values = sorted(json.loads(r.value())["i"] for r in read_topic(bootstrap, topic_name, 12))
    assert set(values) == set(range(12))


def handshake(
    port: int, shared_key: str, hostname: str = "client.example"
) -> tuple[socket.socket, list[Any]]:
    """The client side of the forward protocol's handshake, as Fluentd's out_forward does it."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    unpacker = msgpack.Unpacker(raw=False)

    def receive() -> Any:
        while True:
            for message in unpacker:
                return message
            data = sock.recv(4096)
            if not data:
                return None
            unpacker.feed(data)

    helo = receive()
    assert helo[0] == "HELO" and helo[1]["keepalive"] is True
    nonce = helo[1]["nonce"]
    salt = uuid.uuid4().hex
    digest = hashlib.sha512(salt.encode() + hostname.encode() + nonce + shared_key.encode()).hexdigest()
    sock.sendall(msgpack.packb(["PING", hostname, salt, digest, "", ""]))
    pong = receive()
    return sock, [pong, nonce, salt]


def test_shared_key_handshake_and_udp_heartbeat(standalone, bootstrap: str, topic_name: str) -> None:
    port = free_port()
    herder = standalone(
        **{
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "false",
        }
    )
    herder.put_connector_config(
        "fluent",
        {
            "connector.class": "FluentdForwardSourceConnector",
            "topic": topic_name,
            "bind": "127.0.0.1",
            "port": str(port),
            "security.shared_key": "s3cret",
            "security.self_hostname": "odradek.example",
        },
        allow_replace=False,
    )
    wait_for(
        lambda: (t := herder.connector_status("fluent")["tasks"]) and t[0]["state"] == "RUNNING",
        what="listening",
    )
    # UDP heartbeat: every datagram is answered with one zero byte
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(5)
        udp.sendto(b"\x00", ("127.0.0.1", port))
        assert udp.recvfrom(16)[0] == b"\x00"
    # a wrong key is refused and the connection closed; nothing it sends gets through
    refused, (pong, _, _) = handshake(port, "wrong")
    assert pong[:3] == ["PONG", False, "shared_key mismatch"]
    try:
        refused.sendall(msgpack.packb(["app.bad", 1_700_000_000, {"i": -1}]))
        assert refused.recv(16) == b""  # closed by the server
    except ConnectionError:
        pass  # closed before our write
    refused.close()
    # the right key: the server proves it knows it too, then events flow
    sock, (pong, nonce, salt) = handshake(port, "s3cret")
    assert pong[:4] == ["PONG", True, "", "odradek.example"]
    assert pong[4] == hashlib.sha512(salt.encode() + b"odradek.example" + nonce + b"s3cret").hexdigest()
    sock.sendall(msgpack.packb(["app.ok", 1_700_000_000, {"i": 1}, {"chunk": "c1"}]))
    answer = msgpack.Unpacker(raw=False)
    answer.feed(sock.recv(1024))
    assert next(answer) == {"ack": "c1"}
    sock.close()
    records = read_topic(bootstrap, topic_name, 1)
    assert [(r.key(), json.loads(r.value())) for r in records] == [(b"app.ok", {"i": 1})]
