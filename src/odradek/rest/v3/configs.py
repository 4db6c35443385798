"""v3 configs of topics, brokers and the cluster-wide broker defaults, with ``:alter`` batches.

| path | resource |
|---|---|
| ``/topics/{t}/configs[/{name}]``, ``/topics/{t}/configs:alter`` | the topic's configs |
| ``/topics/-/configs`` | every topic's configs |
| ``/brokers/{b}/configs[/{name}]``, ``/brokers/{b}/configs:alter`` | one broker's configs |
| ``/brokers/-/configs`` | every broker's configs |
| ``/broker-configs[/{name}]`` | cluster-wide dynamic broker defaults (changed via kafka-python) |

``PUT …/{name}`` ``{"value": "…"}`` sets one config, ``DELETE …/{name}`` resets it to its default,
``POST …:alter`` ``{"data": [{"name", "value", "operation": "SET"|"DELETE"}], "validate_only"}``
changes several at once (IncrementalAlterConfigs: all or nothing).
"""

from __future__ import annotations

from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, ConfigSource, ResourceType
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from odradek.http import HttpError
from odradek.rest import content, errors
from odradek.rest.fields import array, boolean, obj, pointer, string
from odradek.rest.kafka.admin_extras import AdminCallError, alter_cluster_defaults
from odradek.rest.responses import no_content, v3_json
from odradek.rest.v3.common import Ctx, collection, ctx_of, kafka_call_error

CONFIG_NOT_FOUND = 40403
INVALID_CHANGES = ("INVALID_CONFIG", "INVALID_REQUEST", "POLICY_VIOLATION", "UNSUPPORTED_VERSION")


def source_name(entry: ConfigEntry) -> str:
    source = entry.source
    try:
        name = ConfigSource(source).name if isinstance(source, int) else getattr(source, "name", str(source))
    except ValueError:
        name = "UNKNOWN"
    return "UNKNOWN" if name in ("UNKNOWN_CONFIG", "UNKNOWN") else name


def config_json(ctx: Ctx, kind: str, url: str, crn: str, entry: ConfigEntry, **fields: Any) -> dict[str, Any]:
    return ctx.resource(
        kind,
        url,
        crn,
        **fields,
        name=entry.name,
        value=entry.value,
        is_default=bool(entry.is_default),
        is_read_only=bool(entry.is_read_only),
        is_sensitive=bool(entry.is_sensitive),
        source=source_name(entry),
        synonyms=[
            {"name": s.name, "value": s.value, "source": source_name(s)}
            for s in (entry.synonyms or {}).values()
        ],
    )


class Target:
    """One config-bearing resource as the routes address it."""

    def __init__(self, ctx: Ctx, kind: str, restype: ResourceType, name: str, parts: tuple[object, ...]):
        self.ctx, self.kind, self.restype, self.name, self.parts = ctx, kind, restype, name, parts

    @property
    def resource(self) -> ConfigResource:
        return ConfigResource(self.restype, self.name)

    def url(self, *more: object) -> str:
        return self.ctx.url(*self.parts, *more)

    def entry_json(self, entry: ConfigEntry) -> dict[str, Any]:
        if self.kind == "KafkaTopicConfig":
            extra: dict[str, Any] = {"topic_name": self.name}
            crn = self.ctx.crn(("topic", self.name), ("config", entry.name))
        elif self.kind == "KafkaBrokerConfig":
            extra = {"broker_id": int(self.name)}
            crn = self.ctx.crn(("broker", self.name), ("config", entry.name))
        else:
            extra = {"config_type": "BROKER"}
            crn = self.ctx.crn(("broker-config", entry.name))
        return config_json(self.ctx, self.kind, self.url(entry.name), crn, entry, **extra)


async def topic_target(request: Request) -> Target:
    ctx = await ctx_of(request)
    topic = request.path_params["topic_name"]
    if await ctx.proxy.admin.topic(topic) is None:
        raise errors.topic_not_found(topic)
    return Target(ctx, "KafkaTopicConfig", ResourceType.TOPIC, topic, ("topics", topic, "configs"))


async def broker_target(request: Request) -> Target:
    ctx = await ctx_of(request)
    broker = request.path_params["broker_id"]
    metadata = await ctx.proxy.admin.metadata()
    if broker not in metadata.brokers:
        raise HttpError(404, f"Broker {broker} cannot be found.")
    return Target(ctx, "KafkaBrokerConfig", ResourceType.BROKER, str(broker), ("brokers", broker, "configs"))


async def cluster_target(request: Request) -> Target:
    """Cluster-wide defaults are read through a live broker's config synonyms (librdkafka refuses
    the empty broker name Kafka uses for them) and changed through kafka-python (`_alter`)."""
    ctx = await ctx_of(request)
    metadata = await ctx.proxy.admin.metadata()
    broker = str(min(metadata.brokers)) if metadata.brokers else "0"
    return Target(ctx, "KafkaClusterConfig", ResourceType.BROKER, broker, ("broker-configs",))


async def describe(target: Target) -> dict[str, ConfigEntry]:
    try:
        entries = await target.ctx.proxy.admin.describe_configs(target.resource)
    except KafkaException as exc:
        raise kafka_call_error(exc) from None
    if target.kind != "KafkaClusterConfig":
        return entries
    defaults: dict[str, ConfigEntry] = {}
    for name, entry in entries.items():
        # Kafka lists the effective source among the synonyms too; some brokers only at the top
        for candidate in (entry, *(entry.synonyms or {}).values()):
            if source_name(candidate) == "DYNAMIC_DEFAULT_BROKER_CONFIG":
                defaults[name] = candidate
                break
    return defaults


