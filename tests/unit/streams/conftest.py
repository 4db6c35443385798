"""Helpers for the streams tests: a driver with string keys and JSON values by default."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from odradek.streams import StreamsBuilder
from odradek.streams.testing import TopologyTestDriver

DEFAULTS = {"default.key.serde": "string", "default.value.serde": "json"}


@pytest.fixture
def make_driver() -> Iterator[Any]:
    drivers: list[TopologyTestDriver] = []

    def make(
        builder: StreamsBuilder, config: dict[str, Any] | None = None, **kwargs: Any
    ) -> TopologyTestDriver:
        driver = TopologyTestDriver(builder.build(), {**DEFAULTS, **(config or {})}, **kwargs)
        drivers.append(driver)
        return driver

    yield make
    for driver in drivers:
        driver.close()
