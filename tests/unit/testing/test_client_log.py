"""The fault tests' reading of librdkafka's `debug=eos` log: which epoch bumps follow only answers
Kafka gives too (a request refused before its append, then OUT_OF_ORDER_SEQUENCE_NUMBER for the
request behind it), with the lines as librdkafka 2.x writes them (rdkafka_request.c, "ERRSEQ";
rdkafka_idempotence.c, "DRAIN")."""

from __future__ import annotations

from odradek.testing.reliability_workload import ClientLog, skipped_sequence_cause

FMT = "%s [%s] %s"
NAME = "rdkafka#producer-13"


def errseq(previous: str, partition: int = 1) -> str:
    return (
        f"[thrd:127.0.0.1:30729/2]: 127.0.0.1:30729/2: ProduceRequest for tail [{partition}] with 1 "
        "message(s) failed due to skipped sequence numbers (PID{Id:0,Epoch:0}, base seq 155 > next seq "
        f"153) caused by previous failed request ({previous}, actions Refresh,MsgNotPersisted, base seq "
        "154..154, base msgid 155, 0ms ago): recovering and retrying"
    )


DRAIN_BEGIN = (
    "[thrd:127.0.0.1:30729/2]: Beginning partition drain in state Assigned for PID{Id:0,Epoch:0} epoch "
    "bump for 2 partition(s) with in-flight requests: skipped sequence numbers"
)
BUMPED = "[thrd:127.0.0.1:30729/2]: All partitions drained, bumped epoch to PID{Id:0,Epoch:1}"


def feed(lines: list[tuple[str, str]]) -> list[tuple[str, bool]]:
    bumps: list[tuple[str, bool]] = []
    client_log = ClientLog(lambda reason, excused: bumps.append((reason, excused)), forward=False)
    for facility, text in lines:
        client_log.log(7, FMT, facility, NAME, text)
    return bumps


def test_the_cause_of_a_skipped_sequence_is_read() -> None:
    assert skipped_sequence_cause(errseq("NOT_LEADER_FOR_PARTITION")) == (
        "tail [1]",
        "NOT_LEADER_FOR_PARTITION",
    )
    assert skipped_sequence_cause(BUMPED) is None


def test_a_bump_after_a_refusal_before_the_append_is_excused() -> None:
    """The requests behind the first gap meet it too; their previous failed request is then the
    first one's OUT_OF_ORDER_SEQUENCE_NUMBER (as tests/integration/replication/
    test_idempotent_producer_epoch_bumps.py shows with librdkafka)."""
    bumps = feed(
        [
            ("ERRSEQ", errseq("NOT_LEADER_FOR_PARTITION")),
            ("DRAIN", DRAIN_BEGIN),
            ("ERRSEQ", errseq("OUT_OF_ORDER_SEQUENCE_NUMBER")),
            ("ERRSEQ", errseq("NOT_ENOUGH_REPLICAS", partition=2)),
            ("ERRSEQ", errseq("_RETRY", partition=3)),  # taken back unsent after such an answer
            ("DRAIN", BUMPED),
        ]
    )
    assert bumps == [
        (
            "All partitions drained, bumped epoch to PID{Id:0,Epoch:1} (skipped sequence numbers, after "
            "tail [1]: NOT_LEADER_FOR_PARTITION, tail [1]: OUT_OF_ORDER_SEQUENCE_NUMBER, "
            "tail [2]: NOT_ENOUGH_REPLICAS, tail [3]: _RETRY)",
            True,
        )
    ]


def test_a_bump_after_an_appended_request_or_for_another_reason_is_not() -> None:
    # the previous request was appended (it only waited too long): a sequence gap after it would be
    # the broker's fault; and a bump with no skipped sequence before it (a timeout) is not excused here
    # a chain that starts with the gap itself (nothing refused before it) is the broker's fault too
    timed_out = DRAIN_BEGIN.replace("skipped sequence numbers", "3 message(s) timed out on tail [0]")
    bumps = feed(
        [
            ("ERRSEQ", errseq("REQUEST_TIMED_OUT")),
            ("DRAIN", BUMPED),
            ("DRAIN", timed_out),
            ("DRAIN", BUMPED),
            ("ERRSEQ", errseq("OUT_OF_ORDER_SEQUENCE_NUMBER")),
            ("DRAIN", BUMPED),
        ]
    )
    assert [excused for _, excused in bumps] == [False, False, False]
    assert bumps[1][0].endswith("(3 message(s) timed out on tail [0])")
