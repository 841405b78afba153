"""Tesla's OAuth server: PKCE, authorize URL, code exchange and refresh; a token manager.

A browser sign-in sends the user to :func:`authorize_endpoint` (auth.tesla.com) and
exchanges the code at the token URL: Tesla's fleet-auth host
(:data:`DEFAULT_TOKEN_URL`) unless another is configured. Every token call is
form-encoded; a code exchange carries the app's client secret, a refresh the app's
client id and no scope. The headless sign-in of :mod:`.sso` does the same with the
legacy client; :class:`TokenManager` then keeps the account's tokens fresh, and
:meth:`TeslaOAuth.partner_token` gets the app's own token for partner registration.
"""

import asyncio
import base64
from dataclasses import dataclass
import hashlib
import json
import logging
import secrets
import time
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlencode

import aiohttp

from .errors import AuthFailed, CloudUnavailable, MalformedResponse, RateLimited
from .tokens import Tokens

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

_LOGGER = logging.getLogger(__name__)

VERSION = "0.1.0"
USER_AGENT = f"tesla-resilient/{VERSION}"

DEFAULT_AUTH_BASE = "https://auth.tesla.com"
DEFAULT_TOKEN_URL = "https://fleet-auth.prd.vn.cloud.tesla.com/oauth2/v3/token"  # noqa: S105
DEFAULT_CLIENT_ID = "ownerapi"
"""The legacy client of the headless sign-in (Tesla's own app, Owner API tokens)."""
DEFAULT_REDIRECT_URI = "https://auth.tesla.com/void/callback"
SCOPES = (
    "openid offline_access user_data vehicle_device_data vehicle_location "
    "vehicle_cmds vehicle_charging_cmds"
)
PARTNER_SCOPES = "openid vehicle_device_data vehicle_cmds vehicle_charging_cmds"


def make_code_verifier() -> str:
    """Return a new random PKCE code verifier (86 URL-safe characters)."""
    return secrets.token_urlsafe(64)


