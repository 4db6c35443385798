"""`odradek partitions reassign`: kafka-reassign-partitions.sh's --execute, --verify, --cancel and
--list, with Kafka's JSON file and `--throttle` (`cli/reassign_plan.py`), over AlterPartitionReassignments,
ListPartitionReassignments and IncrementalAlterConfigs spoken with `wire_client.py` (confluent-kafka
2.16 has no reassignment calls)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from odradek.cli.wire_options import add_wire_arguments, wire_security

if TYPE_CHECKING:
    from odradek.cli.reassign_plan import Move
    from odradek.cli.wire_client import Cluster

SET, DELETE = 0, 1
BROKER, TOPIC = 4, 2


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("partitions", help="move partitions between brokers (reassignment)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    reassign = actions.add_parser(
        "reassign",
        help="start, verify, cancel or list partition reassignments (kafka-reassign-partitions.sh)",
    )
    reassign.set_defaults(func=run)
    mode = reassign.add_mutually_exclusive_group(required=True)
    mode.add_argument("--execute", action="store_true", help="start the reassignments of the file")
    mode.add_argument(
        "--verify", action="store_true", help="report them; clear the throttles once all are done"
    )
    mode.add_argument("--cancel", action="store_true", help="cancel the reassignments of the file")
    mode.add_argument("--list", action="store_true", help="list the reassignments in progress")
    reassign.add_argument("--reassignment-json-file", metavar="FILE", help="Kafka's reassignment JSON")
    reassign.add_argument(
        "--throttle",
        type=int,
        default=None,
        metavar="BYTES_PER_S",
        help="with --execute: cap the replication traffic of the moving replicas (Kafka's throttle configs)",
    )
    add_wire_arguments(reassign)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from odradek.cli import reassign_plan as plan
    from odradek.cli.errors import CliError
    from odradek.cli.wire_client import Cluster

    moves: list[Move] = []
    if not args.list:
        if not args.reassignment_json_file:
            raise CliError("--reassignment-json-file is required with --execute, --verify and --cancel")
        try:
            moves = plan.parse_plan(Path(args.reassignment_json_file).read_text())
        except OSError as exc:
            raise CliError(f"cannot read {args.reassignment_json_file}: {exc.strerror}") from exc
    if args.throttle is not None and (not args.execute or args.throttle <= 0):
        raise CliError("--throttle takes a positive rate in bytes/s and goes with --execute")
    with Cluster.connect(
        args.bootstrap_server.split(",", maxsplit=1)[0], args.timeout, wire_security(args)
    ) as cluster:
        if args.list:
            print(plan.render_list(_ongoing(cluster, None)), end="")
        elif args.execute:
            _execute(cluster, moves, args.throttle)
        elif args.cancel:
            _alter(cluster, [(m.topic, m.partition, None) for m in moves])
            names = ",".join(f"{m.topic}-{m.partition}" for m in moves)
            print(f"Successfully cancelled partition reassignments for: {names}")
        else:
            _verify(cluster, moves)
    return 0


def _current(cluster: Cluster, moves: list[Move]) -> dict[tuple[str, int], list[int]]:
    from odradek.cli.errors import CliError
    from odradek.model.errors import ErrorCode

    response = cluster.load_metadata(sorted({m.topic for m in moves}))
    found: dict[tuple[str, int], list[int]] = {}
    for topic in response.topics:
        if topic.error_code != ErrorCode.NO_ERROR:
            raise CliError(f"topic {topic.name}: {ErrorCode(topic.error_code).name}")
        for p in topic.partitions:
            found[(topic.name or "", p.partition_index)] = list(p.replica_nodes)
    for m in moves:
        if (m.topic, m.partition) not in found:
            raise CliError(f"topic {m.topic} has no partition {m.partition}")
    return found


def _execute(cluster: Cluster, moves: list[Move], throttle: int | None) -> None:
    from odradek.cli import reassign_plan as plan

    current = _current(cluster, moves)
    mine = {(m.topic, m.partition): current[(m.topic, m.partition)] for m in moves}
    print("Current partition replica assignment\n")
    print(plan.current_plan(mine))
    print("\nSave this to use as the --reassignment-json-file option during rollback")
    if throttle is not None:
        brokers = plan.brokers_taking_part(moves, current)
        topics = plan.throttled_replicas(moves, current)
        rates = {plan.LEADER_RATE: str(throttle), plan.FOLLOWER_RATE: str(throttle)}
        _configs(
            cluster, [(BROKER, str(b), rates) for b in brokers] + [(TOPIC, t, c) for t, c in topics.items()]
        )
        print(
            "Warning: You must run --verify periodically, until the reassignment completes, to ensure "
            f"the throttle is removed.\nThe inter-broker throttle limit was set to {throttle} B/s"
        )
    _alter(cluster, [(m.topic, m.partition, list(m.replicas)) for m in moves])
    names = ",".join(f"{m.topic}-{m.partition}" for m in moves)
    print(f"Successfully started partition reassignments for {names}")


def _verify(cluster: Cluster, moves: list[Move]) -> None:
    from odradek.cli import reassign_plan as plan

    ongoing = {(t, p) for t, p, *_ in _ongoing(cluster, sorted({m.topic for m in moves}))}
    current = _current(cluster, moves)
    states: list[tuple[Move, str]] = []
    for m in moves:
        replicas = current[(m.topic, m.partition)]
        if (m.topic, m.partition) in ongoing:
            states.append((m, "in progress"))
        elif tuple(replicas) == m.replicas:
            states.append((m, "complete"))
        else:
            states.append((m, ",".join(str(r) for r in replicas)))
    print(plan.render_verify(states), end="")
    if all(status == "complete" for _, status in states):
        brokers = sorted({b for r in current.values() for b in r} | {b for m in moves for b in m.replicas})
        topics = sorted({m.topic for m in moves})
        removing = [
            *[(BROKER, str(b), {plan.LEADER_RATE: None, plan.FOLLOWER_RATE: None}) for b in brokers],
            *[(TOPIC, t, {plan.LEADER_REPLICAS: None, plan.FOLLOWER_REPLICAS: None}) for t in topics],
        ]
        _configs(cluster, removing)
        print(f"Clearing broker-level throttles on brokers {','.join(str(b) for b in brokers)}")
        print(f"Clearing topic-level throttles on topic(s) {','.join(topics)}")


def _ongoing(
    cluster: Cluster, topics: list[str] | None
) -> list[tuple[str, int, list[int], list[int], list[int]]]:
    from odradek.cli.errors import CliError
    from odradek.cli.wire_client import BOOTSTRAP_NODE
    from odradek.model.errors import ErrorCode
    from odradek.protocol.api_keys import ApiKey
    from odradek.protocol.messages import list_partition_reassignments as msg

    wanted = None
    if topics is not None:
        metadata = cluster.load_metadata(topics)
        wanted = [
            msg.ListPartitionReassignmentsTopics(t.name or "", [p.partition_index for p in t.partitions])
            for t in metadata.topics
        ]
    response = cluster.call(
        BOOTSTRAP_NODE,
        ApiKey.LIST_PARTITION_REASSIGNMENTS,
        msg.ListPartitionReassignmentsRequest(topics=wanted),
    )
    if response.error_code != ErrorCode.NO_ERROR:
        raise CliError(f"{ErrorCode(response.error_code).name}: {response.error_message or ''}".rstrip(": "))
    return sorted(
        (t.name, p.partition_index, p.replicas, p.adding_replicas, p.removing_replicas)
        for t in response.topics
        for p in t.partitions
    )


def _alter(cluster: Cluster, wanted: list[tuple[str, int, list[int] | None]]) -> None:
    from odradek.cli.errors import CliError
    from odradek.cli.wire_client import BOOTSTRAP_NODE
    from odradek.model.errors import ErrorCode
    from odradek.protocol.api_keys import ApiKey
    from odradek.protocol.messages import alter_partition_reassignments as msg

    by_topic: dict[str, list[msg.ReassignablePartition]] = {}
    for topic, partition, replicas in wanted:
        by_topic.setdefault(topic, []).append(msg.ReassignablePartition(partition, replicas))
    request = msg.AlterPartitionReassignmentsRequest(
        topics=[msg.ReassignableTopic(t, parts) for t, parts in by_topic.items()]
    )
    response = cluster.call(BOOTSTRAP_NODE, ApiKey.ALTER_PARTITION_REASSIGNMENTS, request)
    if response.error_code != ErrorCode.NO_ERROR:
        raise CliError(f"{ErrorCode(response.error_code).name}: {response.error_message or ''}".rstrip(": "))
    failures = [
        f"{t.name}-{p.partition_index}: {ErrorCode(p.error_code).name}"
        + (f" ({p.error_message})" if p.error_message else "")
        for t in response.responses
        for p in t.partitions
        if p.error_code != ErrorCode.NO_ERROR
    ]
    if failures:
        raise CliError("reassignment refused: " + "; ".join(failures))


def _configs(cluster: Cluster, resources: Sequence[tuple[int, str, Mapping[str, str | None]]]) -> None:
    """IncrementalAlterConfigs: a broker's own configs go to that broker (Kafka's rule), topics' to any."""
    from odradek.cli.errors import CliError
    from odradek.cli.wire_client import BOOTSTRAP_NODE
    from odradek.model.errors import ErrorCode
    from odradek.protocol.api_keys import ApiKey
    from odradek.protocol.messages import incremental_alter_configs as msg

    by_node: dict[int, list[msg.AlterConfigsResource]] = {}
    for kind, name, configs in resources:
        node = int(name) if kind == BROKER else BOOTSTRAP_NODE
        by_node.setdefault(node, []).append(
            msg.AlterConfigsResource(
                kind,
                name,
                [msg.AlterableConfig(k, SET if v is not None else DELETE, v) for k, v in configs.items()],
            )
        )
    failures = []
    for node, batch in by_node.items():
        response = cluster.call(
            node, ApiKey.INCREMENTAL_ALTER_CONFIGS, msg.IncrementalAlterConfigsRequest(batch)
        )
        failures += [
            f"{r.resource_name}: {ErrorCode(r.error_code).name} {r.error_message or ''}".rstrip()
            for r in response.responses
            if r.error_code != ErrorCode.NO_ERROR
        ]
    if failures:
        raise CliError("setting the throttle failed: " + "; ".join(failures))
