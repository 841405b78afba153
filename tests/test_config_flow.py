"""Config flow tests: the menu, and signing in with password and two-factor codes.

The flows sign in against tesla_sim over loopback.
"""

import aiohttp
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.tesla_resilient.api import PendingLogin, TeslaAuth
from custom_components.tesla_resilient.const import (
    CONF_API_BASE_URL,
    CONF_AUTH_BASE_URL,
    CONF_CLIENT_ID,
    CONF_TOKEN,
    CONF_TOKEN_URL,
    DOMAIN,
)
from tesla_sim import SimServer
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
    fields,
    free_port,
    not_now,
    password_of,
    password_step,
    servers,
    start,
    suggested,
    unload_entries,  # noqa: F401 - an autouse fixture
    wrong_code,
)

# The password steps sign in headless with the legacy client: a legacy sign-in server.
pytestmark = pytest.mark.sim(legacy_sign_in=True)

# ------------------------------------------------------------------ password sign-in


async def test_menu_and_forms(hass: HomeAssistant) -> None:
    result = await start(hass)
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "user"
    assert list(result["menu_options"]) == ["browser", "password", "refresh_token"]
    # Without a public address the guide cannot name the allowed origin.
    assert result["description_placeholders"]["origin"] == "-"
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
    # Empty: the token URL that goes with the sign-in server (Tesla's fleet-auth host).
    assert suggested(password, CONF_TOKEN_URL, "servers") is None
    result = await choose(hass, await start(hass), "refresh_token")
    # A refresh token belongs to the owner's app: its client id comes with it.
    assert fields(result) == {"client_id", "refresh_token", "servers"}


async def test_password_without_mfa(hass: HomeAssistant, sim: SimServer) -> None:
    result = await choose(hass, await start(hass), "password")
    password = password_of(sim, NOMFA)
    result = await configure(
        hass,
        result,
        {"email": f" {NOMFA} ", "password": password, **servers(sim)},
    )
    result = await not_now(hass, result)
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
    result = await not_now(hass, result)
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
    result = await not_now(hass, result)
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
    result = await not_now(hass, result)
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
    result = await not_now(hass, result)
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
    result = await not_now(hass, result)
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
    result = await not_now(hass, result)
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
    result = await not_now(hass, result)
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
    result = await not_now(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_rate_limited_sign_in(hass: HomeAssistant, sim: SimServer) -> None:
    """A 429 while signing in is a rate limit with its wait, not "cannot connect"."""
    fault = sim.world.faults.parse(
        {"kind": "rate_limit", "retry_after": 45, "seconds": 60}, sim.world.now()
    )
    sim.world.faults.add(fault)
    result = await choose(hass, await start(hass), "password")
    user_input = {"email": NOMFA, "password": password_of(sim, NOMFA), **servers(sim)}
    result = await configure(hass, result, user_input)
    assert result["errors"] == {"base": "rate_limited"}
    assert result["description_placeholders"] == {"seconds": "45"}
    sim.world.faults.clear()
    result = await not_now(hass, await configure(hass, result, user_input))
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_bad_email_and_host_refused_before_any_request(
    hass: HomeAssistant, sim: SimServer
) -> None:
    """An over-long or invalid email, a host with a space: a form error, no request."""
    result = await choose(hass, await start(hass), "password")
    password = {"password": password_of(sim, NOMFA)}
    sent = sim.world.meter.requests.copy()
    for email in (
        "a" * 20_000 + "@example.com",
        "no-at-sign",
        "a@b",
        "a b@example.com",
    ):
        result = await configure(
            hass, result, {"email": email, **password, **servers(sim)}
        )
        assert result["errors"] == {"email": "invalid_email"}
    for host in ("exa mple.com", "exa%20mple.com"):
        result = await configure(
            hass,
            result,
            {
                "email": NOMFA,
                **password,
                "servers": {
                    CONF_AUTH_BASE_URL: f"http://{host}",
                    CONF_API_BASE_URL: sim.url,
                },
            },
        )
        assert result["errors"] == {"base": "invalid_url"}
    assert sim.world.meter.requests == sent


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
    result = await not_now(hass, result)
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
    result = await not_now(hass, result)
    # Nine hours later the car sleeps: waking it is offered, and declined.
    assert result["step_id"] == "wake"
    result = await configure(hass, result, {"wake": False})
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