def code_challenge(code_verifier: str) -> str:
    """Return the S256 PKCE challenge of ``code_verifier``."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_endpoint(auth_base: str) -> str:
    """Return the URL of the sign-in page (``/oauth2/v3/authorize``) under ``auth_base``."""
    return f"{auth_base.rstrip('/')}/oauth2/v3/authorize"


def token_endpoint(auth_base: str) -> str:
    """Return the URL of the token endpoint (``/oauth2/v3/token``) under ``auth_base``."""
    return f"{auth_base.rstrip('/')}/oauth2/v3/token"


def default_token_url(auth_base: str) -> str:
    """Return the token URL that goes with the sign-in server ``auth_base``.

    Tesla's fleet-auth host for Tesla's sign-in server; for another server (Tesla
    China, a proxy, a simulator) its own token endpoint.
    """
    if auth_base.rstrip("/") == DEFAULT_AUTH_BASE:
        return DEFAULT_TOKEN_URL
    return token_endpoint(auth_base)


def authorize_params(code_challenge: str) -> dict[str, str]:
    """Return the scope and PKCE (S256) parameters of an authorize request."""
    return {
        "scope": SCOPES,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
    }


@dataclass(frozen=True, slots=True)
class Reply:
    """What the sign-in code needs of an HTTP response."""

    status: int
    text: str
    location: str
    retry_after: str | None
    cookies: dict[str, str]

    def json(self) -> Any:
        """Return the body parsed as JSON, or ``None`` when it is not JSON."""
        try:
            return json.loads(self.text)
        except ValueError:
            return None

    def raise_for_server(self) -> None:
        """Raise RateLimited on 429 and CloudUnavailable on 5xx (540 included)."""
        if self.status == 429:
            raise RateLimited.from_header(self.retry_after)
        if self.status >= 500:
            raise CloudUnavailable(f"Tesla sign-in answered HTTP {self.status}")


class TeslaOAuth:
    """Tesla's sign-in server: authorize URL, authorization code exchange and refresh."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        auth_base: str = DEFAULT_AUTH_BASE,
        token_url: str | None = None,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str | None = None,
        redirect_uri: str = DEFAULT_REDIRECT_URI,
        timeout: float = 20,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Use ``session`` (which may be shared) for every request.

        ``token_url`` defaults to :func:`default_token_url` of ``auth_base``;
        ``client_secret`` (the app's) is needed for code exchange and partner tokens.
        """
        self._session = session
        self._auth_base = auth_base.rstrip("/")
        self._token_url = token_url or default_token_url(auth_base)
        self._client_id = client_id
        self._client_secret = client_secret
        self._redirect_uri = redirect_uri
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._clock = clock

    def authorize_url(
        self, *, state: str, code_challenge: str, redirect_uri: str
    ) -> str:
        """Return the URL of Tesla's sign-in page for a browser OAuth flow (PKCE S256)."""
        params = {
            **authorize_params(code_challenge),
            "client_id": self._client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "state": state,
        }
        query = urlencode(sorted(params.items()))
        return f"{authorize_endpoint(self._auth_base)}?{query}"

    async def exchange_code(
        self, code: str, code_verifier: str | None, redirect_uri: str
    ) -> Tokens:
        """Exchange an authorization code for tokens; AuthFailed when Tesla refuses it."""
        body = {
            "grant_type": "authorization_code",
            "client_id": self._client_id,
            "code": code,
            "redirect_uri": redirect_uri,
        }
        if self._client_secret is not None:
            body["client_secret"] = self._client_secret
        if code_verifier is not None:
            body["code_verifier"] = code_verifier
        now = self._clock()
        return Tokens.from_token_response(await self._token_request(body), now)

    async def refresh(self, refresh_token: str) -> Tokens:
        """Trade a (single-use) refresh token for new tokens (the client id, no scope).

        Raise AuthFailed when Tesla refuses it (invalid grant), RateLimited on 429 and
        CloudUnavailable on outages.
        """
        now = self._clock()
        body = {
            "grant_type": "refresh_token",
            "client_id": self._client_id,
            "refresh_token": refresh_token,
        }
        return Tokens.from_token_response(await self._token_request(body), now)

    async def partner_token(self, audience: str, scope: str = PARTNER_SCOPES) -> str:
        """Return a partner token of the app (``client_credentials``) for ``audience``.

        ``audience`` is the regional Fleet API base the token is for (partner
        registration). Raise AuthFailed without a client secret or when Tesla refuses.
        """
        if self._client_secret is None:
            raise AuthFailed("A partner token needs the app's client secret")
        body = await self._token_request(
            {
                "grant_type": "client_credentials",
                "client_id": self._client_id,
                "client_secret": self._client_secret,
                "scope": scope,
                "audience": audience,
            }
        )
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise MalformedResponse("Partner token response lacks the token")
        return token

    async def _token_request(self, body: Mapping[str, str]) -> Any:
        """POST ``body`` form-encoded to the token URL; return the JSON answer."""
        reply = await self._send("POST", self._token_url, data=body)
        reply.raise_for_server()
        if reply.status in {400, 401}:
            error = reply.json()
            code = error.get("error") if isinstance(error, dict) else None
            detail = (
                f" ({code})" if isinstance(code, str) and code.isidentifier() else ""
            )
            raise AuthFailed(f"Tesla refused the {body['grant_type']} grant{detail}")
        if reply.status != 200:
            raise CloudUnavailable(f"Tesla token endpoint answered HTTP {reply.status}")
        return reply.json()

    async def _send(
        self,
        method: str,
        url: str,
        *,
        cookies: dict[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json: Mapping[str, str] | None = None,
    ) -> Reply:
        """Send one request without following redirects; map network errors."""
        try:
            async with self._session.request(
                method,
                url,
                cookies=cookies,
                data=data,
                json=json,
                headers={"User-Agent": USER_AGENT},
                timeout=self._timeout,
                allow_redirects=False,
            ) as resp:
                text = await resp.text(errors="replace")
                return Reply(
                    status=resp.status,
                    text=text,
                    location=resp.headers.get("Location", ""),
                    retry_after=resp.headers.get("Retry-After"),
                    cookies={
                        name: morsel.value for name, morsel in resp.cookies.items()
                    },
                )
        except (aiohttp.ClientError, TimeoutError, OSError) as err:
            _LOGGER.debug("Tesla sign-in request failed: %s", type(err).__name__)
            raise CloudUnavailable(
                f"Tesla sign-in unreachable ({type(err).__name__})"
            ) from err


class AccessTokens(Protocol):
    """What the Fleet API client needs of an account's (or an app's) tokens."""

    async def access_token(self) -> str:
        """Return a valid access token."""
        ...

    async def force_refresh(self, rejected: str) -> str:
        """Return a new token after ``rejected`` got a 401 (or raise AuthFailed)."""
        ...


class PartnerToken:
    """The app's partner token (:meth:`TeslaOAuth.partner_token`): used as it is."""

    def __init__(self, token: str) -> None:
        """Hand out ``token``."""
        self._token = token

    async def access_token(self) -> str:
        """Return the partner token."""
        return self._token

    async def force_refresh(self, rejected: str) -> str:
        """A partner token is not refreshed: Tesla's 401 is final."""
        raise AuthFailed("Tesla refused the partner token")


class TokenManager:
    """Hand out a valid access token for one account, refreshing under one lock.

    Tesla's refresh tokens are single-use: a refresh is never run twice concurrently,
    and ``on_new_tokens`` (persistence) is awaited before a new token is handed out.
    """

    def __init__(
        self,
        auth: TeslaOAuth,
        tokens: Tokens,
        *,
        on_new_tokens: Callable[[Tokens], Awaitable[None]],
        clock: Callable[[], float] = time.time,
        refresh_margin: float = 300,
    ) -> None:
        """Start from ``tokens``; ``on_new_tokens`` persists every rotation."""
        self.tokens = tokens
        self._auth = auth
        self._on_new_tokens = on_new_tokens
        self._clock = clock
        self._refresh_margin = refresh_margin
        self._lock = asyncio.Lock()

    def _needs_refresh(self) -> bool:
        return self.tokens.expires_at - self._clock() <= self._refresh_margin

    async def access_token(self) -> str:
        """Return the access token, refreshing it first when it expires soon.

        When the refresh fails with an outage or rate limit while the current token is
        still valid, the current token is returned.
        """
        if not self._needs_refresh():
            return self.tokens.access_token
        async with self._lock:
            if self._needs_refresh():
                try:
                    await self._refresh()
                except CloudUnavailable, RateLimited:
                    if self.tokens.expires_at <= self._clock():
                        raise
                    _LOGGER.debug(
                        "Token refresh failed; the current token is still valid"
                    )
            return self.tokens.access_token

    async def force_refresh(self, rejected: str) -> str:
        """Refresh after ``rejected`` got a 401, unless another caller already did."""
        async with self._lock:
            if self.tokens.access_token == rejected:
                await self._refresh()
            return self.tokens.access_token

    async def _refresh(self) -> None:
        new = await self._auth.refresh(self.tokens.refresh_token)
        try:
            await self._on_new_tokens(new)
        finally:
            # The old refresh token is spent: keep the new ones even if persisting failed.
            self.tokens = new
