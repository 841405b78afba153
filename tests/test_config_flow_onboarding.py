"""Config flow tests: onboarding after a developer app's sign-in.

Browser sign-in on tesla_sim's page -> partner registration (the simulator fetches the
app key from Home Assistant's own HTTP view over loopback; each Tesla refusal and its
fix) -> the virtual key (paired, timeout, read-only) -> the authenticator -> the wake
offer -> the entry; a refresh-token sign-in of an unregistered app; a reconfiguration
registers once and then keeps the registration (reauthentication keeps it too:
test_config_flow_reauth.py).

The owner's approval of the virtual key is the simulator's own
(``World.approve_virtual_key`` with the app key Tesla registered): its ``fleet_status``
then reports the car paired. The simulator never refuses a registration with 412 (it does
not model the app's allowed origin), so that one answer is patched in.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
import json
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import config_entry_oauth2_flow
import pyotp
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.tesla_resilient import coordinator, flow_onboarding
from custom_components.tesla_resilient.api import SCOPES
from custom_components.tesla_resilient.const import (
    CONF_CLIENT_ID,
    CONF_OTP_ACTIONS,
    CONF_OTP_SECRET,
    CONF_PARTNER_DOMAIN,
    CONF_TOKEN,
)
from custom_components.tesla_resilient.keys import async_get_app_key
from tesla_sim import SimServer, partners
from tesla_sim.apps import DEV_CLIENT_ID, DEV_CLIENT_SECRET
from tesla_sim.fleet import ApiError
from tests.flow_helpers import (
    CLIENT_ID,
    MULTI,
    NOMFA,
    TOTP,
    account,
    add_entry,
    choose,
    configure,
    credentials_fixture,  # noqa: F401 - a fixture
    fields,
    finish_in_browser,
    free_port,
    ha_domain_fixture,  # noqa: F401 - a fixture
    not_now,
    refresh_token_sign_in,
    register,
    servers,
    start,
    start_reconfigure,
    suggested,
    unload_entries,  # noqa: F401 - an autouse fixture
)
from tests.ha_fixtures import add_fault
from tests.sim_fixtures import key_host

pytestmark = pytest.mark.sim(rest_commands=False, app_key_approved=False)

Browser = Callable[[str], Awaitable[Any]]


@pytest.fixture(name="fast_pairing")
def fast_pairing_fixture(monkeypatch: pytest.MonkeyPatch) -> None:
    """The virtual-key step checks every 10 ms and gives up after 0.3 s."""
    monkeypatch.setattr(flow_onboarding, "PAIR_CHECK_INTERVAL", 0.01)
    monkeypatch.setattr(flow_onboarding, "PAIR_TIMEOUT", 0.3)


def pem_of(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        .decode()
    )


@pytest.fixture(name="key_hosts")
async def key_hosts_fixture(socket_enabled: None) -> AsyncIterator[tuple[str, str]]:
    """Two domains: one serves another EC P-256 public key, one an RSA public key."""
    other = pem_of(ec.generate_private_key(ec.SECP256R1()))
    rsa_key = pem_of(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    async with (
        key_host({"pem": other}) as other_domain,
        key_host({"pem": rsa_key}) as rsa_domain,
    ):
        yield other_domain, rsa_domain


@pytest.fixture(name="browser")
def browser_fixture(
    hass: HomeAssistant,
    sim: SimServer,
    hass_client_no_auth: ClientSessionGenerator,
    credentials: None,
    current_request_with_host: None,
) -> Browser:
    """Sign in to an account on the simulator's page; returns the flow's next step."""

    async def sign_in(email: str) -> Any:
        result = await choose(hass, await start(hass), "browser")
        result = await configure(hass, result, servers(sim))
        return await finish_in_browser(hass, hass_client_no_auth, sim, result, email)

    return sign_in


async def wait_for_progress(hass: HomeAssistant, result: Any) -> Any:
    """Let the progress task end, then continue the flow."""
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    await hass.async_block_till_done(wait_background_tasks=True)
    return await configure(hass, result)


@pytest.mark.usefixtures("credentials", "current_request_with_host")
async def test_menu_guides_the_browser_sign_in(hass: HomeAssistant) -> None:
    hass.config.external_url = "https://ha.example.com"
    result = await start(hass)
    assert next(iter(result["menu_options"])) == "browser"
    assert result["description_placeholders"] == {
        "origin": "https://ha.example.com",
        "redirect_uri": config_entry_oauth2_flow.MY_AUTH_CALLBACK_PATH,
        "scopes": SCOPES,
    }


async def test_registration_errors_and_fixes(
    hass: HomeAssistant,
    sim: SimServer,
    ha_domain: str,
    browser: Browser,
    key_hosts: tuple[str, str],
) -> None:
    hass.config.external_url = f"http://{ha_domain}"
    result = await browser(MULTI)
    assert result["step_id"] == "partner"
    key = await async_get_app_key(hass)
    assert result["description_placeholders"]["pem"] == key.public_pem
    # The secret comes from the application credentials: not asked.
    assert fields(result) == {"domain"}
    assert suggested(result, "domain") == ha_domain
    result = await register(hass, result, "https://ha.example.com/path")
    assert result["errors"] == {"domain": "invalid_domain"}
    other_key, rsa_key = key_hosts
    for domain, error in (
        (f"127.0.0.1:{free_port()}", "domain_unreachable"),  # 424
        (rsa_key, "key_invalid"),  # 422
        (other_key, "key_mismatch"),
    ):
        result = await register(hass, result, domain)
        assert result["step_id"] == "partner"
        assert result["errors"] == {"base": error}
    result = await register(hass, result, ha_domain)
    # Registered with the key Tesla fetched from Home Assistant's own view.
    registration = sim.world.partners.get(CLIENT_ID, "na")
    assert registration is not None
    assert registration.domain == ha_domain
    assert registration.public_key == key.public_bytes.hex()
    assert result["step_id"] == "pair"
    url = f"{sim.url}/_ak/{ha_domain}"
    assert result["description_placeholders"] == {"url": url, "cars": "Trinity"}
    assert result["data_schema"].schema["qr_code"].config["data"] == url
    result = await configure(hass, result, {"later": True})
    result = await not_now(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    data = result["data"]
    assert data[CONF_PARTNER_DOMAIN] == ha_domain
    assert data[CONF_CLIENT_ID] == CLIENT_ID
    # The sign-in's tokens were kept through every retry.
    assert sim.world.tokens.check_access(data[CONF_TOKEN]["access_token"])


async def test_registration_refused_then_fixed(
    hass: HomeAssistant,
    sim: SimServer,
    ha_domain: str,
    browser: Browser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An outage, the domain not allowed (412), the app's secret changed meanwhile."""
    result = await browser(NOMFA)
    add_fault(sim, "outage", paths=["/api/1/partner_accounts"])
    result = await register(hass, result, ha_domain)
    assert result["errors"] == {"base": "cannot_connect"}
    sim.world.faults.clear()

    async def not_allowed(url: str) -> bytes:  # the simulator never answers 412 here
        raise ApiError(412, "the domain must be the app's allowed origin")

    with monkeypatch.context() as patch:
        patch.setattr(partners, "_fetch", not_allowed)
        result = await register(hass, result, ha_domain)
    assert result["errors"] == {"base": "domain_not_allowed"}
    sim.world.apps[CLIENT_ID].client_secret = "rotated-secret"
    result = await register(hass, result, ha_domain)
    assert result["errors"] == {"base": "partner_auth_failed"}
    # Asked for in the step, used, never stored.
    assert fields(result) == {"domain", "client_secret"}
    result = await register(hass, result, ha_domain, client_secret="rotated-secret")
    assert result["step_id"] == "pair"
    result = await not_now(hass, await configure(hass, result, {"later": True}))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert "rotated-secret" not in json.dumps(result["data"])


