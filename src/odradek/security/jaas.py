"""JAAS configuration as Kafka writes it, parsed without running anything.

The ``sasl.jaas.config`` property (per listener and mechanism on a broker:
``listener.name.sasl_ssl.plain.sasl.jaas.config``) holds exactly one login module entry::

    org.apache.kafka.common.security.plain.PlainLoginModule required
        username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";

that is ``CLASS FLAG (NAME=VALUE)* ;`` with FLAG one of required, requisite, sufficient, optional,
values either bare words or double-quoted strings with backslash escapes, and ``//`` or ``/* */``
comments. A JAAS *file* holds named sections of such entries: ``KafkaServer { ... };``.

Login module classes choose code in Java; here they only choose a mechanism, and only the three
Kafka login modules are accepted (CVE-2023-25194: a config must never pick arbitrary code).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PLAIN_LOGIN_MODULE = "org.apache.kafka.common.security.plain.PlainLoginModule"
SCRAM_LOGIN_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule"
OAUTHBEARER_LOGIN_MODULE = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule"
ALLOWED_LOGIN_MODULES = frozenset({PLAIN_LOGIN_MODULE, SCRAM_LOGIN_MODULE, OAUTHBEARER_LOGIN_MODULE})
CONTROL_FLAGS = frozenset({"required", "requisite", "sufficient", "optional"})

_TOKEN = re.compile(
    r"""\s*(?:(?P<comment>//[^\n]*|/\*.*?\*/)|"(?P<quoted>(?:\\.|[^"\\])*)"|(?P<punct>[=;{}])|"""
    r"""(?P<word>[^\s=;{}"]+))""",
    re.DOTALL,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}


class JaasConfigError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class LoginModule:
    class_name: str
    control_flag: str
    options: dict[str, str] = field(default_factory=dict)

    def users(self, prefix: str = "user_") -> dict[str, str]:
        """PlainLoginModule's ``user_NAME="password"`` entries."""
        return {
            k[len(prefix) :]: v
            for k, v in self.options.items()
            if k.startswith(prefix) and len(k) > len(prefix)
        }


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text, flags=re.DOTALL)


def _tokens(text: str) -> list[tuple[str, str]]:
    """(kind, value) pairs: kind is 'word', 'quoted' or the punctuation character."""
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        match = _TOKEN.match(text, pos)
        if match is None:
            raise JaasConfigError(
                f"Unexpected character in JAAS config at position {pos}: {text[pos : pos + 20]!r}"
            )
        pos = match.end()
        if match["comment"] is not None:
            continue
        if match["quoted"] is not None:
            out.append(("quoted", _unquote(match["quoted"])))
        elif match["punct"] is not None:
            out.append((match["punct"], match["punct"]))
        else:
            out.append(("word", match["word"]))
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, *kinds: str) -> str:
        token = self.peek()
        if token is None or token[0] not in kinds:
            found = "end of input" if token is None else repr(token[1])
            raise JaasConfigError(f"JAAS config: expected {' or '.join(kinds)}, found {found}")
        self.pos += 1
        return token[1]

    def module(self) -> LoginModule:
        class_name = self.take("word")
        flag = self.take("word").lower()
        if flag not in CONTROL_FLAGS:
            raise JaasConfigError(f"Invalid control flag '{flag}' for login module {class_name}")
        options: dict[str, str] = {}
        while (token := self.peek()) is not None and token[0] != ";":
            name = self.take("word", "quoted")
            self.take("=")
            options[name] = self.take("word", "quoted")
        self.take(";")
        if class_name not in ALLOWED_LOGIN_MODULES:
            raise JaasConfigError(
                f"Login module {class_name} is not allowed (only Kafka's PLAIN, SCRAM, OAUTHBEARER modules)"
            )
        return LoginModule(class_name, flag, options)


def parse_jaas_config(text: str) -> LoginModule:
    """A ``sasl.jaas.config`` value: exactly one login module."""
    parser = _Parser(text)
    if parser.peek() is None:
        raise JaasConfigError("JAAS config entry not terminated by semicolon")
    module = parser.module()
    if parser.peek() is not None:
        raise JaasConfigError("JAAS config property contains 2 login modules, should be 1 module")
    return module


def parse_jaas_file(text: str) -> dict[str, list[LoginModule]]:
    """A JAAS file: ``Section { module...; };`` entries, by section name."""
    parser = _Parser(text)
    sections: dict[str, list[LoginModule]] = {}
    while parser.peek() is not None:
        name = parser.take("word")
        parser.take("{")
        modules = []
        while (token := parser.peek()) is not None and token[0] != "}":
            modules.append(parser.module())
        parser.take("}")
        parser.take(";")
        sections[name] = modules
    return sections
