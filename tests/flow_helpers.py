"""Helpers of the config and options flow tests.

The simulator's accounts and codes, the flow steps, a browser on Tesla's sign-in page,
and the fixtures the flow test modules import (``unload_entries`` is autouse).
"""

from collections.abc import AsyncIterator
from html.parser import HTMLParser
import json
import socket
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
from aiohttp import web
from homeassistant.components.application_credentials import (
    ClientCredential,
    async_import_client_credential,
)
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigEntry,
    ConfigFlowResult,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component
import pyotp
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.tesla_resilient.const import (
    CONF_API_BASE_URL,
    CONF_AUTH_BASE_URL,
    CONF_AUTH_METHOD,
    CONF_CLIENT_ID,
    CONF_REGION,
    CONF_TOKEN,
    CONF_TOKEN_URL,
    DOMAIN,
)
from tesla_sim import Account, MfaFactor, SimServer
from tesla_sim.apps import DEV_CLIENT_ID, App

ENTRY_KEYS = {
    CONF_AUTH_METHOD,
    CONF_TOKEN,
    CONF_CLIENT_ID,
    CONF_AUTH_BASE_URL,
    CONF_TOKEN_URL,
    CONF_API_BASE_URL,
    CONF_REGION,
}
TOKEN_KEYS = {"access_token", "refresh_token", "expires_at"}
NOMFA = "nomfa@example.com"
TOTP = "totp@example.com"
MULTI = "multi@example.com"
CAPTCHA = "captcha@example.com"
CLIENT_ID = "my-tesla-app"
REDIRECT = "https://example.com/auth/external/callback"


@pytest.fixture(autouse=True)
async def unload_entries(hass: HomeAssistant) -> AsyncIterator[None]:
    """Unload the entries the flows created (the real set-up runs against tesla_sim)."""
    yield
    await hass.async_block_till_done()
    for entry in hass.config_entries.async_entries(DOMAIN):
        await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


def account(sim: SimServer, email: str) -> Account:
    found = sim.world.account_by_email(email)
    assert found is not None
    return found


def code_of(sim: SimServer, factor: MfaFactor, offset: float = 0) -> str:
    """The factor's TOTP code at the simulator's time (a string: leading zeros kept)."""
    return pyotp.TOTP(factor.secret).at(int(sim.world.now() + offset))


def wrong_code(sim: SimServer, factor: MfaFactor) -> str:
    valid = {code_of(sim, factor, offset) for offset in (-30, 0, 30)}
    return next(c for c in ("000000", "111111", "222222") if c not in valid)


def servers(sim: SimServer) -> dict[str, dict[str, str]]:
    """The servers section for the simulator: sign-in, fleet-auth token URL, Fleet API."""
    return {
        "servers": {
            CONF_AUTH_BASE_URL: sim.url,
            CONF_TOKEN_URL: sim.token_url,
            CONF_API_BASE_URL: sim.url,
        }
    }


def register_app(sim: SimServer, client_id: str, secret: str) -> None:
    """Register a developer app in the simulator (partner in every region) whose
    redirect URI is the test Home Assistant's."""
    world = sim.world
    world.apps[client_id] = App(client_id, secret, client_id, [], [REDIRECT])
    world.partners.register_everywhere(client_id, world.now())


def password_of(sim: SimServer, email: str) -> str:
    return account(sim, email).password


async def start(hass: HomeAssistant) -> ConfigFlowResult:
    return await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )


async def configure(
    hass: HomeAssistant,
    result: ConfigFlowResult,
    user_input: dict[str, Any] | None = None,
) -> ConfigFlowResult:
    return await hass.config_entries.flow.async_configure(result["flow_id"], user_input)


async def choose(
    hass: HomeAssistant, result: ConfigFlowResult, option: str
) -> ConfigFlowResult:
    assert result["type"] is FlowResultType.MENU
    return await configure(hass, result, {"next_step_id": option})


async def refresh_token_sign_in(
    hass: HomeAssistant, sim: SimServer
) -> ConfigFlowResult:
    """Sign in to MULTI with a refresh token of the simulator's developer app."""
    issued = await sim.issue_tokens(MULTI)
    result = await choose(hass, await start(hass), "refresh_token")
    return await configure(
        hass,
        result,
        {
            "client_id": DEV_CLIENT_ID,
            "refresh_token": issued["refresh_token"],
            **servers(sim),
        },
    )


async def password_step(
    hass: HomeAssistant, sim: SimServer, email: str
) -> ConfigFlowResult:
    result = await choose(hass, await start(hass), "password")
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "password"
    return await configure(
        hass,
        result,
        {"email": email, "password": password_of(sim, email), **servers(sim)},
    )


async def not_now(hass: HomeAssistant, result: ConfigFlowResult) -> ConfigFlowResult:
    """Decline the authenticator, the last optional step of a new entry.

    The cars of the simulator's accounts are online: no wake-up is offered.
    """
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "authenticator"
    return await choose(hass, result, "wake")


def assert_entry_data(
    data: dict[str, Any], sim: SimServer, method: str, *, secrets: tuple[str, ...] = ()
) -> None:
    assert set(data) == ENTRY_KEYS
    assert set(data[CONF_TOKEN]) == TOKEN_KEYS
    assert data[CONF_AUTH_METHOD] == method
    assert data[CONF_AUTH_BASE_URL] == sim.url
    assert data[CONF_TOKEN_URL] == sim.token_url
    assert data[CONF_API_BASE_URL] == sim.url
    assert data[CONF_REGION] == "na"
    text = json.dumps(data)
    for secret in secrets:
        assert secret not in text


