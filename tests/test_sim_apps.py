"""tesla_sim's identity of 2026: developer apps, the browser's authorize page, fleet-auth.

Everything over loopback with real HTTP: a browser (an aiohttp client that reads each
page's form and posts it) signs in for the simulator's dev app, and the code is
exchanged form-encoded at the fleet-auth token URL with the app's secret.
"""

from html.parser import HTMLParser
import io
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import aiohttp
import pyotp
import pytest
from yarl import URL

from custom_components.tesla_resilient.api import CaptchaRequired, TeslaAuth
from tesla_sim import SimServer, World
from tesla_sim.__main__ import banner, parse_args
from tesla_sim.apps import (
    DEV_CLIENT_ID,
    DEV_CLIENT_SECRET,
    DEV_REDIRECT_URIS,
    App,
    check_secret,
)
from tests.sim_fixtures import browser_session, jwt_claims, pkce_pair

REDIRECT = DEV_REDIRECT_URIS[0]


class _Forms(HTMLParser):
    """The forms of a page: action and every named input's value (or ``""``)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, tuple[str, dict[str, str]]] = {}
        self._current: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = {}
            self.forms[values.get("id", "")] = (values.get("action", ""), self._current)
        elif tag in ("input", "select") and self._current is not None:
            if name := values.get("name"):
                self._current[name] = values.get("value", "")


def forms(page: str) -> dict[str, tuple[str, dict[str, str]]]:
    parser = _Forms()
    parser.feed(page)
    return parser.forms


async def submit(
    browser: aiohttp.ClientSession,
    url: str,
    page: str,
    form_id: str,
    **fields: str,
) -> aiohttp.ClientResponse:
    """Fill and post a form of ``page`` (loaded from ``url``) as a browser does."""
    action, values = forms(page)[form_id]
    return await browser.post(
        urljoin(url, action), data={**values, **fields}, allow_redirects=False
    )


def authorize_url(sim: SimServer, **params: str) -> str:
    query = {
        "response_type": "code",
        "client_id": DEV_CLIENT_ID,
        "redirect_uri": REDIRECT,
        "scope": "openid offline_access user_data vehicle_device_data",
        "state": "st-1",
        "prompt_missing_scopes": "true",
        "require_requested_scopes": "true",
        **params,
    }
    return str(URL(sim.url + "/oauth2/v3/authorize").with_query(query))


async def sign_in(sim: SimServer, email: str, **params: str) -> dict[str, list[str]]:
    """The browser on Tesla's page: email, password, the 2FA page if any; the redirect."""
    account = sim.world.account_by_email(email)
    assert account is not None
    url = authorize_url(sim, **params)
    async with browser_session() as browser:
        async with browser.get(url) as resp:
            assert resp.status == 200
            page = await resp.text()
        async with await submit(
            browser, url, page, "form", identity=email, credential=account.password
        ) as resp:
            page, status = await resp.text(), resp.status
            location = resp.headers.get("Location", "")
        if account.mfa:
            assert status == 200 and "Multi-Factor Authentication" in page
            factor = account.mfa[0]
            passcode = pyotp.TOTP(factor.secret).at(int(sim.world.now()))
            async with await submit(
                browser, url, page, "mfa", factor_id=factor.id, passcode=passcode
            ) as resp:
                assert resp.status == 200
                page = await resp.text()
            async with await submit(browser, url, page, "done") as resp:
                status, location = resp.status, resp.headers.get("Location", "")
    assert status == 302, page
    assert location.startswith(REDIRECT + "?")
    return parse_qs(urlsplit(location).query)


async def token_call(sim: SimServer, data: dict[str, str]) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(sim.token_url, data=data) as resp,
    ):
        return resp.status, await resp.json()


def exchange_body(code: str, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "client_id": DEV_CLIENT_ID,
        "client_secret": DEV_CLIENT_SECRET,
        "code": code,
        "redirect_uri": REDIRECT,
        **extra,
    }


