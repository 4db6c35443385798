from __future__ import annotations

import pytest

from odradek.metadata.config_types import ConfigError
from odradek.metadata.static_config import StaticBrokerConfig


def test_node_id_from_either_name() -> None:
    assert StaticBrokerConfig.from_properties({"node.id": "3"}).node_id == 3
    assert StaticBrokerConfig.from_properties({"broker.id": "4"}).node_id == 4
    assert StaticBrokerConfig.from_properties({"broker.id": "5", "node.id": "5"}).node_id == 5


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({}, 'Missing required configuration "node.id" which has no default value.'),
        (
            {"node.id": "1", "broker.id": "2"},
            "If both broker.id and node.id are set they must be equal, but broker.id=2 and node.id=1",
        ),
        ({"node.id": "x"}, "Invalid value x for configuration node.id: Not a number of type INT"),
        (
            {"node.id": "1", "num.partitions": "0"},
            "Invalid value 0 for configuration num.partitions: Value must be at least 1",
        ),
    ],
)
def test_bad_properties(properties: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        StaticBrokerConfig.from_properties(properties)
    assert str(error.value) == message


def test_unknown_properties_are_kept_but_ignored() -> None:
    static = StaticBrokerConfig.from_properties({"node.id": "1", "some.plugin.setting": "x"})
    assert static.get("some.plugin.setting") == "x"
