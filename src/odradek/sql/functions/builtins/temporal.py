"""Date and time functions. TIMESTAMPs are naive UTC datetimes; patterns are Java DateTimeFormatter's."""

from __future__ import annotations

import datetime
import time

from odradek.sql.functions import java_time
from odradek.sql.functions.builtins import Builtins

FUNCTIONS = Builtins()
fn = FUNCTIONS.scalar

EPOCH = datetime.datetime(1970, 1, 1)
EPOCH_DATE = datetime.date(1970, 1, 1)

_UNITS = {
    "MILLISECOND": 0.001, "MILLISECONDS": 0.001, "SECOND": 1, "SECONDS": 1, "MINUTE": 60, "MINUTES": 60,
    "HOUR": 3600, "HOURS": 3600, "DAY": 86400, "DAYS": 86400,
}  # fmt: skip


def millis_to_timestamp(ms: int) -> datetime.datetime:
    return EPOCH + datetime.timedelta(milliseconds=ms)


def timestamp_to_millis(ts: datetime.datetime) -> int:
    delta = ts - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def _delta(unit: str, amount: int) -> datetime.timedelta:
    seconds = _UNITS.get(unit.upper())
    if seconds is None:
        raise ValueError(f"unknown time unit {unit}; use MILLISECONDS, SECONDS, MINUTES, HOURS or DAYS")
    return datetime.timedelta(seconds=seconds * amount)


def _in_zone(ts: datetime.datetime, zone: str) -> datetime.datetime:
    return ts.replace(tzinfo=datetime.UTC).astimezone(java_time.zone(zone))


def _to_utc(dt: datetime.datetime, tz: datetime.tzinfo | None) -> datetime.datetime:
    if tz is None:
        return dt
    aware = dt.replace(tzinfo=tz)
    return aware.astimezone(datetime.UTC).replace(tzinfo=None)


@fn(
    "UNIX_TIMESTAMP",
    " -> BIGINT",
    "TIMESTAMP -> BIGINT",
    description="Milliseconds since the epoch, now or of a timestamp.",
)
def unix_timestamp(ts: datetime.datetime | None = None) -> int:
    return int(time.time() * 1000) if ts is None else timestamp_to_millis(ts)


@fn("UNIX_DATE", " -> INT", "DATE -> INT", description="Days since the epoch, today or of a date.")
def unix_date(d: datetime.date | None = None) -> int:
    d = d or datetime.datetime.now(datetime.UTC).date()
    return (d - EPOCH_DATE).days


@fn("FROM_UNIXTIME", "BIGINT -> TIMESTAMP", description="The timestamp of milliseconds since the epoch.")
def from_unixtime(ms: int) -> datetime.datetime:
    return millis_to_timestamp(ms)


@fn("FROM_DAYS", "INT -> DATE", description="The date of days since the epoch.")
def from_days(days: int) -> datetime.date:
    return EPOCH_DATE + datetime.timedelta(days=days)


@fn(
    "FORMAT_TIMESTAMP",
    "TIMESTAMP, STRING -> STRING",
    "TIMESTAMP, STRING, STRING -> STRING",
    description="The timestamp as text in a pattern (in a time zone, UTC by default).",
)
def format_timestamp(ts: datetime.datetime, pattern: str, zone: str = "UTC") -> str:
    return java_time.formatter(pattern)(_in_zone(ts, zone))


@fn(
    "PARSE_TIMESTAMP",
    "STRING, STRING -> TIMESTAMP",
    "STRING, STRING, STRING -> TIMESTAMP",
    description="The timestamp read from text in a pattern (in a time zone, UTC by default).",
)
def parse_timestamp(text: str, pattern: str, zone: str = "UTC") -> datetime.datetime:
    dt, tz = java_time.parser(pattern)(text)
    return _to_utc(dt, tz or java_time.zone(zone))


@fn("FORMAT_DATE", "DATE, STRING -> STRING", description="The date as text in a pattern.")
def format_date(d: datetime.date, pattern: str) -> str:
    return java_time.formatter(pattern)(datetime.datetime(d.year, d.month, d.day))


@fn("PARSE_DATE", "STRING, STRING -> DATE", description="The date read from text in a pattern.")
def parse_date(text: str, pattern: str) -> datetime.date:
    return java_time.parser(pattern)(text)[0].date()


