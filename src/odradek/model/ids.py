"""Distinct types for distinct integers (parse at the edge, trust inside).

`NewType`s cost nothing at run time; mypy keeps an `Offset` from being passed where an `Epoch` is
expected. Sentinels follow Kafka: -1 means "none/unknown" for epochs, offsets and producer ids.
"""

from __future__ import annotations

from typing import NewType

Offset = NewType("Offset", int)
"""A position in a partition log (int64)."""

Epoch = NewType("Epoch", int)
"""A leader epoch or a group/member generation (int32)."""

BrokerId = NewType("BrokerId", int)
"""A broker's `node.id` (int32)."""

ProducerId = NewType("ProducerId", int)
"""An idempotent/transactional producer id (int64)."""

ProducerEpoch = NewType("ProducerEpoch", int)
"""A producer's epoch (int16); bumped to fence zombies."""

NO_OFFSET = Offset(-1)
NO_EPOCH = Epoch(-1)
NO_PRODUCER_ID = ProducerId(-1)
NO_PRODUCER_EPOCH = ProducerEpoch(-1)
NO_SEQUENCE = -1

SchemaId = NewType("SchemaId", int)
"""A schema registry's schema id (int32): what Confluent's wire format carries after the magic byte."""
