"""What the onboarding leaves around the config flow: the registered domain in the entry
(the app key's view over Home Assistant's real HTTP server and the virtual-key check go
on after the flow), the wake-once choice at the first set-up."""

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.tesla_resilient.const import (
    CONF_PARTNER_DOMAIN,
    CONF_WAKE_ONCE,
    DOMAIN,
)
from custom_components.tesla_resilient.keys import KEY_PATH, async_get_app_key
from custom_components.tesla_resilient.pairing import issue_id
from tesla_sim import SimServer
from tesla_sim.apps import DEV_CLIENT_SECRET
from tests.flow_helpers import (
    TOTP,
    configure,
    ha_domain_fixture,  # noqa: F401 - a fixture
    not_now,
    refresh_token_sign_in,
    register,
    unload_entries,  # noqa: F401 - an autouse fixture
)
from tests.ha_fixtures import add_fault, make_config_entry, setup_entry, sim_car

FLEET_STATUS = "/api/1/vehicles/fleet_status"


@pytest.mark.sim(rest_commands=False, partner_registered=False, app_key_approved=False)
async def test_after_onboarding_the_key_is_served_and_the_cars_checked(
    hass: HomeAssistant,
    sim: SimServer,
    ha_domain: str,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """The entry keeps the registered domain: once the flow is over, Home Assistant
    still serves the key over its HTTP server and set-up asks which cars have it."""
    result = await refresh_token_sign_in(hass, sim)
    result = await register(hass, result, ha_domain, client_secret=DEV_CLIENT_SECRET)
    result = await not_now(hass, await configure(hass, result, {"later": True}))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_PARTNER_DOMAIN] == ha_domain
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    http = await hass_client_no_auth()
    resp = await http.get(KEY_PATH)
    assert resp.status == 200
    assert await resp.text() == (await async_get_app_key(hass)).public_pem
    # The pair step asked once, the set-up once more: Trinity still lacks the key.
    calls = [e for e in sim.world.meter.log if e.path == FLEET_STATUS]
    assert len(calls) == 2
    trinity = sim_car(sim, "Trinity")
    issues = ir.async_get(hass).issues
    assert (DOMAIN, issue_id(entry, str(trinity.id))) in issues


async def test_wake_once_that_fails_is_only_logged(
    hass: HomeAssistant, sim: SimServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The chosen car is woken once (not the other); a failed wake leaves a log line."""
    stella, yara = (sim_car(sim, name) for name in ("Stella", "Yara"))
    for car in (stella, yara):
        car.set_activity("sleep", sim.world.now())
    add_fault(sim, "outage", paths=[f"/api/1/vehicles/{stella.id}/wake_up"])
    entry = await setup_entry(
        hass,
        await make_config_entry(sim, TOTP, options={CONF_WAKE_ONCE: [stella.vin]}),
    )
    assert entry.options == {}
    assert "did not wake" in caplog.text
    assert sim.world.meter.vehicle(yara.vin).wakes_caused == 0
