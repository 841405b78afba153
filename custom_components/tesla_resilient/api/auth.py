"""Tesla account sign-in (password, two-factor, PKCE), token refresh and a token manager.

The headless sign-in follows Tesla's SSO pages: ``GET /oauth2/v3/authorize`` (an HTML form
with hidden fields and a session cookie), ``POST`` the credentials, then either a redirect
carrying an authorization ``code`` or a request for a second factor, and finally
``POST /oauth2/v3/token``. Each sign-in carries its own cookies in :class:`PendingLogin`
and sends them explicitly, so concurrent sign-ins over one shared session never mix and
the session's cookie jar is not relied on.
"""

import asyncio
import base64
from dataclasses import dataclass, field
import hashlib
from html.parser import HTMLParser
import json
import logging
import re
import secrets
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp

from .errors import (
    AccountLocked,
    AuthFailed,
    CaptchaRequired,
    CloudUnavailable,
    InvalidCredentials,
    InvalidPasscode,
    LoginExpired,
    MalformedResponse,
    PasscodeReused,
    RateLimited,
    SignInError,
    TooManyAttempts,
)
from .models import MfaFactor, Tokens

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

_LOGGER = logging.getLogger(__name__)

VERSION = "0.1.0"
USER_AGENT = f"tesla-resilient/{VERSION}"

DEFAULT_AUTH_BASE = "https://auth.tesla.com"
DEFAULT_CLIENT_ID = "ownerapi"
DEFAULT_REDIRECT_URI = "https://auth.tesla.com/void/callback"
SCOPES = (
    "openid email offline_access vehicle_device_data vehicle_location "
    "vehicle_cmds vehicle_charging_cmds"
)
_REFRESH_SCOPE = "openid email offline_access"

_PASSCODE = re.compile(r"[0-9]{6}")
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_MFA_ERRORS: dict[str, type[SignInError]] = {
    "ERR_PASS_CODE_REPLAY": PasscodeReused,
    "ERR_MAX_VERIFICATION_ATTEMPTS": TooManyAttempts,
    "ERR_EXPIRED": LoginExpired,
}


def make_code_verifier() -> str:
    """Return a new random PKCE code verifier (86 URL-safe characters)."""
    return secrets.token_urlsafe(64)


def code_challenge(code_verifier: str) -> str:
    """Return the S256 PKCE challenge of ``code_verifier``."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class PendingLogin:
    """State kept between the password step and the two-factor step of a sign-in."""

    transaction_id: str
    code_verifier: str = field(repr=False)
    state: str = field(repr=False)
    cookies: dict[str, str] = field(repr=False)
    factors: list[MfaFactor]
    started_at: float


@dataclass(frozen=True, slots=True)
class _Reply:
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


class _PageParser(HTMLParser):
    """Collect the input fields of a sign-in page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hidden: dict[str, str] = {}
        self.inputs: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key.lower(): value or "" for key, value in attrs}
        name = attributes.get("name", "")
        if tag != "input" or not name:
            return
        self.inputs.add(name.lower())
        if attributes.get("type", "").lower() == "hidden":
            self.hidden[name] = attributes.get("value", "")


@dataclass(frozen=True, slots=True)
class _Page:
    """A parsed sign-in page."""

    hidden: dict[str, str]
    captcha: bool
    locked: bool
    mfa: bool
    login_form: bool

    def raise_for_captcha(self) -> None:
        """Raise CaptchaRequired when the page shows a captcha."""
        if self.captcha:
            raise CaptchaRequired("Tesla asks for a captcha")

    @classmethod
    def parse(cls, html: str) -> _Page:
        parser = _PageParser()
        parser.feed(html)
        parser.close()
        lowered = html.lower()
        return cls(
            hidden=parser.hidden,
            captcha=any("captcha" in name for name in parser.inputs),
            locked="locked" in lowered,
            mfa="/mfa/verify" in lowered or "passcode" in lowered,
            login_form="credential" in parser.inputs or "identity" in parser.inputs,
        )