@fn("FORMAT_TIME", "TIME, STRING -> STRING", description="The time as text in a pattern.")
def format_time(t: datetime.time, pattern: str) -> str:
    return java_time.formatter(pattern)(datetime.datetime.combine(EPOCH_DATE, t))


@fn("PARSE_TIME", "STRING, STRING -> TIME", description="The time read from text in a pattern.")
def parse_time(text: str, pattern: str) -> datetime.time:
    return java_time.parser(pattern)(text)[0].time()


@fn(
    "CONVERT_TZ",
    "TIMESTAMP, STRING, STRING -> TIMESTAMP",
    description="The timestamp moved from one time zone to another.",
)
def convert_tz(ts: datetime.datetime, from_zone: str, to_zone: str) -> datetime.datetime:
    aware = ts.replace(tzinfo=java_time.zone(from_zone))
    return aware.astimezone(java_time.zone(to_zone)).replace(tzinfo=None)


@fn(
    "TIMESTAMPADD",
    "STRING, INT, TIMESTAMP -> TIMESTAMP",
    "STRING, BIGINT, TIMESTAMP -> TIMESTAMP",
    description="TIMESTAMPADD(unit, n, ts): the timestamp plus n units.",
)
def timestampadd(unit: str, n: int, ts: datetime.datetime) -> datetime.datetime:
    return ts + _delta(unit, n)


@fn(
    "TIMESTAMPSUB",
    "STRING, INT, TIMESTAMP -> TIMESTAMP",
    "STRING, BIGINT, TIMESTAMP -> TIMESTAMP",
    description="TIMESTAMPSUB(unit, n, ts): the timestamp minus n units.",
)
def timestampsub(unit: str, n: int, ts: datetime.datetime) -> datetime.datetime:
    return ts - _delta(unit, n)


@fn(
    "DATEADD",
    "STRING, INT, DATE -> DATE",
    description="DATEADD(unit, n, date): the date plus n units (DAYS or more).",
)
def dateadd(unit: str, n: int, d: datetime.date) -> datetime.date:
    return d + datetime.timedelta(days=_delta(unit, n).days)


@fn("DATESUB", "STRING, INT, DATE -> DATE", description="DATESUB(unit, n, date): the date minus n units.")
def datesub(unit: str, n: int, d: datetime.date) -> datetime.date:
    return d - datetime.timedelta(days=_delta(unit, n).days)


@fn(
    "TIMEADD",
    "STRING, INT, TIME -> TIME",
    description="TIMEADD(unit, n, time): the time plus n units, wrapping at midnight.",
)
def timeadd(unit: str, n: int, t: datetime.time) -> datetime.time:
    return (datetime.datetime.combine(EPOCH_DATE, t) + _delta(unit, n)).time()


@fn(
    "TIMESUB",
    "STRING, INT, TIME -> TIME",
    description="TIMESUB(unit, n, time): the time minus n units, wrapping at midnight.",
)
def timesub(unit: str, n: int, t: datetime.time) -> datetime.time:
    return (datetime.datetime.combine(EPOCH_DATE, t) - _delta(unit, n)).time()


# -- ksqlDB's older functions over BIGINT milliseconds and INT days --------------------------------------


@fn(
    "TIMESTAMPTOSTRING",
    "BIGINT, STRING -> STRING",
    "BIGINT, STRING, STRING -> STRING",
    description="Milliseconds since the epoch as text in a pattern.",
)
def timestamptostring(ms: int, pattern: str, zone: str = "UTC") -> str:
    return format_timestamp(millis_to_timestamp(ms), pattern, zone)


@fn(
    "STRINGTOTIMESTAMP",
    "STRING, STRING -> BIGINT",
    "STRING, STRING, STRING -> BIGINT",
    description="Text in a pattern as milliseconds since the epoch.",
)
def stringtotimestamp(text: str, pattern: str, zone: str = "UTC") -> int:
    return timestamp_to_millis(parse_timestamp(text, pattern, zone))


@fn("DATETOSTRING", "INT, STRING -> STRING", description="Days since the epoch as text in a pattern.")
def datetostring(days: int, pattern: str) -> str:
    return format_date(from_days(days), pattern)


@fn("STRINGTODATE", "STRING, STRING -> INT", description="Text in a pattern as days since the epoch.")
def stringtodate(text: str, pattern: str) -> int:
    return (parse_date(text, pattern) - EPOCH_DATE).days
