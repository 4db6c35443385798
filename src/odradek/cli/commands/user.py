"""`odradek user create|list|delete`: SCRAM users (AlterUserScramCredentials and
DescribeUserScramCredentials through confluent-kafka's admin client, which salts and hashes the
password on this side: only the salted password crosses the wire, and the broker keeps derived keys)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from odradek.cli.client_options import add_client_arguments
from odradek.cli.output import add_output_argument

MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")
DEFAULT_ITERATIONS = 8192


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("user", help="create, list and delete SCRAM users")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    parser.set_defaults(func=run)

    create = actions.add_parser("create", help="create a user or change its password")
    create.add_argument("name")
    secret = create.add_mutually_exclusive_group()
    secret.add_argument(
        "--password", help="the password (default: asked on the terminal, or read from stdin)"
    )
    secret.add_argument("--password-file", metavar="FILE", help="read the password from FILE (first line)")
    create.add_argument(
        "--mechanism", action="append", choices=MECHANISMS, default=[], help="default: both SCRAM mechanisms"
    )
    create.add_argument(
        "--iterations",
        type=int,
        default=DEFAULT_ITERATIONS,
        help=f"4096-16384 (default {DEFAULT_ITERATIONS})",
    )

    listing = actions.add_parser("list", help="users with SCRAM credentials, their mechanisms and iterations")
    listing.add_argument("names", nargs="*", metavar="NAME")
    add_output_argument(listing)

    delete = actions.add_parser("delete", help="delete a user's SCRAM credentials")
    delete.add_argument("name")
    delete.add_argument(
        "--mechanism", action="append", choices=MECHANISMS, default=[], help="default: every one it has"
    )

    for sub in (create, listing, delete):
        add_client_arguments(sub)


def run(args: argparse.Namespace) -> int:
    return {"create": _create, "list": _list, "delete": _delete}[args.action](args)


def _password(args: argparse.Namespace) -> str:
    from pathlib import Path

    from odradek.cli.errors import CliError

    if args.password is not None:
        password: str = args.password
    elif args.password_file:
        try:
            password = (
                Path(args.password_file).read_text().splitlines()[0]
                if Path(args.password_file).stat().st_size
                else ""
            )
        except OSError as exc:
            raise CliError(f"cannot read {args.password_file}: {exc.strerror}") from exc
    elif sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.name}: ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    if not password:
        raise CliError("the password must not be empty")
    return password


def _mechanism(name: str) -> Any:
    from confluent_kafka.admin import ScramMechanism

    return ScramMechanism[name.replace("-", "_")]


def _create(args: argparse.Namespace) -> int:
    from confluent_kafka.admin import (
        ScramCredentialInfo,
        UserScramCredentialAlteration,
        UserScramCredentialUpsertion,
    )

    from odradek.cli.clients import Admin
    from odradek.cli.output import emit

    password = _password(args).encode()
    mechanisms = args.mechanism or list(MECHANISMS)
    alterations: list[UserScramCredentialAlteration] = [
        UserScramCredentialUpsertion(args.name, ScramCredentialInfo(_mechanism(m), args.iterations), password)
        for m in mechanisms
    ]
    admin = Admin(args)
    admin.results(
        admin.client.alter_user_scram_credentials(alterations, **admin.options), lambda u: f"user {u}"
    )
    emit(f"user {args.name}: {', '.join(mechanisms)} credentials set ({args.iterations} iterations)\n")
    return 0


def _describe(args: argparse.Namespace, names: list[str] | None) -> dict[str, list[tuple[str, int]]]:
    from odradek.cli.clients import Admin

    admin = Admin(args)
    futures: Any = admin.client.describe_user_scram_credentials(names or None, **admin.options)
    if names:
        found = admin.results(futures, lambda u: f"user {u}")
    else:
        found = admin.result(futures)
    return {
        user: [
            (info.mechanism.name.replace("_", "-"), info.iterations)
            for info in description.scram_credential_infos
        ]
        for user, description in sorted(found.items())
    }


def _list(args: argparse.Namespace) -> int:
    from odradek.cli.output import emit_output, render_table

    users = _describe(args, args.names or None)
    document = {
        "users": [
            {"name": u, "credentials": [{"mechanism": m, "iterations": i} for m, i in c]}
            for u, c in users.items()
        ]
    }
    rows = [(user, mechanism, iterations) for user, creds in users.items() for mechanism, iterations in creds]
    emit_output(args.output, document, render_table(["USER", "MECHANISM", "ITERATIONS"], rows))
    return 0


def _delete(args: argparse.Namespace) -> int:
    from confluent_kafka.admin import UserScramCredentialAlteration, UserScramCredentialDeletion

    from odradek.cli.clients import Admin
    from odradek.cli.output import emit

    mechanisms = args.mechanism or [m for m, _ in _describe(args, [args.name]).get(args.name, [])]
    admin = Admin(args)
    deletions: list[UserScramCredentialAlteration] = [
        UserScramCredentialDeletion(args.name, _mechanism(m)) for m in mechanisms
    ]
    admin.results(
        admin.client.alter_user_scram_credentials(deletions, **admin.options), lambda u: f"user {u}"
    )
    emit(f"user {args.name}: {', '.join(mechanisms)} credentials deleted\n")
    return 0
