"""`odradek sql`: an interactive SQL shell for the SQL server (ksqlDB's CLI, in Python).

    odradek sql                          # interactive: history (~/.odradek_sql_history), tab completion
    odradek sql -e "SHOW STREAMS;"       # run statements and exit
    odradek sql -f setup.sql             # run a file (RUN SCRIPT does the same inside the shell)

Statements end with ';' and may span lines. SELECT and PRINT stream their rows (Ctrl-C stops a
push query); other statements print their result as a table.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "sql", help="the interactive SQL shell (connects to odradek sql-server, port 8088)"
    )
    parser.add_argument(
        "--server", default=None, help="SQL server URL (default http://127.0.0.1:8088 or $ODRADEK_SQL_SERVER)"
    )
    parser.add_argument("-e", "--execute", metavar="STATEMENTS", help="run these statements and exit")
    parser.add_argument("-f", "--file", type=Path, help="run the statements of this file and exit")
    parser.add_argument("--output", choices=("table", "json"), default="table", help="result format")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from odradek.sql.client import SqlClient

    client = SqlClient(args.server)
    shell = Shell(client, args.output)
    try:
        if args.execute:
            return shell.run_text(args.execute)
        if args.file:
            return shell.run_text(args.file.read_text())
        return shell.interactive()
    finally:
        client.close()


KEYWORDS = sorted(
    [
        "SELECT",
        "FROM",
        "WHERE",
        "GROUP",
        "BY",
        "PARTITION",
        "HAVING",
        "WINDOW",
        "TUMBLING",
        "HOPPING",
        "SESSION",
        "SIZE",
        "ADVANCE",
        "RETENTION",
        "GRACE",
        "PERIOD",
        "EMIT",
        "CHANGES",
        "FINAL",
        "LIMIT",
        "OFFSET",
        "ORDER",
        "ASC",
        "DESC",
        "JOIN",
        "LEFT",
        "FULL",
        "OUTER",
        "INNER",
        "ON",
        "WITHIN",
        "CREATE",
        "STREAM",
        "TABLE",
        "SOURCE",
        "TYPE",
        "AS",
        "WITH",
        "INSERT",
        "INTO",
        "VALUES",
        "DROP",
        "DELETE",
        "TOPIC",
        "IF",
        "EXISTS",
        "NOT",
        "SHOW",
        "LIST",
        "STREAMS",
        "TABLES",
        "TOPICS",
        "QUERIES",
        "PROPERTIES",
        "TYPES",
        "FUNCTIONS",
        "VARIABLES",
        "DESCRIBE",
        "EXTENDED",
        "EXPLAIN",
        "PRINT",
        "BEGINNING",
        "INTERVAL",
        "SET",
        "UNSET",
        "DEFINE",
        "UNDEFINE",
        "TERMINATE",
        "PAUSE",
        "RESUME",
        "ASSERT",
        "SCHEMA",
        "RELOAD",
        "RUN",
        "SCRIPT",
        "CASE",
        "WHEN",
        "THEN",
        "ELSE",
        "END",
        "CAST",
        "AND",
        "OR",
        "LIKE",
        "IN",
        "BETWEEN",
        "IS",
        "NULL",
        "TRUE",
        "FALSE",
        "KEY",
        "PRIMARY",
        "HEADERS",
        "KAFKA_TOPIC",
        "VALUE_FORMAT",
        "KEY_FORMAT",
        "FORMAT",
        "PARTITIONS",
        "REPLICAS",
        "TIMESTAMP",
    ]
)


def render_table(columns: list[str], rows: list[list[Any]]) -> str:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells if i < len(r)]) for i, c in enumerate(columns)]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [line, "|" + "|".join(f" {c:<{w}} " for c, w in zip(columns, widths, strict=True)) + "|", line]
    out += ["|" + "|".join(f" {v:<{w}} " for v, w in zip(r, widths, strict=False)) + "|" for r in cells]
    out.append(line)
    return "\n".join(out)


def _cell(v: Any) -> str:
    import json

    if v is None:
        return "null"
    if isinstance(v, dict | list):
        return json.dumps(v, separators=(",", ":"))
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def render_entity(e: dict[str, Any]) -> str:
    kind = e.get("@type")
    if kind == "currentStatus":
        status = e["commandStatus"]
        return render_table(["Message"], [[status["message"]]])
    if kind in ("streams", "tables"):
        items = e[kind]
        return render_table(
            [f"{kind[:-1].capitalize()} Name", "Kafka Topic", "Key Format", "Value Format", "Windowed"],
            [[s["name"], s["topic"], s["keyFormat"], s["valueFormat"], s["isWindowed"]] for s in items],
        )
    if kind == "queries":
        return render_table(
            ["Query ID", "Query Type", "Status", "Sink Name", "Sink Kafka Topic", "Query String"],
            [
                [
                    q["id"],
                    q["queryType"],
                    q["state"],
                    ",".join(q["sinks"]),
                    ",".join(q["sinkKafkaTopics"]),
                    q["queryString"],
                ]
                for q in e["queries"]
            ],
        )
    if kind == "kafka_topics":
        return render_table(
            ["Kafka Topic", "Partitions", "Partition Replicas"],
            [[t["name"], len(t["replicaInfo"]), max(t["replicaInfo"] or [0])] for t in e["topics"]],
        )
    if kind == "properties":
        return render_table(["Property", "Value"], [[p["name"], p["value"]] for p in e["properties"]])
    if kind == "function_names":
        return render_table(
            ["Function Name", "Category"], [[f["name"], f["category"]] for f in e["functions"]]
        )
    if kind == "sourceDescription":
        d = e["sourceDescription"]
        head = f"Name                 : {d['name']}\nType                 : {d['type']}\nKafka topic          : {d['topic']} (partitions: {d['partitions']}, replication: {d['replication']})\nKey format           : {d['keyFormat']}\nValue format         : {d['valueFormat']}\n"
        fields = render_table(
            ["Field", "Type"],
            [
                [f["name"], f["schema"]["type"] + (" (key)" if f.get("type") == "KEY" else "")]
                for f in d["fields"]
            ],
        )
        return head + fields
    if kind == "queryDescription":
        d = e["queryDescription"]
        return f"ID                   : {d['id']}\nQuery type           : {d['queryType']}\nSQL                  : {d['statementText']}\n\nExecution plan\n--------------\n{d['executionPlan']}\n\nProcessing topology\n-------------------\n{d['topology']}"
    if kind == "describe_function":
        rows = [[", ".join(v["argumentTypes"]), v["returnType"]] for v in e["functions"]]
        return (
            f"Name        : {e['name']}\nType        : {e['type']}\nDescription : {e['description']}\n"
            + render_table(["Arguments", "Returns"], rows)
        )
    if kind == "type_list":
        return render_table(["Type Name", "Schema"], [[n, i["type"]] for n, i in e["types"].items()])
    if kind == "variables":
        return render_table(["Variable Name", "Value"], [[v["name"], v["value"]] for v in e["variables"]])
    if "message" in e:
        return str(e["message"])
    import json

    return json.dumps(e, indent=2)


class Shell:
    def __init__(self, client: Any, output: str = "table") -> None:
        self.client = client
        self.output = output
        self.names: set[str] = set()

    def run_text(self, text: str) -> int:
        from odradek.sql.parser import split_statements

        failures = 0
        for st in split_statements(text):
            if not self.run_statement(st.text + ";"):
                failures += 1
        return 1 if failures else 0

    def run_statement(self, text: str) -> bool:
        from odradek.sql.client import SqlError, is_query

        head = text.lstrip().split(None, 2)
        if head and head[0].upper() == "RUN" and len(head) > 2 and head[1].upper() == "SCRIPT":
            path = head[2].rstrip(";").strip().strip("'")
            return self.run_text(Path(path).read_text()) == 0
        try:
            if is_query(text):
                self.stream(text)
            else:
                for entity in self.client.ksql(text):
                    print(render_entity(entity) if self.output == "table" else entity)
        except SqlError as e:
            print(str(e), file=sys.stderr)
            return False
        except KeyboardInterrupt:
            print("Query terminated", file=sys.stderr)
        return True

    def stream(self, text: str) -> None:
        header: dict[str, Any] = {}
        rows: list[list[Any]] = []
        printed = False
        try:
            for item in self.client.stream(text):
                if isinstance(item, str):
                    print(item)
                    continue
                if isinstance(item, dict):
                    header = item
                    if "EMIT" in text.upper():
                        print(render_table(header["columnNames"], []).rsplit("\n", 1)[0])
                        printed = True
                    continue
                if printed:
                    print(render_table(header["columnNames"], [item]).split("\n", 3)[3].rsplit("\n", 1)[0])
                else:
                    rows.append(item)
        except KeyboardInterrupt:
            if header.get("queryId"):
                self.client.close_query(header["queryId"])
            raise
        if not printed and header:
            print(render_table(header["columnNames"], rows))

    def interactive(self) -> int:
        try:
            import readline
        except ImportError:  # pragma: no cover - non-GNU platforms
            readline = None  # type: ignore[assignment]
        history = Path.home() / ".odradek_sql_history"
        if readline is not None:
            with contextlib.suppress(OSError):
                readline.read_history_file(history)
            readline.set_completer(self.complete)
            readline.parse_and_bind("tab: complete")
        self.refresh_names()
        print(f"odradek SQL shell, server {self.client.url}. Statements end with ';'. Ctrl-D quits.")
        buffer: list[str] = []
        while True:
            try:
                line = input("ksql> " if not buffer else ">> ")
            except EOFError:
                print()
                break
            except KeyboardInterrupt:
                buffer = []
                print()
                continue
            if line.strip().lower() in ("exit", "quit") and not buffer:
                break
            buffer.append(line)
            text = "\n".join(buffer)
            if text.rstrip().endswith(";"):
                buffer = []
                self.run_text(text)
                self.refresh_names()
        if readline is not None:
            with contextlib.suppress(OSError):
                readline.write_history_file(history)
        return 0

    def refresh_names(self) -> None:
        try:
            for entity in self.client.ksql("SHOW STREAMS; SHOW TABLES; SHOW FUNCTIONS;"):
                for key in ("streams", "tables", "functions"):
                    self.names.update(item["name"] for item in entity.get(key, []))
        except Exception:
            pass

    def complete(self, text: str, state: int) -> str | None:
        options = [w for w in (*KEYWORDS, *sorted(self.names)) if w.startswith(text.upper())]
        return options[state] if state < len(options) else None