@pytest.mark.parametrize("email", ["nomfa@example.com", "totp@example.com"])
async def test_browser_sign_in_and_code_exchange(sim: SimServer, email: str) -> None:
    redirect = await sign_in(sim, email)
    assert redirect["state"] == ["st-1"]
    code = redirect["code"][0]
    assert code.startswith("NA_")
    status, body = await token_call(sim, exchange_body(code))
    assert status == 200
    assert body["expires_in"] == 8 * 3600
    assert body["refresh_token"].startswith("NA_")
    claims = jwt_claims(body["access_token"])
    assert claims["azp"] == DEV_CLIENT_ID
    assert claims["ou_code"] == "NA"
    assert claims["aud"] == [*sim.world.fleet_bases(), sim.token_url]
    assert claims["scp"] == [
        "openid",
        "offline_access",
        "user_data",
        "vehicle_device_data",
    ]
    account = sim.world.account_by_email(email)
    assert account is not None
    assert claims["sub"] == account.id
    assert claims["amr"] == (["pwd", "mfa", "otp"] if account.mfa else ["pwd"])
    # a code is single use
    status, body = await token_call(sim, exchange_body(code))
    assert (status, body["error"]) == (400, "invalid_grant")


async def test_code_exchange_needs_the_app_secret(sim: SimServer) -> None:
    code = (await sign_in(sim, "nomfa@example.com"))["code"][0]
    without = exchange_body(code)
    del without["client_secret"]
    for body in (without, exchange_body(code, client_secret="guess")):
        status, answer = await token_call(sim, body)
        assert (status, answer["error"]) == (401, "invalid_client")
    other = exchange_body(code, client_id="ownerapi")
    del other["client_secret"]
    assert (await token_call(sim, other))[0] == 401  # no ownerapi in 2026
    sim.world.apps["second"] = App("second", "s2", "Second", [], [REDIRECT])
    status, answer = await token_call(
        sim, exchange_body(code, client_id="second", client_secret="s2")
    )
    assert (status, answer["error_description"]) == (
        400,
        "the code was issued to another client_id",
    )
    status, answer = await token_call(
        sim,
        {
            "grant_type": "client_credentials",
            "client_id": DEV_CLIENT_ID,
            "client_secret": "guess",
            "audience": sim.url,
        },
    )
    assert (status, answer["error"]) == (401, "invalid_client")
    # the code was not spent by the refused attempts; its redirect URI must match
    status, answer = await token_call(
        sim, exchange_body(code, redirect_uri=DEV_REDIRECT_URIS[1])
    )
    assert (status, answer["error_description"]) == (400, "redirect_uri mismatch")
    assert (await token_call(sim, exchange_body(code)))[0] == 200


