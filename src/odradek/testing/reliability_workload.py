"""The fault tests' clients: a producer that writes unique values at a steady rate and records what
it was told (`History`), and a reader that reads every partition back from its start.

    history = History()
    with ProducerWorkload(bootstrap, "t", partitions=3, history=history, acks="all") as work:
        ...                                   # inject faults while it writes
    read_back(bootstrap, "t", 3, history)
    report = check(history)

The producer (confluent-kafka, acks=all with idempotence unless acks says otherwise) writes
`Write(name-generation, seq)` to partition seq % partitions, `rate` per second, from its own thread.
A fatal producer error (an idempotent producer fenced or out of sequence) starts a new generation
under a new name, so sequence numbers stay per producer. `ack_times[p]` keeps the monotonic time of
each acknowledgement, to measure how long a partition could not be written. A write whose delivery
timed out (message.timeout.ms) is recorded as such (`History.time_out`): the checker reports the
duplicates the client makes after it apart.

The idempotent producer always runs with librdkafka's `debug=eos`, read by `ClientLog`: when
librdkafka bumps its epoch it says why, and a bump after an OUT_OF_ORDER_SEQUENCE_NUMBER that
followed a request the leader refused without appending it (librdkafka's "skipped sequence
numbers", issue #4953) is recorded with the writes still unacknowledged then (`History.epoch_bumped`):
their second copies are the client's, reported apart by the checker. Any other bump is recorded as
not excused.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from odradek.testing.reliability import History, Write

log = logging.getLogger("odradek.testing.reliability")
CLIENT_DEBUG_ENV = "ODRADEK_CHAOS_CLIENT_DEBUG"

NOT_APPENDED = frozenset(
    {
        "NOT_LEADER_FOR_PARTITION",
        "NOT_LEADER_OR_FOLLOWER",
        "NOT_ENOUGH_REPLICAS",
        "LEADER_NOT_AVAILABLE",
        "_RETRY",
    }
)
"""Produce errors a leader answers before it appends anything (librdkafka's names), and librdkafka's
local _RETRY for a request it took back from its output queue before sending a byte of it (when it
drains a partition after such an answer): after one, the request behind it legally meets
OUT_OF_ORDER_SEQUENCE_NUMBER (a sequence was skipped), Kafka included."""
SEQUENCE_GAP = "OUT_OF_ORDER_SEQUENCE_NUMBER"
_SKIPPED = re.compile(
    r"ProduceRequest for (.+) \[(\d+)\] with .*skipped sequence numbers"
    r" .*caused by previous failed request \((\w+),"
)
_BUMPED = "bumped epoch to "
_BUMP_BEGINS = "with in-flight requests: "


def skipped_sequence_cause(line: str) -> tuple[str, str] | None:
    """For librdkafka's ERRSEQ line (an OUT_OF_ORDER_SEQUENCE_NUMBER for a request whose base
    sequence is past the next one to acknowledge, which it answers by bumping its epoch): the
    partition ("topic [n]") and the error of its previous failed request. None for any other line."""
    found = _SKIPPED.search(line)
    return (f"{found.group(1)} [{found.group(2)}]", found.group(3)) if found else None


def legal_gaps(causes: list[tuple[str, str]]) -> bool:
    """Each partition's chain of skipped-sequence answers starts after a refusal before the append
    (the requests behind the first gap then meet the gap too: their previous failed request is the
    first one's OUT_OF_ORDER_SEQUENCE_NUMBER)."""
    first: dict[str, str] = {}
    for partition, cause in causes:
        first.setdefault(partition, cause)
        if cause not in NOT_APPENDED and cause != SEQUENCE_GAP:
            return False
    return bool(first) and all(cause in NOT_APPENDED for cause in first.values())


class ClientLog:
    """librdkafka's log (`logger`, served on `poll`, so on the producing thread): forwarded to the
    test log when ODRADEK_CHAOS_CLIENT_DEBUG asks for it, and read for epoch bumps and their causes."""

    def __init__(self, on_bump: Callable[[str, bool], None], forward: bool) -> None:
        self._on_bump = on_bump
        self._forward = forward
        self._causes: list[tuple[str, str]] = []
        self._reason = ""

    def log(self, level: int, fmt: str, *args: object) -> None:
        line = fmt % args if args else fmt
        if self._forward:
            log.log(level, "%s", line)
        cause = skipped_sequence_cause(line)
        if cause is not None:
            self._causes.append(cause)
        elif _BUMP_BEGINS in line:  # "Beginning partition drain ... epoch bump ... requests: <why>"
            self._reason = line.rsplit(_BUMP_BEGINS, 1)[-1]
        elif _BUMPED in line:
            causes, self._causes, reason, self._reason = self._causes, [], self._reason, ""
            what = f"{line.split(']: ', 1)[-1]} ({reason or 'no reason logged'}"
            if causes:
                what += ", after " + ", ".join(f"{p}: {c}" for p, c in dict.fromkeys(causes))
            self._on_bump(what + ")", legal_gaps(causes))


class ProducerWorkload:
    def __init__(
        self,
        bootstrap: str,
        topic: str,
        partitions: int,
        history: History,
        *,
        acks: str = "all",
        rate: float = 200.0,
        name: str = "p",
        message_timeout_ms: int = 60_000,
    ) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.partitions = partitions
        self.history = history
        self.acks = acks
        self.rate = rate
        self.name = name
        self.message_timeout_ms = message_timeout_ms
        self.ack_times: dict[int, list[float]] = defaultdict(list)
        self.acked_writes: dict[int, list[tuple[float, float]]] = defaultdict(list)
        """partition -> (when the write was handed to the client, when it was acknowledged)."""
        self.errors: dict[str, int] = defaultdict(int)
        self.unacknowledged: set[Write] = set()
        """Writes handed to the client and not answered yet (an idempotent producer's epoch bumps
        renumber these)."""
        self.generations = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._fatal = threading.Event()

    def _producer(self) -> Any:
        from confluent_kafka import Producer

        config: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap,
            "acks": self.acks,
            "enable.idempotence": self.acks == "all",
            "message.timeout.ms": self.message_timeout_ms,
            "linger.ms": 5,
            "topic.metadata.refresh.interval.ms": 1000,
            "error_cb": self._on_error,
            "log_level": 2,
        }
        debug = os.environ.get(CLIENT_DEBUG_ENV)
        if config["enable.idempotence"]:  # epoch bumps and why (ClientLog), and more when asked
            wanted = ",".join(["eos", *(d for d in (debug or "").split(",") if d and d != "eos")])
            client_log = ClientLog(self._epoch_bumped, forward=bool(debug))
            config.update({"debug": wanted, "log_level": 7, "logger": client_log})
        elif debug:  # librdkafka's own account, into the test's log
            config.update({"debug": debug, "log_level": 7, "logger": log})
        return Producer(config)

    def _epoch_bumped(self, reason: str, excused: bool) -> None:
        self.history.epoch_bumped(set(self.unacknowledged), reason, excused=excused)

    def _on_error(self, err: Any) -> None:
        self.errors[err.name()] += 1
        if err.fatal():
            self._fatal.set()

    def start(self) -> ProducerWorkload:
        self._thread = threading.Thread(target=self._run, name=f"workload-{self.name}", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        from confluent_kafka import KafkaException

        producer = self._producer()
        name = f"{self.name}-{self.generations}"
        seq = 0
        interval = 1.0 / self.rate
        next_at = time.monotonic()
        while not self._stop.is_set():
            try:
                producer, name, seq = self._step(producer, name, seq)
            except KafkaException as exc:  # a fatal state surfacing in produce/poll: next generation
                self.errors[exc.args[0].name()] += 1
                self._fatal.set()
                continue
            next_at += interval
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                next_at = time.monotonic()
        with contextlib.suppress(KafkaException):
            producer.flush(self.message_timeout_ms / 1000 + 5)

    def _step(self, producer: Any, name: str, seq: int) -> tuple[Any, str, int]:
        if self._fatal.is_set():
            with contextlib.suppress(Exception):
                producer.flush(5)
            self.unacknowledged.clear()  # the old producer's: a new producer's bumps never resend them
            self._fatal.clear()
            self.generations += 1
            producer, name, seq = self._producer(), f"{self.name}-{self.generations}", 0
        write = Write(name, seq)
        self.history.attempt(write)
        try:
            producer.produce(
                self.topic,
                value=write.encode(),
                partition=seq % self.partitions,
                on_delivery=self._delivered(write),
            )
        except BufferError:
            producer.poll(0.1)
            return producer, name, seq
        self.unacknowledged.add(write)
        producer.poll(0)
        return producer, name, seq + 1

    def _delivered(self, write: Write) -> Any:
        from confluent_kafka import KafkaError

        attempted_at = time.monotonic()

        def on_delivery(err: Any, msg: Any) -> None:
            self.unacknowledged.discard(write)
            if err is None:
                acked_at = time.monotonic()
                self.history.ack(write, msg.partition(), msg.offset())
                self.ack_times[msg.partition()].append(acked_at)
                self.acked_writes[msg.partition()].append((attempted_at, acked_at))
            else:
                self.errors[err.name()] += 1
                if err.code() == KafkaError._MSG_TIMED_OUT:  # maybe written, and later writes maybe twice
                    self.history.time_out(write, write.seq % self.partitions)

        return on_delivery

    def first_ack_after(self, partition: int, moment: float) -> float | None:
        return next((t for t in self.ack_times[partition] if t > moment), None)

    def first_ack_of_a_write_after(self, partition: int, moment: float) -> float | None:
        """When a write handed to the client after `moment` was first acknowledged: unlike
        `first_ack_after`, an answer to a request already in flight at `moment` does not count."""
        return min(
            (acked for attempted, acked in list(self.acked_writes[partition]) if attempted > moment),
            default=None,
        )

    def acknowledged_writes_after(self, moment: float) -> list[tuple[float, float]]:
        """(handed to the client, acknowledged) of every write handed to the client after `moment`."""
        return [
            (attempted, acked)
            for p in range(self.partitions)
            for attempted, acked in list(self.acked_writes[p])
            if attempted > moment
        ]

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.message_timeout_ms / 1000 + 30)

    def __enter__(self) -> ProducerWorkload:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def read_back(bootstrap: str, topic: str, partitions: int, history: History, timeout: float = 60.0) -> None:
    """Read every partition from its start up to its high watermark into `history`."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    def consumer() -> Any:
        return Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"reliability-{topic}",
                "enable.auto.commit": False,
                "enable.partition.eof": True,
                "auto.offset.reset": "earliest",
            }
        )

    deadline = time.monotonic() + timeout
    ends = {
        p: _high_watermark(consumer, TopicPartition(topic, p), deadline, bootstrap) for p in range(partitions)
    }
    reader = consumer()
    try:
        reader.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
        position = dict.fromkeys(range(partitions), -1)
        while any(position[p] + 1 < ends[p] for p in range(partitions)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"read {position} of {ends} within {timeout:g} s")
            msg = reader.poll(0.5)
            if msg is None or msg.error() is not None:  # end of a partition, a broker moving: poll on
                continue
            partition, offset = msg.partition(), msg.offset()
            assert partition is not None and offset is not None
            history.read(partition, offset, msg.value())
            position[partition] = max(position[partition], offset)
    finally:
        reader.close()


def _high_watermark(consumer: Callable[[], Any], partition: Any, deadline: float, bootstrap: str) -> int:
    """The partition's high watermark, asked again (of a new client) while the cluster's metadata is
    still settling after the faults, until `deadline`. A new client each time: librdkafka keeps an
    "Unknown partition" it once concluded (e.g. from a Metadata answer given while the brokers were
    registering again after their ZooKeeper sessions expired, which lists only some brokers) and
    never asks again. The first failure logs what every broker's Metadata says of the topic."""
    from confluent_kafka import KafkaException

    logged = False
    while True:
        client = consumer()
        try:
            return int(client.get_watermark_offsets(partition, timeout=10)[1])
        except KafkaException as exc:
            if not logged:
                logged = True
                log.warning("%s [%d]: %s; the brokers say:", partition.topic, partition.partition, exc)
                for line in describe_topic_everywhere(bootstrap, partition.topic):
                    log.warning("  %s", line)
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
        finally:
            client.close()


def describe_topic_everywhere(bootstrap: str, topic: str) -> list[str]:
    """Each broker's own Metadata answer for `topic` (live brokers, controller, per partition: error,
    leader, ISR), asked directly of each bootstrap address."""
    from odradek.protocol.api_keys import ApiKey
    from odradek.protocol.messages import metadata as metadata_msg
    from odradek.testing.raw_client import RawClient

    request = metadata_msg.MetadataRequest(
        topics=[metadata_msg.MetadataRequestTopic(name=topic)], allow_auto_topic_creation=False
    )
    lines = []
    for address in bootstrap.split(","):
        try:
            with RawClient.connect(address, timeout=10) as client:
                response = client.call(ApiKey.METADATA, 12, request)
        except Exception as exc:  # a diagnostic: never the reason a test fails
            lines.append(f"{address}: {exc!r}")
            continue
        brokers = sorted(b.node_id for b in response.brokers)
        for t in response.topics:
            parts = [(p.partition_index, p.error_code, p.leader_id, list(p.isr_nodes)) for p in t.partitions]
            lines.append(
                f"{address}: brokers {brokers} controller {response.controller_id} topic error "
                f"{t.error_code} (partition, error, leader, isr) {parts}"
            )
    return lines
