"""Sign-in, two-factor, token exchange and refresh against tesla_sim over 127.0.0.1."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pyotp
import pytest

from custom_components.tesla_resilient.api import (
    SCOPES,
    AccountLocked,
    AuthFailed,
    CaptchaRequired,
    CloudUnavailable,
    InvalidCredentials,
    InvalidPasscode,
    LoginExpired,
    MalformedResponse,
    PasscodeReused,
    PendingLogin,
    RateLimited,
    SignInError,
    TeslaAuth,
    TokenManager,
    Tokens,
    TooManyAttempts,
    authorize_endpoint,
    authorize_params,
    code_challenge,
    make_code_verifier,
    token_endpoint,
)
from tesla_sim import SimServer
from tesla_sim.apps import DEV_CLIENT_ID

# The headless sign-in of the legacy client ``ownerapi``: a legacy sign-in server. The
# token manager's tests use tokens of the simulator's dev app, refreshed with its id.
pytestmark = pytest.mark.sim(legacy_sign_in=True)

REDIRECT_URI = "https://auth.tesla.com/void/callback"
NOMFA = "nomfa@example.com"
TOTP = "totp@example.com"
MULTI = "multi@example.com"
CAPTCHA = "captcha@example.com"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain client session; its default cookie jar ignores cookies of IP hosts."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def _auth(sim: SimServer, session: aiohttp.ClientSession, **kwargs: Any) -> TeslaAuth:
    return TeslaAuth(session, auth_base=sim.url, clock=sim.world.now, **kwargs)


def _password(sim: SimServer, email: str) -> str:
    account = sim.world.account_by_email(email)
    assert account is not None
    return account.password


def _secrets(sim: SimServer, email: str) -> list[str]:
    account = sim.world.account_by_email(email)
    assert account is not None
    return [factor.secret for factor in account.mfa]


def _code(sim: SimServer, secret: str) -> str:
    return pyotp.TOTP(secret).at(int(sim.world.now()))


def _wrong_code(sim: SimServer, secret: str) -> str:
    totp = pyotp.TOTP(secret)
    now = sim.world.now()
    valid = {totp.at(int(now) + step) for step in (-30, 0, 30)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


async def _pending(sim: SimServer, auth: TeslaAuth, email: str) -> PendingLogin:
    result = await auth.login(email, _password(sim, email))
    assert isinstance(result, PendingLogin)
    return result


async def _control(
    session: aiohttp.ClientSession, sim: SimServer, path: str, body: dict[str, Any]
) -> None:
    async with session.post(f"{sim.url}/__sim__/{path}", json=body) as resp:
        assert resp.status == 200, await resp.text()


async def _auth_requests(session: aiohttp.ClientSession, sim: SimServer) -> int:
    async with session.get(f"{sim.url}/__sim__/meter") as resp:
        meter = await resp.json()
    return int(meter["total"])


async def test_login_without_mfa(
    sim: SimServer, session: aiohttp.ClientSession
) -> None:
    """An account without MFA gets tokens straight from the password step."""
    tokens = await _auth(sim, session).login(NOMFA, _password(sim, NOMFA))
    assert isinstance(tokens, Tokens)
    account = sim.world.account_by_email(NOMFA)
    assert account is not None
    assert tokens.account_id() == account.id
    assert tokens.expires_at == pytest.approx(sim.world.now() + 8 * 3600, abs=60)
    assert tokens.access_token not in repr(tokens)


async def test_login_with_one_factor(
    sim: SimServer, session: aiohttp.ClientSession
) -> None:
    """One TOTP factor: PendingLogin lists it, its current code finishes the sign-in."""
    auth = _auth(sim, session)
    pending = await _pending(sim, auth, TOTP)
    assert [factor.name for factor in pending.factors] == ["Pixel 8"]
    assert pending.factors[0].factor_type == "token:software"
    assert pending.cookies
    assert pending.started_at == pytest.approx(sim.world.now(), abs=60)
    assert pending.code_verifier not in repr(pending)
    (secret,) = _secrets(sim, TOTP)
    tokens = await auth.verify_mfa(pending, pending.factors[0].id, _code(sim, secret))
    account = sim.world.account_by_email(TOTP)
    assert account is not None
    assert tokens.account_id() == account.id


async def test_login_choosing_the_second_factor(
    sim: SimServer, session: aiohttp.ClientSession
) -> None:
    """With two factors the caller picks one; the code must belong to that one."""
    auth = _auth(sim, session)
    pending = await _pending(sim, auth, MULTI)
    assert [factor.name for factor in pending.factors] == ["Pixel 8", "1Password"]
    first, second = pending.factors
    _, second_secret = _secrets(sim, MULTI)
    with pytest.raises(InvalidPasscode):
        await auth.verify_mfa(pending, first.id, _code(sim, second_secret))
    tokens = await auth.verify_mfa(pending, second.id, _code(sim, second_secret))
    assert isinstance(tokens, Tokens)


async def test_concurrent_logins_keep_their_own_cookies(
    sim: SimServer, session: aiohttp.ClientSession
) -> None:
    """Two sign-ins on one shared session do not mix their session cookies."""
    auth = _auth(sim, session)
    first, second = await asyncio.gather(
        _pending(sim, auth, TOTP), _pending(sim, auth, MULTI)
    )
    assert first.cookies != second.cookies
    _, multi_secret = _secrets(sim, MULTI)
    (totp_secret,) = _secrets(sim, TOTP)
    tokens = await auth.verify_mfa(
        second, second.factors[1].id, _code(sim, multi_secret)
    )
    assert isinstance(tokens, Tokens)
    tokens = await auth.verify_mfa(first, first.factors[0].id, _code(sim, totp_secret))
    assert isinstance(tokens, Tokens)


async def test_wrong_password(sim: SimServer, session: aiohttp.ClientSession) -> None:
    """A wrong password is InvalidCredentials, and so is an unknown account."""
    auth = _auth(sim, session)
    with pytest.raises(InvalidCredentials) as err:
        await auth.login(NOMFA, "not-the-password")
    assert "not-the-password" not in str(err.value)
    with pytest.raises(InvalidCredentials):
        await auth.login("nobody@example.com", "whatever")


async def test_account_locked_after_wrong_passwords(
    sim: SimServer, session: aiohttp.ClientSession
) -> None:
    """Tesla locks the account after five wrong passwords; then even the right one fails."""
    auth = _auth(sim, session)
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            await auth.login(NOMFA, "wrong")
    with pytest.raises(AccountLocked):
        await auth.login(NOMFA, "wrong")
    with pytest.raises(AccountLocked):
        await auth.login(NOMFA, _password(sim, NOMFA))


async def test_captcha_required(sim: SimServer, session: aiohttp.ClientSession) -> None:
    """An account Tesla shows a captcha to cannot sign in headless."""
    with pytest.raises(CaptchaRequired):
        await _auth(sim, session).login(CAPTCHA, _password(sim, CAPTCHA))


async def test_wrong_code_then_right_code(
    sim: SimServer, session: aiohttp.ClientSession
) -> None:
    """A wrong code may be retried with the same pending login."""
    auth = _auth(sim, session)
    pending = await _pending(sim, auth, TOTP)
    (secret,) = _secrets(sim, TOTP)
    factor_id = pending.factors[0].id
    with pytest.raises(InvalidPasscode):
        await auth.verify_mfa(pending, factor_id, _wrong_code(sim, secret))
    tokens = await auth.verify_mfa(pending, factor_id, _code(sim, secret))
    assert isinstance(tokens, Tokens)


@pytest.mark.parametrize(
    "passcode", ["12345", "1234567", "12a456", " 123456", "١٢٣٤٥٦", ""]
)
async def test_passcode_format_checked_without_a_request(
    sim: SimServer, session: aiohttp.ClientSession, passcode: str
) -> None:
    """Anything but six ASCII digits is refused locally, before Tesla counts an attempt."""
    auth = _auth(sim, session)
    pending = await _pending(sim, auth, TOTP)
    before = await _auth_requests(session, sim)
    with pytest.raises(InvalidPasscode):
        await auth.verify_mfa(pending, pending.factors[0].id, passcode)
    assert await _auth_requests(session, sim) == before


async def test_replayed_code(sim: SimServer, session: aiohttp.ClientSession) -> None:
    """A code that already signed in is refused as reused, not as wrong."""
    auth = _auth(sim, session)
    (secret,) = _secrets(sim, TOTP)
    code = _code(sim, secret)
    pending = await _pending(sim, auth, TOTP)
    await auth.verify_mfa(pending, pending.factors[0].id, code)
    pending = await _pending(sim, auth, TOTP)
    with pytest.raises(PasscodeReused):
        await auth.verify_mfa(pending, pending.factors[0].id, code)


async def test_too_many_attempts(
    sim: SimServer, session: aiohttp.ClientSession
) -> None:
    """The fifth wrong code ends the sign-in; the right code no longer helps."""
    auth = _auth(sim, session)
    pending = await _pending(sim, auth, TOTP)
    (secret,) = _secrets(sim, TOTP)
    factor_id = pending.factors[0].id
    for _ in range(4):
        with pytest.raises(InvalidPasscode):
            await auth.verify_mfa(pending, factor_id, _wrong_code(sim, secret))
    with pytest.raises(TooManyAttempts):
        await auth.verify_mfa(pending, factor_id, _wrong_code(sim, secret))
    with pytest.raises(TooManyAttempts):
        await auth.verify_mfa(pending, factor_id, _code(sim, secret))


async def test_expired_transaction(
    sim_virtual: SimServer, session: aiohttp.ClientSession
) -> None:
    """After ten minutes the sign-in transaction is gone: LoginExpired."""
    sim = sim_virtual
    auth = _auth(sim, session)
    pending = await _pending(sim, auth, TOTP)
    sim.world.advance(601)
    (secret,) = _secrets(sim, TOTP)
    with pytest.raises(LoginExpired):
        await auth.verify_mfa(pending, pending.factors[0].id, _code(sim, secret))


async def test_passcode_with_leading_zero(
    sim_virtual: SimServer, session: aiohttp.ClientSession
) -> None:
    """Passcodes are strings: a code starting with 0 works."""
    sim = sim_virtual
    (secret,) = _secrets(sim, TOTP)
    for _ in range(2000):
        if _code(sim, secret).startswith("0"):
            break
        sim.world.advance(30)
    code = _code(sim, secret)
    assert code.startswith("0")
    auth = _auth(sim, session)
    pending = await _pending(sim, auth, TOTP)
    assert isinstance(
        await auth.verify_mfa(pending, pending.factors[0].id, code), Tokens
    )


async def test_unknown_factor_and_lost_cookie(
    sim: SimServer, session: aiohttp.ClientSession
) -> None:
    """Refusals that only a new sign-in can fix are LoginExpired; a state mismatch is refused."""
    auth = _auth(sim, session)
    (secret,) = _secrets(sim, TOTP)
    pending = await _pending(sim, auth, TOTP)
    with pytest.raises(LoginExpired):
        await auth.verify_mfa(pending, "no-such-factor", _code(sim, secret))
    # Without its session cookie the passcode is accepted but the final step is refused.
    pending.cookies.clear()
    with pytest.raises(LoginExpired):
        await auth.verify_mfa(pending, pending.factors[0].id, _code(sim, secret))
    pending = await _pending(sim, auth, MULTI)
    pending.state = "tampered"
    first_secret, _ = _secrets(sim, MULTI)
    with pytest.raises(SignInError, match="state mismatch"):
        await auth.verify_mfa(pending, pending.factors[0].id, _code(sim, first_secret))


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"kind": "outage"}, CloudUnavailable),
        ({"kind": "rate_limit", "retry_after": 42}, RateLimited),
        ({"kind": "malformed"}, MalformedResponse),
        ({"kind": "refuse"}, CloudUnavailable),
    ],
)
async def test_mfa_verify_faults(
    sim: SimServer,
    session: aiohttp.ClientSession,
    fault: dict[str, Any],
    error: type[Exception],
) -> None:
    """Cloud trouble during the passcode check is not a wrong passcode."""
    auth = _auth(sim, session)
    pending = await _pending(sim, auth, TOTP)
    await _control(
        session,
        sim,
        "faults",
        {**fault, "seconds": 60, "paths": ["/oauth2/v3/authorize/mfa/verify"]},
    )
    (secret,) = _secrets(sim, TOTP)
    with pytest.raises(error) as err:
        await auth.verify_mfa(pending, pending.factors[0].id, _code(sim, secret))
    assert not isinstance(err.value, SignInError)
    if isinstance(err.value, RateLimited):
        assert err.value.retry_after == 42


async def test_login_faults(sim: SimServer, session: aiohttp.ClientSession) -> None:
    """Outages and garbage during the password step raise CloudUnavailable."""
    auth = _auth(sim, session)
    await _control(
        session,
        sim,
        "faults",
        {
            "kind": "malformed",
            "seconds": 60,
            "paths": ["/oauth2/v3/authorize/mfa/factors"],
        },
    )
    with pytest.raises(MalformedResponse):
        await auth.login(TOTP, _password(sim, TOTP))
    await _control(
        session, sim, "faults", {"kind": "outage", "status": 540, "seconds": 60}
    )
    with pytest.raises(CloudUnavailable):
        await auth.login(NOMFA, _password(sim, NOMFA))
    async with session.delete(f"{sim.url}/__sim__/faults") as resp:
        assert resp.status == 200
    await _control(session, sim, "faults", {"kind": "malformed", "seconds": 60})
    with pytest.raises(MalformedResponse):
        await auth.login(NOMFA, _password(sim, NOMFA))


async def test_login_with_a_bad_redirect_uri(
    sim: SimServer, session: aiohttp.ClientSession
) -> None:
    """A sign-in page without a form (here: Tesla refusing the request) is malformed."""
    auth = _auth(sim, session, redirect_uri="")
    with pytest.raises(MalformedResponse):
        await auth.login(NOMFA, _password(sim, NOMFA))


async def test_sign_in_unreachable(
    session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    """A closed port is CloudUnavailable, with no secret in the message."""
    auth = TeslaAuth(session, auth_base="http://127.0.0.1:9", timeout=5)
    with pytest.raises(CloudUnavailable) as err:
        await auth.login(NOMFA, "secret-password")
    assert "secret-password" not in str(err.value)
    with pytest.raises(CloudUnavailable):
        await auth.refresh("secret-refresh")


async def test_authorize_url_and_code_exchange(
    sim: SimServer, session: aiohttp.ClientSession
) -> None:
    """The browser flow: Tesla accepts our authorize URL, and the code exchanges once."""
    auth = _auth(sim, session)
    verifier = make_code_verifier()
    challenge = code_challenge(verifier)
    assert 43 <= len(verifier) <= 128
    url = auth.authorize_url(
        state="s1", code_challenge=challenge, redirect_uri=REDIRECT_URI
    )
    async with session.get(url) as resp:
        assert resp.status == 200
        assert 'name="transaction_id"' in await resp.text()
    code = await sim.authorization_code(
        NOMFA, redirect_uri=REDIRECT_URI, code_challenge=challenge, client_id="ownerapi"
    )
    with pytest.raises(AuthFailed):
        await auth.exchange_code(code, make_code_verifier(), REDIRECT_URI)
    code = await sim.authorization_code(
        NOMFA, redirect_uri=REDIRECT_URI, code_challenge=challenge, client_id="ownerapi"
    )
    tokens = await auth.exchange_code(code, verifier, REDIRECT_URI)
    assert isinstance(tokens, Tokens)
    with pytest.raises(AuthFailed, match="invalid_grant"):
        await auth.exchange_code(code, verifier, REDIRECT_URI)
    plain = await sim.authorization_code(
        NOMFA, redirect_uri=REDIRECT_URI, client_id="ownerapi"
    )
    assert isinstance(await auth.exchange_code(plain, None, REDIRECT_URI), Tokens)


def test_sign_in_server_urls() -> None:
    """The authorize and token endpoints and the authorize parameters of a browser flow."""
    assert authorize_endpoint("https://auth.example/") == (
        "https://auth.example/oauth2/v3/authorize"
    )
    assert token_endpoint("https://auth.example") == (
        "https://auth.example/oauth2/v3/token"
    )
    assert authorize_params("challenge") == {
        "scope": SCOPES,
        "code_challenge": "challenge",
        "code_challenge_method": "S256",
    }


async def test_refresh_rotates_single_use_tokens(
    sim: SimServer, session: aiohttp.ClientSession
) -> None:
    """A refresh returns a new pair; the old refresh token is refused afterwards."""
    auth = _auth(sim, session)
    tokens = await auth.login(NOMFA, _password(sim, NOMFA))
    assert isinstance(tokens, Tokens)
    new = await auth.refresh(tokens.refresh_token)
    assert new.refresh_token != tokens.refresh_token
    assert new.access_token != tokens.access_token
    with pytest.raises(AuthFailed) as err:
        await auth.refresh(tokens.refresh_token)
    assert tokens.refresh_token not in str(err.value)
    assert isinstance(await auth.refresh(new.refresh_token), Tokens)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"kind": "outage", "status": 502}, CloudUnavailable),
        ({"kind": "rate_limit"}, RateLimited),
        ({"kind": "malformed"}, MalformedResponse),
        ({"kind": "hang"}, CloudUnavailable),
    ],
)
async def test_refresh_faults(
    sim: SimServer,
    session: aiohttp.ClientSession,
    fault: dict[str, Any],
    error: type[Exception],
) -> None:
    """Outages and rate limits during a refresh are never AuthFailed."""
    body = await sim.issue_tokens(NOMFA)
    await _control(
        session, sim, "faults", {**fault, "seconds": 60, "paths": ["/oauth2/v3/token"]}
    )
    auth = _auth(sim, session, timeout=0.5)
    with pytest.raises(error):
        await auth.refresh(body["refresh_token"])


async def test_token_endpoint_missing(
    sim: SimServer, session: aiohttp.ClientSession
) -> None:
    """An unexpected status from the token endpoint (here 404) is not an auth failure."""
    auth = TeslaAuth(session, auth_base=f"{sim.url}/elsewhere")
    with pytest.raises(CloudUnavailable, match="404"):
        await auth.refresh("any-refresh-token")


async def _manager(
    sim: SimServer,
    session: aiohttp.ClientSession,
    saved: list[Tokens],
    *,
    now: list[float],
) -> TokenManager:
    body = await sim.issue_tokens(NOMFA)
    tokens = Tokens.from_token_response(body, sim.world.now())

    async def persist(new: Tokens) -> None:
        saved.append(new)

    def clock() -> float:
        return now[0]

    auth = TeslaAuth(session, auth_base=sim.url, client_id=DEV_CLIENT_ID, clock=clock)
    return TokenManager(auth, tokens, on_new_tokens=persist, clock=clock)


async def test_token_manager_refreshes_before_expiry(
    sim: SimServer, session: aiohttp.ClientSession
) -> None:
    """Within the margin the token is refreshed, persisted first, then handed out."""
    now = [sim.world.now()]
    saved: list[Tokens] = []
    manager = await _manager(sim, session, saved, now=now)
    original = manager.tokens
    assert await manager.access_token() == original.access_token
    assert saved == []
    now[0] = original.expires_at - 100
    token, again = await asyncio.gather(manager.access_token(), manager.access_token())
    assert token == again
    assert len(saved) == 1
    assert token == saved[0].access_token == manager.tokens.access_token
    assert token != original.access_token


async def test_token_manager_persists_before_handing_out(
    sim: SimServer, session: aiohttp.ClientSession
) -> None:
    """While the new tokens are being persisted, nobody gets them yet."""
    now = [sim.world.now()]
    seen: list[str] = []
    manager: TokenManager | None = None

    async def persist(new: Tokens) -> None:
        assert manager is not None
        seen.append(manager.tokens.access_token)
        await asyncio.sleep(0)

    body = await sim.issue_tokens(NOMFA)
    tokens = Tokens.from_token_response(body, sim.world.now())
    manager = TokenManager(
        _auth(sim, session, client_id=DEV_CLIENT_ID),
        tokens,
        on_new_tokens=persist,
        clock=lambda: now[0],
    )
    new_token = await manager.force_refresh(tokens.access_token)
    assert seen == [tokens.access_token]
    assert new_token == manager.tokens.access_token != tokens.access_token


async def test_token_manager_deduplicates_concurrent_401s(
    sim: SimServer, session: aiohttp.ClientSession
) -> None:
    """Three callers rejected with the same token cause one refresh, not three."""
    now = [sim.world.now()]
    saved: list[Tokens] = []
    manager = await _manager(sim, session, saved, now=now)
    rejected = manager.tokens.access_token
    results = await asyncio.gather(*(manager.force_refresh(rejected) for _ in range(3)))
    assert len(saved) == 1
    assert set(results) == {saved[0].access_token}
    # A caller holding an older token gets the current one without another refresh.
    assert await manager.force_refresh(rejected) == saved[0].access_token
    assert len(saved) == 1


async def test_token_manager_keeps_new_tokens_when_persisting_fails(
    sim: SimServer, session: aiohttp.ClientSession
) -> None:
    """The old refresh token is spent, so the new pair is kept even if saving fails."""
    body = await sim.issue_tokens(NOMFA)
    tokens = Tokens.from_token_response(body, sim.world.now())

    async def persist(new: Tokens) -> None:
        raise OSError("disk full")

    manager = TokenManager(
        _auth(sim, session, client_id=DEV_CLIENT_ID), tokens, on_new_tokens=persist
    )
    with pytest.raises(OSError, match="disk full"):
        await manager.force_refresh(tokens.access_token)
    assert manager.tokens.refresh_token != tokens.refresh_token


async def test_token_manager_outage_during_refresh(
    sim: SimServer, session: aiohttp.ClientSession
) -> None:
    """A refresh that fails for an outage keeps a still-valid token, never an expired one."""
    now = [sim.world.now()]
    saved: list[Tokens] = []
    manager = await _manager(sim, session, saved, now=now)
    await _control(
        session,
        sim,
        "faults",
        {"kind": "outage", "seconds": 60, "paths": ["/oauth2/v3/token"]},
    )
    now[0] = manager.tokens.expires_at - 10
    assert await manager.access_token() == manager.tokens.access_token
    now[0] = manager.tokens.expires_at + 1
    with pytest.raises(CloudUnavailable):
        await manager.access_token()
    assert saved == []


async def test_token_manager_refused_refresh(
    sim: SimServer, session: aiohttp.ClientSession
) -> None:
    """A revoked refresh token is AuthFailed (reauth), even while the token is valid."""
    now = [sim.world.now()]
    saved: list[Tokens] = []
    manager = await _manager(sim, session, saved, now=now)
    await _control(session, sim, "faults", {"kind": "revoke_token", "email": NOMFA})
    now[0] = manager.tokens.expires_at - 10
    with pytest.raises(AuthFailed):
        await manager.access_token()
