"""/openapi.json is a valid OpenAPI 3.1 document and names every route of the app (and no other)."""

from __future__ import annotations

from openapi_spec_validator import validate
from starlette.routing import Route

from odradek.rest.app import build_app
from odradek.rest.config import RestConfig
from odradek.rest.openapi import document


def test_document_is_valid_openapi_3_1() -> None:
    doc = document()
    assert doc["openapi"] == "3.1.0"
    validate(doc)  # type: ignore[arg-type]


def test_every_route_is_documented_and_nothing_else() -> None:
    app = build_app(RestConfig.from_properties({}))
    served = set()
    for route in app.routes:
        assert isinstance(route, Route)
        if route.path in ("/metrics", "/health"):
            continue
        path = route.path.replace(":int}", "}")
        for method in route.methods or ():
            if method != "HEAD":
                served.add((path, method.lower()))
    documented = {(path, m) for path, ops in document()["paths"].items() for m in ops if m != "parameters"}
    assert served == documented
