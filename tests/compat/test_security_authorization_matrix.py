"""The authorization matrix: for every API that names a resource, a principal granted the ACL Kafka
requires gets past authorization, and one without it gets exactly Kafka's *_AUTHORIZATION_FAILED.

Requests go over SASL_PLAINTEXT (PLAIN) through the CLI's wire client, so every API can be asked
with exact request fields; alice holds only the ACL of the case, bob holds none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient, NewTopic
from secure_broker import Pki, admin_config, secure_broker

from odradek.cli.wire_client import Connection
from odradek.cli.wire_security import WireSecurity
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import (
    add_offsets_to_txn,
    alter_client_quotas,
    create_acls,
    create_partitions,
    create_topics,
    delete_groups,
    delete_records,
    delete_topics,
    describe_acls,
    describe_client_quotas,
    describe_configs,
    describe_groups,
    describe_log_dirs,
    describe_producers,
    describe_user_scram_credentials,
    end_txn,
    fetch,
    find_coordinator,
    incremental_alter_configs,
    init_producer_id,
    join_group,
    list_offsets,
    metadata,
    offset_commit,
    offset_fetch,
    offset_for_leader_epoch,
    produce,
)
from odradek.protocol.records import build_batch
from odradek.security.acl import AclOperation as Op
from odradek.security.acl import ResourceType as RT
from odradek.testing.broker_process import BrokerProcess

pytestmark = pytest.mark.compat

TOPIC_AUTH, GROUP_AUTH = ErrorCode.TOPIC_AUTHORIZATION_FAILED, ErrorCode.GROUP_AUTHORIZATION_FAILED
CLUSTER_AUTH, TXN_AUTH = (
    ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
    ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
)
AUTH_ERRORS = {TOPIC_AUTH, GROUP_AUTH, CLUSTER_AUTH, TXN_AUTH}
TOPIC_IDS: dict[str, Any] = {}
"""Topic ids of the case topics (Produce v13 and Fetch v13+ name topics by id)."""


@dataclass(frozen=True)
class Case:
    api: ApiKey
    grant: list[tuple[RT, Op]]
    """ACLs alice gets on the case's resource name (the cluster for CLUSTER)."""
    request: Callable[[str], Any]
    error: Callable[[Any], int]
    denied: ErrorCode


def batch() -> bytes:
    return build_batch([(b"k", b"v", [], 0)])


