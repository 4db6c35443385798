"""A dynamic keystore change is checked before AlterConfigs writes it: the keystore must load, keep
the served certificate's subject (unless ssl.allow.dn.changes) and its alternative names (unless
ssl.allow.san.changes). Refusals are INVALID_REQUEST with Kafka's words; nothing is written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from odradek.broker.keystore_update import KeystoreUpdateCheck, ensure_compatible, keystore_certificate
from odradek.broker.listener_security import ListenerSecurity
from odradek.broker.tls import ListenerTls, TlsConfigError, TlsSettings
from odradek.metadata.config_types import ConfigResourceType
from odradek.metadata.controller.configs import (
    AlterableConfig,
    AlterConfigsResource,
    IncrementalAlterConfigsResource,
    alter_configs,
    incremental_alter_configs,
)
from odradek.metadata.image import ClusterImage
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.model.errors import ErrorCode
from odradek.security.dev_certificates import DEFAULT_SERVER_NAMES, Issued, issue, make_ca

NOW = dt.datetime.now(dt.UTC)
KEY = "listener.name.ssl.ssl.keystore.location"


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("keystores")
    ca = make_ca(NOW)
    issued = {
        "served": issue(ca, "localhost", NOW, server_names=DEFAULT_SERVER_NAMES),
        "renewed": issue(ca, "localhost", NOW, server_names=DEFAULT_SERVER_NAMES),
        "other-dn": issue(ca, "somebody-else", NOW, server_names=DEFAULT_SERVER_NAMES),
        "fewer-sans": issue(ca, "localhost", NOW, server_names=("localhost",)),
    }
    paths = {}
    for name, store in issued.items():
        paths[name] = root / f"{name}.pem"
        paths[name].write_bytes(store.key_pem + store.certificate_pem)
    paths["garbage"] = root / "garbage.pem"
    paths["garbage"].write_bytes(b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    key_only = issued["served"]
    paths["key-only"] = root / "key-only.pem"
    paths["key-only"].write_bytes(Issued(key_only.key_pem, b"").key_pem)
    return paths


def checker(stores: dict[str, Path], **static: str) -> KeystoreUpdateCheck:
    props = {"listener.name.ssl.ssl.keystore.location": str(stores["served"]), **static}
    tls = ListenerTls(TlsSettings.for_listener(props, "SSL"))
    listeners = cast(
        dict[str, ListenerSecurity], {"SSL": SimpleNamespace(tls=tls), "PLAIN": SimpleNamespace(tls=None)}
    )
    return KeystoreUpdateCheck(listeners, props, 1)


def test_a_renewed_certificate_with_the_same_subject_is_accepted(stores: dict[str, Path]) -> None:
    check = checker(stores)
    assert check(ClusterImage.EMPTY, "1", {KEY: str(stores["renewed"])}) is None
    assert check(ClusterImage.EMPTY, "1", {}) is None  # unchanged: nothing to check


@pytest.mark.parametrize(
    ("store", "words"),
    [
        ("missing", "cannot load the keystore"),
        ("garbage", "cannot load the keystore"),
        ("key-only", "cannot load the keystore"),
        ("other-dn", "Keystore DistinguishedName does not match"),
        ("fewer-sans", "Keystore SubjectAltNames do not match"),
    ],
)
def test_a_bad_keystore_is_refused_with_a_message(stores: dict[str, Path], store: str, words: str) -> None:
    path = stores.get(store, stores["served"].parent / "no-such-file.pem")
    message = checker(stores)(ClusterImage.EMPTY, "1", {KEY: str(path)})
    assert message is not None
    assert message.startswith("Validation of dynamic config update of SSLFactory failed: listener SSL: ")
    assert words in message


def test_dn_and_san_changes_may_be_allowed(stores: dict[str, Path]) -> None:
    check = checker(
        stores, **{"ssl.allow.dn.changes": "true", "listener.name.ssl.ssl.allow.san.changes": "true"}
    )
    assert check(ClusterImage.EMPTY, "1", {KEY: str(stores["other-dn"])}) is None
    assert check(ClusterImage.EMPTY, "1", {KEY: str(stores["fewer-sans"])}) is None


def test_other_brokers_are_not_this_brokers_business(stores: dict[str, Path]) -> None:
    assert checker(stores)(ClusterImage.EMPTY, "2", {KEY: "/nowhere"}) is None


def test_the_unprefixed_cluster_default_is_checked_too(stores: dict[str, Path]) -> None:
    # The listener's own prefixed static setting wins over an unprefixed default: no change, no check.
    assert checker(stores)(ClusterImage.EMPTY, "", {"ssl.keystore.location": "/nowhere"}) is None


def test_keystore_certificate_reads_inline_and_file_stores(stores: dict[str, Path]) -> None:
    served = stores["served"].read_text()
    key = served[: served.index("-----BEGIN CERTIFICATE")]
    chain = served[served.index("-----BEGIN CERTIFICATE") :]
    inline = TlsSettings(keystore_key=key, keystore_certificate_chain=chain)
    from_file = TlsSettings(keystore_location=str(stores["served"]))
    assert keystore_certificate(inline) == keystore_certificate(from_file) is not None
    assert keystore_certificate(TlsSettings()) is None
    with pytest.raises(TlsConfigError):
        ensure_compatible(None, keystore_certificate(inline), allow_dn_changes=True, allow_san_changes=True)
    with pytest.raises(TlsConfigError):
        ensure_compatible(keystore_certificate(inline), None, allow_dn_changes=True, allow_san_changes=True)


def refusing(image: ClusterImage, name: str, overrides: Any) -> str | None:
    return f"no: {sorted(overrides.items())}" if overrides.get(KEY) == "/bad" else None


def test_the_controller_answers_invalid_request_and_writes_nothing() -> None:
    static = StaticBrokerConfig.from_properties({"node.id": "1"})
    bad = IncrementalAlterConfigsResource(ConfigResourceType.BROKER, "1", (AlterableConfig(KEY, 0, "/bad"),))
    good = IncrementalAlterConfigsResource(
        ConfigResourceType.BROKER, "1", (AlterableConfig(KEY, 0, "/good"),)
    )
    result = incremental_alter_configs(
        ClusterImage.EMPTY, static, [bad], validate_only=False, broker_check=refusing
    )
    [answer] = result.response
    assert answer.error_code == ErrorCode.INVALID_REQUEST
    assert answer.error_message == f"no: [('{KEY}', '/bad')]"
    assert result.records == ()
    ok = incremental_alter_configs(
        ClusterImage.EMPTY, static, [good], validate_only=False, broker_check=refusing
    )
    assert ok.response[0].error_code == ErrorCode.NO_ERROR and len(ok.records) == 1
    legacy = alter_configs(
        ClusterImage.EMPTY,
        static,
        [AlterConfigsResource(ConfigResourceType.BROKER, "1", ((KEY, "/bad"),))],
        validate_only=True,
        broker_check=refusing,
    )
    assert legacy.response[0].error_code == ErrorCode.INVALID_REQUEST
