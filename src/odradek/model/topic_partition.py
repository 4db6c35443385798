"""A partition's name: topic and index. Topic ids are 16-byte UUIDs (KIP-516)."""

from __future__ import annotations

import uuid
from typing import NamedTuple

ZERO_UUID = uuid.UUID(int=0)


class TopicPartition(NamedTuple):
    topic: str
    partition: int

    def __str__(self) -> str:
        return f"{self.topic}-{self.partition}"
