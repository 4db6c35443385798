"""Topic routers: `RegexRouter` (rename the topic when `regex` matches it whole; `replacement` may
use Java's `$1` group references) and `TimestampRouter` (`topic.format` with `${topic}` and
`${timestamp}`, the record timestamp formatted with the Java date pattern `timestamp.format`)."""

from __future__ import annotations

import re

from odradek.connect.api.config_def import ConfigDef, ConfigType, Importance, regex
from odradek.connect.api.errors import ConfigException, DataException
from odradek.connect.api.records import ConnectRecord
from odradek.connect.data import logical
from odradek.connect.transforms.base import Transformation
from odradek.connect.transforms.java_dates import JavaDateFormat

_GROUP_REF = re.compile(r"\$(\d+)|\$\{(\w+)\}")


def java_replacement(text: str) -> str:
    """Java's `Matcher.replaceFirst` syntax (`$1`, `${name}`, `\\$`) as Python's `re` template."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(text[i + 1].replace("\\", "\\\\"))
            i += 2
            continue
        match = _GROUP_REF.match(text, i)
        if match:
            out.append(f"\\g<{match.group(1) or match.group(2)}>")
            i = match.end()
            continue
        out.append("\\\\" if ch == "\\" else ch)
        i += 1
    return "".join(out)


class RegexRouter(Transformation):
    java_class = "org.apache.kafka.connect.transforms.RegexRouter"

    @classmethod
    def config_def(cls) -> ConfigDef:
        return (
            ConfigDef()
            .define(
                "regex",
                ConfigType.STRING,
                None,
                regex,
                Importance.HIGH,
                "Regular expression to use for matching.",
            )
            .define("replacement", ConfigType.STRING, None, None, Importance.HIGH, "Replacement string.")
        )

    def setup(self) -> None:
        pattern = self.config.get_string("regex")
        replacement = self.config.get_string("replacement")
        if pattern is None:
            raise ConfigException("regex", None, 'Missing required configuration "regex"')
        if replacement is None:
            raise ConfigException("replacement", None, 'Missing required configuration "replacement"')
        self.pattern = re.compile(pattern)
        self.replacement = java_replacement(replacement)

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        match = self.pattern.fullmatch(record.topic)
        if match is None:
            return record
        return record.new_record(topic=match.expand(self.replacement))


class TimestampRouter(Transformation):
    java_class = "org.apache.kafka.connect.transforms.TimestampRouter"

    @classmethod
    def config_def(cls) -> ConfigDef:
        return (
            ConfigDef()
            .define(
                "topic.format",
                ConfigType.STRING,
                "${topic}-${timestamp}",
                None,
                Importance.HIGH,
                "Format string which can contain ${topic} and ${timestamp} as placeholders for the topic "
                "and timestamp, respectively.",
            )
            .define(
                "timestamp.format",
                ConfigType.STRING,
                "yyyyMMdd",
                None,
                Importance.HIGH,
                "Format string for the timestamp that is compatible with java.text.SimpleDateFormat.",
            )
        )

    def setup(self) -> None:
        self.topic_format = self.config.get_string("topic.format")
        self.date_format = JavaDateFormat(self.config.get_string("timestamp.format"))

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        if record.timestamp is None:
            raise DataException(f"Timestamp missing on record: {record!r}")
        stamp = self.date_format.format(logical.millis_to_timestamp(record.timestamp))
        topic = self.topic_format.replace("${topic}", record.topic).replace("${timestamp}", stamp)
        return record.new_record(topic=topic)
