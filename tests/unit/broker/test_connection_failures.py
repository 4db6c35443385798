"""A handler that raises closes its connection: CloseConnection quietly with its reason, anything else
logged at ERROR with its traceback, whether it raises at once or after waiting."""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Callable, Coroutine
from typing import Any, cast

import pytest

from odradek.broker.connection import KafkaConnection
from odradek.broker.dispatcher import CloseConnection, Dispatcher
from odradek.testing.fake_transport import FakeTransport, feed


async def _raise_now(exc: Exception) -> list[bytes] | None:
    raise exc


async def _raise_later(exc: Exception) -> list[bytes] | None:
    await asyncio.sleep(0)
    raise exc


class _Raising:
    def __init__(self, how: Callable[[Exception], Any], exc: Exception) -> None:
        self.how = how
        self.exc = exc

    def handle(
        self, frame: bytearray, client_host: str, connection_id: int, session: object = None
    ) -> Coroutine[Any, Any, Any]:
        return cast(Coroutine[Any, Any, Any], self.how(self.exc))


def _raise_in_handle(exc: Exception) -> Any:
    raise exc


@pytest.mark.parametrize("how", [_raise_in_handle, _raise_now, _raise_later])
@pytest.mark.parametrize("bug", [False, True])
def test_failing_handler_closes_the_connection(
    how: Callable[[Exception], Any], bug: bool, caplog: pytest.LogCaptureFixture
) -> None:
    exc = RuntimeError("boom") if bug else CloseConnection("unsupported request")

    async def run() -> tuple[FakeTransport, KafkaConnection]:
        connections: set[KafkaConnection] = set()
        conn = KafkaConnection(cast(Dispatcher, _Raising(how, exc)), 1024, connections)
        transport = FakeTransport(conn, asyncio.get_running_loop())
        conn.connection_made(transport)
        await feed(conn, transport, struct.pack(">i", 4) + b"\x00\x12\x00\x00", chunk=64)
        for _ in range(3):
            await asyncio.sleep(0)
        assert connections == set()
        return transport, conn

    with caplog.at_level(logging.INFO, logger="odradek"):
        transport, conn = asyncio.run(run())
    assert transport.closed and conn.closed and conn.busy is None
    assert transport.written == b""
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    reasons = [r.getMessage() for r in caplog.records if r.getMessage().startswith("closing connection")]
    if bug:
        assert [r.getMessage() for r in errors] == [
            f"handler failed; closing connection {conn.connection_id}"
        ]
        assert errors[0].exc_info is not None and errors[0].exc_info[1] is exc
        assert reasons == [f"closing connection {conn.connection_id} from 127.0.0.1: internal error"]
    else:
        assert errors == []
        assert reasons == [f"closing connection {conn.connection_id} from 127.0.0.1: unsupported request"]
