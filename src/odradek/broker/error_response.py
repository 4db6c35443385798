"""The answer to a request whose handler failed unexpectedly, in the API's own response shape.

Kafka answers such a request (`AbstractRequest.getErrorResponse`) instead of closing the connection:
the client sees UNKNOWN_SERVER_ERROR where it looks for errors and carries on. `error_response`
builds that answer from the request:

* the response's top-level ``error_code`` (and ``error_message``) when its version has one;
* for responses that report errors per item, the request's items mirrored into the response with
  their identifying fields copied and the error set on each: `MIRRORS` says, per API, which request
  arrays become which response arrays, which fields identify an item (``""``: the item itself, for
  arrays of names or indexes), where the error goes, and the defaults Kafka gives an errored item
  (offsets -1);
* a Produce with acks=0 gets no answer: as in Kafka, the connection is closed instead (`None`).

The table is data: a test builds an error response for every API at every version and encodes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.schema import MessageSchema, StructSchema, in_range

MESSAGE = "unexpected server error; see the broker log"


@dataclass(frozen=True, slots=True)
class Level:
    """One array level of a request mirrored into its error response."""

    request: str
    """The request's array at this level."""
    response: str
    """The response's array it becomes."""
    keys: dict[str, str] = field(default_factory=dict)
    """Response attribute -> request attribute copied into each item ("" = the request item itself)."""
    copies: tuple[Level, ...] = ()
    """Arrays inside each item copied along (identifying data, such as a quota's entity), without errors."""


@dataclass(frozen=True, slots=True)
class Mirror:
    """How to build an API's error response from its request: the levels down to the errored items."""

    levels: tuple[Level, ...]
    error: str = "error_code"
    defaults: dict[str, object] = field(default_factory=dict)
    """Set on each errored (innermost) item, when its version has the field."""


_TOPIC = {"name": "name"}
_RESOURCE = {"resource_type": "resource_type", "resource_name": "resource_name"}
_TOPICS = Level("topics", "topics", _TOPIC)
_PARTITIONS = Level("partitions", "partitions", {"partition_index": "partition_index"})
_INDEXES = Level("partition_indexes", "partitions", {"partition_index": ""})

MIRRORS: dict[ApiKey, tuple[Mirror, ...]] = {
    ApiKey.METADATA: (Mirror((Level("topics", "topics", {"name": "name", "topic_id": "topic_id"}),)),),
    ApiKey.PRODUCE: (
        Mirror(
            (
                Level("topic_data", "responses", {"name": "name", "topic_id": "topic_id"}),
                Level("partition_data", "partition_responses", {"index": "index"}),
            ),
            defaults={"base_offset": -1},
        ),
    ),
    ApiKey.FETCH: (
        Mirror(
            (
                Level("topics", "responses", {"topic": "topic", "topic_id": "topic_id"}),
                Level("partitions", "partitions", {"partition_index": "partition"}),
            ),
            defaults={"high_watermark": -1, "records": b""},
        ),
    ),
    ApiKey.LIST_OFFSETS: (
        Mirror(
            (_TOPICS, _PARTITIONS),
            defaults={"offset": -1, "timestamp": -1, "leader_epoch": -1},
        ),
    ),
    ApiKey.CREATE_TOPICS: (Mirror((Level("topics", "topics", _TOPIC),)),),
    ApiKey.DELETE_TOPICS: (
        Mirror((Level("topic_names", "responses", {"name": ""}),)),
        Mirror((Level("topics", "responses", {"name": "name", "topic_id": "topic_id"}),)),
    ),
    ApiKey.CREATE_PARTITIONS: (Mirror((Level("topics", "results", _TOPIC),)),),
    ApiKey.ELECT_LEADERS: (
        Mirror(
            (
                Level("topic_partitions", "replica_election_results", {"topic": "topic"}),
                Level("partitions", "partition_result", {"partition_id": ""}),
            )
        ),
    ),
    ApiKey.DELETE_RECORDS: (
        Mirror(
            (_TOPICS, _PARTITIONS),
            defaults={"low_watermark": -1},
        ),
    ),
    ApiKey.OFFSET_FOR_LEADER_EPOCH: (
        Mirror(
            (
                Level("topics", "topics", {"topic": "topic"}),
                Level("partitions", "partitions", {"partition": "partition"}),
            )
        ),
    ),
    ApiKey.DESCRIBE_CONFIGS: (Mirror((Level("resources", "results", _RESOURCE),)),),
    ApiKey.ALTER_CONFIGS: (Mirror((Level("resources", "responses", _RESOURCE),)),),
    ApiKey.INCREMENTAL_ALTER_CONFIGS: (Mirror((Level("resources", "responses", _RESOURCE),)),),
    ApiKey.DESCRIBE_TOPIC_PARTITIONS: (Mirror((Level("topics", "topics", _TOPIC),)),),
    ApiKey.FIND_COORDINATOR: (
        Mirror(
            (Level("coordinator_keys", "coordinators", {"key": ""}),),
            defaults={"node_id": -1, "port": -1},
        ),
    ),
    ApiKey.ADD_PARTITIONS_TO_TXN: (
        Mirror(
            (
                Level("v3_and_below_topics", "results_by_topic_v3_and_below", _TOPIC),
                Level("partitions", "results_by_partition", {"partition_index": ""}),
            ),
            error="partition_error_code",
        ),
    ),
    ApiKey.WRITE_TXN_MARKERS: (
        Mirror(
            (
                Level("markers", "markers", {"producer_id": "producer_id"}),
                _TOPICS,
                _INDEXES,
            )
        ),
    ),
    ApiKey.DESCRIBE_TRANSACTIONS: (
        Mirror((Level("transactional_ids", "transaction_states", {"transactional_id": ""}),)),
    ),
    ApiKey.DESCRIBE_PRODUCERS: (Mirror((_TOPICS, _INDEXES)),),
    ApiKey.TXN_OFFSET_COMMIT: (Mirror((_TOPICS, _PARTITIONS)),),
    ApiKey.OFFSET_COMMIT: (
        Mirror((Level("topics", "topics", {"name": "name", "topic_id": "topic_id"}), _PARTITIONS)),
    ),
    ApiKey.OFFSET_FETCH: (
        Mirror(
            (_TOPICS, _INDEXES),
            defaults={"committed_offset": -1},
        ),
        Mirror((Level("groups", "groups", {"group_id": "group_id"}),)),
    ),
    ApiKey.DESCRIBE_GROUPS: (Mirror((Level("groups", "groups", {"group_id": ""}),)),),
    ApiKey.DELETE_GROUPS: (Mirror((Level("groups_names", "results", {"group_id": ""}),)),),
    ApiKey.CONSUMER_GROUP_DESCRIBE: (Mirror((Level("group_ids", "groups", {"group_id": ""}),)),),
    ApiKey.CREATE_ACLS: (Mirror((Level("creations", "results"),)),),
    ApiKey.DELETE_ACLS: (Mirror((Level("filters", "filter_results"),)),),
    ApiKey.ALTER_USER_SCRAM_CREDENTIALS: (
        Mirror((Level("deletions", "results", {"user": "name"}),)),
        Mirror((Level("upsertions", "results", {"user": "name"}),)),
    ),
    ApiKey.ALTER_CLIENT_QUOTAS: (
        Mirror(
            (
                Level(
                    "entries",
                    "entries",
                    copies=(
                        Level(
                            "entity", "entity", {"entity_type": "entity_type", "entity_name": "entity_name"}
                        ),
                    ),
                ),
            )
        ),
    ),
}
"""API -> how its request's items become errored response items (APIs with only a top-level error
code need no entry)."""


