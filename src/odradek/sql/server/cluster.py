"""The SQL server's view of the Kafka cluster: topics, partitions, producing (confluent-kafka, D6).

`Cluster` implements the engine's `KafkaView` (what the pure engine may ask) and performs the
engine's effects (create and delete topics). Every call is blocking; the server calls them from
worker threads, never on its event loop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from odradek.sql.engine.engine import TopicSpec
from odradek.sql.schema import Column

log = logging.getLogger(__name__)


CLIENT_SECURITY_PREFIXES = ("security.protocol", "sasl.", "ssl.")


def split_client_settings(properties: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The server's properties split into the Kafka client security settings every client of the
    server takes (librdkafka names, as ``odradek dev --secure`` hands them out: ``security.protocol``,
    ``sasl.*``, ``ssl.*``, also accepted with ksqlDB's ``ksql.streams.`` prefix) and the rest, so
    credentials never show in SHOW PROPERTIES or in a query's properties."""
    client: dict[str, str] = {}
    rest: dict[str, str] = {}
    for name, value in properties.items():
        bare = name.removeprefix("ksql.streams.")
        if bare.startswith(CLIENT_SECURITY_PREFIXES):
            client[bare] = value
        else:
            rest[name] = value
    return client, rest


class Cluster:
    def __init__(self, bootstrap: str, client_config: Mapping[str, Any] | None = None) -> None:
        self.bootstrap = bootstrap
        self.client = dict(client_config or {})
        """Settings every Kafka client of the server takes (security), without bootstrap.servers."""
        self.config = {"bootstrap.servers": bootstrap, **self.client}
        self.admin = AdminClient(self.config)
        self._producer: Producer | None = None
        self._lock = threading.Lock()

    # -- KafkaView ---------------------------------------------------------------------------------------

    def partitions(self, topic: str) -> int | None:
        md = self.admin.list_topics(topic=topic, timeout=10)
        t = md.topics.get(topic)
        if t is None or t.error is not None:
            return None
        return len(t.partitions)

    def topics(self) -> list[tuple[str, int, int]]:
        md = self.admin.list_topics(timeout=10)
        out = []
        for name, t in sorted(md.topics.items()):
            if t.error is None:
                replicas = len(next(iter(t.partitions.values())).replicas) if t.partitions else 1
                out.append((name, len(t.partitions), replicas))
        return out

    def infer_schema(
        self, topic: str, value_format: str, key: bool, schema_id: int | None
    ) -> list[Column] | None:
        return None  # schema-registry inference: not wired yet (see the README's SQL section)

    def cluster_id(self) -> str:
        try:
            return str(self.admin.list_topics(timeout=5).cluster_id or "")
        except KafkaException:
            return ""

    def reachable(self) -> bool:
        try:
            self.admin.list_topics(timeout=2)
        except KafkaException:
            return False
        return True

    # -- effects -----------------------------------------------------------------------------------------------

    def create_topic(self, spec: TopicSpec) -> None:
        futures = self.admin.create_topics(
            [
                NewTopic(
                    spec.name,
                    num_partitions=spec.partitions,
                    replication_factor=spec.replicas,
                    config=dict(spec.config),
                )
            ],
            operation_timeout=30,
        )
        for future in futures.values():
            try:
                future.result()
            except KafkaException as e:
                if e.args[0].name() != "TOPIC_ALREADY_EXISTS":
                    raise

    def delete_topic(self, name: str) -> None:
        for future in self.admin.delete_topics([name], operation_timeout=30).values():
            try:
                future.result()
            except KafkaException as e:
                if e.args[0].name() != "UNKNOWN_TOPIC_OR_PART":
                    raise

    def delete_topics_with_prefix(self, prefix: str) -> None:
        names = [n for n, _, _ in self.topics() if n.startswith(prefix)]
        for name in names:
            self.delete_topic(name)

    # -- producing ---------------------------------------------------------------------------------------------

    @property
    def producer(self) -> Producer:
        with self._lock:
            if self._producer is None:
                self._producer = Producer({**self.config, "enable.idempotence": True, "linger.ms": 5})
            return self._producer

    def produce(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        timestamp: int | None = None,
        headers: Any = None,
    ) -> None:
        """Produce one record and wait for its acknowledgement (raises on failure)."""
        errors: list[Any] = []

        def delivered(err: Any, _msg: Any) -> None:
            if err is not None:
                errors.append(err)

        kwargs: dict[str, Any] = {"key": key, "value": value, "on_delivery": delivered}
        if timestamp:
            kwargs["timestamp"] = timestamp
        if headers:
            kwargs["headers"] = headers
        self.producer.produce(topic, **kwargs)
        self.producer.flush(30)
        if errors:
            raise KafkaException(errors[0])

    def close(self) -> None:
        if self._producer is not None:
            self._producer.flush(5)
