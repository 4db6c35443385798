"""KIP-618's per-connector offsets topic: a source connector with `offsets.storage.topic` keeps its
offsets in a topic of its own (distributed workers; created compacted when missing, with the
worker's offsets partitions and replication factor).

Reads look in the connector's topic first and fall back to the worker's for partitions it has
never written (so a connector moved onto its own topic resumes where it was). Writes go to the
connector's topic, then to the worker's as a best-effort copy (a failure there is logged, not
raised), as Kafka Connect does. Exactly-once tasks write their offsets to the connector's topic
inside their transaction and copy them to the worker's afterwards (`mirror`).

Standalone workers have only the offsets file: as in Kafka Connect the setting does not apply
there, and the worker says so in its log when the connector starts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from odradek.connect.runtime.offset_store import OffsetStore

log = logging.getLogger("odradek.connect.offsets")


class ConnectorOffsetStore(OffsetStore):
    def __init__(self, primary: OffsetStore, secondary: OffsetStore) -> None:
        super().__init__()
        self.primary = primary
        self.secondary = secondary

    def get(
        self, connector: str, partitions: Iterable[Mapping[str, Any]]
    ) -> dict[str, dict[str, Any] | None]:
        wanted = [dict(p) for p in partitions]
        found = self.primary.get(connector, wanted)
        missing = [p for p in wanted if found.get(_key(p)) is None]
        if missing:
            for key, offset in self.secondary.get(connector, missing).items():
                if offset is not None:
                    found[key] = offset
        return found

    def all_for(self, connector: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        merged = {_key(p): (p, o) for p, o in self.secondary.all_for(connector)}
        merged.update({_key(p): (p, o) for p, o in self.primary.all_for(connector)})
        return list(merged.values())

    def write(
        self, connector: str, offsets: Mapping[str, tuple[dict[str, Any], dict[str, Any] | None]]
    ) -> None:
        self.primary.write(connector, offsets)
        self.mirror(connector, offsets)

    def mirror(
        self, connector: str, offsets: Mapping[str, tuple[dict[str, Any], dict[str, Any] | None]]
    ) -> None:
        try:
            self.secondary.write(connector, offsets)
        except Exception as exc:
            log.warning("copying the offsets of %s to the worker's offsets topic failed: %s", connector, exc)

    def read_to_end(self) -> None:
        self.primary.read_to_end()
        self.secondary.read_to_end()


def _key(partition: dict[str, Any]) -> str:
    from odradek.connect.runtime.offset_keys import canonical_json

    return canonical_json(partition)
