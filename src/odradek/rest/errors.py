"""The REST proxy's error codes: Confluent REST Proxy's five-digit ``error_code`` values.

A failure is answered ``{"error_code": 40401, "message": "Topic not found."}`` with the HTTP status
given by the code's first three digits (`odradek.http.errors`). Clients key on the code, so these
numbers are part of the contract. A body that does not match its format also names the bad field
as a JSON pointer (RFC 6901): ``{"error_code": 42206, "message": "...", "pointer": "/records/0/value"}``.
Per-record produce failures are not HTTP errors: they are reported in the record's own entry with
the Kafka error (v2 ``error_code``/``error``, v3 ``error_code``/``message``).
"""

from __future__ import annotations

from confluent_kafka import KafkaError, KafkaException

from odradek.http import HttpError

BAD_REQUEST = 400
KAFKA_AUTHENTICATION = 40101
KAFKA_AUTHORIZATION = 40301
NOT_ACCEPTABLE = 406
UNSUPPORTED_MEDIA_TYPE = 415
TOPIC_NOT_FOUND = 40401
PARTITION_NOT_FOUND = 40402
CONSUMER_INSTANCE_NOT_FOUND = 40403
LEADER_NOT_AVAILABLE = 40404
CONSUMER_GROUP_NOT_FOUND = 40405
CONSUMER_FORMAT_MISMATCH = 40601
CONSUMER_ALREADY_SUBSCRIBED = 40901
CONSUMER_ALREADY_EXISTS = 40902
ILLEGAL_STATE = 40903
KEY_SCHEMA_MISSING = 42201
VALUE_SCHEMA_MISSING = 42202
JSON_CONVERSION = 42203
INVALID_CONSUMER_CONFIG = 42204
INVALID_SCHEMA = 42205
INVALID_PAYLOAD = 42206
SERIALIZATION = 42207
PRODUCE_BATCH = 42208
TOO_MANY_CONSUMERS = 42901
KAFKA_ERROR = 50002
KAFKA_RETRIABLE_ERROR = 50003
SCHEMA_REGISTRY_UNAVAILABLE = 50301


def bad_request(message: str) -> HttpError:
    return HttpError(BAD_REQUEST, message)


def invalid_payload(message: str, pointer: str = "") -> HttpError:
    """422 for a body that is not what its format says, naming the bad field."""
    at = f" at {pointer}" if pointer else ""
    return HttpError(INVALID_PAYLOAD, f"Payload error. {message}{at}", fields={"pointer": pointer})


def topic_not_found(topic: str) -> HttpError:
    return HttpError(TOPIC_NOT_FOUND, f"Topic not found: {topic}")


def partition_not_found(topic: str, partition: int) -> HttpError:
    return HttpError(PARTITION_NOT_FOUND, f"Partition not found: {topic}/{partition}")


def consumer_not_found(group: str, instance: str) -> HttpError:
    return HttpError(CONSUMER_INSTANCE_NOT_FOUND, f"Consumer instance not found: {group}/{instance}")


def kafka_error(error: KafkaError | KafkaException | BaseException) -> HttpError:
    """50002 (or 50003 when retriable), with the Kafka error's name and code in the message."""
    err = error.args[0] if isinstance(error, KafkaException) and error.args else error
    if isinstance(err, KafkaError) and err.name().endswith("_AUTHORIZATION_FAILED"):
        return HttpError(
            KAFKA_AUTHORIZATION,
            f"Kafka error: {err.name()} ({err.code()}): {err.str()}",
            fields={"kafka_error_code": err.code()},
        )
    if isinstance(err, KafkaError):
        code = KAFKA_RETRIABLE_ERROR if err.retriable() else KAFKA_ERROR
        return HttpError(
            code,
            f"Kafka error: {err.name()} ({err.code()}): {err.str()}",
            fields={"kafka_error_code": err.code()},
        )
    return HttpError(KAFKA_ERROR, f"Kafka error: {error}")
