"""`Filter`: drop every record (use it with a predicate: `transforms.x.predicate=...`)."""

from __future__ import annotations

from odradek.connect.api.records import ConnectRecord
from odradek.connect.transforms.base import Transformation


class Filter(Transformation):
    java_class = "org.apache.kafka.connect.transforms.Filter"

    def apply(self, record: ConnectRecord) -> ConnectRecord | None:
        return None
