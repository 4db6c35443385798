"""Configuration definitions, as Kafka's `ConfigDef`: typed keys with defaults, validators, docs,
groups and recommenders; `parse` turns string properties into typed values and `validate` gives the
per-key results the `config/validate` REST endpoint returns.

Types and their parsing (strings are what REST and properties files carry):

| type | Python value | accepted text |
|---|---|---|
| BOOLEAN | bool | `true`/`false` (any case) |
| STRING, CLASS | str | anything |
| PASSWORD | `Password` (prints `[hidden]`) | anything |
| INT, SHORT, LONG | int | decimal integer within the type's range |
| DOUBLE | float | decimal number |
| LIST | list[str] | comma-separated, items trimmed, empty string = [] |
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from odradek.connect.api.errors import ConfigException

NO_DEFAULT: Any = object()


class ConfigType(StrEnum):
    BOOLEAN = "BOOLEAN"
    STRING = "STRING"
    INT = "INT"
    SHORT = "SHORT"
    LONG = "LONG"
    DOUBLE = "DOUBLE"
    LIST = "LIST"
    CLASS = "CLASS"
    PASSWORD = "PASSWORD"


class Importance(StrEnum):
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"


class Width(StrEnum):
    NONE = "NONE"
    SHORT = "SHORT"
    MEDIUM = "MEDIUM"
    LONG = "LONG"


class Password:
    """A secret value: never printed (`[hidden]`), read with `.value`."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "[hidden]"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Password) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)


Validator = Callable[[str, Any], None]
"""`validator(name, parsed_value)` raises `ConfigException` when the value is not allowed."""

Recommender = Callable[[str, Mapping[str, Any]], list[Any]]

_INT_RANGES = {
    ConfigType.SHORT: (-(2**15), 2**15 - 1),
    ConfigType.INT: (-(2**31), 2**31 - 1),
    ConfigType.LONG: (-(2**63), 2**63 - 1),
}


def parse_type(name: str, value: Any, type_: ConfigType) -> Any:
    """One value to its type (Kafka's `ConfigDef.parseType`); `None` stays `None`."""
    if value is None:
        return None
    text = value.strip() if isinstance(value, str) else value
    try:
        if type_ is ConfigType.BOOLEAN:
            if isinstance(text, bool):
                return text
            if isinstance(text, str) and text.lower() in ("true", "false"):
                return text.lower() == "true"
            raise ConfigException(name, value, "Expected value to be either true or false")
        if type_ in (ConfigType.STRING, ConfigType.CLASS):
            if isinstance(value, str):
                return value.strip() if type_ is ConfigType.CLASS else value
            if isinstance(value, type):
                return f"{value.__module__}.{value.__qualname__}"
            raise ConfigException(
                name, value, "Expected value to be a string, but it was a " + type(value).__name__
            )
        if type_ is ConfigType.PASSWORD:
            if isinstance(value, Password):
                return value
            if isinstance(value, str):
                return Password(value)
            raise ConfigException(name, value, "Expected value to be a string")
        if type_ in _INT_RANGES:
            if isinstance(text, bool):
                raise ConfigException(name, value, "Expected value to be a number")
            number = int(text)
            low, high = _INT_RANGES[type_]
            if not low <= number <= high:
                raise ConfigException(name, value, f"Not a number of type {type_.value}")
            return number
        if type_ is ConfigType.DOUBLE:
            if isinstance(text, bool):
                raise ConfigException(name, value, "Expected value to be a double")
            return float(text)
        if isinstance(value, list | tuple):
            return [str(v) for v in value]
        if isinstance(value, str):
            return [] if not value.strip() else [item.strip() for item in value.split(",")]
        raise ConfigException(name, value, "Expected a comma separated list.")
    except ValueError as exc:
        raise ConfigException(name, value, f"Not a number of type {type_.value}") from exc


@dataclass(frozen=True)
class ConfigKey:
    name: str
    type: ConfigType
    default: Any = NO_DEFAULT
    validator: Validator | None = None
    importance: Importance = Importance.MEDIUM
    documentation: str = ""
    group: str | None = None
    order_in_group: int = -1
    width: Width = Width.NONE
    display_name: str | None = None
    dependents: tuple[str, ...] = ()
    recommender: Recommender | None = None
    internal: bool = False

    @property
    def has_default(self) -> bool:
        return self.default is not NO_DEFAULT


@dataclass
class ConfigValue:
    """One key's result of `ConfigDef.validate` (the `value` object of the validate response)."""

    name: str
    value: Any = None
    recommended_values: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    visible: bool = True


