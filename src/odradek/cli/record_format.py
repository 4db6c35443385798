"""kcat-style record format strings: `consume --format` renders records, `produce --format` parses them.

Grammar (bytes in, bytes out; everything else is copied literally):

    %t  topic                %p  partition            %o  offset
    %k  key                  %s  value                %h  headers as k=v pairs joined by ","
    %T  timestamp (ms since the epoch, -1 if none)
    %K  key length           %S  value length         (-1 for a null key/value)
    %%  a literal "%"        \\n \\t \\r \\0 \\\\  the usual escapes

A null key or value renders as nothing; a header with a null value renders as its bare key (no "=").
`produce` accepts only %k %s %h %p %T (the fields a producer can set); see `record_input`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from odradek.cli.record import Header, Record

ESCAPES = {"n": b"\n", "t": b"\t", "r": b"\r", "0": b"\0", "\\": b"\\"}

# token -> (meaning, renderer); the table is the documentation `--help` prints.
FIELDS: dict[str, tuple[str, Callable[[Record], bytes]]] = {
    "t": ("topic", lambda r: (r.topic or "").encode()),
    "p": ("partition", lambda r: _number(r.partition)),
    "o": ("offset", lambda r: _number(r.offset)),
    "k": ("key", lambda r: r.key or b""),
    "s": ("value", lambda r: r.value or b""),
    "h": ("headers (k=v,...)", lambda r: render_headers(r.headers)),
    "T": ("timestamp (ms)", lambda r: _number(r.timestamp)),
    "K": ("key length", lambda r: _number(None if r.key is None else len(r.key))),
    "S": ("value length", lambda r: _number(None if r.value is None else len(r.value))),
}


class FormatError(ValueError):
    """A format string that does not follow the grammar above."""


@dataclass(frozen=True, slots=True)
class Literal:
    text: bytes


@dataclass(frozen=True, slots=True)
class Field:
    token: str


Element = Literal | Field


def _number(n: int | None) -> bytes:
    return b"-1" if n is None else str(n).encode()


def unescape(text: str) -> bytes:
    """Expand the backslash escapes only (used for `-K` delimiters, which have no % fields)."""
    return b"".join(e.text for e in _scan(text, fields=False) if isinstance(e, Literal))


def parse_format(text: str) -> tuple[Element, ...]:
    """Split a format string into literals and fields; adjacent literals are merged."""
    return tuple(_scan(text, fields=True))


def _scan(text: str, *, fields: bool) -> list[Element]:
    out: list[Element] = []
    literal = bytearray()
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" or (ch == "%" and fields):
            if i + 1 == len(text):
                raise FormatError(f"format {text!r} ends with a lone {ch!r}")
            nxt = text[i + 1]
            i += 2
            if ch == "\\":
                if nxt not in ESCAPES:
                    raise FormatError(f"unknown escape \\{nxt} in format {text!r}")
                literal += ESCAPES[nxt]
            elif nxt == "%":
                literal += b"%"
            elif nxt in FIELDS:
                if literal:
                    out.append(Literal(bytes(literal)))
                    literal.clear()
                out.append(Field(nxt))
            else:
                raise FormatError(f"unknown field %{nxt} in format {text!r}")
            continue
        literal += ch.encode()
        i += 1
    if literal:
        out.append(Literal(bytes(literal)))
    return out


def key_value_format(key_delimiter: str | None) -> tuple[Element, ...]:
    """The default format: the value per line, or key DELIMITER value per line (kcat's -K)."""
    if key_delimiter is None:
        return (Field("s"), Literal(b"\n"))
    delimiter = unescape(key_delimiter)
    if not delimiter:
        raise FormatError("the key delimiter must not be empty")
    return (Field("k"), Literal(delimiter), Field("s"), Literal(b"\n"))


def render_headers(headers: Sequence[Header]) -> bytes:
    return b",".join(k.encode() if v is None else k.encode() + b"=" + v for k, v in headers)


class RecordRenderer:
    """Renders records with a parsed format; compiled once, called per record."""

    def __init__(self, elements: Sequence[Element]) -> None:
        self._parts: list[bytes | Callable[[Record], bytes]] = [
            e.text if isinstance(e, Literal) else FIELDS[e.token][1] for e in elements
        ]

    def render(self, record: Record) -> bytes:
        return b"".join(p if isinstance(p, bytes) else p(record) for p in self._parts)
