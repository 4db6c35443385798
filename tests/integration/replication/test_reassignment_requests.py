"""AlterPartitionReassignments / ListPartitionReassignments on one in-process broker, raw requests:
the authorizer's CLUSTER_AUTHORIZATION_FAILED, Kafka's per-partition errors, and a reorder (which
completes at once) seen by ListPartitionReassignments as nothing in progress."""

from __future__ import annotations

import pytest

from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import alter_partition_reassignments as alter
from odradek.protocol.messages import list_partition_reassignments as listing
from odradek.testing.in_process import InProcessBroker


def request(
    topic: str, partition: int, replicas: list[int] | None
) -> alter.AlterPartitionReassignmentsRequest:
    return alter.AlterPartitionReassignmentsRequest(
        topics=[alter.ReassignableTopic(topic, [alter.ReassignablePartition(partition, replicas)])]
    )


def codes(response: alter.AlterPartitionReassignmentsResponse) -> dict[tuple[str, int], int]:
    return {(t.name, p.partition_index): p.error_code for t in response.responses for p in t.partitions}


def test_an_authorizer_refuses_both_apis_without_cluster_rights(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    overrides = {"authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer"}
    with InProcessBroker(tmp_path_factory.mktemp("reassign-authz"), overrides) as b:
        b.create_topic("t", 1)
        conn = b.connect()
        response = conn.call(ApiKey.ALTER_PARTITION_REASSIGNMENTS, 1, request("t", 0, [1]))
        assert response.error_code == ErrorCode.CLUSTER_AUTHORIZATION_FAILED
        assert codes(response) == {("t", 0): ErrorCode.CLUSTER_AUTHORIZATION_FAILED}
        listed = conn.call(
            ApiKey.LIST_PARTITION_REASSIGNMENTS, 0, listing.ListPartitionReassignmentsRequest()
        )
        assert listed.error_code == ErrorCode.CLUSTER_AUTHORIZATION_FAILED


def test_kafkas_errors_per_partition(tmp_path_factory: pytest.TempPathFactory) -> None:
    with InProcessBroker(tmp_path_factory.mktemp("reassign-errors")) as b:
        b.create_topic("t", 1)
        conn = b.connect()
        call = lambda r: codes(conn.call(ApiKey.ALTER_PARTITION_REASSIGNMENTS, 0, r))  # noqa: E731
        assert call(request("t", 0, None)) == {("t", 0): ErrorCode.NO_REASSIGNMENT_IN_PROGRESS}
        assert call(request("t", 0, [1, 7])) == {("t", 0): ErrorCode.INVALID_REPLICATION_ASSIGNMENT}
        assert call(request("t", 0, [])) == {("t", 0): ErrorCode.INVALID_REPLICATION_ASSIGNMENT}
        assert call(request("t", 5, [1])) == {("t", 5): ErrorCode.UNKNOWN_TOPIC_OR_PARTITION}
        assert call(request("nope", 0, [1])) == {("nope", 0): ErrorCode.UNKNOWN_TOPIC_OR_PARTITION}
        assert call(request("t", 0, [1])) == {("t", 0): ErrorCode.NO_ERROR}  # already so: nothing to do
        strict = alter.AlterPartitionReassignmentsRequest(allow_replication_factor_change=False, topics=[])
        assert (
            conn.call(ApiKey.ALTER_PARTITION_REASSIGNMENTS, 1, strict).allow_replication_factor_change
            is False
        )
        listed = conn.call(
            ApiKey.LIST_PARTITION_REASSIGNMENTS, 0, listing.ListPartitionReassignmentsRequest()
        )
        assert (listed.error_code, listed.topics) == (ErrorCode.NO_ERROR, [])
