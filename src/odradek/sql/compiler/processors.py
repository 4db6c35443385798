"""The per-record processors SQL adds to a streams topology (Processor API).

`RowStage` runs a query's stateless steps on a stream in one processor: WHERE, table functions,
PARTITION BY and the projection, each a compiled function of (key, value, row context). Fusing them
keeps a filter-and-project query at one processor hop per record, as ksqlDB fuses its
transformValues. Records with a null value (tombstones) do not flow through a stream query.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from odradek.sql.compiler.serdes import JsonRowSerde
from odradek.sql.plan.codegen import RowContext
from odradek.streams.engine.context import FailedProcessingException
from odradek.streams.engine.fused import Fail, Stage
from odradek.streams.processor import Processor, ProcessorContext
from odradek.streams.record import Headers, Record
from odradek.streams.windows import Window, Windowed

RowFn = Callable[[Any, Any, RowContext], Any]
RowSource = Callable[[dict[str, str]], tuple[str, dict[str, Any]]]
"""A row function's expression compiled with the named value columns read from locals: (source,
the names the source needs)."""


def unwrap_key(key: Any, r: RowContext, arity: int) -> tuple[Any, ...]:
    """The key tuple of a record (a windowed key sets the window pseudo-columns)."""
    if isinstance(key, Windowed):
        r.ws, r.we = key.window.start, key.window.end
        key = key.key
    if key is None:
        return (None,) * arity
    return key  # type: ignore[no-any-return]


class RowStage(Processor):
    def __init__(
        self,
        key_arity: int,
        predicate: RowFn | None,
        table_functions: RowFn | None,
        rekey: RowFn | None,
        project: RowFn | None,
        needs_metadata: bool,
        filter_project: RowFn | None = None,
        filter_project_source: RowSource | None = None,
    ) -> None:
        """`filter_project`: WHERE and the projection in one function, None when WHERE is not TRUE
        (the fused stage's one call per record instead of two; `process` uses the two)."""
        self.key_arity = key_arity
        self.predicate = predicate
        self.table_functions = table_functions
        self.rekey = rekey
        self.project = project
        self.needs_metadata = needs_metadata
        self.r = RowContext()
        self.simple = table_functions is None and rekey is None and not needs_metadata
        self.filter_project = filter_project if self.simple else None
        self.filter_project_source = filter_project_source if self.simple else None

    def init(self, context: ProcessorContext) -> None:
        self.context = context

    def process(self, record: Record[Any, Any]) -> None:
        v = record.value
        if v is None:
            return
        raw_key = record.key
        if self.simple and raw_key.__class__ is tuple:
            # the common case (filter and project of a stream with a plain key): no per-step checks
            r = self.r
            r.ts = record.timestamp
            r.headers = record.headers
            if self.predicate is not None and not self.predicate(raw_key, v, r):
                return
            if self.project is not None:
                raw_key, v = self.project(raw_key, v, r)
            self.context.forward(Record(raw_key, v, record.timestamp, record.headers))
            return
        for out_key, out_value in self._rows(raw_key, v, record.timestamp, record.headers):
            self.context.forward(Record(out_key, out_value, record.timestamp, record.headers))

    def _rows(self, raw_key: Any, v: Any, timestamp: int, headers: Any) -> list[tuple[Any, Any]]:
        """The output rows of one record (key, value) in the general case."""
        r = self.r
        r.ts = timestamp
        r.headers = headers
        if self.needs_metadata:
            md = self.context.record_metadata()
            if md is not None:
                r.partition, r.offset = md.partition, md.offset
        k = unwrap_key(raw_key, r, self.key_arity)
        if self.predicate is not None and not self.predicate(k, v, r):
            return []
        rows = self.table_functions(k, v, r) if self.table_functions is not None else ((k, v),)
        out: list[tuple[Any, Any]] = []
        for rk, rv in rows:
            nk, nv = rk, rv
            if self.rekey is not None:
                nk, nv = self.rekey(nk, nv, r)
            if self.project is not None:
                nk, nv = self.project(nk, nv, r)
            if isinstance(raw_key, Windowed) and self.rekey is None:
                out.append((Windowed(nk, raw_key.window), nv))
            else:
                out.append((nk, nv))
        return out

    def fused(self, name: str, children: Callable[[], Stage], fail: Fail) -> Stage:
        """`process` as a fused stage: no `Record` per record in or out, the sink's stage called
        directly. An exception of WHERE or the projection goes to the processing handler with this
        node's name and the record it received, as from `process`."""
        nxt = children()
        predicate, project, r = self.predicate, self.project, self.r
        simple = self.simple
        rows = self._rows
        filter_project = self.filter_project

        def row_stage(key: Any, value: Any, timestamp: int, headers: Headers | None) -> None:
            if value is None:
                return
            try:
                if filter_project is not None and key.__class__ is tuple:
                    r.ts = timestamp
                    r.headers = headers
                    out = filter_project(key, value, r)
                    if out is not None:
                        nxt(out[0], out[1], timestamp, headers)
                    return
                if simple and key.__class__ is tuple:
                    r.ts = timestamp
                    r.headers = headers
                    if predicate is not None and not predicate(key, value, r):
                        return
                    if project is None:
                        nxt(key, value, timestamp, headers)
                    else:
                        out_key, out_value = project(key, value, r)
                        nxt(out_key, out_value, timestamp, headers)
                    return
                for out_key, out_value in rows(key, value, timestamp, headers):
                    nxt(out_key, out_value, timestamp, headers)
            except FailedProcessingException:
                raise
            except Exception as exc:
                fail(name, key, value, timestamp, headers, exc)

        source = self.filter_project_source
        if filter_project is not None and source is not None:
            row_stage.from_bytes = lambda serde, task: query_function(  # type: ignore[attr-defined]
                name, source, r, nxt, fail, serde, task, row_stage
            )
        return row_stage


def query_function(
    name: str,
    source: RowSource,
    r: RowContext,
    nxt: Stage,
    fail: Fail,
    serde: Any,
    task: Any,
    row_stage: Stage,
) -> Callable[[Any, bytes, int, Headers | None], bool] | None:
    """The whole per-record path of a plain WHERE + projection over JSON values as ONE generated
    function (the streams task's `from_bytes` hook, see `odradek.streams.engine.fused`): the source
    value's straight-line JSON decode, the stream time, WHERE and the projection inline (reading the
    decoded columns from locals; `v` is the row dict the general path would have), then the sink's
    encoders and send. It returns False, having done nothing, for what the general path must handle
    (a key that is no tuple, a value that is not JSON or that the general decoder rejects), so bad
    records meet the deserialization handler there; a document the straight-line decoder does not
    take (a missing or differently-cased field, a value to convert) gets the general decoder's
    conversions on the parsed document, then `row_stage` (no second parse); an error of WHERE or the
    projection goes to the processing handler with this node's name and the decoded record, as from
    `fused`. None when the value format has no straight-line decoder (only `JsonRowSerde` rows of
    exact column classes)."""
    if not isinstance(serde, JsonRowSerde) or not serde.exact:
        return None
    body, namespace = source({c.name: f"c{i}" for i, c in enumerate(serde.columns)})
    namespace = dict(namespace)
    convert = serde.convert

    def converted(k: Any, doc: Any, timestamp: int, headers: Headers | None) -> bool:
        try:
            v = convert(doc)
        except Exception:
            return False  # the general path parses again and names the error
        if timestamp > task.stream_time:  # noqa: PLR1730 - an if is cheaper than max() per record
            task.stream_time = timestamp
        row_stage(k, v, timestamp, headers)
        return True

    namespace.update(
        r=r,
        nxt=nxt,
        fail=fail,
        task=task,
        NAME=name,
        FailedProcessingException=FailedProcessingException,
        converted=converted,
    )
    lines = [
        "def _query(k, data, timestamp, headers):",
        "    if k.__class__ is not tuple:",
        "        return False",
        "    try:",
        "        doc = loads(data)",
        "    except Exception:",
        "        return False",
        *serde.decoder_lines(namespace, "return converted(k, doc, timestamp, headers)", parsed=True),
        "    if timestamp > task.stream_time:",
        "        task.stream_time = timestamp",
        "    r.ts = timestamp",
        "    r.headers = headers",
        "    try:",
        f"        out = {body}",
        "        if out is not None:",
        *_to_sink(nxt, namespace),
        "    except FailedProcessingException:",
        "        raise",
        "    except Exception as exc:",
        "        fail(NAME, k, v, timestamp, headers, exc)",
        "    return True",
    ]
    text = "\n".join(lines) + "\n"
    exec(compile(text, "<sql query function>", "exec"), namespace)
    fn: Callable[[Any, bytes, int, Headers | None], bool] = namespace["_query"]
    fn.__doc__ = text
    return fn


def _to_sink(nxt: Stage, namespace: dict[str, Any]) -> list[str]:
    """The statements handing the projected row `out` to the next stage: the sink's common case
    inline when the next stage is a sink that allows it (its `direct`), else a call of the stage.
    Inline, the encoders' exception calls the sink's stage (which names it as the sink does) and
    the send's goes to the processing handler with the sink's name, as inside the sink's stage."""
    direct = getattr(nxt, "direct", None)
    if direct is None:
        return ["            nxt(out[0], out[1], timestamp, headers)"]
    sink_name, topic, key_encode, encode, send, sink = direct
    namespace.update(SINK=sink_name, TOPIC=topic, kenc=key_encode, venc=encode, send=send, sink=sink)
    return [
        "            try:",
        "                kb = kenc(out[0])",
        "                vb = venc(out[1])",
        "            except Exception:",
        "                nxt(out[0], out[1], timestamp, headers)",
        "            else:",
        "                try:",
        "                    send(TOPIC, kb, vb, timestamp, headers, None)",
        "                    sink.sent += 1",
        "                except FailedProcessingException:",
        "                    raise",
        "                except Exception as exc:",
        "                    fail(SINK, out[0], out[1], timestamp, headers, exc)",
    ]


def table_function_rows(functions: list[tuple[str, RowFn]]) -> RowFn:
    """One row per element; several table functions are zipped (shorter ones padded with NULL)."""

    def rows(k: Any, v: Any, r: RowContext) -> list[tuple[Any, Any]]:
        results = [(name, fn(k, v, r) or []) for name, fn in functions]
        n = max((len(res) for _, res in results), default=0)
        out = []
        for i in range(n):
            row = dict(v)
            for name, res in results:
                row[name] = res[i] if i < len(res) else None
            out.append((k, row))
        return out

    return rows


def window_of(key: Any) -> Window | None:
    return key.window if isinstance(key, Windowed) else None


class TableRow:
    """Wraps a row function for KTable operators, which see (key, value) only."""

    def __init__(self, fn: RowFn, key_arity: int) -> None:
        self.fn = fn
        self.key_arity = key_arity
        self.r = RowContext()

    def __call__(self, key: Any, value: Any) -> Any:
        if value is None:
            return None
        r = self.r
        r.ws = r.we = None
        k = unwrap_key(key, r, self.key_arity)
        return self.fn(k, value, r)
