"""`odradek dev`: the broker and every service on one machine, data in ./odradek-data.

A supervisor (`odradek.supervisor`) runs the broker and each service in its own process; Ctrl-C
stops them all (services first, the broker last).
"""

from __future__ import annotations

import argparse

from odradek.cli.commands.broker import add_broker_flags, properties_from_args

DEV_DEFAULTS = {
    "listeners": "PLAINTEXT://127.0.0.1:9092",
    "log.dirs": "./odradek-data",
    "odradek.metrics.port": "9464",
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "dev", help="run the broker and all services, each in its own process (data in ./odradek-data)"
    )
    add_broker_flags(parser)
    parser.add_argument(
        "--host", default="127.0.0.1", help="address the services listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port",
        action="append",
        default=[],
        metavar="SERVICE=PORT",
        help="listen port of a service, e.g. --port registry=18081 (0: any free port; repeatable)",
    )
    parser.add_argument(
        "--without",
        action="append",
        default=[],
        metavar="SERVICE",
        help="do not start this service (repeatable); --without all runs the broker alone",
    )
    parser.add_argument(
        "--secure",
        action="store_true",
        help="SASL_SSL with a generated CA and certificates (under the data directory), an admin super "
        "user and ACLs; prints the client settings to use",
    )
    parser.set_defaults(func=run)


def _ports(items: list[str], known: set[str]) -> dict[str, int]:
    from odradek.cli.errors import CliError

    ports: dict[str, int] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or name not in known or not value.isdigit() or int(value) > 65535:
            raise CliError(f"--port expects SERVICE=PORT with SERVICE one of {sorted(known)}, got {item!r}")
        ports[name] = int(value)
    return ports


def run(args: argparse.Namespace) -> int:
    import asyncio
    import signal
    from pathlib import Path

    from odradek.cli.errors import CliError
    from odradek.supervisor import DEV_SERVICES, Supervisor, SupervisorSettings

    known = {spec.name for spec in DEV_SERVICES}
    unknown = set(args.without) - known - {"all"}
    if unknown:
        raise CliError(f"--without: unknown service(s) {sorted(unknown)}; known: {sorted(known)}")
    services = [] if "all" in args.without else [s for s in DEV_SERVICES if s.name not in args.without]
    properties = properties_from_args(args, DEV_DEFAULTS)
    ports = _ports(args.port, known)
    registry = next((s for s in services if s.name == "registry"), None)
    registry_port = ports.get("registry", registry.port if registry else 0)
    if registry is not None and registry_port and "confluent.schema.registry.url" not in properties:
        # broker-side schema validation (topic configs confluent.*.schema.validation) asks this registry
        host = "127.0.0.1" if args.host in ("0.0.0.0", "") else args.host
        properties["confluent.schema.registry.url"] = f"http://{host}:{registry_port}"
    data_dir = Path(properties["log.dirs"].split(",")[0])
    client_settings: dict[str, str] = {}
    secure_note = ""
    if args.secure:
        from odradek.cli.dev_security import describe, prepare

        secure = prepare(data_dir, properties["listeners"])
        properties.update(secure.broker_properties)
        client_settings = secure.client_settings
        secure_note = describe(secure, properties["listeners"].split(",")[0].partition("://")[2])
    settings = SupervisorSettings(
        broker_properties=properties,
        data_dir=data_dir,
        host=args.host,
        log_level=args.log_level,
        ports=ports,
        client_settings=client_settings,
    )

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print(f"odradek dev: data in {data_dir}; Ctrl-C stops everything", flush=True)
        if secure_note:
            print(secure_note, flush=True)
        return await Supervisor(settings, services).run(stop)

    return asyncio.run(main())
