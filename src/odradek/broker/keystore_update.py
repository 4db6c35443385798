"""Whether a listener may take a new keystore, checked before AlterConfigs writes anything.

Kafka validates a dynamic keystore change on the broker before it is stored (`SslFactory`'s
reconfiguration check) and refuses the whole resource with INVALID_REQUEST when it fails, so a
typo in a path never reaches the metadata log. The same rules here, for every TLS listener whose
effective settings the change alters:

* the new settings must build a server context (files exist, key and chain load, password right);
* the new certificate must carry the same subject distinguished name as the one being served,
  unless ``ssl.allow.dn.changes=true``, and every subject alternative name it had, unless
  ``ssl.allow.san.changes=true`` (both read per listener, as ``listener.name.<l>.ssl.allow.*``).

The answer is a message in Kafka's words ("Validation of dynamic config update of SSLFactory
failed: ..."), or None.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from odradek.broker.listener_security import ListenerSecurity
from odradek.broker.tls import TlsConfigError, TlsSettings, listener_setting
from odradek.metadata.image import ClusterImage

if TYPE_CHECKING:
    from cryptography import x509

FAILED = "Validation of dynamic config update of SSLFactory failed: "


def keystore_certificate(settings: TlsSettings) -> x509.Certificate | None:
    """The first (leaf) certificate of a keystore, or None when the keystore holds none."""
    from cryptography import x509  # imported when a TLS listener's keystore changes, not at start
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        if settings.keystore_type == "PKCS12" and settings.keystore_location:
            _, cert, _ = pkcs12.load_key_and_certificates(
                Path(settings.keystore_location).read_bytes(),
                (settings.keystore_password or "").encode() or None,
            )
            return cert
        if settings.keystore_key and settings.keystore_certificate_chain:
            pem = settings.keystore_certificate_chain.encode()
        elif settings.keystore_location:
            pem = Path(settings.keystore_location).read_bytes()
        else:
            return None
        certificates = x509.load_pem_x509_certificates(pem)
    except (OSError, ValueError) as exc:
        raise TlsConfigError(f"cannot read the keystore's certificate: {exc}") from exc
    return certificates[0] if certificates else None


def _alternative_names(cert: x509.Certificate) -> set[str]:
    from cryptography import x509

    try:
        extension = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return set()
    return {f"{type(name).__name__}:{name.value}" for name in extension.value}


def ensure_compatible(
    old: x509.Certificate | None,
    new: x509.Certificate | None,
    *,
    allow_dn_changes: bool,
    allow_san_changes: bool,
) -> None:
    """Raise TlsConfigError if `new` may not replace `old` on a listener."""
    if old is None:
        if new is not None:
            raise TlsConfigError(
                "Cannot add SSL keystore to an existing listener for which no keystore was configured."
            )
        return
    if new is None:
        raise TlsConfigError(
            "Cannot remove the SSL keystore from an existing listener for which a keystore was configured."
        )
    old_dn, new_dn = old.subject.rfc4514_string(), new.subject.rfc4514_string()
    if not allow_dn_changes and old.subject != new.subject and old_dn.lower() != new_dn.lower():
        raise TlsConfigError(f"Keystore DistinguishedName does not match: existing={old_dn}, new={new_dn}")
    old_names, new_names = _alternative_names(old), _alternative_names(new)
    if not allow_san_changes and not old_names <= new_names:
        raise TlsConfigError(
            f"Keystore SubjectAltNames do not match: existing={sorted(old_names)}, new={sorted(new_names)}"
        )


def _flag(props: Mapping[str, str], listener: str, name: str) -> bool:
    return (listener_setting(props, listener, name, "false") or "false").strip().lower() == "true"


class KeystoreUpdateCheck:
    """The broker's check of a BROKER resource's new dynamic configs (see the module doc)."""

    def __init__(
        self, listeners: Mapping[str, ListenerSecurity], static: Mapping[str, str], node_id: int
    ) -> None:
        self._listeners = listeners
        self._static = static
        self._node_id = node_id

    def __call__(self, image: ClusterImage, resource_name: str, overrides: Mapping[str, str]) -> str | None:
        own = str(self._node_id)
        if resource_name not in ("", own):
            return None
        levels = {"": image.broker_configs.get("", {}), own: image.broker_configs.get(own, {})}
        levels[resource_name] = overrides
        props = {**self._static, **levels[""], **levels[own]}
        for name, security in self._listeners.items():
            if security.tls is None:
                continue
            current = security.tls.settings
            try:
                settings = TlsSettings.for_listener(props, name)
                if settings == current:
                    continue
                settings.server_context()
                ensure_compatible(
                    keystore_certificate(current),
                    keystore_certificate(settings),
                    allow_dn_changes=_flag(props, name, "ssl.allow.dn.changes"),
                    allow_san_changes=_flag(props, name, "ssl.allow.san.changes"),
                )
            except TlsConfigError as exc:
                return f"{FAILED}listener {name}: {exc}"
        return None
