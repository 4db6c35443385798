"""`HttpSinkConnector`: records to an HTTP endpoint, batched, with retries, and a dead letter
queue for what the endpoint refuses.

Each record's value becomes one body item: bytes as they are, text as UTF-8, maps/structs/lists
as JSON. With `batching.enabled` (default) up to `batch.max.size` items are sent in one request,
joined by `batch.separator` between `batch.prefix` and `batch.suffix` (a JSON array by default).

Answers: 2xx is done. 408, 429, 5xx and connection errors are retried `max.retries` times with
`retry.backoff.ms` doubling (then the task fails and restarts with back-off; the records are
delivered again, as their offsets were not committed). Any other 4xx means the records are bad:
a batch is resent item by item and each refused record goes to the error policy (the DLQ with
`errors.tolerance=all` and `errors.deadletterqueue.topic.name`), else the task fails.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from odradek.connect.api.config_def import (
    NO_DEFAULT,
    ConfigDef,
    ConfigType,
    Importance,
    at_least,
    valid_string,
)
from odradek.connect.api.connector import SinkConnector, SinkTask, Task
from odradek.connect.api.errors import ConnectException, DataException
from odradek.connect.api.records import SinkRecord
from odradek.connect.data.struct import Struct
from odradek.connect.data.values import convert_to_string
from odradek.model.topic_partition import TopicPartition

RETRIABLE = {408, 429}


class HttpRefused(ConnectException):
    """The endpoint refused a record (4xx)."""


def to_body_item(value: Any) -> bytes:
    if value is None:
        return b"null"
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, Struct | dict | list):
        text = convert_to_string(value.schema if isinstance(value, Struct) else None, value)
        return (text or "null").encode()
    return json.dumps(value).encode()


class HttpSinkConnector(SinkConnector):
    @classmethod
    def config_def(cls) -> ConfigDef:
        return (
            ConfigDef()
            .define(
                "http.url",
                ConfigType.STRING,
                NO_DEFAULT,
                None,
                Importance.HIGH,
                "The URL records are sent to.",
            )
            .define(
                "http.method",
                ConfigType.STRING,
                "POST",
                valid_string("POST", "PUT", "PATCH"),
                Importance.LOW,
                "The HTTP method.",
            )
            .define(
                "http.headers.content.type",
                ConfigType.STRING,
                "application/json",
                None,
                Importance.LOW,
                "The Content-Type of requests.",
            )
            .define(
                "http.headers.additional",
                ConfigType.LIST,
                "",
                None,
                Importance.LOW,
                "More headers, comma-separated Name:Value pairs.",
            )
            .define(
                "http.headers.authorization",
                ConfigType.PASSWORD,
                None,
                None,
                Importance.MEDIUM,
                "The Authorization header's value (kept secret).",
            )
            .define(
                "http.timeout.seconds",
                ConfigType.DOUBLE,
                30.0,
                at_least(0.001),
                Importance.LOW,
                "Timeout of one request.",
            )
            .define(
                "batching.enabled",
                ConfigType.BOOLEAN,
                True,
                None,
                Importance.MEDIUM,
                "Send records in batches.",
            )
            .define(
                "batch.max.size", ConfigType.INT, 500, at_least(1), Importance.MEDIUM, "Records per request."
            )
            .define("batch.prefix", ConfigType.STRING, "[", None, Importance.LOW, "Written before a batch.")
            .define("batch.suffix", ConfigType.STRING, "]", None, Importance.LOW, "Written after a batch.")
            .define("batch.separator", ConfigType.STRING, ",", None, Importance.LOW, "Written between items.")
            .define(
                "max.retries",
                ConfigType.INT,
                5,
                at_least(0),
                Importance.MEDIUM,
                "Retries of a request answered 408, 429, 5xx or not at all.",
            )
            .define(
                "retry.backoff.ms",
                ConfigType.LONG,
                1000,
                at_least(0),
                Importance.LOW,
                "The first retry's delay (doubling).",
            )
        )

    def version(self) -> str:
        return "odradek"

    def start(self, props: Mapping[str, str]) -> None:
        self.config_def().parse(props)
        self.props = dict(props)

    def task_class(self) -> type[Task]:
        return HttpSinkTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props) for _ in range(max_tasks)]

    def stop(self) -> None:
        return None


class HttpSinkTask(SinkTask):
    def start(self, props: Mapping[str, str]) -> None:
        values = HttpSinkConnector.config_def().parse(props)
        self.url = values["http.url"]
        self.method = values["http.method"]
        headers = {"Content-Type": values["http.headers.content.type"]}
        for item in values["http.headers.additional"]:
            name, sep, value = item.partition(":")
            if not sep:
                raise ConnectException(f"http.headers.additional: expected Name:Value, got {item!r}")
            headers[name.strip()] = value.strip()
        if values["http.headers.authorization"] is not None:
            headers["Authorization"] = values["http.headers.authorization"].value
        self.batching = values["batching.enabled"]
        self.batch_size = values["batch.max.size"] if self.batching else 1
        self.prefix = values["batch.prefix"].encode() if self.batching else b""
        self.suffix = values["batch.suffix"].encode() if self.batching else b""
        self.separator = values["batch.separator"].encode()
        self.max_retries = values["max.retries"]
        self.backoff_ms = values["retry.backoff.ms"]
        self.client = httpx.Client(headers=headers, timeout=values["http.timeout.seconds"])
        self.reporter = self.context.errant_record_reporter()

    def _body(self, records: Sequence[SinkRecord]) -> bytes:
        items: list[bytes] = [to_body_item(r.value) for r in records]
        return bytes(self.prefix) + bytes(self.separator).join(items) + bytes(self.suffix)

    def _send(self, body: bytes) -> None:
        delay = self.backoff_ms / 1000
        for attempt in range(self.max_retries + 1):
            try:
                answer = self.client.request(self.method, self.url, content=body)
            except httpx.HTTPError as exc:
                failure = f"{type(exc).__name__}: {exc}"
            else:
                if answer.status_code < 300:
                    return
                if 400 <= answer.status_code < 500 and answer.status_code not in RETRIABLE:
                    raise HttpRefused(f"{self.url} answered {answer.status_code}: {answer.text[:500]}")
                failure = f"{self.url} answered {answer.status_code}"
            if attempt < self.max_retries:
                time.sleep(delay)
                delay *= 2
        raise ConnectException(f"Giving up after {self.max_retries} retries: {failure}")

    def put(self, records: Sequence[SinkRecord]) -> None:
        for start in range(0, len(records), self.batch_size):
            batch = records[start : start + self.batch_size]
            try:
                self._send(self._body(batch))
            except HttpRefused:
                if len(batch) == 1:
                    self._refused(batch[0])
                    continue
                for record in batch:
                    try:
                        self._send(self._body([record]))
                    except HttpRefused:
                        self._refused(record)

    def _refused(self, record: SinkRecord) -> None:
        error = HttpRefused(
            f"{self.url} refused the record at {record.topic}-{record.kafka_partition}@{record.kafka_offset}"
        )
        if self.reporter is None:
            raise DataException(str(error)) from error
        self.reporter.report(record, error)

    def flush(self, current_offsets: Mapping[TopicPartition, int]) -> None:
        return None  # put() returns only once the endpoint accepted (or refused) every record

    def stop(self) -> None:
        self.client.close()
