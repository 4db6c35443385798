from __future__ import annotations

import uuid

import pytest

from odradek.metadata.config_types import ConfigResourceType
from odradek.metadata.records import (
    RECORD_TYPES,
    BrokerFenceRecord,
    ClusterIdRecord,
    ConfigRecord,
    ControllerRecord,
    FeatureLevelRecord,
    MetadataRecord,
    PartitionChangeRecord,
    PartitionRecord,
    ProducerIdsRecord,
    RecordDecodeError,
    RegisterBrokerRecord,
    RemoveTopicRecord,
    TopicRecord,
    UnregisterBrokerRecord,
    record_from_json,
    record_to_json,
)
from odradek.metadata.security_records import (
    AccessControlEntryRecord,
    ClientQuotaRecord,
    RemoveAccessControlEntryRecord,
    RemoveUserScramCredentialRecord,
    UserScramCredentialRecord,
)
from odradek.model.ids import BrokerId, Epoch
from odradek.model.leader_recovery import LeaderRecoveryState
from odradek.security.acl import AclOperation, AclPermissionType, PatternType, ResourceType

TOPIC_ID = uuid.UUID("6a8f1f0e-6a2c-4c36-9bd1-3d0f4bfa9b41")
B1, B2 = BrokerId(1), BrokerId(2)

EXAMPLES: list[MetadataRecord] = [
    ClusterIdRecord("MkU3OEVBNTcwNTJENDM2Qg"),
    ControllerRecord(B1, 3),
    RegisterBrokerRecord(B1, "localhost", 9092, "rack-a", False, 2),
    RegisterBrokerRecord(B2, "h", 1, None),
    BrokerFenceRecord(B2, True),
    UnregisterBrokerRecord(B2),
    TopicRecord("t", TOPIC_ID),
    PartitionRecord(TOPIC_ID, 0, (B1, B2), (B1,), B1, Epoch(4), 7, (B2,), ()),
    PartitionChangeRecord(TOPIC_ID, 0, isr=(B1, B2)),
    PartitionChangeRecord(TOPIC_ID, 0, leader=B2, replicas=(B2, B1), elr=(), last_known_elr=(B1,)),
    PartitionChangeRecord(
        TOPIC_ID, 0, leader=B2, isr=(B2,), leader_recovery_state=LeaderRecoveryState.RECOVERING
    ),
    RemoveTopicRecord(TOPIC_ID),
    ConfigRecord(ConfigResourceType.TOPIC, "t", "retention.ms", "1000"),
    ConfigRecord(ConfigResourceType.BROKER, "", "log.retention.ms", None),
    ProducerIdsRecord(B1, 2000),
    FeatureLevelRecord("eligible.leader.replicas.version", 0),
    AccessControlEntryRecord(
        TOPIC_ID,
        ResourceType.TOPIC,
        "t",
        PatternType.PREFIXED,
        "User:a",
        "*",
        AclOperation.READ,
        AclPermissionType.ALLOW,
    ),
    RemoveAccessControlEntryRecord(TOPIC_ID),
    UserScramCredentialRecord("alice", "SCRAM-SHA-256", "c2FsdA==", "a2V5", "a2V5", 4096),
    RemoveUserScramCredentialRecord("alice", "SCRAM-SHA-256"),
    ClientQuotaRecord(("client-id", "user"), (None, "alice"), "producer_byte_rate", 1024.0),
    ClientQuotaRecord(("ip",), ("10.0.0.1",), "connection_creation_rate", 0.0, remove=True),
]


def test_examples_cover_every_record_type() -> None:
    assert {type(r).__name__ for r in EXAMPLES} == set(RECORD_TYPES)


@pytest.mark.parametrize("record", EXAMPLES, ids=lambda r: type(r).__name__)
def test_json_round_trip(record: MetadataRecord) -> None:
    assert record_from_json(record_to_json(record)) == record


def test_json_shape() -> None:
    assert record_to_json(PartitionRecord(TOPIC_ID, 2, (B1, B2), (B1,), B1)) == {
        "type": "PartitionRecord",
        "topic_id": str(TOPIC_ID),
        "partition_id": 2,
        "replicas": [1, 2],
        "isr": [1],
        "leader": 1,
        "leader_epoch": 0,
        "partition_epoch": 0,
        "elr": [],
        "last_known_elr": [],
        "adding_replicas": [],
        "removing_replicas": [],
        "leader_recovery_state": 0,
    }
    assert record_to_json(ConfigRecord(ConfigResourceType.BROKER, "1", "a", "b"))["resource_type"] == 4


def test_decoded_types_are_the_declared_ones() -> None:
    record = record_from_json(
        {"type": "ConfigRecord", "resource_type": 2, "resource_name": "t", "name": "a", "value": None}
    )
    assert isinstance(record, ConfigRecord)
    assert record.resource_type is ConfigResourceType.TOPIC
    partition = record_from_json(record_to_json(EXAMPLES[7]))
    assert isinstance(partition, PartitionRecord)
    assert isinstance(partition.topic_id, uuid.UUID)
    assert isinstance(partition.replicas, tuple)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"type": "NoSuchRecord"}, "unknown metadata record type 'NoSuchRecord'"),
        ({"type": "TopicRecord", "name": "t"}, "TopicRecord lacks field topic_id"),
        (
            {"type": "TopicRecord", "name": "t", "topic_id": "nope"},
            "field topic_id: badly formed hexadecimal UUID string",
        ),
        ({"type": "UnregisterBrokerRecord", "broker_id": "1"}, "field broker_id should be an integer"),
        ({"type": "BrokerFenceRecord", "broker_id": 1, "fenced": 1}, "field fenced should be a boolean"),
        ({"type": "ClusterIdRecord", "cluster_id": 5}, "field cluster_id should be a string"),
        ({"type": "UnregisterBrokerRecord", "broker_id": True}, "field broker_id should be an integer"),
        (
            {"type": "ConfigRecord", "resource_type": 3, "resource_name": "", "name": "a", "value": None},
            "field resource_type: 3 is not a valid ConfigResourceType",
        ),
    ],
)
def test_bad_records_are_refused(data: dict[str, object], message: str) -> None:
    with pytest.raises(RecordDecodeError) as error:
        record_from_json(data)
    assert str(error.value) == message
