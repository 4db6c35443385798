"""`odradek sql-server`: the SQL server (ksqlDB's REST API) as its own process."""

from __future__ import annotations

import argparse
import contextlib
import gc
import sys
from collections.abc import AsyncIterator
from pathlib import Path

GIL_SWITCH_INTERVAL_S = 0.001
GC_YOUNG_THRESHOLD = 10_000


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "sql-server", help="run the SQL server (ksqlDB's REST API) against a Kafka cluster"
    )
    parser.add_argument("--bootstrap", default="127.0.0.1:9092", help="Kafka bootstrap servers HOST:PORT")
    parser.add_argument(
        "--listen", default="127.0.0.1:8088", help="HOST:PORT to serve on (default 127.0.0.1:8088)"
    )
    parser.add_argument(
        "--service-id",
        default="default_",
        help="ksql.service.id: servers with the same id share queries (default default_)",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path("odradek-data") / "sql",
        help="where persistent queries keep their state",
    )
    parser.add_argument(
        "--udf-dir",
        type=Path,
        help="a directory of .py files with @udf/@udaf/@udtf functions (RELOAD FUNCTIONS re-reads it)",
    )
    parser.add_argument(
        "--schema-registry",
        metavar="URL",
        help="schema registry for AVRO, PROTOBUF and JSON_SR (ksql.schema.registry.url)",
    )
    parser.add_argument("-c", "--config", type=Path, help="a properties file of ksql.* / streams configs")
    parser.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a config, e.g. --override ksql.streams.auto.offset.reset=earliest (repeatable)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from odradek.cli.errors import CliError
    from odradek.http import ServerSettings, parse_listen, serve
    from odradek.sql.server.app import build_app, server_lifespan
    from odradek.sql.server.service import KsqlServer, ServerConfig

    props: dict[str, str] = {}
    if args.config is not None:
        for raw in args.config.read_text().splitlines():
            line = raw.strip()
            if line and not line.startswith(("#", "!")) and "=" in line:
                name, _, value = line.partition("=")
                props[name.strip()] = value.strip()
    if args.schema_registry:
        props["ksql.schema.registry.url"] = args.schema_registry
    for item in args.override:
        name, sep, value = item.partition("=")
        if not sep:
            raise CliError(f"--override expects NAME=VALUE, got {item!r}")
        props[name.strip()] = value.strip()
    try:
        address = parse_listen(args.listen, default_port=8088)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    server = KsqlServer(
        ServerConfig(
            args.bootstrap, props.get("ksql.service.id", args.service_id), args.state_dir, props, args.udf_dir
        )
    )

    # ksqlDB serves HTTP/2 cleartext (its Java and Python clients use it with prior knowledge) and
    # HTTP/1.1 on the same port; so does this server. A key lookup's answer is a few hundred bytes:
    # its head and body leave in one write.
    @contextlib.asynccontextmanager
    async def lifespan(_app: object) -> AsyncIterator[None]:
        async with server_lifespan(server):
            # What start-up built (modules, the replayed metastore, the queries it resumed) lives as
            # long as the process: frozen, the collector's full passes skip it. A full pass during a
            # busy query holds the GIL, and every request with it: 66-109 ms of CPU each before, 10-30
            # ms frozen (same run, 3,000 records/s into a table).
            gc.collect()
            gc.freeze()
            yield

    app = build_app(server, lifespan)
    # A request waits for the GIL while a query's stream thread runs Python: at most one switch
    # interval (5 ms by default). 1 ms shortens that wait for key lookups on a busy table
    # (A/B with 6,000 records/s into the table: p90 2.9 vs 6.2 ms and 5.7 vs 8.4 ms, loaded machine);
    # the threads only switch that often while both want the GIL.
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    # A query's stream thread allocates a poll batch's objects and frees them by reference counting
    # at the batch's end; the default first-generation threshold (700) fires inside the batch and
    # walks them for nothing: with 3,000 records/s into a table, 25-50 young collections and 2-5
    # middle ones (4-9 ms of CPU each, holding every request) per 5 s; at 10,000, one in a minute.
    gc.set_threshold(GC_YOUNG_THRESHOLD, 10, 10)
    return serve(app, "sql", address, ServerSettings(http2=True, coalesce_writes=True))
