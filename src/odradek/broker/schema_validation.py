"""Broker-side schema validation: Confluent Server's ``confluent.value.schema.validation`` and
``confluent.key.schema.validation`` topic configs.

On a topic that sets one of them, every record of a produced batch must carry, in Confluent's wire
format (magic byte 0 + schema id), a schema id registered under the topic's subject
(TopicNameStrategy: ``<topic>-value`` / ``<topic>-key``) in the schema registry named by the broker
config ``confluent.schema.registry.url``. A batch with a record that does not (not framed, an
unknown id, an id of another subject) is refused whole with INVALID_RECORD and one record error per
failing record, as Kafka's own record validation reports; null keys and null values (tombstones)
carry no schema and pass.

The broker never imports the registry: it asks it over HTTP (``GET /schemas/ids/{id}/subjects``),
from a worker thread (stdlib urllib), never on the event loop, and caches the answers per id:
"registered under this subject" for 5 minutes, "not registered under this subject" (or an unknown
id) for 5 seconds (so a schema registered a moment later is accepted soon), an unreachable registry
for 1 second. A
Produce request meeting an id that is not cached waits for the lookup (its connection's later
requests queue behind it, so order is kept) and is then validated from the cache; while the registry
cannot be reached such batches get the retriable REQUEST_TIMED_OUT, so producers retry instead of
losing records.

Cost: a topic without the configs pays one dictionary lookup per partition of a request; a validated
topic pays a walk of its records (decompressed if needed) and a cache lookup per distinct id, the one
place the broker reads record bodies on the Produce path (measured in bench/registry_bench.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping

from odradek.model.clock import Clock
from odradek.model.errors import ErrorCode
from odradek.protocol.batch_validation import Rejection
from odradek.protocol.records import BatchHeader, CorruptBatchError, records_payload
from odradek.protocol.schema_ids import NOT_FRAMED, schema_ids

log = logging.getLogger("odradek.broker.schema_validation")

KEY_CONFIG = "confluent.key.schema.validation"
VALUE_CONFIG = "confluent.value.schema.validation"
KNOWN_TTL_MS = 300_000
UNKNOWN_TTL_MS = 5_000
UNREACHABLE_TTL_MS = 1_000
LOOKUP_TIMEOUT_S = 5.0
MAX_RECORD_ERRORS = 20
MAX_REFUSED = 10_000
NO_FLAGS = (False, False)

Flags = tuple[bool, bool]  # (keys, values)


class SchemaValidation:
    def __init__(self, registry_url: str | None, clock: Clock) -> None:
        self.url = registry_url.rstrip("/") if registry_url else None
        self.clock = clock
        self._subjects: dict[int, tuple[frozenset[str] | None, int]] = {}  # id → (subjects, fetched at)
        self._refused: dict[tuple[int, str], int] = {}  # (id, subject) → when the registry said no
        self._flags_of: Mapping[str, Mapping[str, str]] | None = None
        self._flags: dict[str, Flags] = {}

    # --- which topics --------------------------------------------------------------------------

    def flags(self, topic_configs: Mapping[str, Mapping[str, str]], topic: str) -> Flags:
        """(validate keys, validate values) for ``topic``; rebuilt only when the configs change."""
        if topic_configs is not self._flags_of:
            self._flags = {
                name: (_true(configs.get(KEY_CONFIG)), _true(configs.get(VALUE_CONFIG)))
                for name, configs in topic_configs.items()
                if _true(configs.get(KEY_CONFIG)) or _true(configs.get(VALUE_CONFIG))
            }
            self._flags_of = topic_configs
        return self._flags.get(topic, NO_FLAGS)

    def any_topic(self, topic_configs: Mapping[str, Mapping[str, str]]) -> bool:
        self.flags(topic_configs, "")
        return bool(self._flags)

    # --- the registry --------------------------------------------------------------------------

    def _fresh(self, schema_id: int, subject: str, now: int) -> bool:
        """Can the cache answer for this id and subject? A "yes" holds 5 minutes; a "no" only 5 s,
        and only if it was asked for this very subject: the same schema registered under another
        topic's subject a moment ago must be accepted at once."""
        entry = self._subjects.get(schema_id)
        if entry is not None:
            subjects, fetched = entry
            if subjects is None:
                return now - fetched < UNREACHABLE_TTL_MS
            if subject in subjects:
                return now - fetched < KNOWN_TTL_MS
        refused = self._refused.get((schema_id, subject))
        return refused is not None and now - refused < UNKNOWN_TTL_MS

    def uncached(self, wanted: Iterable[tuple[int, str]]) -> set[tuple[int, str]]:
        now = self.clock.now_ms()
        return {
            (schema_id, subject) for schema_id, subject in wanted if not self._fresh(schema_id, subject, now)
        }

    async def fetch(self, wanted: Iterable[tuple[int, str]]) -> None:
        """Ask the registry about these (id, subject) pairs, off the event loop; cache the answers."""
        pairs = sorted(wanted)[:64]
        ids = sorted({schema_id for schema_id, _ in pairs})
        results = await asyncio.gather(*(asyncio.to_thread(self._lookup, i) for i in ids))
        now = self.clock.now_ms()
        for schema_id, subjects in zip(ids, results, strict=True):
            self._subjects[schema_id] = (subjects, now)
        for schema_id, subject in pairs:
            subjects = self._subjects[schema_id][0]
            if subjects is not None and subject not in subjects:
                self._refused[(schema_id, subject)] = now
        if len(self._refused) > MAX_REFUSED:
            self._refused = {k: t for k, t in self._refused.items() if now - t < UNKNOWN_TTL_MS}

    def _lookup(self, schema_id: int) -> frozenset[str] | None:
        """Subjects of ``schema_id``; empty if unknown; None if the registry cannot be asked."""
        if self.url is None:
            return None
        url = f"{self.url}/schemas/ids/{schema_id}/subjects"
        try:
            with urllib.request.urlopen(url, timeout=LOOKUP_TIMEOUT_S) as response:
                subjects = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return frozenset()
            log.warning("schema registry %s answered %d for id %d", self.url, exc.code, schema_id)
            return None
        except (OSError, ValueError) as exc:
            log.warning("schema registry %s unreachable: %s", self.url, exc)
            return None
        return frozenset(s for s in subjects if isinstance(s, str)) if isinstance(subjects, list) else None

    # --- batches -------------------------------------------------------------------------------

    def ids_of(
        self, topic: str, records: memoryview, header: BatchHeader, flags: Flags
    ) -> set[tuple[int, str]]:
        """(schema id, subject) of the batch's validated fields (empty if unreadable)."""
        if header.is_control:
            return set()
        try:
            pairs = schema_ids(records_payload(records, 0, header), header.record_count)
        except (CorruptBatchError, ValueError):
            return set()
        out: set[tuple[int, str]] = set()
        for key_id, value_id in pairs:
            if flags[0] and key_id is not None and key_id != NOT_FRAMED:
                out.add((key_id, f"{topic}-key"))
            if flags[1] and value_id is not None and value_id != NOT_FRAMED:
                out.add((value_id, f"{topic}-value"))
        return out

    def _verdict(self, schema_id: int, field: str, subject: str) -> str | None:
        """None if ``schema_id`` is registered under ``subject``; else why not, or UNREACHABLE."""
        if schema_id == NOT_FRAMED:
            return f"the {field} is not in the schema registry's wire format"
        entry = self._subjects.get(schema_id)
        subjects = entry[0] if entry is not None else None
        if subjects is None:
            if self.url is None:
                return f"the {field}'s schema id {schema_id} cannot be verified: no registry"
            return UNREACHABLE
        if subject not in subjects:
            return f"the {field}'s schema id {schema_id} is not registered under {subject}"
        return None

    def check(self, topic: str, records: memoryview, header: BatchHeader, flags: Flags) -> Rejection | None:
        """None if every record passes; the batch's rejection otherwise (ids must be cached)."""
        if header.is_control:
            return None
        try:
            pairs = schema_ids(records_payload(records, 0, header), header.record_count)
        except (CorruptBatchError, ValueError) as exc:
            return Rejection(ErrorCode.CORRUPT_MESSAGE, str(exc))
        errors: list[tuple[int, str]] = []
        unreachable = False
        verdicts: dict[tuple[int, int], str | None] = {}  # (field, id) → None (fine) or the reason
        fields = ((0, "key", f"{topic}-key"), (1, "value", f"{topic}-value"))
        for index, pair in enumerate(pairs):
            for field, name, subject in fields:
                schema_id = pair[field]
                if not flags[field] or schema_id is None:
                    continue
                verdict = verdicts.get((field, schema_id), "")
                if verdict == "":
                    verdict = self._verdict(schema_id, name, subject)
                    verdicts[(field, schema_id)] = verdict
                if verdict is None:
                    continue
                if verdict == UNREACHABLE:
                    unreachable = True
                else:
                    errors.append((index, verdict))
        if errors:
            shown = "; ".join(f"record {i}: {text}" for i, text in errors[:3])
            return Rejection(
                ErrorCode.INVALID_RECORD,
                f"{len(errors)} record(s) failed schema validation: {shown}",
                tuple(errors[:MAX_RECORD_ERRORS]),
            )
        if unreachable:
            where = self.url or "(confluent.schema.registry.url is not set)"
            return Rejection(ErrorCode.REQUEST_TIMED_OUT, f"schema registry {where} could not be asked")
        return None


UNREACHABLE = "unreachable"


def _true(value: str | None) -> bool:
    return value is not None and value.strip().lower() == "true"
