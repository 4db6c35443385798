"""`odradek producers describe TOPIC`: the active idempotent and transactional producers of each
partition (kafka-transactions.sh describe-producers), asked of each partition's leader with
DescribeProducers over `wire_client.py` (confluent-kafka 2.16 has no admin call for it)."""

from __future__ import annotations

import argparse
from typing import Any

from odradek.cli.output import add_output_argument
from odradek.cli.wire_options import add_wire_arguments, wire_security


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("producers", help="describe the producers writing to a topic")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    parser.set_defaults(func=run)
    describe = actions.add_parser("describe", help="producer ids, epochs, sequences and open transactions")
    describe.add_argument("topic", metavar="TOPIC")
    describe.add_argument(
        "--partition", type=int, action="append", default=[], help="only this partition (repeatable)"
    )
    add_output_argument(describe)
    add_wire_arguments(describe)


def run(args: argparse.Namespace) -> int:
    from odradek.cli import transaction_view as view
    from odradek.cli.errors import CliError
    from odradek.cli.output import emit_output
    from odradek.cli.wire_client import Cluster
    from odradek.model.errors import ErrorCode
    from odradek.protocol.api_keys import ApiKey
    from odradek.protocol.messages import describe_producers as msg

    topic = args.topic
    with Cluster.connect(args.bootstrap_server, args.timeout, wire_security(args)) as cluster:
        response = cluster.load_metadata([topic])
        [meta] = response.topics
        if meta.error_code != ErrorCode.NO_ERROR:
            raise CliError(f"topic {topic}: {ErrorCode(meta.error_code).name}")
        partitions = sorted(p.partition_index for p in meta.partitions)
        wanted = sorted(set(args.partition)) if args.partition else partitions
        missing = [p for p in wanted if p not in partitions]
        if missing:
            raise CliError(f"topic {topic} has no partition {missing[0]}")
        by_leader: dict[int, list[int]] = {}
        for p in wanted:
            by_leader.setdefault(cluster.leaders[(topic, p)], []).append(p)
        out: list[view.PartitionProducers] = []
        for leader, indexes in sorted(by_leader.items()):
            request = msg.DescribeProducersRequest([msg.TopicRequest(topic, indexes)])
            for t in cluster.call(leader, ApiKey.DESCRIBE_PRODUCERS, request).topics:
                for part in t.partitions:
                    error = None if part.error_code == 0 else ErrorCode(part.error_code).name
                    producers = tuple(
                        view.ProducerView(
                            s.producer_id,
                            s.producer_epoch,
                            s.last_sequence,
                            s.last_timestamp,
                            s.coordinator_epoch,
                            s.current_txn_start_offset,
                        )
                        for s in part.active_producers
                    )
                    out.append(view.PartitionProducers(part.partition_index, error, leader, producers))
    out.sort(key=lambda p: p.partition)
    emit_output(args.output, view.producers_doc(topic, out), view.render_producers_text(topic, out))
    return 0
