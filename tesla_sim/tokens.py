"""Tokens and authorization codes: JWT-shaped access tokens, rotating single-use refresh tokens.

Access tokens carry Tesla's claims: ``azp`` (the app's client id), ``aud`` (the regional
Fleet API bases and the token URL), ``scp``, ``amr``, ``ou_code`` (the account's region).
Refresh tokens and codes start with the region (``NA_``, ``EU_``). Partner tokens
(``client_credentials``) name the app, not an account.
"""

import base64
from dataclasses import dataclass
import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any

from .apps import DEV_CLIENT_ID

if TYPE_CHECKING:
    from .world import Account, World

ALL_SCOPES = (
    "openid",
    "email",
    "offline_access",
    "user_data",
    "vehicle_device_data",
    "vehicle_location",
    "vehicle_cmds",
    "vehicle_charging_cmds",
)
FLEET_AUTH_PREFIX = "/fleet-auth"
"""Path under which the simulator serves the fleet-auth host (the token endpoint)."""
CODE_LIFETIME = 600.0


def fleet_auth_token_url(base_url: str) -> str:
    """The token endpoint of the fleet-auth host of the simulator at ``base_url``."""
    return f"{base_url.rstrip('/')}{FLEET_AUTH_PREFIX}/oauth2/v3/token"


REFRESH_LIFETIME = 90 * 86400.0


class TokenError(Exception):
    """A token or code the server refuses; ``reason`` is safe to show."""

    def __init__(self, reason: str) -> None:
        """``reason``: short explanation (never the token itself)."""
        super().__init__(reason)
        self.reason = reason


