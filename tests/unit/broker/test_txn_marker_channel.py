"""Markers for other brokers' partitions: batched per destination broker while a request is in
flight, each caller answered for its own partitions; a lost connection answers NETWORK_EXCEPTION
(retriable: the coordinator sends them again)."""

from __future__ import annotations

import asyncio
from typing import Any

from odradek.broker.broker_client import BrokerConnectionError
from odradek.broker.txn_marker_channel import MarkerChannelManager, Markers
from odradek.model.errors import ErrorCode
from odradek.model.topic_partition import TopicPartition
from odradek.protocol.messages import write_txn_markers as msg


class FakeConnection:
    """Answers WriteTxnMarkers: NO_ERROR for every partition except those in `not_leader`."""

    def __init__(self, *endpoint: Any) -> None:
        self.requests: list[msg.WriteTxnMarkersRequest] = []
        self.gate = asyncio.Event()
        self.fail = False
        self.not_leader: set[TopicPartition] = set()
        self.closed = False

    async def call(self, api_key: int, version: int, request: msg.WriteTxnMarkersRequest) -> Any:
        self.requests.append(request)
        await self.gate.wait()
        if self.fail:
            raise BrokerConnectionError("gone")
        return msg.WriteTxnMarkersResponse(
            [
                msg.WritableTxnMarkerResult(
                    m.producer_id,
                    [
                        msg.WritableTxnMarkerTopicResult(
                            t.name,
                            [
                                msg.WritableTxnMarkerPartitionResult(
                                    p,
                                    ErrorCode.NOT_LEADER_OR_FOLLOWER
                                    if TopicPartition(t.name, p) in self.not_leader
                                    else ErrorCode.NO_ERROR,
                                )
                                for p in t.partition_indexes
                            ],
                        )
                        for t in m.topics
                    ],
                )
                for m in request.markers
            ]
        )

    async def close(self) -> None:
        self.closed = True


def markers(pid: int, *tps: TopicPartition) -> Markers:
    return Markers(pid, 0, True, 3, frozenset(tps))


A0, A1, B0 = TopicPartition("a", 0), TopicPartition("a", 1), TopicPartition("b", 0)


def test_markers_queued_behind_a_request_in_flight_travel_together() -> None:
    async def run() -> None:
        connections: list[FakeConnection] = []

        def connect(*endpoint: Any) -> Any:
            connections.append(FakeConnection(*endpoint))
            return connections[-1]

        manager = MarkerChannelManager(1, 30.0, connect)
        first = asyncio.ensure_future(manager.send(2, ("h", 1), markers(10, A0)))
        await asyncio.sleep(0)
        later = [
            asyncio.ensure_future(manager.send(2, ("h", 1), markers(11, A1, B0))),
            asyncio.ensure_future(manager.send(2, ("h", 1), markers(12, B0))),
        ]
        await asyncio.sleep(0)
        [conn] = connections
        conn.not_leader = {B0}
        conn.gate.set()
        assert await first == {A0: ErrorCode.NO_ERROR}
        assert await later[0] == {A1: ErrorCode.NO_ERROR, B0: ErrorCode.NOT_LEADER_OR_FOLLOWER}
        assert await later[1] == {B0: ErrorCode.NOT_LEADER_OR_FOLLOWER}
        assert [[m.producer_id for m in r.markers] for r in conn.requests] == [[10], [11, 12]]
        assert conn.requests[1].markers[0].coordinator_epoch == 3
        # the broker moved (a new endpoint): a new connection, the old one closed
        conn.gate.clear()
        moved = asyncio.ensure_future(manager.send(2, ("h", 2), markers(13, A0)))
        await asyncio.sleep(0)
        assert conn.closed and len(connections) == 2
        connections[1].fail = True
        connections[1].gate.set()
        assert await moved == {A0: ErrorCode.NETWORK_EXCEPTION}
        await manager.stop()

    asyncio.run(run())
