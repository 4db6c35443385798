"""Only the replication partition moves the high watermark (storage keeps it; nothing else assigns it)."""

from __future__ import annotations

import ast
from pathlib import Path

import odradek

ALLOWED = {"storage", "replication"}
NAMES = ("high_watermark", "_high_watermark")
COPIES = {
    ("broker/handlers/fetch.py", "read"),
    ("broker/fetch_sessions.py", "cached"),
    ("protocol/fetch_request.py", "part"),
}
"""Value objects that carry a copy of a partition's high watermark (a fetch answer, a session's cache,
a Fetch request's partition: the v18 field, parsed from the wire)."""


def test_no_module_outside_storage_and_replication_assigns_the_high_watermark() -> None:
    root = Path(odradek.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        package = path.relative_to(root).parts[0]
        if package in ALLOWED:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            for target in targets:
                if not isinstance(target, ast.Attribute) or target.attr not in (
                    "high_watermark",
                    "_high_watermark",
                ):
                    continue
                owner = target.value.id if isinstance(target.value, ast.Name) else ""
                if (path.relative_to(root).as_posix(), owner) not in COPIES:
                    offenders.append(f"{path.relative_to(root)}:{node.lineno}")
    assert offenders == []
