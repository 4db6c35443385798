"""`ssl.principal.mapping.rules`: from a TLS client certificate's subject to a principal name.

The certificate's distinguished name is written as RFC 2253/4514 does (most specific attribute
first, ``CN=alice,OU=eng,O=Example,C=DE``), as Kafka's X500Principal.getName() writes it. The rules
are Kafka's syntax, separated by commas:

* ``RULE:pattern/replacement/`` with an optional ``L`` or ``U`` after the last slash to lower- or
  upper-case the result; the pattern must match the whole name; ``$1``, ``$2`` in the replacement
  are its groups; a backslash escapes a slash or a backslash inside pattern or replacement;
* ``DEFAULT``: the distinguished name unchanged.

The first rule whose pattern matches decides. If none does, the connection is refused (Kafka
fails the authentication) rather than falling back to some other name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_RULE = re.compile(
    r"\s*(?:(?P<default>DEFAULT)|RULE:(?P<pattern>(?:\\.|[^\\/])*)/(?P<replacement>(?:\\.|[^\\/])*)/"
    r"(?P<case>[LU]?))\s*(?:,|$)"
)
_GROUP_REFERENCE = re.compile(r"\$(\d+)")


class PrincipalMappingError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class MappingRule:
    pattern: re.Pattern[str] | None  # None: DEFAULT
    replacement: str = ""
    case: str = ""

    def apply(self, distinguished_name: str) -> str | None:
        if self.pattern is None:
            return distinguished_name
        if self.pattern.fullmatch(distinguished_name) is None:
            return None
        result = self.pattern.sub(self.replacement, distinguished_name)
        if self.case == "L":
            return result.lower()
        if self.case == "U":
            return result.upper()
        return result


def _unescape(text: str) -> str:
    return re.sub(r"\\([\\/])", r"\1", text)


def parse_rules(text: str | None) -> tuple[MappingRule, ...]:
    """Parses the config value; raises PrincipalMappingError with the offending text."""
    source = (text or "DEFAULT").strip()
    rules: list[MappingRule] = []
    pos = 0
    while pos < len(source):
        match = _RULE.match(source, pos)
        if match is None or match.end() == pos:
            raise PrincipalMappingError(f"Invalid rule: {source[pos:]}")
        pos = match.end()
        if match["default"]:
            rules.append(MappingRule(None))
            continue
        try:
            pattern = re.compile(_unescape(match["pattern"]))
        except re.error as exc:
            raise PrincipalMappingError(f"Invalid rule: {match.group(0).strip()} ({exc})") from exc
        replacement = _GROUP_REFERENCE.sub(r"\\g<\1>", _unescape(match["replacement"]).replace("\\", "\\\\"))
        rules.append(MappingRule(pattern, replacement, match["case"]))
    return tuple(rules) or (MappingRule(None),)


def map_principal_name(rules: tuple[MappingRule, ...], distinguished_name: str) -> str:
    for rule in rules:
        name = rule.apply(distinguished_name)
        if name is not None:
            return name
    raise PrincipalMappingError(f"No rules apply to {distinguished_name}")