class TeslaAuth:
    """Sign in to a Tesla account and refresh its tokens."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        auth_base: str = DEFAULT_AUTH_BASE,
        client_id: str = DEFAULT_CLIENT_ID,
        redirect_uri: str = DEFAULT_REDIRECT_URI,
        timeout: float = 20,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Use ``session`` (which may be shared) for every request."""
        self._session = session
        self._auth_base = auth_base.rstrip("/")
        self._client_id = client_id
        self._redirect_uri = redirect_uri
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._clock = clock

    def authorize_url(
        self, *, state: str, code_challenge: str, redirect_uri: str
    ) -> str:
        """Return the URL of Tesla's sign-in page for a browser OAuth flow (PKCE S256)."""
        query = urlencode(
            {
                "client_id": self._client_id,
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": SCOPES,
                "state": state,
            }
        )
        return f"{self._auth_base}/oauth2/v3/authorize?{query}"

    async def login(self, email: str, password: str) -> Tokens | PendingLogin:
        """Sign in with email and password.

        Return the tokens when the account has no second factor, or a
        :class:`PendingLogin` listing the factors to pass to :meth:`verify_mfa`.
        Raise InvalidCredentials, AccountLocked, CaptchaRequired, CloudUnavailable or
        RateLimited.
        """
        verifier = make_code_verifier()
        state = secrets.token_urlsafe(16)
        url = self.authorize_url(
            state=state,
            code_challenge=code_challenge(verifier),
            redirect_uri=self._redirect_uri,
        )
        url += "&" + urlencode({"login_hint": email})
        reply = await self._send("GET", url, cookies={})
        reply.raise_for_server()
        page = _Page.parse(reply.text)
        page.raise_for_captcha()
        transaction_id = page.hidden.get("transaction_id")
        if reply.status != 200 or not transaction_id:
            raise MalformedResponse(f"Unexpected sign-in page (HTTP {reply.status})")
        cookies = dict(reply.cookies)
        form = {**page.hidden, "identity": email, "credential": password}
        reply = await self._send("POST", url, cookies=cookies, data=form)
        cookies.update(reply.cookies)
        if (code := self._code_from(reply, state)) is not None:
            return await self.exchange_code(code, verifier, self._redirect_uri)
        reply.raise_for_server()
        page = _Page.parse(reply.text)
        page.raise_for_captcha()
        if page.locked or reply.status == 423:
            raise AccountLocked("The Tesla account is locked")
        if reply.status == 200 and page.mfa:
            factors = await self._factors(transaction_id, cookies)
            return PendingLogin(
                transaction_id=transaction_id,
                code_verifier=verifier,
                state=state,
                cookies=cookies,
                factors=factors,
                started_at=self._clock(),
            )
        if reply.status == 401 or page.login_form:
            raise InvalidCredentials("Wrong email address or password")
        raise MalformedResponse(f"Unexpected sign-in answer (HTTP {reply.status})")

    async def verify_mfa(
        self, pending: PendingLogin, factor_id: str, passcode: str
    ) -> Tokens:
        """Check a six-digit passcode of ``factor_id`` and finish the sign-in.

        Raise InvalidPasscode (the same ``pending`` may be retried), PasscodeReused,
        TooManyAttempts or LoginExpired (start again with :meth:`login`).
        """
        if not _PASSCODE.fullmatch(passcode):
            raise InvalidPasscode("The passcode must be six digits")
        reply = await self._send(
            "POST",
            f"{self._auth_base}/oauth2/v3/authorize/mfa/verify",
            cookies=pending.cookies,
            json={
                "transaction_id": pending.transaction_id,
                "factor_id": factor_id,
                "passcode": passcode,
            },
        )
        pending.cookies.update(reply.cookies)
        data = _mfa_data(reply)
        if data.get("valid") is not True:
            raise InvalidPasscode("Wrong passcode")
        url = self.authorize_url(
            state=pending.state,
            code_challenge=code_challenge(pending.code_verifier),
            redirect_uri=self._redirect_uri,
        )
        reply = await self._send(
            "POST",
            url,
            cookies=pending.cookies,
            data={"transaction_id": pending.transaction_id},
        )
        pending.cookies.update(reply.cookies)
        if (code := self._code_from(reply, pending.state)) is not None:
            return await self.exchange_code(
                code, pending.code_verifier, self._redirect_uri
            )
        reply.raise_for_server()
        raise LoginExpired("The sign-in did not complete; start again")

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
        if code_verifier is not None:
            body["code_verifier"] = code_verifier
        return await self._token_request(body)

    async def refresh(self, refresh_token: str) -> Tokens:
        """Trade a (single-use) refresh token for new tokens.

        Raise AuthFailed when Tesla refuses it (invalid grant), RateLimited on 429 and
        CloudUnavailable on outages.
        """
        return await self._token_request(
            {
                "grant_type": "refresh_token",
                "client_id": self._client_id,
                "refresh_token": refresh_token,
                "scope": _REFRESH_SCOPE,
            }
        )

    async def _token_request(self, body: Mapping[str, str]) -> Tokens:
        now = self._clock()
        reply = await self._send(
            "POST", f"{self._auth_base}/oauth2/v3/token", json=body
        )
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
        return Tokens.from_token_response(reply.json(), now)

    async def _factors(
        self, transaction_id: str, cookies: dict[str, str]
    ) -> list[MfaFactor]:
        reply = await self._send(
            "GET",
            f"{self._auth_base}/oauth2/v3/authorize/mfa/factors?"
            + urlencode({"transaction_id": transaction_id}),
            cookies=cookies,
        )
        cookies.update(reply.cookies)
        reply.raise_for_server()
        body = reply.json()
        items = body.get("data") if isinstance(body, dict) else None
        factors = [
            factor
            for item in (items if isinstance(items, list) else [])
            if (factor := MfaFactor.from_api(item)) is not None
        ]
        if not factors:
            raise MalformedResponse("Tesla listed no second factor")
        return factors

    def _code_from(self, reply: _Reply, state: str) -> str | None:
        """Return the authorization code of a redirect to the redirect URI, if any."""
        if reply.status not in _REDIRECT_STATUSES:
            return None
        query = parse_qs(urlsplit(reply.location).query)
        if query.get("state", [state]) != [state]:
            raise SignInError("Sign-in state mismatch")
        codes = query.get("code")
        return codes[0] if codes else None

    async def _send(
        self,
        method: str,
        url: str,
        *,
        cookies: dict[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json: Mapping[str, str] | None = None,
    ) -> _Reply:
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
                return _Reply(
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


def _mfa_data(reply: _Reply) -> Mapping[str, Any]:
    """Return the ``data`` of a passcode check, raising the matching sign-in error."""
    reply.raise_for_server()
    body = reply.json()
    body = body if isinstance(body, dict) else {}
    error = body.get("error")
    if error is not None or reply.status >= 400:
        code = error.get("code") if isinstance(error, dict) else None
        code = code if isinstance(code, str) and code.isidentifier() else "unknown"
        raise _MFA_ERRORS.get(code, LoginExpired)(f"Passcode check refused ({code})")
    if not isinstance(data := body.get("data"), dict):
        raise MalformedResponse("Unexpected passcode check answer")
    return data


class TokenManager:
    """Hand out a valid access token for one account, refreshing under one lock.

    Tesla's refresh tokens are single-use: a refresh is never run twice concurrently,
    and ``on_new_tokens`` (persistence) is awaited before a new token is handed out.
    """

    def __init__(
        self,
        auth: TeslaAuth,
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
