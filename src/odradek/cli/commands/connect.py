"""`odradek connect distributed|standalone`: run a Kafka Connect worker (Kafka's
connect-distributed.sh / connect-standalone.sh, with Kafka's worker config names).

    odradek connect distributed [worker.properties] --bootstrap HOST:PORT --group-id G [--listen HOST:PORT]
    odradek connect standalone worker.properties connector.properties|connector.json...

Connector files are Java properties or JSON (the body of `POST /connectors` or of
`PUT /connectors/{name}/config`), as Kafka's standalone worker takes them. As in Kafka, a
standalone worker keeps connectors created over REST in memory only: after a restart it runs the
connectors of its files. Flags override the properties file; `--override name=value` sets any
worker config. The REST API listens on `--listen` (else the first of `listeners`, else 127.0.0.1:8083).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from odradek.http import ListenAddress

DISTRIBUTED_DEFAULTS = {
    "group.id": "connect-cluster",
    "config.storage.topic": "connect-configs",
    "offset.storage.topic": "connect-offsets",
    "status.storage.topic": "connect-status",
}


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bootstrap", "-b", help="Kafka bootstrap servers (bootstrap.servers)")
    parser.add_argument("--listen", help="REST listener, HOST:PORT or http://HOST:PORT (listeners)")
    parser.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set any worker config (repeatable)",
    )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("connect", help="run a Kafka Connect worker (REST API on 8083)")
    modes = parser.add_subparsers(dest="mode", metavar="MODE", required=True)
    distributed = modes.add_parser(
        "distributed", help="a worker of a Connect cluster (state in Kafka topics)"
    )
    distributed.add_argument("worker_properties", nargs="?", type=Path, help="worker .properties file")
    distributed.add_argument("--group-id", help="the Connect cluster's group.id")
    _common(distributed)
    distributed.set_defaults(func=run_distributed)
    standalone = modes.add_parser("standalone", help="one worker, no cluster (offsets in a local file)")
    standalone.add_argument("worker_properties", type=Path, help="worker .properties file")
    standalone.add_argument("connector_properties", nargs="*", type=Path, help="connector .properties files")
    _common(standalone)
    standalone.set_defaults(func=run_standalone)


def _worker_props(args: argparse.Namespace, defaults: dict[str, str]) -> dict[str, str]:
    from odradek.cli.errors import CliError
    from odradek.connect.config.providers import read_properties

    props = dict(defaults)
    if args.worker_properties is not None:
        try:
            props.update(read_properties(args.worker_properties.read_text()))
        except OSError as exc:
            raise CliError(f"cannot read {args.worker_properties}: {exc}") from exc
    if args.bootstrap:
        props["bootstrap.servers"] = args.bootstrap
    if getattr(args, "group_id", None):
        props["group.id"] = args.group_id
    for item in args.override:
        name, sep, value = item.partition("=")
        if not sep:
            raise CliError(f"--override expects NAME=VALUE, got {item!r}")
        props[name.strip()] = value.strip()
    if args.listen:
        props["listeners"] = args.listen
    return props


def _address(props: dict[str, str]) -> ListenAddress:
    from odradek.cli.errors import CliError
    from odradek.http import parse_listen
    from odradek.http.runner import bind

    first = (props.get("listeners") or "127.0.0.1:8083").split(",")[0]
    try:
        address = parse_listen(first, default_port=8083)
    except ValueError as exc:
        raise CliError(f"listeners: {exc}") from exc
    if address.port == 0:
        # The worker's id and group client.id carry its URL, needed before uvicorn binds: pick
        # a free port now (the tiny window before it is bound again is acceptable for port 0).
        probe = bind(address)
        address = type(address)(address.host, probe.getsockname()[1])
        probe.close()
    return address


def _serve(props: dict[str, str], distributed: bool, connectors: list[dict[str, str]]) -> int:
    from odradek.cli.errors import CliError
    from odradek.connect.api.errors import ConnectException
    from odradek.connect.rest.app import create_connect_app
    from odradek.connect.runtime.worker import distributed_herder, standalone_herder
    from odradek.http import serve

    address = _address(props)
    url = props.get("rest.advertised.listener") or address.url()
    try:
        herder = (distributed_herder if distributed else standalone_herder)(props, url)
    except ConnectException as exc:
        raise CliError(str(exc)) from exc
    herder.initial_connectors = connectors
    return serve(create_connect_app(herder), "connect", address)


def run_distributed(args: argparse.Namespace) -> int:
    return _serve(_worker_props(args, DISTRIBUTED_DEFAULTS), True, [])


def run_standalone(args: argparse.Namespace) -> int:
    from odradek.cli.errors import CliError
    from odradek.connect.config.providers import read_properties

    connectors = []
    for path in args.connector_properties:
        try:
            text = path.read_text()
        except OSError as exc:
            raise CliError(f"cannot read {path}: {exc}") from exc
        config = _connector_file(text, path, read_properties)
        if not config.get("name"):
            raise CliError(f"{path}: a connector config needs 'name'")
        connectors.append(config)
    return _serve(_worker_props(args, {}), False, connectors)


def _connector_file(text: str, path: Path, read_properties: Any) -> dict[str, str]:
    """A connector config file as Kafka's standalone worker takes it: Java properties, or JSON
    shaped as the body of `POST /connectors` (`{"name", "config"}`) or of
    `PUT /connectors/{name}/config` (the config itself, with its `name`)."""
    import json

    from odradek.cli.errors import CliError

    if not text.lstrip().startswith("{"):
        return dict(read_properties(text))
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise CliError(f"{path}: not valid JSON: {exc}") from exc
    if isinstance(body.get("config"), dict):
        config = {str(k): str(v) for k, v in body["config"].items()}
        if body.get("name"):
            config["name"] = str(body["name"])
        return config
    return {str(k): str(v) for k, v in body.items()}
