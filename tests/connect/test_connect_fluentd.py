"""The Fluentd forward-protocol source, fed by the Fluentd project's own Python client
(PyPI fluent-logger): message mode, EventTime, reconnects after the worker restarts the task, and
ack mode (fluent-logger has none: its packets get the protocol's `chunk` option here, and the
sender waits for the `{"ack": chunk}` answer before an event counts as delivered)."""

from __future__ import annotations

import base64
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
