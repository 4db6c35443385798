"""The SQL server's view of the Kafka cluster: topics, partitions, producing (confluent-kafka, D6).

`Cluster` implements the engine's `KafkaView` (what the pure engine may ask) and performs the
engine's effects (create and delete topics). Every call is blocking; the server calls them from
worker threads, never on its event loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka.schema_registry.error import SchemaRegistryError

from odradek.sql.compiler.registry_schemas import UnsupportedSchema
from odradek.sql.compiler.registry_serdes import SchemaRegistry
from odradek.sql.engine.engine import TopicSpec
from odradek.sql.errors import KsqlExecutionError
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
    def __init__(
        self,
        bootstrap: str,
        client_config: Mapping[str, Any] | None = None,
        registry: SchemaRegistry | None = None,
    ) -> None:
        self.bootstrap = bootstrap
        self.client = dict(client_config or {})
        """Settings every Kafka client of the server takes (security), without bootstrap.servers."""
        self.config = {"bootstrap.servers": bootstrap, **self.client}
        # a metadata request for one topic must not create it (librdkafka's admin client is a
        # producer handle, which would ask the broker to auto-create: a later CREATE STREAM with
        # PARTITIONS=2 then met a 1-partition topic)
        self.admin = AdminClient({**self.config, "allow.auto.create.topics": False})
        self.registry = registry  # ksql.schema.registry.url: AVRO, PROTOBUF, JSON_SR and ASSERT SCHEMA
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
        """The key or value columns of the topic's registered schema (raises when there is none)."""
        what = "keys" if key else "values"
        if self.registry is None:
            raise KsqlExecutionError(
                f"Cannot infer the schema of the {what} of '{topic}': the {value_format} format needs a "
                "schema registry (ksql.schema.registry.url)"
            )
        subject = f"{topic}-{'key' if key else 'value'}"
        try:
            return self.registry.infer(topic, value_format, key, schema_id)
        except UnsupportedSchema as e:
            raise KsqlExecutionError(f"Unable to use the schema of the {what} of '{topic}': {e}") from None
        except SchemaRegistryError as e:
            if e.http_status_code == 404:
                where = f"Subject: {subject}" if schema_id is None else f"Schema id: {schema_id}"
                raise KsqlExecutionError(
                    f"Schema for message {what} on topic '{topic}' does not exist in the Schema Registry.{where}"
                ) from None
            raise KsqlExecutionError(f"Schema registry error for {subject}: {e}") from None
        except Exception as e:
            raise KsqlExecutionError(f"Schema registry unreachable ({self.registry.url}): {e}") from None

    def schema_exists(
        self, subject: str | None, schema_id: int | None, timeout_ms: int = 0, want: bool = True
    ) -> bool:
        """ASSERT SCHEMA: whether the subject (and/or id) is registered, polled for up to `timeout_ms`
        until the answer is `want`."""
        if self.registry is None:
            raise KsqlExecutionError("ASSERT SCHEMA needs a schema registry (ksql.schema.registry.url)")
        registry = self.registry
        deadline = time.monotonic() + timeout_ms / 1000

        def exists() -> bool:
            try:
                if subject is None:
                    return schema_id is not None and registry.id_exists(schema_id)
                if schema_id is None:
                    return registry.subject_exists(subject)
                return registry.subject_has_id(subject, schema_id)
            except SchemaRegistryError:
                return False

        while True:
            found = exists()
            if found == want or time.monotonic() >= deadline:
                return found
            time.sleep(0.2)

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
        if self.registry is not None:
            self.registry.close()
