"""Tesla's headless sign-in: email and password, then the second factor if there is one.

The sign-in follows Tesla's SSO pages: ``GET /oauth2/v3/authorize`` (an HTML form with
hidden fields and a session cookie), ``POST`` the credentials, then either a redirect
carrying an authorization ``code`` or a request for a second factor, and finally the code
exchange of :mod:`.oauth`. Each sign-in carries its own cookies in :class:`PendingLogin`
and sends them explicitly, so concurrent sign-ins over one shared session never mix and
the session's cookie jar is not relied on.
"""

from dataclasses import dataclass, field
from html.parser import HTMLParser
import re
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from .errors import (
    AccountLocked,
    CaptchaRequired,
    InvalidCredentials,
    InvalidPasscode,
    LoginExpired,
    MalformedResponse,
    PasscodeReused,
    SignInError,
    TooManyAttempts,
)
from .models import MfaFactor
from .oauth import (
    Reply,
    TeslaOAuth,
    authorize_endpoint,
    code_challenge,
    make_code_verifier,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .tokens import Tokens

_PASSCODE = re.compile(r"[0-9]{6}")
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_MFA_ERRORS: dict[str, type[SignInError]] = {
    "ERR_PASS_CODE_REPLAY": PasscodeReused,
    "ERR_MAX_VERIFICATION_ATTEMPTS": TooManyAttempts,
    "ERR_EXPIRED": LoginExpired,
}


@dataclass
class PendingLogin:
    """State kept between the password step and the two-factor step of a sign-in."""

    transaction_id: str
    code_verifier: str = field(repr=False)
    state: str = field(repr=False)
    cookies: dict[str, str] = field(repr=False)
    factors: list[MfaFactor]
    started_at: float


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


class TeslaAuth(TeslaOAuth):
    """Sign in to a Tesla account and refresh its tokens."""

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
            f"{authorize_endpoint(self._auth_base)}/mfa/verify",
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

    async def _factors(
        self, transaction_id: str, cookies: dict[str, str]
    ) -> list[MfaFactor]:
        reply = await self._send(
            "GET",
            f"{authorize_endpoint(self._auth_base)}/mfa/factors?"
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

    def _code_from(self, reply: Reply, state: str) -> str | None:
        """Return the authorization code of a redirect to the redirect URI, if any."""
        if reply.status not in _REDIRECT_STATUSES:
            return None
        query = parse_qs(urlsplit(reply.location).query)
        if query.get("state", [state]) != [state]:
            raise SignInError("Sign-in state mismatch")
        codes = query.get("code")
        return codes[0] if codes else None


def _mfa_data(reply: Reply) -> Mapping[str, Any]:
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