def b64url(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def pkce_challenge(verifier: str) -> str:
    """S256 code challenge of ``verifier``."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def parse_scopes(raw: str | None) -> tuple[str, ...]:
    """Known scopes in a space-separated ``scope``; absent means all of them."""
    if raw is None or not raw.strip():
        return ALL_SCOPES
    names = raw.split()
    return tuple(s for s in ALL_SCOPES if s in names)


@dataclass(slots=True)
class TokenRecord:
    """An issued token."""

    kind: str  # access | refresh
    account_id: str  # empty for a partner token
    generation: int
    issued_at: float
    expires_at: float
    scopes: tuple[str, ...]
    client_id: str
    region: str | None = None
    used: bool = False


@dataclass(frozen=True, slots=True)
class AccessInfo:
    """What a valid access token grants: whose account (None for a partner token), which app."""

    account: Account | None
    client_id: str
    scopes: tuple[str, ...]
    region: str | None
    partner: bool


@dataclass(slots=True)
class AuthCode:
    """An authorization code (single use)."""

    account_id: str
    client_id: str
    redirect_uri: str
    code_challenge: str | None
    scopes: tuple[str, ...]
    expires_at: float
    amr: tuple[str, ...]
    used: bool = False


class TokenStore:
    """Issues and checks tokens and codes for the simulated sign-in server."""

    def __init__(self, world: World) -> None:
        """Tokens are signed with a key derived from the world's seed."""
        self.world = world
        self._key = hashlib.sha256(f"tesla-sim-{world.seed}".encode()).digest()
        self.tokens: dict[str, TokenRecord] = {}
        self.codes: dict[str, AuthCode] = {}
        self.requests: list[dict[str, Any]] = []
        """What the token endpoint received: path, content type, grant, field names."""

    def clear(self) -> None:
        """Forget every token, code and received request."""
        self.tokens.clear()
        self.codes.clear()
        self.requests.clear()

    def _jwt(self, payload: dict[str, Any]) -> str:
        header = {"alg": "RS256", "kid": "tesla-sim", "typ": "JWT"}
        signing_input = (
            b64url(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + b64url(json.dumps(payload, separators=(",", ":")).encode())
        )
        signature = hmac.new(self._key, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{b64url(signature)}"

    def issue(
        self,
        account: Account,
        *,
        scopes: tuple[str, ...] = ALL_SCOPES,
        client_id: str = DEV_CLIENT_ID,
        amr: tuple[str, ...] = ("pwd",),
    ) -> dict[str, Any]:
        """Issue a token response (access, refresh when ``offline_access``, id token)."""
        world = self.world
        now = world.now()
        lifetime = world.access_token_lifetime
        iat = int(now)
        base = world.base_url
        access = self._jwt(
            {
                "iss": f"{base}/oauth2/v3/nts",
                "azp": client_id,
                "aud": [*world.fleet_bases(), world.token_url],
                "iat": iat,
                "exp": int(now + lifetime),
                "sub": account.id,
                "scp": list(scopes),
                "amr": list(amr),
                "auth_time": iat,
                "ou_code": account.region.upper(),
                "locale": "en-US",
                "jti": world.token_hex(12),
            }
        )
        self.tokens[access] = TokenRecord(
            "access",
            account.id,
            account.token_generation,
            now,
            now + lifetime,
            scopes,
            client_id,
            account.region,
        )
        body: dict[str, Any] = {
            "access_token": access,
            "expires_in": int(lifetime),
            "token_type": "Bearer",
            "id_token": self._jwt(
                {
                    "iss": f"{base}/oauth2/v3",
                    "aud": client_id,
                    "sub": account.id,
                    "email": account.email,
                    "iat": iat,
                    "exp": int(now + lifetime),
                }
            ),
        }
        if "offline_access" in scopes:
            refresh = f"{account.region.upper()}_{world.token_hex(32)}"
            self.tokens[refresh] = TokenRecord(
                "refresh",
                account.id,
                account.token_generation,
                now,
                now + REFRESH_LIFETIME,
                scopes,
                client_id,
                account.region,
            )
            body["refresh_token"] = refresh
        return body

    def issue_partner(
        self, client_id: str, scopes: tuple[str, ...], audience: str
    ) -> dict[str, Any]:
        """A partner token (``client_credentials``): the app itself, no account."""
        now = self.world.now()
        lifetime = self.world.access_token_lifetime
        access = self._jwt(
            {
                "iss": f"{self.world.base_url}/oauth2/v3/nts",
                "sub": client_id,
                "azp": client_id,
                "aud": audience,
                "gty": "client-credentials",
                "partner": True,
                "scp": list(scopes),
                "iat": int(now),
                "exp": int(now + lifetime),
                "jti": self.world.token_hex(12),
            }
        )
        self.tokens[access] = TokenRecord(
            "access", "", 0, now, now + lifetime, scopes, client_id
        )
        return {
            "access_token": access,
            "expires_in": int(lifetime),
            "token_type": "Bearer",
        }

    def _valid(self, token: str, kind: str) -> TokenRecord:
        record = self.tokens.get(token)
        if record is None or record.kind != kind:
            raise TokenError("invalid token")
        if record.account_id:
            account = self.world.accounts.get(record.account_id)
            if account is None or record.generation != account.token_generation:
                raise TokenError("token revoked")
        if self.world.now() >= record.expires_at:
            raise TokenError("token expired")
        return record

    def lookup_access(self, token: str) -> AccessInfo:
        """What a valid access token (account or partner) grants; TokenError otherwise."""
        record = self._valid(token, "access")
        account = self.world.accounts[record.account_id] if record.account_id else None
        return AccessInfo(
            account,
            record.client_id,
            record.scopes,
            record.region,
            partner=account is None,
        )

    def check_access(self, token: str) -> TokenRecord:
        """The record of a valid account access token; TokenError otherwise."""
        record = self._valid(token, "access")
        if not record.account_id:
            raise TokenError("a partner token names no account")
        return record

    def refresh(self, refresh_token: str, client_id: str) -> dict[str, Any]:
        """Rotate: the refresh token is used up, a new pair is issued for its app."""
        record = self._valid(refresh_token, "refresh")
        if record.used:
            raise TokenError("refresh token already used")
        if client_id != record.client_id:
            raise TokenError("the refresh token belongs to another client_id")
        record.used = True
        account = self.world.accounts[record.account_id]
        return self.issue(account, scopes=record.scopes, client_id=record.client_id)

    def revoke(self, account: Account) -> None:
        """Every token issued so far to ``account`` stops working."""
        account.token_generation += 1

    def new_code(
        self,
        account: Account,
        *,
        client_id: str,
        redirect_uri: str,
        code_challenge: str | None,
        scopes: tuple[str, ...],
        amr: tuple[str, ...] = ("pwd",),
    ) -> str:
        """An authorization code for ``account`` (10 minutes, single use)."""
        code = f"{account.region.upper()}_{self.world.token_hex(24)}"
        self.codes[code] = AuthCode(
            account.id,
            client_id,
            redirect_uri,
            code_challenge,
            scopes,
            self.world.now() + CODE_LIFETIME,
            amr,
        )
        return code

    def exchange(
        self,
        code: str,
        client_id: str,
        code_verifier: str | None,
        redirect_uri: str | None,
    ) -> dict[str, Any]:
        """grant_type=authorization_code (the client is already authenticated)."""
        record = self.codes.get(code)
        if record is None:
            raise TokenError("invalid authorization code")
        if record.used:
            raise TokenError("authorization code already used")
        if self.world.now() >= record.expires_at:
            raise TokenError("authorization code expired")
        if client_id != record.client_id:
            raise TokenError("the code was issued to another client_id")
        if redirect_uri != record.redirect_uri:
            raise TokenError("redirect_uri mismatch")
        if record.code_challenge is not None:
            if (
                not code_verifier
                or pkce_challenge(code_verifier) != record.code_challenge
            ):
                raise TokenError("code_verifier does not match the code_challenge")
        record.used = True
        account = self.world.accounts[record.account_id]
        return self.issue(
            account, scopes=record.scopes, client_id=record.client_id, amr=record.amr
        )
