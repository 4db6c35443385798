"""The framework's connector configs (Kafka's `ConnectorConfig`, `SourceConnectorConfig`,
`SinkConnectorConfig`, plus odradek's restart policy), and the validation the REST API runs.

`validate_connector(props, plugins)` merges the framework keys, the connector's own
`config_def()`, and the definitions of each configured transform and predicate (under
`transforms.<alias>.` / `predicates.<alias>.`), and returns Connect's validate response body:

    {"name": <class>, "error_count": n, "groups": [...],
     "configs": [{"definition": {...}, "value": {"name", "value", "recommended_values", "errors", "visible"}}]}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from odradek.connect.api.config_def import (
    NO_DEFAULT,
    ConfigDef,
    ConfigKey,
    ConfigType,
    ConfigValue,
    Importance,
    Password,
    Width,
    at_least,
    non_empty_string,
    valid_string,
)
from odradek.connect.api.connector import Connector, SinkConnector, SourceConnector
from odradek.connect.api.errors import ConfigException, ConnectException
from odradek.connect.runtime.plugins import Plugins, class_name

COMMON = "Common"
TRANSFORMS = "Transforms"
PREDICATES = "Predicates"
ERRORS = "Error Handling"
EXACTLY_ONCE = "Exactly Once Support"
RESTARTS = "Automatic Restarts"
_LEGAL_NAME = re.compile(r"^[^\x00-\x1f\x7f]*$")


def _name_validator(name: str, value: Any) -> None:
    if value is None or not str(value).strip():
        raise ConfigException(name, value, "Connector name cannot be empty")
    if not _LEGAL_NAME.match(str(value)) or "/" in str(value):
        raise ConfigException(name, value, "Connector name contains illegal characters")


def _common(definition: ConfigDef) -> ConfigDef:
    order = iter(range(1, 100))
    for key, type_, default, validator, importance, doc, display in (
        (
            "name",
            ConfigType.STRING,
            NO_DEFAULT,
            _name_validator,
            Importance.HIGH,
            "Globally unique name to use for this connector.",
            "Connector name",
        ),
        (
            "connector.class",
            ConfigType.STRING,
            NO_DEFAULT,
            non_empty_string,
            Importance.HIGH,
            "Name or alias of the class for this connector (a Python class or a Kafka Java class name).",
            "Connector class",
        ),
        (
            "tasks.max",
            ConfigType.INT,
            1,
            at_least(1),
            Importance.HIGH,
            "Maximum number of tasks to use for this connector.",
            "Tasks max",
        ),
        (
            "tasks.max.enforce",
            ConfigType.BOOLEAN,
            True,
            None,
            Importance.LOW,
            "Fail the connector when it generates more tasks than tasks.max.",
            "Enforce tasks max",
        ),
        (
            "key.converter",
            ConfigType.CLASS,
            None,
            None,
            Importance.LOW,
            "Converter class used to convert between Kafka Connect format and the serialized form that is written "
            "to Kafka. Overrides the worker's.",
            "Key converter class",
        ),
        (
            "value.converter",
            ConfigType.CLASS,
            None,
            None,
            Importance.LOW,
            "Converter class for record values. Overrides the worker's.",
            "Value converter class",
        ),
        (
            "header.converter",
            ConfigType.CLASS,
            None,
            None,
            Importance.LOW,
            "HeaderConverter class for record headers. Overrides the worker's.",
            "Header converter class",
        ),
        (
            "config.action.reload",
            ConfigType.STRING,
            "restart",
            valid_string("none", "restart", case_insensitive=True),
            Importance.LOW,
            "What to do when a config provider's value changes.",
            "Reload Action",
        ),
    ):
        definition.add(
            ConfigKey(
                key,
                type_,
                default,
                validator,
                importance,
                doc,
                COMMON,
                next(order),
                Width.LONG if key != "tasks.max" else Width.SHORT,
                display,
            )
        )
    definition.add(
        ConfigKey(
            "transforms",
            ConfigType.LIST,
            [],
            None,
            Importance.LOW,
            "Aliases for the transformations to be applied to records.",
            TRANSFORMS,
            1,
            Width.LONG,
            "Transforms",
        )
    )
    definition.add(
        ConfigKey(
            "predicates",
            ConfigType.LIST,
            [],
            None,
            Importance.LOW,
            "Aliases for the predicates used by transformations.",
            PREDICATES,
            1,
            Width.LONG,
            "Predicates",
        )
    )
    errors_order = iter(range(1, 100))
    for key, type_, default, validator, doc in (
        (
            "errors.retry.timeout",
            ConfigType.LONG,
            0,
            None,
            "The maximum duration in milliseconds that a failed operation will be reattempted. The default is 0, "
            "which means no retries will be attempted. Use -1 for infinite retries.",
        ),
        (
            "errors.retry.delay.max.ms",
            ConfigType.LONG,
            60000,
            at_least(1),
            "The maximum duration in milliseconds between consecutive retry attempts.",
        ),
        (
            "errors.tolerance",
            ConfigType.STRING,
            "none",
            valid_string("none", "all", case_insensitive=True),
            "Behavior for tolerating errors during connector operation. 'none' is the default value and signals "
            "that any error will result in an immediate connector task failure; 'all' changes the behavior to skip "
            "over problematic records.",
        ),
        (
            "errors.log.enable",
            ConfigType.BOOLEAN,
            False,
            None,
            "If true, write each error and the details of the failed operation and problematic record to the log.",
        ),
        (
            "errors.log.include.messages",
            ConfigType.BOOLEAN,
            False,
            None,
            "Whether to include in the log the record that resulted in a failure.",
        ),
        (
            "errors.deadletterqueue.topic.name",
            ConfigType.STRING,
            "",
            None,
            "The name of the topic to be used as the dead letter queue (DLQ) for records that fail in this "
            "connector (sinks and, in odradek, sources too).",
        ),
        (
            "errors.deadletterqueue.topic.replication.factor",
            ConfigType.SHORT,
            3,
            None,
            "Replication factor used to create the dead letter queue topic when it doesn't already exist (-1: broker default).",
        ),
        (
            "errors.deadletterqueue.context.headers.enable",
            ConfigType.BOOLEAN,
            False,
            None,
            "If true, add headers containing error context to the messages written to the dead letter queue.",
        ),
    ):
        definition.add(
            ConfigKey(
                key,
                type_,
                default,
                validator,
                Importance.MEDIUM,
                doc,
                ERRORS,
                next(errors_order),
                Width.MEDIUM,
                key,
            )
        )
    for i, (key, default, doc) in enumerate(
        (
            (
                "odradek.restart.max.attempts",
                10,
                "Automatic restarts of a failed connector or task before it stays FAILED (0 disables them).",
            ),
            ("odradek.restart.backoff.initial.ms", 1000, "The first automatic restart's delay."),
            (
                "odradek.restart.backoff.max.ms",
                60000,
                "The longest delay between automatic restarts (delays double from the initial one, with jitter).",
            ),
            (
                "odradek.task.hung.timeout.ms",
                300000,
                "A task whose poll(), put(), flush() or commit() runs longer than this is failed as hung and restarted.",
            ),
        ),
        start=1,
    ):
        definition.add(
            ConfigKey(
                key,
                ConfigType.LONG if key.endswith("ms") else ConfigType.INT,
                default,
                at_least(0),
                Importance.LOW,
                doc,
                RESTARTS,
                i,
                Width.SHORT,
                key,
            )
        )
    return definition


def source_config_def() -> ConfigDef:
    definition = _common(ConfigDef())
    for i, (key, type_, default, validator, doc) in enumerate(
        (
            (
                "exactly.once.support",
                ConfigType.STRING,
                "requested",
                valid_string("requested", "required", case_insensitive=True),
                "Permitted values are requested, required. If set to required, the connector must report exactly-once support.",
            ),
            (
                "transaction.boundary",
                ConfigType.STRING,
                "poll",
                valid_string("poll", "interval", "connector", case_insensitive=True),
                "Permitted values are poll, interval, connector: where transactions of an exactly-once source begin and end.",
            ),
            (
                "transaction.boundary.interval.ms",
                ConfigType.LONG,
                None,
                at_least(0),
                "If 'transaction.boundary' is set to 'interval', the transaction commit interval (default: offset.flush.interval.ms).",
            ),
            (
                "offsets.storage.topic",
                ConfigType.STRING,
                None,
                None,
                "The name of a separate offsets topic for this source connector (distributed workers; created compacted when missing). Offsets are read there first, then in the worker's topic, and copied to the worker's.",
            ),
        ),
        start=1,
    ):
        definition.add(
            ConfigKey(
                key, type_, default, validator, Importance.MEDIUM, doc, EXACTLY_ONCE, i, Width.SHORT, key
            )
        )
    return definition


def sink_config_def() -> ConfigDef:
    definition = _common(ConfigDef())
    definition.add(
        ConfigKey(
            "topics",
            ConfigType.LIST,
            [],
            None,
            Importance.HIGH,
            "List of topics to consume, separated by commas",
            COMMON,
            4,
            Width.LONG,
            "Topics",
        )
    )
    definition.add(
        ConfigKey(
            "topics.regex",
            ConfigType.STRING,
            "",
            None,
            Importance.HIGH,
            "Regular expression giving topics to consume.",
            COMMON,
            4,
            Width.LONG,
            "Topics regex",
        )
    )
    return definition


def framework_config_def(connector_cls: type[Connector]) -> ConfigDef:
    if issubclass(connector_cls, SinkConnector):
        return sink_config_def()
    if issubclass(connector_cls, SourceConnector):
        return source_config_def()
    raise ConnectException(f"{class_name(connector_cls)} is neither a source nor a sink connector")


def _plugin_defs(
    props: Mapping[str, str], plugins: Plugins, results: dict[str, ConfigValue], keys: dict[str, ConfigKey]
) -> None:
    from odradek.connect.api.config_def import parse_type

    for kind, group in (("transforms", TRANSFORMS), ("predicates", PREDICATES)):
        try:
            aliases = [a for a in parse_type(kind, props.get(kind, ""), ConfigType.LIST) if a]
        except ConfigException:
            continue
        for alias in aliases:
            type_key = f"{kind}.{alias}.type"
            keys[type_key] = ConfigKey(
                type_key,
                ConfigType.CLASS,
                NO_DEFAULT,
                None,
                Importance.HIGH,
                f"Class for the '{alias}' {kind[:-1]}.",
                f"{group}: {alias}",
                0,
                Width.LONG,
                f"{kind[:-1].title()} type for {alias}",
            )
            result = ConfigValue(type_key, props.get(type_key))
            results[type_key] = result
            if not props.get(type_key):
                result.errors.append(
                    f'Missing required configuration "{type_key}" which has no default value.'
                )
                continue
            try:
                resolve = plugins.transformation_class if kind == "transforms" else plugins.predicate_class
                cls = resolve(props[type_key])
            except ConnectException as exc:
                result.errors.append(str(exc))
                continue
            prefix = f"{kind}.{alias}."
            sub = {k[len(prefix) :]: v for k, v in props.items() if k.startswith(prefix)}
            for name, key in cls.config_def().keys.items():
                full = prefix + name
                keys[full] = ConfigKey(
                    full,
                    key.type,
                    key.default,
                    key.validator,
                    key.importance,
                    key.documentation,
                    f"{group}: {alias}",
                    key.order_in_group,
                    key.width,
                    full,
                )
            for name, value in cls.config_def().validate(sub).items():
                value.name = prefix + name
                results[prefix + name] = value
            try:
                cls().configure({k: v for k, v in sub.items() if k not in ("type", "predicate", "negate")})
            except (ConfigException, ConnectException) as exc:
                bad_key = getattr(exc, "name", None)
                target = results.get(prefix + bad_key) if isinstance(bad_key, str) else None
                (target or result).errors.append(str(exc))
            except Exception as exc:  # a transform's own validation bug: report, don't crash the worker
                result.errors.append(f"{type(exc).__name__}: {exc}")


def validate_connector(props: Mapping[str, str], plugins: Plugins) -> dict[str, Any]:
    """Connect's `ConfigInfos` for these properties; a missing or unknown `connector.class` is an
    error on that key (the common keys are still checked)."""
    cls_name = props.get("connector.class") or ""
    try:
        connector_cls = plugins.connector_class(cls_name)
    except ConnectException as exc:
        return _class_not_found(
            props, cls_name, str(exc) if cls_name else "Connector config must include connector.class"
        )
    framework = framework_config_def(connector_cls)
    keys: dict[str, ConfigKey] = dict(framework.keys)
    results = framework.validate(props)
    if issubclass(connector_cls, SinkConnector):
        topics = [t for t in (props.get("topics") or "").split(",") if t.strip()]
        regex = props.get("topics.regex") or ""
        if topics and regex:
            results["topics"].errors.append("Must configure one of topics or topics.regex, not both")
            results["topics.regex"].errors.append("Must configure one of topics or topics.regex, not both")
        elif not topics and not regex:
            results["topics"].errors.append("Must configure one of topics or topics.regex")
            results["topics.regex"].errors.append("Must configure one of topics or topics.regex")
        dlq = props.get("errors.deadletterqueue.topic.name") or ""
        if dlq and dlq in topics:
            results["errors.deadletterqueue.topic.name"].errors.append(
                f"The DLQ topic '{dlq}' may not be included in the list of topics ('topics={props.get('topics')}') "
                "to be consumed."
            )
    if issubclass(connector_cls, SourceConnector):
        from odradek.connect.runtime.topic_creation import parse_groups

        for bad, errors in parse_groups(props)[1].items():
            results.setdefault(bad, ConfigValue(bad, props.get(bad))).errors.extend(errors)
    _plugin_defs(props, plugins, results, keys)
    connector = connector_cls()
    own = connector_cls.config_def()
    for name, key in own.keys.items():
        keys.setdefault(name, key)
    try:
        for name, value in connector.validate(props).items():
            if name in results and name not in own.keys:
                continue
            results[name] = value
    except Exception as exc:
        results.setdefault("connector.class", ConfigValue("connector.class", cls_name)).errors.append(
            f"{type(exc).__name__}: {exc}"
        )
    groups: list[str] = []
    for key in keys.values():
        if key.group and key.group not in groups:
            groups.append(key.group)
    configs = []
    error_count = 0
    for name, result in results.items():
        found = keys.get(name)
        error_count += len(result.errors)
        configs.append({"definition": _definition_json(found, name), "value": _value_json(result)})
    return {
        "name": class_name(connector_cls),
        "error_count": error_count,
        "groups": groups,
        "configs": configs,
    }


def _class_not_found(props: Mapping[str, str], cls_name: str, message: str) -> dict[str, Any]:
    definition = _common(ConfigDef())
    results = definition.validate(props)
    results["connector.class"].errors.append(message)
    configs = [
        {"definition": _definition_json(definition.keys[n], n), "value": _value_json(v)}
        for n, v in results.items()
    ]
    return {
        "name": cls_name,
        "error_count": sum(len(v.errors) for v in results.values()),
        "groups": list(definition.groups),
        "configs": configs,
    }


def _render(value: Any) -> Any:
    if value is None or value is NO_DEFAULT:
        return None
    if isinstance(value, Password):
        return "[hidden]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _definition_json(key: ConfigKey | None, name: str) -> dict[str, Any]:
    if key is None:
        return {
            "name": name,
            "type": "STRING",
            "required": False,
            "default_value": None,
            "importance": "LOW",
            "documentation": "",
            "group": None,
            "width": "NONE",
            "display_name": name,
            "dependents": [],
            "order": -1,
        }
    return {
        "name": key.name,
        "type": key.type.value,
        "required": not key.has_default,
        "default_value": _render(key.default) if key.has_default else None,
        "importance": key.importance.value,
        "documentation": key.documentation,
        "group": key.group,
        "width": key.width.value,
        "display_name": key.display_name or key.name,
        "dependents": list(key.dependents),
        "order": key.order_in_group,
    }


def _value_json(value: ConfigValue) -> dict[str, Any]:
    return {
        "name": value.name,
        "value": _render(value.value),
        "recommended_values": [_render(v) for v in value.recommended_values],
        "errors": list(value.errors),
        "visible": value.visible,
    }


def plugin_config_json(cls: type) -> list[dict[str, Any]]:
    """`GET /connector-plugins/{plugin}/config` (KIP-769): the plugin's config definitions."""
    definition: ConfigDef = cls.config_def()  # type: ignore[attr-defined]
    if issubclass(cls, Connector):
        definition = framework_config_def(cls).merge(definition)
    return [_definition_json(key, key.name) for key in definition.keys.values()]
