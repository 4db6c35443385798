"""`odradek registry check … --against-data TOPIC`: decode a topic's records with a proposed schema.

Static compatibility rules miss what only data shows (a JSON document carrying an extra property
with another type, say). This reads every record of TOPIC from the beginning to the end offsets of
the moment (confluent-kafka, assigned partitions, no group), takes each value (or key) in
Confluent's wire format (magic byte 0, schema id, payload), fetches the writer schema by id, and
decodes the payload with the *new* schema as reader:

- Avro: fastavro's schema resolution (writer → new reader);
- JSON Schema: the document validated against the new schema (jsonschema);
- Protobuf: the message (found by the payload's message indexes) parsed with the new descriptor,
  and every field the bytes carry checked against the new field's wire type.

It reports how many records it checked and the first failing ones (partition, offset, reason).
"""

from __future__ import annotations

import argparse
import io
import json
import os
from dataclasses import dataclass, field
from typing import Any

from odradek.cli.errors import CliError


@dataclass
class DataReport:
    topic: str
    checked: int = 0
    skipped: int = 0
    failures: list[tuple[int, int, str]] = field(default_factory=list)
    failed: int = 0

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "checked": self.checked,
            "skipped": self.skipped,
            "failed": self.failed,
            "failures": [{"partition": p, "offset": o, "reason": r} for p, o, r in self.failures],
        }

    def lines(self) -> list[str]:
        head = (
            f"{self.topic}: {self.checked} records checked, {self.failed} do not decode with the new schema"
        )
        if self.skipped:
            head += f", {self.skipped} skipped (null or not in the wire format)"
        return [head] + [f"  partition {p} offset {o}: {r}" for p, o, r in self.failures]


def check_topic(client: Any, topic: str, body: dict[str, Any], args: argparse.Namespace) -> DataReport:
    from confluent_kafka import Consumer, TopicPartition

    from odradek.cli.client_options import BOOTSTRAP_ENV

    reader = _Reader(client, body)
    report = DataReport(topic)
    bootstrap = args.bootstrap_server or os.environ.get(BOOTSTRAP_ENV, "127.0.0.1:9092")
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "odradek-registry-check", "enable.auto.commit": "false"}
    )
    try:
        metadata = consumer.list_topics(topic, timeout=10)
        if topic not in metadata.topics or metadata.topics[topic].error is not None:
            raise CliError(f"topic {topic!r} not found")
        ends: dict[int, int] = {}
        assignment = []
        for partition in metadata.topics[topic].partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            if high > low:
                ends[partition] = high
                assignment.append(TopicPartition(topic, partition, low))
        consumer.assign(assignment)
        while ends:
            for message in consumer.consume(500, 1.0):
                if message.error() is not None:
                    continue
                partition, offset = message.partition() or 0, message.offset() or 0
                data = message.key() if args.key else message.value()
                reason = reader.check(data)
                if reason is None:
                    report.checked += 1
                elif reason == "":
                    report.skipped += 1
                else:
                    report.checked += 1
                    report.failed += 1
                    if len(report.failures) < args.max_failures:
                        report.failures.append((partition, offset, reason))
                if offset + 1 >= ends.get(partition, 0):
                    ends.pop(partition, None)
    finally:
        consumer.close()
    return report


class _Reader:
    def __init__(self, client: Any, body: dict[str, Any]) -> None:
        self.client = client
        self.schema_type = body.get("schemaType", "AVRO")
        self.text = body["schema"]
        self.writers: dict[int, Any] = {}
        self.reader: Any = None
        self.validator: Any = None
        self.proto: Any = None
        if self.schema_type == "AVRO":
            from fastavro import parse_schema

            self.reader = parse_schema(json.loads(self.text))
        elif self.schema_type == "JSON":
            from jsonschema import validators

            schema = json.loads(self.text)
            self.validator = validators.validator_for(schema, default=validators.Draft7Validator)(schema)
        else:
            from odradek.registry.formats import protobuf

            self.proto = protobuf.parse(self.text).form

    def check(self, data: bytes | None) -> str | None:
        """None: decodes; "": not checkable (skipped); otherwise why it fails."""
        if data is None or len(data) < 5 or data[0] != 0:
            return ""
        schema_id = int.from_bytes(data[1:5], "big")
        payload = data[5:]
        try:
            if self.schema_type == "AVRO":
                return self._avro(schema_id, payload)
            if self.schema_type == "JSON":
                errors = sorted(self.validator.iter_errors(json.loads(payload)), key=lambda e: list(e.path))
                return None if not errors else f"{errors[0].message} at /{'/'.join(map(str, errors[0].path))}"
            return _protobuf(self.proto, payload)
        except Exception as exc:  # any decoding failure is the finding, whatever raised it
            return f"{type(exc).__name__}: {exc}"

    def _avro(self, schema_id: int, payload: bytes) -> str | None:
        from fastavro import parse_schema, schemaless_reader

        writer = self.writers.get(schema_id)
        if writer is None:
            fetched = self.client.call("GET", f"/schemas/ids/{schema_id}")
            writer = parse_schema(json.loads(fetched["schema"]))
            self.writers[schema_id] = writer
        schemaless_reader(io.BytesIO(payload), writer, self.reader)
        return None


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _zigzag(value: int) -> int:
    return (value >> 1) ^ -(value & 1)


WIRE_TYPES = {1: 1, 6: 1, 16: 1, 2: 0, 3: 0, 4: 0, 5: 0, 8: 0, 13: 0, 14: 0, 17: 0, 18: 0, 7: 5, 15: 5}


def _protobuf(form: Any, payload: bytes) -> str | None:
    count, pos = _read_varint(payload, 0)
    count = _zigzag(count)
    indexes = [0]
    if count > 0:
        indexes = []
        for _ in range(count):
            value, pos = _read_varint(payload, pos)
            indexes.append(_zigzag(value))
    messages = form.file.message_type
    message = None
    for index in indexes:
        if index >= len(messages):
            return f"message index {indexes} not in the new schema"
        message = messages[index]
        messages = message.nested_type
    assert message is not None
    fields = {f.number: f for f in message.field}
    body = payload[pos:]
    pos = 0
    while pos < len(body):
        tag, pos = _read_varint(body, pos)
        number, wire = tag >> 3, tag & 7
        expected = _expected_wire(fields.get(number))
        if expected is not None and wire != expected and not (wire == 2 and fields[number].label == 3):
            return f"field {number} has wire type {wire}, the new schema expects {expected}"
        if wire == 0:
            _, pos = _read_varint(body, pos)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            length, pos = _read_varint(body, pos)
            pos += length
        else:
            return f"unsupported wire type {wire}"
        if pos > len(body):
            return "truncated message"
    return None


def _expected_wire(field: Any) -> int | None:
    if field is None:
        return None
    if field.type in (9, 12, 11, 10):  # string, bytes, message, group
        return 2
    return WIRE_TYPES.get(field.type)
