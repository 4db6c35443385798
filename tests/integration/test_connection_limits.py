"""Connection limits of a real broker: idle connections closed (a long poll or an answer still
draining is not idle), creation rate, per-address, per-listener and total limits (the inter-broker
listener exempt), the ``ip`` connection_creation_rate quota, and what an idle connection costs in
memory."""

from __future__ import annotations

import concurrent.futures
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import api_versions, fetch
from odradek.testing.broker_process import BrokerProcess
from odradek.testing.raw_client import encode_request

SIZE = struct.Struct(">i")
HELLO = encode_request(
    ApiKey.API_VERSIONS,
    3,
    api_versions.ApiVersionsRequest(client_software_name="tests", client_software_version="1"),
    1,
)


def connect(broker: BrokerProcess, source: str = "127.0.0.1", timeout: float = 10.0) -> socket.socket:
    sock = socket.socket()
    sock.settimeout(timeout)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", broker.port))
    return sock


def hello(sock: socket.socket) -> bool:
    """Send ApiVersions; True if answered, False if the broker closed the connection."""
    try:
        sock.sendall(SIZE.pack(len(HELLO)) + HELLO)
        head = sock.recv(4, socket.MSG_WAITALL)
        if len(head) < 4:
            return False
        body = sock.recv(SIZE.unpack(head)[0], socket.MSG_WAITALL)
        return len(body) == SIZE.unpack(head)[0]
    except (ConnectionResetError, BrokenPipeError):
        return False


def closed_by_peer(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    overrides = {
        "connections.max.idle.ms": "600",
        "max.connection.creation.rate": "20",
        "max.connections.per.ip.overrides": "127.0.0.2:2",
    }
    with BrokerProcess(tmp_path_factory.mktemp("limited"), overrides) as broker:
        yield broker


def test_idle_connections_are_closed_and_busy_ones_kept(limited: BrokerProcess) -> None:
    idle, busy = connect(limited), connect(limited)
    assert hello(idle) and hello(busy)
    deadline = time.monotonic() + 1.6
    while time.monotonic() < deadline:
        assert hello(busy)
        time.sleep(0.2)
    idle.settimeout(3)
    assert closed_by_peer(idle)
    assert hello(busy)
    idle.close()
    busy.close()


def fetch_frame(topic: str, max_wait_ms: int) -> bytes:
    """A size-prefixed Fetch v12 of partition 0 from offset 0."""
    partition = fetch.FetchPartition(partition=0, fetch_offset=0, partition_max_bytes=64 << 20)
    request = fetch.FetchRequest(
        max_wait_ms=max_wait_ms, min_bytes=1, topics=[fetch.FetchTopic(topic=topic, partitions=[partition])]
    )
    body = encode_request(ApiKey.FETCH, 12, request, 2)
    return SIZE.pack(len(body)) + body


def test_a_fetch_long_polling_beyond_the_idle_time_keeps_its_connection(limited: BrokerProcess) -> None:
    """fetch.max.wait.ms 2000 against connections.max.idle.ms 600: the Fetch of an empty partition
    waits on the broker longer than the idle time, yet the connection is busy, not idle. (A
    librdkafka consumer cannot show it: its own Metadata and FindCoordinator requests, several a
    second, would keep the connection anyway.)"""
    admin = AdminClient({"bootstrap.servers": limited.bootstrap})
    [created] = admin.create_topics([NewTopic("long-poll", 1, 1)], operation_timeout=5).values()
    created.result(10)
    sock = connect(limited)
    started = time.monotonic()
    sock.sendall(fetch_frame("long-poll", 2000))
    (size,) = SIZE.unpack(sock.recv(4, socket.MSG_WAITALL))
    assert len(sock.recv(size, socket.MSG_WAITALL)) == size
    assert time.monotonic() - started > 1.9  # it did wait
    assert hello(sock)
    sock.close()


def test_an_answer_draining_to_a_slow_reader_keeps_its_connection(
    broker_factory: Callable[..., BrokerProcess],
) -> None:
    """A 20 MB Fetch answer read slowly for 4.5 s (over twice connections.max.idle.ms) while the
    broker still holds some of it beyond the kernel's send buffer (4 MB at most on loopback): the
    broker writes more of it as the client reads, so (as Kafka counts writes as activity) the
    connection stays open for the next request. The kernel wakes a writer once a third of its send
    buffer is free, so writes come about every 1.4 MB here: the client reads faster than 1.4 MB in
    connections.max.idle.ms."""
    broker = broker_factory({"connections.max.idle.ms": "2000"})
    topic = "slow-reader"
    producer = Producer({"bootstrap.servers": broker.bootstrap})
    for _ in range(400):
        producer.produce(topic, b"x" * 50_000)
    assert producer.flush(10) == 0
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)  # before connect: a small window
    sock.settimeout(10)
    sock.connect(("127.0.0.1", broker.port))
    sock.sendall(fetch_frame(topic, 0))
    (size,) = SIZE.unpack(sock.recv(4, socket.MSG_WAITALL))
    assert size > 20_000_000
    slow_until = time.monotonic() + 4.5
    while time.monotonic() < slow_until:  # about 2.4 MB/s
        size -= len(sock.recv(49152))
        time.sleep(0.02)
    assert size > 5_000_000  # the broker held some of it all along
    while size > 0:
        size -= len(sock.recv(min(size, 1 << 20)))
    assert hello(sock)
    sock.close()