class ConfigDef:
    def __init__(self, keys: Iterable[ConfigKey] = ()) -> None:
        self._keys: dict[str, ConfigKey] = {}
        self._groups: list[str] = []
        for key in keys:
            self.add(key)

    def add(self, key: ConfigKey) -> ConfigDef:
        if key.name in self._keys:
            raise ConfigException(key.name, message=None)
        self._keys[key.name] = key
        if key.group and key.group not in self._groups:
            self._groups.append(key.group)
        return self

    def define(
        self,
        name: str,
        type_: ConfigType,
        default: Any = NO_DEFAULT,
        validator: Validator | None = None,
        importance: Importance = Importance.MEDIUM,
        documentation: str = "",
        **extra: Any,
    ) -> ConfigDef:
        if default is not NO_DEFAULT and default is not None:
            default = parse_type(name, default, type_)
            if validator is not None:
                validator(name, default)
        return self.add(ConfigKey(name, type_, default, validator, importance, documentation, **extra))

    def merge(self, other: ConfigDef) -> ConfigDef:
        merged = ConfigDef(self._keys.values())
        for key in other.keys.values():
            if key.name not in merged.keys:
                merged.add(key)
        return merged

    @property
    def keys(self) -> Mapping[str, ConfigKey]:
        return self._keys

    @property
    def groups(self) -> Sequence[str]:
        return self._groups

    def names(self) -> list[str]:
        return list(self._keys)

    def parse(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """Typed values for every defined key; raises `ConfigException` for the first bad one."""
        values: dict[str, Any] = {}
        for key in self._keys.values():
            values[key.name] = self._parse_value(key, props.get(key.name), key.name in props)
        return values

    def _parse_value(self, key: ConfigKey, raw: Any, present: bool) -> Any:
        if present:
            value = parse_type(key.name, raw, key.type)
        elif not key.has_default:
            raise ConfigException(key.name, message=None) from None
        else:
            value = key.default
        if key.validator is not None and not (value is None and not present and key.has_default):
            key.validator(key.name, value)
        return value

    def validate(self, props: Mapping[str, Any]) -> dict[str, ConfigValue]:
        """Per key: its parsed value, recommended values and errors (never raises for a bad value)."""
        results: dict[str, ConfigValue] = {}
        parsed: dict[str, Any] = {}
        for key in self._keys.values():
            result = ConfigValue(key.name)
            raw = props.get(key.name)
            try:
                if key.name not in props and not key.has_default:
                    result.errors.append(
                        f'Missing required configuration "{key.name}" which has no default value.'
                    )
                else:
                    parsed[key.name] = self._parse_value(key, raw, key.name in props)
                    result.value = raw if key.name in props else key.default
            except ConfigException as exc:
                result.value = raw
                result.errors.append(str(exc))
            results[key.name] = result
        for key in self._keys.values():
            if key.recommender is not None:
                try:
                    results[key.name].recommended_values = key.recommender(key.name, parsed)
                except Exception as exc:  # a recommender's failure is an error on that key
                    results[key.name].errors.append(str(exc))
        return results


# -- validators (Kafka's names) ------------------------------------------------------------------


def at_least(minimum: float) -> Validator:
    def check(name: str, value: Any) -> None:
        if value is None or value < minimum:
            raise ConfigException(name, value, f"Value must be at least {minimum}")

    return check


def between(low: float, high: float) -> Validator:
    def check(name: str, value: Any) -> None:
        if value is None or not low <= value <= high:
            raise ConfigException(name, value, f"Value must be in the range [{low}, {high}]")

    return check


def valid_string(*allowed: str, case_insensitive: bool = False) -> Validator:
    choices = {a.lower() for a in allowed} if case_insensitive else set(allowed)

    def check(name: str, value: Any) -> None:
        probe = value.lower() if case_insensitive and isinstance(value, str) else value
        if probe not in choices:
            raise ConfigException(name, value, "String must be one of: " + ", ".join(allowed))

    return check


def valid_list(*allowed: str) -> Validator:
    def check(name: str, value: Any) -> None:
        bad = [v for v in value or [] if v not in allowed]
        if bad:
            raise ConfigException(
                name, value, "Invalid value " + ",".join(bad) + " for configuration " + name
            )

    return check


def non_empty_string(name: str, value: Any) -> None:
    if value is not None and not str(value).strip():
        raise ConfigException(name, value, "String must be non-empty")


def non_null(name: str, value: Any) -> None:
    if value is None:
        raise ConfigException(name, value, "entry must be non null")


def regex(name: str, value: Any) -> None:
    if value is None:
        return
    try:
        re.compile(value)
    except re.error as exc:
        raise ConfigException(name, value, f"Invalid regex: {exc}") from exc


def composite(*validators: Validator) -> Validator:
    def check(name: str, value: Any) -> None:
        for validator in validators:
            validator(name, value)

    return check


class AbstractConfig:
    """Typed access to parsed values: `config.get_int("batch.size")` etc. (Kafka's `AbstractConfig`)."""

    def __init__(self, definition: ConfigDef, originals: Mapping[str, Any]) -> None:
        self.definition = definition
        self.originals = {k: v for k, v in originals.items()}
        self.values = definition.parse(originals)

    def get(self, name: str) -> Any:
        if name not in self.values:
            raise ConfigException(name, message=None)
        return self.values[name]

    def get_string(self, name: str) -> str:
        return self.get(name)  # type: ignore[no-any-return]

    def get_int(self, name: str) -> int:
        return self.get(name)  # type: ignore[no-any-return]

    def get_long(self, name: str) -> int:
        return self.get(name)  # type: ignore[no-any-return]

    def get_double(self, name: str) -> float:
        return self.get(name)  # type: ignore[no-any-return]

    def get_bool(self, name: str) -> bool:
        return self.get(name)  # type: ignore[no-any-return]

    def get_list(self, name: str) -> list[str]:
        return self.get(name)  # type: ignore[no-any-return]

    def get_password(self, name: str) -> Password | None:
        return self.get(name)  # type: ignore[no-any-return]

    def originals_with_prefix(self, prefix: str, strip: bool = True) -> dict[str, Any]:
        return {
            (k[len(prefix) :] if strip else k): v for k, v in self.originals.items() if k.startswith(prefix)
        }
