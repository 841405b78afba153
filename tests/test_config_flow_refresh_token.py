"""Config flow tests: signing in with a refresh token, and naming the entry."""

import base64
from collections.abc import AsyncIterator
import json
from typing import Any

from aiohttp import web
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.tesla_resilient.const import (
    CONF_API_BASE_URL,
    CONF_AUTH_BASE_URL,
)
from tesla_sim import SimServer
from tesla_sim.apps import DEV_CLIENT_ID
from tests.flow_helpers import (
    MULTI,
    NOMFA,
    account,
    assert_entry_data,
    choose,
    configure,
    not_now,
    odd_server_fixture,  # noqa: F401 - a fixture
    servers,
    start,
    unload_entries,  # noqa: F401 - an autouse fixture
)

# ------------------------------------------------------------------------ refresh token


async def test_refresh_token(hass: HomeAssistant, sim: SimServer) -> None:
    issued = await sim.issue_tokens(MULTI)
    result = await choose(hass, await start(hass), "refresh_token")
    result = await configure(
        hass,
        result,
        {"client_id": DEV_CLIENT_ID, "refresh_token": "NA_not-a-token", **servers(sim)},
    )
    assert result["step_id"] == "refresh_token"
    assert result["errors"] == {"base": "invalid_auth"}
    result = await configure(
        hass,
        result,
        {
            "client_id": DEV_CLIENT_ID,
            "refresh_token": f" {issued['refresh_token']}\n",
            **servers(sim),
        },
    )
    result = await not_now(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == account(sim, MULTI).id
    # A refresh token names no account: the Fleet API tells the email.
    assert result["title"] == MULTI
    data = dict(result["data"])
    # The pasted token is spent; the entry holds the new one.
    assert_entry_data(data, sim, "refresh_token", secrets=(issued["refresh_token"],))


async def test_refresh_token_from_an_odd_server_then_tesla(
    hass: HomeAssistant, sim: SimServer, odd_server: tuple[str, dict[str, Any]]
) -> None:
    url, body = odd_server
    body.update({"access_token": "opaque", "refresh_token": "r", "expires_in": 60})
    issued = await sim.issue_tokens(NOMFA)
    result = await choose(hass, await start(hass), "refresh_token")
    result = await configure(
        hass,
        result,
        {
            "client_id": DEV_CLIENT_ID,
            "refresh_token": "whatever",
            "servers": {CONF_AUTH_BASE_URL: url},
        },
    )
    assert result["errors"] == {"base": "unknown"}
    result = await configure(
        hass,
        result,
        {
            "client_id": DEV_CLIENT_ID,
            "refresh_token": issued["refresh_token"],
            **servers(sim),
        },
    )
    result = await not_now(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_refresh_token_title_waits_out_an_outage(
    hass: HomeAssistant, sim: SimServer
) -> None:
    """The email lookup fails in an outage: retry from the finish step, tokens kept."""
    issued = await sim.issue_tokens(NOMFA)
    sim.world.faults.add(
        sim.world.faults.parse(
            {"kind": "outage", "paths": ["/api/1/users/me"]}, sim.world.now()
        )
    )
    result = await choose(hass, await start(hass), "refresh_token")
    result = await configure(
        hass,
        result,
        {
            "client_id": DEV_CLIENT_ID,
            "refresh_token": issued["refresh_token"],
            **servers(sim),
        },
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "finish"
    assert result["errors"] == {"base": "cannot_connect"}
    sim.world.faults.clear()
    result = await configure(hass, result, {})
    result = await not_now(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == NOMFA
    assert_entry_data(
        dict(result["data"]), sim, "refresh_token", secrets=(issued["refresh_token"],)
    )


def _jwt(claims: dict[str, Any]) -> str:
    """An unsigned JWT (the integration reads, never verifies, Tesla's tokens)."""

    def part(value: dict[str, Any]) -> str:
        raw = json.dumps(value).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(claims)}.signature"


@pytest.fixture
async def profile_refused(
    socket_enabled: None,
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """A Tesla-like server whose ``users/me`` answers as ``me`` says (status, body)."""
    me: dict[str, Any] = {}

    async def token(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "access_token": _jwt({"sub": "account-7"}),
                "refresh_token": "next",
                "expires_in": 3600,
            }
        )

    async def region(request: web.Request) -> web.Response:
        base = f"http://{request.host}"
        return web.json_response(
            {"response": {"region": "na", "fleet_api_base_url": base}}
        )

    async def users_me(request: web.Request) -> web.Response:
        return web.json_response(me["body"], status=me["status"])

    async def vehicles(request: web.Request) -> web.Response:
        return web.json_response({"response": [], "count": 0})

    app = web.Application()
    app.router.add_post("/oauth2/v3/token", token)
    app.router.add_get("/api/1/users/region", region)
    app.router.add_get("/api/1/users/me", users_me)
    app.router.add_get("/api/1/vehicles", vehicles)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}", me
    await runner.cleanup()


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (403, {"response": None, "error": "Unauthorized missing scopes"}),
        (200, {"response": {"email": None, "full_name": "Ada"}}),
    ],
)
async def test_refresh_token_title_without_email(
    hass: HomeAssistant,
    profile_refused: tuple[str, dict[str, Any]],
    status: int,
    body: dict[str, Any],
) -> None:
    """Tesla keeps the email to itself: the entry is named after the account id."""
    url, me = profile_refused
    me.update(status=status, body=body)
    result = await choose(hass, await start(hass), "refresh_token")
    result = await configure(
        hass,
        result,
        {
            "client_id": DEV_CLIENT_ID,
            "refresh_token": "pasted",
            "servers": {CONF_AUTH_BASE_URL: url, CONF_API_BASE_URL: url},
        },
    )
    result = await not_now(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "account-7"
    assert result["result"].unique_id == "account-7"
    assert result["data"][CONF_API_BASE_URL] == url
