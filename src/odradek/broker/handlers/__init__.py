"""One module per API (or API family); each exposes ``SPEC`` (an `ApiSpec`) or ``SPECS``.

`ENTRIES` is the dispatch table, and therefore exactly what ApiVersions advertises: each API's
versions and the module serving it. The dispatcher imports a handler module when its API is first
asked for, so a broker starts without importing the handlers (and message schemas) of APIs it is
never sent. `load_spec` checks that a module's spec declares the versions its entry advertises;
`all_specs()` imports every module (tests, the README's API table).

Importing needs a file descriptor (the module's file). So that a broker out of descriptors still
answers the first request of an API (with KAFKA_STORAGE_ERROR, say, when its CreateTopics cannot
make directories) instead of dropping the connection, the process holds one descriptor in reserve
(`reserve_descriptor`, taken when a dispatcher with unloaded entries is made): an import that meets
EMFILE/ENFILE releases it, tries again and takes it back.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import os
from types import ModuleType

from odradek.broker.api import ApiEntry, ApiSpec
from odradek.protocol.api_keys import ApiKey

ENTRIES = (
    ApiEntry(ApiKey.API_VERSIONS, 0, 4, "api_versions"),
    ApiEntry(ApiKey.METADATA, 0, 13, "metadata"),
    ApiEntry(ApiKey.PRODUCE, 3, 13, "produce"),
    ApiEntry(ApiKey.FETCH, 4, 18, "fetch"),
    ApiEntry(ApiKey.LIST_OFFSETS, 1, 10, "list_offsets"),
    ApiEntry(ApiKey.CREATE_TOPICS, 2, 7, "create_topics"),
    ApiEntry(ApiKey.DELETE_TOPICS, 1, 6, "delete_topics"),
    ApiEntry(ApiKey.CREATE_PARTITIONS, 0, 3, "create_partitions"),
    ApiEntry(ApiKey.ELECT_LEADERS, 0, 2, "elect_leaders"),
    ApiEntry(ApiKey.ALTER_PARTITION_REASSIGNMENTS, 0, 1, "alter_partition_reassignments"),
    ApiEntry(ApiKey.LIST_PARTITION_REASSIGNMENTS, 0, 0, "list_partition_reassignments"),
    ApiEntry(ApiKey.DELETE_RECORDS, 0, 2, "delete_records"),
    ApiEntry(ApiKey.OFFSET_FOR_LEADER_EPOCH, 2, 4, "offset_for_leader_epoch"),
    ApiEntry(ApiKey.DESCRIBE_CONFIGS, 1, 4, "describe_configs"),
    ApiEntry(ApiKey.ALTER_CONFIGS, 0, 2, "alter_configs"),
    ApiEntry(ApiKey.INCREMENTAL_ALTER_CONFIGS, 0, 1, "alter_configs"),
    ApiEntry(ApiKey.DESCRIBE_LOG_DIRS, 1, 5, "describe_log_dirs"),
    ApiEntry(ApiKey.DESCRIBE_CLUSTER, 0, 2, "describe_cluster"),
    ApiEntry(ApiKey.UPDATE_FEATURES, 0, 2, "update_features"),
    ApiEntry(ApiKey.DESCRIBE_TOPIC_PARTITIONS, 0, 0, "describe_topic_partitions"),
    ApiEntry(ApiKey.FIND_COORDINATOR, 0, 6, "find_coordinator"),
    ApiEntry(ApiKey.INIT_PRODUCER_ID, 0, 5, "init_producer_id"),
    ApiEntry(ApiKey.ADD_PARTITIONS_TO_TXN, 0, 5, "add_partitions_to_txn"),
    ApiEntry(ApiKey.ADD_OFFSETS_TO_TXN, 0, 4, "add_offsets_to_txn"),
    ApiEntry(ApiKey.END_TXN, 0, 5, "end_txn"),
    ApiEntry(ApiKey.WRITE_TXN_MARKERS, 1, 2, "write_txn_markers"),
    ApiEntry(ApiKey.DESCRIBE_TRANSACTIONS, 0, 0, "describe_transactions"),
    ApiEntry(ApiKey.LIST_TRANSACTIONS, 0, 2, "list_transactions"),
    ApiEntry(ApiKey.DESCRIBE_PRODUCERS, 0, 0, "describe_producers"),
    ApiEntry(ApiKey.TXN_OFFSET_COMMIT, 0, 4, "txn_offset_commit"),
    ApiEntry(ApiKey.JOIN_GROUP, 0, 9, "join_group"),
    ApiEntry(ApiKey.SYNC_GROUP, 0, 5, "sync_group"),
    ApiEntry(ApiKey.HEARTBEAT, 0, 4, "heartbeat"),
    ApiEntry(ApiKey.LEAVE_GROUP, 0, 5, "leave_group"),
    ApiEntry(ApiKey.OFFSET_COMMIT, 2, 10, "offset_commit"),
    ApiEntry(ApiKey.OFFSET_FETCH, 1, 10, "offset_fetch"),
    ApiEntry(ApiKey.OFFSET_DELETE, 0, 0, "offset_delete"),
    ApiEntry(ApiKey.LIST_GROUPS, 0, 5, "list_groups"),
    ApiEntry(ApiKey.DESCRIBE_GROUPS, 0, 6, "describe_groups"),
    ApiEntry(ApiKey.DELETE_GROUPS, 0, 2, "delete_groups"),
    ApiEntry(ApiKey.CONSUMER_GROUP_HEARTBEAT, 0, 1, "consumer_group_heartbeat"),
    ApiEntry(ApiKey.CONSUMER_GROUP_DESCRIBE, 0, 0, "consumer_group_describe"),
    ApiEntry(ApiKey.LIST_CONFIG_RESOURCES, 0, 1, "list_config_resources"),
    ApiEntry(ApiKey.SASL_HANDSHAKE, 0, 1, "sasl"),
    ApiEntry(ApiKey.SASL_AUTHENTICATE, 0, 2, "sasl"),
    ApiEntry(ApiKey.CREATE_ACLS, 1, 3, "acls"),
    ApiEntry(ApiKey.DESCRIBE_ACLS, 1, 3, "acls"),
    ApiEntry(ApiKey.DELETE_ACLS, 1, 3, "acls"),
    ApiEntry(ApiKey.DESCRIBE_USER_SCRAM_CREDENTIALS, 0, 0, "user_scram_credentials"),
    ApiEntry(ApiKey.ALTER_USER_SCRAM_CREDENTIALS, 0, 0, "user_scram_credentials"),
    ApiEntry(ApiKey.DESCRIBE_CLIENT_QUOTAS, 0, 1, "client_quotas"),
    ApiEntry(ApiKey.ALTER_CLIENT_QUOTAS, 0, 1, "client_quotas"),
)


class _ReservedDescriptor:
    """The descriptor held back for imports (see the module doc); one per process."""

    fd: int | None = None

    def take(self) -> None:
        if self.fd is None:
            with contextlib.suppress(OSError):
                self.fd = os.open(os.devnull, os.O_RDONLY)

    def release(self) -> bool:
        if self.fd is None:
            return False
        os.close(self.fd)
        self.fd = None
        return True


_RESERVED = _ReservedDescriptor()
reserve_descriptor = _RESERVED.take


def _import(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except OSError as exc:
        if exc.errno not in (errno.EMFILE, errno.ENFILE) or not _RESERVED.release():
            raise
    try:
        return importlib.import_module(name)
    finally:
        _RESERVED.take()


def load_spec(entry: ApiEntry) -> ApiSpec:
    """Import the entry's handler module and return its spec for the entry's API."""
    module = _import(f"odradek.broker.handlers.{entry.module}")
    specs: list[ApiSpec] = getattr(module, "SPECS", None) or [module.SPEC]
    for spec in specs:
        if spec.key == entry.key:
            if (spec.min_version, spec.max_version) != (entry.min_version, entry.max_version):
                raise ValueError(
                    f"{entry.key.name}: handlers.{entry.module} serves versions "
                    f"{spec.min_version}-{spec.max_version}, the dispatch table advertises "
                    f"{entry.min_version}-{entry.max_version}"
                )
            return spec
    raise ValueError(f"handlers.{entry.module} has no spec for {entry.key.name}")


def all_specs() -> list[ApiSpec]:
    return [load_spec(entry) for entry in ENTRIES]
