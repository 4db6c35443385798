"""TLS for listeners (and the broker's own client connections) with Kafka's ``ssl.*`` configs.

Configs are read per listener: ``listener.name.<listener>.ssl.X`` wins over ``ssl.X``. Supported:

* keystore: ``ssl.keystore.type`` PEM (``ssl.keystore.location`` = a PEM file holding the private key
  and the certificate chain, or ``ssl.keystore.key`` + ``ssl.keystore.certificate.chain`` given
  inline) or PKCS12 (``ssl.keystore.location`` + ``ssl.keystore.password``); ``ssl.key.password``
  decrypts an encrypted key. JKS is Java's own format: convert it to PKCS12 or PEM with keytool.
* truststore: ``ssl.truststore.type`` PEM (``ssl.truststore.location`` or inline
  ``ssl.truststore.certificates``) or PKCS12.
* ``ssl.client.auth`` none | requested | required (mutual TLS), ``ssl.enabled.protocols``
  (TLSv1.2, TLSv1.3), ``ssl.cipher.suites`` (IANA names as Kafka takes them, or OpenSSL names; they
  apply to TLS 1.2, TLS 1.3 suites are OpenSSL's defaults), ``ssl.endpoint.identification.algorithm``
  (``https`` = check the host name, for client contexts).

`ListenerTls.reload()` loads the key store again into the same SSLContext, so new connections get
the new certificate while open ones keep theirs (what AlterConfigs on a listener's keystore does).
Key material given inline or in PKCS12 is handed to OpenSSL through a private temporary file
(mode 0600, removed at once): Python's ssl module loads keys only from files.

`cryptography` (PKCS12 stores, client certificate subjects) is imported where it is used, so a broker
without such listeners never loads it (a noticeable part of a start's time and memory).
"""

from __future__ import annotations

import contextlib
import os
import re
import ssl
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

