"""Flag wiring of the client commands, checked through the real parser (no broker involved)."""

from __future__ import annotations

import pytest

from odradek.cli.main import build_parser, main


def parse(*argv: str) -> object:
    return build_parser().parse_args(list(argv))


def test_topic_create_flags() -> None:
    args = parse(
        "topic", "create", "t", "--partitions", "3", "--config", "a=1", "--config", "b=2", "-b", "h:1"
    )
    assert (args.name, args.partitions, args.replication_factor, args.config, args.bootstrap_server) == (  # type: ignore[attr-defined]
        "t", 3, -1, [("a", "1"), ("b", "2")], "h:1",
    )  # fmt: skip


def test_produce_defaults() -> None:
    args = parse("produce", "t")
    assert (args.acks, args.compression, args.idempotent, args.key_delimiter, args.format) == (  # type: ignore[attr-defined]
        "all", "none", False, None, None,
    )  # fmt: skip


@pytest.mark.parametrize(
    "argv",
    [
        ["produce", "t", "-K", ":", "--format", "%s\\n"],
        ["consume", "t", "--from-beginning", "--offset", "5"],
        ["group", "reset-offsets", "--group", "g", "--all-topics", "--to-earliest", "--to-latest"],
        ["group", "reset-offsets", "--group", "g", "--to-earliest"],
        ["group", "reset-offsets", "--group", "g", "--all-topics", "--to-earliest", "--dry-run", "--execute"],
        ["topic"],
        ["produce", "t", "--acks", "2"],
    ],
)
def test_conflicting_or_missing_flags_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        parse(*argv)
    assert exc.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_reset_defaults_to_dry_run() -> None:
    args = parse("group", "reset-offsets", "--group", "g", "--topic", "t:0", "--shift-by", "-2")
    assert (args.execute, args.shift_by, args.topic) == (False, -2, ["t:0"])  # type: ignore[attr-defined]


def test_usage_errors_are_one_line_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["consume", "t", "--count", "0"]) == 2
    assert capsys.readouterr().err == "odradek: error: --count must be at least 1\n"
    assert main(["produce", "t", "--format", "%x"]) == 2
    assert capsys.readouterr().err == "odradek: error: unknown field %x in format '%x'\n"
    assert main(["produce", "t", "--idempotent", "--acks", "1"]) == 2
    assert capsys.readouterr().err == "odradek: error: --idempotent needs --acks all\n"
    assert main(["group", "list", "--state", "sleepy"]) == 2
    assert "unknown group state 'sleepy'" in capsys.readouterr().err
