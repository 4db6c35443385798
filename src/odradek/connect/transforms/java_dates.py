"""Java `SimpleDateFormat` patterns (what TimestampConverter/TimestampRouter configs are written
in): format a UTC datetime and parse text back. Supported letters: y M d H h m s S a E D z Z X,
quoted literals ('T', '' for a quote); others are a `ConfigException`."""

from __future__ import annotations

import datetime as dt
import re

from odradek.connect.api.errors import ConfigException, DataException

_TOKEN = re.compile(r"'([^']*)'|(([a-zA-Z])\3*)|(.)")
_MONTHS = [
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
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class JavaDateFormat:
    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.tokens: list[tuple[str, str]] = []  # (kind, text): kind "lit" or a letter run
        for match in _TOKEN.finditer(pattern):
            quoted, run, _, other = match.groups()
            if quoted is not None:
                self.tokens.append(("lit", quoted if quoted else "'"))
            elif run is not None:
                if run[0] not in "yMdHhmsSaEDzZXu":
                    raise ConfigException("format", pattern, f"Illegal pattern character '{run[0]}'")
                self.tokens.append((run, run))
            else:
                self.tokens.append(("lit", other))

    def format(self, value: dt.datetime) -> str:
        value = value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
        out: list[str] = []
        for kind, text in self.tokens:
            if kind == "lit":
                out.append(text)
                continue
            letter, width = kind[0], len(kind)
            if letter == "y":
                out.append(str(value.year % 100).zfill(2) if width == 2 else str(value.year).zfill(width))
            elif letter == "M":
                out.append(
                    _MONTHS[value.month - 1]
                    if width >= 4
                    else _MONTHS[value.month - 1][:3]
                    if width == 3
                    else str(value.month).zfill(width)
                )
            elif letter == "d":
                out.append(str(value.day).zfill(width))
            elif letter == "D":
                out.append(str(value.timetuple().tm_yday).zfill(width))
            elif letter == "H":
                out.append(str(value.hour).zfill(width))
            elif letter == "h":
                out.append(str(value.hour % 12 or 12).zfill(width))
            elif letter == "m":
                out.append(str(value.minute).zfill(width))
            elif letter == "s":
                out.append(str(value.second).zfill(width))
            elif letter == "S":
                out.append(str(value.microsecond // 1000).zfill(width))
            elif letter == "a":
                out.append("AM" if value.hour < 12 else "PM")
            elif letter == "E":
                out.append(_DAYS[value.weekday()] if width >= 4 else _DAYS[value.weekday()][:3])
            elif letter == "u":
                out.append(str(value.isoweekday()))
            elif letter == "z":
                out.append("UTC")
            elif letter == "Z":
                out.append("+0000")
            else:  # X
                out.append("Z")
        return "".join(out)

    def parse(self, text: str) -> dt.datetime:
        parts: list[str] = []
        for kind, literal in self.tokens:
            parts.append(re.escape(literal) if kind == "lit" else self._group(kind))
        match = re.fullmatch("".join(parts), text.strip())
        if match is None:
            raise DataException(
                f"Could not parse timestamp: value ({text}) does not match pattern ({self.pattern})"
            )
        fields = {"y": 1970, "M": 1, "d": 1, "H": 0, "m": 0, "s": 0, "S": 0}
        offset = dt.timedelta(0)
        pm: bool | None = None
        group = 1
        for kind, _ in self.tokens:
            if kind == "lit":
                continue
            raw = match.group(group)
            group += 1
            letter = kind[0]
            if letter == "M" and not raw.isdigit():
                fields["M"] = [m[:3].lower() for m in _MONTHS].index(raw[:3].lower()) + 1
            elif letter in "yMdHmsS":
                fields[letter] = int(raw)
            elif letter == "h":
                fields["H"] = int(raw) % 12
            elif letter == "a":
                pm = raw == "PM"
            elif letter in "zZX" and raw not in ("Z", "UTC", "GMT"):
                sign = -1 if raw[0] == "-" else 1
                digits = raw[1:].replace(":", "")
                offset = sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        if pm:
            fields["H"] += 12
        try:
            value = dt.datetime(
                fields["y"],
                fields["M"],
                fields["d"],
                fields["H"],
                fields["m"],
                fields["s"],
                fields["S"] * 1000,
                tzinfo=dt.UTC,
            )
        except ValueError as exc:
            raise DataException(f"Could not parse timestamp: value ({text}): {exc}") from exc
        return value - offset

    @staticmethod
    def _group(kind: str) -> str:
        letter = kind[0]
        if letter == "y":
            return r"(\d{2})" if len(kind) == 2 else r"(\d{4})"
        if letter == "M" and len(kind) >= 3:
            return "([A-Za-z]+)"
        if letter == "S":
            return rf"(\d{{{len(kind)}}})" if len(kind) > 1 else r"(\d{1,3})"
        if letter in "MdDHhmsu":
            return rf"(\d{{{len(kind)}}})" if len(kind) >= 2 else r"(\d{1,2})"
        if letter == "a":
            return "(AM|PM)"
        if letter == "E":
            return "([A-Za-z]+)"
        return r"(Z|[+-]\d{2}:?\d{2}|UTC|GMT)"
