"""Accepted client sockets have TCP_NODELAY on whichever event loop runs the broker (both loops'
socket transports set it: answers written in several sends never wait for a delayed ACK)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any, cast

import pytest

from odradek.broker.server import KafkaServer, Listener
from odradek.process.event_loop import loop_factory


@pytest.mark.parametrize("choice", ["asyncio", "uvloop"])
def test_accepted_sockets_send_without_delay(choice: str) -> None:
    name, factory = loop_factory({"ODRADEK_EVENT_LOOP": choice})
    assert name == choice

    async def run() -> int:
        server = KafkaServer(cast(Any, None), 1 << 20)
        await server.start([Listener("PLAINTEXT", "127.0.0.1", 0)])
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", server.bound[0][1])
            for _ in range(200):
                if server.connections:
                    break
                await asyncio.sleep(0.01)
            [conn] = server.connections
            assert conn.transport is not None
            sock = conn.transport.get_extra_info("socket")
            nodelay = int(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()
            await writer.wait_closed()
            return nodelay
        finally:
            await server.stop()

    runner = asyncio.Runner(loop_factory=factory)
    with runner:
        assert runner.run(run()) == 1
