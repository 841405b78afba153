"""Config and options flow tests, signing in against tesla_sim over loopback."""

import base64
from collections.abc import AsyncIterator
from html.parser import HTMLParser
import json
import socket
import time
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
    ConfigEntryState,
    ConfigFlowResult,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.setup import async_setup_component
import pyotp
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.tesla_resilient.api import PendingLogin, TeslaAuth
from custom_components.tesla_resilient.const import (
    CONF_API_BASE_URL,
    CONF_AUTH_BASE_URL,
    CONF_AUTH_METHOD,
    CONF_CLIENT_ID,
    CONF_OTP_ACTIONS,
    CONF_OTP_SECRET,
    CONF_REGION,
    CONF_TOKEN,
    DOMAIN,
    ProtectedAction,
)
from custom_components.tesla_resilient.otp import MAX_FAILURES, OtpLockedOut
from tesla_sim import Account, MfaFactor, SimServer

ENTRY_KEYS = {
    CONF_AUTH_METHOD,
    CONF_TOKEN,
    CONF_CLIENT_ID,
    CONF_AUTH_BASE_URL,
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


# --------------------------------------------------------------------------- helpers


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
    return {"servers": {CONF_AUTH_BASE_URL: sim.url, CONF_API_BASE_URL: sim.url}}


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


def assert_entry_data(
    data: dict[str, Any], sim: SimServer, method: str, *, secrets: tuple[str, ...] = ()
) -> None:
    assert set(data) == ENTRY_KEYS
    assert set(data[CONF_TOKEN]) == TOKEN_KEYS
    assert data[CONF_AUTH_METHOD] == method
    assert data[CONF_AUTH_BASE_URL] == sim.url
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
    result = await password_step(hass, sim, email)
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


@pytest.fixture
async def credentials(hass: HomeAssistant) -> None:
    assert await async_setup_component(hass, "application_credentials", {})
    await async_import_client_credential(
        hass, DOMAIN, ClientCredential(CLIENT_ID, "app-secret"), "cred"
    )


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


# ------------------------------------------------------------------ password sign-in


async def test_menu_and_forms(hass: HomeAssistant) -> None:
    result = await start(hass)
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "user"
    assert list(result["menu_options"]) == ["password", "browser", "refresh_token"]
    password = await choose(hass, result, "password")
    assert fields(password) == {"email", "password", "servers"}
    servers_section = password["data_schema"].schema["servers"]
    assert servers_section.options == {"collapsed": True}
    assert (
        suggested(password, CONF_AUTH_BASE_URL, "servers") == "https://auth.tesla.com"
    )
    assert (
        suggested(password, CONF_API_BASE_URL, "servers")
        == "https://fleet-api.prd.na.vn.cloud.tesla.com"
    )
    result = await choose(hass, await start(hass), "refresh_token")
    assert fields(result) == {"refresh_token", "servers"}


async def test_password_without_mfa(hass: HomeAssistant, sim: SimServer) -> None:
    result = await choose(hass, await start(hass), "password")
    password = password_of(sim, NOMFA)
    result = await configure(
        hass,
        result,
        {"email": f" {NOMFA} ", "password": password, **servers(sim)},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == NOMFA
    entry = result["result"]
    assert entry.unique_id == account(sim, NOMFA).id
    assert (entry.version, entry.minor_version) == (1, 1)
    # The integration sets up from exactly this data, against the simulator.
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert_entry_data(dict(entry.data), sim, "password", secrets=(password,))
    assert entry.data[CONF_CLIENT_ID] == "ownerapi"
    token = entry.data[CONF_TOKEN]
    assert (
        sim.world.tokens.check_access(token["access_token"]).account_id
        == entry.unique_id
    )


async def test_single_factor_wrong_code_then_success(
    hass: HomeAssistant, sim: SimServer
) -> None:
    factor = account(sim, TOTP).mfa[0]
    result = await password_step(hass, sim, TOTP)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "mfa"
    assert result["description_placeholders"] == {"factor": "Pixel 8"}
    # Not six digits: refused before asking Tesla.
    for bad in ("12345", "abcdef", "1234567"):
        result = await configure(hass, result, {"code": bad})
        assert result["errors"] == {"code": "invalid_code_format"}
    result = await configure(hass, result, {"code": wrong_code(sim, factor)})
    assert result["step_id"] == "mfa"
    assert result["errors"] == {"base": "invalid_code"}
    code = code_of(sim, factor)
    result = await configure(hass, result, {"code": f"{code[:3]} {code[3:]}"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == TOTP
    assert_entry_data(dict(result["data"]), sim, "password", secrets=(code,))


async def test_multi_factor_choice(hass: HomeAssistant, sim: SimServer) -> None:
    first, second = account(sim, MULTI).mfa
    result = await password_step(hass, sim, MULTI)
    assert result["step_id"] == "mfa_factor"
    options = result["data_schema"].schema["factor"].config["options"]
    assert [o["label"] for o in options] == ["Pixel 8", "1Password"]
    result = await configure(hass, result, {"factor": second.id})
    assert result["step_id"] == "mfa"
    assert result["description_placeholders"] == {"factor": "1Password"}
    # The first device's code is wrong for the chosen one.
    first_code = code_of(sim, first)
    if first_code != code_of(sim, second):
        result = await configure(hass, result, {"code": first_code})
        assert result["errors"] == {"base": "invalid_code"}
    result = await configure(hass, result, {"code": code_of(sim, second)})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == account(sim, MULTI).id


async def test_replayed_code_then_next_code(
    hass: HomeAssistant, sim_virtual: SimServer
) -> None:
    sim = sim_virtual
    factor = account(sim, TOTP).mfa[0]
    code = code_of(sim, factor)
    # The code is used elsewhere first (say, on tesla.com).
    async with aiohttp.ClientSession() as session:
        auth = TeslaAuth(session, auth_base=sim.url)
        pending = await auth.login(TOTP, password_of(sim, TOTP))
        assert isinstance(pending, PendingLogin)
        await auth.verify_mfa(pending, factor.id, code)
    result = await password_step(hass, sim, TOTP)
    result = await configure(hass, result, {"code": code})
    assert result["step_id"] == "mfa"
    assert result["errors"] == {"base": "code_reused"}
    sim.world.advance(30)
    result = await configure(hass, result, {"code": code_of(sim, factor)})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_too_many_attempts_start_again(
    hass: HomeAssistant, sim: SimServer
) -> None:
    factor = account(sim, TOTP).mfa[0]
    result = await password_step(hass, sim, TOTP)
    for _ in range(4):
        result = await configure(hass, result, {"code": wrong_code(sim, factor)})
        assert result["errors"] == {"base": "invalid_code"}
    result = await configure(hass, result, {"code": wrong_code(sim, factor)})
    assert result["step_id"] == "password"
    assert result["errors"] == {"base": "too_many_attempts"}
    assert suggested(result, "email") == TOTP
    result = await configure(
        hass,
        result,
        {"email": TOTP, "password": password_of(sim, TOTP), **servers(sim)},
    )
    assert result["step_id"] == "mfa"
    result = await configure(hass, result, {"code": code_of(sim, factor)})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_expired_sign_in_start_again(
    hass: HomeAssistant, sim_virtual: SimServer
) -> None:
    sim = sim_virtual
    factor = account(sim, TOTP).mfa[0]
    result = await password_step(hass, sim, TOTP)
    sim.world.advance(601)  # Tesla's sign-in transaction lives 10 minutes
    result = await configure(hass, result, {"code": code_of(sim, factor)})
    assert result["step_id"] == "password"
    assert result["errors"] == {"base": "login_expired"}
    result = await configure(
        hass,
        result,
        {"email": TOTP, "password": password_of(sim, TOTP), **servers(sim)},
    )
    sim.world.advance(30)
    result = await configure(hass, result, {"code": code_of(sim, factor)})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_invalid_credentials_then_success(
    hass: HomeAssistant, sim: SimServer
) -> None:
    result = await choose(hass, await start(hass), "password")
    result = await configure(
        hass, result, {"email": NOMFA, "password": "wrong", **servers(sim)}
    )
    assert result["step_id"] == "password"
    assert result["errors"] == {"base": "invalid_auth"}
    result = await configure(
        hass,
        result,
        {"email": NOMFA, "password": password_of(sim, NOMFA), **servers(sim)},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_account_locked_then_success(hass: HomeAssistant, sim: SimServer) -> None:
    result = await choose(hass, await start(hass), "password")
    for _ in range(4):
        result = await configure(
            hass, result, {"email": NOMFA, "password": "wrong", **servers(sim)}
        )
        assert result["errors"] == {"base": "invalid_auth"}
    result = await configure(
        hass, result, {"email": NOMFA, "password": "wrong", **servers(sim)}
    )
    assert result["errors"] == {"base": "account_locked"}
    # The owner unlocks the account on tesla.com.
    locked = account(sim, NOMFA)
    locked.locked = False
    locked.failed_logins = 0
    result = await configure(
        hass,
        result,
        {"email": NOMFA, "password": password_of(sim, NOMFA), **servers(sim)},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_cannot_connect_then_success(hass: HomeAssistant, sim: SimServer) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    result = await choose(hass, await start(hass), "password")
    user_input = {"email": NOMFA, "password": password_of(sim, NOMFA)}
    result = await configure(
        hass,
        result,
        {
            **user_input,
            "servers": {CONF_AUTH_BASE_URL: closed, CONF_API_BASE_URL: sim.url},
        },
    )
    assert result["errors"] == {"base": "cannot_connect"}
    assert suggested(result, CONF_AUTH_BASE_URL, "servers") == closed
    result = await configure(hass, result, {**user_input, **servers(sim)})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_invalid_urls(hass: HomeAssistant, sim: SimServer) -> None:
    result = await choose(hass, await start(hass), "password")
    user_input = {"email": NOMFA, "password": password_of(sim, NOMFA)}
    for auth_url, api_url in (
        ("ftp://x", sim.url),
        (sim.url, "http://[bad"),
        ("nohost", sim.url),
        # Credentials in a URL would be stored in the entry: refused.
        (sim.url.replace("http://", "http://user:secret@"), sim.url),
        (sim.url, sim.url.replace("http://", "http://user@")),
        (sim.url.replace("http://", "http://:secret@"), sim.url),
    ):
        result = await configure(
            hass,
            result,
            {
                **user_input,
                "servers": {CONF_AUTH_BASE_URL: auth_url, CONF_API_BASE_URL: api_url},
            },
        )
        assert result["errors"] == {"base": "invalid_url"}
    result = await configure(
        hass,
        result,
        {
            **user_input,
            "servers": {
                CONF_AUTH_BASE_URL: f" {sim.url}/ ",
                CONF_API_BASE_URL: sim.url,
            },
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_AUTH_BASE_URL] == sim.url


async def test_fleet_api_unreachable_after_sign_in_keeps_tokens(
    hass: HomeAssistant, sim_virtual: SimServer
) -> None:
    """Region lookup fails: retry from the finish step with the tokens already issued."""
    sim = sim_virtual
    sim.world.faults.add(
        sim.world.faults.parse(
            {"kind": "outage", "paths": ["/api/1/users/"]}, sim.world.now()
        )
    )
    result = await password_step(hass, sim, NOMFA)
    assert result["step_id"] == "finish"
    assert result["errors"] == {"base": "cannot_connect"}
    sim.world.faults.clear()
    # Meanwhile the access token expired: the flow refreshes it and keeps the new one.
    sim.world.advance(9 * 3600)
    account(sim, NOMFA).registered = False
    result = await configure(hass, result, {})
    assert result["step_id"] == "finish"
    assert result["errors"] == {"base": "not_registered"}
    account(sim, NOMFA).registered = True
    result = await configure(hass, result, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    token = result["data"][CONF_TOKEN]
    record = sim.world.tokens.check_access(token["access_token"])
    assert record.account_id == account(sim, NOMFA).id
    assert not sim.world.tokens.tokens[token["refresh_token"]].used


async def test_already_configured(hass: HomeAssistant, sim: SimServer) -> None:
    await add_entry(hass, sim)
    result = await password_step(hass, sim, NOMFA)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


# --------------------------------------------------------------------- captcha, browser


async def test_captcha_then_browser(
    hass: HomeAssistant,
    sim: SimServer,
    credentials: None,
    hass_client_no_auth: ClientSessionGenerator,
    current_request_with_host: None,
) -> None:
    result = await password_step(hass, sim, CAPTCHA)
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "captcha"
    assert list(result["menu_options"]) == ["browser", "password"]
    again = await choose(hass, result, "password")
    assert again["step_id"] == "password"
    result = await configure(
        hass,
        again,
        {"email": CAPTCHA, "password": password_of(sim, CAPTCHA), **servers(sim)},
    )
    assert result["step_id"] == "captcha"
    result = await choose(hass, result, "browser")
    assert result["step_id"] == "browser"
    result = await configure(hass, result, servers(sim))
    result = await finish_in_browser(hass, hass_client_no_auth, sim, result, CAPTCHA)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == CAPTCHA


async def test_browser_sign_in(
    hass: HomeAssistant,
    sim: SimServer,
    credentials: None,
    hass_client_no_auth: ClientSessionGenerator,
    current_request_with_host: None,
) -> None:
    result = await choose(hass, await start(hass), "browser")
    assert fields(result) == {"servers"}
    result = await configure(hass, result, {"servers": {CONF_AUTH_BASE_URL: "x"}})
    assert result["errors"] == {"base": "invalid_url"}
    result = await configure(hass, result, servers(sim))
    result = await finish_in_browser(hass, hass_client_no_auth, sim, result, MULTI)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == MULTI
    data = dict(result["data"])
    assert data.pop("auth_implementation") == "cred"
    assert_entry_data(data, sim, "browser", secrets=("app-secret",))
    assert data[CONF_CLIENT_ID] == CLIENT_ID
    assert result["result"].unique_id == account(sim, MULTI).id


async def test_browser_sign_in_with_another_implementation(
    hass: HomeAssistant,
    sim: SimServer,
    credentials: None,
    hass_client_no_auth: ClientSessionGenerator,
    current_request_with_host: None,
) -> None:
    """An OAuth2 implementation registered by someone else is used as it is.

    Home Assistant offers every implementation registered for the domain (e.g. by
    another integration); picking one that is not Tesla's own keeps its URLs, client
    and parameters (no PKCE copy bound to the chosen server).
    """
    other = config_entry_oauth2_flow.LocalOAuth2Implementation(
        hass,
        "other_app",
        "other-client",
        "other-secret",
        f"{sim.url}/oauth2/v3/authorize",
        f"{sim.url}/oauth2/v3/token",
    )
    config_entry_oauth2_flow.async_register_implementation(hass, DOMAIN, other)
    result = await choose(hass, await start(hass), "browser")
    result = await configure(hass, result, servers(sim))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "pick_implementation"
    result = await configure(hass, result, {"implementation": "other_app"})
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    query = parse_qs(urlsplit(result["url"]).query)
    assert query["client_id"] == ["other-client"]
    assert "code_challenge" not in query
    assert "scope" not in query
    redirect = await browser_sign_in(sim, result["url"], NOMFA)
    http = await hass_client_no_auth()
    resp = await http.get(
        f"/auth/external/callback?code={redirect['code']}&state={redirect['state']}"
    )
    assert resp.status == 200
    result = await configure(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    data = dict(result["data"])
    assert data.pop("auth_implementation") == "other_app"
    assert_entry_data(data, sim, "browser", secrets=("other-secret",))
    assert data[CONF_CLIENT_ID] == "other-client"


async def test_browser_sign_in_uses_tesla_by_default(
    hass: HomeAssistant, credentials: None, current_request_with_host: None
) -> None:
    result = await choose(hass, await start(hass), "browser")
    result = await configure(hass, result, {"servers": {}})
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    assert result["url"].startswith("https://auth.tesla.com/oauth2/v3/authorize?")
    query = parse_qs(urlsplit(result["url"]).query)
    assert query["redirect_uri"] == [REDIRECT]
    assert len(query["code_challenge"][0]) == 43


async def test_credentials_dialog_placeholders(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator
) -> None:
    assert await async_setup_component(hass, "application_credentials", {})
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "application_credentials/config"})
    response = await client.receive_json()
    assert DOMAIN in response["result"]["domains"]
    placeholders = response["result"]["integrations"][DOMAIN][
        "description_placeholders"
    ]
    assert placeholders == {
        "developer_url": "https://developer.tesla.com",
        "redirect_url": "https://my.home-assistant.io/redirect/oauth",
    }


async def test_browser_needs_credentials(hass: HomeAssistant) -> None:
    result = await choose(hass, await start(hass), "browser")
    result = await configure(hass, result, {"servers": {}})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] in {"missing_configuration", "missing_credentials"}


@pytest.fixture
async def odd_server(socket_enabled: None) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """A sign-in server that issues tokens the integration cannot use (opaque, partial)."""
    body: dict[str, Any] = {}

    async def token(request: web.Request) -> web.Response:
        return web.json_response(body)

    app = web.Application()
    app.router.add_post("/oauth2/v3/token", token)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}", body
    await runner.cleanup()


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (
            {
                "access_token": "opaque",
                "refresh_token": "r",
                "expires_in": 60,
                "id_token": "not-a-jwt",
            },
            "unknown",
        ),
        ({"access_token": "opaque", "expires_in": 60}, "oauth_error"),
    ],
)
@pytest.mark.usefixtures("credentials", "current_request_with_host")
async def test_browser_sign_in_with_unusable_tokens(
    hass: HomeAssistant,
    odd_server: tuple[str, dict[str, Any]],
    hass_client_no_auth: ClientSessionGenerator,
    token: dict[str, Any],
    reason: str,
) -> None:
    url, body = odd_server
    body.update(token)
    result = await choose(hass, await start(hass), "browser")
    result = await configure(hass, result, {"servers": {CONF_AUTH_BASE_URL: url}})
    state = parse_qs(urlsplit(result["url"]).query)["state"][0]
    http = await hass_client_no_auth()
    resp = await http.get(f"/auth/external/callback?code=abc&state={state}")
    assert resp.status == 200
    result = await configure(hass, result)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason


# ------------------------------------------------------------------------ refresh token


async def test_refresh_token(hass: HomeAssistant, sim: SimServer) -> None:
    issued = await sim.issue_tokens(MULTI)
    result = await choose(hass, await start(hass), "refresh_token")
    result = await configure(
        hass, result, {"refresh_token": "NA_not-a-token", **servers(sim)}
    )
    assert result["step_id"] == "refresh_token"
    assert result["errors"] == {"base": "invalid_auth"}
    result = await configure(
        hass, result, {"refresh_token": f" {issued['refresh_token']}\n", **servers(sim)}
    )
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
        {"refresh_token": "whatever", "servers": {CONF_AUTH_BASE_URL: url}},
    )
    assert result["errors"] == {"base": "unknown"}
    result = await configure(
        hass, result, {"refresh_token": issued["refresh_token"], **servers(sim)}
    )
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
        hass, result, {"refresh_token": issued["refresh_token"], **servers(sim)}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "finish"
    assert result["errors"] == {"base": "cannot_connect"}
    sim.world.faults.clear()
    result = await configure(hass, result, {})
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
            "refresh_token": "pasted",
            "servers": {CONF_AUTH_BASE_URL: url, CONF_API_BASE_URL: url},
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "account-7"
    assert result["result"].unique_id == "account-7"
    assert result["data"][CONF_API_BASE_URL] == url


@pytest.mark.usefixtures("credentials", "current_request_with_host")
async def test_browser_sign_in_without_email_claim(
    hass: HomeAssistant,
    sim: SimServer,
    odd_server: tuple[str, dict[str, Any]],
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """An id token without an email: the Fleet API tells it."""
    url, body = odd_server
    issued = await sim.issue_tokens(MULTI)
    body.update(
        {key: issued[key] for key in ("access_token", "refresh_token", "expires_in")}
    )
    result = await choose(hass, await start(hass), "browser")
    result = await configure(
        hass,
        result,
        {"servers": {CONF_AUTH_BASE_URL: url, CONF_API_BASE_URL: sim.url}},
    )
    state = parse_qs(urlsplit(result["url"]).query)["state"][0]
    http = await hass_client_no_auth()
    resp = await http.get(f"/auth/external/callback?code=abc&state={state}")
    assert resp.status == 200
    result = await configure(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == MULTI
    assert result["result"].unique_id == account(sim, MULTI).id


# --------------------------------------------------------------- reauth and reconfigure


async def test_reauth_success_and_wrong_account(
    hass: HomeAssistant, sim: SimServer
) -> None:
    entry = await add_entry(hass, sim)
    old_token = dict(entry.data[CONF_TOKEN])
    result = await start_reauth(hass, entry)
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"] == {"account": NOMFA}
    form = await choose(hass, result, "password")
    assert suggested(form, "email") == NOMFA
    # Another account: refused.
    result = await configure(
        hass,
        form,
        {"email": MULTI, "password": password_of(sim, MULTI), **servers(sim)},
    )
    result = await configure(hass, result, {"factor": account(sim, MULTI).mfa[0].id})
    result = await configure(
        hass, result, {"code": code_of(sim, account(sim, MULTI).mfa[0])}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert entry.data[CONF_TOKEN] == old_token
    # The same account: entry updated (servers kept from the entry).
    result = await start_reauth(hass, entry)
    result = await choose(hass, result, "password")
    assert suggested(result, CONF_AUTH_BASE_URL, "servers") == sim.url
    result = await configure(
        hass,
        result,
        {"email": NOMFA, "password": password_of(sim, NOMFA), **servers(sim)},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_TOKEN] != old_token
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED  # reloaded with the new tokens
    assert_entry_data(dict(entry.data), sim, "password")


async def test_reauth_with_browser_reuses_credentials(
    hass: HomeAssistant,
    sim: SimServer,
    credentials: None,
    hass_client_no_auth: ClientSessionGenerator,
    current_request_with_host: None,
) -> None:
    result = await choose(hass, await start(hass), "browser")
    result = await configure(hass, result, servers(sim))
    result = await finish_in_browser(hass, hass_client_no_auth, sim, result, NOMFA)
    entry = result["result"]
    result = await start_reauth(hass, entry)
    result = await choose(hass, result, "browser")
    assert result["step_id"] == "browser"
    assert suggested(result, CONF_AUTH_BASE_URL, "servers") == sim.url
    result = await configure(hass, result, servers(sim))
    result = await finish_in_browser(hass, hass_client_no_auth, sim, result, NOMFA)
    assert result["reason"] == "reauth_successful"
    assert entry.data["auth_implementation"] == "cred"


async def test_reconfigure_to_refresh_token(
    hass: HomeAssistant, sim: SimServer
) -> None:
    entry = await add_entry(hass, sim)
    result = await start_reconfigure(hass, entry)
    assert result["step_id"] == "reconfigure"
    assert result["description_placeholders"] == {"account": NOMFA}
    result = await choose(hass, result, "refresh_token")
    assert suggested(result, CONF_API_BASE_URL, "servers") == sim.url
    other = await sim.issue_tokens(TOTP)
    result = await configure(
        hass, result, {"refresh_token": other["refresh_token"], **servers(sim)}
    )
    assert result["reason"] == "wrong_account"
    mine = await sim.issue_tokens(NOMFA)
    result = await start_reconfigure(hass, entry)
    result = await choose(hass, result, "refresh_token")
    result = await configure(
        hass, result, {"refresh_token": mine["refresh_token"], **servers(sim)}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_AUTH_METHOD] == "refresh_token"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert_entry_data(dict(entry.data), sim, "refresh_token")


# ------------------------------------------------------------------------ options flow


def options_entry(
    hass: HomeAssistant, options: dict[str, Any] | None = None
) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="owner@example.com",
        unique_id="acct",
        options=options or {},
    )
    entry.add_to_hass(hass)
    return entry


async def open_protection(
    hass: HomeAssistant, entry: MockConfigEntry
) -> ConfigFlowResult:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert list(result["menu_options"]) == ["protection"]
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "protection"}
    )


async def test_enable_protection(hass: HomeAssistant) -> None:
    entry = options_entry(hass, {"keep": 1})
    result = await open_protection(hass, entry)
    assert result["step_id"] == "protection_enable"
    placeholders = result["description_placeholders"]
    secret = placeholders["key"]
    uri = urlsplit(placeholders["uri"])
    assert uri.scheme == "otpauth"
    assert parse_qs(uri.query)["secret"] == [secret]
    assert parse_qs(uri.query)["issuer"] == ["Tesla Resilient"]
    assert "owner" in uri.path
    assert result["data_schema"].schema[CONF_OTP_ACTIONS]  # the multi-select
    default = next(
        m for m in result["data_schema"].schema if m == CONF_OTP_ACTIONS
    ).default()
    assert default == ["unlock", "open_frunk", "open_trunk", "remote_start"]
    flow_id = result["flow_id"]
    totp = pyotp.TOTP(secret)
    wrong = next(c for c in ("000000", "111111") if not totp.verify(c, valid_window=1))
    result = await hass.config_entries.options.async_configure(
        flow_id, {CONF_OTP_ACTIONS: ["unlock"], "code": wrong}
    )
    assert result["errors"] == {"code": "invalid_code"}
    assert result["description_placeholders"]["key"] == secret  # same secret on retry
    assert entry.options == {"keep": 1}
    result = await hass.config_entries.options.async_configure(
        flow_id, {CONF_OTP_ACTIONS: [], "code": totp.now()}
    )
    assert result["errors"] == {CONF_OTP_ACTIONS: "no_actions"}
    result = await hass.config_entries.options.async_configure(
        flow_id, {CONF_OTP_ACTIONS: ["unlock", "open_trunk"], "code": totp.now()}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        "keep": 1,
        CONF_OTP_SECRET: secret,
        CONF_OTP_ACTIONS: ["unlock", "open_trunk"],
    }


async def test_change_and_disable_protection(hass: HomeAssistant) -> None:
    secret = pyotp.random_base32()
    totp = pyotp.TOTP(secret)
    wrong = next(c for c in ("000000", "111111") if not totp.verify(c, valid_window=1))
    entry = options_entry(
        hass, {"keep": 1, CONF_OTP_SECRET: secret, CONF_OTP_ACTIONS: ["unlock"]}
    )
    result = await open_protection(hass, entry)
    assert result["step_id"] == "protection_change"
    assert secret not in json.dumps(result.get("description_placeholders") or {})
    flow_id = result["flow_id"]
    change = {"enabled": True, CONF_OTP_ACTIONS: ["unlock", "remote_start"]}
    result = await hass.config_entries.options.async_configure(
        flow_id, {**change, "code": wrong}
    )
    assert result["errors"] == {"code": "invalid_code"}
    result = await hass.config_entries.options.async_configure(
        flow_id, {"enabled": True, CONF_OTP_ACTIONS: [], "code": totp.now()}
    )
    assert result["errors"] == {CONF_OTP_ACTIONS: "no_actions"}
    result = await hass.config_entries.options.async_configure(
        flow_id, {**change, "code": totp.now()}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_OTP_ACTIONS] == ["unlock", "remote_start"]
    assert entry.options[CONF_OTP_SECRET] == secret
    # Turning it off needs a valid code too.
    result = await open_protection(hass, entry)
    off = {"enabled": False, CONF_OTP_ACTIONS: []}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**off, "code": wrong}
    )
    assert result["errors"] == {"code": "invalid_code"}
    assert CONF_OTP_SECRET in entry.options
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**off, "code": totp.now()}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {"keep": 1}


