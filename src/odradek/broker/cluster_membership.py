"""A broker's membership of a ZooKeeper cluster (`zookeeper.connect` set): store, registration, controller.

* `open_store()` connects to ZooKeeper within `zookeeper.connection.timeout.ms` (default: the
  session timeout); an unreachable address fails the start with the address in the message.
* `join()` registers this broker (an ephemeral `/brokers/ids/<node.id>` with one endpoint per
  advertised listener and `broker.rack`), writing the cluster id first if the cluster is new. If the
  id is registered already, it waits up to the session timeout for that registration to vanish (a
  broker restarted right after a crash finds its old session's znode), then refuses to start with a
  clear message: another live broker has this id. Then the `ClusterController` starts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from odradek.broker.cluster_controller import ClusterController
from odradek.metadata.controller.brokers import join_cluster
from odradek.metadata.store import MetadataStore
from odradek.model.ids import BrokerId

if TYPE_CHECKING:
    from odradek.broker.app import Broker

log = logging.getLogger("odradek.broker.cluster")


class ClusterMembership:
    def __init__(self, broker: Broker) -> None:
        config = broker.config
        assert config.zookeeper_connect is not None
        self.broker = broker
        self.connect = config.zookeeper_connect
        self.node_id = BrokerId(config.node_id)
        self.session_timeout_ms = config.int_value("zookeeper.session.timeout.ms")
        connection = config.value("zookeeper.connection.timeout.ms")
        self.connection_timeout_ms = connection if isinstance(connection, int) else None
        rack = config.value("broker.rack")
        self.rack = str(rack) if rack else None
        self.controller = ClusterController(
            self.node_id, config.static, lambda: broker.image, broker.run_controller
        )

    async def open_store(self) -> MetadataStore:
        from odradek.metadata.zk_store import ZooKeeperMetadataStore

        store = await asyncio.to_thread(
            ZooKeeperMetadataStore.open,
            self.connect,
            session_timeout_ms=self.session_timeout_ms,
            connection_timeout_ms=self.connection_timeout_ms,
        )
        self.broker.publishing.publishers.append(self.controller)
        log.info("connected to ZooKeeper at %s", self.connect)
        return store

    def endpoints(self) -> tuple[str, ...]:
        out = []
        for listener in self.broker.config.advertised_listeners:
            host, port = self.broker.advertised_endpoint(listener.name)
            out.append(f"{listener.name}://{host}:{port}")
        return tuple(out)

    async def join(self) -> None:
        from odradek.metadata.zk_store import BrokerIdTakenError

        deadline = time.monotonic() + self.session_timeout_ms / 1000
        while (old := self.broker.image.brokers.get(self.node_id)) is not None:
            if time.monotonic() > deadline:
                raise BrokerIdTakenError(
                    f"node.id {self.node_id} is already registered by a live broker ({old.host}:{old.port}) "
                    f"in ZooKeeper at {self.connect}: give this broker another node.id (broker.id)"
                )
            await asyncio.sleep(0.1)
        host, port = self.broker.advertised_endpoint()
        endpoints = self.endpoints()
        await self.broker.run_controller(
            lambda image: join_cluster(
                image, self.node_id, host, port, rack=self.rack, endpoints=endpoints, rng=self.broker.rng
            )
        )
        log.info(
            "broker %d registered in ZooKeeper at %s (%s)", self.node_id, self.connect, ", ".join(endpoints)
        )
        self.controller.start()

    async def stop(self) -> None:
        await self.controller.stop()