def suggested(result: ConfigFlowResult, field: str, within: str | None = None) -> Any:
    schema = result["data_schema"].schema
    if within is not None:
        schema = schema[within].schema.schema
    for marker in schema:
        if marker == field:
            return (marker.description or {}).get("suggested_value")
    raise AssertionError(f"no field {field}")


def fields(result: ConfigFlowResult) -> set[str]:
    return {str(marker) for marker in result["data_schema"].schema}


def free_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def add_entry(
    hass: HomeAssistant, sim: SimServer, email: str = NOMFA
) -> ConfigEntry:
    """Create an entry through the password flow (no second factor)."""
    result = await not_now(hass, await password_step(hass, sim, email))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    return result["result"]


async def start_reauth(hass: HomeAssistant, entry: ConfigEntry) -> ConfigFlowResult:
    return await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_REAUTH, "entry_id": entry.entry_id},
        data=dict(entry.data),
    )


async def start_reconfigure(
    hass: HomeAssistant, entry: ConfigEntry
) -> ConfigFlowResult:
    return await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hidden: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "input" and values.get("type") == "hidden":
            self.hidden[values["name"]] = values.get("value", "")


async def browser_sign_in(sim: SimServer, url: str, email: str) -> dict[str, str]:
    """Act as the user's browser on Tesla's page; return the redirect's query.

    The person reads the captcha (from the simulator's world) and types the code of
    their first authenticator when asked.
    """
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as browser:
        async with browser.get(url) as resp:
            assert resp.status == 200
            form = _Form()
            form.feed(await resp.text())
        txn_id = form.hidden["transaction_id"]
        data = {**form.hidden, "identity": email, "credential": password_of(sim, email)}
        async with browser.post(url, data=data, allow_redirects=False) as resp:
            page = await resp.text()
            location = resp.headers.get("Location", "")
        if 'name="captcha"' in page:
            solution = sim.world.sso.transactions[txn_id].captcha
            assert solution is not None
            async with browser.post(
                url, data={**data, "captcha": solution}, allow_redirects=False
            ) as resp:
                page = await resp.text()
                location = resp.headers.get("Location", "")
        if 'id="mfa"' in page:
            factor = account(sim, email).mfa[0]
            verify = {
                "transaction_id": txn_id,
                "factor_id": factor.id,
                "passcode": code_of(sim, factor),
            }
            async with browser.post(
                f"{sim.url}/oauth2/v3/authorize/mfa/verify", data=verify
            ) as resp:
                assert resp.status == 200
            async with browser.post(
                f"{sim.url}/oauth2/v3/authorize",
                data={"transaction_id": txn_id},
                allow_redirects=False,
            ) as resp:
                location = resp.headers.get("Location", "")
    assert location.startswith(REDIRECT), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@pytest.fixture(name="credentials")
async def credentials_fixture(hass: HomeAssistant, sim: SimServer) -> None:
    """The app's credentials in Home Assistant, the app registered in the simulator."""
    register_app(sim, CLIENT_ID, "app-secret")
    assert await async_setup_component(hass, "application_credentials", {})
    await async_import_client_credential(
        hass, DOMAIN, ClientCredential(CLIENT_ID, "app-secret"), "cred"
    )


@pytest.fixture(name="ha_domain")
async def ha_domain_fixture(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator
) -> str:
    """The domain of Home Assistant's own HTTP server (loopback), which serves the key.

    The integration is set up first: its view of the app key is registered before the
    test server starts (Home Assistant itself takes views at any time).
    """
    assert await async_setup_component(hass, DOMAIN, {})
    http = await hass_client_no_auth()
    return f"127.0.0.1:{http.port}"


async def register(
    hass: HomeAssistant, result: ConfigFlowResult, domain: str, **fields: str
) -> ConfigFlowResult:
    """Register the app for ``domain`` in the partner step."""
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "partner"
    return await configure(hass, result, {"domain": domain, **fields})


async def finish_in_browser(
    hass: HomeAssistant,
    client: ClientSessionGenerator,
    sim: SimServer,
    result: ConfigFlowResult,
    email: str,
) -> ConfigFlowResult:
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    url = result["url"]
    assert url.startswith(f"{sim.url}/oauth2/v3/authorize?")
    query = parse_qs(urlsplit(url).query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["code_challenge_method"] == ["S256"]
    assert "vehicle_cmds" in query["scope"][0]
    redirect = await browser_sign_in(sim, url, email)
    assert redirect["state"] == query["state"][0]
    http = await client()
    resp = await http.get(
        f"/auth/external/callback?code={redirect['code']}&state={redirect['state']}"
    )
    assert resp.status == 200
    return await configure(hass, result)


@pytest.fixture(name="odd_server")
async def odd_server_fixture(
    socket_enabled: None,
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """A sign-in server that issues tokens the integration cannot use (opaque, partial).

    It answers every token request with ``body``, a partner token request with
    ``body["client_credentials"]`` when there is one.
    """
    body: dict[str, Any] = {}

    async def token(request: web.Request) -> web.Response:
        partner = (await request.post()).get("grant_type") == "client_credentials"
        return web.json_response(body.get("client_credentials") if partner else body)

    app = web.Application()
    app.router.add_post("/oauth2/v3/token", token)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}", body
    await runner.cleanup()
