"""Config flow tests: the captcha menu and the browser sign-in (OAuth2 with PKCE).

The browser signs in on tesla_sim's page over loopback.
"""

from typing import Any
from urllib.parse import parse_qs, urlsplit

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.tesla_resilient.api import TeslaOAuth
from custom_components.tesla_resilient.const import (
    CONF_API_BASE_URL,
    CONF_AUTH_BASE_URL,
    CONF_CLIENT_ID,
    CONF_PARTNER_DOMAIN,
    DOMAIN,
)
from tesla_sim import SimServer
from tests.flow_helpers import (
    CAPTCHA,
    CLIENT_ID,
    MULTI,
    NOMFA,
    REDIRECT,
    account,
    assert_entry_data,
    browser_sign_in,
    choose,
    configure,
    credentials_fixture,  # noqa: F401 - a fixture
    fields,
    finish_in_browser,
    ha_domain_fixture,  # noqa: F401 - a fixture
    not_now,
    odd_server_fixture,  # noqa: F401 - a fixture
    password_of,
    password_step,
    register,
    register_app,
    servers,
    start,
    unload_entries,  # noqa: F401 - an autouse fixture
)

# The password steps sign in headless with the legacy client: a legacy sign-in server.
pytestmark = pytest.mark.sim(legacy_sign_in=True, rest_commands=True)

# --------------------------------------------------------------------- captcha, browser


@pytest.mark.usefixtures("credentials", "current_request_with_host")
async def test_captcha_then_browser(
    hass: HomeAssistant,
    sim: SimServer,
    ha_domain: str,
    hass_client_no_auth: ClientSessionGenerator,
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
    result = await not_now(hass, await register(hass, result, ha_domain))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == CAPTCHA


@pytest.mark.usefixtures("credentials", "current_request_with_host")
async def test_browser_sign_in(
    hass: HomeAssistant,
    sim: SimServer,
    ha_domain: str,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    result = await choose(hass, await start(hass), "browser")
    assert fields(result) == {"servers"}
    result = await configure(hass, result, {"servers": {CONF_AUTH_BASE_URL: "x"}})
    assert result["errors"] == {"base": "invalid_url"}
    result = await configure(hass, result, servers(sim))
    result = await finish_in_browser(hass, hass_client_no_auth, sim, result, MULTI)
    result = await not_now(hass, await register(hass, result, ha_domain))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == MULTI
    data = dict(result["data"])
    assert data.pop("auth_implementation") == "cred"
    assert data.pop(CONF_PARTNER_DOMAIN) == ha_domain
    assert_entry_data(data, sim, "browser", secrets=("app-secret",))
    assert data[CONF_CLIENT_ID] == CLIENT_ID
    assert result["result"].unique_id == account(sim, MULTI).id


@pytest.mark.usefixtures("credentials", "current_request_with_host")
async def test_browser_sign_in_with_another_implementation(
    hass: HomeAssistant,
    sim: SimServer,
    ha_domain: str,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """An OAuth2 implementation registered by someone else is used as it is.

    Home Assistant offers every implementation registered for the domain (e.g. by
    another integration); picking one that is not Tesla's own keeps its URLs, client
    and parameters (no PKCE copy bound to the chosen server).
    """
    register_app(sim, "other-client", "other-secret")
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
    result = await not_now(hass, await register(hass, result, ha_domain))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    data = dict(result["data"])
    assert data.pop("auth_implementation") == "other_app"
    assert data.pop(CONF_PARTNER_DOMAIN) == ha_domain
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


@pytest.mark.usefixtures("credentials", "current_request_with_host")
async def test_browser_sign_in_without_email_claim(
    hass: HomeAssistant,
    sim: SimServer,
    odd_server: tuple[str, dict[str, Any]],
    hass_client_no_auth: ClientSessionGenerator,
    ha_domain: str,
) -> None:
    """An id token without an email: the Fleet API tells it."""
    url, body = odd_server
    issued = await sim.issue_tokens(MULTI)
    body.update(
        {key: issued[key] for key in ("access_token", "refresh_token", "expires_in")}
    )
    # The odd server hands out the simulator's partner token for the registration.
    oauth = TeslaOAuth(
        async_get_clientsession(hass),
        token_url=sim.token_url,
        client_id=CLIENT_ID,
        client_secret="app-secret",
    )
    body["client_credentials"] = {"access_token": await oauth.partner_token(sim.url)}
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
    result = await not_now(hass, await register(hass, result, ha_domain))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == MULTI
    assert result["result"].unique_id == account(sim, MULTI).id
