"""`odradek transactions list|describe` (kafka-transactions.sh's vocabulary).

`describe` prints every id it was given and exits 1 if any of them failed (unknown id: the
TRANSACTIONAL_ID_NOT_FOUND row).

confluent-kafka 2.16 has no admin call for these, so they go over `wire_client.py`: ListTransactions
to every broker, DescribeTransactions to each id's coordinator (FindCoordinator TRANSACTION).
"""

from __future__ import annotations

import argparse
from typing import Any

from odradek.cli.output import add_output_argument
from odradek.cli.wire_options import add_wire_arguments, wire_security

TRANSACTION = 1


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("transactions", help="list and describe transactions")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    parser.set_defaults(func=run)
    listing = actions.add_parser("list", help="transactional ids known to the coordinators")
    listing.add_argument(
        "--state", action="append", default=[], help="only this state, e.g. Ongoing (repeatable)"
    )
    listing.add_argument("--producer-id", type=int, action="append", default=[], help="only this producer id")
    listing.add_argument(
        "--duration-ms", type=int, default=-1, help="only transactions running at least this long"
    )
    listing.add_argument("--pattern", default=None, help="only ids matching this regular expression")
    describe = actions.add_parser("describe", help="state, producer, timeout and partitions of transactions")
    describe.add_argument("transactional_ids", nargs="+", metavar="TRANSACTIONAL_ID")
    for sub in (listing, describe):
        add_output_argument(sub)
        add_wire_arguments(sub)


def run(args: argparse.Namespace) -> int:
    return _list(args) if args.action == "list" else _describe(args)


def _list(args: argparse.Namespace) -> int:
    from odradek.cli import transaction_view as view
    from odradek.cli.errors import CliError
    from odradek.cli.output import emit_output
    from odradek.cli.wire_client import Cluster
    from odradek.model.errors import ErrorCode
    from odradek.protocol.api_keys import ApiKey
    from odradek.protocol.messages import list_transactions

    request = list_transactions.ListTransactionsRequest(
        state_filters=args.state,
        producer_id_filters=args.producer_id,
        duration_filter=args.duration_ms,
        transactional_id_pattern=args.pattern,
    )
    listings: list[view.TransactionListing] = []
    with Cluster.connect(args.bootstrap_server, args.timeout, wire_security(args)) as cluster:
        cluster.load_metadata([])
        for node_id in sorted(cluster.brokers):
            response = cluster.call(node_id, ApiKey.LIST_TRANSACTIONS, request)
            if response.error_code != ErrorCode.NO_ERROR:
                raise CliError(f"broker {node_id}: {ErrorCode(response.error_code).name}")
            if response.unknown_state_filters:
                raise CliError(f"unknown states: {', '.join(response.unknown_state_filters)}", exit_code=2)
            listings += [
                view.TransactionListing(s.transactional_id, s.producer_id, s.transaction_state, node_id)
                for s in response.transaction_states
            ]
    listings.sort(key=lambda t: t.transactional_id)
    emit_output(args.output, view.list_doc(listings), view.render_list_text(listings))
    return 0


def _describe(args: argparse.Namespace) -> int:
    import time

    from odradek.cli import transaction_view as view
    from odradek.cli.output import emit_output
    from odradek.cli.wire_client import BOOTSTRAP_NODE, Cluster
    from odradek.model.errors import ErrorCode
    from odradek.protocol.api_keys import ApiKey
    from odradek.protocol.messages import describe_transactions, find_coordinator

    ids = list(dict.fromkeys(args.transactional_ids))
    out: list[view.TransactionDescription] = []
    with Cluster.connect(args.bootstrap_server, args.timeout, wire_security(args)) as cluster:
        cluster.load_metadata([])
        coordinators: dict[str, tuple[int, str | None]] = {}
        for txn_id in ids:
            found = cluster.call(
                BOOTSTRAP_NODE,
                ApiKey.FIND_COORDINATOR,
                find_coordinator.FindCoordinatorRequest(
                    key=txn_id, key_type=TRANSACTION, coordinator_keys=[txn_id]
                ),
            )
            one = found.coordinators[0] if found.coordinators else found
            error = None if one.error_code == ErrorCode.NO_ERROR else ErrorCode(one.error_code).name
            coordinators[txn_id] = (one.node_id, error)
        for txn_id in ids:
            node_id, error = coordinators[txn_id]
            if error is not None:
                out.append(view.TransactionDescription(txn_id, error, node_id))
                continue
            request = describe_transactions.DescribeTransactionsRequest([txn_id])
            [state] = cluster.call(node_id, ApiKey.DESCRIBE_TRANSACTIONS, request).transaction_states
            out.append(_description(state, node_id))
    emit_output(args.output, view.describe_doc(out), view.render_describe_text(out, int(time.time() * 1000)))
    return 1 if any(d.error is not None for d in out) else 0


def _description(state: Any, node_id: int) -> Any:
    from odradek.cli import transaction_view as view
    from odradek.model.errors import ErrorCode

    if state.error_code != ErrorCode.NO_ERROR:
        return view.TransactionDescription(state.transactional_id, ErrorCode(state.error_code).name, node_id)
    return view.TransactionDescription(
        state.transactional_id,
        None,
        node_id,
        state.transaction_state,
        state.producer_id,
        state.producer_epoch,
        state.transaction_timeout_ms,
        state.transaction_start_time_ms,
        tuple(sorted((t.topic, p) for t in state.topics for p in t.partitions)),
    )
