"""Splitting a stream of concatenated JSON documents (v3 streaming produce) as bytes arrive.

Confluent's streaming produce sends records as *concatenated JSON*: ``{…}{…}`` or, as nearly
every client writes it, one per line. `JsonStream.feed` takes the next chunk of the body and
returns the documents it completed, in order. The fast path parses all complete lines with orjson
in one ``map`` when each is a document of its own (the usual NDJSON); else each complete line is
parsed with orjson, and a line that does not parse on its own (an object spread over lines,
several objects on one line) falls back to the standard library's ``raw_decode``, which finds
where one document ends (so does a line holding an integer too long for orjson, see `jsoncodec`).

A document that can never parse yields a `BadDocument` and the stream resynchronizes at the next
newline; a document growing past ``max_bytes`` without completing yields a `BadDocument` too and
is skipped to its next newline, so the proxy never holds more than ``max_bytes`` of one record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import orjson

from odradek.rest.jsoncodec import has_long_number

_decoder = json.JSONDecoder()
WHITESPACE = b" \t\r\n"


@dataclass(frozen=True, slots=True)
class BadDocument:
    reason: str


class JsonStream:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.buffer = bytearray()
        self.skipping = False  # discarding an oversized document up to its next newline

    def feed(self, chunk: bytes) -> list[Any | BadDocument]:
        out: list[Any | BadDocument] = []
        if self.skipping:
            newline = chunk.find(b"\n")
            if newline < 0:
                return out
            chunk = chunk[newline + 1 :]
            self.skipping = False
        self.buffer += chunk
        self._drain(out, final=False)
        if len(self.buffer) > self.max_bytes:
            out.append(BadDocument(f"a record is larger than {self.max_bytes} bytes"))
            newline = self.buffer.find(b"\n")
            if newline < 0:
                self.buffer.clear()
                self.skipping = True
            else:
                del self.buffer[: newline + 1]
                self._drain(out, final=False)
        return out

    def finish(self) -> list[Any | BadDocument]:
        out: list[Any | BadDocument] = []
        self._drain(out, final=True)
        if self.buffer.strip(WHITESPACE):
            out.append(BadDocument("the body ends inside a JSON document"))
        self.buffer.clear()
        return out

    def _drain(self, out: list[Any | BadDocument], final: bool) -> None:
        buf = self.buffer
        self._lines(buf, out)
        start = 0
        n = len(buf)
        # one scan of the buffer; lines are scanned only when it holds a long number somewhere
        long_numbers = has_long_number(buf)
        while start < n:
            while start < n and buf[start] in WHITESPACE:
                start += 1
            if start >= n:
                break
            newline = buf.find(b"\n", start)
            if newline >= 0 and not (long_numbers and has_long_number(buf[start:newline])):
                try:
                    doc = orjson.loads(buf[start:newline])
                except orjson.JSONDecodeError:
                    pass
                else:
                    out.append(self._sized(doc, newline - start))
                    start = newline + 1
                    continue
            consumed = self._slow(buf, start, out, final)
            if consumed == 0:
                break
            start += consumed
        del buf[:start]

    def _lines(self, buf: bytearray, out: list[Any | BadDocument]) -> None:
        """The fast path: when every complete line of ``buf`` is one document that orjson reads
        exactly (no long number) within the size limit, all of them at once (one ``map`` over the
        lines, no Python per line); otherwise nothing, and `_drain` goes line by line."""
        end = buf.rfind(b"\n")
        if end < 0:
            return
        block = bytes(buf[:end])
        lines = block.split(b"\n")
        if max(map(len, lines)) > self.max_bytes or has_long_number(block):
            return
        try:
            docs = list(map(orjson.loads, lines))
        except orjson.JSONDecodeError:  # a blank line, a document over lines, several on one…
            return
        out.extend(docs)
        del buf[: end + 1]

    def _slow(self, buf: bytearray, start: int, out: list[Any | BadDocument], final: bool) -> int:
        """Bytes consumed from ``start`` by one document parsed with ``raw_decode`` (0: need more)."""
        try:
            text = buf[start:].decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start >= len(buf) - start - 3 and not final:
                return 0  # a multi-byte character cut by the chunk boundary
            return self._resync(buf, start, out, "the record is not UTF-8")
        try:
            value, end = _decoder.raw_decode(text)
        except json.JSONDecodeError as exc:
            # a document cut by the chunk boundary fails at its end, in an unterminated string or
            # in a literal or number with no line break after it; anything else is not JSON
            truncated = (
                exc.pos >= len(text.rstrip())
                or exc.msg.startswith("Unterminated string")
                or "\n" not in text[exc.pos :]
            )
            if truncated and not final:
                return 0  # incomplete: wait for more bytes
            return self._resync(buf, start, out, f"not JSON: {exc.msg} at column {exc.colno}")
        size = len(text[:end].encode("utf-8"))
        out.append(self._sized(value, size))
        return size

    def _sized(self, doc: Any, size: int) -> Any | BadDocument:
        if size > self.max_bytes:
            return BadDocument(f"a record is larger than {self.max_bytes} bytes")
        return doc

    def _resync(self, buf: bytearray, start: int, out: list[Any | BadDocument], reason: str) -> int:
        out.append(BadDocument(reason))
        newline = buf.find(b"\n", start)
        if newline < 0:
            return len(buf) - start
        return newline + 1 - start