def error_response(
    key: ApiKey,
    request_schema: MessageSchema,
    response_schema: MessageSchema,
    version: int,
    request: Any,
    error: ErrorCode,
    message: str = MESSAGE,
) -> Any | None:
    """The response telling the client `error` (and `message`, where the version has a field for
    it) for the whole request; None: close the connection."""
    if key == ApiKey.PRODUCE and getattr(request, "acks", None) == 0:
        return None
    root = response_schema.root
    response = root.cls()
    _set(root, response, version, "error_code", int(error))
    _set(root, response, version, "error_message", message)
    for mirror in MIRRORS.get(key, ()):
        items = _mirror(mirror, 0, request_schema.root, request, root, version, error, message)
        if items is not None:
            attr = mirror.levels[0].response
            setattr(response, attr, (getattr(response, attr, None) or []) + items)
    return response


def _mirror(
    mirror: Mirror,
    depth: int,
    request_struct: StructSchema,
    request: Any,
    response_struct: StructSchema,
    version: int,
    error: ErrorCode,
    message: str,
) -> list[Any] | None:
    level = mirror.levels[depth]
    request_field = _field(request_struct, level.request, version)
    response_field = _field(response_struct, level.response, version)
    if request_field is None or response_field is None or response_field.struct is None:
        return None
    items = getattr(request, level.request, None)
    if items is None:
        return []
    out = []
    struct = response_field.struct
    for item in items:
        answer = struct.cls()
        for attr, source in level.keys.items():
            _set(struct, answer, version, attr, item if source == "" else getattr(item, source, None))
        for copy in level.copies:
            _copy(copy, request_field.struct, item, struct, answer, version)
        if depth + 1 < len(mirror.levels):
            inner = request_field.struct
            nested = None
            if inner is not None:
                nested = _mirror(mirror, depth + 1, inner, item, struct, version, error, message)
            if nested is not None:
                setattr(answer, mirror.levels[depth + 1].response, nested)
        else:
            _set(struct, answer, version, mirror.error, int(error))
            _set(struct, answer, version, "error_message", message)
            for attr, value in mirror.defaults.items():
                _set(struct, answer, version, attr, value)
        out.append(answer)
    return out


def _copy(
    level: Level,
    request_struct: StructSchema | None,
    item: Any,
    struct: StructSchema,
    answer: Any,
    version: int,
) -> None:
    """Copy the request item's array `level.request` into the answer's `level.response`."""
    source = None if request_struct is None else _field(request_struct, level.request, version)
    target = _field(struct, level.response, version)
    if source is None or target is None or target.struct is None:
        return
    copied = []
    for entry in getattr(item, level.request, None) or []:
        out = target.struct.cls()
        for attr, name in level.keys.items():
            _set(target.struct, out, version, attr, entry if name == "" else getattr(entry, name, None))
        copied.append(out)
    setattr(answer, level.response, copied)


def _field(struct: StructSchema, attr: str, version: int) -> Any:
    for f in struct.fields:
        if f.attr == attr and in_range(f.versions, version):
            return f
    return None


def _set(struct: StructSchema, obj: Any, version: int, attr: str, value: object) -> None:
    found = _field(struct, attr, version)
    if found is not None and (value is not None or in_range(found.nullable, version)):
        setattr(obj, attr, value)
