"""Predicates (`predicates=p`, `predicates.p.type=...`; a transform applies only when its
`predicate` holds, or does not with `negate=true`): HasHeaderKey, RecordIsTombstone,
TopicNameMatches."""

from __future__ import annotations

import re

from odradek.connect.api.config_def import ConfigDef, ConfigType, Importance, non_empty_string, regex
from odradek.connect.api.errors import ConfigException
from odradek.connect.api.records import ConnectRecord
from odradek.connect.transforms.base import Predicate


class HasHeaderKey(Predicate):
    java_class = "org.apache.kafka.connect.transforms.predicates.HasHeaderKey"

    @classmethod
    def config_def(cls) -> ConfigDef:
        return ConfigDef().define(
            "name", ConfigType.STRING, None, non_empty_string, Importance.MEDIUM, "The header name."
        )

    def setup(self) -> None:
        self.name = self.config.get_string("name")
        if not self.name:
            raise ConfigException("name", self.name, 'Missing required configuration "name"')

    def test(self, record: ConnectRecord) -> bool:
        return record.headers.last_with_name(self.name) is not None


class RecordIsTombstone(Predicate):
    java_class = "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone"

    def test(self, record: ConnectRecord) -> bool:
        return record.value is None


class TopicNameMatches(Predicate):
    java_class = "org.apache.kafka.connect.transforms.predicates.TopicNameMatches"

    @classmethod
    def config_def(cls) -> ConfigDef:
        return ConfigDef().define(
            "pattern",
            ConfigType.STRING,
            None,
            regex,
            Importance.MEDIUM,
            "A Java regular expression for matching against the name of a record's topic.",
        )

    def setup(self) -> None:
        pattern = self.config.get_string("pattern")
        if not pattern:
            raise ConfigException("pattern", pattern, 'Missing required configuration "pattern"')
        self.pattern = re.compile(pattern)

    def test(self, record: ConnectRecord) -> bool:
        return self.pattern.fullmatch(record.topic) is not None
