"""Validation of config changes, shared by CreateTopics and the two AlterConfigs APIs.

Topic overrides must name known topic configs, parse and pass their validators, and make a coherent
whole with the broker defaults (`min.compaction.lag.ms` <= `max.compaction.lag.ms`; no tiered
storage). Failures are INVALID_CONFIG. Broker changes may only touch dynamic configs, and
per-broker configs only for a named broker; failures are INVALID_REQUEST, as in Kafka
(KAFKA-13609). Messages are Kafka's.
"""

from __future__ import annotations

from collections.abc import Mapping

from odradek.metadata.broker_configs import BROKER_CONFIGS
from odradek.metadata.config_def import ConfigDef
from odradek.metadata.config_resolution import resolve_topic_configs
from odradek.metadata.config_types import ConfigError
from odradek.metadata.controller.result import ApiError, invalid_config, invalid_request, scala_set
from odradek.metadata.image import ClusterImage
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.metadata.topic_configs import TOPIC_CONFIGS


def check_topic_overrides(
    image: ClusterImage, static: StaticBrokerConfig, overrides: Mapping[str, str | None]
) -> ApiError | None:
    """Why a topic may not have exactly these overrides, or None."""
    nulls = [name for name, value in overrides.items() if value is None]
    if nulls:
        return invalid_config("Null value not supported for topic configs: " + ",".join(nulls))
    values = {name: value for name, value in overrides.items() if value is not None}
    for name in sorted(values):
        if name not in TOPIC_CONFIGS:
            return invalid_config(f"Unknown topic config name: {name}")
    try:
        for name in sorted(values):
            TOPIC_CONFIGS[name].parse(values[name])
    except ConfigError as e:
        return invalid_config(str(e))
    effective = resolve_topic_configs(image, static, values)
    min_lag = effective["min.compaction.lag.ms"].value
    max_lag = effective["max.compaction.lag.ms"].value
    assert isinstance(min_lag, int) and isinstance(max_lag, int)
    if min_lag > max_lag:
        return invalid_config(
            f"conflict topic config setting min.compaction.lag.ms ({min_lag}) > "
            f"max.compaction.lag.ms ({max_lag})"
        )
    if effective["remote.storage.enable"].value is True:
        return invalid_config(
            "Tiered Storage functionality is disabled in the broker. "
            "Topic cannot be configured with remote log storage."
        )
    return None


def check_broker_resource_name(static: StaticBrokerConfig, name: str) -> ApiError | None:
    """A BROKER resource is "" (cluster default) or this broker's id."""
    if name == "":
        return None
    try:
        broker_id = int(name)
    except ValueError:
        return invalid_request(f"Node id must be an integer, but it is: {name}")
    if broker_id != static.node_id:
        return invalid_request(f"Unexpected broker id, expected {static.node_id}, but received {name}")
    return None


LISTENER_KEYSTORE_CONFIGS = frozenset(
    {
        "ssl.keystore.location",
        "ssl.keystore.password",
        "ssl.keystore.key",
        "ssl.keystore.certificate.chain",
        "ssl.key.password",
    }
)


def broker_config_definition(name: str) -> ConfigDef | None:
    """The definition of a broker config name, listener-prefixed keystore settings included
    (``listener.name.<listener>.ssl.keystore.location``: per broker and dynamic, as in Kafka)."""
    definition = BROKER_CONFIGS.get(name)
    if definition is not None or not name.startswith("listener.name."):
        return definition
    _, _, rest = name.removeprefix("listener.name.").partition(".")
    return BROKER_CONFIGS.get(rest) if rest in LISTENER_KEYSTORE_CONFIGS else None


def check_broker_changes(resource_name: str, changes: Mapping[str, str | None]) -> ApiError | None:
    """Why these dynamic broker config changes (None = delete) are not allowed, or None."""
    definitions = {n: broker_config_definition(n) for n in changes}
    not_dynamic = {n for n, d in definitions.items() if d is None or not d.dynamic}
    if not_dynamic:
        return invalid_request(f"Cannot update these configs dynamically: {scala_set(not_dynamic)}")
    if resource_name == "":
        per_broker = {n for n in changes if (d := definitions[n]) is not None and d.per_broker}
        if per_broker:
            return invalid_request(
                "Cannot update these configs at default cluster level, broker id must be specified: "
                + scala_set(per_broker)
            )
    try:
        for name, value in sorted(changes.items()):
            definition = definitions[name]
            if value is not None and definition is not None:
                definition.parse(value)
    except ConfigError as e:
        return invalid_request(str(e))
    return None
