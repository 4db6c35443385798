"""Build and run the sarama driver (`sarama/main.go`) for the Go compat tests.

sarama is Debian's `golang-github-shopify-sarama-dev` (1.22), compiled with Debian's `golang-go`
in GOPATH mode against `/usr/share/gocode`: no module download, no network (GOPROXY=off). `make
test` installs both packages. The binary is cached under `.cache/sarama/<key>/`, the key hashing
the driver's source, the Go version and sarama's version, so only a changed driver or toolchain
rebuilds it (about 10 s).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "sarama" / "main.go"
GOPATH = Path("/usr/share/gocode")
SARAMA = GOPATH / "src" / "github.com" / "Shopify" / "sarama"
CACHE = HERE.parent.parent / ".cache" / "sarama"
DEBIAN_PACKAGES = "golang-go golang-github-shopify-sarama-dev"


def _debian_version(package: str) -> str:
    out = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True, check=False
    )
    return out.stdout.strip()


@cache
def sarama_version() -> str:
    return _debian_version("golang-github-shopify-sarama-dev") or "unknown"


@cache
def sarama_binary() -> Path:
    go = shutil.which("go")
    if go is None or not SARAMA.is_dir():
        pytest.fail(f"the sarama tests need Debian's {DEBIAN_PACKAGES} (`make test` installs them)")
    go_version = subprocess.run([go, "version"], capture_output=True, text=True, check=True).stdout
    key = hashlib.sha256(SOURCE.read_bytes() + go_version.encode() + sarama_version().encode()).hexdigest()
    binary = CACHE / key[:16] / "sarama-client"
    if binary.exists():
        return binary
    binary.parent.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "GOPATH": str(GOPATH),
        "GO111MODULE": "off",
        "GOFLAGS": "",
        "GOPROXY": "off",
        "GOCACHE": str(CACHE / "go-build"),
    }
    partial = binary.with_suffix(".tmp")
    built = subprocess.run(
        [go, "build", "-o", str(partial), str(SOURCE)], env=env, capture_output=True, text=True, check=False
    )
    if built.returncode != 0:
        pytest.fail(f"building the sarama driver failed:\n{built.stderr}")
    partial.replace(binary)
    return binary


def sarama(bootstrap: str, command: str, *args: str, timeout: float = 60) -> dict[str, Any]:
    """Run one driver command; its JSON answer (an "error" key when sarama reported one)."""
    done = subprocess.run(
        [str(sarama_binary()), bootstrap, command, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer
