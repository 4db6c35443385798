"""v3 produce: ``POST …/topics/{t}/records`` (one record, or a stream) and ``…/records:batch``.

A record: ``{"partition_id", "headers": [{"name", "value"}], "key": {"type", "data"},
"value": {…}, "timestamp"}`` with types BINARY, JSON, STRING (and the schema-backed AVRO,
JSONSCHEMA, PROTOBUF). Its delivery report: ``{"error_code": 200, "cluster_id", "topic_name",
"partition_id", "offset", "timestamp", "key": {"type", "size"}, "value": {…}}``, or
``{"error_code": …, "message": …}`` for a record that failed.

* **One record** (a body with ``Content-Length``): the report, with the record's status as the
  HTTP status (200, or e.g. 422 for a record that does not match its format).
* **Streaming** (``Transfer-Encoding: chunked``): records as concatenated JSON for as long as the
  client sends, reports streamed back in the same order, one line each, while records still
  arrive; HTTP 200 once the stream is open. A bad record gets an error report and the stream goes
  on. At most ``stream.max.inflight.records`` records await delivery: past that the proxy stops
  reading (TCP back-pressure on the client); a record is at most ``stream.max.record.bytes``.
* **Batch** ``:batch``: ``{"entries": [{"id", …record…}]}`` → 207 ``{"successes": [{"id", …}],
  "failures": [{"id", "error_code", "message"}]}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from odradek.http import HttpError, HttpLimits, LimitedRoute, StreamResponse
from odradek.rest import content, errors, jsoncodec
from odradek.rest.concat_json import BadDocument, JsonStream
from odradek.rest.fields import array, obj, pointer, string
from odradek.rest.idempotency import Aborted, Answer, check_key, replayed_header, request_digest
from odradek.rest.kafka.producer import Delivery, OutRecord, ProducerService
from odradek.rest.produce import Refused, aborted, first_failure, produce
from odradek.rest.v2.metadata import topic_or_404
from odradek.rest.v3.common import Ctx, ctx_of
from odradek.rest.v3.produce_stream import ProduceStream
from odradek.rest.v3.records_in import OK, Kind, Resolved, parse_record, report, resolve_schemas

MULTI_STATUS = 207
MAX_BATCH_ENTRIES = 1000
NDJSON_LINE = b"\n"


def status_of_report(body: dict[str, Any]) -> int:
    code = int(body["error_code"])
    while code >= 1000:
        code //= 10
    return code


def is_streaming(request: Request) -> bool:
    return "chunked" in request.headers.get("transfer-encoding", "").lower()


async def produce_records(request: Request) -> Response | StreamResponse:
    content.require_json(request)
    ctx = await ctx_of(request)
    topic = await topic_or_404(ctx.proxy, request.path_params["topic_name"])
    if is_streaming(request):
        stream = ProduceStream(ctx, topic.name, len(topic.partitions), request)
        return StreamResponse(stream.reports(), content.V3, watch_disconnect=False)
    limit = ctx.proxy.config.integer("max.request.bytes")
    length = request.headers.get("content-length", "0")
    if not length.isdigit() or int(length) > limit:
        raise HttpError(413, f"Request body is larger than {limit} bytes")
    raw = await request.body()
    documents = _split(raw)
    if not documents:
        raise errors.invalid_payload("Request body is empty; a JSON record is expected.")
    resolved: Resolved = {}
    prepared = [await prepare(ctx, topic.name, doc, resolved) for doc in documents]
    key = request.headers.get("idempotency-key")
    if key is None and len(documents) == 1 and isinstance(documents[0], dict):
        field_key = documents[0].get("idempotency_key")
        key = None if field_key is None else string(field_key, "/idempotency_key")

    def answer_of(reports: list[dict[str, Any]]) -> Answer:
        if len(reports) == 1:
            return Answer(status_of_report(reports[0]), jsoncodec.dumps(reports[0]), content.V3)
        return Answer(OK, b"".join(jsoncodec.dumps(r) + NDJSON_LINE for r in reports), content.V3)

    answer, replayed = await deliver(ctx, request, raw, key, prepared, len(topic.partitions), answer_of)
    return Response(answer.body, answer.status, replayed_header(replayed), answer.media_type)


Prepared = tuple[OutRecord, Kind | None, Kind | None] | HttpError


async def prepare(ctx: Ctx, topic: str, doc: Any, resolved: Resolved, at: str = "") -> Prepared:
    if isinstance(doc, BadDocument):
        return errors.invalid_payload(f"The record is {doc.reason}.")
    try:
        await resolve_schemas(ctx.proxy, topic, doc, resolved, at)
        return parse_record(ctx.proxy, topic, doc, at, resolved)
    except HttpError as exc:
        return exc


async def deliver(
    ctx: Ctx,
    request: Request,
    raw: bytes,
    key: str | None,
    prepared: list[Prepared],
    partitions: int,
    answer_of: Callable[[list[dict[str, Any]]], Answer],
) -> tuple[Answer, bool]:
    """Produce the prepared records (in one transaction when the request has an idempotency key)
    and the answer built from their reports; True when the answer is a replay."""
    to_send = [p[0] for p in prepared if not isinstance(p, HttpError)]

    def reports_of(outcomes: list[Delivery | Refused]) -> list[dict[str, Any]]:
        it = iter(outcomes)
        return [
            report(ctx, p, None) if isinstance(p, HttpError) else report(ctx, next(it), *p) for p in prepared
        ]

    if key is None:
        return answer_of(reports_of(await produce(ctx.proxy, list(to_send), partitions))), False

    async def transactional(service: ProducerService) -> Answer:
        outcomes = await produce(ctx.proxy, list(to_send), partitions, service)
        failure = first_failure(outcomes)
        if failure is not None:
            raise Aborted(answer_of(reports_of(aborted(outcomes, failure))))
        return answer_of(reports_of(outcomes))

    digest = request_digest(request.url.path, raw)
    try:
        return await ctx.proxy.idempotency.run(check_key(key), digest, transactional)
    except Aborted as exc:
        return exc.answer, False


def _split(body: bytes) -> list[Any]:
    stream = JsonStream(len(body) + 1)
    return stream.feed(body) + stream.finish()


async def produce_batch(request: Request) -> Response:
    content.require_json(request)
    ctx = await ctx_of(request)
    topic = await topic_or_404(ctx.proxy, request.path_params["topic_name"])
    raw = await request.body()
    body = obj(await content.read_json(request), "")
    entries = array(body.get("entries"), "/entries")
    if not entries:
        raise HttpError(errors.PRODUCE_BATCH, "Empty batch.", status=400)
    if len(entries) > MAX_BATCH_ENTRIES:
        raise HttpError(errors.PRODUCE_BATCH, f"Too many entries: at most {MAX_BATCH_ENTRIES}.", status=400)
    ids: list[str] = []
    parsed: list[Prepared] = []
    resolved: Resolved = {}
    for i, item in enumerate(entries):
        at = pointer("entries", i)
        entry = obj(item, at)
        entry_id = entry.get("id")
        if not isinstance(entry_id, str) or not 1 <= len(entry_id) <= 80:
            raise HttpError(
                errors.PRODUCE_BATCH, f"Entry {i}: id must be a string of 1 to 80 characters.", status=400
            )
        ids.append(entry_id)
        parsed.append(await prepare(ctx, topic.name, entry, resolved, at))
    if len(set(ids)) != len(ids):
        raise HttpError(errors.PRODUCE_BATCH, "Entry ids are not distinct.", status=400)

    def answer_of(reports: list[dict[str, Any]]) -> Answer:
        successes, failures = [], []
        for entry_id, body_ in zip(ids, reports, strict=True):
            if body_["error_code"] == OK:
                del body_["error_code"]
                successes.append({"id": entry_id, **body_})
            else:
                failures.append({"id": entry_id, **body_})
        return Answer(
            MULTI_STATUS, jsoncodec.dumps({"successes": successes, "failures": failures}), content.V3
        )

    key = request.headers.get("idempotency-key")
    answer, replayed = await deliver(ctx, request, raw, key, parsed, len(topic.partitions), answer_of)
    return Response(answer.body, answer.status, replayed_header(replayed), answer.media_type)


R = "/v3/clusters/{cluster_id}/topics/{topic_name}/records"


def routes(proxy_limits: HttpLimits) -> list[Route]:
    return [
        LimitedRoute(R, produce_records, methods=["POST"], limits=proxy_limits),
        Route(R + ":batch", produce_batch, methods=["POST"]),
    ]
