"""Broker-side schema validation: Confluent Server's ``confluent.value.schema.validation`` and
``confluent.key.schema.validation`` topic configs.

On a topic that sets one of them, every record of a produced batch must carry, in Confluent's wire
format (magic byte 0 + schema id), a schema id registered under the subject the topic's
``confluent.{key,value}.subject.name.strategy`` names, in the schema registry named by the broker
config ``confluent.schema.registry.url``: TopicNameStrategy (the default) ``<topic>-value`` /
``<topic>-key``; RecordNameStrategy the schema's record name; TopicRecordNameStrategy
``<topic>-<record name>``. A record name is the Avro named type's full name, the JSON Schema's
``title``, or the full name of a Protobuf message of the schema (any of them: the broker does not
read the message indexes after the id, so a Protobuf id passes if it is registered under the
subject of one of its messages). A batch with a record that does not (not framed, an
unknown id, an id of another subject) is refused whole with INVALID_RECORD and one record error per
failing record, as Kafka's own record validation reports; null keys and null values (tombstones)
carry no schema and pass.

The broker never imports the registry: it asks it over HTTP (``GET /schemas/ids/{id}/subjects``,
and for the record strategies ``GET /schemas/ids/{id}?format=serialized`` for the record names),
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

KEY_STRATEGY = "confluent.key.subject.name.strategy"
VALUE_STRATEGY = "confluent.value.subject.name.strategy"
RECORD_RULE = "\x00"
"""A subject *rule* ``"\0" + prefix`` (record strategies) is met by ``prefix + <a record name of the
schema>``; any other rule is the subject itself. Subjects never hold control characters."""


class SchemaValidation:
    def __init__(self, registry_url: str | None, clock: Clock) -> None:
        self.url = registry_url.rstrip("/") if registry_url else None
        self.clock = clock
        self._subjects: dict[int, tuple[frozenset[str] | None, int]] = {}  # id → (subjects, fetched at)
        self._refused: dict[tuple[int, str], int] = {}  # (id, subject) → when the registry said no
        self._names: dict[int, tuple[frozenset[str] | None, int]] = {}  # id → (record names, fetched at)
        self._flags_of: Mapping[str, Mapping[str, str]] | None = None
        self._flags: dict[str, Flags] = {}
        self._strategies: dict[str, tuple[str, str]] = {}  # topic → (key, value) strategy, if not TopicName

    # --- which topics --------------------------------------------------------------------------

    def flags(self, topic_configs: Mapping[str, Mapping[str, str]], topic: str) -> Flags:
        """(validate keys, validate values) for ``topic``; rebuilt only when the configs change."""
        if topic_configs is not self._flags_of:
            self._flags = {
                name: (_true(configs.get(KEY_CONFIG)), _true(configs.get(VALUE_CONFIG)))
                for name, configs in topic_configs.items()
                if _true(configs.get(KEY_CONFIG)) or _true(configs.get(VALUE_CONFIG))
            }
            self._strategies = {
                name: (_strategy(configs.get(KEY_STRATEGY)), _strategy(configs.get(VALUE_STRATEGY)))
                for name, configs in topic_configs.items()
                if name in self._flags
            }
            self._flags_of = topic_configs
        return self._flags.get(topic, NO_FLAGS)

    def any_topic(self, topic_configs: Mapping[str, Mapping[str, str]]) -> bool:
        self.flags(topic_configs, "")
        return bool(self._flags)

    def rule(self, topic: str, field: str) -> str:
        """The subject (rule) a ``field`` ("key"/"value") id of ``topic`` must be registered under."""
        strategy = self._strategies.get(topic, (TOPIC, TOPIC))[0 if field == "key" else 1]
        if strategy == RECORD:
            return RECORD_RULE
        if strategy == TOPIC_RECORD:
            return f"{RECORD_RULE}{topic}-"
        return f"{topic}-{field}"

    # --- the registry --------------------------------------------------------------------------

    def _fresh(self, schema_id: int, subject: str, now: int) -> bool:
        """Can the cache answer for this id and subject? A "yes" holds 5 minutes; a "no" only 5 s,
        and only if it was asked for this very subject: the same schema registered under another
        topic's subject a moment ago must be accepted at once."""
        entry = self._subjects.get(schema_id)
        if subject.startswith(RECORD_RULE):
            names = self._names.get(schema_id)
            if entry is not None and names is not None:
                fetched = min(entry[1], names[1])
                accepted = self._accepts(schema_id, subject)
                if accepted is None:
                    return now - fetched < UNREACHABLE_TTL_MS
                if accepted:
                    return now - fetched < KNOWN_TTL_MS
        elif entry is not None:
            subjects, fetched = entry
            if subjects is None:
                return now - fetched < UNREACHABLE_TTL_MS
            if subject in subjects:
                return now - fetched < KNOWN_TTL_MS
        refused = self._refused.get((schema_id, subject))
        return refused is not None and now - refused < UNKNOWN_TTL_MS

    def _accepts(self, schema_id: int, rule: str) -> bool | None:
        """Is ``schema_id`` registered under the subject ``rule`` names? None: not known (unreachable)."""
        entry = self._subjects.get(schema_id)
        subjects = entry[0] if entry is not None else None
        if subjects is None:
            return None
        if not rule.startswith(RECORD_RULE):
            return rule in subjects
        names_entry = self._names.get(schema_id)
        names = names_entry[0] if names_entry is not None else None
        if names is None:
            return None
        prefix = rule[len(RECORD_RULE) :]
        return any(prefix + name in subjects for name in names)

    def uncached(self, wanted: Iterable[tuple[int, str]]) -> set[tuple[int, str]]:
        now = self.clock.now_ms()
        return {
            (schema_id, subject) for schema_id, subject in wanted if not self._fresh(schema_id, subject, now)
        }

    async def fetch(self, wanted: Iterable[tuple[int, str]]) -> None:
        """Ask the registry about these (id, subject) pairs, off the event loop; cache the answers."""
        pairs = sorted(wanted)[:64]
        ids = sorted({schema_id for schema_id, _ in pairs})
        named = sorted({schema_id for schema_id, rule in pairs if rule.startswith(RECORD_RULE)})
        results = await asyncio.gather(
            *(asyncio.to_thread(self._lookup, i) for i in ids),
            *(asyncio.to_thread(self._lookup_names, i) for i in named),
        )
        now = self.clock.now_ms()
        for schema_id, subjects in zip(ids, results[: len(ids)], strict=True):
            self._subjects[schema_id] = (subjects, now)
        for schema_id, names in zip(named, results[len(ids) :], strict=True):
            self._names[schema_id] = (names, now)
        for schema_id, subject in pairs:
            if self._accepts(schema_id, subject) is False:
                self._refused[(schema_id, subject)] = now
        if len(self._refused) > MAX_REFUSED:
            self._refused = {k: t for k, t in self._refused.items() if now - t < UNKNOWN_TTL_MS}

    def _get(self, path: str, schema_id: int) -> tuple[bool, object] | None:
        """GET ``path`` on the registry: (True, its JSON body), (False, None) if it answers 404, None
        if it cannot be asked (no URL, unreachable, another error status, a body that is not JSON)."""
        if self.url is None:
            return None
        import urllib.error  # (with http.client and email: loaded by the first lookup, not at start)
        import urllib.request

        try:
            with urllib.request.urlopen(f"{self.url}{path}", timeout=LOOKUP_TIMEOUT_S) as response:
                return True, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return False, None
            log.warning("schema registry %s answered %d for id %d", self.url, exc.code, schema_id)
            return None
        except (OSError, ValueError) as exc:
            log.warning("schema registry %s unreachable: %s", self.url, exc)
            return None

    def _lookup(self, schema_id: int) -> frozenset[str] | None:
        """Subjects of ``schema_id``; empty if unknown; None if the registry cannot be asked."""
        answer = self._get(f"/schemas/ids/{schema_id}/subjects", schema_id)
        if answer is None:
            return None
        found, subjects = answer
        if not found:
            return frozenset()
        return frozenset(s for s in subjects if isinstance(s, str)) if isinstance(subjects, list) else None

    def _lookup_names(self, schema_id: int) -> frozenset[str] | None:
        """Record names of ``schema_id``'s schema; empty if unknown or unnamed; None if unreachable."""
        answer = self._get(f"/schemas/ids/{schema_id}?format=serialized", schema_id)
        if answer is None:
            return None
        found, body = answer
        if not found or not isinstance(body, dict) or not isinstance(body.get("schema"), str):
            return frozenset()
        return record_names(str(body.get("schemaType") or "AVRO"), body["schema"])

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
        key_rule, value_rule = self.rule(topic, "key"), self.rule(topic, "value")
        for key_id, value_id in pairs:
            if flags[0] and key_id is not None and key_id != NOT_FRAMED:
                out.add((key_id, key_rule))
            if flags[1] and value_id is not None and value_id != NOT_FRAMED:
                out.add((value_id, value_rule))
        return out

    def _verdict(self, schema_id: int, field: str, subject: str) -> str | None:
        """None if ``schema_id`` is registered under ``subject``; else why not, or UNREACHABLE."""
        if schema_id == NOT_FRAMED:
            return f"the {field} is not in the schema registry's wire format"
        accepted = self._accepts(schema_id, subject)
        if accepted is None:
            if self.url is None:
                return f"the {field}'s schema id {schema_id} cannot be verified: no registry"
            return UNREACHABLE
        if accepted:
            return None
        if not subject.startswith(RECORD_RULE):
            return f"the {field}'s schema id {schema_id} is not registered under {subject}"
        names = sorted(self._names[schema_id][0] or ())
        if not names:
            return (
                f"the {field}'s schema id {schema_id} names no record (needed by the subject name strategy)"
            )
        prefix = subject[len(RECORD_RULE) :]
        expected = " or ".join(prefix + name for name in names)
        return f"the {field}'s schema id {schema_id} is not registered under {expected}"

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
        fields = ((0, "key", self.rule(topic, "key")), (1, "value", self.rule(topic, "value")))
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
TOPIC, RECORD, TOPIC_RECORD = "TopicNameStrategy", "RecordNameStrategy", "TopicRecordNameStrategy"


