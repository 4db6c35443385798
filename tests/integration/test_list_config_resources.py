"""ListConfigResources (74): what can carry dynamic configs, by resource type."""

from __future__ import annotations

from pathlib import Path

from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import list_config_resources as lcr
from odradek.testing.in_process import InProcessBroker


def test_config_resources_by_type(tmp_path: Path) -> None:
    with InProcessBroker(tmp_path) as b:
        b.create_topic("b-topic", 1)
        b.create_topic("a-topic", 1)
        conn = b.connect()

        def listed(version: int, *types: int) -> tuple[int, list[tuple[str, int]]]:
            response = conn.call(
                ApiKey.LIST_CONFIG_RESOURCES, version, lcr.ListConfigResourcesRequest(list(types))
            )
            return response.error_code, [
                (r.resource_name, r.resource_type) for r in response.config_resources
            ]

        everything = [("a-topic", 2), ("b-topic", 2), ("1", 4), ("1", 8)]
        assert listed(1) == (0, everything)
        assert listed(1, 32, 16) == (0, [])  # no group or client-metrics configs exist here
        assert listed(1, 8, 2) == (0, [("1", 8), ("a-topic", 2), ("b-topic", 2)])
        assert listed(1, 64) == (ErrorCode.UNSUPPORTED_VERSION, [])
        assert listed(0) == (0, [])  # v0: client metrics only
