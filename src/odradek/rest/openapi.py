"""The OpenAPI 3.1 document of the proxy, served at ``GET /openapi.json``.

Written as data (`document()`), not generated from the handlers, so it is a contract the tests
hold the implementation to: every response the HTTP tests receive is validated against the
schema of its path, method and status (tests/integration/rest/openapi_check.py), and every route of
the app must appear here.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from odradek.rest import jsoncodec

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
BOOL: Schema = {"type": "boolean"}
ANY: Schema = {}
REL = ref("Relationship")


def obj(required: list[str], **props: Schema) -> Schema:
    return {"type": "object", "required": required, "properties": props}


def resource(*required: str, **props: Schema) -> Schema:
    return {
        "allOf": [
            ref("Resource"),
            obj(["cluster_id", *required], cluster_id=STR, **props),
        ]
    }


def collection(item: str) -> Schema:
    return {"allOf": [ref("ResourceCollection"), obj(["data"], data={"type": "array", "items": ref(item)})]}


V3_RECORD = obj(
    [
        "cluster_id",
        "topic_name",
        "partition_id",
        "offset",
        "timestamp",
        "timestamp_type",
        "headers",
        "key",
        "value",
    ],
    cluster_id=STR,
    topic_name=STR,
    partition_id=INT,
    offset=INT,
    timestamp=STR,
    timestamp_type={"enum": ["CREATE_TIME", "LOG_APPEND_TIME"]},
    leader_epoch=nullable(INT),
    headers={"type": "array", "items": ref("Header")},
    key=nullable(ref("RecordData")),
    value=nullable(ref("RecordData")),
)

ACL_FIELDS = (
    "resource_type",
    "resource_name",
    "pattern_type",
    "principal",
    "host",
    "operation",
    "permission",
)
SCHEMAS: dict[str, Schema] = {
    "Error": {
        "type": "object",
        "required": ["error_code", "message"],
        "properties": {"error_code": INT, "message": nullable(STR), "pointer": STR, "kafka_error_code": INT},
    },
    "Relationship": obj(["related"], related=STR),
    "Resource": obj(
        ["kind", "metadata"],
        kind=STR,
        metadata=obj(["self"], self=STR, resource_name=nullable(STR)),
    ),
    "ResourceCollection": obj(
        ["kind", "metadata"], kind=STR, metadata=obj(["self"], self=STR, next=nullable(STR))
    ),
    "Header": obj(["value"], name=STR, key=STR, value=nullable(STR)),
    "RecordData": obj(["type"], type=STR, data=ANY),
    # v2
    "V2Partition": obj(
        ["partition", "leader", "replicas"],
        partition=INT,
        leader=INT,
        replicas={
            "type": "array",
            "items": obj(["broker", "leader", "in_sync"], broker=INT, leader=BOOL, in_sync=BOOL),
        },
    ),
    "V2Topic": obj(
        ["name", "configs", "partitions"],
        name=STR,
        configs={"type": "object", "additionalProperties": nullable(STR)},
        partitions={"type": "array", "items": ref("V2Partition")},
    ),
    "V2ProduceRequest": obj(
        ["records"],
        records={
            "type": "array",
            "items": obj([], key=ANY, value=ANY, partition=INT, headers={"type": "array"}, timestamp=ANY),
        },
        key_schema=STR,
        key_schema_id=INT,
        value_schema=STR,
        value_schema_id=INT,
    ),
    "V2ProduceResponse": obj(
        ["offsets", "key_schema_id", "value_schema_id"],
        offsets={
            "type": "array",
            "items": obj(
                ["partition", "offset", "error_code", "error"],
                partition=nullable(INT),
                offset=nullable(INT),
                error_code=nullable(INT),
                error=nullable(STR),
            ),
        },
        key_schema_id=nullable(INT),
        value_schema_id=nullable(INT),
    ),
    "V2Record": obj(
        ["topic", "key", "value", "partition", "offset"],
        topic=STR,
        key=ANY,
        value=ANY,
        partition=INT,
        offset=INT,
        timestamp=INT,
        timestamp_type=STR,
        headers={"type": "array", "items": ref("Header")},
    ),
    "V2TopicPartitions": obj(
        ["partitions"],
        partitions={"type": "array", "items": obj(["topic", "partition"], topic=STR, partition=INT)},
    ),
    "V2Offsets": obj(
        ["offsets"],
        offsets={
            "type": "array",
            "items": obj(
                ["topic", "partition", "offset"], topic=STR, partition=INT, offset=INT, metadata=STR
            ),
        },
    ),
    # v3
    "AclEntry": obj(list(ACL_FIELDS), **dict.fromkeys(ACL_FIELDS, STR)),
    "AclBatch": obj(["data"], data={"type": "array", "items": ref("AclEntry")}),
    "AclData": resource(*ACL_FIELDS, **dict.fromkeys(ACL_FIELDS, STR)),
    "AclDataList": collection("AclData"),
    "AclDeleteResponse": obj(["data"], data={"type": "array", "items": ref("AclData")}),
    "ClusterData": resource(
        "brokers",
        "topics",
        "consumer_groups",
        controller=nullable(REL),
        brokers=REL,
        topics=REL,
        consumer_groups=REL,
        acls=REL,
        broker_configs=REL,
        partition_reassignments=REL,
    ),
    "BrokerData": resource(
        "broker_id",
        "configs",
        "partition_replicas",
        broker_id=INT,
        host=nullable(STR),
        port=nullable(INT),
        rack=nullable(STR),
        configs=REL,
        partition_replicas=REL,
    ),
    "ConfigData": resource(
        "name",
        "is_default",
        "is_read_only",
        "is_sensitive",
        "source",
        "synonyms",
        name=STR,
        value=nullable(STR),
        is_default=BOOL,
        is_read_only=BOOL,
        is_sensitive=BOOL,
        source=STR,
        synonyms={
            "type": "array",
            "items": obj(["name", "source"], name=STR, value=nullable(STR), source=STR),
        },
        topic_name=STR,
        broker_id=INT,
        config_type=STR,
    ),
    "TopicData": resource(
        "topic_name",
        "is_internal",
        "replication_factor",
        "partitions_count",
        "partitions",
        "configs",
        topic_name=STR,
        is_internal=BOOL,
        replication_factor=INT,
        partitions_count=INT,
        partitions=REL,
        configs=REL,
        partition_reassignments=REL,
        authorized_operations={"type": "array"},
    ),
    "PartitionData": resource(
        "topic_name",
        "partition_id",
        "replicas",
        topic_name=STR,
        partition_id=INT,
        leader=nullable(REL),
        replicas=REL,
        reassignment=REL,
    ),
    "PartitionOffsets": resource(
        "topic_name",
        "partition_id",
        "earliest_offset",
        "latest_offset",
        topic_name=STR,
        partition_id=INT,
        earliest_offset=INT,
        latest_offset=INT,
    ),
    "ReplicaData": resource(
        "topic_name",
        "partition_id",
        "broker_id",
        "is_leader",
        "is_in_sync",
        "broker",
        topic_name=STR,
        partition_id=INT,
        broker_id=INT,
        is_leader=BOOL,
        is_in_sync=BOOL,
        broker=REL,
    ),
    "ConsumerGroupData": resource(
        "consumer_group_id",
        "is_simple",
        "partition_assignor",
        "state",
        "consumers",
        consumer_group_id=STR,
        is_simple=BOOL,
        partition_assignor=STR,
        state=STR,
        type=STR,
        is_mixed_consumer_group=BOOL,
        coordinator=nullable(REL),
        consumers=REL,
        lag_summary=REL,
    ),
    "ConsumerData": resource(
        "consumer_group_id",
        "consumer_id",
        "client_id",
        "assignments",
        consumer_group_id=STR,
        consumer_id=STR,
        instance_id=nullable(STR),
        client_id=STR,
        assignments=REL,
    ),
    "ConsumerAssignmentData": resource(
        "consumer_group_id",
        "consumer_id",
        "topic_name",
        "partition_id",
        consumer_group_id=STR,
        consumer_id=STR,
        topic_name=STR,
        partition_id=INT,
        partition=REL,
        lag=REL,
    ),
    "ConsumerLagData": resource(
        "consumer_group_id",
        "topic_name",
        "partition_id",
        "current_offset",
        "log_end_offset",
        "lag",
        "consumer_id",
        "client_id",
        consumer_group_id=STR,
        topic_name=STR,
        partition_id=INT,
        current_offset=INT,
        log_end_offset=INT,
        lag=INT,
        consumer_id=STR,
        instance_id=nullable(STR),
        client_id=STR,
    ),
    "LagSummaryData": resource(
        "consumer_group_id",
        "max_lag",
        "total_lag",
        consumer_group_id=STR,
        max_lag=INT,
        total_lag=INT,
        max_lag_consumer_id=STR,
        max_lag_instance_id=nullable(STR),
        max_lag_client_id=STR,
        max_lag_topic_name=STR,
        max_lag_partition_id=INT,
        max_lag_consumer=nullable(REL),
        max_lag_partition=nullable(REL),
    ),
    "ProduceRecord": obj(
        [],
        partition_id=nullable(INT),
        headers={"type": "array", "items": ref("Header")},
        key=nullable(ref("RecordData")),
        value=nullable(ref("RecordData")),
        timestamp=ANY,
    ),
    "DeliveryReport": obj(
        ["error_code"],
        error_code=INT,
        message=STR,
        pointer=STR,
        kafka_error_code=INT,
        cluster_id=STR,
        topic_name=STR,
        partition_id=INT,
        offset=INT,
        timestamp=nullable(STR),
        key=nullable(obj(["type", "size"], type=nullable(STR), size=INT, schema_id=INT)),
        value=nullable(obj(["type", "size"], type=nullable(STR), size=INT, schema_id=INT)),
    ),
    "BatchResponse": obj(
        ["successes", "failures"],
        successes={"type": "array", "items": obj(["id"], id=STR)},
        failures={"type": "array", "items": obj(["id", "error_code"], id=STR, error_code=INT)},
    ),
    "V3Record": V3_RECORD,
    "RecordList": obj(
        ["kind", "metadata", "data"],
        kind={"const": "KafkaRecordList"},
        metadata=obj(["self"], self=STR, next=nullable(STR)),
        cursor=STR,
        next_offset=INT,
        data={"type": "array", "items": ref("V3Record")},
    ),
    "GroupConsumer": resource(
        "consumer_group_id",
        "consumer_id",
        "cursor",
        consumer_group_id=STR,
        consumer_id=STR,
        cursor=STR,
        records=REL,
    ),
}
for _kind in (
    "ClusterData",
    "BrokerData",
    "ConfigData",
    "TopicData",
    "PartitionData",
    "ReplicaData",
    "ConsumerGroupData",
    "ConsumerData",
    "ConsumerAssignmentData",
    "ConsumerLagData",
):
    SCHEMAS[_kind + "List"] = collection(_kind)

V2 = "application/vnd.kafka.v2+json"
JSON = "application/json"
ERRORS = {"4XX": "Error", "5XX": "Error"}


def op(
    summary: str,
    status: int | str,
    schema: str | Schema | None,
    media: str = JSON,
    body: str | None = None,
    body_media: str = JSON,
    streams: bool = False,
) -> Schema:
    responses: dict[str, Any] = {}
    if schema is None:
        responses[str(status)] = {"description": "done"}
    else:
        s = ref(schema) if isinstance(schema, str) else schema
        content: dict[str, Any] = {media: {"schema": s}}
        if streams:
            content["text/event-stream"] = {"schema": STR}
            content["application/x-ndjson"] = {"schema": STR}
        responses[str(status)] = {"description": summary, "content": content}
    for code, name in ERRORS.items():
        responses[code] = {"description": "error", "content": {media: {"schema": ref(name)}}}
    out: Schema = {"summary": summary, "responses": responses}
    if body is not None:
        out["requestBody"] = {"content": {body_media: {"schema": ref(body) if body in SCHEMAS else {}}}}
    return out


LIST_STR: Schema = {"type": "array", "items": STR}
V2_PRODUCE_MEDIA = "application/vnd.kafka.binary.v2+json"
C = "/v3/clusters/{cluster_id}"
G = C + "/consumer-groups/{consumer_group_id}"
T = C + "/topics/{topic_name}"
P = T + "/partitions/{partition_id}"
I = "/consumers/{group}/instances/{instance}"  # noqa: E741

PATHS: dict[str, dict[str, Schema]] = {
    "/openapi.json": {"get": op("This document", 200, {"type": "object"})},
    "/topics": {"get": op("Topic names", 200, LIST_STR, V2)},
    "/topics/{topic}": {
        "get": op("A topic with configs and partitions", 200, "V2Topic", V2),
        "post": op("Produce to a topic", 200, "V2ProduceResponse", V2, "V2ProduceRequest", V2_PRODUCE_MEDIA),
    },
    "/topics/{topic}/partitions": {
        "get": op("Partitions", 200, {"type": "array", "items": ref("V2Partition")}, V2)
    },
    "/topics/{topic}/partitions/{partition}": {
        "get": op("A partition", 200, "V2Partition", V2),
        "post": op(
            "Produce to a partition", 200, "V2ProduceResponse", V2, "V2ProduceRequest", V2_PRODUCE_MEDIA
        ),
    },
    "/topics/{topic}/partitions/{partition}/offsets": {
        "get": op(
            "Beginning and end offsets",
            200,
            obj(["beginning_offset", "end_offset"], beginning_offset=INT, end_offset=INT),
            V2,
        )
    },
    "/brokers": {"get": op("Broker ids", 200, obj(["brokers"], brokers={"type": "array", "items": INT}), V2)},
    "/consumers/{group}": {
        "post": op(
            "Create a consumer instance",
            200,
            obj(["instance_id", "base_uri"], instance_id=STR, base_uri=STR),
            V2,
            "object",
            V2,
        )
    },
    I: {"delete": op("Delete the instance", 204, None, V2)},
    I + "/subscription": {
        "post": op("Subscribe", 204, None, V2, "object", V2),
        "get": op("Subscription", 200, obj(["topics"], topics=LIST_STR), V2),
        "delete": op("Unsubscribe", 204, None, V2),
    },
    I + "/assignments": {
        "post": op("Assign partitions", 204, None, V2, "V2TopicPartitions", V2),
        "get": op("Assignment", 200, "V2TopicPartitions", V2),
    },
    I + "/positions": {"post": op("Seek", 204, None, V2, "V2Offsets", V2)},
    I + "/positions/beginning": {"post": op("Seek to beginning", 204, None, V2, "V2TopicPartitions", V2)},
    I + "/positions/end": {"post": op("Seek to end", 204, None, V2, "V2TopicPartitions", V2)},
    I + "/records": {
        "get": op(
            "Fetch records",
            200,
            {"type": "array", "items": ref("V2Record")},
            "application/vnd.kafka.binary.v2+json",
        )
    },
    I + "/offsets": {
        "post": op("Commit offsets", 204, None, V2, "V2Offsets", V2),
        "get": op("Committed offsets", 200, "V2Offsets", V2),
    },
    "/v3/clusters": {"get": op("Clusters", 200, "ClusterDataList")},
    C: {"get": op("The cluster", 200, "ClusterData")},
    C + "/brokers": {"get": op("Brokers", 200, "BrokerDataList")},
    C + "/brokers/{broker_id}": {"get": op("A broker", 200, "BrokerData")},
    C + "/brokers/{broker_id}/partition-replicas": {"get": op("A broker's replicas", 200, "ReplicaDataList")},
    C + "/brokers/-/configs": {"get": op("Every broker's configs", 200, "ConfigDataList")},
    C + "/topics/-/configs": {"get": op("Every topic's configs", 200, "ConfigDataList")},
    C + "/topics": {
        "get": op("Topics", 200, "TopicDataList"),
        "post": op("Create a topic", 201, "TopicData", JSON, "object"),
    },
    T: {
        "get": op("A topic", 200, "TopicData"),
        "patch": op("Raise the partition count", 200, "TopicData", JSON, "object"),
        "delete": op("Delete the topic", 204, None),
    },
    T + "/partitions": {"get": op("Partitions", 200, "PartitionDataList")},
    P: {"get": op("A partition", 200, "PartitionData")},
    P + "/offset": {"get": op("Earliest and latest offsets", 200, "PartitionOffsets")},
    P + "/replicas": {"get": op("Replicas", 200, "ReplicaDataList")},
    P + "/replicas/{broker_id}": {"get": op("A replica", 200, "ReplicaData")},
    P + "/records": {"get": op("Records from an offset", 200, "RecordList", streams=True)},
    T + "/records": {
        "post": op("Produce one record or a stream", 200, "DeliveryReport", JSON, "ProduceRecord")
    },
    T + "/records:batch": {"post": op("Produce a batch", 207, "BatchResponse", JSON, "object")},
    C + "/consumer-groups": {"get": op("Consumer groups", 200, "ConsumerGroupDataList")},
    G: {"get": op("A consumer group", 200, "ConsumerGroupData")},
    G + "/consumers": {
        "get": op("The group's consumers", 200, "ConsumerDataList"),
        "post": op("Create a group consumer (cursor)", 201, "GroupConsumer", JSON, "object"),
    },
    G + "/consumers/{consumer_id}": {
        "get": op("A consumer", 200, "ConsumerData"),
        "delete": op("Acknowledge a cursor and close its lease", 204, None),
    },
    G + "/consumers/{consumer_id}/assignments": {
        "get": op("Its assignments", 200, "ConsumerAssignmentDataList")
    },
    G + "/consumers/{consumer_id}/assignments/{topic_name}/partitions/{partition_id}": {
        "get": op("One assignment", 200, "ConsumerAssignmentData")
    },
    G + "/records": {"get": op("Records for a cursor", 200, "RecordList", streams=True)},
    G + "/lags": {"get": op("Lags", 200, "ConsumerLagDataList")},
    G + "/lags/{topic_name}/partitions/{partition_id}": {"get": op("One lag", 200, "ConsumerLagData")},
    G + "/lag-summary": {"get": op("Lag summary", 200, "LagSummaryData")},
    C + "/acls": {
        "get": op("ACLs matching the query's filter", 200, "AclDataList"),
        "post": op("Create an ACL", 201, None, JSON, "AclEntry"),
        "delete": op("Delete the ACLs matching the query's filter", 200, "AclDeleteResponse"),
    },
    C + "/acls:batch": {"post": op("Create ACLs", 204, None, JSON, "AclBatch")},
}
for _prefix in (T + "/configs", C + "/brokers/{broker_id}/configs", C + "/broker-configs"):
    PATHS[_prefix] = {"get": op("Configs", 200, "ConfigDataList")}
    PATHS[_prefix + ":alter"] = {"post": op("Alter configs", 204, None, JSON, "object")}
    PATHS[_prefix + "/{name}"] = {
        "get": op("A config", 200, "ConfigData"),
        "put": op("Set a config", 204, None, JSON, "object"),
        "delete": op("Reset a config", 204, None),
    }


INT_PARAMS = ("partition", "partition_id", "broker_id")


def path_parameters(path: str) -> list[Schema]:
    names = re.findall(r"{([a-z_]+)}", path)
    return [
        {"name": n, "in": "path", "required": True, "schema": INT if n in INT_PARAMS else STR} for n in names
    ]


def document() -> Schema:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "odradek REST proxy",
            "version": "1",
            "description": "Confluent REST Proxy v2 and v3 APIs, plus consume in v3.",
        },
        "paths": {path: {"parameters": path_parameters(path), **ops} for path, ops in PATHS.items()},
        "components": {"schemas": SCHEMAS},
    }


_BODY = jsoncodec.dumps(document())


async def openapi_json(_request: Request) -> Response:
    return Response(_BODY, media_type=JSON)


ROUTES: list[BaseRoute] = [Route("/openapi.json", openapi_json, methods=["GET"])]
