"""`StreamsConfig`: Kafka Streams' configuration names and defaults.

| name | default | meaning |
|---|---|---|
| `application.id` | (required) | consumer group id, transactional id prefix, internal topic prefix |
| `bootstrap.servers` | (required to run) | the Kafka cluster |
| `num.stream.threads` | 1 | processing threads in this instance |
| `processing.guarantee` | `at_least_once` | or `exactly_once_v2` (transactions, read_committed) |
| `commit.interval.ms` | 30000 (100 with EOS) | how often offsets and state are committed |
| `state.dir` | `$TMPDIR/odradek-streams` | where RocksDB stores and checkpoints live |
| `num.standby.replicas` | 0 | warm copies of each task's state on other instances |
| `rack.aware.assignment.tags` | "" | client tag keys standbys spread over (KIP-708) |
| `client.tag.<key>` | | this instance's tag values, e.g. `client.tag.zone=eu-1a` |
| `default.key.serde` (and `.value.`) | `bytes` | a `Serde`, or bytes/string/json/long/integer/double |
| `default.timestamp.extractor` | record timestamp | `(key, value, record_ts, partition_time) -> ts` |
| `deserialization.exception.handler` | `log_and_fail` | or `log_and_continue`, a class or an instance |
| `processing.exception.handler` | `log_and_fail` | or `log_and_continue`, ... |
| `production.exception.handler` | `fail` | or `continue`, ... |
| `errors.dead.letter.queue.topic.name` | unset | built-in handlers also send failed records there |
| `statestore.cache.max.records` | 10000 | per store: clean entries cached; 0 turns off emit caching too |
| `stream.time.idle.timeout.ms` | -1 (off) | idle this long, a task's stream time follows the wall clock |
| `application.server` | unset | `host:port` of this instance's interactive-query endpoint |
| `replication.factor` | -1 (broker default) | of internal topics |
| `poll.ms` | 100 | how long a thread waits for records |
| `metrics.recording.level` | `INFO` | `DEBUG` also counts records in/out of every processor node |
| `group.protocol` | `consumer` | KIP-848; its server `range` assignor co-locates co-partitions |
| `consumer.*`, `producer.*`, `admin.*` | | passed to that librdkafka client |
| `security.protocol`, `sasl.*`, `ssl.*` | | librdkafka security settings given to every client |
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from typing import Any

from odradek.streams.serdes import Serde, Serdes

SECURITY_PREFIXES = ("security.protocol", "sasl.", "ssl.")
AT_LEAST_ONCE = "at_least_once"
EXACTLY_ONCE_V2 = "exactly_once_v2"

DEFAULTS: dict[str, Any] = {
    "num.stream.threads": 1,
    "processing.guarantee": AT_LEAST_ONCE,
    "state.dir": os.path.join(tempfile.gettempdir(), "odradek-streams"),
    "num.standby.replicas": 0,
    "rack.aware.assignment.tags": "",
    "default.key.serde": "bytes",
    "default.value.serde": "bytes",
    "default.timestamp.extractor": None,
    "deserialization.exception.handler": "log_and_fail",
    "processing.exception.handler": "log_and_fail",
    "production.exception.handler": "fail",
    "errors.dead.letter.queue.topic.name": None,
    "statestore.cache.max.records": 10_000,
    "stream.time.idle.timeout.ms": -1,
    "application.server": None,
    "replication.factor": -1,
    "poll.ms": 100,
    "group.protocol": "consumer",
    "max.poll.records": 1000,
    "metrics.recording.level": "INFO",
}

SERDES_BY_NAME: dict[str, Serde[Any]] = {
    "bytes": Serdes.BYTES,
    "string": Serdes.STRING,
    "json": Serdes.JSON,
    "long": Serdes.LONG,
    "integer": Serdes.INTEGER,
    "double": Serdes.DOUBLE,
}


class StreamsConfig:
    def __init__(self, settings: Mapping[str, Any]) -> None:
        if "application.id" not in settings:
            raise ValueError("StreamsConfig needs application.id")
        self.settings = {**DEFAULTS, **settings}
        if "commit.interval.ms" not in settings:
            self.settings["commit.interval.ms"] = 100 if self.exactly_once else 30_000
        guarantee = self.settings["processing.guarantee"]
        if guarantee not in (AT_LEAST_ONCE, EXACTLY_ONCE_V2):
            raise ValueError(
                f"processing.guarantee must be {AT_LEAST_ONCE} or {EXACTLY_ONCE_V2}, not {guarantee!r}"
            )

    def __getitem__(self, name: str) -> Any:
        return self.settings[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.settings.get(name, default)

    @property
    def application_id(self) -> str:
        return str(self.settings["application.id"])

    @property
    def exactly_once(self) -> bool:
        return bool(self.settings["processing.guarantee"] == EXACTLY_ONCE_V2)

    def serde(self, name: str) -> Serde[Any]:
        value = self.settings[name]
        if isinstance(value, str):
            if value not in SERDES_BY_NAME:
                raise ValueError(f"{name}: unknown serde {value!r}; choose one of {sorted(SERDES_BY_NAME)}")
            return SERDES_BY_NAME[value]
        if isinstance(value, type):
            return value()  # type: ignore[no-any-return]
        return value  # type: ignore[no-any-return]

    def client_overrides(self, prefix: str) -> dict[str, Any]:
        """The security settings every client takes, then `consumer.x=y` -> {'x': 'y'} for prefix
        'consumer.'."""
        return {
            **self.security_settings(),
            **{k[len(prefix) :]: v for k, v in self.settings.items() if k.startswith(prefix)},
        }

    def security_settings(self) -> dict[str, Any]:
        """Unprefixed librdkafka security settings (``security.protocol``, ``sasl.*``, ``ssl.*``):
        as in Kafka Streams, an unprefixed client setting applies to every client."""
        return {k: v for k, v in self.settings.items() if k.startswith(SECURITY_PREFIXES)}