CASES = {
    "produce": Case(
        ApiKey.PRODUCE,
        [(RT.TOPIC, Op.WRITE)],
        lambda n: produce.ProduceRequest(
            acks=1,
            timeout_ms=5000,
            topic_data=[
                produce.TopicProduceData(
                    name=n, topic_id=TOPIC_IDS[n], partition_data=[produce.PartitionProduceData(0, batch())]
                )
            ],
        ),
        lambda r: r.responses[0].partition_responses[0].error_code,
        TOPIC_AUTH,
    ),
    "fetch": Case(
        ApiKey.FETCH,
        [(RT.TOPIC, Op.READ)],
        lambda n: fetch.FetchRequest(
            max_wait_ms=0,
            topics=[
                fetch.FetchTopic(
                    topic=n,
                    topic_id=TOPIC_IDS[n],
                    partitions=[fetch.FetchPartition(0, fetch_offset=0, partition_max_bytes=1024)],
                )
            ],
        ),
        lambda r: r.responses[0].partitions[0].error_code if r.responses else r.error_code,
        TOPIC_AUTH,
    ),
    "list-offsets": Case(
        ApiKey.LIST_OFFSETS,
        [(RT.TOPIC, Op.DESCRIBE)],
        lambda n: list_offsets.ListOffsetsRequest(
            replica_id=-1,
            topics=[list_offsets.ListOffsetsTopic(n, [list_offsets.ListOffsetsPartition(0, timestamp=-1)])],
        ),
        lambda r: r.topics[0].partitions[0].error_code,
        TOPIC_AUTH,
    ),
    "metadata": Case(
        ApiKey.METADATA,
        [(RT.TOPIC, Op.DESCRIBE)],
        lambda n: metadata.MetadataRequest(
            topics=[metadata.MetadataRequestTopic(name=n)], allow_auto_topic_creation=False
        ),
        lambda r: r.topics[0].error_code,
        TOPIC_AUTH,
    ),
    "offset-for-leader-epoch": Case(
        ApiKey.OFFSET_FOR_LEADER_EPOCH,
        [(RT.TOPIC, Op.DESCRIBE)],
        lambda n: offset_for_leader_epoch.OffsetForLeaderEpochRequest(
            topics=[
                offset_for_leader_epoch.OffsetForLeaderTopic(
                    n, [offset_for_leader_epoch.OffsetForLeaderPartition(0, leader_epoch=0)]
                )
            ]
        ),
        lambda r: r.topics[0].partitions[0].error_code,
        TOPIC_AUTH,
    ),
    "describe-producers": Case(
        ApiKey.DESCRIBE_PRODUCERS,
        [(RT.TOPIC, Op.READ)],
        lambda n: describe_producers.DescribeProducersRequest([describe_producers.TopicRequest(n, [0])]),
        lambda r: r.topics[0].partitions[0].error_code,
        TOPIC_AUTH,
    ),
    "delete-records": Case(
        ApiKey.DELETE_RECORDS,
        [(RT.TOPIC, Op.DELETE)],
        lambda n: delete_records.DeleteRecordsRequest(
            [delete_records.DeleteRecordsTopic(n, [delete_records.DeleteRecordsPartition(0, 0)])], 5000
        ),
        lambda r: r.topics[0].partitions[0].error_code,
        TOPIC_AUTH,
    ),
    "create-partitions": Case(
        ApiKey.CREATE_PARTITIONS,
        [(RT.TOPIC, Op.ALTER)],
        lambda n: create_partitions.CreatePartitionsRequest(
            [create_partitions.CreatePartitionsTopic(n, 1, None)], 5000, validate_only=True
        ),
        lambda r: r.results[0].error_code,
        TOPIC_AUTH,
    ),
    "create-topics": Case(
        ApiKey.CREATE_TOPICS,
        [(RT.TOPIC, Op.CREATE)],
        lambda n: create_topics.CreateTopicsRequest(
            [create_topics.CreatableTopic(n, 1, 1)], 5000, validate_only=True
        ),
        lambda r: r.topics[0].error_code,
        TOPIC_AUTH,
    ),
    "delete-topics": Case(
        ApiKey.DELETE_TOPICS,
        [(RT.TOPIC, Op.DELETE)],
        lambda n: delete_topics.DeleteTopicsRequest(
            topics=[delete_topics.DeleteTopicState(name=n)], topic_names=[n], timeout_ms=5000
        ),
        lambda r: r.responses[0].error_code,
        TOPIC_AUTH,
    ),
    "describe-configs": Case(
        ApiKey.DESCRIBE_CONFIGS,
        [(RT.TOPIC, Op.DESCRIBE_CONFIGS)],
        lambda n: describe_configs.DescribeConfigsRequest(
            [describe_configs.DescribeConfigsResource(2, n, None)]
        ),
        lambda r: r.results[0].error_code,
        TOPIC_AUTH,
    ),
    "alter-configs": Case(
        ApiKey.INCREMENTAL_ALTER_CONFIGS,
        [(RT.TOPIC, Op.ALTER_CONFIGS)],
        lambda n: incremental_alter_configs.IncrementalAlterConfigsRequest(
            [
                incremental_alter_configs.AlterConfigsResource(
                    2, n, [incremental_alter_configs.AlterableConfig("retention.ms", 0, "86400000")]
                )
            ],
            validate_only=True,
        ),
        lambda r: r.responses[0].error_code,
        TOPIC_AUTH,
    ),
    "find-coordinator": Case(
        ApiKey.FIND_COORDINATOR,
        [(RT.GROUP, Op.DESCRIBE)],
        lambda n: find_coordinator.FindCoordinatorRequest(key=n, key_type=0, coordinator_keys=[n]),
        lambda r: r.coordinators[0].error_code if r.coordinators else r.error_code,
        GROUP_AUTH,
    ),
    "join-group": Case(
        ApiKey.JOIN_GROUP,
        [(RT.GROUP, Op.READ)],
        lambda n: join_group.JoinGroupRequest(
            n, 10000, 10000, "", None, "consumer", [join_group.JoinGroupRequestProtocol("range", b"")]
        ),
        lambda r: r.error_code,
        GROUP_AUTH,
    ),
    "offset-commit": Case(
        ApiKey.OFFSET_COMMIT,
        [(RT.GROUP, Op.READ)],
        lambda n: offset_commit.OffsetCommitRequest(
            group_id=n,
            topics=[
                offset_commit.OffsetCommitRequestTopic(
                    name=n, partitions=[offset_commit.OffsetCommitRequestPartition(0, 0)]
                )
            ],
        ),
        lambda r: r.topics[0].partitions[0].error_code,
        GROUP_AUTH,
    ),
    "offset-fetch": Case(
        ApiKey.OFFSET_FETCH,
        [(RT.GROUP, Op.DESCRIBE)],
        lambda n: offset_fetch.OffsetFetchRequest(
            group_id=n, topics=None, groups=[offset_fetch.OffsetFetchRequestGroup(group_id=n, topics=None)]
        ),
        lambda r: r.groups[0].error_code if r.groups else r.error_code,
        GROUP_AUTH,
    ),
    "describe-groups": Case(
        ApiKey.DESCRIBE_GROUPS,
        [(RT.GROUP, Op.DESCRIBE)],
        lambda n: describe_groups.DescribeGroupsRequest([n]),
        lambda r: r.groups[0].error_code,
        GROUP_AUTH,
    ),
    "delete-groups": Case(
        ApiKey.DELETE_GROUPS,
        [(RT.GROUP, Op.DELETE)],
        lambda n: delete_groups.DeleteGroupsRequest([n]),
        lambda r: r.results[0].error_code,
        GROUP_AUTH,
    ),
    "init-producer-id-transactional": Case(
        ApiKey.INIT_PRODUCER_ID,
        [(RT.TRANSACTIONAL_ID, Op.WRITE)],
        lambda n: init_producer_id.InitProducerIdRequest(n, 60000),
        lambda r: r.error_code,
        TXN_AUTH,
    ),
    "init-producer-id-idempotent": Case(
        ApiKey.INIT_PRODUCER_ID,
        [(RT.CLUSTER, Op.IDEMPOTENT_WRITE)],
        lambda n: init_producer_id.InitProducerIdRequest(None, 60000),
        lambda r: r.error_code,
        CLUSTER_AUTH,
    ),
    "add-offsets-to-txn": Case(
        ApiKey.ADD_OFFSETS_TO_TXN,
        [(RT.TRANSACTIONAL_ID, Op.WRITE), (RT.GROUP, Op.READ)],
        lambda n: add_offsets_to_txn.AddOffsetsToTxnRequest(n, 1, 0, n),
        lambda r: r.error_code,
        TXN_AUTH,
    ),
    "end-txn": Case(
        ApiKey.END_TXN,
        [(RT.TRANSACTIONAL_ID, Op.WRITE)],
        lambda n: end_txn.EndTxnRequest(n, 1, 0, True),
        lambda r: r.error_code,
        TXN_AUTH,
    ),
    "describe-log-dirs": Case(
        ApiKey.DESCRIBE_LOG_DIRS,
        [(RT.CLUSTER, Op.DESCRIBE)],
        lambda n: describe_log_dirs.DescribeLogDirsRequest(None),
        lambda r: r.error_code,
        CLUSTER_AUTH,
    ),
    "describe-acls": Case(
        ApiKey.DESCRIBE_ACLS,
        [(RT.CLUSTER, Op.DESCRIBE)],
        lambda n: describe_acls.DescribeAclsRequest(1, None, 1, None, None, 1, 1),
        lambda r: r.error_code,
        CLUSTER_AUTH,
    ),
    "create-acls": Case(
        ApiKey.CREATE_ACLS,
        [(RT.CLUSTER, Op.ALTER)],
        lambda n: create_acls.CreateAclsRequest([create_acls.AclCreation(2, n, 3, "User:carol", "*", 3, 3)]),
        lambda r: r.results[0].error_code,
        CLUSTER_AUTH,
    ),
    "describe-scram-credentials": Case(
        ApiKey.DESCRIBE_USER_SCRAM_CREDENTIALS,
        [(RT.CLUSTER, Op.DESCRIBE)],
        lambda n: describe_user_scram_credentials.DescribeUserScramCredentialsRequest(None),
        lambda r: r.error_code,
        CLUSTER_AUTH,
    ),
    "describe-client-quotas": Case(
        ApiKey.DESCRIBE_CLIENT_QUOTAS,
        [(RT.CLUSTER, Op.DESCRIBE_CONFIGS)],
        lambda n: describe_client_quotas.DescribeClientQuotasRequest([], False),
        lambda r: r.error_code,
        CLUSTER_AUTH,
    ),
    "alter-client-quotas": Case(
        ApiKey.ALTER_CLIENT_QUOTAS,
        [(RT.CLUSTER, Op.ALTER_CONFIGS)],
        lambda n: alter_client_quotas.AlterClientQuotasRequest(
            [
                alter_client_quotas.EntryData(
                    [alter_client_quotas.EntityData("user", n)],
                    [alter_client_quotas.OpData("producer_byte_rate", 1e6)],
                )
            ],
            validate_only=True,
        ),
        lambda r: r.entries[0].error_code,
        CLUSTER_AUTH,
    ),
}


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BrokerProcess, Pki]]:
    with secure_broker(tmp_path_factory.mktemp("matrix")) as (broker, pki):
        admin = AdminClient(admin_config(broker, pki))
        topics = [NewTopic(f"mx-{case}", 1, 1) for case in CASES]
        for future in admin.create_topics(topics).values():
            future.result(timeout=30)
        wire = connect(broker, "admin", "admin-secret")
        request = metadata.MetadataRequest(
            topics=[metadata.MetadataRequestTopic(name=f"mx-{c}") for c in CASES]
        )
        TOPIC_IDS.update({t.name: t.topic_id for t in wire.call(ApiKey.METADATA, request).topics})
        wire.close()
        yield broker, pki