async def _list(target: Target) -> Response:
    entries = await describe(target)
    data = [target.entry_json(entries[name]) for name in sorted(entries)]
    return v3_json(collection(target.kind + "List", target.url(), data))


async def _get(target: Target, name: str) -> Response:
    entry = (await describe(target)).get(name)
    if entry is None:
        raise HttpError(CONFIG_NOT_FOUND, f"Config {name} cannot be found for {target.kind} {target.name}.")
    return v3_json(target.entry_json(entry))


async def _alter(
    target: Target, changes: list[tuple[str, str | None, AlterConfigOpType]], validate: bool
) -> None:
    if target.kind == "KafkaClusterConfig":
        named = [(name, value, op.name) for name, value, op in changes]
        try:
            await alter_cluster_defaults(target.ctx.proxy.client_config(), named, validate)
        except AdminCallError as exc:
            if exc.name.endswith("_AUTHORIZATION_FAILED"):
                raise HttpError(errors.KAFKA_AUTHORIZATION, f"{exc.name}: {exc.message}") from None
            if exc.name in INVALID_CHANGES:
                raise HttpError(40002, f"{exc.name}: {exc.message}", status=400) from None
            raise HttpError(
                errors.KAFKA_ERROR, f"Kafka error: {exc}", fields={"kafka_error_code": exc.code}
            ) from None
        return
    try:
        await target.ctx.proxy.admin.alter_configs(target.resource, changes, validate)
    except KafkaException as exc:
        raise kafka_call_error(exc) from None


async def _put(request: Request, target: Target) -> Response:
    content.require_json(request)
    body = obj(await content.read_json(request), "")
    value = string(body.get("value"), "/value")
    await _alter(target, [(request.path_params["name"], value, AlterConfigOpType.SET)], False)
    return no_content()


async def _delete(request: Request, target: Target) -> Response:
    await _alter(target, [(request.path_params["name"], None, AlterConfigOpType.DELETE)], False)
    return no_content()


async def _batch(request: Request, target: Target) -> Response:
    content.require_json(request)
    body = obj(await content.read_json(request), "")
    changes: list[tuple[str, str | None, AlterConfigOpType]] = []
    for i, item in enumerate(array(body.get("data"), "/data")):
        at = pointer("data", i)
        entry = obj(item, at)
        name = string(entry.get("name"), at + "/name")
        op = str(entry.get("operation") or "SET").upper()
        if op not in ("SET", "DELETE"):
            raise errors.invalid_payload(f"operation must be SET or DELETE, got {op!r}.", at + "/operation")
        value = entry.get("value")
        if op == "SET":
            value = string(value, at + "/value")
        changes.append((name, value, AlterConfigOpType[op]))
    validate = boolean(body.get("validate_only", False), "/validate_only")
    await _alter(target, changes, validate)
    return no_content()


async def list_all_topic_configs(request: Request) -> Response:
    ctx = await ctx_of(request)
    metadata = await ctx.proxy.admin.metadata(fresh=True)
    data: list[Any] = []
    for topic in sorted(metadata.topics):
        target = Target(ctx, "KafkaTopicConfig", ResourceType.TOPIC, topic, ("topics", topic, "configs"))
        entries = await describe(target)
        data.extend(target.entry_json(entries[n]) for n in sorted(entries))
    return v3_json(collection("KafkaTopicConfigList", ctx.url("topics", "-", "configs"), data))


async def list_all_broker_configs(request: Request) -> Response:
    ctx = await ctx_of(request)
    metadata = await ctx.proxy.admin.metadata()
    data: list[Any] = []
    for broker in sorted(metadata.brokers):
        target = Target(
            ctx, "KafkaBrokerConfig", ResourceType.BROKER, str(broker), ("brokers", broker, "configs")
        )
        entries = await describe(target)
        data.extend(target.entry_json(entries[n]) for n in sorted(entries))
    return v3_json(collection("KafkaBrokerConfigList", ctx.url("brokers", "-", "configs"), data))


def _routes(prefix: str, targeter: Any) -> list[Route]:
    async def list_(request: Request) -> Response:
        return await _list(await targeter(request))

    async def get(request: Request) -> Response:
        return await _get(await targeter(request), request.path_params["name"])

    async def put(request: Request) -> Response:
        return await _put(request, await targeter(request))

    async def delete(request: Request) -> Response:
        return await _delete(request, await targeter(request))

    async def batch(request: Request) -> Response:
        return await _batch(request, await targeter(request))

    return [
        Route(prefix, list_, methods=["GET"]),
        Route(prefix + ":alter", batch, methods=["POST"]),
        Route(prefix + "/{name}", get, methods=["GET"]),
        Route(prefix + "/{name}", put, methods=["PUT"]),
        Route(prefix + "/{name}", delete, methods=["DELETE"]),
    ]


C = "/v3/clusters/{cluster_id}"
ROUTES = [
    Route(C + "/topics/-/configs", list_all_topic_configs, methods=["GET"]),
    Route(C + "/brokers/-/configs", list_all_broker_configs, methods=["GET"]),
    *_routes(C + "/topics/{topic_name}/configs", topic_target),
    *_routes(C + "/brokers/{broker_id:int}/configs", broker_target),
    *_routes(C + "/broker-configs", cluster_target),
]
