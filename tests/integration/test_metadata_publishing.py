"""The broker follows the metadata store through its publishers, whoever changed it: a change applied
to the store from another thread (as a ZooKeeper store's watch would deliver one) is hosted and
served exactly like one the broker's own controller made."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from pathlib import Path

from odradek.metadata.controller.topics import CreatableTopic, create_topics
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import metadata
from odradek.testing.in_process import InProcessBroker


def test_a_change_made_outside_the_broker_is_followed(tmp_path: Path) -> None:
    with InProcessBroker(tmp_path) as b:
        broker = b.broker
        store = broker.store
        assert store is not None
        static = StaticBrokerConfig.from_properties({"node.id": "1"})
        # the change is made once this broker is live in the store's image (registered, unfenced),
        # as a controller elsewhere would place partitions on it only then
        deadline = time.monotonic() + 10
        while not store.image.is_live(1) and time.monotonic() < deadline:
            b.run(asyncio.sleep(0.01))
        created = create_topics(
            store.image, static, [CreatableTopic("elsewhere", 3)], validate_only=False, rng=random.Random(1)
        )
        assert [r.error_code for r in created.response] == [0], created.response
        records = created.records
        applier = threading.Thread(target=store.apply, args=(records,))
        applier.start()
        applier.join()
        b.run(broker.publishing.published(store.version))
        hosted = sorted(
            p.tp.partition for p in broker.partitions.all_partitions() if p.tp.topic == "elsewhere"
        )
        assert hosted == [0, 1, 2]
        assert all(p.is_leader and p.high_watermark == 0 for p in broker.partitions.all_partitions())
        answer = b.connect().call(ApiKey.METADATA, 12, metadata.MetadataRequest(topics=None))
        assert [(t.name, len(t.partitions)) for t in answer.topics] == [("elsewhere", 3)]
        assert broker.publishing.version == store.version
