"""Fault tests: three broker processes on a real ZooKeeper, idempotent acks=all producers (RF=3,
min.insync.replicas=2) writing unique values while brokers are killed, paused, partitioned, lose
their unflushed tail or fill their disk; afterwards every partition is read from the start and the
reliability checker must find 0 acknowledged writes lost, 0 duplicates, 0 conflicting offsets and
no reordering. A new leader must serve within the ZooKeeper session timeout + 5 s. Duplicates that
librdkafka itself makes after one of its writes timed out (message.timeout.ms: it bumps its epoch
and sends what it still holds again, which no broker can recognise, Apache Kafka included) are
reported apart (`duplicates_after_timeout`, with the count of timed-out writes) and do not fail
a scenario: docs/cluster.md, "What idempotence guarantees". So are the duplicates librdkafka makes
when it bumps its epoch after a new leader refused a request before appending it
(NOT_LEADER_OR_FOLLOWER while it had not learnt of its election yet) and then answered the request
behind it OUT_OF_ORDER_SEQUENCE_NUMBER, as Kafka does: librdkafka then sends again, under the new
epoch, a write the dead leader had appended (`duplicates_after_epoch_bump`, librdkafka issue #4953;
the producers log librdkafka's reasons, `epoch_bumps` in the report; any other bump's duplicates
fail the scenario).

An acks=1 producer runs beside each scenario on a topic of its own; what it loses is reported
(printed and written to `chaos-report.json` in the module's temp directory), never asserted.

`make test` runs the short version: two leader kills, one leader paused past its session, one
round of ZooKeeper pauses, one rolling restart of the three brokers, one partitioned leader, two of
three replicas down, one lost unflushed tail and one full disk, with a new leader required within
the session timeout + 5 s + ODRADEK_CHAOS_SLACK_S (default 25 s: the gate runs on a loaded 2-core
machine, where this catches a partition that stays unwritable). `make chaos` (ODRADEK_CHAOS=1)
runs them with the strict limit (slack 0) and the counts raised:
ODRADEK_CHAOS_KILLS (leader SIGKILLs, default 2), ODRADEK_CHAOS_PAUSES
(leader SIGSTOPs past the session, default 1), ODRADEK_CHAOS_ZK_PAUSES (rounds of two ZooKeeper
pauses, default 1),
ODRADEK_CHAOS_PARTITIONS (isolated leaders, default 1), ODRADEK_CHAOS_ROLLS (rolling restarts,
default 1), ODRADEK_CHAOS_TAILS (lost unflushed tails, default 1). ODRADEK_CHAOS_CLIENT_DEBUG=eos
(librdkafka's `debug`, e.g. `eos,msg`) logs the producers' own account (epoch bumps and why, each
request's error) for pytest's --log-file.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import metadata as metadata_msg
from odradek.testing.fault_cluster import FaultCluster, wait_for
from odradek.testing.filesystems import MountUnavailable, small_tmpfs
from odradek.testing.raw_client import RawClient
from odradek.testing.reliability import History, Report, check
from odradek.testing.reliability_workload import ProducerWorkload, read_back

LONG = os.environ.get("ODRADEK_CHAOS") == "1"
pytestmark = [pytest.mark.compat, pytest.mark.timeout(14400 if LONG else 900)]

SESSION_MS = 6000
SLACK_S = float(os.environ.get("ODRADEK_CHAOS_SLACK_S", "0" if LONG else "25"))
SERVE_WITHIN_S = SESSION_MS / 1000 + 5 + SLACK_S
PARTITIONS = 3
DISK_BROKER = 3  # its log directory is a small tmpfs (when this process may mount)
DISK_BYTES = 192 << 20


def count(name: str, default: int) -> int:
    return int(os.environ.get(f"ODRADEK_CHAOS_{name}", default))


class Scenario:
    """One topic pair (acks=all checked, acks=1 reported) written while faults run."""

    def __init__(self, cluster: FaultCluster, name: str) -> None:
        self.cluster = cluster
        self.topic = name
        cluster.restore()
        admin = AdminClient({"bootstrap.servers": cluster.bootstrap()})
        config = {"min.insync.replicas": "2"}
        futures = admin.create_topics(
            [
                NewTopic(name, PARTITIONS, 3, config=config),
                NewTopic(f"{name}-acks1", PARTITIONS, 3, config=config),
            ]
        )
        for future in futures.values():
            future.result(timeout=30)
        self.wait_in_sync()
        self.history = History()
        self.acks1 = History()
        self.work = ProducerWorkload(cluster.bootstrap(), name, PARTITIONS, self.history, rate=150, name=name)
        self.work1 = ProducerWorkload(
            cluster.bootstrap(), f"{name}-acks1", PARTITIONS, self.acks1, acks="1", rate=100, name=name
        )
        self.serve_times: list[float] = []

    def __enter__(self) -> Scenario:
        self.work.start()
        self.work1.start()
        wait_for(lambda: all(self.work.ack_times[p] for p in range(PARTITIONS)), 60, "first acks")
        return self

    def __exit__(self, *exc: object) -> None:
        self.work.stop()
        self.work1.stop()

    def metadata(self, topic: str | None = None) -> dict[int, tuple[int, list[int]]]:
        md = AdminClient({"bootstrap.servers": self.cluster.bootstrap()}).list_topics(
            topic or self.topic, timeout=10
        )
        parts = md.topics[topic or self.topic].partitions
        return {p.id: (p.leader, sorted(p.isrs)) for p in parts.values()}

    def leader_of(self, partition: int) -> int:
        return self.metadata()[partition][0]

    def led_by(self, broker: int) -> list[int]:
        return [p for p, (leader, _) in self.metadata().items() if leader == broker]

    def wait_in_sync(self, timeout: float = 90) -> None:
        everyone = sorted(self.cluster.ids)

        last: list[object] = []

        def in_sync() -> bool:
            states = {t: self.metadata(t) for t in (self.topic, f"{self.topic}-acks1")}
            last[:] = [states]
            return all(
                leader in everyone and isr == everyone for s in states.values() for leader, isr in s.values()
            )

        try:
            wait_for(in_sync, timeout, "every replica back in the ISR")
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}: (leader, isr) per partition {last}") from None

    def wait_converged(self, timeout: float = 90) -> None:
        """Every replica back in the ISR as EVERY broker sees it: each broker's own Metadata lists
        every broker and a controller, and each partition with a live leader and the full ISR.
        After ZooKeeper sessions expired, the brokers register again one after the other, and a
        broker that read the cluster in between answers for a moment with only some brokers (its
        partitions led by the others without a leader); `wait_in_sync` asks one broker only."""
        self.wait_in_sync(timeout)
        last: list[str] = []

        def converged() -> bool:
            last[:] = disagreements(self.cluster, [self.topic, f"{self.topic}-acks1"])
            return not last

        try:
            wait_for(converged, timeout, "every broker's metadata back to the whole cluster")
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}: {last}") from None

    def wait_served(self, partitions: list[int], since: float, *, new_writes: bool = False) -> None:
        """Each partition acknowledges a write again within the session timeout + 5 s. With
        `new_writes`, only a write handed to the client after `since` counts (not the late answer
        to a request the old leader had in flight)."""
        first_ack = self.work.first_ack_of_a_write_after if new_writes else self.work.first_ack_after
        for p in partitions:
            wait_for(lambda p=p: first_ack(p, since) is not None, 90, f"p{p} writable again")
            took = first_ack(p, since)
            assert took is not None
            self.serve_times.append(took - since)
        late = [t for t in self.serve_times if t > SERVE_WITHIN_S]
        assert not late, f"a new leader served after {max(late):.1f} s (limit {SERVE_WITHIN_S:g} s)"

    def verify(self, report_to: dict[str, object]) -> Report:
        self.wait_in_sync()
        read_back(self.cluster.bootstrap(), self.topic, PARTITIONS, self.history)
        read_back(self.cluster.bootstrap(), f"{self.topic}-acks1", PARTITIONS, self.acks1)
        report, report1 = check(self.history), check(self.acks1)
        report_to[self.topic] = {
            "acks_all": report.summary(),
            "acks_1_lost": len(report1.lost),
            "acks_1_acknowledged": report1.acknowledged,
            "acks_1": report1.summary(),
            "serve_seconds_max": round(max(self.serve_times, default=0.0), 2),
            "timed_out": report.timed_out,
            "duplicates_after_timeout": len(report.duplicates_after_timeout),
            "duplicates_after_epoch_bump": [str(w) for w in report.duplicates_after_epoch_bump],
            "epoch_bumps": list(self.history.epoch_bumps),
            "producer_errors": dict(self.work.errors),
        }
        if report.duplicates:  # where each copy sits and where it was acknowledged, for the notes
            places = defaultdict(list)
            for p, records in self.history.reads.items():
                for offset, value in records:
                    places[value].append((p, offset))
            report_to[f"{self.topic}_duplicates"] = [
                {"write": str(w), "read_at": places[w.encode()], "acknowledged_at": self.history.acked.get(w)}
                for w in report.duplicates[:50]
            ]
        print(f"\n{self.topic}: acks=all {report.summary()}\n  acks=1 {report1.summary()}")
        assert report.acknowledged > 0
        assert report.ok, report.summary()
        return report


def disagreements(cluster: FaultCluster, topics: list[str]) -> list[str]:
    """What each broker's own Metadata answer (asked of it directly) says that is not the whole,
    settled cluster: a broker missing, no controller, a partition without a live leader or with a
    replica out of its ISR."""
    everyone = sorted(cluster.ids)
    request = metadata_msg.MetadataRequest(
        topics=[metadata_msg.MetadataRequestTopic(name=t) for t in topics], allow_auto_topic_creation=False
    )
    found = []
    for b in cluster.ids:
        address = f"127.0.0.1:{cluster.client_port[b]}"
        try:
            with RawClient.connect(address, timeout=10) as client:
                response = client.call(ApiKey.METADATA, 12, request)
        except Exception as exc:  # a broker not answering yet: not settled
            found.append(f"broker {b}: {exc!r}")
            continue
        brokers = sorted(x.node_id for x in response.brokers)
        if brokers != everyone or response.controller_id not in everyone:
            found.append(f"broker {b}: brokers {brokers} controller {response.controller_id}")
        for t in response.topics:
            for p in t.partitions:
                if p.error_code or p.leader_id not in everyone or sorted(p.isr_nodes) != everyone:
                    found.append(
                        f"broker {b}: {t.name}-{p.partition_index} {p.error_code} {p.leader_id} {p.isr_nodes}"
                    )
    return found


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    out: dict[str, object] = {}
    yield out
    path = Path(
        os.environ.get("ODRADEK_CHAOS_REPORT", tmp_path_factory.mktemp("report") / "chaos-report.json")
    )
    path.write_text(json.dumps(out, indent=2))
    print(f"\nchaos report: {path}")


@pytest.fixture(scope="module")
def disk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path | None]:
    directory = tmp_path_factory.mktemp("disk") / "broker-3"
    try:
        with small_tmpfs(directory, DISK_BYTES) as mounted:
            yield mounted
    except MountUnavailable:
        yield None


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, disk: Path | None) -> Iterator[FaultCluster]:
    if shutil.which("java") is None:
        pytest.skip("ZooKeeper (Debian package zookeeper) is installed by make test")
    c = FaultCluster(
        tmp_path_factory.mktemp("chaos"),
        session_ms=SESSION_MS,
        overrides={"replica.lag.time.max.ms": "5000", "auto.leader.rebalance.enable": "false"},
        data_dirs={DISK_BROKER: disk} if disk is not None else None,
    )
    try:
        c.start()
        yield c
    finally:
        c.stop()


def test_leader_kills(cluster: FaultCluster, results: dict[str, object]) -> None:
    with Scenario(cluster, "kills") as s:
        for i in range(count("KILLS", 2)):
            victim = s.leader_of(i % PARTITIONS)
            led = s.led_by(victim)
            killed_at = time.monotonic()
            cluster.kill(victim)
            s.wait_served(led, killed_at)
            cluster.start_broker(victim)
            s.wait_in_sync()
    s.verify(results)


def test_leader_paused_past_its_session(cluster: FaultCluster, results: dict[str, object]) -> None:
    with Scenario(cluster, "pauses") as s:
        for i in range(count("PAUSES", 1)):
            victim = s.leader_of(i % PARTITIONS)
            led = s.led_by(victim)
            paused_at = time.monotonic()
            cluster.pause(victim)
            try:
                s.wait_served(led, paused_at)
                time.sleep(max(0.0, SESSION_MS / 1000 + 1 - (time.monotonic() - paused_at)))
            finally:
                cluster.resume(victim)  # a zombie leader wakes up: it must not acknowledge anything
            s.wait_converged()
    s.verify(results)


def test_rolling_restarts(cluster: FaultCluster, results: dict[str, object]) -> None:
    steps: list[dict[str, float]] = []
    with Scenario(cluster, "rolling") as s:
        for _ in range(count("ROLLS", 1)):
            for b in cluster.ids:
                started = time.monotonic()
                assert cluster.stop_broker(b) == 0
                stopped = time.monotonic()
                cluster.start_broker(b)
                restarted = time.monotonic()
                s.wait_in_sync()
                in_sync = time.monotonic()
                steps.append(
                    {"stop": stopped - started, "start": restarted - stopped, "in_sync": in_sync - restarted}
                )
    results["rolling_seconds"] = [{k: round(v, 2) for k, v in step.items()} for step in steps]
    s.verify(results)


def test_zookeeper_pauses(cluster: FaultCluster, results: dict[str, object]) -> None:
    """ZooKeeper stops answering (SIGSTOP): shorter than a session, then longer than one (every
    broker's session expires; they register again and the controller is elected again). Then a
    topic created after the pauses must acknowledge acks=all writes as promptly as a new leader."""
    with Scenario(cluster, "zkpause") as s:
        for i in range(count("ZK_PAUSES", 1)):
            for seconds in (SESSION_MS / 2000, SESSION_MS / 1000 + 2):
                cluster.zookeeper.pause()
                try:
                    time.sleep(seconds)
                finally:
                    cluster.zookeeper.resume()
                resumed = time.monotonic()
                s.wait_served(list(range(PARTITIONS)), resumed)
                s.wait_converged()
            del i
    s.verify(results)
    took = fresh_topic_acknowledges(cluster, "zkpause-fresh")
    results["zkpause_fresh_topic_first_acks_seconds"] = round(took, 2)
    assert took <= SERVE_WITHIN_S, f"a topic created after the pauses first acknowledged after {took:.1f} s"


def fresh_topic_acknowledges(cluster: FaultCluster, name: str) -> float:
    """Create an RF=3 topic and write one acks=all record to each partition; seconds until every
    partition acknowledged (from the creation request)."""
    started = time.monotonic()
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap()})
    config = {"min.insync.replicas": "2"}
    for future in admin.create_topics([NewTopic(name, PARTITIONS, 3, config=config)]).values():
        future.result(timeout=30)
    producer = Producer(
        {"bootstrap.servers": cluster.bootstrap(), "acks": "all", "enable.idempotence": True, "linger.ms": 0}
    )
    acked: dict[int, float] = {}

    def on_delivery(err: object, msg: object) -> None:
        if err is None:
            acked[msg.partition()] = time.monotonic()  # type: ignore[attr-defined]

    for p in range(PARTITIONS):
        producer.produce(name, b"fresh", partition=p, on_delivery=on_delivery)
    producer.flush(60)
    assert sorted(acked) == list(range(PARTITIONS)), f"acknowledged partitions {sorted(acked)} within 60 s"
    return max(acked.values()) - started


def test_a_partitioned_leader_stops_acknowledging(cluster: FaultCluster, results: dict[str, object]) -> None:
    """The leader is cut from its followers and ZooKeeper while clients still reach it; then links
    only slow down (200 ms each way)."""
    with Scenario(cluster, "partition") as s:
        for i in range(count("PARTITIONS", 1)):
            victim = s.leader_of(i % PARTITIONS)
            led = s.led_by(victim)
            cluster.isolate(victim)
            cut_at = time.monotonic()
            try:
                s.wait_served(led, cut_at, new_writes=True)
                time.sleep(max(0.0, SESSION_MS / 1000 + 2 - (time.monotonic() - cut_at)))
            finally:
                cluster.heal(victim)
            s.wait_converged()  # its session expired: every broker's view of the cluster back first
        slow = s.leader_of(0)
        cluster.delay_links(slow, 0.2)
        try:
            time.sleep(4)
        finally:
            cluster.heal(slow)
        s.wait_in_sync()
    s.verify(results)


def test_two_of_three_replicas_down_refuse_writes_and_lose_nothing(
    cluster: FaultCluster, results: dict[str, object]
) -> None:
    with Scenario(cluster, "twodown") as s:
        survivor = s.leader_of(0)
        down = [b for b in cluster.ids if b != survivor]
        for b in down:
            cluster.kill(b)
        dead_at = time.monotonic()
        time.sleep(SESSION_MS / 1000 + 4)
        # With one replica left, no write handed to the client after the other two died may be
        # acknowledged. (A write from before the kill may still be, later: one the old leader had
        # committed with two copies but not yet answered, answered by the new leader to the retry.)
        fresh = s.work.acknowledged_writes_after(dead_at)
        assert fresh == [], f"{len(fresh)} acks=all writes acknowledged with one replica left"
        results["twodown_acknowledged_after_the_kill"] = sum(
            1 for p in range(PARTITIONS) for t in s.work.ack_times[p] if t > dead_at
        )
        for b in down:
            cluster.start_broker(b)
        back_at = time.monotonic()  # writable again once a second replica is back: no election limit
        for p in range(PARTITIONS):

            def writable(p: int = p) -> bool:
                return s.work.first_ack_after(p, back_at) is not None

            wait_for(writable, 90, f"p{p} writable")
    s.verify(results)


def test_a_broker_losing_its_unflushed_tail(cluster: FaultCluster, results: dict[str, object]) -> None:
    with Scenario(cluster, "tail") as s:
        for i in range(count("TAILS", 1)):
            victim = s.leader_of((i + 1) % PARTITIONS)
            led = s.led_by(victim)
            time.sleep(2)
            cluster.kill(victim)
            killed_at = time.monotonic()
            s.wait_served(led, killed_at, new_writes=True)
            cluster.start_broker(victim, lose_unflushed_tail=True)
            assert any("lost its unflushed tail" in line for line in cluster.brokers[victim].lines)
            s.wait_in_sync()
    s.verify(results)


def test_a_full_disk_acknowledges_nothing_unwritten_and_recovers(
    cluster: FaultCluster, results: dict[str, object], disk: Path | None
) -> None:
    if disk is None:
        pytest.skip("mounting a size-capped tmpfs needs root (make test runs as root in CI)")
    with Scenario(cluster, "fulldisk") as s:
        filler = disk / "filler"
        with filler.open("wb") as f, contextlib.suppress(OSError):
            while True:  # until ENOSPC: broker 3's appends (as leader or follower) now fail
                f.write(b"\0" * (1 << 20))
        try:
            time.sleep(SESSION_MS / 1000)
        finally:
            filler.unlink()
        freed_at = time.monotonic()
        s.wait_served(list(range(PARTITIONS)), freed_at)
        s.wait_in_sync()
    s.verify(results)
