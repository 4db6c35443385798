"""Effective config values and where they come from.

A topic config's value is the first of: the topic's override (DYNAMIC_TOPIC_CONFIG); its broker
synonyms set dynamically for this broker (DYNAMIC_BROKER_CONFIG), dynamically as the cluster default
(DYNAMIC_DEFAULT_BROKER_CONFIG), or in the static properties (STATIC_BROKER_CONFIG); the broker
synonyms' defaults (DEFAULT_CONFIG); the topic config's own default. Broker values are scaled into
the topic config's unit (`log.retention.hours` times 3,600,000 gives `retention.ms`).

The synonym list has the same order, most specific first: every level, and within a level every
synonym name in preference order. Unlike Kafka, which drops the synonyms listed before the first
one bearing the primary broker name (so `retention.ms` shows no synonyms when only
`log.retention.hours` is set), every set synonym is listed for topic configs. Broker configs keep
Kafka's rule: the list starts at the first entry with the config's own name.

A stored value that no longer parses (written by an older version) is skipped, falling through to
the next synonym, rather than making the topic unusable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from odradek.metadata.broker_configs import BROKER_CONFIGS, listener_config
from odradek.metadata.config_def import ConfigDef
from odradek.metadata.config_types import ConfigError, ConfigSource, ConfigValue
from odradek.metadata.image import ClusterImage
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.metadata.topic_configs import TOPIC_CONFIGS

# Broker configs that are several spellings of one setting, in preference order (Kafka's
# `DynamicBrokerConfig.brokerConfigSynonyms`).
_RETENTION = ("log.retention.ms", "log.retention.minutes", "log.retention.hours")
_ROLL = ("log.roll.ms", "log.roll.hours")
_JITTER = ("log.roll.jitter.ms", "log.roll.jitter.hours")
BROKER_SYNONYM_GROUPS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(_RETENTION, _RETENTION),
    **dict.fromkeys(_ROLL, _ROLL),
    **dict.fromkeys(_JITTER, _JITTER),
    "log.flush.interval.ms": ("log.flush.interval.ms", "log.flush.scheduler.interval.ms"),
}


@dataclass(frozen=True, slots=True)
class ConfigSynonym:
    """One source a config's value can come from (DescribeConfigs' synonyms)."""

    name: str
    value: str | None
    source: ConfigSource


@dataclass(frozen=True, slots=True)
class ResolvedConfig:
    """A config's effective value, where it came from, and its synonyms in precedence order."""

    definition: ConfigDef
    value: ConfigValue | None
    source: ConfigSource
    synonyms: tuple[ConfigSynonym, ...]

    @property
    def value_string(self) -> str | None:
        return self.definition.format(self.value)


def _broker_levels(
    image: ClusterImage, static: StaticBrokerConfig
) -> tuple[tuple[ConfigSource, Mapping[str, str]], ...]:
    no_configs: Mapping[str, str] = {}
    return (
        (ConfigSource.DYNAMIC_BROKER_CONFIG, image.broker_configs.get(str(static.node_id), no_configs)),
        (ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, image.broker_configs.get("", no_configs)),
        (ConfigSource.STATIC_BROKER_CONFIG, static.values),
    )


def broker_synonyms(
    image: ClusterImage, static: StaticBrokerConfig, names: tuple[str, ...]
) -> list[ConfigSynonym]:
    """Every level at which one of `names` is set, most specific level first."""
    found = [
        ConfigSynonym(name, values[name], source)
        for source, values in _broker_levels(image, static)
        for name in names
        if name in values
    ]
    for name in names:
        default = BROKER_CONFIGS[name].default_string
        if default is not None:
            found.append(ConfigSynonym(name, default, ConfigSource.DEFAULT_CONFIG))
    return found


def _parsed(definition: ConfigDef, raw: str | None, scale: int = 1) -> ConfigValue | None:
    if raw is None:
        return None
    try:
        value = definition.parse(raw)
    except ConfigError:
        return None
    if scale != 1 and isinstance(value, int):
        return value * scale
    return value


