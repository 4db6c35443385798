"""Config providers (KIP-297): `${provider:path:key}` placeholders in connector configs resolved
when a connector or task starts, never in what the REST API returns or the logs print.

Built in, always available under these names (and configurable through `config.providers=name`,
`config.providers.<name>.class=...` with Kafka's class names, `config.providers.<name>.param.*`):

| name | Kafka class | placeholder | value |
|---|---|---|---|
| `env` | `org.apache.kafka.common.config.provider.EnvVarConfigProvider` | `${env:VAR}` | the environment variable |
| `file` | `org.apache.kafka.common.config.provider.FileConfigProvider` | `${file:/path/app.properties:key}` | the key of a properties file |
| `directory` | `org.apache.kafka.common.config.provider.DirectoryConfigProvider` | `${directory:/run/secrets:db-password}` | the contents of the file `key` in the directory |

`allowed.paths` (a provider param) limits the files and directories a provider may read. A
placeholder whose provider or key is unknown is left as written, as in Kafka.
"""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from odradek.connect.api.errors import ConfigException

PLACEHOLDER = re.compile(r"\$\{([^}]*?):(?:([^}]*?):)?([^}]*?)\}")


class ConfigProvider(ABC):
    java_class: str = ""

    def configure(self, params: Mapping[str, str]) -> None:
        allowed = params.get("allowed.paths", "")
        self.allowed = [Path(p.strip()).resolve() for p in allowed.split(",") if p.strip()]

    def _check(self, path: str) -> Path:
        resolved = Path(path).resolve()
        if getattr(self, "allowed", None) and not any(resolved.is_relative_to(a) for a in self.allowed):
            raise ConfigException("path", path, "is not in allowed.paths")
        return resolved

    @abstractmethod
    def get(self, path: str | None, key: str) -> str | None: ...


class EnvVarConfigProvider(ConfigProvider):
    java_class = "org.apache.kafka.common.config.provider.EnvVarConfigProvider"

    def get(self, path: str | None, key: str) -> str | None:
        return os.environ.get(key)


def read_properties(text: str) -> dict[str, str]:
    """Java .properties: `key=value` or `key: value`, `#`/`!` comments, `\\` line continuations."""
    props: dict[str, str] = {}
    pending = ""
    for raw in text.splitlines():
        line = pending + raw.lstrip() if pending else raw.strip()
        if not pending and (not line or line[0] in "#!"):
            continue
        if line.endswith("\\") and not line.endswith("\\\\"):
            pending = line[:-1]
            continue
        pending = ""
        match = re.match(r"((?:\\.|[^=:\s])+)\s*[=:\s]\s*(.*)$", line)
        if match:
            props[_unescape(match.group(1))] = _unescape(match.group(2))
        else:
            props[_unescape(line)] = ""
    return props


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1), m.group(1)), text)


class FileConfigProvider(ConfigProvider):
    java_class = "org.apache.kafka.common.config.provider.FileConfigProvider"

    def get(self, path: str | None, key: str) -> str | None:
        if not path:
            return None
        try:
            return read_properties(self._check(path).read_text()).get(key)
        except OSError:
            return None


class DirectoryConfigProvider(ConfigProvider):
    java_class = "org.apache.kafka.common.config.provider.DirectoryConfigProvider"

    def get(self, path: str | None, key: str) -> str | None:
        if not path:
            return None
        directory = self._check(path)
        target = (directory / key).resolve()
        if target.parent != directory or not target.is_file():
            return None
        try:
            return target.read_text()
        except OSError:
            return None


_BY_CLASS: dict[str, type[ConfigProvider]] = {}
for _cls in (EnvVarConfigProvider, FileConfigProvider, DirectoryConfigProvider):
    _BY_CLASS[_cls.java_class] = _cls
    _BY_CLASS[_cls.__name__] = _cls
    _BY_CLASS[f"{_cls.__module__}.{_cls.__name__}"] = _cls


class ConfigTransformer:
    """Resolves placeholders with the worker's providers."""

    def __init__(self, worker_props: Mapping[str, Any] | None = None) -> None:
        self.providers: dict[str, ConfigProvider] = {}
        for name, cls in (
            ("env", EnvVarConfigProvider),
            ("file", FileConfigProvider),
            ("directory", DirectoryConfigProvider),
        ):
            provider: ConfigProvider = cls()
            provider.configure({})
            self.providers[name] = provider
        props = worker_props or {}
        names = [n.strip() for n in str(props.get("config.providers", "") or "").split(",") if n.strip()]
        for name in names:
            class_name = str(props.get(f"config.providers.{name}.class", ""))
            provider_cls = _BY_CLASS.get(class_name)
            if provider_cls is None:
                raise ConfigException(
                    f"config.providers.{name}.class", class_name, "unknown ConfigProvider class"
                )
            prefix = f"config.providers.{name}.param."
            provider = provider_cls()
            provider.configure({k[len(prefix) :]: str(v) for k, v in props.items() if k.startswith(prefix)})
            self.providers[name] = provider

    def transform(self, config: Mapping[str, str]) -> dict[str, str]:
        return {key: self.resolve(value) for key, value in config.items()}

    def resolve(self, value: str) -> str:
        if "${" not in value:
            return value

        def replace(match: re.Match[str]) -> str:
            provider = self.providers.get(match.group(1))
            if provider is None:
                return match.group(0)
            found = provider.get(match.group(2), match.group(3))
            return match.group(0) if found is None else found

        return PLACEHOLDER.sub(replace, value)
