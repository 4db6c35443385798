"""`odradek features describe|upgrade|downgrade|disable` (kafka-features.sh) against a real broker.

The tests change the cluster's `eligible.leader.replicas.version`, so they use a broker of their own.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from odradek.cli.main import main
from odradek.testing.broker_process import BrokerProcess

pytestmark = pytest.mark.compat

ELR = "eligible.leader.replicas.version"
Run = Callable[..., Any]


@pytest.fixture(scope="module")
def features_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    with BrokerProcess(tmp_path_factory.mktemp("features"), {"num.partitions": "1"}) as proc:
        yield proc


@pytest.fixture
def bootstrap(features_broker: BrokerProcess) -> str:
    """`run_cli`'s broker: this module's own."""
    return features_broker.bootstrap


@pytest.fixture
def features(run_cli: Run) -> Run:
    return lambda *argv: run_cli("features", *argv)


def elr_line(run: Run) -> str:
    described = run("describe")
    assert described.code == 0, described.err
    [line] = [line for line in described.out.decode().splitlines() if line.startswith(f"Feature: {ELR}\t")]
    return line


def test_describe_prints_supported_and_finalized_levels_as_kafka_features(features: Run) -> None:
    described = features("describe")
    assert described.code == 0, described.err
    assert described.out.decode().splitlines() == [
        f"Feature: {ELR}\tSupportedMinVersion: 0\tSupportedMaxVersion: 1\tFinalizedVersionLevel: 1\tEpoch: 0",
        "Feature: group.version\tSupportedMinVersion: 0\tSupportedMaxVersion: 1\t"
        "FinalizedVersionLevel: 1\tEpoch: 0",
    ]
    assert features("describe", "--node-id", "1").out == described.out
    absent = features("describe", "--node-id", "9")
    assert (absent.code, absent.err) == (1, "odradek: error: broker 9 is not in the cluster metadata\n")


def test_downgrade_and_upgrade_eligible_leader_replicas(features: Run) -> None:
    try:
        down = features("downgrade", "--feature", f"{ELR}=0")
        assert (down.code, down.out.decode(), down.err) == (0, f"{ELR} was downgraded to 0.\n", "")
        # at level 0 the feature is not finalized any more: describe prints 0, as Kafka's tool
        assert "\tFinalizedVersionLevel: 0\t" in elr_line(features)
        up = features("upgrade", "--feature", f"{ELR}=1")
        assert (up.code, up.out.decode()) == (0, f"{ELR} was upgraded to 1.\n")
        assert "\tFinalizedVersionLevel: 1\t" in elr_line(features)
        disabled = features("disable", "--feature", ELR, "--unsafe")
        assert (disabled.code, disabled.out.decode()) == (0, f"{ELR} was disabled.\n")
        assert "\tFinalizedVersionLevel: 0\t" in elr_line(features)
    finally:
        features("upgrade", "--feature", f"{ELR}=1")
    assert "\tFinalizedVersionLevel: 1\t" in elr_line(features)


def test_a_dry_run_validates_and_changes_nothing(features: Run) -> None:
    before = elr_line(features)
    dry = features("downgrade", "--feature", f"{ELR}=0", "--dry-run")
    assert (dry.code, dry.out.decode()) == (0, f"{ELR} can be downgraded to 0.\n")
    assert elr_line(features) == before
    refused = features("upgrade", "--feature", f"{ELR}=7", "--dry-run")
    assert refused.code == 1
    assert refused.out.decode().startswith(f"Can not upgrade {ELR} to 7. INVALID_UPDATE_VERSION: ")


@pytest.mark.parametrize(
    ("argv", "out"),
    [
        # a higher level than the broker supports
        (
            ("upgrade", "--feature", f"{ELR}=5"),
            f"Could not upgrade {ELR} to 5. INVALID_UPDATE_VERSION: Invalid update version 5 for feature "
            f"{ELR}. Local controller 1 only supports versions 0-1\n",
        ),
        # a lower level through `upgrade` is no upgrade
        (
            ("upgrade", "--feature", f"{ELR}=0"),
            f"Could not upgrade {ELR} to 0. INVALID_UPDATE_VERSION: Invalid update version 0 for feature "
            f"{ELR}. Can't downgrade the version of this feature without setting the upgrade type to "
            "either safe or unsafe downgrade.\n",
        ),
        # a safe downgrade the broker refuses
        (
            ("downgrade", "--feature", "group.version=0"),
            "Could not downgrade group.version to 0. INVALID_UPDATE_VERSION: Invalid update version 0 for "
            "feature group.version. This cluster keeps this feature at level 1.\n",
        ),
        # a feature the broker does not know
        (
            ("upgrade", "--feature", "no.such.feature=1"),
            "Could not upgrade no.such.feature to 1. INVALID_UPDATE_VERSION: Invalid update version 1 for "
            "feature no.such.feature. Local controller 1 does not support this feature.\n",
        ),
    ],
)
def test_a_refused_change_fails_with_the_brokers_message(
    features: Run, argv: tuple[str, ...], out: str
) -> None:
    before = features("describe").out
    refused = features(*argv)
    assert (refused.code, refused.out.decode(), refused.err) == (
        1,
        out,
        "odradek: error: 1 out of 1 operation(s) failed.\n",
    )
    assert features("describe").out == before


def test_one_refused_update_refuses_the_whole_request(features: Run) -> None:
    refused = features("downgrade", "--feature", f"{ELR}=0", "--feature", "group.version=0")
    assert refused.code == 1
    lines = refused.out.decode().splitlines()
    assert [line.split(". ")[0] for line in lines] == [
        f"Could not downgrade {ELR} to 0",
        "Could not downgrade group.version to 0",
    ]
    assert refused.err == "odradek: error: 2 out of 2 operation(s) failed.\n"
    assert "\tFinalizedVersionLevel: 1\t" in elr_line(features)


@pytest.mark.parametrize(
    ("argv", "err"),
    [
        (
            ("upgrade", "--release-version", "4.1-IV0"),
            "--release-version: odradek has no metadata.version (it is not a KRaft cluster); "
            "give each feature with --feature NAME=LEVEL",
        ),
        (
            ("downgrade", "--metadata", "3.9-IV0"),
            "--metadata: odradek has no metadata.version (it is not a KRaft cluster); "
            "give each feature with --feature NAME=LEVEL",
        ),
        (("upgrade",), "give at least one feature to upgrade (--feature)"),
        (("upgrade", "--feature", ELR), f"cannot parse feature=level '{ELR}': no equals sign"),
        (
            ("upgrade", "--feature", f"{ELR}=1", "--feature", f"{ELR}=0"),
            f"feature {ELR} was given more than once",
        ),
    ],
)
def test_a_command_line_naming_no_valid_change_is_refused(
    features: Run, argv: tuple[str, ...], err: str
) -> None:
    result = features(*argv)
    assert (result.code, result.out, result.err) == (1, b"", f"odradek: error: {err}\n")


@pytest.mark.parametrize("argv", [("describe",), ("upgrade", "--feature", f"{ELR}=1")])
def test_a_broker_that_does_not_answer(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    assert main(["features", *argv, "-b", f"127.0.0.1:{port}", "--timeout", "5"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"odradek: error: cannot connect to 127.0.0.1:{port}: "), captured.err
