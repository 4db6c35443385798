"""Byte equality against two independent encoders: kio 0.6.5 and kafka-python 3.0.12.

For each (schema, version) both we and the oracle know: encode a random message with our codec,
decode it with the oracle (which must consume exactly those bytes), check the oracle read the same
field values we wrote, then re-encode with the oracle and require the identical bytes. Together that
is "build the oracle's object from ours field by field and encode with both".

Field values are compared as plain trees, so a tagged field we leave out because it equals *our*
default is caught when the oracle's default differs (it would read its own default, not our value).

Oracle domains. kio maps some wire integers onto richer Python types that cannot hold every value;
for kio only, those fields draw from the narrower domain (the wire format itself is unchanged):

| kio type        | wire  | values drawn for kio                              |
|-----------------|-------|---------------------------------------------------|
| `error_code`    | int16 | members of `kio.schema.errors.ErrorCode` only     |
| `timedelta_i64` | int64 | -2**53 // 1000 .. 2**53 // 1000 (kio: µs via float) |
| `datetime_i64`  | int64 | 0 .. 9999-12-31T23:59:59.999Z, and -1 if Optional |
| `uuid`          | uuid  | all values; kio reads the all-zero UUID as None    |

Skipped (schema, version) pairs are listed in KIO_SKIPS / KP_SKIPS with the reason; nothing else is
loosened.
"""

from __future__ import annotations

from typing import Any

import codec_oracle_adapters as oracles
import pytest
from codec_settings import budget
from codec_strategies import case_id, cases, messages
from hypothesis import given
from hypothesis import strategies as st

from odradek.protocol import codec
from odradek.protocol.schema import MessageSchema

KIO_SKIPS: dict[tuple[str, int], str] = {}
"""(schema name, version) -> why kio cannot serve as the oracle there."""

KP_SKIPS: dict[tuple[str, int], str] = {}
"""(schema name, version) -> why kafka-python cannot serve as the oracle there."""


def _kio_knows(schema: MessageSchema, version: int) -> bool:
    from kio.index import KioIndexError

    try:
        oracles.kio_class(schema, version)
    except (KioIndexError, ImportError):
        return False
    return True


def _kp_knows(schema: MessageSchema, version: int) -> bool:
    cls = oracles.kp_class(schema)
    if cls is None:
        return False
    valid = cls._valid_versions
    return bool(valid[0] <= version <= valid[1])


def _cases(knows: Any, skips: dict[tuple[str, int], str]) -> list[Any]:
    out = []
    for schema, version in cases():
        if not knows(schema, version):
            continue
        reason = skips.get((schema.name, version))
        marks = [pytest.mark.skip(reason=reason)] if reason else []
        out.append(pytest.param((schema, version), marks=marks, id=case_id((schema, version))))
    return out


KIO_CASES = _cases(_kio_knows, KIO_SKIPS)
KP_CASES = _cases(_kp_knows, KP_SKIPS)
_kio_overrides: dict[tuple[str, int], oracles.Override] = {}


def _kio_messages(schema: MessageSchema, version: int) -> st.SearchStrategy[Any]:
    key = (schema.name, version)
    if key not in _kio_overrides:
        _kio_overrides[key] = oracles.kio_override(schema, version)
    return messages(schema, version, _kio_overrides[key])


ONLY_KIO = [
    # kafka-python 3.0.12 has no KIP-848 messages (ours come from tools/specs/, so kio checks them)
    "ConsumerGroupHeartbeatRequest-v0",
    "ConsumerGroupHeartbeatRequest-v1",
    "ConsumerGroupHeartbeatResponse-v0",
    "ConsumerGroupHeartbeatResponse-v1",
    "ConsumerGroupDescribeRequest-v0",
    "ConsumerGroupDescribeResponse-v0",
]
ONLY_KAFKA_PYTHON: list[str] = []
NO_ORACLE = [
    # internal topic record formats (__consumer_offsets, __transaction_state), written by hand in
    # tools/specs/: neither oracle ships them, so only the round-trip and fuzz tests check them
    case_id((s, v))
    for s, v in cases()
    if s.kind == "data" and not s.name.startswith("ConsumerProtocol")
]


def test_oracle_coverage_is_what_we_expect() -> None:
    """Every API message and header version meets kio; kafka-python misses the KIP-848 messages;
    of the data schemas only the consumer protocol ones have oracles.

    Guards against an oracle silently dropping out after an upgrade of either side.
    """
    kio = {p.id for p in KIO_CASES}
    kp = {p.id for p in KP_CASES}
    every = [case_id(c) for c in cases()]
    assert len(NO_ORACLE) >= 3  # TransactionLogKey v0, TransactionLogValue v0-1 at least
    assert [c for c in every if c not in kio and c not in kp] == NO_ORACLE
    assert [c for c in every if c not in kio and c not in NO_ORACLE] == ONLY_KAFKA_PYTHON
    assert [c for c in every if c not in kp and c not in NO_ORACLE] == ONLY_KIO


@pytest.mark.parametrize("case", KIO_CASES)
@budget(3)
@given(data=st.data())
def test_kio_reads_and_rewrites_our_bytes(case: tuple[MessageSchema, int], data: Any) -> None:
    schema, version = case
    obj = data.draw(_kio_messages(schema, version))
    raw = codec.encode_bytes(schema, version, obj)
    theirs, used, again = oracles.kio_roundtrip(schema, version, raw)
    assert used == len(raw)
    assert oracles.kio_plain(theirs) == oracles.ours_plain(schema.root, version, obj)
    assert again == raw


@pytest.mark.parametrize("case", KP_CASES)
@budget(3)
@given(data=st.data())
def test_kafka_python_reads_and_rewrites_our_bytes(case: tuple[MessageSchema, int], data: Any) -> None:
    schema, version = case
    obj = data.draw(messages(schema, version))
    raw = codec.encode_bytes(schema, version, obj)
    theirs, used, again = oracles.kp_roundtrip(schema, version, raw)
    assert used == len(raw)
    assert oracles.kp_plain(theirs, version, schema.root) == oracles.ours_plain(schema.root, version, obj)
    assert again == raw
