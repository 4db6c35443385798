"""A broker's connection to another broker (`broker_client.py`) against a scripted peer on
loopback: an answer arriving in pieces is decoded from the one buffer it was received into (the
fetched records are views of it, not copies); a peer that closes mid-answer or announces a
negative size is a `BrokerConnectionError`, and the next call connects again."""

from __future__ import annotations

import asyncio
import struct
import uuid
from collections.abc import Awaitable, Callable

from odradek.broker.broker_client import BrokerConnection, BrokerConnectionError
from odradek.protocol import framing
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.fetch import write_fetch_response
from odradek.protocol.messages import fetch as msg

VERSION = 15
RECORDS = bytes(range(256)) * (12 * 1024)  # 3 MiB: above the frame reader's scratch and big sizes


def fetch_answer(correlation_id: int) -> bytes:
    response = msg.FetchResponse(
        responses=[
            msg.FetchableTopicResponse(
                topic_id=uuid.UUID(int=7),
                partitions=[msg.PartitionData(partition_index=0, high_watermark=42, records=[RECORDS])],
            )
        ]
    )
    body = framing.response_header(correlation_id, msg.RESPONSE, VERSION) + b"".join(
        write_fetch_response(response, VERSION)
    )
    return struct.pack(">i", len(body)) + body


Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


async def serve(script: Script) -> tuple[asyncio.Server, int]:
    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                (size,) = struct.unpack(">i", await reader.readexactly(4))
                frame = await reader.readexactly(size)
                correlation_id = struct.unpack_from(">i", frame, 4)[0]
                await script(reader, writer, correlation_id)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(on_client, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def request() -> msg.FetchRequest:
    return msg.FetchRequest(replica_state=msg.ReplicaState(replica_id=2), max_wait_ms=0)


def test_an_answer_in_pieces_is_decoded_in_place() -> None:
    async def pieces(_r: asyncio.StreamReader, writer: asyncio.StreamWriter, cid: int) -> None:
        answer = fetch_answer(cid)
        for start in range(0, len(answer), 700_001):
            writer.write(answer[start : start + 700_001])
            await writer.drain()
            await asyncio.sleep(0.001)

    async def main() -> None:
        server, port = await serve(pieces)
        connection = BrokerConnection("127.0.0.1", port, "test", 10)
        try:
            for _ in range(2):  # two answers on one connection
                response = await connection.call(ApiKey.FETCH, VERSION, request())
                data = response.responses[0].partitions[0]
                assert data.high_watermark == 42
                assert isinstance(data.records, memoryview) and isinstance(data.records.obj, bytearray)
                assert bytes(data.records) == RECORDS
        finally:
            await connection.close()
            server.close()

    asyncio.run(main())


def test_the_next_answer_reuses_the_buffer_once_no_view_of_it_is_alive() -> None:
    async def whole(_r: asyncio.StreamReader, writer: asyncio.StreamWriter, cid: int) -> None:
        writer.write(fetch_answer(cid))
        await writer.drain()

    async def records(connection: BrokerConnection) -> memoryview:
        response = await connection.call(ApiKey.FETCH, VERSION, request())
        found = response.responses[0].partitions[0].records
        assert isinstance(found, memoryview)
        return found

    async def main() -> None:
        server, port = await serve(whole)
        connection = BrokerConnection("127.0.0.1", port, "test", 10)
        try:
            kept = await records(connection)  # a view still alive: the next answer gets a new buffer
            second = await records(connection)
            assert second.obj is not kept.obj and bytes(kept) == RECORDS == bytes(second)
            buffer = second.obj
            second.release()  # nothing points into it any more: the next answer is received there
            third = await records(connection)
            assert third.obj is buffer and bytes(third) == RECORDS
        finally:
            await connection.close()
            server.close()

    asyncio.run(main())


def test_a_peer_closing_mid_answer_fails_the_call_and_the_next_call_reconnects() -> None:
    calls = 0

    async def half_then_whole(_r: asyncio.StreamReader, writer: asyncio.StreamWriter, cid: int) -> None:
        nonlocal calls
        calls += 1
        answer = fetch_answer(cid)
        if calls == 1:
            writer.write(answer[: len(answer) // 2])
            await writer.drain()
            raise ConnectionError("cut")
        writer.write(answer)
        await writer.drain()

    async def main() -> None:
        server, port = await serve(half_then_whole)
        connection = BrokerConnection("127.0.0.1", port, "test", 10)
        try:
            try:
                await connection.call(ApiKey.FETCH, VERSION, request())
            except BrokerConnectionError:
                pass
            else:
                raise AssertionError("a cut answer was accepted")
            assert not connection.connected
            response = await connection.call(ApiKey.FETCH, VERSION, request())
            assert bytes(response.responses[0].partitions[0].records) == RECORDS
        finally:
            await connection.close()
            server.close()

    asyncio.run(main())


def test_a_peer_that_never_answers_times_the_call_out() -> None:
    async def silent(_r: asyncio.StreamReader, _w: asyncio.StreamWriter, cid: int) -> None:
        await asyncio.sleep(30)

    async def main() -> None:
        server, port = await serve(silent)
        connection = BrokerConnection("127.0.0.1", port, "test", 0.2)
        try:
            try:
                await connection.call(ApiKey.FETCH, VERSION, request())
            except BrokerConnectionError as exc:
                assert "TimeoutError" in str(exc)
            else:
                raise AssertionError("no answer, yet the call returned")
            assert not connection.connected
        finally:
            await connection.close()
            server.close()

    asyncio.run(main())


def test_a_negative_answer_size_fails_the_call() -> None:
    async def negative(_r: asyncio.StreamReader, writer: asyncio.StreamWriter, cid: int) -> None:
        writer.write(struct.pack(">i", -5))
        await writer.drain()

    async def main() -> None:
        server, port = await serve(negative)
        connection = BrokerConnection("127.0.0.1", port, "test", 10)
        try:
            try:
                await connection.call(ApiKey.FETCH, VERSION, request())
            except BrokerConnectionError as exc:
                assert "size" in str(exc)
            else:
                raise AssertionError("a negative size was accepted")
        finally:
            await connection.close()
            server.close()

    asyncio.run(main())
