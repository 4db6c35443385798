"""Run the kafkajs driver (`kafkajs/driver.js`) for the JavaScript compat tests.

kafkajs and its codec libraries are pinned in `kafkajs/package.json` and `package-lock.json`;
`make test` installs them into `tests/compat/kafkajs/node_modules` with `npm ci` (Node.js from the
machine, or Debian's nodejs/npm).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent / "kafkajs"
DRIVER = HERE / "driver.js"


def kafkajs_version() -> str:
    package = HERE / "node_modules" / "kafkajs" / "package.json"
    return str(json.loads(package.read_text())["version"]) if package.exists() else "missing"


def kafkajs(bootstrap: str, command: str, timeout: float = 60, **args: Any) -> dict[str, Any]:
    """One driver command; its JSON answer (an "error" key when kafkajs threw)."""
    node = shutil.which("node")
    if node is None or not (HERE / "node_modules" / "kafkajs").is_dir():
        pytest.fail(
            "the kafkajs tests need Node.js and `npm ci` in tests/compat/kafkajs (`make test` does both)"
        )
    done = subprocess.run(
        [node, str(DRIVER), bootstrap, command, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer
