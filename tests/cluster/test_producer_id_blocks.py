"""Producer ids in a ZooKeeper cluster: every broker takes its first block of ids at start (a
compare-and-set of `/latest_producer_id_block`), so a fresh cluster's first idempotent producer is not
kept waiting for a ZooKeeper round trip; two brokers never share a block, even when they take blocks
at the same moment; a restarted broker never hands out an id again."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Producer
from kazoo.client import KazooClient

from odradek.metadata.controller.brokers import PRODUCER_ID_BLOCK_SIZE, allocate_producer_ids
from odradek.metadata.store import MetadataConflictError
from odradek.metadata.zk_layout import PRODUCER_IDS
from odradek.metadata.zk_store import ZooKeeperMetadataStore, split_connect
from odradek.model.ids import BrokerId
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import init_producer_id
from odradek.testing.raw_client import RawClient
from odradek.testing.zk_cluster import ZkCluster, wait_for

FIRST_WRITE_BOUND_S = 5.0
"""A fresh cluster's first idempotent write (librdkafka: bootstrap Metadata, InitProducerId, one
acks=all Produce replicated to 3 brokers) takes ~0.15 s on an idle 2-core machine; 5 s leaves room for
a loaded one, and is far below librdkafka's retry loop on COORDINATOR_LOAD_IN_PROGRESS."""


@pytest.fixture
def zk(zk_connect: str) -> Iterator[KazooClient]:
    hosts, chroot = split_connect(zk_connect)
    bootstrap = KazooClient(hosts=hosts)
    bootstrap.start(timeout=10)
    bootstrap.ensure_path(chroot)
    bootstrap.stop()
    bootstrap.close()
    client = KazooClient(hosts=zk_connect)
    client.start(timeout=10)
    try:
        yield client
    finally:
        client.stop()
        client.close()


def block_end(zk: KazooClient) -> tuple[int, int]:
    """(last id handed out in a block, znode version) of `/latest_producer_id_block`; (-1, -1): none."""
    if not zk.exists(PRODUCER_IDS):
        return -1, -1
    data, stat = zk.get(PRODUCER_IDS)
    return int(json.loads(data)["block_end"]), stat.version


def init_producer_id_of(bootstrap: str) -> int:
    with RawClient.connect(bootstrap) as client:
        answer = client.call(ApiKey.INIT_PRODUCER_ID, 4, init_producer_id.InitProducerIdRequest(None, 60_000))
    assert answer.error_code == 0
    return int(answer.producer_id)


def test_brokers_take_their_first_block_at_start_never_the_same_one_nor_again_after_a_restart(
    tmp_path: Path, zk_connect: str, zk: KazooClient
) -> None:
    cluster = ZkCluster(tmp_path, zk_connect)
    try:
        # the three brokers start together: their first blocks are taken at the same moment
        cluster.start_all()
        wait_for(lambda: block_end(zk)[0] >= 3 * PRODUCER_ID_BLOCK_SIZE - 1, 20, "three blocks taken")
        taken = block_end(zk)
        # each broker answers its first InitProducerId from the block it already holds: no block
        # is taken for it (the znode is not written again)
        first = {node_id: init_producer_id_of(proc.bootstrap) for node_id, proc in cluster.brokers.items()}
        assert block_end(zk) == taken
        blocks = {node_id: pid // PRODUCER_ID_BLOCK_SIZE for node_id, pid in first.items()}
        assert len(set(blocks.values())) == 3, f"brokers share a block of producer ids: {first}"

        # a real client's first idempotent write on this fresh cluster
        started = time.monotonic()
        delivered: list[object] = []
        producer = Producer({"bootstrap.servers": cluster.bootstrap(), "enable.idempotence": True})
        producer.produce("first-write", b"v", on_delivery=lambda err, _msg: delivered.append(err))
        producer.flush(30)
        elapsed = time.monotonic() - started
        assert delivered == [None]
        assert elapsed < FIRST_WRITE_BOUND_S, f"first idempotent write took {elapsed:.2f} s"

        # a restarted broker takes a new block: none of its ids was handed out before
        assert cluster.brokers[1].stop() == 0
        before_restart = block_end(zk)[0]
        cluster.start(1)
        cluster.wait_registered(3)
        again = init_producer_id_of(cluster.brokers[1].bootstrap)
        assert again > before_restart, f"broker 1 handed out {again} again (blocks end at {before_restart})"
    finally:
        cluster.kill_all()


def test_two_stores_taking_blocks_at_once_never_share_an_id(zk_connect: str) -> None:
    """Two brokers' stores race to take blocks (the broker's controller loop: compute on the image,
    compare-and-set, on a conflict compute again on the fresh image)."""
    stores = [ZooKeeperMetadataStore.open(zk_connect, session_timeout_ms=4000) for _ in range(2)]
    per_store = 25
    taken: list[list[int]] = [[], []]
    conflicts = [0, 0]
    go = threading.Barrier(2)

    def take(index: int) -> None:
        store, node = stores[index], BrokerId(index + 1)
        go.wait()
        while len(taken[index]) < per_store:
            base = store.image
            result = allocate_producer_ids(base, node)
            try:
                store.apply(result.records, base=base)
            except MetadataConflictError:
                conflicts[index] += 1
                continue
            taken[index].append(int(result.response.first_producer_id))

    try:
        threads = [threading.Thread(target=take, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert all(len(t) == per_store for t in taken)
        firsts = sorted(taken[0] + taken[1])
        assert firsts == [i * PRODUCER_ID_BLOCK_SIZE for i in range(2 * per_store)], firsts
        assert sum(conflicts) > 0, "the stores never raced (the test proves nothing)"
    finally:
        for store in stores:
            store.close()
