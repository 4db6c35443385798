"""KIP-848 regular-expression subscriptions: checking a SubscribedTopicRegex and resolving it.

A member of a consumer group may subscribe with a regular expression (ConsumerGroupHeartbeat's
``SubscribedTopicRegex``) as well as, or instead of, topic names; the coordinator, not the client,
finds the topics it matches. As in Kafka:

- a topic matches when its *whole* name matches (Java's ``Matcher.matches()``, here ``fullmatch``);
  librdkafka, which anchors its patterns with ``^``, sends ``(^a.*)|(^b.*)`` for ``["^a.*", "^b.*"]``;
- internal topics (``__consumer_offsets``, ``__transaction_state``, ...) never match;
- a regex that does not compile is INVALID_REGULAR_EXPRESSION, checked when a member brings it.

Syntax: RE2's (the ``google-re2`` bindings), which is the syntax of Kafka's RE2/J, rather than
Python's ``re``, for two reasons:

1. Time. A client's regex runs inside the coordinator, on the broker's event loop, against every
   topic name. RE2 matches in time linear in the name; ``re`` backtracks, and a pattern such as
   ``(a*)*b`` takes most of a second on a name of 24 ``a``, and four times longer for every two
   more characters (names go up to 249): one heartbeat could stall the broker.
2. The same language as Kafka (RE2/J is a port of RE2). RE2 refuses what RE2/J refuses and ``re``
   accepts (lookaround ``(?=...)``, backreferences ``\\1``, possessive quantifiers ``a*+``), so such
   a regex is INVALID_REGULAR_EXPRESSION here too; it accepts what ``re`` refuses or reads
   differently (``\\pL`` classes, POSIX classes ``[[:alpha:]]``, ``\\z``, ``\\Q...\\E``, the
   ungreedy flag ``(?U)``).

Topic names are ASCII (``[a-zA-Z0-9._-]``), so Unicode details where RE2 and RE2/J may differ never
come into play.

`resolve` is a pure function of the regexes and the cluster's topic names. `update_resolved_regexes`
writes the group's ConsumerGroupRegularExpression records from it: when a member brings a regex no
other member uses (at once, in its heartbeat: Kafka resolves in the background and answers the
next heartbeat), and for every regex when topics are created or deleted and every
``consumer_group_regex_refresh_interval_ms`` (`consumer_heartbeat.refresh_regexes`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

import re2

from odradek.coordinator.group import records as rec
from odradek.coordinator.group.consumer_group import ConsumerGroup
from odradek.coordinator.group.state import Op
from odradek.metadata.topic_names import is_internal

UNKNOWN_METADATA_VERSION = -1
"""The record's Version (Kafka: the metadata offset resolved against); odradek's topics view has none."""

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print every parse error to stderr


@functools.lru_cache(maxsize=1024)
def _compiled(regex: str) -> object:
    return re2.compile(regex, _OPTIONS)


def invalid_regex_reason(regex: str) -> str | None:
    """Why ``regex`` is not a valid RE2 regular expression, or None if it is."""
    try:
        _compiled(regex)
    except re2.error as e:
        reason = e.args[0] if e.args else "invalid"
        return reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
    return None


def resolve(regexes: Iterable[str], topic_names: Iterable[str]) -> dict[str, frozenset[str]]:
    """The topics each regex matches; an invalid regex (only from an old log) matches nothing."""
    names = [t for t in topic_names if not is_internal(t)]
    out: dict[str, frozenset[str]] = {}
    for regex in regexes:
        if invalid_regex_reason(regex) is not None:
            out[regex] = frozenset()
            continue
        pattern = _compiled(regex)
        out[regex] = frozenset(t for t in names if pattern.fullmatch(t) is not None)  # type: ignore[attr-defined]
    return out


class _NoMember:
    pass


NO_MEMBER = _NoMember()
"""`update_resolved_regexes` called with no member's heartbeat at hand (topics changed, timers)."""


def update_resolved_regexes(
    op: Op,
    group: ConsumerGroup,
    *,
    refresh: bool = False,
    may_describe: Callable[[str], bool] | _NoMember | None = NO_MEMBER,
) -> bool:
    """Bring the group's resolved regexes in line with its members' (records, applied at once).

    Regexes no member uses any more are deleted; those not resolved yet are resolved against the
    topics view, and with ``refresh`` every regex is resolved again. Returns whether the topics of
    some regex in use changed (the group epoch must then be bumped).

    Authorization (KAFKA-18813): a regex matches only the topics the member whose heartbeat resolves
    it may DESCRIBE (`may_describe`, None without an authorizer). That check is remembered per regex
    (in memory) and used again when topics change or the periodic refresh runs; a regex without
    one (resolved before this coordinator started) is left as it is until a member's heartbeat
    resolves it again, which its next heartbeat does. As in Kafka, members with different rights
    sharing one regex see what the last resolving member may describe.
    """
    gid = group.group_id
    used = group.subscribed_regexes()
    permissions = op.state.regex_permissions
    for regex in sorted(group.resolved_regexes.keys() - used):
        op.emit(rec.consumer_group_regex(gid, regex, None))
        permissions.pop((gid, regex), None)
    wanted = used if refresh else used - group.resolved_regexes.keys()
    if isinstance(may_describe, _NoMember):
        todo = sorted(r for r in wanted if (gid, r) in permissions)
    else:
        todo = sorted(wanted | {r for r in used if (gid, r) not in permissions})
        for regex in todo:
            permissions[(gid, regex)] = may_describe
    if not todo:
        return False
    changed = False
    for regex, matched in resolve(todo, op.state.topics.topic_names()).items():
        check = permissions.get((gid, regex))
        topics = matched if check is None else frozenset(t for t in matched if check(t))
        old = group.resolved_regexes.get(regex)
        if old is None or old.topics != topics:
            op.emit(rec.consumer_group_regex(gid, regex, (topics, UNKNOWN_METADATA_VERSION, op.now)))
            changed = True
    return changed
