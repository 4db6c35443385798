"""Token validators for OAUTHBEARER: unsecured JWS (development) and signed JWTs (production).

**Unsecured** (Kafka's default OAuthBearerUnsecuredValidatorCallbackHandler, configured by the JAAS
options ``unsecuredValidatorPrincipalClaimName`` (default ``sub``), ``unsecuredValidatorScopeClaimName``
(``scope``), ``unsecuredValidatorRequiredScope`` and ``unsecuredValidatorAllowableClockSkewMs``): the
token is ``base64url(header).base64url(claims).`` with ``"alg": "none"`` and an empty signature; it
proves nothing, which is why only a listener configured for it accepts it.

**Signed** (Kafka's OAuthBearerValidatorCallbackHandler with ``sasl.oauthbearer.jwks.endpoint.url``,
``sasl.oauthbearer.expected.audience``, ``sasl.oauthbearer.expected.issuer``,
``sasl.oauthbearer.sub.claim.name``, ``sasl.oauthbearer.scope.claim.name``,
``sasl.oauthbearer.clock.skew.seconds``): a JWS in compact form whose signature verifies with a key of
the JWKS (chosen by ``kid``), signed with an asymmetric algorithm from the allowlist. ``none`` and the
HMAC algorithms are refused (a public JWKS key must never become an HMAC secret), and so are
encrypted tokens. It fails closed: no key set, no login (CVE-2026-33557/-110985 class).
Claims checked: ``exp`` required and in the future, ``nbf``/``iat`` not in the future, ``iss`` and
``aud`` equal to the expected values when configured, the subject claim a non-empty string.
All time checks allow the clock skew, and use the `now_ms` given (never the system clock).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from odradek.security.sasl.oauthbearer import TokenValidationError, ValidatedToken

if TYPE_CHECKING:
    from joserfc.jwk import KeySet

SIGNED_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
MAX_TOKEN_LENGTH = 64 * 1024


def _b64url(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError) as exc:
        raise TokenValidationError("malformed JWT: not base64url") from exc


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise TokenValidationError(f"malformed JWT: {what} is not JSON") from exc
    if not isinstance(value, dict):
        raise TokenValidationError(f"malformed JWT: {what} is not a JSON object")
    return value


def _number(claims: Mapping[str, Any], name: str, required: bool) -> float | None:
    value = claims.get(name)
    if value is None:
        if required:
            raise TokenValidationError(f"Required claim missing: {name}")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenValidationError(f"The claim {name} is not a number")
    return float(value)


def _scope(claims: Mapping[str, Any], name: str) -> frozenset[str]:
    value = claims.get(name)
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return frozenset(value)
    raise TokenValidationError(f"The claim {name} is neither a string nor a list of strings")


def check_claims(
    claims: Mapping[str, Any],
    now_ms: int,
    *,
    principal_claim: str,
    scope_claim: str,
    clock_skew_ms: int,
    required_scope: frozenset[str] = frozenset(),
    issuer: str | None = None,
    audience: frozenset[str] = frozenset(),
) -> ValidatedToken:
    principal = claims.get(principal_claim)
    if not isinstance(principal, str) or not principal.strip():
        raise TokenValidationError(
            f"The principal claim {principal_claim} is missing or not a non-empty string"
        )
    exp = _number(claims, "exp", required=True)
    assert exp is not None
    exp_ms = int(exp * 1000)
    if now_ms - clock_skew_ms >= exp_ms:
        raise TokenValidationError(
            f"The indicated time ({now_ms} ms) is on or after the Expiration Time value ({exp_ms} ms)"
        )
    iat = _number(claims, "iat", required=False)
    if iat is not None:
        if int(iat * 1000) > now_ms + clock_skew_ms:
            raise TokenValidationError("The Issued At value is in the future")
        if iat > exp:
            raise TokenValidationError("The Issued At value is after the Expiration Time value")
    nbf = _number(claims, "nbf", required=False)
    if nbf is not None and int(nbf * 1000) > now_ms + clock_skew_ms:
        raise TokenValidationError("The token is not valid yet (nbf)")
    if issuer is not None and claims.get("iss") != issuer:
        raise TokenValidationError(f"The iss claim is not the expected issuer {issuer}")
    if audience:
        aud = claims.get("aud")
        given = {aud} if isinstance(aud, str) else set(aud) if isinstance(aud, list) else set()
        if not given & audience:
            raise TokenValidationError("The aud claim does not contain an expected audience")
    scope = _scope(claims, scope_claim)
    missing = required_scope - scope
    if missing:
        raise TokenValidationError(
            f"The provided scope is missing required values: {sorted(missing)}",
            status="insufficient_scope",
            scope=" ".join(sorted(required_scope)),
        )
    start = int(iat * 1000) if iat is not None else None
    return ValidatedToken(principal.strip(), exp_ms, scope, start)


def _split(token: str) -> list[str]:
    if len(token) > MAX_TOKEN_LENGTH:
        raise TokenValidationError("JWT too long")
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenValidationError(
            "malformed JWT: a JWS in compact form has three parts (encrypted tokens are not supported)"
        )
    return parts


@dataclass(frozen=True, slots=True)
class UnsecuredJwsValidator:
    principal_claim: str = "sub"
    scope_claim: str = "scope"
    required_scope: frozenset[str] = frozenset()
    clock_skew_ms: int = 0

    @classmethod
    def from_jaas_options(cls, options: Mapping[str, str]) -> UnsecuredJwsValidator:
        required = options.get("unsecuredValidatorRequiredScope", "")
        return cls(
            options.get("unsecuredValidatorPrincipalClaimName", "sub"),
            options.get("unsecuredValidatorScopeClaimName", "scope"),
            frozenset(s for s in required.replace(",", " ").split() if s),
            int(options.get("unsecuredValidatorAllowableClockSkewMs", "0") or 0),
        )

    def validate(self, token: str, now_ms: int) -> ValidatedToken:
        header_b64, claims_b64, signature = _split(token)
        header = _json_object(_b64url(header_b64), "header")
        if header.get("alg") != "none":
            raise TokenValidationError(
                "An unsecured JWS must have alg=none; signed tokens need a JWKS-validating listener"
            )
        if signature:
            raise TokenValidationError("An unsecured JWS must have an empty signature")
        claims = _json_object(_b64url(claims_b64), "claims")
        return check_claims(
            claims,
            now_ms,
            principal_claim=self.principal_claim,
            scope_claim=self.scope_claim,
            clock_skew_ms=self.clock_skew_ms,
            required_scope=self.required_scope,
        )


@dataclass(frozen=True, slots=True)
class SignedJwtValidator:
    key_set: KeySet
    issuer: str | None = None
    audience: frozenset[str] = frozenset()
    principal_claim: str = "sub"
    scope_claim: str = "scope"
    clock_skew_ms: int = 30_000
    algorithms: tuple[str, ...] = SIGNED_ALGORITHMS

    @staticmethod
    def parse_key_set(jwks_json: str | bytes) -> KeySet:
        """A JWKS document (``{"keys": [...]}``); raises ValueError when it is not one."""
        from joserfc.errors import JoseError  # (joserfc: only once a listener validates signed JWTs)
        from joserfc.jwk import KeySet

        try:
            document = json.loads(jwks_json)
            if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
                raise ValueError("not a JWKS document (no 'keys' list)")
            keys = [k for k in document["keys"] if isinstance(k, dict) and k.get("kty") != "oct"]
            if not keys:
                return KeySet([])  # validation then fails closed
            return KeySet.import_key_set({"keys": keys})
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"invalid JWKS: {exc}") from exc

    @classmethod
    def empty(cls) -> SignedJwtValidator:
        """A validator with no keys: it refuses every token (fail closed)."""
        from joserfc.jwk import KeySet

        return cls(KeySet([]))

    def with_key_set(self, key_set: KeySet) -> SignedJwtValidator:
        return SignedJwtValidator(
            key_set,
            self.issuer,
            self.audience,
            self.principal_claim,
            self.scope_claim,
            self.clock_skew_ms,
            self.algorithms,
        )

    def validate(self, token: str, now_ms: int) -> ValidatedToken:
        header_b64, _, _ = _split(token)
        header = _json_object(_b64url(header_b64), "header")
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise TokenValidationError(f"JWT algorithm {alg!r} is not allowed on this listener")
        if not self.key_set.keys:
            raise TokenValidationError("no JWKS keys are loaded: refusing every token")
        from joserfc import jws
        from joserfc.errors import JoseError

        try:
            signature = jws.deserialize_compact(token, self.key_set, algorithms=list(self.algorithms))
        except JoseError as exc:
            raise TokenValidationError(
                f"JWT signature validation failed: {exc.description or exc.error}"
            ) from exc
        claims = _json_object(signature.payload, "claims")
        return check_claims(
            claims,
            now_ms,
            principal_claim=self.principal_claim,
            scope_claim=self.scope_claim,
            clock_skew_ms=self.clock_skew_ms,
            issuer=self.issuer,
            audience=self.audience,
        )


def unsecured_token(claims: Mapping[str, Any]) -> str:
    """An unsecured JWS (what Kafka's default login handler makes), for development and tests."""

    def part(value: Mapping[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(claims)}."
