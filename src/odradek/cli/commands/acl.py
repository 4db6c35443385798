"""`odradek acl add|list|remove`: ACLs with kafka-acls.sh's vocabulary (CreateAcls, DescribeAcls,
DeleteAcls through confluent-kafka's admin client)."""

from __future__ import annotations

import argparse
from typing import Any

from odradek.cli.client_options import add_client_arguments
from odradek.cli.output import add_output_argument


def _resource_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("resources (repeatable)")
    group.add_argument("--topic", action="append", default=[], metavar="NAME")
    group.add_argument("--group", action="append", default=[], metavar="NAME")
    group.add_argument("--transactional-id", action="append", default=[], metavar="ID")
    group.add_argument("--delegation-token", action="append", default=[], metavar="ID")
    group.add_argument("--user-principal", action="append", default=[], metavar="NAME")
    group.add_argument("--cluster", action="store_true", help="the cluster resource (kafka-cluster)")
    group.add_argument(
        "--resource-pattern-type",
        metavar="TYPE",
        help="literal or prefixed (add: default literal); list/remove also any or match",
    )
    parser.add_argument(
        "--operation", action="append", default=[], metavar="OP", help="Read, Write, Describe, ..."
    )


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("acl", help="add, list and remove ACLs (kafka-acls vocabulary)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    parser.set_defaults(func=run)

    add = actions.add_parser("add", help="add ACLs")
    _resource_arguments(add)
    add.add_argument("--allow-principal", action="append", default=[], metavar="TYPE:NAME")
    add.add_argument("--deny-principal", action="append", default=[], metavar="TYPE:NAME")
    add.add_argument("--allow-host", action="append", default=[], metavar="HOST")
    add.add_argument("--deny-host", action="append", default=[], metavar="HOST")
    add.add_argument(
        "--producer", action="store_true", help="Write, Describe, Create on --topic (+ --transactional-id)"
    )
    add.add_argument("--consumer", action="store_true", help="Read, Describe on --topic, Read on --group")
    add.add_argument(
        "--idempotent", action="store_true", help="with --producer: IdempotentWrite on the cluster"
    )

    listing = actions.add_parser("list", help="list ACLs (all, or those of the resources given)")
    _resource_arguments(listing)
    listing.add_argument("--principal", action="append", default=[], metavar="TYPE:NAME")
    add_output_argument(listing)

    remove = actions.add_parser("remove", help="remove the ACLs matching the filters given")
    _resource_arguments(remove)
    remove.add_argument("--principal", action="append", default=[], metavar="TYPE:NAME")
    remove.add_argument(
        "--all", action="store_true", help="allow removing with no resource filter (every ACL)"
    )

    for sub in (add, listing, remove):
        add_client_arguments(sub)


def run(args: argparse.Namespace) -> int:
    from odradek.cli.acl_plan import AclPlanError
    from odradek.cli.errors import CliError

    try:
        return {"add": _add, "list": _list, "remove": _remove}[args.action](args)
    except AclPlanError as exc:
        raise CliError(str(exc)) from exc


def _to_client(binding: Any) -> Any:
    from confluent_kafka.admin import (
        AclBinding,
        AclOperation,
        AclPermissionType,
        ResourcePatternType,
        ResourceType,
    )

    p, e = binding.pattern, binding.entry
    return AclBinding(
        ResourceType[p.resource_type.name],
        p.name,
        ResourcePatternType[p.pattern_type.name],
        e.principal,
        e.host,
        AclOperation[e.operation.name],
        AclPermissionType[e.permission_type.name],
    )


def _filter_to_client(acl_filter: Any) -> Any:
    from confluent_kafka.admin import (
        AclBindingFilter,
        AclOperation,
        AclPermissionType,
        ResourcePatternType,
        ResourceType,
    )

    p, e = acl_filter.pattern, acl_filter.entry
    return AclBindingFilter(
        ResourceType[p.resource_type.name],
        p.name,
        ResourcePatternType[p.pattern_type.name],
        e.principal,
        e.host,
        AclOperation[e.operation.name],
        AclPermissionType[e.permission_type.name],
    )


def _row(binding: Any) -> dict[str, str]:
    from odradek.cli.acl_plan import display_operation
    from odradek.security.acl import AclOperation

    return {
        "principal": binding.principal,
        "permission": binding.permission_type.name,
        "operation": display_operation(AclOperation[binding.operation.name]),
        "host": binding.host,
        "resource_type": binding.restype.name,
        "pattern_type": binding.resource_pattern_type.name,
        "resource": binding.name,
    }


def _add(args: argparse.Namespace) -> int:
    from odradek.cli.acl_plan import bindings_to_add
    from odradek.cli.clients import Admin
    from odradek.cli.output import emit

    args.resource_pattern_type = args.resource_pattern_type or "literal"
    bindings = [_to_client(b) for b in bindings_to_add(args)]
    admin = Admin(args)
    admin.results(admin.client.create_acls(bindings, **admin.options), str)
    emit("".join(f"added {_describe(b)}\n" for b in bindings))
    return 0


def _describe(binding: Any) -> str:
    row = _row(binding)
    return (
        f"{row['permission']} {row['principal']} {row['operation']} from {row['host']} on "
        f"{row['resource_type']}:{row['pattern_type']}:{row['resource']}"
    )


def _list(args: argparse.Namespace) -> int:
    from odradek.cli.acl_plan import filters
    from odradek.cli.clients import Admin
    from odradek.cli.output import emit_output, render_table

    admin = Admin(args)
    found: list[Any] = []
    for acl_filter in filters(args):
        for binding in admin.result(
            admin.client.describe_acls(_filter_to_client(acl_filter), **admin.options)
        ):
            if binding not in found:
                found.append(binding)
    rows = sorted(
        (_row(b) for b in found),
        key=lambda r: (r["resource_type"], r["resource"], r["principal"], r["operation"]),
    )
    headers = ["RESOURCE_TYPE", "PATTERN", "RESOURCE", "PRINCIPAL", "PERMISSION", "OPERATION", "HOST"]
    keys = ["resource_type", "pattern_type", "resource", "principal", "permission", "operation", "host"]
    emit_output(args.output, {"acls": rows}, render_table(headers, ([r[k] for k in keys] for r in rows)))
    return 0


def _remove(args: argparse.Namespace) -> int:
    from odradek.cli.acl_plan import Resources, filters
    from odradek.cli.clients import Admin
    from odradek.cli.errors import CliError
    from odradek.cli.output import emit

    if not Resources.from_args(args).patterns and not args.principal and not args.all:
        raise CliError("this would remove every ACL: give a resource or --principal, or --all")
    admin = Admin(args)
    client_filters = [_filter_to_client(f) for f in filters(args)]
    results = admin.results(admin.client.delete_acls(client_filters, **admin.options), str)
    removed = [b for bindings in results.values() for b in bindings]
    emit("".join(f"removed {_describe(b)}\n" for b in removed) or "no ACL matched\n")
    return 0
