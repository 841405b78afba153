"""tesla_sim sign-in server: password, captcha, MFA, PKCE, codes and rotating tokens."""

from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pyotp
import pytest

from tesla_sim import SimServer
from tesla_sim.apps import DEV_CLIENT_ID, DEV_CLIENT_SECRET
from tests.sim_fixtures import (
    REDIRECT_URI,
    authorize_params,
    bearer,
    browser_session,
    hidden_fields,
    jwt_claims,
    pkce_pair,
)

AUTHORIZE = "/oauth2/v3/authorize"
# The headless sign-in of the legacy client ``ownerapi``: a legacy sign-in server.
pytestmark = pytest.mark.sim(legacy_sign_in=True)

TOKEN = "/oauth2/v3/token"


async def open_page(
    session: aiohttp.ClientSession, sim: SimServer, email: str | None = None
) -> tuple[str, dict[str, str], str]:
    """GET the sign-in page: (html, hidden fields, code_verifier)."""
    verifier, challenge = pkce_pair()
    async with session.get(
        sim.url + AUTHORIZE, params=authorize_params(challenge, email)
    ) as r:
        assert r.status == 200
        page = await r.text()
    return page, hidden_fields(page), verifier


async def post_credentials(
    session: aiohttp.ClientSession,
    sim: SimServer,
    fields: dict[str, str],
    email: str,
    password: str,
    **extra: str,
) -> tuple[int, str, str | None]:
    """POST the credentials: (status, body, Location)."""
    data = {**fields, "identity": email, "credential": password, **extra}
    async with session.post(sim.url + AUTHORIZE, data=data, allow_redirects=False) as r:
        return r.status, await r.text(), r.headers.get("Location")


