"""v3 ACLs: ``/v3/clusters/{c}/acls`` (GET search, POST create, DELETE by filter) and ``acls:batch``.

Shapes are Confluent's: an ACL is ``{"kind": "KafkaAcl", "metadata": {"self": URL}, "cluster_id",
"resource_type", "resource_name", "pattern_type", "principal", "host", "operation",
"permission"}``, with Kafka's enum names (``TOPIC``, ``GROUP``, ``CLUSTER``, ``TRANSACTIONAL_ID``;
``LITERAL``, ``PREFIXED``; ``READ``...; ``ALLOW``, ``DENY``), ``self`` being the search URL that
finds exactly it. A search or delete takes the same names as query parameters, each optional
(``ANY`` by default; ``MATCH`` patterns as Kafka defines them), and lists its ACLs sorted by those
fields; a create answers 201 with that URL in ``Location``, a batch create 204; a delete answers
``{"data": [the deleted ACLs]}``. Values are case-insensitive. A value the create may not take
(``ANY``, ``MATCH``, an unknown name) is 400 with Confluent's message.

The calls run through the request's own admin client: with HTTP Basic authentication
(`rest.auth`) that is the user's, so managing ACLs needs the broker's ALTER/DESCRIBE on the
cluster, and a refusal is 403 (40301).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    ResourcePatternType,
    ResourceType,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from odradek.http import HttpError
from odradek.rest import content, errors
from odradek.rest.fields import array, obj, pointer, string
from odradek.rest.kafka.admin import REQUEST_TIMEOUT_S
from odradek.rest.responses import no_content, v3_json
from odradek.rest.v3.common import Ctx, ctx_of, kafka_call_error

FIELDS = ("resource_type", "resource_name", "pattern_type", "principal", "host", "operation", "permission")
# Confluent (Kafka) resource type names <-> confluent-kafka's enum (which calls CLUSTER "BROKER")
RESOURCE_TYPES = {
    "ANY": ResourceType.ANY,
    "TOPIC": ResourceType.TOPIC,
    "GROUP": ResourceType.GROUP,
    "CLUSTER": ResourceType.BROKER,
    "TRANSACTIONAL_ID": ResourceType.TRANSACTIONAL_ID,
}
RESOURCE_TYPE_NAMES = {v: k for k, v in RESOURCE_TYPES.items()}
PATTERN_TYPES = {p.name: p for p in ResourcePatternType if p is not ResourcePatternType.UNKNOWN}
OPERATIONS = {o.name: o for o in AclOperation if o is not AclOperation.UNKNOWN}
PERMISSIONS = {p.name: p for p in AclPermissionType if p is not AclPermissionType.UNKNOWN}


def _enum(kind: str, raw: str, table: Mapping[str, Any]) -> Any:
    value = table.get(raw.strip().upper())
    if value is None:
        if raw.strip().upper() == "DELEGATION_TOKEN":
            raise errors.bad_request("resource_type DELEGATION_TOKEN is not supported by this proxy.")
        raise errors.bad_request(f"{kind} must be one of {', '.join(table)}, got {raw!r}.")
    return value


def search_filter(params: Mapping[str, str]) -> AclBindingFilter:
    """An ACL filter from query parameters (every one optional, ANY or null when absent)."""
    any_value: Any = None  # confluent-kafka: None matches every name, principal or host
    return AclBindingFilter(
        _enum("resource_type", params.get("resource_type") or "ANY", RESOURCE_TYPES),
        params.get("resource_name") or any_value,
        _enum("pattern_type", params.get("pattern_type") or "ANY", PATTERN_TYPES),
        params.get("principal") or any_value,
        params.get("host") or any_value,
        _enum("operation", params.get("operation") or "ANY", OPERATIONS),
        _enum("permission", params.get("permission") or "ANY", PERMISSIONS),
    )


def binding_of(entry: Any, at: str) -> AclBinding:
    """An ACL to create from a JSON body; ANY/MATCH/UNKNOWN are refused as Confluent does."""
    body = obj(entry, at)
    values = {f: string(body.get(f), pointer(*(p for p in at.split("/") if p), f)) for f in FIELDS}
    resource_type = _enum("resource_type", values["resource_type"], RESOURCE_TYPES)
    if resource_type is ResourceType.ANY:
        raise errors.bad_request("resource_type cannot be ANY")
    pattern_type = _enum("pattern_type", values["pattern_type"], PATTERN_TYPES)
    if pattern_type in (ResourcePatternType.ANY, ResourcePatternType.MATCH):
        raise errors.bad_request(f"pattern_type cannot be {pattern_type.name}")
    operation = _enum("operation", values["operation"], OPERATIONS)
    if operation is AclOperation.ANY:
        raise errors.bad_request("operation cannot be ANY")
    permission = _enum("permission", values["permission"], PERMISSIONS)
    if permission is AclPermissionType.ANY:
        raise errors.bad_request("permission cannot be ANY")
    return AclBinding(
        resource_type,
        values["resource_name"],
        pattern_type,
        values["principal"],
        values["host"],
        operation,
        permission,
    )


def _names(binding: Any) -> dict[str, str]:
    """The Confluent names of an AclBinding or AclBindingFilter (whose enums confluent-kafka types
    loosely)."""
    return {
        "resource_type": RESOURCE_TYPE_NAMES.get(binding.restype, binding.restype.name),
        "resource_name": binding.name or "",
        "pattern_type": binding.resource_pattern_type.name,
        "principal": binding.principal or "",
        "host": binding.host or "",
        "operation": binding.operation.name,
        "permission": binding.permission_type.name,
    }


def acl_json(ctx: Ctx, binding: AclBinding) -> dict[str, Any]:
    names = _names(binding)
    return {
        "kind": "KafkaAcl",
        "metadata": {"self": ctx.url("acls") + "?" + urlencode(names)},
        "cluster_id": ctx.cluster_id,
        **names,
    }


def _sorted(ctx: Ctx, bindings: list[AclBinding]) -> list[dict[str, Any]]:
    data = [acl_json(ctx, b) for b in bindings]
    return sorted(data, key=lambda d: tuple(d[f] for f in FIELDS))


async def _call(future: Any) -> Any:
    try:
        return await asyncio.wrap_future(future)
    except KafkaException as exc:
        raise kafka_call_error(exc) from None


async def _may_describe_acls(ctx: Ctx) -> None:
    """403 unless the principal may DESCRIBE the cluster. librdkafka drops DescribeAcls' error code
    (a refusal arrives as an empty listing), so an empty answer is checked against the cluster's
    authorized operations, which DescribeCluster reports (a broker without an authorizer reports
    them all)."""
    described = await _call(
        ctx.proxy.admin.client.describe_cluster(
            include_authorized_operations=True, request_timeout=REQUEST_TIMEOUT_S
        )
    )
    allowed = described.authorized_operations or ()  # librdkafka: None when the set is empty
    if not {AclOperation.DESCRIBE, AclOperation.ALTER, AclOperation.ALL} & set(allowed):
        raise HttpError(
            errors.KAFKA_AUTHORIZATION, "CLUSTER_AUTHORIZATION_FAILED: Cluster authorization failed."
        )


async def search_acls(request: Request) -> Response:
    ctx = await ctx_of(request)
    acl_filter = search_filter(request.query_params)
    found = await _call(ctx.proxy.admin.client.describe_acls(acl_filter, request_timeout=REQUEST_TIMEOUT_S))
    if not found:
        await _may_describe_acls(ctx)
    self_url = ctx.url("acls") + "?" + urlencode(_names(acl_filter))
    return v3_json(
        {"kind": "KafkaAclList", "metadata": {"self": self_url, "next": None}, "data": _sorted(ctx, found)}
    )


async def _create(ctx: Ctx, bindings: list[AclBinding]) -> None:
    futures = ctx.proxy.admin.client.create_acls(bindings, request_timeout=REQUEST_TIMEOUT_S)
    for binding in bindings:
        await _call(futures[binding])


async def create_acl(request: Request) -> Response:
    content.require_json(request)
    ctx = await ctx_of(request)
    binding = binding_of(await content.read_json(request), "")
    await _create(ctx, [binding])
    location = acl_json(ctx, binding)["metadata"]["self"]
    return Response(status_code=201, headers={"location": location})


async def create_acls_batch(request: Request) -> Response:
    content.require_json(request)
    ctx = await ctx_of(request)
    body = obj(await content.read_json(request), "")
    if body.get("data") is None:
        raise errors.invalid_payload("Null input provided. Data is required.", "/data")
    entries = array(body["data"], "/data")
    bindings = [binding_of(entry, pointer("data", i)) for i, entry in enumerate(entries)]
    if bindings:
        await _create(ctx, bindings)
    return no_content()


async def delete_acls(request: Request) -> Response:
    ctx = await ctx_of(request)
    acl_filter = search_filter(request.query_params)
    futures = ctx.proxy.admin.client.delete_acls([acl_filter], request_timeout=REQUEST_TIMEOUT_S)
    deleted = await _call(futures[acl_filter])
    return v3_json({"data": _sorted(ctx, deleted)})


ROUTES = [
    Route("/v3/clusters/{cluster_id}/acls", search_acls, methods=["GET"]),
    Route("/v3/clusters/{cluster_id}/acls", create_acl, methods=["POST"]),
    Route("/v3/clusters/{cluster_id}/acls", delete_acls, methods=["DELETE"]),
    Route("/v3/clusters/{cluster_id}/acls:batch", create_acls_batch, methods=["POST"]),
]
