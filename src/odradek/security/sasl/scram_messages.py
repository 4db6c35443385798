"""The four SCRAM messages of RFC 5802 §7, parsed field by field (and written).

    client-first  = gs2-header client-first-bare
    gs2-header    = ("n" / "y") "," ["a=" saslname] ","        ("p=" channel binding: refused)
    client-first-bare = "n=" saslname ",r=" c-nonce ["," extensions]
    server-first  = "r=" c-nonce s-nonce ",s=" base64(salt) ",i=" iterations ["," extensions]
    client-final  = "c=" base64(gs2-header) ",r=" nonce ["," extensions] ",p=" base64(proof)
    server-final  = "v=" base64(server-signature)  /  "e=" error

A *saslname* is UTF-8 with ``,`` written ``=2C`` and ``=`` written ``=3D``; any other ``=`` is an
error. A nonce is printable ASCII without a comma. The mandatory-extension attribute ``m=`` is
refused (RFC 5802 §5.1). Extensions are ``key=value`` attributes; Kafka uses them to flag
delegation tokens (``tokenauth=true``). Every parse error raises ScramFormatError.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field

_PRINTABLE = re.compile(r"[\x21-\x2b\x2d-\x7e]+")
_EXTENSION_KEY = re.compile(r"[A-Za-z]+")


class ScramFormatError(ValueError):
    pass


def escape_saslname(name: str) -> str:
    return name.replace("=", "=3D").replace(",", "=2C")


def unescape_saslname(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == ",":
            raise ScramFormatError("Invalid username: unescaped ','")
        if ch == "=":
            code = text[i + 1 : i + 3]
            if code == "2C":
                out.append(",")
            elif code == "3D":
                out.append("=")
            else:
                raise ScramFormatError(f"Invalid username: bad escape '={code}'")
            i += 3
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ScramFormatError(f"Invalid {what}: not base64") from exc


def _attributes(text: str, expected: str) -> list[tuple[str, str]]:
    """Splits ``k=v,k=v`` and checks the leading attribute names are `expected` in order."""
    parts = text.split(",")
    attrs: list[tuple[str, str]] = []
    for part in parts:
        key, sep, value = part.partition("=")
        if not sep or not key:
            raise ScramFormatError(f"Invalid SCRAM message: attribute {part[:20]!r}")
        attrs.append((key, value))
    if attrs and attrs[0][0] == "m":
        raise ScramFormatError("Invalid SCRAM message: mandatory extensions (m=) are not supported")
    for i, name in enumerate(expected):
        if i >= len(attrs) or attrs[i][0] != name:
            raise ScramFormatError(f"Invalid SCRAM message: expected attribute '{name}='")
    return attrs


def _extensions(attrs: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in attrs:
        if not _EXTENSION_KEY.fullmatch(key):
            raise ScramFormatError(f"Invalid SCRAM extension name {key[:20]!r}")
        out[key] = value
    return out


def _nonce(text: str) -> str:
    if not _PRINTABLE.fullmatch(text):
        raise ScramFormatError("Invalid nonce: must be printable ASCII without ','")
    return text


@dataclass(frozen=True, slots=True)
class ClientFirstMessage:
    username: str
    nonce: str
    authorization_id: str = ""
    cbind_flag: str = "n"
    extensions: dict[str, str] = field(default_factory=dict)

    @property
    def gs2_header(self) -> str:
        authzid = f"a={escape_saslname(self.authorization_id)}" if self.authorization_id else ""
        return f"{self.cbind_flag},{authzid},"

    @property
    def bare(self) -> str:
        ext = "".join(f",{k}={v}" for k, v in self.extensions.items())
        return f"n={escape_saslname(self.username)},r={self.nonce}{ext}"

    def to_bytes(self) -> bytes:
        return (self.gs2_header + self.bare).encode()

    @classmethod
    def parse(cls, data: bytes) -> tuple[ClientFirstMessage, str]:
        """The message and its client-first-bare text exactly as received."""
        text = _decode(data)
        flag, sep, rest = text.partition(",")
        if not sep:
            raise ScramFormatError("Invalid SCRAM client-first message")
        if flag.startswith("p="):
            raise ScramFormatError("Channel binding is not supported")
        if flag not in ("n", "y"):
            raise ScramFormatError(f"Invalid GS2 channel binding flag {flag[:5]!r}")
        authz, sep, bare = rest.partition(",")
        if not sep:
            raise ScramFormatError("Invalid SCRAM client-first message")
        authorization_id = ""
        if authz:
            if not authz.startswith("a="):
                raise ScramFormatError("Invalid SCRAM authorization identity")
            authorization_id = unescape_saslname(authz[2:])
        attrs = _attributes(bare, "nr")
        username = unescape_saslname(attrs[0][1])
        if not username:
            raise ScramFormatError("Invalid username: empty")
        message = cls(username, _nonce(attrs[1][1]), authorization_id, flag, _extensions(attrs[2:]))
        return message, bare


@dataclass(frozen=True, slots=True)
class ServerFirstMessage:
    nonce: str
    salt: bytes
    iterations: int

    def to_text(self) -> str:
        return f"r={self.nonce},s={base64.b64encode(self.salt).decode()},i={self.iterations}"

    @classmethod
    def parse(cls, data: bytes) -> tuple[ServerFirstMessage, str]:
        text = _decode(data)
        attrs = _attributes(text, "rsi")
        iterations_text = attrs[2][1]
        if not iterations_text.isdigit() or len(iterations_text) > 9:
            raise ScramFormatError("Invalid iteration count")
        salt = _b64decode(attrs[1][1], "salt")
        return cls(_nonce(attrs[0][1]), salt, int(iterations_text)), text


@dataclass(frozen=True, slots=True)
class ClientFinalMessage:
    channel_binding: bytes
    nonce: str
    proof: bytes
    extensions: dict[str, str] = field(default_factory=dict)

    @property
    def without_proof(self) -> str:
        ext = "".join(f",{k}={v}" for k, v in self.extensions.items())
        return f"c={base64.b64encode(self.channel_binding).decode()},r={self.nonce}{ext}"

    def to_bytes(self) -> bytes:
        return f"{self.without_proof},p={base64.b64encode(self.proof).decode()}".encode()

    @classmethod
    def parse(cls, data: bytes) -> tuple[ClientFinalMessage, str]:
        """The message and its client-final-without-proof text exactly as received."""
        text = _decode(data)
        head, sep, proof_text = text.rpartition(",p=")
        if not sep:
            raise ScramFormatError("Invalid SCRAM client-final message: no proof")
        attrs = _attributes(head, "cr")
        binding = _b64decode(attrs[0][1], "channel binding")
        proof = _b64decode(proof_text, "proof")
        return cls(binding, _nonce(attrs[1][1]), proof, _extensions(attrs[2:])), head


@dataclass(frozen=True, slots=True)
class ServerFinalMessage:
    server_signature: bytes = b""
    error: str | None = None

    def to_bytes(self) -> bytes:
        if self.error is not None:
            return f"e={self.error}".encode()
        return f"v={base64.b64encode(self.server_signature).decode()}".encode()

    @classmethod
    def parse(cls, data: bytes) -> ServerFinalMessage:
        text = _decode(data)
        if text.startswith("e="):
            return cls(error=text[2:])
        attrs = _attributes(text, "v")
        return cls(_b64decode(attrs[0][1], "server signature"))


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScramFormatError("Invalid SCRAM message: not UTF-8") from exc
