#!/usr/bin/env python3
"""Security costs: PLAINTEXT vs SSL vs SASL_SSL throughput and broker CPU per 1 KiB message, the
connection set-up rate of each mechanism, and the broker memory of an idle authenticated connection.

    python bench/security_bench.py                # 100 000 messages per listener
    python bench/security_bench.py --messages 5000 --connections 20 --idle 100 --rounds 1

One broker with four listeners (PLAINTEXT, SSL, SASL_SSL with PLAIN, SCRAM-SHA-256/512 and
OAUTHBEARER, and SSL_LOOP: SSL on the event loop's own TLS transport, `odradek.ssl.transport=loop`,
an A/B against the broker's TLS transport in the same run), no authorizer (the transport's cost
alone). Producer and consumer are confluent-kafka
(acks=1); CPU is the broker process's time on CPU (/proc schedstat, all threads) per message.
Connection set-up uses the CLI's wire client (TLS handshake + SASL exchange + one ApiVersions).
Run by `make bench`, never by `make test`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from odradek.cli.wire_client import Connection
from odradek.cli.wire_security import WireSecurity
from odradek.security.dev_certificates import DEFAULT_SERVER_NAMES, issue, make_ca
from odradek.security.sasl.scram_credentials import SCRAM_MECHANISMS
from odradek.testing.broker_process import BrokerProcess

ROOT = Path(__file__).resolve().parent.parent
JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required user_bench="bench-secret";'
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """The process's CPU time: the scheduler's nanoseconds on CPU summed over its threads
    (/proc/PID/task/*/schedstat), or /proc/PID/stat's 10 ms ticks where schedstat is missing."""
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                total += int((task / "schedstat").read_text().split()[0])
            except (FileNotFoundError, ProcessLookupError):
                continue  # a thread that just ended
        return total / 1e9
    except (FileNotFoundError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def start(root: Path) -> tuple[BrokerProcess, Path]:
    now = dt.datetime.now(dt.UTC)
    ca = make_ca(now)
    server = issue(ca, "localhost", now, server_names=DEFAULT_SERVER_NAMES)
    (root / "ca.pem").write_bytes(ca.certificate_pem)
    (root / "server.pem").write_bytes(server.key_pem + server.certificate_pem)
    props = {
        "listeners": (
            "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0,SSL_LOOP://127.0.0.1:0"
        ),
        # SSL_LOOP: the same TLS on the event loop's own transport (memory BIOs), for an A/B
        "listener.security.protocol.map": ("PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,SSL_LOOP:SSL"),
        "listener.name.ssl_loop.odradek.ssl.transport": "loop",
        "ssl.keystore.location": str(root / "server.pem"),
        "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER",
        "listener.name.sasl_ssl.plain.sasl.jaas.config": JAAS,
        "num.partitions": "1",
    }
    broker = BrokerProcess(root / "data", props).start()
    return broker, root / "ca.pem"


def client_config(broker: BrokerProcess, ca: Path, listener: str) -> dict[str, str]:
    protocol = "SSL" if listener == "SSL_LOOP" else listener
    config = {"bootstrap.servers": broker.bootstrap_for(listener), "security.protocol": protocol}
    if listener != "PLAINTEXT":
        config["ssl.ca.location"] = str(ca)
    if listener == "SASL_SSL":
        config.update({"sasl.mechanism": "PLAIN", "sasl.username": "bench", "sasl.password": "bench-secret"})
    return config


def throughput(
    broker: BrokerProcess, ca: Path, listener: str, messages: int, round_: int = 0
) -> dict[str, float]:
    assert broker.proc is not None
    pid = broker.proc.pid
    config = client_config(broker, ca, listener)
    topic = f"bench-{listener.lower()}-{round_}"
    admin = AdminClient(config)
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(30)
    value = b"x" * 1024
    producer = Producer({**config, "linger.ms": "5", "acks": "1", "queue.buffering.max.messages": "200000"})
    cpu0, t0 = cpu_seconds(pid), time.perf_counter()
    for _ in range(messages):
        while True:
            try:
                producer.produce(topic, value)
                break
            except BufferError:
                producer.poll(0.01)
    producer.flush(120)
    produce_s, produce_cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0
    consumer = Consumer(
        {**config, "group.id": topic, "auto.offset.reset": "earliest", "fetch.min.bytes": "1"}
    )
    consumer.subscribe([topic])
    got = 0
    cpu0, t0 = cpu_seconds(pid), time.perf_counter()
    while got < messages:
        batch = consumer.consume(1000, 5)
        got += sum(1 for m in batch if m.error() is None)
    consume_s, consume_cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0
    consumer.close()
    return {
        "produce_msg_s": messages / produce_s,
        "produce_cpu_us_msg": produce_cpu / messages * 1e6,
        "consume_msg_s": messages / consume_s,
        "consume_cpu_us_msg": consume_cpu / messages * 1e6,
    }


def security_for(mechanism: str, ca: Path) -> WireSecurity:
    base = {"ssl.truststore.location": str(ca)}
    if mechanism == "PLAINTEXT":
        return WireSecurity()
    if mechanism == "SSL":
        return WireSecurity.from_properties({"security.protocol": "SSL", **base})
    props = {"security.protocol": "SASL_SSL", "sasl.mechanism": mechanism, **base}
    if mechanism == "OAUTHBEARER":
        props["sasl.jaas.config"] = (
            "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required "
            'unsecuredLoginStringClaim_sub="bench";'
        )
    else:
        props.update({"sasl.username": "bench", "sasl.password": "bench-secret"})
    return WireSecurity.from_properties(props)


def listener_of(mechanism: str) -> str:
    return mechanism if mechanism in ("PLAINTEXT", "SSL") else "SASL_SSL"


def setup_rate(broker: BrokerProcess, ca: Path, mechanism: str, count: int) -> dict[str, float]:
    """Connections set up one after another: per second (wall clock, the client's work included)
    and the broker's CPU per connection (valid on a loaded machine too)."""
    assert broker.proc is not None
    host, port = broker.bootstrap_for(listener_of(mechanism)).split(":")
    security = security_for(mechanism, ca)
    cpu0, started = cpu_seconds(broker.proc.pid), time.perf_counter()
    for _ in range(count):
        Connection((host, int(port)), 10, security).close()
    elapsed, cpu = time.perf_counter() - started, cpu_seconds(broker.proc.pid) - cpu0
    return {"per_s": count / elapsed, "broker_cpu_ms": cpu / count * 1000}


def idle_memory(broker: BrokerProcess, ca: Path, count: int) -> float:
    assert broker.proc is not None
    host, port = broker.bootstrap_for("SASL_SSL").split(":")
    security = security_for("PLAIN", ca)
    time.sleep(1)
    before = rss_kib(broker.proc.pid)
    held = [Connection((host, int(port)), 10, security) for _ in range(count)]
    time.sleep(1)
    after = rss_kib(broker.proc.pid)
    for conn in held:
        conn.close()
    return (after - before) / count


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs per listener (median)")
    parser.add_argument("--idle", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        broker, ca = start(Path(tmp))
        try:
            # SCRAM users live in the metadata: create them over the wire client (no authorizer here)
            host, port = broker.bootstrap_for("PLAINTEXT").split(":")
            conn = Connection((host, int(port)), 10)
            from odradek.protocol.api_keys import ApiKey
            from odradek.protocol.messages import alter_user_scram_credentials as scram_msg

            upserts = []
            for code, name in ((1, "SCRAM-SHA-256"), (2, "SCRAM-SHA-512")):
                salted = SCRAM_MECHANISMS[name].salted_password(b"bench-secret", b"bench-salt", 4096)
                upserts.append(scram_msg.ScramCredentialUpsertion("bench", code, 4096, b"bench-salt", salted))
            conn.call(
                ApiKey.ALTER_USER_SCRAM_CREDENTIALS, scram_msg.AlterUserScramCredentialsRequest([], upserts)
            )
            conn.close()
            results: dict[str, object] = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
            # first, while the broker is fresh: later, connections reuse memory the throughput
            # rounds freed and the growth measured per connection comes out far too small
            results["idle_sasl_ssl_connection_kib"] = idle_memory(broker, ca, args.idle)
            # rounds alternate the listeners, and each figure is the median of its rounds: on a
            # shared machine the CPU a message costs drifts with what else runs
            runs: dict[str, list[dict[str, float]]] = {
                "PLAINTEXT": [],
                "SSL": [],
                "SSL_LOOP": [],
                "SASL_SSL": [],
            }
            for round_ in range(args.rounds):
                for listener, rows in runs.items():
                    rows.append(throughput(broker, ca, listener, args.messages, round_))
            for listener, rows in runs.items():
                results[listener] = {key: statistics.median(r[key] for r in rows) for key in rows[0]}
            # the two TLS transports round by round (neighbours in time, so the machine's load
            # drifts less between them than between medians)
            pairs = list(zip(runs["SSL"], runs["SSL_LOOP"], strict=True))
            results["SSL_minus_SSL_LOOP"] = {
                key: statistics.median(a[key] - b[key] for a, b in pairs)
                for key in ("produce_cpu_us_msg", "consume_cpu_us_msg")
            }
            results["setup_per_s"] = {
                m: setup_rate(broker, ca, m, args.connections)
                for m in ("PLAINTEXT", "SSL", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER")
            }
        finally:
            broker.stop()
    print(json.dumps(results, indent=2))
    plain = results["PLAINTEXT"]
    assert isinstance(plain, dict)
    header = (
        f"{'listener':<10} {'produce msg/s':>14} {'CPU us/msg':>11} {'consume msg/s':>14} {'CPU us/msg':>11}"
    )
    print("\n" + header)
    for listener in ("PLAINTEXT", "SSL", "SSL_LOOP", "SASL_SSL"):
        row = results[listener]
        assert isinstance(row, dict)
        ratio = row["produce_cpu_us_msg"] / plain["produce_cpu_us_msg"]
        print(
            f"{listener:<10} {row['produce_msg_s']:>14.0f} {row['produce_cpu_us_msg']:>11.1f} "
            f"{row['consume_msg_s']:>14.0f} {row['consume_cpu_us_msg']:>11.1f}   produce CPU x{ratio:.2f}"
        )
    print(f"\n{'connection set-up':<18} {'per s':>8} {'broker CPU ms':>14}")
    setups = results["setup_per_s"]
    assert isinstance(setups, dict)
    for mechanism, row in setups.items():
        print(f"{mechanism:<18} {row['per_s']:>8.0f} {row['broker_cpu_ms']:>14.2f}")
    consume_ratio = "x{:.2f}".format(
        results["SSL"]["consume_cpu_us_msg"] / plain["consume_cpu_us_msg"]  # type: ignore[index]
    )
    print(f"\nSSL consume CPU {consume_ratio} plaintext; load average {os.getloadavg()[0]:.1f}")
    paired = results["SSL_minus_SSL_LOOP"]
    assert isinstance(paired, dict)
    print(
        "broker TLS transport minus the event loop's, median per round: produce "
        f"{paired['produce_cpu_us_msg']:+.2f} us/msg, consume {paired['consume_cpu_us_msg']:+.2f} us/msg"
    )
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / f"security-{results['date']}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
