"""Broker registration, the single-node bootstrap, and producer-id blocks.

Producer ids are handed out in blocks (as Kafka's controller does) so a broker can serve
InitProducerId without a metadata write per producer; the ProducerIdsRecord makes every id below
`next_producer_id` taken for ever, across restarts.
"""

from __future__ import annotations

import base64
import random
import uuid
from dataclasses import dataclass

from odradek.metadata.controller.result import ControllerResult
from odradek.metadata.image import BrokerRegistration, ClusterImage
from odradek.metadata.records import (
    BrokerFenceRecord,
    ClusterIdRecord,
    ControllerRecord,
    MetadataRecord,
    ProducerIdsRecord,
    RegisterBrokerRecord,
    UnregisterBrokerRecord,
)
from odradek.model.ids import BrokerId, ProducerId

PRODUCER_ID_BLOCK_SIZE = 1000


def new_cluster_id(rng: random.Random) -> str:
    """A cluster id in Kafka's form: a random UUID as 22 characters of unpadded base64url."""
    raw = uuid.UUID(bytes=rng.randbytes(16), version=4).bytes
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def register_broker(
    image: ClusterImage,
    broker_id: BrokerId,
    host: str,
    port: int,
    rack: str | None,
    endpoints: tuple[str, ...] = (),
) -> tuple[MetadataRecord, ...]:
    """Records registering (or re-registering with a new endpoint) an unfenced broker."""
    old = image.brokers.get(broker_id)
    epoch = 0 if old is None else old.broker_epoch
    wanted = BrokerRegistration(broker_id, host, port, rack, False, epoch, endpoints)
    if old == wanted:
        return ()
    epoch = 0 if old is None else old.broker_epoch + 1
    return (RegisterBrokerRecord(broker_id, host, port, rack, False, epoch, endpoints),)


def fence_broker(image: ClusterImage, broker_id: BrokerId, fenced: bool) -> tuple[MetadataRecord, ...]:
    broker = image.brokers.get(broker_id)
    if broker is None or broker.fenced == fenced:
        return ()
    return (BrokerFenceRecord(broker_id, fenced),)


def unregister_broker(image: ClusterImage, broker_id: BrokerId) -> tuple[MetadataRecord, ...]:
    return (UnregisterBrokerRecord(broker_id),) if broker_id in image.brokers else ()


def bootstrap_single_node(
    image: ClusterImage, broker_id: BrokerId, host: str, port: int, *, rack: str | None, rng: random.Random
) -> tuple[MetadataRecord, ...]:
    """What a lone broker writes at start: a cluster id the first time, itself as controller, and
    its registration. Empty when nothing changed since the last start."""
    records: list[MetadataRecord] = []
    if image.cluster_id is None:
        records.append(ClusterIdRecord(new_cluster_id(rng)))
    if image.controller_id != broker_id:
        records.append(ControllerRecord(broker_id, image.controller_epoch + 1))
    records.extend(register_broker(image, broker_id, host, port, rack))
    return tuple(records)


def join_cluster(
    image: ClusterImage,
    broker_id: BrokerId,
    host: str,
    port: int,
    *,
    rack: str | None,
    endpoints: tuple[str, ...],
    rng: random.Random,
) -> ControllerResult[None]:
    """What a broker writes when it joins a ZooKeeper cluster: the cluster id if it is the first one
    ever, and its registration (the ZooKeeper store makes it ephemeral). The controller is elected
    separately (`leader_election.elect_controller`)."""
    records: list[MetadataRecord] = []
    if image.cluster_id is None:
        records.append(ClusterIdRecord(new_cluster_id(rng)))
    records.extend(register_broker(image, broker_id, host, port, rack, endpoints))
    return ControllerResult(tuple(records), None)


@dataclass(frozen=True, slots=True)
class ProducerIdBlock:
    """A block of producer ids allocated to one broker."""

    broker_id: BrokerId
    first_producer_id: ProducerId
    size: int

    @property
    def last_producer_id(self) -> ProducerId:
        return ProducerId(self.first_producer_id + self.size - 1)


def allocate_producer_ids(
    image: ClusterImage, broker_id: BrokerId, block_size: int = PRODUCER_ID_BLOCK_SIZE
) -> ControllerResult[ProducerIdBlock]:
    first = image.next_producer_id
    block = ProducerIdBlock(broker_id, ProducerId(first), block_size)
    return ControllerResult((ProducerIdsRecord(broker_id, first + block_size),), block)
