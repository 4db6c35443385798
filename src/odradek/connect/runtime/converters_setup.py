"""Building a task's converters: the connector's `key.converter`/`value.converter`/`header.converter`
override the worker's; each gets the `<kind>.converter.`-prefixed properties of the worker and the
connector (connector wins), prefix stripped."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from odradek.connect.api.errors import ConfigException, ConnectException
from odradek.connect.converters.base import Converter, HeaderConverter
from odradek.connect.runtime.plugins import Plugins


@dataclass
class Converters:
    key: Converter
    value: Converter
    header: HeaderConverter

    def close(self) -> None:
        for converter in (self.key, self.value, self.header):
            converter.close()


def _props(worker: Mapping[str, Any], connector: Mapping[str, str], prefix: str) -> dict[str, Any]:
    out = {k[len(prefix) :]: v for k, v in worker.items() if k.startswith(prefix)}
    out.update({k[len(prefix) :]: v for k, v in connector.items() if k.startswith(prefix)})
    return out


def build_converters(worker: Mapping[str, Any], connector: Mapping[str, str], plugins: Plugins) -> Converters:
    built: dict[str, Any] = {}
    for kind in ("key", "value", "header"):
        setting = f"{kind}.converter"
        name = connector.get(setting) or worker.get(setting)
        if not name:
            name = (
                "org.apache.kafka.connect.storage.SimpleHeaderConverter"
                if kind == "header"
                else "org.apache.kafka.connect.json.JsonConverter"
            )
        try:
            if kind == "header":
                header = plugins.header_converter_class(str(name))()
                header.configure(_props(worker, connector, setting + "."))
                built[kind] = header
            else:
                converter = plugins.converter_class(str(name))()
                converter.configure(_props(worker, connector, setting + "."), kind == "key")
                built[kind] = converter
        except ConnectException as exc:
            if isinstance(exc, ConfigException):
                raise
            raise ConfigException(setting, name, str(exc)) from exc
    return Converters(built["key"], built["value"], built["header"])
