"""The `consume` shell: a confluent_kafka.Consumer writing rendered records to stdout.

Without `--group` the consumer is assigned the topic's partitions at offsets resolved from
`--offset` against each partition's watermarks, and commits nothing. With `--group` it subscribes,
the group decides the partitions, and the offsets of records written to stdout are committed (auto
commit of explicitly stored offsets, and a last commit on close).

It stops after `--count` records, when every partition has reached its end (`--exit`, librdkafka's
partition EOF events), on SIGINT/SIGTERM, or when stdout is closed; each way closes the consumer
cleanly (leaving the group) and exits 0.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from odradek.cli.clients import ErrorWatch, make_consumer, wait_for_metadata
from odradek.cli.errors import CliError, cli_error, kafka_error_message
from odradek.cli.offset_spec import OffsetKind, StartOffset, parse_start_offset
from odradek.cli.progress import format_rate
from odradek.cli.record import Header, Record
from odradek.cli.record_format import FormatError, RecordRenderer, key_value_format, parse_format
from odradek.cli.record_json import render_record_json

BATCH = 500
POLL_S = 0.2
TIMESTAMP_TYPES = {1: "CreateTime", 2: "LogAppendTime"}  # librdkafka's TIMESTAMP_* constants
# Errors after which reading the topic cannot go on.
TERMINAL = frozenset({KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError.TOPIC_AUTHORIZATION_FAILED})


def _headers(raw: Any) -> tuple[Header, ...]:
    pairs = raw.items() if isinstance(raw, dict) else raw or ()
    return tuple((str(k), v if v is None or isinstance(v, bytes) else str(v).encode()) for k, v in pairs)


def to_record(message: Message[Any, Any]) -> Record:
    ts_type, ts = message.timestamp()
    return Record(
        key=message.key(),
        value=message.value(),
        headers=_headers(message.headers()),
        topic=message.topic(),
        partition=message.partition(),
        offset=message.offset(),
        timestamp=ts if ts_type in TIMESTAMP_TYPES else None,
        timestamp_type=TIMESTAMP_TYPES.get(ts_type),
    )


def _renderer(args: argparse.Namespace) -> Callable[[Record], bytes]:
    if args.output == "json":
        if args.format or args.key_delimiter:
            raise CliError("--output json prints whole records: drop --format/-K", exit_code=2)
        return render_record_json
    try:
        elements = parse_format(args.format) if args.format else key_value_format(args.key_delimiter)
    except FormatError as exc:
        raise CliError(str(exc), exit_code=2) from exc
    return RecordRenderer(elements).render


@contextmanager
def _stop_on_signals() -> Iterator[list[bool]]:
    """A flag set by SIGINT/SIGTERM (instead of raising), so the loop can close the consumer."""
    stop = [False]

    def handler(_signum: int, _frame: object) -> None:
        stop[0] = True

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _start_offsets(
    consumer: Consumer, args: argparse.Namespace, partitions: list[int]
) -> list[TopicPartition]:
    spec = StartOffset(OffsetKind.BEGINNING) if args.from_beginning else StartOffset(OffsetKind.END)
    if args.offset is not None:
        try:
            spec = parse_start_offset(args.offset)
        except ValueError as exc:
            raise CliError(str(exc), exit_code=2) from exc
    assignment = []
    for p in partitions:
        try:
            low, high = consumer.get_watermark_offsets(TopicPartition(args.topic, p), timeout=args.timeout)
        except KafkaException as exc:
            raise cli_error(exc, f"{args.topic}-{p}") from exc
        assignment.append(TopicPartition(args.topic, p, spec.resolve(low, high)))
    return assignment


def _partitions(metadata: Any, args: argparse.Namespace) -> list[int]:
    topic = metadata.topics.get(args.topic)
    if topic is None or topic.error is not None:
        error = topic.error if topic is not None else None
        raise CliError(
            kafka_error_message(error, f"topic {args.topic}") if error else f"topic {args.topic} not found"
        )
    partitions = sorted(topic.partitions)
    if args.partition is not None:
        if args.partition not in topic.partitions:
            raise CliError(f"topic {args.topic} has no partition {args.partition} (it has {len(partitions)})")
        return [args.partition]
    return partitions


def _configure(args: argparse.Namespace) -> tuple[Consumer, ErrorWatch]:
    if args.group and (args.offset is not None or args.partition is not None):
        raise CliError(
            "with --group the group assigns partitions and offsets: drop --offset/--partition", exit_code=2
        )
    flags: dict[str, str | int | float | bool] = {
        "enable.partition.eof": args.exit,
        "isolation.level": args.isolation_level,
    }
    if args.group:
        flags |= {
            "group.id": args.group,
            "auto.offset.reset": "earliest" if args.from_beginning else "latest",
            "enable.auto.offset.store": False,
        }
    else:
        # librdkafka wants a group id even for assign(); nothing is committed under it.
        flags |= {"group.id": "odradek-cli", "enable.auto.commit": False}
    return make_consumer(args, flags=flags)


def consume_records(args: argparse.Namespace) -> int:
    if args.count is not None and args.count < 1:
        raise CliError("--count must be at least 1", exit_code=2)
    render = _renderer(args)
    consumer, watch = _configure(args)
    try:
        partitions = _partitions(wait_for_metadata(consumer, watch, args.topic, args.timeout), args)
        # Partitions this consumer reads now, and those that reached their end (for --exit).
        owned: set[tuple[str, int]] = set()
        at_end: set[tuple[str, int]] = set()
        if args.group:

            def on_assign(_c: Consumer, tps: list[TopicPartition]) -> None:
                owned.update((tp.topic, tp.partition) for tp in tps)

            def on_revoke(_c: Consumer, tps: list[TopicPartition]) -> None:
                owned.difference_update((tp.topic, tp.partition) for tp in tps)

            consumer.subscribe([args.topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_revoke)
        else:
            assignment = _start_offsets(consumer, args, partitions)
            owned.update((tp.topic, tp.partition) for tp in assignment)
            consumer.assign(assignment)
        _loop(consumer, args, render, owned, at_end)
    finally:
        consumer.close()
    return 0


def _loop(
    consumer: Consumer,
    args: argparse.Namespace,
    render: Callable[[Record], bytes],
    owned: set[tuple[str, int]],
    at_end: set[tuple[str, int]],
) -> int:
    out = sys.stdout.buffer
    count, started = 0, time.monotonic()
    with _stop_on_signals() as stop:
        while not stop[0]:
            chunks: list[bytes] = []
            written: list[Message[Any, Any]] = []
            for message in consumer.consume(num_messages=BATCH, timeout=POLL_S):
                error = message.error()
                if error is not None:
                    _on_error(error, message, at_end)
                    continue
                chunks.append(render(to_record(message)))
                written.append(message)
                if args.count is not None and count + len(written) >= args.count:
                    stop[0] = True
                    break
            if chunks and not _write(out, b"".join(chunks)):
                break
            count += len(written)
            if args.group:
                for message in written:
                    consumer.store_offsets(message=message)
            if args.exit and owned and owned <= at_end:
                break
    if sys.stderr.isatty():
        elapsed = time.monotonic() - started
        print(f"consumed {count} records in {elapsed:.2f} s ({format_rate(count, elapsed)})", file=sys.stderr)
    return count


def _on_error(error: KafkaError, message: Message[Any, Any], at_end: set[tuple[str, int]]) -> None:
    if error.code() == KafkaError._PARTITION_EOF:
        at_end.add((str(message.topic()), int(message.partition() or 0)))
    elif error.fatal() or error.code() in TERMINAL:
        raise CliError(kafka_error_message(error, f"topic {message.topic()}"))
    else:
        print(f"odradek: warning: {kafka_error_message(error)}", file=sys.stderr, flush=True)


def _write(out: Any, data: bytes) -> bool:
    """Writes to stdout; False once the reader has gone away (broken pipe)."""
    try:
        out.write(data)
        out.flush()
        return True
    except BrokenPipeError:
        # Point stdout at /dev/null so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return False
