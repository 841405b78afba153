"""Config flow tests: reauthentication and reconfiguration of an existing entry."""

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.tesla_resilient.const import (
    CONF_API_BASE_URL,
    CONF_AUTH_BASE_URL,
    CONF_AUTH_METHOD,
    CONF_PARTNER_DOMAIN,
    CONF_TOKEN,
)
from tesla_sim import SimServer
from tesla_sim.apps import DEV_CLIENT_ID
from tests.flow_helpers import (
    MULTI,
    NOMFA,
    TOTP,
    account,
    add_entry,
    assert_entry_data,
    choose,
    code_of,
    configure,
    credentials_fixture,  # noqa: F401 - a fixture
    finish_in_browser,
    ha_domain_fixture,  # noqa: F401 - a fixture
    not_now,
    password_of,
    register,
    servers,
    start,
    start_reauth,
    start_reconfigure,
    suggested,
    unload_entries,  # noqa: F401 - an autouse fixture
)
from tests.flow_render import STRINGS, render
from tests.ha_fixtures import add_fault


def test_menu_titles_have_no_placeholders() -> None:
    """The frontend gives a menu step's title no placeholders: none may need one."""
    for step in STRINGS["config"]["step"].values():
        if "menu_options" in step:
            render(step.get("title", ""), {})  # raises naming the title


# The password steps sign in headless with the legacy client: a legacy sign-in server.
pytestmark = pytest.mark.sim(legacy_sign_in=True)

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


@pytest.mark.usefixtures("credentials", "current_request_with_host")
async def test_reauth_with_browser_reuses_credentials(
    hass: HomeAssistant,
    sim: SimServer,
    ha_domain: str,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    result = await choose(hass, await start(hass), "browser")
    result = await configure(hass, result, servers(sim))
    result = await finish_in_browser(hass, hass_client_no_auth, sim, result, NOMFA)
    result = await not_now(hass, await register(hass, result, ha_domain))
    entry = result["result"]
    result = await start_reauth(hass, entry)
    result = await choose(hass, result, "browser")
    assert result["step_id"] == "browser"
    assert suggested(result, CONF_AUTH_BASE_URL, "servers") == sim.url
    result = await configure(hass, result, servers(sim))
    # The same app: its registration holds (no partner step), the domain is kept.
    result = await finish_in_browser(hass, hass_client_no_auth, sim, result, NOMFA)
    assert result["reason"] == "reauth_successful"
    assert entry.data["auth_implementation"] == "cred"
    assert entry.data[CONF_PARTNER_DOMAIN] == ha_domain


async def test_reconfigure_to_refresh_token(
    hass: HomeAssistant, sim: SimServer
) -> None:
    entry = await add_entry(hass, sim)
    result = await start_reconfigure(hass, entry)
    assert result["step_id"] == "reconfigure"
    assert result["description_placeholders"] == {"account": NOMFA}
    # As the frontend renders a menu: the title without placeholders.
    step = STRINGS["config"]["step"]["reconfigure"]
    assert render(step["title"], {}) == "Change the sign-in"
    assert NOMFA in render(step["description"], result["description_placeholders"])
    result = await choose(hass, result, "refresh_token")
    assert suggested(result, CONF_API_BASE_URL, "servers") == sim.url
    other = await sim.issue_tokens(TOTP)
    result = await configure(
        hass,
        result,
        {
            "client_id": DEV_CLIENT_ID,
            "refresh_token": other["refresh_token"],
            **servers(sim),
        },
    )
    assert result["reason"] == "wrong_account"
    mine = await sim.issue_tokens(NOMFA)
    result = await start_reconfigure(hass, entry)
    result = await choose(hass, result, "refresh_token")
    result = await configure(
        hass,
        result,
        {
            "client_id": DEV_CLIENT_ID,
            "refresh_token": mine["refresh_token"],
            **servers(sim),
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_AUTH_METHOD] == "refresh_token"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert_entry_data(dict(entry.data), sim, "refresh_token")


async def test_reconfigure_during_an_outage(
    hass: HomeAssistant, sim: SimServer
) -> None:
    """Tesla's cloud down while signing in again: the owner reads that Tesla is not
    answering, not to check their own internet connection."""
    entry = await add_entry(hass, sim)
    add_fault(sim, "outage", 60)
    result = await choose(hass, await start_reconfigure(hass, entry), "password")
    result = await configure(
        hass,
        result,
        {"email": NOMFA, "password": password_of(sim, NOMFA), **servers(sim)},
    )
    assert result["errors"] == {"base": "cannot_connect"}
    shown = render(STRINGS["config"]["error"]["cannot_connect"], {})
    assert shown.startswith("Tesla's cloud is not answering")
    assert "your internet connection" not in shown
