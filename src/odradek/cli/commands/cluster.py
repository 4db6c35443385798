"""`odradek cluster up|down|describe`: a local ZooKeeper cluster for development, and a health view of any
cluster (odradek's or Apache Kafka's).

    odradek cluster up --brokers 3            ZooKeeper on 127.0.0.1:2181, brokers 1..3 on 9092..9094
    odradek cluster describe                  brokers, controller, leaders per broker, partitions in trouble
    odradek cluster down                      stop the brokers (cleanly), then ZooKeeper
"""

from __future__ import annotations

import argparse
from pathlib import Path

from odradek.cli.client_options import add_client_arguments
from odradek.cli.output import add_output_argument

DEFAULT_DIR = Path("./odradek-cluster")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "cluster", help="a local multi-broker cluster on ZooKeeper; cluster health"
    )
    commands = parser.add_subparsers(dest="cluster_command", metavar="COMMAND", required=True)

    up = commands.add_parser("up", help="start ZooKeeper and N brokers in the background")
    up.add_argument("--brokers", type=int, default=3, help="how many brokers (default 3)")
    up.add_argument(
        "--data", type=Path, default=DEFAULT_DIR, help=f"directory of everything (default {DEFAULT_DIR})"
    )
    up.add_argument(
        "--zookeeper-port", type=int, default=2181, help="ZooKeeper's port (default 2181; 0: free)"
    )
    up.add_argument(
        "--port",
        type=int,
        default=9092,
        help="first broker's port; the others follow (default 9092; 0: free)",
    )
    up.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a broker config for every broker",
    )
    up.set_defaults(func=run_up)

    down = commands.add_parser("down", help="stop the cluster started from --data")
    down.add_argument("--data", type=Path, default=DEFAULT_DIR, help=f"(default {DEFAULT_DIR})")
    down.set_defaults(func=run_down)

    describe = commands.add_parser(
        "describe", help="brokers, controller, under-replicated/offline partitions"
    )
    add_client_arguments(describe)
    add_output_argument(describe)
    describe.set_defaults(func=run_describe)


def run_up(args: argparse.Namespace) -> int:
    from odradek.cli.errors import CliError
    from odradek.cluster.local import ClusterError, up
    from odradek.cluster.zookeeper import ZooKeeperNotInstalledError

    if args.brokers < 1:
        raise CliError("--brokers must be at least 1")
    overrides = {}
    for item in args.override:
        name, sep, value = item.partition("=")
        if not sep:
            raise CliError(f"--override expects NAME=VALUE, got {item!r}")
        overrides[name.strip()] = value.strip()
    try:
        state = up(
            args.data,
            args.brokers,
            zookeeper_port=args.zookeeper_port,
            base_port=args.port,
            overrides=overrides,
        )
    except (ClusterError, ZooKeeperNotInstalledError, TimeoutError) as e:
        raise CliError(str(e)) from None
    print(f"ZooKeeper   {state.zookeeper_connect}  (pid {state.zookeeper_pid})")
    for broker in state.brokers:
        print(f"broker {broker.node_id}    127.0.0.1:{broker.port}  (pid {broker.pid})")
    print(f"bootstrap   {state.bootstrap}")
    print(
        f"data        {args.data.resolve()}  (odradek cluster down --data {args.data} stops it)", flush=True
    )
    return 0


def run_down(args: argparse.Namespace) -> int:
    from odradek.cli.errors import CliError
    from odradek.cluster.local import down

    state = down(args.data)
    if state is None:
        raise CliError(f"no cluster was started from {args.data.resolve()}")
    print(f"stopped {len(state.brokers)} broker(s) and ZooKeeper", flush=True)
    return 0


def run_describe(args: argparse.Namespace) -> int:
    from confluent_kafka.admin import ConfigResource, ResourceType

    from odradek.cli.clients import Admin
    from odradek.cli.cluster_view import BrokerView, ClusterView, PartitionState, cluster_doc, cluster_text
    from odradek.cli.output import emit_output

    admin = Admin(args)
    metadata = admin.list_topics()
    partitions = tuple(
        PartitionState(name, p.id, p.leader, tuple(p.replicas), tuple(p.isrs))
        for name, topic in sorted(metadata.topics.items())
        for _, p in sorted(topic.partitions.items())
    )
    names = sorted(metadata.topics)
    min_isr: dict[str, int] = {}
    if names:
        found = admin.gather(
            admin.client.describe_configs(
                [ConfigResource(ResourceType.TOPIC, n) for n in names], **admin.options
            )
        )
        for resource, entries in found.items():
            if not isinstance(entries, Exception) and "min.insync.replicas" in entries:
                min_isr[resource.name] = int(entries["min.insync.replicas"].value)
    brokers = tuple(
        BrokerView(b.id, b.host, b.port, getattr(b, "rack", None))
        for _, b in sorted(metadata.brokers.items())
    )
    view = ClusterView(metadata.cluster_id, metadata.controller_id, brokers, partitions, min_isr)
    emit_output(args.output, cluster_doc(view), cluster_text(view))
    return 0
