"""The vocabulary of configs: resource types, value types, sources, validators, and string parsing.

Numbers are Kafka's wire values (DescribeConfigsResponse `ConfigType` and `ConfigSource`,
`ConfigResource.Type`). Parsing follows Kafka's `ConfigDef.parseType`: the string is trimmed, numbers
are plain decimal integers in the type's range, booleans are `true`/`false` in any case, lists are
comma separated. Failures raise `ConfigError` with Kafka's message text
("Invalid value X for configuration Y: ..."), which the controller returns to clients verbatim.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum
from typing import Protocol

ConfigValue = bool | int | float | str | tuple[str, ...]
"""A parsed config value: BOOLEAN→bool, SHORT/INT/LONG→int, DOUBLE→float, LIST→tuple, others→str."""


class ConfigResourceType(IntEnum):
    """`ConfigResource.Type` ids as they appear in config requests and in ConfigRecords."""

    UNKNOWN = 0
    TOPIC = 2
    BROKER = 4
    BROKER_LOGGER = 8
    CLIENT_METRICS = 16
    GROUP = 32


class ConfigType(IntEnum):
    """The `ConfigType` field of DescribeConfigs v3+."""

    UNKNOWN = 0
    BOOLEAN = 1
    STRING = 2
    INT = 3
    SHORT = 4
    LONG = 5
    DOUBLE = 6
    LIST = 7
    CLASS = 8
    PASSWORD = 9


class ConfigSource(IntEnum):
    """Where a described value comes from; DescribeConfigs `ConfigSource`/synonym `Source` field."""

    UNKNOWN = 0
    DYNAMIC_TOPIC_CONFIG = 1
    DYNAMIC_BROKER_CONFIG = 2
    DYNAMIC_DEFAULT_BROKER_CONFIG = 3
    STATIC_BROKER_CONFIG = 4
    DEFAULT_CONFIG = 5
    DYNAMIC_BROKER_LOGGER_CONFIG = 6
    CLIENT_METRICS_CONFIG = 7
    GROUP_CONFIG = 8


class ConfigError(ValueError):
    """A config name or value was rejected; `str(error)` is the message Kafka would send."""

    @classmethod
    def invalid(cls, name: str, value: object, message: str | None) -> ConfigError:
        suffix = "" if message is None else f": {message}"
        return cls(f"Invalid value {_java_str(value)} for configuration {name}{suffix}")


_INT_RANGES = {
    ConfigType.SHORT: (-(2**15), 2**15 - 1),
    ConfigType.INT: (-(2**31), 2**31 - 1),
    ConfigType.LONG: (-(2**63), 2**63 - 1),
}
_INTEGER = re.compile(r"[+-]?[0-9]+")
# Java's Double.parseDouble: decimal or exponent forms, NaN/Infinity, optional f/d suffix.
_DOUBLE = re.compile(r"[+-]?(NaN|Infinity|([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?[fFdD]?)")
_LIST_SEPARATOR = re.compile(r"\s*,\s*")


def parse_value(name: str, config_type: ConfigType, raw: str) -> ConfigValue:
    """Parse a config string as Kafka does; raises ConfigError on malformed input."""
    text = raw.strip()
    if config_type is ConfigType.BOOLEAN:
        if text.lower() == "true":
            return True
        if text.lower() == "false":
            return False
        raise ConfigError.invalid(name, raw, "Expected value to be either true or false")
    if config_type in _INT_RANGES:
        low, high = _INT_RANGES[config_type]
        if _INTEGER.fullmatch(text) is None or not low <= int(text) <= high:
            raise ConfigError.invalid(name, raw, f"Not a number of type {config_type.name}")
        return int(text)
    if config_type is ConfigType.DOUBLE:
        if _DOUBLE.fullmatch(text) is None:
            raise ConfigError.invalid(name, raw, "Not a number of type DOUBLE")
        return float(text[:-1] if text[-1] in "fFdD" else text)
    if config_type is ConfigType.LIST:
        return () if not text else tuple(_LIST_SEPARATOR.split(text))
    return text


def format_value(config_type: ConfigType, value: ConfigValue | None) -> str | None:
    """The string Kafka shows for a parsed value (DescribeConfigs, ConfigRecords)."""
    if value is None:
        return None
    if config_type is ConfigType.LIST:
        assert isinstance(value, tuple)
        return ",".join(value)
    return _java_str(value)


def _java_str(value: object) -> str:
    """Java's `toString` of a parsed value, so messages and described values read like Kafka's."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value == 0 or 1e-3 <= abs(value) < 1e7:
            return repr(float(value))
        # Java writes other magnitudes as d.dddE<n>: "1.7976931348623157E308", "1.0E-4".
        sign, digits, exponent = Decimal(repr(value)).as_tuple()
        assert isinstance(exponent, int)
        text = "".join(map(str, digits)).rstrip("0") or "0"
        scientific = exponent + len(digits) - 1
        return f"{'-' if sign else ''}{text[0]}.{text[1:] or '0'}E{scientific}"
    if isinstance(value, tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


class Validator(Protocol):
    def check(self, name: str, value: ConfigValue) -> None:
        """Raise ConfigError if `value` is not acceptable for config `name`."""
        ...

    def describe(self) -> str:
        """The "Valid Values" text of the documentation."""
        ...


@dataclass(frozen=True, slots=True)
class Range:
    """Kafka's `Range.atLeast` / `Range.between` (bounds inclusive)."""

    min: int | float | None = None
    max: int | float | None = None

    def check(self, name: str, value: ConfigValue) -> None:
        assert isinstance(value, int | float)
        if self.min is not None and value < self.min:
            raise ConfigError.invalid(name, value, f"Value must be at least {self.min}")
        if self.max is not None and value > self.max:
            raise ConfigError.invalid(name, value, f"Value must be no more than {self.max}")

    def describe(self) -> str:
        if self.max is None:
            return f"[{self.min},...]"
        return f"[{self.min},...,{self.max}]"


def at_least(minimum: int | float) -> Range:
    return Range(min=minimum)


def between(minimum: int | float, maximum: int | float) -> Range:
    return Range(min=minimum, max=maximum)


@dataclass(frozen=True, slots=True)
class RangeOrSentinel:
    """A range that also admits one sentinel value, like gzip's "[1,...,9] or -1"."""

    min: int
    max: int
    sentinel: int

    def check(self, name: str, value: ConfigValue) -> None:
        assert isinstance(value, int)
        if value != self.sentinel and not self.min <= value <= self.max:
            raise ConfigError.invalid(
                name, value, f"Value must be between {self.min} and {self.max} or equal to {self.sentinel}"
            )

    def describe(self) -> str:
        return f"[{self.min},...,{self.max}] or {self.sentinel}"


@dataclass(frozen=True, slots=True)
class OneOf:
    """Kafka's `ValidString.in` (case sensitive)."""

    choices: tuple[str, ...]

    def check(self, name: str, value: ConfigValue) -> None:
        if value not in self.choices:
            raise ConfigError.invalid(name, value, "String must be one of: " + ", ".join(self.choices))

    def describe(self) -> str:
        return "[" + ", ".join(self.choices) + "]"


@dataclass(frozen=True, slots=True)
class ListOf:
    """Kafka's `ValidList.in`: every element must be one of the choices."""

    choices: tuple[str, ...]

    def check(self, name: str, value: ConfigValue) -> None:
        assert isinstance(value, tuple)
        for element in value:
            OneOf(self.choices).check(name, element)

    def describe(self) -> str:
        return "[" + ", ".join(self.choices) + "]"


_THROTTLED_REPLICA = re.compile(r"([0-9]+:[0-9]+)?")


@dataclass(frozen=True, slots=True)
class ThrottledReplicas:
    """`*` or a list of `partition:broker` pairs (leader/follower.replication.throttled.replicas)."""

    def check(self, name: str, value: ConfigValue) -> None:
        assert isinstance(value, tuple)
        entries = [v.strip() for v in value]
        if all(_THROTTLED_REPLICA.fullmatch(e) for e in entries) or "".join(entries) == "*":
            return
        raise ConfigError.invalid(
            name,
            value,
            f"{name} must be the literal '*' or a list of replicas in the following format: "
            "[partitionId]:[brokerId],[partitionId]:[brokerId],...",
        )

    def describe(self) -> str:
        return "[partitionId]:[brokerId],[partitionId]:[brokerId],..."


@dataclass(frozen=True, slots=True)
class NonEmptyList:
    """Each element non-empty; used for class-name lists such as `group.consumer.assignors`."""

    def check(self, name: str, value: ConfigValue) -> None:
        assert isinstance(value, tuple)
        if any(not element for element in value):
            raise ConfigError.invalid(name, value, "Empty list elements are not allowed")

    def describe(self) -> str:
        return ""
