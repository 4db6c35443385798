"""Where a service listens: ``HOST:PORT`` or a Confluent-style listener URL ``http://HOST:PORT``."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class ListenAddress:
    host: str
    port: int

    def url(self, port: int | None = None) -> str:
        """The URL clients use; a wildcard host is reached over loopback."""
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        if host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port if port is None else port}"


def parse_listen(text: str, default_port: int = 0) -> ListenAddress:
    """``HOST:PORT``, ``:PORT``, ``HOST`` or ``http://HOST:PORT``; ValueError when malformed."""
    text = text.strip()
    if "://" in text:
        parts = urlsplit(text)
        if parts.scheme != "http":
            raise ValueError(f"{text!r}: only http:// listeners are served")
        try:
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"{text!r}: bad port") from exc
        return ListenAddress(parts.hostname or "0.0.0.0", default_port if port is None else port)
    host, sep, port_text = text.rpartition(":")
    if not sep:
        host, port_text = text, ""
    host = host.strip("[]")
    if port_text == "":
        port = default_port
    elif port_text.isdigit() and int(port_text) <= 65535:
        port = int(port_text)
    else:
        raise ValueError(f"{text!r}: expected HOST:PORT")
    return ListenAddress(host or "0.0.0.0", port)
