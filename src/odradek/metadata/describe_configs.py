"""DescribeConfigs as plain values: what one resource of a DescribeConfigs response carries.

TOPIC resources list every topic config (alphabetically) with its effective value. BROKER resources
named by this broker's id list every broker config as this broker sees it; the empty name lists only
the dynamic cluster-wide defaults that are set. Topic configs are never read-only; broker configs are
read-only unless they can be changed at runtime. Listener-prefixed configs
(``listener.name.<l>.ssl.keystore.location``, ``listener.name.<l>.<mechanism>.sasl.jaas.config``)
set statically or dynamically follow the others, with their unprefixed config as a synonym.
Sensitive values are reported as None. Errors follow Kafka: an illegal topic name gives
INVALID_TOPIC_EXCEPTION, an unknown topic UNKNOWN_TOPIC_OR_PARTITION (no message), another
broker's id or a non-number INVALID_REQUEST. BROKER_LOGGER (log levels) and other resource types
are not metadata: INVALID_REQUEST here, so handlers that support them must answer those themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from odradek.metadata.broker_configs import BROKER_CONFIGS
from odradek.metadata.config_resolution import (
    ConfigSynonym,
    ResolvedConfig,
    effective_topic_configs,
    listener_config_names,
    resolve_broker_config,
    resolve_listener_config,
)
from odradek.metadata.config_types import ConfigResourceType, ConfigSource, ConfigType
from odradek.metadata.controller.config_checks import broker_config_definition
from odradek.metadata.image import ClusterImage
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.metadata.topic_names import topic_name_error
from odradek.model.errors import ErrorCode


@dataclass(frozen=True, slots=True)
class ConfigEntry:
    name: str
    value: str | None
    read_only: bool
    source: ConfigSource
    is_sensitive: bool
    synonyms: tuple[ConfigSynonym, ...]
    config_type: ConfigType
    documentation: str | None

    @property
    def is_default(self) -> bool:
        return self.source is ConfigSource.DEFAULT_CONFIG


@dataclass(frozen=True, slots=True)
class DescribeConfigsResult:
    resource_type: int
    resource_name: str
    error_code: ErrorCode
    error_message: str | None
    configs: tuple[ConfigEntry, ...]


def config_entry(
    resolved: ResolvedConfig, *, read_only: bool, include_synonyms: bool, include_documentation: bool
) -> ConfigEntry:
    definition = resolved.definition
    return ConfigEntry(
        name=definition.name,
        value=None if definition.sensitive else resolved.value_string,
        read_only=read_only,
        source=resolved.source,
        is_sensitive=definition.sensitive,
        synonyms=resolved.synonyms if include_synonyms else (),
        config_type=definition.type,
        documentation=definition.doc if include_documentation else None,
    )


def describe_configs(
    image: ClusterImage,
    static: StaticBrokerConfig,
    resource_type: int,
    resource_name: str,
    keys: Collection[str] | None = None,
    *,
    include_synonyms: bool = False,
    include_documentation: bool = False,
) -> DescribeConfigsResult:
    """One resource of a DescribeConfigs response; `keys` None or empty means every config."""

    def result(code: ErrorCode, message: str | None, entries: list[ConfigEntry]) -> DescribeConfigsResult:
        wanted = [e for e in entries if not keys or e.name in keys]
        return DescribeConfigsResult(resource_type, resource_name, code, message, tuple(wanted))

    def entry(resolved: ResolvedConfig, read_only: bool) -> ConfigEntry:
        return config_entry(
            resolved,
            read_only=read_only,
            include_synonyms=include_synonyms,
            include_documentation=include_documentation,
        )

    if resource_type == ConfigResourceType.TOPIC:
        error = topic_name_error(resource_name)
        if error is not None:
            return result(ErrorCode.INVALID_TOPIC_EXCEPTION, error, [])
        if image.topic(resource_name) is None:
            return result(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, None, [])
        resolved = effective_topic_configs(image, static, resource_name)
        return result(ErrorCode.NO_ERROR, None, [entry(r, False) for r in resolved.values()])

    if resource_type == ConfigResourceType.BROKER:
        if resource_name == "":
            names = sorted(image.broker_configs.get("", {}))
            return result(
                ErrorCode.NO_ERROR,
                None,
                [
                    entry(
                        resolve_broker_config(image, static, n, cluster_default=True),
                        not BROKER_CONFIGS[n].dynamic,
                    )
                    for n in names
                    if n in BROKER_CONFIGS
                ]
                + _listener_entries(image, static, entry, cluster_default=True),
            )
        try:
            broker_id = int(resource_name)
        except ValueError:
            return result(
                ErrorCode.INVALID_REQUEST, f"Broker id must be an integer, but it is: {resource_name}", []
            )
        if broker_id != static.node_id:
            return result(
                ErrorCode.INVALID_REQUEST,
                f"Unexpected broker id, expected {static.node_id} or empty string, "
                f"but received {resource_name}",
                [],
            )
        return result(
            ErrorCode.NO_ERROR,
            None,
            [
                entry(resolve_broker_config(image, static, n), not BROKER_CONFIGS[n].dynamic)
                for n in sorted(BROKER_CONFIGS)
            ]
            + _listener_entries(image, static, entry, cluster_default=False),
        )

    try:
        type_name = ConfigResourceType(resource_type).name
    except ValueError:
        type_name = "UNKNOWN"
    return result(ErrorCode.INVALID_REQUEST, f"Unsupported resource type: {type_name}", [])


def _listener_entries(
    image: ClusterImage,
    static: StaticBrokerConfig,
    entry: Callable[[ResolvedConfig, bool], ConfigEntry],
    *,
    cluster_default: bool,
) -> list[ConfigEntry]:
    """Listener-prefixed configs set at some level (``listener.name.ssl.ssl.keystore.location``), as
    Kafka lists them after the others; read-only unless a dynamic keystore setting."""
    entries = []
    for name in listener_config_names(image, static, cluster_default=cluster_default):
        resolved = resolve_listener_config(image, static, name, cluster_default=cluster_default)
        if resolved is not None:
            entries.append(entry(resolved, broker_config_definition(name) is None))
    return entries
