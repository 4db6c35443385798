"""``/contexts/{ctx}/...`` URL prefixes resolved to qualified subjects (Confluent's rules)."""

from __future__ import annotations

import pytest

from odradek.registry.api.contexts import qualifier, rewrite
from odradek.registry.model import matches_prefix


@pytest.mark.parametrize(
    ("path", "query", "expected"),
    [
        ("/contexts/.c/subjects/s/versions", [], ("/subjects/:.c:s/versions", [])),
        ("/contexts/c/subjects/s/versions/1/", [], ("/subjects/:.c:s/versions/1", [])),
        ("/contexts/.c/subjects/:.d:s", [], ("/subjects/:.d:s", [])),
        ("/contexts/.c/subjects/:*:s", [], ("/subjects/:*:s", [])),
        ("/contexts/.c/compatibility/subjects/s/versions/latest", [], None),
        ("/contexts/.c/config", [], ("/config/:.c:", [])),
        (
            "/contexts/.c/config/s",
            [("defaultToGlobal", "true")],
            ("/config/:.c:s", [("defaultToGlobal", "true")]),
        ),
        ("/contexts/.c/mode", [], ("/mode/:.c:", [])),
        ("/contexts/./config", [], ("/config", [])),
        ("/contexts/./subjects/s", [], ("/subjects/s", [])),
        ("/contexts/.c/schemas/ids/3", [], ("/schemas/ids/3", [("subject", ":.c:")])),
        ("/contexts/.c/schemas/ids/3", [("subject", "s")], ("/schemas/ids/3", [("subject", ":.c:s")])),
        (
            "/contexts/.c/schemas/ids/3/versions",
            [("subject", ":.d:")],
            ("/schemas/ids/3/versions", [("subject", ":.d:")]),
        ),
        (
            "/contexts/.c/subjects",
            [("deleted", "true")],
            ("/subjects", [("deleted", "true"), ("subjectPrefix", ":.c:")]),
        ),
        ("/contexts/.c/schemas", [("subjectPrefix", "a")], ("/schemas", [("subjectPrefix", ":.c:a")])),
        ("/contexts/.c", [], None),
        ("/subjects/s", [], None),
    ],
)
def test_rewrite(path: str, query: list[tuple[str, str]], expected: object) -> None:
    if path.startswith("/contexts/.c/compatibility"):
        expected = ("/compatibility/subjects/:.c:s/versions/latest", [])
    assert rewrite(path, query) == expected


def test_qualifier() -> None:
    assert qualifier(".c") == qualifier("c") == qualifier(":.c:") == ":.c:"
    assert qualifier(".") == ""
    with pytest.raises(ValueError, match="colon"):
        qualifier(".a:b")


def test_subject_prefixes() -> None:
    assert matches_prefix(":.c:orders", ":*:ord") and matches_prefix("orders", ":*:ord")
    assert matches_prefix(":.c:orders", ":*:") and matches_prefix("x", "")
    assert not matches_prefix(":.c:orders", "ord") and matches_prefix(":.c:orders", ":.c:o")
