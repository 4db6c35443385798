"""Starting a broker imports what serving needs, not the modules of features it was not asked for:
TLS and OAuth libraries, compression codecs, the group coordinator, rarely used APIs' handlers and
message schemas (they cost a start a large part of its time and memory). A check on what is
imported, not a timing: `bench/scale_bench.py` measures the start."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from odradek.process.dataclass_cache import default_path, load
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages.metadata import MetadataRequest
from odradek.testing.broker_process import BrokerProcess
from odradek.testing.raw_client import RawClient

NOT_AT_START = (
    "cryptography",
    "joserfc",
    "cramjam",
    # prometheus_client (http.server, urllib, python-snappy's cramjam) is loaded by the first scrape
    "prometheus_client",
    "odradek.broker.metrics_collector",
    "http.server",
    "http.client",  # urllib.request: schema validation asks the registry at its first lookup
    # the compaction itself runs at the first cleaning of a compacted log
    "odradek.storage.cleaner",
    "odradek.broker.cluster_membership",
    "odradek.coordinator.group.service",
    "odradek.coordinator.group.shard",
    "odradek.broker.handlers.acls",
    "odradek.broker.handlers.create_topics",
    "odradek.protocol.messages.describe_user_scram_credentials",
    "odradek.protocol.messages.create_acls",
    # the transaction coordinator starts with the first InitProducerId (or __transaction_state)
    "odradek.coordinator.transaction",
    "odradek.broker.txn_marker_channel",
    # SASL mechanisms, inter-broker clients, replication: only on listeners/clusters that use them
    "odradek.security.sasl.scram",
    "odradek.security.sasl.plain",
    "odradek.security.sasl.oauthbearer",
    "odradek.security.sasl.jwt_validation",
    "odradek.protocol.messages.fetch",
    # controller operations are imported by the requests that run them
    "odradek.metadata.controller.topics",
    # the crc32c package's __init__ reads its distribution's metadata (odradek loads the extension)
    "importlib.metadata",
    # recovery worker processes (pickle) after a crash
    "pickle",
)

SCRIPT = """
import asyncio, json, struct, sys
from odradek.broker.app import Broker
from odradek.broker.config import BrokerConfig

async def main() -> None:
    broker = Broker(BrokerConfig.from_properties(
        {"listeners": "PLAINTEXT://127.0.0.1:0", "log.dirs": sys.argv[1]}))
    await broker.start()
    try:
        host, port = broker.advertised_endpoint()
        reader, writer = await asyncio.open_connection(host, port)
        # Metadata v1, all topics: api key 3, version 1, correlation id 7, client id "t", topics null
        body = struct.pack(">hhih", 3, 1, 7, 1) + b"t" + struct.pack(">i", -1)
        writer.write(struct.pack(">i", len(body)) + body)
        size = struct.unpack(">i", await reader.readexactly(4))[0]
        correlation_id = struct.unpack(">i", (await reader.readexactly(size))[:4])[0]
        writer.close()
    finally:
        await broker.stop()
    print(json.dumps({"correlation_id": correlation_id, "modules": sorted(sys.modules)}))

asyncio.run(main())
"""


def test_a_plaintext_broker_answering_metadata_imports_no_rarely_used_module(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)], check=True, capture_output=True, text=True, timeout=120
    ).stdout
    result = json.loads(out.splitlines()[-1])
    assert result["correlation_id"] == 7
    modules = set(result["modules"])
    assert "odradek.broker.handlers.metadata" in modules  # loaded by its first request
    imported = sorted(m for m in modules for heavy in NOT_AT_START if m == heavy or m.startswith(heavy + "."))
    assert imported == []


def test_the_cli_imports_only_the_command_it_runs() -> None:
    code = """
import sys
from odradek.cli.main import main
try:
    main(["--log-level", "WARNING", "broker", "--help"])
except SystemExit:
    pass
assert "odradek.cli.commands.broker" in sys.modules
assert not [m for m in sys.modules if m.startswith("odradek.cli.commands.") and not m.endswith(".broker")]
assert "odradek.cli.record_format" not in sys.modules
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, capture_output=True)


def test_the_record_codecs_import_the_compression_library_on_first_use() -> None:
    code = """
import sys
from odradek.protocol import compression, records
assert "cramjam" not in sys.modules
packed = compression.compress(compression.LZ4, b"x" * 100)
assert compression.decompress(compression.LZ4, packed) == b"x" * 100
assert "cramjam" in sys.modules
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_odradek_broker_leaves_the_dataclass_methods_cache_its_next_start_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`odradek broker` runs inside `cached_dataclass_methods("broker")`: a start without the file
    compiles the methods of its dataclasses (those of its modules and of the first requests' handlers)
    and writes them when it stops, for the next start (see process/dataclass_cache.py)."""
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)  # the cache is written as bytecode is
    path = default_path("broker")
    path.unlink(missing_ok=True)
    broker = BrokerProcess(tmp_path / "data").start()
    try:
        with RawClient.connect(broker.bootstrap) as client:
            client.call(ApiKey.METADATA, 12, MetadataRequest(topics=[]))
    finally:
        assert broker.stop() == 0
    assert len(load(path)) > 300  # ~560 for ~110 dataclasses
