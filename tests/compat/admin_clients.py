"""Helpers shared by the admin-API client tests: error codes out of each client's results."""

from __future__ import annotations

import warnings
from concurrent.futures import Future
from typing import Any

from confluent_kafka import KafkaException

from odradek.model.errors import ErrorCode

# kafka-python 3.0 loads its message schemas with importlib.resources.read_text, deprecated since
# Python 3.11; the tests run with warnings as errors.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import kafka
    import kafka.admin
    import kafka.errors
    import kafka.protocol.admin
    import kafka.protocol.consumer

KafkaAdminClient = kafka.admin.KafkaAdminClient
KpConfigResource = kafka.admin.ConfigResource
ConfigResourceType = kafka.admin.ConfigResourceType
DeleteRecordsRequest = kafka.protocol.admin.DeleteRecordsRequest
DescribeConfigsRequest = kafka.protocol.admin.DescribeConfigsRequest
IncrementalAlterConfigsRequest = kafka.protocol.admin.IncrementalAlterConfigsRequest
FetchRequest = kafka.protocol.consumer.FetchRequest
OffsetForLeaderEpochRequest = kafka.protocol.consumer.OffsetForLeaderEpochRequest
kafka_errors = kafka.errors


def error_of(future: Future[Any]) -> ErrorCode:
    """The broker error a confluent-kafka admin future failed with (NO_ERROR if it succeeded)."""
    try:
        future.result(timeout=30)
    except KafkaException as exc:
        return ErrorCode(exc.args[0].code())
    return ErrorCode.NO_ERROR


def message_of(future: Future[Any]) -> str:
    try:
        future.result(timeout=30)
    except KafkaException as exc:
        return str(exc.args[0].str())
    return ""


def errors_of(futures: dict[Any, Future[Any]]) -> dict[Any, ErrorCode]:
    return {key: error_of(f) for key, f in futures.items()}
