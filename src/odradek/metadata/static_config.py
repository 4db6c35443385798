"""The broker's static configuration: the properties it was started with (server.properties).

Known names are parsed and validated once, at start, with Kafka's messages; unknown names are kept
(Kafka only warns about them) but never used. `node.id` and its old name `broker.id` must agree when
both are given; one of them is required.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from odradek.metadata.broker_configs import BROKER_CONFIGS
from odradek.metadata.config_types import ConfigError, ConfigValue
from odradek.metadata.image import frozen_map
from odradek.model.ids import BrokerId


@dataclass(frozen=True, slots=True)
class StaticBrokerConfig:
    """The broker's properties as given at start, with its node id."""

    node_id: BrokerId
    values: Mapping[str, str]
    """The properties as given (strings), including unknown names."""

    @classmethod
    def from_properties(cls, properties: Mapping[str, str]) -> StaticBrokerConfig:
        parsed: dict[str, ConfigValue] = {}
        for name, raw in properties.items():
            definition = BROKER_CONFIGS.get(name)
            if definition is not None:
                parsed[name] = definition.parse(raw)
        node_id = parsed.get("node.id")
        broker_id = parsed.get("broker.id")
        if node_id is not None and broker_id is not None and node_id != broker_id:
            raise ConfigError(
                f"If both broker.id and node.id are set they must be equal, but broker.id={broker_id} "
                f"and node.id={node_id}"
            )
        chosen = node_id if node_id is not None else broker_id
        if not isinstance(chosen, int) or chosen < 0:
            raise ConfigError('Missing required configuration "node.id" which has no default value.')
        return cls(BrokerId(chosen), frozen_map(properties))

    def get(self, name: str) -> str | None:
        return self.values.get(name)
