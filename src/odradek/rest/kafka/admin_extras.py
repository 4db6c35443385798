"""The admin calls confluent-kafka cannot make, sent through kafka-python's ``KafkaAdminClient``.

- **Removing a static member** (`remove_static_member`): v3 leases are static members
  (``group.instance.id`` = the consumer's name, see `odradek.rest.consumers.leases`), and a static
  member never sends LeaveGroup when it closes (KIP-345; librdkafka follows it), so without help its
  partitions would wait for its ``session.timeout.ms`` before the group hands them to the other
  members. Kafka's admin way out is a LeaveGroup v3+ naming the member by its ``group.instance.id``
  (Java's ``Admin.removeMembersFromConsumerGroup``); kafka-python's ``remove_group_members`` sends
  exactly that. A removal that fails is logged and answered as done: the member then leaves by its
  session timeout, as before.
- **Cluster-wide broker defaults** (`alter_cluster_defaults`): IncrementalAlterConfigs on the
  BROKER resource with the empty name, which librdkafka refuses to address.

Each call uses one short-lived admin client (these calls are rare), configured from the proxy's own
Kafka client settings translated from librdkafka's names (`admin_settings`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

log = logging.getLogger("odradek.rest")

REQUEST_TIMEOUT_MS = 10_000
T = TypeVar("T")

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


class AdminCallError(Exception):
    """A Kafka error answered to an admin call: ``name`` is Kafka's (``INVALID_CONFIG``)."""

    def __init__(self, name: str, code: int, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name, self.code, self.message = name, code, message


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


def _with_admin(settings: dict[str, Any], call: Callable[[Any], T]) -> T:
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(**settings)
    try:
        return call(admin)
    finally:
        admin.close()


def _error(error: Any) -> AdminCallError | None:
    """kafka-python's error class (or instance) as an AdminCallError; None for NoError."""
    cls = error if isinstance(error, type) else type(error)
    code = int(getattr(cls, "errno", -1))
    if code == 0:
        return None
    name = str(getattr(cls, "message", cls.__name__))
    detail = (
        str(error) if not isinstance(error, type) and str(error) else str(getattr(cls, "description", ""))
    )
    return AdminCallError(name, code, detail)


async def remove_static_member(client_config: Mapping[str, Any], group: str, instance_id: str) -> bool:
    """Make the static member ``instance_id`` of ``group`` leave now; False (logged) if it could not."""

    def remove(admin: Any) -> AdminCallError | None:
        from kafka.admin import MemberToRemove

        result = admin.remove_group_members(group, [MemberToRemove(group_instance_id=instance_id)])
        for error in result.values():
            found = _error(error)
            if found is not None:
                return found
        return None

    try:
        error = await asyncio.to_thread(_with_admin, admin_settings(client_config), remove)
    except Exception as exc:  # any failure only delays the rebalance to the session timeout
        log.warning("could not remove %s from group %s at once: %s", instance_id, group, exc)
        return False
    if error is not None and error.name != "UNKNOWN_MEMBER_ID":
        log.warning("could not remove %s from group %s at once: %s", instance_id, group, error)
        return False
    return True


async def alter_cluster_defaults(
    client_config: Mapping[str, Any], changes: Sequence[tuple[str, str | None, str]], validate_only: bool
) -> None:
    """IncrementalAlterConfigs of the cluster-wide broker defaults; ``changes`` are (name, value,
    "SET" | "DELETE"). Raises AdminCallError with Kafka's error."""

    def alter(admin: Any) -> AdminCallError | None:
        from kafka.admin import AlterConfigOp, ConfigResourceType
        from kafka.errors import for_code
        from kafka.protocol.admin import IncrementalAlterConfigsRequest

        # kafka-python's alter_configs refuses the empty broker name as librdkafka does, so the
        # request is built with its protocol classes and sent through the admin client's connections
        entries = [(name, AlterConfigOp[op].value, value) for name, value, op in changes]
        request = IncrementalAlterConfigsRequest(
            resources=[(ConfigResourceType.BROKER, "", entries)], validate_only=validate_only
        )

        async def send() -> Any:
            return await admin._manager.send(request)

        response = admin._manager.run(send)
        for resource in response.responses:
            if resource.error_code != 0:
                cls = for_code(resource.error_code)
                return AdminCallError(
                    str(getattr(cls, "message", cls.__name__)),
                    resource.error_code,
                    resource.error_message or str(getattr(cls, "description", "")),
                )
        return None

    try:
        error = await asyncio.to_thread(_with_admin, admin_settings(client_config), alter)
    except AdminCallError:
        raise
    except Exception as exc:
        found = _error(exc) if hasattr(exc, "errno") else None
        raise found or AdminCallError("UNKNOWN_SERVER_ERROR", -1, str(exc)) from exc
    if error is not None:
        raise error