def connect(broker: BrokerProcess, user: str, password: str) -> Connection:
    security = WireSecurity.from_properties(
        {
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "PLAIN",
            "sasl.username": user,
            "sasl.password": password,
        }
    )
    host, port = broker.bootstrap_for("SASL_PLAINTEXT").split(":")
    return Connection((host, int(port)), 10.0, security)


def grant(admin: Connection, case: str, acl: tuple[RT, Op]) -> None:
    resource_type, operation = acl
    name = "kafka-cluster" if resource_type == RT.CLUSTER else f"mx-{case}"
    request = create_acls.CreateAclsRequest(
        [create_acls.AclCreation(resource_type, name, 3, "User:alice", "*", operation, 3)]
    )
    [result] = admin.call(ApiKey.CREATE_ACLS, request).results
    assert result.error_code == 0, result.error_message


@pytest.mark.parametrize("case", list(CASES))
def test_denied_then_granted(matrix: tuple[BrokerProcess, Pki], case: str) -> None:
    broker, _ = matrix
    spec = CASES[case]
    name = f"mx-{case}"
    bob = connect(broker, "bob", "bob-secret")
    assert spec.error(bob.call(spec.api, spec.request(name))) == spec.denied
    admin = connect(broker, "admin", "admin-secret")
    alice = connect(broker, "alice", "alice-secret")
    try:
        for acl in spec.grant:
            grant(admin, case, acl)
        got = spec.error(alice.call(spec.api, spec.request(name)))
        assert got not in AUTH_ERRORS, ErrorCode(got).name
    finally:
        for acl in spec.grant:  # cluster-wide grants must not leak into the next cases
            if acl[0] == RT.CLUSTER:
                delete = __import__("odradek.protocol.messages.delete_acls", fromlist=["x"])
                admin.call(
                    ApiKey.DELETE_ACLS,
                    delete.DeleteAclsRequest(
                        [delete.DeleteAclsFilter(4, "kafka-cluster", 3, "User:alice", "*", acl[1], 3)]
                    ),
                )
        for conn in (bob, admin, alice):
            conn.close()
