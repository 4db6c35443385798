"""Certificates renewed without a restart: AlterConfigs on a listener's keystore reloads it.

As in Kafka, ``listener.name.<listener>.ssl.keystore.location`` (and the other keystore settings,
or their unprefixed names) may be changed for one broker with AlterConfigs /
IncrementalAlterConfigs (``kafka-configs.sh --entity-type brokers --entity-name 1 --alter
--add-config listener.name.sasl_ssl.ssl.keystore.location=/etc/new.pem``). The change is kept in
the cluster metadata; this publisher then loads the key material into the listener's SSLContext:
new connections get the new certificate, open ones keep theirs. AlterConfigs refuses a keystore
that does not load (or changes the certificate's subject) before anything is written
(`broker.keystore_update`); one that breaks afterwards (the file replaced between the check and
the reload) is logged and changes nothing (the listener keeps serving the old certificate).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from odradek.broker.listener_security import ListenerSecurity
from odradek.broker.tls import TlsConfigError, TlsSettings
from odradek.metadata.image import ClusterImage
from odradek.metadata.store import MetadataChange

log = logging.getLogger("odradek.broker.tls")


def effective_properties(static: Mapping[str, str], image: ClusterImage, node_id: int) -> dict[str, str]:
    """Static properties overlaid with the dynamic broker configs (cluster default, then this broker)."""
    return {**static, **image.broker_configs.get("", {}), **image.broker_configs.get(str(node_id), {})}


class TlsReloadPublisher:
    name = "listener TLS"

    def __init__(
        self, listeners: Mapping[str, ListenerSecurity], static: Mapping[str, str], node_id: int
    ) -> None:
        self._listeners = listeners
        self._static = static
        self._node_id = node_id

    async def publish(self, change: MetadataChange) -> None:
        keys = ("", str(self._node_id))
        if all(change.before.broker_configs.get(k) == change.after.broker_configs.get(k) for k in keys):
            return
        props = effective_properties(self._static, change.after, self._node_id)
        for name, security in self._listeners.items():
            if security.tls is None:
                continue
            try:
                settings = TlsSettings.for_listener(props, name)
                if settings == security.tls.settings:
                    continue
                security.tls.reload(settings)
            except TlsConfigError as exc:
                log.error("listener %s keeps its certificate: the new keystore does not load: %s", name, exc)
                continue
            log.info("listener %s: keystore reloaded", name)
