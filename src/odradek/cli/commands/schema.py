"""`odradek schema`: the schema registry from the command line (register, get, list, delete,
check, config), and the data check behind `odradek registry check --against-data`.

    odradek schema register SUBJECT --schema FILE [--type AVRO|JSON|PROTOBUF]
                            [--reference NAME=SUBJECT:VERSION]...
    odradek schema get SUBJECT [--version N|latest] | odradek schema get --id ID
    odradek schema list [SUBJECT] [--deleted]
    odradek schema delete SUBJECT [--version N] [--permanent]
    odradek schema check SUBJECT --schema FILE [--version N]
    odradek schema config [SUBJECT] [--set LEVEL]

``--url`` (default ``$ODRADEK_SCHEMA_REGISTRY_URL`` or http://127.0.0.1:8081); ``--output json``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from odradek.cli.output import add_output_argument, emit_output


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url", help="schema registry URL (default $ODRADEK_SCHEMA_REGISTRY_URL or http://127.0.0.1:8081)"
    )
    add_output_argument(parser)


def _schema_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("subject")
    parser.add_argument("--schema", type=Path, required=True, help="file holding the schema")
    parser.add_argument(
        "--type",
        default=None,
        choices=("AVRO", "JSON", "PROTOBUF"),
        help="default: from the file name (.avsc, .json, .proto), else AVRO",
    )
    parser.add_argument(
        "--reference",
        action="append",
        default=[],
        metavar="NAME=SUBJECT:VERSION",
        help="a schema reference (repeatable)",
    )
    parser.add_argument("--normalize", action="store_true", help="normalize the schema (normalize=true)")


def add_check_arguments(parser: argparse.ArgumentParser, with_data: bool = False) -> None:
    _schema_args(parser)
    parser.add_argument(
        "--version", default=None, help="check against this version only (default: as the level says)"
    )
    if with_data:
        parser.add_argument(
            "--against-data", metavar="TOPIC", help="also decode every record of TOPIC with the new schema"
        )
        parser.add_argument("--key", action="store_true", help="check record keys instead of values")
        parser.add_argument(
            "-b", "--bootstrap-server", default=None, help="Kafka bootstrap servers for --against-data"
        )
        parser.add_argument(
            "--max-failures", type=int, default=10, help="failing records to list (default 10)"
        )
    _common(parser)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("schema", help="manage schemas in a schema registry")
    actions = parser.add_subparsers(dest="schema_action", metavar="ACTION", required=True)
    p = actions.add_parser("register", help="register a schema under a subject")
    _schema_args(p)
    _common(p)
    p.set_defaults(func=run_register)
    p = actions.add_parser("get", help="a subject's version, or a schema by id")
    p.add_argument("subject", nargs="?")
    p.add_argument("--version", default="latest")
    p.add_argument("--id", type=int)
    _common(p)
    p.set_defaults(func=run_get)
    p = actions.add_parser("list", help="subjects, or the versions of one subject")
    p.add_argument("subject", nargs="?")
    p.add_argument("--deleted", action="store_true", help="include soft-deleted ones")
    _common(p)
    p.set_defaults(func=run_list)
    p = actions.add_parser(
        "delete", help="delete a subject or one version (soft; --permanent after a soft delete)"
    )
    p.add_argument("subject")
    p.add_argument("--version")
    p.add_argument("--permanent", action="store_true")
    _common(p)
    p.set_defaults(func=run_delete)
    p = actions.add_parser("check", help="is a schema compatible with a subject's versions?")
    add_check_arguments(p)
    p.set_defaults(func=run_check)
    p = actions.add_parser("config", help="show or set the compatibility level (global or of a subject)")
    p.add_argument("subject", nargs="?")
    p.add_argument(
        "--set", metavar="LEVEL", help="NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, …, FULL_TRANSITIVE"
    )
    _common(p)
    p.set_defaults(func=run_config)


def _client(args: argparse.Namespace) -> Any:
    from odradek.cli.registry_client import RegistryClient, default_url

    return RegistryClient(args.url or default_url())


def _schema_body(args: argparse.Namespace) -> dict[str, Any]:
    from odradek.cli.errors import CliError

    try:
        text = args.schema.read_text()
    except OSError as exc:
        raise CliError(f"--schema {args.schema}: {exc.strerror}") from exc
    schema_type = args.type or {".proto": "PROTOBUF", ".json": "JSON"}.get(args.schema.suffix, "AVRO")
    body: dict[str, Any] = {"schema": text}
    if schema_type != "AVRO":
        body["schemaType"] = schema_type
    references = []
    for item in args.reference:
        name, _, target = item.partition("=")
        subject, _, version = target.rpartition(":")
        if not name or not subject or not version.lstrip("-").isdigit():
            raise CliError(f"--reference expects NAME=SUBJECT:VERSION, got {item!r}")
        references.append({"name": name, "subject": subject, "version": int(version)})
    if references:
        body["references"] = references
    return body


def run_register(args: argparse.Namespace) -> int:
    from odradek.cli.registry_client import subject_path

    client = _client(args)
    result = client.call(
        "POST", f"/subjects/{subject_path(args.subject)}/versions", _schema_body(args),
        {"normalize": "true" if args.normalize else None},
    )  # fmt: skip
    emit_output(args.output, result, f"registered {args.subject}: id {result['id']}")
    return 0


def run_get(args: argparse.Namespace) -> int:
    from odradek.cli.errors import CliError
    from odradek.cli.registry_client import subject_path

    client = _client(args)
    if args.id is not None:
        result = client.call("GET", f"/schemas/ids/{args.id}")
        emit_output(args.output, result, result["schema"])
        return 0
    if not args.subject:
        raise CliError("give a SUBJECT or --id")
    result = client.call("GET", f"/subjects/{subject_path(args.subject)}/versions/{args.version}")
    kind = result.get("schemaType", "AVRO")
    header = f"{result['subject']} version {result['version']} id {result['id']} ({kind})"
    emit_output(args.output, result, f"{header}\n{result['schema']}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from odradek.cli.registry_client import subject_path

    client = _client(args)
    params = {"deleted": "true" if args.deleted else None}
    if args.subject:
        result = client.call("GET", f"/subjects/{subject_path(args.subject)}/versions", params=params)
    else:
        result = client.call("GET", "/subjects", params=params)
    emit_output(args.output, result, "\n".join(str(item) for item in result))
    return 0


def run_delete(args: argparse.Namespace) -> int:
    from odradek.cli.registry_client import subject_path

    client = _client(args)
    path = f"/subjects/{subject_path(args.subject)}" + (f"/versions/{args.version}" if args.version else "")
    result = client.call("DELETE", path, params={"permanent": "true" if args.permanent else None})
    emit_output(args.output, result, f"deleted {args.subject}: {result}")
    return 0


def run_config(args: argparse.Namespace) -> int:
    from odradek.cli.registry_client import subject_path

    client = _client(args)
    path = "/config" + (f"/{subject_path(args.subject)}" if args.subject else "")
    if args.set:
        result = client.call("PUT", path, {"compatibility": args.set.upper()})
        emit_output(args.output, result, f"{args.subject or 'global'}: {result['compatibility']}")
        return 0
    result = client.call("GET", path, params={"defaultToGlobal": "true"})
    emit_output(args.output, result, f"{args.subject or 'global'}: {result['compatibilityLevel']}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    from odradek.cli.errors import CliError
    from odradek.cli.registry_client import subject_path

    client = _client(args)
    body = _schema_body(args)
    path = f"/compatibility/subjects/{subject_path(args.subject)}/versions" + (
        f"/{args.version}" if args.version else ""
    )
    try:
        result = client.call("POST", path, body, {"verbose": "true"})
    except CliError as exc:
        if not str(exc).startswith("40401"):
            raise
        result = {"is_compatible": True, "messages": [], "note": "no such subject yet"}
    document: dict[str, Any] = {"subject": args.subject, **result}
    lines = [f"{args.subject}: {'compatible' if result['is_compatible'] else 'NOT compatible'}"]
    lines += [f"  {m}" for m in result.get("messages", [])]
    ok = bool(result["is_compatible"])
    topic = getattr(args, "against_data", None)
    if topic:
        from odradek.cli.data_check import check_topic

        report = check_topic(client, topic, body, args)
        document["data"] = report.to_json()
        lines += report.lines()
        ok = ok and report.ok
    emit_output(args.output, document, "\n".join(lines))
    return 0 if ok else 1
