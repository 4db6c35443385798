"""Removing a v3 group consumer from its group at once (KIP-345's admin LeaveGroup).

v3 leases are static members (``group.instance.id`` = the consumer's name, see
`odradek.rest.consumers.leases`), and a static member never sends LeaveGroup when it closes
(KIP-345; librdkafka follows it), so without help its partitions would wait for its
``session.timeout.ms`` before the group hands them to the other members. Kafka's admin way out is a
LeaveGroup v3+ naming the member by its ``group.instance.id`` (Java's
``Admin.removeMembersFromConsumerGroup``). confluent-kafka has no such call; kafka-python's
``KafkaAdminClient.remove_group_members`` sends exactly that request, so the proxy uses it (one
short-lived admin client per removal: deleting a consumer is rare).

The admin client gets the proxy's own Kafka client settings, translated from librdkafka's names
(`admin_settings`). A removal that fails is logged and answered as done: the member then leaves by
its session timeout, as before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

log = logging.getLogger("odradek.rest")

REQUEST_TIMEOUT_MS = 10_000

# librdkafka setting -> kafka-python KafkaAdminClient argument (same meaning)
_SAME: dict[str, str] = {
    "bootstrap.servers": "bootstrap_servers",
    "client.id": "client_id",
    "sasl.username": "sasl_plain_username",
    "sasl.password": "sasl_plain_password",
    "ssl.ca.location": "ssl_cafile",
    "ssl.certificate.location": "ssl_certfile",
    "ssl.key.location": "ssl_keyfile",
    "ssl.key.password": "ssl_password",
    "ssl.crl.location": "ssl_crlfile",
}


def admin_settings(client_config: Mapping[str, Any]) -> dict[str, Any]:
    """kafka-python admin client arguments for a librdkafka client configuration.

    Settings without a kafka-python equivalent (librdkafka tuning, the logger) are left out.
    """
    out: dict[str, Any] = {"request_timeout_ms": REQUEST_TIMEOUT_MS}
    for name, value in client_config.items():
        target = _SAME.get(name)
        if target is not None:
            out[target] = str(value)
    protocol = client_config.get("security.protocol")
    if protocol:
        out["security_protocol"] = str(protocol).upper()
    mechanism = client_config.get("sasl.mechanism") or client_config.get("sasl.mechanisms")
    if mechanism:
        out["sasl_mechanism"] = str(mechanism).upper()
    if str(client_config.get("ssl.endpoint.identification.algorithm", "https")).lower() == "none":
        out["ssl_check_hostname"] = False
    return out


def _remove_static_member(settings: dict[str, Any], group: str, instance_id: str) -> str | None:
    """Blocking: LeaveGroup for ``instance_id``; the error's name, or None when it left."""
    from kafka.admin import KafkaAdminClient, MemberToRemove

    admin = KafkaAdminClient(**settings)
    try:
        result = admin.remove_group_members(group, [MemberToRemove(group_instance_id=instance_id)])
    finally:
        admin.close()
    for error in result.values():
        name = str(getattr(error, "__name__", error))
        if name != "NoError":
            return name
    return None


async def remove_static_member(client_config: Mapping[str, Any], group: str, instance_id: str) -> bool:
    """Make the static member ``instance_id`` of ``group`` leave now; False (logged) if it could not."""
    try:
        error = await asyncio.to_thread(
            _remove_static_member, admin_settings(client_config), group, instance_id
        )
    except Exception as exc:  # any failure only delays the rebalance to the session timeout
        log.warning("could not remove %s from group %s at once: %s", instance_id, group, exc)
        return False
    if error is not None and error != "UnknownMemberIdError":
        log.warning("could not remove %s from group %s at once: %s", instance_id, group, error)
        return False
    return True
