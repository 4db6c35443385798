"""`odradek streams describe APP` and `odradek streams reset --application-id ID`.

`reset` is Kafka's streams application reset tool: for a stopped application it moves the
committed offsets of its input topics back (to the earliest offset by default) and deletes its
internal topics (repartition, changelog, foreign-key join topics), so the next start reprocesses
everything from scratch. `--state-dir` also deletes this machine's local state of the application
(what `KafkaStreams.cleanup()` does); other machines must clean theirs. `--dry-run` only prints.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from odradek.cli.client_options import add_client_arguments
from odradek.cli.output import add_output_argument


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("streams", help="describe and reset odradek.streams applications")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    parser.set_defaults(func=run)

    describe = actions.add_parser(
        "describe",
        help="print an application's topology (sub-topologies, processors, stores, topics)",
        description="APP is package.module[:name] or path/to/app.py[:name]; without a name the module's "
        "topology, builder, build_topology or build is used.",
    )
    describe.add_argument("app", metavar="APP_MODULE")

    run_ = actions.add_parser(
        "run",
        help="run an application (its module's topology and CONFIG), with restore progress bars",
        description="Runs until Ctrl-C (or --duration). Settings: the module's CONFIG dict, then "
        "--config key=value (repeatable), then --bootstrap-server.",
    )
    run_.add_argument("app", metavar="APP_MODULE")
    run_.add_argument(
        "--config",
        dest="settings",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        type=_setting,
        help="a StreamsConfig setting (repeatable)",
    )
    run_.add_argument("--duration", type=float, metavar="SECONDS", help="stop after this long")
    run_.add_argument(
        "-b",
        "--bootstrap-server",
        metavar="HOST:PORT",
        default=os.environ.get("ODRADEK_BOOTSTRAP", "127.0.0.1:9092"),
    )

    reset = actions.add_parser(
        "reset",
        help="reset a stopped application: input offsets to the start, internal topics deleted",
    )
    reset.add_argument("--application-id", required=True, metavar="ID")
    reset.add_argument(
        "--input-topics", metavar="T1,T2", help="topics to rewind (default: all the group committed)"
    )
    strategy = reset.add_mutually_exclusive_group()
    strategy.add_argument("--to-earliest", action="store_true", help="the default")
    strategy.add_argument("--to-latest", action="store_true")
    strategy.add_argument("--to-datetime", metavar="ISO8601")
    reset.add_argument("--state-dir", metavar="DIR", help="also delete DIR/ID (local state)")
    reset.add_argument("--dry-run", action="store_true", help="print what would be done, change nothing")
    add_output_argument(reset)
    add_client_arguments(reset)


def _setting(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    return key.strip(), value


def run(args: argparse.Namespace) -> int:
    return {"describe": _describe, "run": _run, "reset": _reset}[args.action](args)


def _run(args: argparse.Namespace) -> int:
    import time

    from odradek.cli.errors import CliError
    from odradek.streams.app_loader import load_module, load_topology
    from odradek.streams.errors import StreamsException
    from odradek.streams.progress import restore_lines
    from odradek.streams.runtime.kafka_streams import KafkaStreams, State

    sys.path.insert(0, str(Path.cwd()))
    try:
        module, _ = load_module(args.app)
        topology = load_topology(args.app)
        settings = dict(getattr(module, "CONFIG", {}))
        settings.update(dict(args.settings))
        settings["bootstrap.servers"] = args.bootstrap_server
        streams = KafkaStreams(topology, settings)
    except (StreamsException, ValueError) as exc:
        raise CliError(str(exc)) from exc
    streams.set_state_listener(lambda old, new: print(f"state {old.value} -> {new.value}", file=sys.stderr))
    deadline = time.monotonic() + args.duration if args.duration else None
    try:
        streams.start()
        shown = 0
        while deadline is None or time.monotonic() < deadline:
            if streams.state is State.ERROR:
                raise CliError(f"the application failed: {streams.error}")
            lines = restore_lines(streams.metrics())
            if lines or shown:
                for line in lines or ["restoration done"]:
                    print(line, file=sys.stderr)
                shown = len(lines)
            time.sleep(1.0)
    except KeyboardInterrupt:
        pass
    finally:
        streams.close()
    return 0


def _describe(args: argparse.Namespace) -> int:
    from odradek.cli.errors import CliError
    from odradek.streams.app_loader import load_topology
    from odradek.streams.errors import StreamsException

    sys.path.insert(0, str(Path.cwd()))
    try:
        topology = load_topology(args.app)
    except StreamsException as exc:
        raise CliError(str(exc)) from exc
    print(topology.describe(), end="")
    return 0


def _reset(args: argparse.Namespace) -> int:
    from confluent_kafka import ConsumerGroupTopicPartitions
    from confluent_kafka import TopicPartition as KafkaTopicPartition

    from odradek.cli import reset_plan as rp
    from odradek.cli.clients import Admin
    from odradek.cli.errors import CliError
    from odradek.cli.group_admin import committed_offsets, describe_groups, partition_states, state_name
    from odradek.cli.output import emit_output
    from odradek.model.topic_partition import TopicPartition
    from odradek.streams.app_loader import is_internal_topic

    app = args.application_id
    strategy: Any = rp.ToEarliest()
    if args.to_latest:
        strategy = rp.ToLatest()
    elif args.to_datetime:
        strategy = rp.ToDatetime(rp.parse_datetime_ms(args.to_datetime))
    admin = Admin(args)
    try:
        rp.check_resettable(app, state_name(describe_groups(admin, [app])[app]))
    except rp.ResetError as exc:
        raise CliError(str(exc)) from exc
    committed = committed_offsets(admin, app)
    if args.input_topics:
        wanted = [t.strip() for t in args.input_topics.split(",") if t.strip()]
        metadata = admin.client.list_topics(timeout=args.timeout).topics
        missing = [t for t in wanted if t not in metadata]
        if missing:
            raise CliError(f"input topics do not exist: {', '.join(missing)}")
        partitions = [TopicPartition(t, p) for t in wanted for p in sorted(metadata[t].partitions)]
    else:
        partitions = sorted(tp for tp in committed if not is_internal_topic(app, tp.topic))
    plan = (
        rp.plan_reset(strategy, partition_states(admin, strategy, partitions, committed))
        if partitions
        else []
    )
    topics = sorted(
        t for t in admin.client.list_topics(timeout=args.timeout).topics if is_internal_topic(app, t)
    )
    state_dir = Path(args.state_dir) / app if args.state_dir else None
    if not args.dry_run:
        if plan:
            offsets = [
                KafkaTopicPartition(p.topic_partition.topic, p.topic_partition.partition, p.new_offset)
                for p in plan
            ]
            futures = admin.client.alter_consumer_group_offsets(
                [ConsumerGroupTopicPartitions(app, offsets)], **admin.options
            )
            admin.results(futures, lambda g: f"group {g}")
        if topics:
            admin.gather(admin.client.delete_topics(topics, operation_timeout=args.timeout))
        if state_dir is not None:
            shutil.rmtree(state_dir, ignore_errors=True)
    doc = {
        "application_id": app,
        "executed": not args.dry_run,
        "offsets": [
            {
                "topic": p.topic_partition.topic,
                "partition": p.topic_partition.partition,
                "current": p.current_offset,
                "new": p.new_offset,
            }
            for p in plan
        ],
        "deleted_topics": topics,
        "deleted_state_dir": str(state_dir) if state_dir else None,
    }
    lines = [f"{'Would reset' if args.dry_run else 'Reset'} application {app}:"]
    lines += [
        f"  {p.topic_partition.topic}-{p.topic_partition.partition}: {p.current_offset} -> {p.new_offset}"
        for p in plan
    ] or ["  no input offsets to reset"]
    lines += [f"  {'would delete' if args.dry_run else 'deleted'} internal topic {t}" for t in topics]
    if state_dir is not None:
        lines.append(f"  {'would delete' if args.dry_run else 'deleted'} local state {state_dir}")
    emit_output(args.output, doc, "\n".join(lines) + "\n")
    return 0
