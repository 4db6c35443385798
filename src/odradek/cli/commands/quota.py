"""`odradek quota set|describe`: client quotas (AlterClientQuotas, DescribeClientQuotas over
`wire_client.py`: confluent-kafka 2.16 has no client-quota admin calls).

An entity is ``--user NAME`` / ``--user-default``, ``--client-id ID`` / ``--client-id-default``,
both, or ``--ip ADDRESS`` / ``--ip-default`` (kafka-configs.sh's ``--entity-type users --entity-name``).
"""

from __future__ import annotations

import argparse
from typing import Any

from odradek.cli.output import add_output_argument
from odradek.cli.wire_options import add_wire_arguments

KEYS = (
    "producer_byte_rate",
    "consumer_byte_rate",
    "request_percentage",
    "controller_mutation_rate",
    "connection_creation_rate",
)


def _entity_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("entity")
    user = group.add_mutually_exclusive_group()
    user.add_argument("--user", metavar="NAME")
    user.add_argument("--user-default", action="store_true", help="the default of every user")
    client = group.add_mutually_exclusive_group()
    client.add_argument("--client-id", metavar="ID")
    client.add_argument("--client-id-default", action="store_true", help="the default of every client id")
    ip = group.add_mutually_exclusive_group()
    ip.add_argument("--ip", metavar="ADDRESS")
    ip.add_argument("--ip-default", action="store_true", help="the default of every address")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("quota", help="set and describe client quotas")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    parser.set_defaults(func=run)

    set_ = actions.add_parser("set", help="set or remove quota values of one entity")
    _entity_arguments(set_)
    for key in KEYS:
        set_.add_argument(f"--{key.replace('_', '-')}", type=float, metavar="VALUE", dest=key)
    set_.add_argument(
        "--delete", action="append", default=[], choices=KEYS, metavar="KEY", help="remove a quota key"
    )
    set_.add_argument("--validate-only", action="store_true")

    describe = actions.add_parser("describe", help="quotas of the entities matching the flags (all without)")
    _entity_arguments(describe)
    describe.add_argument("--strict", action="store_true", help="only entities with exactly the types given")
    add_output_argument(describe)

    for sub in (set_, describe):
        add_wire_arguments(sub)


def run(args: argparse.Namespace) -> int:
    return {"set": _set, "describe": _describe}[args.action](args)


def _entity(args: argparse.Namespace) -> list[tuple[str, str | None]]:
    parts: list[tuple[str, str | None]] = []
    if args.user is not None or args.user_default:
        parts.append(("user", args.user))
    if args.client_id is not None or args.client_id_default:
        parts.append(("client-id", args.client_id))
    if args.ip is not None or args.ip_default:
        parts.append(("ip", args.ip))
    return parts


def _name(entity: list[tuple[str, str | None]]) -> str:
    return ", ".join(f"{t}={'<default>' if n is None else n}" for t, n in entity)


def _set(args: argparse.Namespace) -> int:
    from odradek.cli.errors import CliError
    from odradek.cli.output import emit
    from odradek.cli.wire_client import BOOTSTRAP_NODE, Cluster
    from odradek.cli.wire_options import wire_security
    from odradek.protocol.api_keys import ApiKey
    from odradek.protocol.messages import alter_client_quotas as msg

    entity = _entity(args)
    if not entity:
        raise CliError("give an entity: --user, --client-id, --ip or their -default forms")
    ops = [msg.OpData(key, getattr(args, key)) for key in KEYS if getattr(args, key) is not None]
    ops += [msg.OpData(key, 0.0, remove=True) for key in args.delete]
    if not ops:
        raise CliError("nothing to set: give --producer-byte-rate ... or --delete KEY")
    request = msg.AlterClientQuotasRequest(
        [msg.EntryData([msg.EntityData(t, n) for t, n in entity], ops)], validate_only=args.validate_only
    )
    with Cluster.connect(args.bootstrap_server, args.timeout, wire_security(args)) as cluster:
        response = cluster.call(BOOTSTRAP_NODE, ApiKey.ALTER_CLIENT_QUOTAS, request)
    [entry] = response.entries
    if entry.error_code:
        from odradek.model.errors import ErrorCode

        raise CliError(f"{ErrorCode(entry.error_code).name}: {entry.error_message or ''}".rstrip(": "))
    verb = "would be updated" if args.validate_only else "updated"
    emit(f"quotas of {_name(entity)} {verb}\n")
    return 0


def _describe(args: argparse.Namespace) -> int:
    from odradek.cli.errors import CliError
    from odradek.cli.output import emit_output, render_table
    from odradek.cli.wire_client import BOOTSTRAP_NODE, Cluster
    from odradek.cli.wire_options import wire_security
    from odradek.model.errors import ErrorCode
    from odradek.protocol.api_keys import ApiKey
    from odradek.protocol.messages import describe_client_quotas as msg

    components = [
        msg.ComponentData(t, 1, None) if n is None else msg.ComponentData(t, 0, n) for t, n in _entity(args)
    ]
    request = msg.DescribeClientQuotasRequest(components, strict=args.strict)
    with Cluster.connect(args.bootstrap_server, args.timeout, wire_security(args)) as cluster:
        response = cluster.call(BOOTSTRAP_NODE, ApiKey.DESCRIBE_CLIENT_QUOTAS, request)
    if response.error_code:
        raise CliError(f"{ErrorCode(response.error_code).name}: {response.error_message or ''}".rstrip(": "))
    entries = []
    for entry in response.entries or []:
        entity = [(e.entity_type, e.entity_name) for e in entry.entity]
        entries.append((_name(sorted(entity)), {v.key: v.value for v in entry.values}))
    entries.sort()
    document = {"quotas": [{"entity": name, "values": values} for name, values in entries]}
    rows = [(name, key, f"{value:g}") for name, values in entries for key, value in sorted(values.items())]
    emit_output(args.output, document, render_table(["ENTITY", "KEY", "VALUE"], rows))
    return 0
