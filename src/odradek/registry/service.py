"""`RegistryService`: the registry's operations over the store, the log and the election.

Reads run on any instance once it has caught up with `_schemas` (the end offset as of the request;
concurrent requests share one query of it, and a schema id already known is answered at once,
since ids never change). Writes run on the primary only, one at a time, each as one transaction
read back into the store before it is answered; the API forwards writes that reach a secondary.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from confluent_kafka import KafkaException

from odradek.model.ids import SchemaId
from odradek.registry import errors, records
from odradek.registry.compatibility import Finding, check
from odradek.registry.config import RegistryConfig
from odradek.registry.election import Election
from odradek.registry.formats.base import ParsedSchema
from odradek.registry.kafka_log import Record, SchemaLog
from odradek.registry.model import (
    CompatibilityLevel,
    Mode,
    Schema,
    SchemaType,
    SchemaVersion,
    context_of,
)
from odradek.registry.parsing import SchemaParser
from odradek.registry.store import SchemaStore

log = logging.getLogger("odradek.registry")


class RegistryService:
    def __init__(self, config: RegistryConfig, url: str) -> None:
        self.config = config
        self.url = url
        self.store = SchemaStore(config.compatibility)
        self.parser = SchemaParser(self.store)
        self.log = SchemaLog(config, self._apply)
        self.election = Election(config, url, self._primary_changed)
        self.write_lock = asyncio.Lock()
        self.writable = asyncio.Event()
        self.started = False
        self._catch_up: asyncio.Future[None] | None = None
        self._claim: asyncio.Task[None] | None = None
        self._identity: dict[tuple[str, SchemaType, str, tuple[Any, ...]], SchemaId] = {}
        self._indexed: set[tuple[str, SchemaId]] = set()
        self._normalized_identity: dict[tuple[str, SchemaType, str, tuple[Any, ...]], SchemaId] = {}

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        await self.log.start()
        await self.election.start()
        self.started = True

    async def stop(self) -> None:
        if self._claim is not None:
            self._claim.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._claim
        await self.election.stop()
        await self.log.stop()

    def _apply(self, batch: list[Record]) -> None:
        for key, value, offset in batch:
            self.store.apply(key, value, offset)

    def _primary_changed(self, primary: bool) -> None:
        self.writable.clear()
        if self._claim is not None:
            self._claim.cancel()
            self._claim = None
        if primary:
            self._claim = asyncio.get_running_loop().create_task(self._become_primary())
        else:
            self.log.release()

    async def _become_primary(self) -> None:
        while True:
            try:
                await self.log.claim()
            except (KafkaException, TimeoutError) as exc:
                log.warning("claiming the primary role: %s; retrying", exc)
                await asyncio.sleep(1)
                continue
            self.writable.set()
            log.info("primary: writes enabled")
            return

    # --- catching up -------------------------------------------------------------------------

    def caught_up(self) -> bool:
        return self.store.offset >= 0 or self.log.position > 0

    async def sync(self) -> None:
        """Wait until the store has read `_schemas` to its end as of now (shared by concurrent callers)."""
        if self._catch_up is None or self._catch_up.done():
            self._catch_up = asyncio.ensure_future(self._sync_once())
        try:
            await asyncio.shield(self._catch_up)
        except (KafkaException, TimeoutError) as exc:
            raise errors.timed_out(f"reading {self.config.topic}: {exc}") from exc

    async def _sync_once(self) -> None:
        end = await self.log.end_offset()
        await self.log.wait_for(end, self.config.timeout_s)

    # --- parsing helpers ---------------------------------------------------------------------

    def parse(self, schema: Schema) -> ParsedSchema:
        return self.parser.parse(schema)

    def _live_parsed(self, subject: str) -> list[tuple[int, ParsedSchema]]:
        out = []
        for entry in self.store.subject_versions(subject):
            try:
                out.append((entry.version, self.parse(entry.schema)))
            except errors.RegistryError:
                log.warning("stored schema %s version %d does not parse; skipped", subject, entry.version)
        return out

    def _identity_key(
        self, context: str, parsed: ParsedSchema, schema: Schema, normalize: bool
    ) -> tuple[str, SchemaType, str, tuple[Any, ...]]:
        refs = tuple((r.name, r.subject, r.version) for r in schema.references)
        return (context, schema.schema_type, parsed.identity(normalize), refs)

    def _index_ids(self) -> None:
        for (context, schema_id), schema in list(self.store.schemas.items()):
            if (context, schema_id) in self._indexed:
                continue
            self._indexed.add((context, schema_id))
            try:
                parsed = self.parse(schema)
            except errors.RegistryError:
                continue
            self._identity.setdefault(self._identity_key(context, parsed, schema, False), schema_id)
            self._normalized_identity.setdefault(self._identity_key(context, parsed, schema, True), schema_id)

    def existing_id(
        self, context: str, schema: Schema, parsed: ParsedSchema, normalize: bool
    ) -> SchemaId | None:
        exact = self.store.find_id(context, schema)
        if exact is not None:
            return exact
        self._index_ids()
        index = self._normalized_identity if normalize else self._identity
        found = index.get(self._identity_key(context, parsed, schema, normalize))
        if found is not None and self.store.schema(context, found) is None:
            return None  # hard-deleted since it was indexed
        return found

    def find_in_subject(
        self,
        subject: str,
        schema: Schema,
        parsed: ParsedSchema,
        normalize: bool,
        include_deleted: bool = False,
    ) -> SchemaVersion | None:
        identity = parsed.identity(normalize)
        for entry in reversed(self.store.subject_versions(subject, include_deleted)):
            if (
                entry.schema.schema_type is not schema.schema_type
                or entry.schema.references != schema.references
            ):
                continue
            if entry.schema.text == schema.text:
                return entry
            try:
                if self.parse(entry.schema).identity(normalize) == identity:
                    return entry
            except errors.RegistryError:
                continue
        return None

    # --- compatibility -----------------------------------------------------------------------

    def findings(
        self, subject: str, parsed: ParsedSchema, level: CompatibilityLevel, version: int | None = None
    ) -> list[Finding]:
        previous = self._live_parsed(subject)
        if version is not None:
            previous = [(v, p) for v, p in previous if v == version]
            if level is not CompatibilityLevel.NONE:
                level = CompatibilityLevel(level.value.removesuffix("_TRANSITIVE"))
        return check(level, parsed, previous)

    # --- writes (primary) --------------------------------------------------------------------

    async def append(self, items: list[tuple[bytes, bytes | None]]) -> None:
        try:
            await self.log.append(items)
        except KafkaException as exc:
            raise errors.store_error(str(exc.args[0].str() if exc.args else exc)) from exc
        except TimeoutError as exc:
            raise errors.timed_out("the write was not read back in time") from exc

    def check_writable(self, subject: str | None, config_change: bool = False) -> None:
        """READONLY refuses schema changes; READONLY_OVERRIDE refuses config changes too."""
        mode = self.store.mode(subject)
        if mode is Mode.READONLY_OVERRIDE or (mode is Mode.READONLY and not config_change):
            where = f"Subject {subject}" if subject else "The registry"
            raise errors.operation_not_permitted(f"{where} is in read-only mode")

    def schema_record(self, entry: SchemaVersion) -> tuple[bytes, bytes]:
        return (
            records.encode_key(records.SchemaKey(entry.subject, entry.version)),
            records.encode_schema_value(entry),
        )

    def context(self, subject: str) -> str:
        return context_of(subject)
