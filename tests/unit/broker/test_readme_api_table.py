"""The README's API table is exactly what the broker advertises (regenerate: tools/api_table.py --write)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_readme_api_table_matches_the_dispatch_table() -> None:
    spec = importlib.util.spec_from_file_location("api_table", ROOT / "tools" / "api_table.py")
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    readme = (ROOT / "README.md").read_text()
    assert tool.replace_in(readme, tool.render()) == readme, "run: python tools/api_table.py --write"
