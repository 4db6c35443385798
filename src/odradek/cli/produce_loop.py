"""The `produce` shell: stdin -> RecordReader -> confluent_kafka.Producer, with delivery accounting.

Reading stops at end of input, on an input format error or on SIGINT; whatever was queued is
then flushed, a summary line goes to stderr, and the exit code says whether every record was
delivered (0), some were not (1, with the count per Kafka error), or the run was interrupted (130).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message

from odradek.cli.clients import make_producer, wait_for_metadata
from odradek.cli.errors import CliError, error_name
from odradek.cli.progress import ProgressMeter
from odradek.cli.record import Record
from odradek.cli.record_format import FormatError, key_value_format, parse_format
from odradek.cli.record_input import InputFormatError, RecordReader

READ_SIZE = 1 << 16


class Deliveries:
    """The producer's delivery callback: counts successes and failures by error name."""

    def __init__(self) -> None:
        self.delivered = 0
        self.failed: Counter[str] = Counter()

    def __call__(self, error: KafkaError | None, _message: Message[Any, Any]) -> None:
        if error is None:
            self.delivered += 1
        else:
            self.failed[error.name()] += 1

    def refused(self, exc: KafkaException) -> None:
        self.failed[error_name(exc) or type(exc).__name__] += 1


class Progress:
    """Progress lines on stderr: rewritten in place on a TTY, one per line otherwise."""

    def __init__(self, enabled: bool) -> None:
        self._tty = sys.stderr.isatty()
        self._enabled = enabled or self._tty
        self.meter = ProgressMeter("produced", time.monotonic())

    def tick(self, count: int) -> None:
        if self._enabled and (line := self.meter.tick(count, time.monotonic())) is not None:
            sys.stderr.write(f"\r{line}\x1b[K" if self._tty else f"{line}\n")
            sys.stderr.flush()

    def summary(self, count: int) -> None:
        prefix = "\r\x1b[K" if self._enabled and self._tty else ""
        print(prefix + self.meter.summary(count, time.monotonic()), file=sys.stderr, flush=True)


def _reader(args: argparse.Namespace) -> RecordReader:
    try:
        elements = parse_format(args.format) if args.format else key_value_format(args.key_delimiter)
        marker = None if args.null_value_marker is None else args.null_value_marker.encode()
        return RecordReader(elements, marker)
    except (FormatError, InputFormatError) as exc:
        raise CliError(str(exc), exit_code=2) from exc


def produce_stream(args: argparse.Namespace) -> int:
    reader = _reader(args)
    if args.idempotent and args.acks != "all":
        raise CliError("--idempotent needs --acks all", exit_code=2)
    flags: dict[str, str | int | float | bool] = {
        "acks": args.acks,
        "compression.type": args.compression,
        "enable.idempotence": args.idempotent,
    }
    producer, watch = make_producer(args, flags=flags)
    wait_for_metadata(producer, watch, args.topic, args.timeout)
    constant_headers = [(k, v.encode()) for k, v in args.header]
    deliveries = Deliveries()
    progress = Progress(args.progress)

    def send(record: Record) -> None:
        options: dict[str, Any] = {"key": record.key, "value": record.value, "on_delivery": deliveries}
        if headers := [*record.headers, *constant_headers]:
            options["headers"] = headers
        partition = args.partition if record.partition is None else record.partition
        if partition is not None:
            options["partition"] = partition
        if record.timestamp is not None:
            options["timestamp"] = record.timestamp
        while True:
            try:
                producer.produce(args.topic, **options)
                break
            except BufferError:  # the local queue is full: wait for deliveries to make room
                producer.poll(0.1)
            except KafkaException as exc:  # refused before sending (unknown partition, too large...)
                deliveries.refused(exc)
                break
        producer.poll(0)

    input_error: InputFormatError | None = None
    interrupted = False
    # read1: whatever is available, so records go out as lines arrive rather than per 64 KiB.
    read: Callable[[int], bytes] = getattr(sys.stdin.buffer, "read1", sys.stdin.buffer.read)
    try:
        while data := read(READ_SIZE):
            for record in reader.feed(data):
                send(record)
            progress.tick(deliveries.delivered)
        for record in reader.finish():
            send(record)
    except InputFormatError as exc:
        input_error = exc
    except KeyboardInterrupt:
        interrupted = True
    while producer.flush(0.5) > 0:
        progress.tick(deliveries.delivered)
    progress.summary(deliveries.delivered)

    if deliveries.failed:
        total = deliveries.delivered + sum(deliveries.failed.values())
        causes = ", ".join(f"{name} ({n})" for name, n in deliveries.failed.most_common())
        raise CliError(f"{sum(deliveries.failed.values())} of {total} records were not delivered: {causes}")
    if input_error is not None:
        raise CliError(f"input: {input_error}")
    return 130 if interrupted else 0
