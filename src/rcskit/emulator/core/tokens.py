"""Access tokens issued by emulated OAuth endpoints: JWT-shaped, looked up on every call.

Tokens are HS256 JWTs carrying ``exp`` (some clients decode it to schedule a refresh), signed
with a key made at start; the platform still checks each one against what it issued, so a
reset or expiry invalidates it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import jwt

__all__ = ["IssuedToken", "TokenStore"]


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token and what it grants: whose client, which bot, which scope, until when."""

    token: str
    client_id: str
    bot_id: str
    scope: str
    expires_at: float

    def __repr__(self) -> str:
        return (
            f"IssuedToken(client_id={self.client_id!r}, bot_id={self.bot_id!r}, "
            f"scope={self.scope!r}, expires_at={self.expires_at})"
        )


class TokenStore:
    """Issues and checks bearer tokens."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)
        self._tokens: dict[str, IssuedToken] = {}

    def issue(
        self, *, client_id: str, bot_id: str, scope: str, now: float, ttl_s: int
    ) -> IssuedToken:
        """A new token valid ``ttl_s`` seconds from ``now``."""
        if len(self._tokens) > 1024:
            self._tokens = {k: v for k, v in self._tokens.items() if v.expires_at > now}
        claims = {
            "client_id": client_id,
            "scope": scope.split(),
            "exp": int(now + ttl_s),
            "iat": int(now),
            "jti": secrets.token_hex(8),
        }
        token = jwt.encode(claims, self._key, algorithm="HS256")
        issued = IssuedToken(token, client_id, bot_id, scope, now + ttl_s)
        self._tokens[token] = issued
        return issued

    def lookup(self, token: str, now: float) -> IssuedToken | None:
        """What ``token`` grants, or ``None`` if it was never issued or has expired."""
        issued = self._tokens.get(token)
        if issued is None:
            return None
        if issued.expires_at <= now:
            del self._tokens[token]
            return None
        return issued

    def expired(self, token: str) -> bool:
        """Whether ``token`` was issued here but is no longer valid (its ``exp`` has passed or
        the store forgot it), as opposed to never issued: lets a flavour say "expired"."""
        try:
            jwt.decode(token, self._key, algorithms=["HS256"], options={"verify_exp": False})
        except jwt.InvalidTokenError:
            return False
        return True

    def clear(self) -> None:
        """Invalidate every token."""
        self._tokens.clear()
