"""The JWKS behind signed OAUTHBEARER tokens: fetched at start and every
``sasl.oauthbearer.jwks.endpoint.refresh.ms``, off the event loop.

``sasl.oauthbearer.jwks.endpoint.url`` is an ``https://`` (or ``http://``) URL of the identity
provider's key set, or a ``file:`` URL / path of a JWKS file (which is simply read again). The URL
comes from the broker's own static configuration, never from a client or AlterConfigs, so no
allowlist stands between them (CVE-2025-27817 concerned client-supplied URLs). Until a key set has
been loaded, every token is refused (fail closed); a failed refresh keeps the last good key set and
logs the error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import urllib.parse
import urllib.request
from pathlib import Path

from odradek.security.sasl.jwt_validation import SignedJwtValidator

log = logging.getLogger("odradek.broker.jwks")
MAX_JWKS_BYTES = 1024 * 1024
FETCH_TIMEOUT_S = 10.0


def read_jwks(url: str) -> bytes:
    """Blocking: the JWKS document at `url` (a file path, file: URL or http(s) URL)."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme in ("", "file"):
        path = Path(urllib.parse.unquote(parsed.path) if parsed.scheme else url)
        return path.read_bytes()[: MAX_JWKS_BYTES + 1]
    if parsed.scheme not in ("http", "https"):
        raise ValueError(f"unsupported JWKS URL scheme {parsed.scheme!r}")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_S) as response:
        data: bytes = response.read(MAX_JWKS_BYTES + 1)
    return data


class JwksRefresher:
    """Owns the periodic refresh task (`start`/`stop`) and the current validator."""

    def __init__(self, url: str, refresh_ms: int, template: SignedJwtValidator) -> None:
        self.url = url
        self.refresh_ms = max(1000, refresh_ms)
        self._template = template
        self.validator: SignedJwtValidator | None = None
        self._task: asyncio.Task[None] | None = None

    def current(self) -> SignedJwtValidator | None:
        return self.validator

    async def refresh(self) -> bool:
        try:
            document = await asyncio.to_thread(read_jwks, self.url)
            if len(document) > MAX_JWKS_BYTES:
                raise ValueError("JWKS larger than 1 MiB")
            key_set = SignedJwtValidator.parse_key_set(document)
        except (OSError, ValueError) as exc:
            log.error("cannot load the JWKS from %s: %s (keeping the previous keys)", self.url, exc)
            return False
        self.validator = self._template.with_key_set(key_set)
        log.info("loaded %d JWKS keys from %s", len(key_set.keys), self.url)
        return True

    async def start(self) -> None:
        await self.refresh()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="jwks-refresh")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_ms / 1000)
            await self.refresh()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
