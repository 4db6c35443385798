"""`odradek dev --secure` files: made once with private modes, reused on the next start."""

from __future__ import annotations

from pathlib import Path

from odradek.cli.command_config import read_command_config
from odradek.cli.dev_security import prepare


def test_files_are_private_and_reused(tmp_path: Path) -> None:
    first = prepare(tmp_path, "PLAINTEXT://127.0.0.1:9092,OTHER://:9094")
    assert first.broker_properties["listeners"] == "SASL_SSL://127.0.0.1:9092,SASL_SSL://:9094"
    security = tmp_path / "security"
    assert security.stat().st_mode & 0o077 == 0
    for name in ("ca-key.pem", "broker.pem", "admin.password", "client.properties"):
        assert (security / name).stat().st_mode & 0o077 == 0, name
    again = prepare(tmp_path, "PLAINTEXT://127.0.0.1:9092")
    assert again.admin_password == first.admin_password
    assert (security / "ca.pem").read_bytes() == first.ca.read_bytes()
    settings = read_command_config(first.client_properties)
    assert settings["sasl.password"] == first.admin_password
    assert settings["ssl.ca.location"] == str(first.ca)
    assert (
        f'user_admin="{first.admin_password}"'
        in first.broker_properties["listener.name.sasl_ssl.plain.sasl.jaas.config"]
    )
