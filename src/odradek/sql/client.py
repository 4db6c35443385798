"""A client of the SQL server's REST API (ksqlDB's), used by `odradek sql` and `odradek.sql(...)`.

    import odradek
    odradek.sql("CREATE STREAM s (id INT KEY, v STRING) WITH (kafka_topic='s', partitions=1);")
    rows = odradek.sql("SELECT * FROM t WHERE id = 1;")          # a pull query: Rows (list of dicts)
    rows.df()                                                    # the same as a pandas DataFrame
    async for row in odradek.sql("SELECT * FROM s EMIT CHANGES;", stream=True):   # a push query
        print(row)

The server is `http://127.0.0.1:8088` unless `server=` or ODRADEK_SQL_SERVER says otherwise.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

DEFAULT_SERVER = "http://127.0.0.1:8088"
DELIMITED = "application/vnd.ksqlapi.delimited.v1"


class SqlError(Exception):
    """An error answered by the server (its ksqlDB error body)."""

    def __init__(self, body: dict[str, Any], status: int) -> None:
        self.body = body
        self.status = status
        self.error_code = body.get("error_code", status)
        super().__init__(body.get("message", str(body)))


class Rows(list[dict[str, Any]]):
    """Query results: a list of {column: value}, with the column names and types."""

    def __init__(
        self, columns: list[str], types: list[str], rows: list[list[Any]], query_id: str = ""
    ) -> None:
        super().__init__(dict(zip(columns, r, strict=False)) for r in rows)
        self.columns = columns
        self.types = types
        self.query_id = query_id

    def df(self) -> Any:
        import pandas

        return pandas.DataFrame(list(self), columns=self.columns)


def server_url(server: str | None) -> str:
    url = server or os.environ.get("ODRADEK_SQL_SERVER") or DEFAULT_SERVER
    return url if "://" in url else f"http://{url}"


def is_query(text: str) -> bool:
    head = text.lstrip().split(None, 1)[0].upper() if text.strip() else ""
    return head in ("SELECT", "PRINT")


class SqlClient:
    def __init__(self, server: str | None = None, timeout_s: float = 60.0) -> None:
        self.url = server_url(server)
        self.http = httpx.Client(base_url=self.url, timeout=timeout_s)
        self.properties: dict[str, str] = {}
        self.variables: dict[str, str] = {}
        self.sequence: int | None = None

    def close(self) -> None:
        self.http.close()

    def ksql(self, text: str) -> list[dict[str, Any]]:
        body: dict[str, Any] = {
            "ksql": text,
            "streamsProperties": self.properties,
            "sessionVariables": self.variables,
        }
        if self.sequence is not None:
            body["commandSequenceNumber"] = self.sequence
        resp = self.http.post("/ksql", json=body)
        data = resp.json()
        if resp.status_code >= 400:
            raise SqlError(data, resp.status_code)
        for entity in data:
            seq = entity.get("commandSequenceNumber")
            if isinstance(seq, int) and seq >= 0:
                self.sequence = max(self.sequence or 0, seq)
        return list(data)

    def stream(self, text: str) -> Iterator[dict[str, Any] | list[Any] | str]:
        """A query's header (dict), then its rows (lists); PRINT yields text lines."""
        body = {"sql": text, "properties": self.properties}
        with self.http.stream(
            "POST", "/query-stream", json=body, headers={"Accept": DELIMITED}, timeout=None
        ) as resp:
            if resp.status_code >= 400:
                resp.read()
                raise SqlError(resp.json(), resp.status_code)
            printing = text.lstrip().upper().startswith("PRINT")
            for line in resp.iter_lines():
                if not line:
                    continue
                if printing:
                    yield line
                    continue
                item = json.loads(line)
                if isinstance(item, dict) and "error_code" in item:
                    raise SqlError(item, 500)
                yield item

    def query(self, text: str) -> Rows:
        header: dict[str, Any] = {}
        rows: list[list[Any]] = []
        for item in self.stream(text):
            if isinstance(item, dict):
                header = item
            elif isinstance(item, list):
                rows.append(item)
        return Rows(
            header.get("columnNames", []), header.get("columnTypes", []), rows, header.get("queryId", "")
        )

    def close_query(self, query_id: str) -> None:
        self.http.post("/close-query", json={"queryId": query_id})


async def stream_rows(
    text: str, server: str | None = None, properties: dict[str, str] | None = None
) -> AsyncIterator[dict[str, Any]]:
    """A push query's rows as they come ({column: value})."""
    async with httpx.AsyncClient(base_url=server_url(server), timeout=None) as http:
        body = {"sql": text, "properties": properties or {}}
        async with http.stream("POST", "/query-stream", json=body, headers={"Accept": DELIMITED}) as resp:
            if resp.status_code >= 400:
                await resp.aread()
                raise SqlError(resp.json(), resp.status_code)
            columns: list[str] = []
            async for line in resp.aiter_lines():
                if not line:
                    continue
                item = json.loads(line)
                if isinstance(item, dict):
                    if "error_code" in item:
                        raise SqlError(item, 500)
                    columns = item.get("columnNames", [])
                    continue
                yield dict(zip(columns, item, strict=False))


def sql(
    text: str, *, server: str | None = None, stream: bool = False, properties: dict[str, str] | None = None
) -> Any:
    """Run SQL on an odradek SQL server: Rows for a pull query, an async iterator of rows with
    `stream=True` (push queries), the entities (list of dicts) for other statements."""
    if stream:
        return stream_rows(text, server, properties)
    client = SqlClient(server)
    try:
        client.properties = dict(properties or {})
        if is_query(text):
            return client.query(text)
        return client.ksql(text)
    finally:
        client.close()
