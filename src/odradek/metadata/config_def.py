"""One config definition: name, type, default, validator, documentation and, for topic configs,
the broker configs that supply its default (its synonyms).

The tables themselves live in `topic_configs` and `broker_configs`; this module only says what a row is.
"""

from __future__ import annotations

from dataclasses import dataclass

from odradek.metadata.config_types import (
    ConfigError,
    ConfigType,
    ConfigValue,
    Validator,
    format_value,
    parse_value,
)

HOURS_TO_MS = 60 * 60 * 1000
MINUTES_TO_MS = 60 * 1000


@dataclass(frozen=True, slots=True)
class Synonym:
    """A broker config that supplies a topic config's value; `scale` converts its unit (hours→ms)."""

    name: str
    scale: int = 1


@dataclass(frozen=True, slots=True)
class ConfigDef:
    """The definition of one config: name, type, default, documentation, validator, dynamic or not."""

    name: str
    type: ConfigType
    default: ConfigValue | None
    doc: str
    validator: Validator | None = None
    dynamic: bool = True
    """Broker configs: may be changed at runtime (AlterConfigs). Topic configs always may."""
    per_broker: bool = False
    """Dynamic broker configs that may only be set for one broker, never as a cluster default."""
    synonyms: tuple[Synonym, ...] = ()
    """Topic configs: the broker configs that give its default, most preferred first."""

    @property
    def sensitive(self) -> bool:
        return self.type is ConfigType.PASSWORD

    def parse(self, raw: str) -> ConfigValue:
        """Parse and validate a string value; raises ConfigError with Kafka's message."""
        value = parse_value(self.name, self.type, raw)
        if self.validator is not None:
            self.validator.check(self.name, value)
        return value

    def format(self, value: ConfigValue | None) -> str | None:
        return format_value(self.type, value)

    @property
    def default_string(self) -> str | None:
        return self.format(self.default)


def lookup(table: dict[str, ConfigDef], name: str, kind: str) -> ConfigDef:
    """The definition of `name`, or ConfigError("Unknown <kind> config name: <name>")."""
    definition = table.get(name)
    if definition is None:
        raise ConfigError(f"Unknown {kind} config name: {name}")
    return definition


def table_of(*definitions: ConfigDef) -> dict[str, ConfigDef]:
    table: dict[str, ConfigDef] = {}
    for definition in definitions:
        assert definition.name not in table, f"{definition.name} is defined twice"
        if definition.default is not None and definition.validator is not None:
            definition.validator.check(definition.name, definition.default)
        table[definition.name] = definition
    return table
