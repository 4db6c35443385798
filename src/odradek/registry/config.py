"""The registry's configuration, with Confluent Schema Registry's names where one exists.

- `kafkastore.bootstrap.servers`: default: (required; `--bootstrap`); meaning: the Kafka cluster holding
  `_schemas`
- `kafkastore.topic`: default: `_schemas`; meaning: the topic (created compacted, one partition, if missing)
- `kafkastore.topic.replication.factor`: default: `3` (capped by the brokers available); meaning:
  replication of a newly created topic
- `kafkastore.timeout.ms`: default: `5000`; meaning: how long a write or a read-to-end waits
- `kafkastore.init.timeout.ms`: default: `60000`; meaning: how long start-up waits for the topic
- `listeners`: default: `http://0.0.0.0:8081`; meaning: where to serve (`--listen`)
- `host.name`: default: the listener's host; meaning: the host other instances forward writes to
- `leader.eligibility`: default: `true`; meaning: may this instance become the primary
- `schema.registry.group.id`: default: `schema-registry`; meaning: the consumer group that elects the
  primary
- `schema.compatibility.level`: default: `BACKWARD`; meaning: compatibility when neither subject nor global
  config says
- `schema.max.bytes`: default: `1048576`; meaning: largest schema text accepted (42209 above)
- `request.timeout.ms`: default: `30000`; meaning: longest request (answered 50002 after)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from odradek.registry.model import CompatibilityLevel

DEFAULTS: dict[str, str] = {
    "kafkastore.topic": "_schemas",
    "kafkastore.topic.replication.factor": "3",
    "kafkastore.timeout.ms": "5000",
    "kafkastore.init.timeout.ms": "60000",
    "listeners": "http://0.0.0.0:8081",
    "leader.eligibility": "true",
    "schema.registry.group.id": "schema-registry",
    "schema.compatibility.level": "BACKWARD",
    "schema.max.bytes": "1048576",
    "request.timeout.ms": "30000",
}


@dataclass(frozen=True, slots=True)
class RegistryConfig:
    bootstrap: str
    topic: str
    replication_factor: int
    timeout_s: float
    init_timeout_s: float
    listeners: str
    host_name: str | None
    leader_eligible: bool
    group_id: str
    compatibility: CompatibilityLevel
    max_schema_bytes: int
    request_timeout_s: float
    kafka: dict[str, str]

    @classmethod
    def from_properties(cls, properties: Mapping[str, str]) -> RegistryConfig:
        props = {**DEFAULTS, **properties}
        bootstrap = props.get("kafkastore.bootstrap.servers", "")
        if not bootstrap:
            raise ValueError("kafkastore.bootstrap.servers (--bootstrap) is required")
        bootstrap = ",".join(b.split("://", 1)[-1] for b in bootstrap.split(","))
        try:
            level = CompatibilityLevel(props["schema.compatibility.level"].upper())
        except ValueError as exc:
            raise ValueError(f"schema.compatibility.level: {props['schema.compatibility.level']!r}") from exc
        return cls(
            bootstrap=bootstrap,
            topic=props["kafkastore.topic"],
            replication_factor=int(props["kafkastore.topic.replication.factor"]),
            timeout_s=int(props["kafkastore.timeout.ms"]) / 1000,
            init_timeout_s=int(props["kafkastore.init.timeout.ms"]) / 1000,
            listeners=props["listeners"].split(",")[0],
            host_name=props.get("host.name") or None,
            leader_eligible=props["leader.eligibility"].strip().lower() == "true",
            group_id=props["schema.registry.group.id"],
            compatibility=level,
            max_schema_bytes=int(props["schema.max.bytes"]),
            request_timeout_s=int(props["request.timeout.ms"]) / 1000,
            # any kafkastore.* client setting passes through to librdkafka (security, say)
            kafka={
                k.removeprefix("kafkastore."): v
                for k, v in props.items()
                if k.startswith("kafkastore.")
                and k.removeprefix("kafkastore.") not in _OWN
                and "." in k.removeprefix("kafkastore.")
            },
        )


_OWN = {"bootstrap.servers", "topic", "topic.replication.factor", "timeout.ms", "init.timeout.ms"}
