"""The runtime's pure cores: error policy on a fake clock, restart back-off, the config and status
topics' record formats and materialized views, offset keys, config providers."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from odradek.connect.api.errors import DataException, RetriableException
from odradek.connect.config.providers import ConfigTransformer, read_properties
from odradek.connect.runtime import config_records as cr
from odradek.connect.runtime import status_records as sr
from odradek.connect.runtime.dead_letter import dead_letter
from odradek.connect.runtime.errors import (
    ConsumedRecord,
    ErrorPolicy,
    ProcessingContext,
    RetryWithToleranceOperator,
    Stage,
    ToleranceExceeded,
)
from odradek.connect.runtime.offset_keys import offset_key, parse_offset_key
from odradek.connect.runtime.restart_policy import RestartPolicy


class Clock:
    def __init__(self) -> None:
        self.now = 0
        self.sleeps: list[int] = []

    def sleep(self, ms: int) -> None:
        self.sleeps.append(ms)
        self.now += ms


def operator(
    policy: ErrorPolicy, clock: Clock, reported: list[ProcessingContext]
) -> RetryWithToleranceOperator:
    return RetryWithToleranceOperator(policy, "c", 0, lambda: clock.now, clock.sleep, [reported.append])


def test_retriable_failures_retry_with_doubling_back_off_until_the_timeout() -> None:
    clock, reported = Clock(), []
    op = operator(
        ErrorPolicy(tolerance_all=True, retry_timeout_ms=5000, retry_delay_max_ms=2000), clock, reported
    )

    def fails() -> None:
        raise RetriableException("try again")

    assert op.execute(fails, Stage.TASK_PUT, "X") == (False, None)
    assert clock.sleeps == [300, 600, 1200, 2000, 900]  # capped at the max, the last one up to the timeout
    assert len(reported) == 1 and reported[0].attempts == 6


def test_success_after_retries_and_no_retry_for_plain_errors() -> None:
    clock, reported = Clock(), []
    op = operator(ErrorPolicy(tolerance_all=False, retry_timeout_ms=-1), clock, reported)
    attempts = iter([RetriableException("1"), RetriableException("2"), None])

    def flaky() -> str:
        error = next(attempts)
        if error:
            raise error
        return "ok"

    assert op.execute(flaky, Stage.KEY_CONVERTER, "X") == (True, "ok")
    with pytest.raises(ToleranceExceeded):
        op.execute(lambda: (_ for _ in ()).throw(DataException("bad")), Stage.VALUE_CONVERTER, "X")
    assert reported == []  # intolerant failures fail the task; they are not dead-lettered


def test_dead_letter_of_a_consumed_record_keeps_its_bytes_and_adds_context() -> None:
    consumed = ConsumedRecord("t", 3, 42, b"k", b"v", [("h", b"1")], 1000)
    try:
        raise DataException("boom")
    except DataException as exc:
        ctx = ProcessingContext("conn", 2, Stage.VALUE_CONVERTER, "Conv", exc, consumed=consumed)
    letter = dead_letter(ctx, context_headers=True)
    assert (letter.key, letter.value, letter.timestamp) == (b"k", b"v", 1000)
    headers = dict(letter.headers)
    assert headers["h"] == b"1"
    assert headers["__connect.errors.partition"] == b"3" and headers["__connect.errors.offset"] == b"42"
    assert (
        headers["__connect.errors.exception.class.name"] == b"org.apache.kafka.connect.errors.DataException"
    )
    assert b"boom" in headers["__connect.errors.exception.stacktrace"]
    assert [k for k, _ in dead_letter(ctx, context_headers=False).headers] == ["h"]


def test_restart_back_off_doubles_with_jitter_and_gives_up() -> None:
    policy = RestartPolicy(max_attempts=3, backoff_initial_ms=1000, backoff_max_ms=5000)
    rng = random.Random(7)
    delays = [policy.delay_ms(n, rng) for n in (1, 2, 3, 4)]
    assert 800 <= delays[0] < 1200 and 1600 <= delays[1] < 2400 and 3200 <= delays[2] < 4800
    assert 4000 <= delays[3] < 6000
    assert not policy.give_up(3) and policy.give_up(4)
    assert RestartPolicy(max_attempts=0).give_up(1)


def test_config_state_applies_task_configs_only_at_their_commit() -> None:
    state = cr.ConfigState()
    for key, value in [
        cr.connector_record("c", {"connector.class": "X"}),
        cr.task_record("c", 0, {"a": "1"}),
        cr.task_record("c", 1, {"a": "2"}),
    ]:
        state.apply(key, value)
    assert state.tasks("c") == []  # not committed yet
    state.apply(*cr.commit_record("c", 2))
    assert state.tasks("c") == [0, 1] and state.task_config("c", 1) == {"a": "2"}
    state.apply(*cr.commit_record("c", 3))  # a commit whose task configs are missing
    assert "c" in state.inconsistent and state.tasks("c") == [0, 1]
    state.apply(*cr.target_state_record("c", cr.TargetState.STOPPED))
    assert state.target_state("c") is cr.TargetState.STOPPED
    assert json.loads(cr.target_state_record("c", cr.TargetState.STOPPED)[1] or b"") == {
        "state": "PAUSED",
        "state.v2": "STOPPED",
    }
    state.apply(*cr.connector_record("c", None))
    assert state.connectors() == [] and state.tasks("c") == []


def test_config_state_reads_what_kafka_connect_writes() -> None:
    state = cr.ConfigState()
    state.apply(
        b"connector-jdbc",
        b'{"properties":{"connector.class":"io.confluent.connect.jdbc.JdbcSinkConnector","tasks.max":"1"}}',
    )
    state.apply(b"task-jdbc-0", b'{"properties":{"task.class":"x"}}')
    state.apply(b"commit-jdbc", b'{"tasks":1}')
    state.apply(b"target-state-jdbc", b'{"state":"PAUSED"}')
    state.apply(b"session-key", b'{"key":"abc","algorithm":"HmacSHA256","creation-timestamp":1}')
    state.apply(b"garbage", b"not json")
    assert state.connector_configs["jdbc"]["tasks.max"] == "1"
    assert state.task_config("jdbc", 0) == {"task.class": "x"}
    assert state.target_state("jdbc") is cr.TargetState.PAUSED


def test_status_records_round_trip_and_read_kafka_format() -> None:
    state = sr.StatusState()
    state.apply(b"status-task-c-0", b'{"state":"FAILED","trace":"boom","worker_id":"h:8083","generation":4}')
    state.apply(sr.connector_key("c"), sr.Status(sr.State.RUNNING, "h:8083", 4).to_json())
    state.apply(sr.topic_key("orders", "c"), sr.topic_value("orders", "c", 0, 123))
    assert state.tasks[("c", 0)] == sr.Status(sr.State.FAILED, "h:8083", 4, "boom")
    assert state.connectors["c"].state is sr.State.RUNNING
    assert state.topics == {"c": {"orders": 123}}
    assert sr.topic_key("orders", "c") == b"status-topic-orders:connector-c"


def test_offset_keys_are_compact_json_in_partition_order() -> None:
    key = offset_key("file-source", {"filename": "/tmp/a.txt"})
    assert key == b'["file-source",{"filename":"/tmp/a.txt"}]'
    assert parse_offset_key(key) == ("file-source", {"filename": "/tmp/a.txt"})
    with pytest.raises(DataException):
        parse_offset_key(b'{"not": "a list"}')


def test_config_providers_resolve_and_leave_unknowns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_PASSWORD", "s3cret")
    (tmp_path / "app.properties").write_text("# comment\nuser = admin\nurl: jdbc\\:x\n")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "token").write_text("tok")
    transformer = ConfigTransformer({})
    resolved = transformer.transform(
        {
            "a": "${env:DB_PASSWORD}",
            "b": f"${{file:{tmp_path}/app.properties:user}}",
            "c": f"${{directory:{tmp_path}/secrets:token}}",
            "d": "${vault:x:y}",
            "e": "${env:NOPE_NOT_SET}",
            "f": "prefix-${env:DB_PASSWORD}-suffix",
        }
    )
    assert resolved == {
        "a": "s3cret",
        "b": "admin",
        "c": "tok",
        "d": "${vault:x:y}",
        "e": "${env:NOPE_NOT_SET}",
        "f": "prefix-s3cret-suffix",
    }
    assert read_properties("url: jdbc\\:x\nmulti = a \\\n  b\n") == {"url": "jdbc:x", "multi": "a b"}
    limited = ConfigTransformer(
        {
            "config.providers": "f",
            "config.providers.f.class": "org.apache.kafka.common.config.provider.FileConfigProvider",
            "config.providers.f.param.allowed.paths": str(tmp_path / "secrets"),
        }
    )
    with pytest.raises(Exception, match=r"allowed\.paths"):
        limited.resolve(f"${{f:{tmp_path}/app.properties:user}}")
