"""The REST proxy's configuration: one table of names, defaults and meanings.

Names follow Confluent's REST Proxy where it has one (``consumer.request.timeout.ms``,
``consumer.instance.timeout.ms``, ``schema.registry.url``); the rest are odradek's own, each with
the limit it puts on memory or time. Values come from ``odradek rest-proxy`` flags, a properties
file (``-c``) and ``--override NAME=VALUE``; `RestConfig.from_properties` checks every value and
names the bad one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    default: int | str
    doc: str
    minimum: int = 0


SETTINGS: tuple[Setting, ...] = (
    Setting("bootstrap.servers", "127.0.0.1:9092", "Kafka bootstrap servers (HOST:PORT, comma-separated)"),
    Setting("listeners", "127.0.0.1:8082", "where the proxy listens (HOST:PORT or http://HOST:PORT)"),
    Setting("schema.registry.url", "", "Confluent-compatible schema registry for AVRO/JSONSCHEMA/PROTOBUF"),
    Setting("max.request.bytes", 16 * MIB, "largest request body (413 above it; nothing read past it)", 1),
    Setting("request.timeout.ms", 30_000, "longest time one request may take (408 if its body is late)", 1),
    Setting(
        "stream.idle.timeout.ms", 30_000, "longest wait for the next chunk of a streamed request body", 1
    ),
    Setting("stream.max.record.bytes", 2 * MIB, "largest single record in a streamed produce request", 1),
    Setting("stream.max.inflight.records", 10_000, "records of one produce stream awaiting delivery", 1),
    Setting("producer.buffer.kbytes", 64 * KIB, "memory the shared producer may queue (librdkafka)", 1),
    Setting("producer.linger.ms", 5, "how long the producer waits to fill a batch"),
    Setting("consumer.request.timeout.ms", 1_000, "default wait of a records request with no records yet"),
    Setting("consumer.request.max.bytes", 8 * MIB, "most record bytes one records request returns", 1),
    Setting("consumer.instance.timeout.ms", 300_000, "an idle v2 consumer instance is closed after this", 1),
    Setting("consumer.max.instances", 1_000, "most consumers (v2 instances and v3 leases) held at once", 1),
    Setting("consumer.buffer.kbytes", 1_024, "prefetched bytes per consumer (librdkafka queue)", 1),
    Setting("consumer.threads", 32, "threads running blocking consumer calls", 1),
    Setting(
        "consumer.session.timeout.ms", 45_000, "v3 group consume lease: a lost proxy frees it after this", 1
    ),
    Setting("consumer.lease.idle.ms", 60_000, "a v3 lease unused this long is closed on this instance", 1),
    Setting("consumer.commit.interval.ms", 1_000, "streaming consume commits what it sent this often", 1),
    Setting("fetch.pool.size", 4, "consumers kept for stateless offset-addressed fetches", 1),
    Setting(
        "idempotency.topic", "_odradek_rest_idempotency", "compacted topic keeping produce idempotency keys"
    ),
    Setting("idempotency.partitions", 16, "partitions (and fencing buckets) of the idempotency topic", 1),
    Setting("idempotency.retention.ms", 86_400_000, "how long an idempotency key is remembered", 1),
    Setting("idempotency.max.keys", 1_000_000, "idempotency keys remembered in memory per instance", 1),
    Setting("idempotency.producers", 4, "transactional producers (buckets) one instance holds at once", 1),
    Setting(
        "authentication.method",
        "NONE",
        "NONE, or BASIC: HTTP Basic credentials become the user's SASL credentials (client.sasl.mechanism) "
        "for Kafka clients of its own, so broker ACLs apply per HTTP user",
    ),
    Setting("authentication.realm", "KafkaRest", "realm named in the 401 Basic challenge"),
    Setting("authentication.max.users", 100, "users holding their own Kafka clients at once (BASIC)", 1),
    Setting("authentication.user.idle.ms", 600_000, "a user's Kafka clients unused this long are closed", 1),
)
BY_NAME = {s.name: s for s in SETTINGS}


class ConfigError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class RestConfig:
    values: Mapping[str, int | str] = field(default_factory=dict)
    client: Mapping[str, str] = field(default_factory=dict)
    """``client.*`` settings, as Confluent's REST Proxy takes them: given to every Kafka client with the
    prefix removed (librdkafka names: ``client.security.protocol=SASL_SSL``, ``client.sasl.*``,
    ``client.ssl.ca.location``...)."""

    @classmethod
    def from_properties(cls, properties: Mapping[str, str]) -> RestConfig:
        values: dict[str, int | str] = {s.name: s.default for s in SETTINGS}
        client: dict[str, str] = {}
        for name, raw in properties.items():
            setting = BY_NAME.get(name)
            if setting is None and name.startswith("client.") and name != "client.id":
                client[name.removeprefix("client.")] = raw.strip()
                continue
            if setting is None:
                raise ConfigError(f"unknown REST proxy config {name!r}")
            values[name] = _parse(setting, raw)
        return cls(values, client)

    def integer(self, name: str) -> int:
        value = self.values.get(name, BY_NAME[name].default)
        assert isinstance(value, int), name
        return value

    def text(self, name: str) -> str:
        value = self.values.get(name, BY_NAME[name].default)
        return str(value)

    def seconds(self, name: str) -> float:
        return self.integer(name) / 1000.0


def _parse(setting: Setting, raw: str) -> int | str:
    if isinstance(setting.default, str):
        return raw.strip()
    text = raw.strip()
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{setting.name} must be an integer, got {raw!r}") from None
    if value < setting.minimum:
        raise ConfigError(f"{setting.name} must be at least {setting.minimum}, got {value}")
    return value