def resolve_topic_config(
    image: ClusterImage, static: StaticBrokerConfig, overrides: Mapping[str, str], name: str
) -> ResolvedConfig:
    definition = TOPIC_CONFIGS[name]
    scales = {synonym.name: synonym.scale for synonym in definition.synonyms}
    synonyms = broker_synonyms(image, static, tuple(scales))
    if name in overrides:
        synonyms.insert(0, ConfigSynonym(name, overrides[name], ConfigSource.DYNAMIC_TOPIC_CONFIG))
    for synonym in synonyms:
        if synonym.source is ConfigSource.DYNAMIC_TOPIC_CONFIG:
            value = _parsed(definition, synonym.value)
        else:
            value = _parsed(BROKER_CONFIGS[synonym.name], synonym.value, scales[synonym.name])
        if value is not None:
            if definition.sensitive:
                synonyms = [ConfigSynonym(s.name, None, s.source) for s in synonyms]
            return ResolvedConfig(definition, value, synonym.source, tuple(synonyms))
    return ResolvedConfig(definition, definition.default, ConfigSource.DEFAULT_CONFIG, tuple(synonyms))


def resolve_topic_configs(
    image: ClusterImage, static: StaticBrokerConfig, overrides: Mapping[str, str]
) -> dict[str, ResolvedConfig]:
    """Every topic config, by name in alphabetical order, for a topic with these overrides."""
    return {name: resolve_topic_config(image, static, overrides, name) for name in sorted(TOPIC_CONFIGS)}


def effective_topic_configs(
    image: ClusterImage, static: StaticBrokerConfig, topic: str
) -> dict[str, ResolvedConfig]:
    return resolve_topic_configs(image, static, image.topic_config_overrides(topic))


def resolve_broker_config(
    image: ClusterImage, static: StaticBrokerConfig, name: str, *, cluster_default: bool = False
) -> ResolvedConfig:
    """A broker config as this broker sees it (or, with `cluster_default`, as the cluster default)."""
    definition = BROKER_CONFIGS[name]
    found = broker_synonyms(image, static, BROKER_SYNONYM_GROUPS.get(name, (name,)))
    while found and found[0].name != name:
        found.pop(0)
    if cluster_default:
        found = [s for s in found if s.source is ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG]
    value = next(
        (v for v in (_parsed(definition, s.value) for s in found if s.name == name) if v is not None), None
    )
    source = found[0].source if found else ConfigSource.DEFAULT_CONFIG
    if definition.sensitive:
        found = [ConfigSynonym(s.name, None, s.source) for s in found]
    return ResolvedConfig(definition, value, source, tuple(found))


def broker_config_value(image: ClusterImage, static: StaticBrokerConfig, name: str) -> ConfigValue | None:
    """The typed value of broker config `name` on this broker (dynamic, else static, else default)."""
    return resolve_broker_config(image, static, name).value


def resolve_listener_config(
    image: ClusterImage, static: StaticBrokerConfig, name: str, *, cluster_default: bool = False
) -> ResolvedConfig | None:
    """A listener-prefixed broker config (``listener.name.<l>.ssl.keystore.location``) set at some
    level, as this broker (or the cluster default) sees it; None if it is not set or not a
    listener config. Its synonyms: the prefixed name's levels, then the unprefixed config's."""
    known = listener_config(name)
    if known is None:
        return None
    definition, base = known
    found = [
        ConfigSynonym(name, values[name], source)
        for source, values in _broker_levels(image, static)
        if name in values
    ]
    if cluster_default:
        found = [s for s in found if s.source is ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG]
    if not found:
        return None
    if base in BROKER_CONFIGS:
        found += [
            s
            for s in broker_synonyms(image, static, (base,))
            if not cluster_default or s.source is ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG
        ]
    value = next(
        (v for v in (_parsed(definition, s.value) for s in found if s.name == name) if v is not None), None
    )
    if definition.sensitive:
        found = [ConfigSynonym(s.name, None, s.source) for s in found]
    return ResolvedConfig(definition, value, found[0].source, tuple(found))


def listener_config_names(
    image: ClusterImage, static: StaticBrokerConfig, *, cluster_default: bool = False
) -> list[str]:
    """The listener-prefixed broker configs set for this broker (or as the cluster default), sorted."""
    levels = _broker_levels(image, static)
    if cluster_default:
        levels = tuple(level for level in levels if level[0] is ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG)
    return sorted({n for _, values in levels for n in values if listener_config(n) is not None})
