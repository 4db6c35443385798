"""One module per API (or API family); each exposes ``SPEC`` (an `ApiSpec`) or ``SPECS``.

`all_specs()` is the dispatch table, and therefore exactly what ApiVersions advertises.
"""

from __future__ import annotations

import importlib

from odradek.broker.api import ApiSpec

MODULES = (
    "api_versions",
    "metadata",
    "produce",
    "fetch",
    "list_offsets",
    "create_topics",
    "delete_topics",
    "create_partitions",
    "delete_records",
    "offset_for_leader_epoch",
    "describe_configs",
    "alter_configs",
    "describe_log_dirs",
    "describe_cluster",
    "describe_topic_partitions",
    "find_coordinator",
    "init_producer_id",
    "add_partitions_to_txn",
    "add_offsets_to_txn",
    "end_txn",
    "write_txn_markers",
    "describe_transactions",
    "list_transactions",
    "describe_producers",
    "txn_offset_commit",
    "join_group",
    "sync_group",
    "heartbeat",
    "leave_group",
    "offset_commit",
    "offset_fetch",
    "offset_delete",
    "list_groups",
    "describe_groups",
    "delete_groups",
    "consumer_group_heartbeat",
    "consumer_group_describe",
    "list_config_resources",
    "sasl",
    "acls",
    "user_scram_credentials",
    "client_quotas",
)


def all_specs() -> list[ApiSpec]:
    specs: list[ApiSpec] = []
    for name in MODULES:
        module = importlib.import_module(f"odradek.broker.handlers.{name}")
        specs.extend(getattr(module, "SPECS", None) or [module.SPEC])
    return specs
