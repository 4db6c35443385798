from __future__ import annotations

import math

import pytest

from odradek.metadata.config_types import (
    ConfigError,
    ConfigSource,
    ConfigType,
    ListOf,
    OneOf,
    RangeOrSentinel,
    ThrottledReplicas,
    at_least,
    between,
    format_value,
    parse_value,
)


def test_wire_numbers_match_kafka() -> None:
    assert [s.value for s in ConfigSource] == list(range(9))
    assert ConfigSource.DYNAMIC_TOPIC_CONFIG == 1
    assert ConfigSource.STATIC_BROKER_CONFIG == 4
    assert ConfigSource.DEFAULT_CONFIG == 5
    assert ConfigType.BOOLEAN == 1
    assert ConfigType.LIST == 7
    assert ConfigType.PASSWORD == 9


@pytest.mark.parametrize(
    ("config_type", "raw", "value"),
    [
        (ConfigType.BOOLEAN, " TRUE ", True),
        (ConfigType.BOOLEAN, "false", False),
        (ConfigType.INT, " 42", 42),
        (ConfigType.INT, "+7", 7),
        (ConfigType.INT, "-2147483648", -(2**31)),
        (ConfigType.SHORT, "32767", 32767),
        (ConfigType.LONG, "9223372036854775807", 2**63 - 1),
        (ConfigType.DOUBLE, "0.5", 0.5),
        (ConfigType.DOUBLE, "1e3", 1000.0),
        (ConfigType.DOUBLE, "2d", 2.0),
        (ConfigType.STRING, "  padded  ", "padded"),
        (ConfigType.LIST, "compact, delete", ("compact", "delete")),
        (ConfigType.LIST, "  ", ()),
        (ConfigType.LIST, "a,", ("a", "")),
    ],
)
def test_parse_like_kafka(config_type: ConfigType, raw: str, value: object) -> None:
    assert parse_value("c", config_type, raw) == value


@pytest.mark.parametrize(
    ("config_type", "raw", "message"),
    [
        (
            ConfigType.BOOLEAN,
            "yes",
            "Invalid value yes for configuration c: Expected value to be either true or false",
        ),
        (
            ConfigType.INT,
            "2147483648",
            "Invalid value 2147483648 for configuration c: Not a number of type INT",
        ),
        (ConfigType.INT, "1_000", "Invalid value 1_000 for configuration c: Not a number of type INT"),
        (ConfigType.INT, "1.5", "Invalid value 1.5 for configuration c: Not a number of type INT"),
        (ConfigType.SHORT, "40000", "Invalid value 40000 for configuration c: Not a number of type SHORT"),
        (ConfigType.LONG, "abc", "Invalid value abc for configuration c: Not a number of type LONG"),
        (ConfigType.DOUBLE, "half", "Invalid value half for configuration c: Not a number of type DOUBLE"),
    ],
)
def test_parse_errors_carry_kafkas_message(config_type: ConfigType, raw: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_value("c", config_type, raw)
    assert str(error.value) == message


def test_nan_parses() -> None:
    value = parse_value("c", ConfigType.DOUBLE, "NaN")
    assert isinstance(value, float) and math.isnan(value)


def test_format_like_kafka() -> None:
    assert format_value(ConfigType.BOOLEAN, True) == "true"
    assert format_value(ConfigType.LIST, ("compact", "delete")) == "compact,delete"
    assert format_value(ConfigType.LIST, ()) == ""
    assert format_value(ConfigType.DOUBLE, 0.5) == "0.5"
    assert format_value(ConfigType.DOUBLE, 1.0) == "1.0"
    assert format_value(ConfigType.DOUBLE, 1234567.5) == "1234567.5"
    assert format_value(ConfigType.DOUBLE, 1e7) == "1.0E7"
    assert format_value(ConfigType.DOUBLE, -0.0001) == "-1.0E-4"
    assert format_value(ConfigType.DOUBLE, 1.7976931348623157e308) == "1.7976931348623157E308"
    assert format_value(ConfigType.DOUBLE, 0.0) == "0.0"
    assert format_value(ConfigType.LONG, 2**63 - 1) == "9223372036854775807"
    assert format_value(ConfigType.STRING, None) is None


def _message(validator: object, value: object) -> str:
    with pytest.raises(ConfigError) as error:
        validator.check("c", value)  # type: ignore[attr-defined]
    return str(error.value)


def test_validator_messages() -> None:
    assert _message(at_least(1), 0) == "Invalid value 0 for configuration c: Value must be at least 1"
    assert (
        _message(between(0, 1), 1.5) == "Invalid value 1.5 for configuration c: Value must be no more than 1"
    )
    assert _message(RangeOrSentinel(1, 9, -1), 0) == (
        "Invalid value 0 for configuration c: Value must be between 1 and 9 or equal to -1"
    )
    assert (
        _message(OneOf(("a", "b")), "c") == "Invalid value c for configuration c: String must be one of: a, b"
    )
    assert _message(ListOf(("compact", "delete")), ("delete", "x")) == (
        "Invalid value x for configuration c: String must be one of: compact, delete"
    )
    assert _message(ThrottledReplicas(), ("1:2", "x")) == (
        "Invalid value [1:2, x] for configuration c: c must be the literal '*' or a list of replicas in the "
        "following format: [partitionId]:[brokerId],[partitionId]:[brokerId],..."
    )


def test_validators_accept_good_values() -> None:
    at_least(1).check("c", 1)
    between(0, 1).check("c", 0.0)
    RangeOrSentinel(1, 9, -1).check("c", -1)
    ThrottledReplicas().check("c", ("*",))
    ThrottledReplicas().check("c", ("0:1", " 1:2"))
    ThrottledReplicas().check("c", ())
    ListOf(("compact", "delete")).check("c", ())


def test_range_descriptions() -> None:
    assert at_least(4).describe() == "[4,...]"
    assert between(1, 17).describe() == "[1,...,17]"
    assert RangeOrSentinel(1, 9, -1).describe() == "[1,...,9] or -1"
