"""OAuth tokens of a Tesla account and the claims the integration reads from them.

Tesla's access and id tokens are JWTs. Their claims are read without verifying the
signature: the tokens come straight from Tesla over TLS and only identify the account
(``sub``), name it (``email``), tell its region (``ou_code``) and the app they were
issued to (``azp``); Tesla verifies them on every request.
"""

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
import json
from typing import Any, Self

from .errors import MalformedResponse
from .models import as_float, as_str


@dataclass(frozen=True, slots=True)
class JwtClaims:
    """The claims of a JWT the integration reads (signature not verified)."""

    subject: str | None
    """The ``sub`` claim: the Tesla account id."""
    email: str | None = field(repr=False)
    """The ``email`` claim (id tokens carry it)."""
    region: str | None = None
    """The account's region from the ``ou_code`` claim, lower case (``na``, ``eu``, ``cn``)."""
    client_id: str | None = None
    """The ``azp`` claim: the client id of the app the token was issued to."""

    @classmethod
    def decode(cls, token: Any) -> Self:
        """Read the claims of ``token``; each is ``None`` when absent or not a string.

        Never raises: anything that is not a JWT with a JSON object payload has no
        claims.
        """
        claims = _payload(token)
        region = as_str(claims.get("ou_code"))
        return cls(
            subject=as_str(claims.get("sub")),
            email=as_str(claims.get("email")),
            region=region.lower() if region else None,
            client_id=as_str(claims.get("azp")),
        )


def _payload(token: Any) -> Mapping[str, Any]:
    """Return the decoded payload of the JWT ``token``, empty when it is not one."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except ValueError:  # also binascii.Error and UnicodeDecodeError
        return {}
    return claims if isinstance(claims, dict) else {}


@dataclass(frozen=True, slots=True)
class Tokens:
    """OAuth tokens of one Tesla account."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: float
    """Epoch seconds at which the access token expires."""

    def account_id(self) -> str | None:
        """Return the ``sub`` claim of the access token (a JWT, not verified), if any."""
        return JwtClaims.decode(self.access_token).subject

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict, the inverse of :meth:`from_dict`."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Rebuild tokens saved with :meth:`as_dict`; raise ``ValueError`` when invalid."""
        fields: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        access = as_str(fields.get("access_token"))
        refresh = as_str(fields.get("refresh_token"))
        expires_at = as_float(fields.get("expires_at"))
        if access is None or refresh is None or expires_at is None:
            raise ValueError("Stored tokens are incomplete")
        return cls(access, refresh, expires_at)

    @classmethod
    def from_token_response(cls, body: Any, now: float) -> Self:
        """Parse the body of ``POST /oauth2/v3/token``; raise MalformedResponse when invalid."""
        if not isinstance(body, Mapping):
            raise MalformedResponse("Token response is not a JSON object")
        access = as_str(body.get("access_token"))
        refresh = as_str(body.get("refresh_token"))
        expires_in = as_float(body.get("expires_in"))
        if access is None or refresh is None or expires_in is None or expires_in < 0:
            raise MalformedResponse("Token response lacks a token or its lifetime")
        return cls(access, refresh, now + expires_in)
