"""The transformation chain of one connector: `transforms=a,b` with `transforms.a.type`,
optional `transforms.a.predicate` and `transforms.a.negate`, and the `predicates=p` they name.

`TransformationChain.build(props, plugins)` configures each transform with its
`transforms.<alias>.` properties (prefix stripped, `type`/`predicate`/`negate` removed) and each
predicate likewise; a bad config is a `ConfigException` naming the key. `apply` runs the stages in
order under the task's error policy; a None from a stage drops the record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from odradek.connect.api.config_def import ConfigType, parse_type
from odradek.connect.api.errors import ConfigException, ConnectException
from odradek.connect.api.records import ConnectRecord
from odradek.connect.runtime.errors import ConsumedRecord, RetryWithToleranceOperator, Stage
from odradek.connect.runtime.plugins import Plugins, class_name
from odradek.connect.transforms.base import Predicate, Transformation

if TYPE_CHECKING:
    pass


def _list(props: Mapping[str, str], name: str) -> list[str]:
    value = parse_type(name, props.get(name, ""), ConfigType.LIST)
    return [v for v in value if v]


def sub_props(props: Mapping[str, str], prefix: str, drop: tuple[str, ...] = ()) -> dict[str, str]:
    return {
        k[len(prefix) :]: v for k, v in props.items() if k.startswith(prefix) and k[len(prefix) :] not in drop
    }


@dataclass
class TransformStage:
    alias: str
    transformation: Transformation
    predicate: Predicate | None
    negate: bool

    def should_apply(self, record: ConnectRecord) -> bool:
        if self.predicate is None:
            return True
        return self.predicate.test(record) != self.negate


class TransformationChain:
    def __init__(self, stages: list[TransformStage]) -> None:
        self.stages = stages

    @classmethod
    def build(cls, props: Mapping[str, str], plugins: Plugins) -> TransformationChain:
        predicates: dict[str, Predicate] = {}
        for alias in _list(props, "predicates"):
            type_key = f"predicates.{alias}.type"
            if not props.get(type_key):
                raise ConfigException(type_key, None, "Not a Predicate: missing type")
            try:
                instance = plugins.predicate_class(props[type_key])()
            except ConnectException as exc:
                raise ConfigException(type_key, props[type_key], str(exc)) from exc
            instance.configure(sub_props(props, f"predicates.{alias}.", ("type",)))
            predicates[alias] = instance
        stages: list[TransformStage] = []
        for alias in _list(props, "transforms"):
            type_key = f"transforms.{alias}.type"
            if not props.get(type_key):
                raise ConfigException(type_key, None, "Not a Transformation: missing type")
            try:
                transformation = plugins.transformation_class(props[type_key])()
            except ConnectException as exc:
                raise ConfigException(type_key, props[type_key], str(exc)) from exc
            transformation.configure(
                sub_props(props, f"transforms.{alias}.", ("type", "predicate", "negate"))
            )
            predicate_alias = props.get(f"transforms.{alias}.predicate")
            predicate: Predicate | None = None
            if predicate_alias:
                predicate = predicates.get(predicate_alias)
                if predicate is None:
                    raise ConfigException(
                        f"transforms.{alias}.predicate",
                        predicate_alias,
                        "Predicate is not defined in 'predicates'",
                    )
            negate = parse_type(
                f"transforms.{alias}.negate",
                props.get(f"transforms.{alias}.negate", "false"),
                ConfigType.BOOLEAN,
            )
            if negate and predicate is None:
                raise ConfigException(f"transforms.{alias}.negate", "true", "negate requires a predicate")
            stages.append(TransformStage(alias, transformation, predicate, negate))
        return cls(stages)

    def apply(
        self,
        record: ConnectRecord,
        operator: RetryWithToleranceOperator | None = None,
        consumed: ConsumedRecord | None = None,
    ) -> ConnectRecord | None:
        current: ConnectRecord | None = record
        for stage in self.stages:
            if current is None:
                return None
            if operator is None:
                current = stage.transformation.apply(current) if stage.should_apply(current) else current
                continue
            before = current
            ok, result = operator.execute(
                lambda s=stage, r=before: s.transformation.apply(r) if s.should_apply(r) else r,  # type: ignore[misc]
                Stage.TRANSFORMATION,
                class_name(type(stage.transformation)),
                consumed=consumed,
                source_record=record if consumed is None else None,
            )
            if not ok:
                return None
            current = result
        return current

    def close(self) -> None:
        for stage in self.stages:
            stage.transformation.close()
            if stage.predicate is not None:
                stage.predicate.close()