async def test_pkce_code_exchange(sim: SimServer) -> None:
    verifier, challenge = pkce_pair("app")
    redirect = await sign_in(
        sim,
        "nomfa@example.com",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    code = redirect["code"][0]
    status, _ = await token_call(sim, exchange_body(code, code_verifier="x" * 43))
    assert status == 400
    status, _ = await token_call(sim, exchange_body(code, code_verifier=verifier))
    assert status == 200


async def test_authorize_refuses_unknown_apps_and_redirects(sim: SimServer) -> None:
    async with aiohttp.ClientSession() as session:
        for params in (
            {"client_id": "not-an-app"},
            {"redirect_uri": "https://evil.example/callback"},
        ):
            async with session.get(
                authorize_url(sim, **params), allow_redirects=False
            ) as resp:
                assert resp.status == 400
                assert 'role="alert"' in await resp.text()
        async with session.get(
            authorize_url(sim, response_type="token"), allow_redirects=False
        ) as resp:
            assert resp.status == 302
            query = parse_qs(urlsplit(resp.headers["Location"]).query)
            assert query["error"] == ["unsupported_response_type"]
            assert query["state"] == ["st-1"]


async def test_headless_sign_in_meets_a_captcha(sim: SimServer) -> None:
    """Tesla's 2026 behaviour: the legacy client's login page demands a captcha."""
    async with aiohttp.ClientSession() as session:
        auth = TeslaAuth(session, auth_base=sim.url)
        with pytest.raises(CaptchaRequired):
            await auth.login("nomfa@example.com", "nomfa-Secret1")


async def test_token_endpoint_is_form_only(sim: SimServer) -> None:
    tokens = await sim.issue_tokens("nomfa@example.com")
    body = {
        "grant_type": "refresh_token",
        "client_id": DEV_CLIENT_ID,
        "refresh_token": tokens["refresh_token"],
    }
    async with aiohttp.ClientSession() as session:
        async with session.post(sim.token_url, json=body) as resp:
            assert resp.status == 400
            assert (await resp.json())["error"] == "invalid_request"
        # a scope on refresh is ignored: the grant keeps its scopes
        async with session.post(
            sim.token_url, data={**body, "scope": "openid"}
        ) as resp:
            assert resp.status == 200
            new = await resp.json()
    assert "vehicle_cmds" in jwt_claims(new["access_token"])["scp"]
    assert sim.world.tokens.requests[0] == {
        "path": "/fleet-auth/oauth2/v3/token",
        "content_type": "application/json",
    }
    status, answer = await token_call(sim, {"grant_type": "refresh_token"})
    assert (status, answer["error"]) == (400, "invalid_request")
    for bad in (
        {"grant_type": "client_credentials", "client_id": DEV_CLIENT_ID},
        {"grant_type": "authorization_code", "client_id": DEV_CLIENT_ID},
    ):
        status, answer = await token_call(sim, bad)
        assert (status, answer["error"]) == (400, "invalid_request")


async def test_apps_control_api(sim: SimServer) -> None:
    url = sim.url + "/__sim__/apps"
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as resp:
            (dev,) = (await resp.json())["apps"]
        assert dev["client_id"] == DEV_CLIENT_ID
        assert dev["client_secret"] == DEV_CLIENT_SECRET
        assert REDIRECT in dev["redirect_uris"]
        async with session.post(
            url, json={"redirect_uris": ["https://ha.example/cb"]}
        ) as resp:
            created = await resp.json()
        assert created["client_secret"].startswith("ta-secret.")
        assert check_secret(sim.world, created["client_id"], created["client_secret"])
        for bad, status in (
            ([], 400),
            ({"redirect_uris": []}, 400),
            ({"redirect_uris": ["x"], "allowed_origins": "x"}, 400),
            ({"redirect_uris": ["x"], "name": 3}, 400),
            ({"redirect_uris": ["x"], "client_id": DEV_CLIENT_ID}, 409),
            ({"redirect_uris": ["x"], "client_id": "ownerapi"}, 409),
        ):
            async with session.post(url, json=bad) as resp:
                assert resp.status == status
        async with session.post(f"{url}/{DEV_CLIENT_ID}/unregister") as resp:
            assert (await resp.json())["removed_regions"] == ["na", "eu", "cn"]
        async with session.post(f"{url}/nobody/unregister") as resp:
            assert resp.status == 404
        async with session.post(
            url,
            json={
                "client_id": "mine",
                "redirect_uris": ["x"],
                "partner_registered": True,
            },
        ) as resp:
            assert resp.status == 200
    assert sim.world.partners.get("mine", "eu") is not None
    sim.world.reset()
    assert list(sim.world.apps) == [DEV_CLIENT_ID]
    assert sim.world.partners.get(DEV_CLIENT_ID, "na") is not None


def test_command_line_and_banner() -> None:
    args = parse_args(["--legacy-sign-in", "--unregistered"])
    assert args.legacy_sign_in and args.unregistered
    world = World(legacy_sign_in=True, partner_registered=False)
    assert world.partners.get(DEV_CLIENT_ID, "na") is None
    out = io.StringIO()
    banner(world, out)
    text = out.getvalue()
    assert f"client id {DEV_CLIENT_ID}  client secret {DEV_CLIENT_SECRET}" in text
    assert "/fleet-auth/oauth2/v3/token" in text
    assert "legacy headless sign-in" in text
