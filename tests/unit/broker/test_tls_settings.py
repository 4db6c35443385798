"""Listener TLS from Kafka's ssl.* configs: contexts, mutual TLS, reload, with in-memory handshakes
(ssl.MemoryBIO, no sockets) over certificates from the development CA."""

from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path

import pytest

from odradek.broker.tls import (
    ListenerTls,
    TlsConfigError,
    TlsSettings,
    openssl_cipher_name,
    peer_distinguished_name,
)
from odradek.security.dev_certificates import DEFAULT_SERVER_NAMES, Issued, issue, make_ca

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pki")
    ca = make_ca(NOW)
    server = issue(ca, "broker", NOW, server_names=DEFAULT_SERVER_NAMES)
    client = issue(ca, "alice", NOW, client=True)
    other_ca = make_ca(NOW, "someone else")
    stranger = issue(other_ca, "mallory", NOW, client=True)
    files = {"ca": ca.certificate_pem}

    def store(name: str, issued: Issued) -> None:
        files[name] = issued.key_pem + issued.certificate_pem

    store("server", server)
    store("client", client)
    store("stranger", stranger)
    store("server2", issue(ca, "broker-renewed", NOW, server_names=DEFAULT_SERVER_NAMES))
    paths = {}
    for name, data in files.items():
        paths[name] = root / f"{name}.pem"
        paths[name].write_bytes(data)
    return paths


def handshake(server: ssl.SSLContext, client: ssl.SSLContext, hostname: str = "localhost"):
    """Runs a TLS handshake in memory; returns the two SSLObjects (or raises the first SSLError)."""
    s_in, s_out, c_in, c_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    srv = server.wrap_bio(s_in, s_out, server_side=True)
    cli = client.wrap_bio(c_in, c_out, server_hostname=hostname)
    done = {"s": False, "c": False}
    for _ in range(20):
        for name, side in (("c", cli), ("s", srv)):
            if not done[name]:
                try:
                    side.do_handshake()
                    done[name] = True
                except ssl.SSLWantReadError:
                    pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if all(done.values()):
            return srv, cli
    raise AssertionError("handshake did not finish")


def props(pki: dict[str, Path], **extra: str) -> dict[str, str]:
    return {"ssl.keystore.location": str(pki["server"]), "ssl.truststore.location": str(pki["ca"]), **extra}


def client_context(pki: dict[str, Path], cert: str | None = None) -> ssl.SSLContext:
    settings = {"ssl.truststore.location": str(pki["ca"])}
    if cert:
        settings["ssl.keystore.location"] = str(pki[cert])
    return TlsSettings.for_listener(settings, "CLIENT").client_context()


def test_server_authentication_and_hostname_check(pki: dict[str, Path]) -> None:
    server = TlsSettings.for_listener(props(pki), "SSL").server_context()
    srv, cli = handshake(server, client_context(pki))
    assert cli.version() in ("TLSv1.2", "TLSv1.3")
    assert srv.getpeercert(binary_form=True) is None  # no client auth asked
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(server, client_context(pki), hostname="broker.example.com")


def test_mutual_tls_gives_the_client_subject(pki: dict[str, Path]) -> None:
    server = TlsSettings.for_listener(props(pki, **{"ssl.client.auth": "required"}), "SSL").server_context()
    srv, _ = handshake(server, client_context(pki, "client"))
    assert peer_distinguished_name(srv.getpeercert(binary_form=True)) == "CN=alice,O=odradek dev"
    with pytest.raises(ssl.SSLError):
        handshake(server, client_context(pki))  # no certificate
    with pytest.raises(ssl.SSLError):
        handshake(server, client_context(pki, "stranger"))  # signed by another CA


def test_listener_prefixed_settings_win(pki: dict[str, Path]) -> None:
    settings = TlsSettings.for_listener(
        {**props(pki), "ssl.client.auth": "none", "listener.name.internal.ssl.client.auth": "required"},
        "INTERNAL",
    )
    assert settings.client_auth == "required"
    assert TlsSettings.for_listener(props(pki), "EXTERNAL").client_auth == "none"


def test_protocol_pinning(pki: dict[str, Path]) -> None:
    server = TlsSettings.for_listener(
        props(pki, **{"ssl.enabled.protocols": "TLSv1.3"}), "SSL"
    ).server_context()
    client = client_context(pki)
    client.maximum_version = ssl.TLSVersion.TLSv1_2
    with pytest.raises(ssl.SSLError):
        handshake(server, client)


def test_inline_pem_keystore_and_reload(pki: dict[str, Path]) -> None:
    text = pki["server"].read_text()
    key, _, chain = text.partition("-----END PRIVATE KEY-----")
    inline = {
        "ssl.keystore.key": key + "-----END PRIVATE KEY-----\n",
        "ssl.keystore.certificate.chain": chain,
        "ssl.truststore.certificates": pki["ca"].read_text(),
    }
    listener = ListenerTls(TlsSettings.for_listener(inline, "SSL"))
    _, cli = handshake(listener.context, client_context(pki))
    assert "broker" in str(cli.getpeercert()["subject"])
    listener.reload(
        TlsSettings.for_listener(props(pki, **{"ssl.keystore.location": str(pki["server2"])}), "SSL")
    )
    _, cli = handshake(listener.context, client_context(pki))
    assert "broker-renewed" in str(cli.getpeercert()["subject"])
    with pytest.raises(TlsConfigError):
        listener.reload(
            TlsSettings.for_listener(props(pki, **{"ssl.keystore.location": "/nonexistent"}), "SSL")
        )
    _, cli = handshake(listener.context, client_context(pki))  # a failed reload changes nothing
    assert "broker-renewed" in str(cli.getpeercert()["subject"])


@pytest.mark.parametrize(
    "bad",
    [
        {"ssl.client.auth": "maybe"},
        {"ssl.enabled.protocols": "TLSv1"},
        {"ssl.keystore.type": "JKS"},
        {"ssl.cipher.suites": "TLS_NOPE_WITH_NOTHING"},
        {"ssl.keystore.location": "/nonexistent.pem"},
    ],
)
def test_bad_settings_fail_with_a_message(pki: dict[str, Path], bad: dict[str, str]) -> None:
    with pytest.raises(TlsConfigError):
        TlsSettings.for_listener(props(pki, **bad), "SSL").server_context()


def test_cipher_names() -> None:
    assert openssl_cipher_name("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256") == "ECDHE-RSA-AES128-GCM-SHA256"
    assert (
        openssl_cipher_name("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256")
        == "ECDHE-ECDSA-CHACHA20-POLY1305"
    )
    assert openssl_cipher_name("TLS_RSA_WITH_AES_256_GCM_SHA384") == "AES256-GCM-SHA384"
    assert openssl_cipher_name("ECDHE-RSA-AES128-GCM-SHA256") == "ECDHE-RSA-AES128-GCM-SHA256"


def test_cipher_suites_restrict_tls12(pki: dict[str, Path]) -> None:
    settings = props(
        pki,
        **{
            "ssl.enabled.protocols": "TLSv1.2",
            "ssl.cipher.suites": "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        },
    )
    _, cli = handshake(TlsSettings.for_listener(settings, "SSL").server_context(), client_context(pki))
    assert cli.cipher()[0] == "ECDHE-ECDSA-AES256-GCM-SHA384"
