"""The metadata store interface: the current image, and a durable way to change it.

Two implementations share it (ARCHITECTURE D4): `LocalMetadataStore` keeps a single node's metadata
in a file under its data directory; a ZooKeeper-backed store keeps a cluster's. `InMemoryMetadataStore`
is for tests and tools. The contract, checked by one test body against every implementation:

* `image` is the state after every batch `apply` accepted, also after a restart (reopen);
* `apply(records)` validates the batch by replaying it on the image, makes it durable as one atomic
  unit, and returns the new image; a batch that does not replay raises `ReplayError` and changes
  nothing; an empty batch changes nothing;
* calls are not concurrent: the caller serializes them (the controller is single-threaded).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import MetadataRecord


class MetadataStore(Protocol):
    @property
    def image(self) -> ClusterImage: ...

    def apply(self, records: Sequence[MetadataRecord]) -> ClusterImage: ...

    def close(self) -> None: ...


class InMemoryMetadataStore:
    """A MetadataStore without durability."""

    def __init__(self, image: ClusterImage = ClusterImage.EMPTY) -> None:
        self._image = image

    @property
    def image(self) -> ClusterImage:
        return self._image

    def apply(self, records: Sequence[MetadataRecord]) -> ClusterImage:
        if records:
            self._image = replay(self._image, records)
        return self._image

    def close(self) -> None:
        pass
