"""Java `DateTimeFormatter` patterns (what ksqlDB's date functions take), formatted and parsed in Python.

Supported letters: y/u (year), M (month: M, MM, MMM, MMMM), d (day), D (day of year), H, h, k, K (hours),
m, s, S (fraction: as many digits as letters), a (AM/PM), E (day name), X/x/Z (offset), z/VV (zone id),
and 'quoted literal' text ('' is a quote). Patterns are compiled once and cached.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

_MONTHS: list[str] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DAYS: list[str] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _tokens(pattern: str) -> list[tuple[str, int] | str]:
    out: list[tuple[str, int] | str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "'":
            j = i + 1
            text = []
            while j < len(pattern):
                if pattern[j] == "'":
                    if j + 1 < len(pattern) and pattern[j + 1] == "'":
                        text.append("'")
                        j += 2
                        continue
                    break
                text.append(pattern[j])
                j += 1
            out.append("".join(text) if text or j > i + 1 else "'")
            i = j + 1
            continue
        if ch.isalpha():
            j = i
            while j < len(pattern) and pattern[j] == ch:
                j += 1
            out.append((ch, j - i))
            i = j
            continue
        out.append(ch)
        i += 1
    return out


def _offset(dt: datetime.datetime, colon: bool) -> str:
    off = dt.utcoffset() or datetime.timedelta(0)
    total = int(off.total_seconds() // 60)
    sign = "+" if total >= 0 else "-"
    h, m = divmod(abs(total), 60)
    return f"{sign}{h:02d}:{m:02d}" if colon else f"{sign}{h:02d}{m:02d}"


def _format_field(letter: str, n: int, dt: Any) -> str:
    if letter in "yu":
        return f"{dt.year % 100:02d}" if n == 2 else f"{dt.year:0{n}d}"
    if letter in "ML":
        if n >= 4:
            return str(_MONTHS[dt.month - 1])
        if n == 3:
            return str(_MONTHS[dt.month - 1][:3])
        return f"{dt.month:0{n}d}"
    if letter == "d":
        return f"{dt.day:0{n}d}"
    if letter == "D":
        return f"{dt.timetuple().tm_yday:0{n}d}"
    if letter == "E":
        name = _DAYS[dt.weekday()]
        return str(name if n >= 4 else name[:3])
    if letter == "H":
        return f"{dt.hour:0{n}d}"
    if letter == "k":
        return f"{dt.hour or 24:0{n}d}"
    if letter == "h":
        return f"{(dt.hour % 12) or 12:0{n}d}"
    if letter == "K":
        return f"{dt.hour % 12:0{n}d}"
    if letter == "m":
        return f"{dt.minute:0{n}d}"
    if letter == "s":
        return f"{dt.second:0{n}d}"
    if letter == "S":
        return f"{dt.microsecond:06d}"[:n].ljust(n, "0")
    if letter == "a":
        return "AM" if dt.hour < 12 else "PM"
    if letter in "XxZ":
        if letter == "X" and (dt.utcoffset() or datetime.timedelta(0)) == datetime.timedelta(0):
            return "Z"
        return _offset(dt, colon=(n >= 3 and letter != "Z") or (letter == "Z" and n == 5))
    if letter in "zV":
        tz = dt.tzinfo
        return getattr(tz, "key", None) or (dt.tzname() or "UTC")
    raise ValueError(f"unsupported pattern letter {letter!r}")


@functools.lru_cache(maxsize=256)
def formatter(pattern: str) -> Callable[[Any], str]:
    toks = _tokens(pattern)
    for tok in toks:
        if isinstance(tok, tuple):
            _format_field(tok[0], tok[1], datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC))

    def fmt(value: Any) -> str:
        return "".join(tok if isinstance(tok, str) else _format_field(tok[0], tok[1], value) for tok in toks)

    return fmt


_FIELD_RE = {
    "y": r"(?P<y>[+-]?\d{%s})",
    "u": r"(?P<y>[+-]?\d{%s})",
    "d": r"(?P<d>\d{1,2})",
    "D": r"(?P<D>\d{1,3})",
    "H": r"(?P<H>\d{1,2})",
    "k": r"(?P<H>\d{1,2})",
    "h": r"(?P<h>\d{1,2})",
    "K": r"(?P<h>\d{1,2})",
    "m": r"(?P<m>\d{1,2})",
    "s": r"(?P<s>\d{1,2})",
    "a": r"(?P<a>AM|PM|am|pm)",
}


@functools.lru_cache(maxsize=256)
def parser(pattern: str) -> Callable[[str], tuple[datetime.datetime, datetime.tzinfo | None]]:
    """A function parsing text in `pattern` into (naive datetime, zone or None)."""
    parts = []
    for tok in _tokens(pattern):
        if isinstance(tok, str):
            parts.append(re.escape(tok))
            continue
        letter, n = tok
        if letter in "yu":
            parts.append(_FIELD_RE[letter] % ("2" if n == 2 else "4,9"))
        elif letter in "ML":
            if n >= 3:
                parts.append(r"(?P<Mn>[A-Za-z]+)")
            else:
                parts.append(r"(?P<M>\d{1,2})")
        elif letter == "S":
            parts.append(rf"(?P<S>\d{{{n}}})")
        elif letter == "E":
            parts.append(r"[A-Za-z]+")
        elif letter in "XxZ":
            parts.append(r"(?P<X>Z|[+-]\d{2}:?\d{2}|[+-]\d{2})")
        elif letter in "zV":
            parts.append(r"(?P<z>[A-Za-z_/+\-0-9]+)")
        elif letter in _FIELD_RE:
            parts.append(_FIELD_RE[letter])
        else:
            raise ValueError(f"unsupported pattern letter {letter!r}")
    regex = re.compile("".join(parts) + r"\Z")

    def parse(text: str) -> tuple[datetime.datetime, datetime.tzinfo | None]:
        m = regex.match(text)
        if m is None:
            raise ValueError(f"Text '{text}' could not be parsed with the pattern '{pattern}'")
        g = m.groupdict()
        year = int(g.get("y") or 1970)
        if g.get("y") and len(g["y"]) == 2:
            year += 2000
        if g.get("Mn"):
            name = g["Mn"].lower()
            month = next(i + 1 for i, mo in enumerate(_MONTHS) if mo.lower().startswith(name[:3]))
        else:
            month = int(g.get("M") or 1)
        day = int(g.get("d") or 1)
        hour = int(g.get("H") or 0)
        if g.get("h") is not None:
            hour = int(g["h"]) % 12 + (12 if (g.get("a") or "AM").upper() == "PM" else 0)
        micro = int((g.get("S") or "0")[:6].ljust(6, "0"))
        dt = datetime.datetime(year, month, day, hour, int(g.get("m") or 0), int(g.get("s") or 0), micro)
        if g.get("D"):
            dt = dt.replace(month=1, day=1) + datetime.timedelta(days=int(g["D"]) - 1)
        tz: datetime.tzinfo | None = None
        if g.get("X"):
            tz = parse_offset(g["X"])
        elif g.get("z"):
            tz = zone(g["z"])
        return dt, tz

    return parse


def parse_offset(text: str) -> datetime.tzinfo:
    if text == "Z":
        return datetime.UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    h, m = int(digits[:2]), int(digits[2:4] or 0)
    return datetime.timezone(sign * datetime.timedelta(hours=h, minutes=m))


@functools.lru_cache(maxsize=128)
def zone(name: str) -> datetime.tzinfo:
    if name.upper() in ("UTC", "Z", "GMT"):
        return datetime.UTC
    if name[:1] in "+-":
        return parse_offset(name)
    return ZoneInfo(name)
