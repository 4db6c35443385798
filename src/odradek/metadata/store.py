"""The metadata store interface: the current image, a durable way to change it, and change notifications.

Two implementations share it (ARCHITECTURE D4): `LocalMetadataStore` keeps a single node's metadata
in a file under its data directory; a ZooKeeper-backed store keeps a cluster's. `InMemoryMetadataStore`
is for tests and tools. The contract, checked by one test body against every implementation
(`odradek.testing.metadata_store_contract`):

* `image` is the state after every batch `apply` accepted, also after a restart (reopen), and
  `version` counts the changes the store has made to it (it never goes back while the store is open);
* `apply(records)` validates the batch by replaying it on the image, makes it durable as one atomic
  unit, and returns the new image; a batch that does not replay raises `ReplayError` and changes
  nothing; an empty batch changes nothing;
* publishers (Kafka's MetadataPublisher): `subscribe(publisher)` first hands the publisher the current
  image (a `MetadataChange` from the empty image), then every change, in order, once each, before
  the `apply` that made it returns (a ZooKeeper store also publishes the changes other brokers made,
  as its watches see them); a batch that changes nothing publishes nothing; a publisher that raises
  is logged and does not stop the others or the change; `unsubscribe` stops the notifications.
  Publishers may be called from any thread the store works in: they must be quick and thread-safe
  (the broker's queues each change onto its event loop);
* calls to `apply` are not concurrent: the caller serializes them (the controller is single-threaded).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import MetadataRecord

log = logging.getLogger("odradek.metadata")


@dataclass(frozen=True, slots=True)
class MetadataChange:
    """One change of the cluster image, as publishers hear it."""

    before: ClusterImage
    after: ClusterImage
    records: tuple[MetadataRecord, ...]
    version: int
    """The store's version after this change."""

    @property
    def created_topics(self) -> frozenset[str]:
        before = self.before.topics_by_id
        return frozenset(t.name for tid, t in self.after.topics_by_id.items() if tid not in before)

    @property
    def deleted_topics(self) -> frozenset[str]:
        after = self.after.topics_by_id
        return frozenset(t.name for tid, t in self.before.topics_by_id.items() if tid not in after)


class MetadataPublisher(Protocol):
    def on_metadata_update(self, change: MetadataChange) -> None: ...


class MetadataStore(Protocol):
    @property
    def image(self) -> ClusterImage: ...

    @property
    def version(self) -> int: ...

    def apply(self, records: Sequence[MetadataRecord]) -> ClusterImage: ...

    def subscribe(self, publisher: MetadataPublisher) -> None: ...

    def unsubscribe(self, publisher: MetadataPublisher) -> None: ...

    def close(self) -> None: ...


class Publishers:
    """What stores share to notify publishers (a store holds one and calls `publish` after a change)."""

    def __init__(self) -> None:
        self._publishers: list[MetadataPublisher] = []
        self._lock = threading.Lock()

    def subscribe(self, publisher: MetadataPublisher, image: ClusterImage, version: int) -> None:
        with self._lock:
            self._publishers.append(publisher)
        self._notify(publisher, MetadataChange(ClusterImage.EMPTY, image, (), version))

    def unsubscribe(self, publisher: MetadataPublisher) -> None:
        with self._lock:
            self._publishers = [p for p in self._publishers if p is not publisher]

    def publish(self, change: MetadataChange) -> None:
        with self._lock:
            publishers = list(self._publishers)
        for publisher in publishers:
            self._notify(publisher, change)

    @staticmethod
    def _notify(publisher: MetadataPublisher, change: MetadataChange) -> None:
        try:
            publisher.on_metadata_update(change)
        except Exception:
            log.exception("metadata publisher %r failed on version %d", publisher, change.version)


class InMemoryMetadataStore:
    """A MetadataStore without durability."""

    def __init__(self, image: ClusterImage = ClusterImage.EMPTY) -> None:
        self._image = image
        self._version = 0
        self._publishers = Publishers()

    @property
    def image(self) -> ClusterImage:
        return self._image

    @property
    def version(self) -> int:
        return self._version

    def apply(self, records: Sequence[MetadataRecord]) -> ClusterImage:
        if records:
            before = self._image
            self._image = replay(before, records)
            self._version += 1
            self._publishers.publish(MetadataChange(before, self._image, tuple(records), self._version))
        return self._image

    def subscribe(self, publisher: MetadataPublisher) -> None:
        self._publishers.subscribe(publisher, self._image, self._version)

    def unsubscribe(self, publisher: MetadataPublisher) -> None:
        self._publishers.unsubscribe(publisher)

    def close(self) -> None:
        pass
