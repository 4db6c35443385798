"""The Connect worker `odradek dev` starts: its group, and the dev registry for the Avro/JSON
Schema/Protobuf converters when the registry runs on a known port."""

from __future__ import annotations

from pathlib import Path

from odradek.supervisor.services import DEV_SERVICES
from odradek.supervisor.spec import DevContext


def test_connect_worker_arguments_point_converters_at_the_dev_registry() -> None:
    [connect] = [s for s in DEV_SERVICES if s.name == "connect"]
    ctx = DevContext(
        "127.0.0.1:9092", "127.0.0.1", Path("data"), services={"registry": 8081, "connect": 8083}
    )
    argv = connect.argv(ctx)
    assert argv[argv.index("connect") : argv.index("connect") + 2] == ["connect", "distributed"]
    assert "--group-id" in argv and "odradek-dev-connect" in argv
    assert "value.converter.schema.registry.url=http://127.0.0.1:8081" in argv
    assert "key.converter.schema.registry.url=http://127.0.0.1:8081" in argv
    without = connect.argv(
        DevContext("127.0.0.1:9092", "127.0.0.1", Path("data"), services={"connect": 8083})
    )
    assert not [a for a in without if "schema.registry.url" in a]
