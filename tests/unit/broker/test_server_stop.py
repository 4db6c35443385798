"""KafkaServer.stop while a client is being accepted: the accepted socket is closed, not leaked."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import socket
import warnings
from typing import Any, cast

from odradek.broker.server import KafkaServer, Listener


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_a_client_connecting_while_the_server_stops_is_not_leaked() -> None:
    asyncio.run(_a_client_connecting_while_the_server_stops())


async def _a_client_connecting_while_the_server_stops() -> None:
    gc.collect()
    before = _open_fds()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        server = KafkaServer(cast(Any, None), 1 << 20)
        await server.start([Listener("PLAINTEXT", "127.0.0.1", 0)])
        await asyncio.sleep(0)  # the accept loop waits for a connection
        port = server.bound[0][1]
        with socket.create_connection(("127.0.0.1", port)) as client:
            # The next turn of the loop sees the listener readable: the accept completes there, and
            # the accept loop would take the connection on the turn after; stop() runs in between.
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            await server.stop()
            await asyncio.sleep(0.05)  # closing transports finish on later turns
            client.settimeout(5)
            with contextlib.suppress(ConnectionResetError):  # reset with the listener's backlog, or
                assert client.recv(1) == b""  # closed by the broker
        leaked = _open_fds() - before
        gc.collect()
    assert leaked == 0
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
