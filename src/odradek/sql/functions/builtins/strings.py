"""String functions (ksqlDB names; positions are 1-based, negative positions count from the end)."""

from __future__ import annotations

import re
import uuid
from functools import lru_cache
from typing import Any

from odradek.sql.functions.builtins import Builtins

FUNCTIONS = Builtins()
fn = FUNCTIONS.scalar


@lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


@fn("LCASE|LOWER", "STRING -> STRING", description="The string in lower case.")
def lcase(s: str) -> str:
    return s.lower()


@fn("UCASE|UPPER", "STRING -> STRING", description="The string in upper case.")
def ucase(s: str) -> str:
    return s.upper()


@fn(
    "INITCAP",
    "STRING -> STRING",
    description="Each word with its first letter capitalized, the rest lower case.",
)
def initcap(s: str) -> str:
    return re.sub(r"\S+", lambda m: m.group(0)[0].upper() + m.group(0)[1:].lower(), s)


@fn("LEN|LENGTH", "STRING -> INT", "BYTES -> INT", description="The number of characters (or bytes).")
def length(s: str | bytes) -> int:
    return len(s)


@fn("TRIM", "STRING -> STRING", description="The string without leading and trailing whitespace.")
def trim(s: str) -> str:
    return s.strip()


@fn("LTRIM", "STRING -> STRING", description="The string without leading whitespace.")
def ltrim(s: str) -> str:
    return s.lstrip()


@fn("RTRIM", "STRING -> STRING", description="The string without trailing whitespace.")
def rtrim(s: str) -> str:
    return s.rstrip()


def _start(pos: int, length: int) -> int:
    return pos - 1 if pos > 0 else max(length + pos, 0)


@fn(
    "SUBSTRING|SUBSTR",
    "STRING, INT -> STRING",
    "STRING, INT, INT -> STRING",
    "BYTES, INT -> BYTES",
    "BYTES, INT, INT -> BYTES",
    description="The part of the string from position (1-based; negative counts from the end), optionally of a given length.",
)
def substring(s: str, pos: int, length: int | None = None) -> str:
    start = _start(pos, len(s))
    return s[start:] if length is None else s[start : start + max(length, 0)]


@fn(
    "INSTR",
    "STRING, STRING -> INT",
    "STRING, STRING, INT -> INT",
    "STRING, STRING, INT, INT -> INT",
    description="The 1-based position of the n-th occurrence of a substring, searching from a position (negative: backwards); 0 if absent.",
)
def instr(s: str, sub: str, position: int = 1, occurrence: int = 1) -> int:
    if position > 0:
        idx = position - 2
        for _ in range(occurrence):
            idx = s.find(sub, idx + 1)
            if idx < 0:
                return 0
        return idx + 1
    end = len(s) + position + 1
    idx = end
    for _ in range(occurrence):
        idx = s.rfind(sub, 0, idx + len(sub) - 1 if idx < end else end + len(sub) - 1)
        if idx < 0:
            return 0
    return idx + 1


@fn(
    "CONCAT",
    "...STRING -> STRING",
    "...BYTES -> BYTES",
    null_propagating=False,
    description="The arguments joined; NULLs are skipped.",
)
def concat(*parts: str | bytes | None) -> str | bytes:
    values = [p for p in parts if p is not None]
    if values and isinstance(values[0], bytes):
        return b"".join(values)  # type: ignore[arg-type]
    return "".join(values)  # type: ignore[arg-type]


@fn(
    "CONCAT_WS",
    "STRING, ...STRING -> STRING",
    "BYTES, ...BYTES -> BYTES",
    null_propagating=False,
    description="The arguments joined by a separator; NULLs are skipped.",
)
def concat_ws(sep: str | bytes | None, *parts: str | bytes | None) -> str | bytes | None:
    if sep is None:
        return None
    values: list[Any] = [p for p in parts if p is not None]
    return sep.join(values)


@fn(
    "REPLACE",
    "STRING, STRING, STRING -> STRING",
    description="The string with every occurrence of a substring replaced.",
)
def replace(s: str, old: str, new: str) -> str:
    return s.replace(old, new)


@fn(
    "SPLIT",
    "STRING, STRING -> ARRAY<STRING>",
    "BYTES, BYTES -> ARRAY<BYTES>",
    description="The string split by a delimiter (an empty delimiter splits into characters).",
)
def split(s: str, delimiter: str) -> list[str]:
    if not delimiter:
        return list(s)
    return s.split(delimiter)


@fn(
    "SPLIT_TO_MAP",
    "STRING, STRING, STRING -> MAP<STRING, STRING>",
    description="A map from 'k1=v1,k2=v2' given the entry and key-value delimiters.",
)
def split_to_map(s: str, entry_delim: str, kv_delim: str) -> dict[str, str]:
    out = {}
    for entry in s.split(entry_delim):
        if kv_delim in entry:
            k, v = entry.split(kv_delim, 1)
            out[k] = v
    return out


