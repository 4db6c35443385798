"""Parses `produce` input into records, incrementally, with a format from `record_format`.

The format's last element must be a literal: the record terminator (``\\n`` by default). Input is
split at each terminator; each record is then matched left to right: a literal must appear
exactly, and a field runs up to the first occurrence of the literal that follows it (so a key
ends at the first key delimiter, like kcat's -K), the last field to the end of the record. Two
fields must be separated by a literal. A final record without a terminator is accepted at the
end of input; an empty input produces no record.

Fields a producer can set: %k key, %s value, %h headers (k=v pairs joined by ",", a bare key is a
null header value), %p partition, %T timestamp in ms. A missing %k gives a null key, a missing %s a
null value; a value equal to the null-value marker is also sent as null (a tombstone).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from odradek.cli.record import Header, Record
from odradek.cli.record_format import FIELDS, Element, Field, Literal

INPUT_FIELDS = ("k", "s", "h", "p", "T")


class InputFormatError(ValueError):
    """Input that does not match the format, or a format `produce` cannot parse with."""


def parse_headers(text: bytes) -> tuple[Header, ...]:
    if not text:
        return ()
    headers: list[Header] = []
    for part in text.split(b","):
        key, sep, value = part.partition(b"=")
        try:
            name = key.decode()
        except UnicodeDecodeError as exc:
            raise InputFormatError(f"header key {key!r} is not UTF-8") from exc
        headers.append((name, value if sep else None))
    return tuple(headers)


def _check(elements: Sequence[Element]) -> None:
    if not elements or not isinstance(elements[-1], Literal):
        raise InputFormatError("an input format must end with a record terminator such as \\n")
    seen: set[str] = set()
    for prev, el in zip((None, *elements), elements, strict=False):
        if not isinstance(el, Field):
            continue
        if el.token not in INPUT_FIELDS:
            raise InputFormatError(f"%{el.token} ({FIELDS[el.token][0]}) cannot be parsed from input")
        if el.token in seen:
            raise InputFormatError(f"%{el.token} appears twice in the input format")
        if isinstance(prev, Field):
            raise InputFormatError(f"%{prev.token} and %{el.token} need a delimiter between them")
        seen.add(el.token)


class RecordReader:
    """Feed bytes, get records. Keeps at most one partial record buffered."""

    def __init__(self, elements: Sequence[Element], null_value_marker: bytes | None = None) -> None:
        _check(elements)
        last = elements[-1]
        assert isinstance(last, Literal)
        self._terminator = last.text
        self._body = tuple(elements[:-1])
        self._null_value_marker = null_value_marker
        self._buffer = bytearray()
        self._scanned = 0  # the buffer holds no terminator before this position
        self.records_read = 0

    def feed(self, data: bytes) -> Iterator[Record]:
        """Buffers `data` and yields the records it completes. A record that does not match raises
        InputFormatError when reached, after the records before it have been yielded."""
        self._buffer += data
        return self._drain()

    def _drain(self) -> Iterator[Record]:
        start = 0
        try:
            while (end := self._buffer.find(self._terminator, max(start, self._scanned))) >= 0:
                body = bytes(self._buffer[start:end])
                start = end + len(self._terminator)
                yield self._parse(body)
        finally:
            del self._buffer[:start]
            self._scanned = max(0, len(self._buffer) - len(self._terminator) + 1)

    def finish(self) -> list[Record]:
        """End of input: the unterminated tail, if any, is the last record."""
        if not self._buffer:
            return []
        record = self._parse(bytes(self._buffer))
        self._buffer.clear()
        self._scanned = 0
        return [record]

    def _parse(self, body: bytes) -> Record:
        self.records_read += 1
        n = self.records_read
        fields: dict[str, bytes] = {}
        pos = 0
        for i, el in enumerate(self._body):
            if isinstance(el, Literal):
                if not body.startswith(el.text, pos):
                    raise InputFormatError(f"record {n}: expected {el.text!r} at byte {pos}")
                pos += len(el.text)
                continue
            following = self._body[i + 1] if i + 1 < len(self._body) else None
            if following is None:
                fields[el.token], pos = body[pos:], len(body)
                continue
            assert isinstance(following, Literal)
            end = body.find(following.text, pos)
            if end < 0:
                name = FIELDS[el.token][0]
                raise InputFormatError(f"record {n}: no delimiter {following.text!r} after the {name}")
            fields[el.token], pos = body[pos:end], end
        if pos != len(body):
            raise InputFormatError(f"record {n}: unexpected bytes after the last field: {body[pos:]!r}")
        return self._record(n, fields)

    def _record(self, n: int, fields: dict[str, bytes]) -> Record:
        value = fields.get("s")
        if value is not None and value == self._null_value_marker:
            value = None
        try:
            headers = parse_headers(fields.get("h", b""))
        except InputFormatError as exc:
            raise InputFormatError(f"record {n}: {exc}") from exc
        return Record(
            key=fields.get("k"),
            value=value,
            headers=headers,
            partition=_integer(n, fields, "p"),
            timestamp=_integer(n, fields, "T"),
        )


def _integer(n: int, fields: dict[str, bytes], token: str) -> int | None:
    if token not in fields:
        return None
    try:
        return int(fields[token])
    except ValueError:
        raise InputFormatError(
            f"record {n}: the {FIELDS[token][0]} must be an integer, not {fields[token]!r}"
        ) from None