@pytest.mark.usefixtures("fast_pairing")
async def test_pairing_times_out_then_paired(
    hass: HomeAssistant, sim: SimServer, ha_domain: str, browser: Browser
) -> None:
    result = await register(hass, await browser(MULTI), ha_domain)
    result = await configure(hass, result, {"later": False})
    assert result["step_id"] == "pair_wait"
    result = await wait_for_progress(hass, result)
    # Nobody approved it in time: show the link again, then approve.
    assert result["step_id"] == "pair_timeout"
    assert result["description_placeholders"] == {"cars": "Trinity"}
    result = await choose(hass, result, "pair")
    result = await configure(hass, result, {"later": False})
    key = await async_get_app_key(hass)
    for vin in account(sim, MULTI).vins:  # the owner approves on the car
        sim.world.approve_virtual_key(vin, key.public_bytes)
    result = await wait_for_progress(hass, result)
    result = await not_now(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.usefixtures("fast_pairing")
async def test_continue_read_only_after_the_wait(
    hass: HomeAssistant, sim: SimServer, ha_domain: str, browser: Browser
) -> None:
    """fleet_status fails: every car is shown, the watch keeps trying, then read-only."""
    add_fault(sim, "outage", paths=["/api/1/vehicles/fleet_status"])
    result = await register(hass, await browser(TOTP), ha_domain)
    assert result["step_id"] == "pair"
    assert result["errors"] == {"base": "cannot_connect"}
    assert result["description_placeholders"]["cars"] == "Stella, Yara"
    result = await configure(hass, result, {"later": False})
    result = await wait_for_progress(hass, result)
    result = await choose(hass, result, "pair_end")
    result = await not_now(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_PARTNER_DOMAIN] == ha_domain


async def test_authenticator_then_wake(
    hass: HomeAssistant,
    sim: SimServer,
    ha_domain: str,
    browser: Browser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both kinds of two-factor in the config flow; a sleeping car woken once."""
    (vin,) = account(sim, NOMFA).vins
    car = sim.world.vehicle(vin)
    car.set_activity("sleep", sim.world.now())
    car.wake_seconds = 0.0
    monkeypatch.setattr(coordinator, "WAKE_CHECK_INTERVAL", 0.01)
    result = await register(hass, await browser(NOMFA), ha_domain)
    result = await configure(hass, result, {"later": True})
    assert result["step_id"] == "authenticator"
    result = await choose(hass, result, "otp_setup")
    secret = result["description_placeholders"]["key"]
    result = await configure(hass, result, {CONF_OTP_ACTIONS: [], "code": "000000"})
    assert result["errors"] == {CONF_OTP_ACTIONS: "no_actions"}
    result = await configure(hass, result, {CONF_OTP_ACTIONS: ["unlock"], "code": "x"})
    assert result["errors"] == {"code": "invalid_code"}
    code = pyotp.TOTP(secret).now()
    result = await configure(hass, result, {CONF_OTP_ACTIONS: ["unlock"], "code": code})
    assert result["step_id"] == "wake"
    assert result["description_placeholders"] == {
        "cars": "Sparky",
        "cost": "0.02",
        "total": "0.02",
    }
    result = await configure(hass, result, {"wake": True})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    await hass.async_block_till_done(wait_background_tasks=True)
    # The set-up woke the car once and forgot the choice; protection is on.
    assert sim.world.vehicle(vin).is_online
    assert sim.world.meter.vehicle(vin).wakes_caused == 1
    assert entry.options == {CONF_OTP_SECRET: secret, CONF_OTP_ACTIONS: ["unlock"]}


@pytest.mark.sim(rest_commands=False, partner_registered=False, app_key_approved=False)
async def test_refresh_token_of_an_unregistered_app(
    hass: HomeAssistant, sim: SimServer, ha_domain: str
) -> None:
    """Tesla answers 412: register first, the secret typed in the step (not stored)."""
    result = await refresh_token_sign_in(hass, sim)
    assert result["step_id"] == "partner"
    assert fields(result) == {"domain", "client_secret"}
    # Home Assistant has no public address: the owner types the domain.
    assert suggested(result, "domain") is None
    result = await register(hass, result, ha_domain, client_secret="wrong")
    assert result["errors"] == {"base": "partner_auth_failed"}
    result = await register(hass, result, ha_domain, client_secret=DEV_CLIENT_SECRET)
    assert result["step_id"] == "pair"
    result = await configure(hass, result, {"later": True})
    result = await not_now(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_PARTNER_DOMAIN] == ha_domain
    assert DEV_CLIENT_SECRET not in json.dumps(result["data"])


@pytest.mark.sim(rest_commands=False, partner_registered=False, app_key_approved=False)
async def test_still_refused_after_registration(
    hass: HomeAssistant, sim: SimServer, ha_domain: str
) -> None:
    """A 412 after this flow registered the app is shown (no second registration)."""
    result = await refresh_token_sign_in(hass, sim)
    add_fault(sim, "outage", paths=["/api/1/vehicles"])
    result = await register(hass, result, ha_domain, client_secret=DEV_CLIENT_SECRET)
    assert result["step_id"] == "finish"
    assert result["errors"] == {"base": "cannot_connect"}
    sim.world.faults.clear()
    sim.world.partners.unregister(DEV_CLIENT_ID)
    result = await configure(hass, result, {})
    assert result["step_id"] == "finish"
    assert result["errors"] == {"base": "not_registered"}


@pytest.mark.sim(rest_commands=False, legacy_sign_in=True, app_key_approved=False)
@pytest.mark.usefixtures("credentials", "current_request_with_host")
async def test_reconfigure_registers_once_then_keeps_it(
    hass: HomeAssistant,
    sim: SimServer,
    ha_domain: str,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """A password entry moves to the browser sign-in: registered (the car's key offered)
    once; the next reconfiguration with the same app keeps the registration."""
    entry = await add_entry(hass, sim)
    assert CONF_PARTNER_DOMAIN not in entry.data

    async def reconfigure_in_browser() -> Any:
        result = await choose(hass, await start_reconfigure(hass, entry), "browser")
        result = await configure(hass, result, servers(sim))
        return await finish_in_browser(hass, hass_client_no_auth, sim, result, NOMFA)

    result = await register(hass, await reconfigure_in_browser(), ha_domain)
    assert result["step_id"] == "pair"
    result = await configure(hass, result, {"later": True})
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_PARTNER_DOMAIN] == ha_domain
    assert entry.data[CONF_CLIENT_ID] == CLIENT_ID
    result = await reconfigure_in_browser()
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_PARTNER_DOMAIN] == ha_domain
