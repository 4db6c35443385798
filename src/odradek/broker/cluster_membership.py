"""A broker's membership of a ZooKeeper cluster (`zookeeper.connect` set): store, registration, controller.

* `open_store()` connects to ZooKeeper within `zookeeper.connection.timeout.ms` (default: the
  session timeout); an unreachable address fails the start with the address in the message.
* `join()`, after an unclean shutdown, takes this broker out of every ISR and ELR it is in (KIP-966:
  it may have lost an unflushed tail); then registers this broker (an ephemeral
  `/brokers/ids/<node.id>` with one endpoint per advertised listener and `broker.rack`), writing the
  cluster id first if the cluster is new. If the id is registered already, it waits up to the
  session timeout for that registration to vanish (a broker restarted right after a crash finds its
  old session's znode), then refuses to start with a clear message: another live broker has this id.
  Then the `ClusterController` starts.
* `stop()`, with `controlled.shutdown.enable` (default true): a controlled shutdown, as Kafka's. The
  broker fences itself (its registration says so; fenced brokers are not live), the controller moves
  every leadership it can to another live in-sync replica, and the broker waits (up to
  `CONTROLLED_SHUTDOWN_S`) until it leads nothing that someone else could lead, then stops; its
  session ends and its registration vanishes.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from odradek.broker.cluster_controller import ClusterController
from odradek.metadata.controller.brokers import fence_broker, join_cluster
from odradek.metadata.controller.leader_election import movable_leaderships
from odradek.metadata.controller.result import ControllerResult
from odradek.metadata.image import ClusterImage
from odradek.metadata.store import MetadataStore
from odradek.model.ids import BrokerId

if TYPE_CHECKING:
    from odradek.broker.app import Broker

log = logging.getLogger("odradek.broker.cluster")
CONTROLLED_SHUTDOWN_S = 10.0


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
        self._joined = False
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

    async def join(self) -> None:
        from odradek.metadata.zk_store import BrokerIdTakenError

        gone = await self.controller.wait_until(
            lambda image: self.node_id not in image.brokers, self.session_timeout_ms / 1000
        )
        old = self.broker.image.brokers.get(self.node_id)
        if not gone and old is not None:
            raise BrokerIdTakenError(
                f"node.id {self.node_id} is already registered by a live broker ({old.host}:{old.port}) "
                f"in ZooKeeper at {self.connect}: give this broker another node.id (broker.id)"
            )
        host, port = self.broker.advertised_endpoint()
        endpoints = self.broker.advertised_endpoints()

        def joining(image: ClusterImage) -> ControllerResult[None]:
            joined = join_cluster(
                image, self.node_id, host, port, rack=self.rack, endpoints=endpoints, rng=self.broker.rng
            )
            return ControllerResult(self.broker.unclean_shutdown_records(image) + joined.records, None)

        await self.broker.run_controller(joining)
        log.info(
            "broker %d registered in ZooKeeper at %s (%s)", self.node_id, self.connect, ", ".join(endpoints)
        )
        self._joined = True
        self.controller.start()

    async def stop(self) -> None:
        if self._joined and self.broker.config.bool_value("controlled.shutdown.enable"):
            try:
                await self._controlled_shutdown()
            except Exception:
                log.warning("controlled shutdown failed; stopping anyway", exc_info=True)
        await self.controller.stop()

    async def _controlled_shutdown(self) -> None:
        me = self.node_id
        if self.broker.image.is_live(me):
            await self.broker.run_controller(
                lambda image: ControllerResult(fence_broker(image, me, True), None)
            )
        moved = await self.controller.wait_until(
            lambda image: movable_leaderships(image, me) == 0, CONTROLLED_SHUTDOWN_S
        )
        if not moved:
            log.warning(
                "controlled shutdown: %d leadership(s) could not be moved in time",
                movable_leaderships(self.broker.image, me),
            )
        else:
            log.info("controlled shutdown: broker %d leads no partition another replica could lead", me)
