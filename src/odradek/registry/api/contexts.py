"""Context URL prefixes: ``/contexts/{context}/...`` is the same API inside one schema context.

Confluent serves every subject and schema route a second time under a context path, so a client
given ``http://registry:8081/contexts/.staging`` as its URL works in the ``.staging`` context
without qualifying a single subject. The prefix is resolved before routing, as Confluent does:

- the path loses ``/contexts/{context}``; the subject after ``subjects`` (also in
  ``/compatibility/subjects/...``) and after a leading ``config`` or ``mode`` gets the qualifier
  ``:.context:`` unless it is already qualified (``:.other:s``) or a wildcard (``:*:``);
  ``/config`` and ``/mode`` alone become the context's own (``/config/:.context:``);
- ``/schemas/ids/...`` gets ``subject=:.context:`` (ids are per context), and the lists
  ``/subjects`` and ``/schemas`` get ``subjectPrefix=:.context:...``.

The default context ``.`` qualifies nothing. A context name with a ``:`` is refused (400).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlencode

from starlette.types import ASGIApp, Receive, Scope, Send

from odradek.http import error_response
from odradek.registry.api.io import MEDIA_TYPE

PREFIX = "/contexts/"


def qualifier(context: str) -> str:
    """``.ctx``, ``ctx`` or ``:.ctx:`` → ``:.ctx:``; the default context ``.`` → ``""``."""
    name = context.removeprefix(":").removesuffix(":")
    if ":" in name:
        raise ValueError("Context name cannot contain a colon")
    if not name.startswith("."):
        name = "." + name
    return "" if name == "." else f":{name}:"


def _qualified(subject: str) -> bool:
    return subject.startswith((":.", ":*:"))


def rewrite(path: str, query: list[tuple[str, str]]) -> tuple[str, list[tuple[str, str]]] | None:
    """The unprefixed path and query for a ``/contexts/{context}/...`` request (None: not one)."""
    if not path.startswith(PREFIX):
        return None
    context, _, rest = path[len(PREFIX) :].partition("/")
    segments = rest.split("/")
    while segments and segments[-1] == "":
        segments.pop()
    if not segments:
        return None  # /contexts/{context} itself
    q = qualifier(context)
    out: list[str] = []
    subject_next = False
    for i, segment in enumerate(segments):
        if subject_next:
            out.append(segment if _qualified(segment) else q + segment)
            subject_next = False
            continue
        subject_next = segment == "subjects" or (i == 0 and segment in ("config", "mode"))
        out.append(segment)
    if subject_next and segments[0] in ("config", "mode") and len(segments) == 1 and q:
        out.append(q)
    new_path = "/" + "/".join(out)
    if new_path.startswith("/schemas/ids"):
        subject = next((v for k, v in query if k == "subject"), "")
        if not _qualified(subject):
            query = [(k, v) for k, v in query if k != "subject"] + [("subject", q + subject)]
    elif new_path in ("/schemas", "/subjects"):
        prefixes = [v for k, v in query if k == "subjectPrefix"] or [""]
        query = [(k, v) for k, v in query if k != "subjectPrefix"] + [
            ("subjectPrefix", p if _qualified(p) else q + p) for p in prefixes
        ]
    return new_path, query


class ContextPaths:
    """ASGI middleware applying `rewrite` before the routes see the request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PREFIX):
            query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            try:
                rewritten = rewrite(scope["path"], query)
            except ValueError as exc:
                await error_response(400, str(exc), MEDIA_TYPE)(scope, receive, send)
                return
            if rewritten is not None:
                path, query = rewritten
                scope = {
                    **scope,
                    "path": path,
                    "raw_path": quote(path, safe="/:*").encode(),
                    "query_string": urlencode(query, safe=":*").encode(),
                }
        await self.app(scope, receive, send)
