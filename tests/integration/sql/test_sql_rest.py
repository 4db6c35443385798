"""The SQL server's REST API (ksqlDB's) against a real broker: every endpoint, its shapes and errors."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
from sql_server_process import SqlServerProcess


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:6]}".upper()


def test_ksql_statements_entities_and_errors(sql_server: SqlServerProcess) -> None:
    name = unique("PAGEVIEWS")
    create = f"CREATE STREAM {name} (id STRING KEY, page STRING, n INT) WITH (kafka_topic='{name.lower()}', value_format='JSON', partitions=1);"
    [status] = sql_server.ok(create)
    assert status["@type"] == "currentStatus"
    assert status["commandId"] == f"stream/{name}/create"
    assert status["commandStatus"] == {"status": "SUCCESS", "message": "Stream created", "queryId": None}
    assert isinstance(status["commandSequenceNumber"], int)
    assert status["statementText"] == create

    [streams, described] = sql_server.ok(f"SHOW STREAMS; DESCRIBE {name};")
    assert {
        "type": "STREAM",
        "name": name,
        "topic": name.lower(),
        "keyFormat": "KAFKA",
        "valueFormat": "JSON",
        "isWindowed": False,
    } in streams["streams"]
    fields = described["sourceDescription"]["fields"]
    assert fields[0] == {
        "name": "ID",
        "schema": {"type": "STRING", "fields": None, "memberSchema": None},
        "type": "KEY",
    }

    # a failing statement: 400, ksqlDB's statement_error with the entities of the statements before it
    resp = sql_server.ksql(f"SHOW TABLES; SELECT nosuch FROM {name};")
    assert resp.status_code == 400
    body = resp.json()
    assert body["@type"] == "statement_error" and body["error_code"] == 40002
    resp = sql_server.ksql(f"SHOW TABLES; CREATE STREAM bad AS SELECT nosuch FROM {name};")
    body = resp.json()
    assert resp.status_code == 400 and body["error_code"] == 40001
    assert "Column 'NOSUCH' cannot be resolved" in body["message"] and body["message"].startswith("line 1:")
    assert [e["@type"] for e in body["entities"]] == ["tables"]
    resp = sql_server.ksql("SELEC 1;")
    assert resp.status_code == 400 and "Expected one of" in resp.json()["message"]
    resp = httpx.post(sql_server.url + "/ksql", content=b"{not json", timeout=10)
    assert resp.status_code == 400 and resp.json()["error_code"] == 40000

    # commandSequenceNumber: waits for that command (already applied here)
    again = sql_server.ksql("SHOW STREAMS;", commandSequenceNumber=status["commandSequenceNumber"])
    assert again.status_code == 200


def test_pull_push_and_close_query(sql_server: SqlServerProcess) -> None:
    src = unique("ORDERS")
    sql_server.ok(
        f"CREATE STREAM {src} (id INT KEY, customer STRING, amount DOUBLE) WITH (kafka_topic='{src.lower()}', partitions=1);"
    )
    sql_server.ok(
        f"INSERT INTO {src} (id, customer, amount) VALUES (1, 'ada', 20.0);"
        f"INSERT INTO {src} (id, customer, amount) VALUES (2, 'bob', 5.0);"
        f"INSERT INTO {src} (id, customer, amount) VALUES (3, 'ada', 7.5);"
    )
    totals = unique("TOTALS")
    [created] = sql_server.ok(
        f"CREATE TABLE {totals} AS SELECT customer, COUNT(*) AS n, SUM(amount) AS total FROM {src} GROUP BY customer;"
    )
    assert (
        created["commandStatus"]["queryId"]
        == f"CTAS_{totals}_{created['commandStatus']['queryId'].rsplit('_', 1)[1]}"
    )

    # pull: key lookup, scan with ORDER BY (beyond ksqlDB), aggregate over a stream, legacy /query format
    rows = sql_server.wait_rows(f"SELECT * FROM {totals} WHERE customer = 'ada';", 1)
    header = sql_server.query_stream(f"SELECT * FROM {totals} WHERE customer = 'ada';")[0]
    assert header["columnNames"] == ["CUSTOMER", "N", "TOTAL"] and header["columnTypes"] == [
        "STRING",
        "BIGINT",
        "DOUBLE",
    ]
    deadline = time.monotonic() + 30
    while rows != [["ada", 2, 27.5]] and time.monotonic() < deadline:
        time.sleep(0.3)
        rows = sql_server.query_stream(f"SELECT * FROM {totals} WHERE customer = 'ada';")[1:]
    assert rows == [["ada", 2, 27.5]]
    # key lookups of one shape share a plan: each answers for its own keys
    lookup = f"SELECT customer, total FROM {totals} WHERE customer = "
    assert sql_server.query_stream(lookup + "'bob';")[1:] == [["bob", 5.0]]
    assert sql_server.query_stream(lookup + "'ada';")[1:] == [["ada", 27.5]]
    assert sql_server.query_stream(lookup + "'it''s';")[1:] == []
    assert sorted(
        sql_server.query_stream(f"SELECT * FROM {totals} WHERE customer IN ('bob', 'ada');")[1:]
    ) == [
        ["ada", 2, 27.5],
        ["bob", 1, 5.0],
    ]
    assert sql_server.query_stream(f"SELECT * FROM {totals} WHERE customer = 'ada' AND n > 5;")[1:] == []
    ordered = sql_server.query_stream(f"SELECT customer, total FROM {totals} ORDER BY total DESC LIMIT 1;")
    assert ordered[1:] == [["ada", 27.5]]
    scanned = sql_server.query_stream(
        f"SELECT customer, COUNT(*) AS n FROM {src} WHERE amount > 1 GROUP BY customer ORDER BY customer;",
        accept="application/json",
    )
    assert scanned[1:] == [["ada", 2], ["bob", 1]]
    joined = sql_server.query_stream(
        f"SELECT a.customer, a.n, b.total FROM {totals} a JOIN {totals} b ON a.customer = b.customer ORDER BY customer;"
    )
    assert joined[1:] == [["ada", 2, 27.5], ["bob", 1, 5.0]]
    legacy = httpx.post(
        sql_server.url + "/query",
        json={"ksql": f"SELECT * FROM {totals} WHERE customer = 'bob';"},
        timeout=30,
    )
    assert legacy.status_code == 200
    parsed = json.loads(legacy.text)
    assert parsed[0]["header"]["schema"] == "`CUSTOMER` STRING, `N` BIGINT, `TOTAL` DOUBLE"
    assert parsed[1] == {"row": {"columns": ["bob", 1, 5.0]}}

    # push with LIMIT on both endpoints
    pushed = sql_server.query_stream(
        f"SELECT id, customer FROM {src} EMIT CHANGES LIMIT 2;", **{"auto.offset.reset": "earliest"}
    )
    assert pushed[0]["queryId"].startswith("transient_") and pushed[1:] == [[1, "ada"], [2, "bob"]]
    legacy_push = httpx.post(
        sql_server.url + "/query",
        json={
            "ksql": f"SELECT id FROM {src} EMIT CHANGES LIMIT 1;",
            "streamsProperties": {"auto.offset.reset": "earliest"},
        },
        timeout=60,
    )
    assert json.loads(legacy_push.text)[-1] == {"finalMessage": "Limit Reached"}

    # a push query without LIMIT runs until /close-query
    lines: list[str] = []
    with httpx.stream(
        "POST",
        sql_server.url + "/query-stream",
        json={"sql": f"SELECT * FROM {src} EMIT CHANGES;", "properties": {"auto.offset.reset": "earliest"}},
        timeout=60,
    ) as resp:
        for line in resp.iter_lines():
            lines.append(line)
            if len(lines) == 1:
                query_id = json.loads(line)["queryId"]
            if len(lines) == 4:
                closed = httpx.post(sql_server.url + "/close-query", json={"queryId": query_id}, timeout=30)
                assert closed.status_code == 200
                break
    assert len(lines) == 4
    bad = httpx.post(sql_server.url + "/close-query", json={"queryId": "nope"}, timeout=10)
    assert bad.status_code == 400


def test_inserts_stream_acks_each_row(sql_server: SqlServerProcess) -> None:
    name = unique("EVENTS")
    sql_server.ok(
        f"CREATE STREAM {name} (id STRING KEY, v INT) WITH (kafka_topic='{name.lower()}', partitions=1);"
    )
    body = "\n".join(
        [
            json.dumps({"target": name}),
            json.dumps({"ID": "a", "V": 1}),
            json.dumps({"id": "b", "v": 2}),
            json.dumps({"ID": "c", "V": "not a number"}),
            "{broken",
        ]
    ).encode()
    resp = httpx.post(sql_server.url + "/inserts-stream", content=body, timeout=60)
    acks = [json.loads(line) for line in resp.text.splitlines() if line.strip()]
    assert acks[0] == {"status": "ok", "seq": 0} and acks[1] == {"status": "ok", "seq": 1}
    assert acks[2]["status"] == "error" and acks[2]["seq"] == 2 and "Can't coerce" in acks[2]["message"]
    assert acks[3]["status"] == "error" and acks[3]["error_code"] == 40000
    rows = sql_server.wait_rows(f"SELECT * FROM {name};", 2)
    assert sorted(rows) == [["a", 1], ["b", 2]]


def test_info_healthcheck_status_print(sql_server: SqlServerProcess) -> None:
    info = httpx.get(sql_server.url + "/info", timeout=10).json()["KsqlServerInfo"]
    assert (
        info["version"]
        and info["ksqlServiceId"] == "default_"
        and info["kafkaClusterId"]
        and info["serverStatus"] == "RUNNING"
    )
    health = httpx.get(sql_server.url + "/healthcheck", timeout=10).json()
    assert health["isHealthy"] is True and set(health["details"]) == {"metastore", "kafka", "commandRunner"}
    name = unique("S")
    sql_server.ok(f"CREATE STREAM {name} (v STRING) WITH (kafka_topic='{name.lower()}', partitions=1);")
    statuses = httpx.get(sql_server.url + "/status", timeout=10).json()["commandStatuses"]
    assert statuses[f"stream/{name}/create"] == "SUCCESS"
    one = httpx.get(sql_server.url + f"/status/stream/{name}/create", timeout=10).json()
    assert one == {"status": "SUCCESS", "message": "Stream created"}
    assert httpx.get(sql_server.url + "/status/stream/NOPE/create", timeout=10).status_code == 404
    sql_server.ok(f"INSERT INTO {name} (v) VALUES ('hello');")
    printed = httpx.post(
        sql_server.url + "/query",
        json={"ksql": f"PRINT '{name.lower()}' FROM BEGINNING LIMIT 1;"},
        timeout=60,
    )
    assert 'value: {"V":"hello"}' in printed.text


def test_cli_shell_and_python_api(sql_server: SqlServerProcess) -> None:
    name = unique("CLI")
    result = subprocess.run(
        [sys.executable, "-m", "odradek", "sql", "--server", sql_server.url, "-e",
         f"CREATE STREAM {name} (k STRING KEY, v INT) WITH (kafka_topic='{name.lower()}', partitions=1); SHOW STREAMS;"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Stream created" in result.stdout and f"| {name}" in result.stdout
    failing = subprocess.run(
        [sys.executable, "-m", "odradek", "sql", "--server", sql_server.url, "-e", "SHOW NOTHING;"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert failing.returncode == 1 and "Expected one of" in failing.stderr

    import odradek

    odradek.sql(f"INSERT INTO {name} (k, v) VALUES ('x', 42);", server=sql_server.url)
    deadline = time.monotonic() + 30
    rows = odradek.sql(f"SELECT * FROM {name};", server=sql_server.url)
    while not rows and time.monotonic() < deadline:
        rows = odradek.sql(f"SELECT * FROM {name};", server=sql_server.url)
    assert list(rows) == [{"K": "x", "V": 42}] and rows.columns == ["K", "V"]

    async def first_push_row() -> dict[str, object]:
        async for row in odradek.sql(
            f"SELECT * FROM {name} EMIT CHANGES LIMIT 1;",
            server=sql_server.url,
            stream=True,
            properties={"auto.offset.reset": "earliest"},
        ):
            return row
        return {}

    import asyncio

    assert asyncio.run(first_push_row()) == {"K": "x", "V": 42}


def test_concurrent_requests_while_a_push_query_streams(sql_server: SqlServerProcess) -> None:
    name = unique("BUSY")
    sql_server.ok(f"CREATE STREAM {name} (v INT) WITH (kafka_topic='{name.lower()}', partitions=1);")
    got: list[str] = []

    def push() -> None:
        with httpx.stream(
            "POST",
            sql_server.url + "/query-stream",
            json={
                "sql": f"SELECT * FROM {name} EMIT CHANGES LIMIT 1;",
                "properties": {"auto.offset.reset": "earliest"},
            },
            timeout=90,
        ) as resp:
            got.extend(resp.iter_lines())

    thread = threading.Thread(target=push)
    thread.start()
    time.sleep(1)
    assert httpx.get(sql_server.url + "/info", timeout=10).status_code == 200  # the event loop is free
    sql_server.ok(f"INSERT INTO {name} (v) VALUES (7);")
    thread.join(90)
    assert [line for line in got if line][1:] == ["[7]"]


def test_pull_scans_read_consistent_snapshots_while_their_queries_write(sql_server: SqlServerProcess) -> None:
    """Pull scans (aggregate over a table, ORDER BY, a windowed table, with and without DuckDB) and
    key lookups, over and over while the persistent queries write thousands of new keys: every one
    answers 200 (a scan of the live store once failed with HTTP 500 `dictionary changed size during
    iteration`), the totals never go backwards, and they end exact."""
    from confluent_kafka import Producer

    src, totals, windowed = unique("CLICKS"), unique("CLICK_TOTALS"), unique("CLICK_WINDOWS")
    sql_server.ok(
        f"CREATE STREAM {src} (id STRING KEY, k STRING, n INT) WITH (kafka_topic='{src.lower()}', value_format='JSON', partitions=2);"
    )
    sql_server.ok(
        f"CREATE TABLE {totals} AS SELECT k, SUM(n) AS total, COUNT(*) AS c FROM {src} GROUP BY k;"
        f"CREATE TABLE {windowed} AS SELECT k, COUNT(*) AS c FROM {src} WINDOW TUMBLING (SIZE 1 SECOND) GROUP BY k;"
    )
    records, keys = 25_000, 25_000
    done = threading.Event()

    def produce() -> None:
        producer = Producer({"bootstrap.servers": sql_server.bootstrap, "linger.ms": 20})
        for i in range(records):
            value = json.dumps({"K": f"k{i % keys}", "N": 1}).encode()
            while True:
                try:
                    producer.produce(
                        src.lower(), key=str(i).encode(), value=value, timestamp=1_700_000_000_000 + i
                    )
                    break
                except BufferError:
                    producer.poll(0.05)
            if i % 2000 == 0:
                producer.poll(0)
                time.sleep(0.02)  # spread the input over the scans below
        producer.flush(60)
        done.set()

    thread = threading.Thread(target=produce)
    thread.start()
    scans = {
        "sum": f"SELECT SUM(total) AS s FROM {totals};",
        "order": f"SELECT k, total FROM {totals} WHERE total > 1 ORDER BY total DESC, k LIMIT 3;",
        "window": f"SELECT SUM(c) AS s FROM {windowed};",
        "window_rows": f"SELECT k, c FROM {windowed} WHERE c > 0 LIMIT 5;",
        "lookup": f"SELECT * FROM {totals} WHERE k = 'k7';",
    }
    sums: list[int] = []
    window_sums: list[int] = []
    failures: list[str] = []
    deadline = time.monotonic() + 180
    try:
        with httpx.Client(timeout=60) as client:
            while time.monotonic() < deadline:
                for name, sql in scans.items():
                    resp = client.post(
                        sql_server.url + "/query-stream",
                        json={"sql": sql, "properties": {}},
                        headers={"Accept": "application/vnd.ksqlapi.delimited.v1"},
                    )
                    if resp.status_code != 200:
                        failures.append(f"{name}: {resp.status_code} {resp.text[:300]}")
                        continue
                    rows = [json.loads(line) for line in resp.text.splitlines() if line.strip()][1:]
                    if name == "sum" and rows and rows[0][0] is not None:
                        sums.append(rows[0][0])
                    if name == "window" and rows and rows[0][0] is not None:
                        window_sums.append(rows[0][0])
                if failures or (
                    done.is_set() and sums and sums[-1] == records and window_sums[-1] == records
                ):
                    break
                if done.is_set():
                    time.sleep(0.2)  # input complete: let the queries catch up
    finally:
        thread.join(120)
    assert not failures, failures
    assert sums and sums[-1] == records and window_sums[-1] == records, (sums[-5:], window_sums[-5:])
    assert sums == sorted(sums) and window_sums == sorted(window_sums)  # never backwards
    assert len(set(sums)) > 2  # the scans did run while the query wrote
    assert sql_server.query_stream(f"SELECT * FROM {totals} WHERE k = 'k7';")[1:] == [["k7", 1, 1]]


def test_http2_prior_knowledge_streams_push_rows_and_inserts(sql_server: SqlServerProcess) -> None:
    """ksqlDB's clients speak HTTP/2 cleartext with prior knowledge; the same port serves HTTP/1.1."""
    name = unique("H2")
    sql_server.ok(
        f"CREATE STREAM {name} (id INT KEY, v STRING) WITH (kafka_topic='{name.lower()}', partitions=1);"
    )
    with httpx.Client(http1=False, http2=True, base_url=sql_server.url, timeout=60) as h2:
        # one bidirectional stream: rows are acked while the request body is still being sent
        def rows() -> Iterator[bytes]:
            yield (json.dumps({"target": name}) + "\n").encode()
            for i in range(3):
                yield (json.dumps({"ID": i, "V": f"r{i}"}) + "\n").encode()

        inserted = h2.post("/inserts-stream", content=rows())
        assert inserted.http_version == "HTTP/2"
        assert [json.loads(line) for line in inserted.text.splitlines()] == [
            {"status": "ok", "seq": i} for i in range(3)
        ]
        # a push query without LIMIT: its rows arrive while it runs, a later insert too, and
        # /close-query on the same connection (another stream) ends it
        lines: list[list[object] | dict[str, object]] = []
        with h2.stream(
            "POST",
            "/query-stream",
            json={
                "sql": f"SELECT * FROM {name} EMIT CHANGES;",
                "properties": {"auto.offset.reset": "earliest"},
            },
            headers={"accept": "application/vnd.ksqlapi.delimited.v1"},
        ) as resp:
            assert resp.http_version == "HTTP/2" and resp.status_code == 200
            for line in resp.iter_lines():
                if not line:
                    continue
                lines.append(json.loads(line))
                if len(lines) == 4:
                    posted = h2.post(
                        "/inserts-stream", content=f'{{"target":"{name}"}}\n{{"ID":9,"V":"late"}}\n'
                    )
                    assert posted.json() == {"status": "ok", "seq": 0}
                if len(lines) == 5:
                    header = lines[0]
                    assert isinstance(header, dict)
                    closed = h2.post("/close-query", json={"queryId": header["queryId"]})
                    assert closed.status_code == 200 and closed.http_version == "HTTP/2"
            # the stream ends once the query is closed
        assert lines[1:] == [[0, "r0"], [1, "r1"], [2, "r2"], [9, "late"]]
        pulled = h2.post("/query-stream", json={"sql": f"SELECT * FROM {name} WHERE id = 1;"})
        assert pulled.http_version == "HTTP/2" and pulled.text.splitlines()[1] == '[1,"r1"]'
    # curl, as a third-party HTTP/2 client (nghttp2)
    curl = subprocess.run(
        ["curl", "-sS", "-i", "--http2-prior-knowledge", "-X", "POST", sql_server.url + "/query-stream",
         "-d", json.dumps({"sql": f"SELECT v FROM {name} EMIT CHANGES LIMIT 2;",
                           "properties": {"auto.offset.reset": "earliest"}})],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert curl.returncode == 0, curl.stderr
    assert curl.stdout.startswith("HTTP/2 200")
    assert curl.stdout.rstrip().splitlines()[-2:] == ['["r0"]', '["r1"]']
    # HTTP/1.1 still answers on the same port
    assert httpx.get(sql_server.url + "/info", timeout=10).http_version == "HTTP/1.1"


def test_a_push_query_ends_when_its_client_goes_away(sql_server: SqlServerProcess) -> None:
    """No rows flow, so no write fails: the server must notice the disconnect itself (both protocols)."""
    name = unique("GONE")
    sql_server.ok(f"CREATE STREAM {name} (v INT) WITH (kafka_topic='{name.lower()}', partitions=1);")
    for http2 in (False, True):
        query = {"sql": f"SELECT * FROM {name} EMIT CHANGES;"}
        with (
            httpx.Client(http1=not http2, http2=http2, base_url=sql_server.url, timeout=60) as client,
            client.stream("POST", "/query-stream", json=query) as resp,
        ):
            query_id = json.loads(next(resp.iter_lines()))["queryId"]
        # the connection is closed: the server closes the query at once (it leaves /close-query's
        # list before its streams app stops); one probe after a wait generous for a loaded machine
        time.sleep(5)
        closed = httpx.post(sql_server.url + "/close-query", json={"queryId": query_id}, timeout=10)
        assert closed.status_code == 400, (
            f"push query {query_id} still ran after its client left (http2={http2})"
        )
