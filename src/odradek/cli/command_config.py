"""`--command-config FILE`: a Kafka client properties file (what Kafka's own tools take) as
librdkafka settings.

Kafka's tools read Java client configs; the CLI's client is librdkafka, whose names differ. The
file's entries are translated, so the same file works for ``kafka-topics.sh --command-config`` and
``odradek topic --command-config``:

* ``security.protocol``, ``sasl.mechanism``, ``ssl.key.password``: the same names;
* ``sasl.jaas.config``: PlainLoginModule/ScramLoginModule ``username``/``password`` become
  ``sasl.username``/``sasl.password``; OAuthBearerLoginModule ``unsecuredLoginStringClaim_sub``
  becomes ``enable.sasl.oauthbearer.unsecure.jwt`` + ``sasl.oauthbearer.config=principal=...``;
* ``ssl.truststore.location`` (PEM) / ``ssl.truststore.certificates``: ``ssl.ca.location`` /
  ``ssl.ca.pem``;
* ``ssl.keystore.location`` (PEM, key and chain in one file): ``ssl.certificate.location`` and
  ``ssl.key.location``; with ``ssl.keystore.type=PKCS12``: ``ssl.keystore.location`` and
  ``ssl.keystore.password``; inline ``ssl.keystore.certificate.chain`` / ``ssl.keystore.key``:
  ``ssl.certificate.pem`` / ``ssl.key.pem``;
* ``ssl.endpoint.identification.algorithm`` (empty = off): ``https`` or ``none``.

Any other key is passed on unchanged, so librdkafka's own names work in the file too. Keys that
only make sense to the Java client (``ssl.truststore.type=PEM``, ``ssl.keystore.type=PEM``,
``ssl.truststore.password`` of a PEM store) are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from odradek.security.jaas import OAUTHBEARER_LOGIN_MODULE, JaasConfigError, parse_jaas_config

_DROPPED = {"ssl.truststore.type", "ssl.keystore.type", "ssl.truststore.password"}


class CommandConfigError(ValueError):
    pass


def translate(props: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    keystore_type = props.get("ssl.keystore.type", "PEM").upper()
    for key, value in props.items():
        if key == "sasl.jaas.config":
            out.update(_jaas(value))
        elif key == "ssl.truststore.location":
            out["ssl.ca.location"] = value
        elif key == "ssl.truststore.certificates":
            out["ssl.ca.pem"] = value
        elif key == "ssl.keystore.location" and keystore_type == "PKCS12":
            out["ssl.keystore.location"] = value
        elif key == "ssl.keystore.location":
            out["ssl.certificate.location"] = value
            out["ssl.key.location"] = value
        elif key == "ssl.keystore.password" and keystore_type != "PKCS12":
            continue
        elif key == "ssl.keystore.certificate.chain":
            out["ssl.certificate.pem"] = value
        elif key == "ssl.keystore.key":
            out["ssl.key.pem"] = value
        elif key == "ssl.endpoint.identification.algorithm":
            out["ssl.endpoint.identification.algorithm"] = (
                "https" if value.strip().lower() == "https" else "none"
            )
        elif key in _DROPPED:
            continue
        else:
            out[key] = value
    return out


def _jaas(text: str) -> dict[str, str]:
    try:
        module = parse_jaas_config(text)
    except JaasConfigError as exc:
        raise CommandConfigError(f"sasl.jaas.config: {exc}") from exc
    if module.class_name == OAUTHBEARER_LOGIN_MODULE:
        subject = module.options.get("unsecuredLoginStringClaim_sub")
        if subject is None:
            raise CommandConfigError(
                "sasl.jaas.config: the OAuthBearerLoginModule needs unsecuredLoginStringClaim_sub here; "
                "for an identity provider set librdkafka's sasl.oauthbearer.* properties instead"
            )
        return {
            "enable.sasl.oauthbearer.unsecure.jwt": "true",
            "sasl.oauthbearer.config": f"principal={subject}",
        }
    missing = [k for k in ("username", "password") if k not in module.options]
    if missing:
        raise CommandConfigError(f"sasl.jaas.config: {module.class_name} lacks {', '.join(missing)}")
    return {"sasl.username": module.options["username"], "sasl.password": module.options["password"]}


def read_command_config(path: Path) -> dict[str, str]:
    from odradek.broker.config import read_properties

    try:
        return translate(read_properties(path))
    except OSError as exc:
        raise CommandConfigError(f"cannot read {path}: {exc.strerror}") from exc
