"""Three (or n) real broker processes on a real ZooKeeper, wired for fault injection.

    cluster = FaultCluster(tmp_path, brokers=3).start()
    cluster.kill(2); cluster.start_broker(2)                 # SIGKILL and restart (same data, ports)
    cluster.pause(1); cluster.resume(1)                      # SIGSTOP / SIGCONT
    cluster.isolate(1); cluster.heal(1)                      # cut from its peers and ZooKeeper
    cluster.zookeeper.pause(); cluster.zookeeper.resume()    # the whole ensemble stops answering

Each broker has two listeners: CLIENT (what clients bootstrap from and are sent to, direct) and
REPLICATION, advertised first, so followers fetch through it, reached only through the broker's
own `TcpProxy` (`replication_proxy[id]`). Each broker also reaches ZooKeeper through a proxy of its
own (`zookeeper_proxy[id]`). `isolate(b)` partitions both: nobody can fetch from b and b's
ZooKeeper session expires, while clients still reach b, so a partitioned leader is asked to
acknowledge writes it can no longer replicate. b's own fetches from other leaders are not cut (an
asymmetric partition; the proxies cannot tell which broker connects). `delay_links(b, s)` slows
both of b's links instead.

`lose_unflushed_tail=True` on `start_broker` sets ODRADEK_FAULT_LOSE_UNFLUSHED_TAIL for that start:
the storage layer then drops every partition's tail past its recovery-point checkpoint when it
recovers from a crash (what a power loss does to writes nobody fsynced). Ports are fixed per broker
(picked free at construction, below the kernel's ephemeral port range: `listener_port`), so a
restarted broker comes back at the same address.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from odradek.cluster.zookeeper import ZooKeeperServer, free_port
from odradek.testing.broker_process import BrokerProcess
from odradek.testing.tcp_proxy import TcpProxy

LOSE_TAIL_ENV = "ODRADEK_FAULT_LOSE_UNFLUSHED_TAIL"


EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def listener_port(host: str = "127.0.0.1") -> int:
    """A free port below the kernel's ephemeral range, for a listener that must keep its port from
    construction through restarts. A port from that range (what binding port 0 gives) may meanwhile
    become the local end of any process's outgoing connection on this shared machine (seen: a broker
    failing to start with EADDRINUSE); ports below it are taken only by listeners that chose them."""
    try:
        low = int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    for _ in range(200):
        port = random.randint(max(1024, low - 12000), low - 1)
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
        return port
    return free_port(host)


def wait_for(condition: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> float:
    """Poll until `condition()` holds; returns the seconds it took."""
    started = time.monotonic()
    while True:
        try:
            if condition():
                return time.monotonic() - started
        except Exception:
            pass
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{what} not met within {timeout:g} s")
        time.sleep(0.1)


class FaultCluster:
    def __init__(
        self,
        root: Path,
        brokers: int = 3,
        session_ms: int = 6000,
        overrides: Mapping[str, str] | None = None,
        data_dirs: Mapping[int, Path] | None = None,
        proxies: bool = True,
    ) -> None:
        self.root = root
        self.ids = list(range(1, brokers + 1))
        self.session_ms = session_ms
        self.overrides = dict(overrides or {})
        self.zookeeper = ZooKeeperServer(root / "zookeeper")
        self.zookeeper_proxy = {b: TcpProxy() for b in self.ids}
        self.replication_proxy = {b: TcpProxy() for b in self.ids}
        self.client_port = {b: listener_port() for b in self.ids}
        self.replication_port = {b: listener_port() for b in self.ids}
        self.data_dirs = {b: (data_dirs or {}).get(b, root / f"broker-{b}") for b in self.ids}
        self.brokers: dict[int, BrokerProcess] = {}
        self.paused: set[int] = set()
        self.proxies = proxies  # False: brokers reach each other and ZooKeeper directly (benchmarks)

    # --- life cycle ---------------------------------------------------------------------------
    def start(self) -> FaultCluster:
        self.zookeeper.start()
        for b in self.ids:
            self.zookeeper_proxy[b].target = ("127.0.0.1", self.zookeeper.port)
            self.zookeeper_proxy[b].start()
            self.replication_proxy[b].target = ("127.0.0.1", self.replication_port[b])
            self.replication_proxy[b].start()
        for b in self.ids:
            self.brokers[b] = BrokerProcess(self.data_dirs[b], self._config(b), start_timeout=120)
        for b in self.ids:
            self.brokers[b].start()
        wait_for(lambda: len(self.live_brokers()) == len(self.ids), 60, "every broker registered")
        return self

    def _config(self, b: int) -> dict[str, str]:
        chroot = "/chaos"
        replication = self.replication_proxy[b].port if self.proxies else self.replication_port[b]
        zookeeper = self.zookeeper_proxy[b].port if self.proxies else self.zookeeper.port
        return {
            "node.id": str(b),
            "listeners": f"CLIENT://127.0.0.1:{self.client_port[b]},"
            f"REPLICATION://127.0.0.1:{self.replication_port[b]}",
            "advertised.listeners": f"REPLICATION://127.0.0.1:{replication},"
            f"CLIENT://127.0.0.1:{self.client_port[b]}",
            "listener.security.protocol.map": "CLIENT:PLAINTEXT,REPLICATION:PLAINTEXT",
            "inter.broker.listener.name": "REPLICATION",
            "zookeeper.connect": f"127.0.0.1:{zookeeper}{chroot}",
            "zookeeper.session.timeout.ms": str(self.session_ms),
            "offsets.topic.replication.factor": str(min(3, len(self.ids))),
            "transaction.state.log.replication.factor": str(min(3, len(self.ids))),
            **self.overrides,
        }

    def stop(self) -> None:
        for b in list(self.paused):
            self.resume(b)
        for b, proc in self.brokers.items():
            proc.kill()
            (self.root / f"broker-{b}.log").write_text("\n".join(proc.lines))  # its last run's log
        for proxy in [*self.zookeeper_proxy.values(), *self.replication_proxy.values()]:
            proxy.stop()
        self.zookeeper.stop()

    def __enter__(self) -> FaultCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def restore(self) -> None:
        """Undo every fault left over (a failed test): heal links, resume, start stopped brokers."""
        self.zookeeper.resume()
        self.heal()
        for b in list(self.paused):
            self.resume(b)
        for b, proc in self.brokers.items():
            if proc.proc is None or proc.proc.poll() is not None:
                proc.proc = None
                self.start_broker(b)
        wait_for(lambda: len(self.live_brokers()) == len(self.ids), 60, "every broker registered")

    # --- addresses ------------------------------------------------------------------------------
    def bootstrap(self, without: int | None = None) -> str:
        return ",".join(f"127.0.0.1:{self.client_port[b]}" for b in self.ids if b != without)

    def live_brokers(self) -> list[int]:
        """The brokers every running broker knows as registered (each answers from its own image)."""
        from confluent_kafka.admin import AdminClient

        seen: set[int] | None = None
        for b, proc in self.brokers.items():
            if proc.proc is None or b in self.paused:
                continue
            md = AdminClient({"bootstrap.servers": f"127.0.0.1:{self.client_port[b]}"}).list_topics(timeout=5)
            seen = set(md.brokers) if seen is None else seen & set(md.brokers)
        return sorted(seen or ())

    # --- faults -----------------------------------------------------------------------------------
    def cpu_seconds(self) -> dict[int, float]:
        """User + system CPU time of each running broker process so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        out = {}
        for b, proc in self.brokers.items():
            if proc.proc is not None:
                fields = Path(f"/proc/{proc.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
                out[b] = (int(fields[11]) + int(fields[12])) / ticks
        return out

    def kill(self, b: int) -> None:
        self.resume(b)
        self.brokers[b].kill()

    def stop_broker(self, b: int) -> int:
        """A clean stop (SIGTERM: controlled shutdown)."""
        return self.brokers[b].stop(timeout=30)

    def start_broker(self, b: int, *, lose_unflushed_tail: bool = False) -> None:
        proc = self.brokers[b]
        if lose_unflushed_tail:
            os.environ[LOSE_TAIL_ENV] = "1"
        try:
            proc.start()
        finally:
            os.environ.pop(LOSE_TAIL_ENV, None)

    def pause(self, b: int) -> None:
        proc = self.brokers[b].proc
        assert proc is not None
        os.kill(proc.pid, signal.SIGSTOP)
        self.paused.add(b)

    def resume(self, b: int) -> None:
        proc = self.brokers[b].proc
        if b in self.paused and proc is not None:
            os.kill(proc.pid, signal.SIGCONT)
        self.paused.discard(b)

    def isolate(self, b: int, *, zookeeper: bool = True) -> None:
        self.replication_proxy[b].partition()
        if zookeeper:
            self.zookeeper_proxy[b].partition()

    def isolate_from_zookeeper(self, b: int) -> None:
        self.zookeeper_proxy[b].partition()

    def delay_links(self, b: int, seconds: float) -> None:
        self.replication_proxy[b].delay(seconds)
        self.zookeeper_proxy[b].delay(seconds)

    def heal(self, b: int | None = None) -> None:
        for one in self.ids if b is None else [b]:
            self.replication_proxy[one].heal()
            self.zookeeper_proxy[one].heal()
