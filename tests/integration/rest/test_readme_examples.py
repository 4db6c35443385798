"""The curl examples of the README's REST proxy section, run as written against a test proxy."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from odradek.testing.service_process import ServiceProcess

README = Path(__file__).resolve().parents[3] / "README.md"


def readme_block() -> str:
    text = README.read_text()
    section = text[text.index("## REST proxy") :]
    section = section[: section.index("\n## ", 5)]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match is not None
    return match.group(1)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_readme_curl_examples(rest: ServiceProcess) -> None:
    topic = f"readme-events-{uuid.uuid4().hex[:8]}"
    script = (
        readme_block()
        .replace("http://127.0.0.1:8082", rest.url)
        .replace("/events", "/" + topic)
        .replace('"events"', f'"{topic}"')
    )
    lines = [line for line in script.replace("\\\n", " ").splitlines() if line.strip()]
    sse = [line for line in lines if "text/event-stream" in line]
    plain = [line for line in lines if line not in sse]
    script = "\n".join(plain)
    out = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], check=False, capture_output=True, timeout=60
    )
    assert out.returncode == 0, out.stderr.decode()
    text = out.stdout.decode()
    assert '"kind":"KafkaTopic"' in text and '"partitions_count":1' in text
    assert '"offsets":[{"partition":0,"offset":0,"error_code":null,"error":null}]' in text
    assert '"error_code":200' in text and '"offset":1' in text
    assert '"value":{"type":"JSON","data":{"action":"signed up"}}' in text
    assert '"value":{"type":"JSON","data":{"action":"paid"}}' in text
    (stream,) = sse
    cluster = "C=$(" + lines[0].split("$(", 1)[1].rsplit(")", 1)[0] + ")\n"
    stream = stream.replace("curl -sN", "curl -sN --max-time 3")
    out = subprocess.run(["bash", "-c", cluster + stream], check=False, capture_output=True, timeout=30)
    assert b"data: " in out.stdout and b'"action":"paid"' in out.stdout
