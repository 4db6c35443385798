"""Field references in transform configs: plain names (`field.syntax.version=V1`, the default) or
KIP-821 nested paths (`V2`): `a.b.c`, with backticks around names containing dots
(`` `a.b`.c ``, a doubled backtick for a literal one)."""

from __future__ import annotations

from typing import Any

from odradek.connect.api.config_def import ConfigDef, ConfigType, Importance, valid_string
from odradek.connect.api.errors import ConfigException
from odradek.connect.data.struct import Struct

SYNTAX_VERSION = "field.syntax.version"


def define_syntax(definition: ConfigDef) -> ConfigDef:
    return definition.define(
        SYNTAX_VERSION,
        ConfigType.STRING,
        "V1",
        valid_string("V1", "V2", case_insensitive=True),
        Importance.HIGH,
        "Defines the version of the syntax to access fields: V1 (names as-is) or V2 (dotted nested paths).",
    )


def parse_path(text: str, version: str) -> list[str]:
    if version.upper() == "V1" or ("." not in text and "`" not in text):
        return [text]
    steps: list[str] = []
    current: list[str] = []
    i = 0
    quoted = False
    while i < len(text):
        ch = text[i]
        if ch == "`":
            if quoted and i + 1 < len(text) and text[i + 1] == "`":
                current.append("`")
                i += 2
                continue
            quoted = not quoted
        elif ch == "." and not quoted:
            steps.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    if quoted:
        raise ConfigException(SYNTAX_VERSION, text, "unbalanced backticks in field path")
    steps.append("".join(current))
    return steps


def get_path(container: Any, path: list[str]) -> Any:
    """The value at `path` in nested Structs/maps, None when a step is missing."""
    current = container
    for step in path:
        if current is None:
            return None
        if isinstance(current, Struct):
            found = current.schema.field(step)
            if found is None:
                return None
            current = current.get(step)
        elif isinstance(current, dict):
            current = current.get(step)
        else:
            return None
    return current
