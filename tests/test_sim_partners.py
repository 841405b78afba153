"""tesla_sim's Fleet API gate and partner registration, and our client's token calls.

Over loopback with real HTTP: the app's public key is served by a local aiohttp server
(the simulator fetches it as Tesla does), and the simulator records what its token
endpoint received, which proves how our client refreshes.
"""

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
import pytest

from benchmarks.common import dev_app_auth
from custom_components.tesla_resilient.api import (
    AuthFailed,
    JwtClaims,
    MalformedResponse,
    TeslaOAuth,
    Tokens,
)
from tesla_sim import SimServer
from tesla_sim.apps import DEV_CLIENT_ID, DEV_CLIENT_SECRET
from tesla_sim.partners import KEY_PATH, key_url
from tests.sim_fixtures import bearer, jwt_claims, key_host

NOMFA = "nomfa@example.com"
PEM = serialization.Encoding.PEM
SPKI = serialization.PublicFormat.SubjectPublicKeyInfo


def ec_key_pem() -> tuple[bytes, str]:
    """A new P-256 public key: (PEM, hex of the uncompressed point)."""
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    raw = public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return public.public_bytes(PEM, SPKI), raw.hex()


@pytest.fixture(name="key_host")
async def key_host_fixture(
    socket_enabled: None,
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """A web server for the app's domain: serves ``served["pem"]`` at Tesla's key path."""
    served: dict[str, Any] = {"pem": b"", "status": 200}
    async with key_host(served) as domain:
        yield domain, served


def oauth(
    sim: SimServer, session: aiohttp.ClientSession, secret: str | None = None
) -> TeslaOAuth:
    """Our client, configured for the simulator's fleet-auth host and dev app."""
    return dev_app_auth(session, sim, secret=secret is not None)


async def call(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    token: str,
    body: Any = None,
) -> tuple[int, Any]:
    async with session.request(method, url, headers=bearer(token), json=body) as r:
        return r.status, await r.json()


async def test_refresh_posts_form_without_scope_to_fleet_auth(sim: SimServer) -> None:
    issued = await sim.issue_tokens(NOMFA)
    async with aiohttp.ClientSession() as session:
        tokens = await oauth(sim, session).refresh(issued["refresh_token"])
    assert isinstance(tokens, Tokens)
    assert sim.world.tokens.requests == [
        {
            "path": "/fleet-auth/oauth2/v3/token",
            "content_type": "application/x-www-form-urlencoded",
            "grant_type": "refresh_token",
            "fields": ["client_id", "grant_type", "refresh_token"],
        }
    ]
    claims = JwtClaims.decode(tokens.access_token)
    assert (claims.region, claims.client_id) == ("na", DEV_CLIENT_ID)
    assert JwtClaims.decode("not-a-jwt").region is None


async def test_code_exchange_sends_the_secret(sim: SimServer) -> None:
    redirect = "http://127.0.0.1:8123/auth/external/callback"
    code = await sim.authorization_code(NOMFA, redirect_uri=redirect)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(AuthFailed, match="invalid_client"):
            await oauth(sim, session).exchange_code(code, None, redirect)
        tokens = await oauth(sim, session, DEV_CLIENT_SECRET).exchange_code(
            code, None, redirect
        )
    assert tokens.account_id() is not None
    assert sim.world.tokens.requests[-1]["fields"] == [
        "client_id",
        "client_secret",
        "code",
        "grant_type",
        "redirect_uri",
    ]


async def test_ownerapi_token_is_refused_by_the_fleet_api(sim: SimServer) -> None:
    owner = await sim.issue_tokens(NOMFA, client_id="ownerapi")
    app = await sim.issue_tokens(NOMFA)
    async with aiohttp.ClientSession() as session:
        status, body = await call(
            session, "GET", sim.url + "/api/1/vehicles", owner["access_token"]
        )
        assert (status, body["error"]) == (403, "unauthorized_client")
        assert "ownerapi" in body["error_description"]
        status, _ = await call(
            session, "GET", sim.url + "/api/1/vehicles", app["access_token"]
        )
        assert status == 200
        # no bearer token: the handler's 401, not the gate's
        async with session.get(sim.url + "/api/1/vehicles") as r:
            assert r.status == 401


@pytest.mark.sim(legacy_sign_in=True)
async def test_ownerapi_works_on_a_legacy_server(sim: SimServer) -> None:
    owner = await sim.issue_tokens(NOMFA, client_id="ownerapi")
    async with aiohttp.ClientSession() as session:
        status, _ = await call(
            session, "GET", sim.url + "/api/1/vehicles", owner["access_token"]
        )
    assert status == 200


@pytest.mark.sim(partner_registered=False)
async def test_412_until_partner_registration(
    sim: SimServer, key_host: tuple[str, dict[str, Any]]
) -> None:
    domain, served = key_host
    served["pem"], public_hex = ec_key_pem()
    user = (await sim.issue_tokens(NOMFA))["access_token"]
    region_url = sim.url + "/api/1/users/region"
    async with aiohttp.ClientSession() as session:
        status, body = await call(session, "GET", region_url, user)
        assert status == 412
        assert body["error"] == (
            f"Account {DEV_CLIENT_ID} must be registered in the current region "
            f"{sim.url}"
        )
        partner = await oauth(sim, session, DEV_CLIENT_SECRET).partner_token(sim.url)
        claims = jwt_claims(partner)
        assert (claims["sub"], claims["aud"], claims["partner"]) == (
            DEV_CLIENT_ID,
            sim.url,
            True,
        )
        accounts = sim.url + "/api/1/partner_accounts"
        status, body = await call(session, "POST", accounts, user, {"domain": domain})
        assert status == 403  # a user's token cannot register the app
        status, body = await call(
            session, "POST", accounts, partner, {"domain": domain}
        )
        assert status == 200
        assert body["response"]["public_key"] == public_hex
        assert body["response"]["client_id"] == DEV_CLIENT_ID
        assert body["response"]["domain"] == domain
        status, body = await call(
            session, "GET", f"{accounts}/public_key?domain={domain}", partner
        )
        assert (status, body["response"]["public_key"]) == (200, public_hex)
        status, _ = await call(session, "GET", region_url, user)
        assert status == 200
        # registered in na only: the eu base still answers 412 (before 421)
        status, body = await call(session, "GET", sim.url + "/eu/api/1/vehicles", user)
        assert status == 412
        assert body["error"].endswith(f"{sim.url}/eu")
        # a partner token names no account: the Fleet API's 401
        status, _ = await call(session, "GET", sim.url + "/api/1/vehicles", partner)
        assert status == 401


def _rsa_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.public_key().public_bytes(PEM, SPKI)


def _p384_pem() -> bytes:
    return ec.generate_private_key(ec.SECP384R1()).public_key().public_bytes(PEM, SPKI)


@pytest.mark.parametrize(
    ("make_pem", "status"),
    [
        (_rsa_pem, 422),
        (_p384_pem, 422),
        (lambda: b"not a key", 422),
    ],
)
async def test_registration_refuses_a_wrong_key(
    sim: SimServer,
    key_host: tuple[str, dict[str, Any]],
    make_pem: Callable[[], bytes],
    status: int,
) -> None:
    domain, served = key_host
    served["pem"] = make_pem()
    async with aiohttp.ClientSession() as session:
        partner = await oauth(sim, session, DEV_CLIENT_SECRET).partner_token(sim.url)
        answer, body = await call(
            session,
            "POST",
            sim.url + "/api/1/partner_accounts",
            partner,
            {"domain": domain},
        )
    assert answer == status
    assert "semantic" in body["error"]


async def test_registration_errors(
    sim: SimServer, key_host: tuple[str, dict[str, Any]]
) -> None:
    domain, served = key_host
    served["status"] = 404
    accounts = sim.url + "/api/1/partner_accounts"
    async with aiohttp.ClientSession() as session:
        partner = await oauth(sim, session, DEV_CLIENT_SECRET).partner_token(sim.url)
        status, body = await call(
            session, "POST", accounts, partner, {"domain": domain}
        )
        assert (status, body["error"]) == (424, "domain unreachable")
        closed = "127.0.0.1:9"
        status, body = await call(
            session, "POST", accounts, partner, {"domain": closed}
        )
        assert (status, body["error"]) == (424, "domain unreachable")
        for bad in ({"domain": "a/b"}, {"domain": 3}, {}, []):
            status, _ = await call(session, "POST", accounts, partner, bad)
            assert status == 400
        async with session.post(accounts, headers=bearer(partner), data="{") as r:
            assert r.status == 400
        status, _ = await call(
            session, "GET", accounts + "/public_key?domain=x.example", partner
        )
        assert status == 404
        async with session.post(accounts, json={"domain": domain}) as r:
            assert r.status == 401
        with pytest.raises(AuthFailed, match="secret"):
            await oauth(sim, session).partner_token(sim.url)
    assert key_url("tesla.example") == f"https://tesla.example{KEY_PATH}"
    assert key_url("localhost:8443") == f"http://localhost:8443{KEY_PATH}"
    assert key_url("") is None
    assert key_url("user@host") is None


async def test_partner_token_faults(socket_enabled: None) -> None:
    """A partner-token answer without a token is malformed; a refused one AuthFailed."""
    answer: dict[str, Any] = {}

    async def token(request: web.Request) -> web.Response:
        return web.json_response(answer["body"], status=answer["status"])

    app = web.Application()
    app.router.add_post("/oauth2/v3/token", token)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with aiohttp.ClientSession() as session:
            client = TeslaOAuth(
                session, auth_base=url, client_id="app", client_secret="s"
            )
            answer.update(body={"token_type": "Bearer"}, status=200)
            with pytest.raises(MalformedResponse):
                await client.partner_token("https://fleet.example")
            answer.update(body={"error": "invalid_client"}, status=401)
            with pytest.raises(AuthFailed, match="invalid_client"):
                await client.partner_token("https://fleet.example")
    finally:
        await runner.cleanup()
