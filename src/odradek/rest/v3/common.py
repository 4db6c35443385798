"""What every v3 resource shares: the cluster check, ``kind``/``metadata``/``related`` shapes.

A v3 resource is ``{"kind": "KafkaTopic", "metadata": {"self": URL, "resource_name": CRN}, ...}``
with relationships as ``{"related": URL}``; a collection is ``{"kind": "KafkaTopicList",
"metadata": {"self": URL, "next": null}, "data": [...]}``. Resource names follow Confluent's CRN
spelling: ``crn:///kafka=<cluster>/topic=<name>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaException
from starlette.requests import Request

from odradek.http import HttpError
from odradek.rest import errors
from odradek.rest.responses import base_url
from odradek.rest.service import RestProxy

CLUSTER_NOT_FOUND = 404


@dataclass(frozen=True, slots=True)
class Ctx:
    proxy: RestProxy
    cluster_id: str
    base: str  # .../v3/clusters/{cluster_id}

    def url(self, *parts: object) -> str:
        return "/".join([self.base, *(str(p) for p in parts)])

    def crn(self, *pairs: tuple[str, object]) -> str:
        return f"crn:///kafka={self.cluster_id}" + "".join(f"/{k}={v}" for k, v in pairs)

    def resource(self, kind: str, self_url: str, crn: str | None, **fields: Any) -> dict[str, Any]:
        return {
            "kind": kind,
            "metadata": {"self": self_url, "resource_name": crn},
            "cluster_id": self.cluster_id,
            **fields,
        }

    def related(self, *parts: object) -> dict[str, str]:
        return {"related": self.url(*parts)}


def collection(kind: str, self_url: str, data: list[Any]) -> dict[str, Any]:
    return {"kind": kind, "metadata": {"self": self_url, "next": None}, "data": data}


async def ctx_of(request: Request) -> Ctx:
    proxy: RestProxy = getattr(request.state, "proxy", None) or request.app.state.proxy
    cluster_id = await proxy.admin.cluster_id()
    wanted = request.path_params.get("cluster_id")
    if wanted is not None and wanted != cluster_id:
        raise HttpError(CLUSTER_NOT_FOUND, f"Cluster {wanted} cannot be found.")
    return Ctx(proxy, cluster_id, f"{base_url(request)}/v3/clusters/{cluster_id}")


def kafka_call_error(exc: KafkaException) -> HttpError:
    """Admin failures as Confluent's v3 answers them: 404/400 for the common Kafka errors, 403 for
    authorization failures."""
    err = exc.args[0] if exc.args else None
    name = err.name() if err is not None and hasattr(err, "name") else ""
    message = err.str() if err is not None and hasattr(err, "str") else str(exc)
    if name.endswith("_AUTHORIZATION_FAILED"):
        return HttpError(errors.KAFKA_AUTHORIZATION, f"{name}: {message}")
    if name in ("UNKNOWN_TOPIC_OR_PART", "_UNKNOWN_TOPIC", "UNKNOWN_TOPIC_ID"):
        return HttpError(errors.TOPIC_NOT_FOUND, f"This server does not host this topic-partition. {message}")
    if name in ("GROUP_ID_NOT_FOUND",):
        return HttpError(errors.CONSUMER_GROUP_NOT_FOUND, message)
    if name == "TOPIC_ALREADY_EXISTS":
        return HttpError(40002, message, status=400)
    if name in (
        "INVALID_PARTITIONS",
        "INVALID_REPLICATION_FACTOR",
        "INVALID_REPLICA_ASSIGNMENT",
        "INVALID_CONFIG",
        "INVALID_TOPIC_EXCEPTION",
        "TOPIC_EXCEPTION",
        "INVALID_REQUIRED_ACKS",
        "INVALID_REQUEST",
        "POLICY_VIOLATION",
        "TOPIC_DELETION_DISABLED",
        "UNSUPPORTED_VERSION",
    ):
        return HttpError(40002, f"{name}: {message}", status=400)
    if name in ("BROKER_NOT_AVAILABLE",):
        return HttpError(40401, message, status=404)
    return errors.kafka_error(exc)
