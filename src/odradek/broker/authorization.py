"""The authorizer port: what a request's principal may do, by Kafka's ACL rules.

Configured as Kafka configures it: ``authorizer.class.name`` set to
``org.apache.kafka.metadata.authorizer.StandardAuthorizer`` (or the older
``kafka.security.authorizer.AclAuthorizer``, same rules) turns authorization on, with ``super.users``
and ``allow.everyone.if.no.acl.found`` (default false: deny what no ACL allows). Any other class
name fails at start: a config must not choose code. With no authorizer every request is allowed
and authorized-operations fields list everything the resource type supports, as in Kafka.

The ACLs are the cluster image's (`image.security.acls`): the authorizer is rebuilt when they change,
so every broker reading the same metadata decides the same way. Decisions on resources a request
names are audited (``odradek.authorizer.audit.log``, one JSON line each; allowed ones only with
``odradek.authorizer.audit.allowed``); filtering (topic lists, regex subscriptions) and
authorized-operations fields are not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from odradek.metadata.image import ClusterImage
from odradek.protocol.api_keys import ApiKey
from odradek.security.acl import CLUSTER_NAME, SUPPORTED_OPERATIONS, AclOperation, ResourceType
from odradek.security.authorizer import Action, Decision, StandardAuthorizer, parse_super_users

if TYPE_CHECKING:
    from odradek.broker.context import RequestContext
    from odradek.broker.metrics import BrokerMetrics

STANDARD_AUTHORIZERS = frozenset(
    {"org.apache.kafka.metadata.authorizer.StandardAuthorizer", "kafka.security.authorizer.AclAuthorizer"}
)
OMITTED = -(2**31)
audit_log = logging.getLogger("odradek.audit")


class AuthorizerConfigError(ValueError):
    pass


def bit_field(operations: Iterable[AclOperation]) -> int:
    return sum(1 << int(op) for op in operations)


class BrokerAuthorizer:
    def __init__(
        self,
        image: Callable[[], ClusterImage],
        now_ms: Callable[[], int],
        *,
        class_name: str = "",
        super_users: str | None = None,
        allow_everyone_if_no_acl_found: bool = False,
        audit_path: str = "",
        audit_allowed: bool = False,
        metrics: BrokerMetrics | None = None,
    ) -> None:
        if class_name and class_name not in STANDARD_AUTHORIZERS:
            raise AuthorizerConfigError(
                f"authorizer.class.name={class_name} is not supported (use "
                "org.apache.kafka.metadata.authorizer.StandardAuthorizer)"
            )
        self.enabled = bool(class_name)
        self._image = image
        self._now_ms = now_ms
        self._metrics = metrics
        self._audit_allowed = audit_allowed
        self._acls: object = None
        self._authorizer = StandardAuthorizer(
            super_users=parse_super_users(super_users),
            allow_everyone_if_no_acl_found=allow_everyone_if_no_acl_found,
        )
        self._audit = audit_path != ""
        if self._audit:
            handler = logging.FileHandler(Path(audit_path), encoding="utf-8")
            handler.setFormatter(logging.Formatter("%(message)s"))
            audit_log.addHandler(handler)
            audit_log.setLevel(logging.INFO)
            audit_log.propagate = False

    def current(self) -> StandardAuthorizer:
        acls = self._image().security.acls
        if acls is not self._acls:
            self._authorizer = self._authorizer.with_bindings(acls.values())
            self._acls = acls
        return self._authorizer

    def _decide(self, ctx: RequestContext, action: Action) -> bool:
        decision = self.current().authorize(ctx.principal, ctx.client_host, action)
        if not decision.allowed and action.log_if_denied and self._metrics is not None:
            self._metrics.authorization_denials.labels(_api_name(ctx.api_key)).inc()
        if self._audit:
            self._audit_decision(ctx, action, decision)
        return decision.allowed

    def _audit_decision(self, ctx: RequestContext, action: Action, decision: Decision) -> None:
        from odradek.security.audit import audit_line, should_audit

        if should_audit(action, decision, audit_allowed=self._audit_allowed):
            audit_log.info(
                audit_line(
                    self._now_ms(),
                    ctx.principal,
                    ctx.client_host,
                    ctx.listener,
                    _api_name(ctx.api_key),
                    action,
                    decision,
                )
            )

    def authorize(
        self, ctx: RequestContext, operation: AclOperation, resource_type: ResourceType, name: str
    ) -> bool:
        """A resource the request names: audited."""
        if not self.enabled:
            return True
        return self._decide(ctx, Action(operation, resource_type, name))

    def authorize_cluster(self, ctx: RequestContext, operation: AclOperation) -> bool:
        return self.authorize(ctx, operation, ResourceType.CLUSTER, CLUSTER_NAME)

    def allowed_names(
        self, ctx: RequestContext, operation: AclOperation, resource_type: ResourceType, names: Iterable[str]
    ) -> list[str]:
        """The names the principal may `operation` (filtering: denials are not audited)."""
        if not self.enabled:
            return list(names)
        return [
            n
            for n in names
            if self._decide(
                ctx, Action(operation, resource_type, n, log_if_allowed=True, log_if_denied=False)
            )
        ]

    def authorize_by_resource_type(
        self, ctx: RequestContext, operation: AclOperation, resource_type: ResourceType
    ) -> bool:
        if not self.enabled:
            return True
        return self.current().authorize_by_resource_type(
            ctx.principal, ctx.client_host, operation, resource_type
        )

    def authorized_operations(self, ctx: RequestContext, resource_type: ResourceType, name: str) -> int:
        """The KIP-430 bit field of what the principal may do on this resource."""
        if not self.enabled:
            return bit_field(SUPPORTED_OPERATIONS[resource_type])
        return bit_field(
            self.current().authorized_operations(ctx.principal, ctx.client_host, resource_type, name)
        )


def _api_name(api_key: int) -> str:
    try:
        return ApiKey(api_key).name
    except ValueError:
        return str(api_key)


def authorized_operations_field(requested: bool, value: int) -> int:
    """A response's authorized-operations field: the value when the client asked, else OMITTED."""
    return value if requested else OMITTED


def config_resource_denied(
    ctx: RequestContext, resource_type: int, name: str, operation: AclOperation
) -> int | None:
    """The error of a DescribeConfigs/AlterConfigs resource the principal may not `operation`
    (DESCRIBE_CONFIGS or ALTER_CONFIGS): topics by name, brokers and loggers through the cluster."""
    from odradek.metadata.config_types import ConfigResourceType
    from odradek.model.errors import ErrorCode

    authorizer = ctx.ports.authorizer
    if resource_type == ConfigResourceType.TOPIC:
        if not authorizer.authorize(ctx, operation, ResourceType.TOPIC, name):
            return ErrorCode.TOPIC_AUTHORIZATION_FAILED
        return None
    if not authorizer.authorize_cluster(ctx, operation):
        return ErrorCode.CLUSTER_AUTHORIZATION_FAILED
    return None
