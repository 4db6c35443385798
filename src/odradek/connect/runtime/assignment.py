"""Which connectors and tasks this worker runs.

Every unit of work has a key (`connector:<name>`, `task:<name>:<n>`) hashed onto one of a fixed
number of *slots* (CRC-32 of the key modulo the slot count). A worker runs the units whose slots
it owns. Standalone: one worker owns every slot. Distributed: slots are the partitions of a
topic and the workers are one consumer group over it (`slots.py`), so Kafka's group protocol and
librdkafka's cooperative-sticky assignor decide ownership: no home-made membership protocol, a
new connector never moves existing units, a departed worker's slots move to the others.
"""

from __future__ import annotations

import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable


def connector_unit(name: str) -> str:
    return f"connector:{name}"


def task_unit(name: str, task: int) -> str:
    return f"task:{name}:{task}"


def slot_of(unit: str, slots: int) -> int:
    return zlib.crc32(unit.encode()) % slots


class Assignment(ABC):
    on_change: Callable[[], None] = staticmethod(lambda: None)
    """Called (from the group's thread) after slots were added or revoked; runs the herder's
    reconciliation synchronously so revoked units stop before the group moves on."""

    @abstractmethod
    def owns(self, unit: str) -> bool: ...

    @abstractmethod
    def generation(self) -> int: ...

    @abstractmethod
    def is_leader(self) -> bool: ...

    def leader_url(self) -> str | None:
        return None

    def rebalancing(self) -> bool:
        return False

    def start(self) -> None:
        """Join."""

    def stop(self) -> None:
        """Leave."""


class LocalAssignment(Assignment):
    """Standalone: this worker runs everything."""

    def owns(self, unit: str) -> bool:
        return True

    def generation(self) -> int:
        return 1

    def is_leader(self) -> bool:
        return True