def _pad(s: str, length: int, pad: str, left: bool) -> str | None:
    if length < 0 or (not pad and length > len(s)):
        return None
    if length <= len(s):
        return s[:length]
    filler = (pad * (length // max(len(pad), 1) + 1))[: length - len(s)]
    return filler + s if left else s + filler


@fn("LPAD", "STRING, INT, STRING -> STRING", description="The string left-padded to a length (or truncated).")
def lpad(s: str, length: int, pad: str) -> str | None:
    return _pad(s, length, pad, True)


@fn(
    "RPAD", "STRING, INT, STRING -> STRING", description="The string right-padded to a length (or truncated)."
)
def rpad(s: str, length: int, pad: str) -> str | None:
    return _pad(s, length, pad, False)


def _mask_char(c: str, upper: str = "X", lower: str = "x", digit: str = "n", other: str = "-") -> str:
    if c.isupper():
        return upper
    if c.islower():
        return lower
    if c.isdigit():
        return digit
    return other


def _mask(s: str, chars: tuple[str | None, ...] = ()) -> str:
    masks = ["X", "x", "n", "-"]
    for i, c in enumerate(chars[:4]):
        if c is not None:
            masks[i] = c
    return "".join(_mask_char(c, *masks) for c in s)


_MASK_SIGS = (
    "STRING -> STRING",
    "STRING, STRING -> STRING",
    "STRING, STRING, STRING -> STRING",
    "STRING, STRING, STRING, STRING -> STRING",
    "STRING, STRING, STRING, STRING, STRING -> STRING",
)


@fn(
    "MASK",
    *_MASK_SIGS,
    description="Upper-case letters to X, lower-case to x, digits to n, others to - (replacements optional).",
)
def mask(s: str, *chars: str) -> str:
    return _mask(s, chars)


def _n_sigs() -> tuple[str, ...]:
    """MASK_* signatures: (STRING, INT) then up to four replacement characters."""
    return tuple("STRING, INT" + ", STRING" * extra + " -> STRING" for extra in range(5))


@fn("MASK_LEFT", *_n_sigs(), description="MASK applied to the first n characters.")
def mask_left(s: str, n: int, *chars: str) -> str:
    return _mask(s[:n], chars) + s[n:]


@fn("MASK_RIGHT", *_n_sigs(), description="MASK applied to the last n characters.")
def mask_right(s: str, n: int, *chars: str) -> str:
    cut = max(len(s) - n, 0)
    return s[:cut] + _mask(s[cut:], chars)


@fn("MASK_KEEP_LEFT", *_n_sigs(), description="MASK applied to all but the first n characters.")
def mask_keep_left(s: str, n: int, *chars: str) -> str:
    return s[:n] + _mask(s[n:], chars)


@fn("MASK_KEEP_RIGHT", *_n_sigs(), description="MASK applied to all but the last n characters.")
def mask_keep_right(s: str, n: int, *chars: str) -> str:
    cut = max(len(s) - n, 0)
    return _mask(s[:cut], chars) + s[cut:]


@fn(
    "REGEXP_EXTRACT",
    "STRING, STRING -> STRING",
    "STRING, STRING, INT -> STRING",
    description="The first match of a regular expression (or of one of its groups).",
)
def regexp_extract(s: str, pattern: str, group: int = 0) -> str | None:
    m = _regex(pattern).search(s)
    return m.group(group) if m else None


@fn(
    "REGEXP_EXTRACT_ALL",
    "STRING, STRING -> ARRAY<STRING>",
    "STRING, STRING, INT -> ARRAY<STRING>",
    description="Every match of a regular expression (or of one of its groups).",
)
def regexp_extract_all(s: str, pattern: str, group: int = 0) -> list[str]:
    return [m.group(group) for m in _regex(pattern).finditer(s)]


@fn(
    "REGEXP_REPLACE",
    "STRING, STRING, STRING -> STRING",
    description="The string with every match of a regular expression replaced.",
)
def regexp_replace(s: str, pattern: str, replacement: str) -> str:
    return _regex(pattern).sub(re.sub(r"\$(\d)", r"\\\1", replacement), s)


@fn(
    "REGEXP_SPLIT_TO_ARRAY",
    "STRING, STRING -> ARRAY<STRING>",
    description="The string split around matches of a regular expression.",
)
def regexp_split_to_array(s: str, pattern: str) -> list[str]:
    return _regex(pattern).split(s)


@fn(
    "CHR",
    "INT -> STRING",
    "STRING -> STRING",
    description="The character of a code point (an int, or a string like '\\u0041').",
)
def chr_(code: int | str) -> str | None:
    if isinstance(code, str):
        if code.startswith("\\u"):
            return chr(int(code[2:], 16))
        return None
    return chr(code)


@fn("UUID", " -> STRING", description="A random UUID.")
def uuid_() -> str:
    return str(uuid.uuid4())


@fn(
    "ELT",
    "INT, ...STRING -> STRING",
    null_propagating=False,
    description="The n-th (1-based) of the strings that follow, NULL if out of range.",
)
def elt(n: int | None, *items: str | None) -> str | None:
    if n is None or n < 1 or n > len(items):
        return None
    return items[n - 1]


@fn(
    "FIELD",
    "STRING, ...STRING -> INT",
    null_propagating=False,
    description="The 1-based position of the first argument among the others, 0 if absent.",
)
def field(s: str | None, *items: str | None) -> int:
    if s is None:
        return 0
    for i, item in enumerate(items):
        if item == s:
            return i + 1
    return 0
