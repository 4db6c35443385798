"""The ``*_authorized_operations`` fields of describe responses (KIP-430), without an authorizer.

Kafka answers them with a 32-bit field where bit n is set when the principal may perform the ACL
operation whose code is n. With no authorizer configured every principal may perform every
operation the resource type supports, so the field is the resource type's supported set. When a
client does not ask, the field keeps its schema default, ``OMITTED`` (Java's Integer.MIN_VALUE).
"""

from __future__ import annotations

from enum import IntEnum

OMITTED = -(2**31)


class AclOperation(IntEnum):
    """Kafka's `AclOperation` codes."""

    READ = 3
    WRITE = 4
    CREATE = 5
    DELETE = 6
    ALTER = 7
    DESCRIBE = 8
    CLUSTER_ACTION = 9
    DESCRIBE_CONFIGS = 10
    ALTER_CONFIGS = 11
    IDEMPOTENT_WRITE = 12


_OP = AclOperation
CLUSTER_OPERATIONS = frozenset(
    {
        _OP.CREATE,
        _OP.CLUSTER_ACTION,
        _OP.DESCRIBE_CONFIGS,
        _OP.ALTER_CONFIGS,
        _OP.IDEMPOTENT_WRITE,
        _OP.ALTER,
        _OP.DESCRIBE,
    }
)
TOPIC_OPERATIONS = frozenset(
    {
        _OP.READ,
        _OP.WRITE,
        _OP.CREATE,
        _OP.DESCRIBE,
        _OP.DELETE,
        _OP.ALTER,
        _OP.DESCRIBE_CONFIGS,
        _OP.ALTER_CONFIGS,
    }
)


def bit_field(operations: frozenset[AclOperation]) -> int:
    return sum(1 << op for op in operations)


def authorized_operations(requested: bool, supported: frozenset[AclOperation]) -> int:
    """The field's value: the supported operations when the client asked, else OMITTED."""
    return bit_field(supported) if requested else OMITTED
