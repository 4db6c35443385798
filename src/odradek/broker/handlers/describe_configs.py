"""DescribeConfigs (32), v1-v4: effective configs of topics and brokers, with sources and synonyms.

`metadata.describe_configs` gives each resource's entries: TOPIC resources list every topic config
(an unknown topic is UNKNOWN_TOPIC_OR_PARTITION, an illegal name INVALID_TOPIC_EXCEPTION); BROKER
resources named by this broker's id list every broker config, the empty name (the cluster default)
only the dynamic defaults that are set, another id INVALID_REQUEST. ``configuration_keys`` null or
empty means every config. Synonyms (v1+, with ``include_synonyms``) list every level a value could
come from, most specific first; ``include_documentation`` (v3+) adds each config's doc string.
Sensitive values are null. BROKER_LOGGER resources are answered by `broker.log_levels`; other
resource types (GROUP, CLIENT_METRICS) get INVALID_REQUEST.
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.authorization import config_resource_denied
from odradek.broker.context import RequestContext
from odradek.broker.log_levels import describe_broker_loggers
from odradek.metadata.config_types import ConfigResourceType
from odradek.metadata.describe_configs import ConfigEntry, DescribeConfigsResult, describe_configs
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import describe_configs as msg
from odradek.security.acl import AclOperation


def handle(ctx: RequestContext, request: msg.DescribeConfigsRequest) -> msg.DescribeConfigsResponse:
    ports = ctx.ports
    image = ports.metadata.image
    static = ports.config.static
    response = msg.DescribeConfigsResponse()
    for resource in request.resources:
        keys = resource.configuration_keys
        denied = config_resource_denied(
            ctx, resource.resource_type, resource.resource_name, AclOperation.DESCRIBE_CONFIGS
        )
        if denied is not None:
            response.results.append(
                msg.DescribeConfigsResult(
                    error_code=denied,
                    error_message="Authorization failed.",
                    resource_type=resource.resource_type,
                    resource_name=resource.resource_name,
                )
            )
            continue
        if resource.resource_type == ConfigResourceType.BROKER_LOGGER:
            result = describe_broker_loggers(static.node_id, resource.resource_name, keys)
        else:
            result = describe_configs(
                image,
                static,
                resource.resource_type,
                resource.resource_name,
                keys,
                include_synonyms=request.include_synonyms,
                include_documentation=request.include_documentation,
            )
        response.results.append(_result(result))
    return response


def _result(result: DescribeConfigsResult) -> msg.DescribeConfigsResult:
    return msg.DescribeConfigsResult(
        error_code=result.error_code,
        error_message=result.error_message,
        resource_type=result.resource_type,
        resource_name=result.resource_name,
        configs=[_entry(e) for e in result.configs],
    )


def _entry(entry: ConfigEntry) -> msg.DescribeConfigsResourceResult:
    return msg.DescribeConfigsResourceResult(
        name=entry.name,
        value=entry.value,
        read_only=entry.read_only,
        config_source=entry.source,
        is_default=entry.is_default,
        is_sensitive=entry.is_sensitive,
        synonyms=[msg.DescribeConfigsSynonym(s.name, s.value, s.source) for s in entry.synonyms],
        config_type=entry.config_type,
        documentation=entry.documentation,
    )


SPEC = ApiSpec(
    ApiKey.DESCRIBE_CONFIGS,
    1,
    4,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="TOPIC, BROKER (id or cluster default) and BROKER_LOGGER; synonyms, sources, types, docs",
)