def test_a_burst_beyond_the_creation_rate_waits_and_is_accepted(limited: BrokerProcess) -> None:
    time.sleep(1.1)  # a full bucket of 20
    started = time.monotonic()

    def client(_: int) -> socket.socket:
        sock = connect(limited)
        assert hello(sock)
        return sock

    with concurrent.futures.ThreadPoolExecutor(35) as pool:
        socks = list(pool.map(client, range(35)))
    elapsed = time.monotonic() - started
    assert 0.5 < elapsed < 8  # 15 beyond the burst at 20 per second: about 0.75 s later, none refused
    for sock in socks:
        sock.close()


def test_an_address_over_its_limit_is_closed_at_once(limited: BrokerProcess) -> None:
    first, second = connect(limited, "127.0.0.2"), connect(limited, "127.0.0.2")
    assert hello(first) and hello(second)
    third = connect(limited, "127.0.0.2")
    third.settimeout(5)
    assert closed_by_peer(third)
    other = connect(limited)  # other addresses are not affected
    assert hello(other)
    second.close()
    time.sleep(0.2)
    fourth = connect(limited, "127.0.0.2")
    assert hello(fourth)
    for sock in (first, third, other, fourth):
        sock.close()


def test_at_max_connections_a_new_client_waits_for_a_free_slot(
    broker_factory: Callable[..., BrokerProcess],
) -> None:
    broker = broker_factory({"max.connections": "5"})
    held = []
    for _ in range(5):
        sock = connect(broker)
        assert hello(sock)
        held.append(sock)
    waiting = connect(broker)  # taken into the backlog by the kernel, not by the broker
    waiting.settimeout(1.0)
    with pytest.raises(TimeoutError):
        hello(waiting)
    held.pop().close()
    waiting.settimeout(10)
    head = waiting.recv(4, socket.MSG_WAITALL)  # the request sent before is answered now
    assert len(head) == 4
    for sock in [*held, waiting]:
        sock.close()


def test_an_idle_connection_costs_a_few_kilobytes(broker_factory: Callable[..., BrokerProcess]) -> None:
    broker = broker_factory()
    assert broker.proc is not None
    warm = [connect(broker) for _ in range(50)]
    assert all(hello(s) for s in warm)
    for sock in warm:
        sock.close()
    time.sleep(0.3)
    before = rss_kib(broker.proc.pid)
    held = [connect(broker) for _ in range(500)]
    assert all(hello(s) for s in held)
    time.sleep(0.3)
    per_connection = (rss_kib(broker.proc.pid) - before) / len(held)
    assert per_connection < 30, f"{per_connection:.1f} KiB per idle connection"
    for sock in held:
        sock.close()


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def connect_to(port: int, source: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket()
    sock.settimeout(10)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def test_listener_limits_and_the_inter_broker_exemption(broker_factory: Callable[..., BrokerProcess]) -> None:
    """``listener.name.client.max.connections=2`` holds CLIENT at two; ``max.connections=3`` holds
    the broker, but the inter-broker listener (INTERNAL) is exempt from it."""
    broker = broker_factory(
        {
            "listeners": "CLIENT://127.0.0.1:0,INTERNAL://127.0.0.1:0",
            "listener.security.protocol.map": "CLIENT:PLAINTEXT,INTERNAL:PLAINTEXT",
            "inter.broker.listener.name": "INTERNAL",
            "max.connections": "3",
            "listener.name.client.max.connections": "2",
        }
    )
    client_port, internal_port = broker.listener_ports["CLIENT"], broker.listener_ports["INTERNAL"]
    clients = [connect_to(client_port) for _ in range(2)]
    assert all(hello(s) for s in clients)
    waiting = connect_to(client_port)  # in the backlog: CLIENT is at its listener limit
    waiting.settimeout(1.0)
    with pytest.raises(TimeoutError):
        hello(waiting)
    brokers = [connect_to(internal_port) for _ in range(3)]  # 5 open > max.connections 3
    assert all(hello(s) for s in brokers)
    clients.pop().close()  # a CLIENT slot frees, but the broker (5 open) is over max.connections
    time.sleep(0.3)
    waiting.settimeout(0.5)
    with pytest.raises(TimeoutError):
        waiting.recv(4, socket.MSG_WAITALL)
    for sock in brokers[:2]:
        sock.close()
    waiting.settimeout(10)
    assert len(waiting.recv(4, socket.MSG_WAITALL)) == 4  # 2 open now: the waiting client is served
    for sock in [*clients, *brokers[2:], waiting]:
        sock.close()


def test_an_address_over_its_connection_creation_rate_is_closed_after_a_delay(
    broker_factory: Callable[..., BrokerProcess],
) -> None:
    """The ``ip`` client quota ``connection_creation_rate``, set with ``odradek quota set --ip``
    (AlterClientQuotas): connections beyond the rate are held unserved, then closed; other
    addresses keep connecting."""
    broker = broker_factory()
    command = ["quota", "set", "--ip", "127.0.0.4", "--connection-creation-rate", "1"]
    bootstrap = ["--bootstrap-server", f"127.0.0.1:{broker.port}"]
    subprocess.run(
        [sys.executable, "-m", "odradek", *command, *bootstrap], check=True, capture_output=True, timeout=60
    )
    first = connect(broker, "127.0.0.4")
    assert hello(first)
    throttled = connect(broker, "127.0.0.4")
    started = time.monotonic()
    throttled.sendall(SIZE.pack(len(HELLO)) + HELLO)
    throttled.settimeout(10)
    assert closed_by_peer(throttled)  # never answered
    assert time.monotonic() - started > 0.5  # ... and closed after the throttle time (about 1 s)
    others = [connect(broker, "127.0.0.5") for _ in range(5)]
    assert all(hello(s) for s in others)
    time.sleep(1.0)
    again = connect(broker, "127.0.0.4")  # the bucket refilled
    assert hello(again)
    for sock in [first, throttled, *others, again]:
        sock.close()
