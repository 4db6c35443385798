"""Quix Streams side of the streams benchmark (run in its own venv: quixstreams pins confluent-kafka
below the version odradek uses). Prints one JSON line per workload.

Processing layer only, as the reference harness: the `StreamingDataFrame.compose()` closure called
in a loop under a `MessageContext`, the topic manager's broker calls stubbed out, stateful runs on
real RocksDB store transactions, prepared and flushed every 10,000 records. Values are dicts, keys
bytes (1,000 keys), timestamps 1 ms apart.

    python quix_harness.py processing --records 200000
    python quix_harness.py e2e --bootstrap HOST:PORT --topic T --records N --workload stateless
"""

from __future__ import annotations

import argparse
import contextvars
import json
import sys
import tempfile
import time
import warnings
from typing import Any

warnings.filterwarnings("ignore")

from quixstreams import Application  # noqa: E402
from quixstreams.context import set_message_context  # noqa: E402
from quixstreams.models import MessageContext, TopicConfig  # noqa: E402
from quixstreams.models.topics import Topic  # noqa: E402

COMMIT_EVERY = 10_000
KEYS = [f"key-{i}".encode() for i in range(1000)]


def _offline_app() -> Application:
    app = Application(
        broker_address="127.0.0.1:1",
        consumer_group="bench",
        state_dir=tempfile.mkdtemp(prefix="quix-bench-"),
        use_changelog_topics=False,
        auto_create_topics=False,
    )

    def fetch(topic: Topic) -> Topic:
        fetched = Topic(name=topic.name)
        fetched.broker_config = TopicConfig(
            num_partitions=1,
            replication_factor=1,
            extra_config={"retention.ms": "604800000", "retention.bytes": "-1", "cleanup.policy": "delete"},
        )
        return fetched

    app._topic_manager._fetch_topic = fetch  # type: ignore[method-assign]  # no broker
    return app


class BenchCheckpoint:
    """Real store transactions, prepared and flushed every COMMIT_EVERY records."""

    def __init__(self, app: Application) -> None:
        self.state = app._state_manager
        self.transactions: dict[Any, Any] = {}

    def get_store_transaction(self, stream_id: str, partition: int, store_name: str = "default") -> Any:
        key = (stream_id, partition, store_name)
        tx = self.transactions.get(key)
        if tx is None:
            tx = self.state.get_store(stream_id, store_name).start_partition_transaction(partition)
            self.transactions[key] = tx
        return tx

    def commit(self) -> None:
        for tx in self.transactions.values():
            tx.prepare()
            tx.flush()
        self.transactions.clear()


def workload(app: Application, name: str) -> Any:
    import quixstreams.dataframe.windows.aggregations as agg

    sdf = app.dataframe(app.topic("in"))
    if name == "stateless":
        sdf = sdf.filter(lambda v: v["n"] % 2 == 0).apply(lambda v: {**v, "doubled": v["n"] * 2})
    elif name == "count":

        def count(value: Any, state: Any) -> int:
            n = state.get("n", 0) + 1
            state.set("n", n)
            return n

        sdf = sdf.apply(count, stateful=True)
    elif name == "tumbling":
        sdf = sdf.tumbling_window(duration_ms=10_000).agg(count=agg.Count()).current()
    elif name == "hopping":
        sdf = sdf.hopping_window(duration_ms=10_000, step_ms=1_000).agg(count=agg.Count()).current()
    else:
        raise SystemExit(f"unknown workload {name}")
    return sdf


def processing(name: str, records: int) -> dict[str, Any]:
    app = _offline_app()
    sdf = workload(app, name)
    composed = sdf.compose(sink=lambda *args: None)["in"]
    state = app._state_manager
    if state.stores:
        state.on_partition_assign(stream_id="in", partition=0, committed_offsets={"in": -1001})
    checkpoint = BenchCheckpoint(app)
    app._processing_context._checkpoint = checkpoint  # type: ignore[assignment]
    values = [{"n": i, "payload": "x" * 16} for i in range(records)]
    context = contextvars.copy_context()
    started = time.perf_counter()
    cpu_started = time.process_time()
    for i in range(records):
        context.run(set_message_context, MessageContext("in", 0, i, 64))
        context.run(composed, values[i], KEYS[i % 1000], i, None)
        if (i + 1) % COMMIT_EVERY == 0:
            checkpoint.commit()
    checkpoint.commit()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    return {
        "peer": "quixstreams",
        "layer": "processing",
        "workload": name,
        "records": records,
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "records_per_s": records / elapsed,
        "records_per_cpu_s": records / cpu,
    }


def e2e(args: argparse.Namespace) -> dict[str, Any]:
    app = Application(
        broker_address=args.bootstrap,
        consumer_group=f"quix-bench-{time.time_ns()}",
        auto_offset_reset="earliest",
        state_dir=tempfile.mkdtemp(prefix="quix-e2e-"),
        commit_interval=5.0,
    )
    topic = app.topic(args.topic, value_deserializer="json")
    out = app.topic(args.out_topic, value_serializer="json")
    sdf = app.dataframe(topic)
    if args.workload == "stateless":
        sdf = sdf.filter(lambda v: v["n"] % 2 == 0).apply(lambda v: {**v, "doubled": v["n"] * 2})
    else:

        def count(value: Any, state: Any) -> int:
            n = state.get("n", 0) + 1
            state.set("n", n)
            return n

        sdf = sdf.apply(count, stateful=True)
    sdf.to_topic(out)
    started = time.perf_counter()
    cpu_started = time.process_time()
    outputs = args.records // 2 if args.workload == "stateless" else args.records
    app.run(count=outputs, timeout=600, collect=False)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    return {
        "peer": "quixstreams",
        "layer": "e2e",
        "workload": args.workload,
        "records": args.records,
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "records_per_s": args.records / elapsed,
        "records_per_cpu_s": args.records / cpu,
        "cpu_us_per_record": cpu * 1e6 / args.records,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("processing", "e2e"))
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--workloads", default="stateless,count,tumbling,hopping")
    parser.add_argument("--workload", default="stateless")
    parser.add_argument("--bootstrap")
    parser.add_argument("--topic")
    parser.add_argument("--out-topic")
    args = parser.parse_args()
    if args.mode == "processing":
        for name in args.workloads.split(","):
            n = args.records if name != "hopping" else max(args.records // 5, 10_000)
            print(json.dumps(processing(name, n)), flush=True)
    else:
        print(json.dumps(e2e(args)), flush=True)


if __name__ == "__main__":
    sys.exit(main())
