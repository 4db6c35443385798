"""A small blocking admin client over the Kafka protocol, for admin APIs confluent-kafka lacks.

confluent-kafka 2.16's AdminClient has no ListTransactions, DescribeTransactions, DescribeProducers
or client quota calls, so `odradek transactions`, `odradek producers` and `odradek quota` speak them
directly with the project's codec: one socket per broker, requests answered in order, over
PLAINTEXT, TLS and/or SASL as `--command-config` says (`wire_security.py`).

Wire format: each request is ``int32 size`` + header (api key, version, correlation id, client id;
tagged fields for flexible versions) + body; each response ``int32 size`` + correlation id (+ tagged
fields for flexible versions except ApiVersions) + body. The version of each API is the highest
both sides support, from the broker's ApiVersions answer (asked at v0, which every broker serves).

    with Cluster.connect("127.0.0.1:9092", timeout=30) as cluster:
        response = cluster.call(cluster.bootstrap_node, ApiKey.LIST_TRANSACTIONS, request)
"""

from __future__ import annotations

import itertools
import socket
import ssl
import struct
from dataclasses import dataclass
from typing import Any

from odradek.cli.errors import CliError
from odradek.cli.wire_security import WireSecurity
from odradek.protocol import codec, framing
from odradek.protocol import primitives as p
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import api_versions, metadata, sasl_authenticate, sasl_handshake
from odradek.protocol.messages.index import REQUESTS, RESPONSES
from odradek.security.sasl.login import next_message
from odradek.security.sasl.mechanism import SaslAuthenticationError

_SIZE = struct.Struct(">i")
CLIENT_ID = "odradek-cli"
BOOTSTRAP_NODE = -1


class Connection:
    """One broker socket and the API versions it supports."""

    def __init__(
        self, address: tuple[str, int], timeout: float, security: WireSecurity | None = None
    ) -> None:
        security = security or WireSecurity()
        try:
            self.sock = socket.create_connection(address, timeout=timeout)
            if security.ssl_context is not None:
                self.sock = security.ssl_context.wrap_socket(self.sock, server_hostname=address[0])
        except ssl.SSLError as exc:
            raise CliError(
                f"TLS handshake with {address[0]}:{address[1]} failed: {exc.reason or exc}"
            ) from exc
        except OSError as exc:
            raise CliError(f"cannot connect to {address[0]}:{address[1]}: {exc}") from exc
        self._correlation = itertools.count(1)
        versions = self._call(ApiKey.API_VERSIONS, 0, api_versions.ApiVersionsRequest())
        self.versions = {v.api_key: (v.min_version, v.max_version) for v in versions.api_keys}
        if security.sasl_client is not None:
            self._authenticate(security)

    def _authenticate(self, security: WireSecurity) -> None:
        assert security.sasl_client is not None and security.mechanism is not None
        handshake = self._call(
            ApiKey.SASL_HANDSHAKE, 1, sasl_handshake.SaslHandshakeRequest(security.mechanism)
        )
        if handshake.error_code:
            enabled = ", ".join(handshake.mechanisms)
            raise CliError(f"the broker does not enable SASL/{security.mechanism} (it enables: {enabled})")
        client = security.sasl_client()
        message: bytes | None = client.initial_response()
        version = self.version_for(ApiKey.SASL_AUTHENTICATE)
        while message is not None:
            request = sasl_authenticate.SaslAuthenticateRequest(message)
            response = self._call(ApiKey.SASL_AUTHENTICATE, version, request)
            try:
                message = next_message(
                    client, response.error_code, response.error_message, response.auth_bytes
                )
            except SaslAuthenticationError as exc:
                raise CliError(f"authentication failed: {exc}") from exc

    def version_for(self, api_key: ApiKey) -> int:
        ours = REQUESTS[api_key].valid
        theirs = self.versions.get(api_key)
        if ours is None or theirs is None or max(ours[0], theirs[0]) > min(ours[1], theirs[1]):
            raise CliError(f"the broker does not serve {api_key.name}")
        return int(min(ours[1], theirs[1]))

    def call(self, api_key: ApiKey, request: Any) -> Any:
        return self._call(api_key, self.version_for(api_key), request)

    def _call(self, api_key: int, version: int, request: Any) -> Any:
        schema = REQUESTS[api_key]
        cid = next(self._correlation)
        header = framing.RequestHeader(api_key, version, cid, CLIENT_ID)
        body = framing.request_header_bytes(header, schema.is_flexible(version))
        body += codec.encode_bytes(schema, version, request)
        try:
            self.sock.sendall(_SIZE.pack(len(body)) + body)
            (size,) = _SIZE.unpack(self._receive(4))
            frame = self._receive(size)
        except OSError as exc:
            raise CliError(f"request to the broker failed: {exc}") from exc
        got, pos = p.read_int32(frame, 0)
        if got != cid:
            raise CliError(f"broker answered correlation id {got}, expected {cid}")
        response_schema = RESPONSES[api_key]
        if api_key != framing.API_VERSIONS_KEY and response_schema.is_flexible(version):
            pos = p.skip_tagged_fields(frame, pos)
        response, _ = codec.decode(response_schema, version, frame, pos)
        return response

    def _receive(self, n: int) -> bytes:
        data = bytearray()
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("connection closed by the broker")
            data += chunk
        return bytes(data)

    def close(self) -> None:
        self.sock.close()


@dataclass(frozen=True, slots=True)
class Broker:
    node_id: int
    host: str
    port: int


class Cluster:
    """Connections to the brokers of a cluster, found through the bootstrap server's Metadata."""

    def __init__(self, bootstrap: str, timeout: float, security: WireSecurity | None = None) -> None:
        self.timeout = timeout
        self.security = security
        host, _, port = bootstrap.rpartition(":")
        if not host or not port.isdigit():
            raise CliError(f"bad bootstrap server {bootstrap!r}: expected HOST:PORT")
        self._connections: dict[int, Connection] = {
            BOOTSTRAP_NODE: Connection((host, int(port)), timeout, security)
        }
        self.brokers: dict[int, Broker] = {}
        self.leaders: dict[tuple[str, int], int] = {}

    @classmethod
    def connect(cls, bootstrap: str, timeout: float, security: WireSecurity | None = None) -> Cluster:
        return cls(bootstrap, timeout, security)

    def load_metadata(self, topics: list[str] | None) -> metadata.MetadataResponse:
        request = metadata.MetadataRequest(
            topics=None if topics is None else [metadata.MetadataRequestTopic(name=t) for t in topics],
            allow_auto_topic_creation=False,
        )
        response: metadata.MetadataResponse = self.call(BOOTSTRAP_NODE, ApiKey.METADATA, request)
        self.brokers = {b.node_id: Broker(b.node_id, b.host, b.port) for b in response.brokers}
        for topic in response.topics:
            if topic.name is None:
                continue
            for part in topic.partitions:
                self.leaders[(topic.name, part.partition_index)] = part.leader_id
        return response

    def connection(self, node_id: int) -> Connection:
        conn = self._connections.get(node_id)
        if conn is None:
            broker = self.brokers.get(node_id)
            if broker is None:
                raise CliError(f"broker {node_id} is not in the cluster metadata")
            conn = self._connections[node_id] = Connection(
                (broker.host, broker.port), self.timeout, self.security
            )
        return conn

    def call(self, node_id: int, api_key: ApiKey, request: Any) -> Any:
        return self.connection(node_id).call(api_key, request)

    def close(self) -> None:
        for conn in self._connections.values():
            conn.close()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