def code_of(location: str | None) -> str:
    """The code in a redirect Location (also checks redirect_uri and state)."""
    assert location is not None
    assert location.startswith(REDIRECT_URI + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["state-123"]
    return query["code"][0]


async def exchange(
    session: aiohttp.ClientSession,
    sim: SimServer,
    code: str,
    verifier: str,
    **extra: str,
) -> tuple[int, dict[str, Any]]:
    """POST /oauth2/v3/token (form-encoded, like a headless client)."""
    data = {
        "grant_type": "authorization_code",
        "client_id": "ownerapi",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": REDIRECT_URI,
        **extra,
    }
    async with session.post(sim.url + TOKEN, data=data) as r:
        return r.status, await r.json()


def account(sim: SimServer, email: str) -> Any:
    found = sim.world.account_by_email(email)
    assert found is not None
    return found


async def test_password_sign_in_without_mfa(sim: SimServer) -> None:
    async with browser_session() as session:
        page, fields, verifier = await open_page(session, sim)
        assert set(fields) == {
            "_csrf",
            "_phase",
            "_process",
            "transaction_id",
            "cancel",
        }
        assert 'name="captcha"' not in page
        assert any(c.key == "tesla-auth.sid" for c in session.cookie_jar)
        status, _, location = await post_credentials(
            session, sim, fields, "NoMFA@example.com", "nomfa-Secret1"
        )
        assert status == 302
        code = code_of(location)
        status, tokens = await exchange(session, sim, code, verifier)
        assert status == 200
        assert tokens["expires_in"] == 8 * 3600
        claims = jwt_claims(tokens["access_token"])
        assert claims["sub"] == account(sim, "nomfa@example.com").id
        assert claims["exp"] - claims["iat"] == 8 * 3600
        assert "vehicle_location" in claims["scp"]
        assert claims["aud"][0] == sim.url
        assert tokens["refresh_token"].startswith("NA_")
        async with session.get(
            sim.url + "/api/1/vehicles", headers=bearer(tokens["access_token"])
        ) as r:
            assert r.status == 200
            assert (await r.json())["count"] == 1
        # an authorization code works once
        status, body = await exchange(session, sim, code, verifier)
        assert (status, body["error"]) == (400, "invalid_grant")


async def test_pkce_redirect_and_grant_errors(sim: SimServer) -> None:
    async with browser_session() as session:
        _, fields, verifier = await open_page(session, sim)
        _, _, location = await post_credentials(
            session, sim, fields, "nomfa@example.com", "nomfa-Secret1"
        )
        code = code_of(location)
        status, body = await exchange(session, sim, code, "wrong-verifier" * 4)
        assert (status, body["error"]) == (400, "invalid_grant")
        status, body = await exchange(
            session, sim, code, verifier, redirect_uri="https://evil.example/cb"
        )
        assert (status, body["error"]) == (400, "invalid_grant")
        status, body = await exchange(session, sim, "not-a-code", verifier)
        assert (status, body["error"]) == (400, "invalid_grant")
        status, body = await exchange(session, sim, "", verifier)
        assert (status, body["error"]) == (400, "invalid_request")
        # the token endpoint is form-only (Tesla's fleet-auth host): JSON is refused
        async with session.post(
            sim.url + TOKEN,
            json={
                "grant_type": "authorization_code",
                "client_id": "ownerapi",
                "code": code,
                "code_verifier": verifier,
                "redirect_uri": REDIRECT_URI,
            },
        ) as r:
            assert (r.status, (await r.json())["error"]) == (400, "invalid_request")
        assert (await exchange(session, sim, code, verifier))[0] == 200
        for data in ({"grant_type": "password"}, {"grant_type": "refresh_token"}):
            async with session.post(sim.url + TOKEN, data=data) as r:
                assert r.status == 400
        async with session.post(
            sim.url + TOKEN,
            data="{broken",
            headers={"Content-Type": "application/json"},
        ) as r:
            assert (r.status, (await r.json())["error"]) == (400, "invalid_request")
        # an expired code
        code = await sim.authorization_code(
            "nomfa@example.com", redirect_uri=REDIRECT_URI
        )
        sim.world.tokens.codes[code].expires_at = 0
        status, body = await exchange(session, sim, code, verifier)
        assert (status, body["error_description"]) == (
            400,
            "authorization code expired",
        )


async def test_refresh_tokens_rotate_and_are_single_use(sim: SimServer) -> None:
    tokens = await sim.issue_tokens("nomfa@example.com")
    async with aiohttp.ClientSession() as session:
        data = {"grant_type": "refresh_token", "client_id": DEV_CLIENT_ID}
        async with session.post(
            sim.url + TOKEN, data={**data, "refresh_token": tokens["refresh_token"]}
        ) as r:
            assert r.status == 200
            new = await r.json()
        assert new["refresh_token"] != tokens["refresh_token"]
        assert new["access_token"] != tokens["access_token"]
        async with session.post(
            sim.url + TOKEN, data={**data, "refresh_token": tokens["refresh_token"]}
        ) as r:
            assert r.status == 401
            assert (await r.json())["error"] == "invalid_grant"
        async with session.post(
            sim.url + TOKEN, json={**data, "refresh_token": new["refresh_token"]}
        ) as r:
            assert r.status == 400  # form-encoded only
        async with session.post(
            sim.url + TOKEN,
            data={
                **data,
                "client_id": "ownerapi",
                "refresh_token": new["refresh_token"],
            },
        ) as r:
            assert r.status == 401  # the token belongs to the dev app
        async with session.post(
            sim.url + TOKEN, data={**data, "refresh_token": new["refresh_token"]}
        ) as r:
            assert r.status == 200
        async with session.post(
            sim.url + TOKEN, data={**data, "refresh_token": new["access_token"]}
        ) as r:
            assert r.status == 401  # an access token is no refresh token


async def test_no_refresh_token_without_offline_access(sim: SimServer) -> None:
    tokens = await sim.issue_tokens(
        "nomfa@example.com", scope="openid vehicle_device_data"
    )
    assert "refresh_token" not in tokens
    assert jwt_claims(tokens["access_token"])["scp"] == [
        "openid",
        "vehicle_device_data",
    ]
    with pytest.raises(KeyError):
        await sim.issue_tokens("nobody@example.com")
    with pytest.raises(KeyError):
        await sim.authorization_code("nobody@example.com", redirect_uri=REDIRECT_URI)


async def test_wrong_password_then_lockout(sim: SimServer) -> None:
    async with browser_session() as session:
        _, fields, _ = await open_page(session, sim)
        status, page, _ = await post_credentials(
            session, sim, fields, "nobody@example.com", "x"
        )
        assert status == 401
        assert "incorrect" in page
        for _ in range(4):
            status, page, _ = await post_credentials(
                session, sim, fields, "nomfa@example.com", "wrong"
            )
            assert status == 401
            assert 'name="credential"' in page
        status, page, _ = await post_credentials(
            session, sim, fields, "nomfa@example.com", "wrong"
        )
        assert status == 423
        assert "locked" in page
        status, page, _ = await post_credentials(
            session, sim, fields, "nomfa@example.com", "nomfa-Secret1"
        )
        assert status == 423
        async with session.post(
            sim.url + "/__sim__/accounts/nomfa@example.com", json={"locked": False}
        ) as r:
            assert (await r.json())["locked"] is False
        status, _, location = await post_credentials(
            session, sim, fields, "nomfa@example.com", "nomfa-Secret1"
        )
        assert status == 302
        code_of(location)


async def test_session_cookie_csrf_and_cancel(sim: SimServer) -> None:
    async with browser_session() as session:
        _, fields, _ = await open_page(session, sim)
    async with aiohttp.ClientSession() as no_cookies:
        status, page, _ = await post_credentials(
            no_cookies, sim, fields, "nomfa@example.com", "nomfa-Secret1"
        )
        assert status == 403
        assert "cookie" in page
    async with browser_session() as session:
        _, fields, _ = await open_page(session, sim)
        status, _, _ = await post_credentials(
            session,
            sim,
            {**fields, "_csrf": "forged"},
            "nomfa@example.com",
            "nomfa-Secret1",
        )
        assert status == 403
        status, page, _ = await post_credentials(
            session, sim, {**fields, "transaction_id": "unknown"}, "a", "b"
        )
        assert status == 400
        assert "expired" in page or "unknown" in page
        status, _, location = await post_credentials(
            session, sim, {**fields, "cancel": "cancel"}, "nomfa@example.com", "x"
        )
        assert status == 302
        assert location is not None and "error=access_denied" in location
        # the transaction is over
        status, _, _ = await post_credentials(
            session, sim, fields, "nomfa@example.com", "nomfa-Secret1"
        )
        assert status == 400


async def test_authorize_request_validation(sim: SimServer) -> None:
    _, challenge = pkce_pair()
    good = authorize_params(challenge)
    async with aiohttp.ClientSession() as session:
        for broken in ({**good, "client_id": ""}, {**good, "client_id": "unknown"}):
            async with session.get(sim.url + AUTHORIZE, params=broken) as r:
                assert r.status == 400
                assert "error" in (await r.text())
        # once the client and its redirect URI are known, errors go back to it (OAuth)
        for broken in (
            {**good, "response_type": "token"},
            {**good, "code_challenge_method": "plain"},
        ):
            async with session.get(
                sim.url + AUTHORIZE, params=broken, allow_redirects=False
            ) as r:
                assert r.status == 302
                location = r.headers["Location"]
                assert location.startswith(REDIRECT_URI + "?error=")
                assert "state=state-123" in location


async def test_captcha_account(sim: SimServer) -> None:
    async with browser_session() as session:
        page, fields, verifier = await open_page(session, sim, "captcha@example.com")
        assert '<input type="text" name="captcha"' in page
        async with session.get(
            sim.url + "/captcha", params={"transaction_id": fields["transaction_id"]}
        ) as r:
            assert r.content_type == "image/svg+xml"
            assert "<svg" in await r.text()
        status, page, _ = await post_credentials(
            session, sim, fields, "captcha@example.com", "captcha-Secret1"
        )
        assert status == 200
        assert "Captcha does not match" in page
        assert 'name="captcha"' in page
        # a human who reads the image can sign in (browser sign-in)
        solution = sim.world.sso.transactions[fields["transaction_id"]].captcha
        assert solution is not None
        status, _, location = await post_credentials(
            session,
            sim,
            fields,
            "captcha@example.com",
            "captcha-Secret1",
            captcha=solution.lower(),
        )
        assert status == 302
        assert (await exchange(session, sim, code_of(location), verifier))[0] == 200


async def test_captcha_demanded_without_login_hint(sim: SimServer) -> None:
    async with browser_session() as session:
        page, fields, _ = await open_page(session, sim)
        assert 'name="captcha"' not in page
        status, page, _ = await post_credentials(
            session,
            sim,
            fields,
            "captcha@example.com",
            "captcha-Secret1",
            captcha="nope",
        )
        assert status == 200
        assert '<input type="text" name="captcha"' in page
        async with session.get(sim.url + "/captcha") as r:
            assert (await r.text()).count(">?</text>") == 5


async def start_mfa(
    session: aiohttp.ClientSession, sim: SimServer, email: str, password: str
) -> tuple[str, str]:
    """Password step of an MFA account: (transaction_id, code_verifier)."""
    _, fields, verifier = await open_page(session, sim, email)
    status, page, location = await post_credentials(
        session, sim, fields, email, password
    )
    assert status == 200
    assert location is None
    assert "/oauth2/v3/authorize/mfa/verify" in page
    assert 'name="passcode"' in page
    return fields["transaction_id"], verifier


async def factors(
    session: aiohttp.ClientSession, sim: SimServer, transaction_id: str
) -> tuple[int, dict[str, Any]]:
    async with session.get(
        sim.url + "/oauth2/v3/authorize/mfa/factors",
        params={"transaction_id": transaction_id},
    ) as r:
        return r.status, await r.json()


async def verify(
    session: aiohttp.ClientSession,
    sim: SimServer,
    transaction_id: str,
    factor_id: str,
    code: Any,
) -> tuple[int, dict[str, Any]]:
    async with session.post(
        sim.url + "/oauth2/v3/authorize/mfa/verify",
        json={
            "transaction_id": transaction_id,
            "factor_id": factor_id,
            "passcode": code,
        },
    ) as r:
        return r.status, await r.json()


async def finish(
    session: aiohttp.ClientSession, sim: SimServer, transaction_id: str
) -> tuple[int, str | None]:
    async with session.post(
        sim.url + AUTHORIZE,
        data={"transaction_id": transaction_id},
        allow_redirects=False,
    ) as r:
        return r.status, r.headers.get("Location")


def wrong(code: str) -> str:
    return f"{(int(code) + 500_000) % 1_000_000:06d}"


async def test_totp_sign_in_and_replay(sim: SimServer) -> None:
    totp_account = account(sim, "totp@example.com")
    factor = totp_account.mfa[0]
    async with browser_session() as session:
        txn, verifier = await start_mfa(
            session, sim, "totp@example.com", "totp-Secret1"
        )
        status, body = await factors(session, sim, txn)
        assert status == 200
        assert [(f["id"], f["name"], f["factorType"]) for f in body["data"]] == [
            (factor.id, "Pixel 8", "token:software")
        ]
        assert "createdAt" in body["data"][0]
        # finishing before the passcode is accepted fails
        status, location = await finish(session, sim, txn)
        assert (status, location) == (401, None)
        code = pyotp.TOTP(factor.secret).now()
        status, body = await verify(session, sim, txn, factor.id, wrong(code))
        assert status == 200
        assert body["data"]["valid"] is False
        assert body["data"]["approved"] is False
        status, body = await verify(session, sim, txn, factor.id, code)
        assert status == 200
        assert body["data"]["approved"] is True
        assert body["data"]["valid"] is True
        status, location = await finish(session, sim, txn)
        assert status == 302
        status, tokens = await exchange(session, sim, code_of(location), verifier)
        assert status == 200
        assert jwt_claims(tokens["access_token"])["amr"] == ["pwd", "mfa", "otp"]
        # the same passcode in a new sign-in is a replay
        txn2, _ = await start_mfa(session, sim, "totp@example.com", "totp-Secret1")
        status, body = await verify(session, sim, txn2, factor.id, code)
        assert status == 400
        assert body["error"]["code"] == "ERR_PASS_CODE_REPLAY"


async def test_mfa_too_many_attempts(sim: SimServer) -> None:
    factor = account(sim, "totp@example.com").mfa[0]
    code = pyotp.TOTP(factor.secret).now()
    async with browser_session() as session:
        txn, _ = await start_mfa(session, sim, "totp@example.com", "totp-Secret1")
        for _ in range(4):
            status, body = await verify(session, sim, txn, factor.id, wrong(code))
            assert (status, body["data"]["valid"]) == (200, False)
        status, body = await verify(
            session, sim, txn, factor.id, "12345"
        )  # malformed counts
        assert (status, body["error"]["code"]) == (400, "ERR_MAX_VERIFICATION_ATTEMPTS")
        status, body = await verify(session, sim, txn, factor.id, code)
        assert body["error"]["code"] == "ERR_MAX_VERIFICATION_ATTEMPTS"


async def test_two_factors_choose_the_second(sim: SimServer) -> None:
    multi = account(sim, "multi@example.com")
    first, second = multi.mfa
    async with browser_session() as session:
        txn, verifier = await start_mfa(
            session, sim, "multi@example.com", "multi-Secret1"
        )
        _, body = await factors(session, sim, txn)
        assert [f["name"] for f in body["data"]] == ["Pixel 8", "1Password"]
        # the first factor's code does not fit the second factor
        status, body = await verify(
            session, sim, txn, second.id, pyotp.TOTP(first.secret).now()
        )
        assert body["data"]["valid"] is False
        status, body = await verify(session, sim, txn, "no-such-factor", "123456")
        assert (status, body["error"]["code"]) == (400, "ERR_INVALID_FACTOR")
        status, body = await verify(session, sim, txn, second.id, 123456)
        assert (status, body["error"]["code"]) == (400, "ERR_INVALID_REQUEST")
        status, body = await verify(
            session, sim, txn, second.id, pyotp.TOTP(second.secret).now()
        )
        assert body["data"]["approved"] is True
        status, location = await finish(session, sim, txn)
        assert status == 302
        assert (await exchange(session, sim, code_of(location), verifier))[0] == 200
        # the transaction is used up
        status, body = await factors(session, sim, txn)
        assert (status, body["error"]["code"]) == (400, "ERR_EXPIRED")


async def test_mfa_endpoint_errors(sim: SimServer) -> None:
    factor = account(sim, "totp@example.com").mfa[0]
    async with browser_session() as session:
        status, body = await factors(session, sim, "unknown")
        assert (status, body["error"]["code"]) == (400, "ERR_EXPIRED")
        status, body = await verify(session, sim, "unknown", factor.id, "123456")
        assert (status, body["error"]["code"]) == (400, "ERR_EXPIRED")
        # before the password step there is nothing to verify
        _, fields, _ = await open_page(session, sim)
        status, body = await factors(session, sim, fields["transaction_id"])
        assert (status, body["error"]["code"]) == (400, "ERR_INVALID_REQUEST")
        txn, _ = await start_mfa(session, sim, "totp@example.com", "totp-Secret1")
    async with aiohttp.ClientSession(cookies={"tesla-auth.sid": "other"}) as other:
        status, body = await factors(other, sim, txn)
        assert (status, body["error"]["code"]) == (403, "ERR_FORBIDDEN")
    async with aiohttp.ClientSession() as session:
        async with session.post(
            sim.url + "/oauth2/v3/authorize/mfa/verify",
            data="[1]",
            headers={"Content-Type": "application/json"},
        ) as r:
            assert (await r.json())["error"]["code"] == "ERR_EXPIRED"
        async with session.post(
            sim.url + "/oauth2/v3/authorize/mfa/verify",
            data="{nope",
            headers={"Content-Type": "application/json"},
        ) as r:
            assert r.status == 400


async def test_mfa_in_a_browser_form(sim: SimServer) -> None:
    factor = account(sim, "totp@example.com").mfa[0]
    code = pyotp.TOTP(factor.secret).now()
    async with browser_session() as session:
        txn, verifier = await start_mfa(
            session, sim, "totp@example.com", "totp-Secret1"
        )
        form = {"transaction_id": txn, "factor_id": factor.id}
        async with session.post(
            sim.url + "/oauth2/v3/authorize/mfa/verify",
            data={**form, "passcode": wrong(code)},
        ) as r:
            assert r.status == 200
            assert "Invalid passcode" in await r.text()
        async with session.post(
            sim.url + "/oauth2/v3/authorize/mfa/verify", data={**form, "passcode": code}
        ) as r:
            page = await r.text()
        assert hidden_fields(page) == {"transaction_id": txn}
        status, location = await finish(session, sim, txn)
        assert status == 302
        assert (await exchange(session, sim, code_of(location), verifier))[0] == 200
        async with session.post(
            sim.url + "/oauth2/v3/authorize/mfa/verify", data={**form, "passcode": code}
        ) as r:
            assert r.status == 400
            assert "ended" in await r.text()


async def test_transactions_and_tokens_expire(socket_enabled: None) -> None:
    async with SimServer(seed=1, virtual_clock=True, legacy_sign_in=True) as sim:
        factor = account(sim, "totp@example.com").mfa[0]
        async with browser_session() as session:
            txn, _ = await start_mfa(session, sim, "totp@example.com", "totp-Secret1")
            sim.world.advance(601)
            code = pyotp.TOTP(factor.secret).at(int(sim.world.now()))
            status, body = await verify(session, sim, txn, factor.id, code)
            assert (status, body["error"]["code"]) == (400, "ERR_EXPIRED")
            status, _ = await finish(session, sim, txn)
            assert status == 400
            # a passcode checked against the simulator's (virtual) time
            txn, _ = await start_mfa(session, sim, "totp@example.com", "totp-Secret1")
            status, body = await verify(session, sim, txn, factor.id, code)
            assert body["data"]["approved"] is True
            tokens = await sim.issue_tokens("totp@example.com")
            headers = bearer(tokens["access_token"])
            async with session.get(sim.url + "/api/1/vehicles", headers=headers) as r:
                assert r.status == 200
            sim.world.advance(8 * 3600)
            async with session.get(sim.url + "/api/1/vehicles", headers=headers) as r:
                assert r.status == 401
                assert (await r.json())["error"] == "token expired (401)"
            async with session.post(
                sim.url + TOKEN,
                data={
                    "grant_type": "refresh_token",
                    "client_id": DEV_CLIENT_ID,
                    "refresh_token": tokens["refresh_token"],
                },
            ) as r:
                assert r.status == 200  # refresh tokens outlive access tokens


async def test_control_code_helper(sim: SimServer) -> None:
    verifier, challenge = pkce_pair("browser")
    async with aiohttp.ClientSession() as session:
        async with session.post(
            sim.url + "/__sim__/oauth/code",
            json={
                "email": "multi@example.com",
                "code_challenge": challenge,
                "redirect_uri": "https://my.home-assistant.io/redirect/oauth",
                "state": "xyz",
            },
        ) as r:
            body = await r.json()
        assert body["state"] == "xyz"
        status, tokens = await exchange(
            session,
            sim,
            body["code"],
            verifier,
            redirect_uri="https://my.home-assistant.io/redirect/oauth",
            client_id=DEV_CLIENT_ID,
            client_secret=DEV_CLIENT_SECRET,
        )
        assert status == 200
        assert (
            jwt_claims(tokens["access_token"])["sub"]
            == account(sim, "multi@example.com").id
        )
        for bad, expected in (
            ({}, 400),
            ({"email": "nobody@example.com", "redirect_uri": "x"}, 404),
            ({"email": "multi@example.com"}, 400),
        ):
            async with session.post(sim.url + "/__sim__/oauth/code", json=bad) as r:
                assert r.status == expected
        async with session.post(
            sim.url + "/__sim__/oauth/tokens", json={"email": "nomfa@example.com"}
        ) as r:
            assert "access_token" in await r.json()
        bad_bodies: tuple[tuple[Any, int], ...] = (
            ([], 400),
            ({"email": "nobody@example.com"}, 404),
        )
        for bad, expected in bad_bodies:
            async with session.post(sim.url + "/__sim__/oauth/tokens", json=bad) as r:
                assert r.status == expected
