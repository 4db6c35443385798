"""KIP-618's per-connector offsets store: reads its own topic first and falls back to the worker's,
writes both (the worker's copy best-effort), lists the union with its own offsets winning."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from odradek.connect.runtime.connector_offsets import ConnectorOffsetStore
from odradek.connect.runtime.offset_keys import canonical_json
from odradek.connect.runtime.offset_store import FileOffsetStore


class Broken(FileOffsetStore):
    def write(self, connector: str, offsets: Mapping[str, Any]) -> None:
        raise RuntimeError("down")


def offsets(*pairs: tuple[dict[str, Any], dict[str, Any] | None]) -> dict[str, Any]:
    return {canonical_json(p): (p, o) for p, o in pairs}


def test_own_topic_first_then_the_workers() -> None:
    own, worker = FileOffsetStore(""), FileOffsetStore("")
    store = ConnectorOffsetStore(own, worker)
    a, b = {"file": "a"}, {"file": "b"}
    worker.write("c", offsets((a, {"pos": 1}), (b, {"pos": 2})))
    own.write("c", offsets((a, {"pos": 10})))
    assert store.get("c", [a, b]) == {canonical_json(a): {"pos": 10}, canonical_json(b): {"pos": 2}}
    assert sorted(o["pos"] for _, o in store.all_for("c")) == [2, 10]
    store.write("c", offsets((b, {"pos": 20})))
    assert own.get("c", [b]) == worker.get("c", [b]) == {canonical_json(b): {"pos": 20}}
    store.write("c", offsets((a, None)))  # a reset tombstones both
    assert own.get("c", [a]) == worker.get("c", [a]) == {canonical_json(a): None}


def test_the_workers_copy_is_best_effort() -> None:
    own = FileOffsetStore("")
    store = ConnectorOffsetStore(own, Broken(""))
    store.write("c", offsets(({"p": 1}, {"o": 1})))
    assert own.get("c", [{"p": 1}]) == {canonical_json({"p": 1}): {"o": 1}}
