"""The command topic shell: write commands, and apply every command of the topic in order.

`CommandLog` owns one idempotent producer and one consumer thread (no consumer group: the single
partition is assigned from the beginning). The thread hands each command to `apply(command, seq)`
and records its status; `submit` writes a command and waits until this server has applied it, so
`/ksql` answers after the statement took effect here. A second server with the same service id
reads the same topic and converges on the same metastore and queries (format: engine/commands.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from odradek.sql.engine.commands import Command, CommandStatus
from odradek.sql.errors import COMMAND_QUEUE_CATCHUP_TIMEOUT, KsqlError

log = logging.getLogger(__name__)


@dataclass
class Status:
    status: str
    message: str
    query_id: str | None = None
    error: KsqlError | None = None


class CommandLog:
    def __init__(
        self,
        bootstrap: str,
        topic: str,
        apply: Callable[[Command, int], tuple[str, str | None]],
        client_config: dict[str, Any] | None = None,
    ) -> None:
        self.topic = topic
        self.apply = apply
        self.config = {"bootstrap.servers": bootstrap, **(client_config or {})}
        self.statuses: dict[str, Status] = {}
        self.by_offset: dict[int, Status] = {}
        self.applied = -1  # offset of the last command applied here
        self.caught_up = threading.Event()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._producer: Producer | None = None

    def start(self) -> None:
        self._ensure_topic()
        self._producer = Producer({**self.config, "enable.idempotence": True, "acks": "all"})
        self._thread = threading.Thread(target=self._run, name="ksql-command-runner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        if self._producer is not None:
            self._producer.flush(5)

    def _ensure_topic(self) -> None:
        admin = AdminClient(self.config)
        if self.topic in admin.list_topics(timeout=10).topics:
            return
        futures = admin.create_topics(
            [
                NewTopic(
                    self.topic,
                    num_partitions=1,
                    replication_factor=-1,
                    config={"retention.ms": "-1", "min.insync.replicas": "1"},
                )
            ],
            operation_timeout=30,
        )
        for f in futures.values():
            try:
                f.result()
            except KafkaException as e:
                if e.args[0].name() != "TOPIC_ALREADY_EXISTS":
                    raise

    # -- writing ---------------------------------------------------------------------------------------------

    def submit(self, command: Command, timeout_s: float = 60.0) -> tuple[int, Status]:
        """Write `command`; return its sequence number and status once applied here."""
        assert self._producer is not None
        result: dict[str, Any] = {}
        done = threading.Event()

        def delivered(err: Any, msg: Any) -> None:
            result["err"], result["offset"] = err, None if err else msg.offset()
            done.set()

        self._producer.produce(
            self.topic, key=command.key_bytes(), value=command.value_bytes(), on_delivery=delivered
        )
        self._producer.flush(timeout_s)
        if not done.wait(timeout_s) or result.get("err") is not None:
            raise KsqlError(
                f"Could not write the statement to the command topic: {result.get('err')}", error_code=50000
            )
        offset = int(result["offset"])
        if not self.wait_for(offset, timeout_s):
            raise KsqlError(
                f"Timeout while waiting for command sequence number {offset} to be applied",
                error_code=COMMAND_QUEUE_CATCHUP_TIMEOUT,
            )
        return offset, self.by_offset[offset]

    def wait_for(self, sequence: int, timeout_s: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.applied >= sequence, timeout_s)

    # -- the runner ------------------------------------------------------------------------------------------

    def _run(self) -> None:
        consumer = Consumer(
            {
                **self.config,
                "group.id": f"{self.topic}-runner",  # required by librdkafka; offsets are never committed
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
                "enable.partition.eof": True,
            }
        )
        consumer.assign([TopicPartition(self.topic, 0, OFFSET_BEGINNING)])
        try:
            while not self._stop.is_set():
                msg = consumer.poll(0.2)
                if msg is None:
                    continue
                err = msg.error()
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:  # replay finished
                        self.caught_up.set()
                        continue
                    log.warning("command topic: %s", err)
                    continue
                self._handle(msg.key(), msg.value(), msg.offset() or 0)
        finally:
            consumer.close()

    def _handle(self, key: bytes | None, value: bytes | None, offset: int) -> None:
        status: Status
        try:
            command = Command.from_record(key or b"", value or b"")
        except (ValueError, TypeError) as e:
            log.error("skipping an unreadable command at offset %d: %s", offset, e)
            status = Status(CommandStatus.ERROR, f"unreadable command: {e}")
        else:
            try:
                message, query_id = self.apply(command, offset)
                status = Status(CommandStatus.SUCCESS, message, query_id)
            except KsqlError as e:
                log.warning("command %s at offset %d failed: %s", command.command_id, offset, e)
                status = Status(CommandStatus.ERROR, e.message, error=e)
            except Exception as e:
                log.exception("command %s at offset %d failed", command.command_id, offset)
                status = Status(CommandStatus.ERROR, str(e), error=KsqlError(str(e), error_code=50000))
            self.statuses[str(command.command_id)] = status
        with self._cond:
            self.by_offset[offset] = status
            self.applied = offset
            self._cond.notify_all()
