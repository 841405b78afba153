"""Pytest fixtures that run ``tesla_sim`` on 127.0.0.1 (imported by tests/conftest.py).

The world is Tesla's of 2026 (tokens of the registered dev app, partner-registered in
every region, a captcha for the headless sign-in, cars that take only signed commands)
with the test Home Assistant's app key (:data:`APP_KEY`) approved on every car. A test
module or test asks for another with the ``sim`` marker, whose keywords go to
:class:`SimServer` (but ``app_key_approved=False``: no car knows the key); the tests of
the headless sign-in (``ownerapi``) ask for it explicitly::

    pytestmark = pytest.mark.sim(legacy_sign_in=True)
"""

import base64
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
import hashlib
import html
import json
import re
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec
import pytest

from tesla_sim import SimServer, World
from tesla_sim.partners import KEY_PATH
from tesla_sim.vcp.tags import public_bytes

APP_KEY = ec.derive_private_key(0x7E57A99_4E1, ec.SECP256R1())
"""The test Home Assistant's app key (its storage holds it: ``tests/ha_fixtures.py``)."""


def approve_app_key(world: World, key: ec.EllipticCurvePrivateKey = APP_KEY) -> None:
    """Every car of ``world`` trusts ``key`` (the owner approved the virtual key)."""
    for vin in world.vehicles:
        world.approve_virtual_key(vin, public_bytes(key))


@asynccontextmanager
async def key_host(served: Mapping[str, Any]) -> AsyncIterator[str]:
    """A web server for an app's domain on 127.0.0.1; yields the domain (host:port).

    It answers Tesla's key path with ``served["pem"]`` (str or bytes) and
    ``served.get("status", 200)``, read at each request, so a test may change them.
    """

    async def pem(request: web.Request) -> web.Response:
        return web.Response(
            body=served["pem"],
            status=served.get("status", 200),
            content_type="application/x-pem-file",
        )

    app = web.Application()
    app.router.add_get(KEY_PATH, pem)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def _loopback_sim(request: pytest.FixtureRequest, *, virtual_clock: bool) -> SimServer:
    """The simulator (seed 1, no latency) on a free loopback port, not yet started;
    the options of the test's ``sim`` marker apply.

    Its cars take only signed commands (a marker may say ``rest_commands=True``: they
    take REST too) and trust :data:`APP_KEY` (unless ``app_key_approved=False``).
    """
    marker = request.node.get_closest_marker("sim")
    options: dict[str, Any] = {} if marker is None else dict(marker.kwargs)
    approved = options.pop("app_key_approved", True)
    server = SimServer(
        seed=1,
        virtual_clock=virtual_clock,
        latency=0.0,
        host="127.0.0.1",
        port=0,
        **options,
    )
    if approved:
        approve_app_key(server.world)
    return server


@pytest.fixture
async def sim(
    socket_enabled: None, request: pytest.FixtureRequest
) -> AsyncIterator[SimServer]:
    """The simulator (seed 1, real clock, no latency) on a free loopback port."""
    async with _loopback_sim(request, virtual_clock=False) as server:
        yield server


@pytest.fixture
def sim_world(sim: SimServer) -> World:
    """The running simulator's world (accounts, vehicles, meter, faults, clock)."""
    return sim.world


@pytest.fixture
async def sim_virtual(
    socket_enabled: None, request: pytest.FixtureRequest
) -> AsyncIterator[SimServer]:
    """The simulator on a virtual clock (advance with ``sim.world.advance(seconds)``)."""
    async with _loopback_sim(request, virtual_clock=True) as server:
        yield server


# -- helpers for tests that talk raw HTTP to the simulator ---------------------------------

HIDDEN_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
REDIRECT_URI = "https://auth.tesla.com/void/callback"


def browser_session() -> aiohttp.ClientSession:
    """A client session that keeps cookies from 127.0.0.1 (like a browser would)."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


def hidden_fields(page: str) -> dict[str, str]:
    """The hidden inputs of an HTML page."""
    return {name: html.unescape(value) for name, value in HIDDEN_INPUT.findall(page)}


def pkce_pair(seed: str = "verifier") -> tuple[str, str]:
    """A (code_verifier, S256 code_challenge) pair."""
    verifier = (seed * 8)[:64]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def authorize_params(challenge: str, login_hint: str | None = None) -> dict[str, str]:
    """Query of GET /oauth2/v3/authorize as a headless client sends it."""
    params = {
        "client_id": "ownerapi",
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": "openid email offline_access vehicle_device_data vehicle_location "
        "vehicle_cmds vehicle_charging_cmds",
        "state": "state-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if login_hint is not None:
        params["login_hint"] = login_hint
    return params


def bearer(token: str) -> dict[str, str]:
    """Authorization header."""
    return {"Authorization": f"Bearer {token}"}


def jwt_claims(token: str) -> dict[str, Any]:
    """The (unverified) payload of a JWT."""
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims
