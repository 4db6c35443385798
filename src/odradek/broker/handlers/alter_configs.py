"""AlterConfigs (33), v0-v2, and IncrementalAlterConfigs (44), v0-v1: change topic and broker configs.

TOPIC and BROKER resources go through the controller (`metadata.controller.configs`): legacy
AlterConfigs replaces a resource's whole set of overrides, IncrementalAlterConfigs applies SET,
DELETE, APPEND and SUBTRACT per key. Each resource succeeds or fails alone: unknown topic configs
and bad values are INVALID_CONFIG with Kafka's message, an unknown topic
UNKNOWN_TOPIC_OR_PARTITION, an illegal topic name INVALID_TOPIC_EXCEPTION; a BROKER resource is this
broker's id or "" (the cluster-wide default) and may only change dynamic configs (INVALID_REQUEST
otherwise, as Kafka does); the broker's own check (`ports.broker_config_check`: a new listener
keystore must load and keep the certificate's subject) refuses a change with INVALID_REQUEST before
anything is written. After the records are durable every hosted partition re-resolves its
`LogConfig` (`Broker._apply_locked`), so retention, segment rolling, ``max.message.bytes``,
``message.timestamp.type`` and ``min.insync.replicas`` take effect on the next append or retention
pass. ``validate_only`` checks and writes nothing.

BROKER_LOGGER resources (IncrementalAlterConfigs only; legacy AlterConfigs rejects them with
INVALID_REQUEST, as Kafka does) set this process's log levels (`broker.log_levels`); like Kafka's,
those changes do not survive a restart.
"""

from __future__ import annotations

from collections import Counter

from odradek.broker.api import ApiSpec
from odradek.broker.authorization import config_resource_denied
from odradek.broker.context import RequestContext
from odradek.broker.log_levels import alter_broker_loggers
from odradek.metadata.config_types import ConfigResourceType
from odradek.metadata.controller.configs import (
    AlterableConfig,
    AlterConfigsResource,
    AlterConfigsResourceResult,
    IncrementalAlterConfigsResource,
    alter_configs,
    incremental_alter_configs,
)
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import alter_configs as legacy_msg
from odradek.protocol.messages import incremental_alter_configs as msg
from odradek.security.acl import AclOperation

DUPLICATE_RESOURCE = "Each resource must appear at most once."


async def handle_legacy(
    ctx: RequestContext, request: legacy_msg.AlterConfigsRequest
) -> legacy_msg.AlterConfigsResponse:
    static = ctx.ports.config.static
    denied = [
        legacy_msg.AlterConfigsResourceResponse(
            error, "Authorization failed.", r.resource_type, r.resource_name
        )
        for r in request.resources
        if (
            error := config_resource_denied(ctx, r.resource_type, r.resource_name, AclOperation.ALTER_CONFIGS)
        )
        is not None
    ]
    refused = {(d.resource_type, d.resource_name) for d in denied}
    resources = [
        AlterConfigsResource(r.resource_type, r.resource_name, tuple((c.name, c.value) for c in r.configs))
        for r in request.resources
        if (r.resource_type, r.resource_name) not in refused
    ]
    results = await ctx.ports.metadata.run_controller(
        lambda image: alter_configs(
            image,
            static,
            resources,
            validate_only=request.validate_only,
            broker_check=ctx.ports.broker_config_check,
        )
    )
    return legacy_msg.AlterConfigsResponse(
        responses=[
            legacy_msg.AlterConfigsResourceResponse(
                r.error_code, r.error_message, r.resource_type, r.resource_name
            )
            for r in results
        ]
        + denied
    )


async def handle_incremental(
    ctx: RequestContext, request: msg.IncrementalAlterConfigsRequest
) -> msg.IncrementalAlterConfigsResponse:
    ports = ctx.ports
    static = ports.config.static
    resources = [
        IncrementalAlterConfigsResource(
            r.resource_type,
            r.resource_name,
            tuple(AlterableConfig(c.name, c.config_operation, c.value) for c in r.configs),
        )
        for r in request.resources
    ]
    results: dict[int, AlterConfigsResourceResult] = {}
    allowed = []
    for resource in resources:
        error = config_resource_denied(
            ctx, resource.resource_type, resource.resource_name, AclOperation.ALTER_CONFIGS
        )
        if error is None:
            allowed.append(resource)
        else:
            results[id(resource)] = AlterConfigsResourceResult(
                resource.resource_type, resource.resource_name, ErrorCode(error), "Authorization failed."
            )
    loggers = [r for r in allowed if r.resource_type == ConfigResourceType.BROKER_LOGGER]
    metadata = [r for r in allowed if r.resource_type != ConfigResourceType.BROKER_LOGGER]
    seen = Counter((r.resource_type, r.resource_name) for r in loggers)
    for resource in loggers:
        if seen[(resource.resource_type, resource.resource_name)] > 1:
            results[id(resource)] = AlterConfigsResourceResult(
                resource.resource_type, resource.resource_name, ErrorCode.INVALID_REQUEST, DUPLICATE_RESOURCE
            )
        else:
            results[id(resource)] = alter_broker_loggers(
                static.node_id, resource.resource_name, resource.configs, validate_only=request.validate_only
            )
    if metadata:
        answers = await ports.metadata.run_controller(
            lambda image: incremental_alter_configs(
                image,
                static,
                metadata,
                validate_only=request.validate_only,
                broker_check=ports.broker_config_check,
            )
        )
        results.update((id(resource), answer) for resource, answer in zip(metadata, answers, strict=True))
    return msg.IncrementalAlterConfigsResponse(
        responses=[
            msg.AlterConfigsResourceResponse(r.error_code, r.error_message, r.resource_type, r.resource_name)
            for r in (results[id(resource)] for resource in resources)
        ]
    )


SPECS = [
    ApiSpec(
        ApiKey.ALTER_CONFIGS,
        0,
        2,
        legacy_msg.REQUEST,
        legacy_msg.RESPONSE,
        handle_legacy,
        notes="TOPIC and BROKER (id or cluster default), whole-set replace, validate_only",
    ),
    ApiSpec(
        ApiKey.INCREMENTAL_ALTER_CONFIGS,
        0,
        1,
        msg.REQUEST,
        msg.RESPONSE,
        handle_incremental,
        notes="SET/DELETE/APPEND/SUBTRACT on TOPIC and BROKER; BROKER_LOGGER sets Python log levels",
    ),
]
