"""The broker's configuration: Kafka's ``server.properties`` names, from a file and/or flags.

``SINGLE_NODE_DEFAULTS`` are what Kafka's own sample ``config/server.properties`` sets for a
one-broker cluster (internal topics with replication factor 1), applied unless overridden; every
other name keeps Kafka's default. A broker of a cluster (``zookeeper.connect`` set) does not take the
internal-topic ones (``CLUSTER_ONLY_KAFKA_DEFAULTS``): there Kafka's own defaults hold,
`offsets.topic.replication.factor` 3, `transaction.state.log.replication.factor` 3 and
`transaction.state.log.min.isr` 2, so a coordinator survives the loss of the broker leading its
partition; until enough brokers are alive, the internal topics are not created (FindCoordinator
answers COORDINATOR_NOT_AVAILABLE, as Kafka does). Typed values are read through the metadata
layer's config table, so a bad value fails at start with Kafka's message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from odradek.broker.server import Listener, parse_listeners
from odradek.metadata.broker_configs import BROKER_CONFIGS
from odradek.metadata.config_types import ConfigValue
from odradek.metadata.static_config import StaticBrokerConfig

SINGLE_NODE_DEFAULTS = {
    "node.id": "1",
    "listeners": "PLAINTEXT://127.0.0.1:9092",
    "log.dirs": "./odradek-data",
    "offsets.topic.replication.factor": "1",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    # "a better out-of-the-box experience for development and testing" (Kafka's sample file)
    "group.initial.rebalance.delay.ms": "0",
}
CLUSTER_ONLY_KAFKA_DEFAULTS = (
    "offsets.topic.replication.factor",
    "transaction.state.log.replication.factor",
    "transaction.state.log.min.isr",
)
"""`SINGLE_NODE_DEFAULTS` a broker of a ZooKeeper cluster leaves at Kafka's defaults."""


def read_properties(path: Path) -> dict[str, str]:
    """Java properties files as Kafka tools write them: ``key=value`` or ``key: value``, ``#``/``!``
    comments, backslash line continuations."""
    props: dict[str, str] = {}
    pending = ""
    for raw in path.read_text().splitlines():
        line = pending + raw.strip()
        pending = ""
        if not line or line[0] in "#!":
            continue
        if line.endswith("\\") and not line.endswith("\\\\"):
            pending = line[:-1]
            continue
        sep = min((i for i in (line.find("="), line.find(":")) if i >= 0), default=-1)
        if sep < 0:
            props[line] = ""
        else:
            props[line[:sep].strip()] = line[sep + 1 :].strip()
    return props


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    """The broker's configuration: the static properties and the listeners and log dirs parsed from them."""

    static: StaticBrokerConfig
    listeners: tuple[Listener, ...]
    advertised_listeners: tuple[Listener, ...]
    log_dirs: tuple[Path, ...]

    @classmethod
    def from_properties(cls, properties: Mapping[str, str]) -> BrokerConfig:
        defaults = dict(SINGLE_NODE_DEFAULTS)
        if (
            "broker.id" in properties
        ):  # a server.properties of Kafka's ZooKeeper days: broker.id names the node
            defaults.pop("node.id")
        if (properties.get("zookeeper.connect") or "").strip():
            for name in CLUSTER_ONLY_KAFKA_DEFAULTS:
                defaults.pop(name)
        merged = {**defaults, **properties}
        static = StaticBrokerConfig.from_properties(merged)
        listeners = tuple(parse_listeners(merged["listeners"]))
        advertised_text = merged.get("advertised.listeners")
        advertised = tuple(parse_listeners(advertised_text)) if advertised_text else listeners
        dirs_text = merged.get("log.dirs") or merged.get("log.dir") or "./odradek-data"
        log_dirs = tuple(Path(d.strip()) for d in dirs_text.split(",") if d.strip())
        return cls(static, listeners, advertised, log_dirs)

    @property
    def node_id(self) -> int:
        return int(self.static.node_id)

    @property
    def zookeeper_connect(self) -> str | None:
        """`zookeeper.connect` when this broker is a member of a ZooKeeper cluster, else None."""
        value = (self.static.get("zookeeper.connect") or "").strip()
        return value or None

    def value(self, name: str) -> ConfigValue | None:
        """A static broker config, parsed, or its default."""
        definition = BROKER_CONFIGS[name]
        raw = self.static.get(name)
        return definition.parse(raw) if raw is not None else definition.default

    def int_value(self, name: str) -> int:
        value = self.value(name)
        assert isinstance(value, int), name
        return value

    def bool_value(self, name: str) -> bool:
        return bool(self.value(name))