async def test_protection_applies_to_the_running_entry(
    hass: HomeAssistant, sim: SimServer
) -> None:
    entry = await add_entry(hass, sim)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.guard is None
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "protection"}
    )
    totp = pyotp.TOTP(result["description_placeholders"]["key"])
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_OTP_ACTIONS: ["unlock"], "code": totp.now()}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    guard = entry.runtime_data.guard
    assert guard is not None
    assert guard.is_protected(ProtectedAction.UNLOCK)
    assert not guard.is_protected(ProtectedAction.OPEN_TRUNK)


async def test_protection_change_goes_through_the_running_guard(
    hass: HomeAssistant, sim: SimServer
) -> None:
    """While the entry runs, its guard checks the code: replay and lock-out apply."""
    entry = await add_entry(hass, sim)
    await hass.async_block_till_done()
    result = await open_protection(hass, entry)
    totp = pyotp.TOTP(result["description_placeholders"]["key"])
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_OTP_ACTIONS: ["unlock"], "code": totp.now()}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    guard = entry.runtime_data.guard
    assert guard is not None
    options = dict(entry.options)
    # A code just used to unlock cannot be replayed to turn the protection off.
    code = totp.now()
    guard.verify(ProtectedAction.UNLOCK, code)
    result = await open_protection(hass, entry)
    assert result["step_id"] == "protection_change"
    flow_id = result["flow_id"]
    off = {"enabled": False, CONF_OTP_ACTIONS: []}
    result = await hass.config_entries.options.async_configure(
        flow_id, {**off, "code": code}
    )
    assert result["errors"] == {"code": "code_reused"}
    # An unused code of the window is accepted.
    change = {"enabled": True, CONF_OTP_ACTIONS: ["unlock", "open_trunk"]}
    result = await hass.config_entries.options.async_configure(
        flow_id, {**change, "code": totp.at(int(time.time()) + 30)}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options[CONF_OTP_ACTIONS] == ["unlock", "open_trunk"]
    guard = entry.runtime_data.guard
    assert guard is not None
    options = dict(entry.options)
    # Wrong codes here count towards the guard's lock-out.
    result = await open_protection(hass, entry)
    flow_id = result["flow_id"]
    wrong = next(
        c for c in ("000000", "111111", "222222") if not totp.verify(c, valid_window=1)
    )
    for _ in range(MAX_FAILURES):
        result = await hass.config_entries.options.async_configure(
            flow_id, {**off, "code": wrong}
        )
        assert result["errors"] == {"code": "invalid_code"}
    assert guard.locked_until() is not None
    result = await hass.config_entries.options.async_configure(
        flow_id, {**off, "code": totp.now()}
    )
    assert result["errors"] == {"code": "locked_out"}
    with pytest.raises(OtpLockedOut):
        guard.verify(ProtectedAction.UNLOCK, totp.now())
    assert entry.options == options
