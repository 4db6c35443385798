"""The CLI's shell over confluent-kafka: clients built from the common flags, and admin results awaited
with a deadline and one-line errors.

librdkafka reports connection trouble through `error_cb` rather than by failing requests, so every
client gets an `ErrorWatch`; admin waits give up early when all brokers are down instead of running
into the timeout, and the timeout message names the last connection error seen.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import logging
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from odradek.cli.client_options import Config, client_config
from odradek.cli.errors import CliError, cli_error, kafka_error_message
from odradek.model.topic_partition import TopicPartition as TP

K = TypeVar("K")

# librdkafka errors after which no admin request can succeed.
HOPELESS = frozenset({KafkaError._ALL_BROKERS_DOWN, KafkaError._AUTHENTICATION, KafkaError._SSL})


class ErrorWatch:
    """The client's `error_cb`: remembers the last error, warns once per error kind if asked."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.last: KafkaError | None = None
        self.hopeless: KafkaError | None = None
        # Off until the cluster has answered once: before that, failing fast says it better.
        self.warn = False
        self._warned: set[int] = set()

    def __call__(self, error: KafkaError) -> None:
        if error.code() in HOPELESS or error.fatal():
            self.hopeless = error
        else:
            self.last = error
        if self.warn and error.code() not in self._warned:
            self._warned.add(error.code())
            print(f"odradek: warning: {kafka_error_message(error)}", file=sys.stderr, flush=True)

    def explain(self) -> str:
        error = self.last or self.hopeless
        return f" (last error: {error.str()})" if error is not None else ""

    def hopeless_error(self) -> CliError | None:
        if self.hopeless is None:
            return None
        if self.hopeless.code() != KafkaError._ALL_BROKERS_DOWN:
            return CliError(kafka_error_message(self.hopeless))
        detail = f" (last error: {self.last.str()})" if self.last is not None else ""
        return CliError(f"{self.hopeless.name()}: cannot reach {self.bootstrap}{detail}")


def _config(args: argparse.Namespace, watch: ErrorWatch, flags: Config | None) -> Config:
    verbose = logging.getLogger().isEnabledFor(logging.DEBUG)
    config = client_config(
        args.bootstrap_server,
        args.properties,
        flags=flags,
        verbose=verbose,
        command_config=getattr(args, "command_config", None),
    )
    config["error_cb"] = watch  # type: ignore[assignment]  # librdkafka takes callables in the same dict
    return config


def make_producer(args: argparse.Namespace, flags: Config) -> tuple[Producer, ErrorWatch]:
    watch = ErrorWatch(args.bootstrap_server)
    return Producer(_config(args, watch, flags)), watch


def make_consumer(args: argparse.Namespace, flags: Config) -> tuple[Consumer, ErrorWatch]:
    watch = ErrorWatch(args.bootstrap_server)
    return Consumer(_config(args, watch, flags)), watch


def wait_for_metadata(client: Producer | Consumer, watch: ErrorWatch, topic: str, timeout: float) -> Any:
    """Topic metadata through a producer or consumer, failing fast when no broker is reachable
    (a single metadata call would block for the whole timeout without saying why)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            metadata = client.list_topics(topic, timeout=0.5)
            watch.warn = True
            return metadata
        except KafkaException as exc:
            client.poll(0)  # serves error_cb; called before any assignment, so no record is lost
            if (error := watch.hopeless_error()) is not None:
                raise error from exc
            if time.monotonic() > deadline:
                raise cli_error(exc, f"topic {topic}") from exc


class Admin:
    """An AdminClient plus the waiting discipline every admin command shares."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.timeout: float = args.timeout
        self.watch = ErrorWatch(args.bootstrap_server)
        self.client = AdminClient(_config(args, self.watch, None))

    @property
    def options(self) -> dict[str, Any]:
        """Keyword arguments for admin calls: the broker-side deadline."""
        return {"request_timeout": self.timeout}

    def _wait(self, futures: Iterable[concurrent.futures.Future[Any]]) -> None:
        pending = set(futures)
        deadline = time.monotonic() + self.timeout + 1.0
        while pending:
            _, pending = concurrent.futures.wait(pending, timeout=0.1)
            self.client.poll(0)
            if (error := self.watch.hopeless_error()) is not None:
                raise error
            if pending and time.monotonic() > deadline:
                waited = f"within {self.timeout:g} s{self.watch.explain()}"
                raise CliError(f"_TIMED_OUT: no answer from {self.watch.bootstrap} {waited}")

    def result(self, future: concurrent.futures.Future[Any], context: str = "") -> Any:
        """The future's result, or a CliError naming the Kafka error."""
        self._wait([future])
        try:
            return future.result()
        except Exception as exc:
            raise cli_error(exc, context) from exc

    def gather(self, futures: Mapping[K, concurrent.futures.Future[Any]]) -> dict[K, Any]:
        """Every future's result, or the exception it raised (for per-item error handling)."""
        self._wait(futures.values())
        outcomes: dict[K, Any] = {}
        for key, future in futures.items():
            try:
                outcomes[key] = future.result()
            except Exception as exc:
                outcomes[key] = exc
        return outcomes

    def results(
        self, futures: Mapping[K, concurrent.futures.Future[Any]], describe: Callable[[K], str]
    ) -> dict[K, Any]:
        """Every future's result; the first failure becomes a CliError."""
        outcomes = self.gather(futures)
        for key, outcome in outcomes.items():
            if isinstance(outcome, Exception):
                raise cli_error(outcome, describe(key))
        return outcomes

    def list_topics(self) -> Any:
        """Cluster metadata for every topic. The metadata call blocks without reporting connection
        errors, so a DescribeCluster round trip first makes an unreachable cluster fail fast."""
        self.result(self.client.describe_cluster(**self.options))
        return kafka_call(lambda: self.client.list_topics(timeout=self.timeout))

    def _list_offsets(self, partitions: Iterable[TP], spec: Any) -> dict[TP, int]:
        request = {TopicPartition(tp.topic, tp.partition): spec for tp in partitions}
        if not request:
            return {}
        futures = self.client.list_offsets(request, **self.options)
        found = self.results(futures, lambda tp: f"{tp.topic}-{tp.partition}")
        return {TP(tp.topic, tp.partition): info.offset for tp, info in found.items()}

    # OffsetSpec's constructors are untyped in confluent-kafka, hence the ignores.
    def log_start_offsets(self, partitions: Iterable[TP]) -> dict[TP, int]:
        return self._list_offsets(partitions, OffsetSpec.earliest())  # type: ignore[no-untyped-call]

    def log_end_offsets(self, partitions: Iterable[TP]) -> dict[TP, int]:
        return self._list_offsets(partitions, OffsetSpec.latest())  # type: ignore[no-untyped-call]

    def offsets_for_time(self, partitions: Iterable[TP], timestamp_ms: int) -> dict[TP, int | None]:
        """The first offset at or after the timestamp per partition; None where no record is that recent."""
        spec = OffsetSpec.for_timestamp(timestamp_ms)
        return {tp: (o if o >= 0 else None) for tp, o in self._list_offsets(partitions, spec).items()}

    def watermarks(self, partitions: Iterable[TP]) -> tuple[dict[TP, int], dict[TP, int]]:
        """(log start offsets, log end offsets) of the partitions."""
        wanted = list(partitions)
        return self.log_start_offsets(wanted), self.log_end_offsets(wanted)


def kafka_call(call: Callable[[], K], context: str = "") -> K:
    """Runs a blocking confluent-kafka call, turning its KafkaException into a CliError."""
    try:
        return call()
    except KafkaException as exc:
        raise cli_error(exc, context) from exc
