"""Every response the REST proxy tests receive is checked against the proxy's /openapi.json.

`OpenApiCheck.check(response)` finds the documented operation of the response's path and method
(the template with the fewest parameters when several match: ``/topics/-/configs`` before
``/topics/{topic_name}/configs``), then validates the JSON body against the schema of its status
(or of ``4XX``/``5XX``). A path or method the document does not know fails the test: the document
must describe the implementation, all of it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from jsonschema import Draft202012Validator


class OpenApiCheck:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.routes: list[tuple[int, re.Pattern[str], str]] = []
        for template in document["paths"]:
            pattern = re.escape(template)
            pattern = re.sub(r"\\{[a-z_]+\\}", "[^/]+", pattern)
            self.routes.append((template.count("{"), re.compile(pattern + "$"), template))
        self.routes.sort(key=lambda route: (route[0], route[2]))
        self.checked = 0

    def operation(self, path: str, method: str) -> tuple[str, dict[str, Any]]:
        for _, pattern, template in self.routes:
            if pattern.match(path) and method in self.document["paths"][template]:
                return template, self.document["paths"][template][method]
        raise AssertionError(f"{method.upper()} {path} is not in /openapi.json")

    def check(self, response: httpx.Response) -> None:
        request = response.request
        path = request.url.path
        if path in ("/health", "/metrics"):
            return
        method = request.method.lower()
        routing_error = response.status_code in (404, 405) and response.json().get("error_code") in (404, 405)
        if routing_error and ("/v3/clusters/" not in path or response.status_code == 405):
            return  # routing errors of paths that do not exist
        template, operation = self.operation(path, method)
        status = str(response.status_code)
        responses = operation["responses"]
        spec = responses.get(status) or responses.get(status[0] + "XX")
        assert spec is not None, f"{method.upper()} {template}: status {status} is not documented"
        content_type = response.headers.get("content-type", "").split(";")[0]
        if "content" not in spec:
            assert not response.content, f"{method.upper()} {template} {status}: unexpected body"
            return
        if content_type in ("text/event-stream", "application/x-ndjson"):
            assert content_type in spec["content"], f"{template}: {content_type} not documented"
            return
        media = spec["content"].get(content_type) or next(iter(spec["content"].values()))
        schema = {**media["schema"], "components": self.document["components"]}
        validator = Draft202012Validator(schema)
        text = response.text
        try:
            bodies = [json.loads(text)]
        except ValueError:  # a stream of reports, one JSON document per line
            bodies = [json.loads(line) for line in text.splitlines() if line.strip()]
        for body in bodies:
            errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
            assert not errors, (
                f"{method.upper()} {template} {status}: {errors[0].message} at {list(errors[0].path)}"
            )
        self.checked += 1