CLIENT_AUTH = ("none", "requested", "required")
_PROTOCOLS = {"TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}


class TlsConfigError(ValueError):
    pass


def listener_setting(
    props: Mapping[str, str], listener: str, name: str, default: str | None = None
) -> str | None:
    """``listener.name.<listener lower-case>.<name>`` if set, else ``<name>``, else `default`."""
    prefixed = props.get(f"listener.name.{listener.lower()}.{name}")
    if prefixed is not None:
        return prefixed
    return props.get(name, default)


def openssl_cipher_name(name: str) -> str:
    """IANA/Java suite names to OpenSSL's (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 ->
    ECDHE-RSA-AES128-GCM-SHA256); OpenSSL names pass through."""
    if not name.startswith("TLS_") or "_WITH_" not in name:
        return name
    kex, cipher = name[4:].split("_WITH_", 1)
    cipher = re.sub(r"AES_(\d+)", r"AES\1", cipher).replace("CHACHA20_POLY1305_SHA256", "CHACHA20-POLY1305")
    cipher = cipher.replace("_CBC", "").replace("_", "-")
    kex = "" if kex == "RSA" else kex.replace("_", "-") + "-"
    return kex + cipher


@contextlib.contextmanager
def _private_file(data: bytes) -> Iterator[str]:
    import tempfile

    fd, path = tempfile.mkstemp(prefix="odradek-tls-", suffix=".pem")
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.close(fd)
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """The ssl.* configs of one listener or client: key store, trust store, client auth, protocols."""

    keystore_type: str = "PEM"
    keystore_location: str | None = None
    keystore_password: str | None = None
    keystore_key: str | None = None
    keystore_certificate_chain: str | None = None
    key_password: str | None = None
    truststore_type: str = "PEM"
    truststore_location: str | None = None
    truststore_password: str | None = None
    truststore_certificates: str | None = None
    client_auth: str = "none"
    enabled_protocols: tuple[str, ...] = ("TLSv1.2", "TLSv1.3")
    cipher_suites: tuple[str, ...] = ()
    endpoint_identification: str = "https"

    @classmethod
    def for_listener(cls, props: Mapping[str, str], listener: str) -> TlsSettings:
        def get(name: str, default: str | None = None) -> str | None:
            return listener_setting(props, listener, f"ssl.{name}", default)

        def items(name: str, default: str) -> tuple[str, ...]:
            return tuple(x.strip() for x in (get(name, default) or "").split(",") if x.strip())

        settings = cls(
            (get("keystore.type", "PEM") or "PEM").upper(),
            get("keystore.location"),
            get("keystore.password"),
            get("keystore.key"),
            get("keystore.certificate.chain"),
            get("key.password"),
            (get("truststore.type", "PEM") or "PEM").upper(),
            get("truststore.location"),
            get("truststore.password"),
            get("truststore.certificates"),
            (get("client.auth", "none") or "none").lower(),
            items("enabled.protocols", "TLSv1.2,TLSv1.3"),
            items("cipher.suites", ""),
            (get("endpoint.identification.algorithm", "https") or "").lower(),
        )
        settings.check()
        return settings

    def check(self) -> None:
        if self.client_auth not in CLIENT_AUTH:
            raise TlsConfigError(f"Invalid value {self.client_auth} for configuration ssl.client.auth")
        unknown = [p for p in self.enabled_protocols if p not in _PROTOCOLS]
        if unknown or not self.enabled_protocols:
            raise TlsConfigError(
                f"ssl.enabled.protocols: unsupported {unknown or 'empty list'} (TLSv1.2, TLSv1.3)"
            )
        for kind in (self.keystore_type, self.truststore_type):
            if kind not in ("PEM", "PKCS12"):
                raise TlsConfigError(
                    f"store type {kind} is not supported (PEM or PKCS12; convert JKS with keytool)"
                )

    def _apply_common(self, context: ssl.SSLContext) -> None:
        versions = sorted(_PROTOCOLS[p] for p in self.enabled_protocols)
        context.minimum_version = versions[0]
        context.maximum_version = versions[-1]
        if self.cipher_suites:
            try:
                context.set_ciphers(":".join(openssl_cipher_name(c) for c in self.cipher_suites))
            except ssl.SSLError as exc:
                raise TlsConfigError(
                    f"ssl.cipher.suites: no usable cipher in {list(self.cipher_suites)}"
                ) from exc
        self._load_trust(context)

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._apply_common(context)
        context.verify_mode = {
            "none": ssl.CERT_NONE,
            "requested": ssl.CERT_OPTIONAL,
            "required": ssl.CERT_REQUIRED,
        }[self.client_auth]
        self.load_keystore(context)
        return context

    def client_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = self.endpoint_identification == "https"
        self._apply_common(context)
        if self.keystore_location or self.keystore_key:
            self.load_keystore(context)
        return context

    def load_keystore(self, context: ssl.SSLContext) -> None:
        password = self.key_password
        try:
            if self.keystore_type == "PKCS12":
                from cryptography.hazmat.primitives import serialization
                from cryptography.hazmat.primitives.serialization import pkcs12

                if not self.keystore_location:
                    raise TlsConfigError("ssl.keystore.location is required for a PKCS12 keystore")
                key, cert, extra = pkcs12.load_key_and_certificates(
                    Path(self.keystore_location).read_bytes(), (self.keystore_password or "").encode() or None
                )
                if key is None or cert is None:
                    raise TlsConfigError("the PKCS12 keystore holds no private key and certificate")
                pem = key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ) + b"".join(c.public_bytes(serialization.Encoding.PEM) for c in [cert, *extra])
                with _private_file(pem) as path:
                    context.load_cert_chain(path)
            elif self.keystore_key and self.keystore_certificate_chain:
                pem = (
                    self.keystore_key.strip() + "\n" + self.keystore_certificate_chain.strip() + "\n"
                ).encode()
                with _private_file(pem) as path:
                    context.load_cert_chain(path, password=password)
            elif self.keystore_location:
                context.load_cert_chain(self.keystore_location, password=password)
            else:
                raise TlsConfigError(
                    "no keystore: set ssl.keystore.location, or ssl.keystore.key and "
                    "ssl.keystore.certificate.chain"
                )
        except (OSError, ssl.SSLError, ValueError) as exc:
            if isinstance(exc, TlsConfigError):
                raise
            raise TlsConfigError(f"cannot load the keystore: {exc}") from exc

    def _load_trust(self, context: ssl.SSLContext) -> None:
        try:
            if self.truststore_type == "PKCS12" and self.truststore_location:
                from cryptography.hazmat.primitives import serialization
                from cryptography.hazmat.primitives.serialization import pkcs12

                _, cert, extra = pkcs12.load_key_and_certificates(
                    Path(self.truststore_location).read_bytes(),
                    (self.truststore_password or "").encode() or None,
                )
                certs = [c for c in [cert, *extra] if c is not None]
                context.load_verify_locations(
                    cadata="".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certs)
                )
            elif self.truststore_certificates:
                context.load_verify_locations(cadata=self.truststore_certificates)
            elif self.truststore_location:
                context.load_verify_locations(cafile=self.truststore_location)
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise TlsConfigError(f"cannot load the truststore: {exc}") from exc


class ListenerTls:
    """One TLS listener's context, reloadable in place."""

    def __init__(self, settings: TlsSettings) -> None:
        self.settings = settings
        self.context = settings.server_context()

    def reload(self, settings: TlsSettings) -> None:
        """New key material for new connections; a bad keystore raises and changes nothing."""
        settings.server_context()  # validates everything first
        settings.load_keystore(self.context)
        self.settings = settings


def peer_distinguished_name(der: bytes | None) -> str | None:
    """The subject of a client certificate in RFC 4514 form (``CN=alice,O=Example``)."""
    if not der:
        return None
    from cryptography import x509

    return x509.load_der_x509_certificate(der).subject.rfc4514_string()


PrincipalBuilder = Callable[[str | None], str]