def _strategy(value: str | None) -> str:
    """The strategy's short name from Confluent's class name (or the short name itself)."""
    name = (value or TOPIC).strip().rsplit(".", 1)[-1]
    return name if name in (RECORD, TOPIC_RECORD) else TOPIC


def record_names(schema_type: str, text: str) -> frozenset[str]:
    """The record names the record subject strategies derive from a schema: an Avro named type's
    full name (a primitive's type name), a JSON Schema's ``title``, every Protobuf message's full
    name (``text`` a base64 ``FileDescriptorProto``, as ``format=serialized`` answers)."""
    if schema_type.upper() == "PROTOBUF":
        return _protobuf_names(text)
    try:
        schema = json.loads(text)
    except ValueError:
        return frozenset()
    if schema_type.upper() == "JSON":
        title = schema.get("title") if isinstance(schema, dict) else None
        return frozenset({title}) if isinstance(title, str) and title else frozenset()
    if isinstance(schema, str):
        return frozenset({schema})
    if isinstance(schema, dict):
        name, kind = schema.get("name"), schema.get("type")
        if isinstance(name, str) and kind in ("record", "error", "enum", "fixed"):
            namespace = schema.get("namespace")
            if "." in name or not isinstance(namespace, str) or not namespace:
                return frozenset({name})
            return frozenset({f"{namespace}.{name}"})
        if isinstance(kind, str) and name is None:
            return frozenset({kind})
    return frozenset()


def _protobuf_names(text: str) -> frozenset[str]:
    import base64
    import binascii

    from google.protobuf import descriptor_pb2
    from google.protobuf.message import DecodeError

    try:
        file = descriptor_pb2.FileDescriptorProto.FromString(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError, DecodeError):
        return frozenset()
    names: set[str] = set()

    def walk(messages: Iterable[descriptor_pb2.DescriptorProto], scope: str) -> None:
        for message in messages:
            full = f"{scope}.{message.name}" if scope else message.name
            if not message.options.map_entry:
                names.add(full)
            walk(message.nested_type, full)

    walk(file.message_type, file.package)
    return frozenset(names)


def _true(value: str | None) -> bool:
    return value is not None and value.strip().lower() == "true"
